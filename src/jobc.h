/*
 * The job compiler pool: N JavaScript heaps, each loaded once at start-up
 * and lent to one request at a time. A caller borrows a heap (waiting up
 * to a deadline when all are busy), runs a job-type script on it and gives
 * it back; a heap that broke is replaced before it is lent again. Knows
 * nothing of Duktape internals: jsenv.h does the JavaScript.
 */
#ifndef FM_JOBC_H
#define FM_JOBC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "fm.h"

struct jobc;

struct jobc_options {
	int heaps;             /* number of heaps, >= 1 */
	size_t heap_max_bytes; /* memory cap per heap */
	int64_t timeout_us;    /* run-time cap per script call */
	size_t max_tasks;      /* tasks per job; 0: jsenv's default */
	int64_t wait_us;       /* longest wait for a free heap */
};

/* Create the pool; heaps are loaded in parallel. */
FM_MUST_CHECK enum fm_err jobc_new(
    const struct jobc_options *opts, struct jobc **jobc_out, char **err_out);

/* NULL-safe; no heap may be borrowed. */
void jobc_free(struct jobc *jobc);

/*
 * Down-level a script's modern JavaScript to what the heaps run (see
 * jsenv_transpile). Thread-safe; slow the first time.
 */
FM_MUST_CHECK enum fm_err jobc_transpile(struct jobc *jobc, const char *src,
    const char *filename, char **es5_out, char **err_out);

/* Run a script and return its JOB_TYPE object (new). */
FM_MUST_CHECK enum fm_err jobc_describe(struct jobc *jobc, const char *es5,
    const char *filename, json_t **jobtype_out, char **err_out);

/*
 * Run compileJob(job) for job_in (borrowed); see jsenv_compile for the
 * shapes. FM_ERR_BUSY when no heap became free in time.
 */
FM_MUST_CHECK enum fm_err jobc_compile(struct jobc *jobc, const char *es5,
    const char *filename, json_t *job_in, json_t **job_out, char **err_out);

#endif
