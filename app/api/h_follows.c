/* h_follows.c -- the follow routes (API.md §6): anyone may list a user's
 * followers and the users they follow; the signed-in caller follows or
 * stops following user {id} (a POST takes no fields, so an empty body is
 * fine). */
#include <inttypes.h>
#include <stdio.h>

#include "api/handlers.h"
#include "api/validate.h"
#include "domain/follows.h"
#include "domain/timeline.h"

static void follow_body(rst_ctx *c, const rst_follow *f)
{
    rst_buf_puts(c->resp->body, "{\"follow\":");
    rst_follow_json(c->resp->body, f);
    rst_buf_putc(c->resp->body, '}');
}

/* Following oneself is a field problem of the path's user id. */
static void check_not_self(rst_ctx *c)
{
    if (c->match.ids[0] == c->auth.user_id)
        rst_response_field(c->resp, "user_id", "you cannot follow yourself");
}

static void follow(rst_ctx *c)
{
    rst_follow f;
    int created = 0;
    rst_err err = rst_follow_add(c->svc, c->arena, c->auth.user_id, c->match.ids[0], &f, &created);
    if (err != RST_OK) {
        rst_ctx_fail(c, err, NULL);
        return;
    }
    if (created) {
        /* A follow has no URL of its own: name the list it now shows in. */
        c->resp->status = 201;
        rst_ctx_location(c, "/followers/", f.followee_id);
    }
    rst_timeline_follows_changed(c->svc, c->auth.user_id, 1);
    follow_body(c, &f);
}

static void unfollow(rst_ctx *c)
{
    rst_follow f;
    rst_err err = rst_follow_remove(c->svc, c->arena, c->auth.user_id, c->match.ids[0], &f);
    if (err == RST_E_NOT_FOUND) {
        rst_why why = { NULL, "you do not follow this user" };
        rst_ctx_fail(c, err, &why);
        return;
    }
    if (err != RST_OK) {
        rst_ctx_fail(c, err, NULL);
        return;
    }
    rst_timeline_follows_changed(c->svc, c->auth.user_id, 0);
    follow_body(c, &f);
}

/* ------------------------------------------------------------ lists */

/* GET /followers/{id} (incoming) and /following/{id}: newest follow first;
 * a cursor is bound to its list and user. */
static void follow_list(rst_ctx *c, int incoming)
{
    uint64_t uid = c->match.ids[0];
    char ctx[48];
    snprintf(ctx, sizeof(ctx), "%s%" PRIu64, incoming ? "/followers/" : "/following/", uid);
    rst_page_req page;
    if (rst_ctx_page(c, ctx, &page) != 0)
        return;
    rst_follow_query q = { .user_id = uid, .incoming = incoming, .limit = page.limit,
                           .before = page.page > 0 ? 0 : page.after,
                           .page_offset = page.page > 0 ? (page.page - 1) * page.limit : -1 };
    rst_follow_page p;
    rst_err err = rst_follow_list(c->svc, c->arena, &q, &p);
    if (err != RST_OK) {
        rst_ctx_fail(c, err, NULL);
        return;
    }
    rst_buf items;
    rst_buf_init(&items);
    rst_buf_putc(&items, '[');
    for (int i = 0; i < p.n; i++) {
        if (i > 0)
            rst_buf_putc(&items, ',');
        rst_follow_entry_json(&items, &p.items[i]);
    }
    rst_buf_putc(&items, ']');
    if (items.oom) {
        rst_buf_free(&items);
        rst_ctx_fail(c, RST_E_INTERNAL, NULL);
        return;
    }
    c->resp->cache = RST_CACHE_PUBLIC;
    rst_ctx_page_body(c, ctx, &page, items.data, items.len, p.has_more,
                      p.n > 0 ? p.items[p.n - 1].edge_id : 0);
    rst_buf_free(&items);
}

static void followers_list(rst_ctx *c) { follow_list(c, 1); }
static void following_list(rst_ctx *c) { follow_list(c, 0); }

/* ------------------------------------------------------------ routes */

static const rst_route_def defs[] = {
    { RST_M_GET,    "/followers/{id}", "followers.list", 0, NULL, followers_list },
    { RST_M_GET,    "/following/{id}", "following.list", 0, NULL, following_list },
    { RST_M_POST,   "/followers/{id}", "follow.add",    RST_H_AUTH | RST_H_NO_FIELDS,
      check_not_self, follow },
    { RST_M_DELETE, "/followers/{id}", "follow.remove", RST_H_AUTH, check_not_self, unfollow },
};

const rst_route_table rst_follow_routes = RST_ROUTE_TABLE(defs);
