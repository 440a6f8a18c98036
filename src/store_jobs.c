/*
 * Job rows: insertion of a whole compiled job (job, tasks, dependencies)
 * inside one write transaction, and job reads shaped for the API. Task
 * dependencies are resolved from UUIDs to row ids through a hash table so
 * a 100,000-task job stores in linear time.
 */
#include "store_jobs.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "state.h"
#include "store_internal.h"
#include "store_jobdeps.h"
#include "timeutil.h"
#include "uuidmap.h"
#include "xmalloc.h"

static const char sql_job_insert[] =
    "INSERT INTO jobs (created_at, updated_at, uuid, name, job_type, "
    "priority, status, activity, settings, metadata, "
    "storage_shaman_checkout_id, worker_tag_id, steps_total) "
    "VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, '', ?7, ?8, ?9, ?10, ?11)";
/* ?11: the uuid of the worker a task is pinned to (migration 0004), or
 * NULL. */
static const char sql_task_insert[] =
    "INSERT INTO tasks (created_at, updated_at, uuid, name, type, job_id, "
    "index_in_job, priority, status, commands, steps_total, pending_deps, "
    "pinned_worker_id) "
    "VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', ?8, ?9, ?10, "
    "(SELECT id FROM workers WHERE uuid = ?11))";
static const char sql_dep_insert[] =
    "INSERT OR IGNORE INTO task_dependencies (task_id, dependency_id) "
    "VALUES (?1, ?2)";
/* The job's dependencies (migration 0003) as a JSON array. */
#define SQL_JOB_DEPS                                                        \
	"(SELECT json_group_array(json_object('job', u.uuid, 'job_name', "  \
	"u.name, 'job_status', u.status, 'tasks', CASE d.upstream_kind "    \
	"WHEN 'job' THEN NULL ELSE json_object(d.upstream_kind, "           \
	"d.upstream_match) END, 'waiting', CASE d.waiting_kind WHEN 'job' " \
	"THEN NULL ELSE json_object(d.waiting_kind, d.waiting_match) END, " \
	"'remaining', d.remaining)) FROM job_dependencies d JOIN jobs u "   \
	"ON u.id = d.upstream_job_id WHERE d.job_id = j.id) "
/* The columns job_from_row() reads; the task counts are one small
 * aggregate over job_task_counts (a handful of rows per job). */
#define SQL_JOB_COLUMNS                                                                   \
	"SELECT j.uuid, j.name, j.job_type, j.priority, j.status, j.activity, "           \
	"j.created_at, j.updated_at, j.steps_completed, j.steps_total, "                  \
	"j.settings, j.metadata, t.uuid, j.storage_shaman_checkout_id, "                  \
	"j.delete_requested_at, (SELECT json_group_object(c.status, c.n) "                \
	"FROM job_task_counts c WHERE c.job_id = j.id), j.dependency_mode, " SQL_JOB_DEPS \
	"FROM jobs j "                                                                    \
	"LEFT JOIN worker_tags t ON t.id = j.worker_tag_id "
static const char sql_job_get[] = SQL_JOB_COLUMNS "WHERE j.uuid = ?1";
/* Newest first; a NULL filter matches everything. ?1 is a comma-joined
 * list of statuses. */
static const char sql_job_list[] = SQL_JOB_COLUMNS
    "WHERE (?1 IS NULL OR instr(',' || ?1 || ',', ',' || j.status || ',') "
    "> 0) AND (?2 IS NULL OR j.job_type = ?2) "
    "AND (?3 IS NULL OR instr(lower(j.name), lower(?3)) > 0) "
    "ORDER BY j.created_at DESC, j.id DESC LIMIT ?4 OFFSET ?5";
/* A new job's tasks are all queued (see migration 0002). */
static const char sql_job_counts_init[] =
    "INSERT INTO job_task_counts (job_id, status, n) VALUES (?1, 'queued', ?2)";
static const char sql_tag_id[] = "SELECT id FROM worker_tags WHERE uuid = ?1";

/*
 * Steps of a task as Flamenco counts them: each command is at least one
 * step, max(1, total_step_count), so echo, sleep or a preview video (no
 * step count) still show 0/1, not 0/0, to the Worker and a progress bar.
 */
static int64_t
task_steps(const json_t *commands)
{
	int64_t total = 0;
	size_t i;
	json_t *cmd;

	json_array_foreach (commands, i, cmd) {
		json_int_t n = json_integer_value(
		    json_object_get(cmd, "total_step_count"));

		total += n > 1 ? n : 1;
	}
	return total;
}

/* Steps of a task as stored, whichever form the compiler gave it in. */
static int64_t
task_steps_of(const json_t *task)
{
	const json_t *steps = json_object_get(task, "steps_total");

	if (json_is_integer(steps))
		return json_integer_value(steps);
	return task_steps(json_object_get(task, "commands"));
}

static void
bind_json(sqlite3_stmt *st, int idx, const json_t *v, const char *dflt)
{
	char *text = v != NULL ? json_dumps(v, JSON_COMPACT) : NULL;

	if (text != NULL)
		sqlite3_bind_text(st, idx, text, -1, free);
	else
		sqlite3_bind_text(st, idx, dflt, -1, SQLITE_STATIC);
}

static enum fm_err
insert_tasks(struct store_conn *conn, int64_t job_id, const json_t *tasks,
    int64_t created, struct uuid_map *map)
{
	sqlite3_stmt *st = store_stmt(conn, sql_task_insert);
	size_t i;
	json_t *task;
	enum fm_err rc;

	if (st == NULL)
		return FM_ERR_DB;
	json_array_foreach (tasks, i, task) {
		const json_t *cmds = json_object_get(task, "commands");
		const json_t *deps = json_object_get(task, "dependencies");

		sqlite3_bind_int64(st, 1, created);
		sqlite3_bind_text(st, 2,
		    json_string_value(json_object_get(task, "uuid")), -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(st, 3,
		    json_string_value(json_object_get(task, "name")), -1,
		    SQLITE_STATIC);
		sqlite3_bind_text(st, 4,
		    json_string_value(json_object_get(task, "type")), -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, job_id);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)i + 1);
		sqlite3_bind_int64(st, 7,
		    json_integer_value(json_object_get(task, "priority")));
		/* The compiler hands commands over as JSON text when it can,
		 * saving a parse and a dump per task. */
		if (json_is_string(json_object_get(task, "commands_json")))
			sqlite3_bind_text(st, 8,
			    json_string_value(
			        json_object_get(task, "commands_json")),
			    -1, SQLITE_STATIC);
		else
			bind_json(st, 8, cmds, "[]");
		sqlite3_bind_int64(st, 9, task_steps_of(task));
		sqlite3_bind_int64(
		    st, 10, (sqlite3_int64)json_array_size(deps));
		if (json_is_string(json_object_get(task, "worker_uuid")))
			sqlite3_bind_text(st, 11,
			    json_string_value(
			        json_object_get(task, "worker_uuid")),
			    -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 11);
		if ((rc = store_step_done(conn, st, "storing a task")) != FM_OK)
			return rc;
		uuid_map_put(map,
		    json_string_value(json_object_get(task, "uuid")),
		    sqlite3_last_insert_rowid(store_db(conn)));
	}
	return FM_OK;
}

static enum fm_err
insert_dependencies(
    struct store_conn *conn, const json_t *tasks, const struct uuid_map *map)
{
	sqlite3_stmt *st = store_stmt(conn, sql_dep_insert);
	size_t i, j;
	json_t *task, *dep;
	enum fm_err rc;

	if (st == NULL)
		return FM_ERR_DB;
	json_array_foreach (tasks, i, task) {
		int64_t task_id = uuid_map_get(
		    map, json_string_value(json_object_get(task, "uuid")));

		json_array_foreach (
		    json_object_get(task, "dependencies"), j, dep) {
			int64_t dep_id = json_is_string(dep)
			    ? uuid_map_get(map, json_string_value(dep))
			    : 0;

			if (dep_id == 0) {
				log_warn("job dependency on unknown task %s",
				    json_string_value(dep));
				return FM_ERR_INVALID;
			}
			sqlite3_bind_int64(st, 1, task_id);
			sqlite3_bind_int64(st, 2, dep_id);
			rc = store_step_done(conn, st, "storing a dependency");
			if (rc != FM_OK)
				return rc;
		}
	}
	return FM_OK;
}

/*
 * The submission's cross-job dependencies, checked again now that the
 * write lock is held (an upstream job may have gone since compiling):
 * a refusal now is FM_ERR_CONFLICT, with *msg_out (new) saying why.
 */
static enum fm_err
insert_job_dependencies(
    struct store_conn *conn, int64_t job_id, const json_t *job, char **msg_out)
{
	const json_t *deps = json_object_get(job, "depends_on");
	bool overlap = json_is_true(json_object_get(job, "dependency_overlap"));
	char *msg = NULL;
	enum fm_err rc = FM_OK;

	if (overlap)
		rc = store_jobdeps_set_mode(conn, job_id, true);
	if (rc == FM_OK && json_array_size(deps) > 0)
		rc = store_jobdeps_add(conn, job_id, deps, NULL, &msg);
	if (rc == FM_ERR_INVALID) {
		log_warn("job not stored: %s", msg);
		rc = FM_ERR_CONFLICT;
		*msg_out = msg;
		msg = NULL;
	}
	free(msg);
	return rc;
}

enum fm_err
store_jobs_insert(struct store_conn *conn, const json_t *job)
{
	char *msg = NULL;
	enum fm_err rc = store_jobs_insert_why(conn, job, &msg);

	free(msg);
	return rc;
}

enum fm_err
store_jobs_insert_why(
    struct store_conn *conn, const json_t *job, char **msg_out)
{
	const json_t *tasks = json_object_get(job, "tasks");
	const json_t *tag = json_object_get(job, "worker_tag_id");
	const char *checkout = json_string_value(
	    json_object_get(job, "storage_shaman_checkout_id"));
	int64_t created = json_integer_value(json_object_get(job, "created"));
	int64_t steps_total = 0, job_id;
	struct uuid_map map;
	sqlite3_stmt *st;
	enum fm_err rc;
	size_t i;
	json_t *task;

	*msg_out = NULL;
	/* The job's total is the sum of its tasks' from the start. (Flamenco
	 * leaves it 0 until tasks first report steps; a progress bar then
	 * jumps from 0/0, so we do not copy that.) */
	json_array_foreach (tasks, i, task)
		steps_total += task_steps_of(task);
	uuid_map_init(&map, json_array_size(tasks));
	if ((rc = store_begin(conn, true)) != FM_OK)
		goto done;
	if ((st = store_stmt(conn, sql_job_insert)) == NULL) {
		rc = FM_ERR_DB;
		goto done;
	}
	sqlite3_bind_int64(st, 1, created);
	sqlite3_bind_text(st, 2, json_string_value(json_object_get(job, "id")),
	    -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3,
	    json_string_value(json_object_get(job, "name")), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4,
	    json_string_value(json_object_get(job, "type")), -1, SQLITE_STATIC);
	sqlite3_bind_int64(
	    st, 5, json_integer_value(json_object_get(job, "priority")));
	sqlite3_bind_text(st, 6,
	    json_string_value(json_object_get(job, "status")), -1,
	    SQLITE_STATIC);
	bind_json(st, 7, json_object_get(job, "settings"), "{}");
	bind_json(st, 8, json_object_get(job, "metadata"), "{}");
	sqlite3_bind_text(st, 9, checkout ? checkout : "", -1, SQLITE_STATIC);
	if (json_is_integer(tag))
		sqlite3_bind_int64(st, 10, json_integer_value(tag));
	else
		sqlite3_bind_null(st, 10);
	sqlite3_bind_int64(st, 11, steps_total);
	if ((rc = store_step_done(conn, st, "storing a job")) != FM_OK)
		goto done;
	job_id = sqlite3_last_insert_rowid(store_db(conn));
	if ((rc = insert_tasks(conn, job_id, tasks, created, &map)) != FM_OK)
		goto done;
	if ((rc = insert_dependencies(conn, tasks, &map)) != FM_OK)
		goto done;
	if ((st = store_stmt(conn, sql_job_counts_init)) == NULL) {
		rc = FM_ERR_DB;
		goto done;
	}
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)json_array_size(tasks));
	if ((rc = store_step_done(conn, st, "counting a job's tasks")) != FM_OK)
		goto done;
	if ((rc = insert_job_dependencies(conn, job_id, job, msg_out)) != FM_OK)
		goto done;
	store_note(conn, STORE_CHANGED_JOB,
	    json_string_value(json_object_get(job, "id")), NULL, NULL, NULL);
	rc = store_commit(conn);
done:
	if (rc != FM_OK)
		store_rollback(conn);
	uuid_map_free(&map);
	return rc;
}

static json_t *
column_json(sqlite3_stmt *st, int col)
{
	const char *text = (const char *)sqlite3_column_text(st, col);
	json_t *v = text ? json_loads(text, 0, NULL) : NULL;

	return v != NULL ? v : json_object();
}

/* {"<task status>": n} for every task status, zeros included. */
static json_t *
task_counts(sqlite3_stmt *st, int col)
{
	const char *text = (const char *)sqlite3_column_text(st, col);
	json_t *counts = json_object();
	json_t *rows = text ? json_loads(text, 0, NULL) : NULL;

	for (int s = 0; s < TASK_STATUS_COUNT; s++)
		json_object_set_new(counts,
		    state_task_status_name((enum task_status)s),
		    json_integer(0));
	if (json_is_object(rows))
		json_object_update_existing(counts, rows);
	json_decref(rows);
	return counts;
}

/* The Job JSON from a row of SQL_JOB_COLUMNS (new). */
static json_t *
job_from_row(sqlite3_stmt *st)
{
	json_t *job;

	job = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:I, s:s}", "id",
	    sqlite3_column_text(st, 0), "name", sqlite3_column_text(st, 1),
	    "type", sqlite3_column_text(st, 2), "priority",
	    (json_int_t)sqlite3_column_int64(st, 3), "status",
	    sqlite3_column_text(st, 4), "activity", sqlite3_column_text(st, 5),
	    "steps_completed", (json_int_t)sqlite3_column_int64(st, 8),
	    "steps_total", (json_int_t)sqlite3_column_int64(st, 9),
	    "submitter_platform", "");
	store_json_time(job, "created", sqlite3_column_int64(st, 6));
	store_json_time(job, "updated", sqlite3_column_int64(st, 7));
	json_object_set_new(job, "settings", column_json(st, 10));
	json_object_set_new(job, "metadata", column_json(st, 11));
	if (sqlite3_column_type(st, 12) != SQLITE_NULL)
		json_object_set_new(job, "worker_tag",
		    json_string((const char *)sqlite3_column_text(st, 12)));
	if (sqlite3_column_bytes(st, 13) > 0)
		json_object_set_new(job, "storage",
		    json_pack("{s:s}", "shaman_checkout_id",
		        sqlite3_column_text(st, 13)));
	if (sqlite3_column_type(st, 14) != SQLITE_NULL)
		store_json_time(
		    job, "delete_requested_at", sqlite3_column_int64(st, 14));
	json_object_set_new(job, "task_counts", task_counts(st, 15));
	if (strcmp(store_text(st, 16), "strict") != 0)
		json_object_set_new(
		    job, "dependency_mode", json_string(store_text(st, 16)));
	store_jobdeps_to_job(job, (const char *)sqlite3_column_text(st, 17));
	return job;
}

enum fm_err
store_jobs_get(struct store_conn *conn, const char *uuid, json_t **job_out)
{
	sqlite3_stmt *st;
	int rc;

	*job_out = NULL;
	if ((st = store_stmt(conn, sql_job_get)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		return rc == SQLITE_DONE
		    ? FM_ERR_NOTFOUND
		    : store_error(conn, rc, "reading a job");
	}
	*job_out = job_from_row(st);
	sqlite3_reset(st);
	return FM_OK;
}

static void
bind_opt_text(sqlite3_stmt *st, int idx, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, idx);
}

enum fm_err
store_jobs_list(struct store_conn *conn, const struct store_jobs_filter *f,
    json_t **jobs_out)
{
	sqlite3_stmt *st;
	json_t *list;
	int rc;

	*jobs_out = NULL;
	if ((st = store_stmt(conn, sql_job_list)) == NULL)
		return FM_ERR_DB;
	bind_opt_text(st, 1, f->statuses);
	bind_opt_text(st, 2, f->type);
	bind_opt_text(st, 3, f->name);
	sqlite3_bind_int64(st, 4, f->limit >= 0 ? f->limit : -1);
	sqlite3_bind_int64(st, 5, f->offset);
	list = json_array();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(list, job_from_row(st));
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(list);
		return store_error(conn, rc, "listing jobs");
	}
	*jobs_out = json_pack("{s:o}", "jobs", list);
	return FM_OK;
}

enum fm_err
store_jobs_tag_id(
    struct store_conn *conn, const char *tag_uuid, int64_t *id_out)
{
	sqlite3_stmt *st;
	int rc;

	*id_out = 0;
	if ((st = store_stmt(conn, sql_tag_id)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_text(st, 1, tag_uuid, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*id_out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return FM_OK;
	return rc == SQLITE_DONE ? FM_ERR_NOTFOUND
	                         : store_error(conn, rc, "reading a tag");
}
