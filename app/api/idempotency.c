/* idempotency.c -- storing and replaying POST answers (see idempotency.h). */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "api/idempotency.h"

#define PENDING_TTL_S 120          /* longer than any request may run */
#define DONE_TTL_S    86400

int rst_idem_key_valid(const char *v)
{
    size_t n = strlen(v);
    if (n < 1 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
            return 0;
    return 1;
}

static void hex_hash(const void *data, size_t len, char out[33])
{
    unsigned char h[16];
    crypto_generichash(h, sizeof(h), data, len, NULL, 0);
    sodium_bin2hex(out, 33, h, sizeof(h));
}

/* The Redis key covers scope, method, path and the client's key. */
static void make_key(rst_ctx *c, rst_idem *st)
{
    crypto_generichash_state hs;
    unsigned char h[16];
    char scope[48], hex[33];
    if (c->auth.present)
        snprintf(scope, sizeof(scope), "u:%" PRIu64, c->auth.user_id);
    else
        snprintf(scope, sizeof(scope), "a:%s", st->body_hash);
    crypto_generichash_init(&hs, NULL, 0, sizeof(h));
    const char *parts[] = { scope, c->req->method_name, c->req->path, c->req->idempotency_key };
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
        crypto_generichash_update(&hs, (const unsigned char *)parts[i], strlen(parts[i]) + 1);
    crypto_generichash_final(&hs, h, sizeof(h));
    sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
    snprintf(st->key, sizeof(st->key), "idem:%s", hex);
}

/* Stored answer: "D <body hash> <status> <location length> <location><body>". */
static void replay(rst_ctx *c, const char *v, size_t len)
{
    char hash[33];
    int status, loclen, used = 0;
    if (sscanf(v, "D %32s %d %d %n", hash, &status, &loclen, &used) != 3 || used <= 0 ||
        loclen < 0 || (size_t)used + (size_t)loclen > len) {
        rst_response_error(c->resp, 500, "internal_error", "stored idempotent answer is unreadable");
        return;
    }
    c->resp->status = status;
    if (loclen > 0) {
        char loc[256];
        snprintf(loc, sizeof(loc), "%.*s", loclen, v + used);
        rst_response_header(c->resp, "Location", loc);
    }
    rst_response_header(c->resp, "Idempotent-Replayed", "true");
    rst_buf_append(c->resp->body, v + used + loclen, len - (size_t)used - (size_t)loclen);
}

static int answer_existing(rst_ctx *c, rst_idem *st, const char *v, size_t len)
{
    char hash[33] = "";
    if (len > 2)
        sscanf(v + 2, "%32s", hash);
    if (strcmp(hash, st->body_hash) != 0) {
        rst_response_error(c->resp, 422, "idempotency_key_reused",
                           "this Idempotency-Key was used with a different request body");
        return 1;
    }
    if (v[0] == 'P') {
        rst_response_error(c->resp, 409, "conflict",
                           "a request with this Idempotency-Key is still in progress");
        return 1;
    }
    replay(c, v, len);
    return 1;
}

int rst_idem_begin(rst_ctx *c, rst_idem *st)
{
    rst_cache *cache = c->svc->cache;
    memset(st, 0, sizeof(*st));
    hex_hash(c->req->body, c->req->body_len, st->body_hash);
    make_key(c, st);
    char pending[40];
    int n = snprintf(pending, sizeof(pending), "P %s", st->body_hash);
    redisReply *r = rst_cache_command(cache, "SET %s%s %b NX EX %d", rst_cache_prefix(cache),
                                      st->key, pending, (size_t)n, PENDING_TTL_S);
    if (r == NULL) {
        rst_log_warn("request %s: Redis unavailable: Idempotency-Key not enforced",
                     c->req->request_id);
        return 0;
    }
    int claimed = r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    if (claimed) {
        st->active = 1;
        return 0;
    }
    char *v;
    size_t len;
    if (rst_cache_get(cache, c->arena, st->key, &v, &len) != 1)
        return 0;                  /* expired in between: just run */
    return answer_existing(c, st, v, len);
}

static const char *location_of(const rst_response *r, size_t *len)
{
    const char *p = strstr(r->headers, "Location: ");
    if (p == NULL) {
        *len = 0;
        return "";
    }
    p += 10;
    const char *end = strstr(p, "\r\n");
    *len = end ? (size_t)(end - p) : strlen(p);
    return p;
}

void rst_idem_finish(rst_ctx *c, rst_idem *st)
{
    if (!st->active)
        return;
    rst_cache *cache = c->svc->cache;
    rst_response *resp = c->resp;
    if (resp->status < 200 || resp->status > 299 || resp->body->oom) {
        rst_cache_del(cache, st->key);
        return;
    }
    size_t loclen;
    const char *loc = location_of(resp, &loclen);
    rst_buf v;
    rst_buf_init(&v);
    rst_buf_printf(&v, "D %s %d %zu ", st->body_hash, resp->status, loclen);
    rst_buf_append(&v, loc, loclen);
    rst_buf_append(&v, resp->body->data, resp->body->len);
    if (v.oom || rst_cache_set(cache, st->key, v.data, v.len, DONE_TTL_S) != 0) {
        rst_log_warn("request %s: could not store the idempotent answer", c->req->request_id);
        rst_cache_del(cache, st->key);
    }
    rst_buf_free(&v);
}
