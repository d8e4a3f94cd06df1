/* password.c -- Argon2id hashing and verification (see password.h). */
#include <string.h>

#include "auth/password.h"

void rst_pw_params_init(rst_pw_params *p, unsigned long long opslimit, size_t memlimit)
{
    p->opslimit = opslimit < RST_PW_MIN_OPSLIMIT ? RST_PW_MIN_OPSLIMIT : opslimit;
    p->memlimit = memlimit < RST_PW_MIN_MEMLIMIT ? RST_PW_MIN_MEMLIMIT : memlimit;
    p->dummy[0] = '\0';
}

int rst_pw_hash(const rst_pw_params *p, const char *password, size_t len, char out[RST_PW_HASH_MAX])
{
    return crypto_pwhash_str_alg(out, password, len, p->opslimit, p->memlimit,
                                 crypto_pwhash_ALG_ARGON2ID13) == 0 ? 0 : -1;
}

int rst_pw_verify(const char *hash, const char *password, size_t len)
{
    return crypto_pwhash_str_verify(hash, password, len) == 0;
}

int rst_pw_needs_rehash(const rst_pw_params *p, const char *hash)
{
    return crypto_pwhash_str_needs_rehash(hash, p->opslimit, p->memlimit) != 0;
}

void rst_pw_verify_dummy(rst_pw_params *p, const char *password, size_t len)
{
    if (p->dummy[0] == '\0') {
        unsigned char random[16];
        randombytes_buf(random, sizeof(random));
        if (rst_pw_hash(p, (const char *)random, sizeof(random), p->dummy) != 0)
            return;
    }
    (void)rst_pw_verify(p->dummy, password, len);
}
