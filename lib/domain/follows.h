/* follows.h -- who follows whom (API.md §6), stored twice.
 *
 * An edge has two halves: follows_out on the follower's shard ("who I
 * follow", counted by the follower's following_count) and follows_in on
 * the followee's shard ("who follows me", counted by followers_count). Each
 * half is written in one local transaction with its counter, so on every
 * shard the counters equal the rows. The halves are written in a fixed
 * order -- out, then in, for a follow; out, then in, for an unfollow too --
 * and the out half is the truth: a half-written edge (a worker killed, a
 * shard down between the halves) is an out half without its in half
 * (completed by repeating the follow, or by `roostctl repair follows`) or,
 * after an interrupted unfollow, an in half without its out half (removed
 * by repeating the unfollow, or by the repair).
 *
 * Every change of one follower's edges runs under a named lock on the
 * follower's server (GET_LOCK), so concurrent follows and unfollows of a
 * pair never interleave their halves. */
#ifndef ROOST_FOLLOWS_H
#define ROOST_FOLLOWS_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "domain/errors.h"
#include "domain/services.h"

typedef struct {
    uint64_t follower_id;
    uint64_t followee_id;
    uint64_t id;                 /* k-sorted, minted when the edge was made */
    uint64_t created_ms;
} rst_follow;

/* follower follows followee (who must exist: RST_E_NOT_FOUND; following
 * oneself is the caller's 422). *created is 1 when this call made the edge
 * or completed a half-made one, 0 when it was already whole. */
rst_err rst_follow_add(rst_services *s, rst_arena *a, uint64_t follower, uint64_t followee,
                       rst_follow *out, int *created);

/* Removes the edge; *out is the edge as it was. RST_E_NOT_FOUND when there
 * was none (neither half). */
rst_err rst_follow_remove(rst_services *s, rst_arena *a, uint64_t follower, uint64_t followee,
                          rst_follow *out);

/* `roostctl repair follows`: every half-written edge completed (an out
 * half without its in half gets it) or removed (an in half without its out
 * half goes), each under the follower's lock and checked again under it,
 * then every user's two counters set to the rows they count. With dry_run
 * nothing is written, only counted. progress (may be NULL) is called after
 * every chunk with the rows examined so far and the total. */
typedef struct {
    uint64_t examined;           /* halves looked at */
    uint64_t completed;          /* in halves added */
    uint64_t removed;            /* in halves removed */
    uint64_t counters;           /* users whose counters were (or would be) fixed */
} rst_follow_repair;

rst_err rst_follows_repair(rst_services *s, int dry_run,
                           void (*progress)(uint64_t done, uint64_t total, void *arg), void *arg,
                           rst_follow_repair *out);

/* A page of one user's followers (incoming) or of the users they follow,
 * newest follow first: after the edge `before` (a cursor; 0: the start),
 * or from `page_offset` (page-based; -1 for cursor paging). */
typedef struct {
    uint64_t user_id;
    int      incoming;
    uint64_t before;
    int      page_offset;
    int      limit;
} rst_follow_query;

typedef struct {
    uint64_t    user_id;         /* the other user of the edge */
    const char *name;            /* their current name (NULL: gone) */
    uint64_t    edge_id;         /* the cursor key */
    uint64_t    created_ms;
} rst_follow_entry;

typedef struct {
    rst_follow_entry *items;
    int               n;
    int               has_more;
} rst_follow_page;

/* RST_E_NOT_FOUND when the user does not exist. One index range scan of
 * limit + 1 rows on the user's shard, and the names in one batch. */
rst_err rst_follow_list(rst_services *s, rst_arena *a, const rst_follow_query *q,
                        rst_follow_page *out);

/* {"id", "name", "followed_at"} */
void rst_follow_entry_json(rst_buf *b, const rst_follow_entry *e);

/* Writes {"follower_id", "followee_id", "created_at"}. */
void rst_follow_json(rst_buf *b, const rst_follow *f);

#endif
