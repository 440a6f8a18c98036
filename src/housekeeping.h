/*
 * The housekeeping thread: periodic duties (task and worker timeouts
 * today) run from one table, like a cron inside the Manager.
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

/* Run the timeout checks once, now (tests and the thread use it). */
FM_MUST_CHECK enum fm_err housekeeping_check_timeouts(struct fm_ctx *ctx);

#endif
