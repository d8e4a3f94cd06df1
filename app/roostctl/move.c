/* move.c -- roostctl shard move: a range of logical shards from the shard
 * server that holds it to another, online (docs/OPERATIONS.md, "Moving
 * logical shards").
 *
 * The steps, each recorded in the catalog's shard_moves journal once done
 * (migration 0003), so a move stopped anywhere goes on with --resume or is
 * undone with --abort:
 *
 *   planned    the range is wholly on one server; rows counted per table
 *   copied     every row of the range copied to the target in chunks
 *              (REPLACE: a copy may be repeated), while writes go on
 *   fenced     [shards] fenced = RANGE in the configuration, roostd
 *              reloaded, and every worker forked before the reload gone:
 *              from here no write reaches the range (503 + Retry-After)
 *   caught_up  per logical shard and table, a count and a checksum on both
 *              sides; the shards that differ (written during the copy) are
 *              emptied on the target and copied again
 *   verified   the same sums again, all equal; the target's replicas have
 *              applied everything (MASTER_GTID_WAIT)
 *   switched   the range's `range =` lines moved to the target's section,
 *              roostd reloaded (still fenced)
 *   unfenced   the fence lifted, roostd reloaded: writes go to the target;
 *              the fence's length is recorded
 *   done       the range's rows deleted from the source, in chunks
 *
 * The map lives in the configuration file roostctl was given; it edits the
 * [shards] fenced key and the two servers' `range =` lines in place and
 * reloads the roostd that serves this file's pool sockets. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/fcgiclient.h"
#include "core/ids.h"
#include "core/json.h"
#include "core/timefmt.h"
#include "roostctl/ctl.h"
#include "store/catmap.h"
#include "store/db.h"
#include "store/genclaim.h"
#include "store/shardmap.h"

#define CHUNK_ROWS     500
#define RELOAD_WAIT_MS 60000
#define SHARD_SHIFT    (RST_ID_GEN_BITS + RST_ID_SEQ_BITS)

/* ------------------------------------------------------------ the tables */

/* A sharded table: its columns (the key first), their rst_db letters and
 * the column whose id carries the row's logical shard (NULL: usernames,
 * whose shard is the hash of name_lc, computed here). */
typedef struct {
    const char *name;
    const char *cols;
    const char *types;
    const char *key;          /* keyset order */
    int         nkey;
    const char *owner;
    int         owner_col;    /* index of owner in cols */
} move_table;

static const move_table TABLES[] = {
    { "users", "id, name, password_hash, role, token_version, followers_count, following_count, "
      "tweets_count, created_at, updated_at", "USSSUUUUTT", "id", 1, "id", 0 },
    { "usernames", "name_lc, user_id, created_at", "SUT", "name_lc", 1, NULL, 0 },
    { "tweets", "id, user_id, message, edited, created_at, updated_at", "UUSUTT", "id", 1,
      "user_id", 1 },
    { "cart_items", "id, user_id, product_id, quantity, state, created_at, updated_at", "UUUUSTT",
      "id", 1, "user_id", 1 },
    { "follows_out", "follower_id, followee_id, id, created_at", "UUUT",
      "follower_id, followee_id", 2, "follower_id", 0 },
    { "follows_in", "followee_id, follower_id, id, created_at", "UUUT",
      "followee_id, follower_id", 2, "followee_id", 0 },
};
#define NTABLES ((int)(sizeof(TABLES) / sizeof(TABLES[0])))

/* ------------------------------------------------------------ the move */

enum { ST_PLANNED, ST_COPIED, ST_FENCED, ST_CAUGHT_UP, ST_VERIFIED, ST_SWITCHED, ST_UNFENCED,
       ST_DONE, ST_ABORTED, ST_COUNT };
static const char *const STEP_NAMES[ST_COUNT] = {
    "planned", "copied", "fenced", "caught_up", "verified", "switched", "unfenced", "done", "aborted"
};

typedef struct {
    rst_services *s;
    const char   *conf_path;
    uint64_t      id;           /* journal row; 0 before it exists */
    unsigned      first, last;
    int           source, target;  /* server indexes */
    int           step;         /* the last step done */
    int           tty;
    uint64_t      planned[NTABLES];
    uint64_t      copied;
    rst_arena     arena;
} move;

typedef struct {
    uint64_t n, sum;
} shard_sum;

static int step_of(const char *name)
{
    for (int i = 0; i < ST_COUNT; i++)
        if (strcmp(STEP_NAMES[i], name) == 0)
            return i;
    return -1;
}

static rst_db *src_db(move *m) { return m->s->shards[m->source]; }
static rst_db *dst_db(move *m) { return m->s->shards[m->target]; }
static const char *server_name(const move *m, int i) { return m->s->cfg->shard_servers[i].name; }

static int fail_db(rst_db *db, const char *what)
{
    fprintf(stderr, "roostctl: shard move: %s on %s: %s\n", what, rst_db_name(db),
            rst_db_last_error(db));
    return -1;
}

/* The logical shard of one selected row. */
static unsigned row_shard(const move *m, const move_table *t, const rst_value *row)
{
    if (t->owner == NULL)
        return rst_shard_for_name(&m->s->map, row[0].s);
    return rst_id_shard(row[t->owner_col].u);
}

static int in_range(const move *m, unsigned shard) { return shard >= m->first && shard <= m->last; }

/* ------------------------------------------------------------ progress */

typedef struct {
    int      tty;
    uint64_t started_ms, drawn_ms, total;
} progress;

static void progress_draw(progress *p, const char *what, uint64_t done, int final)
{
    uint64_t now = rst_time_mono_ms();
    if (!p->tty || (!final && now - p->drawn_ms < 250))
        return;
    p->drawn_ms = now;
    double secs = (double)(now - p->started_ms) / 1000.0, rate = secs > 0 ? (double)done / secs : 0;
    char eta[32] = "";
    if (!final && p->total > done && rate > 0)
        snprintf(eta, sizeof(eta), ", ETA %.0f s", (double)(p->total - done) / rate);
    fprintf(stderr, "\r  %-22s %10" PRIu64 " of %" PRIu64 " rows, %8.0f rows/s%s   %s", what, done,
            p->total, rate, eta, final ? "\n" : "");
}

/* ------------------------------------------------------------ reading rows */

/* One chunk of t's rows after `after` (the previous chunk's last row, NULL:
 * from the start), in key order, whatever their shard; the caller filters. */
static int select_chunk(move *m, rst_db *db, const move_table *t, const rst_value *after,
                        rst_rows *out)
{
    char sql[512];
    rst_param p[3];
    int np = 0;
    if (after == NULL) {
        snprintf(sql, sizeof(sql), "SELECT %s FROM %s ORDER BY %s LIMIT %d", t->cols, t->name,
                 t->key, CHUNK_ROWS);
    } else if (t->nkey == 1) {
        snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE %s > ? ORDER BY %s LIMIT %d", t->cols,
                 t->name, t->key, t->key, CHUNK_ROWS);
        p[np++] = t->types[0] == 'S' ? rst_p_strn(after[0].s, after[0].len) : rst_p_u64(after[0].u);
    } else {
        snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE (%s) > (?, ?) ORDER BY %s LIMIT %d",
                 t->cols, t->name, t->key, t->key, CHUNK_ROWS);
        p[np++] = rst_p_u64(after[0].u);
        p[np++] = rst_p_u64(after[1].u);
    }
    if (rst_db_query(db, &m->arena, sql, p, np, t->types, out) != RST_DB_OK)
        return fail_db(db, "reading rows");
    return 0;
}

/* The rows of the range in a chunk whose shard `want` accepts. */
typedef int (*shard_filter)(const move *m, unsigned shard, const void *arg);

static int filter_range(const move *m, unsigned shard, const void *arg)
{
    (void)arg;
    return in_range(m, shard);
}

static int filter_set(const move *m, unsigned shard, const void *arg)
{
    const unsigned char *set = arg;
    return in_range(m, shard) && set[shard];
}

/* Keeps the key of a chunk's last row in *last (a string key copied into
 * *owned, which outlives the arena's reset), for the next chunk's query. */
static int remember_last(const move_table *t, const rst_rows *rows, rst_value last[2], char **owned)
{
    const rst_value *lr = rst_row(rows, rows->nrows - 1);
    last[0] = lr[0];
    last[1] = t->nkey > 1 ? lr[1] : lr[0];
    if (t->types[0] == 'S') {
        free(*owned);
        if ((*owned = strndup(lr[0].s, lr[0].len)) == NULL)
            return -1;
        last[0].s = *owned;
    }
    return 0;
}

/* ------------------------------------------------------------ copying */

/* REPLACE INTO the target the rows[idx[0..n)] of a chunk. */
static int write_rows(move *m, const move_table *t, const rst_rows *rows, const int *idx, int n)
{
    if (n == 0)
        return 0;
    int ncols = rows->ncols;
    rst_buf sql;
    rst_buf_init(&sql);
    rst_buf_printf(&sql, "REPLACE INTO %s (%s) VALUES ", t->name, t->cols);
    rst_param *p = rst_arena_alloc(&m->arena, sizeof(rst_param) * (size_t)(n * ncols));
    if (p == NULL) {
        rst_buf_free(&sql);
        return -1;
    }
    for (int r = 0; r < n; r++) {
        rst_buf_puts(&sql, r ? ",(" : "(");
        const rst_value *row = rst_row(rows, idx[r]);
        for (int c = 0; c < ncols; c++) {
            rst_buf_puts(&sql, c ? ",?" : "?");
            switch (t->types[c]) {
            case 'S': p[r * ncols + c] = rst_p_strn(row[c].s, row[c].len); break;
            case 'T': p[r * ncols + c] = rst_p_time(row[c].u); break;
            default:  p[r * ncols + c] = rst_p_u64(row[c].u); break;
            }
        }
        rst_buf_putc(&sql, ')');
    }
    int rc = 0;
    const char *text = rst_buf_cstr(&sql);
    if (sql.oom || text == NULL || rst_db_exec(dst_db(m), text, p, n * ncols, NULL) != RST_DB_OK)
        rc = fail_db(dst_db(m), "writing rows");
    rst_buf_free(&sql);
    return rc;
}

/* What is done with each chunk's rows that a walk's filter accepts. */
typedef int (*chunk_fn)(move *m, rst_db *db, const move_table *t, const rst_rows *rows,
                        const int *idx, int n);

/* Reads t on db in key order, a chunk at a time (the arena reset before
 * each), and hands each chunk's rows that `want` accepts to fn; *count
 * gets how many it was handed, drawn on pg when pg is not NULL. */
static int walk_table(move *m, rst_db *db, const move_table *t, shard_filter want, const void *arg,
                      chunk_fn fn, progress *pg, uint64_t *count)
{
    rst_value last[2];
    char *last_key = NULL;
    int more = 1, have_last = 0, rc = 0;
    *count = 0;
    while (more && rc == 0) {
        rst_arena_reset(&m->arena);
        rst_rows rows;
        if (select_chunk(m, db, t, have_last ? last : NULL, &rows) != 0) {
            rc = -1;
            break;
        }
        more = rows.nrows == CHUNK_ROWS;
        int idx[CHUNK_ROWS], n = 0;
        for (int r = 0; r < rows.nrows; r++)
            if (want(m, row_shard(m, t, rst_row(&rows, r)), arg))
                idx[n++] = r;
        if (fn(m, db, t, &rows, idx, n) != 0)
            rc = -1;
        *count += (uint64_t)n;
        if (rc == 0 && rows.nrows > 0) {
            rc = remember_last(t, &rows, last, &last_key);
            have_last = 1;
        }
        if (pg != NULL)
            progress_draw(pg, t->name, *count, 0);
    }
    free(last_key);
    if (pg != NULL && rc == 0)
        progress_draw(pg, t->name, *count, 1);
    return rc;
}

static int copy_chunk(move *m, rst_db *db, const move_table *t, const rst_rows *rows,
                      const int *idx, int n)
{
    (void)db;
    return write_rows(m, t, rows, idx, n);
}

/* Copies t's rows that `want` accepts from the source to the target. */
static int copy_table(move *m, const move_table *t, shard_filter want, const void *arg,
                      uint64_t total, uint64_t *copied)
{
    progress pg = { m->tty, rst_time_mono_ms(), 0, total };
    return walk_table(m, src_db(m), t, want, arg, copy_chunk, &pg, copied);
}

/* ------------------------------------------------------------ deleting */

/* Deletes a chunk's accepted rows from db by key, in one statement: one
 * commit (and one binlog sync) a chunk, not one a row -- under the fence
 * the catch-up's deletes are part of what writers wait for. */
static int delete_chunk(move *m, rst_db *db, const move_table *t, const rst_rows *rows,
                        const int *idx, int n)
{
    if (n == 0)
        return 0;
    rst_param *p = rst_arena_alloc(&m->arena, sizeof(rst_param) * (size_t)(n * t->nkey));
    if (p == NULL)
        return -1;
    rst_buf sql;
    rst_buf_init(&sql);
    rst_buf_printf(&sql, "DELETE FROM %s WHERE (%s) IN (", t->name, t->key);
    for (int r = 0; r < n; r++) {
        const rst_value *row = rst_row(rows, idx[r]);
        if (t->nkey == 1) {
            rst_buf_puts(&sql, r ? ",?" : "?");
            p[r] = t->types[0] == 'S' ? rst_p_strn(row[0].s, row[0].len) : rst_p_u64(row[0].u);
        } else {
            rst_buf_puts(&sql, r ? ",(?,?)" : "(?,?)");
            p[2 * r] = rst_p_u64(row[0].u);
            p[2 * r + 1] = rst_p_u64(row[1].u);
        }
    }
    rst_buf_putc(&sql, ')');
    int rc = 0;
    const char *text = rst_buf_cstr(&sql);
    if (sql.oom || text == NULL || rst_db_exec(db, text, p, n * t->nkey, NULL) != RST_DB_OK)
        rc = fail_db(db, "deleting rows");
    rst_buf_free(&sql);
    return rc;
}

/* Deletes from db t's rows that `want` accepts, a chunk at a time: their
 * keys are read in key order, then deleted by key. */
static int delete_rows(move *m, rst_db *db, const move_table *t, shard_filter want, const void *arg,
                       uint64_t *deleted)
{
    return walk_table(m, db, t, want, arg, delete_chunk, NULL, deleted);
}

/* Every row of the range, every table, deleted from db; *total counts them. */
static int delete_range(move *m, rst_db *db, uint64_t *total)
{
    *total = 0;
    for (int t = 0; t < NTABLES; t++) {
        uint64_t n;
        if (delete_rows(m, db, &TABLES[t], filter_range, NULL, &n) != 0)
            return -1;
        *total += n;
    }
    return 0;
}

/* ------------------------------------------------------------ sums */

/* Per logical shard of the range, t's row count and the XOR of each row's
 * CRC32 (over every column: a row changed anywhere changes it) on db. */
static int table_sums(move *m, rst_db *db, const move_table *t, shard_sum *sums)
{
    memset(sums, 0, sizeof(shard_sum) * 4096);
    char sql[768];
    rst_rows rows;
    rst_arena_reset(&m->arena);
    if (t->owner != NULL) {
        rst_param p[2] = { rst_p_u64(m->first), rst_p_u64(m->last) };
        snprintf(sql, sizeof(sql),
                 "SELECT (%s >> %d) & %u AS s, COUNT(*), BIT_XOR(CRC32(CONCAT_WS(0x1f, %s))) "
                 "FROM %s WHERE ((%s >> %d) & %u) BETWEEN ? AND ? GROUP BY s",
                 t->owner, SHARD_SHIFT, RST_ID_MAX_SHARDS - 1, t->cols, t->name, t->owner,
                 SHARD_SHIFT, RST_ID_MAX_SHARDS - 1);
        if (rst_db_query(db, &m->arena, sql, p, 2, "UUU", &rows) != RST_DB_OK)
            return fail_db(db, "summing rows");
        for (int r = 0; r < rows.nrows; r++) {
            const rst_value *v = rst_row(&rows, r);
            if (v[0].u < 4096)
                sums[v[0].u] = (shard_sum){ v[1].u, v[2].u };
        }
        return 0;
    }
    /* usernames: every row's name and CRC, the shard from the name here. */
    snprintf(sql, sizeof(sql), "SELECT name_lc, CRC32(CONCAT_WS(0x1f, %s)) FROM %s WHERE name_lc > ? "
             "ORDER BY name_lc LIMIT %d", t->cols, t->name, CHUNK_ROWS * 4);
    char after[64] = "";
    for (int more = 1; more;) {
        rst_arena_reset(&m->arena);
        rst_param p[1] = { rst_p_str(after) };
        if (rst_db_query(db, &m->arena, sql, p, 1, "SU", &rows) != RST_DB_OK)
            return fail_db(db, "summing rows");
        more = rows.nrows == CHUNK_ROWS * 4;
        for (int r = 0; r < rows.nrows; r++) {
            const rst_value *v = rst_row(&rows, r);
            unsigned sh = rst_shard_for_name(&m->s->map, v[0].s);
            if (in_range(m, sh)) {
                sums[sh].n++;
                sums[sh].sum ^= v[1].u;
            }
        }
        if (rows.nrows > 0)
            snprintf(after, sizeof(after), "%s", rst_row(&rows, rows.nrows - 1)[0].s);
    }
    return 0;
}

/* Compares both sides' sums of every table; dirty[t][shard] marks each
 * difference (dirty may be NULL). With `tell`, the first few differences
 * are named on stderr (which table and shard, the counts on each side).
 * The number of (table, shard) pairs that differ, or -1. */
#define TELL_MAX 5
static int compare_sums(move *m, unsigned char (*dirty)[4096], uint64_t *rows_per_table, int tell)
{
    shard_sum *a = malloc(sizeof(shard_sum) * 4096), *b = malloc(sizeof(shard_sum) * 4096);
    int differ = 0;
    if (a == NULL || b == NULL) {
        free(a);
        free(b);
        return -1;
    }
    for (int t = 0; t < NTABLES && differ >= 0; t++) {
        if (table_sums(m, src_db(m), &TABLES[t], a) != 0 || table_sums(m, dst_db(m), &TABLES[t], b) != 0) {
            differ = -1;
            break;
        }
        if (rows_per_table != NULL)
            rows_per_table[t] = 0;
        for (unsigned sh = m->first; sh <= m->last; sh++) {
            if (rows_per_table != NULL)
                rows_per_table[t] += a[sh].n;
            if (a[sh].n == b[sh].n && a[sh].sum == b[sh].sum)
                continue;
            if (tell && differ < TELL_MAX)
                fprintf(stderr, "  differs: %s of logical shard %u: %" PRIu64 " rows on %s, %" PRIu64
                        " on %s%s\n", TABLES[t].name, sh, a[sh].n, server_name(m, m->source), b[sh].n,
                        server_name(m, m->target), a[sh].n == b[sh].n ? " (a row changed)" : "");
            differ++;
            if (dirty != NULL)
                dirty[t][sh] = 1;
        }
    }
    free(a);
    free(b);
    return differ;
}

/* ------------------------------------------------------------ the map in the file */

/* The owner of every logical shard after this step: the range's is the
 * journal's word (the source until switched, then the target), whatever
 * the file says now -- roostctl may have stopped between rewriting the
 * file and recording the step, and an abort must give the range back to
 * the source, which alone holds every row until the clean-up. */
static void owners(const move *m, int switched, short *owner)
{
    const rst_config *cfg = m->s->cfg;
    for (int i = 0; i < cfg->nranges; i++)
        for (unsigned sh = cfg->ranges[i].first; sh <= cfg->ranges[i].last && sh < 4096; sh++)
            owner[sh] = (short)cfg->ranges[i].server;
    for (unsigned sh = m->first; sh <= m->last; sh++)
        owner[sh] = (short)(switched ? m->target : m->source);
}

/* "range = A-B" lines of server `srv` for owner[] into b. */
static void range_lines(rst_buf *b, const short *owner, unsigned count, int srv)
{
    for (unsigned sh = 0; sh < count; sh++) {
        if (owner[sh] != srv)
            continue;
        unsigned end = sh;
        while (end + 1 < count && owner[end + 1] == srv)
            end++;
        if (end == sh)
            rst_buf_printf(b, "range = %u\n", sh);
        else
            rst_buf_printf(b, "range = %u-%u\n", sh, end);
        sh = end;
    }
}

/* The section a line opens ("shards", "shard a"), or NULL. */
static int section_of(const char *line, char *out, size_t len)
{
    while (*line == ' ' || *line == '\t')
        line++;
    if (*line != '[')
        return 0;
    size_t n = strcspn(line + 1, "]");
    snprintf(out, len, "%.*s", (int)n, line + 1);
    return 1;
}

static int key_is(const char *line, const char *key)
{
    while (*line == ' ' || *line == '\t')
        line++;
    size_t n = strlen(key);
    if (strncmp(line, key, n) != 0)
        return 0;
    line += n;
    while (*line == ' ' || *line == '\t')
        line++;
    return *line == '=';
}

/* Rewrites the configuration file: the fence (`fenced = RANGE` in
 * [shards], or none) and the two servers' ranges for the given step;
 * every other line as it was. Through a temporary file and rename(), so
 * roostd never reads half a file. */
static int write_map(move *m, int fenced, int switched)
{
    const rst_config *cfg = m->s->cfg;
    FILE *in = fopen(m->conf_path, "r");
    if (in == NULL) {
        fprintf(stderr, "roostctl: shard move: %s: %s\n", m->conf_path, strerror(errno));
        return -1;
    }
    short *owner = calloc(4096, sizeof(short));
    rst_buf out;
    rst_buf_init(&out);
    char line[2048], section[96] = "", src[96], dst[96];
    snprintf(src, sizeof(src), "shard %s", server_name(m, m->source));
    snprintf(dst, sizeof(dst), "shard %s", server_name(m, m->target));
    if (owner != NULL)
        owners(m, switched, owner);
    int saw_shards = 0;
    while (owner != NULL && fgets(line, sizeof(line), in) != NULL) {
        char next[96];
        if (section_of(line, next, sizeof(next))) {
            snprintf(section, sizeof(section), "%s", next);
            rst_buf_puts(&out, line);
            if (strcmp(section, "shards") == 0) {
                saw_shards = 1;
                if (fenced)
                    rst_buf_printf(&out, "fenced = %u-%u\n", m->first, m->last);
            } else if (strcmp(section, src) == 0) {
                range_lines(&out, owner, cfg->shard_count, m->source);
            } else if (strcmp(section, dst) == 0) {
                range_lines(&out, owner, cfg->shard_count, m->target);
            }
            continue;
        }
        if ((strcmp(section, "shards") == 0 && key_is(line, "fenced")) ||
            ((strcmp(section, src) == 0 || strcmp(section, dst) == 0) && key_is(line, "range")))
            continue;
        rst_buf_puts(&out, line);
    }
    fclose(in);
    if (!saw_shards && fenced)
        rst_buf_printf(&out, "\n[shards]\nfenced = %u-%u\n", m->first, m->last);
    char tmp[600];
    snprintf(tmp, sizeof(tmp), "%s.roostctl-move", m->conf_path);
    FILE *f = owner != NULL && !out.oom ? fopen(tmp, "w") : NULL;
    int ok = f != NULL && fwrite(out.data, 1, out.len, f) == out.len;
    if (f != NULL)
        ok = (fflush(f) == 0 && fsync(fileno(f)) == 0) & (fclose(f) == 0) & ok;
    ok = ok && rename(tmp, m->conf_path) == 0;
    if (!ok) {
        fprintf(stderr, "roostctl: shard move: cannot rewrite %s: %s\n", m->conf_path, strerror(errno));
        unlink(tmp);
    }
    free(owner);
    rst_buf_free(&out);
    return ok ? 0 : -1;
}

/* ------------------------------------------------------------ reloading roostd */

/* What /status says of roostd: its master, its map generation and each
 * worker's pid and map generation. */
typedef struct {
    long     master;
    uint64_t gen;
    int      n;
    long     pid[1024];
    uint64_t wgen[1024];
} roostd_view;

/* /status from one of the configuration's pool sockets; 0, or -1 when
 * none answers. */
static int roostd_status(const rst_config *cfg, roostd_view *v)
{
    for (int i = 0; i < cfg->npools; i++) {
        char *body = NULL;
        int st = rst_fcgi_get_alloc(cfg->pools[i].listen, "/status", 2000, &body);
        cJSON *doc = NULL;
        if (st == 200 && body != NULL && rst_json_parse_body(body, strlen(body), &doc) == RST_JSON_OK) {
            int64_t mp = 0;
            uint64_t g = 0;
            const cJSON *w, *ws = cJSON_GetObjectItemCaseSensitive(doc, "workers");
            rst_json_get_i64(cJSON_GetObjectItemCaseSensitive(doc, "master_pid"), &mp);
            rst_json_get_u64(cJSON_GetObjectItemCaseSensitive(doc, "map_generation"), &g);
            v->master = (long)mp;
            v->gen = g;
            v->n = 0;
            cJSON_ArrayForEach(w, ws) {
                int64_t pid = 0;
                uint64_t wg = 0;
                if (v->n < 1024 && rst_json_get_i64(cJSON_GetObjectItemCaseSensitive(w, "pid"), &pid) == 1) {
                    rst_json_get_u64(cJSON_GetObjectItemCaseSensitive(w, "map_generation"), &wg);
                    v->pid[v->n] = (long)pid;
                    v->wgen[v->n++] = wg;
                }
            }
            cJSON_Delete(doc);
            free(body);
            return v->master > 0 ? 0 : -1;
        }
        cJSON_Delete(doc);
        free(body);
    }
    return -1;
}

/* 1 once every request roostd serves sees the new map: the reload
 * published a newer generation and every worker, draining ones too,
 * routes with it; or (a reload that changed the servers, whose map a
 * draining worker keeps) every worker from before the reload is gone. */
static int map_in_effect(const roostd_view *before, const roostd_view *now)
{
    if (now->n == 0)
        return 0;
    int adopted = now->gen > before->gen, old = 0;
    for (int i = 0; i < now->n; i++) {
        adopted &= now->wgen[i] == now->gen;
        for (int k = 0; k < before->n; k++)
            old += now->pid[i] == before->pid[k];
    }
    return adopted || old == 0;
}

/* SIGHUP to roostd, then waits until the new map is in effect. */
static int reload_roostd(move *m, const char *why)
{
    const rst_config *cfg = m->s->cfg;
    static roostd_view before, now;
    if (roostd_status(cfg, &before) != 0) {
        fprintf(stderr, "roostctl: shard move: no roostd answers /status on this configuration's "
                "pool sockets: start it (the map only takes effect in a running roostd)\n");
        return -1;
    }
    if (kill((pid_t)before.master, SIGHUP) != 0) {
        fprintf(stderr, "roostctl: shard move: SIGHUP to roostd (pid %ld): %s\n", before.master,
                strerror(errno));
        return -1;
    }
    uint64_t t0 = rst_time_mono_ms();
    while (rst_time_mono_ms() - t0 < RELOAD_WAIT_MS) {
        usleep(20 * 1000);
        if (roostd_status(cfg, &now) == 0 && map_in_effect(&before, &now)) {
            printf("  roostd reloaded (%s): map generation %" PRIu64 " in all %d workers after %.2f s\n",
                   why, now.gen, now.n, (double)(rst_time_mono_ms() - t0) / 1000.0);
            return 0;
        }
    }
    fprintf(stderr, "roostctl: shard move: roostd's workers do not all route with the new map after "
            "%d s (a refused reload? see its log)\n", RELOAD_WAIT_MS / 1000);
    return -1;
}

/* Before the fence: waits until no worker routes with a map older than
 * roostd's newest (draining workers of an earlier reload that changed the
 * servers -- adding this move's target, say -- keep theirs until they
 * exit). Waiting here costs writers nothing; waiting for them after the
 * fence is written would hold every write to the range that long. */
static int settle_map(move *m)
{
    static roostd_view now;
    uint64_t t0 = rst_time_mono_ms();
    int told = 0;
    while (rst_time_mono_ms() - t0 < RELOAD_WAIT_MS) {
        if (roostd_status(m->s->cfg, &now) != 0)
            return 0;                    /* reload_roostd says what is wrong */
        int behind = 0;
        for (int i = 0; i < now.n; i++)
            behind += now.wgen[i] != now.gen;
        if (behind == 0) {
            if (told)
                printf("  every worker on map generation %" PRIu64 " after %.2f s\n", now.gen,
                       (double)(rst_time_mono_ms() - t0) / 1000.0);
            return 0;
        }
        if (!told++)
            printf("  waiting for %d workers still on an older map (an earlier reload) to finish\n",
                   behind);
        fflush(stdout);
        usleep(50 * 1000);
    }
    fprintf(stderr, "roostctl: shard move: workers still route with an older map after %d s\n",
            RELOAD_WAIT_MS / 1000);
    return -1;
}

/* ------------------------------------------------------------ replicas */

/* Waits until every replica of the target has applied what its primary
 * holds now: reads of the range go to them once it is switched. */
static int wait_target_replicas(move *m)
{
    rst_rows rows;
    rst_arena_reset(&m->arena);
    if (rst_db_query(dst_db(m), &m->arena, "SELECT @@gtid_binlog_pos", NULL, 0, "S", &rows) != RST_DB_OK ||
        rows.nrows != 1)
        return fail_db(dst_db(m), "reading the binlog position");
    char *pos = strdup(rst_row(&rows, 0)[0].s);
    const rst_config *cfg = m->s->cfg;
    int rc = 0;
    for (int i = 0; pos != NULL && i < cfg->nreplicas && rc == 0; i++) {
        if (cfg->replicas[i].primary != m->target)
            continue;
        rst_db *r = rst_db_new(&cfg->replicas[i].db);
        rst_param p[1] = { rst_p_str(pos) };
        if (r == NULL || rst_db_query(r, &m->arena, "SELECT MASTER_GTID_WAIT(?, 60)", p, 1, "I",
                                      &rows) != RST_DB_OK || rows.nrows != 1 ||
            rst_row(&rows, 0)[0].i != 0) {
            char where[RST_PATH_MAX];
            rst_db_conf_address(&cfg->replicas[i].db, where, sizeof(where));
            fprintf(stderr, "roostctl: shard move: replica %s of %s did not catch up with %s\n",
                    where, server_name(m, m->target), pos);
            rc = -1;
        }
        rst_db_free(r);
    }
    free(pos);
    return pos == NULL ? -1 : rc;
}

/* ------------------------------------------------------------ the journal */

/* A failpoint for tests: ROOST_MOVE_STOP_AFTER=STEP stops right after the
 * step is recorded, STEP-unrecorded after its work and before the record
 * (where a crash leaves the file ahead of the journal): exit 3, as a
 * crash would stop it. */
static void stop_point(const char *step, const char *suffix)
{
    const char *stop = getenv("ROOST_MOVE_STOP_AFTER");
    char here[48];
    snprintf(here, sizeof(here), "%s%s", step, suffix);
    if (stop != NULL && strcmp(stop, here) == 0) {
        fprintf(stderr, "roostctl: shard move: stopping after %s (ROOST_MOVE_STOP_AFTER)\n", here);
        exit(3);
    }
}

static int journal_step(move *m, int step)
{
    rst_db *cat = m->s->catalog;
    if (m->id == 0) {
        rst_param p[5] = { rst_p_u64(m->first), rst_p_u64(m->last), rst_p_str(server_name(m, m->source)),
                           rst_p_str(server_name(m, m->target)), rst_p_str(STEP_NAMES[step]) };
        rst_rows rows;
        if (rst_db_exec(cat, "INSERT INTO shard_moves (first_shard, last_shard, source, target, step, "
                        "started_at, updated_at) VALUES (?, ?, ?, ?, ?, NOW(3), NOW(3))", p, 5, NULL) != RST_DB_OK ||
            rst_db_query(cat, &m->arena, "SELECT MAX(id) FROM shard_moves", NULL, 0, "U", &rows) != RST_DB_OK)
            return fail_db(cat, "writing the move journal (is migration 0003 applied?)");
        m->id = rst_row(&rows, 0)[0].u;
    } else {
        rst_param p[3] = { rst_p_str(STEP_NAMES[step]), rst_p_u64(m->copied), rst_p_u64(m->id) };
        const char *sql = step == ST_FENCED
            ? "UPDATE shard_moves SET step = ?, rows_copied = ?, fenced_at = NOW(3), updated_at = NOW(3) WHERE id = ?"
            : step == ST_UNFENCED
            ? "UPDATE shard_moves SET step = ?, rows_copied = ?, updated_at = NOW(3), "
              "fence_ms = TIMESTAMPDIFF(MICROSECOND, fenced_at, NOW(3)) DIV 1000 WHERE id = ?"
            : "UPDATE shard_moves SET step = ?, rows_copied = ?, updated_at = NOW(3) WHERE id = ?";
        if (rst_db_exec(cat, sql, p, 3, NULL) != RST_DB_OK)
            return fail_db(cat, "writing the move journal");
    }
    m->step = step;
    printf("  journal: %s\n", STEP_NAMES[step]);
    fflush(stdout);
    stop_point(STEP_NAMES[step], "");
    return 0;
}

/* The move in progress, if any: 1 and m filled, 0 when none, -1. */
static int journal_open(move *m)
{
    rst_rows rows;
    if (rst_db_query(m->s->catalog, &m->arena,
                     "SELECT id, first_shard, last_shard, source, target, step, rows_copied FROM shard_moves "
                     "WHERE step NOT IN ('done', 'aborted') ORDER BY id DESC LIMIT 1", NULL, 0,
                     "UUUSSSU", &rows) != RST_DB_OK)
        return fail_db(m->s->catalog, "reading the move journal (is migration 0003 applied?)");
    if (rows.nrows == 0)
        return 0;
    const rst_value *v = rst_row(&rows, 0);
    m->id = v[0].u;
    m->first = (unsigned)v[1].u;
    m->last = (unsigned)v[2].u;
    m->source = m->target = -1;
    for (int i = 0; i < m->s->cfg->nshard_servers; i++) {
        if (strcmp(server_name(m, i), v[3].s) == 0)
            m->source = i;
        if (strcmp(server_name(m, i), v[4].s) == 0)
            m->target = i;
    }
    m->step = step_of(v[5].s);
    m->copied = v[6].u;
    if (m->source < 0 || m->target < 0 || m->step < 0) {
        fprintf(stderr, "roostctl: shard move: move %" PRIu64 " names a server or step this "
                "configuration does not have (%s -> %s, %s)\n", m->id, v[3].s, v[4].s, v[5].s);
        return -1;
    }
    return 1;
}

/* ------------------------------------------------------------ the steps */

static int plan(move *m)
{
    printf("move logical shards %u-%u (%u of %u) from %s to %s\n", m->first, m->last,
           m->last - m->first + 1, m->s->cfg->shard_count, server_name(m, m->source),
           server_name(m, m->target));
    if (compare_sums(m, NULL, m->planned, 0) < 0)
        return -1;
    uint64_t total = 0;
    for (int t = 0; t < NTABLES; t++) {
        printf("  %-12s %10" PRIu64 " rows on %s\n", TABLES[t].name, m->planned[t], server_name(m, m->source));
        total += m->planned[t];
    }
    printf("  %-12s %10" PRIu64 " rows\n", "total", total);
    return 0;
}

static int step_copy(move *m)
{
    m->copied = 0;
    for (int t = 0; t < NTABLES; t++) {
        uint64_t n;
        if (copy_table(m, &TABLES[t], filter_range, NULL, m->planned[t], &n) != 0)
            return -1;
        if (!m->tty)
            printf("  copied %-12s %10" PRIu64 " rows\n", TABLES[t].name, n);
        m->copied += n;
    }
    return journal_step(m, ST_COPIED);
}

/* A step that changes the map: the file rewritten, roostd reloaded with
 * the new map in effect everywhere, the step journaled. */
/* A move edits this configuration file and reloads the roostd serving
 * it; other roostd hosts follow the map it also writes to the catalog
 * when they run with `[shards] map = catalog` (store/catmap.h). One that
 * follows only its own file would go on routing the range with its old
 * map -- writes past the fence, and after the switch to the old server,
 * whose copy is then deleted. So a map step is refused while any other
 * roostd that follows its file holds a live generator claim in the
 * catalog (every roostd takes one while it runs). */
static int only_followers_elsewhere(move *m)
{
    char mine[PATH_MAX + 128];
    rst_claim_owner(m->conf_path, mine, sizeof(mine));
    rst_rows rows;
    rst_arena_reset(&m->arena);
    if (rst_claim_list(m->s->catalog, &m->arena, &rows) != 0) {
        fprintf(stderr, "roostctl: shard move: warning: the generator claims cannot be read (%s): "
                "make sure no roostd but this file's runs\n", rst_db_last_error(m->s->catalog));
        return 0;
    }
    int others = 0;
    for (int r = 0; r < rows.nrows; r++) {
        const rst_value *v = rst_row(&rows, r);
        if (v[4].i >= RST_CLAIM_STALE_S || v[5].i >= 0 || strcmp(v[0].s, mine) == 0)
            continue;
        if (others++ == 0)
            fprintf(stderr, "roostctl: shard move: other roostd hosts are running that follow "
                    "their own file ([shards] map = file), and a move reloads only the roostd of "
                    "%s:\n", m->conf_path);
        fprintf(stderr, "  %s (pid %" PRIu64 ", generators %" PRIu64 "-%" PRIu64 ")\n", v[0].s,
                v[3].u, v[1].u, v[2].u);
    }
    if (others > 0)
        fprintf(stderr, "roostctl: shard move: set [shards] map = catalog on them (and reload), or "
                "stop them and start them again on this file's map once the move is done; nothing "
                "was changed by this step\n");
    return others > 0 ? -1 : 0;
}

/* The map just written to the file, as the catalog's next generation:
 * the roostd hosts that follow the catalog take it from there. */
static int write_catalog_map(move *m, uint64_t *generation)
{
    rst_config *now = malloc(sizeof(*now));
    char err[1024];
    rst_catmap map;
    int rc = -1;
    if (now == NULL)
        return -1;
    if (rst_config_load(now, m->conf_path, err, sizeof(err)) != 0)
        fprintf(stderr, "roostctl: shard move: %s no longer loads: %s\n", m->conf_path, err);
    else if (rst_catmap_format(now, &map) != 0)
        fprintf(stderr, "roostctl: shard move: the shard map does not fit the catalog's row\n");
    else {
        rst_arena_reset(&m->arena);
        if (rst_catmap_write(m->s->catalog, &m->arena, &map, generation) != 0)
            fail_db(m->s->catalog, "writing the shard map to the catalog (is migration 0004 applied?)");
        else
            rc = 0;
    }
    free(now);
    return rc;
}

/* Waits until every other live roostd that follows the catalog routes
 * with its map generation `gen` in every worker (their claims say so). */
static int wait_followers(move *m, uint64_t gen)
{
    char mine[PATH_MAX + 128];
    rst_claim_owner(m->conf_path, mine, sizeof(mine));
    uint64_t t0 = rst_time_mono_ms();
    for (;;) {
        rst_rows rows;
        rst_arena_reset(&m->arena);
        if (rst_claim_list(m->s->catalog, &m->arena, &rows) != 0)
            return fail_db(m->s->catalog, "reading the generator claims");
        int followers = 0, behind = 0;
        const char *late = NULL;
        for (int r = 0; r < rows.nrows; r++) {
            const rst_value *v = rst_row(&rows, r);
            if (v[4].i >= RST_CLAIM_STALE_S || v[5].i < 0 || strcmp(v[0].s, mine) == 0)
                continue;
            followers++;
            if ((uint64_t)v[5].i < gen) {
                behind++;
                late = v[0].s;
            }
        }
        if (behind == 0) {
            if (followers > 0)
                printf("  map generation %" PRIu64 " of the catalog in effect on %d other roostd "
                       "host%s after %.2f s\n", gen, followers, followers == 1 ? "" : "s",
                       (double)(rst_time_mono_ms() - t0) / 1000.0);
            return 0;
        }
        if (rst_time_mono_ms() - t0 >= RELOAD_WAIT_MS) {
            fprintf(stderr, "roostctl: shard move: %d roostd hosts do not route with the catalog's "
                    "map generation %" PRIu64 " after %d s (%s among them: its log says why)\n",
                    behind, gen, RELOAD_WAIT_MS / 1000, late);
            return -1;
        }
        usleep(50 * 1000);
    }
}

/* The map after a step, everywhere: this file and its roostd, the
 * catalog and the roostd hosts that follow it. */
static int publish_map(move *m, int fenced, int switched, const char *why)
{
    uint64_t gen = 0;
    if (only_followers_elsewhere(m) != 0 || write_map(m, fenced, switched) != 0 ||
        write_catalog_map(m, &gen) != 0 || reload_roostd(m, why) != 0 || wait_followers(m, gen) != 0)
        return -1;
    return 0;
}

static int map_step(move *m, int fenced, int switched, const char *why, int step)
{
    if (publish_map(m, fenced, switched, why) != 0)
        return -1;
    stop_point(STEP_NAMES[step], "-unrecorded");
    return journal_step(m, step);
}

static int step_fence(move *m)
{
    return settle_map(m) == 0 ? map_step(m, 1, 0, "fence", ST_FENCED) : -1;
}

/* Under the fence: the shards written during the copy, emptied on the
 * target and copied again. */
static int step_catch_up(move *m)
{
    unsigned char (*dirty)[4096] = calloc(NTABLES, 4096);
    if (dirty == NULL)
        return -1;
    int differ = compare_sums(m, dirty, NULL, 0), rc = differ < 0 ? -1 : 0;
    uint64_t redone = 0;
    for (int t = 0; t < NTABLES && rc == 0 && differ > 0; t++) {
        uint64_t del, n;
        if (delete_rows(m, dst_db(m), &TABLES[t], filter_set, dirty[t], &del) != 0 ||
            copy_table(m, &TABLES[t], filter_set, dirty[t], 0, &n) != 0)
            rc = -1;
        redone += n;
    }
    free(dirty);
    if (rc != 0)
        return -1;
    printf("  caught up: %d (table, shard) pairs had changed during the copy; %" PRIu64
           " rows copied again\n", differ, redone);
    m->copied += redone;
    return journal_step(m, ST_CAUGHT_UP);
}

/* Verification under the fence. Rows that differ now were written to the
 * source after the fence took effect in every worker of the pools: by a
 * worker that still routes with an older map. The one known to exist is
 * a worker whose master was killed (-9): it serves its kept connections
 * for at most 1 s more with the map it had (docs/RELIABILITY.md). So a
 * difference is caught up again and verified again, a few times a second
 * apart, before the move gives up -- nothing is switched while one
 * remains. */
#define VERIFY_PASSES   8
#define VERIFY_PAUSE_MS 1000

static int step_verify(move *m)
{
    uint64_t rows[NTABLES];
    int differ;
    for (int pass = 1;; pass++) {
        if ((differ = compare_sums(m, NULL, rows, 1)) <= 0 || pass == VERIFY_PASSES)
            break;
        fprintf(stderr, "roostctl: shard move: %d (table, shard) pairs were written on %s under the "
                "fence (a worker with an older map); catching up again (pass %d of %d)\n", differ,
                server_name(m, m->source), pass + 1, VERIFY_PASSES);
        usleep(VERIFY_PAUSE_MS * 1000);
        if (step_catch_up(m) != 0)
            return -1;
    }
    if (differ < 0)
        return -1;
    if (differ > 0) {
        fprintf(stderr, "roostctl: shard move: verification failed: %d (table, shard) pairs differ "
                "between %s and %s under the fence after %d passes (a writer that ignores the map?); "
                "the range stays fenced -- run --resume to catch up again, or --abort\n", differ,
                server_name(m, m->source), server_name(m, m->target), VERIFY_PASSES);
        /* Back to fenced (the fence's start stays): --resume catches up again. */
        rst_param p[1] = { rst_p_u64(m->id) };
        if (rst_db_exec(m->s->catalog, "UPDATE shard_moves SET step = 'fenced', updated_at = NOW(3) "
                        "WHERE id = ?", p, 1, NULL) != RST_DB_OK)
            fail_db(m->s->catalog, "writing the move journal");
        return -1;
    }
    printf("  verified: count and checksum equal on both sides for every table and logical shard:");
    for (int t = 0; t < NTABLES; t++)
        printf(" %s %" PRIu64 "%s", TABLES[t].name, rows[t], t + 1 < NTABLES ? "," : "\n");
    if (wait_target_replicas(m) != 0)
        return -1;
    return journal_step(m, ST_VERIFIED);
}

static int step_switch(move *m) { return map_step(m, 1, 1, "switch", ST_SWITCHED); }

static int step_unfence(move *m)
{
    if (map_step(m, 0, 1, "unfence", ST_UNFENCED) != 0)
        return -1;
    rst_rows rows;
    rst_param p[1] = { rst_p_u64(m->id) };
    if (rst_db_query(m->s->catalog, &m->arena, "SELECT COALESCE(fence_ms, 0) FROM shard_moves WHERE id = ?",
                     p, 1, "U", &rows) == RST_DB_OK && rows.nrows == 1)
        printf("  the fence held writes off the range for %" PRIu64 " ms\n", rst_row(&rows, 0)[0].u);
    return 0;
}

static int step_clean_up(move *m)
{
    uint64_t total;
    if (delete_range(m, src_db(m), &total) != 0)
        return -1;
    printf("  cleaned up: %" PRIu64 " rows of the range deleted from %s\n", total, server_name(m, m->source));
    return journal_step(m, ST_DONE);
}

static int run_from(move *m)
{
    int (*const steps[])(move *) = { step_copy, step_fence, step_catch_up, step_verify, step_switch,
                                     step_unfence, step_clean_up };
    /* steps[i] makes step i + 1 (ST_COPIED ...). */
    if (m->step < ST_COPIED && m->planned[0] == 0 && compare_sums(m, NULL, m->planned, 0) < 0)
        return 1;
    for (int st = m->step; st < ST_DONE; st++)
        if (steps[st](m) != 0)
            return 1;
    printf("move %" PRIu64 " done: logical shards %u-%u are on %s\n", m->id, m->first, m->last,
           server_name(m, m->target));
    return 0;
}

/* --abort: before the switch, the source still holds everything: lift the
 * fence and delete the copies from the target. */
static int abort_move(move *m)
{
    if (m->step >= ST_SWITCHED) {
        fprintf(stderr, "roostctl: shard move: move %" PRIu64 " is past the switch (step %s): the "
                "map names %s; finish it with --resume\n", m->id, STEP_NAMES[m->step],
                server_name(m, m->target));
        return 1;
    }
    if (m->step >= ST_FENCED && publish_map(m, 0, 0, "fence lifted") != 0)
        return 1;
    uint64_t total;
    if (delete_range(m, dst_db(m), &total) != 0)
        return 1;
    printf("  aborted: %" PRIu64 " copied rows deleted from %s\n", total, server_name(m, m->target));
    return journal_step(m, ST_ABORTED) == 0 ? 0 : 1;
}

/* ------------------------------------------------------------ the command */

typedef struct {
    int      dry_run, resume, do_abort;
    unsigned first, last;
    const char *to;
} move_args;

static int parse_shard_range(const char *v, unsigned *first, unsigned *last)
{
    char *end;
    unsigned long a = strtoul(v, &end, 10), b = a;
    if (end == v)
        return -1;
    if (*end == '-') {
        const char *p = end + 1;
        b = strtoul(p, &end, 10);
        if (end == p)
            return -1;
    }
    if (*end != '\0' || a > b || b >= RST_ID_MAX_SHARDS)
        return -1;
    *first = (unsigned)a;
    *last = (unsigned)b;
    return 0;
}

static int move_usage(const char *why)
{
    fprintf(stderr, "roostctl: shard move: %s\n"
            "usage: roostctl shard move FIRST-LAST --to SERVER [--dry-run]\n"
            "       roostctl shard move --resume | --abort\n", why);
    return 2;
}

static int parse_move(int argc, char **argv, move_args *a)
{
    memset(a, 0, sizeof(*a));
    int have_range = 0;
    if (argc < 1 || strcmp(argv[0], "move") != 0)
        return move_usage(argc < 1 ? "missing subcommand" : "unknown subcommand (only move)");
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dry-run") == 0)
            a->dry_run = 1;
        else if (strcmp(argv[i], "--resume") == 0)
            a->resume = 1;
        else if (strcmp(argv[i], "--abort") == 0)
            a->do_abort = 1;
        else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc)
            a->to = argv[++i];
        else if (!have_range && argv[i][0] != '-' && parse_shard_range(argv[i], &a->first, &a->last) == 0)
            have_range = 1;
        else
            return move_usage("unexpected argument");
    }
    if (a->resume + a->do_abort > 1 || ((a->resume || a->do_abort) && (have_range || a->to || a->dry_run)))
        return move_usage("--resume and --abort take no other argument");
    if (!a->resume && !a->do_abort && (!have_range || a->to == NULL))
        return move_usage("a range of logical shards and --to SERVER are needed");
    return 0;
}

int rst_ctl_shard_check(int argc, char **argv)
{
    move_args a;
    return parse_move(argc, argv, &a);
}

/* A new move: the range must lie wholly on one server, the target be
 * another, and no other move be in progress. */
static int new_move(move *m, const move_args *a)
{
    const rst_config *cfg = m->s->cfg;
    m->first = a->first;
    m->last = a->last;
    m->source = rst_shardmap_server(&m->s->map, a->first);
    m->target = -1;
    for (int i = 0; i < cfg->nshard_servers; i++)
        if (strcmp(server_name(m, i), a->to) == 0)
            m->target = i;
    if (a->last >= cfg->shard_count) {
        fprintf(stderr, "roostctl: shard move: %u-%u goes past [shards] count = %u\n", a->first,
                a->last, cfg->shard_count);
        return -1;
    }
    for (unsigned sh = a->first; sh <= a->last; sh++)
        if (rst_shardmap_server(&m->s->map, sh) != m->source) {
            fprintf(stderr, "roostctl: shard move: logical shards %u-%u are not all on one server "
                    "(%u is on %s, %u on %s): move each server's part on its own\n", a->first,
                    a->last, a->first, server_name(m, m->source), sh,
                    server_name(m, rst_shardmap_server(&m->s->map, sh)));
            return -1;
        }
    if (m->target < 0) {
        fprintf(stderr, "roostctl: shard move: no [shard %s] in %s (add the server's section, "
                "without a range, and run roostctl migrate)\n", a->to, m->conf_path);
        return -1;
    }
    if (m->target == m->source) {
        fprintf(stderr, "roostctl: shard move: logical shards %u-%u are already on %s\n", a->first,
                a->last, a->to);
        return -1;
    }
    return 0;
}

int rst_ctl_shard(rst_services *s, int argc, char **argv)
{
    const char *conf_path = rst_ctl_conf_path;
    move_args a;
    if (parse_move(argc, argv, &a) != 0)
        return 2;
    move m;
    memset(&m, 0, sizeof(m));
    m.s = s;
    m.conf_path = conf_path;
    m.tty = isatty(STDERR_FILENO);
    rst_arena_init(&m.arena, 256 * 1024);
    int rc = 1, found = journal_open(&m);
    if (found < 0) {
        rc = 1;
    } else if (a.resume || a.do_abort) {
        if (found == 0)
            fprintf(stderr, "roostctl: shard move: no move in progress\n");
        else if (a.do_abort)
            rc = abort_move(&m);
        else if (m.step >= ST_UNFENCED || only_followers_elsewhere(&m) == 0) {
            printf("resuming move %" PRIu64 " of logical shards %u-%u from %s to %s after step %s\n",
                   m.id, m.first, m.last, server_name(&m, m.source), server_name(&m, m.target),
                   STEP_NAMES[m.step]);
            rc = run_from(&m);
        }
    } else if (found == 1) {
        fprintf(stderr, "roostctl: shard move: move %" PRIu64 " (%u-%u, %s -> %s) is in progress "
                "after step %s: --resume it or --abort it first\n", m.id, m.first, m.last,
                server_name(&m, m.source), server_name(&m, m.target), STEP_NAMES[m.step]);
    } else if (new_move(&m, &a) == 0 && plan(&m) == 0) {
        if (a.dry_run) {
            printf("dry run: nothing changed\n");
            rc = 0;
        } else if (only_followers_elsewhere(&m) == 0 && journal_step(&m, ST_PLANNED) == 0) {
            rc = run_from(&m);
        }
    }
    rst_arena_free(&m.arena);
    return rc;
}

/* For roostctl shards: the move in progress, if any. */
void rst_ctl_shard_moves(rst_services *s)
{
    move m;
    memset(&m, 0, sizeof(m));
    m.s = s;
    rst_arena_init(&m.arena, 4096);
    rst_rows rows;
    if (rst_db_query(s->catalog, &m.arena,
                     "SELECT id, first_shard, last_shard, source, target, step FROM shard_moves "
                     "WHERE step NOT IN ('done', 'aborted') ORDER BY id", NULL, 0, "UUUSSS", &rows) == RST_DB_OK) {
        printf("\nshard moves in progress (catalog shard_moves):\n");
        if (rows.nrows == 0)
            printf("  none\n");
        for (int r = 0; r < rows.nrows; r++) {
            const rst_value *v = rst_row(&rows, r);
            printf("  move %" PRIu64 ": logical shards %" PRIu64 "-%" PRIu64 " from %s to %s, after step %s\n",
                   v[0].u, v[1].u, v[2].u, v[3].s, v[4].s, v[5].s);
        }
    }
    rst_arena_free(&m.arena);
}
