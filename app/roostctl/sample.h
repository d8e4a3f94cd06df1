/* sample.h -- one snapshot of a running roostd for `roostctl top` and
 * `roostctl advise`: /status (pools, workers), /metrics (per-route latency
 * histograms) and, now and then, /readyz (dependencies), read over
 * FastCGI straight from a pool's socket named in roost.conf (no nginx),
 * plus what /proc says about each worker when roostd runs on this host. */
#ifndef ROOSTCTL_SAMPLE_H
#define ROOSTCTL_SAMPLE_H

#include <stdint.h>

#include "core/config.h"
#include "roostd/scoreboard.h"

#define CTL_MAX_ROUTES 96
#define CTL_MAX_DEPS   (RST_MAX_SERVERS + 2)

typedef struct {
    char     name[32], pm[12];
    int      max_children, start_servers, min_spare, max_spare, idle_timeout;
    int      listen_queue, listen_queue_max;   /* -1: unknown */
    int      idle, active, total, starting, exiting;
    uint64_t accepted, requests, max_active, max_reached, slow, spawned, retired, killed;
} ctl_pool;

typedef struct {
    int      pid;
    char     pool[32], state[12], method[8], path[120], route[32];
    uint64_t requests, duration_ms;
    int      in_progress;
    long     rss_kib;                  /* -1: not on this host */
    double   cpu_s;                    /* user + system time so far; -1: unknown */
    char     proc_state;               /* /proc/PID/stat's state letter, '?' unknown */
    char     waits_on[16];             /* "cpu", "mariadb", "redis", ... (see sample.c) */
} ctl_worker;

typedef struct {
    char     name[32];
    uint64_t buckets[RST_METRIC_BUCKETS];  /* cumulative, as /metrics gives them */
    double   sum_s;
} ctl_route;

typedef struct {
    char   name[64], kind[16];
    int    up;
    double latency_ms;
} ctl_dep;

typedef struct {
    double     t;                      /* monotonic seconds when taken */
    int        npools, nworkers, nroutes, ndeps;
    int        deps_known;             /* 0: /readyz not asked (yet) or unanswered */
    ctl_pool   pools[RST_MAX_POOLS];
    ctl_worker workers[RST_MAX_SLOTS];
    ctl_route  routes[CTL_MAX_ROUTES];
    ctl_dep    deps[CTL_MAX_DEPS];
    double     host_busy_s, host_total_s;  /* /proc/stat: CPU time busy and in all */
} ctl_snap;

/* Latency bucket bounds in seconds (the last is +Inf). */
double ctl_bucket_le(int k);

double ctl_now(void);

/* Fills *s from the first pool socket of cfg that answers (a busy pool
 * cannot answer /status; another pool's worker can, the scoreboard is
 * shared). with_deps also asks /readyz. 0, or -1 with a message in err. */
int ctl_sample(const rst_config *cfg, ctl_snap *s, int with_deps, char *err, size_t errlen);

/* The worker's pool index in s, or -1. */
int ctl_pool_index(const ctl_snap *s, const char *pool);

/* The route named `name` in s, or NULL. */
const ctl_route *ctl_route_find(const ctl_snap *s, const char *name);

/* Latency quantile q (0..1) in ms of the requests between `old` and `now`
 * (old may be NULL: since start), interpolated within its bucket; the
 * count goes to *n. -1 when there were none. */
double ctl_route_quantile(const ctl_route *now, const ctl_route *old, double q, uint64_t *n);

#endif
