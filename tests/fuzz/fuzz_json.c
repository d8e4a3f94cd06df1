/* fuzz_json.c -- libFuzzer target: the strict JSON layer (lib/core/json.c).
 *
 * The input is a request body. rst_json_parse_body() must never accept
 * what cJSON itself cannot read, must honour the depth limit, and its
 * exact integer readers must agree with the number cJSON read: an int64 or
 * uint64 read from a literal is the integer whose nearest double cJSON
 * holds. Every node of an accepted tree is read with every reader. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"

static void fail(const char *what, const uint8_t *data, size_t size)
{
    fprintf(stderr, "fuzz_json: %s: %.*s\n", what, (int)size, (const char *)data);
    abort();
}

/* Reads every node with every reader. `depth` is the level an object or
 * array among these nodes opens (the top-level object is level 1). */
static void walk(const cJSON *n, int depth)
{
    for (; n != NULL; n = n->next) {
        if ((cJSON_IsObject(n) || cJSON_IsArray(n)) && depth > RST_JSON_MAX_DEPTH)
            abort();
        int64_t i;
        uint64_t u, id;
        if (rst_json_get_i64(n, &i) && (double)i != n->valuedouble)
            abort();
        if (rst_json_get_u64(n, &u) && (double)u != n->valuedouble)
            abort();
        if (rst_json_get_id(n, &id) && cJSON_IsNumber(n) && (double)id != n->valuedouble)
            abort();
        if (rst_json_string_has_nul(n) && !cJSON_IsString(n))
            abort();
        if (n->child != NULL)
            walk(n->child, depth + 1);
    }
}

/* libFuzzer's entry point (it declares none). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *tree = NULL;
    rst_json_status st = rst_json_parse_body((const char *)data, size, &tree);
    if (st != RST_JSON_OK) {
        if (tree != NULL)
            fail("a tree on failure", data, size);
        return 0;
    }
    if (tree == NULL || !cJSON_IsObject(tree))
        fail("accepted, but no object", data, size);
    /* cJSON must read what the strict layer accepted, whole. */
    const char *end = NULL;
    cJSON *plain = cJSON_ParseWithLengthOpts((const char *)data, size, &end, 0);
    if (plain == NULL)
        fail("accepted, but cJSON cannot read it", data, size);
    cJSON_Delete(plain);
    walk(tree->child, 2);
    cJSON_Delete(tree);
    return 0;
}
