/*
 * Tests for yamljson.c: how YAML and JSON scalars are typed, element
 * lines, and what is refused (aliases, duplicate keys, several
 * documents, deep nesting, broken syntax) with the line in the message.
 */
#include "yamljson.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

static json_t *
parse_ok(const char *text, json_t **lines)
{
	json_t *root = NULL, *l = NULL;
	char *err = NULL;

	ck_assert_msg(
	    yamljson_parse(text, strlen(text), &root, &l, &err) == FM_OK,
	    "%s: %s", text, err ? err : "?");
	ck_assert_ptr_null(err);
	if (lines != NULL)
		*lines = l;
	else
		json_decref(l);
	return root;
}

static void
parse_err(const char *text, const char *needle)
{
	json_t *root = NULL, *l = NULL;
	char *err = NULL;

	ck_assert_int_eq(yamljson_parse(text, strlen(text), &root, &l, &err),
	    FM_ERR_INVALID);
	ck_assert_ptr_null(root);
	ck_assert_ptr_null(l);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(
	    strstr(err, needle) != NULL, "'%s' lacks '%s'", err, needle);
	free(err);
}

START_TEST(test_scalar_types)
{
	json_t *v = parse_ok("a: 12\nb: -3\nc: 1.5\nd: 2e3\ne: true\n"
	                     "f: False\ng: ~\nh: null\ni: yes\nj: on\n"
	                     "k: '12'\nl: \"true\"\nm: 0x1F\nn: 1-10\n"
	                     "o: 1_000\np: |\n  two\n  lines\nq: .5\n"
	                     "r: 99999999999999999999\n",
	    NULL);

	ck_assert_int_eq(json_integer_value(json_object_get(v, "a")), 12);
	ck_assert_int_eq(json_integer_value(json_object_get(v, "b")), -3);
	ck_assert(json_real_value(json_object_get(v, "c")) == 1.5);
	ck_assert(json_real_value(json_object_get(v, "d")) == 2000);
	ck_assert(json_is_true(json_object_get(v, "e")));
	ck_assert(json_is_false(json_object_get(v, "f")));
	ck_assert(json_is_null(json_object_get(v, "g")));
	ck_assert(json_is_null(json_object_get(v, "h")));
	/* YAML 1.1 booleans and hex stay text, as JSON would have them. */
	ck_assert_str_eq(json_string_value(json_object_get(v, "i")), "yes");
	ck_assert_str_eq(json_string_value(json_object_get(v, "j")), "on");
	ck_assert_str_eq(json_string_value(json_object_get(v, "k")), "12");
	ck_assert_str_eq(json_string_value(json_object_get(v, "l")), "true");
	ck_assert_str_eq(json_string_value(json_object_get(v, "m")), "0x1F");
	ck_assert_str_eq(json_string_value(json_object_get(v, "n")), "1-10");
	ck_assert_str_eq(json_string_value(json_object_get(v, "o")), "1_000");
	ck_assert_str_eq(
	    json_string_value(json_object_get(v, "p")), "two\nlines\n");
	ck_assert(json_real_value(json_object_get(v, "q")) == 0.5);
	ck_assert(json_is_string(json_object_get(v, "r")));
	json_decref(v);
}
END_TEST

START_TEST(test_json_documents)
{
	json_t *v = parse_ok("{\"a\": [1, 2.5, \"x\", true, null],\n"
	                     "\t\"b\": {\"c\": \"d\"}}",
	    NULL);
	char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);

	ck_assert_str_eq(
	    text, "{\"a\":[1,2.5,\"x\",true,null],\"b\":{\"c\":\"d\"}}");
	free(text);
	json_decref(v);
}
END_TEST

START_TEST(test_lines)
{
	json_t *lines = NULL;
	json_t *v = parse_ok("# comment\nname: x\nsteps:\n  - name: a\n"
	                     "    script:\n      actions: {}\n  - name: b\n",
	    &lines);

	ck_assert_int_eq(yamljson_line(lines, "name"), 2);
	ck_assert_int_eq(yamljson_line(lines, "steps"), 3);
	ck_assert_int_eq(yamljson_line(lines, "steps[0]"), 4);
	ck_assert_int_eq(yamljson_line(lines, "steps[0].script"), 5);
	ck_assert_int_eq(yamljson_line(lines, "steps[0].script.actions"), 6);
	ck_assert_int_eq(yamljson_line(lines, "steps[1].name"), 7);
	ck_assert_int_eq(yamljson_line(lines, "nothing"), 0);
	json_decref(lines);
	json_decref(v);
}
END_TEST

START_TEST(test_refused)
{
	char *deep = xstrdup("");

	parse_err("a: &x 1\nb: *x\n", "line 2: b: YAML aliases are not");
	parse_err("a: 1\nb: 2\na: 3\n", "line 3: duplicate key \"a\"");
	parse_err("a: 1\n---\nb: 2\n", "only one YAML document");
	parse_err("a: [1, 2\n", "line 2");
	parse_err("a:\n\tb: 1\n", "line 2");
	parse_err("? [a, b]\n: 1\n", "keys must be scalars");
	parse_err("", "holds no document");
	for (int i = 0; i < YAMLJSON_MAX_DEPTH + 2; i++) {
		char *next = xasprintf("%s[", deep);

		free(deep);
		deep = next;
	}
	parse_err(deep, "nested deeper than 64 levels");
	free(deep);
	parse_err("a: \"\\u0000\"\n", "NUL");
	parse_err("a: \"\xff\"\n", "line 1");
}
END_TEST

/* A list deep under long keys: its paths would grow as depth times key
 * length per element, so the file is refused (a load error) instead of
 * taking memory far beyond its size; the same list near the top loads. */
START_TEST(test_line_map_bounded)
{
	size_t cap = 4 << 20, len = 0;
	char *text = xmalloc(cap);
	json_t *root, *lines;

	for (int d = 0; d < 40; d++)
		len += (size_t)snprintf(text + len, cap - len, "%*sk%02d%s:\n",
		    d, "", d,
		    "_a_rather_long_key_name_that_repeats_on_every_level");
	len += (size_t)snprintf(text + len, cap - len, "%*s[", 40, "");
	for (int i = 0; i < 20000; i++)
		len += (size_t)snprintf(
		    text + len, cap - len, "%s1", i ? "," : "");
	snprintf(text + len, cap - len, "]\n");
	parse_err(text, "paths exceed 32 MiB");
	/* The same list as a top-level value. */
	root = parse_ok(strstr(text, "[1,"), &lines);
	ck_assert_uint_eq(json_array_size(root), 20000);
	ck_assert_int_eq(yamljson_line(lines, "[19999]"), 1);
	json_decref(root);
	json_decref(lines);
	free(text);
}
END_TEST

static Suite *
yamljson_suite(void)
{
	Suite *s = suite_create("yamljson");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_scalar_types);
	tcase_add_test(tc, test_json_documents);
	tcase_add_test(tc, test_lines);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_line_map_bounded);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(yamljson_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
