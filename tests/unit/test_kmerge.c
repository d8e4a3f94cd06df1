/* test_kmerge.c -- core/kmerge: the global feed's k-way merge of id lists
 * (one per shard server), newest first, with an offset and a cap. */
#include <stdint.h>
#include <string.h>

#include "core/kmerge.h"
#include "suites.h"

#define MAXOUT 64

/* Merges up to 4 lists given as arrays ending in 0. */
static size_t merge(const uint64_t *a, const uint64_t *b, const uint64_t *c, size_t skip,
                    size_t want, uint64_t out[MAXOUT])
{
    const uint64_t *lists[3] = { a, b, c };
    size_t lens[3] = { 0, 0, 0 };
    int k = 0;
    for (; k < 3 && lists[k] != NULL; k++)
        while (lists[k][lens[k]] != 0)
            lens[k]++;
    memset(out, 0, sizeof(uint64_t) * MAXOUT);
    return rst_kmerge_desc(lists, lens, k, skip, out, want);
}

static void assert_ids(const uint64_t *got, size_t n, const uint64_t *want, size_t wn)
{
    ck_assert_uint_eq(n, wn);
    for (size_t i = 0; i < wn; i++)
        ck_assert_msg(got[i] == want[i], "item %zu: %llu, want %llu", i,
                      (unsigned long long)got[i], (unsigned long long)want[i]);
}

START_TEST(interleaves_newest_first)
{
    static const uint64_t a[] = { 90, 70, 50, 10, 0 }, b[] = { 80, 60, 20, 0 },
                          c[] = { 95, 15, 0 };
    static const uint64_t want[] = { 95, 90, 80, 70, 60, 50, 20, 15, 10 };
    uint64_t out[MAXOUT];
    size_t n = merge(a, b, c, 0, MAXOUT, out);
    assert_ids(out, n, want, sizeof(want) / sizeof(want[0]));
}
END_TEST

START_TEST(stops_at_want)
{
    static const uint64_t a[] = { 9, 7, 5, 0 }, b[] = { 8, 6, 4, 0 };
    static const uint64_t want[] = { 9, 8, 7 };
    uint64_t out[MAXOUT];
    size_t n = merge(a, b, NULL, 0, 3, out);
    assert_ids(out, n, want, 3);
    ck_assert_uint_eq(out[3], 0);           /* nothing written past want */
    ck_assert_uint_eq(merge(a, b, NULL, 0, 0, out), 0);
}
END_TEST

START_TEST(skip_is_an_offset_into_the_merged_order)
{
    static const uint64_t a[] = { 9, 7, 5, 3, 0 }, b[] = { 8, 6, 4, 2, 0 };
    static const uint64_t want[] = { 6, 5, 4 };
    uint64_t out[MAXOUT];
    size_t n = merge(a, b, NULL, 3, 3, out);
    assert_ids(out, n, want, 3);
    /* an offset past the end: nothing */
    ck_assert_uint_eq(merge(a, b, NULL, 8, 3, out), 0);
    /* the last two */
    static const uint64_t tail[] = { 3, 2 };
    n = merge(a, b, NULL, 6, 5, out);
    assert_ids(out, n, tail, 2);
}
END_TEST

START_TEST(duplicates_across_lists_count_once)
{
    static const uint64_t a[] = { 9, 7, 5, 0 }, b[] = { 9, 6, 5, 0 }, c[] = { 7, 0 };
    static const uint64_t want[] = { 9, 7, 6, 5 };
    uint64_t out[MAXOUT];
    size_t n = merge(a, b, c, 0, MAXOUT, out);
    assert_ids(out, n, want, 4);
    /* and once for the offset too: skipping 2 skips 9 and 7 */
    static const uint64_t rest[] = { 6, 5 };
    n = merge(a, b, c, 2, MAXOUT, out);
    assert_ids(out, n, rest, 2);
}
END_TEST

START_TEST(empty_and_exhausted_lists)
{
    static const uint64_t a[] = { 0 }, b[] = { 4, 0 };
    uint64_t out[MAXOUT];
    ck_assert_uint_eq(merge(a, NULL, NULL, 0, 10, out), 0);
    static const uint64_t want[] = { 4 };
    size_t n = merge(a, b, a, 0, 10, out);
    assert_ids(out, n, want, 1);
    ck_assert_uint_eq(rst_kmerge_desc(NULL, NULL, 0, 0, out, 10), 0);
}
END_TEST

START_TEST(ids_above_2_to_the_53_keep_every_bit)
{
    static const uint64_t a[] = { 0xFFFFFFFFFFFFFFF0ULL, 9007199254740993ULL, 0 },
                          b[] = { 0xFFFFFFFFFFFFFFEFULL, 9007199254740992ULL, 0 };
    static const uint64_t want[] = { 0xFFFFFFFFFFFFFFF0ULL, 0xFFFFFFFFFFFFFFEFULL,
                                     9007199254740993ULL, 9007199254740992ULL };
    uint64_t out[MAXOUT];
    size_t n = merge(a, b, NULL, 0, MAXOUT, out);
    assert_ids(out, n, want, 4);
}
END_TEST

START_TEST(a_list_out_of_order_is_cut_there)
{
    /* b goes up at 6 -> 8: it is read up to 6 and then ignored, so no id
     * comes out twice and the output stays strictly decreasing. */
    static const uint64_t a[] = { 9, 5, 0 }, b[] = { 7, 6, 8, 1, 0 };
    static const uint64_t want[] = { 9, 7, 6, 5 };
    uint64_t out[MAXOUT];
    size_t n = merge(a, b, NULL, 0, MAXOUT, out);
    assert_ids(out, n, want, 4);
}
END_TEST

Suite *suite_kmerge(void)
{
    Suite *s = suite_create("kmerge");
    TCase *tc = tcase_create("merge");
    tcase_add_test(tc, interleaves_newest_first);
    tcase_add_test(tc, stops_at_want);
    tcase_add_test(tc, skip_is_an_offset_into_the_merged_order);
    tcase_add_test(tc, duplicates_across_lists_count_once);
    tcase_add_test(tc, empty_and_exhausted_lists);
    tcase_add_test(tc, ids_above_2_to_the_53_keep_every_bit);
    tcase_add_test(tc, a_list_out_of_order_is_cut_there);
    suite_add_tcase(s, tc);
    return s;
}
