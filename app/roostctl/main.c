/* main.c -- roostctl, the operator's tool: migrations, the shard map,
 * seeding, accounts, repairs, and watching and sizing a running roostd
 * (top, advise). */
#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "roostctl/ctl.h"
#include "store/genclaim.h"
#include "store/migrate.h"

static void usage(FILE *out)
{
    fprintf(out,
        "Usage: roostctl [-c FILE] COMMAND [ARGS]\n"
        "\n"
        "Commands:\n"
        "  migrate            apply pending migrations to the catalog and every shard server\n"
        "  migrate status     show every migration and its state on every database\n"
        "  shards             show the shard map, each server's health, the id generator\n"
        "                     claims and the shard moves in progress\n"
        "  shard move FIRST-LAST --to SERVER [--dry-run]\n"
        "                     move logical shards to another server online: copy, fence\n"
        "                     writes, catch up, verify, switch the map in the configuration\n"
        "                     file, reload roostd, delete from the source (journaled)\n"
        "  shard move --resume | --abort\n"
        "                     go on with the move in progress, or undo it (before its switch)\n"
        "  seed --demo        load a few dozen demo products (safe to repeat)\n"
        "  seed --bench [--quick] [--users N] [--tweets M] [--products P] [--follows F]\n"
        "                     load the benchmark dataset into empty databases\n"
        "                     (users bench0.., password benchpass1)\n"
        "  user create [--admin] --name NAME --password-stdin\n"
        "                     create a user (or an admin) with the password read from stdin\n"
        "  user promote NAME  make NAME an admin (revokes NAME's older tokens)\n"
        "  user demote NAME   make NAME a plain user (revokes NAME's older tokens)\n"
        "  repair follows [--dry-run]\n"
        "                     complete or remove half-written follows, fix follow counters\n"
        "  top [--once] [--pool NAME] [--sort pid|state|requests|rss|time]\n"
        "                     live view of roostd's pools, routes and workers (ncurses,\n"
        "                     1 s refresh; keys: q quit, s sort, p/0-4 pool); --once, or\n"
        "                     a stdout that is not a terminal: one plain snapshot\n"
        "  advise [--window DURATION]\n"
        "                     watch roostd for DURATION (default 60s) and say per pool\n"
        "                     whether it queues, is oversized, CPU-bound or waiting on\n"
        "                     MariaDB/Redis; recommends max_children, spare bounds and\n"
        "                     max_requests with the arithmetic (changes nothing)\n"
        "\n"
        "Options:\n"
        "  -c, --config FILE  configuration file (default $ROOST_CONF, else\n"
        "                     " ROOST_SYSCONFDIR "/roost/roost.conf)\n"
        "  -h, --help         show this help\n"
        "  -V, --version      show the version\n"
        "\n"
        "Exit status: 0 success, 1 failure, 2 usage error. See roostctl(8).\n");
}

/* ------------------------------------------------------------ migrate */

static void migration_dir(const rst_config *cfg, const char *kind, char *out, size_t len)
{
    const char *base = cfg->migrations_dir[0] ? cfg->migrations_dir : ROOST_DATADIR "/migrations";
    snprintf(out, len, "%s/%s", base, kind);
}

static int migrate_one(rst_db *db, const char *dir, const char *label)
{
    char err[512];
    int applied;
    if (rst_migrate_run(db, dir, label, stdout, &applied, err, sizeof(err)) != 0) {
        fprintf(stderr, "roostctl: %s\n", err);
        return 1;
    }
    printf("%s: up to date (%d applied now)\n", label, applied);
    return 0;
}

static int cmd_migrate(rst_services *s)
{
    char dir[600], label[96];
    int rc = 0;
    migration_dir(s->cfg, "catalog", dir, sizeof(dir));
    rc |= migrate_one(s->catalog, dir, "catalog");
    migration_dir(s->cfg, "shard", dir, sizeof(dir));
    for (int i = 0; i < s->nshards; i++) {
        snprintf(label, sizeof(label), "shard %s", rst_db_name(s->shards[i]));
        rc |= migrate_one(s->shards[i], dir, label);
    }
    return rc;
}

static int status_one(rst_db *db, const char *dir, const char *label)
{
    rst_arena a;
    rst_arena_init(&a, 1 << 16);
    rst_migration *list;
    int n;
    char err[512];
    if (rst_migrate_status(db, &a, dir, &list, &n, err, sizeof(err)) != 0) {
        printf("%-12s %-28s %-13s %s\n", label, "-", "UNREACHABLE", err);
        rst_arena_free(&a);
        return 1;
    }
    int bad = 0;
    for (int i = 0; i < n; i++) {
        char when[RST_TIME_LEN] = "-";
        if (list[i].applied_at_ms)
            rst_time_format(list[i].applied_at_ms, when);
        printf("%-12s %-28s %-13s %-25s %.12s\n", label, list[i].version,
               rst_mig_state_name(list[i].state), when, list[i].checksum);
        bad |= list[i].state != RST_MIG_APPLIED;
    }
    rst_arena_free(&a);
    return bad;
}

static int cmd_migrate_status(rst_services *s)
{
    char dir[600], label[96];
    int rc = 0;
    printf("%-12s %-28s %-13s %-25s %s\n", "DATABASE", "VERSION", "STATE", "APPLIED AT", "CHECKSUM");
    migration_dir(s->cfg, "catalog", dir, sizeof(dir));
    rc |= status_one(s->catalog, dir, "catalog");
    migration_dir(s->cfg, "shard", dir, sizeof(dir));
    for (int i = 0; i < s->nshards; i++) {
        snprintf(label, sizeof(label), "shard %s", rst_db_name(s->shards[i]));
        rc |= status_one(s->shards[i], dir, label);
    }
    return rc;
}

/* ------------------------------------------------------------ shards */

#define SHARDS_ROW "%-10s %-8s %-12s %-22s %-14s %-8s %-5s %s\n"

static void print_primary(rst_db *db, const rst_db_conf *c, const char *ranges)
{
    uint64_t us;
    int up = rst_db_ping(db, &us) == RST_DB_OK;
    char where[300], ping[32];
    rst_db_conf_address(c, where, sizeof(where));
    snprintf(ping, sizeof(ping), "%.2f ms", us / 1000.0);
    printf(SHARDS_ROW, c->name, "primary", ranges, where, c->database, up ? "up" : "DOWN", "-", ping);
}

/* A replica's state: up (serving reads), LAGGING (further behind than
 * max_replica_lag: skipped), STOPPED (not replicating: skipped), DOWN. */
static void print_replica(const rst_config *cfg, const rst_replica_conf *r)
{
    rst_db *db = rst_db_new(&r->db);
    if (db == NULL)
        return;
    uint64_t us = 0;
    long long lag = -1;
    int up = rst_db_ping(db, &us) == RST_DB_OK && rst_db_replica_lag(db, &lag) == RST_DB_OK;
    const char *state = !up ? "DOWN" : lag < 0 ? "STOPPED" : lag > cfg->max_replica_lag ? "LAGGING" : "up";
    char where[300], lagtxt[32], ping[32], weight[16];
    rst_db_conf_address(&r->db, where, sizeof(where));
    snprintf(lagtxt, sizeof(lagtxt), up && lag >= 0 ? "%lld s" : "-", lag);
    snprintf(ping, sizeof(ping), "%.2f ms", us / 1000.0);
    snprintf(weight, sizeof(weight), "weight=%d", r->weight);
    const char *name = r->primary < 0 ? cfg->catalog.name : cfg->shard_servers[r->primary].name;
    printf(SHARDS_ROW, name, "replica", weight, where, r->db.database, state, lagtxt, ping);
    rst_db_free(db);
}

static void print_replicas_of(const rst_config *cfg, int primary)
{
    for (int i = 0; i < cfg->nreplicas; i++)
        if (cfg->replicas[i].primary == primary)
            print_replica(cfg, &cfg->replicas[i]);
}

/* Which roostd mints with which id generators (store/genclaim.h). */
static void print_claims(rst_services *s)
{
    rst_arena a;
    rst_rows rows;
    rst_arena_init(&a, 4096);
    printf("\nid generators claimed by roostd (catalog generator_claims):\n");
    if (rst_claim_list(s->catalog, &a, &rows) != 0) {
        printf("  unknown: %s\n", rst_db_last_error(s->catalog));
    } else if (rows.nrows == 0) {
        printf("  none (no roostd running, or migration 0002 not applied)\n");
    } else {
        printf("  %-9s %-7s %-9s %-11s %s\n", "BLOCK", "PID", "RENEWED", "MAP", "OWNER (host:config)");
        for (int r = 0; r < rows.nrows; r++) {
            const rst_value *v = rst_row(&rows, r);
            char block[24], renewed[32], map[32] = "file";
            snprintf(block, sizeof(block), "%" PRIu64 "-%" PRIu64, v[1].u, v[2].u);
            snprintf(renewed, sizeof(renewed), "%" PRId64 " s%s", v[4].i,
                     v[4].i >= RST_CLAIM_STALE_S ? " dead" : "");
            if (v[5].i >= 0)                  /* [shards] map = catalog: the generation it runs */
                snprintf(map, sizeof(map), "catalog %" PRId64, v[5].i);
            printf("  %-9s %-7" PRIu64 " %-9s %-11s %s\n", block, v[3].u, renewed, map, v[0].s);
        }
    }
    rst_arena_free(&a);
}

static int cmd_shards(rst_services *s)
{
    const rst_config *cfg = s->cfg;
    printf("%u logical shards on %d servers, %d replicas (max_replica_lag %d s)\n\n",
           cfg->shard_count, cfg->nshard_servers, cfg->nreplicas, cfg->max_replica_lag);
    printf(SHARDS_ROW, "SERVER", "ROLE", "SHARDS", "ADDRESS", "DATABASE", "STATE", "LAG", "PING");
    print_primary(s->catalog, &cfg->catalog, "-");
    print_replicas_of(cfg, -1);
    for (int i = 0; i < s->nshards; i++) {
        char ranges[128] = "";
        size_t len = 0;
        for (int r = 0; r < cfg->nranges; r++) {
            if (cfg->ranges[r].server != i)
                continue;
            int w = snprintf(ranges + len, sizeof(ranges) - len, "%s%u-%u", len ? "," : "",
                             cfg->ranges[r].first, cfg->ranges[r].last);
            if (w > 0 && (size_t)w < sizeof(ranges) - len)
                len += (size_t)w;
        }
        /* A server just added holds none until a shard move gives it some. */
        print_primary(s->shards[i], &cfg->shard_servers[i], len ? ranges : "none");
        print_replicas_of(cfg, i);
    }
    print_claims(s);
    rst_ctl_shard_moves(s);
    return 0;
}

/* ------------------------------------------------------------ commands */

static int check_migrate(int argc, char **argv)
{
    int known = argc >= 1 && strcmp(argv[0], "status") == 0;
    if (argc == known)
        return 0;
    fprintf(stderr, "roostctl: migrate: unexpected argument '%s'\n"
                    "usage: roostctl migrate [status]\n", argv[known]);
    return 2;
}

static int run_migrate(rst_services *s, int argc, char **argv)
{
    (void)argv;
    return argc == 0 ? cmd_migrate(s) : cmd_migrate_status(s);
}

static int check_shards(int argc, char **argv)
{
    if (argc == 0)
        return 0;
    fprintf(stderr, "roostctl: shards: unexpected argument '%s'\n"
                    "usage: roostctl shards\n", argv[0]);
    return 2;
}

static int run_shards(rst_services *s, int argc, char **argv)
{
    (void)argc, (void)argv;
    return cmd_shards(s);
}

/* Each command's arguments are checked before the configuration is read,
 * so a typo is a usage error (2) even where no config or database is. */
typedef struct {
    const char *name;
    int (*check)(int argc, char **argv);          /* 0, or 2 after a message */
    int (*run)(rst_services *s, int argc, char **argv);
    int (*run_cfg)(const rst_config *cfg, int argc, char **argv);  /* no databases */
} ctl_command;

static const ctl_command commands[] = {
    { "migrate", check_migrate, run_migrate, NULL },
    { "shards", check_shards, run_shards, NULL },
    { "shard", rst_ctl_shard_check, rst_ctl_shard, NULL },
    { "seed", rst_ctl_seed_check, rst_ctl_seed, NULL },
    { "user", rst_ctl_user_check, rst_ctl_user, NULL },
    { "repair", rst_ctl_repair_check, rst_ctl_repair, NULL },
    { "top", rst_ctl_top_check, NULL, rst_ctl_top },
    { "advise", rst_ctl_advise_check, NULL, rst_ctl_advise },
};

static const ctl_command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* Options before the command; 0 to go on, else the exit status + 1 (so
 * that -h and -V can end the program with 0). */
static int parse_options(int argc, char **argv, const char **conf)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    int ch;
    /* '+': stop at the command, whose own options (seed --demo) follow. */
    while ((ch = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': *conf = optarg; break;
        case 'h': usage(stdout); return 1;
        case 'V': printf("roostctl %s\n", PACKAGE_VERSION); return 1;
        default:
            fprintf(stderr, "Try 'roostctl --help'.\n");
            return 3;
        }
    }
    return 0;
}

const char *rst_ctl_conf_path;

/* Reads the configuration, opens the services and runs the command. */
static int run_command(const ctl_command *c, const char *conf, int argc, char **argv)
{
    rst_ctl_conf_path = conf;
    rst_log_setup("roostctl", RST_LOG_WARN, 0);
    if (sodium_init() < 0) {
        fprintf(stderr, "roostctl: libsodium failed to initialise\n");
        return 1;
    }
    static rst_config cfg;
    char err[8192];
    if (rst_config_load(&cfg, conf, err, sizeof(err)) != 0) {
        fprintf(stderr, "roostctl: %s\n", err);
        return 1;
    }
    if (c->run_cfg != NULL)
        return c->run_cfg(&cfg, argc, argv);
    static rst_services svc;
    if (rst_services_open(&svc, &cfg, NULL, RST_CTL_GENERATOR) != 0) {
        fprintf(stderr, "roostctl: out of memory\n");
        return 1;
    }
    int rc = c->run(&svc, argc, argv);
    rst_services_close(&svc);
    return rc;
}

int main(int argc, char **argv)
{
    const char *conf = getenv("ROOST_CONF");
    if (conf == NULL || conf[0] == '\0')
        conf = ROOST_SYSCONFDIR "/roost/roost.conf";
    int done = parse_options(argc, argv, &conf);
    if (done)
        return done - 1;
    if (optind == argc) {
        fprintf(stderr, "roostctl: no command given\n");
        usage(stderr);
        return 2;
    }
    const ctl_command *c = find_command(argv[optind]);
    if (c == NULL) {
        fprintf(stderr, "roostctl: unknown command '%s'\nTry 'roostctl --help'.\n", argv[optind]);
        return 2;
    }
    int rest = argc - optind - 1;
    char **args = argv + optind + 1;
    if (c->check(rest, args) != 0)
        return 2;
    return run_command(c, conf, rest, args);
}
