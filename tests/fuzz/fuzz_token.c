/* fuzz_token.c -- libFuzzer target: access-token parsing (lib/auth/token.c).
 *
 * The first byte picks a mode. Mode "raw": the rest is a token as a client
 * sends it (forgeries, garbage, alg none). Mode "signed": the rest is a
 * header and a payload (JSON, split at the first NUL) that the harness
 * signs with the key under test, so the claims parser sees arbitrary
 * claims behind a valid HS256 signature. Checked: the worker's cache gives
 * the answer verification gives, the first time and from the cache; a
 * token accepted at a time is within its times (with the leeway, computed
 * without overflow); claims that come out are claims that can be served. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "auth/token.h"

static const unsigned char key[32] = "fuzz token key, thirty-two byte";

static void check_claims(const rst_claims *c, int64_t now)
{
    if ((__int128)c->iat > (__int128)now + RST_TOKEN_LEEWAY_S ||
        (__int128)c->exp < (__int128)now - RST_TOKEN_LEEWAY_S)
        abort();
    if ((c->admin != 0 && c->admin != 1) || memchr(c->jti, '\0', sizeof(c->jti)) == NULL)
        abort();
}

static void check_token(const char *token, int64_t now)
{
    static rst_token_cache cache;
    rst_claims a, b, d;
    rst_token_rc ra = rst_token_verify(key, token, now, &a);
    rst_token_rc rb = rst_token_verify_cached(&cache, key, token, now, &b);
    rst_token_rc rd = rst_token_verify_cached(&cache, key, token, now, &d);   /* from the cache */
    if (ra != rb || ra != rd)
        abort();
    if (ra == RST_TOKEN_OK) {
        check_claims(&a, now);
        if (a.sub != d.sub || a.ver != d.ver || a.admin != d.admin || a.exp != d.exp)
            abort();
    }
}

/* base64url of data[0..n) into out (NUL-terminated). */
static void b64(const void *data, size_t n, char *out, size_t cap)
{
    sodium_bin2base64(out, cap, data, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void signed_token(const uint8_t *data, size_t size, int64_t now)
{
    const uint8_t *nul = memchr(data, '\0', size);
    size_t hlen = nul ? (size_t)(nul - data) : size;
    const uint8_t *pay = nul ? nul + 1 : data + size;
    size_t plen = size - hlen - (nul != NULL);
    size_t cap = sodium_base64_ENCODED_LEN(size + 32, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *tok = malloc(3 * cap);
    if (tok == NULL)
        return;
    b64(data, hlen, tok, cap);
    size_t o = strlen(tok);
    tok[o++] = '.';
    b64(pay, plen, tok + o, cap);
    o += strlen(tok + o);
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, sizeof(key));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)tok, o);
    crypto_auth_hmacsha256_final(&st, mac);
    tok[o++] = '.';
    b64(mac, sizeof(mac), tok + o, cap);
    check_token(tok, now);
    free(tok);
}

/* libFuzzer's entry point (it declares none). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Around the time the seeds were made, so their exp can be near. */
    const int64_t now = 1790000000;
    if (size < 1 || size > 4096)
        return 0;
    if (data[0] & 1) {
        signed_token(data + 1, size - 1, now);
        return 0;
    }
    char *tok = malloc(size);
    if (tok == NULL)
        return 0;
    memcpy(tok, data + 1, size - 1);
    tok[size - 1] = '\0';
    check_token(tok, now);
    free(tok);
    return 0;
}
