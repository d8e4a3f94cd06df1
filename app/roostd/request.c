/* request.c -- building rst_request from FastCGI params and stdin. */
#include <stdlib.h>
#include <string.h>

#include "roostd/request.h"

static const char *param(FCGX_Request *fr, rst_arena *a, const char *name)
{
    const char *v = FCGX_GetParam(name, fr->envp);
    return v ? rst_arena_strdup(a, v) : NULL;
}

/* Reads and discards what is left of stdin, so that the next request on a
 * kept connection starts at a record boundary. */
static void drain(FCGX_Request *fr)
{
    char sink[4096];
    while (FCGX_GetStr(sink, sizeof(sink), fr->in) > 0)
        ;
}

static int read_body(rst_request *req, FCGX_Request *fr, rst_arena *a)
{
    const char *cl = FCGX_GetParam("CONTENT_LENGTH", fr->envp);
    long want = cl && *cl ? strtol(cl, NULL, 10) : 0;
    if (want < 0)
        want = 0;
    if (want > RST_BODY_MAX) {
        req->body_too_large = 1;
        drain(fr);
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
    drain(fr);               /* a body longer than announced is ignored */
    req->body = buf;
    req->body_len = got;
    return 0;
}

int rst_request_read(rst_request *req, FCGX_Request *fr, rst_arena *a)
{
    memset(req, 0, sizeof(*req));
    req->method_name = param(fr, a, "REQUEST_METHOD");
    if (req->method_name == NULL)
        req->method_name = "GET";
    req->method = rst_method_parse(req->method_name);
    const char *uri = FCGX_GetParam("REQUEST_URI", fr->envp);
    if (uri == NULL)
        uri = FCGX_GetParam("DOCUMENT_URI", fr->envp);
    if (uri == NULL)
        uri = "/";
    const char *q = strchr(uri, '?');
    req->path = q ? rst_arena_strndup(a, uri, (size_t)(q - uri)) : rst_arena_strdup(a, uri);
    req->query = q ? rst_arena_strdup(a, q + 1) : NULL;
    req->accept = param(fr, a, "HTTP_ACCEPT");
    req->content_type = param(fr, a, "CONTENT_TYPE");
    req->authorization = param(fr, a, "HTTP_AUTHORIZATION");
    req->if_none_match = param(fr, a, "HTTP_IF_NONE_MATCH");
    req->idempotency_key = param(fr, a, "HTTP_IDEMPOTENCY_KEY");
    req->request_id = param(fr, a, "HTTP_X_REQUEST_ID");
    req->remote_addr = param(fr, a, "REMOTE_ADDR");
    if (req->request_id == NULL || req->request_id[0] == '\0')
        req->request_id = "-";
    if (req->path == NULL)
        return -1;
    return read_body(req, fr, a);
}
