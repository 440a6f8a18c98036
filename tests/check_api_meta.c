/*
 * API tests for the foundation: the server started in-process on an
 * ephemeral port, driven over HTTP with libcurl. Covers the meta
 * endpoints and the HTTP layer's handling of bad requests.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "testutil.h"
#include "xmalloc.h"

static struct test_server ts;

static void
setup(void)
{
	test_server_start(&ts,
	    "max_body_size = 4096\n"
	    "variables.storage.is_twoway = true\n"
	    "variables.storage.linux = /mnt/farm\n"
	    "variables.storage.windows = S:\\farm\n");
}

static void
teardown(void)
{
	test_server_stop(&ts);
}

START_TEST(test_version)
{
	struct test_response r;
	json_t *j;

	test_http(&ts, "GET", "/api/v3/version", NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	j = test_json(&r);
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "shortversion")), "3.9-beta1");
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "name")), "Flamenco");
	ck_assert_ptr_nonnull(
	    strstr(json_string_value(json_object_get(j, "version")),
	        "flamenco-manager-c"));
	ck_assert(json_is_string(json_object_get(j, "git")));
	json_decref(j);
	test_response_free(&r);
}
END_TEST

START_TEST(test_head_is_get)
{
	struct test_response r;

	test_http(&ts, "HEAD", "/api/v3/version", NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	test_response_free(&r);
}
END_TEST

START_TEST(test_unknown_path)
{
	struct test_response r;

	test_http(&ts, "GET", "/api/v3/no/such/thing", NULL, 0, NULL, &r);
	test_assert_error(&r, 404, "Not Found");
	test_response_free(&r);
	test_http(&ts, "GET", "/", NULL, 0, NULL, &r);
	test_assert_error(&r, 404, NULL);
	test_response_free(&r);
}
END_TEST

START_TEST(test_wrong_method)
{
	struct test_response r;

	test_http(&ts, "DELETE", "/api/v3/version", NULL, 0, NULL, &r);
	test_assert_error(&r, 405, "not allowed");
	ck_assert_ptr_nonnull(strstr(r.headers, "Allow: GET"));
	test_response_free(&r);
}
END_TEST

START_TEST(test_body_too_large)
{
	struct test_response r;
	char *big = malloc(10000);

	memset(big, 'x', 9999);
	big[9999] = '\0';
	test_http(&ts, "POST", "/api/v3/version", big, -1, NULL, &r);
	test_assert_error(&r, 413, "too large");
	test_response_free(&r);
	/* The daemon keeps serving after refusing a body. */
	test_http(&ts, "GET", "/api/v3/version", NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	test_response_free(&r);
	free(big);
}
END_TEST

START_TEST(test_configuration)
{
	struct test_response r;
	json_t *j;

	test_http(&ts, "GET", "/api/v3/configuration", NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	j = test_json(&r);
	ck_assert(json_is_string(json_object_get(j, "storageLocation")));
	ck_assert(json_is_false(json_object_get(j, "shamanEnabled")));
	ck_assert(json_is_false(json_object_get(j, "isFirstRun")));
	json_decref(j);
	test_response_free(&r);
}
END_TEST

START_TEST(test_shared_storage)
{
	struct test_response r;
	json_t *j;

	test_http(&ts, "GET",
	    "/api/v3/configuration/shared-storage/users/linux", NULL, 0, NULL,
	    &r);
	ck_assert_int_eq(r.status, 200);
	j = test_json(&r);
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "audience")), "users");
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "platform")), "linux");
	ck_assert(json_is_false(json_object_get(j, "shamanEnabled")));
	ck_assert_ptr_nonnull(strstr(
	    json_string_value(json_object_get(j, "location")), "/shared"));
	json_decref(j);
	test_response_free(&r);

	test_http(&ts, "GET",
	    "/api/v3/configuration/shared-storage/artists/linux", NULL, 0, NULL,
	    &r);
	test_assert_error(&r, 400, "audience");
	test_response_free(&r);
}
END_TEST

START_TEST(test_variables)
{
	struct test_response r;
	json_t *j, *v;

	test_http(&ts, "GET", "/api/v3/configuration/variables/workers/windows",
	    NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	j = test_json(&r);
	v = json_object_get(j, "blender");
	ck_assert_str_eq(
	    json_string_value(json_object_get(v, "value")), "blender.exe");
	ck_assert(json_is_false(json_object_get(v, "is_twoway")));
	v = json_object_get(j, "storage");
	ck_assert_str_eq(
	    json_string_value(json_object_get(v, "value")), "S:\\farm");
	ck_assert(json_is_true(json_object_get(v, "is_twoway")));
	v = json_object_get(j, "blenderArgs");
	ck_assert_str_eq(
	    json_string_value(json_object_get(v, "value")), "-b -y");
	json_decref(j);
	test_response_free(&r);

	test_http(&ts, "GET",
	    "/api/v3/configuration/variables/workers/Lin%20ux", NULL, 0, NULL,
	    &r);
	test_assert_error(&r, 400, "platform");
	test_response_free(&r);
}
END_TEST

START_TEST(test_openapi_served)
{
	struct test_response r;

	test_http(&ts, "GET", "/api/v3/openapi.yaml", NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "openapi: 3"));
	test_response_free(&r);
}
END_TEST

START_TEST(test_status)
{
	struct test_response r;
	json_t *j;

	test_http(&ts, "GET", "/api/v3/status", NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	j = test_json(&r);
	/* No workers at all: the farm cannot do anything. */
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "status")), "inoperative");
	json_decref(j);
	test_response_free(&r);
}
END_TEST

/*
 * A request is counted when the server has finished it, after the last
 * byte went out, so a client on another connection can ask for /metrics
 * before that. On one kept-alive connection the server finishes each
 * request before reading the next: the counts are there, every time.
 */
START_TEST(test_metrics)
{
	struct test_client c;
	struct test_response r;

	test_client_open(&c, &ts);
	test_client_http(&c, "GET", "/api/v3/version", NULL, 0, NULL, &r);
	test_response_free(&r);
	test_client_http(&c, "GET", "/api/v3/nope", NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 404);
	ck_assert_int_eq(r.connects, 0);
	test_response_free(&r);
	test_client_http(&c, "GET", "/metrics", NULL, 0, NULL, &r);
	test_client_close(&c);
	ck_assert_int_eq(r.connects, 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.content_type, "text/plain"));
	ck_assert_ptr_nonnull(strstr(r.body,
	    "flamenco_http_requests_total{route=\"GET /api/v3/version\","
	    "code=\"2xx\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(r.body,
	    "flamenco_http_requests_total{route=\"unmatched\","
	    "code=\"4xx\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(r.body,
	    "flamenco_http_request_duration_seconds_bucket{route=\"GET "
	    "/api/v3/version\",le=\"+Inf\"} 1\n"));
	ck_assert_ptr_nonnull(
	    strstr(r.body, "flamenco_jobs{status=\"queued\"} 0\n"));
	ck_assert_ptr_nonnull(
	    strstr(r.body, "flamenco_job_compile_seconds_count 0\n"));
	test_response_free(&r);
}
END_TEST

START_TEST(test_check_shared_storage)
{
	static const struct {
		const char *path;
		int usable;
		const char *cause;
	} cases[] = {
		{ "/tmp", 1, "" },
		{ "", 0, "empty" },
		{ "/no/such/dir", 0, "does not exist" },
		{ "/etc/hostname", 0, "not a directory" },
		{ "//server/share", 0, "UNC" },
	};
	struct test_response r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *body = xasprintf("{\"path\": \"%s\"}", cases[i].path);
		json_t *j;

		test_http(&ts, "POST",
		    "/api/v3/configuration/check/shared-storage", body, -1,
		    NULL, &r);
		ck_assert_int_eq(r.status, 200);
		j = test_json(&r);
		ck_assert_int_eq(json_is_true(json_object_get(j, "is_usable")),
		    cases[i].usable);
		ck_assert_ptr_nonnull(
		    strstr(json_string_value(json_object_get(j, "cause")),
		        cases[i].cause));
		json_decref(j);
		test_response_free(&r);
		free(body);
	}
	test_http(&ts, "POST", "/api/v3/configuration/check/shared-storage",
	    "{}", -1, NULL, &r);
	test_assert_error(&r, 400, "path");
	test_response_free(&r);
}
END_TEST

START_TEST(test_configuration_file)
{
	struct test_response r;
	char *path = xasprintf("%s/flamenco-manager.conf", ts.dir);
	char *before, *after, *text;
	json_t *j;

	test_http(&ts, "GET", "/api/v3/configuration/file", NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	j = test_json(&r);
	test_response_free(&r);
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "listen")), "127.0.0.1:0");
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "task_timeout")), "10m0s");
	ck_assert_int_eq(json_integer_value(json_object_get(
	                     json_object_get(j, "_meta"), "version")),
	    3);
	ck_assert(json_is_true(json_object_get(
	    json_object_get(json_object_get(j, "variables"), "storage"),
	    "is_twoway")));

	/* A bad key is refused and the file is left alone. */
	before = test_read_file(path, NULL);
	test_http(&ts, "PUT", "/api/v3/configuration/file",
	    "{\"no_such_key\": 1}", -1, NULL, &r);
	test_assert_error(&r, 400, "no_such_key");
	test_response_free(&r);
	test_http(&ts, "PUT", "/api/v3/configuration/file",
	    "{\"task_timeout\": \"soon\"}", -1, NULL, &r);
	test_assert_error(&r, 400, "task_timeout");
	test_response_free(&r);
	after = test_read_file(path, NULL);
	ck_assert_str_eq(before, after);
	free(after);

	/* A good one is written, and reads back as it was sent. */
	json_object_set_new(j, "manager_name", json_string("Render Farm"));
	text = json_dumps(j, 0);
	test_http(&ts, "PUT", "/api/v3/configuration/file", text, -1, NULL, &r);
	ck_assert_int_eq(r.status, 204);
	test_response_free(&r);
	after = test_read_file(path, NULL);
	ck_assert_ptr_nonnull(strstr(after, "manager_name = Render Farm\n"));
	ck_assert_ptr_nonnull(
	    strstr(after, "variables.storage.is_twoway = true"));
	free(after);
	free(before);
	free(text);
	free(path);
	json_decref(j);
}
END_TEST

/* app_keep_compiler(): the next server with the same compiler settings
 * takes the compiler over; other settings get their own. */
START_TEST(test_kept_compiler)
{
	struct jobc *first;
	struct test_response r;
	json_t *j;

	test_server_stop(&ts);
	app_keep_compiler(true);
	test_server_start(&ts, NULL);
	ck_assert(ts.app->kept_compiler);
	first = ts.app->ctx.jobc;
	test_server_stop(&ts);
	test_server_start(&ts, NULL);
	ck_assert(ts.app->kept_compiler);
	ck_assert_ptr_eq(ts.app->ctx.jobc, first);
	test_http(&ts, "GET", "/api/v3/jobs/types", NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	j = test_json(&r);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "job_types")), 2);
	json_decref(j);
	test_response_free(&r);
	test_server_stop(&ts);
	test_server_start(&ts, "compiler_heaps = 2\n");
	ck_assert_ptr_ne(ts.app->ctx.jobc, first);
	test_server_stop(&ts);
	/* Back to how the run started (make valgrind keeps one). */
	app_keep_compiler(false);
	app_keep_compiler(getenv("FM_TEST_KEEP_COMPILER") != NULL);
	setup();
}
END_TEST

static Suite *
api_meta_suite(void)
{
	Suite *s = suite_create("api_meta");
	TCase *tc = tcase_create("meta");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_version);
	tcase_add_test(tc, test_head_is_get);
	tcase_add_test(tc, test_unknown_path);
	tcase_add_test(tc, test_wrong_method);
	tcase_add_test(tc, test_body_too_large);
	tcase_add_test(tc, test_configuration);
	tcase_add_test(tc, test_shared_storage);
	tcase_add_test(tc, test_variables);
	tcase_add_test(tc, test_openapi_served);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_metrics);
	tcase_add_test(tc, test_check_shared_storage);
	tcase_add_test(tc, test_configuration_file);
	tcase_add_test(tc, test_kept_compiler);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(api_meta_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
