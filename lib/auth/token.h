/* token.h -- access tokens: JWT signed with HS256 (libjwt).
 *
 * Claims: sub (user id as a string), role, iat, exp, jti, and ver, the
 * user's token version when the token was issued. A password or role change
 * bumps the version, which revokes every older token even within the same
 * second (iat alone could not tell them apart). Verification never trusts
 * the token's header to choose the algorithm: anything but HS256, "none"
 * included, is rejected. */
#ifndef ROOST_TOKEN_H
#define ROOST_TOKEN_H

#include <stdint.h>

/* Clock skew allowed between the hosts that issue and check tokens. */
#define RST_TOKEN_LEEWAY_S 5

typedef struct {
    uint64_t sub;
    int      admin;          /* role claim is "admin" */
    uint64_t ver;
    int64_t  iat;
    int64_t  exp;
    char     jti[33];
} rst_claims;

typedef enum {
    RST_TOKEN_OK = 0,
    RST_TOKEN_INVALID,       /* malformed, forged, wrong algorithm, missing claims */
    RST_TOKEN_EXPIRED        /* well-signed but past exp */
} rst_token_rc;

/* Issues a token for c (iat/exp/jti are filled in from now_s and ttl_s).
 * Returns a malloc'd string the caller frees, or NULL. */
char *rst_token_issue(const unsigned char key[32], rst_claims *c, int64_t now_s, int ttl_s);

/* Verifies `token` at time now_s. On RST_TOKEN_OK *out holds the claims. */
rst_token_rc rst_token_verify(const unsigned char key[32], const char *token,
                              int64_t now_s, rst_claims *out);

/* Tokens that verified, remembered by a worker: a client sends the same
 * token with every request for half an hour, and the HMAC, base64 and JSON
 * work of verifying it costs more than many a whole request. A token seen
 * before (the whole string, compared in constant time) is checked again
 * for its times only: its signature and claims cannot have changed, and the
 * key only changes with the process. Revocation (token versions) is the
 * caller's check either way. */
#define RST_TOKEN_CACHE_SLOTS 256
#define RST_TOKEN_CACHE_LEN   512     /* longer tokens are verified every time */

typedef struct {
    uint64_t   hash;                  /* of the token text; 0: empty slot */
    size_t     len;
    char       token[RST_TOKEN_CACHE_LEN];
    rst_claims claims;
} rst_token_slot;

typedef struct {
    rst_token_slot slots[RST_TOKEN_CACHE_SLOTS];
} rst_token_cache;

/* rst_token_verify through the cache (NULL: no cache). */
rst_token_rc rst_token_verify_cached(rst_token_cache *tc, const unsigned char key[32],
                                     const char *token, int64_t now_s, rst_claims *out);

#endif
