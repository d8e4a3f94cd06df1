/* replicastat.h -- what every worker tells the others about a read
 * replica, for /metrics.
 *
 * One per configured replica, in config order, in the shared scoreboard
 * (app/roostd/scoreboard.h); lib/domain/services.c writes them. Single
 * words with relaxed atomics: a reader may see a slightly old picture,
 * never a torn number. */
#ifndef ROOST_REPLICASTAT_H
#define ROOST_REPLICASTAT_H

#include <stdint.h>

typedef struct {
    uint64_t reads;              /* reads sent to it, all workers */
    int64_t  lag_ms;             /* the last measurement by any worker; -1: unknown or down */
    uint64_t usable;             /* 1 when that measurement let it serve reads */
} rst_replica_stat;

#endif
