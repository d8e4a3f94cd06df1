/* catmap.h -- the shard map in the catalog, for several roostd hosts.
 *
 * roostctl shard move changes the map (each server's ranges and the write
 * fence) in the configuration file it is given and reloads that file's
 * roostd; a roostd on another host would never see it. So at each step it
 * also writes the map, as the next generation, to the catalog's shard_map
 * table (migration 0004). A roostd with `[shards] map = catalog` follows
 * that copy: its master reads the row every RST_CATMAP_POLL_MS, applies a
 * newer generation over its own file's ranges and fence (the servers'
 * addresses stay its file's), publishes it to its workers as a reload
 * does, and, once every worker routes with it, reports the generation in
 * its generator_claims row (store/genclaim.h), where roostctl waits for
 * every following host before it takes the next step. */
#ifndef ROOST_CATMAP_H
#define ROOST_CATMAP_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/config.h"
#include "store/db.h"

#define RST_CATMAP_POLL_MS  250
#define RST_CATMAP_RETRY_MS 5000       /* after the catalog did not answer */
/* A following host that has not read the catalog's map for this long (or
 * ever, since it started) refuses every write until it does: its map may
 * be one a move has left behind, and roostctl takes a claim not renewed
 * for RST_CLAIM_STALE_S (30 s) for a host that is gone. Reads go on. */
#define RST_CATMAP_BLIND_MS 20000

typedef struct {
    uint64_t generation;
    char     ranges[4096];    /* "a=0-2047,3072-4095;b=2048-3071": servers holding shards */
    char     fenced[2048];    /* "3072-4095" as [shards] fenced takes it, or "" */
} rst_catmap;

/* cfg's ranges and fence as text (generation 0); -1 when they do not fit. */
int rst_catmap_format(const rst_config *cfg, rst_catmap *out);

/* Puts the map's ranges and fence in place of cfg's. Every server it
 * names must be one of cfg's, and every logical shard must end up on
 * exactly one: 0, or -1 with err and cfg unchanged. */
int rst_catmap_apply(const rst_catmap *map, rst_config *cfg, char *err, size_t errlen);

/* Reads the catalog's map (a brief connection for the call): 1 with *out,
 * 0 when the catalog holds none yet, -1 when it does not answer or lacks
 * the table (why says). */
int rst_catmap_read(const rst_db_conf *catalog, rst_catmap *out, char *why, size_t whylen);

/* Records in owner's generator claim the generation every one of its
 * workers routes with: 0, or -1. */
int rst_catmap_report(const rst_db_conf *catalog, const char *owner, uint64_t generation);

/* roostctl: stores map as the next generation; *generation gets it. */
int rst_catmap_write(rst_db *catalog, rst_arena *a, const rst_catmap *map, uint64_t *generation);

#endif
