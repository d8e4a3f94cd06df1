/* h_carts.c -- the cart routes (API.md §4, "addToCar"): a user's cart and
 * its items, for the owner or an admin. Every answer is private to the
 * token that asked (Cache-Control: private, no-cache; never in nginx's
 * shared cache, which a request with a token bypasses anyway). */
#include <string.h>

#include "api/handlers.h"
#include "api/validate.h"
#include "domain/carts.h"
#include "domain/users.h"

static const char *const states[] = { "active", "saved", NULL };

typedef struct {
    uint64_t          product_id;
    int64_t           quantity;      /* 0: not sent (PUT) */
    int               state;         /* -1: not sent; 0 active, 1 saved */
    rst_cart_item     item;          /* the item a route works on */
    rst_product_brief product;
} cart_input;

static void item_body(rst_ctx *c, const rst_cart_item *it, const rst_product_brief *p)
{
    rst_buf_puts(c->resp->body, "{\"item\":");
    rst_cart_item_json(c->resp->body, it, p);
    rst_buf_putc(c->resp->body, '}');
}

/* ------------------------------------------------------------ checks */

/* The cart of path user {id}: the owner, or an admin; an admin asking for
 * a user who does not exist gets 404 (the owner exists: the token says so). */
static int check_cart_owner(rst_ctx *c)
{
    uint64_t uid = c->match.ids[0];
    if (rst_ctx_require_owner(c, uid) != 0)
        return -1;
    if (c->auth.user_id != uid) {
        rst_user u;
        rst_err err = rst_users_get(c->svc, c->arena, uid, &u);
        if (err != RST_OK) {
            rst_ctx_fail(c, err, NULL);
            return -1;
        }
    }
    return 0;
}

/* Item {id} exists (404 first: whose it is cannot be known otherwise) and
 * belongs to the caller, or the caller is an admin (403). */
static cart_input *check_item_owner(rst_ctx *c)
{
    cart_input *in = rst_ctx_input(c, sizeof(*in));
    if (in == NULL)
        return NULL;
    rst_err err = rst_cart_get(c->svc, c->arena, c->match.ids[0], &in->item, &in->product);
    if (err != RST_OK) {
        rst_ctx_fail(c, err, NULL);
        return NULL;
    }
    return rst_ctx_require_owner(c, in->item.user_id) == 0 ? in : NULL;
}

/* quantity and state as POST and PUT take them; 1 when either was sent. */
static int read_quantity_state(rst_ctx *c, cart_input *in)
{
    int seen = rst_field_int(c, "quantity", 1, RST_CART_MAX_QUANTITY, &in->quantity) != 0;
    seen |= rst_field_enum(c, "state", states, &in->state) != 0;
    return seen;
}

/* ------------------------------------------------------------ the cart */

static void check_cart_list(rst_ctx *c)
{
    check_cart_owner(c);
}

static void cart_list(rst_ctx *c)
{
    rst_cart cart;
    rst_err err = rst_cart_list(c->svc, c->arena, c->match.ids[0], &cart);
    if (err != RST_OK) {
        rst_ctx_fail(c, err, NULL);
        return;
    }
    rst_buf *b = c->resp->body;
    rst_buf_puts(b, "{\"items\":[");
    for (int i = 0; i < cart.n; i++) {
        if (i > 0)
            rst_buf_putc(b, ',');
        rst_cart_item_json(b, &cart.items[i], &cart.products[i]);
    }
    rst_buf_puts(b, "],\"total_quantity\":");
    rst_json_u64(b, cart.total_quantity);
    rst_buf_puts(b, ",\"total_price\":");
    rst_json_u64(b, cart.total_price);
    rst_buf_putc(b, '}');
    c->resp->cache = RST_CACHE_PRIVATE;
}

/* POST {"product_id", "quantity"?: 1, "state"?: "active"}: the product must
 * exist and be active, which is a field problem (422), not a 404. */
static void check_cart_add(rst_ctx *c)
{
    if (check_cart_owner(c) != 0)
        return;
    cart_input *in = rst_ctx_input(c, sizeof(*in));
    if (in == NULL)
        return;
    in->quantity = 1;
    in->state = -1;
    int has_product = rst_field_id(c, "product_id", &in->product_id);
    if (has_product == 0)
        rst_field_missing(c, "product_id");
    read_quantity_state(c, in);
    if (has_product != 1 || rst_response_has_fields(c->resp))
        return;
    rst_err err = rst_products_brief(c->svc, c->arena, &in->product_id, 1, &in->product);
    if (err != RST_OK)
        rst_ctx_fail(c, err, NULL);
    else if (!in->product.found || !in->product.active)
        rst_response_field(c->resp, "product_id", "no such active product");
}

static void cart_add(rst_ctx *c)
{
    cart_input *in = c->input;
    rst_cart_item item;
    rst_why why = { 0 };
    int created = 0;
    rst_err err = rst_cart_add(c->svc, c->arena, c->match.ids[0], in->product_id,
                               (int)in->quantity, in->state, &item, &created, &why);
    if (err != RST_OK) {
        rst_ctx_fail(c, err, &why);
        return;
    }
    if (created) {
        c->resp->status = 201;
        rst_ctx_location(c, "/addToCar/", item.id);
    }
    item_body(c, &item, &in->product);
}

/* ------------------------------------------------------------ one item */

static void check_item_get(rst_ctx *c)
{
    check_item_owner(c);
}

static void item_get(rst_ctx *c)
{
    const cart_input *in = c->input;
    item_body(c, &in->item, &in->product);
    c->resp->cache = RST_CACHE_PRIVATE;
}

static void check_item_update(rst_ctx *c)
{
    cart_input *in = check_item_owner(c);
    if (in == NULL)
        return;
    in->quantity = 0;
    in->state = -1;
    if (!read_quantity_state(c, in))
        rst_response_field(c->resp, "body", "send at least one of quantity or state");
}

static void item_update(rst_ctx *c)
{
    cart_input *in = c->input;
    rst_cart_item item;
    rst_err err = rst_cart_update(c->svc, c->arena, &in->item, (int)in->quantity, in->state,
                                  &item);
    if (err != RST_OK) {
        rst_ctx_fail(c, err, NULL);
        return;
    }
    item_body(c, &item, &in->product);
}

static void check_item_delete(rst_ctx *c)
{
    check_item_owner(c);
}

/* Answers with the item as it was removed. */
static void item_delete(rst_ctx *c)
{
    const cart_input *in = c->input;
    rst_err err = rst_cart_remove(c->svc, &in->item);
    if (err != RST_OK) {
        rst_ctx_fail(c, err, NULL);
        return;
    }
    item_body(c, &in->item, &in->product);
}

/* ------------------------------------------------------------ routes */

static const rst_route_def defs[] = {
    { RST_M_GET,    "/addToCars/{id}", "cart.list",   RST_H_AUTH, check_cart_list, cart_list },
    { RST_M_POST,   "/addToCars/{id}", "cart.add",    RST_H_AUTH | RST_H_FIELDS,
      check_cart_add, cart_add },
    { RST_M_GET,    "/addToCar/{id}",  "cart.item.get", RST_H_AUTH, check_item_get, item_get },
    { RST_M_PUT,    "/addToCar/{id}",  "cart.item.update", RST_H_AUTH | RST_H_FIELDS,
      check_item_update, item_update },
    { RST_M_DELETE, "/addToCar/{id}",  "cart.item.delete", RST_H_AUTH,
      check_item_delete, item_delete },
};

const rst_route_table rst_cart_routes = RST_ROUTE_TABLE(defs);
