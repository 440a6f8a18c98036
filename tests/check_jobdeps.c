/*
 * Unit tests for job dependencies below the API: the shape checks of
 * jobdeps.c, the bookkeeping the triggers of migration 0003 keep
 * (job_dependencies.remaining, tasks.pending_deps, jobs.deps_unmet) as
 * upstream tasks complete, go back, and as dependencies and jobs are
 * removed, store_jobdeps.c's refusals, and DOT escaping in jobgraph.c.
 */
#include <check.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blockers.h"
#include "ids.h"
#include "jobdeps.h"
#include "jobgraph.h"
#include "log.h"
#include "store_internal.h"
#include "store_jobdeps.h"
#include "store_jobs.h"
#include "testutil.h"
#include "timeutil.h"
#include "xmalloc.h"

static char *dir;
static struct store *store;
static struct store_conn *conn;

static void
setup(void)
{
	char *db, *err = NULL;

	log_set_level(LOG_LEVEL_WARN);
	dir = test_tmpdir();
	db = xasprintf("%s/fm.sqlite", dir);
	if (store_open(db, 1, &store, &err) != FM_OK)
		ck_abort_msg("store_open: %s", err);
	conn = store_acquire(store);
	free(db);
}

static void
teardown(void)
{
	store_release(store, conn);
	store_close(store);
	test_rmtree(dir);
	free(dir);
}

/* --- shape checks -------------------------------------------------- */

static const char *
check(const char *json, bool overlap)
{
	static char msg[300];
	json_t *v = json_loads(json, JSON_ALLOW_NUL, NULL);
	char *m = NULL;
	enum fm_err rc;

	ck_assert_ptr_nonnull(v);
	rc = jobdeps_check_list(v, overlap, &m);
	snprintf(msg, sizeof(msg), "%s", rc == FM_OK ? "ok" : m);
	ck_assert(rc == FM_OK ? m == NULL : m != NULL);
	free(m);
	json_decref(v);
	return msg;
}

#define UP "\"job\": \"5f0e8a4c-2d8b-4a43-9e55-0b2b8e7f1a10\""

START_TEST(test_shapes)
{
	ck_assert_str_eq(check("[]", false), "ok");
	ck_assert_str_eq(check("[{" UP "}]", false), "ok");
	ck_assert_str_eq(
	    check("[{" UP ", \"tasks\": {\"name\": \"r-*\"}}]", false), "ok");
	ck_assert_str_eq(
	    check("[{" UP ", \"tasks\": {\"type\": \"blender\"}}]", false),
	    "ok");
	ck_assert_str_eq(check("[{" UP ", \"tasks\": null}]", false), "ok");
	ck_assert_str_eq(
	    check("[{" UP ", \"waiting\": {\"name\": \"c\"}}]", true), "ok");
	ck_assert_ptr_nonnull(strstr(check("{}", false), "must be an array"));
	ck_assert_ptr_nonnull(
	    strstr(check("[{}]", false), "depends_on[0].job must be"));
	ck_assert_ptr_nonnull(strstr(
	    check("[{" UP "}, {\"job\": 3}]", false), "depends_on[1].job"));
	ck_assert_ptr_nonnull(
	    strstr(check("[{" UP ", \"tasks\": {}}]", false), "one member"));
	ck_assert_ptr_nonnull(
	    strstr(check("[{" UP ", \"tasks\": {\"name\": \"\"}}]", false),
	        "non-empty"));
	ck_assert_ptr_nonnull(
	    strstr(check("[{" UP ", \"tasks\": {\"kind\": \"x\"}}]", false),
	        "unknown member \"kind\""));
	ck_assert_ptr_nonnull(strstr(
	    check("[{" UP ", \"tasks\": {\"name\": \"a\\u0000b\"}}]", false),
	    "NUL"));
	ck_assert_ptr_nonnull(
	    strstr(check("[{" UP ", \"waiting\": {\"name\": \"c\"}}]", false),
	        "needs dependency_mode"));
	ck_assert_ptr_nonnull(
	    strstr(check("[{" UP ", \"extra\": 1}]", false), "unknown member"));
	ck_assert_ptr_nonnull(strstr(check("[{" UP "}, {" UP ", \"tasks\": "
	                                   "{\"type\": \"a\"}}, {" UP "}]",
	                                 false),
	    "depends_on[2] repeats depends_on[0]"));
	ck_assert_str_eq(check("[{" UP "}, {" UP ", \"tasks\": {\"type\": "
	                       "\"a\"}}]",
	                     false),
	    "ok");
}
END_TEST

START_TEST(test_modes_and_selectors)
{
	json_t *e =
	    json_loads("{" UP ", \"tasks\": {\"type\": \"blender\"}}", 0, NULL);
	struct jobdeps_selector s;
	bool overlap;

	s = jobdeps_upstream(e);
	ck_assert_str_eq(s.kind, "type");
	ck_assert_str_eq(s.match, "blender");
	s = jobdeps_waiting(e);
	ck_assert_str_eq(s.kind, "job");
	ck_assert_str_eq(s.match, "");
	json_decref(e);
	ck_assert(jobdeps_parse_mode(NULL, &overlap) && !overlap);
	ck_assert(jobdeps_parse_mode("strict", &overlap) && !overlap);
	ck_assert(jobdeps_parse_mode("overlap", &overlap) && overlap);
	ck_assert(!jobdeps_parse_mode("Overlap", &overlap));
}
END_TEST

/* --- bookkeeping ---------------------------------------------------- */

/* Store a job with tasks "name:type" (comma-separated); returns its
 * uuid (new). deps: its "depends_on" JSON text or NULL. */
static char *
store_job(const char *tasks, const char *deps, bool overlap)
{
	char uuid[ID_UUID_LEN + 1], *list = xstrdup(tasks), *save = NULL;
	json_t *arr = json_array(), *job;

	for (char *t = strtok_r(list, ",", &save); t != NULL;
	     t = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(t, ':');

		*colon = '\0';
		ids_new_uuid(uuid);
		json_array_append_new(arr,
		    json_pack("{s:s, s:s, s:s, s:i, s:[], s:[]}", "uuid", uuid,
		        "name", t, "type", colon + 1, "priority", 50,
		        "commands", "dependencies"));
	}
	free(list);
	ids_new_uuid(uuid);
	job = json_pack("{s:s, s:s, s:s, s:i, s:s, s:{}, s:{}, s:I, s:o}", "id",
	    uuid, "name", "j", "type", "t", "priority", 50, "status", "queued",
	    "settings", "metadata", "created", (json_int_t)time_now_us(),
	    "tasks", arr);
	if (deps != NULL)
		json_object_set_new(
		    job, "depends_on", json_loads(deps, 0, NULL));
	if (overlap)
		json_object_set_new(job, "dependency_overlap", json_true());
	ck_assert_int_eq(store_jobs_insert(conn, job), FM_OK);
	json_decref(job);
	return xstrdup(uuid);
}

static long long q(const char *fmt, ...) FM_PRINTF(1, 2);

/* One integer from a query (printf-style). */
static long long
q(const char *fmt, ...)
{
	sqlite3_stmt *st;
	long long v = -1;
	va_list ap;
	char *sql;

	va_start(ap, fmt);
	ck_assert_int_ge(vasprintf(&sql, fmt, ap), 0);
	va_end(ap);
	ck_assert_int_eq(
	    sqlite3_prepare_v2(store_db(conn), sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	free(sql);
	return v;
}

static void exec(const char *fmt, ...) FM_PRINTF(1, 2);

static void
exec(const char *fmt, ...)
{
	va_list ap;
	char *sql;

	va_start(ap, fmt);
	ck_assert_int_ge(vasprintf(&sql, fmt, ap), 0);
	va_end(ap);
	ck_assert_msg(
	    sqlite3_exec(store_db(conn), sql, NULL, NULL, NULL) == SQLITE_OK,
	    "%s: %s", sql, sqlite3_errmsg(store_db(conn)));
	free(sql);
}

/* Sum of pending_deps of the job's tasks named like pattern. */
static long long
pending(const char *job, const char *pattern)
{
	return q("SELECT coalesce(sum(t.pending_deps), 0) FROM tasks t JOIN "
	         "jobs j ON j.id = t.job_id WHERE j.uuid = '%s' AND t.name "
	         "GLOB '%s'",
	    job, pattern);
}

static void
set_status(const char *job, const char *task, const char *status)
{
	exec("UPDATE tasks SET status = '%s' WHERE name = '%s' AND job_id = "
	     "(SELECT id FROM jobs WHERE uuid = '%s')",
	    status, task, job);
}

static long long
unmet(const char *job)
{
	return q("SELECT deps_unmet FROM jobs WHERE uuid = '%s'", job);
}

START_TEST(test_selected_tasks_release_and_reblock)
{
	char *up = store_job("r-0:misc,r-1:misc,preview:ffmpeg", NULL, false);
	char *deps = xasprintf(
	    "[{\"job\": \"%s\", \"tasks\": {\"name\": \"r-*\"}}]", up);
	char *down = store_job("c-0:misc,c-1:misc", deps, false);

	/* A whole-job wait holds the job, not its tasks: releasing it is
	 * one row update however many tasks it has. */
	ck_assert_int_eq(pending(down, "*"), 0);
	ck_assert_int_eq(unmet(down), 1);
	ck_assert_int_eq(q("SELECT remaining FROM job_dependencies"), 2);
	set_status(up, "r-0", "completed");
	ck_assert_int_eq(q("SELECT remaining FROM job_dependencies"), 1);
	ck_assert_int_eq(unmet(down), 1);
	set_status(up, "r-1", "completed");
	ck_assert_int_eq(pending(down, "*"), 0);
	ck_assert_int_eq(unmet(down), 0);
	/* Not selected: no effect either way. */
	set_status(up, "preview", "completed");
	set_status(up, "preview", "queued");
	ck_assert_int_eq(pending(down, "*"), 0);
	/* Back from completed: held back again, running or not. */
	set_status(down, "c-0", "active");
	set_status(up, "r-1", "queued");
	ck_assert_int_eq(pending(down, "*"), 0);
	ck_assert_int_eq(unmet(down), 1);
	ck_assert_int_eq(q("SELECT remaining FROM job_dependencies"), 1);
	free(deps);
	free(up);
	free(down);
}
END_TEST

START_TEST(test_overlap_holds_back_only_waiting_tasks)
{
	char *up = store_job("bake:misc", NULL, false);
	char *deps = xasprintf("[{\"job\": \"%s\", \"waiting\": {\"type\": "
	                       "\"ffmpeg\"}}]",
	    up);
	char *down =
	    store_job("prep:misc,enc-0:ffmpeg,enc-1:ffmpeg", deps, true);

	ck_assert_int_eq(pending(down, "prep"), 0);
	ck_assert_int_eq(pending(down, "enc-*"), 2);
	/* Not a fence: the scheduler still walks the job. */
	ck_assert_int_eq(unmet(down), 0);
	ck_assert_int_eq(q("SELECT count(*) FROM jobs WHERE uuid = '%s' AND "
	                   "dependency_mode = 'overlap'",
	                     down),
	    1);
	set_status(up, "bake", "completed");
	ck_assert_int_eq(pending(down, "*"), 0);
	free(deps);
	free(up);
	free(down);
}
END_TEST

START_TEST(test_removal_and_cascades_release)
{
	char *a = store_job("a:misc", NULL, false);
	char *b = store_job("b:misc", NULL, false);
	char *deps = xasprintf("[{\"job\": \"%s\"}, {\"job\": \"%s\"}]", a, b);
	char *down = store_job("d:misc", deps, false);
	int removed, n;
	char *names;

	ck_assert_int_eq(pending(down, "*"), 0);
	ck_assert_int_eq(unmet(down), 2);
	ck_assert_int_eq(
	    store_jobdeps_waiters(conn,
	        q("SELECT id FROM jobs WHERE uuid = '%s'", a), &n, &names),
	    FM_OK);
	ck_assert_int_eq(n, 1);
	ck_assert_ptr_nonnull(strstr(names, down));
	free(names);
	ck_assert_int_eq(
	    store_jobdeps_remove(conn,
	        q("SELECT id FROM jobs WHERE uuid = '%s'", down), a, &removed),
	    FM_OK);
	ck_assert_int_eq(removed, 1);
	ck_assert_int_eq(pending(down, "*"), 0);
	ck_assert_int_eq(unmet(down), 1);
	/* The upstream job's rows going (deleter) releases the rest. */
	exec("DELETE FROM jobs WHERE uuid = '%s'", b);
	ck_assert_int_eq(q("SELECT count(*) FROM job_dependencies"), 0);
	ck_assert_int_eq(pending(down, "*"), 0);
	ck_assert_int_eq(unmet(down), 0);
	free(deps);
	free(a);
	free(b);
	free(down);
}
END_TEST

/* Refusals leave nothing behind: a list with a bad second entry. */
START_TEST(test_add_refusals)
{
	char *a = store_job("a:misc", NULL, false);
	char *b = store_job("b:misc", NULL, false);
	char *c = store_job("c:misc", NULL, false);
	int64_t cid = q("SELECT id FROM jobs WHERE uuid = '%s'", c);
	char *text = xasprintf("[{\"job\": \"%s\"}, {\"job\": \"%s\", "
	                       "\"tasks\": {\"type\": \"nope\"}}]",
	    a, b);
	json_t *list = json_loads(text, 0, NULL);
	char *msg = NULL;

	ck_assert_int_eq(store_begin(conn, true), FM_OK);
	ck_assert_int_eq(
	    store_jobdeps_add(conn, cid, list, NULL, &msg), FM_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(msg, "depends_on[1]"));
	store_rollback(conn);
	ck_assert_int_eq(q("SELECT count(*) FROM job_dependencies"), 0);
	ck_assert_int_eq(pending(c, "*"), 0);
	free(msg);
	json_decref(list);
	free(text);
	free(a);
	free(b);
	free(c);
}
END_TEST

/* A cycle through 40 jobs is found and named whole, in order. */
START_TEST(test_long_cycle_named)
{
	char *ids[40], *deps, *text, *msg = NULL;
	json_t *list;
	const char *p;
	int n = 0;

	ids[0] = store_job("t:misc", NULL, false);
	for (int i = 1; i < 40; i++) {
		deps = xasprintf("[{\"job\": \"%s\"}]", ids[i - 1]);
		ids[i] = store_job("t:misc", deps, false);
		free(deps);
	}
	/* The first job waiting for the last closes the ring. */
	text = xasprintf("[{\"job\": \"%s\"}]", ids[39]);
	list = json_loads(text, 0, NULL);
	ck_assert_int_eq(store_begin(conn, true), FM_OK);
	ck_assert_int_eq(store_jobdeps_add(conn,
	                     q("SELECT id FROM jobs WHERE uuid = '%s'", ids[0]),
	                     list, NULL, &msg),
	    FM_ERR_INVALID);
	store_rollback(conn);
	ck_assert_ptr_nonnull(strstr(msg, "would make a cycle"));
	for (p = msg; (p = strstr(p, " waits for ")) != NULL; p++)
		n++;
	ck_assert_int_eq(n, 40);
	/* Downstream first: the first job, the last, ..., the first. */
	ck_assert_ptr_eq(strstr(msg, ids[0]), strstr(msg, "cycle: ") + 12);
	ck_assert_ptr_nonnull(strstr(strstr(msg, ids[39]), ids[38]));
	free(msg);
	json_decref(list);
	free(text);
	for (int i = 0; i < 40; i++)
		free(ids[i]);
}
END_TEST

/* Several entries share one walk downstream; the one closing a cycle is
 * named with the jobs around it. */
START_TEST(test_cycle_in_later_entry)
{
	char *a = store_job("a:misc", NULL, false);
	char *x = store_job("x:misc", NULL, false);
	char *da = xasprintf("[{\"job\": \"%s\"}]", a);
	char *b = store_job("b:misc", da, false);
	char *db = xasprintf("[{\"job\": \"%s\"}]", b);
	char *c = store_job("c:misc", db, false);
	char *text = xasprintf("[{\"job\": \"%s\"}, {\"job\": \"%s\"}]", x, c);
	json_t *list = json_loads(text, 0, NULL);
	char *msg = NULL, *want;

	ck_assert_int_eq(store_begin(conn, true), FM_OK);
	ck_assert_int_eq(store_jobdeps_add(conn,
	                     q("SELECT id FROM jobs WHERE uuid = '%s'", a),
	                     list, NULL, &msg),
	    FM_ERR_INVALID);
	store_rollback(conn);
	want = xasprintf("depends_on[1] would make a cycle: \"j\" (%s) "
	                 "waits for \"j\" (%s) waits for \"j\" (%s) "
	                 "waits for \"j\" (%s)",
	    a, c, b, a);
	ck_assert_str_eq(msg, want);
	ck_assert_int_eq(q("SELECT count(*) FROM job_dependencies"), 2);
	free(want);
	free(msg);
	json_decref(list);
	free(text);
	free(da);
	free(db);
	free(a);
	free(b);
	free(c);
	free(x);
}
END_TEST

/* The codes of blockers' reasons, comma-joined (new), for the job's task
 * with this name after its pending_deps was set to pending. */
static char *
codes_with_pending(const char *job, const char *task, int pending)
{
	sqlite3_stmt *st;
	json_t *b = NULL, *r;
	char *uuid, *codes = xstrdup("");
	size_t i;

	exec(
	    "UPDATE tasks SET pending_deps = %d WHERE name = '%s' AND job_id = "
	    "(SELECT id FROM jobs WHERE uuid = '%s')",
	    pending, task, job);
	ck_assert_int_eq(
	    sqlite3_prepare_v2(store_db(conn),
	        "SELECT t.uuid FROM tasks t JOIN jobs j ON "
	        "j.id = t.job_id WHERE j.uuid = ?1 AND t.name = ?2",
	        -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, task, -1, SQLITE_STATIC);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	uuid = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	ck_assert_int_eq(blockers_task(conn, uuid, &b), FM_OK);
	json_array_foreach (json_object_get(b, "reasons"), i, r) {
		char *more = xasprintf("%s%s,", codes,
		    json_string_value(json_object_get(r, "code")));

		free(codes);
		codes = more;
	}
	json_decref(b);
	free(uuid);
	return codes;
}

/* A drifted pending_deps counter is named, not passed off as a wait. */
START_TEST(test_blockers_bookkeeping_mismatch)
{
	char *up = store_job("bake:misc", NULL, false);
	char *deps = xasprintf(
	    "[{\"job\": \"%s\", \"waiting\": {\"type\": \"ffmpeg\"}}]", up);
	char *down = store_job("prep:misc,enc:ffmpeg", deps, true);
	char *codes;

	/* Right as stored: enc waits for the job, prep for nothing. */
	codes = codes_with_pending(down, "enc", 1);
	ck_assert_str_eq(codes, "waiting_for_job,no_workers,");
	free(codes);
	codes = codes_with_pending(down, "prep", 0);
	ck_assert_ptr_null(strstr(codes, "bookkeeping_mismatch"));
	free(codes);
	/* Drifted either way. */
	codes = codes_with_pending(down, "prep", 1);
	ck_assert_str_eq(codes, "bookkeeping_mismatch,no_workers,");
	free(codes);
	codes = codes_with_pending(down, "enc", 3);
	ck_assert_str_eq(
	    codes, "waiting_for_job,bookkeeping_mismatch,no_workers,");
	free(codes);
	codes = codes_with_pending(down, "enc", 0);
	ck_assert_ptr_nonnull(strstr(codes, "bookkeeping_mismatch"));
	free(codes);
	free(deps);
	free(up);
	free(down);
}
END_TEST

/* Upstream tasks listed again and again (many dependencies selecting the
 * same tasks) count toward the edge cap, and stop at it. */
START_TEST(test_graph_from_tasks_capped)
{
	char *list = xstrdup("t0:misc"), *up, *down;
	json_t *g, *e;
	size_t i, listed = 0;

	for (int k = 1; k < 50; k++) {
		char *more = xasprintf("%s,t%d:misc", list, k);

		free(list);
		list = more;
	}
	up = store_job(list, NULL, false);
	down = store_job("d:misc", NULL, false);
	/* 500 rows, each selecting all 50 tasks: 25,000 listings. */
	exec("WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n "
	     "WHERE k < 500) INSERT INTO job_dependencies (created_at, job_id, "
	     "upstream_job_id, upstream_kind, upstream_match, remaining) "
	     "SELECT 0, (SELECT id FROM jobs WHERE uuid = '%s'), (SELECT id "
	     "FROM jobs WHERE uuid = '%s'), 'name', "
	     "replace(hex(zeroblob(k)), '00', '*'), 50 FROM n",
	    down, up);
	ck_assert_int_eq(jobgraph_json(conn, down, &g), FM_OK);
	ck_assert(json_is_true(json_object_get(g, "truncated")));
	ck_assert_uint_eq(json_array_size(json_object_get(g, "tasks")), 51);
	ck_assert_uint_eq(json_array_size(json_object_get(g, "jobs")), 2);
	json_array_foreach (json_object_get(g, "job_edges"), i, e)
		listed += json_array_size(json_object_get(e, "from_tasks"));
	ck_assert_uint_eq(listed, JOBGRAPH_MAX_EDGES);
	json_decref(g);
	free(list);
	free(up);
	free(down);
}
END_TEST

/* A dependency refused at store time (its upstream job went since the
 * submission was checked) says which and why, and nothing is stored. */
START_TEST(test_insert_refusal_names_entry)
{
	char *up = store_job("u:misc", NULL, false), *msg = NULL;
	char *text = xasprintf("[{\"job\": \"%s\"}]", up);
	char uuid[ID_UUID_LEN + 1];
	json_t *job;

	exec("UPDATE jobs SET delete_requested_at = 1 WHERE uuid = '%s'", up);
	ids_new_uuid(uuid);
	job = json_pack("{s:s, s:s, s:s, s:i, s:s, s:{}, s:{}, s:I, s:[]}",
	    "id", uuid, "name", "late", "type", "t", "priority", 50, "status",
	    "queued", "settings", "metadata", "created",
	    (json_int_t)time_now_us(), "tasks");
	json_object_set_new(job, "depends_on", json_loads(text, 0, NULL));
	ck_assert_int_eq(
	    store_jobs_insert_why(conn, job, &msg), FM_ERR_CONFLICT);
	ck_assert_ptr_nonnull(msg);
	ck_assert_ptr_nonnull(strstr(msg, "depends_on[0]: no job"));
	ck_assert_int_eq(
	    q("SELECT count(*) FROM jobs WHERE uuid = '%s'", uuid), 0);
	free(msg);
	json_decref(job);
	free(text);
	free(up);
}
END_TEST

/* The most a job may wait for: 1,000 upstream jobs, one row each. */
START_TEST(test_thousand_upstream_jobs)
{
	char *ups[JOBDEPS_MAX], *text = xstrdup("["), *down;

	for (int i = 0; i < JOBDEPS_MAX; i++) {
		char *more;

		ups[i] = store_job("u:misc", NULL, false);
		more = xasprintf(
		    "%s%s{\"job\": \"%s\"}", text, i ? ", " : "", ups[i]);
		free(text);
		text = more;
	}
	down = xasprintf("%s]", text);
	free(text);
	text = down;
	down = store_job("d:misc", text, false);
	ck_assert_int_eq(
	    q("SELECT count(*) FROM job_dependencies"), JOBDEPS_MAX);
	ck_assert_int_eq(pending(down, "*"), 0);
	ck_assert_int_eq(unmet(down), JOBDEPS_MAX);
	exec("UPDATE tasks SET status = 'completed' WHERE name = 'u'");
	ck_assert_int_eq(pending(down, "*"), 0);
	ck_assert_int_eq(unmet(down), 0);
	/* The cap holds across later additions too (the admin POST). */
	{
		char *extra = store_job("x:misc", NULL, false);
		char *more = xasprintf("[{\"job\": \"%s\"}]", extra);
		json_t *list = json_loads(more, 0, NULL);
		char *msg = NULL;

		ck_assert_int_eq(store_begin(conn, true), FM_OK);
		ck_assert_int_eq(
		    store_jobdeps_add(conn,
		        q("SELECT id FROM jobs WHERE uuid = '%s'", down), list,
		        NULL, &msg),
		    FM_ERR_INVALID);
		store_rollback(conn);
		ck_assert_ptr_nonnull(strstr(msg, "at most 1000 per job"));
		ck_assert_int_eq(
		    q("SELECT count(*) FROM job_dependencies"), JOBDEPS_MAX);
		free(msg);
		json_decref(list);
		free(more);
		free(extra);
	}
	for (int i = 0; i < JOBDEPS_MAX; i++)
		free(ups[i]);
	free(text);
	free(down);
}
END_TEST

START_TEST(test_dot_escapes_names)
{
	json_t *g = json_loads(
	    "{\"job\": \"j1\", \"truncated\": true, \"max_tasks\": 2, "
	    "\"max_edges\": 3, \"jobs\": [{\"id\": \"j1\", \"name\": "
	    "\"a \\\"b\\\" \\\\ c\\nd\", \"status\": \"queued\", \"role\": "
	    "\"self\"}], \"tasks\": [{\"id\": \"t1\", \"job\": \"j1\", "
	    "\"name\": \"x\\\"y\", \"type\": \"misc\", \"status\": "
	    "\"completed\"}], \"edges\": [], \"job_edges\": []}",
	    0, NULL);
	char *dot;

	ck_assert_ptr_nonnull(g);
	dot = jobgraph_dot(g);
	ck_assert_ptr_nonnull(
	    strstr(dot, "label=\"a \\\"b\\\" \\\\ c d (queued"));
	ck_assert_ptr_nonnull(strstr(dot, "label=\"x\\\"y\\ncompleted\""));
	ck_assert_ptr_nonnull(strstr(dot, "fillcolor=palegreen"));
	ck_assert_ptr_nonnull(strstr(dot, "truncated: at most 2 tasks"));
	free(dot);
	json_decref(g);
}
END_TEST

static Suite *
jobdeps_suite(void)
{
	Suite *s = suite_create("jobdeps");
	TCase *tc = tcase_create("shapes");

	tcase_add_test(tc, test_shapes);
	tcase_add_test(tc, test_modes_and_selectors);
	tcase_add_test(tc, test_dot_escapes_names);
	suite_add_tcase(s, tc);
	tc = tcase_create("store");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_selected_tasks_release_and_reblock);
	tcase_add_test(tc, test_overlap_holds_back_only_waiting_tasks);
	tcase_add_test(tc, test_removal_and_cascades_release);
	tcase_add_test(tc, test_add_refusals);
	tcase_add_test(tc, test_long_cycle_named);
	tcase_add_test(tc, test_cycle_in_later_entry);
	tcase_add_test(tc, test_blockers_bookkeeping_mismatch);
	tcase_add_test(tc, test_graph_from_tasks_capped);
	tcase_add_test(tc, test_insert_refusal_names_entry);
	tcase_add_test(tc, test_thousand_upstream_jobs);
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
