/*
 * Test helpers shared by every check_*.c binary.
 */
#include "testutil.h"

#include <check.h>
#include <curl/curl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "jobtypes.h"
#include "log.h"
#include "xmalloc.h"

long
test_time_scale(void)
{
	const char *env = getenv("FM_TEST_TIME_SCALE");
	long n = env != NULL ? strtol(env, NULL, 10) : 1;

	return n > 1 ? n : 1;
}

char *
test_tmpdir(void)
{
	char tmpl[] = "/tmp/fm-test-XXXXXX";

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	return xstrdup(tmpl);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
test_rmtree(const char *path)
{
	if (path != NULL)
		nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *
test_write_file(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return path;
}

char *
test_read_file(const char *path, size_t *len_out)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = xmalloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	fclose(f);
	if (len_out != NULL)
		*len_out = (size_t)n;
	return buf;
}

static void
release_kept_compiler(void)
{
	app_keep_compiler(false);
}

/*
 * FM_TEST_KEEP_COMPILER=1 (set by `make valgrind`): one job compiler for
 * all the servers this process starts, see app_keep_compiler().
 */
static void
keep_compiler_once(void)
{
	static bool done;
	const char *env = getenv("FM_TEST_KEEP_COMPILER");

	if (done || env == NULL || strcmp(env, "1") != 0)
		return;
	done = true;
	app_keep_compiler(true);
	atexit(release_kept_compiler);
}

void
test_server_start(struct test_server *ts, const char *extra_conf)
{
	char *conf, *path, *err = NULL;

	keep_compiler_once();
	memset(ts, 0, sizeof(*ts));
	ts->dir = test_tmpdir();
	/* One compiler heap unless a test asks for more: loading a heap is
	 * most of what starting a server costs. The compile time limit is the
	 * default 10 s, stretched under valgrind. */
	conf = xasprintf("listen = 127.0.0.1:0\n"
	                 "database = test.sqlite\n"
	                 "local_manager_storage_path = storage\n"
	                 "shared_storage_path = %s/shared\n"
	                 "log_level = warn\n"
	                 "http_threads = 2\n"
	                 "compiler_heaps = 1\n"
	                 "compile_timeout = %lds\n"
	                 "%s",
	    ts->dir, 10 * test_time_scale(), extra_conf ? extra_conf : "");
	path = test_write_file(ts->dir, "flamenco-manager.conf", conf);
	if (config_load(path, false, &ts->cfg, &err) != FM_OK)
		ck_abort_msg("config: %s", err);
	if (app_start(ts->cfg, &ts->app, &err) != FM_OK)
		ck_abort_msg("app_start: %s", err);
	ts->port = app_port(ts->app);
	/* Under valgrind the first load of the compiler takes longer than a
	 * submission waits for a heap; the kept one is ready at once. */
	if (getenv("FM_TEST_KEEP_COMPILER") != NULL)
		ck_assert_int_eq(
		    jobtypes_wait_ready(ts->app->ctx.jobtypes, 600 * 1000000LL),
		    FM_OK);
	free(conf);
	free(path);
}

void
test_server_stop(struct test_server *ts)
{
	app_stop(ts->app);
	/* Join the log flusher too: a valgrind run sees no thread left. */
	log_shutdown();
	config_free(ts->cfg);
	test_rmtree(ts->dir);
	free(ts->dir);
	memset(ts, 0, sizeof(*ts));
}

struct growbuf {
	char *data;
	size_t len;
};

static size_t
collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct growbuf *b = userdata;
	size_t n = size * nmemb;

	b->data = xrealloc(b->data, b->len + n + 1);
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* One request on handle c; its options are reset, its connections kept. */
static void
perform(CURL *c, const struct test_server *ts, const char *method,
    const char *path, const char *body, long body_len, const char *extra_header,
    struct test_response *resp)
{
	struct growbuf bbuf = { NULL, 0 }, hbuf = { NULL, 0 };
	struct curl_slist *hdrs = NULL;
	char *url = xasprintf("http://127.0.0.1:%d%s", ts->port, path);
	char *ct = NULL;
	CURLcode rc;

	memset(resp, 0, sizeof(*resp));
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
		    body_len < 0 ? (long)strlen(body) : body_len);
		if (extra_header == NULL ||
		    strstr(extra_header, "Content-Type:") == NULL)
			hdrs = curl_slist_append(
			    hdrs, "Content-Type: application/json");
	}
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (extra_header != NULL) {
		char *copy = xstrdup(extra_header), *save = NULL;

		for (char *line = strtok_r(copy, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save))
			hdrs = curl_slist_append(hdrs, line);
		free(copy);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &bbuf);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &hbuf);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L * test_time_scale());
	rc = curl_easy_perform(c);
	ck_assert_msg(
	    rc == CURLE_OK, "%s %s: %s", method, path, curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &resp->connects);
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
	if (ct != NULL)
		snprintf(
		    resp->content_type, sizeof(resp->content_type), "%s", ct);
	resp->body = bbuf.data ? bbuf.data : xstrdup("");
	resp->body_len = bbuf.len;
	resp->headers = hbuf.data ? hbuf.data : xstrdup("");
	curl_slist_free_all(hdrs);
	free(url);
}

void
test_http(const struct test_server *ts, const char *method, const char *path,
    const char *body, long body_len, const char *extra_header,
    struct test_response *resp)
{
	CURL *c = curl_easy_init();

	ck_assert_ptr_nonnull(c);
	perform(c, ts, method, path, body, body_len, extra_header, resp);
	curl_easy_cleanup(c);
}

void
test_client_open(struct test_client *client, const struct test_server *ts)
{
	client->ts = ts;
	client->curl = curl_easy_init();
	ck_assert_ptr_nonnull(client->curl);
}

void
test_client_http(struct test_client *client, const char *method,
    const char *path, const char *body, long body_len, const char *extra_header,
    struct test_response *resp)
{
	perform(client->curl, client->ts, method, path, body, body_len,
	    extra_header, resp);
}

void
test_client_close(struct test_client *client)
{
	curl_easy_cleanup(client->curl);
	client->curl = NULL;
}

void
test_response_free(struct test_response *resp)
{
	free(resp->body);
	free(resp->headers);
	memset(resp, 0, sizeof(*resp));
}

json_t *
test_json(const struct test_response *resp)
{
	json_error_t err;
	json_t *j = json_loads(resp->body, JSON_DECODE_ANY, &err);

	ck_assert_msg(j != NULL, "not JSON (%s): %s", err.text, resp->body);
	ck_assert_msg(strstr(resp->content_type, "json") != NULL,
	    "Content-Type %s is not JSON", resp->content_type);
	return j;
}

void
test_assert_error(
    const struct test_response *resp, long status, const char *needle)
{
	json_t *j;
	const char *msg;

	ck_assert_msg(resp->status == status, "status %ld, expected %ld: %s",
	    resp->status, status, resp->body);
	j = test_json(resp);
	ck_assert_int_eq(
	    json_integer_value(json_object_get(j, "code")), status);
	msg = json_string_value(json_object_get(j, "message"));
	ck_assert_msg(
	    msg != NULL && msg[0] != '\0', "no message: %s", resp->body);
	if (needle != NULL)
		ck_assert_msg(strstr(msg, needle) != NULL,
		    "message \"%s\" lacks \"%s\"", msg, needle);
	json_decref(j);
}

void
test_worker_auth(struct test_worker *w)
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char raw[128];
	char *o;
	size_t n, i;

	n = (size_t)snprintf(
	    (char *)raw, sizeof(raw), "%s:%s", w->uuid, w->secret);
	o = w->auth + sprintf(w->auth, "Authorization: Basic ");
	for (i = 0; i < n; i += 3) {
		unsigned v = (unsigned)raw[i] << 16 |
		    (i + 1 < n ? (unsigned)raw[i + 1] << 8 : 0) |
		    (i + 2 < n ? raw[i + 2] : 0);

		*o++ = b64[v >> 18];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? b64[v & 63] : '=';
	}
	*o = '\0';
}

void
test_worker_register(const struct test_server *ts, struct test_worker *w,
    const char *name, const char *platform, const char *types)
{
	struct test_response r;
	char *body;
	json_t *j;

	for (int i = 0; i < 64; i++)
		w->secret[i] = "0123456789abcdef"[rand() % 16];
	w->secret[64] = '\0';
	body = xasprintf("{\"name\": \"%s\", \"secret\": \"%s\", "
	                 "\"platform\": \"%s\", \"supported_task_types\": "
	                 "[%s]}",
	    name, w->secret, platform, types);
	test_http(
	    ts, "POST", "/api/v3/worker/register-worker", body, -1, NULL, &r);
	ck_assert_msg(
	    r.status == 200, "register-worker: %ld %s", r.status, r.body);
	j = test_json(&r);
	snprintf(w->uuid, sizeof(w->uuid), "%s",
	    json_string_value(json_object_get(j, "uuid")));
	json_decref(j);
	test_response_free(&r);
	free(body);
	test_worker_auth(w);
}
