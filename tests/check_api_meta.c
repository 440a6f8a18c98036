/*
 * API tests for the foundation: the server started in-process on an
 * ephemeral port, driven over HTTP with libcurl. Covers the meta
 * endpoints and the HTTP layer's handling of bad requests.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "router.h"
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
	test_http(&ts, "GET", "/nothing", NULL, 0, NULL, &r);
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
	/* On by default, as Flamenco on Linux (shared storage is set). */
	ck_assert(json_is_true(json_object_get(j, "shamanEnabled")));
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
	/* Shaman on: the add-on sees its checkouts directory. */
	ck_assert(json_is_true(json_object_get(j, "shamanEnabled")));
	ck_assert_ptr_nonnull(strstr(
	    json_string_value(json_object_get(j, "location")), "/shared/jobs"));
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
	char *before, *after, *text, *bak;
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

	/* No backup is made for what is not written. */
	bak = xasprintf("%s.bak", path);
	ck_assert_int_eq(access(bak, F_OK), -1);

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
	/* The file it replaced is kept beside it. */
	after = test_read_file(bak, NULL);
	ck_assert_ptr_nonnull(after);
	ck_assert_str_eq(after, before);
	free(after);
	free(before);
	free(text);
	free(path);
	free(bak);
	json_decref(j);
}
END_TEST

/* The finding this guards against: {} used to reset the whole file. */
START_TEST(test_configuration_file_reset_refused)
{
	static const char *const bodies[] = {
		"{}",
		"{\"_meta\": {\"version\": 3}}",
		"{\"manager_name\": \"x\"}",
	};
	char *path = xasprintf("%s/flamenco-manager.conf", ts.dir);
	char *before = test_read_file(path, NULL), *after;
	struct test_response r;

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		test_http(&ts, "PUT", "/api/v3/configuration/file", bodies[i],
		    -1, NULL, &r);
		test_assert_error(&r, 400,
		    "listen, database, local_manager_storage_path, "
		    "shared_storage_path, variables.blender, "
		    "variables.blenderArgs, variables.storage");
		test_response_free(&r);
	}
	/* Emptying one is as bad as leaving it out. */
	test_http(&ts, "GET", "/api/v3/configuration/file", NULL, 0, NULL, &r);
	{
		json_t *j = test_json(&r);
		char *text;

		test_response_free(&r);
		json_object_set_new(j, "database", json_string(""));
		text = json_dumps(j, 0);
		test_http(&ts, "PUT", "/api/v3/configuration/file", text, -1,
		    NULL, &r);
		test_assert_error(&r, 400, "on: database.");
		test_response_free(&r);
		free(text);
		json_decref(j);
	}
	after = test_read_file(path, NULL);
	ck_assert_str_eq(before, after);
	free(after);
	after = xasprintf("%s.bak", path);
	ck_assert_int_eq(access(after, F_OK), -1);
	free(after);
	free(before);
	free(path);
}
END_TEST

/*
 * Every route that changes farm state is ROUTE_ADMIN, except what the
 * Blender add-on submits with and what workers use, so a new route
 * cannot forget it.
 */
START_TEST(test_admin_route_flags)
{
	static const char *const open_writes[] = {
		"POST /api/v3/jobs",
		"POST /api/v3/jobs/check",
		"POST /api/v3/jobs/explain",
		"POST /api/v3/configuration/check/shared-storage",
		"POST /api/v3/worker/register-worker",
		/* Shaman: the add-on uploads without credentials. */
		"POST /api/v3/shaman/checkout/requirements",
		"POST /api/v3/shaman/checkout/create",
		"POST /api/v3/shaman/files/{checksum}/{filesize}",
	};
	size_t nadmin = 0;

	for (size_t t = 0; t < api_all_routes_count; t++) {
		const struct route_table *tbl = api_all_routes[t];

		for (size_t i = 0; i < tbl->nroutes; i++) {
			const struct route *rt = &tbl->routes[i];
			char *name =
			    xasprintf("%s %s", rt->method, rt->pattern);
			bool open = strcmp(rt->method, "GET") == 0 ||
			    (rt->flags & ROUTE_WORKER_AUTH);

			for (size_t k = 0;
			     k < sizeof(open_writes) / sizeof(open_writes[0]);
			     k++)
				if (strcmp(name, open_writes[k]) == 0)
					open = true;
			ck_assert_msg(open != !!(rt->flags & ROUTE_ADMIN),
			    "%s: ROUTE_ADMIN is %s", name,
			    open ? "set" : "missing");
			nadmin += !open;
			free(name);
		}
	}
	/* 15, plus POST and DELETE /api/v3/jobs/{job_id}/dependencies. */
	ck_assert_uint_eq(nadmin, 17);
}
END_TEST

/* Without admin_password, admin changes need no credentials (Flamenco). */
START_TEST(test_admin_open_without_password)
{
	struct test_response r;

	test_http(&ts, "POST", "/api/v3/worker-mgt/tags", "{\"name\": \"gpu\"}",
	    -1, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	ck_assert_ptr_null(strstr(r.headers, "WWW-Authenticate"));
	test_response_free(&r);
}
END_TEST

/* ---- with admin_password set ---- */

#define ADMIN_PASSWORD "s3cret pass:word"

static void
setup_admin(void)
{
	test_server_start(&ts, "admin_password = " ADMIN_PASSWORD "\n");
}

/* "Authorization: Basic ..." for user:pass (the worker helper's code). */
static char *
basic_header(const char *user, const char *pass)
{
	struct test_worker w;

	memset(&w, 0, sizeof(w));
	snprintf(w.uuid, sizeof(w.uuid), "%s", user);
	snprintf(w.secret, sizeof(w.secret), "%s", pass);
	test_worker_auth(&w);
	return xstrdup(w.auth);
}

/* One admin call: no credentials, wrong ones, right ones. */
static void
assert_admin_only(
    const char *method, const char *path, const char *body, long want_status)
{
	char *wrong = basic_header("admin", "guess");
	char *right = basic_header("admin", ADMIN_PASSWORD);
	struct test_response r;

	test_http(&ts, method, path, body, -1, NULL, &r);
	test_assert_error(&r, 401, "no admin credentials");
	ck_assert_msg(strstr(r.headers,
	                  "WWW-Authenticate: Basic realm=\"Flamenco "
	                  "Manager\"\r\n") != NULL,
	    "%s", r.headers);
	test_response_free(&r);
	test_http(&ts, method, path, body, -1, wrong, &r);
	test_assert_error(&r, 401, "wrong admin password");
	ck_assert_ptr_nonnull(strstr(r.headers, "WWW-Authenticate: Basic"));
	test_response_free(&r);
	test_http(&ts, method, path, body, -1, right, &r);
	ck_assert_msg(r.status == want_status, "%s %s: %ld %s", method, path,
	    r.status, r.body);
	test_response_free(&r);
	free(wrong);
	free(right);
}

START_TEST(test_admin_password_required)
{
	char *path = xasprintf("%s/flamenco-manager.conf", ts.dir);
	char *before = test_read_file(path, NULL), *after, *text, *any;
	struct test_response r;
	json_t *j;

	/* A tag: created, renamed, deleted, each only with the password. */
	assert_admin_only(
	    "POST", "/api/v3/worker-mgt/tags", "{\"name\": \"gpu\"}", 200);
	test_http(&ts, "GET", "/api/v3/worker-mgt/tags", NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	j = test_json(&r);
	test_response_free(&r);
	text = xasprintf("/api/v3/worker-mgt/tag/%s",
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(j, "tags"), 0), "id")));
	json_decref(j);
	assert_admin_only("PUT", text, "{\"name\": \"gpu2\"}", 204);
	assert_admin_only("DELETE", text, NULL, 204);
	free(text);

	/* The user name is not checked; a malformed header is no header. */
	any = basic_header("someone", ADMIN_PASSWORD);
	test_http(&ts, "POST", "/api/v3/worker-mgt/tags", "{\"name\": \"cpu\"}",
	    -1, any, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	test_response_free(&r);
	free(any);
	test_http(&ts, "POST", "/api/v3/worker-mgt/tags",
	    "{\"name\": \"cpu2\"}", -1, "Authorization: Basic !!!", &r);
	test_assert_error(&r, 401, "no admin credentials");
	test_response_free(&r);

	/* The configuration: the password is not readable, and the file
	 * is only written with it. */
	test_http(&ts, "GET", "/api/v3/configuration/file", NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_null(strstr(r.body, "admin_password"));
	ck_assert_ptr_null(strstr(r.body, ADMIN_PASSWORD));
	j = test_json(&r);
	test_response_free(&r);
	json_object_set_new(j, "manager_name", json_string("Locked"));
	text = json_dumps(j, 0);
	test_http(&ts, "PUT", "/api/v3/configuration/file", text, -1, NULL, &r);
	test_assert_error(&r, 401, NULL);
	test_response_free(&r);
	after = test_read_file(path, NULL);
	ck_assert_str_eq(after, before);
	free(after);
	assert_admin_only("PUT", "/api/v3/configuration/file", text, 204);
	/* Left out of the PUT, the password stays in the file. */
	after = test_read_file(path, NULL);
	ck_assert_ptr_nonnull(strstr(after, "manager_name = Locked\n"));
	ck_assert_ptr_nonnull(
	    strstr(after, "\nadmin_password = " ADMIN_PASSWORD "\n"));
	free(after);
	free(text);
	json_decref(j);
	free(before);
	free(path);
}
END_TEST

/* The Blender add-on and the workers never send the admin password. */
START_TEST(test_admin_password_spares_addon_and_workers)
{
	static const char *const reads[] = {
		"/api/v3/version",
		"/api/v3/configuration",
		"/api/v3/configuration/shared-storage/users/linux",
		"/api/v3/configuration/variables/workers/linux",
		"/api/v3/jobs/types",
		"/api/v3/worker-mgt/tags",
		"/api/v3/worker-mgt/workers",
		"/api/v3/jobs",
		"/api/v3/status",
	};
	static const char job[] =
	    "{\"name\": \"j\", \"type\": \"echo-sleep-test\", "
	    "\"priority\": 50, \"submitter_platform\": \"linux\", "
	    "\"settings\": {\"message\": \"hi\", "
	    "\"sleep_duration_seconds\": 1, \"sleep_repeats\": 1}}";
	struct test_worker w;
	struct test_response r;
	char *url;
	json_t *j;

	for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		test_http(&ts, "GET", reads[i], NULL, 0, NULL, &r);
		ck_assert_msg(r.status == 200, "%s: %ld", reads[i], r.status);
		test_response_free(&r);
	}
	test_http(&ts, "POST", "/api/v3/jobs/check", job, -1, NULL, &r);
	ck_assert_msg(r.status == 204, "check: %ld %s", r.status, r.body);
	test_response_free(&r);
	test_http(&ts, "POST", "/api/v3/jobs", job, -1, NULL, &r);
	ck_assert_msg(r.status == 200, "submit: %ld %s", r.status, r.body);
	test_response_free(&r);

	/* A worker registers, signs on, gets the task and updates it. */
	test_worker_register(&ts, &w, "w1", "linux", "\"misc\"");
	test_http(&ts, "POST", "/api/v3/worker/sign-on",
	    "{\"name\": \"w1\", \"supported_task_types\": [\"misc\"], "
	    "\"software_version\": \"3.9\"}",
	    -1, w.auth, &r);
	ck_assert_msg(r.status == 200, "sign-on: %ld %s", r.status, r.body);
	test_response_free(&r);
	test_http(&ts, "POST", "/api/v3/worker/state-changed",
	    "{\"status\": \"awake\"}", -1, w.auth, &r);
	ck_assert_int_eq(r.status, 204);
	test_response_free(&r);
	test_http(&ts, "POST", "/api/v3/worker/task", NULL, 0, w.auth, &r);
	ck_assert_msg(r.status == 200, "task: %ld %s", r.status, r.body);
	j = test_json(&r);
	test_response_free(&r);
	url = xasprintf("/api/v3/worker/task/%s",
	    json_string_value(json_object_get(j, "uuid")));
	json_decref(j);
	test_http(
	    &ts, "POST", url, "{\"activity\": \"Running\"}", -1, w.auth, &r);
	ck_assert_msg(r.status == 204, "update: %ld %s", r.status, r.body);
	test_response_free(&r);
	free(url);

	/* But the worker's own credentials are no admin credentials. */
	url = xasprintf("/api/v3/worker-mgt/workers/%s/setstatus", w.uuid);
	test_http(&ts, "POST", url,
	    "{\"status\": \"asleep\", \"is_lazy\": true}", -1, w.auth, &r);
	test_assert_error(&r, 401, "wrong admin password");
	test_response_free(&r);
	free(url);
}
END_TEST

/* A crypt(3) hash works as well, and only for its password. */
START_TEST(test_admin_password_hash)
{
	struct test_server hs;
	char *right = basic_header("admin", "Hello world!");
	char *wrong = basic_header("admin", "Hello world");
	struct test_response r;

	test_server_start(&hs,
	    "admin_password = "
	    "$6$abcdefgh$4UPJf3qf71iDb8DDBG5r.Jxy3OKpyf7on.yGTrfW2z7BZBicRPXkes."
	    "VuTPq3aS6gF63ohT6G9SJv9LejkZLu/\n");
	test_http(&hs, "POST", "/api/v3/worker-mgt/tags", "{\"name\": \"gpu\"}",
	    -1, wrong, &r);
	test_assert_error(&r, 401, "wrong admin password");
	test_response_free(&r);
	test_http(&hs, "POST", "/api/v3/worker-mgt/tags", "{\"name\": \"gpu\"}",
	    -1, right, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	test_response_free(&r);
	test_server_stop(&hs);
	free(right);
	free(wrong);
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
	/* The three built-ins: two scripts and one OpenJD template. */
	ck_assert_uint_eq(json_array_size(json_object_get(j, "job_types")), 3);
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
	tcase_add_test(tc, test_configuration_file_reset_refused);
	tcase_add_test(tc, test_admin_route_flags);
	tcase_add_test(tc, test_admin_open_without_password);
	tcase_add_test(tc, test_kept_compiler);
	suite_add_tcase(s, tc);

	tc = tcase_create("admin_password");
	tcase_add_checked_fixture(tc, setup_admin, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_admin_password_required);
	tcase_add_test(tc, test_admin_password_spares_addon_and_workers);
	suite_add_tcase(s, tc);

	tc = tcase_create("admin_password_hash");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_admin_password_hash);
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
