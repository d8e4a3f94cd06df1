/* advise.c -- `roostctl advise`: watches a running roostd for a window
 * (snapshots every 0.5 s, see sample.h), then says per pool whether it is
 * queueing (too small), oversized, CPU-bound or waiting on MariaDB or
 * Redis, and recommends max_children, the spare bounds and max_requests
 * with the arithmetic shown. It only reads: the config is never changed.
 *
 * The inputs: cores (sysconf), the busy workers and the listen queue of
 * each snapshot, what each busy worker was doing (/proc: running, or
 * blocked on a socket to MariaDB or Redis), the requests and CPU time
 * the window added, the per-route service times from /metrics, worker RSS
 * against MemAvailable. The arithmetic is Little's law: requests in the
 * pool (busy workers + the queue) over a target utilisation. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "roostctl/ctl.h"
#include "roostctl/sample.h"

#define STEP_S        0.5
#define TARGET_UTIL   0.7          /* leave 30 % for bursts */
#define CPU_BOUND     0.6          /* busy time on CPU above this: CPU-bound */
#define WAIT_KINDS    6

static const char *const wait_names[WAIT_KINDS] = { "cpu", "mariadb", "redis", "client", "sleep", "other" };

typedef struct {
    char     name[32];
    int      samples, queued_samples, full_samples, peak_busy, queue_max, total;
    int      ours_full;            /* snapshots whose own request found the pool full */
    double   busy_sum, queue_sum;
    int      waits[WAIT_KINDS];
    double   cpu_s;                /* CPU the pool's workers used in the window */
    double   svc_sum_s;            /* service time of its routes (histogram deltas) */
    uint64_t svc_count;
    double   rss_mib;              /* mean worker RSS at the end */
    uint64_t requests, reached;    /* window deltas */
} pool_acc;

typedef struct {
    const rst_config *cfg;
    ctl_snap *first, *cur;         /* owned */
    pool_acc  pools[RST_MAX_POOLS];
    int       npools;
    char      route_pool[CTL_MAX_ROUTES][32];   /* by the first snapshot's route index */
    char      route_names[CTL_MAX_ROUTES][32];
    int       nroutes;
} advise_state;

/* ---------------------------------------------------------------- sampling */

static int wait_index(const char *w)
{
    for (int i = 0; i < WAIT_KINDS; i++)
        if (strcmp(w, wait_names[i]) == 0)
            return i;
    return WAIT_KINDS - 1;
}

/* Remembers which pool served a route (the workers name both). */
static void note_routes(advise_state *a, const ctl_snap *s)
{
    for (int i = 0; i < s->nworkers; i++) {
        const ctl_worker *w = &s->workers[i];
        if (!w->route[0])
            continue;
        int k = 0;
        while (k < a->nroutes && strcmp(a->route_names[k], w->route) != 0)
            k++;
        if (k == a->nroutes && a->nroutes < CTL_MAX_ROUTES) {
            snprintf(a->route_names[k], sizeof(a->route_names[k]), "%s", w->route);
            snprintf(a->route_pool[k], sizeof(a->route_pool[k]), "%s", w->pool);
            a->nroutes++;
        }
    }
}

/* The worker answering our own /status is busy because of us. */
static int is_ours(const ctl_worker *w)
{
    return w->in_progress && strcmp(w->route, "status") == 0;
}

static void accumulate(advise_state *a, const ctl_snap *s)
{
    int ours[RST_MAX_POOLS] = { 0 };
    for (int i = 0; i < s->nworkers; i++) {
        int p = ctl_pool_index(s, s->workers[i].pool);
        if (p >= 0 && p < RST_MAX_POOLS && is_ours(&s->workers[i]))
            ours[p]++;
    }
    for (int p = 0; p < s->npools && p < RST_MAX_POOLS; p++) {
        const ctl_pool *cp = &s->pools[p];
        pool_acc *pa = &a->pools[p];
        int busy = cp->active > ours[p] ? cp->active - ours[p] : 0;
        pa->samples++;
        pa->busy_sum += busy;
        pa->peak_busy = busy > pa->peak_busy ? busy : pa->peak_busy;
        pa->full_samples += cp->total > 0 && busy >= cp->max_children;
        pa->ours_full += ours[p] > 0 && cp->active >= cp->max_children;
        if (cp->listen_queue > 0) {
            pa->queued_samples++;
            pa->queue_sum += cp->listen_queue;
        }
        pa->queue_max = cp->listen_queue > pa->queue_max ? cp->listen_queue : pa->queue_max;
    }
    for (int i = 0; i < s->nworkers; i++) {
        const ctl_worker *w = &s->workers[i];
        int p = ctl_pool_index(s, w->pool);
        if (p >= 0 && p < RST_MAX_POOLS && strcmp(w->state, "busy") == 0 && !is_ours(w))
            a->pools[p].waits[wait_index(w->waits_on[0] ? w->waits_on : "other")]++;
    }
    note_routes(a, s);
}

/* The window's deltas between a->first and a->cur. */
static void deltas(advise_state *a)
{
    const ctl_snap *f = a->first, *c = a->cur;
    for (int p = 0; p < c->npools && p < RST_MAX_POOLS; p++) {
        pool_acc *pa = &a->pools[p];
        int j = ctl_pool_index(f, c->pools[p].name);
        snprintf(pa->name, sizeof(pa->name), "%s", c->pools[p].name);
        pa->total = c->pools[p].total;
        if (j >= 0) {
            pa->requests = c->pools[p].requests - f->pools[j].requests;
            pa->reached = c->pools[p].max_reached - f->pools[j].max_reached;
            /* Each snapshot is two requests (/status, /metrics); one that
             * took the pool's last free worker counted as "reached". */
            uint64_t own = 2 * (uint64_t)pa->ours_full;
            pa->reached = pa->reached > own ? pa->reached - own : 0;
        }
        double rss = 0;
        int nrss = 0;
        for (int i = 0; i < c->nworkers; i++) {
            const ctl_worker *w = &c->workers[i];
            if (strcmp(w->pool, pa->name) != 0)
                continue;
            if (w->rss_kib >= 0) {
                rss += (double)w->rss_kib / 1024.0;
                nrss++;
            }
            /* CPU in the window: a worker forked during it (a recycled
             * one's successor) counts whole; one gone by the end is lost. */
            double before = 0;
            for (int k = 0; k < f->nworkers; k++)
                if (f->workers[k].pid == w->pid && f->workers[k].cpu_s >= 0)
                    before = f->workers[k].cpu_s;
            if (w->cpu_s >= before)
                pa->cpu_s += w->cpu_s - before;
        }
        pa->rss_mib = nrss ? rss / nrss : -1;
    }
    a->npools = c->npools < RST_MAX_POOLS ? c->npools : RST_MAX_POOLS;
    for (int r = 0; r < c->nroutes; r++) {
        const ctl_route *now = &c->routes[r], *old = ctl_route_find(f, now->name);
        uint64_t n = now->buckets[RST_METRIC_BUCKETS - 1] - (old ? old->buckets[RST_METRIC_BUCKETS - 1] : 0);
        double sum = now->sum_s - (old ? old->sum_s : 0);
        for (int k = 0; k < a->nroutes; k++) {
            if (strcmp(a->route_names[k], now->name) != 0)
                continue;
            int p = ctl_pool_index(c, a->route_pool[k]);
            if (p >= 0 && p < RST_MAX_POOLS) {
                a->pools[p].svc_sum_s += sum;
                a->pools[p].svc_count += n;
            }
        }
    }
}

/* ---------------------------------------------------------------- memory */

static double mem_available_mib(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    double kib = -1;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (sscanf(line, "MemAvailable: %lf kB", &kib) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return kib < 0 ? -1 : kib / 1024.0;
}

/* ---------------------------------------------------------------- the report */

typedef struct {
    double lambda, svc_ms, busy, sampled_busy, little_busy, queue, util, cpu_share, wq_ms, in_system;
    int    dominant;               /* index into wait_names, -1: no busy samples */
    int    waits_total;
} pool_figures;

static pool_figures figures(const pool_acc *pa, double window, const ctl_pool *cp)
{
    pool_figures f;
    memset(&f, 0, sizeof(f));
    f.lambda = (double)pa->requests / window;
    f.sampled_busy = pa->samples ? pa->busy_sum / pa->samples : 0;
    f.queue = pa->samples ? pa->queue_sum / pa->samples : 0;
    /* Service time: the pool's routes' histograms, else Little's law. */
    f.svc_ms = pa->svc_count ? 1000.0 * pa->svc_sum_s / (double)pa->svc_count
             : f.lambda > 0 ? 1000.0 * f.sampled_busy / f.lambda : 0;
    /* Busy workers: the snapshots see a few instants, the counters every
     * request (rate x service time); a short request between snapshots is
     * missed by the first, the FastCGI I/O around the handler by the
     * second. The larger is the safer. */
    f.little_busy = f.lambda * f.svc_ms / 1000.0;
    f.busy = f.sampled_busy > f.little_busy ? f.sampled_busy : f.little_busy;
    f.util = cp->max_children > 0 ? f.busy / cp->max_children : 0;
    f.cpu_share = f.busy > 0 ? pa->cpu_s / (f.busy * window) : 0;
    f.wq_ms = f.lambda > 0 ? 1000.0 * f.queue / f.lambda : 0;
    f.in_system = f.busy + f.queue;
    f.dominant = -1;
    for (int i = 0; i < WAIT_KINDS; i++) {
        f.waits_total += pa->waits[i];
        if (pa->waits[i] > 0 && (f.dominant < 0 || pa->waits[i] > pa->waits[f.dominant]))
            f.dominant = i;
    }
    return f;
}

static const rst_pool_conf *pool_conf(const rst_config *cfg, const char *name)
{
    for (int i = 0; i < cfg->npools; i++)
        if (strcmp(cfg->pools[i].name, name) == 0)
            return &cfg->pools[i];
    return NULL;
}

static int imax(int a, int b) { return a > b ? a : b; }
static int imin(int a, int b) { return a < b ? a : b; }

/* "cpu 40%, mariadb 55%, ..." of the busy workers' samples. */
static void waits_line(const pool_acc *pa, const pool_figures *f)
{
    printf("  busy workers were:   ");
    if (f->waits_total == 0) {
        printf("(none busy in any snapshot)\n");
        return;
    }
    int first = 1;
    for (int i = 0; i < WAIT_KINDS; i++)
        if (pa->waits[i]) {
            printf("%s%s %.0f%%", first ? "" : ", ",
                   i == 0 ? "on CPU" : i == 1 ? "waiting on MariaDB" : i == 2 ? "waiting on Redis"
                   : i == 3 ? "reading the request" : i == 4 ? "sleeping" : "elsewhere",
                   100.0 * pa->waits[i] / f->waits_total);
            first = 0;
        }
    printf("  (%d worker samples)\n", f->waits_total);
}

/* The verdict; sets *undersized / *oversized. */
static const char *verdict(const pool_acc *pa, const pool_figures *f, const ctl_pool *cp,
                           double host_util, int need, int *under, int *over)
{
    int queueing = f->queue >= 0.5 || pa->reached > 0 ||
                   (pa->queued_samples > 0 && pa->full_samples * 2 >= pa->samples);
    /* A saturated host counts only when the workers themselves were
     * mostly seen running: wrk, nginx or the databases may be what fills
     * the cores. */
    int cpu = f->cpu_share >= CPU_BOUND || (host_util >= 0.9 && f->dominant == 0);
    *under = queueing;
    *over = !queueing && need * 2 <= cp->max_children && cp->max_children - need >= 2;
    if (queueing && f->dominant == 1 && !cpu)
        return "QUEUEING, workers WAITING ON MARIADB: too few workers for the database latency";
    if (queueing && f->dominant == 2 && !cpu)
        return "QUEUEING, workers WAITING ON REDIS: too few workers for Redis' latency";
    if (queueing && cpu)
        return "QUEUEING and CPU-BOUND: requests wait for a worker, and the cores are the limit";
    if (queueing)
        return "QUEUEING (UNDERSIZED): every worker busy and requests waiting in the listen queue";
    if (*over)
        return "OVERSIZED: most workers sat idle through the window";
    if (cpu)
        return "CPU-BOUND: busy time is mostly on CPU; more workers would only queue on the cores";
    if (f->dominant == 1)
        return "WAITING ON MARIADB: busy time is mostly a database round trip";
    if (f->dominant == 2)
        return "WAITING ON REDIS: busy time is mostly a Redis round trip";
    return "FITS: no queue, and not much more than needed";
}

static int round_requests(double v)
{
    if (v < 500)
        return 500;
    if (v > 100000)
        return 100000;
    double mag = pow(10, floor(log10(v)));
    return (int)(round(v / mag) * mag);
}

static void report_pool(const advise_state *a, int p, double window, int cores, double host_util,
                        double avail_mib)
{
    const pool_acc *pa = &a->pools[p];
    const ctl_pool *cp = &a->cur->pools[p];
    const rst_pool_conf *pc = pool_conf(a->cfg, pa->name);
    pool_figures f = figures(pa, window, cp);

    printf("\npool %s (pm %s, max_children %d, %d workers now)\n", pa->name, cp->pm,
           cp->max_children, cp->total);
    printf("  traffic:             %llu requests in %.1f s = %.1f req/s; service time %.2f ms/request%s\n",
           (unsigned long long)pa->requests, window, f.lambda, f.svc_ms,
           pa->svc_count ? " (its routes' histograms)" : " (busy / rate)");
    printf("  busy workers:        max(snapshots' mean %.2f, %.1f req/s x %.2f ms = %.2f) = %.2f, peak %d of %d"
           " (utilisation %.0f%%); all busy in %d of %d snapshots\n", f.sampled_busy, f.lambda,
           f.svc_ms, f.little_busy, f.busy, pa->peak_busy, cp->max_children, 100 * f.util,
           pa->full_samples, pa->samples);
    printf("  listen queue:        mean %.2f, max %d; non-empty in %d of %d snapshots; "
           "max_workers_reached +%llu (advise's own requests not counted)\n", f.queue, pa->queue_max, pa->queued_samples, pa->samples,
           (unsigned long long)pa->reached);
    if (f.lambda > 0)
        printf("  queue time:          %.2f waiting / %.1f req/s = %.1f ms a request (Little's law)\n",
               f.queue, f.lambda, f.wq_ms);
    printf("  CPU:                 workers used %.2f CPU-s in %.1f s busy-worker-s = %.0f%% of busy time on CPU;"
           " host %.0f%% busy on %d cores\n", pa->cpu_s, f.busy * window, 100 * f.cpu_share,
           100 * host_util, cores);
    waits_line(pa, &f);

    /* max_children: what is in the pool (busy + waiting) over the target
     * utilisation, never below the peak, capped by cores (for CPU-bound
     * work) and memory. */
    int need = (int)ceil(f.in_system / TARGET_UTIL);
    int floor_peak = pa->peak_busy + (f.queue > 0 ? 1 : 0);
    /* Enough to use every core, once there is work for one or more. */
    int floor_cores = f.busy >= 1 ? imin(cores, cp->max_children) : 1;
    need = imax(imax(need, floor_peak), imax(floor_cores, 1));
    int under, over;
    const char *v = verdict(pa, &f, cp, host_util, need, &under, &over);
    printf("  verdict:             %s\n", v);
    printf("  max_children:        max(ceil((busy %.2f + queue %.2f) / %.1f target utilisation) = %d,"
           " peak %d%s, ", f.busy, f.queue, TARGET_UTIL, (int)ceil(f.in_system / TARGET_UTIL),
           pa->peak_busy, f.queue > 0 ? " + 1 (a queue)" : "");
    if (f.busy >= 1)
        printf("min(%d cores, now %d)) = %d", cores, cp->max_children, need);
    else
        printf("1) = %d", need);
    if (under && need < cp->max_children * 2) {
        /* A saturated pool hides its demand: what it served and queued is
         * a lower bound of what was asked. */
        need = cp->max_children * 2;
        printf("; the pool is saturated (its throughput is capped, so demand is higher than measured): at least double, %d", need);
    }
    /* CPU: a busy worker needs this much of a core. The snapshots' share
     * of running workers counts too: on a crowded host a runnable worker
     * waits for a core, and its CPU time understates what it would use. */
    double on_cpu = f.waits_total ? (double)pa->waits[0] / f.waits_total : 0;
    double per_worker_core = on_cpu > f.cpu_share ? on_cpu : f.cpu_share;
    if (per_worker_core > 0.05) {
        int cap = imax(1, (int)ceil(cores / per_worker_core));
        printf("\n                       CPU cap: %d cores / max(%.2f CPU share of busy time, %.2f of busy snapshots"
               " running) = %d", cores, f.cpu_share, on_cpu, cap);
        if (need > cap)
            need = cap;
    }
    if (pa->rss_mib > 0 && avail_mib > 0) {
        int mem = (int)((avail_mib / 2 + pa->rss_mib * cp->total) / pa->rss_mib);
        printf("\n                       memory cap: (half of %.0f MiB available + %d x %.1f MiB now) / %.1f MiB a worker = %d",
               avail_mib, cp->total, pa->rss_mib, pa->rss_mib, mem);
        need = imin(need, mem);
    }
    need = imax(need, 1);
    printf("\n  recommend:           max_children = %d (now %d)\n", need, cp->max_children);
    int min_spare = imax(1, (int)ceil(need * 0.25)), max_spare = imax(min_spare + 1, (int)ceil(need * 0.5));
    max_spare = imin(max_spare, need);
    printf("                       pm = dynamic: min_spare_servers = max(1, ceil(%d x 0.25)) = %d, "
           "max_spare_servers = ceil(%d x 0.5) = %d, start_servers = %d\n", need, min_spare, need,
           max_spare, imin(need, min_spare + (int)ceil(f.busy)));
    double per_worker = need ? f.lambda / need : 0;
    if (per_worker > 0)
        printf("                       max_requests = %.2f req/s a worker x 3600 s (one fork a worker an hour) = %d (now %d)\n",
               per_worker, round_requests(per_worker * 3600), pc ? pc->max_requests : -1);
    else
        printf("                       max_requests: no traffic to size it by; keep %d\n",
               pc ? pc->max_requests : -1);
}

/* ---------------------------------------------------------------- command */

static int parse_window(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v <= 0)
        return -1;
    if (*end == 'm' && end[1] == '\0')
        v *= 60;
    else if (!((*end == 's' && end[1] == '\0') || *end == '\0'))
        return -1;
    if (v < 1 || v > 3600)
        return -1;
    *out = v;
    return 0;
}

static int parse(int argc, char **argv, double *window)
{
    static const struct option opts[] = {
        { "window", required_argument, NULL, 'w' },
        { NULL, 0, NULL, 0 }
    };
    int ch;
    optind = 0;
    opterr = 0;                      /* our message names the command */
    while ((ch = getopt_long(argc + 1, argv - 1, "", opts, NULL)) != -1)
        if (ch != 'w' || parse_window(optarg, window) != 0)
            goto usage;
    if (optind == argc + 1)
        return 0;
usage:
    fprintf(stderr, "roostctl: advise: bad arguments\n"
                    "usage: roostctl advise [--window DURATION]   (1s..60m, e.g. 60s, 5m; default 60s)\n");
    return 2;
}

int rst_ctl_advise_check(int argc, char **argv)
{
    double w = 60;
    return parse(argc, argv, &w);
}

/* Snapshots every STEP_S until the window is over, with a progress line
 * on a terminal. */
static int watch(advise_state *a, double window, char *err, size_t errlen)
{
    int tty = isatty(STDERR_FILENO);
    if (ctl_sample(a->cfg, a->first, 0, err, errlen) != 0)
        return -1;
    accumulate(a, a->first);
    double end = a->first->t + window;
    while (ctl_now() < end) {
        double left = end - ctl_now();
        usleep((useconds_t)((left < STEP_S ? left : STEP_S) * 1e6));
        if (ctl_sample(a->cfg, a->cur, 0, err, errlen) != 0)
            return -1;
        accumulate(a, a->cur);
        if (tty)
            fprintf(stderr, "\rroostctl advise: watching, %.0f s left ", end - ctl_now() > 0 ? end - ctl_now() : 0);
    }
    if (tty)
        fprintf(stderr, "\r%40s\r", "");
    if (a->first->npools == 0 || a->cur->t <= a->first->t) {
        snprintf(err, errlen, "no pools seen");
        return -1;
    }
    return 0;
}

int rst_ctl_advise(const rst_config *cfg, int argc, char **argv)
{
    double window = 60;
    if (parse(argc, argv, &window) != 0)
        return 2;
    static advise_state a;
    memset(&a, 0, sizeof(a));
    a.cfg = cfg;
    a.first = calloc(1, sizeof(ctl_snap));
    a.cur = calloc(1, sizeof(ctl_snap));
    char err[512];
    int rc = 1;
    if (a.first == NULL || a.cur == NULL) {
        fprintf(stderr, "roostctl: out of memory\n");
    } else if (watch(&a, window, err, sizeof(err)) != 0) {
        fprintf(stderr, "roostctl: advise: %s\n", err);
    } else {
        deltas(&a);
        double w = a.cur->t - a.first->t;
        int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
        double dt = a.cur->host_total_s - a.first->host_total_s;
        double host = dt > 0 ? (a.cur->host_busy_s - a.first->host_busy_s) / dt : 0;
        double avail = mem_available_mib();
        printf("roostctl advise: watched %.1f s (%d snapshots), %d cores, %.0f MiB available; "
               "nothing was changed\n", w, a.pools[0].samples, cores, avail);
        for (int p = 0; p < a.npools; p++)
            report_pool(&a, p, w, cores, host, avail);
        rc = fflush(stdout) == 0 ? 0 : 1;
    }
    free(a.first);
    free(a.cur);
    return rc;
}
