/* test_authz.c -- the authorization matrix: every route roostd serves
 * (its route tables, read through libapi's rst_app_route_def) times seven
 * callers -- anonymous, another user, the owner, an admin, an expired
 * token, a revoked token and an alg-none token -- on an object that exists
 * and on one that does not, each cell with the exact status (and error
 * code) API.md gives it. GET rows are asked with HEAD too.
 *
 * The expectation table below has one row per route, keyed by its name and
 * repeating its methods, pattern and flags: a route added to a table
 * without its row here, a row whose route is gone, or a route whose
 * methods, pattern or flags changed fails the test before any request. */
#include <check.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts.h"
#include "api/app.h"
#include "auth/token.h"
#include "client.h"
#include "core/ids.h"
#include "core/secret.h"
#include "suites.h"

/* ------------------------------------------------------------ callers */

enum { ANON, OTHER, OWNER, ADMIN, EXPIRED, REVOKED, ALGNONE, NCALLERS };
static const char *const caller_names[NCALLERS] = {
    "anonymous", "other user", "owner", "admin", "expired token", "revoked token", "alg-none token",
};

/* What the matrix acts on, made once by the unchecked fixture. */
typedef struct {
    acct_user owner, other;
    char admin_name[ACCT_NAMELEN], admin_id[ACCT_IDLEN];
    char tok[NCALLERS][ACCT_TOKLEN];   /* "" for anonymous */
    char product[ACCT_IDLEN];          /* active, made by the admin */
    char item[ACCT_IDLEN];             /* in the owner's cart */
    char tweet[ACCT_IDLEN];            /* by the owner */
    int ready;
} world;

static world w;

/* An id that exists nowhere: a time of 0 ms since the epoch of ids
 * (2026-01-01) was never minted, on logical shard 1. */
#define MISSING_ID "2048"

/* ------------------------------------------------------------ the table */

/* What a row's path names, and whether each cell needs its own object
 * (a cell that deletes one, or a cart add that must create). */
typedef enum { T_NONE, T_USER, T_PRODUCT, T_ITEM, T_TWEET } target;
enum { FRESH = 1, PREP_UNFOLLOW = 2, PREP_FOLLOW = 4 };

typedef struct {
    const char *name;            /* the route's name */
    unsigned    methods;         /* as in its table */
    const char *pattern;
    unsigned    flags;
    target      tgt;
    unsigned    prep;
    const char *body;            /* "%s": a unique name or a fresh object's id; NULL: none */
    int         want[NCALLERS];  /* on the object that exists */
    int         miss[NCALLERS];  /* on MISSING_ID (rows with an id) */
} row;

#define ALL(s) { s, s, s, s, s, s, s }
/* Signed-in routes: the token is checked first, so every bad token is a
 * 401 whatever the object. */
#define SIGNED(other, owner, admin) { 401, other, owner, admin, 401, 401, 401 }

static const row rows[] = {
    { "healthz", RST_M_GET, "/healthz", RST_H_OPS, T_NONE, 0, NULL, ALL(200), { 0 } },
    { "readyz",  RST_M_GET, "/readyz",  RST_H_OPS, T_NONE, 0, NULL, ALL(200), { 0 } },
    { "status",  RST_M_GET, "/status",  RST_H_OPS, T_NONE, 0, NULL, ALL(200), { 0 } },
    { "metrics", RST_M_GET, "/metrics", RST_H_OPS, T_NONE, 0, NULL, ALL(200), { 0 } },

    { "products.list", RST_M_GET, "/products", 0, T_NONE, 0, NULL, ALL(200), { 0 } },
    /* Admin-only: 403 to a non-admin before the product is looked up. */
    { "product.create", RST_M_POST, "/products", RST_H_AUTH | RST_H_FIELDS, T_NONE, 0,
      "{\"name\":\"%s\",\"price\":100}", SIGNED(403, 403, 201), { 0 } },
    { "product.get", RST_M_GET, "/product/{id}", 0, T_PRODUCT, 0, NULL, ALL(200), ALL(404) },
    { "product.update", RST_M_PUT, "/product/{id}", RST_H_AUTH | RST_H_FIELDS, T_PRODUCT, 0,
      "{\"description\":\"matrix\"}", SIGNED(403, 403, 200), SIGNED(403, 403, 404) },

    /* Public POSTs: a token, valid or not, changes nothing. */
    { "users.signup", RST_M_POST, "/users/SignUp", RST_H_FIELDS, T_NONE, 0,
      "{\"name\":\"%s\",\"password\":\"" ACCT_PW "\"}", ALL(201), { 0 } },
    { "users.signin", RST_M_POST, "/users/SignIn", RST_H_FIELDS | RST_H_NO_REPLAY, T_NONE, 0,
      "{\"name\":\"%s\",\"password\":\"" ACCT_PW "\"}", ALL(200), { 0 } },
    { "user.get", RST_M_GET, "/users/{id}", 0, T_USER, 0, NULL, ALL(200), ALL(404) },
    /* Non-owner non-admin: 403 whether or not the user exists. */
    { "user.update", RST_M_PUT, "/users/{id}", RST_H_AUTH | RST_H_FIELDS, T_USER, 0,
      "{\"name\":\"%s\"}", SIGNED(403, 200, 200), SIGNED(403, 403, 404) },

    /* Someone else's cart: 403; a user that does not exist: 404 for an
     * admin, 403 for anyone else. */
    { "cart.list", RST_M_GET, "/addToCars/{id}", RST_H_AUTH, T_USER, 0, NULL,
      SIGNED(403, 200, 200), SIGNED(403, 403, 404) },
    { "cart.add", RST_M_POST, "/addToCars/{id}", RST_H_AUTH | RST_H_FIELDS, T_USER, FRESH,
      "{\"product_id\":\"%s\"}", SIGNED(403, 201, 201), SIGNED(403, 403, 404) },
    /* An item that does not exist: 404 for anyone signed in. */
    { "cart.item.get", RST_M_GET, "/addToCar/{id}", RST_H_AUTH, T_ITEM, 0, NULL,
      SIGNED(403, 200, 200), SIGNED(404, 404, 404) },
    { "cart.item.update", RST_M_PUT, "/addToCar/{id}", RST_H_AUTH | RST_H_FIELDS, T_ITEM, 0,
      "{\"quantity\":2}", SIGNED(403, 200, 200), SIGNED(404, 404, 404) },
    { "cart.item.delete", RST_M_DELETE, "/addToCar/{id}", RST_H_AUTH, T_ITEM, FRESH, NULL,
      SIGNED(403, 200, 200), SIGNED(404, 404, 404) },

    { "followers.list", RST_M_GET, "/followers/{id}", 0, T_USER, 0, NULL, ALL(200), ALL(404) },
    { "following.list", RST_M_GET, "/following/{id}", 0, T_USER, 0, NULL, ALL(200), ALL(404) },
    /* Anyone signed in follows the path's user; the owner is that user
     * (422: not oneself). */
    { "follow.add", RST_M_POST, "/followers/{id}", RST_H_AUTH | RST_H_NO_FIELDS, T_USER,
      PREP_UNFOLLOW, NULL, SIGNED(201, 422, 201), SIGNED(404, 404, 404) },
    { "follow.remove", RST_M_DELETE, "/followers/{id}", RST_H_AUTH, T_USER, PREP_FOLLOW, NULL,
      SIGNED(200, 422, 200), SIGNED(404, 404, 404) },

    { "tweets.feed", RST_M_GET, "/tweets", 0, T_NONE, 0, NULL, ALL(200), { 0 } },
    { "tweets.user", RST_M_GET, "/tweets/{id}", 0, T_USER, 0, NULL, ALL(200), ALL(404) },
    /* Only as oneself: an admin too gets 403 on another user's path. */
    { "tweet.create", RST_M_POST, "/tweets/{id}", RST_H_AUTH | RST_H_FIELDS, T_USER, 0,
      "{\"message\":\"matrix\"}", SIGNED(403, 201, 403), SIGNED(403, 403, 403) },
    { "tweet.get", RST_M_GET, "/tweet/{id}", 0, T_TWEET, 0, NULL, ALL(200), ALL(404) },
    /* The tweet is looked up first: missing is 404 for anyone signed in. */
    { "tweet.update", RST_M_PUT, "/tweet/{id}", RST_H_AUTH | RST_H_FIELDS, T_TWEET, 0,
      "{\"message\":\"edited\"}", SIGNED(403, 200, 200), SIGNED(404, 404, 404) },
    { "tweet.delete", RST_M_DELETE, "/tweet/{id}", RST_H_AUTH, T_TWEET, FRESH, NULL,
      SIGNED(403, 200, 200), SIGNED(404, 404, 404) },

    { "timeline", RST_M_GET, "/timeline", RST_H_AUTH, T_NONE, 0, NULL,
      SIGNED(200, 200, 200), { 0 } },
};

/* ------------------------------------------------------------ fixture */

static int make(const char *method, const char *path, const char *body, const char *tok,
                long want, const char *idpath, char out[ACCT_IDLEN])
{
    api_resp r;
    if (acct_req(&r, method, path, body, tok, NULL) != 0)
        return -1;
    int ok = r.status == want;
    const char *id = idpath ? api_json_str(&r, idpath) : NULL;
    if (ok && idpath != NULL)
        ok = id != NULL && snprintf(out, ACCT_IDLEN, "%s", id) < ACCT_IDLEN;
    if (!ok)
        fprintf(stderr, "test_authz: %s %s: %ld %s\n", method, path, r.status, r.body);
    api_free(&r);
    return ok ? 0 : -1;
}

static int new_product(char id[ACCT_IDLEN])
{
    char name[ACCT_NAMELEN], body[128];
    acct_unique_name(name, sizeof(name), "AzP");
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":100}", name);
    return make("POST", "/products", body, w.tok[ADMIN], 201, "product.id", id);
}

static int new_item(char id[ACCT_IDLEN])
{
    char prod[ACCT_IDLEN], path[64], body[96];
    if (new_product(prod) != 0)
        return -1;
    snprintf(path, sizeof(path), "/addToCars/%s", w.owner.id);
    snprintf(body, sizeof(body), "{\"product_id\":\"%s\"}", prod);
    return make("POST", path, body, w.tok[OWNER], 201, "item.id", id);
}

static int new_tweet(char id[ACCT_IDLEN])
{
    char path[64];
    snprintf(path, sizeof(path), "/tweets/%s", w.owner.id);
    return make("POST", path, "{\"message\":\"matrix\"}", w.tok[OWNER], 201, "tweet.id", id);
}

/* base64url, no padding. */
static void b64(const void *p, size_t n, char *out, size_t cap)
{
    sodium_bin2base64(out, cap, p, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* A token for the owner, signed with the stack's key, that expired an
 * hour ago (beyond any leeway). */
static int expired_token(char out[ACCT_TOKLEN])
{
    const rst_config *cfg = api_stack_config();
    rst_secrets sec;
    char err[256];
    if (cfg == NULL || rst_secret_load(cfg->secret_file, &sec, err, sizeof(err)) != 0) {
        fprintf(stderr, "test_authz: the stack's secret: %s\n", cfg ? err : "no config");
        return -1;
    }
    rst_claims c = { 0 };
    if (!rst_id_parse(w.owner.id, &c.sub))
        return -1;
    char *t = rst_token_issue(sec.jwt, &c, (int64_t)time(NULL) - 7200, 60);
    sodium_memzero(&sec, sizeof(sec));
    if (t == NULL)
        return -1;
    int ok = snprintf(out, ACCT_TOKLEN, "%s", t) < ACCT_TOKLEN;
    free(t);
    return ok ? 0 : -1;
}

/* The owner's current claims under {"alg":"none"} and no signature. */
static void alg_none_token(const char *valid, char out[ACCT_TOKLEN])
{
    static const char head[] = "{\"alg\":\"none\",\"typ\":\"JWT\"}";
    char h[64];
    const char *p = strchr(valid, '.'), *s = p ? strchr(p + 1, '.') : NULL;
    b64(head, sizeof(head) - 1, h, sizeof(h));
    snprintf(out, ACCT_TOKLEN, "%s.%.*s.", h, s ? (int)(s - p - 1) : 0, p ? p + 1 : "");
}

/* The owner's first token, revoked by a password change made with it;
 * the owner signs in again with the new password. */
static int revoke_owner_token(void)
{
    char path[64], body[128];
    snprintf(w.tok[REVOKED], ACCT_TOKLEN, "%s", w.owner.tok);
    snprintf(path, sizeof(path), "/users/%s", w.owner.id);
    snprintf(body, sizeof(body), "{\"password\":\"%s-2\"}", ACCT_PW);
    if (make("PUT", path, body, w.owner.tok, 200, NULL, NULL) != 0)
        return -1;
    snprintf(body, sizeof(body), "%s-2", ACCT_PW);
    return acct_try_signin(w.owner.name, body, NULL, w.tok[OWNER]);
}

static int make_users(void)
{
    if (acct_make_user("AzO", w.owner.name, w.owner.tok) != 0 ||
        acct_try_signin(w.owner.name, ACCT_PW, w.owner.id, w.owner.tok) != 0 ||
        acct_make_user("AzX", w.other.name, w.other.tok) != 0 ||
        acct_try_signin(w.other.name, ACCT_PW, w.other.id, w.other.tok) != 0 ||
        acct_make_admin("AzA", w.admin_name, w.admin_id, w.tok[ADMIN]) != 0)
        return -1;
    snprintf(w.tok[OTHER], ACCT_TOKLEN, "%s", w.other.tok);
    if (revoke_owner_token() != 0 || expired_token(w.tok[EXPIRED]) != 0)
        return -1;
    alg_none_token(w.tok[OWNER], w.tok[ALGNONE]);
    return 0;
}

static void matrix_setup(void)
{
    memset(&w, 0, sizeof(w));
    if (make_users() != 0 || new_product(w.product) != 0 || new_item(w.item) != 0 ||
        new_tweet(w.tweet) != 0) {
        fprintf(stderr, "test_authz: the fixture could not be made\n");
        return;
    }
    w.ready = 1;
}

/* ------------------------------------------------------------ the check */

static const rst_route_def *def_named(const char *name)
{
    const rst_route_def *d;
    for (size_t i = 0; (d = rst_app_route_def(i)) != NULL; i++)
        if (strcmp(d->name, name) == 0)
            return d;
    return NULL;
}

static const row *row_named(const char *name)
{
    for (int i = 0; i < API_COUNT(rows); i++)
        if (strcmp(rows[i].name, name) == 0)
            return &rows[i];
    return NULL;
}

/* Appends to the list of problems (one line each). */
static void note(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(char *out, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(out);
    va_list ap;
    va_start(ap, fmt);
    if (n < cap)
        vsnprintf(out + n, cap - n, fmt, ap);
    va_end(ap);
}

START_TEST(every_route_has_its_row)
{
    char problems[4096] = "";
    const rst_route_def *d;
    size_t n = 0;
    for (; (d = rst_app_route_def(n)) != NULL; n++) {
        const row *r = row_named(d->name);
        if (r == NULL)
            note(problems, sizeof(problems), "\n  route %s (%s) has no row in test_authz.c",
                 d->name, d->pattern);
        else if (r->methods != d->methods || strcmp(r->pattern, d->pattern) != 0 ||
                 r->flags != d->flags)
            note(problems, sizeof(problems), "\n  route %s changed: methods %#x pattern %s flags %#x"
                 " (the row says %#x %s %#x)", d->name, d->methods, d->pattern, d->flags,
                 r->methods, r->pattern, r->flags);
    }
    for (int i = 0; i < API_COUNT(rows); i++)
        if (def_named(rows[i].name) == NULL)
            note(problems, sizeof(problems), "\n  row %s names no route", rows[i].name);
    ck_assert_msg(n > 0, "libapi lists no routes");
    ck_assert_msg(problems[0] == '\0', "the matrix and the route tables differ:%s", problems);
}
END_TEST

static const char *method_name(unsigned m)
{
    switch (m) {
    case RST_M_GET: return "GET";
    case RST_M_POST: return "POST";
    case RST_M_PUT: return "PUT";
    case RST_M_DELETE: return "DELETE";
    default: return "?";
    }
}

/* The id a row's path takes for this cell ("" when it has none). */
static int cell_id(const row *r, int missing, char id[ACCT_IDLEN])
{
    id[0] = '\0';
    if (missing) {
        snprintf(id, ACCT_IDLEN, "%s", MISSING_ID);
        return 0;
    }
    switch (r->tgt) {
    case T_NONE: return 0;
    case T_USER: snprintf(id, ACCT_IDLEN, "%s", w.owner.id); return 0;
    case T_PRODUCT: snprintf(id, ACCT_IDLEN, "%s", w.product); return 0;
    case T_ITEM: return r->prep & FRESH ? new_item(id) : (snprintf(id, ACCT_IDLEN, "%s", w.item), 0);
    case T_TWEET: return r->prep & FRESH ? new_tweet(id) : (snprintf(id, ACCT_IDLEN, "%s", w.tweet), 0);
    }
    return -1;
}

/* The body a row sends in this cell (NULL: none). */
static const char *cell_body(const row *r, char *out, size_t cap)
{
    char arg[ACCT_NAMELEN > ACCT_IDLEN ? ACCT_NAMELEN : ACCT_IDLEN] = "";
    if (r->body == NULL)
        return NULL;
    if (strcmp(r->name, "users.signin") == 0)
        snprintf(arg, sizeof(arg), "%s", w.other.name);
    else if (strcmp(r->name, "user.update") == 0)
        snprintf(arg, sizeof(arg), "%s", w.owner.name);      /* unchanged: no side effect */
    else if (strcmp(r->name, "cart.add") == 0)
        ck_assert_int_eq(new_product(arg), 0);
    else
        acct_unique_name(arg, sizeof(arg), "AzN");
    const char *hole = strstr(r->body, "%s");
    if (hole == NULL)
        snprintf(out, cap, "%s", r->body);
    else
        snprintf(out, cap, "%.*s%s%s", (int)(hole - r->body), r->body, arg, hole + 2);
    return out;
}

/* Before a follow, the caller follows nobody; before an unfollow, it
 * follows the path's user (answers ignored: this only sets the state). */
static void cell_prep(const row *r, int caller, const char *path)
{
    const char *tok = caller == OTHER || caller == ADMIN ? w.tok[caller] : NULL;
    api_resp x;
    if (tok == NULL || !(r->prep & (PREP_FOLLOW | PREP_UNFOLLOW)))
        return;
    if (acct_req(&x, r->prep & PREP_FOLLOW ? "POST" : "DELETE", path, NULL, tok, NULL) == 0)
        api_free(&x);
}

/* The error code a status gives this caller (NULL for a success). */
static const char *want_code(int status, int caller)
{
    switch (status) {
    case 401: return caller == EXPIRED || caller == REVOKED ? "token_expired" : "unauthorized";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 422: return "validation_failed";
    default: return NULL;
    }
}

/* One request of the matrix; a mismatch is noted, not asserted, so one
 * run lists every wrong cell. */
static void run_cell(const row *r, const char *method, int caller, int missing, int *cells,
                     char *problems, size_t cap)
{
    char id[ACCT_IDLEN], path[128], body[256], *p = path;
    int want = missing ? r->miss[caller] : r->want[caller];
    ck_assert_msg(cell_id(r, missing, id) == 0, "%s: could not make its object", r->name);
    const char *brace = strstr(r->pattern, "{id}");
    if (brace != NULL)
        snprintf(p, sizeof(path), "%.*s%s%s", (int)(brace - r->pattern), r->pattern, id, brace + 4);
    else
        snprintf(p, sizeof(path), "%s", r->pattern);
    cell_prep(r, caller, path);
    const char *json = cell_body(r, body, sizeof(body));
    const char *tok = caller == ANON ? NULL : w.tok[caller];
    api_resp x;
    api_ok(acct_req(&x, method, path, json, tok, NULL));
    (*cells)++;
    const char *code = want_code(want, caller);
    const char *got = x.json ? api_json_str(&x, "error.code") : NULL;
    char www[256];
    int head = strcmp(method, "HEAD") == 0;
    if (x.status != want || (!head && code != NULL && (got == NULL || strcmp(got, code) != 0)))
        note(problems, cap, "\n  %s %s as %s%s: %ld %s, want %d %s", method, r->pattern,
             caller_names[caller], missing ? " (no such object)" : "", x.status,
             got ? got : "", want, code ? code : "");
    else if (want == 401 && api_header(&x, "WWW-Authenticate", www, sizeof(www)) == NULL)
        note(problems, cap, "\n  %s %s as %s: 401 without WWW-Authenticate", method, r->pattern,
             caller_names[caller]);
    api_free(&x);
}

START_TEST(every_route_answers_every_caller_as_api_md_says)
{
    ck_assert_msg(w.ready, "the matrix fixture could not be made (see stderr)");
    static char problems[16384];
    int cells = 0;
    problems[0] = '\0';
    for (int i = 0; i < API_COUNT(rows); i++) {
        const row *r = &rows[i];
        const char *methods[2] = { method_name(r->methods), r->methods == RST_M_GET ? "HEAD" : NULL };
        for (int m = 0; m < 2 && methods[m] != NULL; m++)
            for (int missing = 0; missing <= (r->tgt != T_NONE); missing++)
                for (int caller = 0; caller < NCALLERS; caller++)
                    run_cell(r, methods[m], caller, missing, &cells, problems, sizeof(problems));
    }
    fprintf(stderr, "test_authz: %d cells over %d routes\n", cells, API_COUNT(rows));
    ck_assert_msg(problems[0] == '\0', "cells that differ from API.md:%s", problems);
}
END_TEST

Suite *suite_authz(void)
{
    Suite *s = suite_create("authz");
    TCase *t = api_tcase(s, "tables");
    tcase_add_test(t, every_route_has_its_row);
    t = api_tcase(s, "matrix");
    /* About 450 requests and a dozen sign-ins (Argon2id). */
    tcase_set_timeout(t, 120);
    tcase_add_unchecked_fixture(t, matrix_setup, NULL);
    tcase_add_test(t, every_route_answers_every_caller_as_api_md_says);
    return s;
}
