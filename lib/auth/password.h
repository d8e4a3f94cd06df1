/* password.h -- Argon2id password hashes through libsodium.
 *
 * Parameters come from the config and never go below OWASP's minimum for
 * Argon2id (m = 19 MiB, t = 2, p = 1; libsodium always uses p = 1). When the
 * configured cost rises, a successful sign-in re-hashes the password. */
#ifndef ROOST_PASSWORD_H
#define ROOST_PASSWORD_H

#include <stddef.h>
#include <sodium.h>

#define RST_PW_MIN_OPSLIMIT   2
#define RST_PW_MIN_MEMLIMIT   (19u * 1024 * 1024)
#define RST_PW_HASH_MAX       crypto_pwhash_STRBYTES

typedef struct {
    unsigned long long opslimit;
    size_t             memlimit;      /* bytes */
    char               dummy[RST_PW_HASH_MAX];   /* for unknown names, made lazily */
} rst_pw_params;

void rst_pw_params_init(rst_pw_params *p, unsigned long long opslimit, size_t memlimit);

/* Hashes password[0..len) into out; 0 on success, -1 when out of memory. */
int rst_pw_hash(const rst_pw_params *p, const char *password, size_t len, char out[RST_PW_HASH_MAX]);

/* 1 when password matches hash, else 0. */
int rst_pw_verify(const char *hash, const char *password, size_t len);

/* 1 when hash was made with other parameters than p's. */
int rst_pw_needs_rehash(const rst_pw_params *p, const char *hash);

/* Burns the time of one verification for a name that does not exist, so
 * that unknown names and wrong passwords take about as long. */
void rst_pw_verify_dummy(rst_pw_params *p, const char *password, size_t len);

#endif
