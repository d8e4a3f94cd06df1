/* migrate.h -- applying the SQL files of migrations/catalog and migrations/shard.
 *
 * Files apply in name order. Each applied file is recorded in the
 * database's schema_migrations table with its SHA-256; a file that changed
 * after it was applied stops everything (an operator must look), rather than
 * silently diverging schemas across shards. A file holds statements that
 * end with ';' at the end of a line. */
#ifndef ROOST_MIGRATE_H
#define ROOST_MIGRATE_H

#include <stdint.h>
#include <stdio.h>

#include "core/arena.h"
#include "store/db.h"

typedef enum { RST_MIG_PENDING, RST_MIG_APPLIED, RST_MIG_CHANGED, RST_MIG_MISSING } rst_mig_state;

typedef struct {
    char          version[128];     /* file name, e.g. 0001_users.sql */
    char          checksum[65];     /* hex SHA-256 of the file */
    rst_mig_state state;
    uint64_t      applied_at_ms;
} rst_migration;

/* Lists every migration of `dir` and of the database's record, merged.
 * *out is arena memory. 0 on success; -1 with err set. */
int rst_migrate_status(rst_db *db, rst_arena *a, const char *dir,
                       rst_migration **out, int *n, char *err, size_t errlen);

/* Applies pending migrations; refuses (-1) when an applied file changed.
 * Progress lines go to `out` prefixed with `label`. *applied counts files. */
int rst_migrate_run(rst_db *db, const char *dir, const char *label, FILE *out,
                    int *applied, char *err, size_t errlen);

const char *rst_mig_state_name(rst_mig_state s);

#endif
