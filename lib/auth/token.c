/* token.c -- issuing and verifying HS256 JWTs with libjwt 1.10 (token.h). */
#include <errno.h>
#include <inttypes.h>
#include <jwt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "auth/token.h"
#include "core/ids.h"

#define MAX_TOKEN_LEN 2048

char *rst_token_issue(const unsigned char key[32], rst_claims *c, int64_t now_s, int ttl_s)
{
    unsigned char rnd[16];
    randombytes_buf(rnd, sizeof(rnd));
    sodium_bin2hex(c->jti, sizeof(c->jti), rnd, sizeof(rnd));
    c->iat = now_s;
    c->exp = now_s + ttl_s;

    jwt_t *jwt = NULL;
    char sub[24];
    snprintf(sub, sizeof(sub), "%" PRIu64, c->sub);
    char *out = NULL;
    if (jwt_new(&jwt) == 0 &&
        jwt_set_alg(jwt, JWT_ALG_HS256, key, 32) == 0 &&
        jwt_add_grant(jwt, "sub", sub) == 0 &&
        jwt_add_grant(jwt, "role", c->admin ? "admin" : "user") == 0 &&
        jwt_add_grant_int(jwt, "iat", (long)c->iat) == 0 &&
        jwt_add_grant_int(jwt, "exp", (long)c->exp) == 0 &&
        jwt_add_grant(jwt, "jti", c->jti) == 0 &&
        jwt_add_grant_int(jwt, "ver", (long)c->ver) == 0)
        out = jwt_encode_str(jwt);
    jwt_free(jwt);
    return out;
}

/* A JWT is three base64url parts; refuse anything else before libjwt sees
 * it, which keeps odd input away from its parser. */
static int looks_like_jwt(const char *t)
{
    size_t n = strlen(t);
    int dots = 0;
    if (n == 0 || n > MAX_TOKEN_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = t[i];
        if (ch == '.')
            dots++;
        else if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                   (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
            return 0;
    }
    return dots == 2;
}

/* jwt_get_grant_int() reads a string, boolean or fraction as 0 without an
 * error, so read the grant's JSON text and accept only an integer literal. */
static int read_int_grant(jwt_t *jwt, const char *name, int64_t *out)
{
    char *json = jwt_get_grants_json(jwt, name);
    if (json == NULL)
        return -1;
    const char *digits = json[0] == '-' ? json + 1 : json;
    int ok = digits[0] >= '0' && digits[0] <= '9' && strspn(digits, "0123456789") == strlen(digits);
    char *end = NULL;
    errno = 0;
    long long v = ok ? strtoll(json, &end, 10) : 0;
    ok = ok && errno == 0 && end != NULL && *end == '\0';
    free(json);
    if (!ok)
        return -1;
    *out = v;
    return 0;
}

/* iat not in the future, exp not past, both with the leeway; written so
 * that no claim value, however large, can overflow. */
static rst_token_rc check_times(const rst_claims *c, int64_t now_s)
{
    if (c->iat > now_s && c->iat - now_s > RST_TOKEN_LEEWAY_S)
        return RST_TOKEN_INVALID;          /* issued in the future: not ours */
    if (c->exp < now_s - RST_TOKEN_LEEWAY_S)
        return RST_TOKEN_EXPIRED;
    return RST_TOKEN_OK;
}

rst_token_rc rst_token_verify(const unsigned char key[32], const char *token,
                              int64_t now_s, rst_claims *out)
{
    if (token == NULL || !looks_like_jwt(token))
        return RST_TOKEN_INVALID;
    jwt_t *jwt = NULL;
    if (jwt_decode(&jwt, token, key, 32) != 0 || jwt == NULL) {
        jwt_free(jwt);
        return RST_TOKEN_INVALID;
    }
    rst_token_rc rc = RST_TOKEN_INVALID;
    /* libjwt verified with the header's algorithm; insist it was ours. */
    if (jwt_get_alg(jwt) != JWT_ALG_HS256)
        goto done;
    const char *sub = jwt_get_grant(jwt, "sub");
    const char *role = jwt_get_grant(jwt, "role");
    const char *jti = jwt_get_grant(jwt, "jti");
    int64_t iat, exp, ver;
    if (sub == NULL || role == NULL || jti == NULL || strlen(jti) >= sizeof(out->jti) ||
        read_int_grant(jwt, "iat", &iat) != 0 || read_int_grant(jwt, "exp", &exp) != 0 ||
        read_int_grant(jwt, "ver", &ver) != 0 || ver < 0 || !rst_id_parse(sub, &out->sub))
        goto done;
    if (strcmp(role, "admin") != 0 && strcmp(role, "user") != 0)
        goto done;
    out->admin = strcmp(role, "admin") == 0;
    out->ver = (uint64_t)ver;
    out->iat = iat;
    out->exp = exp;
    strcpy(out->jti, jti);
    rc = check_times(out, now_s);
done:
    jwt_free(jwt);
    return rc;
}

/* ------------------------------------------------------------ cache */

rst_token_rc rst_token_verify_cached(rst_token_cache *tc, const unsigned char key[32],
                                     const char *token, int64_t now_s, rst_claims *out)
{
    size_t len = token ? strlen(token) : 0;
    if (tc == NULL || token == NULL || len >= RST_TOKEN_CACHE_LEN)
        return rst_token_verify(key, token, now_s, out);
    uint64_t hash = XXH3_64bits(token, len) | 1;          /* never 0: 0 marks empty */
    /* Not the low bit, which is always set: it would reach only odd slots. */
    rst_token_slot *slot = &tc->slots[(hash >> 1) % RST_TOKEN_CACHE_SLOTS];
    if (slot->hash == hash && slot->len == len && sodium_memcmp(slot->token, token, len) == 0) {
        *out = slot->claims;
        return check_times(out, now_s);
    }
    rst_token_rc rc = rst_token_verify(key, token, now_s, out);
    if (rc == RST_TOKEN_OK) {
        slot->hash = hash;
        slot->len = len;
        memcpy(slot->token, token, len);
        slot->claims = *out;
    }
    return rc;
}
