/* tweets.h -- tweets (API.md §5): writes, single reads, per-user pages and
 * the page assembly the global feed (feed.h) shares.
 *
 * A tweet lives on its author's shard, and its id carries that logical
 * shard, so every single-tweet operation touches one server. Tweets are
 * cached in Redis under tweet:{id} in a "stored form": the JSON object
 * without user_name, which is spliced in at read time from names.h, so a
 * rename never leaves a stale copy anywhere. A deleted tweet's key holds a
 * tombstone ("-") for a while, so that a reader that read the row just
 * before the delete cannot put it back.
 *
 * A page is assembled from a list of ids, newest first (rst_tweets_collect):
 * the stored forms come from one MGET, the misses from the shards (one
 * query per server, all at once), then the names. Ids whose tweet is gone
 * are skipped and more are fetched, so a page never shows a deleted tweet
 * and still has `limit` items when more exist. */
#ifndef ROOST_TWEETS_H
#define ROOST_TWEETS_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "domain/errors.h"
#include "domain/services.h"

#define RST_TWEET_MAX 280            /* code points */

/* One loaded tweet: its stored form and its author. */
typedef struct {
    uint64_t    id;
    uint64_t    user_id;
    const char *stored;          /* {"id":..,"user_id":..,"message":..,...} */
    size_t      len;
} rst_tweet_ref;

typedef struct {
    const char *items_json;      /* "[{...},{...}]" (arena) */
    size_t      items_len;
    int         count;
    int         has_more;        /* another tweet follows this page */
    uint64_t    last_id;         /* id of the last item (the next cursor) */
} rst_tweet_page;

/* Creates a tweet by user_id (who must exist: RST_E_NOT_FOUND otherwise);
 * *json is the Tweet object. tweets_count moves in the same transaction. */
rst_err rst_tweet_create(rst_services *s, rst_arena *a, uint64_t user_id, const char *msg,
                         size_t len, uint64_t *id, const char **json, size_t *jlen);

/* The Tweet object (with the author's current name). hot_ok: the reader
 * may be answered from the worker's copy of this second
 * (store/hotcache.h; app/api/app.c decides). */
rst_err rst_tweet_get_json(rst_services *s, rst_arena *a, uint64_t id, int hot_ok,
                           const char **json, size_t *jlen);

/* The author of a tweet, for permission checks; RST_E_NOT_FOUND. */
rst_err rst_tweet_author(rst_services *s, rst_arena *a, uint64_t id, uint64_t *user_id);

/* Replaces the message; `edited` becomes true and updated_at moves. */
rst_err rst_tweet_update(rst_services *s, rst_arena *a, uint64_t id, const char *msg,
                         size_t len, const char **json, size_t *jlen);

/* Deletes the tweet; *json is the removed Tweet object. */
rst_err rst_tweet_delete(rst_services *s, rst_arena *a, uint64_t id, const char **json,
                         size_t *jlen);

/* One page of a user's tweets, newest first: the ones older than `before`
 * (cursor paging; 0: from the newest), skipping `offset` (page paging).
 * RST_E_NOT_FOUND when the user does not exist. */
rst_err rst_tweets_of_user(rst_services *s, rst_arena *a, uint64_t user_id, uint64_t before,
                           int offset, int limit, int hot_ok, rst_tweet_page *out);

/* ---------------------------------------------------------- page assembly */

/* A whole rendered page as a hot copy (store/hotcache.h) under k: read
 * gives 1 and fills *out on a hit; keep stores p as read at `asked`. Any
 * tweet write on the worker moves s->tweet_writes, which the page keys
 * hold (store/keys.h), and a rename drops every copy. */
int  rst_tweet_page_hot_read(rst_services *s, rst_arena *a, const rst_key *k, rst_tweet_page *out);
void rst_tweet_page_hot_keep(rst_services *s, const rst_key *k, const rst_tweet_page *p,
                             const rst_hot_time *asked);

/* A source of ids, newest first: up to `want` ids older than `below`
 * (UINT64_MAX: from the newest), after skipping `offset` of them, into
 * ids[]; *n gets how many, *end whether the list has nothing after them. */
typedef rst_err (*rst_id_source)(void *ctx, rst_arena *a, uint64_t below, int offset, int want,
                                 uint64_t *ids, int *n, int *end);

/* An author whose current name the caller already holds (a user's own
 * list): the page then needs no name lookup. */
typedef struct {
    uint64_t    user_id;
    const char *name;
} rst_author;

/* The most ids a source is asked for at once. */
#define RST_COLLECT_MAX 120

/* Builds a page from a source: loads the tweets of the ids it gives,
 * skips the ones that are gone (and reports them through `gone`, may be
 * NULL), asks for more until the page has `limit` live tweets or the
 * source ends, and renders them with their authors' names. One id past
 * the page says whether another follows; its tweet is not loaded, so a
 * page needs only the servers of the tweets it shows. `known` (may be
 * NULL) spares the name lookup of that author. */
rst_err rst_tweets_collect(rst_services *s, rst_arena *a, rst_id_source src, void *ctx,
                           uint64_t before, int offset, int limit, const rst_author *known,
                           void (*gone)(rst_services *s, const uint64_t *ids, int n),
                           rst_tweet_page *out);

/* Loads ids[0..n) (n <= RST_LOOKUP_MAX): out[] gets the live ones in the
 * same order (*nlive of them); the ids of tweets that are gone go to
 * dead[] (*ndead; may be NULL). */
rst_err rst_tweets_load(rst_services *s, rst_arena *a, const uint64_t *ids, int n,
                        rst_tweet_ref *out, int *nlive, uint64_t *dead, int *ndead);

#endif
