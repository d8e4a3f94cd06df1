/* fuzz_router.c -- libFuzzer target: the router (lib/http/router.c) over
 * roostd's own route tables (app/api, through rst_app_route_def).
 *
 * Input: a method byte, then the path. Checked: a match binds as many ids
 * as its pattern has; the pattern written out with those ids matches the
 * same route with the same ids (and is the input itself when the input
 * had no leading zeros); a 405 names methods that do not include the one
 * asked for, and its Allow header is never empty. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"

#define MAX_ROUTES 128

static rst_route routes[MAX_ROUTES];
static size_t nroutes;

static void load_routes(void)
{
    const rst_route_def *d;
    while (nroutes < MAX_ROUTES && (d = rst_app_route_def(nroutes)) != NULL) {
        routes[nroutes] = (rst_route){ d->methods, d->pattern, d };
        nroutes++;
    }
    if (nroutes == 0)
        abort();
}

/* The pattern with its {id} segments replaced by the match's ids. */
static void render(const char *pat, const rst_route_match *m, char *out, size_t cap)
{
    size_t o = 0;
    int id = 0;
    while (*pat != '\0' && o + 22 < cap) {
        if (strncmp(pat, "{id}", 4) == 0) {
            o += (size_t)snprintf(out + o, cap - o, "%" PRIu64, m->ids[id++]);
            pat += 4;
        } else {
            out[o++] = *pat++;
        }
    }
    out[o] = '\0';
}

static int count_ids(const char *pat)
{
    int n = 0;
    for (const char *p = pat; (p = strstr(p, "{id}")) != NULL; p += 4)
        n++;
    return n;
}

static void check_found(rst_method method, const char *path, const rst_route_match *m)
{
    char again[512];
    rst_route_match m2;
    unsigned allowed = 0;
    if (m->nids != count_ids(m->route->pattern))
        abort();
    render(m->route->pattern, m, again, sizeof(again));
    if (rst_router_find(routes, nroutes, method, again, &m2, &allowed) != RST_ROUTE_FOUND ||
        m2.route != m->route || m2.nids != m->nids ||
        memcmp(m2.ids, m->ids, sizeof(m->ids[0]) * (size_t)m->nids) != 0)
        abort();
    if (strstr(path, "/0") == NULL && strcmp(again, path) != 0)
        abort();
}

/* libFuzzer's entry point (it declares none). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const rst_method methods[] = { RST_M_GET, RST_M_HEAD, RST_M_POST, RST_M_PUT,
                                          RST_M_DELETE, RST_M_OTHER };
    if (nroutes == 0)
        load_routes();
    if (size == 0 || size > 400)
        return 0;
    rst_method method = methods[data[0] % (sizeof(methods) / sizeof(methods[0]))];
    char path[401];
    memcpy(path, data + 1, size - 1);
    path[size - 1] = '\0';
    rst_route_match m;
    unsigned allowed = 0;
    char allow[64];
    switch (rst_router_find(routes, nroutes, method, path, &m, &allowed)) {
    case RST_ROUTE_FOUND:
        check_found(method, path, &m);
        break;
    case RST_ROUTE_BAD_METHOD:
        if (allowed == 0 || (allowed & (unsigned)method))
            abort();
        rst_route_allow_header(allowed, allow, sizeof(allow));
        if (allow[0] == '\0')
            abort();
        break;
    case RST_ROUTE_NOT_FOUND:
        break;
    }
    return 0;
}
