/* test_num.c -- core/num: the one 64-bit decimal reader behind route ids,
 * id strings and JSON integers, and the one hex digit value. */
#include <stdint.h>
#include <string.h>

#include "core/num.h"
#include "suites.h"

#define UNTOUCHED 0xdeadbeefULL

/* rst_parse_u64 on s: the length it read, the value in *v (UNTOUCHED when
 * it did not write one). */
static size_t parse(const char *s, uint64_t *v)
{
    *v = UNTOUCHED;
    return rst_parse_u64(s, v);
}

START_TEST(empty_and_non_digits_read_nothing)
{
    uint64_t v;
    ck_assert_uint_eq(parse("", &v), 0);
    ck_assert_uint_eq(v, UNTOUCHED);
    ck_assert_uint_eq(parse("x1", &v), 0);
    ck_assert_uint_eq(parse("-1", &v), 0);
    ck_assert_uint_eq(parse("+1", &v), 0);
    ck_assert_uint_eq(parse(" 1", &v), 0);
    ck_assert_uint_eq(parse("/1", &v), 0);
    ck_assert_uint_eq(v, UNTOUCHED);
}
END_TEST

START_TEST(digits_stop_at_the_first_non_digit)
{
    uint64_t v;
    ck_assert_uint_eq(parse("0", &v), 1);
    ck_assert_uint_eq(v, 0);
    ck_assert_uint_eq(parse("42", &v), 2);
    ck_assert_uint_eq(v, 42);
    ck_assert_uint_eq(parse("12a", &v), 2);
    ck_assert_uint_eq(v, 12);
    ck_assert_uint_eq(parse("7/cart", &v), 1);
    ck_assert_uint_eq(v, 7);
    ck_assert_uint_eq(parse("3.5", &v), 1);
    ck_assert_uint_eq(v, 3);
    ck_assert_uint_eq(parse("1e3", &v), 1);
    ck_assert_uint_eq(v, 1);
}
END_TEST

/* The callers decide about leading zeros (all three accept them today):
 * the reader counts them and reads the value. */
START_TEST(leading_zeros_are_digits)
{
    uint64_t v;
    ck_assert_uint_eq(parse("007", &v), 3);
    ck_assert_uint_eq(v, 7);
    ck_assert_uint_eq(parse("00000000000000000000", &v), 20);
    ck_assert_uint_eq(v, 0);
    /* More than 20 characters still fits when the value does. */
    ck_assert_uint_eq(parse("000018446744073709551615", &v), 24);
    ck_assert_uint_eq(v, UINT64_MAX);
}
END_TEST

START_TEST(twenty_digits_up_to_uint64_max)
{
    uint64_t v;
    ck_assert_uint_eq(parse("18446744073709551615", &v), 20);
    ck_assert_uint_eq(v, UINT64_MAX);
    ck_assert_uint_eq(parse("10000000000000000000", &v), 20);
    ck_assert_uint_eq(v, 10000000000000000000ULL);
    ck_assert_uint_eq(parse("9223372036854775808", &v), 19);
    ck_assert_uint_eq(v, (uint64_t)INT64_MAX + 1);
}
END_TEST

START_TEST(overflow_reads_nothing)
{
    uint64_t v;
    ck_assert_uint_eq(parse("18446744073709551616", &v), 0);
    ck_assert_uint_eq(v, UNTOUCHED);
    ck_assert_uint_eq(parse("18446744073709551620", &v), 0);
    ck_assert_uint_eq(parse("99999999999999999999", &v), 0);
    ck_assert_uint_eq(parse("184467440737095516150", &v), 0);
    ck_assert_uint_eq(parse("100000000000000000000", &v), 0);
    ck_assert_uint_eq(v, UNTOUCHED);
}
END_TEST

START_TEST(hex_digits_either_case)
{
    const char *digits = "0123456789abcdef", *upper = "ABCDEF";
    for (int i = 0; i < 16; i++)
        ck_assert_int_eq(rst_hex_value((unsigned char)digits[i]), i);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(rst_hex_value((unsigned char)upper[i]), 10 + i);
    ck_assert_int_eq(rst_hex_value('g'), -1);
    ck_assert_int_eq(rst_hex_value('G'), -1);
    ck_assert_int_eq(rst_hex_value('/'), -1);
    ck_assert_int_eq(rst_hex_value(':'), -1);
    ck_assert_int_eq(rst_hex_value('@'), -1);
    ck_assert_int_eq(rst_hex_value('`'), -1);
    ck_assert_int_eq(rst_hex_value('\0'), -1);
    ck_assert_int_eq(rst_hex_value(0xC1), -1);     /* a byte above 0x7F */
}
END_TEST

Suite *suite_num(void)
{
    Suite *s = suite_create("num");
    TCase *tc = tcase_create("digits");
    tcase_add_test(tc, empty_and_non_digits_read_nothing);
    tcase_add_test(tc, digits_stop_at_the_first_non_digit);
    tcase_add_test(tc, leading_zeros_are_digits);
    tcase_add_test(tc, twenty_digits_up_to_uint64_max);
    tcase_add_test(tc, overflow_reads_nothing);
    tcase_add_test(tc, hex_digits_either_case);
    suite_add_tcase(s, tc);
    return s;
}
