/* app.c -- the request pipeline of API.md §1.1 and the route tables it serves. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>

#include "auth/token.h"
#include "core/json.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "domain/users.h"
#include "http/accept.h"
#include "api/app.h"
#include "api/handlers.h"
#include "api/idempotency.h"

/* ------------------------------------------------------------ routes */

/* Every resource's table, in matching order: within a table, literal
 * paths come before id patterns that could also match them. */
static const rst_route_table *const tables[] = {
    &rst_ops_routes, &rst_product_routes, &rst_user_routes, &rst_cart_routes,
    &rst_follow_routes, &rst_tweet_routes, &rst_timeline_routes,
};

#define MAX_ROUTES 128
#define NTABLES (sizeof(tables) / sizeof(tables[0]))

static const rst_route_table *const *active = tables;
static size_t nactive = NTABLES;

/* The router's flat view of the tables, built once per process. */
static rst_route routes[MAX_ROUTES];
static size_t nroutes;

/* Answers decided before any route runs, named for logs and metrics. */
static const char R_TOO_LARGE[] = "payload_too_large";
static const char R_NOT_FOUND[] = "not_found";
static const char R_BAD_METHOD[] = "method_not_allowed";

/* The pseudo-routes, then every route name once, in table order. */
static const char *route_names[3 + MAX_ROUTES];
static int nroute_names;

static void add_route_name(const char *name)
{
    for (int k = 0; k < nroute_names; k++)
        if (strcmp(route_names[k], name) == 0)
            return;
    route_names[nroute_names++] = name;
}

static void build_routes(void)
{
    add_route_name(R_TOO_LARGE);
    add_route_name(R_NOT_FOUND);
    add_route_name(R_BAD_METHOD);
    for (size_t t = 0; t < nactive; t++) {
        for (size_t i = 0; i < active[t]->n; i++) {
            const rst_route_def *d = &active[t]->defs[i];
            if (nroutes == MAX_ROUTES) {
                rst_log_error("more than %d routes: raise MAX_ROUTES in app.c", MAX_ROUTES);
                abort();
            }
            routes[nroutes++] = (rst_route){ d->methods, d->pattern, d };
            add_route_name(d->name);
        }
    }
}

void rst_app_use_tables(const rst_route_table *const *t, size_t n)
{
    active = t != NULL ? t : tables;
    nactive = t != NULL ? n : NTABLES;
    nroutes = 0;
    nroute_names = 0;
}

static void ensure_routes(void)
{
    if (nroute_names == 0)
        build_routes();
}

const char *const *rst_app_route_names(int *n)
{
    ensure_routes();
    *n = nroute_names;
    return route_names;
}

int rst_app_route_count(void)
{
    int n;
    rst_app_route_names(&n);
    return n;
}

const rst_route_def *rst_app_route_def(size_t i)
{
    ensure_routes();
    return i < nroutes ? routes[i].data : NULL;
}

int rst_app_route_index(const char *name)
{
    int n;
    const char *const *names = rst_app_route_names(&n);
    for (int i = 0; i < n; i++)
        if (names[i] == name || strcmp(names[i], name) == 0)
            return i;
    return -1;
}

/* ------------------------------------------------------------ checks */

static int is_json_media_type(const char *ct)
{
    static const char json[] = "application/json";
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (strncasecmp(ct, json, sizeof(json) - 1) != 0)
        return 0;
    ct += sizeof(json) - 1;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    return *ct == '\0' || *ct == ';';
}

static int check_accept(rst_ctx *c)
{
    const char *accept = c->req->accept;
    if (accept == NULL || accept[strspn(accept, " \t")] == '\0') {
        rst_response_error(c->resp, 440, "no_accept_header",
                           "send an Accept header that allows application/json");
        return -1;
    }
    if (!rst_accept_json(accept)) {
        rst_response_error(c->resp, 406, "not_acceptable",
                           "this API answers only application/json");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------ tokens */

static void unauthorized(rst_ctx *c, const char *code, const char *message, const char *hint)
{
    char www[160];
    rst_response_error(c->resp, 401, code, message);
    if (hint != NULL)
        snprintf(www, sizeof(www), "Bearer error=\"invalid_token\", error_description=\"%s\"", hint);
    else
        snprintf(www, sizeof(www), "Bearer");
    rst_response_header(c->resp, "WWW-Authenticate", www);
}

static const char *bearer_token(const char *h)
{
    if (h == NULL)
        return NULL;
    while (*h == ' ')
        h++;
    if (strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    return *h ? h : NULL;
}

/* Verifies the token and that it is still current (token version). On
 * failure writes the 401 and returns -1; a database outage is a 502. */
static int authenticate(rst_ctx *c)
{
    const char *token = bearer_token(c->req->authorization);
    if (token == NULL) {
        unauthorized(c, "unauthorized", "send Authorization: Bearer <token>", NULL);
        return -1;
    }
    rst_claims claims;
    switch (rst_token_verify_cached(c->svc->tokens, c->svc->secrets.jwt, token,
                                    (int64_t)(rst_time_now_ms() / 1000), &claims)) {
    case RST_TOKEN_OK:
        break;
    case RST_TOKEN_EXPIRED:
        unauthorized(c, "token_expired", "the token has expired; sign in again", "expired");
        return -1;
    default:
        unauthorized(c, "unauthorized", "the token is not valid", "invalid");
        return -1;
    }
    uint64_t version;
    int admin;
    rst_err err = rst_users_token_state(c->svc, c->arena, claims.sub, &version, &admin);
    if (err == RST_E_NOT_FOUND) {
        unauthorized(c, "unauthorized", "the token is not valid", "unknown user");
        return -1;
    }
    if (err != RST_OK) {
        rst_ctx_fail(c, err, NULL);
        return -1;
    }
    if (version != claims.ver) {
        unauthorized(c, "token_expired", "the token was revoked; sign in again", "revoked");
        return -1;
    }
    c->auth.present = 1;
    c->auth.user_id = claims.sub;
    c->auth.admin = admin;
    return 0;
}

/* Endpoints that do not need a token still use a valid one (idempotency
 * scope, read-your-writes); an invalid one there is simply ignored. */
static int check_token(rst_ctx *c)
{
    if (c->route->flags & RST_H_AUTH)
        return authenticate(c);
    if (bearer_token(c->req->authorization) == NULL || c->req->method != RST_M_POST)
        return 0;
    rst_ctx probe = *c;
    rst_response scratch;
    rst_buf sink;
    rst_buf_init(&sink);
    rst_response_init(&scratch, &sink);
    probe.resp = &scratch;
    if (authenticate(&probe) == 0)
        c->auth = probe.auth;
    rst_buf_free(&sink);
    return 0;
}

/* ------------------------------------------------------------ read-your-writes */

static int is_read(const rst_request *req)
{
    return req->method == RST_M_GET || req->method == RST_M_HEAD;
}

/* Who a request is from, for read-your-writes: the authenticated caller,
 * or on a public read the subject of a valid token. Its version is not
 * checked here: it only ever sends the request's reads to the primaries. */
static uint64_t reader_of(rst_ctx *c)
{
    if (c->auth.present)
        return c->auth.user_id;
    const char *token = bearer_token(c->req->authorization);
    rst_claims claims;
    if (token == NULL ||
        rst_token_verify_cached(c->svc->tokens, c->svc->secrets.jwt, token,
                                (int64_t)(rst_time_now_ms() / 1000), &claims) != RST_TOKEN_OK)
        return 0;
    return claims.sub;
}

/* Where this request's reads go (lib/domain/services.h). */
static void route_reads(rst_ctx *c)
{
    uint64_t who = c->svc->nreplicas > 0 && is_read(c->req) ? reader_of(c) : 0;
    rst_route_reads(c->svc, is_read(c->req), who);
    /* The worker's hot copies (store/hotcache.h) may be up to a second
     * behind another worker's write, so never for a reader who may have
     * made it: anonymous readers, and signed-in ones whose read-your-writes
     * mark says they wrote nothing lately -- a mark kept only with
     * replicas (without them, a signed-in reader never uses the copies).
     * A request that sends Cache-Control: no-cache asks for no stored
     * answer, and gets none. */
    c->hot_ok = is_read(c->req) && c->svc->hot != NULL && !rst_request_no_cache(c->req);
    if (c->hot_ok && c->svc->nreplicas == 0)
        c->hot_ok = reader_of(c) == 0;
    else if (c->hot_ok && who != 0)
        c->hot_ok = !c->svc->read_primary;
}

/* After a write request: its caller reads the primaries for a while. A
 * request refused with a 4xx wrote nothing; a 5xx may have. */
static void mark_writer(rst_ctx *c)
{
    if (!is_read(c->req) && c->auth.present && (c->resp->status < 400 || c->resp->status >= 500))
        rst_mark_writer(c->svc, c->auth.user_id);
}

static int has_body(const rst_request *req)
{
    return req->body_len > 0;
}

static int check_content_type(rst_ctx *c)
{
    rst_method m = c->req->method;
    if ((m != RST_M_POST && m != RST_M_PUT) || !has_body(c->req))
        return 0;
    if (c->req->content_type == NULL || !is_json_media_type(c->req->content_type)) {
        rst_response_error(c->resp, 415, "unsupported_media_type",
                           "send the body as Content-Type: application/json");
        return -1;
    }
    return 0;
}

static int parse_body(rst_ctx *c)
{
    unsigned flags = c->route->flags;
    if (!(flags & (RST_H_FIELDS | RST_H_NO_FIELDS)))
        return 0;
    if (!has_body(c->req)) {
        if (flags & RST_H_NO_FIELDS)
            return 0;
        rst_response_error(c->resp, 422, "invalid_body", "the body must be a JSON object");
        return -1;
    }
    switch (rst_json_parse_body(c->req->body, c->req->body_len, &c->body)) {
    case RST_JSON_OK:
        return 0;
    case RST_JSON_MALFORMED:
        rst_response_error(c->resp, 400, "malformed_json",
                           "the body is not well-formed JSON in UTF-8");
        return -1;
    case RST_JSON_NOT_OBJECT:
        rst_response_error(c->resp, 422, "invalid_body", "the body must be a JSON object");
        return -1;
    case RST_JSON_TOO_DEEP:
        rst_response_error(c->resp, 422, "invalid_body", "the body nests deeper than 16 levels");
        return -1;
    case RST_JSON_NOMEM:
        break;
    }
    rst_response_error(c->resp, 500, "internal_error", "out of memory");
    return -1;
}

static const char *route_request(rst_ctx *c)
{
    unsigned allowed = 0;
    ensure_routes();
    switch (rst_router_find(routes, nroutes, c->req->method,
                      c->req->path, &c->match, &allowed)) {
    case RST_ROUTE_FOUND:
        c->route = c->match.route->data;
        return NULL;
    case RST_ROUTE_NOT_FOUND:
        rst_response_error(c->resp, 404, "not_found", "no such resource");
        return R_NOT_FOUND;
    case RST_ROUTE_BAD_METHOD: {
        char allow[64];
        rst_route_allow_header(allowed, allow, sizeof(allow));
        rst_response_error(c->resp, 405, "method_not_allowed", "method not allowed on this resource");
        rst_response_header(c->resp, "Allow", allow);
        return R_BAD_METHOD;
    }
    }
    return R_NOT_FOUND;
}

/* The route's two steps (ctx.h). Field problems -- the Idempotency-Key
 * header's among them -- are collected before and during check, after the
 * 403/404 answers check may give (API.md §1.1's order), and the pipeline
 * refuses to enter act while any is pending. POSTs with a valid key go
 * through the idempotency layer around act. */
/* The slow-request failpoint's sleep (see failpoints below). */
#define FP_SLOW_REQUEST_MS 3500

static void act(rst_ctx *c)
{
    if (c->svc->failpoints & RST_FP_SLOW_REQUEST) {
        struct timespec ts = { FP_SLOW_REQUEST_MS / 1000, (FP_SLOW_REQUEST_MS % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }
    c->route->act(c);
}

static void run_route(rst_ctx *c)
{
    const rst_route_def *d = c->route;
    const char *key = c->req->method == RST_M_POST ? c->req->idempotency_key : NULL;
    if (key != NULL && !rst_idem_key_valid(key))
        rst_response_field(c->resp, "Idempotency-Key", "must be 1 to 64 printable ASCII characters");
    if (d->check != NULL)
        d->check(c);
    if (c->resp->status >= 300)
        return;                        /* check answered (403, 404, 422, ...) */
    if (rst_response_has_fields(c->resp)) {
        rst_response_validation_failed(c->resp);
        return;
    }
    (void)rst_store_outcome_unknown();     /* nothing left from a request before */
    if (key == NULL || (d->flags & RST_H_NO_REPLAY)) {
        act(c);
        return;
    }
    rst_idem st;
    if (rst_idem_begin(c, &st))
        return;
    act(c);
    rst_idem_finish(c, &st);
}

/* ------------------------------------------------------------ failpoints */

/* Tests make faults happen at exact points: a request that names a
 * failpoint in X-Roost-Failpoint arms it for itself, when the process was
 * started with that name in ROOST_FAILPOINTS (only the test stack is). An
 * installed roostd ignores the header. The failpoints:
 *   write-reply-lost     the answer to a commit is lost after it committed
 *   kill-between-halves  the worker dies between the two halves of a follow
 *   breaker-open         this worker's Redis breaker is open (as right after
 *                        a failure) while Redis itself is up
 *   down-after-commit    every database is gone once a commit succeeded
 *                        (the answer must still say the write happened)
 *   outcome-unknowable   a commit's answer is lost and the server is gone
 *                        at once: nobody can learn whether it happened
 *   slow-request         the request sleeps FP_SLOW_REQUEST_MS just before
 *                        its route acts, its Idempotency-Key claimed (the
 *                        slow log, request_terminate_timeout, a repeat while
 *                        the first still runs) */
static const char *const failpoint_names[] = { "write-reply-lost", "kill-between-halves",
                                               "breaker-open", "slow-request",
                                               "down-after-commit", "outcome-unknowable" };

/* The failpoint's index, when the header names one this process allows. */
static int failpoint_allowed(const char *name)
{
    static const char *allowed;
    static int read;
    if (!read) {
        allowed = getenv("ROOST_FAILPOINTS");
        read = 1;
    }
    if (allowed == NULL || name == NULL)
        return -1;
    for (int i = 0; i < (int)(sizeof(failpoint_names) / sizeof(failpoint_names[0])); i++)
        if (strcmp(name, failpoint_names[i]) == 0 && strstr(allowed, name) != NULL)
            return i;
    return -1;
}

static void failpoints_arm(rst_services *svc, const rst_request *req, int on)
{
    int fp = failpoint_allowed(req->failpoint);
    if (fp < 0)
        return;
    if (fp == 1) {
        svc->failpoints = on ? RST_FP_KILL_BETWEEN_HALVES : 0;
        return;
    }
    if (fp == 2) {
        rst_cache_failpoint_breaker(svc->cache, on);
        return;
    }
    if (fp == 3) {
        svc->failpoints = on ? RST_FP_SLOW_REQUEST : 0;
        return;
    }
    rst_db *dbs[RST_MAX_SERVERS + 1];
    int n = 0;
    dbs[n++] = svc->catalog;
    for (int i = 0; i < svc->nshards; i++)
        dbs[n++] = svc->shards[i];
    for (int i = 0; i < n; i++) {
        if (!on) {
            rst_db_failpoints_clear(dbs[i]);
            continue;
        }
        if (fp == 4 || fp == 5)
            rst_db_failpoint_down_after_commit(dbs[i]);
        if (fp == 0 || fp == 5)
            rst_db_failpoint_lose_reply(dbs[i]);
    }
}

const char *rst_app_handle(rst_services *svc, const rst_scoreboard *sb, rst_request *req,
                           rst_response *resp, rst_arena *arena)
{
    rst_ctx c = { .svc = svc, .sb = sb, .req = req, .resp = resp, .arena = arena };
    if (req->body_too_large) {
        rst_response_error(resp, 413, "payload_too_large", "the body is larger than 64 KiB");
        return R_TOO_LARGE;
    }
    const char *early = route_request(&c);
    if (early != NULL)
        return early;
    if (req->on_route != NULL)
        req->on_route(req->on_route_arg, c.route->name);
    if (!(c.route->flags & RST_H_OPS) && check_accept(&c) != 0)
        return c.route->name;
    if (check_token(&c) != 0 || check_content_type(&c) != 0 || parse_body(&c) != 0)
        return c.route->name;
    route_reads(&c);
    failpoints_arm(svc, req, 1);
    run_route(&c);
    failpoints_arm(svc, req, 0);
    mark_writer(&c);
    svc->read_primary = 1;               /* until the next request decides */
    if (c.body != NULL)
        cJSON_Delete(c.body);
    return c.route->name;
}

/* ------------------------------------------------------------ helpers */

int rst_ctx_require_admin(rst_ctx *c)
{
    if (c->auth.present && c->auth.admin)
        return 0;
    rst_response_error(c->resp, 403, "forbidden", "only an admin may do this");
    return -1;
}

int rst_ctx_require_owner(rst_ctx *c, uint64_t owner_id)
{
    if (c->auth.present && (c->auth.admin || c->auth.user_id == owner_id))
        return 0;
    rst_response_error(c->resp, 403, "forbidden", "only the owner or an admin may do this");
    return -1;
}

void rst_ctx_location(rst_ctx *c, const char *prefix, uint64_t id)
{
    char loc[64];
    snprintf(loc, sizeof(loc), "%s%" PRIu64, prefix, id);
    rst_response_header(c->resp, "Location", loc);
}

/* "field: message" when both are known, else whichever is. */
static const char *why_text(rst_ctx *c, const rst_why *why, const char *fallback)
{
    if (why == NULL || why->message == NULL)
        return fallback;
    if (why->field == NULL)
        return why->message;
    char tmp[256];
    snprintf(tmp, sizeof(tmp), "%s: %s", why->field, why->message);
    const char *m = rst_arena_strdup(c->arena, tmp);
    return m ? m : why->message;
}

void rst_ctx_fail(rst_ctx *c, rst_err err, const rst_why *why)
{
    switch (err) {
    case RST_OK:
        return;
    case RST_E_NOT_FOUND:
        rst_response_error(c->resp, 404, "not_found", why_text(c, why, "no such resource"));
        return;
    case RST_E_FORBIDDEN:
        rst_response_error(c->resp, 403, "forbidden", why_text(c, why, "you may not do this"));
        return;
    case RST_E_CONFLICT:
        rst_response_error(c->resp, 409, "conflict",
                           why_text(c, why, "conflicts with the current state"));
        return;
    case RST_E_VALIDATION:
        if (why != NULL && why->field != NULL)
            rst_response_field(c->resp, why->field, why->message ? why->message : "is invalid");
        rst_response_validation_failed(c->resp);
        return;
    case RST_E_UNAUTHORIZED:
        rst_response_error(c->resp, 401, "invalid_credentials", "wrong name or password");
        return;
    case RST_E_RATE_LIMITED:
        rst_response_error(c->resp, 429, "rate_limited", "too many attempts; retry later");
        return;
    case RST_E_UNAVAILABLE:
        rst_response_error(c->resp, 502, "upstream_unavailable",
                           "a database this request needs is unavailable; retry later");
        return;
    case RST_E_BUSY:
        rst_response_error(c->resp, 503, "service_unavailable",
                           why_text(c, why, "the data is busy; retry shortly"));
        rst_response_header(c->resp, "Retry-After", "1");
        return;
    case RST_E_INTERNAL:
        break;
    }
    rst_log_error("request %s: internal error on %s %s", c->req->request_id,
                  c->req->method_name, c->req->path);
    rst_response_error(c->resp, 500, "internal_error",
                       "internal error; the request id is in the X-Request-Id header");
}

void *rst_ctx_input(rst_ctx *c, size_t size)
{
    c->input = rst_arena_calloc(c->arena, size);
    if (c->input == NULL)
        rst_response_error(c->resp, 500, "internal_error", "out of memory");
    return c->input;
}

int rst_ctx_page(rst_ctx *c, const char *list_ctx, rst_page_req *page)
{
    rst_page_problem p[RST_PAGE_MAX_PROBLEMS];
    int n;
    if (rst_page_parse_all(c->req->query, &c->svc->secrets.cursor, list_ctx, page, p, &n) == 0)
        return 0;
    for (int i = 0; i < n; i++)
        rst_response_field(c->resp, p[i].field, p[i].msg);
    rst_response_validation_failed(c->resp);
    return -1;
}

void rst_ctx_page_body(rst_ctx *c, const char *list_ctx, const rst_page_req *page,
                       const char *items_json, size_t items_len, int has_more,
                       uint64_t last_key)
{
    rst_buf *b = c->resp->body;
    rst_buf_puts(b, "{\"items\":");
    rst_buf_append(b, items_json, items_len);
    rst_buf_puts(b, ",\"limit\":");
    rst_json_u64(b, (uint64_t)page->limit);
    if (page->page > 0) {
        rst_buf_puts(b, ",\"page\":");
        rst_json_u64(b, (uint64_t)page->page);
        rst_buf_puts(b, ",\"next_page\":");
        if (has_more && page->page < RST_PAGE_MAX)
            rst_json_u64(b, (uint64_t)page->page + 1);
        else
            rst_buf_puts(b, "null");
    }
    rst_buf_puts(b, ",\"next_cursor\":");
    if (has_more) {
        char cur[RST_CURSOR_MAXLEN];
        if (rst_cursor_encode(&c->svc->secrets.cursor, list_ctx, last_key, cur, sizeof(cur)) == 0)
            rst_buf_puts(b, "null");
        else
            rst_json_str(b, cur);
    } else {
        rst_buf_puts(b, "null");
    }
    rst_buf_putc(b, '}');
}
