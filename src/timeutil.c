/*
 * Time helpers: monotonic and wall clocks in microseconds, RFC 3339 in and
 * out, and Go's duration notation used by Flamenco's configuration.
 */
#include "timeutil.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t
time_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
time_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct timespec
time_deadline(clockid_t clock, int64_t us)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	ts.tv_sec += (time_t)(us / 1000000);
	ts.tv_nsec += (long)(us % 1000000) * 1000;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

void
time_cond_init_mono(pthread_cond_t *c)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(c, &attr);
	pthread_condattr_destroy(&attr);
}

void
time_format_rfc3339(int64_t us, char *buf, size_t len)
{
	time_t secs;
	struct tm tm;
	int64_t frac;
	size_t n;

	if (us == 0) {
		snprintf(buf, len, "0001-01-01T00:00:00Z");
		return;
	}
	secs = (time_t)(us / 1000000);
	frac = us % 1000000;
	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	gmtime_r(&secs, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	if (frac != 0 && n + 8 < len) {
		char digits[8];
		int d = 6;

		snprintf(digits, sizeof(digits), "%06" PRId64, frac);
		while (d > 0 && digits[d - 1] == '0')
			d--;
		digits[d] = '\0';
		n += (size_t)snprintf(buf + n, len - n, ".%s", digits);
	}
	snprintf(buf + n, len - n, "Z");
}

/* 0001-01-01T00:00:00Z in seconds since the Unix epoch. */
#define GO_ZERO_TIME_SECS (-62135596800LL)

static int
days_in_month(int year, int mon)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return mon == 2 && leap ? 29 : days[mon - 1];
}

static int
parse_digits(const char **p, int count, int *out)
{
	int v = 0;

	for (int i = 0; i < count; i++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*out = v;
	return 0;
}

enum fm_err
time_parse_rfc3339(const char *s, int64_t *us_out)
{
	int year, mon, day, hour, min, sec, oh = 0, om = 0, sign = 0;
	int64_t frac = 0;
	const char *p = s;
	struct tm tm;
	int64_t secs;

	*us_out = 0;
	if (parse_digits(&p, 4, &year) || *p++ != '-' ||
	    parse_digits(&p, 2, &mon) || *p++ != '-' ||
	    parse_digits(&p, 2, &day) || (*p != 'T' && *p != 't' && *p != ' '))
		return FM_ERR_INVALID;
	p++;
	if (parse_digits(&p, 2, &hour) || *p++ != ':' ||
	    parse_digits(&p, 2, &min) || *p++ != ':' ||
	    parse_digits(&p, 2, &sec))
		return FM_ERR_INVALID;
	if (*p == '.') {
		int digits = 0;

		p++;
		if (!isdigit((unsigned char)*p))
			return FM_ERR_INVALID;
		while (isdigit((unsigned char)*p)) {
			if (digits < 6) {
				frac = frac * 10 + (*p - '0');
				digits++;
			}
			p++;
		}
		while (digits++ < 6)
			frac *= 10;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		p++;
		if (parse_digits(&p, 2, &oh) || *p++ != ':' ||
		    parse_digits(&p, 2, &om))
			return FM_ERR_INVALID;
	} else {
		return FM_ERR_INVALID;
	}
	if (*p != '\0' || mon < 1 || mon > 12 || day < 1 ||
	    day > days_in_month(year, mon) || hour > 23 || min > 59 ||
	    sec > 60 || oh > 23 || om > 59)
		return FM_ERR_INVALID;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	secs = (int64_t)timegm(&tm);
	secs -= (int64_t)sign * (oh * 3600 + om * 60);
	/* Go's zero time reads back as the 0 it is printed for. */
	if (secs == GO_ZERO_TIME_SECS && frac == 0)
		return FM_OK;
	*us_out = secs * 1000000 + frac;
	return FM_OK;
}

enum fm_err
time_parse_duration(const char *s, int64_t *us_out)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {
		/* Longest spelling first so "ms" is not read as "m". */
		{ "ns", 1 },
		{ "us", 1e3 },
		{ "\xc2\xb5s", 1e3 }, /* U+00B5 micro sign */
		{ "\xce\xbcs", 1e3 }, /* U+03BC Greek mu */
		{ "ms", 1e6 },
		{ "s", 1e9 },
		{ "m", 60e9 },
		{ "h", 3600e9 },
	};
	const char *p = s;
	int64_t total_ns = 0;

	*us_out = 0;
	if (strcmp(s, "0") == 0)
		return FM_OK;
	if (*p == '\0')
		return FM_ERR_INVALID;
	while (*p != '\0') {
		/* Digits and one dot only: strtod would also take 1e3, 0x10. */
		size_t span = strspn(p, "0123456789.");
		char *end;
		double v, ns;
		size_t i;

		v = strtod(p, &end);
		if (span == 0 || end != p + span)
			return FM_ERR_INVALID;
		p = end;
		for (i = 0; i < nitems(units); i++) {
			size_t ul = strlen(units[i].unit);

			if (strncmp(p, units[i].unit, ul) == 0)
				break;
		}
		if (i == nitems(units))
			return FM_ERR_INVALID;
		p += strlen(units[i].unit);
		/* Round to whole nanoseconds, as Go holds them, so 1.000001s
		 * is not 1.000000999...s; Go's int64 limit applies. */
		ns = v * units[i].ns + 0.5;
		if (ns >= 9.2e18 || (int64_t)ns > INT64_MAX - total_ns)
			return FM_ERR_INVALID;
		total_ns += (int64_t)ns;
	}
	*us_out = total_ns / 1000;
	return FM_OK;
}

/* "whole[.fraction]unit" with the fraction's trailing zeros trimmed. */
static void
format_decimal(char *buf, size_t len, int64_t whole, int64_t frac, int digits,
    const char *unit)
{
	char f[8] = "";
	int d = digits;

	if (frac != 0) {
		snprintf(f, sizeof(f), ".%0*" PRId64, digits, frac);
		while (d > 0 && f[d] == '0')
			f[d--] = '\0';
	}
	snprintf(buf, len, "%" PRId64 "%s%s", whole, f, unit);
}

void
time_format_duration(int64_t us, char *buf, size_t len)
{
	int64_t h, m, s;
	size_t n = 0;

	if (us == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	/* Below a second Go uses the largest unit that keeps a whole part. */
	if (us < 1000) {
		format_decimal(buf, len, us, 0, 0, "\xc2\xb5s");
		return;
	}
	if (us < 1000000) {
		format_decimal(buf, len, us / 1000, us % 1000, 3, "ms");
		return;
	}
	h = us / 3600000000LL;
	m = us / 60000000LL % 60;
	s = us / 1000000 % 60;
	if (h > 0)
		n += (size_t)snprintf(buf + n, len - n, "%" PRId64 "h", h);
	if (h > 0 || m > 0)
		n += (size_t)snprintf(buf + n, len - n, "%" PRId64 "m", m);
	format_decimal(buf + n, len - n, s, us % 1000000, 6, "s");
}
