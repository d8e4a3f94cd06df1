/* h_ops.c -- the operations endpoints of API.md §7: /healthz and /readyz. */
#include <stdio.h>

#include "roostd/handlers.h"

void rst_h_healthz(rst_ctx *c)
{
    c->resp->cache = RST_CACHE_PRIVATE;
    rst_buf_puts(c->resp->body, "{\"status\":\"ok\"}");
}

static void dependency(rst_buf *b, int first, const char *name, const char *kind,
                       int up, uint64_t usec)
{
    if (!first)
        rst_buf_putc(b, ',');
    rst_buf_puts(b, "{\"name\":");
    rst_json_str(b, name);
    rst_buf_puts(b, ",\"kind\":");
    rst_json_str(b, kind);
    rst_buf_puts(b, ",\"status\":");
    rst_json_str(b, up ? "up" : "down");
    rst_buf_printf(b, ",\"latency_ms\":%.3f}", (double)usec / 1000.0);
}

/* Ready when every shard primary, the catalog and Redis answer. Pings run
 * one after another: each is bounded by its connect timeout. */
void rst_h_readyz(rst_ctx *c)
{
    rst_services *s = c->svc;
    rst_buf *b = c->resp->body;
    int all_up = 1;
    uint64_t usec;
    char name[96];

    rst_buf_puts(b, "{\"dependencies\":[");
    int up = rst_db_ping(s->catalog, &usec) == RST_DB_OK;
    all_up &= up;
    dependency(b, 1, "catalog", "mariadb", up, usec);
    for (int i = 0; i < s->nshards; i++) {
        up = rst_db_ping(s->shards[i], &usec) == RST_DB_OK;
        all_up &= up;
        snprintf(name, sizeof(name), "shard %s", rst_db_name(s->shards[i]));
        dependency(b, 0, name, "mariadb", up, usec);
    }
    up = rst_cache_ping(s->cache, &usec) == 0;
    all_up &= up;
    dependency(b, 0, "redis", "redis", up, usec);
    rst_buf_puts(b, "],\"status\":");
    rst_json_str(b, all_up ? "ready" : "unavailable");
    rst_buf_putc(b, '}');
    c->resp->cache = RST_CACHE_PRIVATE;
    if (!all_up) {
        c->resp->status = 503;
        rst_response_header(c->resp, "Retry-After", "1");
    }
}
