/* test_tweet_faults.c -- tweets and the global feed when a dependency is
 * down (docs/OPERATIONS.md, "The global feed when something is down"):
 *
 *   Redis stopped: every tweet endpoint answers from the shards; the feed
 *     by scatter-gather gives the same pages as from Redis; a tweet posted
 *     meanwhile is in the feed after Redis is back (the set is rebuilt).
 *   One shard server (db2) stopped: writes of its users' tweets and the
 *     reads that need it are 502 from roostd; a tweet Redis still holds
 *     is served; the other server's users are not affected; a feed page
 *     that shows only tweets Redis holds is served, one that must ask db2
 *     (an uncached tweet, or the scatter-gather) is 502; all recovers
 *     when db2 is back.
 *
 * Runs after the other tweet suites and before test_faults. Every test
 * collects its answers, restores what it stopped, then asserts; an
 * unchecked teardown starts every service again even after a failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/shardmap.h"
#include "accounts.h"
#include "suites.h"

#define MAX_IDS 256

static void restore_all(void)
{
    static const char *const services[] = { "db1", "db2", "redis", "roostd", "nginx" };
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
        if (api_stack("start", services[i]) != 0)
            fprintf(stderr, "test_tweet_faults: could not start %s\n", services[i]);
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* roostd's 502 names the database; nginx's says no worker answers. */
static int is_roostd_502(const api_resp *r)
{
    const char *c = api_json_str(r, "error.code"), *m = api_json_str(r, "error.message");
    return r->status == 502 && c && strcmp(c, "upstream_unavailable") == 0 && m &&
           strcmp(m, "no worker answers") != 0;
}

static int post(const char *tok, const char *uid, const char *msg, api_resp *r)
{
    char path[64], body[128];
    snprintf(path, sizeof(path), "/tweets/%s", uid);
    snprintf(body, sizeof(body), "{\"message\":\"%s\"}", msg);
    return acct_req(r, "POST", path, body, tok, NULL);
}

static void post_ok(const char *tok, const char *uid, const char *msg, char id[ACCT_IDLEN])
{
    api_resp r;
    api_ok(post(tok, uid, msg, &r));
    ck_assert_msg(r.status == 201, "POST as %s: %ld %s", uid, r.status, r.body);
    acct_copy_str(id, ACCT_IDLEN, api_json_str(&r, "tweet.id"));
    api_free(&r);
}

static void get_tok(api_resp *r, const char *path, const char *tok)
{
    acct_req(r, "GET", path, NULL, tok, NULL);
}

/* The ids of a list answer, newest first; -1 when it is not a 200 list. */
static int ids_of(const api_resp *r, uint64_t *ids, int max)
{
    const cJSON *t;
    int n = 0;
    if (r->status != 200 || !cJSON_IsArray(api_json_at(r, "items")))
        return -1;
    cJSON_ArrayForEach(t, api_json_at(r, "items")) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(t, "id");
        if (!cJSON_IsString(id) || n == max)
            return -1;
        ids[n++] = strtoull(id->valuestring, NULL, 10);
    }
    return n;
}

/* Walks the feed by cursor, limit 10, at most 4 pages: the ids, or -1
 * when a page failed. */
static int feed_walk(const char *tok, uint64_t *ids)
{
    char path[192], cur[128] = "";
    int n = 0;
    for (int page = 0; page < 4; page++) {
        api_resp r;
        snprintf(path, sizeof(path), "/tweets?limit=10%s%s", cur[0] ? "&cursor=" : "", cur);
        get_tok(&r, path, tok);
        int k = ids_of(&r, ids + n, MAX_IDS - n);
        const cJSON *c = api_json_at(&r, "next_cursor");
        cur[0] = '\0';
        if (k >= 0 && cJSON_IsString(c) && strlen(c->valuestring) < sizeof(cur))
            strcpy(cur, c->valuestring);
        api_free(&r);
        if (k < 0)
            return -1;
        n += k;
        if (!cur[0])
            break;
    }
    return n;
}

/* ------------------------------------------------------------ Redis */

START_TEST(test_feed_with_redis_stopped)
{
    char name[ACCT_NAMELEN], uid[ACCT_IDLEN], tok[ACCT_TOKLEN], id[ACCT_IDLEN], path[64];
    char during[ACCT_IDLEN] = "", list[96];
    acct_new_user("tfr", name, uid, tok);
    for (int i = 0; i < 3; i++)
        post_ok(tok, uid, "with redis", id);
    snprintf(path, sizeof(path), "/tweet/%s", id);
    snprintf(list, sizeof(list), "/tweets/%s?limit=2", uid);
    uint64_t up[MAX_IDS], down[MAX_IDS], after[MAX_IDS];
    int nup = feed_walk(tok, up);
    api_resp one_up, list_up, page_up;
    get_tok(&one_up, path, tok);
    get_tok(&list_up, list, tok);
    get_tok(&page_up, "/tweets?limit=10&page=2", tok);

    int stopped = api_stack("stop", "redis");
    int ndown = feed_walk(tok, down);
    api_resp one_down, list_down, page_down, posted, top;
    get_tok(&one_down, path, tok);
    get_tok(&list_down, list, tok);
    get_tok(&page_down, "/tweets?limit=10&page=2", tok);
    post(tok, uid, "while redis is down", &posted);
    if (posted.status == 201)
        acct_copy_str(during, sizeof(during), api_json_str(&posted, "tweet.id"));
    get_tok(&top, "/tweets?limit=1", tok);
    int started = api_stack("start", "redis");
    sleep_ms(4500);                 /* every worker's circuit breaker closes again */
    api_resp top_after;
    get_tok(&top_after, "/tweets?limit=1", tok);
    int nafter = feed_walk(tok, after);

    ck_assert_msg(stopped == 0 && started == 0, "could not stop and start redis");
    ck_assert_msg(nup == 40, "feed walk with Redis up: %d ids", nup);
    ck_assert_msg(ndown == nup && memcmp(up, down, sizeof(uint64_t) * (size_t)nup) == 0,
                  "the feed from the shards differs from the feed from Redis (%d ids)", ndown);
    ck_assert_msg(one_down.status == 200 && strcmp(one_down.body, one_up.body) == 0,
                  "GET %s with Redis down: %ld %s", path, one_down.status, one_down.body);
    ck_assert_msg(list_down.status == 200 && strcmp(list_down.body, list_up.body) == 0,
                  "GET %s with Redis down: %ld %s", list, list_down.status, list_down.body);
    ck_assert_msg(page_down.status == 200 && strcmp(page_down.body, page_up.body) == 0,
                  "page 2 with Redis down: %ld %s", page_down.status, page_down.body);
    ck_assert_msg(posted.status == 201, "POST with Redis down: %ld %s", posted.status, posted.body);
    uint64_t t[1];
    ck_assert_msg(ids_of(&top, t, 1) == 1 && t[0] == strtoull(during, NULL, 10),
                  "the new tweet is not on top of the feed with Redis down: %s", top.body);
    ck_assert_msg(ids_of(&top_after, t, 1) == 1 && t[0] == strtoull(during, NULL, 10),
                  "the tweet posted while Redis was down is not on top after: %s", top_after.body);
    ck_assert_msg(nafter == 40 && after[0] == t[0] &&
                  memcmp(after + 1, up, sizeof(uint64_t) * 39) == 0,
                  "the feed after Redis came back is not the old one plus the new tweet");
    api_free(&one_up);
    api_free(&list_up);
    api_free(&page_up);
    api_free(&one_down);
    api_free(&list_down);
    api_free(&page_down);
    api_free(&posted);
    api_free(&top);
    api_free(&top_after);
}
END_TEST

/* ------------------------------------------------------------ a shard server */

/* A new signed-in user whose shard lives on server `want` (0: db1, 1: db2). */
static void user_on_server(int want, char uid[ACCT_IDLEN], char tok[ACCT_TOKLEN])
{
    const rst_config *cfg = api_stack_config();
    ck_assert_msg(cfg != NULL, "no stack config");
    static rst_shardmap map;
    rst_shardmap_build(&map, cfg);
    char name[ACCT_NAMELEN];
    for (int tries = 0; tries < 64; tries++) {
        acct_new_user("tfs", name, uid, NULL);
        if (rst_shardmap_server_for_id(&map, strtoull(uid, NULL, 10)) == want) {
            acct_signin(name, ACCT_PW, tok);
            return;
        }
    }
    ck_abort_msg("no user landed on server %d in 64 sign-ups", want);
}

static long long redis_del(const char *fmt_key, const char *id)
{
    redisReply *rep = id ? api_redis("DEL %s%s%s", api_redis_prefix(), fmt_key, id)
                         : api_redis("DEL %s%s", api_redis_prefix(), fmt_key);
    long long n = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1;
    if (rep)
        freeReplyObject(rep);
    return n;
}

/* After db2 is back, a worker may still hold a connection that died with
 * it: that request fails once. Only those answers are waited out. */
static void await_ok(const char *path, const char *tok, api_resp *out, int *tries)
{
    for (*tries = 1; ; (*tries)++) {
        get_tok(out, path, tok);
        if (!is_roostd_502(out) || *tries == 50)
            return;
        api_free(out);
        sleep_ms(100);
    }
}

START_TEST(test_shard_server_down)
{
    char u1[ACCT_IDLEN], t1[ACCT_TOKLEN], u2[ACCT_IDLEN], t2[ACCT_TOKLEN];
    char a1[ACCT_IDLEN], a2[ACCT_IDLEN], b2[ACCT_IDLEN], top[ACCT_IDLEN];
    char p_a1[64], p_a2[64], p_b2[64], l_u1[64], l_u2[64];
    user_on_server(0, u1, t1);
    user_on_server(1, u2, t2);
    post_ok(t2, u2, "on db2, cached", a2);
    post_ok(t2, u2, "on db2, evicted", b2);
    post_ok(t1, u1, "on db1", a1);
    for (int i = 0; i < 6; i++)
        post_ok(t1, u1, "db1 on top", top);       /* page 1 of 5 shows only db1 tweets */
    snprintf(p_a1, sizeof(p_a1), "/tweet/%s", a1);
    snprintf(p_a2, sizeof(p_a2), "/tweet/%s", a2);
    snprintf(p_b2, sizeof(p_b2), "/tweet/%s", b2);
    snprintf(l_u1, sizeof(l_u1), "/tweets/%s", u1);
    snprintf(l_u2, sizeof(l_u2), "/tweets/%s", u2);
    api_resp a2_up;
    get_tok(&a2_up, p_a2, t2);

    int stopped = api_stack("stop", "db2");
    long long evicted = redis_del("tweet:", b2);
    api_resp w_post, w_put, w_del, r_list, r_uncached, r_cached, o_post, o_list, o_one;
    api_resp f_top, f_needs_db2;
    post(t2, u2, "db2 is down", &w_post);
    acct_req(&w_put, "PUT", p_a2, "{\"message\":\"edit\"}", t2, NULL);
    acct_req(&w_del, "DELETE", p_a2, NULL, t2, NULL);
    get_tok(&r_list, l_u2, t2);
    get_tok(&r_uncached, p_b2, t2);
    get_tok(&r_cached, p_a2, t2);
    post(t1, u1, "db1 is fine", &o_post);
    get_tok(&o_list, l_u1, t1);
    get_tok(&o_one, p_a1, t1);
    get_tok(&f_top, "/tweets?limit=5", t1);
    get_tok(&f_needs_db2, "/tweets?limit=20", t1);  /* reaches b2, which Redis lost */
    long long dropped = redis_del("feed:ids", NULL);
    api_resp f_scatter;
    get_tok(&f_scatter, "/tweets?limit=5", t1);      /* the scatter-gather asks every server */
    int started = api_stack("start", "db2");
    api_resp back, feed_back, post_back;
    int tries;
    await_ok(p_b2, t2, &back, &tries);
    await_ok("/tweets?limit=20", t1, &feed_back, &tries);
    post(t2, u2, "db2 is back", &post_back);

    ck_assert_msg(stopped == 0 && started == 0, "could not stop and start db2");
    ck_assert_msg(evicted == 1, "DEL tweet:%s removed %lld keys (key layout changed?)", b2, evicted);
    ck_assert_msg(dropped == 1, "DEL feed:ids removed %lld keys", dropped);
    const api_resp *must_502[] = { &w_post, &w_put, &w_del, &r_list, &r_uncached, &f_needs_db2,
                                   &f_scatter };
    const char *what[] = { "POST as a db2 user", "PUT of a db2 tweet", "DELETE of a db2 tweet",
                           "GET /tweets/{db2 user}", "GET of a db2 tweet Redis lost",
                           "a feed page showing a tweet Redis lost", "the feed's scatter-gather" };
    for (int i = 0; i < API_COUNT(must_502); i++) {
        ck_assert_msg(is_roostd_502(must_502[i]), "%s with db2 down: %ld %s", what[i],
                      must_502[i]->status, must_502[i]->body);
        api_assert_error(must_502[i], 502, "upstream_unavailable");
    }
    ck_assert_msg(r_cached.status == 200 && strcmp(r_cached.body, a2_up.body) == 0,
                  "GET of a db2 tweet Redis holds, db2 down: %ld %s", r_cached.status, r_cached.body);
    ck_assert_msg(o_post.status == 201, "POST as a db1 user, db2 down: %ld %s", o_post.status,
                  o_post.body);
    ck_assert_msg(o_list.status == 200, "GET /tweets/{db1 user}, db2 down: %ld %s", o_list.status,
                  o_list.body);
    ck_assert_msg(o_one.status == 200, "GET of a db1 tweet, db2 down: %ld %s", o_one.status,
                  o_one.body);
    uint64_t ids[MAX_IDS];
    ck_assert_msg(ids_of(&f_top, ids, MAX_IDS) == 5, "feed page 1 (db1 tweets only), db2 down: "
                  "%ld %s", f_top.status, f_top.body);
    ck_assert_msg(back.status == 200, "GET of the db2 tweet after db2 came back: %ld %s",
                  back.status, back.body);
    int n = ids_of(&feed_back, ids, MAX_IDS), found = 0;
    for (int i = 0; i < n; i++)
        found += ids[i] == strtoull(b2, NULL, 10);
    ck_assert_msg(found == 1, "the db2 tweet is not in the feed after db2 came back: %s",
                  feed_back.body);
    ck_assert_msg(post_back.status == 201, "POST as the db2 user after: %ld %s", post_back.status,
                  post_back.body);
    api_resp *all[] = { &a2_up, &w_post, &w_put, &w_del, &r_list, &r_uncached, &r_cached, &o_post,
                        &o_list, &o_one, &f_top, &f_needs_db2, &f_scatter, &back, &feed_back,
                        &post_back };
    for (int i = 0; i < API_COUNT(all); i++)
        api_free(all[i]);
}
END_TEST

Suite *suite_tweet_faults(void)
{
    Suite *s = suite_create("tweet_faults");
    TCase *tc = tcase_create("redis");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, NULL, restore_all);
    tcase_add_test(tc, test_feed_with_redis_stopped);
    suite_add_tcase(s, tc);
    tc = tcase_create("db2");
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, NULL, restore_all);
    tcase_add_test(tc, test_shard_server_down);
    suite_add_tcase(s, tc);
    return s;
}
