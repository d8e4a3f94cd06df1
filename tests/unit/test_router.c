/* test_router.c -- route matching, 404/405 and the Allow header. */
#include <string.h>

#include "http/router.h"
#include "suites.h"

static const int A = 1, B = 2, C = 3, D = 4;
static const rst_route routes[] = {
    { RST_M_GET, "/products", &A },
    { RST_M_POST, "/products", &B },
    { RST_M_GET | RST_M_PUT, "/product/{id}", &C },
    { RST_M_DELETE, "/followers/{id}", &D },
};
#define NROUTES (sizeof(routes) / sizeof(routes[0]))

static rst_route_result find(rst_method m, const char *path, rst_route_match *match, unsigned *allowed)
{
    return rst_router_find(routes, NROUTES, m, path, match, allowed);
}

START_TEST(literal_routes_pick_by_method)
{
    rst_route_match m;
    unsigned allowed = 0;
    ck_assert_int_eq(find(RST_M_GET, "/products", &m, &allowed), RST_ROUTE_FOUND);
    ck_assert_ptr_eq(m.route->data, &A);
    ck_assert_int_eq(find(RST_M_POST, "/products", &m, &allowed), RST_ROUTE_FOUND);
    ck_assert_ptr_eq(m.route->data, &B);
    ck_assert_int_eq(m.nids, 0);
}
END_TEST

START_TEST(id_segments_are_parsed)
{
    rst_route_match m;
    unsigned allowed = 0;
    ck_assert_int_eq(find(RST_M_GET, "/product/18446744073709551615", &m, &allowed), RST_ROUTE_FOUND);
    ck_assert_int_eq(m.nids, 1);
    ck_assert_uint_eq(m.ids[0], UINT64_MAX);
    ck_assert_int_eq(find(RST_M_PUT, "/product/42", &m, &allowed), RST_ROUTE_FOUND);
    ck_assert_uint_eq(m.ids[0], 42);
}
END_TEST

START_TEST(non_numeric_or_overflowing_ids_do_not_match)
{
    rst_route_match m;
    unsigned allowed = 0;
    const char *bad[] = { "/product/abc", "/product/", "/product/12a", "/product/-1",
                          "/product/18446744073709551616", "/product/1/", "/product/+1",
                          "/product/%31", "/product/1 " };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(find(RST_M_GET, bad[i], &m, &allowed) == RST_ROUTE_NOT_FOUND, "%s", bad[i]);
}
END_TEST

START_TEST(unknown_paths_are_not_found)
{
    rst_route_match m;
    unsigned allowed = 0;
    ck_assert_int_eq(find(RST_M_GET, "/", &m, &allowed), RST_ROUTE_NOT_FOUND);
    ck_assert_int_eq(find(RST_M_GET, "/products/", &m, &allowed), RST_ROUTE_NOT_FOUND);
    ck_assert_int_eq(find(RST_M_GET, "/Products", &m, &allowed), RST_ROUTE_NOT_FOUND);
    ck_assert_int_eq(find(RST_M_GET, "/productsx", &m, &allowed), RST_ROUTE_NOT_FOUND);
    ck_assert_int_eq(find(RST_M_GET, "", &m, &allowed), RST_ROUTE_NOT_FOUND);
}
END_TEST

START_TEST(wrong_method_gives_allow_set)
{
    rst_route_match m;
    unsigned allowed = 0;
    char allow[64];
    ck_assert_int_eq(find(RST_M_DELETE, "/products", &m, &allowed), RST_ROUTE_BAD_METHOD);
    rst_route_allow_header(allowed, allow, sizeof(allow));
    ck_assert_str_eq(allow, "GET, HEAD, POST");
    ck_assert_int_eq(find(RST_M_POST, "/product/1", &m, &allowed), RST_ROUTE_BAD_METHOD);
    rst_route_allow_header(allowed, allow, sizeof(allow));
    ck_assert_str_eq(allow, "GET, HEAD, PUT");
    ck_assert_int_eq(find(RST_M_OTHER, "/followers/9", &m, &allowed), RST_ROUTE_BAD_METHOD);
    rst_route_allow_header(allowed, allow, sizeof(allow));
    ck_assert_str_eq(allow, "DELETE");
}
END_TEST

START_TEST(head_is_served_where_get_is)
{
    rst_route_match m;
    unsigned allowed = 0;
    ck_assert_int_eq(find(RST_M_HEAD, "/products", &m, &allowed), RST_ROUTE_FOUND);
    ck_assert_ptr_eq(m.route->data, &A);
    ck_assert_int_eq(find(RST_M_HEAD, "/followers/1", &m, &allowed), RST_ROUTE_BAD_METHOD);
}
END_TEST

START_TEST(method_names_parse)
{
    ck_assert_int_eq(rst_method_parse("GET"), RST_M_GET);
    ck_assert_int_eq(rst_method_parse("HEAD"), RST_M_HEAD);
    ck_assert_int_eq(rst_method_parse("DELETE"), RST_M_DELETE);
    ck_assert_int_eq(rst_method_parse("get"), RST_M_OTHER);
    ck_assert_int_eq(rst_method_parse("PATCH"), RST_M_OTHER);
    ck_assert_int_eq(rst_method_parse(NULL), RST_M_OTHER);
}
END_TEST

START_TEST(allow_header_truncates_safely)
{
    char tiny[8];
    rst_route_allow_header(RST_M_GET | RST_M_HEAD | RST_M_POST, tiny, sizeof(tiny));
    ck_assert(strlen(tiny) < sizeof(tiny));
}
END_TEST

Suite *suite_router(void)
{
    Suite *s = suite_create("router");
    TCase *tc = tcase_create("match");
    tcase_add_test(tc, literal_routes_pick_by_method);
    tcase_add_test(tc, id_segments_are_parsed);
    tcase_add_test(tc, non_numeric_or_overflowing_ids_do_not_match);
    tcase_add_test(tc, unknown_paths_are_not_found);
    tcase_add_test(tc, wrong_method_gives_allow_set);
    tcase_add_test(tc, head_is_served_where_get_is);
    tcase_add_test(tc, method_names_parse);
    tcase_add_test(tc, allow_header_truncates_safely);
    suite_add_tcase(s, tc);
    return s;
}
