/*
 * GET /api/v3/events against a real Manager over raw sockets: events in
 * Server-Sent Events framing, per-job and per-task filters, resuming with
 * Last-Event-ID, heartbeats, clients that leave mid-stream, a client too
 * slow to keep up, bad filters, and shutting down with streams open.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app.h"
#include "eventbus.h"
#include "sse.h"
#include "testutil.h"
#include "timeutil.h"
#include "xmalloc.h"

static struct test_server ts;

static void
setup(void)
{
	/* Many streams from one address here: no per-client cap. */
	test_server_start(&ts,
	    "event_stream_heartbeat = 300ms\n"
	    "http_max_connections_per_client = 0\n");
}

static void
teardown(void)
{
	test_server_stop(&ts);
}

/* A raw client: what it read so far, NUL-terminated. */
struct stream {
	int fd;
	char *buf;
	size_t len, cap;
	bool closed;
};

static void
stream_open(struct stream *s, const char *path_query, const char *headers)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	char *req;

	memset(s, 0, sizeof(*s));
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	sa.sin_port = htons((uint16_t)ts.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	/* HTTP/1.0: no chunked framing to undo, the stream ends at close. */
	req = xasprintf("GET %s HTTP/1.0\r\nHost: test\r\n%s\r\n", path_query,
	    headers ? headers : "");
	ck_assert_int_eq(write(s->fd, req, strlen(req)), (ssize_t)strlen(req));
	free(req);
	s->cap = 4096;
	s->buf = xcalloc(1, s->cap);
}

/* Read what is there within ms milliseconds. */
static void
stream_pump(struct stream *s, int ms)
{
	struct pollfd p = { .fd = s->fd, .events = POLLIN };

	while (!s->closed && poll(&p, 1, ms) > 0) {
		ssize_t n;

		if (s->len + 4096 + 1 > s->cap) {
			s->cap *= 2;
			s->buf = xrealloc(s->buf, s->cap);
		}
		n = read(s->fd, s->buf + s->len, 4096);
		if (n <= 0) {
			s->closed = true;
			break;
		}
		s->len += (size_t)n;
		s->buf[s->len] = '\0';
		ms = 0;
	}
}

/* Wait until the stream holds text (after offset from); fail after 5 s.
 * Returns the offset just after it. */
static size_t
stream_wait(struct stream *s, size_t from, const char *text)
{
	int64_t t0 = time_mono_us();
	char *at;

	for (;;) {
		if (s->len > from && (at = strstr(s->buf + from, text)) != NULL)
			return (size_t)(at - s->buf) + strlen(text);
		ck_assert_msg(!s->closed, "stream closed before \"%s\": %s",
		    text, s->buf);
		ck_assert_msg(time_mono_us() - t0 < 5000000, "no \"%s\" in %s",
		    text, s->buf);
		stream_pump(s, 50);
	}
}

static void
stream_close(struct stream *s)
{
	close(s->fd);
	free(s->buf);
}

static long
call(const char *method, const char *path, const char *body, json_t **out)
{
	struct test_response r;
	long status;

	test_http(&ts, method, path, body, -1, NULL, &r);
	status = r.status;
	if (out != NULL)
		*out = r.body_len ? test_json(&r) : NULL;
	test_response_free(&r);
	return status;
}

static char *
make_tag(const char *name)
{
	char *body = xasprintf("{\"name\": \"%s\"}", name), *id;
	json_t *j;

	ck_assert_int_eq(
	    call("POST", "/api/v3/worker-mgt/tags", body, &j), 200);
	id = xstrdup(json_string_value(json_object_get(j, "id")));
	json_decref(j);
	free(body);
	return id;
}

START_TEST(test_stream_basics)
{
	struct stream s;
	size_t at;
	char *id;

	stream_open(&s, "/api/v3/events", NULL);
	at = stream_wait(&s, 0, "HTTP/1.");
	ck_assert_ptr_nonnull(strstr(s.buf, " 200 "));
	at = stream_wait(&s, 0, "\r\n\r\n");
	ck_assert_ptr_nonnull(
	    strcasestr(s.buf, "Content-Type: text/event-stream"));
	at = stream_wait(&s, at, "retry: 2000\n\n");
	id = make_tag("render");
	at = stream_wait(&s, at, "event: /workertags\ndata: {\"tag\":");
	stream_wait(&s, at, id);
	/* Every event carries an id line right before it. */
	ck_assert_ptr_nonnull(strstr(s.buf, "\nid: "));
	/* Idle: a heartbeat comment. */
	at = stream_wait(&s, at, "\n\n: keep-alive\n\n");
	free(id);
	stream_close(&s);
}
END_TEST

START_TEST(test_filters)
{
	struct stream mine, other;
	struct test_worker w;
	char *query, *topic, *tag;
	size_t at;
	json_t *job, *task;

	ck_assert_int_eq(call("POST", "/api/v3/jobs",
	                     "{\"name\": \"f\", \"type\": \"echo-sleep-test\", "
	                     "\"priority\": 50, \"submitter_platform\": "
	                     "\"linux\", \"settings\": {\"message\": \"m\", "
	                     "\"sleep_duration_seconds\": 1, "
	                     "\"sleep_repeats\": 1}}",
	                     &job),
	    200);
	query = xasprintf("/api/v3/events?jobs=%s",
	    json_string_value(json_object_get(job, "id")));
	stream_open(&mine, query, NULL);
	stream_open(&other, "/api/v3/events", NULL);
	stream_wait(&mine, 0, "retry:");
	stream_wait(&other, 0, "retry:");

	test_worker_register(&ts, &w, "w", "linux", "\"misc\"");
	ck_assert_int_eq(call("POST", "/api/v3/worker/sign-on",
	                     "{\"name\": \"w\", \"supported_task_types\": "
	                     "[\"misc\"], \"software_version\": \"3.9\"}",
	                     NULL),
	    403); /* needs the worker's credentials: */
	{
		struct test_response r;

		test_http(&ts, "POST", "/api/v3/worker/sign-on",
		    "{\"name\": \"w\", \"supported_task_types\": [\"misc\"], "
		    "\"software_version\": \"3.9\"}",
		    -1, w.auth, &r);
		ck_assert_int_eq(r.status, 200);
		test_response_free(&r);
		test_http(&ts, "POST", "/api/v3/worker/state-changed",
		    "{\"status\": \"awake\"}", -1, w.auth, &r);
		ck_assert_int_eq(r.status, 204);
		test_response_free(&r);
		test_http(
		    &ts, "POST", "/api/v3/worker/task", NULL, -1, w.auth, &r);
		ck_assert_int_eq(r.status, 200);
		task = test_json(&r);
		test_response_free(&r);
	}
	topic = xasprintf(
	    "event: /jobs/%s\n", json_string_value(json_object_get(job, "id")));
	at = stream_wait(&mine, 0, topic);
	stream_wait(
	    &mine, at, json_string_value(json_object_get(task, "uuid")));
	/* The other stream gets the job's event but not its tasks': a tag
	 * event after the task event proves it had its chance. */
	tag = make_tag("marker");
	at = stream_wait(&other, 0, "event: /jobs\n");
	at = stream_wait(&other, at, tag);
	ck_assert_ptr_null(strstr(other.buf, topic));

	free(tag);
	free(topic);
	free(query);
	json_decref(task);
	json_decref(job);
	stream_close(&mine);
	stream_close(&other);
}
END_TEST

START_TEST(test_resume)
{
	struct stream s;
	char *a, *b, *c, *hdr;
	unsigned long long last;
	const char *idline;
	size_t at;

	stream_open(&s, "/api/v3/events", NULL);
	stream_wait(&s, 0, "retry:");
	a = make_tag("a");
	at = stream_wait(&s, 0, a);
	/* The id of the event that carried a. */
	idline = s.buf + at;
	while (idline > s.buf && strncmp(idline, "id: ", 4) != 0)
		idline--;
	ck_assert_int_eq(sscanf(idline, "id: %llu", &last), 1);
	stream_close(&s);

	/* Missed while away, then replayed in order on resume. */
	b = make_tag("b");
	c = make_tag("c");
	hdr = xasprintf("Last-Event-ID: %llu\r\n", last);
	stream_open(&s, "/api/v3/events", hdr);
	at = stream_wait(&s, 0, b);
	stream_wait(&s, at, c);
	ck_assert_ptr_null(strstr(s.buf, a));
	ck_assert_ptr_null(strstr(s.buf, "event: resync"));
	stream_close(&s);

	/* An id from before a restart: the client must reload. */
	stream_open(&s, "/api/v3/events?last_event_id=999999", NULL);
	stream_wait(&s, 0, "event: resync\n");
	stream_close(&s);
	free(hdr);
	free(a);
	free(b);
	free(c);
}
END_TEST

START_TEST(test_bad_requests)
{
	struct test_response r;

	test_http(
	    &ts, "GET", "/api/v3/events?jobs=not-a-uuid", NULL, -1, NULL, &r);
	test_assert_error(&r, 400, "jobs");
	test_response_free(&r);
	test_http(&ts, "GET", "/api/v3/events?tasks=1,2", NULL, -1, NULL, &r);
	test_assert_error(&r, 400, "tasks");
	test_response_free(&r);
	test_http(
	    &ts, "GET", "/api/v3/events", NULL, -1, "Last-Event-ID: -3", &r);
	test_assert_error(&r, 400, "Last-Event-ID");
	test_response_free(&r);
}
END_TEST

/* Clients that vanish, mid-stream or parked: the Manager notices within
 * a heartbeat and keeps serving. */
START_TEST(test_clients_leave)
{
	enum {
		N = 200
	};
	static struct stream s[N];
	struct eventbus *bus = ts.app->ctx.bus;
	int64_t t0;

	for (int i = 0; i < N; i++)
		stream_open(&s[i], "/api/v3/events", NULL);
	for (int i = 0; i < N; i++)
		stream_wait(&s[i], 0, "retry:");
	ck_assert_uint_eq(sse_hub_streams(ts.app->ctx.sse), N);
	for (int i = 0; i < 50; i++)
		eventbus_publish(
		    bus, "/jobs", false, json_pack("{s:i}", "n", i));
	for (int i = 0; i < N; i++) {
		/* Half leave with unread data (RST), half politely. */
		if (i % 2 == 0) {
			struct linger lg = { 1, 0 };

			setsockopt(
			    s[i].fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		}
		stream_close(&s[i]);
	}
	for (int i = 0; i < 50; i++)
		eventbus_publish(
		    bus, "/jobs", false, json_pack("{s:i}", "n", i));
	t0 = time_mono_us();
	while (sse_hub_streams(ts.app->ctx.sse) > 0) {
		ck_assert_msg(time_mono_us() - t0 < 5000000, "%zu streams left",
		    sse_hub_streams(ts.app->ctx.sse));
		usleep(20000);
	}
	ck_assert_int_eq(call("GET", "/api/v3/version", NULL, NULL), 200);
}
END_TEST

/* Thousands of reconnects, as a flapping proxy or a buggy script would
 * make: every stream is set up and torn down, none is left behind. */
START_TEST(test_reconnect_storm)
{
	enum {
		BATCH = 100,
		ROUNDS = 20
	};
	static struct stream s[BATCH];
	int64_t t0;

	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < BATCH; i++)
			stream_open(&s[i], "/api/v3/events?tasks=all", NULL);
		for (int i = 0; i < BATCH; i++) {
			/* Half leave before the first byte arrives. */
			if (i % 2 == 0)
				stream_wait(&s[i], 0, "retry:");
			stream_close(&s[i]);
		}
	}
	t0 = time_mono_us();
	while (sse_hub_streams(ts.app->ctx.sse) > 0) {
		ck_assert_msg(time_mono_us() - t0 < 5000000, "%zu streams left",
		    sse_hub_streams(ts.app->ctx.sse));
		usleep(20000);
	}
	ck_assert_uint_eq(eventbus_subscribers(ts.app->ctx.bus), 0);
	ck_assert_int_eq(call("GET", "/api/v3/version", NULL, NULL), 200);
}
END_TEST

/* A client that stops reading is cut off with "resync" instead of
 * making the bus wait or keep its events forever. */
START_TEST(test_slow_client_cut_off)
{
	struct stream s;
	int64_t t0;
	char big[2048];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	stream_open(&s, "/api/v3/events", NULL);
	stream_wait(&s, 0, "retry:");
	/* Far more than the socket buffers and the queue hold. */
	for (int i = 0; i < 20000; i++)
		eventbus_publish(ts.app->ctx.bus, "/jobs", false,
		    json_pack("{s:i, s:s}", "n", i, "pad", big));
	t0 = time_mono_us();
	while (!s.closed) {
		ck_assert(time_mono_us() - t0 < 20000000);
		stream_pump(&s, 100);
	}
	ck_assert_ptr_nonnull(strstr(s.buf, "event: resync\n"));
	ck_assert_int_eq(call("GET", "/api/v3/version", NULL, NULL), 200);
	stream_close(&s);
}
END_TEST

/* A stream opened while the Manager stops ends at once instead of
 * holding the server up. */
START_TEST(test_stream_opened_while_closing)
{
	struct stream s;

	sse_hub_close_streams(ts.app->ctx.sse);
	stream_open(&s, "/api/v3/events", NULL);
	stream_wait(&s, 0, "retry:");
	stream_pump(&s, 2000);
	ck_assert(s.closed);
	stream_close(&s);
}
END_TEST

START_TEST(test_shutdown_with_open_streams)
{
	struct stream s[3];
	int64_t t0;

	for (int i = 0; i < 3; i++) {
		stream_open(&s[i], "/api/v3/events", NULL);
		stream_wait(&s[i], 0, "retry:");
	}
	t0 = time_mono_us();
	test_server_stop(&ts);
	/* Open streams would hold the server up for its whole drain time
	 * (10 s) if they were not ended. */
	ck_assert_int_lt(time_mono_us() - t0, 8000000);
	for (int i = 0; i < 3; i++) {
		stream_pump(&s[i], 1000);
		ck_assert(s[i].closed);
		stream_close(&s[i]);
	}
	/* teardown starts it again to stop it. */
	test_server_start(&ts, NULL);
}
END_TEST

static Suite *
sse_suite(void)
{
	Suite *s = suite_create("sse");
	TCase *tc = tcase_create("api");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_stream_basics);
	tcase_add_test(tc, test_filters);
	tcase_add_test(tc, test_resume);
	tcase_add_test(tc, test_bad_requests);
	tcase_add_test(tc, test_clients_leave);
	tcase_add_test(tc, test_reconnect_storm);
	tcase_add_test(tc, test_slow_client_cut_off);
	tcase_add_test(tc, test_shutdown_with_open_streams);
	tcase_add_test(tc, test_stream_opened_while_closing);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(sse_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
