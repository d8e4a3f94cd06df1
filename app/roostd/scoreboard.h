/* scoreboard.h -- shared memory the master and workers both see.
 *
 * The master maps it before forking. Each worker writes its own slot and
 * adds to its pool's counters, the totals and the per-route metrics; the
 * master reads slots to manage each pool (idle ones, stuck ones, slow
 * ones), and any worker reads everything to answer /status and /metrics.
 * Slots are not divided between pools: a worker of any pool takes any
 * free slot, and the slot names its pool. Fields are single machine words updated with
 * relaxed atomics: a reader may see a slightly stale picture, never a torn
 * number. */
#ifndef ROOSTD_SCOREBOARD_H
#define ROOSTD_SCOREBOARD_H

#include <stdint.h>
#include <sys/types.h>

#include "core/config.h"
#include "store/shardmap.h"
#include "store/hotcache.h"
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
    int      pool;               /* index into rst_scoreboard.pools */
    uint64_t requests;           /* served since the worker started */
    uint64_t busy_since_ms;      /* start of the current request (monotonic ms), 0 when idle */
    uint64_t idle_since_ms;      /* end of the last request, or the start (monotonic ms) */
    uint64_t last_duration_us;
    char     method[8];
    char     path[120];
    char     route[32];          /* the route name, once the request is routed */
    char     request_id[40];
    uint64_t map_gen;            /* the shard map generation this worker routes with */
} rst_slot;

/* One pool's settings (copied by the master at start and on reload) and
 * counters (added to by its workers and the master). */
typedef struct {
    char     name[32];
    int      listen_fd;
    int      pm;                 /* rst_pm_mode */
    int      max_children;
    int      start_servers, min_spare_servers, max_spare_servers;
    int      process_idle_timeout;
    uint64_t slow_us;            /* what counts as slow here */
    uint64_t accepted;           /* connections accepted */
    uint64_t requests;           /* requests served */
    uint64_t active;             /* workers serving a request right now */
    uint64_t max_active;         /* the most ever busy at once */
    uint64_t max_reached;        /* requests begun with all max_children busy */
    uint64_t slow_requests;      /* past request_slowlog_timeout (or 1 s without one) */
    uint64_t spawned;            /* workers forked */
    uint64_t retired;            /* idle workers retired by pm dynamic/ondemand */
    uint64_t killed;             /* workers killed past request_terminate_timeout */
} rst_pool_stats;

/* Latency buckets (upper bounds, microseconds) of /metrics' histograms;
 * the last bucket is +Inf. */
#define RST_METRIC_BUCKETS 12
extern const uint64_t rst_metric_bucket_us[RST_METRIC_BUCKETS - 1];
#define RST_SLOW_REQUEST_US 1000000
/* Worker slots: one id generator each (generator_base + slot number, below
 * RST_ID_GEN_ROOSTD of core/ids.h; config.c keeps two per worker of every
 * pool within it). The table is sized for the most a host may have, so a
 * reload can grow any pool without remapping. */
#define RST_MAX_SLOTS 992

typedef struct {
    uint64_t by_class[5];                  /* answers 1xx .. 5xx */
    uint64_t buckets[RST_METRIC_BUCKETS];  /* per bucket, not cumulative */
    uint64_t sum_us;
} rst_route_metrics;

typedef struct {
    uint64_t start_ms;           /* wall clock, for display */
    uint64_t start_mono_ms;      /* monotonic, for the uptime */
    int64_t  master_pid;         /* for an operator tool's SIGHUP (roostctl shard move) */
    uint64_t accepted;           /* connections accepted, all workers */
    uint64_t requests;           /* requests served, all workers */
    uint64_t active;             /* workers serving a request right now */
    uint64_t max_active;         /* the most ever busy at once */
    uint64_t max_reached;        /* times every worker was busy at once */
    uint64_t slow_requests;      /* requests that took RST_SLOW_REQUEST_US or more */
    int      npools;
    rst_pool_stats pools[RST_MAX_POOLS];
    int      nslots;             /* room for every pool's workers, draining ones too */
    int      nroutes;            /* per-route metrics after the slots, one per route name */
    rst_replica_stat replicas[RST_MAX_REPLICAS];   /* config order (lib/domain/services.c) */
    rst_hot_stat     hot;                          /* the workers' hot copies (lib/domain/services.c) */
    /* The shard map of the running configuration, published by the master
     * at start and on each reload that keeps the servers (a seqlock:
     * map_seq is odd while it writes); every worker, draining ones too,
     * adopts it between two requests when it names the same servers and says so in its slot's map_gen.
     * So a fence or a switch of a shard move holds for every request once
     * every slot shows the new generation, without waiting for draining
     * workers to go (roostctl shard move). */
    uint64_t     map_seq;
    uint64_t     map_gen;
    rst_shardmap map;
    rst_slot slots[];
} rst_scoreboard;

/* The master: publishes cfg's shard map (a new generation). */
void rst_scoreboard_publish_map(rst_scoreboard *sb, const rst_config *cfg);
/* A worker: when a newer map is published that names the worker's own
 * servers, copies it into *map and notes its generation in the slot; 1
 * then. A map of other servers (a reload that changed them) is left: the
 * worker keeps its map and its generation until it goes. */
int rst_scoreboard_adopt_map(rst_scoreboard *sb, rst_slot *slot, rst_shardmap *map);

/* Maps the table for nslots workers and nroutes route names (the API's
 * route tables decide how many: rst_app_route_names()). */
rst_scoreboard *rst_scoreboard_map(int nslots, int nroutes);
void            rst_scoreboard_unmap(rst_scoreboard *sb);

/* Copies the pools' settings in (at start and on reload); counters stay. */
void rst_scoreboard_set_pools(rst_scoreboard *sb, const rst_config *cfg, const int *listen_fds);

/* A worker starts / ends a request. A draining worker passes exiting = 1:
 * it stays EXITING while it serves, so neither the master nor /status
 * counts it as one of the pool's serving workers. */
void rst_slot_busy(rst_scoreboard *sb, rst_slot *s, const char *method, const char *path,
                   uint64_t now_ms, int exiting);
void rst_slot_idle(rst_scoreboard *sb, rst_slot *s, uint64_t duration_us, int exiting);

/* The route (once routed) and the request id of the request in progress. */
void rst_slot_note(rst_slot *s, const char *route, const char *request_id);

/* The master found a worker dead: undo its part of the active count. */
void rst_slot_reset(rst_scoreboard *sb, rst_slot *s);

/* The metrics of route `route` (0..nroutes-1); NULL outside. */
const rst_route_metrics *rst_metrics_route(const rst_scoreboard *sb, int route);

/* Counts one answer of route `route` (ignored outside 0..nroutes-1). */
void rst_metrics_record(rst_scoreboard *sb, int route, int status, uint64_t duration_us);

#endif
