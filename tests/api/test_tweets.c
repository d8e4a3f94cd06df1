/* test_tweets.c -- tweets and the global feed (API.md §5) through nginx, on
 * the test stack's MariaDB and Redis: every row of the table, the message
 * rules, who may post, edit and delete, tweets_count, user_name after a
 * rename, keyset pages of a user's tweets and of the feed (ids strictly
 * decreasing, cursors bound to their list), deletes gone from every page,
 * cursor walks while four clients post, 50 concurrent posts, and the feed
 * after Redis is flushed (rebuilt once). The faults (Redis or a shard
 * server stopped) are in test_tweet_faults.c.
 *
 * Reads that must see a write at once carry the writer's token (nginx's
 * micro-cache is bypassed for them, API.md §1.5); anonymous reads that
 * must reach roostd send a unique Accept (the cache key holds it). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/ids.h"
#include "accounts.h"
#include "suites.h"

#define MAX_IDS 512

static char adm_name[ACCT_NAMELEN], adm_id[ACCT_IDLEN], adm_tok[ACCT_TOKLEN];

static void admin_setup(void)
{
    acct_make_admin("twa", adm_name, adm_id, adm_tok);
}

/* ------------------------------------------------------------ helpers */

static uint64_t id_value(const char *s)
{
    ck_assert_msg(api_is_id(s), "not an id: %s", s ? s : "(null)");
    return strtoull(s, NULL, 10);
}

/* {"message": msg} with msg escaped by cJSON; the caller frees it. */
static char *message_body(const char *msg)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "message", msg);
    char *b = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    ck_assert_ptr_nonnull(b);
    return b;
}

static int post_status(const char *tok, const char *uid, const char *json, api_resp *r)
{
    char path[64];
    snprintf(path, sizeof(path), "/tweets/%s", uid);
    return acct_req(r, "POST", path, json, tok, NULL);
}

/* Posts msg as uid (201 asserted); id gets the new tweet's id. */
static void post_tweet(const char *tok, const char *uid, const char *msg, char id[ACCT_IDLEN])
{
    char *body = message_body(msg);
    api_resp r;
    api_ok(post_status(tok, uid, body, &r));
    ck_assert_msg(r.status == 201, "POST /tweets/%s: %ld %s", uid, r.status, r.body);
    if (id != NULL)
        acct_copy_str(id, ACCT_IDLEN, api_json_str(&r, "tweet.id"));
    api_free(&r);
    free(body);
}

/* GET with a token: read-your-writes, never from nginx's cache. */
static void get_auth(api_resp *r, const char *path, const char *tok)
{
    api_ok(acct_req(r, "GET", path, NULL, tok, NULL));
}

/* Asserts the Tweet object's shape. */
static void assert_tweet_shape(const cJSON *t)
{
    static const char *const keys[] = { "id", "user_id", "user_name", "message",
                                        "created_at", "updated_at" };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, keys[i]);
        ck_assert_msg(cJSON_IsString(v), "tweet field %s missing or not a string", keys[i]);
    }
    ck_assert(api_is_id(cJSON_GetObjectItemCaseSensitive(t, "id")->valuestring));
    ck_assert(api_is_id(cJSON_GetObjectItemCaseSensitive(t, "user_id")->valuestring));
    ck_assert(api_is_timestamp(cJSON_GetObjectItemCaseSensitive(t, "created_at")->valuestring));
    ck_assert(api_is_timestamp(cJSON_GetObjectItemCaseSensitive(t, "updated_at")->valuestring));
    ck_assert(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(t, "edited")));
}

/* The ids of a 200 list answer, asserting each item's shape and that the
 * ids strictly decrease. Returns how many. */
static int page_ids(const api_resp *r, uint64_t *ids, int max)
{
    ck_assert_msg(r->status == 200, "list: %ld %s", r->status, r->body);
    const cJSON *items = api_json_at(r, "items"), *t;
    ck_assert_msg(cJSON_IsArray(items), "no items: %s", r->body);
    int n = 0, seen = 0;
    uint64_t prev = 0;
    cJSON_ArrayForEach(t, items) {
        assert_tweet_shape(t);
        uint64_t id = id_value(cJSON_GetObjectItemCaseSensitive(t, "id")->valuestring);
        ck_assert_msg(seen++ == 0 || id < prev, "ids not strictly decreasing: %s", r->body);
        prev = id;
        if (n < max)
            ids[n++] = id;                  /* the rest is checked, not kept */
    }
    return n;
}

/* next_cursor of a list answer into cur ("" when null). */
static void next_cursor(const api_resp *r, char *cur, size_t len)
{
    const cJSON *c = api_json_at(r, "next_cursor");
    ck_assert_msg(c != NULL, "no next_cursor: %s", r->body);
    cur[0] = '\0';
    if (cJSON_IsString(c))
        acct_copy_str(cur, len, c->valuestring);
    else
        ck_assert_msg(cJSON_IsNull(c), "next_cursor neither string nor null: %s", r->body);
}

/* Walks `base` (e.g. "/tweets/123?limit=3") by cursor to its end, at
 * most max ids, with a token; ids strictly decreasing across pages. */
static int walk(const char *base, const char *tok, uint64_t *ids, int max)
{
    char path[256], cur[128] = "";
    int n = 0;
    for (int pages = 0; pages < 200; pages++) {
        api_resp r;
        snprintf(path, sizeof(path), "%s%s%s", base, cur[0] ? "&cursor=" : "", cur);
        get_auth(&r, path, tok);
        int k = page_ids(&r, ids + n, max - n);
        ck_assert_msg(n == 0 || k == 0 || ids[n] < ids[n - 1], "page %d overlaps the last: %s",
                      pages, r.body);
        n += k;
        next_cursor(&r, cur, sizeof(cur));
        api_free(&r);
        if (cur[0] == '\0' || n >= max)
            break;
    }
    return n;
}

static int count_of(const uint64_t *ids, int n, uint64_t id)
{
    int c = 0;
    for (int i = 0; i < n; i++)
        c += ids[i] == id;
    return c;
}

/* tweets_count of a user, fresh from roostd. */
static long tweets_count(const char *uid)
{
    char path[64];
    api_resp r;
    snprintf(path, sizeof(path), "/users/%s", uid);
    api_ok(api_get_fresh(&r, path));
    ck_assert_msg(r.status == 200, "GET %s: %ld", path, r.status);
    const cJSON *n = api_json_at(&r, "user.tweets_count");
    ck_assert(cJSON_IsNumber(n));
    long v = (long)n->valuedouble;
    api_free(&r);
    return v;
}

/* ------------------------------------------------------------ create, get */

START_TEST(test_post_and_get)
{
    char name[ACCT_NAMELEN], uid[ACCT_IDLEN], tok[ACCT_TOKLEN], path[64], loc[128], cc[64];
    acct_new_user("tw", name, uid, tok);
    api_resp r;
    api_ok(post_status(tok, uid, "{\"message\":\"hello, world\"}", &r));
    ck_assert_msg(r.status == 201, "POST: %ld %s", r.status, r.body);
    const char *id = api_json_str(&r, "tweet.id");
    assert_tweet_shape(api_json_at(&r, "tweet"));
    ck_assert_str_eq(api_json_str(&r, "tweet.user_id"), uid);
    ck_assert_str_eq(api_json_str(&r, "tweet.user_name"), name);
    ck_assert_str_eq(api_json_str(&r, "tweet.message"), "hello, world");
    ck_assert_str_eq(api_json_str(&r, "tweet.created_at"), api_json_str(&r, "tweet.updated_at"));
    ck_assert(cJSON_IsFalse(api_json_at(&r, "tweet.edited")));
    snprintf(path, sizeof(path), "/tweet/%s", id);
    ck_assert_msg(api_header(&r, "Location", loc, sizeof(loc)) && strcmp(loc, path) == 0,
                  "Location %s, want %s", loc, path);
    /* the id carries the author's logical shard */
    ck_assert_uint_eq(rst_id_shard(id_value(id)), rst_id_shard(id_value(uid)));
    char *created = strdup(r.body);

    api_resp g, anon;
    get_auth(&g, path, tok);
    ck_assert_msg(g.status == 200, "GET %s: %ld %s", path, g.status, g.body);
    ck_assert_msg(strcmp(g.body, created) == 0, "GET differs from the POST's answer:\n%s\n%s",
                  g.body, created);
    ck_assert_msg(api_header(&g, "Cache-Control", cc, sizeof(cc)) &&
                  strcmp(cc, "public, max-age=1") == 0, "Cache-Control: %s", cc);
    ck_assert_msg(api_header(&g, "ETag", loc, sizeof(loc)) != NULL, "no ETag");
    api_ok(api_get_fresh(&anon, path));
    ck_assert_msg(anon.status == 200 && strcmp(anon.body, created) == 0, "anonymous GET: %s",
                  anon.body);
    ck_assert_int_eq(tweets_count(uid), 1);
    api_free(&r);
    api_free(&g);
    api_free(&anon);
    free(created);
}
END_TEST

START_TEST(test_get_missing_tweet)
{
    api_resp r;
    api_ok(api_get_fresh(&r, "/tweet/1"));
    api_assert_error(&r, 404, "not_found");
    api_free(&r);
    api_ok(api_get_fresh(&r, "/tweet/abc"));
    api_assert_error(&r, 404, "not_found");
    api_free(&r);
    api_ok(api_get_fresh(&r, "/tweets/1"));              /* no such user */
    api_assert_error(&r, 404, "not_found");
    api_free(&r);
    api_ok(api_request(&r, "PATCH", "/tweet/1", NULL, 0, NULL));
    api_assert_error(&r, 405, "method_not_allowed");
    char allow[64];
    ck_assert_msg(api_header(&r, "Allow", allow, sizeof(allow)) && strstr(allow, "DELETE") &&
                  strstr(allow, "PUT") && strstr(allow, "GET"), "Allow: %s", allow);
    api_free(&r);
    api_ok(api_request(&r, "DELETE", "/tweets", NULL, 0, NULL));
    api_assert_error(&r, 405, "method_not_allowed");
    api_free(&r);
    api_ok(api_request(&r, "HEAD", "/tweets?limit=1", NULL, 0, NULL));
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, 0);
    api_free(&r);
}
END_TEST

START_TEST(test_who_may_post)
{
    char n1[ACCT_NAMELEN], u1[ACCT_IDLEN], t1[ACCT_TOKLEN];
    char n2[ACCT_NAMELEN], u2[ACCT_IDLEN], t2[ACCT_TOKLEN];
    acct_new_user("twp", n1, u1, t1);
    acct_new_user("twp", n2, u2, t2);
    const char *body = "{\"message\":\"mine\"}";
    api_resp r;
    api_ok(post_status(NULL, u1, body, &r));
    acct_assert_401(&r, "unauthorized");
    api_free(&r);
    api_ok(post_status(t2, u1, body, &r));                /* someone else's path */
    api_assert_error(&r, 403, "forbidden");
    api_free(&r);
    ck_assert_msg(adm_tok[0], "no admin (fixture failed)");
    api_ok(post_status(adm_tok, u1, body, &r));           /* an admin posts only as itself */
    api_assert_error(&r, 403, "forbidden");
    api_free(&r);
    api_ok(post_status(t2, u1, "{\"message\":\"\"}", &r));  /* 403 before 422 */
    api_assert_error(&r, 403, "forbidden");
    api_free(&r);
    api_ok(post_status(adm_tok, adm_id, body, &r));
    ck_assert_msg(r.status == 201, "admin posting as itself: %ld %s", r.status, r.body);
    ck_assert_str_eq(api_json_str(&r, "tweet.user_name"), adm_name);
    api_free(&r);
    ck_assert_int_eq(tweets_count(u1), 0);
}
END_TEST

/* Every rule on the body and the message, each answered before anything
 * is written. */
START_TEST(test_message_rules)
{
    char name[ACCT_NAMELEN], uid[ACCT_IDLEN], tok[ACCT_TOKLEN], path[64];
    acct_new_user("twm", name, uid, tok);
    snprintf(path, sizeof(path), "/tweets/%s", uid);
    static const struct { const char *body; long status; const char *code; } bad[] = {
        { "{\"message\":\"\"}", 422, "validation_failed" },
        { "{\"message\":123}", 422, "validation_failed" },
        { "{\"message\":null}", 422, "validation_failed" },
        { "{\"message\":\"a\\u0001b\"}", 422, "validation_failed" },
        { "{\"message\":\"a\\u007fb\"}", 422, "validation_failed" },
        { "{\"message\":\"a\\rb\"}", 422, "validation_failed" },
        { "{\"message\":\"a\\u0000b\"}", 422, "validation_failed" },
        { "{\"msg\":\"x\"}", 422, "validation_failed" },
        { "{\"message\":\"\\ud800\"}", 400, "malformed_json" },
        { "{\"message\":\"\xff\"}", 400, "malformed_json" },
        { "{\"message\":", 400, "malformed_json" },
        { "[\"message\"]", 422, "invalid_body" },
    };
    for (int i = 0; i < API_COUNT(bad); i++) {
        api_resp r;
        api_ok(post_status(tok, uid, bad[i].body, &r));
        api_assert_error(&r, (int)bad[i].status, bad[i].code);
        if (bad[i].status == 422 && strcmp(bad[i].code, "validation_failed") == 0)
            acct_assert_fields(&r, ACCT_FIELDS("message"));
        api_free(&r);
    }
    api_resp r;
    api_ok(acct_req(&r, "POST", path, "", tok, NULL));          /* empty body */
    api_assert_error(&r, 422, "invalid_body");
    api_free(&r);
    const char *h[] = { "Content-Type: text/plain", NULL };
    api_ok(acct_req(&r, "POST", path, "{\"message\":\"x\"}", tok, h));
    api_assert_error(&r, 415, "unsupported_media_type");
    api_free(&r);

    /* 280 code points (560 bytes of é) pass, 281 do not */
    char msg[1200] = "";
    for (int i = 0; i < 280; i++)
        strcat(msg, "\xc3\xa9");
    char id[ACCT_IDLEN];
    post_tweet(tok, uid, msg, id);
    strcat(msg, "x");
    char *body = message_body(msg);
    api_ok(post_status(tok, uid, body, &r));
    api_assert_error(&r, 422, "validation_failed");
    acct_assert_fields(&r, ACCT_FIELDS("message"));
    api_free(&r);
    free(body);
    /* \n and \t are allowed, and an emoji is one code point */
    post_tweet(tok, uid, "line one\nline\ttwo \xf0\x9f\x90\xa6", id);
    snprintf(path, sizeof(path), "/tweet/%s", id);
    get_auth(&r, path, tok);
    ck_assert_str_eq(api_json_str(&r, "tweet.message"), "line one\nline\ttwo \xf0\x9f\x90\xa6");
    api_free(&r);
    ck_assert_int_eq(tweets_count(uid), 2);
}
END_TEST

START_TEST(test_idempotent_post)
{
    char name[ACCT_NAMELEN], uid[ACCT_IDLEN], tok[ACCT_TOKLEN], path[64], key[96], rp[16];
    acct_new_user("twi", name, uid, tok);
    snprintf(path, sizeof(path), "/tweets/%s", uid);
    snprintf(key, sizeof(key), "Idempotency-Key: tweet-%s", name);
    const char *h[] = { key, NULL };
    api_resp a, b, c;
    api_ok(acct_req(&a, "POST", path, "{\"message\":\"once\"}", tok, h));
    api_ok(acct_req(&b, "POST", path, "{\"message\":\"once\"}", tok, h));
    api_ok(acct_req(&c, "POST", path, "{\"message\":\"twice\"}", tok, h));
    ck_assert_msg(a.status == 201, "first: %ld %s", a.status, a.body);
    ck_assert_msg(b.status == 201 && strcmp(a.body, b.body) == 0, "replay: %ld %s", b.status, b.body);
    ck_assert_msg(api_header(&b, "Idempotent-Replayed", rp, sizeof(rp)) && strcmp(rp, "true") == 0,
                  "no Idempotent-Replayed: true");
    api_assert_error(&c, 422, "idempotency_key_reused");
    ck_assert_int_eq(tweets_count(uid), 1);
    api_free(&a);
    api_free(&b);
    api_free(&c);
}
END_TEST

/* API.md 1.6: a repeat while the first is still running gets 409. The
 * first post sleeps 3.5 s with its key claimed (the slow-request
 * failpoint); the repeat comes during it. Found by ./dev chaos: every
 * claim read as a corrupt record, was dropped, and the repeat ran again
 * -- a worker killed mid-request then got its cart add counted twice. */
START_TEST(test_idempotent_repeat_while_running)
{
    char name[ACCT_NAMELEN], uid[ACCT_IDLEN], tok[ACCT_TOKLEN], path[64], key[96];
    acct_new_user("twr", name, uid, tok);
    snprintf(path, sizeof(path), "/tweets/%s", uid);
    snprintf(key, sizeof(key), "Idempotency-Key: slow-%s", name);
    const char *slow[] = { key, "X-Roost-Failpoint: slow-request", NULL };
    const char *plain[] = { key, NULL };
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t kid = fork();
    ck_assert_int_ge(kid, 0);
    if (kid == 0) {
        api_resp a;
        long st = acct_req(&a, "POST", path, "{\"message\":\"slow one\"}", tok, slow) == 0 ? a.status : -1;
        if (write(fds[1], &st, sizeof(st)) != (ssize_t)sizeof(st))
            _exit(1);
        _exit(0);
    }
    close(fds[1]);
    usleep(1000 * 1000);                  /* the first is asleep with its key claimed */
    api_resp b, c;
    api_ok(acct_req(&b, "POST", path, "{\"message\":\"slow one\"}", tok, plain));
    long first = -1;
    ck_assert_int_eq(read(fds[0], &first, sizeof(first)), (ssize_t)sizeof(first));
    close(fds[0]);
    waitpid(kid, NULL, 0);
    api_ok(acct_req(&c, "POST", path, "{\"message\":\"slow one\"}", tok, plain));
    ck_assert_int_eq(first, 201);
    api_assert_error(&b, 409, "conflict");
    ck_assert_msg(c.status == 201, "after the first: %ld %s", c.status, c.body);
    char rp[16];
    ck_assert(api_header(&c, "Idempotent-Replayed", rp, sizeof(rp)) && strcmp(rp, "true") == 0);
    ck_assert_int_eq(tweets_count(uid), 1);
    api_free(&b);
    api_free(&c);
}
END_TEST

/* A post whose commit answer is lost while its server cannot be reached
 * (the outcome-unknowable failpoint) answers 502 after asking for a while,
 * and its Idempotency-Key stays claimed: the retry gets 409, never a second
 * copy of the tweet that did commit. Found by ./dev chaos (MariaDB killed
 * under a commit: the retry posted it again). */
START_TEST(test_unknown_outcome_keeps_the_key_claimed)
{
    char name[ACCT_NAMELEN], uid[ACCT_IDLEN], tok[ACCT_TOKLEN], path[64], key[96];
    acct_new_user("twu", name, uid, tok);
    snprintf(path, sizeof(path), "/tweets/%s", uid);
    snprintf(key, sizeof(key), "Idempotency-Key: unknown-%s", name);
    const char *lost[] = { key, "X-Roost-Failpoint: outcome-unknowable", NULL };
    const char *plain[] = { key, NULL };
    api_resp a, b;
    api_ok(acct_req(&a, "POST", path, "{\"message\":\"maybe\"}", tok, lost));
    api_ok(acct_req(&b, "POST", path, "{\"message\":\"maybe\"}", tok, plain));
    ck_assert_msg(a.status == 502, "first: %ld %s", a.status, a.body);
    api_assert_error(&b, 409, "conflict");
    ck_assert_int_eq(tweets_count(uid), 1);       /* it did commit, once */
    api_free(&a);
    api_free(&b);
}
END_TEST

/* ------------------------------------------------------------ edit, delete */

START_TEST(test_edit)
{
    char n1[ACCT_NAMELEN], u1[ACCT_IDLEN], t1[ACCT_TOKLEN];
    char n2[ACCT_NAMELEN], u2[ACCT_IDLEN], t2[ACCT_TOKLEN], id[ACCT_IDLEN], path[64];
    acct_new_user("twe", n1, u1, t1);
    acct_new_user("twe", n2, u2, t2);
    post_tweet(t1, u1, "first draft", id);
    snprintf(path, sizeof(path), "/tweet/%s", id);
    api_resp before;
    get_auth(&before, path, t1);
    char *created = strdup(api_json_str(&before, "tweet.created_at"));
    char *updated = strdup(api_json_str(&before, "tweet.updated_at"));

    api_resp r;
    api_ok(acct_req(&r, "PUT", path, "{\"message\":\"x\"}", NULL, NULL));
    acct_assert_401(&r, "unauthorized");
    api_free(&r);
    api_ok(acct_req(&r, "PUT", path, "{\"message\":\"not yours\"}", t2, NULL));
    api_assert_error(&r, 403, "forbidden");
    api_free(&r);
    api_ok(acct_req(&r, "PUT", path, "{\"message\":\"\"}", t1, NULL));
    api_assert_error(&r, 422, "validation_failed");
    acct_assert_fields(&r, ACCT_FIELDS("message"));
    api_free(&r);
    api_ok(acct_req(&r, "PUT", path, "{}", t1, NULL));
    api_assert_error(&r, 422, "validation_failed");
    api_free(&r);
    api_ok(acct_req(&r, "PUT", "/tweet/1", "{\"message\":\"\"}", t1, NULL));  /* 404 before 422 */
    api_assert_error(&r, 404, "not_found");
    api_free(&r);

    api_ok(acct_req(&r, "PUT", path, "{\"message\":\"second draft\"}", t1, NULL));
    ck_assert_msg(r.status == 200, "PUT: %ld %s", r.status, r.body);
    ck_assert_str_eq(api_json_str(&r, "tweet.message"), "second draft");
    ck_assert(cJSON_IsTrue(api_json_at(&r, "tweet.edited")));
    ck_assert_str_eq(api_json_str(&r, "tweet.created_at"), created);
    ck_assert_msg(strcmp(api_json_str(&r, "tweet.updated_at"), updated) > 0,
                  "updated_at did not move: %s", r.body);
    ck_assert_str_eq(api_json_str(&r, "tweet.id"), id);
    char *edited = strdup(r.body);
    api_free(&r);
    get_auth(&r, path, t1);                               /* at once for the author */
    ck_assert_str_eq(r.body, edited);
    api_free(&r);
    api_ok(api_get_fresh(&r, path));
    ck_assert_str_eq(r.body, edited);
    api_free(&r);
    /* an admin may edit anyone's */
    ck_assert_msg(adm_tok[0], "no admin (fixture failed)");
    api_ok(acct_req(&r, "PUT", path, "{\"message\":\"moderated\"}", adm_tok, NULL));
    ck_assert_msg(r.status == 200, "admin PUT: %ld %s", r.status, r.body);
    ck_assert_str_eq(api_json_str(&r, "tweet.user_name"), n1);
    api_free(&r);
    /* the edit shows in the lists */
    char list[96];
    snprintf(list, sizeof(list), "/tweets/%s?limit=5", u1);
    get_auth(&r, list, t1);
    const cJSON *item = cJSON_GetArrayItem(api_json_at(&r, "items"), 0);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(item, "message")->valuestring, "moderated");
    api_free(&r);
    ck_assert_int_eq(tweets_count(u1), 1);
    api_free(&before);
    free(created);
    free(updated);
    free(edited);
}
END_TEST

/* The tweet is gone from its URL, the user's list and the feed, every
 * kind of page; tweets_count follows. */
START_TEST(test_delete)
{
    char n1[ACCT_NAMELEN], u1[ACCT_IDLEN], t1[ACCT_TOKLEN];
    char n2[ACCT_NAMELEN], u2[ACCT_IDLEN], t2[ACCT_TOKLEN];
    char keep[ACCT_IDLEN], gone[ACCT_IDLEN], other[ACCT_IDLEN], path[64], list[96];
    acct_new_user("twd", n1, u1, t1);
    acct_new_user("twd", n2, u2, t2);
    post_tweet(t1, u1, "keep me", keep);
    post_tweet(t1, u1, "delete me", gone);
    post_tweet(t2, u2, "the admin deletes me", other);
    ck_assert_int_eq(tweets_count(u1), 2);
    snprintf(path, sizeof(path), "/tweet/%s", gone);
    api_resp before, r;
    get_auth(&before, path, t1);

    api_ok(acct_req(&r, "DELETE", path, NULL, NULL, NULL));
    acct_assert_401(&r, "unauthorized");
    api_free(&r);
    api_ok(acct_req(&r, "DELETE", path, NULL, t2, NULL));
    api_assert_error(&r, 403, "forbidden");
    api_free(&r);
    api_ok(acct_req(&r, "DELETE", path, NULL, t1, NULL));
    ck_assert_msg(r.status == 200, "DELETE: %ld %s", r.status, r.body);
    ck_assert_str_eq(r.body, before.body);                 /* the removed tweet */
    api_free(&r);
    api_ok(acct_req(&r, "DELETE", path, NULL, t1, NULL));
    api_assert_error(&r, 404, "not_found");
    api_free(&r);
    get_auth(&r, path, t1);
    api_assert_error(&r, 404, "not_found");
    api_free(&r);
    api_ok(api_get_fresh(&r, path));
    api_assert_error(&r, 404, "not_found");
    api_free(&r);
    api_ok(acct_req(&r, "PUT", path, "{\"message\":\"back?\"}", t1, NULL));
    api_assert_error(&r, 404, "not_found");
    api_free(&r);
    ck_assert_int_eq(tweets_count(u1), 1);

    ck_assert_msg(adm_tok[0], "no admin (fixture failed)");
    snprintf(path, sizeof(path), "/tweet/%s", other);
    api_ok(acct_req(&r, "DELETE", path, NULL, adm_tok, NULL));
    ck_assert_msg(r.status == 200, "admin DELETE: %ld %s", r.status, r.body);
    api_free(&r);
    ck_assert_int_eq(tweets_count(u2), 0);

    /* gone from every page: the user's list, the feed by page and by cursor */
    uint64_t ids[MAX_IDS];
    snprintf(list, sizeof(list), "/tweets/%s?limit=1", u1);
    int n = walk(list, t1, ids, MAX_IDS);
    ck_assert_int_eq(n, 1);
    ck_assert_uint_eq(ids[0], id_value(keep));
    n = walk("/tweets?limit=7", t1, ids, 60);
    ck_assert_int_eq(count_of(ids, n, id_value(gone)), 0);
    ck_assert_int_eq(count_of(ids, n, id_value(other)), 0);
    ck_assert_int_eq(count_of(ids, n, id_value(keep)), 1);
    for (int page = 1; page <= 3; page++) {
        char p[64];
        snprintf(p, sizeof(p), "/tweets?limit=5&page=%d", page);
        get_auth(&r, p, t1);
        n = page_ids(&r, ids, MAX_IDS);
        ck_assert_int_eq(count_of(ids, n, id_value(gone)), 0);
        api_free(&r);
    }
    api_free(&before);
}
END_TEST

/* ------------------------------------------------------------ names */

START_TEST(test_rename_shows_everywhere)
{
    char name[ACCT_NAMELEN], uid[ACCT_IDLEN], tok[ACCT_TOKLEN], id[ACCT_IDLEN];
    char newname[ACCT_NAMELEN], path[64], body[96], list[96];
    acct_new_user("twn", name, uid, tok);
    post_tweet(tok, uid, "before the rename", id);
    snprintf(path, sizeof(path), "/tweet/%s", id);
    api_resp r;
    api_ok(api_get_fresh(&r, path));                      /* the old name is cached now */
    ck_assert_str_eq(api_json_str(&r, "tweet.user_name"), name);
    api_free(&r);

    acct_unique_name(newname, sizeof(newname), "twN");
    snprintf(body, sizeof(body), "{\"name\":\"%s\"}", newname);
    char upath[64];
    snprintf(upath, sizeof(upath), "/users/%s", uid);
    api_ok(acct_req(&r, "PUT", upath, body, tok, NULL));
    ck_assert_msg(r.status == 200, "rename: %ld %s", r.status, r.body);
    api_free(&r);

    get_auth(&r, path, tok);                              /* at once for the author */
    ck_assert_str_eq(api_json_str(&r, "tweet.user_name"), newname);
    api_free(&r);
    api_ok(api_get_fresh(&r, path));                      /* and for everyone */
    ck_assert_str_eq(api_json_str(&r, "tweet.user_name"), newname);
    api_free(&r);
    snprintf(list, sizeof(list), "/tweets/%s?limit=5", uid);
    get_auth(&r, list, tok);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(api_json_at(&r, "items"), 0),
                                                      "user_name")->valuestring, newname);
    api_free(&r);
    get_auth(&r, "/tweets?limit=20", tok);
    const cJSON *t;
    int seen = 0;
    cJSON_ArrayForEach(t, api_json_at(&r, "items")) {
        if (strcmp(cJSON_GetObjectItemCaseSensitive(t, "id")->valuestring, id) == 0) {
            ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(t, "user_name")->valuestring, newname);
            seen = 1;
        }
    }
    ck_assert_msg(seen, "the tweet is not on the feed's first page: %s", r.body);
    api_free(&r);
    /* no copy of the old name survives in Redis */
    redisReply *rep = api_redis("GET %suser:%s:name", api_redis_prefix(), uid);
    ck_assert_msg(rep && rep->type == REDIS_REPLY_STRING && strcmp(rep->str, newname) == 0,
                  "cached name is not the new one");
    freeReplyObject(rep);
}
END_TEST

/* A count from Redis's INFO commandstats ("calls" of cmdstat_NAME), or 0. */
static long long redis_calls(const char *name)
{
    redisReply *rep = api_redis("INFO commandstats");
    ck_assert_msg(rep && rep->type == REDIS_REPLY_STRING, "INFO commandstats failed");
    char want[64];
    snprintf(want, sizeof(want), "cmdstat_%s:calls=", name);
    const char *p = strstr(rep->str, want);
    long long n = p != NULL ? strtoll(p + strlen(want), NULL, 10) : 0;
    freeReplyObject(rep);
    return n;
}

/* A cached tweet and its cached author name come back in one round trip
 * (a Lua script, EVALSHA) and make the same answer as the plain path;
 * after SCRIPT FLUSH (as after a Redis restart or failover) the worker
 * loads the script again and still answers; the name shown is the one
 * Redis holds (the script reads it, not a copy of its own). */
START_TEST(test_tweet_read_in_one_round_trip)
{
    char name[ACCT_NAMELEN], uid[ACCT_IDLEN], tok[ACCT_TOKLEN], id[ACCT_IDLEN], path[64];
    acct_new_user("tw1", name, uid, tok);
    post_tweet(tok, uid, "one round trip", id);
    snprintf(path, sizeof(path), "/tweet/%s", id);
    api_resp r;
    api_ok(api_get_fresh(&r, path));                      /* fills the name's key */
    ck_assert_int_eq(r.status, 200);
    api_free(&r);
    for (int round = 0; round < 2; round++) {
        if (round == 1) {
            redisReply *rep = api_redis("SCRIPT FLUSH");
            ck_assert_msg(rep && rep->type == REDIS_REPLY_STATUS, "SCRIPT FLUSH failed");
            freeReplyObject(rep);
        }
        long long before = redis_calls("evalsha");
        /* Every worker in turn (new connections spread over them). */
        for (int i = 0; i < 12; i++) {
            api_ok(api_get_fresh(&r, path));
            ck_assert_msg(r.status == 200, "%s: %ld %s", path, r.status, r.body);
            ck_assert_str_eq(api_json_str(&r, "tweet.id"), id);
            ck_assert_str_eq(api_json_str(&r, "tweet.user_id"), uid);
            ck_assert_str_eq(api_json_str(&r, "tweet.user_name"), name);
            ck_assert_str_eq(api_json_str(&r, "tweet.message"), "one round trip");
            api_free(&r);
        }
        long long after = redis_calls("evalsha");
        ck_assert_msg(after >= before + 12, "round %d: EVALSHA calls went from %lld to %lld",
                      round, before, after);
    }
    /* What Redis holds is what is shown (a planted name of the same user). */
    redisReply *rep = api_redis("SET %suser:%s:name planted_name_x EX 60", api_redis_prefix(), uid);
    freeReplyObject(rep);
    api_ok(api_get_fresh(&r, path));
    ck_assert_str_eq(api_json_str(&r, "tweet.user_name"), "planted_name_x");
    api_free(&r);
    rep = api_redis("SET %suser:%s:name %s EX 3600", api_redis_prefix(), uid, name);
    freeReplyObject(rep);
}
END_TEST

/* ------------------------------------------------------------ pages */

START_TEST(test_user_pages)
{
    char name[ACCT_NAMELEN], uid[ACCT_IDLEN], tok[ACCT_TOKLEN], ids_s[7][ACCT_IDLEN];
    char o_name[ACCT_NAMELEN], o_uid[ACCT_IDLEN], base[96], path[256];
    acct_new_user("twl", name, uid, tok);
    acct_new_user("twl", o_name, o_uid, NULL);
    for (int i = 0; i < 7; i++) {
        char msg[32];
        snprintf(msg, sizeof(msg), "tweet %d", i);
        post_tweet(tok, uid, msg, ids_s[i]);
    }
    /* pages 1..3 of 3, newest first, and past the end */
    uint64_t got[MAX_IDS];
    int n = 0;
    for (int page = 1; page <= 4; page++) {
        api_resp r;
        snprintf(path, sizeof(path), "/tweets/%s?limit=3&page=%d", uid, page);
        api_ok(api_get_fresh(&r, path));
        int k = page_ids(&r, got + n, MAX_IDS - n);
        ck_assert_int_eq(k, page < 3 ? 3 : page == 3 ? 1 : 0);
        const cJSON *np = api_json_at(&r, "next_page");
        ck_assert_int_eq((int)api_json_at(&r, "page")->valuedouble, page);
        if (page < 3)
            ck_assert_msg(cJSON_IsNumber(np) && np->valuedouble == page + 1, "next_page: %s", r.body);
        else
            ck_assert_msg(cJSON_IsNull(np) && cJSON_IsNull(api_json_at(&r, "next_cursor")),
                          "last page: %s", r.body);
        n += k;
        api_free(&r);
    }
    ck_assert_int_eq(n, 7);
    for (int i = 0; i < 7; i++)
        ck_assert_uint_eq(got[i], id_value(ids_s[6 - i]));
    /* the cursor walk gives the same */
    uint64_t walked[MAX_IDS];
    snprintf(base, sizeof(base), "/tweets/%s?limit=2", uid);
    ck_assert_int_eq(walk(base, tok, walked, MAX_IDS), 7);
    ck_assert_int_eq(memcmp(walked, got, sizeof(uint64_t) * 7), 0);

    /* a cursor is bound to its list */
    api_resp r, x;
    snprintf(path, sizeof(path), "/tweets/%s?limit=2", uid);
    api_ok(api_get_fresh(&r, path));
    char cur[128];
    next_cursor(&r, cur, sizeof(cur));
    ck_assert(cur[0]);
    snprintf(path, sizeof(path), "/tweets/%s?limit=2&cursor=%s", o_uid, cur);
    api_ok(api_get_fresh(&x, path));
    api_assert_error(&x, 422, "validation_failed");
    acct_assert_fields(&x, ACCT_FIELDS("cursor"));
    api_free(&x);
    snprintf(path, sizeof(path), "/tweets?limit=2&cursor=%s", cur);
    api_ok(api_get_fresh(&x, path));
    api_assert_error(&x, 422, "validation_failed");
    api_free(&x);
    snprintf(path, sizeof(path), "/tweets/%s?limit=2&cursor=%s&page=2", uid, cur);
    api_ok(api_get_fresh(&x, path));
    api_assert_error(&x, 422, "validation_failed");
    api_free(&x);
    static const char *const bad[] = { "limit=0", "limit=101", "page=0", "page=1001", "cursor=",
                                       "cursor=garbage", "limit=2.0" };
    for (int i = 0; i < API_COUNT(bad); i++) {
        snprintf(path, sizeof(path), "/tweets/%s?%s", uid, bad[i]);
        api_ok(api_get_fresh(&x, path));
        api_assert_error(&x, 422, "validation_failed");
        api_free(&x);
        snprintf(path, sizeof(path), "/tweets?%s", bad[i]);
        api_ok(api_get_fresh(&x, path));
        api_assert_error(&x, 422, "validation_failed");
        api_free(&x);
    }
    /* a user without tweets: an empty page, not a 404 */
    snprintf(path, sizeof(path), "/tweets/%s", o_uid);
    api_ok(api_get_fresh(&x, path));
    ck_assert_int_eq(page_ids(&x, got, MAX_IDS), 0);
    ck_assert_int_eq((int)api_json_at(&x, "limit")->valuedouble, 20);
    api_free(&x);
    api_free(&r);
}
END_TEST

/* The feed's page paging and cursor paging agree, newest first, and a
 * fresh post is on top at once for its author. */
START_TEST(test_feed_pages)
{
    char name[ACCT_NAMELEN], uid[ACCT_IDLEN], tok[ACCT_TOKLEN], id[ACCT_IDLEN], path[64];
    acct_new_user("twf", name, uid, tok);
    for (int i = 0; i < 12; i++)
        post_tweet(tok, uid, "feed", i == 11 ? id : NULL);
    api_resp r;
    get_auth(&r, "/tweets", tok);
    uint64_t top[MAX_IDS];
    int n = page_ids(&r, top, MAX_IDS);
    ck_assert_int_eq((int)api_json_at(&r, "limit")->valuedouble, 20);
    ck_assert_int_eq(n, 20);
    ck_assert_uint_eq(top[0], id_value(id));
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(api_json_at(&r, "items"), 0),
                                                      "user_name")->valuestring, name);
    api_free(&r);
    uint64_t paged[MAX_IDS], walked[MAX_IDS];
    int np = 0;
    for (int page = 1; page <= 6; page++) {
        snprintf(path, sizeof(path), "/tweets?limit=5&page=%d", page);
        get_auth(&r, path, tok);
        np += page_ids(&r, paged + np, MAX_IDS - np);
        ck_assert_msg(np == 0 || page == 1 || paged[np - 1] < top[0], "order");
        api_free(&r);
    }
    /* the whole feed by cursor: the six pages are its first 30 (or all) */
    int nw = walk("/tweets?limit=5", tok, walked, MAX_IDS);
    ck_assert_int_ge(nw, 12);
    ck_assert_int_eq(np, nw < 30 ? nw : 30);
    for (int i = 0; i < np; i++)
        ck_assert_msg(paged[i] == walked[i], "page and cursor walks differ at %d", i);
    for (int i = 1; i < np; i++)
        ck_assert_msg(paged[i] < paged[i - 1], "page walk not strictly decreasing at %d", i);
    /* the deepest page there is: past the end, an empty 200 */
    get_auth(&r, "/tweets?limit=100&page=1000", tok);
    ck_assert_int_eq(page_ids(&r, paged, MAX_IDS), 0);
    ck_assert_msg(cJSON_IsNull(api_json_at(&r, "next_page")) &&
                  cJSON_IsNull(api_json_at(&r, "next_cursor")), "past the end: %s", r.body);
    api_free(&r);
}
END_TEST

/* ------------------------------------------------------------ concurrency */

/* Runs fn(i) in n children at once; each child's exit status 0 = success. */
static void run_children(int n, void (*fn)(int i, int out_fd), int out_fd, pid_t *pids)
{
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        ck_assert_msg(pids[i] >= 0, "fork: %s", strerror(errno));
        if (pids[i] == 0) {
            /* Check's SIGTERM handler kills the whole test's process
             * group: a child still busy when the test stops it must die
             * alone. */
            signal(SIGTERM, SIG_DFL);
            fn(i, out_fd);
            _exit(0);
        }
    }
}

static int wait_children(int n, const pid_t *pids)
{
    int failed = 0;
    for (int i = 0; i < n; i++) {
        int st;
        if (waitpid(pids[i], &st, 0) != pids[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
            failed++;
    }
    return failed;
}

#define CONC_USERS 10
#define CONC_POSTS 5

static char conc_uid[CONC_USERS][ACCT_IDLEN], conc_tok[CONC_USERS][ACCT_TOKLEN];

/* A child: posts CONC_POSTS tweets as user i, writes each id as a line. */
static void conc_poster(int i, int out)
{
    char path[64], line[48];
    snprintf(path, sizeof(path), "/tweets/%s", conc_uid[i]);
    for (int k = 0; k < CONC_POSTS; k++) {
        api_resp r;
        if (acct_req(&r, "POST", path, "{\"message\":\"at once\"}", conc_tok[i], NULL) != 0 ||
            r.status != 201)
            _exit(1);
        int len = snprintf(line, sizeof(line), "%s\n", api_json_str(&r, "tweet.id"));
        if (write(out, line, (size_t)len) != len)
            _exit(2);
        api_free(&r);
    }
}

START_TEST(test_concurrent_posts)
{
    char name[ACCT_NAMELEN];
    for (int i = 0; i < CONC_USERS; i++)
        acct_new_user("twc", name, conc_uid[i], conc_tok[i]);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pids[CONC_USERS];
    run_children(CONC_USERS, conc_poster, fds[1], pids);
    close(fds[1]);
    char buf[8192];
    size_t got = 0;
    ssize_t k;
    while (got < sizeof(buf) - 1 && (k = read(fds[0], buf + got, sizeof(buf) - 1 - got)) > 0)
        got += (size_t)k;
    buf[got] = '\0';
    close(fds[0]);
    ck_assert_int_eq(wait_children(CONC_USERS, pids), 0);
    uint64_t ids[CONC_USERS * CONC_POSTS];
    int n = 0;
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        ck_assert_int_lt(n, CONC_USERS * CONC_POSTS);
        ids[n++] = id_value(line);
    }
    ck_assert_int_eq(n, CONC_USERS * CONC_POSTS);
    for (int i = 0; i < n; i++)
        ck_assert_msg(count_of(ids, n, ids[i]) == 1, "id %llu twice", (unsigned long long)ids[i]);
    for (int i = 0; i < CONC_USERS; i++) {
        ck_assert_int_eq(tweets_count(conc_uid[i]), CONC_POSTS);
        uint64_t mine[MAX_IDS];
        char base[128];
        snprintf(base, sizeof(base), "/tweets/%.32s?limit=3", conc_uid[i]);
        int m = walk(base, conc_tok[i], mine, MAX_IDS);
        ck_assert_int_eq(m, CONC_POSTS);
        for (int j = 0; j < m; j++) {
            ck_assert_int_eq(count_of(ids, n, mine[j]), 1);
            ck_assert_uint_eq(rst_id_shard(mine[j]), rst_id_shard(id_value(conc_uid[i])));
        }
    }
    /* every one of them in the feed, once */
    uint64_t feed[MAX_IDS];
    int nf = walk("/tweets?limit=25", conc_tok[0], feed, 75);
    for (int i = 0; i < n; i++)
        ck_assert_msg(count_of(feed, nf, ids[i]) == 1, "tweet %llu not once in the feed",
                      (unsigned long long)ids[i]);
}
END_TEST

#define OLDER 30
#define WALK_POSTERS 4

static char walk_uid[ACCT_IDLEN], walk_tok[ACCT_TOKLEN];
static char other_uid[ACCT_IDLEN], other_tok[ACCT_TOKLEN];

/* A child: posts until killed (or 60 posts), half of them as the walked user. */
static void walk_poster(int i, int out)
{
    (void)out;
    const char *uid = i % 2 ? walk_uid : other_uid, *tok = i % 2 ? walk_tok : other_tok;
    char path[64];
    snprintf(path, sizeof(path), "/tweets/%s", uid);
    for (int k = 0; k < 60; k++) {
        api_resp r;
        if (acct_req(&r, "POST", path, "{\"message\":\"meanwhile\"}", tok, NULL) == 0)
            api_free(&r);
    }
}

static void assert_walk_has_older(const uint64_t *ids, int n, const uint64_t *older, int nolder,
                                  const char *what)
{
    for (int i = 1; i < n; i++)
        ck_assert_msg(ids[i] < ids[i - 1], "%s: not strictly decreasing at %d", what, i);
    for (int i = 0; i < nolder; i++)
        ck_assert_msg(count_of(ids, n, older[i]) == 1, "%s: older tweet %llu seen %d times", what,
                      (unsigned long long)older[i], count_of(ids, n, older[i]));
}

START_TEST(test_cursor_walks_while_posting)
{
    char name[ACCT_NAMELEN], id[ACCT_IDLEN], base[96];
    acct_new_user("tww", name, walk_uid, walk_tok);
    acct_new_user("tww", name, other_uid, other_tok);
    uint64_t older[OLDER];
    for (int i = 0; i < OLDER; i++) {
        post_tweet(walk_tok, walk_uid, "older", id);
        older[OLDER - 1 - i] = id_value(id);
    }
    pid_t pids[WALK_POSTERS];
    run_children(WALK_POSTERS, walk_poster, -1, pids);
    usleep(200 * 1000);                              /* the posts are flowing */
    uint64_t mine[MAX_IDS], feed[MAX_IDS];
    snprintf(base, sizeof(base), "/tweets/%s?limit=4", walk_uid);
    int n = walk(base, walk_tok, mine, MAX_IDS);
    /* the feed: walk until past the oldest of the older tweets */
    char path[256], cur[128] = "";
    int nf = 0;
    for (int pages = 0; pages < 100 && (nf == 0 || feed[nf - 1] > older[OLDER - 1]); pages++) {
        api_resp r;
        snprintf(path, sizeof(path), "/tweets?limit=7%s%s", cur[0] ? "&cursor=" : "", cur);
        get_auth(&r, path, walk_tok);
        nf += page_ids(&r, feed + nf, MAX_IDS - nf);
        next_cursor(&r, cur, sizeof(cur));
        api_free(&r);
        if (!cur[0])
            break;
    }
    for (int i = 0; i < WALK_POSTERS; i++)
        kill(pids[i], SIGTERM);
    wait_children(WALK_POSTERS, pids);
    assert_walk_has_older(mine, n, older, OLDER, "GET /tweets/{uid}");
    assert_walk_has_older(feed, nf, older, OLDER, "GET /tweets");
}
END_TEST

/* ------------------------------------------------------------ Redis flushed */

/* Lines of roostd.log that report a rebuild of the feed. */
static int rebuild_lines(void)
{
    char path[600];
    const char *run = getenv("ROOST_TEST_RUN_DIR");
    snprintf(path, sizeof(path), "%s/log/roostd.log", run ? run : ".");
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot read %s", path);
    char line[1024];
    int n = 0;
    while (fgets(line, sizeof(line), f))
        n += strstr(line, "feed: rebuilt the Redis set") != NULL;
    fclose(f);
    return n;
}

static void fresh_feed_reader(int i, int out)
{
    (void)i;
    (void)out;
    api_resp r;
    if (api_get_fresh(&r, "/tweets?limit=10") != 0 || r.status != 200)
        _exit(1);
    api_free(&r);
}

START_TEST(test_feed_after_flush)
{
    char name[ACCT_NAMELEN], uid[ACCT_IDLEN], tok[ACCT_TOKLEN], id[ACCT_IDLEN];
    acct_new_user("twr", name, uid, tok);
    post_tweet(tok, uid, "before the flush", id);
    uint64_t before[MAX_IDS], after[MAX_IDS];
    int nb = walk("/tweets?limit=50", tok, before, 150);
    ck_assert_uint_eq(before[0], id_value(id));

    int lines0 = rebuild_lines();
    redisReply *rep = api_redis("FLUSHDB");
    ck_assert_msg(rep && rep->type == REDIS_REPLY_STATUS, "FLUSHDB failed");
    freeReplyObject(rep);
    /* many readers at once find the set missing: one of them rebuilds it */
    pid_t pids[6];
    run_children(6, fresh_feed_reader, -1, pids);
    ck_assert_int_eq(wait_children(6, pids), 0);
    int na = walk("/tweets?limit=50", tok, after, 150);
    ck_assert_int_eq(na, nb);
    ck_assert_int_eq(memcmp(before, after, sizeof(uint64_t) * (size_t)nb), 0);

    rep = api_redis("ZCARD %sfeed:ids", api_redis_prefix());
    ck_assert_msg(rep && rep->type == REDIS_REPLY_INTEGER && rep->integer >= nb,
                  "feed:ids not rebuilt (ZCARD %lld)", rep ? rep->integer : -1);
    freeReplyObject(rep);
    rep = api_redis("EXISTS %sfeed:lock", api_redis_prefix());
    ck_assert_msg(rep && rep->type == REDIS_REPLY_INTEGER && rep->integer == 0, "lock left behind");
    freeReplyObject(rep);
    ck_assert_int_eq(rebuild_lines() - lines0, 1);
    /* new posts land in the rebuilt set, on top */
    post_tweet(tok, uid, "after the flush", id);
    api_resp r;
    get_auth(&r, "/tweets?limit=1", tok);
    ck_assert_int_eq(page_ids(&r, after, 1), 1);
    ck_assert_uint_eq(after[0], id_value(id));
    api_free(&r);
}
END_TEST

/* A corrupt member in the set is not trusted: the set is dropped and
 * rebuilt, and the page is still right. */
START_TEST(test_feed_corrupt_set)
{
    char name[ACCT_NAMELEN], uid[ACCT_IDLEN], tok[ACCT_TOKLEN], id[ACCT_IDLEN];
    acct_new_user("twx", name, uid, tok);
    post_tweet(tok, uid, "x", id);
    uint64_t before[MAX_IDS], after[MAX_IDS];
    api_resp r;
    get_auth(&r, "/tweets?limit=10", tok);
    int nb = page_ids(&r, before, MAX_IDS);
    api_free(&r);
    redisReply *rep = api_redis("ZADD %sfeed:ids 0 99999999999999999999x", api_redis_prefix());
    ck_assert_msg(rep && rep->type == REDIS_REPLY_INTEGER, "ZADD failed");
    freeReplyObject(rep);
    get_auth(&r, "/tweets?limit=10", tok);
    int na = page_ids(&r, after, MAX_IDS);
    api_free(&r);
    ck_assert_int_eq(na, nb);
    ck_assert_int_eq(memcmp(before, after, sizeof(uint64_t) * (size_t)nb), 0);
    rep = api_redis("ZSCORE %sfeed:ids 99999999999999999999x", api_redis_prefix());
    ck_assert_msg(rep && rep->type == REDIS_REPLY_NIL, "the corrupt member is still there");
    freeReplyObject(rep);
}
END_TEST

/* ------------------------------------------------------------ suite */

static TCase *tweets_tcase(Suite *s, const char *name, int timeout)
{
    TCase *tc = api_tcase(s, name);
    tcase_set_timeout(tc, timeout);
    tcase_add_unchecked_fixture(tc, admin_setup, NULL);
    return tc;
}

Suite *suite_tweets(void)
{
    Suite *s = suite_create("tweets");
    TCase *tc = tweets_tcase(s, "one tweet", 30);
    tcase_add_test(tc, test_post_and_get);
    tcase_add_test(tc, test_get_missing_tweet);
    tcase_add_test(tc, test_who_may_post);
    tcase_add_test(tc, test_message_rules);
    tcase_add_test(tc, test_idempotent_post);
    tcase_add_test(tc, test_idempotent_repeat_while_running);
    tcase_add_test(tc, test_unknown_outcome_keeps_the_key_claimed);
    tcase_add_test(tc, test_edit);
    tcase_add_test(tc, test_delete);
    tcase_add_test(tc, test_rename_shows_everywhere);
    tcase_add_test(tc, test_tweet_read_in_one_round_trip);
    tc = tweets_tcase(s, "pages", 60);
    tcase_add_test(tc, test_user_pages);
    tcase_add_test(tc, test_feed_pages);
    tc = tweets_tcase(s, "concurrency", 120);
    tcase_add_test(tc, test_concurrent_posts);
    tcase_add_test(tc, test_cursor_walks_while_posting);
    tc = tweets_tcase(s, "redis flushed", 60);
    tcase_add_test(tc, test_feed_after_flush);
    tcase_add_test(tc, test_feed_corrupt_set);
    return s;
}
