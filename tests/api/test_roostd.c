/* test_roostd.c -- the process manager as an operator sees it: a killed
 * worker is replaced while the API keeps answering, and `roostd -t` names
 * the bad key of a broken configuration. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "accounts.h"
#include "core/ids.h"
#include "core/secret.h"
#include "core/fcgiclient.h"
#include "private_roostd.h"
#include "suites.h"

#define MAX_WORKERS 64

static const char *run_dir(void)
{
    const char *d = getenv("ROOST_TEST_RUN_DIR");
    return d ? d : "run/test";
}


/* [roostd] workers of the test stack's configuration. */
static int configured_workers(void)
{
    const char *conf = getenv("ROOST_TEST_CONF");
    FILE *f = conf ? fopen(conf, "r") : NULL;
    char line[256];
    int workers = 0;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "workers = %d", &workers) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return workers;
}

/* Workers of the main pool /status shows serving (not draining), and
 * whether `pid` is one. */
static int serving_workers(pid_t pid, int *has_pid)
{
    api_resp r;
    int n = 0;
    *has_pid = 0;
    if (api_get(&r, "/status") != 0 || r.status != 200) {
        api_free(&r);
        return -1;
    }
    const cJSON *w;
    cJSON_ArrayForEach(w, api_json_at(&r, "workers")) {
        const cJSON *st = cJSON_GetObjectItem(w, "state");
        const cJSON *pool = cJSON_GetObjectItem(w, "pool");
        if (!cJSON_IsString(pool) || strcmp(pool->valuestring, "main") != 0)
            continue;
        if (cJSON_IsString(st) && strcmp(st->valuestring, "exiting") != 0)
            n++;
        if ((pid_t)cJSON_GetObjectItem(w, "pid")->valuedouble == pid)
            *has_pid = 1;
    }
    api_free(&r);
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
    pid_t master = api_roostd_master();
    ck_assert_msg(master > 0, "no roostd pid file in %s", run_dir());
    pid_t before[MAX_WORKERS], after[MAX_WORKERS];
    int n = api_roostd_workers(master, before, MAX_WORKERS);
    ck_assert_msg(n > 0, "roostd master %d has no workers", (int)master);
    pid_t victim = before[0];
    ck_assert_int_eq(kill(victim, SIGKILL), 0);

    /* The master forks a new worker as soon as it reaps the old one. (A
     * recycling worker may drain beside its successor meanwhile, so count
     * against the configured pool, not the children seen before.) */
    int want = configured_workers();
    ck_assert_int_gt(want, 0);
    int m = 0, replaced = 0, listed = 0;
    for (int i = 0; i < 100 && !replaced; i++) {
        usleep(100 * 1000);
        m = serving_workers(victim, &listed);
        replaced = m == want && !listed && !contains(after, api_roostd_workers(master, after, MAX_WORKERS), victim);
    }
    ck_assert_msg(replaced, "worker %d not replaced: %d serving now, %d configured",
                  (int)victim, m, want);
    for (int i = 0; i < 20; i++) {
        api_resp r;
        ck_assert_int_eq(api_get(&r, "/healthz"), 0);
        ck_assert_int_eq(r.status, 200);
        api_free(&r);
    }
}
END_TEST

/* A read load that keeps many of nginx's kept upstream connections busy,
 * as real traffic does (wrk, which ./dev installs), until killed. Without
 * such a load nginx rarely has a cached connection in hand at the instant
 * a worker closes it, and a careless drain would go unnoticed. */
static pid_t start_read_load(void)
{
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    char url[512];
    snprintf(url, sizeof(url), "%s/products?limit=1", api_base());
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0) {
        dup2(devnull, STDOUT_FILENO);
        dup2(devnull, STDERR_FILENO);
    }
    execlp("wrk", "wrk", "-t2", "-c32", "-d30s", "-H", "Accept: application/json",
           "-H", "Authorization: Bearer not-a-token", url, (char *)NULL);
    _exit(127);
}

/* The first POST that did not get its 422, if any. */
typedef struct {
    int  at;            /* -1: none failed */
    long status;
    char body[256];
} post_failure;

/* One quick POST (422 from roostd, no Argon2); records the first failure. */
static void post_probe(int i, post_failure *f)
{
    static const char *const h[] = { "Content-Type: application/json", NULL };
    api_resp r;
    if ((api_request(&r, "POST", "/users/SignIn", "{}", 2, h) != 0 || r.status != 422) && f->at < 0) {
        f->at = i;
        f->status = r.status;
        snprintf(f->body, sizeof(f->body), "%s", r.body ? r.body : "");
    }
    api_free(&r);
}

/* The test stack recycles a worker every 300 requests. A recycling worker
 * must drain its kept FastCGI connections rather than close them under
 * nginx, which would answer a POST sent into one with 502 (nginx retries
 * only idempotent requests). POSTs beside a read load cross many recycles. */
START_TEST(recycling_never_fails_a_post)
{
    pid_t master = api_roostd_master();
    ck_assert_msg(master > 0, "no roostd pid file in %s", run_dir());
    pid_t before[MAX_WORKERS], after[MAX_WORKERS];
    int n = api_roostd_workers(master, before, MAX_WORKERS);
    ck_assert_int_gt(n, 0);
    pid_t load = start_read_load();
    ck_assert_int_gt(load, 0);
    post_failure bad = { .at = -1 };
    for (int i = 0; i < 700 && bad.at < 0; i++)
        post_probe(i, &bad);
    kill(load, SIGKILL);
    waitpid(load, NULL, 0);
    ck_assert_msg(bad.at < 0, "POST %d answered %ld: %s", bad.at, bad.status, bad.body);
    /* A recycled worker has either exited already or is still draining
     * beside its successor (then the master has more children). */
    int m = api_roostd_workers(master, after, MAX_WORKERS), gone = 0;
    for (int i = 0; i < n; i++)
        gone += !contains(after, m, before[i]);
    ck_assert_msg(gone > 0 || m > n, "no worker recycled (max_requests is 300 in the test "
                  "stack): %d workers before, %d now", n, m);
}
END_TEST

/* Polls /status until `want` workers serve (not draining); 1 when seen. */
static int await_serving(int want)
{
    int has;
    for (int i = 0; i < 100; i++) {
        if (serving_workers(0, &has) == want)
            return 1;
        usleep(100 * 1000);
    }
    return 0;
}

/* SIGHUP re-reads the configuration and replaces every worker while POSTs
 * keep arriving beside a read load: none may fail, the new pool size must
 * take effect, and a broken configuration must leave the running one. */
START_TEST(reload_replaces_workers_without_dropping_requests)
{
    pid_t master = api_roostd_master();
    ck_assert_msg(master > 0, "no roostd pid file in %s", run_dir());
    const char *conf = getenv("ROOST_TEST_CONF");
    ck_assert_ptr_nonnull(conf);
    int want = configured_workers();
    ck_assert_int_gt(want, 1);
    pid_t before[MAX_WORKERS], after[MAX_WORKERS];
    int n = api_roostd_workers(master, before, MAX_WORKERS);
    char *original = api_read_file(conf);

    /* One worker fewer: a config change that /status can see. */
    char smaller[64 * 1024], line[64];
    snprintf(line, sizeof(line), "workers = %d\n", want);
    char *at = strstr(original, line);
    ck_assert_msg(at != NULL, "no '%s' in %s", "workers = N", conf);
    /* ... and a pm change: dynamic, starting at (and bounded by) that size. */
    snprintf(smaller, sizeof(smaller), "%.*sworkers = %d\npm = dynamic\nstart_servers = %d\n"
             "min_spare_servers = 1\nmax_spare_servers = %d\n%s", (int)(at - original), original,
             want - 1, want - 1, want - 1, at + strlen(line));

    pid_t load = start_read_load();
    post_failure bad = { .at = -1 };
    int shrunk = 0;
    for (int i = 0; i < 600 && bad.at < 0; i++) {
        if (i == 100) {
            api_write_file(conf, smaller, NULL);
            kill(master, SIGHUP);
        }
        if (i == 300)
            shrunk = await_serving(want - 1);
        if (i == 400) {
            api_write_file(conf, original, NULL);
            kill(master, SIGHUP);
        }
        post_probe(i, &bad);
    }
    kill(load, SIGKILL);
    waitpid(load, NULL, 0);
    api_write_file(conf, original, NULL);                 /* whatever happened above */
    int restored = await_serving(want);

    /* A configuration that does not load changes nothing. */
    char broken[64 * 1024];
    snprintf(broken, sizeof(broken), "%s\n[roostd]\nworkers = many\n", original);
    api_write_file(conf, broken, NULL);
    kill(master, SIGHUP);
    usleep(500 * 1000);
    api_write_file(conf, original, NULL);
    /* The replaced workers drain until nginx lets go of their connections
     * (idle for 1 s once the load stopped). */
    int m = 0, same = n;
    for (int k = 0; k < 100 && same > 0; k++) {
        usleep(100 * 1000);
        m = api_roostd_workers(master, after, MAX_WORKERS);
        same = 0;
        for (int i = 0; i < n; i++)
            same += contains(after, m, before[i]);
    }
    api_resp r;
    ck_assert_int_eq(api_get(&r, "/healthz"), 0);
    long health = r.status;
    api_free(&r);
    free(original);

    ck_assert_msg(bad.at < 0, "POST %d during reloads answered %ld: %s", bad.at, bad.status, bad.body);
    ck_assert_msg(shrunk, "the pool never shrank to %d workers after the reload", want - 1);
    ck_assert_msg(restored, "the pool never came back to %d workers", want);
    ck_assert_msg(same == 0, "%d workers from before the reloads still run", same);
    ck_assert_int_eq(health, 200);
    int has;
    ck_assert_int_eq(serving_workers(0, &has), want);   /* the broken reload changed nothing */
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

/* Every bad key gets a line of its own, with its own line number: inih
 * goes on after the first, and `roostd -t` used to print the first line
 * number with the last message. */
START_TEST(config_test_reports_every_bad_key)
{
    char path[] = "/tmp/roost-bad-conf-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs("[catalog]\ndatabase = c\npassword_file = /nonexistent/catalog-pw\n"
          "[shards]\ncount = 1\n[shard b]\nrange = 0\ndatabase = s\n"
          "password_file = /nonexistent/b-pw\n", f);
    fclose(f);
    char out[4096], want[256];
    int rc = roostd_test_config(path, out, sizeof(out));
    unlink(path);
    ck_assert_int_eq(rc, 1);
    snprintf(want, sizeof(want), "roostd: %s:3: [catalog] password_file: cannot read", path);
    ck_assert_msg(strstr(out, want) != NULL, "output: %s", out);
    snprintf(want, sizeof(want), "roostd: %s:9: [shard b] password_file: cannot read", path);
    ck_assert_msg(strstr(out, want) != NULL, "output: %s", out);
}
END_TEST

/* ------------------------------------------------------------ a private roostd */


static void write_secret(const char *path, char fill)
{
    char raw[49];
    memset(raw, fill, 48);
    raw[48] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, raw, sizeof(raw)), (ssize_t)sizeof(raw));
    close(fd);
}

static void derive(char fill, rst_secrets *out)
{
    unsigned char raw[48];
    memset(raw, fill, sizeof(raw));
    ck_assert_int_eq(rst_secret_derive(raw, sizeof(raw), out), 0);
}

/* 1 when a line of the log contains `text`, waiting up to wait_ms for it. */
static int log_has(const private_roostd *r, const char *text, int wait_ms)
{
    for (int waited = 0;; waited += 50) {
        FILE *f = fopen(r->log, "r");
        char line[1024];
        int found = 0;
        while (f != NULL && !found && fgets(line, sizeof(line), f) != NULL)
            found = strstr(line, text) != NULL;
        if (f != NULL)
            fclose(f);
        if (found || waited >= wait_ms)
            return found;
        usleep(50 * 1000);
    }
}

/* See private_roostd.h. */
void start_private_roostd_with(private_roostd *r, char secret_fill, const char *roostd_keys,
                                      const char *extra, int want)
{
    snprintf(r->dir, sizeof(r->dir), "/tmp/roost-roostd-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(r->dir));
    snprintf(r->conf, sizeof(r->conf), "%s/roost.conf", r->dir);
    snprintf(r->secret, sizeof(r->secret), "%s/secret", r->dir);
    snprintf(r->sock, sizeof(r->sock), "%s/roostd.sock", r->dir);
    snprintf(r->log, sizeof(r->log), "%s/log", r->dir);
    /* A log_file of its own is where its log is (and its readiness). */
    const char *lf = strstr(roostd_keys, "log_file = ");
    if (lf != NULL)
        snprintf(r->log, sizeof(r->log), "%.*s", (int)strcspn(lf + 11, "\n"), lf + 11);
    write_secret(r->secret, secret_fill);
    char text[4096];
    /* generator_base 90: ids this roostd could mint are not the stack's. */
    snprintf(text, sizeof(text),
             "[roostd]\nlisten = %s\nworkers = 1\nrequest_timeout = 1\ngenerator_base = 90\n%s"
             "[security]\nsecret_file = %s\n[catalog]\ndatabase = c\n"
             "[shards]\ncount = 1\n[shard a]\nrange = 0\ndatabase = s\n%s", r->sock, roostd_keys,
             r->secret, extra);
    api_write_file(r->conf, text, NULL);
    const char *bin = getenv("ROOST_TEST_ROOSTD");
    r->pid = fork();
    ck_assert_int_ge(r->pid, 0);
    if (r->pid == 0) {
        int fd = open(r->log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        unsetenv("LISTEN_FDS");
        unsetenv("NOTIFY_SOCKET");
        setenv("ROOST_FAILPOINTS", "slow-request", 1);
        /* An ASan build's own SIGSEGV handler would turn a crash the tests
         * cause (kill -SEGV) into exit 1, which the master does not count
         * as a crash; a plain build ignores the variable. */
        setenv("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0:handle_segv=0", 1);
        execl(bin ? bin : "app/roostd/roostd", "roostd", "-c", r->conf, (char *)NULL);
        _exit(127);
    }
    ck_assert_msg(log_has(r, "ready:", 10000), "private roostd did not start (log in %s)", r->log);
    pid_t w[MAX_WORKERS];
    int n = 0;
    for (int i = 0; i < 100 && (n = api_roostd_workers(r->pid, w, MAX_WORKERS)) < want; i++)
        usleep(50 * 1000);
    ck_assert_int_eq(n, want);
}

static void start_private_roostd(private_roostd *r, char secret_fill)
{
    start_private_roostd_with(r, secret_fill, "", "", 1);
}

int stop_private_roostd(private_roostd *r)
{
    int st = 0;
    pid_t got = 0;
    kill(r->pid, SIGTERM);
    for (int i = 0; i < 400 && (got = waitpid(r->pid, &st, WNOHANG)) == 0; i++)
        usleep(50 * 1000);
    if (got == 0) {
        kill(r->pid, SIGKILL);
        waitpid(r->pid, &st, 0);
        return -1;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void remove_private_roostd(const private_roostd *r)
{
    unlink(r->conf);
    unlink(r->secret);
    unlink(r->sock);
    unlink(r->log);
    rmdir(r->dir);
}

/* A connection that has sent one byte of a FastCGI record header: the
 * worker that took it blocks in libfcgi's read of the rest. */
static int half_a_record(const char *sock)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    size_t len = strlen(sock);
    ck_assert_uint_lt(len, sizeof(sa.sun_path));
    memcpy(sa.sun_path, sock, len + 1);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(write(fd, "\1", 1), 1);
    return fd;
}

/* Issue 7: the worker killed at the end of a stop was taken by a bare
 * blocking waitpid, so reap() never saw it: its slot was never reset and
 * its death never logged. */
START_TEST(stop_accounts_for_a_killed_straggler)
{
    private_roostd r;
    start_private_roostd(&r, 'a');
    pid_t w[MAX_WORKERS];
    ck_assert_int_eq(api_roostd_workers(r.pid, w, MAX_WORKERS), 1);
    int fd = half_a_record(r.sock);
    usleep(300 * 1000);                  /* the worker takes it and blocks */
    int rc = stop_private_roostd(&r);
    close(fd);
    char killed[128];
    snprintf(killed, sizeof(killed), "worker 0 (pid %d) killed by signal 9", (int)w[0]);
    int stuck = log_has(&r, "did not stop in time", 0);
    int logged = log_has(&r, killed, 0);
    int stopped = log_has(&r, "stopped", 0);
    remove_private_roostd(&r);
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(stuck, "the worker was not stuck: the test proves nothing");
    ck_assert_msg(logged, "no '%s' in the master's log", killed);
    ck_assert(stopped);
}
END_TEST

/* 1 while pid runs (not gone, not a zombie). */
static int process_runs(pid_t pid)
{
    char path[64], stat[256];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    int ok = fgets(stat, sizeof(stat), f) != NULL;
    fclose(f);
    const char *close_paren = ok ? strrchr(stat, ')') : NULL;
    return close_paren != NULL && close_paren[1] == ' ' && close_paren[2] != 'Z';
}

/* A worker already draining (recycling after max_requests) when its master
 * was killed -9 kept serving its kept connections for DRAIN_MAX_MS (60 s)
 * with the shard map it had: a shard move's fence never reached it and
 * its writes landed on the old server (the chaos run's shard-move after
 * master-kill9). An orphaned worker stops within 1 s. */
START_TEST(recycling_worker_stops_soon_after_its_master_is_killed)
{
    private_roostd r;
    start_private_roostd_with(&r, 'a', "max_requests = 1\n", "", 1);
    pid_t w[MAX_WORKERS];
    ck_assert_int_eq(api_roostd_workers(r.pid, w, MAX_WORKERS), 1);
    pid_t old = w[0];
    int fd = -1;
    ck_assert_int_eq(rst_fcgi_keep_get(&fd, r.sock, "/healthz", 3000), 200);
    ck_assert_int_ge(fd, 0);
    ck_assert_msg(log_has(&r, "recycling after 1 connections close", 3000),
                  "the worker did not start recycling: the test proves nothing");
    /* Its successor, to end whatever is left at the end. */
    int n = 0;
    for (int i = 0; i < 100 && (n = api_roostd_workers(r.pid, w, MAX_WORKERS)) < 2; i++)
        usleep(50 * 1000);
    kill(r.pid, SIGKILL);
    waitpid(r.pid, NULL, 0);
    /* Requests on the kept connection, as nginx's keepalive would send. */
    long t0 = api_now_ms(), closed_ms = -1;
    int served_after = 0;
    while (api_now_ms() - t0 < 12000) {
        if (fd < 0 || rst_fcgi_keep_get(&fd, r.sock, "/healthz", 2000) != 200) {
            closed_ms = api_now_ms() - t0;
            break;
        }
        served_after++;
        usleep(100 * 1000);
    }
    while (process_runs(old) && api_now_ms() - t0 < 12000)
        usleep(50 * 1000);
    long gone_ms = api_now_ms() - t0;
    int still = process_runs(old);
    for (int i = 0; i < n; i++)
        if (process_runs(w[i]))
            kill(w[i], SIGKILL);
    if (fd >= 0)
        close(fd);
    int logged = log_has(&r, "the master process is gone: stopping (was draining)", 0);
    remove_private_roostd(&r);
    ck_assert_msg(served_after > 0, "the kept connection was closed at once: the test proves nothing");
    ck_assert_msg(closed_ms >= 0 && closed_ms < 3000,
                  "the orphaned recycling worker kept its connection for %ld ms%s",
                  closed_ms < 0 ? 12000 : closed_ms, closed_ms < 0 ? " and more" : "");
    ck_assert_msg(!still && gone_ms < 4000, "the orphaned worker %d still ran after %ld ms",
                  (int)old, gone_ms);
    ck_assert(logged);
}
END_TEST

/* All of a process's writable memory, through /proc/PID/mem: 1 when the
 * n bytes of `needle` are anywhere in it. Read a chunk at a time (chunks
 * overlap by n - 1 bytes, so no match is split); mappings larger than
 * 1 GiB are a sanitizer's shadow memory, not the heap, and are skipped. */
static int memory_holds(pid_t pid, const void *needle, size_t n)
{
    enum { CHUNK = 1 << 20 };
    char path[64], line[512];
    snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
    FILE *maps = fopen(path, "r");
    snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
    int mem = open(path, O_RDONLY);
    ck_assert_msg(maps != NULL && mem >= 0, "cannot read the memory of %d", (int)pid);
    unsigned char *buf = malloc(CHUNK + n);
    ck_assert_ptr_nonnull(buf);
    int found = 0;
    while (!found && fgets(line, sizeof(line), maps) != NULL) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r' ||
            perms[1] != 'w' || strstr(line, "[vvar]") != NULL || hi - lo > (1UL << 30))
            continue;
        for (unsigned long at = lo; at < hi && !found; at += CHUNK) {
            size_t want = hi - at < CHUNK + n ? hi - at : CHUNK + n - 1;
            ssize_t got = pread(mem, buf, want, (off_t)at);
            for (ssize_t i = 0; got > 0 && i + (ssize_t)n <= got && !found; i++)
                found = memcmp(buf + i, needle, n) == 0;
        }
    }
    free(buf);
    fclose(maps);
    close(mem);
    return found;
}

/* Issue 7: keys derived from a secret that a reload replaced stayed in the
 * master's memory (freed without sodium_memzero, or never wiped). After two
 * reloads (secret a -> b -> c) only c's keys may be there. */
START_TEST(reload_leaves_no_old_keys_in_the_master)
{
    ck_assert_int_ge(sodium_init(), 0);
    rst_secrets a, b, c;
    derive('a', &a);
    derive('b', &b);
    derive('c', &c);
    private_roostd r;
    start_private_roostd(&r, 'a');
    ck_assert_msg(memory_holds(r.pid, c.cursor.key, sizeof(c.cursor.key)) == 0, "c before its time?");
    ck_assert_msg(memory_holds(r.pid, a.cursor.key, sizeof(a.cursor.key)), "the scan cannot see keys");
    write_secret(r.secret, 'b');
    kill(r.pid, SIGHUP);
    int first = log_has(&r, "replacing 1 workers", 10000);
    write_secret(r.secret, 'c');
    api_write_file(r.log, "", NULL);                    /* the next "replacing" is the second reload's */
    kill(r.pid, SIGHUP);
    int second = first && log_has(&r, "replacing 1 workers", 10000);
    int c_jwt = memory_holds(r.pid, c.jwt, sizeof(c.jwt));
    int c_cursor = memory_holds(r.pid, c.cursor.key, sizeof(c.cursor.key));
    int a_jwt = memory_holds(r.pid, a.jwt, sizeof(a.jwt));
    int a_cursor = memory_holds(r.pid, a.cursor.key, sizeof(a.cursor.key));
    int b_jwt = memory_holds(r.pid, b.jwt, sizeof(b.jwt));
    int b_cursor = memory_holds(r.pid, b.cursor.key, sizeof(b.cursor.key));
    stop_private_roostd(&r);
    remove_private_roostd(&r);
    ck_assert_msg(first && second, "the reloads did not happen");
    ck_assert_msg(c_jwt && c_cursor, "the scan does not find the keys in use");
    ck_assert_msg(!a_jwt && !a_cursor, "the first secret's keys are still in the master "
                  "(jwt %d, cursor %d)", a_jwt, a_cursor);
    ck_assert_msg(!b_jwt && !b_cursor, "the replaced secret's keys are still in the master "
                  "(jwt %d, cursor %d)", b_jwt, b_cursor);
}
END_TEST

/* ------------------------------------------------------------ migrations */


/* Runs `roostctl -c conf ARGS`; exit status, output in out. */
static int roostctl(const char *conf, const char *args, char *out, size_t outlen)
{
    return api_roostctl(NULL, conf, args, out, outlen);
}

/* A copy of the test stack's config whose migrations_dir is `dir`. */
static void config_with_migrations(const char *dir, const char *out_path)
{
    const char *conf = getenv("ROOST_TEST_CONF");
    ck_assert_ptr_nonnull(conf);
    FILE *in = fopen(conf, "r"), *out = fopen(out_path, "w");
    ck_assert(in != NULL && out != NULL);
    char line[1024];
    while (fgets(line, sizeof(line), in) != NULL) {
        if (strncmp(line, "migrations_dir", 14) == 0)
            fprintf(out, "migrations_dir = %s\n", dir);
        else
            fputs(line, out);
    }
    fclose(in);
    fclose(out);
}

/* roostctl migrate applies a new file to every database once, records its
 * checksum, and refuses to go on when an applied file has changed. The
 * probe files live in a directory of their own, against the test stack. */
START_TEST(migrate_applies_once_and_refuses_changed_files)
{
    char dir[] = "/tmp/roost-migrate-XXXXXX", path[512], conf[512], out[8192];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *kinds[] = { "catalog", "shard" };
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, kinds[i]);
        ck_assert_int_eq(mkdir(path, 0700), 0);
        snprintf(path, sizeof(path), "%s/%s/9001_probe.sql", dir, kinds[i]);
        /* A comment that ends in ';' is not a statement; a last statement
         * without ';' still runs (9002 needs its table). */
        api_write_file(path, "-- a probe table for the migration test;\n"
                       "CREATE TABLE migrate_probe (id INT NOT NULL PRIMARY KEY);\n"
                       "CREATE TABLE migrate_probe2 (id INT NOT NULL PRIMARY KEY)\n", NULL);
        snprintf(path, sizeof(path), "%s/%s/9002_probe_row.sql", dir, kinds[i]);
        api_write_file(path, "INSERT INTO migrate_probe2 (id) VALUES (1);\n", NULL);
    }
    snprintf(conf, sizeof(conf), "%s/roost.conf", dir);
    config_with_migrations(dir, conf);

    ck_assert_msg(roostctl(conf, "migrate", out, sizeof(out)) == 0, "%s", out);
    ck_assert_msg(strstr(out, "catalog: applied 9001_probe.sql") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "shard a: applied 9001_probe.sql") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "shard b: applied 9001_probe.sql") != NULL, "%s", out);
    ck_assert_msg(strstr(out, "shard b: applied 9002_probe_row.sql") != NULL, "%s", out);
    ck_assert_msg(roostctl(conf, "migrate", out, sizeof(out)) == 0, "%s", out);
    ck_assert_msg(strstr(out, "applied 9001") == NULL, "applied twice: %s", out);

    snprintf(path, sizeof(path), "%s/catalog/9001_probe.sql", dir);
    api_write_file(path, "-- edited after it was applied\n"
                   "CREATE TABLE migrate_probe (id INT NOT NULL PRIMARY KEY);\n", NULL);
    ck_assert_msg(roostctl(conf, "migrate", out, sizeof(out)) == 1, "%s", out);
    ck_assert_msg(strstr(out, "changed after it was applied") != NULL, "%s", out);
    ck_assert_msg(roostctl(conf, "migrate status", out, sizeof(out)) == 1, "%s", out);
    ck_assert_msg(strstr(out, "CHANGED") != NULL, "%s", out);

    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/%s/9001_probe.sql", dir, kinds[i]);
        unlink(path);
        snprintf(path, sizeof(path), "%s/%s/9002_probe_row.sql", dir, kinds[i]);
        unlink(path);
        snprintf(path, sizeof(path), "%s/%s", dir, kinds[i]);
        rmdir(path);
    }
    unlink(conf);
    rmdir(dir);
}
END_TEST

/* ------------------------------------------------------------ pools and pm */

/* A number of pool `pool` in the private roostd's /status (asked over
 * FastCGI), or -1 when it does not answer within timeout_ms. */
static int pool_figure(const private_roostd *r, const char *pool, const char *field, int timeout_ms)
{
    char body[65536];
    if (rst_fcgi_get(r->sock, "/status", timeout_ms, body, sizeof(body)) != 200)
        return -1;
    cJSON *j = cJSON_Parse(body);
    const cJSON *p = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "pools"), pool);
    const cJSON *v = cJSON_GetObjectItem(p, field);
    int n = cJSON_IsNumber(v) ? (int)v->valuedouble : -1;
    cJSON_Delete(j);
    return n;
}

/* Serving workers of the main pool: idle or busy, not starting or draining. */
static int pool_serving(const private_roostd *r)
{
    int idle = pool_figure(r, "main", "idle_workers", 5000);
    int active = pool_figure(r, "main", "active_workers", 5000);
    return idle < 0 || active < 0 ? -1 : idle + active;
}

/* pm = dynamic: three requests that sleep (one connection a worker) leave
 * no idle worker, so the pool forks up to max_children; once they are
 * done, the surplus idle workers are retired after process_idle_timeout,
 * down to max_spare_servers. Both seen through /status. */
START_TEST(dynamic_pool_grows_under_load_and_shrinks_when_idle)
{
    private_roostd r;
    start_private_roostd_with(&r, 'd', "pm = dynamic\nmax_children = 4\nstart_servers = 1\n"
                              "min_spare_servers = 1\nmax_spare_servers = 1\n"
                              "process_idle_timeout = 1\nmax_conns_per_worker = 1\n"
                              "request_timeout = 30\n", "", 1);
    int start = pool_serving(&r);
    int held[3];
    for (int i = 0; i < 3; i++) {
        held[i] = rst_fcgi_send_get(r.sock, "/healthz", "slow-request", NULL);
        ck_assert_int_ge(held[i], 0);
    }
    int most = 0, total = 0;
    for (int i = 0; i < 40 && most < 4; i++) {
        usleep(100 * 1000);
        total = pool_figure(&r, "main", "total_workers", 2000);
        if (total > most)
            most = total;
    }
    for (int i = 0; i < 3; i++)
        rst_fcgi_read_answer(held[i], 6000, NULL, 0);
    /* Watched from /proc, not /status: a request would make a worker busy
     * again, and keep it from reaching process_idle_timeout. */
    pid_t w[MAX_WORKERS];
    int left = -1;
    for (int i = 0; i < 150 && left != 1; i++) {
        usleep(100 * 1000);
        left = api_roostd_workers(r.pid, w, MAX_WORKERS);
    }
    int now = pool_serving(&r);
    int retired = pool_figure(&r, "main", "retired", 2000);
    int spawned = pool_figure(&r, "main", "spawned", 2000);
    int rc = stop_private_roostd(&r);
    int logged = log_has(&r, "pool main: retiring worker", 0);
    remove_private_roostd(&r);
    ck_assert_int_eq(start, 1);
    ck_assert_msg(most == 4, "the pool grew to %d workers under load, not max_children 4", most);
    ck_assert_msg(now == 1, "the pool is at %d serving workers, not max_spare_servers 1", now);
    ck_assert_int_ge(retired, 3);
    ck_assert_int_ge(spawned, 4);
    ck_assert(logged);
    ck_assert_int_eq(rc, 0);
}
END_TEST

/* pm = ondemand: no worker until a connection waits; the first request is
 * served by the worker forked for it, which is retired once idle. */
START_TEST(ondemand_pool_starts_empty_and_serves_the_first_request)
{
    private_roostd r;
    start_private_roostd_with(&r, 'o', "pm = ondemand\nmax_children = 2\nprocess_idle_timeout = 1\n",
                              "", 0);
    pid_t w[MAX_WORKERS];
    usleep(300 * 1000);
    int before = api_roostd_workers(r.pid, w, MAX_WORKERS);
    char body[65536];
    int status = rst_fcgi_get(r.sock, "/status", 5000, body, sizeof(body));
    cJSON *j = cJSON_Parse(body);
    const cJSON *main_pool = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "pools"), "main");
    const cJSON *pm = cJSON_GetObjectItem(main_pool, "pm");
    int pm_ok = cJSON_IsString(pm) && strcmp(pm->valuestring, "ondemand") == 0;
    int total = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(main_pool, "total_workers"));
    cJSON_Delete(j);
    int after = -1;
    for (int i = 0; i < 60 && after != 0; i++) {
        usleep(100 * 1000);
        after = api_roostd_workers(r.pid, w, MAX_WORKERS);
    }
    int rc = stop_private_roostd(&r);
    remove_private_roostd(&r);
    ck_assert_int_eq(before, 0);
    ck_assert_msg(status == 200, "the first request got %d", status);
    ck_assert(pm_ok);
    ck_assert_int_eq(total, 1);
    ck_assert_msg(after == 0, "%d workers still run after process_idle_timeout", after);
    ck_assert_int_eq(rc, 0);
}
END_TEST

/* A request past request_terminate_timeout (1 s here; the failpoint
 * sleeps 3.5 s) is killed: its connection closes without an answer (nginx
 * makes that a 502 with the JSON body), the log names the request, the
 * pool counts the kill, and the slow log got the request while it ran. */
START_TEST(terminate_timeout_kills_and_slowlog_names_the_request)
{
    private_roostd r;
    char keys[512], slowlog[128];
    snprintf(slowlog, sizeof(slowlog), "/tmp/roost-slowlog-%d.log", (int)getpid());
    unlink(slowlog);
    snprintf(keys, sizeof(keys), "request_slowlog_timeout = 1\nslowlog = %s\n", slowlog);
    start_private_roostd_with(&r, 't', keys, "", 1);
    int fd = rst_fcgi_send_get(r.sock, "/healthz", "slow-request", "req-terminate-42");
    ck_assert_int_ge(fd, 0);
    int got = rst_fcgi_read_answer(fd, 4000, NULL, 0);
    int killed_logged = log_has(&r, "stuck on request req-terminate-42 GET /healthz", 2000);
    int killed = pool_figure(&r, "main", "killed", 5000);
    char *slow = api_read_file(slowlog);
    int rc = stop_private_roostd(&r);
    unlink(slowlog);
    remove_private_roostd(&r);
    ck_assert_msg(got == 0, "the killed request's connection gave %d, not a close", got);
    ck_assert(killed_logged);
    ck_assert_int_eq(killed, 1);
    ck_assert_ptr_nonnull(slow);
    ck_assert_msg(strstr(slow, "request_id=req-terminate-42 route=healthz GET /healthz") != NULL,
                  "slow log: %s", slow);
    ck_assert_msg(strstr(slow, "pool=main") != NULL, "slow log: %s", slow);
    free(slow);
    ck_assert_int_eq(rc, 0);
}
END_TEST

/* SIGUSR1 after a rotation: roostd's log_file is reopened by the master
 * and its workers, so new lines land in the new file. */
START_TEST(sigusr1_reopens_the_log_file)
{
    char keys[256], logfile[128], rotated[140];
    snprintf(logfile, sizeof(logfile), "/tmp/roost-logfile-%d.log", (int)getpid());
    snprintf(rotated, sizeof(rotated), "%s.1", logfile);
    snprintf(keys, sizeof(keys), "log_file = %s\nlog_level = debug\n", logfile);
    private_roostd p;
    start_private_roostd_with(&p, 'l', keys, "", 1);
    ck_assert_int_eq(rename(logfile, rotated), 0);
    kill(p.pid, SIGUSR1);
    usleep(300 * 1000);
    /* A worker line (debug: each request) and a master line (the reload). */
    ck_assert_int_eq(rst_fcgi_get(p.sock, "/status", 5000, NULL, 0), 200);
    kill(p.pid, SIGHUP);
    usleep(500 * 1000);
    char *fresh = api_read_file(logfile);
    int rc = stop_private_roostd(&p);
    char *old = api_read_file(rotated);
    unlink(rotated);
    remove_private_roostd(&p);
    ck_assert_ptr_nonnull(fresh);
    ck_assert_ptr_nonnull(old);
    ck_assert_msg(strstr(old, "ready:") != NULL, "rotated log: %s", old);
    ck_assert_msg(strstr(fresh, "log files reopened") != NULL, "new log: %s", fresh);
    ck_assert_msg(strstr(fresh, "GET /status -> 200") != NULL, "no worker line in the new log: %s", fresh);
    ck_assert_msg(strstr(fresh, "reload:") != NULL, "no master line in the new log: %s", fresh);
    ck_assert_msg(strstr(old, "GET /status -> 200") == NULL, "a worker wrote to the old log");
    free(fresh);
    free(old);
    ck_assert_int_eq(rc, 0);
}
END_TEST

/* A reload whose pools cannot change while running (one added here)
 * keeps the running configuration and says why. */
START_TEST(reload_that_adds_a_pool_is_refused)
{
    private_roostd r;
    start_private_roostd_with(&r, 'p', "", "", 1);
    char *text = api_read_file(r.conf);
    ck_assert_ptr_nonnull(text);
    char more[8192], extra_sock[160];
    snprintf(extra_sock, sizeof(extra_sock), "%s/extra.sock", r.dir);
    snprintf(more, sizeof(more), "%s[pool extra]\nlisten = %s\n", text, extra_sock);
    api_write_file(r.conf, more, NULL);
    kill(r.pid, SIGHUP);
    int refused = log_has(&r, "reload: pools cannot be added or removed", 3000);
    int kept = log_has(&r, "reload: keeping the running configuration", 0);
    int serving = pool_serving(&r);
    int rc = stop_private_roostd(&r);
    free(text);
    remove_private_roostd(&r);
    ck_assert(refused);
    ck_assert(kept);
    ck_assert_int_eq(serving, 1);
    ck_assert_int_eq(rc, 0);
}
END_TEST

/* emergency_restart_threshold: two workers crashing (SIGILL, SIGABRT:
 * signals ASan leaves alone, so the ASan run sees the same deaths) within
 * the interval make the master replace every worker, the one that did not
 * crash too. */
START_TEST(crashes_past_the_threshold_replace_every_worker)
{
    private_roostd r;
    start_private_roostd_with(&r, 'e', "workers = 3\nemergency_restart_threshold = 2\n"
                              "emergency_restart_interval = 10\n", "", 3);
    pid_t w[MAX_WORKERS];
    ck_assert_int_eq(api_roostd_workers(r.pid, w, MAX_WORKERS), 3);
    pid_t survivor = w[2];
    kill(w[0], SIGILL);
    usleep(200 * 1000);
    kill(w[1], SIGABRT);
    int replaced = log_has(&r, "crashed within 10 s (emergency_restart_threshold): replacing every worker",
                           3000);
    int gone = 0;
    for (int i = 0; i < 60 && !gone; i++) {
        usleep(100 * 1000);
        pid_t now[MAX_WORKERS];
        int n = api_roostd_workers(r.pid, now, MAX_WORKERS);
        gone = n == 3 && !contains(now, n, survivor);
    }
    int rc = stop_private_roostd(&r);
    remove_private_roostd(&r);
    ck_assert(replaced);
    ck_assert_msg(gone, "the worker that did not crash (pid %d) was not replaced", (int)survivor);
    ck_assert_int_eq(rc, 0);
}
END_TEST

/* ------------------------------------------------------------ fenced shards */

/* Writes conf with `fenced = list` under [shards] (NULL: as it was), sends
 * SIGHUP and waits until every worker forked before it is gone: a draining
 * worker serves nginx's kept connections with the old map until nginx
 * lets them go. 1 when they all went. */
static int reload_with_fence(const char *original, const char *list)
{
    const char *conf = getenv("ROOST_TEST_CONF");
    pid_t master = api_roostd_master(), before[MAX_WORKERS], now[MAX_WORKERS];
    int n = api_roostd_workers(master, before, MAX_WORKERS);
    if (list == NULL) {
        api_write_file(conf, original, NULL);
    } else {
        const char *at = strstr(original, "[shards]\n");
        ck_assert_ptr_nonnull(at);
        at += strlen("[shards]\n");
        char *text = malloc(strlen(original) + 128);
        sprintf(text, "%.*sfenced = %s\n%s", (int)(at - original), original, list, at);
        api_write_file(conf, text, NULL);
        free(text);
    }
    kill(master, SIGHUP);
    for (int k = 0; k < 150; k++) {
        usleep(100 * 1000);
        int m = api_roostd_workers(master, now, MAX_WORKERS), same = 0;
        for (int i = 0; i < n; i++)
            same += contains(now, m, before[i]);
        if (same == 0 && m > 0)
            return 1;
    }
    return 0;
}

static long post_tweet_status(const acct_user *u, char *retry_after, size_t len, char *body, size_t blen)
{
    char path[64];
    snprintf(path, sizeof(path), "/tweets/%s", u->id);
    api_resp r;
    api_ok(acct_req(&r, "POST", path, "{\"message\":\"fenced?\"}", u->tok, NULL));
    long st = r.status;
    if (retry_after != NULL && api_header(&r, "Retry-After", retry_after, len) == NULL)
        retry_after[0] = '\0';
    if (body != NULL)
        snprintf(body, blen, "%s", r.body ? r.body : "");
    api_free(&r);
    return st;
}

static unsigned shard_of(const acct_user *u)
{
    return rst_id_shard(strtoull(u->id, NULL, 10));
}

/* [shards] fenced (the write fence of a shard move): after a reload, a
 * write to a user of a fenced logical shard answers 503 with Retry-After
 * and the API's JSON error, and never reaches the database; reads of the
 * same user go on; a user on another shard writes as before; once the
 * fence is lifted the same write succeeds. */
START_TEST(fenced_shards_refuse_writes_and_serve_reads)
{
    acct_user u, other;
    acct_user_new(&u, "fnc");
    do
        acct_user_new(&other, "fno");
    while (shard_of(&other) == shard_of(&u));
    char *original = api_read_file(getenv("ROOST_TEST_CONF")), list[32], ra[16], body[1024];
    snprintf(list, sizeof(list), "%u", shard_of(&u));
    int fenced = reload_with_fence(original, list);
    long st = post_tweet_status(&u, ra, sizeof(ra), body, sizeof(body));
    long other_st = post_tweet_status(&other, NULL, 0, NULL, 0);
    char path[64];
    snprintf(path, sizeof(path), "/users/%s", u.id);
    api_resp r;
    api_ok(api_get_fresh(&r, path));
    long read_st = r.status;
    api_free(&r);
    int lifted = reload_with_fence(original, NULL);
    long after = post_tweet_status(&u, NULL, 0, NULL, 0);
    free(original);

    ck_assert_msg(fenced && lifted, "the workers from before a reload did not all go");
    ck_assert_msg(st == 503, "a write to fenced shard %s answered %ld: %s", list, st, body);
    ck_assert_str_eq(ra, "1");
    ck_assert_msg(strstr(body, "\"service_unavailable\"") != NULL, "%s", body);
    ck_assert_int_eq(other_st, 201);
    ck_assert_int_eq(read_st, 200);
    ck_assert_int_eq(after, 201);
}
END_TEST

/* ------------------------------------------------------------ generator claims */

/* See private_roostd.h. */
void copy_host_config(const char *from, const char *dir, int generator_base, char *conf,
                      size_t len)
{
    ck_assert_ptr_nonnull(from);
    snprintf(conf, len, "%s/roost.conf", dir);
    FILE *in = fopen(from, "r"), *out = fopen(conf, "w");
    ck_assert(in != NULL && out != NULL);
    char line[1024];
    int pool = 0;
    while (fgets(line, sizeof(line), in) != NULL) {
        if (strncmp(line, "listen = ", 9) == 0)
            fprintf(out, "listen = %s/pool%d.sock\n", dir, pool++);
        else if (strncmp(line, "slowlog = ", 10) == 0)
            fprintf(out, "slowlog = %s/slow.log\n", dir);
        else if (strncmp(line, "generator_base = ", 17) == 0 && generator_base >= 0)
            fprintf(out, "generator_base = %d\n", generator_base);
        else
            fputs(line, out);
    }
    fclose(in);
    fclose(out);
}

/* A second roostd "host" on the stack's catalog and shards. */
static void second_host_config(const char *dir, int generator_base, char *conf, size_t len)
{
    copy_host_config(getenv("ROOST_TEST_CONF"), dir, generator_base, conf, len);
}

/* See private_roostd.h. */
pid_t spawn_roostd(const char *conf, const char *log)
{
    const char *bin = getenv("ROOST_TEST_ROOSTD");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        unsetenv("LISTEN_FDS");
        unsetenv("NOTIFY_SOCKET");
        execl(bin ? bin : "app/roostd/roostd", "roostd", "-c", conf, (char *)NULL);
        _exit(127);
    }
    return pid;
}

int wait_exit(pid_t pid, int ms)
{
    int st = 0;
    for (int waited = 0; waited < ms; waited += 50) {
        if (waitpid(pid, &st, WNOHANG) == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        usleep(50 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -2;
}

/* The claim of the roostd whose config is conf, as "first\tlast", or "". */
static void claim_of(const char *conf, char *out, size_t len)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "SELECT first_gen, last_gen FROM %s.generator_claims "
             "WHERE owner LIKE \"%%:%s\"", api_stack_config()->catalog.database, conf);
    ck_assert_msg(api_sql("db1", sql, out, len) == 0, "cannot read generator_claims");
}

int file_has(const char *path, const char *text)
{
    if (access(path, R_OK) != 0)
        return 0;                        /* not written yet */
    char *t = api_read_file(path);
    int yes = t != NULL && strstr(t, text) != NULL;
    free(t);
    return yes;
}

/* Two roostd hosts on one catalog with overlapping generator blocks could
 * mint the same id: the second is refused at start and names the claim
 * it overlaps (the stack's roostd: generators 0-11). One with a block of
 * its own starts, its claim is in the catalog, and a clean stop gives the
 * claim up. */
START_TEST(overlapping_generator_blocks_are_refused)
{
    char dir[] = "/tmp/roost-host2-XXXXXX", conf[128], log[128], got[256];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(log, sizeof(log), "%s/log", dir);

    /* The stack's roostd may have started before migration 0002 was
     * applied: it claims at its next renewal, within 10 s. */
    for (int i = 0; i < 150; i++) {
        claim_of(getenv("ROOST_TEST_CONF"), got, sizeof(got));
        if (got[0] != '\0')
            break;
        usleep(100 * 1000);
    }
    ck_assert_str_eq(got, "0\t11");

    second_host_config(dir, 6, conf, sizeof(conf));
    int rc = wait_exit(spawn_roostd(conf, log), 20000);
    ck_assert_msg(rc == 1, "roostd with generators 6-17 exited %d (log %s)", rc, log);
    ck_assert_msg(file_has(log, "generators 6-17 overlap 0-11, claimed by "),
                  "no overlap named in %s", log);
    ck_assert_msg(file_has(log, getenv("ROOST_TEST_CONF")), "the other claim's owner is not named");
    ck_assert_msg(!file_has(log, "ready:"), "it started anyway");
    claim_of(conf, got, sizeof(got));
    ck_assert_msg(got[0] == '\0', "a refused roostd left a claim: %s", got);

    second_host_config(dir, 600, conf, sizeof(conf));
    pid_t pid = spawn_roostd(conf, log);
    for (int i = 0; i < 200 && !file_has(log, "ready:"); i++)
        usleep(50 * 1000);
    ck_assert_msg(file_has(log, "ready:"), "roostd with generators 600-611 did not start (log %s)", log);
    ck_assert_msg(file_has(log, "generators 600-611 claimed in the catalog"), "no claim logged");
    claim_of(conf, got, sizeof(got));
    ck_assert_str_eq(got, "600\t611");
    /* roostctl shards lists both hosts' blocks. */
    char out[16384], line[600];
    ck_assert_msg(roostctl(getenv("ROOST_TEST_CONF"), "shards", out, sizeof(out)) == 0, "%s", out);
    snprintf(line, sizeof(line), ":%s\n", conf);
    ck_assert_msg(strstr(out, "  600-611 ") != NULL && strstr(out, line) != NULL &&
                  strstr(out, "  0-11 ") != NULL, "roostctl shards lacks a claim: %s", out);
    kill(pid, SIGTERM);
    ck_assert_int_eq(wait_exit(pid, 20000), 0);
    claim_of(conf, got, sizeof(got));
    ck_assert_msg(got[0] == '\0', "the claim outlived a clean stop: %s", got);

    char cmd[256];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* A row of generator_claims written here, as another host would hold it:
 * renewed `age_s` seconds ago by the catalog's clock. */
static void foreign_claim(const char *owner, int first, int last, int age_s)
{
    char sql[512];
    snprintf(sql, sizeof(sql), "REPLACE INTO %s.generator_claims (owner, first_gen, last_gen, pid, "
             "claimed_at, heartbeat_at) VALUES (\"%s\", %d, %d, 1, NOW(3) - INTERVAL %d SECOND, "
             "NOW(3) - INTERVAL %d SECOND)", api_stack_config()->catalog.database, owner, first, last,
             age_s, age_s);
    ck_assert_msg(api_sql("db1", sql, NULL, 0) == 0, "cannot write a claim");
}

static long claims_of_owner(const char *owner)
{
    char sql[512], out[32];
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM %s.generator_claims WHERE owner = \"%s\"",
             api_stack_config()->catalog.database, owner);
    ck_assert_msg(api_sql("db1", sql, out, sizeof(out)) == 0, "cannot read generator_claims");
    return atol(out);
}

/* A claim not renewed for 30 s is dead (its host crashed): a roostd
 * whose block overlaps it starts and takes the numbers. A reload that
 * would widen a running roostd's block (more workers) into a live claim
 * of another is refused, and the running configuration and claim stay. */
START_TEST(dead_claims_are_taken_and_widening_into_a_live_one_is_refused)
{
    char dir[] = "/tmp/roost-host2-XXXXXX", conf[128], log[128], got[256];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(log, sizeof(log), "%s/log", dir);
    const char *dead = "deadhost:/gone/roost.conf", *live = "livehost:/other/roost.conf";
    foreign_claim(dead, 700, 711, 60);
    foreign_claim(live, 712, 723, 0);

    second_host_config(dir, 700, conf, sizeof(conf));
    pid_t pid = spawn_roostd(conf, log);
    for (int i = 0; i < 200 && !file_has(log, "ready:"); i++)
        usleep(50 * 1000);
    int started = file_has(log, "ready:");
    claim_of(conf, got, sizeof(got));
    long dead_left = claims_of_owner(dead);

    /* Five main workers: 14 slots, 700-713, into livehost's 712-723. */
    char *text = api_read_file(conf), *w = text ? strstr(text, "workers = 4") : NULL;
    ck_assert_ptr_nonnull(w);
    w[10] = '5';
    api_write_file(conf, text, NULL);
    free(text);
    kill(pid, SIGHUP);
    for (int i = 0; i < 100 && !file_has(log, "keeping the running configuration"); i++)
        usleep(50 * 1000);
    int refused = file_has(log, "reload: generators 700-713 overlap 712-723, claimed by livehost") &&
                  file_has(log, "keeping the running configuration");
    char after[256];
    claim_of(conf, after, sizeof(after));
    int alive = kill(pid, 0) == 0;
    kill(pid, SIGTERM);
    int rc = wait_exit(pid, 20000);
    char sql[256];
    snprintf(sql, sizeof(sql), "DELETE FROM %s.generator_claims WHERE owner = \"%s\"",
             api_stack_config()->catalog.database, live);
    ck_assert_int_eq(api_sql("db1", sql, NULL, 0), 0);
    if (!started || !refused) {
        snprintf(sql, sizeof(sql), "cat '%s' >&2", log);
        ck_assert_int_eq(system(sql), 0);
    }
    snprintf(sql, sizeof(sql), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(sql), 0);

    ck_assert_msg(started, "roostd over a dead claim's block did not start");
    ck_assert_str_eq(got, "700\t711");
    ck_assert_int_eq(dead_left, 0);
    ck_assert_msg(refused, "the widening reload was not refused for livehost's claim");
    ck_assert_msg(alive, "roostd did not survive the refused reload");
    ck_assert_str_eq(after, "700\t711");
    ck_assert_int_eq(rc, 0);
}
END_TEST

Suite *suite_roostd(void)
{
    Suite *s = suite_create("roostd");
    TCase *tc = api_tcase(s, "process manager");
    tcase_set_timeout(tc, 90);          /* the reload test waits for drains */
    tcase_add_test(tc, killed_worker_is_replaced);
    tcase_add_test(tc, recycling_never_fails_a_post);
    tcase_add_test(tc, reload_replaces_workers_without_dropping_requests);
    tcase_add_test(tc, config_test_accepts_the_stack_config);
    tcase_add_test(tc, config_test_names_the_bad_key);
    tcase_add_test(tc, config_test_reports_every_bad_key);
    tcase_add_test(tc, stop_accounts_for_a_killed_straggler);
    tcase_add_test(tc, recycling_worker_stops_soon_after_its_master_is_killed);
    tcase_add_test(tc, reload_leaves_no_old_keys_in_the_master);
    tcase_add_test(tc, migrate_applies_once_and_refuses_changed_files);
    tcase_add_test(tc, dynamic_pool_grows_under_load_and_shrinks_when_idle);
    tcase_add_test(tc, ondemand_pool_starts_empty_and_serves_the_first_request);
    tcase_add_test(tc, terminate_timeout_kills_and_slowlog_names_the_request);
    tcase_add_test(tc, sigusr1_reopens_the_log_file);
    tcase_add_test(tc, reload_that_adds_a_pool_is_refused);
    tcase_add_test(tc, crashes_past_the_threshold_replace_every_worker);
    tcase_add_test(tc, overlapping_generator_blocks_are_refused);
    tcase_add_test(tc, dead_claims_are_taken_and_widening_into_a_live_one_is_refused);
    tcase_add_test(tc, fenced_shards_refuse_writes_and_serve_reads);
    return s;
}
