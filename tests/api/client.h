/* client.h -- a small libcurl client for the API tests, which talk to the
 * real stack through nginx (ROOST_TEST_URL), plus assertion and Check
 * helpers. */
#ifndef ROOST_TESTS_API_CLIENT_H
#define ROOST_TESTS_API_CLIENT_H

#include <check.h>
#include <stddef.h>
#include <sys/types.h>
#include <cjson/cJSON.h>
#include <hiredis/hiredis.h>

#include "core/config.h"

typedef struct {
    long    status;
    char   *body;          /* NUL-terminated */
    size_t  body_len;
    char   *headers;       /* raw response head, "Name: value\r\n" lines */
    cJSON  *json;          /* parsed body, NULL when not JSON */
} api_resp;

/* Sends one request. `headers` is a NULL-terminated list of "Name: value"
 * lines; "Accept: application/json" is sent unless the list has its own
 * Accept line ("Accept:" alone sends none at all, "Accept;" an empty one).
 * With a body, libcurl sends its default form Content-Type unless the list
 * has one ("Content-Type:" alone sends none). body may be NULL.
 * Returns 0 when an HTTP answer came back. */
int api_request(api_resp *r, const char *method, const char *path,
                const char *body, size_t body_len, const char *const *headers);

/* api_request sent from this local address (e.g. "127.0.0.2", another
 * loopback address than the default 127.0.0.1): libcurl's CURLOPT_INTERFACE.
 * source_ip NULL is api_request. */
int api_request_from(api_resp *r, const char *source_ip, const char *method, const char *path,
                     const char *body, size_t body_len, const char *const *headers);

/* Sends these bytes as they are to nginx and reads until it closes the
 * connection (send "Connection: close" or something it refuses), for
 * requests libcurl would not send. 0 when an answer came back. */
int api_raw(api_resp *r, const char *bytes, size_t len);

/* Shorthands. */
int api_get(api_resp *r, const char *path);
int api_get_h(api_resp *r, const char *path, const char *const *headers);

/* GET with this Accept value. */
int api_get_accept(api_resp *r, const char *path, const char *accept);

/* An Accept value that allows JSON and was never sent before: nginx's
 * micro-cache is used only for a few common Accept values (see
 * nginx/roost-site.conf.in), so a request with it always reaches roostd. */
const char *api_unique_accept(char *out, size_t outlen);

/* GET with a unique Accept (never answered from nginx's cache), after the
 * replicas have applied what the primaries had (api_await_replicas). */
int api_get_fresh(api_resp *r, const char *path);

void api_free(api_resp *r);

/* Value of a response header (case-insensitive name), copied into out;
 * NULL when absent. */
const char *api_header(const api_resp *r, const char *name, char *out, size_t outlen);

/* How many times the header appears in the (last) response head. */
int api_header_count(const api_resp *r, const char *name);

/* JSON helpers on the parsed body: a dotted path like "error.code"; in an
 * array a part of digits is an index ("items.0.id"). */
const cJSON *api_json_at(const api_resp *r, const char *dotted);
const char  *api_json_str(const api_resp *r, const char *dotted);

/* The test stack's roost.conf (ROOST_TEST_CONF), read once; NULL (and a
 * line on stderr) when it cannot be read. */
const rst_config *api_stack_config(void);

/* Runs a command (hiredis format) on the test stack's Redis. Keys are
 * written with their prefix: "GET %sproduct:1", api_redis_prefix(). The
 * reply is the caller's (freeReplyObject); NULL when Redis cannot be
 * reached. */
redisReply *api_redis(const char *fmt, ...);
const char *api_redis_prefix(void);

/* Runs `dev svc STACK ACTION NAME` for the test stack; 0 on success. */
int api_stack(const char *action, const char *name);

/* Runs SQL as the stack's admin on server NAME (db1, db2, db1r, db2r)
 * with the mariadb client; the first line of its output (-N, tab
 * separated) goes into out (may be NULL). 0 when it succeeded. */
int api_sql(const char *name, const char *sql, char *out, size_t outlen);

/* Runs `ENV roostctl -c CONF ARGS` (ENV: variable assignments, or NULL;
 * the binary: $ROOST_TEST_ROOSTCTL, else the build's); its output, stderr
 * included, into out. The exit status, or -1 when it did not run or exit. */
int api_roostctl(const char *env, const char *conf, const char *args, char *out, size_t outlen);

/* Waits (at most 10 s) until each replica has applied everything its
 * primary had committed when called: anonymous reads go to replicas,
 * which apply a write a moment after it was acknowledged. 0 when they
 * caught up. */
int api_await_replicas(void);

/* 1 when s is an id as API.md §1.2 serializes it: 1-20 decimal digits
 * that fit in 64 bits. */
int api_is_id(const char *s);

/* 1 when s is RFC 3339 UTC with milliseconds: 2026-11-28T19:50:21.123Z. */
int api_is_timestamp(const char *s);

/* Copies the id of the nth product of GET /products?limit=100 (0 first)
 * into out; 0 on success. */
int api_product_id(int nth, char *out, size_t outlen);

/* The base URL (ROOST_TEST_URL). */
const char *api_base(void);

/* A test case with the API tests' usual time limit (30 s), added to s. */
TCase *api_tcase(Suite *s, const char *name);

/* The number of elements of an array, e.g. the end of a loop test. */
#define API_COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Fails the test when a request got no HTTP answer at all. */
#define api_ok(call) ck_assert_msg((call) == 0, "no HTTP answer: %s", #call)

/* Asserts the body is the JSON error of API.md §1.3 with this status and
 * code: the JSON content type, `fields` on 422 validation_failed only, and
 * an X-Request-Id (§1.2). For use inside Check tests. */
#define api_assert_error(r, st, code_) do { \
        ck_assert_msg((r)->status == (st), "status %ld, want %d; body: %s", (r)->status, (st), (r)->body); \
        ck_assert_msg((r)->json != NULL, "error body is not JSON: %s", (r)->body); \
        const char *c_ = api_json_str((r), "error.code"); \
        ck_assert_msg(c_ && strcmp(c_, (code_)) == 0, "code %s, want %s; body: %s", c_ ? c_ : "(none)", (code_), (r)->body); \
        const cJSON *s_ = api_json_at((r), "error.status"); \
        ck_assert_msg(s_ && cJSON_IsNumber(s_) && s_->valuedouble == (st), "error.status mismatch: %s", (r)->body); \
        ck_assert_msg(api_json_str((r), "error.message") != NULL, "no error.message: %s", (r)->body); \
        const cJSON *f_ = api_json_at((r), "error.fields"); \
        if (strcmp((code_), "validation_failed") == 0) \
            ck_assert_msg(cJSON_IsObject(f_) && f_->child != NULL, "validation_failed without fields: %s", (r)->body); \
        else \
            ck_assert_msg(f_ == NULL, "fields on a %s error: %s", (code_), (r)->body); \
        char ct_[128] = "(none)", rid_[128]; \
        ck_assert_msg(api_header((r), "Content-Type", ct_, sizeof(ct_)) && \
                      strcmp(ct_, "application/json; charset=utf-8") == 0, "content type: %s", ct_); \
        ck_assert_msg(api_header((r), "X-Request-Id", rid_, sizeof(rid_)) && rid_[0], \
                      "no X-Request-Id on a %d", (st)); \
    } while (0)

/* The test stack's roostd master (its pid file under ROOST_TEST_RUN_DIR),
 * 0 when there is none; and a master's children (its workers, draining
 * ones too) from /proc, at most max of them, or -1. */
pid_t api_roostd_master(void);
int   api_roostd_workers(pid_t master, pid_t *out, int max);

/* A whole (text) file of up to 64 KiB, malloc'd for the caller; the test
 * fails when it cannot be read. And writing one: a, then b (NULL: none). */
char *api_read_file(const char *path);
void  api_write_file(const char *path, const char *a, const char *b);

/* The monotonic clock, in seconds and in milliseconds. */
double api_now_s(void);
long   api_now_ms(void);

/* The value of the Prometheus sample line in text that starts with
 * `series ` (exact name and labels); -1 when absent. */
double api_metric(const char *text, const char *series);

#endif
