/* feed.c -- the global feed: a sorted set in Redis, the scatter-gather over
 * the shard servers behind it, and its rebuild (see feed.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/kmerge.h"
#include "core/log.h"
#include "core/num.h"
#include "core/timefmt.h"
#include "domain/feed.h"
#include "domain/shardq.h"

#define MEMBER_LEN 20
#define LOCK_TTL_S 30            /* a rebuild of the full set takes well under a second */
#define REBUILD_CHUNK 5000       /* ids per scatter-gather and per ZADD while rebuilding */

static const char SENTINEL[] = "00000000000000000000";

/* Newest first past a cursor, through the narrow (id) index: at most
 * `limit` index entries per server, at any depth. */
static const char SQL_FEED_IDS[] =
    "SELECT id FROM tweets FORCE INDEX (tweets_feed) WHERE id < ? ORDER BY id DESC LIMIT ?";

/* ------------------------------------------------------------ members */

static void member_of(uint64_t id, char out[MEMBER_LEN + 1])
{
    snprintf(out, MEMBER_LEN + 1, "%020" PRIu64, id);
}

/* Exactly 20 digits: the id, 0 for the sentinel; -1 for anything else. */
static int parse_member(const char *s, size_t len, uint64_t *id)
{
    if (len != MEMBER_LEN)
        return -1;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return -1;
    char digits[MEMBER_LEN + 1];
    memcpy(digits, s, MEMBER_LEN);
    digits[MEMBER_LEN] = '\0';
    return rst_parse_u64(digits, id) == MEMBER_LEN ? 0 : -1;
}

/* ------------------------------------------------------------ shards */

/* Up to `want` ids older than `below`, after skipping `offset`, merged
 * from every shard server (each asked for offset + want at most); *end
 * when no more exist. Every server must answer: any of them may hold the
 * next id. */
static rst_err shards_ids(rst_services *s, rst_arena *a, rst_role role, uint64_t below,
                          int offset, int want, uint64_t *ids, int *n, int *end)
{
    rst_param p[2] = { rst_p_u64(below), rst_p_i64((int64_t)offset + want) };
    rst_db_job *jobs;
    rst_err err = rst_shards_all(s, a, role, SQL_FEED_IDS, p, 2, "U", "feed scatter-gather", &jobs);
    if (err != RST_OK)
        return err;
    const uint64_t *lists[RST_MAX_SERVERS];
    size_t lens[RST_MAX_SERVERS];
    for (int i = 0; i < s->nshards; i++) {
        uint64_t *l = rst_arena_alloc(a, sizeof(uint64_t) * (size_t)(jobs[i].rows.nrows + 1));
        if (l == NULL)
            return RST_E_INTERNAL;
        for (int r = 0; r < jobs[i].rows.nrows; r++)
            l[r] = rst_row(&jobs[i].rows, r)[0].u;
        lists[i] = l;
        lens[i] = (size_t)jobs[i].rows.nrows;
    }
    *n = (int)rst_kmerge_desc(lists, lens, s->nshards, (size_t)offset, ids, (size_t)want);
    *end = *n < want;
    return RST_OK;
}

/* ------------------------------------------------------------ Redis */

/* The set's members of a range reply, in order, up to the sentinel. -1
 * when the reply is not what the set holds (then it is not to be trusted). */
static int take_members(const redisReply *r, uint64_t *ids, int *n, int *sentinel)
{
    if (r == NULL || r->type != REDIS_REPLY_ARRAY)
        return -1;
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        uint64_t id;
        if (e->type != REDIS_REPLY_STRING || parse_member(e->str, e->len, &id) != 0)
            return -1;
        if (id == 0) {
            *sentinel = 1;
            break;
        }
        ids[(*n)++] = id;
    }
    return 0;
}

typedef enum { RANGE_OK, RANGE_DOWN, RANGE_CORRUPT } range_rc;

/* 1 when a ZRANGE 0 0 reply is the sentinel: the set holds everything. */
static int is_sentinel_reply(const redisReply *r)
{
    return r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 1 &&
           r->element[0]->type == REDIS_REPLY_STRING && r->element[0]->len == MEMBER_LEN &&
           memcmp(r->element[0]->str, SENTINEL, MEMBER_LEN) == 0;
}

/* What the set said about one range. */
typedef struct {
    int       sentinel;   /* the range reached the sentinel: nothing older */
    int       whole;      /* the set's oldest member is the sentinel */
    long long card;       /* its size */
} range_info;

/* One round trip: the range of up to `want` ids after `offset` (by rank
 * from the newest, or below `below` by value), the set's size and its
 * oldest member (a range past the end of a whole set is the end). */
static range_rc redis_ids(rst_services *s, uint64_t below, int offset, int want, uint64_t *ids,
                          int *n, range_info *info)
{
    rst_key k;
    rst_cmd range, size, oldest;
    char max[MEMBER_LEN + 2];
    rst_key_feed(s->cache, &k);
    if (below == UINT64_MAX) {
        rst_cmd_init(&range, "ZREVRANGE");
        rst_cmd_key(&range, &k);
        rst_cmd_int(&range, offset);
        rst_cmd_int(&range, (long long)offset + want - 1);
    } else {
        max[0] = '(';                           /* exclusive: strictly older */
        member_of(below, max + 1);
        rst_cmd_init(&range, "ZREVRANGEBYLEX");
        rst_cmd_key(&range, &k);
        rst_cmd_str(&range, max, MEMBER_LEN + 1);
        rst_cmd_str(&range, "-", 1);
        rst_cmd_str(&range, "LIMIT", 5);
        rst_cmd_int(&range, offset);
        rst_cmd_int(&range, want);
    }
    rst_cmd_init(&size, "ZCARD");
    rst_cmd_key(&size, &k);
    rst_cmd_init(&oldest, "ZRANGE");
    rst_cmd_key(&oldest, &k);
    rst_cmd_int(&oldest, 0);
    rst_cmd_int(&oldest, 0);
    rst_batch b;
    if (rst_batch_begin(&b, s->cache) != 0)
        return RANGE_DOWN;
    rst_batch_add(&b, &range);
    rst_batch_add(&b, &size);
    rst_batch_add(&b, &oldest);
    redisReply *r1 = rst_batch_next(&b), *r2 = rst_batch_next(&b), *r3 = rst_batch_next(&b);
    rst_batch_end(&b);
    range_rc rc = RANGE_DOWN;
    memset(info, 0, sizeof(*info));
    if (r1 != NULL && r2 != NULL && r3 != NULL) {
        rc = RANGE_CORRUPT;
        if (take_members(r1, ids, n, &info->sentinel) == 0 && r2->type == REDIS_REPLY_INTEGER &&
            r3->type == REDIS_REPLY_ARRAY) {
            info->card = r2->integer;
            info->whole = is_sentinel_reply(r3);
            rc = RANGE_OK;
        }
    }
    if (r1)
        freeReplyObject(r1);
    if (r2)
        freeReplyObject(r2);
    if (r3)
        freeReplyObject(r3);
    return rc;
}

/* Removes ids whose tweets are gone (left by a rebuild that raced a
 * delete), in one round trip. */
static void feed_gone(rst_services *s, const uint64_t *ids, int n)
{
    rst_batch b;
    if (rst_batch_begin(&b, s->cache) != 0)
        return;
    for (int i = 0; i < n; i++)
        rst_feed_queue_remove(s, &b, ids[i]);
    rst_batch_end(&b);
}

/* VERB feed:ids [0] <member of id> onto b (ZADD takes the score 0). */
static void queue_member(rst_services *s, rst_batch *b, const char *verb, uint64_t id)
{
    rst_key k;
    rst_cmd cmd;
    char m[MEMBER_LEN + 1];
    rst_key_feed(s->cache, &k);
    member_of(id, m);
    rst_cmd_init(&cmd, verb);
    rst_cmd_key(&cmd, &k);
    if (strcmp(verb, "ZADD") == 0)
        rst_cmd_str(&cmd, "0", 1);
    rst_cmd_str(&cmd, m, MEMBER_LEN);
    rst_batch_add(b, &cmd);
}

void rst_feed_queue_add(rst_services *s, rst_batch *b, uint64_t id)
{
    rst_key k;
    rst_cmd cmd;
    rst_key_feed(s->cache, &k);
    queue_member(s, b, "ZADD", id);
    /* Keep the newest RST_FEED_CAP: the oldest go, the sentinel first. */
    rst_cmd_init(&cmd, "ZREMRANGEBYRANK");
    rst_cmd_key(&cmd, &k);
    rst_cmd_int(&cmd, 0);
    rst_cmd_int(&cmd, -(RST_FEED_CAP + 1));
    rst_batch_add(b, &cmd);
}

void rst_feed_queue_remove(rst_services *s, rst_batch *b, uint64_t id)
{
    queue_member(s, b, "ZREM", id);
}

/* ------------------------------------------------------------ pages */

/* The id source of a feed page: the set while it can answer, then the
 * shards (rst_tweets_collect asks again from where it stopped). */
typedef struct {
    rst_services *s;
    int           shards_only;  /* Redis failed, or the set ended without the sentinel */
    int           rebuild;      /* the set is missing, corrupt or too short */
} feed_source;

static rst_err feed_ids(void *ctx, rst_arena *a, uint64_t below, int offset, int want,
                        uint64_t *ids, int *n, int *end)
{
    feed_source *fs = ctx;
    *n = 0;
    *end = 0;
    if (!fs->shards_only) {
        range_info info;
        range_rc rc = redis_ids(fs->s, below, offset, want, ids, n, &info);
        if (rc == RANGE_OK && (info.sentinel || info.whole || *n == want)) {
            *end = info.sentinel || (info.whole && *n < want);
            return RST_OK;
        }
        fs->shards_only = 1;
        if (rc == RANGE_CORRUPT) {
            rst_key k;
            rst_log_warn("feed: the Redis set holds something else; dropping it to rebuild");
            rst_key_feed(fs->s->cache, &k);
            rst_cache_del(fs->s->cache, &k);
            *n = 0;
        }
        fs->rebuild = rc == RANGE_CORRUPT || (rc == RANGE_OK && info.card < RST_FEED_DEPTH_MIN);
        if (*n > 0) {
            below = ids[*n - 1];                /* the set ran out here: go on from the shards */
            offset = 0;
        }
    }
    int m = 0;
    rst_err err = shards_ids(fs->s, a, RST_REPLICA, below, offset, want - *n, ids + *n, &m, end);
    *n += m;
    return err;
}

rst_err rst_feed_page(rst_services *s, rst_arena *a, uint64_t before, int offset, int limit,
                      int hot_ok, rst_tweet_page *out)
{
    rst_key k = { 0 };
    if (hot_ok) {
        rst_key_feed_page(s->cache, &k, s->tweet_writes, before, offset, limit);
        if (rst_tweet_page_hot_read(s, a, &k, out))
            return RST_OK;
    }
    rst_hot_time asked;
    rst_hot_clock(&asked);
    feed_source fs = { .s = s };
    rst_err err = rst_tweets_collect(s, a, feed_ids, &fs, before, offset, limit, NULL, feed_gone,
                                     out);
    if (err == RST_OK && hot_ok)
        rst_tweet_page_hot_keep(s, &k, out, &asked);
    if (err == RST_OK && fs.rebuild) {
        long count;
        rst_feed_rebuild(s, 0, &count);
    }
    return err;
}

/* ------------------------------------------------------------ rebuild */

/* ZADD of ids (and the sentinel when `sentinel`) to k; 0 on success. */
static int zadd(rst_services *s, rst_arena *a, const rst_key *k, const uint64_t *ids, int n,
                int sentinel)
{
    int argc = 2 + 2 * (n + (sentinel ? 1 : 0));
    const char **argv = rst_arena_alloc(a, sizeof(char *) * (size_t)argc);
    size_t *lens = rst_arena_alloc(a, sizeof(size_t) * (size_t)argc);
    char *members = rst_arena_alloc(a, (size_t)(n + 1) * (MEMBER_LEN + 1));
    if (argv == NULL || lens == NULL || members == NULL)
        return -1;
    int at = 0;
    argv[at] = "ZADD", lens[at++] = 4;
    argv[at] = k->s, lens[at++] = k->len;
    for (int i = 0; i < n + (sentinel ? 1 : 0); i++) {
        char *m = members + (size_t)i * (MEMBER_LEN + 1);
        if (i < n)
            member_of(ids[i], m);
        else
            memcpy(m, SENTINEL, sizeof(SENTINEL));
        argv[at] = "0", lens[at++] = 1;
        argv[at] = m, lens[at++] = MEMBER_LEN;
    }
    rst_batch b;
    if (rst_batch_begin(&b, s->cache) != 0)
        return -1;
    rst_batch_add_argv(&b, argc, argv, lens);
    redisReply *r = rst_batch_next(&b);
    rst_batch_end(&b);
    int rc = r != NULL && r->type == REDIS_REPLY_INTEGER ? 0 : -1;
    if (r)
        freeReplyObject(r);
    return rc;
}

/* Fills `build` with the newest RST_FEED_CAP ids of the shards, chunk by
 * chunk (a scratch arena per chunk keeps the memory flat). */
static rst_err fill_build(rst_services *s, const rst_key *build, long *count)
{
    rst_arena a;
    rst_arena_init(&a, 1 << 16);
    uint64_t below = UINT64_MAX;
    int end = 0;
    rst_err err = RST_OK;
    *count = 0;
    while (err == RST_OK && !end && *count < RST_FEED_CAP) {
        int want = RST_FEED_CAP - *count < REBUILD_CHUNK ? (int)(RST_FEED_CAP - *count)
                                                          : REBUILD_CHUNK;
        uint64_t *ids = rst_arena_alloc(&a, sizeof(uint64_t) * (size_t)want);
        int n = 0;
        if (ids == NULL) {
            err = RST_E_INTERNAL;
            break;
        }
        /* The primaries: the set lives on in Redis, a copy that lags
         * would leave its newest tweets out of it for good. */
        err = shards_ids(s, &a, RST_PRIMARY, below, 0, want, ids, &n, &end);
        if (err == RST_OK && zadd(s, &a, build, ids, n, end) != 0)
            err = RST_E_UNAVAILABLE;
        if (err == RST_OK && n > 0)
            below = ids[n - 1];
        *count += n;
        rst_arena_reset(&a);
    }
    rst_arena_free(&a);
    return err;
}

/* Puts the built set in place in one transaction, merged with the live
 * one: ids that writers added meanwhile are kept, then trimmed. */
static int swap_in(rst_services *s, const rst_key *live, const rst_key *build, int fresh)
{
    rst_cmd cmd;
    rst_batch b;
    if (rst_batch_begin(&b, s->cache) != 0)
        return -1;
    rst_cmd_init(&cmd, "MULTI");
    rst_batch_add(&b, &cmd);
    int queued = 1;
    if (fresh) {
        rst_cmd_init(&cmd, "DEL");
        rst_cmd_key(&cmd, live);
        rst_batch_add(&b, &cmd);
        queued++;
    }
    rst_cmd_init(&cmd, "ZUNIONSTORE");
    rst_cmd_key(&cmd, live);
    rst_cmd_int(&cmd, 2);
    rst_cmd_key(&cmd, live);
    rst_cmd_key(&cmd, build);
    rst_batch_add(&b, &cmd);
    rst_cmd_init(&cmd, "ZREMRANGEBYRANK");
    rst_cmd_key(&cmd, live);
    rst_cmd_int(&cmd, 0);
    rst_cmd_int(&cmd, -(RST_FEED_CAP + 1));
    rst_batch_add(&b, &cmd);
    rst_cmd_init(&cmd, "DEL");
    rst_cmd_key(&cmd, build);
    rst_batch_add(&b, &cmd);
    rst_cmd_init(&cmd, "EXEC");
    rst_batch_add(&b, &cmd);
    queued += 4;
    int rc = -1;
    for (int i = 0; i < queued; i++) {
        redisReply *r = rst_batch_next(&b);
        if (r == NULL)
            break;
        if (i == queued - 1 && r->type == REDIS_REPLY_ARRAY)
            rc = 0;
        freeReplyObject(r);
    }
    rst_batch_end(&b);
    return rc;
}

/* 1 when the set can serve every page: deep enough, or holding everything
 * (its oldest member is the sentinel). Asked again under the lock, since
 * another worker may have rebuilt it since this one looked. */
static int set_is_whole(rst_services *s, const rst_key *live)
{
    rst_cmd card, oldest;
    rst_batch b;
    rst_cmd_init(&card, "ZCARD");
    rst_cmd_key(&card, live);
    rst_cmd_init(&oldest, "ZRANGE");
    rst_cmd_key(&oldest, live);
    rst_cmd_int(&oldest, 0);
    rst_cmd_int(&oldest, 0);
    if (rst_batch_begin(&b, s->cache) != 0)
        return 0;
    rst_batch_add(&b, &card);
    rst_batch_add(&b, &oldest);
    redisReply *r1 = rst_batch_next(&b), *r2 = rst_batch_next(&b);
    rst_batch_end(&b);
    int whole = (r1 != NULL && r1->type == REDIS_REPLY_INTEGER &&
                 r1->integer >= RST_FEED_DEPTH_MIN) || is_sentinel_reply(r2);
    if (r1)
        freeReplyObject(r1);
    if (r2)
        freeReplyObject(r2);
    return whole;
}

rst_err rst_feed_rebuild(rst_services *s, int fresh, long *count)
{
    rst_key lock, live, build;
    char token[32];
    int tlen = snprintf(token, sizeof(token), "%ld", (long)getpid());
    *count = -1;
    rst_key_feed_lock(s->cache, &lock);
    rst_key_feed(s->cache, &live);
    rst_key_feed_build(s->cache, &build);
    if (rst_cache_claim(s->cache, &lock, token, (size_t)tlen, LOCK_TTL_S) != 1)
        return RST_OK;                       /* another worker builds it, or Redis is down */
    if (!fresh && set_is_whole(s, &live)) {
        rst_cache_del(s->cache, &lock);
        return RST_OK;
    }
    uint64_t t0 = rst_time_mono_ms();
    long n = 0;
    rst_err err = RST_OK;
    if (rst_cache_del(s->cache, &build) != 0)
        err = RST_E_UNAVAILABLE;
    if (err == RST_OK)
        err = fill_build(s, &build, &n);
    if (err == RST_OK && swap_in(s, &live, &build, fresh) != 0)
        err = RST_E_UNAVAILABLE;
    if (err != RST_OK)
        rst_cache_del(s->cache, &build);
    /* Only ours can be there: the lock outlives any rebuild by far. */
    rst_cache_del(s->cache, &lock);
    if (err == RST_OK) {
        *count = n;
        rst_log_info("feed: rebuilt the Redis set from the shards: %ld ids in %" PRIu64 " ms",
                     n, rst_time_mono_ms() - t0);
    } else {
        rst_log_warn("feed: rebuild failed; pages come from the shards until it succeeds");
    }
    return err;
}
