/*
 * Time helpers: monotonic and wall clocks in microseconds, RFC 3339 in and
 * out, and Go's duration notation used by Flamenco's configuration.
 */
#include "timeutil.h"

#include <ctype.h>
#include <inttypes.h>
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
	if (*p != '\0' || mon < 1 || mon > 12 || day < 1 || day > 31 ||
	    hour > 23 || min > 59 || sec > 60 || oh > 23 || om > 59)
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
	*us_out = secs * 1000000 + frac;
	return FM_OK;
}

enum fm_err
time_parse_duration(const char *s, int64_t *us_out)
{
	static const struct {
		const char *unit;
		double us;
	} units[] = {
		/* Longest spelling first so "ms" is not read as "m". */
		{ "ns", 0.001 },
		{ "us", 1 },
		{ "\xc2\xb5s", 1 },
		{ "ms", 1000 },
		{ "s", 1000000 },
		{ "m", 60000000.0 },
		{ "h", 3600000000.0 },
	};
	const char *p = s;
	double total = 0;

	*us_out = 0;
	if (strcmp(s, "0") == 0)
		return FM_OK;
	if (*p == '\0')
		return FM_ERR_INVALID;
	while (*p != '\0') {
		char *end;
		double v;
		size_t i;

		if (!isdigit((unsigned char)*p) && *p != '.')
			return FM_ERR_INVALID;
		v = strtod(p, &end);
		if (end == p)
			return FM_ERR_INVALID;
		p = end;
		for (i = 0; i < nitems(units); i++) {
			size_t ul = strlen(units[i].unit);

			if (strncmp(p, units[i].unit, ul) == 0 &&
			    (ul > 1 || (p[1] != 's'))) {
				total += v * units[i].us;
				p += ul;
				break;
			}
		}
		if (i == nitems(units))
			return FM_ERR_INVALID;
	}
	if (total > 9.2e18)
		return FM_ERR_INVALID;
	*us_out = (int64_t)total;
	return FM_OK;
}

void
time_format_duration(int64_t us, char *buf, size_t len)
{
	int64_t h, m, s, frac;
	size_t n = 0;

	if (us == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	if (us < 1000000) {
		if (us % 1000 == 0)
			snprintf(buf, len, "%" PRId64 "ms", us / 1000);
		else
			snprintf(buf, len, "%" PRId64 "us", us);
		return;
	}
	h = us / 3600000000LL;
	m = us / 60000000LL % 60;
	s = us / 1000000 % 60;
	frac = us % 1000000;
	if (h > 0)
		n += (size_t)snprintf(buf + n, len - n, "%" PRId64 "h", h);
	if (h > 0 || m > 0)
		n += (size_t)snprintf(buf + n, len - n, "%" PRId64 "m", m);
	if (frac == 0) {
		snprintf(buf + n, len - n, "%" PRId64 "s", s);
	} else {
		char digits[8];
		int d = 6;

		snprintf(digits, sizeof(digits), "%06" PRId64, frac);
		while (d > 0 && digits[d - 1] == '0')
			d--;
		digits[d] = '\0';
		snprintf(buf + n, len - n, "%" PRId64 ".%ss", s, digits);
	}
}
