/* names.h -- the current names of tweet authors (API.md §5: `user_name`
 * is the author's current name).
 *
 * Tweet rows hold no name: a tweet's name is looked up when it is read,
 * from Redis (user:{id}:name, one MGET for a whole page) or, on a miss,
 * from the users' shards (one query per server, all at once), then put in
 * Redis. A rename overwrites the cached name right after it commits
 * (rst_names_publish), so the author sees the new name at once and
 * everyone else as soon as nginx's 1 s micro-cache turns over. Readers
 * filling a miss only add (SET NX): a name read before a rename can never
 * replace the one the rename wrote. */
#ifndef ROOST_NAMES_H
#define ROOST_NAMES_H

#include <stdint.h>

#include "core/arena.h"
#include "domain/errors.h"
#include "domain/services.h"

/* The most user ids one call takes (a page has at most 101 authors). */
#define RST_NAMES_MAX 128

/* names[i] gets the name of uids[i] (arena), NULL for a user that does not
 * exist. RST_E_UNAVAILABLE when a shard that must be asked is down. */
rst_err rst_names_get(rst_services *s, rst_arena *a, const uint64_t *uids, int n,
                      const char **names);

/* After a committed rename: the cache holds the new name (or, if it cannot
 * be written, none). */
void rst_names_publish(rst_services *s, uint64_t uid, const char *name);

#endif
