/* test_tlmerge.c -- core/tlmerge: the home timeline's members (strict
 * parsing), the merge that stops where it is no longer certain, and the
 * filter by the users the reader follows. */
#include <stdint.h>
#include <string.h>

#include "core/tlmerge.h"
#include "suites.h"

START_TEST(members_round_trip_and_sort_by_id)
{
    char a[RST_TL_MEMBER_LEN + 1], b[RST_TL_MEMBER_LEN + 1];
    rst_tl_entry e;
    rst_tl_member(123456789012345ULL, 42, a);
    ck_assert_uint_eq(strlen(a), RST_TL_MEMBER_LEN);
    ck_assert_str_eq(a, "00000123456789012345:00000000000000000042");
    ck_assert_int_eq(rst_tl_parse_member(a, strlen(a), &e), 1);
    ck_assert_uint_eq(e.id, 123456789012345ULL);
    ck_assert_uint_eq(e.author, 42);
    /* Lexicographic order is id order, whatever the authors. */
    rst_tl_member(123456789012346ULL, 1, b);
    ck_assert_int_lt(strcmp(a, b), 0);
}
END_TEST

START_TEST(sentinel_and_garbage)
{
    rst_tl_entry e;
    uint64_t id;
    ck_assert_int_eq(rst_tl_parse_member("00000000000000000000", 20, &e), 0);
    ck_assert_int_eq(rst_tl_parse_id("00000000000000000000", 20, &id), 0);
    ck_assert_int_eq(rst_tl_parse_id("00000000000000000007", 20, &id), 1);
    ck_assert_uint_eq(id, 7);
    /* Short, long, signs, spaces, a zero author, a wrong separator. */
    ck_assert_int_eq(rst_tl_parse_member("00000000000000000001", 20, &e), -1);
    ck_assert_int_eq(rst_tl_parse_id("0000000000000000007", 19, &id), -1);
    ck_assert_int_eq(rst_tl_parse_id("+0000000000000000007", 20, &id), -1);
    ck_assert_int_eq(rst_tl_parse_member("00000000000000000005:00000000000000000000", 41, &e), -1);
    ck_assert_int_eq(rst_tl_parse_member("00000000000000000005-00000000000000000003", 41, &e), -1);
    ck_assert_int_eq(rst_tl_parse_member("00000000000000000005:0000000000000000000x", 41, &e), -1);
    ck_assert_int_eq(rst_tl_parse_member("99999999999999999999:00000000000000000003", 41, &e), -1);
}
END_TEST

static const rst_tl_entry A[] = { { 90, 1 }, { 70, 1 }, { 50, 1 } };
static const rst_tl_entry B[] = { { 80, 2 }, { 70, 1 }, { 20, 2 } };
static const rst_tl_entry C[] = { { 95, 3 }, { 10, 3 } };

START_TEST(merge_of_complete_runs_is_whole_and_deduplicated)
{
    rst_tl_run runs[3] = { { A, 3, 0 }, { B, 3, 0 }, { C, 2, 0 } };
    rst_tl_entry out[16];
    uint64_t next = 1;
    int n = rst_tl_merge(runs, 3, out, 16, &next);
    static const uint64_t want[] = { 95, 90, 80, 70, 50, 20, 10 };
    ck_assert_int_eq(n, 7);
    for (int i = 0; i < n; i++)
        ck_assert_uint_eq(out[i].id, want[i]);
    ck_assert_uint_eq(out[0].author, 3);
    ck_assert_uint_eq(next, 0);
}
END_TEST

START_TEST(merge_stops_at_a_run_that_may_hold_more)
{
    /* A may go on below 50, so 20 and 10 are not certain yet (A's next
     * could be 40). */
    rst_tl_run runs[3] = { { A, 3, 1 }, { B, 3, 0 }, { C, 2, 0 } };
    rst_tl_entry out[16];
    uint64_t next;
    int n = rst_tl_merge(runs, 3, out, 16, &next);
    ck_assert_int_eq(n, 5);
    ck_assert_uint_eq(out[4].id, 50);
    ck_assert_uint_eq(next, 50);
}
END_TEST

START_TEST(merge_cut_short_goes_on_below_the_last)
{
    rst_tl_run runs[3] = { { A, 3, 0 }, { B, 3, 0 }, { C, 2, 0 } };
    rst_tl_entry out[3];
    uint64_t next;
    int n = rst_tl_merge(runs, 3, out, 3, &next);
    ck_assert_int_eq(n, 3);
    ck_assert_uint_eq(out[2].id, 80);
    ck_assert_uint_eq(next, 80);
}
END_TEST

START_TEST(merge_ignores_a_run_out_of_order)
{
    static const rst_tl_entry bad[] = { { 60, 4 }, { 65, 4 }, { 5, 4 } };
    rst_tl_run runs[2] = { { A, 3, 0 }, { bad, 3, 0 } };
    rst_tl_entry out[16];
    uint64_t next;
    int n = rst_tl_merge(runs, 2, out, 16, &next);
    /* The bad run is read as far as it is ordered (60), then it may hold
     * more: the merge is certain down to 60 only. */
    ck_assert_int_eq(n, 3);
    ck_assert_uint_eq(out[2].id, 60);
    ck_assert_uint_eq(next, 60);
}
END_TEST

START_TEST(filter_keeps_followed_and_self)
{
    rst_tl_entry e[] = { { 9, 5 }, { 8, 3 }, { 7, 7 }, { 6, 1 }, { 5, 3 } };
    static const uint64_t follows[] = { 1, 2, 3 };
    int n = rst_tl_filter(e, 5, follows, 3, 7);
    ck_assert_int_eq(n, 4);
    ck_assert_uint_eq(e[0].id, 8);
    ck_assert_uint_eq(e[1].id, 7);
    ck_assert_uint_eq(e[2].id, 6);
    ck_assert_uint_eq(e[3].id, 5);
    ck_assert_int_eq(rst_tl_has(follows, 3, 2), 1);
    ck_assert_int_eq(rst_tl_has(follows, 3, 4), 0);
    ck_assert_int_eq(rst_tl_has(follows, 0, 1), 0);
    ck_assert_int_eq(rst_tl_filter(e, 4, follows, 0, 99), 0);
}
END_TEST

Suite *suite_tlmerge(void)
{
    Suite *s = suite_create("tlmerge");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, members_round_trip_and_sort_by_id);
    tcase_add_test(tc, sentinel_and_garbage);
    tcase_add_test(tc, merge_of_complete_runs_is_whole_and_deduplicated);
    tcase_add_test(tc, merge_stops_at_a_run_that_may_hold_more);
    tcase_add_test(tc, merge_cut_short_goes_on_below_the_last);
    tcase_add_test(tc, merge_ignores_a_run_out_of_order);
    tcase_add_test(tc, filter_keeps_followed_and_self);
    suite_add_tcase(s, tc);
    return s;
}
