/* h_tweets.c -- the tweet routes (API.md §5): the global feed and each
 * user's tweets for anyone, one tweet for anyone, posting as oneself,
 * edits and deletes by the author or an admin. */
#include <inttypes.h>
#include <stdio.h>

#include "domain/feed.h"
#include "domain/tweets.h"
#include "api/validate.h"
#include "api/handlers.h"

#define FEED_LIST_CTX "/tweets"

typedef struct {
    const char *message;
    size_t      len;
} tweet_input;

static void tweet_answer(rst_ctx *c, const char *json, size_t len)
{
    rst_buf_puts(c->resp->body, "{\"tweet\":");
    rst_buf_append(c->resp->body, json, len);
    rst_buf_putc(c->resp->body, '}');
}

/* The message rules of API.md §5: 1-280 code points, no C0 control but
 * \n and \t, no U+007F (invalid UTF-8 never gets here: 400). */
static void read_message(rst_ctx *c)
{
    tweet_input *in = rst_ctx_input(c, sizeof(*in));
    if (in == NULL)
        return;
    if (rst_field_string(c, "message", 1, RST_TWEET_MAX, RST_STR_TEXT, &in->message, &in->len) == 0)
        rst_field_missing(c, "message");
}

/* ---------------------------------------------------------------- lists */

/* Page paging skips (page - 1) * limit tweets; cursor paging starts below
 * the cursor's id. */
static void page_bounds(const rst_page_req *page, uint64_t *before, int *offset)
{
    *before = page->page > 0 ? 0 : page->after;
    *offset = page->page > 0 ? (page->page - 1) * page->limit : 0;
}

static void feed_list(rst_ctx *c)
{
    rst_page_req page;
    if (rst_ctx_page(c, FEED_LIST_CTX, &page) != 0)
        return;
    uint64_t before;
    int offset;
    rst_tweet_page p;
    page_bounds(&page, &before, &offset);
    rst_err err = rst_feed_page(c->svc, c->arena, before, offset, page.limit, c->hot_ok, &p);
    if (err != RST_OK) {
        rst_ctx_fail(c, err, NULL);
        return;
    }
    c->resp->cache = RST_CACHE_PUBLIC;
    rst_ctx_page_body(c, FEED_LIST_CTX, &page, p.items_json, p.items_len, p.has_more, p.last_id);
}

/* A cursor is bound to the user's list: "/tweets/{uid}". */
static const char *user_list_ctx(rst_ctx *c, uint64_t uid)
{
    char ctx[48];
    snprintf(ctx, sizeof(ctx), FEED_LIST_CTX "/%" PRIu64, uid);
    return rst_arena_strdup(c->arena, ctx);
}

static void user_list(rst_ctx *c)
{
    uint64_t uid = c->match.ids[0];
    const char *ctx = user_list_ctx(c, uid);
    rst_page_req page;
    if (ctx == NULL) {
        rst_ctx_fail(c, RST_E_INTERNAL, NULL);
        return;
    }
    if (rst_ctx_page(c, ctx, &page) != 0)
        return;
    uint64_t before;
    int offset;
    rst_tweet_page p;
    page_bounds(&page, &before, &offset);
    rst_err err = rst_tweets_of_user(c->svc, c->arena, uid, before, offset, page.limit, c->hot_ok,
                                     &p);
    if (err != RST_OK) {
        rst_ctx_fail(c, err, NULL);
        return;
    }
    c->resp->cache = RST_CACHE_PUBLIC;
    rst_ctx_page_body(c, ctx, &page, p.items_json, p.items_len, p.has_more, p.last_id);
}

/* ---------------------------------------------------------------- one tweet */

static void tweet_get(rst_ctx *c)
{
    const char *json;
    size_t len;
    rst_err err = rst_tweet_get_json(c->svc, c->arena, c->match.ids[0], c->hot_ok, &json, &len);
    if (err != RST_OK) {
        rst_ctx_fail(c, err, NULL);
        return;
    }
    c->resp->cache = RST_CACHE_PUBLIC;
    tweet_answer(c, json, len);
}

/* An admin posts only as itself: the path's user must be the token's. */
static void check_tweet_create(rst_ctx *c)
{
    if (!c->auth.present || c->auth.user_id != c->match.ids[0]) {
        rst_response_error(c->resp, 403, "forbidden", "you may post only as yourself");
        return;
    }
    read_message(c);
}

static void tweet_create(rst_ctx *c)
{
    const tweet_input *in = c->input;
    uint64_t id;
    const char *json;
    size_t len;
    rst_err err = rst_tweet_create(c->svc, c->arena, c->match.ids[0], in->message, in->len,
                                   &id, &json, &len);
    if (err != RST_OK) {
        rst_ctx_fail(c, err, NULL);
        return;
    }
    c->resp->status = 201;
    rst_ctx_location(c, "/tweet/", id);
    tweet_answer(c, json, len);
}

/* Existence, then permission: the author is known only once the tweet is
 * found, so a missing tweet is a 404 for everyone. */
static int check_author(rst_ctx *c)
{
    uint64_t author;
    rst_err err = rst_tweet_author(c->svc, c->arena, c->match.ids[0], &author);
    if (err != RST_OK) {
        rst_ctx_fail(c, err, NULL);
        return -1;
    }
    return rst_ctx_require_owner(c, author);
}

static void check_tweet_update(rst_ctx *c)
{
    if (check_author(c) == 0)
        read_message(c);
}

static void tweet_update(rst_ctx *c)
{
    const tweet_input *in = c->input;
    const char *json;
    size_t len;
    rst_err err = rst_tweet_update(c->svc, c->arena, c->match.ids[0], in->message, in->len,
                                   &json, &len);
    if (err != RST_OK) {
        rst_ctx_fail(c, err, NULL);
        return;
    }
    tweet_answer(c, json, len);
}

static void check_tweet_delete(rst_ctx *c)
{
    check_author(c);
}

static void tweet_delete(rst_ctx *c)
{
    const char *json;
    size_t len;
    rst_err err = rst_tweet_delete(c->svc, c->arena, c->match.ids[0], &json, &len);
    if (err != RST_OK) {
        rst_ctx_fail(c, err, NULL);
        return;
    }
    tweet_answer(c, json, len);
}

/* ---------------------------------------------------------------- routes */

static const rst_route_def defs[] = {
    { RST_M_GET,    "/tweets",      "tweets.feed",  0, NULL, feed_list },
    { RST_M_GET,    "/tweets/{id}", "tweets.user",  0, NULL, user_list },
    { RST_M_POST,   "/tweets/{id}", "tweet.create", RST_H_AUTH | RST_H_FIELDS,
      check_tweet_create, tweet_create },
    { RST_M_GET,    "/tweet/{id}",  "tweet.get",    0, NULL, tweet_get },
    { RST_M_PUT,    "/tweet/{id}",  "tweet.update", RST_H_AUTH | RST_H_FIELDS,
      check_tweet_update, tweet_update },
    { RST_M_DELETE, "/tweet/{id}",  "tweet.delete", RST_H_AUTH, check_tweet_delete, tweet_delete },
};

const rst_route_table rst_tweet_routes = RST_ROUTE_TABLE(defs);
