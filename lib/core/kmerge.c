/* kmerge.c -- k-way merge of id lists, newest first (see kmerge.h). */
#include "core/kmerge.h"

#define KMERGE_MAX_LISTS 64

/* The list whose head is the largest id, or -1 when every list is spent. */
static int largest_head(const uint64_t *const *lists, const size_t *lens, const size_t *at,
                        int k)
{
    int best = -1;
    for (int i = 0; i < k; i++)
        if (at[i] < lens[i] && (best < 0 || lists[i][at[i]] > lists[best][at[best]]))
            best = i;
    return best;
}

/* Moves list i past its head, and past the rest at once when it is not
 * decreasing there (a broken input must not loop or repeat ids). */
static void advance(const uint64_t *const *lists, const size_t *lens, size_t *at, int i)
{
    at[i]++;
    if (at[i] < lens[i] && lists[i][at[i]] >= lists[i][at[i] - 1])
        at[i] = lens[i];
}

size_t rst_kmerge_desc(const uint64_t *const *lists, const size_t *lens, int k,
                       size_t skip, uint64_t *out, size_t want)
{
    size_t at[KMERGE_MAX_LISTS] = { 0 };
    size_t n = 0, seen = 0;
    uint64_t last = 0;
    if (k > KMERGE_MAX_LISTS)
        k = KMERGE_MAX_LISTS;
    while (n < want) {
        int i = largest_head(lists, lens, at, k);
        if (i < 0)
            break;
        uint64_t id = lists[i][at[i]];
        advance(lists, lens, at, i);
        if (seen > 0 && id == last)
            continue;                       /* the same id from another list */
        last = id;
        if (seen++ < skip)
            continue;
        out[n++] = id;
    }
    return n;
}
