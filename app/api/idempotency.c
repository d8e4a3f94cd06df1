/* idempotency.c -- storing and replaying POST answers (see idempotency.h). */
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/num.h"
#include "api/idempotency.h"

#define PENDING_TTL_S 120          /* longer than any request may run */
#define DONE_TTL_S    86400
#define UNKNOWN_TTL_S 3600         /* an outcome nobody could learn */

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
    rst_key_idempotency(c->svc->cache, &st->key, hex);
}

/* A stored value, read strictly: "P <body hash>" while the first request
 * runs, "D <body hash> <status> <location length> <location><body>" once it
 * answered. The hash is 32 hex digits. */
typedef struct {
    char        kind;           /* 'P' or 'D' */
    const char *hash;           /* 32 characters, not terminated */
    int         status;
    const char *location;
    size_t      loclen;
    const char *body;
    size_t      body_len;
} stored_answer;

static int parse_stored(const char *v, size_t len, stored_answer *out)
{
    /* "P <hash>" is 34 bytes exactly; a "D ..." record is longer. (This
     * once asked for 35 even of a P record: every claim read as corrupt,
     * was dropped, and a repeat ran again instead of getting 409.) */
    if (len < 34 || (v[0] != 'P' && v[0] != 'D') || v[1] != ' ')
        return -1;
    out->kind = v[0];
    out->hash = v + 2;
    if (out->kind == 'P')
        return len == 34 ? 0 : -1;
    if (len < 35)
        return -1;
    size_t at = 34, n;
    uint64_t status, loclen;
    if (v[at++] != ' ' || (n = rst_parse_u64(v + at, &status)) == 0 || status < 200 ||
        status > 299 || v[at + n] != ' ')
        return -1;
    at += n + 1;
    if ((n = rst_parse_u64(v + at, &loclen)) == 0 || v[at + n] != ' ')
        return -1;
    at += n + 1;
    if (loclen >= 256 || loclen > len - at)
        return -1;
    out->status = (int)status;
    out->location = v + at;
    out->loclen = (size_t)loclen;
    out->body = v + at + loclen;
    out->body_len = len - at - (size_t)loclen;
    return 0;
}

static void replay(rst_ctx *c, const stored_answer *sa)
{
    c->resp->status = sa->status;
    if (sa->loclen > 0) {
        char loc[256];
        snprintf(loc, sizeof(loc), "%.*s", (int)sa->loclen, sa->location);
        rst_response_header(c->resp, "Location", loc);
    }
    rst_response_header(c->resp, "Idempotent-Replayed", "true");
    rst_buf_append(c->resp->body, sa->body, sa->body_len);
}

/* 1 when the answer is written; 0 when the stored value is unreadable
 * (foreign or corrupt): it is dropped and the request runs. */
static int answer_existing(rst_ctx *c, rst_idem *st, const char *v, size_t len)
{
    stored_answer sa;
    if (parse_stored(v, len, &sa) != 0) {
        rst_log_warn("request %s: unreadable idempotency record dropped", c->req->request_id);
        rst_cache_del(c->svc->cache, &st->key);
        return 0;
    }
    if (memcmp(sa.hash, st->body_hash, 32) != 0) {
        rst_response_error(c->resp, 422, "idempotency_key_reused",
                           "this Idempotency-Key was used with a different request body");
        return 1;
    }
    if (sa.kind == 'P') {
        rst_response_error(c->resp, 409, "conflict",
                           "a request with this Idempotency-Key is still in progress");
        return 1;
    }
    replay(c, &sa);
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
    for (int attempt = 0; attempt < 2; attempt++) {
        int claimed = rst_cache_claim(cache, &st->key, pending, (size_t)n, PENDING_TTL_S);
        if (claimed < 0) {
            rst_log_warn("request %s: Redis unavailable: Idempotency-Key not enforced",
                         c->req->request_id);
            return 0;
        }
        if (claimed == 1) {
            st->active = 1;
            return 0;
        }
        char *v;
        size_t len;
        if (rst_cache_get(cache, c->arena, &st->key, &v, &len) != 1)
            continue;              /* expired in between: claim it again */
        if (answer_existing(c, st, v, len))
            return 1;
        /* an unreadable record was dropped: claim it again */
    }
    return 0;
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
    /* Nobody could tell whether the write happened: keep the claim for
     * UNKNOWN_TTL_S, so a retry meanwhile gets 409 rather than a second
     * copy of a write that may stand (docs/OPERATIONS.md §7). */
    if (rst_store_outcome_unknown()) {
        char pending[40];
        int n = snprintf(pending, sizeof(pending), "P %s", st->body_hash);
        if (rst_cache_set(cache, &st->key, pending, (size_t)n, UNKNOWN_TTL_S) != 0)
            rst_log_warn("request %s: could not keep the Idempotency-Key claimed",
                         c->req->request_id);
        return;
    }
    if (resp->status < 200 || resp->status > 299 || resp->body->oom) {
        rst_cache_del(cache, &st->key);
        return;
    }
    size_t loclen;
    const char *loc = location_of(resp, &loclen);
    rst_buf v;
    rst_buf_init(&v);
    rst_buf_printf(&v, "D %s %d %zu ", st->body_hash, resp->status, loclen);
    rst_buf_append(&v, loc, loclen);
    rst_buf_append(&v, resp->body->data, resp->body->len);
    if (v.oom || rst_cache_set(cache, &st->key, v.data, v.len, DONE_TTL_S) != 0) {
        rst_log_warn("request %s: could not store the idempotent answer", c->req->request_id);
        rst_cache_del(cache, &st->key);
    }
    rst_buf_free(&v);
}
