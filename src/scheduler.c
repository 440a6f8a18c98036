/*
 * The scheduler walks runnable jobs in priority order (a partial index
 * keeps them sorted) and, per job, probes the ready-task index once per
 * task type the worker supports. A ready task is queued or soft-failed
 * with no unfinished dependencies (tasks.pending_deps = 0, kept by
 * triggers), so the cost of an assignment does not grow with the number
 * of tasks stored or queued. Jobs fenced behind other jobs (deps_unmet,
 * migration 0003) are not even walked.
 */
#include "scheduler.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "store_internal.h"
#include "store_status.h"
#include "store_workers.h"
#include "tasklog.h"
#include "timeutil.h"
#include "variables.h"
#include "worker_types.h"
#include "xmalloc.h"

static const char sql_own_active[] =
    "SELECT t.uuid FROM tasks t JOIN jobs j ON j.id = t.job_id "
    "WHERE t.worker_id = ?1 AND t.status = 'active' "
    "AND j.status IN ('active', 'queued') ORDER BY t.id LIMIT 1";
/* By tag id: past WORKER_TAGS_MAX the same ones as blockers.c. */
static const char sql_worker_tags[] =
    "SELECT worker_tag_id FROM worker_tag_membership WHERE worker_id = ?1 "
    "ORDER BY worker_tag_id";
static const char sql_runnable_jobs[] =
    "SELECT id, worker_tag_id FROM jobs INDEXED BY idx_jobs_runnable "
    "WHERE status IN ('active', 'queued') AND deps_unmet = 0 "
    "AND delete_requested_at IS NULL ORDER BY priority DESC, id";
static const char sql_ready_task[] =
    "SELECT t.id, t.priority, t.uuid FROM tasks t INDEXED BY idx_tasks_ready "
    "WHERE t.job_id = ?1 AND t.type = ?2 "
    "AND t.status IN ('queued', 'soft-failed') AND t.pending_deps = 0 "
    "AND t.pinned_worker_id IS NULL "
    "AND NOT EXISTS (SELECT 1 FROM task_failures f "
    "WHERE f.task_id = t.id AND f.worker_id = ?3) "
    "AND NOT EXISTS (SELECT 1 FROM job_blocks b WHERE b.job_id = ?1 "
    "AND b.worker_id = ?3 AND b.task_type = ?2) "
    "ORDER BY t.priority DESC, t.id LIMIT 1";
/* Tasks pinned to this worker (migration 0004): the same rules, probed
 * by worker id on their own partial index. Like sql_ready_task it only
 * runs for jobs from sql_runnable_jobs, so a job fenced behind another
 * (deps_unmet > 0, whose tasks keep pending_deps 0) is never probed. */
static const char sql_pinned_task[] =
    "SELECT t.id, t.priority, t.uuid FROM tasks t "
    "INDEXED BY idx_tasks_pinned_ready "
    "WHERE t.pinned_worker_id = ?3 AND t.job_id = ?1 AND t.type = ?2 "
    "AND t.status IN ('queued', 'soft-failed') AND t.pending_deps = 0 "
    "AND t.pinned_worker_id IS NOT NULL "
    "AND NOT EXISTS (SELECT 1 FROM task_failures f "
    "WHERE f.task_id = t.id AND f.worker_id = ?3) "
    "AND NOT EXISTS (SELECT 1 FROM job_blocks b WHERE b.job_id = ?1 "
    "AND b.worker_id = ?3 AND b.task_type = ?2) "
    "ORDER BY t.priority DESC, t.id LIMIT 1";
static const char sql_assign[] =
    "UPDATE tasks SET worker_id = ?2, last_touched_at = ?3, updated_at = ?3 "
    "WHERE id = ?1";
static const char sql_assigned[] =
    "SELECT t.uuid, j.uuid, t.name, t.status, t.priority, j.priority, "
    "j.job_type, t.type, t.commands, t.steps_completed, t.steps_total "
    "FROM tasks t JOIN jobs j ON j.id = t.job_id WHERE t.uuid = ?1";

struct candidate {
	int64_t id;
	int64_t priority;
	char uuid[ID_UUID_LEN + 1];
};

static enum fm_err
own_active(
    struct store_conn *conn, int64_t worker_id, char uuid_out[ID_UUID_LEN + 1])
{
	sqlite3_stmt *st = store_stmt(conn, sql_own_active);
	int rc;

	uuid_out[0] = '\0';
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, worker_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(uuid_out, ID_UUID_LEN + 1, "%s",
		    sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE
	    ? FM_OK
	    : store_error(conn, rc, "finding a worker's task");
}

static enum fm_err
worker_tags(
    struct store_conn *conn, int64_t worker_id, int64_t *tags, size_t *ntags)
{
	sqlite3_stmt *st = store_stmt(conn, sql_worker_tags);
	int rc;

	*ntags = 0;
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, worker_id);
	while (
	    (rc = sqlite3_step(st)) == SQLITE_ROW && *ntags < WORKER_TAGS_MAX)
		tags[(*ntags)++] = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE
	    ? FM_OK
	    : store_error(conn, rc, "reading worker tags");
}

/* The best ready task of one job for this worker, over its types. */
static enum fm_err
best_in_job(struct store_conn *conn, int64_t job_id, int64_t worker_id,
    const char *const *types, size_t ntypes, struct candidate *best)
{
	sqlite3_stmt *st = store_stmt(conn, sql_ready_task);
	sqlite3_stmt *pinned = store_stmt(conn, sql_pinned_task);

	best->id = 0;
	if (st == NULL || pinned == NULL)
		return FM_ERR_DB;
	/* Each type twice: the shared ready tasks, then this worker's own
	 * pinned ones. */
	for (size_t k = 0; k < 2 * ntypes; k++) {
		size_t i = k % ntypes;
		int rc;

		st = k < ntypes ? store_stmt(conn, sql_ready_task) : pinned;
		sqlite3_bind_int64(st, 1, job_id);
		sqlite3_bind_text(st, 2, types[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, worker_id);
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			int64_t id = sqlite3_column_int64(st, 0);
			int64_t prio = sqlite3_column_int64(st, 1);

			if (best->id == 0 || prio > best->priority ||
			    (prio == best->priority && id < best->id)) {
				best->id = id;
				best->priority = prio;
				snprintf(best->uuid, sizeof(best->uuid), "%s",
				    sqlite3_column_text(st, 2));
			}
		}
		sqlite3_reset(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return store_error(conn, rc, "finding a ready task");
	}
	return FM_OK;
}

static bool
has_tag(const int64_t *tags, size_t ntags, int64_t tag)
{
	for (size_t i = 0; i < ntags; i++)
		if (tags[i] == tag)
			return true;
	return false;
}

static enum fm_err
find_task(
    struct store_conn *conn, const struct worker *w, struct candidate *found)
{
	const char *types[WORKER_TYPES_MAX];
	int64_t tags[WORKER_TAGS_MAX];
	size_t ntypes, ntags;
	char *buf = xstrdup(w->task_types);
	sqlite3_stmt *jobs = NULL;
	enum fm_err rc;
	int step;

	found->id = 0;
	ntypes = worker_types_split(buf, types);
	if (ntypes == 0) {
		rc = FM_OK;
		goto done;
	}
	if ((rc = worker_tags(conn, w->id, tags, &ntags)) != FM_OK)
		goto done;
	/* Not the statement cache: best_in_job() steps another cached one
	 * while this one is open. */
	if (sqlite3_prepare_v2(store_db(conn), sql_runnable_jobs, -1, &jobs,
	        NULL) != SQLITE_OK) {
		rc = store_error(conn, sqlite3_errcode(store_db(conn)),
		    "listing runnable jobs");
		goto done;
	}
	while ((step = sqlite3_step(jobs)) == SQLITE_ROW) {
		int64_t job_id = sqlite3_column_int64(jobs, 0);
		bool tagged = sqlite3_column_type(jobs, 1) != SQLITE_NULL;

		/* Untagged workers only get untagged jobs. */
		if (tagged &&
		    !has_tag(tags, ntags, sqlite3_column_int64(jobs, 1)))
			continue;
		rc = best_in_job(conn, job_id, w->id, types, ntypes, found);
		if (rc != FM_OK || found->id != 0)
			goto done;
	}
	if (step != SQLITE_DONE)
		rc = store_error(conn, step, "listing runnable jobs");
done:
	sqlite3_finalize(jobs);
	free(buf);
	return rc;
}

static json_t *
assigned_json(
    const struct status_ctx *ctx, const struct worker *w, const char *uuid)
{
	sqlite3_stmt *st = store_stmt(ctx->conn, sql_assigned);
	json_t *out = NULL, *commands;

	if (st == NULL)
		return NULL;
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		/* Parameters may hold NUL characters (\u0000), kept exactly.
		 * Commands that do not parse are an error, never an empty
		 * list: a worker would complete the task doing nothing. */
		commands = json_loads((const char *)sqlite3_column_text(st, 8),
		    JSON_ALLOW_NUL, NULL);
		if (!json_is_array(commands)) {
			log_error("task %s: its stored commands are not a "
			          "JSON array",
			    uuid);
			json_decref(commands);
			sqlite3_reset(st);
			return NULL;
		}
		variables_expand_commands(
		    ctx->cfg, "workers", w->platform, commands);
		out = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s, s:s, "
		                "s:o, s:I, s:I}",
		    "uuid", sqlite3_column_text(st, 0), "job",
		    sqlite3_column_text(st, 1), "name",
		    sqlite3_column_text(st, 2), "status",
		    sqlite3_column_text(st, 3), "priority",
		    (json_int_t)sqlite3_column_int64(st, 4), "job_priority",
		    (json_int_t)sqlite3_column_int64(st, 5), "job_type",
		    sqlite3_column_text(st, 6), "task_type",
		    sqlite3_column_text(st, 7), "commands", commands,
		    "steps_completed", (json_int_t)sqlite3_column_int64(st, 9),
		    "steps_total", (json_int_t)sqlite3_column_int64(st, 10));
	}
	sqlite3_reset(st);
	return out;
}

enum fm_err
scheduler_assign(
    const struct status_ctx *ctx, const struct worker *w, json_t **assigned_out)
{
	char own[ID_UUID_LEN + 1];
	struct candidate found;
	struct task_row t;
	sqlite3_stmt *st;
	enum fm_err rc;

	*assigned_out = NULL;
	if ((rc = own_active(ctx->conn, w->id, own)) != FM_OK)
		return rc;
	if (own[0] != '\0') {
		/* Resume: the worker lost track of its task; hand it back. */
		*assigned_out = assigned_json(ctx, w, own);
		return *assigned_out ? FM_OK : FM_ERR_DB;
	}
	if ((rc = find_task(ctx->conn, w, &found)) != FM_OK)
		return rc;
	if (found.id == 0)
		return FM_ERR_NOTFOUND;
	if ((st = store_stmt(ctx->conn, sql_assign)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, found.id);
	sqlite3_bind_int64(st, 2, w->id);
	sqlite3_bind_int64(st, 3, time_now_us());
	rc = sqlite3_step(st) == SQLITE_DONE
	    ? FM_OK
	    : store_error(ctx->conn, sqlite3_errcode(store_db(ctx->conn)),
	          "assigning a task");
	sqlite3_reset(st);
	if (rc != FM_OK)
		return rc;
	if ((rc = store_status_load_task(ctx->conn, found.uuid, &t)) != FM_OK)
		return rc;
	(void)tasklog_printf(ctx->cfg->local_manager_storage_path, t.job_uuid,
	    t.uuid, "Task assigned to worker %s (%s)", w->name, w->uuid);
	if ((rc = store_status_task(ctx, &t, TASK_STATUS_ACTIVE, NULL)) !=
	    FM_OK)
		return rc;
	*assigned_out = assigned_json(ctx, w, found.uuid);
	return *assigned_out ? FM_OK : FM_ERR_DB;
}
