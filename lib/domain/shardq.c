/* shardq.c -- parallel queries over the shard servers (see shardq.h). */
#include <string.h>

#include "core/buf.h"
#include "domain/shardq.h"

/* The first failed job's error, logged; RST_OK when none failed. */
static rst_err first_failure(const rst_db_job *jobs, int n, const char *what)
{
    for (int i = 0; i < n; i++)
        if (jobs[i].rc != RST_DB_OK)
            return rst_store_fail(jobs[i].db, jobs[i].rc, what);
    return RST_OK;
}

rst_err rst_shards_all(rst_services *s, rst_arena *a, rst_role role, const char *sql,
                       const rst_param *params, int nparams, const char *cols, const char *what,
                       rst_db_job **out)
{
    rst_db_job *jobs = rst_arena_calloc(a, sizeof(*jobs) * (size_t)(s->nshards ? s->nshards : 1));
    if (jobs == NULL)
        return RST_E_INTERNAL;
    for (int i = 0; i < s->nshards; i++)
        jobs[i] = (rst_db_job){ .db = rst_server(s, i, role), .sql = sql, .params = params,
                                .nparams = nparams };
    rst_db_query_many(jobs, s->nshards, a, cols);
    *out = jobs;
    return first_failure(jobs, s->nshards, what);
}

static int padded_size(int n)
{
    int p = 1;
    while (p < n)
        p *= 2;
    return p;
}

/* "<select>(?,?,...)" with n placeholders, in the arena. */
static const char *in_list_sql(rst_arena *a, const char *select, int n)
{
    size_t head = strlen(select);
    char *sql = rst_arena_alloc(a, head + 2 * (size_t)n + 2);
    if (sql == NULL)
        return NULL;
    memcpy(sql, select, head);
    char *p = sql + head;
    *p++ = '(';
    for (int i = 0; i < n; i++) {
        *p++ = '?';
        *p++ = i + 1 < n ? ',' : ')';
    }
    *p = '\0';
    return sql;
}

/* Concatenates every job's rows into one rst_rows. */
static rst_err gather_rows(rst_arena *a, const rst_db_job *jobs, int n, int ncols, rst_rows *out)
{
    int total = 0;
    for (int i = 0; i < n; i++)
        total += jobs[i].rows.nrows;
    out->nrows = 0;
    out->ncols = ncols;
    out->v = rst_arena_alloc(a, sizeof(rst_value) * (size_t)(total * ncols + 1));
    if (out->v == NULL)
        return RST_E_INTERNAL;
    for (int i = 0; i < n; i++) {
        size_t cells = (size_t)jobs[i].rows.nrows * (size_t)ncols;
        if (cells > 0)
            memcpy(out->v + (size_t)out->nrows * (size_t)ncols, jobs[i].rows.v,
                   sizeof(rst_value) * cells);
        out->nrows += jobs[i].rows.nrows;
    }
    return RST_OK;
}

rst_err rst_shards_lookup(rst_services *s, rst_arena *a, rst_role role, const char *select,
                          const char *cols, const uint64_t *ids, int n, rst_rows *rows)
{
    memset(rows, 0, sizeof(*rows));
    rows->ncols = (int)strlen(cols);
    if (n == 0)
        return RST_OK;
    if (n > RST_LOOKUP_MAX)
        return RST_E_INTERNAL;
    /* Group by server: server index -> its ids. */
    int count[RST_MAX_SERVERS] = { 0 };
    int server_of[RST_LOOKUP_MAX];
    for (int i = 0; i < n; i++) {
        server_of[i] = rst_shardmap_server_for_id(&s->map, ids[i]);
        if (server_of[i] >= 0)
            count[server_of[i]]++;
    }
    rst_db_job *jobs = rst_arena_calloc(a, sizeof(*jobs) * RST_MAX_SERVERS);
    if (jobs == NULL)
        return RST_E_INTERNAL;
    int njobs = 0;
    for (int sv = 0; sv < s->nshards; sv++) {
        if (count[sv] == 0)
            continue;
        int size = padded_size(count[sv]), k = 0;
        rst_param *p = rst_arena_alloc(a, sizeof(rst_param) * (size_t)size);
        const char *sql = in_list_sql(a, select, size);
        if (p == NULL || sql == NULL)
            return RST_E_INTERNAL;
        for (int i = 0; i < n; i++)
            if (server_of[i] == sv)
                p[k++] = rst_p_u64(ids[i]);
        while (k < size) {
            p[k] = p[k - 1];             /* padding: the same id again */
            k++;
        }
        jobs[njobs++] = (rst_db_job){ .db = rst_server(s, sv, role), .sql = sql, .params = p,
                                      .nparams = size };
    }
    rst_db_query_many(jobs, njobs, a, cols);
    rst_err err = first_failure(jobs, njobs, "shard lookup");
    return err != RST_OK ? err : gather_rows(a, jobs, njobs, rows->ncols, rows);
}
