/* h_timeline.c -- GET /timeline (API.md §5): the signed-in caller's home
 * timeline, newest first, private to the caller (Cache-Control: private,
 * no-cache; the ETag and 304 come from the response layer). A cursor is
 * bound to the caller: "/timeline/<uid>". */
#include <inttypes.h>
#include <stdio.h>

#include "api/handlers.h"
#include "domain/timeline.h"

static void timeline(rst_ctx *c)
{
    char ctx[48];
    rst_page_req page;
    rst_tweet_page p;
    snprintf(ctx, sizeof(ctx), "/timeline/%" PRIu64, c->auth.user_id);
    if (rst_ctx_page(c, ctx, &page) != 0)
        return;
    uint64_t before = page.page > 0 ? 0 : page.after;
    int offset = page.page > 0 ? (page.page - 1) * page.limit : 0;
    rst_err err = rst_timeline_page(c->svc, c->arena, c->auth.user_id, before, offset,
                                    page.limit, &p);
    if (err != RST_OK) {
        rst_ctx_fail(c, err, NULL);
        return;
    }
    c->resp->cache = RST_CACHE_PRIVATE;
    rst_ctx_page_body(c, ctx, &page, p.items_json, p.items_len, p.has_more, p.last_id);
}

static const rst_route_def defs[] = {
    { RST_M_GET, "/timeline", "timeline", RST_H_AUTH, NULL, timeline },
};

const rst_route_table rst_timeline_routes = RST_ROUTE_TABLE(defs);
