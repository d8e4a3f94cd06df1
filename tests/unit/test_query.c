/* test_query.c -- unit tests of http/query: finding and decoding one
 * parameter of a URL query string. */
#include <string.h>

#include "http/query.h"
#include "suites.h"

/* Looks `name` up in qs with a roomy buffer and checks the value when found. */
static void expect_value(const char *qs, const char *name, const char *want)
{
    char out[64];

    memset(out, 'X', sizeof out);
    ck_assert_msg(rst_query_get(qs, name, out, sizeof out) == 1,
                  "%s not found in %s", name, qs);
    ck_assert_str_eq(out, want);
}

static int lookup(const char *qs, const char *name)
{
    char out[64];

    return rst_query_get(qs, name, out, sizeof out);
}

START_TEST(test_plain_values)
{
    expect_value("limit=10", "limit", "10");
    expect_value("a=1&limit=10&b=2", "limit", "10");
    expect_value("page=3&limit=10", "page", "3");
    expect_value("limit=10&limit=20", "limit", "10");     /* the first wins */
    expect_value("xlimit=1&limit=2", "limit", "2");       /* whole names only */
    expect_value("limitx=1&limit=2", "limit", "2");
    expect_value("lim=1&limit=2", "limit", "2");          /* a prefix is not the name */
    expect_value("a=b=c", "a", "b=c");                    /* only the first '=' splits */
    expect_value("q=caf\xc3\xa9", "q", "caf\xc3\xa9");    /* raw bytes pass through */
}
END_TEST

START_TEST(test_decoding)
{
    expect_value("q=a%20b", "q", "a b");
    expect_value("q=a+b", "q", "a b");
    expect_value("q=%2B1", "q", "+1");
    expect_value("q=100%25", "q", "100%");
    expect_value("q=%e2%82%ac", "q", "\xe2\x82\xac");
    expect_value("q=%E2%82%AC", "q", "\xe2\x82\xac");
    expect_value("q=%26%3D", "q", "&=");
    expect_value("li%6Dit=5", "limit", "5");              /* names are decoded too */
    expect_value("my+name=1", "my name", "1");
}
END_TEST

START_TEST(test_bad_escapes)
{
    char out[16] = "untouched";

    ck_assert_int_eq(lookup("q=%zz", "q"), -1);
    ck_assert_int_eq(lookup("q=%2", "q"), -1);
    ck_assert_int_eq(lookup("q=%", "q"), -1);
    ck_assert_int_eq(lookup("q=abc%", "q"), -1);
    ck_assert_int_eq(lookup("q=%2&r=1", "q"), -1);        /* escape cut by '&' */
    ck_assert_int_eq(lookup("q=%g0", "q"), -1);
    ck_assert_int_eq(lookup("q=a%00b", "q"), -1);         /* embedded NUL */
    ck_assert_int_eq(rst_query_get("q=%zz", "q", out, sizeof out), -1);
    ck_assert_str_eq(out, "");                            /* never half-decoded */
    /* A bad escape in another parameter is not our business. */
    expect_value("x=%zz&q=1", "q", "1");
    /* A name that does not decode matches nothing. */
    ck_assert_int_eq(lookup("q%zz=1", "q"), 0);
}
END_TEST

START_TEST(test_missing_and_empty)
{
    ck_assert_int_eq(lookup(NULL, "q"), 0);
    ck_assert_int_eq(lookup("", "q"), 0);
    ck_assert_int_eq(lookup("a=1&b=2", "q"), 0);
    ck_assert_int_eq(lookup("Q=1", "q"), 0);              /* names are case-sensitive */
    ck_assert_int_eq(lookup("&&&", "q"), 0);
    ck_assert_int_eq(lookup("=1", "q"), 0);
    ck_assert_int_eq(lookup("qq", "q"), 0);
    expect_value("q=", "q", "");
    expect_value("q", "q", "");
    expect_value("a=1&q", "q", "");
    expect_value("q&a=1", "q", "");
    expect_value("&&q=1&&", "q", "1");
    expect_value("a=&q=2", "q", "2");
}
END_TEST

START_TEST(test_output_length)
{
    char out[4];

    ck_assert_int_eq(rst_query_get("q=abc", "q", out, sizeof out), 1);
    ck_assert_str_eq(out, "abc");
    ck_assert_int_eq(rst_query_get("q=abcd", "q", out, sizeof out), -1);
    /* Length counts decoded bytes: three escapes fit in four bytes. */
    ck_assert_int_eq(rst_query_get("q=%41%42%43", "q", out, sizeof out), 1);
    ck_assert_str_eq(out, "ABC");
    ck_assert_int_eq(rst_query_get("q=", "q", out, 1), 1);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(rst_query_get("q=a", "q", out, 1), -1);
    ck_assert_int_eq(rst_query_get("q=a", "q", out, 0), -1);
    ck_assert_int_eq(rst_query_get("r=a", "q", out, 0), 0);
}
END_TEST

Suite *suite_query(void)
{
    Suite *s = suite_create("query");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_plain_values);
    tcase_add_test(tc, test_decoding);
    tcase_add_test(tc, test_bad_escapes);
    tcase_add_test(tc, test_missing_and_empty);
    tcase_add_test(tc, test_output_length);
    suite_add_tcase(s, tc);
    return s;
}
