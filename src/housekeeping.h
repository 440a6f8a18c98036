/*
 * The housekeeping thread: periodic duties (task and worker timeouts,
 * sleep schedules, the job deleter) run from one table, like a cron
 * inside the Manager.
 */
#ifndef FM_HOUSEKEEPING_H
#define FM_HOUSEKEEPING_H

#include "fm.h"

struct fm_ctx;
struct housekeeping;

/* Start the thread; ctx is borrowed and must outlive it. */
struct housekeeping *housekeeping_start(struct fm_ctx *ctx);

/* Stop and join; NULL-safe. */
void housekeeping_stop(struct housekeeping *hk);

/* The duty names housekeeping_wake() takes. */
#define HOUSEKEEPING_JOB_DELETER "job-deleter"

/*
 * Run the named duty as soon as possible (e.g. the job deleter right after
 * a deletion request), from any thread. A no-op while housekeeping is not
 * running: its first runs catch up then. Callers must not race
 * housekeeping_stop() (the HTTP server stops first).
 */
void housekeeping_wake(struct fm_ctx *ctx, const char *duty);

/* Run the timeout checks once, now (tests and the thread use it). */
FM_MUST_CHECK enum fm_err housekeeping_check_timeouts(struct fm_ctx *ctx);

#endif
