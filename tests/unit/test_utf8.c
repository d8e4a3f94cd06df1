/* test_utf8.c -- unit tests of core/utf8: RFC 3629 validity (overlongs,
 * surrogates, range, truncation), code point counts, control characters. */
#include <string.h>

#include "core/utf8.h"
#include "suites.h"

/* Hot loops check with this instead of ck_assert: Check's passing asserts
 * each record a checkpoint (a write to a pipe in fork mode), which makes
 * 100 000-iteration loops slow enough to hit the test timeout. */
#define FAST_CHECK(cond, ...) \
    do { if (!(cond)) ck_abort_msg(__VA_ARGS__); } while (0)

/* Byte strings are written with explicit lengths so NULs can be tested. */
#define VALID(lit)   ck_assert_int_eq(rst_utf8_valid(lit, sizeof(lit) - 1), 1)
#define INVALID(lit) ck_assert_int_eq(rst_utf8_valid(lit, sizeof(lit) - 1), 0)

START_TEST(test_valid_ascii_and_empty)
{
    ck_assert_int_eq(rst_utf8_valid("", 0), 1);
    ck_assert_int_eq(rst_utf8_valid(NULL, 0), 1);
    VALID("hello, world");
    VALID("\x00");          /* NUL is U+0000: valid UTF-8 */
    VALID("a\x00" "b");
    VALID("\x7f");
}
END_TEST

START_TEST(test_valid_boundaries)
{
    VALID("\xc2\x80");              /* U+0080, smallest 2-byte */
    VALID("\xdf\xbf");              /* U+07FF */
    VALID("\xe0\xa0\x80");          /* U+0800, smallest 3-byte */
    VALID("\xed\x9f\xbf");          /* U+D7FF, just below surrogates */
    VALID("\xee\x80\x80");          /* U+E000, just above surrogates */
    VALID("\xef\xbf\xbf");          /* U+FFFF */
    VALID("\xf0\x90\x80\x80");      /* U+10000, smallest 4-byte */
    VALID("\xf4\x8f\xbf\xbf");      /* U+10FFFF, the maximum */
    VALID("\xf0\x9f\x98\x80");      /* U+1F600 emoji */
    VALID("caf\xc3\xa9 \xe2\x82\xac");
}
END_TEST

START_TEST(test_overlongs_rejected)
{
    INVALID("\xc0\x80");            /* overlong NUL */
    INVALID("\xc0\xaf");            /* overlong '/' */
    INVALID("\xc1\xbf");            /* overlong U+007F */
    INVALID("\xe0\x80\x80");        /* overlong NUL, 3 bytes */
    INVALID("\xe0\x9f\xbf");        /* overlong U+07FF */
    INVALID("\xf0\x80\x80\x80");    /* overlong NUL, 4 bytes */
    INVALID("\xf0\x8f\xbf\xbf");    /* overlong U+FFFF */
}
END_TEST

START_TEST(test_surrogates_rejected)
{
    INVALID("\xed\xa0\x80");                /* U+D800 */
    INVALID("\xed\xaf\xbf");                /* U+DBFF */
    INVALID("\xed\xb0\x80");                /* U+DC00 */
    INVALID("\xed\xbf\xbf");                /* U+DFFF */
    INVALID("\xed\xa0\xbd\xed\xb8\x80");    /* CESU-8 form of U+1F600 */
}
END_TEST

START_TEST(test_out_of_range_rejected)
{
    INVALID("\xf4\x90\x80\x80");    /* U+110000 */
    INVALID("\xf5\x80\x80\x80");
    INVALID("\xf7\xbf\xbf\xbf");
    INVALID("\xf8\x88\x80\x80\x80"); /* old 5-byte form */
    INVALID("\xfc\x84\x80\x80\x80\x80");
    INVALID("\xfe");
    INVALID("\xff");
}
END_TEST

START_TEST(test_truncated_and_stray_rejected)
{
    INVALID("\xc3");
    INVALID("\xe2\x82");
    INVALID("\xf0\x9f\x98");
    INVALID("a\xf0\x9f");
    INVALID("\xe2\x82" "a");        /* continuation replaced by ASCII */
    INVALID("\xf0\x9f\x98" "a");
    INVALID("\x80");                /* lone continuation */
    INVALID("\xbf");
    INVALID("a\x80" "b");
    INVALID("\xc3\xa9\xa9");        /* one continuation too many */
    INVALID("\xc3\xc3");
}
END_TEST

START_TEST(test_length_is_respected)
{
    /* The validator must look only at [0, len): a truncated view of a valid
     * sequence is invalid, and bytes past len do not matter. */
    const char euro[] = "\xe2\x82\xac";

    ck_assert_int_eq(rst_utf8_valid(euro, 3), 1);
    ck_assert_int_eq(rst_utf8_valid(euro, 2), 0);
    ck_assert_int_eq(rst_utf8_valid(euro, 1), 0);
    ck_assert_int_eq(rst_utf8_valid("ab\xff", 2), 1);
}
END_TEST

START_TEST(test_count)
{
    ck_assert_uint_eq(rst_utf8_count("", 0), 0);
    ck_assert_uint_eq(rst_utf8_count("abc", 3), 3);
    ck_assert_uint_eq(rst_utf8_count("caf\xc3\xa9", 5), 4);
    ck_assert_uint_eq(rst_utf8_count("\xe2\x82\xac\xe2\x82\xac", 6), 2);
    ck_assert_uint_eq(rst_utf8_count("\xf0\x9f\x98\x80x", 5), 2);
    ck_assert_uint_eq(rst_utf8_count("a\0b", 3), 3);
}
END_TEST

START_TEST(test_has_control)
{
    ck_assert_int_eq(rst_utf8_has_control("plain text", 10, NULL), 0);
    ck_assert_int_eq(rst_utf8_has_control("", 0, NULL), 0);
    ck_assert_int_eq(rst_utf8_has_control("a\nb", 3, NULL), 1);
    ck_assert_int_eq(rst_utf8_has_control("a\nb", 3, "\n"), 0);
    ck_assert_int_eq(rst_utf8_has_control("a\tb\nc", 5, "\n"), 1);
    ck_assert_int_eq(rst_utf8_has_control("a\tb\nc", 5, "\n\t"), 0);
    ck_assert_int_eq(rst_utf8_has_control("a\x7f", 2, NULL), 1);
    ck_assert_int_eq(rst_utf8_has_control("a\x7f", 2, "\n\t"), 1);
    ck_assert_int_eq(rst_utf8_has_control("\x1f", 1, NULL), 1);
    ck_assert_int_eq(rst_utf8_has_control(" ", 1, NULL), 0);
    /* NUL is a control character, and an `allowed` string cannot allow it. */
    ck_assert_int_eq(rst_utf8_has_control("a\0b", 3, NULL), 1);
    ck_assert_int_eq(rst_utf8_has_control("a\0b", 3, "\n"), 1);
    ck_assert_int_eq(rst_utf8_has_control("a\0b", 3, ""), 1);
    /* Multi-byte sequences never look like controls (U+0085 is C1, allowed). */
    ck_assert_int_eq(rst_utf8_has_control("\xc2\x85\xe2\x82\xac", 5, NULL), 0);
}
END_TEST

/* Every 2-byte sequence agrees with a direct reading of RFC 3629. */
START_TEST(test_exhaustive_two_bytes)
{
    unsigned a, b;

    for (a = 0; a < 256; a++) {
        for (b = 0; b < 256; b++) {
            char s[2] = { (char)a, (char)b };
            int expect;

            if (a < 0x80)
                expect = b < 0x80;                      /* two ASCII chars */
            else if (a >= 0xc2 && a <= 0xdf)
                expect = b >= 0x80 && b <= 0xbf;
            else
                expect = 0;     /* stray continuation, overlong lead, or truncated */
            FAST_CHECK(rst_utf8_valid(s, 2) == expect, "bytes %02x %02x", a, b);
        }
    }
}
END_TEST

Suite *suite_utf8(void)
{
    Suite *s = suite_create("utf8");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_valid_ascii_and_empty);
    tcase_add_test(tc, test_valid_boundaries);
    tcase_add_test(tc, test_overlongs_rejected);
    tcase_add_test(tc, test_surrogates_rejected);
    tcase_add_test(tc, test_out_of_range_rejected);
    tcase_add_test(tc, test_truncated_and_stray_rejected);
    tcase_add_test(tc, test_length_is_respected);
    tcase_add_test(tc, test_count);
    tcase_add_test(tc, test_has_control);
    tcase_add_test(tc, test_exhaustive_two_bytes);
    suite_add_tcase(s, tc);
    return s;
}
