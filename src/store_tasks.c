/*
 * Task reads for the API: summaries of a job's tasks and a single task
 * with its commands (as stored: unexpanded), failure list and
 * dependencies.
 */
#include "store_tasks.h"

#include <string.h>

#include "store_internal.h"
#include "timeutil.h"

static const char sql_tasks_of_job[] =
    "SELECT t.uuid, t.name, t.status, t.index_in_job, t.priority, t.type, "
    "t.updated_at, t.steps_completed, t.steps_total, w.uuid, w.name, "
    "w.address, w.deleted_at FROM tasks t JOIN jobs j ON j.id = t.job_id "
    "LEFT JOIN workers w ON w.id = t.worker_id WHERE j.uuid = ?1 "
    "ORDER BY t.index_in_job";
static const char sql_task_get[] =
    "SELECT t.id, t.uuid, t.created_at, t.updated_at, j.uuid, "
    "t.index_in_job, t.name, t.status, t.priority, t.type, t.activity, "
    "t.commands, t.steps_completed, t.steps_total, t.last_touched_at, "
    "w.uuid, w.name, w.address, w.deleted_at FROM tasks t "
    "JOIN jobs j ON j.id = t.job_id "
    "LEFT JOIN workers w ON w.id = t.worker_id WHERE t.uuid = ?1";
static const char sql_task_failures[] =
    "SELECT w.uuid, w.name, w.address FROM task_failures f "
    "JOIN workers w ON w.id = f.worker_id WHERE f.task_id = ?1 "
    "ORDER BY f.created_at";
static const char sql_task_deps[] =
    "SELECT d.uuid FROM task_dependencies td "
    "JOIN tasks d ON d.id = td.dependency_id WHERE td.task_id = ?1 "
    "ORDER BY d.index_in_job";

/* {"id","name","address"}: all "" unassigned, only id for deleted ones. */
static json_t *
worker_ref(sqlite3_stmt *st, int col)
{
	bool deleted = sqlite3_column_type(st, col + 3) != SQLITE_NULL;

	return json_pack("{s:s, s:s, s:s}", "id", store_text(st, col), "name",
	    deleted ? "" : store_text(st, col + 1), "address",
	    deleted ? "" : store_text(st, col + 2));
}

enum fm_err
store_tasks_of_job(
    struct store_conn *conn, const char *job_uuid, json_t **tasks_out)
{
	sqlite3_stmt *st;
	json_t *list;
	int rc;

	*tasks_out = NULL;
	if ((st = store_stmt(conn, sql_tasks_of_job)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_text(st, 1, job_uuid, -1, SQLITE_STATIC);
	list = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *t =
		    json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:I}", "id",
		        store_text(st, 0), "name", store_text(st, 1), "status",
		        store_text(st, 2), "index_in_job",
		        (json_int_t)sqlite3_column_int64(st, 3), "priority",
		        (json_int_t)sqlite3_column_int64(st, 4), "task_type",
		        store_text(st, 5), "steps_completed",
		        (json_int_t)sqlite3_column_int64(st, 7), "steps_total",
		        (json_int_t)sqlite3_column_int64(st, 8));

		store_json_time(t, "updated", sqlite3_column_int64(st, 6));
		json_object_set_new(t, "worker", worker_ref(st, 9));
		json_array_append_new(list, t);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(list);
		return store_error(conn, rc, "listing tasks");
	}
	*tasks_out = json_pack("{s:o}", "tasks", list);
	return FM_OK;
}

static enum fm_err
add_failures_and_deps(struct store_conn *conn, int64_t task_id, json_t *task)
{
	json_t *failed = json_array(), *deps = json_array();
	sqlite3_stmt *st;
	int rc;

	json_object_set_new(task, "failed_by_workers", failed);
	json_object_set_new(task, "dependencies", deps);
	if ((st = store_stmt(conn, sql_task_failures)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, task_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(failed,
		    json_pack("{s:s, s:s, s:s}", "id", store_text(st, 0),
		        "name", store_text(st, 1), "address",
		        store_text(st, 2)));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return store_error(conn, rc, "reading task failures");
	if ((st = store_stmt(conn, sql_task_deps)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, task_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(deps, json_string(store_text(st, 0)));
	sqlite3_reset(st);
	return rc == SQLITE_DONE
	    ? FM_OK
	    : store_error(conn, rc, "reading task dependencies");
}

enum fm_err
store_tasks_get(struct store_conn *conn, const char *uuid, json_t **task_out)
{
	sqlite3_stmt *st;
	json_t *task, *commands;
	int64_t task_id;
	enum fm_err err;
	int rc;

	*task_out = NULL;
	if ((st = store_stmt(conn, sql_task_get)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE
		    ? FM_ERR_NOTFOUND
		    : store_error(conn, rc, "reading a task");
	}
	task_id = sqlite3_column_int64(st, 0);
	commands = json_loads(store_text(st, 11), JSON_ALLOW_NUL, NULL);
	task = json_pack("{s:s, s:s, s:I, s:s, s:s, s:I, s:s, s:s, s:o, "
	                 "s:I, s:I}",
	    "id", store_text(st, 1), "job_id", store_text(st, 4),
	    "index_in_job", (json_int_t)sqlite3_column_int64(st, 5), "name",
	    store_text(st, 6), "status", store_text(st, 7), "priority",
	    (json_int_t)sqlite3_column_int64(st, 8), "task_type",
	    store_text(st, 9), "activity", store_text(st, 10), "commands",
	    commands ? commands : json_array(), "steps_completed",
	    (json_int_t)sqlite3_column_int64(st, 12), "steps_total",
	    (json_int_t)sqlite3_column_int64(st, 13));
	store_json_time(task, "created", sqlite3_column_int64(st, 2));
	store_json_time(task, "updated", sqlite3_column_int64(st, 3));
	if (sqlite3_column_type(st, 14) != SQLITE_NULL)
		store_json_time(
		    task, "last_touched", sqlite3_column_int64(st, 14));
	json_object_set_new(task, "worker", worker_ref(st, 15));
	sqlite3_reset(st);
	if ((err = add_failures_and_deps(conn, task_id, task)) != FM_OK) {
		json_decref(task);
		return err;
	}
	*task_out = task;
	return FM_OK;
}
