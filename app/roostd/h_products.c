/* h_products.c -- GET /products and GET /product/{id} (API.md §3). */
#include "domain/products.h"
#include "roostd/handlers.h"

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
