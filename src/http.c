/*
 * libmicrohttpd glue. Per request: the first call finds the route, refuses
 * a path or query that is not UTF-8 and a declared Content-Length above
 * the route's cap, middle calls collect the body, the final call
 * authenticates, parses JSON and runs the handler, either on the MHD
 * thread or, for ROUTE_SLOW routes, on a slow-lane thread while the
 * connection is suspended. Requests that need no handler (404, 405, 413)
 * still drain their body so the connection stays usable. What one client
 * may cost is bounded: connections in all and per address, the time to
 * send a request (http_guard.c), the body size, and the JSON values a
 * body may make.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "digits.h"
#include "http_guard.h"
#include "http_lane.h"
#include "http_listen.h"
#include "jsonscan.h"
#include "log.h"
#include "timeutil.h"
#include "utf8.h"
#include "xmalloc.h"

#define MAX_EXTRA_HEADERS 4
#define DRAIN_SECONDS     10
/* MHD's own idle timeout: a response nobody reads is dropped after it. */
#define IDLE_TIMEOUT_S 120
/* When http_config leaves it 0. */
#define DEFAULT_HEADER_TIMEOUT_US (10 * 1000000LL)

/*
 * A body parses into far more memory than its size: "{}," is 3 bytes of
 * text and a few hundred of jansson objects. Real clients send a few
 * hundred values (a job submission, a task update), so these limits are
 * never near them and cap what one body can cost at some tens of MB.
 */
#define JSON_MAX_VALUES 100000
#define JSON_MAX_DEPTH  64

/* After a request whose body was this big, free heap goes back to the OS. */
#define TRIM_BODY_BYTES (256 * 1024)

/* Requests waiting for a slow-lane thread; more are answered 503. */
#define LANE_MAX_QUEUED 1024

/* Bytes of a request's method and path shown in a log line. */
#define LOG_REQUEST_MAX 288

/* The reply of last resort, when even an error reply cannot be built. */
static const char fallback_body[] =
    "{\"code\":500,\"message\":\"internal error: the reply could not be "
    "built\"}";

/* Per connection (MHD's socket context), from accept to close. */
struct conn {
	struct http_guard_conn guard;
	bool url_nul; /* the request line decoded a %00 (unescape()) */
};

struct http_server {
	struct MHD_Daemon *daemon;
	struct http_config cfg;
	int listen_fd;
	int port;
	atomic_int inflight;
	atomic_bool stopping; /* http_stop() runs: new requests get 503 */
	struct http_guard *guard;
	struct http_lane *lane;        /* NULL: slow routes run inline */
	struct MHD_Response *fallback; /* fallback_body, queued as 500 */
	atomic_flag trimming;          /* a malloc_trim() is running */
};

struct req {
	struct http_server *srv;
	struct MHD_Connection *conn;
	struct conn *cs; /* the connection's state; NULL if unknown */
	struct route_match match;
	char *params[ROUTE_MAX_PARAMS]; /* NUL-terminated copies */
	const char *method;
	const char *path;
	char *body;
	size_t body_len, body_cap, max_body;
	bool too_large;
	void *sink_state; /* ROUTE_STREAM_BODY: the sink's own */
	bool sink_open;   /* open() ran: close() must run */
	bool sink_failed; /* write() failed: drop the rest of the body */
	json_t *json;
	int64_t start_us;
	int64_t content_length;
	int status;     /* 0 until a reply is queued (or stashed) */
	bool queued;    /* MHD has the reply */
	bool in_lane;   /* on a slow-lane thread: replies are stashed */
	bool hold;      /* a sink's early reply waits for the body: stashed */
	bool lane_done; /* a stash to queue (from the lane, or held) */
	struct MHD_Response *stash; /* the reply made in the lane */
	void *auth;
	void (*auth_free)(void *);
	char client_ip[INET6_ADDRSTRLEN];
	struct {
		char *name, *value;
	} headers[MAX_EXTRA_HEADERS];
	int nheaders;
	char allow[64];
};

/* --- accessors ---------------------------------------------------- */

void *
req_app(struct req *req)
{
	return req->srv->cfg.app;
}

const char *
req_method(struct req *req)
{
	return req->method;
}

const char *
req_path(struct req *req)
{
	return req->path;
}

const char *
req_param(struct req *req, const char *name)
{
	size_t len = strlen(name);

	for (size_t i = 0; i < req->match.nparams; i++)
		if (req->match.params[i].name_len == len &&
		    memcmp(req->match.params[i].name, name, len) == 0)
			return req->params[i];
	return NULL;
}

const char *
req_query(struct req *req, const char *name)
{
	return MHD_lookup_connection_value(
	    req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *
req_header(struct req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

json_t *
req_json(struct req *req)
{
	return req->json;
}

const char *
req_body(struct req *req, size_t *len_out)
{
	*len_out = req->body_len;
	return req->body;
}

void
req_set_sink_state(struct req *req, void *state)
{
	req->sink_state = state;
}

void *
req_sink_state(struct req *req)
{
	return req->sink_state;
}

int64_t
req_content_length(struct req *req)
{
	return req->content_length;
}

const char *
req_client_ip(struct req *req)
{
	const union MHD_ConnectionInfo *ci;

	if (req->client_ip[0] != '\0')
		return req->client_ip;
	ci = MHD_get_connection_info(
	    req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL && ci->client_addr != NULL) {
		const struct sockaddr *sa = ci->client_addr;
		socklen_t len = sa->sa_family == AF_INET6
		    ? sizeof(struct sockaddr_in6)
		    : sizeof(struct sockaddr_in);

		if (getnameinfo(sa, len, req->client_ip, sizeof(req->client_ip),
		        NULL, 0, NI_NUMERICHOST) != 0)
			req->client_ip[0] = '\0';
		/* Show IPv4-mapped addresses as plain IPv4. */
		if (strncmp(req->client_ip, "::ffff:", 7) == 0 &&
		    strchr(req->client_ip + 7, '.') != NULL)
			memmove(req->client_ip, req->client_ip + 7,
			    strlen(req->client_ip + 7) + 1);
	}
	return req->client_ip;
}

void
req_set_auth(struct req *req, void *data, void (*free_fn)(void *))
{
	FM_ASSERT(req->auth == NULL);
	req->auth = data;
	req->auth_free = free_fn;
}

void *
req_auth(struct req *req)
{
	return req->auth;
}

void
req_add_header(struct req *req, const char *name, const char *value)
{
	FM_ASSERT(req->nheaders < MAX_EXTRA_HEADERS);
	req->headers[req->nheaders].name = xstrdup(name);
	req->headers[req->nheaders].value = xstrdup(value);
	req->nheaders++;
}

/* --- replies ------------------------------------------------------ */

static enum fm_err
queue(struct req *req, int status, struct MHD_Response *resp,
    const char *content_type)
{
	enum MHD_Result ok;

	FM_ASSERT(req->status == 0); /* exactly one reply per request */
	if (resp == NULL)
		return FM_ERR_NOMEM;
	if (content_type != NULL)
		MHD_add_response_header(
		    resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	for (int i = 0; i < req->nheaders; i++)
		MHD_add_response_header(
		    resp, req->headers[i].name, req->headers[i].value);
	if (req->in_lane || req->hold) {
		/*
		 * Not the connection's thread: the access handler queues it
		 * when MHD resumes the connection (lane_finish()).
		 */
		req->stash = resp;
		req->status = status;
		return FM_OK;
	}
	ok = MHD_queue_response(req->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	if (ok != MHD_YES)
		return FM_ERR_IO;
	req->status = status;
	req->queued = true;
	return FM_OK;
}

enum fm_err
http_reply_buffer(struct req *req, int status, const char *content_type,
    char *buf, size_t len)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);

	if (resp == NULL)
		free(buf); /* stolen either way */
	return queue(req, status, resp, content_type);
}

enum fm_err
http_reply_static(struct req *req, int status, const char *content_type,
    const void *data, size_t len)
{
	return queue(req, status,
	    MHD_create_response_from_buffer(
	        len, (void *)(uintptr_t)data, MHD_RESPMEM_PERSISTENT),
	    content_type);
}

enum fm_err
http_reply_json(struct req *req, int status, json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT);

	json_decref(body);
	if (text == NULL)
		return FM_ERR_NOMEM;
	return http_reply_buffer(
	    req, status, "application/json", text, strlen(text));
}

enum fm_err
http_reply_empty(struct req *req, int status)
{
	return queue(req, status,
	    MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT),
	    NULL);
}

enum fm_err
http_reply_error(struct req *req, int status, const char *fmt, ...)
{
	char raw[1024], message[3 * sizeof(raw)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	/*
	 * Messages quote paths, query values and parser errors, any of
	 * which may hold bytes that are not UTF-8 (or a character the
	 * 1024-byte cut split): jansson refuses such a string, and no
	 * reply at all would be sent.
	 */
	utf8_scrub(raw, strlen(raw), message, sizeof(message));
	return http_reply_json(req, status,
	    json_pack("{s:i, s:s}", "code", status, "message", message));
}

enum fm_err
http_reply_fd(struct req *req, int status, const char *content_type, int fd,
    uint64_t size)
{
	struct MHD_Response *resp = MHD_create_response_from_fd64(size, fd);

	if (resp == NULL)
		close(fd); /* it was ours to close either way */
	return queue(req, status, resp, content_type);
}

/* --- streamed replies --------------------------------------------- */

struct http_stream {
	struct MHD_Connection *conn;
	http_stream_fn fn;
	void (*free_fn)(void *);
	void *arg;
};

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct http_stream *s = cls;
	long n;

	(void)pos;
	n = s->fn(s->arg, s, buf, max);
	return n == HTTP_STREAM_END ? MHD_CONTENT_READER_END_OF_STREAM
	                            : (ssize_t)n;
}

static void
stream_free(void *cls)
{
	struct http_stream *s = cls;

	if (s->free_fn != NULL)
		s->free_fn(s->arg);
	free(s);
}

enum fm_err
http_reply_stream(struct req *req, int status, const char *content_type,
    unsigned idle_timeout_s, http_stream_fn fn, void (*free_fn)(void *),
    void *arg)
{
	struct http_stream *s = xcalloc(1, sizeof(*s));
	struct MHD_Response *resp;

	s->conn = req->conn;
	s->fn = fn;
	s->free_fn = free_fn;
	s->arg = arg;
	/* Small blocks: an event is a few hundred bytes and should leave
	 * at once rather than wait for a large buffer to fill. */
	resp = MHD_create_response_from_callback(
	    MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, s, stream_free);
	if (resp == NULL) {
		stream_free(s);
		return FM_ERR_NOMEM;
	}
	/* Quiet between events, so no short idle timeout; but a client
	 * that stops reading blocks every write, and only this ends it.
	 * (A parked connection does not time out.) */
	MHD_set_connection_option(
	    req->conn, MHD_CONNECTION_OPTION_TIMEOUT, idle_timeout_s);
	MHD_add_response_header(
	    resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	/* Proxies such as nginx must pass events on as they come. */
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	return queue(req, status, resp, content_type);
}

void
http_stream_pause(struct http_stream *stream)
{
	MHD_suspend_connection(stream->conn);
}

void
http_stream_resume(struct http_stream *stream)
{
	MHD_resume_connection(stream->conn);
}

/* --- authentication and body parsing ----------------------------- */

/* Decode "Basic base64(user:pass)"; returns a new "user\0pass" buffer. */
static char *
basic_auth_decode(const char *header, const char **pass_out)
{
	const char *s;
	size_t len, n = 0;
	unsigned acc = 0;
	int bits = 0;
	char *out, *colon;

	*pass_out = NULL;
	if (header == NULL || strncasecmp(header, "Basic ", 6) != 0)
		return NULL;
	s = header + 6;
	while (*s == ' ')
		s++;
	len = strlen(s);
	if (len > 1024)
		return NULL;
	out = xmalloc(len + 1);
	for (; *s != '\0' && *s != '='; s++) {
		int v = digit_base64_value((unsigned char)*s);

		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[n] = '\0';
	colon = memchr(out, ':', n);
	if (colon == NULL || strlen(out) != n) {
		free(out);
		return NULL;
	}
	*colon = '\0';
	*pass_out = colon + 1;
	return out;
}

/*
 * Parse the body of a ROUTE_JSON_BODY route into req->json. A body that
 * would cost too much memory to parse is refused before parsing. Bad
 * bodies are answered here (400, 413); a code comes back only for a
 * failure left unanswered.
 */
static enum fm_err
parse_json_body(struct req *req)
{
	size_t max_values = req->match.route->max_json_values != 0
	    ? req->match.route->max_json_values
	    : JSON_MAX_VALUES;
	struct jsonscan scan;
	json_error_t jerr;

	if (req->body_len == 0) {
		if (req->match.route->flags & ROUTE_OPTIONAL_BODY)
			return FM_OK;
		return http_reply_error(
		    req, 400, "request body is empty; expected JSON");
	}
	if (!jsonscan_measure(
	        req->body, req->body_len, max_values, JSON_MAX_DEPTH, &scan)) {
		if (scan.depth > JSON_MAX_DEPTH)
			return http_reply_error(req, 400,
			    "JSON in request body is nested deeper than %d "
			    "levels",
			    JSON_MAX_DEPTH);
		return http_reply_error(req, 413,
		    "JSON in request body has more than %zu values",
		    max_values);
	}
	/* "\u0000" is fine: Flamenco takes it in a worker's log text. */
	req->json = json_loadb(req->body, req->body_len,
	    JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (req->json == NULL)
		return http_reply_error(req, 400,
		    "invalid JSON in request body: %s (line %d, column %d)",
		    jerr.text, jerr.line, jerr.column);
	return FM_OK;
}

static enum fm_err
run_handler(struct req *req)
{
	const struct route *route = req->match.route;
	enum fm_err rc;

	if ((route->flags & ROUTE_ADMIN) && req->srv->cfg.admin_auth != NULL) {
		const char *pass = NULL;
		char *user = basic_auth_decode(
		    req_header(req, MHD_HTTP_HEADER_AUTHORIZATION), &pass);
		bool given = user != NULL;

		rc = req->srv->cfg.admin_auth(req, user, pass);
		free(user);
		if (rc != FM_OK) {
			if (req->status != 0)
				return FM_OK;
			req_add_header(req, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
			    "Basic realm=\"Flamenco Manager\"");
			return http_reply_error(req, 401,
			    "%s: this operation needs the Manager's admin "
			    "password (HTTP Basic, e.g. curl -u admin:PASSWORD)",
			    given ? "wrong admin password"
			          : "no admin credentials");
		}
	}
	if (route->flags & ROUTE_WORKER_AUTH) {
		const char *pass = NULL;
		char *user = basic_auth_decode(
		    req_header(req, MHD_HTTP_HEADER_AUTHORIZATION), &pass);

		rc = req->srv->cfg.auth != NULL
		    ? req->srv->cfg.auth(req, user, pass)
		    : FM_ERR_INTERNAL;
		free(user);
		if (rc != FM_OK) {
			if (req->status != 0)
				return FM_OK;
			if (rc == FM_ERR_BUSY || rc == FM_ERR_DB)
				return rc;
			return http_reply_json(req, 403,
			    json_pack("{s:i, s:s}", "code", 403, "message",
			        "security requirements failed: invalid "
			        "worker credentials"));
		}
	}
	if (route->flags & ROUTE_JSON_BODY) {
		if ((rc = parse_json_body(req)) != FM_OK || req->status != 0)
			return rc;
	}
	return route->fn(req);
}

static void
dispatch(struct req *req)
{
	enum fm_err rc;

	if (req->too_large) {
		http_reply_error(req, 413,
		    "request body too large (limit %zu bytes)", req->max_body);
		return;
	}
	if (req->match.route == NULL) {
		if (req->match.path_matched) {
			req_add_header(req, "Allow", req->allow);
			http_reply_error(req, 405,
			    "method %s not allowed here; allowed: %s",
			    req->method, req->allow);
		} else {
			http_reply_error(req, 404, "Not Found: %s", req->path);
		}
		return;
	}
	rc = run_handler(req);
	if (req->status != 0)
		return;
	/* The handler failed without answering: answer for it. */
	if (rc == FM_OK)
		rc = FM_ERR_INTERNAL;
	if (rc == FM_ERR_BUSY)
		req_add_header(req, "Retry-After", "1");
	http_reply_error(req, fm_err_http_status(rc), "%s", fm_strerror(rc));
}

/* This connection's struct conn, or NULL. */
static struct conn *
conn_state(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

/* The matched route takes its body as a stream. */
static bool
req_streams(const struct req *req)
{
	return req->match.route != NULL &&
	    (req->match.route->flags & ROUTE_STREAM_BODY);
}

static struct req *
req_new(struct http_server *srv, struct MHD_Connection *conn,
    const char *method, const char *url)
{
	struct req *req = xcalloc(1, sizeof(*req));
	const char *cl;

	req->srv = srv;
	req->conn = conn;
	req->cs = conn_state(conn);
	req->method = method;
	req->path = url;
	req->start_us = time_mono_us();
	req->content_length = -1;
	router_match(srv->cfg.tables, srv->cfg.ntables, method, url,
	    &req->match, req->allow, sizeof(req->allow));
	for (size_t i = 0; i < req->match.nparams; i++)
		req->params[i] = xstrndup(
		    req->match.params[i].value, req->match.params[i].value_len);
	req->max_body = srv->cfg.max_body;
	if (req_streams(req))
		req->max_body = SIZE_MAX; /* the sink judges the size */
	if (req->match.route != NULL && req->match.route->max_body != 0)
		req->max_body = req->match.route->max_body;
	cl = MHD_lookup_connection_value(
	    conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (cl != NULL) {
		char *end;
		unsigned long long v = strtoull(cl, &end, 10);

		if (end != cl && *end == '\0')
			req->content_length = (int64_t)v;
	}
	return req;
}

/* The body and its parse, once the handler no longer needs them. */
static void
req_release_body(struct req *req)
{
	json_decref(req->json);
	req->json = NULL;
	free(req->body);
	req->body = NULL;
	req->body_len = 0;
}

static void
req_free(struct req *req)
{
	for (size_t i = 0; i < req->match.nparams; i++)
		free(req->params[i]);
	for (int i = 0; i < req->nheaders; i++) {
		free(req->headers[i].name);
		free(req->headers[i].value);
	}
	if (req->auth_free != NULL)
		req->auth_free(req->auth);
	if (req->stash != NULL)
		MHD_destroy_response(req->stash);
	req_release_body(req);
	free(req);
}

/*
 * Give the heap back to the system after a big request: its body and
 * the values parsed from it are freed, but glibc keeps the pages of the
 * thread's arena. One trim at a time; others skip (the running one
 * covers every arena).
 */
static void
trim_memory(struct http_server *srv)
{
	if (atomic_flag_test_and_set(&srv->trimming))
		return;
	malloc_trim(0);
	atomic_flag_clear(&srv->trimming);
}

static void
body_append(struct req *req, const char *data, size_t len)
{
	if (req->too_large || req->body_len + len > req->max_body) {
		req->too_large = true;
		return;
	}
	if (req->body_len + len + 1 > req->body_cap) {
		size_t cap = req->body_cap ? req->body_cap : 4096;

		while (cap < req->body_len + len + 1)
			cap *= 2;
		if (cap > req->max_body + 1)
			cap = req->max_body + 1;
		req->body = xrealloc(req->body, cap);
		req->body_cap = cap;
	}
	memcpy(req->body + req->body_len, data, len);
	req->body_len += len;
	req->body[req->body_len] = '\0';
}

/*
 * "METHOD PATH" for a log line: escaped, since both are the client's
 * text (a %0a in the path would start a forged line), and cut short.
 */
static void
log_request(const struct req *req, char *out, size_t cap)
{
	char method[32];
	size_t n;

	utf8_escape_log(req->method, method, sizeof(method));
	n = (size_t)snprintf(out, cap, "%s ", method);
	if (n < cap)
		utf8_escape_log(req->path, out + n, cap - n);
}

/* --- request line checks ------------------------------------------ */

/*
 * MHD's percent-decoding, noting a decoded NUL: the path reaches us as a
 * C string, where a NUL would silently cut it short.
 */
static size_t
unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	size_t len = MHD_http_unescape(s);
	struct conn *cs;

	(void)cls;
	if (memchr(s, '\0', len) != NULL && (cs = conn_state(conn)) != NULL)
		cs->url_nul = true;
	return len;
}

static enum MHD_Result
query_arg_valid(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	bool *ok = cls;

	(void)kind;
	if (!utf8_valid(key, key_size) || strlen(key) != key_size ||
	    (value != NULL &&
	        (!utf8_valid(value, value_size) ||
	            strlen(value) != value_size))) {
		*ok = false;
		return MHD_NO;
	}
	return MHD_YES;
}

/*
 * Refuse a request whose path or query is not UTF-8 text: handlers echo
 * them into JSON, which cannot carry such bytes. Returns the reason, or
 * NULL when the request line is fine.
 */
static const char *
request_line_problem(struct req *req)
{
	bool query_ok = true;
	bool nul = req->cs != NULL && req->cs->url_nul;

	if (req->cs != NULL)
		req->cs->url_nul = false; /* the next request starts afresh */
	if (nul)
		return "request URL contains an encoded NUL byte (%00); "
		       "paths and query values must be UTF-8 text";
	if (!utf8_valid(req->path, strlen(req->path)))
		return "request path is not valid UTF-8 (after "
		       "percent-decoding)";
	MHD_get_connection_values_n(
	    req->conn, MHD_GET_ARGUMENT_KIND, query_arg_valid, &query_ok);
	if (!query_ok)
		return "a query parameter is not valid UTF-8 (after "
		       "percent-decoding)";
	return NULL;
}

/* --- the slow lane ------------------------------------------------ */

/*
 * Hand the request back to MHD. From MHD_resume_connection() on the
 * request belongs to the connection's thread again, which may complete
 * and free it at once: nothing here touches it after that call.
 */
static void
lane_finish(struct req *req)
{
	struct MHD_Connection *conn = req->conn;

	req->in_lane = false;
	req->lane_done = true;
	MHD_resume_connection(conn);
}

static void
lane_run(void *arg)
{
	struct req *req = arg;
	bool big = req->body_cap >= TRIM_BODY_BYTES;

	dispatch(req);
	/* Here, not on the MHD thread: freeing a big parse takes time. */
	req_release_body(req);
	if (big)
		trim_memory(req->srv);
	lane_finish(req);
}

/* The lane is full or stopping: answer 503 without running the handler. */
static void
lane_refuse(void *arg)
{
	struct req *req = arg;

	req_add_header(req, "Retry-After", "1");
	http_reply_error(
	    req, 503, "the server is busy or shutting down; try again later");
	lane_finish(req);
}

/*
 * Run the handler on a slow-lane thread. The connection is suspended
 * first, so the lane's resume can never come before the suspend.
 */
static void
lane_dispatch(struct req *req)
{
	req->in_lane = true;
	MHD_suspend_connection(req->conn);
	if (http_lane_submit(req->srv->lane, lane_run, lane_refuse, req) ==
	    FM_OK)
		return;
	lane_refuse(req);
}

/* --- streamed bodies --------------------------------------------- */

/*
 * A sink may answer before the body is read (208 stored already, 425,
 * 417, 503). Queued at once, MHD sends it and closes the connection
 * while the client is still sending, and a client that sends the whole
 * body before reading (as the Blender add-on does) sees a reset instead
 * of the answer. So with a declared body of at most this size the answer
 * is held while the body is read and dropped; a bigger or chunked body
 * gets it at once (and a closed connection).
 */
#define HTTP_DRAIN_MAX (64LL * 1024 * 1024)

static void
sink_open(struct req *req)
{
	const struct route_sink *sink = req->match.route->sink;
	enum fm_err rc;

	FM_ASSERT(sink != NULL);
	req->sink_open = true;
	req->hold =
	    req->content_length > 0 && req->content_length <= HTTP_DRAIN_MAX;
	if (req->cs != NULL)
		http_guard_server_busy(&req->cs->guard);
	rc = sink->open(req);
	if (req->cs != NULL)
		http_guard_server_done(req->srv->guard, &req->cs->guard);
	if (rc != FM_OK && req->status == 0)
		http_reply_error(
		    req, fm_err_http_status(rc), "%s", fm_strerror(rc));
	req->hold = false;
	if (req->stash != NULL)
		req->lane_done = true; /* final_call() queues it */
}

/* One chunk for the sink; dropped once a reply or a failure is in. */
static void
sink_write(struct req *req, const char *data, size_t len)
{
	bool ok;

	if (req->status != 0 || req->sink_failed || !req->sink_open)
		return;
	/* A disk slower than the guard's timeout is not the client's
	 * stall (http_guard.h). */
	if (req->cs != NULL)
		http_guard_server_busy(&req->cs->guard);
	ok = req->match.route->sink->write(req, data, len) == FM_OK;
	if (req->cs != NULL)
		http_guard_server_done(req->srv->guard, &req->cs->guard);
	if (!ok)
		req->sink_failed = true;
}

/* --- the access-handler protocol ---------------------------------- */

/* The first call: headers are in. Answers at once when it can. */
static void
first_call(struct req *req)
{
	const char *problem = request_line_problem(req);

	if (req->cs != NULL)
		http_guard_headers_done(
		    req->srv->guard, &req->cs->guard, req_streams(req));
	if (atomic_load(&req->srv->stopping)) {
		req_add_header(req, "Retry-After", "5");
		req_add_header(req, MHD_HTTP_HEADER_CONNECTION, "close");
		http_reply_error(req, 503, "the Manager is shutting down");
	} else if (problem != NULL) {
		http_reply_error(req, 400, "%s", problem);
	} else if (req->content_length > 0 &&
	    (uint64_t)req->content_length > req->max_body) {
		/* Refuse a declared oversized body before reading it. */
		req->too_large = true;
		dispatch(req);
	} else if (req_streams(req)) {
		sink_open(req);
	}
	/* A held answer still waits for the body, under its deadline. */
	if (req->status != 0 && !req->lane_done && req->cs != NULL)
		http_guard_busy(&req->cs->guard);
}

/*
 * The final call: the whole request is in. Whatever happens, MHD gets a
 * reply before this returns MHD_YES: without one it calls again at once,
 * for ever, spinning the thread.
 */
static enum MHD_Result
final_call(struct req *req)
{
	struct http_server *srv = req->srv;
	char line[LOG_REQUEST_MAX];

	if (req->cs != NULL)
		http_guard_busy(&req->cs->guard);
	if (req->queued)
		return MHD_YES;
	if (req->lane_done) {
		struct MHD_Response *resp = req->stash;

		req->lane_done = false;
		req->stash = NULL;
		if (resp != NULL) {
			if (MHD_queue_response(req->conn, (unsigned)req->status,
			        resp) == MHD_YES)
				req->queued = true;
			MHD_destroy_response(resp);
		}
	} else if (req->status == 0 && req->match.route != NULL &&
	    (req->match.route->flags & ROUTE_SLOW) && !req->too_large &&
	    srv->lane != NULL) {
		lane_dispatch(req);
		return MHD_YES; /* suspended: called again when resumed */
	} else if (req->status == 0) {
		dispatch(req);
	}
	if (req->queued)
		return MHD_YES;
	log_request(req, line, sizeof(line));
	log_error("%s: no reply could be queued; answering 500", line);
	if (MHD_queue_response(req->conn, 500, srv->fallback) != MHD_YES)
		return MHD_NO; /* MHD closes the connection */
	req->status = 500;
	req->queued = true;
	return MHD_YES;
}

static enum MHD_Result
access_handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	struct http_server *srv = cls;
	struct req *req = *req_cls;

	(void)version;
	if (req == NULL) {
		req = req_new(srv, conn, method, url);
		*req_cls = req;
		atomic_fetch_add(&srv->inflight, 1);
		first_call(req);
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (req->cs != NULL &&
		    !http_guard_body(srv->guard, &req->cs->guard, n)) {
			char line[LOG_REQUEST_MAX];

			log_request(req, line, sizeof(line));
			log_info("%s: request body arrives too slowly; closing "
			         "the connection",
			    line);
			return MHD_NO;
		}
		if (req_streams(req))
			sink_write(req, upload_data, n);
		else if (req->status == 0)
			body_append(req, upload_data, n);
		return MHD_YES;
	}
	return final_call(req);
}

static void
request_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	struct req *req = *req_cls;
	int64_t us;
	bool big;

	(void)conn;
	if (req == NULL)
		return;
	if (req->sink_open)
		req->match.route->sink->close(
		    req, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
	us = time_mono_us() - req->start_us;
	if (srv->cfg.access_log && log_enabled(LOG_LEVEL_INFO)) {
		char line[LOG_REQUEST_MAX];

		log_request(req, line, sizeof(line));
		log_info("%s %d %" PRId64 "us", line, req->status, us);
	}
	if (srv->cfg.observe != NULL)
		srv->cfg.observe(
		    srv->cfg.app, req->match.route, req->status, us);
	if (req->cs != NULL)
		http_guard_idle(srv->guard, &req->cs->guard);
	big = req->body_cap >= TRIM_BODY_BYTES;
	req_free(req);
	*req_cls = NULL;
	if (big)
		trim_memory(srv);
	atomic_fetch_sub(&srv->inflight, 1);
}

/* Connections come and go: track them for the receive deadlines. */
static void
connection_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct http_server *srv = cls;
	struct conn *cs = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		    conn, MHD_CONNECTION_INFO_CONNECTION_FD);

		if (ci == NULL)
			return;
		cs = xcalloc(1, sizeof(*cs));
		http_guard_add(srv->guard, &cs->guard, ci->connect_fd);
		*socket_context = cs;
		return;
	}
	/* MHD_CONNECTION_NOTIFY_CLOSED, before the socket is closed. */
	if (cs == NULL)
		return;
	http_guard_remove(srv->guard, &cs->guard);
	free(cs);
	*socket_context = NULL;
}

static void
server_free(struct http_server *srv)
{
	http_lane_free(srv->lane);
	http_guard_stop(srv->guard);
	if (srv->fallback != NULL)
		MHD_destroy_response(srv->fallback);
	free(srv);
}

enum fm_err
http_start(
    const struct http_config *cfg, struct http_server **srv_out, char **err_out)
{
	struct http_server *srv;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
	    MHD_USE_TURBO | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
	unsigned limit;

	*srv_out = NULL;
	*err_out = NULL;
	srv = xcalloc(1, sizeof(*srv));
	srv->cfg = *cfg;
	atomic_flag_clear(&srv->trimming);
	srv->listen_fd = http_listen_socket(cfg->listen, err_out);
	if (srv->listen_fd < 0) {
		free(srv);
		return FM_ERR_IO;
	}
	srv->port = http_listen_port(srv->listen_fd);
	limit =
	    http_listen_connection_limit(cfg->max_connections, cfg->threads);
	srv->guard = http_guard_start(cfg->header_timeout_us > 0
	        ? cfg->header_timeout_us
	        : DEFAULT_HEADER_TIMEOUT_US,
	    cfg->min_body_rate);
	if (cfg->slow_threads > 0)
		srv->lane = http_lane_start(cfg->slow_threads, LANE_MAX_QUEUED);
	srv->fallback =
	    MHD_create_response_from_buffer(sizeof(fallback_body) - 1,
	        (void *)(uintptr_t)fallback_body, MHD_RESPMEM_PERSISTENT);
	if (srv->fallback == NULL ||
	    MHD_add_response_header(srv->fallback, MHD_HTTP_HEADER_CONTENT_TYPE,
	        "application/json") != MHD_YES)
		goto fail;
	srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, access_handler,
	    srv, MHD_OPTION_LISTEN_SOCKET, srv->listen_fd,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
	    MHD_OPTION_NOTIFY_COMPLETED, request_completed, srv,
	    MHD_OPTION_NOTIFY_CONNECTION, connection_notify, srv,
	    MHD_OPTION_UNESCAPE_CALLBACK, unescape, srv,
	    MHD_OPTION_CONNECTION_LIMIT, limit,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_per_client,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
	    MHD_OPTION_END);
	if (srv->daemon == NULL)
		goto fail;
	log_info("HTTP on %s: up to %u connections, %u per client address",
	    cfg->listen, limit, cfg->max_per_client);
	*srv_out = srv;
	return FM_OK;
fail:
	*err_out = xasprintf("cannot start HTTP server on %s", cfg->listen);
	close(srv->listen_fd);
	server_free(srv);
	return FM_ERR_IO;
}

int
http_port(const struct http_server *srv)
{
	return srv->port;
}

void
http_stop(struct http_server *srv)
{
	if (srv == NULL)
		return;
	/*
	 * New requests are answered 503 while those in flight finish. Not
	 * MHD_quiesce_daemon(): with a thread pool on epoll, its removal of
	 * the listening socket races the worker threads' own, and MHD
	 * aborts the process when the second one fails.
	 */
	atomic_store(&srv->stopping, true);
	for (int i = 0; i < DRAIN_SECONDS * 100; i++) {
		if (atomic_load(&srv->inflight) == 0)
			break;
		usleep(10000);
	}
	/*
	 * Slow-lane requests still queued are answered 503 and running ones
	 * finish, so every suspended connection is resumed before MHD stops
	 * (MHD must not stop with one suspended).
	 */
	http_lane_stop(srv->lane); /* later submits get 503; freed below */
	MHD_stop_daemon(srv->daemon);
	/* Every connection is closed now, so the guard's list is empty. */
	server_free(srv);
}
