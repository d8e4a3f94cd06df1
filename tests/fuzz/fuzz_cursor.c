/* fuzz_cursor.c -- libFuzzer target: cursor decoding (lib/http/cursor.c)
 * and the pagination query (lib/http/page.c).
 *
 * The input is a query string. Checked: rst_page_parse_all() either gives
 * limits and pages within API.md §1.4's ranges or reports at most one
 * problem per parameter; a cursor decodes only for the list it was made
 * for; the input used as a cursor never decodes unless it is one this key
 * made (then re-encoding its key gives the same text: one cursor per key
 * and list); and every decoded key round-trips through encode. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/cursor.h"
#include "http/page.h"

static const rst_cursor_key key = { "fuzz cursor key, 32 bytes long!" };

static void check_page(const char *qs)
{
    rst_page_req p;
    rst_page_problem probs[RST_PAGE_MAX_PROBLEMS];
    int n = -1;
    if (rst_page_parse_all(qs, &key, "/products", &p, probs, &n) == 0) {
        if (p.limit < 1 || p.limit > RST_PAGE_LIMIT_MAX || p.page < 0 || p.page > RST_PAGE_MAX)
            abort();
        return;
    }
    if (n < 1 || n > RST_PAGE_MAX_PROBLEMS)
        abort();
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (strcmp(probs[i].field, probs[j].field) == 0)
                abort();
}

static void check_cursor(const char *text)
{
    uint64_t k;
    char again[RST_CURSOR_MAXLEN];
    if (rst_cursor_decode(&key, "/tweets", text, &k)) {
        if (rst_cursor_encode(&key, "/tweets", k, again, sizeof(again)) == 0 ||
            strcmp(again, text) != 0)
            abort();
        if (rst_cursor_decode(&key, "/tweets/1", text, &k))
            abort();                          /* bound to its list */
    }
}

static void check_roundtrip(const uint8_t *data, size_t size)
{
    uint64_t k = 0, back = 0;
    char cur[RST_CURSOR_MAXLEN];
    memcpy(&k, data, size < sizeof(k) ? size : sizeof(k));
    if (rst_cursor_encode(&key, "/followers/7", k, cur, sizeof(cur)) == 0)
        abort();
    if (!rst_cursor_decode(&key, "/followers/7", cur, &back) || back != k)
        abort();
    if (rst_cursor_decode(&key, "/following/7", cur, &back))
        abort();
}

/* libFuzzer's entry point (it declares none). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *qs = malloc(size + 1);
    if (qs == NULL)
        return 0;
    memcpy(qs, data, size);
    qs[size] = '\0';
    check_page(qs);
    check_cursor(qs);
    check_roundtrip(data, size);
    free(qs);
    return 0;
}
