/* test_roostd.c -- the process manager as an operator sees it: a killed
 * worker is replaced while the API keeps answering, and `roostd -t` names
 * the bad key of a broken configuration. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suites.h"

#define MAX_WORKERS 64

static const char *run_dir(void)
{
    const char *d = getenv("ROOST_TEST_RUN_DIR");
    return d ? d : "run/test";
}

static pid_t master_pid(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/roostd.pid", run_dir());
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (f != NULL) {
        if (fscanf(f, "%ld", &pid) != 1)
            pid = 0;
        fclose(f);
    }
    return (pid_t)pid;
}

/* The master's children, from /proc (Linux 3.5+). */
static int workers_of(pid_t master, pid_t *out)
{
    char path[128];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)master, (int)master);
    FILE *f = fopen(path, "r");
    int n = 0;
    long pid;
    if (f == NULL)
        return -1;
    while (n < MAX_WORKERS && fscanf(f, "%ld", &pid) == 1)
        out[n++] = (pid_t)pid;
    fclose(f);
    return n;
}

static int contains(const pid_t *list, int n, pid_t pid)
{
    for (int i = 0; i < n; i++)
        if (list[i] == pid)
            return 1;
    return 0;
}

START_TEST(killed_worker_is_replaced)
{
    pid_t master = master_pid();
    ck_assert_msg(master > 0, "no roostd pid file in %s", run_dir());
    pid_t before[MAX_WORKERS], after[MAX_WORKERS];
    int n = workers_of(master, before);
    ck_assert_msg(n > 0, "roostd master %d has no workers", (int)master);
    pid_t victim = before[0];
    ck_assert_int_eq(kill(victim, SIGKILL), 0);

    /* The master notices within its 1 s tick and forks a new worker. */
    int m = 0, replaced = 0;
    for (int i = 0; i < 100 && !replaced; i++) {
        usleep(100 * 1000);
        m = workers_of(master, after);
        replaced = m == n && !contains(after, m, victim);
    }
    ck_assert_msg(replaced, "worker %d not replaced: %d workers now, %d before", (int)victim, m, n);
    for (int i = 0; i < 20; i++) {
        api_resp r;
        ck_assert_int_eq(api_get(&r, "/healthz"), 0);
        ck_assert_int_eq(r.status, 200);
        api_free(&r);
    }
}
END_TEST

/* Runs `roostd -t -c conf`; returns the exit status, output in out. */
static int roostd_test_config(const char *conf, char *out, size_t outlen)
{
    const char *bin = getenv("ROOST_TEST_ROOSTD");
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "'%s' -t -c '%s' 2>&1", bin ? bin : "app/roostd/roostd", conf);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(config_test_accepts_the_stack_config)
{
    const char *conf = getenv("ROOST_TEST_CONF");
    ck_assert_ptr_nonnull(conf);
    char out[1024];
    ck_assert_int_eq(roostd_test_config(conf, out, sizeof(out)), 0);
    ck_assert_msg(strstr(out, "valid") != NULL, "output: %s", out);
}
END_TEST

START_TEST(config_test_names_the_bad_key)
{
    char path[] = "/tmp/roost-bad-conf-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs("[roostd]\nworkers = 4\nworker_count = 9\n", f);
    fclose(f);
    char out[1024];
    int rc = roostd_test_config(path, out, sizeof(out));
    unlink(path);
    ck_assert_int_eq(rc, 1);
    ck_assert_msg(strstr(out, "worker_count") != NULL, "output does not name the key: %s", out);
    ck_assert_msg(strstr(out, ":3:") != NULL, "output does not name the line: %s", out);
}
END_TEST

Suite *suite_roostd(void)
{
    Suite *s = suite_create("roostd");
    TCase *tc = api_tcase(s, "process manager");
    tcase_add_test(tc, killed_worker_is_replaced);
    tcase_add_test(tc, config_test_accepts_the_stack_config);
    tcase_add_test(tc, config_test_names_the_bad_key);
    return s;
}
