/*
 * libmicrohttpd glue. Per request: the first call finds the route and
 * checks Content-Length against the route's cap, middle calls collect the
 * body, the final call authenticates, parses JSON and runs the handler.
 * Requests that need no handler (404, 405, 413) still drain their body so
 * the connection stays usable.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
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

#include "log.h"
#include "timeutil.h"
#include "xmalloc.h"

#define MAX_EXTRA_HEADERS 4
#define DRAIN_SECONDS     10

struct http_server {
	struct MHD_Daemon *daemon;
	struct http_config cfg;
	int listen_fd;
	int port;
	atomic_int inflight;
};

struct req {
	struct http_server *srv;
	struct MHD_Connection *conn;
	struct route_match match;
	char *params[ROUTE_MAX_PARAMS]; /* NUL-terminated copies */
	const char *method;
	const char *path;
	char *body;
	size_t body_len, body_cap, max_body;
	bool too_large;
	json_t *json;
	int64_t start_us;
	int64_t content_length;
	int status; /* 0 until a reply is queued */
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
	ok = MHD_queue_response(req->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	req->status = status;
	return ok == MHD_YES ? FM_OK : FM_ERR_IO;
}

enum fm_err
http_reply_buffer(struct req *req, int status, const char *content_type,
    char *buf, size_t len)
{
	return queue(req, status,
	    MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE),
	    content_type);
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
	char message[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	return http_reply_json(req, status,
	    json_pack("{s:i, s:s}", "code", status, "message", message));
}

enum fm_err
http_reply_fd(struct req *req, int status, const char *content_type, int fd,
    uint64_t size)
{
	return queue(
	    req, status, MHD_create_response_from_fd64(size, fd), content_type);
}

/* --- the access-handler protocol ---------------------------------- */

static int
b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

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
		int v = b64_value((unsigned char)*s);

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

static enum fm_err
run_handler(struct req *req)
{
	const struct route *route = req->match.route;
	enum fm_err rc;

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
		json_error_t jerr;

		if (req->body_len == 0) {
			if (!(route->flags & ROUTE_OPTIONAL_BODY))
				return http_reply_error(req, 400,
				    "request body is empty; expected JSON");
		} else {
			req->json = json_loadb(req->body, req->body_len,
			    JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
			if (req->json == NULL)
				return http_reply_error(req, 400,
				    "invalid JSON in request body: %s "
				    "(line %d, column %d)",
				    jerr.text, jerr.line, jerr.column);
		}
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

static struct req *
req_new(struct http_server *srv, struct MHD_Connection *conn,
    const char *method, const char *url)
{
	struct req *req = xcalloc(1, sizeof(*req));
	const char *cl;

	req->srv = srv;
	req->conn = conn;
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
	json_decref(req->json);
	free(req->body);
	free(req);
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
		/* Refuse a declared oversized body before reading it. */
		if (req->content_length > 0 &&
		    (uint64_t)req->content_length > req->max_body) {
			req->too_large = true;
			dispatch(req);
		}
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		if (req->status == 0)
			body_append(req, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (req->status == 0)
		dispatch(req);
	return MHD_YES;
}

static void
request_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	struct req *req = *req_cls;
	int64_t us;

	(void)conn;
	(void)toe;
	if (req == NULL)
		return;
	us = time_mono_us() - req->start_us;
	if (srv->cfg.access_log && log_enabled(LOG_LEVEL_INFO))
		log_info("%s %s %d %" PRId64 "us", req->method, req->path,
		    req->status, us);
	if (srv->cfg.observe != NULL)
		srv->cfg.observe(
		    srv->cfg.app, req->match.route, req->status, us);
	req_free(req);
	*req_cls = NULL;
	atomic_fetch_sub(&srv->inflight, 1);
}

/* --- listening ---------------------------------------------------- */

static int
listen_socket(const char *listen_addr, char **err_out)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256] = "", port[16] = "";
	const char *colon;
	int fd = -1, err = 0, one = 1;

	colon = strrchr(listen_addr, ':');
	if (colon == NULL || colon[1] == '\0' ||
	    strlen(colon + 1) >= sizeof(port) ||
	    (size_t)(colon - listen_addr) >= sizeof(host)) {
		*err_out = xasprintf(
		    "listen %s: expected HOST:PORT or :PORT", listen_addr);
		return -1;
	}
	memcpy(host, listen_addr, (size_t)(colon - listen_addr));
	snprintf(port, sizeof(port), "%s", colon + 1);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	hints.ai_family = host[0] ? AF_UNSPEC : AF_INET6;
	err = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (err != 0 && host[0] == '\0') {
		hints.ai_family = AF_INET;
		err = getaddrinfo(NULL, port, &hints, &res);
	}
	if (err != 0) {
		*err_out =
		    xasprintf("listen %s: %s", listen_addr, gai_strerror(err));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		int zero = 0;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (ai->ai_family == AF_INET6 && host[0] == '\0')
			setsockopt(
			    fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 &&
		    listen(fd, 1024) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		*err_out = xasprintf(
		    "cannot listen on %s: %s", listen_addr, strerror(err));
	return fd;
}

static int
bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

enum fm_err
http_start(
    const struct http_config *cfg, struct http_server **srv_out, char **err_out)
{
	struct http_server *srv;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
	    MHD_USE_TURBO | MHD_USE_EPOLL;

	*srv_out = NULL;
	*err_out = NULL;
	srv = xcalloc(1, sizeof(*srv));
	srv->cfg = *cfg;
	srv->listen_fd = listen_socket(cfg->listen, err_out);
	if (srv->listen_fd < 0) {
		free(srv);
		return FM_ERR_IO;
	}
	srv->port = bound_port(srv->listen_fd);
	srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, access_handler,
	    srv, MHD_OPTION_LISTEN_SOCKET, srv->listen_fd,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cfg->threads,
	    MHD_OPTION_NOTIFY_COMPLETED, request_completed, srv,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_END);
	if (srv->daemon == NULL) {
		*err_out =
		    xasprintf("cannot start HTTP server on %s", cfg->listen);
		close(srv->listen_fd);
		free(srv);
		return FM_ERR_IO;
	}
	*srv_out = srv;
	return FM_OK;
}

int
http_port(const struct http_server *srv)
{
	return srv->port;
}

void
http_stop(struct http_server *srv)
{
	MHD_socket fd;

	if (srv == NULL)
		return;
	fd = MHD_quiesce_daemon(srv->daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	for (int i = 0; i < DRAIN_SECONDS * 100; i++) {
		if (atomic_load(&srv->inflight) == 0)
			break;
		usleep(10000);
	}
	MHD_stop_daemon(srv->daemon);
	free(srv);
}
