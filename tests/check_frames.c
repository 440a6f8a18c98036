/*
 * Tests for frames.c: the frameChunker examples of Flamenco's own and the
 * fixtures, frameCount, every error message, and the frame cap.
 */
#include "frames.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

/* Chunk spec by size and compare with the "|"-joined expectation. */
static void
expect_chunks(const char *spec, int64_t size, const char *want)
{
	char *chunks = NULL, *err = NULL, joined[4096] = "";
	size_t n = 0, off = 0;
	enum fm_err rc;

	rc = frames_chunk(spec, size, &chunks, &n, &err);
	ck_assert_msg(rc == FM_OK, "%s: %s", spec, err ? err : "?");
	ck_assert_ptr_null(err);
	for (size_t i = 0; i < n; i++) {
		const char *c = chunks + off;

		if (i > 0)
			strcat(joined, "|");
		strcat(joined, c);
		off += strlen(c) + 1;
	}
	ck_assert_str_eq(joined, want);
	free(chunks);
}

static void
expect_chunk_error(const char *spec, int64_t size, const char *want)
{
	char *chunks = NULL, *err = NULL;
	size_t n = 0;

	ck_assert_int_eq(
	    frames_chunk(spec, size, &chunks, &n, &err), FM_ERR_INVALID);
	ck_assert_ptr_null(chunks);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, want) != NULL, "'%s' lacks '%s'", err, want);
	free(err);
}

static size_t
count_of(const char *spec)
{
	size_t n = 99;
	char *err = NULL;

	ck_assert_int_eq(frames_count(spec, &n, &err), FM_OK);
	ck_assert_ptr_null(err);
	return n;
}

START_TEST(test_flamenco_examples)
{
	expect_chunks("1..10,20..25,40,3..8", 4, "1-4|5-8|9,10,20,21|22-25|40");
	expect_chunks("47", 4, "47");
	expect_chunks("1-3", 3, "1-3");
	expect_chunks(
	    " 1  .. 10,\t20..25\n,40   ", 4, "1-4|5-8|9,10,20,21|22-25|40");
	expect_chunks("0-12,34-56,78-90", 20, "0-12,34-40|41-56,78-81|82-90");
	expect_chunk_error(" 1 10", 4, "1 10");
}
END_TEST

START_TEST(test_fixture_cases)
{
	/* fixture_es2015 and simple-blender-render (scripts/). */
	expect_chunks("1-7,10", 3, "1-3|4-6|7,10");
	expect_chunks("1-10", 3, "1-3|4-6|7-9|10");
	expect_chunks("1-10", 1, "1|2|3|4|5|6|7|8|9|10");
	expect_chunks("1-10", 100, "1-10");
}
END_TEST

START_TEST(test_runs_and_dedup)
{
	expect_chunks("5,4,3,2,1", 10, "1-5");
	expect_chunks("1,3,5", 10, "1,3,5");
	expect_chunks("1,2,4,5,7", 10, "1,2,4,5,7");
	expect_chunks("1-3,2-6,6", 2, "1,2|3,4|5,6");
	expect_chunks("10-5,3", 4, "3");
	expect_chunks("1-2,3-4", 4, "1-4");
	expect_chunks("+7", 1, "7");
	expect_chunks("0", 1, "0");
	expect_chunks("1-3, 7 - 9", 6, "1-3,7-9");
	expect_chunks("9223372036854775806-9223372036854775807", 5,
	    "9223372036854775806,9223372036854775807");
}
END_TEST

START_TEST(test_errors)
{
	expect_chunk_error("", 4, "invalid range \"\": empty range");
	expect_chunk_error("  \t", 4, "invalid range \"\": empty range");
	expect_chunk_error(
	    "1-10", 0, "invalid chunk size, must be positive number: 0");
	expect_chunk_error(
	    "1-10", -3, "invalid chunk size, must be positive number: -3");
	expect_chunk_error("1-2-3", 1, "invalid range \"1-2-3\": 1-2-3");
	expect_chunk_error("1..2..3", 1, "invalid range \"1..2..3\": 1-2-3");
	expect_chunk_error("a", 1, "\"a\" is not a frame number");
	expect_chunk_error("1-x", 1, "\"x\" is not a frame number");
	expect_chunk_error("-5", 1, "is not a frame number");
	expect_chunk_error("1,,2", 1, "is not a frame number");
	expect_chunk_error("1,", 1, "is not a frame number");
	expect_chunk_error("1.5", 1, "\"1.5\" is not a frame number");
	expect_chunk_error("99999999999999999999", 1, "is not a frame number");
	expect_chunk_error("10-1", 1, "invalid range \"10-1\": empty range");
}
END_TEST

START_TEST(test_count)
{
	char *err = NULL;
	size_t n = 7;

	ck_assert_uint_eq(count_of("1-10"), 10);
	ck_assert_uint_eq(count_of("1..10,20..25,40,3..8"), 17);
	ck_assert_uint_eq(count_of("47"), 1);
	ck_assert_uint_eq(count_of("9,10,20,21"), 4);
	ck_assert_uint_eq(count_of("1-3,2-4"), 4);
	ck_assert_uint_eq(count_of(" 5 "), 1);
	ck_assert_int_eq(frames_count("", &n, &err), FM_ERR_INVALID);
	ck_assert_uint_eq(n, 0);
	ck_assert_str_eq(err, "invalid range \"\": empty range");
	free(err);
	ck_assert_int_eq(frames_count("x", &n, &err), FM_ERR_INVALID);
	free(err);
}
END_TEST

START_TEST(test_cap)
{
	char *chunks = NULL, *err = NULL;
	size_t n = 0;
	int64_t t0 = time_mono_us();

	ck_assert_uint_eq(count_of("1-1000000"), FRAMES_MAX);
	expect_chunk_error("1-1000000000", 1,
	    "frame range \"1-1000000000\" has more than 1000000 frames");
	expect_chunk_error("0-9223372036854775807", 1, "has more than");
	expect_chunk_error("1-600000,700001-1300000", 1, "has more than");
	ck_assert_int_eq(frames_count("1-1000001", &n, &err), FM_ERR_INVALID);
	free(err);
	/* Refused without walking the range. */
	ck_assert_int_lt(time_mono_us() - t0, 200000);

	ck_assert_int_eq(
	    frames_chunk("1-1000000", 1000, &chunks, &n, &err), FM_OK);
	ck_assert_uint_eq(n, 1000);
	ck_assert_str_eq(chunks, "1-1000");
	free(chunks);
}
END_TEST

static Suite *
frames_suite(void)
{
	Suite *s = suite_create("frames");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_flamenco_examples);
	tcase_add_test(tc, test_fixture_cases);
	tcase_add_test(tc, test_runs_and_dedup);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_count);
	tcase_add_test(tc, test_cap);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(frames_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
