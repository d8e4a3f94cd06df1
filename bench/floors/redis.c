/* redis.c -- the fcgi-redis floor: the fcgi-hello floor plus one Redis GET
 * per request, whose value (a product-sized JSON object, stored at start)
 * is the body. It is the floor of a cache-served read.
 * usage: fcgi-redis SOCKET WORKERS HOST PORT KEY */
#include <hiredis.h>

#include "prefork.h"

static const char *host, *key;
static int port;
static redisContext *ctx;

/* A product-like object, the size of what GET /product/{id} answers. */
static const char VALUE[] =
    "{\"product\":{\"id\":\"3051203584204816\",\"name\":\"Bench Mug 000001\",\"price\":537,"
    "\"img\":\"https://img.example.com/bench/product-000001.png\",\"description\":\"Benchmark "
    "product 1: a Mug that looks like a real catalog entry, with a description long enough to "
    "make the JSON about the size of a real product page's.\",\"state\":\"active\","
    "\"created_at\":\"2026-08-20T21:15:31.000Z\",\"updated_at\":\"2026-08-20T21:15:31.000Z\"}}";

static int connect_redis(void)
{
    struct timeval tv = { 1, 0 };
    if (ctx != NULL)
        redisFree(ctx);
    ctx = redisConnectWithTimeout(host, port, tv);
    if (ctx == NULL || ctx->err) {
        if (ctx != NULL)
            redisFree(ctx);
        ctx = NULL;
        return -1;
    }
    redisSetTimeout(ctx, tv);
    return 0;
}

static int floor_init(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: fcgi-redis SOCKET WORKERS HOST PORT KEY\n");
        return -1;
    }
    host = argv[0];
    port = atoi(argv[1]);
    key = argv[2];
    if (connect_redis() != 0)
        return 0;                      /* retried on the first request */
    redisReply *r = redisCommand(ctx, "SET %s %b", key, VALUE, sizeof(VALUE) - 1);
    if (r != NULL)
        freeReplyObject(r);
    return 0;
}

/* One GET; a broken connection (Redis restarted) is re-opened once. */
static redisReply *get_value(void)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (ctx == NULL && connect_redis() != 0)
            continue;
        redisReply *r = redisCommand(ctx, "GET %s", key);
        if (r != NULL)
            return r;
        redisFree(ctx);
        ctx = NULL;
    }
    return NULL;
}

static void floor_serve(FCGX_Request *req)
{
    static const char ERR[] = "{\"error\":{\"status\":502,\"code\":\"upstream_unavailable\"}}";
    redisReply *r = get_value();
    if (r != NULL && r->type == REDIS_REPLY_NIL) {
        /* Redis was restarted empty: put the value back. */
        freeReplyObject(r);
        r = redisCommand(ctx, "SET %s %b", key, VALUE, sizeof(VALUE) - 1);
        if (r != NULL)
            freeReplyObject(r);
        r = get_value();
    }
    if (r != NULL && r->type == REDIS_REPLY_STRING)
        floor_reply(req, 200, r->str, r->len);
    else
        floor_reply(req, 502, ERR, sizeof(ERR) - 1);
    if (r != NULL)
        freeReplyObject(r);
}

int main(int argc, char **argv)
{
    return floor_main(argc, argv);
}
