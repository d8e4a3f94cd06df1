/* router.c -- route matching (see router.h). */
#include <string.h>
#include <stdio.h>

#include "core/num.h"
#include "http/router.h"

rst_method rst_method_parse(const char *name)
{
    static const struct { const char *name; rst_method m; } methods[] = {
        { "GET", RST_M_GET }, { "HEAD", RST_M_HEAD }, { "POST", RST_M_POST },
        { "PUT", RST_M_PUT }, { "DELETE", RST_M_DELETE },
    };
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (name != NULL && strcmp(name, methods[i].name) == 0)
            return methods[i].m;
    return RST_M_OTHER;
}

/* Reads one id segment: digits (leading zeros allowed) that fit in 64
 * bits, up to the next '/' or the end. Returns the number of bytes
 * consumed, or 0 when the segment is not an id. */
static size_t match_id(const char *p, uint64_t *out)
{
    uint64_t v;
    size_t n = rst_parse_u64(p, &v);
    if (n == 0 || (p[n] != '\0' && p[n] != '/'))
        return 0;
    *out = v;
    return n;
}

static int match_pattern(const char *pat, const char *path, rst_route_match *m)
{
    m->nids = 0;
    while (*pat != '\0') {
        if (strncmp(pat, "{id}", 4) == 0) {
            if (m->nids == RST_ROUTE_MAX_IDS)
                return 0;
            size_t n = match_id(path, &m->ids[m->nids]);
            if (n == 0)
                return 0;
            m->nids++;
            path += n;
            pat += 4;
            continue;
        }
        if (*pat != *path)
            return 0;
        pat++;
        path++;
    }
    return *path == '\0';
}

rst_route_result rst_router_find(const rst_route *routes, size_t n, rst_method method,
                           const char *path, rst_route_match *m, unsigned *allowed)
{
    unsigned want = method == RST_M_HEAD ? RST_M_GET | RST_M_HEAD : (unsigned)method;
    unsigned seen = 0;
    for (size_t i = 0; i < n; i++) {
        rst_route_match cand;
        if (!match_pattern(routes[i].pattern, path, &cand))
            continue;
        unsigned serves = routes[i].methods;
        if (serves & RST_M_GET)
            serves |= RST_M_HEAD;
        if (serves & want) {
            *m = cand;
            m->route = &routes[i];
            return RST_ROUTE_FOUND;
        }
        seen |= serves;
    }
    if (seen == 0)
        return RST_ROUTE_NOT_FOUND;
    *allowed = seen;
    return RST_ROUTE_BAD_METHOD;
}

void rst_route_allow_header(unsigned methods, char *out, size_t outlen)
{
    static const struct { unsigned m; const char *name; } order[] = {
        { RST_M_GET, "GET" }, { RST_M_HEAD, "HEAD" }, { RST_M_POST, "POST" },
        { RST_M_PUT, "PUT" }, { RST_M_DELETE, "DELETE" },
    };
    size_t len = 0;
    if (outlen == 0)
        return;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (!(methods & order[i].m))
            continue;
        int w = snprintf(out + len, outlen - len, "%s%s", len ? ", " : "", order[i].name);
        if (w < 0 || (size_t)w >= outlen - len)
            return;
        len += (size_t)w;
    }
}
