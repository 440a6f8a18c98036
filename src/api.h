/*
 * The route tables of the api_*.c files, one per OpenAPI resource, and
 * the list that joins them. Shared reply helpers for handlers live here
 * too.
 */
#ifndef FM_API_H
#define FM_API_H

#include "router.h"

struct req;
struct fm_ctx;

extern const struct route_table api_meta_routes;

/* Every table, for the HTTP server and --dump-routes. */
extern const struct route_table *const api_all_routes[];
extern const size_t api_all_routes_count;

/* The version the Blender add-on compares with (facts 1.1). */
#define API_FLAMENCO_SHORTVERSION "3.9-beta1"

#endif
