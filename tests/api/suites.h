/* suites.h -- the Check suites of the API tests (through nginx, against
 * the real MariaDB and Redis of the test stack). */
#ifndef ROOST_TESTS_API_SUITES_H
#define ROOST_TESTS_API_SUITES_H

#include <check.h>
#include <string.h>

#include "client.h"

Suite *suite_conventions(void);
Suite *suite_products(void);
Suite *suite_users(void);
Suite *suite_product_writes(void);
Suite *suite_limits(void);
Suite *suite_ops(void);
Suite *suite_roostd(void);
Suite *suite_faults(void);
Suite *suite_seams(void);
Suite *suite_carts(void);
Suite *suite_follows(void);
Suite *suite_tweets(void);
Suite *suite_timeline(void);
Suite *suite_tweet_faults(void);
Suite *suite_cli(void);
Suite *suite_pools(void);
Suite *suite_tuning(void);
Suite *suite_authz(void);
Suite *suite_leaks(void);
Suite *suite_replicas(void);
Suite *suite_redis_ha(void);
Suite *suite_cache(void);
Suite *suite_shardmove(void);
Suite *suite_hosts(void);

#endif
