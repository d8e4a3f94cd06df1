/* users.h -- user accounts across shards (API.md §2, docs/ARCHITECTURE.md, "Data placement").
 *
 * A user lives on the logical shard embedded in its id. Names are unique
 * without regard to case through the usernames directory: the row for a
 * name lives on the shard picked by a hash of the lower-cased name, and a
 * new user is placed on that same shard, so sign-up is one local
 * transaction. A rename claims the new name, updates the user, then
 * releases the old claim; a crash in between leaves only a stale claim. */
#ifndef ROOST_USERS_H
#define ROOST_USERS_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/buf.h"
#include "domain/errors.h"
#include "domain/services.h"

#define RST_NAME_MAX 30

typedef struct {
    uint64_t    id;
    const char *name;
    int         admin;
    uint64_t    token_version;
    uint64_t    followers_count;
    uint64_t    following_count;
    uint64_t    tweets_count;
    uint64_t    created_ms;
    uint64_t    updated_ms;
    const char *password_hash;
} rst_user;

/* Name rules: 1..30 of A-Z a-z 0-9 _ . -, starting with a letter, digit or _.
 * Returns NULL when valid, else the message for the client. */
const char *rst_user_name_problem(const char *name, size_t len);
/* Password rules: 8..128 code points (valid UTF-8 assumed). */
const char *rst_user_password_problem(const char *pw, size_t len);

/* Writes the public User object. */
void rst_user_json(rst_buf *b, const rst_user *u);

/* RST_E_CONFLICT ("name: is taken") when the name is claimed. */
rst_err rst_users_signup(rst_services *s, rst_arena *a, const char *name,
                         const char *password, size_t pwlen, int admin, rst_user *out,
                         rst_why *why);
rst_err rst_users_get(rst_services *s, rst_arena *a, uint64_t id, rst_user *out);
/* RST_E_NOT_FOUND for a name that breaks the name rules: it names nobody. */
rst_err rst_users_find_by_name(rst_services *s, rst_arena *a, const char *name, rst_user *out);

/* Sign-in: throttled, constant-ish time for unknown names, re-hashes when
 * the configured cost rose. RST_E_UNAUTHORIZED for a wrong name/password;
 * RST_E_RATE_LIMITED with *retry_after when throttled. */
rst_err rst_users_signin(rst_services *s, rst_arena *a, const char *name,
                         const char *password, size_t pwlen, rst_user *out, int *retry_after);

/* Changes; each re-reads the user into *u afterwards. */
rst_err rst_users_rename(rst_services *s, rst_arena *a, rst_user *u, const char *new_name,
                         rst_why *why);
rst_err rst_users_set_password(rst_services *s, rst_arena *a, rst_user *u,
                               const char *password, size_t pwlen);
rst_err rst_users_set_role(rst_services *s, rst_arena *a, rst_user *u, int admin);

/* The current token version and role of a user, for token checks (cached
 * in Redis). RST_E_NOT_FOUND when the user does not exist. */
rst_err rst_users_token_state(rst_services *s, rst_arena *a, uint64_t id,
                              uint64_t *version, int *admin);

#endif
