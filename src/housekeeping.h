/*
 * The housekeeping thread: periodic duties (task and worker timeouts,
 * sleep schedules, the job deleter) run from one table, like a cron
 * inside the Manager.
 */
#ifndef FM_HOUSEKEEPING_H
#define FM_HOUSEKEEPING_H

#include <stdint.h>

#include "fm.h"

struct fm_config;
struct fm_ctx;
struct housekeeping;

/* Start the thread; ctx is borrowed and must outlive it. */
struct housekeeping *housekeeping_start(struct fm_ctx *ctx);

/* Stop and join; NULL-safe. */
void housekeeping_stop(struct housekeeping *hk);

/* The duty names housekeeping_wake() takes. */
#define HOUSEKEEPING_JOB_DELETER "job-deleter"
#define HOUSEKEEPING_SHAMAN_GC   "shaman-gc"

/*
 * Run the named duty as soon as possible (e.g. the job deleter right after
 * a deletion request), from any thread. A no-op while housekeeping is not
 * running: its first runs catch up then. Callers must not race
 * housekeeping_stop() (the HTTP server stops first).
 */
void housekeeping_wake(struct fm_ctx *ctx, const char *duty);

/*
 * The first timeout check waits this long after start-up: five
 * worker_timeouts, at most HOUSEKEEPING_TIMEOUT_GRACE_MAX_US (so 5
 * minutes with the default 1m, as Flamenco). A restart makes every idle
 * Worker's next request fail, and a Worker waits about a minute (60 s
 * +-10%) after a failed request; judged after only one worker_timeout,
 * such a healthy Worker would be declared dead. A shorter worker_timeout
 * asks for faster detection and shortens the grace with it; a worker
 * that times out anyway recovers by itself when it shows up again (see
 * housekeeping.c).
 */
#define HOUSEKEEPING_TIMEOUT_GRACE_MAX_US (5 * 60 * 1000000LL)
int64_t housekeeping_timeout_grace_us(const struct fm_config *cfg);

/* Run the timeout checks once, now (tests and the thread use it). */
FM_MUST_CHECK enum fm_err housekeeping_check_timeouts(struct fm_ctx *ctx);

#endif
