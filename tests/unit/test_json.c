/* test_json.c -- unit tests of core/json: the strict RFC 8259 gate in front
 * of cJSON (grammar, UTF-8, surrogate escapes, trailing bytes, depth), the
 * verdict order, and exact integer reading through the number literals. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "suites.h"

/* Hot loops check with this instead of ck_assert: Check's passing asserts
 * each record a checkpoint (a write to a pipe in fork mode), which makes
 * 100 000-iteration loops slow enough to hit the test timeout. */
#define FAST_CHECK(cond, ...) \
    do { if (!(cond)) ck_abort_msg(__VA_ARGS__); } while (0)

/* Parses s[0..len) and checks the out-parameter contract: a tree exactly
 * when the status is OK. */
static rst_json_status parse_len(const char *s, size_t len)
{
    cJSON *j = (cJSON *)&j;   /* poison: must be overwritten */
    rst_json_status st = rst_json_parse_body(s, len, &j);

    if (st == RST_JSON_OK)
        ck_assert_ptr_nonnull(j);
    else
        ck_assert_ptr_null(j);
    cJSON_Delete(j);
    return st;
}

static rst_json_status parse(const char *s)
{
    return parse_len(s, strlen(s));
}

#define ck_json(s, want) \
    ck_assert_msg(parse(s) == (want), "body %s: got %d, want %d", s, (int)parse(s), (int)(want))
#define ck_json_bytes(lit, want) \
    ck_assert_int_eq(parse_len(lit, sizeof(lit) - 1), want)

/* {"a":{"a":...{}}} with `levels` objects. */
static char *nested_objects(size_t levels)
{
    char *s = malloc(levels * 6 + 1), *p = s;
    size_t i;

    ck_assert_ptr_nonnull(s);
    for (i = 0; i + 1 < levels; i++) {
        memcpy(p, "{\"a\":", 5);
        p += 5;
    }
    *p++ = '{';
    for (i = 0; i < levels; i++)
        *p++ = '}';
    *p = '\0';
    return s;
}

/* {"a":[[...]]}: one object and levels-1 arrays; `close` = 0 leaves the
 * arrays unclosed. */
static char *nested_arrays(size_t levels, int close)
{
    char *s = malloc(levels * 2 + 8), *p = s;
    size_t i;

    ck_assert_ptr_nonnull(s);
    memcpy(p, "{\"a\":", 5);
    p += 5;
    for (i = 0; i + 1 < levels; i++)
        *p++ = '[';
    if (close) {
        for (i = 0; i + 1 < levels; i++)
            *p++ = ']';
        *p++ = '}';
    }
    *p = '\0';
    return s;
}

START_TEST(test_valid_objects)
{
    ck_json("{}", RST_JSON_OK);
    ck_json(" \t\r\n{ } \n", RST_JSON_OK);
    ck_json("{\"a\":1}", RST_JSON_OK);
    ck_json("{\"a\":[],\"b\":{},\"c\":[1,\"x\",true,false,null,{}]}", RST_JSON_OK);
    ck_json("{ \"a\" : [ 1 , 2 ] , \"b\" : \"c\" }", RST_JSON_OK);
    ck_json("{\"\":0}", RST_JSON_OK);
    ck_json("{\"a\":1,\"a\":2}", RST_JSON_OK);      /* duplicates: RFC says SHOULD */
    ck_json("{\"n\":[0,-0,1.5,-1.5e10,1E+2,2e-3,0.0]}", RST_JSON_OK);
    ck_json("{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\uFFFF\"}", RST_JSON_OK);
    ck_json("{\"s\":\"caf\xc3\xa9 \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf\"}", RST_JSON_OK);
    ck_json("{\"caf\xc3\xa9\":\"\x7f\"}", RST_JSON_OK);    /* DEL may be raw */
}
END_TEST

START_TEST(test_grammar_errors)
{
    static const char *bad[] = {
        "", " ", "{", "}", "{]", "[}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}",
        "{,}", "{\"a\" 1}", "{'a':1}", "{a:1}", "{\"a\":1 \"b\":2}",
        "{\"a\":01}", "{\"a\":-01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":-}",
        "{\"a\":+1}", "{\"a\":1e}", "{\"a\":1e+}", "{\"a\":1.e5}", "{\"a\":0x10}",
        "{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\":-Infinity}", "{\"a\":tru}",
        "{\"a\":True}", "{\"a\":nul}", "{\"a\":nulll}", "{\"a\":[1,]}",
        "{\"a\":[,1]}", "{\"a\":[1 2]}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}",
        "{\"a\":\"\\u12G4\"}", "{\"a\":\"\\U0041\"}", "{\"a\":\"unterminated}",
        "{\"a\":\"\\", "{\"a\":\"\\\"}", "/* c */{}", "{}//", "{\"a\":1}}",
        "{\"a\":[1]]}", "{\"a\":{}", "{\"a\":[}", "{1:2}", "{null:1}",
        "{\"a\"::1}", "{\"a\":1:2}",
    };
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(parse(bad[i]) == RST_JSON_MALFORMED, "accepted: %s", bad[i]);
}
END_TEST

START_TEST(test_trailing_bytes)
{
    ck_json("{} x", RST_JSON_MALFORMED);
    ck_json("{}{}", RST_JSON_MALFORMED);
    ck_json("{} {}", RST_JSON_MALFORMED);
    ck_json("{},", RST_JSON_MALFORMED);
    ck_json("{}]", RST_JSON_MALFORMED);
    ck_json("{}0", RST_JSON_MALFORMED);
    ck_json("[] x", RST_JSON_MALFORMED);   /* malformed beats not-an-object */
    ck_json("1 2", RST_JSON_MALFORMED);
    ck_json_bytes("{}\0", RST_JSON_MALFORMED);
    ck_json_bytes("{} \0 ", RST_JSON_MALFORMED);
    ck_json_bytes("\0{}", RST_JSON_MALFORMED);
    ck_json_bytes("{\0}", RST_JSON_MALFORMED);
}
END_TEST

START_TEST(test_only_json_whitespace)
{
    /* cJSON treats every byte <= 0x20 as whitespace; RFC 8259 does not. */
    ck_json("{\f}", RST_JSON_MALFORMED);
    ck_json("\v{}", RST_JSON_MALFORMED);
    ck_json("{}\x01", RST_JSON_MALFORMED);
    ck_json("{\"a\":\x1f" "1}", RST_JSON_MALFORMED);
    ck_json("{}\xc2\xa0", RST_JSON_MALFORMED);          /* NBSP */
    ck_json("\xe3\x80\x80{}", RST_JSON_MALFORMED);      /* ideographic space */
}
END_TEST

START_TEST(test_byte_order_mark_rejected)
{
    /* RFC 8259 §8.1: senders MUST NOT add a BOM; we refuse it (cJSON would
     * silently skip it). */
    ck_json("\xef\xbb\xbf{}", RST_JSON_MALFORMED);
    ck_json("\xef\xbb\xbf{\"a\":1}", RST_JSON_MALFORMED);
    ck_json("{\"a\":\"\xef\xbb\xbf\"}", RST_JSON_OK);    /* U+FEFF inside a string is text */
}
END_TEST

START_TEST(test_control_characters_in_strings)
{
    ck_json("{\"a\":\"x\ty\"}", RST_JSON_MALFORMED);
    ck_json("{\"a\":\"x\ny\"}", RST_JSON_MALFORMED);
    ck_json("{\"a\":\"x\ry\"}", RST_JSON_MALFORMED);
    ck_json("{\"a\":\"\x01\"}", RST_JSON_MALFORMED);
    ck_json("{\"a\":\"\x1f\"}", RST_JSON_MALFORMED);
    ck_json("{\"a\x0b\":1}", RST_JSON_MALFORMED);        /* in a member name too */
    ck_json_bytes("{\"a\":\"x\0y\"}", RST_JSON_MALFORMED);
    ck_json("{\"a\":\"x\\ty\\n\"}", RST_JSON_OK);        /* escaped: fine */
    ck_json("{\"a\":\" \"}", RST_JSON_OK);
}
END_TEST

START_TEST(test_invalid_utf8)
{
    ck_json("{\"a\":\"\xc0\xaf\"}", RST_JSON_MALFORMED);             /* overlong */
    ck_json("{\"a\":\"\xe0\x80\xaf\"}", RST_JSON_MALFORMED);
    ck_json("{\"a\":\"\xed\xa0\x80\"}", RST_JSON_MALFORMED);         /* raw surrogate */
    ck_json("{\"a\":\"\xed\xa0\xbd\xed\xb8\x80\"}", RST_JSON_MALFORMED); /* CESU-8 */
    ck_json("{\"a\":\"\xf4\x90\x80\x80\"}", RST_JSON_MALFORMED);     /* > U+10FFFF */
    ck_json("{\"a\":\"\xff\"}", RST_JSON_MALFORMED);
    ck_json("{\"a\":\"\x80\"}", RST_JSON_MALFORMED);
    ck_json("{\"a\":\"\xc3\"}", RST_JSON_MALFORMED);                 /* truncated */
    ck_json("{\"a\":\"\xe2\x82\"}", RST_JSON_MALFORMED);
    ck_json("{\"\xff\":1}", RST_JSON_MALFORMED);                     /* in a name */
    ck_json("{\"a\":\"ok\"}\xff", RST_JSON_MALFORMED);
    ck_json("{\"a\":\"\xc3", RST_JSON_MALFORMED);
}
END_TEST

START_TEST(test_surrogate_escapes)
{
    cJSON *j = NULL;
    const char *body = "{\"e\":\"\\ud83d\\ude00\",\"c\":\"caf\\u00e9\"}";

    ck_json("{\"a\":\"\\ud800\"}", RST_JSON_MALFORMED);              /* lone high */
    ck_json("{\"a\":\"\\udc00\"}", RST_JSON_MALFORMED);              /* lone low */
    ck_json("{\"a\":\"\\uDBFF\"}", RST_JSON_MALFORMED);
    ck_json("{\"a\":\"\\uDFFF\"}", RST_JSON_MALFORMED);
    ck_json("{\"a\":\"\\ud800x\"}", RST_JSON_MALFORMED);
    ck_json("{\"a\":\"\\ud800\\u0041\"}", RST_JSON_MALFORMED);       /* high + non-low */
    ck_json("{\"a\":\"\\ud800\\ud800\"}", RST_JSON_MALFORMED);       /* high + high */
    ck_json("{\"a\":\"\\ude00\\ud83d\"}", RST_JSON_MALFORMED);       /* reversed pair */
    ck_json("{\"a\":\"\\ud800\\\"}", RST_JSON_MALFORMED);
    ck_json("{\"a\":\"\\ud800\\n\"}", RST_JSON_MALFORMED);
    ck_json("{\"a\":\"\\ud83d\\ude00\"}", RST_JSON_OK);
    ck_json("{\"a\":\"\\uD83D\\uDE00\\uDBFF\\uDFFF\"}", RST_JSON_OK);
    ck_json("{\"\\ud800\":1}", RST_JSON_MALFORMED);                  /* in a name */

    ck_assert_int_eq(rst_json_parse_body(body, strlen(body), &j), RST_JSON_OK);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "e")->valuestring,
                     "\xf0\x9f\x98\x80");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "c")->valuestring,
                     "caf\xc3\xa9");
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_escaped_nul_is_valid)
{
    cJSON *j = NULL;
    const char *body = "{\"a\":\"x\\u0000y\",\"b\\u0000\":2}";

    ck_assert_int_eq(rst_json_parse_body(body, strlen(body), &j), RST_JSON_OK);
    /* cJSON truncates at the NUL; we only require a sane tree. */
    ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(j, "a"));
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(j, "a")->valuestring, "x");
    cJSON_Delete(j);
}
END_TEST

START_TEST(test_not_object)
{
    ck_json("[]", RST_JSON_NOT_OBJECT);
    ck_json(" [1,2,{}] ", RST_JSON_NOT_OBJECT);
    ck_json("\"s\"", RST_JSON_NOT_OBJECT);
    ck_json("12", RST_JSON_NOT_OBJECT);
    ck_json("-0.5e3", RST_JSON_NOT_OBJECT);
    ck_json("true", RST_JSON_NOT_OBJECT);
    ck_json("false", RST_JSON_NOT_OBJECT);
    ck_json("null", RST_JSON_NOT_OBJECT);
    ck_json("nul", RST_JSON_MALFORMED);
    ck_json("\"\\ud800\"", RST_JSON_MALFORMED);
}
END_TEST

START_TEST(test_depth_limit_objects)
{
    char *s16 = nested_objects(16), *s17 = nested_objects(17);

    ck_assert_int_eq(parse(s16), RST_JSON_OK);
    ck_assert_int_eq(parse(s17), RST_JSON_TOO_DEEP);
    free(s16);
    free(s17);
    /* Depth is the deepest path, not the number of containers. */
    ck_json("{\"a\":{},\"b\":{},\"c\":[[],[],{}]}", RST_JSON_OK);
}
END_TEST

START_TEST(test_depth_limit_arrays)
{
    char *s16 = nested_arrays(16, 1), *s17 = nested_arrays(17, 1);

    ck_assert_int_eq(parse(s16), RST_JSON_OK);
    ck_assert_int_eq(parse(s17), RST_JSON_TOO_DEEP);
    free(s16);
    free(s17);
}
END_TEST

START_TEST(test_depth_mixed_exact)
{
    /* 8 objects and 8 arrays alternating: depth 16; one more array: 17. */
    const char *ok = "{\"a\":[{\"a\":[{\"a\":[{\"a\":[{\"a\":[{\"a\":[{\"a\":[{\"a\":[1]}]}]}]}]}]}]}]}";
    const char *deep = "{\"a\":[{\"a\":[{\"a\":[{\"a\":[{\"a\":[{\"a\":[{\"a\":[{\"a\":[[1]]}]}]}]}]}]}]}]}";

    ck_json(ok, RST_JSON_OK);
    ck_json(deep, RST_JSON_TOO_DEEP);
}
END_TEST

START_TEST(test_verdict_order)
{
    char *unclosed = nested_arrays(40, 0);
    char *huge = nested_arrays(100000, 1);
    char *huge_open = nested_arrays(100000, 0);
    char *top_array;
    size_t i;

    /* Too deep and malformed: malformed wins. */
    ck_assert_int_eq(parse(unclosed), RST_JSON_MALFORMED);
    ck_assert_int_eq(parse(huge_open), RST_JSON_MALFORMED);
    /* Malformation far past the depth limit is still found. */
    huge[100000 / 2] = 'x';
    ck_assert_int_eq(parse(huge), RST_JSON_MALFORMED);
    free(huge);
    huge = nested_arrays(100000, 1);
    /* Very deep but well-formed: no recursion, just TOO_DEEP. */
    ck_assert_int_eq(parse(huge), RST_JSON_TOO_DEEP);
    /* Deep top-level array: not an object comes first. */
    top_array = malloc(200001);
    ck_assert_ptr_nonnull(top_array);
    for (i = 0; i < 100000; i++) {
        top_array[i] = '[';
        top_array[100000 + i] = ']';
    }
    top_array[200000] = '\0';
    ck_assert_int_eq(parse(top_array), RST_JSON_NOT_OBJECT);
    free(top_array);
    free(huge);
    free(huge_open);
    free(unclosed);
}
END_TEST

START_TEST(test_null_and_empty_inputs)
{
    cJSON *j = (cJSON *)&j;

    ck_assert_int_eq(rst_json_parse_body(NULL, 0, &j), RST_JSON_MALFORMED);
    ck_assert_ptr_null(j);
    ck_assert_int_eq(rst_json_parse_body(NULL, 5, &j), RST_JSON_MALFORMED);
    ck_assert_int_eq(rst_json_parse_body("{}", 0, &j), RST_JSON_MALFORMED);
    /* The length is honoured: "{}" is a prefix of "{}x". */
    ck_assert_int_eq(rst_json_parse_body("{}x", 2, &j), RST_JSON_OK);
    cJSON_Delete(j);
    ck_assert_int_eq(rst_json_parse_body("{\"a\":1}", 6, &j), RST_JSON_MALFORMED);
    ck_assert_ptr_null(j);
}
END_TEST

/* Parses body, which must be OK, and returns the member `name`. */
static cJSON *member(cJSON **root, const char *body, const char *name)
{
    cJSON *m;

    ck_assert_int_eq(rst_json_parse_body(body, strlen(body), root), RST_JSON_OK);
    m = cJSON_GetObjectItemCaseSensitive(*root, name);
    ck_assert_ptr_nonnull(m);
    return m;
}

/* Reads {"v": lit} with rst_json_get_i64. */
static int i64_of(const char *lit, int64_t *v)
{
    char body[128];
    cJSON *root = NULL;
    int ok;

    ck_assert_int_lt(snprintf(body, sizeof body, "{\"v\":%s}", lit), (int)sizeof body);
    ok = rst_json_get_i64(member(&root, body, "v"), v);
    cJSON_Delete(root);
    return ok;
}

static int u64_of(const char *lit, uint64_t *v)
{
    char body[128];
    cJSON *root = NULL;
    int ok;

    ck_assert_int_lt(snprintf(body, sizeof body, "{\"v\":%s}", lit), (int)sizeof body);
    ok = rst_json_get_u64(member(&root, body, "v"), v);
    cJSON_Delete(root);
    return ok;
}

static int id_of(const char *lit, uint64_t *v)
{
    char body[128];
    cJSON *root = NULL;
    int ok;

    ck_assert_int_lt(snprintf(body, sizeof body, "{\"v\":%s}", lit), (int)sizeof body);
    ok = rst_json_get_id(member(&root, body, "v"), v);
    cJSON_Delete(root);
    return ok;
}

START_TEST(test_get_i64)
{
    int64_t v = 42;

    ck_assert_int_eq(i64_of("12", &v), 1);
    ck_assert_int_eq(v, 12);
    ck_assert_int_eq(i64_of("-3", &v), 1);
    ck_assert_int_eq(v, -3);
    ck_assert_int_eq(i64_of("0", &v), 1);
    ck_assert_int_eq(v, 0);
    v = 42;
    ck_assert_int_eq(i64_of("-0", &v), 1);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(i64_of("9223372036854775807", &v), 1);
    ck_assert(v == INT64_MAX);
    ck_assert_int_eq(i64_of("-9223372036854775808", &v), 1);
    ck_assert(v == INT64_MIN);
    v = 42;
    ck_assert_int_eq(i64_of("12.0", &v), 0);
    ck_assert_int_eq(i64_of("1e2", &v), 0);
    ck_assert_int_eq(i64_of("1E2", &v), 0);
    ck_assert_int_eq(i64_of("0.5", &v), 0);
    ck_assert_int_eq(i64_of("-1.0e0", &v), 0);
    ck_assert_int_eq(i64_of("9223372036854775808", &v), 0);
    ck_assert_int_eq(i64_of("-9223372036854775809", &v), 0);
    ck_assert_int_eq(i64_of("18446744073709551616", &v), 0);
    ck_assert_int_eq(i64_of("\"12\"", &v), 0);     /* strings never */
    ck_assert_int_eq(i64_of("true", &v), 0);
    ck_assert_int_eq(i64_of("null", &v), 0);
    ck_assert_int_eq(i64_of("[1]", &v), 0);
    ck_assert_int_eq(v, 42);                       /* untouched on failure */
    ck_assert_int_eq(rst_json_get_i64(NULL, &v), 0);
}
END_TEST

START_TEST(test_get_u64)
{
    uint64_t v = 42;

    ck_assert_int_eq(u64_of("18446744073709551615", &v), 1);
    ck_assert(v == UINT64_MAX);
    ck_assert_int_eq(u64_of("9007199254740993", &v), 1);   /* 2^53 + 1, not a double */
    ck_assert(v == 9007199254740993ULL);
    ck_assert_int_eq(u64_of("-0", &v), 1);
    ck_assert(v == 0);
    v = 42;
    ck_assert_int_eq(u64_of("18446744073709551616", &v), 0);
    ck_assert_int_eq(u64_of("99999999999999999999999", &v), 0);
    ck_assert_int_eq(u64_of("-1", &v), 0);
    ck_assert_int_eq(u64_of("1.0", &v), 0);
    ck_assert_int_eq(u64_of("1e0", &v), 0);
    ck_assert_int_eq(u64_of("\"5\"", &v), 0);
    ck_assert(v == 42);
}
END_TEST

START_TEST(test_get_id)
{
    uint64_t v = 42;

    ck_assert_int_eq(id_of("7291840098234369", &v), 1);
    ck_assert(v == 7291840098234369ULL);
    ck_assert_int_eq(id_of("\"7291840098234369\"", &v), 1);
    ck_assert(v == 7291840098234369ULL);
    ck_assert_int_eq(id_of("\"18446744073709551615\"", &v), 1);
    ck_assert(v == UINT64_MAX);
    ck_assert_int_eq(id_of("18446744073709551615", &v), 1);
    ck_assert_int_eq(id_of("\"007\"", &v), 1);       /* leading zeros: digits all the same */
    ck_assert(v == 7);
    v = 42;
    ck_assert_int_eq(id_of("0", &v), 0);
    ck_assert_int_eq(id_of("-0", &v), 0);
    ck_assert_int_eq(id_of("\"0\"", &v), 0);
    ck_assert_int_eq(id_of("\"00\"", &v), 0);
    ck_assert_int_eq(id_of("-1", &v), 0);
    ck_assert_int_eq(id_of("1.0", &v), 0);
    ck_assert_int_eq(id_of("1e3", &v), 0);
    ck_assert_int_eq(id_of("\"\"", &v), 0);
    ck_assert_int_eq(id_of("\"abc\"", &v), 0);
    ck_assert_int_eq(id_of("\" 1\"", &v), 0);
    ck_assert_int_eq(id_of("\"+1\"", &v), 0);
    ck_assert_int_eq(id_of("\"-1\"", &v), 0);
    ck_assert_int_eq(id_of("\"1.0\"", &v), 0);
    ck_assert_int_eq(id_of("\"1\\u00002\"", &v), 0);   /* cJSON would cut it to "1" */
    ck_assert_int_eq(id_of("\"12\\u0000\"", &v), 0);
    ck_assert_int_eq(id_of("\"18446744073709551616\"", &v), 0);
    ck_assert_int_eq(id_of("\"000000000000000000001\"", &v), 0);  /* 21 digits */
    ck_assert_int_eq(id_of("18446744073709551616", &v), 0);
    ck_assert_int_eq(id_of("true", &v), 0);
    ck_assert_int_eq(id_of("null", &v), 0);
    ck_assert_int_eq(id_of("{}", &v), 0);
    ck_assert_int_eq(id_of("[1]", &v), 0);
    ck_assert(v == 42);
}
END_TEST

START_TEST(test_numbers_annotated_in_document_order)
{
    const char *body =
        "{\"a\":[1,[2,{\"b\":3}],-4],\"c\":{\"d\":[],\"e\":5.5},"
        "\"f\":9007199254740993,\"g\":[[[6]]],\"h\":1e2,\"k\":\"7\",\"z\":-0}";
    cJSON *root = NULL, *a, *n;
    int64_t v;
    uint64_t u;

    ck_assert_int_eq(rst_json_parse_body(body, strlen(body), &root), RST_JSON_OK);
    a = cJSON_GetObjectItemCaseSensitive(root, "a");
    ck_assert_str_eq(cJSON_GetArrayItem(a, 0)->valuestring, "1");
    n = cJSON_GetArrayItem(a, 1);
    ck_assert_str_eq(cJSON_GetArrayItem(n, 0)->valuestring, "2");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(n, 1), "b")->valuestring, "3");
    ck_assert_int_eq(rst_json_get_i64(cJSON_GetArrayItem(a, 2), &v), 1);
    ck_assert_int_eq(v, -4);
    n = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "c"), "e");
    ck_assert_str_eq(n->valuestring, "5.5");
    ck_assert_int_eq(rst_json_get_i64(n, &v), 0);
    ck_assert_int_eq(rst_json_get_u64(cJSON_GetObjectItemCaseSensitive(root, "f"), &u), 1);
    ck_assert(u == 9007199254740993ULL);
    n = cJSON_GetObjectItemCaseSensitive(root, "g");
    ck_assert_str_eq(n->child->child->child->valuestring, "6");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(root, "h")->valuestring, "1e2");
    ck_assert_int_eq(rst_json_get_i64(cJSON_GetObjectItemCaseSensitive(root, "k"), &v), 0);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(root, "z")->valuestring, "-0");
    /* The double is still there for anyone who wants it. */
    ck_assert(cJSON_GetObjectItemCaseSensitive(root, "h")->valuedouble == 100.0);
    cJSON_Delete(root);   /* ASan/LSan check that every literal is freed */
}
END_TEST

START_TEST(test_number_length_limit)
{
    /* cJSON reads at most 63 characters of a number; longer literals are
     * refused rather than misparsed. */
    char body[200];
    char lit[80];

    memset(lit, '1', 63);
    lit[63] = '\0';
    snprintf(body, sizeof body, "{\"v\":%s}", lit);
    ck_assert_int_eq(parse(body), RST_JSON_OK);
    memset(lit, '1', 64);
    lit[64] = '\0';
    snprintf(body, sizeof body, "{\"v\":%s}", lit);
    ck_assert_int_eq(parse(body), RST_JSON_MALFORMED);
    /* The limit counts the whole literal: sign, point and fraction too. */
    memcpy(lit, "-0.", 3);
    memset(lit + 3, '0', 59);
    memcpy(lit + 62, "1", 2);              /* 63 characters */
    snprintf(body, sizeof body, "{\"v\":%s}", lit);
    ck_assert_int_eq(parse(body), RST_JSON_OK);
    memset(lit + 3, '0', 60);
    memcpy(lit + 63, "1", 2);              /* 64 characters */
    snprintf(body, sizeof body, "{\"v\":%s}", lit);
    ck_assert_int_eq(parse(body), RST_JSON_MALFORMED);
    ck_json("{\"v\":1e999}", RST_JSON_OK);    /* valid JSON; the double is inf */
}
END_TEST

START_TEST(test_many_numbers)
{
    /* More literals than the inline list holds: the list must grow. */
    size_t n = 5000, i;
    char *body = malloc(n * 8 + 16), *p = body;
    cJSON *root = NULL, *arr, *it;
    int64_t v;

    ck_assert_ptr_nonnull(body);
    p += sprintf(p, "{\"a\":[");
    for (i = 0; i < n; i++)
        p += sprintf(p, "%s%zu", i ? "," : "", i);
    sprintf(p, "]}");
    ck_assert_int_eq(rst_json_parse_body(body, strlen(body), &root), RST_JSON_OK);
    arr = cJSON_GetObjectItemCaseSensitive(root, "a");
    i = 0;
    cJSON_ArrayForEach(it, arr) {
        FAST_CHECK(rst_json_get_i64(it, &v) == 1 && v == (int64_t)i, "element %zu", i);
        i++;
    }
    ck_assert_uint_eq(i, n);
    cJSON_Delete(root);
    free(body);
}
END_TEST

/* Random bodies made of JSON's own characters: the parser must never crash,
 * must keep the out-parameter contract, and an OK tree must be an object
 * whose every number node carries its literal. */
static void check_tree(const cJSON *n)
{
    for (; n != NULL; n = n->next) {
        FAST_CHECK(!cJSON_IsNumber(n) || n->valuestring != NULL, "number without literal");
        check_tree(n->child);
    }
}

START_TEST(test_random_bodies_never_crash)
{
    static const char alphabet[] = "{}[]\":,0123456789-+.eEtrufalsn \\u\n\x01\xc3\xa9\xff";
    unsigned seed = 12345;
    int round;

    for (round = 0; round < 30000; round++) {
        char body[48];
        size_t len = (size_t)(rand_r(&seed) % (int)sizeof body), i;
        cJSON *j = NULL;
        rst_json_status st;

        for (i = 0; i < len; i++)
            body[i] = alphabet[rand_r(&seed) % (int)(sizeof alphabet - 1)];
        if (round % 4 == 0 && len > 2) {   /* bias towards objects */
            body[0] = '{';
            body[len - 1] = '}';
        }
        st = rst_json_parse_body(body, len, &j);
        FAST_CHECK(st >= RST_JSON_OK && st <= RST_JSON_NOMEM, "round %d: status %d", round, (int)st);
        FAST_CHECK(st == RST_JSON_OK ? cJSON_IsObject(j) : j == NULL, "round %d: tree", round);
        if (st == RST_JSON_OK)
            check_tree(j);
        cJSON_Delete(j);
    }
}
END_TEST

START_TEST(test_mutated_valid_body_never_crashes)
{
    static const char valid[] =
        "{\"id\":\"123\",\"n\":[1,-2.5e3,{\"x\":\"\\ud83d\\ude00\"}],\"b\":true,\"z\":null}";
    unsigned seed = 777;
    int round;

    ck_json(valid, RST_JSON_OK);
    for (round = 0; round < 20000; round++) {
        char body[sizeof valid];
        cJSON *j = NULL;
        size_t len = sizeof valid - 1;
        rst_json_status st;

        memcpy(body, valid, sizeof valid);
        body[rand_r(&seed) % (int)len] = (char)(rand_r(&seed) & 0xff);
        if (round % 3 == 0)
            len = (size_t)(rand_r(&seed) % (int)len) + 1;
        st = rst_json_parse_body(body, len, &j);
        FAST_CHECK(st == RST_JSON_OK ? j != NULL : j == NULL, "round %d: tree", round);
        if (st == RST_JSON_OK)
            check_tree(j);
        cJSON_Delete(j);
    }
}
END_TEST


/* Strings whose text held \u0000 are flagged (cJSON cut them at the NUL),
 * names and values counted in document order, so only the right node is. */
START_TEST(test_nul_strings_are_flagged)
{
    cJSON *root = NULL;
    const char *body =
        "{\"a\":\"x\\u0000y\",\"k\\u0000\":\"plain\",\"arr\":[\"ok\",\"\\u0000\"],"
        "\"n\":{\"deep\":\"fine\",\"z\":\"q\\u0000\"},\"last\":\"clean\"}";
    ck_assert_int_eq(rst_json_parse_body(body, strlen(body), &root), RST_JSON_OK);
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "a");
    ck_assert(rst_json_string_has_nul(a));
    ck_assert_str_eq(a->valuestring, "x");
    /* a NUL in a member name does not flag its value */
    ck_assert(!rst_json_string_has_nul(root->child->next));
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "arr");
    ck_assert(!rst_json_string_has_nul(cJSON_GetArrayItem(arr, 0)));
    ck_assert(rst_json_string_has_nul(cJSON_GetArrayItem(arr, 1)));
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(root, "n");
    ck_assert(!rst_json_string_has_nul(cJSON_GetObjectItemCaseSensitive(n, "deep")));
    ck_assert(rst_json_string_has_nul(cJSON_GetObjectItemCaseSensitive(n, "z")));
    ck_assert(!rst_json_string_has_nul(cJSON_GetObjectItemCaseSensitive(root, "last")));
    ck_assert(cJSON_IsString(a));   /* the flag does not change the type */
    cJSON_Delete(root);
}
END_TEST

/* Issue 14: "name\u0000" reached cJSON as "name" and was read as the
 * name field. A name with a NUL is an unknown field, whatever follows the
 * NUL, and never hides or replaces the real member. */
START_TEST(test_nul_member_names_are_no_field)
{
    cJSON *root = NULL;
    const char *body = "{\"name\\u0000\":\"x\",\"name\\u0000x\":\"zz1\",\"price\\u0000zz\":1299,"
                       "\"name\":\"n1\"}";
    ck_assert_int_eq(rst_json_parse_body(body, strlen(body), &root), RST_JSON_OK);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(root, "name");
    ck_assert_ptr_nonnull(name);
    ck_assert_str_eq(name->valuestring, "n1");
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(root, "price"));
    ck_assert_int_eq(cJSON_GetArraySize(root), 4);     /* present, under no field's name */
    cJSON_Delete(root);
    body = "{\"name\\u0000\":\"x\"}";
    ck_assert_int_eq(rst_json_parse_body(body, strlen(body), &root), RST_JSON_OK);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(root, "name"));
    cJSON_Delete(root);
}
END_TEST

/* An allocator for cJSON that fails once `budget` allocations are spent.
 * Check runs each test in its own process, and the test restores the default
 * hooks, so this global does not leak into other tests. */
static long alloc_budget;

static void *failing_malloc(size_t n)
{
    if (alloc_budget-- <= 0)
        return NULL;
    return malloc(n);
}

START_TEST(test_allocation_failures)
{
    /* Every allocation cJSON makes (its tree and our literal copies, which go
     * through cJSON_malloc) fails in turn: the answer is NOMEM, never a crash
     * or a leak, until there is enough memory and the parse succeeds. */
    const char *body = "{\"a\":[1,2.5,{\"b\":\"x\",\"c\":-3}],\"d\":9007199254740993}";
    cJSON_Hooks hooks = { failing_malloc, free };
    long budget;
    int succeeded = 0;

    cJSON_InitHooks(&hooks);
    for (budget = 0; budget < 100 && !succeeded; budget++) {
        cJSON *j = (cJSON *)&j;
        rst_json_status st;

        alloc_budget = budget;
        st = rst_json_parse_body(body, strlen(body), &j);
        if (st == RST_JSON_OK) {
            uint64_t v;

            ck_assert_int_eq(rst_json_get_u64(cJSON_GetObjectItemCaseSensitive(j, "d"), &v), 1);
            ck_assert(v == 9007199254740993ULL);
            succeeded = 1;
        } else {
            ck_assert_int_eq(st, RST_JSON_NOMEM);
            ck_assert_ptr_null(j);
        }
        cJSON_Delete(j);
    }
    cJSON_InitHooks(NULL);
    ck_assert_int_eq(succeeded, 1);
    ck_assert_int_gt(budget, 5);   /* the early budgets really did fail */
}
END_TEST

Suite *suite_json(void)
{
    Suite *s = suite_create("json");
    TCase *syntax = tcase_create("syntax");
    TCase *depth = tcase_create("depth");
    TCase *numbers = tcase_create("numbers");
    TCase *fuzz = tcase_create("fuzz");

    tcase_add_test(syntax, test_valid_objects);
    tcase_add_test(syntax, test_grammar_errors);
    tcase_add_test(syntax, test_trailing_bytes);
    tcase_add_test(syntax, test_only_json_whitespace);
    tcase_add_test(syntax, test_byte_order_mark_rejected);
    tcase_add_test(syntax, test_control_characters_in_strings);
    tcase_add_test(syntax, test_invalid_utf8);
    tcase_add_test(syntax, test_surrogate_escapes);
    tcase_add_test(syntax, test_escaped_nul_is_valid);
    tcase_add_test(syntax, test_nul_strings_are_flagged);
    tcase_add_test(syntax, test_nul_member_names_are_no_field);
    tcase_add_test(syntax, test_not_object);
    tcase_add_test(syntax, test_null_and_empty_inputs);
    suite_add_tcase(s, syntax);

    tcase_add_test(depth, test_depth_limit_objects);
    tcase_add_test(depth, test_depth_limit_arrays);
    tcase_add_test(depth, test_depth_mixed_exact);
    tcase_add_test(depth, test_verdict_order);
    suite_add_tcase(s, depth);

    tcase_add_test(numbers, test_get_i64);
    tcase_add_test(numbers, test_get_u64);
    tcase_add_test(numbers, test_get_id);
    tcase_add_test(numbers, test_numbers_annotated_in_document_order);
    tcase_add_test(numbers, test_number_length_limit);
    tcase_add_test(numbers, test_many_numbers);
    tcase_add_test(numbers, test_allocation_failures);
    suite_add_tcase(s, numbers);

    /* Generous: sanitizer builds are several times slower. */
    tcase_set_timeout(fuzz, 60);
    tcase_add_test(fuzz, test_random_bodies_never_crash);
    tcase_add_test(fuzz, test_mutated_valid_body_never_crashes);
    suite_add_tcase(s, fuzz);
    return s;
}
