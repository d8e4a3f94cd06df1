/* h_products.c -- the product routes (API.md §3): the list and one product
 * for anyone, creation and changes for admins. */
#include "domain/products.h"
#include "api/validate.h"
#include "api/handlers.h"

#define PRODUCTS_LIST_CTX "/products"

static void products_list(rst_ctx *c)
{
    rst_page_req page;
    if (rst_ctx_page(c, PRODUCTS_LIST_CTX, &page) != 0)
        return;
    rst_product_page p;
    int offset = page.page > 0 ? (page.page - 1) * page.limit : 0;
    rst_err err = rst_products_list(c->svc, c->arena, page.page > 0 ? 0 : page.after,
                                    offset, page.limit, &p);
    if (err != RST_OK) {
        rst_ctx_fail(c, err, NULL);
        return;
    }
    c->resp->cache = RST_CACHE_PUBLIC;
    rst_ctx_page_body(c, PRODUCTS_LIST_CTX, &page, p.items_json, p.items_len,
                      p.has_more, p.last_id);
}

static void product_get(rst_ctx *c)
{
    const char *json;
    size_t len;
    rst_err err = rst_product_get_json(c->svc, c->arena, c->match.ids[0], c->hot_ok, &json, &len);
    if (err != RST_OK) {
        rst_ctx_fail(c, err, NULL);
        return;
    }
    c->resp->cache = RST_CACHE_PUBLIC;
    rst_buf_puts(c->resp->body, "{\"product\":");
    rst_buf_append(c->resp->body, json, len);
    rst_buf_putc(c->resp->body, '}');
}

/* ---------------------------------------------------------------- writes */

static const char *const states[] = { "active", "inactive", NULL };

/* Reads every product field present in the body into in. */
static int read_product(rst_ctx *c, rst_product_input *in)
{
    size_t len;
    int64_t price = 0;
    int state = 0;
    int seen = 0, r;
    if ((r = rst_field_string(c, "name", 1, 100, RST_STR_LINE, &in->name, &len)) != 0)
        seen = 1;
    in->has_name = r == 1;
    if ((r = rst_field_int(c, "price", 0, 100000000, &price)) != 0)
        seen = 1;
    in->has_price = r == 1;
    in->price = (int)price;
    if ((r = rst_field_string(c, "img", 0, 255, RST_STR_LINE, &in->img, &len)) != 0)
        seen = 1;
    in->has_img = r == 1;
    if ((r = rst_field_string(c, "description", 0, 2000, RST_STR_TEXT, &in->description, &len)) != 0)
        seen = 1;
    in->has_description = r == 1;
    if ((r = rst_field_enum(c, "state", states, &state)) != 0)
        seen = 1;
    in->has_state = r == 1;
    in->active = state == 0;
    return seen;
}

static void product_answer(rst_ctx *c, const char *json, size_t len)
{
    rst_buf_puts(c->resp->body, "{\"product\":");
    rst_buf_append(c->resp->body, json, len);
    rst_buf_putc(c->resp->body, '}');
}

static void check_product_create(rst_ctx *c)
{
    if (rst_ctx_require_admin(c) != 0)
        return;
    rst_product_input *in = rst_ctx_input(c, sizeof(*in));
    if (in == NULL)
        return;
    read_product(c, in);
    if (!rst_field_present(c, "name"))
        rst_field_missing(c, "name");
    if (!rst_field_present(c, "price"))
        rst_field_missing(c, "price");
}

static void product_create(rst_ctx *c)
{
    const rst_product_input *in = c->input;
    uint64_t id;
    const char *json;
    size_t len;
    rst_why why = { 0 };
    rst_err err = rst_product_create(c->svc, c->arena, in, &id, &json, &len, &why);
    if (err != RST_OK) {
        rst_ctx_fail(c, err, &why);
        return;
    }
    c->resp->status = 201;
    rst_ctx_location(c, "/product/", id);
    product_answer(c, json, len);
}

static void check_product_update(rst_ctx *c)
{
    if (rst_ctx_require_admin(c) != 0)
        return;
    rst_product_input *in = rst_ctx_input(c, sizeof(*in));
    if (in == NULL)
        return;
    if (!read_product(c, in))
        rst_response_field(c->resp, "body",
                           "send at least one of name, price, img, description or state");
    /* Existence before field validation (API.md §1.1): with bad fields,
     * look the product up so that a missing one is still a 404. */
    if (rst_response_has_fields(c->resp)) {
        const char *json;
        size_t len;
        rst_err err = rst_product_get_json(c->svc, c->arena, c->match.ids[0], 0, &json, &len);
        if (err != RST_OK)
            rst_ctx_fail(c, err, NULL);
    }
}

static void product_update(rst_ctx *c)
{
    const char *json;
    size_t len;
    rst_why why = { 0 };
    rst_err err = rst_product_update(c->svc, c->arena, c->match.ids[0], c->input, &json, &len,
                                     &why);
    if (err != RST_OK) {
        rst_ctx_fail(c, err, &why);
        return;
    }
    product_answer(c, json, len);
}

/* ---------------------------------------------------------------- routes */

static const rst_route_def defs[] = {
    { RST_M_GET,  "/products",      "products.list",  0, NULL, products_list },
    { RST_M_POST, "/products",      "product.create", RST_H_AUTH | RST_H_FIELDS,
      check_product_create, product_create },
    { RST_M_GET,  "/product/{id}",  "product.get",    0, NULL, product_get },
    { RST_M_PUT,  "/product/{id}",  "product.update", RST_H_AUTH | RST_H_FIELDS,
      check_product_update, product_update },
};

const rst_route_table rst_product_routes = RST_ROUTE_TABLE(defs);
