/* timeline.h -- the home timeline, GET /timeline (API.md §5): the tweets of
 * the users the caller follows and the caller's own, newest first.
 *
 * Hybrid fan-out, as Twitter does it:
 *   - every author has a recent-ids list in Redis (user:{id}:recent, the
 *     newest RST_TL_AUTHOR_CAP ids), kept by the author's own writes;
 *   - an author with at most [timeline] fanout_max_followers followers is
 *     fanned out on write: the POST queues a job (fanout:queue) and the
 *     workers, between requests, add the id to every follower's home
 *     timeline (tl:{uid}, the newest RST_TL_CAP entries) that exists;
 *   - an author with more is never fanned out: readers merge in that
 *     author's recent list at read time, so a celebrity's post costs the
 *     same as anyone's. Readers merge in authors above half the threshold
 *     and the caller's own list too (the author sees a post at once).
 *
 * A home timeline member names its author (core/tlmerge.h), and the reader
 * keeps only entries of the users it follows now: the caller's following
 * list is cached (user:{id}:following) stamped with a version that every
 * follow and unfollow moves after its commit, so an unfollow takes the
 * author's entries out of the very next read. A deleted tweet is never
 * shown (page assembly skips it, tweets.h) and a delete job removes it
 * from the followers' timelines.
 *
 * A list that is missing or not built (no sentinel: flushed, evicted, a
 * new follower, or a follow that dropped the timeline to take the new
 * author's tweets in) is rebuilt from the shards on read, bounded to the
 * newest RST_TL_REBUILD_PER_AUTHOR ids of each followed author, by one
 * request at a time per user (tl:{uid}:lock, SET NX EX); a concurrent
 * request of the same user, or any while Redis is down, builds its page
 * from the shards without storing it. */
#ifndef ROOST_TIMELINE_H
#define ROOST_TIMELINE_H

#include <stdint.h>

#include "core/arena.h"
#include "domain/errors.h"
#include "domain/services.h"
#include "domain/tweets.h"
#include "store/cache.h"

#define RST_TL_CAP                800    /* entries of a home timeline */
#define RST_TL_AUTHOR_CAP         200    /* ids of an author's recent list */
#define RST_TL_REBUILD_PER_AUTHOR 100    /* ids of each author a rebuild reads */
#define RST_TL_FOLLOWS_MAX        5000   /* followed users a timeline reads */
#define RST_TL_PULL_MAX           126    /* authors merged at read time */
#define RST_TL_QUEUE_CAP          100000 /* jobs; over it, posters help drain */
#define RST_TL_STEP_FOLLOWERS     500    /* followers one fan-out step serves */

/* One page: the tweets older than `before` (0: from the newest) or, for
 * page paging, after `offset` of them. */
rst_err rst_timeline_page(rst_services *s, rst_arena *a, uint64_t uid, uint64_t before,
                          int offset, int limit, rst_tweet_page *out);

/* In a tweet write's Redis batch, after its commit (safe to send twice):
 * the id joins (or leaves) the author's recent list and a fan-out job is
 * queued. */
void rst_timeline_queue_post(rst_services *s, rst_batch *b, uint64_t id, uint64_t author);
void rst_timeline_queue_delete(rst_services *s, rst_batch *b, uint64_t id, uint64_t author);

/* After a post: when the queue is over RST_TL_QUEUE_CAP, the poster runs
 * a few fan-out steps itself before answering (back-pressure: writers slow
 * down instead of jobs being dropped). */
void rst_timeline_backpressure(rst_services *s);

/* After a committed follow or unfollow by `follower`: the cached following
 * list is stale from now on; after a follow the home timeline is dropped,
 * so the next read rebuilds it with the new author's tweets. */
void rst_timeline_follows_changed(rst_services *s, uint64_t follower, int followed);

/* One bounded step of fan-out (at most RST_TL_STEP_FOLLOWERS followers of
 * one job). 1 when it did work, 0 when the queue is empty, -1 when Redis
 * or a shard failed (the job is put back). */
int rst_timeline_fanout_step(rst_services *s);

/* For /metrics: the queue's length, the age of its oldest job and the lag
 * of the last finished post job (ms; -1 when unknown). 0, or -1 when
 * Redis is unavailable. */
int rst_timeline_queue_stats(rst_services *s, long long *len, long long *oldest_ms,
                             long long *last_lag_ms);

#endif
