/* test_limits.c -- nginx's per-address limit on sign-in requests: past the
 * burst it answers 429 with Retry-After and the JSON error body, never its
 * default 503. 127.0.0.1 is exempt by design (local checks, benchmarks), so
 * these requests come from another loopback address, 127.0.0.2. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"

typedef struct {
    char  *data;
    size_t len;
} sink;

static size_t keep(char *p, size_t size, size_t n, void *user)
{
    sink *s = user;
    size_t add = size * n;
    char *d = realloc(s->data, s->len + add + 1);
    if (d == NULL)
        return 0;
    memcpy(d + s->len, p, add);
    s->len += add;
    d[s->len] = '\0';
    s->data = d;
    return add;
}

/* One GET /users/SignIn from 127.0.0.2: roostd answers 405 at once, so the
 * limiter, not Argon2, sets the pace. Returns the status; *body and *head
 * (malloc'd, may be NULL) get the answer when asked for. */
static long signin_from_other_address(char **body, char **head)
{
    CURL *c = curl_easy_init();
    char url[256];
    snprintf(url, sizeof(url), "%s/users/SignIn", api_base());
    struct curl_slist *hl = curl_slist_append(NULL, "Accept: application/json");
    sink b = { 0 }, h = { 0 };
    long status = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_INTERFACE, "127.0.0.2");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, keep);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    if (body)
        *body = b.data;
    else
        free(b.data);
    if (head)
        *head = h.data;
    else
        free(h.data);
    return status;
}

START_TEST(signin_burst_from_one_address_gets_429)
{
    int limited = 0, passed = 0;
    char *body = NULL, *head = NULL;
    for (int i = 0; i < 60 && !limited; i++) {
        long st = signin_from_other_address(&body, &head);
        ck_assert_msg(st == 405 || st == 429, "unexpected status %ld: %s", st, body ? body : "");
        if (st == 429) {
            limited = 1;
            ck_assert_msg(strstr(body, "\"code\":\"rate_limited\"") != NULL, "body: %s", body);
            ck_assert_msg(strstr(head, "Retry-After:") != NULL, "no Retry-After: %s", head);
            ck_assert_msg(strstr(head, "application/json") != NULL, "not JSON: %s", head);
        } else {
            passed++;
        }
        free(body);
        free(head);
        body = head = NULL;
    }
    ck_assert_msg(limited, "60 quick requests from one address were never limited");
    /* The burst (20) lets the first ones through. */
    ck_assert_int_ge(passed, 15);
}
END_TEST

START_TEST(other_paths_are_not_limited)
{
    /* Right after a burst on sign-in, the same address still reads. */
    for (int i = 0; i < 30; i++)
        signin_from_other_address(NULL, NULL);
    CURL *c = curl_easy_init();
    char url[256];
    snprintf(url, sizeof(url), "%s/products?limit=1", api_base());
    struct curl_slist *hl = curl_slist_append(NULL, "Accept: application/json");
    sink b = { 0 };
    long status = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_INTERFACE, "127.0.0.2");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    ck_assert_int_eq(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    ck_assert_int_eq(status, 200);
    free(b.data);
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
}
END_TEST

Suite *suite_limits(void)
{
    Suite *s = suite_create("limits");
    TCase *tc = tcase_create("nginx");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, signin_burst_from_one_address_gets_429);
    tcase_add_test(tc, other_paths_are_not_limited);
    suite_add_tcase(s, tc);
    return s;
}
