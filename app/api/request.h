/* request.h -- one HTTP request as roostd sees it through FastCGI.
 *
 * The strings point into libfcgi's parameters, which live until
 * FCGX_Finish_r() -- after the response is sent -- or into the request's
 * arena (the path, the body), freed whole after the response. */
#ifndef ROOST_API_REQUEST_H
#define ROOST_API_REQUEST_H

#include <stddef.h>
#include <fcgiapp.h>

#include "core/arena.h"
#include "http/router.h"

#define RST_BODY_MAX (64 * 1024)

typedef struct {
    rst_method  method;
    const char *method_name;
    const char *path;            /* request URI up to '?' */
    const char *query;           /* after '?', NULL when none */
    const char *accept;          /* NULL when absent */
    const char *content_type;
    const char *authorization;
    const char *if_none_match;
    const char *cache_control;   /* the request's Cache-Control, NULL when absent */
    const char *idempotency_key;
    const char *failpoint;       /* X-Roost-Failpoint (honoured by test stacks only) */
    const char *request_id;      /* nginx's $request_id, or "-" */
    const char *remote_addr;
    const char *content_length;
    const char *body;            /* NUL-terminated for convenience */
    size_t      body_len;
    int         body_too_large;  /* CONTENT_LENGTH above RST_BODY_MAX */
    /* Told the route's name once the pipeline has chosen it (NULL: nobody
     * asks): the worker puts it where the master's slow log finds it. */
    void      (*on_route)(void *arg, const char *route);
    void       *on_route_arg;
} rst_request;

/* Fills req from the FastCGI request and reads the whole body (draining
 * stdin even when it is too large, so a kept connection stays in sync).
 * 0 on success, -1 on allocation failure or a broken stream. */
int rst_request_read(rst_request *req, FCGX_Request *fr, rst_arena *a);

/* 1 when the request's Cache-Control asks that no stored answer serve it
 * (the no-cache or max-age=0 directive, RFC 9111 §5.2.1): the worker's
 * hot copies then do not (lib/store/hotcache.h). */
int rst_request_no_cache(const rst_request *req);

/* Reads and discards what is left of stdin, so that the next request on a
 * kept connection starts at a record boundary. */
void rst_request_drain(FCGX_Request *fr);

#endif
