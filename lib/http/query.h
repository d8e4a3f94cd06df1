/* query.h -- reading parameters out of a URL query string. */
#ifndef ROOST_QUERY_H
#define ROOST_QUERY_H

#include <stddef.h>

/* Looks up the first parameter called `name` in the query string `qs`
 * (without the leading '?', may be NULL). Percent-escapes and '+' are decoded
 * into out (NUL-terminated, at most outlen-1 bytes).
 * Returns 1 when found, 0 when absent, -1 when present but undecodable
 * (bad escape, embedded NUL) or longer than outlen-1. "name=" is found with
 * an empty value; "name" without '=' is found with an empty value too. */
int rst_query_get(const char *qs, const char *name, char *out, size_t outlen);

#endif
