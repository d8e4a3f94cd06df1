/* fuzz_accept.c -- libFuzzer target: Accept negotiation (lib/http/accept.c).
 *
 * The input is an Accept header value. Checked beyond the sanitizers: the
 * answer is 0 or 1 and depends only on the value; a value that allows JSON
 * still does with a more specific range for another type appended (it
 * cannot decide for application/json), and "application/json;q=0" put
 * first in a header that has no other application/json range makes it
 * refuse (the most specific range decides, RFC 9110 §12.5.1). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/accept.h"

static int has_json_range(const char *s)
{
    for (const char *p = s; (p = strcasestr(p, "application/json")) != NULL; p++)
        return 1;
    return 0;
}

/* libFuzzer's entry point (it declares none). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char other[] = ", text/html;q=1";
    static const char refuse[] = "application/json;q=0, ";
    char *v = malloc(size + sizeof(other) + sizeof(refuse));
    if (v == NULL)
        return 0;
    memcpy(v, data, size);
    v[size] = '\0';
    if (strlen(v) != size) {              /* a header value holds no NUL */
        free(v);
        return 0;
    }
    int a = rst_accept_json(v);
    if ((a != 0 && a != 1) || rst_accept_json(v) != a)
        abort();
    if (a == 1 && strchr(v, '"') == NULL) {
        memcpy(v + size, other, sizeof(other));
        if (rst_accept_json(v) != 1)
            abort();
        v[size] = '\0';
    }
    if (!has_json_range(v) && strchr(v, '"') == NULL) {
        memmove(v + sizeof(refuse) - 1, v, size + 1);
        memcpy(v, refuse, sizeof(refuse) - 1);
        if (rst_accept_json(v) != 0)
            abort();
    }
    free(v);
    return 0;
}
