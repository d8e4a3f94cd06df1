/* test_limits.c -- nginx's per-address limit on sign-in requests: past the
 * burst it answers 429 with Retry-After and the JSON error body, never its
 * default 503. 127.0.0.1 is exempt by design (local checks, benchmarks), so
 * these requests come from another loopback address, 127.0.0.2. */
#include <string.h>

#include "suites.h"

#define OTHER_ADDRESS "127.0.0.2"

/* One GET /users/SignIn from OTHER_ADDRESS: roostd answers 405 at once, so
 * the limiter, not Argon2, sets the pace. The answer is in r (status 0
 * when none came back). */
static void signin_from_other_address(api_resp *r)
{
    api_request_from(r, OTHER_ADDRESS, "GET", "/users/SignIn", NULL, 0, NULL);
}

START_TEST(signin_burst_from_one_address_gets_429)
{
    int limited = 0, passed = 0;
    for (int i = 0; i < 60 && !limited; i++) {
        api_resp r;
        signin_from_other_address(&r);
        ck_assert_msg(r.status == 405 || r.status == 429, "unexpected status %ld: %s", r.status, r.body);
        if (r.status == 429) {
            char ra[32], ct[128] = "(none)";
            const char *code = api_json_str(&r, "error.code");
            limited = 1;
            ck_assert_msg(code && strcmp(code, "rate_limited") == 0, "body: %s", r.body);
            ck_assert_msg(api_header(&r, "Retry-After", ra, sizeof(ra)) != NULL, "no Retry-After: %s",
                          r.headers);
            ck_assert_msg(api_header(&r, "Content-Type", ct, sizeof(ct)) &&
                          strncmp(ct, "application/json", 16) == 0, "not JSON: %s", ct);
        } else {
            passed++;
        }
        api_free(&r);
    }
    ck_assert_msg(limited, "60 quick requests from one address were never limited");
    /* The burst (20) lets the first ones through. */
    ck_assert_int_ge(passed, 15);
}
END_TEST

START_TEST(other_paths_are_not_limited)
{
    /* Right after a burst on sign-in, the same address still reads. */
    api_resp r;
    for (int i = 0; i < 30; i++) {
        signin_from_other_address(&r);
        api_free(&r);
    }
    api_ok(api_request_from(&r, OTHER_ADDRESS, "GET", "/products?limit=1", NULL, 0, NULL));
    ck_assert_int_eq(r.status, 200);
    api_free(&r);
}
END_TEST

Suite *suite_limits(void)
{
    Suite *s = suite_create("limits");
    TCase *tc = api_tcase(s, "nginx");
    tcase_add_test(tc, signin_burst_from_one_address_gets_429);
    tcase_add_test(tc, other_paths_are_not_limited);
    return s;
}
