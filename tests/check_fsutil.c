/*
 * Tests for fsutil.c: mkdir -p that refuses a file in the way, and rm -rf
 * that removes links without following them.
 */
#include "fsutil.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "xmalloc.h"

static bool
is_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

START_TEST(test_mkdirs_nested_and_again)
{
	char *dir = test_tmpdir();
	char *deep = xasprintf("%s/a/b/c", dir);

	ck_assert(fs_mkdirs(deep));
	ck_assert(is_dir(deep));
	ck_assert(fs_mkdirs(deep)); /* existing directories are fine */
	free(deep);
	test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_mkdirs_file_in_the_way)
{
	char *dir = test_tmpdir();
	char *file = test_write_file(dir, "f", "x");
	char *below = xasprintf("%s/sub", file);

	errno = 0;
	ck_assert(!fs_mkdirs(file));
	ck_assert_int_eq(errno, ENOTDIR);
	ck_assert(!fs_mkdirs(below));
	free(below);
	free(file);
	test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_remove_tree_keeps_link_targets)
{
	char *dir = test_tmpdir();
	char *keep = xasprintf("%s/keep", dir);
	char *tree = xasprintf("%s/tree/x/y", dir);
	char *link = xasprintf("%s/tree/x/to-keep", dir);
	char *kept_file, *top = xasprintf("%s/tree", dir);

	ck_assert(fs_mkdirs(keep));
	kept_file = test_write_file(keep, "precious", "data");
	ck_assert(fs_mkdirs(tree));
	free(test_write_file(tree, "file", "bye"));
	ck_assert_int_eq(symlink(keep, link), 0);

	ck_assert_int_eq(fs_remove_tree(top), FM_OK);
	ck_assert(!exists(top));
	ck_assert(exists(kept_file)); /* the link went, not what it named */
	/* Gone already: nothing to do, and no error. */
	ck_assert_int_eq(fs_remove_tree(top), FM_OK);

	free(kept_file);
	free(keep);
	free(tree);
	free(link);
	free(top);
	test_rmtree(dir);
	free(dir);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("fsutil");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_mkdirs_nested_and_again);
	tcase_add_test(tc, test_mkdirs_file_in_the_way);
	tcase_add_test(tc, test_remove_tree_keeps_link_targets);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
