/* buf.h -- a growable byte buffer and the JSON writer built on it.
 *
 * Responses are written straight into a buffer the worker keeps between
 * requests (reset, not freed), which is cheaper than building a cJSON tree
 * and printing it. The JSON helpers escape strings per RFC 8259 and write
 * ids as strings, per API.md §1.2. A failed allocation sets `oom` and turns
 * later appends into no-ops; the caller checks once at the end. */
#ifndef ROOST_BUF_H
#define ROOST_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char   *data;
    size_t  len;
    size_t  cap;
    int     oom;
} rst_buf;

void rst_buf_init(rst_buf *b);
void rst_buf_free(rst_buf *b);
void rst_buf_reset(rst_buf *b);
int  rst_buf_reserve(rst_buf *b, size_t extra);
void rst_buf_append(rst_buf *b, const void *p, size_t n);
void rst_buf_puts(rst_buf *b, const char *s);
void rst_buf_putc(rst_buf *b, char c);
void rst_buf_printf(rst_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* NUL-terminates without counting the NUL in len. */
const char *rst_buf_cstr(rst_buf *b);

/* JSON pieces. Callers write punctuation ('{', ',', ':') themselves with
 * rst_buf_putc; these write values and keys. */
void rst_json_str(rst_buf *b, const char *s);             /* "escaped" (NULL -> null) */
void rst_json_strn(rst_buf *b, const char *s, size_t n);
void rst_json_key(rst_buf *b, const char *key);           /* "key": */
void rst_json_id(rst_buf *b, uint64_t id);                /* "123" */
void rst_json_u64(rst_buf *b, uint64_t v);                /* 123 */
void rst_json_i64(rst_buf *b, int64_t v);
void rst_json_bool(rst_buf *b, int v);
void rst_json_time(rst_buf *b, uint64_t unix_ms);         /* "2026-...Z" */

#endif
