/* seed.c -- `roostctl seed`: demo data for a fresh stack. */
#include <stdio.h>
#include <string.h>

#include "core/timefmt.h"
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
    long long gen;
    rst_cache_incr(s->cache, "catalog:gen", &gen);   /* invalidate cached pages */
    printf("demo products: %d added, %d already there\n", added, kept);
    return 0;
}

int rst_ctl_seed(rst_services *s, int argc, char **argv)
{
    if (argc == 1 && strcmp(argv[0], "--demo") == 0)
        return seed_demo(s);
    fprintf(stderr, "roostctl: usage: roostctl seed --demo\n");
    return 2;
}
