/*
 * The Manager as one object: app_start() brings the services up in
 * dependency order (storage, job compiler, HTTP) and app_stop() takes
 * them down in reverse. main() and the in-process API tests both use it.
 *
 * struct fm_ctx is the shared context handed to every handler through
 * req_app(): immutable configuration plus the long-lived services, set up
 * before the HTTP server starts and torn down after it stops, so handlers
 * use every field without locking.
 */
#ifndef FM_APP_H
#define FM_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "fm.h"

struct fm_config;
struct store;
struct jobtypes;
struct jobc;
struct http_server;
struct lastrendered;
struct eventbus;
struct events;
struct mqtt_forwarder;
struct sse_hub;
struct shaman_store;

struct fm_ctx {
	const struct fm_config *cfg;
	struct store *store;
	struct jobtypes *jobtypes; /* job-type registry */
	struct jobc *jobc;         /* compiler pool */
	struct eventbus *bus;      /* live events (SSE, MQTT) */
	struct events *events;     /* publishes committed changes on bus */
	struct sse_hub *sse;       /* open event streams */
	int64_t started_us;        /* wall clock at start-up */
	/* Set while the housekeeping thread runs (housekeeping_wake()). */
	struct housekeeping *_Atomic housekeeping;
	struct lastrendered *lastrendered; /* thumbnail queue and thread */
	struct shaman_store *shaman;       /* NULL: Shaman is off */
};

struct housekeeping;

struct fm_app {
	struct fm_ctx ctx;
	struct http_server *http;
	struct housekeeping *housekeeping;
	struct mqtt_forwarder *mqtt;
	bool kept_compiler; /* ctx.jobc/jobtypes belong to app_keep_compiler */
};

/*
 * Start everything for cfg (borrowed; must outlive the app). On failure
 * *err_out gets one line for the admin (new) and nothing is left running.
 */
FM_MUST_CHECK enum fm_err app_start(
    const struct fm_config *cfg, struct fm_app **app_out, char **err_out);

/* The HTTP port actually bound. */
int app_port(const struct fm_app *app);

/* Stop serving (letting in-flight requests finish) and close. NULL-safe. */
void app_stop(struct fm_app *app);

/*
 * With keep, app_stop() keeps the job compiler (the heap pool, the job-type
 * registry and the transpiler) and the next app_start() in this process
 * with the same compiler settings and scripts_path takes it over instead
 * of loading JavaScript again; each app still has its own database,
 * server and housekeeping. Loading the heaps is nearly all the work of
 * starting an app under valgrind, so `make valgrind` has the test helpers
 * turn this on (tests/testutil.c). app_keep_compiler(false) frees what is
 * kept; call it when no app runs. The daemon never calls it.
 */
void app_keep_compiler(bool keep);

#endif
