/* test_shardmap.c -- logical shard to server routing and name hashing. */
#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "core/ids.h"
#include "store/shardmap.h"
#include "suites.h"

static rst_config cfg;

static void load_map(rst_shardmap *m)
{
    char err[256];
    ck_assert_int_eq(rst_config_load_string(&cfg,
        "[catalog]\ndatabase = c\n[shards]\ncount = 4096\n"
        "[shard a]\nrange = 0-2047\ndatabase = s\n"
        "[shard b]\nrange = 2048-4095\ndatabase = s\n", err, sizeof(err)), 0);
    rst_shardmap_build(m, &cfg);
}

START_TEST(ranges_route_to_their_server)
{
    static rst_shardmap m;
    load_map(&m);
    ck_assert_int_eq(rst_shardmap_server(&m, 0), 0);
    ck_assert_int_eq(rst_shardmap_server(&m, 2047), 0);
    ck_assert_int_eq(rst_shardmap_server(&m, 2048), 1);
    ck_assert_int_eq(rst_shardmap_server(&m, 4095), 1);
    ck_assert_int_eq(rst_shardmap_server(&m, 4096), -1);
}
END_TEST

START_TEST(ids_route_by_their_embedded_shard)
{
    static rst_shardmap m;
    rst_idgen g;
    load_map(&m);
    ck_assert_int_eq(rst_idgen_init(&g, 3), 0);
    uint64_t low = rst_idgen_next(&g, 17), high = rst_idgen_next(&g, 3000);
    ck_assert_int_eq(rst_shardmap_server_for_id(&m, low), 0);
    ck_assert_int_eq(rst_shardmap_server_for_id(&m, high), 1);
}
END_TEST

/* [shards] fenced: listed shards and ranges are fenced, the rest not;
 * a bad list or one past the map is a config error naming the key. */
START_TEST(fenced_shards_are_marked)
{
    static rst_shardmap m;
    char err[256];
    ck_assert_int_eq(rst_config_load_string(&cfg,
        "[catalog]\ndatabase = c\n[shards]\ncount = 4096\nfenced = 5-7, 9 2048\n"
        "[shard a]\nrange = 0-2047\ndatabase = s\n"
        "[shard b]\nrange = 2048-4095\ndatabase = s\n", err, sizeof(err)), 0);
    rst_shardmap_build(&m, &cfg);
    ck_assert_int_eq(cfg.nfenced, 3);
    for (unsigned s = 0; s < 4096; s++)
        ck_assert_int_eq(rst_shardmap_fenced(&m, s), (s >= 5 && s <= 7) || s == 9 || s == 2048);
    ck_assert_int_eq(rst_shardmap_fenced(&m, 5000), 0);
    ck_assert_int_eq(rst_shardmap_server(&m, 6), 0);        /* still routed: reads go on */
    ck_assert_int_ne(rst_config_load_string(&cfg,
        "[catalog]\ndatabase = c\n[shards]\ncount = 4096\nfenced = 7-5\n"
        "[shard a]\nrange = 0-4095\ndatabase = s\n", err, sizeof(err)), 0);
    ck_assert_msg(strstr(err, "[shards] fenced:") != NULL, "%s", err);
    ck_assert_int_ne(rst_config_load_string(&cfg,
        "[catalog]\ndatabase = c\n[shards]\ncount = 16\nfenced = 10-20\n"
        "[shard a]\nrange = 0-15\ndatabase = s\n", err, sizeof(err)), 0);
    ck_assert_msg(strstr(err, "fenced: 10-20 goes past") != NULL, "%s", err);
}
END_TEST

START_TEST(name_hash_is_stable_and_spread)
{
    static rst_shardmap m;
    load_map(&m);
    /* Stable: these values are on disk in every deployment; if this test
     * fails, existing users can no longer be found by name. */
    ck_assert_uint_eq(rst_shard_for_name(&m, "alice"), 3493);   /* FNV-1a 64 % 4096 */
    int seen_low = 0, seen_high = 0;
    char name[16];
    for (int i = 0; i < 200; i++) {
        snprintf(name, sizeof(name), "user%d", i);
        unsigned s = rst_shard_for_name(&m, name);
        ck_assert_uint_lt(s, 4096);
        seen_low |= s < 2048;
        seen_high |= s >= 2048;
    }
    ck_assert(seen_low && seen_high);
}
END_TEST

Suite *suite_shardmap(void)
{
    Suite *s = suite_create("shardmap");
    TCase *tc = tcase_create("route");
    tcase_add_test(tc, ranges_route_to_their_server);
    tcase_add_test(tc, ids_route_by_their_embedded_shard);
    tcase_add_test(tc, name_hash_is_stable_and_spread);
    tcase_add_test(tc, fenced_shards_are_marked);
    suite_add_tcase(s, tc);
    return s;
}
