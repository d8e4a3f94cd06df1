/* client.h -- a small libcurl client for the API tests, which talk to the
 * real stack through nginx (ROOST_TEST_URL), plus assertion helpers. */
#ifndef ROOST_TESTS_API_CLIENT_H
#define ROOST_TESTS_API_CLIENT_H

#include <stddef.h>
#include <cjson/cJSON.h>

typedef struct {
    long    status;
    char   *body;          /* NUL-terminated */
    size_t  body_len;
    char   *headers;       /* raw response head, "Name: value\r\n" lines */
    cJSON  *json;          /* parsed body, NULL when not JSON */
} api_resp;

/* Sends one request. `headers` is a NULL-terminated list of "Name: value"
 * lines; "Accept: application/json" is sent unless the list has its own
 * Accept line ("Accept:" alone sends none at all). body may be NULL.
 * Returns 0 when an HTTP answer came back. */
int api_request(api_resp *r, const char *method, const char *path,
                const char *body, size_t body_len, const char *const *headers);

/* Shorthands. */
int api_get(api_resp *r, const char *path);
int api_get_h(api_resp *r, const char *path, const char *const *headers);

void api_free(api_resp *r);

/* Value of a response header (case-insensitive name), copied into out;
 * NULL when absent. */
const char *api_header(const api_resp *r, const char *name, char *out, size_t outlen);

/* JSON helpers on the parsed body: a dotted path like "error.code". */
const cJSON *api_json_at(const api_resp *r, const char *dotted);
const char  *api_json_str(const api_resp *r, const char *dotted);

/* Runs `dev svc STACK ACTION NAME` for the test stack; 0 on success. */
int api_stack(const char *action, const char *name);

/* The base URL (ROOST_TEST_URL). */
const char *api_base(void);

/* Asserts the body is the JSON error of API.md §1.3 with this status and
 * code, with the JSON content type. For use inside Check tests. */
#define api_assert_error(r, st, code_) do { \
        ck_assert_msg((r)->status == (st), "status %ld, want %d; body: %s", (r)->status, (st), (r)->body); \
        ck_assert_msg((r)->json != NULL, "error body is not JSON: %s", (r)->body); \
        const char *c_ = api_json_str((r), "error.code"); \
        ck_assert_msg(c_ && strcmp(c_, (code_)) == 0, "code %s, want %s", c_ ? c_ : "(none)", (code_)); \
        const cJSON *s_ = api_json_at((r), "error.status"); \
        ck_assert_msg(s_ && cJSON_IsNumber(s_) && s_->valuedouble == (st), "error.status mismatch: %s", (r)->body); \
        ck_assert_msg(api_json_str((r), "error.message") != NULL, "no error.message"); \
        char ct_[128]; \
        ck_assert_msg(api_header((r), "Content-Type", ct_, sizeof(ct_)) && \
                      strcmp(ct_, "application/json; charset=utf-8") == 0, "content type: %s", ct_); \
    } while (0)

#endif
