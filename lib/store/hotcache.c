/* hotcache.c -- a worker's set-associative, byte-bounded, one-second copy
 * of hot Redis values (hotcache.h says who may be answered from it). */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "store/hotcache.h"

typedef struct {
    uint64_t hash;               /* 0: empty */
    uint64_t born_ms;            /* monotonic */
    uint64_t born_s;             /* unix second */
    char    *data;               /* key, then value: one allocation */
    size_t   klen, vlen;
} hot_entry;

struct rst_hot {
    int       max_age_ms;
    size_t    max_bytes, bytes;
    hot_entry slots[RST_HOT_SLOTS];
};

rst_hot *rst_hot_new(int max_age_ms, size_t max_bytes)
{
    rst_hot *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return NULL;
    h->max_age_ms = max_age_ms;
    h->max_bytes = max_bytes;
    return h;
}

static void drop(rst_hot *h, hot_entry *e)
{
    if (e->hash == 0)
        return;
    h->bytes -= e->klen + e->vlen;
    free(e->data);
    memset(e, 0, sizeof(*e));
}

void rst_hot_free(rst_hot *h)
{
    if (h == NULL)
        return;
    rst_hot_clear(h);
    free(h);
}

static uint64_t key_hash(const char *key, size_t klen)
{
    return XXH3_64bits(key, klen) | 1;          /* never 0: 0 marks empty */
}

static hot_entry *set_of(rst_hot *h, uint64_t hash)
{
    /* Not the low bit: key_hash sets it (0 marks an empty way). */
    return &h->slots[((hash >> 1) & (RST_HOT_SETS - 1)) * RST_HOT_WAYS];
}

static int holds(const hot_entry *e, uint64_t hash, const char *key, size_t klen)
{
    return e->hash == hash && e->klen == klen && memcmp(e->data, key, klen) == 0;
}

static hot_entry *find(rst_hot *h, uint64_t hash, const char *key, size_t klen)
{
    hot_entry *set = set_of(h, hash);
    for (int i = 0; i < RST_HOT_WAYS; i++)
        if (holds(&set[i], hash, key, klen))
            return &set[i];
    return NULL;
}

static int too_old(const rst_hot *h, const hot_entry *e, uint64_t now_ms)
{
    /* A clock read before the put (another caller's) counts as age 0. */
    return now_ms > e->born_ms && now_ms - e->born_ms >= (uint64_t)h->max_age_ms;
}

const char *rst_hot_get(rst_hot *h, const char *key, size_t klen, uint64_t now_ms, uint64_t now_s,
                        size_t *len)
{
    hot_entry *e = find(h, key_hash(key, klen), key, klen);
    if (e == NULL)
        return NULL;
    if (too_old(h, e, now_ms) || e->born_s != now_s) {
        drop(h, e);
        return NULL;
    }
    *len = e->vlen;
    return e->data + e->klen;
}

/* Where a new key goes in its set: an empty or expired way, else the
 * oldest. */
static hot_entry *victim(rst_hot *h, uint64_t hash, uint64_t now_ms)
{
    hot_entry *set = set_of(h, hash), *oldest = &set[0];
    for (int i = 0; i < RST_HOT_WAYS; i++) {
        if (set[i].hash == 0 || too_old(h, &set[i], now_ms))
            return &set[i];
        if (set[i].born_ms < oldest->born_ms)
            oldest = &set[i];
    }
    return oldest;
}

void rst_hot_put(rst_hot *h, const char *key, size_t klen, const char *val, size_t vlen,
                 uint64_t now_ms, uint64_t wall_s)
{
    uint64_t hash = key_hash(key, klen);
    hot_entry *e = find(h, hash, key, klen);
    if (e == NULL)
        e = victim(h, hash, now_ms);
    drop(h, e);
    if (vlen > RST_HOT_MAX_VALUE || h->bytes + klen + vlen > h->max_bytes)
        return;
    char *data = malloc(klen + vlen);
    if (data == NULL)
        return;                                 /* a cache may forget */
    memcpy(data, key, klen);
    memcpy(data + klen, val, vlen);
    *e = (hot_entry){ hash, now_ms, wall_s, data, klen, vlen };
    h->bytes += klen + vlen;
}

void rst_hot_del(rst_hot *h, const char *key, size_t klen)
{
    hot_entry *e = find(h, key_hash(key, klen), key, klen);
    if (e != NULL)
        drop(h, e);
}

void rst_hot_clear(rst_hot *h)
{
    for (int i = 0; i < RST_HOT_SLOTS; i++)
        drop(h, &h->slots[i]);
}

size_t rst_hot_bytes(const rst_hot *h)
{
    return h->bytes;
}
