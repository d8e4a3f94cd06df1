/* test_shardmove.c -- growing from 2 shard servers to 3 on the test
 * stack (OPERATIONS.md §4.3): the spare MariaDB server db3 is added as
 * server c (its section appended to roost.conf, migrated, roostd
 * reloaded), the upper half of server b's logical shards (3072-4095)
 * moves to c and back while a writer keeps posting tweets for users on
 * them, and c is taken out again. Every write the API acknowledged is
 * there afterwards and counted once, the only refusals are the fence's
 * 503s, the map in the configuration file ends as it began, and the moves
 * are stopped after each step in turn (as a crash of roostctl would stop
 * them) and resumed. A move stopped under its fence is aborted: the fence
 * goes and the copies with it. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "accounts.h"
#include "core/ids.h"
#include "suites.h"

#define MOVE_FIRST 3072
#define MOVE_LAST  4095
#define NUSERS     6

static acct_user users[NUSERS];

static unsigned shard_of(const char *id)
{
    return rst_id_shard(strtoull(id, NULL, 10));
}

/* Users whose logical shard (the hash of the name) is in the range. */
static void users_in_range(void)
{
    for (int n = 0; n < NUSERS;) {
        acct_user_new(&users[n], "mv");
        unsigned sh = shard_of(users[n].id);
        if (sh >= MOVE_FIRST && sh <= MOVE_LAST)
            n++;
    }
}

/* roostctl on the stack's config with `env` (NULL: none) before it. */
static int ctl(const char *env, const char *args, char *out, size_t len)
{
    return api_roostctl(env, getenv("ROOST_TEST_CONF"), args, out, len);
}

/* ------------------------------------------------------------ the writer */

/* Posts a tweet for each user in turn until `stop` exists, one line per
 * answer into `log`: "STATUS USER_INDEX TWEET_ID" (- without an id). It
 * asserts nothing: it is a process of its own, and the test reads its log. */
static pid_t start_writer(const char *log, const char *stop)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid != 0)
        return pid;
    FILE *f = fopen(log, "w");
    if (f == NULL)
        _exit(1);
    for (int i = 0; access(stop, F_OK) != 0 && i < 20000; i++) {
        const acct_user *u = &users[i % NUSERS];
        char auth[ACCT_TOKLEN + 32], path[64], body[64];
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", u->tok);
        const char *headers[] = { auth, "Content-Type: application/json", NULL };
        snprintf(path, sizeof(path), "/tweets/%s", u->id);
        int len = snprintf(body, sizeof(body), "{\"message\":\"moving %d\"}", i);
        api_resp r;
        if (api_request(&r, "POST", path, body, (size_t)len, headers) != 0) {
            fprintf(f, "0 %d -\n", i % NUSERS);
            continue;
        }
        const char *id = r.status == 201 ? api_json_str(&r, "tweet.id") : NULL;
        fprintf(f, "%ld %d %s\n", r.status, i % NUSERS, id ? id : "-");
        fflush(f);
        api_free(&r);
        usleep(10 * 1000);
    }
    fclose(f);
    _exit(0);
}

#define MAX_PER_USER 4000

typedef struct {
    int      created, fenced, other;
    int      per_user[NUSERS];
    uint64_t ids[NUSERS][MAX_PER_USER];    /* acknowledged, in the order posted */
    char     first_other[128];
} writer_tally;

static void read_writer_log(const char *log, writer_tally *t)
{
    memset(t, 0, sizeof(*t));
    FILE *f = fopen(log, "r");
    ck_assert_ptr_nonnull(f);
    long status;
    int who;
    char id[32];
    while (fscanf(f, "%ld %d %31s", &status, &who, id) == 3) {
        if (status == 201) {
            t->created++;
            if (t->per_user[who] < MAX_PER_USER)
                t->ids[who][t->per_user[who]] = strtoull(id, NULL, 10);
            t->per_user[who]++;
            char path[64];
            snprintf(path, sizeof(path), "/tweet/%s", id);
            api_resp r;
            api_ok(api_get_fresh(&r, path));
            ck_assert_msg(r.status == 200, "acknowledged tweet %s answers %ld after the moves", id,
                          r.status);
            api_free(&r);
        } else if (status == 503) {
            t->fenced++;
        } else {
            if (t->other++ == 0)
                snprintf(t->first_other, sizeof(t->first_other), "%ld for user %d", status, who);
        }
    }
    fclose(f);
}

/* ------------------------------------------------------------ checks */

static int by_id_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The items' ids of a page of tweets, against `want` (newest first). */
static void assert_page(const char *what, const api_resp *r, const uint64_t *want, int nwant)
{
    ck_assert_msg(r->status == 200, "%s: %ld %s", what, r->status, r->body);
    const cJSON *items = api_json_at(r, "items"), *it;
    ck_assert_msg(cJSON_IsArray(items), "%s: no items: %s", what, r->body);
    int n = 0;
    cJSON_ArrayForEach(it, items) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
        ck_assert_msg(n < nwant, "%s: more items than the %d acknowledged", what, nwant);
        ck_assert_msg(cJSON_IsString(id) && strtoull(id->valuestring, NULL, 10) == want[n],
                      "%s: item %d is %s, not the acknowledged %llu", what, n,
                      cJSON_IsString(id) ? id->valuestring : "?", (unsigned long long)want[n]);
        n++;
    }
    ck_assert_msg(n == nwant, "%s: %d items, %d acknowledged", what, n, nwant);
}

/* After the moves: each user's list of tweets is its acknowledged posts,
 * newest first, and the timeline of a reader following all of them is
 * the newest of all of them (the fan-out in Redis and the lists on the
 * shards agree with what the API acknowledged). */
static void assert_lists_and_timeline(const writer_tally *t, const acct_user *reader)
{
    static uint64_t all[NUSERS * MAX_PER_USER], mine[MAX_PER_USER];
    int nall = 0;
    for (int i = 0; i < NUSERS; i++) {
        int n = t->per_user[i] < MAX_PER_USER ? t->per_user[i] : MAX_PER_USER;
        memcpy(mine, t->ids[i], sizeof(uint64_t) * (size_t)n);
        memcpy(all + nall, t->ids[i], sizeof(uint64_t) * (size_t)n);
        nall += n;
        qsort(mine, (size_t)n, sizeof(uint64_t), by_id_desc);
        char path[80];
        snprintf(path, sizeof(path), "/tweets/%s?limit=100", users[i].id);
        api_resp r;
        api_ok(api_get_fresh(&r, path));
        assert_page(path, &r, mine, n < 100 ? n : 100);
        api_free(&r);
    }
    qsort(all, (size_t)nall, sizeof(uint64_t), by_id_desc);
    /* A tweet reaches its followers' timelines within 2 s (API.md §5). */
    usleep(2500 * 1000);
    const char *fresh[] = { "Cache-Control: no-cache", NULL };
    api_resp r;
    api_ok(acct_req(&r, "GET", "/timeline?limit=100", NULL, reader->tok, fresh));
    assert_page("the reader's /timeline", &r, all, nall < 100 ? nall : 100);
    api_free(&r);
    char path[80];
    snprintf(path, sizeof(path), "/following/%s?limit=100", reader->id);
    api_ok(api_get_fresh(&r, path));
    const cJSON *items = api_json_at(&r, "items");
    ck_assert_msg(cJSON_GetArraySize(items) == NUSERS, "%s after the moves: %s", path, r.body);
    api_free(&r);
}

/* The logical shards' rows of `table` on db NAME (db1: a, db2: b, db3: c). */
static long rows_on(const char *db, const char *table, const char *owner)
{
    char sql[256], out[64];
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM roost_shard.%s WHERE ((%s >> 11) & 4095) "
             "BETWEEN %d AND %d", table, owner, MOVE_FIRST, MOVE_LAST);
    ck_assert_msg(api_sql(db, sql, out, sizeof(out)) == 0, "cannot count %s on %s", table, db);
    return atol(out);
}

/* The SHARDS column of server `name`'s primary line in `roostctl shards`. */
static void shards_of(const char *out, const char *name, char *ranges, size_t len)
{
    char start[16];
    snprintf(start, sizeof(start), "\n%s ", name);
    const char *line = strstr(out, start);
    ck_assert_msg(line != NULL, "no line for server %s: %s", name, out);
    char role[16], got[128];
    ck_assert_int_eq(sscanf(line + strlen(start), "%15s %127s", role, got), 2);
    ck_assert_str_eq(role, "primary");
    snprintf(ranges, len, "%s", got);
}

static void assert_map(const char *out, const char *a_ranges, const char *b_ranges,
                       const char *c_ranges)
{
    const char *want[3] = { a_ranges, b_ranges, c_ranges }, *names[3] = { "a", "b", "c" };
    for (int i = 0; i < 3; i++) {
        char got[128];
        shards_of(out, names[i], got, sizeof(got));
        ck_assert_msg(strcmp(got, want[i]) == 0, "server %s holds %s, not %s: %s", names[i], got,
                      want[i], out);
    }
}

/* SIGHUP to the stack's roostd: it reads the file again. */
static void reload_roostd(void)
{
    pid_t master = api_roostd_master();
    ck_assert_int_gt(master, 0);
    ck_assert_int_eq(kill(master, SIGHUP), 0);
    usleep(500 * 1000);
}

/* Step 2 of growing: server c's section (the stack's shard-c.conf, db3)
 * appended, its schema migrated, roostd reloaded. */
static void add_server_c(const char *original, char *out, size_t len)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/shard-c.conf", getenv("ROOST_TEST_RUN_DIR"));
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "no %s: the stack has no spare server", path);
    char section[1024] = "";
    size_t n = fread(section, 1, sizeof(section) - 1, f);
    fclose(f);
    ck_assert_uint_gt(n, 0);
    char *grown = malloc(strlen(original) + n + 1);
    ck_assert_ptr_nonnull(grown);
    strcpy(grown, original);
    strcat(grown, section);
    api_write_file(getenv("ROOST_TEST_CONF"), grown, NULL);
    free(grown);
    int rc = ctl(NULL, "migrate", out, len);
    ck_assert_msg(rc == 0 && strstr(out, "shard c: up to date") != NULL, "migrate: exit %d: %s", rc, out);
    reload_roostd();
    ck_assert_int_eq(ctl(NULL, "shards", out, len), 0);
    ck_assert_msg(strstr(out, "on 3 servers") != NULL, "%s", out);
    assert_map(out, "0-2047", "2048-4095", "none");
}

/* One move, stopped after `stop` and resumed: exit 3 then 0. */
static void move_with_a_stop(const char *to, const char *stop, char *out, size_t len)
{
    char env[64], args[64];
    snprintf(env, sizeof(env), "ROOST_MOVE_STOP_AFTER=%s", stop);
    snprintf(args, sizeof(args), "shard move %d-%d --to %s", MOVE_FIRST, MOVE_LAST, to);
    int rc = ctl(env, args, out, len);
    ck_assert_msg(rc == 3, "roostctl %s stopped after %s: exit %d: %s", args, stop, rc, out);
    ck_assert_int_eq(ctl(NULL, "shards", out, len), 0);
    char want[128];
    snprintf(want, sizeof(want), "logical shards %d-%d from %s to %s, after step %s", MOVE_FIRST,
             MOVE_LAST, strcmp(to, "c") == 0 ? "b" : "c", to, stop);
    ck_assert_msg(strstr(out, want) != NULL, "roostctl shards does not show the stopped move: %s", out);
    snprintf(args, sizeof(args), "shard move %d-%d --to %s", MOVE_FIRST, MOVE_LAST, to);
    ck_assert_msg(ctl(NULL, args, out, len) == 1 && strstr(out, "--resume it or --abort it"),
                  "a second move while one is in progress: %s", out);
    rc = ctl(NULL, "shard move --resume", out, len);
    ck_assert_msg(rc == 0, "roostctl shard move --resume: exit %d: %s", rc, out);
    /* Stopped before its verification, the resumed run verifies. */
    if (strcmp(stop, "planned") == 0 || strcmp(stop, "copied") == 0 || strcmp(stop, "fenced") == 0 ||
        strcmp(stop, "caught_up") == 0)
        ck_assert_msg(strstr(out, "verified: count and checksum equal") != NULL, "%s", out);
    if (strcmp(stop, "unfenced") != 0)
        ck_assert_msg(strstr(out, "the fence held writes off the range for ") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "cleaned up: ") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "done: logical shards") != NULL, "%s", out);
    fprintf(stderr, "shard move to %s (stopped after %s, resumed):\n%s", to, stop, out);
}

START_TEST(grow_to_a_third_server_and_back_under_writes)
{
    static char out[1 << 16];
    users_in_range();
    char log[64], stop[64];
    snprintf(log, sizeof(log), "/tmp/roost-move-%d.log", (int)getpid());
    snprintf(stop, sizeof(stop), "/tmp/roost-move-%d.stop", (int)getpid());
    unlink(stop);
    char *original = api_read_file(getenv("ROOST_TEST_CONF"));
    ck_assert_msg(strstr(original, "[shard c]") == NULL, "server c is in the file already");
    add_server_c(original, out, sizeof(out));
    ck_assert_int_eq(ctl(NULL, "shard move 3072-4095 --to c --dry-run", out, sizeof(out)), 0);
    ck_assert_msg(strstr(out, "move logical shards 3072-4095 (1024 of 4096) from b to c") &&
                  strstr(out, "dry run: nothing changed"), "%s", out);

    /* A reader following every moving user: its timeline is checked at
     * the end, and the follows move with the users. */
    acct_user reader;
    acct_user_new(&reader, "mvr");
    for (int i = 0; i < NUSERS; i++) {
        char path[64];
        snprintf(path, sizeof(path), "/followers/%s", users[i].id);
        api_resp r;
        api_ok(acct_req(&r, "POST", path, NULL, reader.tok, NULL));
        ck_assert_msg(r.status == 201, "follow %s: %ld %s", path, r.status, r.body);
        api_free(&r);
    }
    pid_t writer = start_writer(log, stop);
    usleep(500 * 1000);
    /* Stopped after each step in turn, the range going to c and back. */
    static const char *const steps[] = { "planned", "copied", "fenced", "caught_up", "verified",
                                         "switched", "unfenced" };
    long on_c = 0;
    for (int i = 0; i < 8; i++) {
        const char *to = i % 2 == 0 ? "c" : "b";
        if (i < 7) {
            move_with_a_stop(to, steps[i], out, sizeof(out));
        } else {
            int rc = ctl(NULL, "shard move 3072-4095 --to b", out, sizeof(out));
            ck_assert_msg(rc == 0, "the last move back: exit %d: %s", rc, out);
        }
        ck_assert_int_eq(ctl(NULL, "shards", out, sizeof(out)), 0);
        if (i % 2 == 0) {
            assert_map(out, "0-2047", "2048-3071", "3072-4095");
            ck_assert_int_eq(rows_on("db2", "tweets", "user_id"), 0);    /* cleaned up */
            ck_assert_int_eq(rows_on("db2", "users", "id"), 0);
            on_c = rows_on("db3", "tweets", "user_id");
            ck_assert_int_gt(on_c, 0);
            ck_assert_int_ge(rows_on("db3", "users", "id"), NUSERS);
        } else {
            assert_map(out, "0-2047", "2048-4095", "none");
            ck_assert_int_eq(rows_on("db3", "tweets", "user_id"), 0);
            ck_assert_int_ge(rows_on("db2", "tweets", "user_id"), on_c);
        }
        ck_assert_int_eq(rows_on("db1", "tweets", "user_id"), 0);       /* a is never touched */
        usleep(200 * 1000);                                  /* writes land on the new side */
    }
    /* Stopped after the switch reached the file and roostd but before the
     * journal: --abort goes by the journal, gives the range back to b
     * (which alone has every row) and drops c's copies. */
    int rc0 = ctl("ROOST_MOVE_STOP_AFTER=switched-unrecorded", "shard move 3072-4095 --to c", out,
                  sizeof(out));
    ck_assert_msg(rc0 == 3, "exit %d: %s", rc0, out);
    ck_assert_int_eq(ctl(NULL, "shards", out, sizeof(out)), 0);
    assert_map(out, "0-2047", "2048-3071", "3072-4095");             /* the file is ahead */
    rc0 = ctl(NULL, "shard move --abort", out, sizeof(out));
    ck_assert_msg(rc0 == 0 && strstr(out, "aborted:") != NULL, "abort: exit %d: %s", rc0, out);
    ck_assert_int_eq(ctl(NULL, "shards", out, sizeof(out)), 0);
    assert_map(out, "0-2047", "2048-4095", "none");
    ck_assert_int_eq(rows_on("db3", "tweets", "user_id"), 0);
    usleep(200 * 1000);
    FILE *sf = fopen(stop, "w");
    if (sf != NULL)
        fclose(sf);
    int st;
    waitpid(writer, &st, 0);
    unlink(stop);

    ck_assert_int_eq(rows_on("db3", "users", "id"), 0);
    ck_assert_int_ge(rows_on("db2", "users", "id"), NUSERS);

    static writer_tally t;
    read_writer_log(log, &t);
    unlink(log);
    fprintf(stderr, "shard moves under writes: %d tweets acknowledged, %d refused by the fence "
            "(503), %d other answers\n", t.created, t.fenced, t.other);
    ck_assert_msg(t.other == 0, "%d answers were neither 201 nor the fence's 503 (first: %s)",
                  t.other, t.first_other);
    ck_assert_int_gt(t.created, 20);
    ck_assert_int_gt(t.fenced, 0);
    /* Counted once each: every user's tweets_count is its acknowledged posts. */
    for (int i = 0; i < NUSERS; i++) {
        char path[64], want[16];
        snprintf(path, sizeof(path), "/users/%s", users[i].id);
        api_resp r;
        api_ok(api_get_fresh(&r, path));
        ck_assert_msg(r.status == 200, "%s: %ld", path, r.status);
        snprintf(want, sizeof(want), "%d", t.per_user[i]);
        const cJSON *n = api_json_at(&r, "user.tweets_count");
        ck_assert_msg(n != NULL && cJSON_IsNumber(n) && n->valueint == t.per_user[i],
                      "%s: tweets_count is not %s: %s", path, want, r.body);
        api_free(&r);
    }
    assert_lists_and_timeline(&t, &reader);
    /* A move stopped under its fence, aborted: no fence, no copies. */
    int rc = ctl("ROOST_MOVE_STOP_AFTER=fenced", "shard move 3072-3583 --to c", out, sizeof(out));
    ck_assert_msg(rc == 3, "exit %d: %s", rc, out);
    rc = ctl(NULL, "shard move --abort", out, sizeof(out));
    ck_assert_msg(rc == 0 && strstr(out, "aborted:") != NULL, "abort: exit %d: %s", rc, out);
    ck_assert_int_eq(rows_on("db3", "tweets", "user_id"), 0);
    ck_assert_int_eq(ctl(NULL, "shards", out, sizeof(out)), 0);
    assert_map(out, "0-2047", "2048-4095", "none");
    ck_assert_msg(strstr(out, "shard moves in progress (catalog shard_moves):\n  none") != NULL, "%s", out);
    char *now = api_read_file(getenv("ROOST_TEST_CONF"));
    ck_assert_msg(strstr(now, "fenced") == NULL, "the fence stayed in the file: %s", now);
    free(now);
    /* Server c taken out again (it holds nothing): the file as it began. */
    api_write_file(getenv("ROOST_TEST_CONF"), original, NULL);
    reload_roostd();
    ck_assert_int_eq(ctl(NULL, "shards", out, sizeof(out)), 0);
    ck_assert_msg(strstr(out, "on 2 servers") != NULL, "%s", out);
    free(original);
}
END_TEST

Suite *suite_shardmove(void)
{
    Suite *s = suite_create("shardmove");
    TCase *tc = api_tcase(s, "move and back");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, grow_to_a_third_server_and_back_under_writes);
    return s;
}
