/*
 * The background job deleter (a housekeeping duty behind deleteJob): jobs whose
 * deletion was requested lose their local storage directory, then their
 * rows. Tasks go in short batches so deleting a huge job never holds the
 * store's write lock for long.
 */
#ifndef FM_JOB_DELETER_H
#define FM_JOB_DELETER_H

#include "fm.h"

struct fm_ctx;

/* Tasks deleted per write transaction: small enough that a worker update
 * waiting for the write lock waits a few milliseconds at most. */
#define JOB_DELETER_BATCH 500

/*
 * Delete every deletion-requested job. After about a second of work with
 * jobs still waiting it asks housekeeping to run it again at once and
 * returns, so a long backlog never delays shutdown much. A job whose
 * storage cannot be removed is skipped (logged) and retried next run.
 * Runs on the housekeeping thread; safe beside request handlers.
 */
FM_MUST_CHECK enum fm_err job_deleter_run(struct fm_ctx *ctx);

#endif
