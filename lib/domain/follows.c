/* follows.c -- follow and unfollow, one half of the edge at a time (see
 * follows.h). */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>

#include "core/log.h"
#include "core/timefmt.h"
#include "domain/follows.h"
#include "domain/names.h"
#include "domain/users.h"

/* Below the servers' read timeout ([shard] timeout, 2 s by default), so a
 * contended lock answers "busy" (503) rather than a lost connection. */
#define LOCK_WAIT_S 1

static const char SQL_LOCK[] = "SELECT GET_LOCK(?, ?)";
static const char SQL_UNLOCK[] = "SELECT RELEASE_LOCK(?)";
static const char SQL_OUT_GET[] =
    "SELECT id, created_at FROM follows_out WHERE follower_id = ? AND followee_id = ?";
static const char SQL_IN_GET[] =
    "SELECT id, created_at FROM follows_in WHERE followee_id = ? AND follower_id = ?";
static const char SQL_OUT_ADD[] =
    "INSERT INTO follows_out (follower_id, followee_id, id, created_at) VALUES (?, ?, ?, ?)";
static const char SQL_IN_ADD[] =
    "INSERT IGNORE INTO follows_in (followee_id, follower_id, id, created_at) VALUES (?, ?, ?, ?)";
static const char SQL_OUT_DEL[] = "DELETE FROM follows_out WHERE follower_id = ? AND followee_id = ?";
static const char SQL_IN_DEL[] = "DELETE FROM follows_in WHERE followee_id = ? AND follower_id = ?";
static const char SQL_FOLLOWING_UP[] =
    "UPDATE users SET following_count = following_count + 1 WHERE id = ?";
static const char SQL_FOLLOWERS_UP[] =
    "UPDATE users SET followers_count = followers_count + 1 WHERE id = ?";
static const char SQL_FOLLOWING_DOWN[] =
    "UPDATE users SET following_count = IF(following_count > 0, following_count - 1, 0) "
    "WHERE id = ?";
static const char SQL_FOLLOWERS_DOWN[] =
    "UPDATE users SET followers_count = IF(followers_count > 0, followers_count - 1, 0) "
    "WHERE id = ?";

/* ------------------------------------------------------------ the lock */

static void lock_name(uint64_t follower, char out[48])
{
    snprintf(out, 48, "roost:follow:%" PRIu64, follower);
}

/* The follower's named lock on its server: RST_OK, RST_E_BUSY when it is
 * held past LOCK_WAIT_S, or the store failure. */
static rst_err take_lock(rst_db *db, rst_arena *a, uint64_t follower)
{
    char name[48];
    lock_name(follower, name);
    rst_param p[2] = { rst_p_str(name), rst_p_i64(LOCK_WAIT_S) };
    rst_rows rows;
    rst_db_rc rc = rst_db_query(db, a, SQL_LOCK, p, 2, "I", &rows);
    if (rc != RST_DB_OK)
        return rst_store_fail(db, rc, "follow lock");
    if (rows.nrows != 1 || rst_row(&rows, 0)[0].null || rst_row(&rows, 0)[0].i != 1)
        return RST_E_BUSY;
    return RST_OK;
}

/* Released on every path; a connection that died released it already. */
static void drop_lock(rst_db *db, rst_arena *a, uint64_t follower)
{
    char name[48];
    rst_rows rows;
    lock_name(follower, name);
    rst_param p[1] = { rst_p_str(name) };
    rst_db_query(db, a, SQL_UNLOCK, p, 1, "I", &rows);
}

/* ------------------------------------------------------------ halves */

/* The half found by `sql` (keyed by two user ids): 1 and *f's id and time
 * when present, 0 when not, -1 (and *err) on a store failure. */
static int find_half(rst_db *db, rst_arena *a, const char *sql, uint64_t k1, uint64_t k2,
                     rst_follow *f, rst_err *err)
{
    rst_param p[2] = { rst_p_u64(k1), rst_p_u64(k2) };
    rst_rows rows;
    rst_db_rc rc = rst_db_query(db, a, sql, p, 2, "UT", &rows);
    if (rc != RST_DB_OK) {
        *err = rst_store_fail(db, rc, "follow half");
        return -1;
    }
    if (rows.nrows == 0)
        return 0;
    f->id = rst_row(&rows, 0)[0].u;
    f->created_ms = rst_row(&rows, 0)[1].u;
    return 1;
}

/* Whether the half of an edge is there: the probe of an unknown outcome. */
static const char SQL_OUT_HAS[] =
    "SELECT follower_id FROM follows_out WHERE follower_id = ? AND followee_id = ?";
static const char SQL_IN_HAS[] =
    "SELECT followee_id FROM follows_in WHERE followee_id = ? AND follower_id = ?";

/* One local transaction: the row statement, and the counter statement
 * only when the row statement changed a row. *changed says whether it did.
 * `session` is the follow lock's connection when db is the lock's server.
 * A commit whose answer was lost is settled by looking: `probe` (keyed as
 * the row statement's first two parameters) finds the row exactly when an
 * add was applied, and `adds` says which way the write went. */
static rst_err write_half(rst_db *db, uint64_t session, const char *row_sql,
                          const rst_param *row_p, int nrow, const char *count_sql,
                          uint64_t counted_user, const char *probe, int adds, int *changed,
                          const char *what)
{
    uint64_t affected = 0;
    rst_param cp[1] = { rst_p_u64(counted_user) };
    rst_db_rc rc = rst_db_begin(db);
    /* `session` (when not 0) holds the follower's lock: a transaction that
     * had to start on a new connection would write without it. */
    if (rc == RST_DB_OK && session != 0 && rst_db_session(db) != session) {
        rst_db_rollback(db);
        rst_log_warn("%s: the connection holding the follow lock was lost", what);
        return RST_E_UNAVAILABLE;
    }
    if (rc == RST_DB_OK)
        rc = rst_db_exec(db, row_sql, row_p, nrow, &affected);
    if (rc == RST_DB_OK && affected > 0)
        rc = rst_db_exec(db, count_sql, cp, 1, NULL);
    if (rc == RST_DB_OK)
        rc = rst_db_commit(db);
    *changed = affected > 0;
    if (rc == RST_DB_UNKNOWN) {
        rst_err err = rst_store_outcome(db, probe, row_p, 2, what);
        /* The row is there after an add that happened, gone after a
         * removal that happened: either way the write is settled. */
        if (err == RST_E_UNAVAILABLE)
            return err;
        return (err == RST_OK) == adds ? RST_OK : RST_E_UNAVAILABLE;
    }
    if (rc != RST_DB_OK) {
        rst_db_rollback(db);
        return rst_store_fail(db, rc, what);
    }
    return RST_OK;
}

static rst_err add_out(rst_db *db, uint64_t session, const rst_follow *f)
{
    int changed;
    rst_param p[4] = { rst_p_u64(f->follower_id), rst_p_u64(f->followee_id), rst_p_u64(f->id),
                       rst_p_time(f->created_ms) };
    return write_half(db, session, SQL_OUT_ADD, p, 4, SQL_FOLLOWING_UP, f->follower_id, SQL_OUT_HAS, 1,
                      &changed, "follow: out half");
}

static rst_err add_in(rst_db *db, uint64_t session, const rst_follow *f, int *created)
{
    rst_param p[4] = { rst_p_u64(f->followee_id), rst_p_u64(f->follower_id), rst_p_u64(f->id),
                       rst_p_time(f->created_ms) };
    return write_half(db, session, SQL_IN_ADD, p, 4, SQL_FOLLOWERS_UP, f->followee_id, SQL_IN_HAS, 1,
                      created, "follow: in half");
}

static rst_err del_out(rst_db *db, uint64_t session, const rst_follow *f)
{
    int changed;
    rst_param p[2] = { rst_p_u64(f->follower_id), rst_p_u64(f->followee_id) };
    return write_half(db, session, SQL_OUT_DEL, p, 2, SQL_FOLLOWING_DOWN, f->follower_id, SQL_OUT_HAS, 0,
                      &changed, "unfollow: out half");
}

static rst_err del_in(rst_db *db, uint64_t session, const rst_follow *f, int *removed)
{
    rst_param p[2] = { rst_p_u64(f->followee_id), rst_p_u64(f->follower_id) };
    return write_half(db, session, SQL_IN_DEL, p, 2, SQL_FOLLOWERS_DOWN, f->followee_id, SQL_IN_HAS, 0,
                      removed, "unfollow: in half");
}

/* ------------------------------------------------------------ edges */

typedef struct {
    rst_db  *out_db;             /* the follower's server (and its lock) */
    rst_db  *in_db;              /* the followee's */
    uint64_t locked;             /* out_db's session that holds the lock */
} edge_dbs;

/* A named lock lives with its connection: if out_db had to reconnect
 * (a dead kept connection is replaced transparently), the lock is gone and
 * the rest of the edge must not be written without it. */
static rst_err still_locked(const edge_dbs *d)
{
    return rst_db_session(d->out_db) == d->locked ? RST_OK : RST_E_UNAVAILABLE;
}

/* The session an in-half write must keep: the lock's, when both halves
 * live on one server (one connection); none otherwise. */
static uint64_t in_session(const edge_dbs *d)
{
    return d->in_db == d->out_db ? d->locked : 0;
}

static rst_err edge_servers(rst_services *s, uint64_t follower, uint64_t followee, edge_dbs *d)
{
    rst_err err = rst_shard_of(s, follower, RST_WRITER, &d->out_db);
    return err != RST_OK ? err : rst_shard_of(s, followee, RST_WRITER, &d->in_db);
}

/* With the lock held: the out half (made if missing), then the in half. */
static rst_err follow_locked(rst_services *s, rst_arena *a, const edge_dbs *d, rst_follow *f,
                             int *created)
{
    rst_err err = RST_OK;
    int have = find_half(d->out_db, a, SQL_OUT_GET, f->follower_id, f->followee_id, f, &err);
    if (have < 0)
        return err;
    *created = !have;
    if ((err = still_locked(d)) != RST_OK)
        return err;
    if (!have) {
        f->created_ms = rst_time_now_ms();
        f->id = rst_idgen_next(&s->ids, rst_id_shard(f->follower_id));
        if ((err = add_out(d->out_db, d->locked, f)) != RST_OK)
            return err;
        if (s->failpoints & RST_FP_KILL_BETWEEN_HALVES)
            raise(SIGKILL);          /* a test: a worker dead between the halves */
    }
    int in_created = 0;
    if ((err = still_locked(d)) != RST_OK)
        return err;
    err = add_in(d->in_db, in_session(d), f, &in_created);
    *created |= in_created;
    return err;
}

/* Runs `step` on the edge follower -> followee with the follower's lock
 * held, once the followee is known to exist. */
typedef rst_err (*locked_step)(rst_services *s, rst_arena *a, const edge_dbs *d, rst_follow *f,
                               int *created);

static rst_err with_lock(rst_services *s, rst_arena *a, uint64_t follower, uint64_t followee,
                         locked_step step, rst_follow *out, int *created)
{
    rst_user u;
    edge_dbs d;
    rst_err err = rst_users_get(s, a, followee, &u);
    if (err == RST_OK)
        err = edge_servers(s, follower, followee, &d);
    if (err == RST_OK)
        err = take_lock(d.out_db, a, follower);
    if (err != RST_OK)
        return err;
    d.locked = rst_db_session(d.out_db);
    *out = (rst_follow){ .follower_id = follower, .followee_id = followee };
    err = step(s, a, &d, out, created);
    drop_lock(d.out_db, a, follower);
    return err;
}

rst_err rst_follow_add(rst_services *s, rst_arena *a, uint64_t follower, uint64_t followee,
                       rst_follow *out, int *created)
{
    return with_lock(s, a, follower, followee, follow_locked, out, created);
}

/* With the lock held: the out half goes first; an in half left by an
 * interrupted unfollow goes too, and counts as the edge that was there. */
static rst_err unfollow_locked(rst_services *s, rst_arena *a, const edge_dbs *d, rst_follow *f,
                               int *removed_edge)
{
    rst_err err = RST_OK;
    int out = find_half(d->out_db, a, SQL_OUT_GET, f->follower_id, f->followee_id, f, &err);
    if (out < 0)
        return err;
    if ((err = still_locked(d)) != RST_OK)
        return err;
    if (out && (err = del_out(d->out_db, d->locked, f)) != RST_OK)
        return err;
    rst_follow in_half = *f;
    int in = find_half(d->in_db, a, SQL_IN_GET, f->followee_id, f->follower_id, &in_half, &err);
    if (in < 0)
        return err;
    if (!out && !in)
        return RST_E_NOT_FOUND;
    if (!out)
        *f = in_half;
    if ((err = still_locked(d)) != RST_OK)
        return err;
    *removed_edge = 1;
    int removed = 0;
    return in ? del_in(d->in_db, in_session(d), f, &removed) : RST_OK;
}

rst_err rst_follow_remove(rst_services *s, rst_arena *a, uint64_t follower, uint64_t followee,
                          rst_follow *out)
{
    int removed = 0;
    return with_lock(s, a, follower, followee, unfollow_locked, out, &removed);
}

/* ------------------------------------------------------------ repair */

#define REPAIR_CHUNK 500

static const char SQL_OUT_COUNT[] = "SELECT COUNT(*) FROM follows_out";
static const char SQL_IN_COUNT[] = "SELECT COUNT(*) FROM follows_in";
static const char SQL_OUT_SCAN[] =
    "SELECT follower_id, followee_id, id, created_at FROM follows_out "
    "WHERE follower_id > ? OR (follower_id = ? AND followee_id > ?) "
    "ORDER BY follower_id, followee_id LIMIT 500";
static const char SQL_IN_SCAN[] =
    "SELECT follower_id, followee_id, id, created_at FROM follows_in "
    "WHERE followee_id > ? OR (followee_id = ? AND follower_id > ?) "
    "ORDER BY followee_id, follower_id LIMIT 500";
/* Users whose counters disagree with the rows, and the fix. */
#define COUNTED_OUT "(SELECT COUNT(*) FROM follows_out o WHERE o.follower_id = u.id)"
#define COUNTED_IN  "(SELECT COUNT(*) FROM follows_in i WHERE i.followee_id = u.id)"
static const char SQL_BAD_COUNTERS[] =
    "SELECT COUNT(*) FROM users u WHERE u.following_count <> " COUNTED_OUT
    " OR u.followers_count <> " COUNTED_IN;
static const char SQL_FIX_COUNTERS[] =
    "UPDATE users u SET u.following_count = " COUNTED_OUT ", u.followers_count = " COUNTED_IN
    " WHERE u.following_count <> " COUNTED_OUT " OR u.followers_count <> " COUNTED_IN;

static uint64_t count_rows(rst_db *db, rst_arena *a, const char *sql)
{
    rst_rows rows;
    if (rst_db_query(db, a, sql, NULL, 0, "U", &rows) != RST_DB_OK || rows.nrows != 1)
        return 0;
    return rst_row(&rows, 0)[0].u;
}

/* An edge a scan found a half of, looked at whole: an out half needs its in
 * half, an in half without an out half goes. Checked again and fixed under
 * the follower's lock, unless dry_run. */
static rst_err repair_edge(rst_services *s, rst_arena *a, const rst_follow *seen, int dry_run,
                           rst_follow_repair *r)
{
    edge_dbs d;
    rst_err err = edge_servers(s, seen->follower_id, seen->followee_id, &d);
    if (err != RST_OK)
        return err;
    rst_follow f = *seen, other = *seen;
    int out = find_half(d.out_db, a, SQL_OUT_GET, f.follower_id, f.followee_id, &f, &err);
    int in = out < 0 ? -1 : find_half(d.in_db, a, SQL_IN_GET, f.followee_id, f.follower_id,
                                      &other, &err);
    if (out < 0 || in < 0 || out == in)
        return out < 0 || in < 0 ? err : RST_OK;      /* whole, or gone: nothing to do */
    if (dry_run) {
        if (out)
            r->completed++;
        else
            r->removed++;
        return RST_OK;
    }
    if ((err = take_lock(d.out_db, a, f.follower_id)) != RST_OK)
        return err;
    d.locked = rst_db_session(d.out_db);
    /* Again under the lock: a live request may have finished it. */
    out = find_half(d.out_db, a, SQL_OUT_GET, f.follower_id, f.followee_id, &f, &err);
    in = out < 0 ? -1 : find_half(d.in_db, a, SQL_IN_GET, f.followee_id, f.follower_id,
                                  &other, &err);
    int changed = 0;
    if (out >= 0 && in >= 0 && still_locked(&d) != RST_OK)
        err = RST_E_UNAVAILABLE;
    else if (out == 1 && in == 0 &&
             (err = add_in(d.in_db, in_session(&d), &f, &changed)) == RST_OK)
        r->completed += (uint64_t)changed;
    else if (out == 0 && in == 1 &&
             (err = del_in(d.in_db, in_session(&d), &other, &changed)) == RST_OK)
        r->removed += (uint64_t)changed;
    drop_lock(d.out_db, a, f.follower_id);
    return err;
}

/* Walks one table of one server in key order, a chunk at a time. */
static rst_err repair_scan(rst_services *s, rst_db *db, int incoming, int dry_run,
                           void (*progress)(uint64_t, uint64_t, void *), void *arg,
                           uint64_t total, rst_follow_repair *r)
{
    uint64_t k1 = 0, k2 = 0;
    rst_arena a;
    rst_arena_init(&a, 64 * 1024);
    rst_err err = RST_OK;
    for (;;) {
        rst_param p[3] = { rst_p_u64(k1), rst_p_u64(k1), rst_p_u64(k2) };
        rst_rows rows;
        rst_db_rc rc = rst_db_query(db, &a, incoming ? SQL_IN_SCAN : SQL_OUT_SCAN, p, 3, "UUUT",
                                    &rows);
        if (rc != RST_DB_OK) {
            err = rst_store_fail(db, rc, "repair follows: scan");
            break;
        }
        for (int i = 0; i < rows.nrows && err == RST_OK; i++) {
            const rst_value *v = rst_row(&rows, i);
            rst_follow f = { .follower_id = v[0].u, .followee_id = v[1].u, .id = v[2].u,
                             .created_ms = v[3].u };
            err = repair_edge(s, &a, &f, dry_run, r);
            k1 = incoming ? f.followee_id : f.follower_id;
            k2 = incoming ? f.follower_id : f.followee_id;
        }
        r->examined += (uint64_t)rows.nrows;
        if (progress != NULL)
            progress(r->examined, total, arg);
        rst_arena_reset(&a);
        if (err != RST_OK || rows.nrows < REPAIR_CHUNK)
            break;
    }
    rst_arena_free(&a);
    return err;
}

static rst_err repair_counters(rst_db *db, rst_arena *a, int dry_run, rst_follow_repair *r)
{
    if (dry_run) {
        rst_rows rows;
        rst_db_rc rc = rst_db_query(db, a, SQL_BAD_COUNTERS, NULL, 0, "U", &rows);
        if (rc != RST_DB_OK)
            return rst_store_fail(db, rc, "repair follows: counters");
        r->counters += rows.nrows ? rst_row(&rows, 0)[0].u : 0;
        return RST_OK;
    }
    uint64_t fixed = 0;
    rst_db_rc rc = rst_db_exec(db, SQL_FIX_COUNTERS, NULL, 0, &fixed);
    if (rc != RST_DB_OK)
        return rst_store_fail(db, rc, "repair follows: counters");
    r->counters += fixed;
    return RST_OK;
}

rst_err rst_follows_repair(rst_services *s, int dry_run,
                           void (*progress)(uint64_t done, uint64_t total, void *arg), void *arg,
                           rst_follow_repair *out)
{
    rst_arena a;
    uint64_t total = 0;
    rst_err err = RST_OK;
    *out = (rst_follow_repair){ 0 };
    rst_arena_init(&a, 4096);
    for (int i = 0; i < s->nshards; i++)
        total += count_rows(s->shards[i], &a, SQL_OUT_COUNT) +
                 count_rows(s->shards[i], &a, SQL_IN_COUNT);
    for (int i = 0; i < s->nshards && err == RST_OK; i++) {
        err = repair_scan(s, s->shards[i], 0, dry_run, progress, arg, total, out);
        if (err == RST_OK)
            err = repair_scan(s, s->shards[i], 1, dry_run, progress, arg, total, out);
    }
    /* Counters last, once every edge is whole. */
    for (int i = 0; i < s->nshards && err == RST_OK; i++)
        err = repair_counters(s->shards[i], &a, dry_run, out);
    rst_arena_free(&a);
    return err;
}

/* ------------------------------------------------------------ lists */

static const char SQL_IN_AFTER[] =
    "SELECT follower_id, id, created_at FROM follows_in WHERE followee_id = ? AND id < ? "
    "ORDER BY id DESC LIMIT ?";
static const char SQL_IN_PAGE[] =
    "SELECT follower_id, id, created_at FROM follows_in WHERE followee_id = ? "
    "ORDER BY id DESC LIMIT ? OFFSET ?";
static const char SQL_OUT_AFTER[] =
    "SELECT followee_id, id, created_at FROM follows_out WHERE follower_id = ? AND id < ? "
    "ORDER BY id DESC LIMIT ?";
static const char SQL_OUT_PAGE[] =
    "SELECT followee_id, id, created_at FROM follows_out WHERE follower_id = ? "
    "ORDER BY id DESC LIMIT ? OFFSET ?";

/* One index range of `limit + 1` rows of uid's half, newest edge first. */
static rst_err list_rows(rst_services *s, rst_arena *a, const rst_follow_query *q, rst_rows *rows)
{
    rst_db *db;
    rst_err err = rst_shard_of(s, q->user_id, RST_REPLICA, &db);
    if (err != RST_OK)
        return err;
    rst_db_rc rc;
    if (q->page_offset < 0) {
        rst_param p[3] = { rst_p_u64(q->user_id), rst_p_u64(q->before ? q->before : UINT64_MAX),
                           rst_p_i64(q->limit + 1) };
        rc = rst_db_query(db, a, q->incoming ? SQL_IN_AFTER : SQL_OUT_AFTER, p, 3, "UUT", rows);
    } else {
        rst_param p[3] = { rst_p_u64(q->user_id), rst_p_i64(q->limit + 1),
                           rst_p_i64(q->page_offset) };
        rc = rst_db_query(db, a, q->incoming ? SQL_IN_PAGE : SQL_OUT_PAGE, p, 3, "UUT", rows);
    }
    return rc == RST_DB_OK ? RST_OK : rst_store_fail(db, rc, "follow list");
}

rst_err rst_follow_list(rst_services *s, rst_arena *a, const rst_follow_query *q,
                        rst_follow_page *out)
{
    rst_user u;
    rst_rows rows;
    rst_err err = rst_users_get(s, a, q->user_id, &u);
    if (err == RST_OK)
        err = list_rows(s, a, q, &rows);
    if (err != RST_OK)
        return err;
    int n = rows.nrows > q->limit ? q->limit : rows.nrows;
    out->has_more = rows.nrows > q->limit;
    out->n = n;
    out->items = rst_arena_alloc(a, sizeof(rst_follow_entry) * (size_t)(n + 1));
    uint64_t *uids = rst_arena_alloc(a, sizeof(uint64_t) * (size_t)(n + 1));
    const char **names = rst_arena_alloc(a, sizeof(char *) * (size_t)(n + 1));
    if (out->items == NULL || uids == NULL || names == NULL)
        return RST_E_INTERNAL;
    for (int i = 0; i < n; i++)
        uids[i] = rst_row(&rows, i)[0].u;
    if (n > 0 && (err = rst_names_get(s, a, uids, n, names)) != RST_OK)
        return err;
    for (int i = 0; i < n; i++) {
        const rst_value *v = rst_row(&rows, i);
        out->items[i] = (rst_follow_entry){ .user_id = v[0].u, .name = names[i],
                                            .edge_id = v[1].u, .created_ms = v[2].u };
    }
    return RST_OK;
}

void rst_follow_entry_json(rst_buf *b, const rst_follow_entry *e)
{
    rst_buf_puts(b, "{\"id\":");
    rst_json_id(b, e->user_id);
    rst_buf_puts(b, ",\"name\":");
    rst_json_str(b, e->name);
    rst_buf_puts(b, ",\"followed_at\":");
    rst_json_time(b, e->created_ms);
    rst_buf_putc(b, '}');
}

void rst_follow_json(rst_buf *b, const rst_follow *f)
{
    rst_buf_puts(b, "{\"follower_id\":");
    rst_json_id(b, f->follower_id);
    rst_buf_puts(b, ",\"followee_id\":");
    rst_json_id(b, f->followee_id);
    rst_buf_puts(b, ",\"created_at\":");
    rst_json_time(b, f->created_ms);
    rst_buf_putc(b, '}');
}
