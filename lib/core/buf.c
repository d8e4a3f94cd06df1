/* buf.c -- growable buffer and JSON value writers (see buf.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/timefmt.h"

void rst_buf_init(rst_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

void rst_buf_free(rst_buf *b)
{
    free(b->data);
    rst_buf_init(b);
}

void rst_buf_reset(rst_buf *b)
{
    b->len = 0;
    b->oom = 0;
}

int rst_buf_reserve(rst_buf *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (b->cap - b->len > extra)          /* keep one byte for a NUL */
        return 0;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap - b->len <= extra) {
        if (cap > ((size_t)-1) / 2) {
            b->oom = 1;
            return -1;
        }
        cap *= 2;
    }
    char *p = realloc(b->data, cap);
    if (p == NULL) {
        b->oom = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void rst_buf_append(rst_buf *b, const void *p, size_t n)
{
    if (n == 0 || rst_buf_reserve(b, n) != 0)
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void rst_buf_puts(rst_buf *b, const char *s)
{
    rst_buf_append(b, s, strlen(s));
}

void rst_buf_putc(rst_buf *b, char c)
{
    if (rst_buf_reserve(b, 1) != 0)
        return;
    b->data[b->len++] = c;
}

void rst_buf_printf(rst_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    if ((size_t)n < sizeof(tmp)) {
        rst_buf_append(b, tmp, (size_t)n);
        return;
    }
    if (rst_buf_reserve(b, (size_t)n + 1) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

const char *rst_buf_cstr(rst_buf *b)
{
    if (rst_buf_reserve(b, 1) != 0)
        return "";
    b->data[b->len] = '\0';
    return b->data;
}

/* ------------------------------------------------------------------ JSON */

void rst_json_strn(rst_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    if (rst_buf_reserve(b, n + 2) != 0)
        return;
    rst_buf_putc(b, '"');
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rst_buf_append(b, s + start, i - start);
        start = i + 1;
        switch (c) {
        case '"':  rst_buf_append(b, "\\\"", 2); break;
        case '\\': rst_buf_append(b, "\\\\", 2); break;
        case '\n': rst_buf_append(b, "\\n", 2); break;
        case '\t': rst_buf_append(b, "\\t", 2); break;
        case '\r': rst_buf_append(b, "\\r", 2); break;
        default: {
            char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
            rst_buf_append(b, esc, 6);
        }
        }
    }
    rst_buf_append(b, s + start, n - start);
    rst_buf_putc(b, '"');
}

void rst_json_str(rst_buf *b, const char *s)
{
    if (s == NULL)
        rst_buf_append(b, "null", 4);
    else
        rst_json_strn(b, s, strlen(s));
}

void rst_json_key(rst_buf *b, const char *key)
{
    rst_json_str(b, key);
    rst_buf_putc(b, ':');
}

static size_t u64_to_dec(uint64_t v, char out[21])
{
    char tmp[21];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

void rst_json_id(rst_buf *b, uint64_t id)
{
    char d[23];
    size_t n = u64_to_dec(id, d + 1);
    d[0] = '"';
    d[n + 1] = '"';
    rst_buf_append(b, d, n + 2);
}

void rst_json_u64(rst_buf *b, uint64_t v)
{
    char d[21];
    rst_buf_append(b, d, u64_to_dec(v, d));
}

void rst_json_i64(rst_buf *b, int64_t v)
{
    if (v < 0) {
        rst_buf_putc(b, '-');
        rst_json_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        rst_json_u64(b, (uint64_t)v);
    }
}

void rst_json_bool(rst_buf *b, int v)
{
    if (v)
        rst_buf_append(b, "true", 4);
    else
        rst_buf_append(b, "false", 5);
}

void rst_json_time(rst_buf *b, uint64_t unix_ms)
{
    char t[RST_TIME_LEN];
    rst_time_format(unix_ms, t);
    rst_buf_putc(b, '"');
    rst_buf_append(b, t, strlen(t));
    rst_buf_putc(b, '"');
}
