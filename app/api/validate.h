/* validate.h -- reading and checking fields of a JSON request body.
 *
 * Each reader returns 1 when the field is present and valid, 0 when it is
 * absent, -1 when it is present but invalid; an invalid field is recorded on
 * the response (API.md §1.3 `fields`), so a handler reads every field, then
 * calls rst_ctx_fields_ok() once to answer 422 with all problems at once.
 * Wrong JSON types (a number for a string, null, an object) are invalid. */
#ifndef ROOST_API_VALIDATE_H
#define ROOST_API_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "api/ctx.h"

/* A string of min..max code points; `text` allows \n and \t but no other
 * control character (and no U+007F) when nonzero, `line` allows none. */
enum { RST_STR_ANY = 0, RST_STR_LINE = 1, RST_STR_TEXT = 2 };

int rst_field_string(rst_ctx *c, const char *field, size_t min, size_t max, int kind,
                     const char **out, size_t *len);
int rst_field_int(rst_ctx *c, const char *field, int64_t min, int64_t max, int64_t *out);
/* An id: a string of 1..20 digits or a JSON integer that fits in 64 bits
 * (API.md §1.2). */
int rst_field_id(rst_ctx *c, const char *field, uint64_t *out);
/* One of the NULL-terminated `allowed` strings; *index gets its position. */
int rst_field_enum(rst_ctx *c, const char *field, const char *const *allowed, int *index);
/* 1 when the body has the field at all (any type). */
int rst_field_present(rst_ctx *c, const char *field);
/* Records "is required" for a missing field. */
void rst_field_missing(rst_ctx *c, const char *field);

/* 0 when no field problem was recorded; otherwise writes the 422
 * validation_failed answer and returns -1. */
int rst_ctx_fields_ok(rst_ctx *c);

#endif
