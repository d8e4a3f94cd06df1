/* main.c -- runs the API suites against ROOST_TEST_URL. Without it (e.g.
 * under `make distcheck`, which has no stack) the tests are skipped with
 * automake's exit code 77, so a plain `make check` still passes. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>

#include "suites.h"

int main(void)
{
    if (getenv("ROOST_TEST_URL") == NULL) {
        fprintf(stderr, "api_tests: ROOST_TEST_URL not set (run ./dev test); skipping\n");
        return 77;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* Fault suites last. The tweets suite comes before the carts suite,
     * whose last test stops Redis: for a moment after it, each worker's
     * circuit breaker skips Redis (and with it the Idempotency-Key store). */
    Suite *(*const suites[])(void) = { suite_conventions, suite_products, suite_users,
                                       suite_product_writes, suite_limits, suite_ops, suite_roostd, suite_pools, suite_tuning, suite_seams, suite_cli,
                                       suite_authz, suite_leaks, suite_cache,
                                       suite_tweets, suite_carts, suite_follows, suite_timeline,
                                       suite_tweet_faults, suite_replicas, suite_redis_ha,
                                       suite_hosts, suite_shardmove, suite_faults };
    SRunner *sr = srunner_create(suites[0]());
    for (size_t i = 1; i < sizeof(suites) / sizeof(suites[0]); i++)
        srunner_add_suite(sr, suites[i]());
    /* The fault suite stops and starts servers: run in order, one process
     * per test so a crash in one test does not hide the others. */
    srunner_run_all(sr, CK_ENV);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
