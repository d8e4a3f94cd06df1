/* config.c -- reading roost.conf with libinih into rst_config (see config.h). */
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "core/log.h"

typedef struct {
    rst_config *cfg;
    char        err[256];
} load_ctx;

/* ------------------------------------------------------------ value parsers */

static int parse_int(const char *v, int min, int max, int *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < min || n > max)
        return -1;
    *out = (int)n;
    return 0;
}

static int copy_str(char *dst, size_t cap, const char *v)
{
    size_t n = strlen(v);
    if (n >= cap)
        return -1;
    memcpy(dst, v, n + 1);
    return 0;
}

/* Relative paths are relative to the config file, so one file works from
 * any working directory (systemd starts us in /). */
static int copy_path(const rst_config *cfg, char *dst, size_t cap, const char *v)
{
    if (v[0] == '/' || v[0] == '\0' || cfg->dir[0] == '\0')
        return copy_str(dst, cap, v);
    int n = snprintf(dst, cap, "%s/%s", cfg->dir, v);
    return (n < 0 || (size_t)n >= cap) ? -1 : 0;
}

static int read_password_file(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(out, 1, cap - 1, f);
    int bad = ferror(f) || (n == cap - 1 && fgetc(f) != EOF);
    fclose(f);
    if (bad)
        return -1;
    out[n] = '\0';
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r' || out[n - 1] == ' '))
        out[--n] = '\0';
    return 0;
}

/* ------------------------------------------------------------ sections */

#define BAD(ctx, ...) do { snprintf((ctx)->err, sizeof((ctx)->err), __VA_ARGS__); return 0; } while (0)
#define INT_KEY(k, field, lo, hi) \
    if (strcmp(name, k) == 0) { \
        if (parse_int(value, lo, hi, &(field)) != 0) \
            BAD(ctx, "[%s] %s: must be an integer from %d to %d", section, name, lo, hi); \
        return 1; }
#define STR_KEY(k, field) \
    if (strcmp(name, k) == 0) { \
        if (copy_str(field, sizeof(field), value) != 0) BAD(ctx, "[%s] %s: too long", section, name); \
        return 1; }
#define PATH_KEY(k, field) \
    if (strcmp(name, k) == 0) { \
        if (copy_path(cfg, field, sizeof(field), value) != 0) BAD(ctx, "[%s] %s: path too long", section, name); \
        return 1; }

static int listen_is_path(const char *v)
{
    return strchr(v, '/') != NULL || strchr(v, ':') == NULL;
}

static int on_roostd(load_ctx *ctx, const char *section, const char *name, const char *value)
{
    rst_config *cfg = ctx->cfg;
    if (strcmp(name, "listen") == 0) {
        int r = listen_is_path(value) ? copy_path(cfg, cfg->listen, sizeof(cfg->listen), value)
                                      : copy_str(cfg->listen, sizeof(cfg->listen), value);
        if (r != 0 || value[0] == '\0')
            BAD(ctx, "[%s] listen: must be a unix socket path or host:port", section);
        return 1;
    }
    INT_KEY("listen_backlog", cfg->listen_backlog, 1, 65535)
    INT_KEY("workers", cfg->workers, 1, 256)
    INT_KEY("max_requests", cfg->max_requests, 0, INT_MAX)
    INT_KEY("request_timeout", cfg->request_timeout, 1, 3600)
    INT_KEY("generator_base", cfg->generator_base, 0, 127)
    /* libfcgi closes connections with select(): descriptors must stay
     * below FD_SETSIZE (1024), with room for the database sockets. */
    INT_KEY("max_conns_per_worker", cfg->max_conns_per_worker, 1, 512)
    INT_KEY("log_timestamps", cfg->log_timestamps, 0, 1)
    if (strcmp(name, "log_level") == 0) {
        rst_log_level lv;
        if (rst_log_parse_level(value, &lv) != 0)
            BAD(ctx, "[%s] log_level: must be error, warn, info or debug", section);
        cfg->log_level = (int)lv;
        return 1;
    }
    BAD(ctx, "[%s] %s: unknown key", section, name);
}

static int on_roostctl(load_ctx *ctx, const char *section, const char *name, const char *value)
{
    rst_config *cfg = ctx->cfg;
    PATH_KEY("migrations_dir", cfg->migrations_dir)
    BAD(ctx, "[%s] %s: unknown key", section, name);
}

static int on_security(load_ctx *ctx, const char *section, const char *name, const char *value)
{
    rst_config *cfg = ctx->cfg;
    PATH_KEY("secret_file", cfg->secret_file)
    INT_KEY("token_ttl", cfg->token_ttl, 60, 86400 * 30)
    INT_KEY("argon2_opslimit", cfg->argon2_opslimit, 2, 100)
    INT_KEY("argon2_memlimit_kib", cfg->argon2_memlimit_kib, 19456, 4 * 1024 * 1024)
    BAD(ctx, "[%s] %s: unknown key", section, name);
}

static int on_redis(load_ctx *ctx, const char *section, const char *name, const char *value)
{
    rst_config *cfg = ctx->cfg;
    STR_KEY("host", cfg->redis_host)
    INT_KEY("port", cfg->redis_port, 1, 65535)
    PATH_KEY("socket", cfg->redis_socket)
    INT_KEY("connect_timeout_ms", cfg->redis_connect_timeout_ms, 1, 60000)
    INT_KEY("timeout_ms", cfg->redis_timeout_ms, 1, 60000)
    STR_KEY("prefix", cfg->redis_prefix)
    INT_KEY("cache_ttl", cfg->cache_ttl, 1, 86400 * 7)
    BAD(ctx, "[%s] %s: unknown key", section, name);
}

static int on_db(load_ctx *ctx, rst_db_conf *db, const char *section,
                 const char *name, const char *value)
{
    rst_config *cfg = ctx->cfg;
    STR_KEY("host", db->host)
    INT_KEY("port", db->port, 1, 65535)
    PATH_KEY("socket", db->socket)
    STR_KEY("user", db->user)
    STR_KEY("database", db->database)
    INT_KEY("connect_timeout", db->connect_timeout, 1, 60)
    INT_KEY("timeout", db->timeout, 1, 600)
    if (strcmp(name, "password_file") == 0) {
        char path[RST_PATH_MAX];
        if (copy_path(cfg, path, sizeof(path), value) != 0)
            BAD(ctx, "[%s] password_file: path too long", section);
        if (read_password_file(path, db->password, sizeof(db->password)) != 0)
            BAD(ctx, "[%s] password_file: cannot read %.180s", section, path);
        return 1;
    }
    BAD(ctx, "[%s] %s: unknown key", section, name);
}

static int parse_range(const char *v, unsigned *first, unsigned *last)
{
    char *end;
    errno = 0;
    unsigned long a = strtoul(v, &end, 10);
    if (errno != 0 || end == v)
        return -1;
    unsigned long b = a;
    if (*end == '-') {
        const char *p = end + 1;
        b = strtoul(p, &end, 10);
        if (errno != 0 || end == p)
            return -1;
    }
    if (*end != '\0' || a > b || b >= 65536)
        return -1;
    *first = (unsigned)a;
    *last = (unsigned)b;
    return 0;
}

static rst_db_conf *shard_server(load_ctx *ctx, const char *sname, int *index)
{
    rst_config *cfg = ctx->cfg;
    for (int i = 0; i < cfg->nshard_servers; i++) {
        if (strcmp(cfg->shard_servers[i].name, sname) == 0) {
            *index = i;
            return &cfg->shard_servers[i];
        }
    }
    if (cfg->nshard_servers == RST_MAX_SERVERS || strlen(sname) >= sizeof(cfg->shard_servers[0].name))
        return NULL;
    rst_db_conf *db = &cfg->shard_servers[cfg->nshard_servers];
    *index = cfg->nshard_servers++;
    memset(db, 0, sizeof(*db));
    strcpy(db->name, sname);
    strcpy(db->host, "127.0.0.1");
    db->port = 3306;
    db->connect_timeout = 1;
    db->timeout = 2;
    return db;
}

static int on_shard(load_ctx *ctx, const char *sname, const char *section,
                    const char *name, const char *value)
{
    rst_config *cfg = ctx->cfg;
    int index;
    rst_db_conf *db = shard_server(ctx, sname, &index);
    if (db == NULL)
        BAD(ctx, "[%s]: too many shard servers or name too long", section);
    if (strcmp(name, "range") == 0) {
        rst_shard_range r;
        if (parse_range(value, &r.first, &r.last) != 0)
            BAD(ctx, "[%s] range: must be FIRST-LAST (logical shard numbers)", section);
        if (cfg->nranges == RST_MAX_RANGES)
            BAD(ctx, "[%s] range: too many ranges", section);
        r.server = index;
        cfg->ranges[cfg->nranges++] = r;
        return 1;
    }
    return on_db(ctx, db, section, name, value);
}

static int on_shards(load_ctx *ctx, const char *section, const char *name, const char *value)
{
    int n;
    if (strcmp(name, "count") == 0) {
        if (parse_int(value, 1, 4096, &n) != 0)
            BAD(ctx, "[%s] count: must be an integer from 1 to 4096", section);
        ctx->cfg->shard_count = (unsigned)n;
        return 1;
    }
    BAD(ctx, "[%s] %s: unknown key", section, name);
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
    load_ctx *ctx = user;
    if (strcmp(section, "roostd") == 0)
        return on_roostd(ctx, section, name, value);
    if (strcmp(section, "roostctl") == 0)
        return on_roostctl(ctx, section, name, value);
    if (strcmp(section, "security") == 0)
        return on_security(ctx, section, name, value);
    if (strcmp(section, "redis") == 0)
        return on_redis(ctx, section, name, value);
    if (strcmp(section, "catalog") == 0)
        return on_db(ctx, &ctx->cfg->catalog, section, name, value);
    if (strcmp(section, "shards") == 0)
        return on_shards(ctx, section, name, value);
    if (strncmp(section, "shard ", 6) == 0 && section[6] != '\0')
        return on_shard(ctx, section + 6, section, name, value);
    BAD(ctx, "[%s]: unknown section", section);
}

/* ------------------------------------------------------------ load */

static void set_defaults(rst_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    strcpy(cfg->listen, "127.0.0.1:9000");
    cfg->listen_backlog = 511;
    cfg->workers = 4;
    cfg->max_requests = 10000;
    cfg->request_timeout = 30;
    cfg->generator_base = 0;
    cfg->max_conns_per_worker = 64;
    cfg->log_level = RST_LOG_INFO;
    cfg->token_ttl = 1800;
    cfg->argon2_opslimit = 2;          /* OWASP's minimum for Argon2id */
    cfg->argon2_memlimit_kib = 19456;  /* 19 MiB */
    strcpy(cfg->redis_host, "127.0.0.1");
    cfg->redis_port = 6379;
    cfg->redis_connect_timeout_ms = 200;
    cfg->redis_timeout_ms = 200;
    strcpy(cfg->redis_prefix, "roost:");
    cfg->cache_ttl = 300;
    strcpy(cfg->catalog.name, "catalog");
    strcpy(cfg->catalog.host, "127.0.0.1");
    cfg->catalog.port = 3306;
    cfg->catalog.connect_timeout = 1;
    cfg->catalog.timeout = 2;
    cfg->shard_count = 4096;
}

/* Every logical shard must belong to exactly one server. */
static int check_shard_map(const rst_config *cfg, char *err, size_t errlen)
{
    if (cfg->nranges == 0) {
        snprintf(err, errlen, "no [shard NAME] section with a range: the shard map is empty");
        return -1;
    }
    for (unsigned s = 0; s < cfg->shard_count; s++) {
        int owners = 0;
        for (int i = 0; i < cfg->nranges; i++)
            if (s >= cfg->ranges[i].first && s <= cfg->ranges[i].last)
                owners++;
        if (owners != 1) {
            snprintf(err, errlen, "shard map: logical shard %u is %s", s,
                     owners == 0 ? "not assigned to any [shard] section" : "assigned more than once");
            return -1;
        }
    }
    for (int i = 0; i < cfg->nranges; i++) {
        if (cfg->ranges[i].last >= cfg->shard_count) {
            snprintf(err, errlen, "[shard %s] range: %u-%u goes past [shards] count = %u",
                     cfg->shard_servers[cfg->ranges[i].server].name,
                     cfg->ranges[i].first, cfg->ranges[i].last, cfg->shard_count);
            return -1;
        }
    }
    for (int i = 0; i < cfg->nshard_servers; i++) {
        if (cfg->shard_servers[i].database[0] == '\0') {
            snprintf(err, errlen, "[shard %s] database: missing", cfg->shard_servers[i].name);
            return -1;
        }
    }
    return 0;
}

static int check_required(const rst_config *cfg, char *err, size_t errlen)
{
    if (cfg->catalog.database[0] == '\0') {
        snprintf(err, errlen, "[catalog] database: missing");
        return -1;
    }
    /* Each worker slot mints ids with its own generator; there are two
     * slots per worker (a recycling worker drains beside its successor). */
    if (cfg->generator_base + 2 * cfg->workers > 96) {
        snprintf(err, errlen, "[roostd] generator_base + 2 x workers must be at most 96 "
                 "(96..126 are the seeder's, 127 is roostctl's)");
        return -1;
    }
    return check_shard_map(cfg, err, errlen);
}

static int finish_load(load_ctx *ctx, int rc, const char *where, char *err, size_t errlen)
{
    if (rc == -1) {
        snprintf(err, errlen, "%s: cannot open: %s", where, strerror(errno));
        return -1;
    }
    if (rc == -2) {
        snprintf(err, errlen, "%s: out of memory", where);
        return -1;
    }
    if (rc > 0) {
        snprintf(err, errlen, "%s:%d: %s", where, rc,
                 ctx->err[0] ? ctx->err : "syntax error");
        return -1;
    }
    return check_required(ctx->cfg, err, errlen);
}

int rst_config_load(rst_config *cfg, const char *path, char *err, size_t errlen)
{
    load_ctx ctx = { .cfg = cfg };
    set_defaults(cfg);
    const char *slash = strrchr(path, '/');
    if (slash != NULL) {
        size_t n = (size_t)(slash - path);
        if (n >= sizeof(cfg->dir)) {
            snprintf(err, errlen, "%s: path too long", path);
            return -1;
        }
        memcpy(cfg->dir, path, n);
        cfg->dir[n] = '\0';
        if (n == 0)
            strcpy(cfg->dir, "/");
    } else {
        strcpy(cfg->dir, ".");
    }
    return finish_load(&ctx, ini_parse(path, on_key, &ctx), path, err, errlen);
}

int rst_config_load_string(rst_config *cfg, const char *text, char *err, size_t errlen)
{
    load_ctx ctx = { .cfg = cfg };
    set_defaults(cfg);
    return finish_load(&ctx, ini_parse_string(text, on_key, &ctx), "<string>", err, errlen);
}
