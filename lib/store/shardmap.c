/* shardmap.c -- the logical shard map (see shardmap.h). */
#include <stdio.h>
#include <string.h>

#include "core/ids.h"
#include "store/shardmap.h"

/* FNV-1a over the bytes of s, into h. */
static uint64_t fnv(uint64_t h, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* Which servers the indexes of owner[] name: a map made for another list
 * of servers must not be used with this one's connections. */
static uint64_t servers_hash(const rst_config *cfg)
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < cfg->nshard_servers; i++) {
        const rst_db_conf *c = &cfg->shard_servers[i];
        char port[16];
        int n = snprintf(port, sizeof(port), ":%d/", c->port);
        h = fnv(h, c->name, strlen(c->name) + 1);
        h = fnv(h, c->host, strlen(c->host) + 1);
        h = fnv(h, port, (size_t)n);
        h = fnv(h, c->socket, strlen(c->socket) + 1);
        h = fnv(h, c->database, strlen(c->database) + 1);
    }
    return h;
}

void rst_shardmap_build(rst_shardmap *m, const rst_config *cfg)
{
    memset(m, 0, sizeof(*m));
    m->count = cfg->shard_count;
    m->nservers = cfg->nshard_servers;
    m->servers = servers_hash(cfg);
    for (unsigned s = 0; s < 4096; s++)
        m->owner[s] = -1;
    for (int i = 0; i < cfg->nranges; i++)
        for (unsigned s = cfg->ranges[i].first; s <= cfg->ranges[i].last && s < 4096; s++)
            m->owner[s] = (short)cfg->ranges[i].server;
    for (int i = 0; i < cfg->nfenced; i++)
        for (unsigned s = cfg->fenced[i].first; s <= cfg->fenced[i].last && s < 4096; s++)
            m->fenced[s] = 1;
}

int rst_shardmap_fenced(const rst_shardmap *m, unsigned shard)
{
    return shard < m->count && m->fenced[shard];
}

int rst_shardmap_server(const rst_shardmap *m, unsigned shard)
{
    if (shard >= m->count)
        return -1;
    return m->owner[shard];
}

int rst_shardmap_server_for_id(const rst_shardmap *m, uint64_t id)
{
    return rst_shardmap_server(m, rst_id_shard(id));
}

unsigned rst_shard_for_name(const rst_shardmap *m, const char *name_lc)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)name_lc; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return (unsigned)(h % m->count);
}
