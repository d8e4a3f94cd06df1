/* app.h -- the HTTP pipeline: route, apply the conventions, run a route.
 *
 * rst_app_handle() runs the checks of API.md §1.1 in the contract's order
 * (size, route, Accept, token, Content-Type, JSON, then the route's check
 * step for permission, existence and fields, then idempotency, then its
 * act step) so that no handler repeats them. */
#ifndef ROOST_API_APP_H
#define ROOST_API_APP_H

#include "api/ctx.h"

/* Handles one request: fills resp. Returns the route name (or a
 * pseudo-name like "not_found") for the access log and the metrics. */
const char *rst_app_handle(rst_services *svc, const rst_scoreboard *sb, rst_request *req,
                           rst_response *resp, rst_arena *arena);

/* Every name rst_app_handle() may return, in a fixed order: the index of
 * a name is its slot in the scoreboard's per-route metrics. The count is
 * known once the tables are read, before the scoreboard is sized. */
const char *const *rst_app_route_names(int *n);
int rst_app_route_index(const char *name);
/* How many names rst_app_route_names() gives: the scoreboard's size. */
int rst_app_route_count(void);

/* The i-th route served, in matching order (every row of every table);
 * NULL past the last. For the tests that walk every route: the
 * authorization matrix, the leak test and the router's fuzz target. */
const rst_route_def *rst_app_route_def(size_t i);

/* For tests: serve these tables instead of roostd's (NULL: back to them). */
void rst_app_use_tables(const rst_route_table *const *tables, size_t n);

#endif
