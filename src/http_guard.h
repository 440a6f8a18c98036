/*
 * Receive deadlines for HTTP connections. MHD's connection timeout only
 * measures idleness, so a client sending one byte every few seconds keeps
 * a connection (and its file descriptor) forever. The guard gives each
 * connection a deadline while it is receiving a request: the headers must
 * be complete within header_timeout of the connection opening or of its
 * previous request completing, and a body must keep up min_body_rate
 * after that much grace. A thread checks the deadlines a few times a
 * second and shutdown(2)s the sockets that missed theirs; MHD then sees
 * the end of the stream and closes the connection in its own thread.
 * Sending a response (a download, an event stream) has no deadline here.
 *
 * Threads: each connection record is updated only by the MHD thread that
 * owns the connection; the guard thread reads the deadline atomically and
 * touches only the socket, under the list lock, which removal also takes,
 * so it never acts on a descriptor MHD has closed.
 */
#ifndef FM_HTTP_GUARD_H
#define FM_HTTP_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_guard;

/* One connection, embedded in the caller's per-connection state. */
struct http_guard_conn {
	struct http_guard_conn *prev, *next; /* the guard's list (its lock) */
	int fd;                              /* the client socket */
	_Atomic int64_t deadline_us;         /* monotonic; 0 = none */
	int64_t body_start_us;               /* owner thread only */
	uint64_t body_bytes;                 /* owner thread only */
	bool streaming;    /* owner: the body goes to disk as it comes */
	int64_t bucket_us; /* owner: a streamed body's leaky-bucket deadline */
	int64_t paused_us; /* owner: when the server began its own work */
};

/*
 * Start the guard thread. header_timeout_us > 0; min_body_rate in bytes
 * per second, 0 for no rate check (the header timeout then bounds only
 * the headers). New; NULL-safe http_guard_stop() releases it.
 */
struct http_guard *http_guard_start(
    int64_t header_timeout_us, uint64_t min_body_rate);

/*
 * Stop the thread and free the guard. Every connection must have been
 * removed (MHD_stop_daemon() does that through the close notification).
 */
void http_guard_stop(struct http_guard *g);

/* A new connection on fd: its header deadline starts now. */
void http_guard_add(struct http_guard *g, struct http_guard_conn *c, int fd);

/* The connection is closing; called before its socket is closed. */
void http_guard_remove(struct http_guard *g, struct http_guard_conn *c);

/*
 * Headers complete: from now on the body must keep up its rate. A body
 * that is streamed to disk (streaming set) may be gigabytes, where the
 * average rate since the start would let a client that stops after a fast
 * start hold the connection for days; its rate is a leaky bucket instead:
 * each byte earns 1/min_body_rate seconds, but the deadline never runs
 * more than header_timeout ahead of now. A fast upload never comes near
 * it; one that stalls for header_timeout is cut.
 */
void http_guard_headers_done(
    struct http_guard *g, struct http_guard_conn *c, bool streaming);

/*
 * n more body bytes arrived. Returns false when the body is already
 * behind its deadline, so the caller can abort the request at once.
 */
bool http_guard_body(struct http_guard *g, struct http_guard_conn *c, size_t n);

/*
 * The server itself is working on the body (a sink writing to a slow
 * disk): the client is not to blame for that time. Between these two
 * calls there is no deadline; afterwards the body's deadline moves on by
 * the time spent, so only time spent waiting for the client counts.
 */
void http_guard_server_busy(struct http_guard_conn *c);
void http_guard_server_done(struct http_guard *g, struct http_guard_conn *c);

/* The request is received: no deadline while it is handled and answered. */
void http_guard_busy(struct http_guard_conn *c);

/* The request completed: the next one's headers have a deadline again. */
void http_guard_idle(struct http_guard *g, struct http_guard_conn *c);

/* Connections closed for a missed deadline so far. */
uint64_t http_guard_expired(struct http_guard *g);

#endif
