/* ctx.h -- what a handler sees: one request's context, the route
 * declarations, and the helpers every handler shares.
 *
 * A route is declared once, in its resource's handler file, as a row of
 * that file's rst_route_def table: path pattern, methods, name (for logs
 * and metrics), flags, and its two steps. The pipeline (app.c) builds the
 * router, the Allow header and the metric names from those tables.
 *
 * Two steps, so that no write can happen while an answer is pending:
 *   check  reads and validates: permission, existence, fields. It writes
 *          nothing anywhere; it may record field problems or answer an
 *          error. May be NULL.
 *   act    does the work. The pipeline enters it only when check left no
 *          answer and no field problem (the Idempotency-Key header's
 *          included), so a 422 can never follow a committed write. */
#ifndef ROOST_API_CTX_H
#define ROOST_API_CTX_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "api/request.h"
#include "api/response.h"
#include "core/arena.h"
#include "domain/errors.h"
#include "domain/services.h"
#include "http/page.h"
#include "http/router.h"
#include "roostd/scoreboard.h"

typedef struct rst_ctx rst_ctx;
typedef void (*rst_step_fn)(rst_ctx *c);

enum {
    RST_H_OPS       = 1 << 0,    /* operations endpoint: exempt from Accept rules */
    RST_H_AUTH      = 1 << 1,    /* needs a valid token */
    RST_H_FIELDS    = 1 << 2,    /* takes a JSON object body (empty -> 422) */
    RST_H_NO_FIELDS = 1 << 3,    /* takes no fields; an empty body is fine */
    RST_H_NO_REPLAY = 1 << 4     /* never stored by the idempotency layer */
};

typedef struct {
    unsigned    methods;         /* RST_M_* bits; HEAD comes with GET */
    const char *pattern;         /* "/product/{id}" */
    const char *name;            /* stable route name for logs and metrics */
    unsigned    flags;           /* RST_H_* */
    rst_step_fn check;           /* may be NULL */
    rst_step_fn act;
} rst_route_def;

/* One resource's routes: `static const rst_route_def defs[] = {...};
 * const rst_route_table rst_xxx_routes = RST_ROUTE_TABLE(defs);` */
typedef struct {
    const rst_route_def *defs;
    size_t               n;
} rst_route_table;

#define RST_ROUTE_TABLE(defs) { (defs), sizeof(defs) / sizeof((defs)[0]) }

typedef struct {
    int      present;            /* a valid, current token came with the request */
    uint64_t user_id;
    int      admin;
} rst_auth;

struct rst_ctx {
    rst_services         *svc;
    const rst_scoreboard *sb;    /* the pool's shared table (for /status, /metrics) */
    rst_request          *req;
    rst_response         *resp;
    rst_arena            *arena;
    rst_route_match       match;
    cJSON                *body;  /* parsed body when the route takes fields */
    const rst_route_def  *route;
    rst_auth              auth;
    int                   hot_ok;  /* reads may come from the worker's hot copies (app.c) */
    void                 *input; /* what check parsed for act (in the arena) */
};

/* Authorization helpers: 0 when allowed, else the 403 is written and -1
 * returned. The caller is signed in (RST_H_AUTH) when these run. */
int rst_ctx_require_admin(rst_ctx *c);
int rst_ctx_require_owner(rst_ctx *c, uint64_t owner_id);

/* Sets Location to the formatted path. */
void rst_ctx_location(rst_ctx *c, const char *prefix, uint64_t id);

/* Maps a service error onto the response (404, 409, 422, 502, 503, 500,
 * ...), with the detail in `why` when the service gave one (may be NULL). */
void rst_ctx_fail(rst_ctx *c, rst_err err, const rst_why *why);

/* Allocates the route's input record in the arena (zeroed) and keeps it
 * in c->input; NULL (and a 500 written) on out of memory. */
void *rst_ctx_input(rst_ctx *c, size_t size);

/* Parses the pagination query for the list named by `list_ctx`; on a 422
 * writes the response and returns -1. */
int rst_ctx_page(rst_ctx *c, const char *list_ctx, rst_page_req *page);

/* Writes a list body: {"items": <items_json>, "limit", "page", "next_page",
 * "next_cursor"} per API.md §1.4. has_more says whether another item follows
 * and last_key is the cursor key of the last item. */
void rst_ctx_page_body(rst_ctx *c, const char *list_ctx, const rst_page_req *page,
                       const char *items_json, size_t items_len, int has_more,
                       uint64_t last_key);

#endif
