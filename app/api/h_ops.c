/* h_ops.c -- the operations endpoints of API.md §7: /healthz, /readyz,
 * /status (the worker pool, like php-fpm's status page) and /metrics (the
 * same figures plus per-route counts and latency histograms, Prometheus
 * text format). nginx lets only loopback clients reach them. */
#include <stdio.h>
#include <stddef.h>
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
    int idle, active, total, starting, exiting;
} pool_counts;

/* Workers by state, of pool `pool` (-1: every pool). */
static pool_counts count_workers(const rst_scoreboard *sb, int pool)
{
    pool_counts pc = { 0, 0, 0, 0, 0 };
    for (int i = 0; i < sb->nslots; i++) {
        const rst_slot *s = &sb->slots[i];
        if (s->pid == 0 || (pool >= 0 && s->pool != pool))
            continue;
        pc.total++;
        int st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
        pc.active += st == RST_SLOT_BUSY;
        pc.idle += st == RST_SLOT_IDLE;
        pc.starting += st == RST_SLOT_EMPTY;
        pc.exiting += st == RST_SLOT_EXITING;
    }
    return pc;
}

static const char *pool_name(const rst_scoreboard *sb, int pool)
{
    return pool >= 0 && pool < sb->npools ? sb->pools[pool].name : "main";
}

/* A NUL-terminated copy of a slot string a worker may be rewriting: a
 * reader may catch it mid-update, which is harmless for a status page. */
static void copy_field(char *dst, const char *src, size_t len)
{
    memcpy(dst, src, len);
    dst[len - 1] = '\0';
}

static void worker_json(rst_buf *b, const rst_scoreboard *sb, const rst_slot *s, uint64_t now_ms)
{
    int st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
    uint64_t since = __atomic_load_n(&s->busy_since_ms, __ATOMIC_RELAXED);
    rst_buf_printf(b, "{\"pid\":%d,\"map_generation\":%llu,\"pool\":", (int)s->pid,
                   (unsigned long long)__atomic_load_n(&s->map_gen, __ATOMIC_ACQUIRE));
    rst_json_str(b, pool_name(sb, s->pool));
    rst_buf_puts(b, ",\"state\":");
    rst_json_str(b, slot_state_name(st));
    rst_buf_printf(b, ",\"requests\":%llu,\"request\":{\"method\":",
                   (unsigned long long)__atomic_load_n(&s->requests, __ATOMIC_RELAXED));
    /* The method, path and route are of the current request while busy,
     * else of the last one. */
    char method[sizeof(s->method)], path[sizeof(s->path)], route[sizeof(s->route)];
    copy_field(method, s->method, sizeof(method));
    copy_field(path, s->path, sizeof(path));
    copy_field(route, s->route, sizeof(route));
    rst_json_str(b, method[0] ? method : NULL);
    rst_buf_puts(b, ",\"path\":");
    rst_json_str(b, path[0] ? path : NULL);
    rst_buf_puts(b, ",\"route\":");
    rst_json_str(b, route[0] ? route : NULL);
    /* busy_since is set while a request runs, draining workers' too. */
    uint64_t ms = since ? (now_ms > since ? now_ms - since : 0)
                        : __atomic_load_n(&s->last_duration_us, __ATOMIC_RELAXED) / 1000;
    rst_buf_printf(b, ",\"duration_ms\":%llu,\"in_progress\":%s}}", (unsigned long long)ms,
                   since ? "true" : "false");
}

static uint64_t load(const uint64_t *v)
{
    return __atomic_load_n(v, __ATOMIC_RELAXED);
}

static void queue_json(rst_buf *b, int fd)
{
    unsigned qlen = 0, qmax = 0;
    if (rst_listen_queue(fd, &qlen, &qmax) == 0)
        rst_buf_printf(b, ",\"listen_queue\":%u,\"listen_queue_max\":%u", qlen, qmax);
    else
        rst_buf_puts(b, ",\"listen_queue\":null,\"listen_queue_max\":null");
}

/* One pool's section of /status: php-fpm's status fields, plus its pm
 * bounds and what the master did (forks, retirements, kills). */
static void pool_json(rst_buf *b, const rst_scoreboard *sb, int i)
{
    const rst_pool_stats *p = &sb->pools[i];
    pool_counts pc = count_workers(sb, i);
    rst_json_str(b, p->name);
    rst_buf_puts(b, ":{\"pm\":");
    rst_json_str(b, rst_pm_name(p->pm));
    rst_buf_printf(b, ",\"max_children\":%d,\"start_servers\":%d,\"min_spare_servers\":%d"
                      ",\"max_spare_servers\":%d,\"process_idle_timeout\":%d",
                   p->max_children, p->start_servers, p->min_spare_servers, p->max_spare_servers,
                   p->process_idle_timeout);
    queue_json(b, p->listen_fd);
    rst_buf_printf(b, ",\"idle_workers\":%d,\"active_workers\":%d,\"total_workers\":%d"
                      ",\"starting_workers\":%d,\"exiting_workers\":%d"
                      ",\"accepted_conn\":%llu,\"requests\":%llu,\"max_active_workers\":%llu"
                      ",\"max_workers_reached\":%llu,\"slow_requests\":%llu"
                      ",\"spawned\":%llu,\"retired\":%llu,\"killed\":%llu}",
                   pc.idle, pc.active, pc.total, pc.starting, pc.exiting,
                   (unsigned long long)load(&p->accepted), (unsigned long long)load(&p->requests),
                   (unsigned long long)load(&p->max_active), (unsigned long long)load(&p->max_reached),
                   (unsigned long long)load(&p->slow_requests), (unsigned long long)load(&p->spawned),
                   (unsigned long long)load(&p->retired), (unsigned long long)load(&p->killed));
}

static void ops_status(rst_ctx *c)
{
    const rst_scoreboard *sb = c->sb;
    rst_buf *b = c->resp->body;
    uint64_t now = rst_time_mono_ms();
    pool_counts pc = count_workers(sb, -1);

    /* The top level sums every pool (its listen queue is the main pool's):
     * the fields /status had before pools. */
    rst_buf_puts(b, "{\"start_time\":");
    rst_json_time(b, sb->start_ms);
    rst_buf_printf(b, ",\"master_pid\":%lld,\"map_generation\":%llu,\"uptime_s\":%llu,"
                      "\"accepted_conn\":%llu,\"requests\":%llu",
                   (long long)sb->master_pid,
                   (unsigned long long)__atomic_load_n(&sb->map_gen, __ATOMIC_ACQUIRE),
                   (unsigned long long)((now - sb->start_mono_ms) / 1000),
                   (unsigned long long)load(&sb->accepted), (unsigned long long)load(&sb->requests));
    queue_json(b, sb->pools[0].listen_fd);
    rst_buf_printf(b, ",\"idle_workers\":%d,\"active_workers\":%d,\"total_workers\":%d"
                      ",\"max_active_workers\":%llu,\"max_workers_reached\":%llu"
                      ",\"slow_requests\":%llu,\"pools\":{",
                   pc.idle, pc.active, pc.total,
                   (unsigned long long)load(&sb->max_active), (unsigned long long)load(&sb->max_reached),
                   (unsigned long long)load(&sb->slow_requests));
    for (int i = 0; i < sb->npools; i++) {
        if (i > 0)
            rst_buf_putc(b, ',');
        pool_json(b, sb, i);
    }
    rst_buf_puts(b, "},\"workers\":[");
    int first = 1;
    for (int i = 0; i < sb->nslots; i++) {
        if (sb->slots[i].pid == 0)
            continue;
        if (!first)
            rst_buf_putc(b, ',');
        first = 0;
        worker_json(b, sb, &sb->slots[i], now);
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

/* One sample per pool of a pool counter. */
static void pool_counter(rst_buf *b, const rst_scoreboard *sb, const char *name,
                         size_t offset)
{
    for (int i = 0; i < sb->npools; i++) {
        const uint64_t *v = (const uint64_t *)(const void *)((const char *)&sb->pools[i] + offset);
        rst_buf_printf(b, "%s{pool=\"%s\"} %llu\n", name, sb->pools[i].name,
                       (unsigned long long)load(v));
    }
}

#define POOL_COUNTER(b, sb, name, field) \
    pool_counter((b), (sb), (name), offsetof(rst_pool_stats, field))

static void pool_metrics(rst_buf *b, const rst_scoreboard *sb)
{
    uint64_t now = rst_time_mono_ms();
    metric_head(b, "roost_uptime_seconds", "gauge", "Seconds since the roostd master started.");
    rst_buf_printf(b, "roost_uptime_seconds %llu\n", (unsigned long long)((now - sb->start_mono_ms) / 1000));
    metric_head(b, "roost_accepted_connections_total", "counter", "FastCGI connections accepted.");
    POOL_COUNTER(b, sb, "roost_accepted_connections_total", accepted);
    metric_head(b, "roost_listen_queue", "gauge", "Connections waiting in the listen queue.");
    for (int i = 0; i < sb->npools; i++) {
        unsigned qlen = 0, qmax = 0;
        if (rst_listen_queue(sb->pools[i].listen_fd, &qlen, &qmax) == 0)
            rst_buf_printf(b, "roost_listen_queue{pool=\"%s\"} %u\n", sb->pools[i].name, qlen);
    }
    metric_head(b, "roost_workers", "gauge", "Worker processes by state.");
    for (int i = 0; i < sb->npools; i++) {
        pool_counts pc = count_workers(sb, i);
        const char *n = sb->pools[i].name;
        rst_buf_printf(b, "roost_workers{pool=\"%s\",state=\"idle\"} %d\n"
                          "roost_workers{pool=\"%s\",state=\"active\"} %d\n"
                          "roost_workers{pool=\"%s\",state=\"starting\"} %d\n"
                          "roost_workers{pool=\"%s\",state=\"exiting\"} %d\n"
                          "roost_workers{pool=\"%s\",state=\"total\"} %d\n",
                       n, pc.idle, n, pc.active, n, pc.starting, n, pc.exiting, n, pc.total);
    }
    metric_head(b, "roost_max_children", "gauge", "The most workers a pool may have.");
    for (int i = 0; i < sb->npools; i++)
        rst_buf_printf(b, "roost_max_children{pool=\"%s\"} %d\n", sb->pools[i].name,
                       sb->pools[i].max_children);
    metric_head(b, "roost_max_active_workers", "gauge", "The most workers ever busy at once.");
    POOL_COUNTER(b, sb, "roost_max_active_workers", max_active);
    metric_head(b, "roost_max_workers_reached_total", "counter",
                "Requests begun with all of a pool's max_children busy.");
    POOL_COUNTER(b, sb, "roost_max_workers_reached_total", max_reached);
    metric_head(b, "roost_slow_requests_total", "counter",
                "Requests past the pool's request_slowlog_timeout (1 s without one).");
    POOL_COUNTER(b, sb, "roost_slow_requests_total", slow_requests);
    metric_head(b, "roost_workers_spawned_total", "counter", "Workers forked.");
    POOL_COUNTER(b, sb, "roost_workers_spawned_total", spawned);
    metric_head(b, "roost_workers_retired_total", "counter", "Idle workers retired by pm.");
    POOL_COUNTER(b, sb, "roost_workers_retired_total", retired);
    metric_head(b, "roost_workers_killed_total", "counter",
                "Workers killed past request_terminate_timeout.");
    POOL_COUNTER(b, sb, "roost_workers_killed_total", killed);
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
        char where[RST_PATH_MAX];
        rst_db_conf_address(&r->db, where, sizeof(where));
        snprintf(labels[i], sizeof(labels[i]), "server=\"%s\",replica=\"%.300s\"",
                 r->primary < 0 ? "catalog" : cfg->shard_servers[r->primary].name, where);
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

/* The workers' hot copies of products and tweets (store/hotcache.h): lookups that
 * found a young enough copy, and those that did not. */
static void hot_metrics(rst_buf *b, const rst_scoreboard *sb)
{
    metric_head(b, "roost_hot_cache_hits_total", "counter",
                "Product and tweet reads answered from a worker's own copy (at most hot_cache_ms old).");
    rst_buf_printf(b, "roost_hot_cache_hits_total %llu\n",
                   (unsigned long long)__atomic_load_n(&sb->hot.hits, __ATOMIC_RELAXED));
    metric_head(b, "roost_hot_cache_misses_total", "counter",
                "Product and tweet reads that could use a copy and found none young enough.");
    rst_buf_printf(b, "roost_hot_cache_misses_total %llu\n",
                   (unsigned long long)__atomic_load_n(&sb->hot.misses, __ATOMIC_RELAXED));
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
    hot_metrics(b, sb);
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
