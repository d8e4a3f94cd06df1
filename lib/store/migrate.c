/* migrate.c -- schema migrations with checksums (see migrate.h). */
#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "store/migrate.h"

#define MAX_MIGRATIONS 512
#define MAX_FILE_BYTES (1 << 20)

static const char SQL_CREATE_TABLE[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version VARCHAR(128) NOT NULL PRIMARY KEY,"
    " checksum CHAR(64) NOT NULL,"
    " applied_at DATETIME(3) NOT NULL"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4";
static const char SQL_APPLIED[] =
    "SELECT version, checksum, applied_at FROM schema_migrations ORDER BY version";
static const char SQL_RECORD[] =
    "INSERT INTO schema_migrations (version, checksum, applied_at) VALUES (?, ?, ?)";

const char *rst_mig_state_name(rst_mig_state s)
{
    switch (s) {
    case RST_MIG_PENDING: return "pending";
    case RST_MIG_APPLIED: return "applied";
    case RST_MIG_CHANGED: return "CHANGED";
    case RST_MIG_MISSING: return "MISSING-FILE";
    }
    return "?";
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ends_with_sql(const char *name)
{
    size_t n = strlen(name);
    return n > 4 && strcmp(name + n - 4, ".sql") == 0 && name[0] != '.';
}

/* Sorted file names of dir, in the arena. */
static int list_files(rst_arena *a, const char *dir, char ***names, int *n, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(err, errlen, "cannot open migrations directory %s: %s", dir, strerror(errno));
        return -1;
    }
    char **list = rst_arena_alloc(a, sizeof(char *) * MAX_MIGRATIONS);
    int count = 0;
    struct dirent *e;
    while (list != NULL && (e = readdir(d)) != NULL) {
        if (!ends_with_sql(e->d_name) || strlen(e->d_name) >= 128)
            continue;
        if (count == MAX_MIGRATIONS)
            break;
        list[count++] = rst_arena_strdup(a, e->d_name);
    }
    closedir(d);
    if (list == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    qsort(list, (size_t)count, sizeof(char *), by_name);
    *names = list;
    *n = count;
    return 0;
}

static char *read_file(rst_arena *a, const char *dir, const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = rst_arena_alloc(a, MAX_FILE_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MAX_FILE_BYTES, f) : 0;
    int bad = buf == NULL || ferror(f) || !feof(f);
    fclose(f);
    if (bad)
        return NULL;
    buf[n] = '\0';
    *len = n;
    return buf;
}

static void sha256_hex(const char *data, size_t len, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)data, len);
    sodium_bin2hex(out, 65, h, sizeof(h));
}

typedef struct {
    char    **names;
    int       nfiles;
    rst_rows  applied;
} mig_view;

static int load_view(rst_db *db, rst_arena *a, const char *dir, mig_view *v, char *err, size_t errlen)
{
    if (list_files(a, dir, &v->names, &v->nfiles, err, errlen) != 0)
        return -1;
    if (rst_db_exec_literal(db, SQL_CREATE_TABLE, sizeof(SQL_CREATE_TABLE) - 1) != RST_DB_OK ||
        rst_db_query(db, a, SQL_APPLIED, NULL, 0, "SST", &v->applied) != RST_DB_OK) {
        snprintf(err, errlen, "%s", rst_db_last_error(db));
        return -1;
    }
    return 0;
}

static const rst_value *find_applied(const mig_view *v, const char *name)
{
    for (int r = 0; r < v->applied.nrows; r++)
        if (strcmp(rst_row(&v->applied, r)[0].s, name) == 0)
            return rst_row(&v->applied, r);
    return NULL;
}

int rst_migrate_status(rst_db *db, rst_arena *a, const char *dir,
                       rst_migration **out, int *n, char *err, size_t errlen)
{
    mig_view v;
    if (load_view(db, a, dir, &v, err, errlen) != 0)
        return -1;
    rst_migration *list = rst_arena_calloc(a, sizeof(rst_migration) * (size_t)(v.nfiles + v.applied.nrows + 1));
    if (list == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int count = 0;
    for (int i = 0; i < v.nfiles; i++) {
        rst_migration *m = &list[count++];
        size_t len;
        char *text = read_file(a, dir, v.names[i], &len);
        if (text == NULL) {
            snprintf(err, errlen, "cannot read %s/%s", dir, v.names[i]);
            return -1;
        }
        snprintf(m->version, sizeof(m->version), "%s", v.names[i]);
        sha256_hex(text, len, m->checksum);
        const rst_value *row = find_applied(&v, v.names[i]);
        if (row == NULL) {
            m->state = RST_MIG_PENDING;
        } else {
            m->applied_at_ms = row[2].u;
            m->state = strcmp(row[1].s, m->checksum) == 0 ? RST_MIG_APPLIED : RST_MIG_CHANGED;
        }
    }
    /* Recorded migrations whose file is gone are worth showing too. */
    for (int r = 0; r < v.applied.nrows; r++) {
        const rst_value *row = rst_row(&v.applied, r);
        int found = 0;
        for (int i = 0; i < v.nfiles && !found; i++)
            found = strcmp(v.names[i], row[0].s) == 0;
        if (found)
            continue;
        rst_migration *m = &list[count++];
        snprintf(m->version, sizeof(m->version), "%s", row[0].s);
        snprintf(m->checksum, sizeof(m->checksum), "%s", row[1].s);
        m->applied_at_ms = row[2].u;
        m->state = RST_MIG_MISSING;
    }
    *out = list;
    *n = count;
    return 0;
}

static int is_blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\n' && p[i] != '\t' && p[i] != '\r')
            return 0;
    return 1;
}

/* A line that is only a `--` comment (after leading blanks). */
static int is_comment_line(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return end - p >= 2 && p[0] == '-' && p[1] == '-';
}

static int run_one(rst_db *db, const char *start, size_t n, char *err, size_t errlen)
{
    if (is_blank(start, n) || rst_db_exec_literal(db, start, n) == RST_DB_OK)
        return 0;
    snprintf(err, errlen, "%s", rst_db_last_error(db));
    return -1;
}

/* Runs each statement of text: statements end with ';' at the end of a
 * line (not a comment line); a last one without ';' runs too. A text
 * that is only comments runs nothing. */
static int run_statements(rst_db *db, char *text, char *err, size_t errlen)
{
    char *start = text, *p = text;
    int only_comments = 1;
    while (*p != '\0') {
        char *eol = strchr(p, '\n');
        char *end = eol ? eol : p + strlen(p);
        char *last = end;
        while (last > p && (last[-1] == ' ' || last[-1] == '\t' || last[-1] == '\r'))
            last--;
        int comment = is_comment_line(p, end);
        if (!comment && !is_blank(p, (size_t)(end - p)))
            only_comments = 0;
        if (!comment && last > p && last[-1] == ';') {
            if (!only_comments && run_one(db, start, (size_t)(last - 1 - start), err, errlen) != 0)
                return -1;
            start = eol ? eol + 1 : end;
            only_comments = 1;
        }
        p = eol ? eol + 1 : end;
    }
    if (!only_comments && run_one(db, start, strlen(start), err, errlen) != 0)
        return -1;
    return 0;
}

int rst_migrate_run(rst_db *db, const char *dir, const char *label, FILE *out,
                    int *applied, char *err, size_t errlen)
{
    rst_arena a;
    rst_arena_init(&a, 1 << 16);
    rst_migration *list;
    int n, rc = 0;
    *applied = 0;
    if (rst_migrate_status(db, &a, dir, &list, &n, err, errlen) != 0) {
        rst_arena_free(&a);
        return -1;
    }
    for (int i = 0; i < n && rc == 0; i++) {
        if (list[i].state == RST_MIG_CHANGED) {
            snprintf(err, errlen, "%s: %s was changed after it was applied (checksum differs); "
                     "refusing to migrate", label, list[i].version);
            rc = -1;
        }
    }
    for (int i = 0; i < n && rc == 0; i++) {
        if (list[i].state != RST_MIG_PENDING)
            continue;
        size_t len;
        char *text = read_file(&a, dir, list[i].version, &len);
        if (text == NULL) {
            snprintf(err, errlen, "cannot read %s/%s", dir, list[i].version);
            rc = -1;
            break;
        }
        char why[256];
        if (run_statements(db, text, why, sizeof(why)) != 0) {
            snprintf(err, errlen, "%s: %s failed: %s", label, list[i].version, why);
            rc = -1;
            break;
        }
        rst_param p[3] = { rst_p_str(list[i].version), rst_p_str(list[i].checksum),
                           rst_p_time(rst_time_now_ms()) };
        if (rst_db_exec(db, SQL_RECORD, p, 3, NULL) != RST_DB_OK) {
            snprintf(err, errlen, "%s: recording %s: %s", label, list[i].version, rst_db_last_error(db));
            rc = -1;
            break;
        }
        fprintf(out, "%s: applied %s\n", label, list[i].version);
        (*applied)++;
    }
    rst_arena_free(&a);
    return rc;
}
