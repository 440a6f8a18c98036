/*
 * Server-Sent Events: each open GET /api/v3/events is a bus subscriber
 * whose events are written as "id:", "event:" (the topic) and "data:" (the
 * JSON payload) lines. An idle stream is parked (no thread, no polling)
 * until the bus has something for it; a heartbeat comment every few
 * seconds keeps proxies from closing it and notices clients that left. A
 * stream that falls behind gets a "resync" event and is closed.
 */
#ifndef FM_SSE_H
#define FM_SSE_H

#include <stddef.h>
#include <stdint.h>

#include "fm.h"

struct eventbus;
struct req;
struct sse_hub;

/* Which events a stream wants beyond the ones everybody gets (jobs,
 * workers, tags, farm status, last-rendered images, life cycle). */
struct sse_filter {
	const char *jobs;  /* comma list of job UUIDs whose task updates to
	                      send, "all", or NULL */
	const char *tasks; /* comma list of task UUIDs whose log chunks to
	                      send, "all", or NULL */
	uint64_t after_id; /* Last-Event-ID: resume after it; 0 = new */
};

/* A hub for streams on bus (borrowed). heartbeat_us: idle time before a
 * comment line is sent. New. */
struct sse_hub *sse_hub_new(struct eventbus *bus, int64_t heartbeat_us);

/* End every open stream (they finish their current write and close);
 * call before the HTTP server stops. */
void sse_hub_close_streams(struct sse_hub *hub);

/* Free the hub once the HTTP server has stopped. NULL-safe. */
void sse_hub_free(struct sse_hub *hub);

/* Open streams now. */
size_t sse_hub_streams(struct sse_hub *hub);

/*
 * Answer req with an event stream. FM_ERR_INVALID with *why_out (static
 * text) when the filter names something that is not a UUID.
 */
FM_MUST_CHECK enum fm_err sse_open(struct sse_hub *hub, struct req *req,
    const struct sse_filter *filter, const char **why_out);

#endif
