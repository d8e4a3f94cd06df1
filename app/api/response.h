/* response.h -- building and sending one HTTP response over FastCGI.
 *
 * Handlers write the JSON body into resp->body (the worker's reusable
 * buffer) and set status and headers; rst_response_send() adds the
 * conventions of API.md §1.2 and §1.5 in one place: Content-Type, ETag and
 * 304 on 200 GETs, Cache-Control, no body on HEAD. */
#ifndef ROOST_API_RESPONSE_H
#define ROOST_API_RESPONSE_H

#include <fcgiapp.h>

#include "core/buf.h"
#include "api/request.h"

#define RST_MAX_FIELD_ERRORS 16

typedef enum {
    RST_CACHE_NONE = 0,     /* errors and writes: no Cache-Control */
    RST_CACHE_PUBLIC,       /* public, max-age=1 */
    RST_CACHE_PRIVATE       /* private, no-cache */
} rst_cache_policy;

typedef struct {
    const char *field;
    const char *message;
} rst_field_error;

typedef struct {
    int               status;
    rst_buf          *body;
    char              headers[1024];   /* extra "Name: value\r\n" lines */
    size_t            hlen;
    const char       *overflow;        /* first header that did not fit: the answer becomes a 500 */
    rst_cache_policy  cache;
    const char       *content_type;    /* NULL: application/json; charset=utf-8 */
    rst_field_error   fields[RST_MAX_FIELD_ERRORS];
    int               nfields;
} rst_response;

void rst_response_init(rst_response *r, rst_buf *body);
/* Adds a header line. One that does not fit is never dropped silently:
 * it is logged and the answer becomes a 500 when it is sent. */
void rst_response_header(rst_response *r, const char *name, const char *value);

/* A JSON error body per API.md §1.3 (replaces any body written so far). */
void rst_response_error(rst_response *r, int status, const char *code, const char *message);

/* Collects one invalid field; rst_response_validation_failed() then writes
 * the 422 with every collected field. */
void rst_response_field(rst_response *r, const char *field, const char *message);
int  rst_response_has_fields(const rst_response *r);
void rst_response_validation_failed(rst_response *r);

/* Settles the answer and writes its CGI head (Status, Content-Type,
 * Cache-Control, ETag, the extra headers, Content-Length, blank line) into
 * head: ETag and 304 on 200 GETs, no body on HEAD, 204 and 304. *send_body
 * says whether the body follows. 0, or -1 on out of memory. */
int rst_response_head(rst_response *r, const rst_request *req, rst_buf *head, int *send_body);

/* Writes the response. Returns 0, or -1 when the connection broke. */
int rst_response_send(rst_response *r, const rst_request *req, FCGX_Request *fr);

/* Exposed for tests: does an If-None-Match value match etag ("\"...\"")? */
int rst_etag_matches(const char *if_none_match, const char *etag);

const char *rst_status_text(int status);

#endif
