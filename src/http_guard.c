/*
 * The connection guard: a list of connections that are receiving a
 * request, each with a deadline, and one thread that closes the ones
 * past it. See http_guard.h for the rules and the threading.
 */
#include "http_guard.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "fm.h"
#include "log.h"
#include "timeutil.h"
#include "xmalloc.h"

/* How often deadlines are checked; a missed one costs at most this more. */
#define GUARD_TICK_US 100000LL
/*
 * A socket with unread bytes in the kernel has just received data MHD is
 * about to read, e.g. a keep-alive client's next request arriving right
 * at the deadline. It is spared for this long past its deadline, so such
 * a race does not cost a client its request.
 */
#define GUARD_PENDING_GRACE_US 1000000LL

struct http_guard {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	struct http_guard_conn *head; /* connections, under lock */
	bool stopping;                /* under lock */
	int64_t header_timeout_us;
	uint64_t min_body_rate;
	atomic_uint_fast64_t expired;
};

/* True when the kernel holds bytes for fd that nobody has read yet. */
static bool
data_pending(int fd)
{
	char c;

	return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

static void
check_deadlines(struct http_guard *g, int64_t now)
{
	for (struct http_guard_conn *c = g->head; c != NULL; c = c->next) {
		int64_t d = atomic_load(&c->deadline_us);

		if (d == 0 || now < d)
			continue;
		if (now - d < GUARD_PENDING_GRACE_US && data_pending(c->fd))
			continue;
		/*
		 * Only the socket's stream is ended; MHD notices on its
		 * thread and closes the connection there.
		 */
		if (shutdown(c->fd, SHUT_RDWR) != 0 && errno != ENOTCONN)
			log_warn("connection guard: shutdown: fd %d: %s", c->fd,
			    strerror(errno));
		/* Unless the owner has set a new deadline meanwhile. */
		atomic_compare_exchange_strong(&c->deadline_us, &d, 0);
		atomic_fetch_add(&g->expired, 1);
	}
}

static void *
guard_main(void *arg)
{
	struct http_guard *g = arg;

	pthread_mutex_lock(&g->lock);
	while (!g->stopping) {
		int64_t now = time_mono_us(), wake = now + GUARD_TICK_US;
		struct timespec ts = {
			.tv_sec = (time_t)(wake / 1000000),
			.tv_nsec = (long)(wake % 1000000) * 1000,
		};

		check_deadlines(g, now);
		pthread_cond_timedwait(&g->wake, &g->lock, &ts);
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

struct http_guard *
http_guard_start(int64_t header_timeout_us, uint64_t min_body_rate)
{
	struct http_guard *g = xcalloc(1, sizeof(*g));
	int err;

	FM_ASSERT(header_timeout_us > 0);
	g->header_timeout_us = header_timeout_us;
	g->min_body_rate = min_body_rate;
	pthread_mutex_init(&g->lock, NULL);
	/* time_mono_us() is CLOCK_MONOTONIC; the waits use the same clock. */
	time_cond_init_mono(&g->wake);
	if ((err = pthread_create(&g->thread, NULL, guard_main, g)) != 0)
		fatal("connection guard: cannot start thread: error %d", err);
	return g;
}

void
http_guard_stop(struct http_guard *g)
{
	if (g == NULL)
		return;
	pthread_mutex_lock(&g->lock);
	g->stopping = true;
	pthread_cond_signal(&g->wake);
	pthread_mutex_unlock(&g->lock);
	pthread_join(g->thread, NULL);
	FM_ASSERT(g->head == NULL);
	pthread_cond_destroy(&g->wake);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

void
http_guard_add(struct http_guard *g, struct http_guard_conn *c, int fd)
{
	c->fd = fd;
	c->prev = NULL;
	c->body_start_us = 0;
	c->body_bytes = 0;
	atomic_store(&c->deadline_us, time_mono_us() + g->header_timeout_us);
	pthread_mutex_lock(&g->lock);
	c->next = g->head;
	if (g->head != NULL)
		g->head->prev = c;
	g->head = c;
	pthread_mutex_unlock(&g->lock);
}

void
http_guard_remove(struct http_guard *g, struct http_guard_conn *c)
{
	pthread_mutex_lock(&g->lock);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		g->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	pthread_mutex_unlock(&g->lock);
}

/* The body deadline: the grace, plus the time its bytes may take. */
static int64_t
body_deadline(const struct http_guard *g, const struct http_guard_conn *c)
{
	if (g->min_body_rate == 0)
		return 0;
	return c->body_start_us + g->header_timeout_us +
	    (int64_t)(c->body_bytes * 1000000 / g->min_body_rate);
}

void
http_guard_headers_done(
    struct http_guard *g, struct http_guard_conn *c, bool streaming)
{
	c->body_start_us = time_mono_us();
	c->body_bytes = 0;
	c->streaming = streaming;
	c->bucket_us = body_deadline(g, c);
	atomic_store(&c->deadline_us, c->bucket_us);
}

/* The streamed body's deadline after n more bytes (see the header). */
static int64_t
bucket_deadline(
    struct http_guard *g, struct http_guard_conn *c, size_t n, int64_t now)
{
	int64_t cap = now + g->header_timeout_us;

	if (g->min_body_rate == 0)
		return 0;
	c->bucket_us += (int64_t)((uint64_t)n * 1000000 / g->min_body_rate);
	if (c->bucket_us > cap)
		c->bucket_us = cap;
	return c->bucket_us;
}

bool
http_guard_body(struct http_guard *g, struct http_guard_conn *c, size_t n)
{
	int64_t d, now = time_mono_us();

	c->body_bytes += n;
	d = c->streaming ? bucket_deadline(g, c, n, now) : body_deadline(g, c);
	atomic_store(&c->deadline_us, d);
	return d == 0 || now <= d;
}

void
http_guard_server_busy(struct http_guard_conn *c)
{
	c->paused_us = time_mono_us();
	atomic_store(&c->deadline_us, 0);
}

void
http_guard_server_done(struct http_guard *g, struct http_guard_conn *c)
{
	int64_t spent = time_mono_us() - c->paused_us;

	c->body_start_us += spent;
	c->bucket_us += spent;
	atomic_store(&c->deadline_us,
	    c->streaming ? (g->min_body_rate == 0 ? 0 : c->bucket_us)
	                 : body_deadline(g, c));
}

void
http_guard_busy(struct http_guard_conn *c)
{
	atomic_store(&c->deadline_us, 0);
}

void
http_guard_idle(struct http_guard *g, struct http_guard_conn *c)
{
	atomic_store(&c->deadline_us, time_mono_us() + g->header_timeout_us);
}

uint64_t
http_guard_expired(struct http_guard *g)
{
	return atomic_load(&g->expired);
}
