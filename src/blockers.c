/*
 * Blockers: the scheduler's rules (scheduler.c, find_task) read back as
 * reasons. A worker can take a task when it is awake, supports the task
 * type, carries the job's tag (if the job has one), has not failed the
 * task and is not blocklisted for the job and type; it asks only when it
 * has no active task of its own. One pass over the workers answers all
 * of that; a thousand workers cost a few index probes each.
 */
#include "blockers.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "xmalloc.h"

/* Lists in a reason stop at this many entries ("and N more"). */
#define LIST_MAX 20
/* Counting the tasks ahead in line stops here. */
#define AHEAD_MAX 1000
/* A job's answer covers at most this many task types. */
#define TYPES_MAX 32

static const char sql_task[] =
    "SELECT t.id, t.uuid, t.name, t.type, t.status, t.priority, "
    "t.pending_deps, j.id, j.uuid, j.name, j.status, j.priority, "
    "j.worker_tag_id, j.delete_requested_at, coalesce(g.name, ''), "
    "coalesce(w.name, '') FROM tasks t JOIN jobs j ON j.id = t.job_id "
    "LEFT JOIN worker_tags g ON g.id = j.worker_tag_id "
    "LEFT JOIN workers w ON w.id = t.worker_id WHERE t.uuid = ?1";
static const char sql_task_deps[] =
    "SELECT d.uuid, d.name, d.status FROM task_dependencies td "
    "JOIN tasks d ON d.id = td.dependency_id "
    "WHERE td.task_id = ?1 AND d.status <> 'completed' ORDER BY d.id";
static const char sql_job_deps[] =
    "SELECT u.uuid, u.name, u.status, d.upstream_kind, d.upstream_match, "
    "d.remaining FROM job_dependencies d JOIN jobs u "
    "ON u.id = d.upstream_job_id WHERE d.job_id = ?1 AND d.remaining > 0 "
    "AND (?2 IS NULL OR d.waiting_kind = 'job' OR (d.waiting_kind = 'type' "
    "AND d.waiting_match = ?2) OR (d.waiting_kind = 'name' "
    "AND ?3 GLOB d.waiting_match)) ORDER BY d.id";
/* Every worker row once; who failed the task, is blocklisted, busy or
 * tagged comes from small sets read first (a few rows each), not from
 * probes per worker. */
static const char sql_workers[] =
    "SELECT id, status, supported_task_types, status_requested <> '' "
    "FROM workers WHERE deleted_at IS NULL";
static const char sql_failed_by[] =
    "SELECT worker_id FROM task_failures WHERE task_id = ?1";
static const char sql_blocked[] =
    "SELECT worker_id FROM job_blocks WHERE job_id = ?1 AND task_type = ?2";
static const char sql_busy[] =
    "SELECT worker_id FROM tasks INDEXED BY idx_tasks_active_touched "
    "WHERE status = 'active' AND worker_id IS NOT NULL";
static const char sql_tagged[] =
    "SELECT worker_id FROM worker_tag_membership WHERE worker_tag_id = ?1";
static const char sql_ahead_in_job[] =
    "SELECT count(*) FROM (SELECT 1 FROM tasks t INDEXED BY idx_tasks_ready "
    "WHERE t.job_id = ?1 AND t.type = ?2 "
    "AND t.status IN ('queued', 'soft-failed') AND t.pending_deps = 0 "
    "AND t.pinned_worker_id IS NULL "
    "AND (t.priority > ?3 OR (t.priority = ?3 AND t.id < ?4)) LIMIT 1000)";
static const char sql_ahead_jobs[] =
    "SELECT count(*) FROM (SELECT 1 FROM jobs j INDEXED BY idx_jobs_runnable "
    "JOIN tasks t ON t.job_id = j.id "
    "WHERE j.status IN ('active', 'queued') AND j.deps_unmet = 0 "
    "AND j.delete_requested_at IS NULL "
    "AND (j.priority > ?1 OR (j.priority = ?1 AND j.id < ?2)) "
    "AND t.type = ?3 AND t.status IN ('queued', 'soft-failed') "
    "AND t.pending_deps = 0 LIMIT 1000)";
static const char sql_job[] =
    "SELECT id, uuid, name, status, delete_requested_at FROM jobs "
    "WHERE uuid = ?1";
static const char sql_job_counts[] =
    "SELECT coalesce(sum(status IN ('queued', 'soft-failed')), 0), "
    "coalesce(sum(status IN ('queued', 'soft-failed') AND pending_deps = 0), "
    "0) FROM tasks WHERE job_id = ?1";
static const char sql_job_types[] =
    "SELECT type, (SELECT r.uuid FROM tasks r WHERE r.job_id = ?1 "
    "AND r.type = t.type AND r.status IN ('queued', 'soft-failed') "
    "ORDER BY r.pending_deps > 0, r.priority DESC, r.id LIMIT 1) "
    "FROM tasks t WHERE t.job_id = ?1 AND t.status IN ('queued', "
    "'soft-failed') GROUP BY type ORDER BY type LIMIT 32";

struct task_info {
	int64_t id, priority, pending, job_id, job_priority;
	int64_t tag_id; /* 0: untagged */
	bool deleting;
	char *uuid, *name, *type, *status, *job_uuid, *job_name, *job_status,
	    *tag_name, *worker_name;
};

static void
task_info_free(struct task_info *t)
{
	free(t->uuid);
	free(t->name);
	free(t->type);
	free(t->status);
	free(t->job_uuid);
	free(t->job_name);
	free(t->job_status);
	free(t->tag_name);
	free(t->worker_name);
}

/* Append {"code", "message"} plus members (may be NULL, stolen). */
static void add_reason(json_t *reasons, const char *code, json_t *details,
    const char *fmt, ...) FM_PRINTF(4, 5);

static void
add_reason(
    json_t *reasons, const char *code, json_t *details, const char *fmt, ...)
{
	json_t *r = details != NULL ? details : json_object();
	char *msg;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	json_object_set_new(r, "code", json_string(code));
	json_object_set_new(r, "message", json_string(msg ? msg : code));
	free(msg);
	json_array_append_new(reasons, r);
}

static enum fm_err
load_task(struct store_conn *conn, const char *uuid, struct task_info *t)
{
	sqlite3_stmt *st = store_stmt(conn, sql_task);
	int step;

	memset(t, 0, sizeof(*t));
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		t->id = sqlite3_column_int64(st, 0);
		t->uuid = xstrdup(store_text(st, 1));
		t->name = xstrdup(store_text(st, 2));
		t->type = xstrdup(store_text(st, 3));
		t->status = xstrdup(store_text(st, 4));
		t->priority = sqlite3_column_int64(st, 5);
		t->pending = sqlite3_column_int64(st, 6);
		t->job_id = sqlite3_column_int64(st, 7);
		t->job_uuid = xstrdup(store_text(st, 8));
		t->job_name = xstrdup(store_text(st, 9));
		t->job_status = xstrdup(store_text(st, 10));
		t->job_priority = sqlite3_column_int64(st, 11);
		t->tag_id = sqlite3_column_int64(st, 12);
		t->deleting = sqlite3_column_type(st, 13) != SQLITE_NULL;
		t->tag_name = xstrdup(store_text(st, 14));
		t->worker_name = xstrdup(store_text(st, 15));
	}
	sqlite3_reset(st);
	if (step == SQLITE_ROW)
		return FM_OK;
	return step == SQLITE_DONE ? FM_ERR_NOTFOUND
	                           : store_error(conn, step, "reading a task");
}

/* Unfinished dependencies inside the job. */
static enum fm_err
task_deps(struct store_conn *conn, const struct task_info *t, json_t *reasons)
{
	sqlite3_stmt *st = store_stmt(conn, sql_task_deps);
	json_t *list = json_array();
	int step, n = 0;

	if (st == NULL) {
		json_decref(list);
		return FM_ERR_DB;
	}
	sqlite3_bind_int64(st, 1, t->id);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++ < LIST_MAX)
			json_array_append_new(list,
			    json_pack("{s:s, s:s, s:s}", "id",
			        store_text(st, 0), "name", store_text(st, 1),
			        "status", store_text(st, 2)));
	}
	sqlite3_reset(st);
	if (step != SQLITE_DONE) {
		json_decref(list);
		return store_error(conn, step, "reading dependencies");
	}
	if (n == 0) {
		json_decref(list);
		return FM_OK;
	}
	add_reason(reasons, "waiting_for_tasks",
	    json_pack("{s:i, s:o}", "count", n, "tasks", list),
	    "waits for %d unfinished task(s) of its own job, first \"%s\" "
	    "(%s)",
	    n,
	    json_string_value(json_object_get(json_array_get(list, 0), "name")),
	    json_string_value(
	        json_object_get(json_array_get(list, 0), "status")));
	return FM_OK;
}

/* A word on whether an upstream job in this status will get there. */
static const char *
upstream_outlook(const char *status)
{
	if (strcmp(status, "failed") == 0 || strcmp(status, "canceled") == 0)
		return "; it will not finish unless it is requeued, or the "
		       "dependency removed";
	if (strcmp(status, "paused") == 0 ||
	    strcmp(status, "pause-requested") == 0)
		return "; it is paused";
	return "";
}

/* Unmet dependencies on other jobs; type/name NULL: the job's own. */
static enum fm_err
job_deps(struct store_conn *conn, int64_t job_id, const char *type,
    const char *name, json_t *reasons)
{
	sqlite3_stmt *st = store_stmt(conn, sql_job_deps);
	int step;

	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, job_id);
	if (type != NULL) {
		sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = store_text(st, 3);
		const char *match = store_text(st, 4);
		json_t *d = json_pack("{s:s, s:s, s:s, s:I}", "job",
		    store_text(st, 0), "job_name", store_text(st, 1),
		    "job_status", store_text(st, 2), "remaining",
		    (json_int_t)sqlite3_column_int64(st, 5));
		char *which;

		if (strcmp(kind, "job") != 0) {
			json_object_set_new(
			    d, "tasks", json_pack("{s:s}", kind, match));
			which = xasprintf(" with %s \"%s\"", kind, match);
		} else {
			which = xstrdup("");
		}
		add_reason(reasons, "waiting_for_job", d,
		    "waits for job \"%s\" (%s, %s): %lld task(s)%s not "
		    "completed yet%s",
		    store_text(st, 1), store_text(st, 0), store_text(st, 2),
		    (long long)sqlite3_column_int64(st, 5), which,
		    upstream_outlook(store_text(st, 2)));
		free(which);
	}
	sqlite3_reset(st);
	return step == SQLITE_DONE
	    ? FM_OK
	    : store_error(conn, step, "reading job dependencies");
}

/* Whether the comma-joined list has type exactly (as the scheduler). */
static bool
supports(const char *list, const char *type)
{
	size_t n = strlen(type);

	for (const char *p = list; *p != '\0';) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && memcmp(p, type, n) == 0)
			return true;
		if (end == NULL)
			break;
		p = end + 1;
	}
	return false;
}

struct worker_tally {
	int total, awake, typed, tagged, failed, blocked, eligible, idle;
	int changing; /* awake, but asked to change status: not given tasks */
};

static int
cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* A set of worker row ids: sorted, searched by bisection. */
struct id_set {
	int64_t *ids;
	size_t n;
};

static void
id_set_free(struct id_set *set)
{
	free(set->ids);
	set->ids = NULL;
	set->n = 0;
}

static bool
id_set_has(const struct id_set *set, int64_t id)
{
	return set->n > 0 &&
	    bsearch(&id, set->ids, set->n, sizeof(*set->ids), cmp_id) != NULL;
}

/* Read the first column of a bound st into set. */
static enum fm_err
id_set_read(struct store_conn *conn, sqlite3_stmt *st, struct id_set *set)
{
	size_t cap = 16;
	int step;

	set->n = 0;
	set->ids = xmalloc(cap * sizeof(*set->ids));
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (set->n == cap) {
			cap *= 2;
			set->ids = xrealloc(set->ids, cap * sizeof(*set->ids));
		}
		set->ids[set->n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (step != SQLITE_DONE)
		return store_error(conn, step, "reading workers");
	qsort(set->ids, set->n, sizeof(*set->ids), cmp_id);
	return FM_OK;
}

enum {
	SET_FAILED,
	SET_BLOCKED,
	SET_BUSY,
	SET_TAGGED,
	SET_COUNT
};

static enum fm_err
read_sets(struct store_conn *conn, const struct task_info *t,
    struct id_set sets[SET_COUNT])
{
	const char *sql[SET_COUNT] = { sql_failed_by, sql_blocked, sql_busy,
		sql_tagged };
	enum fm_err rc = FM_OK;

	for (int i = 0; i < SET_COUNT && rc == FM_OK; i++) {
		sqlite3_stmt *st;

		if (i == SET_TAGGED && t->tag_id == 0)
			break;
		if ((st = store_stmt(conn, sql[i])) == NULL)
			return FM_ERR_DB;
		if (i == SET_FAILED)
			sqlite3_bind_int64(st, 1, t->id);
		if (i == SET_BLOCKED) {
			sqlite3_bind_int64(st, 1, t->job_id);
			sqlite3_bind_text(st, 2, t->type, -1, SQLITE_STATIC);
		}
		if (i == SET_TAGGED)
			sqlite3_bind_int64(st, 1, t->tag_id);
		rc = id_set_read(conn, st, &sets[i]);
	}
	return rc;
}

static enum fm_err
tally_workers(
    struct store_conn *conn, const struct task_info *t, struct worker_tally *w)
{
	struct id_set sets[SET_COUNT] = { 0 };
	sqlite3_stmt *st;
	enum fm_err rc;
	int step;

	memset(w, 0, sizeof(*w));
	if ((rc = read_sets(conn, t, sets)) != FM_OK)
		goto done;
	if ((st = store_stmt(conn, sql_workers)) == NULL) {
		rc = FM_ERR_DB;
		goto done;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		bool failed, blocked;

		w->total++;
		if (strcmp(store_text(st, 1), "awake") != 0)
			continue;
		/* A pending status request answers task requests with 423
		 * (api_worker.c). */
		if (sqlite3_column_int(st, 3) != 0) {
			w->changing++;
			continue;
		}
		w->awake++;
		if (!supports(store_text(st, 2), t->type))
			continue;
		w->typed++;
		/* Untagged jobs go to every worker (scheduler.c). */
		if (t->tag_id != 0 && !id_set_has(&sets[SET_TAGGED], id))
			continue;
		w->tagged++;
		failed = id_set_has(&sets[SET_FAILED], id);
		blocked = id_set_has(&sets[SET_BLOCKED], id);
		w->failed += failed;
		w->blocked += blocked && !failed;
		if (failed || blocked)
			continue;
		w->eligible++;
		w->idle += !id_set_has(&sets[SET_BUSY], id);
	}
	sqlite3_reset(st);
	if (step != SQLITE_DONE)
		rc = store_error(conn, step, "reading workers");
done:
	for (int i = 0; i < SET_COUNT; i++)
		id_set_free(&sets[i]);
	return rc;
}

/* Reasons from the workers; *none_out: no worker could take it. */
static void
worker_reasons(const struct task_info *t, const struct worker_tally *w,
    json_t *reasons, bool *none_out)
{
	json_t *counts =
	    json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "registered",
	        w->total, "awake", w->awake, "supporting_type", w->typed,
	        "with_tag", w->tagged, "failed_it", w->failed, "blocklisted",
	        w->blocked, "eligible", w->eligible, "idle", w->idle);

	*none_out = w->eligible == 0;
	if (w->total == 0)
		add_reason(reasons, "no_workers",
		    json_pack("{s:o}", "workers", counts),
		    "no worker is registered with the Manager");
	else if (w->awake == 0)
		add_reason(reasons, "farm_asleep",
		    json_pack("{s:o}", "workers", counts),
		    "none of the %d registered worker(s) is awake and taking "
		    "tasks (%d awake but asked to change status)",
		    w->total, w->changing);
	else if (w->typed == 0)
		add_reason(reasons, "no_worker_supports_type",
		    json_pack("{s:o}", "workers", counts),
		    "none of the %d awake worker(s) supports task type \"%s\"",
		    w->awake, t->type);
	else if (w->tagged == 0)
		add_reason(reasons, "tag_mismatch",
		    json_pack(
		        "{s:o, s:s}", "workers", counts, "tag", t->tag_name),
		    "the job has worker tag \"%s\"; none of the %d awake "
		    "worker(s) supporting \"%s\" has it",
		    t->tag_name, w->typed, t->type);
	else if (w->eligible == 0)
		add_reason(reasons,
		    w->blocked == 0 ? "failed_by_all_workers" : "blocklisted",
		    json_pack("{s:o}", "workers", counts),
		    "every awake worker that could run it is ruled out: %d "
		    "already failed this task, %d are blocklisted for \"%s\" "
		    "tasks of this job",
		    w->failed, w->blocked, t->type);
	else if (w->idle == 0)
		add_reason(reasons, "workers_busy",
		    json_pack("{s:o}", "workers", counts),
		    "all %d worker(s) that could run it are busy with other "
		    "tasks",
		    w->eligible);
	else
		json_decref(counts);
}

static enum fm_err
count_one(struct store_conn *conn, sqlite3_stmt *st, int64_t *out)
{
	int step = sqlite3_step(st);

	*out = step == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	return step == SQLITE_ROW ? FM_OK
	                          : store_error(conn, step, "counting tasks");
}

/* Ready tasks of the same type the scheduler considers first. */
static enum fm_err
ahead_in_line(
    struct store_conn *conn, const struct task_info *t, int64_t *ahead_out)
{
	sqlite3_stmt *st = store_stmt(conn, sql_ahead_in_job);
	int64_t in_job = 0, in_jobs = 0;
	enum fm_err rc;

	*ahead_out = 0;
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, t->job_id);
	sqlite3_bind_text(st, 2, t->type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, t->priority);
	sqlite3_bind_int64(st, 4, t->id);
	if ((rc = count_one(conn, st, &in_job)) != FM_OK)
		return rc;
	if ((st = store_stmt(conn, sql_ahead_jobs)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, t->job_priority);
	sqlite3_bind_int64(st, 2, t->job_id);
	sqlite3_bind_text(st, 3, t->type, -1, SQLITE_STATIC);
	rc = count_one(conn, st, &in_jobs);
	*ahead_out = in_job + in_jobs;
	return rc;
}

static bool
is_runnable_job(const char *status)
{
	return strcmp(status, "active") == 0 || strcmp(status, "queued") == 0;
}

/* The reasons for one loaded task; *blocked_out when any holds it. */
static enum fm_err
task_reasons(struct store_conn *conn, const struct task_info *t,
    json_t *reasons, bool *blocked_out)
{
	struct worker_tally w;
	bool queued = strcmp(t->status, "queued") == 0 ||
	    strcmp(t->status, "soft-failed") == 0;
	bool none;
	int64_t ahead;
	enum fm_err rc;

	*blocked_out = true;
	if (!queued) {
		add_reason(reasons, "task_not_queued",
		    json_pack("{s:s}", "task_status", t->status),
		    strcmp(t->status, "active") == 0
		        ? "the task is already active (worker \"%s\")"
		        : "the task is %s; only queued and soft-failed tasks "
		          "are handed out",
		    strcmp(t->status, "active") == 0 ? t->worker_name
		                                     : t->status);
		return FM_OK;
	}
	if (t->deleting)
		add_reason(reasons, "job_deletion_requested", NULL,
		    "its job \"%s\" is being deleted", t->job_name);
	else if (!is_runnable_job(t->job_status))
		add_reason(reasons, "job_not_runnable",
		    json_pack("{s:s}", "job_status", t->job_status),
		    "its job \"%s\" is %s; only tasks of active and queued jobs "
		    "are handed out",
		    t->job_name, t->job_status);
	if ((rc = task_deps(conn, t, reasons)) != FM_OK ||
	    (rc = job_deps(conn, t->job_id, t->type, t->name, reasons)) !=
	        FM_OK)
		return rc;
	if ((rc = tally_workers(conn, t, &w)) != FM_OK)
		return rc;
	worker_reasons(t, &w, reasons, &none);
	if (json_array_size(reasons) > 0) {
		/* Busy workers alone only mean waiting its turn. */
		const char *only = json_string_value(
		    json_object_get(json_array_get(reasons, 0), "code"));

		*blocked_out = json_array_size(reasons) > 1 ||
		    strcmp(only, "workers_busy") != 0;
		if (*blocked_out)
			return FM_OK;
	}
	if ((rc = ahead_in_line(conn, t, &ahead)) != FM_OK)
		return rc;
	*blocked_out = false;
	if (ahead == 0 && json_array_size(reasons) == 0)
		add_reason(reasons, "next_in_line", NULL,
		    "nothing blocks it: it is next in line for task type "
		    "\"%s\" and goes to the next of %d idle eligible worker(s) "
		    "that asks for a task",
		    t->type, w.idle);
	else if (ahead > 0)
		add_reason(reasons, "in_line",
		    json_pack("{s:I}", "ahead", (json_int_t)ahead),
		    "nothing blocks it: %s%lld ready task(s) of type \"%s\" "
		    "come first (higher job or task priority, or older)",
		    ahead >= AHEAD_MAX ? "at least " : "", (long long)ahead,
		    t->type);
	return FM_OK;
}

enum fm_err
blockers_task(struct store_conn *conn, const char *task_uuid, json_t **out)
{
	struct task_info t;
	json_t *reasons = json_array();
	bool blocked;
	enum fm_err rc;

	*out = NULL;
	if ((rc = load_task(conn, task_uuid, &t)) == FM_OK &&
	    (rc = task_reasons(conn, &t, reasons, &blocked)) == FM_OK)
		*out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:O}", "task",
		    t.uuid, "task_name", t.name, "job", t.job_uuid,
		    "task_status", t.status, "task_type", t.type, "blocked",
		    blocked, "reasons", reasons);
	json_decref(reasons);
	task_info_free(&t);
	return rc;
}

/* Each task type with queued work and its most promising task (ready
 * first, then in scheduling order), as [[type, uuid]...] (new). */
static enum fm_err
job_types(struct store_conn *conn, int64_t job_id, json_t **out)
{
	sqlite3_stmt *st = store_stmt(conn, sql_job_types);
	int step;

	*out = NULL;
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, job_id);
	*out = json_array();
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(*out,
		    json_pack("[s, s]", store_text(st, 0), store_text(st, 1)));
	sqlite3_reset(st);
	if (step == SQLITE_DONE)
		return FM_OK;
	json_decref(*out);
	*out = NULL;
	return store_error(conn, step, "listing task types");
}

static enum fm_err
per_type(struct store_conn *conn, const json_t *types, json_t *list,
    bool *all_blocked)
{
	size_t i;
	json_t *pair;

	*all_blocked = true;
	json_array_foreach (types, i, pair) {
		struct task_info t;
		json_t *reasons = json_array();
		bool blocked = true;
		enum fm_err rc = load_task(
		    conn, json_string_value(json_array_get(pair, 1)), &t);

		if (rc == FM_OK)
			rc = task_reasons(conn, &t, reasons, &blocked);
		if (rc == FM_OK)
			json_array_append_new(list,
			    json_pack("{s:s, s:s, s:s, s:b, s:O}", "task_type",
			        t.type, "task", t.uuid, "task_name", t.name,
			        "blocked", blocked, "reasons", reasons));
		json_decref(reasons);
		task_info_free(&t);
		if (rc != FM_OK)
			return rc;
		*all_blocked = *all_blocked && blocked;
	}
	return FM_OK;
}

enum fm_err
blockers_job(struct store_conn *conn, const char *job_uuid, json_t **out)
{
	sqlite3_stmt *st = store_stmt(conn, sql_job);
	json_t *reasons = json_array(), *types = NULL, *list = json_array();
	int64_t job_id = 0, queued = 0, ready = 0;
	char *name = NULL, *status = NULL;
	bool deleting = false, all_blocked = true;
	enum fm_err rc = FM_ERR_DB;
	int step;

	*out = NULL;
	if (st == NULL)
		goto done;
	sqlite3_bind_text(st, 1, job_uuid, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		job_id = sqlite3_column_int64(st, 0);
		name = xstrdup(store_text(st, 2));
		status = xstrdup(store_text(st, 3));
		deleting = sqlite3_column_type(st, 4) != SQLITE_NULL;
	}
	sqlite3_reset(st);
	if (step != SQLITE_ROW) {
		rc = step == SQLITE_DONE
		    ? FM_ERR_NOTFOUND
		    : store_error(conn, step, "reading a job");
		goto done;
	}
	if ((st = store_stmt(conn, sql_job_counts)) == NULL)
		goto done;
	sqlite3_bind_int64(st, 1, job_id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		queued = sqlite3_column_int64(st, 0);
		ready = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (step != SQLITE_ROW) {
		rc = store_error(conn, step, "counting tasks");
		goto done;
	}
	if (deleting)
		add_reason(reasons, "job_deletion_requested", NULL,
		    "the job is being deleted");
	else if (!is_runnable_job(status))
		add_reason(reasons, "job_not_runnable",
		    json_pack("{s:s}", "job_status", status),
		    "the job is %s; only tasks of active and queued jobs are "
		    "handed out",
		    status);
	if ((rc = job_deps(conn, job_id, NULL, NULL, reasons)) != FM_OK)
		goto done;
	if (queued == 0)
		add_reason(reasons, "nothing_queued", NULL,
		    "no task of the job is queued or soft-failed");
	if ((rc = job_types(conn, job_id, &types)) != FM_OK ||
	    (rc = per_type(conn, types, list, &all_blocked)) != FM_OK)
		goto done;
	*out = json_pack("{s:s, s:s, s:s, s:b, s:{s:I, s:I, s:I}, s:O, s:O}",
	    "job", job_uuid, "job_name", name, "job_status", status, "blocked",
	    queued > 0 && (json_array_size(reasons) > 0 || all_blocked),
	    "counts", "queued", (json_int_t)queued, "ready", (json_int_t)ready,
	    "waiting", (json_int_t)(queued - ready), "reasons", reasons,
	    "task_types", list);
done:
	json_decref(reasons);
	json_decref(types);
	json_decref(list);
	free(name);
	free(status);
	return rc;
}
