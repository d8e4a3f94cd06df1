/* cache.c -- Redis access with a per-worker circuit breaker (see cache.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "core/log.h"
#include "core/timefmt.h"
#include "store/cache.h"

#define BREAKER_MIN_MS 250
#define BREAKER_MAX_MS 4000

struct rst_cache {
    const rst_config *cfg;
    redisContext     *ctx;
    uint64_t          retry_at_ms;   /* breaker open until then */
    unsigned          backoff_ms;
};

rst_cache *rst_cache_new(const rst_config *cfg)
{
    rst_cache *c = calloc(1, sizeof(*c));
    if (c != NULL)
        c->cfg = cfg;
    return c;
}

static void drop(rst_cache *c)
{
    if (c->ctx != NULL) {
        redisFree(c->ctx);
        c->ctx = NULL;
    }
}

void rst_cache_free(rst_cache *c)
{
    if (c == NULL)
        return;
    drop(c);
    free(c);
}

const char *rst_cache_prefix(const rst_cache *c) { return c->cfg->redis_prefix; }

int rst_cache_breaker_open(const rst_cache *c)
{
    return c->retry_at_ms != 0 && rst_time_mono_ms() < c->retry_at_ms;
}

static struct timeval ms_to_tv(int ms)
{
    struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
    return tv;
}

static void trip(rst_cache *c, const char *why)
{
    drop(c);
    c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : BREAKER_MIN_MS;
    if (c->backoff_ms > BREAKER_MAX_MS)
        c->backoff_ms = BREAKER_MAX_MS;
    /* Log the transition only, not every refused call. */
    if (c->retry_at_ms == 0)
        rst_log_warn("redis unavailable (%s); serving from MariaDB", why);
    c->retry_at_ms = rst_time_mono_ms() + c->backoff_ms;
}

static void healthy(rst_cache *c)
{
    if (c->retry_at_ms != 0)
        rst_log_info("redis is back");
    c->retry_at_ms = 0;
    c->backoff_ms = 0;
}

static int connect_cache(rst_cache *c)
{
    if (c->ctx != NULL)
        return 0;
    const rst_config *cfg = c->cfg;
    struct timeval ct = ms_to_tv(cfg->redis_connect_timeout_ms);
    redisContext *ctx = cfg->redis_socket[0]
        ? redisConnectUnixWithTimeout(cfg->redis_socket, ct)
        : redisConnectWithTimeout(cfg->redis_host, cfg->redis_port, ct);
    if (ctx == NULL || ctx->err) {
        char why[160];
        snprintf(why, sizeof(why), "connect: %s", ctx ? ctx->errstr : "out of memory");
        if (ctx != NULL)
            redisFree(ctx);
        trip(c, why);
        return -1;
    }
    if (redisSetTimeout(ctx, ms_to_tv(cfg->redis_timeout_ms)) != REDIS_OK) {
        redisFree(ctx);
        trip(c, "set timeout");
        return -1;
    }
    c->ctx = ctx;
    return 0;
}

/* 1 when a command may be sent: the breaker is closed and a context is
 * connected (or was just made). */
static int ready(rst_cache *c)
{
    return !rst_cache_breaker_open(c) && connect_cache(c) == 0;
}

/* Every reply passes here: no reply means the context is broken. */
static redisReply *checked(rst_cache *c, redisReply *r)
{
    if (r == NULL) {
        char why[160];
        snprintf(why, sizeof(why), "%s", c->ctx->errstr);
        trip(c, why);
        return NULL;
    }
    healthy(c);
    return r;
}

static redisReply *vcommand(rst_cache *c, const char *fmt, va_list ap)
{
    return ready(c) ? checked(c, redisvCommand(c->ctx, fmt, ap)) : NULL;
}

/* The hot calls build their arguments themselves: redisCommandArgv skips
 * hiredis's format-string parsing, a sizeable part of a cached read. */
static redisReply *argv_command(rst_cache *c, int argc, const char **argv, const size_t *lens)
{
    return ready(c) ? checked(c, redisCommandArgv(c->ctx, argc, argv, lens)) : NULL;
}

/* prefix + key into buf; 0 when it does not fit. */
static size_t full_key(const rst_cache *c, const char *key, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s%s", c->cfg->redis_prefix, key);
    return (n < 0 || (size_t)n >= cap) ? 0 : (size_t)n;
}

redisReply *rst_cache_command(rst_cache *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = vcommand(c, fmt, ap);
    va_end(ap);
    return r;
}

int rst_cache_get(rst_cache *c, rst_arena *a, const char *key, char **val, size_t *len)
{
    char k[256];
    const char *argv[2] = { "GET", k };
    size_t lens[2] = { 3, full_key(c, key, k, sizeof(k)) };
    if (lens[1] == 0)
        return -1;
    redisReply *r = argv_command(c, 2, argv, lens);
    if (r == NULL)
        return -1;
    int rc = 0;
    if (r->type == REDIS_REPLY_STRING) {
        *val = rst_arena_strndup(a, r->str, r->len);
        *len = r->len;
        rc = *val != NULL ? 1 : -1;
    } else if (r->type != REDIS_REPLY_NIL) {
        rc = -1;
    }
    freeReplyObject(r);
    return rc;
}

int rst_cache_set(rst_cache *c, const char *key, const char *val, size_t len, int ttl)
{
    redisReply *r = ttl > 0
        ? rst_cache_command(c, "SET %s%s %b EX %d", c->cfg->redis_prefix, key, val, len, ttl)
        : rst_cache_command(c, "SET %s%s %b", c->cfg->redis_prefix, key, val, len);
    if (r == NULL)
        return -1;
    int rc = r->type == REDIS_REPLY_ERROR ? -1 : 0;
    freeReplyObject(r);
    return rc;
}

int rst_cache_add(rst_cache *c, const char *key, const char *val, size_t len, int ttl)
{
    redisReply *r = rst_cache_command(c, "SET %s%s %b EX %d NX", c->cfg->redis_prefix, key,
                                      val, len, ttl > 0 ? ttl : 86400);
    if (r == NULL)
        return -1;
    int rc = r->type == REDIS_REPLY_ERROR ? -1 : 0;
    freeReplyObject(r);
    return rc;
}

int rst_cache_del(rst_cache *c, const char *key)
{
    redisReply *r = rst_cache_command(c, "DEL %s%s", c->cfg->redis_prefix, key);
    if (r == NULL)
        return -1;
    int rc = r->type == REDIS_REPLY_ERROR ? -1 : 0;
    freeReplyObject(r);
    return rc;
}

int rst_cache_incr(rst_cache *c, const char *key, long long *out)
{
    redisReply *r = rst_cache_command(c, "INCR %s%s", c->cfg->redis_prefix, key);
    if (r == NULL)
        return -1;
    int rc = -1;
    if (r->type == REDIS_REPLY_INTEGER) {
        *out = r->integer;
        rc = 0;
    }
    freeReplyObject(r);
    return rc;
}

int rst_cache_ping(rst_cache *c, uint64_t *usec)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    c->retry_at_ms = c->retry_at_ms ? 1 : 0;   /* let this one call through */
    redisReply *r = rst_cache_command(c, "PING");
    int rc = (r != NULL && r->type != REDIS_REPLY_ERROR) ? 0 : -1;
    if (r != NULL)
        freeReplyObject(r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (usec != NULL)
        *usec = (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000);
    return rc;
}
