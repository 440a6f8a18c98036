/*
 * Tests for log.c: escaping (one call is one line, whatever the text
 * holds), the level filter, and the flusher thread's shutdown.
 */
#include "log.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "xmalloc.h"

static void
assert_escape(const char *in, size_t len, const char *want)
{
	char out[256];
	size_t n = log_escape(out, sizeof(out), in, len);

	ck_assert_str_eq(out, want);
	ck_assert_uint_eq(n, strlen(want));
}

START_TEST(test_escape_controls)
{
	assert_escape("plain text", 10, "plain text");
	assert_escape("a\nb", 3, "a\\nb");
	assert_escape("a\r\nb\tc", 6, "a\\r\\nb\\tc");
	assert_escape("nul\0byte", 8, "nul\\x00byte");
	assert_escape("\x1b[31mred", 8, "\\x1b[31mred");
	assert_escape("del\x7f", 4, "del\\x7f");
	/* Backslashes stay as they are: Windows paths remain readable. */
	assert_escape("C:\\render\\n", 11, "C:\\render\\n");
}
END_TEST

START_TEST(test_escape_utf8)
{
	/* Well-formed UTF-8 passes: é, €, an emoji. */
	assert_escape("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	/* Invalid bytes are escaped one by one. */
	assert_escape("\xff", 1, "\\xff");
	assert_escape("a\xc3", 2, "a\\xc3");                 /* cut short */
	assert_escape("\xc0\x80", 2, "\\xc0\\x80");          /* overlong NUL */
	assert_escape("\xe0\x80\xaf", 3, "\\xe0\\x80\\xaf"); /* overlong / */
	assert_escape("\xed\xa0\x80", 3, "\\xed\\xa0\\x80"); /* surrogate */
	assert_escape("\xf4\x90\x80\x80", 4, "\\xf4\\x90\\x80\\x80");
	/* C1 controls (here CSI) are escaped like C0 ones. */
	assert_escape("\xc2\x9b"
	              "31m",
	    5, "\\xc2\\x9b31m");
	/* U+00A0 is the first code point above them. */
	assert_escape("\xc2\xa0", 2, "\xc2\xa0");
}
END_TEST

START_TEST(test_escape_truncates_between_escapes)
{
	char out[8];

	/* "ab" + "\x01" needs 6 bytes + NUL: fits; the next does not. */
	ck_assert_uint_eq(log_escape(out, sizeof(out), "ab\x01\x02", 4), 6);
	ck_assert_str_eq(out, "ab\\x01");
	ck_assert_uint_eq(log_escape(out, 4, "\xc3\xa9\xc3\xa9", 4), 2);
	ck_assert_str_eq(out, "\xc3\xa9");
	ck_assert_uint_eq(log_escape(out, 1, "abc", 3), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

/* Run fn with stderr going to a temporary file; returns what it got. */
static char *
capture(void (*fn)(void))
{
	char *dir = test_tmpdir();
	char *path = xasprintf("%s/stderr", dir);
	FILE *f = fopen(path, "w+");
	int saved = dup(STDERR_FILENO);
	char *text;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(saved, 0);
	dup2(fileno(f), STDERR_FILENO);
	fn();
	dup2(saved, STDERR_FILENO);
	close(saved);
	fclose(f);
	text = test_read_file(path, NULL);
	ck_assert_ptr_nonnull(text);
	test_rmtree(dir);
	free(path);
	free(dir);
	return text;
}

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

static void
log_forged_lines(void)
{
	log_set_level(LOG_LEVEL_INFO);
	log_warn("job %s submitted",
	    "x\n2030-01-01T00:00:00.000Z ERROR forged\r\x1b[2K");
	log_info("GET %s 404", "/api/v3/jobs/\n2030-01-01T00:00:00.000Z WARN");
	log_shutdown();
}

START_TEST(test_one_call_one_line)
{
	char *text = capture(log_forged_lines);

	ck_assert_uint_eq(count_lines(text), 2);
	ck_assert_ptr_nonnull(strstr(text,
	    " WARN  job x\\n2030-01-01T00:00:00.000Z ERROR forged\\r\\x1b[2K "
	    "submitted\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    " INFO  GET /api/v3/jobs/\\n2030-01-01T00:00:00.000Z WARN 404\n"));
	free(text);
}
END_TEST

static void
log_long_line(void)
{
	char *big = xmalloc(10000);

	memset(big, '\n', 9999);
	big[9999] = '\0';
	log_warn("%s", big);
	free(big);
}

START_TEST(test_long_line_stays_one_line)
{
	char *text = capture(log_long_line);

	ck_assert_uint_eq(count_lines(text), 1);
	ck_assert_ptr_nonnull(strstr(text, "\\n\\n\\n"));
	free(text);
}
END_TEST

static void
log_levels(void)
{
	log_set_level(LOG_LEVEL_WARN);
	log_info("hidden");
	log_warn("shown");
	log_set_level(LOG_LEVEL_INFO);
	log_info("buffered");
	log_shutdown();
	/* Logging after a shutdown starts a new flusher. */
	log_info("after shutdown");
	log_shutdown();
}

START_TEST(test_levels_and_shutdown)
{
	char *text = capture(log_levels);

	ck_assert_ptr_null(strstr(text, "hidden"));
	ck_assert_ptr_nonnull(strstr(text, "WARN  shown\n"));
	ck_assert_ptr_nonnull(strstr(text, "INFO  buffered\n"));
	ck_assert_ptr_nonnull(strstr(text, "INFO  after shutdown\n"));
	ck_assert(strstr(text, "shown") < strstr(text, "buffered"));
	free(text);
}
END_TEST

START_TEST(test_level_parse)
{
	ck_assert_int_eq(log_level_parse("debug"), LOG_LEVEL_DEBUG);
	ck_assert_int_eq(log_level_parse("INFO"), LOG_LEVEL_INFO);
	ck_assert_int_eq(log_level_parse("warning"), LOG_LEVEL_WARN);
	ck_assert_int_eq(log_level_parse("error"), LOG_LEVEL_ERROR);
	ck_assert_int_eq(log_level_parse("loud"), -1);
}
END_TEST

static Suite *
log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");

	tcase_add_test(tc, test_escape_controls);
	tcase_add_test(tc, test_escape_utf8);
	tcase_add_test(tc, test_escape_truncates_between_escapes);
	tcase_add_test(tc, test_one_call_one_line);
	tcase_add_test(tc, test_long_line_stays_one_line);
	tcase_add_test(tc, test_levels_and_shutdown);
	tcase_add_test(tc, test_level_parse);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(log_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
