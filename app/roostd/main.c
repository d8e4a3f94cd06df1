/* main.c -- roostd: command line, config check, listen socket, then the
 * master takes over. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "core/secret.h"
#include "roostd/master.h"

static void usage(FILE *out)
{
    fprintf(out,
        "Usage: roostd -c FILE [-t]\n"
        "\n"
        "roost's FastCGI process manager: a master that owns the listen socket and\n"
        "supervises a pool of workers serving the roost JSON API behind nginx.\n"
        "\n"
        "  -c, --config FILE   configuration file (default " ROOST_SYSCONFDIR "/roost/roost.conf)\n"
        "  -t, --test          check the configuration and the secret file, then exit\n"
        "                      0 when valid, 1 with a line naming each bad key\n"
        "  -h, --help          show this help\n"
        "  -V, --version       show the version\n"
        "\n"
        "Signals: SIGTERM/SIGINT drain the workers (in-flight requests finish) and exit;\n"
        "SIGHUP re-reads the configuration and replaces the workers without dropping a request.\n"
        "Logs go to stderr, one line per event (journald-friendly). See roostd(8).\n");
}

/* A config error has a line per bad key: each gets our name in front. */
static void print_problems(const char *err)
{
    const char *p = err;
    for (;;) {
        size_t n = strcspn(p, "\n");
        fprintf(stderr, "roostd: %.*s\n", (int)n, p);
        if (p[n] == '\0')
            return;
        p += n + 1;
    }
}

static int set_nonblocking(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Refuses to steal a unix socket another live process is listening on. */
static int unix_socket_in_use(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    int in_use = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    close(fd);
    return in_use;
}

static int listen_unix(const char *path, int backlog)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path)) {
        rst_log_error("listen %s: path longer than %zu bytes", path, sizeof(sa.sun_path) - 1);
        return -1;
    }
    strcpy(sa.sun_path, path);
    if (unix_socket_in_use(path)) {
        rst_log_error("listen %s: another process is serving this socket", path);
        return -1;
    }
    unlink(path);                         /* a stale socket from a crash */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        chmod(path, 0666) != 0 || listen(fd, backlog) != 0) {
        rst_log_error("listen %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int listen_tcp(const char *hostport, int backlog)
{
    char host[256];
    const char *colon = strrchr(hostport, ':');
    if (colon == NULL || (size_t)(colon - hostport) >= sizeof(host)) {
        rst_log_error("listen %s: expected host:port", hostport);
        return -1;
    }
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = '\0';
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE }, *res;
    int rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &res);
    if (rc != 0) {
        rst_log_error("listen %s: %s", hostport, gai_strerror(rc));
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, backlog) != 0) {
        rst_log_error("listen %s: %s", hostport, strerror(errno));
        if (fd >= 0)
            close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static int listen_is_unix(const char *listen)
{
    return strchr(listen, '/') != NULL || strchr(listen, ':') == NULL;
}

/* systemd socket activation hands us fd 3; otherwise we open our own. */
static int open_listen_socket(const rst_config *cfg, int *owned_path)
{
    int n = sd_listen_fds(1);
    *owned_path = 0;
    if (n > 0) {
        rst_log_info("using the listen socket passed by systemd");
        return SD_LISTEN_FDS_START;
    }
    if (listen_is_unix(cfg->listen)) {
        *owned_path = 1;
        return listen_unix(cfg->listen, cfg->listen_backlog);
    }
    return listen_tcp(cfg->listen, cfg->listen_backlog);
}

int main(int argc, char **argv)
{
    const char *conf_path = ROOST_SYSCONFDIR "/roost/roost.conf";
    int test_only = 0;
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "test", no_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "c:thV", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': conf_path = optarg; break;
        case 't': test_only = 1; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("roostd %s\n", PACKAGE_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    rst_log_setup("master", RST_LOG_INFO, 0);
    if (sodium_init() < 0) {
        rst_log_error("libsodium failed to initialise");
        return 1;
    }
    static rst_config cfg;
    static rst_secrets secrets;
    char err[8192];
    if (rst_config_load(&cfg, conf_path, err, sizeof(err)) != 0 ||
        rst_secret_load(cfg.secret_file, &secrets, err, sizeof(err)) != 0) {
        print_problems(err);
        return 1;
    }
    if (test_only) {
        printf("roostd: configuration %s is valid\n", conf_path);
        return 0;
    }
    rst_log_setup("master", (rst_log_level)cfg.log_level, cfg.log_timestamps);
    int owned_path;
    int fd = open_listen_socket(&cfg, &owned_path);
    if (fd < 0 || set_nonblocking(fd) != 0)
        return 1;
    int rc = rst_master_run(&cfg, &secrets, fd, conf_path);
    close(fd);
    if (owned_path)
        unlink(cfg.listen);
    return rc;
}
