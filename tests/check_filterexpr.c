/*
 * Tests for filterexpr.c: precedence, every operator, types that do not
 * compare, list membership both ways, and the errors (with offsets) for
 * malformed filters and unknown fields.
 */
#include "filterexpr.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

static const char *const fields[] = { "name", "platform", "tags", "first",
	"last", "camera" };

static bool
matches(const char *src, const char *record)
{
	struct filterexpr *f = NULL;
	json_t *rec = json_loads(record, 0, NULL);
	char *err = NULL;
	bool m;

	ck_assert_ptr_nonnull(rec);
	ck_assert_msg(
	    filterexpr_parse(src, fields, nitems(fields), &f, &err) == FM_OK,
	    "%s: %s", src, err ? err : "?");
	m = filterexpr_match(f, rec);
	filterexpr_free(f);
	json_decref(rec);
	return m;
}

static void
refused(const char *src, const char *needle)
{
	struct filterexpr *f = NULL;
	char *err = NULL;

	ck_assert_int_eq(
	    filterexpr_parse(src, fields, nitems(fields), &f, &err),
	    FM_ERR_INVALID);
	ck_assert_ptr_null(f);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(
	    strstr(err, needle) != NULL, "'%s' lacks '%s'", err, needle);
	free(err);
}

static const char worker[] = "{\"name\": \"w1\", \"platform\": \"linux\", "
                             "\"tags\": [\"gpu\", \"big\"], \"first\": 5, "
                             "\"last\": 10.5}";

START_TEST(test_comparisons)
{
	ck_assert(matches("platform == \"linux\"", worker));
	ck_assert(matches("platform == 'linux'", worker));
	ck_assert(!matches("platform != \"linux\"", worker));
	ck_assert(matches("first < 6", worker));
	ck_assert(matches("first <= 5", worker));
	ck_assert(!matches("first > 5", worker));
	ck_assert(matches("first >= 5", worker));
	ck_assert(matches("last > first", worker));
	ck_assert(matches("last == 10.5", worker));
	ck_assert(matches("-1 < first", worker));
	ck_assert(matches("name < \"w2\"", worker));
	/* Different types never compare; a missing field is no value. */
	ck_assert(!matches("first == \"5\"", worker));
	ck_assert(matches("first != \"5\"", worker));
	ck_assert(!matches("camera == \"a\"", worker));
	ck_assert(!matches("camera < \"a\"", worker));
	ck_assert(matches("camera != \"a\"", worker));
}
END_TEST

START_TEST(test_logic_and_in)
{
	ck_assert(matches("platform == \"linux\" and \"gpu\" in tags", worker));
	ck_assert(
	    !matches("platform == \"linux\" and \"cpu\" in tags", worker));
	ck_assert(matches("platform in [\"windows\", \"linux\"]", worker));
	ck_assert(!matches("platform in [\"windows\", \"darwin\"]", worker));
	ck_assert(matches("first in [1, 5, 9]", worker));
	ck_assert(matches("not platform == \"windows\"", worker));
	ck_assert(matches("not not first == 5", worker));
	/* and binds tighter than or. */
	ck_assert(
	    matches("first == 1 and last == 1 or name == \"w1\"", worker));
	ck_assert(
	    !matches("first == 1 and (last == 1 or name == \"w1\")", worker));
	ck_assert(matches("(first == 5)", worker));
	ck_assert(matches("not (platform in [\"a\"] or first > 100)", worker));
	ck_assert(!matches("\"gpu\" in name", worker));
}
END_TEST

START_TEST(test_errors)
{
	char *deep = xstrdup("first == 1");

	refused("", "expected a field, a string or a number at offset 0");
	refused("color == \"red\"", "unknown field \"color\" at offset 0");
	refused("first == colour", "unknown field \"colour\" at offset 9");
	refused("first", "expected a comparison");
	refused("first = 1", "expected a comparison");
	refused("first == 1 and", "at offset 14");
	refused("first == 1 nand last == 2", "unexpected text at offset 11");
	refused("(first == 1", "expected \")\"");
	refused("name == \"open", "unterminated string at offset 8");
	refused("name in [1, ]", "expected a string or a number in the list");
	refused("name in [1 2]", "expected \",\" or \"]\"");
	refused("name in \"x\"", "\"in\" takes a list");
	refused("first == 1 or or", "offset");
	for (int i = 0; i < FILTEREXPR_MAX_DEPTH + 1; i++) {
		char *next = xasprintf("(%s)", deep);

		free(deep);
		deep = next;
	}
	refused(deep, "nested too deeply");
	free(deep);
	deep = xmalloc(FILTEREXPR_MAX_LEN + 2);
	memset(deep, ' ', FILTEREXPR_MAX_LEN + 1);
	deep[FILTEREXPR_MAX_LEN + 1] = '\0';
	refused(deep, "longer than");
	free(deep);
}
END_TEST

static Suite *
filterexpr_suite(void)
{
	Suite *s = suite_create("filterexpr");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_comparisons);
	tcase_add_test(tc, test_logic_and_in);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(filterexpr_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
