/* names.c -- authors' names, cached in Redis (see names.h). */
#include <inttypes.h>
#include <string.h>

#include "core/log.h"

#include "domain/names.h"
#include "domain/shardq.h"
#include "domain/users.h"

/* Long: a rename overwrites the entry, so its age does not matter; the TTL
 * only bounds a name written while Redis was unreachable by the rename. */
#define NAME_TTL_S 3600

static const char SQL_NAMES[] = "SELECT id, name FROM users WHERE id IN ";

/* A cached name is a valid user name and nothing else; anything else
 * (a foreign or corrupt value) is a miss. */
static int cached_name_ok(const char *v, size_t len)
{
    return v != NULL && rst_user_name_problem(v, len) == NULL;
}

/* Adds the names just read from the shards, all in one round trip. */
static void fill_cache(rst_services *s, const rst_rows *rows)
{
    rst_batch b;
    if (rows->nrows == 0 || rst_batch_begin(&b, s->cache) != 0)
        return;
    for (int r = 0; r < rows->nrows; r++) {
        const rst_value *row = rst_row(rows, r);
        rst_key k;
        rst_cmd cmd;
        rst_key_user_name(s->cache, &k, row[0].u);
        rst_cmd_set(&cmd, &k, row[1].s, row[1].len, NAME_TTL_S, 1);
        rst_batch_add(&b, &cmd);
    }
    rst_batch_end(&b);
}

/* The misses from the shards; names[] of users that do not exist stay NULL. */
static rst_err names_from_shards(rst_services *s, rst_arena *a, const uint64_t *uids, int n,
                                 const char **names)
{
    uint64_t miss[RST_NAMES_MAX];
    int nmiss = 0;
    for (int i = 0; i < n; i++)
        if (names[i] == NULL)
            miss[nmiss++] = uids[i];
    if (nmiss == 0)
        return RST_OK;
    rst_rows rows;
    rst_err err = rst_shards_lookup(s, a, RST_REPLICA, SQL_NAMES, "US", miss, nmiss, &rows);
    if (err != RST_OK)
        return err;
    for (int r = 0; r < rows.nrows; r++) {
        const rst_value *row = rst_row(&rows, r);
        for (int i = 0; i < n; i++)
            if (names[i] == NULL && uids[i] == row[0].u)
                names[i] = row[1].s;
    }
    fill_cache(s, &rows);
    return RST_OK;
}

rst_err rst_names_get(rst_services *s, rst_arena *a, const uint64_t *uids, int n,
                      const char **names)
{
    if (n <= 0)
        return RST_OK;
    if (n > RST_NAMES_MAX)
        return RST_E_INTERNAL;
    rst_key *keys = rst_arena_alloc(a, sizeof(rst_key) * (size_t)n);
    char **vals = rst_arena_alloc(a, sizeof(char *) * (size_t)n);
    size_t *lens = rst_arena_alloc(a, sizeof(size_t) * (size_t)n);
    if (keys == NULL || vals == NULL || lens == NULL)
        return RST_E_INTERNAL;
    for (int i = 0; i < n; i++)
        rst_key_user_name(s->cache, &keys[i], uids[i]);
    if (rst_cache_mget(s->cache, a, keys, n, vals, lens) < 0)
        memset(vals, 0, sizeof(char *) * (size_t)n);      /* Redis down: all misses */
    for (int i = 0; i < n; i++)
        names[i] = cached_name_ok(vals[i], vals[i] ? lens[i] : 0) ? vals[i] : NULL;
    return names_from_shards(s, a, uids, n, names);
}

typedef struct {
    rst_services *s;
    uint64_t      uid;
    const char   *name;
} name_news;

static void queue_name(rst_batch *b, void *arg)
{
    const name_news *n = arg;
    rst_key k;
    rst_cmd cmd;
    rst_key_user_name(n->s->cache, &k, n->uid);
    rst_cmd_set(&cmd, &k, n->name, strlen(n->name), NAME_TTL_S, 0);
    rst_batch_add(b, &cmd);
}

/* Through an open breaker and past a dead kept connection
 * (rst_cache_write): a name left behind would show on every tweet. */
void rst_names_publish(rst_services *s, uint64_t uid, const char *name)
{
    name_news n = { s, uid, name };
    rst_hot_forget(s, NULL);                  /* the name is in any of this worker's copies */
    if (rst_cache_write(s->cache, queue_name, &n) != 0)
        rst_log_warn("user %" PRIu64 ": renamed while Redis is unavailable; tweets may show "
                     "the old name until it expires", uid);
}
