/*
 * Task queries for the admin API: a job's task summaries and one task in
 * full (fetchJobTasks, fetchTask).
 */
#ifndef FM_STORE_TASKS_H
#define FM_STORE_TASKS_H

#include <jansson.h>

#include "fm.h"

struct store_conn;

/* {"tasks": [TaskSummary...]} in index_in_job order; empty when the job
 * is unknown. */
FM_MUST_CHECK enum fm_err store_tasks_of_job(
    struct store_conn *conn, const char *job_uuid, json_t **tasks_out);

/* The Task JSON of fetchTask plus "dependencies" (task UUIDs);
 * FM_ERR_NOTFOUND when unknown. */
FM_MUST_CHECK enum fm_err store_tasks_get(
    struct store_conn *conn, const char *uuid, json_t **task_out);

#endif
