/* kmerge.h -- the k-way merge of the global feed's scatter-gather: lists
 * of ids, each sorted newest first (strictly decreasing), merged into one
 * list newest first, duplicates dropped. Pure, for unit tests. */
#ifndef ROOST_KMERGE_H
#define ROOST_KMERGE_H

#include <stddef.h>
#include <stdint.h>

/* Merges k lists (lists[i] holds lens[i] ids, strictly decreasing) into
 * out, newest first, keeping each id once and at most `want` of them.
 * `skip` ids are passed over first (an offset into the merged order).
 * Returns how many ids went into out. k is small (one list per shard
 * server), so each step scans the k heads: O(k) per id. A list that is
 * not decreasing is read as far as it is and then ignored. */
size_t rst_kmerge_desc(const uint64_t *const *lists, const size_t *lens, int k,
                       size_t skip, uint64_t *out, size_t want);

#endif
