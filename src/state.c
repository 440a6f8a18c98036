/*
 * Flamenco's status rules (JobStatus, TaskStatus, WorkerStatus): string tables
 * for the status enums, the task -> job rule, the job -> task cascade table,
 * failure handling, the farm status and the sleep schedule. Pure: every
 * function only reads its arguments and the const tables below.
 */
#include "state.h"

#include <stdio.h>
#include <string.h>

/* Wire spellings, indexed by enum value ("canceled", one l, as Flamenco spells
 * it). */
static const char *const job_status_names[JOB_STATUS_COUNT] = {
	[JOB_STATUS_ACTIVE] = "active",
	[JOB_STATUS_CANCELED] = "canceled",
	[JOB_STATUS_COMPLETED] = "completed",
	[JOB_STATUS_FAILED] = "failed",
	[JOB_STATUS_PAUSED] = "paused",
	[JOB_STATUS_PAUSE_REQUESTED] = "pause-requested",
	[JOB_STATUS_QUEUED] = "queued",
	[JOB_STATUS_CANCEL_REQUESTED] = "cancel-requested",
	[JOB_STATUS_REQUEUEING] = "requeueing",
	[JOB_STATUS_UNDER_CONSTRUCTION] = "under-construction",
};

static const char *const task_status_names[TASK_STATUS_COUNT] = {
	[TASK_STATUS_ACTIVE] = "active",
	[TASK_STATUS_CANCELED] = "canceled",
	[TASK_STATUS_COMPLETED] = "completed",
	[TASK_STATUS_FAILED] = "failed",
	[TASK_STATUS_QUEUED] = "queued",
	[TASK_STATUS_SOFT_FAILED] = "soft-failed",
	[TASK_STATUS_PAUSED] = "paused",
};

static const char *const worker_status_names[WORKER_STATUS_COUNT] = {
	[WORKER_STATUS_REGISTERED] = "",
	[WORKER_STATUS_STARTING] = "starting",
	[WORKER_STATUS_AWAKE] = "awake",
	[WORKER_STATUS_ASLEEP] = "asleep",
	[WORKER_STATUS_ERROR] = "error",
	[WORKER_STATUS_TESTING] = "testing",
	[WORKER_STATUS_OFFLINE] = "offline",
	[WORKER_STATUS_RESTART] = "restart",
};

static const char *const farm_status_names[FARM_STATUS_COUNT] = {
	[FARM_STATUS_ACTIVE] = "active",
	[FARM_STATUS_IDLE] = "idle",
	[FARM_STATUS_WAITING] = "waiting",
	[FARM_STATUS_ASLEEP] = "asleep",
	[FARM_STATUS_INOPERATIVE] = "inoperative",
	[FARM_STATUS_UNKNOWN] = "unknown",
	[FARM_STATUS_STARTING] = "starting",
};

/* Task statuses that still have work to do: a cancel stops them. */
#define CANCELABLE                               \
	(STATE_TASK_BIT(TASK_STATUS_ACTIVE) |    \
	    STATE_TASK_BIT(TASK_STATUS_QUEUED) | \
	    STATE_TASK_BIT(TASK_STATUS_SOFT_FAILED))

/* Task statuses a requeue of an unfinished job puts back in the queue. */
#define REQUEUEABLE                              \
	(STATE_TASK_BIT(TASK_STATUS_CANCELED) |  \
	    STATE_TASK_BIT(TASK_STATUS_FAILED) | \
	    STATE_TASK_BIT(TASK_STATUS_PAUSED) | \
	    STATE_TASK_BIT(TASK_STATUS_SOFT_FAILED))

/* Task statuses a pause request stops before they start. */
#define PAUSABLE                              \
	(STATE_TASK_BIT(TASK_STATUS_QUEUED) | \
	    STATE_TASK_BIT(TASK_STATUS_SOFT_FAILED))

/*
 * Job change -> task effect, one row per new job status. The
 * requeueing row is the general case; state_job_cascade() applies its two
 * exceptions (from under-construction, from completed).
 */
static const struct cascade_rule {
	unsigned from;              /* task statuses changed */
	enum task_status to;        /* into this one */
	const char *activity;       /* activity of changed tasks, or NULL */
	bool reset_steps;           /* step counters reset afterwards */
	enum job_followup followup; /* the next job status */
	bool reapply;               /* re-applied at start-up */
} cascade_rules[JOB_STATUS_COUNT] = {
	[JOB_STATUS_ACTIVE] = { 0, TASK_STATUS_QUEUED, NULL, false,
	    JOB_FOLLOWUP_NONE, false },
	[JOB_STATUS_CANCELED] = { 0, TASK_STATUS_QUEUED, NULL, false,
	    JOB_FOLLOWUP_NONE, false },
	[JOB_STATUS_COMPLETED] = { 0, TASK_STATUS_QUEUED, NULL, false,
	    JOB_FOLLOWUP_NONE, false },
	[JOB_STATUS_FAILED] = { CANCELABLE, TASK_STATUS_CANCELED,
	    "Manager cancelled this task because the job got status "
	    "\"failed\".",
	    false, JOB_FOLLOWUP_NONE, false },
	[JOB_STATUS_PAUSED] = { 0, TASK_STATUS_QUEUED, NULL, false,
	    JOB_FOLLOWUP_NONE, false },
	[JOB_STATUS_PAUSE_REQUESTED] = { PAUSABLE, TASK_STATUS_PAUSED, NULL,
	    false, JOB_FOLLOWUP_PAUSED_IF_IDLE, true },
	[JOB_STATUS_QUEUED] = { 0, TASK_STATUS_QUEUED, NULL, false,
	    JOB_FOLLOWUP_COMPLETED_IF_DONE, false },
	[JOB_STATUS_CANCEL_REQUESTED] = { CANCELABLE, TASK_STATUS_CANCELED,
	    "Manager cancelled this task because the job got status "
	    "\"cancel-requested\".",
	    false, JOB_FOLLOWUP_CANCELED, true },
	[JOB_STATUS_REQUEUEING] = { REQUEUEABLE, TASK_STATUS_QUEUED, NULL, true,
	    JOB_FOLLOWUP_QUEUED, true },
	[JOB_STATUS_UNDER_CONSTRUCTION] = { 0, TASK_STATUS_QUEUED, NULL, false,
	    JOB_FOLLOWUP_NONE, false },
};

/*
 * Reasons for job changes the state machine makes on its own. Flamenco's
 * exact wording is not part of its API; these are ours.
 */
#define REASON_TASK_REQUEUED   "a task of the completed job was queued"
#define REASON_TASK_ACTIVE     "a task became active"
#define REASON_TASK_SOFTFAILED "a task soft-failed"
#define REASON_TASK_STARTED    "a task of the queued job finished"
#define REASON_ALL_COMPLETED   "all tasks completed"
#define REASON_PAUSED          "no more active tasks"
#define REASON_TOO_MANY_FAILED "too many tasks failed"
#define REASON_ALL_CANCELED    "no more tasks left to run"
#define REASON_CASCADE_CANCEL  "all tasks were canceled"
#define REASON_REQUEUED        "tasks were requeued"

const char *
state_job_status_name(enum job_status s)
{
	FM_ASSERT((unsigned)s < JOB_STATUS_COUNT);
	return job_status_names[s];
}

const char *
state_task_status_name(enum task_status s)
{
	FM_ASSERT((unsigned)s < TASK_STATUS_COUNT);
	return task_status_names[s];
}

const char *
state_worker_status_name(enum worker_status s)
{
	FM_ASSERT((unsigned)s < WORKER_STATUS_COUNT);
	return worker_status_names[s];
}

const char *
state_farm_status_name(enum farm_status s)
{
	FM_ASSERT((unsigned)s < FARM_STATUS_COUNT);
	return farm_status_names[s];
}

/* Index of s in names[0..n), or -1. */
static int
lookup(const char *const *names, size_t n, const char *s)
{
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

enum fm_err
state_job_status_parse(const char *s, enum job_status *out)
{
	int i = lookup(job_status_names, nitems(job_status_names), s);

	if (i < 0)
		return FM_ERR_INVALID;
	*out = (enum job_status)i;
	return FM_OK;
}

enum fm_err
state_task_status_parse(const char *s, enum task_status *out)
{
	int i = lookup(task_status_names, nitems(task_status_names), s);

	if (i < 0)
		return FM_ERR_INVALID;
	*out = (enum task_status)i;
	return FM_OK;
}

enum fm_err
state_worker_status_parse(const char *s, enum worker_status *out)
{
	int i = lookup(worker_status_names, nitems(worker_status_names), s);

	if (i < 0)
		return FM_ERR_INVALID;
	*out = (enum worker_status)i;
	return FM_OK;
}

enum fm_err
state_farm_status_parse(const char *s, enum farm_status *out)
{
	int i = lookup(farm_status_names, nitems(farm_status_names), s);

	if (i < 0)
		return FM_ERR_INVALID;
	*out = (enum farm_status)i;
	return FM_OK;
}

bool
state_task_set_has(unsigned set, enum task_status s)
{
	return (set & STATE_TASK_BIT(s)) != 0;
}

size_t
state_task_set_names(unsigned set, const char *names_out[TASK_STATUS_COUNT])
{
	size_t i, n = 0;

	for (i = 0; i < TASK_STATUS_COUNT; i++)
		if (set & STATE_TASK_BIT(i))
			names_out[n++] = task_status_names[i];
	return n;
}

void
state_task_counts_add(struct task_counts *c, enum task_status s)
{
	FM_ASSERT((unsigned)s < TASK_STATUS_COUNT);
	c->n[s]++;
	c->total++;
}

/* Fill *out and return true when status differs from job. */
static bool
change(enum job_status job, enum job_status status, const char *reason,
    struct job_change *out)
{
	if (status == job)
		return false;
	out->status = status;
	out->reason = reason;
	return true;
}

/* The "pause-complete check": a pause request ends when nothing runs. */
static bool
pause_complete(enum job_status job, const struct task_counts *c)
{
	return job == JOB_STATUS_PAUSE_REQUESTED &&
	    c->n[TASK_STATUS_ACTIVE] == 0;
}

/* floor(100 * failed / total) >= STATE_JOB_FAIL_PERCENT; never for 0. */
static bool
too_many_failed(const struct task_counts *c)
{
	long long pct;

	if (c->total <= 0)
		return false;
	pct = 100LL * c->n[TASK_STATUS_FAILED] / c->total;
	return pct >= STATE_JOB_FAIL_PERCENT;
}

bool
state_job_after_task(enum task_status task_new, enum job_status job,
    const struct task_counts *after, struct job_change *out)
{
	switch (task_new) {
	case TASK_STATUS_QUEUED:
		if (job == JOB_STATUS_COMPLETED)
			return change(job, JOB_STATUS_REQUEUEING,
			    REASON_TASK_REQUEUED, out);
		return false;
	case TASK_STATUS_ACTIVE:
	case TASK_STATUS_SOFT_FAILED:
		if (job == JOB_STATUS_CANCEL_REQUESTED)
			return false;
		return change(job, JOB_STATUS_ACTIVE,
		    task_new == TASK_STATUS_ACTIVE ? REASON_TASK_ACTIVE
		                                   : REASON_TASK_SOFTFAILED,
		    out);
	case TASK_STATUS_COMPLETED:
		if (after->n[TASK_STATUS_COMPLETED] == after->total)
			return change(job, JOB_STATUS_COMPLETED,
			    REASON_ALL_COMPLETED, out);
		if (pause_complete(job, after))
			return change(
			    job, JOB_STATUS_PAUSED, REASON_PAUSED, out);
		if (job == JOB_STATUS_QUEUED)
			return change(
			    job, JOB_STATUS_ACTIVE, REASON_TASK_STARTED, out);
		return false;
	case TASK_STATUS_FAILED:
		if (too_many_failed(after))
			return change(job, JOB_STATUS_FAILED,
			    REASON_TOO_MANY_FAILED, out);
		if (pause_complete(job, after))
			return change(
			    job, JOB_STATUS_PAUSED, REASON_PAUSED, out);
		if (job == JOB_STATUS_QUEUED)
			return change(
			    job, JOB_STATUS_ACTIVE, REASON_TASK_STARTED, out);
		return false;
	case TASK_STATUS_CANCELED:
		if (after->n[TASK_STATUS_ACTIVE] == 0 &&
		    after->n[TASK_STATUS_QUEUED] == 0 &&
		    after->n[TASK_STATUS_SOFT_FAILED] == 0)
			return change(
			    job, JOB_STATUS_CANCELED, REASON_ALL_CANCELED, out);
		if (pause_complete(job, after))
			return change(
			    job, JOB_STATUS_PAUSED, REASON_PAUSED, out);
		return false;
	case TASK_STATUS_PAUSED:
		if (pause_complete(job, after))
			return change(
			    job, JOB_STATUS_PAUSED, REASON_PAUSED, out);
		return false;
	}
	FM_ASSERT(!"bad task status");
	return false;
}

void
state_job_cascade(
    enum job_status job_old, enum job_status job_new, struct job_cascade *out)
{
	const struct cascade_rule *r;

	FM_ASSERT((unsigned)job_new < JOB_STATUS_COUNT);
	r = &cascade_rules[job_new];
	out->job = job_new;
	out->from = r->from;
	out->to = r->to;
	out->activity = r->activity;
	out->reset_steps = r->reset_steps;
	out->followup = r->followup;

	if (job_new != JOB_STATUS_REQUEUEING)
		return;
	if (job_old == JOB_STATUS_UNDER_CONSTRUCTION) {
		/* Nothing to requeue yet; the job stays requeueing. */
		out->from = 0;
		out->reset_steps = false;
		out->followup = JOB_FOLLOWUP_NONE;
	} else if (job_old == JOB_STATUS_COMPLETED) {
		out->from = STATE_TASK_SET_ALL;
	}
}

bool
state_job_followup(const struct job_cascade *c, const struct task_counts *after,
    struct job_change *out)
{
	switch (c->followup) {
	case JOB_FOLLOWUP_NONE:
		return false;
	case JOB_FOLLOWUP_CANCELED:
		return change(
		    c->job, JOB_STATUS_CANCELED, REASON_CASCADE_CANCEL, out);
	case JOB_FOLLOWUP_PAUSED_IF_IDLE:
		if (after->n[TASK_STATUS_ACTIVE] != 0)
			return false;
		return change(c->job, JOB_STATUS_PAUSED, REASON_PAUSED, out);
	case JOB_FOLLOWUP_QUEUED:
		return change(c->job, JOB_STATUS_QUEUED, REASON_REQUEUED, out);
	case JOB_FOLLOWUP_COMPLETED_IF_DONE:
		if (after->n[TASK_STATUS_COMPLETED] != after->total)
			return false;
		return change(
		    c->job, JOB_STATUS_COMPLETED, REASON_ALL_COMPLETED, out);
	}
	FM_ASSERT(!"bad follow-up");
	return false;
}

bool
state_job_status_reapply_at_startup(enum job_status s)
{
	FM_ASSERT((unsigned)s < JOB_STATUS_COUNT);
	return cascade_rules[s].reapply;
}

enum task_status
state_requeue_task_status(enum job_status job)
{
	switch (job) {
	case JOB_STATUS_PAUSE_REQUESTED:
	case JOB_STATUS_PAUSED:
		return TASK_STATUS_PAUSED;
	case JOB_STATUS_ACTIVE:
	case JOB_STATUS_CANCELED:
	case JOB_STATUS_COMPLETED:
	case JOB_STATUS_FAILED:
	case JOB_STATUS_QUEUED:
	case JOB_STATUS_CANCEL_REQUESTED:
	case JOB_STATUS_REQUEUEING:
	case JOB_STATUS_UNDER_CONSTRUCTION:
		return TASK_STATUS_QUEUED;
	}
	FM_ASSERT(!"bad job status");
	return TASK_STATUS_QUEUED;
}

void
state_task_failure(const struct failure_input *in, struct failure_verdict *out)
{
	/* Step 2; "+ 1" is Flamenco's double count of the current task. */
	out->blocklist =
	    in->worker_type_failures + 1 >= in->blocklist_threshold;
	out->requeue_blocked = false;
	if (out->blocklist) {
		if (in->eligible_others <= 0) {
			out->outcome = FAILURE_FAIL_JOB;
			return;
		}
		out->requeue_blocked = true;
	}
	/* Steps 3-5. */
	if (in->num_failed >= in->fail_after)
		out->outcome = FAILURE_HARD_FAIL;
	else if (in->eligible_others <= 0)
		out->outcome = FAILURE_FAIL_JOB;
	else
		out->outcome = FAILURE_SOFT_FAIL;
}

bool
state_task_status_worker_may_send(enum task_status s)
{
	switch (s) {
	case TASK_STATUS_SOFT_FAILED:
		return false;
	case TASK_STATUS_ACTIVE:
	case TASK_STATUS_CANCELED:
	case TASK_STATUS_COMPLETED:
	case TASK_STATUS_FAILED:
	case TASK_STATUS_QUEUED:
	case TASK_STATUS_PAUSED:
		return true;
	}
	FM_ASSERT(!"bad task status");
	return false;
}

bool
state_task_status_schedulable(enum task_status s)
{
	switch (s) {
	case TASK_STATUS_QUEUED:
	case TASK_STATUS_SOFT_FAILED:
		return true;
	case TASK_STATUS_ACTIVE:
	case TASK_STATUS_CANCELED:
	case TASK_STATUS_COMPLETED:
	case TASK_STATUS_FAILED:
	case TASK_STATUS_PAUSED:
		return false;
	}
	FM_ASSERT(!"bad task status");
	return false;
}

bool
state_job_status_runnable(enum job_status s)
{
	switch (s) {
	case JOB_STATUS_ACTIVE:
	case JOB_STATUS_QUEUED:
		return true;
	case JOB_STATUS_CANCELED:
	case JOB_STATUS_COMPLETED:
	case JOB_STATUS_FAILED:
	case JOB_STATUS_PAUSED:
	case JOB_STATUS_PAUSE_REQUESTED:
	case JOB_STATUS_CANCEL_REQUESTED:
	case JOB_STATUS_REQUEUEING:
	case JOB_STATUS_UNDER_CONSTRUCTION:
		return false;
	}
	FM_ASSERT(!"bad job status");
	return false;
}

enum farm_status
state_farm_status(const struct farm_counts *c)
{
	const int *w = c->workers, *j = c->jobs;
	int total = 0, down, i;

	for (i = 0; i < WORKER_STATUS_COUNT; i++)
		total += w[i];
	down = w[WORKER_STATUS_OFFLINE] + w[WORKER_STATUS_ERROR];
	if (total == 0 || down == total)
		return FARM_STATUS_INOPERATIVE;
	if (j[JOB_STATUS_ACTIVE] > 0 && w[WORKER_STATUS_AWAKE] > 0)
		return FARM_STATUS_ACTIVE;
	if (j[JOB_STATUS_ACTIVE] > 0 || j[JOB_STATUS_QUEUED] > 0)
		return FARM_STATUS_WAITING;
	if (w[WORKER_STATUS_AWAKE] == 0 && w[WORKER_STATUS_ASLEEP] > 0)
		return FARM_STATUS_ASLEEP;
	return FARM_STATUS_IDLE;
}

/* Two-letter day names, indexed by tm_wday. */
static const char day_names[7][3] = {
	"su",
	"mo",
	"tu",
	"we",
	"th",
	"fr",
	"sa",
};

static bool
is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
	    ch == '\v' || ch == '\f';
}

/*
 * Normalise days_of_week into buf (STATE_SLEEP_DAYS_MAX) and its day
 * mask. Returns static error text, or NULL on success.
 */
static const char *
parse_days(const char *s, char *buf, unsigned *mask_out)
{
	size_t n = 0, wlen, k;
	unsigned mask = 0;
	char word[2];
	int d;

	while (*s != '\0') {
		if (is_space(*s)) {
			s++;
			continue;
		}
		for (wlen = 0; s[wlen] != '\0' && !is_space(s[wlen]); wlen++)
			if (s[wlen] < 0x21 || s[wlen] > 0x7e)
				return "days_of_week must be ASCII day names";
		for (k = 0; k < wlen && k < 2; k++)
			word[k] = (s[k] >= 'A' && s[k] <= 'Z')
			    ? (char)(s[k] - 'A' + 'a')
			    : s[k];
		s += wlen;
		/* separator + word + the final NUL */
		if (n + (n > 0) + k + 1 > STATE_SLEEP_DAYS_MAX)
			return "days_of_week is too long";
		if (n > 0)
			buf[n++] = ' ';
		memcpy(buf + n, word, k);
		n += k;
		for (d = 0; d < 7; d++)
			if (k == 2 && memcmp(word, day_names[d], 2) == 0)
				mask |= 1u << d;
	}
	buf[n] = '\0';
	*mask_out = mask;
	return NULL;
}

static bool
is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/*
 * Parse "H:MM" / "HH:MM" (surrounding blanks ignored; "" = unset, -1)
 * into minutes since midnight. Returns false for anything else.
 */
static bool
parse_time(const char *s, int *min_out)
{
	size_t len;
	int h, m;

	while (is_space(*s))
		s++;
	len = strlen(s);
	while (len > 0 && is_space(s[len - 1]))
		len--;
	if (len == 0) {
		*min_out = -1;
		return true;
	}
	if (len == 4 && is_digit(s[0]) && s[1] == ':' && is_digit(s[2]) &&
	    is_digit(s[3])) {
		h = s[0] - '0';
		m = (s[2] - '0') * 10 + (s[3] - '0');
	} else if (len == 5 && is_digit(s[0]) && is_digit(s[1]) &&
	    s[2] == ':' && is_digit(s[3]) && is_digit(s[4])) {
		h = (s[0] - '0') * 10 + (s[1] - '0');
		m = (s[3] - '0') * 10 + (s[4] - '0');
	} else {
		return false;
	}
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return false;
	*min_out = h * 60 + m;
	return true;
}

enum fm_err
state_sleep_parse(bool is_active, const char *days, const char *start_time,
    const char *end_time, struct sleep_schedule *out, const char **why_out)
{
	struct sleep_schedule s;
	const char *why;
	int tmp;

	memset(&s, 0, sizeof(s));
	s.is_active = is_active;
	if (days == NULL || start_time == NULL || end_time == NULL) {
		why = "missing sleep schedule field";
		goto fail;
	}
	if ((why = parse_days(days, s.days, &s.day_mask)) != NULL)
		goto fail;
	if (!parse_time(start_time, &s.start)) {
		why = "invalid start_time, expected HH:MM";
		goto fail;
	}
	if (!parse_time(end_time, &s.end)) {
		why = "invalid end_time, expected HH:MM";
		goto fail;
	}
	if (s.start >= 0 && s.end >= 0 && s.end < s.start) {
		tmp = s.start;
		s.start = s.end;
		s.end = tmp;
	}
	*out = s;
	return FM_OK;
fail:
	if (why_out != NULL)
		*why_out = why;
	return FM_ERR_INVALID;
}

void
state_sleep_time_format(int minutes, char buf[STATE_SLEEP_TIME_MAX])
{
	if (minutes < 0 || minutes > 24 * 60) {
		buf[0] = '\0';
		return;
	}
	buf[0] = (char)('0' + minutes / 600);
	buf[1] = (char)('0' + minutes / 60 % 10);
	buf[2] = ':';
	buf[3] = (char)('0' + minutes % 60 / 10);
	buf[4] = (char)('0' + minutes % 10);
	buf[5] = '\0';
}

enum worker_status
state_sleep_verdict(const struct sleep_schedule *s, int wday, int sec)
{
	FM_ASSERT(wday >= 0 && wday < 7);
	if (!s->is_active)
		return WORKER_STATUS_AWAKE;
	if (s->days[0] != '\0' && (s->day_mask & (1u << wday)) == 0)
		return WORKER_STATUS_AWAKE;
	if (s->start >= 0 && sec < s->start * 60)
		return WORKER_STATUS_AWAKE;
	if (s->end >= 0 && sec >= s->end * 60)
		return WORKER_STATUS_AWAKE;
	return WORKER_STATUS_ASLEEP;
}

int
state_sleep_next_check(const struct sleep_schedule *s, int sec)
{
	int next = STATE_DAY_SECONDS;

	/* Tomorrow's start or end is never before the next midnight. */
	if (s->start >= 0 && s->start * 60 > sec && s->start * 60 < next)
		next = s->start * 60;
	if (s->end >= 0 && s->end * 60 > sec && s->end * 60 < next)
		next = s->end * 60;
	return next;
}

int
state_fmt_job_activity(
    char *buf, size_t len, enum job_status status, const char *reason)
{
	return snprintf(buf, len, "Changed to status \"%s\": %s",
	    state_job_status_name(status), reason);
}

int
state_fmt_task_change_log(
    char *buf, size_t len, enum task_status old, enum task_status new_status)
{
	return snprintf(buf, len, "task changed status %s -> %s",
	    state_task_status_name(old), state_task_status_name(new_status));
}

int
state_fmt_requeue_activity(
    char *buf, size_t len, enum task_status s, const char *reason)
{
	return snprintf(buf, len, "Task was %s by Manager because %s",
	    state_task_status_name(s), reason);
}

int
state_fmt_failure_log(char *buf, size_t len, const struct failure_input *in,
    const struct failure_verdict *v, const char *task_type)
{
	const char *workers = in->num_failed == 1 ? "worker" : "workers";
	int more;

	switch (v->outcome) {
	case FAILURE_HARD_FAIL:
		return snprintf(buf, len,
		    "Task failed by %d %s, Manager will mark it as hard failure",
		    in->num_failed, workers);
	case FAILURE_FAIL_JOB:
		return snprintf(buf, len,
		    "Task failed by %d %s, Manager will mark it as hard failure and fail the job: no more workers left to run tasks of type \"%s\"",
		    in->num_failed, workers, task_type);
	case FAILURE_SOFT_FAIL:
		more = in->fail_after - in->num_failed;
		return snprintf(buf, len,
		    "Task failed by %d %s, Manager will mark it as soft failure. %d more %s will cause hard failure.",
		    in->num_failed, workers, more,
		    more == 1 ? "failure" : "failures");
	}
	FM_ASSERT(!"bad failure outcome");
	return -1;
}

int
state_fmt_no_workers_reason(char *buf, size_t len, const char *task_type)
{
	return snprintf(buf, len,
	    "no more workers left to run tasks of type \"%s\"", task_type);
}

int
state_fmt_blocklist_reason(
    char *buf, size_t len, const char *worker_name, const char *task_type)
{
	return snprintf(buf, len,
	    "worker %s was blocked from tasks of type \"%s\"", worker_name,
	    task_type);
}
