/* test_cursor.c -- unit tests of http/cursor: round trips, binding to the
 * list context and key, and refusal of every tampered or truncated cursor. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "http/cursor.h"
#include "suites.h"

/* Hot loops check with this instead of ck_assert: Check's passing asserts
 * each record a checkpoint (a write to a pipe in fork mode), which makes
 * 100 000-iteration loops slow enough to hit the test timeout. */
#define FAST_CHECK(cond, ...) \
    do { if (!(cond)) ck_abort_msg(__VA_ARGS__); } while (0)

#define CTX "/tweets/123"

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void test_key(rst_cursor_key *key, unsigned char seed)
{
    size_t i;

    for (i = 0; i < sizeof key->key; i++)
        key->key[i] = (unsigned char)(seed + i * 7);
}

/* Encodes (CTX, k) and checks the shape of the result. */
static void encode(const rst_cursor_key *key, uint64_t k, char out[RST_CURSOR_MAXLEN])
{
    size_t n = rst_cursor_encode(key, CTX, k, out, RST_CURSOR_MAXLEN);

    ck_assert_uint_eq(n, 28);
    ck_assert_uint_eq(strlen(out), 28);
    ck_assert_uint_eq(strspn(out, b64url), 28);
}

START_TEST(test_round_trip)
{
    static const uint64_t keys[] = {
        0, 1, 255, 256, 7291840098234369ULL, (uint64_t)INT64_MAX, UINT64_MAX,
    };
    rst_cursor_key key;
    size_t i;

    test_key(&key, 1);
    for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char c[RST_CURSOR_MAXLEN];
        uint64_t k = 12345;

        encode(&key, keys[i], c);
        ck_assert_int_eq(rst_cursor_decode(&key, CTX, c, &k), 1);
        ck_assert(k == keys[i]);
    }
}
END_TEST

START_TEST(test_random_key_round_trip)
{
    rst_cursor_key key;
    int i;

    randombytes_buf(key.key, sizeof key.key);
    for (i = 0; i < 200; i++) {
        char c[RST_CURSOR_MAXLEN];
        uint64_t want, k = 0;

        randombytes_buf(&want, sizeof want);
        encode(&key, want, c);
        ck_assert_int_eq(rst_cursor_decode(&key, CTX, c, &k), 1);
        ck_assert(k == want);
    }
}
END_TEST

START_TEST(test_deterministic_and_distinct)
{
    rst_cursor_key key;
    char a[RST_CURSOR_MAXLEN], b[RST_CURSOR_MAXLEN], c[RST_CURSOR_MAXLEN];

    test_key(&key, 1);
    encode(&key, 42, a);
    encode(&key, 42, b);
    encode(&key, 43, c);
    ck_assert_str_eq(a, b);
    ck_assert_str_ne(a, c);
}
END_TEST

START_TEST(test_bound_to_context)
{
    rst_cursor_key key;
    char c[RST_CURSOR_MAXLEN];
    uint64_t k = 99;

    test_key(&key, 1);
    encode(&key, 42, c);
    ck_assert_int_eq(rst_cursor_decode(&key, "/tweets/12", c, &k), 0);
    ck_assert_int_eq(rst_cursor_decode(&key, "/tweets/1234", c, &k), 0);
    ck_assert_int_eq(rst_cursor_decode(&key, "/tweets/124", c, &k), 0);
    ck_assert_int_eq(rst_cursor_decode(&key, "/products", c, &k), 0);
    ck_assert_int_eq(rst_cursor_decode(&key, "", c, &k), 0);
    ck_assert_int_eq(rst_cursor_decode(&key, CTX, c, &k), 1);
    ck_assert(k == 42);
}
END_TEST

START_TEST(test_bound_to_key)
{
    rst_cursor_key key, other;
    char c[RST_CURSOR_MAXLEN];
    uint64_t k = 99;

    test_key(&key, 1);
    other = key;
    other.key[31] ^= 1;
    encode(&key, 42, c);
    ck_assert_int_eq(rst_cursor_decode(&other, CTX, c, &k), 0);
    ck_assert(k == 99);
}
END_TEST

START_TEST(test_every_single_character_mutation_fails)
{
    rst_cursor_key key;
    char c[RST_CURSOR_MAXLEN];
    size_t pos, j;
    int tried = 0;

    test_key(&key, 3);
    encode(&key, 7291840098234369ULL, c);
    for (pos = 0; pos < 28; pos++) {
        char orig = c[pos];

        /* every other base64url character, and a few outside the alphabet */
        for (j = 0; j < sizeof b64url - 1 + 6; j++) {
            uint64_t k = 5;
            char repl = j < sizeof b64url - 1 ? b64url[j] : "+/=. ~"[j - (sizeof b64url - 1)];

            if (repl == orig)
                continue;
            c[pos] = repl;
            FAST_CHECK(rst_cursor_decode(&key, CTX, c, &k) == 0 && k == 5,
                       "mutation at %zu to '%c' decoded", pos, repl);
            tried++;
        }
        c[pos] = orig;
    }
    ck_assert_int_eq(tried, 28 * (63 + 6));
    ck_assert_int_eq(rst_cursor_decode(&key, CTX, c, &(uint64_t){0}), 1);
}
END_TEST

START_TEST(test_truncated_and_extended_fail)
{
    rst_cursor_key key;
    char c[RST_CURSOR_MAXLEN], t[RST_CURSOR_MAXLEN + 8];
    uint64_t k;
    size_t n;

    test_key(&key, 1);
    encode(&key, 42, c);
    for (n = 0; n < 28; n++) {
        memcpy(t, c, n);
        t[n] = '\0';
        ck_assert_msg(rst_cursor_decode(&key, CTX, t, &k) == 0, "prefix %zu decoded", n);
    }
    snprintf(t, sizeof t, "%sA", c);
    ck_assert_int_eq(rst_cursor_decode(&key, CTX, t, &k), 0);
    snprintf(t, sizeof t, "%s=", c);
    ck_assert_int_eq(rst_cursor_decode(&key, CTX, t, &k), 0);
    snprintf(t, sizeof t, " %s", c);
    ck_assert_int_eq(rst_cursor_decode(&key, CTX, t, &k), 0);
    snprintf(t, sizeof t, "A%s", c + 1);                   /* same length, first char */
    if (c[0] != 'A')
        ck_assert_int_eq(rst_cursor_decode(&key, CTX, t, &k), 0);
}
END_TEST

START_TEST(test_garbage_fails)
{
    rst_cursor_key key;
    uint64_t k = 1;
    size_t big = 100000, i;
    char *g = malloc(big + 1);
    unsigned seed = 99;
    int round;

    test_key(&key, 1);
    ck_assert_ptr_nonnull(g);
    memset(g, 'A', big);
    g[big] = '\0';
    ck_assert_int_eq(rst_cursor_decode(&key, CTX, g, &k), 0);
    g[28] = '\0';                                          /* right length, no MAC */
    ck_assert_int_eq(rst_cursor_decode(&key, CTX, g, &k), 0);
    for (i = 0; i < big; i++)
        g[i] = (char)(1 + rand_r(&seed) % 255);
    g[big] = '\0';
    ck_assert_int_eq(rst_cursor_decode(&key, CTX, g, &k), 0);
    for (round = 0; round < 5000; round++) {               /* random 28-char cursors */
        for (i = 0; i < 28; i++)
            g[i] = b64url[rand_r(&seed) % 64];
        g[28] = '\0';
        FAST_CHECK(rst_cursor_decode(&key, CTX, g, &k) == 0, "random cursor %s decoded", g);
    }
    ck_assert(k == 1);
    ck_assert_int_eq(rst_cursor_decode(&key, CTX, "", &k), 0);
    ck_assert_int_eq(rst_cursor_decode(&key, CTX, "AAAAAAAAAAAAAAAAAAAAAAAAAAA=", &k), 0);
    free(g);
}
END_TEST

START_TEST(test_bad_arguments)
{
    rst_cursor_key key;
    char c[RST_CURSOR_MAXLEN];
    uint64_t k;

    test_key(&key, 1);
    ck_assert_uint_eq(rst_cursor_encode(&key, CTX, 1, c, 28), 0);   /* no room for NUL */
    ck_assert_uint_eq(rst_cursor_encode(&key, CTX, 1, c, 0), 0);
    ck_assert_uint_eq(rst_cursor_encode(&key, CTX, 1, c, 29), 28);
    ck_assert_uint_eq(rst_cursor_encode(NULL, CTX, 1, c, sizeof c), 0);
    ck_assert_uint_eq(rst_cursor_encode(&key, NULL, 1, c, sizeof c), 0);
    ck_assert_uint_eq(rst_cursor_encode(&key, CTX, 1, NULL, sizeof c), 0);
    encode(&key, 1, c);
    ck_assert_int_eq(rst_cursor_decode(NULL, CTX, c, &k), 0);
    ck_assert_int_eq(rst_cursor_decode(&key, NULL, c, &k), 0);
    ck_assert_int_eq(rst_cursor_decode(&key, CTX, NULL, &k), 0);
    ck_assert_int_eq(rst_cursor_decode(&key, CTX, c, NULL), 0);
}
END_TEST

Suite *suite_cursor(void)
{
    Suite *s = suite_create("cursor");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_random_key_round_trip);
    tcase_add_test(tc, test_deterministic_and_distinct);
    tcase_add_test(tc, test_bound_to_context);
    tcase_add_test(tc, test_bound_to_key);
    tcase_add_test(tc, test_every_single_character_mutation_fails);
    tcase_add_test(tc, test_truncated_and_extended_fail);
    tcase_add_test(tc, test_garbage_fails);
    tcase_add_test(tc, test_bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}
