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

void rst_h_signup(rst_ctx *c)
{
    const cJSON *role = cJSON_GetObjectItemCaseSensitive(c->body, "role");
    if (role != NULL && !(cJSON_IsString(role) && !rst_json_string_has_nul(role) &&
                          strcmp(role->valuestring, "user") == 0)) {
        rst_response_error(c->resp, 403, "forbidden", "only the operator tool creates admins");
        return;
    }
    const char *name = NULL, *pw = NULL;
    size_t pwlen = 0;
    if (read_name(c, &name) == 0)
        rst_field_missing(c, "name");
    if (read_password(c, &pw, &pwlen) == 0)
        rst_field_missing(c, "password");
    if (rst_ctx_fields_ok(c) != 0)
        return;
    rst_user u;
    rst_err err = rst_users_signup(c->svc, c->arena, name, pw, pwlen, 0, &u);
    if (err == RST_E_CONFLICT) {
        rst_response_error(c->resp, 409, "conflict", "this name is taken");
        return;
    }
    if (err != RST_OK) {
        rst_ctx_fail(c, err);
        return;
    }
    c->resp->status = 201;
    rst_ctx_location(c, "/users/", u.id);
    user_body(c, &u);
}

void rst_h_signin(rst_ctx *c)
{
    const char *name = NULL, *pw = NULL;
    size_t nlen, pwlen;
    if (rst_field_string(c, "name", 1, 256, RST_STR_ANY, &name, &nlen) == 0)
        rst_field_missing(c, "name");
    if (rst_field_string(c, "password", 1, 1024, RST_STR_ANY, &pw, &pwlen) == 0)
        rst_field_missing(c, "password");
    if (rst_ctx_fields_ok(c) != 0)
        return;
    rst_user u;
    int retry_after = 0;
    /* A name that breaks the rules cannot exist: same answer as a wrong
     * password, after the same work, so the two are indistinguishable. */
    rst_err err;
    if (rst_user_name_problem(name, nlen) != NULL) {
        rst_pw_verify_dummy(&c->svc->pw, pw, pwlen);
        err = RST_E_UNAUTHORIZED;
    } else {
        err = rst_users_signin(c->svc, c->arena, name, pw, pwlen, &u, &retry_after);
    }
    if (err == RST_E_RATE_LIMITED) {
        char ra[16];
        snprintf(ra, sizeof(ra), "%d", retry_after > 0 ? retry_after : 1);
        rst_ctx_fail(c, err);
        rst_response_header(c->resp, "Retry-After", ra);
        return;
    }
    if (err != RST_OK) {
        rst_ctx_fail(c, err);
        return;
    }
    rst_claims claims = { .sub = u.id, .admin = u.admin, .ver = u.token_version };
    int ttl = c->svc->cfg->token_ttl;
    char *token = rst_token_issue(c->svc->secrets.jwt, &claims,
                                  (int64_t)(rst_time_now_ms() / 1000), ttl);
    if (token == NULL) {
        rst_ctx_fail(c, RST_E_INTERNAL);
        return;
    }
    rst_buf *b = c->resp->body;
    rst_buf_puts(b, "{\"access_token\":");
    rst_json_str(b, token);
    rst_buf_puts(b, ",\"token_type\":\"Bearer\",\"expires_in\":");
    rst_json_u64(b, (uint64_t)ttl);
    rst_buf_puts(b, ",\"user\":");
    rst_user_json(b, &u);
    rst_buf_putc(b, '}');
    c->resp->cache = RST_CACHE_PRIVATE;
    free(token);
}

void rst_h_user_get(rst_ctx *c)
{
    rst_user u;
    rst_err err = rst_users_get(c->svc, c->arena, c->match.ids[0], &u);
    if (err != RST_OK) {
        rst_ctx_fail(c, err);
        return;
    }
    c->resp->cache = RST_CACHE_PUBLIC;
    user_body(c, &u);
}

/* Applies the requested changes in a fixed order; each step re-reads the
 * user, so the answer shows the final state. */
static rst_err apply_changes(rst_ctx *c, rst_user *u, const char *name, const char *pw,
                             size_t pwlen, int role)
{
    rst_err err = RST_OK;
    if (name != NULL && strcmp(name, u->name) != 0)
        err = rst_users_rename(c->svc, c->arena, u, name);
    if (err == RST_OK && pw != NULL)
        err = rst_users_set_password(c->svc, c->arena, u, pw, pwlen);
    if (err == RST_OK && role >= 0 && role != u->admin)
        err = rst_users_set_role(c->svc, c->arena, u, role);
    return err;
}

void rst_h_user_update(rst_ctx *c)
{
    static const char *const roles[] = { "user", "admin", NULL };
    uint64_t id = c->match.ids[0];
    if (rst_ctx_require_owner(c, id) != 0)
        return;
    if (!c->auth.admin && rst_field_present(c, "role")) {
        rst_response_error(c->resp, 403, "forbidden", "only an admin may change a role");
        return;
    }
    rst_user u;
    rst_err err = rst_users_get(c->svc, c->arena, id, &u);
    if (err != RST_OK) {
        rst_ctx_fail(c, err);
        return;
    }
    const char *name = NULL, *pw = NULL;
    size_t pwlen = 0;
    int role = -1;
    int seen = read_name(c, &name) != 0;
    seen |= read_password(c, &pw, &pwlen) != 0;
    seen |= rst_field_enum(c, "role", roles, &role) != 0;
    if (!seen)
        rst_response_field(c->resp, "body", "send at least one of name, password or role");
    if (rst_ctx_fields_ok(c) != 0)
        return;
    err = apply_changes(c, &u, name, pw, pwlen, role);
    if (err == RST_E_CONFLICT) {
        rst_response_error(c->resp, 409, "conflict", "this name is taken");
        return;
    }
    if (err != RST_OK) {
        rst_ctx_fail(c, err);
        return;
    }
    user_body(c, &u);
}
