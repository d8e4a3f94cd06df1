/* test_page.c -- unit tests of http/page: limit/page/cursor parsing and the
 * 422 answers for every bad combination (API.md §1.4). */
#include <stdio.h>
#include <string.h>

#include "http/page.h"
#include "suites.h"

#define CTX "/products"
#define MSG_LIMIT "must be an integer from 1 to 100"
#define MSG_PAGE  "must be an integer from 1 to 1000"

static rst_cursor_key test_key(void)
{
    rst_cursor_key key;

    memset(key.key, 0x5a, sizeof key.key);
    return key;
}

static rst_page_req parse_ok(const char *qs)
{
    rst_cursor_key key = test_key();
    rst_page_req req = { -1, -1, 7 };
    const char *field = "unset", *msg = "unset";

    ck_assert_msg(rst_page_parse(qs, &key, CTX, &req, &field, &msg) == 0,
                  "qs %s rejected: %s %s", qs ? qs : "(null)", field, msg);
    return req;
}

/* Expects a 422 on `want_field` with `want_msg`; checks *out is untouched. */
static void parse_fails(const char *qs, const char *want_field, const char *want_msg)
{
    rst_cursor_key key = test_key();
    rst_page_req req = { -1, -1, 7 };
    const char *field = NULL, *msg = NULL;

    ck_assert_msg(rst_page_parse(qs, &key, CTX, &req, &field, &msg) == -1,
                  "qs %s accepted", qs);
    ck_assert_ptr_nonnull(field);
    ck_assert_ptr_nonnull(msg);
    ck_assert_msg(strcmp(field, want_field) == 0, "qs %s: field %s, want %s", qs, field, want_field);
    ck_assert_msg(strcmp(msg, want_msg) == 0, "qs %s: msg '%s', want '%s'", qs, msg, want_msg);
    ck_assert_int_eq(req.limit, -1);
    ck_assert_int_eq(req.page, -1);
}

START_TEST(test_defaults)
{
    rst_page_req r = parse_ok(NULL);

    ck_assert_int_eq(r.limit, 20);
    ck_assert_int_eq(r.page, 1);
    ck_assert(r.after == 0);
    r = parse_ok("");
    ck_assert_int_eq(r.limit, 20);
    ck_assert_int_eq(r.page, 1);
    r = parse_ok("sort=new&x=%zz");        /* other parameters are not ours */
    ck_assert_int_eq(r.limit, 20);
    ck_assert_int_eq(r.page, 1);
}
END_TEST

START_TEST(test_limit_and_page_values)
{
    rst_page_req r;

    r = parse_ok("limit=1");
    ck_assert_int_eq(r.limit, 1);
    ck_assert_int_eq(r.page, 1);
    r = parse_ok("limit=100&page=1000");
    ck_assert_int_eq(r.limit, 100);
    ck_assert_int_eq(r.page, 1000);
    r = parse_ok("page=4&limit=10");
    ck_assert_int_eq(r.limit, 10);
    ck_assert_int_eq(r.page, 4);
    r = parse_ok("page=1");
    ck_assert_int_eq(r.page, 1);
    /* Leading zeros are plain decimal digits (decision, like ids). */
    r = parse_ok("limit=010&page=0002");
    ck_assert_int_eq(r.limit, 10);
    ck_assert_int_eq(r.page, 2);
}
END_TEST

START_TEST(test_bad_limit)
{
    static const char *bad[] = {
        "limit=0", "limit=101", "limit=-1", "limit=abc", "limit=", "limit",
        "limit=1.5", "limit=+1", "limit=%201", "limit=1%20", "limit=+", "limit=1e1",
        "limit=0x10", "limit=99999999999999999999", "limit=%zz", "limit=1%00",
        "limit=000", "limit=10abc",
        "limit=1000000000000000000000000000000000000000000000000000000000000000000000",
    };
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        parse_fails(bad[i], "limit", MSG_LIMIT);
    parse_fails("limit=0&page=1&cursor=x", "limit", MSG_LIMIT);   /* limit is checked first */
}
END_TEST

START_TEST(test_bad_page)
{
    static const char *bad[] = {
        "page=0", "page=1001", "page=-1", "page=abc", "page=", "page", "page=1.5",
        "page=+1", "page=%201", "page=1e2", "page=99999999999999999999999",
    };
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        parse_fails(bad[i], "page", MSG_PAGE);
    parse_fails("limit=5&page=1001", "page", MSG_PAGE);
}
END_TEST

START_TEST(test_cursor)
{
    rst_cursor_key key = test_key();
    char c[RST_CURSOR_MAXLEN], qs[128];
    rst_page_req r;

    ck_assert_uint_eq(rst_cursor_encode(&key, CTX, 7291840098234369ULL, c, sizeof c), 28);
    snprintf(qs, sizeof qs, "cursor=%s", c);
    r = parse_ok(qs);
    ck_assert_int_eq(r.page, 0);
    ck_assert_int_eq(r.limit, 20);
    ck_assert(r.after == 7291840098234369ULL);
    snprintf(qs, sizeof qs, "limit=5&cursor=%s", c);
    r = parse_ok(qs);
    ck_assert_int_eq(r.page, 0);
    ck_assert_int_eq(r.limit, 5);
    ck_assert(r.after == 7291840098234369ULL);
}
END_TEST

START_TEST(test_bad_cursor)
{
    rst_cursor_key key = test_key();
    char c[RST_CURSOR_MAXLEN], qs[256];

    parse_fails("cursor=", "cursor", "must not be empty");
    parse_fails("cursor", "cursor", "must not be empty");
    parse_fails("cursor=abc", "cursor", "is not a valid cursor");
    parse_fails("cursor=%zz", "cursor", "is not a valid cursor");
    parse_fails("cursor=AAAAAAAAAAAAAAAAAAAAAAAAAAAA", "cursor", "is not a valid cursor");
    /* a cursor for another list */
    ck_assert_uint_eq(rst_cursor_encode(&key, "/tweets", 5, c, sizeof c), 28);
    snprintf(qs, sizeof qs, "cursor=%s", c);
    parse_fails(qs, "cursor", "is not a valid cursor");
    /* truncated, and far too long */
    ck_assert_uint_eq(rst_cursor_encode(&key, CTX, 5, c, sizeof c), 28);
    snprintf(qs, sizeof qs, "cursor=%.27s", c);
    parse_fails(qs, "cursor", "is not a valid cursor");
    snprintf(qs, sizeof qs, "cursor=%s%s%s", c, c, c);
    parse_fails(qs, "cursor", "is not a valid cursor");
    /* no key configured: no cursor can be valid */
    snprintf(qs, sizeof qs, "cursor=%s", c);
    {
        rst_page_req r;
        const char *field = NULL, *msg = NULL;

        ck_assert_int_eq(rst_page_parse(qs, NULL, CTX, &r, &field, &msg), -1);
        ck_assert_str_eq(field, "cursor");
    }
}
END_TEST

START_TEST(test_page_and_cursor_together)
{
    rst_cursor_key key = test_key();
    char c[RST_CURSOR_MAXLEN], qs[128];

    ck_assert_uint_eq(rst_cursor_encode(&key, CTX, 5, c, sizeof c), 28);
    snprintf(qs, sizeof qs, "page=2&cursor=%s", c);
    parse_fails(qs, "cursor", "page and cursor cannot be combined");
    snprintf(qs, sizeof qs, "cursor=%s&page=1", c);
    parse_fails(qs, "cursor", "page and cursor cannot be combined");
    parse_fails("page=1&cursor=", "cursor", "page and cursor cannot be combined");
    parse_fails("page=abc&cursor=xyz", "cursor", "page and cursor cannot be combined");
    /* present but undecodable still counts as present */
    parse_fails("page=1&cursor=%zz", "cursor", "page and cursor cannot be combined");
    parse_fails("page=%zz&cursor=abc", "cursor", "page and cursor cannot be combined");
}
END_TEST

START_TEST(test_null_outputs_allowed)
{
    rst_cursor_key key = test_key();
    rst_page_req r;

    ck_assert_int_eq(rst_page_parse("limit=0", &key, CTX, &r, NULL, NULL), -1);
    ck_assert_int_eq(rst_page_parse("limit=5", &key, CTX, &r, NULL, NULL), 0);
    ck_assert_int_eq(r.limit, 5);
}
END_TEST

START_TEST(every_invalid_parameter_is_reported)
{
    rst_cursor_key key;
    memset(&key, 7, sizeof(key));
    rst_page_problem p[RST_PAGE_MAX_PROBLEMS];
    int n = 0;
    rst_page_req r;
    ck_assert_int_eq(rst_page_parse_all("limit=0&page=0", &key, CTX, &r, p, &n), -1);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(p[0].field, "limit");
    ck_assert_str_eq(p[1].field, "page");
    ck_assert_int_eq(rst_page_parse_all("limit=abc&cursor=", &key, CTX, &r, p, &n), -1);
    ck_assert_int_eq(n, 2);
    ck_assert_str_eq(p[1].field, "cursor");
    ck_assert_int_eq(rst_page_parse_all("limit=7&page=3", &key, CTX, &r, p, &n), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(r.limit, 7);
    ck_assert_int_eq(r.page, 3);
}
END_TEST

Suite *suite_page(void)
{
    Suite *s = suite_create("page");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_limit_and_page_values);
    tcase_add_test(tc, test_bad_limit);
    tcase_add_test(tc, test_bad_page);
    tcase_add_test(tc, test_cursor);
    tcase_add_test(tc, test_bad_cursor);
    tcase_add_test(tc, test_page_and_cursor_together);
    tcase_add_test(tc, test_null_outputs_allowed);
    tcase_add_test(tc, every_invalid_parameter_is_reported);
    suite_add_tcase(s, tc);
    return s;
}
