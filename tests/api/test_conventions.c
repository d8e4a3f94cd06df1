/* test_conventions.c -- API.md §1.1-1.3 and §1.5 through nginx: the Accept
 * rules, routing (404/405, HEAD), the order of the checks, the 413 from
 * nginx, Content-Type and X-Request-Id on every answer, the error body,
 * ETags, 304s and nginx's micro-cache. The TCase "body" holds the
 * request-body rules (415, 400, 422 invalid_body, 413), exercised on
 * POST /users/SignUp. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "suites.h"

#define JSON_CT "application/json; charset=utf-8"
#define LIST "/products?limit=3"

/* ------------------------------------------------------------ helpers */

/* A request without any Accept header. */
static int no_accept(api_resp *r, const char *method, const char *path)
{
    const char *h[] = { "Accept:", NULL };
    return api_request(r, method, path, NULL, 0, h);
}

static int with_header(api_resp *r, const char *method, const char *path, const char *line)
{
    const char *h[] = { line, NULL };
    return api_request(r, method, path, NULL, 0, h);
}

/* The header's value, or "" when absent (never NULL, for messages). */
static const char *hdr(const api_resp *r, const char *name, char *out, size_t outlen)
{
    if (api_header(r, name, out, outlen) == NULL)
        out[0] = '\0';
    return out;
}

static void assert_header(const api_resp *r, const char *name, const char *want)
{
    char v[256];
    hdr(r, name, v, sizeof(v));
    ck_assert_msg(strcmp(v, want) == 0, "%s: \"%s\", want \"%s\"", name, v, want);
}

/* 1 when the comma-separated Allow value lists `method`. */
static int allow_lists(const char *allow, const char *method)
{
    size_t n = strlen(method);
    for (const char *p = allow; *p; ) {
        p += strspn(p, " ,");
        size_t len = strcspn(p, " ,");
        if (len == n && strncmp(p, method, n) == 0)
            return 1;
        p += len;
    }
    return 0;
}

/* The id of some product, for the routes that need one. */
static void some_product(char *path, size_t len)
{
    char id[32];
    ck_assert_msg(api_product_id(0, id, sizeof(id)) == 0, "no product in the catalog (seeded?)");
    snprintf(path, len, "/product/%s", id);
}

/* A strong entity tag: "…", no W/ prefix. */
static void assert_strong_etag(const api_resp *r, char *etag, size_t len)
{
    hdr(r, "ETag", etag, len);
    size_t n = strlen(etag);
    ck_assert_msg(n >= 2 && etag[0] == '"' && etag[n - 1] == '"' && strchr(etag + 1, '"') == etag + n - 1,
                  "not a strong ETag: '%s' (status %ld)", etag, r->status);
}

static int is_request_id(const char *s)
{
    if (strlen(s) != 32)
        return 0;
    return strspn(s, "0123456789abcdef") == 32;
}

/* ------------------------------------------------------------ Accept */

START_TEST(test_accept_missing)
{
    api_resp r;
    api_ok(no_accept(&r, "GET", LIST));
    api_assert_error(&r, 440, "no_accept_header");
    api_free(&r);
}
END_TEST

START_TEST(test_accept_empty)
{
    api_resp r;
    api_ok(with_header(&r, "GET", LIST, "Accept;"));   /* "Accept:" with no value */
    api_assert_error(&r, 440, "no_accept_header");
    api_free(&r);
}
END_TEST

/* RFC 9110 §12.5.1: q-values count, q=0 excludes, the most specific
 * matching range decides. */
static const struct {
    const char *accept;
    int status;
} accept_cases[] = {
    { "application/json", 200 },
    { "application/*", 200 },
    { "*/*", 200 },
    { "APPLICATION/JSON", 200 },
    { "application/json; charset=utf-8", 200 },
    { "text/html, application/json;q=0.1", 200 },
    { "application/json;q=0.001", 200 },
    { "application/*;q=0, application/json", 200 },
    { "*/*;q=0, application/json;q=0.5", 200 },
    { "text/html;q=1, */*;q=0.1", 200 },
    { "text/html", 406 },
    { "text/*", 406 },
    { "application/xml", 406 },
    { "application/json;q=0", 406 },
    { "application/json;q=0, */*", 406 },
    { "application/json;q=0, application/*", 406 },
    { "application/json;q=0.000, */*;q=1", 406 },
    { "application/*;q=0, */*", 406 },
    { "*/*;q=0", 406 },
};

START_TEST(test_accept_ranges)
{
    const char *accept = accept_cases[_i].accept;
    int want = accept_cases[_i].status;
    api_resp r;
    api_ok(api_get_accept(&r, LIST, accept));
    if (want == 406) {
        ck_assert_msg(r.status == 406, "Accept \"%s\": status %ld, want 406", accept, r.status);
        api_assert_error(&r, 406, "not_acceptable");
    } else {
        ck_assert_msg(r.status == 200, "Accept \"%s\": status %ld, want 200; body %s",
                      accept, r.status, r.body);
        ck_assert_msg(cJSON_IsArray(api_json_at(&r, "items")), "Accept \"%s\": no items", accept);
        assert_header(&r, "Content-Type", JSON_CT);
    }
    api_free(&r);
}
END_TEST

START_TEST(test_ops_exempt_from_accept)
{
    api_resp r;
    api_ok(no_accept(&r, "GET", "/healthz"));
    ck_assert_msg(r.status == 200, "/healthz without Accept: %ld %s", r.status, r.body);
    ck_assert_msg(api_json_str(&r, "status") && strcmp(api_json_str(&r, "status"), "ok") == 0,
                  "/healthz body: %s", r.body);
    api_free(&r);

    api_ok(api_get_accept(&r, "/healthz", "text/html"));
    ck_assert_msg(r.status == 200, "/healthz with Accept text/html: %ld", r.status);
    api_free(&r);

    api_ok(no_accept(&r, "GET", "/readyz"));
    ck_assert_msg(r.status == 200, "/readyz without Accept: %ld %s", r.status, r.body);
    api_free(&r);
}
END_TEST

/* ------------------------------------------------------------ routing */

static const char *const unknown_paths[] = {
    "/nope", "/", "/products/", "/product", "/product/", "/product/1/x",
    "/users", "/productsx", "/PRODUCTS",
};

START_TEST(test_unknown_path_404)
{
    api_resp r;
    api_ok(api_get(&r, unknown_paths[_i]));
    ck_assert_msg(r.status == 404, "GET %s: %ld", unknown_paths[_i], r.status);
    api_assert_error(&r, 404, "not_found");
    api_free(&r);
}
END_TEST

/* Ids are decimal digits that fit in 64 bits; anything else is no route. */
static const char *const bad_ids[] = {
    "abc", "12a", "-1", "+1", "1.5", "1e3", "0x10", "%201",
    "18446744073709551616", "99999999999999999999999",
};

START_TEST(test_bad_id_404)
{
    char path[128];
    snprintf(path, sizeof(path), "/product/%s", bad_ids[_i]);
    api_resp r;
    api_ok(api_get(&r, path));
    ck_assert_msg(r.status == 404, "GET %s: %ld", path, r.status);
    api_assert_error(&r, 404, "not_found");
    api_free(&r);
}
END_TEST

/* The largest id routes, and no such product exists. */
START_TEST(test_max_id_404)
{
    api_resp r;
    api_ok(api_get(&r, "/product/18446744073709551615"));
    api_assert_error(&r, 404, "not_found");
    api_free(&r);
    api_ok(api_get(&r, "/product/0"));
    api_assert_error(&r, 404, "not_found");
    api_free(&r);
}
END_TEST

static const struct {
    const char *method, *path;
} wrong_methods[] = {
    { "POST", "/product/1" },
    { "DELETE", "/product/1" },
    { "DELETE", "/products" },
    { "PUT", "/products" },
    { "PATCH", "/products" },
    { "OPTIONS", "/products" },
    { "POST", "/healthz" },
};

START_TEST(test_wrong_method_405)
{
    const char *m = wrong_methods[_i].method, *path = wrong_methods[_i].path;
    api_resp r;
    api_ok(api_request(&r, m, path, NULL, 0, NULL));
    ck_assert_msg(r.status == 405, "%s %s: %ld %s", m, path, r.status, r.body);
    api_assert_error(&r, 405, "method_not_allowed");
    char allow[128];
    ck_assert_msg(api_header(&r, "Allow", allow, sizeof(allow)) != NULL, "%s %s: no Allow", m, path);
    ck_assert_msg(allow_lists(allow, "GET") && allow_lists(allow, "HEAD"),
                  "%s %s: Allow \"%s\" lacks GET or HEAD", m, path, allow);
    ck_assert_msg(!allow_lists(allow, m), "%s %s: Allow \"%s\" lists the refused method",
                  m, path, allow);
    api_free(&r);
}
END_TEST

/* HEAD answers as GET does, headers included, without a body. */
static void check_head_like_get(const char *path)
{
    api_resp g, h;
    api_ok(api_get(&g, path));
    api_ok(api_request(&h, "HEAD", path, NULL, 0, NULL));
    ck_assert_msg(g.status == 200, "GET %s: %ld", path, g.status);
    ck_assert_msg(h.status == 200, "HEAD %s: %ld", path, h.status);
    ck_assert_msg(h.body_len == 0, "HEAD %s sent a body: %s", path, h.body);
    const char *names[] = { "Content-Type", "Cache-Control", "ETag" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char gv[256], hv[256];
        hdr(&g, names[i], gv, sizeof(gv));
        hdr(&h, names[i], hv, sizeof(hv));
        ck_assert_msg(gv[0] != '\0', "GET %s: no %s", path, names[i]);
        ck_assert_msg(strcmp(gv, hv) == 0, "%s %s: GET \"%s\", HEAD \"%s\"", path, names[i], gv, hv);
    }
    char rid[64];
    ck_assert_msg(hdr(&h, "X-Request-Id", rid, sizeof(rid))[0], "HEAD %s: no X-Request-Id", path);
    api_free(&g);
    api_free(&h);
}

START_TEST(test_head_list)
{
    check_head_like_get("/products");
    check_head_like_get("/products?limit=4&page=2");
}
END_TEST

START_TEST(test_head_product)
{
    char path[64];
    some_product(path, sizeof(path));
    check_head_like_get(path);
}
END_TEST

START_TEST(test_head_errors_have_no_body)
{
    api_resp r;
    api_ok(api_request(&r, "HEAD", "/nope", NULL, 0, NULL));
    ck_assert_msg(r.status == 404, "HEAD /nope: %ld", r.status);
    ck_assert_msg(r.body_len == 0, "HEAD /nope sent a body");
    api_free(&r);
    api_ok(api_request(&r, "HEAD", "/products?limit=0", NULL, 0, NULL));
    ck_assert_msg(r.status == 422, "HEAD /products?limit=0: %ld", r.status);
    ck_assert_msg(r.body_len == 0, "HEAD /products?limit=0 sent a body");
    api_free(&r);
}
END_TEST

/* A body over 64 KiB: nginx answers 413 with the API's JSON error before
 * routing, whatever the path and method. */
static void check_too_large(const char *method, const char *path, int with_accept)
{
    size_t n = 70 * 1024;
    char *body = malloc(n);
    ck_assert_msg(body != NULL, "out of memory");
    memset(body, ' ', n);
    body[0] = '{';
    body[n - 1] = '}';
    const char *h[] = { "Content-Type: application/json", with_accept ? NULL : "Accept:", NULL };
    api_resp r;
    api_ok(api_request(&r, method, path, body, n, h));
    free(body);
    ck_assert_msg(r.status == 413, "%s %s with 70 KiB: %ld %s", method, path, r.status, r.body);
    api_assert_error(&r, 413, "payload_too_large");
    api_free(&r);
}

START_TEST(test_too_large_413)
{
    check_too_large("POST", "/nope", 1);
    check_too_large("POST", "/products", 1);
    check_too_large("PUT", "/product/1", 1);
    check_too_large("POST", "/users/SignUp", 0);   /* before the Accept check too */
}
END_TEST

/* nginx's own answers to requests it cannot take use the JSON error body
 * too, also when the request line itself is bad (before there is a URI). */
START_TEST(test_uri_too_long_414)
{
    size_t n = 9000;
    char *path = malloc(n + 32);
    ck_assert_msg(path != NULL, "out of memory");
    int k = snprintf(path, 32, "/products?cursor=");
    memset(path + k, 'A', n);
    path[k + n] = '\0';
    api_resp r;
    api_ok(api_get(&r, path));
    free(path);
    api_assert_error(&r, 414, "uri_too_long");
    api_free(&r);
}
END_TEST

static const char *const bad_requests[] = {
    "GARBAGE\r\n\r\n",
    "G@T /products HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n",
    "GET /products HTTP/1.1\r\nAccept: application/json\r\n\r\n",            /* no Host */
    "GET /products HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\nContent-Length: abc\r\n\r\n",
};

START_TEST(test_bad_request_400)
{
    const char *req = bad_requests[_i];
    api_resp r;
    api_ok(api_raw(&r, req, strlen(req)));
    ck_assert_msg(r.status == 400, "request %d: %ld %s", _i, r.status, r.body);
    api_assert_error(&r, 400, "bad_request");
    api_free(&r);
}
END_TEST

START_TEST(test_http_version_505)
{
    static const char req[] = "GET /products HTTP/9.9\r\nHost: x\r\nAccept: application/json\r\n\r\n";
    api_resp r;
    api_ok(api_raw(&r, req, sizeof(req) - 1));
    api_assert_error(&r, 505, "http_version_not_supported");
    api_free(&r);
}
END_TEST

START_TEST(test_header_too_large_400)
{
    size_t n = 9000;
    char *line = malloc(n + 16);
    ck_assert_msg(line != NULL, "out of memory");
    int k = snprintf(line, 16, "X-Big: ");
    memset(line + k, 'a', n);
    line[k + n] = '\0';
    api_resp r;
    api_ok(with_header(&r, "GET", "/products", line));
    free(line);
    api_assert_error(&r, 400, "bad_request");
    api_free(&r);
}
END_TEST

/* The order of §1.1: 413 → route (404, 405) → Accept (440, 406) → the
 * object and its fields. */
START_TEST(test_check_order)
{
    api_resp r;
    api_ok(no_accept(&r, "GET", "/nope"));
    api_assert_error(&r, 404, "not_found");
    api_free(&r);

    api_ok(with_header(&r, "GET", "/nope", "Accept: text/html"));
    api_assert_error(&r, 404, "not_found");
    api_free(&r);

    api_ok(no_accept(&r, "POST", "/product/1"));
    api_assert_error(&r, 405, "method_not_allowed");
    api_free(&r);

    api_ok(with_header(&r, "DELETE", "/products", "Accept: text/html"));
    api_assert_error(&r, 405, "method_not_allowed");
    api_free(&r);

    api_ok(no_accept(&r, "GET", "/product/abc"));
    api_assert_error(&r, 404, "not_found");
    api_free(&r);

    /* a well-formed id of no product: Accept is checked before existence */
    api_ok(no_accept(&r, "GET", "/product/1"));
    api_assert_error(&r, 440, "no_accept_header");
    api_free(&r);

    api_ok(with_header(&r, "GET", "/product/1", "Accept: text/html"));
    api_assert_error(&r, 406, "not_acceptable");
    api_free(&r);

    /* and before the query's validation */
    api_ok(no_accept(&r, "GET", "/products?limit=0"));
    api_assert_error(&r, 440, "no_accept_header");
    api_free(&r);

    api_ok(with_header(&r, "GET", "/products?limit=0", "Accept: text/html"));
    api_assert_error(&r, 406, "not_acceptable");
    api_free(&r);
}
END_TEST

/* ------------------------------------------------------------ responses */

typedef struct {
    const char *method, *path, *header;
    int status;
} probe;

/* One answer of each kind roostd and nginx give on the read path. */
static const probe probes[] = {
    { "GET", "/products", NULL, 200 },
    { "GET", "/products?limit=2&page=2", NULL, 200 },
    { "GET", "/healthz", NULL, 200 },
    { "GET", "/readyz", NULL, 200 },
    { "GET", "/nope", NULL, 404 },
    { "GET", "/product/1", NULL, 404 },
    { "POST", "/product/1", NULL, 405 },
    { "GET", "/products", "Accept: text/html", 406 },
    { "GET", "/products", "Accept:", 440 },
    { "GET", "/products?limit=0", NULL, 422 },
    { "GET", "/products?cursor=x", NULL, 422 },
};

START_TEST(test_content_type_and_request_id)
{
    size_t n = sizeof(probes) / sizeof(probes[0]);
    char ids[sizeof(probes) / sizeof(probes[0])][64];
    for (size_t i = 0; i < n; i++) {
        const probe *p = &probes[i];
        const char *h[] = { p->header, NULL };
        api_resp r;
        api_ok(api_request(&r, p->method, p->path, NULL, 0, h));
        ck_assert_msg(r.status == p->status, "%s %s: %ld, want %d", p->method, p->path,
                      r.status, p->status);
        char ct[128];
        ck_assert_msg(strcmp(hdr(&r, "Content-Type", ct, sizeof(ct)), JSON_CT) == 0,
                      "%s %s: Content-Type \"%s\"", p->method, p->path, ct);
        ck_assert_msg(r.json != NULL, "%s %s: body is not JSON: %s", p->method, p->path, r.body);
        ck_assert_msg(api_header_count(&r, "X-Request-Id") == 1, "%s %s: %d X-Request-Id headers",
                      p->method, p->path, api_header_count(&r, "X-Request-Id"));
        hdr(&r, "X-Request-Id", ids[i], sizeof(ids[i]));
        ck_assert_msg(is_request_id(ids[i]), "%s %s: X-Request-Id \"%s\" is not nginx's $request_id",
                      p->method, p->path, ids[i]);
        for (size_t j = 0; j < i; j++)
            ck_assert_msg(strcmp(ids[i], ids[j]) != 0, "X-Request-Id %s repeated", ids[i]);
        api_free(&r);
    }
}
END_TEST

/* The id is nginx's: a client cannot choose the id its request is logged
 * under, and the answer carries exactly one. */
START_TEST(test_request_id_not_from_client)
{
    api_resp r;
    api_ok(with_header(&r, "GET", "/products?limit=1", "X-Request-Id: 0123456789abcdef0123456789abcdef"));
    ck_assert_msg(r.status == 200, "status %ld", r.status);
    ck_assert_msg(api_header_count(&r, "X-Request-Id") == 1, "%d X-Request-Id headers",
                  api_header_count(&r, "X-Request-Id"));
    char rid[64];
    hdr(&r, "X-Request-Id", rid, sizeof(rid));
    ck_assert_msg(is_request_id(rid) && strcmp(rid, "0123456789abcdef0123456789abcdef") != 0,
                  "X-Request-Id \"%s\" came from the client", rid);
    api_free(&r);
}
END_TEST

START_TEST(test_ids_and_timestamps)
{
    api_resp r;
    api_ok(api_get(&r, "/products?limit=100"));
    ck_assert_msg(r.status == 200, "status %ld", r.status);
    const cJSON *item;
    int n = 0;
    cJSON_ArrayForEach(item, api_json_at(&r, "items")) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
        ck_assert_msg(cJSON_IsString(id) && api_is_id(id->valuestring),
                      "id is not a string of digits: %s", cJSON_PrintUnformatted(id));
        const char *keys[] = { "created_at", "updated_at" };
        for (int k = 0; k < 2; k++) {
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(item, keys[k]);
            ck_assert_msg(cJSON_IsString(t) && api_is_timestamp(t->valuestring),
                          "%s not RFC 3339 UTC with ms: %s", keys[k], cJSON_PrintUnformatted(t));
        }
        n++;
    }
    ck_assert_msg(n > 0, "no items: %s", r.body);
    api_free(&r);
}
END_TEST

START_TEST(test_error_body_shape)
{
    api_resp r;
    api_ok(api_get(&r, "/nope"));
    api_assert_error(&r, 404, "not_found");
    ck_assert_msg(cJSON_GetArraySize(r.json) == 1, "more than \"error\" at the top: %s", r.body);
    api_free(&r);

    api_ok(api_get(&r, "/products?limit=abc"));
    api_assert_error(&r, 422, "validation_failed");
    const char *f = api_json_str(&r, "error.fields.limit");
    ck_assert_msg(f != NULL && *f, "no fields.limit: %s", r.body);
    ck_assert_msg(strstr(api_json_str(&r, "error.message"), "limit") != NULL,
                  "message does not name the field: %s", r.body);
    api_free(&r);
}
END_TEST

/* ------------------------------------------------------------ caching */

static const char *const etag_paths[] = {
    "/products", "/products?limit=5&page=2", "/healthz", "/readyz",
};

START_TEST(test_strong_etags)
{
    char etag[128];
    api_resp r;
    for (size_t i = 0; i < sizeof(etag_paths) / sizeof(etag_paths[0]); i++) {
        api_ok(api_get(&r, etag_paths[i]));
        ck_assert_msg(r.status == 200, "GET %s: %ld", etag_paths[i], r.status);
        assert_strong_etag(&r, etag, sizeof(etag));
        api_free(&r);
    }
    char path[64];
    some_product(path, sizeof(path));
    api_ok(api_get(&r, path));
    ck_assert_msg(r.status == 200, "GET %s: %ld", path, r.status);
    assert_strong_etag(&r, etag, sizeof(etag));
    api_free(&r);

    api_ok(api_get(&r, "/products?limit=2"));
    const char *cur = api_json_str(&r, "next_cursor");
    ck_assert_msg(cur != NULL, "no next_cursor: %s", r.body);
    snprintf(path, sizeof(path), "/products?limit=2&cursor=%s", cur);
    api_free(&r);
    api_ok(api_get(&r, path));
    ck_assert_msg(r.status == 200, "GET %s: %ld", path, r.status);
    assert_strong_etag(&r, etag, sizeof(etag));
    api_free(&r);
}
END_TEST

/* GET path with If-None-Match (plus an optional extra header line). */
static int get_inm(api_resp *r, const char *path, const char *inm, const char *extra)
{
    char line[400];
    snprintf(line, sizeof(line), "If-None-Match: %s", inm);
    const char *h[] = { line, extra, NULL };
    return api_request(r, "GET", path, NULL, 0, h);
}

static void assert_not_modified(const api_resp *r, const char *etag, const char *what)
{
    char got[128];
    ck_assert_msg(r->status == 304, "%s: status %ld, want 304", what, r->status);
    ck_assert_msg(r->body_len == 0, "%s: 304 with a body: %s", what, r->body);
    ck_assert_msg(strcmp(hdr(r, "ETag", got, sizeof(got)), etag) == 0,
                  "%s: 304 ETag \"%s\", want %s", what, got, etag);
}

START_TEST(test_if_none_match)
{
    const char *path = "/products?limit=4";
    const char *token = "Authorization: Bearer x";
    char etag[128], inm[300], what[64];
    api_resp r;
    api_ok(api_get(&r, path));
    ck_assert_msg(r.status == 200, "status %ld", r.status);
    assert_strong_etag(&r, etag, sizeof(etag));
    char *body = strdup(r.body);
    api_free(&r);

    /* anonymous (nginx may answer from its cache) and with a token (always
     * roostd itself) */
    for (int pass = 0; pass < 2; pass++) {
        const char *extra = pass ? token : NULL;
        const char *who = pass ? "with a token" : "anonymous";

        api_ok(get_inm(&r, path, etag, extra));
        snprintf(what, sizeof(what), "matching tag, %s", who);
        assert_not_modified(&r, etag, what);
        api_free(&r);

        api_ok(get_inm(&r, path, "*", extra));
        snprintf(what, sizeof(what), "*, %s", who);
        assert_not_modified(&r, etag, what);
        api_free(&r);

        snprintf(inm, sizeof(inm), "\"nope\", %s", etag);
        api_ok(get_inm(&r, path, inm, extra));
        snprintf(what, sizeof(what), "tag in a list, %s", who);
        assert_not_modified(&r, etag, what);
        api_free(&r);

        snprintf(inm, sizeof(inm), "W/%s", etag);   /* If-None-Match compares weakly */
        api_ok(get_inm(&r, path, inm, extra));
        snprintf(what, sizeof(what), "weak form of the tag, %s", who);
        assert_not_modified(&r, etag, what);
        api_free(&r);

        api_ok(get_inm(&r, path, "\"0123456789abcdef\"", extra));
        ck_assert_msg(r.status == 200, "other tag, %s: %ld", who, r.status);
        ck_assert_msg(strcmp(r.body, body) == 0, "other tag, %s: body differs", who);
        char got[128];
        ck_assert_msg(strcmp(hdr(&r, "ETag", got, sizeof(got)), etag) == 0,
                      "other tag, %s: ETag %s, want %s", who, got, etag);
        api_free(&r);
    }
    free(body);
}
END_TEST

/* A 304 made for one client's If-None-Match is never stored and served to
 * the next anonymous client. */
/* A cache key no other request of this run used: a page of /products
 * that is (most likely) empty, chosen by the process id. */
static void fresh_list_path(char *path, size_t len, int limit)
{
    static int n;
    snprintf(path, len, "/products?limit=%d&page=%ld", limit, 1000 - ((long)getpid() * 7 + n++) % 500);
}

START_TEST(test_304_not_cached)
{
    char path[64], etag[128];
    fresh_list_path(path, sizeof(path), 6);
    const char *tok[] = { "Authorization: Bearer x", NULL };
    api_resp r;
    api_ok(api_get_h(&r, path, tok));
    assert_strong_etag(&r, etag, sizeof(etag));
    api_free(&r);

    /* A fresh key asked for with a matching tag, often enough to be
     * stored (the second request of a key is) if a 304 could be. */
    for (int i = 0; i < 3; i++) {
        api_ok(get_inm(&r, path, etag, NULL));
        assert_not_modified(&r, etag, "fresh key with a matching tag");
        api_free(&r);
    }

    for (int i = 0; i < 2; i++) {
        api_ok(api_get(&r, path));
        ck_assert_msg(r.status == 200 && r.body_len > 0, "after a 304: %ld, %zu bytes (a stored 304?)",
                      r.status, r.body_len);
        api_free(&r);
    }
}
END_TEST

START_TEST(test_cache_control)
{
    char path[64];
    some_product(path, sizeof(path));
    const char *paths[] = { "/products", "/products?limit=3&page=2", path };
    for (size_t i = 0; i < 3; i++) {
        api_resp r;
        api_ok(api_get(&r, paths[i]));
        ck_assert_msg(r.status == 200, "GET %s: %ld", paths[i], r.status);
        assert_header(&r, "Cache-Control", "public, max-age=1");
        api_free(&r);
        /* whoever asks */
        api_ok(with_header(&r, "GET", paths[i], "Authorization: Bearer x"));
        ck_assert_msg(r.status == 200, "GET %s with a token: %ld", paths[i], r.status);
        assert_header(&r, "Cache-Control", "public, max-age=1");
        api_free(&r);
    }
}
END_TEST

/* Repeats an anonymous GET until nginx answers it from its cache (a few
 * tries: the entry is stored as the first answer completes). */
static int prime_cache(const char *path, const char *accept, char *body_out, size_t len)
{
    for (int i = 0; i < 5; i++) {
        api_resp r;
        char xc[32];
        api_ok(api_get_accept(&r, path, accept));
        ck_assert_msg(r.status == 200, "GET %s: %ld", path, r.status);
        int hit = strcmp(hdr(&r, "X-Cache", xc, sizeof(xc)), "HIT") == 0;
        if (body_out != NULL)
            snprintf(body_out, len, "%s", r.body);
        api_free(&r);
        if (hit)
            return 1;
    }
    return 0;
}

START_TEST(test_anonymous_get_is_cached)
{
    char path[64];
    fresh_list_path(path, sizeof(path), 2);
    api_resp r;
    char xc[32];
    api_ok(api_get(&r, path));
    ck_assert_msg(strcmp(hdr(&r, "X-Cache", xc, sizeof(xc)), "MISS") == 0,
                  "first request with a new key: X-Cache \"%s\"", xc);
    char *first = strdup(r.body);
    api_free(&r);
    char again[8192];
    ck_assert_msg(prime_cache(path, "application/json", again, sizeof(again)),
                  "a repeated anonymous GET was never a cache HIT");
    ck_assert_msg(strcmp(first, again) == 0, "cached body differs from the first answer");
    free(first);
}
END_TEST

START_TEST(test_token_bypasses_cache)
{
    const char *path = "/products?limit=5";
    ck_assert_msg(prime_cache(path, "application/json", NULL, 0), "could not prime the cache");
    for (int i = 0; i < 2; i++) {
        api_resp r;
        char xc[32];
        api_ok(with_header(&r, "GET", path, "Authorization: Bearer x"));
        ck_assert_msg(r.status == 200, "with a token: %ld %s", r.status, r.body);
        ck_assert_msg(strcmp(hdr(&r, "X-Cache", xc, sizeof(xc)), "BYPASS") == 0,
                      "a request with Authorization: X-Cache \"%s\", want BYPASS", xc);
        api_free(&r);
    }
}
END_TEST

/* A cached 200 never answers a request the header rules refuse. */
START_TEST(test_cache_keeps_accept_rules)
{
    const char *path = "/products?limit=7";
    ck_assert_msg(prime_cache(path, "application/json", NULL, 0), "could not prime the cache");
    api_resp r;
    api_ok(no_accept(&r, "GET", path));
    api_assert_error(&r, 440, "no_accept_header");
    api_free(&r);
    api_ok(with_header(&r, "GET", path, "Accept;"));
    api_assert_error(&r, 440, "no_accept_header");
    api_free(&r);
    api_ok(api_get_accept(&r, path, "text/html"));
    api_assert_error(&r, 406, "not_acceptable");
    api_free(&r);
    api_ok(api_get_accept(&r, path, "application/json;q=0, */*"));
    api_assert_error(&r, 406, "not_acceptable");
    api_free(&r);
    /* the same for HEAD */
    const char *h[] = { "Accept:", NULL };
    api_ok(api_request(&r, "HEAD", path, NULL, 0, h));
    ck_assert_msg(r.status == 440, "HEAD without Accept on a cached URL: %ld", r.status);
    api_free(&r);
}
END_TEST

START_TEST(test_errors_not_cached)
{
    for (int i = 0; i < 3; i++) {
        api_resp r;
        char xc[32];
        api_ok(api_get(&r, "/products?limit=0"));
        api_assert_error(&r, 422, "validation_failed");
        ck_assert_msg(strcmp(hdr(&r, "X-Cache", xc, sizeof(xc)), "HIT") != 0,
                      "a 422 was answered from the cache");
        api_free(&r);
    }
}
END_TEST

/* ------------------------------------------------------------ bodies */

#define SIGNUP "/users/SignUp"
#define GOOD_PASSWORD "correct horse battery"

/* POST /users/SignUp; ctype NULL sends no Content-Type at all. */
static int signup(api_resp *r, const char *ctype, const char *body, size_t len)
{
    char line[200];
    snprintf(line, sizeof(line), "Content-Type:%s%s", ctype ? " " : "", ctype ? ctype : "");
    const char *h[] = { line, NULL };
    return api_request(r, "POST", SIGNUP, body, len, h);
}

static int signup_s(api_resp *r, const char *ctype, const char *body)
{
    return signup(r, ctype, body, strlen(body));
}

/* A user name no earlier run used. */
static const char *unique_name(char *out, size_t len)
{
    static unsigned n;
    snprintf(out, len, "t%ld_%ld_%u", (long)getpid() % 100000, (long)time(NULL) % 1000000, ++n);
    return out;
}

static const char *const not_json_types[] = {
    "text/plain", "application/x-www-form-urlencoded", "application/jsonx",
    "application/json-patch+json", "json", "text/json", NULL /* none at all */,
};

START_TEST(test_body_415)
{
    const char *ct = not_json_types[_i];
    api_resp r;
    api_ok(signup_s(&r, ct, "{\"name\":\"alice\",\"password\":\"" GOOD_PASSWORD "\"}"));
    ck_assert_msg(r.status == 415, "Content-Type %s: %ld %s", ct ? ct : "(none)", r.status, r.body);
    api_assert_error(&r, 415, "unsupported_media_type");
    api_free(&r);
}
END_TEST

/* JSON with parameters passes the media-type check (and then fails the
 * JSON check, which shows it got that far). */
static const char *const json_types[] = {
    "application/json", "application/json; charset=utf-8", "Application/JSON",
    "application/json;charset=UTF-8",
};

START_TEST(test_body_json_types_accepted)
{
    api_resp r;
    api_ok(signup_s(&r, json_types[_i], "{"));
    ck_assert_msg(r.status == 400, "Content-Type %s: %ld %s", json_types[_i], r.status, r.body);
    api_assert_error(&r, 400, "malformed_json");
    api_free(&r);
}
END_TEST

static const char *const malformed[] = {
    "{", "}", "{\"name\":}", "{\"name\":\"a\",}", "{'name':'a'}", "{name:\"a\"}",
    "{} x", "{}{}", "{}]", "nul", "tru", "{\"a\":01}", "{\"a\":.5}", "{\"a\":NaN}",
    "{\"a\":\"\xff\"}",                 /* not UTF-8 */
    "{\"a\":\"\xc0\xaf\"}",             /* overlong encoding */
    "{\"a\":\"\xed\xa0\x80\"}",         /* a surrogate encoded in UTF-8 */
    "{\"a\":\"\\ud800\"}",              /* lone high surrogate escape */
    "{\"a\":\"\\udc00\"}",              /* lone low surrogate escape */
    "{\"a\":\"\\ud800x\"}",
    "{\"a\":\"\\ud800\\u0041\"}",       /* high surrogate + non-surrogate */
    "{\"a\":\"\\x41\"}", "{\"a\":\"tab\there\"}", "{\"a\":\"\\u12\"}",
};

START_TEST(test_body_malformed_400)
{
    api_resp r;
    api_ok(signup_s(&r, "application/json", malformed[_i]));
    ck_assert_msg(r.status == 400, "body %s: %ld %s", malformed[_i], r.status, r.body);
    api_assert_error(&r, 400, "malformed_json");
    api_free(&r);
}
END_TEST

/* A NUL byte inside the body is not JSON either. */
START_TEST(test_body_nul_byte_400)
{
    static const char body[] = "{\"name\":\"a\0b\"}";
    api_resp r;
    api_ok(signup(&r, "application/json", body, sizeof(body) - 1));
    api_assert_error(&r, 400, "malformed_json");
    api_free(&r);
}
END_TEST

static const char *const not_objects[] = {
    "[]", "[{}]", "\"x\"", "1", "null", "true", " [ ] ",
};

START_TEST(test_body_not_object_422)
{
    api_resp r;
    api_ok(signup_s(&r, "application/json", not_objects[_i]));
    ck_assert_msg(r.status == 422, "body %s: %ld %s", not_objects[_i], r.status, r.body);
    api_assert_error(&r, 422, "invalid_body");
    api_free(&r);
}
END_TEST

START_TEST(test_body_empty_422)
{
    api_resp r;
    api_ok(signup(&r, "application/json", "", 0));
    api_assert_error(&r, 422, "invalid_body");
    api_free(&r);
    api_ok(signup(&r, NULL, "", 0));                 /* without Content-Type too */
    api_assert_error(&r, 422, "invalid_body");
    api_free(&r);
    api_ok(api_request(&r, "POST", SIGNUP, NULL, 0, NULL));   /* no body at all */
    api_assert_error(&r, 422, "invalid_body");
    api_free(&r);
}
END_TEST

/* {"name":…,"password":…,"deep":[[…]]}: the top object is level 1 and each
 * array opens one more. */
static char *nested_signup(int depth, const char *name)
{
    size_t cap = 256 + 2 * (size_t)depth;
    char *b = malloc(cap);
    ck_assert_msg(b != NULL, "out of memory");
    int n = snprintf(b, cap, "{\"name\":\"%s\",\"password\":\"" GOOD_PASSWORD "\","
                     "\"emoji\":\"\\ud83d\\ude00\",\"deep\":", name);
    for (int i = 1; i < depth; i++)
        b[n++] = '[';
    for (int i = 1; i < depth; i++)
        b[n++] = ']';
    b[n++] = '}';
    b[n] = '\0';
    return b;
}

START_TEST(test_body_depth_17_422)
{
    char name[40];
    char *body = nested_signup(17, unique_name(name, sizeof(name)));
    api_resp r;
    api_ok(signup_s(&r, "application/json", body));
    free(body);
    api_assert_error(&r, 422, "invalid_body");
    api_free(&r);
}
END_TEST

/* Depth 16, an unknown field, a surrogate pair: accepted, the user made. */
START_TEST(test_body_depth_16_accepted)
{
    char name[40];
    char *body = nested_signup(16, unique_name(name, sizeof(name)));
    api_resp r;
    api_ok(signup_s(&r, "application/json", body));
    free(body);
    ck_assert_msg(r.status == 201, "depth 16: %ld %s", r.status, r.body);
    const char *got = api_json_str(&r, "user.name");
    ck_assert_msg(got && strcmp(got, name) == 0, "user.name %s, want %s", got ? got : "(none)", name);
    api_free(&r);
}
END_TEST

/* A body of exactly `size` bytes: a valid sign-up padded with spaces. */
static char *padded_signup(size_t size, const char *name)
{
    char *b = malloc(size + 1);
    ck_assert_msg(b != NULL, "out of memory");
    int n = snprintf(b, size + 1, "{\"name\":\"%s\",\"password\":\"" GOOD_PASSWORD "\"", name);
    memset(b + n, ' ', size - (size_t)n - 1);
    b[size - 1] = '}';
    b[size] = '\0';
    return b;
}

START_TEST(test_body_64k_limit)
{
    char name[40];
    char *body = padded_signup(64 * 1024, unique_name(name, sizeof(name)));
    api_resp r;
    api_ok(signup(&r, "application/json", body, 64 * 1024));
    free(body);
    ck_assert_msg(r.status == 201, "a body of exactly 64 KiB: %ld %s", r.status, r.body);
    api_free(&r);

    body = padded_signup(64 * 1024 + 1, unique_name(name, sizeof(name)));
    api_ok(signup(&r, "application/json", body, 64 * 1024 + 1));
    free(body);
    api_assert_error(&r, 413, "payload_too_large");
    api_free(&r);
}
END_TEST

/* A chunked body (no Content-Length) is read whole, and its size limited
 * the same way. */
START_TEST(test_body_chunked)
{
    char name[40], body[200];
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"password\":\"" GOOD_PASSWORD "\"}",
             unique_name(name, sizeof(name)));
    const char *h[] = { "Content-Type: application/json", "Transfer-Encoding: chunked", NULL };
    api_resp r;
    api_ok(api_request(&r, "POST", SIGNUP, body, strlen(body), h));
    ck_assert_msg(r.status == 201, "chunked sign-up: %ld %s", r.status, r.body);
    api_free(&r);

    char *big = padded_signup(64 * 1024 + 1, unique_name(name, sizeof(name)));
    api_ok(api_request(&r, "POST", SIGNUP, big, 64 * 1024 + 1, h));
    free(big);
    api_assert_error(&r, 413, "payload_too_large");
    api_free(&r);
}
END_TEST

/* Order: Accept (440, 406) before Content-Type (415) before JSON (400). */
START_TEST(test_body_check_order)
{
    api_resp r;
    const char *no_acc[] = { "Accept:", "Content-Type: text/plain", NULL };
    api_ok(api_request(&r, "POST", SIGNUP, "{", 1, no_acc));
    api_assert_error(&r, 440, "no_accept_header");
    api_free(&r);

    const char *html[] = { "Accept: text/html", "Content-Type: text/plain", NULL };
    api_ok(api_request(&r, "POST", SIGNUP, "{", 1, html));
    api_assert_error(&r, 406, "not_acceptable");
    api_free(&r);

    api_ok(signup_s(&r, "text/plain", "{"));
    api_assert_error(&r, 415, "unsupported_media_type");
    api_free(&r);

    api_ok(signup_s(&r, "application/json", "[1"));
    api_assert_error(&r, 400, "malformed_json");
    api_free(&r);

    /* well-formed but missing the fields: validation comes after */
    api_ok(signup_s(&r, "application/json", "{}  \n"));
    api_assert_error(&r, 422, "validation_failed");
    api_free(&r);
}
END_TEST

/* ------------------------------------------------------------ suite */

Suite *suite_conventions(void)
{
    Suite *s = suite_create("conventions");

    TCase *tc = api_tcase(s, "accept");
    tcase_add_test(tc, test_accept_missing);
    tcase_add_test(tc, test_accept_empty);
    tcase_add_loop_test(tc, test_accept_ranges, 0, API_COUNT(accept_cases));
    tcase_add_test(tc, test_ops_exempt_from_accept);

    tc = api_tcase(s, "routing");
    tcase_add_loop_test(tc, test_unknown_path_404, 0, API_COUNT(unknown_paths));
    tcase_add_loop_test(tc, test_bad_id_404, 0, API_COUNT(bad_ids));
    tcase_add_test(tc, test_max_id_404);
    tcase_add_loop_test(tc, test_wrong_method_405, 0, API_COUNT(wrong_methods));
    tcase_add_test(tc, test_head_list);
    tcase_add_test(tc, test_head_product);
    tcase_add_test(tc, test_head_errors_have_no_body);
    tcase_add_test(tc, test_too_large_413);
    tcase_add_test(tc, test_uri_too_long_414);
    tcase_add_loop_test(tc, test_bad_request_400, 0, API_COUNT(bad_requests));
    tcase_add_test(tc, test_header_too_large_400);
    tcase_add_test(tc, test_http_version_505);
    tcase_add_test(tc, test_check_order);

    tc = api_tcase(s, "responses");
    tcase_add_test(tc, test_content_type_and_request_id);
    tcase_add_test(tc, test_request_id_not_from_client);
    tcase_add_test(tc, test_ids_and_timestamps);
    tcase_add_test(tc, test_error_body_shape);

    tc = api_tcase(s, "caching");
    tcase_add_test(tc, test_strong_etags);
    tcase_add_test(tc, test_if_none_match);
    tcase_add_test(tc, test_304_not_cached);
    tcase_add_test(tc, test_cache_control);
    tcase_add_test(tc, test_anonymous_get_is_cached);
    tcase_add_test(tc, test_token_bypasses_cache);
    tcase_add_test(tc, test_cache_keeps_accept_rules);
    tcase_add_test(tc, test_errors_not_cached);

    /* Needs POST /users/SignUp (a route that takes a JSON body). */
    tc = api_tcase(s, "body");
    tcase_add_loop_test(tc, test_body_415, 0, API_COUNT(not_json_types));
    tcase_add_loop_test(tc, test_body_json_types_accepted, 0, API_COUNT(json_types));
    tcase_add_loop_test(tc, test_body_malformed_400, 0, API_COUNT(malformed));
    tcase_add_test(tc, test_body_nul_byte_400);
    tcase_add_loop_test(tc, test_body_not_object_422, 0, API_COUNT(not_objects));
    tcase_add_test(tc, test_body_empty_422);
    tcase_add_test(tc, test_body_depth_17_422);
    tcase_add_test(tc, test_body_depth_16_accepted);
    tcase_add_test(tc, test_body_64k_limit);
    tcase_add_test(tc, test_body_chunked);
    tcase_add_test(tc, test_body_check_order);
    return s;
}
