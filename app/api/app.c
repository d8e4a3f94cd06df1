/* app.c -- the route table and the request pipeline of API.md §1.1. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
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

static const rst_handler H_HEALTHZ       = { rst_h_healthz, "healthz", RST_H_OPS };
static const rst_handler H_READYZ        = { rst_h_readyz, "readyz", RST_H_OPS };
static const rst_handler H_STATUS        = { rst_h_status, "status", RST_H_OPS };
static const rst_handler H_METRICS       = { rst_h_metrics, "metrics", RST_H_OPS };
static const rst_handler H_PRODUCTS_LIST = { rst_h_products_list, "products.list", 0 };
static const rst_handler H_PRODUCT_GET   = { rst_h_product_get, "product.get", 0 };
static const rst_handler H_PRODUCT_NEW   = { rst_h_product_create, "product.create",
                                             RST_H_AUTH | RST_H_FIELDS };
static const rst_handler H_PRODUCT_PUT   = { rst_h_product_update, "product.update",
                                             RST_H_AUTH | RST_H_FIELDS };
static const rst_handler H_SIGNUP        = { rst_h_signup, "users.signup", RST_H_FIELDS };
/* A sign-in answer holds a fresh token: it must not be kept in Redis nor
 * replayed (a replay would also skip the throttle), so no idempotency. */
static const rst_handler H_SIGNIN        = { rst_h_signin, "users.signin",
                                             RST_H_FIELDS | RST_H_NO_REPLAY };
static const rst_handler H_USER_GET      = { rst_h_user_get, "user.get", 0 };
static const rst_handler H_USER_PUT      = { rst_h_user_update, "user.update",
                                             RST_H_AUTH | RST_H_FIELDS };

/* Literal paths come before id patterns that could also match them. */
static const rst_route routes[] = {
    { RST_M_GET, "/healthz", &H_HEALTHZ },
    { RST_M_GET, "/readyz", &H_READYZ },
    { RST_M_GET, "/status", &H_STATUS },
    { RST_M_GET, "/metrics", &H_METRICS },
    { RST_M_GET, "/products", &H_PRODUCTS_LIST },
    { RST_M_POST, "/products", &H_PRODUCT_NEW },
    { RST_M_GET, "/product/{id}", &H_PRODUCT_GET },
    { RST_M_PUT, "/product/{id}", &H_PRODUCT_PUT },
    { RST_M_POST, "/users/SignUp", &H_SIGNUP },
    { RST_M_POST, "/users/SignIn", &H_SIGNIN },
    { RST_M_GET, "/users/{id}", &H_USER_GET },
    { RST_M_PUT, "/users/{id}", &H_USER_PUT },
};

/* Answers decided before any handler runs, named for logs and metrics. */
static const char R_TOO_LARGE[] = "payload_too_large";
static const char R_NOT_FOUND[] = "not_found";
static const char R_BAD_METHOD[] = "method_not_allowed";

#define NROUTES (sizeof(routes) / sizeof(routes[0]))

/* The pseudo-routes, then every handler of the table once, in table order:
 * derived from the table so that a new route gets its metrics slot. */
static const char *route_names[3 + NROUTES];
static int nroute_names;
_Static_assert(3 + NROUTES <= RST_METRIC_ROUTES, "more routes than metrics slots");

static void collect_route_names(void)
{
    static const char *const early[] = { R_TOO_LARGE, R_NOT_FOUND, R_BAD_METHOD };
    for (size_t i = 0; i < 3; i++)
        route_names[nroute_names++] = early[i];
    for (size_t i = 0; i < NROUTES; i++) {
        const rst_handler *h = routes[i].data;
        int seen = 0;
        for (int k = 0; k < nroute_names && !seen; k++)
            seen = route_names[k] == h->name;
        if (!seen)
            route_names[nroute_names++] = h->name;
    }
}

const char *const *rst_app_route_names(int *n)
{
    if (nroute_names == 0)
        collect_route_names();
    *n = nroute_names;
    return route_names;
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
    switch (rst_token_verify(c->svc->secrets.jwt, token, (int64_t)(rst_time_now_ms() / 1000), &claims)) {
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
        rst_ctx_fail(c, err);
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
    if (c->handler->flags & RST_H_AUTH)
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
    unsigned flags = c->handler->flags;
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
    switch (rst_router_find(routes, NROUTES, c->req->method,
                      c->req->path, &c->match, &allowed)) {
    case RST_ROUTE_FOUND:
        c->handler = c->match.route->data;
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

/* POSTs go through the idempotency layer when they carry a key. A
 * malformed key is a field error the handler reports with its own (so the
 * 403/404 checks that come first in API.md §1.1 still come first). */
static void run_handler(rst_ctx *c)
{
    const char *key = c->req->idempotency_key;
    if (c->req->method != RST_M_POST || key == NULL) {
        c->handler->fn(c);
        return;
    }
    if (!rst_idem_key_valid(key)) {
        rst_response_field(c->resp, "Idempotency-Key", "must be 1 to 64 printable ASCII characters");
        c->handler->fn(c);
        if (c->resp->status < 300)      /* a handler that skipped its field check */
            rst_response_validation_failed(c->resp);
        return;
    }
    if (c->handler->flags & RST_H_NO_REPLAY) {
        c->handler->fn(c);              /* a valid key, but nothing is stored */
        return;
    }
    rst_idem st;
    if (rst_idem_begin(c, &st))
        return;
    c->handler->fn(c);
    rst_idem_finish(c, &st);
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
    if (!(c.handler->flags & RST_H_OPS) && check_accept(&c) != 0)
        return c.handler->name;
    if (check_token(&c) != 0 || check_content_type(&c) != 0 || parse_body(&c) != 0)
        return c.handler->name;
    run_handler(&c);
    if (c.body != NULL)
        cJSON_Delete(c.body);
    return c.handler->name;
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

void rst_ctx_fail(rst_ctx *c, rst_err err)
{
    switch (err) {
    case RST_OK:
        return;
    case RST_E_NOT_FOUND:
        rst_response_error(c->resp, 404, "not_found", "no such resource");
        return;
    case RST_E_FORBIDDEN:
        rst_response_error(c->resp, 403, "forbidden", "you may not do this");
        return;
    case RST_E_CONFLICT:
        rst_response_error(c->resp, 409, "conflict", "conflicts with the current state");
        return;
    case RST_E_VALIDATION:
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
    case RST_E_INTERNAL:
        break;
    }
    rst_log_error("request %s: internal error on %s %s", c->req->request_id,
                  c->req->method_name, c->req->path);
    rst_response_error(c->resp, 500, "internal_error",
                       "internal error; the request id is in the X-Request-Id header");
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
