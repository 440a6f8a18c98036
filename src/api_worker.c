/*
 * The worker side of the API (registerWorker .. taskOutputProduced):
 * registration, sign-on/off, state polling, task requests, task updates,
 * may-i-run and output uploads. Status codes and the order of checks follow the
 * Flamenco Worker's expectations exactly: it treats anything but 204/409 on a
 * task update as an error and retries forever.
 */
#include "api.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "events.h"
#include "http.h"
#include "ids.h"
#include "lastrendered.h"
#include "log.h"
#include "metrics.h"
#include "scheduler.h"
#include "state.h"
#include "store.h"
#include "store_internal.h"
#include "store_status.h"
#include "store_workers.h"
#include "tasklog.h"
#include "thumbnail.h"
#include "timeutil.h"
#include "xmalloc.h"

#define MAX_NAME_LEN    256 /* bytes; README, Limits */
#define MAX_LOG_CHUNK   (1 << 20)
#define MAX_IMAGE_BYTES 26214400 /* 25 MiB, as Flamenco */

static void
worker_free(void *p)
{
	worker_clear(p);
	free(p);
}

/* The http_auth_fn: Basic uuid:secret of a non-deleted worker. */
enum fm_err
api_worker_auth(struct req *req, const char *user, const char *pass)
{
	struct fm_ctx *ctx = req_app(req);
	struct worker *w = xcalloc(1, sizeof(*w));
	struct store_conn *conn = store_acquire(ctx->store);
	enum fm_err rc = store_workers_auth(conn, user, pass, w);

	store_release(ctx->store, conn);
	if (rc != FM_OK) {
		free(w);
		return rc;
	}
	req_set_auth(req, w, worker_free);
	return FM_OK;
}

/*
 * A string member of the body: *out borrowed, NULL when absent or null,
 * *len_out (may be NULL) its length. The JSON layer accepts \u0000, so a
 * string may hold NUL bytes; only callers that handle them pass allow_nul,
 * the others answer 400 instead of silently using a cut-off C string.
 */
static bool
string_field_n(struct req *req, const char *key, bool required, bool allow_nul,
    const char **out, size_t *len_out)
{
	json_t *v = json_object_get(req_json(req), key);

	*out = NULL;
	if (len_out != NULL)
		*len_out = 0;
	if (v == NULL || json_is_null(v)) {
		if (!required)
			return true;
		http_reply_error(req, 400, "\"%s\" is required", key);
		return false;
	}
	if (!json_is_string(v)) {
		http_reply_error(req, 400, "\"%s\" must be a string", key);
		return false;
	}
	if (!allow_nul &&
	    memchr(json_string_value(v), '\0', json_string_length(v)) != NULL) {
		http_reply_error(
		    req, 400, "\"%s\" must not contain NUL characters", key);
		return false;
	}
	*out = json_string_value(v);
	if (len_out != NULL)
		*len_out = json_string_length(v);
	return true;
}

static bool
string_field(struct req *req, const char *key, bool required, const char **out)
{
	return string_field_n(req, key, required, false, out, NULL);
}

static bool
types_field(struct req *req, char **csv_out)
{
	json_t *v = json_object_get(req_json(req), "supported_task_types");
	size_t i;
	json_t *t;

	*csv_out = NULL;
	if (!json_is_array(v)) {
		http_reply_error(req, 400,
		    "\"supported_task_types\" must be an array of strings");
		return false;
	}
	json_array_foreach (v, i, t) {
		if (!json_is_string(t) ||
		    memchr(json_string_value(t), '\0', json_string_length(t)) !=
		        NULL) {
			http_reply_error(req, 400,
			    "\"supported_task_types\" must be an array of "
			    "strings without NUL characters");
			return false;
		}
	}
	*csv_out = store_workers_join_types(v);
	return true;
}

/* A worker name of 1 to MAX_NAME_LEN bytes; answers 400 otherwise. */
static bool
valid_name(struct req *req, const char *name)
{
	if (name[0] != '\0' && strlen(name) <= MAX_NAME_LEN)
		return true;
	http_reply_error(
	    req, 400, "\"name\" must be 1 to %d bytes", MAX_NAME_LEN);
	return false;
}

static bool
valid_secret(const char *s)
{
	size_t n = strlen(s);

	return n >= 16 && n <= 256;
}

static enum fm_err
register_worker(struct req *req)
{
	struct fm_ctx *ctx = req_app(req);
	const char *name, *secret, *platform;
	char uuid[ID_UUID_LEN + 1], *types = NULL;
	struct store_conn *conn;
	enum fm_err rc;

	if (!json_is_object(req_json(req)))
		return http_reply_error(req, 400, "expected a JSON object");
	if (!string_field(req, "name", true, &name) ||
	    !string_field(req, "secret", true, &secret) ||
	    !string_field(req, "platform", true, &platform) ||
	    !types_field(req, &types))
		return FM_OK;
	if (!valid_name(req, name)) {
		free(types);
		return FM_OK;
	}
	if (!valid_secret(secret)) {
		free(types);
		return http_reply_error(
		    req, 400, "\"secret\" must be 16 to 256 characters");
	}
	conn = store_acquire(ctx->store);
	rc = store_begin(conn, true);
	if (rc == FM_OK)
		rc = store_workers_register(conn, name, secret, platform, types,
		    req_client_ip(req), uuid);
	if (rc == FM_OK)
		rc = store_commit(conn);
	store_release(ctx->store, conn);
	if (rc == FM_OK) {
		log_info("worker %s registered as %s from %s", name, uuid,
		    req_client_ip(req));
		rc = http_reply_json(req, 200,
		    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "uuid",
		        uuid, "name", name, "address", req_client_ip(req),
		        "status", "", "platform", platform, "software", "",
		        "supported_task_types",
		        json_object_get(
		            req_json(req), "supported_task_types")));
	}
	free(types);
	return rc;
}

/* Run fn in a write transaction with the authenticated worker. */
static enum fm_err
in_tx(struct req *req,
    enum fm_err (*fn)(struct req *, const struct status_ctx *, struct worker *))
{
	struct fm_ctx *ctx = req_app(req);
	struct status_ctx sc = { .cfg = ctx->cfg };
	enum fm_err rc;

	sc.conn = store_acquire(ctx->store);
	rc = store_begin(sc.conn, true);
	if (rc == FM_OK)
		rc = fn(req, &sc, req_auth(req));
	if (rc == FM_OK)
		rc = store_commit(sc.conn);
	else
		store_rollback(sc.conn);
	store_release(ctx->store, sc.conn);
	return rc;
}

/* The status a worker should be in now: a pending request or its sleep
 * schedule's verdict. */
static enum fm_err
initial_status(const struct status_ctx *sc, const struct worker *w,
    enum worker_status *out)
{
	if (w->has_request) {
		*out = w->status_requested;
		return FM_OK;
	}
	return store_workers_schedule_verdict(sc->conn, w->id, out);
}

static enum fm_err
do_sign_on(struct req *req, const struct status_ctx *sc, struct worker *w)
{
	const char *name, *software;
	json_t *restart = json_object_get(req_json(req), "can_restart");
	enum worker_status initial;
	char *types = NULL;
	enum fm_err rc;

	if (!json_is_object(req_json(req)))
		return http_reply_error(req, 400, "expected a JSON object");
	if (!string_field(req, "name", true, &name) ||
	    !string_field(req, "software_version", true, &software) ||
	    !valid_name(req, name) || !types_field(req, &types))
		return FM_OK;
	if (restart != NULL && !json_is_boolean(restart)) {
		free(types);
		return http_reply_error(
		    req, 400, "\"can_restart\" must be a boolean");
	}
	rc = store_workers_sign_on(sc->conn, w->id, name, types, software,
	    json_is_true(restart), req_client_ip(req));
	free(types);
	if (rc == FM_OK)
		rc = initial_status(sc, w, &initial);
	if (rc != FM_OK)
		return rc;
	log_info(
	    "worker %s (%s) signed on, software %s", name, w->uuid, software);
	return http_reply_json(req, 200,
	    json_pack("{s:s}", "status_requested",
	        state_worker_status_name(initial)));
}

static enum fm_err
sign_on(struct req *req)
{
	return in_tx(req, do_sign_on);
}

static enum fm_err
do_sign_off(struct req *req, const struct status_ctx *sc, struct worker *w)
{
	enum fm_err rc;

	rc = store_workers_set_status(
	    sc->conn, w->id, WORKER_STATUS_OFFLINE, false);
	if (rc != FM_OK)
		return rc;
	/* Remember an awake/asleep state so the next sign-on restores it. */
	if (w->has_request &&
	    (w->status_requested == WORKER_STATUS_OFFLINE ||
	        w->status_requested == WORKER_STATUS_RESTART))
		rc = store_workers_set_request(
		    sc->conn, w->id, false, WORKER_STATUS_REGISTERED, false);
	else if (!w->has_request &&
	    (w->status == WORKER_STATUS_AWAKE ||
	        w->status == WORKER_STATUS_ASLEEP))
		rc = store_workers_set_request(
		    sc->conn, w->id, true, w->status, false);
	if (rc == FM_OK)
		rc =
		    store_status_requeue_worker(sc, w->id, "worker signed off");
	if (rc != FM_OK)
		return rc;
	log_info("worker %s (%s) signed off", w->name, w->uuid);
	return http_reply_empty(req, 204);
}

static enum fm_err
sign_off(struct req *req)
{
	return in_tx(req, do_sign_off);
}

static enum fm_err
do_state(struct req *req, const struct status_ctx *sc, struct worker *w)
{
	enum fm_err rc = store_workers_seen(sc->conn, w);

	if (rc != FM_OK)
		return rc;
	if (!w->has_request)
		return http_reply_empty(req, 204);
	return http_reply_json(req, 200,
	    json_pack("{s:s}", "status_requested",
	        state_worker_status_name(w->status_requested)));
}

static enum fm_err
worker_state(struct req *req)
{
	return in_tx(req, do_state);
}

static enum fm_err
do_state_changed(struct req *req, const struct status_ctx *sc, struct worker *w)
{
	const char *text;
	enum worker_status s;
	bool clear;
	enum fm_err rc;

	if (!json_is_object(req_json(req)))
		return http_reply_error(req, 400, "expected a JSON object");
	if (!string_field(req, "status", true, &text))
		return FM_OK;
	if (state_worker_status_parse(text, &s) != FM_OK ||
	    s == WORKER_STATUS_REGISTERED)
		return http_reply_error(
		    req, 400, "unknown worker status \"%s\"", text);
	clear = !w->has_request || w->status_requested == s;
	rc = store_workers_set_status(sc->conn, w->id, s, clear);
	if (rc == FM_OK && w->status == WORKER_STATUS_AWAKE &&
	    s != WORKER_STATUS_AWAKE)
		rc = store_status_requeue_worker(
		    sc, w->id, "worker is no longer awake");
	if (rc != FM_OK)
		return rc;
	log_info("worker %s (%s) is now %s", w->name, w->uuid, text);
	return http_reply_empty(req, 204);
}

static enum fm_err
state_changed(struct req *req)
{
	return in_tx(req, do_state_changed);
}

static enum fm_err
do_schedule(struct req *req, const struct status_ctx *sc, struct worker *w)
{
	json_t *assigned;
	int64_t t0;
	enum fm_err rc = store_workers_seen(sc->conn, w);

	if (rc != FM_OK)
		return rc;
	if (w->has_request)
		return http_reply_json(req, 423,
		    json_pack("{s:s}", "status_requested",
		        state_worker_status_name(w->status_requested)));
	if (w->status != WORKER_STATUS_AWAKE)
		return http_reply_error(req, 409,
		    "worker is in state \"%s\", requires state \"awake\" to "
		    "get a task",
		    state_worker_status_name(w->status));
	t0 = time_mono_us();
	rc = scheduler_assign(sc, w, &assigned);
	metrics_observe_assign(time_mono_us() - t0);
	if (rc == FM_ERR_NOTFOUND)
		return http_reply_empty(req, 204);
	if (rc != FM_OK)
		return rc;
	log_info("task %s assigned to worker %s (%s)",
	    json_string_value(json_object_get(assigned, "uuid")), w->name,
	    w->uuid);
	return http_reply_json(req, 200, assigned);
}

static enum fm_err
schedule_task(struct req *req)
{
	return in_tx(req, do_schedule);
}

/* Load the task of the {task_id} path; replies 400/404 itself. */
static bool
load_path_task(struct req *req, const struct status_ctx *sc, struct task_row *t,
    enum fm_err *rc)
{
	const char *id = req_param(req, "task_id");

	*rc = FM_OK;
	if (!ids_valid_uuid(id)) {
		http_reply_error(req, 400, "task ID not valid");
		return false;
	}
	*rc = store_status_load_task(sc->conn, id, t);
	if (*rc == FM_ERR_NOTFOUND) {
		*rc = FM_OK;
		http_reply_error(req, 404, "task %s does not exist", id);
		return false;
	}
	return *rc == FM_OK;
}

static const char sql_task_progress[] =
    "UPDATE tasks SET activity = coalesce(?2, activity), "
    "steps_completed = coalesce(max(0, min(?3, steps_total)), "
    "steps_completed), last_touched_at = ?4, updated_at = ?4 "
    "WHERE id = ?1";
/* The same without moving last_touched_at, whose index then stays put. */
static const char sql_task_progress_untouched[] =
    "UPDATE tasks SET activity = coalesce(?2, activity), "
    "steps_completed = coalesce(max(0, min(?3, steps_total)), "
    "steps_completed), updated_at = ?4 WHERE id = ?1";

/* Like last_seen_at: task timeouts are minutes, a second is plenty. */
#define TOUCH_GRANULARITY_US 1000000

/*
 * The activity as stored: NUL characters (which the Worker's JSON encoder
 * sends for odd bytes a render printed) become U+FFFD, the replacement
 * character, so the text stays one C string for every reader (the
 * database column, the JSON answers) and shows where something was. New
 * string, or NULL when there was no NUL to replace.
 */
static char *
activity_without_nul(const char *activity, size_t len)
{
	static const char repl[] = "\xef\xbf\xbd";
	size_t nnul = 0, o = 0;
	char *out;

	for (size_t i = 0; i < len; i++)
		nnul += activity[i] == '\0';
	if (nnul == 0)
		return NULL;
	out = xmalloc(len + nnul * (sizeof(repl) - 2) + 1);
	for (size_t i = 0; i < len; i++) {
		if (activity[i] == '\0') {
			memcpy(out + o, repl, sizeof(repl) - 1);
			o += sizeof(repl) - 1;
		} else {
			out[o++] = activity[i];
		}
	}
	out[o] = '\0';
	return out;
}

static enum fm_err
do_task_update(struct req *req, const struct status_ctx *sc, struct worker *w)
{
	json_t *body = req_json(req);
	json_t *steps = json_object_get(body, "steps_completed");
	const char *status_text, *activity, *logtext;
	size_t activity_len, log_len;
	char *activity_fixed = NULL;
	enum task_status new_status = TASK_STATUS_ACTIVE;
	struct task_row t;
	sqlite3_stmt *st;
	enum fm_err rc;

	if (!json_is_object(body))
		return http_reply_error(req, 400, "expected a JSON object");
	/* The log and the activity are the Worker's text, which may hold
	 * NUL characters; the log keeps them, byte for byte. */
	if (!string_field(req, "taskStatus", false, &status_text) ||
	    !string_field_n(
	        req, "activity", false, true, &activity, &activity_len) ||
	    !string_field_n(req, "log", false, true, &logtext, &log_len))
		return FM_OK;
	if (steps != NULL && !json_is_null(steps) && !json_is_integer(steps))
		return http_reply_error(
		    req, 400, "\"steps_completed\" must be an integer");
	if (status_text != NULL &&
	    (state_task_status_parse(status_text, &new_status) != FM_OK ||
	        !state_task_status_worker_may_send(new_status)))
		return http_reply_error(req, 400,
		    "workers may not set task status \"%s\"", status_text);
	if (log_len > MAX_LOG_CHUNK)
		return http_reply_error(
		    req, 413, "log chunk larger than %d bytes", MAX_LOG_CHUNK);
	if (!load_path_task(req, sc, &t, &rc))
		return rc;
	if (t.worker_id != w->id)
		return http_reply_error(
		    req, 409, "task %s is not assigned to this worker", t.uuid);

	/* A log that cannot be written fails the update, so the worker
	 * keeps it and sends it again rather than losing it. */
	if (log_len > 0) {
		if ((rc = tasklog_append(sc->cfg->local_manager_storage_path,
		         t.job_uuid, t.uuid, logtext, log_len)) != FM_OK)
			return rc;
		events_task_log(((struct fm_ctx *)req_app(req))->events, t.uuid,
		    logtext, log_len);
	}
	st = store_stmt(sc->conn,
	    time_now_us() - t.last_touched_us >= TOUCH_GRANULARITY_US
	        ? sql_task_progress
	        : sql_task_progress_untouched);
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, t.id);
	if (activity != NULL &&
	    (activity_fixed = activity_without_nul(activity, activity_len)))
		sqlite3_bind_text(st, 2, activity_fixed, -1, free);
	else if (activity != NULL)
		sqlite3_bind_text(st, 2, activity, -1, SQLITE_STATIC);
	if (json_is_integer(steps))
		sqlite3_bind_int64(st, 3, json_integer_value(steps));
	sqlite3_bind_int64(st, 4, time_now_us());
	rc = sqlite3_step(st) == SQLITE_DONE
	    ? FM_OK
	    : store_error(sc->conn, sqlite3_errcode(store_db(sc->conn)),
	          "updating a task");
	sqlite3_reset(st);
	if (rc == FM_OK && (activity != NULL || json_is_integer(steps)))
		store_note(sc->conn, STORE_CHANGED_TASK, t.uuid, t.job_uuid,
		    NULL, NULL);
	/* Steps move the job's progress bar too. */
	if (rc == FM_OK && json_is_integer(steps))
		store_note(
		    sc->conn, STORE_JOB_PROGRESS, t.job_uuid, NULL, NULL, NULL);
	if (rc == FM_OK && status_text != NULL && new_status != t.status)
		rc = new_status == TASK_STATUS_FAILED
		    ? store_status_task_failed(sc, &t, w)
		    : store_status_task(sc, &t, new_status, NULL);
	if (rc == FM_OK)
		rc = store_workers_seen(sc->conn, w);
	if (rc != FM_OK)
		return rc;
	return http_reply_empty(req, 204);
}

static enum fm_err
task_update(struct req *req)
{
	return in_tx(req, do_task_update);
}

static const char sql_touch_task[] =
    "UPDATE tasks SET last_touched_at = ?2 WHERE id = ?1";

static enum fm_err
do_may_i_run(struct req *req, const struct status_ctx *sc, struct worker *w)
{
	const char *id = req_param(req, "task_id");
	struct task_row t;
	sqlite3_stmt *st;
	char reason[128];
	enum fm_err rc;

	if (!ids_valid_uuid(id))
		return http_reply_error(req, 400, "task ID not valid");
	if ((rc = store_workers_seen(sc->conn, w)) != FM_OK)
		return rc;
	rc = store_status_load_task(sc->conn, id, &t);
	if (rc == FM_ERR_NOTFOUND)
		return http_reply_json(req, 200,
		    json_pack("{s:b, s:s, s:b}", "mayKeepRunning", 0, "reason",
		        "Task not found", "statusChangeRequested", 0));
	if (rc != FM_OK)
		return rc;
	if (w->has_request && !w->lazy)
		return http_reply_json(req, 200,
		    json_pack("{s:b, s:s, s:b}", "mayKeepRunning", 0, "reason",
		        "worker status change requested",
		        "statusChangeRequested", 1));
	if (t.worker_id != w->id)
		return http_reply_json(req, 200,
		    json_pack("{s:b, s:s, s:b}", "mayKeepRunning", 0, "reason",
		        "task not assigned to this worker",
		        "statusChangeRequested", 0));
	if (t.status != TASK_STATUS_ACTIVE) {
		snprintf(reason, sizeof(reason),
		    "task is in non-runnable status \"%s\"",
		    state_task_status_name(t.status));
		return http_reply_json(req, 200,
		    json_pack("{s:b, s:s, s:b}", "mayKeepRunning", 0, "reason",
		        reason, "statusChangeRequested", 0));
	}
	if ((st = store_stmt(sc->conn, sql_touch_task)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, t.id);
	sqlite3_bind_int64(st, 2, time_now_us());
	rc = sqlite3_step(st) == SQLITE_DONE
	    ? FM_OK
	    : store_error(sc->conn, sqlite3_errcode(store_db(sc->conn)),
	          "touching a task");
	sqlite3_reset(st);
	if (rc != FM_OK)
		return rc;
	return http_reply_json(req, 200,
	    json_pack("{s:b, s:s, s:b}", "mayKeepRunning", 1, "reason", "",
	        "statusChangeRequested", 0));
}

static enum fm_err
may_i_run(struct req *req)
{
	return in_tx(req, do_may_i_run);
}

/*
 * What the image's header says, checked before anything is queued: the
 * worker hears about a bad upload now, not a log line later. Replies and
 * returns false when the image is refused.
 */
static bool
image_acceptable(struct req *req, bool png, const char *data, size_t len)
{
	struct thumbnail_info info;
	char *err = NULL;

	if (thumbnail_probe(data, len, &info, &err) != FM_OK) {
		http_reply_error(req, 400, "%s", err);
		free(err);
		return false;
	}
	if ((info.format == THUMBNAIL_PNG) != png) {
		http_reply_error(req, 400,
		    "Content-Type says %s but the body is a %s image",
		    png ? "image/png" : "image/jpeg",
		    info.format == THUMBNAIL_PNG ? "PNG" : "JPEG");
		return false;
	}
	if (!thumbnail_within_limits(&info)) {
		http_reply_error(req, 413,
		    "image of %dx%d pixels is larger than %d megapixels or %d "
		    "pixels a side",
		    info.width, info.height, THUMBNAIL_MAX_PIXELS / 1000000,
		    THUMBNAIL_MAX_SIDE);
		return false;
	}
	return true;
}

static enum fm_err
do_output(struct req *req, const struct status_ctx *sc, struct worker *w)
{
	const char *type = req_header(req, "Content-Type");
	struct fm_ctx *ctx = req_app(req);
	struct task_row t;
	const char *data;
	size_t len;
	enum fm_err rc;

	if (req_content_length(req) <= 0)
		return http_reply_error(req, 411,
		    "Content-Length is required and must not be zero");
	if (type == NULL ||
	    (strncmp(type, "image/jpeg", 10) != 0 &&
	        strncmp(type, "image/png", 9) != 0))
		return http_reply_error(
		    req, 415, "expected Content-Type image/jpeg or image/png");
	data = req_body(req, &len);
	if (!image_acceptable(
	        req, strncmp(type, "image/png", 9) == 0, data, len))
		return FM_OK;
	if (!load_path_task(req, sc, &t, &rc))
		return rc;
	if ((rc = store_workers_seen(sc->conn, w)) != FM_OK)
		return rc;
	/* Thumbnails are made by the last-rendered thread (lastrendered.c),
	 * which marks the job as last-rendered once they are written. */
	rc = lastrendered_submit(
	    ctx->lastrendered, t.job_id, t.job_uuid, t.uuid, data, len);
	if (rc == FM_ERR_BUSY)
		return http_reply_error(req, 429,
		    "too many images being processed, try again later");
	if (rc != FM_OK)
		return rc;
	return http_reply_empty(req, 202);
}

static enum fm_err
output_produced(struct req *req)
{
	return in_tx(req, do_output);
}

static const struct route routes[] = {
	{
	    .method = "POST",
	    .pattern = "/api/v3/worker/register-worker",
	    .fn = register_worker,
	    .flags = ROUTE_JSON_BODY,
	},
	{
	    .method = "POST",
	    .pattern = "/api/v3/worker/sign-on",
	    .fn = sign_on,
	    .flags = ROUTE_JSON_BODY | ROUTE_WORKER_AUTH,
	},
	{
	    .method = "POST",
	    .pattern = "/api/v3/worker/sign-off",
	    .fn = sign_off,
	    .flags = ROUTE_WORKER_AUTH,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/worker/state",
	    .fn = worker_state,
	    .flags = ROUTE_WORKER_AUTH,
	},
	{
	    .method = "POST",
	    .pattern = "/api/v3/worker/state-changed",
	    .fn = state_changed,
	    .flags = ROUTE_JSON_BODY | ROUTE_WORKER_AUTH,
	},
	{
	    .method = "POST",
	    .pattern = "/api/v3/worker/task",
	    .fn = schedule_task,
	    .flags = ROUTE_WORKER_AUTH,
	},
	{
	    .method = "POST",
	    .pattern = "/api/v3/worker/task/{task_id}",
	    .fn = task_update,
	    .flags = ROUTE_JSON_BODY | ROUTE_WORKER_AUTH,
	    .max_body = 2 * MAX_LOG_CHUNK,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/worker/task/{task_id}/may-i-run",
	    .fn = may_i_run,
	    .flags = ROUTE_WORKER_AUTH,
	},
	{
	    .method = "POST",
	    .pattern = "/api/v3/worker/task/{task_id}/output-produced",
	    .fn = output_produced,
	    .flags = ROUTE_WORKER_AUTH | ROUTE_RAW_BODY,
	    .max_body = MAX_IMAGE_BYTES,
	},
};

const struct route_table api_worker_routes = { routes, nitems(routes) };
