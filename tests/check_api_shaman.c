/*
 * API tests for Shaman as the Blender add-on uses it: checkout
 * requirements, file status, streamed uploads, checkout creation, a job
 * that names its checkout, and the deleter removing that checkout; a
 * second identical submission uploads nothing. Then every bad input:
 * lying checksums and sizes, truncated and overlong bodies (also
 * chunked), a client that disconnects mid-upload, uploads deferred while
 * another runs, path traversal in checkout and file paths, missing
 * files, a checkout of 100,000 files, Shaman off (503), and garbage
 * collection from the housekeeping thread.
 */
#include <arpa/inet.h>
#include <check.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "sha256.h"
#include "testutil.h"
#include "timeutil.h"
#include "xmalloc.h"

static struct test_server ts;

static void
setup(void)
{
	test_server_start(&ts, NULL);
}

static void
teardown(void)
{
	test_server_stop(&ts);
}

static void
hex_sum(const void *data, size_t len, char out[65])
{
	unsigned char d[SHA256_DIGEST_LEN];
	struct sha256_ctx c;

	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final(&c, d);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static char *
shared_path(const char *rel)
{
	return xasprintf("%s/%s", ts.cfg->shared_storage_path, rel);
}

/* Regular files under shared/REL (recursively), via find(1). */
static int
count_files(const char *rel)
{
	char *dir = shared_path(rel);
	char *cmd = xasprintf("find '%s' -type f | wc -l", dir);
	FILE *p = popen(cmd, "r");
	int n = -1;

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(fscanf(p, "%d", &n), 1);
	pclose(p);
	free(cmd);
	free(dir);
	return n;
}

/* One request; returns the status, *json_out the body when JSON. */
static long
call(const char *method, const char *path, const char *body, long len,
    const char *hdr, json_t **json_out)
{
	struct test_response r;
	long status;

	test_http(&ts, method, path, body, len, hdr, &r);
	status = r.status;
	if (status == 204 || status == 208) {
		ck_assert_uint_eq(r.body_len, 0);
		ck_assert_str_eq(r.content_type, "");
	} else if (status >= 400) {
		test_assert_error(&r, status, NULL);
	}
	if (json_out != NULL)
		*json_out = r.body_len > 0 ? test_json(&r) : NULL;
	test_response_free(&r);
	return status;
}

static void
expect_error(const char *method, const char *path, const char *body, long len,
    const char *hdr, long status, const char *needle)
{
	struct test_response r;

	test_http(&ts, method, path, body, len, hdr, &r);
	test_assert_error(&r, status, needle);
	test_response_free(&r);
}

/* Upload data as the add-on does; returns the status. */
static long
upload(
    const char *sum, long size, const char *data, long len, const char *extra)
{
	char *path = xasprintf("/api/v3/shaman/files/%s/%ld", sum, size);
	char *hdr = xasprintf("Content-Type: application/octet-stream\n"
	                      "X-Shaman-Can-Defer-Upload: False\n%s",
	    extra != NULL ? extra : "");
	long status = call("POST", path, data, len, hdr, NULL);

	free(path);
	free(hdr);
	return status;
}

static const char *
status_of(const char *sum, long size)
{
	char *path = xasprintf("/api/v3/shaman/files/%s/%ld", sum, size);
	static char out[32];
	json_t *j;

	ck_assert_int_eq(call("GET", path, NULL, 0, NULL, &j), 200);
	snprintf(out, sizeof(out), "%s",
	    json_string_value(json_object_get(j, "status")));
	json_decref(j);
	free(path);
	return out;
}

struct file {
	const char *path;
	const char *data;
	char sum[65];
	long size;
};

static void
file_init(struct file *f, const char *path, const char *data)
{
	f->path = path;
	f->data = data;
	f->size = (long)strlen(data);
	hex_sum(data, strlen(data), f->sum);
}

/* {"files": [...]} (plus a checkoutPath when given), new. */
static char *
files_body(const struct file *files, int n, const char *checkout)
{
	json_t *arr = json_array(), *body;
	char *text;

	for (int i = 0; i < n; i++)
		json_array_append_new(arr,
		    json_pack("{s:s, s:i, s:s}", "sha", files[i].sum, "size",
		        (json_int_t)files[i].size, "path", files[i].path));
	body = json_pack("{s:o}", "files", arr);
	if (checkout != NULL)
		json_object_set_new(
		    body, "checkoutPath", json_string(checkout));
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	return text;
}

static json_t *
requirements(const struct file *files, int n)
{
	char *body = files_body(files, n, NULL);
	json_t *j;

	ck_assert_int_eq(call("POST", "/api/v3/shaman/checkout/requirements",
	                     body, -1, NULL, &j),
	    200);
	free(body);
	ck_assert(json_is_array(json_object_get(j, "files")));
	return j;
}

static char *
checkout(const struct file *files, int n, const char *path)
{
	char *body = files_body(files, n, path), *actual;
	json_t *j;

	ck_assert_int_eq(
	    call("POST", "/api/v3/shaman/checkout/create", body, -1, NULL, &j),
	    200);
	actual = xstrdup(json_string_value(json_object_get(j, "checkoutPath")));
	json_decref(j);
	free(body);
	return actual;
}

static bool
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* The add-on's whole sequence for these files; returns the checkout. */
static char *
addon_submit(const struct file *files, int n, const char *name, int *uploads)
{
	json_t *req = requirements(files, n), *item;
	size_t i;

	*uploads = 0;
	json_array_foreach (json_object_get(req, "files"), i, item) {
		const char *sum =
		    json_string_value(json_object_get(item, "sha"));

		for (int k = 0; k < n; k++) {
			if (strcmp(files[k].sum, sum) != 0)
				continue;
			/* A file listed twice (two paths) goes up once. */
			if (strcmp(status_of(sum, files[k].size), "stored") ==
			    0)
				break;
			ck_assert_str_eq(
			    json_string_value(json_object_get(item, "status")),
			    "unknown");
			ck_assert_str_eq(
			    status_of(sum, files[k].size), "unknown");
			ck_assert_int_eq(
			    upload(sum, files[k].size, files[k].data,
			        files[k].size,
			        "X-Shaman-Original-Filename: "
			        "=?utf-8?b?w6lsw6hwaGFudC5wbmc=?="),
			    204);
			ck_assert_str_eq(
			    status_of(sum, files[k].size), "stored");
			(*uploads)++;
			break;
		}
	}
	json_decref(req);
	return checkout(files, n, name);
}

START_TEST(test_addon_flow)
{
	struct file files[3];
	char *co, *co2, *p, *text, *body, *job;
	int uploads;
	size_t len;
	json_t *j;
	long s;

	file_init(&files[0], "scene.blend", "BLENDER-v300 pretend scene");
	file_init(&files[1], "textures/wood.png", "pretend PNG data");
	file_init(&files[2], "textures/copy of wood.png", "pretend PNG data");

	/* Shaman is on and the add-on is told where checkouts appear. */
	ck_assert_int_eq(
	    call("GET", "/api/v3/configuration/shared-storage/users/linux",
	        NULL, 0, NULL, &j),
	    200);
	ck_assert(json_is_true(json_object_get(j, "shamanEnabled")));
	p = shared_path("jobs");
	ck_assert_str_eq(json_string_value(json_object_get(j, "location")), p);
	free(p);
	json_decref(j);

	co = addon_submit(files, 3, "Shot 010", &uploads);
	ck_assert_int_eq(uploads, 2); /* the copy is the same file */
	ck_assert_str_eq(co, "Shot 010");
	p = xasprintf("%s/jobs/%s/textures/copy of wood.png",
	    ts.cfg->shared_storage_path, co);
	text = test_read_file(p, &len);
	ck_assert_str_eq(text, "pretend PNG data");
	free(text);
	free(p);

	/* The job names its checkout, as the add-on's BAT v1 path does. */
	body =
	    xasprintf("{\"name\": \"shot\", \"type\": \"echo-sleep-test\", "
	              "\"priority\": 50, \"submitter_platform\": \"linux\", "
	              "\"settings\": {\"message\": \"hi\", "
	              "\"sleep_duration_seconds\": 1, \"sleep_repeats\": 1}, "
	              "\"storage\": {\"shaman_checkout_id\": \"%s\"}}",
	        co);
	ck_assert_int_eq(call("POST", "/api/v3/jobs", body, -1, NULL, &j), 200);
	job = xstrdup(json_string_value(json_object_get(j, "id")));
	json_decref(j);
	free(body);
	p = xasprintf("/api/v3/jobs/%s/what-would-delete-do", job);
	ck_assert_int_eq(call("GET", p, NULL, 0, NULL, &j), 200);
	ck_assert(json_is_true(json_object_get(j, "shaman_checkout")));
	json_decref(j);
	free(p);

	/* A second submission of the same scene uploads nothing. */
	j = requirements(files, 3);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "files")), 0);
	json_decref(j);
	co2 = addon_submit(files, 3, "Shot 010", &uploads);
	ck_assert_int_eq(uploads, 0);
	ck_assert_str_ne(co2, co);
	ck_assert(strncmp(co2, "Shot 010-", 9) == 0);

	/* Deleting the job removes its checkout, not the stored files. */
	p = xasprintf("/api/v3/jobs/%s", job);
	ck_assert_int_eq(call("DELETE", p, NULL, 0, NULL, NULL), 204);
	for (int i = 0; i < 4000; i++) {
		if ((s = call("GET", p, NULL, 0, NULL, NULL)) == 404)
			break;
		usleep(5000);
	}
	ck_assert_int_eq(s, 404);
	free(p);
	p = xasprintf("%s/jobs/%s", ts.cfg->shared_storage_path, co);
	ck_assert(!exists(p));
	free(p);
	p = xasprintf(
	    "%s/jobs/%s/scene.blend", ts.cfg->shared_storage_path, co2);
	text = test_read_file(p, &len);
	ck_assert_str_eq(text, "BLENDER-v300 pretend scene");
	free(text);
	free(p);
	ck_assert_int_eq(count_files("file-store/stored"), 2);

	/* A checkout that cannot be removed (nested deeper than removal
	 * descends): the job stays, to be deleted on a later try. */
	free(job);
	body =
	    xasprintf("{\"name\": \"shot 2\", \"type\": \"echo-sleep-test\", "
	              "\"priority\": 50, \"submitter_platform\": \"linux\", "
	              "\"settings\": {\"message\": \"hi\", "
	              "\"sleep_duration_seconds\": 1, \"sleep_repeats\": 1}, "
	              "\"storage\": {\"shaman_checkout_id\": \"%s\"}}",
	        co2);
	ck_assert_int_eq(call("POST", "/api/v3/jobs", body, -1, NULL, &j), 200);
	job = xstrdup(json_string_value(json_object_get(j, "id")));
	json_decref(j);
	free(body);
	p = xasprintf("%s/jobs/%s", ts.cfg->shared_storage_path, co2);
	{
		int fd = open(p, O_RDONLY | O_DIRECTORY);

		for (int i = 0; i < 600 && fd >= 0; i++) {
			int sub;

			ck_assert_int_eq(mkdirat(fd, "d", 0755), 0);
			sub = openat(fd, "d", O_RDONLY | O_DIRECTORY);
			close(fd);
			fd = sub;
		}
		ck_assert_int_ge(fd, 0);
		close(fd);
	}
	{
		char *jp = xasprintf("/api/v3/jobs/%s", job);

		ck_assert_int_eq(call("DELETE", jp, NULL, 0, NULL, NULL), 204);
		usleep(1500 * 1000);
		ck_assert_int_eq(call("GET", jp, NULL, 0, NULL, NULL), 200);
		free(jp);
	}
	{
		char *cmd = xasprintf("rm -rf '%s/d'", p);

		ck_assert_int_eq(system(cmd), 0);
		free(cmd);
	}
	free(p);
	free(job);
	free(co);
	free(co2);
}
END_TEST

START_TEST(test_upload_answers)
{
	struct file f;
	char other[65];

	file_init(&f, "x", "0123456789");
	hex_sum("something else", 14, other);
	/* Lying checksum. */
	ck_assert_int_eq(upload(other, 10, f.data, 10, NULL), 417);
	/* Content-Length is not the claimed size: refused before reading. */
	ck_assert_int_eq(upload(f.sum, 10, f.data, 6, NULL), 417);
	ck_assert_int_eq(upload(f.sum, 6, f.data, 10, NULL), 417);
	ck_assert_int_eq(count_files("file-store"), 0);
	ck_assert_str_eq(status_of(f.sum, 10), "unknown");
	/* The real thing, then again. */
	ck_assert_int_eq(upload(f.sum, 10, f.data, 10, NULL), 204);
	ck_assert_int_eq(upload(f.sum, 10, f.data, 10, NULL), 208);
	/* An empty file is a file too. */
	{
		char empty[65];

		hex_sum("", 0, empty);
		ck_assert_int_eq(upload(empty, 0, "", 0, NULL), 204);
		ck_assert_str_eq(status_of(empty, 0), "stored");
	}
	ck_assert_int_eq(count_files("file-store/stored"), 2);
	ck_assert_int_eq(count_files("file-store/uploading"), 0);
}
END_TEST

START_TEST(test_bad_parameters)
{
	static const char *const paths[] = {
		"/api/v3/shaman/files/abc/10",
		"/api/v3/shaman/files/"
		"zz00000000000000000000000000000000000000000000000000000000000000/"
		"1",
		"/api/v3/shaman/files/"
		"0000000000000000000000000000000000000000000000000000000000000000/"
		"-1",
		"/api/v3/shaman/files/"
		"0000000000000000000000000000000000000000000000000000000000000000/"
		"1x",
		"/api/v3/shaman/files/"
		"0000000000000000000000000000000000000000000000000000000000000000/"
		"99999999999999999999",
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		expect_error("GET", paths[i], NULL, 0, NULL, 400, NULL);
		expect_error("POST", paths[i], "x", 1,
		    "Content-Type: application/octet-stream", 400, NULL);
	}
	ck_assert_int_eq(count_files("file-store"), 0);
}
END_TEST

/* A raw connection to the server. */
static int
raw_connect(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_port = htons((uint16_t)ts.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void
raw_send(int fd, const void *data, size_t len)
{
	ck_assert_int_eq(send(fd, data, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Read the answer's status line; 0 when the connection ends first. */
static long
raw_status(int fd)
{
	char buf[4096];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
	long status = 0;

	if (n > 12) {
		buf[n] = '\0';
		sscanf(buf, "HTTP/1.%*d %ld", &status);
	}
	return status;
}

/* Start an upload by hand: headers and the first len bytes. */
static int
raw_upload_start(
    const char *sum, long size, const char *data, size_t len, bool chunked)
{
	int fd = raw_connect();
	char *head = xasprintf("POST /api/v3/shaman/files/%s/%ld HTTP/1.1\r\n"
	                       "Host: x\r\nContent-Type: "
	                       "application/octet-stream\r\n%s\r\n",
	    sum, size, chunked ? "Transfer-Encoding: chunked\r\n" : "");
	char *body = chunked ? xasprintf("%zx\r\n", len) : NULL;

	if (!chunked) {
		free(head);
		head = xasprintf("POST /api/v3/shaman/files/%s/%ld HTTP/1.1\r\n"
		                 "Host: x\r\nContent-Type: "
		                 "application/octet-stream\r\n"
		                 "Content-Length: %ld\r\n\r\n",
		    sum, size, size);
	}
	raw_send(fd, head, strlen(head));
	if (body != NULL)
		raw_send(fd, body, strlen(body));
	raw_send(fd, data, len);
	if (chunked)
		raw_send(fd, "\r\n", 2);
	free(head);
	free(body);
	return fd;
}

/* Wait (bounded) until shared/REL holds n files. */
static void
wait_files(const char *rel, int n)
{
	int64_t t0 = time_mono_us();

	while (count_files(rel) != n &&
	    time_mono_us() - t0 < 10 * 1000000LL * test_time_scale())
		usleep(10000);
	ck_assert_int_eq(count_files(rel), n);
}

START_TEST(test_client_disconnects)
{
	size_t len = 1 << 20;
	char *data = xmalloc(len), sum[65];
	int fd;

	for (size_t i = 0; i < len; i++)
		data[i] = (char)(i * 31);
	hex_sum(data, len, sum);
	fd = raw_upload_start(sum, (long)len, data, len / 2, false);
	/* The half that came is on disk, not in the store... */
	wait_files("file-store/uploading", 1);
	ck_assert_str_eq(status_of(sum, (long)len), "uploading");
	close(fd);
	/* ...and gone once the client is. */
	wait_files("file-store/uploading", 0);
	ck_assert_int_eq(count_files("file-store/stored"), 0);
	ck_assert_str_eq(status_of(sum, (long)len), "unknown");
	/* A complete upload afterwards works. */
	ck_assert_int_eq(upload(sum, (long)len, data, (long)len, NULL), 204);
	free(data);
}
END_TEST

/*
 * The receive guard: an upload that stalls is cut after
 * http_header_timeout even when it started fast (its leaky bucket never
 * runs ahead of now by more than that), while a big fast one is not.
 */
START_TEST(test_stalled_upload_cut)
{
	size_t len = 48 << 20;
	char *data = xmalloc(len), sum[65], c;
	int fd;
	int64_t t0;

	test_server_stop(&ts);
	test_server_start(&ts, "http_header_timeout = 1s\n");
	for (size_t i = 0; i < len; i++)
		data[i] = (char)(i * 7 + (i >> 16));
	hex_sum(data, len, sum);
	/* Fast: 48 MiB in one go is never cut. */
	fd = raw_upload_start(sum, (long)len, data, len, false);
	ck_assert_int_eq(raw_status(fd), 204);
	close(fd);
	/* A fast start, then silence: cut within the timeout (plus the
	 * guard's tick and grace), and the partial file goes. */
	data[0] ^= 1;
	hex_sum(data, len, sum);
	fd = raw_upload_start(sum, (long)len, data, len / 2, false);
	t0 = time_mono_us();
	ck_assert_int_le(recv(fd, &c, 1, 0), 0); /* EOF or reset */
	ck_assert_int_lt(time_mono_us() - t0, 5000000LL * test_time_scale());
	close(fd);
	wait_files("file-store/uploading", 0);
	ck_assert_str_eq(status_of(sum, (long)len), "unknown");
	free(data);
}
END_TEST

/*
 * A full disk, simulated with a file-size limit (write() then fails
 * with EFBIG, as with ENOSPC): a clear 503 with Retry-After, and
 * nothing stored or left behind. 12 MiB goes through the writer thread.
 */
/*
 * Answers given before the body is read (208 stored already, 417 wrong
 * Content-Length): a client still sending 50 MB reads the status
 * cleanly, not a reset connection.
 */
START_TEST(test_early_reply_big_body)
{
	size_t len = 50 * 1000 * 1000;
	char *data = xmalloc(len), sum[65], other[65];

	for (size_t i = 0; i < len; i++)
		data[i] = (char)(i * 13 + (i >> 12));
	hex_sum(data, len, sum);
	ck_assert_int_eq(upload(sum, (long)len, data, (long)len, NULL), 204);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(
		    upload(sum, (long)len, data, (long)len, NULL), 208);
	/* A client that sends it all before reading, too. */
	{
		int fd = raw_upload_start(sum, (long)len, data, len, false);

		ck_assert_int_eq(raw_status(fd), 208);
		close(fd);
	}
	hex_sum("x", 1, other);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(upload(other, 1, data, (long)len, NULL), 417);
	/* The connection still serves. */
	ck_assert_str_eq(status_of(sum, (long)len), "stored");
	free(data);
}
END_TEST

START_TEST(test_disk_full)
{
	struct rlimit rl = { 4 << 20, 4 << 20 };
	size_t len = 12 << 20;
	char *data = xcalloc(1, len), sum[65], *p;
	struct test_response r;

	hex_sum(data, len, sum);
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	p = xasprintf("/api/v3/shaman/files/%s/%zu", sum, len);
	test_http(&ts, "POST", p, data, (long)len,
	    "Content-Type: application/octet-stream", &r);
	test_assert_error(&r, 503, "disk space");
	ck_assert_ptr_nonnull(strstr(r.headers, "Retry-After"));
	test_response_free(&r);
	ck_assert_int_eq(count_files("file-store"), 0);
	ck_assert_str_eq(status_of(sum, (long)len), "unknown");
	free(p);
	free(data);
}
END_TEST

START_TEST(test_chunked_bodies)
{
	struct file f;
	int fd;

	file_init(&f, "x", "chunked body data");
	/* Truncated: the chunked body ends before the claimed size. */
	fd = raw_upload_start(f.sum, f.size, f.data, 5, true);
	raw_send(fd, "0\r\n\r\n", 5);
	ck_assert_int_eq(raw_status(fd), 417);
	close(fd);
	/* Overlong: more than the claimed size. */
	fd = raw_upload_start(f.sum, 4, f.data, (size_t)f.size, true);
	raw_send(fd, "0\r\n\r\n", 5);
	ck_assert_int_eq(raw_status(fd), 417);
	close(fd);
	wait_files("file-store/uploading", 0);
	ck_assert_int_eq(count_files("file-store/stored"), 0);
	/* Exact. */
	fd = raw_upload_start(f.sum, f.size, f.data, (size_t)f.size, true);
	raw_send(fd, "0\r\n\r\n", 5);
	ck_assert_int_eq(raw_status(fd), 204);
	close(fd);
	ck_assert_int_eq(count_files("file-store/stored"), 1);
}
END_TEST

START_TEST(test_defer_while_another_uploads)
{
	size_t len = 64 * 1024;
	char *data = xmalloc(len), sum[65], *p;
	int fd;

	for (size_t i = 0; i < len; i++)
		data[i] = (char)(i * 13);
	hex_sum(data, len, sum);
	fd = raw_upload_start(sum, (long)len, data, len / 2, false);
	wait_files("file-store/uploading", 1);
	p = xasprintf("/api/v3/shaman/files/%s/%zu", sum, len);
	/* Go's ParseBool: "True", "true", "1", "T" all defer. */
	expect_error("POST", p, data, (long)len,
	    "Content-Type: application/octet-stream\n"
	    "X-Shaman-Can-Defer-Upload: True",
	    425, "uploading");
	expect_error("POST", p, data, (long)len,
	    "Content-Type: application/octet-stream\n"
	    "X-Shaman-Can-Defer-Upload: 1",
	    425, NULL);
	/* Without defer, this upload goes ahead and wins. */
	ck_assert_int_eq(call("POST", p, data, (long)len,
	                     "Content-Type: application/octet-stream\n"
	                     "X-Shaman-Can-Defer-Upload: false",
	                     NULL),
	    204);
	/* The first one finishes too: the file is there already. */
	raw_send(fd, data + len / 2, len - len / 2);
	ck_assert_int_eq(raw_status(fd), 208);
	close(fd);
	wait_files("file-store/uploading", 0);
	ck_assert_int_eq(count_files("file-store/stored"), 1);
	free(p);
	free(data);
}
END_TEST

START_TEST(test_checkout_bad_input)
{
	static const struct {
		const char *body;
		long status;
		const char *needle;
	} cases[] = {
		{ "not json", 400, NULL },
		{ "[]", 400, "files" },
		{ "{\"files\": {}}", 400, "files" },
		{ "{\"files\": [], \"checkoutPath\": 3}", 400, "checkoutPath" },
		{ "{\"files\": []}", 400, "checkoutPath" },
		{ "{\"files\": [], \"checkoutPath\": \"../escape\"}", 400,
		    ".." },
		{ "{\"files\": [], \"checkoutPath\": \"a/../../b\"}", 400,
		    ".." },
		{ "{\"files\": [], \"checkoutPath\": \"/abs\"}", 400, NULL },
		{ "{\"files\": [], \"checkoutPath\": \"a:b\"}", 400, NULL },
		{ "{\"files\": [], \"checkoutPath\": \"a\\\\b\"}", 400, NULL },
		{ "{\"files\": [], \"checkoutPath\": \"a\\u0000b\"}", 400,
		    "NUL" },
		{ "{\"files\": [], \"checkoutPath\": \"\"}", 400, "empty" },
		{ "{\"files\": [{\"sha\": \"x\", \"size\": 1, \"path\": \"a\"}],"
		  " \"checkoutPath\": \"j\"}",
		    400, "sha" },
		{ "{\"files\": [{\"size\": 1, \"path\": \"a\"}],"
		  " \"checkoutPath\": \"j\"}",
		    400, "files[0]" },
	};
	static const char *const bad_paths[] = { "../../etc/passwd",
		"/etc/passwd", "a/../../b", "a\\u0000b", "", "a//b" };
	char sum[65], *body;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_error("POST", "/api/v3/shaman/checkout/create",
		    cases[i].body, -1, NULL, cases[i].status, cases[i].needle);
	hex_sum("x", 1, sum);
	ck_assert_int_eq(upload(sum, 1, "x", 1, NULL), 204);
	for (size_t i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++) {
		body = xasprintf("{\"files\": [{\"sha\": \"%s\", \"size\": 1, "
		                 "\"path\": \"%s\"}], \"checkoutPath\": \"j\"}",
		    sum, bad_paths[i]);
		expect_error("POST", "/api/v3/shaman/checkout/create", body, -1,
		    NULL, 400, "path");
		expect_error("POST", "/api/v3/shaman/checkout/requirements",
		    body, -1, NULL, 400, "path");
		free(body);
	}
	/* A file not stored: 424, and no checkout directory. The stored
	 * one was touched, so GC keeps it while the add-on uploads the
	 * rest. */
	{
		char *rel =
		    xasprintf("file-store/stored/%.2s/%s/1.blob", sum, sum + 2);
		char *blob = shared_path(rel);
		struct timespec old[2] = { { time(NULL) - 7200, 0 },
			{ time(NULL) - 7200, 0 } };
		struct stat st;

		ck_assert_int_eq(utimensat(AT_FDCWD, blob, old, 0), 0);
		body = xasprintf("{\"files\": [{\"sha\": \"%s\", \"size\": 1, "
		                 "\"path\": \"here.png\"}, {\"sha\": \"%s\", "
		                 "\"size\": 2, \"path\": \"missing.png\"}], "
		                 "\"checkoutPath\": \"j\"}",
		    sum, sum);
		expect_error("POST", "/api/v3/shaman/checkout/create", body, -1,
		    NULL, 424, "missing.png");
		free(body);
		ck_assert_int_eq(stat(blob, &st), 0);
		ck_assert_int_gt(st.st_mtime, time(NULL) - 600);
		free(blob);
		free(rel);
	}
	/* Two files at one path. */
	body = xasprintf("{\"files\": [{\"sha\": \"%s\", \"size\": 1, "
	                 "\"path\": \"a\"}, {\"sha\": \"%s\", \"size\": 1, "
	                 "\"path\": \"a\"}], \"checkoutPath\": \"j\"}",
	    sum, sum);
	expect_error("POST", "/api/v3/shaman/checkout/create", body, -1, NULL,
	    400, "clashes");
	free(body);
	ck_assert_int_eq(count_files("jobs"), 0);
	/* Inside another checkout: 409. */
	body = xasprintf("{\"files\": [{\"sha\": \"%s\", \"size\": 1, "
	                 "\"path\": \"a\"}], \"checkoutPath\": \"outer\"}",
	    sum);
	ck_assert_int_eq(call("POST", "/api/v3/shaman/checkout/create", body,
	                     -1, NULL, NULL),
	    200);
	free(body);
	body = xasprintf("{\"files\": [{\"sha\": \"%s\", \"size\": 1, "
	                 "\"path\": \"a\"}], \"checkoutPath\": "
	                 "\"outer/inner\"}",
	    sum);
	expect_error("POST", "/api/v3/shaman/checkout/create", body, -1, NULL,
	    409, "inside another checkout");
	free(body);
	{
		char *jobs = shared_path("jobs/j");

		ck_assert(!exists(jobs));
		free(jobs);
	}
}
END_TEST

START_TEST(test_checkout_100k_files)
{
	enum {
		N = 100000
	};
	json_t *arr = json_array(), *body, *j;
	char sum[65], *text, *p;
	size_t len;

	hex_sum("shared", 6, sum);
	ck_assert_int_eq(upload(sum, 6, "shared", 6, NULL), 204);
	for (int i = 0; i < N; i++) {
		char path[64];

		snprintf(
		    path, sizeof(path), "dir%03d/file%05d.png", i / 1000, i);
		json_array_append_new(arr,
		    json_pack("{s:s, s:i, s:s}", "sha", sum, "size", 6, "path",
		        path));
	}
	body = json_pack("{s:o, s:s}", "files", arr, "checkoutPath", "big");
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	ck_assert_int_eq(call("POST", "/api/v3/shaman/checkout/requirements",
	                     text, -1, NULL, &j),
	    200);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "files")), 0);
	json_decref(j);
	ck_assert_int_eq(
	    call("POST", "/api/v3/shaman/checkout/create", text, -1, NULL, &j),
	    200);
	json_decref(j);
	free(text);
	p = shared_path("jobs/big/dir099/file99999.png");
	text = test_read_file(p, &len);
	ck_assert_str_eq(text, "shared");
	free(text);
	free(p);
}
END_TEST

START_TEST(test_configuration)
{
	json_t *j;
	char *p;

	ck_assert_int_eq(
	    call("GET", "/api/v3/configuration", NULL, 0, NULL, &j), 200);
	ck_assert(json_is_true(json_object_get(j, "shamanEnabled")));
	json_decref(j);
	ck_assert_int_eq(
	    call("GET", "/api/v3/configuration/variables/workers/linux", NULL,
	        0, NULL, &j),
	    200);
	p = shared_path("jobs");
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_object_get(j, "jobs"), "value")),
	    p);
	free(p);
	json_decref(j);
}
END_TEST

START_TEST(test_disabled)
{
	static const char *const zero =
	    "0000000000000000000000000000000000000000000000000000000000000000";
	json_t *j;
	char *p;

	test_server_stop(&ts);
	test_server_start(&ts, "shaman.enabled = false\n");
	p = xasprintf("/api/v3/shaman/files/%s/1", zero);
	expect_error("GET", p, NULL, 0, NULL, 503, "Shaman");
	expect_error("POST", p, "x", 1,
	    "Content-Type: application/octet-stream", 503, "Shaman");
	free(p);
	expect_error("POST", "/api/v3/shaman/checkout/requirements",
	    "{\"files\": []}", -1, NULL, 503, "Shaman");
	expect_error("POST", "/api/v3/shaman/checkout/create",
	    "{\"files\": [], \"checkoutPath\": \"x\"}", -1, NULL, 503,
	    "Shaman");
	ck_assert_int_eq(
	    call("GET", "/api/v3/configuration/shared-storage/users/linux",
	        NULL, 0, NULL, &j),
	    200);
	ck_assert(json_is_false(json_object_get(j, "shamanEnabled")));
	ck_assert_str_eq(json_string_value(json_object_get(j, "location")),
	    ts.cfg->shared_storage_path);
	json_decref(j);
	p = shared_path("file-store");
	ck_assert(!exists(p));
	free(p);
}
END_TEST

START_TEST(test_gc_duty)
{
	struct file keep, drop;
	char *co, *p;

	test_server_stop(&ts);
	test_server_start(&ts,
	    "shaman.garbageCollect.period = 200ms\n"
	    "shaman.garbageCollect.maxAge = 0s\n");
	file_init(&keep, "keep.png", "linked by a checkout");
	file_init(&drop, "drop.png", "linked by nothing");
	ck_assert_int_eq(
	    upload(keep.sum, keep.size, keep.data, keep.size, NULL), 204);
	co = checkout(&keep, 1, "gc");
	ck_assert_int_eq(
	    upload(drop.sum, drop.size, drop.data, drop.size, NULL), 204);
	/* Older than maxAge (0 s) within a second; the duty runs 5x/s. */
	wait_files("file-store/stored", 1);
	ck_assert_str_eq(status_of(keep.sum, keep.size), "stored");
	ck_assert_str_eq(status_of(drop.sum, drop.size), "unknown");
	p = shared_path("jobs/gc/keep.png");
	ck_assert_int_eq(access(p, R_OK), 0);
	free(p);
	free(co);
}
END_TEST

static Suite *
api_shaman_suite(void)
{
	Suite *s = suite_create("api_shaman");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120 * test_time_scale());
	tcase_add_test(tc, test_addon_flow);
	tcase_add_test(tc, test_upload_answers);
	tcase_add_test(tc, test_bad_parameters);
	tcase_add_test(tc, test_client_disconnects);
	tcase_add_test(tc, test_stalled_upload_cut);
	tcase_add_test(tc, test_disk_full);
	tcase_add_test(tc, test_early_reply_big_body);
	tcase_add_test(tc, test_chunked_bodies);
	tcase_add_test(tc, test_defer_while_another_uploads);
	tcase_add_test(tc, test_checkout_bad_input);
	tcase_add_test(tc, test_checkout_100k_files);
	tcase_add_test(tc, test_configuration);
	tcase_add_test(tc, test_disabled);
	tcase_add_test(tc, test_gc_duty);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(api_shaman_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
