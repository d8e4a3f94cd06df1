/* test_ops.c -- the operations endpoints of API.md §7 as an operator reads
 * them: /status describes the worker pool, /metrics the same figures and
 * per-route counts in Prometheus text format, both exempt from Accept. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suites.h"

START_TEST(status_describes_the_pool)
{
    api_resp r;
    ck_assert_int_eq(api_request(&r, "GET", "/status", NULL, 0, (const char *const[]){ "Accept:", NULL }), 0);
    ck_assert_msg(r.status == 200, "status %ld: %s", r.status, r.body);
    ck_assert_ptr_nonnull(r.json);
    int total = (int)api_json_at(&r, "total_workers")->valuedouble;
    int idle = (int)api_json_at(&r, "idle_workers")->valuedouble;
    int active = (int)api_json_at(&r, "active_workers")->valuedouble;
    ck_assert_int_ge(total, 1);
    /* The rest are idle, or draining/starting around a recycle. */
    ck_assert_int_le(idle + active, total);
    ck_assert(cJSON_IsNumber(api_json_at(&r, "listen_queue")));
    ck_assert(cJSON_IsNumber(api_json_at(&r, "accepted_conn")));
    ck_assert(cJSON_IsNumber(api_json_at(&r, "max_active_workers")));
    ck_assert(cJSON_IsNumber(api_json_at(&r, "max_workers_reached")));
    ck_assert(cJSON_IsNumber(api_json_at(&r, "slow_requests")));
    ck_assert_ptr_nonnull(api_json_str(&r, "start_time"));
    const cJSON *workers = api_json_at(&r, "workers");
    ck_assert_int_eq(cJSON_GetArraySize(workers), total);
    int busy_on_status = 0, busy = 0, idle_seen = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, workers) {
        ck_assert(cJSON_GetObjectItem(w, "pid")->valuedouble > 0);
        const char *st = cJSON_GetObjectItem(w, "state")->valuestring;
        busy += strcmp(st, "busy") == 0;
        idle_seen += strcmp(st, "idle") == 0;
        ck_assert_msg(strcmp(st, "busy") == 0 || strcmp(st, "idle") == 0 ||
                      strcmp(st, "exiting") == 0 || strcmp(st, "starting") == 0, "state %s", st);
        const cJSON *req = cJSON_GetObjectItem(w, "request");
        ck_assert_ptr_nonnull(req);
        /* This very request, on a worker that is busy -- or draining, as
         * the test stack recycles workers often. */
        if ((strcmp(st, "busy") == 0 || strcmp(st, "exiting") == 0) &&
            cJSON_IsTrue(cJSON_GetObjectItem(req, "in_progress")) &&
            cJSON_IsString(cJSON_GetObjectItem(req, "path")) &&
            strcmp(cJSON_GetObjectItem(req, "path")->valuestring, "/status") == 0)
            busy_on_status = 1;
    }
    ck_assert_msg(busy_on_status, "no worker shown busy on GET /status: %s", r.body);
    ck_assert_int_eq(busy, active);
    ck_assert_int_eq(idle_seen, idle);
    api_free(&r);
}
END_TEST

START_TEST(metrics_count_requests_by_route)
{
    api_resp r;
    ck_assert_int_eq(api_request(&r, "GET", "/metrics", NULL, 0, NULL), 0);
    ck_assert_int_eq(r.status, 200);
    double before = api_metric(r.body, "roost_requests_total{route=\"user.get\",status=\"4xx\"}");
    api_free(&r);

    /* Three 404s from a route that nginx never caches a 404 for. */
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(api_get(&r, "/users/1"), 0);
        ck_assert_int_eq(r.status, 404);
        api_free(&r);
    }
    ck_assert_int_eq(api_request(&r, "GET", "/metrics", NULL, 0, NULL), 0);
    char ct[128];
    ck_assert_ptr_nonnull(api_header(&r, "Content-Type", ct, sizeof(ct)));
    ck_assert_msg(strncmp(ct, "text/plain", 10) == 0, "content type %s", ct);
    double after = api_metric(r.body, "roost_requests_total{route=\"user.get\",status=\"4xx\"}");
    ck_assert_msg(after == (before < 0 ? 0 : before) + 3, "user.get 4xx went from %g to %g", before, after);
    ck_assert_msg(api_metric(r.body, "roost_workers{pool=\"main\",state=\"total\"}") >= 1, "%s", r.body);
    ck_assert_msg(api_metric(r.body, "roost_workers{pool=\"slow\",state=\"total\"}") >= 1, "%s", r.body);
    ck_assert_msg(api_metric(r.body, "roost_max_children{pool=\"slow\"}") == 2, "%s", r.body);
    ck_assert_msg(api_metric(r.body, "roost_request_duration_seconds_count{route=\"user.get\"}") >= 3,
                  "no latency histogram for user.get");
    ck_assert_msg(strstr(r.body, "roost_request_duration_seconds_bucket{route=\"user.get\",le=\"+Inf\"}") != NULL,
                  "no +Inf bucket");
    api_free(&r);
}
END_TEST

Suite *suite_ops(void)
{
    Suite *s = suite_create("ops");
    TCase *tc = api_tcase(s, "status and metrics");
    tcase_add_test(tc, status_describes_the_pool);
    tcase_add_test(tc, metrics_count_requests_by_route);
    return s;
}
