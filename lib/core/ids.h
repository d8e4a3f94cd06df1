/* ids.h -- 64-bit ids, unique without a coordinator and k-sorted by time.
 *
 * Layout, most significant bit first:
 *   41 bits  milliseconds since RST_ID_EPOCH_MS (2026-01-01T00:00:00Z; lasts ~69 years)
 *   12 bits  logical shard (0..4095) -- any id routes to its shard without a lookup
 *   10 bits  generator (0..1023): one per process that mints ids, disjoint per host
 *    1 bit   sequence within the millisecond (2 ids/ms per generator)
 * Two generators never share an id because the generator bits differ; one
 * generator never repeats because (ms, seq) only moves forward: when the clock
 * steps back it keeps using its last millisecond, and when a millisecond's 16
 * sequence numbers are spent it borrows the next millisecond.
 *
 * Until 0.3 the low 11 bits were 7 generator bits and 4 sequence bits (128
 * generators). The shard field did not move, so every existing id still
 * routes to its shard; ids minted since are also unique against the old
 * ones, because their time field is later than any old id's (an id's
 * uniqueness needs time, shard, generator and sequence together, and the
 * old ones are all in the past). 1024 generators let a host run pools of
 * 256 workers and more (two slots a worker: see roostd/scoreboard.h); two
 * ids a millisecond is 2000 a second per worker, far above what one
 * process writes, and a burst past it borrows the next milliseconds. */
#ifndef ROOST_IDS_H
#define ROOST_IDS_H

#include <stdint.h>

#define RST_ID_EPOCH_MS     1767225600000ULL
#define RST_ID_SHARD_BITS   12
#define RST_ID_GEN_BITS     10
#define RST_ID_SEQ_BITS     1
#define RST_ID_MAX_SHARDS   (1u << RST_ID_SHARD_BITS)
#define RST_ID_MAX_GEN      (1u << RST_ID_GEN_BITS)
/* Who mints with which generators on one host: roostd's worker slots
 * [0, RST_ID_GEN_ROOSTD) (generator_base + slot), the bench seeder
 * RST_ID_GEN_SEED_FIRST.. (RST_ID_GEN_SEED_COUNT of them), roostctl the
 * last one. */
#define RST_ID_GEN_ROOSTD      992u
#define RST_ID_GEN_SEED_FIRST  992u
#define RST_ID_GEN_SEED_COUNT  31u
#define RST_ID_GEN_ROOSTCTL    1023u

typedef struct {
    unsigned generator;   /* 0..RST_ID_MAX_GEN-1 */
    uint64_t last_ms;     /* ms since epoch of the last id */
    unsigned seq;         /* last sequence used within last_ms */
} rst_idgen;

/* 0 on success, -1 when generator >= RST_ID_MAX_GEN. */
int rst_idgen_init(rst_idgen *g, unsigned generator);

/* Next id for logical shard `shard` given the wall clock now_ms (unix ms);
 * pure, for tests. Returns 0, never a valid id, when shard is not below
 * RST_ID_MAX_SHARDS or the 41-bit time field has run out (in 2095). */
uint64_t rst_idgen_next_at(rst_idgen *g, unsigned shard, uint64_t now_ms);

/* Same, reading CLOCK_REALTIME. */
uint64_t rst_idgen_next(rst_idgen *g, unsigned shard);

/* Parts of an id. */
unsigned rst_id_shard(uint64_t id);
uint64_t rst_id_unix_ms(uint64_t id);    /* creation time, unix ms */

/* Parses a path/body id: 1..20 decimal digits, no sign, fits 64 bits, not 0.
 * 1 on success, else 0. */
int rst_id_parse(const char *s, uint64_t *id);

#endif
