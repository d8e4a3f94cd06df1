/* main.c -- runs every unit-test suite with one SRunner; the exit status is
 * non-zero when any test fails. */
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>

#include "suites.h"

int main(void)
{
    Suite *(*const suites[])(void) = {
        suite_utf8, suite_json, suite_accept, suite_query, suite_cursor,
        suite_page, suite_ids, suite_num, suite_timefmt, suite_router, suite_config,
        suite_shardmap, suite_token, suite_password, suite_worker, suite_api, suite_kmerge,
        suite_tlmerge, suite_confdoc, suite_scoreboard, suite_hotcache,
    };
    SRunner *sr;
    size_t i;
    int failed;

    /* Some modules (cursor, later password hashing) use libsodium, which
     * wants to be initialised once per process before use. */
    if (sodium_init() < 0) {
        fprintf(stderr, "unit_tests: sodium_init failed\n");
        return EXIT_FAILURE;
    }
    sr = srunner_create(suites[0]());
    for (i = 1; i < sizeof suites / sizeof suites[0]; i++)
        srunner_add_suite(sr, suites[i]());
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
