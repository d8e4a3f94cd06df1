/* feed.h -- the global feed, GET /tweets (API.md §5): every tweet, newest
 * first, across every shard.
 *
 * Redis holds the newest ids in one sorted set, feed:ids: every member
 * scored 0 and written as 20 zero-padded digits, so that the set's
 * lexicographic order is id order and both kinds of page are one range
 * read, O(log N + limit): ZREVRANGE by rank for page=N, ZREVRANGEBYLEX
 * below the cursor's id for cursor pages, at any depth. It is capped at
 * RST_FEED_CAP ids (page 1000 of 100 needs 100 001), trimmed from the
 * oldest end on every insert.
 *
 * The set is always complete from the newest id down to its oldest member:
 * every create adds its id after it commits, every delete removes it, and
 * trimming removes only the oldest. When it holds every tweet there is,
 * its oldest member is a sentinel, 20 zeros: "nothing older". So a page
 * the set cannot finish (no sentinel reached) continues from the shards,
 * and a page beyond the set, or any page while Redis is down, comes from
 * the shards alone: a scatter-gather over every shard server, in parallel,
 * each asked for at most the rows the page still needs past its cursor,
 * merged by id (kmerge.h). A shard server that is down fails only the
 * pages that must ask it (502): a page the set answers needs only the
 * servers of the tweets Redis does not hold.
 *
 * When the set is missing (Redis flushed or restarted) or too short to
 * serve every page (deletes ate into it), the reader that notices rebuilds
 * it from the shards, once: a lock key (SET NX EX) lets one worker do it
 * while the others keep serving from the shards. */
#ifndef ROOST_FEED_H
#define ROOST_FEED_H

#include <stdint.h>

#include "core/arena.h"
#include "domain/errors.h"
#include "domain/services.h"
#include "domain/tweets.h"
#include "store/cache.h"

#define RST_FEED_CAP        102400  /* ids kept; slack above 100 001 for deletes */
#define RST_FEED_DEPTH_MIN  100001  /* fewer (without the sentinel): rebuild */

/* One page: the tweets older than `before` (0: from the newest) or, for
 * page paging, after `offset` tweets. hot_ok: the reader may be answered
 * from the worker's copy of the page made this second (app/api/app.c
 * decides; the first page is the hottest key there is). */
rst_err rst_feed_page(rst_services *s, rst_arena *a, uint64_t before, int offset, int limit,
                      int hot_ok, rst_tweet_page *out);

/* After a create committed: queues the id's insert (and the trim) on b. */
void rst_feed_queue_add(rst_services *s, rst_batch *b, uint64_t id);
/* After a delete committed: queues the id's removal on b. */
void rst_feed_queue_remove(rst_services *s, rst_batch *b, uint64_t id);

/* Rebuilds the set from the shards unless another worker holds the lock.
 * `fresh` drops the current set first (after a seed: its ids are of
 * another dataset). *count gets the number of ids put in, or -1 when
 * nothing was done (another worker holds the lock, or Redis is down:
 * both RST_OK). */
rst_err rst_feed_rebuild(rst_services *s, int fresh, long *count);

#endif
