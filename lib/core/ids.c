/* ids.c -- 64-bit k-sorted ids: time | shard | generator | sequence (the
 * layout and its guarantees are described in ids.h). */
#include "core/ids.h"

#include <stddef.h>

#include "core/num.h"
#include "core/timefmt.h"

#define SEQ_SHIFT    0
#define GEN_SHIFT    (SEQ_SHIFT + RST_ID_SEQ_BITS)
#define SHARD_SHIFT  (GEN_SHIFT + RST_ID_GEN_BITS)
#define TIME_SHIFT   (SHARD_SHIFT + RST_ID_SHARD_BITS)
#define TIME_BITS    (64 - TIME_SHIFT)
#define SEQ_COUNT    (1u << RST_ID_SEQ_BITS)
#define TIME_LIMIT   (1ULL << TIME_BITS)   /* first millisecond that no longer fits */

int rst_idgen_init(rst_idgen *g, unsigned generator)
{
    if (g == NULL || generator >= RST_ID_MAX_GEN)
        return -1;
    g->generator = generator;
    g->last_ms = 0;
    g->seq = 0;
    return 0;
}

static uint64_t ms_since_epoch(uint64_t unix_ms)
{
    return unix_ms > RST_ID_EPOCH_MS ? unix_ms - RST_ID_EPOCH_MS : 0;
}

/* Moves (last_ms, seq) strictly forward: to the clock when it is ahead, else
 * to the next sequence number of the last millisecond, else to the next
 * millisecond. A clock that steps back therefore never repeats an id; it
 * only keeps the generator on (or just past) its last millisecond until the
 * clock catches up. */
static void advance(rst_idgen *g, uint64_t now)
{
    if (now > g->last_ms) {
        g->last_ms = now;
        g->seq = 0;
    } else if (g->seq + 1 < SEQ_COUNT) {
        g->seq++;
    } else {
        g->last_ms++;
        g->seq = 0;
    }
}

/* Returns 0, which is never a valid id (rst_id_parse rejects it), when the
 * shard is out of range or the 41-bit time field is spent (year 2095):
 * better an error the caller can see than an id that collides. */
uint64_t rst_idgen_next_at(rst_idgen *g, unsigned shard, uint64_t now_ms)
{
    if (g == NULL || shard >= RST_ID_MAX_SHARDS || g->generator >= RST_ID_MAX_GEN)
        return 0;
    advance(g, ms_since_epoch(now_ms));
    if (g->last_ms >= TIME_LIMIT)
        return 0;
    return (g->last_ms << TIME_SHIFT) | ((uint64_t)shard << SHARD_SHIFT) |
           ((uint64_t)g->generator << GEN_SHIFT) | ((uint64_t)g->seq << SEQ_SHIFT);
}

uint64_t rst_idgen_next(rst_idgen *g, unsigned shard)
{
    return rst_idgen_next_at(g, shard, rst_time_now_ms());
}

unsigned rst_id_shard(uint64_t id)
{
    return (unsigned)((id >> SHARD_SHIFT) & (RST_ID_MAX_SHARDS - 1));
}

uint64_t rst_id_unix_ms(uint64_t id)
{
    return (id >> TIME_SHIFT) + RST_ID_EPOCH_MS;
}

/* Leading zeros are accepted ("007" is 7): the contract says an id is a
 * string of decimal digits, of at most 20 characters. */
int rst_id_parse(const char *s, uint64_t *id)
{
    uint64_t v;
    size_t n;

    if (s == NULL || id == NULL)
        return 0;
    n = rst_parse_u64(s, &v);
    if (n == 0 || n > 20 || s[n] != '\0' || v == 0)
        return 0;
    *id = v;
    return 1;
}
