/* config.h -- roost.conf parsed once into typed structs.
 *
 * The file is INI (libinih). Every key is checked when read: an unknown
 * section or key, a bad number or a missing required value fails the load
 * with a message naming the file, line and key -- every bad key, not just
 * the first -- so `roostd -t` can tell an operator exactly what to fix.
 * Relative paths are taken relative to the directory of the config file. */
#ifndef ROOST_CONFIG_H
#define ROOST_CONFIG_H

#include <stddef.h>

#define RST_MAX_SERVERS     64
#define RST_MAX_RANGES      256
#define RST_PATH_MAX        512

typedef struct {
    char name[64];               /* "catalog" or the [shard NAME] name */
    char host[256];
    int  port;
    char socket[RST_PATH_MAX];
    char user[64];
    char password[128];          /* read from password_file at load time */
    char database[64];
    int  connect_timeout;        /* seconds */
    int  timeout;                /* read/write timeout, seconds */
} rst_db_conf;

/* A read replica of the catalog or of a shard server: its own host and
 * port, everything else (user, password, database, timeouts) its
 * primary's, copied once the whole file is read. */
#define RST_MAX_REPLICAS    64
typedef struct {
    int         primary;         /* index into shard_servers; -1: the catalog */
    int         weight;          /* share of its primary's replica reads, 1..100 */
    rst_db_conf db;
} rst_replica_conf;

typedef struct {
    unsigned first, last;        /* logical shards, inclusive */
    int      server;             /* index into rst_config.shard_servers */
} rst_shard_range;

/* A pool of workers with a listen socket of its own ([roostd] describes the
 * pool "main", each [pool NAME] another), managed like a php-fpm pool. */
#define RST_MAX_POOLS 4
#define RST_MAX_CHILDREN 480      /* per pool; two id generators each (core/ids.h) */

typedef enum {
    RST_PM_STATIC = 0,           /* always max_children workers */
    RST_PM_DYNAMIC,              /* between the spare bounds of idle ones */
    RST_PM_ONDEMAND              /* forked when a connection waits, retired when idle */
} rst_pm_mode;

typedef struct {
    char name[32];
    char listen[RST_PATH_MAX];
    int  listen_backlog;
    int  pm;                     /* rst_pm_mode */
    int  max_children;
    int  start_servers;          /* dynamic: forked at start */
    int  min_spare_servers;      /* dynamic: fork when fewer are idle */
    int  max_spare_servers;      /* dynamic: retire when more are idle */
    int  process_idle_timeout;   /* s: dynamic/ondemand retire a surplus idle worker after it */
    int  max_requests;           /* recycle a worker after this many; 0: never */
    int  request_terminate_timeout;  /* s: kill a worker stuck on one request */
    int  request_slowlog_timeout;    /* s: log a request still running after it; 0: off */
    char slowlog[RST_PATH_MAX];  /* the slow log file; "": roostd's own log */
    int  max_conns_per_worker;   /* kept FastCGI connections one worker holds */
    int  process_priority;       /* the workers' nice value; RST_PRIORITY_INHERIT: unset */
} rst_pool_conf;

#define RST_PRIORITY_INHERIT 100

typedef struct {
    /* [roostd]: pools[0] is the pool "main" */
    rst_pool_conf pools[RST_MAX_POOLS];
    int  npools;
    int  generator_base;
    int  emergency_restart_threshold;  /* crashes within the interval that restart all workers; 0: off */
    int  emergency_restart_interval;   /* s */
    char log_file[RST_PATH_MAX];       /* "": stderr (journald) */
    int  log_level;              /* rst_log_level */
    int  log_timestamps;
    /* [roostctl] */
    char migrations_dir[RST_PATH_MAX];
    /* [security] */
    char secret_file[RST_PATH_MAX];
    int  token_ttl;
    int  argon2_opslimit;        /* Argon2id passes (t) */
    int  argon2_memlimit_kib;    /* Argon2id memory (m), KiB */
    /* [redis] */
    char redis_host[256];
    int  redis_port;
    char redis_socket[RST_PATH_MAX];
    int  redis_connect_timeout_ms;
    int  redis_timeout_ms;
    char redis_prefix[64];
    int  cache_ttl;              /* seconds a cached object lives in Redis */
    int  hot_cache_ms;           /* a worker keeps hot public objects this long; 0: never */
    int  hot_cache_kib;          /* ... in at most this much memory */
    /* Redis Sentinel: when any is named, the master is whatever they say
     * (redis_host/port/socket are not used) */
#define RST_MAX_SENTINELS 8
    char redis_sentinel_host[RST_MAX_SENTINELS][256];
    int  redis_sentinel_port[RST_MAX_SENTINELS];
    int  redis_nsentinels;
    char redis_sentinel_master[64];
    /* [timeline] */
    int  fanout_max_followers;   /* authors with more are merged in at read time */
    /* [catalog] */
    rst_db_conf catalog;
    /* [shards] + [shard NAME] */
    unsigned        shard_count;
    rst_db_conf     shard_servers[RST_MAX_SERVERS];
    int             nshard_servers;
    rst_shard_range ranges[RST_MAX_RANGES];
    int             nranges;
    /* [shards] fenced: logical shards whose writes are refused for now
     * (503 + Retry-After) while their rows move between servers */
    rst_shard_range fenced[RST_MAX_RANGES];
    int             nfenced;
    /* [shards] map = catalog: follow the map roostctl shard move writes to
     * the catalog (store/catmap.h) over the ranges and fence above */
    int             map_catalog;
    /* `replica = HOST:PORT [weight=N]` lines of [catalog] and [shard NAME] */
    rst_replica_conf replicas[RST_MAX_REPLICAS];
    int              nreplicas;
    /* [replication] */
    int  max_replica_lag;        /* seconds; a replica further behind is skipped */
    /* where the file lives, for resolving relative paths */
    char dir[RST_PATH_MAX];
} rst_config;

/* Loads `path` into *cfg (defaults first). 0 on success; on failure -1 and
 * a message in err: one line per problem ("path:line: [section] key: why",
 * '\n' between lines, none at the end), in file order. The cross-key checks
 * (required keys, the shard map covering every logical shard exactly once)
 * run only on a file without such problems, and report the first failure. */
int rst_config_load(rst_config *cfg, const char *path, char *err, size_t errlen);

/* Same, from a string (for tests); relative paths resolve against cwd. */
int rst_config_load_string(rst_config *cfg, const char *text, char *err, size_t errlen);

/* "static", "dynamic" or "ondemand". */
const char *rst_pm_name(int pm);

/* Every logical shard on exactly one server, every range and fence within
 * [shards] count (what a load checks): 0, or -1 with err. */
int rst_config_check_shard_map(const rst_config *cfg, char *err, size_t errlen);

/* "A-B, C, D-E" into cfg's fence (the syntax of [shards] fenced): 0, or
 * -1 on a bad one. */
int rst_config_parse_fenced(rst_config *cfg, const char *value);

/* Where a database server is, for people and labels: its socket path, or
 * HOST:PORT. */
void rst_db_conf_address(const rst_db_conf *c, char *out, size_t len);

/* Worker slots the pools need: two per worker (a draining worker beside
 * its successor), each slot an id generator after generator_base. */
int rst_config_slots(const rst_config *cfg);

#endif
