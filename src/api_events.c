/*
 * GET /api/v3/events: the live event stream (Server-Sent Events) that the
 * web dashboard and scripts follow. Query parameters choose the task
 * updates (jobs=) and task logs (tasks=) a client wants besides the
 * events everybody gets; Last-Event-ID (header or last_event_id=) resumes
 * after a reconnect.
 */
#include <stdlib.h>

#include "api.h"
#include "app.h"
#include "http.h"
#include "sse.h"

static enum fm_err
get_events(struct req *req)
{
	struct fm_ctx *ctx = req_app(req);
	const char *last = req_header(req, "Last-Event-ID"), *why;
	struct sse_filter f = {
		.jobs = req_query(req, "jobs"),
		.tasks = req_query(req, "tasks"),
	};
	enum fm_err rc;

	if (last == NULL)
		last = req_query(req, "last_event_id");
	if (last != NULL && last[0] != '\0') {
		char *end;
		unsigned long long v = strtoull(last, &end, 10);

		if (*end != '\0' || last[0] == '-')
			return http_reply_error(req, 400,
			    "Last-Event-ID must be an event id such as 42");
		f.after_id = v;
	}
	rc = sse_open(ctx->sse, req, &f, &why);
	if (rc == FM_ERR_INVALID)
		return http_reply_error(req, 400, "%s", why);
	return rc;
}

static const struct route routes[] = {
	{ .method = "GET", .pattern = "/api/v3/events", .fn = get_events },
};

const struct route_table api_events_routes = { routes, nitems(routes) };
