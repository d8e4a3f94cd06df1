/* sample.c -- takes one snapshot of a running roostd (see sample.h):
 * parses /status (cJSON) and /metrics (Prometheus text, only the latency
 * histograms), asks /readyz when told to, and reads each worker's
 * /proc/PID files: RSS, CPU time, and what a busy worker is blocked on. */
#include "roostctl/sample.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/fcgiclient.h"

#define FETCH_TIMEOUT_MS 3000

double ctl_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

double ctl_bucket_le(int k)
{
    return k < RST_METRIC_BUCKETS - 1 ? (double)rst_metric_bucket_us[k] / 1e6 : 1e30;
}

/* ---------------------------------------------------------------- fetch */

/* GET uri from a pool socket that answers 200 (*body malloc'd). The one
 * that answered last is tried first: when a pool is saturated its
 * workers cannot answer, another pool's can (the scoreboard is shared),
 * and a request queued behind the saturated pool's would wait. A first
 * pass gives each socket a short time, a second the full timeout. */
static int fetch(const rst_config *cfg, const char *uri, char **body, char *err, size_t errlen)
{
    static int preferred;
    static const int timeouts[2] = { 400, FETCH_TIMEOUT_MS };
    int status = -1;
    for (int pass = 0; pass < 2; pass++)
        for (int k = 0; k < cfg->npools; k++) {
            int i = (preferred + k) % cfg->npools;
            status = rst_fcgi_get_alloc(cfg->pools[i].listen, uri, timeouts[pass], body);
            if (status == 200 || (status == 503 && strcmp(uri, "/readyz") == 0)) {
                preferred = i;
                return 0;
            }
            free(*body);
            *body = NULL;
        }
    snprintf(err, errlen, "no pool socket answered %s (last: %s%s)", uri,
             cfg->npools ? cfg->pools[cfg->npools - 1].listen : "none",
             status < 0 ? ", no connection or a time-out" : ", an error status");
    return -1;
}

/* ---------------------------------------------------------------- /status */

static double num(const cJSON *o, const char *key, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static void str(const cJSON *o, const char *key, char *out, size_t len)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    snprintf(out, len, "%s", cJSON_IsString(v) ? v->valuestring : "");
}

static void parse_pool(const cJSON *o, ctl_pool *p)
{
    snprintf(p->name, sizeof(p->name), "%s", o->string ? o->string : "?");
    str(o, "pm", p->pm, sizeof(p->pm));
    p->max_children = (int)num(o, "max_children", 0);
    p->start_servers = (int)num(o, "start_servers", 0);
    p->min_spare = (int)num(o, "min_spare_servers", 0);
    p->max_spare = (int)num(o, "max_spare_servers", 0);
    p->idle_timeout = (int)num(o, "process_idle_timeout", 0);
    p->listen_queue = (int)num(o, "listen_queue", -1);
    p->listen_queue_max = (int)num(o, "listen_queue_max", -1);
    p->idle = (int)num(o, "idle_workers", 0);
    p->active = (int)num(o, "active_workers", 0);
    p->total = (int)num(o, "total_workers", 0);
    p->starting = (int)num(o, "starting_workers", 0);
    p->exiting = (int)num(o, "exiting_workers", 0);
    p->accepted = (uint64_t)num(o, "accepted_conn", 0);
    p->requests = (uint64_t)num(o, "requests", 0);
    p->max_active = (uint64_t)num(o, "max_active_workers", 0);
    p->max_reached = (uint64_t)num(o, "max_workers_reached", 0);
    p->slow = (uint64_t)num(o, "slow_requests", 0);
    p->spawned = (uint64_t)num(o, "spawned", 0);
    p->retired = (uint64_t)num(o, "retired", 0);
    p->killed = (uint64_t)num(o, "killed", 0);
}

static void parse_worker(const cJSON *o, ctl_worker *w)
{
    memset(w, 0, sizeof(*w));
    w->pid = (int)num(o, "pid", 0);
    str(o, "pool", w->pool, sizeof(w->pool));
    str(o, "state", w->state, sizeof(w->state));
    w->requests = (uint64_t)num(o, "requests", 0);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(o, "request");
    str(r, "method", w->method, sizeof(w->method));
    str(r, "path", w->path, sizeof(w->path));
    str(r, "route", w->route, sizeof(w->route));
    w->duration_ms = (uint64_t)num(r, "duration_ms", 0);
    w->in_progress = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "in_progress"));
    w->rss_kib = -1;
    w->cpu_s = -1;
    w->proc_state = '?';
}

static int parse_status(const char *body, ctl_snap *s, char *err, size_t errlen)
{
    cJSON *root = cJSON_Parse(body);
    const cJSON *pools = cJSON_GetObjectItemCaseSensitive(root, "pools");
    const cJSON *workers = cJSON_GetObjectItemCaseSensitive(root, "workers");
    if (!cJSON_IsObject(pools) || !cJSON_IsArray(workers)) {
        snprintf(err, errlen, "/status did not have pools and workers (an older roostd?)");
        cJSON_Delete(root);
        return -1;
    }
    const cJSON *it;
    s->npools = 0;
    cJSON_ArrayForEach(it, pools)
        if (s->npools < RST_MAX_POOLS)
            parse_pool(it, &s->pools[s->npools++]);
    s->nworkers = 0;
    cJSON_ArrayForEach(it, workers)
        if (s->nworkers < RST_MAX_SLOTS)
            parse_worker(it, &s->workers[s->nworkers++]);
    cJSON_Delete(root);
    return 0;
}

/* ---------------------------------------------------------------- /metrics */

static ctl_route *route_slot(ctl_snap *s, const char *name, size_t len)
{
    for (int i = 0; i < s->nroutes; i++)
        if (strlen(s->routes[i].name) == len && strncmp(s->routes[i].name, name, len) == 0)
            return &s->routes[i];
    if (s->nroutes >= CTL_MAX_ROUTES || len >= sizeof(s->routes[0].name))
        return NULL;
    ctl_route *r = &s->routes[s->nroutes++];
    memset(r, 0, sizeof(*r));
    memcpy(r->name, name, len);
    return r;
}

/* The bucket index of an le="..." label. */
static int bucket_of(const char *le)
{
    if (strncmp(le, "+Inf", 4) == 0)
        return RST_METRIC_BUCKETS - 1;
    double v = strtod(le, NULL);
    for (int k = 0; k < RST_METRIC_BUCKETS - 1; k++)
        if (v <= ctl_bucket_le(k) * 1.0000001)
            return k;
    return -1;
}

/* One line: roost_request_duration_seconds_{bucket,sum}{route="X"[,le="Y"]} V */
static void parse_metric_line(ctl_snap *s, const char *line)
{
    static const char head[] = "roost_request_duration_seconds_";
    if (strncmp(line, head, sizeof(head) - 1) != 0)
        return;
    const char *kind = line + sizeof(head) - 1;
    const char *rt = strstr(kind, "route=\"");
    const char *close = strchr(kind, '}');
    if (rt == NULL || close == NULL)
        return;
    rt += 7;
    size_t len = strcspn(rt, "\"");
    ctl_route *r = route_slot(s, rt, len);
    if (r == NULL)
        return;
    double v = strtod(close + 1, NULL);
    if (strncmp(kind, "bucket", 6) == 0) {
        const char *le = strstr(kind, "le=\"");
        int k = le ? bucket_of(le + 4) : -1;
        if (k >= 0)
            r->buckets[k] = (uint64_t)v;
    } else if (strncmp(kind, "sum", 3) == 0) {
        r->sum_s = v;
    }
}

static void parse_metrics(char *body, ctl_snap *s)
{
    s->nroutes = 0;
    for (char *save = NULL, *line = strtok_r(body, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save))
        parse_metric_line(s, line);
}

const ctl_route *ctl_route_find(const ctl_snap *s, const char *name)
{
    for (int i = 0; i < s->nroutes; i++)
        if (strcmp(s->routes[i].name, name) == 0)
            return &s->routes[i];
    return NULL;
}

double ctl_route_quantile(const ctl_route *now, const ctl_route *old, double q, uint64_t *n)
{
    uint64_t d[RST_METRIC_BUCKETS], total = 0;
    for (int k = 0; k < RST_METRIC_BUCKETS; k++) {
        uint64_t prev = old ? old->buckets[k] : 0;
        d[k] = now->buckets[k] > prev ? now->buckets[k] - prev : 0;   /* cumulative */
    }
    total = d[RST_METRIC_BUCKETS - 1];
    *n = total;
    if (total == 0)
        return -1;
    double want = q * (double)total;
    for (int k = 0; k < RST_METRIC_BUCKETS; k++) {
        if ((double)d[k] < want)
            continue;
        double lo = k ? ctl_bucket_le(k - 1) : 0, below = k ? (double)d[k - 1] : 0;
        if (k == RST_METRIC_BUCKETS - 1)   /* past the last bound: say the bound */
            return lo * 1000;
        double in = (double)d[k] - below;
        double frac = in > 0 ? (want - below) / in : 1;
        return (lo + (ctl_bucket_le(k) - lo) * frac) * 1000;
    }
    return -1;
}

/* ---------------------------------------------------------------- /readyz */

static void parse_readyz(const char *body, ctl_snap *s)
{
    cJSON *root = cJSON_Parse(body);
    const cJSON *deps = cJSON_GetObjectItemCaseSensitive(root, "dependencies"), *it;
    s->ndeps = 0;
    s->deps_known = cJSON_IsArray(deps);
    cJSON_ArrayForEach(it, deps) {
        if (s->ndeps >= CTL_MAX_DEPS)
            break;
        ctl_dep *d = &s->deps[s->ndeps++];
        str(it, "name", d->name, sizeof(d->name));
        str(it, "kind", d->kind, sizeof(d->kind));
        char st[16];
        str(it, "status", st, sizeof(st));
        d->up = strcmp(st, "up") == 0;
        d->latency_ms = num(it, "latency_ms", 0);
    }
    cJSON_Delete(root);
}

/* ---------------------------------------------------------------- /proc */

static int read_small(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return 0;
}

static long proc_rss_kib(int pid)
{
    char path[64], buf[4096];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    if (read_small(path, buf, sizeof(buf)) != 0)
        return -1;
    const char *p = strstr(buf, "VmRSS:");
    return p ? strtol(p + 6, NULL, 10) : -1;
}

/* State letter and user + system seconds from /proc/PID/stat. */
static int proc_stat(int pid, char *state, double *cpu_s)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    if (read_small(path, buf, sizeof(buf)) != 0)
        return -1;
    const char *p = strrchr(buf, ')');     /* comm may hold spaces */
    char st;
    unsigned long long ut, stt;
    if (p == NULL || sscanf(p + 2, "%c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
                            &st, &ut, &stt) != 3)
        return -1;
    *state = st;
    *cpu_s = (double)(ut + stt) / (double)sysconf(_SC_CLK_TCK);
    return 0;
}

/* The inode of the socket behind fd of pid, or 0. */
static unsigned long socket_inode(int pid, long fd)
{
    char path[64], link[64];
    snprintf(path, sizeof(path), "/proc/%d/fd/%ld", pid, fd);
    ssize_t n = readlink(path, link, sizeof(link) - 1);
    if (n <= 0)
        return 0;
    link[n] = '\0';
    unsigned long ino = 0;
    return sscanf(link, "socket:[%lu]", &ino) == 1 ? ino : 0;
}

/* The remote port of the TCP socket with that inode, or -1. */
static int tcp_peer_port(unsigned long ino)
{
    static const char *const files[] = { "/proc/net/tcp", "/proc/net/tcp6" };
    for (size_t f = 0; f < 2; f++) {
        FILE *in = fopen(files[f], "r");
        char line[512];
        while (in != NULL && fgets(line, sizeof(line), in) != NULL) {
            unsigned rport;
            unsigned long li;
            if (sscanf(line, " %*d: %*[0-9A-Fa-f]:%*x %*[0-9A-Fa-f]:%x %*x %*x:%*x %*x:%*x %*x %*u %*d %lu",
                       &rport, &li) == 2 && li == ino) {
                fclose(in);
                return (int)rport;
            }
        }
        if (in != NULL)
            fclose(in);
    }
    return -1;
}

/* What the peer port is in roost.conf's terms. */
static const char *peer_kind(const rst_config *cfg, int port)
{
    if (port < 0)
        return "socket";
    if (port == cfg->redis_port && cfg->redis_socket[0] == '\0')
        return "redis";
    if (port == cfg->catalog.port)
        return "mariadb";
    for (int i = 0; i < cfg->nshard_servers; i++)
        if (port == cfg->shard_servers[i].port)
            return "mariadb";
    return "socket";
}

/* The fd a worker blocked in poll() waits on: the first pollfd, read from
 * its memory (allowed for the same user without Yama; else -1). */
static long poll_fd(int pid, unsigned long addr)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/mem", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int pfd[2];
    ssize_t n = pread(fd, pfd, sizeof(pfd), (off_t)addr);
    close(fd);
    return n == (ssize_t)sizeof(pfd) ? pfd[0] : -1;
}

/* What a busy worker waits on, from /proc/PID/syscall: "cpu" (running),
 * "mariadb" or "redis" (blocked reading a socket to one), "client"
 * (epoll: nginx or the request body), "sleep", "socket", "other". */
static void proc_wait(const rst_config *cfg, ctl_worker *w)
{
    char path[64], buf[256];
    if (w->proc_state == 'R') {
        snprintf(w->waits_on, sizeof(w->waits_on), "cpu");
        return;
    }
    snprintf(path, sizeof(path), "/proc/%d/syscall", w->pid);
    long nr;
    unsigned long a0;
    snprintf(w->waits_on, sizeof(w->waits_on), "other");
    if (read_small(path, buf, sizeof(buf)) != 0 || sscanf(buf, "%ld %lx", &nr, &a0) != 2)
        return;
    long fd = -1;
    if (nr == SYS_read || nr == SYS_recvfrom || nr == SYS_recvmsg)
        fd = (long)a0;
#ifdef SYS_poll
    else if (nr == SYS_poll)
        fd = poll_fd(w->pid, a0);
#endif
    else if (nr == SYS_ppoll)
        fd = poll_fd(w->pid, a0);
    else if (nr == SYS_epoll_pwait
#ifdef SYS_epoll_wait
             || nr == SYS_epoll_wait
#endif
            )
        snprintf(w->waits_on, sizeof(w->waits_on), "client");
    else if (nr == SYS_nanosleep || nr == SYS_clock_nanosleep)
        snprintf(w->waits_on, sizeof(w->waits_on), "sleep");
    if (fd < 0)
        return;
    unsigned long ino = socket_inode(w->pid, fd);
    if (ino != 0)
        snprintf(w->waits_on, sizeof(w->waits_on), "%s", peer_kind(cfg, tcp_peer_port(ino)));
}

static void proc_workers(const rst_config *cfg, ctl_snap *s)
{
    for (int i = 0; i < s->nworkers; i++) {
        ctl_worker *w = &s->workers[i];
        w->rss_kib = proc_rss_kib(w->pid);
        if (proc_stat(w->pid, &w->proc_state, &w->cpu_s) != 0) {
            w->proc_state = '?';
            w->cpu_s = -1;
        }
        w->waits_on[0] = '\0';
        if (strcmp(w->state, "busy") == 0 && w->cpu_s >= 0)
            proc_wait(cfg, w);
    }
}

/* The host's CPU time (all cores), busy and in all, from /proc/stat. */
static void host_cpu(ctl_snap *s)
{
    char buf[512];
    unsigned long long v[8] = { 0 };
    s->host_busy_s = s->host_total_s = 0;
    if (read_small("/proc/stat", buf, sizeof(buf)) != 0 ||
        sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &v[6], &v[7]) != 8)
        return;
    double tck = (double)sysconf(_SC_CLK_TCK);
    unsigned long long idle = v[3] + v[4], all = 0;
    for (int i = 0; i < 8; i++)
        all += v[i];
    s->host_total_s = (double)all / tck;
    s->host_busy_s = (double)(all - idle) / tck;
}

/* ---------------------------------------------------------------- listen queues */

/* A worker answers /status with its own pool's listen queue only (it does
 * not hold the others' sockets): the rest are read here, by path, from
 * the kernel's list of listening unix sockets (sock_diag, as ss -xl). */
#define TCP_LISTEN_STATE 10

/* One dumped socket: its path and queue, if it is one of the pools'. */
static void diag_one(const struct nlmsghdr *h, const rst_config *cfg, ctl_snap *s)
{
    const struct unix_diag_msg *msg = NLMSG_DATA(h);
    int alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*msg)));
    char name[RST_PATH_MAX] = "";
    int have_q = 0;
    unsigned q = 0, qmax = 0;
    for (const struct rtattr *a = (const struct rtattr *)(msg + 1); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
        if (a->rta_type == UNIX_DIAG_NAME) {
            size_t n = RTA_PAYLOAD(a) < sizeof(name) - 1 ? RTA_PAYLOAD(a) : sizeof(name) - 1;
            memcpy(name, RTA_DATA(a), n);
            name[n] = '\0';
        } else if (a->rta_type == UNIX_DIAG_RQLEN && RTA_PAYLOAD(a) >= sizeof(struct unix_diag_rqlen)) {
            const struct unix_diag_rqlen *rq = RTA_DATA(a);
            q = rq->udiag_rqueue;
            qmax = rq->udiag_wqueue;
            have_q = 1;
        }
    }
    for (int i = 0; have_q && i < cfg->npools; i++) {
        int p = ctl_pool_index(s, cfg->pools[i].name);
        if (p >= 0 && s->pools[p].listen_queue < 0 && strcmp(name, cfg->pools[i].listen) == 0) {
            s->pools[p].listen_queue = (int)q;
            s->pools[p].listen_queue_max = (int)qmax;
        }
    }
}

static void diag_read(int nl, const rst_config *cfg, ctl_snap *s)
{
    static unsigned char buf[32768];
    for (;;) {
        ssize_t n = recv(nl, buf, sizeof(buf), 0);
        if (n <= 0)
            return;
        for (const struct nlmsghdr *h = (const struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
             h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
                return;
            if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY)
                diag_one(h, cfg, s);
        }
    }
}

static void fill_listen_queues(const rst_config *cfg, ctl_snap *s)
{
    int missing = 0;
    for (int i = 0; i < s->npools; i++)
        missing += s->pools[i].listen_queue < 0;
    if (!missing)
        return;
    int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (nl < 0)
        return;
    struct {
        struct nlmsghdr      nlh;
        struct unix_diag_req req;
    } q;
    memset(&q, 0, sizeof(q));
    q.nlh.nlmsg_len = sizeof(q);
    q.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    q.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    q.req.sdiag_family = AF_UNIX;
    q.req.udiag_states = 1u << TCP_LISTEN_STATE;
    q.req.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_RQLEN;
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    if (sendto(nl, &q, sizeof(q), 0, (struct sockaddr *)&kernel, sizeof(kernel)) == (ssize_t)sizeof(q))
        diag_read(nl, cfg, s);
    close(nl);
}

/* ---------------------------------------------------------------- all */

int ctl_pool_index(const ctl_snap *s, const char *pool)
{
    for (int i = 0; i < s->npools; i++)
        if (strcmp(s->pools[i].name, pool) == 0)
            return i;
    return -1;
}

int ctl_sample(const rst_config *cfg, ctl_snap *s, int with_deps, char *err, size_t errlen)
{
    char *body = NULL;
    s->t = ctl_now();
    if (fetch(cfg, "/status", &body, err, errlen) != 0)
        return -1;
    int rc = parse_status(body, s, err, errlen);
    free(body);
    if (rc != 0)
        return -1;
    fill_listen_queues(cfg, s);
    proc_workers(cfg, s);
    host_cpu(s);
    if (fetch(cfg, "/metrics", &body, err, errlen) != 0)
        return -1;
    parse_metrics(body, s);
    free(body);
    if (with_deps) {
        s->deps_known = 0;
        if (fetch(cfg, "/readyz", &body, err, errlen) == 0) {
            parse_readyz(body, s);
            free(body);
        }
    }
    return 0;
}
