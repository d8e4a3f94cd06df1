/* idempotency.h -- Idempotency-Key for every POST (API.md §1.6).
 *
 * A generic layer around the handler, not per-handler code: before the
 * handler runs, the key is claimed in Redis as "pending"; a 2xx answer is
 * then stored for 24 h and replayed to any repeat (same key, method, path
 * and user — or, signed out, the same body), with Idempotent-Replayed:
 * true. A repeat with another body gets 422 idempotency_key_reused; a repeat
 * while the first is still running gets 409. Failed answers are not stored,
 * so a failed request may be retried with the same key. Without Redis the
 * layer steps aside (logged): requests still work, without the guarantee. */
#ifndef ROOST_API_IDEMPOTENCY_H
#define ROOST_API_IDEMPOTENCY_H

#include "api/ctx.h"

typedef struct {
    int  active;               /* a claim is held for this request */
    rst_key key;               /* idem:{hash of scope, method, path, key} */
    char body_hash[33];
} rst_idem;

/* 1 when the header value is a valid key (1..64 printable ASCII). */
int rst_idem_key_valid(const char *v);

/* Called before the handler. Returns 1 when the response is already
 * written (a replay, 409 or 422); 0 to run the handler. */
int rst_idem_begin(rst_ctx *c, rst_idem *st);

/* Called after the handler: stores a 2xx answer, or releases the claim. */
void rst_idem_finish(rst_ctx *c, rst_idem *st);

#endif
