/*
 * Flamenco's status rules as pure functions and tables: the job, task,
 * worker and farm status enums with their wire spellings, the task -> job
 * and job -> task state machine, failure handling, the scheduler's status
 * predicates, the farm status and the worker sleep schedule. No I/O, no
 * SQLite, no globals: the store applies these decisions in a transaction.
 */
#ifndef FM_STATE_H
#define FM_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "fm.h"

/* ---- Enums and their wire spellings ---- */

enum job_status {
	JOB_STATUS_ACTIVE,
	JOB_STATUS_CANCELED,
	JOB_STATUS_COMPLETED,
	JOB_STATUS_FAILED,
	JOB_STATUS_PAUSED,
	JOB_STATUS_PAUSE_REQUESTED,
	JOB_STATUS_QUEUED,
	JOB_STATUS_CANCEL_REQUESTED,
	JOB_STATUS_REQUEUEING,
	JOB_STATUS_UNDER_CONSTRUCTION,
};
#define JOB_STATUS_COUNT (JOB_STATUS_UNDER_CONSTRUCTION + 1)

enum task_status {
	TASK_STATUS_ACTIVE,
	TASK_STATUS_CANCELED,
	TASK_STATUS_COMPLETED,
	TASK_STATUS_FAILED,
	TASK_STATUS_QUEUED,
	TASK_STATUS_SOFT_FAILED,
	TASK_STATUS_PAUSED,
};
#define TASK_STATUS_COUNT (TASK_STATUS_PAUSED + 1)

enum worker_status {
	WORKER_STATUS_REGISTERED, /* "": registered, never signed on */
	WORKER_STATUS_STARTING,
	WORKER_STATUS_AWAKE,
	WORKER_STATUS_ASLEEP,
	WORKER_STATUS_ERROR,
	WORKER_STATUS_TESTING, /* in the API, never used */
	WORKER_STATUS_OFFLINE,
	WORKER_STATUS_RESTART,
};
#define WORKER_STATUS_COUNT (WORKER_STATUS_RESTART + 1)

enum farm_status {
	FARM_STATUS_ACTIVE,
	FARM_STATUS_IDLE,
	FARM_STATUS_WAITING,
	FARM_STATUS_ASLEEP,
	FARM_STATUS_INOPERATIVE,
	FARM_STATUS_UNKNOWN,
	FARM_STATUS_STARTING,
};
#define FARM_STATUS_COUNT (FARM_STATUS_STARTING + 1)

/*
 * The wire spelling of a status ("cancel-requested", "soft-failed", ...);
 * a static string. WORKER_STATUS_REGISTERED is "". A value outside the
 * enum is a bug and fails FM_ASSERT.
 */
const char *state_job_status_name(enum job_status s);
const char *state_task_status_name(enum task_status s);
const char *state_worker_status_name(enum worker_status s);
const char *state_farm_status_name(enum farm_status s);

/*
 * Parse an exact (case-sensitive) wire spelling into *out. Returns
 * FM_ERR_INVALID, leaving *out untouched, for NULL or an unknown string.
 * "" parses as WORKER_STATUS_REGISTERED: the API layer must refuse it
 * where a client names a status (it is only a database value).
 */
FM_MUST_CHECK enum fm_err state_job_status_parse(
    const char *s, enum job_status *out);
FM_MUST_CHECK enum fm_err state_task_status_parse(
    const char *s, enum task_status *out);
FM_MUST_CHECK enum fm_err state_worker_status_parse(
    const char *s, enum worker_status *out);
FM_MUST_CHECK enum fm_err state_farm_status_parse(
    const char *s, enum farm_status *out);

/* ---- Sets of task statuses ---- */

/*
 * A set of task statuses is a bit mask; the store turns it into
 * "status IN (...)" with state_task_set_names().
 */
#define STATE_TASK_BIT(s)  (1u << (s))
#define STATE_TASK_SET_ALL ((1u << TASK_STATUS_COUNT) - 1)

/* True when set contains s. */
bool state_task_set_has(unsigned set, enum task_status s);

/*
 * Fill names_out with the wire spellings of the statuses in set, in enum
 * order; returns how many (0 for the empty set).
 */
size_t state_task_set_names(
    unsigned set, const char *names_out[TASK_STATUS_COUNT]);

/* Tasks of one job, counted per status. */
struct task_counts {
	int n[TASK_STATUS_COUNT]; /* tasks in each status */
	int total;                /* all tasks of the job */
};

/* Count one more task in status s (keeps total in step). */
void state_task_counts_add(struct task_counts *c, enum task_status s);

/* ---- Task change -> job effect ---- */

/*
 * A decided job status change. reason is static text for the job's
 * activity, `Changed to status "<status>": <reason>`
 * (see state_fmt_job_activity()).
 */
struct job_change {
	enum job_status status; /* the job's new status */
	const char *reason;     /* static; never NULL */
};

/* floor(100 * failed / total) at or above this fails the job. */
#define STATE_JOB_FAIL_PERCENT 10

/*
 * The job effect of one task entering task_new, for a job now in status
 * job. after counts the job's tasks with the change already applied.
 * Returns true and fills *out when the job must change status (then run
 * state_job_cascade() for the new status); returns false, leaving *out
 * untouched, when the job stays as it is. Bulk task updates (the cascade)
 * never come through here.
 */
bool state_job_after_task(enum task_status task_new, enum job_status job,
    const struct task_counts *after, struct job_change *out);

/* ---- Job change -> task effect ---- */

/* What the job becomes once its tasks have been updated. */
enum job_followup {
	JOB_FOLLOWUP_NONE,              /* the status stays */
	JOB_FOLLOWUP_CANCELED,          /* canceled, always */
	JOB_FOLLOWUP_PAUSED_IF_IDLE,    /* paused when no task is active */
	JOB_FOLLOWUP_QUEUED,            /* queued, always */
	JOB_FOLLOWUP_COMPLETED_IF_DONE, /* completed when every task is */
};

/*
 * The task side of a job entering a status, as data. The store runs:
 *
 *   UPDATE tasks SET status = <to> [, activity = <activity>]
 *    WHERE job_id = ? AND status IN (<from>);   -- skipped when from == 0
 *   -- when reset_steps: steps_completed = steps_total for completed
 *   -- tasks, 0 for queued ones, then the job's step sums
 *
 * with no per-task log lines and no per-task job rules, recounts the
 * tasks and asks state_job_followup() for the next job status, looping
 * (state_job_cascade() on the follow-up status) until that says false.
 */
struct job_cascade {
	enum job_status job;        /* the job's new status */
	unsigned from;              /* STATE_TASK_BIT set to change; 0 = none */
	enum task_status to;        /* their new status */
	const char *activity;       /* static; task activity, NULL = keep */
	bool reset_steps;           /* reset step counters afterwards */
	enum job_followup followup; /* the follow-up rule */
};

/*
 * Describe the task update for a job going from job_old to job_new
 * (job_old == job_new when a status is re-applied at start-up).
 * Always succeeds; fills every field of *out.
 */
void state_job_cascade(
    enum job_status job_old, enum job_status job_new, struct job_cascade *out);

/*
 * The follow-up job status once the cascade ran, given the task counts
 * after it. Returns true and fills *out when it differs from c->job;
 * false (and *out untouched) when the job is stable. A job with zero
 * tasks counts as "every task completed" (Flamenco compares the count of
 * completed tasks with the total).
 */
bool state_job_followup(const struct job_cascade *c,
    const struct task_counts *after, struct job_change *out);

/* True for the job statuses re-applied (cascade re-run) at start-up. */
bool state_job_status_reapply_at_startup(enum job_status s);

/* ---- Requeue of a worker's active tasks ---- */

/*
 * The status an active task of a job in status job gets when its worker
 * signs off, times out, leaves awake or is deleted: paused when the job
 * is pause-requested or paused, else queued.
 */
enum task_status state_requeue_task_status(enum job_status job);

/* ---- Failure handling (taskUpdate with taskStatus failed) ---- */

/* Defaults of the configuration keys used by failure handling. */
#define STATE_BLOCKLIST_THRESHOLD_DEFAULT 3
#define STATE_FAIL_AFTER_SOFTFAIL_DEFAULT 3

/*
 * What the store counted after step 1 (the reporting worker added to the
 * task's failure list).
 */
struct failure_input {
	/* Distinct workers on the failure list, the reporting one too. */
	int num_failed;
	/* Config task_fail_after_softfail_count. */
	int fail_after;
	/*
	 * Tasks of this job and task type whose failure list holds the
	 * reporting worker, the current task included.
	 */
	int worker_type_failures;
	/* Config blocklist_threshold. */
	int blocklist_threshold;
	/*
	 * Eligible workers for this job and task type: every worker not
	 * blocklisted for them, only tag members when the job is tagged,
	 * minus the task's whole failure list (so never the reporting
	 * worker; blocklisting it therefore does not change this number).
	 */
	int eligible_others;
};

enum failure_outcome {
	FAILURE_SOFT_FAIL, /* task -> soft-failed */
	FAILURE_HARD_FAIL, /* task -> failed; the job rule then decides */
	FAILURE_FAIL_JOB,  /* task -> failed, job -> failed */
};

struct failure_verdict {
	enum failure_outcome outcome;
	/* Insert (job, worker, task type) into the job blocklist. */
	bool blocklist;
	/*
	 * Requeue this job's tasks hard-failed by the worker, any task type
	 * (reason from state_fmt_blocklist_reason()).
	 */
	bool requeue_blocked;
};

/*
 * Decide what a "failed" task update does.
 * Blocklisting keeps Flamenco's off-by-one: the current task is counted
 * twice (worker_type_failures + 1 >= blocklist_threshold). The job fails
 * when no *other* eligible worker remains (where Flamenco would keep waiting),
 * both right after blocklisting and at step 4. Always succeeds.
 */
void state_task_failure(
    const struct failure_input *in, struct failure_verdict *out);

/* ---- Predicates (taskUpdate, scheduleTask) ---- */

/* False for soft-failed: a worker's task update may not send it (400). */
bool state_task_status_worker_may_send(enum task_status s);

/* True for the task statuses the scheduler hands out (queued, soft-failed). */
bool state_task_status_schedulable(enum task_status s);

/* True for the job statuses whose tasks run (active, queued). */
bool state_job_status_runnable(enum job_status s);

/* ---- Farm status (getFarmStatus) ---- */

struct farm_counts {
	int workers[WORKER_STATUS_COUNT]; /* non-deleted workers per status */
	int jobs[JOB_STATUS_COUNT];       /* jobs per status */
};

/* The farm status from the counts (never starting or unknown). */
enum farm_status state_farm_status(const struct farm_counts *c);

/* ---- Sleep schedule (setWorkerSleepSchedule) ---- */

#define STATE_SLEEP_DAYS_MAX 64 /* normalised days_of_week, NUL included */
#define STATE_SLEEP_TIME_MAX 6  /* "HH:MM" and its NUL */
#define STATE_DAY_SECONDS    86400

/* A normalised schedule; times are minutes since local midnight. */
struct sleep_schedule {
	bool is_active;
	char days[STATE_SLEEP_DAYS_MAX]; /* normalised, "" = every day */
	unsigned day_mask; /* bit tm_wday (0 = Sunday) per day listed */
	int start;         /* -1 = unset, else 0..1440 */
	int end;           /* -1 = unset, else 0..1440 */
};

/*
 * Parse and normalise a schedule as saved: days_of_week split on white
 * space, each word lower-cased and cut to two letters, joined by single
 * spaces (unknown words are kept but never match a day); times "HH:MM"
 * (the hour may have one digit; "24:00" is allowed), "" = unset, swapped
 * when both are set and end < start. Returns FM_ERR_INVALID for a bad
 * time, a word that is not printable ASCII, or days that do not fit
 * STATE_SLEEP_DAYS_MAX; then *why_out (when not NULL) gets static text
 * for the error reply and *out is untouched.
 */
FM_MUST_CHECK enum fm_err state_sleep_parse(bool is_active, const char *days,
    const char *start_time, const char *end_time, struct sleep_schedule *out,
    const char **why_out);

/* Write minutes as "HH:MM", or "" for -1, into buf. */
void state_sleep_time_format(int minutes, char buf[STATE_SLEEP_TIME_MAX]);

/*
 * The verdict at local weekday wday (0 = Sunday, as tm_wday) and sec
 * seconds after local midnight: WORKER_STATUS_ASLEEP or
 * WORKER_STATUS_AWAKE.
 */
enum worker_status state_sleep_verdict(
    const struct sleep_schedule *s, int wday, int sec);

/*
 * When to check the schedule next, as seconds after today's local
 * midnight: the earliest of the next start, the next end and
 * STATE_DAY_SECONDS (the next midnight). Always greater than sec. Build
 * the time with mktime() on today's date and tm_sec = result, so DST is
 * handled.
 */
int state_sleep_next_check(const struct sleep_schedule *s, int sec);

/* ---- Texts ---- */

/*
 * These format into buf like snprintf and return what snprintf returns
 * (the untruncated length, or negative on an encoding error).
 */

/* `Changed to status "<status>": <reason>` for the job's activity. */
int state_fmt_job_activity(
    char *buf, size_t len, enum job_status status, const char *reason);

/* `task changed status <old> -> <new>` for the task log. */
int state_fmt_task_change_log(
    char *buf, size_t len, enum task_status old, enum task_status new_status);

/* `Task was <status> by Manager because <reason>` for a worker requeue. */
int state_fmt_requeue_activity(
    char *buf, size_t len, enum task_status s, const char *reason);

/*
 * The task log line for a failure verdict: `Task failed by N workers,
 * Manager will mark it as hard failure` ("1 worker" when N = 1); the soft
 * failure line adds `. M more failures will cause hard failure.`; for
 * FAILURE_FAIL_JOB the hard failure line continues with
 * ` and fail the job: no more workers left to run tasks of type "<type>"`.
 */
int state_fmt_failure_log(char *buf, size_t len, const struct failure_input *in,
    const struct failure_verdict *v, const char *task_type);

/* `no more workers left to run tasks of type "<type>"`: job reason. */
int state_fmt_no_workers_reason(char *buf, size_t len, const char *task_type);

/* `worker <name> was blocked from tasks of type "<type>"`: requeue reason. */
int state_fmt_blocklist_reason(
    char *buf, size_t len, const char *worker_name, const char *task_type);

#endif
