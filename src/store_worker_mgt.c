/*
 * Worker administration in the store: the WorkerSummary/Worker JSON,
 * soft deletion, tag memberships and sleep schedules with their verdict.
 * Sleep schedules are applied in local time; next_check is built with
 * mktime() so a DST change moves it with the wall clock.
 */
#include "store_worker_mgt.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "state.h"
#include "store_internal.h"
#include "store_workers.h"
#include "timeutil.h"
#include "xmalloc.h"

/* The WorkerSummary columns, first in every summary query. */
#define SUMMARY_COLS                                            \
	"w.uuid, w.name, w.status, w.software, w.can_restart, " \
	"w.status_requested, w.lazy_status_request, w.last_seen_at"
#define SUMMARY_NCOLS 8

/* Schedules applied per housekeeping run; the rest wait a minute. */
#define MAX_DUE_SCHEDULES 1000

static const char sql_list[] = "SELECT " SUMMARY_COLS " FROM workers w "
                               "WHERE w.deleted_at IS NULL ORDER BY w.id";
static const char sql_get[] = "SELECT " SUMMARY_COLS ", w.address, w.platform, "
                              "w.supported_task_types, w.id FROM workers w "
                              "WHERE w.uuid = ?1 AND w.deleted_at IS NULL";
/* The active task first, else the one updated last. */
static const char sql_worker_task[] =
    "SELECT t.uuid, t.name, t.status, t.index_in_job, t.priority, t.type, "
    "t.updated_at, t.steps_completed, t.steps_total, j.uuid, w.uuid, "
    "w.name, w.address FROM tasks t JOIN jobs j ON j.id = t.job_id "
    "JOIN workers w ON w.id = t.worker_id WHERE t.worker_id = ?1 "
    "ORDER BY t.status = 'active' DESC, t.updated_at DESC, t.id DESC "
    "LIMIT 1";
static const char sql_worker_tags[] =
    "SELECT t.uuid, t.name, t.description FROM worker_tag_membership m "
    "JOIN worker_tags t ON t.id = m.worker_tag_id WHERE m.worker_id = ?1 "
    "ORDER BY t.name";
static const char sql_find[] =
    "SELECT id, uuid, name, address, platform, software, "
    "supported_task_types, status, status_requested, lazy_status_request, "
    "can_restart, coalesce(last_seen_at, 0) FROM workers "
    "WHERE uuid = ?1 AND deleted_at IS NULL";
static const char sql_delete[] =
    "UPDATE workers SET deleted_at = ?2, updated_at = ?2 WHERE id = ?1";
static const char sql_clear_tags[] =
    "DELETE FROM worker_tag_membership WHERE worker_id = ?1";
static const char sql_add_tag[] =
    "INSERT OR IGNORE INTO worker_tag_membership (worker_tag_id, worker_id) "
    "SELECT id, ?2 FROM worker_tags WHERE uuid = ?1";
static const char sql_schedule_get[] =
    "SELECT s.is_active, s.days_of_week, s.start_time, s.end_time "
    "FROM sleep_schedules s JOIN workers w ON w.id = s.worker_id "
    "WHERE w.uuid = ?1 AND w.deleted_at IS NULL";
static const char sql_schedule_set[] =
    "INSERT INTO sleep_schedules (created_at, updated_at, worker_id, "
    "is_active, days_of_week, start_time, end_time) "
    "VALUES (?1, ?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (worker_id) DO UPDATE "
    "SET updated_at = excluded.updated_at, is_active = excluded.is_active, "
    "days_of_week = excluded.days_of_week, "
    "start_time = excluded.start_time, end_time = excluded.end_time";
static const char sql_next_check[] =
    "UPDATE sleep_schedules SET next_check = ?2 WHERE worker_id = ?1";
static const char sql_due[] =
    "SELECT s.worker_id, s.is_active, s.days_of_week, s.start_time, "
    "s.end_time, w.uuid, w.status FROM sleep_schedules s "
    "JOIN workers w ON w.id = s.worker_id WHERE s.is_active = 1 "
    "AND w.deleted_at IS NULL "
    "AND (s.next_check IS NULL OR s.next_check <= ?1) LIMIT ?2";

/* WorkerSummary from the SUMMARY_COLS of the current row (new). */
static json_t *
summary_json(sqlite3_stmt *st)
{
	json_t *w = json_pack("{s:s, s:s, s:s, s:s, s:b}", "id",
	    store_text(st, 0), "name", store_text(st, 1), "status",
	    store_text(st, 2), "version", store_text(st, 3), "can_restart",
	    sqlite3_column_int(st, 4) != 0);
	enum worker_status req;

	if (state_worker_status_parse(store_text(st, 5), &req) == FM_OK &&
	    req != WORKER_STATUS_REGISTERED)
		json_object_set_new(w, "status_change",
		    json_pack("{s:s, s:b}", "status",
		        state_worker_status_name(req), "is_lazy",
		        sqlite3_column_int(st, 6) != 0));
	if (sqlite3_column_int64(st, 7) > 0)
		store_json_time(w, "last_seen", sqlite3_column_int64(st, 7));
	return w;
}

enum fm_err
store_worker_mgt_list(struct store_conn *conn, json_t **list_out)
{
	sqlite3_stmt *st;
	json_t *list;
	enum fm_err rc;

	*list_out = NULL;
	if ((st = store_stmt(conn, sql_list)) == NULL)
		return FM_ERR_DB;
	rc = store_collect(conn, st, summary_json, "listing workers", &list);
	if (rc == FM_OK)
		*list_out = json_pack("{s:o}", "workers", list);
	return rc;
}

/* "blender,ffmpeg" -> ["blender", "ffmpeg"] (new). */
static json_t *
split_types(const char *csv)
{
	json_t *out = json_array();

	while (*csv != '\0') {
		size_t n = strcspn(csv, ",");

		if (n > 0)
			json_array_append_new(out, json_stringn(csv, n));
		csv += n;
		if (*csv == ',')
			csv++;
	}
	return out;
}

/* Add "task" (TaskSummary + job_id) when the worker has had one. */
static enum fm_err
add_task(struct store_conn *conn, int64_t worker_id, json_t *worker)
{
	sqlite3_stmt *st = store_stmt(conn, sql_worker_task);
	int rc;

	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, worker_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		json_t *t =
		    json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:I, s:I, s:s}",
		        "id", store_text(st, 0), "name", store_text(st, 1),
		        "status", store_text(st, 2), "index_in_job",
		        (json_int_t)sqlite3_column_int64(st, 3), "priority",
		        (json_int_t)sqlite3_column_int64(st, 4), "task_type",
		        store_text(st, 5), "steps_completed",
		        (json_int_t)sqlite3_column_int64(st, 7), "steps_total",
		        (json_int_t)sqlite3_column_int64(st, 8), "job_id",
		        store_text(st, 9));

		store_json_time(t, "updated", sqlite3_column_int64(st, 6));
		json_object_set_new(t, "worker",
		    json_pack("{s:s, s:s, s:s}", "id", store_text(st, 10),
		        "name", store_text(st, 11), "address",
		        store_text(st, 12)));
		json_object_set_new(worker, "task", t);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return store_error(conn, rc, "reading a worker's task");
	return FM_OK;
}

/* Add "tags" when the worker is a member of at least one tag. */
static enum fm_err
add_tags(struct store_conn *conn, int64_t worker_id, json_t *worker)
{
	sqlite3_stmt *st = store_stmt(conn, sql_worker_tags);
	json_t *tags = json_array();
	int rc;

	if (st == NULL) {
		json_decref(tags);
		return FM_ERR_DB;
	}
	sqlite3_bind_int64(st, 1, worker_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *t = json_pack("{s:s, s:s}", "id", store_text(st, 0),
		    "name", store_text(st, 1));

		if (store_text(st, 2)[0] != '\0')
			json_object_set_new(
			    t, "description", json_string(store_text(st, 2)));
		json_array_append_new(tags, t);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		json_decref(tags);
		return store_error(conn, rc, "reading a worker's tags");
	}
	if (json_array_size(tags) > 0)
		json_object_set_new(worker, "tags", tags);
	else
		json_decref(tags);
	return FM_OK;
}

enum fm_err
store_worker_mgt_get(
    struct store_conn *conn, const char *uuid, json_t **worker_out)
{
	sqlite3_stmt *st;
	json_t *w = NULL;
	int64_t id = 0;
	enum fm_err rc;
	int step;

	*worker_out = NULL;
	if ((st = store_stmt(conn, sql_get)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		w = summary_json(st);
		json_object_set_new(w, "ip_address",
		    json_string(store_text(st, SUMMARY_NCOLS)));
		json_object_set_new(w, "platform",
		    json_string(store_text(st, SUMMARY_NCOLS + 1)));
		json_object_set_new(w, "supported_task_types",
		    split_types(store_text(st, SUMMARY_NCOLS + 2)));
		id = sqlite3_column_int64(st, SUMMARY_NCOLS + 3);
	}
	sqlite3_reset(st);
	if (step == SQLITE_DONE)
		return FM_ERR_NOTFOUND;
	if (step != SQLITE_ROW)
		return store_error(conn, step, "reading a worker");
	rc = add_task(conn, id, w);
	if (rc == FM_OK)
		rc = add_tags(conn, id, w);
	if (rc != FM_OK) {
		json_decref(w);
		return rc;
	}
	*worker_out = w;
	return FM_OK;
}

static char *
col_dup(sqlite3_stmt *st, int col)
{
	return xstrdup(store_text(st, col));
}

enum fm_err
store_worker_mgt_find(
    struct store_conn *conn, const char *uuid, struct worker *w_out)
{
	sqlite3_stmt *st;
	int step;

	memset(w_out, 0, sizeof(*w_out));
	if ((st = store_stmt(conn, sql_find)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		w_out->id = sqlite3_column_int64(st, 0);
		snprintf(
		    w_out->uuid, sizeof(w_out->uuid), "%s", store_text(st, 1));
		w_out->name = col_dup(st, 2);
		w_out->address = col_dup(st, 3);
		w_out->platform = col_dup(st, 4);
		w_out->software = col_dup(st, 5);
		w_out->task_types = col_dup(st, 6);
		if (state_worker_status_parse(
		        store_text(st, 7), &w_out->status) != FM_OK)
			w_out->status = WORKER_STATUS_ERROR;
		w_out->has_request =
		    state_worker_status_parse(
		        store_text(st, 8), &w_out->status_requested) == FM_OK &&
		    w_out->status_requested != WORKER_STATUS_REGISTERED;
		w_out->lazy = sqlite3_column_int(st, 9) != 0;
		w_out->can_restart = sqlite3_column_int(st, 10) != 0;
		w_out->last_seen_us = sqlite3_column_int64(st, 11);
	}
	sqlite3_reset(st);
	if (step == SQLITE_DONE)
		return FM_ERR_NOTFOUND;
	if (step != SQLITE_ROW)
		return store_error(conn, step, "looking a worker up");
	return FM_OK;
}

enum fm_err
store_worker_mgt_delete(struct store_conn *conn, int64_t worker_id)
{
	sqlite3_stmt *st;

	store_workers_note(conn, worker_id);
	if ((st = store_stmt(conn, sql_delete)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, worker_id);
	sqlite3_bind_int64(st, 2, time_now_us());
	return store_step_done(conn, st, "deleting a worker");
}

enum fm_err
store_worker_mgt_set_tags(
    struct store_conn *conn, int64_t worker_id, const json_t *tag_uuids)
{
	sqlite3_stmt *st;
	enum fm_err rc;
	size_t i;
	json_t *v;

	store_workers_note(conn, worker_id);
	if ((st = store_stmt(conn, sql_clear_tags)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, worker_id);
	if ((rc = store_step_done(conn, st, "clearing worker tags")) != FM_OK)
		return rc;
	json_array_foreach (tag_uuids, i, v) {
		if (!json_is_string(v))
			continue;
		if ((st = store_stmt(conn, sql_add_tag)) == NULL)
			return FM_ERR_DB;
		sqlite3_bind_text(
		    st, 1, json_string_value(v), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, worker_id);
		if ((rc = store_step_done(conn, st, "tagging a worker")) !=
		    FM_OK)
			return rc;
	}
	return FM_OK;
}

enum fm_err
store_worker_mgt_schedule_get(struct store_conn *conn, const char *uuid,
    struct sleep_schedule *out, bool *found_out)
{
	sqlite3_stmt *st;
	const char *why;
	enum fm_err rc = FM_OK;
	int step;

	*found_out = false;
	if ((st = store_stmt(conn, sql_schedule_get)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		/* Stored normalised, so this only fails on a damaged row. */
		if (state_sleep_parse(sqlite3_column_int(st, 0) != 0,
		        store_text(st, 1), store_text(st, 2), store_text(st, 3),
		        out, &why) == FM_OK) {
			*found_out = true;
		} else {
			log_error("worker %s: stored sleep schedule is "
			          "invalid: %s",
			    uuid, why);
			rc = FM_ERR_INTERNAL;
		}
	} else if (step != SQLITE_DONE) {
		rc = store_error(conn, step, "reading a sleep schedule");
	}
	sqlite3_reset(st);
	return rc;
}

/*
 * Apply schedule s of a worker in status at time now: request the
 * verdict when it differs (never for a worker in "error"), then store
 * when to look again.
 */
static enum fm_err
apply_schedule(struct store_conn *conn, int64_t worker_id,
    const char *worker_uuid, enum worker_status status,
    const struct sleep_schedule *s, time_t now)
{
	enum worker_status verdict;
	sqlite3_stmt *st;
	struct tm tm;
	time_t next;
	enum fm_err rc;
	int sec;

	if (localtime_r(&now, &tm) == NULL)
		return FM_ERR_INTERNAL;
	sec = tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	verdict = state_sleep_verdict(s, tm.tm_wday, sec);
	if (status != WORKER_STATUS_ERROR && verdict != status) {
		rc = store_workers_set_request(
		    conn, worker_id, true, verdict, false);
		if (rc != FM_OK)
			return rc;
		log_info("worker %s: sleep schedule requests status %s",
		    worker_uuid, state_worker_status_name(verdict));
	}
	/* mktime() normalises tm_sec past the day into a date and time. */
	tm.tm_hour = 0;
	tm.tm_min = 0;
	tm.tm_sec = state_sleep_next_check(s, sec);
	tm.tm_isdst = -1;
	next = mktime(&tm);
	if (next == (time_t)-1 || next <= now)
		next = now + 60; /* a DST oddity: look again in a minute */
	if ((st = store_stmt(conn, sql_next_check)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, worker_id);
	sqlite3_bind_int64(st, 2, (int64_t)next * 1000000);
	return store_step_done(
	    conn, st, "storing a sleep schedule's next check");
}

enum fm_err
store_worker_mgt_schedule_set(struct store_conn *conn, const struct worker *w,
    const struct sleep_schedule *s, time_t now)
{
	char start[STATE_SLEEP_TIME_MAX], end[STATE_SLEEP_TIME_MAX];
	sqlite3_stmt *st = store_stmt(conn, sql_schedule_set);
	enum fm_err rc;

	if (st == NULL)
		return FM_ERR_DB;
	state_sleep_time_format(s->start, start);
	state_sleep_time_format(s->end, end);
	sqlite3_bind_int64(st, 1, time_now_us());
	sqlite3_bind_int64(st, 2, w->id);
	sqlite3_bind_int(st, 3, s->is_active);
	sqlite3_bind_text(st, 4, s->days, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, start, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, end, -1, SQLITE_STATIC);
	if ((rc = store_step_done(conn, st, "saving a sleep schedule")) !=
	    FM_OK)
		return rc;
	return apply_schedule(conn, w->id, w->uuid, w->status, s, now);
}

struct due_schedule {
	int64_t worker_id;
	char worker_uuid[ID_UUID_LEN + 1];
	enum worker_status status;
	struct sleep_schedule sched;
};

/* Collect the due schedules; the statement is done before any write. */
static enum fm_err
due_schedules(struct store_conn *conn, time_t now, struct due_schedule **out,
    size_t *n_out)
{
	sqlite3_stmt *st = store_stmt(conn, sql_due);
	struct due_schedule *list = NULL;
	size_t n = 0;
	int step;

	*out = NULL;
	*n_out = 0;
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, (int64_t)now * 1000000);
	sqlite3_bind_int(st, 2, MAX_DUE_SCHEDULES);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct due_schedule d;
		const char *why;

		memset(&d, 0, sizeof(d));
		d.worker_id = sqlite3_column_int64(st, 0);
		snprintf(d.worker_uuid, sizeof(d.worker_uuid), "%s",
		    store_text(st, 5));
		if (state_worker_status_parse(store_text(st, 6), &d.status) !=
		    FM_OK)
			d.status = WORKER_STATUS_ERROR;
		if (state_sleep_parse(sqlite3_column_int(st, 1) != 0,
		        store_text(st, 2), store_text(st, 3), store_text(st, 4),
		        &d.sched, &why) != FM_OK) {
			log_error("worker %s: stored sleep schedule is "
			          "invalid: %s",
			    d.worker_uuid, why);
			continue;
		}
		list = xrealloc(list, (n + 1) * sizeof(*list));
		list[n++] = d;
	}
	sqlite3_reset(st);
	if (step != SQLITE_DONE) {
		free(list);
		return store_error(conn, step, "finding due sleep schedules");
	}
	*out = list;
	*n_out = n;
	return FM_OK;
}

enum fm_err
store_worker_mgt_check_schedules(struct store *store, time_t now)
{
	struct store_conn *conn = store_acquire(store);
	struct due_schedule *due = NULL;
	size_t n = 0;
	enum fm_err rc;

	rc = store_begin(conn, true);
	if (rc == FM_OK)
		rc = due_schedules(conn, now, &due, &n);
	for (size_t i = 0; i < n && rc == FM_OK; i++)
		rc = apply_schedule(conn, due[i].worker_id, due[i].worker_uuid,
		    due[i].status, &due[i].sched, now);
	if (rc == FM_OK)
		rc = store_commit(conn);
	else
		store_rollback(conn);
	store_release(store, conn);
	free(due);
	return rc;
}
