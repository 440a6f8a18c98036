/*
 * The HTTP layer against hostile clients: bytes that are not UTF-8 in
 * paths and queries, bodies that would parse into gigabytes, slow
 * requests that must not hold up others, and clients that open
 * connections by the thousand or send a byte every few seconds. Most of
 * it over raw sockets, since libcurl will not misbehave on request.
 */
#include <check.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonscan.h"
#include "testutil.h"
#include "timeutil.h"
#include "utf8.h"
#include "xmalloc.h"

#define VERSION_REQUEST "GET /api/v3/version HTTP/1.1\r\nHost: x\r\n\r\n"

static struct test_server ts;

/* --- raw-socket helpers ------------------------------------------- */

/*
 * A blocking TCP connection to the test server from source address src
 * (NULL: any), with a receive buffer of rcvbuf bytes (0: the default).
 */
static int
tcp_connect_buf(const char *src, int rcvbuf)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	/* Before connecting: the window is agreed on in the handshake. */
	if (rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (src != NULL) {
		ck_assert_int_eq(inet_pton(AF_INET, src, &sa.sin_addr), 1);
		ck_assert_msg(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
		    "bind %s: %s", src, strerror(errno));
	}
	sa.sin_port = htons((uint16_t)ts.port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0,
	    "connect: %s", strerror(errno));
	return fd;
}

static int
tcp_connect_from(const char *src)
{
	return tcp_connect_buf(src, 0);
}

static void
send_str(int fd, const char *data)
{
	size_t len = strlen(data);

	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		ck_assert_msg(n > 0, "send: %s", strerror(errno));
		data += n;
		len -= (size_t)n;
	}
}

/*
 * Milliseconds until the server ends the stream on fd (anything it sends
 * first is read and dropped), or -1 when it is still open after
 * timeout_ms.
 */
static int
wait_closed(int fd, int timeout_ms)
{
	int64_t t0 = time_mono_us();
	char buf[4096];

	for (;;) {
		int left = timeout_ms - (int)((time_mono_us() - t0) / 1000);
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (left <= 0 || poll(&p, 1, left) == 0)
			return -1;
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0 &&
		    errno != EAGAIN)
			return (int)((time_mono_us() - t0) / 1000);
	}
}

/* True when the server has not closed fd (nothing is waiting on it). */
static bool
still_open(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 0;
}

/*
 * Read one response from fd within timeout_ms into buf (NUL-terminated,
 * headers and body). Returns the status, or -1 on a closed connection or
 * timeout.
 */
static int
read_response(int fd, char *buf, size_t cap, int timeout_ms)
{
	int64_t t0 = time_mono_us();
	size_t len = 0, need = 0;
	int status = -1;

	buf[0] = '\0';
	for (;;) {
		int left = timeout_ms - (int)((time_mono_us() - t0) / 1000);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char *end;
		ssize_t n;

		if (left <= 0 || poll(&p, 1, left) == 0)
			return -1;
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n <= 0)
			return -1;
		len += (size_t)n;
		buf[len] = '\0';
		if (need == 0 && (end = strstr(buf, "\r\n\r\n")) != NULL) {
			const char *cl = strcasestr(buf, "Content-Length:");

			sscanf(buf, "HTTP/1.%*d %d", &status);
			need = (size_t)(end + 4 - buf) +
			    (cl != NULL ? strtoul(cl + 15, NULL, 10) : 0);
		}
		if (need != 0 && len >= need)
			return status;
		ck_assert_uint_lt(len, cap - 1);
	}
}

/* One request on a new connection; the response goes to buf. */
static int
raw_request(const char *request, char *buf, size_t cap, int timeout_ms)
{
	int fd = tcp_connect_from(NULL), status;

	send_str(fd, request);
	status = read_response(fd, buf, cap, timeout_ms);
	close(fd);
	return status;
}

/* The JSON body of a raw response: code and message must be right. */
static void
assert_raw_error(const char *response, int status, const char *needle)
{
	const char *body = strstr(response, "\r\n\r\n");
	json_error_t err;
	json_t *j;
	const char *msg;

	ck_assert_ptr_nonnull(body);
	j = json_loads(body + 4, 0, &err);
	ck_assert_msg(j != NULL, "not JSON (%s): %s", err.text, response);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(j, "code")), status);
	msg = json_string_value(json_object_get(j, "message"));
	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(strstr(msg, needle) != NULL,
	    "message \"%s\" lacks \"%s\"", msg, needle);
	json_decref(j);
}

static void
teardown(void)
{
	test_server_stop(&ts);
}

/* --- UTF-8 and the reply of last resort --------------------------- */

static void
setup_default(void)
{
	test_server_start(&ts, NULL);
}

/* Each of these once got no answer (a spinning thread) or a 500. */
START_TEST(test_path_not_utf8)
{
	static const char *const paths[] = {
		"/api/v3/x/%ff",
		"/api/v3/configuration/variables/users/%ff",
		"/api/v3/configuration/shared-storage/users/%c3%28",
		"/api/v3/jobs/%ed%a0%80", /* a UTF-16 surrogate */
		"/api/v3/version%00/x",
		"/api/v3/jobs?name=%ff",
		"/api/v3/jobs?status=active&type=%fe%ff",
		"/api/v3/jobs?%ff=1",
		"/api/v3/jobs?name=a%00b",
	};
	char buf[8192];

	for (size_t i = 0; i < nitems(paths); i++) {
		char *request =
		    xasprintf("GET %s HTTP/1.1\r\nHost: x\r\n\r\n", paths[i]);
		int status = raw_request(request, buf, sizeof(buf), 5000);

		ck_assert_msg(
		    status == 400, "%s: status %d: %s", paths[i], status, buf);
		assert_raw_error(buf, 400, "UTF-8");
		free(request);
	}
}
END_TEST

/*
 * The 1024-byte cut of an error message used to split a character, and
 * jansson then refused the whole message.
 */
START_TEST(test_message_cut_mid_character)
{
	char path[4200] = "/api/v3/nothing/", buf[8192];
	char *request;
	size_t len = strlen(path);
	int status;

	/* "é" (c3 a9) from an odd offset, so the cut lands inside one. */
	path[len++] = 'x';
	while (len + 6 < sizeof(path) - 1) {
		memcpy(path + len, "%c3%a9", 6);
		len += 6;
	}
	path[len] = '\0';
	request = xasprintf("GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
	status = raw_request(request, buf, sizeof(buf), 5000);
	ck_assert_msg(status == 404, "status %d: %s", status, buf);
	assert_raw_error(buf, 404, "Not Found");
	free(request);
}
END_TEST

START_TEST(test_scrub_and_escape)
{
	char out[64];

	ck_assert(utf8_valid("h\xc3\xa9llo", 6));
	ck_assert(utf8_valid("a\0b", 3));
	ck_assert(!utf8_valid("\xff", 1));
	ck_assert(!utf8_valid("\xc3", 1));             /* cut short */
	ck_assert(!utf8_valid("\xc0\xaf", 2));         /* overlong */
	ck_assert(!utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
	ck_assert(!utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	ck_assert(utf8_valid("\xf0\x9f\x8e\xac", 4));  /* U+1F3AC */

	utf8_scrub("a\xff"
	           "b\xc3",
	    4, out, sizeof(out));
	ck_assert_str_eq(out,
	    "a\xef\xbf\xbd"
	    "b\xef\xbf\xbd");
	/* A full buffer cuts at a character boundary. */
	ck_assert_uint_eq(utf8_scrub("\xc3\xa9\xc3\xa9", 4, out, 4), 2);
	ck_assert_str_eq(out, "\xc3\xa9");

	utf8_escape_log("/a\nb\\\xff\xc3\xa9", out, sizeof(out));
	ck_assert_str_eq(out, "/a\\x0ab\\x5c\\xff\xc3\xa9");
	utf8_escape_log("0123456789", out, 8);
	ck_assert_str_eq(out, "0123...");
}
END_TEST

START_TEST(test_jsonscan)
{
	struct jsonscan s;

	ck_assert(jsonscan_measure(
	    "{\"a\": [1, 2.5e3, true, null, \"x]\"]}", 34, 100, 10, &s));
	ck_assert_uint_eq(s.values, 8);
	ck_assert_uint_eq(s.depth, 2);
	ck_assert(!jsonscan_measure("[{},{},{},{}]", 13, 3, 10, &s));
	ck_assert(!jsonscan_measure("[[[[[\"\\\"[[[[\"]]]]]", 18, 100, 4, &s));
	ck_assert_uint_eq(s.depth, 5);
}
END_TEST

/* --- what one body may cost --------------------------------------- */

/* "[{},{},...]" with n values, as text. */
static char *
many_objects(size_t n, size_t *len_out)
{
	size_t len = 1 + 3 * n;
	char *s = xmalloc(len + 1);

	s[0] = '[';
	for (size_t i = 0; i < n; i++)
		memcpy(s + 1 + 3 * i, "{},", 3);
	s[len - 1] = ']';
	s[len] = '\0';
	*len_out = len;
	return s;
}

static long
status_kib(const char *field)
{
	char *text = test_read_file("/proc/self/status", NULL);
	const char *p = strstr(text, field);
	long kib = p != NULL ? strtol(p + strlen(field) + 1, NULL, 10) : -1;

	free(text);
	return kib;
}

START_TEST(test_json_body_limits)
{
	struct test_response r;
	size_t len;
	char *body = many_objects(150000, &len), *deep;

	/* Under the 1 MiB cap, but 150,000 values. */
	test_http(&ts, "POST", "/api/v3/jobs/check", body, (long)len, NULL, &r);
	test_assert_error(&r, 413, "more than 100000 values");
	test_response_free(&r);
	free(body);

	/* Over the default 1 MiB cap for JSON bodies. */
	body = many_objects(400000, &len);
	test_http(&ts, "POST", "/api/v3/jobs/check", body, (long)len, NULL, &r);
	test_assert_error(&r, 413, "too large");
	test_response_free(&r);
	free(body);

	deep = xmalloc(201);
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	deep[200] = '\0';
	test_http(&ts, "POST", "/api/v3/jobs/check", deep, -1, NULL, &r);
	test_assert_error(&r, 400, "nested deeper than 64");
	test_response_free(&r);
	free(deep);
}
END_TEST

/* A worker's log may hold "\u0000"; the parse must take it. */
START_TEST(test_json_nul_accepted)
{
	struct test_response r;

	test_http(&ts, "POST", "/api/v3/jobs/check",
	    "{\"name\": \"a\\u0000b\", \"type\": \"no-such-type\", "
	    "\"priority\": 50, \"submitter_platform\": \"linux\", "
	    "\"settings\": {}}",
	    -1, NULL, &r);
	ck_assert_msg(strstr(r.body, "invalid JSON") == NULL, "%s", r.body);
	test_response_free(&r);
}
END_TEST

static void
setup_big_bodies(void)
{
	test_server_start(&ts, "max_body_size = 16MiB\n");
}

/*
 * 16 MiB of "{}," used to parse into over a gigabyte; now it is refused
 * before parsing. (ASan keeps freed memory in quarantine, so the peak is
 * what is measured here; the figure without ASan is in the README.)
 */
START_TEST(test_amplification_bounded)
{
	struct test_response r;
	size_t len;
	char *body = many_objects((16 << 20) / 3 - 1, &len);
	long before = status_kib("VmHWM:");

	test_http(&ts, "POST", "/api/v3/jobs/check", body, (long)len, NULL, &r);
	test_assert_error(&r, 413, "more than 100000 values");
	test_response_free(&r);
	free(body);
	ck_assert_msg(status_kib("VmHWM:") - before < 400 * 1024,
	    "peak RSS grew from %ld to %ld KiB", before, status_kib("VmHWM:"));
}
END_TEST

/* --- the slow lane ------------------------------------------------ */

static char *scripts_dir;

static void
setup_slow(void)
{
	char *conf;

	scripts_dir = test_tmpdir();
	free(test_write_file(scripts_dir, "spin.js",
	    "const JOB_TYPE = { label: 'Spin', settings: [] };\n"
	    "function compileJob(job) { for (;;) {} }\n"));
	conf = xasprintf("http_threads = 1\nscripts_path = %s\n"
	                 "compile_timeout = 3s\ncompiler_heaps = 1\n",
	    scripts_dir);
	test_server_start(&ts, conf);
	free(conf);
}

static void
teardown_slow(void)
{
	test_server_stop(&ts);
	test_rmtree(scripts_dir);
	free(scripts_dir);
}

struct slow_call {
	pthread_t thread;
	atomic_bool done;
	long status;
};

static void *
slow_call_main(void *arg)
{
	struct slow_call *c = arg;
	struct test_response r;

	test_http(&ts, "POST", "/api/v3/jobs/check",
	    "{\"name\": \"spin\", \"type\": \"spin\", \"priority\": 50, "
	    "\"submitter_platform\": \"linux\", \"settings\": {}}",
	    -1, NULL, &r);
	c->status = r.status;
	test_response_free(&r);
	atomic_store(&c->done, true);
	return NULL;
}

/* Wait until the job types are loaded, so the slow call is the compile. */
static void
wait_types_loaded(void)
{
	struct test_response r;

	test_http(&ts, "GET", "/api/v3/jobs/type/spin", NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	test_response_free(&r);
}

/*
 * One HTTP thread, a compile that takes 3 s: /version on another
 * connection is answered at once (it took the whole 3 s before).
 */
START_TEST(test_slow_route_does_not_block)
{
	struct slow_call call = { .done = false };
	int64_t worst = 0;

	wait_types_loaded();
	pthread_create(&call.thread, NULL, slow_call_main, &call);
	usleep(300 * 1000);
	for (int i = 0; i < 5; i++) {
		struct test_response r;
		int64_t t0 = time_mono_us(), us;

		test_http(&ts, "GET", "/api/v3/version", NULL, 0, NULL, &r);
		us = time_mono_us() - t0;
		ck_assert_int_eq(r.status, 200);
		test_response_free(&r);
		if (us > worst)
			worst = us;
		ck_assert_msg(
		    us < 500000, "/version took %lld ms", (long long)us / 1000);
		usleep(100 * 1000);
	}
	ck_assert_msg(!atomic_load(&call.done),
	    "the slow request ended before the measurement");
	fprintf(stderr, "/version while a 3 s compile runs: worst %lld ms\n",
	    (long long)worst / 1000);
	pthread_join(call.thread, NULL);
	/* The compile timed out: an error reply, not a dropped request. */
	ck_assert_int_ge(call.status, 400);
}
END_TEST

/* Stopping while a slow request runs drains it; ASan checks for leaks. */
START_TEST(test_stop_during_slow_route)
{
	struct slow_call call[2];

	wait_types_loaded();
	for (int i = 0; i < 2; i++) {
		call[i].done = false;
		pthread_create(&call[i].thread, NULL, slow_call_main, &call[i]);
	}
	usleep(500 * 1000);
	test_server_stop(&ts);
	for (int i = 0; i < 2; i++) {
		pthread_join(call[i].thread, NULL);
		ck_assert(atomic_load(&call[i].done));
	}
}
END_TEST

/* --- connections: deadlines and limits ---------------------------- */

static void
setup_deadlines(void)
{
	test_server_start(&ts,
	    "http_header_timeout = 1s\n"
	    "http_min_body_rate = 1KiB\n");
}

START_TEST(test_trickled_headers_closed)
{
	int idle = tcp_connect_from(NULL), fd = tcp_connect_from(NULL);
	int64_t t0 = time_mono_us();
	int ms;

	send_str(fd, "GET /api/v3/version HTTP/1.1\r\nX-Slow: ");
	/* One byte every 200 ms resets an idle timeout, not a deadline. */
	while (still_open(fd) && time_mono_us() - t0 < 4000000) {
		send(fd, "a", 1, MSG_NOSIGNAL);
		usleep(200 * 1000);
	}
	ms = (int)((time_mono_us() - t0) / 1000);
	ck_assert_msg(ms >= 900 && ms < 2500, "closed after %d ms", ms);
	ck_assert_int_ge(wait_closed(fd, 1000), 0);
	/* A connection that never sends a byte goes the same way. */
	ms = wait_closed(idle, 3000);
	ck_assert_msg(ms >= 0, "idle connection still open");
	close(fd);
	close(idle);
}
END_TEST

START_TEST(test_trickled_body_closed)
{
	int fd = tcp_connect_from(NULL);
	int64_t t0 = time_mono_us();
	int ms;

	send_str(fd,
	    "POST /api/v3/jobs/check HTTP/1.1\r\nHost: x\r\n"
	    "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n");
	/* 50 bytes/s, far below the 1 KiB/s minimum, after a 1 s grace. */
	while (still_open(fd) && time_mono_us() - t0 < 5000000) {
		send(fd, "          ", 10, MSG_NOSIGNAL);
		usleep(200 * 1000);
	}
	ms = (int)((time_mono_us() - t0) / 1000);
	ck_assert_msg(ms >= 900 && ms < 3000, "closed after %d ms", ms);
	close(fd);
}
END_TEST

/* Keep-alive: a request, a pause, another request, all within limits. */
START_TEST(test_keepalive_and_timely_requests_served)
{
	int fd = tcp_connect_from(NULL);
	char buf[4096];

	for (int i = 0; i < 3; i++) {
		send_str(fd, VERSION_REQUEST);
		ck_assert_int_eq(
		    read_response(fd, buf, sizeof(buf), 3000), 200);
		usleep(500 * 1000);
	}
	/* Idle past the deadline since the last request: closed. */
	ck_assert_int_ge(wait_closed(fd, 3000), 0);
	close(fd);
}
END_TEST

/*
 * Sending a response has no deadline: a 16 MiB download read slowly over
 * about 3 s (three times the header deadline) arrives whole.
 */
START_TEST(test_slow_download_unaffected)
{
	char *dir = xasprintf("%s/storage/job-abcd", ts.dir), *path;
	size_t size = 16 << 20, got = 0, chunk = 1 << 20;
	char *data = xcalloc(1, size), *buf = xmalloc(chunk);
	int fd;
	FILE *f;

	ck_assert_int_eq(mkdir(dir, 0755), 0);
	path = xasprintf("%s/big.bin", dir);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, size, f), size);
	fclose(f);

	fd = tcp_connect_buf(NULL, 16384);
	send_str(
	    fd, "GET /job-files/job-abcd/big.bin HTTP/1.1\r\nHost: x\r\n\r\n");
	while (got < size + 100) {
		ssize_t n = recv(fd, buf, chunk, MSG_WAITALL);

		if (n <= 0)
			break;
		got += (size_t)n;
		usleep(200 * 1000);
	}
	ck_assert_msg(got > size, "got %zu of %zu bytes", got, size);
	close(fd);
	free(buf);
	free(data);
	free(path);
	free(dir);
}
END_TEST

static void
setup_per_client(void)
{
	test_server_start(&ts, "http_max_connections_per_client = 16\n");
}

START_TEST(test_per_client_limit)
{
	int fds[16], extra, ms;
	struct test_response r;
	char buf[4096];

	for (int i = 0; i < 16; i++)
		fds[i] = tcp_connect_from("127.0.0.2");
	extra = tcp_connect_from("127.0.0.2");
	ms = wait_closed(extra, 3000);
	ck_assert_msg(ms >= 0, "the 17th connection was not refused");
	close(extra);
	/* Another address is unaffected, and the 16 are served. */
	test_http(&ts, "GET", "/api/v3/version", NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	test_response_free(&r);
	send_str(fds[15], VERSION_REQUEST);
	ck_assert_int_eq(read_response(fds[15], buf, sizeof(buf), 3000), 200);
	/* One closes, a new one from the same address gets in. */
	close(fds[0]);
	usleep(200 * 1000);
	fds[0] = tcp_connect_from("127.0.0.2");
	send_str(fds[0], VERSION_REQUEST);
	ck_assert_int_eq(read_response(fds[0], buf, sizeof(buf), 3000), 200);
	for (int i = 0; i < 16; i++)
		close(fds[i]);
}
END_TEST

/*
 * About 1,500 connections from eight addresses, idle or half-way through
 * a request line, as when the old limit of 1,020 shut everyone out: the
 * server still answers others at once and serves the held ones too.
 */
START_TEST(test_many_slow_connections)
{
	struct rlimit rl;
	int n = 1520, *fds, worst_ms = 0;
	char buf[4096];

	/* Client and server ends both live in this process. */
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if ((rlim_t)(2 * n + 300) > rl.rlim_cur)
		n = ((int)rl.rlim_cur - 300) / 2;
	ck_assert_int_gt(n, 500);
	fds = xcalloc((size_t)n, sizeof(*fds));
	for (int i = 0; i < n; i++) {
		char src[16];

		snprintf(src, sizeof(src), "127.0.0.%d", 2 + i % 8);
		fds[i] = tcp_connect_from(src);
		if (i % 2 == 1)
			send_str(fds[i], "GET /api/v3/vers");
	}
	for (int i = 0; i < 20; i++) {
		struct test_response r;
		int64_t t0 = time_mono_us();
		int ms;

		test_http(&ts, "GET", "/api/v3/version", NULL, 0, NULL, &r);
		ms = (int)((time_mono_us() - t0) / 1000);
		ck_assert_int_eq(r.status, 200);
		test_response_free(&r);
		if (ms > worst_ms)
			worst_ms = ms;
	}
	fprintf(stderr, "/version with %d slow connections open: worst %d ms\n",
	    n, worst_ms);
	ck_assert_msg(worst_ms < 1000, "worst %d ms", worst_ms);
	/* The last ones opened were accepted, not left in the backlog. */
	for (int i = n - 4; i < n; i++) {
		send_str(fds[i],
		    i % 2 == 1 ? "ion HTTP/1.1\r\nHost: x\r\n\r\n"
		               : VERSION_REQUEST);
		ck_assert_int_eq(
		    read_response(fds[i], buf, sizeof(buf), 3000), 200);
	}
	for (int i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
}
END_TEST

static Suite *
http_hostile_suite(void)
{
	Suite *s = suite_create("http_hostile");
	TCase *tc;

	tc = tcase_create("units");
	tcase_add_test(tc, test_scrub_and_escape);
	tcase_add_test(tc, test_jsonscan);
	suite_add_tcase(s, tc);

	tc = tcase_create("requests");
	tcase_add_checked_fixture(tc, setup_default, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_path_not_utf8);
	tcase_add_test(tc, test_message_cut_mid_character);
	tcase_add_test(tc, test_json_body_limits);
	tcase_add_test(tc, test_json_nul_accepted);
	suite_add_tcase(s, tc);

	tc = tcase_create("amplification");
	tcase_add_checked_fixture(tc, setup_big_bodies, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_amplification_bounded);
	suite_add_tcase(s, tc);

	tc = tcase_create("slow_lane");
	tcase_add_checked_fixture(tc, setup_slow, teardown_slow);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_slow_route_does_not_block);
	tcase_add_test(tc, test_stop_during_slow_route);
	suite_add_tcase(s, tc);

	tc = tcase_create("deadlines");
	tcase_add_checked_fixture(tc, setup_deadlines, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_trickled_headers_closed);
	tcase_add_test(tc, test_trickled_body_closed);
	tcase_add_test(tc, test_keepalive_and_timely_requests_served);
	tcase_add_test(tc, test_slow_download_unaffected);
	suite_add_tcase(s, tc);

	tc = tcase_create("limits");
	tcase_add_checked_fixture(tc, setup_per_client, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_per_client_limit);
	suite_add_tcase(s, tc);

	tc = tcase_create("many");
	tcase_add_checked_fixture(tc, setup_default, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_many_slow_connections);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(http_hostile_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
