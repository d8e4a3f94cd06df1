/* db.c -- MariaDB connections, prepared statement cache, typed binds (db.h). */
#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <xxhash.h>

#include "core/log.h"
#include "core/timefmt.h"
#include "store/db.h"

#define STMT_CACHE_MAX 96
#define STR_BUF_INITIAL 1024

/* Statements are cached by their text, not its address: a statement built
 * at run time (an IN list, a multi-row insert) may be freed and its
 * address reused for another text, which must never be handed the first
 * one's prepared statement. The cache owns a copy of each text. */
typedef struct {
    uint64_t    hash;         /* XXH3 of the text, checked first */
    size_t      len;
    char       *sql;          /* the cache's own copy */
    MYSQL_STMT *stmt;
} stmt_slot;

struct rst_db {
    const rst_db_conf *conf;
    MYSQL             *conn;  /* NULL while disconnected */
    stmt_slot          stmts[STMT_CACHE_MAX];
    int                nstmts;
    uint64_t           last_used_ms;
    int                in_txn;  /* between begin and commit/rollback */
    int                lose_reply;  /* failpoint: the next commit's answer is lost */
    int                down_after_commit;  /* failpoint: the server is gone once a commit succeeds */
    int                gone;        /* ... and it has: every statement fails as if down */
    uint64_t           sessions;    /* connections opened so far: names the current one */
    uint64_t           failed_ms;   /* monotonic ms of the last connection failure, 0: none */
    rst_db            *fallback;    /* reads that find this server down go there (a replica's primary) */
    char               err[512];
};

rst_param rst_p_str(const char *s)
{
    return rst_p_strn(s, s ? strlen(s) : 0);
}

const char *rst_db_name(const rst_db *db) { return db->conf->name; }
const char *rst_db_last_error(const rst_db *db) { return db->err; }

rst_db *rst_db_new_brief(const rst_db_conf *conf, rst_db_conf *copy)
{
    *copy = *conf;
    copy->connect_timeout = 1;
    copy->timeout = 1;
    return rst_db_new(copy);
}

rst_db *rst_db_new(const rst_db_conf *conf)
{
    rst_db *db = calloc(1, sizeof(*db));
    if (db != NULL)
        db->conf = conf;
    return db;
}

static void disconnect(rst_db *db)
{
    for (int i = 0; i < db->nstmts; i++) {
        mysql_stmt_close(db->stmts[i].stmt);
        free(db->stmts[i].sql);
    }
    db->nstmts = 0;
    if (db->conn != NULL) {
        mysql_close(db->conn);
        db->conn = NULL;
    }
}

void rst_db_free(rst_db *db)
{
    if (db == NULL)
        return;
    disconnect(db);
    free(db);
}

/* Client-side errors that mean the connection is unusable. */
static int is_conn_error(unsigned err)
{
    return err == CR_SERVER_GONE_ERROR || err == CR_SERVER_LOST ||
           err == CR_CONNECTION_ERROR || err == CR_CONN_HOST_ERROR ||
           err == CR_UNKNOWN_HOST || err == CR_SERVER_LOST_EXTENDED ||
           err == CR_COMMANDS_OUT_OF_SYNC || err == ER_CONNECTION_KILLED ||
           err == ER_SERVER_SHUTDOWN || err == ER_QUERY_INTERRUPTED ||
           err == 1927 /* ER_CONNECTION_KILLED (MariaDB) */;
}

static rst_db_rc classify(rst_db *db, unsigned err, const char *msg)
{
    snprintf(db->err, sizeof(db->err), "%s: error %u: %s", db->conf->name, err, msg);
    if (err == ER_DUP_ENTRY)
        return RST_DB_DUP;
    if (err == ER_LOCK_DEADLOCK || err == ER_LOCK_WAIT_TIMEOUT)
        return RST_DB_BUSY;
    if (is_conn_error(err)) {
        disconnect(db);
        db->failed_ms = rst_time_mono_ms();
        return RST_DB_DOWN;
    }
    return RST_DB_ERR;
}

static rst_db_rc connect_db(rst_db *db)
{
    if (db->conn != NULL)
        return RST_DB_OK;
    /* Never reconnect inside a transaction: the new connection would run
     * the rest of it in autocommit mode, half applied. */
    if (db->in_txn) {
        snprintf(db->err, sizeof(db->err), "%s: connection lost inside a transaction", db->conf->name);
        return RST_DB_DOWN;
    }
    const rst_db_conf *c = db->conf;
    MYSQL *m = mysql_init(NULL);
    if (m == NULL) {
        snprintf(db->err, sizeof(db->err), "%s: mysql_init: out of memory", c->name);
        return RST_DB_ERR;
    }
    unsigned int ct = (unsigned)c->connect_timeout, rt = (unsigned)c->timeout;
    my_bool off = 0;
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
    mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &rt);
    mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &rt);
    mysql_options(m, MYSQL_OPT_RECONNECT, &off);
    /* Allows the _start/_cont calls of rst_db_query_many; the blocking
     * calls work on such a connection as before. */
    mysql_options(m, MYSQL_OPT_NONBLOCK, 0);
    mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    /* DATETIME columns hold UTC; make NOW() agree. */
    mysql_options(m, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00'");
    /* A socket wins over host and port (roost.conf(5)): the client library
     * takes the socket only when the host is NULL or "localhost", and
     * would otherwise go to host:port over TCP, the socket ignored. */
    const char *sock = c->socket[0] ? c->socket : NULL;
    if (mysql_real_connect(m, sock ? NULL : c->host, c->user, c->password, c->database,
                           (unsigned)c->port, sock, CLIENT_FOUND_ROWS) == NULL) {
        char where[RST_PATH_MAX];
        rst_db_conf_address(c, where, sizeof(where));
        snprintf(db->err, sizeof(db->err), "%s: connect %.80s: %.120s", c->name, where,
                 mysql_error(m));
        unsigned e = mysql_errno(m);
        mysql_close(m);
        /* Access denied or unknown database are configuration errors, but
         * to the client the server is just as unusable. */
        (void)e;
        db->failed_ms = rst_time_mono_ms();
        return RST_DB_DOWN;
    }
    db->conn = m;
    db->sessions++;
    return RST_DB_OK;
}

static MYSQL_STMT *cached(rst_db *db, const char *sql, size_t len, uint64_t hash)
{
    for (int i = 0; i < db->nstmts; i++) {
        const stmt_slot *sl = &db->stmts[i];
        if (sl->hash == hash && sl->len == len && memcmp(sl->sql, sql, len) == 0)
            return sl->stmt;
    }
    return NULL;
}

static void remember(rst_db *db, MYSQL_STMT *st, char *copy, size_t len, uint64_t hash)
{
    if (db->nstmts == STMT_CACHE_MAX) {
        /* Full: drop the oldest. Only reached with more distinct statements
         * than the program has, so this is a safety net, not a policy. */
        mysql_stmt_close(db->stmts[0].stmt);
        free(db->stmts[0].sql);
        memmove(&db->stmts[0], &db->stmts[1], sizeof(stmt_slot) * (STMT_CACHE_MAX - 1));
        db->nstmts--;
    }
    db->stmts[db->nstmts] = (stmt_slot){ .hash = hash, .len = len, .sql = copy, .stmt = st };
    db->nstmts++;
}

static MYSQL_STMT *prepared(rst_db *db, const char *sql, rst_db_rc *rc)
{
    size_t len = strlen(sql);
    uint64_t hash = XXH3_64bits(sql, len);
    MYSQL_STMT *st = cached(db, sql, len, hash);
    if (st != NULL)
        return st;
    char *copy = strndup(sql, len);
    st = copy != NULL ? mysql_stmt_init(db->conn) : NULL;
    if (st == NULL) {
        *rc = copy != NULL ? classify(db, mysql_errno(db->conn), mysql_error(db->conn))
                           : classify(db, 0, "out of memory");
        free(copy);
        return NULL;
    }
    if (mysql_stmt_prepare(st, sql, len) != 0) {
        unsigned e = mysql_stmt_errno(st);
        char msg[200];
        snprintf(msg, sizeof(msg), "prepare: %s", mysql_stmt_error(st));
        mysql_stmt_close(st);
        free(copy);
        *rc = classify(db, e, msg);
        return NULL;
    }
    remember(db, st, copy, len, hash);
    return st;
}

static void ms_to_mysql_time(uint64_t ms, MYSQL_TIME *t)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    memset(t, 0, sizeof(*t));
    t->year = (unsigned)tm.tm_year + 1900;
    t->month = (unsigned)tm.tm_mon + 1;
    t->day = (unsigned)tm.tm_mday;
    t->hour = (unsigned)tm.tm_hour;
    t->minute = (unsigned)tm.tm_min;
    t->second = (unsigned)tm.tm_sec;
    t->second_part = (unsigned long)(ms % 1000) * 1000;
    t->time_type = MYSQL_TIMESTAMP_DATETIME;
}

static uint64_t mysql_time_to_ms(const MYSQL_TIME *t)
{
    struct tm tm = { 0 };
    tm.tm_year = (int)t->year - 1900;
    tm.tm_mon = (int)t->month - 1;
    tm.tm_mday = (int)t->day;
    tm.tm_hour = (int)t->hour;
    tm.tm_min = (int)t->minute;
    tm.tm_sec = (int)t->second;
    time_t secs = timegm(&tm);
    if (secs < 0)
        return 0;
    return (uint64_t)secs * 1000 + t->second_part / 1000;
}

typedef struct {
    MYSQL_BIND    *binds;
    unsigned long *lens;
    MYSQL_TIME    *times;
} param_binds;

static int bind_params(MYSQL_STMT *st, rst_arena *a, const rst_param *p, int n, param_binds *pb)
{
    if (n == 0)
        return 0;
    pb->binds = rst_arena_calloc(a, sizeof(MYSQL_BIND) * (size_t)n);
    pb->lens = rst_arena_calloc(a, sizeof(unsigned long) * (size_t)n);
    pb->times = rst_arena_calloc(a, sizeof(MYSQL_TIME) * (size_t)n);
    if (pb->binds == NULL || pb->lens == NULL || pb->times == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        MYSQL_BIND *b = &pb->binds[i];
        switch (p[i].type) {
        case RST_P_NULL:
            b->buffer_type = MYSQL_TYPE_NULL;
            break;
        case RST_P_U64:
            b->buffer_type = MYSQL_TYPE_LONGLONG;
            b->buffer = (void *)&p[i].u;
            b->is_unsigned = 1;
            break;
        case RST_P_I64:
            b->buffer_type = MYSQL_TYPE_LONGLONG;
            b->buffer = (void *)&p[i].i;
            break;
        case RST_P_STR:
            b->buffer_type = MYSQL_TYPE_STRING;
            b->buffer = (void *)(p[i].s ? p[i].s : "");
            pb->lens[i] = (unsigned long)p[i].len;
            b->buffer_length = pb->lens[i];
            b->length = &pb->lens[i];
            break;
        case RST_P_TIME:
            ms_to_mysql_time(p[i].u, &pb->times[i]);
            b->buffer_type = MYSQL_TYPE_DATETIME;
            b->buffer = &pb->times[i];
            break;
        }
    }
    return mysql_stmt_bind_param(st, pb->binds) == 0 ? 0 : -1;
}

/* Per-column receive buffers for one result set. */
typedef struct {
    MYSQL_BIND    *binds;
    unsigned long *lens;
    my_bool       *nulls;
    my_bool       *errors;
    uint64_t      *nums;
    MYSQL_TIME    *times;
    char         **strs;
} result_binds;

static int bind_results(MYSQL_STMT *st, rst_arena *a, const char *cols, int n, result_binds *rb)
{
    rb->binds = rst_arena_calloc(a, sizeof(MYSQL_BIND) * (size_t)n);
    rb->lens = rst_arena_calloc(a, sizeof(unsigned long) * (size_t)n);
    rb->nulls = rst_arena_calloc(a, sizeof(my_bool) * (size_t)n);
    rb->errors = rst_arena_calloc(a, sizeof(my_bool) * (size_t)n);
    rb->nums = rst_arena_calloc(a, sizeof(uint64_t) * (size_t)n);
    rb->times = rst_arena_calloc(a, sizeof(MYSQL_TIME) * (size_t)n);
    rb->strs = rst_arena_calloc(a, sizeof(char *) * (size_t)n);
    if (!rb->binds || !rb->lens || !rb->nulls || !rb->errors || !rb->nums || !rb->times || !rb->strs)
        return -1;
    for (int c = 0; c < n; c++) {
        MYSQL_BIND *b = &rb->binds[c];
        b->length = &rb->lens[c];
        b->is_null = &rb->nulls[c];
        b->error = &rb->errors[c];
        switch (cols[c]) {
        case 'U':
        case 'I':
            b->buffer_type = MYSQL_TYPE_LONGLONG;
            b->buffer = &rb->nums[c];
            b->is_unsigned = cols[c] == 'U';
            break;
        case 'T':
            b->buffer_type = MYSQL_TYPE_DATETIME;
            b->buffer = &rb->times[c];
            break;
        default:
            rb->strs[c] = rst_arena_alloc(a, STR_BUF_INITIAL);
            if (rb->strs[c] == NULL)
                return -1;
            b->buffer_type = MYSQL_TYPE_STRING;
            b->buffer = rb->strs[c];
            b->buffer_length = STR_BUF_INITIAL;
            break;
        }
    }
    return mysql_stmt_bind_result(st, rb->binds) == 0 ? 0 : -1;
}

/* Copies the current row into out; long strings are fetched whole with
 * mysql_stmt_fetch_column when they did not fit the first buffer. */
static int copy_row(MYSQL_STMT *st, rst_arena *a, const char *cols, int n,
                    result_binds *rb, rst_value *out)
{
    for (int c = 0; c < n; c++) {
        rst_value *v = &out[c];
        memset(v, 0, sizeof(*v));
        if (rb->nulls[c]) {
            v->null = 1;
            continue;
        }
        switch (cols[c]) {
        case 'U': v->u = rb->nums[c]; break;
        case 'I': v->i = (int64_t)rb->nums[c]; break;
        case 'T': v->u = mysql_time_to_ms(&rb->times[c]); break;
        default: {
            unsigned long len = rb->lens[c];
            char *s = rst_arena_alloc(a, (size_t)len + 1);
            if (s == NULL)
                return -1;
            if (len <= STR_BUF_INITIAL) {
                memcpy(s, rb->strs[c], len);
            } else {
                MYSQL_BIND full;
                memset(&full, 0, sizeof(full));
                full.buffer_type = MYSQL_TYPE_STRING;
                full.buffer = s;
                full.buffer_length = len;
                if (mysql_stmt_fetch_column(st, &full, (unsigned)c, 0) != 0)
                    return -1;
            }
            s[len] = '\0';
            v->s = s;
            v->len = len;
        }
        }
    }
    return 0;
}

static rst_db_rc stmt_fail(rst_db *db, MYSQL_STMT *st, const char *what)
{
    char msg[200];
    snprintf(msg, sizeof(msg), "%s: %s", what, mysql_stmt_error(st));
    unsigned e = mysql_stmt_errno(st);
    mysql_stmt_free_result(st);
    mysql_stmt_reset(st);
    return classify(db, e, msg);
}

static rst_db_rc fetch_rows(rst_db *db, MYSQL_STMT *st, rst_arena *a, const char *cols, rst_rows *out)
{
    int n = (int)strlen(cols);
    if ((int)mysql_stmt_field_count(st) != n) {
        snprintf(db->err, sizeof(db->err), "%s: result has %u columns, caller expects %d",
                 db->conf->name, mysql_stmt_field_count(st), n);
        mysql_stmt_free_result(st);
        return RST_DB_ERR;
    }
    result_binds rb;
    if (bind_results(st, a, cols, n, &rb) != 0)
        return stmt_fail(db, st, "bind result");
    int cap = 16;
    rst_value *rows = rst_arena_alloc(a, sizeof(rst_value) * (size_t)(cap * n));
    int nrows = 0;
    for (;;) {
        int r = mysql_stmt_fetch(st);
        if (r == MYSQL_NO_DATA)
            break;
        if (r == 1)
            return stmt_fail(db, st, "fetch");
        if (nrows == cap) {
            rst_value *more = rst_arena_alloc(a, sizeof(rst_value) * (size_t)(cap * 2 * n));
            if (more == NULL) {
                mysql_stmt_free_result(st);
                return RST_DB_ERR;
            }
            memcpy(more, rows, sizeof(rst_value) * (size_t)(cap * n));
            rows = more;
            cap *= 2;
        }
        if (rows == NULL || copy_row(st, a, cols, n, &rb, &rows[nrows * n]) != 0) {
            mysql_stmt_free_result(st);
            mysql_stmt_reset(st);
            snprintf(db->err, sizeof(db->err), "%s: cannot copy row", db->conf->name);
            return RST_DB_ERR;
        }
        nrows++;
    }
    mysql_stmt_free_result(st);
    out->nrows = nrows;
    out->ncols = n;
    out->v = rows;
    return RST_DB_OK;
}

/* *sent (may be NULL) says whether the statement reached the server. */
static rst_db_rc run_stmt(rst_db *db, rst_arena *a, const char *sql, const rst_param *params,
                          int nparams, const char *cols, rst_rows *out, uint64_t *affected,
                          int *sent)
{
    if (db->gone) {
        snprintf(db->err, sizeof(db->err), "%s: failpoint: the server went away after a commit",
                 db->conf->name);
        return RST_DB_DOWN;
    }
    rst_db_rc rc = connect_db(db);
    if (rc != RST_DB_OK)
        return rc;
    MYSQL_STMT *st = prepared(db, sql, &rc);
    if (st == NULL)
        return rc;
    param_binds pb;
    if ((int)mysql_stmt_param_count(st) != nparams) {
        snprintf(db->err, sizeof(db->err), "%s: statement takes %lu parameters, caller gave %d",
                 db->conf->name, mysql_stmt_param_count(st), nparams);
        return RST_DB_ERR;
    }
    if (bind_params(st, a, params, nparams, &pb) != 0)
        return stmt_fail(db, st, "bind");
    if (sent != NULL)
        *sent = 1;
    if (mysql_stmt_execute(st) != 0)
        return stmt_fail(db, st, "execute");
    db->last_used_ms = rst_time_mono_ms();
    if (affected != NULL)
        *affected = (uint64_t)mysql_stmt_affected_rows(st);
    if (cols == NULL) {
        mysql_stmt_free_result(st);
        return RST_DB_OK;
    }
    return fetch_rows(db, st, a, cols, out);
}

rst_db_rc rst_db_query(rst_db *db, rst_arena *arena, const char *sql,
                       const rst_param *params, int nparams,
                       const char *cols, rst_rows *out)
{
    int had_conn = db->conn != NULL;
    rst_db_rc rc = run_stmt(db, arena, sql, params, nparams, cols, out, NULL, NULL);
    /* A kept connection may have died while idle: one retry on a new one. */
    if (rc == RST_DB_DOWN && had_conn)
        rc = run_stmt(db, arena, sql, params, nparams, cols, out, NULL, NULL);
    /* A replica that went away between two lag checks: its primary has
     * every row it had. */
    if (rc == RST_DB_DOWN && db->fallback != NULL) {
        rst_log_warn("%s: down, reading from %s instead", db->conf->name, db->fallback->conf->name);
        rc = rst_db_query(db->fallback, arena, sql, params, nparams, cols, out);
    }
    return rc;
}

void rst_db_set_fallback(rst_db *db, rst_db *fallback) { db->fallback = fallback; }
uint64_t rst_db_failed_ms(const rst_db *db) { return db->failed_ms; }

uint64_t rst_db_session(const rst_db *db) { return db->conn != NULL ? db->sessions : 0; }

void rst_db_failpoint_lose_reply(rst_db *db) { db->lose_reply = 1; }
void rst_db_failpoint_down_after_commit(rst_db *db) { db->down_after_commit = 1; }

void rst_db_failpoints_clear(rst_db *db)
{
    db->lose_reply = db->down_after_commit = db->gone = 0;
}

/* After a write was carried out: the failpoint, when armed, loses its
 * answer. */
static rst_db_rc reply_lost(rst_db *db)
{
    db->lose_reply = 0;
    db->gone = db->down_after_commit;      /* both armed: nobody can ask it now */
    disconnect(db);
    snprintf(db->err, sizeof(db->err), "%s: failpoint: the answer to a write was lost",
             db->conf->name);
    return RST_DB_UNKNOWN;
}

/* ------------------------------------------------------------ scatter-gather */

/* Where one job of rst_db_query_many stands: executing, then moving the
 * result set to the client (store_result), then done. */
typedef enum { JOB_EXECUTE, JOB_STORE, JOB_DONE } job_step;

typedef struct {
    rst_db_job *job;
    MYSQL_STMT *st;
    job_step    step;
    int         wait;            /* MYSQL_WAIT_* bits the library waits for */
    uint64_t    deadline_ms;     /* monotonic: the server's timeout */
    uint64_t    lib_timeout_ms;  /* monotonic: when the library wants MYSQL_WAIT_TIMEOUT */
    int         had_conn;        /* a kept connection: retry once if it was dead */
    int         timed_out;       /* never retried: a hung server would cost twice */
    int         slot;            /* index in the pollfd array, -1 when none */
} job_state;

static void job_finish(job_state *js, rst_db_rc rc)
{
    js->job->rc = rc;
    js->step = JOB_DONE;
    js->wait = 0;
}

/* Gives up on a job whose server did not answer in time. The socket is
 * shut down first, so that closing the connection mid-operation cannot
 * block on the same server again. */
static void job_abandon(job_state *js, const char *why)
{
    rst_db *db = js->job->db;
    snprintf(db->err, sizeof(db->err), "%s: %s", db->conf->name, why);
    if (db->conn != NULL)
        shutdown(mysql_get_socket(db->conn), SHUT_RDWR);
    disconnect(db);
    js->timed_out = 1;
    job_finish(js, RST_DB_DOWN);
}

/* Called whenever a _start or _cont call returned: either the library
 * waits again (js->wait), or the step is over and ret is its result. */
static void job_advance(job_state *js, int ret, rst_arena *a, const char *cols)
{
    rst_db *db = js->job->db;
    while (js->wait == 0 && js->step != JOB_DONE) {
        if (js->step == JOB_EXECUTE) {
            if (ret != 0) {
                job_finish(js, stmt_fail(db, js->st, "execute"));
                return;
            }
            js->step = JOB_STORE;
            js->wait = mysql_stmt_store_result_start(&ret, js->st);
        } else {
            if (ret != 0) {
                job_finish(js, stmt_fail(db, js->st, "store result"));
                return;
            }
            /* The rows are on the client now: fetching them does no I/O. */
            db->last_used_ms = rst_time_mono_ms();
            job_finish(js, fetch_rows(db, js->st, a, cols, &js->job->rows));
            return;
        }
    }
    if (js->wait & MYSQL_WAIT_TIMEOUT)
        js->lib_timeout_ms = rst_time_mono_ms() + mysql_get_timeout_value_ms(db->conn);
}

static void job_start(job_state *js, rst_arena *a, const char *cols)
{
    rst_db_job *j = js->job;
    rst_db *db = j->db;
    rst_db_rc rc;
    js->had_conn = db->conn != NULL;
    js->slot = -1;
    if (db->in_txn) {
        snprintf(db->err, sizeof(db->err), "%s: scatter-gather inside a transaction", db->conf->name);
        job_finish(js, RST_DB_ERR);
        return;
    }
    if ((rc = connect_db(db)) != RST_DB_OK) {
        job_finish(js, rc);
        return;
    }
    MYSQL_STMT *st = prepared(db, j->sql, &rc);
    if (st == NULL) {
        job_finish(js, rc);
        return;
    }
    if ((int)mysql_stmt_param_count(st) != j->nparams) {
        snprintf(db->err, sizeof(db->err), "%s: statement takes %lu parameters, caller gave %d",
                 db->conf->name, mysql_stmt_param_count(st), j->nparams);
        job_finish(js, RST_DB_ERR);
        return;
    }
    param_binds pb;
    if (bind_params(st, a, j->params, j->nparams, &pb) != 0) {
        job_finish(js, stmt_fail(db, st, "bind"));
        return;
    }
    int ret = 0;
    js->st = st;
    js->step = JOB_EXECUTE;
    js->deadline_ms = rst_time_mono_ms() + (uint64_t)db->conf->timeout * 1000;
    js->wait = mysql_stmt_execute_start(&ret, st);
    job_advance(js, ret, a, cols);
}

static void job_resume(job_state *js, int ready, rst_arena *a, const char *cols)
{
    int ret = 0;
    if (js->step == JOB_EXECUTE)
        js->wait = mysql_stmt_execute_cont(&ret, js->st, ready);
    else
        js->wait = mysql_stmt_store_result_cont(&ret, js->st, ready);
    job_advance(js, ret, a, cols);
}

static short poll_events(int wait)
{
    short ev = 0;
    if (wait & MYSQL_WAIT_READ)
        ev |= POLLIN;
    if (wait & MYSQL_WAIT_WRITE)
        ev |= POLLOUT;
    if (wait & MYSQL_WAIT_EXCEPT)
        ev |= POLLPRI;
    return ev;
}

/* What happened to a job's socket, as the library's MYSQL_WAIT_* bits. An
 * error or hang-up wakes whatever it waits for: the library then finds
 * the failure itself. */
static int ready_bits(const job_state *js, short revents, uint64_t now)
{
    int ready = 0;
    if (revents & POLLIN)
        ready |= MYSQL_WAIT_READ;
    if (revents & POLLOUT)
        ready |= MYSQL_WAIT_WRITE;
    if (revents & POLLPRI)
        ready |= MYSQL_WAIT_EXCEPT;
    if (revents & (POLLERR | POLLHUP | POLLNVAL))
        ready |= js->wait & (MYSQL_WAIT_READ | MYSQL_WAIT_WRITE);
    if ((js->wait & MYSQL_WAIT_TIMEOUT) && now >= js->lib_timeout_ms)
        ready |= MYSQL_WAIT_TIMEOUT;
    return ready;
}

/* One poll() over every job still running, until none is. */
static void run_jobs(job_state *js, int n, struct pollfd *pfd, rst_arena *a, const char *cols)
{
    for (;;) {
        uint64_t now = rst_time_mono_ms(), wake = UINT64_MAX;
        int nfds = 0;
        for (int i = 0; i < n; i++) {
            js[i].slot = -1;
            if (js[i].step == JOB_DONE)
                continue;
            if (now >= js[i].deadline_ms) {
                job_abandon(&js[i], "timed out waiting for the server");
                continue;
            }
            uint64_t until = js[i].deadline_ms;
            if ((js[i].wait & MYSQL_WAIT_TIMEOUT) && js[i].lib_timeout_ms < until)
                until = js[i].lib_timeout_ms;
            if (until < wake)
                wake = until;
            pfd[nfds] = (struct pollfd){ .fd = mysql_get_socket(js[i].job->db->conn),
                                         .events = poll_events(js[i].wait) };
            js[i].slot = nfds++;
        }
        if (nfds == 0)
            return;
        int ms = wake > now ? (int)(wake - now) : 0;
        if (poll(pfd, (nfds_t)nfds, ms) < 0 && errno != EINTR) {
            for (int i = 0; i < n; i++)
                if (js[i].step != JOB_DONE)
                    job_abandon(&js[i], "poll failed");
            return;
        }
        now = rst_time_mono_ms();
        for (int i = 0; i < n; i++) {
            if (js[i].slot < 0 || js[i].step == JOB_DONE)
                continue;
            int ready = ready_bits(&js[i], pfd[js[i].slot].revents, now);
            if (ready != 0)
                job_resume(&js[i], ready, a, cols);
        }
    }
}

/* Jobs that found a replica down run again, all at once, on its primary
 * (each job's server is distinct, so their primaries are too). */
static void query_fallbacks(rst_db_job *jobs, int njobs, rst_arena *arena, const char *cols)
{
    int n = 0;
    for (int i = 0; i < njobs; i++)
        n += jobs[i].rc == RST_DB_DOWN && jobs[i].db->fallback != NULL;
    if (n == 0)
        return;
    rst_db_job *again = rst_arena_calloc(arena, sizeof(*again) * (size_t)n);
    int *from = rst_arena_calloc(arena, sizeof(*from) * (size_t)n);
    if (again == NULL || from == NULL)
        return;
    n = 0;
    for (int i = 0; i < njobs; i++) {
        if (jobs[i].rc != RST_DB_DOWN || jobs[i].db->fallback == NULL)
            continue;
        rst_log_warn("%s: down, reading from %s instead", jobs[i].db->conf->name,
                     jobs[i].db->fallback->conf->name);
        again[n] = jobs[i];
        again[n].db = jobs[i].db->fallback;
        from[n++] = i;
    }
    rst_db_query_many(again, n, arena, cols);
    for (int k = 0; k < n; k++) {
        jobs[from[k]].rows = again[k].rows;
        jobs[from[k]].rc = again[k].rc;
    }
}

int rst_db_query_many(rst_db_job *jobs, int njobs, rst_arena *arena, const char *cols)
{
    if (njobs <= 0)
        return 0;
    job_state *js = rst_arena_calloc(arena, sizeof(*js) * (size_t)njobs);
    struct pollfd *pfd = rst_arena_calloc(arena, sizeof(*pfd) * (size_t)njobs);
    for (int i = 0; i < njobs; i++) {
        jobs[i].rc = RST_DB_ERR;
        memset(&jobs[i].rows, 0, sizeof(jobs[i].rows));
    }
    if (js == NULL || pfd == NULL)
        return njobs;
    for (int i = 0; i < njobs; i++) {
        js[i].job = &jobs[i];
        job_start(&js[i], arena, cols);
    }
    run_jobs(js, njobs, pfd, arena, cols);
    /* A kept connection may have died while idle (a server restart): those
     * jobs once more, on new connections, again all at once. */
    int again = 0;
    for (int i = 0; i < njobs; i++) {
        if (jobs[i].rc == RST_DB_DOWN && js[i].had_conn && !js[i].timed_out) {
            job_start(&js[i], arena, cols);
            again = 1;
        }
    }
    if (again)
        run_jobs(js, njobs, pfd, arena, cols);
    query_fallbacks(jobs, njobs, arena, cols);
    int failed = 0;
    for (int i = 0; i < njobs; i++)
        failed += jobs[i].rc != RST_DB_OK;
    return failed;
}

/* Writes are not retried after they were sent, so make sure an idle
 * connection is still alive before sending one. */
static rst_db_rc check_idle_conn(rst_db *db)
{
    if (db->in_txn)
        return RST_DB_OK;
    if (db->conn == NULL || rst_time_mono_ms() < db->last_used_ms + 1000)
        return RST_DB_OK;
    if (mysql_ping(db->conn) != 0)
        disconnect(db);
    return RST_DB_OK;
}

rst_db_rc rst_db_exec(rst_db *db, const char *sql, const rst_param *params,
                      int nparams, uint64_t *affected)
{
    rst_arena a;
    rst_arena_init(&a, 2048);
    check_idle_conn(db);
    int autocommit = !db->in_txn, sent = 0, had_conn = db->conn != NULL;
    rst_db_rc rc = run_stmt(db, &a, sql, params, nparams, NULL, NULL, affected, &sent);
    /* A kept connection found dead before the statement left (preparing
     * it failed): nothing reached the server, so once more on a new one. */
    if (autocommit && !sent && had_conn && rc == RST_DB_DOWN)
        rc = run_stmt(db, &a, sql, params, nparams, NULL, NULL, affected, &sent);
    rst_arena_free(&a);
    /* Outside a transaction a write is its own commit: sent and then cut
     * off, it may have been applied. Inside one, the server rolls back. */
    if (autocommit && sent && rc == RST_DB_DOWN)
        return RST_DB_UNKNOWN;
    if (autocommit && rc == RST_DB_OK && db->lose_reply)
        return reply_lost(db);
    return rc;
}

/* Even parameterless text from our own migration files goes through the
 * prepared-statement protocol (MariaDB prepares DDL too): one code path
 * for every statement, and no text query API anywhere in roost. The
 * statement is one-off, so it is not cached. */
rst_db_rc rst_db_exec_literal(rst_db *db, const char *sql, size_t len)
{
    rst_db_rc rc = connect_db(db);
    if (rc != RST_DB_OK)
        return rc;
    MYSQL_STMT *st = mysql_stmt_init(db->conn);
    if (st == NULL)
        return classify(db, mysql_errno(db->conn), mysql_error(db->conn));
    if (mysql_stmt_prepare(st, sql, (unsigned long)len) != 0 || mysql_stmt_execute(st) != 0) {
        char msg[200];
        snprintf(msg, sizeof(msg), "%s", mysql_stmt_error(st));
        unsigned e = mysql_stmt_errno(st);
        mysql_stmt_close(st);
        return classify(db, e, msg);
    }
    mysql_stmt_free_result(st);
    mysql_stmt_close(st);
    db->last_used_ms = rst_time_mono_ms();
    return RST_DB_OK;
}

/* Starting a transaction changes nothing on the server, so a kept
 * connection that turns out dead here (a server restart a moment ago) is
 * replaced and the start tried once more. */
rst_db_rc rst_db_begin(rst_db *db)
{
    check_idle_conn(db);
    rst_db_rc rc = RST_DB_DOWN;
    for (int attempt = 0; attempt < 2 && rc == RST_DB_DOWN; attempt++) {
        int had_conn = db->conn != NULL;
        rc = connect_db(db);
        if (rc != RST_DB_OK)
            return rc;
        if (mysql_autocommit(db->conn, 0) != 0) {
            rc = classify(db, mysql_errno(db->conn), mysql_error(db->conn));
            if (!had_conn)
                return rc;
        }
    }
    if (rc != RST_DB_OK)
        return rc;
    db->in_txn = 1;
    db->last_used_ms = rst_time_mono_ms();
    return RST_DB_OK;
}

/* A connection that died under a COMMIT leaves its outcome unknown: the
 * server may have committed before it went. */
static rst_db_rc commit_failed(rst_db *db)
{
    rst_db_rc rc = classify(db, mysql_errno(db->conn), mysql_error(db->conn));
    return rc == RST_DB_DOWN ? RST_DB_UNKNOWN : rc;
}

rst_db_rc rst_db_commit(rst_db *db)
{
    if (db->conn == NULL) {
        db->in_txn = 0;
        return RST_DB_DOWN;
    }
    db->in_txn = 0;
    if (mysql_commit(db->conn) != 0)
        return commit_failed(db);
    if (db->lose_reply)
        return reply_lost(db);
    db->gone = db->down_after_commit;
    /* Committed. A connection that cannot be put back into autocommit is
     * dropped (a new one starts in autocommit), but the commit stands: an
     * error here would make the caller report, and the client retry, a
     * write that happened. */
    if (mysql_autocommit(db->conn, 1) != 0) {
        classify(db, mysql_errno(db->conn), mysql_error(db->conn));
        disconnect(db);
    }
    db->last_used_ms = rst_time_mono_ms();
    return RST_DB_OK;
}

void rst_db_rollback(rst_db *db)
{
    db->in_txn = 0;
    if (db->conn == NULL)
        return;
    if (mysql_rollback(db->conn) != 0 || mysql_autocommit(db->conn, 1) != 0)
        disconnect(db);
}

rst_db_rc rst_db_ping(rst_db *db, uint64_t *usec)
{
    uint64_t t0 = rst_time_mono_us();
    int had_conn = db->conn != NULL;
    rst_db_rc rc = connect_db(db);
    if (rc == RST_DB_OK && mysql_ping(db->conn) != 0)
        rc = classify(db, mysql_errno(db->conn), mysql_error(db->conn));
    /* A kept connection may have died with a server restart: the question
     * is whether the server answers now, so ask once on a new one. */
    if (rc == RST_DB_DOWN && had_conn) {
        rc = connect_db(db);
        if (rc == RST_DB_OK && mysql_ping(db->conn) != 0)
            rc = classify(db, mysql_errno(db->conn), mysql_error(db->conn));
    }
    if (usec != NULL)
        *usec = rst_time_mono_us() - t0;
    if (rc == RST_DB_OK)
        db->last_used_ms = rst_time_mono_ms();
    return rc;
}

/* ---------------------------------------------------------------- replicas */

#define STATUS_COL_MAX 64      /* enough of any column for what we read */

/* Column `name` of the result's metadata, -1 when absent. */
static int column_index(MYSQL_RES *meta, const char *name)
{
    unsigned n = mysql_num_fields(meta);
    MYSQL_FIELD *f = mysql_fetch_fields(meta);
    for (unsigned i = 0; i < n; i++)
        if (strcmp(f[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* Reads Seconds_Behind_Master out of SHOW SLAVE STATUS's one row: every
 * column is bound as a short string (the others may be cut: we do not
 * read them). */
static rst_db_rc read_lag(rst_db *db, MYSQL_STMT *st, rst_arena *a, long long *lag)
{
    MYSQL_RES *meta = mysql_stmt_result_metadata(st);
    if (meta == NULL)
        return stmt_fail(db, st, "metadata");
    unsigned n = mysql_num_fields(meta);
    int col = column_index(meta, "Seconds_Behind_Master");
    mysql_free_result(meta);
    MYSQL_BIND *b = rst_arena_calloc(a, sizeof(*b) * n);
    char *bufs = rst_arena_alloc(a, (size_t)n * STATUS_COL_MAX);
    my_bool *nulls = rst_arena_calloc(a, sizeof(*nulls) * n);
    unsigned long *lens = rst_arena_calloc(a, sizeof(*lens) * n);
    if (col < 0 || b == NULL || bufs == NULL || nulls == NULL || lens == NULL) {
        snprintf(db->err, sizeof(db->err), "%s: SHOW SLAVE STATUS: no Seconds_Behind_Master",
                 db->conf->name);
        return RST_DB_ERR;
    }
    for (unsigned i = 0; i < n; i++) {
        b[i].buffer_type = MYSQL_TYPE_STRING;
        b[i].buffer = bufs + (size_t)i * STATUS_COL_MAX;
        b[i].buffer_length = STATUS_COL_MAX - 1;
        b[i].is_null = &nulls[i];
        b[i].length = &lens[i];
    }
    if (mysql_stmt_bind_result(st, b) != 0)
        return stmt_fail(db, st, "bind");
    int r = mysql_stmt_fetch(st);
    *lag = -1;                       /* no row: not a replica */
    if (r == 0 || r == MYSQL_DATA_TRUNCATED) {
        char *v = b[col].buffer;
        v[lens[col] < STATUS_COL_MAX - 1 ? lens[col] : STATUS_COL_MAX - 1] = '\0';
        char *end;
        long long x = strtoll(v, &end, 10);
        if (!nulls[col] && end != v && *end == '\0' && x >= 0)
            *lag = x;
    } else if (r != MYSQL_NO_DATA) {
        return stmt_fail(db, st, "fetch");
    }
    mysql_stmt_free_result(st);
    return RST_DB_OK;
}

rst_db_rc rst_db_replica_lag(rst_db *db, long long *lag)
{
    static const char sql[] = "SHOW SLAVE STATUS";
    *lag = -1;
    int had_conn = db->conn != NULL;
    rst_db_rc rc = RST_DB_DOWN;
    for (int attempt = 0; attempt < 2 && rc == RST_DB_DOWN; attempt++) {
        if (attempt == 1 && !had_conn)
            break;
        rc = connect_db(db);
        if (rc != RST_DB_OK)
            return rc;
        MYSQL_STMT *st = prepared(db, sql, &rc);
        if (st == NULL)
            continue;
        if (mysql_stmt_execute(st) != 0) {
            rc = stmt_fail(db, st, "execute");
            continue;
        }
        rst_arena a;
        rst_arena_init(&a, 8192);
        rc = read_lag(db, st, &a, lag);
        rst_arena_free(&a);
        db->last_used_ms = rst_time_mono_ms();
    }
    return rc;
}
