/* test_replicas.c -- reads on the MariaDB replicas of the test stack (db1r,
 * db2r): anonymous reads go to a replica, they keep working with one or
 * every replica stopped, a replica whose SQL thread stops is skipped within
 * about a second and used again once it caught up, and read-your-writes
 * holds while a replica lags 10 s (docs/ARCHITECTURE.md §3.1). The
 * replica's state is read from /metrics (roost_replica_up and
 * roost_replica_reads_total), as an operator would. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accounts.h"
#include "core/ids.h"
#include "store/shardmap.h"
#include "suites.h"

/* The replica serving the shard server of user id: its service name in the
 * stack (db1r, db2r) and its /metrics labels. */
typedef struct {
    char svc[8];
    char labels[200];
} replica_of;

static void replica_of_user(const char *id, replica_of *out)
{
    const rst_config *cfg = api_stack_config();
    ck_assert_ptr_nonnull(cfg);
    static rst_shardmap map;
    rst_shardmap_build(&map, cfg);
    int server = rst_shardmap_server_for_id(&map, strtoull(id, NULL, 10));
    ck_assert_int_ge(server, 0);
    for (int i = 0; i < cfg->nreplicas; i++) {
        const rst_replica_conf *r = &cfg->replicas[i];
        if (r->primary != server)
            continue;
        snprintf(out->labels, sizeof(out->labels), "{server=\"%s\",replica=\"%s:%d\"}",
                 cfg->shard_servers[server].name, r->db.host, r->db.port);
        /* The stack: shard a on db1 (replica db1r), shard b on db2 (db2r). */
        snprintf(out->svc, sizeof(out->svc), "%s", server == 0 ? "db1r" : "db2r");
        return;
    }
    ck_abort_msg("no replica configured for server %d", server);
}

/* A metric of /metrics with these labels; -1 when it is not there. */
static double metric(const char *name, const char *labels)
{
    api_resp r;
    double v = -1;
    char want[300];
    snprintf(want, sizeof(want), "\n%s%s ", name, labels);
    if (api_get(&r, "/metrics") == 0 && r.status == 200) {
        const char *p = strstr(r.body, want);
        if (p != NULL)
            v = strtod(p + strlen(want), NULL);
    }
    api_free(&r);
    return v;
}

/* Seconds until roost_replica_up of the replica is `want` (polled every
 * 100 ms), or -1 after `limit` seconds. */
static double await_up(const replica_of *rep, int want, double limit)
{
    double t0 = api_now_s();
    while (api_now_s() - t0 < limit) {
        if (metric("roost_replica_up", rep->labels) == want)
            return api_now_s() - t0;
        usleep(100 * 1000);
    }
    return -1;
}

/* The user's name as an anonymous reader (or the token's holder) sees it. */
static void name_seen(const char *id, const char *tok, char *out, size_t len)
{
    char path[64];
    api_resp r;
    snprintf(path, sizeof(path), "/users/%s", id);
    char accept[96];
    const char *h[] = { NULL, NULL };
    char ah[128];
    snprintf(ah, sizeof(ah), "Accept: %s", api_unique_accept(accept, sizeof(accept)));
    h[0] = ah;
    api_ok(acct_req(&r, "GET", path, NULL, tok, h));
    ck_assert_msg(r.status == 200, "GET %s: %ld %s", path, r.status, r.body);
    acct_copy_str(out, len, api_json_str(&r, "user.name"));
    api_free(&r);
}

static void rename_user(const acct_user *u, const char *name)
{
    char path[64], body[96];
    api_resp r;
    snprintf(path, sizeof(path), "/users/%s", u->id);
    snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name);
    api_ok(acct_req(&r, "PUT", path, body, u->tok, NULL));
    ck_assert_msg(r.status == 200, "rename: %ld %s", r.status, r.body);
    api_free(&r);
}

/* Whatever a test did to the replicas is undone here, in the runner, even
 * when the test failed half-way. */
static void replicas_restore(void)
{
    static const char *const names[] = { "db1r", "db2r" };
    if (api_stack("start", "redis") != 0)
        fprintf(stderr, "replicas: could not start redis\n");
    for (int i = 0; i < 2; i++) {
        if (api_stack("start", names[i]) != 0)
            fprintf(stderr, "replicas: could not start %s\n", names[i]);
        if (api_sql(names[i], "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 0; START SLAVE",
                    NULL, 0) != 0)
            fprintf(stderr, "replicas: could not reset replication on %s\n", names[i]);
    }
    if (api_await_replicas() != 0)
        fprintf(stderr, "replicas: the replicas did not catch up\n");
}

START_TEST(anonymous_reads_go_to_a_replica_and_survive_losing_it)
{
    acct_user u;
    acct_user_new(&u, "rep");
    replica_of rep;
    replica_of_user(u.id, &rep);
    ck_assert_msg(api_await_replicas() == 0, "the replicas did not catch up");
    ck_assert_msg(await_up(&rep, 1, 10) >= 0, "%s never in use", rep.svc);
    double before = metric("roost_replica_reads_total", rep.labels);
    char seen[ACCT_NAMELEN];
    for (int i = 0; i < 5; i++) {
        name_seen(u.id, NULL, seen, sizeof(seen));
        ck_assert_str_eq(seen, u.name);
    }
    double after = metric("roost_replica_reads_total", rep.labels);
    ck_assert_msg(after >= before + 5, "%s served %.0f of 5 anonymous reads", rep.svc, after - before);

    /* Its replica stopped: the reads go to the primary. */
    ck_assert_int_eq(api_stack("stop", rep.svc), 0);
    for (int i = 0; i < 5; i++) {
        name_seen(u.id, NULL, seen, sizeof(seen));
        ck_assert_str_eq(seen, u.name);
    }
    ck_assert_msg(metric("roost_replica_up", rep.labels) == 0, "%s stopped but still up", rep.svc);
    /* Every replica stopped: the same. */
    const char *other = strcmp(rep.svc, "db1r") == 0 ? "db2r" : "db1r";
    ck_assert_int_eq(api_stack("stop", other), 0);
    for (int i = 0; i < 5; i++) {
        name_seen(u.id, NULL, seen, sizeof(seen));
        ck_assert_str_eq(seen, u.name);
    }
    api_resp r;
    api_ok(api_get_fresh(&r, "/products?limit=2"));
    ck_assert_int_eq(r.status, 200);
    api_free(&r);
    ck_assert_int_eq(api_stack("start", other), 0);
    ck_assert_int_eq(api_stack("start", rep.svc), 0);

    /* Back: used again (a replica that was down is asked again within 8 s). */
    ck_assert_msg(await_up(&rep, 1, 12) >= 0, "%s not in use again after its start", rep.svc);
    before = metric("roost_replica_reads_total", rep.labels);
    name_seen(u.id, NULL, seen, sizeof(seen));
    after = metric("roost_replica_reads_total", rep.labels);
    ck_assert_msg(after > before, "%s is up but served no read", rep.svc);
}
END_TEST

START_TEST(a_lagging_replica_is_skipped_within_a_second_and_used_after_catching_up)
{
    acct_user u;
    acct_user_new(&u, "lag");
    replica_of rep;
    replica_of_user(u.id, &rep);
    ck_assert_msg(await_up(&rep, 1, 10) >= 0, "%s never in use", rep.svc);
    ck_assert_int_eq(api_sql(rep.svc, "STOP SLAVE SQL_THREAD", NULL, 0), 0);
    /* Each worker's check is at most 1 s old; the rest of the bound is the
     * polling and a slow (sanitized, shared) machine. */
    double skipped = await_up(&rep, 0, 5);
    ck_assert_msg(skipped >= 0 && skipped <= 2.0, "%s with its SQL thread stopped: skipped after %.2f s",
                  rep.svc, skipped);
    fprintf(stderr, "replicas: %s skipped %.2f s after its SQL thread stopped\n", rep.svc, skipped);
    /* The metric flips with the first worker that checks; every other
     * worker has checked within the next second (an ASan run in CI once
     * read the old name through a worker that had not). */
    usleep(1200 * 1000);
    /* The replica does not apply the rename; anonymous readers see it anyway. */
    char renamed[ACCT_NAMELEN], seen[ACCT_NAMELEN];
    acct_unique_name(renamed, sizeof(renamed), "lagnew");
    rename_user(&u, renamed);
    double before = metric("roost_replica_reads_total", rep.labels);
    name_seen(u.id, NULL, seen, sizeof(seen));
    ck_assert_str_eq(seen, renamed);
    ck_assert_msg(metric("roost_replica_reads_total", rep.labels) == before,
                  "a skipped replica served a read");

    ck_assert_int_eq(api_sql(rep.svc, "START SLAVE SQL_THREAD", NULL, 0), 0);
    double back = await_up(&rep, 1, 5);
    ck_assert_msg(back >= 0 && back <= 2, "%s caught up but not used again after %.2f s", rep.svc, back);
    before = metric("roost_replica_reads_total", rep.labels);
    name_seen(u.id, NULL, seen, sizeof(seen));
    ck_assert_str_eq(seen, renamed);
    ck_assert_msg(metric("roost_replica_reads_total", rep.labels) > before,
                  "%s is in use again but served no read", rep.svc);
}
END_TEST

/* The replica runs 10 s behind (MASTER_DELAY), under the test stack's
 * max_replica_lag of 15 s, so it keeps serving anonymous reads. */
START_TEST(read_your_writes_holds_while_the_replica_lags_10_s)
{
    acct_user u;
    acct_user_new(&u, "ryw");
    replica_of rep;
    replica_of_user(u.id, &rep);
    ck_assert_msg(api_await_replicas() == 0, "the replicas did not catch up");
    ck_assert_int_eq(api_sql(rep.svc, "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 10; START SLAVE",
                             NULL, 0), 0);
    ck_assert_msg(await_up(&rep, 1, 10) >= 0, "%s not in use with a delay", rep.svc);
    char renamed[ACCT_NAMELEN], seen[ACCT_NAMELEN];
    acct_unique_name(renamed, sizeof(renamed), "rywnew");
    double t0 = api_now_s();
    rename_user(&u, renamed);
    /* The writer sees the write at once. */
    for (int i = 0; i < 5; i++) {
        name_seen(u.id, u.tok, seen, sizeof(seen));
        ck_assert_msg(strcmp(seen, renamed) == 0, "the writer read %s after renaming to %s", seen, renamed);
    }
    /* Anonymous readers see the old name until the replica applies it. */
    name_seen(u.id, NULL, seen, sizeof(seen));
    ck_assert_msg(strcmp(seen, u.name) == 0, "an anonymous reader saw %s at once (replica not used?)", seen);
    double lagged = -1;
    while (api_now_s() - t0 < 16) {
        name_seen(u.id, NULL, seen, sizeof(seen));
        if (strcmp(seen, renamed) == 0) {
            lagged = api_now_s() - t0;
            break;
        }
        name_seen(u.id, u.tok, seen, sizeof(seen));
        ck_assert_msg(strcmp(seen, renamed) == 0, "the writer read %s after %.1f s", seen, api_now_s() - t0);
        usleep(250 * 1000);
    }
    fprintf(stderr, "replicas: anonymous readers saw the rename after %.2f s (MASTER_DELAY 10)\n", lagged);
    /* MASTER_DELAY counts from the event's timestamp, in whole seconds:
     * up to a second early. */
    ck_assert_msg(lagged >= 8.5 && lagged <= 12, "anonymous readers saw the rename after %.2f s, want ~10",
                  lagged);
}
END_TEST

/* A write made while Redis is down leaves its mark with the worker that
 * made it; once Redis is back the mark reaches Redis, and the writer's
 * reads on every worker go to the primary while the replica lags. */
START_TEST(read_your_writes_holds_after_a_redis_outage)
{
    acct_user u;
    acct_user_new(&u, "rywr");
    replica_of rep;
    replica_of_user(u.id, &rep);
    ck_assert_msg(api_await_replicas() == 0, "the replicas did not catch up");
    ck_assert_int_eq(api_sql(rep.svc, "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 10; START SLAVE",
                             NULL, 0), 0);
    ck_assert_msg(await_up(&rep, 1, 10) >= 0, "%s not in use with a delay", rep.svc);
    char renamed[ACCT_NAMELEN], seen[ACCT_NAMELEN];
    acct_unique_name(renamed, sizeof(renamed), "rywrn");
    ck_assert_int_eq(api_stack("stop", "redis"), 0);
    double t0 = api_now_s();
    rename_user(&u, renamed);
    name_seen(u.id, u.tok, seen, sizeof(seen));           /* Redis down: the primary */
    ck_assert_str_eq(seen, renamed);
    ck_assert_int_eq(api_stack("start", "redis"), 0);
    /* Every worker tries Redis again within 4 s (its breaker). */
    redisReply *r = NULL;
    int marked = 0;
    while (api_now_s() - t0 < 8 && !marked) {
        r = api_redis("EXISTS %suser:%s:wrote", api_redis_prefix(), u.id);
        marked = r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
        if (r != NULL)
            freeReplyObject(r);
        if (!marked)
            usleep(100 * 1000);
    }
    double at = api_now_s() - t0;
    fprintf(stderr, "replicas: the mark of a write made with Redis down reached Redis after %.2f s\n", at);
    ck_assert_msg(marked, "the mark of a write made while Redis was down never reached Redis");
    ck_assert_msg(at < 9, "the replica caught up before the test could look (%.2f s)", at);
    for (int i = 0; i < 5; i++) {
        name_seen(u.id, u.tok, seen, sizeof(seen));
        ck_assert_msg(strcmp(seen, renamed) == 0, "the writer read %s after Redis came back", seen);
    }
    name_seen(u.id, NULL, seen, sizeof(seen));
    ck_assert_msg(api_now_s() - t0 > 9.5 || strcmp(seen, u.name) == 0,
                  "an anonymous reader saw %s before the replica applied it", seen);
}
END_TEST

Suite *suite_replicas(void)
{
    Suite *s = suite_create("replicas");
    TCase *tc = api_tcase(s, "replicas");
    tcase_set_timeout(tc, 90);
    tcase_add_unchecked_fixture(tc, NULL, replicas_restore);
    /* Before each test too: a test that failed midway (a replica's SQL
     * thread left stopped) must not fail the ones after it, and a failed
     * test in its own process never runs its teardown. */
    tcase_add_checked_fixture(tc, replicas_restore, replicas_restore);
    tcase_add_test(tc, anonymous_reads_go_to_a_replica_and_survive_losing_it);
    tcase_add_test(tc, a_lagging_replica_is_skipped_within_a_second_and_used_after_catching_up);
    tcase_add_test(tc, read_your_writes_holds_while_the_replica_lags_10_s);
    tcase_add_test(tc, read_your_writes_holds_after_a_redis_outage);
    return s;
}
