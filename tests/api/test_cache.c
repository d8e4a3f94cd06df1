/* test_cache.c -- API tests of nginx's micro-cache policy (API.md §1.5,
 * nginx/roost-site.conf.in): when an anonymous GET is stored (its second
 * request: min_uses), answered from the cache (HIT) or sent past it
 * (BYPASS); what the key is made of (the raw path and, for lists, limit,
 * page and cursor as roostd reads them -- unknown parameters share the
 * entry, a parameter in another case or percent-encoded never gets another
 * request's answer); which Accept values may use it (never one roostd
 * answers 440 or 406); and that nothing is served past the second it was
 * made in while roostd answers (the stale answer when roostd is down is
 * test_faults.c's). And the workers' hot copies of products, tweets and
 * pages of tweets (lib/store/hotcache.h): no answer, through nginx or
 * straight from a worker, is more than a second behind the newest write,
 * and a writer always reads its own write. The tests run against the test
 * stack's real nginx. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/fcgiclient.h"
#include "core/timefmt.h"
#include "suites.h"
#include "accounts.h"

/* ------------------------------------------------------------ helpers */

static char adm_tok[ACCT_TOKLEN];

static void accounts_setup(void)
{
    char name[ACCT_NAMELEN];
    if (adm_tok[0])
        return;
    acct_make_admin("cah", name, NULL, adm_tok);
}

static double now_s(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/* Sleeps until `frac` of a second past the start of the next second, so
 * that a few requests made next fall within one second (an entry lives
 * until the end of the second it was made in). */
static void sleep_to_second(double frac)
{
    double t = now_s();
    usleep((useconds_t)((1.0 - (t - (double)(long)t) + frac) * 1e6));
}

/* A product no earlier request asked for: its path is a key nginx has
 * never seen. */
static void fresh_product_path(char *path, size_t len)
{
    char name[64], body[160];
    api_resp r;
    ck_assert_msg(adm_tok[0], "no admin (roostctl user create --admin or its sign-in failed)");
    acct_unique_name(name, sizeof(name), "cache");
    snprintf(body, sizeof(body), "{\"name\":\"Cache %s\",\"price\":100}", name);
    api_ok(acct_req(&r, "POST", "/products", body, adm_tok, NULL));
    ck_assert_msg(r.status == 201, "create: %ld %s", r.status, r.body);
    snprintf(path, len, "/product/%s", api_json_str(&r, "product.id"));
    api_free(&r);
}

/* An anonymous GET with these extra header lines (NULL-terminated, may be
 * NULL); X-Cache copied into xc ("" when absent). */
static void get_xc(api_resp *r, const char *path, const char *const *headers, char *xc, size_t len)
{
    api_ok(api_get_h(r, path, headers));
    if (api_header(r, "X-Cache", xc, len) == NULL)
        xc[0] = '\0';
}

/* The X-Cache of an anonymous GET (status 200 asserted). */
static void expect_xc(const char *path, const char *want, const char *why)
{
    api_resp r;
    char xc[32];
    get_xc(&r, path, NULL, xc, sizeof(xc));
    ck_assert_msg(r.status == 200, "%s: GET %s: %ld %s", why, path, r.status, r.body);
    ck_assert_msg(strcmp(xc, want) == 0, "%s: GET %s: X-Cache \"%s\", want %s", why, path, xc, want);
    api_free(&r);
}

/* After a key's storing request, its next request should be a HIT; it can
 * be one more MISS when it reaches the other nginx worker before the first
 * one has renamed the stored file into place (the client gets the answer
 * first). Up to three tries; the body of the HIT is copied to body (may
 * be NULL). */
static void expect_hit_soon(const char *path, const char *why, char **body)
{
    char xc[32] = "";
    for (int i = 0; i < 3; i++) {
        api_resp r;
        get_xc(&r, path, NULL, xc, sizeof(xc));
        ck_assert_msg(r.status == 200, "%s: GET %s: %ld %s", why, path, r.status, r.body);
        int hit = strcmp(xc, "HIT") == 0;
        if (hit && body != NULL)
            *body = strdup(r.body);
        api_free(&r);
        if (hit)
            return;
        ck_assert_msg(strcmp(xc, "MISS") == 0, "%s: GET %s: X-Cache \"%s\"", why, path, xc);
    }
    ck_abort_msg("%s: GET %s: no HIT in three requests after the storing one", why, path);
}

/* Asks for path until nginx answers it from the cache; 1 when it did
 * within five tries. */
static int prime(const char *path)
{
    for (int i = 0; i < 5; i++) {
        api_resp r;
        char xc[32];
        get_xc(&r, path, NULL, xc, sizeof(xc));
        ck_assert_msg(r.status == 200, "GET %s: %ld %s", path, r.status, r.body);
        api_free(&r);
        if (strcmp(xc, "HIT") == 0)
            return 1;
    }
    return 0;
}

/* The "limit" a list answer says it used. */
static long list_limit(const api_resp *r)
{
    const cJSON *l = api_json_at(r, "limit");
    ck_assert_msg(cJSON_IsNumber(l), "no limit in the list: %s", r->body);
    return (long)l->valuedouble;
}

/* ------------------------------------------------------------ storing */

/* min_uses 2: the first request of a key is answered like a bypassed one
 * and stores nothing; the second is stored; the third is a HIT, and has
 * the same body. */
START_TEST(test_second_request_is_stored)
{
    char path[64];
    fresh_product_path(path, sizeof(path));
    sleep_to_second(0.02);
    api_resp r;
    char xc[32], *first;
    get_xc(&r, path, NULL, xc, sizeof(xc));
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strcmp(xc, "MISS") == 0, "first request: X-Cache \"%s\"", xc);
    first = strdup(r.body);
    api_free(&r);
    expect_xc(path, "MISS", "second request (stores)");
    char *hit = NULL;
    expect_hit_soon(path, "third request within the second", &hit);
    ck_assert_str_eq(hit, first);
    free(hit);
    free(first);
}
END_TEST

/* A key asked for once, then not for longer than `inactive` (10 s) starts
 * over: its next request is again a first one, which stores nothing. (The
 * node goes when the cache manager next wakes, which it does when the
 * oldest node is due, or after 10 s on an idle cache: a second or so
 * after `inactive`.) */
START_TEST(test_once_is_forgotten)
{
    char path[64];
    fresh_product_path(path, sizeof(path));
    expect_xc(path, "MISS", "first request");
    sleep(13);
    sleep_to_second(0.02);
    expect_xc(path, "MISS", "first request after the node expired");
    expect_xc(path, "MISS", "second request after the node expired (stores)");
    expect_hit_soon(path, "third request", NULL);
}
END_TEST

/* Requests with a token neither use nor fill the cache. */
START_TEST(test_token_never_cached)
{
    char path[64];
    const char *tok[] = { "Authorization: Bearer x", NULL };
    fresh_product_path(path, sizeof(path));
    sleep_to_second(0.02);
    for (int i = 0; i < 3; i++) {
        api_resp r;
        char xc[32];
        get_xc(&r, path, tok, xc, sizeof(xc));
        ck_assert_int_eq(r.status, 200);
        ck_assert_msg(strcmp(xc, "BYPASS") == 0, "with a token: X-Cache \"%s\"", xc);
        api_free(&r);
    }
    /* Three token requests counted for nothing: anonymous starts at 1. */
    expect_xc(path, "MISS", "first anonymous request after token ones");
    expect_xc(path, "MISS", "second anonymous request");
    expect_hit_soon(path, "third anonymous request", NULL);
    /* and a stored entry never answers a token */
    api_resp r;
    char xc[32];
    get_xc(&r, path, tok, xc, sizeof(xc));
    ck_assert_msg(strcmp(xc, "BYPASS") == 0, "token after a HIT: X-Cache \"%s\"", xc);
    api_free(&r);
}
END_TEST

/* ------------------------------------------------------------ the key */

/* Parameters a route does not read share the entry of the URL without
 * them: a single resource reads none, a list only limit, page, cursor. */
START_TEST(test_unknown_parameter_reuses_entry)
{
    char path[64], with[128];
    fresh_product_path(path, sizeof(path));
    sleep_to_second(0.02);
    ck_assert_msg(prime(path), "GET %s was never a HIT", path);
    snprintf(with, sizeof(with), "%s?_=%ld", path, (long)getpid());
    expect_xc(with, "HIT", "an unknown parameter on a product");
    snprintf(with, sizeof(with), "%s?limit=3&page=2", path);
    expect_xc(with, "HIT", "list parameters on a product (it reads none)");

    sleep_to_second(0.02);
    ck_assert_msg(prime("/products?limit=3"), "GET /products?limit=3 was never a HIT");
    snprintf(with, sizeof(with), "/products?limit=3&_=%ld", (long)getpid());
    expect_xc(with, "HIT", "an unknown parameter after limit");
    snprintf(with, sizeof(with), "/products?_=%ld&limit=3&Limit=9", (long)getpid());
    expect_xc(with, "HIT", "unknown parameters around limit");
}
END_TEST

/* roostd compares names case-sensitively after percent-decoding, and the
 * first pair of a name wins: each of these must get the answer roostd
 * gives it, never the entry of a look-alike. */
START_TEST(test_parameter_spellings)
{
    struct { const char *path; long limit; const char *xc; } cases[] = {
        { "/products?Limit=1",          20, NULL },      /* not "limit": the default */
        { "/products?LIMIT=1",          20, NULL },
        { "/products?xlimit=1",         20, NULL },
        { "/products?limitx=1",         20, NULL },
        { "/products?li%6Dit=1",         1, "BYPASS" }, /* decodes to limit */
        { "/products?%6cimit=1",         1, "BYPASS" },
        { "/products?limit=2&limit=1",   2, NULL },      /* the first wins */
        { "/products?x=limit%3D1",      20, NULL },      /* a value, not a name */
        { "/products?a=1&limit=1",       1, NULL },
    };
    for (int round = 0; round < 2; round++) {
        /* round 0 fills the cache with every spelling (each asked for
         * three times), round 1 checks them again from the cache */
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            for (int k = 0; k < 3; k++) {
                api_resp r;
                char xc[32];
                get_xc(&r, cases[i].path, NULL, xc, sizeof(xc));
                ck_assert_msg(r.status == 200, "GET %s: %ld %s", cases[i].path, r.status, r.body);
                ck_assert_msg(list_limit(&r) == cases[i].limit,
                              "GET %s (X-Cache %s): limit %ld, roostd reads %ld", cases[i].path, xc,
                              list_limit(&r), cases[i].limit);
                if (cases[i].xc != NULL)
                    ck_assert_msg(strcmp(xc, cases[i].xc) == 0, "GET %s: X-Cache \"%s\", want %s",
                                  cases[i].path, xc, cases[i].xc);
                api_free(&r);
            }
        }
    }
}
END_TEST

/* Host is not in the key: another Host gets the same entry. */
START_TEST(test_host_not_in_key)
{
    char path[64];
    const char *h[] = { "Host: another.example", NULL };
    fresh_product_path(path, sizeof(path));
    sleep_to_second(0.02);
    ck_assert_msg(prime(path), "GET %s was never a HIT", path);
    api_resp r;
    char xc[32];
    get_xc(&r, path, h, xc, sizeof(xc));
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strcmp(xc, "HIT") == 0, "another Host: X-Cache \"%s\"", xc);
    api_free(&r);
}
END_TEST

/* ------------------------------------------------------------ Accept */

/* The Accept values the site lets use the cache (map $roost_odd_accept):
 * roostd must answer each with 200, or a cached 200 would answer a request
 * roostd refuses. They share one entry. */
static const char *const cached_accepts[] = {
    "application/json", "application/json; charset=utf-8", "application/json;charset=utf-8",
    "*/*", "application/json, text/plain, */*", "APPLICATION/JSON",
};

START_TEST(test_cached_accepts_are_acceptable)
{
    char path[64], line[120];
    fresh_product_path(path, sizeof(path));
    for (size_t i = 0; i < sizeof(cached_accepts) / sizeof(cached_accepts[0]); i++) {
        /* roostd itself, past the cache */
        snprintf(line, sizeof(line), "Accept: %s", cached_accepts[i]);
        const char *h[] = { line, "Authorization: Bearer x", NULL };
        api_resp r;
        api_ok(api_get_h(&r, path, h));
        ck_assert_msg(r.status == 200, "roostd answers Accept \"%s\" with %ld", cached_accepts[i], r.status);
        api_free(&r);
    }
    sleep_to_second(0.02);
    ck_assert_msg(prime(path), "GET %s was never a HIT", path);
    for (size_t i = 0; i < sizeof(cached_accepts) / sizeof(cached_accepts[0]); i++) {
        snprintf(line, sizeof(line), "Accept: %s", cached_accepts[i]);
        const char *h[] = { line, NULL };
        api_resp r;
        char xc[32];
        get_xc(&r, path, h, xc, sizeof(xc));
        ck_assert_int_eq(r.status, 200);
        ck_assert_msg(strcmp(xc, "HIT") == 0, "Accept \"%s\": X-Cache \"%s\" (one shared entry)",
                      cached_accepts[i], xc);
        api_free(&r);
    }
}
END_TEST

/* Every other Accept value bypasses the cache: roostd answers it, 440, 406
 * or 200, and it never mints an entry. */
START_TEST(test_other_accepts_bypass)
{
    char path[64];
    fresh_product_path(path, sizeof(path));
    sleep_to_second(0.02);
    ck_assert_msg(prime(path), "GET %s was never a HIT", path);
    struct { const char *line; long status; } cases[] = {
        { "Accept:", 440 }, { "Accept;", 440 }, { "Accept: text/html", 406 },
        { "Accept: application/json;q=0", 406 }, { "Accept: application/json;q=0, */*", 406 },
        { "Accept: text/html, application/json;q=0.5", 200 },
        { "Accept: application/json, text/x-unusual", 200 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (int k = 0; k < 3; k++) {
            const char *h[] = { cases[i].line, NULL };
            api_resp r;
            char xc[32];
            get_xc(&r, path, h, xc, sizeof(xc));
            ck_assert_msg(r.status == cases[i].status, "%s: %ld, want %ld", cases[i].line, r.status,
                          cases[i].status);
            ck_assert_msg(strcmp(xc, "BYPASS") == 0, "%s: X-Cache \"%s\", want BYPASS", cases[i].line, xc);
            api_free(&r);
        }
    }
    /* HEAD is keyed apart from GET, and refused alike */
    const char *h[] = { "Accept:", NULL };
    api_resp r;
    api_ok(api_request(&r, "HEAD", path, NULL, 0, h));
    ck_assert_msg(r.status == 440, "HEAD without Accept on a cached URL: %ld", r.status);
    api_free(&r);
}
END_TEST

/* ------------------------------------------------------------ staleness */

/* An entry made early in a second is a HIT until that second ends and
 * never after it: the first request of the next second goes to roostd. */
START_TEST(test_entry_ends_with_its_second)
{
    char path[64];
    fresh_product_path(path, sizeof(path));
    sleep_to_second(0.02);
    ck_assert_msg(prime(path), "GET %s was never a HIT", path);
    double t = now_s();
    usleep((useconds_t)((0.85 - (t - (double)(long)t)) * 1e6));
    expect_xc(path, "HIT", "late in the second it was made in");
    sleep_to_second(0.05);
    api_resp r;
    char xc[32];
    get_xc(&r, path, NULL, xc, sizeof(xc));
    ck_assert_int_eq(r.status, 200);
    ck_assert_msg(strcmp(xc, "HIT") != 0, "the next second: X-Cache \"%s\" (an expired entry served)", xc);
    api_free(&r);
}
END_TEST

/* ------------------------------------------------------------ hot copies */

#define HOT_WRITES 2000

/* What the tests write and read back: a product's price (written by an
 * admin) or a tweet's message "v<N>" (by its author); version() finds the
 * number in an answer, write() sets it. */
typedef struct {
    char path[64];                /* what the readers read */
    char edit[64];                /* what the writer writes: path when empty */
    const char *token;
    char field[16];               /* "\"price\":" or "\"message\":\"v" */
    int  is_tweet;
} hot_subject;

static char twt_tok[ACCT_TOKLEN], twt_uid[32];

static void hot_product(hot_subject *h)
{
    fresh_product_path(h->path, sizeof(h->path));   /* price 100 */
    h->edit[0] = '\0';
    h->token = adm_tok;
    snprintf(h->field, sizeof(h->field), "\"price\":");
    h->is_tweet = 0;
}

static void hot_tweet(hot_subject *h)
{
    acct_user u;
    acct_user_new(&u, "hot");
    snprintf(twt_tok, sizeof(twt_tok), "%s", u.tok);
    char path[64];
    snprintf(path, sizeof(path), "/tweets/%s", u.id);
    api_resp r;
    api_ok(acct_req(&r, "POST", path, "{\"message\":\"v100\"}", u.tok, NULL));
    ck_assert_msg(r.status == 201, "POST %s: %ld %s", path, r.status, r.body);
    snprintf(h->path, sizeof(h->path), "/tweet/%s", api_json_str(&r, "tweet.id"));
    snprintf(h->edit, sizeof(h->edit), "%s", h->path);
    snprintf(twt_uid, sizeof(twt_uid), "%s", u.id);
    api_free(&r);
    h->token = twt_tok;
    snprintf(h->field, sizeof(h->field), "\"message\":\"v");
    h->is_tweet = 1;
}

/* A page of tweets whose newest is a fresh tweet "v100": its author's
 * list, or the global feed (nothing else posts while these tests run, so
 * the first message of the page is that tweet's); the writer edits the
 * tweet. The worker that writes drops every page it kept. */
static void hot_page(hot_subject *h, int feed)
{
    hot_tweet(h);
    if (feed)
        snprintf(h->path, sizeof(h->path), "/tweets?limit=5");
    else
        snprintf(h->path, sizeof(h->path), "/tweets/%s?limit=5", twt_uid);
}

static long version_of(const hot_subject *h, const char *body)
{
    const char *p = body != NULL ? strstr(body, h->field) : NULL;
    return p != NULL ? strtol(p + strlen(h->field), NULL, 10) : -1;
}

static long write_version(const hot_subject *h, long v)
{
    char body[64];
    api_resp r;
    if (h->is_tweet)
        snprintf(body, sizeof(body), "{\"message\":\"v%ld\"}", v);
    else
        snprintf(body, sizeof(body), "{\"price\":%ld}", v);
    api_ok(acct_req(&r, "PUT", h->edit[0] ? h->edit : h->path, body, h->token, NULL));
    long st = r.status;
    api_free(&r);
    return st;
}

static unsigned long long hot_hits(void)
{
    api_resp r;
    api_ok(api_get(&r, "/metrics"));
    double n = api_metric(r.body, "roost_hot_cache_hits_total");
    api_free(&r);
    ck_assert_msg(n >= 0, "no roost_hot_cache_hits_total in /metrics");
    return (unsigned long long)n;
}

/* One read by one of three ways (anonymous through nginx and its
 * micro-cache; through nginx past the cache, with a token roostd does not
 * accept, so still anonymous to it; straight to a worker's socket, a new
 * connection each time, so any worker); the version it showed, or -1. */
static long read_version(const hot_subject *h, int way, const char *sock)
{
    static const char *const bypass[] = { "Authorization: Bearer x", NULL };
    long v = -1;
    if (way == 2) {
        char *body = NULL;
        if (rst_fcgi_get_alloc(sock, h->path, 2000, &body) == 200)
            v = version_of(h, body);
        free(body);
        return v;
    }
    api_resp r;
    api_ok(way == 0 ? api_get(&r, h->path) : api_get_h(&r, h->path, bypass));
    if (r.status == 200)
        v = version_of(h, r.body);
    api_free(&r);
    return v;
}

/* API.md §1.5's second, end to end: for 10 s (5 for each subject) the
 * writer changes it every 100 ms while readers ask all three ways, across
 * the workers. An answer showing version v is as old as the moment the
 * write of v + 1 was acknowledged: at most 1 s before the read began. (A
 * copy that answered past the second it was read in would let nginx keep
 * its answer to the end of the next one: up to 2 s.) */
static void hot_bound(hot_subject *h, int seconds)
{
    const char *sock = api_stack_config()->pools[0].listen;
    static uint64_t acked[HOT_WRITES];        /* acked[v]: when version v was acknowledged */
    memset(acked, 0, sizeof(acked));
    unsigned long long hits0 = hot_hits();
    uint64_t start = rst_time_mono_ms(), worst[3] = { 0, 0, 0 };
    long v = 100, reads = 0;
    static const char *const ways[] = { "through nginx", "past nginx's cache", "straight to a worker" };
    while (rst_time_mono_ms() < start + (uint64_t)seconds * 1000 && v + 1 < HOT_WRITES) {
        ck_assert_int_eq(write_version(h, v + 1), 200);
        acked[++v] = rst_time_mono_ms();
        for (uint64_t until = rst_time_mono_ms() + 100; rst_time_mono_ms() < until; reads++) {
            int way = (int)(reads % 3);
            uint64_t asked = rst_time_mono_ms();
            long seen = read_version(h, way, sock);
            ck_assert_msg(seen >= 100 && seen <= v, "%s %s: version %ld (written up to %ld)",
                          h->path, ways[way], seen, v);
            if (seen < v && acked[seen + 1] < asked) {
                uint64_t behind = asked - acked[seen + 1];
                if (behind > worst[way])
                    worst[way] = behind;
                /* nginx checks an entry's second against its own clock,
                 * which it reads once per turn of its event loop: it may
                 * serve one a few ms into the next second. */
                uint64_t bound = way == 0 ? 1000 + 50 : 1000;
                ck_assert_msg(behind <= bound, "%s %s: version %ld, %llu ms after %ld was acknowledged",
                              h->path, ways[way], seen, (unsigned long long)behind, seen + 1);
            }
        }
    }
    unsigned long long hits = hot_hits() - hits0;
    fprintf(stderr, "hot copies of %s: %ld writes, %ld reads, %llu hot hits; most behind: %llu / %llu / %llu ms\n",
            h->path, v - 100, reads, hits,
            (unsigned long long)worst[0], (unsigned long long)worst[1], (unsigned long long)worst[2]);
    /* The test means something only if copies answered. */
    ck_assert_msg(hits > 100, "only %llu reads came from a hot copy", hits);
}

START_TEST(test_hot_copies_stay_within_a_second)
{
    hot_subject h;
    hot_product(&h);
    hot_bound(&h, 5);
    hot_tweet(&h);
    hot_bound(&h, 5);
}
END_TEST

/* The same bound for pages of tweets: a user's list and the feed. */
START_TEST(test_hot_pages_stay_within_a_second)
{
    hot_subject h;
    hot_page(&h, 0);
    hot_bound(&h, 4);
    hot_page(&h, 1);
    hot_bound(&h, 4);
}
END_TEST

/* A writer reads its own write at once, on any worker: every worker holds
 * a copy (straight reads first), then the writer changes it and reads it
 * back with its token -- never the copy's old version. */
START_TEST(test_a_writer_reads_its_own_write)
{
    const char *sock = api_stack_config()->pools[0].listen;
    for (int subject = 0; subject < 4; subject++) {
        hot_subject h;
        if (subject == 0)
            hot_product(&h);
        else if (subject == 1)
            hot_tweet(&h);
        else
            hot_page(&h, subject == 3);
        char auth[ACCT_TOKLEN + 32];
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", h.token);
        const char *headers[2] = { auth, NULL };
        for (long v = 101; v <= 120; v++) {
            for (int i = 0; i < 12; i++)
                read_version(&h, 2, sock);
            ck_assert_int_eq(write_version(&h, v), 200);
            api_resp r;
            api_ok(api_get_h(&r, h.path, headers));
            ck_assert_msg(r.status == 200 && version_of(&h, r.body) == v,
                          "%s: the writer wrote %ld and read back %ld: %s", h.path, v,
                          version_of(&h, r.body), r.body);
            api_free(&r);
        }
    }
}
END_TEST

Suite *suite_cache(void)
{
    Suite *s = suite_create("cache");
    TCase *tc = api_tcase(s, "policy");
    tcase_add_unchecked_fixture(tc, accounts_setup, NULL);
    tcase_add_test(tc, test_second_request_is_stored);
    tcase_add_test(tc, test_once_is_forgotten);
    tcase_add_test(tc, test_token_never_cached);
    tcase_add_test(tc, test_unknown_parameter_reuses_entry);
    tcase_add_test(tc, test_parameter_spellings);
    tcase_add_test(tc, test_host_not_in_key);
    tcase_add_test(tc, test_cached_accepts_are_acceptable);
    tcase_add_test(tc, test_other_accepts_bypass);
    tcase_add_test(tc, test_entry_ends_with_its_second);
    tc = api_tcase(s, "hot copies");
    tcase_add_unchecked_fixture(tc, accounts_setup, NULL);
    tcase_add_test(tc, test_hot_copies_stay_within_a_second);
    tcase_add_test(tc, test_hot_pages_stay_within_a_second);
    tcase_add_test(tc, test_a_writer_reads_its_own_write);
    return s;
}
