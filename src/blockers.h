/*
 * "Why is this task not running?": every reason a queued task is not
 * handed out now, computed on demand from the same rules the scheduler
 * applies (scheduler.c): task and job status, unfinished dependencies in
 * and across jobs, task type support, worker tags, failure lists, the
 * job blocklist, and which awake workers are free. Nothing here is kept
 * up to date on changes; each answer reads the store once.
 */
#ifndef FM_BLOCKERS_H
#define FM_BLOCKERS_H

#include <jansson.h>

#include "fm.h"

struct store_conn;

/*
 * {"task", "job", "task_status", "task_type", "blocked": bool,
 * "reasons": [{"code", "message", ...details}]} (new) for the task with
 * this UUID; FM_ERR_NOTFOUND when unknown. When nothing blocks the task
 * the one reason says where it stands in line.
 */
FM_MUST_CHECK enum fm_err blockers_task(
    struct store_conn *conn, const char *task_uuid, json_t **out);

/*
 * The job's reasons: {"job", "job_status", "blocked", "counts": {queued,
 * ready, waiting}, "reasons": [...], "task_types": [{"task_type", "task",
 * "blocked", "reasons"}]} (new), one representative task per task type
 * with queued work; FM_ERR_NOTFOUND when unknown.
 */
FM_MUST_CHECK enum fm_err blockers_job(
    struct store_conn *conn, const char *job_uuid, json_t **out);

#endif
