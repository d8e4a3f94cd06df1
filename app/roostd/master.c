/* master.c -- forking, watching and restarting workers.
 *
 * The master does no request work, so it can afford to be simple: it
 * blocks every signal and takes them one at a time with sigtimedwait(),
 * waking at least once a second to restart workers whose back-off expired
 * and to kill any worker stuck on one request past request_timeout. A
 * worker that dies soon after it started is restarted after a growing
 * delay, so a crash loop (say, a broken library) does not spin the CPU. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/timefmt.h"
#include "roostd/master.h"
#include "roostd/scoreboard.h"
#include "roostd/worker.h"

#define QUICK_DEATH_MS   2000
#define BACKOFF_START_MS 100
#define BACKOFF_MAX_MS   30000

typedef struct {
    pid_t    pid;              /* 0 when not running */
    uint64_t started_ms;
    uint64_t restart_at_ms;    /* 0: start at once when empty */
    unsigned backoff_ms;
} worker_slot;

typedef struct {
    const rst_config  *cfg;
    const rst_secrets *secrets;
    int                listen_fd;
    rst_scoreboard    *sb;
    worker_slot       *slots;
    int                nslots;
    int                stopping;
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
    m->slots[i].started_ms = rst_time_now_ms();
    m->slots[i].restart_at_ms = 0;
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

static void describe_exit(int status, char *out, size_t len)
{
    if (WIFSIGNALED(status))
        snprintf(out, len, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(out, len, "exited with code %d", WEXITSTATUS(status));
}

/* Decides when a dead worker comes back. */
static void schedule_restart(master *m, int i, int status)
{
    worker_slot *s = &m->slots[i];
    uint64_t now = rst_time_now_ms();
    int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (clean || now - s->started_ms >= QUICK_DEATH_MS) {
        s->backoff_ms = 0;
        s->restart_at_ms = now;
        return;
    }
    s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : BACKOFF_START_MS;
    if (s->backoff_ms > BACKOFF_MAX_MS)
        s->backoff_ms = BACKOFF_MAX_MS;
    s->restart_at_ms = now + s->backoff_ms;
    rst_log_warn("worker %d died %llu ms after it started; restarting in %u ms",
                 i, (unsigned long long)(now - s->started_ms), s->backoff_ms);
}

static void reap(master *m)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        int i = slot_of(m, pid);
        if (i < 0)
            continue;
        m->slots[i].pid = 0;
        rst_slot_reset(m->sb, &m->sb->slots[i]);
        char why[96];
        describe_exit(status, why, sizeof(why));
        int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (m->stopping)
            rst_log_info("worker %d (pid %d) %s", i, (int)pid, why);
        else if (clean)
            rst_log_info("worker %d (pid %d) exited (recycled)", i, (int)pid);
        else
            rst_log_error("worker %d (pid %d) %s", i, (int)pid, why);
        if (!m->stopping)
            schedule_restart(m, i, status);
    }
}

static void restart_due(master *m)
{
    uint64_t now = rst_time_now_ms();
    for (int i = 0; i < m->nslots; i++)
        if (m->slots[i].pid == 0 && now >= m->slots[i].restart_at_ms)
            spawn(m, i);
}

/* A request that runs past request_timeout holds a worker hostage: kill it
 * (the master replaces it), like php-fpm's request_terminate_timeout. */
static void kill_stuck(master *m)
{
    uint64_t now = rst_time_now_ms();
    uint64_t limit = (uint64_t)m->cfg->request_timeout * 1000;
    for (int i = 0; i < m->nslots; i++) {
        rst_slot *s = &m->sb->slots[i];
        uint64_t since = __atomic_load_n(&s->busy_since_ms, __ATOMIC_RELAXED);
        if (m->slots[i].pid == 0 || since == 0 || now - since < limit)
            continue;
        rst_log_error("worker %d (pid %d) stuck on %s %s for %llu s: killing it", i,
                      (int)m->slots[i].pid, s->method, s->path,
                      (unsigned long long)((now - since) / 1000));
        kill(m->slots[i].pid, SIGKILL);
        __atomic_store_n(&s->busy_since_ms, 0, __ATOMIC_RELAXED);
    }
}

static int running(const master *m)
{
    int n = 0;
    for (int i = 0; i < m->nslots; i++)
        n += m->slots[i].pid != 0;
    return n;
}

/* SIGTERM: workers finish what they hold, then exit; stragglers past the
 * request timeout are killed. */
static void shutdown_workers(master *m, const sigset_t *set)
{
    m->stopping = 1;
    sd_notify(0, "STOPPING=1");
    rst_log_info("stopping: draining %d workers", running(m));
    for (int i = 0; i < m->nslots; i++)
        if (m->slots[i].pid != 0)
            kill(m->slots[i].pid, SIGTERM);
    uint64_t deadline = rst_time_now_ms() + (uint64_t)m->cfg->request_timeout * 1000 + 1000;
    while (running(m) > 0 && rst_time_now_ms() < deadline) {
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
    while (running(m) > 0 && waitpid(-1, NULL, 0) > 0)
        reap(m);
}

int rst_master_run(const rst_config *cfg, const rst_secrets *secrets, int listen_fd)
{
    master m = { .cfg = cfg, .secrets = secrets, .listen_fd = listen_fd };
    m.nslots = cfg->workers;
    m.sb = rst_scoreboard_map(m.nslots);
    if (m.sb != NULL)
        m.sb->listen_fd = listen_fd;
    m.slots = calloc((size_t)m.nslots, sizeof(worker_slot));
    if (m.sb == NULL || m.slots == NULL) {
        rst_log_error("cannot allocate the scoreboard");
        return 1;
    }
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGQUIT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    for (int i = 0; i < m.nslots; i++)
        spawn(&m, i);
    rst_log_info("ready: %d workers on %s", m.nslots, cfg->listen);
    sd_notifyf(0, "READY=1\nSTATUS=%d workers\nMAINPID=%d", m.nslots, (int)getpid());

    for (;;) {
        struct timespec tick = { 1, 0 };
        int sig = sigtimedwait(&set, NULL, &tick);
        if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT)
            break;
        if (sig == SIGHUP)
            rst_log_warn("SIGHUP: configuration reload is not supported yet; ignoring");
        reap(&m);
        restart_due(&m);
        kill_stuck(&m);
    }
    shutdown_workers(&m, &set);
    rst_log_info("stopped");
    rst_scoreboard_unmap(m.sb);
    free(m.slots);
    return 0;
}
