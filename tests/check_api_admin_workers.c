/*
 * API tests for the farm admin endpoints on workers, worker tags and sleep
 * schedules: listings and their optional
 * fields, status requests as the worker receives them, deletion, tag CRUD
 * with the scheduler's tag rule, and sleep schedules with their checker.
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "ids.h"
#include "store_worker_mgt.h"
#include "testutil.h"
#include "xmalloc.h"

#define UNKNOWN_ID "0d9e6b2c-5e4e-4f6f-8c6f-0a6a7e1c2b3d"
#define MGT        "/api/v3/worker-mgt"

static struct test_server ts;

static void
setup(void)
{
	test_server_start(&ts, NULL);
}

static void
teardown(void)
{
	test_server_stop(&ts);
}

/* One request; 204/202 must come without a body or JSON type. */
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
	if (status >= 400 && status != 423) { /* 423: WorkerStateChange */
		json_t *e = test_json(&r);

		ck_assert_int_eq(
		    json_integer_value(json_object_get(e, "code")), status);
		json_decref(e);
	}
	if (json_out != NULL)
		*json_out = r.body_len ? test_json(&r) : NULL;
	test_response_free(&r);
	return status;
}

/* A path from a format (new). */
static char *pathf(const char *fmt, va_list ap) FM_PRINTF(1, 0);

static char *
pathf(const char *fmt, va_list ap)
{
	char *path;

	ck_assert_int_ge(vasprintf(&path, fmt, ap), 0);
	return path;
}

/* call() on a formatted path, without a reply body. */
static long callf(const char *method, const char *body,
    const struct test_worker *w, const char *fmt, ...) FM_PRINTF(4, 5);

static long
callf(const char *method, const char *body, const struct test_worker *w,
    const char *fmt, ...)
{
	va_list ap;
	char *path;
	long s;

	va_start(ap, fmt);
	path = pathf(fmt, ap);
	va_end(ap);
	s = call(method, path, body, w, NULL);
	free(path);
	return s;
}

/* GET a formatted path expecting status expect; the body (new, or NULL). */
static json_t *getf(long expect, const char *fmt, ...) FM_PRINTF(2, 3);

static json_t *
getf(long expect, const char *fmt, ...)
{
	va_list ap;
	char *path;
	json_t *j = NULL;
	long s;

	va_start(ap, fmt);
	path = pathf(fmt, ap);
	va_end(ap);
	s = call("GET", path, NULL, NULL, &j);
	ck_assert_msg(
	    s == expect, "GET %s: %ld, expected %ld", path, s, expect);
	free(path);
	return j;
}

/* Register only: the worker never signed on. */
static void
worker_register(struct test_worker *w, const char *name)
{
	test_worker_register(&ts, w, name, "linux", "\"misc\", \"Blender\"");
}

/* Register, sign on and go awake, as the Flamenco Worker does. */
static void
worker_up_restart(struct test_worker *w, const char *name, bool can_restart)
{
	char *body;
	json_t *j;

	worker_register(w, name);
	body = xasprintf("{\"name\": \"%s\", \"supported_task_types\": "
	                 "[\"misc\"], \"software_version\": \"3.9\", "
	                 "\"can_restart\": %s}",
	    name, can_restart ? "true" : "false");
	ck_assert_int_eq(
	    call("POST", "/api/v3/worker/sign-on", body, w, &j), 200);
	json_decref(j);
	free(body);
	ck_assert_int_eq(call("POST", "/api/v3/worker/state-changed",
	                     "{\"status\": \"awake\"}", w, NULL),
	    204);
}

static void
worker_up(struct test_worker *w, const char *name)
{
	worker_up_restart(w, name, false);
}

static long
state_changed(const struct test_worker *w, const char *status)
{
	char *body = xasprintf("{\"status\": \"%s\"}", status);
	long s = call("POST", "/api/v3/worker/state-changed", body, w, NULL);

	free(body);
	return s;
}

/* POST setstatus; returns the HTTP status. */
static long
set_status(const char *id, const char *status, bool lazy)
{
	char *body = xasprintf("{\"status\": \"%s\", \"is_lazy\": %s}", status,
	    lazy ? "true" : "false");
	long s = callf("POST", body, NULL, MGT "/workers/%s/setstatus", id);

	free(body);
	return s;
}

/* An echo job, tagged when tag is not NULL; returns its id (new). */
static char *
submit_echo(const char *tag)
{
	char *tagged =
	    tag ? xasprintf("\"worker_tag\": \"%s\", ", tag) : xstrdup("");
	char *body = xasprintf("{\"name\": \"echo\", \"type\": "
	                       "\"echo-sleep-test\", \"priority\": 50, %s"
	                       "\"submitter_platform\": \"linux\", "
	                       "\"settings\": {\"message\": \"hi\", "
	                       "\"sleep_duration_seconds\": 1, "
	                       "\"sleep_repeats\": 0}}",
	    tagged);
	json_t *j;
	char *id;

	ck_assert_int_eq(call("POST", "/api/v3/jobs", body, NULL, &j), 200);
	id = xstrdup(json_string_value(json_object_get(j, "id")));
	json_decref(j);
	free(body);
	free(tagged);
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

/* GET /worker/state: the requested status (new) or NULL on 204. */
static char *
requested(const struct test_worker *w)
{
	json_t *j;
	char *s;
	long st = call("GET", "/api/v3/worker/state", NULL, w, &j);

	if (st == 204)
		return NULL;
	ck_assert_int_eq(st, 200);
	s = xstrdup(json_string_value(json_object_get(j, "status_requested")));
	json_decref(j);
	return s;
}

static void
assert_requested(const struct test_worker *w, const char *expect)
{
	char *s = requested(w);

	if (expect == NULL) {
		ck_assert_msg(s == NULL, "unexpected request %s", s);
	} else {
		ck_assert_ptr_nonnull(s);
		ck_assert_str_eq(s, expect);
	}
	free(s);
}

/* The status_change of the worker's summary: (status, lazy) or absent. */
static void
assert_status_change(const char *id, const char *status, bool lazy)
{
	json_t *w = getf(200, MGT "/workers/%s", id);
	json_t *sc = json_object_get(w, "status_change");

	if (status == NULL) {
		ck_assert_ptr_null(sc);
	} else {
		ck_assert_ptr_nonnull(sc);
		ck_assert_str_eq(
		    json_string_value(json_object_get(sc, "status")), status);
		ck_assert(json_is_boolean(json_object_get(sc, "is_lazy")));
		ck_assert_int_eq(
		    json_is_true(json_object_get(sc, "is_lazy")), lazy);
	}
	json_decref(w);
}

/* Create a tag; returns its id (new). */
static char *
create_tag(const char *name)
{
	char *body = xasprintf("{\"name\": \"%s\"}", name);
	json_t *j;
	char *id;

	ck_assert_int_eq(call("POST", MGT "/tags", body, NULL, &j), 200);
	id = xstrdup(json_string_value(json_object_get(j, "id")));
	ck_assert(ids_valid_uuid(id));
	json_decref(j);
	free(body);
	return id;
}

static json_t *
find_worker(json_t *list, const char *id)
{
	size_t i;
	json_t *w;

	json_array_foreach (json_object_get(list, "workers"), i, w) {
		if (strcmp(json_string_value(json_object_get(w, "id")), id) ==
		    0)
			return w;
	}
	return NULL;
}

START_TEST(test_list_and_get)
{
	struct test_worker a, fresh;
	json_t *list, *w, *t, *types;
	char *job;

	worker_up_restart(&a, "alpha", true);
	worker_register(&fresh, "fresh");
	ck_assert_int_eq(call("GET", MGT "/workers", NULL, NULL, &list), 200);
	ck_assert_int_eq(json_array_size(json_object_get(list, "workers")), 2);
	w = find_worker(list, a.uuid);
	ck_assert_ptr_nonnull(w);
	ck_assert_str_eq(
	    json_string_value(json_object_get(w, "name")), "alpha");
	ck_assert_str_eq(
	    json_string_value(json_object_get(w, "status")), "awake");
	ck_assert_str_eq(
	    json_string_value(json_object_get(w, "version")), "3.9");
	ck_assert(json_is_true(json_object_get(w, "can_restart")));
	ck_assert(json_is_string(json_object_get(w, "last_seen")));
	ck_assert_ptr_null(json_object_get(w, "status_change"));
	ck_assert_ptr_null(json_object_get(w, "ip_address"));
	/* Never signed on: never seen, so no last_seen at all. */
	w = find_worker(list, fresh.uuid);
	ck_assert_ptr_nonnull(w);
	ck_assert_ptr_null(json_object_get(w, "last_seen"));
	ck_assert(json_is_false(json_object_get(w, "can_restart")));
	ck_assert_str_eq(json_string_value(json_object_get(w, "version")), "");
	/* No status yet, as in Flamenco; WorkerSummary.status allows "". */
	ck_assert_str_eq(json_string_value(json_object_get(w, "status")), "");
	json_decref(list);

	w = getf(200, MGT "/workers/%s", a.uuid);
	ck_assert_str_eq(
	    json_string_value(json_object_get(w, "ip_address")), "127.0.0.1");
	ck_assert_str_eq(
	    json_string_value(json_object_get(w, "platform")), "linux");
	types = json_object_get(w, "supported_task_types");
	ck_assert_int_eq(json_array_size(types), 1);
	ck_assert_str_eq(json_string_value(json_array_get(types, 0)), "misc");
	ck_assert_ptr_null(json_object_get(w, "task"));
	ck_assert_ptr_null(json_object_get(w, "tags"));
	json_decref(w);
	w = getf(200, MGT "/workers/%s", fresh.uuid);
	types = json_object_get(w, "supported_task_types");
	ck_assert_int_eq(json_array_size(types), 2);
	ck_assert_str_eq(
	    json_string_value(json_array_get(types, 1)), "blender");
	json_decref(w);

	/* With a task: the active one, with its job. */
	job = submit_echo(NULL);
	t = take(&a);
	w = getf(200, MGT "/workers/%s", a.uuid);
	{
		json_t *task = json_object_get(w, "task");

		ck_assert_ptr_nonnull(task);
		ck_assert_str_eq(json_string_value(json_object_get(task, "id")),
		    json_string_value(json_object_get(t, "uuid")));
		ck_assert_str_eq(
		    json_string_value(json_object_get(task, "job_id")), job);
		ck_assert_str_eq(
		    json_string_value(json_object_get(task, "status")),
		    "active");
		ck_assert(json_is_string(json_object_get(task, "updated")));
		ck_assert(
		    json_is_integer(json_object_get(task, "steps_total")));
		ck_assert_str_eq(json_string_value(json_object_get(
		                     json_object_get(task, "worker"), "id")),
		    a.uuid);
	}
	json_decref(w);
	json_decref(t);
	free(job);

	json_decref(getf(400, MGT "/workers/%s", "not-a-uuid"));
	json_decref(getf(404, MGT "/workers/%s", UNKNOWN_ID));
}
END_TEST

START_TEST(test_setstatus_validation)
{
	struct test_worker a, r;

	worker_up(&a, "norestart");
	worker_up_restart(&r, "restarts", true);
	ck_assert_int_eq(set_status("nope", "asleep", false), 400);
	ck_assert_int_eq(set_status(UNKNOWN_ID, "asleep", false), 404);
	ck_assert_int_eq(set_status(a.uuid, "sleepy", false), 400);
	ck_assert_int_eq(set_status(a.uuid, "", false), 400);
	ck_assert_int_eq(callf("POST", "{\"status\": \"asleep\"}", NULL,
	                     MGT "/workers/%s/setstatus", a.uuid),
	    400);
	ck_assert_int_eq(callf("POST", "{\"is_lazy\": true}", NULL,
	                     MGT "/workers/%s/setstatus", a.uuid),
	    400);
	ck_assert_int_eq(
	    callf("POST", "{\"status\": \"asleep\", \"is_lazy\": \"yes\"}",
	        NULL, MGT "/workers/%s/setstatus", a.uuid),
	    400);
	ck_assert_int_eq(
	    callf("POST", "[]", NULL, MGT "/workers/%s/setstatus", a.uuid),
	    400);
	ck_assert_int_eq(
	    callf("POST", "{bad", NULL, MGT "/workers/%s/setstatus", a.uuid),
	    400);
	/* restart needs can_restart from the sign-on. */
	ck_assert_int_eq(set_status(a.uuid, "restart", false), 412);
	assert_status_change(a.uuid, NULL, false);
	ck_assert_int_eq(set_status(r.uuid, "restart", true), 204);
	assert_status_change(r.uuid, "restart", true);
	/* Asking for the status it is in withdraws the request. */
	ck_assert_int_eq(set_status(r.uuid, "awake", false), 204);
	assert_status_change(r.uuid, NULL, false);
	assert_requested(&r, NULL);
}
END_TEST

START_TEST(test_request_delivered_to_awake_worker)
{
	struct test_worker a;
	json_t *j, *list;

	worker_up(&a, "awake");
	ck_assert_int_eq(set_status(a.uuid, "asleep", true), 204);
	ck_assert_int_eq(call("GET", MGT "/workers", NULL, NULL, &list), 200);
	{
		json_t *sc =
		    json_object_get(find_worker(list, a.uuid), "status_change");

		ck_assert_str_eq(
		    json_string_value(json_object_get(sc, "status")), "asleep");
		ck_assert(json_is_true(json_object_get(sc, "is_lazy")));
	}
	json_decref(list);
	/* Lazy or not, a task request gets 423 with the request. */
	ck_assert_int_eq(
	    call("POST", "/api/v3/worker/task", NULL, &a, &j), 423);
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "status_requested")),
	    "asleep");
	json_decref(j);
	assert_requested(&a, "asleep");
	/* Acknowledged with the same status: cleared. */
	ck_assert_int_eq(state_changed(&a, "asleep"), 204);
	assert_requested(&a, NULL);
	assert_status_change(a.uuid, NULL, false);
	j = getf(200, MGT "/workers/%s", a.uuid);
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "status")), "asleep");
	json_decref(j);
}
END_TEST

START_TEST(test_lazy_and_non_lazy_may_i_run)
{
	struct test_worker a;
	char *job = submit_echo(NULL), *path;
	json_t *t, *j;

	worker_up(&a, "runner");
	t = take(&a);
	ck_assert_ptr_nonnull(t);
	path = xasprintf("/api/v3/worker/task/%s/may-i-run",
	    json_string_value(json_object_get(t, "uuid")));
	/* Lazy: the running task may finish. */
	ck_assert_int_eq(set_status(a.uuid, "asleep", true), 204);
	ck_assert_int_eq(call("GET", path, NULL, &a, &j), 200);
	ck_assert(json_is_true(json_object_get(j, "mayKeepRunning")));
	ck_assert(json_is_false(json_object_get(j, "statusChangeRequested")));
	json_decref(j);
	/* Not lazy: the task is aborted for the status change. */
	ck_assert_int_eq(set_status(a.uuid, "offline", false), 204);
	assert_status_change(a.uuid, "offline", false);
	ck_assert_int_eq(call("GET", path, NULL, &a, &j), 200);
	ck_assert(json_is_false(json_object_get(j, "mayKeepRunning")));
	ck_assert(json_is_true(json_object_get(j, "statusChangeRequested")));
	ck_assert_str_eq(json_string_value(json_object_get(j, "reason")),
	    "worker status change requested");
	json_decref(j);
	free(path);
	json_decref(t);
	free(job);
}
END_TEST

START_TEST(test_request_delivered_to_asleep_worker)
{
	struct test_worker a;

	worker_up(&a, "sleeper");
	ck_assert_int_eq(state_changed(&a, "asleep"), 204);
	assert_requested(&a, NULL);
	ck_assert_int_eq(set_status(a.uuid, "awake", false), 204);
	assert_requested(&a, "awake");
	/* A different acknowledgement leaves the request in place. */
	ck_assert_int_eq(state_changed(&a, "asleep"), 204);
	assert_requested(&a, "awake");
	/* Requesting the current status clears it. */
	ck_assert_int_eq(set_status(a.uuid, "asleep", false), 204);
	assert_requested(&a, NULL);
	ck_assert_int_eq(set_status(a.uuid, "awake", true), 204);
	ck_assert_int_eq(state_changed(&a, "awake"), 204);
	assert_requested(&a, NULL);
	assert_status_change(a.uuid, NULL, false);
}
END_TEST

START_TEST(test_delete_worker)
{
	struct test_worker a, b;
	char *job = submit_echo(NULL), *task_id;
	json_t *t, *j, *list;

	worker_up(&a, "doomed");
	worker_up(&b, "heir");
	t = take(&a);
	ck_assert_ptr_nonnull(t);
	task_id = xstrdup(json_string_value(json_object_get(t, "uuid")));
	json_decref(t);
	ck_assert_int_eq(
	    callf("DELETE", NULL, NULL, MGT "/workers/%s", "bad"), 400);
	ck_assert_int_eq(
	    callf("DELETE", NULL, NULL, MGT "/workers/%s", UNKNOWN_ID), 404);
	ck_assert_int_eq(
	    callf("DELETE", NULL, NULL, MGT "/workers/%s", a.uuid), 204);
	/* Its task went back to the queue. */
	j = getf(200, "/api/v3/tasks/%s", task_id);
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "status")), "queued");
	json_decref(j);
	/* The deleted worker is refused everywhere. */
	ck_assert_int_eq(
	    call("GET", "/api/v3/worker/state", NULL, &a, NULL), 403);
	ck_assert_int_eq(
	    call("POST", "/api/v3/worker/task", NULL, &a, NULL), 403);
	ck_assert_int_eq(call("POST", "/api/v3/worker/sign-on",
	                     "{\"name\": \"x\", \"supported_task_types\": "
	                     "[\"misc\"], \"software_version\": \"3.9\"}",
	                     &a, NULL),
	    403);
	/* Gone from the admin views too. */
	ck_assert_int_eq(call("GET", MGT "/workers", NULL, NULL, &list), 200);
	ck_assert_ptr_null(find_worker(list, a.uuid));
	ck_assert_ptr_nonnull(find_worker(list, b.uuid));
	json_decref(list);
	json_decref(getf(404, MGT "/workers/%s", a.uuid));
	ck_assert_int_eq(
	    callf("DELETE", NULL, NULL, MGT "/workers/%s", a.uuid), 404);
	ck_assert_int_eq(set_status(a.uuid, "asleep", false), 404);
	/* Another worker gets the requeued task. */
	t = take(&b);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(
	    json_string_value(json_object_get(t, "uuid")), task_id);
	json_decref(t);
	free(task_id);
	free(job);
}
END_TEST

START_TEST(test_tags_crud)
{
	json_t *j, *tags;
	char *a, *path;

	ck_assert_int_eq(call("GET", MGT "/tags", NULL, NULL, &j), 200);
	ck_assert(json_is_array(json_object_get(j, "tags")));
	ck_assert_int_eq(json_array_size(json_object_get(j, "tags")), 0);
	json_decref(j);

	a = create_tag("zeta");
	ck_assert_int_eq(call("POST", MGT "/tags",
	                     "{\"name\": \"alpha\", \"id\": "
	                     "\"A1B2C3D4-0000-4000-8000-00000000000A\", "
	                     "\"description\": \"GPU boxes\"}",
	                     NULL, &j),
	    200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "id")),
	    "a1b2c3d4-0000-4000-8000-00000000000a");
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "description")), "GPU boxes");
	json_decref(j);
	ck_assert_int_eq(call("POST", MGT "/tags",
	                     "{\"name\": \"empty-id\", \"id\": \"\", "
	                     "\"description\": \"\"}",
	                     NULL, &j),
	    200);
	ck_assert(ids_valid_uuid(json_string_value(json_object_get(j, "id"))));
	ck_assert_ptr_null(json_object_get(j, "description"));
	json_decref(j);

	/* Bad input and clashes. */
	ck_assert_int_eq(call("POST", MGT "/tags",
	                     "{\"name\": \"x\", \"id\": \"nope\"}", NULL, NULL),
	    400);
	ck_assert_int_eq(call("POST", MGT "/tags", "{}", NULL, NULL), 400);
	ck_assert_int_eq(
	    call("POST", MGT "/tags", "{\"name\": 3}", NULL, NULL), 400);
	ck_assert_int_eq(
	    call("POST", MGT "/tags", "{\"name\": \"x\", \"description\": 3}",
	        NULL, NULL),
	    400);
	ck_assert_int_eq(
	    call("POST", MGT "/tags", "{\"name\": \"zeta\"}", NULL, &j), 409);
	ck_assert_ptr_nonnull(
	    strstr(json_string_value(json_object_get(j, "message")), "name"));
	json_decref(j);
	path = xasprintf("{\"name\": \"other\", \"id\": \"%s\"}", a);
	ck_assert_int_eq(call("POST", MGT "/tags", path, NULL, NULL), 409);
	free(path);

	/* Sorted by name; description only where set. */
	ck_assert_int_eq(call("GET", MGT "/tags", NULL, NULL, &j), 200);
	tags = json_object_get(j, "tags");
	ck_assert_int_eq(json_array_size(tags), 3);
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_array_get(tags, 0), "name")),
	    "alpha");
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_array_get(tags, 2), "name")),
	    "zeta");
	ck_assert_ptr_null(
	    json_object_get(json_array_get(tags, 2), "description"));
	json_decref(j);

	/* One tag: get, update, delete. */
	j = getf(200, MGT "/tag/%s", a);
	ck_assert_str_eq(json_string_value(json_object_get(j, "id")), a);
	ck_assert_str_eq(json_string_value(json_object_get(j, "name")), "zeta");
	json_decref(j);
	json_decref(getf(400, MGT "/tag/%s", "bad"));
	json_decref(getf(404, MGT "/tag/%s", UNKNOWN_ID));
	ck_assert_int_eq(
	    callf("PUT", "{\"name\": \"omega\", \"description\": \"d\"}", NULL,
	        MGT "/tag/%s", a),
	    204);
	/* Without a description the old one stays. */
	ck_assert_int_eq(
	    callf("PUT", "{\"name\": \"omega2\"}", NULL, MGT "/tag/%s", a),
	    204);
	j = getf(200, MGT "/tag/%s", a);
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "name")), "omega2");
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "description")), "d");
	json_decref(j);
	ck_assert_int_eq(
	    callf("PUT", "{\"name\": \"omega2\", \"description\": \"\"}", NULL,
	        MGT "/tag/%s", a),
	    204);
	j = getf(200, MGT "/tag/%s", a);
	ck_assert_ptr_null(json_object_get(j, "description"));
	json_decref(j);
	ck_assert_int_eq(
	    callf("PUT", "{\"name\": \"alpha\"}", NULL, MGT "/tag/%s", a), 409);
	ck_assert_int_eq(callf("PUT", "{}", NULL, MGT "/tag/%s", a), 400);
	ck_assert_int_eq(
	    callf("PUT", "{\"name\": \"q\"}", NULL, MGT "/tag/%s", "bad"), 400);
	ck_assert_int_eq(
	    callf("PUT", "{\"name\": \"q\"}", NULL, MGT "/tag/%s", UNKNOWN_ID),
	    404);
	ck_assert_int_eq(callf("DELETE", NULL, NULL, MGT "/tag/%s", a), 204);
	ck_assert_int_eq(callf("DELETE", NULL, NULL, MGT "/tag/%s", a), 404);
	ck_assert_int_eq(callf("DELETE", NULL, NULL, MGT "/tag/%s", "x"), 400);
	json_decref(getf(404, MGT "/tag/%s", a));
	free(a);
}
END_TEST

/* A string of n copies of c (new). */
static char *
repeat(char c, size_t n)
{
	char *s = xmalloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* Tag names up to 256 bytes and descriptions up to 4 KiB (README). */
START_TEST(test_tag_limits)
{
	char *name = repeat('n', 256), *desc = repeat('d', 4096), *body;
	json_t *j;

	body = xasprintf(
	    "{\"name\": \"%s\", \"description\": \"%s\"}", name, desc);
	ck_assert_int_eq(call("POST", MGT "/tags", body, NULL, &j), 200);
	free(body);
	ck_assert_uint_eq(
	    json_string_length(json_object_get(j, "description")), 4096);
	json_decref(j);

	body = xasprintf("{\"name\": \"%sX\"}", name);
	ck_assert_int_eq(call("POST", MGT "/tags", body, NULL, &j), 400);
	ck_assert_str_eq(json_string_value(json_object_get(j, "message")),
	    "\"name\" must be at most 256 bytes");
	json_decref(j);
	free(body);
	body =
	    xasprintf("{\"name\": \"short\", \"description\": \"%sX\"}", desc);
	ck_assert_int_eq(call("POST", MGT "/tags", body, NULL, &j), 400);
	ck_assert_str_eq(json_string_value(json_object_get(j, "message")),
	    "\"description\" must be at most 4096 bytes");
	json_decref(j);
	free(body);
	ck_assert_int_eq(
	    call("POST", MGT "/tags", "{\"name\": \"a\\u0000b\"}", NULL, &j),
	    400);
	ck_assert_str_eq(json_string_value(json_object_get(j, "message")),
	    "\"name\" must not contain NUL characters");
	json_decref(j);

	/* The same rules on update. */
	ck_assert_int_eq(
	    call("POST", MGT "/tags", "{\"name\": \"u\"}", NULL, &j), 200);
	body = xasprintf("{\"name\": \"u\", \"description\": \"%sX\"}", desc);
	ck_assert_int_eq(callf("PUT", body, NULL, MGT "/tag/%s",
	                     json_string_value(json_object_get(j, "id"))),
	    400);
	free(body);
	json_decref(j);
	free(name);
	free(desc);
}
END_TEST

START_TEST(test_settags_and_tagged_scheduling)
{
	struct test_worker plain, gpu;
	char *tag = create_tag("gpu"), *other = create_tag("cpu"), *job, *body;
	json_t *w, *tags, *t;

	worker_up(&plain, "plain");
	worker_up(&gpu, "gpu");
	job = submit_echo(tag);
	/* Untagged workers never get tagged jobs. */
	ck_assert_ptr_null(take(&plain));

	body = xasprintf("{\"tag_ids\": [\"%s\", \"%s\"]}", tag, UNKNOWN_ID);
	ck_assert_int_eq(
	    callf("POST", body, NULL, MGT "/workers/%s/settags", gpu.uuid),
	    204);
	free(body);
	w = getf(200, MGT "/workers/%s", gpu.uuid);
	tags = json_object_get(w, "tags");
	ck_assert_int_eq(json_array_size(tags), 1);
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_array_get(tags, 0), "id")),
	    tag);
	ck_assert_str_eq(
	    json_string_value(json_object_get(json_array_get(tags, 0), "name")),
	    "gpu");
	json_decref(w);
	/* A member of another tag does not get it either. */
	body = xasprintf("{\"tag_ids\": [\"%s\"]}", other);
	ck_assert_int_eq(
	    callf("POST", body, NULL, MGT "/workers/%s/settags", plain.uuid),
	    204);
	free(body);
	ck_assert_ptr_null(take(&plain));
	t = take(&gpu);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(json_string_value(json_object_get(t, "job")), job);
	json_decref(t);

	/* Replacing with nothing removes every membership. */
	ck_assert_int_eq(callf("POST", "{\"tag_ids\": []}", NULL,
	                     MGT "/workers/%s/settags", gpu.uuid),
	    204);
	w = getf(200, MGT "/workers/%s", gpu.uuid);
	ck_assert_ptr_null(json_object_get(w, "tags"));
	json_decref(w);

	/* Bad input. */
	ck_assert_int_eq(callf("POST", "{\"tag_ids\": [\"nope\"]}", NULL,
	                     MGT "/workers/%s/settags", gpu.uuid),
	    400);
	ck_assert_int_eq(callf("POST", "{\"tag_ids\": [3]}", NULL,
	                     MGT "/workers/%s/settags", gpu.uuid),
	    400);
	ck_assert_int_eq(callf("POST", "{\"tag_ids\": \"x\"}", NULL,
	                     MGT "/workers/%s/settags", gpu.uuid),
	    400);
	ck_assert_int_eq(
	    callf("POST", "{}", NULL, MGT "/workers/%s/settags", gpu.uuid),
	    400);
	ck_assert_int_eq(callf("POST", "{\"tag_ids\": []}", NULL,
	                     MGT "/workers/%s/settags", "bad"),
	    400);
	ck_assert_int_eq(callf("POST", "{\"tag_ids\": []}", NULL,
	                     MGT "/workers/%s/settags", UNKNOWN_ID),
	    404);
	free(job);
	free(tag);
	free(other);
}
END_TEST

START_TEST(test_tag_delete_untags)
{
	struct test_worker member, plain;
	char *tag = create_tag("render"), *job, *body;
	json_t *j, *t;

	worker_up(&member, "member");
	worker_up(&plain, "plain");
	body = xasprintf("{\"tag_ids\": [\"%s\"]}", tag);
	ck_assert_int_eq(
	    callf("POST", body, NULL, MGT "/workers/%s/settags", member.uuid),
	    204);
	free(body);
	job = submit_echo(tag);
	j = getf(200, "/api/v3/jobs/%s", job);
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "worker_tag")), tag);
	json_decref(j);
	ck_assert_ptr_null(take(&plain));

	ck_assert_int_eq(callf("DELETE", NULL, NULL, MGT "/tag/%s", tag), 204);
	/* The job is untagged, the membership gone. */
	j = getf(200, "/api/v3/jobs/%s", job);
	ck_assert_ptr_null(json_object_get(j, "worker_tag"));
	json_decref(j);
	j = getf(200, MGT "/workers/%s", member.uuid);
	ck_assert_ptr_null(json_object_get(j, "tags"));
	json_decref(j);
	/* So any worker may take it now. */
	t = take(&plain);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(json_string_value(json_object_get(t, "job")), job);
	json_decref(t);
	free(job);
	free(tag);
}
END_TEST

/* A schedule covering every minute of every day: always "asleep". */
#define ALL_DAY                                          \
	"{\"is_active\": true, \"days_of_week\": \"\", " \
	"\"start_time\": \"00:00\", \"end_time\": \"24:00\"}"

START_TEST(test_sleep_schedule)
{
	struct test_worker a, b;
	json_t *j;

	worker_up(&a, "nightly");
	worker_up(&b, "office");
	json_decref(getf(204, MGT "/workers/%s/sleep-schedule", a.uuid));
	json_decref(getf(204, MGT "/workers/%s/sleep-schedule", UNKNOWN_ID));
	json_decref(getf(400, MGT "/workers/%s/sleep-schedule", "bad"));

	/* Bad input. */
	ck_assert_int_eq(callf("POST",
	                     "{\"is_active\": true, \"days_of_week\": \"\", "
	                     "\"start_time\": \"25:00\", \"end_time\": \"\"}",
	                     NULL, MGT "/workers/%s/sleep-schedule", a.uuid),
	    400);
	ck_assert_int_eq(callf("POST",
	                     "{\"is_active\": true, \"days_of_week\": \"\", "
	                     "\"start_time\": \"\", \"end_time\": \"9h\"}",
	                     NULL, MGT "/workers/%s/sleep-schedule", a.uuid),
	    400);
	ck_assert_int_eq(callf("POST",
	                     "{\"is_active\": true, \"days_of_week\": \"\", "
	                     "\"start_time\": \"10:00\"}",
	                     NULL, MGT "/workers/%s/sleep-schedule", a.uuid),
	    400);
	ck_assert_int_eq(callf("POST",
	                     "{\"is_active\": 1, \"days_of_week\": \"\", "
	                     "\"start_time\": \"\", \"end_time\": \"\"}",
	                     NULL, MGT "/workers/%s/sleep-schedule", a.uuid),
	    400);
	ck_assert_int_eq(callf("POST", ALL_DAY, NULL,
	                     MGT "/workers/%s/sleep-schedule", "bad"),
	    400);
	ck_assert_int_eq(callf("POST", ALL_DAY, NULL,
	                     MGT "/workers/%s/sleep-schedule", UNKNOWN_ID),
	    404);
	assert_status_change(a.uuid, NULL, false);

	/* Saved and applied at once: a non-lazy request to sleep. */
	ck_assert_int_eq(callf("POST", ALL_DAY, NULL,
	                     MGT "/workers/%s/sleep-schedule", a.uuid),
	    204);
	assert_status_change(a.uuid, "asleep", false);
	ck_assert_int_eq(
	    call("POST", "/api/v3/worker/task", NULL, &a, &j), 423);
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "status_requested")),
	    "asleep");
	json_decref(j);
	j = getf(200, MGT "/workers/%s/sleep-schedule", a.uuid);
	ck_assert(json_is_true(json_object_get(j, "is_active")));
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "days_of_week")), "");
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "start_time")), "00:00");
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "end_time")), "24:00");
	json_decref(j);
	ck_assert_int_eq(state_changed(&a, "asleep"), 204);
	assert_requested(&a, NULL);

	/* Normalised on save: days cut and lower-cased, times swapped. An
	 * inactive schedule's verdict is "awake": no request. */
	ck_assert_int_eq(callf("POST",
	                     "{\"is_active\": false, \"days_of_week\": "
	                     "\" Monday  TUESDAY we\", \"start_time\": "
	                     "\"18:00\", \"end_time\": \"9:30\"}",
	                     NULL, MGT "/workers/%s/sleep-schedule", b.uuid),
	    204);
	assert_status_change(b.uuid, NULL, false);
	j = getf(200, MGT "/workers/%s/sleep-schedule", b.uuid);
	ck_assert(json_is_false(json_object_get(j, "is_active")));
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "days_of_week")), "mo tu we");
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "start_time")), "09:30");
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "end_time")), "18:00");
	json_decref(j);

	/* Saving again replaces the schedule; now it sleeps too. */
	ck_assert_int_eq(callf("POST", ALL_DAY, NULL,
	                     MGT "/workers/%s/sleep-schedule", b.uuid),
	    204);
	assert_status_change(b.uuid, "asleep", false);
	j = getf(200, MGT "/workers/%s/sleep-schedule", b.uuid);
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "days_of_week")), "");
	json_decref(j);

	/* A deleted worker's schedule is gone with it. */
	ck_assert_int_eq(
	    callf("DELETE", NULL, NULL, MGT "/workers/%s", b.uuid), 204);
	json_decref(getf(204, MGT "/workers/%s/sleep-schedule", b.uuid));
	ck_assert_int_eq(callf("POST", ALL_DAY, NULL,
	                     MGT "/workers/%s/sleep-schedule", b.uuid),
	    404);
}
END_TEST

START_TEST(test_sleep_schedule_checker)
{
	struct fm_ctx *ctx = &ts.app->ctx;
	struct test_worker a, err;

	worker_up(&a, "checked");
	worker_up(&err, "broken");
	ck_assert_int_eq(callf("POST", ALL_DAY, NULL,
	                     MGT "/workers/%s/sleep-schedule", a.uuid),
	    204);
	ck_assert_int_eq(state_changed(&a, "asleep"), 204);
	/* Someone woke it by hand; the next due check puts it back. */
	ck_assert_int_eq(state_changed(&a, "awake"), 204);
	assert_requested(&a, NULL);
	ck_assert_int_eq(store_worker_mgt_check_schedules(
	                     ctx->store, time(NULL) + 2 * 86400),
	    FM_OK);
	assert_requested(&a, "asleep");
	assert_status_change(a.uuid, "asleep", false);

	/* Workers in "error" are left alone, on save and by the checker. */
	ck_assert_int_eq(state_changed(&err, "error"), 204);
	ck_assert_int_eq(callf("POST", ALL_DAY, NULL,
	                     MGT "/workers/%s/sleep-schedule", err.uuid),
	    204);
	assert_status_change(err.uuid, NULL, false);
	ck_assert_int_eq(store_worker_mgt_check_schedules(
	                     ctx->store, time(NULL) + 4 * 86400),
	    FM_OK);
	assert_status_change(err.uuid, NULL, false);
}
END_TEST

START_TEST(test_unknown_methods)
{
	json_t *j;

	ck_assert_int_eq(call("PUT", MGT "/workers", "{}", NULL, &j), 405);
	json_decref(j);
	ck_assert_int_eq(
	    call("POST", MGT "/tag/" UNKNOWN_ID, "{}", NULL, &j), 405);
	json_decref(j);
}
END_TEST

static Suite *
admin_workers_suite(void)
{
	Suite *s = suite_create("api_admin_workers");
	TCase *tc = tcase_create("admin_workers");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_list_and_get);
	tcase_add_test(tc, test_setstatus_validation);
	tcase_add_test(tc, test_request_delivered_to_awake_worker);
	tcase_add_test(tc, test_lazy_and_non_lazy_may_i_run);
	tcase_add_test(tc, test_request_delivered_to_asleep_worker);
	tcase_add_test(tc, test_delete_worker);
	tcase_add_test(tc, test_tags_crud);
	tcase_add_test(tc, test_tag_limits);
	tcase_add_test(tc, test_settags_and_tagged_scheduling);
	tcase_add_test(tc, test_tag_delete_untags);
	tcase_add_test(tc, test_sleep_schedule);
	tcase_add_test(tc, test_sleep_schedule_checker);
	tcase_add_test(tc, test_unknown_methods);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(admin_workers_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
