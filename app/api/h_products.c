/* h_products.c -- GET /products and GET /product/{id} (API.md §3). */
#include "domain/products.h"
#include "api/validate.h"
#include "api/handlers.h"

#define PRODUCTS_LIST_CTX "/products"

void rst_h_products_list(rst_ctx *c)
{
    rst_page_req page;
    if (rst_ctx_page(c, PRODUCTS_LIST_CTX, &page) != 0)
        return;
    rst_product_page p;
    int offset = page.page > 0 ? (page.page - 1) * page.limit : 0;
    rst_err err = rst_products_list(c->svc, c->arena, page.page > 0 ? 0 : page.after,
                                    offset, page.limit, &p);
    if (err != RST_OK) {
        rst_ctx_fail(c, err);
        return;
    }
    c->resp->cache = RST_CACHE_PUBLIC;
    rst_ctx_page_body(c, PRODUCTS_LIST_CTX, &page, p.items_json, p.items_len,
                      p.has_more, p.last_id);
}

void rst_h_product_get(rst_ctx *c)
{
    const char *json;
    size_t len;
    rst_err err = rst_product_get_json(c->svc, c->arena, c->match.ids[0], &json, &len);
    if (err != RST_OK) {
        rst_ctx_fail(c, err);
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

void rst_h_product_create(rst_ctx *c)
{
    if (rst_ctx_require_admin(c) != 0)
        return;
    rst_product_input in = { 0 };
    read_product(c, &in);
    if (!rst_field_present(c, "name"))
        rst_field_missing(c, "name");
    if (!rst_field_present(c, "price"))
        rst_field_missing(c, "price");
    if (rst_ctx_fields_ok(c) != 0)
        return;
    uint64_t id;
    const char *json;
    size_t len;
    rst_err err = rst_product_create(c->svc, c->arena, &in, &id, &json, &len);
    if (err == RST_E_CONFLICT) {
        rst_response_error(c->resp, 409, "conflict", "a product with this name exists");
        return;
    }
    if (err != RST_OK) {
        rst_ctx_fail(c, err);
        return;
    }
    c->resp->status = 201;
    rst_ctx_location(c, "/product/", id);
    product_answer(c, json, len);
}

void rst_h_product_update(rst_ctx *c)
{
    if (rst_ctx_require_admin(c) != 0)
        return;
    rst_product_input in = { 0 };
    if (!read_product(c, &in))
        rst_response_field(c->resp, "body",
                           "send at least one of name, price, img, description or state");
    /* Existence before field validation (API.md §1.1): look it up first
     * when the fields are bad, so a missing product is still a 404. */
    const char *json;
    size_t len;
    if (rst_response_has_fields(c->resp)) {
        rst_err err = rst_product_get_json(c->svc, c->arena, c->match.ids[0], &json, &len);
        if (err != RST_OK)
            rst_ctx_fail(c, err);
        else
            rst_ctx_fields_ok(c);
        return;
    }
    rst_err err = rst_product_update(c->svc, c->arena, c->match.ids[0], &in, &json, &len);
    if (err == RST_E_CONFLICT) {
        rst_response_error(c->resp, 409, "conflict", "a product with this name exists");
        return;
    }
    if (err != RST_OK) {
        rst_ctx_fail(c, err);
        return;
    }
    product_answer(c, json, len);
}
