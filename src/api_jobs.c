/*
 * Job endpoints the Blender add-on and admins use: job types, check,
 * submit, explain, and reading a job and its tasks back. The admin
 * actions on jobs live in api_jobs_admin.c, tasks in api_tasks.c.
 */
#include "api.h"

#include <jansson.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "http.h"
#include "ids.h"
#include "jobtypes.h"
#include "log.h"
#include "store.h"
#include "store_jobs.h"
#include "store_tasks.h"
#include "submit.h"
#include "timeutil.h"

#define TRIM_AFTER_TASKS 10000

/* Answer a submission failure with the status the add-on expects. */
static enum fm_err
reply_submit_error(struct req *req, enum fm_err rc, const char *msg)
{
	int status = fm_err_http_status(rc);

	if (rc == FM_ERR_BUSY)
		req_add_header(req, "Retry-After", "1");
	return http_reply_error(
	    req, status, "%s", msg != NULL ? msg : fm_strerror(rc));
}

static enum fm_err
get_job_types(struct req *req)
{
	struct fm_ctx *ctx = req_app(req);
	char *text;
	size_t len;
	enum fm_err rc;

	if ((rc = jobtypes_list_json(ctx->jobtypes, &text, &len)) != FM_OK)
		return rc;
	return http_reply_buffer(req, 200, "application/json", text, len);
}

static enum fm_err
get_job_type(struct req *req)
{
	struct fm_ctx *ctx = req_app(req);
	struct jobtype *type;
	enum fm_err rc;

	rc = jobtypes_get(ctx->jobtypes, req_param(req, "typeName"), &type);
	if (rc == FM_ERR_NOTFOUND)
		return http_reply_error(req, 404, "no such job type known");
	if (rc != FM_OK)
		return rc;
	rc = http_reply_json(req, 200, json_incref(type->info));
	jobtype_release(type);
	return rc;
}

/*
 * Compile the request body. On failure the reply has been sent and NULL
 * is returned; conn may be NULL when nothing will be stored.
 */
static json_t *
compile_body(struct req *req, struct store_conn *conn)
{
	struct fm_ctx *ctx = req_app(req);
	json_t *job = NULL;
	char *msg = NULL;
	enum fm_err rc;

	rc = submit_compile(ctx, conn, req_json(req), &job, &msg);
	if (rc != FM_OK) {
		log_info(
		    "job refused (%s): %s", fm_strerror(rc), msg ? msg : "");
		reply_submit_error(req, rc, msg);
	}
	free(msg);
	return job;
}

static enum fm_err
post_job_check(struct req *req)
{
	struct fm_ctx *ctx = req_app(req);
	struct store_conn *conn = store_acquire(ctx->store);
	json_t *job = compile_body(req, conn);

	store_release(ctx->store, conn);
	if (job == NULL)
		return FM_OK;
	json_decref(job);
	return http_reply_empty(req, 204);
}

static enum fm_err
post_job_explain(struct req *req)
{
	struct fm_ctx *ctx = req_app(req);
	struct store_conn *conn = store_acquire(ctx->store);
	json_t *job = compile_body(req, conn);
	json_t *explained;

	store_release(ctx->store, conn);
	if (job == NULL)
		return FM_OK;
	explained = submit_explain(job);
	json_decref(job);
	return http_reply_json(req, 200, explained);
}

static enum fm_err
post_job(struct req *req)
{
	struct fm_ctx *ctx = req_app(req);
	struct store_conn *conn;
	json_t *job, *stored = NULL;
	char *msg = NULL, *why = NULL;
	enum fm_err rc;

	int64_t t0 = time_mono_us(), t1;
	size_t ntasks;

	/* Compile without holding a connection: scripts can take a while. */
	conn = store_acquire(ctx->store);
	job = compile_body(req, conn);
	store_release(ctx->store, conn);
	if (job == NULL)
		return FM_OK;
	t1 = time_mono_us();
	/* A template's embedded files must be there before any task is. */
	if (submit_write_files(ctx, job, &msg) != FM_OK) {
		log_warn("job %s: %s",
		    json_string_value(json_object_get(job, "id")), msg);
		free(msg);
		submit_remove_files(ctx, job);
		json_decref(job);
		return http_reply_error(
		    req, 503, "cannot write the job's files to shared storage");
	}
	conn = store_acquire(ctx->store);
	rc = store_jobs_insert_why(conn, job, &why);
	if (rc != FM_OK)
		submit_remove_files(ctx, job);
	if (rc == FM_OK)
		rc = store_jobs_get(conn,
		    json_string_value(json_object_get(job, "id")), &stored);
	store_release(ctx->store, conn);
	if (rc == FM_OK)
		log_info("job %s \"%s\" (%s) stored with %zu tasks "
		         "(compiled in %lld ms, stored in %lld ms)",
		    json_string_value(json_object_get(job, "id")),
		    json_string_value(json_object_get(job, "name")),
		    json_string_value(json_object_get(job, "type")),
		    json_array_size(json_object_get(job, "tasks")),
		    (long long)(t1 - t0) / 1000,
		    (long long)(time_mono_us() - t1) / 1000);
	ntasks = json_array_size(json_object_get(job, "tasks"));
	json_decref(job);
	/* A large job leaves hundreds of MB free but kept by malloc in this
	 * thread's arena; give them back now rather than holding them. */
	if (ntasks >= TRIM_AFTER_TASKS)
		malloc_trim(0);
	if (rc == FM_ERR_INVALID)
		return http_reply_error(req, 400,
		    "the job's tasks depend on a task that is not part of "
		    "the job");
	if (rc == FM_ERR_CONFLICT) {
		/* The store's own refusal names the entry and the reason. */
		rc = http_reply_error(req, 409,
		    "a job this one depends on changed while it was being "
		    "stored: %s",
		    why != NULL ? why : "check the submission again");
		free(why);
		return rc;
	}
	free(why);
	if (rc != FM_OK)
		return rc;
	return http_reply_json(req, 200, stored);
}

static bool
valid_id(struct req *req, const char *param, const char *what)
{
	if (ids_valid_uuid(req_param(req, param)))
		return true;
	http_reply_error(req, 400, "%s ID not valid", what);
	return false;
}

static enum fm_err
get_job(struct req *req)
{
	struct fm_ctx *ctx = req_app(req);
	struct store_conn *conn;
	json_t *job;
	enum fm_err rc;

	if (!valid_id(req, "job_id", "job"))
		return FM_OK;
	conn = store_acquire(ctx->store);
	rc = store_jobs_get(conn, req_param(req, "job_id"), &job);
	store_release(ctx->store, conn);
	if (rc == FM_ERR_NOTFOUND)
		return http_reply_error(req, 404, "no such job");
	if (rc != FM_OK)
		return rc;
	return http_reply_json(req, 200, job);
}

static enum fm_err
get_job_tasks(struct req *req)
{
	struct fm_ctx *ctx = req_app(req);
	struct store_conn *conn;
	json_t *tasks;
	enum fm_err rc;

	if (!valid_id(req, "job_id", "job"))
		return FM_OK;
	conn = store_acquire(ctx->store);
	rc = store_tasks_of_job(conn, req_param(req, "job_id"), &tasks);
	store_release(ctx->store, conn);
	if (rc != FM_OK)
		return rc;
	return http_reply_json(req, 200, tasks);
}

static const struct route routes[] = {
	{
	    .method = "GET",
	    .pattern = "/api/v3/jobs/types",
	    .fn = get_job_types,
	    .flags = ROUTE_SLOW,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/jobs/type/{typeName}",
	    .fn = get_job_type,
	    .flags = ROUTE_SLOW,
	},
	{
	    .method = "POST",
	    .pattern = "/api/v3/jobs/check",
	    .fn = post_job_check,
	    .flags = ROUTE_JSON_BODY | ROUTE_SLOW,
	},
	{
	    .method = "POST",
	    .pattern = "/api/v3/jobs/explain",
	    .fn = post_job_explain,
	    .flags = ROUTE_JSON_BODY | ROUTE_SLOW,
	},
	{
	    .method = "POST",
	    .pattern = "/api/v3/jobs",
	    .fn = post_job,
	    .flags = ROUTE_JSON_BODY | ROUTE_SLOW,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/jobs/{job_id}",
	    .fn = get_job,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/jobs/{job_id}/tasks",
	    .fn = get_job_tasks,
	    .flags = ROUTE_SLOW,
	},
};

const struct route_table api_jobs_routes = { routes, nitems(routes) };
