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
        "roost's FastCGI process manager: a master that owns the listen sockets and\n"
        "supervises pools of workers (pm static, dynamic or ondemand, as php-fpm's)\n"
        "serving the roost JSON API behind nginx.\n"
        "\n"
        "  -c, --config FILE   configuration file (default " ROOST_SYSCONFDIR "/roost/roost.conf)\n"
        "  -t, --test          check the configuration and the secret file, then exit\n"
        "                      0 when valid, 1 with a line naming each bad key\n"
        "  -h, --help          show this help\n"
        "  -V, --version       show the version\n"
        "\n"
        "Signals: SIGTERM/SIGINT drain the workers (in-flight requests finish) and exit;\n"
        "SIGHUP re-reads the configuration and replaces the workers without dropping a request\n"
        "(a configuration that fails to load is logged and the running one kept);\n"
        "SIGUSR1 reopens the log file and the slow logs (after a rotation).\n"
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

static int open_own_socket(const rst_pool_conf *pool)
{
    if (listen_is_unix(pool->listen))
        return listen_unix(pool->listen, pool->listen_backlog);
    return listen_tcp(pool->listen, pool->listen_backlog);
}

/* The socket systemd passed for this pool's `listen`, or -1. */
static int passed_socket_for(const rst_pool_conf *pool, int nfds, const int *taken)
{
    for (int k = 0; k < nfds; k++) {
        int fd = SD_LISTEN_FDS_START + k;
        if (taken[k])
            continue;
        if (listen_is_unix(pool->listen)
                ? sd_is_socket_unix(fd, SOCK_STREAM, 1, pool->listen, 0) > 0
                : sd_is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1,
                                    (uint16_t)atoi(strrchr(pool->listen, ':') + 1)) > 0)
            return k;
    }
    return -1;
}

/* One listen socket per pool. systemd socket activation hands us sockets
 * from fd 3 on: each goes to the pool whose `listen` it is; a single
 * socket that matches none is the main pool's (a unit whose ListenStream
 * differs from the file, as before pools). The other pools open their
 * own. owned[i] is set for a unix socket we made (and unlink at exit). */
static int open_listen_sockets(const rst_config *cfg, int *fds, int *owned)
{
    int nfds = sd_listen_fds(1);
    int taken[64] = { 0 };
    if (nfds < 0)
        nfds = 0;
    if (nfds > 64)
        nfds = 64;
    for (int p = 0; p < cfg->npools; p++) {
        const rst_pool_conf *pool = &cfg->pools[p];
        int k = passed_socket_for(pool, nfds, taken);
        if (k < 0 && p == 0 && nfds == 1)
            k = 0;
        owned[p] = 0;
        if (k >= 0) {
            taken[k] = 1;
            fds[p] = SD_LISTEN_FDS_START + k;
            rst_log_info("pool %s: using the listen socket passed by systemd", pool->name);
        } else {
            owned[p] = listen_is_unix(pool->listen);
            fds[p] = open_own_socket(pool);
        }
        if (fds[p] < 0 || set_nonblocking(fds[p]) != 0)
            return -1;
    }
    for (int k = 0; k < nfds; k++)
        if (!taken[k])
            rst_log_warn("systemd passed a socket (fd %d) no pool listens on; ignoring it",
                         SD_LISTEN_FDS_START + k);
    return 0;
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
    if (cfg.log_file[0] != '\0' && rst_log_open_file(cfg.log_file) != 0) {
        rst_log_error("log_file %s: %s", cfg.log_file, strerror(errno));
        return 1;
    }
    int fds[RST_MAX_POOLS], owned[RST_MAX_POOLS] = { 0 };
    for (int p = 0; p < RST_MAX_POOLS; p++)
        fds[p] = -1;
    int rc = 1;
    if (open_listen_sockets(&cfg, fds, owned) == 0)
        rc = rst_master_run(&cfg, &secrets, fds, conf_path);
    for (int p = 0; p < cfg.npools; p++) {
        if (fds[p] >= 0)
            close(fds[p]);
        if (owned[p] && fds[p] >= 0)
            unlink(cfg.pools[p].listen);
    }
    return rc;
}
