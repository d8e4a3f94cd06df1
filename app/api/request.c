/* request.c -- building rst_request from FastCGI params and stdin. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/request.h"

/* The parameters roostd reads, found in one pass over the environment:
 * FCGX_GetParam() would scan all of it once per name. */
typedef struct {
    const char   *name;
    size_t        len;
    size_t        offset;    /* of the const char * field in rst_request */
} wanted_param;

#define WANT(n, field) { n, sizeof(n) - 1, offsetof(rst_request, field) }
static const wanted_param wanted[] = {
    WANT("REQUEST_METHOD", method_name),
    WANT("REQUEST_URI", path),
    WANT("HTTP_ACCEPT", accept),
    WANT("CONTENT_TYPE", content_type),
    WANT("CONTENT_LENGTH", content_length),
    WANT("HTTP_AUTHORIZATION", authorization),
    WANT("HTTP_IF_NONE_MATCH", if_none_match),
    WANT("HTTP_CACHE_CONTROL", cache_control),
    WANT("HTTP_IDEMPOTENCY_KEY", idempotency_key),
    WANT("HTTP_X_ROOST_FAILPOINT", failpoint),
    WANT("HTTP_X_REQUEST_ID", request_id),
    WANT("REMOTE_ADDR", remote_addr),
};

static void read_params(rst_request *req, char **envp)
{
    for (char **e = envp; e != NULL && *e != NULL; e++) {
        const char *eq = strchr(*e, '=');
        if (eq == NULL)
            continue;
        size_t n = (size_t)(eq - *e);
        for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
            if (wanted[i].len == n && memcmp(wanted[i].name, *e, n) == 0) {
                const char **field = (const char **)((char *)req + wanted[i].offset);
                if (*field == NULL)              /* the first one wins */
                    *field = eq + 1;
                break;
            }
        }
    }
}

/* Directives are comma-separated tokens, case-insensitive, maybe with
 * "=value" (RFC 9111 §5.2). */
int rst_request_no_cache(const rst_request *req)
{
    const char *p = req->cache_control;
    while (p != NULL && *p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if ((n == 8 && strncasecmp(p, "no-cache", 8) == 0) ||
            (n >= 8 && strncasecmp(p, "no-cache", 8) == 0 && p[8] == '=') ||
            (n == 9 && strncasecmp(p, "max-age=0", 9) == 0))
            return 1;
        p += strcspn(p, ",");
    }
    return 0;
}

void rst_request_drain(FCGX_Request *fr)
{
    char sink[4096];
    while (FCGX_GetStr(sink, sizeof(sink), fr->in) > 0)
        ;
}

static int read_body(rst_request *req, FCGX_Request *fr, rst_arena *a)
{
    const char *cl = req->content_length;
    long want = cl && *cl ? strtol(cl, NULL, 10) : 0;
    if (want < 0)
        want = 0;
    if (want > RST_BODY_MAX) {
        req->body_too_large = 1;
        rst_request_drain(fr);
        req->body = "";
        return 0;
    }
    char *buf = rst_arena_alloc(a, (size_t)want + 1);
    if (buf == NULL)
        return -1;
    size_t got = 0;
    while (got < (size_t)want) {
        int n = FCGX_GetStr(buf + got, (int)((size_t)want - got), fr->in);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    buf[got] = '\0';
    rst_request_drain(fr);   /* a body longer than announced is ignored */
    req->body = buf;
    req->body_len = got;
    return 0;
}

int rst_request_read(rst_request *req, FCGX_Request *fr, rst_arena *a)
{
    memset(req, 0, sizeof(*req));
    read_params(req, fr->envp);
    if (req->method_name == NULL)
        req->method_name = "GET";
    req->method = rst_method_parse(req->method_name);
    const char *uri = req->path ? req->path : "/";
    const char *q = strchr(uri, '?');
    req->path = q ? rst_arena_strndup(a, uri, (size_t)(q - uri)) : uri;
    req->query = q ? q + 1 : NULL;
    if (req->request_id == NULL || req->request_id[0] == '\0')
        req->request_id = "-";
    if (req->path == NULL)
        return -1;
    return read_body(req, fr, a);
}
