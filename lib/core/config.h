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

typedef struct {
    /* [roostd] */
    char listen[RST_PATH_MAX];
    int  listen_backlog;
    int  workers;
    int  max_requests;
    int  request_timeout;
    int  generator_base;
    int  max_conns_per_worker;
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

#endif
