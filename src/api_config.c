/*
 * Configuration endpoints: the configuration and variables as clients see
 * them, the shared storage location, a check of a candidate storage path,
 * and the configuration file itself (read, and written atomically).
 */
#include "api.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "variables.h"
#include "xmalloc.h"

static bool
valid_audience(const char *a)
{
	return strcmp(a, "users") == 0 || strcmp(a, "workers") == 0;
}

static bool
valid_platform(const char *p)
{
	size_t n = strlen(p);

	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') ||
		        (p[i] >= '0' && p[i] <= '9') || p[i] == '_' ||
		        p[i] == '-'))
			return false;
	return true;
}

/* Check the {audience}/{platform} parameters; replies 400 when bad. */
static bool
audience_platform(struct req *req, const char **audience, const char **platform)
{
	*audience = req_param(req, "audience");
	*platform = req_param(req, "platform");
	if (!valid_audience(*audience)) {
		http_reply_error(req, 400,
		    "invalid audience \"%s\": expected users or workers",
		    *audience);
		return false;
	}
	if (!valid_platform(*platform)) {
		http_reply_error(
		    req, 400, "invalid platform \"%s\"", *platform);
		return false;
	}
	if (strcmp(*platform, "manager") == 0)
		*platform = variables_manager_platform();
	return true;
}

static enum fm_err
get_configuration(struct req *req)
{
	const struct fm_config *cfg = ((struct fm_ctx *)req_app(req))->cfg;
	const char *storage = config_shared_storage(cfg);

	return http_reply_json(req, 200,
	    json_pack("{s:s, s:b, s:b}", "storageLocation", storage,
	        "shamanEnabled", config_shaman_enabled(cfg), "isFirstRun",
	        !cfg->file_exists || storage[0] == '\0'));
}

static enum fm_err
get_shared_storage(struct req *req)
{
	const struct fm_config *cfg = ((struct fm_ctx *)req_app(req))->cfg;
	const char *audience, *platform;
	char *location;
	json_t *body;

	if (!audience_platform(req, &audience, &platform))
		return FM_OK;
	location = variables_expand(
	    cfg, audience, platform, config_storage_location(cfg));
	body = json_pack("{s:s, s:s, s:s, s:b}", "location", location,
	    "audience", req_param(req, "audience"), "platform",
	    req_param(req, "platform"), "shamanEnabled",
	    config_shaman_enabled(cfg));
	free(location);
	return http_reply_json(req, 200, body);
}

static enum fm_err
get_variables(struct req *req)
{
	const struct fm_config *cfg = ((struct fm_ctx *)req_app(req))->cfg;
	const char *audience, *platform;

	if (!audience_platform(req, &audience, &platform))
		return FM_OK;
	return http_reply_json(
	    req, 200, variables_to_json(cfg, audience, platform));
}

static enum fm_err
post_check_shared_storage(struct req *req)
{
	json_t *body = req_json(req);
	const char *path = json_string_value(json_object_get(body, "path"));
	const char *cause = "";
	struct stat st;

	if (path == NULL)
		return http_reply_error(req, 400, "\"path\" is required");
	if (path[0] == '\0')
		cause = "An empty path is not suitable as shared storage";
	else if (strncmp(path, "\\\\", 2) == 0 || strncmp(path, "//", 2) == 0)
		cause = "UNC paths are not supported; mount the share and use "
		        "the mount point";
	else if (stat(path, &st) != 0)
		cause = errno == ENOENT ? "This path does not exist"
		                        : "This path cannot be accessed";
	else if (!S_ISDIR(st.st_mode))
		cause = "This path is not a directory";
	else if (access(path, W_OK | X_OK) != 0)
		cause = "The Manager cannot write to this directory";
	return http_reply_json(req, 200,
	    json_pack("{s:s, s:b, s:s}", "path", path, "is_usable",
	        cause[0] == '\0', "cause", cause));
}

static enum fm_err
get_configuration_file(struct req *req)
{
	const struct fm_config *cfg = ((struct fm_ctx *)req_app(req))->cfg;

	return http_reply_json(req, 200, config_to_json(cfg));
}

/*
 * Validate and write a new configuration file. The running Manager keeps
 * its configuration (every thread shares it immutably); the file takes
 * effect at the next start, which the log line says. Keys the body
 * leaves out keep what the file says now, so it is read first; settings
 * stored data depends on must be in the body (config_update_json).
 */
static enum fm_err
put_configuration_file(struct req *req)
{
	const struct fm_config *cfg = ((struct fm_ctx *)req_app(req))->cfg;
	const char *path = cfg->path ? cfg->path : "flamenco-manager.conf";
	char *dir = xstrdup(path), *slash = strrchr(dir, '/'), *err = NULL;
	struct fm_config *on_disk = NULL, *fresh = NULL;
	char *backup = NULL;
	enum fm_err rc;

	if (slash != NULL)
		*slash = '\0';
	if (config_load(path, true, &on_disk, &err) != FM_OK) {
		/* Replacing a broken file is fine: the backup keeps it. */
		log_warn("%s; settings the new configuration leaves out keep "
		         "the running values",
		    err);
		free(err);
		err = NULL;
	} else if (!on_disk->file_exists) {
		config_free(on_disk);
		on_disk = NULL;
	}
	rc = config_update_json(
	    cfg, on_disk, req_json(req), slash ? dir : NULL, &fresh, &err);
	if (rc == FM_OK) {
		rc = config_save(fresh, path, &backup, &err);
		if (rc == FM_OK && backup != NULL)
			log_info("configuration written to %s, the previous "
			         "one kept as %s; it takes effect when the "
			         "Manager restarts",
			    path, backup);
		else if (rc == FM_OK)
			log_info("configuration written to %s; it takes "
			         "effect when the Manager restarts",
			    path);
		else
			log_error("cannot write the configuration: %s", err);
	} else {
		log_warn("configuration file not written: %s", err);
	}
	free(dir);
	free(backup);
	config_free(on_disk);
	config_free(fresh);
	if (rc == FM_ERR_INVALID) {
		rc = http_reply_error(req, 400, "%s", err);
	} else if (rc != FM_OK) {
		rc = http_reply_error(req, 500,
		    "cannot write the "
		    "configuration file: %s",
		    err);
	} else {
		rc = http_reply_empty(req, 204);
	}
	free(err);
	return rc;
}

static const struct route routes[] = {
	{
	    .method = "GET",
	    .pattern = "/api/v3/configuration",
	    .fn = get_configuration,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/configuration/shared-storage/{audience}/"
	               "{platform}",
	    .fn = get_shared_storage,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/configuration/variables/{audience}/{platform}",
	    .fn = get_variables,
	},
	{
	    .method = "POST",
	    .pattern = "/api/v3/configuration/check/shared-storage",
	    .fn = post_check_shared_storage,
	    .flags = ROUTE_JSON_BODY,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/configuration/file",
	    .fn = get_configuration_file,
	},
	{
	    .method = "PUT",
	    .pattern = "/api/v3/configuration/file",
	    .fn = put_configuration_file,
	    .flags = ROUTE_JSON_BODY | ROUTE_ADMIN,
	},
};

const struct route_table api_config_routes = { routes, nitems(routes) };
