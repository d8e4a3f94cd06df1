/* test_token.c -- unit tests of auth/token: HS256 access tokens. Issue and
 * verify round trips, and every way a token can be forged, mangled or out of
 * date (wrong key, tampering, truncation, garbage, alg "none", HS384/HS512,
 * expiry, iat in the future, missing or malformed claims). */
#include <jwt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/token.h"
#include "suites.h"

/* A fixed "now" well after the id epoch; verification takes it as given. */
#define NOW 1795895421LL

static const unsigned char KEY[32] = "0123456789abcdef0123456789abcdef";
static const unsigned char OTHER_KEY[32] = "fedcba9876543210fedcba9876543210";

static char *issue(const unsigned char *key, uint64_t sub, int admin, uint64_t ver,
                   int64_t now_s, int ttl_s)
{
    rst_claims c = { .sub = sub, .admin = admin, .ver = ver };
    char *t = rst_token_issue(key, &c, now_s, ttl_s);
    ck_assert_ptr_nonnull(t);
    return t;
}

/* base64url without padding of s[0..n). */
static void b64url(const void *s, size_t n, char *out, size_t outlen)
{
    ck_assert_uint_ge(outlen, sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING));
    sodium_bin2base64(out, outlen, s, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* HMAC-SHA256 over "head.payload" with key, as a finished token. Lets a test
 * build well-signed tokens with any header and claims. */
static void sign_hs256(const unsigned char *key, const char *header_json, const char *payload_json,
                       char *out, size_t outlen)
{
    char h[512], p[1024], sig[64];
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    b64url(header_json, strlen(header_json), h, sizeof(h));
    b64url(payload_json, strlen(payload_json), p, sizeof(p));
    char signing[1600];
    snprintf(signing, sizeof(signing), "%s.%s", h, p);
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, 32);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)signing, strlen(signing));
    crypto_auth_hmacsha256_final(&st, mac);
    b64url(mac, sizeof(mac), sig, sizeof(sig));
    snprintf(out, outlen, "%s.%s", signing, sig);
}

static rst_token_rc verify(const unsigned char *key, const char *token, int64_t now_s)
{
    rst_claims out;
    memset(&out, 0xAB, sizeof(out));
    return rst_token_verify(key, token, now_s, &out);
}

/* A complete, valid claim set for hand-made tokens. */
#define GOOD_CLAIMS "{\"sub\":\"7291840098234369\",\"role\":\"user\",\"iat\":1795895421," \
                    "\"exp\":1795897221,\"jti\":\"0123456789abcdef0123456789abcdef\",\"ver\":3}"
#define JWT_HEADER  "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

START_TEST(test_round_trip)
{
    char *t = issue(KEY, 7291840098234369ULL, 0, 4, NOW, 1800);
    rst_claims c;
    ck_assert_int_eq(rst_token_verify(KEY, t, NOW, &c), RST_TOKEN_OK);
    ck_assert_uint_eq(c.sub, 7291840098234369ULL);
    ck_assert_int_eq(c.admin, 0);
    ck_assert_uint_eq(c.ver, 4);
    ck_assert_int_eq(c.iat, NOW);
    ck_assert_int_eq(c.exp, NOW + 1800);
    ck_assert_uint_eq(strlen(c.jti), 32);
    /* Three base64url parts. */
    ck_assert_ptr_nonnull(strchr(t, '.'));
    ck_assert_uint_eq(strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."),
                      strlen(t));
    free(t);

    t = issue(KEY, 1, 1, 0, NOW, 60);
    ck_assert_int_eq(rst_token_verify(KEY, t, NOW + 59, &c), RST_TOKEN_OK);
    ck_assert_uint_eq(c.sub, 1);
    ck_assert_int_eq(c.admin, 1);
    ck_assert_uint_eq(c.ver, 0);
    free(t);
}
END_TEST

START_TEST(test_issue_fills_claims_and_unique_jti)
{
    rst_claims a = { .sub = 5, .ver = 1 }, b = { .sub = 5, .ver = 1 };
    char *t1 = rst_token_issue(KEY, &a, NOW, 1800);
    char *t2 = rst_token_issue(KEY, &b, NOW, 1800);
    ck_assert_ptr_nonnull(t1);
    ck_assert_ptr_nonnull(t2);
    ck_assert_int_eq(a.iat, NOW);
    ck_assert_int_eq(a.exp, NOW + 1800);
    ck_assert_uint_eq(strlen(a.jti), 32);
    ck_assert_str_ne(a.jti, b.jti);
    ck_assert_str_ne(t1, t2);           /* same second, same user: still distinct */
    free(t1);
    free(t2);
}
END_TEST

START_TEST(test_hand_made_good_token_verifies)
{
    /* Proves the helpers below build tokens the verifier accepts, so the
     * rejections in the other tests are for the reason they test. */
    char t[2048];
    rst_claims c;
    sign_hs256(KEY, JWT_HEADER, GOOD_CLAIMS, t, sizeof(t));
    ck_assert_int_eq(rst_token_verify(KEY, t, NOW, &c), RST_TOKEN_OK);
    ck_assert_uint_eq(c.sub, 7291840098234369ULL);
    ck_assert_uint_eq(c.ver, 3);
    ck_assert_str_eq(c.jti, "0123456789abcdef0123456789abcdef");
}
END_TEST

START_TEST(test_wrong_key)
{
    char *t = issue(KEY, 42, 1, 0, NOW, 1800);
    ck_assert_int_eq(verify(OTHER_KEY, t, NOW), RST_TOKEN_INVALID);
    free(t);
    /* Expired and signed with another key: invalid, not "expired". */
    t = issue(OTHER_KEY, 42, 0, 0, NOW - 7200, 1800);
    ck_assert_int_eq(verify(KEY, t, NOW), RST_TOKEN_INVALID);
    free(t);
}
END_TEST

START_TEST(test_tampered_payload)
{
    char *t = issue(KEY, 42, 0, 0, NOW, 1800);
    char *dot1 = strchr(t, '.'), *dot2 = strchr(dot1 + 1, '.');
    ck_assert_ptr_nonnull(dot2);

    /* Replace the payload with one claiming admin, keep the signature. */
    char payload[512], forged[2048];
    const char *claims = "{\"sub\":\"42\",\"role\":\"admin\",\"iat\":1795895421,"
                         "\"exp\":1795897221,\"jti\":\"00000000000000000000000000000000\",\"ver\":0}";
    b64url(claims, strlen(claims), payload, sizeof(payload));
    snprintf(forged, sizeof(forged), "%.*s.%s%s", (int)(dot1 - t), t, payload, dot2);
    ck_assert_int_eq(verify(KEY, forged, NOW), RST_TOKEN_INVALID);

    /* Flip single characters inside the payload. */
    for (char *p = dot1 + 1; p < dot2; p += 7) {
        char saved = *p;
        *p = saved == 'A' ? 'B' : 'A';
        ck_assert_msg(verify(KEY, t, NOW) == RST_TOKEN_INVALID, "payload change at %d accepted",
                      (int)(p - t));
        *p = saved;
    }
    ck_assert_int_eq(verify(KEY, t, NOW), RST_TOKEN_OK);
    free(t);
}
END_TEST

START_TEST(test_tampered_signature_and_header)
{
    char *t = issue(KEY, 42, 0, 0, NOW, 1800);
    char *dot2 = strrchr(t, '.');
    size_t n = strlen(t);
    /* Every full character of the signature (the last one carries 2 spare
     * bits, so changing it may not change the bytes). */
    for (char *p = dot2 + 1; p < t + n - 1; p++) {
        char saved = *p;
        *p = saved == 'A' ? 'B' : 'A';
        ck_assert_msg(verify(KEY, t, NOW) == RST_TOKEN_INVALID, "signature change at %d accepted",
                      (int)(p - t));
        *p = saved;
    }
    /* The header too. */
    char saved = t[3];
    t[3] = saved == 'A' ? 'B' : 'A';
    ck_assert_int_eq(verify(KEY, t, NOW), RST_TOKEN_INVALID);
    t[3] = saved;
    ck_assert_int_eq(verify(KEY, t, NOW), RST_TOKEN_OK);
    free(t);
}
END_TEST

START_TEST(test_truncated)
{
    char *t = issue(KEY, 42, 0, 0, NOW, 1800);
    size_t n = strlen(t);
    char buf[2048];
    for (size_t cut = 0; cut < n; cut++) {
        memcpy(buf, t, cut);
        buf[cut] = '\0';
        ck_assert_msg(verify(KEY, buf, NOW) == RST_TOKEN_INVALID, "truncated to %zu accepted", cut);
    }
    /* Without the signature at all, and with the signature doubled. */
    char *dot2 = strrchr(t, '.');
    snprintf(buf, sizeof(buf), "%.*s.", (int)(dot2 - t), t);
    ck_assert_int_eq(verify(KEY, buf, NOW), RST_TOKEN_INVALID);
    snprintf(buf, sizeof(buf), "%s%s", t, dot2 + 1);
    ck_assert_int_eq(verify(KEY, buf, NOW), RST_TOKEN_INVALID);
    free(t);
}
END_TEST

START_TEST(test_garbage)
{
    static const char *const junk[] = {
        "", ".", "..", "...", "a", "a.b", "a.b.c", "a.b.c.d", "a..c", ".b.c", "a.b.",
        "abc", "Bearer", "null", "{}", "{\"alg\":\"HS256\"}",
        "eyJhbGciOiJIUzI1NiJ9",                         /* a header alone */
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0",          /* no signature part */
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.x.y",       /* 4 parts */
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc=",     /* padding */
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.ab+/",     /* standard base64 */
        "eyJhbGciOiJIUzI1NiJ9 .eyJzdWIiOiIxIn0.abc",     /* space */
        "e30.e30.",                                      /* {} . {} */
        "bm90IGpzb24.bm90IGpzb24.bm90IGpzb24",           /* "not json" thrice */
        "W10.W10.W10",                                   /* [] . [] */
        "\xc3\xa9.\xc3\xa9.\xc3\xa9",                    /* non-ASCII */
        "a\nb.c.d",
    };
    for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
        ck_assert_msg(verify(KEY, junk[i], NOW) == RST_TOKEN_INVALID, "junk %zu accepted", i);
    ck_assert_int_eq(verify(KEY, NULL, NOW), RST_TOKEN_INVALID);

    /* Very long input. */
    size_t big = 100000;
    char *b = malloc(big + 1);
    ck_assert_ptr_nonnull(b);
    memset(b, 'A', big);
    b[10] = '.';
    b[20] = '.';
    b[big] = '\0';
    ck_assert_int_eq(verify(KEY, b, NOW), RST_TOKEN_INVALID);
    free(b);
}
END_TEST

START_TEST(test_alg_none)
{
    static const char *const headers[] = {
        "{\"alg\":\"none\",\"typ\":\"JWT\"}", "{\"alg\":\"none\"}",
        "{\"alg\":\"None\",\"typ\":\"JWT\"}", "{\"alg\":\"NONE\",\"typ\":\"JWT\"}",
    };
    char h[256], p[1024], t[2048], good[2048];
    b64url(GOOD_CLAIMS, strlen(GOOD_CLAIMS), p, sizeof(p));
    sign_hs256(KEY, JWT_HEADER, GOOD_CLAIMS, good, sizeof(good));
    const char *goodsig = strrchr(good, '.') + 1;
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        b64url(headers[i], strlen(headers[i]), h, sizeof(h));
        snprintf(t, sizeof(t), "%s.%s.", h, p);                  /* empty signature */
        ck_assert_msg(verify(KEY, t, NOW) == RST_TOKEN_INVALID, "alg none %zu accepted", i);
        snprintf(t, sizeof(t), "%s.%s.%s", h, p, goodsig);       /* a real HS256 signature */
        ck_assert_msg(verify(KEY, t, NOW) == RST_TOKEN_INVALID, "alg none+sig %zu accepted", i);
    }
    /* libjwt itself can make an unsigned token. */
    jwt_t *jwt = NULL;
    ck_assert_int_eq(jwt_new(&jwt), 0);
    ck_assert_int_eq(jwt_add_grants_json(jwt, GOOD_CLAIMS), 0);
    ck_assert_int_eq(jwt_set_alg(jwt, JWT_ALG_NONE, NULL, 0), 0);
    char *s = jwt_encode_str(jwt);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(verify(KEY, s, NOW), RST_TOKEN_INVALID);
    free(s);
    jwt_free(jwt);
}
END_TEST

static void other_alg(jwt_alg_t alg)
{
    jwt_t *jwt = NULL;
    ck_assert_int_eq(jwt_new(&jwt), 0);
    ck_assert_int_eq(jwt_add_grants_json(jwt, GOOD_CLAIMS), 0);
    ck_assert_int_eq(jwt_set_alg(jwt, alg, KEY, 32), 0);
    char *s = jwt_encode_str(jwt);
    ck_assert_ptr_nonnull(s);
    ck_assert_msg(verify(KEY, s, NOW) == RST_TOKEN_INVALID, "%s token accepted", jwt_alg_str(alg));
    free(s);
    jwt_free(jwt);
}

START_TEST(test_other_hmac_algs)
{
    other_alg(JWT_ALG_HS384);
    other_alg(JWT_ALG_HS512);
    /* Same claims with HS256 and the same key do verify. */
    jwt_t *jwt = NULL;
    ck_assert_int_eq(jwt_new(&jwt), 0);
    ck_assert_int_eq(jwt_add_grants_json(jwt, GOOD_CLAIMS), 0);
    ck_assert_int_eq(jwt_set_alg(jwt, JWT_ALG_HS256, KEY, 32), 0);
    char *s = jwt_encode_str(jwt);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(verify(KEY, s, NOW), RST_TOKEN_OK);
    free(s);
    jwt_free(jwt);
}
END_TEST

START_TEST(test_expiry)
{
    /* Issued an hour ago for 30 minutes: expired. */
    char *t = issue(KEY, 42, 0, 0, NOW - 3600, 1800);
    ck_assert_int_eq(verify(KEY, t, NOW), RST_TOKEN_EXPIRED);
    free(t);
    /* Just past exp but within the leeway: still good. */
    t = issue(KEY, 42, 0, 0, NOW - 1800 - 5, 1800);
    ck_assert_int_eq(verify(KEY, t, NOW), RST_TOKEN_OK);
    free(t);
    /* exp plus leeway passed. */
    t = issue(KEY, 42, 0, 0, NOW - 1800 - RST_TOKEN_LEEWAY_S - 1, 1800);
    ck_assert_int_eq(verify(KEY, t, NOW), RST_TOKEN_EXPIRED);
    free(t);
}
END_TEST

START_TEST(test_iat_in_future)
{
    char *t = issue(KEY, 42, 0, 0, NOW + 3600, 1800);
    ck_assert_int_eq(verify(KEY, t, NOW), RST_TOKEN_INVALID);
    free(t);
    /* A clock a few seconds ahead is tolerated. */
    t = issue(KEY, 42, 0, 0, NOW + 5, 1800);
    ck_assert_int_eq(verify(KEY, t, NOW), RST_TOKEN_OK);
    free(t);
}
END_TEST

static void expect_claims_invalid(const char *claims)
{
    char t[2048];
    sign_hs256(KEY, JWT_HEADER, claims, t, sizeof(t));
    ck_assert_msg(verify(KEY, t, NOW) == RST_TOKEN_INVALID, "accepted claims %s", claims);
}

#define IAT_EXP_JTI "\"iat\":1795895421,\"exp\":1795897221,\"jti\":\"0123456789abcdef0123456789abcdef\""

START_TEST(test_missing_or_bad_claims)
{
    /* Missing claims, one at a time. */
    expect_claims_invalid("{\"role\":\"user\"," IAT_EXP_JTI ",\"ver\":0}");                 /* sub */
    expect_claims_invalid("{\"sub\":\"42\"," IAT_EXP_JTI "}");                               /* role, ver */
    expect_claims_invalid("{\"sub\":\"42\",\"role\":\"user\"," IAT_EXP_JTI "}");             /* ver */
    expect_claims_invalid("{\"sub\":\"42\",\"role\":\"user\",\"iat\":1795895421,"
                          "\"exp\":1795897221,\"ver\":0}");                                      /* jti */
    expect_claims_invalid("{\"sub\":\"42\",\"role\":\"user\",\"exp\":1795897221,"
                          "\"jti\":\"ab\",\"ver\":0}");                                          /* iat */
    expect_claims_invalid("{\"sub\":\"42\",\"role\":\"user\",\"iat\":1795895421,"
                          "\"jti\":\"ab\",\"ver\":0}");                                          /* exp */
    expect_claims_invalid("{}");
    /* sub must be a string of digits of a valid id. */
    expect_claims_invalid("{\"sub\":\"42a\",\"role\":\"user\"," IAT_EXP_JTI ",\"ver\":0}");
    expect_claims_invalid("{\"sub\":\"-42\",\"role\":\"user\"," IAT_EXP_JTI ",\"ver\":0}");
    expect_claims_invalid("{\"sub\":\"\",\"role\":\"user\"," IAT_EXP_JTI ",\"ver\":0}");
    expect_claims_invalid("{\"sub\":\" 42\",\"role\":\"user\"," IAT_EXP_JTI ",\"ver\":0}");
    expect_claims_invalid("{\"sub\":\"18446744073709551616\",\"role\":\"user\"," IAT_EXP_JTI ",\"ver\":0}");
    expect_claims_invalid("{\"sub\":42,\"role\":\"user\"," IAT_EXP_JTI ",\"ver\":0}");
    /* role only user or admin. */
    expect_claims_invalid("{\"sub\":\"42\",\"role\":\"superuser\"," IAT_EXP_JTI ",\"ver\":0}");
    expect_claims_invalid("{\"sub\":\"42\",\"role\":\"Admin\"," IAT_EXP_JTI ",\"ver\":0}");
    /* ver a non-negative integer. */
    expect_claims_invalid("{\"sub\":\"42\",\"role\":\"user\"," IAT_EXP_JTI ",\"ver\":-1}");
    expect_claims_invalid("{\"sub\":\"42\",\"role\":\"user\"," IAT_EXP_JTI ",\"ver\":\"0\"}");
    /* iat/exp as strings. */
    expect_claims_invalid("{\"sub\":\"42\",\"role\":\"user\",\"iat\":\"1795895421\","
                          "\"exp\":1795897221,\"jti\":\"ab\",\"ver\":0}");
    expect_claims_invalid("{\"sub\":\"42\",\"role\":\"user\",\"iat\":1795895421,"
                          "\"exp\":\"1795897221\",\"jti\":\"ab\",\"ver\":0}");
    /* A jti longer than ours. */
    expect_claims_invalid("{\"sub\":\"42\",\"role\":\"user\",\"iat\":1795895421,\"exp\":1795897221,"
                          "\"jti\":\"0123456789abcdef0123456789abcdef0\",\"ver\":0}");
    /* A payload that is not an object. */
    expect_claims_invalid("[1,2,3]");
    expect_claims_invalid("\"x\"");
}
END_TEST

/* Issue 14: exp + leeway overflowed for an exp near INT64_MAX (undefined
 * behaviour; the sanitizer build traps it). Such a token is simply valid,
 * and one issued at INT64_MAX is in the future. */
START_TEST(test_extreme_times_do_not_overflow)
{
    char t[2048];
    sign_hs256(KEY, JWT_HEADER, "{\"sub\":\"42\",\"role\":\"user\",\"iat\":1795895421,"
               "\"exp\":9223372036854775807,\"jti\":\"ab\",\"ver\":0}", t, sizeof(t));
    ck_assert_int_eq(verify(KEY, t, NOW), RST_TOKEN_OK);
    sign_hs256(KEY, JWT_HEADER, "{\"sub\":\"42\",\"role\":\"user\",\"iat\":9223372036854775807,"
               "\"exp\":9223372036854775807,\"jti\":\"ab\",\"ver\":0}", t, sizeof(t));
    ck_assert_int_eq(verify(KEY, t, NOW), RST_TOKEN_INVALID);
    sign_hs256(KEY, JWT_HEADER, "{\"sub\":\"42\",\"role\":\"user\",\"iat\":-9223372036854775808,"
               "\"exp\":-9223372036854775808,\"jti\":\"ab\",\"ver\":0}", t, sizeof(t));
    ck_assert_int_eq(verify(KEY, t, NOW), RST_TOKEN_EXPIRED);
}
END_TEST

/* The cache answers a token it verified before, rechecks its times, and
 * never lets a different string -- one byte changed -- borrow its answer. */
START_TEST(test_cache_remembers_only_the_same_token)
{
    static rst_token_cache tc;
    rst_claims c;
    char *t = issue(KEY, 99, 1, 4, NOW, 60);
    ck_assert_int_eq(rst_token_verify_cached(&tc, KEY, t, NOW, &c), RST_TOKEN_OK);
    ck_assert_uint_eq(c.sub, 99);
    memset(&c, 0, sizeof(c));
    ck_assert_int_eq(rst_token_verify_cached(&tc, KEY, t, NOW, &c), RST_TOKEN_OK);
    ck_assert_uint_eq(c.sub, 99);
    ck_assert_int_eq(c.admin, 1);
    ck_assert_uint_eq(c.ver, 4);
    /* Later than exp + leeway: expired, from the cache too. */
    ck_assert_int_eq(rst_token_verify_cached(&tc, KEY, t, NOW + 60 + RST_TOKEN_LEEWAY_S + 1, &c),
                     RST_TOKEN_EXPIRED);
    /* A tampered copy (last signature character changed) is verified, and fails. */
    size_t n = strlen(t);
    t[n - 1] = t[n - 1] == 'A' ? 'B' : 'A';
    ck_assert_int_eq(rst_token_verify_cached(&tc, KEY, t, NOW, &c), RST_TOKEN_INVALID);
    /* Garbage is refused without touching the cache. */
    ck_assert_int_eq(rst_token_verify_cached(&tc, KEY, "a.b.c", NOW, &c), RST_TOKEN_INVALID);
    free(t);
}
END_TEST

/* The slot is the token's hash, whose low bit is always set (0 marks an
 * empty slot): taken modulo the slot count it reached only the odd slots,
 * so the cache held half the tokens it has room for. Many tokens must fill
 * more than half the slots. */
START_TEST(test_cache_uses_every_slot)
{
    static rst_token_cache tc;
    memset(&tc, 0, sizeof(tc));
    rst_claims c;
    for (uint64_t sub = 1; sub <= 4 * RST_TOKEN_CACHE_SLOTS; sub++) {
        char *t = issue(KEY, sub, 0, 1, NOW, 1800);
        ck_assert_int_eq(rst_token_verify_cached(&tc, KEY, t, NOW, &c), RST_TOKEN_OK);
        free(t);
    }
    int used = 0;
    for (int i = 0; i < RST_TOKEN_CACHE_SLOTS; i++)
        used += tc.slots[i].hash != 0;
    ck_assert_int_gt(used, RST_TOKEN_CACHE_SLOTS / 2);
}
END_TEST

Suite *suite_token(void)
{
    Suite *s = suite_create("token");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_round_trip);
    tcase_add_test(tc, test_issue_fills_claims_and_unique_jti);
    tcase_add_test(tc, test_hand_made_good_token_verifies);
    tcase_add_test(tc, test_wrong_key);
    tcase_add_test(tc, test_tampered_payload);
    tcase_add_test(tc, test_tampered_signature_and_header);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_garbage);
    tcase_add_test(tc, test_alg_none);
    tcase_add_test(tc, test_other_hmac_algs);
    tcase_add_test(tc, test_expiry);
    tcase_add_test(tc, test_iat_in_future);
    tcase_add_test(tc, test_missing_or_bad_claims);
    tcase_add_test(tc, test_extreme_times_do_not_overflow);
    tcase_add_test(tc, test_cache_remembers_only_the_same_token);
    tcase_add_test(tc, test_cache_uses_every_slot);
    suite_add_tcase(s, tc);
    return s;
}
