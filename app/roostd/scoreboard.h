/* scoreboard.h -- shared memory the master and workers both see.
 *
 * The master maps it before forking. Each worker writes its own slot and
 * adds to the pool-wide counters and per-route metrics; the master reads
 * slots to find stuck workers, and any worker reads everything to answer
 * /status and /metrics. Fields are single machine words updated with
 * relaxed atomics: a reader may see a slightly stale picture, never a torn
 * number. */
#ifndef ROOSTD_SCOREBOARD_H
#define ROOSTD_SCOREBOARD_H

#include <stdint.h>
#include <sys/types.h>

#include "core/config.h"
#include "store/replicastat.h"

typedef enum {
    RST_SLOT_EMPTY = 0,
    RST_SLOT_IDLE,
    RST_SLOT_BUSY,
    RST_SLOT_EXITING
} rst_slot_state;

typedef struct {
    pid_t    pid;
    int      state;              /* rst_slot_state */
    uint64_t requests;           /* served since the worker started */
    uint64_t busy_since_ms;      /* start of the current request (monotonic ms), 0 when idle */
    uint64_t last_duration_us;
    char     method[8];
    char     path[120];
} rst_slot;

/* Latency buckets (upper bounds, microseconds) of /metrics' histograms;
 * the last bucket is +Inf. */
#define RST_METRIC_BUCKETS 12
extern const uint64_t rst_metric_bucket_us[RST_METRIC_BUCKETS - 1];
#define RST_SLOW_REQUEST_US 1000000
/* Worker slots: one id generator each, 0..95 (config.c keeps
 * generator_base + 2 x workers within it). Sized for the largest pool so a
 * reload can grow the pool without remapping. */
#define RST_MAX_SLOTS 96

typedef struct {
    uint64_t by_class[5];                  /* answers 1xx .. 5xx */
    uint64_t buckets[RST_METRIC_BUCKETS];  /* per bucket, not cumulative */
    uint64_t sum_us;
} rst_route_metrics;

typedef struct {
    uint64_t start_ms;           /* wall clock, for display */
    uint64_t start_mono_ms;      /* monotonic, for the uptime */
    uint64_t accepted;           /* connections accepted, all workers */
    uint64_t requests;           /* requests served, all workers */
    uint64_t active;             /* workers serving a request right now */
    uint64_t max_active;         /* the most ever busy at once */
    uint64_t max_reached;        /* times every worker was busy at once */
    uint64_t slow_requests;      /* requests that took RST_SLOW_REQUEST_US or more */
    int      listen_fd;          /* the shared listen socket (same number everywhere) */
    int      pool_size;          /* [roostd] workers: how many should serve */
    int      nslots;             /* 2 x pool_size: a draining worker and its successor */
    int      nroutes;            /* per-route metrics after the slots, one per route name */
    rst_replica_stat replicas[RST_MAX_REPLICAS];   /* config order (lib/domain/services.c) */
    rst_slot slots[];
} rst_scoreboard;

/* Maps the table for nslots workers and nroutes route names (the API's
 * route tables decide how many: rst_app_route_names()). */
rst_scoreboard *rst_scoreboard_map(int nslots, int nroutes);
void            rst_scoreboard_unmap(rst_scoreboard *sb);

/* A worker starts / ends a request. A draining worker passes exiting = 1:
 * it stays EXITING while it serves, so neither the master nor /status
 * counts it as one of the pool's serving workers. */
void rst_slot_busy(rst_scoreboard *sb, rst_slot *s, const char *method, const char *path,
                   uint64_t now_ms, int exiting);
void rst_slot_idle(rst_scoreboard *sb, rst_slot *s, uint64_t duration_us, int exiting);

/* The master found a worker dead: undo its part of the active count. */
void rst_slot_reset(rst_scoreboard *sb, rst_slot *s);

/* The metrics of route `route` (0..nroutes-1); NULL outside. */
const rst_route_metrics *rst_metrics_route(const rst_scoreboard *sb, int route);

/* Counts one answer of route `route` (ignored outside 0..nroutes-1). */
void rst_metrics_record(rst_scoreboard *sb, int route, int status, uint64_t duration_us);

#endif
