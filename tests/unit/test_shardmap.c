/* test_shardmap.c -- logical shard to server routing and name hashing,
 * and the shard map's text form in the catalog (store/catmap.h). */
#include <stdio.h>
#include <string.h>

#include "core/config.h"
#include "core/ids.h"
#include "store/catmap.h"
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

/* The map a move leaves (a third server holding half of b's shards, a
 * fence) survives its text form, applied over a file that still has the
 * old ranges; a map naming a server the file lacks, or leaving a shard
 * without a server, is refused and the file's map stays. */
START_TEST(catalog_map_round_trips_and_refuses_what_does_not_fit)
{
    char err[256];
    static rst_config moved, file;
    ck_assert_int_eq(rst_config_load_string(&moved,
        "[catalog]\ndatabase = c\n[shards]\ncount = 4096\nfenced = 3072-3100, 4000\n"
        "[shard a]\nrange = 0-2047\ndatabase = s\n"
        "[shard b]\nrange = 2048-3071\ndatabase = s\n"
        "[shard c]\nrange = 3072-4095\ndatabase = s\n", err, sizeof(err)), 0);
    rst_catmap map;
    ck_assert_int_eq(rst_catmap_format(&moved, &map), 0);
    ck_assert_str_eq(map.ranges, "a=0-2047;b=2048-3071;c=3072-4095");
    ck_assert_str_eq(map.fenced, "3072-3100, 4000-4000");

    ck_assert_int_eq(rst_config_load_string(&file,
        "[catalog]\ndatabase = c\n[shards]\ncount = 4096\n"
        "[shard a]\nrange = 0-2047\ndatabase = s\n"
        "[shard b]\nrange = 2048-4095\ndatabase = s\n"
        "[shard c]\ndatabase = s\n", err, sizeof(err)), 0);
    ck_assert_int_eq(rst_catmap_apply(&map, &file, err, sizeof(err)), 0);
    static rst_shardmap m;
    rst_shardmap_build(&m, &file);
    ck_assert_int_eq(rst_shardmap_server(&m, 3071), 1);
    ck_assert_int_eq(rst_shardmap_server(&m, 3072), 2);
    ck_assert_int_eq(rst_shardmap_server(&m, 4095), 2);
    ck_assert_int_eq(file.nfenced, 2);
    ck_assert_uint_eq(file.fenced[1].first, 4000);

    /* A host whose file lacks c cannot follow it: refused, unchanged. */
    ck_assert_int_eq(rst_config_load_string(&file,
        "[catalog]\ndatabase = c\n[shards]\ncount = 4096\n"
        "[shard a]\nrange = 0-2047\ndatabase = s\n"
        "[shard b]\nrange = 2048-4095\ndatabase = s\n", err, sizeof(err)), 0);
    ck_assert_int_eq(rst_catmap_apply(&map, &file, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "server c") != NULL, "%s", err);
    ck_assert_int_eq(file.nranges, 2);
    ck_assert_uint_eq(file.ranges[1].last, 4095);
    ck_assert_int_eq(file.nfenced, 0);
    /* Shards left without a server, and text that is not a map. */
    snprintf(map.ranges, sizeof(map.ranges), "a=0-2047;b=2048-3000");
    map.fenced[0] = '\0';
    ck_assert_int_eq(rst_catmap_apply(&map, &file, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "logical shard 3001") != NULL, "%s", err);
    snprintf(map.ranges, sizeof(map.ranges), "a=0-2047;b=x");
    ck_assert_int_eq(rst_catmap_apply(&map, &file, err, sizeof(err)), -1);
    snprintf(map.ranges, sizeof(map.ranges), "a0-4095");
    ck_assert_int_eq(rst_catmap_apply(&map, &file, err, sizeof(err)), -1);
    ck_assert_uint_eq(file.ranges[1].last, 4095);
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
    tcase_add_test(tc, catalog_map_round_trips_and_refuses_what_does_not_fit);
    suite_add_tcase(s, tc);
    return s;
}
