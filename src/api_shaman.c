/*
 * Shaman endpoints (shamanCheckoutRequirements, shamanFileStoreCheck,
 * shamanFileStore, shamanCheckout in api/openapi.yaml): the Blender
 * add-on asks which files the Manager lacks, uploads those (streamed to
 * disk through a route sink, never held in memory), then has the Manager
 * build the job's checkout. With Shaman off all four answer 503.
 */
#include "api.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "http.h"
#include "log.h"
#include "rfc2047.h"
#include "shaman_checkout.h"
#include "shaman_store.h"
#include "utf8.h"
#include "xmalloc.h"

/* A checkout request of 100,000 files is about 15 MB of JSON with seven
 * values per file (keys count); 140,000 files fit. */
#define CHECKOUT_MAX_BODY   (64 * 1024 * 1024)
#define CHECKOUT_MAX_VALUES 1000000
#define CHECKOUT_MAX_FILES  140000
/* Files named in the 424 message of a checkout with missing files. */
#define MISSING_SHOWN 5

static struct shaman_store *
shaman_of(struct req *req)
{
	return ((struct fm_ctx *)req_app(req))->shaman;
}

/* Answer 503 unless Shaman is on. */
static bool
shaman_on(struct req *req)
{
	if (shaman_of(req) != NULL)
		return true;
	http_reply_error(req, 503,
	    "Shaman is disabled on this Manager (shaman.enabled, "
	    "shared_storage_path)");
	return false;
}

/* A file size from text: decimal digits only, fits int64. */
static bool
parse_size(const char *s, int64_t *out)
{
	int64_t v = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 18)
		return false;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return true;
}

/* {checksum}/{filesize} from the path; answers 400 when bad. */
static bool
file_params(struct req *req, const char **sum_out, int64_t *size_out)
{
	*sum_out = req_param(req, "checksum");
	if (!shaman_checksum_valid(*sum_out)) {
		http_reply_error(req, 400,
		    "checksum must be a SHA-256 sum of 64 hex digits");
		return false;
	}
	if (!parse_size(req_param(req, "filesize"), size_out)) {
		http_reply_error(
		    req, 400, "filesize must be a non-negative integer");
		return false;
	}
	return true;
}

/*
 * One {"sha", "size", "path"} of a request's "files": into *f (borrowed
 * strings) or a 400 naming the entry.
 */
static bool
file_spec(struct req *req, size_t i, json_t *item, struct shaman_file *f)
{
	json_t *sha = json_object_get(item, "sha");
	json_t *size = json_object_get(item, "size");
	json_t *path = json_object_get(item, "path");
	const char *why;

	if (!json_is_object(item) || !json_is_string(sha) ||
	    !json_is_integer(size) || !json_is_string(path)) {
		http_reply_error(req, 400,
		    "files[%zu]: expected {\"sha\": string, \"size\": "
		    "integer, \"path\": string}",
		    i);
		return false;
	}
	if (!shaman_checksum_valid(json_string_value(sha))) {
		http_reply_error(req, 400,
		    "files[%zu].sha: expected a SHA-256 sum of 64 hex digits",
		    i);
		return false;
	}
	if (json_integer_value(size) < 0) {
		http_reply_error(req, 400, "files[%zu].size is negative", i);
		return false;
	}
	if (!shaman_file_path_valid(
	        json_string_value(path), json_string_length(path), &why)) {
		http_reply_error(req, 400, "files[%zu].path: %s", i, why);
		return false;
	}
	f->checksum = json_string_value(sha);
	f->size = json_integer_value(size);
	f->path = json_string_value(path);
	return true;
}

/* The "files" array of the body, or a 400. */
static json_t *
files_of(struct req *req)
{
	json_t *files = json_object_get(req_json(req), "files");

	if (!json_is_object(req_json(req)) || !json_is_array(files)) {
		http_reply_error(req, 400, "expected {\"files\": [...]}");
		return NULL;
	}
	if (json_array_size(files) > CHECKOUT_MAX_FILES) {
		http_reply_error(
		    req, 413, "more than %d files", CHECKOUT_MAX_FILES);
		return NULL;
	}
	return files;
}

/* --- POST /api/v3/shaman/checkout/requirements */

static enum fm_err
checkout_requirements(struct req *req)
{
	json_t *files, *item, *out;
	size_t i;

	if (!shaman_on(req) || (files = files_of(req)) == NULL)
		return FM_OK;
	out = json_array();
	json_array_foreach (files, i, item) {
		struct shaman_file f;
		enum shaman_status st;

		if (!file_spec(req, i, item, &f)) {
			json_decref(out);
			return FM_OK;
		}
		st = shaman_store_status(
		    shaman_of(req), f.checksum, f.size, true);
		if (st == SHAMAN_STATUS_STORED)
			continue;
		json_array_append_new(out,
		    json_pack("{s:O, s:O, s:O, s:s}", "sha",
		        json_object_get(item, "sha"), "size",
		        json_object_get(item, "size"), "path",
		        json_object_get(item, "path"), "status",
		        shaman_status_name(st)));
	}
	return http_reply_json(req, 200, json_pack("{s:o}", "files", out));
}

/* --- GET /api/v3/shaman/files/{checksum}/{filesize} */

static enum fm_err
file_status(struct req *req)
{
	const char *sum;
	int64_t size;

	if (!shaman_on(req) || !file_params(req, &sum, &size))
		return FM_OK;
	return http_reply_json(req, 200,
	    json_pack("{s:s}", "status",
	        shaman_status_name(
	            shaman_store_status(shaman_of(req), sum, size, true))));
}

/* --- POST /api/v3/shaman/files/{checksum}/{filesize} (streamed) */

struct upload_req {
	struct shaman_upload *up;
	char *name; /* X-Shaman-Original-Filename, decoded and escaped */
	bool finished;
};

/* Go's strconv.ParseBool, true side (anything else is false). */
static bool
go_parse_true(const char *s)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true",
		"True" };

	for (size_t i = 0; s != NULL && i < nitems(yes); i++)
		if (strcmp(s, yes[i]) == 0)
			return true;
	return false;
}

static enum fm_err
upload_open(struct req *req)
{
	struct upload_req *ur;
	const char *sum, *name_hdr;
	int64_t size, declared = req_content_length(req);
	bool nospace;
	enum shaman_status st;
	enum fm_err rc;

	if (!shaman_on(req) || !file_params(req, &sum, &size))
		return FM_OK;
	ur = xcalloc(1, sizeof(*ur));
	name_hdr = req_header(req, "X-Shaman-Original-Filename");
	if (name_hdr != NULL) {
		char *decoded = rfc2047_decode(name_hdr);
		char escaped[512];

		utf8_escape_log(decoded, escaped, sizeof(escaped));
		ur->name = xstrdup(escaped);
		free(decoded);
	} else {
		ur->name = xstrdup("(no name given)");
	}
	req_set_sink_state(req, ur);
	if (declared >= 0 && declared != size)
		return http_reply_error(req, 417,
		    "Content-Length %" PRId64 " is not the file size %" PRId64,
		    declared, size);
	st = shaman_store_status(shaman_of(req), sum, size, true);
	if (st == SHAMAN_STATUS_STORED) {
		log_info("Shaman: %s (%s, %" PRId64 " bytes) is stored already",
		    ur->name, sum, size);
		return http_reply_empty(req, 208);
	}
	if (st == SHAMAN_STATUS_UPLOADING &&
	    go_parse_true(req_header(req, "X-Shaman-Can-Defer-Upload")))
		return http_reply_error(req, 425,
		    "another client is uploading this file; upload it later");
	rc = shaman_upload_begin(shaman_of(req), sum, size, &ur->up, &nospace);
	if (rc == FM_OK)
		return FM_OK;
	if (nospace) {
		req_add_header(req, "Retry-After", "60");
		return http_reply_error(req, 503,
		    "not enough free disk space on the Manager's shared "
		    "storage for %" PRId64 " bytes",
		    size);
	}
	return http_reply_error(
	    req, 500, "the Manager cannot store uploads; see its log");
}

static enum fm_err
upload_write(struct req *req, const char *data, size_t len)
{
	struct upload_req *ur = req_sink_state(req);

	if (ur == NULL || ur->up == NULL)
		return FM_ERR_INVALID;
	return shaman_upload_write(ur->up, data, len) == SHAMAN_STORED
	    ? FM_OK
	    : FM_ERR_IO;
}

static void
upload_close(struct req *req, bool completed)
{
	struct upload_req *ur = req_sink_state(req);

	if (ur == NULL)
		return;
	if (!completed && ur->up != NULL && !ur->finished)
		log_warn("Shaman: upload of %s broke off after %" PRIu64
		         " bytes (the client went away); nothing stored",
		    ur->name, shaman_upload_received(ur->up));
	shaman_upload_free(ur->up);
	free(ur->name);
	free(ur);
	req_set_sink_state(req, NULL);
}

/* The whole body is in: verify, store, answer. */
static enum fm_err
upload_finish(struct req *req)
{
	struct upload_req *ur = req_sink_state(req);
	const char *sum = req_param(req, "checksum");
	enum shaman_result res;

	if (ur == NULL || ur->up == NULL)
		return FM_ERR_INTERNAL; /* open() answered: never here */
	res = shaman_upload_finish(ur->up);
	ur->finished = true;
	switch (res) {
	case SHAMAN_STORED:
		log_info("Shaman: stored %s (%s, %" PRIu64 " bytes)", ur->name,
		    sum, shaman_upload_received(ur->up));
		return http_reply_empty(req, 204);
	case SHAMAN_KNOWN:
		log_info("Shaman: %s (%s) was stored meanwhile by another "
		         "upload",
		    ur->name, sum);
		return http_reply_empty(req, 208);
	case SHAMAN_MISMATCH:
		log_warn("Shaman: upload of %s does not match its checksum %s "
		         "and size %s; refused",
		    ur->name, sum, req_param(req, "filesize"));
		return http_reply_error(req, 417,
		    "the uploaded data does not match checksum %s and size %s "
		    "(%" PRIu64 " bytes received)",
		    sum, req_param(req, "filesize"),
		    shaman_upload_received(ur->up));
	case SHAMAN_NOSPACE:
		req_add_header(req, "Retry-After", "60");
		return http_reply_error(req, 503,
		    "not enough free disk space on the Manager's shared "
		    "storage; nothing was stored");
	case SHAMAN_IO:
		break;
	}
	return http_reply_error(
	    req, 500, "the Manager could not store the file; see its log");
}

static const struct route_sink upload_sink = {
	.open = upload_open,
	.write = upload_write,
	.close = upload_close,
};

/* --- POST /api/v3/shaman/checkout/create */

static enum fm_err
checkout_create(struct req *req)
{
	struct shaman_store *store;
	json_t *files, *item, *jpath;
	struct shaman_file *specs = NULL;
	char *actual = NULL, *err = NULL;
	size_t i, missing = 0;
	char shown[MISSING_SHOWN * 80] = "";
	const char *why;
	enum fm_err rc;

	if (!shaman_on(req) || (files = files_of(req)) == NULL)
		return FM_OK;
	store = shaman_of(req);
	jpath = json_object_get(req_json(req), "checkoutPath");
	if (!json_is_string(jpath))
		return http_reply_error(
		    req, 400, "checkoutPath: expected a string");
	if (!shaman_checkout_path_valid(
	        json_string_value(jpath), json_string_length(jpath), &why))
		return http_reply_error(req, 400, "%s", why);
	specs = xcalloc(json_array_size(files) + 1, sizeof(*specs));
	json_array_foreach (files, i, item) {
		if (!file_spec(req, i, item, &specs[i])) {
			free(specs);
			return FM_OK;
		}
		/* Touched: what this job needs must outlive the next GC. */
		if (shaman_store_status(store, specs[i].checksum, specs[i].size,
		        true) == SHAMAN_STATUS_STORED)
			continue;
		if (missing++ < MISSING_SHOWN) {
			size_t n = strlen(shown);

			snprintf(shown + n, sizeof(shown) - n, "%s%.60s",
			    n > 0 ? ", " : "", specs[i].path);
		}
	}
	if (missing > 0) {
		free(specs);
		return http_reply_error(req, 424,
		    "%zu files are not stored on the Manager (%s%s); upload "
		    "them first",
		    missing, shown, missing > MISSING_SHOWN ? ", ..." : "");
	}
	rc = shaman_checkout_create(store, json_string_value(jpath), specs,
	    json_array_size(files), &actual, &err);
	free(specs);
	if (rc == FM_ERR_INVALID || rc == FM_ERR_CONFLICT ||
	    rc == FM_ERR_NOTFOUND) {
		/* NOTFOUND: garbage collection took a file since the check. */
		http_reply_error(req,
		    rc == FM_ERR_INVALID        ? 400
		        : rc == FM_ERR_CONFLICT ? 409
		                                : 424,
		    "%s", err);
		free(err);
		return FM_OK;
	}
	if (rc != FM_OK) {
		http_reply_error(req, 500, "%s", err);
		free(err);
		return FM_OK;
	}
	free(err);
	item = json_pack("{s:s}", "checkoutPath", actual);
	free(actual);
	return http_reply_json(req, 200, item);
}

static const struct route routes[] = {
	{
	    .method = "POST",
	    .pattern = "/api/v3/shaman/checkout/requirements",
	    .fn = checkout_requirements,
	    .flags = ROUTE_JSON_BODY | ROUTE_SLOW,
	    .max_body = CHECKOUT_MAX_BODY,
	    .max_json_values = CHECKOUT_MAX_VALUES,
	},
	{
	    .method = "POST",
	    .pattern = "/api/v3/shaman/checkout/create",
	    .fn = checkout_create,
	    .flags = ROUTE_JSON_BODY | ROUTE_SLOW,
	    .max_body = CHECKOUT_MAX_BODY,
	    .max_json_values = CHECKOUT_MAX_VALUES,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/shaman/files/{checksum}/{filesize}",
	    .fn = file_status,
	},
	{
	    .method = "POST",
	    .pattern = "/api/v3/shaman/files/{checksum}/{filesize}",
	    .fn = upload_finish,
	    .flags = ROUTE_STREAM_BODY | ROUTE_SLOW,
	    .sink = &upload_sink,
	},
};

const struct route_table api_shaman_routes = { routes, nitems(routes) };
