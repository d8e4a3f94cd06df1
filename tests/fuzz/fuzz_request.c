/* fuzz_request.c -- libFuzzer target: one FastCGI request, from its params
 * and stdin to the answer's head, through roostd's real pipeline.
 *
 * Input: "NAME=value" lines (the FastCGI params nginx sends: REQUEST_URI
 * with its query string, REQUEST_METHOD, HTTP_* headers, CONTENT_TYPE,
 * CONTENT_LENGTH, ...), an empty line, then the body (stdin). The request
 * is built by rst_request_read() from a libfcgi request whose stream holds
 * the body, handled by rst_app_handle() with roostd's route tables against
 * a dead stack (fuzz.h) with a scoreboard of its own, and its head written by rst_response_head(): the
 * path parsing, the router, Accept, the token, Content-Type, the strict JSON
 * layer and every handler's check step all see the input. Checked beyond
 * the sanitizers: every answer has a status from 200 to 599 and a JSON body
 * (/metrics aside) that cJSON reads. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/request.h"
#include "api/response.h"
#include "roostd/scoreboard.h"
#include "fuzz.h"

#define MAX_PARAMS 64

/* Splits the input into params (NUL-terminated copies in `store`) and the
 * body; returns the number of params. */
static int split_input(const uint8_t *data, size_t size, char *store, char **envp,
                       const uint8_t **body, size_t *body_len)
{
    int n = 0;
    size_t i = 0;
    memcpy(store, data, size);
    while (i < size) {
        char *line = store + i;
        char *nl = memchr(line, '\n', size - i);
        size_t len = nl ? (size_t)(nl - line) : size - i;
        i += len + (nl != NULL);
        if (len == 0)
            break;                        /* the empty line: the body follows */
        line[len] = '\0';                 /* overwrites the '\n' (or the copy's spare byte) */
        if (n < MAX_PARAMS)
            envp[n++] = line;
    }
    envp[n] = NULL;
    *body = data + i;
    *body_len = size - i;
    return n;
}

/* A reader stream over the body that is closed at its end, so libfcgi's
 * FCGX_GetStr returns what is there and never asks for more. */
static void stream_over(FCGX_Stream *s, const uint8_t *body, size_t len)
{
    memset(s, 0, sizeof(*s));
    s->rdNext = (unsigned char *)body;
    s->stop = (unsigned char *)body + len;
    s->stopUnget = s->rdNext;
    s->isReader = 1;
    s->isClosed = 1;
}

static void check_answer(const rst_response *resp, const rst_buf *body, const char *route)
{
    if (resp->status < 200 || resp->status > 599)
        abort();
    if (body->len == 0 || strcmp(route, "metrics") == 0)
        return;
    cJSON *j = cJSON_ParseWithLength(body->data, body->len);
    if (j == NULL) {
        fprintf(stderr, "route %s answered %d with a body that is not JSON: %.*s\n", route,
                resp->status, (int)body->len, body->data);
        abort();
    }
    cJSON_Delete(j);
}

/* libFuzzer's entry point (it declares none). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A pool's scoreboard as roostd maps it (two slots), for /status and
 * /metrics: roostd always passes one. */
static const rst_scoreboard *scoreboard(void)
{
    static rst_scoreboard *sb;
    if (sb == NULL && (sb = rst_scoreboard_map(2, rst_app_route_count())) == NULL)
        abort();
    return sb;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rst_services *svc = fuzz_services();
    const rst_scoreboard *sb = scoreboard();
    char *store = malloc(size + 1);
    char *envp[MAX_PARAMS + 1];
    const uint8_t *body;
    size_t body_len;
    if (store == NULL)
        return 0;
    split_input(data, size, store, envp, &body, &body_len);

    FCGX_Stream in;
    stream_over(&in, body, body_len);
    FCGX_Request fr;
    memset(&fr, 0, sizeof(fr));
    fr.envp = envp;
    fr.in = &in;

    rst_arena arena;
    rst_arena_init(&arena, 4096);
    rst_request req;
    rst_buf out, head;
    rst_buf_init(&out);
    rst_buf_init(&head);
    if (rst_request_read(&req, &fr, &arena) == 0) {
        rst_response resp;
        int send_body;
        rst_response_init(&resp, &out);
        const char *route = rst_app_handle(svc, sb, &req, &resp, &arena);
        if (route == NULL)
            abort();
        check_answer(&resp, &out, route);
        (void)rst_response_head(&resp, &req, &head, &send_body);
    }
    rst_buf_free(&out);
    rst_buf_free(&head);
    rst_arena_free(&arena);
    free(store);
    return 0;
}
