/* num.c -- decimal and hex digit parsing (see num.h). */
#include "core/num.h"

size_t rst_parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    size_t n = 0;

    while (s[n] >= '0' && s[n] <= '9') {
        unsigned d = (unsigned)(s[n] - '0');

        if (v > (UINT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
        n++;
    }
    if (n > 0)
        *out = v;
    return n;
}

int rst_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
