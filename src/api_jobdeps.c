/*
 * Jobs that wait for other jobs: adding and removing dependencies of a
 * job that has not started (admin), its dependency graph, and why a task
 * or a job is not running (blockers). The submission side is in
 * submit.c; the semantics are in the README, "Job dependencies".
 */
#include "api.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "blockers.h"
#include "http.h"
#include "ids.h"
#include "jobdeps.h"
#include "jobgraph.h"
#include "store.h"
#include "store_admin.h"
#include "store_jobdeps.h"
#include "store_jobs.h"
#include "xmalloc.h"

/* --- POST/DELETE /api/v3/jobs/{job_id}/dependencies */

/* What a change produced: a client error (status, msg) or success. */
struct change {
	int status;
	char *msg;
};

static enum fm_err
add_deps(struct store_conn *conn, int64_t job_id, const json_t *body,
    struct change *c)
{
	const json_t *list = json_object_get(body, "depends_on");
	bool started, overlap;
	enum fm_err rc;

	if ((rc = store_jobdeps_started(conn, job_id, &started)) != FM_OK ||
	    (rc = store_jobdeps_mode(conn, job_id, &overlap)) != FM_OK)
		return rc;
	if (started) {
		c->status = 409;
		c->msg = xstrdup("the job has started (a task left queued); "
		                 "dependencies can only be added before that");
		return FM_OK;
	}
	if (jobdeps_check_list(list, overlap, &c->msg) != FM_OK) {
		c->status = 400;
		return FM_OK;
	}
	if (json_array_size(list) == 0) {
		c->status = 400;
		c->msg = xstrdup("\"depends_on\" must list at least one job");
		return FM_OK;
	}
	rc = store_jobdeps_add(conn, job_id, list, NULL, &c->msg);
	if (rc == FM_ERR_INVALID) {
		c->status = 400;
		rc = FM_OK;
	}
	return rc;
}

static enum fm_err
remove_deps(struct store_conn *conn, int64_t job_id, const json_t *body,
    struct change *c)
{
	const char *up = json_string_value(json_object_get(body, "job"));
	int removed;
	enum fm_err rc;

	if (up == NULL || !ids_valid_uuid(up)) {
		c->status = 400;
		c->msg = xstrdup("\"job\" must be the UUID of the job waited "
		                 "for");
		return FM_OK;
	}
	if ((rc = store_jobdeps_remove(conn, job_id, up, &removed)) != FM_OK)
		return rc;
	if (removed == 0) {
		c->status = 404;
		c->msg = xstrdup("the job does not wait for that job");
	}
	return FM_OK;
}

typedef enum fm_err (*change_fn)(struct store_conn *conn, int64_t job_id,
    const json_t *body, struct change *c);

/* Run fn on the path's job in one write transaction, then answer 200
 * with the job (its "depends_on" updated) or the client error. */
static enum fm_err
change_deps(struct req *req, change_fn fn)
{
	struct fm_ctx *ctx = req_app(req);
	const char *uuid = req_param(req, "job_id");
	struct change c = { 0 };
	struct store_conn *conn;
	json_t *job = NULL;
	int64_t job_id;
	enum fm_err rc;

	if (!ids_valid_uuid(uuid))
		return http_reply_error(req, 400, "job ID not valid");
	if (!json_is_object(req_json(req)))
		return http_reply_error(req, 400, "expected a JSON object");
	conn = store_acquire(ctx->store);
	rc = store_begin(conn, true);
	if (rc == FM_OK)
		rc = store_admin_job_id(conn, uuid, &job_id);
	if (rc == FM_ERR_NOTFOUND) {
		c.status = 404;
		c.msg = xstrdup("no such job");
		rc = FM_OK;
	} else if (rc == FM_OK) {
		rc = fn(conn, job_id, req_json(req), &c);
	}
	if (rc == FM_OK && c.status == 0) {
		store_note(conn, STORE_CHANGED_JOB, uuid, NULL, NULL, NULL);
		rc = store_commit(conn);
	}
	store_rollback(conn);
	if (rc == FM_OK && c.status == 0)
		rc = store_jobs_get(conn, uuid, &job);
	store_release(ctx->store, conn);
	if (rc != FM_OK) {
		free(c.msg);
		return rc;
	}
	if (c.status != 0) {
		rc = http_reply_error(req, c.status, "%s", c.msg);
		free(c.msg);
		return rc;
	}
	return http_reply_json(req, 200, job);
}

static enum fm_err
post_dependencies(struct req *req)
{
	return change_deps(req, add_deps);
}

static enum fm_err
delete_dependencies(struct req *req)
{
	return change_deps(req, remove_deps);
}

/* --- GET /api/v3/jobs/{job_id}/graph */

static enum fm_err
get_graph(struct req *req)
{
	struct fm_ctx *ctx = req_app(req);
	const char *format = req_query(req, "format");
	struct store_conn *conn;
	json_t *graph;
	enum fm_err rc;
	char *dot;

	if (!ids_valid_uuid(req_param(req, "job_id")))
		return http_reply_error(req, 400, "job ID not valid");
	if (format != NULL && strcmp(format, "json") != 0 &&
	    strcmp(format, "dot") != 0)
		return http_reply_error(
		    req, 400, "\"format\" must be \"json\" or \"dot\"");
	conn = store_acquire(ctx->store);
	rc = store_begin(conn, false);
	if (rc == FM_OK)
		rc = jobgraph_json(conn, req_param(req, "job_id"), &graph);
	store_rollback(conn);
	store_release(ctx->store, conn);
	if (rc == FM_ERR_NOTFOUND)
		return http_reply_error(req, 404, "no such job");
	if (rc != FM_OK)
		return rc;
	if (format == NULL || strcmp(format, "json") == 0)
		return http_reply_json(req, 200, graph);
	dot = jobgraph_dot(graph);
	json_decref(graph);
	return http_reply_buffer(
	    req, 200, "text/vnd.graphviz; charset=utf-8", dot, strlen(dot));
}

/* --- GET /api/v3/jobs/{job_id}/blockers, /api/v3/tasks/{task_id}/blockers */

typedef enum fm_err (*blockers_fn)(
    struct store_conn *conn, const char *uuid, json_t **out);

static enum fm_err
reply_blockers(
    struct req *req, const char *param, blockers_fn fn, const char *what)
{
	struct fm_ctx *ctx = req_app(req);
	struct store_conn *conn;
	json_t *out;
	enum fm_err rc;

	if (!ids_valid_uuid(req_param(req, param)))
		return http_reply_error(req, 400, "%s ID not valid", what);
	conn = store_acquire(ctx->store);
	/* One read transaction: every reason from the same moment. */
	rc = store_begin(conn, false);
	if (rc == FM_OK)
		rc = fn(conn, req_param(req, param), &out);
	store_rollback(conn);
	store_release(ctx->store, conn);
	if (rc == FM_ERR_NOTFOUND)
		return http_reply_error(req, 404, "no such %s", what);
	if (rc != FM_OK)
		return rc;
	return http_reply_json(req, 200, out);
}

static enum fm_err
get_job_blockers(struct req *req)
{
	return reply_blockers(req, "job_id", blockers_job, "job");
}

static enum fm_err
get_task_blockers(struct req *req)
{
	return reply_blockers(req, "task_id", blockers_task, "task");
}

static const struct route routes[] = {
	{
	    .method = "POST",
	    .pattern = "/api/v3/jobs/{job_id}/dependencies",
	    .fn = post_dependencies,
	    .flags = ROUTE_JSON_BODY | ROUTE_ADMIN,
	},
	{
	    .method = "DELETE",
	    .pattern = "/api/v3/jobs/{job_id}/dependencies",
	    .fn = delete_dependencies,
	    .flags = ROUTE_JSON_BODY | ROUTE_ADMIN,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/jobs/{job_id}/graph",
	    .fn = get_graph,
	    .flags = ROUTE_SLOW,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/jobs/{job_id}/blockers",
	    .fn = get_job_blockers,
	    .flags = ROUTE_SLOW,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/tasks/{task_id}/blockers",
	    .fn = get_task_blockers,
	},
};

const struct route_table api_jobdeps_routes = { routes, nitems(routes) };
