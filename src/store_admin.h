/*
 * What the farm-admin endpoints change in the store beyond status changes
 * (those are store_status.h): job priority and tag, the job blocklist,
 * task failure lists, deletion requests, and the removal of a deleted
 * job's rows in short batches. Unless a function says otherwise it runs
 * inside the caller's transaction (a write one for the writes).
 */
#ifndef FM_STORE_ADMIN_H
#define FM_STORE_ADMIN_H

#include <jansson.h>
#include <stdint.h>

#include "fm.h"
#include "ids.h"

struct store_conn;

/* Row id of a job by UUID; FM_ERR_NOTFOUND when unknown. */
FM_MUST_CHECK enum fm_err store_admin_job_id(
    struct store_conn *conn, const char *uuid, int64_t *id_out);

/* Set the job's priority (the caller checked 0..100). */
FM_MUST_CHECK enum fm_err store_admin_set_priority(
    struct store_conn *conn, int64_t job_id, int priority);

/* Row id of a worker tag by name; FM_ERR_NOTFOUND when unknown. */
FM_MUST_CHECK enum fm_err store_admin_tag_by_name(
    struct store_conn *conn, const char *name, int64_t *id_out);

/* Tag the job with tag row tag_id, or untag it when tag_id is 0. */
FM_MUST_CHECK enum fm_err store_admin_set_tag(
    struct store_conn *conn, int64_t job_id, int64_t tag_id);

/* Empty the failure list of every task of the job and its blocklist. */
FM_MUST_CHECK enum fm_err store_admin_clear_job_failures(
    struct store_conn *conn, int64_t job_id);

/* Empty one task's failure list. */
FM_MUST_CHECK enum fm_err store_admin_clear_task_failures(
    struct store_conn *conn, int64_t task_id);

/*
 * The job's blocklist, [{"worker_id","task_type","worker_name"}] sorted
 * by worker name then task type. *list_out is new.
 */
FM_MUST_CHECK enum fm_err store_admin_blocklist(
    struct store_conn *conn, int64_t job_id, json_t **list_out);

/* Remove one blocklist entry; an entry that does not exist is no error. */
FM_MUST_CHECK enum fm_err store_admin_blocklist_remove(struct store_conn *conn,
    int64_t job_id, const char *worker_uuid, const char *task_type);

/* Mark the job for deletion: delete_requested_at = updated_at = now. */
FM_MUST_CHECK enum fm_err store_admin_request_deletion(
    struct store_conn *conn, int64_t job_id);

/*
 * Mark every job with updated_at <= updated_max_us for deletion;
 * *count_out gets how many were marked.
 */
FM_MUST_CHECK enum fm_err store_admin_request_mass_deletion(
    struct store_conn *conn, int64_t updated_max_us, int *count_out);

/*
 * The deletion-requested job with the lowest row id above after_id, for
 * the deleter to walk them; FM_ERR_NOTFOUND when there is none. Needs no
 * transaction.
 */
FM_MUST_CHECK enum fm_err store_admin_next_deletion(struct store_conn *conn,
    int64_t after_id, int64_t *id_out, char uuid_out[ID_UUID_LEN + 1]);

/*
 * Delete up to batch of the job's tasks (highest index_in_job first),
 * taking them off job_task_counts in the same step so the counts stay
 * true while the job shrinks. Their dependencies and failure records go
 * with them (foreign-key cascades). *deleted_out gets how many went; 0
 * means the job has no tasks left. Run each batch in its own short write
 * transaction so other writers get the lock in between.
 */
FM_MUST_CHECK enum fm_err store_admin_delete_tasks(
    struct store_conn *conn, int64_t job_id, int batch, int *deleted_out);

/*
 * Delete a deletion-requested job's row; what is left of it cascades
 * (tasks, counts, blocklist, last-rendered). A job without a deletion
 * request is left alone.
 */
FM_MUST_CHECK enum fm_err store_admin_delete_job(
    struct store_conn *conn, int64_t job_id);

/*
 * Make job_id the farm's last-rendered job. FM_ERR_NOTFOUND when the job
 * is gone or its deletion was requested: its images are not wanted.
 */
FM_MUST_CHECK enum fm_err store_admin_set_last_rendered(
    struct store_conn *conn, int64_t job_id);

/* UUID of the job with the latest rendered image; FM_ERR_NOTFOUND if none. */
FM_MUST_CHECK enum fm_err store_admin_last_rendered(
    struct store_conn *conn, char uuid_out[ID_UUID_LEN + 1]);

#endif
