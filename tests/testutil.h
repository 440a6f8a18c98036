/*
 * Shared test helpers: temporary directories, an in-process Manager on an
 * ephemeral port, and a small libcurl client that returns status, headers
 * and body.
 */
#ifndef FM_TESTUTIL_H
#define FM_TESTUTIL_H

#include <jansson.h>
#include <stddef.h>

struct fm_config;
struct fm_app;

/*
 * FM_TEST_TIME_SCALE (make valgrind sets it, default 1): what safety time
 * limits in tests are multiplied by. Speed checks are skipped instead
 * (Check tag "speed").
 */
long test_time_scale(void);

/* A new empty directory under /tmp; the caller frees the string. */
char *test_tmpdir(void);
/* rm -rf; NULL-safe. */
void test_rmtree(const char *path);
/* Write text to dir/name; returns the new full path. */
char *test_write_file(const char *dir, const char *name, const char *text);
/* Read a whole file; NULL when missing. */
char *test_read_file(const char *path, size_t *len_out);

struct test_server {
	char *dir;
	struct fm_config *cfg;
	struct fm_app *app;
	int port;
};

/*
 * Start a Manager in this process on 127.0.0.1 with a fresh database in a
 * temporary directory. extra_conf holds more config lines (may be NULL).
 * Fails the test on error.
 */
void test_server_start(struct test_server *ts, const char *extra_conf);
void test_server_stop(struct test_server *ts);

struct test_response {
	long status;
	char *body; /* NUL-terminated */
	size_t body_len;
	char *headers; /* raw header block */
	char content_type[128];
	long connects; /* new connections the request opened (0: reused) */
};

/*
 * One HTTP request to the test server. body may be NULL; body_len -1 means
 * strlen(body). extra_header (may be NULL) holds "Name: value" lines
 * separated by newlines; a Content-Type there replaces the JSON one.
 */
void test_http(const struct test_server *ts, const char *method,
    const char *path, const char *body, long body_len, const char *extra_header,
    struct test_response *resp);
void test_response_free(struct test_response *resp);

/*
 * A client that keeps its connection between requests, as a browser or a
 * Worker does. On one connection the server finishes a request
 * (including its completion bookkeeping, such as metrics) before it
 * reads the next, so a request sees everything the earlier ones did.
 */
struct test_client {
	const struct test_server *ts;
	void *curl; /* CURL * */
};

void test_client_open(struct test_client *client, const struct test_server *ts);
void test_client_http(struct test_client *client, const char *method,
    const char *path, const char *body, long body_len, const char *extra_header,
    struct test_response *resp);
void test_client_close(struct test_client *client);

/* Parse the response body as JSON, failing the test when it is not. */
json_t *test_json(const struct test_response *resp);

/* Assert an error reply: the status, a JSON body with code == status and
 * a message containing needle (NULL: any non-empty message). */
void test_assert_error(
    const struct test_response *resp, long status, const char *needle);

/* A simulated worker's credentials and its ready-made auth header line. */
struct test_worker {
	char uuid[37];
	char secret[65];
	char auth[200]; /* "Authorization: Basic ..." */
};

/*
 * Register a worker with a fresh random secret (platform and the inside
 * of the supported_task_types JSON array as given) and fill w. Fails the
 * test unless the Manager answers 200.
 */
void test_worker_register(const struct test_server *ts, struct test_worker *w,
    const char *name, const char *platform, const char *types);

/* Recompute w->auth from w->uuid and w->secret (after changing them). */
void test_worker_auth(struct test_worker *w);

#endif
