/*
 * Deleting jobs for real: the storage directory first (so a failure
 * leaves the job visible and retried), then the tasks in batches of
 * JOB_DELETER_BATCH rows, one short write transaction each, then the job
 * row. With Shaman on, the job's checkout goes first (its links only;
 * the stored files stay for other jobs until garbage collection).
 */
#include "job_deleter.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "fsutil.h"
#include "housekeeping.h"
#include "ids.h"
#include "log.h"
#include "openjd_expand.h"
#include "shaman_checkout.h"
#include "store.h"
#include "store_admin.h"
#include "store_jobs.h"
#include "tasklog.h"
#include "timeutil.h"
#include "utf8.h"
#include "xmalloc.h"

/* Work this long per run before yielding to the housekeeping loop. */
#define JOB_DELETER_BUDGET_US 1000000
/* Pause between task batches, for other writers to take the lock. */
#define JOB_DELETER_PAUSE_US 5000

/*
 * rm -rf the job's directory (fs_remove_tree: symbolic links are removed,
 * never followed). The empty job-xxxx parent goes too.
 */
static enum fm_err
remove_job_dir(const char *root, const char *job_uuid)
{
	char *dir = tasklog_job_dir(root, job_uuid);
	char *parent = xasprintf("%s/job-%.4s", root, job_uuid);
	enum fm_err rc = FM_OK;

	rc = fs_remove_tree(dir);
	(void)rmdir(parent); /* fails while other jobs share it: fine */
	free(dir);
	free(parent);
	return rc;
}

/*
 * Remove the job's Shaman checkout, if Shaman is on and the job has one.
 * A checkout id that is no safe path under the checkouts directory is
 * left alone (logged): it cannot name a checkout this Manager made.
 */
static enum fm_err
remove_checkout(struct fm_ctx *ctx, struct store_conn *conn, const char *uuid)
{
	const char *checkout;
	json_t *job = NULL;
	enum fm_err rc;

	if (ctx->shaman == NULL)
		return FM_OK;
	if ((rc = store_jobs_get(conn, uuid, &job)) != FM_OK)
		return rc == FM_ERR_NOTFOUND ? FM_OK : rc;
	checkout = json_string_value(json_object_get(
	    json_object_get(job, "storage"), "shaman_checkout_id"));
	rc = checkout != NULL && checkout[0] != '\0'
	    ? shaman_checkout_remove(ctx->shaman, checkout)
	    : FM_OK;
	if (rc == FM_ERR_INVALID) {
		char shown[512];

		utf8_escape_log(checkout, shown, sizeof(shown));
		log_warn("job %s: Shaman checkout id \"%s\" is not a checkout "
		         "path; nothing removed",
		    uuid, shown);
		rc = FM_OK;
	}
	json_decref(job);
	return rc; /* FM_ERR_IO (logged): the deletion waits for a retry */
}

/* The tasks in batches, a write transaction each, then the job row. */
static enum fm_err
delete_rows(struct store_conn *conn, int64_t job_id, int64_t *tasks_out)
{
	static const struct timespec batch_pause = {
		.tv_nsec = JOB_DELETER_PAUSE_US * 1000L,
	};
	enum fm_err rc;
	int n;

	*tasks_out = 0;
	do {
		if ((rc = store_begin(conn, true)) != FM_OK)
			return rc;
		rc = store_admin_delete_tasks(
		    conn, job_id, JOB_DELETER_BATCH, &n);
		if (rc == FM_OK)
			rc = store_commit(conn);
		else
			store_rollback(conn);
		if (rc != FM_OK)
			return rc;
		*tasks_out += n;
		/* The write lock is a plain mutex: re-taking it at once would
		 * usually win again and starve the writers queued on it. */
		if (n > 0)
			nanosleep(&batch_pause, NULL);
	} while (n > 0);
	if ((rc = store_begin(conn, true)) != FM_OK)
		return rc;
	rc = store_admin_delete_job(conn, job_id);
	if (rc == FM_OK)
		rc = store_commit(conn);
	else
		store_rollback(conn);
	return rc;
}

static enum fm_err
delete_job(
    struct fm_ctx *ctx, struct store_conn *conn, int64_t id, const char *uuid)
{
	const char *root = ctx->cfg->local_manager_storage_path;
	int64_t t0 = time_mono_us(), ntasks;
	enum fm_err rc;

	if ((rc = remove_checkout(ctx, conn, uuid)) != FM_OK) {
		log_error("job %s: %s: %s; deletion postponed", uuid,
		    rc == FM_ERR_IO ? "its Shaman checkout was not removed"
		                    : "reading it failed",
		    fm_strerror(rc));
		return rc;
	}
	/* The UUID names a directory we rm -rf: be sure it is one. */
	if (ids_valid_uuid(uuid) &&
	    (remove_job_dir(root, uuid) != FM_OK ||
	        openjd_files_remove(config_storage_location(ctx->cfg), uuid) !=
	            FM_OK)) {
		log_error(
		    "job %s: storage not removed, deletion postponed", uuid);
		return FM_ERR_IO;
	}
	if ((rc = delete_rows(conn, id, &ntasks)) != FM_OK) {
		log_error("job %s: deleting its rows failed: %s", uuid,
		    fm_strerror(rc));
		return rc;
	}
	/* A task-log line written meanwhile recreated the directory. */
	if (ids_valid_uuid(uuid))
		(void)remove_job_dir(root, uuid);
	log_info("job %s deleted with %lld tasks in %lld ms", uuid,
	    (long long)ntasks, (long long)(time_mono_us() - t0) / 1000);
	return FM_OK;
}

enum fm_err
job_deleter_run(struct fm_ctx *ctx)
{
	struct store_conn *conn = store_acquire(ctx->store);
	int64_t after = 0, id, start = time_mono_us();
	char uuid[ID_UUID_LEN + 1];
	enum fm_err rc, first_err = FM_OK;

	for (;;) {
		rc = store_admin_next_deletion(conn, after, &id, uuid);
		if (rc == FM_ERR_NOTFOUND) {
			rc = FM_OK;
			break;
		}
		if (rc != FM_OK)
			break;
		if (time_mono_us() - start > JOB_DELETER_BUDGET_US) {
			housekeeping_wake(ctx, HOUSEKEEPING_JOB_DELETER);
			break;
		}
		/* One failing job must not block the others. */
		if ((rc = delete_job(ctx, conn, id, uuid)) != FM_OK &&
		    first_err == FM_OK)
			first_err = rc;
		after = id;
	}
	store_release(ctx->store, conn);
	return rc != FM_OK ? rc : first_err;
}
