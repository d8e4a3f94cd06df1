/* cache.c -- Redis access with a per-worker circuit breaker (see cache.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "core/log.h"
#include "core/timefmt.h"
#include "store/cache.h"

#define BREAKER_MIN_MS 250
#define BREAKER_MAX_MS 4000
#define DEFAULT_ADD_TTL_S 86400

struct rst_cache {
    const rst_config *cfg;
    redisContext     *ctx;
    uint64_t          retry_at_ms;   /* breaker open until then */
    unsigned          backoff_ms;
    int               demoted;       /* a write was refused with READONLY: reconnect */
    int               sentinel;      /* the sentinel that answered last */
    char              master[280];   /* "host:port" the sentinels named last, for the log */
    struct {                         /* scripts loaded on this connection */
        const char *body;
        char        sha[41];
    } scripts[RST_SCRIPTS_MAX];
    int               nscripts;
    int               no_scripts;    /* the server refused SCRIPT LOAD */
};

rst_cache *rst_cache_new(const rst_config *cfg)
{
    rst_cache *c = calloc(1, sizeof(*c));
    if (c != NULL)
        c->cfg = cfg;
    return c;
}

static void drop(rst_cache *c)
{
    if (c->ctx != NULL) {
        redisFree(c->ctx);
        c->ctx = NULL;
    }
    c->nscripts = 0;                 /* another server may not know them */
    c->no_scripts = 0;
}

void rst_cache_free(rst_cache *c)
{
    if (c == NULL)
        return;
    drop(c);
    free(c);
}

const char *rst_cache_prefix(const rst_cache *c) { return c->cfg->redis_prefix; }

int rst_cache_breaker_open(const rst_cache *c)
{
    return c->retry_at_ms != 0 && rst_time_mono_ms() < c->retry_at_ms;
}

/* ------------------------------------------------------------ breaker */

static struct timeval ms_to_tv(int ms)
{
    struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
    return tv;
}

static void trip(rst_cache *c, const char *why)
{
    drop(c);
    c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : BREAKER_MIN_MS;
    if (c->backoff_ms > BREAKER_MAX_MS)
        c->backoff_ms = BREAKER_MAX_MS;
    /* Log the transition only, not every refused call. */
    if (c->retry_at_ms == 0)
        rst_log_warn("redis unavailable (%s); serving from MariaDB", why);
    c->retry_at_ms = rst_time_mono_ms() + c->backoff_ms;
}

static void healthy(rst_cache *c)
{
    if (c->retry_at_ms != 0)
        rst_log_info("redis is back");
    c->retry_at_ms = 0;
    c->backoff_ms = 0;
}

/* One command as an argument vector on a context of our own (sentinels,
 * ROLE), outside the breaker. */
static redisReply *ask(redisContext *ctx, int argc, const char **argv)
{
    size_t lens[4];
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    return redisCommandArgv(ctx, argc, argv, lens);
}

static redisContext *open_context(const rst_config *cfg, const char *host, int port)
{
    struct timeval ct = ms_to_tv(cfg->redis_connect_timeout_ms);
    redisContext *ctx = host == NULL ? redisConnectUnixWithTimeout(cfg->redis_socket, ct)
                                     : redisConnectWithTimeout(host, port, ct);
    if (ctx != NULL && !ctx->err && redisSetTimeout(ctx, ms_to_tv(cfg->redis_timeout_ms)) == REDIS_OK)
        return ctx;
    return ctx;                          /* the caller checks ctx->err */
}

/* The master's address from the first sentinel that knows it, starting
 * with the one that answered last. 0, or -1 when none does. */
static int ask_sentinels(rst_cache *c, char *host, size_t hlen, int *port)
{
    const rst_config *cfg = c->cfg;
    const char *argv[] = { "SENTINEL", "get-master-addr-by-name", cfg->redis_sentinel_master };
    for (int k = 0; k < cfg->redis_nsentinels; k++) {
        int i = (c->sentinel + k) % cfg->redis_nsentinels;
        redisContext *s = open_context(cfg, cfg->redis_sentinel_host[i], cfg->redis_sentinel_port[i]);
        if (s == NULL || s->err) {
            if (s != NULL)
                redisFree(s);
            continue;
        }
        redisReply *r = ask(s, 3, argv);
        int ok = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
                 r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING &&
                 r->element[0]->len < hlen;
        if (ok) {
            memcpy(host, r->element[0]->str, r->element[0]->len + 1);
            char *end;
            long p = strtol(r->element[1]->str, &end, 10);
            ok = *end == '\0' && p > 0 && p < 65536;
            *port = (int)p;
        }
        if (r != NULL)
            freeReplyObject(r);
        redisFree(s);
        if (ok) {
            c->sentinel = i;
            return 0;
        }
    }
    return -1;
}

/* A sentinel's answer may be a moment old: the server must say it is the
 * master itself, or writes would land on (and be refused by) a replica. */
static int is_master(redisContext *ctx)
{
    const char *argv[] = { "ROLE" };
    redisReply *r = ask(ctx, 1, argv);
    int yes = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
              r->element[0]->type == REDIS_REPLY_STRING && strcmp(r->element[0]->str, "master") == 0;
    if (r != NULL)
        freeReplyObject(r);
    return yes;
}

/* With sentinels: the master they name, checked. */
static redisContext *connect_master(rst_cache *c, char *why, size_t wlen)
{
    char host[256];
    int port;
    if (ask_sentinels(c, host, sizeof(host), &port) != 0) {
        snprintf(why, wlen, "no sentinel names master '%s'", c->cfg->redis_sentinel_master);
        return NULL;
    }
    char where[sizeof(c->master)];
    snprintf(where, sizeof(where), "%s:%d", host, port);
    if (strcmp(where, c->master) != 0) {
        rst_log_info("redis master '%s' is %s (from the sentinels)", c->cfg->redis_sentinel_master, where);
        memcpy(c->master, where, sizeof(where));
    }
    redisContext *ctx = open_context(c->cfg, host, port);
    if (ctx == NULL || ctx->err) {
        snprintf(why, wlen, "connect %.100s: %.120s", where, ctx ? ctx->errstr : "out of memory");
    } else if (!is_master(ctx)) {
        snprintf(why, wlen, "%.100s is not the master (yet)", where);
    } else {
        return ctx;
    }
    if (ctx != NULL)
        redisFree(ctx);
    return NULL;
}

static int connect_cache(rst_cache *c)
{
    if (c->ctx != NULL)
        return 0;
    const rst_config *cfg = c->cfg;
    char why[300] = "";
    redisContext *ctx;
    if (cfg->redis_nsentinels > 0) {
        ctx = connect_master(c, why, sizeof(why));
    } else {
        ctx = open_context(cfg, cfg->redis_socket[0] ? NULL : cfg->redis_host, cfg->redis_port);
        if (ctx == NULL || ctx->err) {
            snprintf(why, sizeof(why), "connect: %s", ctx ? ctx->errstr : "out of memory");
            if (ctx != NULL)
                redisFree(ctx);
            ctx = NULL;
        }
    }
    if (ctx == NULL) {
        trip(c, why);
        return -1;
    }
    c->ctx = ctx;
    return 0;
}

/* 1 when a command may be sent: the breaker is closed and a context is
 * connected (or was just made). */
static int ready(rst_cache *c)
{
    if (c->demoted) {
        c->demoted = 0;
        trip(c, "the server refused a write with READONLY: it is no longer the master");
    }
    return !rst_cache_breaker_open(c) && connect_cache(c) == 0;
}

/* A master demoted by a failover answers writes with READONLY: the
 * connection is dropped before the next command (replies of a batch may
 * still be pending on it now). */
static void note_readonly(rst_cache *c, const redisReply *r)
{
    if (r->type == REDIS_REPLY_ERROR && r->str != NULL && strncmp(r->str, "READONLY", 8) == 0)
        c->demoted = 1;
}

/* Every reply passes here: no reply means the context is broken. */
static redisReply *checked(rst_cache *c, redisReply *r)
{
    if (r == NULL) {
        char why[160];
        snprintf(why, sizeof(why), "%s", c->ctx ? c->ctx->errstr : "no connection");
        trip(c, why);
        return NULL;
    }
    note_readonly(c, r);
    healthy(c);
    return r;
}

/* ------------------------------------------------------------ commands */

void rst_cmd_init(rst_cmd *cmd, const char *name)
{
    cmd->argc = 0;
    cmd->overflow = 0;
    rst_cmd_str(cmd, name, strlen(name));
}

void rst_cmd_str(rst_cmd *cmd, const char *s, size_t len)
{
    if (cmd->argc == RST_CMD_MAX_ARGS) {
        cmd->overflow = 1;
        return;
    }
    cmd->argv[cmd->argc] = s;
    cmd->lens[cmd->argc] = len;
    cmd->argc++;
}

/* A key that did not fit the builder has length 0: the command must not
 * go out with an empty key in its place. */
void rst_cmd_key(rst_cmd *cmd, const rst_key *k)
{
    if (k->len == 0)
        cmd->overflow = 1;
    rst_cmd_str(cmd, k->s, k->len);
}

void rst_cmd_int(rst_cmd *cmd, long long v)
{
    if (cmd->argc == RST_CMD_MAX_ARGS) {
        cmd->overflow = 1;
        return;
    }
    char *buf = cmd->nums[cmd->argc];
    int n = snprintf(buf, sizeof(cmd->nums[0]), "%lld", v);
    rst_cmd_str(cmd, buf, (size_t)n);
}

/* hiredis's argv calls skip its format-string parsing, a sizeable part of
 * a cached read. */
redisReply *rst_cache_run(rst_cache *c, const rst_cmd *cmd)
{
    if (cmd->overflow || !ready(c))
        return NULL;
    /* hiredis takes non-const vectors but only reads them. */
    return checked(c, redisCommandArgv(c->ctx, cmd->argc, (const char **)cmd->argv, cmd->lens));
}

/* ------------------------------------------------------------ scripts */

/* The slot of a loaded script, or -1. */
static int script_slot(const rst_cache *c, const char *body)
{
    for (int i = 0; i < c->nscripts; i++)
        if (c->scripts[i].body == body)
            return i;
    return -1;
}

/* SCRIPT LOAD: the script's slot, or -1 (unavailable, or refused). */
static int script_load(rst_cache *c, const char *body)
{
    int i = script_slot(c, body);
    if (i < 0 && c->nscripts == RST_SCRIPTS_MAX)
        return -1;
    rst_cmd cmd;
    rst_cmd_init(&cmd, "SCRIPT");
    rst_cmd_str(&cmd, "LOAD", 4);
    rst_cmd_str(&cmd, body, strlen(body));
    redisReply *r = rst_cache_run(c, &cmd);
    if (r == NULL)
        return -1;
    if (r->type != REDIS_REPLY_STRING || r->len != 40) {
        if (!c->no_scripts)
            rst_log_warn("redis refuses scripts (%s): plain commands instead",
                         r->type == REDIS_REPLY_ERROR ? r->str : "an odd reply to SCRIPT LOAD");
        c->no_scripts = 1;
        freeReplyObject(r);
        return -1;
    }
    if (i < 0)
        i = c->nscripts++;
    c->scripts[i].body = body;
    memcpy(c->scripts[i].sha, r->str, 41);
    freeReplyObject(r);
    return i;
}

static redisReply *script_run(rst_cache *c, int slot, const rst_cmd *args)
{
    rst_cmd cmd;
    rst_cmd_init(&cmd, "EVALSHA");
    rst_cmd_str(&cmd, c->scripts[slot].sha, 40);
    for (int i = 0; i < args->argc; i++)
        rst_cmd_str(&cmd, args->argv[i], args->lens[i]);
    cmd.overflow |= args->overflow;
    return rst_cache_run(c, &cmd);
}

redisReply *rst_cache_script(rst_cache *c, const char *body, const rst_cmd *args)
{
    if (c->no_scripts && c->ctx != NULL)
        return NULL;
    int slot = script_slot(c, body);
    if (slot < 0 && (slot = script_load(c, body)) < 0)
        return NULL;
    redisReply *r = script_run(c, slot, args);
    if (r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject(r);
        r = (slot = script_load(c, body)) >= 0 ? script_run(c, slot, args) : NULL;
    }
    return r;
}

/* Runs cmd; 0 unless unavailable or an error reply. */
static int run_ok(rst_cache *c, const rst_cmd *cmd)
{
    redisReply *r = rst_cache_run(c, cmd);
    if (r == NULL)
        return -1;
    int rc = r->type == REDIS_REPLY_ERROR ? -1 : 0;
    freeReplyObject(r);
    return rc;
}

/* A string reply copied into the arena: 1 hit, 0 nil, -1 anything else. */
static int take_string(const redisReply *r, rst_arena *a, char **val, size_t *len)
{
    if (r->type == REDIS_REPLY_NIL)
        return 0;
    if (r->type != REDIS_REPLY_STRING)
        return -1;
    *val = rst_arena_strndup(a, r->str, r->len);
    *len = r->len;
    return *val != NULL ? 1 : -1;
}

int rst_cache_get(rst_cache *c, rst_arena *a, const rst_key *k, char **val, size_t *len)
{
    rst_cmd cmd;
    rst_cmd_init(&cmd, "GET");
    rst_cmd_key(&cmd, k);
    redisReply *r = rst_cache_run(c, &cmd);
    if (r == NULL)
        return -1;
    int rc = take_string(r, a, val, len);
    freeReplyObject(r);
    return rc;
}

void rst_cmd_set(rst_cmd *cmd, const rst_key *k, const char *val, size_t len, int ttl, int nx)
{
    rst_cmd_init(cmd, "SET");
    rst_cmd_key(cmd, k);
    rst_cmd_str(cmd, val, len);
    if (ttl > 0) {
        rst_cmd_str(cmd, "EX", 2);
        rst_cmd_int(cmd, ttl);
    }
    if (nx)
        rst_cmd_str(cmd, "NX", 2);
}

int rst_cache_set(rst_cache *c, const rst_key *k, const char *val, size_t len, int ttl)
{
    rst_cmd cmd;
    rst_cmd_set(&cmd, k, val, len, ttl, 0);
    return run_ok(c, &cmd);
}

int rst_cache_add(rst_cache *c, const rst_key *k, const char *val, size_t len, int ttl)
{
    rst_cmd cmd;
    rst_cmd_set(&cmd, k, val, len, ttl > 0 ? ttl : DEFAULT_ADD_TTL_S, 1);
    return run_ok(c, &cmd);
}

int rst_cache_claim(rst_cache *c, const rst_key *k, const char *val, size_t len, int ttl)
{
    rst_cmd cmd;
    rst_cmd_set(&cmd, k, val, len, ttl > 0 ? ttl : DEFAULT_ADD_TTL_S, 1);
    redisReply *r = rst_cache_run(c, &cmd);
    if (r == NULL)
        return -1;
    int rc = r->type == REDIS_REPLY_STATUS ? 1 : r->type == REDIS_REPLY_NIL ? 0 : -1;
    freeReplyObject(r);
    return rc;
}

static int key_command(rst_cache *c, const char *name, const rst_key *k)
{
    rst_cmd cmd;
    rst_cmd_init(&cmd, name);
    rst_cmd_key(&cmd, k);
    return run_ok(c, &cmd);
}

int rst_cache_del(rst_cache *c, const rst_key *k)
{
    return key_command(c, "DEL", k);
}

/* A command whose reply is an integer: 0 and *out, else -1. */
static int integer_command(rst_cache *c, const rst_cmd *cmd, long long *out)
{
    redisReply *r = rst_cache_run(c, cmd);
    if (r == NULL)
        return -1;
    int rc = -1;
    if (r->type == REDIS_REPLY_INTEGER) {
        *out = r->integer;
        rc = 0;
    }
    freeReplyObject(r);
    return rc;
}

int rst_cache_incr(rst_cache *c, const rst_key *k, long long *out)
{
    rst_cmd cmd;
    rst_cmd_init(&cmd, "INCR");
    rst_cmd_key(&cmd, k);
    return integer_command(c, &cmd, out);
}

int rst_cache_expire(rst_cache *c, const rst_key *k, int ttl)
{
    rst_cmd cmd;
    long long set;
    rst_cmd_init(&cmd, "EXPIRE");
    rst_cmd_key(&cmd, k);
    rst_cmd_int(&cmd, ttl);
    return integer_command(c, &cmd, &set);
}

int rst_cache_ttl(rst_cache *c, const rst_key *k, long long *out)
{
    rst_cmd cmd;
    rst_cmd_init(&cmd, "TTL");
    rst_cmd_key(&cmd, k);
    return integer_command(c, &cmd, out);
}

/* ------------------------------------------------------------ batches */

int rst_batch_begin(rst_batch *b, rst_cache *c)
{
    b->c = c;
    b->queued = 0;
    b->taken = 0;
    b->failed = !ready(c);
    return b->failed ? -1 : 0;
}

void rst_batch_add_argv(rst_batch *b, int argc, const char *const *argv, const size_t *lens)
{
    if (b->failed)
        return;
    /* Only fails on out of memory: the context is then unusable. */
    if (redisAppendCommandArgv(b->c->ctx, argc, (const char **)argv, lens) != REDIS_OK) {
        b->failed = 1;
        trip(b->c, "out of memory queueing a command");
        return;
    }
    b->queued++;
}

void rst_batch_add(rst_batch *b, const rst_cmd *cmd)
{
    if (cmd->overflow) {
        /* Keep the reply count in step: queue a harmless command. */
        static const char *ping[] = { "PING" };
        static const size_t ping_len[] = { 4 };
        rst_batch_add_argv(b, 1, ping, ping_len);
        return;
    }
    rst_batch_add_argv(b, cmd->argc, cmd->argv, cmd->lens);
}

redisReply *rst_batch_next(rst_batch *b)
{
    if (b->failed || b->taken >= b->queued)
        return NULL;
    void *reply = NULL;
    if (redisGetReply(b->c->ctx, &reply) != REDIS_OK || reply == NULL) {
        b->failed = 1;
        checked(b->c, NULL);
        return NULL;
    }
    b->taken++;
    note_readonly(b->c, reply);
    healthy(b->c);
    return reply;
}

void rst_batch_end(rst_batch *b)
{
    redisReply *r;
    while ((r = rst_batch_next(b)) != NULL)
        freeReplyObject(r);
}

int rst_cache_mget(rst_cache *c, rst_arena *a, const rst_key *keys, int n,
                   char **vals, size_t *lens)
{
    for (int i = 0; i < n; i++)
        vals[i] = NULL;
    if (n == 0)
        return 0;
    const char **argv = rst_arena_alloc(a, sizeof(char *) * (size_t)(n + 1));
    size_t *alen = rst_arena_alloc(a, sizeof(size_t) * (size_t)(n + 1));
    if (argv == NULL || alen == NULL)
        return -1;
    argv[0] = "MGET";
    alen[0] = 4;
    for (int i = 0; i < n; i++) {
        if (keys[i].len == 0)
            return -1;
        argv[i + 1] = keys[i].s;
        alen[i + 1] = keys[i].len;
    }
    rst_batch b;
    if (rst_batch_begin(&b, c) != 0)
        return -1;
    rst_batch_add_argv(&b, n + 1, argv, alen);
    redisReply *r = rst_batch_next(&b);
    rst_batch_end(&b);
    if (r == NULL)
        return -1;
    int hits = -1;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == (size_t)n) {
        hits = 0;
        for (int i = 0; i < n; i++) {
            int got = take_string(r->element[i], a, &vals[i], &lens[i]);
            if (got != 1)
                vals[i] = NULL;     /* a foreign type is a miss */
            hits += got == 1;
        }
    }
    freeReplyObject(r);
    return hits;
}

/* Every reply of a batch, freed: 0 when all came back and none is an error. */
static int batch_all_ok(rst_batch *b)
{
    int ok = 1, n = b->queued;
    for (int i = 0; i < n; i++) {
        redisReply *r = rst_batch_next(b);
        if (r == NULL || r->type == REDIS_REPLY_ERROR)
            ok = 0;
        if (r != NULL)
            freeReplyObject(r);
    }
    rst_batch_end(b);
    return ok && !b->failed;
}

int rst_cache_write(rst_cache *c, void (*fill)(rst_batch *b, void *arg), void *arg)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        rst_batch b;
        if (c->retry_at_ms != 0)
            c->retry_at_ms = 1;             /* through the breaker, for this call */
        if (rst_batch_begin(&b, c) != 0)
            continue;
        fill(&b, arg);
        if (batch_all_ok(&b))
            return 0;
    }
    return -1;
}

static void add_one(rst_batch *b, void *arg)
{
    rst_batch_add(b, arg);
}

int rst_cache_write_cmd(rst_cache *c, const rst_cmd *cmd)
{
    return rst_cache_write(c, add_one, (void *)cmd);
}

void rst_cache_failpoint_breaker(rst_cache *c, int open)
{
    c->retry_at_ms = open ? rst_time_mono_ms() + BREAKER_MAX_MS : 0;
    c->backoff_ms = 0;
}

/* ------------------------------------------------------------ health */

int rst_cache_ping(rst_cache *c, uint64_t *usec)
{
    uint64_t t0 = rst_time_mono_us();
    rst_cmd cmd;
    rst_cmd_init(&cmd, "PING");
    int had_ctx = c->ctx != NULL;
    c->retry_at_ms = c->retry_at_ms ? 1 : 0;   /* let this one call through */
    int rc = run_ok(c, &cmd);
    /* A kept connection may have died with a Redis restart: the question
     * is whether Redis answers now, so ask once more on a new one. */
    if (rc != 0 && had_ctx) {
        c->retry_at_ms = c->retry_at_ms ? 1 : 0;
        rc = run_ok(c, &cmd);
    }
    if (usec != NULL)
        *usec = rst_time_mono_us() - t0;
    return rc;
}
