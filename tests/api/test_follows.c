/* test_follows.c -- API.md §6 through nginx: follow (201, then 200),
 * unfollow (200, then 404), the counters on both users, who may, a storm of
 * concurrent follows and unfollows of one pair, half-written edges (a worker
 * killed between the halves by the test stack's failpoint, and states
 * written into the shards) completed by a retry and by `roostctl repair
 * follows`, the lists, and a stopped shard server. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "accounts.h"
#include "client.h"
#include "core/arena.h"
#include "core/ids.h"
#include "store/db.h"
#include "store/shardmap.h"
#include "suites.h"

static uint64_t id_of(const acct_user *u)
{
    return strtoull(u->id, NULL, 10);
}

static long follow(const char *method, const acct_user *who, const acct_user *whom, api_resp *keep)
{
    char path[64];
    api_resp r;
    snprintf(path, sizeof(path), "/followers/%s", whom->id);
    api_ok(acct_req(&r, method, path, NULL, who ? who->tok : NULL, NULL));
    long st = r.status;
    if (keep)
        *keep = r;
    else
        api_free(&r);
    return st;
}

/* followers_count and following_count of u, fresh from roostd. */
static void counts(const acct_user *u, long *followers, long *following)
{
    char path[64];
    api_resp r;
    snprintf(path, sizeof(path), "/users/%s", u->id);
    api_ok(api_get_fresh(&r, path));
    ck_assert_int_eq(r.status, 200);
    *followers = (long)api_json_at(&r, "user.followers_count")->valuedouble;
    *following = (long)api_json_at(&r, "user.following_count")->valuedouble;
    api_free(&r);
}

static void expect_counts(const acct_user *u, long followers, long following)
{
    long f, g;
    counts(u, &f, &g);
    ck_assert_msg(f == followers && g == following, "%s: followers %ld following %ld, want %ld %ld",
                  u->name, f, g, followers, following);
}

/* ------------------------------------------------------------ the shards */

/* A connection to the shard server holding user u (closed by the caller). */
static rst_db *shard_of(uint64_t uid)
{
    const rst_config *cfg = api_stack_config();
    ck_assert_ptr_nonnull(cfg);
    rst_shardmap map;
    rst_shardmap_build(&map, cfg);
    int srv = rst_shardmap_server_for_id(&map, uid);
    ck_assert_int_ge(srv, 0);
    rst_db *db = rst_db_new(&cfg->shard_servers[srv]);
    ck_assert_ptr_nonnull(db);
    return db;
}

static void shard_exec(uint64_t uid, const char *sql, const rst_param *p, int n)
{
    rst_db *db = shard_of(uid);
    rst_db_rc rc = rst_db_exec(db, sql, p, n, NULL);
    ck_assert_msg(rc == RST_DB_OK, "%s: %s", sql, rst_db_last_error(db));
    rst_db_free(db);
}

/* How many rows `sql` (two ? for the pair) counts on uid's server. */
static long shard_count(uint64_t uid, const char *sql, uint64_t a, uint64_t b)
{
    rst_db *db = shard_of(uid);
    rst_arena ar;
    rst_rows rows;
    rst_arena_init(&ar, 1024);
    rst_param p[2] = { rst_p_u64(a), rst_p_u64(b) };
    ck_assert_int_eq(rst_db_query(db, &ar, sql, p, 2, "U", &rows), RST_DB_OK);
    long n = (long)rst_row(&rows, 0)[0].u;
    rst_arena_free(&ar);
    rst_db_free(db);
    return n;
}

static const char OUT_HALF[] =
    "SELECT COUNT(*) FROM follows_out WHERE follower_id = ? AND followee_id = ?";
static const char IN_HALF[] =
    "SELECT COUNT(*) FROM follows_in WHERE followee_id = ? AND follower_id = ?";

/* Both halves of a's edge to b: 1 1 (whole) or 0 0 (none) asserted. */
static void expect_halves(const acct_user *a, const acct_user *b, long want)
{
    long out = shard_count(id_of(a), OUT_HALF, id_of(a), id_of(b));
    long in = shard_count(id_of(b), IN_HALF, id_of(b), id_of(a));
    ck_assert_msg(out == want && in == want, "halves out %ld in %ld, want %ld", out, in, want);
}

/* The out half alone, with its counter, as a worker killed between the
 * halves of a follow leaves it. */
static void write_out_half_only(const acct_user *a, const acct_user *b)
{
    uint64_t now_ms = (uint64_t)time(NULL) * 1000;
    rst_param row[4] = { rst_p_u64(id_of(a)), rst_p_u64(id_of(b)),
                         rst_p_u64((now_ms - RST_ID_EPOCH_MS) << 23 |
                                   (uint64_t)rst_id_shard(id_of(a)) << 11),
                         rst_p_time(now_ms) };
    shard_exec(id_of(a), "INSERT INTO follows_out (follower_id, followee_id, id, created_at) "
               "VALUES (?, ?, ?, ?)", row, 4);
    rst_param who[1] = { rst_p_u64(id_of(a)) };
    shard_exec(id_of(a), "UPDATE users SET following_count = following_count + 1 WHERE id = ?",
               who, 1);
}

/* ------------------------------------------------------------ tests */

START_TEST(follow_then_again_then_unfollow)
{
    acct_user a, b;
    acct_user_new(&a, "fa");
    acct_user_new(&b, "fb");
    api_resp r;
    ck_assert_int_eq(follow("POST", &a, &b, &r), 201);
    ck_assert_str_eq(api_json_str(&r, "follow.follower_id"), a.id);
    ck_assert_str_eq(api_json_str(&r, "follow.followee_id"), b.id);
    ck_assert(api_is_timestamp(api_json_str(&r, "follow.created_at")));
    char loc[80], want[80];
    snprintf(want, sizeof(want), "/followers/%s", b.id);
    ck_assert_ptr_nonnull(api_header(&r, "Location", loc, sizeof(loc)));
    ck_assert_str_eq(loc, want);
    char created[40];
    acct_copy_str(created, sizeof(created), api_json_str(&r, "follow.created_at"));
    api_free(&r);
    expect_counts(&a, 0, 1);
    expect_counts(&b, 1, 0);
    ck_assert_int_eq(follow("POST", &a, &b, &r), 200);
    ck_assert_str_eq(api_json_str(&r, "follow.created_at"), created);    /* the same edge */
    api_free(&r);
    expect_counts(&b, 1, 0);
    expect_halves(&a, &b, 1);
    ck_assert_int_eq(follow("DELETE", &a, &b, &r), 200);
    ck_assert_str_eq(api_json_str(&r, "follow.created_at"), created);
    api_free(&r);
    expect_counts(&a, 0, 0);
    expect_counts(&b, 0, 0);
    expect_halves(&a, &b, 0);
    ck_assert_int_eq(follow("DELETE", &a, &b, &r), 404);
    api_assert_error(&r, 404, "not_found");
    api_free(&r);
}
END_TEST

START_TEST(who_may_follow_whom)
{
    acct_user a, b;
    acct_user_new(&a, "fw");
    acct_user_new(&b, "fv");
    api_resp r;
    ck_assert_int_eq(follow("POST", NULL, &b, &r), 401);
    acct_assert_401(&r, "unauthorized");
    api_free(&r);
    ck_assert_int_eq(follow("DELETE", NULL, &b, NULL), 401);
    ck_assert_int_eq(follow("POST", &a, &a, &r), 422);
    acct_assert_fields(&r, ACCT_FIELDS("user_id"));
    api_free(&r);
    acct_user ghost = b;
    snprintf(ghost.id, sizeof(ghost.id), "%llu", (unsigned long long)id_of(&b) + 1);
    ck_assert_int_eq(follow("POST", &a, &ghost, &r), 404);
    api_assert_error(&r, 404, "not_found");
    api_free(&r);
    ck_assert_int_eq(follow("DELETE", &a, &ghost, NULL), 404);
    /* An empty JSON object is accepted too; anything but JSON is not. */
    char path[64];
    snprintf(path, sizeof(path), "/followers/%s", b.id);
    api_ok(acct_req(&r, "POST", path, "{}", a.tok, NULL));
    ck_assert_int_eq(r.status, 201);
    api_free(&r);
    const char *h[] = { "Content-Type: text/plain", NULL };
    api_ok(acct_req(&r, "POST", path, "x", a.tok, h));
    api_assert_error(&r, 415, "unsupported_media_type");
    api_free(&r);
    api_ok(acct_req(&r, "PUT", path, "{}", a.tok, NULL));
    api_assert_error(&r, 405, "method_not_allowed");
    api_free(&r);
}
END_TEST

/* n children follow and unfollow one pair at once, many times each. */
START_TEST(a_storm_on_one_pair_keeps_counters_equal_to_edges)
{
    enum { KIDS = 6, ROUNDS = 10 };
    acct_user a, b;
    acct_user_new(&a, "fs");
    acct_user_new(&b, "ft");
    pid_t pids[KIDS];
    for (int k = 0; k < KIDS; k++) {
        pids[k] = fork();
        ck_assert_int_ge(pids[k], 0);
        if (pids[k] == 0) {
            for (int i = 0; i < ROUNDS; i++) {
                char path[64];
                api_resp r;
                snprintf(path, sizeof(path), "/followers/%s", b.id);
                if (acct_req(&r, (i + k) % 2 ? "DELETE" : "POST", path, NULL, a.tok, NULL) == 0)
                    api_free(&r);
            }
            _exit(0);
        }
    }
    for (int k = 0; k < KIDS; k++)
        waitpid(pids[k], NULL, 0);
    long out = shard_count(id_of(&a), OUT_HALF, id_of(&a), id_of(&b));
    long in = shard_count(id_of(&b), IN_HALF, id_of(&b), id_of(&a));
    ck_assert_msg(out == in, "a half-written edge: out %ld, in %ld", out, in);
    expect_counts(&a, 0, out);
    expect_counts(&b, in, 0);
}
END_TEST

START_TEST(a_half_written_follow_is_completed_by_a_retry)
{
    acct_user a, b;
    acct_user_new(&a, "fh");
    acct_user_new(&b, "fi");
    write_out_half_only(&a, &b);
    expect_counts(&a, 0, 1);
    expect_counts(&b, 0, 0);                    /* the in half never came */
    ck_assert_int_eq(follow("POST", &a, &b, NULL), 201);
    expect_halves(&a, &b, 1);
    expect_counts(&a, 0, 1);
    expect_counts(&b, 1, 0);
}
END_TEST

/* The worker serving a follow is killed between the halves (the
 * kill-between-halves failpoint of the test stack: SIGKILL right after the
 * out half commits). nginx answers 502; the edge is half written; a retry
 * completes one such edge, `roostctl repair follows` another. */
START_TEST(a_worker_killed_between_the_halves_converges_both_ways)
{
    static const char *const KILL[] = { "X-Roost-Failpoint: kill-between-halves", NULL };
    acct_user a, b, c, d;
    acct_user_new(&a, "fk");
    acct_user_new(&b, "fj");
    acct_user_new(&c, "fg");
    acct_user_new(&d, "ff");
    char path[64];
    api_resp r;
    const acct_user *pairs[2][2] = { { &a, &b }, { &c, &d } };
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "/followers/%s", pairs[i][1]->id);
        api_ok(acct_req(&r, "POST", path, NULL, pairs[i][0]->tok, KILL));
        ck_assert_msg(r.status == 502, "follow whose worker was killed: %ld %s", r.status, r.body);
        api_free(&r);
        ck_assert_int_eq(shard_count(id_of(pairs[i][0]), OUT_HALF, id_of(pairs[i][0]),
                                     id_of(pairs[i][1])), 1);
        ck_assert_int_eq(shard_count(id_of(pairs[i][1]), IN_HALF, id_of(pairs[i][1]),
                                     id_of(pairs[i][0])), 0);
        expect_counts(pairs[i][0], 0, 1);
        expect_counts(pairs[i][1], 0, 0);
    }
    /* Path 1: the client retries. */
    ck_assert_int_eq(follow("POST", &a, &b, NULL), 201);
    expect_halves(&a, &b, 1);
    expect_counts(&b, 1, 0);
    /* Path 2: the operator repairs. */
    ck_assert_int_eq(acct_roostctl("repair follows", NULL), 0);
    expect_halves(&c, &d, 1);
    expect_counts(&c, 0, 1);
    expect_counts(&d, 1, 0);
}
END_TEST

START_TEST(repair_completes_and_removes_half_written_edges)
{
    acct_user a, b, c, d;
    acct_user_new(&a, "fr");
    acct_user_new(&b, "fq");
    acct_user_new(&c, "fp");
    acct_user_new(&d, "fo");
    write_out_half_only(&a, &b);                /* a follow cut short */
    ck_assert_int_eq(follow("POST", &c, &d, NULL), 201);
    rst_param pair[2] = { rst_p_u64(id_of(&c)), rst_p_u64(id_of(&d)) };
    rst_param who[1] = { rst_p_u64(id_of(&c)) };
    shard_exec(id_of(&c), "DELETE FROM follows_out WHERE follower_id = ? AND followee_id = ?",
               pair, 2);                        /* an unfollow cut short */
    shard_exec(id_of(&c), "UPDATE users SET following_count = following_count - 1 WHERE id = ?",
               who, 1);
    ck_assert_int_eq(acct_roostctl("repair follows --dry-run", NULL), 0);
    expect_counts(&b, 0, 0);                    /* a dry run changes nothing */
    ck_assert_int_eq(acct_roostctl("repair follows", NULL), 0);
    expect_halves(&a, &b, 1);
    expect_halves(&c, &d, 0);
    expect_counts(&a, 0, 1);
    expect_counts(&b, 1, 0);
    expect_counts(&c, 0, 0);
    expect_counts(&d, 0, 0);
}
END_TEST

/* The lists: newest follow first, {"id", "name", "followed_at"}, pages and
 * cursors, the follower's current name, 404 for an unknown user. */
START_TEST(lists_newest_first_with_pages_and_cursors)
{
    acct_user star, fans[3];
    acct_user_new(&star, "fl");
    for (int i = 0; i < 3; i++) {
        acct_user_new(&fans[i], "fm");
        ck_assert_int_eq(follow("POST", &fans[i], &star, NULL), 201);
    }
    ck_assert_int_eq(follow("POST", &star, &fans[0], NULL), 201);
    char path[256];
    api_resp r;
    snprintf(path, sizeof(path), "/followers/%s?limit=2", star.id);
    api_ok(api_get_fresh(&r, path));
    ck_assert_int_eq(r.status, 200);
    const cJSON *items = api_json_at(&r, "items");
    ck_assert_int_eq(cJSON_GetArraySize(items), 2);
    ck_assert_str_eq(api_json_str(&r, "items.0.id"), fans[2].id);       /* newest first */
    ck_assert_str_eq(api_json_str(&r, "items.0.name"), fans[2].name);
    ck_assert(api_is_timestamp(api_json_str(&r, "items.0.followed_at")));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetArrayItem(items, 0)), 3);
    ck_assert_str_eq(api_json_str(&r, "items.1.id"), fans[1].id);
    ck_assert_int_eq((int)api_json_at(&r, "next_page")->valuedouble, 2);
    char cursor[128];
    acct_copy_str(cursor, sizeof(cursor), api_json_str(&r, "next_cursor"));
    api_free(&r);
    snprintf(path, sizeof(path), "/followers/%s?limit=2&cursor=%s", star.id, cursor);
    api_ok(api_get_fresh(&r, path));
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(cJSON_GetArraySize(api_json_at(&r, "items")), 1);
    ck_assert_str_eq(api_json_str(&r, "items.0.id"), fans[0].id);
    ck_assert(cJSON_IsNull(api_json_at(&r, "next_cursor")));
    api_free(&r);
    /* The cursor is bound to its list: another user's list refuses it. */
    snprintf(path, sizeof(path), "/followers/%s?limit=2&cursor=%s", fans[0].id, cursor);
    api_ok(api_get_fresh(&r, path));
    api_assert_error(&r, 422, "validation_failed");
    api_free(&r);
    snprintf(path, sizeof(path), "/following/%s?limit=2&cursor=%s", star.id, cursor);
    api_ok(api_get_fresh(&r, path));
    api_assert_error(&r, 422, "validation_failed");
    api_free(&r);
    snprintf(path, sizeof(path), "/followers/%s?page=2&limit=2", star.id);
    api_ok(api_get_fresh(&r, path));
    ck_assert_str_eq(api_json_str(&r, "items.0.id"), fans[0].id);
    ck_assert(cJSON_IsNull(api_json_at(&r, "next_page")));
    api_free(&r);
    snprintf(path, sizeof(path), "/following/%s", star.id);
    api_ok(api_get_fresh(&r, path));
    ck_assert_int_eq(cJSON_GetArraySize(api_json_at(&r, "items")), 1);
    ck_assert_str_eq(api_json_str(&r, "items.0.id"), fans[0].id);
    char cc[64];
    ck_assert_ptr_nonnull(api_header(&r, "Cache-Control", cc, sizeof(cc)));
    ck_assert_str_eq(cc, "public, max-age=1");
    api_free(&r);
    /* A rename shows in the lists. */
    char rename[64], body[96];
    snprintf(rename, sizeof(rename), "%sr", fans[2].name);
    snprintf(body, sizeof(body), "{\"name\":\"%s\"}", rename);
    snprintf(path, sizeof(path), "/users/%s", fans[2].id);
    api_ok(acct_req(&r, "PUT", path, body, fans[2].tok, NULL));
    ck_assert_int_eq(r.status, 200);
    api_free(&r);
    snprintf(path, sizeof(path), "/followers/%s?limit=1", star.id);
    api_ok(api_get_fresh(&r, path));
    ck_assert_str_eq(api_json_str(&r, "items.0.name"), rename);
    api_free(&r);
    snprintf(path, sizeof(path), "/followers/%llu", (unsigned long long)id_of(&star) + 1);
    api_ok(api_get_fresh(&r, path));
    api_assert_error(&r, 404, "not_found");
    api_free(&r);
}
END_TEST

/* ------------------------------------------------------------ faults */

static int server_of(const acct_user *u)
{
    const rst_config *cfg = api_stack_config();
    rst_shardmap map;
    rst_shardmap_build(&map, cfg);
    return rst_shardmap_server_for_id(&map, id_of(u));
}

/* Server 1 (db2) stopped: a follow whose followee lives there answers 502
 * (the followee is looked up first, on db2, so nothing is half written);
 * follows between users of db1 go on; once db2 is back the retry works and
 * the repair finds nothing to do. */
START_TEST(a_stopped_shard_fails_only_the_follows_that_need_it)
{
    acct_user on[2][2];
    int have[2] = { 0, 0 };
    for (int tries = 0; tries < 60 && (have[0] < 2 || have[1] < 2); tries++) {
        acct_user u;
        acct_user_new(&u, "fx");
        int srv = server_of(&u);
        if (srv >= 0 && srv < 2 && have[srv] < 2)
            on[srv][have[srv]++] = u;
    }
    ck_assert_msg(have[0] == 2 && have[1] == 2, "no two users on each shard server");
    ck_assert_int_eq(api_stack("stop", "db2"), 0);
    api_resp r;
    long cut = follow("POST", &on[0][0], &on[1][0], &r);   /* out half on db1, in half on db2 */
    int roostd_502 = cut == 502 && api_json_str(&r, "error.code") &&
                     strcmp(api_json_str(&r, "error.code"), "upstream_unavailable") == 0;
    api_free(&r);
    long fine = follow("POST", &on[0][0], &on[0][1], NULL);   /* both on db1 */
    int started = api_stack("start", "db2");
    ck_assert_msg(roostd_502, "follow into a stopped shard: %ld", cut);
    ck_assert_int_eq(fine, 201);
    ck_assert_int_eq(started, 0);
    expect_halves(&on[0][0], &on[1][0], 0);
    ck_assert_int_eq(follow("POST", &on[0][0], &on[1][0], NULL), 201);
    ck_assert_int_eq(acct_roostctl("repair follows", NULL), 0);
    expect_halves(&on[0][0], &on[1][0], 1);
    expect_counts(&on[1][0], 1, 0);
    expect_counts(&on[0][0], 0, 2);
}
END_TEST

static void restart_all(void)
{
    static const char *const names[] = { "db1", "db2" };
    for (int i = 0; i < 2; i++)
        if (api_stack("start", names[i]) != 0)
            fprintf(stderr, "test_follows: could not start %s\n", names[i]);
}

Suite *suite_follows(void)
{
    Suite *s = suite_create("follows");
    TCase *t = api_tcase(s, "follows");
    tcase_set_timeout(t, 60);
    tcase_add_test(t, follow_then_again_then_unfollow);
    tcase_add_test(t, who_may_follow_whom);
    tcase_add_test(t, a_storm_on_one_pair_keeps_counters_equal_to_edges);
    tcase_add_test(t, a_half_written_follow_is_completed_by_a_retry);
    tcase_add_test(t, repair_completes_and_removes_half_written_edges);
    tcase_add_test(t, a_worker_killed_between_the_halves_converges_both_ways);
    tcase_add_test(t, lists_newest_first_with_pages_and_cursors);
    t = api_tcase(s, "follows_faults");
    tcase_add_unchecked_fixture(t, NULL, restart_all);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, a_stopped_shard_fails_only_the_follows_that_need_it);
    return s;
}
