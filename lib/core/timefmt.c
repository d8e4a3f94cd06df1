/* timefmt.c -- RFC 3339 UTC timestamps with milliseconds (API.md §1.2) and
 * the wall clock in unix milliseconds. */
#include "core/timefmt.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* RFC 3339 has four-digit years; later instants are clamped to the last
 * millisecond of 9999 so the output always fits RST_TIME_LEN. */
#define LAST_FORMATTABLE_MS 253402300799999ULL   /* 9999-12-31T23:59:59.999Z */

static const char epoch_text[RST_TIME_LEN] = "1970-01-01T00:00:00.000Z";

/* Days since 1970-01-01 to a civil date (Howard Hinnant's days_from_civil
 * inverse, proleptic Gregorian): gmtime_r and snprintf cost more than the
 * rest of a cart item's JSON, and every object carries two timestamps. */
static void civil_from_days(uint64_t z, unsigned *y, unsigned *m, unsigned *d)
{
    z += 719468;
    uint64_t era = z / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (unsigned)(yoe + era * 400) + (*m <= 2);
}

static void digits(char *out, unsigned v, int n)
{
    while (n-- > 0) {
        out[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

void rst_time_format(uint64_t unix_ms, char out[RST_TIME_LEN])
{
    if (unix_ms > LAST_FORMATTABLE_MS)
        unix_ms = LAST_FORMATTABLE_MS;
    uint64_t secs = unix_ms / 1000;
    unsigned sod = (unsigned)(secs % 86400), y, mo, d;
    civil_from_days(secs / 86400, &y, &mo, &d);
    memcpy(out, epoch_text, RST_TIME_LEN);        /* the punctuation and the NUL */
    digits(out, y, 4);
    digits(out + 5, mo, 2);
    digits(out + 8, d, 2);
    digits(out + 11, sod / 3600, 2);
    digits(out + 14, sod / 60 % 60, 2);
    digits(out + 17, sod % 60, 2);
    digits(out + 20, (unsigned)(unix_ms % 1000), 3);
}

/* A clock in units of 1/per_s seconds. CLOCK_REALTIME cannot fail on
 * Linux; 0 keeps callers well defined (the id generator then stays on its
 * last millisecond). */
static uint64_t clock_in(clockid_t id, uint64_t per_s)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0 || ts.tv_sec < 0)
        return 0;
    return (uint64_t)ts.tv_sec * per_s + (uint64_t)ts.tv_nsec / (1000000000ULL / per_s);
}

uint64_t rst_time_now_ms(void) { return clock_in(CLOCK_REALTIME, 1000); }
uint64_t rst_time_now_us(void) { return clock_in(CLOCK_REALTIME, 1000000); }
uint64_t rst_time_mono_ms(void) { return clock_in(CLOCK_MONOTONIC, 1000); }
uint64_t rst_time_mono_us(void) { return clock_in(CLOCK_MONOTONIC, 1000000); }
