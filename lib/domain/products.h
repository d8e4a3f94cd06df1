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
#include "domain/errors.h"
#include "domain/services.h"

/* The product's JSON object ({"id": ..., "name": ...}) in *json (arena). */
rst_err rst_product_get_json(rst_services *s, rst_arena *a, uint64_t id,
                             const char **json, size_t *len);

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

#endif
