/* genclaim.c -- claims on id generator numbers in the catalog (see genclaim.h). */
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "store/db.h"
#include "store/genclaim.h"

#define CLAIM_LOCK "roost:generator_claims"

static const char SQL_LOCK[] = "SELECT GET_LOCK(?, 5)";
static const char SQL_UNLOCK[] = "SELECT RELEASE_LOCK(?)";
/* Live claims of others that overlap [first, last]. */
static const char SQL_OVERLAP[] =
    "SELECT owner, first_gen, last_gen, pid, TIMESTAMPDIFF(SECOND, heartbeat_at, NOW(3)) "
    "FROM generator_claims WHERE owner <> ? AND first_gen <= ? AND last_gen >= ? "
    "AND heartbeat_at > NOW(3) - INTERVAL ? SECOND "
    "ORDER BY first_gen LIMIT 1";
static const char SQL_UPSERT[] =
    "INSERT INTO generator_claims (owner, first_gen, last_gen, pid, claimed_at, heartbeat_at) "
    "VALUES (?, ?, ?, ?, NOW(3), NOW(3)) ON DUPLICATE KEY UPDATE "
    "claimed_at = IF(first_gen = VALUES(first_gen) AND last_gen = VALUES(last_gen) "
    "AND pid = VALUES(pid), claimed_at, NOW(3)), "
    "first_gen = VALUES(first_gen), last_gen = VALUES(last_gen), pid = VALUES(pid), "
    "heartbeat_at = NOW(3)";
static const char SQL_DELETE[] = "DELETE FROM generator_claims WHERE owner = ?";
/* The dead claims a new one takes numbers from: gone, so that the table
 * (and roostctl shards) shows who holds what, not who once did. */
static const char SQL_DELETE_DEAD[] =
    "DELETE FROM generator_claims WHERE owner <> ? AND first_gen <= ? AND last_gen >= ? "
    "AND heartbeat_at <= NOW(3) - INTERVAL ? SECOND";
static const char SQL_LIST[] =
    "SELECT owner, first_gen, last_gen, pid, TIMESTAMPDIFF(SECOND, heartbeat_at, NOW(3)), "
    "IFNULL(CAST(map_generation AS SIGNED), -1) FROM generator_claims ORDER BY first_gen, owner";
/* Before migration 0004 (no map_generation): every host follows its file. */
static const char SQL_LIST_0003[] =
    "SELECT owner, first_gen, last_gen, pid, TIMESTAMPDIFF(SECOND, heartbeat_at, NOW(3)), "
    "CAST(-1 AS SIGNED) "
    "FROM generator_claims ORDER BY first_gen, owner";

/* "what: the server's error" into why. */
static void say(char *why, size_t len, const char *what, const rst_db *db)
{
    snprintf(why, len, "%s: %s", what, rst_db_last_error(db));
}

/* The named lock: 0 once held. */
static int lock(rst_db *db, rst_arena *a, const char *sql)
{
    rst_param p[1] = { rst_p_str(CLAIM_LOCK) };
    rst_rows rows;
    if (rst_db_query(db, a, sql, p, 1, "I", &rows) != RST_DB_OK || rows.nrows != 1)
        return -1;
    return rst_row(&rows, 0)[0].i == 1 ? 0 : -1;
}

/* Under the lock: refuses an overlap, else writes the claim. */
static rst_claim_rc claim_locked(rst_db *db, rst_arena *a, const char *owner, unsigned first,
                                 unsigned last, pid_t pid, char *why, size_t whylen)
{
    rst_param q[4] = { rst_p_str(owner), rst_p_u64(last), rst_p_u64(first),
                       rst_p_i64(RST_CLAIM_STALE_S) };
    rst_rows rows;
    if (rst_db_query(db, a, SQL_OVERLAP, q, 4, "SUUUI", &rows) != RST_DB_OK) {
        say(why, whylen, "reading generator_claims (is migration 0002 applied?)", db);
        return RST_CLAIM_UNAVAILABLE;
    }
    if (rows.nrows > 0) {
        const rst_value *r = rst_row(&rows, 0);
        snprintf(why, whylen, "generators %u-%u overlap %" PRIu64 "-%" PRIu64 ", claimed by %s "
                 "(pid %" PRIu64 ", renewed %" PRId64 " s ago)", first, last, r[1].u, r[2].u,
                 r[0].s, r[3].u, r[4].i);
        return RST_CLAIM_TAKEN;
    }
    rst_param u[4] = { rst_p_str(owner), rst_p_u64(first), rst_p_u64(last),
                       rst_p_u64((uint64_t)pid) };
    if (rst_db_exec(db, SQL_DELETE_DEAD, q, 4, NULL) != RST_DB_OK ||
        rst_db_exec(db, SQL_UPSERT, u, 4, NULL) != RST_DB_OK) {
        say(why, whylen, "writing the claim", db);
        return RST_CLAIM_UNAVAILABLE;
    }
    return RST_CLAIM_OK;
}

rst_claim_rc rst_claim_take(const rst_db_conf *catalog, const char *owner, unsigned first,
                            unsigned last, pid_t pid, char *why, size_t whylen)
{
    rst_db_conf conf;
    rst_db *db = rst_db_new_brief(catalog, &conf);
    rst_arena a;
    rst_claim_rc rc = RST_CLAIM_UNAVAILABLE;
    snprintf(why, whylen, "out of memory");
    if (db == NULL)
        return rc;
    rst_arena_init(&a, 4096);
    if (lock(db, &a, SQL_LOCK) != 0) {
        say(why, whylen, "the catalog's claim lock", db);
    } else {
        rc = claim_locked(db, &a, owner, first, last, pid, why, whylen);
        lock(db, &a, SQL_UNLOCK);
    }
    rst_arena_free(&a);
    rst_db_free(db);
    return rc;
}

int rst_claim_release(const rst_db_conf *catalog, const char *owner)
{
    rst_db_conf conf;
    rst_db *db = rst_db_new_brief(catalog, &conf);
    if (db == NULL)
        return -1;
    rst_param p[1] = { rst_p_str(owner) };
    int rc = rst_db_exec(db, SQL_DELETE, p, 1, NULL) == RST_DB_OK ? 0 : -1;
    rst_db_free(db);
    return rc;
}

int rst_claim_list(rst_db *catalog, rst_arena *a, rst_rows *out)
{
    if (rst_db_query(catalog, a, SQL_LIST, NULL, 0, "SUUUII", out) == RST_DB_OK)
        return 0;
    return rst_db_query(catalog, a, SQL_LIST_0003, NULL, 0, "SUUUII", out) == RST_DB_OK ? 0 : -1;
}

void rst_claim_owner(const char *conf_path, char *out, size_t len)
{
    char host[256] = "localhost", path[PATH_MAX];
    if (gethostname(host, sizeof(host) - 1) != 0)
        snprintf(host, sizeof(host), "localhost");
    host[sizeof(host) - 1] = '\0';
    if (realpath(conf_path, path) == NULL)
        snprintf(path, sizeof(path), "%s", conf_path);
    snprintf(out, len, "%.100s:%s", host, path);
}
