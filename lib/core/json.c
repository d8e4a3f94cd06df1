/* json.c -- strict parsing of request bodies (API.md §1.1) on top of cJSON.
 *
 * rst_json_parse_body() works in three steps:
 *   1. validate: the whole body must be UTF-8 (rst_utf8_valid), then an
 *      iterative scanner checks the RFC 8259 grammar, string escapes (no lone
 *      surrogates), trailing bytes and nesting depth, and records where every
 *      number literal sits;
 *   2. build: only a body that passed is handed to cJSON, so cJSON's own
 *      recursion (limit 1000) never sees more than RST_JSON_MAX_DEPTH levels;
 *   3. annotate: every number node gets a copy of its literal text in
 *      valuestring, so integers are read exactly instead of through a double.
 *
 * Verdict order, when a body has several problems: MALFORMED wins over
 * everything (the scanner reads the whole body even past depth 16, so a body
 * that is both too deep and malformed is MALFORMED), then NOT_OBJECT, then
 * TOO_DEEP. NOT_OBJECT and TOO_DEEP both answer 422 invalid_body.
 *
 * Choices where RFC 8259 leaves room: a leading UTF-8 byte order mark is
 * MALFORMED (RFC 8259 §8.1 forbids sending one; cJSON would skip it), and a
 * number literal longer than NUMBER_MAX_LEN characters is MALFORMED (§9
 * allows limits on numbers; see below). */
#include "core/json.h"

#include <stdlib.h>
#include <string.h>

#include "core/ids.h"
#include "core/num.h"
#include "core/utf8.h"

/* cJSON 1.7.15 copies at most 63 characters of a number into a local buffer
 * before strtod() and then fails on the rest, so a longer literal would pass
 * our grammar check and still break the parse. Refuse it up front. */
#define NUMBER_MAX_LEN 63

/* Room on the stack for the common case; deeper or number-heavy bodies grow
 * onto the heap. */
#define INLINE_LEVELS  64
#define INLINE_NUMBERS 32

typedef struct {
    size_t off;   /* offset of the literal in the body */
    size_t len;
} num_span;

/* The validator's state. It holds pointers into itself (kinds, nums), so it
 * is never copied. */
typedef struct {
    const unsigned char *start, *p, *end;
    unsigned char *kinds;              /* '{' or '[' for every open level */
    size_t depth, max_depth, kinds_cap;
    unsigned char kinds_inline[INLINE_LEVELS];
    num_span *nums;                    /* number literals in document order */
    size_t nnums, nums_cap;
    num_span nums_inline[INLINE_NUMBERS];
    size_t nstrings;                   /* strings (names too) seen so far */
    int saw_nul;                       /* the current string has a \u0000 */
    size_t *nuls;                      /* ordinals of strings holding \u0000 */
    size_t nnuls, nuls_cap;
    size_t nuls_inline[INLINE_NUMBERS];
} scanner;

static void scanner_init(scanner *s, const char *body, size_t len)
{
    s->start = (const unsigned char *)body;
    s->p = s->start;
    s->end = s->start + len;
    s->kinds = s->kinds_inline;
    s->depth = 0;
    s->max_depth = 0;
    s->kinds_cap = INLINE_LEVELS;
    s->nums = s->nums_inline;
    s->nnums = 0;
    s->nums_cap = INLINE_NUMBERS;
    s->nstrings = 0;
    s->saw_nul = 0;
    s->nuls = s->nuls_inline;
    s->nnuls = 0;
    s->nuls_cap = INLINE_NUMBERS;
}

static void scanner_free(scanner *s)
{
    if (s->kinds != s->kinds_inline)
        free(s->kinds);
    if (s->nums != s->nums_inline)
        free(s->nums);
    if (s->nuls != s->nuls_inline)
        free(s->nuls);
}

/* Doubles an inline-or-heap array; 0 when out of memory. */
static int grow(void **arr, void *inline_arr, size_t *cap, size_t elem)
{
    size_t ncap = *cap * 2;
    void *n;

    if (ncap < *cap || ncap > (size_t)-1 / elem)
        return 0;
    if (*arr == inline_arr) {
        n = malloc(ncap * elem);
        if (n != NULL)
            memcpy(n, inline_arr, *cap * elem);
    } else {
        n = realloc(*arr, ncap * elem);
    }
    if (n == NULL)
        return 0;
    *arr = n;
    *cap = ncap;
    return 1;
}

static rst_json_status push_level(scanner *s, unsigned char kind)
{
    if (s->depth == s->kinds_cap) {
        void *arr = s->kinds;
        if (!grow(&arr, s->kinds_inline, &s->kinds_cap, 1))
            return RST_JSON_NOMEM;
        s->kinds = arr;
    }
    s->kinds[s->depth++] = kind;
    if (s->depth > s->max_depth)
        s->max_depth = s->depth;
    return RST_JSON_OK;
}

static rst_json_status record_number(scanner *s, const unsigned char *lit,
                                     size_t len)
{
    if (s->nnums == s->nums_cap) {
        void *arr = s->nums;
        if (!grow(&arr, s->nums_inline, &s->nums_cap, sizeof(num_span)))
            return RST_JSON_NOMEM;
        s->nums = arr;
    }
    s->nums[s->nnums].off = (size_t)(lit - s->start);
    s->nums[s->nnums].len = len;
    s->nnums++;
    return RST_JSON_OK;
}

/* Remembers that the string just scanned holds a NUL (see annotate). */
static int record_nul_string(scanner *s)
{
    if (s->nnuls == s->nuls_cap) {
        void *arr = s->nuls;
        if (!grow(&arr, s->nuls_inline, &s->nuls_cap, sizeof(size_t)))
            return 0;
        s->nuls = arr;
    }
    s->nuls[s->nnuls++] = s->nstrings;
    return 1;
}

static unsigned char closer_of(unsigned char open)
{
    return open == '{' ? '}' : ']';
}

/* RFC 8259 whitespace only: cJSON would also skip any byte <= 0x20. */
static int is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_ws(scanner *s)
{
    while (s->p < s->end && is_ws(*s->p))
        s->p++;
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Reads the four hex digits of a \u escape. */
static int scan_hex4(scanner *s, unsigned *cp)
{
    unsigned v = 0;
    int i;

    if (s->end - s->p < 4)
        return 0;
    for (i = 0; i < 4; i++) {
        int h = rst_hex_value((unsigned char)s->p[i]);
        if (h < 0)
            return 0;
        v = v * 16 + (unsigned)h;
    }
    s->p += 4;
    *cp = v;
    return 1;
}

static int is_high_surrogate(unsigned cp)
{
    return cp >= 0xD800 && cp <= 0xDBFF;
}

static int is_low_surrogate(unsigned cp)
{
    return cp >= 0xDC00 && cp <= 0xDFFF;
}

/* s->p is at a backslash. A \u escape of a high surrogate must be followed
 * at once by a \u escape of a low one; a low surrogate on its own is never
 * valid, because the pair would not decode to a code point. */
static int scan_escape(scanner *s)
{
    unsigned cp, low;

    s->p++;
    if (s->p >= s->end)
        return 0;
    switch (*s->p++) {
    case '"': case '\\': case '/':
    case 'b': case 'f': case 'n': case 'r': case 't':
        return 1;
    case 'u':
        break;
    default:
        return 0;
    }
    if (!scan_hex4(s, &cp) || is_low_surrogate(cp))
        return 0;
    if (cp == 0)
        s->saw_nul = 1;
    if (!is_high_surrogate(cp))
        return 1;
    if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
        return 0;
    s->p += 2;
    return scan_hex4(s, &low) && is_low_surrogate(low);
}

/* s->p is at the opening quote. UTF-8 was checked for the whole body
 * already, so bytes >= 0x80 need no further look here. */
static rst_json_status scan_string(scanner *s)
{
    s->p++;
    s->saw_nul = 0;
    while (s->p < s->end) {
        unsigned char c = *s->p;

        if (c == '"') {
            s->p++;
            if (s->saw_nul && !record_nul_string(s))
                return RST_JSON_NOMEM;
            s->nstrings++;
            return RST_JSON_OK;
        }
        if (c == '\\') {
            if (!scan_escape(s))
                return RST_JSON_MALFORMED;
            continue;
        }
        if (c < 0x20)
            return RST_JSON_MALFORMED;   /* control characters, NUL included, must be escaped */
        s->p++;
    }
    return RST_JSON_MALFORMED;
}

static void skip_digits(scanner *s)
{
    while (s->p < s->end && is_digit(*s->p))
        s->p++;
}

/* number = [ "-" ] int [ frac ] [ exp ]; int = "0" / digit1-9 *DIGIT */
static rst_json_status scan_number(scanner *s)
{
    const unsigned char *lit = s->p;

    if (*s->p == '-')
        s->p++;
    if (s->p >= s->end || !is_digit(*s->p))
        return RST_JSON_MALFORMED;
    if (*s->p == '0')
        s->p++;     /* "01" ends the number after "0"; the caller rejects "1" */
    else
        skip_digits(s);
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (s->p >= s->end || !is_digit(*s->p))
            return RST_JSON_MALFORMED;
        skip_digits(s);
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (s->p >= s->end || !is_digit(*s->p))
            return RST_JSON_MALFORMED;
        skip_digits(s);
    }
    if ((size_t)(s->p - lit) > NUMBER_MAX_LEN)
        return RST_JSON_MALFORMED;
    return record_number(s, lit, (size_t)(s->p - lit));
}

static rst_json_status scan_word(scanner *s, const char *word)
{
    size_t n = strlen(word);

    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return RST_JSON_MALFORMED;
    s->p += n;
    return RST_JSON_OK;
}

/* An object member's name and colon, up to where its value starts. */
static rst_json_status scan_member_name(scanner *s)
{
    rst_json_status st;

    skip_ws(s);
    if (s->p >= s->end || *s->p != '"')
        return RST_JSON_MALFORMED;
    st = scan_string(s);
    if (st != RST_JSON_OK)
        return st;
    skip_ws(s);
    if (s->p >= s->end || *s->p != ':')
        return RST_JSON_MALFORMED;
    s->p++;
    return RST_JSON_OK;
}

/* s->p is at '{' or '['. An empty container is a complete value at once;
 * otherwise the scanner next wants a value (after a member name). */
static rst_json_status open_container(scanner *s, int *want_value)
{
    unsigned char open = *s->p++;
    rst_json_status st = push_level(s, open);

    if (st != RST_JSON_OK)
        return st;
    skip_ws(s);
    if (s->p < s->end && *s->p == closer_of(open)) {
        s->p++;
        s->depth--;
        *want_value = 0;
        return RST_JSON_OK;
    }
    *want_value = 1;
    return open == '{' ? scan_member_name(s) : RST_JSON_OK;
}

/* Consumes a scalar, or opens a container. */
static rst_json_status scan_value(scanner *s, int *want_value)
{
    if (s->p >= s->end)
        return RST_JSON_MALFORMED;
    switch (*s->p) {
    case '{': case '[':
        return open_container(s, want_value);
    case '"':
        *want_value = 0;
        return scan_string(s);
    case 't':
        *want_value = 0;
        return scan_word(s, "true");
    case 'f':
        *want_value = 0;
        return scan_word(s, "false");
    case 'n':
        *want_value = 0;
        return scan_word(s, "null");
    default:
        *want_value = 0;
        return scan_number(s);
    }
}

/* After a value inside a container: a comma (then another member or
 * element) or the matching closer. */
static rst_json_status scan_after_value(scanner *s, int *want_value)
{
    unsigned char top, c;

    if (s->p >= s->end)
        return RST_JSON_MALFORMED;
    top = s->kinds[s->depth - 1];
    c = *s->p++;
    if (c == ',') {
        *want_value = 1;
        return top == '{' ? scan_member_name(s) : RST_JSON_OK;
    }
    if (c == closer_of(top)) {
        s->depth--;
        return RST_JSON_OK;
    }
    return RST_JSON_MALFORMED;
}

/* The grammar check proper. Iterative: every step consumes at least one
 * byte, and open levels live in s->kinds, not on the C stack. */
static rst_json_status scan_document(scanner *s)
{
    int want_value = 1;

    for (;;) {
        rst_json_status st;

        skip_ws(s);
        if (!want_value && s->depth == 0)
            return s->p == s->end ? RST_JSON_OK : RST_JSON_MALFORMED;
        st = want_value ? scan_value(s, &want_value)
                        : scan_after_value(s, &want_value);
        if (st != RST_JSON_OK)
            return st;
    }
}

static int only_ws(const char *p, const char *end)
{
    for (; p < end; p++)
        if (!is_ws((unsigned char)*p))
            return 0;
    return 1;
}

/* 1 when the string with this ordinal was recorded as holding a NUL. */
static int ordinal_has_nul(const scanner *s, size_t ordinal, size_t *cursor)
{
    while (*cursor < s->nnuls && s->nuls[*cursor] < ordinal)
        (*cursor)++;
    return *cursor < s->nnuls && s->nuls[*cursor] == ordinal;
}

/* Hands a copy of each recorded literal to the number nodes of the tree, in
 * document order (pre-order, children in list order: cJSON keeps members in
 * the order it read them). The walk is iterative; the tree is at most
 * RST_JSON_MAX_DEPTH deep, which bounds the stack of pending siblings.
 *
 * The copy goes into node->valuestring, which cJSON leaves NULL for numbers.
 * That is safe to free: cJSON_Delete() frees valuestring for every node
 * whose type lacks cJSON_IsReference (see cJSON_Delete in cJSON.c 1.7.15;
 * cJSON.h only documents the reference case), whatever the node's type.
 * The copy is allocated with cJSON_malloc() rather than malloc() so that
 * allocation and free go through the same hooks even if someone installs
 * cJSON_InitHooks(); with the default hooks both are malloc/free.
 *
 * The same walk also numbers the strings as the scanner did (a member's
 * name, then its value) and flags string values that hold a \u0000
 * escape: cJSON ends valuestring at the NUL, so "a\u0000b" would read as
 * "a" without the flag (see rst_json_string_has_nul); member names with
 * one are renamed (poison_name). */
/* A member name that held a \u0000 escape reaches cJSON cut at the NUL:
 * "name\u0000x" would be read as "name". Such a name is no field's, so it
 * is renamed to one that no field has (a lone U+0001), which leaves the
 * member present, unknown and ignored. */
static int poison_name(cJSON *n)
{
    char *poisoned = cJSON_malloc(2);
    if (poisoned == NULL)
        return -1;
    poisoned[0] = '\x01';
    poisoned[1] = '\0';
    cJSON_free(n->string);
    n->string = poisoned;
    return 0;
}

static rst_json_status annotate_numbers(cJSON *root, const scanner *s,
                                        const char *body)
{
    cJSON *pending[RST_JSON_MAX_DEPTH + 1];
    size_t npending = 0, next = 0, ordinal = 0, nul_cursor = 0;
    cJSON *n = root;

    while (n != NULL) {
        if (n->string != NULL) {             /* the member's name */
            if (ordinal_has_nul(s, ordinal, &nul_cursor) && poison_name(n) != 0)
                return RST_JSON_NOMEM;
            ordinal++;
        }
        if (cJSON_IsString(n)) {
            if (ordinal_has_nul(s, ordinal, &nul_cursor))
                n->type |= RST_JSON_FLAG_NUL;
            ordinal++;
        }
        if (cJSON_IsNumber(n)) {
            char *lit;

            if (next >= s->nnums)
                return RST_JSON_MALFORMED;   /* cJSON and the scanner disagree */
            lit = cJSON_malloc(s->nums[next].len + 1);
            if (lit == NULL)
                return RST_JSON_NOMEM;
            memcpy(lit, body + s->nums[next].off, s->nums[next].len);
            lit[s->nums[next].len] = '\0';
            if (n->valuestring != NULL)
                cJSON_free(n->valuestring);
            n->valuestring = lit;
            next++;
        }
        if (n->child != NULL) {
            if (npending == sizeof pending / sizeof pending[0])
                return RST_JSON_MALFORMED;   /* deeper than the scanner allowed */
            pending[npending++] = n->next;
            n = n->child;
            continue;
        }
        n = n->next;
        while (n == NULL && npending > 0)
            n = pending[--npending];
    }
    return next == s->nnums && ordinal == s->nstrings ? RST_JSON_OK : RST_JSON_MALFORMED;
}

int rst_json_string_has_nul(const cJSON *node)
{
    return node != NULL && (node->type & RST_JSON_FLAG_NUL) != 0;
}

static rst_json_status build_tree(const char *body, size_t len,
                                  const scanner *s, cJSON **out)
{
    const char *parse_end = NULL;
    rst_json_status st;
    cJSON *root;

    root = cJSON_ParseWithLengthOpts(body, len, &parse_end, 0);
    if (root == NULL)
        return RST_JSON_NOMEM;   /* the body is valid JSON: only malloc can fail */
    if (!cJSON_IsObject(root) || parse_end == NULL || parse_end < body ||
        parse_end > body + len || !only_ws(parse_end, body + len)) {
        cJSON_Delete(root);
        return RST_JSON_MALFORMED;
    }
    st = annotate_numbers(root, s, body);
    if (st != RST_JSON_OK) {
        cJSON_Delete(root);
        return st;
    }
    *out = root;
    return RST_JSON_OK;
}

/* The first significant byte says whether the top-level value is an object;
 * only meaningful once the grammar check has passed. */
static int top_is_object(const char *body, size_t len)
{
    size_t i = 0;

    while (i < len && is_ws((unsigned char)body[i]))
        i++;
    return i < len && body[i] == '{';
}

rst_json_status rst_json_parse_body(const char *body, size_t len, cJSON **out)
{
    rst_json_status st;
    scanner s;

    if (out == NULL)
        return RST_JSON_NOMEM;
    *out = NULL;
    if (body == NULL || len == 0)
        return RST_JSON_MALFORMED;
    if (!rst_utf8_valid(body, len))
        return RST_JSON_MALFORMED;

    scanner_init(&s, body, len);
    st = scan_document(&s);
    if (st == RST_JSON_OK && !top_is_object(body, len))
        st = RST_JSON_NOT_OBJECT;
    if (st == RST_JSON_OK && s.max_depth > RST_JSON_MAX_DEPTH)
        st = RST_JSON_TOO_DEEP;
    if (st == RST_JSON_OK)
        st = build_tree(body, len, &s, out);
    scanner_free(&s);
    return st;
}

/* Splits an integer literal into sign and magnitude; 0 when the literal has
 * a fraction or an exponent, or its magnitude does not fit 64 bits. */
static int integer_literal(const cJSON *node, int *negative, uint64_t *mag)
{
    const char *p;
    uint64_t v;
    size_t n;

    if (node == NULL || !cJSON_IsNumber(node) || node->valuestring == NULL)
        return 0;
    p = node->valuestring;
    *negative = (*p == '-');
    if (*negative)
        p++;
    n = rst_parse_u64(p, &v);
    if (n == 0 || p[n] != '\0')
        return 0;   /* '.', 'e' or 'E' follows: not an integer literal */
    *mag = v;
    return 1;
}

int rst_json_get_i64(const cJSON *node, int64_t *v)
{
    uint64_t mag;
    int neg;

    if (v == NULL || !integer_literal(node, &neg, &mag))
        return 0;
    if (!neg) {
        if (mag > (uint64_t)INT64_MAX)
            return 0;
        *v = (int64_t)mag;
        return 1;
    }
    if (mag > (uint64_t)INT64_MAX + 1)
        return 0;
    /* -(INT64_MAX + 1) is not representable as a positive int64_t first. */
    *v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
    return 1;
}

int rst_json_get_u64(const cJSON *node, uint64_t *v)
{
    uint64_t mag;
    int neg;

    if (v == NULL || !integer_literal(node, &neg, &mag))
        return 0;
    if (neg && mag != 0)
        return 0;   /* "-0" is zero and fits; any other negative does not */
    *v = mag;
    return 1;
}

int rst_json_get_id(const cJSON *node, uint64_t *v)
{
    uint64_t id;

    if (node == NULL || v == NULL)
        return 0;
    if (cJSON_IsNumber(node)) {
        if (!rst_json_get_u64(node, &id) || id == 0)
            return 0;
    } else if (cJSON_IsString(node)) {
        /* "1\u00002" reaches us cut to "1": not an id */
        if (rst_json_string_has_nul(node) || !rst_id_parse(node->valuestring, &id))
            return 0;
    } else {
        return 0;
    }
    *v = id;
    return 1;
}
