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
static const char SQL_EXISTS[] = "SELECT id FROM products WHERE id = ?";
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
    rst_db *db = rst_catalog(s, RST_REPLICA);
    rst_db_rc rc = rst_db_query(db, a, SQL_GET, p, 1, PRODUCT_COLS, &rows);
    if (rc != RST_DB_OK)
        return rst_store_fail(db, rc, "product get");
    if (rows.nrows == 0)
        return RST_E_NOT_FOUND;
    rst_buf b;
    rst_buf_init(&b);
    product_json(&b, rst_row(&rows, 0));
    rst_err err = buf_to_arena(&b, a, json, len);
    rst_buf_free(&b);
    return err;
}

rst_err rst_product_get_json(rst_services *s, rst_arena *a, uint64_t id, int hot_ok,
                             const char **json, size_t *len)
{
    char *hit;
    rst_key k;
    rst_key_product(s->cache, &k, id);
    if (hot_ok && rst_hot_read(s, a, &k, json, len))
        return RST_OK;
    rst_hot_time asked;
    rst_hot_clock(&asked);
    if (rst_cache_get(s->cache, a, &k, &hit, len) == 1 && hit[0] == '{') {
        *json = hit;
        if (hot_ok)
            rst_hot_keep(s, &k, hit, *len, &asked);
        return RST_OK;
    }
    rst_err err = product_from_db(s, a, id, json, len);
    if (err == RST_OK)
        rst_cache_add(s->cache, &k, *json, *len, s->cfg->cache_ttl);
    return err;
}

/* ---------------------------------------------------------------- briefs */

/* A reader for the product objects this file writes (product_json):
 * walks the top-level members and notes where each value's JSON text is,
 * so a brief copies the name and img as they are, escapes and all, instead
 * of a full JSON parse and a re-escape (which cost more than the rest of a
 * cart). Anything unexpected makes the value unreadable: a miss. */
typedef struct {
    const char *p, *end;
} scan;

static void skip_ws(scan *sc)
{
    while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\n' || *sc->p == '\t' || *sc->p == '\r'))
        sc->p++;
}

/* A string token at sc->p: its span (quotes included), or -1. The
 * closing quote is the first one after an even run of backslashes. */
static int scan_string(scan *sc, const char **start, size_t *len)
{
    const char *q = sc->p;
    if (q >= sc->end || *q != '"')
        return -1;
    for (q++;; q++) {
        q = memchr(q, '"', (size_t)(sc->end - q));
        if (q == NULL)
            return -1;
        const char *b = q;
        while (b > sc->p + 1 && b[-1] == '\\')
            b--;
        if ((q - b) % 2 == 0)
            break;
    }
    *start = sc->p;
    *len = (size_t)(q + 1 - sc->p);
    sc->p = q + 1;
    return 0;
}

/* Any other scalar (a number, true, false, null): up to , or }. */
static int scan_scalar(scan *sc, const char **start, size_t *len)
{
    const char *q = sc->p;
    while (q < sc->end && *q != ',' && *q != '}' && *q != ' ')
        q++;
    if (q == sc->p)
        return -1;
    *start = sc->p;
    *len = (size_t)(q - sc->p);
    sc->p = q;
    return 0;
}

static int span_is(const char *s, size_t n, const char *lit)
{
    return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

static int brief_from_json(const char *json, size_t len, rst_product_brief *out)
{
    scan sc = { json, json + len };
    const char *price = NULL, *state = NULL;
    size_t price_len = 0, state_len = 0;
    out->name_json = out->img_json = NULL;
    skip_ws(&sc);
    if (sc.p >= sc.end || *sc.p++ != '{')
        return -1;
    for (;;) {
        const char *k, *v;
        size_t klen, vlen;
        skip_ws(&sc);
        if (scan_string(&sc, &k, &klen) != 0)
            return -1;
        skip_ws(&sc);
        if (sc.p >= sc.end || *sc.p++ != ':')
            return -1;
        skip_ws(&sc);
        int str = sc.p < sc.end && *sc.p == '"';
        if ((str ? scan_string(&sc, &v, &vlen) : scan_scalar(&sc, &v, &vlen)) != 0)
            return -1;
        if (str && span_is(k, klen, "\"name\""))
            out->name_json = v, out->name_len = vlen;
        else if (str && span_is(k, klen, "\"img\""))
            out->img_json = v, out->img_len = vlen;
        else if (str && span_is(k, klen, "\"state\""))
            state = v, state_len = vlen;
        else if (!str && span_is(k, klen, "\"price\""))
            price = v, price_len = vlen;
        skip_ws(&sc);
        if (sc.p < sc.end && *sc.p == ',') {
            sc.p++;
            continue;
        }
        if (sc.p < sc.end && *sc.p == '}')
            break;
        return -1;
    }
    uint64_t pr;
    if (out->name_json == NULL || out->img_json == NULL || price == NULL || state == NULL ||
        rst_parse_u64(price, &pr) != price_len || pr > 100000000)
        return -1;
    if (!span_is(state, state_len, "\"active\"") && !span_is(state, state_len, "\"inactive\""))
        return -1;
    out->price = (int64_t)pr;
    out->active = state_len == 8;
    out->found = 1;
    return 0;
}

/* A string as JSON text in the arena (quotes included). */
static const char *json_text(rst_arena *a, const char *s, size_t n, size_t *len)
{
    rst_buf b;
    rst_buf_init(&b);
    rst_json_strn(&b, s, n);
    const char *copy = b.oom ? NULL : rst_arena_strndup(a, b.data, b.len);
    *len = b.len;
    rst_buf_free(&b);
    return copy;
}

static int brief_from_row(rst_arena *a, const rst_value *row, rst_product_brief *out)
{
    out->name_json = json_text(a, row[1].s, row[1].len, &out->name_len);
    out->img_json = json_text(a, row[3].s, row[3].len, &out->img_len);
    out->price = (int64_t)row[2].u;
    out->active = strcmp(row[5].s, "active") == 0;
    out->found = out->name_json != NULL && out->img_json != NULL;
    return out->found ? 0 : -1;
}

/* The IN list of SQL_BRIEFS is padded to a power of two (with id 0, which
 * no product has), so at most nine texts ever reach the statement cache. */
static int in_list_size(int n)
{
    int size = 1;
    while (size < n)
        size *= 2;
    return size;
}

static char *briefs_sql(rst_arena *a, int size)
{
    static const char head[] = PRODUCT_SELECT "WHERE id IN (";
    char *sql = rst_arena_alloc(a, sizeof(head) + (size_t)size * 2 + 1);
    if (sql == NULL)
        return NULL;
    char *p = sql + sizeof(head) - 1;
    memcpy(sql, head, sizeof(head) - 1);
    for (int i = 0; i < size; i++) {
        *p++ = i ? ',' : '?';
        if (i)
            *p++ = '?';
    }
    *p++ = ')';
    *p = '\0';
    return sql;
}

/* Caches what the catalog gave, in one pipeline (SET NX: a reader never
 * replaces a writer's fresher value). */
static void cache_rows(rst_services *s, rst_arena *a, const rst_rows *rows)
{
    rst_batch b;
    if (rows->nrows == 0 || rst_batch_begin(&b, s->cache) != 0)
        return;
    for (int r = 0; r < rows->nrows; r++) {
        rst_buf json;
        rst_key k;
        rst_cmd cmd;
        rst_buf_init(&json);
        product_json(&json, rst_row(rows, r));
        const char *copy = json.oom ? NULL : rst_arena_strndup(a, json.data, json.len);
        size_t len = json.len;
        rst_buf_free(&json);
        if (copy == NULL)
            continue;
        rst_key_product(s->cache, &k, rst_row(rows, r)[0].u);
        rst_cmd_init(&cmd, "SET");
        rst_cmd_key(&cmd, &k);
        rst_cmd_str(&cmd, copy, len);
        rst_cmd_str(&cmd, "EX", 2);
        rst_cmd_int(&cmd, s->cfg->cache_ttl > 0 ? s->cfg->cache_ttl : 86400);
        rst_cmd_str(&cmd, "NX", 2);
        rst_batch_add(&b, &cmd);
    }
    rst_batch_end(&b);
}

/* One catalog query for every id whose brief is still missing. */
static rst_err briefs_from_db(rst_services *s, rst_arena *a, const uint64_t *ids, int n,
                              rst_product_brief *out)
{
    int missing = 0;
    for (int i = 0; i < n; i++)
        missing += !out[i].found;
    if (missing == 0)
        return RST_OK;
    int size = in_list_size(missing);
    char *sql = briefs_sql(a, size);
    rst_param *p = rst_arena_calloc(a, sizeof(rst_param) * (size_t)size);
    if (sql == NULL || p == NULL)
        return RST_E_INTERNAL;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!out[i].found)
            p[k++] = rst_p_u64(ids[i]);
    while (k < size)
        p[k++] = rst_p_u64(0);
    rst_rows rows;
    rst_db *db = rst_catalog(s, RST_REPLICA);
    rst_db_rc rc = rst_db_query(db, a, sql, p, size, PRODUCT_COLS, &rows);
    if (rc != RST_DB_OK)
        return rst_store_fail(db, rc, "product briefs");
    for (int r = 0; r < rows.nrows; r++)
        for (int i = 0; i < n; i++)
            if (!out[i].found && ids[i] == rst_row(&rows, r)[0].u &&
                brief_from_row(a, rst_row(&rows, r), &out[i]) != 0)
                return RST_E_INTERNAL;
    cache_rows(s, a, &rows);
    return RST_OK;
}

rst_err rst_products_brief(rst_services *s, rst_arena *a, const uint64_t *ids, int n,
                           rst_product_brief *out)
{
    if (n <= 0)
        return RST_OK;
    rst_key *keys = rst_arena_alloc(a, sizeof(rst_key) * (size_t)n);
    char **vals = rst_arena_alloc(a, sizeof(char *) * (size_t)n);
    size_t *lens = rst_arena_alloc(a, sizeof(size_t) * (size_t)n);
    if (keys == NULL || vals == NULL || lens == NULL)
        return RST_E_INTERNAL;
    for (int i = 0; i < n; i++) {
        out[i] = (rst_product_brief){ .id = ids[i] };
        rst_key_product(s->cache, &keys[i], ids[i]);
    }
    if (rst_cache_mget(s->cache, a, keys, n, vals, lens) > 0)
        for (int i = 0; i < n; i++)
            if (vals[i] != NULL && brief_from_json(vals[i], lens[i], &out[i]) != 0)
                out[i] = (rst_product_brief){ .id = ids[i] };
    return briefs_from_db(s, a, ids, n, out);
}

void rst_product_brief_json(rst_buf *b, const rst_product_brief *p)
{
    if (!p->found) {
        rst_buf_puts(b, "null");
        return;
    }
    rst_buf_puts(b, "{\"id\":");
    rst_json_id(b, p->id);
    rst_buf_puts(b, ",\"name\":");
    rst_buf_append(b, p->name_json, p->name_len);
    rst_buf_puts(b, ",\"price\":");
    rst_json_i64(b, p->price);
    rst_buf_puts(b, ",\"img\":");
    rst_buf_append(b, p->img_json, p->img_len);
    rst_buf_puts(b, p->active ? ",\"state\":\"active\"}" : ",\"state\":\"inactive\"}");
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
    rst_hot_forget(s, &k);                    /* this worker's reads see the write at once */
    rst_err err = product_from_db(s, a, id, json, len);
    rst_cmd cmd;
    if (err == RST_OK)
        rst_cmd_set(&cmd, &k, *json, *len, s->cfg->cache_ttl, 0);
    if (err != RST_OK || rst_cache_write_cmd(s->cache, &cmd) != 0) {
        rst_cmd_init(&cmd, "DEL");          /* no fresh value: no old one may stay */
        rst_cmd_key(&cmd, &k);
        rst_cache_write_cmd(s->cache, &cmd);
    }
    rst_products_retire_pages(s);
    return err;
}

/* Through an open breaker too (rst_cache_write): another worker may be
 * serving the pages this write retires. */
void rst_products_retire_pages(rst_services *s)
{
    rst_key k;
    rst_cmd cmd;
    rst_key_catalog_gen(s->cache, &k);
    rst_cmd_init(&cmd, "INCR");
    rst_cmd_key(&cmd, &k);
    rst_cache_write_cmd(s->cache, &cmd);
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
    if (rc == RST_DB_UNKNOWN) {
        rst_param probe[1] = { rst_p_u64(*id) };
        if (rst_store_outcome(s->catalog, SQL_EXISTS, probe, 1, "product create") != RST_OK)
            return RST_E_UNAVAILABLE;       /* not applied, or still unknown: retry */
    } else if (rc != RST_DB_OK) {
        return rst_store_fail(s->catalog, rc, "product create");
    }
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
