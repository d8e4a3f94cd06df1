/* test_scoreboard.c -- the shared scoreboard's slots: a slot handed to a
 * new worker keeps nothing of the worker that had it before (its last
 * route, path and request count would show in /status as the new one's). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "roostd/scoreboard.h"
#include "suites.h"

static rst_config map_cfg;

static void load_map_cfg(const char *text)
{
    char err[256];
    ck_assert_msg(rst_config_load_string(&map_cfg, text, err, sizeof(err)) == 0, "%s", err);
}

#define TWO_SERVERS "[catalog]\ndatabase = c\n[shards]\ncount = 4096\n%s" \
    "[shard a]\nrange = 0-2047\ndatabase = s\n[shard b]\nrange = 2048-4095\ndatabase = s\nhost = %s\n"

/* A reload's map (a fence, a switch) reaches a worker of the same servers
 * and moves its slot's generation; one of other servers is refused, and
 * the slot keeps its generation (so a shard move waits for that worker). */
START_TEST(workers_adopt_a_published_map_of_their_servers)
{
    rst_scoreboard *sb = rst_scoreboard_map(4, 2);
    ck_assert_ptr_nonnull(sb);
    char text[512];
    static rst_shardmap mine;
    snprintf(text, sizeof(text), TWO_SERVERS, "", "h1");
    load_map_cfg(text);
    rst_shardmap_build(&mine, &map_cfg);
    rst_scoreboard_publish_map(sb, &map_cfg);
    rst_slot *slot = &sb->slots[0];
    ck_assert_int_eq(rst_scoreboard_adopt_map(sb, slot, &mine), 1);
    ck_assert_uint_eq(slot->map_gen, 1);
    ck_assert_int_eq(rst_scoreboard_adopt_map(sb, slot, &mine), 0);     /* nothing newer */
    ck_assert_int_eq(rst_shardmap_fenced(&mine, 3000), 0);

    snprintf(text, sizeof(text), TWO_SERVERS, "fenced = 3000-3999\n", "h1");
    load_map_cfg(text);
    rst_scoreboard_publish_map(sb, &map_cfg);
    ck_assert_int_eq(rst_scoreboard_adopt_map(sb, slot, &mine), 1);
    ck_assert_uint_eq(slot->map_gen, 2);
    ck_assert_int_eq(rst_shardmap_fenced(&mine, 3000), 1);
    ck_assert_int_eq(rst_shardmap_fenced(&mine, 2999), 0);

    snprintf(text, sizeof(text), TWO_SERVERS, "", "h2");               /* b moved host */
    load_map_cfg(text);
    rst_scoreboard_publish_map(sb, &map_cfg);
    ck_assert_int_eq(rst_scoreboard_adopt_map(sb, slot, &mine), 0);
    ck_assert_uint_eq(slot->map_gen, 2);
    ck_assert_int_eq(rst_shardmap_fenced(&mine, 3000), 1);               /* its own map stays */
    rst_scoreboard_unmap(sb);
}
END_TEST

START_TEST(a_reset_slot_forgets_its_last_request)
{
    rst_scoreboard *sb = rst_scoreboard_map(4, 2);
    ck_assert_ptr_nonnull(sb);
    sb->npools = 1;
    sb->pools[0].max_children = 4;
    sb->pools[0].slow_us = 1000000;
    rst_slot *s = &sb->slots[1];
    s->pid = 4242;
    rst_slot_busy(sb, s, "GET", "/products", 1000, 0);
    rst_slot_note(s, "products.list", "req-1");
    rst_slot_idle(sb, s, 1500, 0);
    ck_assert_str_eq(s->route, "products.list");
    ck_assert_uint_eq(s->requests, 1);
    rst_slot_reset(sb, s);
    ck_assert_int_eq(s->pid, 0);
    ck_assert_uint_eq(s->requests, 0);
    ck_assert_uint_eq(s->last_duration_us, 0);
    ck_assert_str_eq(s->route, "");
    ck_assert_str_eq(s->path, "");
    ck_assert_str_eq(s->method, "");
    ck_assert_str_eq(s->request_id, "");
    ck_assert_uint_eq(sb->pools[0].active, 0);
    rst_scoreboard_unmap(sb);
}
END_TEST

Suite *suite_scoreboard(void)
{
    Suite *s = suite_create("scoreboard");
    TCase *tc = tcase_create("slots");
    tcase_add_test(tc, a_reset_slot_forgets_its_last_request);
    tcase_add_test(tc, workers_adopt_a_published_map_of_their_servers);
    suite_add_tcase(s, tc);
    return s;
}
