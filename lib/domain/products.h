/* products.h -- the product catalog service (API.md §3), read side.
 *
 * Products live in the unsharded catalog database and are served from
 * Redis whenever possible: a product is cached as its JSON object under
 * product:{id}; a list page is cached under a key that carries the catalog
 * generation, a counter every product write bumps, so a write makes every
 * cached page unreachable at once without having to find them. */
#ifndef ROOST_PRODUCTS_H
#define ROOST_PRODUCTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "domain/errors.h"
#include "domain/services.h"

/* The product's JSON object ({"id": ..., "name": ...}) in *json (arena).
 * hot_ok: the reader may be answered from the worker's copy of this
 * second (lib/store/hotcache.h; app/api/app.c decides). */
rst_err rst_product_get_json(rst_services *s, rst_arena *a, uint64_t id, int hot_ok,
                             const char **json, size_t *len);

/* The part of a product another resource embeds (a cart item's
 * "product"): id, name, price, img, state. */
typedef struct {
    uint64_t    id;
    int         found;        /* 0: no such product in the catalog */
    const char *name_json;    /* the name as a JSON string, quotes included */
    size_t      name_len;
    const char *img_json;     /* the img likewise */
    size_t      img_len;
    int64_t     price;
    int         active;
} rst_product_brief;

/* The briefs of n products (ids may repeat) in one batched Redis read, and
 * one catalog query for all the misses together; misses are cached. out[i]
 * answers ids[i]. RST_E_UNAVAILABLE only when the catalog is needed and
 * down. */
rst_err rst_products_brief(rst_services *s, rst_arena *a, const uint64_t *ids, int n,
                           rst_product_brief *out);

/* Writes a brief as the embedded product object ({"id", "name", "price",
 * "img", "state"}), or null when not found. */
void rst_product_brief_json(rst_buf *b, const rst_product_brief *p);

typedef struct {
    const char *items_json;   /* "[{...},{...}]" */
    size_t      items_len;
    int         count;
    int         has_more;     /* another item follows this page */
    uint64_t    last_id;      /* id of the last item (for the next cursor) */
} rst_product_page;

/* One page ordered by id ascending: either the items after `after_id`
 * (cursor paging; offset ignored) or, when after_id is 0, the items from
 * `offset` on. */
rst_err rst_products_list(rst_services *s, rst_arena *a, uint64_t after_id,
                          int offset, int limit, rst_product_page *out);

/* A product write. `has_*` say which fields are set (all required ones
 * for create: name, price). */
typedef struct {
    const char *name;
    const char *img;
    const char *description;
    int         price;
    int         active;
    int         has_name, has_price, has_img, has_description, has_state;
} rst_product_input;

/* Creates a product; RST_E_CONFLICT ("name: ...") when the name is taken
 * (any case). *json is the new product object. */
rst_err rst_product_create(rst_services *s, rst_arena *a, const rst_product_input *in,
                           uint64_t *id, const char **json, size_t *len, rst_why *why);

/* Changes the given fields; RST_E_NOT_FOUND, RST_E_CONFLICT. */
rst_err rst_product_update(rst_services *s, rst_arena *a, uint64_t id,
                           const rst_product_input *in, const char **json, size_t *len,
                           rst_why *why);

/* Makes every cached list page unreachable (bumps the catalog generation),
 * for anything that changed the catalog behind the service's back (the
 * seeder). */
void rst_products_retire_pages(rst_services *s);

#endif
