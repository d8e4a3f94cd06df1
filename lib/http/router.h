/* router.h -- matching a method and path against a table of routes.
 *
 * Patterns are literal segments and typed id segments written "{id}", which
 * match 1..20 decimal digits that fit in 64 bits; anything else in an id
 * position is simply no match (404), per API.md §1.1. A path that matches a
 * pattern but not the method gives 405 with the set of methods that would
 * have matched, for the Allow header. HEAD is served wherever GET is. */
#ifndef ROOST_ROUTER_H
#define ROOST_ROUTER_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    RST_M_GET    = 1 << 0,
    RST_M_HEAD   = 1 << 1,
    RST_M_POST   = 1 << 2,
    RST_M_PUT    = 1 << 3,
    RST_M_DELETE = 1 << 4,
    RST_M_OTHER  = 1 << 5
} rst_method;

#define RST_ROUTE_MAX_IDS 4

typedef struct {
    unsigned    methods;     /* rst_method bits this entry serves */
    const char *pattern;     /* "/product/{id}" */
    const void *data;        /* the caller's handler description */
} rst_route;

typedef struct {
    const rst_route *route;
    uint64_t         ids[RST_ROUTE_MAX_IDS];
    int              nids;
} rst_route_match;

typedef enum { RST_ROUTE_FOUND, RST_ROUTE_NOT_FOUND, RST_ROUTE_BAD_METHOD } rst_route_result;

/* Parses an HTTP method name. Unknown names give RST_M_OTHER. */
rst_method rst_method_parse(const char *name);

/* Matches (method, path) against routes[0..n). `path` excludes the query.
 * On RST_ROUTE_BAD_METHOD *allowed holds every method the path allows. */
rst_route_result rst_router_find(const rst_route *routes, size_t n, rst_method method,
                           const char *path, rst_route_match *m, unsigned *allowed);

/* Writes the Allow header value for a method set ("GET, HEAD, PUT"). */
void rst_route_allow_header(unsigned methods, char *out, size_t outlen);

#endif
