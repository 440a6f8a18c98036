/*
 * The web dashboard's files as the server hands them out: the redirect
 * from /, content types, ETag revalidation, gzip only when accepted, no
 * stray paths, and the size budget of the embedded files.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "testutil.h"
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

static const struct embedded_file *
embedded(const char *name)
{
	for (size_t i = 0; i < embedded_web_count; i++)
		if (strcmp(embedded_web[i].name, name) == 0)
			return &embedded_web[i];
	ck_abort_msg("%s is not embedded", name);
	return NULL;
}

/* The value of header name in a raw header block (new string), or NULL. */
static char *
header(const struct test_response *r, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = r->headers; p != NULL && *p != '\0';) {
		const char *end = strstr(p, "\r\n");

		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;

			while (*v == ' ')
				v++;
			return xstrndup(v, end ? (size_t)(end - v) : strlen(v));
		}
		p = end ? end + 2 : NULL;
	}
	return NULL;
}

static void
assert_header(const struct test_response *r, const char *name, const char *want)
{
	char *v = header(r, name);

	ck_assert_msg(v != NULL, "no %s header in\n%s", name, r->headers);
	ck_assert_str_eq(v, want);
	free(v);
}

START_TEST(test_root_redirects)
{
	static const char *const paths[] = { "/", "/app" };
	struct test_response r;

	for (size_t i = 0; i < 2; i++) {
		test_http(&ts, "GET", paths[i], NULL, 0, NULL, &r);
		ck_assert_int_eq(r.status, 307);
		assert_header(&r, "Location", "/app/");
		test_response_free(&r);
	}
}
END_TEST

START_TEST(test_index_identity)
{
	const struct embedded_file *f = embedded("index.html");
	struct test_response r;

	test_http(&ts, "GET", "/app/", NULL, 0, NULL, &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.content_type, "text/html; charset=utf-8");
	ck_assert_ptr_null(header(&r, "Content-Encoding"));
	assert_header(&r, "Cache-Control", "no-cache");
	assert_header(&r, "Vary", "Accept-Encoding");
	ck_assert_uint_eq(r.body_len, f->len);
	ck_assert(memcmp(r.body, f->data, f->len) == 0);
	ck_assert_ptr_nonnull(strstr(r.body, "main.js"));
	test_response_free(&r);
}
END_TEST

START_TEST(test_gzip_when_accepted)
{
	static const struct {
		const char *accept;
		int gzip;
	} cases[] = {
		{ "Accept-Encoding: gzip, deflate, br", 1 },
		{ "Accept-Encoding: br;q=1.0, gzip;q=0.8", 1 },
		{ "Accept-Encoding: *", 1 },
		{ "Accept-Encoding: deflate", 0 },
		{ "Accept-Encoding: gzip;q=0", 0 },
		{ "Accept-Encoding: x-gzip2", 0 },
	};
	const struct embedded_file *gz = embedded("main.js.gz");
	const struct embedded_file *plain = embedded("main.js");
	struct test_response r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *enc, *etag;

		test_http(
		    &ts, "GET", "/app/main.js", NULL, 0, cases[i].accept, &r);
		ck_assert_int_eq(r.status, 200);
		ck_assert_str_eq(
		    r.content_type, "text/javascript; charset=utf-8");
		enc = header(&r, "Content-Encoding");
		etag = header(&r, "ETag");
		ck_assert_ptr_nonnull(etag);
		if (cases[i].gzip) {
			ck_assert_msg(enc != NULL && strcmp(enc, "gzip") == 0,
			    "%s: not gzip", cases[i].accept);
			ck_assert_uint_eq(r.body_len, gz->len);
			ck_assert(memcmp(r.body, gz->data, gz->len) == 0);
			ck_assert_int_eq((unsigned char)r.body[0], 0x1f);
			ck_assert_int_eq((unsigned char)r.body[1], 0x8b);
			ck_assert_str_eq(etag, gz->etag);
		} else {
			ck_assert_msg(
			    enc == NULL, "%s: encoded", cases[i].accept);
			ck_assert_uint_eq(r.body_len, plain->len);
			ck_assert_str_eq(etag, plain->etag);
		}
		free(enc);
		free(etag);
		test_response_free(&r);
	}
	ck_assert_uint_lt(gz->len, plain->len);
	ck_assert_str_ne(gz->etag, plain->etag);
}
END_TEST

START_TEST(test_etag_revalidation)
{
	struct test_response r;
	char *etag, *line;

	test_http(
	    &ts, "GET", "/app/style.css", NULL, 0, "Accept-Encoding: gzip", &r);
	ck_assert_int_eq(r.status, 200);
	ck_assert_str_eq(r.content_type, "text/css; charset=utf-8");
	etag = header(&r, "ETag");
	ck_assert_ptr_nonnull(etag);
	ck_assert(etag[0] == '"' && etag[strlen(etag) - 1] == '"');
	test_response_free(&r);

	line = xasprintf(
	    "Accept-Encoding: gzip\nIf-None-Match: \"nope\", %s", etag);
	test_http(&ts, "GET", "/app/style.css", NULL, 0, line, &r);
	ck_assert_int_eq(r.status, 304);
	ck_assert_uint_eq(r.body_len, 0);
	assert_header(&r, "ETag", etag);
	test_response_free(&r);
	free(line);

	/* The identity copy has its own tag: the gzip one does not match. */
	line = xasprintf("If-None-Match: %s", etag);
	test_http(&ts, "GET", "/app/style.css", NULL, 0, line, &r);
	ck_assert_int_eq(r.status, 200);
	test_response_free(&r);
	free(line);
	free(etag);
}
END_TEST

START_TEST(test_not_found)
{
	static const char *const paths[] = { "/app/nope.js", "/app/main.js.gz",
		"/app/x/main.js", "/app/%2e%2e/api/v3/version", "/index.html" };
	struct test_response r;

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		test_http(&ts, "GET", paths[i], NULL, 0, NULL, &r);
		ck_assert_msg(r.status == 404, "%s: %ld", paths[i], r.status);
		test_response_free(&r);
	}
	test_http(&ts, "POST", "/app/main.js", "{}", -1, NULL, &r);
	test_assert_error(&r, 405, NULL);
	test_response_free(&r);
}
END_TEST

START_TEST(test_every_file_served)
{
	struct test_response r;

	for (size_t i = 0; i < embedded_web_count; i++) {
		const char *name = embedded_web[i].name;
		char *path;

		if (strstr(name, ".gz") != NULL)
			continue;
		path = xasprintf("/app/%s", name);
		test_http(&ts, "HEAD", path, NULL, 0, NULL, &r);
		ck_assert_msg(r.status == 200, "%s: %ld", path, r.status);
		ck_assert_msg(
		    strncmp(r.content_type, "application/octet", 17) != 0,
		    "%s: no content type", path);
		test_response_free(&r);
		free(path);
	}
}
END_TEST

/* What a browser downloads, compressed, stays small. */
START_TEST(test_size_budget)
{
	size_t gz = 0, plain = 0;

	for (size_t i = 0; i < embedded_web_count; i++) {
		if (strstr(embedded_web[i].name, ".gz") != NULL)
			gz += embedded_web[i].len;
		else
			plain += embedded_web[i].len;
	}
	ck_assert_uint_gt(plain, 0);
	ck_assert_msg(gz < 200 * 1024, "dashboard is %zu bytes gzipped", gz);
}
END_TEST

static Suite *
api_web_suite(void)
{
	Suite *s = suite_create("api_web");
	TCase *tc = tcase_create("web");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_root_redirects);
	tcase_add_test(tc, test_index_identity);
	tcase_add_test(tc, test_gzip_when_accepted);
	tcase_add_test(tc, test_etag_revalidation);
	tcase_add_test(tc, test_not_found);
	tcase_add_test(tc, test_every_file_served);
	tcase_add_test(tc, test_size_budget);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(api_web_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
