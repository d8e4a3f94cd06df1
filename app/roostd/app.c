/* app.c -- the route table and the request pipeline of API.md §1.1. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/json.h"
#include "core/log.h"
#include "http/accept.h"
#include "roostd/app.h"
#include "roostd/handlers.h"

/* ------------------------------------------------------------ routes */

static const rst_handler H_HEALTHZ       = { rst_h_healthz, "healthz", RST_H_OPS };
static const rst_handler H_READYZ        = { rst_h_readyz, "readyz", RST_H_OPS };
static const rst_handler H_PRODUCTS_LIST = { rst_h_products_list, "products.list", 0 };
static const rst_handler H_PRODUCT_GET   = { rst_h_product_get, "product.get", 0 };

static const rst_route routes[] = {
    { RST_M_GET, "/healthz", &H_HEALTHZ },
    { RST_M_GET, "/readyz", &H_READYZ },
    { RST_M_GET, "/products", &H_PRODUCTS_LIST },
    { RST_M_GET, "/product/{id}", &H_PRODUCT_GET },
};

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
    switch (rst_router_find(routes, sizeof(routes) / sizeof(routes[0]), c->req->method,
                      c->req->path, &c->match, &allowed)) {
    case RST_ROUTE_FOUND:
        c->handler = c->match.route->data;
        return NULL;
    case RST_ROUTE_NOT_FOUND:
        rst_response_error(c->resp, 404, "not_found", "no such resource");
        return "not_found";
    case RST_ROUTE_BAD_METHOD: {
        char allow[64];
        rst_route_allow_header(allowed, allow, sizeof(allow));
        rst_response_error(c->resp, 405, "method_not_allowed", "method not allowed on this resource");
        rst_response_header(c->resp, "Allow", allow);
        return "method_not_allowed";
    }
    }
    return "not_found";
}

const char *rst_app_handle(rst_services *svc, rst_request *req, rst_response *resp,
                           rst_arena *arena)
{
    rst_ctx c = { .svc = svc, .req = req, .resp = resp, .arena = arena };
    if (req->body_too_large) {
        rst_response_error(resp, 413, "payload_too_large", "the body is larger than 64 KiB");
        return "payload_too_large";
    }
    const char *early = route_request(&c);
    if (early != NULL)
        return early;
    if (!(c.handler->flags & RST_H_OPS) && check_accept(&c) != 0)
        return c.handler->name;
    if (check_content_type(&c) != 0 || parse_body(&c) != 0)
        return c.handler->name;
    c.handler->fn(&c);
    if (c.body != NULL)
        cJSON_Delete(c.body);
    return c.handler->name;
}

/* ------------------------------------------------------------ helpers */

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
    const char *field, *msg;
    if (rst_page_parse(c->req->query, &c->svc->secrets.cursor, list_ctx, page, &field, &msg) == 0)
        return 0;
    rst_response_field(c->resp, field, msg);
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
