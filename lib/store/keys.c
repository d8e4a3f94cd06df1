/* keys.c -- the Redis key builder and its families (see keys.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "store/cache.h"
#include "store/keys.h"

int rst_key_fmt(rst_key *k, const char *prefix, const char *fmt, ...)
{
    size_t plen = strlen(prefix);
    k->len = 0;
    k->s[0] = '\0';
    if (plen >= sizeof(k->s))
        return -1;
    memcpy(k->s, prefix, plen);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(k->s + plen, sizeof(k->s) - plen, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(k->s) - plen) {
        k->s[0] = '\0';
        return -1;
    }
    k->len = plen + (size_t)n;
    return 0;
}

int rst_key_product(const rst_cache *c, rst_key *k, uint64_t id)
{
    return rst_key_fmt(k, rst_cache_prefix(c), "product:%" PRIu64, id);
}

int rst_key_catalog_gen(const rst_cache *c, rst_key *k)
{
    return rst_key_fmt(k, rst_cache_prefix(c), "catalog:gen");
}

int rst_key_products_page(const rst_cache *c, rst_key *k, const char *gen,
                          uint64_t after_id, int offset, int limit)
{
    if (after_id != 0)
        return rst_key_fmt(k, rst_cache_prefix(c), "products:g%s:a%" PRIu64 ":l%d", gen, after_id, limit);
    return rst_key_fmt(k, rst_cache_prefix(c), "products:g%s:o%d:l%d", gen, offset, limit);
}

int rst_key_token_state(const rst_cache *c, rst_key *k, uint64_t user_id)
{
    return rst_key_fmt(k, rst_cache_prefix(c), "user:%" PRIu64 ":tv", user_id);
}

int rst_key_throttle(const rst_cache *c, rst_key *k, const char *name_lc)
{
    return rst_key_fmt(k, rst_cache_prefix(c), "throttle:%s", name_lc);
}

int rst_key_cart(const rst_cache *c, rst_key *k, uint64_t user_id)
{
    return rst_key_fmt(k, rst_cache_prefix(c), "cart:%" PRIu64, user_id);
}

int rst_key_cart_version(const rst_cache *c, rst_key *k, uint64_t user_id)
{
    return rst_key_fmt(k, rst_cache_prefix(c), "cart:%" PRIu64 ":v", user_id);
}

int rst_key_idempotency(const rst_cache *c, rst_key *k, const char *hash_hex)
{
    return rst_key_fmt(k, rst_cache_prefix(c), "idem:%s", hash_hex);
}

int rst_key_tweet(const rst_cache *c, rst_key *k, uint64_t id)
{
    return rst_key_fmt(k, rst_cache_prefix(c), "tweet:%" PRIu64, id);
}

int rst_key_user_name(const rst_cache *c, rst_key *k, uint64_t user_id)
{
    return rst_key_fmt(k, rst_cache_prefix(c), "user:%" PRIu64 ":name", user_id);
}

int rst_key_user_name_affixes(const rst_cache *c, rst_key *head, rst_key *tail)
{
    if (rst_key_fmt(head, rst_cache_prefix(c), "user:") != 0)
        return -1;
    return rst_key_fmt(tail, "", ":name");
}

int rst_key_feed(const rst_cache *c, rst_key *k)
{
    return rst_key_fmt(k, rst_cache_prefix(c), "feed:ids");
}

int rst_key_feed_page(const rst_cache *c, rst_key *k, uint64_t gen, uint64_t before, int offset,
                      int limit)
{
    return rst_key_fmt(k, rst_cache_prefix(c), "feed:page:g%" PRIu64 ":b%" PRIu64 ":o%d:l%d", gen,
                       before, offset, limit);
}

int rst_key_user_tweets_page(const rst_cache *c, rst_key *k, uint64_t gen, uint64_t user_id,
                             uint64_t before, int offset, int limit)
{
    return rst_key_fmt(k, rst_cache_prefix(c), "user:%" PRIu64 ":tweets:g%" PRIu64 ":b%" PRIu64
                       ":o%d:l%d", user_id, gen, before, offset, limit);
}

int rst_key_feed_build(const rst_cache *c, rst_key *k)
{
    return rst_key_fmt(k, rst_cache_prefix(c), "feed:build");
}

int rst_key_feed_lock(const rst_cache *c, rst_key *k)
{
    return rst_key_fmt(k, rst_cache_prefix(c), "feed:lock");
}

int rst_key_timeline(const rst_cache *c, rst_key *k, uint64_t user_id)
{
    return rst_key_fmt(k, rst_cache_prefix(c), "tl:%" PRIu64, user_id);
}

int rst_key_timeline_lock(const rst_cache *c, rst_key *k, uint64_t user_id)
{
    return rst_key_fmt(k, rst_cache_prefix(c), "tl:%" PRIu64 ":lock", user_id);
}

int rst_key_author_recent(const rst_cache *c, rst_key *k, uint64_t user_id)
{
    return rst_key_fmt(k, rst_cache_prefix(c), "user:%" PRIu64 ":recent", user_id);
}

int rst_key_recent_writer(const rst_cache *c, rst_key *k, uint64_t user_id)
{
    return rst_key_fmt(k, rst_cache_prefix(c), "user:%" PRIu64 ":wrote", user_id);
}

int rst_key_following(const rst_cache *c, rst_key *k, uint64_t user_id)
{
    return rst_key_fmt(k, rst_cache_prefix(c), "user:%" PRIu64 ":following", user_id);
}

int rst_key_following_version(const rst_cache *c, rst_key *k, uint64_t user_id)
{
    return rst_key_fmt(k, rst_cache_prefix(c), "user:%" PRIu64 ":following:v", user_id);
}

int rst_key_fanout_queue(const rst_cache *c, rst_key *k)
{
    return rst_key_fmt(k, rst_cache_prefix(c), "fanout:queue");
}

int rst_key_fanout_lag(const rst_cache *c, rst_key *k)
{
    return rst_key_fmt(k, rst_cache_prefix(c), "fanout:lag");
}
