/* carts.c -- cart items on their owner's shard (see carts.h). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/num.h"

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
/* Was an add applied? The item carries the add's own updated_at. */
static const char SQL_PROBE[] = "SELECT id FROM cart_items WHERE id = ? AND updated_at = ?";

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

/* ------------------------------------------------------------ cache */

#define CART_CACHE_TTL_S   60        /* bounds a copy a lost version bump left behind */
#define CART_VERSION_TTL_S 86400

/* Versions are stamps, not counters: a version key that expired or was
 * evicted comes back with a larger value than any copy stamped before,
 * never with one of theirs. Wall-clock microseconds, and the process id
 * below them, so two workers writing in the same microsecond still differ. */
static void set_version(rst_services *s, uint64_t user_id, int nx)
{
    rst_key k;
    char v[24];
    uint64_t stamp = rst_time_now_us() << 10 | ((uint64_t)getpid() & 1023);
    int n = snprintf(v, sizeof(v), "%llu", (unsigned long long)stamp);
    rst_key_cart_version(s->cache, &k, user_id);
    if (nx) {
        rst_cache_add(s->cache, &k, v, (size_t)n, CART_VERSION_TTL_S);
        return;
    }
    /* After a write: through an open breaker too, or another worker could
     * serve the copy this version retires. */
    rst_cmd cmd;
    rst_cmd_set(&cmd, &k, v, (size_t)n, CART_VERSION_TTL_S, 0);
    rst_cache_write_cmd(s->cache, &cmd);
}

/* After a committed write: every cached copy is stale from now on. */
static void cart_changed(rst_services *s, uint64_t user_id)
{
    set_version(s, user_id, 0);
}

/* "<version>\n" then "id product quantity saved created updated\n" an item. */
static void cache_items(rst_services *s, uint64_t user_id, uint64_t version,
                        const rst_cart_item *items, int n)
{
    rst_buf b;
    rst_key k;
    rst_buf_init(&b);
    rst_buf_printf(&b, "%llu\n", (unsigned long long)version);
    for (int i = 0; i < n; i++) {
        const rst_cart_item *it = &items[i];
        rst_json_u64(&b, it->id);
        rst_buf_putc(&b, ' ');
        rst_json_u64(&b, it->product_id);
        rst_buf_putc(&b, ' ');
        rst_json_u64(&b, (uint64_t)it->quantity);
        rst_buf_puts(&b, it->saved ? " 1 " : " 0 ");
        rst_json_u64(&b, it->created_ms);
        rst_buf_putc(&b, ' ');
        rst_json_u64(&b, it->updated_ms);
        rst_buf_putc(&b, '\n');
    }
    rst_key_cart(s->cache, &k, user_id);
    if (!b.oom)
        rst_cache_set(s->cache, &k, b.data, b.len, CART_CACHE_TTL_S);
    rst_buf_free(&b);
}

/* Reads n numbers separated by one space and ended by `last`. */
static const char *read_numbers(const char *p, uint64_t *v, int n, char last)
{
    for (int i = 0; i < n; i++) {
        size_t len = rst_parse_u64(p, &v[i]);
        if (len == 0 || p[len] != (i == n - 1 ? last : ' '))
            return NULL;
        p += len + 1;
    }
    return p;
}

/* Parses a cached copy stamped `version`; -1 when it is another version or
 * unreadable (a miss). */
static int items_from_cache(rst_arena *a, const char *v, size_t len, uint64_t version,
                            uint64_t user_id, rst_cart *out)
{
    uint64_t stamp;
    const char *p = read_numbers(v, &stamp, 1, '\n'), *end = v + len;
    if (p == NULL || stamp != version)
        return -1;
    int n = 0;
    for (const char *q = p; q < end; q++)
        n += *q == '\n';
    if (n > RST_CART_MAX_ITEMS * 5)
        return -1;
    out->items = rst_arena_alloc(a, sizeof(rst_cart_item) * (size_t)(n + 1));
    if (out->items == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        uint64_t f[6];
        if ((p = read_numbers(p, f, 6, '\n')) == NULL || f[2] > RST_CART_MAX_QUANTITY || f[3] > 1)
            return -1;
        out->items[i] = (rst_cart_item){ .id = f[0], .user_id = user_id, .product_id = f[1],
                                         .quantity = (int)f[2], .saved = (int)f[3],
                                         .created_ms = f[4], .updated_ms = f[5] };
    }
    out->n = n;
    return p == end ? 0 : -1;
}

/* One round trip for the version and the copy. 1 on a hit (out filled);
 * 0 on a miss with *version the one to stamp a new copy with (0: none
 * yet, do not cache). */
static int cached_items(rst_services *s, rst_arena *a, uint64_t user_id, rst_cart *out,
                        uint64_t *version)
{
    rst_key vk, ck;
    rst_cmd gv, gc;
    rst_batch b;
    *version = 0;
    rst_key_cart_version(s->cache, &vk, user_id);
    rst_key_cart(s->cache, &ck, user_id);
    rst_cmd_init(&gv, "GET");
    rst_cmd_key(&gv, &vk);
    rst_cmd_init(&gc, "GET");
    rst_cmd_key(&gc, &ck);
    if (rst_batch_begin(&b, s->cache) != 0)
        return 0;
    rst_batch_add(&b, &gv);
    rst_batch_add(&b, &gc);
    redisReply *rv = rst_batch_next(&b), *rc = rst_batch_next(&b);
    rst_batch_end(&b);
    int hit = 0;
    if (rv != NULL && rv->type == REDIS_REPLY_STRING &&
        rst_parse_u64(rv->str, version) == rv->len && *version != 0) {
        hit = rc != NULL && rc->type == REDIS_REPLY_STRING &&
              items_from_cache(a, rc->str, rc->len, *version, user_id, out) == 0;
    } else if (rv != NULL && rv->type == REDIS_REPLY_NIL) {
        set_version(s, user_id, 1);      /* the next reader may cache */
        *version = 0;
    } else {
        *version = 0;
    }
    if (rv != NULL)
        freeReplyObject(rv);
    if (rc != NULL)
        freeReplyObject(rc);
    return hit;
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

static rst_err items_from_db(rst_services *s, rst_arena *a, uint64_t user_id, rst_cart *out)
{
    rst_db *db;
    rst_err err = rst_shard_of(s, user_id, RST_REPLICA, &db);
    if (err != RST_OK)
        return err;
    rst_param p[1] = { rst_p_u64(user_id) };
    rst_rows rows;
    rst_db_rc rc = rst_db_query(db, a, SQL_LIST, p, 1, ITEM_COLS, &rows);
    if (rc != RST_DB_OK)
        return rst_store_fail(db, rc, "cart list");
    out->n = rows.nrows;
    out->items = rst_arena_alloc(a, sizeof(rst_cart_item) * (size_t)(rows.nrows + 1));
    if (out->items == NULL)
        return RST_E_INTERNAL;
    for (int i = 0; i < rows.nrows; i++)
        row_to_item(rst_row(&rows, i), &out->items[i]);
    return RST_OK;
}

rst_err rst_cart_list(rst_services *s, rst_arena *a, uint64_t user_id, rst_cart *out)
{
    uint64_t version;
    memset(out, 0, sizeof(*out));
    if (!cached_items(s, a, user_id, out, &version)) {
        rst_err err = items_from_db(s, a, user_id, out);
        if (err != RST_OK)
            return err;
        if (version != 0)
            cache_items(s, user_id, version, out->items, out->n);
    }
    if (out->n == 0)
        return RST_OK;
    out->products = rst_arena_alloc(a, sizeof(rst_product_brief) * (size_t)out->n);
    uint64_t *ids = rst_arena_alloc(a, sizeof(uint64_t) * (size_t)out->n);
    if (out->products == NULL || ids == NULL)
        return RST_E_INTERNAL;
    for (int i = 0; i < out->n; i++)
        ids[i] = out->items[i].product_id;
    rst_err err = rst_products_brief(s, a, ids, out->n, out->products);
    if (err == RST_OK)
        add_totals(out);
    return err;
}

/* The item row alone. */
static rst_err item_by_id(rst_services *s, rst_arena *a, uint64_t item_id, rst_cart_item *item)
{
    const rst_value *row;
    rst_err err = rst_shard_row(s, a, item_id, RST_REPLICA, SQL_BY_ID, ITEM_COLS, "cart item get", &row);
    if (err == RST_OK)
        row_to_item(row, item);
    return err;
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
 * and *stamp (the updated_at it writes) set, and *written the item as the
 * write leaves it; or the error (the caller rolls back). */
static rst_err add_locked(rst_services *s, rst_db *db, rst_arena *a, uint64_t user_id,
                          uint64_t product_id, int quantity, int state, uint64_t *item_id,
                          uint64_t *stamp, int *created, rst_cart_item *written, rst_why *why)
{
    uint64_t now = rst_time_now_ms(), count;
    *stamp = now;
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
        *written = old;
        written->quantity += quantity;
        if (state >= 0)
            written->saved = state > 0;
        written->updated_ms = now;
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
    *written = (rst_cart_item){ .id = *item_id, .user_id = user_id, .product_id = product_id,
                                .quantity = quantity, .saved = state > 0, .created_ms = now,
                                .updated_ms = now };
    return rc == RST_DB_OK ? RST_OK : rst_store_fail(db, rc, "cart add");
}

rst_err rst_cart_add(rst_services *s, rst_arena *a, uint64_t user_id, uint64_t product_id,
                     int quantity, int state, rst_cart_item *out, int *created, rst_why *why)
{
    rst_db *db;
    rst_err err = rst_shard_of(s, user_id, RST_WRITER, &db);
    if (err != RST_OK)
        return err;
    rst_db_rc rc = rst_db_begin(db);
    if (rc != RST_DB_OK)
        return rst_store_fail(db, rc, "cart add: begin");
    uint64_t item_id = 0, stamp = 0;
    rst_cart_item written;
    err = add_locked(s, db, a, user_id, product_id, quantity, state, &item_id, &stamp, created,
                     &written, why);
    if (err == RST_OK && (rc = rst_db_commit(db)) == RST_DB_UNKNOWN) {
        /* The write stamped the item with its own updated_at. */
        rst_param probe[2] = { rst_p_u64(item_id), rst_p_time(stamp) };
        cart_changed(s, user_id);           /* whatever the probe says */
        if (rst_store_outcome(db, SQL_PROBE, probe, 2, "cart add") != RST_OK)
            return RST_E_UNAVAILABLE;       /* not applied, or still unknown: retry */
        if (item_by_id(s, a, item_id, out) != RST_OK)
            *out = written;                 /* applied: say so, as below */
        return RST_OK;
    }
    if (err == RST_OK && rc != RST_DB_OK)
        err = rst_store_fail(db, rc, "cart add: commit");
    if (err != RST_OK) {
        rst_db_rollback(db);
        return err;
    }
    cart_changed(s, user_id);
    /* Committed: the answer must say so. Read back (the row as stored),
     * or, when the server went away right after the commit, from what the
     * write set -- a 502 here would make the client add it again. */
    if (item_by_id(s, a, item_id, out) != RST_OK)
        *out = written;
    return RST_OK;
}

/* ------------------------------------------------------------ change */

rst_err rst_cart_update(rst_services *s, rst_arena *a, const rst_cart_item *item, int quantity,
                        int state, rst_cart_item *out)
{
    uint64_t item_id = item->id;
    rst_db *db;
    rst_err err = rst_shard_of(s, item_id, RST_WRITER, &db);
    if (err != RST_OK)
        return err;
    rst_param keep = { .type = RST_P_NULL };
    rst_param p[4] = { quantity > 0 ? rst_p_i64(quantity) : keep, state_param(state),
                       rst_p_time(rst_time_now_ms()), rst_p_u64(item_id) };
    uint64_t matched = 0;
    rst_db_rc rc = rst_db_exec(db, SQL_UPDATE, p, 4, &matched);
    cart_changed(s, item->user_id);          /* even when its outcome is unknown */
    if (rc != RST_DB_OK)
        return rst_store_fail(db, rc, "cart update");
    if (matched == 0)
        return RST_E_NOT_FOUND;
    return item_by_id(s, a, item_id, out);
}

rst_err rst_cart_remove(rst_services *s, const rst_cart_item *item)
{
    uint64_t item_id = item->id;
    rst_db *db;
    rst_err err = rst_shard_of(s, item_id, RST_WRITER, &db);
    if (err != RST_OK)
        return err;
    rst_param p[1] = { rst_p_u64(item_id) };
    uint64_t matched = 0;
    rst_db_rc rc = rst_db_exec(db, SQL_DELETE, p, 1, &matched);
    cart_changed(s, item->user_id);          /* even when its outcome is unknown */
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
