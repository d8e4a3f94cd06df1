/* h_users.c -- sign-up, sign-in and user profiles (API.md §2). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/token.h"
#include "core/json.h"
#include "core/timefmt.h"
#include "domain/users.h"
#include "api/handlers.h"
#include "api/validate.h"

static void user_body(rst_ctx *c, const rst_user *u)
{
    rst_buf_puts(c->resp->body, "{\"user\":");
    rst_user_json(c->resp->body, u);
    rst_buf_putc(c->resp->body, '}');
}

/* name and password as sign-up and profile changes require them. */
static int read_name(rst_ctx *c, const char **name)
{
    size_t len;
    int r = rst_field_string(c, "name", 0, SIZE_MAX, RST_STR_ANY, name, &len);
    if (r == 1) {
        const char *problem = rst_user_name_problem(*name, len);
        if (problem != NULL) {
            rst_response_field(c->resp, "name", problem);
            return -1;
        }
    }
    return r;
}

static int read_password(rst_ctx *c, const char **pw, size_t *len)
{
    int r = rst_field_string(c, "password", 0, SIZE_MAX, RST_STR_ANY, pw, len);
    if (r == 1) {
        const char *problem = rst_user_password_problem(*pw, *len);
        if (problem != NULL) {
            rst_response_field(c->resp, "password", problem);
            return -1;
        }
    }
    return r;
}

/* ---------------------------------------------------------------- sign-up */

typedef struct {
    const char *name;
    const char *pw;
    size_t      pwlen;
    int         role;              /* -1: not sent (profile changes) */
    rst_user    user;              /* the user being changed */
} user_input;

static void check_signup(rst_ctx *c)
{
    const cJSON *role = cJSON_GetObjectItemCaseSensitive(c->body, "role");
    if (role != NULL && !(cJSON_IsString(role) && !rst_json_string_has_nul(role) &&
                          strcmp(role->valuestring, "user") == 0)) {
        rst_response_error(c->resp, 403, "forbidden", "only the operator tool creates admins");
        return;
    }
    user_input *in = rst_ctx_input(c, sizeof(*in));
    if (in == NULL)
        return;
    if (read_name(c, &in->name) == 0)
        rst_field_missing(c, "name");
    if (read_password(c, &in->pw, &in->pwlen) == 0)
        rst_field_missing(c, "password");
}

static void signup(rst_ctx *c)
{
    const user_input *in = c->input;
    rst_user u;
    rst_why why = { 0 };
    rst_err err = rst_users_signup(c->svc, c->arena, in->name, in->pw, in->pwlen, 0, &u, &why);
    if (err != RST_OK) {
        rst_ctx_fail(c, err, &why);
        return;
    }
    c->resp->status = 201;
    rst_ctx_location(c, "/users/", u.id);
    user_body(c, &u);
}

/* ---------------------------------------------------------------- sign-in */

static void check_signin(rst_ctx *c)
{
    user_input *in = rst_ctx_input(c, sizeof(*in));
    size_t nlen;
    if (in == NULL)
        return;
    if (rst_field_string(c, "name", 1, 256, RST_STR_ANY, &in->name, &nlen) == 0)
        rst_field_missing(c, "name");
    if (rst_field_string(c, "password", 1, 1024, RST_STR_ANY, &in->pw, &in->pwlen) == 0)
        rst_field_missing(c, "password");
}

static void signin_answer(rst_ctx *c, const rst_user *u)
{
    rst_claims claims = { .sub = u->id, .admin = u->admin, .ver = u->token_version };
    int ttl = c->svc->cfg->token_ttl;
    char *token = rst_token_issue(c->svc->secrets.jwt, &claims,
                                  (int64_t)(rst_time_now_ms() / 1000), ttl);
    if (token == NULL) {
        rst_ctx_fail(c, RST_E_INTERNAL, NULL);
        return;
    }
    rst_buf *b = c->resp->body;
    rst_buf_puts(b, "{\"access_token\":");
    rst_json_str(b, token);
    rst_buf_puts(b, ",\"token_type\":\"Bearer\",\"expires_in\":");
    rst_json_u64(b, (uint64_t)ttl);
    rst_buf_puts(b, ",\"user\":");
    rst_user_json(b, u);
    rst_buf_putc(b, '}');
    c->resp->cache = RST_CACHE_PRIVATE;
    free(token);
}

static void signin(rst_ctx *c)
{
    const user_input *in = c->input;
    rst_user u;
    int retry_after = 0;
    /* A name that breaks the rules cannot exist: same answer as a wrong
     * password, after the same work, so the two are indistinguishable. */
    rst_err err;
    if (rst_user_name_problem(in->name, strlen(in->name)) != NULL) {
        rst_pw_verify_dummy(&c->svc->pw, in->pw, in->pwlen);
        err = RST_E_UNAUTHORIZED;
    } else {
        err = rst_users_signin(c->svc, c->arena, in->name, in->pw, in->pwlen, &u, &retry_after);
    }
    if (err == RST_E_RATE_LIMITED) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%d", retry_after > 0 ? retry_after : 1);
        rst_ctx_fail(c, err, NULL);
        rst_response_header(c->resp, "Retry-After", ra);
        return;
    }
    if (err != RST_OK) {
        rst_ctx_fail(c, err, NULL);
        return;
    }
    signin_answer(c, &u);
}

/* ---------------------------------------------------------------- profiles */

static void user_get(rst_ctx *c)
{
    rst_user u;
    rst_err err = rst_users_get(c->svc, c->arena, c->match.ids[0], &u);
    if (err != RST_OK) {
        rst_ctx_fail(c, err, NULL);
        return;
    }
    c->resp->cache = RST_CACHE_PUBLIC;
    user_body(c, &u);
}

static void check_user_update(rst_ctx *c)
{
    static const char *const roles[] = { "user", "admin", NULL };
    uint64_t id = c->match.ids[0];
    if (rst_ctx_require_owner(c, id) != 0)
        return;
    if (!c->auth.admin && rst_field_present(c, "role")) {
        rst_response_error(c->resp, 403, "forbidden", "only an admin may change a role");
        return;
    }
    user_input *in = rst_ctx_input(c, sizeof(*in));
    if (in == NULL)
        return;
    rst_err err = rst_users_get(c->svc, c->arena, id, &in->user);
    if (err != RST_OK) {
        rst_ctx_fail(c, err, NULL);
        return;
    }
    in->role = -1;
    int seen = read_name(c, &in->name) != 0;
    seen |= read_password(c, &in->pw, &in->pwlen) != 0;
    seen |= rst_field_enum(c, "role", roles, &in->role) != 0;
    if (!seen)
        rst_response_field(c->resp, "body", "send at least one of name, password or role");
}

/* Applies the requested changes in a fixed order; each step re-reads the
 * user, so the answer shows the final state. */
static void user_update(rst_ctx *c)
{
    user_input *in = c->input;
    rst_user *u = &in->user;
    rst_why why = { 0 };
    rst_err err = RST_OK;
    if (in->name != NULL && strcmp(in->name, u->name) != 0)
        err = rst_users_rename(c->svc, c->arena, u, in->name, &why);
    if (err == RST_OK && in->pw != NULL)
        err = rst_users_set_password(c->svc, c->arena, u, in->pw, in->pwlen);
    if (err == RST_OK && in->role >= 0 && in->role != u->admin)
        err = rst_users_set_role(c->svc, c->arena, u, in->role);
    if (err != RST_OK) {
        rst_ctx_fail(c, err, &why);
        return;
    }
    user_body(c, u);
}

/* ---------------------------------------------------------------- routes */

/* A sign-in answer holds a fresh token: it must not be kept in Redis nor
 * replayed (a replay would also skip the throttle), so no idempotency. */
static const rst_route_def defs[] = {
    { RST_M_POST, "/users/SignUp", "users.signup", RST_H_FIELDS, check_signup, signup },
    { RST_M_POST, "/users/SignIn", "users.signin", RST_H_FIELDS | RST_H_NO_REPLAY,
      check_signin, signin },
    { RST_M_GET,  "/users/{id}",   "user.get",     0, NULL, user_get },
    { RST_M_PUT,  "/users/{id}",   "user.update",  RST_H_AUTH | RST_H_FIELDS,
      check_user_update, user_update },
};

const rst_route_table rst_user_routes = RST_ROUTE_TABLE(defs);
