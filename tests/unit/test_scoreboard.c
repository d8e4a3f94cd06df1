/* test_scoreboard.c -- the shared scoreboard's slots: a slot handed to a
 * new worker keeps nothing of the worker that had it before (its last
 * route, path and request count would show in /status as the new one's). */
#include <check.h>
#include <string.h>

#include "roostd/scoreboard.h"
#include "suites.h"

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
    suite_add_tcase(s, tc);
    return s;
}
