/*
 * Status changes in the store, following the rules of state.c: a task's
 * change rolls up to its job, a job's change cascades to its tasks, a
 * worker's active tasks are requeued, and a worker's failure report goes
 * through failure handling and the blocklist. Every function runs inside
 * the caller's write transaction and writes the task log lines Flamenco
 * writes. Each change is announced through events.h as it is made.
 */
#ifndef FM_STORE_STATUS_H
#define FM_STORE_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "fm.h"
#include "ids.h"
#include "state.h"

struct store_conn;
struct fm_config;
struct worker;

struct status_ctx {
	struct store_conn *conn;
	const struct fm_config *cfg; /* storage root and thresholds */
};

/* A task with what its status changes need to know. */
struct task_row {
	int64_t id;
	int64_t job_id;
	int64_t worker_id; /* 0 when unassigned */
	char uuid[ID_UUID_LEN + 1];
	char job_uuid[ID_UUID_LEN + 1];
	char type[64];
	enum task_status status;
	enum job_status job_status;
	int64_t steps_total;
	int64_t job_tag_id;      /* 0 when the job is untagged */
	int64_t last_touched_us; /* 0 when never touched */
};

/* Load a task by UUID; FM_ERR_NOTFOUND when unknown. */
FM_MUST_CHECK enum fm_err store_status_load_task(
    struct store_conn *conn, const char *uuid, struct task_row *out);

/*
 * Change one task's status (the state machine's single-task path: log
 * line, step counter rule, job roll-up). activity, when not NULL, becomes
 * the task's activity. Updates t->status.
 */
FM_MUST_CHECK enum fm_err store_status_task(const struct status_ctx *ctx,
    struct task_row *t, enum task_status new_status, const char *activity);

/* Change a job's status with the task cascade and follow-ups. */
FM_MUST_CHECK enum fm_err store_status_job(const struct status_ctx *ctx,
    int64_t job_id, enum job_status new_status, const char *reason);

/*
 * Requeue the worker's active tasks (queued, or paused when their job is
 * pausing), e.g. because it signed off or timed out.
 */
FM_MUST_CHECK enum fm_err store_status_requeue_worker(
    const struct status_ctx *ctx, int64_t worker_id, const char *reason);

/*
 * Fail the worker's pinned tasks that have not run (queued or
 * soft-failed): it is being deleted and no other worker may run them.
 */
FM_MUST_CHECK enum fm_err store_status_fail_pinned_of_worker(
    const struct status_ctx *ctx, const struct worker *w);

/* A worker reported the task failed: failure list, blocklist, verdict. */
FM_MUST_CHECK enum fm_err store_status_task_failed(
    const struct status_ctx *ctx, struct task_row *t, const struct worker *w);

/* Re-apply transitional job statuses (cancel-requested, ...) at start. */
FM_MUST_CHECK enum fm_err store_status_reapply(const struct status_ctx *ctx);

#endif
