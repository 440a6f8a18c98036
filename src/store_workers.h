/*
 * Worker rows: registration with a salted hash of the secret, credential
 * checks, sign-on/off bookkeeping, status and status requests, and the
 * reads the worker API needs.
 */
#ifndef FM_STORE_WORKERS_H
#define FM_STORE_WORKERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "fm.h"
#include "ids.h"
#include "state.h"

struct store_conn;

struct worker {
	int64_t id;
	char uuid[ID_UUID_LEN + 1];
	char *name;
	char *address;
	char *platform;
	char *software;
	char *task_types; /* comma-joined, trimmed, lower case */
	enum worker_status status;
	bool has_request; /* a status change is pending */
	enum worker_status status_requested;
	bool lazy; /* the request waits for the current task */
	bool can_restart;
	int64_t last_seen_us; /* 0 when never seen */
};

/* last_seen_at is refreshed at most this often: a write per request
 * would cost more than the minute-scale timeouts it serves need. */
#define STORE_WORKERS_SEEN_GRANULARITY_US 1000000

/* Free the strings of w; NULL-safe, w itself is not freed. */
void worker_clear(struct worker *w);

/* "Blender, FFmpeg ," -> "blender,ffmpeg"; new string. */
char *store_workers_join_types(const json_t *types);

/* Insert a worker; *uuid_out receives its new UUID. */
FM_MUST_CHECK enum fm_err store_workers_register(struct store_conn *conn,
    const char *name, const char *secret, const char *platform,
    const char *task_types, const char *address, char *uuid_out);

/*
 * Look a non-deleted worker up by UUID and check its secret. Unknown,
 * deleted and wrong-secret all give FM_ERR_NOTFOUND. *w_out is filled on
 * success (worker_clear() it).
 */
FM_MUST_CHECK enum fm_err store_workers_auth(struct store_conn *conn,
    const char *uuid, const char *secret, struct worker *w_out);

/* Sign-on: status "starting", fresh name/address/software/types. */
FM_MUST_CHECK enum fm_err store_workers_sign_on(struct store_conn *conn,
    int64_t id, const char *name, const char *task_types, const char *software,
    bool can_restart, const char *address);

/* Refresh last_seen_at unless w was seen within the granularity. */
FM_MUST_CHECK enum fm_err store_workers_seen(
    struct store_conn *conn, const struct worker *w);

/* Set the status; clear_request also clears a pending request. */
/* Note for live viewers that worker id is about to change (call before
 * changing it: its current status becomes the previous one). */
void store_workers_note(struct store_conn *conn, int64_t id);

FM_MUST_CHECK enum fm_err store_workers_set_status(struct store_conn *conn,
    int64_t id, enum worker_status status, bool clear_request);

/* Set (has = true) or clear the pending status request. */
FM_MUST_CHECK enum fm_err store_workers_set_request(struct store_conn *conn,
    int64_t id, bool has, enum worker_status status, bool lazy);

/*
 * The sleep-schedule verdict for the worker right now: asleep or awake
 * (awake when it has no active schedule).
 */
FM_MUST_CHECK enum fm_err store_workers_schedule_verdict(
    struct store_conn *conn, int64_t id, enum worker_status *verdict_out);

#endif
