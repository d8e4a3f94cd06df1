/* mysql.c -- the fcgi-mysql floor: the fcgi-hello floor plus one prepared
 * primary-key SELECT on the catalog's products table per request (the id
 * comes from the query string, ?id=N), the row written out as JSON. It is
 * the floor of a database-served read.
 * usage: fcgi-mysql SOCKET WORKERS HOST PORT USER PASSWORD_FILE DATABASE */
#include <mysql.h>

#include "prefork.h"

static const char SQL[] =
    "SELECT id, name, price, img, description, state, created_at, updated_at "
    "FROM products WHERE id = ?";

static const char *host, *user, *database;
static char password[256];
static int port;
static MYSQL *conn;
static MYSQL_STMT *stmt;

/* The result row's buffers. */
static unsigned long long r_id, r_price;
static char r_name[404], r_img[1024], r_desc[8192], r_state[16];
static MYSQL_TIME r_created, r_updated;
static unsigned long r_len[8];
static MYSQL_BIND res[8];

static void disconnect(void)
{
    if (stmt != NULL)
        mysql_stmt_close(stmt);
    if (conn != NULL)
        mysql_close(conn);
    stmt = NULL;
    conn = NULL;
}

static void bind_result(int i, enum enum_field_types t, void *buf, unsigned long len, int u)
{
    memset(&res[i], 0, sizeof(res[i]));
    res[i].buffer_type = t;
    res[i].buffer = buf;
    res[i].buffer_length = len;
    res[i].is_unsigned = (my_bool)u;
    res[i].length = &r_len[i];
}

static int connect_db(void)
{
    unsigned timeout = 2;
    conn = mysql_init(NULL);
    if (conn == NULL)
        return -1;
    mysql_options(conn, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_options(conn, MYSQL_OPT_READ_TIMEOUT, &timeout);
    mysql_options(conn, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
    mysql_options(conn, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (mysql_real_connect(conn, host, user, password, database, (unsigned)port, NULL, 0) == NULL) {
        fprintf(stderr, "fcgi-mysql: connect: %s\n", mysql_error(conn));
        disconnect();
        return -1;
    }
    stmt = mysql_stmt_init(conn);
    if (stmt == NULL || mysql_stmt_prepare(stmt, SQL, sizeof(SQL) - 1) != 0) {
        fprintf(stderr, "fcgi-mysql: prepare: %s\n", stmt ? mysql_stmt_error(stmt) : "oom");
        disconnect();
        return -1;
    }
    bind_result(0, MYSQL_TYPE_LONGLONG, &r_id, 0, 1);
    bind_result(1, MYSQL_TYPE_STRING, r_name, sizeof(r_name), 0);
    bind_result(2, MYSQL_TYPE_LONGLONG, &r_price, 0, 1);
    bind_result(3, MYSQL_TYPE_STRING, r_img, sizeof(r_img), 0);
    bind_result(4, MYSQL_TYPE_STRING, r_desc, sizeof(r_desc), 0);
    bind_result(5, MYSQL_TYPE_STRING, r_state, sizeof(r_state), 0);
    bind_result(6, MYSQL_TYPE_DATETIME, &r_created, 0, 0);
    bind_result(7, MYSQL_TYPE_DATETIME, &r_updated, 0, 0);
    if (mysql_stmt_bind_result(stmt, res) != 0) {
        disconnect();
        return -1;
    }
    return 0;
}

static int floor_init(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: fcgi-mysql SOCKET WORKERS HOST PORT USER PASSWORD_FILE DATABASE\n");
        return -1;
    }
    host = argv[0];
    port = atoi(argv[1]);
    user = argv[2];
    database = argv[4];
    FILE *f = fopen(argv[3], "r");
    if (f == NULL || fgets(password, sizeof(password), f) == NULL) {
        fprintf(stderr, "fcgi-mysql: cannot read %s\n", argv[3]);
        if (f != NULL)
            fclose(f);
        return -1;
    }
    fclose(f);
    password[strcspn(password, "\r\n")] = '\0';
    connect_db();                      /* retried on the first request */
    return 0;
}

/* Appends s as a JSON string (quotes and backslashes escaped); n is the
 * column's length, clamped to its buffer's size (a longer value was
 * truncated by the fetch). */
static size_t put_str(char *out, size_t at, size_t cap, const char *s, size_t n, size_t bufsize)
{
    if (n > bufsize)
        n = bufsize;
    if (at + 2 * n + 3 > cap)
        n = 0;
    out[at++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            out[at++] = '\\';
        out[at++] = s[i];
    }
    out[at++] = '"';
    return at;
}

static size_t put_time(char *out, size_t at, const MYSQL_TIME *t)
{
    return at + (size_t)sprintf(out + at, "\"%04u-%02u-%02uT%02u:%02u:%02u.%03luZ\"", t->year,
                                t->month, t->day, t->hour, t->minute, t->second,
                                t->second_part / 1000);
}

/* 1: row found and fetched, 0: no such id, -1: the database failed. */
static int select_product(unsigned long long id)
{
    if (conn == NULL && connect_db() != 0)
        return -1;
    MYSQL_BIND p;
    memset(&p, 0, sizeof(p));
    p.buffer_type = MYSQL_TYPE_LONGLONG;
    p.buffer = &id;
    p.is_unsigned = 1;
    if (mysql_stmt_bind_param(stmt, &p) != 0 || mysql_stmt_execute(stmt) != 0) {
        fprintf(stderr, "fcgi-mysql: execute: %s\n", mysql_stmt_error(stmt));
        disconnect();
        return -1;
    }
    int rc = mysql_stmt_fetch(stmt);
    int found = rc == 0 || rc == MYSQL_DATA_TRUNCATED;
    while (rc == 0 || rc == MYSQL_DATA_TRUNCATED)
        rc = mysql_stmt_fetch(stmt);
    mysql_stmt_free_result(stmt);
    if (rc == 1) {
        disconnect();
        return -1;
    }
    return found;
}

static void floor_serve(FCGX_Request *req)
{
    static const char E404[] = "{\"error\":{\"status\":404,\"code\":\"not_found\"}}";
    static const char E502[] = "{\"error\":{\"status\":502,\"code\":\"upstream_unavailable\"}}";
    static char body[20000];
    const char *qs = FCGX_GetParam("QUERY_STRING", req->envp);
    unsigned long long id = qs != NULL && strncmp(qs, "id=", 3) == 0 ? strtoull(qs + 3, NULL, 10) : 0;
    int found = select_product(id);
    if (found < 0) {
        floor_reply(req, 502, E502, sizeof(E502) - 1);
        return;
    }
    if (found == 0) {
        floor_reply(req, 404, E404, sizeof(E404) - 1);
        return;
    }
    size_t n = (size_t)sprintf(body, "{\"product\":{\"id\":\"%llu\",\"name\":", r_id);
    n = put_str(body, n, sizeof(body) - 200, r_name, r_len[1], sizeof(r_name));
    n += (size_t)sprintf(body + n, ",\"price\":%llu,\"img\":", r_price);
    n = put_str(body, n, sizeof(body) - 200, r_img, r_len[3], sizeof(r_img));
    n += (size_t)sprintf(body + n, ",\"description\":");
    n = put_str(body, n, sizeof(body) - 200, r_desc, r_len[4], sizeof(r_desc));
    n += (size_t)sprintf(body + n, ",\"state\":");
    n = put_str(body, n, sizeof(body) - 200, r_state, r_len[5], sizeof(r_state));
    n += (size_t)sprintf(body + n, ",\"created_at\":");
    n = put_time(body, n, &r_created);
    n += (size_t)sprintf(body + n, ",\"updated_at\":");
    n = put_time(body, n, &r_updated);
    n += (size_t)sprintf(body + n, "}}");
    floor_reply(req, 200, body, n);
}

int main(int argc, char **argv)
{
    return floor_main(argc, argv);
}
