/*
 * The route tables of the api_*.c files, one per OpenAPI resource, and
 * the list that joins them. Shared reply helpers for handlers live here
 * too.
 */
#ifndef FM_API_H
#define FM_API_H

#include "fm.h"
#include "router.h"

struct req;
struct fm_ctx;

extern const struct route_table api_meta_routes;
extern const struct route_table api_config_routes;
extern const struct route_table api_jobs_routes;
extern const struct route_table api_jobs_admin_routes;
extern const struct route_table api_tasks_routes;
extern const struct route_table api_files_routes;
extern const struct route_table api_worker_routes;
extern const struct route_table api_worker_mgt_routes;
extern const struct route_table api_tags_routes;
extern const struct route_table api_events_routes;
extern const struct route_table api_web_routes;
extern const struct route_table api_shaman_routes;

/* Worker credentials check for ROUTE_WORKER_AUTH routes (api_worker.c). */
enum fm_err api_worker_auth(
    struct req *req, const char *user, const char *pass);

/*
 * Admin credentials check for ROUTE_ADMIN routes (api_auth.c): passes
 * everything when no admin_password is configured.
 */
enum fm_err api_admin_auth(struct req *req, const char *user, const char *pass);

/* Every table, for the HTTP server and --dump-routes. */
extern const struct route_table *const api_all_routes[];
extern const size_t api_all_routes_count;

/* The version the Blender add-on compares with (getVersion). */
#define API_FLAMENCO_SHORTVERSION "3.9-beta1"

#endif
