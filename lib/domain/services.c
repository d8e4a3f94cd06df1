/* services.c -- opening and closing a worker's shared resources, and
 * choosing the copy of a database (primary or replica) a call reads. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/timefmt.h"
#include "domain/services.h"

/* A replica measured at most this long ago is trusted without asking. */
#define REPLICA_CHECK_MS      1000
/* One that did not answer is asked again after 1 s, doubling to this. */
#define REPLICA_DOWN_MAX_MS   8000

/* The primary handle a replica of `primary` (-1: the catalog) stands for. */
static rst_db *primary_db(rst_services *s, int primary)
{
    return primary < 0 ? s->catalog : s->shards[primary];
}

static int open_replicas(rst_services *s, const rst_config *cfg)
{
    for (int i = 0; i < cfg->nreplicas; i++) {
        const rst_replica_conf *rc = &cfg->replicas[i];
        rst_replica *r = &s->replicas[i];
        memset(r, 0, sizeof(*r));
        r->db = rst_db_new(&rc->db);
        if (r->db == NULL)
            return -1;
        s->nreplicas++;
        r->primary = rc->primary;
        r->weight = rc->weight;
        r->lag = -1;
        rst_db_set_fallback(r->db, primary_db(s, rc->primary));
    }
    return 0;
}

int rst_services_open(rst_services *s, const rst_config *cfg,
                      const rst_secrets *secrets, unsigned generator)
{
    memset(s, 0, sizeof(*s));
    s->cfg = cfg;
    /* Outside a request (roostctl, the fan-out between requests) every
     * read is the primaries': only a request decides otherwise. */
    s->read_primary = 1;
    if (secrets != NULL)
        s->secrets = *secrets;
    rst_shardmap_build(&s->map, cfg);
    rst_pw_params_init(&s->pw, (unsigned long long)cfg->argon2_opslimit,
                       (size_t)cfg->argon2_memlimit_kib * 1024);
    if (rst_idgen_init(&s->ids, generator) != 0)
        return -1;
    s->catalog = rst_db_new(&cfg->catalog);
    s->cache = rst_cache_new(cfg);
    s->tokens = calloc(1, sizeof(*s->tokens));
    if (s->catalog == NULL || s->cache == NULL || s->tokens == NULL)
        goto fail;
    if (cfg->hot_cache_ms > 0 &&
        (s->hot = rst_hot_new(cfg->hot_cache_ms, (size_t)cfg->hot_cache_kib * 1024)) == NULL)
        goto fail;
    for (int i = 0; i < cfg->nshard_servers; i++) {
        s->shards[i] = rst_db_new(&cfg->shard_servers[i]);
        if (s->shards[i] == NULL)
            goto fail;
        s->nshards++;
    }
    if (open_replicas(s, cfg) != 0)
        goto fail;
    return 0;
fail:
    rst_services_close(s);
    return -1;
}

void rst_services_close(rst_services *s)
{
    rst_db_free(s->catalog);
    s->catalog = NULL;
    for (int i = 0; i < s->nshards; i++)
        rst_db_free(s->shards[i]);
    s->nshards = 0;
    for (int i = 0; i < s->nreplicas; i++)
        rst_db_free(s->replicas[i].db);
    s->nreplicas = 0;
    rst_cache_free(s->cache);
    s->cache = NULL;
    if (s->tokens != NULL)
        sodium_memzero(s->tokens, sizeof(*s->tokens));   /* bearer tokens are secrets */
    free(s->tokens);
    s->tokens = NULL;
    rst_hot_free(s->hot);
    s->hot = NULL;
}

/* ---------------------------------------------------------------- replicas */

static void publish_replica(rst_services *s, int i)
{
    if (s->replica_stats == NULL)
        return;
    const rst_replica *r = &s->replicas[i];
    rst_replica_stat *st = &s->replica_stats[i];
    __atomic_store_n(&st->lag_ms, r->lag >= 0 ? (int64_t)r->lag * 1000 : -1, __ATOMIC_RELAXED);
    __atomic_store_n(&st->usable, (uint64_t)r->usable, __ATOMIC_RELAXED);
}

static void log_replica_change(const rst_replica *r, int was, rst_db_rc rc, int max_lag)
{
    if (r->usable == was)
        return;
    if (r->usable)
        rst_log_info("%s: in use again (%lld s behind)", rst_db_name(r->db), r->lag);
    else if (rc != RST_DB_OK)
        rst_log_warn("%s: skipped, it does not answer: %s", rst_db_name(r->db),
                     rst_db_last_error(r->db));
    else if (r->lag < 0)
        rst_log_warn("%s: skipped, it is not replicating", rst_db_name(r->db));
    else
        rst_log_warn("%s: skipped, %lld s behind (max_replica_lag %d)", rst_db_name(r->db),
                     r->lag, max_lag);
}

/* Asks the replica how far behind it is (one round trip). */
static void check_replica(rst_services *s, int i)
{
    rst_replica *r = &s->replicas[i];
    int was = r->usable;
    long long lag = -1;
    rst_db_rc rc = rst_db_replica_lag(r->db, &lag);
    r->lag = rc == RST_DB_OK ? lag : -1;
    r->usable = rc == RST_DB_OK && lag >= 0 && lag <= s->cfg->max_replica_lag;
    /* After the round trip: a dead kept connection the check itself
     * replaced must not count as a failure found since. */
    r->checked_ms = rst_time_mono_ms();
    if (rc == RST_DB_OK)
        r->recheck_ms = REPLICA_CHECK_MS;
    else
        r->recheck_ms = r->recheck_ms < REPLICA_CHECK_MS ? REPLICA_CHECK_MS
                      : r->recheck_ms * 2 > REPLICA_DOWN_MAX_MS ? REPLICA_DOWN_MAX_MS
                      : r->recheck_ms * 2;
    log_replica_change(r, was, rc, s->cfg->max_replica_lag);
    publish_replica(s, i);
}

/* Whether replica i may serve a read now: measured within the last second
 * (else measured now), and not found down by a read since. */
static int replica_usable(rst_services *s, int i, uint64_t now)
{
    rst_replica *r = &s->replicas[i];
    if (r->checked_ms == 0 || now - r->checked_ms >= r->recheck_ms)
        check_replica(s, i);
    if (r->usable && rst_db_failed_ms(r->db) > r->checked_ms) {
        r->usable = 0;                   /* a read fell back to the primary */
        r->lag = -1;
        r->recheck_ms = REPLICA_CHECK_MS;
        rst_log_warn("%s: skipped, a read found it down", rst_db_name(r->db));
        publish_replica(s, i);
    }
    return r->usable;
}

/* A usable replica of `primary`, each chosen in proportion to its weight
 * (turn by turn), or NULL when there is none. */
static rst_db *pick_replica(rst_services *s, int primary)
{
    if (s->nreplicas == 0 || s->read_primary)
        return NULL;
    uint64_t now = rst_time_mono_ms();
    int usable[RST_MAX_REPLICAS], n = 0;
    unsigned total = 0;
    for (int i = 0; i < s->nreplicas; i++) {
        if (s->replicas[i].primary != primary || !replica_usable(s, i, now))
            continue;
        usable[n++] = i;
        total += (unsigned)s->replicas[i].weight;
    }
    if (n == 0)
        return NULL;
    unsigned turn = s->replica_turn++ % total;
    int k = 0;
    while (turn >= (unsigned)s->replicas[usable[k]].weight) {
        turn -= (unsigned)s->replicas[usable[k]].weight;
        k++;
    }
    rst_replica *r = &s->replicas[usable[k]];
    r->reads++;
    if (s->replica_stats != NULL)
        __atomic_add_fetch(&s->replica_stats[usable[k]].reads, 1, __ATOMIC_RELAXED);
    return r->db;
}

void rst_replicas_refresh(rst_services *s)
{
    uint64_t now = rst_time_mono_ms();
    for (int i = 0; i < s->nreplicas; i++)
        replica_usable(s, i, now);
}

rst_db *rst_catalog(rst_services *s, rst_role role)
{
    rst_db *r = role == RST_REPLICA ? pick_replica(s, -1) : NULL;
    return r != NULL ? r : s->catalog;
}

rst_db *rst_server(rst_services *s, int server, rst_role role)
{
    rst_db *r = role == RST_REPLICA ? pick_replica(s, server) : NULL;
    return r != NULL ? r : s->shards[server];
}

rst_err rst_shard(rst_services *s, unsigned shard, rst_role role, rst_db **out)
{
    if (role == RST_WRITER && rst_shardmap_fenced(&s->map, shard)) {
        *out = NULL;
        return RST_E_BUSY;
    }
    int server = rst_shardmap_server(&s->map, shard);
    *out = server < 0 ? NULL : rst_server(s, server, role);
    return *out != NULL ? RST_OK : RST_E_NOT_FOUND;
}

/* ---------------------------------------------------------------- read-your-writes */

/* How long a writer reads the primaries: a replica in use is at most
 * max_replica_lag behind, measured at most a second ago in whole seconds. */
static int writer_window(const rst_services *s)
{
    return s->cfg->max_replica_lag + 2;
}

static int set_mark(rst_services *s, uint64_t user_id, int ttl)
{
    rst_key k;
    rst_key_recent_writer(s->cache, &k, user_id);
    rst_cmd cmd;
    rst_cmd_set(&cmd, &k, "1", 1, ttl, 0);
    /* Through an open breaker: other workers may be reading Redis again. */
    return rst_cache_write_cmd(s->cache, &cmd);
}

/* Keeps a mark that Redis did not take (the oldest goes when full). */
static void keep_pending(rst_services *s, uint64_t user_id, uint64_t now)
{
    if (s->npending == RST_PENDING_MARKS) {
        memmove(&s->pending[0], &s->pending[1], sizeof(s->pending[0]) * (RST_PENDING_MARKS - 1));
        s->npending--;
    }
    s->pending[s->npending++] = (rst_pending_mark){ user_id, now + (uint64_t)writer_window(s) * 1000 };
}

/* Marks made while Redis was unreachable, written once it answers (for the
 * rest of their time), so that their writers' reads on other workers go
 * to the primaries too. Nothing to do, and no Redis call, when none wait. */
void rst_marks_flush(rst_services *s)
{
    if (s->npending == 0 || rst_cache_breaker_open(s->cache))
        return;
    uint64_t now = rst_time_mono_ms();
    int kept = 0, reachable = 1;
    for (int i = 0; i < s->npending; i++) {
        const rst_pending_mark *m = &s->pending[i];
        if (m->until_ms <= now)
            continue;
        int ttl = (int)((m->until_ms - now + 999) / 1000);
        /* Still unreachable: the rest waits too (one timeout, not one a mark). */
        reachable = reachable && set_mark(s, m->user_id, ttl) == 0;
        if (!reachable)
            s->pending[kept++] = *m;
    }
    s->npending = kept;
}

static int pending_for(const rst_services *s, uint64_t user_id)
{
    for (int i = 0; i < s->npending; i++)
        if (s->pending[i].user_id == user_id)
            return 1;
    return 0;
}

void rst_route_reads(rst_services *s, int is_read, uint64_t user_id)
{
    rst_marks_flush(s);
    s->read_primary = !is_read;
    if (!is_read || user_id == 0 || s->nreplicas == 0)
        return;
    if (pending_for(s, user_id)) {
        s->read_primary = 1;
        return;
    }
    rst_key k;
    rst_key_recent_writer(s->cache, &k, user_id);
    rst_cmd cmd;
    rst_cmd_init(&cmd, "EXISTS");
    rst_cmd_key(&cmd, &k);
    redisReply *r = rst_cache_run(s->cache, &cmd);
    /* Without an answer we cannot know: the primary is always right. */
    s->read_primary = r == NULL || r->type != REDIS_REPLY_INTEGER || r->integer != 0;
    if (r != NULL)
        freeReplyObject(r);
}

void rst_mark_writer(rst_services *s, uint64_t user_id)
{
    if (user_id == 0 || s->nreplicas == 0)
        return;
    /* If Redis is unreachable, other workers cannot see the mark either
     * (a signed-in read that cannot ask Redis reads the primary); it is
     * written when Redis answers again (rst_marks_flush). */
    if (set_mark(s, user_id, writer_window(s)) != 0)
        keep_pending(s, user_id, rst_time_mono_ms());
}

rst_err rst_shard_of(rst_services *s, uint64_t id, rst_role role, rst_db **out)
{
    return rst_shard(s, rst_id_shard(id), role, out);
}

rst_err rst_shard_row(rst_services *s, rst_arena *a, uint64_t id, rst_role role,
                      const char *sql, const char *cols, const char *what,
                      const rst_value **row)
{
    rst_db *db;
    rst_err err = rst_shard_of(s, id, role, &db);
    if (err != RST_OK)
        return err;
    rst_param p[1] = { rst_p_u64(id) };
    rst_rows rows;
    rst_db_rc rc = rst_db_query(db, a, sql, p, 1, cols, &rows);
    if (rc != RST_DB_OK)
        return rst_store_fail(db, rc, what);
    if (rows.nrows == 0)
        return RST_E_NOT_FOUND;
    *row = rst_row(&rows, 0);
    return RST_OK;
}

/* How long a worker keeps asking a server that went away under a commit
 * whether the commit happened: long enough for a crashed MariaDB to come
 * back (about 1.5 s under ./dev chaos), short enough that nginx's read
 * timeout is far off. */
#define OUTCOME_ASK_MS   3000
#define OUTCOME_RETRY_MS 200

static int outcome_unknown;

int rst_store_outcome_unknown(void)
{
    int was = outcome_unknown;
    outcome_unknown = 0;
    return was;
}

rst_err rst_store_outcome(rst_db *db, const char *probe, const rst_param *p, int n,
                          const char *what)
{
    rst_arena a;
    rst_rows rows;
    rst_db_rc rc;
    uint64_t until = rst_time_mono_ms() + OUTCOME_ASK_MS;
    int applied;
    for (;;) {
        rst_arena_init(&a, 1024);
        rc = rst_db_query(db, &a, probe, p, n, "U", &rows);
        applied = rc == RST_DB_OK && rows.nrows > 0;
        rst_arena_free(&a);
        if (rc == RST_DB_OK || rst_time_mono_ms() >= until)
            break;
        struct timespec ts = { 0, OUTCOME_RETRY_MS * 1000000L };
        nanosleep(&ts, NULL);
    }
    if (rc != RST_DB_OK) {
        rst_log_error("%s: the connection died under a write and the server cannot be asked "
                      "whether it was applied (asked for %d ms): %s; its Idempotency-Key stays "
                      "claimed", what, OUTCOME_ASK_MS, rst_db_last_error(db));
        outcome_unknown = 1;
        return RST_E_UNAVAILABLE;
    }
    rst_log_warn("%s: the connection died under a write; looked again: the row is %s", what,
                 applied ? "there" : "not there");
    return applied ? RST_OK : RST_E_NOT_FOUND;
}

rst_err rst_store_fail(rst_db *db, rst_db_rc rc, const char *what)
{
    switch (rc) {
    case RST_DB_OK:
        return RST_OK;
    case RST_DB_DOWN:
        rst_log_warn("%s: unavailable: %s", what, rst_db_last_error(db));
        return RST_E_UNAVAILABLE;
    case RST_DB_BUSY:
        rst_log_warn("%s: %s", what, rst_db_last_error(db));
        return RST_E_BUSY;
    case RST_DB_DUP:
        return RST_E_CONFLICT;
    case RST_DB_UNKNOWN:
        rst_log_warn("%s: outcome unknown, the connection died under a write: %s", what,
                     rst_db_last_error(db));
        return RST_E_UNAVAILABLE;
    case RST_DB_ERR:
        break;
    }
    rst_log_error("%s: %s", what, rst_db_last_error(db));
    return RST_E_INTERNAL;
}

/* ---------------------------------------------------------------- hot copies */

int rst_hot_read(rst_services *s, rst_arena *a, const rst_key *k, const char **v, size_t *len)
{
    if (s->hot == NULL || k->len == 0)
        return 0;
    size_t n;
    const char *hit = rst_hot_get(s->hot, k->s, k->len, rst_time_mono_ms(),
                                  rst_time_now_ms() / 1000, &n);
    char *copy = hit != NULL ? rst_arena_alloc(a, n) : NULL;
    if (s->hot_stats != NULL)
        __atomic_add_fetch(copy != NULL ? &s->hot_stats->hits : &s->hot_stats->misses, 1,
                           __ATOMIC_RELAXED);
    if (copy == NULL)
        return 0;
    memcpy(copy, hit, n);
    *v = copy;
    *len = n;
    return 1;
}

void rst_hot_clock(rst_hot_time *t)
{
    t->mono_ms = rst_time_mono_ms();
    t->wall_s = rst_time_now_ms() / 1000;
}

void rst_hot_keep(rst_services *s, const rst_key *k, const char *v, size_t len,
                  const rst_hot_time *asked)
{
    if (s->hot != NULL && k->len > 0)
        rst_hot_put(s->hot, k->s, k->len, v, len, asked->mono_ms, asked->wall_s);
}

void rst_hot_forget(rst_services *s, const rst_key *k)
{
    if (s->hot != NULL && k != NULL)
        rst_hot_del(s->hot, k->s, k->len);
    else if (s->hot != NULL)
        rst_hot_clear(s->hot);
}
