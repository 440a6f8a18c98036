/*
 * API tests for the farm-admin job and task endpoints: listing with
 * filters and paging, status/priority/tag changes with their cascades,
 * the blocklist, deletion (rows and storage really go, in batches that do
 * not stall other writers), mass deletion, last-rendered images, task
 * logs and their tail, and /job-files/ refusing every way out of the
 * storage directory. A few fixtures are written straight into the
 * database (tags, blocklist entries) where no endpoint makes them.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "lastrendered.h"
#include "testimg.h"
#include "testutil.h"
#include "timeutil.h"
#include "xmalloc.h"

static struct test_server ts;

static const char unknown_id[] = "0d9e6b2c-5e4e-4f6f-8c6f-0a6a7e1c2b3d";

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

/*
 * One request; 204/202 answers must come without body or JSON type. The
 * parsed body goes to *json_out when asked for (NULL when empty).
 */
static long
call(const char *method, const char *path, const char *body, const char *hdr,
    json_t **json_out)
{
	struct test_response r;
	long status;

	test_http(&ts, method, path, body, -1, hdr, &r);
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

/* Expect an error reply {code, message}. */
static void
expect_error(const char *method, const char *path, const char *body,
    long status, const char *needle)
{
	struct test_response r;

	test_http(&ts, method, path, body, -1, NULL, &r);
	test_assert_error(&r, status, needle);
	test_response_free(&r);
}

static char *
submit_echo(const char *name, int repeats)
{
	char *body = xasprintf("{\"name\": \"%s\", \"type\": "
	                       "\"echo-sleep-test\", \"priority\": 50, "
	                       "\"submitter_platform\": \"linux\", "
	                       "\"settings\": {\"message\": \"hi\", "
	                       "\"sleep_duration_seconds\": 1, "
	                       "\"sleep_repeats\": %d}}",
	    name, repeats);
	json_t *j;
	char *id;

	ck_assert_int_eq(call("POST", "/api/v3/jobs", body, NULL, &j), 200);
	id = xstrdup(json_string_value(json_object_get(j, "id")));
	json_decref(j);
	free(body);
	return id;
}

/* pattern with its one "%s" replaced by arg (new). */
static char *
subst(const char *pattern, const char *arg)
{
	const char *at = strstr(pattern, "%s");

	ck_assert_ptr_nonnull(at);
	return xasprintf("%.*s%s%s", (int)(at - pattern), pattern, arg, at + 2);
}

static json_t *
get_json(const char *pattern, const char *arg)
{
	char *path = subst(pattern, arg);
	json_t *j;

	ck_assert_msg(call("GET", path, NULL, NULL, &j) == 200, "GET %s", path);
	free(path);
	return j;
}

static json_t *
get_job(const char *id)
{
	return get_json("/api/v3/jobs/%s", id);
}

static const char *
str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static json_int_t
count_of(const json_t *job, const char *status)
{
	json_t *c =
	    json_object_get(json_object_get(job, "task_counts"), status);

	ck_assert_msg(json_is_integer(c), "task_counts.%s missing", status);
	return json_integer_value(c);
}

/* method on pattern (its "%s" = id) with body; returns the status. */
static long
act(const char *method, const char *pattern, const char *id, const char *body)
{
	char *path = subst(pattern, id);
	long s = call(method, path, body, NULL, NULL);

	free(path);
	return s;
}

/* The first task of a job (new JSON). */
static json_t *
first_task(const char *job)
{
	json_t *tasks = get_json("/api/v3/jobs/%s/tasks", job);
	json_t *t =
	    json_incref(json_array_get(json_object_get(tasks, "tasks"), 0));

	json_decref(tasks);
	ck_assert_ptr_nonnull(t);
	return t;
}

/* --- direct database access for fixtures and consistency checks */

static sqlite3 *
db_open(void)
{
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(ts.cfg->database, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	return db;
}

static void
db_exec(const char *sql)
{
	sqlite3 *db = db_open();
	char *err = NULL;

	ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK,
	    "%s: %s", sql, err);
	sqlite3_close(db);
}

static long long
db_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v;

	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static long long
db_query_int(const char *pattern, const char *arg)
{
	sqlite3 *db = db_open();
	char *sql = subst(pattern, arg);
	long long v = db_int(db, sql);

	free(sql);
	sqlite3_close(db);
	return v;
}

/* --- workers */

/* Register; with awake also sign on and report awake. */
static void
worker_up(struct test_worker *w, const char *name, bool awake)
{
	char *body;
	json_t *j;

	test_worker_register(&ts, w, name, "linux", "\"misc\"");
	if (!awake)
		return;
	body = xasprintf("{\"name\": \"%s\", \"supported_task_types\": "
	                 "[\"misc\"], \"software_version\": \"3.9\"}",
	    name);
	ck_assert_int_eq(
	    call("POST", "/api/v3/worker/sign-on", body, w->auth, &j), 200);
	json_decref(j);
	free(body);
	ck_assert_int_eq(call("POST", "/api/v3/worker/state-changed",
	                     "{\"status\": \"awake\"}", w->auth, NULL),
	    204);
}

/* Ask for a task: its UUID (new) or NULL on 204. */
static char *
take(const struct test_worker *w)
{
	json_t *j = NULL;
	long s = call("POST", "/api/v3/worker/task", NULL, w->auth, &j);
	char *id;

	if (s == 204)
		return NULL;
	ck_assert_msg(s == 200, "task request: %ld", s);
	id = xstrdup(str(j, "uuid"));
	json_decref(j);
	return id;
}

/* --- a raw HTTP client: curl would normalise "..", we must not */

static long
raw_get(const char *path, char *body_out, size_t body_len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char req[1024], resp[8192];
	size_t got = 0;
	ssize_t n;
	long status = -1;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char *b;

	sa.sin_port = htons((uint16_t)ts.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(req, sizeof(req),
	    "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
	    path);
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (got < sizeof(resp) - 1 &&
	    (n = read(fd, resp + got, sizeof(resp) - 1 - got)) > 0)
		got += (size_t)n;
	resp[got] = '\0';
	close(fd);
	sscanf(resp, "HTTP/1.%*d %ld", &status);
	b = strstr(resp, "\r\n\r\n");
	snprintf(body_out, body_len, "%s", b ? b + 4 : "");
	return status;
}

/* ------------------------------------------------------------------ */

START_TEST(test_list_filters_paging)
{
	char *a = submit_echo("alpha", 1), *b = submit_echo("Beta render", 2);
	char *c = submit_echo("gamma", 3);
	json_t *j, *jobs;

	ck_assert_int_eq(
	    act("POST", "/api/v3/jobs/%s/setstatus", b,
	        "{\"status\": \"pause-requested\", \"reason\": \"r\"}"),
	    204);
	j = get_job(b);
	ck_assert_str_eq(str(j, "status"), "paused");
	json_decref(j);
	j = get_json("/api/v3/jobs%s", "");
	jobs = json_object_get(j, "jobs");
	ck_assert_int_eq(json_array_size(jobs), 3);
	/* Newest first. */
	ck_assert_str_eq(str(json_array_get(jobs, 0), "id"), c);
	ck_assert_str_eq(str(json_array_get(jobs, 2), "id"), a);
	ck_assert_int_eq(count_of(json_array_get(jobs, 0), "queued"), 4);
	ck_assert_int_eq(count_of(json_array_get(jobs, 0), "soft-failed"), 0);
	ck_assert_int_eq(count_of(json_array_get(jobs, 1), "paused"), 3);
	json_decref(j);

	static const struct {
		const char *query;
		size_t n;
		const char *first; /* a, b, c or NULL */
	} cases[] = {
		{ "?status=paused", 1, "b" },
		{ "?status=queued,paused", 3, "c" },
		{ "?status=queued", 2, "c" },
		{ "?status=canceled", 0, NULL },
		{ "?type=echo-sleep-test", 3, "c" },
		{ "?type=simple-blender-render", 0, NULL },
		{ "?name=BETA", 1, "b" },
		{ "?name=a&status=queued", 2, "c" },
		{ "?name=alp", 1, "a" },
		{ "?limit=2", 2, "c" },
		{ "?limit=2&offset=1", 2, "b" },
		{ "?limit=2&offset=2", 1, "a" },
		{ "?offset=3", 0, NULL },
		{ "?limit=1000", 3, "c" },
		{ "?name=", 3, "c" },
	};
	for (size_t i = 0; i < nitems(cases); i++) {
		const char *want = cases[i].first == NULL ? NULL
		    : cases[i].first[0] == 'a'            ? a
		    : cases[i].first[0] == 'b'            ? b
		                                          : c;

		j = get_json("/api/v3/jobs%s", cases[i].query);
		jobs = json_object_get(j, "jobs");
		ck_assert_msg(json_array_size(jobs) == cases[i].n,
		    "%s: %zu jobs", cases[i].query, json_array_size(jobs));
		if (want != NULL)
			ck_assert_str_eq(
			    str(json_array_get(jobs, 0), "id"), want);
		json_decref(j);
	}
	static const char *const bad[] = {
		"?status=bogus",
		"?status=queued,",
		"?status=queued,,paused",
		"?status=",
		"?limit=0",
		"?limit=1001",
		"?limit=abc",
		"?limit=-1",
		"?offset=-1",
		"?offset=1x",
	};
	for (size_t i = 0; i < nitems(bad); i++) {
		char *p = xasprintf("/api/v3/jobs%s", bad[i]);

		expect_error("GET", p, NULL, 400, NULL);
		free(p);
	}
	/* GET one job carries the counts too. */
	j = get_job(a);
	ck_assert_int_eq(count_of(j, "queued"), 2);
	ck_assert_int_eq(count_of(j, "completed"), 0);
	json_decref(j);
	free(a);
	free(b);
	free(c);
}
END_TEST

START_TEST(test_setstatus_cancel_cascade)
{
	char *job = submit_echo("cancel me", 3);
	json_t *j, *t;
	char *p;

	ck_assert_int_eq(act("POST", "/api/v3/jobs/%s/setstatus", job,
	                     "{\"status\": \"cancel-requested\", "
	                     "\"reason\": \"not needed\"}"),
	    204);
	j = get_job(job);
	ck_assert_str_eq(str(j, "status"), "canceled");
	ck_assert_int_eq(count_of(j, "canceled"), 4);
	ck_assert_int_eq(count_of(j, "queued"), 0);
	json_decref(j);
	t = first_task(job);
	ck_assert_str_eq(str(t, "status"), "canceled");
	json_decref(t);

	/* Bad input. */
	p = xasprintf("/api/v3/jobs/%s/setstatus", job);
	expect_error("POST", p, "{\"status\": \"queued\"}", 400, "reason");
	expect_error("POST", p, "{\"reason\": \"x\"}", 400, "status");
	expect_error("POST", p, "{\"status\": \"bogus\", \"reason\": \"x\"}",
	    400, "bogus");
	expect_error(
	    "POST", p, "{\"status\": 1, \"reason\": \"x\"}", 400, NULL);
	expect_error("POST", p, "[]", 400, NULL);
	expect_error("POST", p, "{bad", 400, NULL);
	free(p);
	expect_error("POST", "/api/v3/jobs/xyz/setstatus",
	    "{\"status\": \"queued\", \"reason\": \"x\"}", 400,
	    "job ID not valid");
	p = xasprintf("/api/v3/jobs/%s/setstatus", unknown_id);
	expect_error("POST", p, "{\"status\": \"queued\", \"reason\": \"x\"}",
	    404, "no such job");
	free(p);
	/* Any status is accepted, even from canceled. */
	ck_assert_int_eq(
	    act("POST", "/api/v3/jobs/%s/setstatus", job,
	        "{\"status\": \"requeueing\", \"reason\": \"again\"}"),
	    204);
	j = get_job(job);
	ck_assert_str_eq(str(j, "status"), "queued");
	ck_assert_int_eq(count_of(j, "queued"), 4);
	ck_assert_str_eq(str(j, "activity"),
	    "Changed to status \"queued\": tasks were requeued");
	json_decref(j);
	free(job);
}
END_TEST

START_TEST(test_requeue_failed_job_clears_failures)
{
	char *job = submit_echo("fails", 0), *task;
	struct test_worker w[3];
	json_t *j, *t;
	char *sql, *p;

	for (int i = 0; i < 3; i++)
		worker_up(&w[i], i == 0 ? "zed" : i == 1 ? "amy" : "bob", true);
	for (int i = 0; i < 3; i++) {
		task = take(&w[i]);
		ck_assert_ptr_nonnull(task);
		p = xasprintf("/api/v3/worker/task/%s", task);
		ck_assert_int_eq(call("POST", p, "{\"taskStatus\": \"failed\"}",
		                     w[i].auth, NULL),
		    204);
		free(p);
		free(task);
	}
	j = get_job(job);
	ck_assert_str_eq(str(j, "status"), "failed");
	json_decref(j);
	t = first_task(job);
	task = xstrdup(str(t, "id"));
	json_decref(t);
	t = get_json("/api/v3/tasks/%s", task);
	ck_assert_int_eq(
	    json_array_size(json_object_get(t, "failed_by_workers")), 3);
	json_decref(t);
	/* Blocklist entries (no endpoint makes them directly). */
	sql = xasprintf("INSERT INTO job_blocks (created_at, job_id, "
	                "worker_id, task_type) SELECT 0, j.id, w.id, 'misc' "
	                "FROM jobs j, workers w WHERE j.uuid = '%s'",
	    job);
	db_exec(sql);
	free(sql);
	j = get_json("/api/v3/jobs/%s/blocklist", job);
	ck_assert_int_eq(json_array_size(j), 3);
	json_decref(j);

	ck_assert_int_eq(
	    act("POST", "/api/v3/jobs/%s/setstatus", job,
	        "{\"status\": \"requeueing\", \"reason\": \"retry\"}"),
	    204);
	j = get_job(job);
	ck_assert_str_eq(str(j, "status"), "queued");
	ck_assert_int_eq(count_of(j, "queued"), 1);
	ck_assert_int_eq(count_of(j, "failed"), 0);
	json_decref(j);
	t = get_json("/api/v3/tasks/%s", task);
	ck_assert_str_eq(str(t, "status"), "queued");
	ck_assert_int_eq(
	    json_array_size(json_object_get(t, "failed_by_workers")), 0);
	json_decref(t);
	j = get_json("/api/v3/jobs/%s/blocklist", job);
	ck_assert_int_eq(json_array_size(j), 0);
	json_decref(j);
	/* Everyone may run it again. */
	free(task);
	task = take(&w[0]);
	ck_assert_ptr_nonnull(task);
	free(task);
	free(job);
}
END_TEST

START_TEST(test_task_setstatus)
{
	char *job = submit_echo("tasks", 3), *sql, *p;
	json_t *t, *j;
	char task[37];
	struct test_worker w;

	t = first_task(job);
	snprintf(task, sizeof(task), "%s", str(t, "id"));
	json_decref(t);
	ck_assert_int_eq(act("POST", "/api/v3/tasks/%s/setstatus", task,
	                     "{\"status\": \"failed\", \"reason\": "
	                     "\"admin says so\"}"),
	    204);
	t = get_json("/api/v3/tasks/%s", task);
	ck_assert_str_eq(str(t, "status"), "failed");
	ck_assert_str_eq(str(t, "activity"), "admin says so");
	json_decref(t);
	/* 1 of 4 failed is 25%: the job fails, the rest is canceled. */
	j = get_job(job);
	ck_assert_str_eq(str(j, "status"), "failed");
	ck_assert_int_eq(count_of(j, "canceled"), 3);
	json_decref(j);

	/* Requeueing a task clears its failure list. */
	worker_up(&w, "failer", false);
	sql = xasprintf("INSERT INTO task_failures (created_at, task_id, "
	                "worker_id) SELECT 0, t.id, w.id FROM tasks t, "
	                "workers w WHERE t.uuid = '%s'",
	    task);
	db_exec(sql);
	free(sql);
	t = get_json("/api/v3/tasks/%s", task);
	ck_assert_int_eq(
	    json_array_size(json_object_get(t, "failed_by_workers")), 1);
	json_decref(t);
	ck_assert_int_eq(act("POST", "/api/v3/tasks/%s/setstatus", task,
	                     "{\"status\": \"queued\", \"reason\": \"again\"}"),
	    204);
	t = get_json("/api/v3/tasks/%s", task);
	ck_assert_str_eq(str(t, "status"), "queued");
	ck_assert_str_eq(str(t, "activity"), "again");
	ck_assert_int_eq(
	    json_array_size(json_object_get(t, "failed_by_workers")), 0);
	json_decref(t);
	/* The status changes went to the task log. */
	{
		struct test_response r;

		p = xasprintf("/api/v3/tasks/%s/logtail", task);
		test_http(&ts, "GET", p, NULL, 0, NULL, &r);
		ck_assert_int_eq(r.status, 200);
		ck_assert_ptr_nonnull(
		    strstr(r.body, "task changed status queued -> failed"));
		ck_assert_ptr_nonnull(
		    strstr(r.body, "task changed status failed -> queued"));
		test_response_free(&r);
		free(p);
	}
	/* Bad input. */
	p = xasprintf("/api/v3/tasks/%s/setstatus", task);
	expect_error("POST", p, "{\"status\": \"bogus\", \"reason\": \"x\"}",
	    400, "bogus");
	expect_error("POST", p, "{\"status\": \"queued\"}", 400, "reason");
	expect_error(
	    "POST", p, "{\"status\": \"paused\", \"reason\": 3}", 400, NULL);
	/* Job statuses are not task statuses. */
	expect_error("POST", p,
	    "{\"status\": \"cancel-requested\", \"reason\": \"x\"}", 400, NULL);
	free(p);
	expect_error("POST", "/api/v3/tasks/nope/setstatus",
	    "{\"status\": \"queued\", \"reason\": \"x\"}", 400, "not valid");
	p = xasprintf("/api/v3/tasks/%s/setstatus", unknown_id);
	expect_error("POST", p, "{\"status\": \"queued\", \"reason\": \"x\"}",
	    404, "no such task");
	free(p);
	/* GET moved to api_tasks.c keeps its answers. */
	expect_error("GET", "/api/v3/tasks/xyz", NULL, 400, "not valid");
	free(job);
}
END_TEST

START_TEST(test_setpriority)
{
	char *job = submit_echo("prio", 0), *p;
	json_t *j;

	ck_assert_int_eq(act("POST", "/api/v3/jobs/%s/setpriority", job,
	                     "{\"priority\": 90}"),
	    204);
	j = get_job(job);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(j, "priority")), 90);
	json_decref(j);
	ck_assert_int_eq(act("POST", "/api/v3/jobs/%s/setpriority", job,
	                     "{\"priority\": 0}"),
	    204);
	ck_assert_int_eq(act("POST", "/api/v3/jobs/%s/setpriority", job,
	                     "{\"priority\": 100}"),
	    204);
	p = xasprintf("/api/v3/jobs/%s/setpriority", job);
	expect_error("POST", p, "{\"priority\": 101}", 400, "0 to 100");
	expect_error("POST", p, "{\"priority\": -1}", 400, "0 to 100");
	expect_error("POST", p, "{\"priority\": \"50\"}", 400, NULL);
	expect_error("POST", p, "{\"priority\": 5.5}", 400, NULL);
	expect_error("POST", p, "{}", 400, NULL);
	expect_error("POST", p, "", 400, NULL);
	free(p);
	j = get_job(job);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(j, "priority")), 100);
	json_decref(j);
	expect_error("POST", "/api/v3/jobs/123/setpriority",
	    "{\"priority\": 1}", 400, "job ID not valid");
	p = xasprintf("/api/v3/jobs/%s/setpriority", unknown_id);
	expect_error("POST", p, "{\"priority\": 1}", 404, "no such job");
	free(p);
	free(job);
}
END_TEST

START_TEST(test_settag)
{
	static const char tag[] = "5b0a2f8e-1c3d-4e5f-9a8b-7c6d5e4f3a2b";
	char *job = submit_echo("tagged", 0), *p;
	json_t *j;

	db_exec("INSERT INTO worker_tags (created_at, updated_at, uuid, name) "
	        "VALUES (0, 0, '5b0a2f8e-1c3d-4e5f-9a8b-7c6d5e4f3a2b', 'gpu')");
	ck_assert_int_eq(
	    act("POST", "/api/v3/jobs/%s/settag", job,
	        "{\"id\": \"5b0a2f8e-1c3d-4e5f-9a8b-7c6d5e4f3a2b\"}"),
	    204);
	j = get_job(job);
	ck_assert_str_eq(str(j, "worker_tag"), tag);
	json_decref(j);
	ck_assert_int_eq(act("POST", "/api/v3/jobs/%s/settag", job, "{}"), 204);
	j = get_job(job);
	ck_assert_ptr_null(json_object_get(j, "worker_tag"));
	json_decref(j);
	ck_assert_int_eq(
	    act("POST", "/api/v3/jobs/%s/settag", job, "{\"name\": \"gpu\"}"),
	    204);
	j = get_job(job);
	ck_assert_str_eq(str(j, "worker_tag"), tag);
	json_decref(j);

	p = xasprintf("/api/v3/jobs/%s/settag", job);
	expect_error("POST", p, "{\"name\": \"cpu\"}", 406, "tag not found");
	expect_error("POST", p,
	    "{\"id\": \"0d9e6b2c-5e4e-4f6f-8c6f-0a6a7e1c2b3d\"}", 406,
	    "tag not found");
	expect_error("POST", p, "{\"id\": \"not-a-uuid\"}", 400, "UUID");
	expect_error("POST", p, "{\"id\": 7}", 400, NULL);
	expect_error("POST", p, "[]", 400, NULL);
	free(p);
	/* A refused change changed nothing. */
	j = get_job(job);
	ck_assert_str_eq(str(j, "worker_tag"), tag);
	json_decref(j);
	p = xasprintf("/api/v3/jobs/%s/settag", unknown_id);
	expect_error("POST", p, "{}", 404, "no such job");
	free(p);
	free(job);
}
END_TEST

START_TEST(test_blocklist)
{
	char *job = submit_echo("blocks", 1), *sql, *p;
	struct test_worker zed, amy;
	json_t *j, *e;
	char *del;

	worker_up(&zed, "zed", false);
	worker_up(&amy, "amy", false);
	j = get_json("/api/v3/jobs/%s/blocklist", job);
	ck_assert(json_is_array(j));
	ck_assert_int_eq(json_array_size(j), 0);
	json_decref(j);
	sql = xasprintf("INSERT INTO job_blocks (created_at, job_id, "
	                "worker_id, task_type) SELECT 0, j.id, w.id, t.x "
	                "FROM jobs j, workers w, (SELECT 'misc' AS x UNION "
	                "SELECT 'blender') t WHERE j.uuid = '%s'",
	    job);
	db_exec(sql);
	free(sql);
	j = get_json("/api/v3/jobs/%s/blocklist", job);
	ck_assert_int_eq(json_array_size(j), 4);
	e = json_array_get(j, 0);
	ck_assert_str_eq(str(e, "worker_name"), "amy");
	ck_assert_str_eq(str(e, "worker_id"), amy.uuid);
	ck_assert_str_eq(str(e, "task_type"), "blender");
	ck_assert_str_eq(str(json_array_get(j, 3), "worker_name"), "zed");
	json_decref(j);

	del = xasprintf("[{\"worker_id\": \"%s\", \"task_type\": \"misc\"}, "
	                "{\"worker_id\": \"%s\", \"task_type\": \"blender\"}, "
	                "{\"worker_id\": \"%s\", \"task_type\": \"nothing\"}]",
	    amy.uuid, zed.uuid, unknown_id);
	ck_assert_int_eq(
	    act("DELETE", "/api/v3/jobs/%s/blocklist", job, del), 204);
	free(del);
	j = get_json("/api/v3/jobs/%s/blocklist", job);
	ck_assert_int_eq(json_array_size(j), 2);
	ck_assert_str_eq(str(json_array_get(j, 0), "task_type"), "blender");
	ck_assert_str_eq(str(json_array_get(j, 0), "worker_name"), "amy");
	ck_assert_str_eq(str(json_array_get(j, 1), "task_type"), "misc");
	ck_assert_str_eq(str(json_array_get(j, 1), "worker_name"), "zed");
	json_decref(j);

	p = xasprintf("/api/v3/jobs/%s/blocklist", job);
	expect_error("DELETE", p, "[]", 400, "non-empty");
	expect_error("DELETE", p, "{}", 400, NULL);
	expect_error("DELETE", p, "", 400, NULL);
	expect_error("DELETE", p,
	    "[{\"worker_id\": \"x\", \"task_type\": \"m\"}]", 400, "UUID");
	expect_error("DELETE", p, "[{\"task_type\": \"m\"}]", 400, "worker_id");
	free(p);
	expect_error(
	    "GET", "/api/v3/jobs/abc/blocklist", NULL, 400, "job ID not valid");
	p = xasprintf("/api/v3/jobs/%s/blocklist", unknown_id);
	expect_error("GET", p, NULL, 404, "no such job");
	del = xasprintf(
	    "[{\"worker_id\": \"%s\", \"task_type\": \"misc\"}]", zed.uuid);
	expect_error("DELETE", p, del, 404, "no such job");
	free(del);
	free(p);
	free(job);
}
END_TEST

/* Wait (up to 20 s) until the job is gone; returns the milliseconds. */
static long
wait_deleted(const char *job)
{
	char *p = xasprintf("/api/v3/jobs/%s", job);
	int64_t t0 = time_mono_us();
	long s;

	while ((s = call("GET", p, NULL, NULL, NULL)) == 200 &&
	    time_mono_us() - t0 < 20 * 1000000LL)
		usleep(5000);
	ck_assert_msg(s == 404, "job %s still there", job);
	free(p);
	return (long)((time_mono_us() - t0) / 1000);
}

static bool
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

START_TEST(test_delete_job)
{
	char *job = submit_echo("doomed", 2), *keep = submit_echo("kept", 1);
	char *dir, *p;
	json_t *t, *j;
	char task[37];

	t = first_task(job);
	snprintf(task, sizeof(task), "%s", str(t, "id"));
	json_decref(t);
	/* A status change writes the task log: the job directory exists. */
	ck_assert_int_eq(act("POST", "/api/v3/tasks/%s/setstatus", task,
	                     "{\"status\": \"paused\", \"reason\": \"x\"}"),
	    204);
	dir = xasprintf(
	    "%s/job-%.4s/%s", ts.cfg->local_manager_storage_path, job, job);
	ck_assert(exists(dir));

	j = get_json("/api/v3/jobs/%s/what-would-delete-do", job);
	ck_assert(json_is_false(json_object_get(j, "shaman_checkout")));
	json_decref(j);
	expect_error("GET", "/api/v3/jobs/x/what-would-delete-do", NULL, 400,
	    "job ID not valid");
	p = xasprintf("/api/v3/jobs/%s/what-would-delete-do", unknown_id);
	expect_error("GET", p, NULL, 404, "no such job");
	free(p);

	ck_assert_int_eq(act("DELETE", "/api/v3/jobs/%s", job, NULL), 204);
	wait_deleted(job);
	ck_assert(!exists(dir));
	ck_assert_int_eq(act("GET", "/api/v3/tasks/%s", task, NULL), 404);
	ck_assert_int_eq(
	    db_query_int("SELECT count(*) FROM tasks t JOIN jobs j "
	                 "ON j.id = t.job_id WHERE j.uuid = '%s'",
	        job),
	    0);
	/* Nothing of it is left anywhere; the other job is untouched. */
	ck_assert_int_eq(db_query_int("SELECT count(*) FROM tasks%s", ""), 2);
	ck_assert_int_eq(
	    db_query_int("SELECT count(*) FROM task_dependencies%s", ""), 1);
	ck_assert_int_eq(
	    db_query_int("SELECT sum(n) FROM job_task_counts%s", ""), 2);
	j = get_job(keep);
	ck_assert_ptr_null(json_object_get(j, "delete_requested_at"));
	json_decref(j);
	ck_assert_int_eq(act("DELETE", "/api/v3/jobs/%s", job, NULL), 404);
	expect_error(
	    "DELETE", "/api/v3/jobs/bad-id", NULL, 400, "job ID not valid");
	free(dir);
	free(job);
	free(keep);
}
END_TEST

START_TEST(test_deletion_resumes_at_startup)
{
	char *job = submit_echo("restart", 1), *sql, *err = NULL;

	/* Marked behind the Manager's back: nobody wakes the deleter. */
	sql = xasprintf("UPDATE jobs SET delete_requested_at = 1 "
	                "WHERE uuid = '%s'",
	    job);
	db_exec(sql);
	free(sql);
	app_stop(ts.app);
	ck_assert_int_eq(app_start(ts.cfg, &ts.app, &err), FM_OK);
	ts.port = app_port(ts.app);
	wait_deleted(job);
	free(job);
}
END_TEST

START_TEST(test_mass_delete)
{
	char *a = submit_echo("old", 0), *b, *body;
	json_t *j;
	char cut[64];
	int64_t us;

	j = get_job(a);
	ck_assert_int_eq(time_parse_rfc3339(str(j, "updated"), &us), FM_OK);
	json_decref(j);
	usleep(1100 * 1000);
	b = submit_echo("new", 0);

	expect_error("DELETE", "/api/v3/jobs/mass-delete",
	    "{\"last_updated_max\": \"2000-01-01T00:00:00Z\"}", 416, NULL);
	expect_error("DELETE", "/api/v3/jobs/mass-delete", "{}", 400,
	    "last_updated_max");
	expect_error("DELETE", "/api/v3/jobs/mass-delete",
	    "{\"last_updated_max\": \"yesterday\"}", 400, "RFC 3339");
	expect_error("DELETE", "/api/v3/jobs/mass-delete",
	    "{\"last_updated_max\": 12}", 400, NULL);
	/* One microsecond into a's second: matches a only once rounded up
	 * to the whole second (unless a was stored on a whole second). */
	{
		time_t sec = (time_t)(us / 1000000);
		struct tm tm;

		gmtime_r(&sec, &tm);
		strftime(cut, sizeof(cut), "%Y-%m-%dT%H:%M:%S.000001Z", &tm);
	}
	body = xasprintf("{\"last_updated_max\": \"%s\"}", cut);
	ck_assert_int_eq(
	    call("DELETE", "/api/v3/jobs/mass-delete", body, NULL, NULL), 204);
	free(body);
	wait_deleted(a);
	j = get_job(b);
	ck_assert_ptr_null(json_object_get(j, "delete_requested_at"));
	json_decref(j);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_last_rendered)
{
	char *job = submit_echo("render", 0), *task, *p, *hdr;
	unsigned char *rgb, *jpeg;
	size_t len;
	struct test_response r;
	struct test_worker w;
	json_t *j;

	ck_assert_int_eq(
	    call("GET", "/api/v3/jobs/last-rendered", NULL, NULL, NULL), 204);
	ck_assert_int_eq(
	    act("GET", "/api/v3/jobs/%s/last-rendered", job, NULL), 204);
	expect_error("GET", "/api/v3/jobs/zz/last-rendered", NULL, 400,
	    "job ID not valid");
	p = xasprintf("/api/v3/jobs/%s/last-rendered", unknown_id);
	expect_error("GET", p, NULL, 404, "no such job");
	free(p);

	worker_up(&w, "render", true);
	task = take(&w);
	p = xasprintf("/api/v3/worker/task/%s/output-produced", task);
	hdr = xasprintf("%s\nContent-Type: image/jpeg", w.auth);
	rgb = testimg_pattern(320, 180);
	jpeg = testimg_jpeg(rgb, 320, 180, TESTIMG_RGB, false, &len);
	test_http(&ts, "POST", p, (char *)jpeg, (long)len, hdr, &r);
	ck_assert_int_eq(r.status, 202);
	test_response_free(&r);
	/* The thumbnails are made in the background. */
	lastrendered_drain(ts.app->ctx.lastrendered);
	free(hdr);
	free(p);
	free(task);

	for (int i = 0; i < 2; i++) {
		char *base = xasprintf("/job-files/job-%.4s/%s", job, job);

		j = i == 0 ? get_json("/api/v3/jobs/%s/last-rendered", job)
		           : get_json("/api/v3/jobs/last-rendered%s", "");
		ck_assert_str_eq(str(j, "base"), base);
		ck_assert_int_eq(
		    json_array_size(json_object_get(j, "suffixes")), 3);
		ck_assert_str_eq(json_string_value(json_array_get(
		                     json_object_get(j, "suffixes"), 2)),
		    "last-rendered-tiny.jpg");
		json_decref(j);
		p = xasprintf("%s/last-rendered.jpg", base);
		test_http(&ts, "GET", p, NULL, 0, NULL, &r);
		ck_assert_int_eq(r.status, 200);
		ck_assert_str_eq(r.content_type, "image/jpeg");
		ck_assert(r.body_len > 2 && memcmp(r.body, "\xff\xd8", 2) == 0);
		test_response_free(&r);
		free(p);
		free(base);
	}
	free(jpeg);
	free(rgb);
	free(job);
}
END_TEST

/* Write the task's log file with exactly these bytes. */
static void
write_log(const char *job, const char *task, const char *data, size_t len)
{
	char *dir =
	    xasprintf("%s/job-%.4s", ts.cfg->local_manager_storage_path, job);
	char *path;
	FILE *f;

	mkdir(dir, 0755);
	free(dir);
	dir = xasprintf(
	    "%s/job-%.4s/%s", ts.cfg->local_manager_storage_path, job, job);
	mkdir(dir, 0755);
	path = xasprintf("%s/task-%s.txt", dir, task);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fwrite(data, 1, len, f), len);
	fclose(f);
	free(path);
	free(dir);
}

static void
expect_tail(const char *task, const char *want, size_t want_len)
{
	char *p = xasprintf("/api/v3/tasks/%s/logtail", task);
	struct test_response r;

	test_http(&ts, "GET", p, NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.content_type, "text/plain; charset=utf-8");
	ck_assert_msg(r.body_len == want_len, "tail of %zu bytes, want %zu",
	    r.body_len, want_len);
	ck_assert(memcmp(r.body, want, want_len) == 0);
	test_response_free(&r);
	free(p);
}

START_TEST(test_task_log_and_tail)
{
	char *job = submit_echo("logs", 0), *p, *url;
	char buf[4096];
	json_t *t, *j;
	char task[37];

	t = first_task(job);
	snprintf(task, sizeof(task), "%s", str(t, "id"));
	json_decref(t);
	ck_assert_int_eq(act("GET", "/api/v3/tasks/%s/log", task, NULL), 204);
	ck_assert_int_eq(
	    act("GET", "/api/v3/tasks/%s/logtail", task, NULL), 204);
	write_log(job, task, "", 0);
	ck_assert_int_eq(act("GET", "/api/v3/tasks/%s/log", task, NULL), 204);
	ck_assert_int_eq(
	    act("GET", "/api/v3/tasks/%s/logtail", task, NULL), 204);

	/* Short: whole, and the info points at it. */
	write_log(job, task, "hello\nworld\n", 12);
	expect_tail(task, "hello\nworld\n", 12);
	j = get_json("/api/v3/tasks/%s/log", task);
	url = xasprintf("/job-files/job-%.4s/%s/task-%s.txt", job, job, task);
	ck_assert_str_eq(str(j, "url"), url);
	ck_assert_str_eq(str(j, "task_id"), task);
	ck_assert_str_eq(str(j, "job_id"), job);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "size")), 12);
	json_decref(j);
	{
		struct test_response r;

		test_http(&ts, "GET", url, NULL, 0, NULL, &r);
		ck_assert_int_eq(r.status, 200);
		ck_assert_str_eq(r.content_type, "text/plain; charset=utf-8");
		ck_assert_str_eq(r.body, "hello\nworld\n");
		test_response_free(&r);
	}
	free(url);

	/* Exactly 2048 bytes with newlines: whole. */
	for (int i = 0; i < 2048; i++)
		buf[i] = i % 64 == 63 ? '\n' : 'a';
	write_log(job, task, buf, 2048);
	expect_tail(task, buf, 2048);

	/* 3000 bytes of 100-byte lines: the window starts mid-line, the
	 * tail after its first newline. Window = [952, 3000); the first
	 * newline in it is at 999. */
	for (int i = 0; i < 3000; i++)
		buf[i] = i % 100 == 99 ? '\n' : (char)('a' + (i / 100) % 26);
	write_log(job, task, buf, 3000);
	expect_tail(task, buf + 1000, 2000);

	/* A newline at the window's first byte: tail starts right after. */
	memset(buf, 'x', 3000);
	buf[952] = '\n';
	buf[2999] = '\n';
	write_log(job, task, buf, 3000);
	expect_tail(task, buf + 953, 2047);

	/* No newline in the window: the whole window. */
	memset(buf, 'y', 3000);
	buf[100] = '\n'; /* before the window, ignored */
	write_log(job, task, buf, 3000);
	expect_tail(task, buf + 952, 2048);

	/* Only the final byte is a newline: the whole window. */
	memset(buf, 'z', 3000);
	buf[2999] = '\n';
	write_log(job, task, buf, 3000);
	expect_tail(task, buf + 952, 2048);

	expect_error("GET", "/api/v3/tasks/nope/logtail", NULL, 400, NULL);
	expect_error("GET", "/api/v3/tasks/nope/log", NULL, 400, NULL);
	p = xasprintf("/api/v3/tasks/%s/logtail", unknown_id);
	expect_error("GET", p, NULL, 404, "no such task");
	free(p);
	p = xasprintf("/api/v3/tasks/%s/log", unknown_id);
	expect_error("GET", p, NULL, 404, "no such task");
	free(p);
	free(job);
}
END_TEST

START_TEST(test_job_files)
{
	const char *root = ts.cfg->local_manager_storage_path;
	char *dir = xasprintf("%s/job-abcd", root), *f, *link;
	char body[8192];
	struct test_response r;

	mkdir(dir, 0755);
	free(test_write_file(dir, "a.png", "PNG!"));
	free(test_write_file(dir, "b.JPEG", "JPG!"));
	free(test_write_file(dir, "c.bin", "BIN!"));
	free(test_write_file(dir, "d.txt", "TXT!"));
	static const struct {
		const char *path, *type, *body;
	} ok[] = {
		{ "/job-files/job-abcd/a.png", "image/png", "PNG!" },
		{ "/job-files/job-abcd/b.JPEG", "image/jpeg", "JPG!" },
		{ "/job-files/job-abcd/c.bin", "application/octet-stream",
		    "BIN!" },
		{ "/job-files/job-abcd/d.txt", "text/plain; charset=utf-8",
		    "TXT!" },
	};
	for (size_t i = 0; i < nitems(ok); i++) {
		test_http(&ts, "GET", ok[i].path, NULL, 0, NULL, &r);
		ck_assert_msg(r.status == 200, "%s: %ld", ok[i].path, r.status);
		ck_assert_str_eq(r.content_type, ok[i].type);
		ck_assert_str_eq(r.body, ok[i].body);
		test_response_free(&r);
	}
	test_http(&ts, "HEAD", "/job-files/job-abcd/a.png", NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	test_response_free(&r);

	/* A symbolic link inside the storage that points inside is fine;
	 * one that leads out is refused. */
	f = xasprintf("%s/inner.png", dir);
	ck_assert_int_eq(symlink("a.png", f), 0);
	free(f);
	link = xasprintf("%s/job-evil", root);
	ck_assert_int_eq(symlink(ts.dir, link), 0);
	free(link);
	link = xasprintf("%s/conf.txt", dir);
	f = xasprintf("%s/flamenco-manager.conf", ts.dir);
	ck_assert_int_eq(symlink(f, link), 0);
	free(f);
	free(link);
	test_http(
	    &ts, "GET", "/job-files/job-abcd/inner.png", NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.body, "PNG!");
	test_response_free(&r);

	static const char *const refused[] = {
		"/job-files/../flamenco-manager.conf",
		"/job-files/job-abcd/../../flamenco-manager.conf",
		"/job-files/job-abcd/%2e%2e/%2e%2e/flamenco-manager.conf",
		"/job-files/job-abcd/%2E%2E/a.png",
		"/job-files/%2e%2e/flamenco-manager.conf",
		"/job-files/job-abcd/..%2f..%2fflamenco-manager.conf",
		"/job-files/%2fetc%2fpasswd",
		"/job-files//etc/passwd",
		"/job-files/./job-abcd/a.png",
		"/job-files/job-abcd//a.png",
		"/job-files/job-evil/flamenco-manager.conf",
		"/job-files/job-evil/test.sqlite",
		"/job-files/job-abcd/conf.txt",
		"/job-files/job-abcd",
		"/job-files/job-abcd/",
		"/job-files/job-abcd/missing.png",
		"/job-files/",
		"/job-files",
	};
	for (size_t i = 0; i < nitems(refused); i++) {
		long s = raw_get(refused[i], body, sizeof(body));
		json_t *j = json_loads(body, 0, NULL);

		ck_assert_msg(s == 404, "%s: %ld %s", refused[i], s, body);
		ck_assert_msg(j != NULL && json_is_object(j),
		    "%s: not JSON: %s", refused[i], body);
		ck_assert_ptr_null(strstr(body, "listen"));
		json_decref(j);
	}
	free(dir);
}
END_TEST

/* --- a 10,000-task job is deleted without stalling other writers */

struct prober {
	const char *job;
	volatile int stop;
	int64_t max_us;
	long n;
};

static void *
probe(void *arg)
{
	struct prober *pr = arg;
	char *p = xasprintf("/api/v3/jobs/%s/setpriority", pr->job);

	while (!pr->stop) {
		int64_t t0 = time_mono_us(), dt;
		struct test_response r;

		test_http(&ts, "POST", p, "{\"priority\": 60}", -1, NULL, &r);
		ck_assert_int_eq(r.status, 204);
		test_response_free(&r);
		dt = time_mono_us() - t0;
		if (dt > pr->max_us)
			pr->max_us = dt;
		pr->n++;
		usleep(2000);
	}
	free(p);
	return NULL;
}

START_TEST(test_big_delete_does_not_stall)
{
	char *small = submit_echo("small", 0);
	int64_t t0 = time_mono_us();
	char *big = submit_echo("big", 10000);
	struct prober pr = { .job = small };
	pthread_t th;
	sqlite3 *db;
	char *sql;
	long ms, checks = 0;
	long long job_id;

	fprintf(stderr, "10001-task job stored in %lld ms\n",
	    (long long)(time_mono_us() - t0) / 1000);
	sql = xasprintf("SELECT id FROM jobs WHERE uuid = '%s'", big);
	job_id = db_query_int("%s", sql);
	free(sql);
	pthread_create(&th, NULL, probe, &pr);
	usleep(50 * 1000);
	t0 = time_mono_us();
	ck_assert_int_eq(act("DELETE", "/api/v3/jobs/%s", big, NULL), 204);
	/* While it shrinks the counts always match the tasks left. */
	db = db_open();
	sql = xasprintf("SELECT (SELECT coalesce(sum(n), 0) FROM "
	                "job_task_counts WHERE job_id = %lld) = (SELECT "
	                "count(*) FROM tasks WHERE job_id = %lld)",
	    job_id, job_id);
	for (;;) {
		long long left;
		char *q = xasprintf(
		    "SELECT count(*) FROM jobs WHERE id = %lld", job_id);

		ck_assert_int_eq(
		    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
		ck_assert_msg(db_int(db, sql) == 1, "counts out of step");
		left = db_int(db, q);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		free(q);
		checks++;
		if (left == 0)
			break;
		ck_assert_msg(
		    time_mono_us() - t0 < 60 * 1000000LL * test_time_scale(),
		    "big job not deleted");
		usleep(1000);
	}
	ms = (long)((time_mono_us() - t0) / 1000);
	sqlite3_close(db);
	free(sql);
	usleep(50 * 1000);
	pr.stop = 1;
	pthread_join(th, NULL);
	fprintf(stderr,
	    "10001-task job deleted in %ld ms (%ld consistency checks); "
	    "concurrent setpriority: %ld requests, max %lld ms\n",
	    ms, checks, pr.n, (long long)pr.max_us / 1000);
	ck_assert_int_eq(
	    db_query_int("SELECT count(*) FROM tasks WHERE job_id = %s",
	        (sql = xasprintf("%lld", job_id))),
	    0);
	free(sql);
	ck_assert_int_eq(
	    db_query_int("SELECT count(*) FROM task_dependencies%s", ""), 0);
	ck_assert_msg(pr.max_us < 2000000 * test_time_scale(),
	    "a write waited %lld ms", (long long)pr.max_us / 1000);
	free(small);
	free(big);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("api_admin_jobs");
	TCase *tc = tcase_create("admin");
	TCase *big = tcase_create("big");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_list_filters_paging);
	tcase_add_test(tc, test_setstatus_cancel_cascade);
	tcase_add_test(tc, test_requeue_failed_job_clears_failures);
	tcase_add_test(tc, test_task_setstatus);
	tcase_add_test(tc, test_setpriority);
	tcase_add_test(tc, test_settag);
	tcase_add_test(tc, test_blocklist);
	tcase_add_test(tc, test_delete_job);
	tcase_add_test(tc, test_deletion_resumes_at_startup);
	tcase_add_test(tc, test_mass_delete);
	tcase_add_test(tc, test_last_rendered);
	tcase_add_test(tc, test_task_log_and_tail);
	tcase_add_test(tc, test_job_files);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(big, setup, teardown);
	tcase_set_timeout(big, 300);
	tcase_add_test(big, test_big_delete_does_not_stall);
	suite_add_tcase(s, big);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
