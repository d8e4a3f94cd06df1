/* h_ops.c -- the operations endpoints of API.md §7: /healthz, /readyz,
 * /status (the worker pool, like php-fpm's status page) and /metrics (the
 * same figures plus per-route counts and latency histograms, Prometheus
 * text format). nginx lets only loopback clients reach them. */
#include <stdio.h>
#include <string.h>

#include "core/timefmt.h"
#include "api/app.h"
#include "api/handlers.h"
#include "domain/timeline.h"
#include "roostd/listenq.h"

static void ops_healthz(rst_ctx *c)
{
    c->resp->cache = RST_CACHE_PRIVATE;
    rst_buf_puts(c->resp->body, "{\"status\":\"ok\"}");
}

static void dependency(rst_buf *b, int first, const char *name, const char *kind,
                       int up, uint64_t usec)
{
    if (!first)
        rst_buf_putc(b, ',');
    rst_buf_puts(b, "{\"name\":");
    rst_json_str(b, name);
    rst_buf_puts(b, ",\"kind\":");
    rst_json_str(b, kind);
    rst_buf_puts(b, ",\"status\":");
    rst_json_str(b, up ? "up" : "down");
    rst_buf_printf(b, ",\"latency_ms\":%.3f}", (double)usec / 1000.0);
}

/* Ready when every shard primary, the catalog and Redis answer. Pings run
 * one after another: each is bounded by its connect timeout. */
static void ops_readyz(rst_ctx *c)
{
    rst_services *s = c->svc;
    rst_buf *b = c->resp->body;
    int all_up = 1;
    uint64_t usec;
    char name[96];

    rst_buf_puts(b, "{\"dependencies\":[");
    int up = rst_db_ping(s->catalog, &usec) == RST_DB_OK;
    all_up &= up;
    dependency(b, 1, "catalog", "mariadb", up, usec);
    for (int i = 0; i < s->nshards; i++) {
        up = rst_db_ping(s->shards[i], &usec) == RST_DB_OK;
        all_up &= up;
        snprintf(name, sizeof(name), "shard %s", rst_db_name(s->shards[i]));
        dependency(b, 0, name, "mariadb", up, usec);
    }
    up = rst_cache_ping(s->cache, &usec) == 0;
    all_up &= up;
    dependency(b, 0, "redis", "redis", up, usec);
    rst_buf_puts(b, "],\"status\":");
    rst_json_str(b, all_up ? "ready" : "unavailable");
    rst_buf_putc(b, '}');
    c->resp->cache = RST_CACHE_PRIVATE;
    if (!all_up) {
        c->resp->status = 503;
        rst_response_header(c->resp, "Retry-After", "1");
    }
}

/* ---------------------------------------------------------------- pool */

static const char *slot_state_name(int st)
{
    switch (st) {
    case RST_SLOT_IDLE:    return "idle";
    case RST_SLOT_BUSY:    return "busy";
    case RST_SLOT_EXITING: return "exiting";
    default:               return "starting";
    }
}

typedef struct {
    int idle, active, total;
} pool_counts;

static pool_counts count_workers(const rst_scoreboard *sb)
{
    pool_counts pc = { 0, 0, 0 };
    for (int i = 0; i < sb->nslots; i++) {
        const rst_slot *s = &sb->slots[i];
        if (s->pid == 0)
            continue;
        pc.total++;
        int st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
        pc.active += st == RST_SLOT_BUSY;
        pc.idle += st == RST_SLOT_IDLE;
    }
    return pc;
}

static void worker_json(rst_buf *b, const rst_slot *s, uint64_t now_ms)
{
    int st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
    uint64_t since = __atomic_load_n(&s->busy_since_ms, __ATOMIC_RELAXED);
    rst_buf_printf(b, "{\"pid\":%d,\"state\":", (int)s->pid);
    rst_json_str(b, slot_state_name(st));
    rst_buf_printf(b, ",\"requests\":%llu,\"request\":{\"method\":",
                   (unsigned long long)__atomic_load_n(&s->requests, __ATOMIC_RELAXED));
    /* The method and path are of the current request while busy, else of
     * the last one; a reader may catch them mid-update, which is harmless
     * for a status page (they are NUL-terminated within their arrays). */
    char method[sizeof(s->method)], path[sizeof(s->path)];
    memcpy(method, s->method, sizeof(method));
    memcpy(path, s->path, sizeof(path));
    method[sizeof(method) - 1] = path[sizeof(path) - 1] = '\0';
    rst_json_str(b, method[0] ? method : NULL);
    rst_buf_puts(b, ",\"path\":");
    rst_json_str(b, path[0] ? path : NULL);
    /* busy_since is set while a request runs, draining workers' too. */
    uint64_t ms = since ? (now_ms > since ? now_ms - since : 0)
                        : __atomic_load_n(&s->last_duration_us, __ATOMIC_RELAXED) / 1000;
    rst_buf_printf(b, ",\"duration_ms\":%llu,\"in_progress\":%s}}", (unsigned long long)ms,
                   since ? "true" : "false");
}

static void ops_status(rst_ctx *c)
{
    const rst_scoreboard *sb = c->sb;
    rst_buf *b = c->resp->body;
    uint64_t now = rst_time_mono_ms();
    pool_counts pc = count_workers(sb);
    unsigned qlen = 0, qmax = 0;
    int have_queue = rst_listen_queue(sb->listen_fd, &qlen, &qmax) == 0;

    rst_buf_puts(b, "{\"start_time\":");
    rst_json_time(b, sb->start_ms);
    rst_buf_printf(b, ",\"uptime_s\":%llu,\"accepted_conn\":%llu,\"requests\":%llu",
                   (unsigned long long)((now - sb->start_mono_ms) / 1000),
                   (unsigned long long)__atomic_load_n(&sb->accepted, __ATOMIC_RELAXED),
                   (unsigned long long)__atomic_load_n(&sb->requests, __ATOMIC_RELAXED));
    if (have_queue)
        rst_buf_printf(b, ",\"listen_queue\":%u,\"listen_queue_max\":%u", qlen, qmax);
    else
        rst_buf_puts(b, ",\"listen_queue\":null,\"listen_queue_max\":null");
    rst_buf_printf(b, ",\"idle_workers\":%d,\"active_workers\":%d,\"total_workers\":%d"
                      ",\"max_active_workers\":%llu,\"max_workers_reached\":%llu"
                      ",\"slow_requests\":%llu,\"workers\":[",
                   pc.idle, pc.active, pc.total,
                   (unsigned long long)__atomic_load_n(&sb->max_active, __ATOMIC_RELAXED),
                   (unsigned long long)__atomic_load_n(&sb->max_reached, __ATOMIC_RELAXED),
                   (unsigned long long)__atomic_load_n(&sb->slow_requests, __ATOMIC_RELAXED));
    int first = 1;
    for (int i = 0; i < sb->nslots; i++) {
        if (sb->slots[i].pid == 0)
            continue;
        if (!first)
            rst_buf_putc(b, ',');
        first = 0;
        worker_json(b, &sb->slots[i], now);
    }
    rst_buf_puts(b, "]}");
    c->resp->cache = RST_CACHE_PRIVATE;
}

/* ---------------------------------------------------------------- metrics */

static void metric_head(rst_buf *b, const char *name, const char *type, const char *help)
{
    rst_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void route_histogram(rst_buf *b, const char *route, const rst_route_metrics *m)
{
    uint64_t cumulative = 0;
    for (int k = 0; k < RST_METRIC_BUCKETS; k++) {
        cumulative += __atomic_load_n(&m->buckets[k], __ATOMIC_RELAXED);
        if (k < RST_METRIC_BUCKETS - 1)
            rst_buf_printf(b, "roost_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                           route, (double)rst_metric_bucket_us[k] / 1e6,
                           (unsigned long long)cumulative);
        else
            rst_buf_printf(b, "roost_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n",
                           route, (unsigned long long)cumulative);
    }
    rst_buf_printf(b, "roost_request_duration_seconds_sum{route=\"%s\"} %.6f\n", route,
                   (double)__atomic_load_n(&m->sum_us, __ATOMIC_RELAXED) / 1e6);
    rst_buf_printf(b, "roost_request_duration_seconds_count{route=\"%s\"} %llu\n", route,
                   (unsigned long long)cumulative);
}

static void pool_metrics(rst_buf *b, const rst_scoreboard *sb)
{
    pool_counts pc = count_workers(sb);
    unsigned qlen = 0, qmax = 0;
    uint64_t now = rst_time_mono_ms();
    metric_head(b, "roost_uptime_seconds", "gauge", "Seconds since the roostd master started.");
    rst_buf_printf(b, "roost_uptime_seconds %llu\n", (unsigned long long)((now - sb->start_mono_ms) / 1000));
    metric_head(b, "roost_accepted_connections_total", "counter", "FastCGI connections accepted.");
    rst_buf_printf(b, "roost_accepted_connections_total %llu\n",
                   (unsigned long long)__atomic_load_n(&sb->accepted, __ATOMIC_RELAXED));
    if (rst_listen_queue(sb->listen_fd, &qlen, &qmax) == 0) {
        metric_head(b, "roost_listen_queue", "gauge", "Connections waiting in the listen queue.");
        rst_buf_printf(b, "roost_listen_queue %u\n", qlen);
    }
    metric_head(b, "roost_workers", "gauge", "Worker processes by state.");
    rst_buf_printf(b, "roost_workers{state=\"idle\"} %d\nroost_workers{state=\"active\"} %d\n"
                      "roost_workers{state=\"total\"} %d\n", pc.idle, pc.active, pc.total);
    metric_head(b, "roost_max_active_workers", "gauge", "The most workers ever busy at once.");
    rst_buf_printf(b, "roost_max_active_workers %llu\n",
                   (unsigned long long)__atomic_load_n(&sb->max_active, __ATOMIC_RELAXED));
    metric_head(b, "roost_max_workers_reached_total", "counter", "Times every worker was busy.");
    rst_buf_printf(b, "roost_max_workers_reached_total %llu\n",
                   (unsigned long long)__atomic_load_n(&sb->max_reached, __ATOMIC_RELAXED));
    metric_head(b, "roost_slow_requests_total", "counter", "Requests that took 1 s or more.");
    rst_buf_printf(b, "roost_slow_requests_total %llu\n",
                   (unsigned long long)__atomic_load_n(&sb->slow_requests, __ATOMIC_RELAXED));
}

/* The home timeline's fan-out queue (lib/domain/timeline.h), from Redis:
 * left out while Redis does not answer. */
static void fanout_metrics(rst_buf *b, rst_services *s)
{
    long long len, oldest, lag;
    if (rst_timeline_queue_stats(s, &len, &oldest, &lag) != 0)
        return;
    metric_head(b, "roost_fanout_queue_length", "gauge", "Fan-out jobs waiting in Redis.");
    rst_buf_printf(b, "roost_fanout_queue_length %lld\n", len);
    if (oldest >= 0) {
        metric_head(b, "roost_fanout_queue_age_seconds", "gauge",
                    "Age of the oldest waiting fan-out job (the current lag).");
        rst_buf_printf(b, "roost_fanout_queue_age_seconds %.3f\n", (double)oldest / 1000.0);
    }
    if (lag >= 0) {
        metric_head(b, "roost_fanout_lag_seconds", "gauge",
                    "From a post to its last follower's timeline, for the last finished job.");
        rst_buf_printf(b, "roost_fanout_lag_seconds %.3f\n", (double)lag / 1000.0);
    }
}

/* Per read replica: whether it serves reads, its lag (the last
 * measurement of any worker; left out while unknown) and the reads sent
 * to it by every worker. */
static void replica_metrics(rst_buf *b, const rst_services *s, const rst_scoreboard *sb)
{
    const rst_config *cfg = s->cfg;
    if (cfg->nreplicas == 0)
        return;
    char labels[RST_MAX_REPLICAS][400];
    for (int i = 0; i < cfg->nreplicas; i++) {
        const rst_replica_conf *r = &cfg->replicas[i];
        snprintf(labels[i], sizeof(labels[i]), "server=\"%s\",replica=\"%s:%d\"",
                 r->primary < 0 ? "catalog" : cfg->shard_servers[r->primary].name,
                 r->db.host, r->db.port);
    }
    metric_head(b, "roost_replica_up", "gauge",
                "1 when the replica serves reads (up, replicating, within max_replica_lag).");
    for (int i = 0; i < cfg->nreplicas; i++)
        rst_buf_printf(b, "roost_replica_up{%s} %llu\n", labels[i], (unsigned long long)
                       __atomic_load_n(&sb->replicas[i].usable, __ATOMIC_RELAXED));
    metric_head(b, "roost_replica_lag_seconds", "gauge",
                "Seconds_Behind_Master at the last check (absent while unknown).");
    for (int i = 0; i < cfg->nreplicas; i++) {
        int64_t lag = __atomic_load_n(&sb->replicas[i].lag_ms, __ATOMIC_RELAXED);
        if (lag >= 0)
            rst_buf_printf(b, "roost_replica_lag_seconds{%s} %.3f\n", labels[i], (double)lag / 1000.0);
    }
    metric_head(b, "roost_replica_reads_total", "counter", "Reads sent to the replica.");
    for (int i = 0; i < cfg->nreplicas; i++)
        rst_buf_printf(b, "roost_replica_reads_total{%s} %llu\n", labels[i], (unsigned long long)
                       __atomic_load_n(&sb->replicas[i].reads, __ATOMIC_RELAXED));
}

static void ops_metrics(rst_ctx *c)
{
    const rst_scoreboard *sb = c->sb;
    rst_buf *b = c->resp->body;
    int n;
    const char *const *names = rst_app_route_names(&n);
    static const char *const classes[] = { "1xx", "2xx", "3xx", "4xx", "5xx" };

    pool_metrics(b, sb);
    fanout_metrics(b, c->svc);
    rst_replicas_refresh(c->svc);        /* this worker's view is at most 1 s old */
    replica_metrics(b, c->svc, sb);
    metric_head(b, "roost_requests_total", "counter", "Answers by route and status class.");
    for (int i = 0; i < n && i < sb->nroutes; i++)
        for (int k = 0; k < 5; k++) {
            uint64_t v = __atomic_load_n(&rst_metrics_route(sb, i)->by_class[k], __ATOMIC_RELAXED);
            if (v > 0)
                rst_buf_printf(b, "roost_requests_total{route=\"%s\",status=\"%s\"} %llu\n",
                               names[i], classes[k], (unsigned long long)v);
        }
    metric_head(b, "roost_request_duration_seconds", "histogram", "Time to answer, by route.");
    for (int i = 0; i < n && i < sb->nroutes; i++) {
        const rst_route_metrics *m = rst_metrics_route(sb, i);
        uint64_t seen = 0;
        for (int k = 0; k < RST_METRIC_BUCKETS; k++)
            seen += __atomic_load_n(&m->buckets[k], __ATOMIC_RELAXED);
        if (seen > 0)                    /* routes never asked stay out */
            route_histogram(b, names[i], m);
    }
    c->resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    c->resp->cache = RST_CACHE_PRIVATE;
}

/* ---------------------------------------------------------------- routes */

static const rst_route_def defs[] = {
    { RST_M_GET, "/healthz", "healthz", RST_H_OPS, NULL, ops_healthz },
    { RST_M_GET, "/readyz",  "readyz",  RST_H_OPS, NULL, ops_readyz },
    { RST_M_GET, "/status",  "status",  RST_H_OPS, NULL, ops_status },
    { RST_M_GET, "/metrics", "metrics", RST_H_OPS, NULL, ops_metrics },
};

const rst_route_table rst_ops_routes = RST_ROUTE_TABLE(defs);
