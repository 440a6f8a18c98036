/*
 * The one list of route tables the server serves: adding a resource means
 * adding its api_*.c file and one line here.
 */
#include "api.h"

#include "fm.h"

const struct route_table *const api_all_routes[] = {
	&api_meta_routes,
	&api_config_routes,
	&api_jobs_routes,
	&api_jobs_admin_routes,
	&api_tasks_routes,
	&api_files_routes,
	&api_worker_routes,
	&api_worker_mgt_routes,
	&api_tags_routes,
	&api_events_routes,
	&api_web_routes,
	&api_shaman_routes,
};

const size_t api_all_routes_count = nitems(api_all_routes);
