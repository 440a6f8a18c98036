/*
 * API tests for last-rendered images: a worker uploads real JPEG and PNG
 * renders to taskOutputProduced, and fetchJobLastRenderedInfo and
 * fetchGlobalLastRenderedInfo point at three thumbnails of the right
 * sizes under /job-files/. Bad uploads get a 4xx or, when only decoding
 * finds the fault, leave the thumbnails as they were; a full queue gets
 * 429.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "lastrendered.h"
#include "testimg.h"
#include "testutil.h"
#include "xmalloc.h"

static struct test_server ts;
static struct test_worker worker;
static char *job;     /* a job whose task the worker holds */
static char *task;    /* that task */
static char *upload;  /* its output-produced path */
static char *jpg_hdr; /* worker auth + Content-Type: image/jpeg */
static char *png_hdr; /* ... image/png */

static long
call(const char *method, const char *path, const char *body, long len,
    const char *hdr, json_t **json_out)
{
	struct test_response r;
	long status;

	test_http(&ts, method, path, body, len, hdr, &r);
	status = r.status;
	if (json_out != NULL)
		*json_out = r.body_len ? test_json(&r) : NULL;
	test_response_free(&r);
	return status;
}

static void
setup(void)
{
	const char *body =
	    "{\"name\": \"render\", \"type\": \"echo-sleep-test\", "
	    "\"priority\": 50, \"submitter_platform\": \"linux\", "
	    "\"settings\": {\"message\": \"hi\", "
	    "\"sleep_duration_seconds\": 1, \"sleep_repeats\": 1}}";
	json_t *j;

	test_server_start(&ts, NULL);
	ck_assert_int_eq(call("POST", "/api/v3/jobs", body, -1, NULL, &j), 200);
	job = xstrdup(json_string_value(json_object_get(j, "id")));
	json_decref(j);
	test_worker_register(&ts, &worker, "w", "linux", "\"misc\"");
	ck_assert_int_eq(call("POST", "/api/v3/worker/sign-on",
	                     "{\"name\": \"w\", \"supported_task_types\": "
	                     "[\"misc\"], \"software_version\": \"3.9\"}",
	                     -1, worker.auth, NULL),
	    200);
	ck_assert_int_eq(call("POST", "/api/v3/worker/state-changed",
	                     "{\"status\": \"awake\"}", -1, worker.auth, NULL),
	    204);
	ck_assert_int_eq(
	    call("POST", "/api/v3/worker/task", NULL, -1, worker.auth, &j),
	    200);
	task = xstrdup(json_string_value(json_object_get(j, "uuid")));
	json_decref(j);
	upload = xasprintf("/api/v3/worker/task/%s/output-produced", task);
	jpg_hdr = xasprintf("%s\nContent-Type: image/jpeg", worker.auth);
	png_hdr = xasprintf("%s\nContent-Type: image/png", worker.auth);
}

static void
teardown(void)
{
	test_server_stop(&ts);
	free(job);
	free(task);
	free(upload);
	free(jpg_hdr);
	free(png_hdr);
}

/* GET the job's last-rendered info until it is 200 (10 s at most). */
static json_t *
wait_info(void)
{
	char *path = xasprintf("/api/v3/jobs/%s/last-rendered", job);
	struct timespec pause = { .tv_nsec = 10 * 1000000L };
	json_t *j = NULL;

	for (int i = 0; i < 1000; i++) {
		long s = call("GET", path, NULL, 0, NULL, &j);

		if (s == 200)
			break;
		ck_assert_int_eq(s, 204);
		nanosleep(&pause, NULL);
	}
	ck_assert_ptr_nonnull(j);
	free(path);
	return j;
}

/* Fetch base/name over HTTP as a JPEG and check its size. */
static void
check_file(const char *base, const char *name, int w, int h)
{
	char *path = xasprintf("%s/%s", base, name);
	struct test_response r;
	unsigned char *rgb;
	int dw, dh;

	test_http(&ts, "GET", path, NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.content_type, "image/jpeg");
	rgb = testimg_decode_jpeg(r.body, r.body_len, &dw, &dh);
	ck_assert_msg(
	    dw == w && dh == h, "%s is %dx%d, want %dx%d", name, dw, dh, w, h);
	free(rgb);
	test_response_free(&r);
	free(path);
}

static void
check_info(json_t *info, int w0, int h0, int w1, int h1, int w2, int h2)
{
	char *base = xasprintf("/job-files/job-%.4s/%s", job, job);
	json_t *suffixes = json_object_get(info, "suffixes");

	ck_assert_str_eq(
	    json_string_value(json_object_get(info, "base")), base);
	ck_assert_int_eq(json_array_size(suffixes), 3);
	ck_assert_str_eq(json_string_value(json_array_get(suffixes, 0)),
	    "last-rendered.jpg");
	ck_assert_str_eq(json_string_value(json_array_get(suffixes, 1)),
	    "last-rendered-small.jpg");
	ck_assert_str_eq(json_string_value(json_array_get(suffixes, 2)),
	    "last-rendered-tiny.jpg");
	check_file(base, "last-rendered.jpg", w0, h0);
	check_file(base, "last-rendered-small.jpg", w1, h1);
	check_file(base, "last-rendered-tiny.jpg", w2, h2);
	free(base);
}

START_TEST(test_jpeg_then_png)
{
	unsigned char *rgb = testimg_pattern(1920, 1080), *jpeg, *png, *rgba;
	size_t len;
	json_t *j;

	ck_assert_int_eq(
	    call("GET", "/api/v3/jobs/last-rendered", NULL, 0, NULL, NULL),
	    204);
	jpeg = testimg_jpeg(rgb, 1920, 1080, TESTIMG_RGB, false, &len);
	ck_assert_int_eq(
	    call("POST", upload, (char *)jpeg, (long)len, jpg_hdr, NULL), 202);
	j = wait_info();
	check_info(j, 1920, 1080, 600, 338, 199, 112);
	json_decref(j);
	ck_assert_int_eq(
	    call("GET", "/api/v3/jobs/last-rendered", NULL, 0, NULL, &j), 200);
	check_info(j, 1920, 1080, 600, 338, 199, 112);
	json_decref(j);

	/* A tall PNG with alpha replaces them. */
	rgba = xcalloc((size_t)1000 * 2000, 4);
	png = testimg_png(rgba, 1000, 2000, 6, 8, false, &len);
	ck_assert_int_eq(
	    call("POST", upload, (char *)png, (long)len, png_hdr, NULL), 202);
	lastrendered_drain(ts.app->ctx.lastrendered);
	j = wait_info();
	check_info(j, 540, 1080, 169, 338, 56, 112);
	json_decref(j);
	free(png);
	free(rgba);
	free(jpeg);
	free(rgb);
}
END_TEST

static void
expect_refused(const char *body, long len, const char *hdr, long status,
    const char *needle)
{
	struct test_response r;

	test_http(&ts, "POST", upload, body, len, hdr, &r);
	test_assert_error(&r, status, needle);
	test_response_free(&r);
}

/* Refused at upload, from the bytes and the header alone. */
START_TEST(test_refused_at_upload)
{
	unsigned char *rgb = testimg_pattern(64, 64), *jpeg, *png;
	size_t len, plen;
	char *path;

	expect_refused("\xff\xd8\xff\xe0 jpeg", -1, jpg_hdr, 400, "bad JPEG");
	expect_refused("just some text", -1, jpg_hdr, 400, "not a JPEG or PNG");
	expect_refused("GIF89a", -1, png_hdr, 400, "not a JPEG or PNG");
	jpeg = testimg_jpeg(rgb, 64, 64, TESTIMG_RGB, false, &len);
	expect_refused((char *)jpeg, (long)len, png_hdr, 400,
	    "Content-Type says image/png but the body is a JPEG image");
	png = testimg_png_header(30000, 30000, false, &plen);
	expect_refused((char *)png, (long)plen, png_hdr, 413, "30000x30000");
	free(png);
	png = testimg_png_header(100, 100, false, &plen);
	expect_refused((char *)png, (long)plen, jpg_hdr, 400,
	    "Content-Type says image/jpeg but the body is a PNG image");
	free(png);
	path = xasprintf("/api/v3/worker/task/%s/output-produced",
	    "00000000-0000-4000-8000-000000000000");
	{
		struct test_response r;

		test_http(
		    &ts, "POST", path, (char *)jpeg, (long)len, jpg_hdr, &r);
		test_assert_error(&r, 404, NULL);
		test_response_free(&r);
	}
	free(path);
	lastrendered_drain(ts.app->ctx.lastrendered);
	ck_assert_int_eq(
	    call("GET", "/api/v3/jobs/last-rendered", NULL, 0, NULL, NULL),
	    204);
	free(jpeg);
	free(rgb);
}
END_TEST

/* Faults only decoding finds: logged, and the old thumbnails stay. */
START_TEST(test_bad_image_keeps_thumbnails)
{
	unsigned char *rgb = testimg_pattern(800, 600), *jpeg, *png;
	char *file = xasprintf(
	    "%s/storage/job-%.4s/%s/last-rendered-tiny.jpg", ts.dir, job, job);
	char *before, *after;
	size_t len, blen, alen, plen;
	json_t *j;

	jpeg = testimg_jpeg(rgb, 800, 600, TESTIMG_RGB, false, &len);
	ck_assert_int_eq(
	    call("POST", upload, (char *)jpeg, (long)len, jpg_hdr, NULL), 202);
	json_decref(wait_info());
	before = test_read_file(file, &blen);
	ck_assert_ptr_nonnull(before);

	/* Truncated JPEG, truncated PNG: their headers are fine. */
	ck_assert_int_eq(
	    call("POST", upload, (char *)jpeg, (long)len / 2, jpg_hdr, NULL),
	    202);
	png = testimg_png_header(640, 480, false, &plen);
	ck_assert_int_eq(
	    call("POST", upload, (char *)png, (long)plen, png_hdr, NULL), 202);
	lastrendered_drain(ts.app->ctx.lastrendered);
	after = test_read_file(file, &alen);
	ck_assert_uint_eq(alen, blen);
	ck_assert(memcmp(before, after, blen) == 0);
	j = wait_info();
	check_info(j, 800, 600, 451, 338, 149, 112);
	json_decref(j);
	free(before);
	free(after);
	free(png);
	free(jpeg);
	free(rgb);
	free(file);
}
END_TEST

/*
 * The queue holds LASTRENDERED_QUEUE images besides the one being made.
 * The thread is held up by a FIFO where it writes its first file: its
 * open() waits for a reader.
 */
START_TEST(test_queue_full)
{
	unsigned char *rgb = testimg_pattern(320, 180), *jpeg;
	char *dir = xasprintf("%s/storage/job-%.4s", ts.dir, job);
	char *fifo, *big;
	struct stat st;
	char buf[4096];
	size_t len;
	int fd, accepted = 0;

	/* The job's directory may exist already, for its task logs. */
	ck_assert(mkdir(dir, 0755) == 0 || errno == EEXIST);
	free(dir);
	dir = xasprintf("%s/storage/job-%.4s/%s", ts.dir, job, job);
	ck_assert(mkdir(dir, 0755) == 0 || errno == EEXIST);
	fifo = xasprintf("%s/last-rendered.jpg.tmp", dir);
	big = xasprintf("%s/last-rendered.jpg", dir);
	ck_assert_int_eq(mkfifo(fifo, 0644), 0);

	jpeg = testimg_jpeg(rgb, 320, 180, TESTIMG_RGB, false, &len);
	/*
	 * The first image is taken by the thread, which then blocks, and
	 * LASTRENDERED_QUEUE more wait; one fewer if the thread had not
	 * taken the first when the queue filled.
	 */
	for (;;) {
		struct test_response r;

		test_http(
		    &ts, "POST", upload, (char *)jpeg, (long)len, jpg_hdr, &r);
		if (r.status != 202) {
			test_assert_error(&r, 429, "too many images");
			test_response_free(&r);
			break;
		}
		test_response_free(&r);
		accepted++;
		ck_assert_int_le(accepted, LASTRENDERED_QUEUE + 1);
	}
	ck_assert_int_ge(accepted, LASTRENDERED_QUEUE);
	/* Let the thread go: read what it writes into the FIFO. */
	fd = open(fifo, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	lastrendered_drain(ts.app->ctx.lastrendered);
	/* The FIFO became last-rendered.jpg; later images replaced it. */
	ck_assert_int_eq(stat(big, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	json_decref(wait_info());
	ck_assert_int_eq(
	    call("POST", upload, (char *)jpeg, (long)len, jpg_hdr, NULL), 202);
	free(jpeg);
	free(rgb);
	free(fifo);
	free(big);
	free(dir);
}
END_TEST

/*
 * A job deleted around an upload gets no files: the upload is refused
 * once the deleter removed the task, else its thumbnails are removed
 * when the job turns out to be going.
 */
START_TEST(test_deleted_job)
{
	unsigned char *rgb = testimg_pattern(320, 180), *jpeg;
	char *path = xasprintf("/api/v3/jobs/%s", job);
	char *tiny = xasprintf(
	    "%s/storage/job-%.4s/%s/last-rendered-tiny.jpg", ts.dir, job, job);
	struct timespec pause = { .tv_nsec = 10 * 1000000L };
	size_t len;
	long s;

	jpeg = testimg_jpeg(rgb, 320, 180, TESTIMG_RGB, false, &len);
	ck_assert_int_eq(call("DELETE", path, NULL, 0, NULL, NULL), 204);
	s = call("POST", upload, (char *)jpeg, (long)len, jpg_hdr, NULL);
	ck_assert_msg(s == 202 || s == 404, "upload: %ld", s);
	lastrendered_drain(ts.app->ctx.lastrendered);
	for (int i = 0; i < 1000; i++) {
		if (call("GET", path, NULL, 0, NULL, NULL) == 404)
			break;
		nanosleep(&pause, NULL);
	}
	ck_assert_int_eq(call("GET", path, NULL, 0, NULL, NULL), 404);
	ck_assert_int_ne(access(tiny, F_OK), 0);
	ck_assert_int_eq(
	    call("GET", "/api/v3/jobs/last-rendered", NULL, 0, NULL, NULL),
	    204);
	free(jpeg);
	free(rgb);
	free(path);
	free(tiny);
}
END_TEST

static Suite *
lastrendered_suite(void)
{
	Suite *s = suite_create("api_lastrendered");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_jpeg_then_png);
	tcase_add_test(tc, test_refused_at_upload);
	tcase_add_test(tc, test_bad_image_keeps_thumbnails);
	tcase_add_test(tc, test_queue_full);
	tcase_add_test(tc, test_deleted_job);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(lastrendered_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
