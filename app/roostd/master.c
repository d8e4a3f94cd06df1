/* master.c -- forking, watching and replacing workers.
 *
 * The master does no request work, so it can afford to be simple: it
 * blocks every signal and takes them one at a time with sigtimedwait(),
 * waking at least once a second to keep the pool full and to kill any
 * worker stuck on one request past request_timeout.
 *
 * The pool has `workers` serving processes. A worker that recycles
 * (max_requests) does not exit at once: it stops accepting and drains its
 * kept FastCGI connections until nginx closes them, and tells the master
 * (SIGUSR1), which forks its replacement straight away -- so there are two
 * slots per serving worker, and a draining worker never costs capacity.
 * SIGHUP reloads the configuration the same way: every worker drains
 * while a successor with the new configuration takes its place.
 * A worker that dies soon after it started is replaced after a growing
 * delay, so a crash loop (say, a broken library) does not spin the CPU. */
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "api/app.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "roostd/master.h"
#include "roostd/scoreboard.h"
#include "roostd/worker.h"

#define QUICK_DEATH_MS   2000
#define BACKOFF_START_MS 100
#define BACKOFF_MAX_MS   30000

typedef struct {
    pid_t    pid;              /* 0 when the slot is free */
    uint64_t started_ms;
} worker_slot;

typedef struct {
    const rst_config  *cfg;
    const rst_secrets *secrets;
    rst_config        *loaded_cfg;      /* owned copies after a reload */
    rst_secrets       *loaded_secrets;
    rst_secrets       *caller_secrets;  /* wiped once a reload replaces them */
    const char        *conf_path;
    int                listen_fd;
    rst_scoreboard    *sb;
    worker_slot       *slots;
    int                nslots;          /* RST_MAX_SLOTS: room for draining ones */
    int                stopping;
    uint64_t           spawn_after_ms;  /* crash-loop back-off: no forks before */
    unsigned           backoff_ms;
} master;

static int spawn(master *m, int i)
{
    rst_slot_reset(m->sb, &m->sb->slots[i]);
    pid_t pid = fork();
    if (pid < 0) {
        rst_log_error("fork worker %d: %s", i, strerror(errno));
        return -1;
    }
    if (pid == 0) {
        rst_worker_args args = { m->cfg, m->secrets, m->listen_fd, i, m->sb };
        rst_worker_run(&args);
    }
    m->slots[i].pid = pid;
    m->slots[i].started_ms = rst_time_mono_ms();
    m->sb->slots[i].pid = pid;
    return 0;
}

static int slot_of(const master *m, pid_t pid)
{
    for (int i = 0; i < m->nslots; i++)
        if (m->slots[i].pid == pid)
            return i;
    return -1;
}

/* Workers that take new connections: running and not draining. */
static int serving(const master *m)
{
    int n = 0;
    for (int i = 0; i < m->nslots; i++)
        if (m->slots[i].pid != 0 &&
            __atomic_load_n(&m->sb->slots[i].state, __ATOMIC_ACQUIRE) != RST_SLOT_EXITING)
            n++;
    return n;
}

static int running(const master *m)
{
    int n = 0;
    for (int i = 0; i < m->nslots; i++)
        n += m->slots[i].pid != 0;
    return n;
}

/* Forks until `workers` processes serve, unless a crash loop holds us back.
 * A slot's number is its worker's id generator (after generator_base), so
 * slots stop below 96 - generator_base. */
static void fill_pool(master *m)
{
    if (m->stopping || rst_time_mono_ms() < m->spawn_after_ms)
        return;
    int limit = RST_MAX_SLOTS - m->cfg->generator_base;
    for (int i = 0; i < limit && serving(m) < m->cfg->workers; i++)
        if (m->slots[i].pid == 0 && spawn(m, i) != 0)
            return;
}

/* Derived keys must not outlive their use in freed heap memory. */
static void free_secrets(rst_secrets *sec)
{
    if (sec == NULL)
        return;
    sodium_memzero(sec, sizeof(*sec));
    free(sec);
}

/* A config error has a line per bad key: one log line each. */
static void log_reload_problems(const char *err)
{
    const char *p = err;
    for (;;) {
        size_t n = strcspn(p, "\n");
        rst_log_error("reload: %.*s", (int)n, p);
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
    rst_log_error("reload: keeping the running configuration");
}

/* SIGHUP: read the configuration and the secret anew; when both are valid,
 * switch to them and ask every worker to make way (SIGUSR2): each drains
 * like a recycling worker while a successor started with the new
 * configuration takes its place, so no request is dropped. The listen
 * socket stays: changing `listen` needs a restart. */
static void reload(master *m)
{
    char err[4096];
    rst_config *cfg = malloc(sizeof(*cfg));
    rst_secrets *sec = malloc(sizeof(*sec));
    if (cfg == NULL || sec == NULL ||
        rst_config_load(cfg, m->conf_path, err, sizeof(err)) != 0 ||
        rst_secret_load(cfg->secret_file, sec, err, sizeof(err)) != 0) {
        log_reload_problems(cfg && sec ? err : "out of memory");
        free(cfg);
        free_secrets(sec);               /* may hold keys: a later step failed */
        return;
    }
    /* Draining workers keep minting ids with their generator numbers:
     * a new base could hand the same number to a successor. */
    if (cfg->generator_base != m->cfg->generator_base) {
        rst_log_error("reload: generator_base cannot change while running (restart roostd); "
                      "keeping the running configuration");
        free(cfg);
        free_secrets(sec);
        return;
    }
    sd_notify(0, "RELOADING=1");
    if (strcmp(cfg->listen, m->cfg->listen) != 0)
        rst_log_warn("reload: `listen` changed; the socket stays %s until a restart", m->cfg->listen);
    free(m->loaded_cfg);
    free_secrets(m->loaded_secrets);
    if (m->caller_secrets != NULL) {
        sodium_memzero(m->caller_secrets, sizeof(*m->caller_secrets));
        m->caller_secrets = NULL;
    }
    m->cfg = m->loaded_cfg = cfg;
    m->secrets = m->loaded_secrets = sec;
    m->sb->pool_size = cfg->workers;
    rst_log_setup("master", (rst_log_level)cfg->log_level, cfg->log_timestamps);
    int n = 0;
    for (int i = 0; i < m->nslots; i++)
        if (m->slots[i].pid != 0 && kill(m->slots[i].pid, SIGUSR2) == 0)
            n++;
    m->backoff_ms = 0;
    m->spawn_after_ms = 0;
    rst_log_info("reload: %s read; replacing %d workers with %d", m->conf_path, n, cfg->workers);
    sd_notify(0, "READY=1");
}

static void describe_exit(int status, char *out, size_t len)
{
    if (WIFSIGNALED(status))
        snprintf(out, len, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(out, len, "exited with code %d", WEXITSTATUS(status));
}

/* A worker that died right after it started is likely to again: back off. */
static void note_death(master *m, int i, int status)
{
    uint64_t now = rst_time_mono_ms();
    uint64_t lived = now - m->slots[i].started_ms;
    int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (clean || lived >= QUICK_DEATH_MS) {
        m->backoff_ms = 0;
        return;
    }
    m->backoff_ms = m->backoff_ms ? m->backoff_ms * 2 : BACKOFF_START_MS;
    if (m->backoff_ms > BACKOFF_MAX_MS)
        m->backoff_ms = BACKOFF_MAX_MS;
    m->spawn_after_ms = now + m->backoff_ms;
    rst_log_warn("worker %d died %llu ms after it started; next start in %u ms",
                 i, (unsigned long long)lived, m->backoff_ms);
}

/* One child has been waited for: free its slot and say how it ended. */
static void note_exit(master *m, pid_t pid, int status)
{
    int i = slot_of(m, pid);
    if (i < 0)
        return;
    rst_slot_reset(m->sb, &m->sb->slots[i]);
    char why[96];
    describe_exit(status, why, sizeof(why));
    int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (m->stopping || clean)
        rst_log_info("worker %d (pid %d) %s", i, (int)pid, clean ? "exited" : why);
    else
        rst_log_error("worker %d (pid %d) %s", i, (int)pid, why);
    if (!m->stopping)
        note_death(m, i, status);
    m->slots[i].pid = 0;
}

static void reap(master *m)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        note_exit(m, pid, status);
}

/* The last stragglers were sent SIGKILL: wait for each, and account for it
 * like any other exit (a bare waitpid would take it from reap unseen). */
static void reap_blocking(master *m)
{
    while (running(m) > 0) {
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        if (pid > 0) {
            note_exit(m, pid, status);
        } else if (errno != EINTR) {
            rst_log_error("waitpid: %s; %d workers unaccounted for", strerror(errno), running(m));
            return;
        }
    }
}

/* A request that runs past request_timeout holds a worker hostage: kill it
 * (the master replaces it), like php-fpm's request_terminate_timeout. */
static void kill_stuck(master *m)
{
    uint64_t now = rst_time_mono_ms();
    uint64_t limit = (uint64_t)m->cfg->request_timeout * 1000;
    for (int i = 0; i < m->nslots; i++) {
        rst_slot *s = &m->sb->slots[i];
        uint64_t since = __atomic_load_n(&s->busy_since_ms, __ATOMIC_RELAXED);
        /* since > now: the worker stamped it after we read the clock. */
        if (m->slots[i].pid == 0 || since == 0 || since > now || now - since < limit)
            continue;
        rst_log_error("worker %d (pid %d) stuck on %s %s for %llu s: killing it", i,
                      (int)m->slots[i].pid, s->method, s->path,
                      (unsigned long long)((now - since) / 1000));
        kill(m->slots[i].pid, SIGKILL);      /* reaped, and replaced, on its SIGCHLD */
    }
}

/* SIGTERM: workers finish what they hold and drain, then exit; stragglers
 * past the request timeout are killed. */
static void shutdown_workers(master *m, const sigset_t *set)
{
    m->stopping = 1;
    sd_notify(0, "STOPPING=1");
    rst_log_info("stopping: draining %d workers", running(m));
    for (int i = 0; i < m->nslots; i++)
        if (m->slots[i].pid != 0)
            kill(m->slots[i].pid, SIGTERM);
    uint64_t deadline = rst_time_mono_ms() + (uint64_t)m->cfg->request_timeout * 1000 + 1000;
    while (running(m) > 0 && rst_time_mono_ms() < deadline) {
        struct timespec tick = { 0, 100 * 1000 * 1000 };
        sigtimedwait(set, NULL, &tick);
        reap(m);
    }
    for (int i = 0; i < m->nslots; i++) {
        if (m->slots[i].pid != 0) {
            rst_log_warn("worker %d (pid %d) did not stop in time: killing it", i,
                         (int)m->slots[i].pid);
            kill(m->slots[i].pid, SIGKILL);
        }
    }
    reap_blocking(m);
}

int rst_master_run(const rst_config *cfg, rst_secrets *secrets, int listen_fd,
                   const char *conf_path)
{
    master m = { .cfg = cfg, .secrets = secrets, .caller_secrets = secrets,
                 .listen_fd = listen_fd, .conf_path = conf_path };
    m.nslots = RST_MAX_SLOTS;
    m.sb = rst_scoreboard_map(m.nslots, rst_app_route_count());
    m.slots = calloc((size_t)m.nslots, sizeof(worker_slot));
    if (m.sb == NULL || m.slots == NULL) {
        rst_log_error("cannot allocate the scoreboard");
        if (m.sb != NULL)
            rst_scoreboard_unmap(m.sb);
        free(m.slots);
        return 1;
    }
    m.sb->listen_fd = listen_fd;
    m.sb->pool_size = cfg->workers;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGQUIT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGUSR1);
    /* Blocked here and so in a fresh child until it has its handler: a
     * reload's SIGUSR2 must never kill a worker that is still starting. */
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    fill_pool(&m);
    rst_log_info("ready: %d workers on %s", cfg->workers, cfg->listen);
    sd_notifyf(0, "READY=1\nSTATUS=%d workers\nMAINPID=%d", cfg->workers, (int)getpid());

    for (;;) {
        struct timespec tick = { 1, 0 };
        int sig = sigtimedwait(&set, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT)
            break;
        if (sig == SIGHUP)
            reload(&m);
        /* SIGUSR1: a worker began to drain; SIGCHLD: one exited. Either
         * way the pool may be short now. */
        reap(&m);
        fill_pool(&m);
        kill_stuck(&m);
    }
    shutdown_workers(&m, &set);
    rst_log_info("stopped");
    rst_scoreboard_unmap(m.sb);
    free(m.slots);
    free(m.loaded_cfg);
    free_secrets(m.loaded_secrets);
    if (m.caller_secrets != NULL)
        sodium_memzero(m.caller_secrets, sizeof(*m.caller_secrets));
    return 0;
}
