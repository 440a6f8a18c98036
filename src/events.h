/*
 * The event hook: every job and task status change the state machine
 * makes is announced here, inside its transaction, and every new
 * last-rendered image once its files are written. Today it logs at debug
 * level; live updates (SSE, MQTT) attach behind this interface without
 * touching the callers.
 */
#ifndef FM_EVENTS_H
#define FM_EVENTS_H

#include <jansson.h>

void events_job_status(
    const char *job_uuid, const char *old_status, const char *new_status);
void events_task_status(const char *job_uuid, const char *task_uuid,
    const char *old_status, const char *new_status);
void events_worker_status(
    const char *worker_uuid, const char *old_status, const char *new_status);

/*
 * A job's last-rendered thumbnails were replaced by an image from the
 * task task_uuid, after the files are in place (no transaction open).
 * thumbnail (borrowed) is {"base", "suffixes"} as fetchJobLastRenderedInfo
 * answers; live updates publish it as EventLastRenderedUpdate {job_id,
 * thumbnail} to the job's and the farm's last-rendered listeners.
 */
void events_last_rendered(
    const char *job_uuid, const char *task_uuid, json_t *thumbnail);

#endif
