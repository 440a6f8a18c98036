/*
 * The farm admin's view of workers (fetchWorkers, fetchWorker): listings in the
 * API's WorkerSummary and Worker shapes, soft deletion, tag memberships and
 * sleep schedules, including applying a schedule's verdict
 * on save and from the housekeeping duty.
 */
#ifndef FM_STORE_WORKER_MGT_H
#define FM_STORE_WORKER_MGT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "fm.h"

struct store;
struct store_conn;
struct worker;
struct sleep_schedule;

/* {"workers": [WorkerSummary...]} of the non-deleted workers (new). */
FM_MUST_CHECK enum fm_err store_worker_mgt_list(
    struct store_conn *conn, json_t **list_out);

/*
 * The Worker JSON of a non-deleted worker (new): its summary, address,
 * platform, task types, current or last task and tags.
 * FM_ERR_NOTFOUND when unknown or deleted.
 */
FM_MUST_CHECK enum fm_err store_worker_mgt_get(
    struct store_conn *conn, const char *uuid, json_t **worker_out);

/*
 * Load a non-deleted worker by UUID into *w_out (worker_clear() it).
 * FM_ERR_NOTFOUND when unknown or deleted.
 */
FM_MUST_CHECK enum fm_err store_worker_mgt_find(
    struct store_conn *conn, const char *uuid, struct worker *w_out);

/* Soft-delete: set deleted_at. The caller requeues its tasks first. */
FM_MUST_CHECK enum fm_err store_worker_mgt_delete(
    struct store_conn *conn, int64_t worker_id);

/*
 * Replace the worker's tag memberships with the tags named in tag_uuids
 * (borrowed array of UUID strings); unknown tags are ignored.
 */
FM_MUST_CHECK enum fm_err store_worker_mgt_set_tags(
    struct store_conn *conn, int64_t worker_id, const json_t *tag_uuids);

/*
 * The stored schedule of the non-deleted worker with this UUID.
 * *found_out is false when there is none (or no such worker); *out is
 * then untouched.
 */
FM_MUST_CHECK enum fm_err store_worker_mgt_schedule_get(struct store_conn *conn,
    const char *uuid, struct sleep_schedule *out, bool *found_out);

/*
 * Save the worker's (already normalised) schedule and apply it at time
 * now: when the verdict differs from the worker's status, a non-lazy
 * request for it is stored (not for workers in "error"), and next_check
 * is set. Runs in the caller's write transaction.
 */
FM_MUST_CHECK enum fm_err store_worker_mgt_schedule_set(struct store_conn *conn,
    const struct worker *w, const struct sleep_schedule *s, time_t now);

/*
 * The housekeeping duty: apply every active schedule whose next_check is
 * due at time now, each in the same way as on save. Opens its own write
 * transaction on a connection of store.
 */
FM_MUST_CHECK enum fm_err store_worker_mgt_check_schedules(
    struct store *store, time_t now);

#endif
