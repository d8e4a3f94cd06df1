/* test_redis_ha.c -- Redis failover under load: the test stack's Redis
 * master (redis) is stopped while wrk loads GET /timeline (a signed-in
 * route that reads Redis on every request); the three sentinels promote
 * the replica (redis2) and roostd, which asks them for the master, goes on
 * with it. No answer may be an error, and the window -- from the stop
 * until roostd's workers use the new master again -- is measured and
 * printed. Afterwards the old master is brought back and made the master
 * again (SENTINEL FAILOVER), so the suites after this one find the stack
 * as it was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accounts.h"
#include "suites.h"

#define MASTER_NAME "roost"

/* One command (argv, no format string) on 127.0.0.1:port; the reply is
 * the caller's, NULL when it cannot be reached. */
static redisReply *at(int port, int argc, const char **argv)
{
    struct timeval tv = { 0, 300 * 1000 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (c == NULL || c->err) {
        if (c != NULL)
            redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    size_t lens[8];
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    redisReply *r = redisCommandArgv(c, argc, argv, lens);
    redisFree(c);
    return r;
}

/* The master's port as the first sentinel that answers names it; -1. */
static int master_port(void)
{
    const rst_config *cfg = api_stack_config();
    const char *argv[] = { "SENTINEL", "get-master-addr-by-name", MASTER_NAME };
    for (int i = 0; cfg != NULL && i < cfg->redis_nsentinels; i++) {
        redisReply *r = at(cfg->redis_sentinel_port[i], 3, argv);
        int port = -1;
        if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements == 2)
            port = atoi(r->element[1]->str);
        if (r != NULL)
            freeReplyObject(r);
        if (port > 0)
            return port;
    }
    return -1;
}

/* Sentinels find the replica (from the master's INFO, every 10 s) and
 * each other (hello messages) by themselves a while after they start:
 * each must know one replica and two other sentinels before a failover can
 * happen. */
static int await_sentinels(double limit)
{
    const rst_config *cfg = api_stack_config();
    const char *reps[] = { "SENTINEL", "replicas", MASTER_NAME };
    const char *sents[] = { "SENTINEL", "sentinels", MASTER_NAME };
    double t0 = api_now_s();
    while (api_now_s() - t0 < limit) {
        int ready = 0;
        for (int i = 0; cfg != NULL && i < cfg->redis_nsentinels; i++) {
            redisReply *a = at(cfg->redis_sentinel_port[i], 3, reps);
            redisReply *b = at(cfg->redis_sentinel_port[i], 3, sents);
            ready += a != NULL && a->type == REDIS_REPLY_ARRAY && a->elements == 1 &&
                     b != NULL && b->type == REDIS_REPLY_ARRAY && b->elements == 2;
            if (a != NULL)
                freeReplyObject(a);
            if (b != NULL)
                freeReplyObject(b);
        }
        if (cfg != NULL && ready == cfg->redis_nsentinels)
            return 0;
        usleep(250 * 1000);
    }
    return -1;
}

/* "master", "slave" (with its link up) or NULL. */
static const char *role_of(int port)
{
    const char *argv[] = { "ROLE" };
    redisReply *r = at(port, 1, argv);
    const char *role = NULL;
    if (r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements >= 1) {
        if (strcmp(r->element[0]->str, "master") == 0)
            role = "master";
        else if (strcmp(r->element[0]->str, "slave") == 0 && r->elements >= 4 &&
                 strcmp(r->element[3]->str, "connected") == 0)
            role = "slave";
    }
    if (r != NULL)
        freeReplyObject(r);
    return role;
}

static int await_role(int port, const char *want, double limit)
{
    double t0 = api_now_s();
    while (api_now_s() - t0 < limit) {
        const char *r = role_of(port);
        if (r != NULL && strcmp(r, want) == 0)
            return 0;
        usleep(100 * 1000);
    }
    return -1;
}

static void sentinels_set(const char *option, const char *value)
{
    const rst_config *cfg = api_stack_config();
    const char *argv[] = { "SENTINEL", "SET", MASTER_NAME, option, value };
    for (int i = 0; cfg != NULL && i < cfg->redis_nsentinels; i++) {
        redisReply *r = at(cfg->redis_sentinel_port[i], 5, argv);
        if (r == NULL || r->type == REDIS_REPLY_ERROR)
            fprintf(stderr, "redis_ha: SENTINEL SET %s %s on %d failed\n", option, value,
                    cfg->redis_sentinel_port[i]);
        if (r != NULL)
            freeReplyObject(r);
    }
}

/* The stack's own master (redis) made the master again, whatever the test
 * left: started, a replica of whoever is master, then failed over to. */
static void ha_restore(void)
{
    const rst_config *cfg = api_stack_config();
    if (cfg == NULL || cfg->redis_nsentinels == 0)
        return;
    int home = cfg->redis_port;
    if (api_stack("start", "redis") != 0)
        fprintf(stderr, "redis_ha: could not start redis\n");
    if (master_port() != home) {
        const char *argv[] = { "SENTINEL", "FAILOVER", MASTER_NAME };
        if (await_role(home, "slave", 20) != 0 || await_sentinels(30) != 0)
            fprintf(stderr, "redis_ha: redis did not become a replica the sentinels know\n");
        for (int tries = 0; tries < 5 && master_port() != home; tries++) {
            redisReply *r = at(cfg->redis_sentinel_port[0], 3, argv);
            if (r != NULL)
                freeReplyObject(r);
            double t0 = api_now_s();
            while (api_now_s() - t0 < 8 && master_port() != home)
                usleep(100 * 1000);
        }
    }
    if (master_port() != home || await_role(home, "master", 10) != 0)
        fprintf(stderr, "redis_ha: redis is not the master again\n");
    if (await_role(home + 1, "slave", 20) != 0)
        fprintf(stderr, "redis_ha: redis2 is not a replica again\n");
    sentinels_set("down-after-milliseconds", "60000");
}

/* A product's cached copy shows that a worker reads and fills Redis (the
 * master) again: deleted there, read once, there again. */
static int cache_fills(int master, const char *pid)
{
    char key[96], path[64], accept[96];
    snprintf(key, sizeof(key), "%sproduct:%s", api_redis_prefix(), pid);
    snprintf(path, sizeof(path), "/product/%s", pid);
    const char *del[] = { "DEL", key }, *exists[] = { "EXISTS", key };
    redisReply *r = at(master, 2, del);
    if (r == NULL)
        return 0;
    freeReplyObject(r);
    api_resp resp;
    const char *h[] = { NULL, NULL };
    char ah[128];
    snprintf(ah, sizeof(ah), "Accept: %s", api_unique_accept(accept, sizeof(accept)));
    h[0] = ah;
    if (api_get_h(&resp, path, h) != 0)
        return 0;
    int ok = resp.status == 200;
    api_free(&resp);
    r = at(master, 2, exists);
    ok = ok && r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    if (r != NULL)
        freeReplyObject(r);
    return ok;
}

/* wrk's summary: requests, non-2xx answers, socket errors. */
typedef struct {
    long requests, non2xx, errors;
} wrk_result;

static void parse_wrk(const char *out, wrk_result *w)
{
    const char *p = strstr(out, " requests in ");
    w->requests = -1;
    if (p != NULL) {
        while (p > out && p[-1] != '\n' && p[-1] != ' ')
            p--;
        w->requests = strtol(p, NULL, 10);
    }
    p = strstr(out, "Non-2xx or 3xx responses:");
    w->non2xx = p ? strtol(p + 25, NULL, 10) : 0;
    w->errors = 0;
    p = strstr(out, "Socket errors:");
    if (p != NULL) {
        /* "Socket errors: connect 0, read 0, write 0, timeout 0" */
        for (const char *q = p; *q && *q != '\n'; q++)
            if (*q >= '1' && *q <= '9' && q[-1] == ' ')
                w->errors += strtol(q, NULL, 10);
    }
}

START_TEST(master_failed_over_under_load_costs_no_errors)
{
    const rst_config *cfg = api_stack_config();
    ck_assert_ptr_nonnull(cfg);
    ck_assert_msg(cfg->redis_nsentinels == 3, "the test stack should name three sentinels");
    int home = cfg->redis_port, other = cfg->redis_port + 1;
    ck_assert_msg(master_port() == home, "the sentinels' master is %d, want %d", master_port(), home);
    ck_assert_msg(await_role(other, "slave", 20) == 0, "redis2 is not a connected replica");
    ck_assert_msg(await_sentinels(30) == 0, "the sentinels do not know the replica and each other");
    char pid[32];
    ck_assert_int_eq(api_product_id(0, pid, sizeof(pid)), 0);
    ck_assert_msg(cache_fills(home, pid), "no cache fill before the failover");
    acct_user u;
    acct_user_new(&u, "ha");
    sentinels_set("down-after-milliseconds", "1000");

    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "wrk -t2 -c8 -d14s -H 'Accept: application/json' "
             "-H 'Authorization: Bearer %s' '%s/timeline' 2>&1", u.tok, api_base());
    FILE *wrk = popen(cmd, "r");
    ck_assert_ptr_nonnull(wrk);
    sleep(2);

    double t0 = api_now_s();
    ck_assert_int_eq(api_stack("stop", "redis"), 0);
    double promoted = -1, filled = -1;
    int in_a_row = 0;
    while (api_now_s() - t0 < 10 && in_a_row < 5) {
        int m = master_port();
        if (promoted < 0 && m == other && role_of(other) != NULL && strcmp(role_of(other), "master") == 0)
            promoted = api_now_s() - t0;
        if (m == other && cache_fills(other, pid)) {
            if (in_a_row++ == 0)
                filled = api_now_s() - t0;
        } else {
            in_a_row = 0;
            filled = -1;
        }
        usleep(50 * 1000);
    }
    char out[8192];
    size_t n = fread(out, 1, sizeof(out) - 1, wrk);
    out[n] = '\0';
    int wrc = pclose(wrk);
    wrk_result w;
    parse_wrk(out, &w);
    fprintf(stderr, "redis_ha: master stopped; replica promoted after %.2f s; roostd filling the "
            "new master's cache after %.2f s; under load: %ld requests, %ld non-2xx, %ld socket errors\n",
            promoted, filled, w.requests, w.non2xx, w.errors);
    ck_assert_msg(wrc == 0 && w.requests > 0, "wrk failed: %s", out);
    ck_assert_msg(promoted >= 0, "the sentinels did not promote redis2 within 10 s");
    ck_assert_msg(filled >= 0, "roostd did not use the new master within 10 s of the stop");
    ck_assert_msg(w.non2xx == 0 && w.errors == 0, "errors under the failover: %s", out);
}
END_TEST

Suite *suite_redis_ha(void)
{
    Suite *s = suite_create("redis_ha");
    TCase *tc = api_tcase(s, "failover");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, NULL, ha_restore);
    tcase_add_unchecked_fixture(tc, NULL, ha_restore);
    tcase_add_test(tc, master_failed_over_under_load_costs_no_errors);
    return s;
}
