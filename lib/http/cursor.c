/* cursor.c -- opaque, tamper-proof pagination cursors (API.md §1.4).
 *
 * Raw layout (21 bytes): version (1) | key, big-endian (8) | MAC (12), where
 * MAC = first 12 bytes of keyed BLAKE2b-128 over ctx || version || key.
 * The version and key have a fixed length at the end of the MAC input, so
 * the concatenation with a variable-length ctx is unambiguous.
 *
 * 21 bytes are 168 bits, exactly 28 base64url characters: there are no
 * spare low bits in the last character, so every change to any character
 * changes the decoded bytes and breaks the MAC. */
#include "http/cursor.h"

#include <string.h>
#include <sodium.h>

#define CURSOR_VERSION   1
#define CURSOR_KEYLEN    8
#define CURSOR_MACBYTES  12
#define CURSOR_SIGNED    (1 + CURSOR_KEYLEN)               /* version + key */
#define CURSOR_RAWBYTES  (CURSOR_SIGNED + CURSOR_MACBYTES)  /* 21 */
#define CURSOR_ENCLEN    28
#define CURSOR_B64       sodium_base64_VARIANT_URLSAFE_NO_PADDING

/* 96 bits of MAC are plenty for a cursor, which only ever selects a page of
 * a list the caller may read anyway. libsodium's generichash emits at least
 * crypto_generichash_BYTES_MIN (16) bytes, so compute 16 and keep 12. */
static int compute_mac(const rst_cursor_key *key, const char *ctx,
                       const unsigned char signed_part[CURSOR_SIGNED],
                       unsigned char mac[CURSOR_MACBYTES])
{
    unsigned char full[crypto_generichash_BYTES_MIN];
    crypto_generichash_state st;
    int rc;

    rc = crypto_generichash_init(&st, key->key, sizeof key->key, sizeof full);
    if (rc == 0)
        rc = crypto_generichash_update(&st, (const unsigned char *)ctx, strlen(ctx));
    if (rc == 0)
        rc = crypto_generichash_update(&st, signed_part, CURSOR_SIGNED);
    if (rc == 0)
        rc = crypto_generichash_final(&st, full, sizeof full);
    if (rc == 0)
        memcpy(mac, full, CURSOR_MACBYTES);
    sodium_memzero(&st, sizeof st);   /* the state holds the key */
    return rc;
}

static void store_be64(unsigned char *p, uint64_t v)
{
    int i;

    for (i = 7; i >= 0; i--) {
        p[i] = (unsigned char)(v & 0xFF);
        v >>= 8;
    }
}

static uint64_t load_be64(const unsigned char *p)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

size_t rst_cursor_encode(const rst_cursor_key *key, const char *ctx, uint64_t k,
                         char *out, size_t outlen)
{
    unsigned char raw[CURSOR_RAWBYTES];

    /* sodium_bin2base64() aborts the process when out is too small, so the
     * size is checked here first. */
    if (key == NULL || ctx == NULL || out == NULL ||
        outlen < sodium_base64_ENCODED_LEN(CURSOR_RAWBYTES, CURSOR_B64))
        return 0;
    raw[0] = CURSOR_VERSION;
    store_be64(raw + 1, k);
    if (compute_mac(key, ctx, raw, raw + CURSOR_SIGNED) != 0)
        return 0;
    if (sodium_bin2base64(out, outlen, raw, sizeof raw, CURSOR_B64) == NULL)
        return 0;
    return strlen(out);
}

int rst_cursor_decode(const rst_cursor_key *key, const char *ctx,
                      const char *cursor, uint64_t *k)
{
    unsigned char raw[CURSOR_RAWBYTES];
    unsigned char mac[CURSOR_MACBYTES];
    const char *b64_end = NULL;
    size_t bin_len = 0;

    if (key == NULL || ctx == NULL || cursor == NULL || k == NULL)
        return 0;
    /* Every valid cursor has the same length; this also bounds the work
     * spent on long garbage. */
    if (strnlen(cursor, CURSOR_ENCLEN + 1) != CURSOR_ENCLEN)
        return 0;
    if (sodium_base642bin(raw, sizeof raw, cursor, CURSOR_ENCLEN, NULL,
                          &bin_len, &b64_end, CURSOR_B64) != 0)
        return 0;
    if (bin_len != sizeof raw || b64_end != cursor + CURSOR_ENCLEN)
        return 0;
    if (compute_mac(key, ctx, raw, mac) != 0 ||
        sodium_memcmp(mac, raw + CURSOR_SIGNED, CURSOR_MACBYTES) != 0)
        return 0;
    if (raw[0] != CURSOR_VERSION)
        return 0;
    *k = load_be64(raw + 1);
    return 1;
}
