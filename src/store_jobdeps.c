/*
 * Job dependency rows. Adding checks every entry before storing any, in
 * the caller's transaction, so a refused list leaves nothing behind.
 * Cycles are found by walking once downstream from the job (every job
 * that waits for it, transitively): an entry closes a cycle when its
 * upstream job is in that set. The stored graph has no cycle, so the walk
 * ends.
 */
#include "store_jobdeps.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jobdeps.h"
#include "store_internal.h"
#include "timeutil.h"
#include "xmalloc.h"

/* A cycle walk gives up (and refuses) beyond this many jobs. */
#define WALK_MAX 100000

static const char sql_job[] =
    "SELECT id, name, delete_requested_at FROM jobs WHERE uuid = ?1";
static const char sql_match_count[] =
    "SELECT count(*), coalesce(sum(status <> 'completed'), 0) FROM tasks "
    "WHERE job_id = ?1 AND (?2 = 'job' OR (?2 = 'type' AND type = ?3) "
    "OR (?2 = 'name' AND name GLOB ?3))";
static const char sql_exists[] =
    "SELECT 1 FROM job_dependencies WHERE job_id = ?1 "
    "AND upstream_job_id = ?2 AND upstream_kind = ?3 AND upstream_match = ?4 "
    "AND waiting_kind = ?5 AND waiting_match = ?6";
static const char sql_insert[] =
    "INSERT INTO job_dependencies (created_at, job_id, upstream_job_id, "
    "upstream_kind, upstream_match, waiting_kind, waiting_match, remaining) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char sql_downstreams[] =
    "SELECT DISTINCT job_id FROM job_dependencies WHERE upstream_job_id = ?1";
/* Both probe idx_job_dependencies_upstream; a job none waits for costs
 * one index look-up. The second selects the rows the task counts for
 * (the triggers of migration 0003) whose remaining it just took to 0 or
 * from 0 to 1 (?3). */
static const char sql_downstream_all[] =
    "SELECT DISTINCT j.uuid FROM job_dependencies d "
    "JOIN jobs j ON j.id = d.job_id WHERE d.upstream_job_id = ?1";
static const char sql_downstream_met[] =
    "SELECT DISTINCT j.uuid FROM job_dependencies d "
    "JOIN tasks t ON t.id = ?2 JOIN jobs j ON j.id = d.job_id "
    "WHERE d.upstream_job_id = ?1 AND d.remaining = ?3 "
    "AND (d.upstream_kind = 'job' OR (d.upstream_kind = 'type' "
    "AND d.upstream_match = t.type) OR (d.upstream_kind = 'name' "
    "AND t.name GLOB d.upstream_match))";
static const char sql_row_count[] =
    "SELECT count(*) FROM job_dependencies WHERE job_id = ?1";
static const char sql_job_label[] = "SELECT uuid, name FROM jobs WHERE id = ?1";
static const char sql_remove[] =
    "DELETE FROM job_dependencies WHERE job_id = ?1 AND upstream_job_id = "
    "(SELECT id FROM jobs WHERE uuid = ?2)";
static const char sql_waiters[] =
    "SELECT w.uuid, w.name FROM jobs w WHERE w.id IN (SELECT d.job_id "
    "FROM job_dependencies d WHERE d.upstream_job_id = ?1 "
    "AND d.remaining > 0) AND w.delete_requested_at IS NULL ORDER BY w.id";
static const char sql_started[] =
    "SELECT coalesce(sum(n), 0) FROM job_task_counts WHERE job_id = ?1 "
    "AND status NOT IN ('queued', 'paused')";
static const char sql_mode[] = "SELECT dependency_mode FROM jobs WHERE id = ?1";
static const char sql_set_mode[] =
    "UPDATE jobs SET dependency_mode = ?2 WHERE id = ?1";

struct upstream {
	int64_t id;
	char *name;
	int64_t total;     /* tasks the selector matches */
	int64_t remaining; /* of those, not completed */
};

static enum fm_err
find_job(struct store_conn *conn, const char *uuid, struct upstream *up)
{
	sqlite3_stmt *st = store_stmt(conn, sql_job);
	enum fm_err rc = FM_ERR_NOTFOUND;
	int step;

	up->id = 0;
	up->name = NULL;
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW && sqlite3_column_type(st, 2) == SQLITE_NULL) {
		up->id = sqlite3_column_int64(st, 0);
		up->name = xstrdup(store_text(st, 1));
		rc = FM_OK;
	} else if (step != SQLITE_ROW && step != SQLITE_DONE) {
		rc = store_error(conn, step, "looking up an upstream job");
	}
	sqlite3_reset(st);
	return rc;
}

static enum fm_err
count_matches(
    struct store_conn *conn, struct upstream *up, struct jobdeps_selector sel)
{
	sqlite3_stmt *st = store_stmt(conn, sql_match_count);
	int step;

	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, up->id);
	sqlite3_bind_text(st, 2, sel.kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sel.match, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		up->total = sqlite3_column_int64(st, 0);
		up->remaining = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return step == SQLITE_ROW ? FM_OK
	                          : store_error(conn, step, "counting tasks");
}

/* Whether one of the compiled tasks (JSON, not stored yet) matches. */
static bool
compiled_match(const json_t *tasks, struct jobdeps_selector sel)
{
	size_t i;
	json_t *t;

	if (strcmp(sel.kind, "job") == 0)
		return true;
	json_array_foreach (tasks, i, t) {
		const char *v = json_string_value(json_object_get(
		    t, strcmp(sel.kind, "name") == 0 ? "name" : "type"));

		if (v == NULL)
			continue;
		if (strcmp(sel.kind, "name") == 0
		        ? sqlite3_strglob(sel.match, v) == 0
		        : strcmp(sel.match, v) == 0)
			return true;
	}
	return false;
}

static enum fm_err
job_label(struct store_conn *conn, int64_t id, char **out)
{
	sqlite3_stmt *st = store_stmt(conn, sql_job_label);
	int step;

	*out = NULL;
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		*out = xasprintf(
		    "\"%.80s\" (%s)", store_text(st, 1), store_text(st, 0));
	sqlite3_reset(st);
	if (step == SQLITE_ROW)
		return FM_OK;
	return step == SQLITE_DONE ? FM_ERR_NOTFOUND
	                           : store_error(conn, step, "naming a job");
}

/* Row ids seen by the walk: open addressing, 0 = free (row ids are
 * positive), grown at half full. */
struct seen {
	int64_t *slots;
	size_t cap, n;
};

static bool
seen_add(struct seen *s, int64_t id)
{
	size_t i;

	if (2 * (s->n + 1) > s->cap) {
		struct seen bigger = { xcalloc(s->cap ? s->cap * 2 : 64,
			                   sizeof(int64_t)),
			s->cap ? s->cap * 2 : 64, 0 };

		for (size_t k = 0; k < s->cap; k++)
			if (s->slots[k] != 0)
				(void)seen_add(&bigger, s->slots[k]);
		free(s->slots);
		*s = bigger;
	}
	for (i = (size_t)id * 0x9E3779B97F4A7C15ull % s->cap; s->slots[i] != 0;
	     i = (i + 1) % s->cap)
		if (s->slots[i] == id)
			return false;
	s->slots[i] = id;
	s->n++;
	return true;
}

static bool
seen_has(const struct seen *s, int64_t id)
{
	if (s->cap == 0)
		return false;
	for (size_t i = (size_t)id * 0x9E3779B97F4A7C15ull % s->cap;
	     s->slots[i] != 0; i = (i + 1) % s->cap)
		if (s->slots[i] == id)
			return true;
	return false;
}

/*
 * The jobs that wait for a job, transitively, in breadth-first order:
 * ids[0] is the job itself and ids[k] waits for ids[parent[k]].
 */
struct downstream {
	int64_t *ids;
	size_t *parent;
	size_t n;
	struct seen seen;
	bool walked;
};

static void
downstream_free(struct downstream *d)
{
	free(d->ids);
	free(d->parent);
	free(d->seen.slots);
}

/* Walk from job_id once; *too_big_out: more than WALK_MAX jobs. */
static enum fm_err
downstream_walk(struct store_conn *conn, int64_t job_id, struct downstream *d,
    bool *too_big_out)
{
	size_t cap = 64, head = 0;
	sqlite3_stmt *st = store_stmt(conn, sql_downstreams);

	*too_big_out = false;
	d->walked = true;
	if (st == NULL)
		return FM_ERR_DB;
	d->ids = xmalloc(cap * sizeof(*d->ids));
	d->parent = xmalloc(cap * sizeof(*d->parent));
	d->ids[0] = job_id;
	d->parent[0] = SIZE_MAX;
	d->n = 1;
	(void)seen_add(&d->seen, job_id);
	while (head < d->n) {
		size_t at = head++;
		int step;

		sqlite3_bind_int64(st, 1, d->ids[at]);
		while ((step = sqlite3_step(st)) == SQLITE_ROW) {
			int64_t next = sqlite3_column_int64(st, 0);

			if (!seen_add(&d->seen, next))
				continue;
			if (d->n == cap) {
				cap *= 2;
				d->ids =
				    xrealloc(d->ids, cap * sizeof(*d->ids));
				d->parent = xrealloc(
				    d->parent, cap * sizeof(*d->parent));
			}
			d->ids[d->n] = next;
			d->parent[d->n++] = at;
		}
		sqlite3_reset(st);
		if (step != SQLITE_DONE)
			return store_error(conn, step, "walking dependencies");
		if (d->n > WALK_MAX) {
			*too_big_out = true;
			return FM_OK;
		}
	}
	return FM_OK;
}

/* The text for the cycle job_id waiting for up_id (found downstream of
 * it) would close: job_id waits for up_id, which waits ... for job_id. */
static enum fm_err
cycle_text(struct store_conn *conn, const struct downstream *d, int64_t up_id,
    char **text_out)
{
	size_t k = 0;
	char *label, *text;
	enum fm_err rc;

	*text_out = NULL;
	while (k < d->n && d->ids[k] != up_id)
		k++;
	if ((rc = job_label(conn, d->ids[0], &text)) != FM_OK)
		return rc;
	for (; k < d->n && rc == FM_OK; k = d->parent[k]) {
		char *more;

		if ((rc = job_label(conn, d->ids[k], &label)) != FM_OK)
			break;
		more = xasprintf("%s waits for %s", text, label);
		free(text);
		free(label);
		text = more;
		if (k == 0)
			break;
	}
	if (rc == FM_OK)
		*text_out = text;
	else
		free(text);
	return rc;
}

static enum fm_err
exists(struct store_conn *conn, int64_t job_id, int64_t up_id,
    struct jobdeps_selector up, struct jobdeps_selector wait, bool *out)
{
	sqlite3_stmt *st = store_stmt(conn, sql_exists);
	int step;

	*out = false;
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, up_id);
	sqlite3_bind_text(st, 3, up.kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, up.match, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, wait.kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, wait.match, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	*out = step == SQLITE_ROW;
	sqlite3_reset(st);
	return step == SQLITE_ROW || step == SQLITE_DONE
	    ? FM_OK
	    : store_error(conn, step, "looking up a dependency");
}

static enum fm_err
insert(struct store_conn *conn, int64_t job_id, const struct upstream *u,
    struct jobdeps_selector up, struct jobdeps_selector wait)
{
	sqlite3_stmt *st = store_stmt(conn, sql_insert);

	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, time_now_us());
	sqlite3_bind_int64(st, 2, job_id);
	sqlite3_bind_int64(st, 3, u->id);
	sqlite3_bind_text(st, 4, up.kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, up.match, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, wait.kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, wait.match, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, u->remaining);
	return store_step_done(conn, st, "storing a job dependency");
}

/* Whether one of job_id's stored tasks matches sel. */
static enum fm_err
stored_match(struct store_conn *conn, int64_t job_id,
    struct jobdeps_selector sel, bool *out)
{
	struct upstream self = { .id = job_id };
	enum fm_err rc = count_matches(conn, &self, sel);

	*out = self.total > 0;
	return rc;
}

/* Check (and with job_id != 0 store) entry i of the list. */
static enum fm_err
add_one(struct store_conn *conn, int64_t job_id, const json_t *entry, size_t i,
    const json_t *tasks, struct downstream *down, char **msg_out)
{
	const char *uuid = json_string_value(json_object_get(entry, "job"));
	struct jobdeps_selector up = jobdeps_upstream(entry);
	struct jobdeps_selector wait = jobdeps_waiting(entry);
	struct upstream u;
	char *cycle = NULL;
	bool found, too_big;
	enum fm_err rc;

	rc = find_job(conn, uuid, &u);
	if (rc == FM_ERR_NOTFOUND) {
		*msg_out = xasprintf("depends_on[%zu]: no job %s (unknown, "
		                     "or its deletion was requested)",
		    i, uuid);
		return FM_ERR_INVALID;
	}
	if (rc != FM_OK)
		return rc;
	if (job_id != 0 && u.id == job_id) {
		*msg_out = xasprintf(
		    "depends_on[%zu]: a job cannot wait for itself", i);
		rc = FM_ERR_INVALID;
		goto done;
	}
	if ((rc = count_matches(conn, &u, up)) != FM_OK)
		goto done;
	if (u.total == 0) {
		*msg_out = xasprintf("depends_on[%zu]: no task of job "
		                     "\"%.80s\" (%s) has the %s \"%s\"%s",
		    i, u.name, uuid, up.kind, up.match,
		    strcmp(up.kind, "name") == 0 ? " (a GLOB pattern)" : "");
		rc = FM_ERR_INVALID;
		goto done;
	}
	if (job_id == 0
	        ? !compiled_match(tasks, wait)
	        : ((rc = stored_match(conn, job_id, wait, &found)) == FM_OK &&
	              !found)) {
		*msg_out = xasprintf("depends_on[%zu].waiting: no task of "
		                     "this job has the %s \"%s\"",
		    i, wait.kind, wait.match);
		rc = FM_ERR_INVALID;
		goto done;
	}
	if (rc != FM_OK || job_id == 0)
		goto done;
	too_big = false;
	if (!down->walked &&
	    (rc = downstream_walk(conn, job_id, down, &too_big)) != FM_OK)
		goto done;
	if (too_big || down->n > WALK_MAX) {
		*msg_out = xasprintf("depends_on[%zu]: more than %d jobs wait "
		                     "for this job already; refused",
		    i, WALK_MAX);
		rc = FM_ERR_INVALID;
		goto done;
	}
	if (seen_has(&down->seen, u.id)) {
		if ((rc = cycle_text(conn, down, u.id, &cycle)) != FM_OK)
			goto done;
		*msg_out = xasprintf(
		    "depends_on[%zu] would make a cycle: %s", i, cycle);
		rc = FM_ERR_INVALID;
		goto done;
	}
	if ((rc = exists(conn, job_id, u.id, up, wait, &found)) != FM_OK)
		goto done;
	if (found) {
		*msg_out = xasprintf("depends_on[%zu]: the job already waits "
		                     "for exactly this",
		    i);
		rc = FM_ERR_INVALID;
		goto done;
	}
	rc = insert(conn, job_id, &u, up, wait);
done:
	free(cycle);
	free(u.name);
	return rc;
}

/* How many dependency rows the job has stored. */
static enum fm_err
row_count(struct store_conn *conn, int64_t job_id, int64_t *out)
{
	sqlite3_stmt *st = store_stmt(conn, sql_row_count);
	int step;

	*out = 0;
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, job_id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return step == SQLITE_ROW
	    ? FM_OK
	    : store_error(conn, step, "counting job dependencies");
}

enum fm_err
store_jobdeps_add(struct store_conn *conn, int64_t job_id, const json_t *list,
    const json_t *tasks, char **msg_out)
{
	struct downstream down = { 0 };
	int64_t stored = 0;
	size_t i;
	json_t *entry;
	enum fm_err rc = FM_OK;

	*msg_out = NULL;
	if (job_id != 0) {
		if ((rc = row_count(conn, job_id, &stored)) != FM_OK)
			return rc;
		if (stored + (int64_t)json_array_size(list) > JOBDEPS_MAX) {
			*msg_out =
			    xasprintf("depends_on: the job would wait "
			              "for %lld dependencies; at most %d "
			              "per job",
			        (long long)(stored +
			            (int64_t)json_array_size(list)),
			        JOBDEPS_MAX);
			return FM_ERR_INVALID;
		}
	}
	json_array_foreach (list, i, entry)
		if ((rc = add_one(conn, job_id, entry, i, tasks, &down,
		         msg_out)) != FM_OK)
			break;
	downstream_free(&down);
	return rc;
}

enum fm_err
store_jobdeps_remove(struct store_conn *conn, int64_t job_id,
    const char *upstream_uuid, int *removed_out)
{
	sqlite3_stmt *st = store_stmt(conn, sql_remove);
	enum fm_err rc;

	*removed_out = 0;
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_text(st, 2, upstream_uuid, -1, SQLITE_STATIC);
	rc = store_step_done(conn, st, "removing job dependencies");
	if (rc == FM_OK)
		*removed_out = sqlite3_changes(store_db(conn));
	return rc;
}

enum fm_err
store_jobdeps_waiters(
    struct store_conn *conn, int64_t job_id, int *count_out, char **names_out)
{
	sqlite3_stmt *st = store_stmt(conn, sql_waiters);
	char *names = xstrdup("");
	int step, n = 0;

	*count_out = 0;
	*names_out = NULL;
	if (st == NULL) {
		free(names);
		return FM_ERR_DB;
	}
	sqlite3_bind_int64(st, 1, job_id);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (n < 5) {
			char *more = xasprintf("%s%s\"%.80s\" (%s)", names,
			    n > 0 ? ", " : "", store_text(st, 1),
			    store_text(st, 0));

			free(names);
			names = more;
		}
		n++;
	}
	sqlite3_reset(st);
	if (step != SQLITE_DONE) {
		free(names);
		return store_error(conn, step, "listing waiting jobs");
	}
	if (n > 5) {
		char *more = xasprintf("%s and %d more", names, n - 5);

		free(names);
		names = more;
	}
	*count_out = n;
	*names_out = names;
	return FM_OK;
}

enum fm_err
store_jobdeps_started(
    struct store_conn *conn, int64_t job_id, bool *started_out)
{
	sqlite3_stmt *st = store_stmt(conn, sql_started);
	int step;

	*started_out = false;
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, job_id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		*started_out = sqlite3_column_int64(st, 0) > 0;
	sqlite3_reset(st);
	return step == SQLITE_ROW ? FM_OK
	                          : store_error(conn, step, "counting tasks");
}

enum fm_err
store_jobdeps_mode(struct store_conn *conn, int64_t job_id, bool *overlap_out)
{
	sqlite3_stmt *st = store_stmt(conn, sql_mode);
	int step;

	*overlap_out = false;
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, job_id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		*overlap_out = strcmp(store_text(st, 0), "overlap") == 0;
	sqlite3_reset(st);
	if (step == SQLITE_ROW)
		return FM_OK;
	return step == SQLITE_DONE ? FM_ERR_NOTFOUND
	                           : store_error(conn, step, "reading a job");
}

enum fm_err
store_jobdeps_set_mode(struct store_conn *conn, int64_t job_id, bool overlap)
{
	sqlite3_stmt *st = store_stmt(conn, sql_set_mode);

	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_text(
	    st, 2, overlap ? "overlap" : "strict", -1, SQLITE_STATIC);
	return store_step_done(conn, st, "storing a dependency mode");
}

void
store_jobdeps_to_job(json_t *job, const char *deps_text)
{
	json_t *deps = deps_text ? json_loads(deps_text, 0, NULL) : NULL;
	json_t *waiting, *d;
	size_t i;

	if (!json_is_array(deps) || json_array_size(deps) == 0) {
		json_decref(deps);
		return;
	}
	waiting = json_array();
	json_array_foreach (deps, i, d) {
		const char *up = json_string_value(json_object_get(d, "job"));
		bool listed = false;
		size_t k;
		json_t *w;

		if (json_is_null(json_object_get(d, "tasks")))
			json_object_del(d, "tasks");
		if (json_is_null(json_object_get(d, "waiting")))
			json_object_del(d, "waiting");
		json_object_set_new(d, "satisfied",
		    json_boolean(json_integer_value(
		                     json_object_get(d, "remaining")) == 0));
		if (json_integer_value(json_object_get(d, "remaining")) == 0 ||
		    up == NULL)
			continue;
		json_array_foreach (waiting, k, w)
			listed =
			    listed || strcmp(json_string_value(w), up) == 0;
		if (!listed)
			json_array_append_new(waiting, json_string(up));
	}
	json_object_set_new(job, "depends_on", deps);
	json_object_set_new(job, "waiting_for", waiting);
}

enum fm_err
store_jobdeps_note_downstream(
    struct store_conn *conn, int64_t job_id, int64_t task_id, bool done)
{
	sqlite3_stmt *st;
	int rc;

	if (!store_noting(conn))
		return FM_OK;
	st = store_stmt(
	    conn, task_id != 0 ? sql_downstream_met : sql_downstream_all);
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, job_id);
	if (task_id != 0) {
		sqlite3_bind_int64(st, 2, task_id);
		sqlite3_bind_int(st, 3, done ? 0 : 1);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		store_note(conn, STORE_CHANGED_JOB, store_text(st, 0), NULL,
		    NULL, NULL);
	sqlite3_reset(st);
	return rc == SQLITE_DONE
	    ? FM_OK
	    : store_error(conn, rc, "listing the jobs waiting for a job");
}
