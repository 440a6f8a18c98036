/*
 * Tests for shellsplit.c: quoting, escapes, comments and errors, compared
 * with what a POSIX shell does with the same text.
 */
#include "shellsplit.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

/* Split s and compare with the "]["-joined words, e.g. "[a][b c]". */
static void
expect_words(const char *s, const char *want)
{
	char *words = NULL, *err = NULL, got[1024] = "";
	size_t n = 0, off = 0;

	ck_assert_int_eq(shellsplit(s, &words, &n, &err), FM_OK);
	ck_assert_ptr_null(err);
	for (size_t i = 0; i < n; i++) {
		strcat(got, "[");
		strcat(got, words + off);
		strcat(got, "]");
		off += strlen(words + off) + 1;
	}
	ck_assert_str_eq(got, want);
	free(words);
}

static void
expect_error(const char *s)
{
	char *words = NULL, *err = NULL;
	size_t n = 5;

	ck_assert_int_eq(shellsplit(s, &words, &n, &err), FM_ERR_INVALID);
	ck_assert_ptr_null(words);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_nonnull(
	    strstr(err, "EOF found when expecting closing quote"));
	free(err);
}

START_TEST(test_plain)
{
	expect_words("", "");
	expect_words("   \t\n ", "");
	expect_words("a", "[a]");
	expect_words("  a   b\tc\nd  ", "[a][b][c][d]");
	expect_words("--frames 1-10", "[--frames][1-10]");
}
END_TEST

START_TEST(test_fixture_cli)
{
	expect_words("--engine CYCLES --python-expr \"import bpy; "
	             "print('hi there')\" -- 'a b' c\\ d",
	    "[--engine][CYCLES][--python-expr][import bpy; print('hi "
	    "there')][--][a b][c d]");
}
END_TEST

START_TEST(test_quotes)
{
	expect_words("'a b'", "[a b]");
	expect_words("\"a b\"", "[a b]");
	expect_words("'a\\b'", "[a\\b]");
	expect_words("a'b'c\"d\"e", "[abcde]");
	expect_words("''", "[]");
	expect_words("x \"\" y", "[x][][y]");
	expect_words("x\"\" y", "[x][y]");
	expect_words("'\"' \"'\"", "[\"][']");
	expect_words("\"a\nb\"", "[a\nb]");
	expect_words("'$HOME' \"$HOME\"", "[$HOME][$HOME]");
}
END_TEST

START_TEST(test_escapes)
{
	expect_words("c\\ d", "[c d]");
	expect_words("\\'a\\\"", "['a\"]");
	expect_words("a\\\\b", "[a\\b]");
	expect_words("a\\", "[a\\]");
	expect_words("a\\\nb", "[ab]");
	expect_words("\"a\\b\" \"a\\\"b\" \"a\\\\b\" \"a\\$b\"",
	    "[a\\b][a\"b][a\\b][a$b]");
	expect_words("\"a\\\nb\"", "[ab]");
}
END_TEST

START_TEST(test_comments)
{
	expect_words("a#b #c d", "[a#b]");
	expect_words("a # c\nd", "[a][d]");
	expect_words("'#x' \\#y", "[#x][#y]");
}
END_TEST

START_TEST(test_unbalanced)
{
	expect_error("a 'b");
	expect_error("\"abc");
	expect_error("a \"b\\\"");
	expect_error("'");
}
END_TEST

static Suite *
shellsplit_suite(void)
{
	Suite *s = suite_create("shellsplit");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_plain);
	tcase_add_test(tc, test_fixture_cli);
	tcase_add_test(tc, test_quotes);
	tcase_add_test(tc, test_escapes);
	tcase_add_test(tc, test_comments);
	tcase_add_test(tc, test_unbalanced);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(shellsplit_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
