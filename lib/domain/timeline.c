/* timeline.c -- the home timeline: the caller's following list, the lists
 * merged at read time, their rebuild from the shards, and the fan-out
 * queue (see timeline.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/num.h"
#include "core/timefmt.h"
#include "core/tlmerge.h"
#include "domain/shardq.h"
#include "domain/timeline.h"

#define TL_TTL_S          (7 * 86400)  /* timelines and recent lists of idle users go */
#define FOLLOWING_TTL_S   60           /* bounds a copy a lost version bump left behind */
#define FOLLOWING_V_TTL_S 86400
#define LOCK_TTL_S        10           /* a rebuild reads at most a few thousand rows */
#define MAX_LISTS         (RST_TL_PULL_MAX + 2)   /* the home timeline, self, pulled authors */
#define MERGE_ROUNDS      16
#define HELP_STEPS        4

static const char SQL_FOLLOWING[] =
    "SELECT followee_id FROM follows_out WHERE follower_id = ? ORDER BY followee_id LIMIT ?";
static const char SQL_FOLLOWER_COUNTS[] = "SELECT id, followers_count FROM users WHERE id IN ";
static const char SQL_FOLLOWERS_OF[] = "SELECT followers_count FROM users WHERE id = ?";
static const char SQL_AUTHOR_IDS[] =
    "SELECT id FROM tweets WHERE user_id = ? ORDER BY id DESC LIMIT ?";
static const char SQL_FOLLOWERS_PAGE[] =
    "SELECT follower_id, id FROM follows_in WHERE followee_id = ? AND id < ? "
    "ORDER BY id DESC LIMIT ?";

static const char SENTINEL[] = "00000000000000000000";

/* ------------------------------------------------------------ following */

typedef struct {
    uint64_t id;
    uint64_t followers;
} followee;

typedef struct {
    followee *f;                /* ascending by id */
    uint64_t *ids;              /* the same ids, for rst_tl_filter */
    int       n;
} following;

static int cmp_followee(const void *x, const void *y)
{
    const followee *a = x, *b = y;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* A version stamp, never reused: a version key that expired comes back
 * larger than any copy stamped before (as the carts' versions). */
static int make_stamp(char *v, size_t size)
{
    uint64_t stamp = rst_time_now_us() << 10 | ((uint64_t)getpid() & 1023);
    return snprintf(v, size, "%" PRIu64, stamp);
}

/* Reads one decimal number at *p ending with `stop`; 0 and *p past it. */
static int take_num(const char **p, const char *end, char stop, uint64_t *v)
{
    size_t n = rst_parse_u64(*p, v);
    if (n == 0 || *p + n >= end || (*p)[n] != stop)
        return -1;
    *p += n + 1;
    return 0;
}

/* The cached copy: "<stamp>\n" then "<id> <followers>\n" per followee,
 * ids ascending. 0 when it parses exactly and carries `stamp`. */
static int parse_following(rst_arena *a, const char *v, size_t len, uint64_t stamp, following *fl)
{
    const char *p = v, *end = v + len;
    uint64_t got;
    int cap = 0;
    for (size_t i = 0; i < len; i++)
        cap += v[i] == '\n';
    if (take_num(&p, end, '\n', &got) != 0 || got != stamp)
        return -1;
    fl->f = rst_arena_alloc(a, sizeof(followee) * (size_t)(cap + 1));
    fl->ids = rst_arena_alloc(a, sizeof(uint64_t) * (size_t)(cap + 1));
    fl->n = 0;
    if (fl->f == NULL || fl->ids == NULL)
        return -1;
    while (p < end) {
        followee e;
        if (take_num(&p, end, ' ', &e.id) != 0 || take_num(&p, end, '\n', &e.followers) != 0 ||
            e.id == 0 || (fl->n > 0 && e.id <= fl->f[fl->n - 1].id))
            return -1;
        fl->ids[fl->n] = e.id;
        fl->f[fl->n++] = e;
    }
    return p == end ? 0 : -1;
}

/* The followees' follower counts, from their shards (a lookup per chunk,
 * every server asked at once). */
static rst_err load_counts(rst_services *s, rst_arena *a, const uint64_t *ids, int n,
                           following *fl)
{
    fl->n = 0;
    for (int at = 0; at < n; at += RST_LOOKUP_MAX) {
        int chunk = n - at < RST_LOOKUP_MAX ? n - at : RST_LOOKUP_MAX;
        rst_rows rows;
        rst_err err = rst_shards_lookup(s, a, RST_REPLICA, SQL_FOLLOWER_COUNTS, "UU", ids + at, chunk, &rows);
        if (err != RST_OK)
            return err;
        for (int r = 0; r < rows.nrows; r++) {
            const rst_value *row = rst_row(&rows, r);
            fl->f[fl->n++] = (followee){ row[0].u, row[1].u };
        }
    }
    qsort(fl->f, (size_t)fl->n, sizeof(followee), cmp_followee);
    for (int i = 0; i < fl->n; i++)
        fl->ids[i] = fl->f[i].id;
    return RST_OK;
}

/* From the caller's shard (the primary: the caller's own follows show at
 * once). */
static rst_err load_following(rst_services *s, rst_arena *a, uint64_t uid, following *fl)
{
    rst_db *db;
    rst_rows rows;
    rst_err err = rst_shard_of(s, uid, RST_PRIMARY, &db);
    if (err != RST_OK)
        return err;
    rst_param p[2] = { rst_p_u64(uid), rst_p_i64(RST_TL_FOLLOWS_MAX) };
    rst_db_rc rc = rst_db_query(db, a, SQL_FOLLOWING, p, 2, "U", &rows);
    if (rc != RST_DB_OK)
        return rst_store_fail(db, rc, "timeline: following");
    uint64_t *ids = rst_arena_alloc(a, sizeof(uint64_t) * (size_t)(rows.nrows + 1));
    fl->f = rst_arena_alloc(a, sizeof(followee) * (size_t)(rows.nrows + 1));
    fl->ids = rst_arena_alloc(a, sizeof(uint64_t) * (size_t)(rows.nrows + 1));
    if (ids == NULL || fl->f == NULL || fl->ids == NULL)
        return RST_E_INTERNAL;
    for (int r = 0; r < rows.nrows; r++)
        ids[r] = rst_row(&rows, r)[0].u;
    return load_counts(s, a, ids, rows.nrows, fl);
}

/* Puts the copy stamped `stamp` in Redis (a stale stamp is never read). */
static void store_following(rst_services *s, uint64_t uid, const char *stamp, const following *fl)
{
    rst_buf b;
    rst_key k;
    rst_buf_init(&b);
    rst_buf_printf(&b, "%s\n", stamp);
    for (int i = 0; i < fl->n; i++)
        rst_buf_printf(&b, "%" PRIu64 " %" PRIu64 "\n", fl->f[i].id, fl->f[i].followers);
    rst_key_following(s->cache, &k, uid);
    if (!b.oom)
        rst_cache_set(s->cache, &k, b.data, b.len, FOLLOWING_TTL_S);
    rst_buf_free(&b);
}

/* The current version, made when there is none; NULL when Redis is down. */
static char *following_version(rst_services *s, rst_arena *a, uint64_t uid)
{
    rst_key k;
    char v[24], *got = NULL;
    size_t len;
    int n = make_stamp(v, sizeof(v));
    rst_key_following_version(s->cache, &k, uid);
    if (rst_cache_add(s->cache, &k, v, (size_t)n, FOLLOWING_V_TTL_S) != 0)
        return NULL;
    return rst_cache_get(s->cache, a, &k, &got, &len) == 1 ? got : NULL;
}

static rst_err get_following(rst_services *s, rst_arena *a, uint64_t uid, following *fl)
{
    rst_key keys[2];
    char *vals[2] = { NULL, NULL };
    size_t lens[2];
    uint64_t stamp;
    rst_key_following(s->cache, &keys[0], uid);
    rst_key_following_version(s->cache, &keys[1], uid);
    int hits = rst_cache_mget(s->cache, a, keys, 2, vals, lens);
    if (hits == 2 && rst_parse_u64(vals[1], &stamp) == lens[1] &&
        parse_following(a, vals[0], lens[0], stamp, fl) == 0)
        return RST_OK;
    const char *version = hits < 0 ? NULL : vals[1] != NULL ? vals[1]
                                                             : following_version(s, a, uid);
    rst_err err = load_following(s, a, uid, fl);
    if (err == RST_OK && version != NULL && rst_parse_u64(version, &stamp) == strlen(version))
        store_following(s, uid, version, fl);
    return err;
}

/* ------------------------------------------------------------ commands */

/* ZADD k 0 m ... (members of n entries; `home` writes "<id>:<author>",
 * else the id), with the sentinel when `sentinel`, then the trim that
 * keeps the sentinel (rank 0) and the newest `cap`, and the TTL. */
static void queue_store(rst_batch *b, rst_arena *a, const rst_key *k, const rst_tl_entry *e,
                        int n, int home, int sentinel, int cap)
{
    int argc = 2 + 2 * (n + (sentinel ? 1 : 0));
    const char **argv = rst_arena_alloc(a, sizeof(char *) * (size_t)argc);
    size_t *lens = rst_arena_alloc(a, sizeof(size_t) * (size_t)argc);
    char *m = rst_arena_alloc(a, (size_t)(n + 1) * (RST_TL_MEMBER_LEN + 1));
    rst_cmd cmd;
    if (argv == NULL || lens == NULL || m == NULL || argc == 2)
        return;
    int at = 0;
    argv[at] = "ZADD", lens[at++] = 4;
    argv[at] = k->s, lens[at++] = k->len;
    for (int i = 0; i < n; i++) {
        char *mi = m + (size_t)i * (RST_TL_MEMBER_LEN + 1);
        if (home)
            rst_tl_member(e[i].id, e[i].author, mi);
        else
            rst_tl_id_member(e[i].id, mi);
        argv[at] = "0", lens[at++] = 1;
        argv[at] = mi, lens[at++] = home ? RST_TL_MEMBER_LEN : RST_TL_ID_LEN;
    }
    if (sentinel) {
        argv[at] = "0", lens[at++] = 1;
        argv[at] = SENTINEL, lens[at++] = RST_TL_ID_LEN;
    }
    rst_batch_add_argv(b, argc, argv, lens);
    rst_cmd_init(&cmd, "ZREMRANGEBYRANK");
    rst_cmd_key(&cmd, k);
    rst_cmd_int(&cmd, 1);
    rst_cmd_int(&cmd, -(cap + 1));
    rst_batch_add(b, &cmd);
    rst_cmd_init(&cmd, "EXPIRE");
    rst_cmd_key(&cmd, k);
    rst_cmd_int(&cmd, TL_TTL_S);
    rst_batch_add(b, &cmd);
}

/* Runs a batch whose replies nobody needs; 0 when all came back. */
static int run_batch(rst_services *s, void (*fill)(rst_batch *b, void *arg), void *arg)
{
    rst_batch b;
    if (rst_batch_begin(&b, s->cache) != 0)
        return -1;
    fill(&b, arg);
    rst_batch_end(&b);
    return b.failed ? -1 : 0;
}

/* ------------------------------------------------------------ lists */

/* One list a page merges: a sorted set in Redis, or entries in memory
 * (rebuilt from the shards, or Redis down). */
typedef struct {
    rst_key       key;
    uint64_t      author;       /* 0: the home timeline (authors in members) */
    int           redis;
    rst_tl_entry *mem;          /* newest first */
    int           nmem;
} tl_list;

/* The newest `n` ids of an author, from the author's shard. */
static rst_err author_ids(rst_services *s, rst_arena *a, uint64_t author, int n,
                          rst_tl_entry **out, int *count)
{
    rst_db *db;
    rst_rows rows;
    rst_err err = rst_shard_of(s, author, RST_PRIMARY, &db);
    if (err != RST_OK)
        return err;
    rst_param p[2] = { rst_p_u64(author), rst_p_i64(n) };
    rst_db_rc rc = rst_db_query(db, a, SQL_AUTHOR_IDS, p, 2, "U", &rows);
    if (rc != RST_DB_OK)
        return rst_store_fail(db, rc, "timeline: an author's ids");
    *out = rst_arena_alloc(a, sizeof(rst_tl_entry) * (size_t)(rows.nrows + 1));
    if (*out == NULL)
        return RST_E_INTERNAL;
    for (int r = 0; r < rows.nrows; r++)
        (*out)[r] = (rst_tl_entry){ rst_row(&rows, r)[0].u, author };
    *count = rows.nrows;
    return RST_OK;
}

/* 1 for an author whose tweets are merged in at read time; 2x > max
 * also takes those above half the threshold (one crossing it between the
 * count we hold and the count the fan-out sees is never missed). */
static int pulled(const rst_services *s, uint64_t followers)
{
    return followers * 2 > (uint64_t)s->cfg->fanout_max_followers;
}

/* The home timeline from the shards: the newest ids of every followed
 * author that is fanned out, merged, the newest RST_TL_CAP kept. */
static rst_err build_home(rst_services *s, rst_arena *a, const following *fl, tl_list *l)
{
    rst_tl_run *runs = rst_arena_alloc(a, sizeof(rst_tl_run) * (size_t)(fl->n + 1));
    l->mem = rst_arena_alloc(a, sizeof(rst_tl_entry) * (RST_TL_CAP + 1));
    if (runs == NULL || l->mem == NULL)
        return RST_E_INTERNAL;
    int k = 0;
    for (int i = 0; i < fl->n; i++) {
        if (fl->f[i].followers > (uint64_t)s->cfg->fanout_max_followers)
            continue;                       /* never fanned out: merged at read time */
        rst_tl_entry *e;
        int n;
        rst_err err = author_ids(s, a, fl->f[i].id, RST_TL_REBUILD_PER_AUTHOR, &e, &n);
        if (err != RST_OK)
            return err;
        runs[k++] = (rst_tl_run){ e, n, 0 };
    }
    uint64_t next;
    l->nmem = rst_tl_merge(runs, k, l->mem, RST_TL_CAP, &next);
    return RST_OK;
}

typedef struct {
    rst_arena    *a;
    const tl_list *l;
    int           home;
    int           cap;
} store_arg;

static void fill_store(rst_batch *b, void *arg)
{
    const store_arg *sa = arg;
    queue_store(b, sa->a, &sa->l->key, sa->l->mem, sa->l->nmem, sa->home, 1, sa->cap);
}

/* Rebuilds list l from the shards into memory, and into Redis when this
 * request may (the home timeline: under its lock). The lock is taken
 * before the shards are read, and fan-out delivers into a timeline whose
 * lock exists (existing() below), so a tweet committed while the shards
 * are read is either in what they return or fanned into the key; the ZADD
 * here merges with whatever a fan-out put there meanwhile. */
static rst_err build_list(rst_services *s, rst_arena *a, uint64_t uid, const following *fl,
                          tl_list *l, int store)
{
    rst_err err;
    rst_key lock;
    int locked = 0;
    uint64_t t0 = rst_time_mono_ms();
    l->redis = 0;
    if (l->author == 0 && store) {
        char token[24];
        int n = snprintf(token, sizeof(token), "%ld", (long)getpid());
        rst_key_timeline_lock(s->cache, &lock, uid);
        locked = rst_cache_claim(s->cache, &lock, token, (size_t)n, LOCK_TTL_S) == 1;
        store = locked;                  /* else another request stores it; this one serves */
    }
    if (l->author != 0)
        err = author_ids(s, a, l->author, RST_TL_AUTHOR_CAP, &l->mem, &l->nmem);
    else
        err = build_home(s, a, fl, l);
    if (err == RST_OK && store) {
        store_arg sa = { a, l, l->author == 0, l->author == 0 ? RST_TL_CAP : RST_TL_AUTHOR_CAP };
        run_batch(s, fill_store, &sa);
    }
    if (locked) {
        rst_cache_del(s->cache, &lock);
        rst_log_debug("timeline %" PRIu64 ": rebuilt from the shards, %d entries in %" PRIu64
                      " ms", uid, l->nmem, rst_time_mono_ms() - t0);
    }
    return err;
}

/* ------------------------------------------------------------ reading */

typedef struct {
    rst_services    *s;
    uint64_t         uid;
    following        fl;
    tl_list          lists[MAX_LISTS];
    int              nlists;
    int              checked;   /* the first read looked for every sentinel */
} tl_source;

/* The range command of list l: up to `per` members below `below`. */
static void queue_range(rst_batch *b, const tl_list *l, uint64_t below, int per)
{
    rst_cmd cmd;
    char max[RST_TL_ID_LEN + 2];
    rst_cmd_init(&cmd, "ZREVRANGEBYLEX");
    rst_cmd_key(&cmd, &l->key);
    if (below == UINT64_MAX) {
        rst_cmd_str(&cmd, "+", 1);
    } else {
        max[0] = '(';                         /* "<id>:..." sorts above "<id>": excluded */
        rst_tl_id_member(below, max + 1);
        rst_cmd_str(&cmd, max, RST_TL_ID_LEN + 1);
    }
    rst_cmd_str(&cmd, "-", 1);
    rst_cmd_str(&cmd, "LIMIT", 5);
    rst_cmd_int(&cmd, 0);
    rst_cmd_int(&cmd, per);
    rst_batch_add(b, &cmd);
}

static void queue_oldest(rst_batch *b, const tl_list *l)
{
    rst_cmd cmd;
    rst_cmd_init(&cmd, "ZRANGE");
    rst_cmd_key(&cmd, &l->key);
    rst_cmd_int(&cmd, 0);
    rst_cmd_int(&cmd, 0);
    rst_batch_add(b, &cmd);
}

/* A range reply as a run; -1 when it is not what the list holds. */
static int take_run(rst_arena *a, const redisReply *r, const tl_list *l, int per, rst_tl_run *run)
{
    if (r == NULL || r->type != REDIS_REPLY_ARRAY)
        return -1;
    rst_tl_entry *e = rst_arena_alloc(a, sizeof(*e) * (r->elements + 1));
    int n = 0, sentinel = 0;
    if (e == NULL)
        return -1;
    for (size_t i = 0; i < r->elements && !sentinel; i++) {
        const redisReply *m = r->element[i];
        int rc;
        if (m->type != REDIS_REPLY_STRING)
            return -1;
        if (l->author == 0) {
            rc = rst_tl_parse_member(m->str, m->len, &e[n]);
        } else {
            rc = rst_tl_parse_id(m->str, m->len, &e[n].id);
            e[n].author = l->author;
        }
        if (rc < 0)
            return -1;
        if (rc == 0)
            sentinel = 1;
        else
            n++;
    }
    *run = (rst_tl_run){ e, n, !sentinel && (int)r->elements == per };
    return 0;
}

static int is_sentinel(const redisReply *r)
{
    return r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
           r->element[0]->type == REDIS_REPLY_STRING && r->element[0]->len == RST_TL_ID_LEN &&
           memcmp(r->element[0]->str, SENTINEL, RST_TL_ID_LEN) == 0;
}

/* The run of an in-memory list below `below`. */
static void mem_run(const tl_list *l, uint64_t below, int per, rst_tl_run *run)
{
    int at = 0;
    while (at < l->nmem && l->mem[at].id >= below)
        at++;
    int n = l->nmem - at < per ? l->nmem - at : per;
    *run = (rst_tl_run){ l->mem + at, n, at + n < l->nmem };
}

/* Reads every list below `below` in one round trip; the first time also
 * whether each is built. A list that is not, or any when Redis fails, is
 * rebuilt into memory (and Redis where it may). */
static rst_err read_runs(tl_source *src, rst_arena *a, uint64_t below, int per, rst_tl_run *runs)
{
    redisReply *rr[MAX_LISTS], *ro[MAX_LISTS];
    int down = 1, nredis = 0;
    rst_batch b;
    memset(rr, 0, sizeof(rr));
    memset(ro, 0, sizeof(ro));
    for (int i = 0; i < src->nlists; i++)
        nredis += src->lists[i].redis;
    if (nredis > 0 && rst_batch_begin(&b, src->s->cache) == 0) {
        for (int i = 0; i < src->nlists; i++)
            if (src->lists[i].redis) {
                queue_range(&b, &src->lists[i], below, per);
                if (!src->checked)
                    queue_oldest(&b, &src->lists[i]);
            }
        down = 0;
        for (int i = 0; i < src->nlists; i++)
            if (src->lists[i].redis) {
                rr[i] = rst_batch_next(&b);
                if (!src->checked)
                    ro[i] = rst_batch_next(&b);
                if (rr[i] == NULL)
                    down = 1;
            }
        rst_batch_end(&b);
    }
    rst_err err = RST_OK;
    for (int i = 0; i < src->nlists && err == RST_OK; i++) {
        tl_list *l = &src->lists[i];
        if (l->redis && !down && (src->checked || is_sentinel(ro[i])) &&
            take_run(a, rr[i], l, per, &runs[i]) == 0)
            continue;
        if (l->redis)
            err = build_list(src->s, a, src->uid, &src->fl, l, !down);
        if (err == RST_OK)
            mem_run(l, below, per, &runs[i]);
    }
    for (int i = 0; i < src->nlists; i++) {
        if (rr[i])
            freeReplyObject(rr[i]);
        if (ro[i])
            freeReplyObject(ro[i]);
    }
    src->checked = 1;
    return err;
}

/* The id source of a timeline page (tweets.h): the lists merged as far as
 * certain, the entries of users no longer followed dropped, `offset` of
 * the rest skipped. */
static rst_err tl_ids(void *ctx, rst_arena *a, uint64_t below, int offset, int want,
                      uint64_t *ids, int *n, int *end)
{
    tl_source *src = ctx;
    rst_tl_run runs[MAX_LISTS];
    *n = 0;
    *end = 0;
    for (int round = 0; round < MERGE_ROUNDS && *n < want; round++) {
        int per = offset + want - *n;
        if (per > RST_TL_CAP + 1)
            per = RST_TL_CAP + 1;
        rst_err err = read_runs(src, a, below, per, runs);
        if (err != RST_OK)
            return err;
        int total = 0;
        for (int i = 0; i < src->nlists; i++)
            total += runs[i].n;
        rst_tl_entry *m = rst_arena_alloc(a, sizeof(*m) * (size_t)(total + 1));
        if (m == NULL)
            return RST_E_INTERNAL;
        uint64_t next;
        int k = rst_tl_merge(runs, src->nlists, m, total, &next);
        k = rst_tl_filter(m, k, src->fl.ids, src->fl.n, src->uid);
        for (int i = 0; i < k && *n < want; i++) {
            if (offset > 0)
                offset--;
            else
                ids[(*n)++] = m[i].id;
        }
        if (next == 0) {
            *end = *n < want;
            break;
        }
        below = next;
    }
    return RST_OK;
}

/* The lists of uid's page: the home timeline, the caller's own recent
 * list, and the recent list of every followed author merged at read time. */
static void add_list(tl_source *src, uint64_t author)
{
    tl_list *l = &src->lists[src->nlists++];
    memset(l, 0, sizeof(*l));
    l->author = author;
    l->redis = 1;
    if (author == 0)
        rst_key_timeline(src->s->cache, &l->key, src->uid);
    else
        rst_key_author_recent(src->s->cache, &l->key, author);
}

rst_err rst_timeline_page(rst_services *s, rst_arena *a, uint64_t uid, uint64_t before,
                          int offset, int limit, rst_tweet_page *out)
{
    tl_source *src = rst_arena_calloc(a, sizeof(*src));
    if (src == NULL)
        return RST_E_INTERNAL;
    src->s = s;
    src->uid = uid;
    rst_err err = get_following(s, a, uid, &src->fl);
    if (err != RST_OK)
        return err;
    add_list(src, 0);
    add_list(src, uid);
    for (int i = 0; i < src->fl.n && src->nlists < MAX_LISTS; i++)
        if (pulled(s, src->fl.f[i].followers))
            add_list(src, src->fl.f[i].id);
    return rst_tweets_collect(s, a, tl_ids, src, before, offset, limit, NULL, NULL, out);
}

/* ------------------------------------------------------------ writes */

/* "<op> <tweet> <author> <enqueued unix ms> <cursor>" */
static void queue_job(rst_services *s, rst_batch *b, char op, uint64_t id, uint64_t author)
{
    rst_key k;
    rst_cmd cmd;
    char job[96];
    int n = snprintf(job, sizeof(job), "%c %" PRIu64 " %" PRIu64 " %" PRIu64 " 0", op, id, author,
                     rst_time_now_ms());
    rst_key_fanout_queue(s->cache, &k);
    rst_cmd_init(&cmd, "LPUSH");
    rst_cmd_key(&cmd, &k);
    rst_cmd_str(&cmd, job, (size_t)n);
    rst_batch_add(b, &cmd);
}

void rst_timeline_queue_post(rst_services *s, rst_batch *b, uint64_t id, uint64_t author)
{
    rst_key k;
    rst_cmd cmd;
    char m[RST_TL_ID_LEN + 1];
    rst_key_author_recent(s->cache, &k, author);
    rst_tl_id_member(id, m);
    /* A list that does not exist yet gets no sentinel: its reader rebuilds it. */
    rst_cmd_init(&cmd, "ZADD");
    rst_cmd_key(&cmd, &k);
    rst_cmd_str(&cmd, "0", 1);
    rst_cmd_str(&cmd, m, RST_TL_ID_LEN);
    rst_batch_add(b, &cmd);
    rst_cmd_init(&cmd, "ZREMRANGEBYRANK");
    rst_cmd_key(&cmd, &k);
    rst_cmd_int(&cmd, 1);
    rst_cmd_int(&cmd, -(RST_TL_AUTHOR_CAP + 1));
    rst_batch_add(b, &cmd);
    rst_cmd_init(&cmd, "EXPIRE");           /* a list the ZADD made has no TTL yet */
    rst_cmd_key(&cmd, &k);
    rst_cmd_int(&cmd, TL_TTL_S);
    rst_batch_add(b, &cmd);
    queue_job(s, b, 'p', id, author);
}

void rst_timeline_queue_delete(rst_services *s, rst_batch *b, uint64_t id, uint64_t author)
{
    rst_key k;
    rst_cmd cmd;
    char m[RST_TL_ID_LEN + 1];
    rst_key_author_recent(s->cache, &k, author);
    rst_tl_id_member(id, m);
    rst_cmd_init(&cmd, "ZREM");
    rst_cmd_key(&cmd, &k);
    rst_cmd_str(&cmd, m, RST_TL_ID_LEN);
    rst_batch_add(b, &cmd);
    queue_job(s, b, 'd', id, author);
}

typedef struct {
    rst_services *s;
    uint64_t      uid;
    int           followed;
    char          stamp[24];
    int           slen;
} follows_news;

static void queue_follows_news(rst_batch *b, void *arg)
{
    const follows_news *f = arg;
    rst_key k;
    rst_cmd cmd;
    rst_key_following_version(f->s->cache, &k, f->uid);
    rst_cmd_set(&cmd, &k, f->stamp, (size_t)f->slen, FOLLOWING_V_TTL_S, 0);
    rst_batch_add(b, &cmd);
    if (f->followed) {
        rst_key_timeline(f->s->cache, &k, f->uid);
        rst_cmd_init(&cmd, "DEL");
        rst_cmd_key(&cmd, &k);
        rst_batch_add(b, &cmd);
    }
}

void rst_timeline_follows_changed(rst_services *s, uint64_t follower, int followed)
{
    follows_news f = { s, follower, followed, { 0 }, 0 };
    f.slen = make_stamp(f.stamp, sizeof(f.stamp));
    if (rst_cache_write(s->cache, queue_follows_news, &f) != 0)
        rst_log_warn("timeline %" PRIu64 ": Redis is unavailable; its cached following list "
                     "may be read for up to %d s", follower, FOLLOWING_TTL_S);
}

/* ------------------------------------------------------------ fan-out */

typedef struct {
    char     op;                 /* 'p' post, 'd' delete */
    uint64_t id, author, enqueued_ms, cursor;
} fanout_job;

/* Parses a job exactly; -1 for anything else (dropped, logged). */
static int parse_job(const char *v, size_t len, fanout_job *j)
{
    const char *p = v + 2, *end = v + len;
    if (len < 10 || (v[0] != 'p' && v[0] != 'd') || v[1] != ' ')
        return -1;
    j->op = v[0];
    if (take_num(&p, end, ' ', &j->id) != 0 || take_num(&p, end, ' ', &j->author) != 0 ||
        take_num(&p, end, ' ', &j->enqueued_ms) != 0)
        return -1;
    size_t n = rst_parse_u64(p, &j->cursor);
    return n > 0 && p + n == end && j->id != 0 && j->author != 0 ? 0 : -1;
}

/* RPUSH (the next to be taken) or a plain command on the queue key. */
/* A job back on the queue: at the end RPOP takes from (a job half done
 * goes on next), or, after a failure, at the far end, so that one author's
 * unreachable shard does not hold up everyone else's jobs. */
static void push_job(rst_services *s, const fanout_job *j, uint64_t cursor, int failed)
{
    rst_key k;
    rst_cmd cmd;
    char job[96];
    int n = snprintf(job, sizeof(job), "%c %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64, j->op,
                     j->id, j->author, j->enqueued_ms, cursor);
    rst_key_fanout_queue(s->cache, &k);
    rst_cmd_init(&cmd, failed ? "LPUSH" : "RPUSH");
    rst_cmd_key(&cmd, &k);
    rst_cmd_str(&cmd, job, (size_t)n);
    redisReply *r = rst_cache_run(s->cache, &cmd);
    if (r == NULL || r->type != REDIS_REPLY_INTEGER)
        rst_log_warn("fan-out: could not queue tweet %" PRIu64 " again; timelines miss it "
                     "until they are rebuilt", j->id);
    if (r)
        freeReplyObject(r);
}

/* The job's finished: its lag (post to the last follower) is kept. */
static void job_done(rst_services *s, const fanout_job *j)
{
    rst_key k;
    char v[24];
    uint64_t now = rst_time_now_ms();
    if (j->op != 'p')
        return;
    int n = snprintf(v, sizeof(v), "%" PRIu64, now > j->enqueued_ms ? now - j->enqueued_ms : 0);
    rst_key_fanout_lag(s->cache, &k);
    rst_cache_set(s->cache, &k, v, (size_t)n, 0);
}

/* The followers' timelines that exist or are being rebuilt (EXISTS of the
 * timeline and its lock, one round trip): only a user who reads has one,
 * and a missing one is rebuilt on its next read. */
static int existing(rst_services *s, const rst_rows *rows, unsigned char *exists)
{
    rst_batch b;
    if (rst_batch_begin(&b, s->cache) != 0)
        return -1;
    for (int r = 0; r < rows->nrows; r++) {
        rst_key k, lock;
        rst_cmd cmd;
        rst_key_timeline(s->cache, &k, rst_row(rows, r)[0].u);
        rst_key_timeline_lock(s->cache, &lock, rst_row(rows, r)[0].u);
        rst_cmd_init(&cmd, "EXISTS");
        rst_cmd_key(&cmd, &k);
        rst_cmd_key(&cmd, &lock);
        rst_batch_add(&b, &cmd);
    }
    for (int r = 0; r < rows->nrows; r++) {
        redisReply *rep = rst_batch_next(&b);
        exists[r] = rep != NULL && rep->type == REDIS_REPLY_INTEGER && rep->integer >= 1;
        if (rep)
            freeReplyObject(rep);
    }
    rst_batch_end(&b);
    return b.failed ? -1 : 0;
}

/* The entry's ZADD (and trim) or ZREM on every follower's timeline. */
static int deliver(rst_services *s, const fanout_job *j, const rst_rows *rows,
                   const unsigned char *exists)
{
    char m[RST_TL_MEMBER_LEN + 1];
    rst_batch b;
    rst_tl_member(j->id, j->author, m);
    if (rst_batch_begin(&b, s->cache) != 0)
        return -1;
    for (int r = 0; r < rows->nrows; r++) {
        rst_key k;
        rst_cmd cmd;
        if (exists != NULL && !exists[r])
            continue;
        rst_key_timeline(s->cache, &k, rst_row(rows, r)[0].u);
        rst_cmd_init(&cmd, j->op == 'p' ? "ZADD" : "ZREM");
        rst_cmd_key(&cmd, &k);
        if (j->op == 'p')
            rst_cmd_str(&cmd, "0", 1);
        rst_cmd_str(&cmd, m, RST_TL_MEMBER_LEN);
        rst_batch_add(&b, &cmd);
        if (j->op == 'p') {
            rst_cmd_init(&cmd, "ZREMRANGEBYRANK");
            rst_cmd_key(&cmd, &k);
            rst_cmd_int(&cmd, 1);
            rst_cmd_int(&cmd, -(RST_TL_CAP + 1));
            rst_batch_add(&b, &cmd);
        }
    }
    rst_batch_end(&b);
    return b.failed ? -1 : 0;
}

/* One step of job j: the author's next followers, their timelines. */
static rst_err run_job(rst_services *s, rst_arena *a, const fanout_job *j, int *again,
                       uint64_t *cursor)
{
    const rst_value *row;
    rst_db *db;
    rst_rows rows;
    *again = 0;
    if (j->cursor == 0) {
        rst_err err = rst_shard_row(s, a, j->author, RST_PRIMARY, SQL_FOLLOWERS_OF, "U", "fan-out", &row);
        if (err == RST_E_NOT_FOUND)
            return RST_OK;                   /* the author is gone */
        if (err != RST_OK)
            return err;
        if (row[0].u == 0 || row[0].u > (uint64_t)s->cfg->fanout_max_followers)
            return RST_OK;                   /* nobody to tell, or merged in at read time */
    }
    rst_err err = rst_shard_of(s, j->author, RST_PRIMARY, &db);
    if (err != RST_OK)
        return err;
    rst_param p[3] = { rst_p_u64(j->author), rst_p_u64(j->cursor ? j->cursor : UINT64_MAX),
                       rst_p_i64(RST_TL_STEP_FOLLOWERS) };
    rst_db_rc rc = rst_db_query(db, a, SQL_FOLLOWERS_PAGE, p, 3, "UU", &rows);
    if (rc != RST_DB_OK)
        return rst_store_fail(db, rc, "fan-out: followers");
    unsigned char *exists = rst_arena_alloc(a, (size_t)rows.nrows + 1);
    if (exists == NULL)
        return RST_E_INTERNAL;
    if ((j->op == 'p' && existing(s, &rows, exists) != 0) ||
        deliver(s, j, &rows, j->op == 'p' ? exists : NULL) != 0)
        return RST_E_UNAVAILABLE;
    if (rows.nrows == RST_TL_STEP_FOLLOWERS) {
        *again = 1;
        *cursor = rst_row(&rows, rows.nrows - 1)[1].u;
    }
    return RST_OK;
}

int rst_timeline_fanout_step(rst_services *s)
{
    rst_key k;
    rst_cmd cmd;
    fanout_job j;
    /* Between requests, like the fan-out: read-your-writes marks that
     * waited for Redis (services.h). */
    rst_marks_flush(s);
    rst_key_fanout_queue(s->cache, &k);
    rst_cmd_init(&cmd, "RPOP");
    rst_cmd_key(&cmd, &k);
    redisReply *r = rst_cache_run(s->cache, &cmd);
    if (r == NULL)
        return -1;
    if (r->type != REDIS_REPLY_STRING) {
        int rc = r->type == REDIS_REPLY_NIL ? 0 : -1;
        freeReplyObject(r);
        return rc;
    }
    int ok = parse_job(r->str, r->len, &j) == 0;
    freeReplyObject(r);
    if (!ok) {
        rst_log_warn("fan-out: dropped a job that does not parse");
        return 1;
    }
    rst_arena a;
    int again;
    uint64_t cursor = 0;
    rst_arena_init(&a, 1 << 15);
    rst_err err = run_job(s, &a, &j, &again, &cursor);
    rst_arena_free(&a);
    if (err != RST_OK) {
        push_job(s, &j, j.cursor, 1);        /* tried again after the others */
        return -1;
    }
    if (again)
        push_job(s, &j, cursor, 0);
    else
        job_done(s, &j);
    return 1;
}

void rst_timeline_backpressure(rst_services *s)
{
    long long len, oldest, lag;
    if (rst_timeline_queue_stats(s, &len, &oldest, &lag) != 0 || len <= RST_TL_QUEUE_CAP)
        return;
    rst_log_warn("fan-out: %lld jobs queued (cap %d): this post helps drain them", len,
                 RST_TL_QUEUE_CAP);
    for (int i = 0; i < HELP_STEPS && rst_timeline_fanout_step(s) == 1; i++)
        ;
}

int rst_timeline_queue_stats(rst_services *s, long long *len, long long *oldest_ms,
                             long long *last_lag_ms)
{
    rst_key q, lag;
    rst_cmd c1, c2, c3;
    rst_batch b;
    fanout_job j;
    uint64_t v;
    *len = 0;
    *oldest_ms = -1;
    *last_lag_ms = -1;
    rst_key_fanout_queue(s->cache, &q);
    rst_key_fanout_lag(s->cache, &lag);
    rst_cmd_init(&c1, "LLEN");
    rst_cmd_key(&c1, &q);
    rst_cmd_init(&c2, "LINDEX");
    rst_cmd_key(&c2, &q);
    rst_cmd_int(&c2, -1);                    /* LPUSH in, RPOP out: the oldest is last */
    rst_cmd_init(&c3, "GET");
    rst_cmd_key(&c3, &lag);
    if (rst_batch_begin(&b, s->cache) != 0)
        return -1;
    rst_batch_add(&b, &c1);
    rst_batch_add(&b, &c2);
    rst_batch_add(&b, &c3);
    redisReply *r1 = rst_batch_next(&b), *r2 = rst_batch_next(&b), *r3 = rst_batch_next(&b);
    rst_batch_end(&b);
    int rc = r1 != NULL && r1->type == REDIS_REPLY_INTEGER ? 0 : -1;
    if (rc == 0)
        *len = r1->integer;
    if (r2 != NULL && r2->type == REDIS_REPLY_STRING && parse_job(r2->str, r2->len, &j) == 0) {
        uint64_t now = rst_time_now_ms();
        *oldest_ms = now > j.enqueued_ms ? (long long)(now - j.enqueued_ms) : 0;
    } else if (rc == 0 && *len == 0) {
        *oldest_ms = 0;
    }
    if (r3 != NULL && r3->type == REDIS_REPLY_STRING && rst_parse_u64(r3->str, &v) == r3->len)
        *last_lag_ms = (long long)v;
    if (r1)
        freeReplyObject(r1);
    if (r2)
        freeReplyObject(r2);
    if (r3)
        freeReplyObject(r3);
    return rc;
}
