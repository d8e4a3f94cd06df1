/* test_config.c -- roost.conf parsing: defaults, typed keys, errors that
 * name the bad key, and the shard map coverage check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "suites.h"

#define SHARDS_OK \
    "[catalog]\ndatabase = cat\n" \
    "[shards]\ncount = 8\n" \
    "[shard a]\nrange = 0-3\nport = 3307\ndatabase = s\n" \
    "[shard b]\nrange = 4-7\nhost = 10.0.0.2\ndatabase = s\n"

static rst_config cfg;
static char err[512];

static int load(const char *text)
{
    err[0] = '\0';
    return rst_config_load_string(&cfg, text, err, sizeof(err));
}

START_TEST(minimal_config_gets_defaults)
{
    ck_assert_int_eq(load(SHARDS_OK), 0);
    ck_assert_int_eq(cfg.pools[0].max_children, 4);
    ck_assert_int_eq(cfg.pools[0].request_terminate_timeout, 30);
    ck_assert_int_eq(cfg.token_ttl, 1800);
    ck_assert_str_eq(cfg.redis_prefix, "roost:");
    ck_assert_int_eq(cfg.redis_port, 6379);
    ck_assert_uint_eq(cfg.shard_count, 8);
    ck_assert_int_eq(cfg.nshard_servers, 2);
    ck_assert_str_eq(cfg.shard_servers[0].name, "a");
    ck_assert_int_eq(cfg.shard_servers[0].port, 3307);
    ck_assert_str_eq(cfg.shard_servers[1].host, "10.0.0.2");
    ck_assert_str_eq(cfg.catalog.database, "cat");
}
END_TEST

START_TEST(typed_keys_are_read)
{
    ck_assert_int_eq(load("[roostd]\nworkers = 9\nlisten = 127.0.0.1:9001\nmax_requests = 0\n"
                          "log_level = debug\n[redis]\nport = 7000\nprefix = t:\n" SHARDS_OK), 0);
    ck_assert_int_eq(cfg.pools[0].max_children, 9);
    ck_assert_str_eq(cfg.pools[0].listen, "127.0.0.1:9001");
    ck_assert_int_eq(cfg.pools[0].max_requests, 0);
    ck_assert_int_eq(cfg.log_level, 7);
    ck_assert_int_eq(cfg.redis_port, 7000);
    ck_assert_str_eq(cfg.redis_prefix, "t:");
}
END_TEST

START_TEST(pools_are_read_with_php_fpm_rules)
{
    /* [roostd] is the pool "main"; [pool NAME] adds one with its own socket. */
    ck_assert_int_eq(load("[roostd]\nlisten = /tmp/a.sock\npm = dynamic\nmax_children = 8\n"
                          "min_spare_servers = 2\nmax_spare_servers = 4\nprocess_idle_timeout = 3\n"
                          "request_slowlog_timeout = 2\n"
                          "[pool slow]\nlisten = /tmp/b.sock\npm = ondemand\nmax_children = 3\n"
                          "max_conns_per_worker = 1\nlisten_backlog = 4\n" SHARDS_OK), 0);
    ck_assert_int_eq(cfg.npools, 2);
    ck_assert_str_eq(cfg.pools[0].name, "main");
    ck_assert_int_eq(cfg.pools[0].pm, RST_PM_DYNAMIC);
    ck_assert_int_eq(cfg.pools[0].start_servers, 3);     /* php-fpm's default: halfway */
    ck_assert_int_eq(cfg.pools[0].request_slowlog_timeout, 2);
    ck_assert_str_eq(cfg.pools[1].name, "slow");
    ck_assert_str_eq(cfg.pools[1].listen, "/tmp/b.sock");
    ck_assert_int_eq(cfg.pools[1].pm, RST_PM_ONDEMAND);
    ck_assert_int_eq(cfg.pools[1].max_conns_per_worker, 1);
    ck_assert_int_eq(cfg.pools[1].listen_backlog, 4);
    ck_assert_int_eq(cfg.pools[1].request_terminate_timeout, 30);   /* a pool's own default */
    ck_assert_int_eq(rst_config_slots(&cfg), 22);

    ck_assert_int_eq(load("[roostd]\npm = sometimes\n" SHARDS_OK), -1);
    ck_assert_msg(strstr(err, "pm: must be static, dynamic or ondemand") != NULL, "%s", err);
    ck_assert_int_eq(load("[roostd]\npm = dynamic\nmax_children = 4\nmin_spare_servers = 5\n"
                          SHARDS_OK), -1);
    ck_assert_msg(strstr(err, "min_spare_servers (5) <= max_spare_servers") != NULL, "%s", err);
    ck_assert_int_eq(load("[roostd]\npm = dynamic\nmax_children = 8\nmin_spare_servers = 2\n"
                          "max_spare_servers = 4\nstart_servers = 6\n" SHARDS_OK), -1);
    ck_assert_msg(strstr(err, "start_servers (6)") != NULL, "%s", err);
    ck_assert_int_eq(load("[pool slow]\nmax_children = 2\n" SHARDS_OK), -1);
    ck_assert_msg(strstr(err, "[pool slow] listen: missing") != NULL, "%s", err);
    ck_assert_int_eq(load("[roostd]\nlisten = /tmp/a.sock\n[pool slow]\nlisten = /tmp/a.sock\n"
                          SHARDS_OK), -1);
    ck_assert_msg(strstr(err, "the same socket") != NULL, "%s", err);
    ck_assert_int_eq(load("[pool Main]\nlisten = /tmp/x.sock\n" SHARDS_OK), -1);
    ck_assert_int_eq(load("[pool main]\nlisten = /tmp/x.sock\n" SHARDS_OK), -1);
    ck_assert_int_eq(load("[pool slow]\nlisten = /tmp/x.sock\nworkerz = 1\n" SHARDS_OK), -1);
    ck_assert_msg(strstr(err, "[pool slow] workerz: unknown key") != NULL, "%s", err);
}
END_TEST

START_TEST(pools_fit_the_id_generators)
{
    /* 256 workers in a pool fit (two generators each), with a slow pool. */
    ck_assert_int_eq(load("[roostd]\nlisten = /tmp/a.sock\nmax_children = 256\n"
                          "[pool slow]\nlisten = /tmp/b.sock\nmax_children = 16\n" SHARDS_OK), 0);
    ck_assert_int_eq(load("[roostd]\nlisten = /tmp/a.sock\nmax_children = 480\n"
                          "[pool slow]\nlisten = /tmp/b.sock\nmax_children = 17\n" SHARDS_OK), -1);
    ck_assert_msg(strstr(err, "at most 992") != NULL, "%s", err);
    ck_assert_int_eq(load("[roostd]\nmax_children = 481\n" SHARDS_OK), -1);
}
END_TEST

START_TEST(timeline_threshold_defaults_and_bounds)
{
    ck_assert_int_eq(load(SHARDS_OK), 0);
    ck_assert_int_eq(cfg.fanout_max_followers, 10000);
    ck_assert_int_eq(load("[timeline]\nfanout_max_followers = 3\n" SHARDS_OK), 0);
    ck_assert_int_eq(cfg.fanout_max_followers, 3);
    ck_assert_int_eq(load("[timeline]\nfanout_max_followers = 0\n" SHARDS_OK), 0);
    ck_assert_int_eq(cfg.fanout_max_followers, 0);
    ck_assert_int_eq(load("[timeline]\nfanout_max_followers = -1\n" SHARDS_OK), -1);
    ck_assert_msg(strstr(err, "fanout_max_followers") != NULL, "%s", err);
    ck_assert_int_eq(load("[timeline]\nfanout_max_followers = many\n" SHARDS_OK), -1);
    ck_assert_int_eq(load("[timeline]\nfanout = 3\n" SHARDS_OK), -1);
    ck_assert_msg(strstr(err, "fanout") != NULL, "%s", err);
}
END_TEST

START_TEST(bad_number_names_the_key_and_line)
{
    ck_assert_int_eq(load("[roostd]\nworkers = lots\n" SHARDS_OK), -1);
    ck_assert_msg(strstr(err, "workers") != NULL, "%s", err);
    ck_assert_msg(strstr(err, ":2:") != NULL, "%s", err);
    ck_assert_int_eq(load("[roostd]\nworkers = 0\n" SHARDS_OK), -1);
    ck_assert_int_eq(load("[roostd]\nworkers = 4x\n" SHARDS_OK), -1);
    ck_assert_int_eq(load("[redis]\nport = 70000\n" SHARDS_OK), -1);
    ck_assert_msg(strstr(err, "port") != NULL, "%s", err);
}
END_TEST

START_TEST(unknown_keys_and_sections_are_errors)
{
    ck_assert_int_eq(load("[roostd]\nworkerz = 4\n" SHARDS_OK), -1);
    ck_assert_msg(strstr(err, "workerz") != NULL, "%s", err);
    ck_assert_int_eq(load("[nonsense]\nx = 1\n" SHARDS_OK), -1);
    ck_assert_msg(strstr(err, "nonsense") != NULL, "%s", err);
    ck_assert_int_eq(load("[roostd]\nlog_level = loud\n" SHARDS_OK), -1);
    ck_assert_msg(strstr(err, "log_level") != NULL, "%s", err);
}
END_TEST

/* Replicas take their own host and port and everything else from their
 * primary, whichever order the lines come in. */
START_TEST(replicas_inherit_their_primary)
{
    ck_assert_int_eq(load("[catalog]\nreplica = 10.0.0.9:3310\ndatabase = cat\nuser = u\n"
                          "[replication]\nmax_replica_lag = 9\n"
                          "[shards]\ncount = 8\n"
                          "[shard a]\nrange = 0-7\nreplica = [::1]:3311 weight=3\n"
                          "replica = db-a2:3312\ndatabase = s\ntimeout = 7\n"), 0);
    ck_assert_int_eq(cfg.nreplicas, 3);
    ck_assert_int_eq(cfg.max_replica_lag, 9);
    ck_assert_int_eq(cfg.replicas[0].primary, -1);
    ck_assert_str_eq(cfg.replicas[0].db.host, "10.0.0.9");
    ck_assert_int_eq(cfg.replicas[0].db.port, 3310);
    ck_assert_str_eq(cfg.replicas[0].db.database, "cat");
    ck_assert_str_eq(cfg.replicas[0].db.user, "u");
    ck_assert_int_eq(cfg.replicas[1].primary, 0);
    ck_assert_str_eq(cfg.replicas[1].db.host, "::1");
    ck_assert_int_eq(cfg.replicas[1].weight, 3);
    ck_assert_int_eq(cfg.replicas[1].db.timeout, 7);
    ck_assert_str_eq(cfg.replicas[1].db.database, "s");
    ck_assert_int_eq(cfg.replicas[2].weight, 1);
    ck_assert_str_eq(cfg.replicas[2].db.name, "a replica db-a2:3312");
    /* A replica by its unix socket (a host in a network namespace of its
     * own reaches the servers that way). */
    ck_assert_int_eq(load(SHARDS_OK "replica = /run/db2r.sock weight=2\n"), 0);
    ck_assert_int_eq(cfg.nreplicas, 1);
    ck_assert_str_eq(cfg.replicas[0].db.socket, "/run/db2r.sock");
    ck_assert_int_eq(cfg.replicas[0].weight, 2);
    ck_assert_str_eq(cfg.replicas[0].db.name, "b replica /run/db2r.sock");
    ck_assert_int_eq(load(SHARDS_OK "replica = nohost\n"), -1);
    ck_assert_msg(strstr(err, "[shard b] replica") != NULL, "%s", err);
    ck_assert_int_eq(load(SHARDS_OK "replica = h:1 weight=0\n"), -1);
    ck_assert_int_eq(load(SHARDS_OK "replica = h:1 heavy\n"), -1);
    ck_assert_int_eq(load(SHARDS_OK "[replication]\nmax_replica_lag = 0\n"), -1);
    ck_assert_int_eq(load(SHARDS_OK), 0);
    ck_assert_int_eq(cfg.nreplicas, 0);
    ck_assert_int_eq(cfg.max_replica_lag, 5);
}
END_TEST

START_TEST(shard_map_must_cover_every_shard_once)
{
    ck_assert_int_eq(load("[catalog]\ndatabase = c\n[shards]\ncount = 8\n"
                          "[shard a]\nrange = 0-3\ndatabase = s\n"), -1);
    ck_assert_msg(strstr(err, "logical shard 4") != NULL, "%s", err);
    ck_assert_int_eq(load("[catalog]\ndatabase = c\n[shards]\ncount = 8\n"
                          "[shard a]\nrange = 0-4\ndatabase = s\n"
                          "[shard b]\nrange = 4-7\ndatabase = s\n"), -1);
    ck_assert_msg(strstr(err, "more than once") != NULL, "%s", err);
    ck_assert_int_eq(load("[catalog]\ndatabase = c\n[shards]\ncount = 4\n"
                          "[shard a]\nrange = 0-7\ndatabase = s\n"), -1);
    ck_assert_int_eq(load("[catalog]\ndatabase = c\n[shards]\ncount = 4\n"
                          "[shard a]\nrange = 3-1\ndatabase = s\n"), -1);
    ck_assert_msg(strstr(err, "range") != NULL, "%s", err);
    ck_assert_int_eq(load("[catalog]\ndatabase = c\n"), -1);
    ck_assert_msg(strstr(err, "shard map is empty") != NULL, "%s", err);
}
END_TEST

START_TEST(ranges_may_repeat)
{
    ck_assert_int_eq(load("[catalog]\ndatabase = c\n[shards]\ncount = 6\n"
                          "[shard a]\nrange = 0-1\nrange = 4-5\ndatabase = s\n"
                          "[shard b]\nrange = 2-3\ndatabase = s\n"), 0);
    ck_assert_int_eq(cfg.nranges, 3);
    ck_assert_int_eq(cfg.ranges[1].server, 0);
    ck_assert_uint_eq(cfg.ranges[1].first, 4);
}
END_TEST

START_TEST(missing_catalog_database_is_an_error)
{
    ck_assert_int_eq(load("[shards]\ncount = 1\n[shard a]\nrange = 0\ndatabase = s\n"), -1);
    ck_assert_msg(strstr(err, "[catalog] database") != NULL, "%s", err);
}
END_TEST

START_TEST(relative_paths_follow_the_config_file)
{
    char dir[] = "/tmp/roost-cfg-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char conf[256], pw[256];
    snprintf(conf, sizeof(conf), "%s/roost.conf", dir);
    snprintf(pw, sizeof(pw), "%s/pw", dir);
    FILE *f = fopen(pw, "w");
    ck_assert_ptr_nonnull(f);
    fputs("s3cret\n", f);
    fclose(f);
    f = fopen(conf, "w");
    ck_assert_ptr_nonnull(f);
    fputs("[security]\nsecret_file = secret\n[catalog]\ndatabase = c\npassword_file = pw\n"
          "[shards]\ncount = 1\n[shard a]\nrange = 0\ndatabase = s\n", f);
    fclose(f);
    ck_assert_int_eq(rst_config_load(&cfg, conf, err, sizeof(err)), 0);
    char want[300];
    snprintf(want, sizeof(want), "%s/secret", dir);
    ck_assert_str_eq(cfg.secret_file, want);
    ck_assert_str_eq(cfg.catalog.password, "s3cret");
    unlink(conf);
    unlink(pw);
    rmdir(dir);
}
END_TEST

/* Writes text to dir/name. */
static void spill(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_ge(fputs(text, f), 0);
    ck_assert_int_eq(fclose(f), 0);
}

#define CRED_CONF "[security]\nsecret_file = credential:secret\n" \
    "[catalog]\ndatabase = c\npassword_file = credential:db_password\n" \
    "[shards]\ncount = 1\n[shard a]\nrange = 0\ndatabase = s\npassword_file = credential:db_password\n"

/* Under systemd (LoadCredential=), credential:NAME is the file NAME in
 * $CREDENTIALS_DIRECTORY; the file beside the config is not looked at. */
START_TEST(credentials_come_from_the_credentials_directory)
{
    char etc[] = "/tmp/roost-etc-XXXXXX", creds[] = "/tmp/roost-creds-XXXXXX", conf[300], want[300];
    ck_assert_ptr_nonnull(mkdtemp(etc));
    ck_assert_ptr_nonnull(mkdtemp(creds));
    snprintf(conf, sizeof(conf), "%s/roost.conf", etc);
    spill(etc, "roost.conf", CRED_CONF);
    spill(etc, "db_password", "from-etc\n");
    spill(creds, "db_password", "from-credentials\n");
    ck_assert_int_eq(setenv("CREDENTIALS_DIRECTORY", creds, 1), 0);
    int rc = rst_config_load(&cfg, conf, err, sizeof(err));
    unsetenv("CREDENTIALS_DIRECTORY");
    ck_assert_msg(rc == 0, "%s", err);
    snprintf(want, sizeof(want), "%s/secret", creds);
    ck_assert_str_eq(cfg.secret_file, want);
    ck_assert_str_eq(cfg.catalog.password, "from-credentials");
    ck_assert_str_eq(cfg.shard_servers[0].password, "from-credentials");
    /* Outside systemd the same file reads the credentials beside it. */
    ck_assert_msg(rst_config_load(&cfg, conf, err, sizeof(err)) == 0, "%s", err);
    snprintf(want, sizeof(want), "%s/secret", etc);
    ck_assert_str_eq(cfg.secret_file, want);
    ck_assert_str_eq(cfg.catalog.password, "from-etc");
    const char *files[][2] = { { etc, "roost.conf" }, { etc, "db_password" }, { creds, "db_password" } };
    for (int i = 0; i < 3; i++) {
        snprintf(want, sizeof(want), "%s/%s", files[i][0], files[i][1]);
        ck_assert_int_eq(unlink(want), 0);
    }
    ck_assert_int_eq(rmdir(etc), 0);
    ck_assert_int_eq(rmdir(creds), 0);
}
END_TEST

/* A credential name is one file name: no directories, no escape. */
START_TEST(bad_credential_names_are_errors)
{
    const char *bad_names[] = { "credential:", "credential:../secret", "credential:a/b", "credential:.." };
    char text[256];
    for (int i = 0; i < 4; i++) {
        snprintf(text, sizeof(text), "[security]\nsecret_file = %s\n" SHARDS_OK, bad_names[i]);
        ck_assert_int_eq(load(text), -1);
        ck_assert_msg(strstr(err, "secret_file: must be a path or credential:NAME"), "%s", err);
    }
    ck_assert_int_eq(load("[catalog]\npassword_file = credential:x/y\n" SHARDS_OK), -1);
    ck_assert_msg(strstr(err, "password_file: must be a path or credential:NAME"), "%s", err);
}
END_TEST

START_TEST(unreadable_password_file_is_an_error)
{
    ck_assert_int_eq(load("[catalog]\ndatabase = c\npassword_file = /nonexistent/pw\n"
                          "[shards]\ncount = 1\n[shard a]\nrange = 0\ndatabase = s\n"), -1);
    ck_assert_msg(strstr(err, "password_file") != NULL, "%s", err);
}
END_TEST

/* inih goes on parsing after a bad key; every bad key is reported, each
 * with its own line and its own message (issue 7: the line of the first
 * came with the message of the last). */
START_TEST(every_bad_key_is_reported_with_its_own_line)
{
    ck_assert_int_eq(load("[catalog]\n"                              /* 1 */
                          "database = c\n"                           /* 2 */
                          "password_file = /nonexistent/catalog-pw\n"/* 3 */
                          "[shards]\n"                               /* 4 */
                          "count = 2\n"                              /* 5 */
                          "[shard a]\n"                              /* 6 */
                          "range = 0\n"                              /* 7 */
                          "database = s\n"                           /* 8 */
                          "[shard b]\n"                              /* 9 */
                          "range = 1\n"                              /* 10 */
                          "database = s\n"                           /* 11 */
                          "password_file = /nonexistent/b-pw\n"), -1); /* 12 */
    ck_assert_msg(strstr(err, "<string>:3: [catalog] password_file: cannot read "
                              "/nonexistent/catalog-pw") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "<string>:12: [shard b] password_file: cannot read "
                              "/nonexistent/b-pw") != NULL, "%s", err);
    ck_assert_msg(strstr(err, ":3: [shard b]") == NULL, "%s", err);

    ck_assert_int_eq(load("[roostd]\nworkers = lots\nlog_level = loud\nworkerz = 1\n" SHARDS_OK), -1);
    ck_assert_msg(strstr(err, "<string>:2: [roostd] workers: must be") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "<string>:3: [roostd] log_level: must be") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "<string>:4: [roostd] workerz: unknown key") != NULL, "%s", err);
}
END_TEST

/* A syntax error (no '=') between bad keys keeps its line too. */
START_TEST(syntax_error_beside_bad_keys_keeps_its_line)
{
    ck_assert_int_eq(load("[roostd]\nworkers = lots\nthis is not a key\nworkerz = 1\n" SHARDS_OK), -1);
    ck_assert_msg(strstr(err, "<string>:2: [roostd] workers") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "<string>:3: syntax error") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "<string>:4: [roostd] workerz") != NULL, "%s", err);
}
END_TEST

/* The same from a file (the path `roostd -t` takes), whose last line has
 * no newline; and a line too long for inih's buffer is one problem on one
 * line, not a cut value plus a "syntax error" on a line that is not there. */
START_TEST(file_problems_keep_their_lines)
{
    char path[] = "/tmp/roost-cfg-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    char long_line[400];
    memset(long_line, 'x', sizeof(long_line));
    memcpy(long_line, "host = ", 7);
    long_line[sizeof(long_line) - 1] = '\0';
    fprintf(f, "[catalog]\ndatabase = c\npassword_file = /nonexistent/catalog-pw\n"
               "[shards]\ncount = 2\n[shard a]\nrange = 0\ndatabase = s\n%s\n"
               "[shard b]\nrange = 1\ndatabase = s\npassword_file = /nonexistent/b-pw",
            long_line);
    fclose(f);
    int rc = rst_config_load(&cfg, path, err, sizeof(err));
    unlink(path);
    ck_assert_int_eq(rc, -1);
    char want[256];
    snprintf(want, sizeof(want), "%s:3: [catalog] password_file: cannot read", path);
    ck_assert_msg(strstr(err, want) != NULL, "%s", err);
    snprintf(want, sizeof(want), "%s:9: line too long", path);
    ck_assert_msg(strstr(err, want) != NULL, "%s", err);
    snprintf(want, sizeof(want), "%s:13: [shard b] password_file: cannot read", path);
    ck_assert_msg(strstr(err, want) != NULL, "%s", err);
    ck_assert_msg(strstr(err, "syntax error") == NULL, "%s", err);
    ck_assert_msg(strstr(err, "[shard a] host") == NULL, "%s", err);
}
END_TEST

START_TEST(missing_file_is_reported)
{
    ck_assert_int_eq(rst_config_load(&cfg, "/nonexistent/roost.conf", err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "cannot open") != NULL, "%s", err);
}
END_TEST

Suite *suite_config(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("load");
    tcase_add_test(tc, minimal_config_gets_defaults);
    tcase_add_test(tc, replicas_inherit_their_primary);
    tcase_add_test(tc, typed_keys_are_read);
    tcase_add_test(tc, timeline_threshold_defaults_and_bounds);
    tcase_add_test(tc, bad_number_names_the_key_and_line);
    tcase_add_test(tc, unknown_keys_and_sections_are_errors);
    tcase_add_test(tc, shard_map_must_cover_every_shard_once);
    tcase_add_test(tc, ranges_may_repeat);
    tcase_add_test(tc, missing_catalog_database_is_an_error);
    tcase_add_test(tc, relative_paths_follow_the_config_file);
    tcase_add_test(tc, unreadable_password_file_is_an_error);
    tcase_add_test(tc, credentials_come_from_the_credentials_directory);
    tcase_add_test(tc, bad_credential_names_are_errors);
    tcase_add_test(tc, every_bad_key_is_reported_with_its_own_line);
    tcase_add_test(tc, syntax_error_beside_bad_keys_keeps_its_line);
    tcase_add_test(tc, file_problems_keep_their_lines);
    tcase_add_test(tc, missing_file_is_reported);
    tcase_add_test(tc, pools_are_read_with_php_fpm_rules);
    tcase_add_test(tc, pools_fit_the_id_generators);
    suite_add_tcase(s, tc);
    return s;
}
