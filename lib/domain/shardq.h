/* shardq.h -- queries over several shard servers at once: rows for a set
 * of ids spread over the shards (tweets of a page, authors of tweets), and
 * one query on every server (the global feed's scatter-gather). Both ask
 * the servers in parallel through rst_db_query_many. */
#ifndef ROOST_SHARDQ_H
#define ROOST_SHARDQ_H

#include <stdint.h>

#include "core/arena.h"
#include "domain/errors.h"
#include "domain/services.h"

/* The most ids one rst_shards_lookup call takes. */
#define RST_LOOKUP_MAX 128

/* Rows for ids[0..n): the ids are grouped by the server of their shard
 * and `select` (e.g. "SELECT id, name FROM users WHERE id IN ") gets one
 * IN list per server; every server is asked at once. The IN list is
 * padded to a power of two (repeating an id) so that a handful of
 * statement texts serve every size. *rows holds every row found, in no
 * particular order. RST_E_UNAVAILABLE when a server holding one of the
 * ids is down, RST_E_NOT_FOUND never (absent ids are simply not in rows),
 * RST_E_INTERNAL when n > RST_LOOKUP_MAX. `role`: the copy asked
 * (services.h); an id a replica lacks may be one it has not applied yet. */
rst_err rst_shards_lookup(rst_services *s, rst_arena *a, rst_role role, const char *select,
                          const char *cols, const uint64_t *ids, int n, rst_rows *rows);

/* Runs sql with the same parameters on every shard server (the copy
 * `role` asks for, services.h) at once.
 * jobs[i] (s->nshards of them, in the arena) holds server i's rows and
 * outcome. Returns RST_OK when every server answered, else the error of
 * the first that did not (logged with `what`). */
rst_err rst_shards_all(rst_services *s, rst_arena *a, rst_role role, const char *sql,
                       const rst_param *params, int nparams, const char *cols, const char *what,
                       rst_db_job **jobs);

#endif
