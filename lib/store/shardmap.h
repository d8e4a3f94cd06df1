/* shardmap.h -- logical shards to physical MariaDB servers (docs/ARCHITECTURE.md §3).
 *
 * The map is built once from the config: an array indexed by logical shard
 * holding the server's index, so routing an id is two shifts and a load.
 * Names map to a logical shard by a stable hash (FNV-1a of the lower-cased
 * name), which must never change once data exists. */
#ifndef ROOST_SHARDMAP_H
#define ROOST_SHARDMAP_H

#include <stdint.h>
#include "core/config.h"

typedef struct {
    unsigned count;                          /* logical shards */
    int      nservers;
    uint64_t servers;                        /* hash of the servers' names and addresses */
    short    owner[4096];                    /* logical shard -> server index */
    unsigned char fenced[4096];              /* 1: writes refused ([shards] fenced) */
} rst_shardmap;

/* Builds the map; the config loader already checked the coverage. */
void rst_shardmap_build(rst_shardmap *m, const rst_config *cfg);

/* Server index for a logical shard / for an id's embedded shard; -1 when
 * the shard number is outside the map. */
int rst_shardmap_server(const rst_shardmap *m, unsigned shard);
int rst_shardmap_server_for_id(const rst_shardmap *m, uint64_t id);

/* 1 while the shard's writes are fenced (its rows are moving). */
int rst_shardmap_fenced(const rst_shardmap *m, unsigned shard);

/* Logical shard of a (lower-cased) user name. */
unsigned rst_shard_for_name(const rst_shardmap *m, const char *name_lc);

#endif
