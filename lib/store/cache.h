/* cache.h -- the worker's Redis connection, behind a circuit breaker.
 *
 * Redis only ever makes roost faster: when it is down every caller falls
 * back to MariaDB. So that a dead Redis does not cost a connect timeout on
 * every request, the first failure opens the breaker and further calls fail
 * at once until a retry interval has passed (doubling up to a few seconds);
 * then one call tries again. A broken hiredis context is always discarded,
 * never reused (hiredis 0.14 cannot recover one). Keys get the configured
 * prefix, so callers pass the bare key. */
#ifndef ROOST_CACHE_H
#define ROOST_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <hiredis/hiredis.h>

#include "core/arena.h"
#include "core/config.h"

typedef struct rst_cache rst_cache;

rst_cache *rst_cache_new(const rst_config *cfg);
void       rst_cache_free(rst_cache *c);

/* 1 and *val (arena copy, NUL-terminated) on a hit, 0 on a miss, -1 when
 * Redis is unavailable. */
int rst_cache_get(rst_cache *c, rst_arena *a, const char *key, char **val, size_t *len);
/* 0 on success, -1 when unavailable. ttl in seconds (0 = none). */
int rst_cache_set(rst_cache *c, const char *key, const char *val, size_t len, int ttl);
/* SET ... NX: for readers filling a miss, so that a value read before a
 * concurrent write can never replace the writer's fresh one. */
int rst_cache_add(rst_cache *c, const char *key, const char *val, size_t len, int ttl);
int rst_cache_del(rst_cache *c, const char *key);
/* INCR; -1 when unavailable. */
int rst_cache_incr(rst_cache *c, const char *key, long long *out);

/* Runs a command (hiredis format, key arguments must already carry the
 * prefix: use rst_cache_prefix()). Returns the reply, owned by the caller
 * (freeReplyObject), or NULL when unavailable. An error reply is returned
 * as such. */
redisReply *rst_cache_command(rst_cache *c, const char *fmt, ...);
const char *rst_cache_prefix(const rst_cache *c);

/* PING with timing; 0 when Redis answers (ignores the breaker). */
int rst_cache_ping(rst_cache *c, uint64_t *usec);

/* 1 while the breaker is open (Redis considered down). */
int rst_cache_breaker_open(const rst_cache *c);

#endif
