/* secret.h -- the one secret file and the keys derived from it.
 *
 * Operators manage a single file of at least 32 random bytes. Each use
 * (token signing, cursor MACs) gets its own subkey through libsodium's KDF,
 * so a key leaked from one use says nothing about the others. */
#ifndef ROOST_SECRET_H
#define ROOST_SECRET_H

#include <stddef.h>
#include "http/cursor.h"

#define RST_SECRET_MIN_BYTES 32

typedef struct {
    unsigned char  jwt[32];      /* HS256 signing key */
    rst_cursor_key cursor;       /* pagination cursor MAC key */
} rst_secrets;

/* 0 on success; -1 with a message (never the secret) in err. */
int rst_secret_load(const char *path, rst_secrets *out, char *err, size_t errlen);

/* Derives the keys from raw secret bytes (for tests). */
int rst_secret_derive(const unsigned char *raw, size_t len, rst_secrets *out);

#endif
