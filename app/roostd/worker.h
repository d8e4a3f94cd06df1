/* worker.h -- one roostd worker process: serve requests until told to stop. */
#ifndef ROOSTD_WORKER_H
#define ROOSTD_WORKER_H

#include "core/config.h"
#include "core/secret.h"
#include "roostd/scoreboard.h"

typedef struct {
    const rst_config  *cfg;
    const rst_secrets *secrets;
    int                listen_fd;   /* shared, non-blocking */
    int                index;       /* slot number, 0-based */
    rst_scoreboard    *sb;
} rst_worker_args;

/* Runs in the forked child; exits the process when done. */
void rst_worker_run(const rst_worker_args *args) __attribute__((noreturn));

#endif
