/* test_tuning.c -- the operator's sizing tools: `roostctl top --once`
 * against the test stack under a little traffic (the pools, the routes,
 * the dependencies, every worker), and `roostctl advise` against roostds
 * of the test's own: one oversized (8 workers, a trickle of requests) and
 * one undersized (1 worker, requests always waiting in its listen queue).
 * The live view is tested in tmux by tests/pkg/top-tmux.sh. The reports
 * are left in the stack's directory (top-once.txt, advise-*.txt). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/fcgiclient.h"
#include "private_roostd.h"
#include "suites.h"

static const char *roostctl_bin(void)
{
    const char *bin = getenv("ROOST_TEST_ROOSTCTL");
    return bin ? bin : "app/roostctl/roostctl";
}

/* Runs `roostctl -c conf ARGS` with stdout a pipe; exit status, stdout
 * (and stderr) in out. */
static int ctl(const char *conf, const char *args, char *out, size_t outlen)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "'%s' -c '%s' %s </dev/null 2>&1", roostctl_bin(), conf, args);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A child that GETs `path` through nginx every `pause_ms` for `secs`. */
static pid_t traffic_through_nginx(const char *path, int pause_ms, double secs)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        double end = api_now_s() + secs;
        while (api_now_s() < end) {
            api_resp r;
            if (api_get(&r, path) == 0)
                api_free(&r);
            usleep((useconds_t)pause_ms * 1000);
        }
        _exit(0);
    }
    return pid;
}

/* A child that GETs /healthz straight from a socket every pause_ms. */
static pid_t trickle(const char *sock, int pause_ms, double secs)
{
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        double end = api_now_s() + secs;
        while (api_now_s() < end) {
            rst_fcgi_get(sock, "/healthz", 2000, NULL, 0);
            usleep((useconds_t)pause_ms * 1000);
        }
        _exit(0);
    }
    return pid;
}

/* SIGKILL: a forked test child keeps Check's SIGTERM handler, which
 * would end the whole process group. */
static void reap(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* The text from the line "pool NAME " to the next "\npool " (in place). */
static char *pool_section(char *report, const char *pool)
{
    char head[64];
    snprintf(head, sizeof(head), "\npool %s ", pool);
    char *at = strstr(report, head);
    ck_assert_msg(at != NULL, "no section for pool %s in:\n%s", pool, report);
    char *next = strstr(at + 1, "\npool ");
    if (next != NULL)
        *next = '\0';
    return at;
}

/* 1 when the section's verdict line contains `word`. */
static int verdict_is(const char *section, const char *word)
{
    const char *at = strstr(section, "verdict:");
    if (at == NULL)
        return 0;
    const char *eol = strchr(at, '\n'), *w = strstr(at, word);
    return w != NULL && (eol == NULL || w < eol);
}

/* The N of "max_children = N (now" in a pool's section. */
static int recommended(const char *section)
{
    const char *at = strstr(section, "recommend:");
    int n = -1;
    ck_assert_msg(at && sscanf(at, "recommend: max_children = %d", &n) == 1,
                  "no recommendation in:\n%s", section);
    return n;
}

/* Leaves a report in the stack's directory (run/test/NAME), for reading
 * after the run. */
static void keep_report(const char *name, const char *text)
{
    const char *dir = getenv("ROOST_TEST_RUN_DIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "/tmp", name);
    FILE *f = fopen(path, "w");
    if (f != NULL) {
        fputs(text, f);
        fclose(f);
    }
}

/* ------------------------------------------------------------ top --once */

START_TEST(top_once_shows_pools_routes_dependencies_and_workers)
{
    const char *conf = getenv("ROOST_TEST_CONF");
    ck_assert_ptr_nonnull(conf);
    pid_t load = traffic_through_nginx("/products?limit=2", 20, 4.0);
    usleep(300 * 1000);
    static char out[1 << 16];
    double t0 = api_now_s();
    int rc = ctl(conf, "top --once", out, sizeof(out));
    double took = api_now_s() - t0;
    reap(load);
    keep_report("top-once.txt", out);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    ck_assert_msg(took >= 0.9 && took < 8, "took %.1f s (two snapshots 1 s apart)", took);
    ck_assert_msg(strchr(out, '\033') == NULL, "escape codes in the plain snapshot:\n%s", out);
    static const char *const want[] = {
        "POOL ", "\nmain ", "\nslow ", "QUEUE/MAX", "DEPENDENCIES", "redis up", "catalog up",
        "ROUTE ", "products.list", "P99 ms", "\n    PID POOL", "RSS MiB"
    };
    for (int i = 0; i < API_COUNT(want); i++)
        ck_assert_msg(strstr(out, want[i]) != NULL, "no \"%s\" in:\n%s", want[i], out);
    /* Every worker /status lists is a line of its own. */
    api_resp r;
    ck_assert_int_eq(api_get(&r, "/status"), 0);
    const cJSON *w = api_json_at(&r, "workers"), *it;
    int seen = 0, lines = 0;
    cJSON_ArrayForEach(it, w) {
        char pid[32];
        snprintf(pid, sizeof(pid), "\n%7d ", cJSON_GetObjectItem(it, "pid")->valueint);
        seen++;
        lines += strstr(out, pid) != NULL;
    }
    api_free(&r);
    /* A worker recycled between the two reads may differ (max_requests 300). */
    ck_assert_msg(seen > 0 && lines >= seen - 2, "%d of %d workers shown:\n%s", lines, seen, out);
}
END_TEST

START_TEST(top_fails_cleanly_when_roostd_is_not_there)
{
    char dir[] = "/tmp/roost-top-XXXXXX", conf[128], out[4096];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(conf, sizeof(conf), "%s/roost.conf", dir);
    FILE *f = fopen(conf, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "[roostd]\nlisten = %s/none.sock\n[security]\nsecret_file = %s/secret\n"
               "[catalog]\ndatabase = c\n[shards]\ncount = 1\n[shard a]\nrange = 0\ndatabase = s\n",
            dir, dir);
    fclose(f);
    int rc = ctl(conf, "top --once", out, sizeof(out));
    unlink(conf);
    rmdir(dir);
    ck_assert_msg(rc == 1 && strstr(out, "roostctl: top: no pool socket answered /status"),
                  "exit %d: %s", rc, out);
}
END_TEST

/* ------------------------------------------------------------ advise */

/* 8 workers and one request every 50 ms: the advice is far fewer. */
START_TEST(advise_calls_an_idle_pool_oversized)
{
    private_roostd r;
    start_private_roostd_with(&r, 'o', "workers = 8\n", "[redis]\nport = 1\n", 8);
    pid_t load = trickle(r.sock, 50, 6.0);
    static char out[1 << 15];
    int rc = ctl(r.conf, "advise --window 3s", out, sizeof(out));
    reap(load);
    ck_assert_int_eq(stop_private_roostd(&r), 0);
    remove_private_roostd(&r);
    keep_report("advise-oversized.txt", out);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    ck_assert_msg(strstr(out, "nothing was changed"), "%s", out);
    char *main_pool = pool_section(out, "main");
    ck_assert_msg(verdict_is(main_pool, "OVERSIZED"), "not oversized:\n%s", main_pool);
    int n = recommended(main_pool);
    ck_assert_msg(n >= 1 && n <= 4, "recommended %d of 8:\n%s", n, main_pool);
    ck_assert_msg(strstr(main_pool, "min_spare_servers = ") && strstr(main_pool, "max_requests"),
                  "%s", main_pool);
}
END_TEST

/* One worker (one connection at a time) and four requests of 3.5 s sent
 * at once: one runs, three wait in the listen queue through the window.
 * /status is answered by the pool "slow" meanwhile. */
START_TEST(advise_calls_a_saturated_pool_queueing)
{
    char extra[512];
    private_roostd u;
    char keys[256];
    snprintf(keys, sizeof(keys), "workers = 1\nrequest_timeout = 30\nmax_conns_per_worker = 1\n");
    snprintf(extra, sizeof(extra), "[pool slow]\nlisten = /tmp/roost-advise-%d-slow.sock\nworkers = 1\n"
             "[redis]\nport = 1\n", (int)getpid());
    start_private_roostd_with(&u, 'u', keys, extra, 2);
    enum { HELD = 4 };
    int held[HELD];
    for (int i = 0; i < HELD; i++) {
        held[i] = rst_fcgi_send_get(u.sock, "/healthz", "slow-request", NULL);
        ck_assert_int_ge(held[i], 0);
    }
    static char out[1 << 15];
    int rc = ctl(u.conf, "advise --window 3s", out, sizeof(out));
    for (int i = 0; i < HELD; i++)
        close(held[i]);
    ck_assert_int_eq(stop_private_roostd(&u), 0);
    remove_private_roostd(&u);
    char slow_sock[128];
    snprintf(slow_sock, sizeof(slow_sock), "/tmp/roost-advise-%d-slow.sock", (int)getpid());
    unlink(slow_sock);
    keep_report("advise-undersized.txt", out);
    ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
    char *main_pool = pool_section(out, "main");
    ck_assert_msg(verdict_is(main_pool, "QUEUEING"), "not queueing:\n%s", main_pool);
    ck_assert_msg(strstr(main_pool, "listen queue:        mean 0.00") == NULL, "%s", main_pool);
    int n = recommended(main_pool);
    ck_assert_msg(n >= 2, "recommended %d (now 1):\n%s", n, main_pool);
}
END_TEST

START_TEST(advise_rejects_a_bad_window)
{
    char out[4096];
    static const char *const bad[] = { "advise --window 0s", "advise --window soon",
                                       "advise --window 2h", "advise extra" };
    for (int i = 0; i < API_COUNT(bad); i++) {
        int rc = ctl("/nonexistent/roost.conf", bad[i], out, sizeof(out));
        ck_assert_msg(rc == 2 && strstr(out, "roostctl: advise:"), "%s: exit %d: %s", bad[i], rc, out);
    }
}
END_TEST

Suite *suite_tuning(void)
{
    Suite *s = suite_create("tuning");
    TCase *tc = api_tcase(s, "top and advise");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, top_once_shows_pools_routes_dependencies_and_workers);
    tcase_add_test(tc, top_fails_cleanly_when_roostd_is_not_there);
    tcase_add_test(tc, advise_calls_an_idle_pool_oversized);
    tcase_add_test(tc, advise_calls_a_saturated_pool_queueing);
    tcase_add_test(tc, advise_rejects_a_bad_window);
    return s;
}
