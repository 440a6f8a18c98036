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
};

struct route {
	const char *method;  /* "GET", "POST", "PUT", "DELETE" */
	const char *pattern; /* "/api/v3/jobs/{job_id}" */
	enum fm_err (*fn)(struct req *req);
	unsigned flags;  /* enum route_flags */
	size_t max_body; /* bytes; 0 = the configured default */
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
