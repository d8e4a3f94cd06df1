/* h_follows.c -- the follow routes (API.md §6): the signed-in caller follows
 * or stops following user {id}. A POST takes no fields, so an empty body is
 * fine. */
#include "api/handlers.h"
#include "api/validate.h"
#include "domain/follows.h"

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
    if (created)
        c->resp->status = 201;
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
    follow_body(c, &f);
}

/* ------------------------------------------------------------ routes */

static const rst_route_def defs[] = {
    { RST_M_POST,   "/followers/{id}", "follow.add",    RST_H_AUTH | RST_H_NO_FIELDS,
      check_not_self, follow },
    { RST_M_DELETE, "/followers/{id}", "follow.remove", RST_H_AUTH, check_not_self, unfollow },
};

const rst_route_table rst_follow_routes = RST_ROUTE_TABLE(defs);
