/* response.c -- writing status, headers and JSON bodies (see response.h). */
#include <xxhash.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/timefmt.h"
#include "api/response.h"

void rst_response_init(rst_response *r, rst_buf *body)
{
    r->status = 200;
    r->body = body;
    rst_buf_reset(body);
    r->hlen = 0;
    r->headers[0] = '\0';
    r->overflow = NULL;
    r->cache = RST_CACHE_NONE;
    r->content_type = NULL;
    r->nfields = 0;
}

void rst_response_header(rst_response *r, const char *name, const char *value)
{
    int n = snprintf(r->headers + r->hlen, sizeof(r->headers) - r->hlen, "%s: %s\r\n", name, value);
    if (n > 0 && (size_t)n < sizeof(r->headers) - r->hlen) {
        r->hlen += (size_t)n;
        return;
    }
    r->headers[r->hlen] = '\0';
    if (r->overflow == NULL) {
        r->overflow = name;
        rst_log_error("response header %s (%zu bytes) does not fit the header buffer",
                      name, strlen(value));
    }
}

const char *rst_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 409: return "Conflict";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 440: return "No Accept Header";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    }
    return "Unknown";
}

static void error_body(rst_response *r, int status, const char *code, const char *message)
{
    rst_buf *b = r->body;
    rst_buf_reset(b);
    rst_buf_puts(b, "{\"error\":{\"status\":");
    rst_json_u64(b, (uint64_t)status);
    rst_buf_puts(b, ",\"code\":");
    rst_json_str(b, code);
    rst_buf_puts(b, ",\"message\":");
    rst_json_str(b, message);
}

void rst_response_error(rst_response *r, int status, const char *code, const char *message)
{
    r->status = status;
    r->content_type = NULL;
    r->cache = RST_CACHE_NONE;
    error_body(r, status, code, message);
    rst_buf_puts(r->body, "}}");
}

void rst_response_field(rst_response *r, const char *field, const char *message)
{
    for (int i = 0; i < r->nfields; i++)
        if (strcmp(r->fields[i].field, field) == 0)
            return;                       /* first problem per field wins */
    if (r->nfields < RST_MAX_FIELD_ERRORS) {
        r->fields[r->nfields].field = field;
        r->fields[r->nfields].message = message;
        r->nfields++;
    }
}

int rst_response_has_fields(const rst_response *r)
{
    return r->nfields > 0;
}

void rst_response_validation_failed(rst_response *r)
{
    char message[512];
    size_t n = 0;
    message[0] = '\0';
    for (int i = 0; i < r->nfields && n < sizeof(message); i++) {
        int w = snprintf(message + n, sizeof(message) - n, "%s%s: %s", i ? "; " : "",
                         r->fields[i].field, r->fields[i].message);
        if (w < 0)
            break;
        n += (size_t)w;
    }
    r->status = 422;
    r->cache = RST_CACHE_NONE;
    error_body(r, 422, "validation_failed", message);
    rst_buf_puts(r->body, ",\"fields\":{");
    for (int i = 0; i < r->nfields; i++) {
        if (i > 0)
            rst_buf_putc(r->body, ',');
        rst_json_key(r->body, r->fields[i].field);
        rst_json_str(r->body, r->fields[i].message);
    }
    rst_buf_puts(r->body, "}}}");
}

/* ------------------------------------------------------------ ETag */

/* A strong validator only has to change whenever the body does; it need
 * not resist an attacker (a client can only fool its own cache). XXH3's
 * 128 bits make an accidental match between two versions of a resource
 * negligible, at a fraction of a cryptographic hash's cost per byte. */
static void compute_etag(const rst_buf *body, char out[36])
{
    XXH128_hash_t h = XXH3_128bits(body->data ? body->data : "", body->len);
    snprintf(out, 36, "\"%016llx%016llx\"", (unsigned long long)h.high64,
             (unsigned long long)h.low64);
}

/* If-None-Match uses the weak comparison (RFC 9110 §13.1.2): W/ is ignored. */
int rst_etag_matches(const char *inm, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = inm;
    while (p != NULL && *p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        const char *end = p;
        if (*end == '"') {
            end = strchr(p + 1, '"');
            if (end == NULL)
                return 0;
            end++;
        } else {
            while (*end != '\0' && *end != ',')
                end++;
        }
        if ((size_t)(end - p) == elen && memcmp(p, etag, elen) == 0)
            return 1;
        p = end;
        while (*p != '\0' && *p != ',')
            p++;
    }
    return 0;
}

/* ------------------------------------------------------------ sending */

/* Public answers also tell nginx's micro-cache when to drop them: at the
 * end of the current second (X-Accel-Expires: @<unix second>; nginx hides
 * the header from clients). max-age=1 alone would let nginx keep an answer
 * stored early in a second until the end of the next one -- almost 2 s --
 * because it counts expiry in whole seconds; API.md §1.5 allows 1 s. (A
 * worker's hot copy answers only within the second it was read in --
 * store/hotcache.h -- so this holds for its answers too.) */
static const char *cache_header(rst_cache_policy c, char *buf, size_t len)
{
    switch (c) {
    case RST_CACHE_PUBLIC:
        snprintf(buf, len, "Cache-Control: public, max-age=1\r\nX-Accel-Expires: @%llu\r\n",
                 (unsigned long long)(rst_time_now_ms() / 1000));
        return buf;
    case RST_CACHE_PRIVATE:
        return "Cache-Control: private, no-cache\r\n";
    default:
        return "";
    }
}

/* 204 and 304 carry no body, hence no Content-Length and no Content-Type
 * (RFC 9110 §15.3.5, §15.4.5). */
static int bodiless_status(int status)
{
    return status == 204 || status == 304;
}

int rst_response_head(rst_response *r, const rst_request *req, rst_buf *head, int *send_body)
{
    int is_get = req->method == RST_M_GET || req->method == RST_M_HEAD;
    char etag[36] = "", cc[96];
    if (r->body->oom || r->overflow != NULL) {
        r->hlen = 0;
        r->headers[0] = '\0';
        r->overflow = NULL;
        rst_response_error(r, 500, "internal_error",
                           "internal error; the request id is in the X-Request-Id header");
    }
    if (r->status == 200 && is_get) {
        compute_etag(r->body, etag);
        if (req->if_none_match != NULL && rst_etag_matches(req->if_none_match, etag))
            r->status = 304;
    }
    int bodiless = bodiless_status(r->status);
    if (bodiless)
        rst_buf_reset(r->body);
    *send_body = !bodiless && req->method != RST_M_HEAD;
    rst_buf_reset(head);
    rst_buf_printf(head, "Status: %d %s\r\n", r->status, rst_status_text(r->status));
    if (!bodiless)
        rst_buf_printf(head, "Content-Type: %s\r\n",
                       r->content_type ? r->content_type : "application/json; charset=utf-8");
    rst_buf_puts(head, cache_header(r->cache, cc, sizeof(cc)));
    if (etag[0])
        rst_buf_printf(head, "ETag: %s\r\n", etag);
    rst_buf_append(head, r->headers, r->hlen);
    if (*send_body)
        rst_buf_printf(head, "Content-Length: %zu\r\n", r->body->len);
    rst_buf_puts(head, "\r\n");
    return head->oom ? -1 : 0;
}

int rst_response_send(rst_response *r, const rst_request *req, FCGX_Request *fr)
{
    /* One head buffer for the process, reused: a worker sends one answer
     * at a time, and its capacity settles after the first few. */
    static rst_buf head;
    int send_body;
    int rc = rst_response_head(r, req, &head, &send_body);
    if (rc == 0 && FCGX_PutStr(head.data, (int)head.len, fr->out) != (int)head.len)
        rc = -1;
    if (rc == 0 && send_body && r->body->len > 0 &&
        FCGX_PutStr(r->body->data, (int)r->body->len, fr->out) != (int)r->body->len)
        rc = -1;
    return rc;
}
