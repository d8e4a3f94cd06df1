/* test_api.c -- the HTTP pipeline (app/api) without a stack: the order of
 * API.md §1.1's checks, the check/act split that keeps a 422 from following
 * a write, ETag and 304, 204, and a header that does not fit.
 *
 * The services point at closed ports on 127.0.0.1, so anything that reaches
 * a database answers 502 and Redis is down: an answer other than 502 proves
 * the pipeline decided before any store was asked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/request.h"
#include "api/response.h"
#include "core/config.h"
#include "domain/services.h"
#include "suites.h"

#define DEAD_STACK \
    "[redis]\nport = 1\nconnect_timeout_ms = 50\n" \
    "[catalog]\nport = 1\ndatabase = cat\n" \
    "[shards]\ncount = 8\n" \
    "[shard a]\nrange = 0-7\nport = 1\ndatabase = s\n"

static rst_config cfg;
static rst_services svc;
static rst_buf body, head;
static rst_response resp;
static rst_arena arena;

static void setup(void)
{
    char err[256];
    static const unsigned char raw[32] = "unit-test secret, 32 bytes long";
    rst_secrets sec;
    ck_assert_int_eq(rst_config_load_string(&cfg, DEAD_STACK, err, sizeof(err)), 0);
    ck_assert_int_eq(rst_secret_derive(raw, sizeof(raw), &sec), 0);
    ck_assert_int_eq(rst_services_open(&svc, &cfg, &sec, 1), 0);
    rst_buf_init(&body);
    rst_buf_init(&head);
    rst_arena_init(&arena, 4096);
}

static void teardown(void)
{
    rst_app_use_tables(NULL, 0);
    rst_services_close(&svc);
    rst_buf_free(&body);
    rst_buf_free(&head);
    rst_arena_free(&arena);
}

static rst_request request(const char *method, const char *path, const char *accept)
{
    rst_request r = { 0 };
    r.method = rst_method_parse(method);
    r.method_name = method;
    r.path = path;
    r.accept = accept;
    r.request_id = "unit";
    r.body = "";
    return r;
}

static void with_body(rst_request *r, const char *ctype, const char *json)
{
    r->content_type = ctype;
    r->body = json;
    r->body_len = strlen(json);
}

/* Runs the request; the answer's head is in `head`, its body in `body`. */
static int handle(rst_request *r)
{
    int send_body;
    rst_response_init(&resp, &body);
    rst_app_handle(&svc, NULL, r, &resp, &arena);
    ck_assert_int_eq(rst_response_head(&resp, r, &head, &send_body), 0);
    rst_buf_putc(&head, '\0');
    return resp.status;
}

static const char *error_code(void)
{
    static char code[64];
    const char *p = body.data ? strstr(body.data, "\"code\":\"") : NULL;
    code[0] = '\0';
    if (p != NULL)
        sscanf(p + 8, "%63[^\"]", code);
    return code;
}

/* ------------------------------------------------------------ precedence */

START_TEST(route_comes_before_accept)
{
    rst_request r = request("GET", "/nope", NULL);
    ck_assert_int_eq(handle(&r), 404);
    r = request("DELETE", "/products", NULL);
    ck_assert_int_eq(handle(&r), 405);
    ck_assert_ptr_nonnull(strstr(head.data, "Allow: GET, HEAD, POST\r\n"));
}
END_TEST

START_TEST(accept_comes_before_token_and_body)
{
    rst_request r = request("POST", "/products", NULL);
    with_body(&r, "text/plain", "{");
    ck_assert_int_eq(handle(&r), 440);
    r = request("POST", "/products", "application/json;q=0, */*");
    with_body(&r, "text/plain", "{");
    ck_assert_int_eq(handle(&r), 406);
}
END_TEST

START_TEST(token_comes_before_content_type)
{
    rst_request r = request("POST", "/products", "application/json");
    with_body(&r, "text/plain", "{");
    ck_assert_int_eq(handle(&r), 401);
    ck_assert_ptr_nonnull(strstr(head.data, "WWW-Authenticate: Bearer"));
    r.authorization = "Bearer not.a.token";
    ck_assert_int_eq(handle(&r), 401);
}
END_TEST

START_TEST(content_type_then_json_then_object)
{
    rst_request r = request("POST", "/users/SignUp", "*/*");
    with_body(&r, "text/plain", "{}");
    ck_assert_int_eq(handle(&r), 415);
    with_body(&r, "application/json; charset=utf-8", "{\"name\":");
    ck_assert_int_eq(handle(&r), 400);
    ck_assert_str_eq(error_code(), "malformed_json");
    with_body(&r, "application/json", "[]");
    ck_assert_int_eq(handle(&r), 422);
    ck_assert_str_eq(error_code(), "invalid_body");
}
END_TEST

START_TEST(fields_are_checked_before_any_store)
{
    rst_request r = request("POST", "/users/SignUp", "*/*");
    with_body(&r, "application/json", "{\"name\":\"-bad\",\"password\":\"short\"}");
    ck_assert_int_eq(handle(&r), 422);
    ck_assert_ptr_nonnull(strstr(body.data, "\"name\""));
    ck_assert_ptr_nonnull(strstr(body.data, "\"password\""));
    /* Valid fields go on to the shard, which is down. */
    with_body(&r, "application/json", "{\"name\":\"fine_name\",\"password\":\"long enough\"}");
    ck_assert_int_eq(handle(&r), 502);
    ck_assert_str_eq(error_code(), "upstream_unavailable");
}
END_TEST

/* ------------------------------------------------------------ check / act */

static int acted;

static void act_created(rst_ctx *c)
{
    acted++;
    c->resp->status = 201;
    rst_buf_puts(c->resp->body, "{}");
}

/* A route whose check looks at no field at all, as a POST that takes no
 * body would: the pipeline alone must keep it from acting. */
static const rst_route_def careless_defs[] = {
    { RST_M_POST, "/things", "things.create", RST_H_NO_FIELDS, NULL, act_created },
};
static const rst_route_table careless = RST_ROUTE_TABLE(careless_defs);
static const rst_route_table *const careless_tables[] = { &careless };

START_TEST(a_bad_idempotency_key_stops_before_act)
{
    rst_app_use_tables(careless_tables, 1);
    acted = 0;
    rst_request r = request("POST", "/things", "application/json");
    r.idempotency_key = "";
    ck_assert_int_eq(handle(&r), 422);
    ck_assert_str_eq(error_code(), "validation_failed");
    ck_assert_ptr_nonnull(strstr(body.data, "\"Idempotency-Key\""));
    r.idempotency_key = "bad\x01key";
    ck_assert_int_eq(handle(&r), 422);
    ck_assert_int_eq(acted, 0);
}
END_TEST

START_TEST(a_valid_key_acts_even_without_redis)
{
    rst_app_use_tables(careless_tables, 1);
    acted = 0;
    rst_request r = request("POST", "/things", "application/json");
    r.idempotency_key = "key-1";
    ck_assert_int_eq(handle(&r), 201);
    ck_assert_int_eq(acted, 1);
}
END_TEST

START_TEST(routes_and_metric_names_come_from_the_tables)
{
    rst_app_use_tables(careless_tables, 1);
    int n;
    const char *const *names = rst_app_route_names(&n);
    ck_assert_int_eq(n, 4);                   /* three pseudo-routes and ours */
    ck_assert_str_eq(names[3], "things.create");
    ck_assert_int_eq(rst_app_route_count(), 4);
    rst_request r = request("GET", "/things", "application/json");
    ck_assert_int_eq(handle(&r), 405);
    ck_assert_ptr_nonnull(strstr(head.data, "Allow: POST\r\n"));
}
END_TEST

/* ------------------------------------------------------------ responses */

START_TEST(etag_and_304)
{
    rst_request r = request("GET", "/healthz", NULL);
    ck_assert_int_eq(handle(&r), 200);
    const char *e = strstr(head.data, "ETag: \"");
    ck_assert_ptr_nonnull(e);
    char etag[64];
    ck_assert_int_eq(sscanf(e + 6, "%63[^\r]", etag), 1);
    r.if_none_match = etag;
    ck_assert_int_eq(handle(&r), 304);
    ck_assert_ptr_nonnull(strstr(head.data, etag));
    ck_assert_ptr_null(strstr(head.data, "Content-Length"));
    ck_assert_ptr_null(strstr(head.data, "Content-Type"));
    r.if_none_match = "\"something else\"";
    ck_assert_int_eq(handle(&r), 200);
}
END_TEST

START_TEST(a_204_has_no_body_length_or_type)
{
    rst_request r = request("DELETE", "/x", "application/json");
    int send_body = 1;
    rst_response_init(&resp, &body);
    resp.status = 204;
    rst_buf_puts(&body, "{\"ignored\":true}");
    ck_assert_int_eq(rst_response_head(&resp, &r, &head, &send_body), 0);
    rst_buf_putc(&head, '\0');
    ck_assert_int_eq(send_body, 0);
    ck_assert_str_eq(head.data, "Status: 204 No Content\r\n\r\n");
}
END_TEST

START_TEST(a_header_that_does_not_fit_fails_loudly)
{
    rst_request r = request("GET", "/x", "application/json");
    char big[400];
    int send_body;
    memset(big, 'v', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    rst_response_init(&resp, &body);
    rst_buf_puts(&body, "{}");
    for (int i = 0; i < 4; i++)
        rst_response_header(&resp, "X-Big", big);
    ck_assert_ptr_nonnull(resp.overflow);
    ck_assert_int_eq(rst_response_head(&resp, &r, &head, &send_body), 0);
    rst_buf_putc(&head, '\0');
    ck_assert_int_eq(resp.status, 500);
    ck_assert_ptr_null(strstr(head.data, "X-Big"));
    ck_assert_str_eq(error_code(), "internal_error");
}
END_TEST

/* Cache-Control: no-cache (or max-age=0) in a request keeps the worker's
 * hot copies from answering it; other directives do not. */
START_TEST(no_cache_directives_are_recognised)
{
    static const char *const yes[] = { "no-cache", "No-Cache", " max-age=0", "no-store, no-cache",
                                       "max-age=10 , no-cache", "no-cache=\"set-cookie\"" };
    static const char *const no[] = { "", "max-age=1", "no-store", "max-age=00x", "no-cacheX",
                                      "private", "max-age=0x" };
    rst_request req;
    memset(&req, 0, sizeof(req));
    ck_assert(!rst_request_no_cache(&req));
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        req.cache_control = yes[i];
        ck_assert_msg(rst_request_no_cache(&req), "\"%s\" not seen", yes[i]);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        req.cache_control = no[i];
        ck_assert_msg(!rst_request_no_cache(&req), "\"%s\" taken for no-cache", no[i]);
    }
}
END_TEST

Suite *suite_api(void)
{
    Suite *s = suite_create("api");
    TCase *t = tcase_create("pipeline");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, route_comes_before_accept);
    tcase_add_test(t, accept_comes_before_token_and_body);
    tcase_add_test(t, token_comes_before_content_type);
    tcase_add_test(t, content_type_then_json_then_object);
    tcase_add_test(t, fields_are_checked_before_any_store);
    tcase_add_test(t, a_bad_idempotency_key_stops_before_act);
    tcase_add_test(t, a_valid_key_acts_even_without_redis);
    tcase_add_test(t, routes_and_metric_names_come_from_the_tables);
    tcase_add_test(t, etag_and_304);
    tcase_add_test(t, a_204_has_no_body_length_or_type);
    tcase_add_test(t, a_header_that_does_not_fit_fails_loudly);
    tcase_add_test(t, no_cache_directives_are_recognised);
    tcase_set_timeout(t, 20);
    suite_add_tcase(s, t);
    return s;
}
