/*
 * Status-change announcements. Kept deliberately thin: a subscriber
 * mechanism goes here when live events are built.
 */
#include "events.h"

#include "log.h"

void
events_job_status(
    const char *job_uuid, const char *old_status, const char *new_status)
{
	log_debug("job %s: %s -> %s", job_uuid, old_status, new_status);
}

void
events_task_status(const char *job_uuid, const char *task_uuid,
    const char *old_status, const char *new_status)
{
	log_debug("task %s of job %s: %s -> %s", task_uuid, job_uuid,
	    old_status, new_status);
}

void
events_worker_status(
    const char *worker_uuid, const char *old_status, const char *new_status)
{
	log_debug("worker %s: %s -> %s", worker_uuid, old_status, new_status);
}

void
events_last_rendered(
    const char *job_uuid, const char *task_uuid, json_t *thumbnail)
{
	log_debug("job %s: new last-rendered image from task %s under %s",
	    job_uuid, task_uuid,
	    json_string_value(json_object_get(thumbnail, "base")));
}
