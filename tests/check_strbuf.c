/*
 * Tests for strbuf.c: appends by length (NUL bytes included) and stays
 * NUL-terminated while it grows.
 */
#include "strbuf.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

START_TEST(test_grows_and_terminates)
{
	struct strbuf b = { NULL, 0, 0 };

	for (int i = 0; i < 1000; i++)
		strbuf_add(&b, "abc", 3);
	ck_assert_uint_eq(b.len, 3000);
	ck_assert_uint_ge(b.cap, b.len + 1);
	ck_assert_int_eq(b.s[b.len], '\0');
	ck_assert_int_eq(memcmp(b.s + 2997, "abc", 3), 0);
	free(b.s);
}
END_TEST

START_TEST(test_keeps_nul_bytes)
{
	struct strbuf b = { NULL, 0, 0 };

	strbuf_add(&b, "a\0b", 3);
	strbuf_add(&b, "", 0);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_int_eq(memcmp(b.s, "a\0b", 4), 0);
	free(b.s);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("strbuf");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_grows_and_terminates);
	tcase_add_test(tc, test_keeps_nul_bytes);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
