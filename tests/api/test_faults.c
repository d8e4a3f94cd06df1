/* test_faults.c -- the failure rules of docs/ARCHITECTURE.md §5 through nginx, by stopping and
 * starting services of the test stack (`dev svc test stop|start NAME`):
 * Redis down (answers from MariaDB, /readyz 503), the catalog's server (db1)
 * down (502 from roostd for what Redis does not hold, recovery without a
 * restart), roostd down (nginx's JSON 502, stale cache). Runs last.
 *
 * Every test restores what it stopped before it asserts anything, and each
 * TCase has an unchecked teardown (run in the parent process, so also after
 * a failed or timed-out test) that starts every service again. Requests go
 * out with a unique Accept value, so nginx's micro-cache never answers them
 * (its key holds Accept). */
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "accounts.h"
#include "suites.h"

static const char *const services[] = { "db1", "db2", "redis", "roostd", "nginx" };

/* ------------------------------------------------------------ helpers */

static void restore_all(void)
{
    for (size_t i = 0; i < sizeof(services) / sizeof(services[0]); i++)
        if (api_stack("start", services[i]) != 0)
            fprintf(stderr, "test_faults: could not start %s\n", services[i]);
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    ck_assert_msg(d != NULL, "out of memory");
    return d;
}

/* GET path fresh from roostd: 200 expected; returns the body (free it). */
static char *fresh_body(const char *path)
{
    api_resp r;
    api_ok(api_get_fresh(&r, path));
    ck_assert_msg(r.status == 200, "GET %s: %ld %s", path, r.status, r.body);
    char *b = xstrdup(r.body);
    api_free(&r);
    return b;
}

static int is_error(const api_resp *r, long status, const char *code)
{
    const char *c = api_json_str(r, "error.code");
    return r->status == status && c != NULL && strcmp(c, code) == 0;
}

/* nginx's own 502 (no worker answered) says so; roostd's names the
 * database. Only the message tells them apart. */
#define NGINX_502_MESSAGE "no worker answers"

static int is_nginx_502(const api_resp *r)
{
    const char *m = api_json_str(r, "error.message");
    return is_error(r, 502, "upstream_unavailable") && m && strcmp(m, NGINX_502_MESSAGE) == 0;
}

static int is_roostd_502(const api_resp *r)
{
    return is_error(r, 502, "upstream_unavailable") && !is_nginx_502(r);
}

/* The status ("up"/"down") /readyz gives the dependency `name`, or NULL. */
static const char *dependency_status(const api_resp *r, const char *name)
{
    const cJSON *d;
    cJSON_ArrayForEach(d, api_json_at(r, "dependencies")) {
        const cJSON *n = cJSON_GetObjectItemCaseSensitive(d, "name");
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(d, "status");
        if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
            return cJSON_IsString(st) ? st->valuestring : NULL;
    }
    return NULL;
}

static int dependency_count(const api_resp *r)
{
    return cJSON_GetArraySize(api_json_at(r, "dependencies"));
}

/* 200 and every dependency up, with a latency. */
static void assert_ready(const api_resp *r, const char *when)
{
    ck_assert_msg(r->status == 200, "/readyz %s: %ld %s", when, r->status, r->body);
    ck_assert_msg(dependency_count(r) >= 4, "/readyz %s: too few dependencies: %s", when, r->body);
    const cJSON *d;
    cJSON_ArrayForEach(d, api_json_at(r, "dependencies")) {
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(d, "status");
        const cJSON *lat = cJSON_GetObjectItemCaseSensitive(d, "latency_ms");
        ck_assert_msg(cJSON_IsString(st) && strcmp(st->valuestring, "up") == 0,
                      "/readyz %s: a dependency is not up: %s", when, r->body);
        ck_assert_msg(cJSON_IsNumber(lat) && lat->valuedouble >= 0, "/readyz %s: latency: %s",
                      when, r->body);
    }
}

/* Runs `VERB <prefix><key>` on the test stack's Redis (DEL, EXISTS):
 * its integer answer, or -1. */
static long long redis_key_command(const char *verb, const char *key)
{
    redisReply *rep = api_redis("%s %s%s", verb, api_redis_prefix(), key);
    long long n = rep != NULL && rep->type == REDIS_REPLY_INTEGER ? rep->integer : -1;
    if (rep)
        freeReplyObject(rep);
    return n;
}

static long long redis_del(const char *key)
{
    return redis_key_command("DEL", key);
}

/* Reads path until its product is in Redis. After a Redis outage the
 * workers' circuit breakers stay open for up to 4 s, and until they close
 * reads are served from MariaDB without filling the cache. */
static int await_cached(const char *path, const char *key)
{
    for (int i = 0; i < 60; i++) {
        free(fresh_body(path));
        if (redis_key_command("EXISTS", key) == 1)
            return 1;
        sleep_ms(100);
    }
    return 0;
}

static TCase *fault_tcase(Suite *s, const char *name)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, 120);
    tcase_add_unchecked_fixture(tc, NULL, restore_all);
    suite_add_tcase(s, tc);
    return tc;
}

/* ------------------------------------------------------------ all up */

START_TEST(test_ready_when_all_up)
{
    api_resp r;
    const char *h[] = { "Accept:", NULL };
    api_ok(api_request(&r, "GET", "/readyz", NULL, 0, h));
    assert_ready(&r, "with everything up");
    ck_assert_msg(dependency_status(&r, "redis") != NULL, "no redis in /readyz: %s", r.body);
    ck_assert_msg(dependency_status(&r, "catalog") != NULL, "no catalog in /readyz: %s", r.body);
    api_free(&r);
}
END_TEST

/* ------------------------------------------------------------ Redis */

#define REDIS_TRIES 8   /* several requests: they spread over the workers */

START_TEST(test_redis_down)
{
    char id[32], ppath[64];
    const char *lpath = "/products?limit=5&page=2";
    ck_assert_msg(api_product_id(4, id, sizeof(id)) == 0, "no product");
    snprintf(ppath, sizeof(ppath), "/product/%s", id);
    char *list0 = fresh_body(lpath), *prod0 = fresh_body(ppath);

    int stopped = api_stack("stop", "redis");
    api_resp list[REDIS_TRIES], prod[REDIS_TRIES], ready_down;
    for (int i = 0; i < REDIS_TRIES; i++) {
        api_get_fresh(&list[i], lpath);
        api_get_fresh(&prod[i], ppath);
    }
    api_get(&ready_down, "/readyz");
    int started = api_stack("start", "redis");
    /* A worker that found Redis down retries it after at most 4 s (its
     * circuit breaker): past that every worker uses Redis again, which the
     * next tests rely on. */
    sleep_ms(4500);
    api_resp list_after, prod_after, ready_up;
    api_get_fresh(&list_after, lpath);
    api_get_fresh(&prod_after, ppath);
    api_get(&ready_up, "/readyz");

    ck_assert_msg(stopped == 0, "could not stop redis");
    ck_assert_msg(started == 0, "could not start redis again");
    for (int i = 0; i < REDIS_TRIES; i++) {
        ck_assert_msg(list[i].status == 200 && strcmp(list[i].body, list0) == 0,
                      "GET %s with Redis down (try %d): %ld %s", lpath, i, list[i].status, list[i].body);
        ck_assert_msg(prod[i].status == 200 && strcmp(prod[i].body, prod0) == 0,
                      "GET %s with Redis down (try %d): %ld %s", ppath, i, prod[i].status, prod[i].body);
    }
    ck_assert_msg(ready_down.status == 503, "/readyz with Redis down: %ld %s", ready_down.status,
                  ready_down.body);
    const char *rs = dependency_status(&ready_down, "redis");
    ck_assert_msg(rs && strcmp(rs, "down") == 0, "/readyz with Redis down: %s", ready_down.body);
    const char *cs = dependency_status(&ready_down, "catalog");
    ck_assert_msg(cs && strcmp(cs, "up") == 0, "/readyz with Redis down, catalog: %s", ready_down.body);

    ck_assert_msg(list_after.status == 200 && strcmp(list_after.body, list0) == 0,
                  "GET %s after Redis came back: %ld %s", lpath, list_after.status, list_after.body);
    ck_assert_msg(prod_after.status == 200 && strcmp(prod_after.body, prod0) == 0,
                  "GET %s after Redis came back: %ld %s", ppath, prod_after.status, prod_after.body);
    assert_ready(&ready_up, "after Redis came back");

    for (int i = 0; i < REDIS_TRIES; i++) {
        api_free(&list[i]);
        api_free(&prod[i]);
    }
    api_free(&ready_down);
    api_free(&list_after);
    api_free(&prod_after);
    api_free(&ready_up);
    free(list0);
    free(prod0);
}
END_TEST

/* Accounts without Redis: tokens are checked against the shard (their
 * version is normally cached in Redis), a password change still revokes
 * older tokens at once, and POSTs with an Idempotency-Key still work
 * (without the replay guarantee). Every answer is collected first, Redis
 * restored, then asserted. */
START_TEST(test_accounts_with_redis_down)
{
    char name[ACCT_NAMELEN], id[ACCT_IDLEN], tok[ACCT_TOKLEN], path[64], body[256];
    char tok2[ACCT_TOKLEN] = "", tok3[ACCT_TOKLEN] = "", other[ACCT_NAMELEN];
    acct_new_user("rd", name, id, tok);
    snprintf(path, sizeof(path), "/users/%s", id);
    acct_unique_name(other, sizeof(other), "rdn");

    int stopped = api_stack("stop", "redis");
    int signin_ok = acct_try_signin(name, ACCT_PW, NULL, tok2) == 0;
    api_resp change, old_tok, renamed, signup;
    acct_req(&change, "PUT", path, "{\"password\":\"" ACCT_PW "-new\"}", tok2, NULL);
    acct_req(&old_tok, "PUT", path, "{\"name\":\"x\"}", tok2, NULL);
    int signin_new_ok = acct_try_signin(name, ACCT_PW "-new", NULL, tok3) == 0;
    snprintf(body, sizeof(body), "{\"name\":\"%s\"}", other);
    acct_req(&renamed, "PUT", path, body, tok3, NULL);
    char key[64], suname[ACCT_NAMELEN];
    acct_unique_name(suname, sizeof(suname), "rdk");
    snprintf(key, sizeof(key), "Idempotency-Key: k-%s", suname);
    acct_creds_body(body, sizeof(body), suname, ACCT_PW);
    acct_req(&signup, "POST", "/users/SignUp", body, NULL, (const char *const[]){ key, NULL });
    int started = api_stack("start", "redis");

    ck_assert_msg(stopped == 0 && started == 0, "could not stop and start redis");
    ck_assert_msg(signin_ok, "sign-in with Redis down failed");
    ck_assert_msg(change.status == 200, "password change with Redis down: %ld %s", change.status,
                  change.body);
    acct_assert_401(&old_tok, "token_expired");
    ck_assert_msg(signin_new_ok, "sign-in with the new password and Redis down failed");
    ck_assert_msg(renamed.status == 200, "rename with a fresh token, Redis down: %ld %s",
                  renamed.status, renamed.body);
    ck_assert_msg(signup.status == 201, "sign-up with an Idempotency-Key, Redis down: %ld %s",
                  signup.status, signup.body);
    api_free(&change);
    api_free(&old_tok);
    api_free(&renamed);
    api_free(&signup);
}
END_TEST

/* ------------------------------------------------------------ db1 */

#define RECOVERY_TRIES 50       /* x 100 ms: the ~5 s bound */

/* After db1 is back, a worker may still hold a connection that died with
 * it: that connection fails its one request (a 502 from roostd) and is
 * replaced. Only that answer is waited out; the first other answer must be
 * the 200. */
static void await_recovery(const char *path, api_resp *out, int *tries)
{
    for (*tries = 1; ; (*tries)++) {
        api_get_fresh(out, path);
        if (!is_roostd_502(out) || *tries == RECOVERY_TRIES)
            return;
        api_free(out);
        sleep_ms(100);
    }
}

START_TEST(test_catalog_down)
{
    char cached_id[32], gone_id[32], cpath[64], gpath[64], key[64];
    ck_assert_msg(api_product_id(1, cached_id, sizeof(cached_id)) == 0, "no product");
    ck_assert_msg(api_product_id(2, gone_id, sizeof(gone_id)) == 0, "no product");
    snprintf(cpath, sizeof(cpath), "/product/%s", cached_id);
    snprintf(gpath, sizeof(gpath), "/product/%s", gone_id);
    snprintf(key, sizeof(key), "product:%s", gone_id);
    char ckey[64];
    snprintf(ckey, sizeof(ckey), "product:%s", cached_id);
    /* both read, so Redis holds both */
    ck_assert_msg(await_cached(cpath, ckey) && await_cached(gpath, key),
                  "products not cached in Redis after reading them");
    char *cached0 = fresh_body(cpath), *gone0 = fresh_body(gpath);

    /* The catalog's replica too: with it up, reads would be served from it. */
    int stopped = api_stack("stop", "db1r") | api_stack("stop", "db1");
    long long deleted = redis_del(key);          /* after the stop: nothing re-fills it */
    api_resp gone, cached, ready_down, gone_again;
    api_get_fresh(&gone, gpath);
    api_get_fresh(&cached, cpath);
    api_get_fresh(&gone_again, gpath);
    api_get(&ready_down, "/readyz");
    int started = api_stack("start", "db1") | api_stack("start", "db1r");
    api_resp back, ready_up;
    int tries = 0;
    await_recovery(gpath, &back, &tries);
    api_get(&ready_up, "/readyz");

    ck_assert_msg(stopped == 0, "could not stop db1 and db1r");
    ck_assert_msg(started == 0, "could not start db1 and db1r again");
    ck_assert_msg(deleted == 1, "DEL %s in Redis removed %lld keys, want 1 (key layout changed?)",
                  key, deleted);
    ck_assert_msg(is_roostd_502(&gone), "GET %s (not in Redis) with db1 down: %ld %s",
                  gpath, gone.status, gone.body);
    api_assert_error(&gone, 502, "upstream_unavailable");
    ck_assert_msg(is_roostd_502(&gone_again), "GET %s again with db1 down: %ld %s",
                  gpath, gone_again.status, gone_again.body);
    ck_assert_msg(cached.status == 200 && strcmp(cached.body, cached0) == 0,
                  "GET %s (in Redis) with db1 down: %ld %s", cpath, cached.status, cached.body);
    ck_assert_msg(ready_down.status == 503, "/readyz with db1 down: %ld %s", ready_down.status,
                  ready_down.body);
    const char *cs = dependency_status(&ready_down, "catalog");
    ck_assert_msg(cs && strcmp(cs, "down") == 0, "/readyz with db1 down, catalog: %s", ready_down.body);
    const char *rs = dependency_status(&ready_down, "redis");
    ck_assert_msg(rs && strcmp(rs, "up") == 0, "/readyz with db1 down, redis: %s", ready_down.body);

    ck_assert_msg(back.status == 200, "GET %s after db1 came back (try %d): %ld %s",
                  gpath, tries, back.status, back.body);
    ck_assert_msg(strcmp(back.body, gone0) == 0, "GET %s after db1 came back: body differs", gpath);
    fprintf(stderr, "test_faults: product read again %d request(s) after db1 came back\n", tries);
    assert_ready(&ready_up, "after db1 came back");

    api_free(&gone);
    api_free(&gone_again);
    api_free(&cached);
    api_free(&ready_down);
    api_free(&back);
    api_free(&ready_up);
    free(cached0);
    free(gone0);
}
END_TEST

/* ------------------------------------------------------------ roostd */

START_TEST(test_roostd_down)
{
    const char *path = "/products?limit=8";
    /* an anonymous answer in nginx's cache (a key is stored on its second
     * request) */
    api_resp primed;
    for (int i = 0; i < 2; i++) {
        if (i > 0)
            api_free(&primed);
        api_ok(api_get(&primed, path));
        ck_assert_msg(primed.status == 200, "GET %s: %ld", path, primed.status);
    }

    int stopped = api_stack("stop", "roostd");
    api_resp fresh, stale, health, post;
    api_get_fresh(&fresh, path);
    api_get(&stale, path);
    api_get(&health, "/healthz");
    const char *h[] = { "Content-Type: application/json", NULL };
    api_request(&post, "POST", "/products", "{}", 2, h);
    int started = api_stack("start", "roostd");
    api_resp back;
    api_get_fresh(&back, path);

    ck_assert_msg(stopped == 0, "could not stop roostd");
    ck_assert_msg(started == 0, "could not start roostd again");
    ck_assert_msg(is_nginx_502(&fresh), "uncached GET with roostd down: %ld %s", fresh.status, fresh.body);
    api_assert_error(&fresh, 502, "upstream_unavailable");
    ck_assert_msg(is_nginx_502(&health), "/healthz with roostd down: %ld %s", health.status, health.body);
    api_assert_error(&health, 502, "upstream_unavailable");
    ck_assert_msg(is_nginx_502(&post), "POST with roostd down: %ld %s", post.status, post.body);
    api_assert_error(&post, 502, "upstream_unavailable");
    ck_assert_msg(stale.status == 200 && strcmp(stale.body, primed.body) == 0,
                  "cached GET with roostd down (DESIGN §3: stale answer): %ld %s", stale.status, stale.body);
    ck_assert_msg(back.status == 200 && strcmp(back.body, primed.body) == 0,
                  "GET %s after roostd came back: %ld %s", path, back.status, back.body);

    api_free(&primed);
    api_free(&fresh);
    api_free(&stale);
    api_free(&health);
    api_free(&post);
    api_free(&back);
}
END_TEST

/* ------------------------------------------------------------ suite */

/* ------------------------------------------------------------ after a commit */

/* A write that committed answers so, even when the server goes away right
 * after the commit (the down-after-commit failpoint): a 502 would make the
 * client do it again. Found by ./dev chaos (a cart add counted twice). */
START_TEST(test_committed_write_answers_success_when_the_server_goes_away)
{
    acct_user u;
    acct_user_new(&u, "dac");
    char product[32], path[64], body[128];
    ck_assert_int_eq(api_product_id(0, product, sizeof(product)), 0);
    snprintf(path, sizeof(path), "/addToCars/%s", u.id);
    snprintf(body, sizeof(body), "{\"product_id\":\"%s\",\"quantity\":2}", product);
    const char *fp[] = { "X-Roost-Failpoint: down-after-commit", NULL };
    api_resp r;
    ck_assert_int_eq(acct_req(&r, "POST", path, body, u.tok, fp), 0);
    ck_assert_msg(r.status == 201, "cart add: %ld %s", r.status, r.body);
    ck_assert_int_eq((int)api_json_at(&r, "item.quantity")->valuedouble, 2);
    api_free(&r);
    /* A merge into the item, the same way: 200 and the new quantity. */
    ck_assert_int_eq(acct_req(&r, "POST", path, body, u.tok, fp), 0);
    ck_assert_msg(r.status == 200, "cart merge: %ld %s", r.status, r.body);
    ck_assert_int_eq((int)api_json_at(&r, "item.quantity")->valuedouble, 4);
    api_free(&r);
    ck_assert_int_eq(acct_req(&r, "GET", path, NULL, u.tok, NULL), 0);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq((int)api_json_at(&r, "items.0.quantity")->valuedouble, 4);
    api_free(&r);

    /* A post: 201 with its author's name (read inside the transaction),
     * even when Redis has no copy of the name to offer. */
    redisReply *del = api_redis("DEL %suser:%s:name", api_redis_prefix(), u.id);
    ck_assert_ptr_nonnull(del);
    freeReplyObject(del);
    snprintf(path, sizeof(path), "/tweets/%s", u.id);
    ck_assert_int_eq(acct_req(&r, "POST", path, "{\"message\":\"after commit\"}", u.tok, fp), 0);
    ck_assert_msg(r.status == 201, "post: %ld %s", r.status, r.body);
    ck_assert_str_eq(api_json_str(&r, "tweet.user_name"), u.name);
    api_free(&r);

    char name[ACCT_NAMELEN], creds[256];
    acct_unique_name(name, sizeof(name), "dsu");
    acct_creds_body(creds, sizeof(creds), name, ACCT_PW);
    ck_assert_int_eq(api_request(&r, "POST", "/users/SignUp", creds, strlen(creds),
                                 (const char *const[]){ "Content-Type: application/json",
                                                        "X-Roost-Failpoint: down-after-commit", NULL }), 0);
    ck_assert_msg(r.status == 201, "sign-up: %ld %s", r.status, r.body);
    ck_assert_str_eq(api_json_str(&r, "user.name"), name);
    api_free(&r);
    ck_assert_int_eq(acct_signin_status(name, ACCT_PW), 200);
}
END_TEST

Suite *suite_faults(void)
{
    Suite *s = suite_create("faults");
    tcase_add_test(fault_tcase(s, "ready"), test_ready_when_all_up);
    tcase_add_test(fault_tcase(s, "after a commit"),
                   test_committed_write_answers_success_when_the_server_goes_away);
    tcase_add_test(fault_tcase(s, "redis"), test_redis_down);
    tcase_add_test(fault_tcase(s, "db1"), test_catalog_down);
    tcase_add_test(fault_tcase(s, "roostd"), test_roostd_down);
    /* Last: its long Redis outage leaves the workers' circuit breakers
     * open for up to 4 s afterwards, which the db1 test must not meet. */
    tcase_add_test(fault_tcase(s, "redis accounts"), test_accounts_with_redis_down);
    return s;
}
