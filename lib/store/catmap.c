/* catmap.c -- the shard map in the catalog (see catmap.h): its text form,
 * applying it over a configuration, and the catalog's shard_map row. */
#include "store/catmap.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char SQL_READ[] = "SELECT generation, ranges, fenced FROM shard_map WHERE id = 1";
static const char SQL_WRITE[] =
    "INSERT INTO shard_map (id, generation, ranges, fenced, updated_at) VALUES (1, 1, ?, ?, NOW(3)) "
    "ON DUPLICATE KEY UPDATE generation = generation + 1, ranges = VALUES(ranges), "
    "fenced = VALUES(fenced), updated_at = NOW(3)";
static const char SQL_REPORT[] = "UPDATE generator_claims SET map_generation = ? WHERE owner = ?";

/* Appends "A-B" (after sep) to out, cap bytes, *used so far; -1 when
 * it is full. */
static int put_range(char *out, size_t cap, size_t *used, const char *sep, unsigned a, unsigned b)
{
    int n = snprintf(out + *used, cap - *used, "%s%u-%u", sep, a, b);
    if (n < 0 || (size_t)n >= cap - *used)
        return -1;
    *used += (size_t)n;
    return 0;
}

int rst_catmap_format(const rst_config *cfg, rst_catmap *out)
{
    memset(out, 0, sizeof(*out));
    size_t used = 0;
    for (int s = 0; s < cfg->nshard_servers; s++) {
        int first = 1;
        for (int i = 0; i < cfg->nranges; i++) {
            const rst_shard_range *r = &cfg->ranges[i];
            if (r->server != s)
                continue;
            if (first) {
                int n = snprintf(out->ranges + used, sizeof(out->ranges) - used, "%s%s=",
                                 used ? ";" : "", cfg->shard_servers[s].name);
                if (n < 0 || (size_t)n >= sizeof(out->ranges) - used)
                    return -1;
                used += (size_t)n;
            }
            if (put_range(out->ranges, sizeof(out->ranges), &used, first ? "" : ",", r->first,
                          r->last) != 0)
                return -1;
            first = 0;
        }
    }
    used = 0;
    for (int i = 0; i < cfg->nfenced; i++)
        if (put_range(out->fenced, sizeof(out->fenced), &used, i ? ", " : "", cfg->fenced[i].first,
                      cfg->fenced[i].last) != 0)
            return -1;
    return 0;
}

/* "A" or "A-B" (logical shards) at *p, which moves past it. */
static int parse_range_at(const char **p, unsigned *first, unsigned *last)
{
    char *end;
    unsigned long a = strtoul(*p, &end, 10), b = a;
    if (end == *p || a > 65535)
        return -1;
    if (*end == '-') {
        const char *q = end + 1;
        b = strtoul(q, &end, 10);
        if (end == q || b > 65535 || b < a)
            return -1;
    }
    *first = (unsigned)a;
    *last = (unsigned)b;
    *p = end;
    return 0;
}

static int server_named(const rst_config *cfg, const char *name, size_t len)
{
    for (int s = 0; s < cfg->nshard_servers; s++)
        if (strlen(cfg->shard_servers[s].name) == len && strncmp(cfg->shard_servers[s].name, name, len) == 0)
            return s;
    return -1;
}

/* The ranges text into cfg->ranges: 0, or -1 with err. */
static int parse_ranges(const char *text, rst_config *cfg, char *err, size_t errlen)
{
    cfg->nranges = 0;
    for (const char *p = text; *p != '\0';) {
        const char *eq = strchr(p, '=');
        if (eq == NULL) {
            snprintf(err, errlen, "the catalog's shard map is malformed near \"%.40s\"", p);
            return -1;
        }
        int s = server_named(cfg, p, (size_t)(eq - p));
        if (s < 0) {
            snprintf(err, errlen, "the catalog's shard map names server %.*s, which this "
                     "configuration has no [shard %.*s] section for", (int)(eq - p), p,
                     (int)(eq - p), p);
            return -1;
        }
        p = eq + 1;
        for (;;) {
            rst_shard_range r = { 0, 0, s };
            if (cfg->nranges == RST_MAX_RANGES || parse_range_at(&p, &r.first, &r.last) != 0) {
                snprintf(err, errlen, "the catalog's shard map has a bad range for server %s",
                         cfg->shard_servers[s].name);
                return -1;
            }
            cfg->ranges[cfg->nranges++] = r;
            if (*p != ',')
                break;
            p++;
        }
        if (*p == ';')
            p++;
        else if (*p != '\0') {
            snprintf(err, errlen, "the catalog's shard map is malformed near \"%.40s\"", p);
            return -1;
        }
    }
    return 0;
}

int rst_catmap_apply(const rst_catmap *map, rst_config *cfg, char *err, size_t errlen)
{
    /* Kept to put back on a failure: the caller's configuration stays whole. */
    rst_shard_range ranges[RST_MAX_RANGES], fenced[RST_MAX_RANGES];
    int nranges = cfg->nranges, nfenced = cfg->nfenced;
    memcpy(ranges, cfg->ranges, sizeof(ranges));
    memcpy(fenced, cfg->fenced, sizeof(fenced));
    int rc = parse_ranges(map->ranges, cfg, err, errlen);
    if (rc == 0 && rst_config_parse_fenced(cfg, map->fenced) != 0) {
        snprintf(err, errlen, "the catalog's shard map has a bad fence: \"%.60s\"", map->fenced);
        rc = -1;
    }
    if (rc == 0 && rst_config_check_shard_map(cfg, err, errlen) != 0)
        rc = -1;
    if (rc != 0) {
        memcpy(cfg->ranges, ranges, sizeof(ranges));
        memcpy(cfg->fenced, fenced, sizeof(fenced));
        cfg->nranges = nranges;
        cfg->nfenced = nfenced;
    }
    return rc;
}

int rst_catmap_read(const rst_db_conf *catalog, rst_catmap *out, char *why, size_t whylen)
{
    rst_db_conf conf;
    rst_db *db = rst_db_new_brief(catalog, &conf);
    if (db == NULL) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    rst_arena a;
    rst_arena_init(&a, 8192);
    rst_rows rows;
    int rc = -1;
    if (rst_db_query(db, &a, SQL_READ, NULL, 0, "USS", &rows) != RST_DB_OK) {
        snprintf(why, whylen, "reading shard_map (is migration 0004 applied?): %s",
                 rst_db_last_error(db));
    } else if (rows.nrows == 0) {
        rc = 0;
    } else {
        const rst_value *v = rst_row(&rows, 0);
        memset(out, 0, sizeof(*out));
        out->generation = v[0].u;
        snprintf(out->ranges, sizeof(out->ranges), "%.*s", (int)v[1].len, v[1].s);
        snprintf(out->fenced, sizeof(out->fenced), "%.*s", (int)v[2].len, v[2].s);
        rc = 1;
    }
    rst_arena_free(&a);
    rst_db_free(db);
    return rc;
}

int rst_catmap_report(const rst_db_conf *catalog, const char *owner, uint64_t generation)
{
    rst_db_conf conf;
    rst_db *db = rst_db_new_brief(catalog, &conf);
    if (db == NULL)
        return -1;
    rst_param p[2] = { rst_p_u64(generation), rst_p_str(owner) };
    int rc = rst_db_exec(db, SQL_REPORT, p, 2, NULL) == RST_DB_OK ? 0 : -1;
    rst_db_free(db);
    return rc;
}

int rst_catmap_write(rst_db *catalog, rst_arena *a, const rst_catmap *map, uint64_t *generation)
{
    rst_param p[2] = { rst_p_str(map->ranges), rst_p_str(map->fenced) };
    rst_rows rows;
    if (rst_db_exec(catalog, SQL_WRITE, p, 2, NULL) != RST_DB_OK ||
        rst_db_query(catalog, a, "SELECT generation FROM shard_map WHERE id = 1", NULL, 0, "U",
                     &rows) != RST_DB_OK || rows.nrows != 1)
        return -1;
    *generation = rst_row(&rows, 0)[0].u;
    return 0;
}
