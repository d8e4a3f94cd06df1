/* test_timefmt.c -- unit tests of core/timefmt: RFC 3339 UTC formatting with
 * milliseconds, clamping, and the wall clock. */
#include <string.h>
#include <stdio.h>
#include <time.h>

#include "core/timefmt.h"
#include "suites.h"

static void expect_format(uint64_t ms, const char *want)
{
    char out[RST_TIME_LEN];

    memset(out, 'X', sizeof out);
    rst_time_format(ms, out);
    ck_assert_str_eq(out, want);
    ck_assert_uint_eq(strlen(out), RST_TIME_LEN - 1);
}

START_TEST(test_known_instants)
{
    expect_format(0, "1970-01-01T00:00:00.000Z");
    expect_format(1, "1970-01-01T00:00:00.001Z");
    expect_format(999, "1970-01-01T00:00:00.999Z");
    expect_format(1000, "1970-01-01T00:00:01.000Z");
    expect_format(1767225600000ULL, "2026-01-01T00:00:00.000Z");     /* the id epoch */
    expect_format(1795895421123ULL, "2026-11-28T19:50:21.123Z");     /* API.md's example */
    expect_format(1709251199999ULL, "2024-02-29T23:59:59.999Z");     /* leap day */
    expect_format(946684799999ULL, "1999-12-31T23:59:59.999Z");
    expect_format(946684800001ULL, "2000-01-01T00:00:00.001Z");
}
END_TEST

START_TEST(test_clamped_to_year_9999)
{
    expect_format(253402300799999ULL, "9999-12-31T23:59:59.999Z");
    expect_format(253402300800000ULL, "9999-12-31T23:59:59.999Z");
    expect_format(UINT64_MAX, "9999-12-31T23:59:59.999Z");
}
END_TEST

/* The hand-written calendar against the C library's, every 7 hours and a
 * bit from 1970 to 2400 (every month end, leap day and century rule). */
START_TEST(test_matches_gmtime)
{
    char want[64];
    for (uint64_t ms = 0; ms < 13569465600000ULL; ms += 25200123ULL) {
        time_t secs = (time_t)(ms / 1000);
        struct tm tm;
        ck_assert_ptr_nonnull(gmtime_r(&secs, &tm));
        snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (unsigned)(ms % 1000));
        /* Not expect_format: each passing ck_assert records a checkpoint
         * (a pipe write), and 540 000 of them outlast the test timeout on
         * a busy machine. */
        char out[RST_TIME_LEN];
        rst_time_format(ms, out);
        if (strcmp(out, want) != 0)
            ck_abort_msg("%llu ms: %s, not %s", (unsigned long long)ms, out, want);
    }
}
END_TEST

START_TEST(test_now)
{
    uint64_t before = (uint64_t)time(NULL) * 1000;
    uint64_t now = rst_time_now_ms();
    uint64_t after = ((uint64_t)time(NULL) + 1) * 1000;

    ck_assert(now >= before);
    ck_assert(now <= after);
}
END_TEST

Suite *suite_timefmt(void)
{
    Suite *s = suite_create("timefmt");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_known_instants);
    tcase_add_test(tc, test_clamped_to_year_9999);
    tcase_add_test(tc, test_matches_gmtime);
    tcase_add_test(tc, test_now);
    suite_add_tcase(s, tc);
    return s;
}
