/*
 * Start-up and shutdown of the Manager's services, in one place so the
 * daemon and the tests run exactly the same sequence.
 */
#include "app.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "config.h"
#include "eventbus.h"
#include "events.h"
#include "fsutil.h"
#include "housekeeping.h"
#include "http.h"
#include "jobc.h"
#include "jobtypes.h"
#include "jsenv.h"
#include "lastrendered.h"
#include "log.h"
#include "metrics.h"
#include "mqtt.h"
#include "shaman_store.h"
#include "sse.h"
#include "store.h"
#include "store_status.h"
#include "timeutil.h"
#include "xmalloc.h"

/* How long a submission may wait for a free compiler heap. */
#define JOBC_MIN_WAIT_US (10 * 1000000LL)
/* How stale the view of scripts_path may get. */
#define JOBTYPES_RESCAN_US 1000000LL

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

/*
 * The compiler kept between apps by app_keep_compiler(): one at most,
 * with the settings it was made for. Guarded by lock.
 */
static struct {
	pthread_mutex_t lock;
	bool enabled;
	bool in_use;            /* an app runs on it now */
	struct jobc_options jo; /* what it was made with */
	char *scripts_path;
	struct jobc *jobc;
	struct jobtypes *jobtypes;
} kept = { .lock = PTHREAD_MUTEX_INITIALIZER };

static const char *
scripts_path(const struct fm_config *cfg)
{
	return cfg->scripts_path != NULL ? cfg->scripts_path : "";
}

static bool
same_options(const struct jobc_options *a, const struct jobc_options *b)
{
	return a->heaps == b->heaps && a->heap_max_bytes == b->heap_max_bytes &&
	    a->timeout_us == b->timeout_us && a->wait_us == b->wait_us;
}

/* Free the kept compiler unless an app runs on it; the lock is held. */
static void
drop_kept_locked(void)
{
	if (kept.jobc == NULL || kept.in_use)
		return;
	jobtypes_free(kept.jobtypes);
	jobc_free(kept.jobc);
	free(kept.scripts_path);
	kept.jobtypes = NULL;
	kept.jobc = NULL;
	kept.scripts_path = NULL;
}

void
app_keep_compiler(bool keep)
{
	pthread_mutex_lock(&kept.lock);
	kept.enabled = keep;
	if (!keep) {
		drop_kept_locked();
		jsenv_transpile_shutdown();
	}
	pthread_mutex_unlock(&kept.lock);
}

/* Take the kept compiler if it fits; true when ctx got it. */
static bool
take_kept(const struct fm_config *cfg, const struct jobc_options *jo,
    struct fm_ctx *ctx)
{
	bool took = false;

	pthread_mutex_lock(&kept.lock);
	if (kept.enabled && !kept.in_use && kept.jobc != NULL &&
	    same_options(&kept.jo, jo) &&
	    strcmp(kept.scripts_path, scripts_path(cfg)) == 0) {
		ctx->jobc = kept.jobc;
		ctx->jobtypes = kept.jobtypes;
		kept.in_use = took = true;
	}
	pthread_mutex_unlock(&kept.lock);
	return took;
}

/* Offer a new compiler for keeping; true when it is kept from now on. */
static bool
offer_kept(const struct fm_config *cfg, const struct jobc_options *jo,
    struct fm_ctx *ctx)
{
	bool keep = false;

	pthread_mutex_lock(&kept.lock);
	if (kept.enabled && !kept.in_use) {
		drop_kept_locked();
		kept.jo = *jo;
		kept.scripts_path = xstrdup(scripts_path(cfg));
		kept.jobc = ctx->jobc;
		kept.jobtypes = ctx->jobtypes;
		kept.in_use = keep = true;
	}
	pthread_mutex_unlock(&kept.lock);
	return keep;
}

/* The compiler pool and the job-type registry both load in background
 * threads: the HTTP server is up long before JavaScript is. */
static enum fm_err
start_compiler(const struct fm_config *cfg, struct fm_app *app, char **err_out)
{
	struct fm_ctx *ctx = &app->ctx;
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
	if ((app->kept_compiler = take_kept(cfg, &jo, ctx)))
		return FM_OK;
	if ((rc = jobc_new(&jo, &ctx->jobc, err_out)) != FM_OK)
		return rc;
	ctx->jobtypes =
	    jobtypes_new(cfg->scripts_path, ctx->jobc, JOBTYPES_RESCAN_US);
	app->kept_compiler = offer_kept(cfg, &jo, ctx);
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
	if (!fs_mkdirs(cfg->local_manager_storage_path)) {
		*err_out = xasprintf("cannot create %s: %s",
		    cfg->local_manager_storage_path, strerror(errno));
		rc = FM_ERR_IO;
		goto fail;
	}
	nconns = cfg->db_connections > 0
	    ? (int)cfg->db_connections
	    : (int)(cfg->http_threads + cfg->http_slow_threads) + 2;
	rc = store_open(cfg->database, nconns, &app->ctx.store, err_out);
	if (rc != FM_OK)
		goto fail;

	/* Event ids count on from the start time in microseconds, so an id
	 * a client kept from before a restart is always older than the new
	 * ones (and so answered with resync), never mistaken for one. */
	app->ctx.bus = eventbus_new(
	    &(struct eventbus_options){ .first_id = (uint64_t)time_now_us() });
	app->ctx.events = events_new(app->ctx.store, app->ctx.bus);
	app->ctx.sse =
	    sse_hub_new(app->ctx.bus, cfg->event_stream_heartbeat_us);
	if ((rc = mqtt_start(cfg, app->ctx.bus, &app->mqtt, err_out)) != FM_OK)
		goto fail;
	metrics_init(api_all_routes, api_all_routes_count);
	if ((rc = reapply_job_states(&app->ctx, err_out)) != FM_OK)
		goto fail;
	if ((rc = start_compiler(cfg, app, err_out)) != FM_OK)
		goto fail;

	/* Before HTTP: handlers queue uploads for it. */
	app->ctx.lastrendered = lastrendered_start(&app->ctx);
	if (config_shaman_enabled(cfg)) {
		rc = shaman_store_open(
		    cfg->shared_storage_path, &app->ctx.shaman, err_out);
		if (rc != FM_OK)
			goto fail;
		shaman_store_set_max_age(
		    app->ctx.shaman, cfg->shaman_gc_max_age_us / 1000000);
	} else if (cfg->shaman_enabled) {
		log_warn("Shaman is off: it needs shared_storage_path set");
	}

	hc = (struct http_config){
		.listen = cfg->listen,
		.threads = (int)cfg->http_threads,
		.max_body = (size_t)cfg->max_body_bytes,
		.max_connections = (size_t)cfg->http_max_connections,
		.max_per_client =
		    (unsigned)cfg->http_max_connections_per_client,
		.header_timeout_us = cfg->http_header_timeout_us,
		.min_body_rate = (uint64_t)cfg->http_min_body_rate,
		.slow_threads = (int)cfg->http_slow_threads,
		.tables = api_all_routes,
		.ntables = api_all_routes_count,
		.app = &app->ctx,
		.auth = api_worker_auth,
		.admin_auth = api_admin_auth,
		.observe = metrics_observe_request,
		.access_log = true,
	};
	rc = http_start(&hc, &app->http, err_out);
	if (rc != FM_OK)
		goto fail;
	app->housekeeping = housekeeping_start(&app->ctx);
	events_lifecycle(app->ctx.events, "manager-startup");
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
	if (app->http != NULL)
		events_lifecycle(app->ctx.events, "manager-shutdown");
	/* Streams never end by themselves: end them so the server can. */
	sse_hub_close_streams(app->ctx.sse);
	http_stop(app->http);
	lastrendered_stop(app->ctx.lastrendered);
	housekeeping_stop(app->housekeeping);
	if (app->kept_compiler) {
		/* Nothing runs on it now: the server and housekeeping have
		 * stopped. The next app may take it. */
		pthread_mutex_lock(&kept.lock);
		kept.in_use = false;
		pthread_mutex_unlock(&kept.lock);
	} else {
		jobtypes_free(app->ctx.jobtypes);
		jobc_free(app->ctx.jobc);
		pthread_mutex_lock(&kept.lock);
		/* The transpiler stays while a kept compiler may need it. */
		if (kept.jobc == NULL)
			jsenv_transpile_shutdown();
		pthread_mutex_unlock(&kept.lock);
	}
	/* After everything that could still publish has stopped. */
	mqtt_stop(app->mqtt);
	sse_hub_free(app->ctx.sse);
	events_free(app->ctx.events);
	eventbus_free(app->ctx.bus);
	store_close(app->ctx.store);
	shaman_store_free(app->ctx.shaman);
	free(app);
}
