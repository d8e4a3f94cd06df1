/* utf8.h -- UTF-8 validation and code point counting (RFC 3629).
 *
 * Every string that enters roost from a client passes through here before it
 * is stored or compared: overlong forms, surrogates (U+D800..U+DFFF) and code
 * points above U+10FFFF are invalid. */
#ifndef ROOST_UTF8_H
#define ROOST_UTF8_H

#include <stddef.h>

/* 1 when s[0..len) is well-formed UTF-8, else 0. NUL bytes are valid (U+0000);
 * callers that forbid control characters check them separately. */
int rst_utf8_valid(const char *s, size_t len);

/* Number of code points in s[0..len); s must be valid UTF-8. */
size_t rst_utf8_count(const char *s, size_t len);

/* 1 when s (valid UTF-8) contains a C0 control character (U+0000..U+001F)
 * other than those in `allowed` (e.g. "\n\t"), or U+007F; else 0. */
int rst_utf8_has_control(const char *s, size_t len, const char *allowed);

#endif
