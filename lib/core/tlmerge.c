/* tlmerge.c -- timeline members, the certain merge and the follow filter
 * (see tlmerge.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/num.h"
#include "core/tlmerge.h"

void rst_tl_member(uint64_t id, uint64_t author, char *out)
{
    snprintf(out, RST_TL_MEMBER_LEN + 1, "%020" PRIu64 ":%020" PRIu64, id, author);
}

void rst_tl_id_member(uint64_t id, char *out)
{
    snprintf(out, RST_TL_ID_LEN + 1, "%020" PRIu64, id);
}

/* Exactly 20 digits at s into *v; -1 otherwise. */
static int digits20(const char *s, uint64_t *v)
{
    char d[RST_TL_ID_LEN + 1];
    for (int i = 0; i < RST_TL_ID_LEN; i++)
        if (s[i] < '0' || s[i] > '9')
            return -1;
    memcpy(d, s, RST_TL_ID_LEN);
    d[RST_TL_ID_LEN] = '\0';
    return rst_parse_u64(d, v) == RST_TL_ID_LEN ? 0 : -1;
}

int rst_tl_parse_id(const char *s, size_t len, uint64_t *id)
{
    if (len != RST_TL_ID_LEN || digits20(s, id) != 0)
        return -1;
    return *id != 0;
}

int rst_tl_parse_member(const char *s, size_t len, rst_tl_entry *e)
{
    if (len == RST_TL_ID_LEN)                /* only the sentinel is this short */
        return rst_tl_parse_id(s, len, &e->id) == 0 ? 0 : -1;
    if (len != RST_TL_MEMBER_LEN || s[RST_TL_ID_LEN] != ':' || digits20(s, &e->id) != 0 ||
        digits20(s + RST_TL_ID_LEN + 1, &e->author) != 0 || e->id == 0 || e->author == 0)
        return -1;
    return 1;
}

/* How far run r is good: its prefix of strictly decreasing ids. */
static int run_len(const rst_tl_run *r)
{
    int n = r->n > 0 ? 1 : 0;
    while (n < r->n && r->e[n].id < r->e[n - 1].id)
        n++;
    return n;
}

int rst_tl_merge(const rst_tl_run *runs, int k, rst_tl_entry *out, int max, uint64_t *next)
{
    int at[k > 0 ? k : 1], len[k > 0 ? k : 1];
    uint64_t bound = 0;                      /* entries >= bound are certain */
    for (int i = 0; i < k; i++) {
        at[i] = 0;
        len[i] = run_len(&runs[i]);
        if (len[i] < runs[i].n || runs[i].more) {
            /* May hold more: nothing older than its last id is certain;
             * an empty run that may hold more stops the merge at once. */
            uint64_t last = len[i] > 0 ? runs[i].e[len[i] - 1].id : UINT64_MAX;
            if (last > bound)
                bound = last;
        }
    }
    int n = 0;
    uint64_t prev = UINT64_MAX;
    for (;;) {
        int best = -1;
        for (int i = 0; i < k; i++)
            if (at[i] < len[i] && (best < 0 || runs[i].e[at[i]].id > runs[best].e[at[best]].id))
                best = i;
        if (best < 0 || runs[best].e[at[best]].id < bound)
            break;
        rst_tl_entry e = runs[best].e[at[best]++];
        if (e.id == prev)
            continue;                        /* the same tweet from two lists */
        if (n == max) {
            *next = out[n - 1].id;           /* cut short: go on below the last written */
            return n;
        }
        out[n++] = e;
        prev = e.id;
    }
    *next = bound;                           /* everything at or above it is written */
    return n;
}

int rst_tl_has(const uint64_t *follows, int n, uint64_t uid)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (follows[mid] == uid)
            return 1;
        if (follows[mid] < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

int rst_tl_filter(rst_tl_entry *e, int n, const uint64_t *follows, int nf, uint64_t self)
{
    int kept = 0;
    for (int i = 0; i < n; i++)
        if (e[i].author == self || rst_tl_has(follows, nf, e[i].author))
            e[kept++] = e[i];
    return kept;
}
