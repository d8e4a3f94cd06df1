/* seed.c -- `roostctl seed`: demo data for a fresh stack (--demo) and the
 * benchmark dataset (--bench, see the second half of this file). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/timefmt.h"
#include "domain/feed.h"
#include "domain/products.h"
#include "domain/users.h"
#include "roostctl/ctl.h"

static const char SQL_INSERT_PRODUCT[] =
    "INSERT IGNORE INTO products (id, name, price, img, description, state, created_at, updated_at) "
    "VALUES (?, ?, ?, ?, ?, 'active', ?, ?)";

static const char *const colours[] = { "Red", "Blue", "Green", "Black", "White", "Yellow" };
static const struct { const char *item; unsigned price; const char *about; } items[] = {
    { "Mug", 1299, "A 350 ml stoneware mug that survives the dishwasher." },
    { "T-Shirt", 1999, "Organic cotton, regular fit." },
    { "Notebook", 899, "A5, dotted pages, lies flat." },
    { "Water Bottle", 2499, "Insulated steel, keeps drinks cold for 24 hours." },
    { "Tote Bag", 1499, "Heavy canvas with long handles." },
    { "Cap", 1799, "Six panels, adjustable strap." },
};

static int seed_demo(rst_services *s)
{
    int added = 0, kept = 0;
    for (size_t c = 0; c < sizeof(colours) / sizeof(colours[0]); c++) {
        for (size_t i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
            char name[100], img[200], slug[100];
            snprintf(name, sizeof(name), "%s %s", colours[c], items[i].item);
            snprintf(slug, sizeof(slug), "%s", name);
            for (char *p = slug; *p; p++)
                *p = *p == ' ' ? '-' : (char)(*p | 0x20);
            snprintf(img, sizeof(img), "https://img.example.com/products/%s.png", slug);
            uint64_t now = rst_time_now_ms();
            uint64_t id = rst_idgen_next(&s->ids, 0);
            rst_param p[7] = {
                rst_p_u64(id), rst_p_str(name), rst_p_u64(items[i].price + (unsigned)c * 100),
                rst_p_str(img), rst_p_str(items[i].about), rst_p_time(now), rst_p_time(now)
            };
            uint64_t affected = 0;
            rst_db_rc rc = rst_db_exec(s->catalog, SQL_INSERT_PRODUCT, p, 7, &affected);
            if (rc != RST_DB_OK) {
                fprintf(stderr, "roostctl: seed: %s\n", rst_db_last_error(s->catalog));
                return 1;
            }
            /* INSERT IGNORE reports 0 rows for a name already there. */
            if (affected == 1)
                added++;
            else
                kept++;
        }
    }
    rst_products_retire_pages(s);
    printf("demo products: %d added, %d already there\n", added, kept);
    return 0;
}

/* ================================================================ bench
 *
 * `roostctl seed --bench`: the benchmark dataset (bench/, docs/PERFORMANCE.md).
 * Everything is computed first, in memory and from a fixed random seed, so
 * the same sizes always give the same shape (names, counts, who follows
 * whom; ids and times follow the clock): users bench0..bench{N-1}, all
 * with the password BENCH_PASSWORD (one Argon2id hash shared by every row,
 * so sign-in works and seeding costs one hash, not N); follows drawn from a
 * power law over the users (bench0 has the most followers, bench1 half as
 * many, ...); tweets owned by uniformly random users; products "Bench
 * <kind> NNNNNN". Then one child process per shard server writes that
 * server's rows with multi-row prepared INSERTs (BENCH_BATCH rows each, all
 * values bound as parameters), committing every few statements, while the
 * parent writes the products to the catalog. Counters in `users` match the
 * rows written. Ids are minted with the seeder's generators (core/ids.h:
 * never roostd's nor roostctl's own) at times spread over the past 100 days, so
 * timelines and lists look like a service that has been running. */

#define BENCH_PASSWORD   "benchpass1"
#define BENCH_GEN_FIRST  RST_ID_GEN_SEED_FIRST
#define BENCH_GEN_COUNT  RST_ID_GEN_SEED_COUNT
#define BENCH_BATCH      1000            /* rows per INSERT statement */
#define BENCH_TXN_STMTS  8               /* statements per transaction */
#define BENCH_TEXT_ROW   512             /* string bytes a row may use */
#define DAY_MS           86400000ULL
#define BENCH_READER_EVERY   1000      /* one user in a thousand ... */
#define BENCH_READER_FOLLOWS 200       /* ... follows 200 more accounts (timelines) */
#define BENCH_CART_EVERY 10              /* one user in ten has a cart ... */
#define BENCH_CART_ITEMS 20              /* ... of 20 items (fewer with fewer products) */

typedef struct {
    long users, tweets, products, follows;
} bench_sizes;

typedef struct {
    uint64_t follower, followee;     /* user ids */
    uint64_t id;                     /* the follow's k-sorted id */
} bench_edge;

typedef struct {
    bench_sizes  sz;
    uint64_t    *user_id;            /* by user index */
    uint32_t    *followers, *following, *tweets;
    bench_edge  *out;                /* sorted by (follower, followee) */
    bench_edge  *in;                 /* sorted by (followee, follower) */
    size_t       nedges;
    uint32_t    *tweet_owner;        /* by tweet index */
    uint64_t    *tweet_id;
    uint64_t    *product_id;         /* by product index */
    uint64_t    *cart_item_id;       /* cart user j's item k: [j * items + k] */
    long         cart_users;         /* users 0, 10, 20, ...: user j * BENCH_CART_EVERY */
    int          cart_items;         /* items per cart */
    char         hash[RST_PW_HASH_MAX];
    uint64_t     t0, span;           /* the dataset's time range (unix ms) */
} bench_data;

/* ------------------------------------------------------------ helpers */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

/* splitmix64: small, fast, and good enough to draw a dataset. */
static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double rng_unit(void) { return (double)(rng() >> 11) / 9007199254740992.0; }

typedef struct {
    rst_idgen g[BENCH_GEN_COUNT];
    unsigned  next;
} bench_ids;

static void bench_ids_init(bench_ids *p)
{
    for (unsigned i = 0; i < BENCH_GEN_COUNT; i++)
        rst_idgen_init(&p->g[i], BENCH_GEN_FIRST + i);
    p->next = 0;
}

/* Round-robin over the generators: each mints 2 ids a millisecond. */
static uint64_t bench_mint(bench_ids *p, unsigned shard, uint64_t at_ms)
{
    rst_idgen *g = &p->g[p->next];
    p->next = (p->next + 1) % BENCH_GEN_COUNT;
    return rst_idgen_next_at(g, shard, at_ms);
}

/* Time of item i of n within phase [from, to) (fractions of the span). */
static uint64_t phase_time(const bench_data *d, double from, double to, long i, long n)
{
    double f = from + (to - from) * ((double)i / (double)(n > 0 ? n : 1));
    return d->t0 + (uint64_t)(f * (double)d->span);
}

static double secs_since(uint64_t t0_ms)
{
    return (double)(rst_time_now_ms() - t0_ms) / 1000.0;
}

static void bench_user_name(long i, char out[32])
{
    snprintf(out, 32, "bench%ld", i);
}

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
    while (b != 0) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* ------------------------------------------------------------ the plan */

static int cmp_out(const void *a, const void *b)
{
    const bench_edge *x = a, *y = b;
    if (x->follower != y->follower)
        return x->follower < y->follower ? -1 : 1;
    return x->followee < y->followee ? -1 : x->followee > y->followee;
}

static int cmp_in(const void *a, const void *b)
{
    const bench_edge *x = a, *y = b;
    if (x->followee != y->followee)
        return x->followee < y->followee ? -1 : 1;
    return x->follower < y->follower ? -1 : x->follower > y->follower;
}

/* Followers per user from a Zipf law (exponent 1) over the users ranked by
 * index: user r gets about F / (H_N * (r + 1)), so with the defaults
 * bench0 has ~80 000 followers, bench9 ~8 000 and most users a few. */
static size_t plan_follow_counts(const bench_sizes *sz, uint32_t *want)
{
    double h = 0;
    for (long r = 1; r <= sz->users; r++)
        h += 1.0 / (double)r;
    size_t total = 0;
    for (long r = 0; r < sz->users; r++) {
        double x = (double)sz->follows / (h * (double)(r + 1));
        long k = (long)x + (rng_unit() < x - (double)(long)x);   /* stochastic rounding */
        if (k > sz->users - 1)
            k = sz->users - 1;
        want[r] = (uint32_t)k;
        total += (size_t)k;
    }
    return total;
}

/* The followers of user u: k distinct users other than u, walked with a
 * random start and a stride coprime to N (distinct without a set). */
static void plan_followers_of(bench_data *d, bench_ids *ids, long u, uint32_t k,
                              size_t *e, size_t total)
{
    uint64_t n = (uint64_t)d->sz.users;
    uint64_t start = rng() % n, step = 1;
    if (n > 2) {
        do
            step = 1 + rng() % (n - 1);
        while (gcd_u64(step, n) != 1);
    }
    uint64_t pos = start;
    for (uint32_t got = 0; got < k; pos = (pos + step) % n) {
        if (pos == (uint64_t)u)
            continue;
        bench_edge *x = &d->out[*e];
        x->follower = d->user_id[pos];
        x->followee = d->user_id[u];
        x->id = bench_mint(ids, rst_id_shard(x->follower),
                           phase_time(d, 0.40, 0.70, (long)*e, (long)total));
        d->following[pos]++;
        d->followers[u]++;
        (*e)++;
        got++;
    }
}

/* Reader u (a heavy timeline reader) follows BENCH_READER_FOLLOWS more
 * users it did not follow yet, walked with a random start and a stride
 * coprime to N. The users it already follows are collected first (a
 * handful: the power law is on followers, not on following). */
static void plan_reader(bench_data *d, bench_ids *ids, long u, size_t *e, size_t cap)
{
    uint64_t n = (uint64_t)d->sz.users, me = d->user_id[u];
    uint64_t have[256];
    size_t nhave = 0;
    for (size_t i = 0; i < *e && nhave < sizeof(have) / sizeof(have[0]); i++)
        if (d->out[i].follower == me)
            have[nhave++] = d->out[i].followee;
    uint64_t pos = rng() % n, step = 1;
    if (n > 2) {
        do
            step = 1 + rng() % (n - 1);
        while (gcd_u64(step, n) != 1);
    }
    for (uint32_t got = 0, tries = 0; got < BENCH_READER_FOLLOWS && tries < n && *e < cap;
         pos = (pos + step) % n, tries++) {
        int dup = pos == (uint64_t)u;
        for (size_t i = 0; i < nhave && !dup; i++)
            dup = have[i] == d->user_id[pos];
        if (dup)
            continue;
        bench_edge *x = &d->out[*e];
        x->follower = me;
        x->followee = d->user_id[pos];
        x->id = bench_mint(ids, rst_id_shard(me), phase_time(d, 0.40, 0.70, (long)*e, (long)cap));
        d->following[u]++;
        d->followers[pos]++;
        (*e)++;
        got++;
    }
}

static int plan(rst_services *s, bench_data *d)
{
    long n = d->sz.users;
    bench_ids ids;
    bench_ids_init(&ids);
    /* +1: calloc(0) may answer NULL, and N may be 0 (products only). */
    d->user_id = calloc((size_t)n + 1, sizeof(uint64_t));
    d->followers = calloc((size_t)n + 1, sizeof(uint32_t));
    d->following = calloc((size_t)n + 1, sizeof(uint32_t));
    d->tweets = calloc((size_t)n + 1, sizeof(uint32_t));
    d->tweet_owner = calloc((size_t)d->sz.tweets + 1, sizeof(uint32_t));
    d->tweet_id = calloc((size_t)d->sz.tweets + 1, sizeof(uint64_t));
    d->cart_items = d->sz.products < BENCH_CART_ITEMS ? (int)d->sz.products : BENCH_CART_ITEMS;
    d->cart_users = d->cart_items > 0 ? (n + BENCH_CART_EVERY - 1) / BENCH_CART_EVERY : 0;
    d->product_id = calloc((size_t)d->sz.products + 1, sizeof(uint64_t));
    d->cart_item_id = calloc((size_t)(d->cart_users * d->cart_items) + 1, sizeof(uint64_t));
    uint32_t *want = calloc((size_t)n + 1, sizeof(uint32_t));
    if (!d->user_id || !d->followers || !d->following || !d->tweets || !d->tweet_owner ||
        !d->tweet_id || !d->product_id || !d->cart_item_id || !want) {
        free(want);
        return -1;
    }
    /* Users: each on the shard of its name, as sign-up places them. */
    for (long i = 0; i < n; i++) {
        char name[32];
        bench_user_name(i, name);
        unsigned shard = rst_shard_for_name(&s->map, name);
        d->user_id[i] = bench_mint(&ids, shard, phase_time(d, 0.10, 0.40, i, n));
    }
    /* Follows. */
    size_t total = n > 1 ? plan_follow_counts(&d->sz, want) : 0;
    long readers = n > BENCH_READER_FOLLOWS * 2 ? n / BENCH_READER_EVERY : 0;
    size_t cap = total + (size_t)readers * BENCH_READER_FOLLOWS;
    d->out = calloc(cap + 1, sizeof(bench_edge));
    d->in = calloc(cap + 1, sizeof(bench_edge));
    if (d->out == NULL || d->in == NULL) {
        free(want);
        return -1;
    }
    size_t e = 0;
    for (long u = 0; u < n && total > 0; u++)
        plan_followers_of(d, &ids, u, want[u], &e, total);
    for (long r = 0; r < readers; r++)
        plan_reader(d, &ids, r * BENCH_READER_EVERY + BENCH_READER_EVERY / 2, &e, cap);
    d->nedges = e;
    free(want);
    memcpy(d->in, d->out, e * sizeof(bench_edge));
    qsort(d->out, e, sizeof(bench_edge), cmp_out);
    qsort(d->in, e, sizeof(bench_edge), cmp_in);
    /* Products (all on logical shard 0, like the API's), then carts. */
    for (long i = 0; i < d->sz.products; i++)
        d->product_id[i] = bench_mint(&ids, 0, phase_time(d, 0.0, 0.10, i, d->sz.products));
    for (long j = 0; j < d->cart_users; j++)
        for (int k = 0; k < d->cart_items; k++)
            d->cart_item_id[j * d->cart_items + k] =
                bench_mint(&ids, rst_id_shard(d->user_id[j * BENCH_CART_EVERY]),
                           phase_time(d, 0.40, 0.70, j * d->cart_items + k,
                                      d->cart_users * d->cart_items));
    /* Tweets: uniformly random authors, in time order. */
    for (long t = 0; t < d->sz.tweets && n > 0; t++) {
        uint32_t owner = (uint32_t)(rng() % (uint64_t)n);
        d->tweet_owner[t] = owner;
        d->tweet_id[t] = bench_mint(&ids, rst_id_shard(d->user_id[owner]),
                                    phase_time(d, 0.70, 0.999, t, d->sz.tweets));
        d->tweets[owner]++;
    }
    return 0;
}

/* ------------------------------------------------------------ batches */

/* One multi-row INSERT being filled: `group` is one row's placeholders,
 * repeated `rows` times after `head`. The full-batch text is built once;
 * the shorter tail's text is built, sent and freed (store/db.c caches
 * statements by their text, so a freed buffer is safe). Row strings live
 * in `text` until the batch is sent. */
typedef struct {
    rst_db     *db;
    const char *what;
    const char *head;
    const char *group;
    int         cols;
    char       *full_sql;
    rst_param  *params;
    int         rows;
    char       *text;
    size_t      text_used;
    int         stmts;           /* sent in the open transaction */
    long        written;
} bench_batch;

static char *build_insert(const char *head, const char *group, int rows)
{
    size_t hl = strlen(head), gl = strlen(group);
    char *sql = malloc(hl + (size_t)rows * (gl + 1) + 1);
    if (sql == NULL)
        return NULL;
    memcpy(sql, head, hl);
    char *p = sql + hl;
    for (int r = 0; r < rows; r++) {
        if (r > 0)
            *p++ = ',';
        memcpy(p, group, gl);
        p += gl;
    }
    *p = '\0';
    return sql;
}

static int batch_open(bench_batch *b, rst_db *db, const char *what, const char *head,
                      const char *group, int cols)
{
    memset(b, 0, sizeof(*b));
    b->db = db;
    b->what = what;
    b->head = head;
    b->group = group;
    b->cols = cols;
    b->full_sql = build_insert(head, group, BENCH_BATCH);
    b->params = calloc((size_t)BENCH_BATCH * (size_t)cols, sizeof(rst_param));
    b->text = malloc((size_t)BENCH_BATCH * BENCH_TEXT_ROW);
    return b->full_sql && b->params && b->text ? 0 : -1;
}

static int batch_fail(bench_batch *b, const char *step)
{
    fprintf(stderr, "roostctl: seed --bench: %s %s on %s: %s\n", step, b->what,
            rst_db_name(b->db), rst_db_last_error(b->db));
    return -1;
}

static int batch_flush(bench_batch *b)
{
    if (b->rows == 0)
        return 0;
    char *tail = NULL;
    const char *sql = b->full_sql;
    if (b->rows < BENCH_BATCH) {
        sql = tail = build_insert(b->head, b->group, b->rows);
        if (sql == NULL)
            return -1;
    }
    if (b->stmts == 0 && rst_db_begin(b->db) != RST_DB_OK) {
        free(tail);
        return batch_fail(b, "begin");
    }
    rst_db_rc rc = rst_db_exec(b->db, sql, b->params, b->rows * b->cols, NULL);
    free(tail);
    if (rc != RST_DB_OK) {
        rst_db_rollback(b->db);
        return batch_fail(b, "insert into");
    }
    b->written += b->rows;
    b->rows = 0;
    b->text_used = 0;
    if (++b->stmts == BENCH_TXN_STMTS) {
        b->stmts = 0;
        if (rst_db_commit(b->db) != RST_DB_OK)
            return batch_fail(b, "commit");
    }
    return 0;
}

static int batch_finish(bench_batch *b)
{
    int rc = batch_flush(b);
    if (rc == 0 && b->stmts > 0) {
        b->stmts = 0;
        if (rst_db_commit(b->db) != RST_DB_OK)
            rc = batch_fail(b, "commit");
    }
    free(b->full_sql);
    free(b->params);
    free(b->text);
    b->full_sql = NULL;
    b->params = NULL;
    b->text = NULL;
    return rc;
}

/* The next row's parameters; the row counts once batch_row_done is called. */
static rst_param *batch_row(bench_batch *b)
{
    return &b->params[b->rows * b->cols];
}

static int batch_row_done(bench_batch *b)
{
    b->rows++;
    return b->rows == BENCH_BATCH ? batch_flush(b) : 0;
}

/* Copies a string into the batch's text (kept until the batch is sent). */
static rst_param batch_str(bench_batch *b, const char *s, size_t n)
{
    if (b->text_used + n > (size_t)BENCH_BATCH * BENCH_TEXT_ROW)
        abort();                   /* a row longer than BENCH_TEXT_ROW: a bug here */
    char *p = b->text + b->text_used;
    memcpy(p, s, n);
    b->text_used += n;
    return rst_p_strn(p, n);
}

/* ------------------------------------------------------------ writers */

static const char *const words[] = {
    "coffee", "morning", "shipping", "today", "new", "mug", "just", "love", "this",
    "weekend", "sale", "order", "arrived", "finally", "great", "the", "a", "my",
    "release", "build", "red", "blue", "tote", "bag", "cap", "notebook", "rain",
    "city", "train", "late", "again", "thanks", "everyone", "who", "came", "by",
};

static size_t tweet_text(long t, char *out, size_t cap)
{
    uint64_t h = (uint64_t)t * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL;
    int nwords = 4 + (int)(h % 20);
    size_t len = (size_t)snprintf(out, cap, "#%ld", t);
    for (int w = 0; w < nwords && len + 16 < cap; w++) {
        h = h * 6364136223846793005ULL + 1442695040888963407ULL;
        const char *word = words[(h >> 33) % (sizeof(words) / sizeof(words[0]))];
        len += (size_t)snprintf(out + len, cap - len, " %s", word);
    }
    return len;
}

static int write_users(bench_data *d, rst_services *s, rst_db *db, int server)
{
    bench_batch users, names;
    int rc = batch_open(&users, db, "users",
        "INSERT INTO users (id, name, password_hash, role, token_version, followers_count, "
        "following_count, tweets_count, created_at, updated_at) VALUES ",
        "(?,?,?,'user',0,?,?,?,?,?)", 8);
    rc |= batch_open(&names, db, "usernames",
        "INSERT INTO usernames (name_lc, user_id, created_at) VALUES ", "(?,?,?)", 3);
    size_t hlen = strlen(d->hash);
    for (long i = 0; rc == 0 && i < d->sz.users; i++) {
        uint64_t id = d->user_id[i];
        if (rst_shardmap_server_for_id(&s->map, id) != server)
            continue;
        char name[32];
        bench_user_name(i, name);
        size_t nl = strlen(name);
        uint64_t at = rst_id_unix_ms(id);
        rst_param *p = batch_row(&users);
        p[0] = rst_p_u64(id);
        p[1] = batch_str(&users, name, nl);
        p[2] = rst_p_strn(d->hash, hlen);
        p[3] = rst_p_u64(d->followers[i]);
        p[4] = rst_p_u64(d->following[i]);
        p[5] = rst_p_u64(d->tweets[i]);
        p[6] = rst_p_time(at);
        p[7] = rst_p_time(at);
        rc = batch_row_done(&users);
        p = batch_row(&names);
        p[0] = batch_str(&names, name, nl);     /* bench names are lower case */
        p[1] = rst_p_u64(id);
        p[2] = rst_p_time(at);
        rc |= batch_row_done(&names);
    }
    rc |= batch_finish(&users);
    rc |= batch_finish(&names);
    return rc;
}

static int write_follows(bench_data *d, rst_services *s, rst_db *db, int server)
{
    bench_batch out, in;
    int rc = batch_open(&out, db, "follows_out",
        "INSERT INTO follows_out (follower_id, followee_id, id, created_at) VALUES ",
        "(?,?,?,?)", 4);
    rc |= batch_open(&in, db, "follows_in",
        "INSERT INTO follows_in (followee_id, follower_id, id, created_at) VALUES ",
        "(?,?,?,?)", 4);
    for (size_t e = 0; rc == 0 && e < d->nedges; e++) {
        const bench_edge *x = &d->out[e];
        if (rst_shardmap_server_for_id(&s->map, x->follower) != server)
            continue;
        rst_param *p = batch_row(&out);
        p[0] = rst_p_u64(x->follower);
        p[1] = rst_p_u64(x->followee);
        p[2] = rst_p_u64(x->id);
        p[3] = rst_p_time(rst_id_unix_ms(x->id));
        rc = batch_row_done(&out);
    }
    rc |= batch_finish(&out);
    for (size_t e = 0; rc == 0 && e < d->nedges; e++) {
        const bench_edge *x = &d->in[e];
        if (rst_shardmap_server_for_id(&s->map, x->followee) != server)
            continue;
        rst_param *p = batch_row(&in);
        p[0] = rst_p_u64(x->followee);
        p[1] = rst_p_u64(x->follower);
        p[2] = rst_p_u64(x->id);
        p[3] = rst_p_time(rst_id_unix_ms(x->id));
        rc = batch_row_done(&in);
    }
    rc |= batch_finish(&in);
    return rc;
}

static int write_tweets(bench_data *d, rst_services *s, rst_db *db, int server)
{
    bench_batch b;
    int rc = batch_open(&b, db, "tweets",
        "INSERT INTO tweets (id, user_id, message, edited, created_at, updated_at) VALUES ",
        "(?,?,?,0,?,?)", 5);
    char msg[300];
    for (long t = 0; rc == 0 && t < d->sz.tweets; t++) {
        uint64_t id = d->tweet_id[t];
        if (rst_shardmap_server_for_id(&s->map, id) != server)
            continue;
        size_t n = tweet_text(t, msg, sizeof(msg));
        rst_param *p = batch_row(&b);
        p[0] = rst_p_u64(id);
        p[1] = rst_p_u64(d->user_id[d->tweet_owner[t]]);
        p[2] = batch_str(&b, msg, n);
        p[3] = rst_p_time(rst_id_unix_ms(id));
        p[4] = p[3];
        rc = batch_row_done(&b);
    }
    rc |= batch_finish(&b);
    return rc;
}

/* The carts: user j * BENCH_CART_EVERY holds cart_items consecutive
 * products from a random start, one unit to three each, the last one saved
 * for later. */
static int write_carts(bench_data *d, rst_services *s, rst_db *db, int server)
{
    bench_batch b;
    int rc = batch_open(&b, db, "cart_items",
        "INSERT INTO cart_items (id, user_id, product_id, quantity, state, created_at, "
        "updated_at) VALUES ", "(?,?,?,?,?,?,?)", 7);
    for (long j = 0; rc == 0 && j < d->cart_users; j++) {
        uint64_t uid = d->user_id[j * BENCH_CART_EVERY];
        uint64_t h = (uint64_t)j * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;
        long start = (long)(h % (uint64_t)d->sz.products);
        if (rst_shardmap_server_for_id(&s->map, uid) != server)
            continue;
        for (int k = 0; rc == 0 && k < d->cart_items; k++) {
            uint64_t id = d->cart_item_id[j * d->cart_items + k];
            rst_param *p = batch_row(&b);
            p[0] = rst_p_u64(id);
            p[1] = rst_p_u64(uid);
            p[2] = rst_p_u64(d->product_id[(start + k) % d->sz.products]);
            p[3] = rst_p_u64(1 + (h >> (k % 60)) % 3);
            p[4] = rst_p_str(k == d->cart_items - 1 ? "saved" : "active");
            p[5] = rst_p_time(rst_id_unix_ms(id));
            p[6] = p[5];
            rc = batch_row_done(&b);
        }
    }
    rc |= batch_finish(&b);
    return rc;
}

/* One shard server's rows, on a connection of its own (a child process). */
static int write_server(bench_data *d, rst_services *s, int server)
{
    uint64_t t0 = rst_time_now_ms();
    rst_db *db = rst_db_new(&s->cfg->shard_servers[server]);
    if (db == NULL)
        return -1;
    const char *name = rst_db_name(db);
    int rc = write_users(d, s, db, server);
    if (rc == 0) {
        printf("  %s: users written (%.1f s)\n", name, secs_since(t0));
        fflush(stdout);
        rc = write_follows(d, s, db, server);
    }
    if (rc == 0) {
        printf("  %s: follows written (%.1f s)\n", name, secs_since(t0));
        fflush(stdout);
        rc = write_tweets(d, s, db, server);
    }
    if (rc == 0) {
        printf("  %s: tweets written (%.1f s)\n", name, secs_since(t0));
        fflush(stdout);
        rc = write_carts(d, s, db, server);
    }
    if (rc == 0) {
        printf("  %s: carts written (%.1f s)\n", name, secs_since(t0));
        fflush(stdout);
    }
    rst_db_free(db);
    return rc;
}

static int write_products(bench_data *d, rst_services *s)
{
    static const char *const kinds[] = { "Mug", "T-Shirt", "Notebook", "Water Bottle",
                                         "Tote Bag", "Cap", "Poster", "Sticker Pack" };
    bench_batch b;
    int rc = batch_open(&b, s->catalog, "products",
        "INSERT INTO products (id, name, price, img, description, state, created_at, "
        "updated_at) VALUES ", "(?,?,?,?,?,'active',?,?)", 7);
    for (long i = 0; rc == 0 && i < d->sz.products; i++) {
        const char *kind = kinds[i % (long)(sizeof(kinds) / sizeof(kinds[0]))];
        char name[100], img[160], about[400];
        int nl = snprintf(name, sizeof(name), "Bench %s %06ld", kind, i);
        int il = snprintf(img, sizeof(img), "https://img.example.com/bench/product-%06ld.png", i);
        int al = snprintf(about, sizeof(about),
                          "Benchmark product %ld: a %s that looks like a real catalog entry, "
                          "with a description long enough to make the JSON about the size "
                          "of a real product page's.", i, kind);
        uint64_t id = d->product_id[i];
        uint64_t at = rst_id_unix_ms(id);
        rst_param *p = batch_row(&b);
        p[0] = rst_p_u64(id);
        p[1] = batch_str(&b, name, (size_t)nl);
        p[2] = rst_p_u64(500 + (uint64_t)(i * 37 % 20000));
        p[3] = batch_str(&b, img, (size_t)il);
        p[4] = batch_str(&b, about, (size_t)al);
        p[5] = rst_p_time(at);
        p[6] = rst_p_time(at);
        rc = batch_row_done(&b);
    }
    rc |= batch_finish(&b);
    if (rc == 0)
        rst_products_retire_pages(s);
    return rc;
}

static void bench_data_free(bench_data *d)
{
    free(d->user_id);
    free(d->followers);
    free(d->following);
    free(d->tweets);
    free(d->out);
    free(d->in);
    free(d->tweet_owner);
    free(d->tweet_id);
    free(d->product_id);
    free(d->cart_item_id);
}

/* ------------------------------------------------------------ command */

static void bench_usage(void)
{
    fprintf(stderr,
        "usage: roostctl seed --demo\n"
        "       roostctl seed --bench [--quick] [--users N] [--tweets M] [--products P]\n"
        "                     [--follows F]\n"
        "  --bench   the benchmark dataset (default 100000 users, 1000000 tweets,\n"
        "            1000 products, 1000000 follows; --quick: a tenth of each; one\n"
        "            user in ten, bench0, bench10, ..., has a cart of 20 items; one in\n"
        "            a thousand, bench500, bench1500, ..., follows 200 more accounts).\n"
        "            Users are bench0..bench{N-1}, password \"" BENCH_PASSWORD "\".\n"
        "            Refuses to run when bench0 already exists.\n");
}

static int parse_size(const char *v, long max, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno != 0 || end == v || *end != '\0' || n < 0 || n > max)
        return -1;
    *out = n;
    return 0;
}

static int bench_args(int argc, char **argv, bench_sizes *sz)
{
    long users = -1, tweets = -1, products = -1, follows = -1;
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        long *dst = NULL;
        long max = 100000000;
        if (strcmp(argv[i], "--quick") == 0) {
            quick = 1;
            continue;
        }
        if (strcmp(argv[i], "--users") == 0)
            dst = &users, max = 10000000;
        else if (strcmp(argv[i], "--tweets") == 0)
            dst = &tweets;
        else if (strcmp(argv[i], "--products") == 0)
            dst = &products, max = 1000000;
        else if (strcmp(argv[i], "--follows") == 0)
            dst = &follows;
        if (dst == NULL || i + 1 == argc || parse_size(argv[i + 1], max, dst) != 0)
            return -1;
        i++;
    }
    long div = quick ? 10 : 1;
    sz->users = users >= 0 ? users : 100000 / div;
    sz->tweets = tweets >= 0 ? tweets : 1000000 / div;
    sz->products = products >= 0 ? products : 1000 / div;
    sz->follows = follows >= 0 ? follows : 1000000 / div;
    if (sz->users == 0 && (sz->tweets > 0 || sz->follows > 0)) {
        fprintf(stderr, "roostctl: seed --bench: tweets and follows need users\n");
        return -1;
    }
    return 0;
}

/* 1 when bench0 exists, 0 when not, -1 when its shard cannot be asked. */
static int bench_present(rst_services *s)
{
    rst_arena a;
    rst_arena_init(&a, 4096);
    rst_user u;
    rst_err err = rst_users_find_by_name(s, &a, "bench0", &u);
    rst_arena_free(&a);
    return err == RST_OK ? 1 : err == RST_E_NOT_FOUND ? 0 : -1;
}

/* Runs write_server for every shard server in a child process each. */
static int write_servers(bench_data *d, rst_services *s)
{
    pid_t pids[RST_MAX_SERVERS];
    int n = s->nshards, rc = 0;
    fflush(stdout);
    fflush(stderr);
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        if (pids[i] < 0) {
            fprintf(stderr, "roostctl: seed --bench: fork: %s\n", strerror(errno));
            n = i;
            rc = -1;
            break;
        }
        if (pids[i] == 0) {
            /* The parent's connections are not ours to use or close. */
            int r = write_server(d, s, i);
            fflush(stdout);
            fflush(stderr);
            _exit(r == 0 ? 0 : 1);
        }
    }
    /* Meanwhile, the catalog. */
    uint64_t t0 = rst_time_now_ms();
    if (rc == 0 && write_products(d, s) != 0)
        rc = -1;
    else if (rc == 0)
        printf("  catalog: products written (%.1f s)\n", secs_since(t0));
    fflush(stdout);
    for (int i = 0; i < n; i++) {
        int st;
        while (waitpid(pids[i], &st, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            rc = -1;
    }
    return rc;
}

/* The global feed's Redis set holds the ids of whatever was there before:
 * build it from the new rows now, so the first reader does not have to. */
static void rebuild_feed(rst_services *s)
{
    long n;
    uint64_t t0 = rst_time_now_ms();
    if (rst_feed_rebuild(s, 1, &n) == RST_OK && n >= 0)
        printf("feed: the Redis set holds the newest %ld tweet ids (%.1f s)\n", n, secs_since(t0));
    else
        fprintf(stderr, "roostctl: seed --bench: could not build the feed in Redis (down?); "
                "the first reader of GET /tweets rebuilds it\n");
}

static int seed_bench(rst_services *s, int argc, char **argv)
{
    bench_data d;
    memset(&d, 0, sizeof(d));
    if (bench_args(argc, argv, &d.sz) != 0) {
        bench_usage();
        return 2;
    }
    uint64_t t0 = rst_time_now_ms();
    int present = bench_present(s);
    if (present != 0) {
        fprintf(stderr, present > 0
                ? "roostctl: seed --bench: bench data is already there (user bench0 exists); "
                  "load it into empty databases\n"
                : "roostctl: seed --bench: cannot look user bench0 up (is a shard server down, "
                  "or the schema not migrated? see above)\n");
        return 1;
    }
    /* The data spans up to 100 days before now, after the id epoch. */
    uint64_t now = rst_time_now_ms();
    d.span = 100 * DAY_MS;
    if (now - d.span < RST_ID_EPOCH_MS + 60000)
        d.span = now - RST_ID_EPOCH_MS - 60000;
    d.t0 = now - d.span;
    if (rst_pw_hash(&s->pw, BENCH_PASSWORD, strlen(BENCH_PASSWORD), d.hash) != 0 || plan(s, &d) != 0) {
        fprintf(stderr, "roostctl: seed --bench: out of memory\n");
        bench_data_free(&d);
        return 1;
    }
    uint32_t max_followers = 0;
    for (long i = 0; i < d.sz.users; i++)
        if (d.followers[i] > max_followers)
            max_followers = d.followers[i];
    printf("bench data: %ld users, %ld tweets, %ld products, %zu follows planned in %.1f s; "
           "writing to %d shard servers and the catalog\n",
           d.sz.users, d.sz.tweets, d.sz.products, d.nedges, secs_since(t0), s->nshards);
    int rc = write_servers(&d, s);
    if (rc == 0)
        rebuild_feed(s);
    if (rc != 0)
        fprintf(stderr, "roostctl: seed --bench: failed after %.1f s (see above); the databases "
                "hold part of the data: load into empty ones again\n", secs_since(t0));
    else
        printf("bench dataset: users=%ld tweets=%ld products=%ld follows=%zu max_followers=%u "
               "carts=%ld cart_items=%d password=%s seconds=%.1f\n", d.sz.users, d.sz.tweets,
               d.sz.products, d.nedges, max_followers, d.cart_users, d.cart_items,
               BENCH_PASSWORD, secs_since(t0));
    bench_data_free(&d);
    return rc != 0;
}

int rst_ctl_seed_check(int argc, char **argv)
{
    bench_sizes sz;
    if (argc == 1 && strcmp(argv[0], "--demo") == 0)
        return 0;
    if (argc >= 1 && strcmp(argv[0], "--bench") == 0) {
        if (bench_args(argc, argv, &sz) == 0)
            return 0;
        fprintf(stderr, "roostctl: seed --bench: bad arguments\n");
    } else if (argc == 0) {
        fprintf(stderr, "roostctl: seed: --demo or --bench is required\n");
    } else {
        fprintf(stderr, "roostctl: seed: unexpected argument '%s'\n",
                strcmp(argv[0], "--demo") == 0 ? argv[1] : argv[0]);
    }
    bench_usage();
    return 2;
}

/* Runs after rst_ctl_seed_check accepted the arguments. */
int rst_ctl_seed(rst_services *s, int argc, char **argv)
{
    if (strcmp(argv[0], "--demo") == 0)
        return seed_demo(s);
    return seed_bench(s, argc, argv);
}
