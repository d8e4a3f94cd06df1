/* test_leaks.c -- a worker's memory over 10 000 requests of every route.
 *
 * A private roostd (one worker, never recycled: the test stack recycles
 * every 300 requests, which would hide a leak) serves the test stack's
 * databases and Redis on a socket of its own. The test speaks FastCGI to
 * it directly, on one kept connection as nginx does, and sends requests
 * round-robin over every route of roostd's tables (rst_app_route_def, so a
 * new route is in the mix without a change here): reads, writes that
 * succeed (a follow and its unfollow, a cart item and its removal, a tweet
 * and its deletion), and for a route this file has no request for, one
 * made from its pattern. Sign-ups and sign-ins (Argon2id, ~30 ms) come one
 * round in 25.
 *
 * The worker's resident set is read from /proc after a warm-up of
 * LEAK_WARMUP requests (caches, prepared statements, buffers and the
 * allocator's arenas reach their size) and again after LEAK_REQUESTS
 * more; growth above LEAK_BOUND_KIB fails. The bound: a leak of 100 bytes
 * a request would add ~1 MiB; the measured noise is in
 * docs/RELIABILITY.md. Under ASan the resident set means nothing (freed
 * memory waits in the quarantine): the same load runs with LeakSanitizer
 * on in the worker instead, and a leak report when it exits fails. */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "accounts.h"
#include "api/app.h"
#include "suites.h"

#define LEAK_WARMUP    1000
#define LEAK_REQUESTS  10000
#define LEAK_BOUND_KIB 1024
#define SLOW_EVERY     25        /* rounds between sign-ups and sign-ins */

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#else
#define UNDER_ASAN 0
#endif

/* ------------------------------------------------------------ FastCGI */

enum { FCGI_BEGIN = 1, FCGI_END = 3, FCGI_PARAMS = 4, FCGI_STDIN = 5, FCGI_STDOUT = 6 };

static int put_record(char *buf, size_t *o, size_t cap, int type, const void *p, size_t n)
{
    if (n > 65535 || *o + 8 + n > cap)
        return -1;
    unsigned char h[8] = { 1, (unsigned char)type, 0, 1, (unsigned char)(n >> 8),
                           (unsigned char)n, 0, 0 };
    memcpy(buf + *o, h, 8);
    memcpy(buf + *o + 8, p, n);
    *o += 8 + n;
    return 0;
}

static size_t put_len(unsigned char *p, size_t n)
{
    if (n < 128) {
        p[0] = (unsigned char)n;
        return 1;
    }
    p[0] = (unsigned char)(0x80 | (n >> 24));
    p[1] = (unsigned char)(n >> 16);
    p[2] = (unsigned char)(n >> 8);
    p[3] = (unsigned char)n;
    return 4;
}

/* Appends one name-value pair to a PARAMS body. */
static void put_param(unsigned char *p, size_t *o, size_t cap, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    ck_assert_uint_lt(*o + 8 + nl + vl, cap);
    *o += put_len(p + *o, nl);
    *o += put_len(p + *o, vl);
    memcpy(p + *o, name, nl);
    memcpy(p + *o + nl, value, vl);
    *o += nl + vl;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *p, size_t n)
{
    char *c = p;
    while (n > 0) {
        ssize_t r = read(fd, c, n);
        if (r <= 0)
            return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

/* Sends one request on the kept connection and reads its answer (the
 * STDOUT bytes, NUL-terminated, into out) up to END_REQUEST. The status,
 * or -1 when the connection broke. */
static int fcgi_request(int fd, const char *method, const char *path, const char *token,
                        const char *body, char *out, size_t cap)
{
    static char buf[16384];
    unsigned char params[4096];
    size_t o = 0, po = 0;
    char auth[ACCT_TOKLEN + 16], len[24];
    static const unsigned char begin[8] = { 0, 1, 1 /* FCGI_KEEP_CONN */, 0, 0, 0, 0, 0 };
    put_param(params, &po, sizeof(params), "REQUEST_METHOD", method);
    put_param(params, &po, sizeof(params), "REQUEST_URI", path);
    put_param(params, &po, sizeof(params), "HTTP_ACCEPT", "application/json");
    put_param(params, &po, sizeof(params), "REMOTE_ADDR", "127.0.0.1");
    put_param(params, &po, sizeof(params), "HTTP_X_REQUEST_ID", "leak-test");
    if (token != NULL) {
        snprintf(auth, sizeof(auth), "Bearer %s", token);
        put_param(params, &po, sizeof(params), "HTTP_AUTHORIZATION", auth);
    }
    if (body != NULL) {
        snprintf(len, sizeof(len), "%zu", strlen(body));
        put_param(params, &po, sizeof(params), "CONTENT_TYPE", "application/json");
        put_param(params, &po, sizeof(params), "CONTENT_LENGTH", len);
    }
    if (put_record(buf, &o, sizeof(buf), FCGI_BEGIN, begin, sizeof(begin)) != 0 ||
        put_record(buf, &o, sizeof(buf), FCGI_PARAMS, params, po) != 0 ||
        put_record(buf, &o, sizeof(buf), FCGI_PARAMS, "", 0) != 0 ||
        (body != NULL && put_record(buf, &o, sizeof(buf), FCGI_STDIN, body, strlen(body)) != 0) ||
        put_record(buf, &o, sizeof(buf), FCGI_STDIN, "", 0) != 0 || write_all(fd, buf, o) != 0)
        return -1;
    size_t got = 0;
    for (;;) {
        unsigned char h[8];
        static char content[65536 + 256];
        if (read_all(fd, h, 8) != 0)
            return -1;
        size_t n = ((size_t)h[4] << 8 | h[5]) + h[6];
        if (read_all(fd, content, n) != 0)
            return -1;
        n -= h[6];
        if (h[1] == FCGI_STDOUT && got + n < cap) {
            memcpy(out + got, content, n);
            got += n;
        }
        if (h[1] == FCGI_END)
            break;
    }
    out[got] = '\0';
    int status = 200;
    const char *st = strstr(out, "Status: ");
    if (st != NULL && st < strstr(out, "\r\n\r\n"))
        status = atoi(st + 8);
    return status;
}

/* ------------------------------------------------------------ private roostd */

typedef struct {
    char  dir[64], conf[128], sock[100], log[128];   /* sock: within sun_path */
    pid_t pid, worker;
    int   fd;
} leak_roostd;

/* The test stack's configuration with its [roostd] section replaced: one
 * worker that is never recycled, on our socket, with generator numbers
 * the stack never uses. */
static void write_conf(const leak_roostd *r)
{
    const char *stack = getenv("ROOST_TEST_CONF");
    ck_assert_msg(stack != NULL, "ROOST_TEST_CONF not set");
    FILE *in = fopen(stack, "r"), *out = fopen(r->conf, "w");
    ck_assert_ptr_nonnull(in);
    ck_assert_ptr_nonnull(out);
    fprintf(out, "[roostd]\nlisten = %s\nworkers = 1\nmax_requests = 0\ngenerator_base = 90\n"
            "log_level = warn\n", r->sock);
    char line[1024];
    int skip = 0;
    while (fgets(line, sizeof(line), in) != NULL) {
        /* Its own [roostd]; and none of the stack's other pools, whose
         * sockets the stack's roostd serves. */
        if (line[0] == '[')
            skip = strncmp(line, "[roostd]", 8) == 0 || strncmp(line, "[pool ", 6) == 0;
        if (!skip)
            fputs(line, out);
    }
    fclose(in);
    ck_assert_int_eq(fclose(out), 0);
}

static pid_t only_child(pid_t master)
{
    char path[128];
    long pid = 0;
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)master, (int)master);
    for (int i = 0; i < 200 && pid == 0; i++) {
        FILE *f = fopen(path, "r");
        if (f != NULL && fscanf(f, "%ld", &pid) != 1)
            pid = 0;
        if (f != NULL)
            fclose(f);
        if (pid == 0)
            usleep(50 * 1000);
    }
    return (pid_t)pid;
}

static int connect_to(const char *sock)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock);
    for (int i = 0; i < 200; i++) {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
            return fd;
        if (fd >= 0)
            close(fd);
        usleep(50 * 1000);
    }
    return -1;
}

static void start_roostd(leak_roostd *r)
{
    snprintf(r->dir, sizeof(r->dir), "/tmp/roost-leaks-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(r->dir));
    snprintf(r->conf, sizeof(r->conf), "%s/roost.conf", r->dir);
    snprintf(r->sock, sizeof(r->sock), "%s/roostd.sock", r->dir);
    snprintf(r->log, sizeof(r->log), "%s/log", r->dir);
    write_conf(r);
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
        if (UNDER_ASAN) {
            char opts[256];
            snprintf(opts, sizeof(opts), "detect_leaks=1:abort_on_error=0:log_path=%s/lsan", r->dir);
            setenv("ASAN_OPTIONS", opts, 1);
        }
        execl(bin ? bin : "app/roostd/roostd", "roostd", "-c", r->conf, (char *)NULL);
        _exit(127);
    }
    r->fd = connect_to(r->sock);
    ck_assert_msg(r->fd >= 0, "the private roostd did not listen (log: %s)", r->log);
    r->worker = only_child(r->pid);
    ck_assert_msg(r->worker > 0, "the private roostd has no worker");
}

/* SIGTERM (the worker drains and exits), then removes its files unless a
 * leak report is among them. The number of leak reports. */
static int stop_roostd(leak_roostd *r)
{
    int st;
    close(r->fd);
    kill(r->pid, SIGTERM);
    for (int i = 0; i < 400 && waitpid(r->pid, &st, WNOHANG) == 0; i++)
        usleep(50 * 1000);
    if (kill(r->pid, 0) == 0) {
        kill(r->pid, SIGKILL);
        waitpid(r->pid, &st, 0);
    }
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "grep -l LeakSanitizer %s/lsan.* 2>/dev/null | wc -l", r->dir);
    FILE *p = popen(cmd, "r");
    int reports = 0;
    if (p == NULL || fscanf(p, "%d", &reports) != 1)
        reports = 0;
    if (p != NULL)
        pclose(p);
    if (reports == 0) {
        snprintf(cmd, sizeof(cmd), "rm -rf %s", r->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "test_leaks: could not remove %s\n", r->dir);
    }
    return reports;
}

static long rss_kib(pid_t pid)
{
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return kib;
}

/* ------------------------------------------------------------ the load */

typedef struct {
    acct_user owner, followee;
    char admin_tok[ACCT_TOKLEN];
    char product[ACCT_IDLEN], product2[ACCT_IDLEN];   /* in the cart; added and removed */
    char item[ACCT_IDLEN], tweet[ACCT_IDLEN];
    char made_item[ACCT_IDLEN], made_tweet[ACCT_IDLEN];   /* for the next delete */
    long round;
    int  statuses[6];                                     /* answers by class 1xx..5xx */
} load;

/* The id of `what` ("item", "tweet") in a 201's body, into out. */
static void created_id(const char *answer, const char *what, char out[ACCT_IDLEN])
{
    char key[32];
    snprintf(key, sizeof(key), "\"%s\":{\"id\":\"", what);
    const char *p = strstr(answer, key);
    out[0] = '\0';
    if (p != NULL)
        sscanf(p + strlen(key), "%31[0-9]", out);
}

/* Path, token and body of the request for route d in this round; 0 to
 * skip the route this round. */
static int request_for(load *l, const rst_route_def *d, char *path, size_t cap,
                       const char **tok, char *body, size_t bcap)
{
    const char *n = d->name, *u = l->owner.id;
    *tok = l->owner.tok;
    body[0] = '\0';
    snprintf(path, cap, "%s", d->pattern);
    if (strcmp(n, "users.signup") == 0 || strcmp(n, "users.signin") == 0) {
        char name[ACCT_NAMELEN];
        if (l->round % SLOW_EVERY != 0)
            return 0;
        if (strcmp(n, "users.signup") == 0)
            acct_unique_name(name, sizeof(name), "Lk");
        snprintf(body, bcap, "{\"name\":\"%s\",\"password\":\"%s\"}",
                 strcmp(n, "users.signup") == 0 ? name : l->owner.name, ACCT_PW);
        *tok = NULL;
        return 1;
    }
    if (strncmp(n, "product", 7) == 0) {
        *tok = l->admin_tok;
        if (strcmp(n, "products.list") == 0)
            snprintf(path, cap, "/products?limit=5");
        else if (strcmp(n, "product.create") == 0)
            snprintf(body, bcap, "{\"name\":\"Leak %d %ld\",\"price\":1}", (int)getpid(), l->round);
        else
            snprintf(path, cap, "/product/%s", l->product);
        if (strcmp(n, "product.update") == 0)
            snprintf(body, bcap, "{\"description\":\"round %ld\"}", l->round);
        return 1;
    }
    if (strcmp(n, "user.update") == 0)
        snprintf(body, bcap, "{\"name\":\"%s\"}", l->owner.name);   /* no change */
    else if (strcmp(n, "cart.add") == 0)
        snprintf(body, bcap, "{\"product_id\":\"%s\"}", l->product2);
    else if (strcmp(n, "cart.item.update") == 0)
        snprintf(body, bcap, "{\"quantity\":1}");
    else if (strcmp(n, "tweet.create") == 0 || strcmp(n, "tweet.update") == 0)
        snprintf(body, bcap, "{\"message\":\"round %ld\"}", l->round);
    const char *id = u;
    if (strncmp(n, "follow.", 7) == 0 || strcmp(n, "followers.list") == 0)
        id = l->followee.id;
    else if (strcmp(n, "cart.item.delete") == 0)
        id = l->made_item;
    else if (strncmp(n, "cart.item", 9) == 0)
        id = l->item;
    else if (strcmp(n, "tweet.delete") == 0)
        id = l->made_tweet;
    else if (strncmp(n, "tweet.", 6) == 0 && strcmp(n, "tweet.create") != 0)
        id = l->tweet;
    const char *brace = strstr(d->pattern, "{id}");
    if (brace != NULL)
        snprintf(path, cap, "%.*s%s%s", (int)(brace - d->pattern), d->pattern, id[0] ? id : "1",
                 brace + 4);
    if ((d->flags & RST_H_FIELDS) && body[0] == '\0')
        snprintf(body, bcap, "{}");
    return 1;
}

static const char *method_of(unsigned m)
{
    return m & RST_M_GET ? "GET" : m & RST_M_POST ? "POST" : m & RST_M_PUT ? "PUT" : "DELETE";
}

/* Sends `count` requests round-robin over every route. */
static void run_load(load *l, int fd, int count)
{
    static char answer[128 * 1024];
    char path[256], body[512];
    int sent = 0;
    while (sent < count) {
        const rst_route_def *d;
        for (size_t i = 0; sent < count && (d = rst_app_route_def(i)) != NULL; i++) {
            const char *tok;
            if (!request_for(l, d, path, sizeof(path), &tok, body, sizeof(body)))
                continue;
            int st = fcgi_request(fd, method_of(d->methods), path, tok, body[0] ? body : NULL,
                                  answer, sizeof(answer));
            ck_assert_msg(st >= 100 && st < 600, "%s %s: the connection broke after %d requests",
                          method_of(d->methods), path, sent);
            l->statuses[st / 100]++;
            if (strcmp(d->name, "cart.add") == 0 && st == 201)
                created_id(answer, "item", l->made_item);
            if (strcmp(d->name, "tweet.create") == 0 && st == 201)
                created_id(answer, "tweet", l->made_tweet);
            sent++;
        }
        l->round++;
    }
}

/* ------------------------------------------------------------ the test */

static int make_id(const char *method, const char *path, const char *body, const char *tok,
                   const char *dotted, char out[ACCT_IDLEN])
{
    api_resp r;
    api_ok(acct_req(&r, method, path, body, tok, NULL));
    ck_assert_msg(r.status == 201, "%s %s: %ld %s", method, path, r.status, r.body);
    acct_copy_str(out, ACCT_IDLEN, api_json_str(&r, dotted));
    api_free(&r);
    return 0;
}

static void make_fixture(load *l)
{
    char name[ACCT_NAMELEN], path[64], body[128];
    memset(l, 0, sizeof(*l));
    acct_user_new(&l->owner, "LkO");
    acct_user_new(&l->followee, "LkF");
    ck_assert_int_eq(acct_make_admin("LkA", name, NULL, l->admin_tok), 0);
    acct_unique_name(name, sizeof(name), "LkP");
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":5}", name);
    make_id("POST", "/products", body, l->admin_tok, "product.id", l->product);
    acct_unique_name(name, sizeof(name), "LkQ");
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":7}", name);
    make_id("POST", "/products", body, l->admin_tok, "product.id", l->product2);
    snprintf(path, sizeof(path), "/addToCars/%s", l->owner.id);
    snprintf(body, sizeof(body), "{\"product_id\":\"%s\"}", l->product);
    make_id("POST", path, body, l->owner.tok, "item.id", l->item);
    snprintf(path, sizeof(path), "/tweets/%s", l->owner.id);
    make_id("POST", path, "{\"message\":\"leak test\"}", l->owner.tok, "tweet.id", l->tweet);
}

START_TEST(a_worker_does_not_grow_over_ten_thousand_requests)
{
    static load l;
    leak_roostd r;
    make_fixture(&l);
    start_roostd(&r);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    run_load(&l, r.fd, LEAK_WARMUP);
    long before = rss_kib(r.worker);
    run_load(&l, r.fd, LEAK_REQUESTS);
    long after = rss_kib(r.worker);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pid_t worker_now = only_child(r.pid);
    int reports = stop_roostd(&r);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "test_leaks: %d requests in %.1f s; worker RSS %ld KiB after the warm-up, "
            "%ld KiB after (%+ld KiB, bound %d)%s; answers 2xx %d 3xx %d 4xx %d 5xx %d\n",
            LEAK_WARMUP + LEAK_REQUESTS, secs, before, after, after - before, LEAK_BOUND_KIB,
            UNDER_ASAN ? " [ASan: not bounded, LeakSanitizer instead]" : "",
            l.statuses[2], l.statuses[3], l.statuses[4], l.statuses[5]);
    ck_assert_msg(worker_now == r.worker, "the worker was replaced during the test (log: %s)", r.log);
    ck_assert_msg(before > 0 && after > 0, "could not read the worker's VmRSS");
    ck_assert_msg(l.statuses[5] == 0, "%d answers were 5xx", l.statuses[5]);
    ck_assert_msg(reports == 0, "LeakSanitizer reported leaks: see %s/lsan.*", r.dir);
    if (!UNDER_ASAN)
        ck_assert_msg(after - before <= LEAK_BOUND_KIB,
                      "the worker grew by %ld KiB over %d requests (bound %d KiB)",
                      after - before, LEAK_REQUESTS, LEAK_BOUND_KIB);
}
END_TEST

Suite *suite_leaks(void)
{
    Suite *s = suite_create("leaks");
    TCase *t = api_tcase(s, "leaks");
    /* About 10 s plain; ASan runs several times slower. */
    tcase_set_timeout(t, 60);
    tcase_add_test(t, a_worker_does_not_grow_over_ten_thousand_requests);
    return s;
}
