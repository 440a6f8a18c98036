/*
 * Event streams. Threads that touch a stream: the bus (a publisher,
 * calling stream_wake under the bus lock), the MHD thread serving its
 * connection (stream_read), and the hub's ticker (heartbeats, shutdown).
 * The stream's own mutex orders them; the lock order is bus or hub before
 * stream, and stream_read never holds the stream's mutex while it takes
 * events from the bus. A stream is parked only by stream_read, and
 * unparked only by whoever clears "parked" under the mutex, so a wake-up
 * can never be lost or doubled.
 */
#include "sse.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eventbus.h"
#include "http.h"
#include "ids.h"
#include "log.h"
#include "timeutil.h"
#include "xmalloc.h"

#define MAX_FILTER_IDS 256
#define TICK_US        (1000 * 1000LL)
/* How long a browser waits before reconnecting a dropped stream. */
#define RETRY_MS 2000

struct sse_stream {
	struct sse_hub *hub;
	struct eventbus_sub *sub;
	struct sse_stream *prev, *next; /* the hub's list */

	pthread_mutex_t lock;     /* guards the fields below */
	struct http_stream *http; /* set while parked */
	bool parked;              /* connection suspended by stream_read */
	bool pending;             /* the bus queued something meanwhile */
	bool heartbeat_due;
	bool ending; /* close once what is buffered is out */
	int64_t last_write_us;

	/* Only stream_read touches these. */
	char *out; /* the text being written */
	size_t out_len, out_off;
	bool close_after_out; /* a final "resync" is in out */
};

struct sse_hub {
	struct eventbus *bus;
	int64_t heartbeat_us;
	pthread_mutex_t lock;
	pthread_cond_t tick;
	struct sse_stream *streams;
	size_t nstreams;
	bool closing; /* sse_hub_close_streams() ran: new streams end too */
	bool stop;
	pthread_t ticker;
};

/* --- what a stream wants ------------------------------------------ */

/* The addressed topics and prefixes a stream asks for. */
struct wants {
	char **topics, **prefixes;
	size_t ntopics, nprefixes;
};

static void
wants_free(struct wants *w)
{
	for (size_t i = 0; i < w->ntopics; i++)
		free(w->topics[i]);
	for (size_t i = 0; i < w->nprefixes; i++)
		free(w->prefixes[i]);
	free(w->topics);
	free(w->prefixes);
}

static void
push(char ***list, size_t *n, char *s)
{
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	(*list)[(*n)++] = s;
}

/*
 * Add the topics "<base><id>" for "id,id,..." (or the prefix "<base>" for
 * "all") to w; false when the list is malformed.
 */
static bool
parse_ids(const char *list, const char *base, struct wants *w)
{
	const char *p = list;
	size_t n = 0;

	if (list == NULL || list[0] == '\0')
		return true;
	if (strcmp(list, "all") == 0) {
		push(&w->prefixes, &w->nprefixes, xstrdup(base));
		return true;
	}
	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		char id[ID_UUID_LEN + 1];

		if (len != ID_UUID_LEN || n++ == MAX_FILTER_IDS)
			return false;
		memcpy(id, p, len);
		id[len] = '\0';
		if (!ids_valid_uuid(id))
			return false;
		push(&w->topics, &w->ntopics, xasprintf("%s%s", base, id));
		p += len;
		if (*p == ',')
			p++;
	}
	return true;
}

/* --- waking a parked stream ---------------------------------------- */

/* Lock held. */
static void
unpark(struct sse_stream *s)
{
	if (s->parked) {
		s->parked = false;
		http_stream_resume(s->http);
	}
}

static void
stream_wake(void *arg)
{
	struct sse_stream *s = arg;

	pthread_mutex_lock(&s->lock);
	s->pending = true;
	unpark(s);
	pthread_mutex_unlock(&s->lock);
}

/* --- writing ------------------------------------------------------- */

static void
out_set(struct sse_stream *s, char *text)
{
	free(s->out);
	s->out = text;
	s->out_len = strlen(text);
	s->out_off = 0;
}

static long
stream_read(void *arg, struct http_stream *http, char *buf, size_t max)
{
	struct sse_stream *s = arg;

	for (;;) {
		struct bus_event *ev;
		enum eventbus_next next;
		bool heartbeat;

		if (s->out_off < s->out_len) {
			size_t n = s->out_len - s->out_off;

			if (n > max)
				n = max;
			memcpy(buf, s->out + s->out_off, n);
			s->out_off += n;
			pthread_mutex_lock(&s->lock);
			s->last_write_us = time_mono_us();
			pthread_mutex_unlock(&s->lock);
			return (long)n;
		}
		if (s->close_after_out)
			return HTTP_STREAM_END;
		pthread_mutex_lock(&s->lock);
		if (s->ending) {
			pthread_mutex_unlock(&s->lock);
			return HTTP_STREAM_END;
		}
		s->pending = false;
		heartbeat = s->heartbeat_due;
		s->heartbeat_due = false;
		pthread_mutex_unlock(&s->lock);

		next = eventbus_next(s->sub, &ev);
		if (next == EVENTBUS_EVENT) {
			out_set(s,
			    xasprintf("id: %llu\nevent: %s\ndata: %s\n\n",
			        (unsigned long long)ev->id, ev->topic,
			        ev->data));
			bus_event_unref(ev);
			continue;
		}
		if (next == EVENTBUS_OVERFLOW) {
			/* Too slow a reader: it reloads its view and
			 * reconnects rather than have the bus wait. */
			out_set(s,
			    xstrdup("event: resync\ndata: "
			            "{\"reason\": \"fell behind\"}\n\n"));
			s->close_after_out = true;
			continue;
		}
		if (heartbeat) {
			out_set(s, xstrdup(": keep-alive\n\n"));
			continue;
		}
		pthread_mutex_lock(&s->lock);
		if (!s->pending && !s->heartbeat_due && !s->ending) {
			s->parked = true;
			s->http = http;
			http_stream_pause(http);
			pthread_mutex_unlock(&s->lock);
			return 0;
		}
		pthread_mutex_unlock(&s->lock);
	}
}

static void
stream_free(void *arg)
{
	struct sse_stream *s = arg;
	struct sse_hub *hub = s->hub;

	/* After this no publisher can wake us. */
	eventbus_unsubscribe(s->sub);
	pthread_mutex_lock(&hub->lock);
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		hub->streams = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	hub->nstreams--;
	pthread_cond_broadcast(&hub->tick);
	pthread_mutex_unlock(&hub->lock);
	pthread_mutex_destroy(&s->lock);
	free(s->out);
	free(s);
}

/* Healthy streams write at least every heartbeat; three missed mean the
 * client stopped reading. */
static unsigned
stream_idle_timeout_s(const struct sse_hub *hub)
{
	int64_t s = 3 * hub->heartbeat_us / 1000000;

	return s < 30 ? 30 : (unsigned)s;
}

enum fm_err
sse_open(struct sse_hub *hub, struct req *req, const struct sse_filter *f,
    const char **why_out)
{
	struct sse_stream *s = xcalloc(1, sizeof(*s));
	struct wants w = { 0 };
	struct eventbus_interest interest;
	bool resync = false;

	*why_out = NULL;
	/* Task updates of the jobs it names, logs of the tasks it names;
	 * the job, worker, tag and farm events everybody gets. */
	if (!parse_ids(f->jobs, "/jobs/", &w)) {
		*why_out = "\"jobs\" must be \"all\" or a comma-separated list "
		           "of at most 256 job IDs";
		goto invalid;
	}
	if (!parse_ids(f->tasks, "/tasklog/", &w)) {
		*why_out =
		    "\"tasks\" must be \"all\" or a comma-separated list "
		    "of at most 256 task IDs";
		goto invalid;
	}
	s->hub = hub;
	pthread_mutex_init(&s->lock, NULL);
	s->last_write_us = time_mono_us();
	interest = (struct eventbus_interest){
		.broadcast = true,
		.topics = (const char *const *)w.topics,
		.ntopics = w.ntopics,
		.prefixes = (const char *const *)w.prefixes,
		.nprefixes = w.nprefixes,
	};
	s->sub = eventbus_subscribe(
	    hub->bus, &interest, stream_wake, s, f->after_id, &resync);
	wants_free(&w);
	/* The first thing a client reads: how soon to reconnect, and
	 * whether the events it missed are lost. */
	out_set(s,
	    resync ? xasprintf("retry: %d\n\nevent: resync\ndata: {\"reason\": "
	                       "\"events since %llu are no longer kept\"}\n\n",
	                 RETRY_MS, (unsigned long long)f->after_id)
	           : xasprintf("retry: %d\n\n", RETRY_MS));
	pthread_mutex_lock(&hub->lock);
	s->ending = hub->closing; /* it says retry: and ends at once */
	s->next = hub->streams;
	if (hub->streams != NULL)
		hub->streams->prev = s;
	hub->streams = s;
	hub->nstreams++;
	pthread_mutex_unlock(&hub->lock);
	return http_reply_stream(req, 200, "text/event-stream",
	    stream_idle_timeout_s(hub), stream_read, stream_free, s);
invalid:
	wants_free(&w);
	free(s);
	return FM_ERR_INVALID;
}

/* --- the hub ------------------------------------------------------- */

static void *
ticker_main(void *arg)
{
	struct sse_hub *hub = arg;

	pthread_mutex_lock(&hub->lock);
	while (!hub->stop) {
		struct timespec ts;
		int64_t now = time_mono_us();

		for (struct sse_stream *s = hub->streams; s != NULL;
		     s = s->next) {
			pthread_mutex_lock(&s->lock);
			if (now - s->last_write_us >= hub->heartbeat_us) {
				s->heartbeat_due = true;
				unpark(s);
			}
			pthread_mutex_unlock(&s->lock);
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += TICK_US / 1000000;
		pthread_cond_timedwait(&hub->tick, &hub->lock, &ts);
	}
	pthread_mutex_unlock(&hub->lock);
	return NULL;
}

struct sse_hub *
sse_hub_new(struct eventbus *bus, int64_t heartbeat_us)
{
	struct sse_hub *hub = xcalloc(1, sizeof(*hub));
	hub->bus = bus;
	hub->heartbeat_us = heartbeat_us;
	pthread_mutex_init(&hub->lock, NULL);
	time_cond_init_mono(&hub->tick);
	if (pthread_create(&hub->ticker, NULL, ticker_main, hub) != 0)
		fatal("cannot start the event-stream heartbeat thread");
	return hub;
}

void
sse_hub_close_streams(struct sse_hub *hub)
{
	if (hub == NULL)
		return;
	pthread_mutex_lock(&hub->lock);
	hub->closing = true;
	for (struct sse_stream *s = hub->streams; s != NULL; s = s->next) {
		pthread_mutex_lock(&s->lock);
		s->ending = true;
		unpark(s);
		pthread_mutex_unlock(&s->lock);
	}
	pthread_mutex_unlock(&hub->lock);
}

size_t
sse_hub_streams(struct sse_hub *hub)
{
	size_t n;

	pthread_mutex_lock(&hub->lock);
	n = hub->nstreams;
	pthread_mutex_unlock(&hub->lock);
	return n;
}

void
sse_hub_free(struct sse_hub *hub)
{
	if (hub == NULL)
		return;
	pthread_mutex_lock(&hub->lock);
	hub->stop = true;
	pthread_cond_broadcast(&hub->tick);
	pthread_mutex_unlock(&hub->lock);
	pthread_join(hub->ticker, NULL);
	FM_ASSERT(hub->streams == NULL);
	pthread_mutex_destroy(&hub->lock);
	pthread_cond_destroy(&hub->tick);
	free(hub);
}
