/*
 * The status-change hook: every job and task status change the state
 * machine makes is announced here, inside its transaction. Today it logs at
 * debug level; live updates (SSE, MQTT) attach behind this interface without
 * touching the callers.
 */
#ifndef FM_EVENTS_H
#define FM_EVENTS_H

void events_job_status(
    const char *job_uuid, const char *old_status, const char *new_status);
void events_task_status(const char *job_uuid, const char *task_uuid,
    const char *old_status, const char *new_status);
void events_worker_status(
    const char *worker_uuid, const char *old_status, const char *new_status);

#endif
