/*
 * The in-process event bus that live views hang off (Server-Sent Events,
 * MQTT, the dashboard). An event is a topic in Flamenco's naming ("/jobs",
 * "/jobs/<job uuid>", "/tasklog/<task uuid>", ...) and a JSON payload,
 * frozen as text when published and shared by reference with every
 * subscriber. An event is either broadcast (job, worker, tag, farm
 * events: every viewer gets them) or addressed (one job's task updates,
 * one task's log: only those who asked for that topic get them); the bus
 * indexes subscribers by the addressed topics they want, so an event
 * costs only as much as its audience, and nothing when it has none. Publishing
 * never blocks on a subscriber: each has a bounded queue, and one that falls
 * behind is cut off and told to resync. A bounded history lets a reconnecting
 * client resume after the last id it saw.
 */
#ifndef FM_EVENTBUS_H
#define FM_EVENTBUS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fm.h"

struct eventbus;
struct eventbus_sub;

/* An immutable published event; share with bus_event_ref/_unref. */
struct bus_event {
	uint64_t id;     /* 1, 2, 3, ... in publish order */
	char *topic;     /* NUL-terminated */
	char *data;      /* compact JSON text, NUL-terminated */
	size_t data_len; /* strlen(data) */
	bool addressed;  /* only for subscribers of its topic */
	int refs;        /* atomic; owned by the bus */
};

/* What a subscriber wants. The strings are copied. */
struct eventbus_interest {
	bool broadcast;            /* every broadcast event */
	const char *const *topics; /* addressed events of exactly these */
	size_t ntopics;
	const char *const *prefixes; /* addressed events of topics that start
	                                with one of these ("/" = all) */
	size_t nprefixes;
};

/* Called under the bus lock when a subscriber's queue goes from empty to
 * non-empty or it overflows, so its reader can be woken (for example an
 * MHD connection resumed). Must not call back into the bus. */
typedef void (*eventbus_wake_fn)(void *arg);

struct eventbus_options {
	size_t history;    /* events kept for resuming; 0 = 1024 */
	size_t queue_len;  /* per subscriber; 0 = 1024 */
	uint64_t first_id; /* id of the first event; 0 = 1 */
};

/* New bus (never NULL). */
struct eventbus *eventbus_new(const struct eventbus_options *opt);

/* Frees the bus; every subscriber must be gone. NULL-safe. */
void eventbus_free(struct eventbus *bus);

/*
 * Whether anyone listens. Publishers check this first so that building a
 * payload costs nothing on a farm nobody watches. Lock-free.
 */
bool eventbus_has_subscribers(const struct eventbus *bus);

/* Whether anyone would receive an event on topic: lets a publisher skip
 * building a payload nobody gets. */
bool eventbus_wants(struct eventbus *bus, const char *topic, bool addressed);

/*
 * Publish payload (stolen) on topic, addressed or broadcast. Thread-safe;
 * never waits for a subscriber. Returns the event's id, or 0 when the
 * payload could not be serialised (it is then dropped with a log line).
 */
uint64_t eventbus_publish(
    struct eventbus *bus, const char *topic, bool addressed, json_t *payload);

/* The id of the last event published (first_id - 1 before any). */
uint64_t eventbus_last_id(struct eventbus *bus);

/*
 * Subscribe to what interest says; wake (may be NULL) is called with
 * wake_arg as documented above. With after_id > 0 the events of the
 * history newer than after_id that it wants are queued first; when
 * the history no longer reaches back to after_id, *resync_out is set: the
 * client missed events and must reload its view. New subscriber, released
 * with eventbus_unsubscribe().
 */
struct eventbus_sub *eventbus_subscribe(struct eventbus *bus,
    const struct eventbus_interest *interest, eventbus_wake_fn wake,
    void *wake_arg, uint64_t after_id, bool *resync_out);

/* Everything, broadcast and addressed (for forwarders such as MQTT). */
extern const struct eventbus_interest eventbus_everything;

enum eventbus_next {
	EVENTBUS_EMPTY,    /* nothing queued now */
	EVENTBUS_EVENT,    /* *ev_out holds a new reference */
	EVENTBUS_OVERFLOW, /* fell behind: resync, then unsubscribe */
};

/* Take the oldest queued event. */
enum eventbus_next eventbus_next(
    struct eventbus_sub *sub, struct bus_event **ev_out);

/* Stop receiving and free the subscription and its queue. NULL-safe. */
void eventbus_unsubscribe(struct eventbus_sub *sub);

/* Number of current subscribers (for metrics and tests). */
size_t eventbus_subscribers(struct eventbus *bus);

void bus_event_ref(struct bus_event *ev);
/* NULL-safe. */
void bus_event_unref(struct bus_event *ev);

#endif
