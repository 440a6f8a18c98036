/*
 * Farm admin endpoints for workers (fetchWorkers and friends): list, show,
 * delete, status requests (requestWorkerStatusChange), tag memberships and
 * sleep schedules (setWorkerSleepSchedule). Requests reach the worker through
 * the worker protocol in api_worker.c: 423 on a task request, may-i-run, GET
 * /worker/state.
 */
#include "api.h"

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "app.h"
#include "http.h"
#include "ids.h"
#include "log.h"
#include "state.h"
#include "store.h"
#include "store_status.h"
#include "store_worker_mgt.h"
#include "store_workers.h"

/*
 * A change to one worker inside a write transaction. FM_OK means done
 * (the caller answers 204 once committed); an error rolls back and is
 * answered with its status and *why_out (static text) when set.
 */
typedef enum fm_err (*worker_op_fn)(const struct status_ctx *sc,
    const struct worker *w, const void *arg, const char **why_out);

/* Answer 400 unless the {worker_id} path parameter is a UUID. */
static bool
valid_worker_id(struct req *req)
{
	if (ids_valid_uuid(req_param(req, "worker_id")))
		return true;
	http_reply_error(req, 400, "worker ID is not a valid UUID");
	return false;
}

/* The JSON body must be an object; answers 400 otherwise. */
static bool
body_object(struct req *req)
{
	if (json_is_object(req_json(req)))
		return true;
	http_reply_error(req, 400, "expected a JSON object");
	return false;
}

/* The kinds of body member these endpoints take. */
enum member_kind {
	MEMBER_STRING,
	MEMBER_BOOL,
	MEMBER_ARRAY,
};

/* A required body member (borrowed); answers 400 when missing or of
 * another kind. */
static json_t *
required(struct req *req, const char *key, enum member_kind kind)
{
	static const char *const kind_text[] = {
		[MEMBER_STRING] = "a string",
		[MEMBER_BOOL] = "a boolean",
		[MEMBER_ARRAY] = "an array",
	};
	json_t *v = json_object_get(req_json(req), key);
	bool ok = false;

	if (v == NULL || json_is_null(v)) {
		http_reply_error(req, 400, "\"%s\" is required", key);
		return NULL;
	}
	switch (kind) {
	case MEMBER_STRING:
		ok = json_is_string(v);
		break;
	case MEMBER_BOOL:
		ok = json_is_boolean(v);
		break;
	case MEMBER_ARRAY:
		ok = json_is_array(v);
		break;
	}
	if (!ok) {
		http_reply_error(
		    req, 400, "\"%s\" must be %s", key, kind_text[kind]);
		return NULL;
	}
	return v;
}

/*
 * Look the {worker_id} worker up and run op on it in one write
 * transaction; 404 for unknown or deleted workers, 204 when op succeeds.
 */
static enum fm_err
worker_tx(struct req *req, worker_op_fn op, const void *arg)
{
	struct fm_ctx *ctx = req_app(req);
	struct status_ctx sc = { .cfg = ctx->cfg };
	const char *why = NULL;
	struct worker w;
	enum fm_err rc;

	sc.conn = store_acquire(ctx->store);
	rc = store_begin(sc.conn, true);
	if (rc == FM_OK) {
		rc = store_worker_mgt_find(
		    sc.conn, req_param(req, "worker_id"), &w);
		if (rc == FM_ERR_NOTFOUND)
			why = "no such worker";
	}
	if (rc == FM_OK) {
		rc = op(&sc, &w, arg, &why);
		worker_clear(&w);
	}
	if (rc == FM_OK)
		rc = store_commit(sc.conn);
	else
		store_rollback(sc.conn);
	store_release(ctx->store, sc.conn);
	if (rc == FM_OK)
		return http_reply_empty(req, 204);
	if (why != NULL)
		return http_reply_error(req, fm_err_http_status(rc), "%s", why);
	return rc;
}

static enum fm_err
list_workers(struct req *req)
{
	struct fm_ctx *ctx = req_app(req);
	struct store_conn *conn = store_acquire(ctx->store);
	json_t *list;
	enum fm_err rc = store_worker_mgt_list(conn, &list);

	store_release(ctx->store, conn);
	if (rc != FM_OK)
		return rc;
	return http_reply_json(req, 200, list);
}

static enum fm_err
get_worker(struct req *req)
{
	struct fm_ctx *ctx = req_app(req);
	struct store_conn *conn;
	json_t *worker = NULL;
	enum fm_err rc;

	if (!valid_worker_id(req))
		return FM_OK;
	conn = store_acquire(ctx->store);
	/* One snapshot for the worker, its task and its tags. */
	rc = store_begin(conn, false);
	if (rc == FM_OK)
		rc = store_worker_mgt_get(
		    conn, req_param(req, "worker_id"), &worker);
	store_rollback(conn);
	store_release(ctx->store, conn);
	if (rc == FM_ERR_NOTFOUND)
		return http_reply_error(req, 404, "no such worker");
	if (rc != FM_OK)
		return rc;
	return http_reply_json(req, 200, worker);
}

static enum fm_err
op_delete(const struct status_ctx *sc, const struct worker *w, const void *arg,
    const char **why_out)
{
	enum fm_err rc;

	(void)arg;
	(void)why_out;
	rc = store_status_requeue_worker(sc, w->id, "worker was deleted");
	/* After the requeue, so its own pinned active task fails too. */
	if (rc == FM_OK)
		rc = store_status_fail_pinned_of_worker(sc, w);
	if (rc == FM_OK)
		rc = store_worker_mgt_delete(sc->conn, w->id);
	if (rc == FM_OK)
		log_info("worker %s (%s) deleted", w->name, w->uuid);
	return rc;
}

static enum fm_err
delete_worker(struct req *req)
{
	if (!valid_worker_id(req))
		return FM_OK;
	return worker_tx(req, op_delete, NULL);
}

struct status_request {
	enum worker_status status;
	bool lazy;
};

static enum fm_err
op_set_status(const struct status_ctx *sc, const struct worker *w,
    const void *arg, const char **why_out)
{
	const struct status_request *r = arg;

	if (r->status == WORKER_STATUS_RESTART && !w->can_restart) {
		*why_out = "worker cannot be restarted: it did not sign on "
		           "with can_restart";
		return FM_ERR_STALE; /* 412 */
	}
	/* Asking for the status it is in withdraws any pending request. */
	if (r->status == w->status)
		return store_workers_set_request(
		    sc->conn, w->id, false, WORKER_STATUS_REGISTERED, false);
	log_info("worker %s (%s): status %s requested%s", w->name, w->uuid,
	    state_worker_status_name(r->status), r->lazy ? " (lazy)" : "");
	return store_workers_set_request(
	    sc->conn, w->id, true, r->status, r->lazy);
}

static enum fm_err
set_status(struct req *req)
{
	struct status_request r;
	json_t *status, *lazy;

	if (!valid_worker_id(req) || !body_object(req))
		return FM_OK;
	if ((status = required(req, "status", MEMBER_STRING)) == NULL ||
	    (lazy = required(req, "is_lazy", MEMBER_BOOL)) == NULL)
		return FM_OK;
	if (state_worker_status_parse(json_string_value(status), &r.status) !=
	        FM_OK ||
	    r.status == WORKER_STATUS_REGISTERED)
		return http_reply_error(req, 400,
		    "unknown worker status \"%s\"", json_string_value(status));
	r.lazy = json_is_true(lazy);
	return worker_tx(req, op_set_status, &r);
}

static enum fm_err
op_set_tags(const struct status_ctx *sc, const struct worker *w,
    const void *arg, const char **why_out)
{
	(void)why_out;
	return store_worker_mgt_set_tags(sc->conn, w->id, arg);
}

static enum fm_err
set_tags(struct req *req)
{
	json_t *ids, *v;
	size_t i;

	if (!valid_worker_id(req) || !body_object(req))
		return FM_OK;
	if ((ids = required(req, "tag_ids", MEMBER_ARRAY)) == NULL)
		return FM_OK;
	json_array_foreach (ids, i, v) {
		if (!ids_valid_uuid(json_string_value(v)))
			return http_reply_error(req, 400,
			    "\"tag_ids\" must hold tag IDs (UUIDs); item %zu "
			    "is not one",
			    i);
	}
	return worker_tx(req, op_set_tags, ids);
}

static enum fm_err
get_sleep_schedule(struct req *req)
{
	struct fm_ctx *ctx = req_app(req);
	char start[STATE_SLEEP_TIME_MAX], end[STATE_SLEEP_TIME_MAX];
	struct sleep_schedule s;
	struct store_conn *conn;
	bool found;
	enum fm_err rc;

	if (!valid_worker_id(req))
		return FM_OK;
	conn = store_acquire(ctx->store);
	rc = store_worker_mgt_schedule_get(
	    conn, req_param(req, "worker_id"), &s, &found);
	store_release(ctx->store, conn);
	if (rc != FM_OK)
		return rc;
	/* No schedule, or no such worker: 204 either way, as Flamenco. */
	if (!found)
		return http_reply_empty(req, 204);
	state_sleep_time_format(s.start, start);
	state_sleep_time_format(s.end, end);
	return http_reply_json(req, 200,
	    json_pack("{s:b, s:s, s:s, s:s}", "is_active", s.is_active,
	        "days_of_week", s.days, "start_time", start, "end_time", end));
}

static enum fm_err
op_set_schedule(const struct status_ctx *sc, const struct worker *w,
    const void *arg, const char **why_out)
{
	(void)why_out;
	return store_worker_mgt_schedule_set(sc->conn, w, arg, time(NULL));
}

static enum fm_err
set_sleep_schedule(struct req *req)
{
	json_t *active, *days, *start, *end;
	struct sleep_schedule s;
	const char *why;

	if (!valid_worker_id(req) || !body_object(req))
		return FM_OK;
	if ((active = required(req, "is_active", MEMBER_BOOL)) == NULL ||
	    (days = required(req, "days_of_week", MEMBER_STRING)) == NULL ||
	    (start = required(req, "start_time", MEMBER_STRING)) == NULL ||
	    (end = required(req, "end_time", MEMBER_STRING)) == NULL)
		return FM_OK;
	if (state_sleep_parse(json_is_true(active), json_string_value(days),
	        json_string_value(start), json_string_value(end), &s,
	        &why) != FM_OK)
		return http_reply_error(req, 400, "%s", why);
	return worker_tx(req, op_set_schedule, &s);
}

static const struct route routes[] = {
	{
	    .method = "GET",
	    .pattern = "/api/v3/worker-mgt/workers",
	    .fn = list_workers,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/worker-mgt/workers/{worker_id}",
	    .fn = get_worker,
	},
	{
	    .method = "DELETE",
	    .pattern = "/api/v3/worker-mgt/workers/{worker_id}",
	    .fn = delete_worker,
	    .flags = ROUTE_ADMIN,
	},
	{
	    .method = "POST",
	    .pattern = "/api/v3/worker-mgt/workers/{worker_id}/setstatus",
	    .fn = set_status,
	    .flags = ROUTE_JSON_BODY | ROUTE_ADMIN,
	},
	{
	    .method = "POST",
	    .pattern = "/api/v3/worker-mgt/workers/{worker_id}/settags",
	    .fn = set_tags,
	    .flags = ROUTE_JSON_BODY | ROUTE_ADMIN,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/worker-mgt/workers/{worker_id}/sleep-schedule",
	    .fn = get_sleep_schedule,
	},
	{
	    .method = "POST",
	    .pattern = "/api/v3/worker-mgt/workers/{worker_id}/sleep-schedule",
	    .fn = set_sleep_schedule,
	    .flags = ROUTE_JSON_BODY | ROUTE_ADMIN,
	},
};

const struct route_table api_worker_mgt_routes = { routes, nitems(routes) };
