/*
 * Start-up and shutdown of the Manager's services, in one place so the
 * daemon and the tests run exactly the same sequence.
 */
#include "app.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "api.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "store.h"
#include "timeutil.h"
#include "xmalloc.h"

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

	hc = (struct http_config){
		.listen = cfg->listen,
		.threads = (int)cfg->http_threads,
		.max_body = (size_t)cfg->max_body_bytes,
		.tables = api_all_routes,
		.ntables = api_all_routes_count,
		.app = &app->ctx,
		.access_log = true,
	};
	rc = http_start(&hc, &app->http, err_out);
	if (rc != FM_OK)
		goto fail;
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
	store_close(app->ctx.store);
	free(app);
}
