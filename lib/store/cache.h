/* cache.h -- the worker's Redis connection, behind a circuit breaker.
 *
 * Redis only ever makes roost faster: when it is down every caller falls
 * back to MariaDB. So that a dead Redis does not cost a connect timeout on
 * every request, the first failure opens the breaker and further calls fail
 * at once until a retry interval has passed (doubling up to a few seconds);
 * then one call tries again. A broken hiredis context is always discarded,
 * never reused (hiredis 0.14 cannot recover one).
 *
 * Every key comes from the builder in keys.h (it applies the configured
 * prefix). Commands are sent as argument vectors (rst_cmd), never through a
 * format string; several commands go out as one batch (hiredis pipelining:
 * one round trip, one breaker decision for the lot). */
#ifndef ROOST_CACHE_H
#define ROOST_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <hiredis/hiredis.h>

#include "core/arena.h"
#include "core/config.h"
#include "store/keys.h"

typedef struct rst_cache rst_cache;

rst_cache *rst_cache_new(const rst_config *cfg);
void       rst_cache_free(rst_cache *c);
const char *rst_cache_prefix(const rst_cache *c);

/* 1 and *val (arena copy, NUL-terminated) on a hit, 0 on a miss, -1 when
 * Redis is unavailable. */
int rst_cache_get(rst_cache *c, rst_arena *a, const rst_key *k, char **val, size_t *len);
/* 0 on success, -1 when unavailable. ttl in seconds (0 = none). */
int rst_cache_set(rst_cache *c, const rst_key *k, const char *val, size_t len, int ttl);
/* SET ... NX: for readers filling a miss, so that a value read before a
 * concurrent write can never replace the writer's fresh one. */
int rst_cache_add(rst_cache *c, const rst_key *k, const char *val, size_t len, int ttl);
/* SET ... NX EX: 1 when this call set it, 0 when the key existed, -1 when
 * unavailable. */
int rst_cache_claim(rst_cache *c, const rst_key *k, const char *val, size_t len, int ttl);
int rst_cache_del(rst_cache *c, const rst_key *k);
/* INCR; -1 when unavailable. */
int rst_cache_incr(rst_cache *c, const rst_key *k, long long *out);
int rst_cache_expire(rst_cache *c, const rst_key *k, int ttl);
/* TTL in seconds into *out (-1: no TTL, -2: no key); -1 when unavailable. */
int rst_cache_ttl(rst_cache *c, const rst_key *k, long long *out);

/* MGET of n keys in one round trip: vals[i] (arena copy) or NULL on a miss.
 * Returns the number of hits, or -1 when Redis is unavailable. */
int rst_cache_mget(rst_cache *c, rst_arena *a, const rst_key *keys, int n,
                   char **vals, size_t *lens);

/* ---------------------------------------------------------- commands */

#define RST_CMD_MAX_ARGS 16

/* One command as an argument vector; numbers are formatted into the
 * command's own storage. */
typedef struct {
    int         argc;
    int         overflow;                 /* an argument did not fit: never sent */
    const char *argv[RST_CMD_MAX_ARGS];
    size_t      lens[RST_CMD_MAX_ARGS];
    char        nums[RST_CMD_MAX_ARGS][24];
} rst_cmd;

void rst_cmd_init(rst_cmd *cmd, const char *name);
void rst_cmd_key(rst_cmd *cmd, const rst_key *k);
void rst_cmd_str(rst_cmd *cmd, const char *s, size_t len);
void rst_cmd_int(rst_cmd *cmd, long long v);

/* SET k val [EX ttl] [NX] (ttl 0: none), for batches. */
void rst_cmd_set(rst_cmd *cmd, const rst_key *k, const char *val, size_t len, int ttl, int nx);

/* Runs one command. The reply is the caller's (freeReplyObject), NULL when
 * unavailable; an error reply is returned as such. */
redisReply *rst_cache_run(rst_cache *c, const rst_cmd *cmd);

/* Runs a Lua script with EVALSHA: `body` is its source, a string of static
 * storage (it names the script), and `args` holds what follows the SHA1:
 * numkeys, the keys, the arguments (start from `rst_cmd args = { 0 }`,
 * then rst_cmd_int, rst_cmd_key, rst_cmd_str). The script is loaded (SCRIPT LOAD)
 * on its first use on a connection, and again when Redis forgot it
 * (NOSCRIPT: a restart, a failover, SCRIPT FLUSH). NULL when Redis is
 * unavailable or refuses scripts (then this worker stops asking until it
 * reconnects): the caller does the same with plain commands. */
#define RST_SCRIPTS_MAX 4
redisReply *rst_cache_script(rst_cache *c, const char *body, const rst_cmd *args);

/* A batch: commands queued with rst_batch_add() go out together on the
 * first rst_batch_next(), whose replies come back in order. If the
 * connection fails, the breaker trips once and every later reply is NULL.
 *
 *   rst_batch b;
 *   if (rst_batch_begin(&b, cache) == 0) {
 *       rst_batch_add(&b, &cmd1); rst_batch_add(&b, &cmd2);
 *       redisReply *r1 = rst_batch_next(&b), *r2 = rst_batch_next(&b);
 *       ...; rst_batch_end(&b);
 *   }
 */
typedef struct {
    rst_cache *c;
    int        queued;        /* commands sent or buffered */
    int        taken;         /* replies read */
    int        failed;
} rst_batch;

/* 0 when Redis may be used; -1 when the breaker is open or it cannot connect. */
int  rst_batch_begin(rst_batch *b, rst_cache *c);
void rst_batch_add(rst_batch *b, const rst_cmd *cmd);
void rst_batch_add_argv(rst_batch *b, int argc, const char *const *argv, const size_t *lens);
redisReply *rst_batch_next(rst_batch *b);
/* Reads the replies nobody took, so the connection stays in step. */
void rst_batch_end(rst_batch *b);

/* For writes that keep Redis in step with a commit (a new copy, a
 * tombstone, an index entry): fill(b, arg) queues the commands, which go
 * out as one batch even while this worker's breaker is open -- other
 * workers may be reading Redis, and the copy this write replaces would
 * otherwise stay -- and once more on a fresh connection when the first try
 * fails (a kept connection dies with a Redis restart). The commands must
 * be safe to send twice. 0 when every reply came back and none is an
 * error, else -1. */
int rst_cache_write(rst_cache *c, void (*fill)(rst_batch *b, void *arg), void *arg);

/* rst_cache_write of the one command cmd (SET, DEL, INCR...). */
int rst_cache_write_cmd(rst_cache *c, const rst_cmd *cmd);

/* A failpoint for tests: the breaker open (as right after a failure) or
 * closed again, whatever Redis's state. */
void rst_cache_failpoint_breaker(rst_cache *c, int open);

/* PING with timing; 0 when Redis answers (ignores the breaker). */
int rst_cache_ping(rst_cache *c, uint64_t *usec);

/* 1 while the breaker is open (Redis considered down). */
int rst_cache_breaker_open(const rst_cache *c);

#endif
