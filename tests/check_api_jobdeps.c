/*
 * API tests for jobs that wait for other jobs: a bake -> render ->
 * composite chain submitted at once runs in order with workers, the
 * composite waits only for the render tasks (not the preview), failed,
 * canceled, requeued and deleted upstream jobs behave as the README says,
 * cycles and bad input are refused with nothing stored, and the graph is
 * served as JSON and DOT.
 */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "xmalloc.h"

#define UNKNOWN "00000000-0000-4000-8000-000000000000"

static struct test_server ts;
static char *scripts_dir;

/* A job type for pipelines: "renders" tasks named <stage>-<i> (type
 * misc), and optionally a preview-video task (type ffmpeg) after them. */
static const char stage_type[] =
    "const JOB_TYPE = { label: 'Stage', settings: [\n"
    "  { key: 'stage', type: 'string', default: 'render' },\n"
    "  { key: 'renders', type: 'int32', default: 2 },\n"
    "  { key: 'preview', type: 'bool', default: false } ] };\n"
    "function compileJob(job) {\n"
    "  const s = job.settings, renders = [];\n"
    "  const n = s.renders === undefined ? 2 : s.renders;\n"
    "  for (let i = 0; i < n; i++) {\n"
    "    const t = author.Task(`${s.stage || 'render'}-${i}`, 'misc');\n"
    "    t.addCommand(author.Command('echo', { message: 'x' }));\n"
    "    job.addTask(t); renders.push(t);\n"
    "  }\n"
    "  if (s.preview) {\n"
    "    const p = author.Task('preview-video', 'ffmpeg');\n"
    "    p.addCommand(author.Command('echo', { message: 'p' }));\n"
    "    renders.forEach((r) => p.addDependency(r));\n"
    "    job.addTask(p);\n"
    "  }\n"
    "}\n";

/* The same, declaring that its jobs may overlap what they wait for. */
static const char overlap_type[] =
    "const JOB_TYPE = { label: 'Overlap', dependencyMode: 'overlap', "
    "settings: [] };\n"
    "function compileJob(job) {\n"
    "  for (const n of ['prep', 'comp']) {\n"
    "    const t = author.Task(n, 'misc');\n"
    "    t.addCommand(author.Command('echo', { message: n }));\n"
    "    job.addTask(t);\n"
    "  }\n"
    "}\n";

/* An OpenJD template with one task per Linux worker, each pinned to its
 * worker (migration 0004). */
static const char pinned_type[] = "specificationVersion: jobtemplate-2023-09\n"
                                  "name: Pinned\n"
                                  "steps:\n"
                                  "  - name: clear\n"
                                  "    x-flamenco-resource:\n"
                                  "      from: workers\n"
                                  "      where: 'platform == \"linux\"'\n"
                                  "    script:\n"
                                  "      actions:\n"
                                  "        onRun:\n"
                                  "          command: echo\n"
                                  "          args: [\"{{Resource.name}}\"]\n";

static void
start(const char *extra)
{
	char *conf;

	scripts_dir = test_tmpdir();
	free(test_write_file(scripts_dir, "stage.js", stage_type));
	free(test_write_file(scripts_dir, "overlap.js", overlap_type));
	free(test_write_file(scripts_dir, "pinned.yaml", pinned_type));
	conf = xasprintf(
	    "scripts_path = %s\n%s", scripts_dir, extra != NULL ? extra : "");
	test_server_start(&ts, conf);
	free(conf);
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
	test_rmtree(scripts_dir);
	free(scripts_dir);
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
		*json_out = r.body_len && strstr(r.content_type, "json")
		    ? test_json(&r)
		    : NULL;
	test_response_free(&r);
	return status;
}

static void
worker_up(struct test_worker *w, const char *name, const char *types)
{
	char *body = xasprintf("{\"name\": \"%s\", \"supported_task_types\": "
	                       "[%s], \"software_version\": \"3.9\"}",
	    name, types);

	test_worker_register(&ts, w, name, "linux", types);
	ck_assert_int_eq(
	    call("POST", "/api/v3/worker/sign-on", body, w, NULL), 200);
	ck_assert_int_eq(call("POST", "/api/v3/worker/state-changed",
	                     "{\"status\": \"awake\"}", w, NULL),
	    204);
	free(body);
}

/*
 * Submit a stage job; deps is the inside of the "depends_on" array (NULL:
 * none), extra more members. Returns the job's id (new).
 */
static char *
submit(
    const char *name, const char *settings, const char *deps, const char *extra)
{
	char *body = xasprintf("{\"name\": \"%s\", \"type\": \"stage\", "
	                       "\"priority\": 50, \"submitter_platform\": "
	                       "\"linux\", \"settings\": {%s}%s%s%s%s%s}",
	    name, settings, deps ? ", \"depends_on\": [" : "", deps ? deps : "",
	    deps ? "]" : "", extra ? ", " : "", extra ? extra : "");
	json_t *j;
	long s = call("POST", "/api/v3/jobs", body, NULL, &j);
	char *id;

	ck_assert_msg(s == 200, "submit %s: %ld %s", name, s,
	    json_string_value(json_object_get(j, "message")));
	id = xstrdup(json_string_value(json_object_get(j, "id")));
	json_decref(j);
	free(body);
	return id;
}

/* Take a task: its JSON (new), or NULL on 204. */
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

static void
finish(const struct test_worker *w, const json_t *task, const char *status)
{
	char *path = xasprintf("/api/v3/worker/task/%s",
	    json_string_value(json_object_get(task, "uuid")));
	char *body = xasprintf("{\"taskStatus\": \"%s\"}", status);

	ck_assert_int_eq(call("POST", path, body, w, NULL), 204);
	free(body);
	free(path);
}

static const char *
name_of(const json_t *task)
{
	return json_string_value(json_object_get(task, "name"));
}

static const char *
job_of(const json_t *task)
{
	return json_string_value(json_object_get(task, "job"));
}

/* GET a job (new JSON). */
static json_t *
get_job(const char *id)
{
	char *path = xasprintf("/api/v3/jobs/%s", id);
	json_t *j;

	ck_assert_int_eq(call("GET", path, NULL, NULL, &j), 200);
	free(path);
	return j;
}

/* The id of the job's task with this name (new). */
static char *
task_id(const char *job, const char *name)
{
	char *path = xasprintf("/api/v3/jobs/%s/tasks", job);
	char *id = NULL;
	json_t *j, *t;
	size_t i;

	ck_assert_int_eq(call("GET", path, NULL, NULL, &j), 200);
	json_array_foreach (json_object_get(j, "tasks"), i, t)
		if (strcmp(name_of(t), name) == 0)
			id = xstrdup(
			    json_string_value(json_object_get(t, "id")));
	ck_assert_msg(id != NULL, "no task %s", name);
	json_decref(j);
	free(path);
	return id;
}

static char *
task_status(const char *job, const char *name)
{
	char *id = task_id(job, name);
	char *path = xasprintf("/api/v3/tasks/%s", id);
	json_t *j;
	char *s;

	ck_assert_int_eq(call("GET", path, NULL, NULL, &j), 200);
	s = xstrdup(json_string_value(json_object_get(j, "status")));
	json_decref(j);
	free(path);
	free(id);
	return s;
}

static void
set_job_status(const char *job, const char *status)
{
	char *path = xasprintf("/api/v3/jobs/%s/setstatus", job);
	char *body =
	    xasprintf("{\"status\": \"%s\", \"reason\": \"test\"}", status);

	ck_assert_int_eq(call("POST", path, body, NULL, NULL), 204);
	free(body);
	free(path);
}

/* The blockers of the job's task with this name (new). */
static json_t *
blockers(const char *job, const char *name)
{
	char *id = task_id(job, name);
	char *path = xasprintf("/api/v3/tasks/%s/blockers", id);
	json_t *j;

	ck_assert_int_eq(call("GET", path, NULL, NULL, &j), 200);
	free(path);
	free(id);
	return j;
}

/* The reason with this code in a blockers answer, or NULL. */
static json_t *
reason(const json_t *b, const char *code)
{
	size_t i;
	json_t *r;

	json_array_foreach (json_object_get(b, "reasons"), i, r)
		if (strcmp(json_string_value(json_object_get(r, "code")),
		        code) == 0)
			return r;
	return NULL;
}

static bool
has_reason(const char *job, const char *name, const char *code)
{
	json_t *b = blockers(job, name);
	bool found = reason(b, code) != NULL;

	json_decref(b);
	return found;
}

/* Add dependencies through the admin endpoint; returns the status and
 * the body (new) in *j. */
static long
add_deps(const char *job, const char *entries, json_t **j)
{
	char *path = xasprintf("/api/v3/jobs/%s/dependencies", job);
	char *body = xasprintf("{\"depends_on\": [%s]}", entries);
	long s = call("POST", path, body, NULL, j);

	free(body);
	free(path);
	return s;
}

static long
remove_deps(const char *job, const char *upstream)
{
	char *path = xasprintf("/api/v3/jobs/%s/dependencies", job);
	char *body = xasprintf("{\"job\": \"%s\"}", upstream);
	long s = call("DELETE", path, body, NULL, NULL);

	free(body);
	free(path);
	return s;
}

static char *
dep_on(const char *job, const char *tasks)
{
	return tasks ? xasprintf("{\"job\": \"%s\", \"tasks\": %s}", job, tasks)
	             : xasprintf("{\"job\": \"%s\"}", job);
}

/* --- the chain -------------------------------------------------- */

START_TEST(test_chain_runs_in_order)
{
	struct test_worker a, b;
	char *bake, *render, *comp, *d1, *d2;
	const char *order[] = { "bake-0", "bake-1", "render-0", "render-1" };
	json_t *t, *p, *j;

	worker_up(&a, "wa", "\"misc\", \"ffmpeg\"");
	/* Submitted at once, before any worker asks. */
	bake = submit("bake", "\"stage\": \"bake\"", NULL, NULL);
	d1 = dep_on(bake, NULL);
	render = submit("render", "\"preview\": true", d1, NULL);
	d2 = dep_on(render, "{\"name\": \"render-*\"}");
	comp = submit("comp", "\"stage\": \"comp\", \"renders\": 1", d2, NULL);

	j = get_job(comp);
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "status")), "queued");
	ck_assert_str_eq(json_string_value(json_array_get(
	                     json_object_get(j, "waiting_for"), 0)),
	    render);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(
	        json_array_get(json_object_get(j, "depends_on"), 0),
	        "remaining")),
	    2);
	json_decref(j);
	/* The job list says the same. */
	ck_assert_int_eq(
	    call("GET", "/api/v3/jobs?status=queued&name=comp", NULL, NULL, &j),
	    200);
	ck_assert_str_eq(
	    json_string_value(json_array_get(
	        json_object_get(json_array_get(json_object_get(j, "jobs"), 0),
	            "waiting_for"),
	        0)),
	    render);
	json_decref(j);

	for (size_t i = 0; i < nitems(order); i++) {
		t = take(&a);
		ck_assert_ptr_nonnull(t);
		ck_assert_str_eq(name_of(t), order[i]);
		finish(&a, t, "completed");
		json_decref(t);
	}
	/* The preview runs on a; the composite does not wait for it. */
	p = take(&a);
	ck_assert_str_eq(name_of(p), "preview-video");
	worker_up(&b, "wb", "\"misc\"");
	t = take(&b);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(name_of(t), "comp-0");
	ck_assert_str_eq(job_of(t), comp);
	j = get_job(comp);
	ck_assert_int_eq(json_array_size(json_object_get(j, "waiting_for")), 0);
	ck_assert(json_is_true(json_object_get(
	    json_array_get(json_object_get(j, "depends_on"), 0), "satisfied")));
	json_decref(j);
	finish(&b, t, "completed");
	finish(&a, p, "completed");
	json_decref(t);
	json_decref(p);
	ck_assert_ptr_null(take(&a));
	j = get_job(comp);
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "status")), "completed");
	json_decref(j);
	free(d1);
	free(d2);
	free(bake);
	free(render);
	free(comp);
}
END_TEST

/* A whole-job dependency also waits for the preview: strictly after. */
START_TEST(test_fence_waits_for_every_task)
{
	struct test_worker a;
	char *render, *comp, *d;
	json_t *t;

	worker_up(&a, "wa", "\"misc\", \"ffmpeg\"");
	render =
	    submit("render", "\"preview\": true, \"renders\": 1", NULL, NULL);
	d = dep_on(render, NULL);
	comp = submit("comp", "\"stage\": \"comp\", \"renders\": 1", d, NULL);
	t = take(&a);
	ck_assert_str_eq(name_of(t), "render-0");
	finish(&a, t, "completed");
	json_decref(t);
	t = take(&a);
	ck_assert_str_eq(name_of(t), "preview-video");
	/* Only the preview left upstream: the composite still waits. */
	ck_assert(has_reason(comp, "comp-0", "waiting_for_job"));
	finish(&a, t, "completed");
	json_decref(t);
	t = take(&a);
	ck_assert_str_eq(name_of(t), "comp-0");
	json_decref(t);
	free(d);
	free(render);
	free(comp);
}
END_TEST

/* --- upstream failure, cancel, requeue, delete -------------------- */

START_TEST(test_upstream_failed_keeps_waiting)
{
	struct test_worker a;
	char *up, *down, *d;
	json_t *t, *b, *r;

	worker_up(&a, "wa", "\"misc\"");
	up = submit("up", "\"stage\": \"up\", \"renders\": 1", NULL, NULL);
	d = dep_on(up, NULL);
	down = submit("down", "\"stage\": \"down\", \"renders\": 1", d, NULL);
	t = take(&a);
	ck_assert_str_eq(name_of(t), "up-0");
	/* One worker: its failure fails the task and the job. */
	finish(&a, t, "failed");
	json_decref(t);
	ck_assert_ptr_null(take(&a));
	b = blockers(down, "down-0");
	r = reason(b, "waiting_for_job");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(
	    json_string_value(json_object_get(r, "job_status")), "failed");
	ck_assert_ptr_nonnull(
	    strstr(json_string_value(json_object_get(r, "message")),
	        "unless it is requeued"));
	ck_assert(json_is_true(json_object_get(b, "blocked")));
	json_decref(b);
	/* Requeued and completed upstream: the downstream job runs. */
	set_job_status(up, "requeueing");
	t = take(&a);
	ck_assert_str_eq(name_of(t), "up-0");
	finish(&a, t, "completed");
	json_decref(t);
	t = take(&a);
	ck_assert_str_eq(name_of(t), "down-0");
	json_decref(t);
	free(d);
	free(up);
	free(down);
}
END_TEST

START_TEST(test_upstream_canceled_then_dependency_removed)
{
	struct test_worker a;
	char *up, *down, *d;
	json_t *t, *j;

	worker_up(&a, "wa", "\"misc\"");
	up = submit("up", "\"stage\": \"up\", \"renders\": 1", NULL, NULL);
	d = dep_on(up, NULL);
	down = submit("down", "\"stage\": \"down\", \"renders\": 1", d, NULL);
	set_job_status(up, "cancel-requested");
	ck_assert_ptr_null(take(&a));
	ck_assert(has_reason(down, "down-0", "waiting_for_job"));
	/* Removing the dependency releases the waiting tasks. */
	ck_assert_int_eq(remove_deps(down, up), 200);
	ck_assert_int_eq(remove_deps(down, up), 404);
	j = get_job(down);
	ck_assert_ptr_null(json_object_get(j, "depends_on"));
	json_decref(j);
	t = take(&a);
	ck_assert_ptr_nonnull(t);
	ck_assert_str_eq(name_of(t), "down-0");
	json_decref(t);
	free(d);
	free(up);
	free(down);
}
END_TEST

/* Requeueing a completed upstream job holds back the downstream tasks
 * that have not started; completed ones stay completed. */
START_TEST(test_upstream_requeue_reblocks)
{
	struct test_worker a;
	char *up, *down, *d, *s;
	json_t *t;

	worker_up(&a, "wa", "\"misc\"");
	up = submit("up", "\"stage\": \"up\", \"renders\": 1", NULL, NULL);
	d = dep_on(up, NULL);
	down = submit("down", "\"stage\": \"down\", \"renders\": 2", d, NULL);
	t = take(&a);
	ck_assert_str_eq(name_of(t), "up-0");
	finish(&a, t, "completed");
	json_decref(t);
	t = take(&a);
	ck_assert_str_eq(name_of(t), "down-0");
	finish(&a, t, "completed");
	json_decref(t);
	ck_assert(has_reason(down, "down-1", "next_in_line"));
	set_job_status(up, "requeueing");
	ck_assert(has_reason(down, "down-1", "waiting_for_job"));
	s = task_status(down, "down-0");
	ck_assert_str_eq(s, "completed");
	free(s);
	t = take(&a);
	ck_assert_str_eq(name_of(t), "up-0");
	finish(&a, t, "completed");
	json_decref(t);
	t = take(&a);
	ck_assert_str_eq(name_of(t), "down-1");
	json_decref(t);
	free(d);
	free(up);
	free(down);
}
END_TEST

START_TEST(test_delete_upstream_refused)
{
	char *up, *down, *d, *path;
	json_t *j;

	up = submit("up job", "\"stage\": \"up\"", NULL, NULL);
	d = dep_on(up, NULL);
	down = submit("down job", "\"stage\": \"down\"", d, NULL);
	path = xasprintf("/api/v3/jobs/%s", up);
	ck_assert_int_eq(call("DELETE", path, NULL, NULL, &j), 409);
	ck_assert_ptr_nonnull(strstr(
	    json_string_value(json_object_get(j, "message")), "\"down job\""));
	ck_assert_ptr_nonnull(
	    strstr(json_string_value(json_object_get(j, "message")), down));
	json_decref(j);
	j = get_job(up);
	ck_assert_ptr_null(json_object_get(j, "delete_requested_at"));
	json_decref(j);
	/* Deleting the downstream job first is fine, then the upstream. */
	free(path);
	path = xasprintf("/api/v3/jobs/%s", down);
	ck_assert_int_eq(call("DELETE", path, NULL, NULL, NULL), 204);
	free(path);
	path = xasprintf("/api/v3/jobs/%s", up);
	ck_assert_int_eq(call("DELETE", path, NULL, NULL, NULL), 204);
	free(path);
	free(d);
	free(up);
	free(down);
}
END_TEST

/* mass-delete leaves out a job that a job not deleted with it waits for. */
START_TEST(test_mass_delete_skips_upstream)
{
	char *up, *down, *d, *body;
	json_t *j;

	up = submit("up", "\"stage\": \"up\"", NULL, NULL);
	j = get_job(up);
	/* Rounded up to whole seconds by the Manager: wait past that. */
	body = xasprintf("{\"last_updated_max\": \"%s\"}",
	    json_string_value(json_object_get(j, "updated")));
	json_decref(j);
	usleep(1100 * 1000);
	d = dep_on(up, NULL);
	down = submit("down", "\"stage\": \"down\"", d, NULL);
	ck_assert_int_eq(
	    call("DELETE", "/api/v3/jobs/mass-delete", body, NULL, NULL), 416);
	j = get_job(up);
	ck_assert_ptr_null(json_object_get(j, "delete_requested_at"));
	json_decref(j);
	/* Both at once: nothing is left waiting. */
	free(body);
	body = xstrdup("{\"last_updated_max\": \"2999-01-01T00:00:00Z\"}");
	ck_assert_int_eq(
	    call("DELETE", "/api/v3/jobs/mass-delete", body, NULL, NULL), 204);
	j = get_job(up);
	ck_assert_ptr_nonnull(json_object_get(j, "delete_requested_at"));
	json_decref(j);
	free(body);
	free(d);
	free(up);
	free(down);
}
END_TEST

/* A <- B <- C with A and B older than the cutoff: B is kept for C, so A
 * is kept for B, and B's tasks stay held back. */
START_TEST(test_mass_delete_keeps_chain)
{
	char *a, *b, *c, *da, *db, *body;
	json_t *j;

	a = submit("a", "\"stage\": \"a\"", NULL, NULL);
	da = dep_on(a, NULL);
	b = submit("b", "\"stage\": \"b\"", da, NULL);
	j = get_job(b);
	body = xasprintf("{\"last_updated_max\": \"%s\"}",
	    json_string_value(json_object_get(j, "updated")));
	json_decref(j);
	usleep(1100 * 1000);
	db = dep_on(b, NULL);
	c = submit("c", "\"stage\": \"c\"", db, NULL);
	ck_assert_int_eq(
	    call("DELETE", "/api/v3/jobs/mass-delete", body, NULL, NULL), 416);
	j = get_job(a);
	ck_assert_ptr_null(json_object_get(j, "delete_requested_at"));
	json_decref(j);
	ck_assert(has_reason(b, "b-0", "waiting_for_job"));
	free(body);
	free(da);
	free(db);
	free(a);
	free(b);
	free(c);
}
END_TEST

/* --- cycles and bad input ---------------------------------------- */

START_TEST(test_cycles_refused)
{
	char *a, *b, *c, *d;
	json_t *j;
	const char *msg;

	a = submit("job-a", "\"stage\": \"a\"", NULL, NULL);
	d = dep_on(a, NULL);
	b = submit("job-b", "\"stage\": \"b\"", d, NULL);
	free(d);
	d = dep_on(b, "{\"type\": \"misc\"}");
	c = submit("job-c", "\"stage\": \"c\"", d, NULL);
	free(d);

	/* Length 1. */
	d = dep_on(a, NULL);
	ck_assert_int_eq(add_deps(a, d, &j), 400);
	ck_assert_ptr_nonnull(
	    strstr(json_string_value(json_object_get(j, "message")), "itself"));
	json_decref(j);
	free(d);
	/* Length 2: a waits for b, which waits for a. */
	d = dep_on(b, NULL);
	ck_assert_int_eq(add_deps(a, d, &j), 400);
	msg = json_string_value(json_object_get(j, "message"));
	ck_assert_ptr_nonnull(strstr(msg, "cycle"));
	ck_assert_ptr_nonnull(strstr(msg, "\"job-a\""));
	ck_assert_ptr_nonnull(strstr(msg, "\"job-b\""));
	json_decref(j);
	free(d);
	/* Length 3: a waits for c, which waits for b, which waits for a. */
	d = dep_on(c, NULL);
	ck_assert_int_eq(add_deps(a, d, &j), 400);
	msg = json_string_value(json_object_get(j, "message"));
	ck_assert_ptr_nonnull(strstr(msg, "\"job-c\" ("));
	ck_assert_ptr_nonnull(strstr(msg, "\"job-b\" ("));
	ck_assert_ptr_nonnull(strstr(msg, "\"job-a\" ("));
	json_decref(j);
	free(d);
	j = get_job(a);
	ck_assert_ptr_null(json_object_get(j, "depends_on"));
	json_decref(j);
	free(a);
	free(b);
	free(c);
}
END_TEST

/* An admin list with a good entry and a bad one stores neither. */
START_TEST(test_admin_all_or_nothing)
{
	char *a, *b, *c, *d1, *d2, *both;
	json_t *j;

	a = submit("a", "\"stage\": \"a\"", NULL, NULL);
	b = submit("b", "\"stage\": \"b\"", NULL, NULL);
	c = submit("c", "\"stage\": \"c\"", NULL, NULL);
	d1 = dep_on(a, NULL);
	d2 = dep_on(b, "{\"name\": \"nothing-*\"}");
	both = xasprintf("%s, %s", d1, d2);
	ck_assert_int_eq(add_deps(c, both, &j), 400);
	ck_assert_ptr_nonnull(strstr(
	    json_string_value(json_object_get(j, "message")), "depends_on[1]"));
	json_decref(j);
	j = get_job(c);
	ck_assert_ptr_null(json_object_get(j, "depends_on"));
	json_decref(j);
	ck_assert(has_reason(c, "c-0", "no_workers"));
	/* The good one alone is stored; twice is refused. */
	ck_assert_int_eq(add_deps(c, d1, &j), 200);
	ck_assert_int_eq(json_array_size(json_object_get(j, "depends_on")), 1);
	json_decref(j);
	ck_assert_int_eq(add_deps(c, d1, &j), 400);
	ck_assert_ptr_nonnull(strstr(
	    json_string_value(json_object_get(j, "message")), "already"));
	json_decref(j);
	free(d1);
	free(d2);
	free(both);
	free(a);
	free(b);
	free(c);
}
END_TEST

/* Adding is only for jobs that have not started. */
START_TEST(test_admin_add_refused_once_started)
{
	struct test_worker w;
	char *a, *b, *d;
	json_t *j, *t;

	worker_up(&w, "w", "\"misc\"");
	a = submit("a", "\"stage\": \"a\"", NULL, NULL);
	b = submit("b", "\"stage\": \"b\"", NULL, NULL);
	t = take(&w);
	ck_assert_str_eq(job_of(t), a);
	json_decref(t);
	d = dep_on(b, NULL);
	ck_assert_int_eq(add_deps(a, d, &j), 409);
	json_decref(j);
	free(d);
	d = dep_on(a, NULL);
	ck_assert_int_eq(add_deps(b, d, &j), 200);
	json_decref(j);
	free(d);
	ck_assert_int_eq(add_deps(UNKNOWN, "{}", &j), 404);
	json_decref(j);
	free(a);
	free(b);
}
END_TEST

/* Bad submissions: a clear 400 from submit, check and explain alike, and
 * no job stored. */
START_TEST(test_bad_submissions)
{
	char *up = submit("up", "\"stage\": \"up\"", NULL, NULL);
	char *many = xstrdup("");
	const char *paths[] = { "/api/v3/jobs", "/api/v3/jobs/check",
		"/api/v3/jobs/explain" };
	struct {
		char *extra;
		const char *needle;
	} cases[12];
	size_t n = 0;
	json_t *j;

	for (int i = 0; i < 1001; i++) {
		char *more =
		    xasprintf("%s%s{\"job\": \"%s\"}", many, i ? ", " : "", up);

		free(many);
		many = more;
	}
	cases[n].extra = xstrdup("\"depends_on\": {}");
	cases[n++].needle = "\"depends_on\" must be an array";
	cases[n].extra = xstrdup("\"depends_on\": [3]");
	cases[n++].needle = "depends_on[0] must be an object";
	cases[n].extra = xstrdup("\"depends_on\": [{\"job\": \"nope\"}]");
	cases[n++].needle = "depends_on[0].job must be the UUID";
	cases[n].extra =
	    xasprintf("\"depends_on\": [{\"job\": \"%s\"}]", UNKNOWN);
	cases[n++].needle = "no job " UNKNOWN;
	cases[n].extra = xasprintf("\"depends_on\": [{\"job\": \"%s\", "
	                           "\"tasks\": {\"name\": \"render-*\"}}]",
	    up);
	cases[n++].needle = "no task of job \"up\"";
	cases[n].extra = xasprintf("\"depends_on\": [{\"job\": \"%s\", "
	                           "\"tasks\": {\"type\": \"blender\"}}]",
	    up);
	cases[n++].needle = "has the type \"blender\"";
	cases[n].extra = xasprintf("\"depends_on\": [{\"job\": \"%s\", "
	                           "\"tasks\": {\"name\": \"a\", \"type\": "
	                           "\"b\"}}]",
	    up);
	cases[n++].needle = "one member";
	cases[n].extra = xasprintf("\"depends_on\": [{\"job\": \"%s\", "
	                           "\"waiting\": {\"name\": \"x-*\"}}]",
	    up);
	cases[n++].needle = "needs dependency_mode \"overlap\"";
	cases[n].extra = xasprintf("\"depends_on\": [{\"job\": \"%s\", "
	                           "\"task\": {}}]",
	    up);
	cases[n++].needle = "unknown member \"task\"";
	cases[n].extra = xstrdup("\"dependency_mode\": \"loose\"");
	cases[n++].needle = "\"dependency_mode\" must be";
	cases[n].extra = xasprintf("\"depends_on\": [%s]", many);
	cases[n++].needle = "at most 1000";
	cases[n].extra = xasprintf("\"dependency_mode\": \"overlap\", "
	                           "\"depends_on\": [{\"job\": \"%s\", "
	                           "\"waiting\": {\"type\": \"ffmpeg\"}}]",
	    up);
	cases[n++].needle = "no task of this job has the type \"ffmpeg\"";
	for (size_t i = 0; i < n; i++) {
		for (size_t p = 0; p < nitems(paths); p++) {
			char *body = xasprintf(
			    "{\"name\": \"bad\", \"type\": \"stage\", "
			    "\"priority\": 50, \"submitter_platform\": "
			    "\"linux\", \"settings\": {}, %s}",
			    cases[i].extra);
			struct test_response r;

			test_http(&ts, "POST", paths[p], body, -1, NULL, &r);
			test_assert_error(&r, 400, cases[i].needle);
			test_response_free(&r);
			free(body);
		}
		free(cases[i].extra);
	}
	ck_assert_int_eq(call("GET", "/api/v3/jobs", NULL, NULL, &j), 200);
	ck_assert_int_eq(json_array_size(json_object_get(j, "jobs")), 1);
	json_decref(j);
	free(many);
	free(up);
}
END_TEST

/* explain and check accept a good list; explain echoes it. */
START_TEST(test_explain_shows_dependencies)
{
	char *up = submit("up", "\"stage\": \"up\"", NULL, NULL);
	char *body = xasprintf("{\"name\": \"x\", \"type\": \"stage\", "
	                       "\"priority\": 50, \"submitter_platform\": "
	                       "\"linux\", \"settings\": {}, \"depends_on\": "
	                       "[{\"job\": \"%s\", \"tasks\": {\"name\": "
	                       "\"up-*\"}}]}",
	    up);
	json_t *j;

	ck_assert_int_eq(
	    call("POST", "/api/v3/jobs/check", body, NULL, NULL), 204);
	ck_assert_int_eq(
	    call("POST", "/api/v3/jobs/explain", body, NULL, &j), 200);
	ck_assert_str_eq(
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(j, "depends_on"), 0), "job")),
	    up);
	json_decref(j);
	free(body);
	free(up);
}
END_TEST

/* --- overlap mode ------------------------------------------------- */

START_TEST(test_overlap_waits_only_where_told)
{
	struct test_worker a;
	char *up, *down, *d;
	json_t *t, *j;

	worker_up(&a, "wa", "\"misc\"");
	up = submit("up", "\"stage\": \"up\", \"renders\": 1", NULL, NULL);
	/* The job type says overlap; only "comp" waits. */
	d = xasprintf("{\"name\": \"o\", \"type\": \"overlap\", \"priority\": "
	              "60, \"submitter_platform\": \"linux\", \"settings\": "
	              "{}, \"depends_on\": [{\"job\": \"%s\", \"waiting\": "
	              "{\"name\": \"comp\"}}]}",
	    up);
	ck_assert_int_eq(call("POST", "/api/v3/jobs", d, NULL, &j), 200);
	ck_assert_str_eq(
	    json_string_value(json_object_get(j, "dependency_mode")),
	    "overlap");
	down = xstrdup(json_string_value(json_object_get(j, "id")));
	json_decref(j);
	/* Job level: "prep" is ready, so the job is not blocked; the wait
	 * holding back "comp" only is listed as partial. */
	{
		char *path = xasprintf("/api/v3/jobs/%s/blockers", down);
		json_t *b, *p;

		ck_assert_int_eq(call("GET", path, NULL, NULL, &b), 200);
		ck_assert(json_is_false(json_object_get(b, "blocked")));
		ck_assert_ptr_null(reason(b, "waiting_for_job"));
		p = json_array_get(json_object_get(b, "partial"), 0);
		ck_assert_str_eq(json_string_value(json_object_get(p, "code")),
		    "waiting_for_job");
		ck_assert_str_eq(json_string_value(json_object_get(
		                     json_object_get(p, "waiting"), "name")),
		    "comp");
		json_decref(b);
		free(path);
	}
	/* Higher priority: prep runs before the upstream task. */
	t = take(&a);
	ck_assert_str_eq(name_of(t), "prep");
	finish(&a, t, "completed");
	json_decref(t);
	ck_assert(has_reason(down, "comp", "waiting_for_job"));
	t = take(&a);
	ck_assert_str_eq(name_of(t), "up-0");
	finish(&a, t, "completed");
	json_decref(t);
	t = take(&a);
	ck_assert_str_eq(name_of(t), "comp");
	json_decref(t);
	/* A strict submission of the same type refuses "waiting". */
	free(d);
	d = xasprintf("{\"name\": \"s\", \"type\": \"overlap\", \"priority\": "
	              "60, \"submitter_platform\": \"linux\", \"settings\": "
	              "{}, \"dependency_mode\": \"strict\", \"depends_on\": "
	              "[{\"job\": \"%s\", \"waiting\": {\"name\": \"comp\"}}]}",
	    up);
	ck_assert_int_eq(call("POST", "/api/v3/jobs", d, NULL, NULL), 400);
	free(d);
	free(up);
	free(down);
}
END_TEST

/* --- graph -------------------------------------------------------- */

START_TEST(test_graph_json_and_dot)
{
	char *bake, *render, *comp, *d1, *d2, *path;
	struct test_response r;
	json_t *g, *e;
	size_t i, ups = 0, downs = 0;

	bake = submit("bake", "\"stage\": \"bake\"", NULL, NULL);
	d1 = dep_on(bake, NULL);
	render = submit("render \\\"main\\\"", "\"preview\": true", d1, NULL);
	d2 = dep_on(render, "{\"name\": \"render-*\"}");
	comp = submit("comp", "\"stage\": \"comp\"", d2, NULL);
	path = xasprintf("/api/v3/jobs/%s/graph", render);
	ck_assert_int_eq(call("GET", path, NULL, NULL, &g), 200);
	ck_assert(json_is_false(json_object_get(g, "truncated")));
	/* Own 3 tasks plus the 2 bake tasks; preview waits for 2. */
	ck_assert_int_eq(json_array_size(json_object_get(g, "tasks")), 5);
	ck_assert_int_eq(json_array_size(json_object_get(g, "edges")), 2);
	ck_assert_int_eq(json_array_size(json_object_get(g, "jobs")), 3);
	json_array_foreach (json_object_get(g, "job_edges"), i, e) {
		if (strcmp(json_string_value(json_object_get(e, "to_job")),
		        render) == 0) {
			ups++;
			ck_assert_int_eq(
			    json_array_size(json_object_get(e, "from_tasks")),
			    2);
			ck_assert_int_eq(
			    json_integer_value(json_object_get(e, "remaining")),
			    2);
		} else {
			downs++;
			ck_assert_str_eq(
			    json_string_value(json_object_get(
			        json_object_get(e, "tasks"), "name")),
			    "render-*");
		}
	}
	ck_assert_int_eq(ups, 1);
	ck_assert_int_eq(downs, 1);
	json_decref(g);
	free(path);
	path = xasprintf("/api/v3/jobs/%s/graph?format=dot", render);
	test_http(&ts, "GET", path, NULL, -1, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.content_type, "text/vnd.graphviz"));
	ck_assert_ptr_nonnull(strstr(r.body, "digraph"));
	ck_assert_ptr_nonnull(strstr(r.body, "render \\\"main\\\""));
	ck_assert_ptr_nonnull(strstr(r.body, "\"dep-0\""));
	ck_assert_ptr_nonnull(strstr(r.body, comp));
	test_response_free(&r);
	free(path);
	path = xasprintf("/api/v3/jobs/%s/graph?format=svg", render);
	test_http(&ts, "GET", path, NULL, -1, NULL, &r);
	test_assert_error(&r, 400, "format");
	test_response_free(&r);
	free(path);
	path = xasprintf("/api/v3/jobs/%s/graph", UNKNOWN);
	ck_assert_int_eq(call("GET", path, NULL, NULL, NULL), 404);
	free(path);
	ck_assert_int_eq(
	    call("GET", "/api/v3/jobs/nope/graph", NULL, NULL, NULL), 400);
	free(d1);
	free(d2);
	free(bake);
	free(render);
	free(comp);
}
END_TEST

/* A job of more tasks than a graph holds: cut, and said so. */
START_TEST(test_graph_truncated)
{
	char *big = submit("big", "\"renders\": 2100", NULL, NULL);
	char *path = xasprintf("/api/v3/jobs/%s/graph", big);
	struct test_response r;
	json_t *g;

	ck_assert_int_eq(call("GET", path, NULL, NULL, &g), 200);
	ck_assert(json_is_true(json_object_get(g, "truncated")));
	ck_assert_int_eq(json_array_size(json_object_get(g, "tasks")), 2000);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(g, "max_tasks")), 2000);
	json_decref(g);
	free(path);
	path = xasprintf("/api/v3/jobs/%s/graph?format=dot", big);
	test_http(&ts, "GET", path, NULL, -1, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "truncated: at most 2000 tasks"));
	test_response_free(&r);
	free(path);
	free(big);
}
END_TEST

/* --- blockers ----------------------------------------------------- */

static const char *
code_of(const json_t *b, size_t i)
{
	return json_string_value(json_object_get(
	    json_array_get(json_object_get(b, "reasons"), i), "code"));
}

/* Each worker-side reason in turn, as the farm changes. */
START_TEST(test_blockers_workers)
{
	struct test_worker reg, blender, misc;
	char *job = submit("j", "\"stage\": \"r\"", NULL, NULL);
	json_t *b, *t;

	b = blockers(job, "r-0");
	ck_assert_str_eq(code_of(b, 0), "no_workers");
	ck_assert(json_is_true(json_object_get(b, "blocked")));
	json_decref(b);
	/* Registered, never signed on: not awake. */
	test_worker_register(&ts, &reg, "sleepy", "linux", "\"misc\"");
	ck_assert(has_reason(job, "r-0", "farm_asleep"));
	worker_up(&blender, "blender-only", "\"blender\"");
	b = blockers(job, "r-0");
	ck_assert_str_eq(code_of(b, 0), "no_worker_supports_type");
	ck_assert_ptr_nonnull(strstr(
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(b, "reasons"), 0), "message")),
	    "\"misc\""));
	json_decref(b);
	worker_up(&misc, "misc", "\"misc\"");
	b = blockers(job, "r-0");
	ck_assert_str_eq(code_of(b, 0), "next_in_line");
	ck_assert_int_eq(json_array_size(json_object_get(b, "reasons")), 1);
	ck_assert(json_is_false(json_object_get(b, "blocked")));
	json_decref(b);
	b = blockers(job, "r-1");
	ck_assert_str_eq(code_of(b, 0), "in_line");
	ck_assert_int_eq(
	    json_integer_value(json_object_get(
	        json_array_get(json_object_get(b, "reasons"), 0), "ahead")),
	    1);
	json_decref(b);
	/* The only misc worker is busy now. */
	t = take(&misc);
	ck_assert_str_eq(name_of(t), "r-0");
	b = blockers(job, "r-0");
	ck_assert_str_eq(code_of(b, 0), "task_not_queued");
	ck_assert_ptr_nonnull(strstr(
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(b, "reasons"), 0), "message")),
	    "\"misc\""));
	json_decref(b);
	b = blockers(job, "r-1");
	ck_assert_str_eq(code_of(b, 0), "workers_busy");
	ck_assert(json_is_false(json_object_get(b, "blocked")));
	json_decref(b);
	json_decref(t);
	free(job);
}
END_TEST

/* A worker asked to change status gets no tasks (423): not counted. */
START_TEST(test_blockers_worker_changing_status)
{
	struct test_worker w;
	char *job = submit("j", "\"stage\": \"r\"", NULL, NULL);
	char *path;
	json_t *b, *r;

	worker_up(&w, "w", "\"misc\"");
	ck_assert(has_reason(job, "r-0", "next_in_line"));
	path = xasprintf("/api/v3/worker-mgt/workers/%s/setstatus", w.uuid);
	ck_assert_int_eq(
	    call("POST", path, "{\"status\": \"asleep\", \"is_lazy\": true}",
	        NULL, NULL),
	    204);
	b = blockers(job, "r-0");
	r = reason(b, "farm_asleep");
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(
	    strstr(json_string_value(json_object_get(r, "message")),
	        "1 awake but asked to change status"));
	json_decref(b);
	free(path);
	free(job);
}
END_TEST

START_TEST(test_blockers_tag_and_paused)
{
	struct test_worker w;
	char *tag, *job, *paused, *extra;
	json_t *j;

	worker_up(&w, "w", "\"misc\"");
	ck_assert_int_eq(call("POST", "/api/v3/worker-mgt/tags",
	                     "{\"name\": \"gpu\"}", NULL, &j),
	    200);
	tag = xstrdup(json_string_value(json_object_get(j, "id")));
	json_decref(j);
	extra = xasprintf("\"worker_tag\": \"%s\"", tag);
	job = submit("tagged", "\"stage\": \"t\"", NULL, extra);
	ck_assert(has_reason(job, "t-0", "tag_mismatch"));
	paused = submit("paused", "\"stage\": \"p\"", NULL,
	    "\"initial_status\": \"paused\"");
	ck_assert(has_reason(paused, "p-0", "job_not_runnable"));
	free(extra);
	free(tag);
	free(job);
	free(paused);
}
END_TEST

START_TEST(test_blockers_in_job_dependencies)
{
	char *job = submit("j", "\"preview\": true", NULL, NULL);
	json_t *b = blockers(job, "preview-video"), *r;

	r = reason(b, "waiting_for_tasks");
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(json_integer_value(json_object_get(r, "count")), 2);
	ck_assert_str_eq(
	    json_string_value(json_object_get(
	        json_array_get(json_object_get(r, "tasks"), 0), "name")),
	    "render-0");
	json_decref(b);
	free(job);
}
END_TEST

START_TEST(test_job_blockers)
{
	char *up = submit("up", "\"stage\": \"up\"", NULL, NULL);
	char *d = dep_on(up, NULL);
	char *job = submit("down", "\"preview\": true", d, NULL);
	char *path = xasprintf("/api/v3/jobs/%s/blockers", job);
	json_t *b, *types;

	ck_assert_int_eq(call("GET", path, NULL, NULL, &b), 200);
	ck_assert(json_is_true(json_object_get(b, "blocked")));
	ck_assert_str_eq(code_of(b, 0), "waiting_for_job");
	ck_assert_int_eq(json_integer_value(json_object_get(
	                     json_object_get(b, "counts"), "queued")),
	    3);
	ck_assert_int_eq(json_integer_value(json_object_get(
	                     json_object_get(b, "counts"), "ready")),
	    0);
	types = json_object_get(b, "task_types");
	ck_assert_int_eq(json_array_size(types), 2);
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_array_get(types, 0), "task_type")),
	    "ffmpeg");
	json_decref(b);
	free(path);
	path = xasprintf("/api/v3/jobs/%s/blockers", UNKNOWN);
	ck_assert_int_eq(call("GET", path, NULL, NULL, NULL), 404);
	free(path);
	path = xasprintf("/api/v3/tasks/%s/blockers", UNKNOWN);
	ck_assert_int_eq(call("GET", path, NULL, NULL, NULL), 404);
	free(path);
	ck_assert_int_eq(
	    call("GET", "/api/v3/tasks/nope/blockers", NULL, NULL, NULL), 400);
	ck_assert_int_eq(
	    call("GET", "/api/v3/jobs/nope/blockers", NULL, NULL, NULL), 400);
	free(d);
	free(up);
	free(job);
}
END_TEST

/* A worker's 33rd task type is one the scheduler does not read; blockers
 * agree that no worker supports it. */
START_TEST(test_blockers_types_past_limit)
{
	struct test_worker w;
	char *types = xstrdup(""), *job;
	json_t *b;

	for (int i = 0; i < 32; i++) {
		char *more = xasprintf("%s\"t%d\", ", types, i);

		free(types);
		types = more;
	}
	{
		char *more = xasprintf("%s\"misc\"", types);

		free(types);
		types = more;
	}
	worker_up(&w, "many", types);
	job = submit("j", "\"stage\": \"r\", \"renders\": 1", NULL, NULL);
	ck_assert_ptr_null(take(&w));
	b = blockers(job, "r-0");
	ck_assert_str_eq(code_of(b, 0), "no_worker_supports_type");
	ck_assert(json_is_true(json_object_get(b, "blocked")));
	json_decref(b);
	free(types);
	free(job);
}
END_TEST

/* A task pinned to one worker: blockers name that worker and its state,
 * not the farm; a fence holds pinned tasks back like any other. */
START_TEST(test_blockers_pinned_to_worker)
{
	struct test_worker a, b;
	char *up, *body, *job;
	json_t *j, *t, *r;

	worker_up(&a, "pa", "\"misc\"");
	worker_up(&b, "pb", "\"misc\"");
	up = submit("up", "\"stage\": \"up\", \"renders\": 1", NULL, NULL);
	body =
	    xasprintf("{\"name\": \"p\", \"type\": \"pinned\", "
	              "\"priority\": 90, \"submitter_platform\": \"linux\", "
	              "\"settings\": {}, \"depends_on\": [{\"job\": \"%s\"}]}",
	        up);
	ck_assert_int_eq(call("POST", "/api/v3/jobs", body, NULL, &j), 200);
	job = xstrdup(json_string_value(json_object_get(j, "id")));
	json_decref(j);
	/* Fenced: the pinned tasks wait although the job ranks first. */
	t = take(&a);
	ck_assert_str_eq(name_of(t), "up-0");
	ck_assert(has_reason(job, "clear pb", "waiting_for_job"));
	finish(&a, t, "completed");
	json_decref(t);
	/* Released: pb's task is for pb alone, which is awake and idle. */
	j = blockers(job, "clear pb");
	r = reason(j, "next_in_line");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(
	    json_string_value(json_object_get(r, "worker")), b.uuid);
	ck_assert(json_is_false(json_object_get(j, "blocked")));
	json_decref(j);
	ck_assert_int_eq(call("POST", "/api/v3/worker/state-changed",
	                     "{\"status\": \"asleep\"}", &b, NULL),
	    204);
	j = blockers(job, "clear pb");
	r = reason(j, "pinned_to_worker");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(
	    json_string_value(json_object_get(r, "worker_name")), "pb");
	ck_assert_str_eq(
	    json_string_value(json_object_get(r, "worker_status")), "asleep");
	ck_assert_ptr_null(reason(j, "next_in_line"));
	ck_assert(json_is_true(json_object_get(j, "blocked")));
	json_decref(j);
	/* Awake pa gets its own task only, never pb's. */
	t = take(&a);
	ck_assert_str_eq(name_of(t), "clear pa");
	finish(&a, t, "completed");
	json_decref(t);
	ck_assert_ptr_null(take(&a));
	free(body);
	free(job);
	free(up);
}
END_TEST

static void
setup_failures(void)
{
	start("blocklist_threshold = 1\ntask_fail_after_softfail_count = 10\n");
}

/* A worker that failed a task, and is blocklisted for its type, is the
 * only one awake: both reasons, each on its own task. */
START_TEST(test_blockers_failed_and_blocklisted)
{
	struct test_worker a, b, c;
	char *job = submit("j", "\"stage\": \"r\"", NULL, NULL);
	json_t *t;

	worker_up(&a, "wa", "\"misc\"");
	worker_up(&b, "wb", "\"misc\"");
	worker_up(&c, "wc", "\"misc\"");
	t = take(&a);
	ck_assert_str_eq(name_of(t), "r-0");
	finish(&a, t, "failed");
	json_decref(t);
	{
		char *s = task_status(job, "r-0");

		ck_assert_str_eq(s, "soft-failed");
		free(s);
	}
	ck_assert(has_reason(job, "r-0", "next_in_line"));
	ck_assert_int_eq(call("POST", "/api/v3/worker/state-changed",
	                     "{\"status\": \"asleep\"}", &b, NULL),
	    204);
	ck_assert_int_eq(call("POST", "/api/v3/worker/state-changed",
	                     "{\"status\": \"asleep\"}", &c, NULL),
	    204);
	ck_assert(has_reason(job, "r-0", "failed_by_all_workers"));
	ck_assert(has_reason(job, "r-1", "blocklisted"));
	ck_assert_ptr_null(take(&a));
	free(job);
}
END_TEST

static Suite *
jobdeps_suite(void)
{
	Suite *s = suite_create("api_jobdeps");
	TCase *tc = tcase_create("jobdeps");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_chain_runs_in_order);
	tcase_add_test(tc, test_fence_waits_for_every_task);
	tcase_add_test(tc, test_upstream_failed_keeps_waiting);
	tcase_add_test(tc, test_upstream_canceled_then_dependency_removed);
	tcase_add_test(tc, test_upstream_requeue_reblocks);
	tcase_add_test(tc, test_delete_upstream_refused);
	tcase_add_test(tc, test_mass_delete_skips_upstream);
	tcase_add_test(tc, test_mass_delete_keeps_chain);
	tcase_add_test(tc, test_cycles_refused);
	tcase_add_test(tc, test_admin_all_or_nothing);
	tcase_add_test(tc, test_admin_add_refused_once_started);
	tcase_add_test(tc, test_bad_submissions);
	tcase_add_test(tc, test_explain_shows_dependencies);
	tcase_add_test(tc, test_overlap_waits_only_where_told);
	tcase_add_test(tc, test_graph_json_and_dot);
	tcase_add_test(tc, test_graph_truncated);
	tcase_add_test(tc, test_blockers_workers);
	tcase_add_test(tc, test_blockers_worker_changing_status);
	tcase_add_test(tc, test_blockers_tag_and_paused);
	tcase_add_test(tc, test_blockers_in_job_dependencies);
	tcase_add_test(tc, test_job_blockers);
	tcase_add_test(tc, test_blockers_types_past_limit);
	tcase_add_test(tc, test_blockers_pinned_to_worker);
	suite_add_tcase(s, tc);
	tc = tcase_create("blockers_failures");
	tcase_add_checked_fixture(tc, setup_failures, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_blockers_failed_and_blocklisted);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(jobdeps_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
