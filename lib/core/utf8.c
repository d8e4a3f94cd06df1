/* utf8.c -- UTF-8 validation, code point counting and control-character
 * detection (RFC 3629), byte by byte and without allocation. */
#include "core/utf8.h"

#include <string.h>

/* Length of the sequence a lead byte starts (1..4), or 0 when the byte can
 * never start a well-formed sequence: continuation bytes 80..BF, the overlong
 * leads C0/C1, and F5..FF (beyond U+10FFFF). */
static size_t sequence_length(unsigned char lead)
{
    if (lead < 0x80)
        return 1;
    if (lead >= 0xC2 && lead <= 0xDF)
        return 2;
    if (lead >= 0xE0 && lead <= 0xEF)
        return 3;
    if (lead >= 0xF0 && lead <= 0xF4)
        return 4;
    return 0;
}

/* The allowed range of the byte after the lead. RFC 3629's table narrows it
 * for four leads: E0 (no overlong 3-byte forms), ED (no surrogates
 * D800..DFFF, which is what CESU-8 would produce), F0 (no overlong 4-byte
 * forms) and F4 (nothing above U+10FFFF). */
static int second_byte_ok(unsigned char lead, unsigned char b)
{
    switch (lead) {
    case 0xE0: return b >= 0xA0 && b <= 0xBF;
    case 0xED: return b >= 0x80 && b <= 0x9F;
    case 0xF0: return b >= 0x90 && b <= 0xBF;
    case 0xF4: return b >= 0x80 && b <= 0x8F;
    default:   return b >= 0x80 && b <= 0xBF;
    }
}

static int is_continuation(unsigned char b)
{
    return (b & 0xC0) == 0x80;
}

int rst_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    if (len > 0 && s == NULL)
        return 0;
    while (i < len) {
        size_t n = sequence_length(p[i]);
        size_t k;

        if (n == 0 || n > len - i)
            return 0;   /* bad lead byte, or the sequence is truncated */
        if (n > 1 && !second_byte_ok(p[i], p[i + 1]))
            return 0;
        for (k = 2; k < n; k++)
            if (!is_continuation(p[i + k]))
                return 0;
        i += n;
    }
    return 1;
}

size_t rst_utf8_count(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t count = 0;
    size_t i;

    /* In valid UTF-8 every code point has exactly one non-continuation byte. */
    for (i = 0; i < len; i++)
        if (!is_continuation(p[i]))
            count++;
    return count;
}

static int is_control(unsigned char b)
{
    return b < 0x20 || b == 0x7F;
}

int rst_utf8_has_control(const char *s, size_t len, const char *allowed)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i;

    /* Bytes of multi-byte sequences are all >= 0x80, so a byte scan finds
     * exactly the C0 controls and DEL. */
    for (i = 0; i < len; i++) {
        if (!is_control(p[i]))
            continue;
        /* strchr() would match a NUL against the terminator of `allowed`,
         * so NUL is never allowed. */
        if (p[i] != 0 && allowed != NULL && strchr(allowed, p[i]) != NULL)
            continue;
        return 1;
    }
    return 0;
}
