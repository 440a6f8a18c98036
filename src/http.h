/*
 * The HTTP layer over libmicrohttpd: starts and stops the server, runs
 * the access-handler protocol (body collection with caps, or bodies
 * streamed to a route's sink as they arrive (router.h), route lookup,
 * 404/405/413, JSON body parsing, worker and admin authentication, slow
 * routes on their own threads), bounds what one client may cost
 * (connections, receive deadlines, JSON size), and offers the
 * http_reply_* functions handlers answer with. Every error reply is JSON
 * {"code": N, "message": "..."}, and every request gets a reply.
 */
#ifndef FM_HTTP_H
#define FM_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fm.h"
#include "router.h"

struct req;
struct http_server;

/*
 * Checks credentials. user and pass come from HTTP Basic (NULL when
 * absent or malformed). For ROUTE_WORKER_AUTH routes (http_config.auth)
 * success must call req_set_auth() and any error answers 403. For
 * ROUTE_ADMIN routes (http_config.admin_auth) any error answers 401 with
 * a WWW-Authenticate challenge, so a browser asks for the password.
 */
typedef enum fm_err (*http_auth_fn)(
    struct req *req, const char *user, const char *pass);

/* Called once per finished request, for metrics. */
typedef void (*http_observe_fn)(
    void *app, const struct route *route, int status, int64_t duration_us);

struct http_config {
	const char *listen; /* ":8080", "127.0.0.1:0", "[::1]:8080" */
	int threads;
	size_t max_body;           /* default cap for routes with max_body 0 */
	size_t max_connections;    /* 0: sized from the descriptor limit */
	unsigned max_per_client;   /* per client address; 0: no limit */
	int64_t header_timeout_us; /* request headers must arrive within */
	uint64_t min_body_rate;    /* bytes/s a body keeps up; 0: no check */
	int slow_threads; /* run ROUTE_SLOW handlers; 0: on HTTP threads */
	const struct route_table *const *tables;
	size_t ntables;
	void *app;               /* handed to handlers via req_app() */
	http_auth_fn auth;       /* may be NULL if no route needs it */
	http_auth_fn admin_auth; /* ROUTE_ADMIN; NULL: those routes are open */
	http_observe_fn observe; /* may be NULL */
	bool access_log;         /* one info line per request */
};

/* Bind and start serving. *err_out gets one line on failure (new). */
FM_MUST_CHECK enum fm_err http_start(const struct http_config *cfg,
    struct http_server **srv_out, char **err_out);

/* The port actually bound (useful with port 0). */
int http_port(const struct http_server *srv);

/*
 * Stop accepting, let in-flight requests finish (up to a few seconds),
 * then stop. NULL-safe.
 */
void http_stop(struct http_server *srv);

/* --- request accessors (all results borrowed, valid for the request) */

void *req_app(struct req *req);
const char *req_method(struct req *req);
const char *req_path(struct req *req);
/* Path parameter by name ("job_id"), NUL-terminated; NULL if absent. */
const char *req_param(struct req *req, const char *name);
const char *req_query(struct req *req, const char *name);
const char *req_header(struct req *req, const char *name);
/* The parsed body of a ROUTE_JSON_BODY route; NULL when empty. */
json_t *req_json(struct req *req);
/* The raw body and its length; NULL when there was none. */
const char *req_body(struct req *req, size_t *len_out);
/*
 * The state a ROUTE_STREAM_BODY route's sink keeps for the request: set
 * by its open(), released by its close(). Borrowed.
 */
void req_set_sink_state(struct req *req, void *state);
void *req_sink_state(struct req *req);
/* Declared Content-Length, or -1 when the request had none. */
int64_t req_content_length(struct req *req);
/* The client's IP address as text. */
const char *req_client_ip(struct req *req);

/*
 * The identity the auth callback established: data is owned by the
 * request from then on and released with free_fn when it completes.
 */
void req_set_auth(struct req *req, void *data, void (*free_fn)(void *));
void *req_auth(struct req *req);

/* Add a header to the reply that will be sent (before replying). */
void req_add_header(struct req *req, const char *name, const char *value);

/*
 * --- replies: a handler makes exactly one of these calls. A handler of a
 * ROUTE_SLOW route runs on a slow-lane thread; it answers the same way.
 */

/* Steals body. */
enum fm_err http_reply_json(struct req *req, int status, json_t *body);
/* No body and no Content-Type (204, 202, 208 ...). */
enum fm_err http_reply_empty(struct req *req, int status);
/* {"code": status, "message": ...}. */
enum fm_err http_reply_error(struct req *req, int status, const char *fmt, ...)
    FM_PRINTF(3, 4);
/* Steals buf (malloc'ed). */
enum fm_err http_reply_buffer(struct req *req, int status,
    const char *content_type, char *buf, size_t len);
/* Static data that outlives the server. */
enum fm_err http_reply_static(struct req *req, int status,
    const char *content_type, const void *data, size_t len);
/* Sends size bytes of fd from offset 0 and closes fd. */
enum fm_err http_reply_fd(struct req *req, int status, const char *content_type,
    int fd, uint64_t size);

/*
 * A long-lived streamed reply (Server-Sent Events). The producer fills
 * buf with up to max bytes and returns how many, HTTP_STREAM_END to end
 * the reply, or 0 after calling http_stream_pause() when it has nothing
 * to send: the connection is then parked, costing no thread, until some
 * thread calls http_stream_resume(). A parked connection does not notice
 * that its client left, so producers resume now and then (a heartbeat).
 */
struct http_stream;
#define HTTP_STREAM_END ((long)-1)
typedef long (*http_stream_fn)(
    void *arg, struct http_stream *stream, char *buf, size_t max);

/* Reply with a stream; free_fn(arg) runs once the reply is over, or at
 * once when the reply cannot be made. A stream that cannot send for
 * idle_timeout_s (its client stopped reading) is closed. */
enum fm_err http_reply_stream(struct req *req, int status,
    const char *content_type, unsigned idle_timeout_s, http_stream_fn fn,
    void (*free_fn)(void *), void *arg);

/* Park the stream's connection: only from within its http_stream_fn,
 * which then returns 0. */
void http_stream_pause(struct http_stream *stream);

/* Unpark a stream parked with http_stream_pause(), from any thread; the
 * producer decides when a pause is due, so it pairs the two calls. */
void http_stream_resume(struct http_stream *stream);

#endif
