/* master.c -- forking, watching and replacing the workers of every pool.
 *
 * The master does no request work, so it can afford to be simple: every
 * signal is blocked and read from a signalfd, in one poll() with the
 * listen sockets of ondemand pools, and at least once a second it manages
 * each pool (php-fpm's pm: static, dynamic, ondemand), kills a worker
 * stuck on one request past request_terminate_timeout and writes the slow
 * log for requests past request_slowlog_timeout.
 *
 * Each pool has a target: how many of its workers should serve. static
 * keeps max_children; dynamic starts at start_servers and moves between
 * its spare bounds; ondemand starts at none, forks one when a connection
 * waits and no worker of the pool is idle, and retires a worker idle for
 * process_idle_timeout. A worker that recycles (max_requests) or is
 * retired does not exit at once: it stops accepting and drains its kept
 * FastCGI connections until nginx closes them, and tells the master
 * (SIG_DRAINING), which forks a replacement straight away when the pool
 * is short -- so there are two slots per serving worker, and a draining
 * worker never costs capacity. SIGHUP reloads the configuration the same
 * way: every worker drains while a successor with the new configuration
 * takes its place. A worker that dies soon after it started is replaced
 * after a growing delay, so a crash loop (say, a broken library) does not
 * spin the CPU; emergency_restart_threshold crashes within
 * emergency_restart_interval replace every worker (php-fpm's rule). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "api/app.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "roostd/master.h"
#include "roostd/scoreboard.h"
#include "roostd/worker.h"
#include "store/catmap.h"
#include "store/genclaim.h"

#define QUICK_DEATH_MS   2000
#define BACKOFF_START_MS 100
#define BACKOFF_MAX_MS   30000
#define MANAGE_EVERY_MS  1000
#define MAX_SPAWN_RATE   32          /* dynamic: forks a tick at most (php-fpm's) */
#define MAX_CRASHES      64          /* remembered for the emergency restart */

typedef struct {
    pid_t    pid;              /* 0 when the slot is free */
    int      pool;
    int      retiring;         /* told to drain by pm: not one of the pool's */
    uint64_t started_ms;
    uint64_t slowlogged;       /* busy_since of the request already in the slow log */
} worker_slot;

typedef struct {
    int      target;           /* serving workers wanted */
    int      spawn_rate;       /* dynamic: forks next tick, doubling while short */
    FILE    *slowlog;          /* NULL: the slow log goes to roostd's log */
} pool_run;

typedef struct {
    const rst_config  *cfg;
    const rst_secrets *secrets;
    rst_config        *loaded_cfg;      /* owned copies after a reload */
    rst_secrets       *loaded_secrets;
    rst_secrets       *caller_secrets;  /* wiped once a reload replaces them */
    const char        *conf_path;
    const int         *listen_fds;      /* one per pool */
    int                sigfd;
    rst_scoreboard    *sb;
    worker_slot       *slots;
    int                nslots;
    pool_run           pools[RST_MAX_POOLS];
    int                stopping;
    uint64_t           spawn_after_ms;  /* crash-loop back-off: no forks before */
    unsigned           backoff_ms;
    uint64_t           crashes[MAX_CRASHES];   /* ring of crash times, monotonic ms */
    int                ncrashes;
    char               owner[400];      /* this roostd's name in generator_claims */
    int                claimed;         /* the catalog holds our claim */
    int                ever_claimed;    /* it did once: a row of ours may be there */
    uint64_t           next_claim_ms;   /* monotonic: when to renew (or retry) it */
    /* [shards] map = catalog (store/catmap.h) */
    rst_config        *map_cfg;         /* owned: the running config with the catalog's map */
    rst_catmap         catmap;          /* the catalog's map in effect (generation 0: none) */
    uint64_t           catmap_sb_gen;   /* the scoreboard generation that carries it */
    uint64_t           catmap_refused;  /* a generation that did not fit: logged once */
    int64_t            catmap_told;     /* the generation reported in our claim, -1: none */
    int                catmap_down;     /* the catalog did not answer: logged once */
    uint64_t           next_catmap_ms;
    uint64_t           next_report_ms;  /* after a report the catalog refused */
    uint64_t           catmap_read_ms;  /* the last answer of the catalog; 0: none yet */
    int                blind;           /* every write fenced: the catalog is out of reach */
    rst_shard_range    own_fenced[RST_MAX_RANGES];   /* the fence before that */
    int                own_nfenced;
} master;

/* ------------------------------------------------------------ slots */

static int slot_of(const master *m, pid_t pid)
{
    for (int i = 0; i < m->nslots; i++)
        if (m->slots[i].pid == pid)
            return i;
    return -1;
}

static int slot_state(const master *m, int i)
{
    return __atomic_load_n(&m->sb->slots[i].state, __ATOMIC_ACQUIRE);
}

typedef struct {
    int serving;               /* running, not draining, not retiring */
    int idle;                  /* of those, waiting for a request */
    int starting;              /* forked, not yet ready */
    int running;               /* every process, draining ones too */
} pool_census;

static pool_census census(const master *m, int pool)
{
    pool_census c = { 0, 0, 0, 0 };
    for (int i = 0; i < m->nslots; i++) {
        const worker_slot *w = &m->slots[i];
        if (w->pid == 0 || w->pool != pool)
            continue;
        c.running++;
        int st = slot_state(m, i);
        if (st == RST_SLOT_EXITING || w->retiring)
            continue;
        c.serving++;
        c.idle += st == RST_SLOT_IDLE;
        c.starting += st == RST_SLOT_EMPTY;
    }
    return c;
}

static int running_total(const master *m)
{
    int n = 0;
    for (int i = 0; i < m->nslots; i++)
        n += m->slots[i].pid != 0;
    return n;
}

/* The listen sockets a worker of another pool has no business holding. */
static void close_other_listeners(const master *m, int pool)
{
    for (int p = 0; p < m->cfg->npools; p++)
        if (p != pool)
            close(m->listen_fds[p]);
    close(m->sigfd);
}

static int spawn(master *m, int pool)
{
    /* A slot's number is its worker's id generator (after generator_base):
     * slots stop below RST_ID_GEN_ROOSTD - generator_base. */
    int limit = m->nslots - m->cfg->generator_base;
    int i = 0;
    while (i < limit && m->slots[i].pid != 0)
        i++;
    if (i == limit) {
        rst_log_error("pool %s: no free worker slot (%d in use)", m->cfg->pools[pool].name, limit);
        return -1;
    }
    rst_slot_reset(m->sb, &m->sb->slots[i]);
    m->sb->slots[i].pool = pool;
    m->sb->slots[i].idle_since_ms = rst_time_mono_ms();
    pid_t pid = fork();
    if (pid < 0) {
        rst_log_error("fork worker %d: %s", i, strerror(errno));
        return -1;
    }
    if (pid == 0) {
        close_other_listeners(m, pool);
        rst_worker_args args = { m->cfg, m->secrets, &m->cfg->pools[pool], pool,
                                 m->listen_fds[pool], i, m->sb };
        rst_worker_run(&args);
    }
    worker_slot *w = &m->slots[i];
    memset(w, 0, sizeof(*w));
    w->pid = pid;
    w->pool = pool;
    w->started_ms = rst_time_mono_ms();
    m->sb->slots[i].pid = pid;
    __atomic_add_fetch(&m->sb->pools[pool].spawned, 1, __ATOMIC_RELAXED);
    return 0;
}

/* Forks until each pool's target serves, unless a crash loop holds us back. */
static void fill_pools(master *m)
{
    if (m->stopping || rst_time_mono_ms() < m->spawn_after_ms)
        return;
    for (int p = 0; p < m->cfg->npools; p++) {
        pool_census c = census(m, p);
        for (int k = c.serving; k < m->pools[p].target; k++)
            if (spawn(m, p) != 0)
                return;
    }
}

/* ------------------------------------------------------------ pm */

/* Asks the idle worker of `pool` that has waited longest, if it waited at
 * least min_idle_ms, to drain and exit; 1 when one was asked. */
static int retire_idlest(master *m, int pool, uint64_t min_idle_ms)
{
    uint64_t now = rst_time_mono_ms(), longest = 0;
    int pick = -1;
    for (int i = 0; i < m->nslots; i++) {
        const worker_slot *w = &m->slots[i];
        if (w->pid == 0 || w->pool != pool || w->retiring || slot_state(m, i) != RST_SLOT_IDLE)
            continue;
        uint64_t since = __atomic_load_n(&m->sb->slots[i].idle_since_ms, __ATOMIC_RELAXED);
        uint64_t idle = now > since ? now - since : 0;
        if (idle >= min_idle_ms && (pick < 0 || idle > longest)) {
            pick = i;
            longest = idle;
        }
    }
    if (pick < 0 || kill(m->slots[pick].pid, SIGUSR2) != 0)
        return 0;
    m->slots[pick].retiring = 1;
    m->pools[pool].target--;
    __atomic_add_fetch(&m->sb->pools[pool].retired, 1, __ATOMIC_RELAXED);
    rst_log_info("pool %s: retiring worker %d (pid %d), idle %llu ms", m->cfg->pools[pool].name,
                 pick, (int)m->slots[pick].pid, (unsigned long long)longest);
    return 1;
}

/* php-fpm's dynamic rule, once a tick: fork when fewer than
 * min_spare_servers are idle (1, 2, 4 ... 32 a tick while it stays short),
 * retire one when more than max_spare_servers are, once it has been idle
 * process_idle_timeout. */
static void manage_dynamic(master *m, int p)
{
    const rst_pool_conf *pc = &m->cfg->pools[p];
    pool_run *r = &m->pools[p];
    pool_census c = census(m, p);
    int idle = c.idle + c.starting;       /* a starting worker will be idle */
    if (idle < pc->min_spare_servers && r->target < pc->max_children) {
        int n = pc->min_spare_servers - idle;
        if (n > r->spawn_rate)
            n = r->spawn_rate;
        if (n > pc->max_children - r->target)
            n = pc->max_children - r->target;
        r->target += n;
        if (r->spawn_rate < MAX_SPAWN_RATE)
            r->spawn_rate *= 2;
        return;
    }
    r->spawn_rate = 1;
    if (c.idle > pc->max_spare_servers)
        retire_idlest(m, p, (uint64_t)pc->process_idle_timeout * 1000);
}

static void manage_ondemand(master *m, int p)
{
    const rst_pool_conf *pc = &m->cfg->pools[p];
    while (retire_idlest(m, p, (uint64_t)pc->process_idle_timeout * 1000))
        ;
}

/* ondemand: a connection waits on the listen socket. Fork one worker when
 * none of the pool is idle or about to be. */
static void ondemand_connection(master *m, int p)
{
    pool_census c = census(m, p);
    if (c.idle > 0 || c.starting > 0 || m->pools[p].target >= m->cfg->pools[p].max_children)
        return;
    m->pools[p].target++;
    fill_pools(m);
}

/* Whether the master should watch pool p's socket: ondemand, and a new
 * connection would find no worker ready for it. */
static int watch_listen(const master *m, int p)
{
    if (m->cfg->pools[p].pm != RST_PM_ONDEMAND || m->stopping)
        return 0;
    pool_census c = census(m, p);
    return c.idle == 0 && c.starting == 0 && m->pools[p].target < m->cfg->pools[p].max_children;
}

static void set_targets(master *m)
{
    for (int p = 0; p < m->cfg->npools; p++) {
        const rst_pool_conf *pc = &m->cfg->pools[p];
        m->pools[p].spawn_rate = 1;
        m->pools[p].target = pc->pm == RST_PM_STATIC  ? pc->max_children
                           : pc->pm == RST_PM_DYNAMIC ? pc->start_servers
                                                      : 0;
    }
}

/* ------------------------------------------------------------ slow log, stuck workers */

static void open_slowlogs(master *m)
{
    for (int p = 0; p < m->cfg->npools; p++) {
        pool_run *r = &m->pools[p];
        if (r->slowlog != NULL)
            fclose(r->slowlog);
        r->slowlog = NULL;
        const char *path = m->cfg->pools[p].slowlog;
        if (path[0] == '\0')
            continue;
        r->slowlog = fopen(path, "ae");
        if (r->slowlog == NULL)
            rst_log_error("pool %s: slowlog %s: %s; slow requests go to this log",
                          m->cfg->pools[p].name, path, strerror(errno));
        else
            setvbuf(r->slowlog, NULL, _IOLBF, 0);
    }
}

static void close_slowlogs(master *m)
{
    for (int p = 0; p < RST_MAX_POOLS; p++)
        if (m->pools[p].slowlog != NULL) {
            fclose(m->pools[p].slowlog);
            m->pools[p].slowlog = NULL;
        }
}

/* One line per request past request_slowlog_timeout, while it still runs
 * (a request that hangs is the one worth knowing about): the pool, the
 * worker, the request id nginx and roostd's log share, the route. */
static void slowlog_line(master *m, int i, uint64_t ran_ms)
{
    const rst_slot *s = &m->sb->slots[i];
    const worker_slot *w = &m->slots[i];
    char method[sizeof(s->method)], path[sizeof(s->path)], route[sizeof(s->route)],
         rid[sizeof(s->request_id)];
    memcpy(method, s->method, sizeof(method));
    memcpy(path, s->path, sizeof(path));
    memcpy(route, s->route, sizeof(route));
    memcpy(rid, s->request_id, sizeof(rid));
    method[sizeof(method) - 1] = path[sizeof(path) - 1] = route[sizeof(route) - 1] =
        rid[sizeof(rid) - 1] = '\0';
    const char *pool = m->cfg->pools[w->pool].name;
    FILE *f = m->pools[w->pool].slowlog;
    if (f != NULL) {
        char t[RST_TIME_LEN];
        rst_time_format(rst_time_now_ms(), t);
        fprintf(f, "%s pool=%s worker=%d pid=%d request_id=%s route=%s %s %s running=%.1fs\n", t,
                pool, i, (int)w->pid, rid[0] ? rid : "-", route[0] ? route : "-", method, path,
                ran_ms / 1000.0);
    } else {
        rst_log_warn("slow: pool %s worker %d (pid %d): request %s %s %s (%s) running for %.1f s",
                     pool, i, (int)w->pid, rid[0] ? rid : "-", method, path,
                     route[0] ? route : "-", ran_ms / 1000.0);
    }
}

/* A request that runs past request_terminate_timeout holds a worker
 * hostage: kill it (the master replaces it), like php-fpm's. nginx sees
 * the connection close and answers 502 with the API's JSON body. */
static void watch_requests(master *m)
{
    uint64_t now = rst_time_mono_ms();
    for (int i = 0; i < m->nslots; i++) {
        worker_slot *w = &m->slots[i];
        rst_slot *s = &m->sb->slots[i];
        uint64_t since = __atomic_load_n(&s->busy_since_ms, __ATOMIC_RELAXED);
        /* since > now: the worker stamped it after we read the clock. */
        if (w->pid == 0 || since == 0 || since > now)
            continue;
        const rst_pool_conf *pc = &m->cfg->pools[w->pool];
        uint64_t ran = now - since;
        if (pc->request_slowlog_timeout > 0 && ran >= (uint64_t)pc->request_slowlog_timeout * 1000 &&
            w->slowlogged != since) {
            w->slowlogged = since;
            slowlog_line(m, i, ran);
        }
        if (ran < (uint64_t)pc->request_terminate_timeout * 1000)
            continue;
        rst_log_error("pool %s worker %d (pid %d) stuck on request %s %s %s for %llu s "
                      "(request_terminate_timeout): killing it", pc->name, i, (int)w->pid,
                      s->request_id[0] ? s->request_id : "-", s->method, s->path,
                      (unsigned long long)(ran / 1000));
        if (kill(w->pid, SIGKILL) == 0)    /* reaped, and replaced, on its SIGCHLD */
            __atomic_add_fetch(&m->sb->pools[w->pool].killed, 1, __ATOMIC_RELAXED);
    }
}

/* ------------------------------------------------------------ reload */

/* Derived keys must not outlive their use in freed heap memory. */
static void free_secrets(rst_secrets *sec)
{
    if (sec == NULL)
        return;
    sodium_memzero(sec, sizeof(*sec));
    free(sec);
}

/* A config error has a line per bad key: one log line each. */
static void log_reload_problems(const char *err)
{
    const char *p = err;
    for (;;) {
        size_t n = strcspn(p, "\n");
        rst_log_error("reload: %.*s", (int)n, p);
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
    rst_log_error("reload: keeping the running configuration");
}

/* ------------------------------------------------------------ generator claim */

/* The generator numbers cfg's workers mint with: one per slot. */
static void claim_range(const rst_config *cfg, unsigned *first, unsigned *last)
{
    *first = (unsigned)cfg->generator_base;
    *last = *first + (unsigned)rst_config_slots(cfg) - 1;
}

/* Claims cfg's generator block in the catalog (store/genclaim.h). -1 only
 * when another live roostd holds an overlapping block; a catalog that
 * does not answer is logged and retried at the next renewal. */
static int claim_generators(master *m, const rst_config *cfg, const char *when)
{
    unsigned first, last, now_first, now_last;
    char why[600];
    claim_range(cfg, &first, &last);
    claim_range(m->cfg, &now_first, &now_last);
    if (now_last > last)
        last = now_last;                /* a reload's draining workers mint with theirs a while */
    m->next_claim_ms = rst_time_mono_ms() + RST_CLAIM_BEAT_S * 1000;
    switch (rst_claim_take(&cfg->catalog, m->owner, first, last, getpid(), why, sizeof(why))) {
    case RST_CLAIM_OK:
        if (!m->claimed)
            rst_log_info("generators %u-%u claimed in the catalog as %s", first, last, m->owner);
        m->claimed = m->ever_claimed = 1;
        return 0;
    case RST_CLAIM_TAKEN:
        rst_log_error("%s: %s: two hosts minting with one generator could make the same id; "
                      "give each host a block of its own ([roostd] generator_base)",
                      strcmp(when, "start") == 0 ? "cannot start" : when, why);
        return -1;
    case RST_CLAIM_UNAVAILABLE:
        if (m->claimed || strcmp(when, "renewal") != 0)
            rst_log_warn("generator claim not written at %s (%s); retrying every %d s", when, why,
                         RST_CLAIM_BEAT_S);
        m->claimed = 0;
        return 0;
    }
    return 0;
}

/* Once every RST_CLAIM_BEAT_S: renews the claim. An overlap found now (the
 * other roostd started while the catalog could not hear from this one)
 * can only be reported: both are already minting. */
static void renew_claim(master *m)
{
    if (rst_time_mono_ms() >= m->next_claim_ms)
        claim_generators(m, m->cfg, "renewal");
}

static void release_claim(master *m)
{
    /* Also after failed renewals (the catalog was out of reach a while):
     * the row they could not renew is still ours. */
    if (m->ever_claimed && rst_claim_release(&m->cfg->catalog, m->owner) != 0)
        rst_log_warn("generator claim not given up (the catalog did not answer): it lapses in %d s",
                     RST_CLAIM_STALE_S);
}

/* ------------------------------------------------------------ the catalog's map */

/* A copy of the running configuration, made the running one by
 * run_config (which frees the copy it replaces). NULL on malloc failure. */
static rst_config *copy_config(const master *m)
{
    rst_config *next = malloc(sizeof(*next));
    if (next != NULL)
        *next = *m->cfg;
    return next;
}

static void run_config(master *m, rst_config *next)
{
    rst_config *old = m->map_cfg;
    m->cfg = m->map_cfg = next;
    free(old);
    rst_scoreboard_publish_map(m->sb, next);
    m->catmap_sb_gen = __atomic_load_n(&m->sb->map_gen, __ATOMIC_ACQUIRE);
}

/* Every logical shard fenced in cfg; its own fence kept to put back. */
static void fence_everything(master *m, rst_config *cfg)
{
    memcpy(m->own_fenced, cfg->fenced, sizeof(m->own_fenced));
    m->own_nfenced = cfg->nfenced;
    cfg->fenced[0] = (rst_shard_range){ 0, cfg->shard_count - 1, -1 };
    cfg->nfenced = 1;
}

/* The catalog out of reach for RST_CATMAP_BLIND_MS (catmap.h): writes
 * refused until it answers; the next answer's map is taken whatever its
 * generation. */
static void go_blind(master *m)
{
    rst_config *next = copy_config(m);
    if (next == NULL)
        return;
    fence_everything(m, next);
    run_config(m, next);
    m->blind = 1;
    m->catmap.generation = 0;
    rst_log_error("the catalog's shard map has not been read for %d s: every write is refused "
                  "(503) until the catalog answers, so that none follows a map a shard move has "
                  "left behind", RST_CATMAP_BLIND_MS / 1000);
}

/* The catalog answered again without a map: the file's fence back. */
static void see_again(master *m)
{
    rst_config *next = copy_config(m);
    if (next == NULL)
        return;
    memcpy(next->fenced, m->own_fenced, sizeof(next->fenced));
    next->nfenced = m->own_nfenced;
    run_config(m, next);
    m->blind = 0;
}

/* Puts the catalog's map over cfg (the file's ranges and fence): 0, or
 * -1 (logged once a generation) when it does not fit cfg's servers. */
static int overlay_catmap(master *m, const rst_catmap *map, rst_config *cfg)
{
    char err[512];
    if (rst_catmap_apply(map, cfg, err, sizeof(err)) == 0)
        return 0;
    if (m->catmap_refused != map->generation)
        rst_log_error("shard map generation %llu of the catalog not followed: %s",
                      (unsigned long long)map->generation, err);
    m->catmap_refused = map->generation;
    return -1;
}

/* A newer map from the catalog: the running configuration with it in
 * place of the old, published to the workers as a reload's would be
 * (new workers fork with it). */
static void follow_catmap(master *m, const rst_catmap *map)
{
    rst_config *next = copy_config(m);
    if (next == NULL)
        return;
    if (overlay_catmap(m, map, next) != 0) {
        free(next);
        return;
    }
    run_config(m, next);
    m->catmap = *map;
    m->blind = 0;                        /* its fence is the catalog's */
    rst_log_info("shard map generation %llu from the catalog: %s%s%s",
                 (unsigned long long)map->generation, map->ranges,
                 map->fenced[0] ? "; fenced " : "", map->fenced);
}

/* 1 when every worker routes with the scoreboard's map generation gen. */
static int workers_on(const master *m, uint64_t gen)
{
    for (int i = 0; i < m->nslots; i++)
        if (m->slots[i].pid != 0 && __atomic_load_n(&m->sb->slots[i].map_gen, __ATOMIC_ACQUIRE) < gen)
            return 0;
    return 1;
}

/* Four times a second: a newer generation of the catalog's map is
 * followed; the generation all workers route with goes into our claim
 * (roostctl shard move waits for it). Not at all with map = file. */
static void poll_catmap(master *m)
{
    if (!m->cfg->map_catalog || m->stopping)
        return;
    uint64_t now = rst_time_mono_ms();
    if (now >= m->next_catmap_ms) {
        rst_catmap map;
        char why[600];
        int rc = rst_catmap_read(&m->cfg->catalog, &map, why, sizeof(why));
        if (rc < 0 && !m->catmap_down)
            rst_log_warn("shard map of the catalog not read (%s); the running one stays, retrying "
                         "every %d s", why, RST_CATMAP_RETRY_MS / 1000);
        else if (rc >= 0 && m->catmap_down)
            rst_log_info("shard map of the catalog read again");
        m->catmap_down = rc < 0;
        int was_blind = m->blind;
        if (rc >= 0)
            m->catmap_read_ms = now;
        if (rc == 1 && map.generation > m->catmap.generation && map.generation != m->catmap_refused)
            follow_catmap(m, &map);
        else if (rc == 0 && m->blind)
            see_again(m);
        if (was_blind && !m->blind)
            rst_log_info("the catalog's shard map read again: writes are served");
        if (rc < 0 && !m->blind &&
            (m->catmap_read_ms == 0 || now - m->catmap_read_ms >= RST_CATMAP_BLIND_MS))
            go_blind(m);
        m->next_catmap_ms = now + (rc < 0 ? RST_CATMAP_RETRY_MS : RST_CATMAP_POLL_MS);
    }
    if (!m->claimed || m->catmap_told == (int64_t)m->catmap.generation || m->catmap_down ||
        now < m->next_report_ms || !workers_on(m, m->catmap_sb_gen))
        return;
    if (rst_catmap_report(&m->cfg->catalog, m->owner, m->catmap.generation) == 0) {
        m->catmap_told = (int64_t)m->catmap.generation;
    } else {
        rst_log_warn("shard map generation %llu not reported in the generator claim (is migration "
                     "0004 applied?); retrying in %d s", (unsigned long long)m->catmap.generation,
                     RST_CATMAP_RETRY_MS / 1000);
        m->next_report_ms = now + RST_CATMAP_RETRY_MS;
    }
}

/* What a reload cannot change: the listen sockets are open, and draining
 * workers keep minting ids with their generator numbers. NULL when the new
 * configuration may replace the running one. */
static const char *reload_refusal(const rst_config *now, const rst_config *next)
{
    if (next->generator_base != now->generator_base)
        return "generator_base cannot change while running (restart roostd)";
    if (next->npools != now->npools)
        return "pools cannot be added or removed by a reload (restart roostd)";
    for (int p = 0; p < now->npools; p++)
        if (strcmp(next->pools[p].name, now->pools[p].name) != 0)
            return "pools cannot be renamed or reordered by a reload (restart roostd)";
    return NULL;
}

/* Every worker drains (SIGUSR2) while a successor takes its place. */
static int replace_all_workers(master *m)
{
    int n = 0;
    for (int i = 0; i < m->nslots; i++)
        if (m->slots[i].pid != 0 && kill(m->slots[i].pid, SIGUSR2) == 0) {
            m->slots[i].retiring = 1;
            n++;
        }
    m->backoff_ms = 0;
    m->spawn_after_ms = 0;
    set_targets(m);
    return n;
}

static int total_target(const master *m)
{
    int n = 0;
    for (int p = 0; p < m->cfg->npools; p++)
        n += m->pools[p].target;
    return n;
}

/* SIGHUP: read the configuration and the secret anew; when both are valid
 * and the change is one a running roostd can make, switch to them and
 * replace every worker. Otherwise the running configuration stays, and
 * the log says why. */
static void reload(master *m)
{
    char err[4096];
    rst_config *cfg = malloc(sizeof(*cfg));
    rst_secrets *sec = malloc(sizeof(*sec));
    if (cfg == NULL || sec == NULL ||
        rst_config_load(cfg, m->conf_path, err, sizeof(err)) != 0 ||
        rst_secret_load(cfg->secret_file, sec, err, sizeof(err)) != 0) {
        log_reload_problems(cfg && sec ? err : "out of memory");
        free(cfg);
        free_secrets(sec);               /* may hold keys: a later step failed */
        return;
    }
    const char *why = reload_refusal(m->cfg, cfg);
    if (why == NULL && claim_generators(m, cfg, "reload") != 0)
        why = "its generator block overlaps another roostd's claim (see above)";
    if (why != NULL) {
        log_reload_problems(why);
        free(cfg);
        free_secrets(sec);
        return;
    }
    sd_notify(0, "RELOADING=1");
    for (int p = 0; p < cfg->npools; p++)
        if (strcmp(cfg->pools[p].listen, m->cfg->pools[p].listen) != 0)
            rst_log_warn("reload: pool %s: `listen` changed; the socket stays %s until a restart",
                         cfg->pools[p].name, m->cfg->pools[p].listen);
    /* The sockets keep their running addresses, whatever the file says now. */
    for (int p = 0; p < cfg->npools; p++)
        memcpy(cfg->pools[p].listen, m->cfg->pools[p].listen, sizeof(cfg->pools[p].listen));
    /* A host following the catalog keeps the catalog's map over the
     * file's (the file may be one a move never edited). A generation
     * refused before is tried again on the new file (it may name the
     * server now). */
    m->catmap_refused = 0;
    if (cfg->map_catalog && m->catmap.generation > 0 && overlay_catmap(m, &m->catmap, cfg) != 0)
        m->catmap.generation = 0;        /* not in effect: the next read offers it again */
    if (cfg->map_catalog && m->blind)
        fence_everything(m, cfg);        /* still out of reach of the catalog */
    else
        m->blind = 0;
    rst_config *old_loaded = m->loaded_cfg, *old_map = m->map_cfg;
    m->cfg = m->loaded_cfg = cfg;
    m->map_cfg = NULL;
    /* Workers forked before read the old one until they exit: it was
     * copied into them at fork, so the master's copy can go. */
    free(old_loaded);
    free(old_map);
    free_secrets(m->loaded_secrets);
    if (m->caller_secrets != NULL) {
        sodium_memzero(m->caller_secrets, sizeof(*m->caller_secrets));
        m->caller_secrets = NULL;
    }
    m->secrets = m->loaded_secrets = sec;
    rst_scoreboard_set_pools(m->sb, cfg, m->listen_fds);
    rst_scoreboard_publish_map(m->sb, cfg);      /* every worker routes with it at once */
    m->catmap_sb_gen = __atomic_load_n(&m->sb->map_gen, __ATOMIC_ACQUIRE);
    m->catmap_told = -1;                          /* said again once the workers have it */
    rst_log_setup("master", (rst_log_level)cfg->log_level, cfg->log_timestamps);
    open_slowlogs(m);
    int n = replace_all_workers(m);
    rst_log_info("reload: %s read; replacing %d workers with %d", m->conf_path, n, total_target(m));
    sd_notify(0, "READY=1");
}

/* SIGUSR1: after a log rotation, the master and every worker reopen their
 * log file and the slow logs (each worker reopens its own stderr). */
static void reopen_logs(master *m)
{
    if (m->cfg->log_file[0] != '\0' && rst_log_open_file(m->cfg->log_file) != 0)
        rst_log_error("reopen %s: %s; logging on to the old file", m->cfg->log_file,
                      strerror(errno));
    open_slowlogs(m);
    for (int i = 0; i < m->nslots; i++)
        if (m->slots[i].pid != 0)
            kill(m->slots[i].pid, SIGUSR1);
    rst_log_info("log files reopened");
}

/* ------------------------------------------------------------ exits */

static void describe_exit(int status, char *out, size_t len)
{
    if (WIFSIGNALED(status))
        snprintf(out, len, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(out, len, "exited with code %d", WEXITSTATUS(status));
}

/* A crash, as php-fpm counts them for its emergency restart: a worker
 * killed by a fault of its own, not by us. */
static int is_crash(int status)
{
    if (!WIFSIGNALED(status))
        return 0;
    int sig = WTERMSIG(status);
    return sig == SIGSEGV || sig == SIGBUS || sig == SIGABRT || sig == SIGILL || sig == SIGFPE;
}

/* emergency_restart_threshold crashes within emergency_restart_interval:
 * something shared went bad (a library, a corrupted mapping): replace
 * every worker at once rather than one at a time as they fall. */
static void note_crash(master *m)
{
    int threshold = m->cfg->emergency_restart_threshold;
    if (threshold <= 0)
        return;
    uint64_t now = rst_time_mono_ms();
    m->crashes[m->ncrashes++ % MAX_CRASHES] = now;
    int window = (uint64_t)threshold < MAX_CRASHES ? threshold : MAX_CRASHES;
    if (m->ncrashes < window)
        return;
    uint64_t oldest = m->crashes[(m->ncrashes - window) % MAX_CRASHES];
    if (now - oldest > (uint64_t)m->cfg->emergency_restart_interval * 1000)
        return;
    rst_log_error("%d workers crashed within %d s (emergency_restart_threshold): "
                  "replacing every worker", window, m->cfg->emergency_restart_interval);
    m->ncrashes = 0;
    replace_all_workers(m);
}

/* A worker that died right after it started is likely to again: back off. */
static void note_death(master *m, int i, int status)
{
    uint64_t now = rst_time_mono_ms();
    uint64_t lived = now - m->slots[i].started_ms;
    int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (is_crash(status))
        note_crash(m);
    if (clean || lived >= QUICK_DEATH_MS) {
        m->backoff_ms = 0;
        return;
    }
    m->backoff_ms = m->backoff_ms ? m->backoff_ms * 2 : BACKOFF_START_MS;
    if (m->backoff_ms > BACKOFF_MAX_MS)
        m->backoff_ms = BACKOFF_MAX_MS;
    m->spawn_after_ms = now + m->backoff_ms;
    rst_log_warn("worker %d died %llu ms after it started; next start in %u ms",
                 i, (unsigned long long)lived, m->backoff_ms);
}

/* One child has been waited for: free its slot and say how it ended. */
static void note_exit(master *m, pid_t pid, int status)
{
    int i = slot_of(m, pid);
    if (i < 0)
        return;
    rst_slot_reset(m->sb, &m->sb->slots[i]);
    char why[96];
    describe_exit(status, why, sizeof(why));
    int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    const char *pool = m->cfg->pools[m->slots[i].pool].name;
    if (m->stopping || clean)
        rst_log_info("pool %s worker %d (pid %d) %s", pool, i, (int)pid, clean ? "exited" : why);
    else
        rst_log_error("pool %s worker %d (pid %d) %s", pool, i, (int)pid, why);
    if (!m->stopping)
        note_death(m, i, status);
    m->slots[i].pid = 0;
}

static void reap(master *m)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        note_exit(m, pid, status);
}

/* The last stragglers were sent SIGKILL: wait for each, and account for it
 * like any other exit (a bare waitpid would take it from reap unseen). */
static void reap_blocking(master *m)
{
    while (running_total(m) > 0) {
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid > 0) {
            note_exit(m, pid, status);
        } else if (errno != EINTR) {
            rst_log_error("waitpid: %s; %d workers unaccounted for", strerror(errno),
                          running_total(m));
            return;
        }
    }
}

static int longest_terminate_timeout(const rst_config *cfg)
{
    int t = 0;
    for (int p = 0; p < cfg->npools; p++)
        if (cfg->pools[p].request_terminate_timeout > t)
            t = cfg->pools[p].request_terminate_timeout;
    return t;
}

/* SIGTERM: workers finish what they hold and drain, then exit; stragglers
 * past the longest request timeout are killed. */
static void shutdown_workers(master *m)
{
    m->stopping = 1;
    sd_notify(0, "STOPPING=1");
    rst_log_info("stopping: draining %d workers", running_total(m));
    for (int i = 0; i < m->nslots; i++)
        if (m->slots[i].pid != 0)
            kill(m->slots[i].pid, SIGTERM);
    uint64_t deadline = rst_time_mono_ms() + (uint64_t)longest_terminate_timeout(m->cfg) * 1000 + 1000;
    while (running_total(m) > 0 && rst_time_mono_ms() < deadline) {
        struct pollfd pfd = { .fd = m->sigfd, .events = POLLIN };
        if (poll(&pfd, 1, 100) > 0) {
            struct signalfd_siginfo si;
            while (read(m->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                ;                        /* SIGCHLD, mostly: reaped below */
        }
        reap(m);
    }
    for (int i = 0; i < m->nslots; i++) {
        if (m->slots[i].pid != 0) {
            rst_log_warn("worker %d (pid %d) did not stop in time: killing it", i,
                         (int)m->slots[i].pid);
            kill(m->slots[i].pid, SIGKILL);
        }
    }
    reap_blocking(m);
}

/* ------------------------------------------------------------ the loop */

static void manage_pools(master *m)
{
    for (int p = 0; p < m->cfg->npools; p++) {
        if (m->cfg->pools[p].pm == RST_PM_DYNAMIC)
            manage_dynamic(m, p);
        else if (m->cfg->pools[p].pm == RST_PM_ONDEMAND)
            manage_ondemand(m, p);
    }
    watch_requests(m);
}

/* Reads every pending signal; 1 when told to stop. */
static int take_signals(master *m)
{
    struct signalfd_siginfo si;
    int stop = 0;
    while (read(m->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        int sig = (int)si.ssi_signo;
        if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT)
            stop = 1;
        else if (sig == SIGHUP)
            reload(m);
        else if (sig == SIGUSR1)
            reopen_logs(m);
        /* SIG_DRAINING: a worker began to drain; SIGCHLD: one exited.
         * Either way a pool may be short now: the caller refills. */
    }
    return stop;
}

static void serve_loop(master *m)
{
    uint64_t next_manage = 0;
    for (;;) {
        struct pollfd pfds[1 + RST_MAX_POOLS];
        int pool_of_fd[1 + RST_MAX_POOLS];
        int n = 0;
        pfds[n].fd = m->sigfd;
        pfds[n].events = POLLIN;
        pool_of_fd[n++] = -1;
        for (int p = 0; p < m->cfg->npools; p++)
            if (watch_listen(m, p)) {
                pfds[n].fd = m->listen_fds[p];
                pfds[n].events = POLLIN;
                pool_of_fd[n++] = p;
            }
        uint64_t now = rst_time_mono_ms();
        int wait = next_manage > now ? (int)(next_manage - now) : 0;
        if (m->cfg->map_catalog && wait > RST_CATMAP_POLL_MS / 5)
            wait = RST_CATMAP_POLL_MS / 5;       /* the catalog's map, and our report of it */
        /* A starting ondemand worker soon leaves the socket to itself. */
        for (int p = 0; p < m->cfg->npools; p++)
            if (m->cfg->pools[p].pm == RST_PM_ONDEMAND && census(m, p).starting > 0 && wait > 10)
                wait = 10;
        int rc = poll(pfds, (nfds_t)n, wait);
        if (rc < 0 && errno != EINTR) {
            rst_log_error("poll: %s", strerror(errno));
            return;
        }
        if (rc > 0 && (pfds[0].revents & POLLIN) && take_signals(m))
            return;
        reap(m);
        for (int k = 1; rc > 0 && k < n; k++)
            if (pfds[k].revents & POLLIN)
                ondemand_connection(m, pool_of_fd[k]);
        if (rst_time_mono_ms() >= next_manage) {
            manage_pools(m);
            renew_claim(m);
            next_manage = rst_time_mono_ms() + MANAGE_EVERY_MS;
        }
        poll_catmap(m);
        fill_pools(m);
    }
}

static int open_signalfd(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGCHLD);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGQUIT);
    sigaddset(set, SIGHUP);
    sigaddset(set, SIGUSR1);
    sigaddset(set, SIG_DRAINING);
    /* Blocked here and so in a fresh child until it has its handler: a
     * reload's SIGUSR2 must never kill a worker that is still starting. */
    sigaddset(set, SIGUSR2);
    sigprocmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigset_t mine = *set;
    sigdelset(&mine, SIGUSR2);
    return signalfd(-1, &mine, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void describe_pools(const rst_config *cfg, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (int p = 0; p < cfg->npools && used < len; p++) {
        const rst_pool_conf *pc = &cfg->pools[p];
        int w = snprintf(out + used, len - used, "%spool %s (pm %s, max_children %d) on %s",
                         p ? "; " : "", pc->name, rst_pm_name(pc->pm), pc->max_children, pc->listen);
        if (w < 0)
            return;
        used += (size_t)w;
    }
}

int rst_master_run(const rst_config *cfg, rst_secrets *secrets, const int *listen_fds,
                   const char *conf_path)
{
    master m = { .cfg = cfg, .secrets = secrets, .caller_secrets = secrets,
                 .listen_fds = listen_fds, .conf_path = conf_path, .catmap_told = -1 };
    m.nslots = RST_MAX_SLOTS;
    m.sb = rst_scoreboard_map(m.nslots, rst_app_route_count());
    m.slots = calloc((size_t)m.nslots, sizeof(worker_slot));
    sigset_t set;
    m.sigfd = open_signalfd(&set);
    if (m.sb == NULL || m.slots == NULL || m.sigfd < 0) {
        rst_log_error("cannot allocate the scoreboard or a signalfd");
        if (m.sb != NULL)
            rst_scoreboard_unmap(m.sb);
        free(m.slots);
        return 1;
    }
    rst_claim_owner(conf_path, m.owner, sizeof(m.owner));
    if (claim_generators(&m, cfg, "start") != 0) {
        rst_scoreboard_unmap(m.sb);
        free(m.slots);
        close(m.sigfd);
        return 1;
    }
    rst_scoreboard_set_pools(m.sb, cfg, listen_fds);
    rst_scoreboard_publish_map(m.sb, cfg);
    poll_catmap(&m);                     /* before the first fork: workers start on it */
    open_slowlogs(&m);
    set_targets(&m);
    fill_pools(&m);
    char what[512];
    describe_pools(cfg, what, sizeof(what));
    rst_log_info("ready: %s", what);
    sd_notifyf(0, "READY=1\nSTATUS=%s\nMAINPID=%d", what, (int)getpid());

    serve_loop(&m);
    shutdown_workers(&m);
    release_claim(&m);
    rst_log_info("stopped");
    close(m.sigfd);
    close_slowlogs(&m);
    rst_scoreboard_unmap(m.sb);
    free(m.slots);
    free(m.map_cfg);
    free(m.loaded_cfg);
    free_secrets(m.loaded_secrets);
    if (m.caller_secrets != NULL)
        sodium_memzero(m.caller_secrets, sizeof(*m.caller_secrets));
    return 0;
}
