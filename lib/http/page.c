/* page.c -- the pagination query of every list (API.md §1.4): limit, and
 * either page or cursor.
 *
 * Numbers are plain decimal digits: no sign, no spaces, no fraction; leading
 * zeros are accepted ("page=02" is page 2), like ids. Every problem is
 * reported (API.md §1.3: one entry per invalid field), in this order:
 * limit, page and cursor together, page, cursor. */
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

static void add_problem(rst_page_problem *p, int *n, const char *f, const char *m)
{
    if (*n < RST_PAGE_MAX_PROBLEMS) {
        p[*n].field = f;
        p[*n].msg = m;
        (*n)++;
    }
}

int rst_page_parse_all(const char *qs, const rst_cursor_key *key, const char *ctx,
                       rst_page_req *out, rst_page_problem problems[RST_PAGE_MAX_PROBLEMS],
                       int *nproblems)
{
    char limit[VALUE_MAX], page[VALUE_MAX], cursor[VALUE_MAX];
    rst_page_req req = { RST_PAGE_LIMIT_DEFAULT, 1, 0 };
    int has_limit, has_page, has_cursor, n = 0;

    has_limit = rst_query_get(qs, "limit", limit, sizeof limit);
    if (has_limit < 0 || (has_limit > 0 &&
                          !parse_bounded(limit, 1, RST_PAGE_LIMIT_MAX, &req.limit)))
        add_problem(problems, &n, "limit", MSG_LIMIT);

    has_page = rst_query_get(qs, "page", page, sizeof page);
    has_cursor = rst_query_get(qs, "cursor", cursor, sizeof cursor);
    if (has_page != 0 && has_cursor != 0) {
        add_problem(problems, &n, "cursor", MSG_COMBINED);
    } else if (has_page != 0) {
        if (has_page < 0 || !parse_bounded(page, 1, RST_PAGE_MAX, &req.page))
            add_problem(problems, &n, "page", MSG_PAGE);
    } else if (has_cursor != 0) {
        if (has_cursor > 0 && cursor[0] == '\0')
            add_problem(problems, &n, "cursor", MSG_EMPTY);
        else if (has_cursor < 0 || !rst_cursor_decode(key, ctx, cursor, &req.after))
            add_problem(problems, &n, "cursor", MSG_CURSOR);
        req.page = 0;
    }
    *nproblems = n;
    if (n > 0)
        return -1;
    if (out != NULL)
        *out = req;
    return 0;
}

int rst_page_parse(const char *qs, const rst_cursor_key *key, const char *ctx,
                   rst_page_req *out, const char **field, const char **msg)
{
    rst_page_problem p[RST_PAGE_MAX_PROBLEMS];
    int n;
    if (rst_page_parse_all(qs, key, ctx, out, p, &n) == 0)
        return 0;
    if (field != NULL)
        *field = p[0].field;
    if (msg != NULL)
        *msg = p[0].msg;
    return -1;
}
