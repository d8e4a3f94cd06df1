/* throttle.c -- failed sign-in counting in Redis, with a local fallback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/throttle.h"
#include "core/timefmt.h"

static rst_throttle_slot *local_slot(rst_throttle *t, const char *name_lc)
{
    uint32_t h = 2166136261u;
    for (const unsigned char *p = (const unsigned char *)name_lc; *p; p++)
        h = (h ^ *p) * 16777619u;
    /* A collision evicts the other name's count: the table is a fallback
     * for an outage, small on purpose. */
    return &t->slots[h % RST_THROTTLE_SLOTS];
}

static int local_blocked(rst_throttle *t, const char *name_lc, int *retry_after)
{
    rst_throttle_slot *s = local_slot(t, name_lc);
    uint64_t now = rst_time_mono_ms();
    if (strcmp(s->name, name_lc) != 0 || now >= s->window_end_ms || s->failures < RST_THROTTLE_MAX)
        return 0;
    *retry_after = (int)((s->window_end_ms - now + 999) / 1000);
    return 1;
}

static void local_failure(rst_throttle *t, const char *name_lc)
{
    rst_throttle_slot *s = local_slot(t, name_lc);
    uint64_t now = rst_time_mono_ms();
    if (strcmp(s->name, name_lc) != 0 || now >= s->window_end_ms) {
        snprintf(s->name, sizeof(s->name), "%s", name_lc);
        s->failures = 0;
        s->window_end_ms = now + RST_THROTTLE_WINDOW_S * 1000ULL;
    }
    s->failures++;
}

int rst_throttle_blocked(rst_throttle *t, rst_cache *c, const char *name_lc, int *retry_after)
{
    redisReply *r = rst_cache_command(c, "GET %sthrottle:%s", rst_cache_prefix(c), name_lc);
    if (r == NULL)
        return local_blocked(t, name_lc, retry_after);
    int failures = r->type == REDIS_REPLY_STRING ? atoi(r->str) : 0;
    freeReplyObject(r);
    if (failures < RST_THROTTLE_MAX)
        return local_blocked(t, name_lc, retry_after);
    *retry_after = RST_THROTTLE_WINDOW_S;
    r = rst_cache_command(c, "TTL %sthrottle:%s", rst_cache_prefix(c), name_lc);
    int ttl = r != NULL && r->type == REDIS_REPLY_INTEGER ? (int)r->integer : -2;
    if (r != NULL)
        freeReplyObject(r);
    if (ttl > 0) {
        *retry_after = ttl;
    } else if (ttl == -1) {
        /* The EXPIRE after the first INCR was lost (a timeout, a killed
         * worker): without this the name would stay locked for good. */
        r = rst_cache_command(c, "EXPIRE %sthrottle:%s %d", rst_cache_prefix(c), name_lc,
                              RST_THROTTLE_WINDOW_S);
        if (r != NULL)
            freeReplyObject(r);
    }
    return 1;
}

void rst_throttle_failure(rst_throttle *t, rst_cache *c, const char *name_lc)
{
    /* Counted locally too: if Redis fails later in the window the local
     * table already knows this worker's share. */
    local_failure(t, name_lc);
    redisReply *r = rst_cache_command(c, "INCR %sthrottle:%s", rst_cache_prefix(c), name_lc);
    if (r == NULL)
        return;
    int first = r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject(r);
    if (first) {
        r = rst_cache_command(c, "EXPIRE %sthrottle:%s %d", rst_cache_prefix(c), name_lc,
                              RST_THROTTLE_WINDOW_S);
        if (r != NULL)
            freeReplyObject(r);
    }
}
