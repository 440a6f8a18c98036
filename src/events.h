/*
 * Live events in Flamenco's shapes and topics (EventJobUpdate on "/jobs",
 * EventTaskUpdate on "/jobs/<job>", EventWorkerUpdate on "/workers", ...),
 * published on the event bus. Changes recorded in the store's journal
 * become events once their transaction commits; task log chunks, new
 * last-rendered images and the Manager's start and stop, which live outside
 * the database, are published directly.
 */
#ifndef FM_EVENTS_H
#define FM_EVENTS_H

#include <jansson.h>
#include <stddef.h>

#include "fm.h"

struct eventbus;
struct store;
struct events;

/*
 * Become the store's observer and publish on bus (both borrowed; they
 * must outlive the result). New; events_free() it after serving stopped.
 */
struct events *events_new(struct store *store, struct eventbus *bus);

/* Stop observing the store. NULL-safe. */
void events_free(struct events *ev);

/* The bus events go to (borrowed). */
struct eventbus *events_bus(struct events *ev);

/* EventTaskLogUpdate on "/tasklog/<task>": a chunk a worker sent. */
void events_task_log(
    struct events *ev, const char *task_uuid, const char *log, size_t len);

/*
 * EventLastRenderedUpdate {job_id, task_id, thumbnail} on
 * "/jobs/<job>/last-rendered" and "/last-rendered", once the job's
 * thumbnails are in place; thumbnail (borrowed) is {"base", "suffixes"}
 * as fetchJobLastRenderedInfo answers.
 */
void events_last_rendered(struct events *ev, const char *job_uuid,
    const char *task_uuid, json_t *thumbnail);

/* EventLifeCycle on "/lifecycle": "manager-startup" or
 * "manager-shutdown". */
void events_lifecycle(struct events *ev, const char *type);

#endif
