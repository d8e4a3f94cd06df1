/* private_roostd.h -- a roostd of a test's own (test_roostd.c), for the
 * suites that need one beside the stack's: the process manager's tests
 * and roostctl advise's (test_tuning.c). */
#ifndef ROOST_TESTS_PRIVATE_ROOSTD_H
#define ROOST_TESTS_PRIVATE_ROOSTD_H

#include <sys/types.h>

/* A roostd of our own in a temporary directory: one worker, its own socket
 * and secret, a one-second request timeout. It serves no request that
 * needs a database; the stack's roostd is left alone. */
typedef struct {
    char  dir[64];
    char  conf[128], secret[128], sock[128], log[128];
    pid_t pid;
} private_roostd;

/* `roostd_keys` go into its [roostd] section (after the defaults above,
 * which they may override), `extra` after the file; it waits for `want`
 * workers. The slow-request failpoint is allowed. */
void start_private_roostd_with(private_roostd *r, char secret_fill, const char *roostd_keys,
                               const char *extra, int want);

/* SIGTERM, then the exit status (-1 if it took more than 20 s). */
int stop_private_roostd(private_roostd *r);

/* Removes its files (after stop_private_roostd). */
void remove_private_roostd(const private_roostd *r);

/* A copy of the configuration `from` for another roostd "host" on the
 * same catalog and shards, at DIR/roost.conf (its path into conf): its
 * pools on unix sockets in dir, its slow log there, and generator_base
 * set (-1: kept). */
void copy_host_config(const char *from, const char *dir, int generator_base, char *conf,
                      size_t len);

/* roostd -c conf started with its output in log (no failpoints); its pid. */
pid_t spawn_roostd(const char *conf, const char *log);

/* The exit status of a child by ms milliseconds (-1: killed by a signal),
 * or -2 after killing it when it had not exited. */
int wait_exit(pid_t pid, int ms);

/* 1 when the file at path holds text (0 while it does not exist). */
int file_has(const char *path, const char *text);

#endif
