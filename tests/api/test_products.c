/* test_products.c -- the product read path of API.md §3 and the pagination
 * rules of §1.4 on GET /products: defaults, bounds, page/cursor equality,
 * broken cursors, the last page, and GET /product/{id}. Runs against the
 * demo catalog (`roostctl seed --demo`, ~36 products). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"

/* ------------------------------------------------------------ helpers */

static void get_ok(api_resp *r, const char *path)
{
    api_ok(api_get(r, path));
    ck_assert_msg(r->status == 200, "GET %s: %ld %s", path, r->status, r->body);
    ck_assert_msg(r->json != NULL, "GET %s: not JSON: %s", path, r->body);
}

static const cJSON *items_of(const api_resp *r)
{
    const cJSON *items = api_json_at(r, "items");
    ck_assert_msg(cJSON_IsArray(items), "no items array: %s", r->body);
    return items;
}

static int number_is(const cJSON *n, double want)
{
    return cJSON_IsNumber(n) && n->valuedouble == want;
}

static uint64_t id_value(const char *s)
{
    return strtoull(s, NULL, 10);
}

static const char *item_id(const cJSON *item)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
    ck_assert_msg(cJSON_IsString(id), "item without a string id");
    return id->valuestring;
}

/* Appends the ids of a page's items to `ids` (a cJSON array). */
static void collect_ids(const api_resp *r, cJSON *ids)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, items_of(r))
        cJSON_AddItemToArray(ids, cJSON_CreateString(item_id(item)));
}

/* Every product, in one request. */
static int product_count(void)
{
    api_resp r;
    get_ok(&r, "/products?limit=100");
    int n = cJSON_GetArraySize(items_of(&r));
    ck_assert_msg(cJSON_IsNull(api_json_at(&r, "next_cursor")),
                  "more than 100 products: the tests assume the demo catalog");
    api_free(&r);
    return n;
}

/* Walks /products by page number; returns the pages visited. */
static int walk_pages(int limit, cJSON *ids)
{
    char path[96];
    int page = 1;
    for (;;) {
        api_resp r;
        snprintf(path, sizeof(path), "/products?limit=%d&page=%d", limit, page);
        get_ok(&r, path);
        ck_assert_msg(number_is(api_json_at(&r, "page"), page), "%s: page field: %s", path, r.body);
        collect_ids(&r, ids);
        const cJSON *next = api_json_at(&r, "next_page");
        int last = cJSON_IsNull(next);
        ck_assert_msg(last || number_is(next, page + 1), "%s: next_page: %s", path, r.body);
        api_free(&r);
        if (last)
            return page;
        ck_assert_msg(page < 100, "more than 100 pages: next_page never ends");
        page++;
    }
}

/* Walks /products by cursor from page 1; returns the pages visited. */
static int walk_cursor(int limit, cJSON *ids)
{
    char path[256];
    char cursor[128] = "";
    int pages = 0;
    for (;;) {
        api_resp r;
        if (pages == 0)
            snprintf(path, sizeof(path), "/products?limit=%d", limit);
        else
            snprintf(path, sizeof(path), "/products?limit=%d&cursor=%s", limit, cursor);
        get_ok(&r, path);
        if (pages > 0) {
            ck_assert_msg(api_json_at(&r, "page") == NULL && api_json_at(&r, "next_page") == NULL,
                          "%s: a cursor page has page/next_page: %s", path, r.body);
            ck_assert_msg(cJSON_GetArraySize(items_of(&r)) > 0, "%s: an empty cursor page", path);
        }
        ck_assert_msg(number_is(api_json_at(&r, "limit"), limit), "%s: limit: %s", path, r.body);
        collect_ids(&r, ids);
        pages++;
        const cJSON *next = api_json_at(&r, "next_cursor");
        ck_assert_msg(next != NULL, "%s: no next_cursor field: %s", path, r.body);
        if (cJSON_IsNull(next)) {
            api_free(&r);
            return pages;
        }
        ck_assert_msg(cJSON_IsString(next) && *next->valuestring &&
                      strlen(next->valuestring) < sizeof(cursor),
                      "%s: bad next_cursor: %s", path, r.body);
        ck_assert_msg(strspn(next->valuestring, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                "0123456789-_") == strlen(next->valuestring),
                      "cursor %s needs URL-encoding", next->valuestring);
        strcpy(cursor, next->valuestring);
        api_free(&r);
        ck_assert_msg(pages < 100, "more than 100 cursor pages");
    }
}

/* Ids strictly ascending (hence each once). */
static void assert_ascending(const cJSON *ids, const char *what)
{
    uint64_t prev = 0;
    int i = 0;
    const cJSON *id;
    cJSON_ArrayForEach(id, ids) {
        ck_assert_msg(api_is_id(id->valuestring), "%s: bad id %s", what, id->valuestring);
        uint64_t v = id_value(id->valuestring);
        ck_assert_msg(i == 0 || v > prev, "%s: id %s at %d is not above %" PRIu64,
                      what, id->valuestring, i, prev);
        prev = v;
        i++;
    }
}

/* Every field of the Product object of §3, with its type. */
static void assert_product(const cJSON *p)
{
    ck_assert_msg(cJSON_IsObject(p), "product is not an object");
    char *text = cJSON_PrintUnformatted(p);
    const cJSON *f;

    f = cJSON_GetObjectItemCaseSensitive(p, "id");
    ck_assert_msg(cJSON_IsString(f) && api_is_id(f->valuestring), "id: %s", text);
    f = cJSON_GetObjectItemCaseSensitive(p, "name");
    ck_assert_msg(cJSON_IsString(f) && *f->valuestring, "name: %s", text);
    f = cJSON_GetObjectItemCaseSensitive(p, "price");
    ck_assert_msg(cJSON_IsNumber(f) && f->valuedouble >= 0 && f->valuedouble <= 100000000 &&
                  f->valuedouble == (double)(int64_t)f->valuedouble, "price: %s", text);
    ck_assert_msg(strstr(text, "\"price\":") && !strchr("-.eE", strstr(text, "\"price\":")[8]),
                  "price is not a plain integer: %s", text);
    f = cJSON_GetObjectItemCaseSensitive(p, "img");
    ck_assert_msg(cJSON_IsString(f) && strlen(f->valuestring) <= 4 * 255, "img: %s", text);
    f = cJSON_GetObjectItemCaseSensitive(p, "description");
    ck_assert_msg(cJSON_IsString(f), "description: %s", text);
    f = cJSON_GetObjectItemCaseSensitive(p, "state");
    ck_assert_msg(cJSON_IsString(f) && (strcmp(f->valuestring, "active") == 0 ||
                                        strcmp(f->valuestring, "inactive") == 0), "state: %s", text);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(p, "created_at");
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(p, "updated_at");
    ck_assert_msg(cJSON_IsString(c) && api_is_timestamp(c->valuestring), "created_at: %s", text);
    ck_assert_msg(cJSON_IsString(u) && api_is_timestamp(u->valuestring), "updated_at: %s", text);
    ck_assert_msg(strcmp(c->valuestring, u->valuestring) <= 0, "updated before created: %s", text);
    free(text);
}

static void assert_invalid(const char *path, const char *field)
{
    api_resp r;
    api_ok(api_get(&r, path));
    ck_assert_msg(r.status == 422, "GET %s: %ld, want 422; %s", path, r.status, r.body);
    api_assert_error(&r, 422, "validation_failed");
    if (field != NULL) {
        const cJSON *fields = api_json_at(&r, "error.fields");
        ck_assert_msg(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(fields, field)),
                      "GET %s: no fields.%s: %s", path, field, r.body);
    }
    api_free(&r);
}

/* ------------------------------------------------------------ pages */

START_TEST(test_default_page)
{
    int total = product_count();
    ck_assert_msg(total > 20, "the demo catalog has %d products; these tests need more than 20", total);
    api_resp r;
    get_ok(&r, "/products");
    ck_assert_msg(cJSON_GetArraySize(items_of(&r)) == 20, "default page holds %d items, want 20",
                  cJSON_GetArraySize(items_of(&r)));
    ck_assert_msg(number_is(api_json_at(&r, "limit"), 20), "limit: %s", r.body);
    ck_assert_msg(number_is(api_json_at(&r, "page"), 1), "page: %s", r.body);
    ck_assert_msg(number_is(api_json_at(&r, "next_page"), 2), "next_page: %s", r.body);
    ck_assert_msg(cJSON_IsString(api_json_at(&r, "next_cursor")), "next_cursor: %s", r.body);

    /* the same as asking for page 1 of 20 explicitly */
    api_resp e;
    get_ok(&e, "/products?limit=20&page=1");
    ck_assert_msg(strcmp(r.body, e.body) == 0, "/products differs from ?limit=20&page=1");
    api_free(&e);
    api_free(&r);
}
END_TEST

static const int limits[] = { 1, 7, 20, 99, 100 };

START_TEST(test_limit_echoed)
{
    int limit = limits[_i], total = product_count();
    char path[64];
    snprintf(path, sizeof(path), "/products?limit=%d", limit);
    api_resp r;
    get_ok(&r, path);
    int want = total < limit ? total : limit;
    ck_assert_msg(number_is(api_json_at(&r, "limit"), limit), "%s: limit: %s", path, r.body);
    ck_assert_msg(cJSON_GetArraySize(items_of(&r)) == want, "%s: %d items, want %d", path,
                  cJSON_GetArraySize(items_of(&r)), want);
    int more = total > limit;
    ck_assert_msg(more ? number_is(api_json_at(&r, "next_page"), 2)
                       : cJSON_IsNull(api_json_at(&r, "next_page")), "%s: next_page: %s", path, r.body);
    ck_assert_msg(more ? cJSON_IsString(api_json_at(&r, "next_cursor"))
                       : cJSON_IsNull(api_json_at(&r, "next_cursor")), "%s: next_cursor: %s", path, r.body);
    api_free(&r);
}
END_TEST

static const char *const bad_limits[] = {
    "0", "101", "abc", "-1", "+5", "1.5", "", "1e1", "%205", "5%20", "0x10",
    "99999999999999999999", "100000",
};

START_TEST(test_bad_limit)
{
    char path[128];
    snprintf(path, sizeof(path), "/products?limit=%s", bad_limits[_i]);
    assert_invalid(path, "limit");
    snprintf(path, sizeof(path), "/products?page=2&limit=%s", bad_limits[_i]);
    assert_invalid(path, "limit");
}
END_TEST

static const char *const bad_pages[] = {
    "0", "1001", "1.5", "abc", "-1", "", "1e2", "%201", "99999999999999999999",
};

START_TEST(test_bad_page)
{
    char path[128];
    snprintf(path, sizeof(path), "/products?page=%s", bad_pages[_i]);
    assert_invalid(path, "page");
    snprintf(path, sizeof(path), "/products?limit=5&page=%s", bad_pages[_i]);
    assert_invalid(path, "page");
}
END_TEST

/* API.md §1.3: one entry per invalid field, all of them at once. */
START_TEST(test_every_bad_parameter_reported)
{
    assert_invalid("/products?limit=0&page=0", "limit");
    assert_invalid("/products?limit=0&page=0", "page");
    api_resp r;
    api_ok(api_get(&r, "/products?limit=101&page=1001"));
    const cJSON *fields = api_json_at(&r, "error.fields");
    ck_assert_msg(cJSON_GetArraySize(fields) == 2, "want 2 fields: %s", r.body);
    api_free(&r);
}
END_TEST

START_TEST(test_page_bounds_accepted)
{
    api_resp r;
    get_ok(&r, "/products?page=1");
    api_free(&r);
    get_ok(&r, "/products?page=1000&limit=100");
    ck_assert_msg(number_is(api_json_at(&r, "page"), 1000), "page: %s", r.body);
    api_free(&r);
}
END_TEST

/* A valid cursor from page 1, for the cursor tests. */
static void first_cursor(int limit, char *out, size_t len)
{
    char path[64];
    snprintf(path, sizeof(path), "/products?limit=%d", limit);
    api_resp r;
    get_ok(&r, path);
    const char *c = api_json_str(&r, "next_cursor");
    ck_assert_msg(c != NULL && strlen(c) < len, "no next_cursor: %s", r.body);
    strcpy(out, c);
    api_free(&r);
}

START_TEST(test_page_and_cursor_422)
{
    char cur[128], path[256];
    first_cursor(5, cur, sizeof(cur));
    snprintf(path, sizeof(path), "/products?limit=5&page=2&cursor=%s", cur);
    assert_invalid(path, NULL);
    snprintf(path, sizeof(path), "/products?cursor=%s&page=1", cur);
    assert_invalid(path, NULL);
}
END_TEST

START_TEST(test_cursor_empty_or_garbage_422)
{
    char cur[128], path[512];
    first_cursor(5, cur, sizeof(cur));
    const char *bad[] = { "", "x", "!!!!", "%00", "null", "0", "AAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                          "%2F%2F%2F%2F", "AQ==" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(path, sizeof(path), "/products?limit=5&cursor=%s", bad[i]);
        assert_invalid(path, "cursor");
    }
    /* truncated, extended, doubled */
    size_t n = strlen(cur);
    snprintf(path, sizeof(path), "/products?limit=5&cursor=%.*s", (int)(n - 1), cur);
    assert_invalid(path, "cursor");
    snprintf(path, sizeof(path), "/products?limit=5&cursor=%.*s", (int)(n / 2), cur);
    assert_invalid(path, "cursor");
    snprintf(path, sizeof(path), "/products?limit=5&cursor=%sA", cur);
    assert_invalid(path, "cursor");
    snprintf(path, sizeof(path), "/products?limit=5&cursor=%s%s", cur, cur);
    assert_invalid(path, "cursor");
    /* long garbage */
    char *big = malloc(4000);
    ck_assert_msg(big != NULL, "out of memory");
    int k = snprintf(big, 4000, "/products?cursor=");
    memset(big + k, 'A', 3000);
    big[k + 3000] = '\0';
    assert_invalid(big, "cursor");
    free(big);
}
END_TEST

/* Any one character changed makes the cursor invalid: 422, never 500 and
 * never another page. */
START_TEST(test_cursor_tampered_422)
{
    char cur[128], path[256];
    first_cursor(5, cur, sizeof(cur));
    size_t n = strlen(cur);
    for (size_t i = 0; i < n; i++) {
        /* two replacements for each character, both different from it */
        const char *subst = cur[i] == 'A' ? "B_" : cur[i] == '_' ? "Az" : "A_";
        for (int k = 0; k < 2; k++) {
            char t[128];
            strcpy(t, cur);
            t[i] = subst[k];
            ck_assert_msg(strcmp(t, cur) != 0, "the test did not change the cursor");
            snprintf(path, sizeof(path), "/products?limit=5&cursor=%s", t);
            assert_invalid(path, "cursor");
        }
    }
}
END_TEST

START_TEST(test_page_past_end)
{
    const char *paths[] = { "/products?page=1000", "/products?page=50&limit=100",
                            "/products?page=999&limit=1" };
    for (size_t i = 0; i < 3; i++) {
        api_resp r;
        get_ok(&r, paths[i]);
        ck_assert_msg(cJSON_GetArraySize(items_of(&r)) == 0, "%s: items not empty", paths[i]);
        ck_assert_msg(cJSON_IsNull(api_json_at(&r, "next_page")), "%s: next_page: %s", paths[i], r.body);
        ck_assert_msg(cJSON_IsNull(api_json_at(&r, "next_cursor")), "%s: next_cursor: %s", paths[i], r.body);
        api_free(&r);
    }
}
END_TEST

/* The last page has what is left, and null next_page/next_cursor; the one
 * before it points at it. */
START_TEST(test_last_page)
{
    int total = product_count(), limit = 10;
    int last = (total + limit - 1) / limit;
    ck_assert_msg(last >= 2, "too few products (%d)", total);
    char path[64];
    api_resp r;
    snprintf(path, sizeof(path), "/products?limit=%d&page=%d", limit, last);
    get_ok(&r, path);
    ck_assert_msg(cJSON_GetArraySize(items_of(&r)) == total - (last - 1) * limit,
                  "%s: %d items of %d products", path, cJSON_GetArraySize(items_of(&r)), total);
    ck_assert_msg(cJSON_IsNull(api_json_at(&r, "next_page")), "%s: next_page: %s", path, r.body);
    ck_assert_msg(cJSON_IsNull(api_json_at(&r, "next_cursor")), "%s: next_cursor: %s", path, r.body);
    api_free(&r);

    snprintf(path, sizeof(path), "/products?limit=%d&page=%d", limit, last - 1);
    get_ok(&r, path);
    ck_assert_msg(number_is(api_json_at(&r, "next_page"), last), "%s: next_page: %s", path, r.body);
    ck_assert_msg(cJSON_IsString(api_json_at(&r, "next_cursor")), "%s: next_cursor: %s", path, r.body);
    api_free(&r);
}
END_TEST

/* Page 1's next_cursor leads to exactly page 2. */
START_TEST(test_cursor_is_page_two)
{
    api_resp p1, p2, c2;
    get_ok(&p1, "/products");
    const char *cur = api_json_str(&p1, "next_cursor");
    ck_assert_msg(cur != NULL, "no next_cursor on page 1: %s", p1.body);
    char path[256];
    snprintf(path, sizeof(path), "/products?cursor=%s", cur);
    get_ok(&c2, path);
    get_ok(&p2, "/products?page=2");
    ck_assert_msg(cJSON_GetArraySize(items_of(&c2)) > 0, "cursor page is empty");
    ck_assert_msg(cJSON_Compare(items_of(&c2), items_of(&p2), 1),
                  "cursor page differs from page 2:\n%s\n%s", c2.body, p2.body);
    ck_assert_msg(number_is(api_json_at(&c2, "limit"), 20), "cursor page limit: %s", c2.body);
    ck_assert_msg(api_json_at(&c2, "page") == NULL, "cursor page has \"page\": %s", c2.body);
    ck_assert_msg(api_json_at(&c2, "next_page") == NULL, "cursor page has \"next_page\": %s", c2.body);
    ck_assert_msg(api_json_at(&c2, "next_cursor") != NULL, "cursor page lacks next_cursor");
    /* and page 2's own cursor equals the cursor page's */
    const cJSON *a = api_json_at(&c2, "next_cursor"), *b = api_json_at(&p2, "next_cursor");
    ck_assert_msg(cJSON_Compare(a, b, 1), "next_cursor of the cursor page and of page 2 differ");
    api_free(&p1);
    api_free(&p2);
    api_free(&c2);
}
END_TEST

static const int walk_limits[] = { 1, 7, 20, 36, 100 };

/* Walking by cursor and by page number gives every product once, in
 * ascending id order, and the same sequence. */
START_TEST(test_walk_all)
{
    int limit = walk_limits[_i], total = product_count();
    cJSON *by_page = cJSON_CreateArray(), *by_cursor = cJSON_CreateArray();
    int pages = walk_pages(limit, by_page);
    int cpages = walk_cursor(limit, by_cursor);
    ck_assert_msg(cJSON_GetArraySize(by_page) == total, "limit %d: pages gave %d of %d products",
                  limit, cJSON_GetArraySize(by_page), total);
    ck_assert_msg(cJSON_GetArraySize(by_cursor) == total, "limit %d: cursors gave %d of %d products",
                  limit, cJSON_GetArraySize(by_cursor), total);
    assert_ascending(by_page, "by page");
    assert_ascending(by_cursor, "by cursor");
    ck_assert_msg(cJSON_Compare(by_page, by_cursor, 1), "limit %d: cursor walk differs from page walk",
                  limit);
    ck_assert_msg(cpages == (total + limit - 1) / limit && pages == cpages,
                  "limit %d: %d pages by number, %d by cursor, for %d products", limit, pages,
                  cpages, total);
    cJSON_Delete(by_page);
    cJSON_Delete(by_cursor);
}
END_TEST

START_TEST(test_page_fields)
{
    api_resp r;
    get_ok(&r, "/products?limit=5&page=2");
    const char *keys[] = { "items", "limit", "page", "next_page", "next_cursor" };
    for (size_t i = 0; i < 5; i++)
        ck_assert_msg(api_json_at(&r, keys[i]) != NULL, "page response lacks %s: %s", keys[i], r.body);
    api_free(&r);
}
END_TEST

/* ------------------------------------------------------------ products */

START_TEST(test_items_are_products)
{
    api_resp r;
    get_ok(&r, "/products?limit=100");
    const cJSON *item;
    cJSON_ArrayForEach(item, items_of(&r))
        assert_product(item);
    api_free(&r);
}
END_TEST

/* GET /product/{id} of the first, a middle and the last listed product
 * answers {"product": …} equal to the list's item. */
START_TEST(test_get_product)
{
    api_resp list;
    get_ok(&list, "/products?limit=100");
    int n = cJSON_GetArraySize(items_of(&list));
    ck_assert_msg(n > 0, "empty catalog");
    int picks[] = { 0, n / 2, n - 1 };
    for (int i = 0; i < 3; i++) {
        const cJSON *item = cJSON_GetArrayItem(items_of(&list), picks[i]);
        char path[64];
        snprintf(path, sizeof(path), "/product/%s", item_id(item));
        api_resp r;
        get_ok(&r, path);
        ck_assert_msg(cJSON_GetArraySize(r.json) == 1, "%s: more than \"product\": %s", path, r.body);
        const cJSON *p = api_json_at(&r, "product");
        assert_product(p);
        ck_assert_msg(cJSON_Compare(p, item, 1), "%s differs from the list's item:\n%s", path, r.body);
        api_free(&r);
    }
    /* the demo products are for sale */
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(items_of(&list), 0), "state");
    ck_assert_msg(cJSON_IsString(st) && strcmp(st->valuestring, "active") == 0, "first demo product not active");
    api_free(&list);
}
END_TEST

START_TEST(test_get_unknown_product)
{
    char last[32], path[64];
    ck_assert_msg(api_product_id(product_count() - 1, last, sizeof(last)) == 0, "no products");
    const char *ids[] = { "1", "0", "18446744073709551615", NULL };
    char next[32];
    snprintf(next, sizeof(next), "%" PRIu64, id_value(last) + 1);   /* a near miss */
    ids[3] = next;
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "/product/%s", ids[i]);
        api_resp r;
        api_ok(api_get(&r, path));
        ck_assert_msg(r.status == 404, "GET %s: %ld %s", path, r.status, r.body);
        api_assert_error(&r, 404, "not_found");
        api_free(&r);
    }
}
END_TEST

/* nginx's cached answer and a fresh one from roostd agree, ETag included. */
START_TEST(test_product_cached_and_fresh_agree)
{
    char id[32], path[64];
    ck_assert_msg(api_product_id(3, id, sizeof(id)) == 0, "no product");
    snprintf(path, sizeof(path), "/product/%s", id);
    api_resp a, b;
    get_ok(&a, path);
    api_ok(api_get_fresh(&b, path));
    ck_assert_msg(b.status == 200 && strcmp(a.body, b.body) == 0,
                  "%s: cached and fresh answers differ", path);
    char ea[128] = "", eb[128] = "";
    api_header(&a, "ETag", ea, sizeof(ea));
    api_header(&b, "ETag", eb, sizeof(eb));
    ck_assert_msg(ea[0] && strcmp(ea, eb) == 0, "%s: ETags differ: %s %s", path, ea, eb);
    api_free(&a);
    api_free(&b);
}
END_TEST

/* ------------------------------------------------------------ suite */

Suite *suite_products(void)
{
    Suite *s = suite_create("products");

    TCase *tc = api_tcase(s, "pages");
    tcase_add_test(tc, test_default_page);
    tcase_add_loop_test(tc, test_limit_echoed, 0, API_COUNT(limits));
    tcase_add_loop_test(tc, test_bad_limit, 0, API_COUNT(bad_limits));
    tcase_add_loop_test(tc, test_bad_page, 0, API_COUNT(bad_pages));
    tcase_add_test(tc, test_page_bounds_accepted);
    tcase_add_test(tc, test_every_bad_parameter_reported);
    tcase_add_test(tc, test_page_past_end);
    tcase_add_test(tc, test_last_page);
    tcase_add_test(tc, test_page_fields);

    tc = api_tcase(s, "cursors");
    tcase_add_test(tc, test_page_and_cursor_422);
    tcase_add_test(tc, test_cursor_empty_or_garbage_422);
    tcase_add_test(tc, test_cursor_tampered_422);
    tcase_add_test(tc, test_cursor_is_page_two);
    tcase_add_loop_test(tc, test_walk_all, 0, API_COUNT(walk_limits));

    tc = api_tcase(s, "product");
    tcase_add_test(tc, test_items_are_products);
    tcase_add_test(tc, test_get_product);
    tcase_add_test(tc, test_get_unknown_product);
    tcase_add_test(tc, test_product_cached_and_fresh_agree);
    return s;
}
