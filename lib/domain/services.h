/* services.h -- the long-lived resources a worker's services share.
 *
 * One rst_services per worker process: config, shard map, one lazy
 * connection per database server, the Redis cache, the id generator and
 * the derived keys. Opened once at worker start, closed once at exit;
 * request code borrows from it and never frees any of it. */
#ifndef ROOST_SERVICES_H
#define ROOST_SERVICES_H

#include "auth/password.h"
#include "auth/throttle.h"
#include "core/config.h"
#include "core/ids.h"
#include "core/secret.h"
#include "store/cache.h"
#include "store/db.h"
#include "store/shardmap.h"

typedef struct {
    const rst_config *cfg;
    rst_shardmap      map;
    rst_db           *catalog;
    rst_db           *shards[RST_MAX_SERVERS];
    int               nshards;
    rst_cache        *cache;
    rst_idgen         ids;
    rst_secrets       secrets;
    rst_pw_params     pw;
    rst_throttle      throttle;  /* sign-in limits when Redis is down */
} rst_services;

/* 0 on success; -1 (out of memory or a bad generator number). Nothing
 * connects here: connections open on first use. */
int  rst_services_open(rst_services *s, const rst_config *cfg,
                       const rst_secrets *secrets, unsigned generator);
void rst_services_close(rst_services *s);

/* The server holding a logical shard / an id's shard; NULL outside the map. */
rst_db *rst_services_shard_db(rst_services *s, unsigned shard);
rst_db *rst_services_db_for_id(rst_services *s, uint64_t id);

#endif
