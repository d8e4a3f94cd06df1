/* products.c -- product reads through Redis, falling back to the catalog. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/num.h"
#include "http/page.h"
#include "core/timefmt.h"
#include "domain/products.h"

#define PRODUCT_COLS "USUSSSTT"
#define PRODUCT_SELECT \
    "SELECT id, name, price, img, description, state, created_at, updated_at FROM products "

static const char SQL_GET[] = PRODUCT_SELECT "WHERE id = ?";
static const char SQL_LIST_AFTER[] = PRODUCT_SELECT "WHERE id > ? ORDER BY id LIMIT ?";
static const char SQL_LIST_OFFSET[] = PRODUCT_SELECT "ORDER BY id LIMIT ? OFFSET ?";
static const char SQL_INSERT[] =
    "INSERT INTO products (id, name, price, img, description, state, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
/* COALESCE keeps a column whose parameter is NULL (field not sent). */
static const char SQL_UPDATE[] =
    "UPDATE products SET name = COALESCE(?, name), price = COALESCE(?, price), "
    "img = COALESCE(?, img), description = COALESCE(?, description), "
    "state = COALESCE(?, state), updated_at = ? WHERE id = ?";

static void product_json(rst_buf *b, const rst_value *row)
{
    rst_buf_putc(b, '{');
    rst_json_key(b, "id");          rst_json_id(b, row[0].u);
    rst_buf_putc(b, ',');
    rst_json_key(b, "name");        rst_json_strn(b, row[1].s, row[1].len);
    rst_buf_putc(b, ',');
    rst_json_key(b, "price");       rst_json_u64(b, row[2].u);
    rst_buf_putc(b, ',');
    rst_json_key(b, "img");         rst_json_strn(b, row[3].s, row[3].len);
    rst_buf_putc(b, ',');
    rst_json_key(b, "description"); rst_json_strn(b, row[4].s, row[4].len);
    rst_buf_putc(b, ',');
    rst_json_key(b, "state");       rst_json_strn(b, row[5].s, row[5].len);
    rst_buf_putc(b, ',');
    rst_json_key(b, "created_at");  rst_json_time(b, row[6].u);
    rst_buf_putc(b, ',');
    rst_json_key(b, "updated_at");  rst_json_time(b, row[7].u);
    rst_buf_putc(b, '}');
}

/* Copies a finished buffer into the arena, so the caller owns nothing. */
static rst_err buf_to_arena(rst_buf *b, rst_arena *a, const char **out, size_t *len)
{
    if (b->oom)
        return RST_E_INTERNAL;
    char *p = rst_arena_strndup(a, b->data ? b->data : "", b->len);
    if (p == NULL)
        return RST_E_INTERNAL;
    *out = p;
    *len = b->len;
    return RST_OK;
}

/* Reads the product from the catalog and serialises it into the arena. */
static rst_err product_from_db(rst_services *s, rst_arena *a, uint64_t id,
                               const char **json, size_t *len)
{
    rst_param p[1] = { rst_p_u64(id) };
    rst_rows rows;
    rst_db_rc rc = rst_db_query(s->catalog, a, SQL_GET, p, 1, PRODUCT_COLS, &rows);
    if (rc != RST_DB_OK)
        return rst_store_fail(s->catalog, rc, "product get");
    if (rows.nrows == 0)
        return RST_E_NOT_FOUND;
    rst_buf b;
    rst_buf_init(&b);
    product_json(&b, rst_row(&rows, 0));
    rst_err err = buf_to_arena(&b, a, json, len);
    rst_buf_free(&b);
    return err;
}

rst_err rst_product_get_json(rst_services *s, rst_arena *a, uint64_t id,
                             const char **json, size_t *len)
{
    char *hit;
    rst_key k;
    rst_key_product(s->cache, &k, id);
    if (rst_cache_get(s->cache, a, &k, &hit, len) == 1 && hit[0] == '{') {
        *json = hit;
        return RST_OK;
    }
    rst_err err = product_from_db(s, a, id, json, len);
    if (err == RST_OK)
        rst_cache_add(s->cache, &k, *json, *len, s->cfg->cache_ttl);
    return err;
}

/* ---------------------------------------------------------------- lists */

/* Cached page layout: "<has_more 0|1> <last_id> <count> <items json>".
 * Anything else -- a foreign or corrupt value -- is a miss. */
static int page_from_cache(const char *v, size_t len, rst_product_page *out)
{
    uint64_t last, count;
    size_t n, at = 2;
    if (len < 2 || (v[0] != '0' && v[0] != '1') || v[1] != ' ')
        return -1;
    if ((n = rst_parse_u64(v + at, &last)) == 0 || v[at + n] != ' ')
        return -1;
    at += n + 1;
    if ((n = rst_parse_u64(v + at, &count)) == 0 || count > RST_PAGE_LIMIT_MAX ||
        v[at + n] != ' ' || v[at + n + 1] != '[')
        return -1;
    at += n + 1;
    out->has_more = v[0] == '1';
    out->last_id = last;
    out->count = (int)count;
    out->items_json = v + at;
    out->items_len = len - at;
    return 0;
}

/* The generation is a decimal counter; an unreadable one counts as none. */
static void page_cache_key(rst_services *s, rst_arena *a, uint64_t after_id, int offset,
                           int limit, rst_key *k)
{
    char *gen = NULL;
    size_t glen;
    uint64_t g;
    rst_key gk;
    rst_key_catalog_gen(s->cache, &gk);
    if (rst_cache_get(s->cache, a, &gk, &gen, &glen) != 1 || rst_parse_u64(gen, &g) != glen)
        gen = "0";
    rst_key_products_page(s->cache, k, gen, after_id, offset, limit);
}

static rst_err page_from_db(rst_services *s, rst_arena *a, uint64_t after_id, int offset,
                            int limit, rst_product_page *out)
{
    rst_rows rows;
    rst_db_rc rc;
    if (after_id != 0) {
        rst_param p[2] = { rst_p_u64(after_id), rst_p_i64(limit + 1) };
        rc = rst_db_query(s->catalog, a, SQL_LIST_AFTER, p, 2, PRODUCT_COLS, &rows);
    } else {
        rst_param p[2] = { rst_p_i64(limit + 1), rst_p_i64(offset) };
        rc = rst_db_query(s->catalog, a, SQL_LIST_OFFSET, p, 2, PRODUCT_COLS, &rows);
    }
    if (rc != RST_DB_OK)
        return rst_store_fail(s->catalog, rc, "product list");
    int n = rows.nrows > limit ? limit : rows.nrows;
    rst_buf b;
    rst_buf_init(&b);
    rst_buf_putc(&b, '[');
    for (int i = 0; i < n; i++) {
        if (i > 0)
            rst_buf_putc(&b, ',');
        product_json(&b, rst_row(&rows, i));
    }
    rst_buf_putc(&b, ']');
    out->count = n;
    out->has_more = rows.nrows > limit;
    out->last_id = n > 0 ? rst_row(&rows, n - 1)[0].u : 0;
    rst_err err = buf_to_arena(&b, a, &out->items_json, &out->items_len);
    rst_buf_free(&b);
    return err;
}

static void page_to_cache(rst_services *s, const rst_key *k, const rst_product_page *p)
{
    rst_buf b;
    rst_buf_init(&b);
    rst_buf_printf(&b, "%d %" PRIu64 " %d ", p->has_more ? 1 : 0, p->last_id, p->count);
    rst_buf_append(&b, p->items_json, p->items_len);
    if (!b.oom)
        rst_cache_add(s->cache, k, b.data, b.len, s->cfg->cache_ttl);
    rst_buf_free(&b);
}

rst_err rst_products_list(rst_services *s, rst_arena *a, uint64_t after_id,
                          int offset, int limit, rst_product_page *out)
{
    rst_key k;
    page_cache_key(s, a, after_id, offset, limit, &k);
    char *hit;
    size_t len;
    if (rst_cache_get(s->cache, a, &k, &hit, &len) == 1 && page_from_cache(hit, len, out) == 0)
        return RST_OK;
    rst_err err = page_from_db(s, a, after_id, offset, limit, out);
    if (err == RST_OK)
        page_to_cache(s, &k, out);
    return err;
}

/* ---------------------------------------------------------------- writes */

/* Every cached list page is keyed by the catalog generation: bumping it
 * retires them all at once. The product's own key is deleted. */
static rst_err publish(rst_services *s, rst_arena *a, uint64_t id, const char **json, size_t *len)
{
    rst_key k;
    rst_key_product(s->cache, &k, id);
    rst_err err = product_from_db(s, a, id, json, len);
    if (err != RST_OK || rst_cache_set(s->cache, &k, *json, *len, s->cfg->cache_ttl) != 0)
        rst_cache_del(s->cache, &k);    /* could not write the fresh value: no old one stays */
    rst_products_retire_pages(s);
    return err;
}

void rst_products_retire_pages(rst_services *s)
{
    long long gen;
    rst_key k;
    rst_key_catalog_gen(s->cache, &k);
    rst_cache_incr(s->cache, &k, &gen);
}

static rst_param opt_str(int has, const char *v)
{
    rst_param p = { .type = RST_P_NULL };
    return has ? rst_p_str(v) : p;
}

rst_err rst_product_create(rst_services *s, rst_arena *a, const rst_product_input *in,
                           uint64_t *id, const char **json, size_t *len, rst_why *why)
{
    uint64_t now = rst_time_now_ms();
    *id = rst_idgen_next(&s->ids, 0);
    rst_param p[8] = {
        rst_p_u64(*id), rst_p_str(in->name), rst_p_i64(in->price),
        rst_p_str(in->has_img ? in->img : ""),
        rst_p_str(in->has_description ? in->description : ""),
        rst_p_str(!in->has_state || in->active ? "active" : "inactive"),
        rst_p_time(now), rst_p_time(now)
    };
    rst_db_rc rc = rst_db_exec(s->catalog, SQL_INSERT, p, 8, NULL);
    if (rc == RST_DB_DUP)
        return rst_fail(why, RST_E_CONFLICT, "name", "a product with this name exists");
    if (rc != RST_DB_OK)
        return rst_store_fail(s->catalog, rc, "product create");
    return publish(s, a, *id, json, len);
}

rst_err rst_product_update(rst_services *s, rst_arena *a, uint64_t id,
                           const rst_product_input *in, const char **json, size_t *len,
                           rst_why *why)
{
    rst_param price = { .type = RST_P_NULL };
    if (in->has_price)
        price = rst_p_i64(in->price);
    rst_param p[7] = {
        opt_str(in->has_name, in->name), price, opt_str(in->has_img, in->img),
        opt_str(in->has_description, in->description),
        opt_str(in->has_state, in->active ? "active" : "inactive"),
        rst_p_time(rst_time_now_ms()), rst_p_u64(id)
    };
    uint64_t matched = 0;
    rst_db_rc rc = rst_db_exec(s->catalog, SQL_UPDATE, p, 7, &matched);
    if (rc == RST_DB_DUP)
        return rst_fail(why, RST_E_CONFLICT, "name", "a product with this name exists");
    if (rc != RST_DB_OK)
        return rst_store_fail(s->catalog, rc, "product update");
    if (matched == 0)
        return RST_E_NOT_FOUND;
    return publish(s, a, id, json, len);
}
