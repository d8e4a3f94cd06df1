/* fcgiclient.c -- a small FastCGI client (see fcgiclient.h). It writes the
 * records nginx would (BEGIN_REQUEST, PARAMS, an empty STDIN) and reads
 * STDOUT records until END_REQUEST. */
#include "core/fcgiclient.h"

#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define FCGI_BEGIN_REQUEST 1
#define FCGI_END_REQUEST   3
#define FCGI_PARAMS        4
#define FCGI_STDIN         5
#define FCGI_STDOUT        6
#define FCGI_RESPONDER     1
#define FCGI_KEEP_CONN     1

static void record_header(unsigned char *h, int type, size_t len)
{
    h[0] = 1;                            /* version */
    h[1] = (unsigned char)type;
    h[2] = 0;                            /* request id 1 */
    h[3] = 1;
    h[4] = (unsigned char)(len >> 8);
    h[5] = (unsigned char)(len & 0xff);
    h[6] = 0;                            /* no padding */
    h[7] = 0;
}

/* One name-value pair, both shorter than 128 bytes (one-byte lengths). */
static size_t add_param(unsigned char *out, size_t used, size_t cap, const char *name,
                        const char *value)
{
    size_t n = strlen(name), v = strlen(value);
    if (n > 127 || v > 127 || used + 2 + n + v > cap)
        return used;
    out[used++] = (unsigned char)n;
    out[used++] = (unsigned char)v;
    memcpy(out + used, name, n);
    memcpy(out + used + n, value, v);
    return used + n + v;
}

/* send(), not write(): a worker that closed the connection is an error
 * here, never a SIGPIPE that ends the caller. */
static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A pool's socket: a unix socket path, or HOST:PORT (roostd's `listen`
 * takes both; a host name is resolved, an IPv6 address in brackets). */
static int connect_pool(const char *sock)
{
    if (sock[0] != '/') {
        char host[256];
        const char *colon = strrchr(sock, ':');
        if (colon == NULL || colon == sock || (size_t)(colon - sock) >= sizeof(host))
            return -1;
        memcpy(host, sock, (size_t)(colon - sock));
        host[colon - sock] = '\0';
        char *h = host;
        size_t hl = strlen(h);
        if (h[0] == '[' && hl > 2 && h[hl - 1] == ']') {
            h[hl - 1] = '\0';
            h++;
        }
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res;
        if (getaddrinfo(h, colon + 1, &hints, &res) != 0)
            return -1;
        int fd = -1;
        for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
            fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
            /* On Linux a send timeout bounds connect() too: a host that
             * drops packets costs 2 s, not the kernel's two minutes. */
            struct timeval tv = { .tv_sec = 2 };
            if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
                            connect(fd, ai->ai_addr, ai->ai_addrlen) != 0)) {
                close(fd);
                fd = -1;
            }
        }
        freeaddrinfo(res);
        return fd;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (fd < 0 || strlen(sock) >= sizeof(sa.sun_path)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    strcpy(sa.sun_path, sock);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* The records of one GET; keep asks the application to keep the
 * connection open after it (FCGI_KEEP_CONN, as nginx's keepalive does). */
static int write_get(int fd, const char *uri, const char *failpoint, const char *request_id,
                     int keep)
{
    unsigned char buf[2048], params[1536];
    size_t np = 0;
    char path[256];
    snprintf(path, sizeof(path), "%.*s", (int)strcspn(uri, "?"), uri);
    const char *q = strchr(uri, '?');
    np = add_param(params, np, sizeof(params), "REQUEST_METHOD", "GET");
    np = add_param(params, np, sizeof(params), "REQUEST_URI", uri);
    np = add_param(params, np, sizeof(params), "DOCUMENT_URI", path);
    np = add_param(params, np, sizeof(params), "QUERY_STRING", q ? q + 1 : "");
    np = add_param(params, np, sizeof(params), "HTTP_ACCEPT", "application/json");
    np = add_param(params, np, sizeof(params), "REMOTE_ADDR", "127.0.0.1");
    np = add_param(params, np, sizeof(params), "HTTP_X_REQUEST_ID", request_id ? request_id : "-");
    if (failpoint != NULL)
        np = add_param(params, np, sizeof(params), "HTTP_X_ROOST_FAILPOINT", failpoint);
    size_t n = 0;
    record_header(buf, FCGI_BEGIN_REQUEST, 8);
    n = 8;
    memset(buf + n, 0, 8);
    buf[n + 1] = FCGI_RESPONDER;         /* role */
    buf[n + 2] = keep ? FCGI_KEEP_CONN : 0;
    n += 8;
    record_header(buf + n, FCGI_PARAMS, np);
    n += 8;
    memcpy(buf + n, params, np);
    n += np;
    record_header(buf + n, FCGI_PARAMS, 0);
    n += 8;
    record_header(buf + n, FCGI_STDIN, 0);
    n += 8;
    return write_all(fd, buf, n);
}

int rst_fcgi_send_get(const char *sock, const char *uri, const char *failpoint,
                      const char *request_id)
{
    int fd = connect_pool(sock);
    if (fd < 0)
        return -1;
    if (write_get(fd, uri, failpoint, request_id, 0) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads exactly n bytes by the deadline: 1, 0 at EOF, -1 on a timeout. */
static int read_full(int fd, unsigned char *p, size_t n, long long deadline)
{
    while (n > 0) {
        long long left = deadline - mono_ms();
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
            return -1;
        ssize_t r = read(fd, p, n);
        if (r == 0)
            return 0;
        if (r < 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 1;
}

/* The status line's code (200 without one) and where the body starts. */
static int parse_answer(char *out, char **body)
{
    int status = 200;
    if (strncmp(out, "Status: ", 8) == 0 && sscanf(out + 8, "%d", &status) != 1)
        status = 200;
    char *sep = strstr(out, "\r\n\r\n");
    *body = sep ? sep + 4 : out + strlen(out);
    return status;
}

/* Reads records until END_REQUEST: 200 with the STDOUT bytes in *out
 * (malloc'd, NUL-terminated), 0 when closed mid-request, -1 otherwise.
 * Closes fd, unless keep and the answer was whole. */
static int read_records(int fd, int timeout_ms, int keep, char **out_p)
{
    long long deadline = mono_ms() + timeout_ms;
    size_t cap = 1 << 20, used = 0;
    char *out = malloc(cap);
    int rc = -1;
    *out_p = NULL;
    if (out == NULL) {
        close(fd);
        return -1;
    }
    for (;;) {
        unsigned char h[8], content[65536 + 256];
        int r = read_full(fd, h, 8, deadline);
        if (r <= 0) {
            rc = r;                      /* 0: closed mid-request */
            break;
        }
        size_t len = ((size_t)h[4] << 8) | h[5], pad = h[6];
        if (read_full(fd, content, len + pad, deadline) <= 0 && len + pad > 0) {
            rc = 0;
            break;
        }
        if (h[1] == FCGI_STDOUT && used + len < cap) {
            memcpy(out + used, content, len);
            used += len;
        } else if (h[1] == FCGI_END_REQUEST) {
            rc = 200;
            break;
        }
    }
    if (!keep || rc != 200)
        close(fd);
    if (rc != 200) {
        free(out);
        return rc;
    }
    out[used] = '\0';
    *out_p = out;
    return rc;
}

int rst_fcgi_read_answer(int fd, int timeout_ms, char *body, size_t bodylen)
{
    char *out, *b;
    int rc = read_records(fd, timeout_ms, 0, &out);
    if (rc != 200)
        return rc;
    rc = parse_answer(out, &b);
    if (body != NULL && bodylen > 0)
        snprintf(body, bodylen, "%s", b);
    free(out);
    return rc;
}

int rst_fcgi_read_answer_alloc(int fd, int timeout_ms, char **body)
{
    char *out, *b;
    *body = NULL;
    int rc = read_records(fd, timeout_ms, 0, &out);
    if (rc != 200)
        return rc;
    rc = parse_answer(out, &b);
    memmove(out, b, strlen(b) + 1);      /* the caller owns one block */
    *body = out;
    return rc;
}

int rst_fcgi_get(const char *sock, const char *uri, int timeout_ms, char *body, size_t bodylen)
{
    int fd = rst_fcgi_send_get(sock, uri, NULL, NULL);
    return fd < 0 ? -1 : rst_fcgi_read_answer(fd, timeout_ms, body, bodylen);
}

int rst_fcgi_get_alloc(const char *sock, const char *uri, int timeout_ms, char **body)
{
    *body = NULL;
    int fd = rst_fcgi_send_get(sock, uri, NULL, NULL);
    return fd < 0 ? -1 : rst_fcgi_read_answer_alloc(fd, timeout_ms, body);
}

int rst_fcgi_keep_get(int *fd, const char *sock, const char *uri, int timeout_ms)
{
    if (*fd < 0 && (*fd = connect_pool(sock)) < 0)
        return -1;
    char *out, *b;
    if (write_get(*fd, uri, NULL, NULL, 1) != 0) {
        close(*fd);
        *fd = -1;
        return 0;                        /* the worker closed it */
    }
    int rc = read_records(*fd, timeout_ms, 1, &out);
    if (rc != 200) {
        *fd = -1;                        /* read_records closed it */
        return rc;
    }
    rc = parse_answer(out, &b);
    free(out);
    return rc;
}
