/* accounts.c -- user accounts for the API tests: unique names, requests
 * that never leak a secret, sign-up and sign-in, admins made with roostctl,
 * 401/422 assertions (see accounts.h). */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "accounts.h"

void acct_unique_name(char *out, size_t len, const char *prefix)
{
    static unsigned counter;
    static const char b36[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    unsigned long v = ((unsigned long)time(NULL) % 1000000UL) * 100000UL + (unsigned long)getpid() % 100000UL;
    char tag[16];
    int n = 0;
    do {
        tag[n++] = b36[v % 36];
        v /= 36;
    } while (v && n < 12);
    tag[n] = '\0';
    snprintf(out, len, "%s%s%u", prefix, tag, ++counter);
}

void acct_no_secrets(const api_resp *r)
{
    ck_assert_msg(strstr(r->body, "password_hash") == NULL, "password_hash in answer: %s", r->body);
    ck_assert_msg(strstr(r->body, "argon2") == NULL, "a hash in answer: %s", r->body);
    ck_assert_msg(strstr(r->body, ACCT_PW_MARK) == NULL, "a password in answer: %s", r->body);
}

int acct_req(api_resp *r, const char *method, const char *path, const char *json,
             const char *token, const char *const *extra)
{
    const char *h[16];
    char auth[ACCT_TOKLEN + 32];
    int n = 0, has_ct = 0;
    for (int i = 0; extra && extra[i]; i++)
        if (strncasecmp(extra[i], "Content-Type", 12) == 0)
            has_ct = 1;
    if (json && !has_ct)
        h[n++] = "Content-Type: application/json";
    if (token) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        h[n++] = auth;
    }
    for (int i = 0; extra && extra[i] && n < 15; i++)
        h[n++] = extra[i];
    h[n] = NULL;
    int rc = api_request(r, method, path, json, json ? strlen(json) : 0, h);
    if (rc == 0)
        acct_no_secrets(r);
    return rc;
}

void acct_creds_body(char *out, size_t len, const char *name, const char *pw)
{
    snprintf(out, len, "{\"name\":\"%s\",\"password\":\"%s\"}", name, pw);
}

void acct_copy_str(char *out, size_t len, const char *s)
{
    ck_assert_msg(s != NULL, "missing string");
    ck_assert_msg(strlen(s) < len, "string too long: %s", s);
    strcpy(out, s);
}

/* POST path with name and pw as the body; the answer stays in r. */
static int post_creds(api_resp *r, const char *path, const char *name, const char *pw)
{
    char body[512];
    acct_creds_body(body, sizeof(body), name, pw);
    return acct_req(r, "POST", path, body, NULL, NULL);
}

void acct_signup(const char *name, const char *pw, char id[ACCT_IDLEN])
{
    api_resp r;
    api_ok(post_creds(&r, "/users/SignUp", name, pw));
    ck_assert_msg(r.status == 201, "sign-up %s: %ld %s", name, r.status, r.body);
    if (id)
        acct_copy_str(id, ACCT_IDLEN, api_json_str(&r, "user.id"));
    api_free(&r);
}

void acct_signin(const char *name, const char *pw, char tok[ACCT_TOKLEN])
{
    api_resp r;
    api_ok(post_creds(&r, "/users/SignIn", name, pw));
    ck_assert_msg(r.status == 200, "sign-in %s: %ld %s", name, r.status, r.body);
    acct_copy_str(tok, ACCT_TOKLEN, api_json_str(&r, "access_token"));
    api_free(&r);
}

long acct_signin_status(const char *name, const char *pw)
{
    api_resp r;
    api_ok(post_creds(&r, "/users/SignIn", name, pw));
    long st = r.status;
    api_free(&r);
    return st;
}

void acct_new_user(const char *prefix, char name[ACCT_NAMELEN], char id[ACCT_IDLEN],
                   char tok[ACCT_TOKLEN])
{
    acct_unique_name(name, ACCT_NAMELEN, prefix);
    acct_signup(name, ACCT_PW, id);
    if (tok)
        acct_signin(name, ACCT_PW, tok);
}

/* ------------------------------------------------------------ no asserts */

int acct_try_signin(const char *name, const char *pw, char id[ACCT_IDLEN], char tok[ACCT_TOKLEN])
{
    api_resp r;
    const char *t = NULL, *i = NULL;
    tok[0] = '\0';
    if (post_creds(&r, "/users/SignIn", name, pw) == 0 && r.status == 200) {
        t = api_json_str(&r, "access_token");
        i = api_json_str(&r, "user.id");
    }
    int ok = t && i && strlen(t) < ACCT_TOKLEN && strlen(i) < ACCT_IDLEN;
    if (ok) {
        strcpy(tok, t);
        if (id)
            strcpy(id, i);
    } else {
        fprintf(stderr, "accounts: sign-in of %s failed: %ld %s\n", name, r.status, r.body);
    }
    api_free(&r);
    return ok ? 0 : -1;
}

int acct_make_user(const char *prefix, char name[ACCT_NAMELEN], char tok[ACCT_TOKLEN])
{
    api_resp r;
    tok[0] = '\0';
    acct_unique_name(name, ACCT_NAMELEN, prefix);
    if (post_creds(&r, "/users/SignUp", name, ACCT_PW) != 0 || r.status != 201) {
        fprintf(stderr, "accounts: sign-up of %s failed: %ld %s\n", name, r.status, r.body);
        api_free(&r);
        return -1;
    }
    api_free(&r);
    return acct_try_signin(name, ACCT_PW, NULL, tok);
}

int acct_make_admin(const char *prefix, char name[ACCT_NAMELEN], char id[ACCT_IDLEN],
                    char tok[ACCT_TOKLEN])
{
    char args[256];
    tok[0] = '\0';
    acct_unique_name(name, ACCT_NAMELEN, prefix);
    snprintf(args, sizeof(args), "user create --admin --name %s --password-stdin", name);
    if (acct_roostctl(args, ACCT_PW) != 0) {
        fprintf(stderr, "accounts: roostctl user create --admin failed\n");
        return -1;
    }
    return acct_try_signin(name, ACCT_PW, id, tok);
}

/* ------------------------------------------------------------ roostctl */

/* The operator tool of the test stack: the build the stack runs (from its
 * stack.env), else <repo>/build. */
static int roostctl_path(char *out, size_t len)
{
    const char *run = getenv("ROOST_TEST_RUN_DIR"), *dev = getenv("ROOST_DEV");
    char line[1024], path[1024];
    out[0] = '\0';
    if (run) {
        snprintf(path, sizeof(path), "%s/stack.env", run);
        FILE *f = fopen(path, "r");
        while (f && fgets(line, sizeof(line), f)) {
            if (strncmp(line, "BUILD_DIR=", 10) == 0) {
                line[strcspn(line, "\r\n")] = '\0';
                snprintf(out, len, "%s/app/roostctl/roostctl", line + 10);
            }
        }
        if (f)
            fclose(f);
    }
    if (out[0] == '\0' && dev) {
        snprintf(path, sizeof(path), "%s", dev);
        char *slash = strrchr(path, '/');
        if (slash)
            *slash = '\0';
        snprintf(out, len, "%s/build/app/roostctl/roostctl", slash ? path : ".");
    }
    return out[0] && access(out, X_OK) == 0 ? 0 : -1;
}

int acct_roostctl(const char *args, const char *input)
{
    char bin[1100], cmd[4096];
    const char *conf = getenv("ROOST_TEST_CONF");
    if (conf == NULL || roostctl_path(bin, sizeof(bin)) != 0) {
        fprintf(stderr, "accounts: no roostctl, or ROOST_TEST_CONF not set\n");
        return -1;
    }
    snprintf(cmd, sizeof(cmd), "'%s' -c '%s' %s >&2", bin, conf, args);
    signal(SIGPIPE, SIG_IGN);
    FILE *p = popen(cmd, "w");
    if (p == NULL)
        return -1;
    if (input)
        fprintf(p, "%s\n", input);
    int st = pclose(p);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ------------------------------------------------------------ assertions */

void acct_assert_401(const api_resp *r, const char *code)
{
    char www[256];
    api_assert_error(r, 401, code);
    ck_assert_msg(api_header(r, "WWW-Authenticate", www, sizeof(www)) != NULL,
                  "401 without WWW-Authenticate: %s", r->body);
    ck_assert_msg(strncmp(www, "Bearer", 6) == 0, "WWW-Authenticate: %s", www);
}

void acct_assert_fields(const api_resp *r, const char *const *fields)
{
    api_assert_error(r, 422, "validation_failed");
    const cJSON *f = api_json_at(r, "error.fields");
    int want = 0;
    for (; fields[want]; want++) {
        const cJSON *one = cJSON_GetObjectItemCaseSensitive(f, fields[want]);
        ck_assert_msg(cJSON_IsString(one) && one->valuestring[0], "no fields.%s in %s",
                      fields[want], r->body);
    }
    ck_assert_msg(cJSON_GetArraySize(f) == want, "fields other than expected: %s", r->body);
}

void acct_user_new(acct_user *u, const char *prefix)
{
    acct_new_user(prefix, u->name, u->id, u->tok);
}
