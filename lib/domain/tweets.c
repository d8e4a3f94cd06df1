/* tweets.c -- tweet writes, reads through Redis, page assembly (tweets.h). */
#include <inttypes.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/num.h"
#include "core/timefmt.h"
#include "domain/feed.h"
#include "domain/names.h"
#include "domain/shardq.h"
#include "domain/timeline.h"
#include "domain/tweets.h"
#include "domain/users.h"

#define TWEET_COLS "UUSUTT"
#define TWEET_SELECT "SELECT id, user_id, message, edited, created_at, updated_at FROM tweets "

static const char SQL_TWEETS_IN[] = TWEET_SELECT "WHERE id IN ";
static const char SQL_TWEET_LOCK[] = TWEET_SELECT "WHERE id = ? FOR UPDATE";
static const char SQL_TWEET_GET[] = TWEET_SELECT "WHERE id = ?";
static const char SQL_TWEET_EXISTS[] = "SELECT id FROM tweets WHERE id = ?";
static const char SQL_INSERT[] =
    "INSERT INTO tweets (id, user_id, message, edited, created_at, updated_at) "
    "VALUES (?, ?, ?, 0, ?, ?)";
static const char SQL_COUNT_UP[] = "UPDATE users SET tweets_count = tweets_count + 1 WHERE id = ?";
static const char SQL_COUNT_DOWN[] =
    "UPDATE users SET tweets_count = tweets_count - 1 WHERE id = ? AND tweets_count > 0";
static const char SQL_DELETE[] = "DELETE FROM tweets WHERE id = ?";
/* updated_at moves even for an edit within the millisecond of the last. */
static const char SQL_EDIT[] =
    "UPDATE tweets SET message = ?, edited = 1, "
    "updated_at = GREATEST(?, updated_at + INTERVAL 1000 MICROSECOND) WHERE id = ?";
/* One index range scan of (user_id, id), at any depth for cursor pages. */
static const char SQL_USER_IDS[] =
    "SELECT id FROM tweets WHERE user_id = ? AND id < ? ORDER BY id DESC LIMIT ? OFFSET ?";

/* A tombstone outlives any reader that read the row before the delete. */
#define TOMBSTONE "-"
#define TOMBSTONE_TTL_S 600
#define COLLECT_ROUNDS 6

/* ------------------------------------------------------------ stored form */

static void stored_json(rst_buf *b, const rst_value *row)
{
    rst_buf_puts(b, "{\"id\":");
    rst_json_id(b, row[0].u);
    rst_buf_puts(b, ",\"user_id\":");
    rst_json_id(b, row[1].u);
    rst_buf_puts(b, ",\"message\":");
    rst_json_strn(b, row[2].s, row[2].len);
    rst_buf_puts(b, ",\"created_at\":");
    rst_json_time(b, row[4].u);
    rst_buf_puts(b, ",\"updated_at\":");
    rst_json_time(b, row[5].u);
    rst_buf_puts(b, ",\"edited\":");
    rst_json_bool(b, row[3].u != 0);
    rst_buf_putc(b, '}');
}

/* The row's stored form in the arena; -1 on out of memory. */
static int row_to_ref(rst_arena *a, const rst_value *row, rst_tweet_ref *t)
{
    rst_buf b;
    rst_buf_init(&b);
    stored_json(&b, row);
    char *p = b.oom ? NULL : rst_arena_strndup(a, b.data, b.len);
    t->id = row[0].u;
    t->user_id = row[1].u;
    t->stored = p;
    t->len = b.len;
    rst_buf_free(&b);
    return p != NULL ? 0 : -1;
}

static const char HEAD_ID[] = "{\"id\":\"";
static const char HEAD_UID[] = "\",\"user_id\":\"";
static const char HEAD_MSG[] = "\",\"message\":";

/* Reads `lit` at v[*at] (v holds len bytes); 0 and *at moved past it. */
static int take(const char *v, size_t len, size_t *at, const char *lit, size_t n)
{
    if (len - *at < n || memcmp(v + *at, lit, n) != 0)
        return -1;
    *at += n;
    return 0;
}

/* A cached value is tweet `id`'s stored form, exactly: anything else (a
 * foreign or corrupt value) is a miss. *uid gets the author. */
static int parse_stored(const char *v, size_t len, uint64_t id, uint64_t *uid)
{
    size_t at = 0, n;
    uint64_t got;
    if (take(v, len, &at, HEAD_ID, sizeof(HEAD_ID) - 1) != 0)
        return -1;
    if ((n = rst_parse_u64(v + at, &got)) == 0 || got != id)
        return -1;
    at += n;
    if (take(v, len, &at, HEAD_UID, sizeof(HEAD_UID) - 1) != 0)
        return -1;
    if ((n = rst_parse_u64(v + at, uid)) == 0 || *uid == 0)
        return -1;
    at += n;
    if (take(v, len, &at, HEAD_MSG, sizeof(HEAD_MSG) - 1) != 0 || v[len - 1] != '}')
        return -1;
    return 0;
}

/* Writes the Tweet object: the stored form with "user_name" spliced in
 * after "user_id" (the stored form's fixed head says where). */
static void render_tweet(rst_buf *b, const rst_tweet_ref *t, const char *name)
{
    const char *msg = strstr(t->stored, HEAD_MSG);
    size_t head = (size_t)(msg - t->stored) + 2;        /* through `",` */
    rst_buf_append(b, t->stored, head);
    rst_buf_puts(b, "\"user_name\":");
    rst_json_str(b, name);
    rst_buf_putc(b, ',');
    rst_buf_append(b, t->stored + head, t->len - head);
}

/* ------------------------------------------------------------ loading */

static int tweet_ttl(const rst_services *s)
{
    return s->cfg->cache_ttl;
}

/* Adds the stored forms just read from the shards, in one round trip. NX:
 * never over a newer value a writer put there, nor over a tombstone. */
static void fill_cache(rst_services *s, const rst_tweet_ref *t, int n)
{
    rst_batch b;
    if (n == 0 || rst_batch_begin(&b, s->cache) != 0)
        return;
    for (int i = 0; i < n; i++) {
        rst_key k;
        rst_cmd cmd;
        rst_key_tweet(s->cache, &k, t[i].id);
        rst_cmd_set(&cmd, &k, t[i].stored, t[i].len, tweet_ttl(s), 1);
        rst_batch_add(&b, &cmd);
    }
    rst_batch_end(&b);
}

enum { T_MISS = 0, T_LIVE, T_GONE };

/* Fills the misses (state T_MISS) that `role`'s copy of the shards has:
 * they become T_LIVE and go into Redis. */
static rst_err lookup_misses(rst_services *s, rst_arena *a, rst_role role, const uint64_t *ids,
                             int n, unsigned char *state, rst_tweet_ref *refs)
{
    uint64_t miss[RST_LOOKUP_MAX];
    int nmiss = 0;
    for (int i = 0; i < n; i++)
        if (state[i] == T_MISS)
            miss[nmiss++] = ids[i];
    if (nmiss == 0)
        return RST_OK;
    rst_rows rows;
    rst_err err = rst_shards_lookup(s, a, role, SQL_TWEETS_IN, TWEET_COLS, miss, nmiss, &rows);
    if (err != RST_OK)
        return err;
    rst_tweet_ref *filled = rst_arena_alloc(a, sizeof(*filled) * (size_t)(rows.nrows + 1));
    if (filled == NULL)
        return RST_E_INTERNAL;
    for (int r = 0; r < rows.nrows; r++) {
        if (row_to_ref(a, rst_row(&rows, r), &filled[r]) != 0)
            return RST_E_INTERNAL;
        for (int i = 0; i < n; i++)
            if (state[i] == T_MISS && ids[i] == filled[r].id) {
                refs[i] = filled[r];
                state[i] = T_LIVE;
            }
    }
    fill_cache(s, filled, rows.nrows);
    return RST_OK;
}

/* The misses of rst_tweets_load from the shards; a miss the shards do not
 * have is gone. A replica that lacks one may not have applied it yet
 * (callers drop gone ids from Redis lists): the primaries decide. */
static rst_err load_misses(rst_services *s, rst_arena *a, const uint64_t *ids, int n,
                           unsigned char *state, rst_tweet_ref *refs)
{
    rst_err err = lookup_misses(s, a, RST_REPLICA, ids, n, state, refs);
    if (err == RST_OK && s->nreplicas > 0 && !s->read_primary)
        err = lookup_misses(s, a, RST_PRIMARY, ids, n, state, refs);
    if (err != RST_OK)
        return err;
    for (int i = 0; i < n; i++)
        if (state[i] == T_MISS)
            state[i] = T_GONE;
    return RST_OK;
}

rst_err rst_tweets_load(rst_services *s, rst_arena *a, const uint64_t *ids, int n,
                        rst_tweet_ref *out, int *nlive, uint64_t *dead, int *ndead)
{
    *nlive = 0;
    if (ndead != NULL)
        *ndead = 0;
    if (n <= 0)
        return RST_OK;
    if (n > RST_LOOKUP_MAX)
        return RST_E_INTERNAL;
    rst_key *keys = rst_arena_alloc(a, sizeof(rst_key) * (size_t)n);
    char **vals = rst_arena_alloc(a, sizeof(char *) * (size_t)n);
    size_t *lens = rst_arena_alloc(a, sizeof(size_t) * (size_t)n);
    rst_tweet_ref *refs = rst_arena_calloc(a, sizeof(*refs) * (size_t)n);
    unsigned char state[RST_LOOKUP_MAX] = { 0 };
    if (keys == NULL || vals == NULL || lens == NULL || refs == NULL)
        return RST_E_INTERNAL;
    for (int i = 0; i < n; i++)
        rst_key_tweet(s->cache, &keys[i], ids[i]);
    if (rst_cache_mget(s->cache, a, keys, n, vals, lens) < 0)
        memset(vals, 0, sizeof(char *) * (size_t)n);        /* Redis down: all misses */
    for (int i = 0; i < n; i++) {
        if (vals[i] == NULL)
            continue;
        if (lens[i] == 1 && vals[i][0] == TOMBSTONE[0]) {
            state[i] = T_GONE;
        } else if (parse_stored(vals[i], lens[i], ids[i], &refs[i].user_id) == 0) {
            refs[i] = (rst_tweet_ref){ ids[i], refs[i].user_id, vals[i], lens[i] };
            state[i] = T_LIVE;
        }
    }
    rst_err err = load_misses(s, a, ids, n, state, refs);
    if (err != RST_OK)
        return err;
    for (int i = 0; i < n; i++) {
        if (state[i] == T_LIVE)
            out[(*nlive)++] = refs[i];
        else if (dead != NULL)
            dead[(*ndead)++] = ids[i];
    }
    return RST_OK;
}

/* ------------------------------------------------------------ rendering */

/* The distinct authors of t[0..n) and their names (`known`'s without a
 * lookup). */
static rst_err author_names(rst_services *s, rst_arena *a, const rst_tweet_ref *t, int n,
                            const rst_author *known, uint64_t *uids, const char **names, int *nu)
{
    *nu = 0;
    for (int i = 0; i < n; i++) {
        int k = 0;
        while (k < *nu && uids[k] != t[i].user_id)
            k++;
        if (k == *nu)
            uids[(*nu)++] = t[i].user_id;
    }
    if (*nu == 1 && known != NULL && uids[0] == known->user_id) {
        names[0] = known->name;
        return RST_OK;
    }
    return *nu > 0 ? rst_names_get(s, a, uids, *nu, names) : RST_OK;
}

static const char *name_of(const uint64_t *uids, const char **names, int nu, uint64_t uid)
{
    for (int k = 0; k < nu; k++)
        if (uids[k] == uid)
            return names[k];
    return NULL;
}

/* "[tweet,tweet,...]" of t[0..n) into the arena. */
static rst_err render_list(rst_services *s, rst_arena *a, const rst_tweet_ref *t, int n,
                           const rst_author *known, const char **json, size_t *len)
{
    uint64_t uids[RST_NAMES_MAX];
    const char *names[RST_NAMES_MAX];
    int nu;
    if (n > RST_NAMES_MAX)
        return RST_E_INTERNAL;
    rst_err err = author_names(s, a, t, n, known, uids, names, &nu);
    if (err != RST_OK)
        return err;
    rst_buf b;
    rst_buf_init(&b);
    rst_buf_putc(&b, '[');
    for (int i = 0; i < n; i++) {
        if (i > 0)
            rst_buf_putc(&b, ',');
        render_tweet(&b, &t[i], name_of(uids, names, nu, t[i].user_id));
    }
    rst_buf_putc(&b, ']');
    char *p = b.oom ? NULL : rst_arena_strndup(a, b.data, b.len);
    *json = p;
    *len = b.len;
    rst_buf_free(&b);
    return p != NULL ? RST_OK : RST_E_INTERNAL;
}

/* One Tweet object (the list of one, without its brackets); `known` as
 * for render_list (NULL: the name is looked up). */
static rst_err render_one(rst_services *s, rst_arena *a, const rst_tweet_ref *t,
                          const rst_author *known, const char **json, size_t *len)
{
    const char *list;
    size_t n;
    rst_err err = render_list(s, a, t, 1, known, &list, &n);
    if (err != RST_OK)
        return err;
    *json = list + 1;
    *len = n - 2;
    return RST_OK;
}

/* ------------------------------------------------------------ single reads */

/* A tweet and its author's name in one Redis round trip (the script finds
 * the author in the stored form; the plain way is two dependent GETs).
 * Only a live tweet and a cached name make a reply: anything else -- a
 * miss, a tombstone, a name not cached, Redis down or refusing scripts --
 * gives {} or {tweet}, and the caller takes the plain way. */
static const char TWEET_NAMED_LUA[] =
    "local t = redis.call('GET', KEYS[1])\n"
    "if not t then return {} end\n"
    "local uid = string.match(t, '\"user_id\":\"(%d+)\"')\n"
    "if not uid then return {t} end\n"
    "return {t, redis.call('GET', ARGV[1] .. uid .. ARGV[2])}\n";

/* 1 when Redis had both: *t and *name (arena) are filled. */
static int tweet_named_from_redis(rst_services *s, rst_arena *a, uint64_t id, rst_tweet_ref *t,
                                  const char **name)
{
    rst_key k, head, tail;
    rst_cmd args = { 0 };
    if (rst_key_tweet(s->cache, &k, id) != 0 || rst_key_user_name_affixes(s->cache, &head, &tail) != 0)
        return 0;
    rst_cmd_int(&args, 1);
    rst_cmd_key(&args, &k);
    rst_cmd_str(&args, head.s, head.len);
    rst_cmd_str(&args, tail.s, tail.len);
    redisReply *r = rst_cache_script(s->cache, TWEET_NAMED_LUA, &args);
    int ok = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
             r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING;
    uint64_t uid = 0;
    char *stored = NULL, *nm = NULL;
    if (ok)
        ok = parse_stored(r->element[0]->str, r->element[0]->len, id, &uid) == 0 &&
             rst_user_name_problem(r->element[1]->str, r->element[1]->len) == NULL &&
             (stored = rst_arena_strndup(a, r->element[0]->str, r->element[0]->len)) != NULL &&
             (nm = rst_arena_strndup(a, r->element[1]->str, r->element[1]->len)) != NULL;
    if (ok) {
        *t = (rst_tweet_ref){ id, uid, stored, r->element[0]->len };
        *name = nm;
    }
    if (r != NULL)
        freeReplyObject(r);
    return ok;
}

static rst_err load_one(rst_services *s, rst_arena *a, uint64_t id, rst_tweet_ref *t)
{
    rst_db *db;
    rst_err err = rst_shard_of(s, id, RST_REPLICA, &db);    /* an id that is not ours: 404 */
    int n;
    if (err == RST_OK)
        err = rst_tweets_load(s, a, &id, 1, t, &n, NULL, NULL);
    if (err == RST_OK && n == 0)
        err = RST_E_NOT_FOUND;
    return err;
}

/* The hot copy of a tweet is the whole Tweet object, name and all, under
 * the tweet's key (the copies are not Redis: the same key names the
 * rendered object there). A rename drops every copy of its worker. */
rst_err rst_tweet_get_json(rst_services *s, rst_arena *a, uint64_t id, int hot_ok,
                           const char **json, size_t *jlen)
{
    rst_key k;
    rst_key_tweet(s->cache, &k, id);
    if (hot_ok && rst_hot_read(s, a, &k, json, jlen))
        return RST_OK;
    rst_hot_time asked;
    rst_hot_clock(&asked);
    rst_tweet_ref t;
    rst_author known;
    rst_err err;
    if (rst_shardmap_server_for_id(&s->map, id) < 0)
        err = RST_E_NOT_FOUND;                  /* an id that is not ours names no tweet */
    else if (tweet_named_from_redis(s, a, id, &t, &known.name)) {
        known.user_id = t.user_id;
        err = render_one(s, a, &t, &known, json, jlen);
    } else if ((err = load_one(s, a, id, &t)) == RST_OK) {
        err = render_one(s, a, &t, NULL, json, jlen);
    }
    if (err == RST_OK && hot_ok)
        rst_hot_keep(s, &k, *json, *jlen, &asked);
    return err;
}

rst_err rst_tweet_author(rst_services *s, rst_arena *a, uint64_t id, uint64_t *user_id)
{
    rst_tweet_ref t;
    rst_err err = load_one(s, a, id, &t);
    if (err == RST_OK)
        *user_id = t.user_id;
    return err;
}

/* ------------------------------------------------------------ writes */

/* Commits; when the answer was lost on the way (the connection died), the
 * outcome is unknown, so look: the write is known by whether tweet `id`
 * now exists (`exists_if_done`). An error never hides a committed write. */
static rst_err commit_checked(rst_db *db, uint64_t id, int exists_if_done, const char *what)
{
    rst_db_rc rc = rst_db_commit(db);
    if (rc == RST_DB_OK)
        return RST_OK;
    if (rc != RST_DB_UNKNOWN) {
        rst_db_rollback(db);
        return rst_store_fail(db, rc, what);
    }
    rst_param p[1] = { rst_p_u64(id) };
    rst_err err = rst_store_outcome(db, SQL_TWEET_EXISTS, p, 1, what);
    if (err == RST_E_UNAVAILABLE)
        return err;
    return (err == RST_OK) == exists_if_done ? RST_OK : RST_E_UNAVAILABLE;
}

/* Runs the statements of a write transaction in order; on the first
 * failure rolls back. *matched gets the last statement's matched rows. */
static rst_db_rc exec_all(rst_db *db, const char *const *sql, rst_param *const *params,
                          const int *np, int n, uint64_t *matched)
{
    rst_db_rc rc = RST_DB_OK;
    for (int i = 0; i < n && rc == RST_DB_OK; i++)
        rc = rst_db_exec(db, sql[i], params[i], np[i], matched);
    return rc;
}

/* What a write tells Redis after it committed. */
typedef struct {
    rst_services        *s;
    const rst_tweet_ref *t;       /* the new copy, or NULL for a delete */
    uint64_t             id;
    uint64_t             author;
    int                  created;
} tweet_news;

/* The tweet's new copy (or its tombstone) and the feed's change, queued
 * as one batch. */
static void queue_news(rst_batch *b, void *arg)
{
    const tweet_news *n = arg;
    rst_key k;
    rst_cmd cmd;
    rst_key_tweet(n->s->cache, &k, n->id);
    if (n->t != NULL)
        rst_cmd_set(&cmd, &k, n->t->stored, n->t->len, tweet_ttl(n->s), 0);
    else
        rst_cmd_set(&cmd, &k, TOMBSTONE, 1, TOMBSTONE_TTL_S, 0);
    rst_batch_add(b, &cmd);
    if (n->t == NULL) {
        rst_feed_queue_remove(n->s, b, n->id);
        rst_timeline_queue_delete(n->s, b, n->id, n->author);
    } else if (n->created) {
        rst_feed_queue_add(n->s, b, n->id);
        rst_timeline_queue_post(n->s, b, n->id, n->author);
    }
}

/* After a commit: Redis gets the news, overwriting any older copy; see
 * rst_cache_write for why this goes through an open breaker. */
static void publish(rst_services *s, uint64_t id, uint64_t author, const rst_tweet_ref *t,
                    int created)
{
    tweet_news n = { s, t, id, author, created };
    rst_key k;
    rst_key_tweet(s->cache, &k, id);
    rst_hot_forget(s, &k);                    /* this worker's reads see the write at once */
    s->tweet_writes++;                        /* and no page it kept (store/keys.h) */
    if (rst_cache_write(s->cache, queue_news, &n) != 0)
        rst_log_warn("tweet %" PRIu64 ": Redis is unavailable; its cache and the feed miss "
                     "this write until they expire or are rebuilt", id);
}

rst_err rst_tweet_create(rst_services *s, rst_arena *a, uint64_t user_id, const char *msg,
                         size_t len, uint64_t *id, const char **json, size_t *jlen)
{
    rst_db *db;
    rst_err err = rst_shard_of(s, user_id, RST_WRITER, &db);
    if (err != RST_OK)
        return err;
    uint64_t now = rst_time_now_ms();
    *id = rst_idgen_next(&s->ids, rst_id_shard(user_id));
    if (*id == 0)
        return RST_E_INTERNAL;
    rst_param ins[5] = { rst_p_u64(*id), rst_p_u64(user_id), rst_p_strn(msg, len),
                         rst_p_time(now), rst_p_time(now) };
    rst_param cnt[1] = { rst_p_u64(user_id) };
    const char *sql[2] = { SQL_INSERT, SQL_COUNT_UP };
    rst_param *params[2] = { ins, cnt };
    const int np[2] = { 5, 1 };
    uint64_t matched = 0;
    rst_db_rc rc = rst_db_begin(db);
    if (rc == RST_DB_OK)
        rc = exec_all(db, sql, params, np, 2, &matched);
    if (rc == RST_DB_OK && matched == 0) {
        rst_db_rollback(db);
        return RST_E_NOT_FOUND;                   /* no such user */
    }
    if (rc != RST_DB_OK) {
        rst_db_rollback(db);
        return rst_store_fail(db, rc, "tweet create");
    }
    if ((err = commit_checked(db, *id, 1, "tweet create")) != RST_OK)
        return err;
    rst_value row[6] = { { .u = *id }, { .u = user_id }, { .s = msg, .len = len }, { .u = 0 },
                         { .u = now }, { .u = now } };
    rst_tweet_ref t;
    if (row_to_ref(a, row, &t) != 0)
        return RST_E_INTERNAL;
    publish(s, *id, user_id, &t, 1);
    rst_timeline_backpressure(s);
    return render_one(s, a, &t, NULL, json, jlen);
}

rst_err rst_tweet_update(rst_services *s, rst_arena *a, uint64_t id, const char *msg,
                         size_t len, const char **json, size_t *jlen)
{
    rst_db *db;
    rst_err err = rst_shard_of(s, id, RST_WRITER, &db);
    if (err != RST_OK)
        return err;
    rst_param p[3] = { rst_p_strn(msg, len), rst_p_time(rst_time_now_ms()), rst_p_u64(id) };
    uint64_t matched = 0;
    rst_db_rc rc = rst_db_exec(db, SQL_EDIT, p, 3, &matched);
    if (rc != RST_DB_OK)
        return rst_store_fail(db, rc, "tweet update");
    if (matched == 0)
        return RST_E_NOT_FOUND;
    rst_param g[1] = { rst_p_u64(id) };
    rst_rows rows;
    rc = rst_db_query(db, a, SQL_TWEET_GET, g, 1, TWEET_COLS, &rows);
    if (rc != RST_DB_OK)
        return rst_store_fail(db, rc, "tweet update: read back");
    if (rows.nrows == 0)
        return RST_E_NOT_FOUND;                   /* deleted in between */
    rst_tweet_ref t;
    if (row_to_ref(a, rst_row(&rows, 0), &t) != 0)
        return RST_E_INTERNAL;
    publish(s, id, t.user_id, &t, 0);
    return render_one(s, a, &t, NULL, json, jlen);
}

rst_err rst_tweet_delete(rst_services *s, rst_arena *a, uint64_t id, const char **json,
                         size_t *jlen)
{
    rst_db *db;
    rst_err err = rst_shard_of(s, id, RST_WRITER, &db);
    if (err != RST_OK)
        return err;
    rst_param p[1] = { rst_p_u64(id) };
    rst_rows rows;
    rst_db_rc rc = rst_db_begin(db);
    if (rc == RST_DB_OK)
        rc = rst_db_query(db, a, SQL_TWEET_LOCK, p, 1, TWEET_COLS, &rows);
    if (rc == RST_DB_OK && rows.nrows == 0) {
        rst_db_rollback(db);
        return RST_E_NOT_FOUND;
    }
    rst_tweet_ref t;
    if (rc == RST_DB_OK && row_to_ref(a, rst_row(&rows, 0), &t) != 0) {
        rst_db_rollback(db);
        return RST_E_INTERNAL;
    }
    if (rc == RST_DB_OK) {
        rst_param cnt[1] = { rst_p_u64(t.user_id) };
        const char *sql[2] = { SQL_DELETE, SQL_COUNT_DOWN };
        rst_param *params[2] = { p, cnt };
        const int np[2] = { 1, 1 };
        rc = exec_all(db, sql, params, np, 2, NULL);
    }
    if (rc != RST_DB_OK) {
        rst_db_rollback(db);
        return rst_store_fail(db, rc, "tweet delete");
    }
    if ((err = commit_checked(db, id, 0, "tweet delete")) != RST_OK)
        return err;
    publish(s, id, t.user_id, NULL, 0);
    return render_one(s, a, &t, NULL, json, jlen);
}

/* ------------------------------------------------------------ pages */

rst_err rst_tweets_collect(rst_services *s, rst_arena *a, rst_id_source src, void *ctx,
                           uint64_t before, int offset, int limit, const rst_author *known,
                           void (*gone)(rst_services *s, const uint64_t *ids, int n),
                           rst_tweet_page *out)
{
    int nlive = 0, end = 0, more = 0, round;
    uint64_t below = before != 0 ? before : UINT64_MAX;
    rst_tweet_ref *live = rst_arena_alloc(a, sizeof(*live) * (size_t)(limit + 1));
    if (live == NULL)
        return RST_E_INTERNAL;
    for (round = 0; round < COLLECT_ROUNDS && nlive < limit && !end; round++) {
        uint64_t ids[RST_COLLECT_MAX], dead[RST_COLLECT_MAX];
        /* One id more than the page still shows: whether another follows.
         * That one is not loaded, so a page never needs the server of a
         * tweet it does not show. */
        int show = limit - nlive, n = 0, k, nd;
        rst_err err = src(ctx, a, below, offset, show + 1, ids, &n, &end);
        if (err != RST_OK)
            return err;
        if (n == 0) {
            end = 1;
            break;
        }
        more = n > show;
        if (show > n)
            show = n;
        offset = 0;
        below = ids[show - 1];
        if ((err = rst_tweets_load(s, a, ids, show, live + nlive, &k, dead, &nd)) != RST_OK)
            return err;
        nlive += k;
        if (nd > 0 && gone != NULL)
            gone(s, dead, nd);              /* and the next round fills their places */
    }
    out->count = nlive;
    /* Rounds spent among deleted tweets: a cursor from the oldest id seen. */
    out->has_more = (nlive == limit && more) || (nlive < limit && !end && round == COLLECT_ROUNDS);
    out->last_id = nlive > 0 ? live[nlive - 1].id : below;
    if (out->has_more && nlive < limit)
        out->last_id = below;
    return render_list(s, a, live, out->count, known, &out->items_json, &out->items_len);
}

/* A page's hot copy: its page_head, then the items. */
typedef struct {
    uint64_t last_id;
    int32_t  count, has_more;
} page_head;

int rst_tweet_page_hot_read(rst_services *s, rst_arena *a, const rst_key *k, rst_tweet_page *out)
{
    const char *v;
    size_t len;
    page_head h;
    if (!rst_hot_read(s, a, k, &v, &len) || len < sizeof(h))
        return 0;
    memcpy(&h, v, sizeof(h));                   /* v is not aligned for it */
    *out = (rst_tweet_page){ v + sizeof(h), len - sizeof(h), h.count, h.has_more, h.last_id };
    return 1;
}

void rst_tweet_page_hot_keep(rst_services *s, const rst_key *k, const rst_tweet_page *p,
                             const rst_hot_time *asked)
{
    page_head h = { p->last_id, p->count, p->has_more };
    rst_buf b;
    rst_buf_init(&b);
    rst_buf_append(&b, (const char *)&h, sizeof(h));
    rst_buf_append(&b, p->items_json, p->items_len);
    if (!b.oom)
        rst_hot_keep(s, k, b.data, b.len, asked);
    rst_buf_free(&b);
}

typedef struct {
    rst_db  *db;
    uint64_t user_id;
} user_source;

static rst_err user_ids(void *ctx, rst_arena *a, uint64_t below, int offset, int want,
                        uint64_t *ids, int *n, int *end)
{
    user_source *us = ctx;
    rst_param p[4] = { rst_p_u64(us->user_id), rst_p_u64(below), rst_p_i64(want),
                       rst_p_i64(offset) };
    rst_rows rows;
    rst_db_rc rc = rst_db_query(us->db, a, SQL_USER_IDS, p, 4, "U", &rows);
    if (rc != RST_DB_OK)
        return rst_store_fail(us->db, rc, "user tweets");
    for (int i = 0; i < rows.nrows; i++)
        ids[i] = rst_row(&rows, i)[0].u;
    *n = rows.nrows;
    *end = rows.nrows < want;
    return RST_OK;
}

static rst_err user_page(rst_services *s, rst_arena *a, uint64_t user_id, uint64_t before,
                         int offset, int limit, rst_tweet_page *out)
{
    user_source us = { .user_id = user_id };
    const char *name;
    rst_err err = rst_shard_of(s, user_id, RST_REPLICA, &us.db);
    if (err == RST_OK)
        err = rst_names_get(s, a, &user_id, 1, &name);
    if (err == RST_OK && name == NULL)
        err = RST_E_NOT_FOUND;
    if (err != RST_OK)
        return err;
    rst_author me = { user_id, name };
    return rst_tweets_collect(s, a, user_ids, &us, before, offset, limit, &me, NULL, out);
}

rst_err rst_tweets_of_user(rst_services *s, rst_arena *a, uint64_t user_id, uint64_t before,
                           int offset, int limit, int hot_ok, rst_tweet_page *out)
{
    rst_key k = { 0 };
    if (hot_ok) {
        rst_key_user_tweets_page(s->cache, &k, s->tweet_writes, user_id, before, offset, limit);
        if (rst_tweet_page_hot_read(s, a, &k, out))
            return RST_OK;
    }
    rst_hot_time asked;
    rst_hot_clock(&asked);
    rst_err err = user_page(s, a, user_id, before, offset, limit, out);
    if (err == RST_OK && hot_ok)
        rst_tweet_page_hot_keep(s, &k, out, &asked);
    return err;
}
