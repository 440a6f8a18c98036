/*
 * API tests for the worker protocol: registration, credentials, sign-on
 * and state, task hand-out in dependency order, task updates, failures
 * and the blocklist, timeouts, sign-off and image uploads, each checked
 * with the status codes and bodies the Flamenco Worker depends on.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "housekeeping.h"
#include "lastrendered.h"
#include "testimg.h"
#include "testutil.h"
#include "xmalloc.h"

static struct test_server ts;

static void
start(const char *conf)
{
	test_server_start(&ts, conf);
}

static void
setup(void)
{
	start(NULL);
}

static void
teardown(void)
{
	test_server_stop(&ts);
}

static long
call(const char *method, const char *path, const char *body,
    const struct test_worker *w, json_t **json_out)
{
	struct test_response r;
	long status;

	test_http(&ts, method, path, body, -1, w ? w->auth : NULL, &r);
	status = r.status;
	if (status == 204 || status == 202)
		ck_assert_msg(
		    strstr(r.content_type, "json") == NULL && r.body_len == 0,
		    "%s %s: %ld must have no JSON body", method, path, status);
	if (json_out != NULL)
		*json_out = r.body_len ? test_json(&r) : NULL;
	test_response_free(&r);
	return status;
}

/* Register, sign on and go awake, as the Flamenco Worker does. */
static void
worker_up(struct test_worker *w, const char *name, const char *platform,
    const char *types)
{
	char *body;
	json_t *j;

	test_worker_register(&ts, w, name, platform, types);
	body = xasprintf("{\"name\": \"%s\", \"supported_task_types\": [%s], "
	                 "\"software_version\": \"3.9\"}",
	    name, types);
	ck_assert_int_eq(
	    call("POST", "/api/v3/worker/sign-on", body, w, &j), 200);
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "status_requested")), "awake");
	json_decref(j);
	free(body);
	ck_assert_int_eq(call("POST", "/api/v3/worker/state-changed",
	                     "{\"status\": \"awake\"}", w, NULL),
	    204);
}

static char *
submit_echo(int repeats, int priority)
{
	char *body = xasprintf("{\"name\": \"echo\", \"type\": "
	                       "\"echo-sleep-test\", \"priority\": %d, "
	                       "\"submitter_platform\": \"linux\", "
	                       "\"settings\": {\"message\": \"hi\", "
	                       "\"sleep_duration_seconds\": 1, "
	                       "\"sleep_repeats\": %d}}",
	    priority, repeats);
	json_t *j;
	char *id;

	ck_assert_int_eq(call("POST", "/api/v3/jobs", body, NULL, &j), 200);
	id = xstrdup(json_string_value(json_object_get(j, "id")));
	json_decref(j);
	free(body);
	return id;
}

/* Ask for a task: returns its JSON (new) or NULL on 204. */
static json_t *
take(const struct test_worker *w)
{
	json_t *j = NULL;
	long s = call("POST", "/api/v3/worker/task", NULL, w, &j);

	if (s == 204)
		return NULL;
	ck_assert_msg(s == 200, "task request: %ld", s);
	return j;
}

static long
update(const struct test_worker *w, const char *task, const char *body)
{
	char *path = xasprintf("/api/v3/worker/task/%s", task);
	long s = call("POST", path, body, w, NULL);

	free(path);
	return s;
}

static char *
job_status(const char *job)
{
	char *path = xasprintf("/api/v3/jobs/%s", job);
	json_t *j;
	char *s;

	ck_assert_int_eq(call("GET", path, NULL, NULL, &j), 200);
	s = xstrdup(json_string_value(json_object_get(j, "status")));
	json_decref(j);
	free(path);
	return s;
}

START_TEST(test_register_validation)
{
	json_t *j;

	ck_assert_int_eq(
	    call("POST", "/api/v3/worker/register-worker", "{}", NULL, &j),
	    400);
	json_decref(j);
	ck_assert_int_eq(
	    call("POST", "/api/v3/worker/register-worker",
	        "{\"name\": \"w\", \"secret\": \"0123456789abcdef0\", "
	        "\"platform\": \"linux\", \"supported_task_types\": "
	        "\"misc\"}",
	        NULL, &j),
	    400);
	ck_assert_ptr_nonnull(
	    strstr(json_string_value(json_object_get(j, "message")),
	        "supported_task_types"));
	json_decref(j);
	ck_assert_int_eq(call("POST", "/api/v3/worker/register-worker",
	                     "not json", NULL, &j),
	    400);
	json_decref(j);
}
END_TEST

/* Worker names are 1 to 256 bytes, at registration and at sign-on. */
START_TEST(test_worker_name_limits)
{
	char name[258], *body;
	struct test_worker w;
	json_t *j;

	memset(name, 'w', 256);
	name[256] = '\0';
	test_worker_register(&ts, &w, name, "linux", "\"misc\"");
	body = xasprintf("{\"name\": \"%sX\", \"secret\": \"%s\", "
	                 "\"platform\": \"linux\", "
	                 "\"supported_task_types\": [\"misc\"]}",
	    name, w.secret);
	ck_assert_int_eq(
	    call("POST", "/api/v3/worker/register-worker", body, NULL, &j),
	    400);
	ck_assert_str_eq(json_string_value(json_object_get(j, "message")),
	    "\"name\" must be 1 to 256 bytes");
	json_decref(j);
	free(body);

	body = xasprintf("{\"name\": \"%s\", \"supported_task_types\": "
	                 "[\"misc\"], \"software_version\": \"3.9\"}",
	    name);
	ck_assert_int_eq(
	    call("POST", "/api/v3/worker/sign-on", body, &w, &j), 200);
	json_decref(j);
	free(body);
	body = xasprintf("{\"name\": \"%sX\", \"supported_task_types\": "
	                 "[\"misc\"], \"software_version\": \"3.9\"}",
	    name);
	ck_assert_int_eq(
	    call("POST", "/api/v3/worker/sign-on", body, &w, &j), 400);
	ck_assert_str_eq(json_string_value(json_object_get(j, "message")),
	    "\"name\" must be 1 to 256 bytes");
	json_decref(j);
	free(body);
	ck_assert_int_eq(call("POST", "/api/v3/worker/sign-on",
	                     "{\"name\": \"\", \"supported_task_types\": [], "
	                     "\"software_version\": \"3.9\"}",
	                     &w, &j),
	    400);
	json_decref(j);
}
END_TEST

START_TEST(test_auth_refused)
{
	struct test_worker w, bad;
	json_t *j;

	worker_up(&w, "auth", "linux", "\"misc\"");
	bad = w;
	bad.secret[0] = bad.secret[0] == 'a' ? 'b' : 'a';
	test_worker_auth(&bad);
	ck_assert_int_eq(
	    call("GET", "/api/v3/worker/state", NULL, &bad, &j), 403);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "code")), 403);
	json_decref(j);
	ck_assert_int_eq(
	    call("POST", "/api/v3/worker/task", NULL, NULL, &j), 403);
	json_decref(j);
	ck_assert_int_eq(
	    call("GET", "/api/v3/worker/state", NULL, &w, NULL), 204);
}
END_TEST

START_TEST(test_not_awake_gets_409)
{
	struct test_worker w;
	json_t *j;

	worker_up(&w, "sleepy", "linux", "\"misc\"");
	ck_assert_int_eq(call("POST", "/api/v3/worker/state-changed",
	                     "{\"status\": \"asleep\"}", &w, NULL),
	    204);
	ck_assert_int_eq(
	    call("POST", "/api/v3/worker/task", NULL, &w, &j), 409);
	ck_assert_ptr_nonnull(
	    strstr(json_string_value(json_object_get(j, "message")), "awake"));
	json_decref(j);
	ck_assert_int_eq(call("POST", "/api/v3/worker/state-changed",
	                     "{\"status\": \"bogus\"}", &w, &j),
	    400);
	json_decref(j);
}
END_TEST

START_TEST(test_job_runs_in_dependency_order)
{
	char *job = submit_echo(3, 50), *st;
	struct test_worker w;
	json_t *t;
	int n = 0;

	worker_up(&w, "runner", "linux", "\"misc\"");
	while ((t = take(&w)) != NULL) {
		const char *id = json_string_value(json_object_get(t, "uuid"));
		const char *name =
		    json_string_value(json_object_get(t, "name"));

		ck_assert_str_eq(name, n == 0 ? "echo" : "sleep");
		ck_assert_str_eq(
		    json_string_value(json_object_get(t, "status")), "active");
		ck_assert_str_eq(
		    json_string_value(json_object_get(t, "job")), job);
		/* Asking again returns the same task while it is active. */
		{
			json_t *again = take(&w);

			ck_assert_str_eq(
			    json_string_value(json_object_get(again, "uuid")),
			    id);
			json_decref(again);
		}
		ck_assert_int_eq(update(&w, id,
		                     "{\"activity\": \"Started\", "
		                     "\"taskStatus\": \"active\"}"),
		    204);
		ck_assert_int_eq(update(&w, id,
		                     "{\"log\": \"line one\\nline two\", "
		                     "\"steps_completed\": 99}"),
		    204);
		ck_assert_int_eq(update(&w, id,
		                     "{\"activity\": \"Completed\", "
		                     "\"taskStatus\": \"completed\"}"),
		    204);
		json_decref(t);
		n++;
		st = job_status(job);
		ck_assert_str_eq(st, n == 4 ? "completed" : "active");
		free(st);
	}
	ck_assert_int_eq(n, 4);
	free(job);
}
END_TEST

/* The job's steps: steps_completed and steps_total (new path). */
static void
job_steps(const char *job, json_int_t *done_out, json_int_t *total_out)
{
	char *path = xasprintf("/api/v3/jobs/%s", job);
	json_t *j;

	ck_assert_int_eq(call("GET", path, NULL, NULL, &j), 200);
	*done_out = json_integer_value(json_object_get(j, "steps_completed"));
	*total_out = json_integer_value(json_object_get(j, "steps_total"));
	json_decref(j);
	free(path);
}

/*
 * Every command is at least one step, as Flamenco counts: echo and sleep
 * carry no step count, so each task has 1 step (not 0: the Worker and a
 * progress bar would show 0/0), and the job the sum from the start.
 */
START_TEST(test_step_counts)
{
	char *job = submit_echo(2, 50), *path;
	struct test_worker w;
	json_int_t done, total;
	json_t *j, *t;
	size_t i;

	job_steps(job, &done, &total);
	ck_assert_int_eq(done, 0);
	ck_assert_int_eq(total, 3);
	path = xasprintf("/api/v3/jobs/%s/tasks", job);
	ck_assert_int_eq(call("GET", path, NULL, NULL, &j), 200);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "tasks")), 3);
	json_array_foreach (json_object_get(j, "tasks"), i, t)
		ck_assert_int_eq(
		    json_integer_value(json_object_get(t, "steps_total")), 1);
	json_decref(j);
	free(path);

	worker_up(&w, "counter", "linux", "\"misc\"");
	while ((t = take(&w)) != NULL) {
		const char *id = json_string_value(json_object_get(t, "uuid"));

		ck_assert_int_eq(
		    json_integer_value(json_object_get(t, "steps_total")), 1);
		ck_assert_int_eq(
		    json_integer_value(json_object_get(t, "steps_completed")),
		    0);
		/* What the Worker sends after a command without steps. */
		ck_assert_int_eq(update(&w, id,
		                     "{\"activity\": \"Progress\", "
		                     "\"steps_completed\": 1}"),
		    204);
		ck_assert_int_eq(update(&w, id,
		                     "{\"activity\": \"Completed\", "
		                     "\"taskStatus\": \"completed\"}"),
		    204);
		json_decref(t);
	}
	job_steps(job, &done, &total);
	ck_assert_int_eq(done, 3);
	ck_assert_int_eq(total, 3);
	free(job);
}
END_TEST

/* Render tasks count their frames, the preview video (no count) one. */
START_TEST(test_step_counts_blender)
{
	static const json_int_t want[] = { 3, 3, 3, 1, 1 };
	char *text = test_read_file(FM_SOURCE_DIR
	    "/tests/jobc/simple-blender-render/frames-1-10-chunk-3.in.json",
	    NULL);
	json_t *in, *j, *t;
	json_int_t done, total;
	char *body, *job, *path;
	size_t i;

	ck_assert_ptr_nonnull(text);
	in = json_loads(text, 0, NULL);
	ck_assert_ptr_nonnull(in);
	json_object_del(in, "created");
	body = json_dumps(in, 0);
	ck_assert_int_eq(call("POST", "/api/v3/jobs", body, NULL, &j), 200);
	job = xstrdup(json_string_value(json_object_get(j, "id")));
	json_decref(j);
	job_steps(job, &done, &total);
	ck_assert_int_eq(total, 11);
	path = xasprintf("/api/v3/jobs/%s/tasks", job);
	ck_assert_int_eq(call("GET", path, NULL, NULL, &j), 200);
	ck_assert_uint_eq(
	    json_array_size(json_object_get(j, "tasks")), nitems(want));
	json_array_foreach (json_object_get(j, "tasks"), i, t)
		ck_assert_int_eq(
		    json_integer_value(json_object_get(t, "steps_total")),
		    want[i]);
	json_decref(j);
	free(path);
	free(job);
	free(body);
	json_decref(in);
	free(text);
}
END_TEST

START_TEST(test_update_errors)
{
	char *job = submit_echo(1, 50);
	struct test_worker a, b;
	json_t *t, *j;
	const char *id;

	worker_up(&a, "a", "linux", "\"misc\"");
	worker_up(&b, "b", "linux", "\"misc\"");
	t = take(&a);
	id = json_string_value(json_object_get(t, "uuid"));
	/* Another worker's task: 409, the worker abandons it. */
	ck_assert_int_eq(update(&b, id, "{\"activity\": \"x\"}"), 409);
	ck_assert_int_eq(
	    update(&a, id, "{\"taskStatus\": \"soft-failed\"}"), 400);
	ck_assert_int_eq(update(&a, id, "{\"taskStatus\": \"bogus\"}"), 400);
	ck_assert_int_eq(update(&a, id, "{\"steps_completed\": \"x\"}"), 400);
	ck_assert_int_eq(update(&a, id, "{bad json"), 400);
	ck_assert_int_eq(update(&a, "not-a-uuid", "{}"), 400);
	ck_assert_int_eq(
	    update(&a, "0d9e6b2c-5e4e-4f6f-8c6f-0a6a7e1c2b3d", "{}"), 404);
	/* may-i-run as each side sees it. */
	{
		char *p = xasprintf("/api/v3/worker/task/%s/may-i-run", id);

		ck_assert_int_eq(call("GET", p, NULL, &a, &j), 200);
		ck_assert(json_is_true(json_object_get(j, "mayKeepRunning")));
		json_decref(j);
		ck_assert_int_eq(call("GET", p, NULL, &b, &j), 200);
		ck_assert(json_is_false(json_object_get(j, "mayKeepRunning")));
		ck_assert_str_eq(
		    json_string_value(json_object_get(j, "reason")),
		    "task not assigned to this worker");
		json_decref(j);
		free(p);
	}
	json_decref(t);
	free(job);
}
END_TEST

/* GET path as raw bytes (the body may hold NUL bytes). */
static struct test_response
get_raw(const char *path)
{
	struct test_response r;

	test_http(&ts, "GET", path, NULL, 0, NULL, &r);
	return r;
}

/*
 * Renders print odd bytes; the Worker's JSON encoder sends NUL as \u0000
 * and a 400 would abort its output reader. The log keeps the bytes, the
 * activity gets U+FFFD for each NUL, and every reader copes.
 */
START_TEST(test_update_with_nul)
{
	static const char want[] = "before\0after\nline 2\n";
	char *job = submit_echo(0, 50), *path;
	struct test_worker a;
	struct test_response r;
	const char *id;
	json_t *t, *j;

	worker_up(&a, "nul", "linux", "\"misc\"");
	t = take(&a);
	id = json_string_value(json_object_get(t, "uuid"));
	ck_assert_int_eq(update(&a, id,
	                     "{\"log\": \"before\\u0000after\\nline 2\", "
	                     "\"activity\": \"odd\\u0000byte\"}"),
	    204);

	path = xasprintf("/api/v3/tasks/%s", id);
	ck_assert_int_eq(call("GET", path, NULL, NULL, &j), 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "activity")),
	    "odd\xef\xbf\xbd"
	    "byte");
	json_decref(j);
	free(path);

	/* The log file, through job-files, holds the bytes as sent. */
	path = xasprintf("/api/v3/tasks/%s/log", id);
	ck_assert_int_eq(call("GET", path, NULL, NULL, &j), 200);
	free(path);
	r = get_raw(json_string_value(json_object_get(j, "url")));
	json_decref(j);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(
	    memmem(r.body, r.body_len, want, sizeof(want) - 1));
	test_response_free(&r);
	path = xasprintf("/api/v3/tasks/%s/logtail", id);
	r = get_raw(path);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(
	    memmem(r.body, r.body_len, want, sizeof(want) - 1));
	test_response_free(&r);
	free(path);

	/* Elsewhere a NUL would cut a name short: refused. */
	ck_assert_int_eq(call("POST", "/api/v3/worker/sign-on",
	                     "{\"name\": \"a\\u0000b\", "
	                     "\"supported_task_types\": [\"misc\"], "
	                     "\"software_version\": \"3.9\"}",
	                     &a, &j),
	    400);
	ck_assert_ptr_nonnull(
	    strstr(json_string_value(json_object_get(j, "message")), "NUL"));
	json_decref(j);
	ck_assert_int_eq(call("POST", "/api/v3/worker/sign-on",
	                     "{\"name\": \"ab\", "
	                     "\"supported_task_types\": [\"mi\\u0000sc\"], "
	                     "\"software_version\": \"3.9\"}",
	                     &a, &j),
	    400);
	json_decref(j);
	json_decref(t);
	free(job);
}
END_TEST

START_TEST(test_soft_fail_then_other_worker)
{
	char *job = submit_echo(0, 50), *st;
	struct test_worker a, b;
	json_t *t, *t2;
	char id[37];

	worker_up(&a, "fa", "linux", "\"misc\"");
	worker_up(&b, "fb", "linux", "\"misc\"");
	t = take(&a);
	snprintf(id, sizeof(id), "%s",
	    json_string_value(json_object_get(t, "uuid")));
	json_decref(t);
	ck_assert_int_eq(update(&a, id,
	                     "{\"activity\": \"Failed: boom\", \"log\": "
	                     "\"Failed: boom\", \"taskStatus\": \"failed\"}"),
	    204);
	/* Soft-failed: never again for a, but b may take it. */
	ck_assert_ptr_null(take(&a));
	t2 = take(&b);
	ck_assert_ptr_nonnull(t2);
	ck_assert_str_eq(json_string_value(json_object_get(t2, "uuid")), id);
	json_decref(t2);
	st = job_status(job);
	ck_assert_str_eq(st, "active");
	free(st);
	free(job);
}
END_TEST

START_TEST(test_hard_fail_fails_job)
{
	char *job = submit_echo(0, 50), *st;
	struct test_worker w[3];
	char id[37];

	for (int i = 0; i < 3; i++)
		worker_up(&w[i], "hf", "linux", "\"misc\"");
	for (int i = 0; i < 3; i++) {
		json_t *t = take(&w[i]);

		ck_assert_msg(t != NULL, "worker %d got no task", i);
		snprintf(id, sizeof(id), "%s",
		    json_string_value(json_object_get(t, "uuid")));
		json_decref(t);
		ck_assert_int_eq(
		    update(&w[i], id, "{\"taskStatus\": \"failed\"}"), 204);
	}
	/* Three workers failed the only task: hard failure, job failed. */
	st = job_status(job);
	ck_assert_str_eq(st, "failed");
	free(st);
	free(job);
}
END_TEST

START_TEST(test_sign_off_requeues)
{
	char *job = submit_echo(0, 50);
	struct test_worker a, b;
	json_t *t, *t2;

	worker_up(&a, "off", "linux", "\"misc\"");
	worker_up(&b, "on", "linux", "\"misc\"");
	t = take(&a);
	ck_assert_int_eq(
	    call("POST", "/api/v3/worker/sign-off", NULL, &a, NULL), 204);
	t2 = take(&b);
	ck_assert_ptr_nonnull(t2);
	ck_assert_str_eq(json_string_value(json_object_get(t2, "uuid")),
	    json_string_value(json_object_get(t, "uuid")));
	/* Signed off while awake: "awake" is kept as a request for the next
	 * sign-on, and asking for work now gets that request (423). */
	{
		json_t *j;

		ck_assert_int_eq(
		    call("POST", "/api/v3/worker/task", NULL, &a, &j), 423);
		ck_assert_str_eq(
		    json_string_value(json_object_get(j, "status_requested")),
		    "awake");
		json_decref(j);
	}
	json_decref(t);
	json_decref(t2);
	free(job);
}
END_TEST

START_TEST(test_variables_expanded_for_platform)
{
	static const char body[] =
	    "{\"name\": \"r\", \"type\": \"simple-blender-render\", "
	    "\"priority\": 50, \"submitter_platform\": \"linux\", "
	    "\"settings\": {\"frames\": \"1-2\", \"chunk_size\": 2, "
	    "\"render_output_root\": \"/r\", \"add_path_components\": 0, "
	    "\"render_output_path\": \"/r/x/######\", \"blendfile\": "
	    "\"/b/x.blend\", \"fps\": 24, \"format\": \"PNG\", "
	    "\"image_file_extension\": \".png\", \"has_previews\": false, "
	    "\"scene\": \"Scene\"}}";
	struct test_worker w;
	json_t *j, *t, *params;

	ck_assert_int_eq(call("POST", "/api/v3/jobs", body, NULL, &j), 200);
	json_decref(j);
	worker_up(&w, "win", "windows", "\"blender\", \"ffmpeg\"");
	t = take(&w);
	ck_assert_ptr_nonnull(t);
	params = json_object_get(
	    json_array_get(json_object_get(t, "commands"), 0), "parameters");
	ck_assert_str_eq(
	    json_string_value(json_object_get(params, "exe")), "blender.exe");
	ck_assert_str_eq(
	    json_string_value(json_object_get(params, "exeArgs")), "-b -y");
	json_decref(t);
}
END_TEST

START_TEST(test_output_produced)
{
	char *job = submit_echo(0, 50), *path, *file;
	struct test_response r;
	struct test_worker w;
	json_t *t;

	worker_up(&w, "img", "linux", "\"misc\"");
	t = take(&w);
	path = xasprintf("/api/v3/worker/task/%s/output-produced",
	    json_string_value(json_object_get(t, "uuid")));
	test_http(&ts, "POST", path, "", 0, w.auth, &r);
	test_assert_error(&r, 411, "Content-Length");
	test_response_free(&r);
	test_http(&ts, "POST", path, "\xff\xd8\xff\xe0 jpeg", -1, w.auth, &r);
	test_assert_error(&r, 415, "image/jpeg");
	test_response_free(&r);
	{
		char *hdr = xasprintf("%s\nContent-Type: image/jpeg", w.auth);
		unsigned char *rgb = testimg_pattern(64, 36), *jpeg;
		size_t len;

		/* Not a JPEG: refused from its header. */
		test_http(
		    &ts, "POST", path, "\xff\xd8\xff\xe0 jpeg", -1, hdr, &r);
		test_assert_error(&r, 400, "bad JPEG");
		test_response_free(&r);
		/* Queued for thumbnails (tests/check_api_lastrendered.c). */
		jpeg = testimg_jpeg(rgb, 64, 36, TESTIMG_RGB, false, &len);
		test_http(&ts, "POST", path, (char *)jpeg, (long)len, hdr, &r);
		ck_assert_int_eq(r.status, 202);
		ck_assert_int_eq(r.body_len, 0);
		test_response_free(&r);
		lastrendered_drain(ts.app->ctx.lastrendered);
		file = xasprintf("%s/storage/job-%.4s/%s/last-rendered.jpg",
		    ts.dir, job, job);
		ck_assert_int_eq(access(file, F_OK), 0);
		free(file);
		free(jpeg);
		free(rgb);
		/* Without credentials: refused before anything is kept. */
		test_http(&ts, "POST", path, "\xff\xd8", -1,
		    "Content-Type: image/jpeg", &r);
		ck_assert_int_eq(r.status, 403);
		test_response_free(&r);
		free(hdr);
	}
	json_decref(t);
	free(path);
	free(job);
}
END_TEST

/* Many workers at once: no task may ever be handed to two of them. */
struct race_arg {
	struct test_worker w;
	char (*got)[37];
	int ngot;
};

static void *
race_worker(void *p)
{
	struct race_arg *a = p;
	json_t *t;

	while ((t = take(&a->w)) != NULL) {
		const char *id = json_string_value(json_object_get(t, "uuid"));

		snprintf(a->got[a->ngot++], 37, "%s", id);
		ck_assert_int_eq(
		    update(&a->w, id, "{\"taskStatus\": \"completed\"}"), 204);
		json_decref(t);
	}
	return NULL;
}

START_TEST(test_no_double_assignment)
{
	enum {
		NW = 6,
		REPEATS = 40
	};
	struct race_arg args[NW];
	pthread_t th[NW];
	int total = 0;
	char *job = submit_echo(REPEATS, 50), *st;

	for (int i = 0; i < NW; i++) {
		worker_up(&args[i].w, "race", "linux", "\"misc\"");
		args[i].got = xcalloc(REPEATS + 1, 37);
		args[i].ngot = 0;
	}
	for (int i = 0; i < NW; i++)
		pthread_create(&th[i], NULL, race_worker, &args[i]);
	for (int i = 0; i < NW; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < NW; i++) {
		for (int k = 0; k < args[i].ngot; k++)
			for (int j = i; j < NW; j++)
				for (int m = (j == i ? k + 1 : 0);
				     m < args[j].ngot; m++)
					ck_assert_str_ne(
					    args[i].got[k], args[j].got[m]);
		total += args[i].ngot;
	}
	ck_assert_int_eq(total, REPEATS + 1);
	st = job_status(job);
	ck_assert_str_eq(st, "completed");
	free(st);
	for (int i = 0; i < NW; i++)
		free(args[i].got);
	free(job);
}
END_TEST

START_TEST(test_worker_timeout_requeues)
{
	char *job;
	struct test_worker a, b;
	json_t *t, *t2;

	test_server_stop(&ts);
	start("worker_timeout = 1s\ntimeout_check_interval = 200ms\n");
	job = submit_echo(0, 50);
	worker_up(&a, "gone", "linux", "\"misc\"");
	t = take(&a);
	sleep(2);
	ck_assert_int_eq(housekeeping_check_timeouts(&ts.app->ctx), FM_OK);
	worker_up(&b, "stays", "linux", "\"misc\"");
	t2 = take(&b);
	ck_assert_ptr_nonnull(t2);
	ck_assert_str_eq(json_string_value(json_object_get(t2, "uuid")),
	    json_string_value(json_object_get(t, "uuid")));
	json_decref(t);
	json_decref(t2);
	free(job);
}
END_TEST

START_TEST(test_task_timeout_fails)
{
	char *job, *st;
	struct test_worker a;
	json_t *t;

	test_server_stop(&ts);
	start("task_timeout = 1s\ntimeout_check_interval = 200ms\n");
	job = submit_echo(0, 50);
	worker_up(&a, "slow", "linux", "\"misc\"");
	t = take(&a);
	sleep(2);
	ck_assert_int_eq(housekeeping_check_timeouts(&ts.app->ctx), FM_OK);
	/* The only task failed: 100% failed tasks fails the job. */
	st = job_status(job);
	ck_assert_str_eq(st, "failed");
	free(st);
	json_decref(t);
	free(job);
}
END_TEST

/* Stop the Manager and start it again on the same database. */
static void
restart(void)
{
	char *err = NULL;

	app_stop(ts.app);
	if (app_start(ts.cfg, &ts.app, &err) != FM_OK)
		ck_abort_msg("app_start: %s", err);
	ts.port = app_port(ts.app);
}

/* The worker's status and pending request as the admin API shows them. */
static void
admin_worker(const struct test_worker *w, char **status_out,
    char **requested_out, int *lazy_out)
{
	char *path = xasprintf("/api/v3/worker-mgt/workers/%s", w->uuid);
	json_t *j, *change;

	ck_assert_int_eq(call("GET", path, NULL, NULL, &j), 200);
	*status_out = xstrdup(json_string_value(json_object_get(j, "status")));
	change = json_object_get(j, "status_change");
	*requested_out = xstrdup(
	    change ? json_string_value(json_object_get(change, "status")) : "");
	*lazy_out = json_is_true(json_object_get(change, "is_lazy"));
	json_decref(j);
	free(path);
}

START_TEST(test_timeout_grace)
{
	/* Five worker_timeouts, capped at Flamenco's five minutes. */
	ck_assert_int_eq(housekeeping_timeout_grace_us(ts.cfg), 300000000LL);
}
END_TEST

/*
 * A Manager restart while a worker idles: the worker's next request fails
 * and it waits about a minute before the next one. The first timeout
 * check must leave it alone for longer than worker_timeout, or the
 * healthy worker is declared dead and refused work.
 */
START_TEST(test_restart_keeps_idle_worker)
{
	char *job, *status, *requested;
	struct test_worker w;
	json_t *t;
	int lazy;

	test_server_stop(&ts);
	start("worker_timeout = 2s\ntimeout_check_interval = 200ms\n");
	ck_assert_int_eq(housekeeping_timeout_grace_us(ts.cfg), 10000000LL);
	job = submit_echo(0, 50);
	worker_up(&w, "idle", "linux", "\"misc\"");
	restart();
	/* Silent for more than twice worker_timeout after the restart. */
	sleep(5);
	t = take(&w);
	ck_assert_ptr_nonnull(t);
	admin_worker(&w, &status, &requested, &lazy);
	ck_assert_str_eq(status, "awake");
	ck_assert_str_eq(requested, "");
	free(status);
	free(requested);
	json_decref(t);
	free(job);
}
END_TEST

/*
 * A worker that timed out anyway recovers when it shows up again: its
 * task request gets 423 "awake", it acknowledges and gets work, no admin
 * needed.
 */
START_TEST(test_timed_out_worker_recovers)
{
	char *job, *status, *requested;
	struct test_worker w;
	json_t *t, *t2, *j;
	int lazy;

	test_server_stop(&ts);
	start("worker_timeout = 3s\ntimeout_check_interval = 200ms\n");
	job = submit_echo(0, 50);
	worker_up(&w, "back", "linux", "\"misc\"");
	t = take(&w);
	sleep(4);
	ck_assert_int_eq(housekeeping_check_timeouts(&ts.app->ctx), FM_OK);
	admin_worker(&w, &status, &requested, &lazy);
	ck_assert_str_eq(status, "error");
	ck_assert_str_eq(requested, "awake");
	ck_assert_int_eq(lazy, 0);
	free(status);
	free(requested);

	/* Back: the worker follows the 423 as the Flamenco Worker does. */
	ck_assert_int_eq(
	    call("POST", "/api/v3/worker/task", NULL, &w, &j), 423);
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "status_requested")), "awake");
	json_decref(j);
	ck_assert_int_eq(call("POST", "/api/v3/worker/state-changed",
	                     "{\"status\": \"awake\"}", &w, NULL),
	    204);
	t2 = take(&w);
	ck_assert_ptr_nonnull(t2);
	/* Its task was requeued by the timeout and comes back to it. */
	ck_assert_str_eq(json_string_value(json_object_get(t2, "uuid")),
	    json_string_value(json_object_get(t, "uuid")));
	admin_worker(&w, &status, &requested, &lazy);
	ck_assert_str_eq(status, "awake");
	ck_assert_str_eq(requested, "");
	free(status);
	free(requested);
	json_decref(t);
	json_decref(t2);
	free(job);
}
END_TEST

/* An asleep worker gets "asleep" back through GET /worker/state; an
 * admin's pending request survives the timeout. */
START_TEST(test_timed_out_worker_keeps_requests)
{
	char *path, *status, *requested;
	struct test_worker a, b;
	json_t *j;
	int lazy;

	test_server_stop(&ts);
	start("worker_timeout = 3s\ntimeout_check_interval = 200ms\n");
	worker_up(&a, "sleeper", "linux", "\"misc\"");
	ck_assert_int_eq(call("POST", "/api/v3/worker/state-changed",
	                     "{\"status\": \"asleep\"}", &a, NULL),
	    204);
	worker_up(&b, "drained", "linux", "\"misc\"");
	path = xasprintf("/api/v3/worker-mgt/workers/%s/setstatus", b.uuid);
	ck_assert_int_eq(
	    call("POST", path, "{\"status\": \"asleep\", \"is_lazy\": true}",
	        NULL, NULL),
	    204);
	free(path);
	sleep(4);
	ck_assert_int_eq(housekeeping_check_timeouts(&ts.app->ctx), FM_OK);

	ck_assert_int_eq(
	    call("GET", "/api/v3/worker/state", NULL, &a, &j), 200);
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "status_requested")),
	    "asleep");
	json_decref(j);
	ck_assert_int_eq(call("POST", "/api/v3/worker/state-changed",
	                     "{\"status\": \"asleep\"}", &a, NULL),
	    204);
	ck_assert_int_eq(
	    call("GET", "/api/v3/worker/state", NULL, &a, NULL), 204);

	admin_worker(&b, &status, &requested, &lazy);
	ck_assert_str_eq(status, "error");
	ck_assert_str_eq(requested, "asleep");
	ck_assert_int_eq(lazy, 1);
	free(status);
	free(requested);
	ck_assert_int_eq(
	    call("POST", "/api/v3/worker/task", NULL, &b, &j), 423);
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "status_requested")),
	    "asleep");
	json_decref(j);
}
END_TEST

static Suite *
worker_suite(void)
{
	Suite *s = suite_create("api_worker");
	TCase *tc = tcase_create("worker");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_register_validation);
	tcase_add_test(tc, test_worker_name_limits);
	tcase_add_test(tc, test_auth_refused);
	tcase_add_test(tc, test_not_awake_gets_409);
	tcase_add_test(tc, test_job_runs_in_dependency_order);
	tcase_add_test(tc, test_step_counts);
	tcase_add_test(tc, test_step_counts_blender);
	tcase_add_test(tc, test_update_errors);
	tcase_add_test(tc, test_update_with_nul);
	tcase_add_test(tc, test_soft_fail_then_other_worker);
	tcase_add_test(tc, test_hard_fail_fails_job);
	tcase_add_test(tc, test_sign_off_requeues);
	tcase_add_test(tc, test_variables_expanded_for_platform);
	tcase_add_test(tc, test_output_produced);
	tcase_add_test(tc, test_no_double_assignment);
	tcase_add_test(tc, test_worker_timeout_requeues);
	tcase_add_test(tc, test_task_timeout_fails);
	tcase_add_test(tc, test_timeout_grace);
	tcase_add_test(tc, test_restart_keeps_idle_worker);
	tcase_add_test(tc, test_timed_out_worker_recovers);
	tcase_add_test(tc, test_timed_out_worker_keeps_requests);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(worker_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
