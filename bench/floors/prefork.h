/* prefork.h -- what the FastCGI floors share: a unix socket, N forked
 * workers, and in each a plain FCGX_Accept_r loop with no keep-alive.
 *
 * The floors measure what the FastCGI hop itself costs behind the same
 * nginx as roostd (docs/PERFORMANCE.md). They stay as plain as libfcgi's
 * own examples on purpose: one request per accepted connection, blocking
 * accept in every worker, no epoll. Do not tune them: they are the
 * yardstick, not a contender.
 *
 * A floor program defines floor_init() (once per worker, after the fork)
 * and floor_serve() (once per request) and calls floor_main(). */
#ifndef BENCH_PREFORK_H
#define BENCH_PREFORK_H

#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define FLOOR_MAX_WORKERS 64

static int floor_init(int argc, char **argv);
static void floor_serve(FCGX_Request *req);

static volatile sig_atomic_t floor_stopping;

static void floor_on_term(int sig)
{
    (void)sig;
    floor_stopping = 1;
}

/* Writes a whole response: the status line, the JSON type and the body. */
static void floor_reply(FCGX_Request *req, int status, const char *body, size_t len)
{
    char head[160];
    int n = snprintf(head, sizeof(head),
                     "Status: %d\r\nContent-Type: application/json; charset=utf-8\r\n"
                     "Content-Length: %lu\r\n\r\n", status, (unsigned long)len);
    FCGX_PutStr(head, n, req->out);
    FCGX_PutStr(body, (int)len, req->out);
}

static void floor_worker(int listen_fd, int argc, char **argv)
{
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    if (FCGX_Init() != 0 || floor_init(argc, argv) != 0)
        _exit(1);
    FCGX_Request req;
    FCGX_InitRequest(&req, listen_fd, 0);
    while (FCGX_Accept_r(&req) >= 0) {
        floor_serve(&req);
        FCGX_Finish_r(&req);
    }
    _exit(0);
}

static pid_t floor_spawn(int listen_fd, int argc, char **argv)
{
    pid_t pid = fork();
    if (pid == 0)
        floor_worker(listen_fd, argc, argv);
    return pid;
}

/* usage: NAME SOCKET WORKERS [floor arguments...] */
static int floor_main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s SOCKET WORKERS [ARGS...]\n", argv[0]);
        return 2;
    }
    const char *path = argv[1];
    int workers = atoi(argv[2]);
    if (workers < 1 || workers > FLOOR_MAX_WORKERS) {
        fprintf(stderr, "%s: WORKERS must be 1..%d\n", argv[0], FLOOR_MAX_WORKERS);
        return 2;
    }
    unlink(path);
    int fd = FCGX_OpenSocket(path, 4096);
    if (fd < 0) {
        fprintf(stderr, "%s: cannot listen on %s: %s\n", argv[0], path, strerror(errno));
        return 1;
    }
    chmod(path, 0600);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = floor_on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    pid_t pids[FLOOR_MAX_WORKERS];
    for (int i = 0; i < workers; i++)
        pids[i] = floor_spawn(fd, argc - 3, argv + 3);
    /* Restart a worker that dies; on SIGTERM, stop them all. */
    while (!floor_stopping) {
        int st;
        pid_t dead = wait(&st);
        if (dead < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < workers && !floor_stopping; i++) {
            if (pids[i] == dead) {
                fprintf(stderr, "%s: worker %d died (status %d): restarting it\n",
                        argv[0], (int)dead, st);
                sleep(1);
                pids[i] = floor_spawn(fd, argc - 3, argv + 3);
            }
        }
    }
    for (int i = 0; i < workers; i++)
        if (pids[i] > 0)
            kill(pids[i], SIGTERM);
    while (wait(NULL) > 0 || errno == EINTR)
        ;
    unlink(path);
    return 0;
}

#endif
