/* worker.h -- one roostd worker process: serve requests until told to stop. */
#ifndef ROOSTD_WORKER_H
#define ROOSTD_WORKER_H

#include <signal.h>
#include <stdint.h>

#include "core/config.h"
#include "core/secret.h"
#include "roostd/scoreboard.h"

typedef struct {
    const rst_config    *cfg;
    const rst_secrets   *secrets;
    const rst_pool_conf *pool;      /* the worker's pool, within cfg */
    int                  pool_index;
    int                  listen_fd; /* the pool's, shared, non-blocking */
    int                  index;     /* slot number, 0-based */
    rst_scoreboard      *sb;
} rst_worker_args;

/* A worker tells the master it began to drain (recycling, retired or
 * replaced), so the master can fork a successor at once. A real-time
 * signal: SIGUSR1 and SIGUSR2 are the operator's and the reload's. */
#define SIG_DRAINING (SIGRTMIN + 2)

/* The accept pause. Out of descriptors or memory (EMFILE and the like), the
 * listen socket would stay readable and spin the loop, so a worker leaves
 * it to the others for a moment. The bookkeeping is here, inline, so the
 * unit tests check it without a worker process (or libfcgi). Times are
 * monotonic milliseconds. */
typedef struct {
    uint64_t until_ms;           /* end of the pause; 0 when none holds */
    uint64_t warned_ms;          /* last warning logged; 0: never */
} rst_accept_pause;

#define RST_ACCEPT_PAUSE_MS 100
#define RST_WAIT_IDLE_MS    1000     /* epoll_wait when nothing is due */
#define RST_WAIT_DRAIN_MS   100      /* while draining: close idle ones soon */

/* Pauses accepting from now; 1 when the caller should log why. Once a
 * second at most, however long the trouble lasts: pauses back to back
 * must not silence it for good. */
static inline int rst_accept_pause_start(rst_accept_pause *p, uint64_t now)
{
    int warn = p->warned_ms == 0 || now >= p->warned_ms + 1000;
    if (warn)
        p->warned_ms = now;
    p->until_ms = now + RST_ACCEPT_PAUSE_MS;
    return warn;
}

/* 1 while a pause holds at now. */
static inline int rst_accept_paused(const rst_accept_pause *p, uint64_t now)
{
    return now < p->until_ms;
}

/* 1 when no pause holds at now: the caller may listen again. A pause
 * that has run out is cleared here. */
static inline int rst_accept_pause_over(rst_accept_pause *p, uint64_t now)
{
    if (rst_accept_paused(p, now))
        return 0;
    p->until_ms = 0;
    return 1;
}

/* How long the event loop may sleep in epoll_wait: until a pause ends
 * (then it listens again), briefly while draining, else long -- and no
 * later than the fan-out's next tick (tick_at, monotonic ms), which a
 * draining worker does not run: counting its overdue tick made every
 * draining worker spin in epoll_wait(0) until its connections closed
 * (with max_requests recycling a worker every second or two under load,
 * a quarter of the throughput and a p99 of 60-200 ms). A pause that has
 * run out counts for nothing, cleared or not. */
static inline int rst_worker_wait_ms(const rst_accept_pause *p, int draining, uint64_t now,
                                     uint64_t tick_at)
{
    if (draining)
        return RST_WAIT_DRAIN_MS;
    int ms = RST_WAIT_IDLE_MS;
    if (rst_accept_paused(p, now) && p->until_ms - now < (uint64_t)ms)
        ms = (int)(p->until_ms - now);
    if (tick_at <= now)
        return 0;
    if (tick_at - now < (uint64_t)ms)
        ms = (int)(tick_at - now);
    return ms;
}

/* Runs in the forked child; exits the process when done. */
void rst_worker_run(const rst_worker_args *args) __attribute__((noreturn));

#endif
