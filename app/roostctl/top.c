/* top.c -- `roostctl top`: a live view of a running roostd in the manner of
 * top(1), refreshed every second from /status and /metrics on a pool's
 * socket (see sample.h), drawn with ncurses; `--once` (or a stdout that is
 * not a terminal) prints one plain snapshot instead. Rates and latency
 * quantiles are deltas between snapshots: the live view keeps the last
 * 10 s of them, --once takes two, 1 s apart. */
#include <curses.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "roostctl/ctl.h"
#include "roostctl/sample.h"

#define RING       11              /* 10 s of deltas at one snapshot a second */
#define DEPS_EVERY 5               /* s between /readyz asks (each pings every server) */

typedef enum { SORT_PID, SORT_STATE, SORT_REQUESTS, SORT_RSS, SORT_TIME, SORT_N } sort_key;
static const char *const sort_names[SORT_N] = { "pid", "state", "requests", "rss", "time" };

typedef struct {
    const rst_config *cfg;
    ctl_snap *ring[RING];          /* owned; ring[head] is the newest */
    int       head, count;
    ctl_snap  deps;                /* the last /readyz answer (deps only) */
    double    deps_at;
    int       curses;              /* drawing with ncurses, else printing */
    char      route_names[CTL_MAX_ROUTES][32], route_pools[CTL_MAX_ROUTES][32];
    int       nroutes;             /* which pool served each route, as seen so far */
    sort_key  sort;
    int       pool;                /* -1: every pool, else its index */
    char      err[512];
} top_view;

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

/* ---------------------------------------------------------------- output */

/* One formatted piece of the view, to the screen or to stdout. */
static void out(const top_view *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(const top_view *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (v->curses)
        vw_printw(stdscr, fmt, ap);
    else
        vprintf(fmt, ap);
    va_end(ap);
}

static const ctl_snap *newest(const top_view *v)
{
    return v->count ? v->ring[v->head] : NULL;
}

/* The snapshot `back` steps before the newest (clamped to the oldest). */
static const ctl_snap *older(const top_view *v, int back)
{
    if (back >= v->count)
        back = v->count - 1;
    return v->ring[(v->head - back + RING) % RING];
}

/* ---------------------------------------------------------------- pools */

static void pool_line(const top_view *v, const ctl_pool *p, const ctl_pool *prev, double dt)
{
    double rps = prev && dt > 0 ? (double)(p->requests - prev->requests) / dt : 0;
    char spare[24] = "-", queue[24] = "?";
    if (strcmp(p->pm, "dynamic") == 0)
        snprintf(spare, sizeof(spare), "%d-%d", p->min_spare, p->max_spare);
    if (p->listen_queue >= 0)
        snprintf(queue, sizeof(queue), "%d/%d", p->listen_queue, p->listen_queue_max);
    out(v, "%-8.8s %-8s %4d %4d %5d %4d %5d/%-4d %-7s %8.1f %9s %7llu %5llu %6llu %6llu %4llu\n",
        p->name, p->pm, p->idle, p->active, p->starting, p->exiting, p->total, p->max_children,
        spare, rps, queue, (unsigned long long)p->max_reached, (unsigned long long)p->slow,
        (unsigned long long)p->spawned, (unsigned long long)p->retired,
        (unsigned long long)p->killed);
}

static void pools_section(const top_view *v, const ctl_snap *s, const ctl_snap *prev)
{
    double dt = prev && prev != s ? s->t - prev->t : 0;
    out(v, "%-8s %-8s %4s %4s %5s %4s %10s %-7s %8s %9s %7s %5s %6s %6s %4s\n", "POOL", "PM",
        "IDLE", "BUSY", "START", "EXIT", "TOTAL/MAX", "SPARE", "REQ/S", "QUEUE/MAX", "REACHED",
        "SLOW", "SPAWN", "RETIRE", "KILL");
    for (int i = 0; i < s->npools; i++) {
        int j = prev && prev != s ? ctl_pool_index(prev, s->pools[i].name) : -1;
        pool_line(v, &s->pools[i], j >= 0 ? &prev->pools[j] : NULL, dt);
    }
}

static void deps_section(const top_view *v)
{
    out(v, "\nDEPENDENCIES ");
    if (!v->deps.deps_known) {
        out(v, " (no /readyz answer yet)\n");
        return;
    }
    for (int i = 0; i < v->deps.ndeps; i++) {
        const ctl_dep *d = &v->deps.deps[i];
        out(v, " %s %s", d->name, d->up ? "up" : "DOWN");
        if (d->up)
            out(v, " %.1fms", d->latency_ms);
        out(v, i + 1 < v->deps.ndeps ? "," : "\n");
    }
}

/* ---------------------------------------------------------------- routes */

/* Remembers which pool each route was served by (a worker names both). */
static void learn_routes(top_view *v, const ctl_snap *s)
{
    for (int i = 0; i < s->nworkers; i++) {
        const ctl_worker *w = &s->workers[i];
        int k = 0;
        while (k < v->nroutes && strcmp(v->route_names[k], w->route) != 0)
            k++;
        /* A worker that has served nothing yet has no route of its own. */
        if (w->route[0] && w->requests > 0 && k == v->nroutes && k < CTL_MAX_ROUTES) {
            snprintf(v->route_names[k], sizeof(v->route_names[k]), "%s", w->route);
            snprintf(v->route_pools[k], sizeof(v->route_pools[k]), "%s", w->pool);
            v->nroutes++;
        }
    }
}

/* The pool a route was seen served by, or "-". The operations routes are
 * answered by whichever pool is asked (top itself asks any). */
static const char *route_pool(const top_view *v, const char *route)
{
    static const char *const ops[] = { "status", "metrics", "readyz", "healthz" };
    for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
        if (strcmp(route, ops[i]) == 0)
            return "any";
    for (int k = 0; k < v->nroutes; k++)
        if (strcmp(v->route_names[k], route) == 0)
            return v->route_pools[k];
    return "-";
}

static void routes_section(const top_view *v, const ctl_snap *s, const ctl_snap *old)
{
    double dt = old != s ? s->t - old->t : 0;
    out(v, "\n%-24s %-8s %8s %9s %9s   (last %.0f s)\n", "ROUTE", "POOL", "REQ/S", "P50 ms",
        "P99 ms", dt);
    int shown = 0;
    for (int i = 0; i < s->nroutes; i++) {
        const ctl_route *r = &s->routes[i];
        const ctl_route *o = old != s ? ctl_route_find(old, r->name) : r;
        uint64_t n;
        double p50 = ctl_route_quantile(r, o, 0.50, &n), p99 = ctl_route_quantile(r, o, 0.99, &n);
        const char *pool = route_pool(v, r->name);
        if (n == 0 || (v->pool >= 0 && strcmp(pool, s->pools[v->pool].name) != 0))
            continue;
        out(v, "%-24.24s %-8.8s %8.1f %9.2f %9.2f\n", r->name, pool, dt > 0 ? (double)n / dt : 0,
            p50, p99);
        shown++;
    }
    if (shown == 0)
        out(v, "(no requests in the window)\n");
}

/* ---------------------------------------------------------------- workers */

static const top_view *sort_view;

static int state_rank(const char *st)
{
    return strcmp(st, "busy") == 0 ? 0 : strcmp(st, "starting") == 0 ? 1
         : strcmp(st, "exiting") == 0 ? 2 : 3;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
    return a < b ? 1 : a > b ? -1 : 0;    /* biggest first */
}

static int cmp_worker(const void *pa, const void *pb)
{
    const ctl_worker *a = pa, *b = pb;
    int c = 0;
    switch (sort_view->sort) {
    case SORT_STATE:    c = state_rank(a->state) - state_rank(b->state); break;
    case SORT_REQUESTS: c = cmp_u64(a->requests, b->requests); break;
    case SORT_RSS:      c = cmp_u64((uint64_t)(a->rss_kib + 1), (uint64_t)(b->rss_kib + 1)); break;
    case SORT_TIME:     c = cmp_u64(a->in_progress ? a->duration_ms : 0,
                                    b->in_progress ? b->duration_ms : 0); break;
    default: break;
    }
    return c ? c : a->pid - b->pid;
}

static void worker_line(const top_view *v, const ctl_worker *w)
{
    char rss[16] = "-", route[40];
    if (w->rss_kib >= 0)
        snprintf(rss, sizeof(rss), "%.1f", (double)w->rss_kib / 1024.0);
    snprintf(route, sizeof(route), "%s", w->route[0] ? w->route : "-");
    out(v, "%7d %-8.8s %-8s %-7s %9llu %8s %-24.24s %8llu%s\n", w->pid, w->pool, w->state,
        w->waits_on[0] ? w->waits_on : "-", (unsigned long long)w->requests, rss, route,
        (unsigned long long)w->duration_ms, w->in_progress ? "" : " (last)");
}

/* Workers sorted by the chosen key; rows: how many fit (0: all). */
static void workers_section(const top_view *v, const ctl_snap *s, int rows)
{
    static ctl_worker sorted[RST_MAX_SLOTS];
    int n = 0;
    for (int i = 0; i < s->nworkers; i++)
        if (v->pool < 0 || strcmp(s->workers[i].pool, s->pools[v->pool].name) == 0)
            sorted[n++] = s->workers[i];
    sort_view = v;
    qsort(sorted, (size_t)n, sizeof(sorted[0]), cmp_worker);
    out(v, "\n%7s %-8s %-8s %-7s %9s %8s %-24s %8s\n", "PID", "POOL", "STATE", "ON", "REQUESTS",
        "RSS MiB", "ROUTE", "FOR ms");
    for (int i = 0; i < n && (rows <= 0 || i < rows); i++)
        worker_line(v, &sorted[i]);
    if (rows > 0 && n > rows)
        out(v, "(%d more)\n", n - rows);
}

/* ---------------------------------------------------------------- the view */

static void header(const top_view *v, const ctl_snap *s, const ctl_snap *prev)
{
    char when[16];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof(when), "%H:%M:%S", localtime_r(&now, &tm));
    int total = 0;
    for (int i = 0; i < s->npools; i++)
        total += s->pools[i].total;
    double host = 0;
    if (prev && prev != s && s->host_total_s > prev->host_total_s)
        host = 100.0 * (s->host_busy_s - prev->host_busy_s) / (s->host_total_s - prev->host_total_s);
    out(v, "roostctl top  %s  pools %d  workers %d  host CPU %.0f%% of %ld cores  sort: %s  pool: %s\n\n",
        when, s->npools, total, host, sysconf(_SC_NPROCESSORS_ONLN), sort_names[v->sort],
        v->pool < 0 ? "all" : s->pools[v->pool].name);
}

static void render(const top_view *v, int worker_rows)
{
    const ctl_snap *s = newest(v), *prev = older(v, 1), *old = older(v, RING - 1);
    header(v, s, prev);
    pools_section(v, s, prev);
    deps_section(v);
    routes_section(v, s, old);
    workers_section(v, s, worker_rows);
}

/* Takes a snapshot into the ring (and /readyz every DEPS_EVERY s). */
static int advance(top_view *v)
{
    int slot = v->count ? (v->head + 1) % RING : 0;
    ctl_snap *s = v->ring[slot];
    int with_deps = ctl_now() - v->deps_at >= DEPS_EVERY;
    if (ctl_sample(v->cfg, s, with_deps, v->err, sizeof(v->err)) != 0)
        return -1;
    if (with_deps) {
        v->deps_at = s->t;
        v->deps.deps_known = s->deps_known;
        v->deps.ndeps = s->ndeps;
        memcpy(v->deps.deps, s->deps, sizeof(s->deps));
    }
    learn_routes(v, s);
    v->head = slot;
    if (v->count < RING)
        v->count++;
    v->err[0] = '\0';
    return 0;
}

/* ---------------------------------------------------------------- curses */

static void draw(top_view *v)
{
    erase();
    move(0, 0);
    if (v->count == 0) {
        out(v, "roostctl top: %s\n", v->err[0] ? v->err : "waiting for the first snapshot");
    } else {
        int rows = LINES - 16 - newest(v)->npools - newest(v)->nroutes;
        render(v, rows < 3 ? 3 : rows);
        if (v->err[0])
            out(v, "\nlast snapshot failed: %s\n", v->err);
    }
    mvprintw(LINES - 1, 0, "q quit  s sort (%s)  p pool  1-4 pool by number  0 all pools",
             sort_names[v->sort]);
    refresh();
}

/* A key: 1 to go on, 0 to quit. */
static int key(top_view *v, int ch)
{
    int npools = v->count ? newest(v)->npools : 0;
    switch (ch) {
    case 'q': case 'Q': return 0;
    case 's': v->sort = (sort_key)((v->sort + 1) % SORT_N); break;
    case 'p': v->pool = npools ? (v->pool + 2) % (npools + 1) - 1 : -1; break;
    case '0': v->pool = -1; break;
    case '1': case '2': case '3': case '4':
        if (ch - '1' < npools)
            v->pool = ch - '1';
        break;
    default: break;
    }
    return 1;
}

static void restore_terminal(void)
{
    if (!isendwin())
        endwin();
}

/* SIGINT, SIGTERM, SIGHUP, SIGQUIT end the loop (then endwin()); set before
 * initscr() so that ncurses keeps its hands off them. */
static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        if (sigaction(sigs[i], &sa, NULL) != 0)
            perror("roostctl: sigaction");
}

static int live(top_view *v)
{
    catch_signals();
    if (initscr() == NULL) {
        fprintf(stderr, "roostctl: top: cannot start the terminal (TERM=%s)\n",
                getenv("TERM") ? getenv("TERM") : "");
        return 1;
    }
    atexit(restore_terminal);
    v->curses = 1;
    cbreak();
    noecho();
    curs_set(0);
    keypad(stdscr, TRUE);
    timeout(100);
    double next = 0;
    while (!stop_signal) {
        if (ctl_now() >= next) {
            next = ctl_now() + 1.0;
            /* A failed snapshot keeps the last one on screen, with the
             * error under it (draw shows v->err). */
            (void)advance(v);
            draw(v);
        }
        int ch = getch();
        if (ch == ERR)
            continue;
        if (!key(v, ch))
            break;
        draw(v);
    }
    restore_terminal();
    return stop_signal ? 128 + stop_signal : 0;
}

/* ---------------------------------------------------------------- once */

static int once(top_view *v)
{
    if (advance(v) != 0) {
        fprintf(stderr, "roostctl: top: %s\n", v->err);
        return 1;
    }
    sleep(1);
    if (advance(v) != 0) {
        fprintf(stderr, "roostctl: top: %s\n", v->err);
        return 1;
    }
    render(v, 0);
    return fflush(stdout) == 0 ? 0 : 1;
}

/* ---------------------------------------------------------------- command */

static int parse(int argc, char **argv, int *force_once, const char **pool, int *sort)
{
    static const struct option opts[] = {
        { "once", no_argument, NULL, 'o' },
        { "pool", required_argument, NULL, 'p' },
        { "sort", required_argument, NULL, 's' },
        { NULL, 0, NULL, 0 }
    };
    int ch;
    optind = 0;
    opterr = 0;                      /* our message names the command */
    while ((ch = getopt_long(argc + 1, argv - 1, "", opts, NULL)) != -1) {
        if (ch == 'o') {
            *force_once = 1;
        } else if (ch == 'p') {
            *pool = optarg;
        } else if (ch == 's') {
            int k = -1;
            for (int i = 0; i < SORT_N; i++)
                if (strcmp(optarg, sort_names[i]) == 0)
                    k = i;
            if (k < 0)
                goto usage;
            *sort = k;
        } else {
            goto usage;
        }
    }
    if (optind == argc + 1)
        return 0;
usage:
    fprintf(stderr, "roostctl: top: bad arguments\n"
                    "usage: roostctl top [--once] [--pool NAME] [--sort pid|state|requests|rss|time]\n");
    return 2;
}

int rst_ctl_top_check(int argc, char **argv)
{
    int o = 0, k = 0;
    const char *p = NULL;
    return parse(argc, argv, &o, &p, &k);
}

static void free_ring(top_view *v)
{
    for (int i = 0; i < RING; i++)
        free(v->ring[i]);
}

int rst_ctl_top(const rst_config *cfg, int argc, char **argv)
{
    int force_once = 0, sort = SORT_PID;
    const char *pool = NULL;
    if (parse(argc, argv, &force_once, &pool, &sort) != 0)
        return 2;
    static top_view v;
    memset(&v, 0, sizeof(v));
    v.cfg = cfg;
    v.sort = (sort_key)sort;
    v.pool = -1;
    v.deps_at = -1e9;
    for (int i = 0; i < RING; i++)
        if ((v.ring[i] = calloc(1, sizeof(ctl_snap))) == NULL) {
            fprintf(stderr, "roostctl: out of memory\n");
            free_ring(&v);
            return 1;
        }
    for (int i = 0; pool && i < cfg->npools; i++)
        if (strcmp(cfg->pools[i].name, pool) == 0)
            v.pool = i;            /* /status lists pools in the config's order */
    if (pool && v.pool < 0) {
        fprintf(stderr, "roostctl: top: no pool '%s' in the configuration\n", pool);
        free_ring(&v);
        return 2;
    }
    int rc = force_once || !isatty(STDOUT_FILENO) ? once(&v) : live(&v);
    free_ring(&v);
    return rc;
}
