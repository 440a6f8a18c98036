/*
 * Tests for router.c: exact and parameter matching, literal segments
 * beating parameters, the final {name*} segment, HEAD as GET, the 405
 * information (path_matched and Allow), malformed paths and the sorted
 * --dump-routes output.
 */
#include "router.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum fm_err
handler_a(struct req *req)
{
	(void)req;
	return FM_OK;
}

static enum fm_err
handler_b(struct req *req)
{
	(void)req;
	return FM_OK;
}

/* Parameter routes first, so order in the table cannot decide. */
static const struct route jobs_routes[] = {
	{
	    .method = "GET",
	    .pattern = "/api/v3/jobs/{job_id}",
	    .fn = handler_a,
	},
	{
	    .method = "DELETE",
	    .pattern = "/api/v3/jobs/{job_id}",
	    .fn = handler_a,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/jobs/types",
	    .fn = handler_b,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/jobs/type/{typeName}",
	    .fn = handler_b,
	},
	{
	    .method = "POST",
	    .pattern = "/api/v3/jobs/{job_id}/setstatus",
	    .fn = handler_a,
	    .flags = ROUTE_JSON_BODY,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/jobs/{job_id}/tasks",
	    .fn = handler_a,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/jobs",
	    .fn = handler_a,
	},
	{
	    .method = "POST",
	    .pattern = "/api/v3/jobs",
	    .fn = handler_b,
	    .flags = ROUTE_JSON_BODY,
	},
};

static const struct route meta_routes[] = {
	{
	    .method = "GET",
	    .pattern = "/api/v3/version",
	    .fn = handler_a,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/configuration/variables/{audience}/{platform}",
	    .fn = handler_a,
	},
	{
	    .method = "GET",
	    .pattern = "/job-files/{path*}",
	    .fn = handler_b,
	},
	{
	    .method = "GET",
	    .pattern = "/",
	    .fn = handler_b,
	},
	{
	    .method = "POST",
	    .pattern = "/api/v3/worker/task",
	    .fn = handler_b,
	},
};

/* Edge cases: specificity by position, parameter limits. */
static const struct route edge_routes[] = {
	{
	    .method = "GET",
	    .pattern = "/x/{y}/b",
	    .fn = handler_a,
	},
	{
	    .method = "GET",
	    .pattern = "/x/a/{z}",
	    .fn = handler_b,
	},
	{
	    .method = "GET",
	    .pattern = "/p/{a}/y",
	    .fn = handler_a,
	},
	{
	    .method = "GET",
	    .pattern = "/p/{b}/z",
	    .fn = handler_b,
	},
	{
	    .method = "GET",
	    .pattern = "/four/{a}/{b}/{c}/{d}",
	    .fn = handler_a,
	},
	{
	    .method = "GET",
	    .pattern = "/five/{a}/{b}/{c}/{d}/{e}",
	    .fn = handler_a,
	},
};

static const struct route_table jobs_table = { jobs_routes,
	nitems(jobs_routes) };
static const struct route_table meta_table = { meta_routes,
	nitems(meta_routes) };
static const struct route_table edge_table = { edge_routes,
	nitems(edge_routes) };

static const struct route_table *const all_tables[] = { &jobs_table,
	&meta_table, &edge_table };
static const struct route_table *const reversed_tables[] = { &edge_table,
	&meta_table, &jobs_table };

static struct route_match m;
static char allow[128];

static void
match(const char *method, const char *path)
{
	memset(&m, 0xa5, sizeof(m));
	memset(allow, 'x', sizeof(allow));
	router_match(all_tables, nitems(all_tables), method, path, &m, allow,
	    sizeof(allow));
}

/* Assert that parameter i is name=value and that value points into path. */
static void
assert_param(size_t i, const char *path, const char *name, const char *value)
{
	ck_assert_uint_lt(i, m.nparams);
	ck_assert_uint_eq(m.params[i].name_len, strlen(name));
	ck_assert_int_eq(memcmp(m.params[i].name, name, strlen(name)), 0);
	ck_assert_uint_eq(m.params[i].value_len, strlen(value));
	ck_assert_int_eq(memcmp(m.params[i].value, value, strlen(value)), 0);
	ck_assert(m.params[i].value >= path);
	ck_assert(
	    m.params[i].value + m.params[i].value_len <= path + strlen(path));
}

static void
assert_no_match(const char *method, const char *path)
{
	match(method, path);
	ck_assert_msg(m.route == NULL, "%s %s matched %s", method, path,
	    m.route ? m.route->pattern : "");
	ck_assert_msg(!m.path_matched, "%s %s: path_matched", method, path);
	ck_assert_str_eq(allow, "");
}

/* ---- matching ---- */

START_TEST(test_exact)
{
	match("GET", "/api/v3/version");
	ck_assert_ptr_eq(m.route, &meta_routes[0]);
	ck_assert(m.path_matched);
	ck_assert_uint_eq(m.nparams, 0);

	match("GET", "/api/v3/jobs");
	ck_assert_ptr_eq(m.route, &jobs_routes[6]);
	match("POST", "/api/v3/jobs");
	ck_assert_ptr_eq(m.route, &jobs_routes[7]);
	ck_assert_uint_eq(m.route->flags, ROUTE_JSON_BODY);

	match("GET", "/");
	ck_assert_ptr_eq(m.route, &meta_routes[3]);
	ck_assert_uint_eq(m.nparams, 0);
}
END_TEST

START_TEST(test_params)
{
	static const char p1[] = "/api/v3/jobs/3e0d1b4c-aaaa-bbbb-cccc-1234";
	static const char p2[] = "/api/v3/configuration/variables/workers/"
	                         "windows";
	static const char p3[] = "/api/v3/jobs/j1/setstatus";

	match("GET", p1);
	ck_assert_ptr_eq(m.route, &jobs_routes[0]);
	ck_assert_uint_eq(m.nparams, 1);
	assert_param(0, p1, "job_id", "3e0d1b4c-aaaa-bbbb-cccc-1234");

	match("GET", p2);
	ck_assert_ptr_eq(m.route, &meta_routes[1]);
	ck_assert_uint_eq(m.nparams, 2);
	assert_param(0, p2, "audience", "workers");
	assert_param(1, p2, "platform", "windows");

	match("POST", p3);
	ck_assert_ptr_eq(m.route, &jobs_routes[4]);
	ck_assert_uint_eq(m.nparams, 1);
	assert_param(0, p3, "job_id", "j1");

	/* A single-character parameter and one with odd characters. */
	match("DELETE", "/api/v3/jobs/x");
	ck_assert_ptr_eq(m.route, &jobs_routes[1]);
	assert_param(0, "/api/v3/jobs/x", "job_id", "x");
	match("GET", "/api/v3/jobs/type/simple-blender-render");
	ck_assert_ptr_eq(m.route, &jobs_routes[3]);
	assert_param(0, "/api/v3/jobs/type/simple-blender-render", "typeName",
	    "simple-blender-render");
}
END_TEST

/* A failed candidate's parameters never leak into the winner. */
START_TEST(test_params_from_winner_only)
{
	match("GET", "/p/1/z");
	ck_assert_ptr_eq(m.route, &edge_routes[3]);
	ck_assert_uint_eq(m.nparams, 1);
	assert_param(0, "/p/1/z", "b", "1");
	match("GET", "/p/1/y");
	ck_assert_ptr_eq(m.route, &edge_routes[2]);
	assert_param(0, "/p/1/y", "a", "1");
}
END_TEST

START_TEST(test_literal_beats_param)
{
	struct route_match rm;

	match("GET", "/api/v3/jobs/types");
	ck_assert_ptr_eq(m.route, &jobs_routes[2]);
	ck_assert_uint_eq(m.nparams, 0);

	/* Table order does not matter. */
	router_match(reversed_tables, nitems(reversed_tables), "GET",
	    "/api/v3/jobs/types", &rm, NULL, 0);
	ck_assert_ptr_eq(rm.route, &jobs_routes[2]);

	/* "type" alone is still a job id; "typesx" too. */
	match("GET", "/api/v3/jobs/type");
	ck_assert_ptr_eq(m.route, &jobs_routes[0]);
	assert_param(0, "/api/v3/jobs/type", "job_id", "type");
	match("GET", "/api/v3/jobs/typesx");
	ck_assert_ptr_eq(m.route, &jobs_routes[0]);

	/* The earlier literal segment decides. */
	match("GET", "/x/a/b");
	ck_assert_ptr_eq(m.route, &edge_routes[1]);
	assert_param(0, "/x/a/b", "z", "b");
	match("GET", "/x/c/b");
	ck_assert_ptr_eq(m.route, &edge_routes[0]);
	assert_param(0, "/x/c/b", "y", "c");
}
END_TEST

START_TEST(test_rest_param)
{
	static const char p1[] = "/job-files/job-3e0d/3e0d1b4c/task-1.txt";
	static const char p2[] = "/job-files/a";
	static const char p3[] = "/job-files/a//b/";

	match("GET", p1);
	ck_assert_ptr_eq(m.route, &meta_routes[2]);
	ck_assert_uint_eq(m.nparams, 1);
	assert_param(0, p1, "path", "job-3e0d/3e0d1b4c/task-1.txt");

	match("GET", p2);
	ck_assert_ptr_eq(m.route, &meta_routes[2]);
	assert_param(0, p2, "path", "a");

	/* The rest is taken verbatim; the handler validates it. */
	match("GET", p3);
	ck_assert_ptr_eq(m.route, &meta_routes[2]);
	assert_param(0, p3, "path", "a//b/");

	/* The rest must not be empty. */
	assert_no_match("GET", "/job-files/");
	assert_no_match("GET", "/job-files");
}
END_TEST

START_TEST(test_head_is_get)
{
	static const char p[] = "/api/v3/jobs/abc";

	match("HEAD", "/api/v3/version");
	ck_assert_ptr_eq(m.route, &meta_routes[0]);
	match("HEAD", p);
	ck_assert_ptr_eq(m.route, &jobs_routes[0]);
	assert_param(0, p, "job_id", "abc");

	/* HEAD of a POST-only path is a 405, not a match. */
	match("HEAD", "/api/v3/worker/task");
	ck_assert_ptr_null(m.route);
	ck_assert(m.path_matched);
	ck_assert_str_eq(allow, "POST");
}
END_TEST

START_TEST(test_wrong_method)
{
	match("DELETE", "/api/v3/version");
	ck_assert_ptr_null(m.route);
	ck_assert(m.path_matched);
	ck_assert_str_eq(allow, "GET");

	match("GET", "/api/v3/worker/task");
	ck_assert_ptr_null(m.route);
	ck_assert(m.path_matched);
	ck_assert_str_eq(allow, "POST");

	/* Every method of the path, once each, in table order. */
	match("PUT", "/api/v3/jobs/abc");
	ck_assert_ptr_null(m.route);
	ck_assert(m.path_matched);
	ck_assert_str_eq(allow, "GET, DELETE");

	match("PUT", "/api/v3/jobs");
	ck_assert_ptr_null(m.route);
	ck_assert_str_eq(allow, "GET, POST");

	/* Only the most specific path counts: not {job_id}'s DELETE. */
	match("PUT", "/api/v3/jobs/types");
	ck_assert_ptr_null(m.route);
	ck_assert(m.path_matched);
	ck_assert_str_eq(allow, "GET");

	/* Method names are case-sensitive. */
	match("get", "/api/v3/version");
	ck_assert_ptr_null(m.route);
	ck_assert(m.path_matched);
	ck_assert_str_eq(allow, "GET");
}
END_TEST

/* A method match on a less specific path is a match, not a 405. */
START_TEST(test_method_match_beats_specific_path)
{
	match("DELETE", "/api/v3/jobs/types");
	ck_assert_ptr_eq(m.route, &jobs_routes[1]);
	assert_param(0, "/api/v3/jobs/types", "job_id", "types");
}
END_TEST

START_TEST(test_allow_small_buffer)
{
	char small[6];
	struct route_match rm;

	memset(small, 'x', sizeof(small));
	router_match(all_tables, nitems(all_tables), "PUT", "/api/v3/jobs/abc",
	    &rm, small, sizeof(small));
	ck_assert_ptr_null(rm.route);
	ck_assert(rm.path_matched);
	ck_assert_ptr_nonnull(memchr(small, '\0', sizeof(small)));
	ck_assert_int_eq(strncmp(small, "GET", 3), 0);

	/* allow_out may be NULL. */
	router_match(all_tables, nitems(all_tables), "PUT", "/api/v3/jobs/abc",
	    &rm, NULL, 0);
	ck_assert_ptr_null(rm.route);
	ck_assert(rm.path_matched);
}
END_TEST

START_TEST(test_no_match)
{
	assert_no_match("GET", "/api/v3/nothing");
	assert_no_match("GET", "/api/v3");
	assert_no_match("GET", "/api/v3/jobs/abc/tasks/more");
	assert_no_match("GET", "/API/v3/version");
	assert_no_match("GET", "/api/v3/versionx");
	assert_no_match("GET", "/api/v3/versio");
}
END_TEST

START_TEST(test_trailing_slash)
{
	assert_no_match("GET", "/api/v3/version/");
	assert_no_match("GET", "/api/v3/jobs/");
	assert_no_match("POST", "/api/v3/jobs/");
	assert_no_match("GET", "/api/v3/jobs/abc/");
	assert_no_match("GET", "/api/v3/jobs/abc/tasks/");
}
END_TEST

START_TEST(test_empty_segments)
{
	assert_no_match("GET", "");
	assert_no_match("GET", "//");
	assert_no_match("GET", "api/v3/version");
	assert_no_match("GET", "//api/v3/version");
	assert_no_match("GET", "/api//v3/version");
	assert_no_match("GET", "/api/v3//version");
	/* An empty parameter never matches. */
	assert_no_match("GET", "/api/v3/jobs//tasks");
	assert_no_match("GET", "/api/v3/configuration/variables//linux");
	assert_no_match("GET", "/api/v3/configuration/variables/users/");
}
END_TEST

START_TEST(test_param_limit)
{
	static const char p4[] = "/four/1/2/3/4";

	match("GET", p4);
	ck_assert_ptr_eq(m.route, &edge_routes[4]);
	ck_assert_uint_eq(m.nparams, ROUTE_MAX_PARAMS);
	assert_param(0, p4, "a", "1");
	assert_param(3, p4, "d", "4");

	/* More parameters than ROUTE_MAX_PARAMS: never matches, no overflow
	 * (ASan watches params[]). */
	assert_no_match("GET", "/five/1/2/3/4/5");
}
END_TEST

/* ---- --dump-routes ---- */

START_TEST(test_dump_sorted)
{
	static const char want[] =
	    "GET /\n"
	    "GET /api/v3/configuration/variables/{audience}/{platform}\n"
	    "GET /api/v3/jobs\n"
	    "POST /api/v3/jobs\n"
	    "GET /api/v3/jobs/type/{typeName}\n"
	    "GET /api/v3/jobs/types\n"
	    "DELETE /api/v3/jobs/{job_id}\n"
	    "GET /api/v3/jobs/{job_id}\n"
	    "POST /api/v3/jobs/{job_id}/setstatus\n"
	    "GET /api/v3/jobs/{job_id}/tasks\n"
	    "GET /api/v3/version\n"
	    "POST /api/v3/worker/task\n"
	    "GET /job-files/{path*}\n";
	const struct route_table *const tables[] = { &meta_table, &jobs_table };
	const struct route_table *const rev[] = { &jobs_table, &meta_table };
	char *out = NULL, *out2 = NULL;
	size_t len = 0, len2 = 0;
	FILE *f;

	f = open_memstream(&out, &len);
	ck_assert_ptr_nonnull(f);
	router_dump(tables, nitems(tables), f);
	fclose(f);
	ck_assert_str_eq(out, want);

	/* Independent of table order. */
	f = open_memstream(&out2, &len2);
	router_dump(rev, nitems(rev), f);
	fclose(f);
	ck_assert_str_eq(out2, want);
	free(out);
	free(out2);
}
END_TEST

START_TEST(test_dump_empty)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	router_dump(NULL, 0, f);
	fclose(f);
	ck_assert_uint_eq(len, 0);
	free(out);
}
END_TEST

static Suite *
router_suite(void)
{
	Suite *s = suite_create("router");
	TCase *tc;

	tc = tcase_create("match");
	tcase_add_test(tc, test_exact);
	tcase_add_test(tc, test_params);
	tcase_add_test(tc, test_params_from_winner_only);
	tcase_add_test(tc, test_literal_beats_param);
	tcase_add_test(tc, test_rest_param);
	tcase_add_test(tc, test_head_is_get);
	tcase_add_test(tc, test_param_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("method_not_allowed");
	tcase_add_test(tc, test_wrong_method);
	tcase_add_test(tc, test_method_match_beats_specific_path);
	tcase_add_test(tc, test_allow_small_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("no_match");
	tcase_add_test(tc, test_no_match);
	tcase_add_test(tc, test_trailing_slash);
	tcase_add_test(tc, test_empty_segments);
	suite_add_tcase(s, tc);

	tc = tcase_create("dump");
	tcase_add_test(tc, test_dump_sorted);
	tcase_add_test(tc, test_dump_empty);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(router_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
