/* test_password.c -- unit tests of auth/password: Argon2id hashing and
 * verification, re-hash detection, the OWASP floor on the parameters and the
 * dummy verification for unknown names. Each hash costs ~50 ms at the
 * minimum parameters, so the tests make only a handful. */
#include <string.h>

#include "auth/password.h"
#include "suites.h"

START_TEST(test_params_floor)
{
    rst_pw_params p;
    memset(&p, 0x55, sizeof(p));
    rst_pw_params_init(&p, 0, 0);
    ck_assert_uint_eq(p.opslimit, RST_PW_MIN_OPSLIMIT);
    ck_assert_uint_eq(p.memlimit, RST_PW_MIN_MEMLIMIT);
    ck_assert_int_eq(p.dummy[0], '\0');

    rst_pw_params_init(&p, 1, 1024 * 1024);
    ck_assert_uint_eq(p.opslimit, 2);
    ck_assert_uint_eq(p.memlimit, 19u * 1024 * 1024);

    /* OWASP's minimum for Argon2id is m = 19 MiB, t = 2. */
    ck_assert_uint_eq(RST_PW_MIN_OPSLIMIT, 2);
    ck_assert_uint_eq(RST_PW_MIN_MEMLIMIT, 19u * 1024 * 1024);

    /* Higher values are kept as given. */
    rst_pw_params_init(&p, 3, 64u * 1024 * 1024);
    ck_assert_uint_eq(p.opslimit, 3);
    ck_assert_uint_eq(p.memlimit, 64u * 1024 * 1024);
    rst_pw_params_init(&p, 2, 19u * 1024 * 1024 + 1024);
    ck_assert_uint_eq(p.memlimit, 19u * 1024 * 1024 + 1024);
}
END_TEST

START_TEST(test_hash_verify_rehash)
{
    rst_pw_params p, higher_t, higher_m;
    rst_pw_params_init(&p, 0, 0);
    static const char pw[] = "correct horse battery";
    char hash[RST_PW_HASH_MAX];
    memset(hash, 'X', sizeof(hash));
    ck_assert_int_eq(rst_pw_hash(&p, pw, strlen(pw), hash), 0);

    /* An Argon2id PHC string with the parameters used, never the password. */
    ck_assert_ptr_nonnull(memchr(hash, '\0', sizeof(hash)));
    ck_assert_msg(strncmp(hash, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0, "hash %s", hash);
    ck_assert_ptr_null(strstr(hash, pw));

    ck_assert_int_eq(rst_pw_verify(hash, pw, strlen(pw)), 1);
    ck_assert_int_eq(rst_pw_verify(hash, "correct horse batterY", strlen(pw)), 0);
    ck_assert_int_eq(rst_pw_verify(hash, pw, strlen(pw) - 1), 0);  /* a prefix */

    /* Same parameters: no re-hash; higher cost of either kind: re-hash. */
    ck_assert_int_eq(rst_pw_needs_rehash(&p, hash), 0);
    rst_pw_params_init(&higher_t, 3, 0);
    ck_assert_int_eq(rst_pw_needs_rehash(&higher_t, hash), 1);
    rst_pw_params_init(&higher_m, 2, 64u * 1024 * 1024);
    ck_assert_int_eq(rst_pw_needs_rehash(&higher_m, hash), 1);
}
END_TEST

START_TEST(test_length_counts_not_nul)
{
    /* The length given is what is hashed: bytes after a NUL count. */
    rst_pw_params p;
    rst_pw_params_init(&p, 0, 0);
    static const char a[] = "abcdefgh\0one", b[] = "abcdefgh\0two";
    char hash[RST_PW_HASH_MAX];
    ck_assert_int_eq(rst_pw_hash(&p, a, sizeof(a) - 1, hash), 0);
    ck_assert_int_eq(rst_pw_verify(hash, b, sizeof(b) - 1), 0);
}
END_TEST

START_TEST(test_verify_garbage_hash)
{
    /* Not a hash at all: a failed verification, no crash, no hashing. */
    static const char *const junk[] = {
        "", "x", "$argon2id$", "$argon2id$v=19$m=19456,t=2,p=1$", "$2b$10$abcdefghijklmnopqrstuv",
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$",
    };
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
        ck_assert_msg(rst_pw_verify(junk[i], "password1", 9) == 0, "junk %zu verified", i);
        rst_pw_params p;
        rst_pw_params_init(&p, 0, 0);
        ck_assert_msg(rst_pw_needs_rehash(&p, junk[i]) == 1, "junk %zu needs no rehash", i);
    }
}
END_TEST

START_TEST(test_dummy_verify)
{
    rst_pw_params p;
    rst_pw_params_init(&p, 0, 0);
    ck_assert_int_eq(p.dummy[0], '\0');
    rst_pw_verify_dummy(&p, "whatever pw", 11);
    /* The dummy hash is made once, with the configured parameters, */
    ck_assert_msg(strncmp(p.dummy, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0, "dummy %s", p.dummy);
    char first[RST_PW_HASH_MAX];
    memcpy(first, p.dummy, sizeof(first));
    /* and kept: a second call reuses it (empty and huge passwords too). */
    rst_pw_verify_dummy(&p, "", 0);
    ck_assert_str_eq(p.dummy, first);
    ck_assert_int_eq(rst_pw_needs_rehash(&p, p.dummy), 0);
}
END_TEST

Suite *suite_password(void)
{
    Suite *s = suite_create("password");
    TCase *tc = tcase_create("core");

    /* Argon2 at 19 MiB: a few hashes per test, well under the timeout. */
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_params_floor);
    tcase_add_test(tc, test_hash_verify_rehash);
    tcase_add_test(tc, test_length_counts_not_nul);
    tcase_add_test(tc, test_verify_garbage_hash);
    tcase_add_test(tc, test_dummy_verify);
    suite_add_tcase(s, tc);
    return s;
}
