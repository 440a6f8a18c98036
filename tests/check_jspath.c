/*
 * Tests for jspath.c: the cases of the environment fixture plus Go's own
 * path.Clean table.
 */
#include "jspath.h"

#include <check.h>
#include <stdlib.h>

#include "fm.h"

#define CHECK1(fn, in, want)                                               \
	do {                                                               \
		char *got_ = fn(in);                                       \
		ck_assert_msg(strcmp(got_, want) == 0,                     \
		    #fn "(\"%s\") = \"%s\", want \"%s\"", in, got_, want); \
		free(got_);                                                \
	} while (0)

#include <string.h>

static void
expect_join(const char *const *parts, size_t n, const char *want)
{
	char *got = jspath_join(parts, n);

	ck_assert_str_eq(got, want);
	free(got);
}

START_TEST(test_fixture_join)
{
	const char *a[] = { "a", "", "b/../c" };
	const char *b[] = { "/abs//x/", "y/" };
	const char *c[] = { "rel", "..", ".." };
	const char *d[] = { "C:\\renders", "shot" };
	const char *e[] = { "" };
	const char *f[] = { "/render/dir", "*.png" };

	expect_join(a, nitems(a), "a/c");
	expect_join(b, nitems(b), "/abs/x/y");
	expect_join(c, nitems(c), "..");
	expect_join(d, nitems(d), "C:/renders/shot");
	expect_join(e, nitems(e), "");
	expect_join(NULL, 0, "");
	expect_join(f, nitems(f), "/render/dir/*.png");
}
END_TEST

START_TEST(test_fixture_dirname_basename_stem)
{
	CHECK1(jspath_dirname, "/a/b/c.blend", "/a/b");
	CHECK1(jspath_dirname, "c.blend", ".");
	CHECK1(jspath_dirname, "/c.blend", "/");
	CHECK1(jspath_dirname, "", ".");
	CHECK1(jspath_dirname, "C:\\a\\b.blend", "C:/a");
	CHECK1(jspath_dirname, "/a/b/", "/a/b");
	CHECK1(jspath_dirname, "a//b", "a/");
	CHECK1(jspath_dirname, "/", "/");

	CHECK1(jspath_basename, "/a/b/", "b");
	CHECK1(jspath_basename, "", ".");
	CHECK1(jspath_basename, "D:\\x\\y.blend", "y.blend");
	CHECK1(jspath_basename, "///", "/");
	CHECK1(jspath_basename, "plain", "plain");

	CHECK1(jspath_stem, "/shared/shots/shot-010.flamenco.blend",
	    "shot-010.flamenco");
	CHECK1(jspath_stem, "/x/archive.tar.gz", "archive.tar");
	CHECK1(jspath_stem, "noext", "noext");
	CHECK1(jspath_stem, "C:\\x\\a.blend", "a");
	CHECK1(jspath_stem, ".hidden", "");
}
END_TEST

/* Go's path.Clean tests (cleantests in path_test.go, as documented). */
START_TEST(test_clean)
{
	static const char *const cases[][2] = {
		{ "", "." },
		{ "abc", "abc" },
		{ "abc/def", "abc/def" },
		{ "a/b/c", "a/b/c" },
		{ ".", "." },
		{ "..", ".." },
		{ "../..", "../.." },
		{ "../../abc", "../../abc" },
		{ "/abc", "/abc" },
		{ "/", "/" },
		{ "abc/", "abc" },
		{ "abc/def/", "abc/def" },
		{ "a/b/c/", "a/b/c" },
		{ "./", "." },
		{ "../", ".." },
		{ "../../", "../.." },
		{ "/abc/", "/abc" },
		{ "abc//def//ghi", "abc/def/ghi" },
		{ "//abc", "/abc" },
		{ "///abc", "/abc" },
		{ "//abc//", "/abc" },
		{ "abc//", "abc" },
		{ "abc/./def", "abc/def" },
		{ "/./abc/def", "/abc/def" },
		{ "abc/.", "abc" },
		{ "abc/def/ghi/../jkl", "abc/def/jkl" },
		{ "abc/def/../ghi/../jkl", "abc/jkl" },
		{ "abc/def/..", "abc" },
		{ "abc/def/../..", "." },
		{ "/abc/def/../..", "/" },
		{ "abc/def/../../..", ".." },
		{ "/abc/def/../../..", "/" },
		{ "abc/def/../../../ghi/jkl/../../../mno", "../../mno" },
		{ "abc/./../def", "def" },
		{ "abc//./../def", "def" },
		{ "abc/../../././../def", "../../def" },
	};

	for (size_t i = 0; i < nitems(cases); i++)
		CHECK1(jspath_clean, cases[i][0], cases[i][1]);
}
END_TEST

static Suite *
jspath_suite(void)
{
	Suite *s = suite_create("jspath");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_fixture_join);
	tcase_add_test(tc, test_fixture_dirname_basename_stem);
	tcase_add_test(tc, test_clean);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(jspath_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
