/* validate.c -- field readers for JSON bodies (see validate.h). */
#include <stdio.h>
#include <string.h>

#include "core/json.h"
#include "core/utf8.h"
#include "api/validate.h"

static const cJSON *field(rst_ctx *c, const char *name)
{
    return c->body ? cJSON_GetObjectItemCaseSensitive(c->body, name) : NULL;
}

int rst_field_present(rst_ctx *c, const char *name)
{
    return field(c, name) != NULL;
}

void rst_field_missing(rst_ctx *c, const char *name)
{
    rst_response_field(c->resp, name, "is required");
}

/* Messages live in the arena: they must outlive this call. */
static const char *range_message(rst_ctx *c, int integer, long long a, long long b)
{
    char tmp[96];
    if (integer)
        snprintf(tmp, sizeof(tmp), "must be an integer from %lld to %lld", a, b);
    else
        snprintf(tmp, sizeof(tmp), "must be %lld to %lld characters", a, b);
    const char *m = rst_arena_strdup(c->arena, tmp);
    return m ? m : "is invalid";
}

int rst_field_string(rst_ctx *c, const char *name, size_t min, size_t max, int kind,
                     const char **out, size_t *len)
{
    const cJSON *f = field(c, name);
    if (f == NULL)
        return 0;
    if (!cJSON_IsString(f) || f->valuestring == NULL) {
        rst_response_field(c->resp, name, "must be a string");
        return -1;
    }
    /* cJSON cut the value at the NUL: refuse it rather than use a part. */
    if (rst_json_string_has_nul(f)) {
        rst_response_field(c->resp, name, "must not contain NUL characters");
        return -1;
    }
    size_t n = strlen(f->valuestring);
    size_t cp = rst_utf8_count(f->valuestring, n);
    if (cp < min || cp > max) {
        rst_response_field(c->resp, name, range_message(c, 0,
                                                        (long long)min, (long long)max));
        return -1;
    }
    if (kind != RST_STR_ANY &&
        rst_utf8_has_control(f->valuestring, n, kind == RST_STR_TEXT ? "\n\t" : "")) {
        rst_response_field(c->resp, name, "must not contain control characters");
        return -1;
    }
    *out = f->valuestring;
    *len = n;
    return 1;
}

int rst_field_int(rst_ctx *c, const char *name, int64_t min, int64_t max, int64_t *out)
{
    const cJSON *f = field(c, name);
    if (f == NULL)
        return 0;
    int64_t v;
    if (!rst_json_get_i64(f, &v) || v < min || v > max) {
        rst_response_field(c->resp, name, range_message(c, 1,
                                                        (long long)min, (long long)max));
        return -1;
    }
    *out = v;
    return 1;
}

int rst_field_id(rst_ctx *c, const char *name, uint64_t *out)
{
    const cJSON *f = field(c, name);
    if (f == NULL)
        return 0;
    if ((cJSON_IsString(f) && rst_json_string_has_nul(f)) || !rst_json_get_id(f, out)) {
        rst_response_field(c->resp, name, "must be an id: a string of digits or an integer");
        return -1;
    }
    return 1;
}

int rst_field_enum(rst_ctx *c, const char *name, const char *const *allowed, int *index)
{
    const cJSON *f = field(c, name);
    if (f == NULL)
        return 0;
    for (int i = 0; cJSON_IsString(f) && !rst_json_string_has_nul(f) && allowed[i] != NULL; i++) {
        if (strcmp(f->valuestring, allowed[i]) == 0) {
            *index = i;
            return 1;
        }
    }
    char msg[128] = "must be one of";
    for (int i = 0; allowed[i] != NULL; i++) {
        size_t n = strlen(msg);
        snprintf(msg + n, sizeof(msg) - n, "%s \"%s\"", i ? "," : "", allowed[i]);
    }
    const char *m = rst_arena_strdup(c->arena, msg);
    rst_response_field(c->resp, name, m ? m : "is invalid");
    return -1;
}

int rst_ctx_fields_ok(rst_ctx *c)
{
    if (!rst_response_has_fields(c->resp))
        return 0;
    rst_response_validation_failed(c->resp);
    return -1;
}
