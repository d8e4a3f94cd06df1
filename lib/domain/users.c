/* users.c -- sign-up, sign-in, profile reads and changes (see users.h). */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "core/num.h"
#include "core/timefmt.h"
#include "core/utf8.h"
#include "domain/names.h"
#include "domain/users.h"

#define USER_COLS "USSUUUUTTS"
#define USER_SELECT \
    "SELECT id, name, role, token_version, followers_count, following_count, " \
    "tweets_count, created_at, updated_at, password_hash FROM users "

static const char SQL_USER_BY_ID[] = USER_SELECT "WHERE id = ?";
static const char SQL_NAME_LOOKUP[] = "SELECT user_id FROM usernames WHERE name_lc = ?";
static const char SQL_CLAIM_NAME[] =
    "INSERT INTO usernames (name_lc, user_id, created_at) VALUES (?, ?, ?)";
static const char SQL_RELEASE_NAME[] = "DELETE FROM usernames WHERE name_lc = ? AND user_id = ?";
static const char SQL_INSERT_USER[] =
    "INSERT INTO users (id, name, password_hash, role, token_version, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, 0, ?, ?)";
static const char SQL_SET_NAME[] = "UPDATE users SET name = ?, updated_at = ? WHERE id = ?";
static const char SQL_SET_PASSWORD[] =
    "UPDATE users SET password_hash = ?, token_version = token_version + 1, updated_at = ? "
    "WHERE id = ?";
static const char SQL_REHASH[] = "UPDATE users SET password_hash = ? WHERE id = ?";
static const char SQL_SET_ROLE[] =
    "UPDATE users SET role = ?, token_version = token_version + 1, updated_at = ? WHERE id = ?";
/* Short, because a write that could not reach Redis (it was down) leaves
 * the old version cached when Redis comes back: this bounds how long. */
#define TOKEN_STATE_TTL_S 60

static const char SQL_USER_EXISTS[] = "SELECT id FROM users WHERE id = ?";
static const char SQL_TOKEN_STATE[] = "SELECT token_version, role FROM users WHERE id = ?";

/* ------------------------------------------------------------ rules */

const char *rst_user_name_problem(const char *name, size_t len)
{
    static const char msg[] =
        "must be 1 to 30 characters of A-Z a-z 0-9 _ . - starting with a letter, digit or _";
    if (len == 0 || len > RST_NAME_MAX)
        return msg;
    if (!(isalnum((unsigned char)name[0]) || name[0] == '_'))
        return msg;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (!(c < 0x80 && (isalnum(c) || c == '_' || c == '.' || c == '-')))
            return msg;
    }
    return NULL;
}

const char *rst_user_password_problem(const char *pw, size_t len)
{
    size_t n = rst_utf8_count(pw, len);
    if (n < 8 || n > 128)
        return "must be 8 to 128 characters";
    return NULL;
}

/* The directory key of a name. A name longer than any valid one is
 * refused, never cut: a cut name would be somebody else's. */
static int lower_name(const char *name, char out[RST_NAME_MAX + 1])
{
    size_t i = 0;
    for (; name[i]; i++) {
        if (i == RST_NAME_MAX) {
            out[0] = '\0';
            return -1;
        }
        out[i] = (char)tolower((unsigned char)name[i]);
    }
    out[i] = '\0';
    return 0;
}

/* ------------------------------------------------------------ helpers */

void rst_user_json(rst_buf *b, const rst_user *u)
{
    rst_buf_puts(b, "{\"id\":");
    rst_json_id(b, u->id);
    rst_buf_puts(b, ",\"name\":");
    rst_json_str(b, u->name);
    rst_buf_puts(b, ",\"role\":");
    rst_json_str(b, u->admin ? "admin" : "user");
    rst_buf_puts(b, ",\"created_at\":");
    rst_json_time(b, u->created_ms);
    rst_buf_puts(b, ",\"updated_at\":");
    rst_json_time(b, u->updated_ms);
    rst_buf_puts(b, ",\"followers_count\":");
    rst_json_u64(b, u->followers_count);
    rst_buf_puts(b, ",\"following_count\":");
    rst_json_u64(b, u->following_count);
    rst_buf_puts(b, ",\"tweets_count\":");
    rst_json_u64(b, u->tweets_count);
    rst_buf_putc(b, '}');
}

static void row_to_user(const rst_value *r, rst_user *u)
{
    u->id = r[0].u;
    u->name = r[1].s;
    u->admin = strcmp(r[2].s, "admin") == 0;
    u->token_version = r[3].u;
    u->followers_count = r[4].u;
    u->following_count = r[5].u;
    u->tweets_count = r[6].u;
    u->created_ms = r[7].u;
    u->updated_ms = r[8].u;
    u->password_hash = r[9].s;
}

/* Token state is cached as "<version> <admin>" under user:{id}:tv.
 * Writers overwrite it with what they just committed; readers filling a
 * miss only add it when absent (NX), so a reader holding a value from
 * before a password change can never put the old version back. */
static void cache_token_state(rst_services *s, uint64_t id, uint64_t version, int admin, int nx)
{
    char val[48];
    rst_key k;
    int n = snprintf(val, sizeof(val), "%" PRIu64 " %d", version, admin ? 1 : 0);
    rst_key_token_state(s->cache, &k, id);
    if (nx) {
        rst_cache_add(s->cache, &k, val, (size_t)n, TOKEN_STATE_TTL_S);
        return;
    }
    /* A revocation must reach Redis even while this worker's breaker is
     * open: other workers may be reading the old version there. */
    rst_cmd cmd;
    rst_cmd_set(&cmd, &k, val, (size_t)n, TOKEN_STATE_TTL_S, 0);
    if (rst_cache_write_cmd(s->cache, &cmd) != 0)
        rst_log_warn("user %" PRIu64 ": the new token version could not reach Redis; "
                     "older tokens may pass for up to %d s", id, TOKEN_STATE_TTL_S);
}

/* "<version> <0|1>" and nothing else; anything else (a foreign or
 * corrupt value) is a miss, never a version 0. */
static int parse_token_state(const char *v, uint64_t *version, int *admin)
{
    size_t n = rst_parse_u64(v, version);
    if (n == 0 || v[n] != ' ' || (v[n + 1] != '0' && v[n + 1] != '1') || v[n + 2] != '\0')
        return -1;
    *admin = v[n + 1] == '1';
    return 0;
}

/* The cached token state goes (through an open breaker too): the next
 * check reads the version from the shard. For a change whose outcome is
 * not known, or whose new state could not be read back. */
static void forget_token_state(rst_services *s, uint64_t id)
{
    rst_key k;
    rst_cmd del;
    rst_key_token_state(s->cache, &k, id);
    rst_cmd_init(&del, "DEL");
    rst_cmd_key(&del, &k);
    rst_cache_write_cmd(s->cache, &del);
}

/* After a change that bumped the token version. */
static rst_err reload_after_change(rst_services *s, rst_arena *a, rst_user *u)
{
    rst_err err = rst_users_get(s, a, u->id, u);
    if (err == RST_OK) {
        cache_token_state(s, u->id, u->token_version, u->admin, 0);
    } else {
        forget_token_state(s, u->id);
    }
    return err;
}

rst_err rst_users_get(rst_services *s, rst_arena *a, uint64_t id, rst_user *out)
{
    const rst_value *row;
    rst_err err = rst_shard_row(s, a, id, RST_REPLICA, SQL_USER_BY_ID, USER_COLS, "user get", &row);
    if (err == RST_OK)
        row_to_user(row, out);
    return err;
}

/* The directory row for a lower-cased name. */
static rst_err lookup_name(rst_services *s, rst_arena *a, const char *name_lc, uint64_t *id)
{
    rst_db *db;
    rst_err err = rst_shard(s, rst_shard_for_name(&s->map, name_lc), RST_REPLICA, &db);
    if (err != RST_OK)
        return err;
    rst_param p[1] = { rst_p_str(name_lc) };
    rst_rows rows;
    rst_db_rc rc = rst_db_query(db, a, SQL_NAME_LOOKUP, p, 1, "U", &rows);
    if (rc != RST_DB_OK)
        return rst_store_fail(db, rc, "name lookup");
    if (rows.nrows == 0)
        return RST_E_NOT_FOUND;
    *id = rst_row(&rows, 0)[0].u;
    return RST_OK;
}

rst_err rst_users_find_by_name(rst_services *s, rst_arena *a, const char *name, rst_user *out)
{
    char lc[RST_NAME_MAX + 1];
    uint64_t id;
    /* A name that breaks the rules names nobody. */
    if (rst_user_name_problem(name, strlen(name)) != NULL || lower_name(name, lc) != 0)
        return RST_E_NOT_FOUND;
    rst_err err = lookup_name(s, a, lc, &id);
    return err != RST_OK ? err : rst_users_get(s, a, id, out);
}

/* ------------------------------------------------------------ sign-up */

/* The answer to a sign-up that committed: the row read back, or, when the
 * server went away right after the commit, the user as written -- a 502
 * would make the client's retry a 409 for its own name. */
static rst_err signed_up(rst_services *s, rst_arena *a, uint64_t id, const char *name, int admin,
                         uint64_t now, rst_user *out)
{
    if (rst_users_get(s, a, id, out) == RST_OK)
        return RST_OK;
    memset(out, 0, sizeof(*out));
    out->id = id;
    out->name = rst_arena_strdup(a, name);
    out->admin = admin;
    out->created_ms = out->updated_ms = now;
    return out->name != NULL ? RST_OK : RST_E_INTERNAL;
}

rst_err rst_users_signup(rst_services *s, rst_arena *a, const char *name,
                         const char *password, size_t pwlen, int admin, rst_user *out,
                         rst_why *why)
{
    char lc[RST_NAME_MAX + 1], hash[RST_PW_HASH_MAX];
    if (lower_name(name, lc) != 0)
        return rst_fail(why, RST_E_VALIDATION, "name", "must be 1 to 30 characters");
    if (rst_pw_hash(&s->pw, password, pwlen, hash) != 0)
        return RST_E_INTERNAL;
    unsigned shard = rst_shard_for_name(&s->map, lc);
    rst_db *db;
    rst_err err = rst_shard(s, shard, RST_WRITER, &db);
    if (err != RST_OK)
        return err;
    uint64_t id = rst_idgen_next(&s->ids, shard);
    uint64_t now = rst_time_now_ms();
    rst_param claim[3] = { rst_p_str(lc), rst_p_u64(id), rst_p_time(now) };
    rst_param user[6] = { rst_p_u64(id), rst_p_str(name), rst_p_str(hash),
                          rst_p_str(admin ? "admin" : "user"), rst_p_time(now), rst_p_time(now) };
    rst_db_rc rc = rst_db_begin(db);
    if (rc == RST_DB_OK)
        rc = rst_db_exec(db, SQL_CLAIM_NAME, claim, 3, NULL);
    if (rc == RST_DB_OK)
        rc = rst_db_exec(db, SQL_INSERT_USER, user, 6, NULL);
    if (rc == RST_DB_OK)
        rc = rst_db_commit(db);
    if (rc == RST_DB_UNKNOWN) {
        rst_param probe[1] = { rst_p_u64(id) };
        err = rst_store_outcome(db, SQL_USER_EXISTS, probe, 1, "sign-up");
        if (err != RST_OK)
            return RST_E_UNAVAILABLE;       /* not applied, or still unknown: retry */
        rst_mark_writer(s, id);
        return signed_up(s, a, id, name, admin, now, out);
    }
    if (rc != RST_DB_OK) {
        rst_db_rollback(db);
        if (rc == RST_DB_DUP)
            return rst_fail(why, RST_E_CONFLICT, "name", "is taken");
        return rst_store_fail(db, rc, "sign-up");
    }
    rst_mark_writer(s, id);          /* the new user's first reads see the row */
    return signed_up(s, a, id, name, admin, now, out);
}

/* ------------------------------------------------------------ sign-in */

static void rehash_if_needed(rst_services *s, const rst_user *u, const char *pw, size_t pwlen)
{
    char hash[RST_PW_HASH_MAX];
    if (!rst_pw_needs_rehash(&s->pw, u->password_hash) || rst_pw_hash(&s->pw, pw, pwlen, hash) != 0)
        return;
    rst_param p[2] = { rst_p_str(hash), rst_p_u64(u->id) };
    rst_db *db;
    if (rst_shard_of(s, u->id, RST_WRITER, &db) != RST_OK)
        return;
    if (rst_db_exec(db, SQL_REHASH, p, 2, NULL) != RST_DB_OK)
        rst_log_warn("sign-in: re-hash of user %" PRIu64 " failed: %s", u->id, rst_db_last_error(db));
}

rst_err rst_users_signin(rst_services *s, rst_arena *a, const char *name,
                         const char *password, size_t pwlen, rst_user *out, int *retry_after)
{
    char lc[RST_NAME_MAX + 1];
    if (lower_name(name, lc) != 0) {
        rst_pw_verify_dummy(&s->pw, password, pwlen);
        return RST_E_UNAUTHORIZED;
    }
    if (rst_throttle_blocked(&s->throttle, s->cache, lc, retry_after))
        return RST_E_RATE_LIMITED;
    uint64_t id;
    rst_err err = lookup_name(s, a, lc, &id);
    if (err == RST_OK)
        err = rst_users_get(s, a, id, out);
    if (err == RST_E_NOT_FOUND) {
        rst_pw_verify_dummy(&s->pw, password, pwlen);
        rst_throttle_failure(&s->throttle, s->cache, lc);
        return RST_E_UNAUTHORIZED;
    }
    if (err != RST_OK)
        return err;
    if (!rst_pw_verify(out->password_hash, password, pwlen)) {
        rst_throttle_failure(&s->throttle, s->cache, lc);
        return RST_E_UNAUTHORIZED;
    }
    rehash_if_needed(s, out, password, pwlen);
    return RST_OK;
}

/* ------------------------------------------------------------ changes */

static rst_err exec_on_user(rst_services *s, const rst_user *u, const char *sql,
                            const rst_param *p, int n, const char *what)
{
    rst_db *db;
    rst_err err = rst_shard_of(s, u->id, RST_WRITER, &db);
    if (err != RST_OK)
        return err;
    rst_db_rc rc = rst_db_exec(db, sql, p, n, NULL);
    return rc == RST_DB_OK ? RST_OK : rst_store_fail(db, rc, what);
}

/* After a failed rename: did it happen after all (the update's answer may
 * have been lost)? When it cannot be told, say yes: a claim left behind
 * blocks a name, a claim released under a user who holds the name would
 * let a second user take it. */
static int renamed_after_all(rst_services *s, rst_arena *a, uint64_t id, const char *new_name)
{
    rst_user now;
    return rst_users_get(s, a, id, &now) != RST_OK || strcmp(now.name, new_name) == 0;
}

rst_err rst_users_rename(rst_services *s, rst_arena *a, rst_user *u, const char *new_name,
                         rst_why *why)
{
    char old_lc[RST_NAME_MAX + 1], new_lc[RST_NAME_MAX + 1];
    if (lower_name(u->name, old_lc) != 0 || lower_name(new_name, new_lc) != 0)
        return rst_fail(why, RST_E_VALIDATION, "name", "must be 1 to 30 characters");
    uint64_t now = rst_time_now_ms();
    int claims = strcmp(old_lc, new_lc) != 0;   /* a change of case keeps the claim */
    rst_db *new_db, *old_db;
    rst_err err = rst_shard(s, rst_shard_for_name(&s->map, new_lc), RST_WRITER, &new_db);
    if (err == RST_OK)
        err = rst_shard(s, rst_shard_for_name(&s->map, old_lc), RST_WRITER, &old_db);
    if (err != RST_OK)
        return err;
    if (claims) {
        rst_param claim[3] = { rst_p_str(new_lc), rst_p_u64(u->id), rst_p_time(now) };
        rst_db_rc rc = rst_db_exec(new_db, SQL_CLAIM_NAME, claim, 3, NULL);
        if (rc == RST_DB_DUP)
            return rst_fail(why, RST_E_CONFLICT, "name", "is taken");
        if (rc != RST_DB_OK)
            return rst_store_fail(new_db, rc, "rename: claim");
    }
    rst_param set[3] = { rst_p_str(new_name), rst_p_time(now), rst_p_u64(u->id) };
    err = exec_on_user(s, u, SQL_SET_NAME, set, 3, "rename: update");
    if (err != RST_OK) {
        if (claims && !renamed_after_all(s, a, u->id, new_name)) {
            rst_param rel[2] = { rst_p_str(new_lc), rst_p_u64(u->id) };
            rst_db_exec(new_db, SQL_RELEASE_NAME, rel, 2, NULL);
        }
        return err;
    }
    if (claims) {
        rst_param rel[2] = { rst_p_str(old_lc), rst_p_u64(u->id) };
        if (rst_db_exec(old_db, SQL_RELEASE_NAME, rel, 2, NULL) != RST_DB_OK)
            rst_log_warn("rename of user %" PRIu64 ": old name claim left behind: %s",
                         u->id, rst_db_last_error(old_db));
    }
    rst_names_publish(s, u->id, new_name);     /* tweets show the new name at once */
    return rst_users_get(s, a, u->id, u);
}

rst_err rst_users_set_password(rst_services *s, rst_arena *a, rst_user *u,
                               const char *password, size_t pwlen)
{
    char hash[RST_PW_HASH_MAX];
    if (rst_pw_hash(&s->pw, password, pwlen, hash) != 0)
        return RST_E_INTERNAL;
    rst_param p[3] = { rst_p_str(hash), rst_p_time(rst_time_now_ms()), rst_p_u64(u->id) };
    rst_err err = exec_on_user(s, u, SQL_SET_PASSWORD, p, 3, "set password");
    if (err != RST_OK)
        forget_token_state(s, u->id);       /* it may have committed: revoke anyway */
    return err != RST_OK ? err : reload_after_change(s, a, u);
}

rst_err rst_users_set_role(rst_services *s, rst_arena *a, rst_user *u, int admin)
{
    rst_param p[3] = { rst_p_str(admin ? "admin" : "user"), rst_p_time(rst_time_now_ms()),
                       rst_p_u64(u->id) };
    rst_err err = exec_on_user(s, u, SQL_SET_ROLE, p, 3, "set role");
    if (err != RST_OK)
        forget_token_state(s, u->id);       /* it may have committed: revoke anyway */
    return err != RST_OK ? err : reload_after_change(s, a, u);
}

/* ------------------------------------------------------------ tokens */

rst_err rst_users_token_state(rst_services *s, rst_arena *a, uint64_t id,
                              uint64_t *version, int *admin)
{
    char *hit;
    size_t len;
    rst_key k;
    rst_key_token_state(s->cache, &k, id);
    int got = rst_cache_get(s->cache, a, &k, &hit, &len);
    if (got == 1 && parse_token_state(hit, version, admin) == 0)
        return RST_OK;
    if (got == 1)
        rst_cache_del(s->cache, &k);     /* unreadable: let the fill below replace it */
    const rst_value *row;
    /* Revocation is checked on the primary, never on a copy that may lag. */
    rst_err err = rst_shard_row(s, a, id, RST_PRIMARY, SQL_TOKEN_STATE, "US", "token state", &row);
    if (err != RST_OK)
        return err;
    *version = row[0].u;
    *admin = strcmp(row[1].s, "admin") == 0;
    cache_token_state(s, id, *version, *admin, 1);
    return RST_OK;
}
