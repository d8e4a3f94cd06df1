/* num.h -- the number parsing the rest of roost shares: one unsigned 64-bit
 * decimal reader (route ids, id strings, JSON integer literals) and one hex
 * digit value (percent-escapes, JSON \u escapes).
 *
 * Each caller has its own rules around the digits (leading zeros, what may
 * follow, a length cap, whether 0 is allowed); these functions only read
 * digits and refuse what does not fit, so the rules stay with the callers. */
#ifndef ROOST_NUM_H
#define ROOST_NUM_H

#include <stddef.h>
#include <stdint.h>

/* Reads the run of decimal digits at the start of s into *out and returns
 * its length. Returns 0, leaving *out alone, when s does not start with a
 * digit or the number is above UINT64_MAX. Leading zeros are digits like
 * any other ("007" is 3 characters, 7); a sign or a space is not a digit.
 * The caller checks s[returned] for what may follow. */
size_t rst_parse_u64(const char *s, uint64_t *out);

/* 0..15 for a hex digit (either case), else -1. */
int rst_hex_value(unsigned char c);

#endif
