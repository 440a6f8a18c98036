/*
 * API tests for OpenJD job templates as job types: the real server with
 * tests/fixtures/openjd as scripts_path. Template types are listed with
 * the settings their parameters become; submissions store the tasks,
 * exec commands and step dependencies the template describes and write
 * embedded files to shared storage; bad submissions are 400s that store
 * nothing; a job runs to completion with a worker taking "exec" tasks;
 * tasks made for a worker go to that worker only.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "testutil.h"
#include "xmalloc.h"

#define FIXTURES FM_SOURCE_DIR "/tests/fixtures/openjd"
#define MGT      "/api/v3/worker-mgt"

static struct test_server ts;

static void
setup(void)
{
	char *conf =
	    xasprintf("scripts_path = %s\nmax_tasks_per_job = 500\n", FIXTURES);

	test_server_start(&ts, conf);
	free(conf);
}

static void
teardown(void)
{
	test_server_stop(&ts);
}

/* method path [body] -> parsed body (NULL when empty); status checked. */
static json_t *
call(const char *method, const char *path, const char *body, const char *auth,
    long want)
{
	struct test_response r;
	json_t *v = NULL;

	test_http(&ts, method, path, body, -1, auth, &r);
	ck_assert_msg(
	    r.status == want, "%s %s: %ld %s", method, path, r.status, r.body);
	if (r.body_len > 0)
		v = test_json(&r);
	test_response_free(&r);
	return v;
}

/* call() on the path pre + id + post. */
static json_t *
callf(const char *method, const char *body, const char *auth, long want,
    const char *pre, const char *id, const char *post)
{
	char *path = xasprintf("%s%s%s", pre, id, post);
	json_t *v = call(method, path, body, auth, want);

	free(path);
	return v;
}

static char *
job_body(const char *type, const char *name, const char *settings)
{
	return xasprintf("{\"name\": \"%s\", \"type\": \"%s\", \"priority\": "
	                 "50, \"submitter_platform\": \"linux\", "
	                 "\"settings\": %s}",
	    name, type, settings);
}

static json_t *
type_info(const json_t *types, const char *name)
{
	size_t i;
	json_t *t;

	json_array_foreach (json_object_get(types, "job_types"), i, t)
		if (strcmp(json_string_value(json_object_get(t, "name")),
		        name) == 0)
			return t;
	return NULL;
}

START_TEST(test_types_listed)
{
	json_t *types = call("GET", "/api/v3/jobs/types", NULL, NULL, 200);
	json_t *rf = type_info(types, "render-frames"), *one, *s;

	ck_assert_ptr_nonnull(rf);
	ck_assert_ptr_nonnull(type_info(types, "wedge"));
	ck_assert_ptr_nonnull(type_info(types, "shots"));
	ck_assert_ptr_nonnull(type_info(types, "workers"));
	/* The built-in JavaScript types stay; plain data is no type. */
	ck_assert_ptr_nonnull(type_info(types, "simple-blender-render"));
	ck_assert_ptr_nonnull(type_info(types, "openjd-blender-frames"));
	ck_assert_ptr_null(type_info(types, "not-a-template"));
	/* Broken templates are left out (and logged, like broken scripts). */
	ck_assert_ptr_null(type_info(types, "broken-cycle"));
	ck_assert_ptr_null(type_info(types, "broken-version"));
	ck_assert_str_eq(
	    json_string_value(json_object_get(rf, "label")), "Render frames");
	ck_assert_uint_eq(json_string_length(json_object_get(rf, "etag")), 40);
	s = json_array_get(json_object_get(rf, "settings"), 2);
	ck_assert_str_eq(json_string_value(json_object_get(s, "key")), "Fps");
	ck_assert_str_eq(
	    json_string_value(json_object_get(s, "type")), "int32");
	ck_assert_int_eq(json_integer_value(json_object_get(s, "default")), 24);
	ck_assert_int_eq(json_integer_value(json_object_get(
	                     json_object_get(s, "propargs"), "max")),
	    120);
	one = call("GET", "/api/v3/jobs/type/render-frames", NULL, NULL, 200);
	ck_assert(json_equal(one, rf));
	json_decref(one);
	json_decref(types);
}
END_TEST

static json_t *
job_tasks(const char *job_id)
{
	return callf("GET", NULL, NULL, 200, "/api/v3/jobs/", job_id, "/tasks");
}

/* Where {jobs} points: the Manager's storage location (new). */
static char *
storage_location(void)
{
	json_t *conf = call("GET",
	    "/api/v3/configuration/variables/workers/linux", NULL, NULL, 200);
	char *loc = xstrdup(json_string_value(
	    json_object_get(json_object_get(conf, "jobs"), "value")));

	json_decref(conf);
	return loc;
}

START_TEST(test_submit_stores_tasks_and_files)
{
	char *storage = storage_location();
	char *body = job_body("render-frames", "rf",
	    "{\"BlendFile\": \"/shared/a.blend\", \"Frames\": \"1-3\"}");
	json_t *job = call("POST", "/api/v3/jobs", body, NULL, 200);
	const char *id = json_string_value(json_object_get(job, "id"));
	json_t *tasks = job_tasks(id), *list = json_object_get(tasks, "tasks");
	json_t *task, *params;
	char *path, *text;
	struct stat st;

	ck_assert_str_eq(
	    json_string_value(json_object_get(job, "type")), "render-frames");
	ck_assert_uint_eq(json_array_size(list), 4);
	task = callf("GET", NULL, NULL, 200, "/api/v3/tasks/",
	    json_string_value(json_object_get(json_array_get(list, 3), "id")),
	    "");
	ck_assert_str_eq(
	    json_string_value(json_object_get(task, "name")), "encode");
	ck_assert_uint_eq(
	    json_array_size(json_object_get(task, "dependencies")), 3);
	params = json_object_get(
	    json_array_get(json_object_get(task, "commands"), 0), "parameters");
	ck_assert_str_eq(
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(task, "commands"), 0), "name")),
	    "exec");
	ck_assert_str_eq(
	    json_string_value(json_object_get(params, "exe")), "bash");
	json_decref(task);

	/* The embedded file is on shared storage ({jobs}), runnable. */
	path = xasprintf("%s/openjd/%s/1/encode.sh", storage, id);
	text = test_read_file(path, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(strstr(text, "encode /shared/a.blend at 24 fps"));
	/* Variables in files are expanded when written: no hand-out. */
	ck_assert_ptr_null(strstr(text, "{jobs}"));
	{
		char *wd = xasprintf("cd \"%s/openjd/%s\"", storage, id);

		ck_assert_msg(
		    strstr(text, wd) != NULL, "%s lacks %s", text, wd);
		free(wd);
	}
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(st.st_mode & S_IXUSR);
	free(text);
	free(path);

	/* Deleting the job removes its files too. */
	ck_assert_ptr_null(
	    callf("DELETE", NULL, NULL, 204, "/api/v3/jobs/", id, ""));
	path = xasprintf("%s/openjd/%s", storage, id);
	for (int i = 0; i < 200 && stat(path, &st) == 0; i++)
		usleep(50 * 1000);
	ck_assert_int_ne(stat(path, &st), 0);
	free(path);
	free(storage);
	json_decref(tasks);
	json_decref(job);
	free(body);
}
END_TEST

START_TEST(test_explain_and_check)
{
	char *body = job_body("wedge", "w", "{\"Count\": 3}");
	json_t *ex = call("POST", "/api/v3/jobs/explain", body, NULL, 200);
	json_t *jobs;

	ck_assert_int_eq(
	    json_integer_value(json_object_get(ex, "task_count")), 6);
	ck_assert_str_eq(
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(ex, "tasks"), 0), "name")),
	    "wedge Size=1, Factor=0.5, Look=warm");
	json_decref(ex);
	ck_assert_ptr_null(call("POST", "/api/v3/jobs/check", body, NULL, 204));
	free(body);
	/* Neither stored anything. */
	jobs = call("GET", "/api/v3/jobs", NULL, NULL, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(jobs, "jobs")), 0);
	json_decref(jobs);
}
END_TEST

START_TEST(test_bad_submissions)
{
	static const struct {
		const char *type, *settings, *needle;
	} cases[] = {
		{ "render-frames", "{}",
		    "parameter \"BlendFile\" has no value and no default" },
		{ "render-frames", "{\"BlendFile\": \"a\", \"Fps\": 500}",
		    "parameter \"Fps\": 500 is out of range" },
		{ "render-frames", "{\"BlendFile\": \"a\", \"Fps\": \"many\"}",
		    "parameter \"Fps\": must be an integer" },
		{ "render-frames",
		    "{\"BlendFile\": \"a\", \"Format\": \"BMP\"}",
		    "parameter \"Format\": \"BMP\" is not one of the allowed" },
		{ "render-frames", "{\"BlendFile\": \"a\", \"Frames\": \"1-\"}",
		    "range expression \"1-\" is malformed at offset 2" },
		{ "render-frames",
		    "{\"BlendFile\": \"a\", \"Frames\": \"1-3,2\"}",
		    "ranges overlap" },
		{ "render-frames",
		    "{\"BlendFile\": \"a\", \"Frames\": \"1-100000000\"}",
		    "more than 500 tasks (max_tasks_per_job)" },
		{ "wedge", "{\"Count\": 4}", "the zipped parts have 4 and 3" },
		{ "shots", "{\"shots\": \"s1\"}",
		    "setting \"shots\" must be a list of records" },
	};
	struct test_response r;
	json_t *jobs;

	for (size_t i = 0; i < nitems(cases); i++) {
		char *body = job_body(cases[i].type, "bad", cases[i].settings);

		test_http(&ts, "POST", "/api/v3/jobs", body, -1, NULL, &r);
		test_assert_error(&r, 400, cases[i].needle);
		test_response_free(&r);
		test_http(
		    &ts, "POST", "/api/v3/jobs/explain", body, -1, NULL, &r);
		test_assert_error(&r, 400, cases[i].needle);
		test_response_free(&r);
		free(body);
	}
	jobs = call("GET", "/api/v3/jobs", NULL, NULL, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(jobs, "jobs")), 0);
	json_decref(jobs);
}
END_TEST

/* A signed-on, awake worker. */
static void
worker_up(struct test_worker *w, const char *name, const char *platform)
{
	char *body;

	test_worker_register(&ts, w, name, platform, "\"misc\"");
	body = xasprintf("{\"name\": \"%s\", \"supported_task_types\": "
	                 "[\"misc\"], \"software_version\": \"3.9\"}",
	    name);
	json_decref(call("POST", "/api/v3/worker/sign-on", body, w->auth, 200));
	free(body);
	ck_assert_ptr_null(call("POST", "/api/v3/worker/state-changed",
	    "{\"status\": \"awake\"}", w->auth, 204));
}

/* The next task for w (NULL when there is none). */
static json_t *
take(const struct test_worker *w)
{
	struct test_response r;
	json_t *t = NULL;

	test_http(&ts, "POST", "/api/v3/worker/task", NULL, 0, w->auth, &r);
	ck_assert_msg(
	    r.status == 200 || r.status == 204, "%ld %s", r.status, r.body);
	if (r.status == 200)
		t = test_json(&r);
	test_response_free(&r);
	return t;
}

/* A signed-on, awake worker running only the task types in types. */
static void
worker_up_types(struct test_worker *w, const char *name, const char *types)
{
	char *body;

	test_worker_register(&ts, w, name, "linux", types);
	body = xasprintf("{\"name\": \"%s\", \"supported_task_types\": "
	                 "[%s], \"software_version\": \"3.9\"}",
	    name, types);
	json_decref(call("POST", "/api/v3/worker/sign-on", body, w->auth, 200));
	free(body);
	ck_assert_ptr_null(call("POST", "/api/v3/worker/state-changed",
	    "{\"status\": \"awake\"}", w->auth, 204));
}

static void
fail_task(const struct test_worker *w, const json_t *task)
{
	ck_assert_ptr_null(callf("POST", "{\"taskStatus\": \"failed\"}",
	    w->auth, 204, "/api/v3/worker/task/",
	    json_string_value(json_object_get(task, "uuid")), ""));
}

static void
complete(const struct test_worker *w, const json_t *task)
{
	ck_assert_ptr_null(callf("POST", "{\"taskStatus\": \"completed\"}",
	    w->auth, 204, "/api/v3/worker/task/",
	    json_string_value(json_object_get(task, "uuid")), ""));
}

START_TEST(test_runs_to_completion)
{
	char *body = job_body("render-frames", "run",
	    "{\"BlendFile\": \"{jobs}/a.blend\", \"Frames\": \"1-4\"}");
	json_t *job = call("POST", "/api/v3/jobs", body, NULL, 200), *t;
	const char *id = json_string_value(json_object_get(job, "id"));
	struct test_worker w;
	int rendered = 0;

	worker_up(&w, "w1", "linux");
	while ((t = take(&w)) != NULL) {
		json_t *cmd = json_array_get(json_object_get(t, "commands"), 0);
		json_t *params = json_object_get(cmd, "parameters");
		const char *exe =
		    json_string_value(json_object_get(params, "exe"));
		const char *first = json_string_value(
		    json_array_get(json_object_get(params, "args"), 0));

		ck_assert_str_eq(
		    json_string_value(json_object_get(cmd, "name")), "exec");
		if (strcmp(exe, "blender") == 0) {
			rendered++;
			/* {jobs} is expanded at hand-out. */
			ck_assert_ptr_null(
			    strstr(json_string_value(json_array_get(
			               json_object_get(params, "args"), 1)),
			        "{jobs}"));
		} else {
			/* The encode waits for every frame. */
			ck_assert_str_eq(exe, "bash");
			ck_assert_int_eq(rendered, 4);
			ck_assert_ptr_nonnull(strstr(first, "/openjd/"));
			ck_assert_ptr_null(strstr(first, "{jobs}"));
		}
		complete(&w, t);
		json_decref(t);
	}
	ck_assert_int_eq(rendered, 4);
	t = job;
	job = callf("GET", NULL, NULL, 200, "/api/v3/jobs/", id, "");
	ck_assert_str_eq(
	    json_string_value(json_object_get(job, "status")), "completed");
	json_decref(job);
	json_decref(t);
	free(body);
}
END_TEST

static char *
create_tag(const char *name)
{
	char *body = xasprintf("{\"name\": \"%s\"}", name);
	json_t *tag = call("POST", MGT "/tags", body, NULL, 200);
	char *id = xstrdup(json_string_value(json_object_get(tag, "id")));

	json_decref(tag);
	free(body);
	return id;
}

START_TEST(test_worker_pinned_tasks)
{
	struct test_worker gpu1, plain, win, gpu2;
	char *tag = create_tag("gpu"), *body;
	json_t *job, *tasks, *t;
	size_t i;

	worker_up(&gpu1, "gpu1", "linux");
	worker_up(&plain, "plain", "linux");
	worker_up(&win, "win", "windows");
	worker_up(&gpu2, "gpu2", "linux");
	body = xasprintf("{\"tag_ids\": [\"%s\"]}", tag);
	ck_assert_ptr_null(callf(
	    "POST", body, NULL, 204, MGT "/workers/", gpu1.uuid, "/settags"));
	ck_assert_ptr_null(callf(
	    "POST", body, NULL, 204, MGT "/workers/", win.uuid, "/settags"));
	ck_assert_ptr_null(callf(
	    "POST", body, NULL, 204, MGT "/workers/", gpu2.uuid, "/settags"));
	free(body);
	/* Linux workers tagged gpu: gpu1 and gpu2, one task each. */
	body = job_body("workers", "clear", "{}");
	job = call("POST", "/api/v3/jobs", body, NULL, 200);
	free(body);
	tasks = job_tasks(json_string_value(json_object_get(job, "id")));
	ck_assert_uint_eq(json_array_size(json_object_get(tasks, "tasks")), 2);
	json_array_foreach (json_object_get(tasks, "tasks"), i, t)
		ck_assert_str_eq(json_string_value(json_object_get(t, "name")),
		    i == 0 ? "clear gpu1" : "clear gpu2");
	json_decref(tasks);
	/* Explaining the same job names each task's worker. */
	body = job_body("workers", "clear", "{}");
	tasks = call("POST", "/api/v3/jobs/explain", body, NULL, 200);
	free(body);
	ck_assert_str_eq(
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(tasks, "tasks"), 0), "worker")),
	    gpu1.uuid);
	json_decref(tasks);
	/* Nobody else gets them; each pinned worker gets its own. */
	ck_assert_ptr_null(take(&plain));
	ck_assert_ptr_null(take(&win));
	t = take(&gpu2);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(
	    json_string_value(json_object_get(t, "name")), "clear gpu2");
	ck_assert_str_eq(
	    json_string_value(json_array_get(
	        json_object_get(
	            json_object_get(
	                json_array_get(json_object_get(t, "commands"), 0),
	                "parameters"),
	            "args"),
	        1)),
	    "/tmp/cache-gpu2");
	complete(&gpu2, t);
	json_decref(t);
	ck_assert_ptr_null(take(&gpu2));
	ck_assert_ptr_null(take(&plain));
	t = take(&gpu1);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(
	    json_string_value(json_object_get(t, "name")), "clear gpu1");
	complete(&gpu1, t);
	json_decref(t);
	t = callf("GET", NULL, NULL, 200, "/api/v3/jobs/",
	    json_string_value(json_object_get(job, "id")), "");
	ck_assert_str_eq(
	    json_string_value(json_object_get(t, "status")), "completed");
	json_decref(t);
	json_decref(job);
	free(tag);
}
END_TEST

START_TEST(test_pinned_and_shared_tasks_mix)
{
	/* A shared job first: the pinned one must not hide it, nor the
	 * other way round. */
	struct test_worker a, b;
	char *tag = create_tag("gpu"), *body;
	json_t *shared, *pinned, *t;

	worker_up(&a, "a", "linux");
	worker_up(&b, "b", "linux");
	body = xasprintf("{\"tag_ids\": [\"%s\"]}", tag);
	ck_assert_ptr_null(callf(
	    "POST", body, NULL, 204, MGT "/workers/", a.uuid, "/settags"));
	free(body);
	body = job_body("workers", "pin", "{}");
	pinned = call("POST", "/api/v3/jobs", body, NULL, 200);
	free(body);
	body = job_body("wedge", "shared", "{\"Count\": 3}");
	shared = call("POST", "/api/v3/jobs", body, NULL, 200);
	free(body);
	/* b is not tagged: it skips the pinned job and gets wedge tasks. */
	t = take(&b);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(json_string_value(json_object_get(t, "job")),
	    json_string_value(json_object_get(shared, "id")));
	json_decref(t);
	t = take(&a);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(json_string_value(json_object_get(t, "job")),
	    json_string_value(json_object_get(pinned, "id")));
	json_decref(t);
	json_decref(pinned);
	json_decref(shared);
	free(tag);
}
END_TEST

/* The status of job id's task number i, and of the job. */
static void
statuses_are(const char *id, size_t i, const char *task, const char *job)
{
	json_t *tasks = job_tasks(id), *j;

	ck_assert_str_eq(
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(tasks, "tasks"), i), "status")),
	    task);
	json_decref(tasks);
	j = callf("GET", NULL, NULL, 200, "/api/v3/jobs/", id, "");
	ck_assert_str_eq(json_string_value(json_object_get(j, "status")), job);
	json_decref(j);
}

static void
tag_worker(const char *tags_json, const struct test_worker *w)
{
	char *body = xasprintf("{\"tag_ids\": [%s]}", tags_json);

	ck_assert_ptr_null(callf(
	    "POST", body, NULL, 204, MGT "/workers/", w->uuid, "/settags"));
	free(body);
}

/* Its only worker failing a pinned task is final, however many other
 * workers there are: the task fails and the job follows the usual
 * failed-task rule, instead of waiting soft-failed forever. */
START_TEST(test_pinned_task_failure_is_final)
{
	struct test_worker a, b;
	char *tag = create_tag("gpu"), *body, *tags;
	json_t *job, *t;
	const char *id;

	worker_up(&a, "a", "linux");
	worker_up(&b, "b", "linux");
	tags = xasprintf("\"%s\"", tag);
	tag_worker(tags, &a);
	body = job_body("workers", "pin", "{}");
	job = call("POST", "/api/v3/jobs", body, NULL, 200);
	free(body);
	id = json_string_value(json_object_get(job, "id"));
	t = take(&a);
	ck_assert_ptr_nonnull(t);
	fail_task(&a, t);
	json_decref(t);
	statuses_are(id, 0, "failed", "failed");
	ck_assert_ptr_null(take(&b));
	json_decref(job);
	free(tags);
	free(tag);
}
END_TEST

/* A worker blocklisted for the job's task type can never run the tasks
 * pinned to it: they fail with it. */
START_TEST(test_pinned_tasks_of_blocklisted_worker_fail)
{
	char *conf = xasprintf("scripts_path = %s\nmax_tasks_per_job = 500\n"
	                       "blocklist_threshold = 1\n",
	    FIXTURES);
	struct test_worker a, b;
	char *tag, *body, *tags;
	json_t *job, *t;
	const char *id;

	test_server_stop(&ts);
	test_server_start(&ts, conf);
	free(conf);
	tag = create_tag("gpu");
	worker_up(&a, "a", "linux");
	worker_up(&b, "b", "linux");
	tags = xasprintf("\"%s\"", tag);
	tag_worker(tags, &a);
	body = job_body("prepare-clear", "pc", "{}");
	job = call("POST", "/api/v3/jobs", body, NULL, 200);
	free(body);
	id = json_string_value(json_object_get(job, "id"));
	/* a fails the shared task: blocklisted from "misc" in this job. */
	t = take(&a);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(
	    json_string_value(json_object_get(t, "name")), "prepare");
	fail_task(&a, t);
	json_decref(t);
	statuses_are(id, 1, "failed", "failed");
	json_decref(job);
	free(tags);
	free(tag);
}
END_TEST

/* Job id's task called name (a new reference). */
static json_t *
task_named(const char *id, const char *name)
{
	json_t *tasks = job_tasks(id), *t, *found = NULL;
	size_t i;

	json_array_foreach (json_object_get(tasks, "tasks"), i, t)
		if (strcmp(json_string_value(json_object_get(t, "name")),
		        name) == 0)
			found = json_incref(t);
	json_decref(tasks);
	ck_assert_msg(found != NULL, "job %s has no task %s", id, name);
	return found;
}

/* The task is failed, saying its worker was deleted. */
static void
failed_as_deleted(const char *id, const char *name)
{
	json_t *s = task_named(id, name), *t;
	const char *activity;

	t = callf("GET", NULL, NULL, 200, "/api/v3/tasks/",
	    json_string_value(json_object_get(s, "id")), "");
	ck_assert_str_eq(
	    json_string_value(json_object_get(t, "status")), "failed");
	activity = json_string_value(json_object_get(t, "activity"));
	ck_assert_ptr_nonnull(activity);
	ck_assert_ptr_nonnull(strstr(activity, "which was deleted"));
	json_decref(t);
	json_decref(s);
}

static const char *
job_status_of(const char *id)
{
	static char status[32];
	json_t *j = callf("GET", NULL, NULL, 200, "/api/v3/jobs/", id, "");

	snprintf(status, sizeof(status), "%s",
	    json_string_value(json_object_get(j, "status")));
	json_decref(j);
	return status;
}

/* A deleted worker can never run the tasks pinned to it: deleting it
 * fails them (the one it was running, a queued one and one still held
 * back by a dependency), so their jobs follow the failed-task rule
 * instead of waiting forever. Other jobs are left alone. */
START_TEST(test_pinned_tasks_of_deleted_worker_fail)
{
	struct test_worker a, b;
	char *tag = create_tag("gpu"), *body, *tags;
	json_t *p1, *up, *p2, *t;
	const char *id1, *id2, *up_id;

	worker_up(&a, "a", "linux");
	worker_up(&b, "b", "linux");
	tags = xasprintf("\"%s\"", tag);
	tag_worker(tags, &a);
	tag_worker(tags, &b);
	body = job_body("workers", "p1", "{}");
	p1 = call("POST", "/api/v3/jobs", body, NULL, 200);
	free(body);
	id1 = json_string_value(json_object_get(p1, "id"));
	body = job_body("wedge", "up", "{\"Count\": 3}");
	up = call("POST", "/api/v3/jobs", body, NULL, 200);
	free(body);
	up_id = json_string_value(json_object_get(up, "id"));
	/* In p2 only a's task waits for "up". */
	body = xasprintf("{\"name\": \"p2\", \"type\": \"workers\", "
	                 "\"priority\": 50, \"submitter_platform\": "
	                 "\"linux\", \"settings\": {}, "
	                 "\"dependency_mode\": \"overlap\", \"depends_on\": "
	                 "[{\"job\": \"%s\", \"waiting\": {\"name\": "
	                 "\"clear a\"}}]}",
	    up_id);
	p2 = call("POST", "/api/v3/jobs", body, NULL, 200);
	free(body);
	id2 = json_string_value(json_object_get(p2, "id"));
	t = take(&a);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(json_string_value(json_object_get(t, "job")), id1);
	json_decref(t);

	ck_assert_ptr_null(
	    callf("DELETE", NULL, NULL, 204, MGT "/workers/", a.uuid, ""));
	failed_as_deleted(id1, "clear a");
	failed_as_deleted(id2, "clear a");
	ck_assert_str_eq(job_status_of(id1), "failed");
	ck_assert_str_eq(job_status_of(id2), "failed");
	ck_assert_str_eq(job_status_of(up_id), "queued");
	/* b's own tasks went with their failed jobs; "up" is still run. */
	t = take(&b);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(json_string_value(json_object_get(t, "job")), up_id);
	json_decref(t);
	json_decref(p1);
	json_decref(p2);
	json_decref(up);
	free(tags);
	free(tag);
}
END_TEST

/* Workers resources select only workers that may run the job: in its
 * worker tag, supporting the task type the commands get. */
START_TEST(test_pinned_workers_fit_the_job)
{
	struct test_worker a, b, c;
	char *gpu = create_tag("gpu"), *farm = create_tag("farm"), *body;
	char *tags;
	json_t *job, *tasks;

	worker_up(&a, "a", "linux");
	worker_up_types(&b, "b", "\"blender\"");
	worker_up(&c, "c", "linux");
	tags = xasprintf("\"%s\"", gpu);
	tag_worker(tags, &a);
	tag_worker(tags, &b);
	free(tags);
	tags = xasprintf("\"%s\", \"%s\"", gpu, farm);
	tag_worker(tags, &c);
	free(tags);
	/* b cannot run "misc" tasks. */
	body = job_body("workers", "all", "{}");
	tasks = call("POST", "/api/v3/jobs/explain", body, NULL, 200);
	free(body);
	ck_assert_uint_eq(json_array_size(json_object_get(tasks, "tasks")), 2);
	ck_assert_str_eq(
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(tasks, "tasks"), 0), "worker")),
	    a.uuid);
	json_decref(tasks);
	/* A job for the farm tag: only c. */
	body = xasprintf("{\"name\": \"farm\", \"type\": \"workers\", "
	                 "\"priority\": 50, \"submitter_platform\": \"linux\", "
	                 "\"worker_tag\": \"%s\", \"settings\": {}}",
	    farm);
	job = call("POST", "/api/v3/jobs", body, NULL, 200);
	free(body);
	tasks = job_tasks(json_string_value(json_object_get(job, "id")));
	ck_assert_uint_eq(json_array_size(json_object_get(tasks, "tasks")), 1);
	ck_assert_str_eq(
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(tasks, "tasks"), 0), "name")),
	    "clear c");
	json_decref(tasks);
	json_decref(job);
	free(gpu);
	free(farm);
}
END_TEST

/* With Shaman on, template files live in the checkout area ({jobs}):
 * Shaman refuses checkouts in their folder, so neither can clobber or
 * delete the other's files. */
START_TEST(test_shaman_leaves_openjd_folder_alone)
{
	static const char *const taken[] = { "openjd", "openjd/x",
		"OpenJD/0f8fad5b-d9cb-469f-a165-70867728950e/x" };
	json_t *j;

	for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
		char *body = xasprintf(
		    "{\"files\": [], \"checkoutPath\": \"%s\"}", taken[i]);

		j = call(
		    "POST", "/api/v3/shaman/checkout/create", body, NULL, 400);
		ck_assert_msg(
		    strstr(json_string_value(json_object_get(j, "message")),
		        "openjd") != NULL,
		    "%s", taken[i]);
		json_decref(j);
		free(body);
	}
	j = call("POST", "/api/v3/shaman/checkout/create",
	    "{\"files\": [], \"checkoutPath\": \"openjd-renders/a\"}", NULL,
	    200);
	json_decref(j);
}
END_TEST

/* PATH values get two-way variable replacement whether submitted, left
 * at their default or given as task parameter values: a Windows worker
 * sees its own prefix; RawParam keeps the text as written. */
START_TEST(test_path_values_mapped)
{
	char *conf = xasprintf("scripts_path = %s\nmax_tasks_per_job = 500\n"
	                       "variables.farm.is_twoway = true\n"
	                       "variables.farm.linux = /mnt/farm\n"
	                       "variables.farm.darwin = /Volumes/farm\n"
	                       "variables.farm.windows = W:/farm\n",
	    FIXTURES);
	struct test_worker win;
	char *body;
	json_t *job, *t, *args;

	test_server_stop(&ts);
	test_server_start(&ts, conf);
	free(conf);
	worker_up(&win, "win", "windows");
	/* Written for a Mac: the Manager's own (Linux) prefix would be
	 * mapped at hand-out anyway, a Mac one only when replaced now. */
	body = xasprintf("{\"name\": \"p\", \"type\": \"paths\", "
	                 "\"priority\": 50, \"submitter_platform\": "
	                 "\"darwin\", \"settings\": {}}");
	job = call("POST", "/api/v3/jobs", body, NULL, 200);
	free(body);
	t = take(&win);
	ck_assert_ptr_nonnull(t);
	args = json_object_get(
	    json_object_get(json_array_get(json_object_get(t, "commands"), 0),
	        "parameters"),
	    "args");
	ck_assert_str_eq(
	    json_string_value(json_array_get(args, 0)), "W:\\farm\\a.blend");
	ck_assert_str_eq(json_string_value(json_array_get(args, 1)),
	    "/Volumes/farm/a.blend");
	ck_assert_str_eq(
	    json_string_value(json_array_get(args, 2)), "W:\\farm\\out");
	ck_assert_str_eq(
	    json_string_value(json_array_get(args, 3)), "/Volumes/farm/out");
	json_decref(t);
	json_decref(job);
}
END_TEST

/* A file's own text is written as the template has it (a shell's
 * ${blender} is no Flamenco variable); inserted values are expanded. */
START_TEST(test_file_text_kept)
{
	char *conf = xasprintf("scripts_path = %s\nmax_tasks_per_job = 500\n"
	                       "variables.blender.all = /usr/bin/blender\n",
	    FIXTURES);
	char *body, *storage, *path, *text, *want;
	json_t *job;
	const char *id;

	test_server_stop(&ts);
	test_server_start(&ts, conf);
	free(conf);
	storage = storage_location();
	body = job_body("script-vars", "sv", "{}");
	job = call("POST", "/api/v3/jobs", body, NULL, 200);
	free(body);
	id = json_string_value(json_object_get(job, "id"));
	path = xasprintf("%s/openjd/%s/0/run", storage, id);
	text = test_read_file(path, NULL);
	ck_assert_ptr_nonnull(text);
	want = xasprintf(
	    "exe=${blender} {blender}; cd '%s/openjd/%s'\n", storage, id);
	ck_assert_str_eq(text, want);
	free(want);
	free(text);
	free(path);
	free(storage);
	json_decref(job);
}
END_TEST

/* dup.js and dup.yaml both name "dup": the first by file name is used,
 * and the log says so, naming both. */
START_TEST(test_same_stem_warned)
{
	char *dir = test_tmpdir(), *js, *yaml, *conf, *logpath, *log;
	char *src =
	    test_read_file(FM_SOURCE_DIR "/scripts/echo_sleep_test.js", NULL);
	FILE *f;
	int saved;
	json_t *types;

	ck_assert_ptr_nonnull(src);
	js = xasprintf("%s/dup.js", dir);
	yaml = xasprintf("%s/dup.yaml", dir);
	f = fopen(js, "w");
	ck_assert_ptr_nonnull(f);
	fputs(src, f);
	fclose(f);
	f = fopen(yaml, "w");
	ck_assert_ptr_nonnull(f);
	fputs("specificationVersion: jobtemplate-2023-09\nname: Dup\n"
	      "steps:\n  - name: s\n    script: {actions: {onRun: "
	      "{command: x}}}\n",
	    f);
	fclose(f);
	conf = xasprintf("scripts_path = %s\n", dir);
	logpath = xasprintf("%s.log", dir);
	test_server_stop(&ts);
	f = fopen(logpath, "w+");
	ck_assert_ptr_nonnull(f);
	saved = dup(STDERR_FILENO);
	dup2(fileno(f), STDERR_FILENO);
	test_server_start(&ts, conf);
	types = call("GET", "/api/v3/jobs/type/dup", NULL, NULL, 200);
	log_flush();
	dup2(saved, STDERR_FILENO);
	close(saved);
	fclose(f);
	ck_assert_str_eq(json_string_value(json_object_get(types, "label")),
	    "Echo Sleep Test");
	json_decref(types);
	log = test_read_file(logpath, NULL);
	ck_assert_ptr_nonnull(log);
	ck_assert_msg(strstr(log, "dup.js and ") != NULL &&
	        strstr(log, "dup.yaml both define it") != NULL &&
	        strstr(log, "dup.js is used") != NULL,
	    "%s", log);
	unlink(logpath);
	free(log);
	free(logpath);
	free(conf);
	free(js);
	free(yaml);
	free(src);
	test_rmtree(dir);
	free(dir);
}
END_TEST

static Suite *
api_openjd_suite(void)
{
	Suite *s = suite_create("api_openjd");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_types_listed);
	tcase_add_test(tc, test_submit_stores_tasks_and_files);
	tcase_add_test(tc, test_explain_and_check);
	tcase_add_test(tc, test_bad_submissions);
	tcase_add_test(tc, test_runs_to_completion);
	tcase_add_test(tc, test_worker_pinned_tasks);
	tcase_add_test(tc, test_pinned_and_shared_tasks_mix);
	tcase_add_test(tc, test_pinned_task_failure_is_final);
	tcase_add_test(tc, test_pinned_tasks_of_blocklisted_worker_fail);
	tcase_add_test(tc, test_pinned_tasks_of_deleted_worker_fail);
	tcase_add_test(tc, test_pinned_workers_fit_the_job);
	tcase_add_test(tc, test_shaman_leaves_openjd_folder_alone);
	tcase_add_test(tc, test_path_values_mapped);
	tcase_add_test(tc, test_file_text_kept);
	tcase_add_test(tc, test_same_stem_warned);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(api_openjd_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
