/* fuzz_validate.c -- libFuzzer target: field validation (app/api/validate.c)
 * over bodies the strict JSON layer accepted.
 *
 * Every field roost reads is read with the reader and the limits its
 * handler uses. Checked: a reader that says "valid" gives a value within
 * its limits (code points, control characters, integer range, one of the
 * allowed words) and records no problem; one that says "invalid" records
 * exactly its field; the 422 written from the problems is JSON. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/validate.h"
#include "core/json.h"
#include "core/utf8.h"
#include "fuzz.h"

/* 1 when the response's field problems name `field`. */
static int recorded(const rst_response *resp, const char *field)
{
    for (int i = 0; i < resp->nfields; i++)
        if (strcmp(resp->fields[i].field, field) == 0)
            return 1;
    return 0;
}

static void check_string(rst_ctx *c, const char *f, size_t min, size_t max, int kind)
{
    const char *s = NULL;
    size_t len = 0;
    int had = rst_response_has_fields(c->resp);
    int rc = rst_field_string(c, f, min, max, kind, &s, &len);
    if (rc == 1) {
        size_t cps = rst_utf8_count(s, len);
        if (cps < min || cps > max || memchr(s, '\0', len) != NULL || strlen(s) != len)
            abort();
        if (kind == RST_STR_LINE && rst_utf8_has_control(s, len, ""))
            abort();
        if (kind == RST_STR_TEXT && rst_utf8_has_control(s, len, "\n\t"))
            abort();
        if (rst_response_has_fields(c->resp) != had)
            abort();
    } else if (rc == -1 && !recorded(c->resp, f)) {
        abort();
    } else if (rc == 0 && rst_field_present(c, f)) {
        abort();
    }
}

static void check_int(rst_ctx *c, const char *f, int64_t min, int64_t max)
{
    int64_t v = min - 1;
    int rc = rst_field_int(c, f, min, max, &v);
    if (rc == 1 && (v < min || v > max))
        abort();
    if (rc == -1 && !recorded(c->resp, f))
        abort();
}

static void check_enum(rst_ctx *c, const char *f, const char *const *allowed)
{
    int idx = -1;
    int rc = rst_field_enum(c, f, allowed, &idx);
    if (rc == 1) {
        int n = 0;
        while (allowed[n] != NULL)
            n++;
        if (idx < 0 || idx >= n)
            abort();
    }
}

/* The fields of API.md with the limits their handlers give them. */
static void read_all(rst_ctx *c)
{
    static const char *const states[] = { "active", "inactive", NULL };
    static const char *const cart_states[] = { "active", "saved", NULL };
    static const char *const roles[] = { "user", "admin", NULL };
    uint64_t id;
    check_string(c, "name", 1, 30, RST_STR_LINE);
    check_string(c, "password", 8, 128, RST_STR_ANY);
    check_string(c, "message", 1, 280, RST_STR_TEXT);
    check_string(c, "img", 0, 255, RST_STR_LINE);
    check_string(c, "description", 0, 2000, RST_STR_TEXT);
    check_int(c, "price", 0, 100000000);
    check_int(c, "quantity", 1, 999);
    check_enum(c, "state", states);
    check_enum(c, "state", cart_states);
    check_enum(c, "role", roles);
    if (rst_field_id(c, "product_id", &id) == -1 && !recorded(c->resp, "product_id"))
        abort();
}

/* libFuzzer's entry point (it declares none). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rst_services *svc = fuzz_services();
    cJSON *body = NULL;
    if (rst_json_parse_body((const char *)data, size, &body) != RST_JSON_OK)
        return 0;
    rst_arena arena;
    rst_buf out;
    rst_response resp;
    rst_arena_init(&arena, 4096);
    rst_buf_init(&out);
    rst_response_init(&resp, &out);
    rst_ctx c = { .svc = svc, .resp = &resp, .arena = &arena, .body = body };
    read_all(&c);
    if (rst_ctx_fields_ok(&c) != 0) {
        cJSON *j = cJSON_ParseWithLength(out.data, out.len);
        if (resp.status != 422 || j == NULL)
            abort();
        cJSON_Delete(j);
    }
    cJSON_Delete(body);
    rst_buf_free(&out);
    rst_arena_free(&arena);
    return 0;
}
