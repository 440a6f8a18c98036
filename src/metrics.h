/*
 * Prometheus metrics: request counts and latency histograms per route,
 * job-compile and task-assignment latency histograms, all lock-free
 * atomics. The gauges (jobs, tasks and workers per status) are read from
 * the store when /metrics is scraped.
 */
#ifndef FM_METRICS_H
#define FM_METRICS_H

#include <stdint.h>

#include "fm.h"

struct route;
struct route_table;
struct store_conn;

/* Register the routes to count and zero every counter; call before
 * serving, with no request in flight. */
void metrics_init(const struct route_table *const *tables, size_t ntables);

/* An http_observe_fn: count one finished request. */
void metrics_observe_request(
    void *app, const struct route *route, int status, int64_t duration_us);

void metrics_observe_compile(int64_t duration_us);
void metrics_observe_assign(int64_t duration_us);

/* The whole exposition text (new; caller frees). */
FM_MUST_CHECK enum fm_err metrics_render(
    struct store_conn *conn, char **text_out, size_t *len_out);

#endif
