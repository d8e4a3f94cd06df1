/* page.c -- the pagination query of every list (API.md §1.4): limit, and
 * either page or cursor.
 *
 * Numbers are plain decimal digits: no sign, no spaces, no fraction; leading
 * zeros are accepted ("page=02" is page 2), like ids. Errors are checked in
 * this order and the first one answers: limit, page and cursor together,
 * page, cursor. */
#include "http/page.h"

#include <stddef.h>

#include "http/query.h"

#define MSG_LIMIT    "must be an integer from 1 to 100"
#define MSG_PAGE     "must be an integer from 1 to 1000"
#define MSG_COMBINED "page and cursor cannot be combined"
#define MSG_EMPTY    "must not be empty"
#define MSG_CURSOR   "is not a valid cursor"

/* Big enough for any acceptable limit, page or cursor; a longer value makes
 * rst_query_get() fail, which is the right answer for all three. */
#define VALUE_MAX RST_CURSOR_MAXLEN

/* 1 and *v set when s is 1+ decimal digits whose value lies in [lo, hi]. */
static int parse_bounded(const char *s, int lo, int hi, int *v)
{
    long n = 0;

    if (*s == '\0')
        return 0;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        n = n * 10 + (*s - '0');
        if (n > hi)
            return 0;   /* stop before any overflow */
    }
    if (n < lo)
        return 0;
    *v = (int)n;
    return 1;
}

static int reject(const char **field, const char **msg, const char *f, const char *m)
{
    if (field != NULL)
        *field = f;
    if (msg != NULL)
        *msg = m;
    return -1;
}

int rst_page_parse(const char *qs, const rst_cursor_key *key, const char *ctx,
                   rst_page_req *out, const char **field, const char **msg)
{
    char limit[VALUE_MAX], page[VALUE_MAX], cursor[VALUE_MAX];
    rst_page_req req = { RST_PAGE_LIMIT_DEFAULT, 1, 0 };
    int has_limit, has_page, has_cursor;

    has_limit = rst_query_get(qs, "limit", limit, sizeof limit);
    if (has_limit < 0 || (has_limit > 0 &&
                          !parse_bounded(limit, 1, RST_PAGE_LIMIT_MAX, &req.limit)))
        return reject(field, msg, "limit", MSG_LIMIT);

    has_page = rst_query_get(qs, "page", page, sizeof page);
    has_cursor = rst_query_get(qs, "cursor", cursor, sizeof cursor);
    if (has_page != 0 && has_cursor != 0)
        return reject(field, msg, "cursor", MSG_COMBINED);

    if (has_page != 0) {
        if (has_page < 0 || !parse_bounded(page, 1, RST_PAGE_MAX, &req.page))
            return reject(field, msg, "page", MSG_PAGE);
    } else if (has_cursor != 0) {
        if (has_cursor > 0 && cursor[0] == '\0')
            return reject(field, msg, "cursor", MSG_EMPTY);
        if (has_cursor < 0 || !rst_cursor_decode(key, ctx, cursor, &req.after))
            return reject(field, msg, "cursor", MSG_CURSOR);
        req.page = 0;
    }
    if (out != NULL)
        *out = req;
    return 0;
}
