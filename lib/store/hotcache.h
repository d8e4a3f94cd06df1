/* hotcache.h -- a worker's own copy of the hottest public objects it read
 * from Redis, kept at most a second (API.md §1.5 allows shared caches
 * that much), so a hot product costs no Redis round trip.
 *
 * Set-associative by the key's hash (RST_HOT_WAYS entries a set): a new
 * key takes an empty or expired way of its set, else the oldest one (the
 * hottest keys win by being put back most often). Bounded in entries and
 * in bytes; a value too big, or one that would pass the byte
 * bound, is not kept. Pure memory, no I/O: the caller passes the clock.
 * Who may be answered from it is the caller's rule (app/api/app.c: never a
 * reader who may have written it). An entry answers only within the
 * wall-clock second it was read from Redis in (and for at most its age
 * limit): nginx keeps a public answer to the end of the second it was
 * made in (app/api/response.c), so the copy's age and nginx's add up to
 * under a second. */
#ifndef ROOST_HOTCACHE_H
#define ROOST_HOTCACHE_H

#include <stddef.h>
#include <stdint.h>

#define RST_HOT_SETS       2048      /* power of two */
#define RST_HOT_WAYS       4
#define RST_HOT_SLOTS      (RST_HOT_SETS * RST_HOT_WAYS)
#define RST_HOT_MAX_VALUE  16384     /* bytes (a page of 20 tweets); bigger ones are not kept */

/* What every worker adds up in the shared scoreboard, for /metrics. */
typedef struct {
    uint64_t hits;
    uint64_t misses;             /* looked up and not there, or too old */
} rst_hot_stat;

typedef struct rst_hot rst_hot;

/* max_age_ms: how long an entry answers; max_bytes: keys and values of
 * every entry together. NULL when out of memory. */
rst_hot *rst_hot_new(int max_age_ms, size_t max_bytes);
void     rst_hot_free(rst_hot *h);

/* The value kept under key if it was read in unix second now_s and is
 * younger than max_age_ms at now_ms (monotonic), else NULL. The pointer
 * is good until the next put or del. */
const char *rst_hot_get(rst_hot *h, const char *key, size_t klen, uint64_t now_ms, uint64_t now_s,
                        size_t *len);

/* Keeps a copy of val, read from Redis at now_ms (monotonic) in unix
 * second wall_s, replacing what held its slot. */
void rst_hot_put(rst_hot *h, const char *key, size_t klen, const char *val, size_t vlen,
                 uint64_t now_ms, uint64_t wall_s);

/* Forgets key (a write on this worker changed it). */
void rst_hot_del(rst_hot *h, const char *key, size_t klen);

/* Forgets everything (a write that changes many entries: a rename). */
void rst_hot_clear(rst_hot *h);

/* Bytes held now (keys and values). */
size_t rst_hot_bytes(const rst_hot *h);

#endif
