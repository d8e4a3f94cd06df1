/* throttle.h -- sign-in throttling per name (API.md §1.7).
 *
 * After RST_THROTTLE_MAX failures for one name within RST_THROTTLE_WINDOW_S,
 * sign-ins for that name are refused until the window (which starts at the
 * first failure) has passed. Redis holds the counts so every worker and host
 * agrees; when Redis is down each worker keeps its own small table, so the
 * limit loosens (per worker) but never simply vanishes. */
#ifndef ROOST_THROTTLE_H
#define ROOST_THROTTLE_H

#include <stdint.h>

#include "store/cache.h"

#define RST_THROTTLE_MAX      5
#define RST_THROTTLE_WINDOW_S 900
#define RST_THROTTLE_SLOTS    256

typedef struct {
    char     name[32];
    unsigned failures;
    uint64_t window_end_ms;
} rst_throttle_slot;

typedef struct {
    rst_throttle_slot slots[RST_THROTTLE_SLOTS];
} rst_throttle;

/* 1 when sign-ins for name_lc are blocked now; *retry_after gets seconds. */
int  rst_throttle_blocked(rst_throttle *t, rst_cache *c, const char *name_lc, int *retry_after);
/* Counts one failed sign-in. */
void rst_throttle_failure(rst_throttle *t, rst_cache *c, const char *name_lc);

#endif
