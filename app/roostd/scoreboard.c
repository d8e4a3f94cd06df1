/* scoreboard.c -- the shared worker table (see scoreboard.h). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "core/timefmt.h"
#include "roostd/scoreboard.h"

static size_t map_size(int nslots, int nroutes)
{
    return sizeof(rst_scoreboard) + sizeof(rst_slot) * (size_t)nslots +
           sizeof(rst_route_metrics) * (size_t)nroutes;
}

/* The route metrics follow the last slot. */
static rst_route_metrics *route_metrics(const rst_scoreboard *sb)
{
    return (rst_route_metrics *)(void *)&((rst_scoreboard *)sb)->slots[sb->nslots];
}

rst_scoreboard *rst_scoreboard_map(int nslots, int nroutes)
{
    void *p = mmap(NULL, map_size(nslots, nroutes), PROT_READ | PROT_WRITE,
                   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    rst_scoreboard *sb = p;
    memset(sb, 0, map_size(nslots, nroutes));
    sb->nslots = nslots;
    sb->nroutes = nroutes;
    sb->start_ms = rst_time_now_ms();
    sb->start_mono_ms = rst_time_mono_ms();
    sb->master_pid = getpid();
    return sb;
}

void rst_scoreboard_unmap(rst_scoreboard *sb)
{
    if (sb != NULL)
        munmap(sb, map_size(sb->nslots, sb->nroutes));
}

const uint64_t rst_metric_bucket_us[RST_METRIC_BUCKETS - 1] = {
    1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000
};

/* Raises *max to v unless it is already at least v. */
static void atomic_max(uint64_t *max, uint64_t v)
{
    uint64_t cur = __atomic_load_n(max, __ATOMIC_RELAXED);
    while (cur < v && !__atomic_compare_exchange_n(max, &cur, v, 1, __ATOMIC_RELAXED,
                                                   __ATOMIC_RELAXED))
        ;
}

void rst_scoreboard_set_pools(rst_scoreboard *sb, const rst_config *cfg, const int *listen_fds)
{
    sb->npools = cfg->npools;
    for (int i = 0; i < cfg->npools; i++) {
        const rst_pool_conf *c = &cfg->pools[i];
        rst_pool_stats *p = &sb->pools[i];
        snprintf(p->name, sizeof(p->name), "%s", c->name);
        p->listen_fd = listen_fds[i];
        p->pm = c->pm;
        p->max_children = c->max_children;
        p->start_servers = c->start_servers;
        p->min_spare_servers = c->min_spare_servers;
        p->max_spare_servers = c->max_spare_servers;
        p->process_idle_timeout = c->process_idle_timeout;
        p->slow_us = c->request_slowlog_timeout > 0 ? (uint64_t)c->request_slowlog_timeout * 1000000
                                                    : RST_SLOW_REQUEST_US;
    }
}

static rst_pool_stats *pool_of(rst_scoreboard *sb, const rst_slot *s)
{
    return &sb->pools[s->pool >= 0 && s->pool < sb->npools ? s->pool : 0];
}

void rst_slot_busy(rst_scoreboard *sb, rst_slot *s, const char *method, const char *path,
                   uint64_t now_ms, int exiting)
{
    rst_pool_stats *p = pool_of(sb, s);
    snprintf(s->method, sizeof(s->method), "%s", method);
    snprintf(s->path, sizeof(s->path), "%s", path);
    s->route[0] = s->request_id[0] = '\0';
    /* active first: a worker killed in between then leaves it one too high
     * (harmless) rather than letting the reset take it below zero. */
    uint64_t active = __atomic_add_fetch(&sb->active, 1, __ATOMIC_RELAXED);
    uint64_t pactive = __atomic_add_fetch(&p->active, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&s->busy_since_ms, now_ms, __ATOMIC_RELAXED);
    __atomic_store_n(&s->state, exiting ? RST_SLOT_EXITING : RST_SLOT_BUSY, __ATOMIC_RELEASE);
    atomic_max(&sb->max_active, active);
    atomic_max(&p->max_active, pactive);
    if (pactive >= (uint64_t)p->max_children) {
        __atomic_add_fetch(&p->max_reached, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&sb->max_reached, 1, __ATOMIC_RELAXED);
    }
}

void rst_slot_note(rst_slot *s, const char *route, const char *request_id)
{
    if (route != NULL)
        snprintf(s->route, sizeof(s->route), "%s", route);
    if (request_id != NULL)
        snprintf(s->request_id, sizeof(s->request_id), "%s", request_id);
}

void rst_slot_idle(rst_scoreboard *sb, rst_slot *s, uint64_t duration_us, int exiting)
{
    rst_pool_stats *p = pool_of(sb, s);
    __atomic_store_n(&s->last_duration_us, duration_us, __ATOMIC_RELAXED);
    __atomic_add_fetch(&s->requests, 1, __ATOMIC_RELAXED);
    __atomic_store_n(&s->idle_since_ms, rst_time_mono_ms(), __ATOMIC_RELAXED);
    __atomic_store_n(&s->busy_since_ms, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&s->state, exiting ? RST_SLOT_EXITING : RST_SLOT_IDLE, __ATOMIC_RELEASE);
    __atomic_sub_fetch(&sb->active, 1, __ATOMIC_RELAXED);
    __atomic_sub_fetch(&p->active, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&sb->requests, 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&p->requests, 1, __ATOMIC_RELAXED);
    if (duration_us >= RST_SLOW_REQUEST_US)
        __atomic_add_fetch(&sb->slow_requests, 1, __ATOMIC_RELAXED);
    if (duration_us >= p->slow_us)
        __atomic_add_fetch(&p->slow_requests, 1, __ATOMIC_RELAXED);
}

void rst_slot_reset(rst_scoreboard *sb, rst_slot *s)
{
    /* busy_since is set only while a request runs (EXITING ones too). */
    if (__atomic_load_n(&s->busy_since_ms, __ATOMIC_RELAXED) != 0) {
        __atomic_sub_fetch(&sb->active, 1, __ATOMIC_RELAXED);
        __atomic_sub_fetch(&pool_of(sb, s)->active, 1, __ATOMIC_RELAXED);
    }
    s->pid = 0;
    s->busy_since_ms = 0;
    /* The next worker in this slot starts with nothing of its
     * predecessor's: /status (and roostctl top) would show its last route
     * and path as the new worker's. */
    s->requests = 0;
    s->last_duration_us = 0;
    memset(s->method, 0, sizeof(s->method));
    memset(s->path, 0, sizeof(s->path));
    memset(s->route, 0, sizeof(s->route));
    memset(s->request_id, 0, sizeof(s->request_id));
    __atomic_store_n(&s->state, RST_SLOT_EMPTY, __ATOMIC_RELEASE);
}

const rst_route_metrics *rst_metrics_route(const rst_scoreboard *sb, int route)
{
    return route >= 0 && route < sb->nroutes ? &route_metrics(sb)[route] : NULL;
}

void rst_metrics_record(rst_scoreboard *sb, int route, int status, uint64_t duration_us)
{
    if (route < 0 || route >= sb->nroutes)
        return;
    rst_route_metrics *m = &route_metrics(sb)[route];
    int cls = status / 100 - 1;
    if (cls >= 0 && cls < 5)
        __atomic_add_fetch(&m->by_class[cls], 1, __ATOMIC_RELAXED);
    int b = 0;
    while (b < RST_METRIC_BUCKETS - 1 && duration_us > rst_metric_bucket_us[b])
        b++;
    __atomic_add_fetch(&m->buckets[b], 1, __ATOMIC_RELAXED);
    __atomic_add_fetch(&m->sum_us, duration_us, __ATOMIC_RELAXED);
}

void rst_scoreboard_publish_map(rst_scoreboard *sb, const rst_config *cfg)
{
    static rst_shardmap next;                   /* built outside the write window */
    rst_shardmap_build(&next, cfg);
    __atomic_add_fetch(&sb->map_seq, 1, __ATOMIC_ACQ_REL);      /* odd: writing */
    memcpy(&sb->map, &next, sizeof(next));
    __atomic_add_fetch(&sb->map_seq, 1, __ATOMIC_ACQ_REL);      /* even: done */
    __atomic_add_fetch(&sb->map_gen, 1, __ATOMIC_RELEASE);
}

int rst_scoreboard_adopt_map(rst_scoreboard *sb, rst_slot *slot, rst_shardmap *map)
{
    static uint64_t refused_gen;                /* a map of other servers: not asked again */
    uint64_t gen = __atomic_load_n(&sb->map_gen, __ATOMIC_ACQUIRE);
    if (gen == slot->map_gen || gen == refused_gen)
        return 0;
    static rst_shardmap copy;
    for (;;) {
        uint64_t before = __atomic_load_n(&sb->map_seq, __ATOMIC_ACQUIRE);
        if (before & 1)
            continue;                           /* the master is writing: a few microseconds */
        memcpy(&copy, &sb->map, sizeof(copy));
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&sb->map_seq, __ATOMIC_ACQUIRE) == before)
            break;
    }
    if (copy.servers != map->servers || copy.nservers != map->nservers) {
        /* The reload changed the servers: this (draining) worker keeps its
         * map and its generation, so an operator waiting for the new map
         * waits for it to go (roostctl shard move). */
        refused_gen = gen;
        return 0;
    }
    memcpy(map, &copy, sizeof(copy));
    __atomic_store_n(&slot->map_gen, gen, __ATOMIC_RELEASE);
    return 1;
}
