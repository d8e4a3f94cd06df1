/* services.c -- opening and closing a worker's shared resources. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "domain/services.h"

int rst_services_open(rst_services *s, const rst_config *cfg,
                      const rst_secrets *secrets, unsigned generator)
{
    memset(s, 0, sizeof(*s));
    s->cfg = cfg;
    if (secrets != NULL)
        s->secrets = *secrets;
    rst_shardmap_build(&s->map, cfg);
    rst_pw_params_init(&s->pw, (unsigned long long)cfg->argon2_opslimit,
                       (size_t)cfg->argon2_memlimit_kib * 1024);
    if (rst_idgen_init(&s->ids, generator) != 0)
        return -1;
    s->catalog = rst_db_new(&cfg->catalog);
    s->cache = rst_cache_new(cfg);
    s->tokens = calloc(1, sizeof(*s->tokens));
    if (s->catalog == NULL || s->cache == NULL || s->tokens == NULL)
        goto fail;
    for (int i = 0; i < cfg->nshard_servers; i++) {
        s->shards[i] = rst_db_new(&cfg->shard_servers[i]);
        if (s->shards[i] == NULL)
            goto fail;
        s->nshards++;
    }
    return 0;
fail:
    rst_services_close(s);
    return -1;
}

void rst_services_close(rst_services *s)
{
    rst_db_free(s->catalog);
    s->catalog = NULL;
    for (int i = 0; i < s->nshards; i++)
        rst_db_free(s->shards[i]);
    s->nshards = 0;
    rst_cache_free(s->cache);
    s->cache = NULL;
    if (s->tokens != NULL)
        sodium_memzero(s->tokens, sizeof(*s->tokens));   /* bearer tokens are secrets */
    free(s->tokens);
    s->tokens = NULL;
}

rst_err rst_shard(rst_services *s, unsigned shard, rst_role role, rst_db **out)
{
    (void)role;                  /* no replicas yet: every role is the primary */
    int server = rst_shardmap_server(&s->map, shard);
    *out = server < 0 ? NULL : s->shards[server];
    return *out != NULL ? RST_OK : RST_E_NOT_FOUND;
}

rst_err rst_shard_of(rst_services *s, uint64_t id, rst_role role, rst_db **out)
{
    return rst_shard(s, rst_id_shard(id), role, out);
}

rst_err rst_shard_row(rst_services *s, rst_arena *a, uint64_t id, const char *sql,
                      const char *cols, const char *what, const rst_value **row)
{
    rst_db *db;
    rst_err err = rst_shard_of(s, id, RST_PRIMARY, &db);
    if (err != RST_OK)
        return err;
    rst_param p[1] = { rst_p_u64(id) };
    rst_rows rows;
    rst_db_rc rc = rst_db_query(db, a, sql, p, 1, cols, &rows);
    if (rc != RST_DB_OK)
        return rst_store_fail(db, rc, what);
    if (rows.nrows == 0)
        return RST_E_NOT_FOUND;
    *row = rst_row(&rows, 0);
    return RST_OK;
}

rst_err rst_store_outcome(rst_db *db, const char *probe, const rst_param *p, int n,
                          const char *what)
{
    rst_arena a;
    rst_rows rows;
    rst_arena_init(&a, 1024);
    rst_db_rc rc = rst_db_query(db, &a, probe, p, n, "U", &rows);
    int applied = rc == RST_DB_OK && rows.nrows > 0;
    rst_arena_free(&a);
    if (rc != RST_DB_OK) {
        rst_log_error("%s: the connection died under a write and the server cannot be asked "
                      "whether it was applied: %s", what, rst_db_last_error(db));
        return RST_E_UNAVAILABLE;
    }
    rst_log_warn("%s: the connection died under a write; looked again: the row is %s", what,
                 applied ? "there" : "not there");
    return applied ? RST_OK : RST_E_NOT_FOUND;
}

rst_err rst_store_fail(rst_db *db, rst_db_rc rc, const char *what)
{
    switch (rc) {
    case RST_DB_OK:
        return RST_OK;
    case RST_DB_DOWN:
        rst_log_warn("%s: unavailable: %s", what, rst_db_last_error(db));
        return RST_E_UNAVAILABLE;
    case RST_DB_BUSY:
        rst_log_warn("%s: %s", what, rst_db_last_error(db));
        return RST_E_BUSY;
    case RST_DB_DUP:
        return RST_E_CONFLICT;
    case RST_DB_UNKNOWN:
        rst_log_warn("%s: outcome unknown, the connection died under a write: %s", what,
                     rst_db_last_error(db));
        return RST_E_UNAVAILABLE;
    case RST_DB_ERR:
        break;
    }
    rst_log_error("%s: %s", what, rst_db_last_error(db));
    return RST_E_INTERNAL;
}
