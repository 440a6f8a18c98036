/*
 * Task log files under local_manager_storage_path, laid out as Flamenco
 * does, so fetchTaskLogInfo URLs match: job-<first 4 of job UUID>/<job
 * UUID>/task-<task UUID>.txt, append-only. Lines the Manager writes start with
 * the local time in RFC 3339.
 */
#ifndef FM_TASKLOG_H
#define FM_TASKLOG_H

#include <stddef.h>

#include "fm.h"

/* "<root>/job-xxxx/<job uuid>" (new). */
char *tasklog_job_dir(const char *root, const char *job_uuid);

/* The log path relative to root: "job-xxxx/<job>/task-<task>.txt" (new). */
char *tasklog_relpath(const char *job_uuid, const char *task_uuid);

/* Append text as a worker sent it, adding a final newline if missing. */
FM_MUST_CHECK enum fm_err tasklog_append(const char *root, const char *job_uuid,
    const char *task_uuid, const char *text, size_t len);

/* Append "<local RFC 3339 time> <formatted text>\n". */
enum fm_err tasklog_printf(const char *root, const char *job_uuid,
    const char *task_uuid, const char *fmt, ...) FM_PRINTF(4, 5);

#endif
