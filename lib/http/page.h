/* page.h -- the pagination query of every list (API.md §1.4). */
#ifndef ROOST_PAGE_H
#define ROOST_PAGE_H

#include <stdint.h>
#include "http/cursor.h"

#define RST_PAGE_LIMIT_DEFAULT 20
#define RST_PAGE_LIMIT_MAX     100
#define RST_PAGE_MAX           1000

typedef struct {
    int      limit;       /* 1..100 */
    int      page;        /* 1..1000 when page-based, 0 when cursor-based */
    uint64_t after;       /* cursor-based: the key decoded from the cursor */
} rst_page_req;

/* Parses limit/page/cursor out of the query string qs (may be NULL) for the
 * list identified by ctx. Returns 0 on success. On a 422 it returns -1 and
 * points *field at the offending parameter ("limit", "page" or "cursor") and
 * *msg at a short static message ("must be an integer from 1 to 100", ...). */
int rst_page_parse(const char *qs, const rst_cursor_key *key, const char *ctx,
                   rst_page_req *out, const char **field, const char **msg);

/* Every problem at once, for the 422's `fields` (at most one per
 * parameter). 0 on success; -1 with *nproblems > 0 otherwise. */
#define RST_PAGE_MAX_PROBLEMS 3
typedef struct {
    const char *field;
    const char *msg;
} rst_page_problem;

int rst_page_parse_all(const char *qs, const rst_cursor_key *key, const char *ctx,
                       rst_page_req *out, rst_page_problem problems[RST_PAGE_MAX_PROBLEMS],
                       int *nproblems);

#endif
