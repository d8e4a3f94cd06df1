/* services.h -- the long-lived resources a worker's services share.
 *
 * One rst_services per worker process: config, shard map, one lazy
 * connection per database server, the Redis cache, the id generator and
 * the derived keys. Opened once at worker start, closed once at exit;
 * request code borrows from it and never frees any of it. */
#ifndef ROOST_SERVICES_H
#define ROOST_SERVICES_H

#include "auth/password.h"
#include "auth/throttle.h"
#include "auth/token.h"
#include "core/config.h"
#include "core/ids.h"
#include "core/secret.h"
#include "domain/errors.h"
#include "store/cache.h"
#include "store/db.h"
#include "store/hotcache.h"
#include "store/replicastat.h"
#include "store/shardmap.h"

/* One replica as this worker sees it (config order, like the stats). */
typedef struct {
    rst_db   *db;
    int       primary;           /* shard server index, -1: the catalog */
    int       weight;
    int       usable;            /* at the last check: up, replicating, within max_replica_lag */
    long long lag;               /* seconds behind at the last check, -1: unknown or down */
    uint64_t  checked_ms;        /* monotonic ms of the last check, 0: never */
    uint64_t  recheck_ms;        /* after how long the next check is due */
    uint64_t  reads;             /* reads this worker sent it */
} rst_replica;

/* A read-your-writes mark that could not reach Redis, kept to be written
 * once Redis answers (services.c). */
#define RST_PENDING_MARKS 64
typedef struct {
    uint64_t user_id;
    uint64_t until_ms;           /* monotonic: the mark's end */
} rst_pending_mark;

typedef struct {
    const rst_config *cfg;
    rst_shardmap      map;
    rst_db           *catalog;
    rst_db           *shards[RST_MAX_SERVERS];
    int               nshards;
    rst_cache        *cache;
    rst_idgen         ids;
    rst_secrets       secrets;
    rst_pw_params     pw;
    rst_throttle      throttle;  /* sign-in limits when Redis is down */
    rst_token_cache  *tokens;    /* tokens this worker verified (auth/token.h) */
    unsigned          failpoints;/* RST_FP_* armed for the current request (tests only) */
    rst_replica       replicas[RST_MAX_REPLICAS];
    int               nreplicas;
    unsigned          replica_turn;   /* spreads reads over replicas by weight */
    rst_replica_stat *replica_stats;  /* shared with the other workers; NULL: none */
    rst_hot          *hot;            /* hot products (store/hotcache.h); NULL: off */
    rst_hot_stat     *hot_stats;      /* its hits and misses, shared; NULL: none */
    uint64_t          tweet_writes;   /* this worker's tweet writes: names its hot pages */
    rst_pending_mark  pending[RST_PENDING_MARKS];
    int               npending;
    int               read_primary;   /* reads go to the primaries: 1 but inside a request
                                       * that rst_route_reads let read replicas */
} rst_services;

/* 0 on success; -1 (out of memory or a bad generator number). Nothing
 * connects here: connections open on first use. */
int  rst_services_open(rst_services *s, const rst_config *cfg,
                       const rst_secrets *secrets, unsigned generator);
void rst_services_close(rst_services *s);

/* Failpoints a test request may arm (app/api/app.c): services check them
 * at the one place each names. */
#define RST_FP_KILL_BETWEEN_HALVES (1u << 0)   /* follows.c: die after the out half */
#define RST_FP_SLOW_REQUEST        (1u << 1)   /* api/app.c: sleep before the route acts */

/* Which copy of a shard a call needs. RST_PRIMARY: writes, and reads that
 * a write depends on. RST_REPLICA: a read that may be served by a replica
 * -- it is, unless the current request reads the primaries
 * (read_primary: a write request, or a caller who wrote a moment ago) or
 * every replica of the server is down or too far behind. */
/* Which copy of a server: the primary, a replica, or the primary for a
 * write -- refused (RST_E_BUSY: 503 + Retry-After) while the logical
 * shard is fenced ([shards] fenced: its rows are moving). */
typedef enum { RST_PRIMARY, RST_REPLICA, RST_WRITER } rst_role;

/* The catalog's connection for a role (as rst_shard). Never NULL. */
rst_db *rst_catalog(rst_services *s, rst_role role);

/* Read-your-writes (docs/ARCHITECTURE.md §3.1). Decides, once per request
 * before its handler runs, where its RST_REPLICA reads go: a request that
 * is not a GET or HEAD, or whose caller (user_id, 0: anonymous) wrote in
 * the last max_replica_lag + 2 seconds -- or whose caller cannot be
 * checked because Redis does not answer -- reads the primaries. */
void rst_route_reads(rst_services *s, int is_read, uint64_t user_id);

/* Marks user_id as having just written (after a write request by them,
 * and for a new user at sign-up): for the next max_replica_lag + 2
 * seconds every request of theirs reads the primaries. */
void rst_mark_writer(rst_services *s, uint64_t user_id);

/* Marks that Redis did not take (it was unreachable) are kept by the
 * worker, which then reads the primaries for their writers itself, and
 * written by this once Redis answers, for the rest of their time: called
 * at the start of each request and between requests (the fan-out tick).
 * No Redis call when none wait. */
void rst_marks_flush(rst_services *s);

/* Makes sure each replica's state was checked in the last second (for
 * roostctl shards and /metrics). */
void rst_replicas_refresh(rst_services *s);

/* The connection for a logical shard, or for the shard an id carries.
 * RST_E_NOT_FOUND when the shard is outside the map (an id that cannot be
 * ours names no object); never a bare NULL. A write (RST_WRITER) to a
 * fenced shard answers RST_E_BUSY here, in one place for every caller. */
rst_err rst_shard(rst_services *s, unsigned shard, rst_role role, rst_db **out);
/* The same for a shard server by its index (scatter-gather over all). */
rst_db *rst_server(rst_services *s, int server, rst_role role);
rst_err rst_shard_of(rst_services *s, uint64_t id, rst_role role, rst_db **out);

/* The one row a statement with a single `?` finds for `id` on the id's own
 * shard (the copy `role` asks for): RST_OK and *row (arena), RST_E_NOT_FOUND when there is
 * none, or the store failure mapped. `what` names it for the log. */
rst_err rst_shard_row(rst_services *s, rst_arena *a, uint64_t id, rst_role role,
                      const char *sql, const char *cols, const char *what,
                      const rst_value **row);

/* After a write answered RST_DB_UNKNOWN (the connection died under a
 * commit): finds out whether it happened, so that the client is told the
 * truth (docs/OPERATIONS.md, "When things fail"). `probe` is a SELECT with
 * the parameters p that finds a row exactly when the write was applied
 * (ids are made before the insert, so there is always one to look for).
 * RST_OK when the probe finds the row, RST_E_NOT_FOUND when it does not,
 * RST_E_UNAVAILABLE when the server still cannot be asked (the outcome
 * stays unknown, and the log says so). */
/* 1 when, since the last call, a write's outcome could not be learnt
 * (rst_store_outcome gave up asking): the request's Idempotency-Key must
 * then stay claimed, or a retry could apply the write twice. Clears it.
 * Per process: a worker serves one request at a time. */
int rst_store_outcome_unknown(void);

rst_err rst_store_outcome(rst_db *db, const char *probe, const rst_param *p, int n,
                          const char *what);

/* Maps a store failure onto a service error and logs it: down or timed
 * out -> RST_E_UNAVAILABLE (warning), deadlock or lock wait ->
 * RST_E_BUSY, duplicate key -> RST_E_CONFLICT, anything else ->
 * RST_E_INTERNAL (error). `what` names the operation for the log. */
rst_err rst_store_fail(rst_db *db, rst_db_rc rc, const char *what);

/* The worker's hot copies (store/hotcache.h), for the domain modules: a
 * copy of k read into the arena (1) or none (0), counted in the shared
 * hits and misses; the clocks of the moment a value was asked for (before
 * the read, so a copy's age counts from no later than when its source had
 * it); keeping a copy; forgetting k's (NULL: every copy). All do nothing
 * when the hot copies are off. */
typedef struct {
    uint64_t mono_ms, wall_s;
} rst_hot_time;
int  rst_hot_read(rst_services *s, rst_arena *a, const rst_key *k, const char **v, size_t *len);
void rst_hot_clock(rst_hot_time *t);
void rst_hot_keep(rst_services *s, const rst_key *k, const char *v, size_t len,
                  const rst_hot_time *asked);
void rst_hot_forget(rst_services *s, const rst_key *k);

#endif
