/*
 * Jobs in the store: storing a compiled job with its tasks and
 * dependencies in one transaction, and reading jobs back in the shapes of
 * the API (fetchJob, fetchJobs).
 */
#ifndef FM_STORE_JOBS_H
#define FM_STORE_JOBS_H

#include <jansson.h>
#include <stdint.h>

#include "fm.h"

struct store_conn;

/*
 * Store a compiled job in one transaction (nothing is stored on failure).
 * job (borrowed) has: "id" (uuid), "name", "type", "priority", "status",
 * "settings", "metadata", "storage_shaman_checkout_id" (string, may be
 * absent), "worker_tag_id" (integer row id, may be absent), "created"
 * (epoch microseconds) and "tasks": [{"uuid", "name", "type", "priority",
 * "commands": [{"name","parameters","total_step_count"}],
 * "dependencies": ["<uuid of an earlier or later task of the job>"]}].
 * A dependency on a uuid not among the tasks is FM_ERR_INVALID. Optional
 * "depends_on" (jobs it waits for, see jobdeps.h) and "dependency_overlap"
 * (true: overlap mode) are stored with it; an upstream job gone since the
 * submission was checked is FM_ERR_CONFLICT.
 */
FM_MUST_CHECK enum fm_err store_jobs_insert(
    struct store_conn *conn, const json_t *job);

/* store_jobs_insert(), and on FM_ERR_CONFLICT *msg_out (new, else NULL)
 * names the dependency refused and why. */
FM_MUST_CHECK enum fm_err store_jobs_insert_why(
    struct store_conn *conn, const json_t *job, char **msg_out);

/*
 * The Job JSON of fetchJob plus "task_counts": {"<task status>": n} for
 * every task status (from job_task_counts); FM_ERR_NOTFOUND when unknown.
 * *job_out is new.
 */
FM_MUST_CHECK enum fm_err store_jobs_get(
    struct store_conn *conn, const char *uuid, json_t **job_out);

/* Which jobs store_jobs_list() returns; NULL strings match everything. */
struct store_jobs_filter {
	const char *statuses; /* comma-joined job statuses ("queued,active") */
	const char *type;     /* exact job type */
	const char *name;     /* case-insensitive substring of the name */
	int64_t limit;        /* at most this many; -1 = all */
	int64_t offset;       /* skip this many first */
};

/*
 * {"jobs": [Job...]} (each as store_jobs_get() gives it), newest first
 * (creation time, then row id). *jobs_out is new.
 */
FM_MUST_CHECK enum fm_err store_jobs_list(struct store_conn *conn,
    const struct store_jobs_filter *f, json_t **jobs_out);

/* Row id of a worker tag by UUID; FM_ERR_NOTFOUND when unknown. */
FM_MUST_CHECK enum fm_err store_jobs_tag_id(
    struct store_conn *conn, const char *tag_uuid, int64_t *id_out);

#endif
