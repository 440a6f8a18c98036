/*
 * Clocks and RFC 3339 timestamps as Flamenco writes them: UTC with a "Z"
 * and fractional seconds with trailing zeros trimmed.
 */
#ifndef FM_TIMEUTIL_H
#define FM_TIMEUTIL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "fm.h"

/* Microseconds on the monotonic clock; only differences mean anything. */
int64_t time_mono_us(void);

/* Microseconds since the Unix epoch. */
int64_t time_now_us(void);

/* The time on clock us microseconds from now, as pthread_cond_timedwait
 * wants it (CLOCK_MONOTONIC for conditions made by time_cond_init_mono,
 * CLOCK_REALTIME for default ones). */
struct timespec time_deadline(clockid_t clock, int64_t us);

/* Initialise c to time its waits on CLOCK_MONOTONIC, which wall-clock
 * changes do not move. */
void time_cond_init_mono(pthread_cond_t *c);

#define TIME_RFC3339_MAX 40

/*
 * Format epoch microseconds as RFC 3339 UTC into buf (at least
 * TIME_RFC3339_MAX bytes). 0 prints as Go's zero time.
 */
void time_format_rfc3339(int64_t us, char *buf, size_t len);

/* Parse RFC 3339 with any offset into epoch microseconds. */
FM_MUST_CHECK enum fm_err time_parse_rfc3339(const char *s, int64_t *us_out);

/*
 * Parse a Go-style duration ("1h2m3s", "10m0s", "500ms", "0") into
 * microseconds. Negative durations are refused.
 */
FM_MUST_CHECK enum fm_err time_parse_duration(const char *s, int64_t *us_out);

/* Format microseconds as a Go-style duration ("10m0s", "1h0m0s", "1.5s"). */
void time_format_duration(int64_t us, char *buf, size_t len);

#endif
