/* genclaim.h -- claims on id generator numbers (core/ids.h), kept in the
 * catalog's generator_claims table, so that two roostd hosts never mint
 * with the same generator: the same generator, shard and millisecond on
 * two hosts could make the same id.
 *
 * A roostd claims [generator_base, generator_base + its slots) under its
 * owner name (host name and configuration file) when it starts, renews
 * the claim every RST_CLAIM_BEAT_S seconds, widens it on a reload that
 * adds workers and gives it up when it stops. A claim not renewed for
 * RST_CLAIM_STALE_S seconds is dead (its host crashed): anyone may take
 * its numbers. Claims are serialised by a named lock, so two hosts
 * starting at once cannot both win. The times are the catalog server's,
 * so the hosts' clocks do not matter.
 *
 * It is a guard against a configuration mistake, not a lease: a host cut
 * off from the catalog keeps minting (its writes go to the shards), so
 * the hosts' generator blocks must be disjoint in their configurations
 * too (docs/OPERATIONS.md, "Several roostd hosts"). */
#ifndef ROOST_GENCLAIM_H
#define ROOST_GENCLAIM_H

#include <stddef.h>
#include <sys/types.h>

#include "core/arena.h"
#include "core/config.h"
#include "store/db.h"

#define RST_CLAIM_BEAT_S   10
#define RST_CLAIM_STALE_S  30

typedef enum {
    RST_CLAIM_OK = 0,
    RST_CLAIM_TAKEN,         /* a live claim of another owner overlaps: *why names it */
    RST_CLAIM_UNAVAILABLE    /* the catalog did not answer, or lacks the table: *why says */
} rst_claim_rc;

/* Claims (or renews, or moves) owner's block [first, last]. Connects to
 * the catalog for the call only, with 1 s timeouts: nothing is left open
 * for a forked worker to inherit. */
rst_claim_rc rst_claim_take(const rst_db_conf *catalog, const char *owner, unsigned first,
                            unsigned last, pid_t pid, char *why, size_t whylen);

/* Gives owner's claim up (a clean stop). 0, or -1 when the catalog did
 * not answer (the claim then dies by age). */
int rst_claim_release(const rst_db_conf *catalog, const char *owner);

/* Every claim, by block: columns owner (S), first_gen, last_gen, pid (U),
 * seconds since its renewal (I), and the catalog shard map generation its
 * workers route with (I; -1: a roostd that follows its file, [shards] map,
 * store/catmap.h), in `a`. For roostctl. */
int rst_claim_list(rst_db *catalog, rst_arena *a, rst_rows *out);

/* "HOST:PATH" for this host and configuration file, at most len - 1 bytes. */
void rst_claim_owner(const char *conf_path, char *out, size_t len);

#endif
