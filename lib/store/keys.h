/* keys.h -- every Redis key roost uses, built in one place.
 *
 * A key is the configured prefix ([redis] prefix) followed by the family's
 * name; nothing else in roost writes a key by hand, so two installations can
 * share one Redis and a family can be found by grepping this file. The
 * families, their types, TTLs, writers and readers are tabled in
 * docs/OPERATIONS.md ("Redis keys"). */
#ifndef ROOST_KEYS_H
#define ROOST_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define RST_KEY_MAX 256

typedef struct {
    size_t len;
    char   s[RST_KEY_MAX];
} rst_key;

/* prefix + printf(fmt, ...) into k. 0, or -1 when it does not fit (then
 * k->len is 0 and every cache call treats the key as unavailable). */
int rst_key_fmt(rst_key *k, const char *prefix, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The families, each under the configured prefix. */
struct rst_cache;
int rst_key_product(const struct rst_cache *c, rst_key *k, uint64_t id);
int rst_key_catalog_gen(const struct rst_cache *c, rst_key *k);
int rst_key_products_page(const struct rst_cache *c, rst_key *k, const char *gen,
                          uint64_t after_id, int offset, int limit);
int rst_key_token_state(const struct rst_cache *c, rst_key *k, uint64_t user_id);
int rst_key_throttle(const struct rst_cache *c, rst_key *k, const char *name_lc);
int rst_key_cart(const struct rst_cache *c, rst_key *k, uint64_t user_id);
int rst_key_cart_version(const struct rst_cache *c, rst_key *k, uint64_t user_id);
int rst_key_idempotency(const struct rst_cache *c, rst_key *k, const char *hash_hex);
/* Tweets and the global feed (lib/domain/tweets.c, feed.c, names.c). */
int rst_key_tweet(const struct rst_cache *c, rst_key *k, uint64_t id);
int rst_key_user_name(const struct rst_cache *c, rst_key *k, uint64_t user_id);
/* The name key around its id, head + id + tail, for a script that finds
 * the id in a value (lib/domain/tweets.c). */
int rst_key_user_name_affixes(const struct rst_cache *c, rst_key *head, rst_key *tail);
int rst_key_feed(const struct rst_cache *c, rst_key *k);
int rst_key_feed_build(const struct rst_cache *c, rst_key *k);
int rst_key_feed_lock(const struct rst_cache *c, rst_key *k);
/* Rendered pages, named for the worker's hot copies only (store/hotcache.h),
 * never written to Redis: gen is the worker's count of its tweet writes,
 * so a write there makes every page it kept unreachable. */
int rst_key_feed_page(const struct rst_cache *c, rst_key *k, uint64_t gen, uint64_t before,
                      int offset, int limit);
int rst_key_user_tweets_page(const struct rst_cache *c, rst_key *k, uint64_t gen,
                             uint64_t user_id, uint64_t before, int offset, int limit);
/* The home timeline (lib/domain/timeline.c). */
int rst_key_timeline(const struct rst_cache *c, rst_key *k, uint64_t user_id);
int rst_key_timeline_lock(const struct rst_cache *c, rst_key *k, uint64_t user_id);
int rst_key_author_recent(const struct rst_cache *c, rst_key *k, uint64_t user_id);
int rst_key_following(const struct rst_cache *c, rst_key *k, uint64_t user_id);
int rst_key_following_version(const struct rst_cache *c, rst_key *k, uint64_t user_id);
int rst_key_fanout_queue(const struct rst_cache *c, rst_key *k);
/* Read-your-writes (lib/domain/services.c): the user wrote a moment ago. */
int rst_key_recent_writer(const struct rst_cache *c, rst_key *k, uint64_t user_id);
int rst_key_fanout_lag(const struct rst_cache *c, rst_key *k);

#endif
