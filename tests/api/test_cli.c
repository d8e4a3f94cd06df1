/* test_cli.c -- roostctl's command line as an operator meets it: getopt
 * options like roostd's (-c/--config, -V/--version, -h/--help), usage errors
 * that name the subcommand and exit 2, and the configuration read only
 * after the command and its arguments were found good. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "suites.h"

/* The roostctl the test stack was built with. */
static const char *roostctl_bin(void)
{
    const char *bin = getenv("ROOST_TEST_ROOSTCTL");
    return bin ? bin : "app/roostctl/roostctl";
}

/* Runs `[env] roostctl ARGS` through the shell, stdin from /dev/null;
 * exit status, stdout and stderr together in out. */
static int ctl(const char *env, const char *args, char *out, size_t outlen)
{
    char cmd[2048];
    snprintf(cmd, sizeof(cmd), "%s '%s' %s </dev/null 2>&1", env ? env : "", roostctl_bin(), args);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

START_TEST(version_and_help)
{
    char out[4096], want[64];
    snprintf(want, sizeof(want), "roostctl %s\n", PACKAGE_VERSION);
    ck_assert_int_eq(ctl(NULL, "-V", out, sizeof(out)), 0);
    ck_assert_str_eq(out, want);
    ck_assert_int_eq(ctl(NULL, "--version", out, sizeof(out)), 0);
    ck_assert_str_eq(out, want);
    ck_assert_int_eq(ctl(NULL, "--help", out, sizeof(out)), 0);
    ck_assert_msg(strstr(out, "-c, --config FILE") && strstr(out, "-V, --version"), "%s", out);
    ck_assert_int_eq(ctl(NULL, "-h", out, sizeof(out)), 0);
}
END_TEST

/* Every usage error exits 2 with a line naming the (sub)command, and comes
 * before the configuration is read: -c names a file that does not exist,
 * which would otherwise be a failure (1) about that file. */
START_TEST(usage_errors_name_the_subcommand)
{
    static const struct { const char *args, *says; } cases[] = {
        { "", "roostctl: no command given" },
        { "frob", "roostctl: unknown command 'frob'" },
        { "migrate extra", "roostctl: migrate: unexpected argument 'extra'" },
        { "migrate status extra", "roostctl: migrate: unexpected argument 'extra'" },
        { "shards all", "roostctl: shards: unexpected argument 'all'" },
        { "seed", "roostctl: seed: --demo or --bench is required" },
        { "seed --demo twice", "roostctl: seed: unexpected argument 'twice'" },
        { "seed --bench --users many", "roostctl: seed --bench: bad arguments" },
        { "user", "roostctl: user: no subcommand given" },
        { "user delete bob", "roostctl: user: unknown subcommand 'delete'" },
        { "user create --password-stdin", "roostctl: user create: --name NAME is required" },
        { "user create --name bob", "roostctl: user create: --password-stdin is required" },
        { "user create --name bob --password hunter2", "roostctl: user create: unexpected argument '--password'" },
        { "user promote", "roostctl: user promote: needs a NAME" },
        { "user demote bob alice", "roostctl: user demote: unexpected argument 'alice'" },
        { "repair", "roostctl: repair: no subcommand given" },
        { "repair tweets", "roostctl: repair: unknown subcommand 'tweets'" },
        { "repair follows --force", "roostctl: repair follows: unknown option '--force'" },
        { "top --frob", "roostctl: top: bad arguments" },
        { "top --sort size", "roostctl: top: bad arguments" },
        { "top now", "roostctl: top: bad arguments" },
        { "advise --window", "roostctl: advise: bad arguments" },
        { "advise --window 10x", "roostctl: advise: bad arguments" },
    };
    char out[8192], args[512];
    for (int i = 0; i < API_COUNT(cases); i++) {
        snprintf(args, sizeof(args), "-c /nonexistent/roost.conf %s", cases[i].args);
        int rc = ctl(NULL, args, out, sizeof(out));
        ck_assert_msg(rc == 2, "roostctl %s: exit %d, want 2: %s", args, rc, out);
        ck_assert_msg(strstr(out, cases[i].says) != NULL, "roostctl %s: want \"%s\", got: %s",
                      args, cases[i].says, out);
        ck_assert_msg(strstr(out, "/nonexistent") == NULL, "roostctl %s read the config: %s", args, out);
    }
}
END_TEST

START_TEST(unknown_and_incomplete_options_exit_2)
{
    char out[4096];
    ck_assert_int_eq(ctl(NULL, "--frob migrate", out, sizeof(out)), 2);
    ck_assert_msg(strstr(out, "frob") && strstr(out, "roostctl --help"), "%s", out);
    ck_assert_int_eq(ctl(NULL, "-c", out, sizeof(out)), 2);
    ck_assert_msg(strstr(out, "requires an argument"), "%s", out);
}
END_TEST

/* -c FILE, --config FILE, --config=FILE and $ROOST_CONF all name the file;
 * -c wins over the environment. */
START_TEST(config_from_option_or_environment)
{
    const char *conf = getenv("ROOST_TEST_CONF");
    ck_assert_ptr_nonnull(conf);
    char out[8192], args[1024], env[1024];
    const char *forms[] = { "-c '", "--config '", "'--config=" };
    for (int i = 0; i < API_COUNT(forms); i++) {
        snprintf(args, sizeof(args), "%s%s' shards", forms[i], conf);
        ck_assert_msg(ctl(NULL, args, out, sizeof(out)) == 0, "roostctl %s: %s", args, out);
        ck_assert_msg(strstr(out, "logical shards on"), "roostctl %s: %s", args, out);
    }
    snprintf(env, sizeof(env), "ROOST_CONF='%s'", conf);
    ck_assert_msg(ctl(env, "shards", out, sizeof(out)) == 0, "%s", out);
    ck_assert_int_eq(ctl(env, "-c /nonexistent/roost.conf shards", out, sizeof(out)), 1);
    ck_assert_msg(strstr(out, "/nonexistent/roost.conf: cannot open"), "%s", out);
}
END_TEST

Suite *suite_cli(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = api_tcase(s, "roostctl");
    tcase_add_test(tc, version_and_help);
    tcase_add_test(tc, usage_errors_name_the_subcommand);
    tcase_add_test(tc, unknown_and_incomplete_options_exit_2);
    tcase_add_test(tc, config_from_option_or_environment);
    return s;
}
