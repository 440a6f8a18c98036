/*
 * Start-up and shutdown of the Manager's services, in one place so the
 * daemon and the tests run exactly the same sequence.
 */
#include "app.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "config.h"
#include "housekeeping.h"
#include "http.h"
#include "jobc.h"
#include "jobtypes.h"
#include "jsenv.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "store_status.h"
#include "timeutil.h"
#include "xmalloc.h"

/* How long a submission may wait for a free compiler heap. */
#define JOBC_MIN_WAIT_US (10 * 1000000LL)
/* How stale the view of scripts_path may get. */
#define JOBTYPES_RESCAN_US 1000000LL

/* mkdir -p */
static int
make_dirs(const char *path)
{
	char *p = xstrdup(path);
	int rc = 0;

	for (char *s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

/* Jobs caught mid-transition by a stop get their cascade run again. */
static enum fm_err
reapply_job_states(struct fm_ctx *ctx, char **err_out)
{
	struct status_ctx sc = { .cfg = ctx->cfg };
	enum fm_err rc;

	sc.conn = store_acquire(ctx->store);
	rc = store_begin(sc.conn, true);
	if (rc == FM_OK)
		rc = store_status_reapply(&sc);
	if (rc == FM_OK)
		rc = store_commit(sc.conn);
	store_release(ctx->store, sc.conn);
	if (rc != FM_OK)
		*err_out = xasprintf(
		    "cannot re-apply job states: %s", fm_strerror(rc));
	return rc;
}

/* The compiler pool and the job-type registry both load in background
 * threads: the HTTP server is up long before JavaScript is. */
static enum fm_err
start_compiler(const struct fm_config *cfg, struct fm_ctx *ctx, char **err_out)
{
	struct jobc_options jo = {
		.heaps = (int)cfg->compiler_heaps,
		.heap_max_bytes = (size_t)cfg->compiler_heap_max_bytes,
		.timeout_us = cfg->compile_timeout_us,
		.max_tasks = (size_t)cfg->max_tasks_per_job,
		.wait_us = cfg->compile_timeout_us > JOBC_MIN_WAIT_US
		    ? cfg->compile_timeout_us
		    : JOBC_MIN_WAIT_US,
	};
	enum fm_err rc;

	if (jo.heaps == 0)
		jo.heaps = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if ((rc = jobc_new(&jo, &ctx->jobc, err_out)) != FM_OK)
		return rc;
	ctx->jobtypes =
	    jobtypes_new(cfg->scripts_path, ctx->jobc, JOBTYPES_RESCAN_US);
	return FM_OK;
}

enum fm_err
app_start(const struct fm_config *cfg, struct fm_app **app_out, char **err_out)
{
	struct fm_app *app = xcalloc(1, sizeof(*app));
	struct http_config hc;
	enum fm_err rc;
	int nconns;

	*app_out = NULL;
	*err_out = NULL;
	log_set_level((enum log_level)log_level_parse(cfg->log_level));
	app->ctx.cfg = cfg;
	app->ctx.started_us = time_now_us();
	if (make_dirs(cfg->local_manager_storage_path) != 0) {
		*err_out = xasprintf("cannot create %s: %s",
		    cfg->local_manager_storage_path, strerror(errno));
		rc = FM_ERR_IO;
		goto fail;
	}
	nconns = cfg->db_connections > 0 ? (int)cfg->db_connections
	                                 : (int)cfg->http_threads + 2;
	rc = store_open(cfg->database, nconns, &app->ctx.store, err_out);
	if (rc != FM_OK)
		goto fail;

	metrics_init(api_all_routes, api_all_routes_count);
	if ((rc = reapply_job_states(&app->ctx, err_out)) != FM_OK)
		goto fail;
	if ((rc = start_compiler(cfg, &app->ctx, err_out)) != FM_OK)
		goto fail;

	hc = (struct http_config){
		.listen = cfg->listen,
		.threads = (int)cfg->http_threads,
		.max_body = (size_t)cfg->max_body_bytes,
		.tables = api_all_routes,
		.ntables = api_all_routes_count,
		.app = &app->ctx,
		.auth = api_worker_auth,
		.observe = metrics_observe_request,
		.access_log = true,
	};
	rc = http_start(&hc, &app->http, err_out);
	if (rc != FM_OK)
		goto fail;
	app->housekeeping = housekeeping_start(&app->ctx);
	*app_out = app;
	return FM_OK;
fail:
	app_stop(app);
	return rc;
}

int
app_port(const struct fm_app *app)
{
	return http_port(app->http);
}

void
app_stop(struct fm_app *app)
{
	if (app == NULL)
		return;
	http_stop(app->http);
	housekeeping_stop(app->housekeeping);
	jobtypes_free(app->ctx.jobtypes);
	jobc_free(app->ctx.jobc);
	jsenv_transpile_shutdown();
	store_close(app->ctx.store);
	free(app);
}
