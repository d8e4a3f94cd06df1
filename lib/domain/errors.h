/* errors.h -- the typed outcomes every domain service returns.
 *
 * Services know nothing of HTTP; app/roostd/ maps these onto status codes
 * (RST_E_UNAVAILABLE -> 502 upstream_unavailable, and so on). */
#ifndef ROOST_ERRORS_H
#define ROOST_ERRORS_H

typedef enum {
    RST_OK = 0,
    RST_E_NOT_FOUND,      /* no such object */
    RST_E_FORBIDDEN,      /* authenticated but not allowed */
    RST_E_CONFLICT,       /* unique name taken, request in progress */
    RST_E_VALIDATION,     /* input breaks a rule; details in the error's fields */
    RST_E_UNAUTHORIZED,   /* wrong name or password */
    RST_E_RATE_LIMITED,   /* too many attempts; retry later */
    RST_E_UNAVAILABLE,    /* a database this request needs is down */
    RST_E_INTERNAL        /* a bug or an unexpected database error (logged) */
} rst_err;

#endif
