/* services.c -- opening and closing a worker's shared resources. */
#include <string.h>

#include "domain/services.h"

int rst_services_open(rst_services *s, const rst_config *cfg,
                      const rst_secrets *secrets, unsigned generator)
{
    memset(s, 0, sizeof(*s));
    s->cfg = cfg;
    if (secrets != NULL)
        s->secrets = *secrets;
    rst_shardmap_build(&s->map, cfg);
    rst_pw_params_init(&s->pw, (unsigned long long)cfg->argon2_opslimit,
                       (size_t)cfg->argon2_memlimit_kib * 1024);
    if (rst_idgen_init(&s->ids, generator) != 0)
        return -1;
    s->catalog = rst_db_new(&cfg->catalog);
    s->cache = rst_cache_new(cfg);
    if (s->catalog == NULL || s->cache == NULL)
        goto fail;
    for (int i = 0; i < cfg->nshard_servers; i++) {
        s->shards[i] = rst_db_new(&cfg->shard_servers[i]);
        if (s->shards[i] == NULL)
            goto fail;
        s->nshards++;
    }
    return 0;
fail:
    rst_services_close(s);
    return -1;
}

void rst_services_close(rst_services *s)
{
    rst_db_free(s->catalog);
    s->catalog = NULL;
    for (int i = 0; i < s->nshards; i++)
        rst_db_free(s->shards[i]);
    s->nshards = 0;
    rst_cache_free(s->cache);
    s->cache = NULL;
}

rst_db *rst_services_shard_db(rst_services *s, unsigned shard)
{
    int server = rst_shardmap_server(&s->map, shard);
    return server < 0 ? NULL : s->shards[server];
}

rst_db *rst_services_db_for_id(rst_services *s, uint64_t id)
{
    return rst_services_shard_db(s, rst_id_shard(id));
}
