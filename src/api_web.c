/*
 * The web dashboard: the files of src/web/, embedded at build time together
 * with a gzip copy of each, served under /app/ with their content type, a
 * strong ETag (the build's hash of the bytes sent, revalidated on every use
 * so a new binary shows at once) and the compressed copy when the client
 * accepts gzip. GET / leads to /app/.
 */
#include "api.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "embedded.h"
#include "http.h"
#include "xmalloc.h"

/* Content types by file name extension. */
static const struct {
	const char *ext;
	const char *type;
} content_types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".json", "application/json" },
};

static const char *
content_type(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot != NULL)
		for (size_t i = 0; i < nitems(content_types); i++)
			if (strcmp(dot, content_types[i].ext) == 0)
				return content_types[i].type;
	return "application/octet-stream";
}

/* Index of the embedded file called name, or -1. */
static long
find_file(const char *name)
{
	for (size_t i = 0; i < embedded_web_count; i++)
		if (strcmp(embedded_web[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* Whether Accept-Encoding lists gzip (or "*") without refusing it with
 * q=0. */
static bool
accepts_gzip(const char *accept)
{
	const char *p = accept;

	while (p != NULL && *p != '\0') {
		size_t len, coding;
		const char *q;

		p += strspn(p, " \t,");
		len = strcspn(p, ",");
		coding = strcspn(p, " \t;,");
		if ((coding == 4 && strncasecmp(p, "gzip", 4) == 0) ||
		    (coding == 1 && p[0] == '*')) {
			q = memchr(p, ';', len);
			if (q != NULL)
				q = strstr(q, "q=");
			return q == NULL || q >= p + len ||
			    strtod(q + 2, NULL) > 0;
		}
		p += len;
	}
	return false;
}

/* Whether If-None-Match names etag (or is "*"). */
static bool
etag_matches(const char *if_none_match, const char *etag)
{
	if (if_none_match == NULL)
		return false;
	return strcmp(if_none_match, "*") == 0 ||
	    strstr(if_none_match, etag) != NULL;
}

static enum fm_err
serve_file(struct req *req, const char *name)
{
	char *gz_name = xasprintf("%s.gz", name);
	long i = find_file(name), gz = find_file(gz_name);
	const struct embedded_file *f;
	size_t len = strlen(name);

	free(gz_name);
	/* A precompressed copy is not a file of its own. */
	if (i < 0 || (len > 3 && strcmp(name + len - 3, ".gz") == 0))
		return http_reply_error(
		    req, 404, "Not Found: %s", req_path(req));
	f = &embedded_web[i];
	if (gz >= 0 && embedded_web[gz].len < f->len &&
	    accepts_gzip(req_header(req, "Accept-Encoding"))) {
		/* Its own bytes, so its own ETag. */
		f = &embedded_web[gz];
		req_add_header(req, "Content-Encoding", "gzip");
	}
	req_add_header(req, "ETag", f->etag);
	req_add_header(req, "Cache-Control", "no-cache");
	if (gz >= 0)
		req_add_header(req, "Vary", "Accept-Encoding");
	if (etag_matches(req_header(req, "If-None-Match"), f->etag))
		return http_reply_empty(req, 304);
	return http_reply_static(req, 200, content_type(name), f->data, f->len);
}

static enum fm_err
redirect_to_app(struct req *req)
{
	req_add_header(req, "Location", "/app/");
	return http_reply_empty(req, 307);
}

static enum fm_err
get_index(struct req *req)
{
	return serve_file(req, "index.html");
}

static enum fm_err
get_asset(struct req *req)
{
	const char *path = req_param(req, "path");

	/* Files are flat; no directories below /app/. */
	if (strchr(path, '/') != NULL)
		return http_reply_error(
		    req, 404, "Not Found: %s", req_path(req));
	return serve_file(req, path);
}

static const struct route routes[] = {
	{
	    .method = "GET",
	    .pattern = "/",
	    .fn = redirect_to_app,
	},
	{
	    .method = "GET",
	    .pattern = "/app",
	    .fn = redirect_to_app,
	},
	{
	    .method = "GET",
	    .pattern = "/app/",
	    .fn = get_index,
	},
	{
	    .method = "GET",
	    .pattern = "/app/{path*}",
	    .fn = get_asset,
	},
};

const struct route_table api_web_routes = { routes, nitems(routes) };
