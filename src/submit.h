/*
 * Job submission, independent of HTTP: validate a SubmittedJob (the
 * submitJob operation), apply two-way variables, run the job type's compileJob
 * and shape the result for the store. Used by POST /jobs, /jobs/check,
 * /jobs/explain and by "flamenco-manager compile".
 */
#ifndef FM_SUBMIT_H
#define FM_SUBMIT_H

#include <jansson.h>

#include "fm.h"

struct fm_ctx;
struct store_conn;

/*
 * Limits on what a submission (and the job its script leaves) may hold,
 * refused with 400 naming the field (README, "Limits"). NUL characters
 * are refused in every field of the job itself; only command parameters
 * authored by the script keep them (see jsenv_compile).
 */
#define SUBMIT_MAX_NAME_BYTES     1024 /* name, type, platform, ids */
#define SUBMIT_MAX_METADATA       256  /* metadata entries */
#define SUBMIT_MAX_METADATA_BYTES 4096 /* each metadata key and value */
#define SUBMIT_MAX_SETTINGS_BYTES ((size_t)1024 * 1024) /* as JSON text */

/*
 * Compile submitted (borrowed). conn may be NULL (no worker-tag lookup,
 * for the offline compiler). On success *job_out is the store-ready job
 * of store_jobs_insert() (new). On failure *msg_out says why (new) and the
 * result is FM_ERR_INVALID (400), FM_ERR_STALE (412), FM_ERR_JS (400, the
 * script's own message), FM_ERR_BUSY (503) or another error.
 */
FM_MUST_CHECK enum fm_err submit_compile(struct fm_ctx *ctx,
    struct store_conn *conn, const json_t *submitted, json_t **job_out,
    char **msg_out);

/*
 * Write the embedded files of a job compiled from an OpenJD template to
 * shared storage (nothing for other jobs); call before storing it.
 * FM_ERR_IO with *msg_out (new) when they cannot be written.
 */
FM_MUST_CHECK enum fm_err submit_write_files(
    struct fm_ctx *ctx, const json_t *job, char **msg_out);

/* Undo submit_write_files when the job could not be stored. */
void submit_remove_files(struct fm_ctx *ctx, const json_t *job);

/*
 * What a compiled job will become, for /jobs/explain and the command
 * line: the job's fields and its tasks with dependencies given as
 * index_in_job numbers (new).
 */
json_t *submit_explain(const json_t *job);

#endif
