/* log.h -- one line per event on stderr, the way journald wants it.
 *
 * Lines look like `<3>roostd[1234] worker 2: message`, where <N> is the
 * syslog priority prefix journald understands (sd-daemon(3)); outside
 * journald set `log_timestamps` so a plain file gets times. Passwords,
 * tokens and SQL never go into a log line: callers log codes and ids. */
#ifndef ROOST_LOG_H
#define ROOST_LOG_H

typedef enum {
    RST_LOG_ERROR = 3,
    RST_LOG_WARN  = 4,
    RST_LOG_INFO  = 6,
    RST_LOG_DEBUG = 7
} rst_log_level;

/* Process-wide settings: the logger is the one piece of global state every
 * module shares, like Redis's serverLog(). */
void rst_log_setup(const char *role, rst_log_level level, int timestamps);
void rst_log_set_role(const char *role);
/* Sends the log (stderr) to the file at path, appending: at start and when
 * told to reopen it after a rotation. 0, or -1 with errno. */
int  rst_log_open_file(const char *path);
int  rst_log_parse_level(const char *s, rst_log_level *out);
int  rst_log_enabled(rst_log_level level);
void rst_log(rst_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define rst_log_error(...) rst_log(RST_LOG_ERROR, __VA_ARGS__)
#define rst_log_warn(...)  rst_log(RST_LOG_WARN, __VA_ARGS__)
#define rst_log_info(...)  rst_log(RST_LOG_INFO, __VA_ARGS__)
#define rst_log_debug(...) do { if (rst_log_enabled(RST_LOG_DEBUG)) rst_log(RST_LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
