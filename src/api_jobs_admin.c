/*
 * Farm-admin job endpoints (fetchJobs, setJobStatus and friends): listing with
 * filters and paging, status/priority/tag changes, the blocklist, deletion
 * (marking only; the job deleter removes jobs in the background) and
 * last-rendered images.
 */
#include "api.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "housekeeping.h"
#include "http.h"
#include "ids.h"
#include "lastrendered.h"
#include "state.h"
#include "store.h"
#include "store_admin.h"
#include "store_jobs.h"
#include "store_status.h"
#include "timeutil.h"
#include "xmalloc.h"

/* Largest page GET /api/v3/jobs returns when a limit is given. */
#define JOBS_PAGE_MAX 1000

/*
 * What a job operation produced. A client error (status != 0) rolls the
 * transaction back and is answered with {code, message}; otherwise the
 * body (new) is answered with 200, or 204 when there is none.
 */
struct job_op {
	int status;
	char msg[160];
	json_t *body;
};

typedef enum fm_err (*job_fn)(const struct status_ctx *sc, int64_t job_id,
    const char *job_uuid, const void *arg, struct job_op *op);

static void op_error(struct job_op *op, int status, const char *fmt, ...)
    FM_PRINTF(3, 4);

/* Record a client error for with_job() to answer. */
static void
op_error(struct job_op *op, int status, const char *fmt, ...)
{
	va_list ap;

	op->status = status;
	va_start(ap, fmt);
	vsnprintf(op->msg, sizeof(op->msg), fmt, ap);
	va_end(ap);
}

/*
 * Look up the path's job and run fn on it, inside one write transaction
 * when write is set, then answer. Bad id: 400; unknown job: 404.
 */
static enum fm_err
with_job(struct req *req, bool write, job_fn fn, const void *arg)
{
	struct fm_ctx *ctx = req_app(req);
	const char *uuid = req_param(req, "job_id");
	struct status_ctx sc = { .cfg = ctx->cfg };
	struct job_op op = { 0 };
	int64_t job_id;
	enum fm_err rc;

	if (!ids_valid_uuid(uuid))
		return http_reply_error(req, 400, "job ID not valid");
	sc.conn = store_acquire(ctx->store);
	rc = write ? store_begin(sc.conn, true) : FM_OK;
	if (rc == FM_OK)
		rc = store_admin_job_id(sc.conn, uuid, &job_id);
	if (rc == FM_ERR_NOTFOUND) {
		op_error(&op, 404, "no such job");
		rc = FM_OK;
	} else if (rc == FM_OK) {
		rc = fn(&sc, job_id, uuid, arg, &op);
	}
	if (write && rc == FM_OK && op.status == 0)
		rc = store_commit(sc.conn);
	store_rollback(sc.conn);
	store_release(ctx->store, sc.conn);
	if (rc != FM_OK || op.status != 0) {
		json_decref(op.body);
		if (rc != FM_OK)
			return rc;
		return http_reply_error(req, op.status, "%s", op.msg);
	}
	if (op.body != NULL)
		return http_reply_json(req, 200, op.body);
	return http_reply_empty(req, 204);
}

/* A required string member of the JSON body; replies 400 when missing. */
static bool
body_string(struct req *req, const char *key, const char **out)
{
	json_t *v = json_object_get(req_json(req), key);

	*out = NULL;
	if (!json_is_object(req_json(req))) {
		http_reply_error(req, 400, "expected a JSON object");
		return false;
	}
	if (!json_is_string(v)) {
		http_reply_error(
		    req, 400, "\"%s\" is required and must be a string", key);
		return false;
	}
	*out = json_string_value(v);
	return true;
}

/* --- GET /api/v3/jobs */

/* A non-negative decimal no larger than max; false if s is anything else. */
static bool
parse_count(const char *s, int64_t max, int64_t *out)
{
	int64_t v = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 18)
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

/* Every comma-separated item is a job status. */
static bool
valid_statuses(const char *list)
{
	char *copy = xstrdup(list), *save = NULL, *item;
	bool ok = list[0] != '\0' && list[strlen(list) - 1] != ',' &&
	    list[0] != ',' && strstr(list, ",,") == NULL;

	for (item = strtok_r(copy, ",", &save); ok && item != NULL;
	     item = strtok_r(NULL, ",", &save)) {
		enum job_status s;

		ok = state_job_status_parse(item, &s) == FM_OK;
	}
	free(copy);
	return ok;
}

static enum fm_err
get_jobs(struct req *req)
{
	struct fm_ctx *ctx = req_app(req);
	struct store_jobs_filter f = { .limit = -1 };
	const char *limit = req_query(req, "limit");
	const char *offset = req_query(req, "offset");
	struct store_conn *conn;
	json_t *jobs;
	enum fm_err rc;

	f.statuses = req_query(req, "status");
	f.type = req_query(req, "type");
	f.name = req_query(req, "name");
	if (f.statuses != NULL && !valid_statuses(f.statuses))
		return http_reply_error(req, 400,
		    "\"status\" must be a job status or a comma-separated "
		    "list of them");
	if (f.type != NULL && f.type[0] == '\0')
		f.type = NULL;
	if (f.name != NULL && f.name[0] == '\0')
		f.name = NULL;
	if (limit != NULL &&
	    (!parse_count(limit, JOBS_PAGE_MAX, &f.limit) || f.limit == 0))
		return http_reply_error(req, 400,
		    "\"limit\" must be an integer from 1 to %d", JOBS_PAGE_MAX);
	if (offset != NULL && !parse_count(offset, INT64_MAX / 10, &f.offset))
		return http_reply_error(
		    req, 400, "\"offset\" must be a non-negative integer");
	conn = store_acquire(ctx->store);
	rc = store_jobs_list(conn, &f, &jobs);
	store_release(ctx->store, conn);
	if (rc != FM_OK)
		return rc;
	return http_reply_json(req, 200, jobs);
}

/* --- POST /api/v3/jobs/{job_id}/setstatus */

struct status_change {
	enum job_status status;
	const char *reason;
};

static enum fm_err
do_set_status(const struct status_ctx *sc, int64_t job_id, const char *uuid,
    const void *arg, struct job_op *op)
{
	const struct status_change *c = arg;
	enum fm_err rc;

	(void)uuid;
	(void)op;
	/* An admin requeue gives every worker a fresh chance (setJobStatus). */
	if (c->status == JOB_STATUS_REQUEUEING &&
	    (rc = store_admin_clear_job_failures(sc->conn, job_id)) != FM_OK)
		return rc;
	return store_status_job(sc, job_id, c->status, c->reason);
}

static enum fm_err
post_set_status(struct req *req)
{
	struct status_change c;
	const char *status;

	if (!body_string(req, "status", &status) ||
	    !body_string(req, "reason", &c.reason))
		return FM_OK;
	if (state_job_status_parse(status, &c.status) != FM_OK)
		return http_reply_error(
		    req, 400, "unknown job status \"%s\"", status);
	return with_job(req, true, do_set_status, &c);
}

/* --- POST /api/v3/jobs/{job_id}/setpriority */

static enum fm_err
do_set_priority(const struct status_ctx *sc, int64_t job_id, const char *uuid,
    const void *arg, struct job_op *op)
{
	(void)uuid;
	(void)op;
	return store_admin_set_priority(sc->conn, job_id, *(const int *)arg);
}

static enum fm_err
post_set_priority(struct req *req)
{
	json_t *v = json_object_get(req_json(req), "priority");
	int priority;

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > 100)
		return http_reply_error(req, 400,
		    "\"priority\" is required and must be an integer from 0 "
		    "to 100");
	priority = (int)json_integer_value(v);
	return with_job(req, true, do_set_priority, &priority);
}

/* --- POST /api/v3/jobs/{job_id}/settag */

struct tag_ref {
	const char *uuid; /* one of these, or neither: untag */
	const char *name;
};

static enum fm_err
do_set_tag(const struct status_ctx *sc, int64_t job_id, const char *uuid,
    const void *arg, struct job_op *op)
{
	const struct tag_ref *t = arg;
	int64_t tag_id = 0;
	enum fm_err rc = FM_OK;

	(void)uuid;
	if (t->uuid != NULL)
		rc = store_jobs_tag_id(sc->conn, t->uuid, &tag_id);
	else if (t->name != NULL)
		rc = store_admin_tag_by_name(sc->conn, t->name, &tag_id);
	if (rc == FM_ERR_NOTFOUND) {
		/* Flamenco answers 406, not the documented 422. */
		op_error(op, 406, "tag not found");
		return FM_OK;
	}
	if (rc != FM_OK)
		return rc;
	return store_admin_set_tag(sc->conn, job_id, tag_id);
}

static enum fm_err
post_set_tag(struct req *req)
{
	json_t *body = req_json(req);
	json_t *id = json_object_get(body, "id");
	json_t *name = json_object_get(body, "name");
	struct tag_ref t = { NULL, NULL };

	if (!json_is_object(body))
		return http_reply_error(req, 400, "expected a JSON object");
	if ((id != NULL && !json_is_string(id)) ||
	    (name != NULL && !json_is_string(name)))
		return http_reply_error(
		    req, 400, "\"id\" and \"name\" must be strings");
	if (id != NULL && json_string_length(id) > 0) {
		t.uuid = json_string_value(id);
		if (!ids_valid_uuid(t.uuid))
			return http_reply_error(
			    req, 400, "tag \"id\" is not a valid UUID");
	} else if (name != NULL && json_string_length(name) > 0) {
		t.name = json_string_value(name);
	}
	return with_job(req, true, do_set_tag, &t);
}

/* --- GET/DELETE /api/v3/jobs/{job_id}/blocklist */

static enum fm_err
do_get_blocklist(const struct status_ctx *sc, int64_t job_id, const char *uuid,
    const void *arg, struct job_op *op)
{
	(void)uuid;
	(void)arg;
	return store_admin_blocklist(sc->conn, job_id, &op->body);
}

static enum fm_err
get_blocklist(struct req *req)
{
	return with_job(req, false, do_get_blocklist, NULL);
}

static enum fm_err
do_delete_blocklist(const struct status_ctx *sc, int64_t job_id,
    const char *uuid, const void *arg, struct job_op *op)
{
	const json_t *entries = arg;
	size_t i;
	json_t *e;
	enum fm_err rc;

	(void)uuid;
	(void)op;
	json_array_foreach (entries, i, e) {
		rc = store_admin_blocklist_remove(sc->conn, job_id,
		    json_string_value(json_object_get(e, "worker_id")),
		    json_string_value(json_object_get(e, "task_type")));
		if (rc != FM_OK)
			return rc;
	}
	return FM_OK;
}

static enum fm_err
delete_blocklist(struct req *req)
{
	json_t *body = req_json(req), *e;
	size_t i;

	if (!json_is_array(body) || json_array_size(body) == 0)
		return http_reply_error(req, 400,
		    "expected a non-empty list of "
		    "{\"worker_id\", \"task_type\"}");
	json_array_foreach (body, i, e) {
		json_t *w = json_object_get(e, "worker_id");

		if (!json_is_string(w) ||
		    !json_is_string(json_object_get(e, "task_type")))
			return http_reply_error(req, 400,
			    "entry %zu: \"worker_id\" and \"task_type\" are "
			    "required strings",
			    i);
		if (!ids_valid_uuid(json_string_value(w)))
			return http_reply_error(req, 400,
			    "entry %zu: \"worker_id\" is not a valid UUID", i);
	}
	return with_job(req, true, do_delete_blocklist, body);
}

/* --- DELETE /api/v3/jobs/{job_id}, DELETE /api/v3/jobs/mass-delete */

static enum fm_err
do_delete_job(const struct status_ctx *sc, int64_t job_id, const char *uuid,
    const void *arg, struct job_op *op)
{
	(void)uuid;
	(void)arg;
	(void)op;
	return store_admin_request_deletion(sc->conn, job_id);
}

static enum fm_err
delete_job(struct req *req)
{
	enum fm_err rc = with_job(req, true, do_delete_job, NULL);

	/* After the commit: the deleter must see the request. */
	housekeeping_wake(req_app(req), HOUSEKEEPING_JOB_DELETER);
	return rc;
}

static enum fm_err
delete_mass(struct req *req)
{
	struct fm_ctx *ctx = req_app(req);
	const char *max;
	struct store_conn *conn;
	int64_t us;
	int count = 0;
	enum fm_err rc;

	if (!body_string(req, "last_updated_max", &max))
		return FM_OK;
	if (time_parse_rfc3339(max, &us) != FM_OK)
		return http_reply_error(req, 400,
		    "\"last_updated_max\" must be an RFC 3339 timestamp");
	/* Rounded up to whole seconds, as Flamenco does (ceiling, also
	 * before 1970 where C's % is negative). */
	if (us % 1000000 != 0)
		us += 1000000 - ((us % 1000000) + 1000000) % 1000000;
	conn = store_acquire(ctx->store);
	rc = store_begin(conn, true);
	if (rc == FM_OK)
		rc = store_admin_request_mass_deletion(conn, us, &count);
	if (rc == FM_OK)
		rc = store_commit(conn);
	store_rollback(conn);
	store_release(ctx->store, conn);
	if (rc != FM_OK)
		return rc;
	if (count == 0)
		return http_reply_error(
		    req, 416, "no jobs matched the given criteria");
	housekeeping_wake(ctx, HOUSEKEEPING_JOB_DELETER);
	return http_reply_empty(req, 204);
}

/* --- GET /api/v3/jobs/{job_id}/what-would-delete-do */

static enum fm_err
do_what_would_delete_do(const struct status_ctx *sc, int64_t job_id,
    const char *uuid, const void *arg, struct job_op *op)
{
	const char *checkout;
	json_t *job = NULL;
	enum fm_err rc;

	(void)job_id;
	(void)arg;
	/* The deleter removes the job's Shaman checkout, if it has one. */
	if (!config_shaman_enabled(sc->cfg)) {
		op->body = json_pack("{s:b}", "shaman_checkout", 0);
		return FM_OK;
	}
	if ((rc = store_jobs_get(sc->conn, uuid, &job)) != FM_OK)
		return rc;
	checkout = json_string_value(json_object_get(
	    json_object_get(job, "storage"), "shaman_checkout_id"));
	op->body = json_pack("{s:b}", "shaman_checkout",
	    checkout != NULL && checkout[0] != '\0');
	json_decref(job);
	return FM_OK;
}

static enum fm_err
get_what_would_delete_do(struct req *req)
{
	return with_job(req, false, do_what_would_delete_do, NULL);
}

/* --- last-rendered images */

static enum fm_err
do_last_rendered(const struct status_ctx *sc, int64_t job_id, const char *uuid,
    const void *arg, struct job_op *op)
{
	(void)job_id;
	(void)arg;
	op->body = lastrendered_info(sc->cfg->local_manager_storage_path, uuid);
	return FM_OK;
}

static enum fm_err
get_job_last_rendered(struct req *req)
{
	return with_job(req, false, do_last_rendered, NULL);
}

static enum fm_err
get_last_rendered(struct req *req)
{
	struct fm_ctx *ctx = req_app(req);
	struct store_conn *conn = store_acquire(ctx->store);
	char uuid[ID_UUID_LEN + 1];
	json_t *info = NULL;
	enum fm_err rc;

	rc = store_admin_last_rendered(conn, uuid);
	store_release(ctx->store, conn);
	if (rc == FM_OK)
		info = lastrendered_info(
		    ctx->cfg->local_manager_storage_path, uuid);
	else if (rc != FM_ERR_NOTFOUND)
		return rc;
	if (info == NULL)
		return http_reply_empty(req, 204);
	return http_reply_json(req, 200, info);
}

static const struct route routes[] = {
	{
	    .method = "GET",
	    .pattern = "/api/v3/jobs",
	    .fn = get_jobs,
	    .flags = ROUTE_SLOW,
	},
	{
	    .method = "POST",
	    .pattern = "/api/v3/jobs/{job_id}/setstatus",
	    .fn = post_set_status,
	    .flags = ROUTE_JSON_BODY | ROUTE_ADMIN | ROUTE_SLOW,
	},
	{
	    .method = "POST",
	    .pattern = "/api/v3/jobs/{job_id}/setpriority",
	    .fn = post_set_priority,
	    .flags = ROUTE_JSON_BODY | ROUTE_ADMIN,
	},
	{
	    .method = "POST",
	    .pattern = "/api/v3/jobs/{job_id}/settag",
	    .fn = post_set_tag,
	    .flags = ROUTE_JSON_BODY | ROUTE_ADMIN,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/jobs/{job_id}/blocklist",
	    .fn = get_blocklist,
	},
	{
	    .method = "DELETE",
	    .pattern = "/api/v3/jobs/{job_id}/blocklist",
	    .fn = delete_blocklist,
	    .flags = ROUTE_JSON_BODY | ROUTE_ADMIN,
	},
	{
	    .method = "DELETE",
	    .pattern = "/api/v3/jobs/{job_id}",
	    .fn = delete_job,
	    .flags = ROUTE_ADMIN,
	},
	{
	    .method = "DELETE",
	    .pattern = "/api/v3/jobs/mass-delete",
	    .fn = delete_mass,
	    .flags = ROUTE_JSON_BODY | ROUTE_ADMIN | ROUTE_SLOW,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/jobs/{job_id}/what-would-delete-do",
	    .fn = get_what_would_delete_do,
	    .flags = ROUTE_SLOW,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/jobs/{job_id}/last-rendered",
	    .fn = get_job_last_rendered,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/jobs/last-rendered",
	    .fn = get_last_rendered,
	},
};

const struct route_table api_jobs_admin_routes = { routes, nitems(routes) };
