/* tlmerge.h -- the pure parts of the home timeline (domain/timeline.h):
 * the members of its Redis sorted sets, the merge of its lists and the
 * filter by the users the reader follows. No I/O, for unit tests.
 *
 * A home timeline member is "<id>:<author>", both as 20 zero-padded
 * digits, so that the set's lexicographic order is id order (one range
 * read below a cursor, like the global feed) and the author of every
 * entry is known without loading the tweet (the unfollow filter). An
 * author's recent-ids member is the id alone. In both, 20 zeros is the
 * sentinel: the list was built (it sorts below every entry). */
#ifndef ROOST_TLMERGE_H
#define ROOST_TLMERGE_H

#include <stddef.h>
#include <stdint.h>

#define RST_TL_ID_LEN     20
#define RST_TL_MEMBER_LEN 41                 /* id ':' author */

typedef struct {
    uint64_t id;
    uint64_t author;
} rst_tl_entry;

/* "<id>:<author>" into out (RST_TL_MEMBER_LEN + 1 bytes, NUL-terminated). */
void rst_tl_member(uint64_t id, uint64_t author, char *out);
/* 20 digits of id into out (RST_TL_ID_LEN + 1 bytes). */
void rst_tl_id_member(uint64_t id, char *out);

/* A home timeline member: 1 and *e for an entry, 0 for the sentinel, -1
 * for anything else (a foreign or corrupt member; ids and authors are
 * never 0). */
int rst_tl_parse_member(const char *s, size_t len, rst_tl_entry *e);
/* An author list member: 1 and *id, 0 for the sentinel, -1 otherwise. */
int rst_tl_parse_id(const char *s, size_t len, uint64_t *id);

/* One list as read: entries newest first (strictly decreasing ids; the
 * rest is ignored), and whether the list may hold more after them. */
typedef struct {
    const rst_tl_entry *e;
    int                 n;
    int                 more;
} rst_tl_run;

/* Merges k runs newest first, keeping each id once, and only as far as
 * the merge is certain: a run that may hold more stops it at its last id
 * (an older entry of another run could be preceded by entries it has not
 * given yet). Writes at most max entries; *next gets the id below which
 * the next read continues (0: every run is exhausted and all was written). */
int rst_tl_merge(const rst_tl_run *runs, int k, rst_tl_entry *out, int max, uint64_t *next);

/* Keeps, in place and in order, the entries whose author is `self` or in
 * follows[0..nf) (sorted ascending). Returns how many are left. */
int rst_tl_filter(rst_tl_entry *e, int n, const uint64_t *follows, int nf, uint64_t self);

/* 1 when follows[0..n) holds uid (sorted ascending). */
int rst_tl_has(const uint64_t *follows, int n, uint64_t uid);

#endif
