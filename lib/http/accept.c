/* accept.c -- does an Accept header allow application/json? (RFC 9110
 * §12.5.1, §12.4.2)
 *
 *   Accept      = #( media-range [ weight ] )
 *   media-range = ( "*" "/" "*" / type "/" "*" / type "/" subtype ) parameters
 *   parameters  = *( OWS ";" OWS [ token "=" ( token / quoted-string ) ] )
 *   weight      = OWS ";" OWS "q=" qvalue
 *
 * Every range that matches application/json gets a specificity; the most
 * specific one decides the q-value. Choices made here:
 *   - a range with parameters other than q (application/json;charset=utf-8)
 *     matches and, as RFC 9110 orders them, is more specific than the same
 *     range without parameters;
 *   - equally specific matching ranges: the highest q among them counts;
 *   - optional whitespace is tolerated around ',', ';' and '=';
 *   - a malformed element (bad token, bad or repeated q, junk after it) is
 *     skipped up to the next comma outside a quoted string. */
#include "http/accept.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

typedef struct {
    int specificity;   /* 0: does not match application/json; higher wins */
    int q;             /* weight in thousandths, 0..1000 */
} media_range;

static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static size_t token_len(const char *p)
{
    size_t n = 0;

    while (is_tchar((unsigned char)p[n]))
        n++;
    return n;
}

static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static int token_is(const char *t, size_t n, const char *word)
{
    return strlen(word) == n && strncasecmp(t, word, n) == 0;
}

/* p at the opening quote; returns the byte after the closing quote, or NULL
 * when the string never closes. */
static const char *skip_quoted(const char *p)
{
    for (p++; *p != '\0' && *p != '"'; p++)
        if (*p == '\\' && p[1] != '\0')
            p++;
    return *p == '"' ? p + 1 : NULL;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
static int parse_qvalue(const char *v, size_t n, int *q)
{
    size_t i;
    int value, scale = 100;

    if (n == 0 || n > 5 || (v[0] != '0' && v[0] != '1'))
        return 0;
    if (n > 1 && v[1] != '.')
        return 0;
    value = (v[0] - '0') * 1000;
    for (i = 2; i < n; i++, scale /= 10) {
        if (v[i] < '0' || v[i] > '9')
            return 0;
        value += (v[i] - '0') * scale;
    }
    if (value > 1000)
        return 0;   /* "1.001" and the like */
    *q = value;
    return 1;
}

/* How specifically type/subtype names application/json: 3 exact, 2
 * application/ *, 1 * / *, 0 another type; -1 for the invalid "* /x". */
static int match_level(const char *type, size_t tl, const char *sub, size_t sl)
{
    int any_type = token_is(type, tl, "*");
    int any_sub = token_is(sub, sl, "*");

    if (any_type)
        return any_sub ? 1 : -1;
    if (!token_is(type, tl, "application"))
        return 0;
    if (any_sub)
        return 2;
    return token_is(sub, sl, "json") ? 3 : 0;
}

/* Reads the parameters after a media range. Returns the position after
 * them, or NULL when one is malformed. */
static const char *parse_parameters(const char *p, int *q, int *has_params)
{
    int seen_q = 0;

    for (;;) {
        const char *name, *val;
        size_t nl, vl;

        p = skip_ows(p);
        if (*p != ';')
            return p;
        p = skip_ows(p + 1);
        if (*p == ';' || *p == ',' || *p == '\0')
            continue;   /* an empty parameter is allowed */
        name = p;
        nl = token_len(p);
        if (nl == 0)
            return NULL;
        p = skip_ows(p + nl);
        if (*p != '=')
            return NULL;
        p = skip_ows(p + 1);
        val = p;
        if (*p == '"') {
            p = skip_quoted(p);
            if (p == NULL)
                return NULL;
            vl = (size_t)(p - val);
        } else {
            vl = token_len(p);
            if (vl == 0)
                return NULL;
            p += vl;
        }
        if (token_is(name, nl, "q")) {
            /* a quoted q or a second q makes the weight ambiguous */
            if (seen_q || *val == '"' || !parse_qvalue(val, vl, q))
                return NULL;
            seen_q = 1;
        } else {
            *has_params = 1;
        }
    }
}

/* Parses one element starting at p (no leading whitespace). Returns the
 * position of the ',' or NUL that ends it, or NULL when it is malformed. */
static const char *parse_element(const char *p, media_range *r)
{
    const char *type, *sub;
    size_t tl, sl;
    int level, q = 1000, has_params = 0;

    type = p;
    tl = token_len(p);
    if (tl == 0 || p[tl] != '/')
        return NULL;
    sub = p + tl + 1;
    sl = token_len(sub);
    if (sl == 0)
        return NULL;
    level = match_level(type, tl, sub, sl);
    if (level < 0)
        return NULL;
    p = parse_parameters(sub + sl, &q, &has_params);
    if (p == NULL)
        return NULL;
    p = skip_ows(p);
    if (*p != ',' && *p != '\0')
        return NULL;
    r->specificity = level > 0 ? level * 2 + has_params : 0;
    r->q = q;
    return p;
}

/* Recovery after a malformed element: the next ',' outside a quoted string,
 * or the end of the header. */
static const char *skip_element(const char *p)
{
    while (*p != '\0' && *p != ',') {
        if (*p == '"') {
            const char *after = skip_quoted(p);
            if (after == NULL)
                return p + strlen(p);
            p = after;
        } else {
            p++;
        }
    }
    return p;
}

int rst_accept_json(const char *accept)
{
    int best_spec = 0, best_q = 0;
    const char *p = accept;

    if (p == NULL)
        return 0;
    while (*p != '\0') {
        media_range r;
        const char *next;

        p = skip_ows(p);
        if (*p == ',') {
            p++;        /* empty list elements are allowed */
            continue;
        }
        if (*p == '\0')
            break;
        next = parse_element(p, &r);
        if (next == NULL) {
            p = skip_element(p);
            continue;
        }
        if (r.specificity > best_spec) {
            best_spec = r.specificity;
            best_q = r.q;
        } else if (r.specificity == best_spec && r.specificity > 0 && r.q > best_q) {
            best_q = r.q;
        }
        p = next;
    }
    return best_spec > 0 && best_q > 0;
}
