/* fcgi.h -- a small FastCGI client for the tests that talk to a roostd of
 * their own, without nginx: one request a connection, the answer's status
 * and body, or how the connection ended. */
#ifndef ROOST_TESTS_FCGI_H
#define ROOST_TESTS_FCGI_H

#include <stddef.h>

/* Connects to the unix socket and sends a whole GET request for uri
 * (failpoint: the X-Roost-Failpoint header, or NULL; request_id: nginx's
 * $request_id as roostd would get it). Returns the connected fd, or -1. */
int fcgi_send_get(const char *sock, const char *uri, const char *failpoint,
                  const char *request_id);

/* Reads the answer to fcgi_send_get on fd, for up to timeout_ms, and
 * closes fd. Returns the HTTP status (200 when roostd sent no Status
 * line), 0 when the connection closed before the end of the request (the
 * worker died), -1 on a timeout or an error. The body (NUL-terminated,
 * cut at bodylen - 1) goes to body when not NULL. */
int fcgi_read_answer(int fd, int timeout_ms, char *body, size_t bodylen);

/* Both in one. */
int fcgi_get(const char *sock, const char *uri, int timeout_ms, char *body, size_t bodylen);

#endif
