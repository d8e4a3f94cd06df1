/* accept.h -- does an Accept header (RFC 9110 §12.5.1) allow JSON?
 *
 * The most specific media range matching application/json decides its
 * q-value: application/json beats application/ * beats * / *; q=0 excludes.
 * Media-range parameters other than q (e.g. charset) do not stop a match. */
#ifndef ROOST_ACCEPT_H
#define ROOST_ACCEPT_H

/* 1 when `accept` (a non-empty header value) allows application/json with a
 * q-value above 0, else 0 (-> 406). Malformed elements are skipped, never a
 * crash; a header with nothing usable is not acceptable. */
int rst_accept_json(const char *accept);

#endif
