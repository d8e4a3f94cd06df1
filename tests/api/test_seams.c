/* test_seams.c -- defects found in the service seams and by hostile input,
 * each tested against the real stack: a name cut to 30 characters promoting
 * somebody else, statements built at run time sharing a cache slot, Redis
 * values that are foreign or corrupt being read as numbers, nginx's own
 * TRACE answer, and JSON keys holding \u0000. */
#include <check.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "client.h"
#include "core/arena.h"
#include "store/db.h"
#include "suites.h"

/* SET <prefix><key> value EX 60; asserts it worked. */
static void redis_set(const char *key, const char *value)
{
    redisReply *r = api_redis("SET %s%s %s EX 60", api_redis_prefix(), key, value);
    ck_assert_msg(r != NULL && r->type == REDIS_REPLY_STATUS, "cannot SET %s", key);
    freeReplyObject(r);
}

/* The role a user signs in with. */
static const char *role_of(const char *name)
{
    static char role[16];
    char body[256];
    api_resp r;
    acct_creds_body(body, sizeof(body), name, ACCT_PW);
    api_ok(acct_req(&r, "POST", "/users/SignIn", body, NULL, NULL));
    ck_assert_msg(r.status == 200, "sign-in %ld: %s", r.status, r.body);
    acct_copy_str(role, sizeof(role), api_json_str(&r, "user.role"));
    api_free(&r);
    return role;
}

/* ------------------------------------------------------------ names */

START_TEST(promote_refuses_a_name_longer_than_any_user_s)
{
    char name[ACCT_NAMELEN], longer[64], args[128];
    acct_unique_name(name, sizeof(name), "pb");
    size_t n = strlen(name);
    while (n < 30)
        name[n++] = 'x';
    name[30] = '\0';
    acct_signup(name, ACCT_PW, NULL);
    snprintf(longer, sizeof(longer), "%sEXTRA", name);
    snprintf(args, sizeof(args), "user promote %s", longer);
    ck_assert_int_ne(acct_roostctl(args, NULL), 0);
    ck_assert_str_eq(role_of(name), "user");
}
END_TEST

/* ------------------------------------------------------------ statements */

/* Each text is built, run and freed: the allocator hands the next one the
 * same address, and a cache keyed by address would run the first text. */
START_TEST(run_time_statements_never_share_a_cache_slot)
{
    const rst_config *cfg = api_stack_config();
    ck_assert_ptr_nonnull(cfg);
    rst_db *db = rst_db_new(&cfg->shard_servers[0]);
    ck_assert_ptr_nonnull(db);
    for (int i = 0; i < 6; i++) {
        char *sql = malloc(64);
        ck_assert_ptr_nonnull(sql);
        snprintf(sql, 64, "SELECT CAST(%d + ? AS UNSIGNED)", i);
        rst_param p[1] = { rst_p_u64(10) };
        rst_rows rows;
        rst_arena a;
        rst_arena_init(&a, 1024);
        ck_assert_int_eq(rst_db_query(db, &a, sql, p, 1, "U", &rows), RST_DB_OK);
        ck_assert_int_eq(rows.nrows, 1);
        ck_assert_uint_eq(rst_row(&rows, 0)[0].u, 10 + (uint64_t)i);
        rst_arena_free(&a);
        free(sql);
    }
    rst_db_free(db);
}
END_TEST

/* ------------------------------------------------------------ Redis values */

/* "0 1x" read by sscanf("%lu %d") is version 0, admin 1: a plain user's
 * token would pass as an admin's. A value that is not exactly
 * "<version> <0|1>" must be a miss. */
START_TEST(a_corrupt_token_state_never_grants_admin)
{
    char name[ACCT_NAMELEN], id[ACCT_IDLEN], tok[ACCT_TOKLEN], key[64], pname[64], body[160];
    api_resp r;
    acct_new_user("tv", name, id, tok);
    snprintf(key, sizeof(key), "user:%s:tv", id);
    redis_set(key, "0 1x");
    acct_unique_name(pname, sizeof(pname), "Corrupt");
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":100}", pname);
    api_ok(acct_req(&r, "POST", "/products", body, tok, NULL));
    api_assert_error(&r, 403, "forbidden");
    api_free(&r);
    /* The unreadable value was replaced from the shard: version 0, not admin. */
    redisReply *v = api_redis("GET %s%s", api_redis_prefix(), key);
    ck_assert_msg(v != NULL && v->type == REDIS_REPLY_STRING && strcmp(v->str, "0 0") == 0,
                  "token state now %s", v && v->type == REDIS_REPLY_STRING ? v->str : "(none)");
    freeReplyObject(v);
}
END_TEST

/* atoi("9x") is 9 failures: the right password would get 429. */
START_TEST(a_corrupt_throttle_count_is_no_count)
{
    char name[ACCT_NAMELEN], key[80];
    acct_new_user("th", name, NULL, NULL);
    char lc[ACCT_NAMELEN];
    for (size_t i = 0; i <= strlen(name); i++)
        lc[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    snprintf(key, sizeof(key), "throttle:%s", lc);
    redis_set(key, "9x");
    ck_assert_int_eq(acct_signin_status(name, ACCT_PW), 200);
}
END_TEST

/* A cached page whose head parses but whose items are not JSON. */
START_TEST(a_corrupt_product_page_is_a_miss)
{
    char gen[32] = "0", key[96], accept[96];
    redisReply *g = api_redis("GET %scatalog:gen", api_redis_prefix());
    ck_assert_ptr_nonnull(g);
    if (g->type == REDIS_REPLY_STRING)
        snprintf(gen, sizeof(gen), "%s", g->str);
    freeReplyObject(g);
    snprintf(key, sizeof(key), "products:g%s:o0:l7", gen);
    redis_set(key, "1 5 7 not-json");
    api_resp r;
    api_ok(api_get_accept(&r, "/products?limit=7", api_unique_accept(accept, sizeof(accept))));
    ck_assert_msg(r.status == 200 && r.json != NULL, "GET %ld: %s", r.status, r.body);
    ck_assert_int_eq(cJSON_GetArraySize(api_json_at(&r, "items")), 7);
    api_free(&r);
}
END_TEST

/* ------------------------------------------------------------ issue 14 */

/* nginx refuses TRACE itself; the answer must still follow API.md §1.1:
 * 404 for a path no route has, 405 with Allow for one that has. */
START_TEST(trace_and_connect_follow_the_routes)
{
    static const char *const methods[] = { "TRACE", "CONNECT" };
    char allow[64];
    for (int i = 0; i < 2; i++) {
        api_resp r;
        api_ok(api_request(&r, methods[i], "/nope", NULL, 0, NULL));
        api_assert_error(&r, 404, "not_found");
        api_free(&r);
        api_ok(api_request(&r, methods[i], "/products", NULL, 0, NULL));
        api_assert_error(&r, 405, "method_not_allowed");
        ck_assert_ptr_nonnull(api_header(&r, "Allow", allow, sizeof(allow)));
        ck_assert_str_eq(allow, "GET, HEAD, POST");
        api_free(&r);
    }
}
END_TEST

/* A key with \u0000 is an unknown field, never the field before the NUL. */
START_TEST(nul_keys_are_unknown_fields)
{
    api_resp r;
    api_ok(acct_req(&r, "POST", "/users/SignUp",
                    "{\"name\\u0000\":\"x\",\"password\":\"pass word 1\"}", NULL, NULL));
    acct_assert_fields(&r, ACCT_FIELDS("name"));
    api_free(&r);
    char name[ACCT_NAMELEN], body[160], id[ACCT_IDLEN];
    acct_unique_name(name, sizeof(name), "nk");
    snprintf(body, sizeof(body), "{\"name\\u0000x\":\"zz1\",\"name\":\"%s\",\"password\":\"pass word 1\"}",
             name);
    api_ok(acct_req(&r, "POST", "/users/SignUp", body, NULL, NULL));
    ck_assert_msg(r.status == 201, "sign-up: %ld %s", r.status, r.body);
    ck_assert_str_eq(api_json_str(&r, "user.name"), name);
    acct_copy_str(id, sizeof(id), api_json_str(&r, "user.id"));
    api_free(&r);
}
END_TEST

/* A commit whose answer was lost (the failpoint: the write is carried out,
 * then the connection dropped, as when a shard dies between committing and
 * answering) is looked for before anyone is answered: a write that
 * happened answers success, once. Before, it answered 502 and the retry
 * found a 409. */
static const char *const LOST[] = { "X-Roost-Failpoint: write-reply-lost", NULL };

START_TEST(a_write_whose_answer_was_lost_is_reported_truthfully)
{
    char name[ACCT_NAMELEN], body[256], tok[ACCT_TOKLEN], id[ACCT_IDLEN];
    char aname[ACCT_NAMELEN], admin[ACCT_TOKLEN], pname[64], pid[ACCT_IDLEN], path[80];
    api_resp r;
    acct_unique_name(name, sizeof(name), "lost");
    acct_creds_body(body, sizeof(body), name, ACCT_PW);
    api_ok(acct_req(&r, "POST", "/users/SignUp", body, NULL, LOST));
    ck_assert_msg(r.status == 201, "sign-up with the answer lost: %ld %s", r.status, r.body);
    acct_copy_str(id, sizeof(id), api_json_str(&r, "user.id"));
    api_free(&r);
    api_ok(acct_req(&r, "POST", "/users/SignUp", body, NULL, NULL));
    api_assert_error(&r, 409, "conflict");            /* made once */
    api_free(&r);
    acct_signin(name, ACCT_PW, tok);
    /* A product (one statement outside a transaction). */
    ck_assert_int_eq(acct_make_admin("lostadm", aname, NULL, admin), 0);
    acct_unique_name(pname, sizeof(pname), "Lost");
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":250}", pname);
    api_ok(acct_req(&r, "POST", "/products", body, admin, LOST));
    ck_assert_msg(r.status == 201, "product with the answer lost: %ld %s", r.status, r.body);
    acct_copy_str(pid, sizeof(pid), api_json_str(&r, "product.id"));
    api_free(&r);
    /* A cart add, then a merge: each applied exactly once. */
    snprintf(path, sizeof(path), "/addToCars/%s", id);
    snprintf(body, sizeof(body), "{\"product_id\":\"%s\",\"quantity\":2}", pid);
    api_ok(acct_req(&r, "POST", path, body, tok, LOST));
    ck_assert_msg(r.status == 201, "cart add with the answer lost: %ld %s", r.status, r.body);
    api_free(&r);
    api_ok(acct_req(&r, "POST", path, body, tok, LOST));
    ck_assert_msg(r.status == 200, "cart merge with the answer lost: %ld %s", r.status, r.body);
    ck_assert_int_eq((int)api_json_at(&r, "item.quantity")->valuedouble, 4);
    api_free(&r);
    /* A tweet (its commit's answer lost), made once. */
    snprintf(path, sizeof(path), "/tweets/%s", id);
    api_ok(acct_req(&r, "POST", path, "{\"message\":\"lost and found\"}", tok, LOST));
    ck_assert_msg(r.status == 201, "tweet with the answer lost: %ld %s", r.status, r.body);
    api_free(&r);
    snprintf(path, sizeof(path), "/users/%s", id);
    api_ok(api_get_fresh(&r, path));
    ck_assert_int_eq((int)api_json_at(&r, "user.tweets_count")->valuedouble, 1);
    api_free(&r);
    /* A follow: the out half's commit loses its answer, and with its
     * connection the follower's lock: the edge is not whole, so the answer
     * is 502, not a success; the retry completes it (201), once. */
    char other[ACCT_NAMELEN], oid[ACCT_IDLEN];
    acct_new_user("lostf", other, oid, NULL);
    snprintf(path, sizeof(path), "/followers/%s", oid);
    api_ok(acct_req(&r, "POST", path, NULL, tok, LOST));
    ck_assert_msg(r.status == 502, "follow with the answer lost: %ld %s", r.status, r.body);
    api_free(&r);
    api_ok(acct_req(&r, "POST", path, NULL, tok, NULL));
    ck_assert_msg(r.status == 201, "the retry: %ld %s", r.status, r.body);
    api_free(&r);
    snprintf(path, sizeof(path), "/users/%s", oid);
    api_ok(api_get_fresh(&r, path));
    ck_assert_int_eq((int)api_json_at(&r, "user.followers_count")->valuedouble, 1);
    api_free(&r);
}
END_TEST

/* A password change on a worker whose Redis breaker is open (it saw Redis
 * fail a moment ago; Redis is back for everyone else) must still put the
 * new token version into Redis: other workers check tokens there, and
 * would accept the revoked ones for a minute. Before, the write was
 * skipped behind the breaker. */
START_TEST(a_revocation_reaches_redis_through_an_open_breaker)
{
    static const char *const OPEN[] = { "X-Roost-Failpoint: breaker-open", NULL };
    char name[ACCT_NAMELEN], id[ACCT_IDLEN], tok[ACCT_TOKLEN], path[64], key[64];
    api_resp r;
    acct_new_user("rv", name, id, tok);
    char same[96];
    snprintf(path, sizeof(path), "/users/%s", id);
    snprintf(same, sizeof(same), "{\"name\":\"%s\"}", name);
    api_ok(acct_req(&r, "PUT", path, same, tok, NULL));      /* token state cached */
    ck_assert_int_eq(r.status, 200);
    api_free(&r);
    snprintf(key, sizeof(key), "user:%s:tv", id);
    api_ok(acct_req(&r, "PUT", path, "{\"password\":\"a new pass word\"}", tok, OPEN));
    ck_assert_msg(r.status == 200, "password change: %ld %s", r.status, r.body);
    api_free(&r);
    redisReply *v = api_redis("GET %s%s", api_redis_prefix(), key);
    ck_assert_msg(v != NULL && v->type == REDIS_REPLY_STRING && strcmp(v->str, "1 0") == 0,
                  "token state in Redis after the change: %s",
                  v && v->type == REDIS_REPLY_STRING ? v->str : "(none)");
    freeReplyObject(v);
    /* And the old token is refused, whichever worker answers. */
    for (int i = 0; i < 8; i++) {
        api_ok(acct_req(&r, "PUT", path, "{\"name\":\"y\"}", tok, NULL));
        acct_assert_401(&r, "token_expired");
        api_free(&r);
    }
}
END_TEST

Suite *suite_seams(void)
{
    Suite *s = suite_create("seams");
    TCase *t = api_tcase(s, "defects");
    tcase_add_test(t, promote_refuses_a_name_longer_than_any_user_s);
    tcase_add_test(t, run_time_statements_never_share_a_cache_slot);
    tcase_add_test(t, a_corrupt_token_state_never_grants_admin);
    tcase_add_test(t, a_corrupt_throttle_count_is_no_count);
    tcase_add_test(t, a_corrupt_product_page_is_a_miss);
    tcase_add_test(t, trace_and_connect_follow_the_routes);
    tcase_add_test(t, nul_keys_are_unknown_fields);
    tcase_add_test(t, a_write_whose_answer_was_lost_is_reported_truthfully);
    tcase_add_test(t, a_revocation_reaches_redis_through_an_open_breaker);
    return s;
}
