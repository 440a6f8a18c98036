/*
 * GET /job-files/{path}: the files under local_manager_storage_path
 * (task logs, last-rendered images) as Flamenco serves them (fetchJobFile).
 * Nothing outside that directory is ever served: ".." and "." segments and
 * absolute paths are refused, the resolved path must lie under the resolved
 * storage root, and only regular files are sent.
 */
#include "api.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "http.h"
#include "xmalloc.h"

/* Content types by file name extension; anything else is octet-stream. */
static const struct {
	const char *ext;
	const char *type;
} content_types[] = {
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".jpg", "image/jpeg" },
	{ ".jpeg", "image/jpeg" },
	{ ".png", "image/png" },
};

static const char *
content_type(const char *path)
{
	const char *dot = strrchr(path, '.');

	if (dot != NULL && strchr(dot, '/') == NULL)
		for (size_t i = 0; i < nitems(content_types); i++)
			if (strcasecmp(dot, content_types[i].ext) == 0)
				return content_types[i].type;
	return "application/octet-stream";
}

/* Relative, no empty, "." or ".." segment (MHD has %-decoded it). */
static bool
safe_relpath(const char *rel)
{
	const char *seg = rel;

	if (rel == NULL || rel[0] == '\0' || rel[0] == '/')
		return false;
	for (;;) {
		const char *end = strchr(seg, '/');
		size_t len = end ? (size_t)(end - seg) : strlen(seg);

		if (len == 0 || (len == 1 && seg[0] == '.') ||
		    (len == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
		if (end == NULL)
			return true;
		seg = end + 1;
	}
}

/*
 * Open rel under root for reading, or -1. The path is resolved (symbolic
 * links included) and must stay inside the resolved root; O_NOFOLLOW
 * guards the last component against a swap after the check.
 */
static int
open_under(const char *root, const char *rel, struct stat *st)
{
	char *full = NULL, real_root[PATH_MAX], real[PATH_MAX];
	size_t n;
	int fd = -1;

	if (!safe_relpath(rel) || realpath(root, real_root) == NULL)
		return -1;
	full = xasprintf("%s/%s", real_root, rel);
	n = strlen(real_root);
	if (realpath(full, real) != NULL && strncmp(real, real_root, n) == 0 &&
	    real[n] == '/')
		fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && (fstat(fd, st) != 0 || !S_ISREG(st->st_mode))) {
		close(fd);
		fd = -1;
	}
	free(full);
	return fd;
}

static enum fm_err
get_job_file(struct req *req)
{
	struct fm_ctx *ctx = req_app(req);
	const char *rel = req_param(req, "path");
	struct stat st;
	int fd;

	fd = open_under(ctx->cfg->local_manager_storage_path, rel, &st);
	if (fd < 0)
		return http_reply_error(req, 404, "file not found");
	return http_reply_fd(
	    req, 200, content_type(rel), fd, (uint64_t)st.st_size);
}

static const struct route routes[] = {
	{
	    .method = "GET",
	    .pattern = "/job-files/{path*}",
	    .fn = get_job_file,
	},
};

const struct route_table api_files_routes = { routes, nitems(routes) };
