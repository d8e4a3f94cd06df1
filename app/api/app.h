/* app.h -- the HTTP layer: route, apply the conventions, call a handler.
 *
 * rst_app_handle() runs the checks of API.md §1.1 in the contract's order
 * (size, route, Accept, token, Content-Type, JSON) so that no handler has to
 * repeat them; a handler starts with a parsed, valid request and maps its
 * service's typed result onto a response. */
#ifndef ROOST_API_APP_H
#define ROOST_API_APP_H

#include <cjson/cJSON.h>

#include "core/arena.h"
#include "domain/errors.h"
#include "domain/services.h"
#include "http/page.h"
#include "http/router.h"
#include "api/request.h"
#include "api/response.h"
#include "roostd/scoreboard.h"

typedef struct rst_ctx rst_ctx;
typedef void (*rst_handler_fn)(rst_ctx *c);

enum {
    RST_H_OPS       = 1 << 0,    /* operations endpoint: exempt from Accept rules */
    RST_H_AUTH      = 1 << 1,    /* needs a valid token */
    RST_H_FIELDS    = 1 << 2,    /* takes a JSON object body (empty -> 422) */
    RST_H_NO_FIELDS = 1 << 3,    /* takes no fields; an empty body is fine */
    RST_H_NO_REPLAY = 1 << 4     /* never stored by the idempotency layer */
};

typedef struct {
    rst_handler_fn fn;
    const char    *name;         /* stable route name for logs and metrics */
    unsigned       flags;
} rst_handler;

typedef struct {
    int      present;            /* a valid, current token came with the request */
    uint64_t user_id;
    int      admin;
} rst_auth;

struct rst_ctx {
    rst_services    *svc;
    const rst_scoreboard *sb;    /* the pool's shared table (for /status, /metrics) */
    rst_request     *req;
    rst_response    *resp;
    rst_arena       *arena;
    rst_route_match  match;
    cJSON           *body;       /* parsed body when the handler takes fields */
    const rst_handler *handler;
    rst_auth         auth;
};

/* Handles one request: fills resp. Returns the handler's route name (or a
 * pseudo-name like "not_found") for the access log. */
const char *rst_app_handle(rst_services *svc, const rst_scoreboard *sb, rst_request *req,
                           rst_response *resp, rst_arena *arena);

/* Every name rst_app_handle() may return, in a fixed order: the index of
 * a name is its slot in the scoreboard's per-route metrics. */
const char *const *rst_app_route_names(int *n);
int rst_app_route_index(const char *name);

/* Authorization helpers: 0 when allowed, else the 403 is written and -1
 * returned. The caller is signed in (RST_H_AUTH) when these run. */
int rst_ctx_require_admin(rst_ctx *c);
int rst_ctx_require_owner(rst_ctx *c, uint64_t owner_id);

/* Sets Location to the formatted path. */
void rst_ctx_location(rst_ctx *c, const char *prefix, uint64_t id);

/* Maps a service error onto the response (404, 502, 500, ...). */
void rst_ctx_fail(rst_ctx *c, rst_err err);

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
