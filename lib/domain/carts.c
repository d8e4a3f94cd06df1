/* carts.c -- cart items on their owner's shard (see carts.h). */
#include <string.h>

#include "core/timefmt.h"
#include "domain/carts.h"

#define ITEM_COLS "UUUISTT"
#define ITEM_SELECT \
    "SELECT id, user_id, product_id, quantity, state, created_at, updated_at FROM cart_items "

static const char SQL_LIST[] = ITEM_SELECT "WHERE user_id = ? ORDER BY id LIMIT 1000";
static const char SQL_BY_ID[] = ITEM_SELECT "WHERE id = ?";
static const char SQL_BY_PRODUCT[] = ITEM_SELECT "WHERE user_id = ? AND product_id = ? FOR UPDATE";
static const char SQL_LOCK_OWNER[] = "SELECT id FROM users WHERE id = ? FOR UPDATE";
static const char SQL_COUNT[] = "SELECT COUNT(*) FROM cart_items WHERE user_id = ?";
/* The upsert: under the owner's lock the row cannot appear in between,
 * but the unique key still decides, so no writer can make a second row. */
static const char SQL_UPSERT[] =
    "INSERT INTO cart_items (id, user_id, product_id, quantity, state, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON DUPLICATE KEY UPDATE quantity = quantity + VALUES(quantity), "
    "updated_at = VALUES(updated_at)";
static const char SQL_ADD_MORE[] =
    "UPDATE cart_items SET quantity = quantity + ?, state = COALESCE(?, state), updated_at = ? "
    "WHERE id = ?";
static const char SQL_UPDATE[] =
    "UPDATE cart_items SET quantity = COALESCE(?, quantity), state = COALESCE(?, state), "
    "updated_at = ? WHERE id = ?";
static const char SQL_DELETE[] = "DELETE FROM cart_items WHERE id = ?";

static const char *state_name(int saved) { return saved ? "saved" : "active"; }

static void row_to_item(const rst_value *r, rst_cart_item *it)
{
    it->id = r[0].u;
    it->user_id = r[1].u;
    it->product_id = r[2].u;
    it->quantity = (int)r[3].i;
    it->saved = strcmp(r[4].s, "saved") == 0;
    it->created_ms = r[5].u;
    it->updated_ms = r[6].u;
}

/* A state argument: NULL (keep) for -1. */
static rst_param state_param(int state)
{
    rst_param keep = { .type = RST_P_NULL };
    return state < 0 ? keep : rst_p_str(state_name(state));
}

/* ------------------------------------------------------------ reads */

static void add_totals(rst_cart *c)
{
    c->total_quantity = 0;
    c->total_price = 0;
    for (int i = 0; i < c->n; i++) {
        const rst_product_brief *p = &c->products[i];
        if (c->items[i].saved || !p->found || !p->active)
            continue;
        c->total_quantity += (uint64_t)c->items[i].quantity;
        c->total_price += (uint64_t)c->items[i].quantity * (uint64_t)p->price;
    }
}

rst_err rst_cart_list(rst_services *s, rst_arena *a, uint64_t user_id, rst_cart *out)
{
    rst_db *db;
    rst_err err = rst_shard_of(s, user_id, RST_PRIMARY, &db);
    if (err != RST_OK)
        return err;
    rst_param p[1] = { rst_p_u64(user_id) };
    rst_rows rows;
    rst_db_rc rc = rst_db_query(db, a, SQL_LIST, p, 1, ITEM_COLS, &rows);
    if (rc != RST_DB_OK)
        return rst_store_fail(db, rc, "cart list");
    memset(out, 0, sizeof(*out));
    out->n = rows.nrows;
    if (rows.nrows == 0)
        return RST_OK;
    out->items = rst_arena_alloc(a, sizeof(rst_cart_item) * (size_t)rows.nrows);
    out->products = rst_arena_alloc(a, sizeof(rst_product_brief) * (size_t)rows.nrows);
    uint64_t *ids = rst_arena_alloc(a, sizeof(uint64_t) * (size_t)rows.nrows);
    if (out->items == NULL || out->products == NULL || ids == NULL)
        return RST_E_INTERNAL;
    for (int i = 0; i < rows.nrows; i++) {
        row_to_item(rst_row(&rows, i), &out->items[i]);
        ids[i] = out->items[i].product_id;
    }
    err = rst_products_brief(s, a, ids, rows.nrows, out->products);
    if (err == RST_OK)
        add_totals(out);
    return err;
}

/* The item row alone. */
static rst_err item_by_id(rst_services *s, rst_arena *a, uint64_t item_id, rst_cart_item *item)
{
    rst_db *db;
    rst_err err = rst_shard_of(s, item_id, RST_PRIMARY, &db);
    if (err != RST_OK)
        return err;
    rst_param p[1] = { rst_p_u64(item_id) };
    rst_rows rows;
    rst_db_rc rc = rst_db_query(db, a, SQL_BY_ID, p, 1, ITEM_COLS, &rows);
    if (rc != RST_DB_OK)
        return rst_store_fail(db, rc, "cart item get");
    if (rows.nrows == 0)
        return RST_E_NOT_FOUND;
    row_to_item(rst_row(&rows, 0), item);
    return RST_OK;
}

rst_err rst_cart_get(rst_services *s, rst_arena *a, uint64_t item_id, rst_cart_item *item,
                     rst_product_brief *product)
{
    rst_err err = item_by_id(s, a, item_id, item);
    return err != RST_OK ? err : rst_products_brief(s, a, &item->product_id, 1, product);
}

/* ------------------------------------------------------------ add */

/* Inside the owner's transaction: the existing item for the product, if
 * any (*found), read with a lock. */
static rst_db_rc locked_item(rst_db *db, rst_arena *a, uint64_t user_id, uint64_t product_id,
                             rst_cart_item *item, int *found)
{
    rst_param p[2] = { rst_p_u64(user_id), rst_p_u64(product_id) };
    rst_rows rows;
    rst_db_rc rc = rst_db_query(db, a, SQL_BY_PRODUCT, p, 2, ITEM_COLS, &rows);
    *found = rc == RST_DB_OK && rows.nrows > 0;
    if (*found)
        row_to_item(rst_row(&rows, 0), item);
    return rc;
}

static rst_db_rc item_count(rst_db *db, rst_arena *a, uint64_t user_id, uint64_t *count)
{
    rst_param p[1] = { rst_p_u64(user_id) };
    rst_rows rows;
    rst_db_rc rc = rst_db_query(db, a, SQL_COUNT, p, 1, "U", &rows);
    *count = rc == RST_DB_OK && rows.nrows > 0 ? rst_row(&rows, 0)[0].u : 0;
    return rc;
}

/* The steps of an add, with the owner's row locked. RST_OK with *item_id
 * set, or the error (the caller rolls back). */
static rst_err add_locked(rst_services *s, rst_db *db, rst_arena *a, uint64_t user_id,
                          uint64_t product_id, int quantity, int state, uint64_t *item_id,
                          int *created, rst_why *why)
{
    uint64_t now = rst_time_now_ms(), count;
    rst_cart_item old;
    int found;
    rst_param owner[1] = { rst_p_u64(user_id) };
    rst_rows rows;
    rst_db_rc rc = rst_db_query(db, a, SQL_LOCK_OWNER, owner, 1, "U", &rows);
    if (rc == RST_DB_OK && rows.nrows == 0)
        return RST_E_NOT_FOUND;
    if (rc == RST_DB_OK)
        rc = locked_item(db, a, user_id, product_id, &old, &found);
    if (rc != RST_DB_OK)
        return rst_store_fail(db, rc, "cart add");
    if (found) {
        if (old.quantity + quantity > RST_CART_MAX_QUANTITY)
            return rst_fail(why, RST_E_VALIDATION, "quantity",
                            "the item would hold more than 999");
        rst_param p[4] = { rst_p_i64(quantity), state_param(state), rst_p_time(now),
                           rst_p_u64(old.id) };
        rc = rst_db_exec(db, SQL_ADD_MORE, p, 4, NULL);
        *item_id = old.id;
        *created = 0;
        return rc == RST_DB_OK ? RST_OK : rst_store_fail(db, rc, "cart add");
    }
    if ((rc = item_count(db, a, user_id, &count)) != RST_DB_OK)
        return rst_store_fail(db, rc, "cart count");
    if (count >= RST_CART_MAX_ITEMS)
        return rst_fail(why, RST_E_VALIDATION, "product_id", "the cart already holds 200 items");
    *item_id = rst_idgen_next(&s->ids, rst_id_shard(user_id));
    rst_param p[7] = { rst_p_u64(*item_id), rst_p_u64(user_id), rst_p_u64(product_id),
                       rst_p_i64(quantity), rst_p_str(state_name(state > 0)), rst_p_time(now),
                       rst_p_time(now) };
    rc = rst_db_exec(db, SQL_UPSERT, p, 7, NULL);
    *created = 1;
    return rc == RST_DB_OK ? RST_OK : rst_store_fail(db, rc, "cart add");
}

rst_err rst_cart_add(rst_services *s, rst_arena *a, uint64_t user_id, uint64_t product_id,
                     int quantity, int state, rst_cart_item *out, int *created, rst_why *why)
{
    rst_db *db;
    rst_err err = rst_shard_of(s, user_id, RST_PRIMARY, &db);
    if (err != RST_OK)
        return err;
    rst_db_rc rc = rst_db_begin(db);
    if (rc != RST_DB_OK)
        return rst_store_fail(db, rc, "cart add: begin");
    uint64_t item_id = 0;
    err = add_locked(s, db, a, user_id, product_id, quantity, state, &item_id, created, why);
    if (err == RST_OK && (rc = rst_db_commit(db)) != RST_DB_OK)
        err = rst_store_fail(db, rc, "cart add: commit");
    if (err != RST_OK) {
        rst_db_rollback(db);
        return err;
    }
    return item_by_id(s, a, item_id, out);
}

/* ------------------------------------------------------------ change */

rst_err rst_cart_update(rst_services *s, rst_arena *a, uint64_t item_id, int quantity,
                        int state, rst_cart_item *out)
{
    rst_db *db;
    rst_err err = rst_shard_of(s, item_id, RST_PRIMARY, &db);
    if (err != RST_OK)
        return err;
    rst_param keep = { .type = RST_P_NULL };
    rst_param p[4] = { quantity > 0 ? rst_p_i64(quantity) : keep, state_param(state),
                       rst_p_time(rst_time_now_ms()), rst_p_u64(item_id) };
    uint64_t matched = 0;
    rst_db_rc rc = rst_db_exec(db, SQL_UPDATE, p, 4, &matched);
    if (rc != RST_DB_OK)
        return rst_store_fail(db, rc, "cart update");
    if (matched == 0)
        return RST_E_NOT_FOUND;
    return item_by_id(s, a, item_id, out);
}

rst_err rst_cart_remove(rst_services *s, uint64_t item_id)
{
    rst_db *db;
    rst_err err = rst_shard_of(s, item_id, RST_PRIMARY, &db);
    if (err != RST_OK)
        return err;
    rst_param p[1] = { rst_p_u64(item_id) };
    uint64_t matched = 0;
    rst_db_rc rc = rst_db_exec(db, SQL_DELETE, p, 1, &matched);
    if (rc != RST_DB_OK)
        return rst_store_fail(db, rc, "cart remove");
    return matched > 0 ? RST_OK : RST_E_NOT_FOUND;
}

/* ------------------------------------------------------------ JSON */

void rst_cart_item_json(rst_buf *b, const rst_cart_item *it, const rst_product_brief *product)
{
    rst_buf_puts(b, "{\"id\":");
    rst_json_id(b, it->id);
    rst_buf_puts(b, ",\"user_id\":");
    rst_json_id(b, it->user_id);
    rst_buf_puts(b, ",\"product_id\":");
    rst_json_id(b, it->product_id);
    rst_buf_puts(b, ",\"quantity\":");
    rst_json_u64(b, (uint64_t)it->quantity);
    rst_buf_puts(b, it->saved ? ",\"state\":\"saved\"" : ",\"state\":\"active\"");
    rst_buf_puts(b, ",\"product\":");
    rst_product_brief_json(b, product);
    rst_buf_puts(b, ",\"created_at\":");
    rst_json_time(b, it->created_ms);
    rst_buf_puts(b, ",\"updated_at\":");
    rst_json_time(b, it->updated_ms);
    rst_buf_putc(b, '}');
}
