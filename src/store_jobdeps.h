/*
 * Job dependencies in the store (table job_dependencies, migration 0003):
 * checking and adding them in one transaction, removing them, and the
 * questions deletion asks. The triggers of migration 0003 keep the
 * held-back jobs' deps_unmet and tasks' pending_deps true; nothing here
 * touches tasks.
 */
#ifndef FM_STORE_JOBDEPS_H
#define FM_STORE_JOBDEPS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "fm.h"

struct store_conn;

/*
 * Check a shape-checked "depends_on" list (borrowed, see jobdeps.h)
 * against the store: every upstream job exists and is not being deleted,
 * every "tasks" selector matches at least one of its tasks. With job_id
 * != 0 also refuse the job itself, cycles (of any length), entries
 * already stored and "waiting" selectors matching none of the job's
 * tasks, and store the entries; run it inside a write transaction, and
 * roll back on failure. With job_id == 0 (a submission being compiled)
 * tasks (may be NULL) are the compiled tasks "waiting" must match.
 * FM_ERR_INVALID with *msg_out (new) when the list is refused.
 */
FM_MUST_CHECK enum fm_err store_jobdeps_add(struct store_conn *conn,
    int64_t job_id, const json_t *list, const json_t *tasks, char **msg_out);

/*
 * Remove every dependency of job_id on the upstream job upstream_uuid;
 * waiting tasks are released by trigger. *removed_out: how many went.
 */
FM_MUST_CHECK enum fm_err store_jobdeps_remove(struct store_conn *conn,
    int64_t job_id, const char *upstream_uuid, int *removed_out);

/*
 * Jobs (not being deleted) still waiting for job_id: *count_out of them,
 * and *names_out (new) a text naming the first few, "" when none.
 */
FM_MUST_CHECK enum fm_err store_jobdeps_waiters(
    struct store_conn *conn, int64_t job_id, int *count_out, char **names_out);

/* Whether a task of the job has left queued/paused (it "started"). */
FM_MUST_CHECK enum fm_err store_jobdeps_started(
    struct store_conn *conn, int64_t job_id, bool *started_out);

/* The job's dependency mode: true for "overlap". */
FM_MUST_CHECK enum fm_err store_jobdeps_mode(
    struct store_conn *conn, int64_t job_id, bool *overlap_out);

/*
 * Set the job's dependency mode (a submission's, stored with the job).
 */
FM_MUST_CHECK enum fm_err store_jobdeps_set_mode(
    struct store_conn *conn, int64_t job_id, bool overlap);

/*
 * Note a job change (store_note) for each job waiting for job_id, so live
 * viewers see its depends_on and waiting_for move, which no status change
 * of its own announces. With task_id 0: every such job (job_id's status
 * changed). Else only those whose dependency the task just met (done) or
 * unmet (!done) by entering or leaving "completed". Free when nobody
 * listens.
 */
FM_MUST_CHECK enum fm_err store_jobdeps_note_downstream(
    struct store_conn *conn, int64_t job_id, int64_t task_id, bool done);

/*
 * The "depends_on" list of the Job JSON from the text the job query
 * builds (json_group_array of stored rows): null selectors dropped, and
 * "waiting_for" (uuids of upstream jobs still unmet). Sets both on job
 * when there is at least one dependency.
 */
void store_jobdeps_to_job(json_t *job, const char *deps_text);

#endif
