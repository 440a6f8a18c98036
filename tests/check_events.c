/*
 * Live events end to end: requests to a real Manager, and what a bus
 * subscriber receives: Flamenco's topics and payload shapes, previous
 * statuses, one refresh_tasks job event for a mass change instead of one
 * event per task, task log chunks, worker and tag changes.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "eventbus.h"
#include "testutil.h"
#include "timeutil.h"
#include "xmalloc.h"

static struct test_server ts;
static struct eventbus_sub *sub;

static void
setup(void)
{
	bool resync;

	test_server_start(&ts, NULL);
	sub = eventbus_subscribe(
	    ts.app->ctx.bus, &eventbus_everything, NULL, NULL, 0, &resync);
}

static void
teardown(void)
{
	eventbus_unsubscribe(sub);
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
	if (json_out != NULL)
		*json_out = r.body_len ? test_json(&r) : NULL;
	test_response_free(&r);
	return status;
}

/*
 * The next event on topic (skipping others), as {"topic", "payload"}
 * (new); fails the test after two seconds.
 */
static json_t *
next_on(const char *topic)
{
	int64_t t0 = time_mono_us();

	for (;;) {
		struct bus_event *ev;
		enum eventbus_next n = eventbus_next(sub, &ev);

		ck_assert_int_ne(n, EVENTBUS_OVERFLOW);
		if (n == EVENTBUS_EVENT) {
			json_t *payload = json_loads(ev->data, 0, NULL);
			bool match = strcmp(ev->topic, topic) == 0;

			ck_assert_ptr_nonnull(payload);
			bus_event_unref(ev);
			if (match)
				return payload;
			json_decref(payload);
			continue;
		}
		ck_assert_msg(
		    time_mono_us() - t0 < 2000000, "no event on %s", topic);
		usleep(2000);
	}
}

/* Drain everything queued now; returns the topics seen, comma-joined. */
static char *
drain(void)
{
	char *topics = xstrdup("");
	struct bus_event *ev;

	while (eventbus_next(sub, &ev) == EVENTBUS_EVENT) {
		char *t =
		    xasprintf("%s%s%s", topics, *topics ? "," : "", ev->topic);

		free(topics);
		topics = t;
		bus_event_unref(ev);
	}
	return topics;
}

static const char *
str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static char *
submit_echo(int repeats)
{
	char *body = xasprintf("{\"name\": \"echo\", \"type\": "
	                       "\"echo-sleep-test\", \"priority\": 50, "
	                       "\"submitter_platform\": \"linux\", "
	                       "\"settings\": {\"message\": \"hi\", "
	                       "\"sleep_duration_seconds\": 1, "
	                       "\"sleep_repeats\": %d}}",
	    repeats);
	json_t *j;
	char *id;

	ck_assert_int_eq(call("POST", "/api/v3/jobs", body, NULL, &j), 200);
	id = xstrdup(str(j, "id"));
	json_decref(j);
	free(body);
	return id;
}

static void
worker_up(struct test_worker *w)
{
	test_worker_register(&ts, w, "w1", "linux", "\"misc\"");
	ck_assert_int_eq(call("POST", "/api/v3/worker/sign-on",
	                     "{\"name\": \"w1\", \"supported_task_types\": "
	                     "[\"misc\"], \"software_version\": \"3.9\"}",
	                     w, NULL),
	    200);
	ck_assert_int_eq(call("POST", "/api/v3/worker/state-changed",
	                     "{\"status\": \"awake\"}", w, NULL),
	    204);
}

START_TEST(test_job_task_worker_events)
{
	struct test_worker w;
	char *job = submit_echo(2), *topic, *path;
	json_t *e, *task, *j;
	const char *task_id;

	/* A new job: no previous status. */
	e = next_on("/jobs");
	ck_assert_str_eq(str(e, "id"), job);
	ck_assert_str_eq(str(e, "status"), "queued");
	ck_assert_str_eq(str(e, "type"), "echo-sleep-test");
	ck_assert_str_eq(str(e, "name"), "echo");
	ck_assert_int_eq(
	    json_integer_value(json_object_get(e, "priority")), 50);
	ck_assert(json_is_false(json_object_get(e, "refresh_tasks")));
	ck_assert_ptr_null(json_object_get(e, "previous_status"));
	ck_assert_ptr_nonnull(json_object_get(e, "updated"));
	ck_assert_ptr_nonnull(json_object_get(e, "steps_total"));
	json_decref(e);

	/* A worker comes up: registered, signed on, awake. */
	worker_up(&w);
	e = next_on("/workers");
	ck_assert_str_eq(str(e, "id"), w.uuid);
	json_decref(e);
	e = next_on("/workers");
	ck_assert_str_eq(str(e, "status"), "starting");
	json_decref(e);
	e = next_on("/workers");
	ck_assert_str_eq(str(e, "status"), "awake");
	ck_assert_str_eq(str(e, "previous_status"), "starting");
	ck_assert_str_eq(str(e, "name"), "w1");
	ck_assert_ptr_nonnull(json_object_get(e, "version"));
	ck_assert_ptr_nonnull(json_object_get(e, "can_restart"));
	json_decref(e);
	free(drain()); /* the farm status changed too */

	/* It takes a task: one task event, one job event. */
	ck_assert_int_eq(
	    call("POST", "/api/v3/worker/task", NULL, &w, &task), 200);
	task_id = str(task, "uuid");
	topic = xasprintf("/jobs/%s", job);
	e = next_on(topic);
	ck_assert_str_eq(str(e, "id"), task_id);
	ck_assert_str_eq(str(e, "job_id"), job);
	ck_assert_str_eq(str(e, "status"), "active");
	ck_assert_str_eq(str(e, "previous_status"), "queued");
	ck_assert_str_eq(str(json_object_get(e, "worker"), "uuid"), w.uuid);
	ck_assert_str_eq(str(json_object_get(e, "worker"), "name"), "w1");
	json_decref(e);
	e = next_on("/jobs");
	ck_assert_str_eq(str(e, "status"), "active");
	ck_assert_str_eq(str(e, "previous_status"), "queued");
	json_decref(e);

	/* Log lines and progress. */
	path = xasprintf("/api/v3/worker/task/%s", task_id);
	ck_assert_int_eq(call("POST", path,
	                     "{\"log\": \"frame 1 done\\n\", \"activity\": "
	                     "\"rendering\", \"steps_completed\": 1}",
	                     &w, NULL),
	    204);
	free(topic);
	topic = xasprintf("/tasklog/%s", task_id);
	e = next_on(topic);
	ck_assert_str_eq(str(e, "task_id"), task_id);
	ck_assert_str_eq(str(e, "log"), "frame 1 done\n");
	json_decref(e);
	free(topic);
	topic = xasprintf("/jobs/%s", job);
	e = next_on(topic);
	ck_assert_str_eq(str(e, "activity"), "rendering");
	ck_assert_ptr_null(json_object_get(e, "previous_status"));
	json_decref(e);
	free(drain());

	/* Canceling the job changes all its tasks at once: one job event
	 * that asks viewers to reload, no event per task. */
	free(path);
	path = xasprintf("/api/v3/jobs/%s/setstatus", job);
	ck_assert_int_eq(call("POST", path,
	                     "{\"status\": \"cancel-requested\", \"reason\": "
	                     "\"test\"}",
	                     NULL, NULL),
	    204);
	/* One event for the whole transaction, with its final status. */
	e = next_on("/jobs");
	free(path);
	path = xasprintf("/api/v3/jobs/%s", job);
	ck_assert_int_eq(call("GET", path, NULL, NULL, &j), 200);
	ck_assert_str_eq(str(e, "status"), str(j, "status"));
	json_decref(j);
	ck_assert_str_eq(str(e, "previous_status"), "active");
	ck_assert(json_is_true(json_object_get(e, "refresh_tasks")));
	json_decref(e);
	{
		char *seen = drain();

		ck_assert_msg(strstr(seen, topic) == NULL,
		    "task events after a mass change: %s", seen);
		free(seen);
	}
	json_decref(task);
	free(path);
	free(topic);
	free(job);
}
END_TEST

/* An echo job waiting for job up: deps is the depends_on entry's
 * members after "job" (new id). */
static char *
submit_waiting(const char *up, const char *deps)
{
	char *body = xasprintf("{\"name\": \"down\", \"type\": "
	                       "\"echo-sleep-test\", \"priority\": 50, "
	                       "\"submitter_platform\": \"linux\", "
	                       "\"settings\": {\"message\": \"hi\", "
	                       "\"sleep_duration_seconds\": 1, "
	                       "\"sleep_repeats\": 1}, \"depends_on\": "
	                       "[{\"job\": \"%s\"%s}]}",
	    up, deps);
	json_t *j;
	char *id;

	ck_assert_int_eq(call("POST", "/api/v3/jobs", body, NULL, &j), 200);
	id = xstrdup(str(j, "id"));
	json_decref(j);
	free(body);
	return id;
}

/* Drain what is queued; the last /jobs event about job (new), or NULL. */
static json_t *
last_job_event(const char *job)
{
	struct bus_event *ev;
	json_t *last = NULL;

	while (eventbus_next(sub, &ev) == EVENTBUS_EVENT) {
		json_t *p = json_loads(ev->data, 0, NULL);

		ck_assert_ptr_nonnull(p);
		if (strcmp(ev->topic, "/jobs") == 0 &&
		    strcmp(str(p, "id"), job) == 0) {
			json_decref(last);
			last = p;
		} else {
			json_decref(p);
		}
		bus_event_unref(ev);
	}
	return last;
}

static void
take_and_complete(const struct test_worker *w, const char *name)
{
	json_t *task;
	char *path;

	ck_assert_int_eq(
	    call("POST", "/api/v3/worker/task", NULL, w, &task), 200);
	ck_assert_str_eq(str(task, "name"), name);
	path = xasprintf("/api/v3/worker/task/%s", str(task, "uuid"));
	ck_assert_int_eq(
	    call("POST", path, "{\"taskStatus\": \"completed\"}", w, NULL),
	    204);
	free(path);
	json_decref(task);
}

/* A job's dependency met: an event about the job waiting, with its
 * waiting_for emptied, though its own status did not change. */
START_TEST(test_dependency_met_event)
{
	char *up = submit_echo(1);
	char *fence = submit_waiting(up, "");
	char *echo = submit_waiting(up, ", \"tasks\": {\"name\": \"echo\"}");
	struct test_worker w;
	json_t *e;

	worker_up(&w);
	free(drain());
	/* The echo task alone meets the dependency on it: up is still
	 * active, and the fence still waits. */
	take_and_complete(&w, "echo");
	e = last_job_event(echo);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(str(e, "status"), "queued");
	ck_assert_ptr_null(json_object_get(e, "previous_status"));
	ck_assert_uint_eq(
	    json_array_size(json_object_get(e, "waiting_for")), 0);
	json_decref(e);
	ck_assert_ptr_null(last_job_event(fence));
	/* up completes: the fence is met. */
	take_and_complete(&w, "sleep");
	e = last_job_event(fence);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(str(e, "status"), "queued");
	ck_assert(json_is_array(json_object_get(e, "waiting_for")));
	ck_assert_uint_eq(
	    json_array_size(json_object_get(e, "waiting_for")), 0);
	json_decref(e);
	/* Requeueing up holds both back again: they hear of it too. */
	free(drain());
	{
		char *path = xasprintf("/api/v3/jobs/%s/setstatus", up);

		ck_assert_int_eq(call("POST", path,
		                     "{\"status\": \"requeueing\", \"reason\": "
		                     "\"again\"}",
		                     NULL, NULL),
		    204);
		free(path);
	}
	e = last_job_event(fence);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(json_string_value(json_array_get(
	                     json_object_get(e, "waiting_for"), 0)),
	    up);
	json_decref(e);
	free(up);
	free(fence);
	free(echo);
}
END_TEST

/* Progress from busy workers: at most a few job events, and the last
 * state always arrives. */
START_TEST(test_progress_throttled)
{
	struct test_worker w;
	char *job = submit_echo(30), *path;
	json_t *task, *e, *last;
	int job_events = 0;
	int64_t t0;

	worker_up(&w);
	ck_assert_int_eq(
	    call("POST", "/api/v3/worker/task", NULL, &w, &task), 200);
	path = xasprintf("/api/v3/worker/task/%s", str(task, "uuid"));
	free(drain());
	for (int i = 1; i <= 20; i++) {
		char *body = xasprintf("{\"steps_completed\": %d}", i);

		ck_assert_int_eq(call("POST", path, body, &w, NULL), 204);
		free(body);
	}
	/* The last job event, once they stop, shows the final state. */
	t0 = time_mono_us();
	last = NULL;
	while (time_mono_us() - t0 < 1500000) {
		struct bus_event *ev;

		if (eventbus_next(sub, &ev) != EVENTBUS_EVENT) {
			usleep(5000);
			continue;
		}
		if (strcmp(ev->topic, "/jobs") == 0) {
			job_events++;
			json_decref(last);
			last = json_loads(ev->data, 0, NULL);
		}
		bus_event_unref(ev);
	}
	ck_assert_ptr_nonnull(last);
	free(path);
	path = xasprintf("/api/v3/jobs/%s", job);
	ck_assert_int_eq(call("GET", path, NULL, NULL, &e), 200);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(last, "steps_completed")),
	    json_integer_value(json_object_get(e, "steps_completed")));
	json_decref(e);
	json_decref(last);
	ck_assert_msg(
	    job_events < 20, "%d job events for 20 updates", job_events);
	json_decref(task);
	free(path);
	free(job);
}
END_TEST

START_TEST(test_tag_events)
{
	json_t *j, *e;
	char *path;

	ck_assert_int_eq(
	    call("POST", "/api/v3/worker-mgt/tags",
	        "{\"name\": \"gpu\", \"description\": \"fast\"}", NULL, &j),
	    200);
	e = next_on("/workertags");
	ck_assert_str_eq(str(json_object_get(e, "tag"), "name"), "gpu");
	ck_assert_str_eq(str(json_object_get(e, "tag"), "id"), str(j, "id"));
	ck_assert_ptr_null(json_object_get(e, "was_deleted"));
	json_decref(e);

	path = xasprintf("/api/v3/worker-mgt/tag/%s", str(j, "id"));
	ck_assert_int_eq(
	    call("PUT", path, "{\"name\": \"gpu-fast\"}", NULL, NULL), 204);
	e = next_on("/workertags");
	ck_assert_str_eq(str(json_object_get(e, "tag"), "name"), "gpu-fast");
	json_decref(e);

	ck_assert_int_eq(call("DELETE", path, NULL, NULL, NULL), 204);
	e = next_on("/workertags");
	ck_assert(json_is_true(json_object_get(e, "was_deleted")));
	ck_assert_str_eq(str(json_object_get(e, "tag"), "name"), "gpu-fast");
	ck_assert_str_eq(str(json_object_get(e, "tag"), "id"), str(j, "id"));
	json_decref(e);

	/* A refused change tells nobody anything. */
	ck_assert_int_eq(call("DELETE", path, NULL, NULL, NULL), 404);
	{
		char *seen = drain();

		ck_assert_str_eq(seen, "");
		free(seen);
	}
	free(path);
	json_decref(j);
}
END_TEST

START_TEST(test_no_subscriber_no_journal)
{
	uint64_t before;
	char *job;

	/* With nobody listening the store keeps no notes at all. */
	eventbus_unsubscribe(sub);
	sub = NULL;
	ck_assert(!eventbus_has_subscribers(ts.app->ctx.bus));
	before = eventbus_last_id(ts.app->ctx.bus);
	job = submit_echo(1);
	ck_assert_uint_eq(eventbus_last_id(ts.app->ctx.bus), before);
	free(job);
}
END_TEST

static Suite *
events_suite(void)
{
	Suite *s = suite_create("events");
	TCase *tc = tcase_create("api");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_job_task_worker_events);
	tcase_add_test(tc, test_progress_throttled);
	tcase_add_test(tc, test_tag_events);
	tcase_add_test(tc, test_dependency_met_event);
	tcase_add_test(tc, test_no_subscriber_no_journal);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(events_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
