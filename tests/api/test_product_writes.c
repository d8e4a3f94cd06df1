/* test_product_writes.c -- API tests of product writes (API.md §3, §1.5,
 * §1.6): POST /products and PUT /product/{id} -- who may, defaults,
 * validation, conflicts, partial updates, read-your-writes through the
 * micro-cache, and idempotent creation. Admins are made with roostctl. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "suites.h"
#include "accounts.h"

/* ------------------------------------------------------------ helpers */

/* Two admins and a plain user for the suite, made once in the runner
 * (an unchecked fixture) so every forked test inherits them. */
static char adm_name[ACCT_NAMELEN], adm_tok[ACCT_TOKLEN];
static char adm2_name[ACCT_NAMELEN], adm2_tok[ACCT_TOKLEN];
static char usr_name[ACCT_NAMELEN], usr_tok[ACCT_TOKLEN];

static void accounts_setup(void)
{
    if (adm_tok[0])
        return;
    acct_make_admin("pwa", adm_name, NULL, adm_tok);
    acct_make_admin("pwa", adm2_name, NULL, adm2_tok);
    acct_make_user("pwu", usr_name, usr_tok);
}

static const char *admin(void)
{
    ck_assert_msg(adm_tok[0], "no admin (roostctl user create --admin or its sign-in failed)");
    return adm_tok;
}

static const char *user(void)
{
    ck_assert_msg(usr_tok[0], "no plain user (sign-up or sign-in failed)");
    return usr_tok;
}

/* A product name unique to this run, with a space and upper case. */
static void pname(char *out, size_t len, const char *what)
{
    char n[40];
    acct_unique_name(n, sizeof(n), "");
    snprintf(out, len, "Test %s %s", what, n);
}

/* POST /products as token; answer in r. */
static void create(api_resp *r, const char *body, const char *token)
{
    api_ok(acct_req(r, "POST", "/products", body, token, NULL));
}

/* Creates a product as admin (201 asserted); id gets its id. */
static void create_ok(const char *name, long price, char id[32])
{
    char body[512];
    api_resp r;
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":%ld}", name, price);
    create(&r, body, admin());
    ck_assert_msg(r.status == 201, "create %s: %ld %s", name, r.status, r.body);
    const char *s = api_json_str(&r, "product.id");
    ck_assert_msg(api_is_id(s), "id: %s", r.body);
    snprintf(id, 32, "%s", s);
    api_free(&r);
}

static void put_product(api_resp *r, const char *id, const char *body, const char *token)
{
    char path[64];
    snprintf(path, sizeof(path), "/product/%s", id);
    api_ok(acct_req(r, "PUT", path, body, token, NULL));
}

/* GET /product/{id}, signed in (never from nginx's shared cache). */
static void get_product_auth(api_resp *r, const char *id)
{
    char path[64];
    snprintf(path, sizeof(path), "/product/%s", id);
    api_ok(acct_req(r, "GET", path, NULL, user(), NULL));
}

/* Asserts r holds {"product": ...} with every field well-typed. */
static void assert_product(const api_resp *r, const char *name, long price, const char *img,
                           const char *description, const char *state)
{
    const cJSON *p = api_json_at(r, "product");
    ck_assert_msg(cJSON_IsObject(p), "no product: %s", r->body);
    ck_assert_int_eq(cJSON_GetArraySize(r->json), 1);
    ck_assert_msg(cJSON_GetArraySize(p) == 8, "product fields: %s", r->body);
    ck_assert_msg(api_is_id(api_json_str(r, "product.id")), "id: %s", r->body);
    ck_assert_str_eq(api_json_str(r, "product.name"), name);
    const cJSON *pr = api_json_at(r, "product.price");
    ck_assert_msg(cJSON_IsNumber(pr) && pr->valuedouble == (double)price, "price: want %ld, %s", price, r->body);
    ck_assert_msg(api_json_str(r, "product.img") && strcmp(api_json_str(r, "product.img"), img) == 0,
                  "img: %s", r->body);
    ck_assert_msg(api_json_str(r, "product.description") &&
                  strcmp(api_json_str(r, "product.description"), description) == 0, "description: %s", r->body);
    ck_assert_msg(api_json_str(r, "product.state") && strcmp(api_json_str(r, "product.state"), state) == 0,
                  "state: %s", r->body);
    ck_assert_msg(api_is_timestamp(api_json_str(r, "product.created_at")), "created_at: %s", r->body);
    ck_assert_msg(api_is_timestamp(api_json_str(r, "product.updated_at")), "updated_at: %s", r->body);
}

/* ------------------------------------------------------------ create */

START_TEST(test_create_who)
{
    char name[128], body[256];
    pname(name, sizeof(name), "who");
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":100}", name);
    api_resp r;
    create(&r, body, NULL);
    acct_assert_401(&r, "unauthorized");
    api_free(&r);
    create(&r, body, "not.a.token");
    acct_assert_401(&r, "unauthorized");
    api_free(&r);
    /* A plain user: 403, also before the body is validated. */
    create(&r, body, user());
    api_assert_error(&r, 403, "forbidden");
    api_free(&r);
    create(&r, "{\"price\":\"x\"}", user());
    api_assert_error(&r, 403, "forbidden");
    api_free(&r);
    create(&r, "{}", user());
    api_assert_error(&r, 403, "forbidden");
    api_free(&r);
    /* ... but after the body is parsed (API.md §1.1 order). */
    create(&r, "{", user());
    api_assert_error(&r, 400, "malformed_json");
    api_free(&r);
    create(&r, "", user());
    api_assert_error(&r, 422, "invalid_body");
    api_free(&r);
    /* None of that created it; an admin can. */
    char id[32];
    create_ok(name, 100, id);
}
END_TEST

START_TEST(test_create_defaults)
{
    char name[128], body[512], loc[128], want[128];
    pname(name, sizeof(name), "Mug");
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":1299}", name);
    api_resp r, g;
    create(&r, body, admin());
    ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
    assert_product(&r, name, 1299, "", "", "active");
    ck_assert_str_eq(api_json_str(&r, "product.created_at"), api_json_str(&r, "product.updated_at"));
    ck_assert_msg(api_header(&r, "Location", loc, sizeof(loc)) != NULL, "no Location");
    snprintf(want, sizeof(want), "/product/%s", api_json_str(&r, "product.id"));
    ck_assert_str_eq(loc, want);
    /* The product at Location is the one answered. */
    api_ok(acct_req(&g, "GET", loc, NULL, user(), NULL));
    ck_assert_int_eq(g.status, 200);
    ck_assert_msg(cJSON_Compare(api_json_at(&g, "product"), api_json_at(&r, "product"), 1),
                  "GET %s differs from %s", g.body, r.body);
    api_free(&g);
    api_free(&r);

    /* Every field given. */
    pname(name, sizeof(name), "Full");
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":0,\"img\":\"https://x.test/m.png\","
             "\"description\":\"line 1\\nline\\t2 \\u00e9\",\"state\":\"inactive\"}", name);
    create(&r, body, admin());
    ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
    assert_product(&r, name, 0, "https://x.test/m.png", "line 1\nline\t2 \xc3\xa9", "inactive");
    api_free(&r);

    /* Unknown fields are ignored, a given id or timestamp too. */
    pname(name, sizeof(name), "Extra");
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":5,\"id\":\"1\",\"colour\":\"red\","
             "\"created_at\":\"2020-01-01T00:00:00.000Z\"}", name);
    create(&r, body, admin());
    ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
    assert_product(&r, name, 5, "", "", "active");
    ck_assert_str_ne(api_json_str(&r, "product.id"), "1");
    ck_assert_str_ne(api_json_str(&r, "product.created_at"), "2020-01-01T00:00:00.000Z");
    api_free(&r);
}
END_TEST

START_TEST(test_create_duplicate)
{
    char name[128], other[128], body[512], id[32];
    pname(name, sizeof(name), "Dup");
    create_ok(name, 100, id);
    for (int pass = 0; pass < 3; pass++) {
        snprintf(other, sizeof(other), "%s", name);
        for (char *p = other; *p; p++)
            *p = pass == 0 ? (char)toupper((unsigned char)*p)
               : pass == 1 ? (char)tolower((unsigned char)*p) : *p;
        snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":200}", other);
        api_resp r;
        create(&r, body, admin());
        api_assert_error(&r, 409, "conflict");
        api_free(&r);
    }
    /* The first one is unchanged. */
    api_resp g;
    get_product_auth(&g, id);
    ck_assert_int_eq(g.status, 200);
    ck_assert_str_eq(api_json_str(&g, "product.name"), name);
    ck_assert_int_eq((long)api_json_at(&g, "product.price")->valuedouble, 100);
    api_free(&g);
}
END_TEST

START_TEST(test_create_validation)
{
    char name[128], body[4096], long_name[128], big[2100];
    pname(name, sizeof(name), "Val");
    api_resp r;
    static const char *const prices[] = {
        "12.0", "12.5", "\"12\"", "-1", "100000001", "1e3", "null", "true", "[12]", "{}",
        "9223372036854775808", "-0.5",
    };
    for (size_t i = 0; i < sizeof(prices) / sizeof(prices[0]); i++) {
        snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":%s}", name, prices[i]);
        create(&r, body, admin());
        ck_assert_msg(r.status == 422, "price %s: %ld %s", prices[i], r.status, r.body);
        acct_assert_fields(&r, ACCT_FIELDS("price"));
        api_free(&r);
    }
    /* name: 1-100 characters, a string, no control characters. */
    memset(long_name, 'n', 101);
    long_name[101] = '\0';
    const char *names[] = { "\"\"", NULL, "12", "null", "\"a\\u0001b\"", "\"tab\\there\"", "[\"x\"]" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (names[i] == NULL)
            snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":1}", long_name);
        else
            snprintf(body, sizeof(body), "{\"name\":%s,\"price\":1}", names[i]);
        create(&r, body, admin());
        ck_assert_msg(r.status == 422, "name #%zu: %ld %s", i, r.status, r.body);
        acct_assert_fields(&r, ACCT_FIELDS("name"));
        api_free(&r);
    }
    /* Missing required fields. */
    create(&r, "{}", admin());
    acct_assert_fields(&r, ACCT_FIELDS("name", "price"));
    api_free(&r);
    snprintf(body, sizeof(body), "{\"name\":\"%s\"}", name);
    create(&r, body, admin());
    acct_assert_fields(&r, ACCT_FIELDS("price"));
    api_free(&r);
    create(&r, "{\"price\":100}", admin());
    acct_assert_fields(&r, ACCT_FIELDS("name"));
    api_free(&r);
    /* state, img, description. */
    static const char *const states[] = { "\"gone\"", "\"Active\"", "\"\"", "1", "null" };
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
        snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":1,\"state\":%s}", name, states[i]);
        create(&r, body, admin());
        ck_assert_msg(r.status == 422, "state %s: %ld %s", states[i], r.status, r.body);
        acct_assert_fields(&r, ACCT_FIELDS("state"));
        api_free(&r);
    }
    memset(big, 'i', 256);
    big[256] = '\0';
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":1,\"img\":\"%s\"}", name, big);
    create(&r, body, admin());
    acct_assert_fields(&r, ACCT_FIELDS("img"));
    api_free(&r);
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":1,\"img\":null}", name);
    create(&r, body, admin());
    acct_assert_fields(&r, ACCT_FIELDS("img"));
    api_free(&r);
    memset(big, 'd', 2001);
    big[2001] = '\0';
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":1,\"description\":\"%s\"}", name, big);
    create(&r, body, admin());
    acct_assert_fields(&r, ACCT_FIELDS("description"));
    api_free(&r);
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":1,\"description\":\"a\\u0000b\"}", name);
    create(&r, body, admin());
    ck_assert_msg(r.status == 422, "NUL in description: %ld %s", r.status, r.body);
    api_free(&r);
    /* Several at once: all reported. */
    create(&r, "{\"name\":\"\",\"price\":-1,\"state\":\"gone\",\"img\":5}", admin());
    acct_assert_fields(&r, ACCT_FIELDS("name", "price", "state", "img"));
    api_free(&r);
    /* Body shape. */
    create(&r, "[]", admin());
    api_assert_error(&r, 422, "invalid_body");
    api_free(&r);
    api_ok(acct_req(&r, "POST", "/products", "{\"name\":\"x\",\"price\":1}", admin(),
               (const char *[]){ "Content-Type: text/plain", NULL }));
    api_assert_error(&r, 415, "unsupported_media_type");
    api_free(&r);
    /* None of the above created anything: the name is still free. */
    char id[32];
    create_ok(name, 1, id);
}
END_TEST

START_TEST(test_create_limits)
{
    char name[512], body[8192], id[32], img[300], desc[2100];
    api_resp r;
    /* The largest price, 100 characters of name (code points, not bytes),
     * 255 of img and 2000 of description. */
    char tag[40];
    acct_unique_name(tag, sizeof(tag), "");
    size_t n = (size_t)snprintf(name, sizeof(name), "%s", tag);
    while (n < 100 * 2 - strlen(tag)) {         /* fill with 'é' (2 bytes each) */
        name[n++] = '\xc3';
        name[n++] = '\xa9';
    }
    name[n] = '\0';
    /* tag (ASCII) + é's: count code points exactly 100. */
    size_t cps = strlen(tag) + (n - strlen(tag)) / 2;
    ck_assert_uint_eq(cps, 100);
    memset(img, 'i', 255);
    img[255] = '\0';
    memset(desc, 'd', 2000);
    desc[2000] = '\0';
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":100000000,\"img\":\"%s\",\"description\":\"%s\"}",
             name, img, desc);
    create(&r, body, admin());
    ck_assert_msg(r.status == 201, "limits: %ld %s", r.status, r.body);
    assert_product(&r, name, 100000000, img, desc, "active");
    snprintf(id, sizeof(id), "%s", api_json_str(&r, "product.id"));
    api_free(&r);
    /* The smallest price. */
    char n2[128];
    pname(n2, sizeof(n2), "Zero");
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":0}", n2);
    create(&r, body, admin());
    ck_assert_msg(r.status == 201, "price 0: %ld %s", r.status, r.body);
    api_free(&r);
}
END_TEST

/* ------------------------------------------------------------ update */

START_TEST(test_update_partial)
{
    char name[128], id[32], newname[128], body[512];
    pname(name, sizeof(name), "Upd");
    create_ok(name, 1000, id);
    api_resp before, r;
    get_product_auth(&before, id);
    ck_assert_int_eq(before.status, 200);
    usleep(5000);
    /* price only. */
    put_product(&r, id, "{\"price\":999}", admin());
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    assert_product(&r, name, 999, "", "", "active");
    ck_assert_str_eq(api_json_str(&r, "product.id"), id);
    ck_assert_str_eq(api_json_str(&r, "product.created_at"), api_json_str(&before, "product.created_at"));
    ck_assert_msg(strcmp(api_json_str(&r, "product.updated_at"), api_json_str(&before, "product.updated_at")) > 0,
                  "updated_at did not move: %s", r.body);
    api_free(&r);
    /* Several fields; the others keep their values. */
    put_product(&r, id, "{\"state\":\"inactive\",\"description\":\"new words\",\"img\":\"/i.png\"}", admin());
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    assert_product(&r, name, 999, "/i.png", "new words", "inactive");
    api_free(&r);
    /* Clearing a field to "" is a change, not "absent". */
    pname(newname, sizeof(newname), "Renamed");
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"img\":\"\",\"state\":\"active\",\"colour\":1}", newname);
    put_product(&r, id, body, admin());
    ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
    assert_product(&r, newname, 999, "", "new words", "active");
    api_free(&r);
    /* A case-only change of its own name is allowed. */
    char lower[128];
    snprintf(lower, sizeof(lower), "%s", newname);
    for (char *p = lower; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    snprintf(body, sizeof(body), "{\"name\":\"%s\"}", lower);
    put_product(&r, id, body, admin());
    ck_assert_msg(r.status == 200, "case-only rename: %ld %s", r.status, r.body);
    ck_assert_str_eq(api_json_str(&r, "product.name"), lower);
    api_free(&r);
    /* The old name is free again. */
    char id2[32];
    create_ok(name, 1, id2);
    api_free(&before);
}
END_TEST

START_TEST(test_update_errors)
{
    char name[128], other[128], id[32], oid[32], body[512];
    pname(name, sizeof(name), "UpE");
    pname(other, sizeof(other), "UpO");
    create_ok(name, 1000, id);
    create_ok(other, 1000, oid);
    api_resp r;
    /* Nothing to change. */
    static const char *const empty[] = { "{}", "{\"colour\":\"red\"}", "{\"id\":\"5\"}" };
    for (size_t i = 0; i < 3; i++) {
        put_product(&r, id, empty[i], admin());
        ck_assert_msg(r.status == 422, "%s: %ld %s", empty[i], r.status, r.body);
        api_assert_error(&r, 422, "validation_failed");
        api_free(&r);
    }
    /* Invalid values, and a valid one beside them changes nothing. */
    put_product(&r, id, "{\"price\":\"12\"}", admin());
    acct_assert_fields(&r, ACCT_FIELDS("price"));
    api_free(&r);
    put_product(&r, id, "{\"price\":12.0,\"name\":\"fine\"}", admin());
    acct_assert_fields(&r, ACCT_FIELDS("price"));
    api_free(&r);
    put_product(&r, id, "{\"state\":\"gone\"}", admin());
    acct_assert_fields(&r, ACCT_FIELDS("state"));
    api_free(&r);
    put_product(&r, id, "{\"name\":null}", admin());
    acct_assert_fields(&r, ACCT_FIELDS("name"));
    api_free(&r);
    get_product_auth(&r, id);
    ck_assert_str_eq(api_json_str(&r, "product.name"), name);
    ck_assert_int_eq((long)api_json_at(&r, "product.price")->valuedouble, 1000);
    api_free(&r);
    /* Another product's name, in another case: taken. */
    char upper[128];
    snprintf(upper, sizeof(upper), "%s", other);
    for (char *p = upper; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    snprintf(body, sizeof(body), "{\"name\":\"%s\"}", upper);
    put_product(&r, id, body, admin());
    api_assert_error(&r, 409, "conflict");
    api_free(&r);
    /* Unknown ids: 404 for an admin, also with a bad body (existence comes
     * before field validation). */
    put_product(&r, "1", "{\"price\":5}", admin());
    api_assert_error(&r, 404, "not_found");
    api_free(&r);
    put_product(&r, "18446744073709551615", "{}", admin());
    api_assert_error(&r, 404, "not_found");
    api_free(&r);
    put_product(&r, "1", "{\"price\":-5}", admin());
    api_assert_error(&r, 404, "not_found");
    api_free(&r);
    /* Non-admins: 403 before looking the object up; no token: 401. */
    put_product(&r, id, "{\"price\":5}", user());
    api_assert_error(&r, 403, "forbidden");
    api_free(&r);
    put_product(&r, "1", "{\"price\":5}", user());
    api_assert_error(&r, 403, "forbidden");
    api_free(&r);
    put_product(&r, "1", "{}", user());
    api_assert_error(&r, 403, "forbidden");
    api_free(&r);
    put_product(&r, id, "{\"price\":5}", NULL);
    acct_assert_401(&r, "unauthorized");
    api_free(&r);
    /* Not a route: a non-numeric id. */
    put_product(&r, "abc", "{\"price\":5}", admin());
    api_assert_error(&r, 404, "not_found");
    api_free(&r);
    /* Still unchanged. */
    get_product_auth(&r, id);
    ck_assert_int_eq((long)api_json_at(&r, "product.price")->valuedouble, 1000);
    api_free(&r);
}
END_TEST

/* GET path without a token, with the usual Accept (so it may be answered
 * from nginx's micro-cache, as any anonymous client would be). */
static void get_anon(api_resp *r, const char *path)
{
    api_ok(api_get(r, path));
}

START_TEST(test_update_read_your_writes)
{
    char name[128], id[32], path[64];
    pname(name, sizeof(name), "Ryw");
    create_ok(name, 500, id);
    snprintf(path, sizeof(path), "/product/%s", id);
    api_resp r;
    /* Fill nginx's cache (and Redis) with the old state. */
    get_anon(&r, path);
    ck_assert_int_eq(r.status, 200);
    api_free(&r);
    get_anon(&r, path);
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq((long)api_json_at(&r, "product.price")->valuedouble, 500);
    api_free(&r);

    put_product(&r, id, "{\"price\":501,\"description\":\"changed\"}", admin());
    ck_assert_int_eq(r.status, 200);
    api_free(&r);
    /* The writer (any signed-in reader) sees it at once. */
    api_ok(acct_req(&r, "GET", path, NULL, admin(), NULL));
    ck_assert_int_eq(r.status, 200);
    ck_assert_int_eq((long)api_json_at(&r, "product.price")->valuedouble, 501);
    ck_assert_str_eq(api_json_str(&r, "product.description"), "changed");
    api_free(&r);
    get_product_auth(&r, id);
    ck_assert_int_eq((long)api_json_at(&r, "product.price")->valuedouble, 501);
    api_free(&r);
}
END_TEST

static double now_s(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/* API.md §1.5: an answer from nginx's cache is at most 1 s older than the
 * newest committed write. The old state is cached just after a second
 * starts (the case where whole-second cache lifetimes overshoot most), the
 * product changed, and an anonymous GET 1.25 s after the write must show
 * the change. */
START_TEST(test_anonymous_get_within_1s)
{
    char name[128], id[32], path[64];
    pname(name, sizeof(name), "Stale");
    create_ok(name, 700, id);
    snprintf(path, sizeof(path), "/product/%s", id);
    api_resp r;
    double t = now_s();
    usleep((useconds_t)((1.0 - (t - (double)(long)t)) * 1e6) + 20000);
    /* Stores the old state: a key is stored on its second request, and the
     * next ones are answered from the cache (one more may be a MISS when
     * it reaches the other nginx worker before the file is in place). */
    int cached = 0;
    for (int i = 0; i < 5 && !cached; i++) {
        char xc0[32] = "";
        get_anon(&r, path);
        ck_assert_int_eq(r.status, 200);
        api_header(&r, "X-Cache", xc0, sizeof(xc0));
        cached = strcmp(xc0, "HIT") == 0;
        api_free(&r);
    }
    ck_assert_msg(cached, "the old state was never answered from the cache");
    put_product(&r, id, "{\"price\":701}", admin());
    double written = now_s();
    ck_assert_int_eq(r.status, 200);
    api_free(&r);
    usleep((useconds_t)((written + 1.25 - now_s()) * 1e6));
    get_anon(&r, path);
    char xc[32] = "";
    api_header(&r, "X-Cache", xc, sizeof(xc));
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg((long)api_json_at(&r, "product.price")->valuedouble == 701,
                  "anonymous GET 1.25 s after the write still shows the old state "
                  "(X-Cache: %s): %s", xc, r.body);
    api_free(&r);
}
END_TEST

/* Walks GET /products (signed in) by cursor; returns the product object
 * with this id (a copy the caller frees) and the id of the last item. */
static cJSON *find_in_list(const char *id, char *last_id, size_t lastlen)
{
    char path[512] = "/products?limit=100";
    cJSON *found = NULL;
    last_id[0] = '\0';
    for (int pages = 0; pages < 100; pages++) {
        api_resp r;
        api_ok(acct_req(&r, "GET", path, NULL, user(), NULL));
        ck_assert_msg(r.status == 200, "list: %ld %s", r.status, r.body);
        const cJSON *items = api_json_at(&r, "items"), *it;
        ck_assert_msg(cJSON_IsArray(items), "items: %s", r.body);
        cJSON_ArrayForEach(it, items) {
            const cJSON *iid = cJSON_GetObjectItemCaseSensitive(it, "id");
            if (cJSON_IsString(iid)) {
                snprintf(last_id, lastlen, "%s", iid->valuestring);
                if (strcmp(iid->valuestring, id) == 0 && found == NULL)
                    found = cJSON_Duplicate(it, 1);
            }
        }
        const char *next = api_json_str(&r, "next_cursor");
        if (next == NULL) {
            api_free(&r);
            break;
        }
        snprintf(path, sizeof(path), "/products?limit=100&cursor=%s", next);
        api_free(&r);
    }
    return found;
}

START_TEST(test_list_shows_new)
{
    char name[128], id[32], last[32];
    pname(name, sizeof(name), "List");
    /* Warm the cached pages first. */
    cJSON *none = find_in_list("0", last, sizeof(last));
    ck_assert_ptr_null(none);
    create_ok(name, 4242, id);
    api_resp p;
    get_product_auth(&p, id);
    cJSON *item = find_in_list(id, last, sizeof(last));
    ck_assert_msg(item != NULL, "new product %s not in GET /products", id);
    ck_assert_msg(cJSON_Compare(item, api_json_at(&p, "product"), 1), "list item differs from GET");
    /* Ordered by id ascending: a product made just now is among the last
     * (only products made concurrently by other tests can follow it). */
    ck_assert_msg(strtoull(last, NULL, 10) >= strtoull(id, NULL, 10), "last id %s < new id %s", last, id);
    cJSON_Delete(item);
    /* An update shows in the list at once too. */
    api_resp r;
    put_product(&r, id, "{\"price\":4343}", admin());
    ck_assert_int_eq(r.status, 200);
    api_free(&r);
    item = find_in_list(id, last, sizeof(last));
    ck_assert_ptr_nonnull(item);
    const cJSON *price = cJSON_GetObjectItemCaseSensitive(item, "price");
    ck_assert_msg(cJSON_IsNumber(price) && price->valuedouble == 4343, "list shows the old price");
    cJSON_Delete(item);
    api_free(&p);
}
END_TEST

/* ------------------------------------------------------------ idempotency */

static void key_header(char *out, size_t len, const char *what)
{
    char n[40];
    acct_unique_name(n, sizeof(n), what);
    snprintf(out, len, "Idempotency-Key: pk-%s", n);
}

START_TEST(test_idem_replay)
{
    char name[128], body[512], kh[128], rp[16], l1[128], l2[128];
    pname(name, sizeof(name), "Idem");
    key_header(kh, sizeof(kh), "r");
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":77}", name);
    const char *h[] = { kh, NULL };
    api_resp a, b, c;
    api_ok(acct_req(&a, "POST", "/products", body, admin(), h));
    ck_assert_msg(a.status == 201, "first: %ld %s", a.status, a.body);
    ck_assert_ptr_null(api_header(&a, "Idempotent-Replayed", rp, sizeof(rp)));
    api_ok(acct_req(&b, "POST", "/products", body, admin(), h));
    ck_assert_msg(b.status == 201, "replay: %ld %s", b.status, b.body);
    ck_assert_str_eq(b.body, a.body);
    ck_assert_msg(api_header(&b, "Idempotent-Replayed", rp, sizeof(rp)) && strcmp(rp, "true") == 0,
                  "no Idempotent-Replayed: true");
    ck_assert_msg(api_header(&a, "Location", l1, sizeof(l1)) && api_header(&b, "Location", l2, sizeof(l2)),
                  "Location missing");
    ck_assert_str_eq(l1, l2);
    /* A third time, same again. */
    api_ok(acct_req(&c, "POST", "/products", body, admin(), h));
    ck_assert_int_eq(c.status, 201);
    ck_assert_str_eq(c.body, a.body);
    api_free(&c);
    /* The same key with another body: refused, and not processed. */
    char other[128], body2[512];
    pname(other, sizeof(other), "IdemO");
    snprintf(body2, sizeof(body2), "{\"name\":\"%s\",\"price\":77}", other);
    api_ok(acct_req(&c, "POST", "/products", body2, admin(), h));
    api_assert_error(&c, 422, "idempotency_key_reused");
    api_free(&c);
    /* One product only: without a key the name is taken, and the other
     * name is still free. */
    api_ok(acct_req(&c, "POST", "/products", body, admin(), NULL));
    api_assert_error(&c, 409, "conflict");
    api_free(&c);
    char oid[32];
    create_ok(other, 1, oid);
    /* Another admin with the same key and body: not that admin's request,
     * so it runs (and the name is taken). */
    ck_assert_msg(adm2_tok[0], "no second admin");
    api_ok(acct_req(&c, "POST", "/products", body, adm2_tok, h));
    ck_assert_ptr_null(api_header(&c, "Idempotent-Replayed", rp, sizeof(rp)));
    api_assert_error(&c, 409, "conflict");
    api_free(&c);
    /* The key is per path: POST /users/SignUp with it is another request. */
    api_free(&a);
    api_free(&b);
}
END_TEST

START_TEST(test_idem_failed_then_retried)
{
    char name[128], body[512], kh[128], rp[16];
    pname(name, sizeof(name), "IdemF");
    key_header(kh, sizeof(kh), "f");
    const char *h[] = { kh, NULL };
    api_resp r, first;
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":-1}", name);
    api_ok(acct_req(&r, "POST", "/products", body, admin(), h));
    acct_assert_fields(&r, ACCT_FIELDS("price"));
    api_free(&r);
    /* A 409 is not stored either. */
    char taken[128], tid[32];
    pname(taken, sizeof(taken), "IdemT");
    create_ok(taken, 1, tid);
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":1}", taken);
    api_ok(acct_req(&r, "POST", "/products", body, admin(), h));
    api_assert_error(&r, 409, "conflict");
    api_free(&r);
    /* The retry with a valid body runs. */
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":10}", name);
    api_ok(acct_req(&first, "POST", "/products", body, admin(), h));
    ck_assert_msg(first.status == 201, "retry: %ld %s", first.status, first.body);
    ck_assert_ptr_null(api_header(&first, "Idempotent-Replayed", rp, sizeof(rp)));
    api_ok(acct_req(&r, "POST", "/products", body, admin(), h));
    ck_assert_int_eq(r.status, 201);
    ck_assert_str_eq(r.body, first.body);
    ck_assert_msg(api_header(&r, "Idempotent-Replayed", rp, sizeof(rp)) != NULL, "not replayed");
    api_free(&r);
    api_free(&first);
}
END_TEST

START_TEST(test_idem_key_rules)
{
    char name[128], body[512], kh[200], k65[80];
    pname(name, sizeof(name), "IdemK");
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":1}", name);
    memset(k65, 'x', 65);
    k65[65] = '\0';
    snprintf(kh, sizeof(kh), "Idempotency-Key: %s", k65);
    const char *bad[] = { kh, "Idempotency-Key;", "Idempotency-Key: a\tb", "Idempotency-Key: \xc3\xa9" };
    api_resp r;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *h[] = { bad[i], NULL };
        api_ok(acct_req(&r, "POST", "/products", body, admin(), h));
        ck_assert_msg(r.status == 422, "key #%zu: %ld %s", i, r.status, r.body);
        acct_assert_fields(&r, ACCT_FIELDS("Idempotency-Key"));
        api_free(&r);
    }
    /* A non-admin with a bad key: 403 comes first. */
    const char *h[] = { kh, NULL };
    api_ok(acct_req(&r, "POST", "/products", body, user(), h));
    api_assert_error(&r, 403, "forbidden");
    api_free(&r);
    /* Nothing was created. */
    char id[32];
    create_ok(name, 1, id);
}
END_TEST

Suite *suite_product_writes(void)
{
    Suite *s = suite_create("product_writes");
    TCase *tc;

    tc = api_tcase(s, "create");
    tcase_add_unchecked_fixture(tc, accounts_setup, NULL);
    tcase_add_test(tc, test_create_who);
    tcase_add_test(tc, test_create_defaults);
    tcase_add_test(tc, test_create_duplicate);
    tcase_add_test(tc, test_create_validation);
    tcase_add_test(tc, test_create_limits);

    tc = api_tcase(s, "update");
    tcase_add_unchecked_fixture(tc, accounts_setup, NULL);
    tcase_add_test(tc, test_update_partial);
    tcase_add_test(tc, test_update_errors);
    tcase_add_test(tc, test_update_read_your_writes);
    tcase_add_test(tc, test_anonymous_get_within_1s);
    tcase_add_test(tc, test_list_shows_new);

    tc = api_tcase(s, "idempotency");
    tcase_add_unchecked_fixture(tc, accounts_setup, NULL);
    tcase_add_test(tc, test_idem_replay);
    tcase_add_test(tc, test_idem_failed_then_retried);
    tcase_add_test(tc, test_idem_key_rules);
    return s;
}
