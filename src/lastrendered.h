/*
 * Last-rendered images (taskOutputProduced, fetchJobLastRenderedInfo):
 * uploads wait in a small bounded queue, off the request path, and one
 * thread turns each into three JPEG thumbnails in the job's storage
 * directory, then marks the job as the farm's last-rendered one.
 */
#ifndef FM_LASTRENDERED_H
#define FM_LASTRENDERED_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "fm.h"

struct fm_ctx;
struct lastrendered;

/* Images waiting besides the one being worked on; more are refused (429). */
#define LASTRENDERED_QUEUE 3

/* JPEG quality of the thumbnails. */
#define LASTRENDERED_QUALITY 85

/* Start the thread; ctx is borrowed and must outlive it. */
struct lastrendered *lastrendered_start(struct fm_ctx *ctx);

/*
 * Finish the image being worked on, drop the queued ones and join the
 * thread; NULL-safe. Callers must not race lastrendered_submit() with it
 * (the HTTP server stops first).
 */
void lastrendered_stop(struct lastrendered *lr);

/*
 * Queue a copy of an uploaded image (data, len: borrowed) from the task
 * task_uuid of job job_id/job_uuid. The image should have passed
 * thumbnail_probe(); a bad one is only logged by the thread. FM_ERR_BUSY
 * when LASTRENDERED_QUEUE images already wait. Thread-safe.
 */
FM_MUST_CHECK enum fm_err lastrendered_submit(struct lastrendered *lr,
    int64_t job_id, const char *job_uuid, const char *task_uuid,
    const void *data, size_t len);

/* Wait until no image is queued or being worked on (tests). */
void lastrendered_drain(struct lastrendered *lr);

/*
 * {"base": "/job-files/job-xxxx/<job>", "suffixes": [the three file
 * names]} for the job's thumbnails (new), or NULL until the smallest,
 * written last, exists: the answer of fetchJobLastRenderedInfo.
 */
json_t *lastrendered_info(const char *root, const char *job_uuid);

#endif
