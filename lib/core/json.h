/* json.h -- strict parsing of request bodies on top of cJSON.
 *
 * cJSON is lenient: it accepts invalid UTF-8, trailing bytes and nesting up to
 * 1000 levels, and it keeps numbers only as doubles. rst_json_parse_body()
 * first checks the body against RFC 8259 itself (grammar, UTF-8, no lone
 * surrogate escapes, nothing after the value, depth), then lets cJSON build
 * the tree, then annotates every number node with its literal text so that
 * integers (ids above 2^53, "12.0" vs "12") can be read exactly. */
#ifndef ROOST_JSON_H
#define ROOST_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#define RST_JSON_MAX_DEPTH 16

typedef enum {
    RST_JSON_OK = 0,
    RST_JSON_MALFORMED,   /* not RFC 8259 JSON, bad UTF-8, lone surrogate, trailing bytes -> 400 */
    RST_JSON_NOT_OBJECT,  /* well-formed, but the top-level value is not an object -> 422 invalid_body */
    RST_JSON_TOO_DEEP,    /* object/array nesting deeper than RST_JSON_MAX_DEPTH -> 422 invalid_body */
    RST_JSON_NOMEM
} rst_json_status;

/* Parses body[0..len). On RST_JSON_OK *out owns a cJSON tree (free with
 * cJSON_Delete); otherwise *out is NULL. An empty body is MALFORMED; the
 * caller decides earlier whether an empty body is allowed. */
rst_json_status rst_json_parse_body(const char *body, size_t len, cJSON **out);

/* Exact integer readers for number nodes produced by rst_json_parse_body().
 * They return 1 and set *v only when the node is a number whose literal has no
 * fraction and no exponent ("12", "-3"; not "12.0", "1e2") and fits the type;
 * otherwise 0. Strings are never accepted here. */
int rst_json_get_i64(const cJSON *node, int64_t *v);
int rst_json_get_u64(const cJSON *node, uint64_t *v);

/* A private type bit on string nodes whose JSON text held a \u0000
 * escape. cJSON keeps the string only up to the NUL, so such a value must
 * be refused rather than read short. cJSON tests types with `& 0xFF` and
 * uses bits 8 and 9 itself, so bit 12 is free. */
#define RST_JSON_FLAG_NUL (1 << 12)

/* 1 when a string node's value held a \u0000 escape (and so was cut). */
int rst_json_string_has_nul(const cJSON *node);

/* Reads an id given as a JSON integer or as a string of 1..20 decimal digits
 * that fits in 64 bits. 1 on success, else 0. */
int rst_json_get_id(const cJSON *node, uint64_t *v);

#endif
