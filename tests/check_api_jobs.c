/*
 * API tests for job types and submission: the real server in-process,
 * with the fixture job types in scripts_path, driven over HTTP. Checks
 * that Flamenco's scripts author exactly the expected tasks, that every
 * bad submission is a JSON error, and that nothing is stored then.
 */
#include <check.h>
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "submit.h"
#include "testutil.h"
#include "timeutil.h"
#include "xmalloc.h"

#define FIXTURES FM_SOURCE_DIR "/tests/fixtures/jobtypes"
#define GOLDEN   FM_SOURCE_DIR "/tests/jobc"

static struct test_server ts;

static void
setup(void)
{
	/* Bodies above the default 1 MiB cap, so that the submission's own
	 * limit on settings (test_submission_limits) is reached. */
	char *conf = xasprintf("scripts_path = %s\ncompile_timeout = 2s\n"
	                       "compiler_heaps = 2\nmax_body_size = 4MiB\n",
	    FIXTURES);

	test_server_start(&ts, conf);
	free(conf);
}

static void
teardown(void)
{
	test_server_stop(&ts);
}

/* Numbers compare by value, everything else structurally. */
static int
json_same(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	if (json_typeof(a) != json_typeof(b))
		return 0;
	if (json_is_object(a)) {
		const char *k;
		json_t *v;

		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach ((json_t *)(uintptr_t)a, k, v)
			if (!json_same(v, json_object_get(b, k)))
				return 0;
		return 1;
	}
	if (json_is_array(a)) {
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!json_same(
			        json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	}
	return json_equal((json_t *)(uintptr_t)a, (json_t *)(uintptr_t)b);
}

static void
assert_same(const json_t *got, const json_t *want, const char *what)
{
	char *g, *w;

	if (json_same(got, want))
		return;
	g = json_dumps(got, JSON_SORT_KEYS | JSON_INDENT(1));
	w = json_dumps(want, JSON_SORT_KEYS | JSON_INDENT(1));
	ck_abort_msg("%s differs:\n--- got\n%s\n--- want\n%s", what, g, w);
}

static json_t *
load_json(const char *path)
{
	json_error_t err;
	json_t *j = json_load_file(path, 0, &err);

	ck_assert_msg(j != NULL, "%s: %s", path, err.text);
	return j;
}

static json_t *
get_json(const char *path, long want_status)
{
	struct test_response r;
	json_t *j;

	test_http(&ts, "GET", path, NULL, 0, NULL, &r);
	ck_assert_msg(
	    r.status == want_status, "GET %s: %ld %s", path, r.status, r.body);
	j = test_json(&r);
	test_response_free(&r);
	return j;
}

/* Submit; returns the stored Job. */
static json_t *
submit(const char *body)
{
	struct test_response r;
	json_t *job;

	test_http(&ts, "POST", "/api/v3/jobs", body, -1, NULL, &r);
	ck_assert_msg(r.status == 200, "submit: %ld %s", r.status, r.body);
	job = test_json(&r);
	test_response_free(&r);
	return job;
}

/* The job's tasks in the fixtures' "expected" shape. */
static json_t *
authored_tasks(const char *job_id)
{
	char *path = xasprintf("/api/v3/jobs/%s/tasks", job_id);
	json_t *summaries = get_json(path, 200), *out = json_array(), *s;
	json_t *names = json_object();
	size_t i, j;

	free(path);
	json_array_foreach (json_object_get(summaries, "tasks"), i, s)
		json_object_set(names,
		    json_string_value(json_object_get(s, "id")),
		    json_object_get(s, "name"));
	json_array_foreach (json_object_get(summaries, "tasks"), i, s) {
		char *tp = xasprintf("/api/v3/tasks/%s",
		    json_string_value(json_object_get(s, "id")));
		json_t *task = get_json(tp, 200), *cmds = json_array(), *c,
		       *deps = json_array(), *d;

		ck_assert_int_eq(
		    json_integer_value(json_object_get(task, "index_in_job")),
		    (json_int_t)i + 1);
		json_array_foreach (json_object_get(task, "commands"), j, c)
			json_array_append_new(cmds,
			    json_pack("{s:O, s:O, s:O}", "name",
			        json_object_get(c, "name"), "parameters",
			        json_object_get(c, "parameters"),
			        "totalStepCount",
			        json_object_get(c, "total_step_count")));
		json_array_foreach (json_object_get(task, "dependencies"), j, d)
			json_array_append(
			    deps, json_object_get(names, json_string_value(d)));
		json_array_append_new(out,
		    json_pack("{s:O, s:O, s:O, s:o, s:o}", "name",
		        json_object_get(task, "name"), "type",
		        json_object_get(task, "task_type"), "priority",
		        json_object_get(task, "priority"), "commands", cmds,
		        "dependencies", deps));
		json_decref(task);
		free(tp);
	}
	json_decref(names);
	json_decref(summaries);
	return out;
}

static void
check_fixture(const char *job_file, const char *expected_file)
{
	json_t *body = load_json(job_file), *want = load_json(expected_file);
	char *text = json_dumps(body, 0);
	json_t *job = submit(text), *tasks;

	assert_same(json_object_get(job, "settings"),
	    json_object_get(want, "settings"), "settings");
	ck_assert_str_eq(
	    json_string_value(json_object_get(job, "status")), "queued");
	tasks = authored_tasks(json_string_value(json_object_get(job, "id")));
	assert_same(tasks, json_object_get(want, "tasks"), expected_file);
	json_decref(tasks);
	json_decref(job);
	json_decref(body);
	json_decref(want);
	free(text);
}

START_TEST(test_fixture_es2015)
{
	check_fixture(
	    FIXTURES "/es2015.job.json", FIXTURES "/es2015.expected.json");
}
END_TEST

START_TEST(test_fixture_environment)
{
	check_fixture(FIXTURES "/environment.job.json",
	    FIXTURES "/environment.expected.json");
}
END_TEST

START_TEST(test_fixture_errors)
{
	json_t *want = load_json(FIXTURES "/errors.expected.json"), *exp;
	const char *mode;

	json_object_foreach (want, mode, exp) {
		char *path = xasprintf(FIXTURES "/errors-%s.job.json", mode);
		char *body = test_read_file(path, NULL);
		struct test_response r;

		ck_assert_ptr_nonnull(body);
		test_http(&ts, "POST", "/api/v3/jobs", body, -1, NULL, &r);
		if (json_object_get(exp, "tasks") != NULL) {
			ck_assert_msg(r.status == 200, "%s: %s", mode, r.body);
		} else {
			test_assert_error(&r,
			    (long)json_integer_value(
			        json_object_get(exp, "status")),
			    json_string_value(json_object_get(exp, "message")));
		}
		test_response_free(&r);
		free(body);
		free(path);
	}
	json_decref(want);
}
END_TEST

START_TEST(test_job_types_listed)
{
	json_t *list = get_json("/api/v3/jobs/types", 200), *t;
	const char *prev = "";
	size_t i;
	int builtins = 0;

	json_array_foreach (json_object_get(list, "job_types"), i, t) {
		const char *name =
		    json_string_value(json_object_get(t, "name"));
		const char *etag =
		    json_string_value(json_object_get(t, "etag"));

		ck_assert_msg(strcmp(prev, name) < 0, "not sorted: %s", name);
		prev = name;
		ck_assert_int_eq(strlen(etag), 40);
		ck_assert(json_is_string(json_object_get(t, "label")));
		ck_assert(json_is_array(json_object_get(t, "settings")));
		if (strcmp(name, "simple-blender-render") == 0 ||
		    strcmp(name, "echo-sleep-test") == 0)
			builtins++;
	}
	ck_assert_int_eq(builtins, 2);
	ck_assert_ptr_nonnull(json_object_get(
	    json_array_get(json_object_get(list, "job_types"), 0), "name"));
	json_decref(list);
}
END_TEST

START_TEST(test_job_type_get)
{
	json_t *t = get_json("/api/v3/jobs/type/simple-blender-render", 200);
	json_t *first = json_array_get(json_object_get(t, "settings"), 0);
	struct test_response r;

	ck_assert_str_eq(json_string_value(json_object_get(t, "label")),
	    "Simple Blender Render");
	ck_assert_str_eq(
	    json_string_value(json_object_get(first, "key")), "frames");
	ck_assert(json_is_true(json_object_get(
	    json_object_get(first, "evalInfo"), "showLinkButton")));
	json_decref(t);
	test_http(
	    &ts, "GET", "/api/v3/jobs/type/no-such-type", NULL, 0, NULL, &r);
	test_assert_error(&r, 404, "no such job type");
	test_response_free(&r);
}
END_TEST

static const char echo_job[] =
    "{\"name\": \"echo\", \"type\": \"echo-sleep-test\", \"priority\": 50,"
    " \"submitter_platform\": \"linux\", \"settings\": {\"message\": "
    "\"hi\", \"sleep_duration_seconds\": 2, \"sleep_repeats\": 3},"
    " \"metadata\": {\"project\": \"p\"}}";

START_TEST(test_submit_echo)
{
	json_t *job = submit(echo_job), *tasks;
	const char *id = json_string_value(json_object_get(job, "id"));
	char *path = xasprintf("/api/v3/jobs/%s", id);
	json_t *again = get_json(path, 200);

	ck_assert_str_eq(
	    json_string_value(json_object_get(job, "type")), "echo-sleep-test");
	ck_assert_str_eq(
	    json_string_value(json_object_get(job, "submitter_platform")), "");
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_object_get(job, "metadata"), "project")),
	    "p");
	ck_assert_ptr_null(json_object_get(job, "worker_tag"));
	ck_assert(json_equal(job, again));
	tasks = authored_tasks(id);
	ck_assert_int_eq(json_array_size(tasks), 4);
	ck_assert_str_eq(json_string_value(
	                     json_object_get(json_array_get(tasks, 0), "name")),
	    "echo");
	ck_assert_int_eq(json_array_size(json_object_get(
	                     json_array_get(tasks, 3), "dependencies")),
	    1);
	json_decref(tasks);
	json_decref(again);
	json_decref(job);
	free(path);
}
END_TEST

START_TEST(test_check_and_etag)
{
	json_t *t = get_json("/api/v3/jobs/type/echo-sleep-test", 200);
	json_t *body = json_loads(echo_job, 0, NULL);
	struct test_response r;
	char *text;

	json_object_set(body, "type_etag", json_object_get(t, "etag"));
	text = json_dumps(body, 0);
	test_http(&ts, "POST", "/api/v3/jobs/check", text, -1, NULL, &r);
	ck_assert_msg(r.status == 204, "check: %ld %s", r.status, r.body);
	ck_assert_int_eq(r.body_len, 0);
	ck_assert_ptr_null(strstr(r.headers, "Content-Type: application/json"));
	test_response_free(&r);
	free(text);

	json_object_set_new(body, "type_etag", json_string("0123abcd"));
	text = json_dumps(body, 0);
	test_http(&ts, "POST", "/api/v3/jobs/check", text, -1, NULL, &r);
	test_assert_error(&r, 412, "outdated");
	test_response_free(&r);
	test_http(&ts, "POST", "/api/v3/jobs", text, -1, NULL, &r);
	test_assert_error(&r, 412, "refresh the job type");
	test_response_free(&r);
	free(text);
	json_decref(body);
	json_decref(t);
}
END_TEST

START_TEST(test_explain)
{
	struct test_response r;
	json_t *j, *last;

	test_http(&ts, "POST", "/api/v3/jobs/explain", echo_job, -1, NULL, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	j = test_json(&r);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(j, "task_count")), 4);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(j, "dependency_count")), 3);
	last = json_array_get(json_object_get(j, "tasks"), 3);
	ck_assert_int_eq(json_integer_value(json_array_get(
	                     json_object_get(last, "dependencies"), 0)),
	    1);
	json_decref(j);
	test_response_free(&r);
	/* Nothing was stored. */
	j = get_json("/api/v3/status", 200);
	json_decref(j);
}
END_TEST

/* Each bad request and the status plus message text it must get. */
static const struct {
	const char *body;
	long status;
	const char *needle;
} bad_jobs[] = {
	{ "{", 400, "invalid JSON" },
	{ "", 400, "empty" },
	{ "[]", 400, "object" },
	{ "{\"type\": \"echo-sleep-test\", \"priority\": 50, "
	  "\"submitter_platform\": \"linux\"}",
	    400, "\"name\" is required" },
	{ "{\"name\": \"x\", \"type\": \"echo-sleep-test\", \"priority\": "
	  "\"high\", \"submitter_platform\": \"linux\"}",
	    400, "\"priority\" must be an integer" },
	{ "{\"name\": \"x\", \"type\": \"echo-sleep-test\", \"priority\": 500, "
	  "\"submitter_platform\": \"linux\"}",
	    400, "between 0 and 100" },
	{ "{\"name\": \"x\", \"type\": \"echo-sleep-test\", \"priority\": 5, "
	  "\"submitter_platform\": \"linux\", \"settings\": [1]}",
	    400, "\"settings\" must be an object" },
	{ "{\"name\": \"x\", \"type\": \"echo-sleep-test\", \"priority\": 5, "
	  "\"submitter_platform\": \"linux\", \"metadata\": {\"a\": 1}}",
	    400, "metadata" },
	{ "{\"name\": \"x\", \"type\": \"nope\", \"priority\": 5, "
	  "\"submitter_platform\": \"linux\"}",
	    400, "job type unknown" },
	{ "{\"name\": \"x\", \"type\": \"echo-sleep-test\", \"priority\": 5, "
	  "\"submitter_platform\": \"linux\", \"initial_status\": \"bogus\"}",
	    400, "initial_status" },
	{ "{\"name\": \"x\", \"type\": \"echo-sleep-test\", \"priority\": 5, "
	  "\"submitter_platform\": \"linux\", \"worker_tag\": \"zzz\"}",
	    400, "worker_tag" },
	{ "{\"name\": \"x\", \"type\": \"echo-sleep-test\", \"priority\": 5, "
	  "\"submitter_platform\": \"linux\", \"worker_tag\": "
	  "\"0d9e6b2c-5e4e-4f6f-8c6f-0a6a7e1c2b3d\"}",
	    400, "unknown worker tag" },
	{ "{\"name\": \"x\", \"type\": \"simple-blender-render\", "
	  "\"priority\": 5, \"submitter_platform\": \"linux\", \"settings\": "
	  "{\"frames\": \"1-1000000000\", \"chunk_size\": 1, "
	  "\"render_output_path\": \"/r/######\", \"format\": \"PNG\", "
	  "\"blendfile\": \"/b.blend\"}}",
	    400, NULL },
};

START_TEST(test_bad_submissions)
{
	struct test_response r;
	json_t *j;

	for (size_t i = 0; i < sizeof(bad_jobs) / sizeof(bad_jobs[0]); i++) {
		test_http(&ts, "POST", "/api/v3/jobs", bad_jobs[i].body, -1,
		    NULL, &r);
		test_assert_error(&r, bad_jobs[i].status, bad_jobs[i].needle);
		test_response_free(&r);
	}
	/* None of them left a job behind. */
	j = get_json("/api/v3/status", 200);
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "status")), "inoperative");
	json_decref(j);
}
END_TEST

/* An echo-sleep-test submission with these fields added (new). */
static char *
echo_with(const char *fields)
{
	return xasprintf("{\"type\": \"echo-sleep-test\", \"priority\": 50, "
	                 "\"submitter_platform\": \"linux\", \"settings\": "
	                 "{\"message\": \"m\", \"sleep_duration_seconds\": 1, "
	                 "\"sleep_repeats\": 1}, %s}",
	    fields);
}

static void
assert_submit_refused(const char *fields, const char *needle)
{
	struct test_response r;
	char *body = echo_with(fields);

	test_http(&ts, "POST", "/api/v3/jobs/check", body, -1, NULL, &r);
	test_assert_error(&r, 400, needle);
	test_response_free(&r);
	free(body);
}

/* submit_compile itself: the HTTP layer may hand it NUL characters. */
static void
assert_compile_refused(json_t *job, const char *needle)
{
	json_t *out = NULL;
	char *msg = NULL;
	enum fm_err rc = submit_compile(&ts.app->ctx, NULL, job, &out, &msg);

	ck_assert_msg(rc == FM_ERR_INVALID, "rc %d: %s", rc, msg);
	ck_assert_ptr_null(out);
	ck_assert_msg(msg != NULL && strstr(msg, needle) != NULL,
	    "'%s' lacks '%s'", msg, needle);
	free(msg);
	json_decref(job);
}

/*
 * Size limits on what a submission holds (a 10 MB name used to make
 * every job list 31 MB), and NUL characters refused in the job's own
 * fields rather than cut by the store.
 */
START_TEST(test_submission_limits)
{
	struct test_response r;
	char *big = xmalloc(SUBMIT_MAX_SETTINGS_BYTES + 2);
	char *fields, *body;
	json_t *meta;

	memset(big, 'x', SUBMIT_MAX_SETTINGS_BYTES + 1);
	big[SUBMIT_MAX_SETTINGS_BYTES + 1] = '\0';
	/* A name of exactly the limit is fine, one byte more is not. */
	fields = xasprintf("\"name\": \"%.*s\"", SUBMIT_MAX_NAME_BYTES, big);
	body = echo_with(fields);
	test_http(&ts, "POST", "/api/v3/jobs/check", body, -1, NULL, &r);
	ck_assert_msg(r.status == 204, "%ld %s", r.status, r.body);
	test_response_free(&r);
	free(body);
	free(fields);
	fields =
	    xasprintf("\"name\": \"%.*s\"", SUBMIT_MAX_NAME_BYTES + 1, big);
	assert_submit_refused(fields, "\"name\" is longer than 1024 bytes");
	free(fields);
	fields = xasprintf("\"name\": \"n\", \"storage\": "
	                   "{\"shaman_checkout_id\": \"%.*s\"}",
	    SUBMIT_MAX_NAME_BYTES + 1, big);
	assert_submit_refused(fields, "shaman_checkout_id\" is longer");
	free(fields);
	fields = xasprintf("\"name\": \"n\", \"metadata\": {\"k\": \"%.*s\"}",
	    SUBMIT_MAX_METADATA_BYTES + 1, big);
	assert_submit_refused(fields, "limited to 4096 bytes");
	free(fields);
	fields = xasprintf("\"name\": \"n\", \"metadata\": {\"%.*s\": \"v\"}",
	    SUBMIT_MAX_METADATA_BYTES + 1, big);
	assert_submit_refused(fields, "limited to 4096 bytes");
	free(fields);
	meta = json_object();
	for (int i = 0; i <= SUBMIT_MAX_METADATA; i++) {
		char key[16];

		snprintf(key, sizeof(key), "k%d", i);
		json_object_set_new(meta, key, json_string("v"));
	}
	body = json_dumps(meta, JSON_COMPACT);
	fields = xasprintf("\"name\": \"n\", \"metadata\": %s", body);
	assert_submit_refused(fields, "has more than 256 entries");
	free(fields);
	free(body);
	json_decref(meta);
	body = xasprintf("{\"name\": \"n\", \"type\": \"echo-sleep-test\", "
	                 "\"priority\": 50, \"submitter_platform\": \"linux\", "
	                 "\"settings\": {\"s\": \"%s\"}}",
	    big);
	test_http(&ts, "POST", "/api/v3/jobs/check", body, -1, NULL, &r);
	test_assert_error(&r, 400, "\"settings\" are larger than 1024 KiB");
	test_response_free(&r);
	free(body);
	free(big);

	/* NUL characters, as the HTTP layer may pass them on. */
	assert_compile_refused(
	    json_pack("{s:s%, s:s, s:i, s:s}", "name", "a\0b", (size_t)3,
	        "type", "echo-sleep-test", "priority", 50, "submitter_platform",
	        "linux"),
	    "\"name\" must not contain NUL characters");
	assert_compile_refused(
	    json_pack("{s:s, s:s%, s:i, s:s}", "name", "n", "type", "echo\0x",
	        (size_t)6, "priority", 50, "submitter_platform", "linux"),
	    "\"type\" must not contain NUL");
	assert_compile_refused(
	    json_pack("{s:s, s:s, s:i, s:s, s:{s:[s%]}}", "name", "n", "type",
	        "echo-sleep-test", "priority", 50, "submitter_platform",
	        "linux", "settings", "deep", "a\0", (size_t)2),
	    "\"settings\" must not contain NUL");
	meta = json_object();
	json_object_setn_new(meta, "k\0", 2, json_string("v"));
	assert_compile_refused(
	    json_pack("{s:s, s:s, s:i, s:s, s:o}", "name", "n", "type",
	        "echo-sleep-test", "priority", 50, "submitter_platform",
	        "linux", "metadata", meta),
	    "\"metadata\" must not contain NUL");
	assert_compile_refused(json_pack("{s:s, s:s, s:i, s:s%}", "name", "n",
	                           "type", "echo-sleep-test", "priority", 50,
	                           "submitter_platform", "linux\0", (size_t)6),
	    "\"submitter_platform\" must not contain NUL");
}
END_TEST

START_TEST(test_bad_ids)
{
	struct test_response r;

	test_http(&ts, "GET", "/api/v3/jobs/not-a-uuid", NULL, 0, NULL, &r);
	test_assert_error(&r, 400, "job ID not valid");
	test_response_free(&r);
	test_http(&ts, "GET",
	    "/api/v3/jobs/0d9e6b2c-5e4e-4f6f-8c6f-0a6a7e1c2b3d", NULL, 0, NULL,
	    &r);
	test_assert_error(&r, 404, "no such job");
	test_response_free(&r);
	test_http(&ts, "GET", "/api/v3/tasks/xyz", NULL, 0, NULL, &r);
	test_assert_error(&r, 400, "not valid");
	test_response_free(&r);
	test_http(&ts, "GET",
	    "/api/v3/tasks/0d9e6b2c-5e4e-4f6f-8c6f-0a6a7e1c2b3d", NULL, 0, NULL,
	    &r);
	test_assert_error(&r, 404, "no such task");
	test_response_free(&r);
}
END_TEST

/* Replace every occurrence of from in s (new string). */
static char *
replace_all(const char *s, const char *from, const char *to)
{
	size_t fl = strlen(from), tl = strlen(to), n = 0;
	char *out, *o;

	for (const char *p = strstr(s, from); p; p = strstr(p + fl, from))
		n++;
	out = o = xmalloc(strlen(s) + n * (tl > fl ? tl - fl : 0) + 1);
	while (*s != '\0') {
		if (strncmp(s, from, fl) == 0) {
			memcpy(o, to, tl);
			o += tl;
			s += fl;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

static void
local_stamp(int64_t us, char *buf, size_t len)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d_%H%M%S", &tm);
}

/* One tests/jobc/<type>/<case>.in.json against its .out.json. */
static void
check_golden(const char *in_path, const char *out_path)
{
	json_t *in = load_json(in_path), *job;
	char *in_text, *want_text;
	json_t *want, *tasks;
	struct test_response r;

	want_text = test_read_file(out_path, NULL);
	ck_assert_ptr_nonnull(want_text);
	in_text = json_dumps(in, 0);
	want = json_loads(want_text, 0, NULL);
	ck_assert_ptr_nonnull(want);
	if (json_object_get(want, "error") != NULL) {
		json_t *e = json_object_get(want, "error");

		test_http(&ts, "POST", "/api/v3/jobs", in_text, -1, NULL, &r);
		test_assert_error(&r,
		    (long)json_integer_value(json_object_get(e, "status")),
		    json_string_value(json_object_get(e, "message")));
		test_response_free(&r);
		goto done;
	}
	job = submit(in_text);
	if (json_is_string(json_object_get(in, "created"))) {
		/* The Manager stamps its own creation time; expect that. */
		int64_t want_us = 0, got_us = 0;
		char from[32], to[32], *fixed;

		ck_assert_int_eq(
		    time_parse_rfc3339(
		        json_string_value(json_object_get(in, "created")),
		        &want_us),
		    FM_OK);
		ck_assert_int_eq(
		    time_parse_rfc3339(
		        json_string_value(json_object_get(job, "created")),
		        &got_us),
		    FM_OK);
		local_stamp(want_us, from, sizeof(from));
		local_stamp(got_us, to, sizeof(to));
		fixed = replace_all(want_text, from, to);
		json_decref(want);
		want = json_loads(fixed, 0, NULL);
		free(fixed);
	}
	assert_same(json_object_get(job, "settings"),
	    json_object_get(want, "settings"), out_path);
	tasks = authored_tasks(json_string_value(json_object_get(job, "id")));
	assert_same(tasks, json_object_get(want, "tasks"), out_path);
	json_decref(tasks);
	json_decref(job);
done:
	json_decref(want);
	json_decref(in);
	free(in_text);
	free(want_text);
}

START_TEST(test_golden_builtins)
{
	static const char *const types[] = { "simple-blender-render",
		"echo-sleep-test" };
	int cases = 0;

	for (size_t t = 0; t < 2; t++) {
		char *dir = xasprintf(GOLDEN "/%s", types[t]);
		DIR *d = opendir(dir);
		struct dirent *de;

		ck_assert_msg(d != NULL, "no golden files in %s", dir);
		while ((de = readdir(d)) != NULL) {
			size_t len = strlen(de->d_name);
			char *in, *out;

			if (len < 9 ||
			    strcmp(de->d_name + len - 8, ".in.json") != 0)
				continue;
			in = xasprintf("%s/%s", dir, de->d_name);
			out = xasprintf("%s/%.*s.out.json", dir, (int)(len - 8),
			    de->d_name);
			check_golden(in, out);
			cases++;
			free(in);
			free(out);
		}
		closedir(d);
		free(dir);
	}
	ck_assert_int_ge(cases, 4);
}
END_TEST

/* --- scripts_path changes, broken and hostile scripts ------------- */

static char *scripts_dir;

/* A NUL in command parameters (kept) and, on request, in a task name. */
static const char nul_cmd_type[] =
    "const JOB_TYPE = { label: 'Nul', settings: [] };\n"
    "function compileJob(job) {\n"
    "  const t = author.Task('nul-task', 'misc');\n"
    "  t.addCommand(author.Command('exec', { exe: '{blender}', "
    "args: ['a\\u0000b', '{blender}\\u0000x'] }));\n"
    "  job.addTask(t);\n"
    "  if (job.settings.badname) {\n"
    "    const u = author.Task('u', 'misc'); u.name = 'bad\\u0000name';\n"
    "    job.addTask(u);\n"
    "  }\n"
    "  if (job.settings.longname) job.name = 'n'.repeat(1025);\n"
    "  if (job.settings.nulname) job.name = 'n\\u0000';\n"
    "  if (job.settings.nulmeta) job.metadata['m\\u0000'] = 'v';\n"
    "  if (job.settings.bigmeta) job.metadata.m = 'v'.repeat(5000);\n"
    "  if (job.settings.nulset) job.settings.s = ['\\u0000'];\n"
    "  if (job.settings.bigset) job.settings.s = 's'.repeat(1100000);\n"
    "}\n";

static void
setup_scripts(void)
{
	char *conf;

	scripts_dir = test_tmpdir();
	free(test_write_file(scripts_dir, "broken_type.js",
	    "const JOB_TYPE = { label: 'Broken', settings: [ };\n"));
	free(test_write_file(scripts_dir, "spin.js",
	    "const JOB_TYPE = { label: 'Spin', settings: [] };\n"
	    "function compileJob(job) { for (;;) {} }\n"));
	free(test_write_file(scripts_dir, "hog.js",
	    "const JOB_TYPE = { label: 'Hog', settings: [] };\n"
	    "function compileJob(job) { const a = []; "
	    "for (;;) { a.push('x'.repeat(1000) + a.length); } }\n"));
	free(test_write_file(scripts_dir, "nul_cmd.js", nul_cmd_type));
	conf = xasprintf("scripts_path = %s\ncompile_timeout = 1s\n"
	                 "compiler_heap_max = 64MiB\ncompiler_heaps = 1\n"
	                 "max_tasks_per_job = 50\n",
	    scripts_dir);
	test_server_start(&ts, conf);
	free(conf);
}

static void
teardown_scripts(void)
{
	test_server_stop(&ts);
	test_rmtree(scripts_dir);
	free(scripts_dir);
}

static int
has_type(const char *name, char *etag_out)
{
	json_t *list = get_json("/api/v3/jobs/types", 200), *t;
	size_t i;
	int found = 0;

	json_array_foreach (json_object_get(list, "job_types"), i, t) {
		if (strcmp(json_string_value(json_object_get(t, "name")),
		        name) == 0) {
			found = 1;
			if (etag_out != NULL)
				strcpy(etag_out,
				    json_string_value(
				        json_object_get(t, "etag")));
		}
	}
	json_decref(list);
	return found;
}

/*
 * Poll GET /jobs/types until type name is listed (present) or not, with
 * etag_out (may be NULL) set, or until another etag than not_etag (may
 * be NULL) shows; fails after 20 s (sanitizers, loaded machines).
 * Returns the seconds it took.
 */
static double
wait_type(const char *name, int present, const char *not_etag, char *etag_out)
{
	int64_t t0 = time_mono_us();
	char etag[41] = "";

	for (;;) {
		int found = has_type(name, etag);

		if (found == present &&
		    (!found || not_etag == NULL || strcmp(etag, not_etag) != 0))
			break;
		ck_assert_msg(time_mono_us() - t0 < 20 * 1000000LL,
		    "type %s did not %s", name,
		    present ? "show (or change)" : "go");
		usleep(50 * 1000);
	}
	if (etag_out != NULL)
		strcpy(etag_out, etag);
	return (double)(time_mono_us() - t0) / 1e6;
}

static const char small_type[] =
    "const JOB_TYPE = { label: 'Hot', settings: [{ key: 'n', type: "
    "'int32', default: 1 }] };\n"
    "function compileJob(job) {\n"
    "  const t = author.Task(`hot-${job.settings.n}`, 'misc');\n"
    "  t.addCommand(author.Command('echo', { message: 'hi' }));\n"
    "  job.addTask(t);\n}\n";

START_TEST(test_scripts_picked_up_live)
{
	char etag1[41] = "", etag2[41] = "";
	char *changed, *path;
	double secs;

	/* The broken script is skipped, the others and built-ins load. */
	ck_assert(!has_type("broken-type", NULL));
	ck_assert(has_type("spin", NULL));
	ck_assert(has_type("echo-sleep-test", NULL));
	ck_assert(!has_type("hot-type", NULL));

	/* The watcher picks a new file up within about a second (plus
	 * loading it, slower with sanitizers). */
	path = test_write_file(scripts_dir, "hot_type.js", small_type);
	secs = wait_type("hot-type", 1, NULL, etag1);
	fprintf(
	    stderr, "api_jobs: a new script was listed after %.2f s\n", secs);

	/* Changing it changes its etag, and only then. */
	ck_assert(has_type("hot-type", etag2));
	ck_assert_str_eq(etag1, etag2);
	changed = xasprintf("%s// a comment changes nothing visible\n"
	                    "JOB_TYPE.label = 'Hotter';\n",
	    small_type);
	free(test_write_file(scripts_dir, "hot_type.js", changed));
	(void)wait_type("hot-type", 1, etag1, etag2);
	ck_assert_str_ne(etag1, etag2);

	/* Overriding a built-in, then removing files. */
	free(test_write_file(scripts_dir, "echo_sleep_test.js", small_type));
	for (int64_t t0 = time_mono_us();; usleep(50 * 1000)) {
		json_t *t = get_json("/api/v3/jobs/type/echo-sleep-test", 200);
		int hot = strcmp(json_string_value(json_object_get(t, "label")),
		              "Hot") == 0;

		json_decref(t);
		if (hot)
			break;
		ck_assert_msg(time_mono_us() - t0 < 20 * 1000000LL,
		    "the override did not show");
	}
	{
		json_t *t = get_json("/api/v3/jobs/type/echo-sleep-test", 200);

		ck_assert_str_eq(
		    json_string_value(json_object_get(t, "label")), "Hot");
		json_decref(t);
	}
	unlink(path);
	free(path);
	path = xasprintf("%s/echo_sleep_test.js", scripts_dir);
	unlink(path);
	(void)wait_type("hot-type", 0, NULL, NULL);
	{
		json_t *t = get_json("/api/v3/jobs/type/echo-sleep-test", 200);

		ck_assert_str_eq(json_string_value(json_object_get(t, "label")),
		    "Echo Sleep Test");
		json_decref(t);
	}
	free(path);
	free(changed);
}
END_TEST

/*
 * Scripts load in the background: while a big one (128 KiB, seconds to
 * down-level) loads, GET /jobs/types keeps answering at once from the
 * last snapshot (it used to load the script itself, blocking).
 */
START_TEST(test_reload_in_background)
{
	size_t cap = 140 * 1024, len = 0;
	char *src = xmalloc(cap), *path;
	int64_t t0, slowest = 0;
	int answered = 0;

	len += (size_t)snprintf(src, cap,
	    "const JOB_TYPE = { label: 'Big', settings: [] };\n"
	    "const TABLE = [\n");
	for (int i = 0; len < 128 * 1024; i++)
		len += (size_t)snprintf(src + len, cap - len,
		    "  { name: 'shot_%06d', frames: '1-%d', camera: 'cam_%d', "
		    "tags: ['a%d', 'b%d'], scale: %d.5 },\n",
		    i, i % 250 + 1, i % 17, i % 5, i % 7, i % 13);
	snprintf(src + len, cap - len,
	    "];\nfunction compileJob(job) {\n"
	    "  for (const s of TABLE.slice(0, 2)) {\n"
	    "    const t = author.Task(`t-${s.name}`, 'misc');\n"
	    "    t.addCommand(author.Command('echo', { message: s.frames }));\n"
	    "    job.addTask(t);\n  }\n}\n");
	/* After start-up, whose first load requests do wait for. */
	ck_assert(has_type("spin", NULL));
	path = test_write_file(scripts_dir, "big_type.js", src);
	t0 = time_mono_us();
	for (;;) {
		int64_t t1 = time_mono_us();
		int found = has_type("big-type", NULL);
		int64_t took = time_mono_us() - t1;

		if (took > slowest)
			slowest = took;
		if (found)
			break;
		answered++;
		ck_assert_msg(time_mono_us() - t0 < 60 * 1000000LL,
		    "big-type did not show");
		usleep(50 * 1000);
	}
	fprintf(stderr,
	    "api_jobs: a 128 KiB script was listed after %.2f s; %d listings "
	    "meanwhile, the slowest took %.3f s\n",
	    (double)(time_mono_us() - t0) / 1e6, answered,
	    (double)slowest / 1e6);
	ck_assert_msg(
	    slowest < 1000000, "a listing took %.3f s", (double)slowest / 1e6);
	ck_assert_int_ge(answered, 5);

	/* Shutting down while one loads does not wait for it. */
	free(test_write_file(scripts_dir, "big_two.js", src));
	usleep(1500 * 1000);
	t0 = time_mono_us();
	test_server_stop(&ts);
	fprintf(stderr, "api_jobs: stopped in %.2f s while a script loaded\n",
	    (double)(time_mono_us() - t0) / 1e6);
	ck_assert_int_lt(time_mono_us() - t0, 2000000);
	unlink(path);
	free(path);
	free(src);
}
END_TEST

/* A script that never ends or eats memory is stopped; the Manager goes
 * on serving, and the same heap serves the next job. */
START_TEST(test_hostile_scripts_stopped)
{
	static const char spin[] =
	    "{\"name\": \"s\", \"type\": \"spin\", \"priority\": 50, "
	    "\"submitter_platform\": \"linux\"}";
	static const char hog[] =
	    "{\"name\": \"h\", \"type\": \"hog\", \"priority\": 50, "
	    "\"submitter_platform\": \"linux\"}";
	struct test_response r;
	int64_t t0 = time_mono_us();
	json_t *job;

	test_http(&ts, "POST", "/api/v3/jobs", spin, -1, NULL, &r);
	test_assert_error(&r, 400, "spin");
	ck_assert_msg(time_mono_us() - t0 < 10 * 1000000LL * test_time_scale(),
	    "the endless script was not stopped");
	test_response_free(&r);
	test_http(&ts, "POST", "/api/v3/jobs", hog, -1, NULL, &r);
	test_assert_error(&r, 400, "hog");
	test_response_free(&r);
	job = submit("{\"name\": \"after\", \"type\": \"echo-sleep-test\", "
	             "\"priority\": 50, \"submitter_platform\": \"linux\", "
	             "\"settings\": {\"message\": \"still here\", "
	             "\"sleep_duration_seconds\": 1, \"sleep_repeats\": 1}}");
	json_decref(job);
}
END_TEST

/* Parse a body that may carry \u0000 (new). */
static json_t *
json_with_nul(const struct test_response *r)
{
	json_error_t jerr;
	json_t *j = json_loadb(r->body, r->body_len, JSON_ALLOW_NUL, &jerr);

	ck_assert_msg(j != NULL, "%s: %s", jerr.text, r->body);
	return j;
}

/* The string s is exactly the n bytes want. */
static void
assert_bytes(const json_t *s, const char *want, size_t n)
{
	ck_assert_msg(json_is_string(s), "not a string");
	ck_assert_uint_eq(json_string_length(s), n);
	ck_assert_mem_eq(json_string_value(s), want, n);
}

/*
 * A NUL character in a command parameter is stored and handed to the
 * worker exactly (it used to become "commands": []); a NUL in a task
 * name is refused with 400 naming the task, and nothing is stored.
 */
START_TEST(test_nul_in_commands)
{
	static const struct {
		const char *setting, *needle;
	} script_limits[] = {
		{ "longname",
		    "the job name the script left is longer than 1024" },
		{ "nulname", "the job name the script left must not contain" },
		{ "nulmeta", "the metadata the script left must not contain" },
		{ "bigmeta", "limited to 4096 bytes" },
		{ "nulset", "the settings the script left must not contain" },
		{ "bigset", "the settings the script left are larger" },
	};
	static const char bad[] =
	    "{\"name\": \"nulbad\", \"type\": \"nul-cmd\", \"priority\": "
	    "50, \"submitter_platform\": \"linux\", \"settings\": "
	    "{\"badname\": true}}";
	struct test_worker w;
	struct test_response r;
	json_t *job, *tasks, *task, *params;
	char *path, *body;

	job = submit("{\"name\": \"nul\", \"type\": \"nul-cmd\", "
	             "\"priority\": 50, \"submitter_platform\": \"linux\"}");
	path = xasprintf("/api/v3/jobs/%s/tasks",
	    json_string_value(json_object_get(job, "id")));
	tasks = get_json(path, 200);
	free(path);
	ck_assert_uint_eq(json_array_size(json_object_get(tasks, "tasks")), 1);
	path = xasprintf("/api/v3/tasks/%s",
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(tasks, "tasks"), 0), "id")));
	test_http(&ts, "GET", path, NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	task = json_with_nul(&r);
	test_response_free(&r);
	params = json_object_get(
	    json_array_get(json_object_get(task, "commands"), 0), "parameters");
	assert_bytes(
	    json_array_get(json_object_get(params, "args"), 0), "a\0b", 3);
	assert_bytes(json_array_get(json_object_get(params, "args"), 1),
	    "{blender}\0x", 11);
	json_decref(task);
	free(path);

	/* The worker gets it whole, variables expanded around the NUL. */
	test_worker_register(&ts, &w, "nulw", "linux", "\"misc\"");
	body = xstrdup("{\"name\": \"nulw\", \"supported_task_types\": "
	               "[\"misc\"], \"software_version\": \"3.9\"}");
	test_http(&ts, "POST", "/api/v3/worker/sign-on", body, -1, w.auth, &r);
	ck_assert_int_eq(r.status, 200);
	test_response_free(&r);
	test_http(&ts, "POST", "/api/v3/worker/state-changed",
	    "{\"status\": \"awake\"}", -1, w.auth, &r);
	ck_assert_int_eq(r.status, 204);
	test_response_free(&r);
	test_http(&ts, "POST", "/api/v3/worker/task", NULL, 0, w.auth, &r);
	ck_assert_msg(r.status == 200, "%ld %s", r.status, r.body);
	task = json_with_nul(&r);
	test_response_free(&r);
	params = json_object_get(
	    json_array_get(json_object_get(task, "commands"), 0), "parameters");
	ck_assert_str_eq(
	    json_string_value(json_object_get(params, "exe")), "blender");
	assert_bytes(
	    json_array_get(json_object_get(params, "args"), 0), "a\0b", 3);
	assert_bytes(json_array_get(json_object_get(params, "args"), 1),
	    "blender\0x", 9);
	json_decref(task);
	free(body);

	test_http(&ts, "POST", "/api/v3/jobs", bad, -1, NULL, &r);
	test_assert_error(&r, 400, "task name \"bad\" contains a NUL");
	test_response_free(&r);
	/* What the script leaves in the job has the submission's limits. */
	for (size_t i = 0; i < nitems(script_limits); i++) {
		body =
		    xasprintf("{\"name\": \"nulbad\", \"type\": \"nul-cmd\", "
		              "\"priority\": 50, \"submitter_platform\": "
		              "\"linux\", \"settings\": {\"%s\": true}}",
		        script_limits[i].setting);
		test_http(&ts, "POST", "/api/v3/jobs", body, -1, NULL, &r);
		test_assert_error(&r, 400, script_limits[i].needle);
		test_response_free(&r);
		free(body);
	}
	json_decref(tasks);
	tasks = get_json("/api/v3/jobs?name=nulbad", 200);
	ck_assert_uint_eq(json_array_size(json_object_get(tasks, "jobs")), 0);
	json_decref(tasks);
	json_decref(job);
}
END_TEST

/* A simple-blender-render job rendering frames (new). */
static char *
render_job(const char *frames)
{
	return xasprintf(
	    "{\"name\": \"big\", \"type\": \"simple-blender-render\", "
	    "\"priority\": 50, \"submitter_platform\": \"linux\", "
	    "\"settings\": {\"frames\": \"%s\", \"chunk_size\": 1, "
	    "\"render_output_root\": \"/render\", \"add_path_components\": 0, "
	    "\"render_output_path\": \"/render/big/{timestamp}/######\", "
	    "\"blendfile\": \"/shared/big.blend\", \"fps\": 24, "
	    "\"format\": \"PNG\", \"image_file_extension\": \".png\", "
	    "\"has_previews\": false, \"scene\": \"Scene\"}}",
	    frames);
}

/* More tasks than max_tasks_per_job (50 here): 400 naming the key. */
START_TEST(test_task_cap)
{
	struct test_response r;
	char *body = render_job("1-100");

	test_http(&ts, "POST", "/api/v3/jobs", body, -1, NULL, &r);
	test_assert_error(&r, 400, "more than 50 tasks");
	test_assert_error(&r, 400, "max_tasks_per_job");
	test_response_free(&r);
	free(body);
	body = render_job("1-49");
	json_decref(submit(body));
	free(body);
}
END_TEST

/* --- compile_timeout holds for time spent in C ---------------------- */

static char *limits_dir;

static void
setup_limits(void)
{
	char *conf;

	limits_dir = test_tmpdir();
	/* Fills the heap with small objects (fast, in JSON.parse), then
	 * keeps allocating at the cap, catching the failures: Duktape
	 * collects garbage ten times per failed allocation. */
	free(test_write_file(limits_dir, "thrash.js",
	    "const JOB_TYPE = { label: 'Thrash', settings: [] };\n"
	    "function compileJob(job) {\n"
	    "  const keep = [];\n"
	    "  try {\n"
	    "    for (;;) keep.push(JSON.parse('[' + "
	    "'{\"a\":[1,2,3]},'.repeat(20000) + '{}]'));\n"
	    "  } catch (e) {}\n"
	    "  for (;;) {\n"
	    "    try { keep.push({ s: 'x' + keep.length, a: [1, 2, 3] }); }\n"
	    "    catch (e) { keep.pop(); }\n"
	    "  }\n"
	    "}\n"));
	conf = xasprintf("scripts_path = %s\ncompile_timeout = 1s\n"
	                 "compiler_heap_max = 64MiB\ncompiler_heaps = 1\n"
	                 "max_tasks_per_job = 1000000\n",
	    limits_dir);
	test_server_start(&ts, conf);
	free(conf);
}

static void
teardown_limits(void)
{
	test_server_stop(&ts);
	test_rmtree(limits_dir);
	free(limits_dir);
}

/* POST body to /api/v3/jobs expecting 400 for a script that runs too
 * long; returns the seconds the answer took. */
static double
timed_refusal(const char *body)
{
	struct test_response r;
	int64_t t0 = time_mono_us();
	double secs;

	test_http(&ts, "POST", "/api/v3/jobs", body, -1, NULL, &r);
	secs = (double)(time_mono_us() - t0) / 1e6;
	test_assert_error(&r, 400, "ran longer than 1 s");
	test_response_free(&r);
	return secs;
}

/*
 * With compile_timeout = 1s, a script thrashing Duktape's garbage
 * collector near the memory cap (took 100 s) and simple-blender-render
 * over frames 1-600000 (32 s; time in frameChunker, addTask and garbage
 * collection) are both answered 400 about a second later, and the
 * Manager goes on compiling jobs.
 */
START_TEST(test_compile_timeout_holds)
{
	/* ASan and a loaded machine: the slack covers one collection. */
	const double limit = 1.0, slack = 2.0;
	char *big = render_job("1-600000");
	struct test_response r;
	double thrash, range;

	/* Job types and the compiler heap load in the background first. */
	test_http(&ts, "POST", "/api/v3/jobs/check",
	    "{\"name\": \"warm\", \"type\": \"echo-sleep-test\", "
	    "\"priority\": 50, \"submitter_platform\": \"linux\"}",
	    -1, NULL, &r);
	ck_assert_int_eq(r.status, 204);
	test_response_free(&r);
	thrash = timed_refusal("{\"name\": \"t\", \"type\": \"thrash\", "
	                       "\"priority\": 50, \"submitter_platform\": "
	                       "\"linux\"}");
	range = timed_refusal(big);
	fprintf(stderr,
	    "api_jobs: compile_timeout %.1f s: the thrashing script was "
	    "refused after %.2f s, frames 1-600000 after %.2f s\n",
	    limit, thrash, range);
	ck_assert_msg(thrash < limit + slack, "thrash took %.2f s", thrash);
	ck_assert_msg(range < limit + slack, "1-600000 took %.2f s", range);
	json_decref(
	    submit("{\"name\": \"after\", \"type\": \"echo-sleep-test\", "
	           "\"priority\": 50, \"submitter_platform\": \"linux\", "
	           "\"settings\": {\"message\": \"still here\", "
	           "\"sleep_duration_seconds\": 1, \"sleep_repeats\": 1}}"));
	free(big);
}
END_TEST

static Suite *
api_jobs_suite(void)
{
	Suite *s = suite_create("api_jobs");
	TCase *tc = tcase_create("jobs");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_job_types_listed);
	tcase_add_test(tc, test_job_type_get);
	tcase_add_test(tc, test_submit_echo);
	tcase_add_test(tc, test_check_and_etag);
	tcase_add_test(tc, test_explain);
	tcase_add_test(tc, test_bad_submissions);
	tcase_add_test(tc, test_submission_limits);
	tcase_add_test(tc, test_bad_ids);
	tcase_add_test(tc, test_fixture_es2015);
	tcase_add_test(tc, test_fixture_environment);
	tcase_add_test(tc, test_fixture_errors);
	tcase_add_test(tc, test_golden_builtins);
	suite_add_tcase(s, tc);

	/* These two run scripts under compile_timeout = 1s, which holds at
	 * native (and ASan) speed only: make valgrind skips "speed". */
	tc = tcase_create("scripts");
	tcase_set_tags(tc, "speed");
	tcase_add_checked_fixture(tc, setup_scripts, teardown_scripts);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_scripts_picked_up_live);
	tcase_add_test(tc, test_hostile_scripts_stopped);
	tcase_add_test(tc, test_nul_in_commands);
	tcase_add_test(tc, test_task_cap);
	tcase_add_test(tc, test_reload_in_background);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_set_tags(tc, "speed");
	tcase_add_checked_fixture(tc, setup_limits, teardown_limits);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_compile_timeout_holds);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(api_jobs_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
