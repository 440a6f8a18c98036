/*
 * Event fan-out. One mutex guards the history ring and every subscriber's
 * queue; it is held only to move pointers, never while serialising JSON or
 * doing I/O, so a publisher waits at most for another publisher's pointer
 * moves. Events are reference-counted: the history holds one reference and
 * each queue entry one more.
 */
#include "eventbus.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xmalloc.h"

#define DEFAULT_HISTORY   1024
#define DEFAULT_QUEUE_LEN 1024
#define TOPIC_BUCKETS     1024 /* power of two */
/* The history also stops at this many bytes: one log chunk can be a
 * megabyte. */
#define HISTORY_MAX_BYTES (16u << 20)

/* A fixed-capacity FIFO of event references. */
struct ring {
	struct bus_event **items;
	size_t cap, head, len; /* head: index of the oldest */
};

/* One addressed topic (or prefix) a subscriber wants. */
struct want {
	char *topic;
	bool prefix; /* topic is a prefix */
	struct eventbus_sub *sub;
	struct want *next; /* in its bucket, or in the prefix list */
};

struct eventbus_sub {
	struct eventbus *bus;
	struct eventbus_sub *prev, *next;
	bool broadcast;
	struct want *wants; /* its entries, linked through the bus's index */
	size_t nwants;
	uint64_t last_id; /* of the last event queued: no duplicates */
	eventbus_wake_fn wake;
	void *wake_arg;
	struct ring queue;
	bool overflowed; /* cut off: the reader must resync */
};

struct eventbus {
	pthread_mutex_t lock;
	struct ring history;
	size_t history_bytes; /* data_len of the events in it */
	size_t queue_len;
	uint64_t last_id;
	struct eventbus_sub *subs;
	atomic_size_t nsubs;
	size_t nbroadcast;
	struct want *by_topic[TOPIC_BUCKETS]; /* exact addressed topics */
	struct want *by_prefix;               /* prefix subscriptions */
};

const struct eventbus_interest eventbus_everything = {
	.broadcast = true,
	.prefixes = (const char *const[]){ "/" },
	.nprefixes = 1,
};

static size_t
topic_bucket(const char *topic)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (const unsigned char *p = (const unsigned char *)topic; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h & (TOPIC_BUCKETS - 1);
}

static void
ring_init(struct ring *r, size_t cap)
{
	r->items = xcalloc(cap, sizeof(*r->items));
	r->cap = cap;
	r->head = 0;
	r->len = 0;
}

static struct bus_event *
ring_at(const struct ring *r, size_t i)
{
	return r->items[(r->head + i) % r->cap];
}

/* Append; the caller made room. */
static void
ring_push(struct ring *r, struct bus_event *ev)
{
	FM_ASSERT(r->len < r->cap);
	r->items[(r->head + r->len) % r->cap] = ev;
	r->len++;
}

static struct bus_event *
ring_shift(struct ring *r)
{
	struct bus_event *ev;

	if (r->len == 0)
		return NULL;
	ev = r->items[r->head];
	r->head = (r->head + 1) % r->cap;
	r->len--;
	return ev;
}

/* Drop every reference the ring holds and free it. */
static void
ring_clear(struct ring *r)
{
	struct bus_event *ev;

	while ((ev = ring_shift(r)) != NULL)
		bus_event_unref(ev);
	free(r->items);
	r->items = NULL;
}

void
bus_event_ref(struct bus_event *ev)
{
	atomic_fetch_add_explicit(
	    (atomic_int *)&ev->refs, 1, memory_order_relaxed);
}

void
bus_event_unref(struct bus_event *ev)
{
	if (ev == NULL)
		return;
	if (atomic_fetch_sub_explicit(
	        (atomic_int *)&ev->refs, 1, memory_order_acq_rel) != 1)
		return;
	free(ev->topic);
	free(ev->data);
	free(ev);
}

struct eventbus *
eventbus_new(const struct eventbus_options *opt)
{
	struct eventbus *bus = xcalloc(1, sizeof(*bus));

	pthread_mutex_init(&bus->lock, NULL);
	ring_init(&bus->history,
	    opt != NULL && opt->history > 0 ? opt->history : DEFAULT_HISTORY);
	bus->queue_len = opt != NULL && opt->queue_len > 0 ? opt->queue_len
	                                                   : DEFAULT_QUEUE_LEN;
	bus->last_id = opt != NULL && opt->first_id > 0 ? opt->first_id - 1 : 0;
	atomic_init(&bus->nsubs, 0);
	return bus;
}

void
eventbus_free(struct eventbus *bus)
{
	if (bus == NULL)
		return;
	FM_ASSERT(bus->subs == NULL);
	ring_clear(&bus->history);
	pthread_mutex_destroy(&bus->lock);
	free(bus);
}

bool
eventbus_has_subscribers(const struct eventbus *bus)
{
	return atomic_load_explicit(&bus->nsubs, memory_order_relaxed) > 0;
}

size_t
eventbus_subscribers(struct eventbus *bus)
{
	return atomic_load(&bus->nsubs);
}

uint64_t
eventbus_last_id(struct eventbus *bus)
{
	uint64_t id;

	pthread_mutex_lock(&bus->lock);
	id = bus->last_id;
	pthread_mutex_unlock(&bus->lock);
	return id;
}

/* Queue ev for sub, or cut sub off when its queue is full. Lock held. */
static void
deliver(struct eventbus_sub *sub, struct bus_event *ev)
{
	bool was_empty = sub->queue.len == 0;

	if (sub->overflowed || sub->last_id >= ev->id)
		return;
	sub->last_id = ev->id;
	if (sub->queue.len == sub->queue.cap) {
		/* Cut off: it will only ever say resync, so what it holds
		 * need not outlive the history. */
		struct bus_event *old;

		while ((old = ring_shift(&sub->queue)) != NULL)
			bus_event_unref(old);
		sub->overflowed = true;
		if (sub->wake != NULL)
			sub->wake(sub->wake_arg);
		return;
	}
	bus_event_ref(ev);
	ring_push(&sub->queue, ev);
	if (was_empty && sub->wake != NULL)
		sub->wake(sub->wake_arg);
}

static bool
prefixed(const char *topic, const char *prefix)
{
	return strncmp(topic, prefix, strlen(prefix)) == 0;
}

/* Whether sub wants ev (for replays from the history). Lock held. */
static bool
sub_wants(const struct eventbus_sub *sub, const struct bus_event *ev)
{
	if (!ev->addressed)
		return sub->broadcast;
	for (size_t i = 0; i < sub->nwants; i++)
		if (sub->wants[i].prefix
		        ? prefixed(ev->topic, sub->wants[i].topic)
		        : strcmp(ev->topic, sub->wants[i].topic) == 0)
			return true;
	return false;
}

/* Deliver ev to its audience. Lock held. */
static void
fan_out(struct eventbus *bus, struct bus_event *ev)
{
	if (!ev->addressed) {
		if (bus->nbroadcast == 0)
			return;
		for (struct eventbus_sub *s = bus->subs; s != NULL; s = s->next)
			if (s->broadcast)
				deliver(s, ev);
		return;
	}
	for (struct want *w = bus->by_topic[topic_bucket(ev->topic)]; w != NULL;
	     w = w->next)
		if (strcmp(w->topic, ev->topic) == 0)
			deliver(w->sub, ev);
	for (struct want *w = bus->by_prefix; w != NULL; w = w->next)
		if (prefixed(ev->topic, w->topic))
			deliver(w->sub, ev);
}

bool
eventbus_wants(struct eventbus *bus, const char *topic, bool addressed)
{
	bool wanted = false;

	if (!eventbus_has_subscribers(bus))
		return false;
	pthread_mutex_lock(&bus->lock);
	if (!addressed) {
		wanted = bus->nbroadcast > 0;
	} else {
		for (struct want *w = bus->by_topic[topic_bucket(topic)];
		     w != NULL && !wanted; w = w->next)
			wanted = strcmp(w->topic, topic) == 0;
		for (struct want *w = bus->by_prefix; w != NULL && !wanted;
		     w = w->next)
			wanted = prefixed(topic, w->topic);
	}
	pthread_mutex_unlock(&bus->lock);
	return wanted;
}

uint64_t
eventbus_publish(
    struct eventbus *bus, const char *topic, bool addressed, json_t *payload)
{
	struct bus_event *ev, *evicted[8];
	size_t nevicted = 0;
	char *text;
	uint64_t id;

	/* Serialise outside the lock: it is the expensive part. */
	text = json_dumps(payload, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(payload);
	if (text == NULL) {
		log_error(
		    "event on %s dropped: payload not serialisable", topic);
		return 0;
	}
	ev = xcalloc(1, sizeof(*ev));
	ev->topic = xstrdup(topic);
	ev->data = text;
	ev->data_len = strlen(text);
	ev->addressed = addressed;
	ev->refs = 1; /* the history's */

	pthread_mutex_lock(&bus->lock);
	ev->id = id = ++bus->last_id;
	/* Make room by count and by size (a few events per publish at
	 * most; the rest go next time). The first pass always frees a
	 * slot when the history is full. */
	while (bus->history.len > 0 && nevicted < nitems(evicted) &&
	    (bus->history.len == bus->history.cap ||
	        bus->history_bytes + ev->data_len > HISTORY_MAX_BYTES)) {
		evicted[nevicted] = ring_shift(&bus->history);
		bus->history_bytes -= evicted[nevicted++]->data_len;
	}
	ring_push(&bus->history, ev);
	bus->history_bytes += ev->data_len;
	fan_out(bus, ev);
	pthread_mutex_unlock(&bus->lock);
	for (size_t i = 0; i < nevicted; i++)
		bus_event_unref(evicted[i]);
	return id;
}

/* Link sub's wants into the index. Lock held. */
static void
index_add(struct eventbus *bus, struct eventbus_sub *sub)
{
	for (size_t i = 0; i < sub->nwants; i++) {
		struct want *w = &sub->wants[i];
		struct want **head = w->prefix
		    ? &bus->by_prefix
		    : &bus->by_topic[topic_bucket(w->topic)];

		w->next = *head;
		*head = w;
	}
	if (sub->broadcast)
		bus->nbroadcast++;
}

/* Unlink them again. Lock held. */
static void
index_remove(struct eventbus *bus, struct eventbus_sub *sub)
{
	for (size_t i = 0; i < sub->nwants; i++) {
		struct want *w = &sub->wants[i];
		struct want **pp = w->prefix
		    ? &bus->by_prefix
		    : &bus->by_topic[topic_bucket(w->topic)];

		while (*pp != w)
			pp = &(*pp)->next;
		*pp = w->next;
	}
	if (sub->broadcast)
		bus->nbroadcast--;
}

/* Copy what interest lists into sub->wants. */
static void
set_wants(struct eventbus_sub *sub, const struct eventbus_interest *in)
{
	size_t n = 0;

	sub->broadcast = in->broadcast;
	sub->nwants = in->ntopics + in->nprefixes;
	sub->wants =
	    sub->nwants > 0 ? xcalloc(sub->nwants, sizeof(*sub->wants)) : NULL;
	for (size_t i = 0; i < in->ntopics; i++, n++)
		sub->wants[n].topic = xstrdup(in->topics[i]);
	for (size_t i = 0; i < in->nprefixes; i++, n++) {
		sub->wants[n].topic = xstrdup(in->prefixes[i]);
		sub->wants[n].prefix = true;
	}
	for (size_t i = 0; i < n; i++)
		sub->wants[i].sub = sub;
}

struct eventbus_sub *
eventbus_subscribe(struct eventbus *bus,
    const struct eventbus_interest *interest, eventbus_wake_fn wake,
    void *wake_arg, uint64_t after_id, bool *resync_out)
{
	struct eventbus_sub *sub = xcalloc(1, sizeof(*sub));

	*resync_out = false;
	sub->bus = bus;
	set_wants(sub, interest);
	ring_init(&sub->queue, bus->queue_len);

	pthread_mutex_lock(&bus->lock);
	if (after_id > bus->last_id) {
		/* An id this bus never gave out. */
		*resync_out = true;
	} else if (after_id > 0) {
		size_t n = bus->history.len;
		uint64_t oldest = n > 0 ? ring_at(&bus->history, 0)->id : 0;

		/* Resuming needs every event after after_id still in the
		 * history and room for them; otherwise the client's view
		 * has a gap and replaying part of it would only hide that. */
		if (after_id < bus->last_id &&
		    (n == 0 || oldest > after_id + 1))
			*resync_out = true;
		for (size_t i = 0; i < n && !*resync_out; i++) {
			struct bus_event *ev = ring_at(&bus->history, i);

			if (ev->id > after_id && sub_wants(sub, ev))
				deliver(sub, ev);
			if (sub->overflowed)
				*resync_out = true;
		}
		if (*resync_out) {
			ring_clear(&sub->queue);
			ring_init(&sub->queue, bus->queue_len);
			sub->overflowed = false;
		}
	}
	sub->last_id = bus->last_id;
	index_add(bus, sub);
	/* Not during the replay: the reader is not waiting yet. */
	sub->wake = wake;
	sub->wake_arg = wake_arg;
	sub->next = bus->subs;
	if (bus->subs != NULL)
		bus->subs->prev = sub;
	bus->subs = sub;
	atomic_fetch_add(&bus->nsubs, 1);
	pthread_mutex_unlock(&bus->lock);
	return sub;
}

enum eventbus_next
eventbus_next(struct eventbus_sub *sub, struct bus_event **ev_out)
{
	struct eventbus *bus = sub->bus;
	enum eventbus_next rc;

	*ev_out = NULL;
	pthread_mutex_lock(&bus->lock);
	if (sub->overflowed) {
		rc = EVENTBUS_OVERFLOW;
	} else {
		*ev_out = ring_shift(&sub->queue); /* its reference moves */
		rc = *ev_out != NULL ? EVENTBUS_EVENT : EVENTBUS_EMPTY;
	}
	pthread_mutex_unlock(&bus->lock);
	return rc;
}

void
eventbus_unsubscribe(struct eventbus_sub *sub)
{
	struct eventbus *bus;

	if (sub == NULL)
		return;
	bus = sub->bus;
	pthread_mutex_lock(&bus->lock);
	if (sub->prev != NULL)
		sub->prev->next = sub->next;
	else
		bus->subs = sub->next;
	if (sub->next != NULL)
		sub->next->prev = sub->prev;
	index_remove(bus, sub);
	atomic_fetch_sub(&bus->nsubs, 1);
	pthread_mutex_unlock(&bus->lock);
	ring_clear(&sub->queue);
	for (size_t i = 0; i < sub->nwants; i++)
		free(sub->wants[i].topic);
	free(sub->wants);
	free(sub);
}
