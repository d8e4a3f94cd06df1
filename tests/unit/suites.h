/* suites.h -- the Check suites of the unit tests, one per module; main.c runs
 * them all with one SRunner. */
#ifndef ROOST_TESTS_UNIT_SUITES_H
#define ROOST_TESTS_UNIT_SUITES_H

#include <check.h>

Suite *suite_utf8(void);
Suite *suite_json(void);
Suite *suite_accept(void);
Suite *suite_query(void);
Suite *suite_cursor(void);
Suite *suite_page(void);
Suite *suite_ids(void);
Suite *suite_num(void);
Suite *suite_timefmt(void);
Suite *suite_router(void);
Suite *suite_config(void);
Suite *suite_shardmap(void);
Suite *suite_token(void);
Suite *suite_password(void);
Suite *suite_worker(void);
Suite *suite_api(void);
Suite *suite_kmerge(void);
Suite *suite_tlmerge(void);
Suite *suite_confdoc(void);
Suite *suite_scoreboard(void);
Suite *suite_hotcache(void);

#endif
