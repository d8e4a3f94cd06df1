/* test_pools.c -- roostd's pools as nginx reaches them on the test stack:
 * the Argon2id routes run in the pool "slow" (2 workers, a listen backlog
 * of 8, request_terminate_timeout 2 s there), a full slow pool answers 503
 * with Retry-After at once, and a request killed past its terminate
 * timeout answers 502 with the API's JSON body; the slow pool's workers
 * run at its process_priority (10), in scheduling groups of their own,
 * the main pool's at roostd's. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "suites.h"

static const char *const JSON_BODY[] = { "Content-Type: application/json", NULL };

/* A number of /status's section for `pool`. */
static double pool_figure(const char *pool, const char *field)
{
    api_resp r;
    char path[96];
    snprintf(path, sizeof(path), "pools.%s.%s", pool, field);
    ck_assert_int_eq(api_get(&r, "/status"), 0);
    ck_assert_int_eq(r.status, 200);
    const cJSON *v = api_json_at(&r, path);
    ck_assert_msg(cJSON_IsNumber(v), "no %s in %s", path, r.body);
    double n = v->valuedouble;
    api_free(&r);
    return n;
}

START_TEST(argon2_routes_run_in_the_slow_pool)
{
    double slow = pool_figure("slow", "requests"), fast = pool_figure("main", "requests");
    api_resp r;
    const char *b = "{\"name\":\"nobody_here_42\",\"password\":\"wrong password\"}";
    ck_assert_int_eq(api_request(&r, "POST", "/users/SignIn", b, strlen(b), JSON_BODY), 0);
    ck_assert_int_eq(r.status, 401);
    api_free(&r);
    b = "{\"name\":\"\",\"password\":\"pass word 1\"}";
    ck_assert_int_eq(api_request(&r, "POST", "/users/SignUp", b, strlen(b), JSON_BODY), 0);
    ck_assert_int_eq(r.status, 422);
    api_free(&r);
    ck_assert_int_eq(api_request(&r, "PUT", "/users/1", "{}", 2, JSON_BODY), 0);
    ck_assert_int_eq(r.status, 401);
    api_free(&r);
    double slow_after = pool_figure("slow", "requests");
    ck_assert_msg(slow_after >= slow + 3, "slow pool served %g of the 3", slow_after - slow);
    /* The /status reads themselves are the main pool's. */
    ck_assert(pool_figure("main", "requests") > fast);
    ck_assert_int_eq((int)pool_figure("slow", "max_children"), 2);
}
END_TEST

/* 40 sign-ins at once against 2 slow workers and a backlog of 8: those
 * the queue cannot hold are refused at once -- 503, Retry-After, the JSON
 * body -- and every answer comes in seconds, not after a hang. */
START_TEST(full_slow_pool_answers_503_with_retry_after)
{
    enum { N = 40 };
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t kids[N];
    for (int i = 0; i < N; i++) {
        kids[i] = fork();
        ck_assert_int_ge(kids[i], 0);
        if (kids[i] == 0) {
            close(fds[0]);
            api_resp r;
            char b[128], ra[16] = "", line[64];
            snprintf(b, sizeof(b), "{\"name\":\"crowd_%d\",\"password\":\"wrong password\"}", i);
            double t0 = api_now_s();
            int rc = api_request(&r, "POST", "/users/SignIn", b, strlen(b), JSON_BODY);
            const char *code = rc == 0 ? api_json_str(&r, "error.code") : NULL;
            int ok503 = rc == 0 && r.status == 503 && api_header(&r, "Retry-After", ra, sizeof(ra)) &&
                        code && strcmp(code, "service_unavailable") == 0;
            snprintf(line, sizeof(line), "%ld %d %.3f\n", rc == 0 ? r.status : -1L, ok503, api_now_s() - t0);
            if (write(fds[1], line, strlen(line)) < 0)
                _exit(1);
            _exit(0);
        }
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    int n401 = 0, n503 = 0, n503ok = 0, other = 0, seen = 0;
    double slowest = 0;
    long st;
    int ok;
    double t;
    while (fscanf(f, "%ld %d %lf", &st, &ok, &t) == 3) {
        seen++;
        n401 += st == 401;
        n503 += st == 503;
        n503ok += ok;
        other += st != 401 && st != 503;
        if (t > slowest)
            slowest = t;
    }
    fclose(f);
    for (int i = 0; i < N; i++)
        waitpid(kids[i], NULL, 0);
    ck_assert_int_eq(seen, N);
    ck_assert_msg(n503 > 0, "no 503 with %d sign-ins at once (%d answered 401)", N, n401);
    ck_assert_msg(n503ok == n503, "%d of %d 503s lack Retry-After or the JSON body", n503 - n503ok, n503);
    ck_assert_msg(n401 >= 2, "only %d sign-ins were served", n401);
    ck_assert_int_eq(other, 0);
    ck_assert_msg(slowest < 15.0, "an answer took %.1f s", slowest);
}
END_TEST

/* The slow-request failpoint sleeps 3.5 s, past the slow pool's
 * request_terminate_timeout of 2 s: the worker is killed, and nginx
 * answers 502 upstream_unavailable (the pool had accepted it: not a 503). */
START_TEST(request_past_terminate_timeout_is_killed_with_a_json_502)
{
    double killed = pool_figure("slow", "killed");
    api_resp r;
    const char *b = "{\"name\":\"nobody_here_43\",\"password\":\"wrong password\"}";
    const char *const h[] = { "Content-Type: application/json", "X-Roost-Failpoint: slow-request", NULL };
    double t0 = api_now_s();
    ck_assert_int_eq(api_request(&r, "POST", "/users/SignIn", b, strlen(b), h), 0);
    double took = api_now_s() - t0;
    ck_assert_msg(r.status == 502, "status %ld: %s", r.status, r.body);
    ck_assert_str_eq(api_json_str(&r, "error.code"), "upstream_unavailable");
    ck_assert_msg(took >= 1.9 && took < 3.4, "answered after %.2f s", took);
    api_free(&r);
    double after = 0;
    for (int i = 0; i < 20 && after <= killed; i++) {
        after = pool_figure("slow", "killed");
        if (after <= killed)
            usleep(100 * 1000);
    }
    ck_assert_msg(after == killed + 1, "killed went from %g to %g", killed, after);
}
END_TEST

/* Field `index` of /proc/PID/stat (1 = pid; 6 = session, 19 = nice), or
 * -100 once the process is gone. */
static long stat_field(pid_t pid, int index)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -100;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');         /* the name may hold spaces */
    int field = 2;
    long value = -100;
    for (; p != NULL && *p != '\0'; p++)
        if (*p == ' ' && ++field == index) {
            value = atol(p + 1);
            break;
        }
    return value;
}

static int nice_of(pid_t pid) { return (int)stat_field(pid, 19); }

/* The nice value of PID's autogroup ("/autogroup-N nice V"), or -100. */
static int autogroup_nice_of(pid_t pid)
{
    char path[64], line[128];
    int nice = -100;
    snprintf(path, sizeof(path), "/proc/%d/autogroup", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -100;
    if (fgets(line, sizeof(line), f) != NULL) {
        const char *p = strstr(line, " nice ");
        if (p != NULL)
            nice = atoi(p + 6);
    }
    fclose(f);
    return nice;
}

/* process_priority = 10 in the stack's [pool slow]: its 2 workers at 10,
 * every other worker at the master's value. Each slow worker leads a
 * session of its own, whose scheduling group (autogroup) runs at 10 too,
 * so the scheduler weighs it against the other groups, not against
 * roostd's share only; the others stay in the master's session. */
START_TEST(slow_pool_workers_run_at_their_priority)
{
    pid_t master = api_roostd_master(), w[64];
    ck_assert_msg(master > 0, "no roostd pid file");
    int n = api_roostd_workers(master, w, 64), base = nice_of(master), slow = 0, other = 0;
    long master_sid = stat_field(master, 6);
    int groups = access("/proc/self/autogroup", F_OK) == 0;
    ck_assert_int_gt(n, 0);
    for (int i = 0; i < n; i++) {
        int v = nice_of(w[i]);
        long sid = stat_field(w[i], 6);
        if (v == -100 || sid == -100)
            continue;                           /* exited meanwhile (a recycle) */
        ck_assert_msg(v == 10 || v == base, "worker %d: nice %d (master %d)", (int)w[i], v, base);
        if (v == 10 && groups) {
            ck_assert_msg(sid == w[i], "slow worker %d is in session %ld, not its own",
                          (int)w[i], sid);
            int g = autogroup_nice_of(w[i]);
            ck_assert_msg(g == 10 || g == -100, "slow worker %d: autogroup nice %d", (int)w[i], g);
        } else if (v == base) {
            ck_assert_msg(sid == master_sid, "worker %d left the master's session (%ld, not %ld)",
                          (int)w[i], sid, master_sid);
        }
        slow += v == 10;
        other += v == base;
    }
    ck_assert_msg(slow >= 2 && other >= 4, "%d workers at 10, %d at %d", slow, other, base);
}
END_TEST

Suite *suite_pools(void)
{
    Suite *s = suite_create("pools");
    TCase *tc = api_tcase(s, "slow pool");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, argon2_routes_run_in_the_slow_pool);
    tcase_add_test(tc, full_slow_pool_answers_503_with_retry_after);
    tcase_add_test(tc, request_past_terminate_timeout_is_killed_with_a_json_502);
    tcase_add_test(tc, slow_pool_workers_run_at_their_priority);
    return s;
}
