/* throttle.c -- failed sign-in counting in Redis, with a local fallback. */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/throttle.h"
#include "core/num.h"
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

/* The failure count stored for a name; a foreign or corrupt value is no
 * count at all (0), never a number read from its first digits. */
static long long stored_failures(const redisReply *r)
{
    uint64_t n;
    if (r->type != REDIS_REPLY_STRING || rst_parse_u64(r->str, &n) != r->len || n > INT32_MAX)
        return 0;
    return (long long)n;
}

int rst_throttle_blocked(rst_throttle *t, rst_cache *c, const char *name_lc, int *retry_after)
{
    rst_key k;
    rst_cmd get;
    rst_key_throttle(c, &k, name_lc);
    rst_cmd_init(&get, "GET");
    rst_cmd_key(&get, &k);
    redisReply *r = rst_cache_run(c, &get);
    if (r == NULL)
        return local_blocked(t, name_lc, retry_after);
    long long failures = stored_failures(r);
    freeReplyObject(r);
    if (failures < RST_THROTTLE_MAX)
        return local_blocked(t, name_lc, retry_after);
    *retry_after = RST_THROTTLE_WINDOW_S;
    long long ttl = -2;
    if (rst_cache_ttl(c, &k, &ttl) != 0)
        ttl = -2;
    if (ttl > 0) {
        *retry_after = (int)ttl;
    } else if (ttl == -1) {
        /* The EXPIRE after the first INCR was lost (a timeout, a killed
         * worker): without this the name would stay locked for good. */
        rst_cache_expire(c, &k, RST_THROTTLE_WINDOW_S);
    }
    return 1;
}

void rst_throttle_failure(rst_throttle *t, rst_cache *c, const char *name_lc)
{
    /* Counted locally too: if Redis fails later in the window the local
     * table already knows this worker's share. */
    local_failure(t, name_lc);
    rst_key k;
    long long n;
    rst_key_throttle(c, &k, name_lc);
    if (rst_cache_incr(c, &k, &n) == 0 && n == 1)
        rst_cache_expire(c, &k, RST_THROTTLE_WINDOW_S);
}
