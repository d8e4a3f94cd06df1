/* carts.h -- shopping carts (API.md §4, "addToCar").
 *
 * A cart item lives on its owner's shard and its id carries that logical
 * shard, so every cart call touches one shard database; the embedded
 * product comes from the product cache (rst_products_brief: one batched
 * Redis read, one catalog query for the misses).
 *
 * Writes to one user's cart are serialised by a row lock on the owner's
 * users row (SELECT ... FOR UPDATE), so the 200-item cap and the 999
 * quantity bound hold under any concurrency, and the item itself is written
 * with an upsert on the (user, product) unique key: concurrent adds of one
 * product end in one item with the summed quantity.
 *
 * A cart's items (not their products, which have a cache of their own and
 * change under the cart) are cached in Redis under cart:{uid}, stamped
 * with the cart's version cart:{uid}:v; every write sets a new version
 * after its commit, so a cached copy made from an older read can never be
 * served again, whatever order readers and writers run in. */
#ifndef ROOST_CARTS_H
#define ROOST_CARTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "domain/errors.h"
#include "domain/products.h"
#include "domain/services.h"

#define RST_CART_MAX_ITEMS    200
#define RST_CART_MAX_QUANTITY 999

typedef struct {
    uint64_t id;
    uint64_t user_id;
    uint64_t product_id;
    int      quantity;
    int      saved;             /* state "saved" (else "active") */
    uint64_t created_ms;
    uint64_t updated_ms;
} rst_cart_item;

typedef struct {
    rst_cart_item     *items;   /* arena, oldest first */
    rst_product_brief *products;/* products[i] belongs to items[i] */
    int                n;
    uint64_t           total_quantity;   /* active items of active products */
    uint64_t           total_price;
} rst_cart;

/* The whole cart of a user (who must exist: RST_E_NOT_FOUND otherwise). */
rst_err rst_cart_list(rst_services *s, rst_arena *a, uint64_t user_id, rst_cart *out);

/* One item with its product; RST_E_NOT_FOUND when there is none. */
rst_err rst_cart_get(rst_services *s, rst_arena *a, uint64_t item_id, rst_cart_item *item,
                     rst_product_brief *product);

/* Adds quantity of a product (which the caller found active) to the cart:
 * a new item (*created = 1) or, when the cart holds the product, more of
 * that item (*created = 0; its state changes only when `state` is given:
 * -1 keep, 0 active, 1 saved). RST_E_VALIDATION ("quantity: ...",
 * "product_id: ...") when the total would pass 999 or the cart is full;
 * RST_E_NOT_FOUND when the user does not exist. */
rst_err rst_cart_add(rst_services *s, rst_arena *a, uint64_t user_id, uint64_t product_id,
                     int quantity, int state, rst_cart_item *out, int *created, rst_why *why);

/* Changes an item's quantity (> 0) and/or state (-1 keep); RST_E_NOT_FOUND. */
rst_err rst_cart_update(rst_services *s, rst_arena *a, const rst_cart_item *item, int quantity,
                        int state, rst_cart_item *out);

/* Removes an item; RST_E_NOT_FOUND when it was already gone. */
rst_err rst_cart_remove(rst_services *s, const rst_cart_item *item);

/* Writes the CartItem object of API.md §4. */
void rst_cart_item_json(rst_buf *b, const rst_cart_item *item, const rst_product_brief *product);

#endif
