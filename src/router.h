/*
 * Declared routes and path matching. A route is a method, a pattern such
 * as "/api/v3/jobs/{job_id}" (a final "{name*}" takes the rest of the
 * path), a handler and flags. Matching is pure string work, no regexes.
 */
#ifndef FM_ROUTER_H
#define FM_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "fm.h"

struct req;

#define ROUTE_MAX_PARAMS 4

enum route_flags {
	ROUTE_JSON_BODY = 1 << 0,     /* parse the body as JSON (400 if bad) */
	ROUTE_WORKER_AUTH = 1 << 1,   /* HTTP Basic worker credentials */
	ROUTE_RAW_BODY = 1 << 2,      /* keep the body as bytes */
	ROUTE_OPTIONAL_BODY = 1 << 3, /* with JSON_BODY: empty body is ok */
	ROUTE_ADMIN = 1 << 4, /* farm-admin change: admin password if set */
	ROUTE_SLOW = 1 << 5,  /* may take seconds: run off the HTTP threads */
	ROUTE_STREAM_BODY = 1 << 6, /* body goes to route.sink as it comes */
};

/*
 * Where a ROUTE_STREAM_BODY route's body goes, chunk by chunk, instead of
 * into one buffer capped by max_body: an upload of any size costs no
 * memory. Such routes take no JSON and no credentials. All three run on
 * the connection's HTTP thread; the route's fn still answers at the end.
 */
struct route_sink {
	/*
	 * Headers are in: set up (req_set_sink_state()). May answer at once:
	 * a declared body of at most 64 MiB is then read and dropped before
	 * the answer goes out, a bigger or chunked one is not read and the
	 * connection closes after the answer. A non-OK code unanswered
	 * becomes the error reply.
	 */
	enum fm_err (*open)(struct req *req);
	/*
	 * The next chunk of the body. After a non-OK return no more chunks
	 * come; the sink keeps what went wrong for fn to answer with.
	 */
	enum fm_err (*write)(struct req *req, const char *data, size_t len);
	/*
	 * The request is over: completed is false when it ended without its
	 * reply being sent (the client went away mid-upload, a deadline
	 * passed, the server stops). Releases the state; runs once for
	 * every open() call.
	 */
	void (*close)(struct req *req, bool completed);
};

struct route {
	const char *method;  /* "GET", "POST", "PUT", "DELETE" */
	const char *pattern; /* "/api/v3/jobs/{job_id}" */
	enum fm_err (*fn)(struct req *req);
	unsigned flags;  /* enum route_flags */
	size_t max_body; /* bytes; 0 = the configured default (or none for
	                    ROUTE_STREAM_BODY) */
	const struct route_sink *sink; /* ROUTE_STREAM_BODY only */
	size_t max_json_values; /* ROUTE_JSON_BODY; 0 = the default 100000 */
};

/* A route table and its length, as each api_*.c exports one. */
struct route_table {
	const struct route *routes;
	size_t nroutes;
};

struct route_match {
	const struct route *route; /* NULL: no route for path+method */
	bool path_matched;         /* some route has this path (-> 405) */
	size_t nparams;
	struct {
		const char *name; /* points into the pattern, not NUL-ended */
		size_t name_len;
		const char *value; /* points into the path */
		size_t value_len;
	} params[ROUTE_MAX_PARAMS];
};

/*
 * Find the route for method and path. Literal segments beat parameters
 * (so "/jobs/types" wins over "/jobs/{job_id}"); HEAD matches GET routes.
 * allow_out (may be NULL) receives the comma-separated methods the path
 * does support, for a 405's Allow header.
 */
void router_match(const struct route_table *const *tables, size_t ntables,
    const char *method, const char *path, struct route_match *match_out,
    char *allow_out, size_t allow_len);

/* Print "METHOD pattern" for every route, sorted (--dump-routes). */
void router_dump(
    const struct route_table *const *tables, size_t ntables, FILE *out);

#endif
