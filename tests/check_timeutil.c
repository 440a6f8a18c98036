/*
 * Tests for timeutil.c: RFC 3339 timestamps as Flamenco writes and reads
 * them (api/openapi.yaml) and Go duration strings as used by the config
 * file, in both directions.
 */
#include "timeutil.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SEC  1000000LL
#define T0   1714558272LL /* 2024-05-01T10:11:12Z */
#define LEAP 1709164800LL /* 2024-02-29T00:00:00Z */

static void
assert_format(int64_t us, const char *want)
{
	char buf[TIME_RFC3339_MAX];

	memset(buf, 'x', sizeof(buf));
	time_format_rfc3339(us, buf, sizeof(buf));
	ck_assert_str_eq(buf, want);
}

/* ---- RFC 3339 out ---- */

START_TEST(test_format_zero_time)
{
	assert_format(0, "0001-01-01T00:00:00Z");
}
END_TEST

START_TEST(test_format_whole_seconds)
{
	assert_format(T0 * SEC, "2024-05-01T10:11:12Z");
	assert_format(LEAP * SEC, "2024-02-29T00:00:00Z");
	assert_format(SEC, "1970-01-01T00:00:01Z");
}
END_TEST

START_TEST(test_format_fraction_trimmed)
{
	assert_format(T0 * SEC + 123456, "2024-05-01T10:11:12.123456Z");
	assert_format(T0 * SEC + 120000, "2024-05-01T10:11:12.12Z");
	assert_format(T0 * SEC + 500000, "2024-05-01T10:11:12.5Z");
	assert_format(T0 * SEC + 1, "2024-05-01T10:11:12.000001Z");
	assert_format(T0 * SEC + 10, "2024-05-01T10:11:12.00001Z");
	assert_format(1, "1970-01-01T00:00:00.000001Z");
}
END_TEST

START_TEST(test_format_before_epoch)
{
	assert_format(-1, "1969-12-31T23:59:59.999999Z");
	assert_format(-SEC, "1969-12-31T23:59:59Z");
	assert_format(-SEC - 500000, "1969-12-31T23:59:58.5Z");
}
END_TEST

/* The local time zone must never leak into UTC output or parsing. */
START_TEST(test_timezone_independent)
{
	int64_t us;

	setenv("TZ", "IST-5:30" /* POSIX rule: needs no tzdata */, 1);
	tzset();
	assert_format(T0 * SEC + 250000, "2024-05-01T10:11:12.25Z");
	ck_assert_int_eq(
	    time_parse_rfc3339("2024-05-01T10:11:12Z", &us), FM_OK);
	ck_assert_int_eq(us, T0 * SEC);
	setenv("TZ", "PST8PDT,M3.2.0,M11.1.0", 1);
	tzset();
	assert_format(T0 * SEC, "2024-05-01T10:11:12Z");
	ck_assert_int_eq(
	    time_parse_rfc3339("2024-05-01T10:11:12Z", &us), FM_OK);
	ck_assert_int_eq(us, T0 * SEC);
}
END_TEST

/* ---- RFC 3339 in ---- */

static const struct {
	const char *text;
	int64_t us;
} good_times[] = {
	{ "2024-05-01T10:11:12Z", T0 *SEC },
	{ "2024-05-01t10:11:12z", T0 *SEC },
	{ "2024-05-01T10:11:12+00:00", T0 *SEC },
	{ "2024-05-01T10:11:12-00:00", T0 *SEC },
	{ "2024-05-01T12:11:12+02:00", T0 *SEC },
	{ "2024-05-01T15:41:12+05:30", T0 *SEC },
	{ "2024-05-01T05:41:12-04:30", T0 *SEC },
	{ "2024-05-02T00:11:12+14:00", T0 *SEC },
	{ "2024-05-01T10:11:12.5Z", T0 *SEC + 500000 },
	{ "2024-05-01T10:11:12.123456Z", T0 *SEC + 123456 },
	/* Go accepts nanoseconds; we keep microseconds (truncated). */
	{ "2024-05-01T10:11:12.123456789Z", T0 *SEC + 123456 },
	{ "2024-05-01T10:11:12.000001Z", T0 *SEC + 1 },
	{ "2024-05-01T12:11:12.25+02:00", T0 *SEC + 250000 },
	{ "2024-02-29T00:00:00Z", LEAP *SEC },
	{ "1970-01-01T00:00:00.000001Z", 1 },
	{ "1969-12-31T23:59:59Z", -SEC },
	/* Go's zero time is what time_format_rfc3339 prints for 0. */
	{ "0001-01-01T00:00:00Z", 0 },
};

START_TEST(test_parse_good)
{
	int64_t us = -42;

	ck_assert_int_eq(time_parse_rfc3339(good_times[_i].text, &us), FM_OK);
	ck_assert_msg(us == good_times[_i].us, "%s: got %lld, want %lld",
	    good_times[_i].text, (long long)us, (long long)good_times[_i].us);
}
END_TEST

static const char *const bad_times[] = {
	"",
	"2024-05-01",
	"2024-05-01T10:11:12",      /* no zone */
	"2024-05-01T10:11Z",        /* no seconds */
	"2024-05-01 10:11:12",      /* no zone either */
	"2024-05-01X10:11:12Z",     /* bad separator */
	"24-05-01T10:11:12Z",       /* two-digit year */
	"2024-5-01T10:11:12Z",      /* one-digit month */
	"2024-00-01T10:11:12Z",     /* month 0 */
	"2024-13-01T10:11:12Z",     /* month 13 */
	"2024-05-00T10:11:12Z",     /* day 0 */
	"2024-05-32T10:11:12Z",     /* day 32 */
	"2024-04-31T10:11:12Z",     /* April has 30 days */
	"2024-02-30T10:11:12Z",     /* no February 30 */
	"2023-02-29T10:11:12Z",     /* not a leap year */
	"2100-02-29T10:11:12Z",     /* not a leap year either */
	"2024-05-01T24:00:00Z",     /* hour 24 */
	"2024-05-01T10:60:12Z",     /* minute 60 */
	"2024-05-01T10:11:61Z",     /* second 61 */
	"2024-05-01T10:11:12.Z",    /* empty fraction */
	"2024-05-01T10:11:12,5Z",   /* comma fraction */
	"2024-05-01T10:11:12+0200", /* offset without colon */
	"2024-05-01T10:11:12+02",   /* offset without minutes */
	"2024-05-01T10:11:12+24:00",
	"2024-05-01T10:11:12+02:60",
	"2024-05-01T10:11:12Zjunk",
	"2024-05-01T10:11:12Z ",
	" 2024-05-01T10:11:12Z",
	"now",
};

START_TEST(test_parse_bad)
{
	int64_t us = 42;

	ck_assert_msg(time_parse_rfc3339(bad_times[_i], &us) == FM_ERR_INVALID,
	    "accepted \"%s\"", bad_times[_i]);
	ck_assert_int_eq(us, 0);
}
END_TEST

START_TEST(test_rfc3339_roundtrip)
{
	static const int64_t values[] = { 0, 1, -1, T0 * SEC, T0 * SEC + 999999,
		LEAP * SEC + 42, 4102444800LL * SEC + 7 };
	char buf[TIME_RFC3339_MAX];
	int64_t us;

	for (size_t i = 0; i < nitems(values); i++) {
		time_format_rfc3339(values[i], buf, sizeof(buf));
		ck_assert_int_eq(time_parse_rfc3339(buf, &us), FM_OK);
		ck_assert_msg(us == values[i], "%s: got %lld, want %lld", buf,
		    (long long)us, (long long)values[i]);
	}
}
END_TEST

/* ---- Go durations ---- */

static const struct {
	const char *text;
	int64_t us;
} good_durations[] = {
	{ "0", 0 },
	{ "0s", 0 },
	{ "10m0s", 600 * SEC },
	{ "1h0m0s", 3600 * SEC },
	{ "1m0s", 60 * SEC },
	{ "500ms", 500000 },
	{ "1.5s", 1500000 },
	{ ".5s", 500000 },
	{ "1.s", SEC },
	{ "30s", 30 * SEC },
	{ "10m", 600 * SEC },
	{ "2h45m", (2 * 3600 + 45 * 60) * SEC },
	{ "1h2m3s", 3723 * SEC },
	{ "1h2m3.5s", 3723 * SEC + 500000 },
	{ "744h0m0s", 744 * 3600 * SEC },
	{ "1.5h", 5400 * SEC },
	{ "300us", 300 },
	{ "300\xc2\xb5s", 300 }, /* U+00B5 micro sign */
	{ "300\xce\xbcs", 300 }, /* U+03BC Greek mu, which Go also takes */
	{ "1500ns", 1 },         /* below a microsecond: truncated */
	{ "1.000001s", 1000001 },
	{ "0.000001s", 1 },
	{ "4.000007s", 4000007 },
	{ "1m1.000001s", 61000001 },
	{ "1s500ms", 1500000 },
};

START_TEST(test_duration_parse_good)
{
	int64_t us = -42;

	ck_assert_msg(
	    time_parse_duration(good_durations[_i].text, &us) == FM_OK,
	    "refused \"%s\"", good_durations[_i].text);
	ck_assert_msg(us == good_durations[_i].us, "%s: got %lld, want %lld",
	    good_durations[_i].text, (long long)us,
	    (long long)good_durations[_i].us);
}
END_TEST

static const char *const bad_durations[] = {
	"", "10",               /* missing unit */
	"1h10",                 /* missing unit at the end */
	"s", "ms", ".s", "-1s", /* negative: refused for configuration */
	"10x", "10 s", " 10s", "10s ", "1..5s", "1.2.3s",
	"1e3s", /* no exponents in Go durations */
	"0x10s", "infs", "nans", "10mm", "1d",
	"99999999999h", /* overflows int64 nanoseconds, as in Go */
};

START_TEST(test_duration_parse_bad)
{
	int64_t us = 42;

	ck_assert_msg(
	    time_parse_duration(bad_durations[_i], &us) == FM_ERR_INVALID,
	    "accepted \"%s\" as %lld", bad_durations[_i], (long long)us);
	ck_assert_int_eq(us, 0);
}
END_TEST

static const struct {
	int64_t us;
	const char *text;
} formatted_durations[] = {
	{ 0, "0s" },
	{ 600 * SEC, "10m0s" },
	{ 3600 * SEC, "1h0m0s" },
	{ 60 * SEC, "1m0s" },
	{ 500000, "500ms" },
	{ 1500000, "1.5s" },
	{ 10 * SEC, "10s" },
	{ 90 * SEC, "1m30s" },
	{ 3723 * SEC, "1h2m3s" },
	{ 3600 * SEC + 500000, "1h0m0.5s" },
	{ 744 * 3600 * SEC, "744h0m0s" },
	{ 61 * SEC + 1, "1m1.000001s" },
	/* Below a second Go picks the largest unit with a fraction. */
	{ 1, "1\xc2\xb5s" },
	{ 999, "999\xc2\xb5s" },
	{ 1000, "1ms" },
	{ 1500, "1.5ms" },
	{ 1001, "1.001ms" },
	{ 999999, "999.999ms" },
};

START_TEST(test_duration_format)
{
	char buf[64];

	memset(buf, 'x', sizeof(buf));
	time_format_duration(formatted_durations[_i].us, buf, sizeof(buf));
	ck_assert_str_eq(buf, formatted_durations[_i].text);
}
END_TEST

START_TEST(test_duration_roundtrip)
{
	char buf[64];
	int64_t us;

	time_format_duration(formatted_durations[_i].us, buf, sizeof(buf));
	ck_assert_int_eq(time_parse_duration(buf, &us), FM_OK);
	ck_assert_int_eq(us, formatted_durations[_i].us);
}
END_TEST

/* ---- clocks ---- */

START_TEST(test_clocks)
{
	int64_t a = time_mono_us(), b = time_mono_us();
	int64_t now = time_now_us();

	ck_assert_int_ge(b, a);
	/* After 2024-01-01 and before 2100-01-01. */
	ck_assert_int_gt(now, 1704067200LL * SEC);
	ck_assert_int_lt(now, 4102444800LL * SEC);
	ck_assert_int_le(now / SEC - (int64_t)time(NULL), 1);
}
END_TEST

static Suite *
timeutil_suite(void)
{
	Suite *s = suite_create("timeutil");
	TCase *tc;

	tc = tcase_create("rfc3339_format");
	tcase_add_test(tc, test_format_zero_time);
	tcase_add_test(tc, test_format_whole_seconds);
	tcase_add_test(tc, test_format_fraction_trimmed);
	tcase_add_test(tc, test_format_before_epoch);
	tcase_add_test(tc, test_timezone_independent);
	suite_add_tcase(s, tc);

	tc = tcase_create("rfc3339_parse");
	tcase_add_loop_test(tc, test_parse_good, 0, (int)nitems(good_times));
	tcase_add_loop_test(tc, test_parse_bad, 0, (int)nitems(bad_times));
	tcase_add_test(tc, test_rfc3339_roundtrip);
	suite_add_tcase(s, tc);

	tc = tcase_create("duration");
	tcase_add_loop_test(
	    tc, test_duration_parse_good, 0, (int)nitems(good_durations));
	tcase_add_loop_test(
	    tc, test_duration_parse_bad, 0, (int)nitems(bad_durations));
	tcase_add_loop_test(
	    tc, test_duration_format, 0, (int)nitems(formatted_durations));
	tcase_add_loop_test(
	    tc, test_duration_roundtrip, 0, (int)nitems(formatted_durations));
	suite_add_tcase(s, tc);

	tc = tcase_create("clocks");
	tcase_add_test(tc, test_clocks);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(timeutil_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
