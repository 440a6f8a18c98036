/*
 * Tests for state.c: the status string tables, every row of the task ->
 * job and job -> task tables, failure handling, the
 * predicates, the farm status and the sleep schedule.
 */
#include "state.h"

#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE (-1) /* "no change" in expectation tables */

/* Counts from per-status numbers; total is their sum. */
static struct task_counts
counts_of(const int n[TASK_STATUS_COUNT])
{
	struct task_counts c;
	int i;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < TASK_STATUS_COUNT; i++) {
		c.n[i] = n[i];
		c.total += n[i];
	}
	return c;
}

/* ---- names ---- */

static const struct {
	enum job_status s;
	const char *name;
} job_names[] = {
	{ JOB_STATUS_ACTIVE, "active" },
	{ JOB_STATUS_CANCELED, "canceled" },
	{ JOB_STATUS_COMPLETED, "completed" },
	{ JOB_STATUS_FAILED, "failed" },
	{ JOB_STATUS_PAUSED, "paused" },
	{ JOB_STATUS_PAUSE_REQUESTED, "pause-requested" },
	{ JOB_STATUS_QUEUED, "queued" },
	{ JOB_STATUS_CANCEL_REQUESTED, "cancel-requested" },
	{ JOB_STATUS_REQUEUEING, "requeueing" },
	{ JOB_STATUS_UNDER_CONSTRUCTION, "under-construction" },
};

static const struct {
	enum task_status s;
	const char *name;
} task_names[] = {
	{ TASK_STATUS_ACTIVE, "active" },
	{ TASK_STATUS_CANCELED, "canceled" },
	{ TASK_STATUS_COMPLETED, "completed" },
	{ TASK_STATUS_FAILED, "failed" },
	{ TASK_STATUS_QUEUED, "queued" },
	{ TASK_STATUS_SOFT_FAILED, "soft-failed" },
	{ TASK_STATUS_PAUSED, "paused" },
};

static const struct {
	enum worker_status s;
	const char *name;
} worker_names[] = {
	{ WORKER_STATUS_REGISTERED, "" },
	{ WORKER_STATUS_STARTING, "starting" },
	{ WORKER_STATUS_AWAKE, "awake" },
	{ WORKER_STATUS_ASLEEP, "asleep" },
	{ WORKER_STATUS_ERROR, "error" },
	{ WORKER_STATUS_TESTING, "testing" },
	{ WORKER_STATUS_OFFLINE, "offline" },
	{ WORKER_STATUS_RESTART, "restart" },
};

static const struct {
	enum farm_status s;
	const char *name;
} farm_names[] = {
	{ FARM_STATUS_ACTIVE, "active" },
	{ FARM_STATUS_IDLE, "idle" },
	{ FARM_STATUS_WAITING, "waiting" },
	{ FARM_STATUS_ASLEEP, "asleep" },
	{ FARM_STATUS_INOPERATIVE, "inoperative" },
	{ FARM_STATUS_UNKNOWN, "unknown" },
	{ FARM_STATUS_STARTING, "starting" },
};

/* Strings no parser may accept. */
static const char *const bad_names[] = {
	"Active",
	"ACTIVE",
	"cancelled",
	" active",
	"active ",
	"soft_failed",
	"pause_requested",
	"requeuing",
	"unknown-status",
	"activ",
	"activee",
};

START_TEST(test_job_names)
{
	enum job_status s;
	size_t i;

	ck_assert_int_eq(nitems(job_names), JOB_STATUS_COUNT);
	for (i = 0; i < nitems(job_names); i++) {
		ck_assert_str_eq(
		    state_job_status_name(job_names[i].s), job_names[i].name);
		s = JOB_STATUS_COUNT;
		ck_assert_int_eq(
		    state_job_status_parse(job_names[i].name, &s), FM_OK);
		ck_assert_int_eq(s, job_names[i].s);
	}
	s = JOB_STATUS_QUEUED;
	ck_assert_int_eq(state_job_status_parse(NULL, &s), FM_ERR_INVALID);
	ck_assert_int_eq(state_job_status_parse("", &s), FM_ERR_INVALID);
	for (i = 0; i < nitems(bad_names); i++)
		if (strcmp(bad_names[i], "unknown-status") != 0)
			ck_assert_int_eq(
			    state_job_status_parse(bad_names[i], &s),
			    FM_ERR_INVALID);
	ck_assert_int_eq(state_job_status_parse("idle", &s), FM_ERR_INVALID);
	ck_assert_int_eq(
	    state_job_status_parse("soft-failed", &s), FM_ERR_INVALID);
	ck_assert_int_eq(s, JOB_STATUS_QUEUED); /* untouched on failure */
}
END_TEST

START_TEST(test_task_names)
{
	enum task_status s;
	size_t i;

	ck_assert_int_eq(nitems(task_names), TASK_STATUS_COUNT);
	for (i = 0; i < nitems(task_names); i++) {
		ck_assert_str_eq(state_task_status_name(task_names[i].s),
		    task_names[i].name);
		s = TASK_STATUS_COUNT;
		ck_assert_int_eq(
		    state_task_status_parse(task_names[i].name, &s), FM_OK);
		ck_assert_int_eq(s, task_names[i].s);
	}
	s = TASK_STATUS_PAUSED;
	ck_assert_int_eq(state_task_status_parse(NULL, &s), FM_ERR_INVALID);
	ck_assert_int_eq(state_task_status_parse("", &s), FM_ERR_INVALID);
	for (i = 0; i < nitems(bad_names); i++)
		ck_assert_int_eq(
		    state_task_status_parse(bad_names[i], &s), FM_ERR_INVALID);
	ck_assert_int_eq(
	    state_task_status_parse("pause-requested", &s), FM_ERR_INVALID);
	ck_assert_int_eq(
	    state_task_status_parse("requeueing", &s), FM_ERR_INVALID);
	ck_assert_int_eq(s, TASK_STATUS_PAUSED);
}
END_TEST

START_TEST(test_worker_names)
{
	enum worker_status s;
	size_t i;

	ck_assert_int_eq(nitems(worker_names), WORKER_STATUS_COUNT);
	for (i = 0; i < nitems(worker_names); i++) {
		ck_assert_str_eq(state_worker_status_name(worker_names[i].s),
		    worker_names[i].name);
		s = WORKER_STATUS_COUNT;
		ck_assert_int_eq(
		    state_worker_status_parse(worker_names[i].name, &s), FM_OK);
		ck_assert_int_eq(s, worker_names[i].s);
	}
	/* A zeroed worker row means "registered". */
	ck_assert_int_eq(WORKER_STATUS_REGISTERED, 0);
	s = WORKER_STATUS_AWAKE;
	ck_assert_int_eq(state_worker_status_parse(NULL, &s), FM_ERR_INVALID);
	ck_assert_int_eq(
	    state_worker_status_parse("Awake", &s), FM_ERR_INVALID);
	ck_assert_int_eq(
	    state_worker_status_parse("sleeping", &s), FM_ERR_INVALID);
	ck_assert_int_eq(state_worker_status_parse(" ", &s), FM_ERR_INVALID);
	ck_assert_int_eq(
	    state_worker_status_parse("active", &s), FM_ERR_INVALID);
	ck_assert_int_eq(s, WORKER_STATUS_AWAKE);
}
END_TEST

START_TEST(test_farm_names)
{
	enum farm_status s;
	size_t i;

	ck_assert_int_eq(nitems(farm_names), FARM_STATUS_COUNT);
	for (i = 0; i < nitems(farm_names); i++) {
		ck_assert_str_eq(state_farm_status_name(farm_names[i].s),
		    farm_names[i].name);
		s = FARM_STATUS_COUNT;
		ck_assert_int_eq(
		    state_farm_status_parse(farm_names[i].name, &s), FM_OK);
		ck_assert_int_eq(s, farm_names[i].s);
	}
	s = FARM_STATUS_IDLE;
	ck_assert_int_eq(state_farm_status_parse(NULL, &s), FM_ERR_INVALID);
	ck_assert_int_eq(state_farm_status_parse("", &s), FM_ERR_INVALID);
	ck_assert_int_eq(state_farm_status_parse("Idle", &s), FM_ERR_INVALID);
	ck_assert_int_eq(state_farm_status_parse("queued", &s), FM_ERR_INVALID);
	ck_assert_int_eq(s, FARM_STATUS_IDLE);
}
END_TEST

/* A value outside the enum is a bug: FM_ASSERT aborts. */
START_TEST(test_name_out_of_range)
{
	(void)state_job_status_name((enum job_status)JOB_STATUS_COUNT);
}
END_TEST

/* ---- task status sets and counts ---- */

START_TEST(test_task_sets)
{
	const char *names[TASK_STATUS_COUNT];
	struct task_counts c;
	unsigned set;
	size_t n, i;

	ck_assert_uint_eq(state_task_set_names(0, names), 0);
	set = STATE_TASK_BIT(TASK_STATUS_SOFT_FAILED) |
	    STATE_TASK_BIT(TASK_STATUS_ACTIVE);
	n = state_task_set_names(set, names);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(names[0], "active");
	ck_assert_str_eq(names[1], "soft-failed");
	ck_assert(state_task_set_has(set, TASK_STATUS_ACTIVE));
	ck_assert(!state_task_set_has(set, TASK_STATUS_QUEUED));

	n = state_task_set_names(STATE_TASK_SET_ALL, names);
	ck_assert_uint_eq(n, TASK_STATUS_COUNT);
	for (i = 0; i < n; i++)
		ck_assert_str_eq(names[i], state_task_status_name(i));

	memset(&c, 0, sizeof(c));
	state_task_counts_add(&c, TASK_STATUS_QUEUED);
	state_task_counts_add(&c, TASK_STATUS_QUEUED);
	state_task_counts_add(&c, TASK_STATUS_FAILED);
	ck_assert_int_eq(c.n[TASK_STATUS_QUEUED], 2);
	ck_assert_int_eq(c.n[TASK_STATUS_FAILED], 1);
	ck_assert_int_eq(c.total, 3);
}
END_TEST

/* ---- task change -> job effect ---- */

#define A  TASK_STATUS_ACTIVE
#define CA TASK_STATUS_CANCELED
#define CO TASK_STATUS_COMPLETED
#define F  TASK_STATUS_FAILED
#define Q  TASK_STATUS_QUEUED
#define SF TASK_STATUS_SOFT_FAILED
#define P  TASK_STATUS_PAUSED

static const struct {
	int line;
	enum task_status task_new;
	enum job_status job;
	int n[TASK_STATUS_COUNT]; /* counts after the change */
	int expect;               /* enum job_status, or NONE */
} task_rules[] = {
	/* queued: a completed job gets requeued, nothing else changes */
	{ __LINE__, Q, JOB_STATUS_COMPLETED, { [CO] = 4, [Q] = 1 },
	    JOB_STATUS_REQUEUEING },
	{ __LINE__, Q, JOB_STATUS_ACTIVE, { [CO] = 4, [Q] = 1 }, NONE },
	{ __LINE__, Q, JOB_STATUS_QUEUED, { [Q] = 5 }, NONE },
	{ __LINE__, Q, JOB_STATUS_FAILED, { [F] = 4, [Q] = 1 }, NONE },
	{ __LINE__, Q, JOB_STATUS_CANCELED, { [CA] = 4, [Q] = 1 }, NONE },
	{ __LINE__, Q, JOB_STATUS_PAUSED, { [P] = 4, [Q] = 1 }, NONE },
	{ __LINE__, Q, JOB_STATUS_PAUSE_REQUESTED, { [Q] = 5 }, NONE },
	{ __LINE__, Q, JOB_STATUS_REQUEUEING, { [Q] = 5 }, NONE },

	/* active: job becomes active unless active or cancel-requested */
	{ __LINE__, A, JOB_STATUS_QUEUED, { [A] = 1, [Q] = 4 },
	    JOB_STATUS_ACTIVE },
	{ __LINE__, A, JOB_STATUS_ACTIVE, { [A] = 1, [Q] = 4 }, NONE },
	{ __LINE__, A, JOB_STATUS_CANCEL_REQUESTED, { [A] = 1, [CA] = 4 },
	    NONE },
	{ __LINE__, A, JOB_STATUS_PAUSED, { [A] = 1, [P] = 4 },
	    JOB_STATUS_ACTIVE },
	{ __LINE__, A, JOB_STATUS_PAUSE_REQUESTED, { [A] = 1, [P] = 4 },
	    JOB_STATUS_ACTIVE },
	{ __LINE__, A, JOB_STATUS_COMPLETED, { [A] = 1, [CO] = 4 },
	    JOB_STATUS_ACTIVE },
	{ __LINE__, A, JOB_STATUS_FAILED, { [A] = 1, [F] = 4 },
	    JOB_STATUS_ACTIVE },
	{ __LINE__, A, JOB_STATUS_CANCELED, { [A] = 1, [CA] = 4 },
	    JOB_STATUS_ACTIVE },
	{ __LINE__, A, JOB_STATUS_REQUEUEING, { [A] = 1, [Q] = 4 },
	    JOB_STATUS_ACTIVE },
	{ __LINE__, A, JOB_STATUS_UNDER_CONSTRUCTION, { [A] = 1 },
	    JOB_STATUS_ACTIVE },

	/* soft-failed: same as active */
	{ __LINE__, SF, JOB_STATUS_QUEUED, { [SF] = 1, [Q] = 4 },
	    JOB_STATUS_ACTIVE },
	{ __LINE__, SF, JOB_STATUS_ACTIVE, { [SF] = 1, [Q] = 4 }, NONE },
	{ __LINE__, SF, JOB_STATUS_CANCEL_REQUESTED, { [SF] = 1, [CA] = 4 },
	    NONE },
	{ __LINE__, SF, JOB_STATUS_PAUSE_REQUESTED, { [SF] = 1, [P] = 4 },
	    JOB_STATUS_ACTIVE },
	{ __LINE__, SF, JOB_STATUS_FAILED, { [SF] = 1, [F] = 4 },
	    JOB_STATUS_ACTIVE },

	/* completed: all done wins, then pause-complete, then queued */
	{ __LINE__, CO, JOB_STATUS_ACTIVE, { [CO] = 5 }, JOB_STATUS_COMPLETED },
	{ __LINE__, CO, JOB_STATUS_QUEUED, { [CO] = 1 }, JOB_STATUS_COMPLETED },
	{ __LINE__, CO, JOB_STATUS_COMPLETED, { [CO] = 5 }, NONE },
	{ __LINE__, CO, JOB_STATUS_PAUSE_REQUESTED, { [CO] = 5 },
	    JOB_STATUS_COMPLETED },
	{ __LINE__, CO, JOB_STATUS_CANCELED, { [CO] = 5 },
	    JOB_STATUS_COMPLETED },
	{ __LINE__, CO, JOB_STATUS_CANCEL_REQUESTED, { [CO] = 5 },
	    JOB_STATUS_COMPLETED },
	{ __LINE__, CO, JOB_STATUS_PAUSE_REQUESTED, { [CO] = 4, [P] = 1 },
	    JOB_STATUS_PAUSED },
	{ __LINE__, CO, JOB_STATUS_PAUSE_REQUESTED,
	    { [CO] = 3, [A] = 1, [P] = 1 }, NONE },
	{ __LINE__, CO, JOB_STATUS_QUEUED, { [CO] = 3, [Q] = 2 },
	    JOB_STATUS_ACTIVE },
	{ __LINE__, CO, JOB_STATUS_ACTIVE, { [CO] = 3, [Q] = 2 }, NONE },
	{ __LINE__, CO, JOB_STATUS_PAUSED, { [CO] = 3, [P] = 2 }, NONE },
	{ __LINE__, CO, JOB_STATUS_FAILED, { [CO] = 3, [F] = 2 }, NONE },
	{ __LINE__, CO, JOB_STATUS_CANCELED, { [CO] = 3, [CA] = 2 }, NONE },

	/* failed: the 10% threshold, then pause-complete, then queued */
	{ __LINE__, F, JOB_STATUS_ACTIVE, { [F] = 1, [Q] = 9 },
	    JOB_STATUS_FAILED },
	{ __LINE__, F, JOB_STATUS_ACTIVE, { [F] = 1, [Q] = 10 }, NONE },
	{ __LINE__, F, JOB_STATUS_ACTIVE, { [F] = 2, [Q] = 18 },
	    JOB_STATUS_FAILED },
	{ __LINE__, F, JOB_STATUS_ACTIVE, { [F] = 2, [Q] = 19 }, NONE },
	{ __LINE__, F, JOB_STATUS_ACTIVE, { [F] = 10, [CO] = 90 },
	    JOB_STATUS_FAILED },
	{ __LINE__, F, JOB_STATUS_ACTIVE, { [F] = 10, [CO] = 91 }, NONE },
	{ __LINE__, F, JOB_STATUS_ACTIVE, { [F] = 1 }, JOB_STATUS_FAILED },
	{ __LINE__, F, JOB_STATUS_QUEUED, { [F] = 1, [Q] = 10 },
	    JOB_STATUS_ACTIVE },
	{ __LINE__, F, JOB_STATUS_PAUSE_REQUESTED, { [F] = 1, [P] = 10 },
	    JOB_STATUS_PAUSED },
	{ __LINE__, F, JOB_STATUS_PAUSE_REQUESTED,
	    { [F] = 1, [A] = 1, [P] = 9 }, NONE },
	{ __LINE__, F, JOB_STATUS_PAUSE_REQUESTED, { [F] = 1, [P] = 9 },
	    JOB_STATUS_FAILED },
	{ __LINE__, F, JOB_STATUS_FAILED, { [F] = 1, [Q] = 9 }, NONE },
	{ __LINE__, F, JOB_STATUS_FAILED, { [F] = 1, [Q] = 10 }, NONE },
	{ __LINE__, F, JOB_STATUS_CANCEL_REQUESTED, { [F] = 1, [CA] = 10 },
	    NONE },

	/* canceled: nothing left to run cancels the job, else pause check */
	{ __LINE__, CA, JOB_STATUS_ACTIVE, { [CA] = 1, [CO] = 3, [F] = 1 },
	    JOB_STATUS_CANCELED },
	{ __LINE__, CA, JOB_STATUS_ACTIVE, { [CA] = 1, [P] = 2 },
	    JOB_STATUS_CANCELED },
	{ __LINE__, CA, JOB_STATUS_CANCEL_REQUESTED, { [CA] = 5 },
	    JOB_STATUS_CANCELED },
	{ __LINE__, CA, JOB_STATUS_CANCELED, { [CA] = 5 }, NONE },
	{ __LINE__, CA, JOB_STATUS_ACTIVE, { [CA] = 1, [Q] = 1 }, NONE },
	{ __LINE__, CA, JOB_STATUS_ACTIVE, { [CA] = 1, [A] = 1 }, NONE },
	{ __LINE__, CA, JOB_STATUS_ACTIVE, { [CA] = 1, [SF] = 1 }, NONE },
	{ __LINE__, CA, JOB_STATUS_PAUSE_REQUESTED, { [CA] = 1, [P] = 2 },
	    JOB_STATUS_CANCELED },
	{ __LINE__, CA, JOB_STATUS_PAUSE_REQUESTED,
	    { [CA] = 1, [Q] = 1, [P] = 2 }, JOB_STATUS_PAUSED },
	{ __LINE__, CA, JOB_STATUS_PAUSE_REQUESTED,
	    { [CA] = 1, [A] = 1, [P] = 2 }, NONE },
	{ __LINE__, CA, JOB_STATUS_PAUSED, { [CA] = 1, [Q] = 1 }, NONE },

	/* paused: only completes a pause request */
	{ __LINE__, P, JOB_STATUS_PAUSE_REQUESTED, { [P] = 3, [CO] = 2 },
	    JOB_STATUS_PAUSED },
	{ __LINE__, P, JOB_STATUS_PAUSE_REQUESTED, { [P] = 3, [A] = 1 }, NONE },
	{ __LINE__, P, JOB_STATUS_ACTIVE, { [P] = 1, [Q] = 4 }, NONE },
	{ __LINE__, P, JOB_STATUS_QUEUED, { [P] = 1, [Q] = 4 }, NONE },
	{ __LINE__, P, JOB_STATUS_PAUSED, { [P] = 5 }, NONE },
	{ __LINE__, P, JOB_STATUS_CANCEL_REQUESTED, { [P] = 5 }, NONE },
};

START_TEST(test_task_rules)
{
	struct task_counts c;
	struct job_change ch;
	bool changed;
	size_t i;

	for (i = 0; i < nitems(task_rules); i++) {
		c = counts_of(task_rules[i].n);
		ch.status = JOB_STATUS_COUNT;
		ch.reason = NULL;
		changed = state_job_after_task(
		    task_rules[i].task_new, task_rules[i].job, &c, &ch);
		if (task_rules[i].expect == NONE) {
			ck_assert_msg(!changed, "line %d: changed to %s",
			    task_rules[i].line,
			    state_job_status_name(ch.status));
			ck_assert_int_eq(ch.status, JOB_STATUS_COUNT);
			continue;
		}
		ck_assert_msg(
		    changed, "line %d: no change", task_rules[i].line);
		ck_assert_msg(
		    ch.status == (enum job_status)task_rules[i].expect,
		    "line %d: got %s", task_rules[i].line,
		    state_job_status_name(ch.status));
		ck_assert_ptr_nonnull(ch.reason);
		ck_assert(ch.reason[0] != '\0');
	}
}
END_TEST

/* Every (task status, job status) pair terminates sanely: no change to
 * the same status, always a reason. */
START_TEST(test_task_rules_total)
{
	static const int shapes[][TASK_STATUS_COUNT] = {
		{ 0 },
		{ [A] = 1 },
		{ [CO] = 9, [F] = 1 },
		{ [Q] = 3, [P] = 2, [SF] = 1 },
	};
	struct task_counts c;
	struct job_change ch;
	size_t t, j, k;

	for (k = 0; k < nitems(shapes); k++)
		for (t = 0; t < TASK_STATUS_COUNT; t++)
			for (j = 0; j < JOB_STATUS_COUNT; j++) {
				c = counts_of(shapes[k]);
				if (!state_job_after_task(t, j, &c, &ch))
					continue;
				ck_assert_int_ne(ch.status, j);
				ck_assert_ptr_nonnull(ch.reason);
			}
}
END_TEST

/* Zero tasks: the threshold never divides by zero. */
START_TEST(test_task_rules_zero_tasks)
{
	static const int none[TASK_STATUS_COUNT];
	struct task_counts c = counts_of(none);
	struct job_change ch;

	ck_assert(!state_job_after_task(F, JOB_STATUS_ACTIVE, &c, &ch));
	ck_assert(state_job_after_task(F, JOB_STATUS_QUEUED, &c, &ch));
	ck_assert_int_eq(ch.status, JOB_STATUS_ACTIVE);
}
END_TEST

/* ---- job change -> task effect ---- */

#define CANCELABLE_SET \
	(STATE_TASK_BIT(A) | STATE_TASK_BIT(Q) | STATE_TASK_BIT(SF))
#define REQUEUE_SET                                                   \
	(STATE_TASK_BIT(CA) | STATE_TASK_BIT(F) | STATE_TASK_BIT(P) | \
	    STATE_TASK_BIT(SF))

static const struct {
	int line;
	enum job_status old, new_status;
	unsigned from;
	enum task_status to; /* checked only when from != 0 */
	const char *activity;
	bool reset_steps;
	enum job_followup followup;
} cascades[] = {
	{ __LINE__, JOB_STATUS_QUEUED, JOB_STATUS_COMPLETED, 0, Q, NULL, false,
	    JOB_FOLLOWUP_NONE },
	{ __LINE__, JOB_STATUS_CANCEL_REQUESTED, JOB_STATUS_CANCELED, 0, Q,
	    NULL, false, JOB_FOLLOWUP_NONE },
	{ __LINE__, JOB_STATUS_PAUSE_REQUESTED, JOB_STATUS_PAUSED, 0, Q, NULL,
	    false, JOB_FOLLOWUP_NONE },
	{ __LINE__, JOB_STATUS_QUEUED, JOB_STATUS_ACTIVE, 0, Q, NULL, false,
	    JOB_FOLLOWUP_NONE },
	{ __LINE__, JOB_STATUS_QUEUED, JOB_STATUS_UNDER_CONSTRUCTION, 0, Q,
	    NULL, false, JOB_FOLLOWUP_NONE },
	{ __LINE__, JOB_STATUS_ACTIVE, JOB_STATUS_CANCEL_REQUESTED,
	    CANCELABLE_SET, CA,
	    "Manager cancelled this task because the job got status \"cancel-requested\".",
	    false, JOB_FOLLOWUP_CANCELED },
	{ __LINE__, JOB_STATUS_CANCEL_REQUESTED, JOB_STATUS_CANCEL_REQUESTED,
	    CANCELABLE_SET, CA,
	    "Manager cancelled this task because the job got status \"cancel-requested\".",
	    false, JOB_FOLLOWUP_CANCELED },
	{ __LINE__, JOB_STATUS_ACTIVE, JOB_STATUS_FAILED, CANCELABLE_SET, CA,
	    "Manager cancelled this task because the job got status \"failed\".",
	    false, JOB_FOLLOWUP_NONE },
	{ __LINE__, JOB_STATUS_ACTIVE, JOB_STATUS_PAUSE_REQUESTED,
	    STATE_TASK_BIT(Q) | STATE_TASK_BIT(SF), P, NULL, false,
	    JOB_FOLLOWUP_PAUSED_IF_IDLE },
	{ __LINE__, JOB_STATUS_UNDER_CONSTRUCTION, JOB_STATUS_REQUEUEING, 0, Q,
	    NULL, false, JOB_FOLLOWUP_NONE },
	{ __LINE__, JOB_STATUS_COMPLETED, JOB_STATUS_REQUEUEING,
	    STATE_TASK_SET_ALL, Q, NULL, true, JOB_FOLLOWUP_QUEUED },
	{ __LINE__, JOB_STATUS_FAILED, JOB_STATUS_REQUEUEING, REQUEUE_SET, Q,
	    NULL, true, JOB_FOLLOWUP_QUEUED },
	{ __LINE__, JOB_STATUS_CANCELED, JOB_STATUS_REQUEUEING, REQUEUE_SET, Q,
	    NULL, true, JOB_FOLLOWUP_QUEUED },
	{ __LINE__, JOB_STATUS_PAUSED, JOB_STATUS_REQUEUEING, REQUEUE_SET, Q,
	    NULL, true, JOB_FOLLOWUP_QUEUED },
	{ __LINE__, JOB_STATUS_ACTIVE, JOB_STATUS_REQUEUEING, REQUEUE_SET, Q,
	    NULL, true, JOB_FOLLOWUP_QUEUED },
	{ __LINE__, JOB_STATUS_REQUEUEING, JOB_STATUS_REQUEUEING, REQUEUE_SET,
	    Q, NULL, true, JOB_FOLLOWUP_QUEUED },
	{ __LINE__, JOB_STATUS_REQUEUEING, JOB_STATUS_QUEUED, 0, Q, NULL, false,
	    JOB_FOLLOWUP_COMPLETED_IF_DONE },
	{ __LINE__, JOB_STATUS_PAUSED, JOB_STATUS_QUEUED, 0, Q, NULL, false,
	    JOB_FOLLOWUP_COMPLETED_IF_DONE },
};

START_TEST(test_cascade_table)
{
	struct job_cascade c;
	size_t i;

	for (i = 0; i < nitems(cascades); i++) {
		memset(&c, 0xa5, sizeof(c));
		state_job_cascade(cascades[i].old, cascades[i].new_status, &c);
		ck_assert_msg(c.job == cascades[i].new_status, "line %d",
		    cascades[i].line);
		ck_assert_msg(c.from == cascades[i].from,
		    "line %d: from %#x, want %#x", cascades[i].line, c.from,
		    cascades[i].from);
		if (c.from != 0)
			ck_assert_msg(c.to == cascades[i].to, "line %d",
			    cascades[i].line);
		if (cascades[i].activity == NULL)
			ck_assert_msg(
			    c.activity == NULL, "line %d", cascades[i].line);
		else
			ck_assert_str_eq(c.activity, cascades[i].activity);
		ck_assert_msg(c.reset_steps == cascades[i].reset_steps,
		    "line %d", cascades[i].line);
		ck_assert_msg(c.followup == cascades[i].followup, "line %d",
		    cascades[i].line);
	}
}
END_TEST

/* The old status matters only for requeueing. */
START_TEST(test_cascade_old_status)
{
	struct job_cascade a, b;
	size_t o, n;

	for (n = 0; n < JOB_STATUS_COUNT; n++) {
		if (n == JOB_STATUS_REQUEUEING)
			continue;
		state_job_cascade(JOB_STATUS_ACTIVE, n, &a);
		for (o = 0; o < JOB_STATUS_COUNT; o++) {
			state_job_cascade(o, n, &b);
			ck_assert_int_eq(a.from, b.from);
			ck_assert_int_eq(a.followup, b.followup);
			ck_assert_int_eq(a.reset_steps, b.reset_steps);
		}
	}
}
END_TEST

static const struct {
	int line;
	enum job_status old, new_status;
	int n[TASK_STATUS_COUNT]; /* counts after the cascade */
	int expect;               /* enum job_status, or NONE */
} followups[] = {
	{ __LINE__, JOB_STATUS_ACTIVE, JOB_STATUS_CANCEL_REQUESTED,
	    { [CA] = 3, [CO] = 2 }, JOB_STATUS_CANCELED },
	{ __LINE__, JOB_STATUS_ACTIVE, JOB_STATUS_CANCEL_REQUESTED, { 0 },
	    JOB_STATUS_CANCELED },
	{ __LINE__, JOB_STATUS_ACTIVE, JOB_STATUS_FAILED, { [CA] = 3, [F] = 2 },
	    NONE },
	{ __LINE__, JOB_STATUS_ACTIVE, JOB_STATUS_PAUSE_REQUESTED,
	    { [P] = 3, [CO] = 2 }, JOB_STATUS_PAUSED },
	{ __LINE__, JOB_STATUS_ACTIVE, JOB_STATUS_PAUSE_REQUESTED,
	    { [P] = 3, [A] = 1 }, NONE },
	{ __LINE__, JOB_STATUS_FAILED, JOB_STATUS_REQUEUEING, { [Q] = 3 },
	    JOB_STATUS_QUEUED },
	{ __LINE__, JOB_STATUS_COMPLETED, JOB_STATUS_REQUEUEING, { [Q] = 3 },
	    JOB_STATUS_QUEUED },
	{ __LINE__, JOB_STATUS_ACTIVE, JOB_STATUS_REQUEUEING,
	    { [A] = 1, [Q] = 3 }, JOB_STATUS_QUEUED },
	{ __LINE__, JOB_STATUS_UNDER_CONSTRUCTION, JOB_STATUS_REQUEUEING,
	    { [Q] = 3 }, NONE },
	{ __LINE__, JOB_STATUS_REQUEUEING, JOB_STATUS_QUEUED, { [CO] = 3 },
	    JOB_STATUS_COMPLETED },
	{ __LINE__, JOB_STATUS_REQUEUEING, JOB_STATUS_QUEUED,
	    { [CO] = 2, [Q] = 1 }, NONE },
	{ __LINE__, JOB_STATUS_PAUSED, JOB_STATUS_QUEUED, { 0 },
	    JOB_STATUS_COMPLETED },
	{ __LINE__, JOB_STATUS_QUEUED, JOB_STATUS_COMPLETED, { [CO] = 3 },
	    NONE },
	{ __LINE__, JOB_STATUS_QUEUED, JOB_STATUS_ACTIVE, { [CO] = 3 }, NONE },
	{ __LINE__, JOB_STATUS_ACTIVE, JOB_STATUS_PAUSED, { [A] = 1 }, NONE },
	{ __LINE__, JOB_STATUS_ACTIVE, JOB_STATUS_CANCELED, { [A] = 1 }, NONE },
	{ __LINE__, JOB_STATUS_QUEUED, JOB_STATUS_UNDER_CONSTRUCTION,
	    { [CO] = 3 }, NONE },
};

START_TEST(test_followups)
{
	struct job_cascade cas;
	struct task_counts c;
	struct job_change ch;
	bool changed;
	size_t i;

	for (i = 0; i < nitems(followups); i++) {
		state_job_cascade(
		    followups[i].old, followups[i].new_status, &cas);
		c = counts_of(followups[i].n);
		ch.status = JOB_STATUS_COUNT;
		changed = state_job_followup(&cas, &c, &ch);
		if (followups[i].expect == NONE) {
			ck_assert_msg(!changed, "line %d: changed to %s",
			    followups[i].line,
			    state_job_status_name(ch.status));
			continue;
		}
		ck_assert_msg(changed, "line %d: no change", followups[i].line);
		ck_assert_msg(ch.status == (enum job_status)followups[i].expect,
		    "line %d: got %s", followups[i].line,
		    state_job_status_name(ch.status));
		ck_assert_ptr_nonnull(ch.reason);
	}
}
END_TEST

/*
 * A small model of the store: tasks as an array, the cascade applied as
 * the UPDATE would, follow-ups looped until stable.
 */
struct model {
	enum job_status job;
	enum task_status task[8];
	int ntasks;
	int changes; /* job status changes made */
};

static struct task_counts
model_counts(const struct model *m)
{
	struct task_counts c;
	int i;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < m->ntasks; i++)
		state_task_counts_add(&c, m->task[i]);
	return c;
}

static void
model_set_job(struct model *m, enum job_status s)
{
	struct job_cascade cas;
	struct task_counts c;
	struct job_change ch;
	enum job_status old = m->job;
	int i;

	for (;;) {
		m->job = s;
		m->changes++;
		ck_assert_int_lt(m->changes, 20);
		state_job_cascade(old, s, &cas);
		for (i = 0; i < m->ntasks; i++)
			if (state_task_set_has(cas.from, m->task[i]))
				m->task[i] = cas.to;
		c = model_counts(m);
		if (!state_job_followup(&cas, &c, &ch))
			return;
		old = s;
		s = ch.status;
	}
}

/* One task changes status through the state machine. */
static void
model_set_task(struct model *m, int i, enum task_status s)
{
	struct task_counts c;
	struct job_change ch;

	m->task[i] = s;
	c = model_counts(m);
	if (state_job_after_task(s, m->job, &c, &ch))
		model_set_job(m, ch.status);
}

START_TEST(test_cascade_loop)
{
	struct model m;
	int i;

	/* Requeueing one task of a completed job requeues all of them. */
	memset(&m, 0, sizeof(m));
	m.job = JOB_STATUS_COMPLETED;
	m.ntasks = 3;
	for (i = 0; i < 3; i++)
		m.task[i] = CO;
	model_set_task(&m, 1, Q);
	ck_assert_int_eq(m.job, JOB_STATUS_QUEUED);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(m.task[i], Q);

	/* Requeueing a failed job whose failed task was redone elsewhere:
	 * requeueing -> queued -> completed. */
	memset(&m, 0, sizeof(m));
	m.job = JOB_STATUS_FAILED;
	m.ntasks = 2;
	m.task[0] = CO;
	m.task[1] = CO;
	model_set_job(&m, JOB_STATUS_REQUEUEING);
	ck_assert_int_eq(m.job, JOB_STATUS_COMPLETED);
	ck_assert_int_eq(m.changes, 3);

	/* Requeueing a failed job: failed and canceled tasks come back,
	 * completed ones stay. */
	memset(&m, 0, sizeof(m));
	m.job = JOB_STATUS_FAILED;
	m.ntasks = 4;
	m.task[0] = CO;
	m.task[1] = F;
	m.task[2] = CA;
	m.task[3] = SF;
	model_set_job(&m, JOB_STATUS_REQUEUEING);
	ck_assert_int_eq(m.job, JOB_STATUS_QUEUED);
	ck_assert_int_eq(m.task[0], CO);
	ck_assert_int_eq(m.task[1], Q);
	ck_assert_int_eq(m.task[2], Q);
	ck_assert_int_eq(m.task[3], Q);

	/* Cancel: running and waiting tasks are canceled, job canceled. */
	memset(&m, 0, sizeof(m));
	m.job = JOB_STATUS_ACTIVE;
	m.ntasks = 5;
	m.task[0] = A;
	m.task[1] = Q;
	m.task[2] = SF;
	m.task[3] = CO;
	m.task[4] = F;
	model_set_job(&m, JOB_STATUS_CANCEL_REQUESTED);
	ck_assert_int_eq(m.job, JOB_STATUS_CANCELED);
	ck_assert_int_eq(m.task[0], CA);
	ck_assert_int_eq(m.task[1], CA);
	ck_assert_int_eq(m.task[2], CA);
	ck_assert_int_eq(m.task[3], CO);
	ck_assert_int_eq(m.task[4], F);

	/* Pause with a running task: waits, then the task finishing
	 * completes the pause. */
	memset(&m, 0, sizeof(m));
	m.job = JOB_STATUS_ACTIVE;
	m.ntasks = 3;
	m.task[0] = A;
	m.task[1] = Q;
	m.task[2] = SF;
	model_set_job(&m, JOB_STATUS_PAUSE_REQUESTED);
	ck_assert_int_eq(m.job, JOB_STATUS_PAUSE_REQUESTED);
	ck_assert_int_eq(m.task[0], A);
	ck_assert_int_eq(m.task[1], P);
	ck_assert_int_eq(m.task[2], P);
	model_set_task(&m, 0, CO);
	ck_assert_int_eq(m.job, JOB_STATUS_PAUSED);

	/* Pause of an idle job is immediate. */
	memset(&m, 0, sizeof(m));
	m.job = JOB_STATUS_QUEUED;
	m.ntasks = 2;
	m.task[0] = Q;
	m.task[1] = Q;
	model_set_job(&m, JOB_STATUS_PAUSE_REQUESTED);
	ck_assert_int_eq(m.job, JOB_STATUS_PAUSED);

	/* A job failing through the threshold cancels what is left. */
	memset(&m, 0, sizeof(m));
	m.job = JOB_STATUS_ACTIVE;
	m.ntasks = 4;
	m.task[0] = A;
	m.task[1] = A;
	m.task[2] = Q;
	m.task[3] = CO;
	model_set_task(&m, 0, F);
	ck_assert_int_eq(m.job, JOB_STATUS_FAILED);
	ck_assert_int_eq(m.task[1], CA);
	ck_assert_int_eq(m.task[2], CA);
	ck_assert_int_eq(m.task[3], CO);

	/* Requeueing from under-construction does nothing and stays. */
	memset(&m, 0, sizeof(m));
	m.job = JOB_STATUS_UNDER_CONSTRUCTION;
	m.ntasks = 1;
	m.task[0] = F;
	model_set_job(&m, JOB_STATUS_REQUEUEING);
	ck_assert_int_eq(m.job, JOB_STATUS_REQUEUEING);
	ck_assert_int_eq(m.task[0], F);

	/* Re-applying requeueing at start-up. */
	memset(&m, 0, sizeof(m));
	m.job = JOB_STATUS_REQUEUEING;
	m.ntasks = 2;
	m.task[0] = F;
	m.task[1] = CO;
	model_set_job(&m, JOB_STATUS_REQUEUEING);
	ck_assert_int_eq(m.job, JOB_STATUS_QUEUED);
	ck_assert_int_eq(m.task[0], Q);
}
END_TEST

/* Every (old, new) pair reaches a stable status within a few steps. */
START_TEST(test_cascade_terminates)
{
	static const enum task_status mix[] = { A, CA, CO, F, Q, SF, P };
	struct model m;
	size_t o, n;

	for (o = 0; o < JOB_STATUS_COUNT; o++)
		for (n = 0; n < JOB_STATUS_COUNT; n++) {
			memset(&m, 0, sizeof(m));
			m.job = o;
			m.ntasks = (int)nitems(mix);
			memcpy(m.task, mix, sizeof(mix));
			model_set_job(&m, n);
			ck_assert_int_le(m.changes, 3);
		}
}
END_TEST

START_TEST(test_reapply_at_startup)
{
	size_t i;

	for (i = 0; i < JOB_STATUS_COUNT; i++)
		ck_assert_int_eq(state_job_status_reapply_at_startup(i),
		    i == JOB_STATUS_CANCEL_REQUESTED ||
		        i == JOB_STATUS_REQUEUEING ||
		        i == JOB_STATUS_PAUSE_REQUESTED);
}
END_TEST

START_TEST(test_requeue_status)
{
	size_t i;

	for (i = 0; i < JOB_STATUS_COUNT; i++)
		ck_assert_int_eq(state_requeue_task_status(i),
		    i == JOB_STATUS_PAUSE_REQUESTED || i == JOB_STATUS_PAUSED
		        ? TASK_STATUS_PAUSED
		        : TASK_STATUS_QUEUED);
}
END_TEST

/* ---- failure handling ---- */

static const struct {
	int line;
	struct failure_input in;
	enum failure_outcome outcome;
	bool blocklist, requeue_blocked;
	const char *log;
} failures[] = {
	/* first failure, plenty of workers: soft */
	{ __LINE__, { 1, 3, 1, 3, 5 }, FAILURE_SOFT_FAIL, false, false,
	    "Task failed by 1 worker, Manager will mark it as soft failure. 2 more failures will cause hard failure." },
	{ __LINE__, { 2, 3, 1, 3, 5 }, FAILURE_SOFT_FAIL, false, false,
	    "Task failed by 2 workers, Manager will mark it as soft failure. 1 more failure will cause hard failure." },
	/* step 3: enough distinct workers failed it */
	{ __LINE__, { 3, 3, 1, 3, 5 }, FAILURE_HARD_FAIL, false, false,
	    "Task failed by 3 workers, Manager will mark it as hard failure" },
	{ __LINE__, { 4, 3, 1, 3, 5 }, FAILURE_HARD_FAIL, false, false,
	    "Task failed by 4 workers, Manager will mark it as hard failure" },
	{ __LINE__, { 1, 1, 1, 3, 5 }, FAILURE_HARD_FAIL, false, false,
	    "Task failed by 1 worker, Manager will mark it as hard failure" },
	/* step 3 comes before step 4 */
	{ __LINE__, { 3, 3, 1, 3, 0 }, FAILURE_HARD_FAIL, false, false,
	    "Task failed by 3 workers, Manager will mark it as hard failure" },
	/* step 4: no other worker left */
	{ __LINE__, { 1, 3, 1, 3, 0 }, FAILURE_FAIL_JOB, false, false,
	    "Task failed by 1 worker, Manager will mark it as hard failure and fail the job: no more workers left to run tasks of type \"blender\"" },
	{ __LINE__, { 2, 3, 1, 3, 1 }, FAILURE_SOFT_FAIL, false, false,
	    "Task failed by 2 workers, Manager will mark it as soft failure. 1 more failure will cause hard failure." },
	/* step 2: blocklisting with Flamenco's +1 */
	{ __LINE__, { 1, 3, 2, 3, 2 }, FAILURE_SOFT_FAIL, true, true,
	    "Task failed by 1 worker, Manager will mark it as soft failure. 2 more failures will cause hard failure." },
	{ __LINE__, { 1, 3, 5, 3, 2 }, FAILURE_SOFT_FAIL, true, true, NULL },
	{ __LINE__, { 3, 3, 2, 3, 2 }, FAILURE_HARD_FAIL, true, true, NULL },
	{ __LINE__, { 1, 3, 2, 3, 1 }, FAILURE_SOFT_FAIL, true, true, NULL },
	{ __LINE__, { 1, 3, 2, 3, 0 }, FAILURE_FAIL_JOB, true, false, NULL },
	{ __LINE__, { 3, 3, 2, 3, 0 }, FAILURE_FAIL_JOB, true, false, NULL },
	{ __LINE__, { 1, 3, 1, 2, 4 }, FAILURE_SOFT_FAIL, true, true, NULL },
	{ __LINE__, { 1, 3, 1, 1, 4 }, FAILURE_SOFT_FAIL, true, true, NULL },
	{ __LINE__, { 1, 3, 2, 4, 4 }, FAILURE_SOFT_FAIL, false, false, NULL },
};

START_TEST(test_failures)
{
	struct failure_verdict v;
	char buf[256];
	size_t i;
	int n;

	for (i = 0; i < nitems(failures); i++) {
		memset(&v, 0xa5, sizeof(v));
		state_task_failure(&failures[i].in, &v);
		ck_assert_msg(v.outcome == failures[i].outcome,
		    "line %d: outcome %d", failures[i].line, v.outcome);
		ck_assert_msg(v.blocklist == failures[i].blocklist,
		    "line %d: blocklist", failures[i].line);
		ck_assert_msg(v.requeue_blocked == failures[i].requeue_blocked,
		    "line %d: requeue", failures[i].line);
		if (failures[i].log == NULL)
			continue;
		n = state_fmt_failure_log(
		    buf, sizeof(buf), &failures[i].in, &v, "blender");
		ck_assert_str_eq(buf, failures[i].log);
		ck_assert_int_eq(n, (int)strlen(failures[i].log));
	}
}
END_TEST

START_TEST(test_failure_defaults)
{
	ck_assert_int_eq(STATE_BLOCKLIST_THRESHOLD_DEFAULT, 3);
	ck_assert_int_eq(STATE_FAIL_AFTER_SOFTFAIL_DEFAULT, 3);
}
END_TEST

/* ---- predicates ---- */

START_TEST(test_predicates)
{
	size_t i;

	for (i = 0; i < TASK_STATUS_COUNT; i++) {
		ck_assert_int_eq(state_task_status_worker_may_send(i),
		    i != TASK_STATUS_SOFT_FAILED);
		ck_assert_int_eq(state_task_status_schedulable(i),
		    i == TASK_STATUS_QUEUED || i == TASK_STATUS_SOFT_FAILED);
	}
	for (i = 0; i < JOB_STATUS_COUNT; i++)
		ck_assert_int_eq(state_job_status_runnable(i),
		    i == JOB_STATUS_ACTIVE || i == JOB_STATUS_QUEUED);
}
END_TEST

/* ---- farm status ---- */

#define W(s) WORKER_STATUS_##s
#define J(s) JOB_STATUS_##s

static const struct {
	int line;
	struct farm_counts c;
	enum farm_status expect;
} farms[] = {
	{ __LINE__, { { 0 }, { 0 } }, FARM_STATUS_INOPERATIVE },
	{ __LINE__, { { 0 }, { [J(ACTIVE)] = 2 } }, FARM_STATUS_INOPERATIVE },
	{ __LINE__,
	    { { [W(OFFLINE)] = 2, [W(ERROR)] = 1 }, { [J(ACTIVE)] = 1 } },
	    FARM_STATUS_INOPERATIVE },
	{ __LINE__,
	    { { [W(OFFLINE)] = 2, [W(AWAKE)] = 1 }, { [J(ACTIVE)] = 1 } },
	    FARM_STATUS_ACTIVE },
	{ __LINE__, { { [W(AWAKE)] = 1 }, { [J(QUEUED)] = 1 } },
	    FARM_STATUS_WAITING },
	{ __LINE__, { { [W(ASLEEP)] = 1 }, { [J(ACTIVE)] = 1 } },
	    FARM_STATUS_WAITING },
	{ __LINE__, { { [W(ASLEEP)] = 1 }, { [J(QUEUED)] = 1 } },
	    FARM_STATUS_WAITING },
	{ __LINE__, { { [W(ASLEEP)] = 2 }, { [J(COMPLETED)] = 1 } },
	    FARM_STATUS_ASLEEP },
	{ __LINE__, { { [W(ASLEEP)] = 2, [W(OFFLINE)] = 1 }, { 0 } },
	    FARM_STATUS_ASLEEP },
	{ __LINE__, { { [W(ASLEEP)] = 2, [W(AWAKE)] = 1 }, { 0 } },
	    FARM_STATUS_IDLE },
	{ __LINE__, { { [W(AWAKE)] = 1 }, { [J(PAUSED)] = 3 } },
	    FARM_STATUS_IDLE },
	{ __LINE__, { { [W(STARTING)] = 1 }, { 0 } }, FARM_STATUS_IDLE },
	{ __LINE__, { { [W(REGISTERED)] = 1, [W(OFFLINE)] = 1 }, { 0 } },
	    FARM_STATUS_IDLE },
	{ __LINE__, { { [W(STARTING)] = 1 }, { [J(ACTIVE)] = 1 } },
	    FARM_STATUS_WAITING },
};

START_TEST(test_farm_status)
{
	size_t i;

	for (i = 0; i < nitems(farms); i++)
		ck_assert_msg(state_farm_status(&farms[i].c) == farms[i].expect,
		    "line %d: got %s", farms[i].line,
		    state_farm_status_name(state_farm_status(&farms[i].c)));
}
END_TEST

/* ---- sleep schedule ---- */

static const struct {
	int line;
	const char *days, *start, *end;
	const char *want_days, *want_start, *want_end;
	unsigned mask;
} sleep_ok[] = {
	{ __LINE__, "", "", "", "", "", "", 0 },
	{ __LINE__, "mo tu", "09:00", "17:30", "mo tu", "09:00", "17:30",
	    0x06 },
	{ __LINE__, "  Monday   TUESDAY\tsu ", "9:05", "23:59", "mo tu su",
	    "09:05", "23:59", 0x07 },
	{ __LINE__, "sa", "18:00", "08:00", "sa", "08:00", "18:00", 0x40 },
	{ __LINE__, "we th fr", "", "06:00", "we th fr", "", "06:00", 0x38 },
	{ __LINE__, "xx m", "22:00", "", "xx m", "22:00", "", 0 },
	{ __LINE__, "mo,tu", "00:00", "24:00", "mo", "00:00", "24:00", 0x02 },
	{ __LINE__, "FR", " 07:00 ", "07:00", "fr", "07:00", "07:00", 0x20 },
};

static const struct {
	int line;
	const char *days, *start, *end;
} sleep_bad[] = {
	{ __LINE__, "", "9", "" },
	{ __LINE__, "", "25:00", "" },
	{ __LINE__, "", "24:01", "" },
	{ __LINE__, "", "12:60", "" },
	{ __LINE__, "", "12:5", "" },
	{ __LINE__, "", "123:00", "" },
	{ __LINE__, "", "ab:cd", "" },
	{ __LINE__, "", "-1:00", "" },
	{ __LINE__, "", "12:00:00", "" },
	{ __LINE__, "", "", "noon" },
	{ __LINE__, "", "", "12h00" },
	{ __LINE__, "m\xc3\xa5", "", "" },
	{ __LINE__,
	    "mo tu we th fr sa su mo tu we th fr sa su mo tu we th fr "
	    "sa su mo tu",
	    "", "" },
	{ __LINE__, NULL, "", "" },
	{ __LINE__, "", NULL, "" },
	{ __LINE__, "", "", NULL },
};

START_TEST(test_sleep_parse)
{
	struct sleep_schedule s;
	char buf[STATE_SLEEP_TIME_MAX];
	const char *why;
	size_t i;

	for (i = 0; i < nitems(sleep_ok); i++) {
		memset(&s, 0xa5, sizeof(s));
		why = NULL;
		ck_assert_msg(
		    state_sleep_parse(true, sleep_ok[i].days, sleep_ok[i].start,
		        sleep_ok[i].end, &s, &why) == FM_OK,
		    "line %d: %s", sleep_ok[i].line, why);
		ck_assert(s.is_active);
		ck_assert_str_eq(s.days, sleep_ok[i].want_days);
		ck_assert_msg(s.day_mask == sleep_ok[i].mask,
		    "line %d: mask %#x", sleep_ok[i].line, s.day_mask);
		state_sleep_time_format(s.start, buf);
		ck_assert_str_eq(buf, sleep_ok[i].want_start);
		state_sleep_time_format(s.end, buf);
		ck_assert_str_eq(buf, sleep_ok[i].want_end);
	}
	for (i = 0; i < nitems(sleep_bad); i++) {
		memset(&s, 0, sizeof(s));
		s.start = 42;
		why = NULL;
		ck_assert_msg(state_sleep_parse(true, sleep_bad[i].days,
		                  sleep_bad[i].start, sleep_bad[i].end, &s,
		                  &why) == FM_ERR_INVALID,
		    "line %d accepted", sleep_bad[i].line);
		ck_assert_ptr_nonnull(why);
		ck_assert_int_eq(s.start, 42); /* untouched */
	}
	ck_assert_int_eq(
	    state_sleep_parse(false, "", "x", "", &s, NULL), FM_ERR_INVALID);
	ck_assert_int_eq(state_sleep_parse(false, "", "", "", &s, NULL), FM_OK);
	ck_assert(!s.is_active);
	ck_assert_int_eq(s.start, -1);
	ck_assert_int_eq(s.end, -1);
}
END_TEST

/* Parsing the normalised form gives the same schedule back. */
START_TEST(test_sleep_roundtrip)
{
	struct sleep_schedule a, b;
	char st[STATE_SLEEP_TIME_MAX], en[STATE_SLEEP_TIME_MAX];

	ck_assert_int_eq(
	    state_sleep_parse(true, " SUnday  Mon ", "23:00", "1:30", &a, NULL),
	    FM_OK);
	state_sleep_time_format(a.start, st);
	state_sleep_time_format(a.end, en);
	ck_assert_str_eq(a.days, "su mo");
	ck_assert_str_eq(st, "01:30");
	ck_assert_str_eq(en, "23:00");
	ck_assert_int_eq(
	    state_sleep_parse(true, a.days, st, en, &b, NULL), FM_OK);
	ck_assert_str_eq(a.days, b.days);
	ck_assert_int_eq(a.day_mask, b.day_mask);
	ck_assert_int_eq(a.start, b.start);
	ck_assert_int_eq(a.end, b.end);
}
END_TEST

#define ASLEEP   WORKER_STATUS_ASLEEP
#define AWAKE    WORKER_STATUS_AWAKE
#define HM(h, m) ((h)*3600 + (m)*60)

static const struct {
	int line;
	bool active;
	const char *days, *start, *end;
	int wday, sec;
	enum worker_status verdict;
	int next; /* seconds after midnight */
} sleep_at[] = {
	/* inactive: always awake */
	{ __LINE__, false, "", "", "", 1, HM(12, 0), AWAKE, 86400 },
	{ __LINE__, false, "mo", "09:00", "17:00", 1, HM(12, 0), AWAKE,
	    HM(17, 0) },
	/* active, nothing else: asleep all the time */
	{ __LINE__, true, "", "", "", 3, HM(12, 0), ASLEEP, 86400 },
	{ __LINE__, true, "", "", "", 0, 0, ASLEEP, 86400 },
	/* window 09:00-17:00 every day; start inclusive, end exclusive */
	{ __LINE__, true, "", "09:00", "17:00", 2, HM(8, 59) + 59, AWAKE,
	    HM(9, 0) },
	{ __LINE__, true, "", "09:00", "17:00", 2, HM(9, 0), ASLEEP,
	    HM(17, 0) },
	{ __LINE__, true, "", "09:00", "17:00", 2, HM(16, 59) + 59, ASLEEP,
	    HM(17, 0) },
	{ __LINE__, true, "", "09:00", "17:00", 2, HM(17, 0), AWAKE, 86400 },
	{ __LINE__, true, "", "09:00", "17:00", 2, HM(23, 59), AWAKE, 86400 },
	/* days: listed day only (tm_wday: 0 = Sunday) */
	{ __LINE__, true, "mo we", "09:00", "17:00", 1, HM(10, 0), ASLEEP,
	    HM(17, 0) },
	{ __LINE__, true, "mo we", "09:00", "17:00", 3, HM(10, 0), ASLEEP,
	    HM(17, 0) },
	{ __LINE__, true, "mo we", "09:00", "17:00", 2, HM(10, 0), AWAKE,
	    HM(17, 0) },
	{ __LINE__, true, "su", "", "", 0, HM(10, 0), ASLEEP, 86400 },
	{ __LINE__, true, "su", "", "", 6, HM(10, 0), AWAKE, 86400 },
	/* only unknown days: never asleep */
	{ __LINE__, true, "xx", "", "", 1, HM(10, 0), AWAKE, 86400 },
	/* only a start, only an end */
	{ __LINE__, true, "", "22:00", "", 4, HM(21, 0), AWAKE, HM(22, 0) },
	{ __LINE__, true, "", "22:00", "", 4, HM(23, 0), ASLEEP, 86400 },
	{ __LINE__, true, "", "", "06:00", 4, HM(5, 0), ASLEEP, HM(6, 0) },
	{ __LINE__, true, "", "", "06:00", 4, HM(7, 0), AWAKE, 86400 },
	/* end 24:00: asleep until midnight */
	{ __LINE__, true, "", "20:00", "24:00", 5, HM(23, 59) + 59, ASLEEP,
	    86400 },
	/* swapped on save */
	{ __LINE__, true, "", "17:00", "09:00", 2, HM(12, 0), ASLEEP,
	    HM(17, 0) },
	/* equal start and end: never asleep */
	{ __LINE__, true, "", "07:00", "07:00", 2, HM(7, 0), AWAKE, 86400 },
};

START_TEST(test_sleep_verdict)
{
	struct sleep_schedule s;
	enum worker_status v;
	size_t i;
	int next;

	for (i = 0; i < nitems(sleep_at); i++) {
		ck_assert_int_eq(
		    state_sleep_parse(sleep_at[i].active, sleep_at[i].days,
		        sleep_at[i].start, sleep_at[i].end, &s, NULL),
		    FM_OK);
		v = state_sleep_verdict(&s, sleep_at[i].wday, sleep_at[i].sec);
		ck_assert_msg(v == sleep_at[i].verdict, "line %d: got %s",
		    sleep_at[i].line, state_worker_status_name(v));
		next = state_sleep_next_check(&s, sleep_at[i].sec);
		ck_assert_msg(next == sleep_at[i].next, "line %d: next %d",
		    sleep_at[i].line, next);
		ck_assert_int_gt(next, sleep_at[i].sec);
	}
}
END_TEST

START_TEST(test_sleep_time_format)
{
	char buf[STATE_SLEEP_TIME_MAX];

	state_sleep_time_format(-1, buf);
	ck_assert_str_eq(buf, "");
	state_sleep_time_format(0, buf);
	ck_assert_str_eq(buf, "00:00");
	state_sleep_time_format(9 * 60 + 5, buf);
	ck_assert_str_eq(buf, "09:05");
	state_sleep_time_format(23 * 60 + 59, buf);
	ck_assert_str_eq(buf, "23:59");
	state_sleep_time_format(24 * 60, buf);
	ck_assert_str_eq(buf, "24:00");
}
END_TEST

/* ---- texts ---- */

START_TEST(test_texts)
{
	char buf[128], small[8];
	int n;

	n = state_fmt_job_activity(
	    buf, sizeof(buf), JOB_STATUS_PAUSED, "no more active tasks");
	ck_assert_str_eq(
	    buf, "Changed to status \"paused\": no more active tasks");
	ck_assert_int_eq(n, (int)strlen(buf));

	state_fmt_task_change_log(
	    buf, sizeof(buf), TASK_STATUS_QUEUED, TASK_STATUS_SOFT_FAILED);
	ck_assert_str_eq(buf, "task changed status queued -> soft-failed");

	state_fmt_requeue_activity(
	    buf, sizeof(buf), TASK_STATUS_QUEUED, "worker signed off");
	ck_assert_str_eq(
	    buf, "Task was queued by Manager because worker signed off");
	state_fmt_requeue_activity(
	    buf, sizeof(buf), TASK_STATUS_PAUSED, "worker timed out");
	ck_assert_str_eq(
	    buf, "Task was paused by Manager because worker timed out");

	state_fmt_no_workers_reason(buf, sizeof(buf), "blender");
	ck_assert_str_eq(
	    buf, "no more workers left to run tasks of type \"blender\"");

	state_fmt_blocklist_reason(buf, sizeof(buf), "w1", "ffmpeg");
	ck_assert_str_eq(
	    buf, "worker w1 was blocked from tasks of type \"ffmpeg\"");

	/* snprintf semantics: truncated, NUL-terminated, full length. */
	n = state_fmt_task_change_log(
	    small, sizeof(small), TASK_STATUS_ACTIVE, TASK_STATUS_COMPLETED);
	ck_assert_int_eq(
	    n, (int)strlen("task changed status active -> completed"));
	ck_assert_str_eq(small, "task ch");
}
END_TEST

static Suite *
state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc;

	tc = tcase_create("names");
	tcase_add_test(tc, test_job_names);
	tcase_add_test(tc, test_task_names);
	tcase_add_test(tc, test_worker_names);
	tcase_add_test(tc, test_farm_names);
	tcase_add_test(tc, test_task_sets);
	suite_add_tcase(s, tc);

	tc = tcase_create("task_to_job");
	tcase_add_test(tc, test_task_rules);
	tcase_add_test(tc, test_task_rules_total);
	tcase_add_test(tc, test_task_rules_zero_tasks);
	suite_add_tcase(s, tc);

	tc = tcase_create("job_to_task");
	tcase_add_test(tc, test_cascade_table);
	tcase_add_test(tc, test_cascade_old_status);
	tcase_add_test(tc, test_followups);
	tcase_add_test(tc, test_cascade_loop);
	tcase_add_test(tc, test_cascade_terminates);
	tcase_add_test(tc, test_reapply_at_startup);
	tcase_add_test(tc, test_requeue_status);
	suite_add_tcase(s, tc);

	tc = tcase_create("failure");
	tcase_add_test(tc, test_failures);
	tcase_add_test(tc, test_failure_defaults);
	suite_add_tcase(s, tc);

	tc = tcase_create("predicates");
	tcase_add_test(tc, test_predicates);
	tcase_add_test(tc, test_farm_status);
	suite_add_tcase(s, tc);

	tc = tcase_create("sleep");
	tcase_add_test(tc, test_sleep_parse);
	tcase_add_test(tc, test_sleep_roundtrip);
	tcase_add_test(tc, test_sleep_verdict);
	tcase_add_test(tc, test_sleep_time_format);
	suite_add_tcase(s, tc);

	tc = tcase_create("texts");
	tcase_add_test(tc, test_texts);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	Suite *s = state_suite();
	SRunner *sr = srunner_create(s);
	TCase *tc;
	int failed;

	/* An abort needs a forked test (CK_FORK=no runs under valgrind). */
	if (srunner_fork_status(sr) != CK_NOFORK) {
		tc = tcase_create("asserts");
		tcase_add_test_raise_signal(
		    tc, test_name_out_of_range, SIGABRT);
		suite_add_tcase(s, tc);
	}
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
