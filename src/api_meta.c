/*
 * Meta endpoints: the version the add-on checks before submitting, the
 * configuration and variables as clients see them, the shared storage
 * location, and our own OpenAPI description.
 */
#include "api.h"

#include <jansson.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "embedded.h"
#include "http.h"
#include "state.h"
#include "store.h"
#include "store_stats.h"
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
get_version(struct req *req)
{
	struct fm_ctx *ctx = req_app(req);
	char *version = xasprintf("%s (flamenco-manager-c %s)",
	    API_FLAMENCO_SHORTVERSION, FM_VERSION);
	json_t *body = json_pack("{s:s, s:s, s:s, s:s}", "version", version,
	    "shortversion", API_FLAMENCO_SHORTVERSION, "name",
	    ctx->cfg->manager_name, "git", FM_GIT_HASH);

	free(version);
	return http_reply_json(req, 200, body);
}

static enum fm_err
get_configuration(struct req *req)
{
	const struct fm_config *cfg = ((struct fm_ctx *)req_app(req))->cfg;
	const char *storage = config_shared_storage(cfg);

	return http_reply_json(req, 200,
	    json_pack("{s:s, s:b, s:b}", "storageLocation", storage,
	        "shamanEnabled", 0, "isFirstRun",
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
	    cfg, audience, platform, config_shared_storage(cfg));
	body = json_pack("{s:s, s:s, s:s, s:b}", "location", location,
	    "audience", req_param(req, "audience"), "platform",
	    req_param(req, "platform"), "shamanEnabled", 0);
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
get_openapi(struct req *req)
{
	for (size_t i = 0; i < embedded_api_count; i++)
		if (strcmp(embedded_api[i].name, "openapi.yaml") == 0)
			return http_reply_static(req, 200, "application/yaml",
			    embedded_api[i].data, embedded_api[i].len);
	return FM_ERR_NOTFOUND;
}

static enum fm_err
get_farm_status(struct req *req)
{
	struct fm_ctx *ctx = req_app(req);
	struct store_conn *conn = store_acquire(ctx->store);
	struct farm_counts counts;
	enum fm_err rc;

	rc = store_stats_farm_counts(conn, &counts);
	store_release(ctx->store, conn);
	if (rc != FM_OK)
		return rc;
	return http_reply_json(req, 200,
	    json_pack("{s:s}", "status",
	        state_farm_status_name(state_farm_status(&counts))));
}

static const struct route routes[] = {
	{
	    .method = "GET",
	    .pattern = "/api/v3/version",
	    .fn = get_version,
	},
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
	    .method = "GET",
	    .pattern = "/api/v3/status",
	    .fn = get_farm_status,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/openapi.yaml",
	    .fn = get_openapi,
	},
};

const struct route_table api_meta_routes = { routes, nitems(routes) };
