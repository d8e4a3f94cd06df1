/* test_accept.c -- unit tests of http/accept: which Accept headers allow
 * application/json (RFC 9110 q-values and specificity). */
#include <stdlib.h>
#include <string.h>

#include "http/accept.h"
#include "suites.h"

/* Hot loops check with this instead of ck_assert: Check's passing asserts
 * each record a checkpoint (a write to a pipe in fork mode), which makes
 * 100 000-iteration loops slow enough to hit the test timeout. */
#define FAST_CHECK(cond, ...) \
    do { if (!(cond)) ck_abort_msg(__VA_ARGS__); } while (0)

#define ACCEPTS(h) ck_assert_msg(rst_accept_json(h) == 1, "should accept: %s", h)
#define REFUSES(h) ck_assert_msg(rst_accept_json(h) == 0, "should refuse: %s", h)

START_TEST(test_brief_examples)
{
    ACCEPTS("application/json");
    ACCEPTS("*/*");
    REFUSES("text/html");
    REFUSES("application/json;q=0, */*");
    ACCEPTS("application/json;q=0.5, */*;q=0");
    ACCEPTS("text/html, application/*;q=0.1");
    REFUSES("application/*;q=0, */*");
    REFUSES("garbage");
}
END_TEST

START_TEST(test_simple_ranges)
{
    ACCEPTS("application/*");
    ACCEPTS("text/html, application/json");
    ACCEPTS("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
    REFUSES("application/xml");
    REFUSES("application/jsonx");
    REFUSES("application/json-patch+json");
    REFUSES("text/json");
    REFUSES("text/*");
    REFUSES("image/*, text/plain");
    REFUSES("json");
    REFUSES("application");
    REFUSES("application/");
    REFUSES("/json");
}
END_TEST

START_TEST(test_case_insensitive)
{
    ACCEPTS("Application/JSON");
    ACCEPTS("APPLICATION/*");
    ACCEPTS("application/json;Q=1");
    REFUSES("application/json;Q=0");
}
END_TEST

START_TEST(test_q_values)
{
    ACCEPTS("application/json;q=1");
    ACCEPTS("application/json;q=1.");
    ACCEPTS("application/json;q=1.0");
    ACCEPTS("application/json;q=1.000");
    ACCEPTS("application/json;q=0.001");
    ACCEPTS("application/json;q=0.5");
    REFUSES("application/json;q=0");
    REFUSES("application/json;q=0.");
    REFUSES("application/json;q=0.0");
    REFUSES("application/json;q=0.000");
    REFUSES("*/*;q=0");
    REFUSES("application/*;q=0");
}
END_TEST

START_TEST(test_invalid_q_skips_element)
{
    /* An invalid q makes the element malformed: it is skipped entirely. */
    REFUSES("application/json;q=2");
    REFUSES("application/json;q=1.5");
    REFUSES("application/json;q=1.001");
    REFUSES("application/json;q=0.0001");
    REFUSES("application/json;q=-1");
    REFUSES("application/json;q=.5");
    REFUSES("application/json;q=");
    REFUSES("application/json;q=abc");
    REFUSES("application/json;q=\"1\"");
    REFUSES("application/json;q=0.5;q=1");   /* two weights: ambiguous */
    REFUSES("application/json;q=0.5x");
    /* ... and only that element: the rest of the header still counts. */
    ACCEPTS("application/json;q=2, */*");
    ACCEPTS("application/json;q=abc, application/*;q=0.3");
    /* A skipped exact range cannot exclude JSON either. */
    ACCEPTS("application/json;q=0x, */*");
}
END_TEST

START_TEST(test_most_specific_decides)
{
    REFUSES("*/*, application/json;q=0");
    REFUSES("*/*;q=1, application/*;q=0");
    ACCEPTS("application/*;q=0, application/json");
    ACCEPTS("*/*;q=0, application/*;q=0.2");
    ACCEPTS("application/json;q=0.1, */*;q=1");
    REFUSES("application/*;q=0, */*;q=1");
    REFUSES("application/json;q=0, application/*;q=1, */*;q=1");
    /* text/html is irrelevant to JSON */
    REFUSES("text/html;q=1, application/json;q=0");
}
END_TEST

START_TEST(test_parameters)
{
    ACCEPTS("application/json;charset=utf-8");
    ACCEPTS("application/json; charset=\"utf-8\"");
    ACCEPTS("application/json;charset=utf-8;q=0.5");
    ACCEPTS("application/json;q=0.5;charset=utf-8");
    ACCEPTS("application/json;x=\"a,b;c\", text/html");   /* comma inside quotes */
    ACCEPTS("application/json;x=\"say \\\"hi\\\"\"");
    ACCEPTS("application/*;foo=bar");
    ACCEPTS("application/json;;q=1");                     /* empty parameter */
    ACCEPTS("application/json;");
    REFUSES("application/json;charset=utf-8;q=0");
    /* A range with parameters is more specific than one without. */
    REFUSES("application/json;charset=utf-8;q=0, application/json");
    ACCEPTS("application/json;charset=utf-8, application/json;q=0");
    /* Malformed parameters make the element malformed. */
    REFUSES("application/json;charset");
    REFUSES("application/json;=utf-8");
    REFUSES("application/json;x=\"unterminated");
    REFUSES("application/json;x=a b");
    ACCEPTS("application/json;charset, */*");
}
END_TEST

START_TEST(test_whitespace)
{
    ACCEPTS("  application/json  ");
    ACCEPTS("\tapplication/json\t");
    ACCEPTS("application/json ; q=0.5");
    ACCEPTS("application/json;q = 0.5");
    ACCEPTS("text/html ,  application/json ,image/png");
    ACCEPTS(", , application/json,,");
    REFUSES("application/json ;q=0 , */*");
    REFUSES("application /json");
    REFUSES("application/ json");
    REFUSES("application/json q=1");
}
END_TEST

START_TEST(test_garbage)
{
    static const char *junk[] = {
        "", " ", ",", ";", ";;;", "/", "*", "**", "*/json", "*/*/*",
        "application/json/x", "\"application/json\"", "application/json\x01",
        "application\\/json", "application/js\"on", "\xff\xfe", "q=1",
        "application/json;q=1 junk", "application/json junk",
    };
    size_t i;

    for (i = 0; i < sizeof junk / sizeof junk[0]; i++)
        ck_assert_msg(rst_accept_json(junk[i]) == 0, "should refuse: %s", junk[i]);
    ck_assert_int_eq(rst_accept_json(NULL), 0);
    /* Garbage before or after a good element does not hide it. */
    ACCEPTS("@@@, application/json");
    ACCEPTS("*/json, application/json");
    ACCEPTS("text/\"x,y\"/z, application/json");
    ACCEPTS("application/json, \"unterminated");
    REFUSES("\"unterminated, application/json");   /* the quote swallows the rest */
}
END_TEST

START_TEST(test_random_headers_never_crash)
{
    static const char alphabet[] = "ap/lic*tion/jso;q=0.1,\" \\\t";
    unsigned seed = 4242;
    int round;

    for (round = 0; round < 20000; round++) {
        char h[40];
        size_t len = (size_t)(rand_r(&seed) % (int)sizeof h), i;
        int r;

        for (i = 0; i < len; i++)
            h[i] = alphabet[rand_r(&seed) % (int)(sizeof alphabet - 1)];
        h[len] = '\0';
        r = rst_accept_json(h);
        FAST_CHECK(r == 0 || r == 1, "header %s: %d", h, r);
    }
}
END_TEST

Suite *suite_accept(void)
{
    Suite *s = suite_create("accept");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_brief_examples);
    tcase_add_test(tc, test_simple_ranges);
    tcase_add_test(tc, test_case_insensitive);
    tcase_add_test(tc, test_q_values);
    tcase_add_test(tc, test_invalid_q_skips_element);
    tcase_add_test(tc, test_most_specific_decides);
    tcase_add_test(tc, test_parameters);
    tcase_add_test(tc, test_whitespace);
    tcase_add_test(tc, test_garbage);
    tcase_add_test(tc, test_random_headers_never_crash);
    suite_add_tcase(s, tc);
    return s;
}
