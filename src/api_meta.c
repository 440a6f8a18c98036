/*
 * Meta endpoints: the version the add-on checks before submitting, the
 * farm status, metrics, and our own OpenAPI description.
 */
#include "api.h"

#include <jansson.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "embedded.h"
#include "http.h"
#include "metrics.h"
#include "state.h"
#include "store.h"
#include "store_stats.h"
#include "variables.h"
#include "xmalloc.h"
#include "version.h" /* generated: FM_VERSION, FM_GIT_HASH */

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

static enum fm_err
get_metrics(struct req *req)
{
	struct fm_ctx *ctx = req_app(req);
	struct store_conn *conn = store_acquire(ctx->store);
	char *text;
	size_t len;
	enum fm_err rc = metrics_render(conn, &text, &len);

	store_release(ctx->store, conn);
	if (rc != FM_OK)
		return rc;
	return http_reply_buffer(
	    req, 200, "text/plain; version=0.0.4", text, len);
}

static const struct route routes[] = {
	{
	    .method = "GET",
	    .pattern = "/api/v3/version",
	    .fn = get_version,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/status",
	    .fn = get_farm_status,
	},
	{
	    .method = "GET",
	    .pattern = "/metrics",
	    .fn = get_metrics,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/openapi.yaml",
	    .fn = get_openapi,
	},
};

const struct route_table api_meta_routes = { routes, nitems(routes) };
