/*
 * From committed changes to Flamenco-shaped events. The store tells us
 * which objects a transaction changed (store_note); after the commit we
 * read each one back and publish its current state, with the status it
 * had before the transaction as previous_status. Reading after the commit
 * means an event never describes a change that rolled back, and costs
 * nothing while nobody is subscribed (the journal is then not kept).
 */
#include "events.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "eventbus.h"
#include "log.h"
#include "state.h"
#include "store.h"
#include "store_jobs.h"
#include "store_stats.h"
#include "store_tags.h"
#include "store_tasks.h"
#include "store_worker_mgt.h"
#include "timeutil.h"
#include "xmalloc.h"

/* Progress-only job events: at most one per job per interval, the last
 * one of a burst sent when the interval is over, so a progress bar is
 * live but a farm of busy workers does not flood every viewer. */
#define PROGRESS_INTERVAL_US (250 * 1000LL)
#define PROGRESS_MAX_JOBS    4096

struct progress {
	char job[37];
	int64_t sent_us; /* monotonic */
	bool owed;       /* a change since then is not yet sent */
};

struct events {
	struct store *store;
	struct eventbus *bus;
	pthread_t ticker;
	pthread_cond_t tick;
	bool stop;
	struct progress *progress; /* guarded by lock */
	size_t nprogress;
	/* The farm status last published: observers of commits on
	 * different threads compare and update it under the lock. */
	pthread_mutex_t lock;
	int farm_status; /* enum farm_status, -1 before the first */
};

/* Copy the fields named in keys (NULL-terminated) that src has. */
static json_t *
pick(const json_t *src, const char *const *keys)
{
	json_t *out = json_object();

	for (; *keys != NULL; keys++) {
		json_t *v = json_object_get(src, *keys);

		if (v != NULL)
			json_object_set(out, *keys, v);
	}
	return out;
}

static void
set_previous(json_t *payload, const char *prev)
{
	const char *now = json_string_value(json_object_get(payload, "status"));

	if (prev[0] != '\0' && (now == NULL || strcmp(now, prev) != 0))
		json_object_set_new(
		    payload, "previous_status", json_string(prev));
}

/* EventJobUpdate of a job as it is now; NULL when it is gone. */
static json_t *
job_event(struct store_conn *conn, const struct store_note *n, bool refresh)
{
	static const char *const keys[] = { "id", "name", "updated", "status",
		"type", "priority", "steps_completed", "steps_total",
		"delete_requested_at", "waiting_for", NULL };
	json_t *job = NULL, *payload;

	if (store_jobs_get(conn, n->uuid, &job) != FM_OK)
		return NULL;
	payload = pick(job, keys);
	json_decref(job);
	set_previous(payload, n->prev_status);
	json_object_set_new(payload, "refresh_tasks", json_boolean(refresh));
	return payload;
}

/* EventTaskUpdate; NULL when the task is gone. */
static json_t *
task_event(struct store_conn *conn, const struct store_note *n)
{
	static const char *const keys[] = { "id", "job_id", "name", "updated",
		"status", "activity", "steps_completed", "steps_total",
		"worker", NULL };
	json_t *task = NULL, *payload, *worker;

	if (store_tasks_get(conn, n->uuid, &task) != FM_OK)
		return NULL;
	payload = pick(task, keys);
	json_decref(task);
	/* The Task schema's worker is {"id", "name", "address"}, all ""
	 * when unassigned; the event's is {"name", "uuid"}, or absent. */
	worker = json_object_get(payload, "worker");
	if (worker != NULL) {
		const char *id =
		    json_string_value(json_object_get(worker, "id"));

		if (id != NULL && id[0] != '\0')
			json_object_set_new(payload, "worker",
			    json_pack("{s:O, s:s}", "name",
			        json_object_get(worker, "name"), "uuid", id));
		else
			json_object_del(payload, "worker");
	}
	set_previous(payload, n->prev_status);
	return payload;
}

/* EventWorkerUpdate; a deleted worker is announced from its note. */
static json_t *
worker_event(struct store_conn *conn, const struct store_note *n)
{
	static const char *const keys[] = { "id", "name", "updated",
		"last_seen", "status", "status_change", "version",
		"can_restart", NULL };
	json_t *worker = NULL, *payload;

	if (store_worker_mgt_get(conn, n->uuid, &worker) != FM_OK) {
		char now[TIME_RFC3339_MAX];

		time_format_rfc3339(time_now_us(), now, sizeof(now));
		return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b}", "id",
		    n->uuid, "name", n->detail != NULL ? n->detail : "",
		    "updated", now, "deleted_at", now, "status", "offline",
		    "version", "", "can_restart", 0);
	}
	payload = pick(worker, keys);
	json_decref(worker);
	if (json_object_get(payload, "updated") == NULL) {
		json_t *seen = json_object_get(payload, "last_seen");
		char now[TIME_RFC3339_MAX];

		if (seen == NULL) {
			time_format_rfc3339(time_now_us(), now, sizeof(now));
			seen = json_string(now);
		} else {
			json_incref(seen);
		}
		json_object_set_new(payload, "updated", seen);
	}
	set_previous(payload, n->prev_status);
	return payload;
}

/* EventWorkerTagUpdate. */
static json_t *
tag_event(struct store_conn *conn, const struct store_note *n)
{
	json_t *tag = NULL;

	if (n->what == STORE_DELETED_TAG)
		return json_pack("{s:{s:s, s:s}, s:b}", "tag", "id", n->uuid,
		    "name", n->detail != NULL ? n->detail : "", "was_deleted",
		    1);
	if (store_tags_get(conn, n->uuid, &tag) != FM_OK)
		return NULL;
	return json_pack("{s:o}", "tag", tag);
}

/* EventJobUpdate of a job whose rows are gone: only the id matters. */
static json_t *
deleted_job_event(const struct store_note *n)
{
	char now[TIME_RFC3339_MAX];

	time_format_rfc3339(time_now_us(), now, sizeof(now));
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:b, s:i, s:i, s:b}",
	    "id", n->uuid, "name", n->detail != NULL ? n->detail : "",
	    "updated", now, "status", "", "type", "", "priority", 0,
	    "refresh_tasks", 0, "steps_completed", 0, "steps_total", 0,
	    "was_deleted", 1);
}

/* Whether to publish a progress event for job now; otherwise it is
 * owed and the ticker sends it. Lock not held. */
static bool
progress_due(struct events *ev, const char *job)
{
	int64_t now = time_mono_us();
	struct progress *p = NULL;
	bool due;

	pthread_mutex_lock(&ev->lock);
	for (size_t i = 0; i < ev->nprogress && p == NULL; i++)
		if (strcmp(ev->progress[i].job, job) == 0)
			p = &ev->progress[i];
	if (p == NULL && ev->nprogress < PROGRESS_MAX_JOBS) {
		p = &ev->progress[ev->nprogress++];
		snprintf(p->job, sizeof(p->job), "%s", job);
		p->sent_us = 0;
		p->owed = false;
	}
	if (p == NULL) {
		due = true; /* table full: never hold an event back */
	} else if (now - p->sent_us >= PROGRESS_INTERVAL_US) {
		p->sent_us = now;
		p->owed = false;
		due = true;
	} else {
		p->owed = true;
		due = false;
	}
	pthread_mutex_unlock(&ev->lock);
	return due;
}

static bool
job_refreshes(const struct store_note *notes, size_t n, const char *job)
{
	size_t tasks = 0;

	for (size_t i = 0; i < n; i++) {
		if (notes[i].what == STORE_CHANGED_JOB_TASKS &&
		    strcmp(notes[i].uuid, job) == 0)
			return true;
		if (notes[i].what == STORE_CHANGED_TASK &&
		    strcmp(notes[i].job_uuid, job) == 0)
			tasks++;
	}
	/* One worker's update changes one task; more at once is a mass
	 * change, which a viewer reloads rather than replays. */
	return tasks > 1;
}

static bool
noted_job(
    const struct store_note *notes, size_t n, size_t before, const char *job)
{
	for (size_t i = 0; i < before && i < n; i++)
		if ((notes[i].what == STORE_CHANGED_JOB ||
		        notes[i].what == STORE_CHANGED_JOB_TASKS) &&
		    strcmp(notes[i].uuid, job) == 0)
			return true;
	return false;
}

static void
publish(struct events *ev, const char *topic, bool addressed, json_t *payload)
{
	if (payload != NULL)
		eventbus_publish(ev->bus, topic, addressed, payload);
}

static void
publish_farm_status(struct events *ev, struct store_conn *conn)
{
	struct farm_counts counts;
	enum farm_status now;
	bool changed;

	if (store_stats_farm_counts(conn, &counts) != FM_OK)
		return;
	now = state_farm_status(&counts);
	pthread_mutex_lock(&ev->lock);
	changed = ev->farm_status != (int)now;
	ev->farm_status = (int)now;
	pthread_mutex_unlock(&ev->lock);
	if (changed)
		publish(ev, "/status", false,
		    json_pack("{s:s}", "status", state_farm_status_name(now)));
}

static void
observe(void *arg, struct store_conn *conn, const struct store_note *notes,
    size_t n)
{
	struct events *ev = arg;
	/* Job, worker and tag events go to every viewer, if there is one;
	 * a task's events only to the viewers of its job. */
	bool viewers = eventbus_wants(ev->bus, "/jobs", false);
	bool farm = false;
	char *topic;

	for (size_t i = 0; i < n; i++) {
		const struct store_note *note = &notes[i];

		if (!viewers && note->what != STORE_CHANGED_TASK)
			continue;
		switch (note->what) {
		case STORE_JOB_PROGRESS:
			if (noted_job(notes, n, n, note->uuid) ||
			    !progress_due(ev, note->uuid))
				break;
			publish(
			    ev, "/jobs", false, job_event(conn, note, false));
			break;
		case STORE_CHANGED_JOB:
		case STORE_CHANGED_JOB_TASKS:
			/* A job noted both ways gets one event. */
			if (noted_job(notes, n, i, note->uuid))
				break;
			publish(ev, "/jobs", false,
			    job_event(conn, note,
			        job_refreshes(notes, n, note->uuid)));
			farm = true;
			break;
		case STORE_DELETED_JOB:
			publish(ev, "/jobs", false, deleted_job_event(note));
			farm = true;
			break;
		case STORE_CHANGED_TASK:
			if (job_refreshes(notes, n, note->job_uuid))
				break;
			topic = xasprintf("/jobs/%s", note->job_uuid);
			if (eventbus_wants(ev->bus, topic, true))
				publish(
				    ev, topic, true, task_event(conn, note));
			free(topic);
			break;
		case STORE_CHANGED_WORKER:
			publish(
			    ev, "/workers", false, worker_event(conn, note));
			farm = true;
			break;
		case STORE_CHANGED_TAG:
		case STORE_DELETED_TAG:
			publish(
			    ev, "/workertags", false, tag_event(conn, note));
			break;
		}
	}
	if (farm)
		publish_farm_status(ev, conn);
}

static bool
observer_wants(void *arg)
{
	struct events *ev = arg;

	return eventbus_has_subscribers(ev->bus);
}

/* Send the progress events owed; forget jobs quiet for a while. */
static void
send_owed_progress(struct events *ev)
{
	int64_t now = time_mono_us();
	char(*owed)[37] = NULL;
	size_t nowed = 0, kept = 0;
	struct store_conn *conn;

	pthread_mutex_lock(&ev->lock);
	for (size_t i = 0; i < ev->nprogress; i++) {
		struct progress *p = &ev->progress[i];

		if (p->owed && now - p->sent_us >= PROGRESS_INTERVAL_US) {
			owed = xrealloc(owed, (nowed + 1) * sizeof(*owed));
			memcpy(owed[nowed++], p->job, sizeof(p->job));
			p->owed = false;
			p->sent_us = now;
		}
		if (p->owed || now - p->sent_us < 40 * PROGRESS_INTERVAL_US)
			ev->progress[kept++] = *p;
	}
	ev->nprogress = kept;
	pthread_mutex_unlock(&ev->lock);
	if (nowed == 0)
		return;
	conn = store_acquire(ev->store);
	for (size_t i = 0; i < nowed; i++) {
		struct store_note note = { .what = STORE_JOB_PROGRESS };

		memcpy(note.uuid, owed[i], sizeof(note.uuid));
		publish(ev, "/jobs", false, job_event(conn, &note, false));
	}
	store_release(ev->store, conn);
	free(owed);
}

static void *
ticker_main(void *arg)
{
	struct events *ev = arg;

	pthread_mutex_lock(&ev->lock);
	while (!ev->stop) {
		struct timespec ts =
		    time_deadline(CLOCK_MONOTONIC, PROGRESS_INTERVAL_US);

		pthread_cond_timedwait(&ev->tick, &ev->lock, &ts);
		if (ev->stop || ev->nprogress == 0)
			continue;
		pthread_mutex_unlock(&ev->lock);
		send_owed_progress(ev);
		pthread_mutex_lock(&ev->lock);
	}
	pthread_mutex_unlock(&ev->lock);
	return NULL;
}

struct events *
events_new(struct store *store, struct eventbus *bus)
{
	struct events *ev = xcalloc(1, sizeof(*ev));
	ev->store = store;
	ev->bus = bus;
	ev->farm_status = -1;
	ev->progress = xcalloc(PROGRESS_MAX_JOBS, sizeof(*ev->progress));
	pthread_mutex_init(&ev->lock, NULL);
	time_cond_init_mono(&ev->tick);
	if (pthread_create(&ev->ticker, NULL, ticker_main, ev) != 0)
		fatal("cannot start the live-event ticker");
	store_set_observer(store, observe, observer_wants, ev);
	return ev;
}

void
events_free(struct events *ev)
{
	if (ev == NULL)
		return;
	store_set_observer(ev->store, NULL, NULL, NULL);
	pthread_mutex_lock(&ev->lock);
	ev->stop = true;
	pthread_cond_signal(&ev->tick);
	pthread_mutex_unlock(&ev->lock);
	pthread_join(ev->ticker, NULL);
	pthread_cond_destroy(&ev->tick);
	pthread_mutex_destroy(&ev->lock);
	free(ev->progress);
	free(ev);
}

struct eventbus *
events_bus(struct events *ev)
{
	return ev->bus;
}

void
events_task_log(
    struct events *ev, const char *task_uuid, const char *log, size_t len)
{
	char *topic;

	if (ev == NULL || !eventbus_has_subscribers(ev->bus))
		return;
	topic = xasprintf("/tasklog/%s", task_uuid);
	if (eventbus_wants(ev->bus, topic, true))
		publish(ev, topic, true,
		    json_pack(
		        "{s:s, s:s%}", "task_id", task_uuid, "log", log, len));
	free(topic);
}

void
events_last_rendered(struct events *ev, const char *job_uuid,
    const char *task_uuid, json_t *thumbnail)
{
	json_t *payload;
	char *topic;

	if (ev == NULL || !eventbus_wants(ev->bus, "/last-rendered", false))
		return;
	payload = json_pack("{s:s, s:s, s:O}", "job_id", job_uuid, "task_id",
	    task_uuid != NULL ? task_uuid : "", "thumbnail", thumbnail);
	if (payload == NULL)
		return;
	topic = xasprintf("/jobs/%s/last-rendered", job_uuid);
	publish(ev, topic, false, json_incref(payload));
	free(topic);
	publish(ev, "/last-rendered", false, payload);
}

void
events_lifecycle(struct events *ev, const char *type)
{
	if (ev == NULL)
		return;
	publish(ev, "/lifecycle", false, json_pack("{s:s}", "type", type));
}
