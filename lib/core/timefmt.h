/* timefmt.h -- RFC 3339 UTC timestamps with milliseconds (API.md §1.2). */
#ifndef ROOST_TIMEFMT_H
#define ROOST_TIMEFMT_H

#include <stdint.h>

#define RST_TIME_LEN 25   /* "2026-11-28T19:50:21.123Z" + NUL */

/* Formats unix milliseconds as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out[RST_TIME_LEN]. */
void rst_time_format(uint64_t unix_ms, char out[RST_TIME_LEN]);

/* Current wall clock in unix milliseconds: for ids and timestamps only. */
uint64_t rst_time_now_ms(void);

/* Milliseconds of CLOCK_MONOTONIC: for every duration, timeout and
 * deadline, which must not jump when the wall clock is stepped. The same
 * clock in every process, so it may be shared through the scoreboard. */
uint64_t rst_time_mono_ms(void);
/* The wall clock in unix microseconds. */
uint64_t rst_time_now_us(void);
/* The monotonic clock in microseconds, for timing calls. */
uint64_t rst_time_mono_us(void);

#endif
