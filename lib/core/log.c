/* log.c -- the stderr logger (see log.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/log.h"
#include "core/timefmt.h"

static struct {
    char          role[32];
    rst_log_level level;
    int           timestamps;
} log_state = { "roost", RST_LOG_INFO, 0 };

void rst_log_setup(const char *role, rst_log_level level, int timestamps)
{
    rst_log_set_role(role);
    log_state.level = level;
    log_state.timestamps = timestamps;
}

void rst_log_set_role(const char *role)
{
    snprintf(log_state.role, sizeof(log_state.role), "%s", role);
}

/* dup2 onto stderr rather than a FILE of our own: every write of the
 * logger (and of anything else that prints to stderr, ASan's reports
 * included) lands in the file, and a forked worker inherits it. */
int rst_log_open_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    int rc = dup2(fd, STDERR_FILENO) < 0 ? -1 : 0;
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int rst_log_parse_level(const char *s, rst_log_level *out)
{
    static const struct { const char *name; rst_log_level level; } names[] = {
        { "error", RST_LOG_ERROR }, { "warn", RST_LOG_WARN },
        { "warning", RST_LOG_WARN }, { "info", RST_LOG_INFO },
        { "debug", RST_LOG_DEBUG },
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(s, names[i].name) == 0) {
            *out = names[i].level;
            return 0;
        }
    }
    return -1;
}

int rst_log_enabled(rst_log_level level)
{
    return level <= log_state.level;
}

void rst_log(rst_log_level level, const char *fmt, ...)
{
    if (!rst_log_enabled(level))
        return;
    char line[2048];
    size_t n = 0;
    int w;
    if (log_state.timestamps) {
        char t[RST_TIME_LEN];
        rst_time_format(rst_time_now_ms(), t);
        w = snprintf(line, sizeof(line), "<%d>%s [%d] %s: ", (int)level, t,
                     (int)getpid(), log_state.role);
    } else {
        w = snprintf(line, sizeof(line), "<%d>[%d] %s: ", (int)level,
                     (int)getpid(), log_state.role);
    }
    if (w > 0)
        n = (size_t)w < sizeof(line) ? (size_t)w : sizeof(line) - 1;
    va_list ap;
    va_start(ap, fmt);
    w = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    if (w > 0)
        n += (size_t)w < sizeof(line) - n ? (size_t)w : sizeof(line) - n - 1;
    /* One line per event: a newline inside a message would split it. */
    for (size_t i = 0; i < n; i++)
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    line[n++] = '\n';
    /* A single write keeps lines from different workers whole. */
    ssize_t r = write(STDERR_FILENO, line, n);
    (void)r;
}
