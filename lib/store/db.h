/* db.h -- MariaDB access for one worker: one lazy connection per server,
 * prepared statements only, typed parameters and typed result rows.
 *
 * A connection is opened on first use and dropped, with every prepared
 * statement on it, as soon as the server looks unreachable; the next request
 * that needs the server opens a new one. So a shard that goes down fails the
 * requests that need it (RST_DB_DOWN -> 502) and recovers by itself. Reads
 * retry once on a fresh connection, because a connection that sat idle may
 * have been closed by a server restart; writes do not, because a write whose
 * answer was lost may have been applied. */
#ifndef ROOST_DB_H
#define ROOST_DB_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/config.h"

typedef enum {
    RST_DB_OK   = 0,
    RST_DB_DOWN = -1,     /* server unreachable or connection lost */
    RST_DB_DUP  = -2,     /* unique key violated */
    RST_DB_BUSY = -3,     /* deadlock or lock wait timeout: the transaction was undone */
    RST_DB_ERR  = -4,     /* anything else: a bug or a schema problem */
    RST_DB_UNKNOWN = -5   /* a COMMIT, or a write outside a transaction, was sent and the
                           * connection died before the answer: it may have been applied */
} rst_db_rc;

typedef enum { RST_P_NULL, RST_P_U64, RST_P_I64, RST_P_STR, RST_P_TIME } rst_ptype;

typedef struct {
    rst_ptype   type;
    uint64_t    u;        /* U64, and TIME as unix ms */
    int64_t     i;
    const char *s;
    size_t      len;
} rst_param;

static inline rst_param rst_p_u64(uint64_t v) { rst_param p = { .type = RST_P_U64, .u = v }; return p; }
static inline rst_param rst_p_i64(int64_t v) { rst_param p = { .type = RST_P_I64, .i = v }; return p; }
static inline rst_param rst_p_time(uint64_t ms) { rst_param p = { .type = RST_P_TIME, .u = ms }; return p; }
static inline rst_param rst_p_strn(const char *s, size_t n) { rst_param p = { .type = RST_P_STR, .s = s, .len = n }; return p; }
rst_param rst_p_str(const char *s);

typedef struct {
    int         null;
    uint64_t    u;        /* 'U' columns, and 'T' columns as unix ms */
    int64_t     i;        /* 'I' columns */
    const char *s;        /* 'S' columns: NUL-terminated, in the arena */
    size_t      len;
} rst_value;

typedef struct {
    int        nrows;
    int        ncols;
    rst_value *v;         /* row r, column c: v[r * ncols + c] */
} rst_rows;

static inline const rst_value *rst_row(const rst_rows *r, int row) { return &r->v[row * r->ncols]; }

typedef struct rst_db rst_db;

/* Creates the handle; connects lazily. NULL on malloc failure. */
rst_db *rst_db_new(const rst_db_conf *conf);

/* The same with 1 s connect and query timeouts, for the roostd master's
 * brief calls to the catalog (a hung catalog must not hold up its
 * supervision of the workers): conf is copied into *copy, which must
 * outlive the handle. */
rst_db *rst_db_new_brief(const rst_db_conf *conf, rst_db_conf *copy);
void    rst_db_free(rst_db *db);
const char *rst_db_name(const rst_db *db);

/* Statements are prepared once per connection and cached by their text,
 * so any text -- a literal or one built at run time -- is safe to pass.
 *
 * Runs a SELECT. `cols` gives one letter per result column: 'U' unsigned
 * 64-bit, 'I' signed 64-bit, 'S' string, 'T' DATETIME(3) (as unix ms). Rows
 * and strings are allocated in `arena`. */
rst_db_rc rst_db_query(rst_db *db, rst_arena *arena, const char *sql,
                       const rst_param *params, int nparams,
                       const char *cols, rst_rows *out);

/* Runs an INSERT/UPDATE/DELETE. *affected (may be NULL) gets the number of
 * rows matched. */
rst_db_rc rst_db_exec(rst_db *db, const char *sql, const rst_param *params,
                      int nparams, uint64_t *affected);

/* One query of a scatter-gather: run on `db`, its rows and outcome come
 * back in `rows` and `rc`. */
typedef struct {
    rst_db          *db;
    const char      *sql;
    const rst_param *params;
    int              nparams;
    rst_rows         rows;      /* out: valid when rc is RST_DB_OK */
    rst_db_rc        rc;        /* out */
} rst_db_job;

/* Runs every job at the same time, each on its own server, and waits for
 * all of them with poll(): the call takes as long as the slowest server,
 * not the sum. Uses MariaDB Connector/C's non-blocking API for the
 * execution and the transfer of the result; connecting and preparing (once
 * per connection) stay blocking. Each job is bounded by its server's
 * timeout; a server that fails or times out fails only its own job
 * (rc RST_DB_DOWN, the connection dropped), and a kept connection found
 * dead is retried once on a new one, like rst_db_query. The jobs must use
 * distinct handles, none inside a transaction. `cols` as in rst_db_query.
 * Returns the number of jobs that failed. */
int rst_db_query_many(rst_db_job *jobs, int njobs, rst_arena *arena, const char *cols);

/* Transactions on this connection. begin connects if needed. */
rst_db_rc rst_db_begin(rst_db *db);
rst_db_rc rst_db_commit(rst_db *db);
void      rst_db_rollback(rst_db *db);

/* Runs one SQL statement without parameters (migrations, DDL), as a
 * one-off prepared statement. */
rst_db_rc rst_db_exec_literal(rst_db *db, const char *sql, size_t len);

/* Names the connection in use (0: none): session state on the server
 * (a named lock, for one) lives only as long as the same number. */
uint64_t rst_db_session(const rst_db *db);

/* A failpoint for tests: the next commit or write outside a transaction on
 * this handle is carried out, then its answer is "lost" (the connection is
 * dropped and RST_DB_UNKNOWN returned), as when a server dies between
 * committing and answering. rst_db_failpoints_clear() disarms it. */
void rst_db_failpoint_lose_reply(rst_db *db);
/* Another: once a commit succeeds, every statement on db fails as if the
 * server were down, until rst_db_failpoints_clear(). */
void rst_db_failpoint_down_after_commit(rst_db *db);
void rst_db_failpoints_clear(rst_db *db);

/* A replica's handle reads from `fallback` (its primary) when it finds
 * itself down: rst_db_query and rst_db_query_many jobs run again there, so
 * a replica that dies between two lag checks costs no request. */
void rst_db_set_fallback(rst_db *db, rst_db *fallback);

/* Monotonic ms of this handle's last connection failure (0: none yet). */
uint64_t rst_db_failed_ms(const rst_db *db);

/* How far a replica is behind its primary: *lag gets Seconds_Behind_Master
 * from SHOW SLAVE STATUS (needs SLAVE MONITOR), or -1 when it is unknown
 * (replication stopped or broken, or the server is no replica); RST_DB_OK
 * when the server answered. */
rst_db_rc rst_db_replica_lag(rst_db *db, long long *lag);

/* Round-trips to the server; RST_DB_OK when it answers. *usec gets the time. */
rst_db_rc rst_db_ping(rst_db *db, uint64_t *usec);

/* The last error as text, for logs only (never for clients). */
const char *rst_db_last_error(const rst_db *db);

#endif
