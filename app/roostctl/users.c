/* users.c -- `roostctl user ...`: creating admins and changing roles. The
 * API never makes admins (API.md §1.7); this operator tool is the only way. */
#include <stdio.h>
#include <string.h>

#include "core/utf8.h"
#include "domain/users.h"
#include "roostctl/ctl.h"

static void usage(void)
{
    fprintf(stderr,
        "usage: roostctl user create [--admin] --name NAME --password-stdin\n"
        "       roostctl user promote NAME\n"
        "       roostctl user demote NAME\n");
}

/* "roostctl: CMD: WHY 'ARG'" and the usage; returns 2, the usage status. */
static int usage_error(const char *cmd, const char *why, const char *arg)
{
    if (arg != NULL)
        fprintf(stderr, "roostctl: %s: %s '%s'\n", cmd, why, arg);
    else
        fprintf(stderr, "roostctl: %s: %s\n", cmd, why);
    usage();
    return 2;
}

static int fail(rst_err err, const char *what)
{
    switch (err) {
    case RST_E_CONFLICT:    fprintf(stderr, "roostctl: %s: the name is taken\n", what); break;
    case RST_E_NOT_FOUND:   fprintf(stderr, "roostctl: %s: no such user\n", what); break;
    case RST_E_UNAVAILABLE: fprintf(stderr, "roostctl: %s: a database is unavailable\n", what); break;
    default:                fprintf(stderr, "roostctl: %s: failed (see the log above)\n", what); break;
    }
    return 1;
}

/* One line from stdin, without its newline: scripts pipe the password in,
 * so it never shows in `ps` or the shell history. */
static int read_password(char *out, size_t cap, size_t *len)
{
    if (fgets(out, (int)cap, stdin) == NULL)
        return -1;
    size_t n = strlen(out);
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
    *len = n;
    return 0;
}

typedef struct {
    const char *name;
    int         admin;
    int         from_stdin;
} create_args;

/* The arguments of `user create`; 0, or 2 after a message naming what is
 * wrong. */
static int parse_create(int argc, char **argv, create_args *a)
{
    memset(a, 0, sizeof(*a));
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--admin") == 0)
            a->admin = 1;
        else if (strcmp(argv[i], "--password-stdin") == 0)
            a->from_stdin = 1;
        else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
            a->name = argv[++i];
        else
            return usage_error("user create", strcmp(argv[i], "--name") == 0
                               ? "--name needs a NAME" : "unexpected argument", argv[i]);
    }
    if (a->name == NULL)
        return usage_error("user create", "--name NAME is required", NULL);
    if (!a->from_stdin)
        return usage_error("user create", "--password-stdin is required "
                           "(passwords are never taken from the command line)", NULL);
    return 0;
}

static int cmd_create(rst_services *s, int argc, char **argv)
{
    create_args args;
    if (parse_create(argc, argv, &args) != 0)
        return 2;
    const char *name = args.name;
    int admin = args.admin;
    const char *problem = rst_user_name_problem(name, strlen(name));
    if (problem != NULL) {
        fprintf(stderr, "roostctl: name %s\n", problem);
        return 1;
    }
    char pw[1024];
    size_t pwlen;
    if (read_password(pw, sizeof(pw), &pwlen) != 0) {
        fprintf(stderr, "roostctl: no password on standard input\n");
        return 1;
    }
    if (!rst_utf8_valid(pw, pwlen) || (problem = rst_user_password_problem(pw, pwlen)) != NULL) {
        fprintf(stderr, "roostctl: password %s\n", problem ? problem : "must be UTF-8");
        return 1;
    }
    rst_arena a;
    rst_arena_init(&a, 8192);
    rst_user u;
    rst_err err = rst_users_signup(s, &a, name, pw, pwlen, admin, &u, NULL);
    sodium_memzero(pw, sizeof(pw));
    int rc = err == RST_OK ? 0 : fail(err, "user create");
    if (rc == 0)
        printf("created %s %s (id %llu)\n", admin ? "admin" : "user", u.name,
               (unsigned long long)u.id);
    rst_arena_free(&a);
    return rc;
}

static int cmd_set_role(rst_services *s, const char *name, int admin)
{
    rst_arena a;
    rst_arena_init(&a, 8192);
    rst_user u;
    rst_err err = rst_users_find_by_name(s, &a, name, &u);
    if (err == RST_OK && u.admin != admin)
        err = rst_users_set_role(s, &a, &u, admin);
    int rc = err == RST_OK ? 0 : fail(err, admin ? "user promote" : "user demote");
    if (rc == 0)
        printf("%s is now %s (older tokens revoked)\n", u.name, admin ? "an admin" : "a user");
    rst_arena_free(&a);
    return rc;
}

int rst_ctl_user_check(int argc, char **argv)
{
    create_args args;
    if (argc == 0)
        return usage_error("user", "no subcommand given (create, promote or demote)", NULL);
    if (strcmp(argv[0], "create") == 0)
        return parse_create(argc - 1, argv + 1, &args);
    if (strcmp(argv[0], "promote") == 0 || strcmp(argv[0], "demote") == 0) {
        if (argc == 2)
            return 0;
        const char *cmd = argv[0][0] == 'p' ? "user promote" : "user demote";
        return argc < 2 ? usage_error(cmd, "needs a NAME", NULL)
                        : usage_error(cmd, "unexpected argument", argv[2]);
    }
    return usage_error("user", "unknown subcommand", argv[0]);
}

/* Runs after rst_ctl_user_check accepted the arguments. */
int rst_ctl_user(rst_services *s, int argc, char **argv)
{
    if (strcmp(argv[0], "create") == 0)
        return cmd_create(s, argc - 1, argv + 1);
    return cmd_set_role(s, argv[1], strcmp(argv[0], "promote") == 0);
}
