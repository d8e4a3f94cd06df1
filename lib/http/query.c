/* query.c -- looking up one parameter in a URL query string
 * (application/x-www-form-urlencoded: '&' separates pairs, '+' is a space,
 * %XX is a byte). Names are decoded too before they are compared, so
 * "li%6Dit=5" is the parameter "limit". */
#include "http/query.h"

#include <string.h>

#include "core/num.h"

/* Decodes one byte at *p (not past end) into *byte and advances *p.
 * 0 on a bad or truncated percent-escape. */
static int decode_byte(const char **p, const char *end, unsigned char *byte)
{
    const char *s = *p;

    if (*s == '+') {
        *byte = ' ';
        *p = s + 1;
        return 1;
    }
    if (*s != '%') {
        *byte = (unsigned char)*s;
        *p = s + 1;
        return 1;
    }
    int hi = end - s < 3 ? -1 : rst_hex_value((unsigned char)s[1]);
    int lo = end - s < 3 ? -1 : rst_hex_value((unsigned char)s[2]);
    if (hi < 0 || lo < 0)
        return 0;
    *byte = (unsigned char)(hi * 16 + lo);
    *p = s + 3;
    return 1;
}

/* 1 when the encoded name [k, end) decodes to exactly `name`. A name that
 * does not decode is nobody's parameter. */
static int name_matches(const char *k, const char *end, const char *name)
{
    const unsigned char *want = (const unsigned char *)name;

    while (k < end) {
        unsigned char b;

        if (!decode_byte(&k, end, &b) || *want == '\0' || *want != b)
            return 0;
        want++;
    }
    return *want == '\0';
}

static int decode_value(const char *v, const char *end, char *out, size_t outlen)
{
    size_t n = 0;

    if (out == NULL || outlen == 0)
        return -1;
    while (v < end) {
        unsigned char b;

        if (!decode_byte(&v, end, &b) || b == '\0' || n + 1 >= outlen) {
            out[0] = '\0';
            return -1;
        }
        out[n++] = (char)b;
    }
    out[n] = '\0';
    return 1;
}

int rst_query_get(const char *qs, const char *name, char *out, size_t outlen)
{
    const char *p = qs;

    if (qs == NULL || name == NULL)
        return 0;
    while (*p != '\0') {
        const char *pair_end = p + strcspn(p, "&");
        const char *eq = memchr(p, '=', (size_t)(pair_end - p));
        const char *name_end = eq != NULL ? eq : pair_end;

        if (name_end > p && name_matches(p, name_end, name))
            return decode_value(eq != NULL ? eq + 1 : pair_end, pair_end, out, outlen);
        p = *pair_end == '&' ? pair_end + 1 : pair_end;
    }
    return 0;
}
