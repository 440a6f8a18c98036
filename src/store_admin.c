/*
 * Admin writes on jobs and tasks: priority, tag, blocklist, failure lists
 * and deletion. Deleting a job's tasks goes in index_in_job ranges so each
 * batch is one indexed range delete, with job_task_counts adjusted in the
 * same transaction (tasks have no delete trigger, see migration 0002).
 */
#include "store_admin.h"

#include <stdio.h>
#include <string.h>

#include "store_internal.h"
#include "timeutil.h"
#include "xmalloc.h"

static const char sql_job_id[] = "SELECT id FROM jobs WHERE uuid = ?1";
static const char sql_job_uuid_name[] =
    "SELECT uuid, name FROM jobs WHERE id = ?1";
static const char sql_jobs_deletion_requested_at[] =
    "SELECT uuid FROM jobs WHERE delete_requested_at = ?1";
static const char sql_set_priority[] =
    "UPDATE jobs SET priority = ?2, updated_at = ?3 WHERE id = ?1";
static const char sql_tag_by_name[] =
    "SELECT id FROM worker_tags WHERE name = ?1";
static const char sql_set_tag[] =
    "UPDATE jobs SET worker_tag_id = ?2, updated_at = ?3 WHERE id = ?1";
static const char sql_clear_job_failures[] =
    "DELETE FROM task_failures WHERE task_id IN "
    "(SELECT id FROM tasks WHERE job_id = ?1)";
static const char sql_clear_job_blocks[] =
    "DELETE FROM job_blocks WHERE job_id = ?1";
static const char sql_clear_task_failures[] =
    "DELETE FROM task_failures WHERE task_id = ?1";
static const char sql_blocklist[] =
    "SELECT w.uuid, b.task_type, w.name FROM job_blocks b "
    "JOIN workers w ON w.id = b.worker_id WHERE b.job_id = ?1 "
    "ORDER BY w.name, b.task_type, w.uuid";
static const char sql_blocklist_remove[] =
    "DELETE FROM job_blocks WHERE job_id = ?1 AND task_type = ?3 "
    "AND worker_id = (SELECT id FROM workers WHERE uuid = ?2)";
static const char sql_request_deletion[] =
    "UPDATE jobs SET delete_requested_at = ?2, updated_at = ?2 "
    "WHERE id = ?1";
/* Jobs that others not deleted with them still wait for are left out
 * (README, "Job dependencies"), transitively: kept holds every job that a
 * newer live job waits for, directly or through other kept jobs, so a
 * kept waiter never loses an unmet dependency to the delete cascade. */
static const char sql_request_mass_deletion[] =
    "WITH RECURSIVE kept(id) AS (SELECT d.upstream_job_id "
    "FROM job_dependencies d JOIN jobs w ON w.id = d.job_id "
    "WHERE d.remaining > 0 AND w.delete_requested_at IS NULL "
    "AND w.updated_at > ?1 UNION SELECT d.upstream_job_id "
    "FROM job_dependencies d JOIN kept k ON d.job_id = k.id "
    "WHERE d.remaining > 0) "
    "UPDATE jobs SET delete_requested_at = ?2, updated_at = ?2 "
    "WHERE updated_at <= ?1 AND id NOT IN (SELECT id FROM kept)";
static const char sql_next_deletion[] =
    "SELECT id, uuid FROM jobs WHERE delete_requested_at IS NOT NULL "
    "AND id > ?1 ORDER BY id LIMIT 1";
static const char sql_max_index[] =
    "SELECT max(index_in_job) FROM tasks WHERE job_id = ?1";
static const char sql_uncount_tasks[] =
    "UPDATE job_task_counts SET n = n - c.gone FROM (SELECT status, "
    "count(*) AS gone FROM tasks WHERE job_id = ?1 AND index_in_job > ?2 "
    "GROUP BY status) AS c WHERE job_task_counts.job_id = ?1 "
    "AND job_task_counts.status = c.status";
static const char sql_delete_tasks[] =
    "DELETE FROM tasks WHERE job_id = ?1 AND index_in_job > ?2";
static const char sql_delete_job[] =
    "DELETE FROM jobs WHERE id = ?1 AND delete_requested_at IS NOT NULL";
/* INSERT .. SELECT: no row when the job is gone or being deleted. */
static const char sql_set_last_rendered[] =
    "INSERT INTO last_rendereds (id, created_at, updated_at, job_id) "
    "SELECT 1, ?2, ?2, id FROM jobs WHERE id = ?1 "
    "AND delete_requested_at IS NULL ON CONFLICT (id) DO UPDATE SET "
    "job_id = excluded.job_id, updated_at = excluded.updated_at";
static const char sql_last_rendered[] =
    "SELECT j.uuid FROM last_rendereds l JOIN jobs j ON j.id = l.job_id "
    "WHERE l.id = 1";

/* Run st, which yields at most one integer row, into *out. */
static enum fm_err
one_id(
    struct store_conn *conn, sqlite3_stmt *st, int64_t *out, const char *what)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return FM_OK;
	return rc == SQLITE_DONE ? FM_ERR_NOTFOUND
	                         : store_error(conn, rc, what);
}

enum fm_err
store_admin_job_id(struct store_conn *conn, const char *uuid, int64_t *id_out)
{
	sqlite3_stmt *st = store_stmt(conn, sql_job_id);

	*id_out = 0;
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	return one_id(conn, st, id_out, "finding a job");
}

/* Note a change of the job with row id job_id for live viewers. */
static void
note_job(struct store_conn *conn, enum store_change what, int64_t job_id)
{
	sqlite3_stmt *st;

	if (!store_noting(conn) ||
	    (st = store_stmt(conn, sql_job_uuid_name)) == NULL)
		return;
	sqlite3_bind_int64(st, 1, job_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		store_note(conn, what, (const char *)sqlite3_column_text(st, 0),
		    NULL, NULL,
		    xstrdup((const char *)sqlite3_column_text(st, 1)));
	sqlite3_reset(st);
}

enum fm_err
store_admin_set_priority(struct store_conn *conn, int64_t job_id, int priority)
{
	sqlite3_stmt *st = store_stmt(conn, sql_set_priority);

	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int(st, 2, priority);
	sqlite3_bind_int64(st, 3, time_now_us());
	note_job(conn, STORE_CHANGED_JOB, job_id);
	return store_step_done(conn, st, "setting a job's priority");
}

enum fm_err
store_admin_tag_by_name(
    struct store_conn *conn, const char *name, int64_t *id_out)
{
	sqlite3_stmt *st = store_stmt(conn, sql_tag_by_name);

	*id_out = 0;
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	return one_id(conn, st, id_out, "finding a tag");
}

enum fm_err
store_admin_set_tag(struct store_conn *conn, int64_t job_id, int64_t tag_id)
{
	sqlite3_stmt *st = store_stmt(conn, sql_set_tag);

	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, job_id);
	if (tag_id != 0)
		sqlite3_bind_int64(st, 2, tag_id);
	sqlite3_bind_int64(st, 3, time_now_us());
	note_job(conn, STORE_CHANGED_JOB, job_id);
	return store_step_done(conn, st, "setting a job's tag");
}

static enum fm_err
exec_id(struct store_conn *conn, const char *sql, int64_t id, const char *what)
{
	sqlite3_stmt *st = store_stmt(conn, sql);

	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	return store_step_done(conn, st, what);
}

enum fm_err
store_admin_clear_job_failures(struct store_conn *conn, int64_t job_id)
{
	enum fm_err rc;

	rc = exec_id(conn, sql_clear_job_failures, job_id,
	    "clearing a job's failure lists");
	if (rc == FM_OK)
		rc = exec_id(conn, sql_clear_job_blocks, job_id,
		    "clearing a job's blocklist");
	return rc;
}

enum fm_err
store_admin_clear_task_failures(struct store_conn *conn, int64_t task_id)
{
	return exec_id(conn, sql_clear_task_failures, task_id,
	    "clearing a task's failure list");
}

enum fm_err
store_admin_blocklist(
    struct store_conn *conn, int64_t job_id, json_t **list_out)
{
	sqlite3_stmt *st = store_stmt(conn, sql_blocklist);
	json_t *list;
	int rc;

	*list_out = NULL;
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, job_id);
	list = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(list,
		    json_pack("{s:s, s:s, s:s}", "worker_id",
		        sqlite3_column_text(st, 0), "task_type",
		        sqlite3_column_text(st, 1), "worker_name",
		        sqlite3_column_text(st, 2)));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(list);
		return store_error(conn, rc, "reading a job's blocklist");
	}
	*list_out = list;
	return FM_OK;
}

enum fm_err
store_admin_blocklist_remove(struct store_conn *conn, int64_t job_id,
    const char *worker_uuid, const char *task_type)
{
	sqlite3_stmt *st = store_stmt(conn, sql_blocklist_remove);

	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_text(st, 2, worker_uuid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, task_type, -1, SQLITE_STATIC);
	return store_step_done(conn, st, "removing a blocklist entry");
}

enum fm_err
store_admin_request_deletion(struct store_conn *conn, int64_t job_id)
{
	sqlite3_stmt *st = store_stmt(conn, sql_request_deletion);

	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, time_now_us());
	note_job(conn, STORE_CHANGED_JOB, job_id);
	return store_step_done(conn, st, "requesting a job's deletion");
}

enum fm_err
store_admin_request_mass_deletion(
    struct store_conn *conn, int64_t updated_max_us, int *count_out)
{
	sqlite3_stmt *st = store_stmt(conn, sql_request_mass_deletion);
	int64_t now = time_now_us();
	enum fm_err rc;

	*count_out = 0;
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, updated_max_us);
	sqlite3_bind_int64(st, 2, now);
	rc = store_step_done(conn, st, "requesting jobs' deletion");
	if (rc != FM_OK)
		return rc;
	*count_out = store_changes(conn);
	if (store_noting(conn) &&
	    (st = store_stmt(conn, sql_jobs_deletion_requested_at)) != NULL) {
		sqlite3_bind_int64(st, 1, now);
		while (sqlite3_step(st) == SQLITE_ROW)
			store_note(conn, STORE_CHANGED_JOB,
			    (const char *)sqlite3_column_text(st, 0), NULL,
			    NULL, NULL);
		sqlite3_reset(st);
	}
	return FM_OK;
}

enum fm_err
store_admin_next_deletion(struct store_conn *conn, int64_t after_id,
    int64_t *id_out, char uuid_out[ID_UUID_LEN + 1])
{
	sqlite3_stmt *st = store_stmt(conn, sql_next_deletion);
	int rc;

	*id_out = 0;
	uuid_out[0] = '\0';
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, after_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*id_out = sqlite3_column_int64(st, 0);
		snprintf(uuid_out, ID_UUID_LEN + 1, "%s",
		    sqlite3_column_text(st, 1));
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return FM_OK;
	return rc == SQLITE_DONE
	    ? FM_ERR_NOTFOUND
	    : store_error(conn, rc, "finding jobs to delete");
}

enum fm_err
store_admin_delete_tasks(
    struct store_conn *conn, int64_t job_id, int batch, int *deleted_out)
{
	sqlite3_stmt *st = store_stmt(conn, sql_max_index);
	int64_t max = 0, from;
	enum fm_err rc;
	int step;

	*deleted_out = 0;
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, job_id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		max = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (step != SQLITE_ROW)
		return store_error(conn, step, "sizing a job's tasks");
	if (max == 0)
		return FM_OK; /* no tasks left (indexes start at 1) */
	from = max - batch;
	if ((st = store_stmt(conn, sql_uncount_tasks)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, from);
	if ((rc = store_step_done(conn, st, "uncounting tasks")) != FM_OK)
		return rc;
	if ((st = store_stmt(conn, sql_delete_tasks)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, from);
	if ((rc = store_step_done(conn, st, "deleting tasks")) != FM_OK)
		return rc;
	*deleted_out = store_changes(conn);
	return FM_OK;
}

enum fm_err
store_admin_delete_job(struct store_conn *conn, int64_t job_id)
{
	note_job(conn, STORE_DELETED_JOB, job_id);
	return exec_id(conn, sql_delete_job, job_id, "deleting a job");
}

enum fm_err
store_admin_set_last_rendered(struct store_conn *conn, int64_t job_id)
{
	sqlite3_stmt *st = store_stmt(conn, sql_set_last_rendered);
	enum fm_err rc;

	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, time_now_us());
	rc = store_step_done(conn, st, "recording the last-rendered job");
	if (rc == FM_OK && store_changes(conn) == 0)
		rc = FM_ERR_NOTFOUND;
	return rc;
}

enum fm_err
store_admin_last_rendered(
    struct store_conn *conn, char uuid_out[ID_UUID_LEN + 1])
{
	sqlite3_stmt *st = store_stmt(conn, sql_last_rendered);
	int rc;

	uuid_out[0] = '\0';
	if (st == NULL)
		return FM_ERR_DB;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		snprintf(uuid_out, ID_UUID_LEN + 1, "%s",
		    sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return FM_OK;
	return rc == SQLITE_DONE
	    ? FM_ERR_NOTFOUND
	    : store_error(conn, rc, "finding the last-rendered job");
}
