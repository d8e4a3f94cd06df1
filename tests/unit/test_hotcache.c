/* test_hotcache.c -- a worker's hot copies (store/hotcache.h): an entry
 * answers while younger than its age limit and never after, a write's del
 * drops it, the byte bound and the value bound hold, and a key never
 * answers with another key's value when they share a slot. */
#include <stdio.h>
#include <string.h>

#include "store/hotcache.h"
#include "suites.h"

#define T0 5000000ULL               /* some monotonic instant */
#define W0 1796130000ULL            /* its unix second */

static const char *get(rst_hot *h, const char *key, uint64_t now, size_t *len, uint64_t wall)
{
    return rst_hot_get(h, key, strlen(key), now, wall, len);
}

static void put(rst_hot *h, const char *key, const char *val, uint64_t now, uint64_t wall)
{
    rst_hot_put(h, key, strlen(key), val, strlen(val), now, wall);
}

START_TEST(an_entry_answers_until_its_age_limit)
{
    rst_hot *h = rst_hot_new(1000, 1 << 20);
    ck_assert_ptr_nonnull(h);
    size_t len = 0;
    ck_assert_ptr_null(get(h, "roost:product:1", T0, &len, W0));
    put(h, "roost:product:1", "{\"id\":\"1\"}", T0, W0);
    const char *v = get(h, "roost:product:1", T0 + 999, &len, W0);
    ck_assert_ptr_nonnull(v);
    ck_assert_uint_eq(len, 10);
    ck_assert(memcmp(v, "{\"id\":\"1\"}", 10) == 0);
    ck_assert_ptr_null(get(h, "roost:product:1", T0 + 1000, &len, W0));
    /* ... and once too old it is gone, whatever the clock does next. */
    ck_assert_ptr_null(get(h, "roost:product:1", T0 + 10, &len, W0));
    ck_assert_uint_eq(rst_hot_bytes(h), 0);
    rst_hot_free(h);
}
END_TEST

/* nginx keeps an answer to the end of the second it was made in, so a
 * copy answers only within the second it was read in: the two ages then
 * add up to under a second. */
START_TEST(an_entry_answers_only_within_its_second)
{
    rst_hot *h = rst_hot_new(1000, 1 << 20);
    size_t len;
    put(h, "k", "v", T0, W0);
    ck_assert_ptr_nonnull(get(h, "k", T0 + 300, &len, W0));
    ck_assert_ptr_null(get(h, "k", T0 + 301, &len, W0 + 1));
    ck_assert_ptr_null(get(h, "k", T0 + 302, &len, W0));     /* gone, not just hidden */
    rst_hot_free(h);
}
END_TEST

START_TEST(del_drops_the_entry_and_only_it)
{
    rst_hot *h = rst_hot_new(1000, 1 << 20);
    size_t len;
    put(h, "k1", "one", T0, W0);
    put(h, "k2", "two", T0, W0);
    rst_hot_del(h, "k1", 2);
    ck_assert_ptr_null(get(h, "k1", T0 + 1, &len, W0));
    ck_assert_ptr_nonnull(get(h, "k2", T0 + 1, &len, W0));
    rst_hot_del(h, "nope", 4);
    ck_assert_ptr_nonnull(get(h, "k2", T0 + 1, &len, W0));
    rst_hot_free(h);
}
END_TEST

START_TEST(the_bounds_hold)
{
    rst_hot *h = rst_hot_new(1000, 100);
    char big[RST_HOT_MAX_VALUE + 2];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    size_t len;
    rst_hot *roomy = rst_hot_new(1000, 1 << 20);
    put(roomy, "big", big, T0, W0);             /* over the value bound */
    ck_assert_ptr_null(get(roomy, "big", T0, &len, W0));
    rst_hot_free(roomy);
    /* 100 bytes: keys and values together never pass it. */
    char key[16], val[40];
    memset(val, 'v', 30);
    val[30] = '\0';
    for (int i = 0; i < 50; i++) {
        snprintf(key, sizeof(key), "key%d", i);
        put(h, key, val, T0, W0);
        ck_assert_uint_le(rst_hot_bytes(h), 100);
    }
    ck_assert_uint_gt(rst_hot_bytes(h), 0);
    rst_hot_free(h);
}
END_TEST

/* Many keys through the slots: each lookup answers its own value or
 * nothing, never a neighbour's; as many keys as slots mostly stay. */
START_TEST(a_shared_slot_never_answers_another_key)
{
    rst_hot *h = rst_hot_new(1000, 1 << 24);
    char key[32], val[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "roost:product:%d", i);
        snprintf(val, sizeof(val), "v%d", i);
        put(h, key, val, T0 + (uint64_t)i / 100, W0);
    }
    int found = 0;
    for (int i = 0; i < 20000; i++) {
        size_t len;
        snprintf(key, sizeof(key), "roost:product:%d", i);
        snprintf(val, sizeof(val), "v%d", i);
        const char *v = get(h, key, T0 + 1, &len, W0);
        if (v == NULL)
            continue;
        found++;
        ck_assert_uint_eq(len, strlen(val));
        ck_assert(memcmp(v, val, len) == 0);
    }
    ck_assert_int_gt(found, RST_HOT_SLOTS / 2);
    ck_assert_int_le(found, RST_HOT_SLOTS);
    rst_hot_free(h);
}
END_TEST

/* 1 000 hot keys (the bench's products) in 8 192 slots: all stay, where a
 * direct-mapped table kept about 40 % (two keys in a slot evict each
 * other on every read). */
START_TEST(a_thousand_hot_keys_all_stay)
{
    rst_hot *h = rst_hot_new(1000, 1 << 24);
    char key[48];
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 1000; i++) {
            snprintf(key, sizeof(key), "roost:product:%llu", 220603645144598150ULL + (unsigned long long)i);
            size_t len;
            if (get(h, key, T0 + (uint64_t)round, &len, W0) == NULL)
                put(h, key, "{}", T0 + (uint64_t)round, W0);
        }
    int found = 0;
    for (int i = 0; i < 1000; i++) {
        size_t len;
        snprintf(key, sizeof(key), "roost:product:%llu", 220603645144598150ULL + (unsigned long long)i);
        found += get(h, key, T0 + 5, &len, W0) != NULL;
    }
    ck_assert_int_ge(found, 995);
    rst_hot_free(h);
}
END_TEST

Suite *suite_hotcache(void)
{
    Suite *s = suite_create("hotcache");
    TCase *tc = tcase_create("hotcache");
    tcase_add_test(tc, an_entry_answers_until_its_age_limit);
    tcase_add_test(tc, an_entry_answers_only_within_its_second);
    tcase_add_test(tc, del_drops_the_entry_and_only_it);
    tcase_add_test(tc, the_bounds_hold);
    tcase_add_test(tc, a_shared_slot_never_answers_another_key);
    tcase_add_test(tc, a_thousand_hot_keys_all_stay);
    suite_add_tcase(s, tc);
    return s;
}
