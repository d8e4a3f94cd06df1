/* test_timeline.c -- GET /timeline (API.md §5) through nginx: the caller's
 * own tweets and those of the users they follow, newest first, pages and
 * cursors, private caching, 401 without a token; the hybrid fan-out (an
 * author at most at the test stack's threshold of 3 followers is fanned
 * out into followers' Redis timelines within 2 s, a celebrity above it is
 * merged in at read time and never fanned out); an unfollow takes the
 * author's tweets out of the next read; a deleted tweet is gone; a flushed
 * Redis is rebuilt from the shards with the same answer. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accounts.h"
#include "client.h"
#include "suites.h"

#define MAX_ITEMS 100

static void follow(const acct_user *who, const acct_user *whom, const char *method, long want)
{
    char path[64];
    api_resp r;
    snprintf(path, sizeof(path), "/followers/%s", whom->id);
    api_ok(acct_req(&r, method, path, NULL, who->tok, NULL));
    ck_assert_msg(r.status == want, "%s %s: %ld %s", method, path, r.status, r.body);
    api_free(&r);
}

static void post(const acct_user *u, const char *msg, char id[ACCT_IDLEN])
{
    char path[64], body[256];
    api_resp r;
    snprintf(path, sizeof(path), "/tweets/%s", u->id);
    snprintf(body, sizeof(body), "{\"message\":\"%s\"}", msg);
    api_ok(acct_req(&r, "POST", path, body, u->tok, NULL));
    ck_assert_msg(r.status == 201, "POST %s: %ld %s", path, r.status, r.body);
    acct_copy_str(id, ACCT_IDLEN, api_json_str(&r, "tweet.id"));
    api_free(&r);
}

static void delete_tweet(const acct_user *u, const char *id)
{
    char path[64];
    api_resp r;
    snprintf(path, sizeof(path), "/tweet/%s", id);
    api_ok(acct_req(&r, "DELETE", path, NULL, u->tok, NULL));
    ck_assert_msg(r.status == 200, "DELETE %s: %ld %s", path, r.status, r.body);
    api_free(&r);
}

/* One page of u's timeline: the item ids (and checks each item's shape). */
typedef struct {
    int  n;
    char ids[MAX_ITEMS][ACCT_IDLEN];
    char next_cursor[512];          /* "" when null */
} page_t;

static void timeline(const acct_user *u, const char *query, page_t *p)
{
    char path[640];
    api_resp r;
    snprintf(path, sizeof(path), "/timeline%s", query);
    api_ok(acct_req(&r, "GET", path, NULL, u->tok, NULL));
    ck_assert_msg(r.status == 200, "GET %s: %ld %s", path, r.status, r.body);
    const cJSON *items = api_json_at(&r, "items");
    ck_assert_msg(cJSON_IsArray(items), "no items: %s", r.body);
    memset(p, 0, sizeof(*p));
    const cJSON *t;
    cJSON_ArrayForEach(t, items) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(t, "id");
        ck_assert_msg(cJSON_IsString(id) && api_is_id(id->valuestring), "item id: %s", r.body);
        ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(t, "user_name"));
        ck_assert_int_lt(p->n, MAX_ITEMS);
        acct_copy_str(p->ids[p->n++], ACCT_IDLEN, id->valuestring);
    }
    const char *nc = api_json_str(&r, "next_cursor");
    if (nc != NULL)
        acct_copy_str(p->next_cursor, sizeof(p->next_cursor), nc);
    api_free(&r);
}

static int page_has(const page_t *p, const char *id)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->ids[i], id) == 0)
            return 1;
    return 0;
}

/* Asserts the page's ids are exactly want[0..n), in that order. */
static void expect_ids(const page_t *p, const char *const *want, int n)
{
    ck_assert_msg(p->n == n, "%d items, want %d", p->n, n);
    for (int i = 0; i < n; i++)
        ck_assert_msg(strcmp(p->ids[i], want[i]) == 0, "item %d: %s, want %s", i, p->ids[i],
                      want[i]);
}

/* Polls u's timeline until it shows id; the ms it took, or -1 after
 * `within` ms. */
static long wait_for(const acct_user *u, const char *id, long within)
{
    long t0 = api_now_ms();
    page_t p;
    for (;;) {
        timeline(u, "?limit=100", &p);
        if (page_has(&p, id))
            return api_now_ms() - t0;
        if (api_now_ms() - t0 > within)
            return -1;
        usleep(50 * 1000);
    }
}

/* 1 when u's Redis timeline holds tweet id by author (a fan-out put it). */
static int in_redis_timeline(const acct_user *u, const char *id, const acct_user *author)
{
    redisReply *rep = api_redis("ZSCORE %stl:%s %020llu:%020llu", api_redis_prefix(), u->id,
                                strtoull(id, NULL, 10), strtoull(author->id, NULL, 10));
    ck_assert_ptr_nonnull(rep);
    int in = rep->type == REDIS_REPLY_STRING;
    freeReplyObject(rep);
    return in;
}

/* ------------------------------------------------------------ the rows */

START_TEST(test_needs_a_token)
{
    api_resp r;
    char h[128];
    api_ok(api_get(&r, "/timeline"));
    ck_assert_int_eq(r.status, 401);
    ck_assert_str_eq(api_json_str(&r, "error.code"), "unauthorized");
    ck_assert_ptr_nonnull(api_header(&r, "WWW-Authenticate", h, sizeof(h)));
    api_free(&r);
}
END_TEST

START_TEST(test_own_and_followed_newest_first)
{
    acct_user me, bob, carol;
    char a1[ACCT_IDLEN], b1[ACCT_IDLEN], c1[ACCT_IDLEN], a2[ACCT_IDLEN];
    acct_user_new(&me, "tlme");
    acct_user_new(&bob, "tlbob");
    acct_user_new(&carol, "tlcarol");
    follow(&me, &bob, "POST", 201);
    post(&me, "mine first", a1);
    post(&bob, "bob's", b1);
    post(&carol, "carol is not followed", c1);
    post(&me, "mine second", a2);
    /* The first read builds the timeline from the shards: all there at once. */
    page_t p;
    timeline(&me, "", &p);
    const char *want[] = { a2, b1, a1 };
    expect_ids(&p, want, 3);
    ck_assert_str_eq(p.next_cursor, "");

    /* Private, with an ETag that answers 304. */
    api_resp r, again;
    char cc[64], etag[128], inm[160];
    api_ok(acct_req(&r, "GET", "/timeline", NULL, me.tok, NULL));
    ck_assert_msg(api_header(&r, "Cache-Control", cc, sizeof(cc)) &&
                  strcmp(cc, "private, no-cache") == 0, "Cache-Control: %s", cc);
    ck_assert_msg(api_header(&r, "ETag", etag, sizeof(etag)) != NULL, "no ETag");
    snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
    const char *extra[] = { inm, NULL };
    api_ok(acct_req(&again, "GET", "/timeline", NULL, me.tok, extra));
    ck_assert_int_eq(again.status, 304);
    /* Bob's timeline is his own: not mine, not carol's. */
    timeline(&bob, "", &p);
    const char *bobs[] = { b1 };
    expect_ids(&p, bobs, 1);
    api_free(&r);
    api_free(&again);
}
END_TEST

START_TEST(test_pages_and_cursors)
{
    acct_user me, other;
    char ids[5][ACCT_IDLEN];
    acct_user_new(&me, "tlpages");
    acct_user_new(&other, "tlpages");
    for (int i = 0; i < 5; i++)
        post(&me, "paged", ids[i]);
    page_t p;
    timeline(&me, "?limit=2&page=1", &p);
    const char *p1[] = { ids[4], ids[3] };
    expect_ids(&p, p1, 2);
    timeline(&me, "?limit=2&page=3", &p);
    const char *p3[] = { ids[0] };
    expect_ids(&p, p3, 1);
    timeline(&me, "?limit=2&page=4", &p);
    ck_assert_int_eq(p.n, 0);

    /* A cursor walk sees every tweet once, newest first, and ends with null. */
    char query[600];
    int seen = 0;
    timeline(&me, "?limit=2", &p);
    for (;;) {
        for (int i = 0; i < p.n; i++, seen++)
            ck_assert_str_eq(p.ids[i], ids[4 - seen]);
        if (p.next_cursor[0] == '\0')
            break;
        snprintf(query, sizeof(query), "?limit=2&cursor=%s", p.next_cursor);
        timeline(&me, query, &p);
    }
    ck_assert_int_eq(seen, 5);

    /* A cursor is bound to the caller's timeline. */
    api_resp r;
    timeline(&me, "?limit=2", &p);
    snprintf(query, sizeof(query), "/timeline?limit=2&cursor=%s", p.next_cursor);
    api_ok(acct_req(&r, "GET", query, NULL, other.tok, NULL));
    ck_assert_msg(r.status == 422, "another user's cursor: %ld %s", r.status, r.body);
    api_free(&r);
    api_ok(acct_req(&r, "GET", "/timeline?limit=0", NULL, me.tok, NULL));
    ck_assert_int_eq(r.status, 422);
    api_free(&r);
}
END_TEST

/* ------------------------------------------------------------ fan-out */

START_TEST(test_fanout_within_two_seconds)
{
    acct_user reader, author;
    char id[ACCT_IDLEN], warm[ACCT_IDLEN];
    acct_user_new(&reader, "tlfan");
    acct_user_new(&author, "tlfan");
    follow(&reader, &author, "POST", 201);
    post(&author, "before the read", warm);
    page_t p;
    timeline(&reader, "", &p);                /* builds it: now fan-out keeps it */
    ck_assert(page_has(&p, warm));
    post(&author, "fanned out", id);
    long took = wait_for(&reader, id, 2000);
    ck_assert_msg(took >= 0, "the post did not reach the follower within 2 s");
    /* It came by fan-out: the entry is in the reader's Redis timeline. */
    ck_assert_msg(in_redis_timeline(&reader, id, &author), "not fanned out into Redis");
}
END_TEST

/* A timeline being rebuilt (its lock held, the key not written yet) still
 * gets the posts fanned out meanwhile: the rebuild read the shards before
 * the post, and its store merges with what the fan-out wrote. Before, the
 * fan-out skipped a timeline whose key did not exist, and the rebuilt list
 * (complete, with its marker) missed the post for a week. */
START_TEST(test_fanout_reaches_a_timeline_being_rebuilt)
{
    acct_user reader, author;
    char id[ACCT_IDLEN];
    acct_user_new(&reader, "tlreb");
    acct_user_new(&author, "tlreb");
    follow(&reader, &author, "POST", 201);
    redisReply *r = api_redis("DEL %stl:%s", api_redis_prefix(), reader.id);
    ck_assert_ptr_nonnull(r);
    freeReplyObject(r);
    r = api_redis("SET %stl:%s:lock test EX 10", api_redis_prefix(), reader.id);
    ck_assert_ptr_nonnull(r);
    freeReplyObject(r);
    post(&author, "during a rebuild", id);
    long t0 = api_now_ms();
    while (!in_redis_timeline(&reader, id, &author) && api_now_ms() - t0 < 2000)
        usleep(50 * 1000);
    r = api_redis("DEL %stl:%s:lock", api_redis_prefix(), reader.id);
    ck_assert_ptr_nonnull(r);
    freeReplyObject(r);
    ck_assert_msg(in_redis_timeline(&reader, id, &author),
                  "a post made during a rebuild never reached the timeline");
}
END_TEST

START_TEST(test_celebrity_merged_at_read_time)
{
    acct_user celeb, fans[4];
    char id[ACCT_IDLEN];
    acct_user_new(&celeb, "tlceleb");
    for (int i = 0; i < 4; i++) {         /* 4 followers: above the test stack's 3 */
        acct_user_new(&fans[i], "tlfan");
        follow(&fans[i], &celeb, "POST", 201);
    }
    page_t p;
    timeline(&fans[0], "", &p);           /* built, so a fan-out would land there */
    post(&celeb, "to my many fans", id);
    timeline(&fans[0], "", &p);
    ck_assert_msg(page_has(&p, id), "the celebrity's post is not on a follower's timeline");
    timeline(&fans[3], "", &p);
    ck_assert_msg(page_has(&p, id), "the celebrity's post is not on another follower's");
    usleep(500 * 1000);                   /* well past a fan-out tick */
    ck_assert_msg(!in_redis_timeline(&fans[0], id, &celeb),
                  "a celebrity's post was fanned out");
}
END_TEST

START_TEST(test_unfollow_removes_items)
{
    acct_user reader, author;
    char before[ACCT_IDLEN], after[ACCT_IDLEN], mine[ACCT_IDLEN];
    acct_user_new(&reader, "tlunf");
    acct_user_new(&author, "tlunf");
    follow(&reader, &author, "POST", 201);
    post(&reader, "my own", mine);
    page_t p;
    timeline(&reader, "", &p);
    post(&author, "soon unfollowed", before);
    ck_assert(wait_for(&reader, before, 2000) >= 0);
    follow(&reader, &author, "DELETE", 200);
    timeline(&reader, "", &p);
    const char *only_mine[] = { mine };
    expect_ids(&p, only_mine, 1);
    post(&author, "after the unfollow", after);
    usleep(400 * 1000);
    timeline(&reader, "", &p);
    expect_ids(&p, only_mine, 1);
    /* Following again takes the author's tweets back in (rebuilt). */
    follow(&reader, &author, "POST", 201);
    timeline(&reader, "", &p);
    const char *all[] = { after, before, mine };
    expect_ids(&p, all, 3);
}
END_TEST

START_TEST(test_deleted_tweet_gone)
{
    acct_user reader, author;
    char t1[ACCT_IDLEN], t2[ACCT_IDLEN];
    acct_user_new(&reader, "tldel");
    acct_user_new(&author, "tldel");
    follow(&reader, &author, "POST", 201);
    page_t p;
    timeline(&reader, "", &p);
    post(&author, "stays", t1);
    post(&author, "goes", t2);
    ck_assert(wait_for(&reader, t2, 2000) >= 0);
    delete_tweet(&author, t2);
    timeline(&reader, "", &p);
    const char *want[] = { t1 };
    expect_ids(&p, want, 1);
    timeline(&author, "", &p);
    expect_ids(&p, want, 1);
}
END_TEST

START_TEST(test_rebuilt_after_flush)
{
    acct_user reader, a, b, celeb, fans[3];
    char ids[6][ACCT_IDLEN];
    acct_user_new(&reader, "tlflush");
    acct_user_new(&a, "tlflush");
    acct_user_new(&b, "tlflush");
    acct_user_new(&celeb, "tlflush");
    follow(&reader, &a, "POST", 201);
    follow(&reader, &b, "POST", 201);
    follow(&reader, &celeb, "POST", 201);
    for (int i = 0; i < 3; i++) {
        acct_user_new(&fans[i], "tlflush");
        follow(&fans[i], &celeb, "POST", 201);
    }
    page_t before, after;
    timeline(&reader, "", &before);
    post(&a, "a one", ids[0]);
    post(&celeb, "celeb one", ids[1]);
    post(&b, "b one", ids[2]);
    post(&reader, "mine", ids[3]);
    post(&a, "a two", ids[4]);
    ck_assert(wait_for(&reader, ids[4], 2000) >= 0);
    timeline(&reader, "", &before);
    const char *want[] = { ids[4], ids[3], ids[2], ids[1], ids[0] };
    expect_ids(&before, want, 5);

    redisReply *rep = api_redis("FLUSHDB");
    ck_assert_msg(rep && rep->type == REDIS_REPLY_STATUS, "FLUSHDB failed");
    freeReplyObject(rep);
    timeline(&reader, "", &after);
    expect_ids(&after, want, 5);
    /* Rebuilt into Redis (with its sentinel), and the lock let go. */
    rep = api_redis("ZCARD %stl:%s", api_redis_prefix(), reader.id);
    ck_assert_msg(rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 4,
                  "the rebuilt timeline holds %lld members, want 3 entries + the sentinel",
                  rep ? rep->integer : -1);
    freeReplyObject(rep);
    rep = api_redis("EXISTS %stl:%s:lock", api_redis_prefix(), reader.id);
    ck_assert_msg(rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 0, "lock left");
    freeReplyObject(rep);
    /* And fan-out goes on into the rebuilt one. */
    char later[ACCT_IDLEN];
    post(&b, "b after the flush", later);
    ck_assert(wait_for(&reader, later, 2000) >= 0);
    ck_assert(in_redis_timeline(&reader, later, &b));
}
END_TEST

START_TEST(test_metrics_show_the_queue)
{
    api_resp r;
    ck_assert_int_eq(api_request(&r, "GET", "/metrics", NULL, 0, NULL), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strstr(r.body, "\nroost_fanout_queue_length ") != NULL, "no queue length");
    ck_assert_msg(strstr(r.body, "\nroost_fanout_queue_age_seconds ") != NULL, "no queue age");
    api_free(&r);
}
END_TEST

Suite *suite_timeline(void)
{
    Suite *s = suite_create("timeline");
    TCase *tc = api_tcase(s, "rows");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_needs_a_token);
    tcase_add_test(tc, test_own_and_followed_newest_first);
    tcase_add_test(tc, test_pages_and_cursors);
    tc = api_tcase(s, "fan-out");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_fanout_within_two_seconds);
    tcase_add_test(tc, test_fanout_reaches_a_timeline_being_rebuilt);
    tcase_add_test(tc, test_celebrity_merged_at_read_time);
    tcase_add_test(tc, test_unfollow_removes_items);
    tcase_add_test(tc, test_deleted_tweet_gone);
    tcase_add_test(tc, test_metrics_show_the_queue);
    tc = api_tcase(s, "redis flushed");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_rebuilt_after_flush);
    return s;
}
