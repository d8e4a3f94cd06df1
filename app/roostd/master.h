/* master.h -- the roostd process manager (php-fpm's role: pools with pm
 * static, dynamic or ondemand). */
#ifndef ROOSTD_MASTER_H
#define ROOSTD_MASTER_H

#include "core/config.h"
#include "core/secret.h"

/* Forks and supervises the workers of every pool of cfg (pool i on
 * listen_fds[i]) until SIGTERM/SIGINT/SIGQUIT, then drains them. SIGHUP
 * re-reads conf_path (and the secret file) and replaces every worker
 * without dropping a request; SIGUSR1 reopens the log files. *secrets is
 * wiped once a reload has replaced it (old keys must not linger), and on
 * return. Returns the process exit code. */
int rst_master_run(const rst_config *cfg, rst_secrets *secrets, const int *listen_fds,
                   const char *conf_path);

#endif
