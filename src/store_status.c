/*
 * Applying status rules to stored jobs and tasks. Decisions come from
 * state.c; this file turns them into SQL and task-log lines. Per-status
 * task counts come from job_task_counts (kept by triggers), so a rule
 * check costs a handful of rows however large the job is.
 */
#include "store_status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "store_internal.h"
#include "store_jobdeps.h"
#include "store_workers.h"
#include "tasklog.h"
#include "timeutil.h"
#include "xmalloc.h"

static const char sql_load_task[] =
    "SELECT t.id, t.job_id, t.worker_id, t.uuid, j.uuid, t.type, t.status, "
    "j.status, t.steps_total, j.worker_tag_id, "
    "coalesce(t.last_touched_at, 0) FROM tasks t "
    "JOIN jobs j ON j.id = t.job_id WHERE t.uuid = ?1";
static const char sql_task_status[] =
    "UPDATE tasks SET status = ?2, updated_at = ?3, "
    "activity = coalesce(?4, activity), steps_completed = CASE ?2 "
    "WHEN 'completed' THEN steps_total WHEN 'queued' THEN 0 "
    "ELSE steps_completed END WHERE id = ?1";
static const char sql_job_counts[] =
    "SELECT status, n FROM job_task_counts WHERE job_id = ?1";
static const char sql_job_get_status[] =
    "SELECT status, uuid FROM jobs WHERE id = ?1";
static const char sql_job_set_status[] =
    "UPDATE jobs SET status = ?2, activity = ?3, updated_at = ?4 "
    "WHERE id = ?1";
static const char sql_job_cascade[] =
    "UPDATE tasks SET status = ?2, updated_at = ?3, "
    "activity = coalesce(?4, activity) WHERE job_id = ?1 AND status IN "
    "(?5, ?6, ?7, ?8, ?9, ?10, ?11)";
static const char sql_job_reset_steps[] =
    "UPDATE tasks SET steps_completed = CASE status WHEN 'completed' "
    "THEN steps_total ELSE 0 END WHERE job_id = ?1";
static const char sql_worker_active[] =
    "SELECT uuid FROM tasks WHERE worker_id = ?1 AND status = 'active'";
static const char sql_failure_add[] =
    "INSERT OR IGNORE INTO task_failures (created_at, task_id, worker_id) "
    "VALUES (?3, ?1, ?2)";
static const char sql_failure_count[] =
    "SELECT count(*) FROM task_failures WHERE task_id = ?1";
static const char sql_worker_type_failures[] =
    "SELECT count(*) FROM task_failures f JOIN tasks t ON t.id = f.task_id "
    "WHERE f.worker_id = ?1 AND t.job_id = ?2 AND t.type = ?3";
/* Workers that could still run the task; soft-deleted ones never can,
 * and a pinned task (migration 0004) only its own worker. */
static const char sql_eligible_others[] =
    "SELECT count(*) FROM workers w WHERE w.deleted_at IS NULL "
    "AND coalesce((SELECT pinned_worker_id FROM tasks WHERE id = ?4), "
    "w.id) = w.id "
    "AND NOT EXISTS (SELECT 1 FROM job_blocks b WHERE b.job_id = ?1 "
    "AND b.worker_id = w.id AND b.task_type = ?2) "
    "AND (?3 IS NULL OR EXISTS (SELECT 1 FROM worker_tag_membership m "
    "WHERE m.worker_id = w.id AND m.worker_tag_id = ?3)) "
    "AND NOT EXISTS (SELECT 1 FROM task_failures f WHERE f.task_id = ?4 "
    "AND f.worker_id = w.id)";
static const char sql_block_add[] =
    "INSERT OR IGNORE INTO job_blocks (created_at, job_id, worker_id, "
    "task_type) VALUES (?4, ?1, ?2, ?3)";
static const char sql_failed_by_worker[] =
    "SELECT t.uuid FROM tasks t JOIN task_failures f ON f.task_id = t.id "
    "WHERE t.job_id = ?1 AND f.worker_id = ?2 AND t.status = 'failed' "
    "AND t.pinned_worker_id IS NULL";
static const char sql_task_pinned[] =
    "SELECT pinned_worker_id IS NOT NULL FROM tasks WHERE id = ?1";
/* A blocklisted worker's own pinned tasks of that type: nobody else may
 * run them, so they fail rather than wait forever. */
static const char sql_pinned_stranded[] =
    "SELECT uuid FROM tasks WHERE job_id = ?1 AND pinned_worker_id = ?2 "
    "AND type = ?3 AND status IN ('queued', 'soft-failed')";
/* A deleted worker's pinned tasks not yet run: ready ones on their own
 * index, plus those held back by a selective dependency (pending_deps
 * above 0, only in jobs with an unmet non-whole-job dependency row). */
static const char sql_pinned_orphans[] =
    "SELECT uuid FROM tasks INDEXED BY idx_tasks_pinned_ready "
    "WHERE pinned_worker_id = ?1 AND status IN ('queued', 'soft-failed') "
    "AND pending_deps = 0 AND pinned_worker_id IS NOT NULL "
    "UNION ALL SELECT uuid FROM tasks WHERE job_id IN (SELECT job_id "
    "FROM job_dependencies WHERE remaining > 0 AND waiting_kind <> 'job') "
    "AND pinned_worker_id = ?1 AND status IN ('queued', 'soft-failed') "
    "AND pending_deps > 0";
static const char sql_reapply[] =
    "SELECT id, status FROM jobs WHERE status IN ('cancel-requested', "
    "'requeueing', 'pause-requested')";

static const char *
root(const struct status_ctx *ctx)
{
	return ctx->cfg->local_manager_storage_path;
}

enum fm_err
store_status_load_task(
    struct store_conn *conn, const char *uuid, struct task_row *out)
{
	sqlite3_stmt *st = store_stmt(conn, sql_load_task);
	int rc;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->job_id = sqlite3_column_int64(st, 1);
		out->worker_id = sqlite3_column_int64(st, 2);
		snprintf(out->uuid, sizeof(out->uuid), "%s",
		    sqlite3_column_text(st, 3));
		snprintf(out->job_uuid, sizeof(out->job_uuid), "%s",
		    sqlite3_column_text(st, 4));
		snprintf(out->type, sizeof(out->type), "%s",
		    sqlite3_column_text(st, 5));
		if (state_task_status_parse(
		        (const char *)sqlite3_column_text(st, 6),
		        &out->status) != FM_OK ||
		    state_job_status_parse(
		        (const char *)sqlite3_column_text(st, 7),
		        &out->job_status) != FM_OK)
			rc = SQLITE_CORRUPT;
		out->steps_total = sqlite3_column_int64(st, 8);
		out->job_tag_id = sqlite3_column_int64(st, 9);
		out->last_touched_us = sqlite3_column_int64(st, 10);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return FM_OK;
	return rc == SQLITE_DONE ? FM_ERR_NOTFOUND
	                         : store_error(conn, rc, "loading a task");
}

static enum fm_err
job_counts(struct store_conn *conn, int64_t job_id, struct task_counts *c)
{
	sqlite3_stmt *st = store_stmt(conn, sql_job_counts);
	int rc;

	memset(c, 0, sizeof(*c));
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, job_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		enum task_status s;

		if (state_task_status_parse(
		        (const char *)sqlite3_column_text(st, 0), &s) != FM_OK)
			continue;
		c->n[s] += sqlite3_column_int(st, 1);
		c->total += sqlite3_column_int(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? FM_OK
	                         : store_error(conn, rc, "counting tasks");
}

static enum fm_err
job_status(struct store_conn *conn, int64_t job_id, enum job_status *out,
    char uuid_out[ID_UUID_LEN + 1])
{
	sqlite3_stmt *st = store_stmt(conn, sql_job_get_status);
	int rc;

	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, job_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(uuid_out, ID_UUID_LEN + 1, "%s",
		    sqlite3_column_text(st, 1));
		if (state_job_status_parse(
		        (const char *)sqlite3_column_text(st, 0), out) != FM_OK)
			rc = SQLITE_CORRUPT;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return FM_OK;
	return rc == SQLITE_DONE ? FM_ERR_NOTFOUND
	                         : store_error(conn, rc, "reading a job");
}

static enum fm_err
set_job_status(struct store_conn *conn, int64_t job_id, enum job_status status,
    const char *reason)
{
	sqlite3_stmt *st = store_stmt(conn, sql_job_set_status);
	char activity[512];

	if (st == NULL)
		return FM_ERR_DB;
	state_fmt_job_activity(activity, sizeof(activity), status, reason);
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_text(
	    st, 2, state_job_status_name(status), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, activity, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, time_now_us());
	return store_step_done(conn, st, "changing a job's status");
}

/* One bulk step of a cascade: tasks in c->from become c->to. Viewers
 * hear of it as one job event that asks them to reload the tasks. */
static enum fm_err
cascade_tasks(struct store_conn *conn, int64_t job_id, const char *job_uuid,
    const struct job_cascade *c)
{
	const char *names[TASK_STATUS_COUNT];
	size_t n = state_task_set_names(c->from, names);
	sqlite3_stmt *st;
	enum fm_err rc;

	if (n > 0) {
		if ((st = store_stmt(conn, sql_job_cascade)) == NULL)
			return FM_ERR_DB;
		sqlite3_bind_int64(st, 1, job_id);
		sqlite3_bind_text(
		    st, 2, state_task_status_name(c->to), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, time_now_us());
		if (c->activity != NULL)
			sqlite3_bind_text(
			    st, 4, c->activity, -1, SQLITE_STATIC);
		for (size_t i = 0; i < n; i++)
			sqlite3_bind_text(
			    st, 5 + (int)i, names[i], -1, SQLITE_STATIC);
		if ((rc = store_step_done(
		         conn, st, "cascading a job status")) != FM_OK)
			return rc;
		if (store_changes(conn) > 0)
			store_note(conn, STORE_CHANGED_JOB_TASKS, job_uuid,
			    NULL, NULL, NULL);
	}
	if (c->reset_steps) {
		store_note(
		    conn, STORE_CHANGED_JOB_TASKS, job_uuid, NULL, NULL, NULL);
		if ((st = store_stmt(conn, sql_job_reset_steps)) == NULL)
			return FM_ERR_DB;
		sqlite3_bind_int64(st, 1, job_id);
		return store_step_done(conn, st, "resetting step counters");
	}
	return FM_OK;
}

enum fm_err
store_status_job(const struct status_ctx *ctx, int64_t job_id,
    enum job_status new_status, const char *reason)
{
	char uuid[ID_UUID_LEN + 1];
	enum job_status old;
	struct job_change next;
	enum fm_err rc;

	if ((rc = job_status(ctx->conn, job_id, &old, uuid)) != FM_OK)
		return rc;
	/* Each follow-up moves the job on; a few rounds always settle. */
	for (int round = 0; round < 8; round++) {
		struct job_cascade c;
		struct task_counts counts;

		if ((rc = set_job_status(
		         ctx->conn, job_id, new_status, reason)) != FM_OK)
			return rc;
		store_note(ctx->conn, STORE_CHANGED_JOB, uuid, NULL,
		    state_job_status_name(old), NULL);
		/* Jobs waiting for it show its status in depends_on. */
		if (round == 0 &&
		    (rc = store_jobdeps_note_downstream(
		         ctx->conn, job_id, 0, false)) != FM_OK)
			return rc;
		state_job_cascade(old, new_status, &c);
		if ((rc = cascade_tasks(ctx->conn, job_id, uuid, &c)) != FM_OK)
			return rc;
		if ((rc = job_counts(ctx->conn, job_id, &counts)) != FM_OK)
			return rc;
		if (!state_job_followup(&c, &counts, &next))
			return FM_OK;
		old = new_status;
		new_status = next.status;
		reason = next.reason;
	}
	log_error("job %s: status did not settle", uuid);
	return FM_ERR_INTERNAL;
}

enum fm_err
store_status_task(const struct status_ctx *ctx, struct task_row *t,
    enum task_status new_status, const char *activity)
{
	sqlite3_stmt *st = store_stmt(ctx->conn, sql_task_status);
	struct task_counts counts;
	struct job_change change;
	char line[256];
	enum fm_err rc;

	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, t->id);
	sqlite3_bind_text(
	    st, 2, state_task_status_name(new_status), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, time_now_us());
	if (activity != NULL)
		sqlite3_bind_text(st, 4, activity, -1, SQLITE_STATIC);
	if ((rc = store_step_done(ctx->conn, st, "changing a task's status")) !=
	    FM_OK)
		return rc;
	if (new_status != t->status) {
		state_fmt_task_change_log(
		    line, sizeof(line), t->status, new_status);
		(void)tasklog_printf(
		    root(ctx), t->job_uuid, t->uuid, "%s", line);
	}
	store_note(ctx->conn, STORE_CHANGED_TASK, t->uuid, t->job_uuid,
	    state_task_status_name(t->status), NULL);
	if ((new_status == TASK_STATUS_COMPLETED) !=
	        (t->status == TASK_STATUS_COMPLETED) &&
	    (rc = store_jobdeps_note_downstream(ctx->conn, t->job_id, t->id,
	         new_status == TASK_STATUS_COMPLETED)) != FM_OK)
		return rc;
	t->status = new_status;
	if ((rc = job_status(
	         ctx->conn, t->job_id, &t->job_status, t->job_uuid)) != FM_OK ||
	    (rc = job_counts(ctx->conn, t->job_id, &counts)) != FM_OK)
		return rc;
	if (!state_job_after_task(new_status, t->job_status, &counts, &change))
		return FM_OK;
	rc = store_status_job(ctx, t->job_id, change.status, change.reason);
	t->job_status = change.status;
	return rc;
}

/* Run fn on each task UUID the statement yields (collected first, since
 * fn changes rows the statement reads). */
static enum fm_err
each_task(const struct status_ctx *ctx, sqlite3_stmt *st,
    enum fm_err (*fn)(
        const struct status_ctx *, struct task_row *, const void *),
    const void *arg)
{
	char(*uuids)[ID_UUID_LEN + 1] = NULL;
	size_t n = 0, cap = 0;
	enum fm_err rc = FM_OK;
	int step;

	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			uuids = xrealloc(uuids, cap * sizeof(*uuids));
		}
		snprintf(uuids[n++], ID_UUID_LEN + 1, "%s",
		    sqlite3_column_text(st, 0));
	}
	sqlite3_reset(st);
	if (step != SQLITE_DONE)
		rc = store_error(ctx->conn, step, "listing tasks");
	for (size_t i = 0; i < n && rc == FM_OK; i++) {
		struct task_row t;

		rc = store_status_load_task(ctx->conn, uuids[i], &t);
		if (rc == FM_OK)
			rc = fn(ctx, &t, arg);
	}
	free(uuids);
	return rc;
}

static enum fm_err
requeue_one(
    const struct status_ctx *ctx, struct task_row *t, const void *reason)
{
	enum task_status to = state_requeue_task_status(t->job_status);
	char activity[512];

	state_fmt_requeue_activity(activity, sizeof(activity), to, reason);
	(void)tasklog_printf(root(ctx), t->job_uuid, t->uuid, "%s", activity);
	return store_status_task(ctx, t, to, activity);
}

enum fm_err
store_status_requeue_worker(
    const struct status_ctx *ctx, int64_t worker_id, const char *reason)
{
	sqlite3_stmt *st = store_stmt(ctx->conn, sql_worker_active);

	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, worker_id);
	return each_task(ctx, st, requeue_one, reason);
}

static enum fm_err
count_query(struct store_conn *conn, sqlite3_stmt *st, int *out)
{
	int rc = sqlite3_step(st);

	*out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? FM_OK : store_error(conn, rc, "counting");
}

/* Gather the numbers failure handling decides on. */
static enum fm_err
failure_input(const struct status_ctx *ctx, const struct task_row *t,
    const struct worker *w, struct failure_input *in)
{
	struct store_conn *conn = ctx->conn;
	sqlite3_stmt *st;
	enum fm_err rc;

	in->fail_after = (int)ctx->cfg->task_fail_after_softfail_count;
	in->blocklist_threshold = (int)ctx->cfg->blocklist_threshold;
	if ((st = store_stmt(conn, sql_failure_count)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, t->id);
	if ((rc = count_query(conn, st, &in->num_failed)) != FM_OK)
		return rc;
	if ((st = store_stmt(conn, sql_worker_type_failures)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, w->id);
	sqlite3_bind_int64(st, 2, t->job_id);
	sqlite3_bind_text(st, 3, t->type, -1, SQLITE_STATIC);
	if ((rc = count_query(conn, st, &in->worker_type_failures)) != FM_OK)
		return rc;
	if ((st = store_stmt(conn, sql_eligible_others)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, t->job_id);
	sqlite3_bind_text(st, 2, t->type, -1, SQLITE_STATIC);
	if (t->job_tag_id != 0)
		sqlite3_bind_int64(st, 3, t->job_tag_id);
	sqlite3_bind_int64(st, 4, t->id);
	return count_query(conn, st, &in->eligible_others);
}

static enum fm_err
requeue_blocked(
    const struct status_ctx *ctx, struct task_row *t, const void *reason)
{
	return store_status_task(ctx, t, TASK_STATUS_QUEUED, reason);
}

static enum fm_err
fail_stranded(
    const struct status_ctx *ctx, struct task_row *t, const void *reason)
{
	return store_status_task(ctx, t, TASK_STATUS_FAILED, reason);
}

/* Fail w's pinned tasks of t's type in t's job (w was blocklisted). */
static enum fm_err
fail_pinned_of_blocked(const struct status_ctx *ctx, const struct task_row *t,
    const struct worker *w)
{
	sqlite3_stmt *st = store_stmt(ctx->conn, sql_pinned_stranded);
	char reason[512];

	if (st == NULL)
		return FM_ERR_DB;
	snprintf(reason, sizeof(reason),
	    "pinned to worker %s, blocklisted from \"%s\" tasks of this job",
	    w->name, t->type);
	sqlite3_bind_int64(st, 1, t->job_id);
	sqlite3_bind_int64(st, 2, w->id);
	sqlite3_bind_text(st, 3, t->type, -1, SQLITE_STATIC);
	return each_task(ctx, st, fail_stranded, reason);
}

/* Like fail_stranded, but leaves a task an earlier one's job roll-up
 * already moved on (e.g. the job failed and cascaded). */
static enum fm_err
fail_orphan(
    const struct status_ctx *ctx, struct task_row *t, const void *reason)
{
	if (t->status != TASK_STATUS_QUEUED &&
	    t->status != TASK_STATUS_SOFT_FAILED)
		return FM_OK;
	(void)tasklog_printf(
	    root(ctx), t->job_uuid, t->uuid, "%s", (const char *)reason);
	return fail_stranded(ctx, t, reason);
}

enum fm_err
store_status_fail_pinned_of_worker(
    const struct status_ctx *ctx, const struct worker *w)
{
	sqlite3_stmt *st = store_stmt(ctx->conn, sql_pinned_orphans);
	char reason[512];

	if (st == NULL)
		return FM_ERR_DB;
	snprintf(reason, sizeof(reason),
	    "pinned to worker %s, which was deleted", w->name);
	sqlite3_bind_int64(st, 1, w->id);
	return each_task(ctx, st, fail_orphan, reason);
}

enum fm_err
store_status_task_failed(
    const struct status_ctx *ctx, struct task_row *t, const struct worker *w)
{
	struct failure_input in = { 0 };
	struct failure_verdict v;
	char text[512], reason[512];
	sqlite3_stmt *st;
	enum fm_err rc;
	int pinned = 0;

	if ((st = store_stmt(ctx->conn, sql_failure_add)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, t->id);
	sqlite3_bind_int64(st, 2, w->id);
	sqlite3_bind_int64(st, 3, time_now_us());
	if ((rc = store_step_done(ctx->conn, st, "recording a failure")) !=
	    FM_OK)
		return rc;
	if ((rc = failure_input(ctx, t, w, &in)) != FM_OK)
		return rc;
	if ((st = store_stmt(ctx->conn, sql_task_pinned)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, t->id);
	if ((rc = count_query(ctx->conn, st, &pinned)) != FM_OK)
		return rc;
	state_task_failure(&in, &v);
	/* Its only worker failed a pinned task: final for the task, and
	 * the job follows the usual failed-task rules. */
	if (pinned && v.outcome != FAILURE_HARD_FAIL)
		v.outcome = FAILURE_HARD_FAIL;
	state_fmt_failure_log(text, sizeof(text), &in, &v, t->type);
	(void)tasklog_printf(root(ctx), t->job_uuid, t->uuid, "%s", text);
	if (v.blocklist) {
		if ((st = store_stmt(ctx->conn, sql_block_add)) == NULL)
			return FM_ERR_DB;
		sqlite3_bind_int64(st, 1, t->job_id);
		sqlite3_bind_int64(st, 2, w->id);
		sqlite3_bind_text(st, 3, t->type, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, time_now_us());
		if ((rc = store_step_done(ctx->conn, st, "blocklisting")) !=
		    FM_OK)
			return rc;
		log_info("worker %s blocklisted from \"%s\" tasks of job %s",
		    w->name, t->type, t->job_uuid);
	}
	switch (v.outcome) {
	case FAILURE_SOFT_FAIL:
		rc = store_status_task(ctx, t, TASK_STATUS_SOFT_FAILED, NULL);
		break;
	case FAILURE_HARD_FAIL:
		rc = store_status_task(ctx, t, TASK_STATUS_FAILED, NULL);
		break;
	case FAILURE_FAIL_JOB:
		rc = store_status_task(ctx, t, TASK_STATUS_FAILED, NULL);
		if (rc == FM_OK && t->job_status != JOB_STATUS_FAILED) {
			state_fmt_no_workers_reason(
			    reason, sizeof(reason), t->type);
			rc = store_status_job(
			    ctx, t->job_id, JOB_STATUS_FAILED, reason);
		}
		break;
	}
	if (rc == FM_OK && v.requeue_blocked && v.outcome != FAILURE_FAIL_JOB) {
		state_fmt_blocklist_reason(
		    reason, sizeof(reason), w->name, t->type);
		if ((st = store_stmt(ctx->conn, sql_failed_by_worker)) == NULL)
			return FM_ERR_DB;
		sqlite3_bind_int64(st, 1, t->job_id);
		sqlite3_bind_int64(st, 2, w->id);
		rc = each_task(ctx, st, requeue_blocked, reason);
	}
	if (rc == FM_OK && v.blocklist)
		rc = fail_pinned_of_blocked(ctx, t, w);
	return rc;
}

enum fm_err
store_status_reapply(const struct status_ctx *ctx)
{
	sqlite3_stmt *st = store_stmt(ctx->conn, sql_reapply);
	int64_t ids[64];
	enum job_status statuses[64];
	size_t n = 0;
	enum fm_err rc = FM_OK;
	int step;

	if (st == NULL)
		return FM_ERR_DB;
	while ((step = sqlite3_step(st)) == SQLITE_ROW && n < nitems(ids))
		if (state_job_status_parse(
		        (const char *)sqlite3_column_text(st, 1),
		        &statuses[n]) == FM_OK)
			ids[n++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	for (size_t i = 0; i < n && rc == FM_OK; i++)
		rc = store_status_job(
		    ctx, ids[i], statuses[i], "Manager restarted");
	return rc;
}
