/* test_worker.c -- the worker's accept pause (roostd/worker.h): after
 * EMFILE a worker stops accepting for a moment, then goes back to its
 * normal one-second sleep, and warns once a second at most however long
 * the trouble lasts. */
#include <stdint.h>

#include "roostd/worker.h"
#include "suites.h"

#define T0 1000000ULL               /* some monotonic instant */
#define NO_TICK UINT64_MAX          /* no fan-out tick due */

/* Issue 7: the pause was never cleared, so the loop woke every 100 ms
 * forever after the first one. */
START_TEST(after_a_pause_the_loop_sleeps_long_again)
{
    rst_accept_pause p = { 0 };
    ck_assert_int_eq(rst_worker_wait_ms(&p, 0, T0, NO_TICK), RST_WAIT_IDLE_MS);
    rst_accept_pause_start(&p, T0);
    ck_assert(rst_accept_paused(&p, T0 + 50));
    ck_assert(!rst_accept_pause_over(&p, T0 + 50));
    ck_assert_int_le(rst_worker_wait_ms(&p, 0, T0 + 50, NO_TICK), RST_ACCEPT_PAUSE_MS);
    ck_assert_int_gt(rst_worker_wait_ms(&p, 0, T0 + 50, NO_TICK), 0);
    ck_assert(rst_accept_pause_over(&p, T0 + RST_ACCEPT_PAUSE_MS));
    ck_assert(!rst_accept_paused(&p, T0 + RST_ACCEPT_PAUSE_MS));
    ck_assert_int_eq(rst_worker_wait_ms(&p, 0, T0 + RST_ACCEPT_PAUSE_MS, NO_TICK), RST_WAIT_IDLE_MS);
    ck_assert_int_eq(rst_worker_wait_ms(&p, 0, T0 + 60000, NO_TICK), RST_WAIT_IDLE_MS);
}
END_TEST

/* Even when the loop never got round to ending the pause (say, its
 * connections were full), a pause that is over does not shorten sleeps. */
START_TEST(a_lapsed_pause_does_not_shorten_sleeps)
{
    rst_accept_pause p = { 0 };
    rst_accept_pause_start(&p, T0);
    ck_assert_int_eq(rst_worker_wait_ms(&p, 0, T0 + 5000, NO_TICK), RST_WAIT_IDLE_MS);
}
END_TEST

/* During a pause the loop wakes when it ends, not later; draining keeps
 * its short sleep. */
START_TEST(a_pause_sleeps_until_its_end)
{
    rst_accept_pause p = { 0 };
    rst_accept_pause_start(&p, T0);
    ck_assert_int_eq(rst_worker_wait_ms(&p, 0, T0 + 30, NO_TICK), RST_ACCEPT_PAUSE_MS - 30);
    ck_assert_int_eq(rst_worker_wait_ms(&p, 0, T0 + RST_ACCEPT_PAUSE_MS - 1, NO_TICK), 1);
    ck_assert_int_eq(rst_worker_wait_ms(&p, 1, T0 + 30, NO_TICK), RST_WAIT_DRAIN_MS);
    ck_assert_int_eq(rst_worker_wait_ms(&p, 1, T0 + 60000, NO_TICK), RST_WAIT_DRAIN_MS);
}
END_TEST

/* A draining worker runs no fan-out tick, so an overdue one must not
 * make it poll without sleeping: it did, and every recycling worker spun
 * on a core until nginx closed its connections. */
START_TEST(a_draining_worker_sleeps_past_an_overdue_tick)
{
    rst_accept_pause p = { 0 };
    ck_assert_int_eq(rst_worker_wait_ms(&p, 1, T0, T0 - 500), RST_WAIT_DRAIN_MS);
    ck_assert_int_eq(rst_worker_wait_ms(&p, 1, T0, 0), RST_WAIT_DRAIN_MS);
}
END_TEST

/* A serving worker wakes for its tick: at once when it is due, else when
 * it is (or sooner, for a pause that ends first). */
START_TEST(a_serving_worker_wakes_for_its_tick)
{
    rst_accept_pause p = { 0 };
    ck_assert_int_eq(rst_worker_wait_ms(&p, 0, T0, T0), 0);
    ck_assert_int_eq(rst_worker_wait_ms(&p, 0, T0, T0 - 1), 0);
    ck_assert_int_eq(rst_worker_wait_ms(&p, 0, T0, T0 + 20), 20);
    ck_assert_int_eq(rst_worker_wait_ms(&p, 0, T0, T0 + 5000), RST_WAIT_IDLE_MS);
    rst_accept_pause_start(&p, T0);
    ck_assert_int_eq(rst_worker_wait_ms(&p, 0, T0 + 10, T0 + 5000), RST_ACCEPT_PAUSE_MS - 10);
    ck_assert_int_eq(rst_worker_wait_ms(&p, 0, T0 + 10, T0 + 15), 5);
}
END_TEST

/* EMFILE that lasts: a pause every 100 ms for three seconds warns about
 * once a second, not once and then never again. */
START_TEST(lasting_trouble_warns_once_a_second)
{
    rst_accept_pause p = { 0 };
    int warnings = 0;
    for (uint64_t t = T0; t < T0 + 3000; t += RST_ACCEPT_PAUSE_MS) {
        rst_accept_pause_over(&p, t);
        warnings += rst_accept_pause_start(&p, t);
    }
    ck_assert_int_eq(warnings, 3);
    /* a pause right after one that just ended: no new line */
    rst_accept_pause q = { 0 };
    ck_assert_int_eq(rst_accept_pause_start(&q, T0), 1);
    ck_assert(rst_accept_pause_over(&q, T0 + 200));
    ck_assert_int_eq(rst_accept_pause_start(&q, T0 + 200), 0);
    ck_assert_int_eq(rst_accept_pause_start(&q, T0 + 1000), 1);
}
END_TEST

Suite *suite_worker(void)
{
    Suite *s = suite_create("worker");
    TCase *tc = tcase_create("accept pause");
    tcase_add_test(tc, after_a_pause_the_loop_sleeps_long_again);
    tcase_add_test(tc, a_lapsed_pause_does_not_shorten_sleeps);
    tcase_add_test(tc, a_pause_sleeps_until_its_end);
    tcase_add_test(tc, lasting_trouble_warns_once_a_second);
    tcase_add_test(tc, a_draining_worker_sleeps_past_an_overdue_tick);
    tcase_add_test(tc, a_serving_worker_wakes_for_its_tick);
    suite_add_tcase(s, tc);
    return s;
}
