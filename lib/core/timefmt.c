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

void rst_time_format(uint64_t unix_ms, char out[RST_TIME_LEN])
{
    time_t secs;
    struct tm tm;
    int n;

    if (unix_ms > LAST_FORMATTABLE_MS)
        unix_ms = LAST_FORMATTABLE_MS;
    secs = (time_t)(unix_ms / 1000);
    if (gmtime_r(&secs, &tm) == NULL) {
        memcpy(out, epoch_text, RST_TIME_LEN);   /* cannot happen in range */
        return;
    }
    n = snprintf(out, RST_TIME_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                 tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (unsigned)(unix_ms % 1000));
    if (n != RST_TIME_LEN - 1)
        memcpy(out, epoch_text, RST_TIME_LEN);
}

uint64_t rst_time_now_ms(void)
{
    struct timespec ts;

    /* CLOCK_REALTIME cannot fail on Linux; 0 keeps callers well defined
     * (the id generator then stays on its last millisecond). */
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || ts.tv_sec < 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t rst_time_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t rst_time_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}
