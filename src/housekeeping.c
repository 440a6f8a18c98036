/*
 * Periodic duties. Each row of the duty table has a first delay and an
 * interval; the thread sleeps on a condition variable until the next one
 * is due or it is told to stop.
 */
#include "housekeeping.h"

#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "config.h"
#include "job_deleter.h"
#include "log.h"
#include "shaman_checkout.h"
#include "store.h"
#include "store_internal.h"
#include "store_status.h"
#include "store_workers.h"
#include "store_worker_mgt.h"
#include "tasklog.h"
#include "timeutil.h"
#include "xmalloc.h"

struct duty {
	const char *name;
	enum fm_err (*fn)(struct fm_ctx *ctx);
	int64_t first_us; /* after start */
	int64_t every_us;
	int64_t next_us; /* monotonic */
	bool woken;      /* housekeeping_wake() asked for another run */
};

struct housekeeping {
	struct fm_ctx *ctx;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	struct duty duties[4];
	size_t nduties;
};

static const char sql_timed_out_tasks[] =
    "SELECT t.uuid, t.last_touched_at, coalesce(w.name, ''), "
    "coalesce(w.uuid, '') FROM tasks t LEFT JOIN workers w "
    "ON w.id = t.worker_id WHERE t.status = 'active' "
    "AND t.last_touched_at <= ?1 LIMIT 1000";
static const char sql_timed_out_workers[] =
    "SELECT id, uuid, name, status, status_requested FROM workers "
    "WHERE deleted_at IS NULL AND status NOT IN ('error', 'offline', '') "
    "AND last_seen_at <= ?1 LIMIT 1000";

struct timed_out_task {
	char uuid[ID_UUID_LEN + 1];
	int64_t touched;
	char *worker_name;
	char worker_uuid[ID_UUID_LEN + 1];
};

static enum fm_err
fail_timed_out_tasks(const struct status_ctx *sc, int64_t cutoff)
{
	sqlite3_stmt *st = store_stmt(sc->conn, sql_timed_out_tasks);
	struct timed_out_task *list = NULL;
	size_t n = 0;
	enum fm_err rc = FM_OK;
	int step;

	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, cutoff);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		list = xrealloc(list, (n + 1) * sizeof(*list));
		snprintf(list[n].uuid, sizeof(list[n].uuid), "%s",
		    sqlite3_column_text(st, 0));
		list[n].touched = sqlite3_column_int64(st, 1);
		list[n].worker_name =
		    xstrdup((const char *)sqlite3_column_text(st, 2));
		snprintf(list[n].worker_uuid, sizeof(list[n].worker_uuid), "%s",
		    sqlite3_column_text(st, 3));
		n++;
	}
	sqlite3_reset(st);
	if (step != SQLITE_DONE)
		rc = store_error(sc->conn, step, "finding timed-out tasks");
	for (size_t i = 0; i < n; i++) {
		struct task_row t;
		char since[TIME_RFC3339_MAX];

		if (rc == FM_OK)
			rc = store_status_load_task(sc->conn, list[i].uuid, &t);
		if (rc == FM_OK) {
			time_format_rfc3339(
			    list[i].touched, since, sizeof(since));
			(void)tasklog_printf(
			    sc->cfg->local_manager_storage_path, t.job_uuid,
			    t.uuid,
			    "Task timed out. It was assigned to worker %s "
			    "(%s), but untouched since %s",
			    list[i].worker_name, list[i].worker_uuid, since);
			log_warn("task %s timed out on worker %s", t.uuid,
			    list[i].worker_name);
			rc = store_status_task(
			    sc, &t, TASK_STATUS_FAILED, "Task timed out");
		}
		free(list[i].worker_name);
	}
	free(list);
	return rc;
}

/*
 * Workers unseen since cutoff go to status "error" and their tasks back to
 * the queue. A worker that was awake or asleep gets that status stored as
 * a non-lazy request (what sign-off does for the next sign-on): when it
 * shows up again, its next task request answers 423 with it (or
 * GET /worker/state does, when asleep), the worker acknowledges with
 * state-changed and is back without an admin. A request already pending
 * (an admin's, say "asleep" or "offline") is kept, not cleared, so the
 * admin's intent still reaches the worker when it returns.
 */
static enum fm_err
error_timed_out_workers(const struct status_ctx *sc, int64_t cutoff)
{
	sqlite3_stmt *st = store_stmt(sc->conn, sql_timed_out_workers);
	struct {
		int64_t id;
		char uuid[ID_UUID_LEN + 1];
		enum worker_status status;
		bool has_request;
	} *ws = NULL;
	size_t n = 0;
	enum fm_err rc = FM_OK;
	int step;

	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, cutoff);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		enum worker_status req;

		ws = xrealloc(ws, (n + 1) * sizeof(*ws));
		ws[n].id = sqlite3_column_int64(st, 0);
		snprintf(ws[n].uuid, sizeof(ws[n].uuid), "%s",
		    sqlite3_column_text(st, 1));
		if (state_worker_status_parse(
		        (const char *)sqlite3_column_text(st, 3),
		        &ws[n].status) != FM_OK)
			ws[n].status = WORKER_STATUS_ERROR;
		ws[n].has_request =
		    state_worker_status_parse(
		        (const char *)sqlite3_column_text(st, 4), &req) ==
		        FM_OK &&
		    req != WORKER_STATUS_REGISTERED;
		log_warn("worker %s (%s) timed out", sqlite3_column_text(st, 2),
		    ws[n].uuid);
		n++;
	}
	sqlite3_reset(st);
	if (step != SQLITE_DONE)
		rc = store_error(sc->conn, step, "finding timed-out workers");
	for (size_t i = 0; i < n && rc == FM_OK; i++) {
		rc = store_workers_set_status(
		    sc->conn, ws[i].id, WORKER_STATUS_ERROR, false);
		if (rc == FM_OK && !ws[i].has_request &&
		    (ws[i].status == WORKER_STATUS_AWAKE ||
		        ws[i].status == WORKER_STATUS_ASLEEP))
			rc = store_workers_set_request(
			    sc->conn, ws[i].id, true, ws[i].status, false);
		if (rc == FM_OK)
			rc = store_status_requeue_worker(
			    sc, ws[i].id, "worker timed out");
	}
	free(ws);
	return rc;
}

int64_t
housekeeping_timeout_grace_us(const struct fm_config *cfg)
{
	int64_t grace = 5 * cfg->worker_timeout_us;

	return grace < HOUSEKEEPING_TIMEOUT_GRACE_MAX_US
	    ? grace
	    : HOUSEKEEPING_TIMEOUT_GRACE_MAX_US;
}

enum fm_err
housekeeping_check_timeouts(struct fm_ctx *ctx)
{
	const struct fm_config *cfg = ctx->cfg;
	struct status_ctx sc = { .cfg = cfg };
	int64_t now = time_now_us();
	enum fm_err rc;

	if (cfg->task_timeout_us == 0)
		return FM_OK; /* 0 disables the whole checker, as Flamenco */
	sc.conn = store_acquire(ctx->store);
	rc = store_begin(sc.conn, true);
	if (rc == FM_OK)
		rc = fail_timed_out_tasks(&sc, now - cfg->task_timeout_us);
	if (rc == FM_OK)
		rc = error_timed_out_workers(&sc, now - cfg->worker_timeout_us);
	if (rc == FM_OK)
		rc = store_commit(sc.conn);
	store_release(ctx->store, sc.conn);
	return rc;
}

/* Sleep schedules, in the Manager's local time, as Flamenco. */
static enum fm_err
check_sleep_schedules(struct fm_ctx *ctx)
{
	return store_worker_mgt_check_schedules(ctx->store, time(NULL));
}

/* Shaman's garbage collection (shaman_checkout.h has the rules). */
static enum fm_err
shaman_collect(struct fm_ctx *ctx)
{
	struct shaman_gc_stats stats;

	if (ctx->shaman != NULL)
		shaman_gc(ctx->shaman, ctx->cfg->shaman_gc_max_age_us / 1000000,
		    &stats);
	return FM_OK;
}

void
housekeeping_wake(struct fm_ctx *ctx, const char *duty)
{
	struct housekeeping *hk = atomic_load(&ctx->housekeeping);

	if (hk == NULL)
		return;
	pthread_mutex_lock(&hk->lock);
	for (size_t i = 0; i < hk->nduties; i++) {
		if (strcmp(hk->duties[i].name, duty) == 0) {
			hk->duties[i].woken = true;
			hk->duties[i].next_us = 0;
		}
	}
	pthread_cond_signal(&hk->wake);
	pthread_mutex_unlock(&hk->lock);
}

static void *
housekeeping_main(void *arg)
{
	struct housekeeping *hk = arg;

	pthread_mutex_lock(&hk->lock);
	while (!hk->stop) {
		int64_t now = time_mono_us(), next = INT64_MAX;
		struct timespec ts;

		for (size_t i = 0; i < hk->nduties; i++) {
			struct duty *d = &hk->duties[i];

			if (d->next_us <= now) {
				enum fm_err rc;

				d->woken = false;
				pthread_mutex_unlock(&hk->lock);
				rc = d->fn(hk->ctx);
				pthread_mutex_lock(&hk->lock);
				if (rc != FM_OK)
					log_error("housekeeping %s: %s",
					    d->name, fm_strerror(rc));
				/* A wake during the run asks for one more. */
				d->next_us = time_mono_us() +
				    (d->woken ? 0 : d->every_us);
			}
			if (d->next_us < next)
				next = d->next_us;
		}
		now = time_mono_us();
		if (next > now) {
			ts = time_deadline(CLOCK_MONOTONIC, next - now);
			pthread_cond_timedwait(&hk->wake, &hk->lock, &ts);
		}
	}
	pthread_mutex_unlock(&hk->lock);
	return NULL;
}

struct housekeeping *
housekeeping_start(struct fm_ctx *ctx)
{
	struct housekeeping *hk = xcalloc(1, sizeof(*hk));
	int64_t now = time_mono_us();
	hk->ctx = ctx;
	pthread_mutex_init(&hk->lock, NULL);
	time_cond_init_mono(&hk->wake);
	hk->duties[0] = (struct duty){
		.name = "timeouts",
		.fn = housekeeping_check_timeouts,
		.first_us = housekeeping_timeout_grace_us(ctx->cfg),
		.every_us = ctx->cfg->timeout_check_interval_us,
	};
	/* Sleep schedules as Flamenco: 2 s after start, then every minute. */
	hk->duties[1] = (struct duty){
		.name = "sleep schedules",
		.fn = check_sleep_schedules,
		.first_us = 2 * 1000000,
		.every_us = 60 * 1000000,
	};
	hk->nduties = 2;
	/* Deletions requested before a stop finish right after start. */
	hk->duties[hk->nduties++] = (struct duty){
		.name = HOUSEKEEPING_JOB_DELETER,
		.fn = job_deleter_run,
		.first_us = 0,
		.every_us = 60 * 1000000LL,
	};
	/* Flamenco's Shaman collects one period after start, then every
	 * period; 0 turns it off. */
	if (ctx->shaman != NULL && ctx->cfg->shaman_gc_period_us > 0)
		hk->duties[hk->nduties++] = (struct duty){
			.name = HOUSEKEEPING_SHAMAN_GC,
			.fn = shaman_collect,
			.first_us = ctx->cfg->shaman_gc_period_us,
			.every_us = ctx->cfg->shaman_gc_period_us,
		};
	for (size_t i = 0; i < hk->nduties; i++)
		hk->duties[i].next_us = now + hk->duties[i].first_us;
	if (pthread_create(&hk->thread, NULL, housekeeping_main, hk) != 0)
		fatal("cannot start the housekeeping thread");
	atomic_store(&ctx->housekeeping, hk);
	return hk;
}

void
housekeeping_stop(struct housekeeping *hk)
{
	if (hk == NULL)
		return;
	atomic_store(&hk->ctx->housekeeping, NULL);
	pthread_mutex_lock(&hk->lock);
	hk->stop = true;
	pthread_cond_signal(&hk->wake);
	pthread_mutex_unlock(&hk->lock);
	pthread_join(hk->thread, NULL);
	pthread_mutex_destroy(&hk->lock);
	pthread_cond_destroy(&hk->wake);
	free(hk);
}
