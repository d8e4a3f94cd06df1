/* cursor.h -- opaque, tamper-proof pagination cursors (API.md §1.4).
 *
 * A cursor carries one 64-bit key (the last id of the page it follows) and is
 * bound to the list it was made for: its MAC covers a context string such as
 * "/products" or "/tweets/123", so a cursor from one list does not decode on
 * another. Layout before base64url (no padding): version byte, 8-byte key
 * (big-endian), 12-byte keyed BLAKE2b MAC over context||version||key. */
#ifndef ROOST_CURSOR_H
#define ROOST_CURSOR_H

#include <stddef.h>
#include <stdint.h>

#define RST_CURSOR_KEYBYTES 32
#define RST_CURSOR_MAXLEN   64    /* encoded length incl. NUL, with room to spare */

typedef struct {
    unsigned char key[RST_CURSOR_KEYBYTES];
} rst_cursor_key;

/* Writes the cursor for (ctx, k) into out (NUL-terminated). Returns its length,
 * or 0 when outlen is too small. */
size_t rst_cursor_encode(const rst_cursor_key *key, const char *ctx, uint64_t k,
                         char *out, size_t outlen);

/* 1 and *k set when `cursor` is a valid cursor made for ctx; 0 otherwise
 * (tampered, truncated, other list, garbage of any length). */
int rst_cursor_decode(const rst_cursor_key *key, const char *ctx,
                      const char *cursor, uint64_t *k);

#endif
