/*
 * Task endpoints (fetchTask, setTaskStatus, fetchTaskLogInfo,
 * fetchTaskLogTail): one task, an admin status change, and the
 * task's log as information about the file or as its tail.
 */
#include "api.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "http.h"
#include "ids.h"
#include "log.h"
#include "state.h"
#include "store.h"
#include "store_admin.h"
#include "store_status.h"
#include "store_tasks.h"
#include "tasklog.h"
#include "xmalloc.h"

/* The log tail is at most this many bytes (fetchTaskLogTail). */
#define LOGTAIL_BYTES 2048

/* Check the path's task ID; replies 400 (Flamenco's wording, sic). */
static bool
valid_task_id(struct req *req)
{
	if (ids_valid_uuid(req_param(req, "task_id")))
		return true;
	http_reply_error(req, 400, "job ID not valid");
	return false;
}

static enum fm_err
get_task(struct req *req)
{
	struct fm_ctx *ctx = req_app(req);
	struct store_conn *conn;
	json_t *task;
	enum fm_err rc;

	if (!valid_task_id(req))
		return FM_OK;
	conn = store_acquire(ctx->store);
	rc = store_tasks_get(conn, req_param(req, "task_id"), &task);
	store_release(ctx->store, conn);
	if (rc == FM_ERR_NOTFOUND)
		return http_reply_error(req, 404, "no such task");
	if (rc != FM_OK)
		return rc;
	return http_reply_json(req, 200, task);
}

/*
 * Admin status change: the reason becomes the task's activity, a requeue
 * also clears the failure list, then the state machine's single-task
 * path runs (log line, job roll-up), all in one write transaction.
 */
static enum fm_err
post_set_status(struct req *req)
{
	struct fm_ctx *ctx = req_app(req);
	json_t *body = req_json(req);
	const char *status = json_string_value(json_object_get(body, "status"));
	const char *reason = json_string_value(json_object_get(body, "reason"));
	struct status_ctx sc = { .cfg = ctx->cfg };
	enum task_status to;
	struct task_row t;
	enum fm_err rc;

	if (!valid_task_id(req))
		return FM_OK;
	if (status == NULL || reason == NULL)
		return http_reply_error(
		    req, 400, "\"status\" and \"reason\" are required strings");
	if (state_task_status_parse(status, &to) != FM_OK)
		return http_reply_error(
		    req, 400, "unknown task status \"%s\"", status);
	sc.conn = store_acquire(ctx->store);
	rc = store_begin(sc.conn, true);
	if (rc == FM_OK)
		rc = store_status_load_task(
		    sc.conn, req_param(req, "task_id"), &t);
	if (rc == FM_OK && to == TASK_STATUS_QUEUED)
		rc = store_admin_clear_task_failures(sc.conn, t.id);
	if (rc == FM_OK)
		rc = store_status_task(&sc, &t, to, reason);
	if (rc == FM_OK)
		rc = store_commit(sc.conn);
	store_rollback(sc.conn);
	store_release(ctx->store, sc.conn);
	if (rc == FM_ERR_NOTFOUND)
		return http_reply_error(req, 404, "no such task");
	if (rc != FM_OK)
		return rc;
	return http_reply_empty(req, 204);
}

/*
 * Look up the path's task and open its log file. Replies itself (400,
 * 404, or 204 when there is no log or it is empty) and returns -1 then;
 * otherwise returns the open descriptor with its size in *size_out.
 */
static int
open_task_log(
    struct req *req, struct task_row *t, off_t *size_out, enum fm_err *rc_out)
{
	struct fm_ctx *ctx = req_app(req);
	struct store_conn *conn;
	struct stat st;
	char *rel, *path;
	int fd;

	*rc_out = FM_OK;
	if (!valid_task_id(req))
		return -1;
	conn = store_acquire(ctx->store);
	*rc_out = store_status_load_task(conn, req_param(req, "task_id"), t);
	store_release(ctx->store, conn);
	if (*rc_out == FM_ERR_NOTFOUND) {
		*rc_out = http_reply_error(req, 404, "no such task");
		return -1;
	}
	if (*rc_out != FM_OK)
		return -1;
	rel = tasklog_relpath(t->job_uuid, t->uuid);
	path = xasprintf("%s/%s", ctx->cfg->local_manager_storage_path, rel);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 &&
	    (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0)) {
		close(fd);
		fd = -1;
	} else if (fd < 0 && errno != ENOENT) {
		log_warn("task log %s: %s", path, strerror(errno));
	}
	free(path);
	free(rel);
	if (fd < 0) {
		*rc_out = http_reply_empty(req, 204);
		return -1;
	}
	*size_out = st.st_size;
	return fd;
}

static enum fm_err
get_log_info(struct req *req)
{
	struct task_row t;
	off_t size;
	enum fm_err rc;
	char *rel, *url;
	json_t *info;
	int fd;

	if ((fd = open_task_log(req, &t, &size, &rc)) < 0)
		return rc;
	close(fd);
	rel = tasklog_relpath(t.job_uuid, t.uuid);
	url = xasprintf("/job-files/%s", rel);
	info = json_pack("{s:s, s:s, s:s, s:I}", "task_id", t.uuid, "job_id",
	    t.job_uuid, "url", url, "size", (json_int_t)size);
	free(url);
	free(rel);
	return http_reply_json(req, 200, info);
}

/*
 * The last LOGTAIL_BYTES of the log (fetchTaskLogTail): a shorter file whole;
 * otherwise the window from just after its first newline, unless the
 * window has no newline or only a final one: then the whole window.
 */
static enum fm_err
get_log_tail(struct req *req)
{
	struct task_row t;
	off_t size, from;
	enum fm_err rc;
	char *buf, *nl;
	size_t want, start = 0;
	ssize_t got;
	int fd;

	if ((fd = open_task_log(req, &t, &size, &rc)) < 0)
		return rc;
	from = size > LOGTAIL_BYTES ? size - LOGTAIL_BYTES : 0;
	want = (size_t)(size - from);
	buf = xmalloc(want);
	got = pread(fd, buf, want, from);
	close(fd);
	if (got < 0) {
		log_error(
		    "reading the log of task %s: %s", t.uuid, strerror(errno));
		free(buf);
		return FM_ERR_IO;
	}
	want = (size_t)got;
	if (from > 0 && (nl = memchr(buf, '\n', want)) != NULL &&
	    (size_t)(nl - buf) + 1 < want)
		start = (size_t)(nl - buf) + 1;
	if (start > 0)
		memmove(buf, buf + start, want - start);
	return http_reply_buffer(
	    req, 200, "text/plain; charset=utf-8", buf, want - start);
}

static const struct route routes[] = {
	{
	    .method = "GET",
	    .pattern = "/api/v3/tasks/{task_id}",
	    .fn = get_task,
	},
	{
	    .method = "POST",
	    .pattern = "/api/v3/tasks/{task_id}/setstatus",
	    .fn = post_set_status,
	    .flags = ROUTE_JSON_BODY | ROUTE_ADMIN,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/tasks/{task_id}/log",
	    .fn = get_log_info,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/tasks/{task_id}/logtail",
	    .fn = get_log_tail,
	},
};

const struct route_table api_tasks_routes = { routes, nitems(routes) };
