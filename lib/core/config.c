/* config.c -- reading roost.conf with libinih into rst_config (see config.h).
 *
 * inih goes on parsing after a bad key and returns only the line of the
 * first error, so each problem is recorded here with its own line: the
 * lines are fed to inih by our own reader, which counts them, and a line
 * inih took without calling us is checked on its own for a syntax error. */
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "core/ids.h"
#include "core/log.h"

/* Problems kept for the message; any past these are counted. */
#define MAX_PROBLEMS 16

typedef struct {
    int  line;
    char msg[256];
} problem;

typedef struct {
    rst_config *cfg;
    FILE       *file;            /* the input: a file, */
    const char *text;            /* or what is left of a string */
    int         line;            /* the line inih is working on, from 1 */
    int         took_key;        /* inih called on_key for that line */
    char        text_of_line[512];
    int         nproblems;       /* all found, kept or not */
    problem     problems[MAX_PROBLEMS];
} load_ctx;

/* Records a problem on the current line; returns 0, inih's "bad key". */
static int bad(load_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(load_ctx *ctx, const char *fmt, ...)
{
    if (ctx->nproblems < MAX_PROBLEMS) {
        problem *p = &ctx->problems[ctx->nproblems];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
        va_end(ap);
        p->line = ctx->line;
    }
    ctx->nproblems++;
    return 0;
}

static int accept_any_key(void *user, const char *section, const char *name, const char *value)
{
    (void)user, (void)section, (void)name, (void)value;
    return 1;
}

/* inih only tells the first error of a parse. The line it just took was
 * blank, a comment, a section, a key (then on_key ran), or bad: parsed
 * alone, only a bad one is an error. */
static void check_syntax_of_line(load_ctx *ctx)
{
    if (ctx->line > 0 && !ctx->took_key &&
        ini_parse_string(ctx->text_of_line, accept_any_key, NULL) != 0)
        bad(ctx, "syntax error");
}

/* ------------------------------------------------------------ line readers */

/* One line of the string into buf (fgets-style); NULL at the end. */
static char *next_string_line(load_ctx *ctx, char *buf, int cap, int *cut)
{
    const char *t = ctx->text;
    if (*t == '\0')
        return NULL;
    size_t len = strcspn(t, "\n");
    size_t whole = len + (t[len] == '\n');
    size_t copy = whole < (size_t)cap - 1 ? whole : (size_t)cap - 1;
    *cut = len > (size_t)cap - 1;
    memcpy(buf, t, copy);
    buf[copy] = '\0';
    ctx->text = t + whole;
    return buf;
}

/* One line of the file into buf; the rest of a line longer than buf is
 * read and dropped. */
static char *next_file_line(load_ctx *ctx, char *buf, int cap, int *cut)
{
    *cut = 0;
    if (fgets(buf, cap, ctx->file) == NULL)
        return NULL;
    size_t n = strlen(buf);
    if (n > 0 && buf[n - 1] == '\n')
        return buf;
    int c;
    while ((c = fgetc(ctx->file)) != EOF && c != '\n')
        *cut = 1;
    return buf;
}

/* inih's reader: hands it one whole line at a time and counts them, so a
 * problem found in a key handler knows its line. A line longer than inih's
 * buffer would reach it in pieces, the rest parsed as lines of their own:
 * it is a problem, and inih sees a blank line instead. */
static char *read_line(char *buf, int cap, void *stream)
{
    load_ctx *ctx = stream;
    int cut = 0;
    check_syntax_of_line(ctx);
    char *got = ctx->file ? next_file_line(ctx, buf, cap, &cut)
                          : next_string_line(ctx, buf, cap, &cut);
    if (got == NULL)
        return NULL;
    ctx->line++;
    ctx->took_key = 0;
    if (cut) {
        bad(ctx, "line too long (at most %d characters)", cap - 2);
        strcpy(buf, "\n");
    }
    snprintf(ctx->text_of_line, sizeof(ctx->text_of_line), "%s", buf);
    return buf;
}

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

/* "credential:NAME" names a systemd credential (LoadCredential=NAME:...):
 * the file NAME in $CREDENTIALS_DIRECTORY when systemd set it, else the
 * file NAME beside the config file -- where the unit loads it from, so the
 * same roost.conf works for roostd under systemd and for roostctl or
 * `roostd -t` run by hand. Anything else is a path (copy_path). */
#define CREDENTIAL_PREFIX "credential:"

static int copy_secret_path(const rst_config *cfg, char *dst, size_t cap, const char *v)
{
    size_t plen = strlen(CREDENTIAL_PREFIX);
    if (strncmp(v, CREDENTIAL_PREFIX, plen) != 0)
        return copy_path(cfg, dst, cap, v);
    const char *name = v + plen;
    if (name[0] == '\0' || strchr(name, '/') != NULL || strcmp(name, ".") == 0 ||
        strcmp(name, "..") == 0)
        return -1;
    const char *dir = getenv("CREDENTIALS_DIRECTORY");
    if (dir == NULL || dir[0] == '\0')
        dir = cfg->dir[0] ? cfg->dir : ".";
    int n = snprintf(dst, cap, "%s/%s", dir, name);
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

#define BAD(ctx, ...) return bad((ctx), __VA_ARGS__)
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

/* A pool's keys, in [roostd] (the pool "main") and in [pool NAME]: inih's
 * answer (1 good, 0 bad) when `name` is one of them, -1 when it is not. */
static int on_pool_key(load_ctx *ctx, rst_pool_conf *p, const char *section,
                       const char *name, const char *value)
{
    rst_config *cfg = ctx->cfg;
    if (strcmp(name, "listen") == 0) {
        int r = listen_is_path(value) ? copy_path(cfg, p->listen, sizeof(p->listen), value)
                                      : copy_str(p->listen, sizeof(p->listen), value);
        if (r != 0 || value[0] == '\0')
            BAD(ctx, "[%s] listen: must be a unix socket path or host:port", section);
        return 1;
    }
    if (strcmp(name, "pm") == 0) {
        int pm;
        for (pm = RST_PM_STATIC; pm <= RST_PM_ONDEMAND; pm++)
            if (strcmp(value, rst_pm_name(pm)) == 0)
                break;
        if (pm > RST_PM_ONDEMAND)
            BAD(ctx, "[%s] pm: must be static, dynamic or ondemand", section);
        p->pm = pm;
        return 1;
    }
    INT_KEY("listen_backlog", p->listen_backlog, 1, 65535)
    /* `workers` is the name roost used before pools had pm modes. */
    INT_KEY("workers", p->max_children, 1, RST_MAX_CHILDREN)
    INT_KEY("max_children", p->max_children, 1, RST_MAX_CHILDREN)
    INT_KEY("start_servers", p->start_servers, 0, RST_MAX_CHILDREN)
    INT_KEY("min_spare_servers", p->min_spare_servers, 0, RST_MAX_CHILDREN)
    INT_KEY("max_spare_servers", p->max_spare_servers, 0, RST_MAX_CHILDREN)
    INT_KEY("process_idle_timeout", p->process_idle_timeout, 1, 86400)
    INT_KEY("max_requests", p->max_requests, 0, INT_MAX)
    INT_KEY("process_priority", p->process_priority, -19, 19)
    /* `request_timeout`: the name before pools. */
    INT_KEY("request_timeout", p->request_terminate_timeout, 1, 3600)
    INT_KEY("request_terminate_timeout", p->request_terminate_timeout, 1, 3600)
    INT_KEY("request_slowlog_timeout", p->request_slowlog_timeout, 0, 3600)
    PATH_KEY("slowlog", p->slowlog)
    /* libfcgi closes connections with select(): descriptors must stay
     * below FD_SETSIZE (1024), with room for the database sockets. */
    INT_KEY("max_conns_per_worker", p->max_conns_per_worker, 1, 512)
    return -1;
}

static int on_roostd(load_ctx *ctx, const char *section, const char *name, const char *value)
{
    rst_config *cfg = ctx->cfg;
    int r = on_pool_key(ctx, &cfg->pools[0], section, name, value);
    if (r >= 0)
        return r;
    INT_KEY("generator_base", cfg->generator_base, 0, (int)RST_ID_GEN_ROOSTD - 2)
    INT_KEY("emergency_restart_threshold", cfg->emergency_restart_threshold, 0, 1000)
    INT_KEY("emergency_restart_interval", cfg->emergency_restart_interval, 1, 86400)
    PATH_KEY("log_file", cfg->log_file)
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

static void pool_defaults(rst_pool_conf *p, const char *name)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->listen_backlog = 511;
    p->pm = RST_PM_STATIC;
    p->max_children = 4;
    p->process_idle_timeout = 10;
    p->max_requests = 10000;
    p->request_terminate_timeout = 30;
    p->max_conns_per_worker = 64;
    p->process_priority = RST_PRIORITY_INHERIT;
}

/* [pool NAME]: found or added (after "main", which [roostd] holds). */
static rst_pool_conf *pool_named(rst_config *cfg, const char *pname)
{
    for (int i = 0; i < cfg->npools; i++)
        if (strcmp(cfg->pools[i].name, pname) == 0)
            return &cfg->pools[i];
    if (cfg->npools == RST_MAX_POOLS || strlen(pname) >= sizeof(cfg->pools[0].name))
        return NULL;
    rst_pool_conf *p = &cfg->pools[cfg->npools++];
    pool_defaults(p, pname);
    p->listen[0] = '\0';                /* required: no default socket */
    return p;
}

/* Pool names go into metrics labels and log lines: keep them plain. */
static int pool_name_ok(const char *n)
{
    if (*n == '\0')
        return 0;
    for (; *n; n++)
        if (!((*n >= 'a' && *n <= 'z') || (*n >= '0' && *n <= '9') || *n == '_' || *n == '-'))
            return 0;
    return 1;
}

static int on_pool(load_ctx *ctx, const char *pname, const char *section,
                   const char *name, const char *value)
{
    if (!pool_name_ok(pname) || strcmp(pname, "main") == 0)
        BAD(ctx, "[%s]: a pool name is a-z 0-9 _ - (\"main\" is [roostd]'s)", section);
    rst_pool_conf *p = pool_named(ctx->cfg, pname);
    if (p == NULL)
        BAD(ctx, "[%s]: at most %d pools, names under 32 characters", section, RST_MAX_POOLS);
    int r = on_pool_key(ctx, p, section, name, value);
    if (r >= 0)
        return r;
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
    if (strcmp(name, "secret_file") == 0) {
        if (copy_secret_path(cfg, cfg->secret_file, sizeof(cfg->secret_file), value) != 0)
            BAD(ctx, "[%s] secret_file: must be a path or credential:NAME (too long?)", section);
        return 1;
    }
    INT_KEY("token_ttl", cfg->token_ttl, 60, 86400 * 30)
    INT_KEY("argon2_opslimit", cfg->argon2_opslimit, 2, 100)
    INT_KEY("argon2_memlimit_kib", cfg->argon2_memlimit_kib, 19456, 4 * 1024 * 1024)
    BAD(ctx, "[%s] %s: unknown key", section, name);
}

/* "HOST:PORT HOST:PORT ...": the sentinels to ask for the master. */
static int parse_sentinels(rst_config *cfg, const char *v)
{
    char buf[1024];
    if (copy_str(buf, sizeof(buf), v) != 0)
        return -1;
    cfg->redis_nsentinels = 0;
    char *save = NULL;
    for (char *t = strtok_r(buf, " \t,", &save); t != NULL; t = strtok_r(NULL, " \t,", &save)) {
        char *colon = strrchr(t, ':');
        int n = cfg->redis_nsentinels;
        if (n == RST_MAX_SENTINELS || colon == NULL || colon == t)
            return -1;
        *colon = '\0';
        if (parse_int(colon + 1, 1, 65535, &cfg->redis_sentinel_port[n]) != 0 ||
            copy_str(cfg->redis_sentinel_host[n], sizeof(cfg->redis_sentinel_host[n]), t) != 0)
            return -1;
        cfg->redis_nsentinels++;
    }
    return cfg->redis_nsentinels > 0 ? 0 : -1;
}

static int on_redis(load_ctx *ctx, const char *section, const char *name, const char *value)
{
    rst_config *cfg = ctx->cfg;
    if (strcmp(name, "sentinels") == 0) {
        if (parse_sentinels(cfg, value) != 0)
            BAD(ctx, "[%s] sentinels: must be 1 to %d HOST:PORT separated by spaces", section,
                RST_MAX_SENTINELS);
        return 1;
    }
    STR_KEY("sentinel_master", cfg->redis_sentinel_master)
    STR_KEY("host", cfg->redis_host)
    INT_KEY("port", cfg->redis_port, 1, 65535)
    PATH_KEY("socket", cfg->redis_socket)
    INT_KEY("connect_timeout_ms", cfg->redis_connect_timeout_ms, 1, 60000)
    INT_KEY("timeout_ms", cfg->redis_timeout_ms, 1, 60000)
    STR_KEY("prefix", cfg->redis_prefix)
    INT_KEY("cache_ttl", cfg->cache_ttl, 1, 86400 * 7)
    INT_KEY("hot_cache_ms", cfg->hot_cache_ms, 0, 1000)
    INT_KEY("hot_cache_kib", cfg->hot_cache_kib, 64, 65536)
    BAD(ctx, "[%s] %s: unknown key", section, name);
}

static int on_timeline(load_ctx *ctx, const char *section, const char *name, const char *value)
{
    rst_config *cfg = ctx->cfg;
    INT_KEY("fanout_max_followers", cfg->fanout_max_followers, 0, 100000000)
    BAD(ctx, "[%s] %s: unknown key", section, name);
}

/* "HOST:PORT" or "HOST:PORT weight=N" (the host may be an IPv6 address in
 * brackets), or the replica's unix socket, an absolute path, instead of
 * HOST:PORT. */
static int parse_replica(const char *v, rst_replica_conf *r)
{
    char buf[300];
    if (copy_str(buf, sizeof(buf), v) != 0)
        return -1;
    r->weight = 1;
    char *sp = strpbrk(buf, " \t");
    if (sp != NULL) {
        *sp++ = '\0';
        sp += strspn(sp, " \t");
        if (strncmp(sp, "weight=", 7) != 0 || parse_int(sp + 7, 1, 100, &r->weight) != 0)
            return -1;
    }
    if (buf[0] == '/')
        return copy_str(r->db.socket, sizeof(r->db.socket), buf);
    char *colon = strrchr(buf, ':');
    if (colon == NULL || colon == buf || parse_int(colon + 1, 1, 65535, &r->db.port) != 0)
        return -1;
    *colon = '\0';
    char *host = buf;
    size_t n = strlen(host);
    if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
        host[n - 1] = '\0';
        host++;
    }
    return copy_str(r->db.host, sizeof(r->db.host), host);
}

/* Records a replica of `primary` (a shard server index, -1: the catalog). */
static int add_replica(load_ctx *ctx, int primary, const char *section, const char *value)
{
    rst_config *cfg = ctx->cfg;
    if (cfg->nreplicas == RST_MAX_REPLICAS)
        BAD(ctx, "[%s] replica: too many replicas (at most %d)", section, RST_MAX_REPLICAS);
    rst_replica_conf *r = &cfg->replicas[cfg->nreplicas];
    memset(r, 0, sizeof(*r));
    r->primary = primary;
    if (parse_replica(value, r) != 0)
        BAD(ctx, "[%s] replica: must be HOST:PORT or a socket path, optionally with weight=N "
            "(N from 1 to 100)", section);
    cfg->nreplicas++;
    return 1;
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
        if (copy_secret_path(cfg, path, sizeof(path), value) != 0)
            BAD(ctx, "[%s] password_file: must be a path or credential:NAME (too long?)", section);
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
    if (strcmp(name, "replica") == 0)
        return add_replica(ctx, index, section, value);
    return on_db(ctx, db, section, name, value);
}

int rst_config_parse_fenced(rst_config *cfg, const char *value)
{
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", value);
    cfg->nfenced = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ", \t", &save); tok != NULL;
         tok = strtok_r(NULL, ", \t", &save)) {
        rst_shard_range r = { 0, 0, -1 };
        if (cfg->nfenced == RST_MAX_RANGES || parse_range(tok, &r.first, &r.last) != 0)
            return -1;
        cfg->fenced[cfg->nfenced++] = r;
    }
    return 0;
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
    if (strcmp(name, "fenced") == 0) {
        if (rst_config_parse_fenced(ctx->cfg, value) != 0)
            BAD(ctx, "[%s] fenced: must be logical shards or ranges (\"1024-2047, 3000\")",
                section);
        return 1;
    }
    if (strcmp(name, "map") == 0) {
        if (strcmp(value, "file") != 0 && strcmp(value, "catalog") != 0)
            BAD(ctx, "[%s] map: must be file or catalog", section);
        ctx->cfg->map_catalog = strcmp(value, "catalog") == 0;
        return 1;
    }
    BAD(ctx, "[%s] %s: unknown key", section, name);
}

static int on_replication(load_ctx *ctx, const char *section, const char *name,
                          const char *value)
{
    rst_config *cfg = ctx->cfg;
    INT_KEY("max_replica_lag", cfg->max_replica_lag, 1, 3600)
    BAD(ctx, "[%s] %s: unknown key", section, name);
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
    load_ctx *ctx = user;
    ctx->took_key = 1;
    if (strcmp(section, "roostd") == 0)
        return on_roostd(ctx, section, name, value);
    if (strcmp(section, "roostctl") == 0)
        return on_roostctl(ctx, section, name, value);
    if (strcmp(section, "security") == 0)
        return on_security(ctx, section, name, value);
    if (strcmp(section, "redis") == 0)
        return on_redis(ctx, section, name, value);
    if (strcmp(section, "timeline") == 0)
        return on_timeline(ctx, section, name, value);
    if (strcmp(section, "catalog") == 0)
        return strcmp(name, "replica") == 0 ? add_replica(ctx, -1, section, value)
                                            : on_db(ctx, &ctx->cfg->catalog, section, name, value);
    if (strcmp(section, "replication") == 0)
        return on_replication(ctx, section, name, value);
    if (strcmp(section, "shards") == 0)
        return on_shards(ctx, section, name, value);
    if (strncmp(section, "shard ", 6) == 0 && section[6] != '\0')
        return on_shard(ctx, section + 6, section, name, value);
    if (strncmp(section, "pool ", 5) == 0)
        return on_pool(ctx, section + 5, section, name, value);
    BAD(ctx, "[%s]: unknown section", section);
}

/* ------------------------------------------------------------ load */

static void set_defaults(rst_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    pool_defaults(&cfg->pools[0], "main");
    strcpy(cfg->pools[0].listen, "127.0.0.1:9000");
    cfg->npools = 1;
    cfg->generator_base = 0;
    cfg->emergency_restart_threshold = 0;
    cfg->emergency_restart_interval = 60;
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
    cfg->hot_cache_ms = 1000;
    cfg->hot_cache_kib = 4096;
    strcpy(cfg->redis_sentinel_master, "roost");
    cfg->fanout_max_followers = 10000;
    strcpy(cfg->catalog.name, "catalog");
    strcpy(cfg->catalog.host, "127.0.0.1");
    cfg->catalog.port = 3306;
    cfg->catalog.connect_timeout = 1;
    cfg->catalog.timeout = 2;
    cfg->shard_count = 4096;
    cfg->max_replica_lag = 5;
}

/* A replica connects as its primary does (the primary's section may name
 * its password_file after the replica line, so this runs at the end); its
 * name says whose it is and where, for logs, roostctl and /metrics. */
static void finish_replicas(rst_config *cfg)
{
    for (int i = 0; i < cfg->nreplicas; i++) {
        rst_replica_conf *r = &cfg->replicas[i];
        const rst_db_conf *p = r->primary < 0 ? &cfg->catalog : &cfg->shard_servers[r->primary];
        rst_db_conf own = r->db;
        r->db = *p;
        memcpy(r->db.host, own.host, sizeof(own.host));
        r->db.port = own.port;
        memcpy(r->db.socket, own.socket, sizeof(own.socket));
        /* Cut to fit: a name is for people, the address is in the config. */
        char where[RST_PATH_MAX];
        rst_db_conf_address(&own, where, sizeof(where));
        snprintf(r->db.name, sizeof(r->db.name), "%.16s replica %.37s", p->name, where);
    }
}

int rst_config_check_shard_map(const rst_config *cfg, char *err, size_t errlen)
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
    for (int i = 0; i < cfg->nfenced; i++) {
        if (cfg->fenced[i].last >= cfg->shard_count) {
            snprintf(err, errlen, "[shards] fenced: %u-%u goes past [shards] count = %u",
                     cfg->fenced[i].first, cfg->fenced[i].last, cfg->shard_count);
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

const char *rst_pm_name(int pm)
{
    switch (pm) {
    case RST_PM_DYNAMIC:  return "dynamic";
    case RST_PM_ONDEMAND: return "ondemand";
    default:              return "static";
    }
}

int rst_config_slots(const rst_config *cfg)
{
    int n = 0;
    for (int i = 0; i < cfg->npools; i++)
        n += 2 * cfg->pools[i].max_children;
    return n;
}

/* php-fpm's rules for the spare bounds, with its defaults when unset:
 * min_spare <= start <= max_spare <= max_children. */
static int check_pool(rst_pool_conf *p, char *err, size_t errlen)
{
    char where[48];
    if (strcmp(p->name, "main") == 0)
        snprintf(where, sizeof(where), "[roostd]");
    else
        snprintf(where, sizeof(where), "[pool %s]", p->name);
    if (p->listen[0] == '\0') {
        snprintf(err, errlen, "%s listen: missing", where);
        return -1;
    }
    if (p->pm != RST_PM_DYNAMIC)
        return 0;
    if (p->min_spare_servers == 0)
        p->min_spare_servers = 1;
    if (p->max_spare_servers == 0)
        p->max_spare_servers = p->max_children < 3 ? p->max_children : 3;
    if (p->start_servers == 0)
        p->start_servers = p->min_spare_servers + (p->max_spare_servers - p->min_spare_servers) / 2;
    if (p->min_spare_servers > p->max_spare_servers || p->max_spare_servers > p->max_children) {
        snprintf(err, errlen, "%s pm = dynamic: need min_spare_servers (%d) <= max_spare_servers "
                 "(%d) <= max_children (%d)", where, p->min_spare_servers,
                 p->max_spare_servers, p->max_children);
        return -1;
    }
    if (p->start_servers < p->min_spare_servers || p->start_servers > p->max_spare_servers) {
        snprintf(err, errlen, "%s start_servers (%d) must be from min_spare_servers (%d) to "
                 "max_spare_servers (%d)", where, p->start_servers, p->min_spare_servers,
                 p->max_spare_servers);
        return -1;
    }
    return 0;
}

static int check_pools(rst_config *cfg, char *err, size_t errlen)
{
    for (int i = 0; i < cfg->npools; i++) {
        if (check_pool(&cfg->pools[i], err, errlen) != 0)
            return -1;
        for (int j = 0; j < i; j++)
            if (strcmp(cfg->pools[i].listen, cfg->pools[j].listen) == 0) {
                snprintf(err, errlen, "[pool %s] listen: the same socket as pool %s",
                         cfg->pools[i].name, cfg->pools[j].name);
                return -1;
            }
    }
    /* Each worker slot mints ids with its own generator; there are two
     * slots per worker (a recycling worker drains beside its successor). */
    if (cfg->generator_base + rst_config_slots(cfg) > (int)RST_ID_GEN_ROOSTD) {
        snprintf(err, errlen, "[roostd] generator_base + 2 x the max_children of every pool "
                 "must be at most %u (%d now; the generators above are the seeder's and "
                 "roostctl's)", RST_ID_GEN_ROOSTD, cfg->generator_base + rst_config_slots(cfg));
        return -1;
    }
    return 0;
}

static int check_required(rst_config *cfg, char *err, size_t errlen)
{
    if (cfg->catalog.database[0] == '\0') {
        snprintf(err, errlen, "[catalog] database: missing");
        return -1;
    }
    if (check_pools(cfg, err, errlen) != 0)
        return -1;
    return rst_config_check_shard_map(cfg, err, errlen);
}

/* Every problem, one "where:line: message" line each, in file order. */
static void describe_problems(const load_ctx *ctx, const char *where, char *err, size_t errlen)
{
    size_t used = 0;
    err[0] = '\0';
    for (int i = 0; i < ctx->nproblems && i < MAX_PROBLEMS; i++) {
        int n = snprintf(err + used, errlen - used, "%s%s:%d: %s", i ? "\n" : "", where,
                         ctx->problems[i].line, ctx->problems[i].msg);
        if (n < 0 || (size_t)n >= errlen - used) {
            err[used] = '\0';          /* no half lines */
            return;
        }
        used += (size_t)n;
    }
    if (ctx->nproblems > MAX_PROBLEMS)
        snprintf(err + used, errlen - used, "\n%s: %d more problems not shown", where,
                 ctx->nproblems - MAX_PROBLEMS);
}

static int finish_load(load_ctx *ctx, int rc, const char *where, char *err, size_t errlen)
{
    if (rc == -2) {
        snprintf(err, errlen, "%s: out of memory", where);
        return -1;
    }
    if (rc > 0 && ctx->nproblems == 0) {
        ctx->line = rc;                  /* an error our reader did not see */
        bad(ctx, "syntax error");
    }
    if (ctx->nproblems > 0) {
        describe_problems(ctx, where, err, errlen);
        return -1;
    }
    finish_replicas(ctx->cfg);
    return check_required(ctx->cfg, err, errlen);
}

void rst_db_conf_address(const rst_db_conf *c, char *out, size_t len)
{
    if (c->socket[0] != '\0')
        snprintf(out, len, "%s", c->socket);
    else
        snprintf(out, len, "%s:%d", c->host, c->port);
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
    ctx.file = fopen(path, "r");
    if (ctx.file == NULL) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    int rc = ini_parse_stream(read_line, &ctx, on_key, &ctx);
    fclose(ctx.file);
    return finish_load(&ctx, rc, path, err, errlen);
}

int rst_config_load_string(rst_config *cfg, const char *text, char *err, size_t errlen)
{
    load_ctx ctx = { .cfg = cfg, .text = text };
    set_defaults(cfg);
    return finish_load(&ctx, ini_parse_stream(read_line, &ctx, on_key, &ctx), "<string>",
                       err, errlen);
}
