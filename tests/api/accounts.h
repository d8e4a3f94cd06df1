/* accounts.h -- user accounts for the API tests that need them (the users
 * and product-write suites): unique names, requests with a JSON body and a
 * bearer token that fail on any leaked password or hash, sign-up and
 * sign-in, admins made with the operator tool (roostctl), and the shared
 * assertions on 401 and 422 answers.
 *
 * Two kinds of helpers: the acct_* ones that assert (Check) are for use
 * inside tests; acct_try_signin, acct_make_user and acct_make_admin assert
 * nothing, so unchecked fixtures (run in the runner process) may call them
 * and leave the failing to the tests. */
#ifndef ROOST_TESTS_API_ACCOUNTS_H
#define ROOST_TESTS_API_ACCOUNTS_H

#include <stddef.h>

#include "client.h"

/* Every password these tests send contains ACCT_PW_MARK, so answers and
 * logs can be searched for it. Names never do. */
#define ACCT_PW_MARK  "Sekr1t"
#define ACCT_PW       ACCT_PW_MARK "-pass-word"
#define ACCT_TOKLEN   2048      /* room for an access token and its NUL */
#define ACCT_NAMELEN  40        /* room for a name from acct_unique_name */
#define ACCT_IDLEN    32        /* room for a user id */

/* A name unique to this process and call, starting with prefix: tests run
 * in forked children, so the pid differs per test; a counter covers
 * CK_FORK=no. The stack keeps its data for the whole run. */
void acct_unique_name(char *out, size_t len, const char *prefix);

/* Fails when an answer carries a password, a hash or the word for one. */
void acct_no_secrets(const api_resp *r);

/* method path with a JSON body (NULL: none) as application/json unless
 * `extra` has its own Content-Type, a bearer token (NULL: none) and extra
 * header lines (NULL-terminated, or NULL). Every answer goes through
 * acct_no_secrets. 0 when an HTTP answer came back. */
int acct_req(api_resp *r, const char *method, const char *path, const char *json,
             const char *token, const char *const *extra);

/* {"name":name,"password":pw} into out. */
void acct_creds_body(char *out, size_t len, const char *name, const char *pw);

/* Copies s into out, asserting it is there and fits. */
void acct_copy_str(char *out, size_t len, const char *s);

/* Signs up name with pw (201 asserted); id (NULL: not wanted) gets the new
 * id. */
void acct_signup(const char *name, const char *pw, char id[ACCT_IDLEN]);

/* Signs in (200 asserted); tok gets the access token. */
void acct_signin(const char *name, const char *pw, char tok[ACCT_TOKLEN]);

/* The status of a sign-in attempt (its answer freed). */
long acct_signin_status(const char *name, const char *pw);

/* A new user named prefix..., with password ACCT_PW (sign-up asserted);
 * signed in when tok is not NULL. */
void acct_new_user(const char *prefix, char name[ACCT_NAMELEN], char id[ACCT_IDLEN],
                   char tok[ACCT_TOKLEN]);

/* A signed-up, signed-in user as most API tests need one. */
typedef struct {
    char name[ACCT_NAMELEN];
    char id[ACCT_IDLEN];
    char tok[ACCT_TOKLEN];
} acct_user;

/* acct_new_user into u (asserted). */
void acct_user_new(acct_user *u, const char *prefix);

/* Signs in without asserting: tok gets the access token and id (NULL: not
 * wanted) the user's id. 0 on success; on failure tok is "". */
int acct_try_signin(const char *name, const char *pw, char id[ACCT_IDLEN], char tok[ACCT_TOKLEN]);

/* A new plain user named prefix..., with password ACCT_PW, signed up and
 * signed in without asserting. 0 on success; on failure tok is "" and the
 * reason is on stderr. */
int acct_make_user(const char *prefix, char name[ACCT_NAMELEN], char tok[ACCT_TOKLEN]);

/* A new admin named prefix..., with password ACCT_PW, made by
 * `roostctl user create --admin` and signed in, without asserting; id may
 * be NULL. 0 on success; on failure tok is "" and the reason is on stderr. */
int acct_make_admin(const char *prefix, char name[ACCT_NAMELEN], char id[ACCT_IDLEN],
                    char tok[ACCT_TOKLEN]);

/* Runs `roostctl -c $ROOST_TEST_CONF ARGS` (the roostctl the test stack
 * was built with) with `input` on stdin (NULL: nothing); its exit status,
 * or -1. */
int acct_roostctl(const char *args, const char *input);

/* Asserts a 401 on a protected endpoint: the error code and a Bearer
 * challenge in WWW-Authenticate. */
void acct_assert_401(const api_resp *r, const char *code);

/* Asserts a 422 validation_failed that names exactly these fields
 * (NULL-terminated; see ACCT_FIELDS). */
void acct_assert_fields(const api_resp *r, const char *const *fields);

#define ACCT_FIELDS(...) ((const char *const[]){ __VA_ARGS__, NULL })

#endif
