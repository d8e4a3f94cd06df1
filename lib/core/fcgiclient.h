/* fcgiclient.h -- a small FastCGI client for talking to a roostd pool's
 * socket (unix or TCP) without nginx: one GET a connection (or several on a kept one),
 * the answer's status and body, or how the connection ended. roostctl top/advise read /status and
 * /metrics with it; the API tests use it for a roostd of their own. */
#ifndef ROOST_CORE_FCGICLIENT_H
#define ROOST_CORE_FCGICLIENT_H

#include <stddef.h>

/* Connects to the pool's socket (a unix socket path, or HOST:PORT as
 * roostd's `listen` takes it) and sends a whole GET request for uri
 * (failpoint: the X-Roost-Failpoint header, or NULL; request_id: nginx's
 * $request_id as roostd would get it). Returns the connected fd, or -1. */
int rst_fcgi_send_get(const char *sock, const char *uri, const char *failpoint,
                      const char *request_id);

/* Reads the answer to rst_fcgi_send_get on fd, for up to timeout_ms, and
 * closes fd. Returns the HTTP status (200 when roostd sent no Status
 * line), 0 when the connection closed before the end of the request (the
 * worker died), -1 on a timeout or an error. The body (NUL-terminated,
 * cut at bodylen - 1) goes to body when not NULL. */
int rst_fcgi_read_answer(int fd, int timeout_ms, char *body, size_t bodylen);

/* The same, with the whole body (up to 1 MiB) in a malloc'd string the
 * caller frees, set only when the status is above 0. */
int rst_fcgi_read_answer_alloc(int fd, int timeout_ms, char **body);

/* A GET on a kept connection (FCGI_KEEP_CONN, as nginx's keepalive
 * sends): *fd < 0 connects first; the connection stays open in *fd after
 * a whole answer, else it is closed and *fd set to -1. Returns as
 * rst_fcgi_read_answer does (0 also when the write failed: the worker
 * closed the connection). */
int rst_fcgi_keep_get(int *fd, const char *sock, const char *uri, int timeout_ms);

/* Send and read in one. */
int rst_fcgi_get(const char *sock, const char *uri, int timeout_ms, char *body, size_t bodylen);
int rst_fcgi_get_alloc(const char *sock, const char *uri, int timeout_ms, char **body);

#endif
