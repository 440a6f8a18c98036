/*
 * Task scheduling (scheduleTask): a worker's own active task first, then the
 * best runnable task it may take. Runs inside the caller's write
 * transaction, so no task is ever handed to two workers.
 */
#ifndef FM_SCHEDULER_H
#define FM_SCHEDULER_H

#include <jansson.h>

#include "fm.h"

struct status_ctx;
struct worker;

/*
 * Pick and assign a task to w; on success *assigned_out is the
 * AssignedTask JSON (new) with commands expanded for the worker's
 * platform. FM_ERR_NOTFOUND when there is nothing for it to do.
 */
FM_MUST_CHECK enum fm_err scheduler_assign(const struct status_ctx *ctx,
    const struct worker *w, json_t **assigned_out);

#endif
