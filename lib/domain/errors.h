/* errors.h -- the typed outcomes every domain service returns.
 *
 * Services know nothing of HTTP; app/api/ maps these onto status codes
 * (RST_E_UNAVAILABLE -> 502 upstream_unavailable, and so on). A service
 * that can say more -- which field, what is wrong with it -- fills an
 * rst_why the caller passes in, so the HTTP layer answers "name: is taken"
 * without writing status text of its own. */
#ifndef ROOST_ERRORS_H
#define ROOST_ERRORS_H

typedef enum {
    RST_OK = 0,
    RST_E_NOT_FOUND,      /* no such object */
    RST_E_FORBIDDEN,      /* authenticated but not allowed */
    RST_E_CONFLICT,       /* unique name taken, request in progress */
    RST_E_VALIDATION,     /* input breaks a rule; the field is in the rst_why */
    RST_E_UNAUTHORIZED,   /* wrong name or password */
    RST_E_RATE_LIMITED,   /* too many attempts; retry later */
    RST_E_UNAVAILABLE,    /* a database this request needs is down */
    RST_E_BUSY,           /* a deadlock, a lock wait, a shard being moved: retry soon */
    RST_E_INTERNAL        /* a bug or an unexpected database error (logged) */
} rst_err;

/* The detail of an error, for the client: the body field at fault (or
 * NULL) and what is wrong. Strings are static or live in the request's
 * arena. */
typedef struct {
    const char *field;
    const char *message;
} rst_why;

/* Records the detail (w may be NULL) and returns err, so a service can
 * write `return rst_fail(why, RST_E_CONFLICT, "name", "is taken");`. */
static inline rst_err rst_fail(rst_why *w, rst_err err, const char *field, const char *message)
{
    if (w != NULL) {
        w->field = field;
        w->message = message;
    }
    return err;
}

#endif
