/* test_carts.c -- API.md §4 through nginx: every row, the authorization
 * matrix of the five endpoints, merges and the 200-item cap under
 * concurrent adds, totals over saved items and inactive products, caching
 * headers, idempotent adds, and (last) a shard or Redis stopped. */
#include <check.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "accounts.h"
#include "client.h"
#include "core/ids.h"
#include "store/shardmap.h"
#include "suites.h"

#define POOL 240                     /* products made once for every test */

static char admin_tok[ACCT_TOKLEN];
static char pool[POOL][ACCT_IDLEN];  /* active products, price 100 + i */
static int pool_next;

/* ------------------------------------------------------------ fixtures */

/* A product made by the admin; its id into id. 0 on success. */
static int make_product(const char *prefix, int price, const char *state, char id[ACCT_IDLEN])
{
    char name[64], body[256];
    api_resp r;
    acct_unique_name(name, sizeof(name), prefix);
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":%d,\"img\":\"https://i/%s.png\","
             "\"state\":\"%s\"}", name, price, name, state);
    if (acct_req(&r, "POST", "/products", body, admin_tok, NULL) != 0)
        return -1;
    int ok = r.status == 201 && api_json_str(&r, "product.id") != NULL;
    if (ok)
        snprintf(id, ACCT_IDLEN, "%s", api_json_str(&r, "product.id"));
    else
        fprintf(stderr, "test_carts: product: %ld %s\n", r.status, r.body);
    api_free(&r);
    return ok ? 0 : -1;
}

static void admin_setup(void)
{
    char name[ACCT_NAMELEN];
    acct_make_admin("cadm", name, NULL, admin_tok);
}

static void carts_setup(void)
{
    admin_setup();
    for (int i = 0; admin_tok[0] && i < POOL; i++)
        if (make_product("CartP", 100 + i, "active", pool[i]) != 0)
            return;
}

/* A product of the pool no earlier test of this process has used. Tests
 * run in forked children, so each starts at the pool's head again: tests
 * that change a product make their own. */
static const char *fresh_product(int *price)
{
    ck_assert_msg(admin_tok[0] && pool[POOL - 1][0], "the fixture could not make the products");
    ck_assert_int_lt(pool_next, POOL);
    if (price)
        *price = 100 + pool_next;
    return pool[pool_next++];
}

/* ------------------------------------------------------------ requests */

static void cart_path(char *out, size_t len, const char *uid)
{
    snprintf(out, len, "/addToCars/%s", uid);
}

static void item_path(char *out, size_t len, const char *item)
{
    snprintf(out, len, "/addToCar/%s", item);
}

/* POST an add; the answer in r (free it). */
static void add(api_resp *r, const char *uid, const char *body, const char *tok)
{
    char path[64];
    cart_path(path, sizeof(path), uid);
    api_ok(acct_req(r, "POST", path, body, tok, NULL));
}

/* Adds quantity of product to uid's cart (201 or 200 asserted); the item
 * id into item (may be NULL). */
static void add_ok(const char *uid, const char *product, int quantity, const char *tok,
                   char item[ACCT_IDLEN])
{
    char body[128];
    api_resp r;
    snprintf(body, sizeof(body), "{\"product_id\":\"%s\",\"quantity\":%d}", product, quantity);
    add(&r, uid, body, tok);
    ck_assert_msg(r.status == 201 || r.status == 200, "add: %ld %s", r.status, r.body);
    if (item)
        acct_copy_str(item, ACCT_IDLEN, api_json_str(&r, "item.id"));
    api_free(&r);
}

static long status_of(const char *method, const char *path, const char *body, const char *tok)
{
    api_resp r;
    api_ok(acct_req(&r, method, path, body, tok, NULL));
    long st = r.status;
    api_free(&r);
    return st;
}

static long long num_at(const api_resp *r, const char *dotted)
{
    const cJSON *n = api_json_at(r, dotted);
    ck_assert_msg(cJSON_IsNumber(n), "no number at %s: %s", dotted, r->body);
    return (long long)n->valuedouble;
}

static void get_cart(api_resp *r, const char *uid, const char *tok)
{
    char path[64];
    cart_path(path, sizeof(path), uid);
    api_ok(acct_req(r, "GET", path, NULL, tok, NULL));
    ck_assert_msg(r->status == 200, "GET %s: %ld %s", path, r->status, r->body);
}

/* The cart item of API.md §4, with its embedded product. */
static void assert_item_shape(const cJSON *it, const char *uid, const char *product)
{
    static const char *const ids[] = { "id", "user_id", "product_id" };
    for (size_t i = 0; i < 3; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(it, ids[i]);
        ck_assert_msg(cJSON_IsString(v) && api_is_id(v->valuestring), "%s is not an id", ids[i]);
    }
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(it, "user_id")->valuestring, uid);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(it, "product_id")->valuestring, product);
    ck_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(it, "quantity")));
    ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(it, "state")));
    ck_assert(api_is_timestamp(cJSON_GetObjectItemCaseSensitive(it, "created_at")->valuestring));
    ck_assert(api_is_timestamp(cJSON_GetObjectItemCaseSensitive(it, "updated_at")->valuestring));
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(it, "product");
    ck_assert_msg(cJSON_IsObject(p) && cJSON_GetArraySize(p) == 5, "embedded product shape");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(p, "id")->valuestring, product);
    ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(p, "name")));
    ck_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(p, "price")));
    ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(p, "img")));
    ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(p, "state")));
}

/* ------------------------------------------------------------ adds */

START_TEST(add_creates_then_merges)
{
    acct_user u;
    acct_user_new(&u, "ca");
    const char *p = fresh_product(NULL);
    char body[128], loc[96], expect[96], path[64];
    api_resp r;
    snprintf(body, sizeof(body), "{\"product_id\":\"%s\",\"quantity\":2}", p);
    add(&r, u.id, body, u.tok);
    ck_assert_msg(r.status == 201, "add: %ld %s", r.status, r.body);
    assert_item_shape(api_json_at(&r, "item"), u.id, p);
    ck_assert_int_eq(num_at(&r, "item.quantity"), 2);
    ck_assert_str_eq(api_json_str(&r, "item.state"), "active");
    char item[ACCT_IDLEN];
    acct_copy_str(item, sizeof(item), api_json_str(&r, "item.id"));
    snprintf(expect, sizeof(expect), "/addToCar/%s", item);
    ck_assert_ptr_nonnull(api_header(&r, "Location", loc, sizeof(loc)));
    ck_assert_str_eq(loc, expect);
    api_free(&r);
    /* The same product again, its id as a JSON integer: merged, 200. */
    snprintf(body, sizeof(body), "{\"product_id\":%s,\"quantity\":3}", p);
    add(&r, u.id, body, u.tok);
    ck_assert_msg(r.status == 200, "merge: %ld %s", r.status, r.body);
    ck_assert_str_eq(api_json_str(&r, "item.id"), item);
    ck_assert_int_eq(num_at(&r, "item.quantity"), 5);
    ck_assert_ptr_null(api_header(&r, "Location", loc, sizeof(loc)));
    api_free(&r);
    item_path(path, sizeof(path), item);
    api_ok(acct_req(&r, "GET", path, NULL, u.tok, NULL));
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq(num_at(&r, "item.quantity"), 5);
    api_free(&r);
    get_cart(&r, u.id, u.tok);
    ck_assert_int_eq(cJSON_GetArraySize(api_json_at(&r, "items")), 1);
    api_free(&r);
}
END_TEST

START_TEST(add_defaults_and_saved_state)
{
    acct_user u;
    acct_user_new(&u, "cd");
    const char *p1 = fresh_product(NULL), *p2 = fresh_product(NULL);
    char body[128];
    api_resp r;
    snprintf(body, sizeof(body), "{\"product_id\":\"%s\"}", p1);
    add(&r, u.id, body, u.tok);
    ck_assert_int_eq(r.status, 201);
    ck_assert_int_eq(num_at(&r, "item.quantity"), 1);
    ck_assert_str_eq(api_json_str(&r, "item.state"), "active");
    api_free(&r);
    snprintf(body, sizeof(body), "{\"product_id\":\"%s\",\"state\":\"saved\",\"x\":1}", p2);
    add(&r, u.id, body, u.tok);
    ck_assert_int_eq(r.status, 201);
    ck_assert_str_eq(api_json_str(&r, "item.state"), "saved");
    api_free(&r);
}
END_TEST

START_TEST(merge_past_999_changes_nothing)
{
    acct_user u;
    acct_user_new(&u, "cm");
    const char *p = fresh_product(NULL);
    char body[128], item[ACCT_IDLEN], path[64];
    api_resp r;
    add_ok(u.id, p, 990, u.tok, item);
    snprintf(body, sizeof(body), "{\"product_id\":\"%s\",\"quantity\":10}", p);
    add(&r, u.id, body, u.tok);
    acct_assert_fields(&r, ACCT_FIELDS("quantity"));
    api_free(&r);
    item_path(path, sizeof(path), item);
    api_ok(acct_req(&r, "GET", path, NULL, u.tok, NULL));
    ck_assert_int_eq(num_at(&r, "item.quantity"), 990);
    api_free(&r);
    add_ok(u.id, p, 9, u.tok, NULL);             /* exactly 999 is fine */
    api_ok(acct_req(&r, "GET", path, NULL, u.tok, NULL));
    ck_assert_int_eq(num_at(&r, "item.quantity"), 999);
    api_free(&r);
}
END_TEST

START_TEST(add_validation)
{
    acct_user u;
    acct_user_new(&u, "cv");
    const char *p = fresh_product(NULL);
    char inactive[ACCT_IDLEN], body[256];
    ck_assert_int_eq(make_product("CartOff", 5, "inactive", inactive), 0);
    static const char *const bad_quantity[] = { "0", "1000", "12.0", "12.5", "\"12\"", "true",
                                                "null", "-1", "1e2" };
    api_resp r;
    for (size_t i = 0; i < sizeof(bad_quantity) / sizeof(bad_quantity[0]); i++) {
        snprintf(body, sizeof(body), "{\"product_id\":\"%s\",\"quantity\":%s}", p, bad_quantity[i]);
        add(&r, u.id, body, u.tok);
        ck_assert_msg(r.status == 422, "quantity %s: %ld", bad_quantity[i], r.status);
        acct_assert_fields(&r, ACCT_FIELDS("quantity"));
        api_free(&r);
    }
    static const char *const bad_product[] = { "\"abc\"", "12.5", "true", "\"\"", "-3", "0",
                                               "\"99999999999999999999\"", "{}" };
    for (size_t i = 0; i < sizeof(bad_product) / sizeof(bad_product[0]); i++) {
        snprintf(body, sizeof(body), "{\"product_id\":%s}", bad_product[i]);
        add(&r, u.id, body, u.tok);
        ck_assert_msg(r.status == 422, "product_id %s: %ld", bad_product[i], r.status);
        acct_assert_fields(&r, ACCT_FIELDS("product_id"));
        api_free(&r);
    }
    /* Well-formed ids of no active product. */
    const char *absent[] = { inactive, "12", "18446744073709551615" };
    for (size_t i = 0; i < 3; i++) {
        snprintf(body, sizeof(body), "{\"product_id\":\"%s\"}", absent[i]);
        add(&r, u.id, body, u.tok);
        acct_assert_fields(&r, ACCT_FIELDS("product_id"));
        api_free(&r);
    }
    /* Every problem at once. */
    add(&r, u.id, "{\"quantity\":0,\"state\":\"later\"}", u.tok);
    acct_assert_fields(&r, ACCT_FIELDS("product_id", "quantity", "state"));
    api_free(&r);
    add(&r, u.id, "[]", u.tok);
    api_assert_error(&r, 422, "invalid_body");
    api_free(&r);
    char path[64];
    cart_path(path, sizeof(path), u.id);
    api_ok(acct_req(&r, "POST", path, NULL, u.tok, NULL));
    api_assert_error(&r, 422, "invalid_body");
    api_free(&r);
    /* Nothing of the above reached the cart. */
    get_cart(&r, u.id, u.tok);
    ck_assert_int_eq(cJSON_GetArraySize(api_json_at(&r, "items")), 0);
    api_free(&r);
}
END_TEST

/* ------------------------------------------------------------ who may */

/* Every endpoint: no token 401, someone else 403, owner and admin 2xx. */
START_TEST(authorization_matrix)
{
    acct_user owner, other;
    acct_user_new(&owner, "co");
    acct_user_new(&other, "cx");
    const char *p = fresh_product(NULL), *p2 = fresh_product(NULL);
    char item[ACCT_IDLEN], cart[64], path[64], body[128];
    add_ok(owner.id, p, 1, owner.tok, item);
    cart_path(cart, sizeof(cart), owner.id);
    item_path(path, sizeof(path), item);
    snprintf(body, sizeof(body), "{\"product_id\":\"%s\"}", p2);
    struct { const char *method, *path, *body; } ep[] = {
        { "GET", cart, NULL }, { "POST", cart, body },
        { "GET", path, NULL }, { "PUT", path, "{\"quantity\":2}" },
    };
    api_resp r;
    for (size_t i = 0; i < sizeof(ep) / sizeof(ep[0]); i++) {
        api_ok(acct_req(&r, ep[i].method, ep[i].path, ep[i].body, NULL, NULL));
        acct_assert_401(&r, "unauthorized");
        api_free(&r);
        api_ok(acct_req(&r, ep[i].method, ep[i].path, ep[i].body, other.tok, NULL));
        api_assert_error(&r, 403, "forbidden");
        api_free(&r);
        long st = status_of(ep[i].method, ep[i].path, ep[i].body, owner.tok);
        ck_assert_msg(st == 200 || st == 201, "owner %s %s: %ld", ep[i].method, ep[i].path, st);
        st = status_of(ep[i].method, ep[i].path, ep[i].body, admin_tok);
        ck_assert_msg(st == 200, "admin %s %s: %ld", ep[i].method, ep[i].path, st);
    }
    ck_assert_int_eq(status_of("DELETE", path, NULL, NULL), 401);
    ck_assert_int_eq(status_of("DELETE", path, NULL, other.tok), 403);
    ck_assert_int_eq(status_of("DELETE", path, NULL, admin_tok), 200);
    char item2[ACCT_IDLEN];
    add_ok(owner.id, p, 1, owner.tok, item2);
    item_path(path, sizeof(path), item2);
    ck_assert_int_eq(status_of("DELETE", path, NULL, owner.tok), 200);
}
END_TEST

START_TEST(missing_users_and_items)
{
    acct_user u;
    acct_user_new(&u, "cn");
    char path[64], body[128], nouser[ACCT_IDLEN];
    /* A user id on a real shard that no user has. */
    snprintf(nouser, sizeof(nouser), "%llu", strtoull(u.id, NULL, 10) + 1);
    cart_path(path, sizeof(path), nouser);
    snprintf(body, sizeof(body), "{\"product_id\":\"%s\"}", fresh_product(NULL));
    api_resp r;
    api_ok(acct_req(&r, "GET", path, NULL, admin_tok, NULL));
    api_assert_error(&r, 404, "not_found");
    api_free(&r);
    api_ok(acct_req(&r, "POST", path, body, admin_tok, NULL));
    api_assert_error(&r, 404, "not_found");
    api_free(&r);
    /* Someone else's cart is 403 whether or not that user exists. */
    ck_assert_int_eq(status_of("GET", path, NULL, u.tok), 403);
    /* An item that does not exist: 404 for anyone signed in. */
    item_path(path, sizeof(path), nouser);
    static const char *const methods[] = { "GET", "PUT", "DELETE" };
    for (int i = 0; i < 3; i++) {
        const char *b = i == 1 ? "{\"quantity\":1}" : NULL;
        api_ok(acct_req(&r, methods[i], path, b, u.tok, NULL));
        api_assert_error(&r, 404, "not_found");
        api_free(&r);
        ck_assert_int_eq(status_of(methods[i], path, b, admin_tok), 404);
    }
    /* Not an id: no route. */
    ck_assert_int_eq(status_of("GET", "/addToCar/abc", NULL, u.tok), 404);
    ck_assert_int_eq(status_of("GET", "/addToCars/12x", NULL, u.tok), 404);
    ck_assert_int_eq(status_of("PATCH", "/addToCar/1", NULL, u.tok), 405);
}
END_TEST

/* ------------------------------------------------------------ change, remove */

START_TEST(update_and_delete)
{
    acct_user u;
    acct_user_new(&u, "cu");
    const char *p = fresh_product(NULL);
    char item[ACCT_IDLEN], path[64];
    add_ok(u.id, p, 2, u.tok, item);
    item_path(path, sizeof(path), item);
    api_resp r;
    api_ok(acct_req(&r, "PUT", path, "{\"quantity\":7}", u.tok, NULL));
    ck_assert_int_eq(r.status, 200);
    assert_item_shape(api_json_at(&r, "item"), u.id, p);
    ck_assert_int_eq(num_at(&r, "item.quantity"), 7);
    ck_assert_str_eq(api_json_str(&r, "item.state"), "active");
    api_free(&r);
    api_ok(acct_req(&r, "PUT", path, "{\"state\":\"saved\"}", u.tok, NULL));
    ck_assert_int_eq(num_at(&r, "item.quantity"), 7);
    ck_assert_str_eq(api_json_str(&r, "item.state"), "saved");
    api_free(&r);
    static const char *const bad[] = { "{}", "{\"quantity\":0}", "{\"quantity\":1000}",
                                       "{\"quantity\":\"3\"}", "{\"state\":\"gone\"}",
                                       "{\"quantity\":2.0}", "{\"other\":1}" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        api_ok(acct_req(&r, "PUT", path, bad[i], u.tok, NULL));
        ck_assert_msg(r.status == 422, "PUT %s: %ld %s", bad[i], r.status, r.body);
        api_assert_error(&r, 422, "validation_failed");
        api_free(&r);
    }
    api_ok(acct_req(&r, "DELETE", path, NULL, u.tok, NULL));
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(api_json_str(&r, "item.id"), item);
    ck_assert_int_eq(num_at(&r, "item.quantity"), 7);
    assert_item_shape(api_json_at(&r, "item"), u.id, p);
    api_free(&r);
    ck_assert_int_eq(status_of("GET", path, NULL, u.tok), 404);
    ck_assert_int_eq(status_of("DELETE", path, NULL, u.tok), 404);
    ck_assert_int_eq(status_of("PUT", path, "{\"quantity\":1}", u.tok), 404);
}
END_TEST

/* ------------------------------------------------------------ totals */

START_TEST(totals_skip_saved_items_and_inactive_products)
{
    acct_user u;
    acct_user_new(&u, "ct");
    int price1 = 1234;
    char p1[ACCT_IDLEN], off[ACCT_IDLEN], item[ACCT_IDLEN], path[64], body[96];
    const char *p2 = fresh_product(NULL);
    ck_assert_int_eq(make_product("CartPrice", price1, "active", p1), 0);
    ck_assert_int_eq(make_product("CartSoon", 700, "active", off), 0);
    add_ok(u.id, p1, 3, u.tok, NULL);
    add_ok(u.id, p2, 2, u.tok, item);
    add_ok(u.id, off, 4, u.tok, NULL);
    item_path(path, sizeof(path), item);
    ck_assert_int_eq(status_of("PUT", path, "{\"state\":\"saved\"}", u.tok), 200);
    /* The product goes inactive after it was added: listed, not counted. */
    snprintf(path, sizeof(path), "/product/%s", off);
    ck_assert_int_eq(status_of("PUT", path, "{\"state\":\"inactive\"}", admin_tok), 200);
    api_resp r;
    get_cart(&r, u.id, u.tok);
    const cJSON *items = api_json_at(&r, "items");
    ck_assert_int_eq(cJSON_GetArraySize(items), 3);
    ck_assert_int_eq(num_at(&r, "total_quantity"), 3);
    ck_assert_int_eq(num_at(&r, "total_price"), 3LL * price1);
    const cJSON *last = cJSON_GetArrayItem(items, 2);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(last, "product"), "state")->valuestring, "inactive");
    api_free(&r);
    /* A price change shows at once for the owner. */
    snprintf(path, sizeof(path), "/product/%s", p1);
    snprintf(body, sizeof(body), "{\"price\":%d}", price1 + 1000);
    ck_assert_int_eq(status_of("PUT", path, body, admin_tok), 200);
    get_cart(&r, u.id, u.tok);
    ck_assert_int_eq(num_at(&r, "total_price"), 3LL * (price1 + 1000));
    ck_assert_int_eq(num_at(&r, "items.0.product.price"), price1 + 1000);
    api_free(&r);
}
END_TEST

/* ------------------------------------------------------------ caching */

START_TEST(private_etags_and_304)
{
    acct_user u;
    acct_user_new(&u, "ce");
    char item[ACCT_IDLEN], paths[2][64], etag[80], cc[80], inm[120], xc[32];
    add_ok(u.id, fresh_product(NULL), 1, u.tok, item);
    cart_path(paths[0], sizeof(paths[0]), u.id);
    item_path(paths[1], sizeof(paths[1]), item);
    for (int i = 0; i < 2; i++) {
        api_resp r;
        api_ok(acct_req(&r, "GET", paths[i], NULL, u.tok, NULL));
        ck_assert_int_eq(r.status, 200);
        ck_assert_ptr_nonnull(api_header(&r, "Cache-Control", cc, sizeof(cc)));
        ck_assert_str_eq(cc, "private, no-cache");
        ck_assert_ptr_nonnull(api_header(&r, "ETag", etag, sizeof(etag)));
        ck_assert_msg(etag[0] == '"', "weak or bare ETag %s", etag);
        ck_assert_msg(!api_header(&r, "X-Cache", xc, sizeof(xc)) || strcmp(xc, "HIT") != 0,
                      "a cart answered from the shared cache");
        api_free(&r);
        snprintf(inm, sizeof(inm), "If-None-Match: %s", etag);
        const char *h[] = { inm, NULL };
        api_ok(acct_req(&r, "GET", paths[i], NULL, u.tok, h));
        ck_assert_int_eq(r.status, 304);
        ck_assert_int_eq(r.body_len, 0);
        api_free(&r);
    }
    /* A change makes the old validator stale. */
    ck_assert_int_eq(status_of("PUT", paths[1], "{\"quantity\":4}", u.tok), 200);
    const char *h[] = { inm, NULL };
    api_resp r;
    api_ok(acct_req(&r, "GET", paths[1], NULL, u.tok, h));
    ck_assert_int_eq(r.status, 200);
    api_free(&r);
}
END_TEST

START_TEST(idempotent_add_is_not_counted_twice)
{
    acct_user u;
    acct_user_new(&u, "ci");
    char body[128], path[64], replayed[16];
    snprintf(body, sizeof(body), "{\"product_id\":\"%s\",\"quantity\":2}", fresh_product(NULL));
    cart_path(path, sizeof(path), u.id);
    const char *h[] = { "Idempotency-Key: cart-add-1", NULL };
    api_resp r1, r2;
    api_ok(acct_req(&r1, "POST", path, body, u.tok, h));
    ck_assert_int_eq(r1.status, 201);
    api_ok(acct_req(&r2, "POST", path, body, u.tok, h));
    ck_assert_int_eq(r2.status, 201);
    ck_assert_ptr_nonnull(api_header(&r2, "Idempotent-Replayed", replayed, sizeof(replayed)));
    ck_assert_str_eq(r1.body, r2.body);
    api_free(&r1);
    api_free(&r2);
    get_cart(&r1, u.id, u.tok);
    ck_assert_int_eq(num_at(&r1, "items.0.quantity"), 2);
    api_free(&r1);
}
END_TEST

/* The cached copy of a cart (cart:{uid}) never outlives a write: read,
 * write, read again, in every way a cart changes. */
START_TEST(cart_reads_follow_every_write)
{
    acct_user u;
    acct_user_new(&u, "cw");
    const char *p1 = fresh_product(NULL), *p2 = fresh_product(NULL);
    char item[ACCT_IDLEN], path[64], key[64];
    api_resp r;
    get_cart(&r, u.id, u.tok);                    /* the version is made */
    api_free(&r);
    get_cart(&r, u.id, u.tok);                    /* an empty copy is cached */
    ck_assert_int_eq(cJSON_GetArraySize(api_json_at(&r, "items")), 0);
    api_free(&r);
    snprintf(key, sizeof(key), "%scart:%s", api_redis_prefix(), u.id);
    redisReply *c = api_redis("EXISTS %s", key);
    ck_assert_msg(c != NULL && c->type == REDIS_REPLY_INTEGER && c->integer == 1,
                  "no cached copy of the cart");
    freeReplyObject(c);
    add_ok(u.id, p1, 1, u.tok, item);
    get_cart(&r, u.id, u.tok);
    ck_assert_int_eq(cJSON_GetArraySize(api_json_at(&r, "items")), 1);
    api_free(&r);
    add_ok(u.id, p1, 2, u.tok, NULL);             /* merge */
    get_cart(&r, u.id, u.tok);
    ck_assert_int_eq(num_at(&r, "items.0.quantity"), 3);
    api_free(&r);
    item_path(path, sizeof(path), item);
    ck_assert_int_eq(status_of("PUT", path, "{\"state\":\"saved\"}", u.tok), 200);
    get_cart(&r, u.id, u.tok);
    ck_assert_str_eq(api_json_str(&r, "items.0.state"), "saved");
    ck_assert_int_eq(num_at(&r, "total_quantity"), 0);
    api_free(&r);
    add_ok(u.id, p2, 1, u.tok, NULL);
    ck_assert_int_eq(status_of("DELETE", path, NULL, admin_tok), 200);   /* by the admin */
    get_cart(&r, u.id, u.tok);
    ck_assert_int_eq(cJSON_GetArraySize(api_json_at(&r, "items")), 1);
    ck_assert_str_eq(api_json_str(&r, "items.0.product_id"), p2);
    api_free(&r);
}
END_TEST

/* A foreign or corrupt copy, even one stamped with the current version,
 * is a miss: the cart comes from the shard. */
START_TEST(a_corrupt_cached_cart_is_a_miss)
{
    acct_user u;
    acct_user_new(&u, "cq");
    const char *p = fresh_product(NULL);
    add_ok(u.id, p, 4, u.tok, NULL);
    api_resp r;
    get_cart(&r, u.id, u.tok);
    api_free(&r);
    redisReply *v = api_redis("GET %scart:%s:v", api_redis_prefix(), u.id);
    ck_assert_msg(v != NULL && v->type == REDIS_REPLY_STRING, "no cart version");
    char bad[128];
    snprintf(bad, sizeof(bad), "%s\n1 2 3 4", v->str);
    freeReplyObject(v);
    redisReply *set = api_redis("SET %scart:%s %s", api_redis_prefix(), u.id, bad);
    ck_assert_ptr_nonnull(set);
    freeReplyObject(set);
    get_cart(&r, u.id, u.tok);
    ck_assert_int_eq(cJSON_GetArraySize(api_json_at(&r, "items")), 1);
    ck_assert_int_eq(num_at(&r, "items.0.quantity"), 4);
    api_free(&r);
    /* A product value in the cache that is not a product is a miss too. */
    set = api_redis("SET %sproduct:%s {\"name\":\"x\" EX 60", api_redis_prefix(), p);
    ck_assert_ptr_nonnull(set);
    freeReplyObject(set);
    get_cart(&r, u.id, u.tok);
    ck_assert_str_eq(api_json_str(&r, "items.0.product.id"), p);
    ck_assert(cJSON_IsString(api_json_at(&r, "items.0.product.name")));
    api_free(&r);
}
END_TEST

/* ------------------------------------------------------------ races */

/* n children POST bodies[i] to path at once (released together through a
 * pipe); statuses[i] gets each answer's status. */
static void race_posts(int n, const char *path, const char *const *bodies, const char *tok,
                       long *statuses)
{
    int go[2], res[2];
    pid_t pids[32];
    ck_assert_int_le(n, 32);
    ck_assert_int_eq(pipe(go), 0);
    ck_assert_int_eq(pipe(res), 0);
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            char c;
            long out[2] = { i, -1 };
            close(go[1]);
            if (read(go[0], &c, 1) < 0)
                _exit(3);
            api_resp r;
            if (acct_req(&r, "POST", path, bodies[i], tok, NULL) == 0) {
                out[1] = r.status;
                api_free(&r);
            }
            _exit(write(res[1], out, sizeof(out)) == (ssize_t)sizeof(out) ? 0 : 2);
        }
    }
    close(go[0]);
    close(res[1]);
    close(go[1]);
    for (int i = 0; i < n; i++) {
        long got[2];
        ck_assert_msg(read(res[0], got, sizeof(got)) == (ssize_t)sizeof(got) && got[0] >= 0 &&
                      got[0] < n, "child %d gave no result", i);
        statuses[got[0]] = got[1];
    }
    close(res[0]);
    for (int i = 0; i < n; i++)
        waitpid(pids[i], NULL, 0);
}

START_TEST(concurrent_adds_of_one_product_merge)
{
    enum { N = 10 };
    acct_user u;
    acct_user_new(&u, "cr");
    char body[128], path[64];
    const char *bodies[N];
    long st[N];
    snprintf(body, sizeof(body), "{\"product_id\":\"%s\",\"quantity\":3}", fresh_product(NULL));
    for (int i = 0; i < N; i++)
        bodies[i] = body;
    cart_path(path, sizeof(path), u.id);
    race_posts(N, path, bodies, u.tok, st);
    int created = 0, merged = 0;
    for (int i = 0; i < N; i++) {
        created += st[i] == 201;
        merged += st[i] == 200;
    }
    ck_assert_msg(created == 1 && merged == N - 1, "%d created, %d merged", created, merged);
    api_resp r;
    get_cart(&r, u.id, u.tok);
    ck_assert_int_eq(cJSON_GetArraySize(api_json_at(&r, "items")), 1);
    ck_assert_int_eq(num_at(&r, "items.0.quantity"), 3 * N);
    api_free(&r);
}
END_TEST

START_TEST(the_200_item_cap_holds_under_concurrent_adds)
{
    enum { START = 190, N = 20 };
    acct_user u;
    acct_user_new(&u, "cc");
    char path[64], bodies_s[N][128];
    const char *bodies[N];
    long st[N];
    for (int i = 0; i < START; i++)
        add_ok(u.id, fresh_product(NULL), 1, u.tok, NULL);
    for (int i = 0; i < N; i++) {
        snprintf(bodies_s[i], sizeof(bodies_s[i]), "{\"product_id\":\"%s\"}", fresh_product(NULL));
        bodies[i] = bodies_s[i];
    }
    cart_path(path, sizeof(path), u.id);
    race_posts(N, path, bodies, u.tok, st);
    int created = 0, refused = 0;
    for (int i = 0; i < N; i++) {
        created += st[i] == 201;
        refused += st[i] == 422;
    }
    ck_assert_msg(created == 200 - START && refused == N - created,
                  "%d created, %d refused", created, refused);
    api_resp r;
    get_cart(&r, u.id, u.tok);
    ck_assert_int_eq(cJSON_GetArraySize(api_json_at(&r, "items")), 200);
    api_free(&r);
}
END_TEST

/* ------------------------------------------------------------ faults */

/* The shard server (index in the stack's config) that holds a user. The
 * test stack puts server 0 ("shard a", with the catalog) on db1 and
 * server 1 on db2. */
static int server_of(const char *uid)
{
    const rst_config *cfg = api_stack_config();
    ck_assert_ptr_nonnull(cfg);
    rst_shardmap map;
    rst_shardmap_build(&map, cfg);
    return rst_shardmap_server_for_id(&map, strtoull(uid, NULL, 10));
}

static void restart_all(void)
{
    static const char *const names[] = { "db1", "db2", "redis" };
    for (int i = 0; i < 3; i++)
        if (api_stack("start", names[i]) != 0)
            fprintf(stderr, "test_carts: could not start %s\n", names[i]);
}

START_TEST(a_stopped_shard_fails_only_its_users_carts)
{
    acct_user on[2];
    int have[2] = { 0, 0 };
    for (int tries = 0; tries < 40 && !(have[0] && have[1]); tries++) {
        acct_user u;
        acct_user_new(&u, "cs");
        int srv = server_of(u.id);
        if (srv >= 0 && srv < 2 && !have[srv]) {
            on[srv] = u;
            have[srv] = 1;
        }
    }
    ck_assert_msg(have[0] && have[1], "no users on both shard servers");
    char p[ACCT_IDLEN];
    ck_assert_int_eq(make_product("CartShard", 10, "active", p), 0);
    add_ok(on[0].id, p, 1, on[0].tok, NULL);
    add_ok(on[1].id, p, 1, on[1].tok, NULL);
    /* db2: server 1's shards only (the catalog stays up on db1). */
    const char *db = "db2";
    ck_assert_int_eq(api_stack("stop", db), 0);
    char path[64];
    api_resp r;
    cart_path(path, sizeof(path), on[1].id);
    api_ok(acct_req(&r, "GET", path, NULL, on[1].tok, NULL));
    int down_ok = r.status == 502 && api_json_str(&r, "error.code") &&
                  strcmp(api_json_str(&r, "error.code"), "upstream_unavailable") == 0;
    char body[512];
    snprintf(body, sizeof(body), "%s", r.body);
    api_free(&r);
    cart_path(path, sizeof(path), on[0].id);
    long other = status_of("GET", path, NULL, on[0].tok);
    int started = api_stack("start", db);
    ck_assert_msg(down_ok, "cart on the stopped shard: %s", body);
    ck_assert_int_eq(other, 200);
    ck_assert_int_eq(started, 0);
}
END_TEST

START_TEST(carts_are_served_with_redis_stopped)
{
    acct_user u;
    acct_user_new(&u, "cz");
    int price = 4321;
    char p[ACCT_IDLEN];
    ck_assert_int_eq(make_product("CartNoRedis", price, "active", p), 0);
    add_ok(u.id, p, 2, u.tok, NULL);
    ck_assert_int_eq(api_stack("stop", "redis"), 0);
    api_resp r;
    char path[64];
    cart_path(path, sizeof(path), u.id);
    api_ok(acct_req(&r, "GET", path, NULL, u.tok, NULL));
    long st = r.status;
    long long total = st == 200 ? num_at(&r, "total_price") : -1;
    api_free(&r);
    int started = api_stack("start", "redis");
    ck_assert_msg(st == 200, "GET cart with Redis stopped: %ld", st);
    ck_assert_int_eq(total, 2LL * price);
    ck_assert_int_eq(started, 0);
}
END_TEST

Suite *suite_carts(void)
{
    Suite *s = suite_create("carts");
    TCase *t = api_tcase(s, "carts");
    tcase_add_unchecked_fixture(t, carts_setup, NULL);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, add_creates_then_merges);
    tcase_add_test(t, add_defaults_and_saved_state);
    tcase_add_test(t, merge_past_999_changes_nothing);
    tcase_add_test(t, add_validation);
    tcase_add_test(t, authorization_matrix);
    tcase_add_test(t, missing_users_and_items);
    tcase_add_test(t, update_and_delete);
    tcase_add_test(t, totals_skip_saved_items_and_inactive_products);
    tcase_add_test(t, private_etags_and_304);
    tcase_add_test(t, idempotent_add_is_not_counted_twice);
    tcase_add_test(t, cart_reads_follow_every_write);
    tcase_add_test(t, a_corrupt_cached_cart_is_a_miss);
    tcase_add_test(t, concurrent_adds_of_one_product_merge);
    tcase_add_test(t, the_200_item_cap_holds_under_concurrent_adds);
    t = api_tcase(s, "carts_faults");
    tcase_add_unchecked_fixture(t, admin_setup, restart_all);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, a_stopped_shard_fails_only_its_users_carts);
    tcase_add_test(t, carts_are_served_with_redis_stopped);
    return s;
}
