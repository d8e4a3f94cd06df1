/* worker.c -- the worker's event loop over FastCGI connections.
 *
 * nginx keeps FastCGI connections open (fastcgi_keep_conn), which halves
 * its cost per request, but a prefork worker blocked reading an idle kept
 * connection would be lost to everyone else. So each worker watches the
 * shared listen socket (EPOLLEXCLUSIVE: one worker is woken per connection)
 * and its own kept connections in one epoll set, accepts connections itself,
 * and asks libfcgi to read a request only when its connection is readable.
 * Each connection has its own FCGX_Request whose listen socket is -1, so
 * libfcgi never blocks in accept() when a connection closes
 * (docs/ARCHITECTURE.md §7).
 * A request is served from start to finish before the next one: one
 * request at a time, with one arena freed whole after each response.
 * To stop, recycle or make way for a reloaded configuration (SIGUSR2 from
 * the master), a worker drains: it takes no new connections and exits once
 * nginx has closed the kept ones (see begin_drain). */
#include <errno.h>
#include <fcntl.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "domain/services.h"
#include "domain/timeline.h"
#include "api/app.h"
#include "api/request.h"
#include "api/response.h"
#include "roostd/worker.h"

#define MAX_EVENTS 64

typedef struct {
    int          in_use;
    int          fd;
    uint64_t     idle_since_ms;  /* end of its last request (or its accept) */
    FCGX_Request req;
} conn;

typedef struct {
    const rst_worker_args *args;
    pid_t         master;        /* our parent; a change means it died */
    rst_slot     *slot;
    int           epfd;
    int           listening;     /* listen fd is in the epoll set */
    rst_accept_pause pause;      /* after EMFILE and the like (worker.h) */
    int           draining;      /* no new connections; waiting for nginx to close */
    int           orphaned;      /* the master is gone: stopping within DRAIN_ORPHAN_MAX_MS */
    conn         *conns;
    int           nconns;        /* in use */
    int           maxconns;
    uint64_t      served;
    rst_services  svc;
    rst_arena     arena;
    rst_buf       body;
} worker;

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t replace_requested;   /* SIGUSR2: a reload, or pm retires us */
static volatile sig_atomic_t reopen_requested;    /* SIGUSR1: reopen the log file */

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void on_replace_signal(int sig)
{
    (void)sig;
    replace_requested = 1;
}

static void on_reopen_signal(int sig)
{
    (void)sig;
    reopen_requested = 1;
}

/* SA_RESTART keeps libfcgi's blocking reads and writes going when a signal
 * lands mid-request; epoll_wait still returns EINTR, which is where the
 * loop looks at the flag. */
static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_replace_signal;
    sigaction(SIGUSR2, &sa, NULL);
    sa.sa_handler = on_reopen_signal;
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGCHLD, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* ------------------------------------------------------------ connections */

static void set_listening(worker *w, int on)
{
    if (on == w->listening)
        return;
    if (on) {
        struct epoll_event ev = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = NULL };
        if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->args->listen_fd, &ev) != 0) {
            rst_log_error("epoll add listen socket: %s", strerror(errno));
            return;
        }
    } else {
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->args->listen_fd, NULL);
    }
    w->listening = on;
}

static conn *free_conn_slot(worker *w)
{
    for (int i = 0; i < w->maxconns; i++)
        if (!w->conns[i].in_use)
            return &w->conns[i];
    return NULL;
}

static void release_conn(worker *w, conn *c)
{
    /* libfcgi has closed the fd when ipcFd is -1; otherwise we close it.
     * Closing drops it from the epoll set. */
    if (c->req.ipcFd >= 0) {
        close(c->req.ipcFd);
        c->req.ipcFd = -1;
    }
    c->in_use = 0;
    w->nconns--;
    if (!w->draining && rst_accept_pause_over(&w->pause, rst_time_mono_ms()))
        set_listening(w, 1);
}

/* A few per wake-up, not all that are waiting: the rest go to other
 * workers, which spreads kept connections (and their requests) evenly. */
#define ACCEPTS_PER_WAKEUP 4

/* libfcgi closes a connection with select(), which aborts on a
 * descriptor at or above FD_SETSIZE: never keep one that high. */
#define MAX_CONN_FD 1000

/* Out of descriptors or memory: leave new connections to the other
 * workers for a moment (see rst_accept_pause in worker.h). */
static void pause_accepting(worker *w, const char *why)
{
    if (rst_accept_pause_start(&w->pause, rst_time_mono_ms()))
        rst_log_warn("accept: %s; pausing for %d ms", why, RST_ACCEPT_PAUSE_MS);
    set_listening(w, 0);
}

static void accept_connections(worker *w)
{
    for (int k = 0; k < ACCEPTS_PER_WAKEUP && w->nconns < w->maxconns; k++) {
        int fd = accept4(w->args->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                pause_accepting(w, strerror(errno));
            else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                     errno != ECONNABORTED)
                rst_log_warn("accept: %s", strerror(errno));
            return;
        }
        if (fd >= MAX_CONN_FD) {
            close(fd);
            pause_accepting(w, "descriptor numbers too high for libfcgi");
            return;
        }
        __atomic_add_fetch(&w->args->sb->accepted, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&w->args->sb->pools[w->args->pool_index].accepted, 1, __ATOMIC_RELAXED);
        conn *c = free_conn_slot(w);
        FCGX_InitRequest(&c->req, -1, 0);
        c->req.ipcFd = fd;
        /* FCGX_Accept_r first finishes the previous request and closes
         * the connection unless it is marked kept: mark the fresh one
         * kept, and the request's own FCGI_KEEP_CONN flag takes over. */
        c->req.keepConnection = 1;
        c->fd = fd;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
        if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            rst_log_warn("epoll add connection: %s", strerror(errno));
            close(fd);
            continue;
        }
        c->in_use = 1;
        c->idle_since_ms = rst_time_mono_ms();
        w->nconns++;
    }
    /* Full: leave new connections to the other workers. */
    if (w->nconns == w->maxconns)
        set_listening(w, 0);
}

/* ------------------------------------------------------------ requests */

static void log_request(const rst_request *req, const rst_response *resp,
                        const char *route, uint64_t us)
{
    if (resp->status >= 500)
        rst_log_error("request %s: %s %s -> %d (%s) in %.1f ms", req->request_id,
                      req->method_name, req->path, resp->status, route, us / 1000.0);
    else if (us >= RST_SLOW_REQUEST_US)
        rst_log_warn("request %s: slow: %s %s -> %d (%s) in %.1f ms", req->request_id,
                     req->method_name, req->path, resp->status, route, us / 1000.0);
    else
        rst_log_debug("request %s: %s %s -> %d (%s) in %.1f ms", req->request_id,
                      req->method_name, req->path, resp->status, route, us / 1000.0);
}

/* The pipeline has routed the request: the master's slow log names it. */
static void note_route(void *slot, const char *route)
{
    rst_slot_note(slot, route, NULL);
}

static void serve_request(worker *w, conn *c)
{
    uint64_t t0 = now_us();
    rst_request req;
    rst_response resp;
    rst_response_init(&resp, &w->body);
    if (rst_request_read(&req, &c->req, &w->arena) != 0) {
        rst_log_error("cannot read a request: out of memory");
        rst_request_drain(&c->req);             /* keep the connection in step */
        rst_response_error(&resp, 500, "internal_error", "out of memory");
        rst_response_send(&resp, &req, &c->req);
        rst_arena_reset(&w->arena);
        return;
    }
    rst_slot_busy(w->args->sb, w->slot, req.method_name, req.path, rst_time_mono_ms(), w->draining);
    rst_slot_note(w->slot, NULL, req.request_id);
    req.on_route = note_route;
    req.on_route_arg = w->slot;
    const char *route = rst_app_handle(&w->svc, w->args->sb, &req, &resp, &w->arena);
    if (rst_response_send(&resp, &req, &c->req) != 0)
        rst_log_warn("request %s: client went away while sending", req.request_id);
    uint64_t us = now_us() - t0;
    rst_slot_idle(w->args->sb, w->slot, us, w->draining);
    rst_metrics_record(w->args->sb, rst_app_route_index(route), resp.status, us);
    log_request(&req, &resp, route, us);
    rst_arena_reset(&w->arena);
    w->served++;
}

static void serve_connection(worker *w, conn *c)
{
    if (FCGX_Accept_r(&c->req) < 0) {
        release_conn(w, c);        /* closed by nginx, or a protocol error */
        return;
    }
    serve_request(w, c);
    FCGX_Finish_r(&c->req);
    c->idle_since_ms = rst_time_mono_ms();
    if (c->req.ipcFd < 0)
        release_conn(w, c);        /* nginx did not ask to keep it */
}

/* ------------------------------------------------------------ shutdown */

static int has_pending_input(int fd)
{
    char b;
    ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n > 0;
}

/* A draining worker closes a kept connection itself only once it has sat
 * idle this long. nginx hands out its cached upstream connections most
 * recently used first, so one idle this long is at the back of its cache
 * and all but never picked in the instant we close it; the busy ones nginx
 * closes itself (keepalive_requests), the idle ones after its
 * keepalive_timeout at the latest. */
#define DRAIN_IDLE_CLOSE_MS 1000
/* Past this, whatever is left is closed regardless: a recycling worker
 * has time (its successor already serves); a stopping one does not. */
#define DRAIN_MAX_MS      60000
#define DRAIN_STOP_MAX_MS 5000
/* A worker whose master is gone has a shard map nobody updates: the
 * sooner it stops serving, the shorter the time a shard move's fence can
 * miss it (roostctl's verify waits it out). */
#define DRAIN_ORPHAN_MAX_MS 1000

static void close_idle(worker *w)
{
    uint64_t now = rst_time_mono_ms();
    for (int i = 0; i < w->maxconns; i++) {
        conn *c = &w->conns[i];
        if (c->in_use && now >= c->idle_since_ms + DRAIN_IDLE_CLOSE_MS &&
            !has_pending_input(c->req.ipcFd))
            release_conn(w, c);
    }
}

/* Last resort once the drain deadline passed: serve anything already sent
 * on a connection, then close it. */
static void close_remaining(worker *w)
{
    if (w->nconns > 0)
        rst_log_warn("drain: closing %d kept connections still in use", w->nconns);
    for (int i = 0; i < w->maxconns; i++) {
        conn *c = &w->conns[i];
        if (!c->in_use)
            continue;
        if (has_pending_input(c->req.ipcFd))
            serve_connection(w, c);
        if (c->in_use)
            release_conn(w, c);
    }
}

static int should_recycle(const worker *w)
{
    int max = w->args->pool->max_requests;
    return max > 0 && w->served >= (uint64_t)max;
}

/* Recycling or stopping: take no new connections, but keep serving the
 * kept ones until nginx closes them or they sit idle (see close_idle).
 * Closing a kept connection nginx may be about to use races with it
 * sending a request, and nginx retries only idempotent requests: a POST
 * would fail with 502 (docs/ARCHITECTURE.md §7). */
static void begin_drain(worker *w)
{
    w->draining = 1;
    set_listening(w, 0);
    __atomic_store_n(&w->slot->state, RST_SLOT_EXITING, __ATOMIC_RELEASE);
    /* The master forks our successor at once, so capacity stays whole.
     * (Never signal whatever adopted us if the master is gone.) */
    if (getppid() == w->master)
        kill(w->master, SIG_DRAINING);
    if (stop_requested)
        rst_log_debug("stopping: draining %d connections", w->nconns);
    else if (replace_requested)
        rst_log_info("draining %d connections (reload, or the pool shrinks)", w->nconns);
    else
        rst_log_info("served %llu requests (max_requests): recycling after %d connections close",
                     (unsigned long long)w->served, w->nconns);
}

/* The home timeline's fan-out queue (lib/domain/timeline.h) is drained
 * here, between requests, by every worker: at most every FANOUT_TICK_MS,
 * busy or idle (so it keeps up under load), steps of a few hundred
 * followers each until the queue is empty or FANOUT_BUDGET_MS is spent.
 * That bounds what a request waiting on this worker can lose to it. A
 * tick that ran out of budget with work left (a burst of posts) makes the
 * next one come sooner, FANOUT_BACKLOG_TICK_MS, so a backlog drains at
 * half of each worker's time instead of a fifth, and the 2 s bound on a
 * tweet reaching its followers holds after bursts too. */
#define FANOUT_TICK_MS         50
#define FANOUT_BACKLOG_TICK_MS 10
#define FANOUT_BUDGET_MS       10

static void fanout_tick(worker *w, uint64_t *next_ms)
{
    uint64_t now = rst_time_mono_ms();
    if (w->draining || now < *next_ms)
        return;
    int rc;
    while ((rc = rst_timeline_fanout_step(&w->svc)) == 1 &&
           rst_time_mono_ms() < now + FANOUT_BUDGET_MS)
        ;
    *next_ms = rst_time_mono_ms() + (rc == 1 ? FANOUT_BACKLOG_TICK_MS : FANOUT_TICK_MS);
}

/* A reload published a new shard map (roostd/scoreboard.h): this worker,
 * draining or not, routes with it from its next request on. */
static void adopt_map(worker *w)
{
    if (rst_scoreboard_adopt_map(w->args->sb, w->slot, &w->svc.map))
        rst_log_debug("shard map generation %llu adopted",
                      (unsigned long long)w->slot->map_gen);
}

static void event_loop(worker *w)
{
    uint64_t fanout_next_ms = 0;
    struct epoll_event evs[MAX_EVENTS];
    uint64_t deadline = 0;
    for (;;) {
        if (reopen_requested) {
            reopen_requested = 0;
            if (w->args->cfg->log_file[0] != '\0' && rst_log_open_file(w->args->cfg->log_file) != 0)
                rst_log_error("reopen %s: %s", w->args->cfg->log_file, strerror(errno));
        }
        /* Draining too: a worker recycling when its master was killed
         * would otherwise serve its kept connections for DRAIN_MAX_MS
         * with a shard map nobody updates any more (a shard move's fence
         * would not reach it). */
        if (!w->orphaned && getppid() != w->master) {
            rst_log_error("the master process is gone: stopping%s", w->draining ? " (was draining)" : "");
            stop_requested = 1;
            w->orphaned = 1;
        }
        if (!w->draining && (stop_requested || replace_requested || should_recycle(w))) {
            begin_drain(w);
            deadline = rst_time_mono_ms() + (stop_requested ? DRAIN_STOP_MAX_MS : DRAIN_MAX_MS);
        }
        if (w->draining) {
            uint64_t stop_by = rst_time_mono_ms() +
                               (w->orphaned ? DRAIN_ORPHAN_MAX_MS : DRAIN_STOP_MAX_MS);
            if (stop_requested && deadline > stop_by)
                deadline = stop_by;        /* told to stop while recycling, or orphaned */
            close_idle(w);
            if (w->nconns == 0 || rst_time_mono_ms() >= deadline)
                return;
        }
        if (!w->draining && !w->listening && w->nconns < w->maxconns &&
            rst_accept_pause_over(&w->pause, rst_time_mono_ms()))
            set_listening(w, 1);                 /* a pause is over */
        adopt_map(w);
        uint64_t now = rst_time_mono_ms();
        int n = epoll_wait(w->epfd, evs, MAX_EVENTS,
                           rst_worker_wait_ms(&w->pause, w->draining, now, fanout_next_ms));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rst_log_error("epoll_wait: %s", strerror(errno));
            return;
        }
        adopt_map(w);                           /* a reload while it waited: before serving */
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr == NULL) {
                if (!w->draining)
                    accept_connections(w);
            } else {
                serve_connection(w, evs[i].data.ptr);
            }
        }
        fanout_tick(w, &fanout_next_ms);
    }
}

/* Writes the nice value of the worker's scheduling group (autogroup). The
 * kernel limits such writes to ten a second across the host for a process
 * without CAP_SYS_ADMIN, so a pool starting several workers at once waits
 * its turn (EAGAIN) instead of giving up. */
static int set_autogroup_nice(int nice)
{
    char text[16];
    int len = snprintf(text, sizeof(text), "%d\n", nice);
    for (int attempt = 0; attempt < 20; attempt++) {
        int fd = open("/proc/self/autogroup", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            return -1;
        ssize_t n = write(fd, text, (size_t)len);
        int err = errno;
        close(fd);
        if (n == len)
            return 0;
        if (err != EAGAIN) {
            errno = err;
            return -1;
        }
        struct timespec pause = { 0, 110 * 1000 * 1000 };
        nanosleep(&pause, NULL);
    }
    errno = EAGAIN;
    return -1;
}

/* Asks for the shortest time slice the scheduler grants (Linux >= 6.12,
 * EEVDF: sched_attr.sched_runtime of a SCHED_OTHER task is its slice):
 * a fast worker woken on a core where a hashing one runs then waits at
 * most 0.1 ms for it, not the default slice (0.75 ms x (1 + log2 cores)).
 * Older kernels ignore the field. */
static void set_short_slice(int nice)
{
    struct {
        uint32_t size, policy;
        uint64_t flags;
        int32_t  nice;
        uint32_t priority;
        uint64_t runtime, deadline, period;
    } attr;
    memset(&attr, 0, sizeof(attr));
    attr.size = 48;                             /* SCHED_ATTR_SIZE_VER0 */
    attr.policy = 0;                            /* SCHED_OTHER */
    attr.nice = nice;
    attr.runtime = 100 * 1000;                  /* ns */
    if (syscall(SYS_sched_setattr, 0, &attr, 0) != 0)
        rst_log_debug("sched_setattr (a short slice): %s", strerror(errno));
}

/* process_priority: the pool's nice value, before the first request.
 *
 * A nice value alone does not shield the other pools: with autogroups
 * (the kernel default when the cpu controller is not in use, which is how
 * systemd runs services unless a unit sets CPUWeight=) the scheduler first
 * shares each core between sessions, and a hashing worker alone on a core
 * gets roostd's whole share of it whatever its nice. So a worker of a pool
 * that asks to run below the others (a positive value) leaves roostd's
 * session for one of its own and gives that session's group the same nice:
 * it then competes as a group of weight ~110 against ~1024 for each other
 * group (PERFORMANCE.md, product-signin-bg). */
static void set_priority(const rst_pool_conf *pool)
{
    if (pool->process_priority == RST_PRIORITY_INHERIT)
        return;
    if (setpriority(PRIO_PROCESS, 0, pool->process_priority) != 0)
        rst_log_warn("process_priority %d: %s; running at roostd's", pool->process_priority,
                     strerror(errno));
    if (pool->process_priority > 0)
        set_short_slice(pool->process_priority);
    if (pool->process_priority <= 0 || access("/proc/self/autogroup", F_OK) != 0)
        return;                                  /* no autogroups: nice is all there is */
    if (setsid() < 0) {
        rst_log_warn("process_priority %d: setsid: %s; sharing roostd's scheduling group",
                     pool->process_priority, strerror(errno));
        return;
    }
    if (set_autogroup_nice(pool->process_priority) != 0)
        rst_log_warn("process_priority %d: /proc/self/autogroup: %s; nice applies within the "
                     "group only", pool->process_priority, strerror(errno));
}

void rst_worker_run(const rst_worker_args *args)
{
    char role[48];
    if (args->pool_index == 0)
        snprintf(role, sizeof(role), "worker %d", args->index);
    else
        snprintf(role, sizeof(role), "%s worker %d", args->pool->name, args->index);
    rst_log_set_role(role);
    install_signals();
    set_priority(args->pool);

    worker w;
    memset(&w, 0, sizeof(w));
    w.args = args;
    w.master = getppid();
    w.slot = &args->sb->slots[args->index];
    w.maxconns = args->pool->max_conns_per_worker;
    w.conns = calloc((size_t)w.maxconns, sizeof(conn));
    rst_arena_init(&w.arena, 32 * 1024);
    rst_buf_init(&w.body);
    unsigned generator = (unsigned)(args->cfg->generator_base + args->index);
    if (w.conns == NULL || FCGX_Init() != 0 ||
        rst_services_open(&w.svc, args->cfg, args->secrets, generator) != 0) {
        rst_log_error("cannot start: out of memory or bad id generator %u", generator);
        _exit(1);
    }
    w.svc.replica_stats = args->sb->replicas;    /* for /metrics: reads and lag per replica */
    w.svc.hot_stats = &args->sb->hot;
    w.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (w.epfd < 0) {
        rst_log_error("epoll_create1: %s", strerror(errno));
        _exit(1);
    }
    w.slot->map_gen = 0;
    rst_scoreboard_adopt_map(args->sb, w.slot, &w.svc.map);   /* the same map as its config's */
    w.slot->pid = getpid();
    w.slot->requests = 0;
    w.slot->idle_since_ms = rst_time_mono_ms();
    __atomic_store_n(&w.slot->state, RST_SLOT_IDLE, __ATOMIC_RELEASE);
    set_listening(&w, 1);

    event_loop(&w);
    close_remaining(&w);
    close(w.epfd);
    rst_services_close(&w.svc);
    rst_arena_free(&w.arena);
    rst_buf_free(&w.body);
    free(w.conns);
    exit(0);
}
