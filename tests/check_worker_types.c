/*
 * Unit tests for worker_types.c: the task types the scheduler reads of a
 * worker's list, which blockers.c must read the same way.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "worker_types.h"
#include "xmalloc.h"

START_TEST(test_split_skips_empty_entries)
{
	char buf[] = ",blender,,ffmpeg,";
	const char *types[WORKER_TYPES_MAX];

	ck_assert_uint_eq(worker_types_split(buf, types), 2);
	ck_assert_str_eq(types[0], "blender");
	ck_assert_str_eq(types[1], "ffmpeg");
	ck_assert(worker_types_has(",blender,,ffmpeg,", "ffmpeg"));
	ck_assert(!worker_types_has(",blender,,ffmpeg,", ""));
	ck_assert(!worker_types_has("blender", "blend"));
	ck_assert(!worker_types_has("", "misc"));
}
END_TEST

/* Past the limit: the 33rd type is not read, the 32nd is. */
START_TEST(test_limit)
{
	char *list = xstrdup("");
	const char *types[WORKER_TYPES_MAX];

	for (int i = 0; i < WORKER_TYPES_MAX + 1; i++) {
		char *more = xasprintf("%s%st%d", list, i ? "," : "", i);

		free(list);
		list = more;
	}
	ck_assert(worker_types_has(list, "t31"));
	ck_assert(!worker_types_has(list, "t32"));
	ck_assert_uint_eq(worker_types_split(list, types), WORKER_TYPES_MAX);
	free(list);
}
END_TEST

static Suite *
worker_types_suite(void)
{
	Suite *s = suite_create("worker_types");
	TCase *tc = tcase_create("worker_types");

	tcase_add_test(tc, test_split_skips_empty_entries);
	tcase_add_test(tc, test_limit);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(worker_types_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
