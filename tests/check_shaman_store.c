/*
 * The Shaman file store on disk: SHA-256 (both code paths agree with
 * known sums), uploads published atomically, identical uploads at once,
 * lying sizes and checksums, truncated bodies, path rules, checkouts,
 * their removal and garbage collection, and RFC 2047 file names.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rfc2047.h"
#include "sha256.h"
#include "shaman_checkout.h"
#include "shaman_store.h"
#include "testutil.h"
#include "xmalloc.h"

static char *tmp;
static struct shaman_store *store;

static void
setup(void)
{
	char *err = NULL;

	tmp = test_tmpdir();
	ck_assert_int_eq(shaman_store_open(tmp, &store, &err), FM_OK);
}

static void
teardown(void)
{
	shaman_store_free(store);
	test_rmtree(tmp);
	free(tmp);
}

static void
hex_sum(const void *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[SHA256_DIGEST_LEN];
	struct sha256_ctx c;

	sha256_init(&c);
	sha256_update(&c, data, len);
	sha256_final(&c, d);
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[64] = '\0';
}

/* Files in a directory (not . and ..), recursively. */
static int
count_files(const char *dir)
{
	char *cmd = xasprintf("find '%s' -type f | wc -l", dir);
	FILE *p = popen(cmd, "r");
	int n = -1;

	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(fscanf(p, "%d", &n), 1);
	pclose(p);
	free(cmd);
	return n;
}

static void sha256_known(void);

START_TEST(test_sha256_known)
{
	sha256_known();
}
END_TEST

/* Each test runs in a child of its own: the choice made here is its. */
START_TEST(test_sha256_portable)
{
	setenv("FM_SHA256_PORTABLE", "1", 1);
	sha256_known();
}
END_TEST

static void
sha256_known(void)
{
	char sum[65];
	char *big = xmalloc(1000000);

	hex_sum("", 0, sum);
	ck_assert_str_eq(sum,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hex_sum("abc", 3, sum);
	ck_assert_str_eq(sum,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	memset(big, 'a', 1000000);
	hex_sum(big, 1000000, sum);
	ck_assert_str_eq(sum,
	    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	/* Byte by byte: the partial-block path. */
	{
		struct sha256_ctx c;
		unsigned char d[32];
		char sum2[65];

		sha256_init(&c);
		for (int i = 0; i < 1000; i++)
			sha256_update(&c, big, 1);
		sha256_final(&c, d);
		hex_sum(big, 1000, sum);
		for (int i = 0; i < 32; i++)
			snprintf(sum2 + 2 * i, 3, "%02x", d[i]);
		ck_assert_str_eq(sum, sum2);
	}
	free(big);
}

/* Upload data in chunks; returns the finish result. */
static enum shaman_result
upload(const char *sum, int64_t size, const char *data, size_t len)
{
	struct shaman_upload *up = NULL;
	enum shaman_result res = SHAMAN_STORED;
	bool nospace;

	ck_assert_int_eq(
	    shaman_upload_begin(store, sum, size, &up, &nospace), FM_OK);
	for (size_t off = 0; off < len && res == SHAMAN_STORED; off += 7)
		res = shaman_upload_write(
		    up, data + off, len - off < 7 ? len - off : 7);
	if (res == SHAMAN_STORED)
		res = shaman_upload_finish(up);
	shaman_upload_free(up);
	return res;
}

START_TEST(test_upload_and_status)
{
	const char *data = "hello, Shaman";
	char sum[65], *blob, *stored;
	size_t len;

	hex_sum(data, strlen(data), sum);
	ck_assert_int_eq(
	    shaman_store_status(store, sum, 13, false), SHAMAN_STATUS_UNKNOWN);
	ck_assert_int_eq(upload(sum, 13, data, 13), SHAMAN_STORED);
	ck_assert_int_eq(
	    shaman_store_status(store, sum, 13, false), SHAMAN_STATUS_STORED);
	/* Size is part of the address. */
	ck_assert_int_eq(
	    shaman_store_status(store, sum, 14, false), SHAMAN_STATUS_UNKNOWN);
	blob = shaman_store_blob_path(store, sum, 13);
	ck_assert(strstr(blob, "/file-store/stored/") != NULL);
	ck_assert(strstr(blob, "/13.blob") != NULL);
	stored = test_read_file(blob, &len);
	ck_assert_uint_eq(len, 13);
	ck_assert_mem_eq(stored, data, 13);
	/* Again: known, still one copy, no temp file left. */
	ck_assert_int_eq(upload(sum, 13, data, 13), SHAMAN_KNOWN);
	ck_assert_int_eq(count_files(shaman_store_stored_dir(store)), 1);
	ck_assert_int_eq(count_files(shaman_store_uploading_dir(store)), 0);
	free(stored);
	free(blob);
}
END_TEST

START_TEST(test_upper_case_checksum)
{
	const char *data = "case";
	char sum[65], upper[65];

	hex_sum(data, 4, sum);
	for (int i = 0; i < 65; i++)
		upper[i] = (sum[i] >= 'a' && sum[i] <= 'f')
		    ? (char)(sum[i] - 32)
		    : sum[i];
	ck_assert_int_eq(upload(upper, 4, data, 4), SHAMAN_STORED);
	ck_assert_int_eq(
	    shaman_store_status(store, sum, 4, false), SHAMAN_STATUS_STORED);
}
END_TEST

START_TEST(test_lying_uploads)
{
	const char *data = "0123456789";
	char sum[65], other[65];

	hex_sum(data, 10, sum);
	hex_sum("x", 1, other);
	/* Wrong checksum. */
	ck_assert_int_eq(upload(other, 10, data, 10), SHAMAN_MISMATCH);
	/* Claimed size smaller than the data. */
	ck_assert_int_eq(upload(sum, 5, data, 10), SHAMAN_MISMATCH);
	/* Truncated: fewer bytes than claimed. */
	ck_assert_int_eq(upload(sum, 10, data, 6), SHAMAN_MISMATCH);
	ck_assert_int_eq(count_files(shaman_store_stored_dir(store)), 0);
	ck_assert_int_eq(count_files(shaman_store_uploading_dir(store)), 0);
	ck_assert_int_eq(
	    shaman_store_status(store, sum, 10, false), SHAMAN_STATUS_UNKNOWN);
}
END_TEST

START_TEST(test_uploading_status_and_abort)
{
	char sum[65];
	struct shaman_upload *up = NULL;
	bool nospace;

	hex_sum("abc", 3, sum);
	ck_assert_int_eq(
	    shaman_upload_begin(store, sum, 3, &up, &nospace), FM_OK);
	ck_assert_int_eq(shaman_upload_write(up, "ab", 2), SHAMAN_STORED);
	ck_assert_int_eq(
	    shaman_store_status(store, sum, 3, false), SHAMAN_STATUS_UPLOADING);
	ck_assert_int_eq(count_files(shaman_store_uploading_dir(store)), 1);
	/* The client went away: freed without finishing. */
	shaman_upload_free(up);
	ck_assert_int_eq(count_files(shaman_store_uploading_dir(store)), 0);
	ck_assert_int_eq(
	    shaman_store_status(store, sum, 3, false), SHAMAN_STATUS_UNKNOWN);
}
END_TEST

struct racer {
	const char *sum;
	const char *data;
	size_t len;
	pthread_barrier_t *barrier;
	enum shaman_result res;
};

static void *
race_upload(void *arg)
{
	struct racer *r = arg;
	struct shaman_upload *up = NULL;
	bool nospace;

	if (shaman_upload_begin(
	        store, r->sum, (int64_t)r->len, &up, &nospace) != FM_OK) {
		r->res = SHAMAN_IO;
		return NULL;
	}
	for (size_t off = 0; off < r->len; off += 4096)
		shaman_upload_write(up, r->data + off,
		    r->len - off < 4096 ? r->len - off : 4096);
	pthread_barrier_wait(r->barrier); /* both finish together */
	r->res = shaman_upload_finish(up);
	shaman_upload_free(up);
	return NULL;
}

START_TEST(test_concurrent_identical_uploads)
{
	size_t len = 1 << 20;
	char *data = xmalloc(len), sum[65];
	pthread_barrier_t barrier;
	struct racer r[2];
	pthread_t t[2];

	for (size_t i = 0; i < len; i++)
		data[i] = (char)(i * 7);
	hex_sum(data, len, sum);
	pthread_barrier_init(&barrier, NULL, 2);
	for (int i = 0; i < 2; i++) {
		r[i] = (struct racer){ sum, data, len, &barrier, SHAMAN_IO };
		pthread_create(&t[i], NULL, race_upload, &r[i]);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	/* One made it, the other found it: both succeed. */
	ck_assert((r[0].res == SHAMAN_STORED && r[1].res == SHAMAN_KNOWN) ||
	    (r[0].res == SHAMAN_KNOWN && r[1].res == SHAMAN_STORED));
	ck_assert_int_eq(count_files(shaman_store_stored_dir(store)), 1);
	ck_assert_int_eq(count_files(shaman_store_uploading_dir(store)), 0);
	pthread_barrier_destroy(&barrier);
	free(data);
}
END_TEST

START_TEST(test_file_size_limit)
{
	/* A file-size limit makes write() fail with EFBIG, like a full
	 * disk: the upload fails as "no space" and leaves nothing. */
	struct rlimit rl = { 64 * 1024, 64 * 1024 };
	size_t len = 256 * 1024;
	char *data = xcalloc(1, len), sum[65];

	hex_sum(data, len, sum);
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	ck_assert_int_eq(upload(sum, (int64_t)len, data, len), SHAMAN_NOSPACE);
	ck_assert_int_eq(count_files(shaman_store_stored_dir(store)), 0);
	ck_assert_int_eq(count_files(shaman_store_uploading_dir(store)), 0);
	free(data);
}
END_TEST

/* Big uploads go through the writer thread: the same guarantees. */
START_TEST(test_big_upload)
{
	size_t len = 20 * 1024 * 1024 + 123;
	char *data = xmalloc(len), sum[65], *blob, *back;
	struct shaman_upload *up = NULL;
	size_t blen;
	bool nospace;

	for (size_t i = 0; i < len; i++)
		data[i] = (char)(i * 2654435761u >> 13);
	hex_sum(data, len, sum);
	ck_assert_int_eq(
	    shaman_upload_begin(store, sum, (int64_t)len, &up, &nospace),
	    FM_OK);
	for (size_t off = 0; off < len; off += 16000)
		ck_assert_int_eq(shaman_upload_write(up, data + off,
		                     len - off < 16000 ? len - off : 16000),
		    SHAMAN_STORED);
	ck_assert_int_eq(shaman_upload_finish(up), SHAMAN_STORED);
	shaman_upload_free(up);
	blob = shaman_store_blob_path(store, sum, (int64_t)len);
	back = test_read_file(blob, &blen);
	ck_assert_uint_eq(blen, len);
	ck_assert(memcmp(back, data, len) == 0);
	/* A lie in the last byte, and an upload abandoned halfway. */
	data[len - 1] ^= 1;
	ck_assert_int_eq(
	    shaman_upload_begin(store, sum, (int64_t)len, &up, &nospace),
	    FM_OK);
	for (size_t off = 0; off < len; off += 16000)
		ck_assert_int_eq(shaman_upload_write(up, data + off,
		                     len - off < 16000 ? len - off : 16000),
		    SHAMAN_STORED);
	ck_assert_int_eq(shaman_upload_finish(up), SHAMAN_MISMATCH);
	shaman_upload_free(up);
	ck_assert_int_eq(
	    shaman_upload_begin(store, sum, (int64_t)len + 1, &up, &nospace),
	    FM_OK);
	ck_assert_int_eq(shaman_upload_write(up, data, len / 2), SHAMAN_STORED);
	shaman_upload_free(up);
	ck_assert_int_eq(count_files(shaman_store_stored_dir(store)), 1);
	ck_assert_int_eq(count_files(shaman_store_uploading_dir(store)), 0);
	free(back);
	free(blob);
	free(data);
}
END_TEST

/*
 * More big uploads at once than get a writer thread: four do, the rest
 * write on the caller's thread, and all store the right bytes. An
 * abandoned upload gives its thread back.
 */
START_TEST(test_writer_thread_cap)
{
	enum {
		N = 6
	};
	size_t len = 8 * 1024 * 1024;
	char *data[N], sum[N][65];
	struct shaman_upload *up[N], *extra = NULL;
	bool nospace;

	for (int i = 0; i < N; i++) {
		data[i] = xmalloc(len + (size_t)i);
		for (size_t j = 0; j < len + (size_t)i; j++)
			data[i][j] =
			    (char)((j + (size_t)i) * 2654435761u >> 13);
		hex_sum(data[i], len + (size_t)i, sum[i]);
		ck_assert_int_eq(
		    shaman_upload_begin(store, sum[i],
		        (int64_t)(len + (size_t)i), &up[i], &nospace),
		    FM_OK);
	}
	ck_assert_uint_eq(shaman_store_writer_threads(store), 4);
	/* Interleaved, as concurrent requests would arrive. */
	for (size_t off = 0; off < len + N; off += 65536)
		for (int i = 0; i < N; i++) {
			size_t total = len + (size_t)i, n;

			if (off >= total)
				continue;
			n = total - off < 65536 ? total - off : 65536;
			ck_assert_int_eq(
			    shaman_upload_write(up[i], data[i] + off, n),
			    SHAMAN_STORED);
		}
	for (int i = 0; i < N; i++) {
		char *blob, *back;
		size_t blen;

		ck_assert_int_eq(shaman_upload_finish(up[i]), SHAMAN_STORED);
		shaman_upload_free(up[i]);
		blob = shaman_store_blob_path(
		    store, sum[i], (int64_t)(len + (size_t)i));
		back = test_read_file(blob, &blen);
		ck_assert_uint_eq(blen, len + (size_t)i);
		ck_assert(memcmp(back, data[i], blen) == 0);
		free(back);
		free(blob);
	}
	ck_assert_uint_eq(shaman_store_writer_threads(store), 0);
	ck_assert_int_eq(shaman_upload_begin(
	                     store, sum[0], (int64_t)len + 7, &extra, &nospace),
	    FM_OK);
	ck_assert_uint_eq(shaman_store_writer_threads(store), 1);
	shaman_upload_free(extra);
	ck_assert_uint_eq(shaman_store_writer_threads(store), 0);
	for (int i = 0; i < N; i++)
		free(data[i]);
}
END_TEST

START_TEST(test_big_upload_file_size_limit)
{
	struct rlimit rl = { 1024 * 1024, 1024 * 1024 };
	size_t len = 16 * 1024 * 1024;
	char *data = xcalloc(1, len), sum[65];
	struct shaman_upload *up = NULL;
	enum shaman_result res = SHAMAN_STORED;
	bool nospace;

	hex_sum(data, len, sum);
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	ck_assert_int_eq(
	    shaman_upload_begin(store, sum, (int64_t)len, &up, &nospace),
	    FM_OK);
	for (size_t off = 0; off < len && res == SHAMAN_STORED; off += 65536)
		res = shaman_upload_write(up, data + off, 65536);
	if (res == SHAMAN_STORED)
		res = shaman_upload_finish(up);
	ck_assert_int_eq(res, SHAMAN_NOSPACE);
	shaman_upload_free(up);
	ck_assert_int_eq(count_files(shaman_store_stored_dir(store)), 0);
	ck_assert_int_eq(count_files(shaman_store_uploading_dir(store)), 0);
	free(data);
}
END_TEST

START_TEST(test_bigger_than_disk)
{
	char sum[65];
	struct shaman_upload *up = NULL;
	bool nospace = false;

	hex_sum("", 0, sum);
	ck_assert_int_eq(
	    shaman_upload_begin(store, sum, INT64_MAX / 2, &up, &nospace),
	    FM_ERR_IO);
	ck_assert(nospace);
	ck_assert_ptr_null(up);
	ck_assert_int_eq(count_files(shaman_store_uploading_dir(store)), 0);
}
END_TEST

START_TEST(test_checkout_path_rules)
{
	static const char *const good[] = { "job", "proj/shot 1",
		"Ünïcode/naam", "a.b/c..d", "a/.hidden" };
	static const char *const bad[] = { "", "/abs", "../up", "a/../b",
		"a/..", "..", "a/b/..", "a?b", "a*b", "a:b", "a;b", "a{b",
		"a}b", "a\\b", "a//b", "a/./b", "a/" };
	const char *why;

	for (size_t i = 0; i < nitems(good); i++)
		ck_assert_msg(
		    shaman_checkout_path_valid(good[i], strlen(good[i]), &why),
		    "%s refused", good[i]);
	for (size_t i = 0; i < nitems(bad); i++) {
		ck_assert_msg(
		    !shaman_checkout_path_valid(bad[i], strlen(bad[i]), &why),
		    "%s taken", bad[i]);
		ck_assert_ptr_nonnull(why);
	}
	ck_assert(!shaman_checkout_path_valid("a\0b", 3, &why));
}
END_TEST

START_TEST(test_file_path_rules)
{
	static const char *const good[] = { "x.blend", "tex/wood.png",
		"a b/ü.exr", "..x", "x.." };
	static const char *const bad[] = { "", "/etc/passwd", "../x", "a/../b",
		"a/..", "a//b", "./x", "a/" };
	const char *why;

	for (size_t i = 0; i < nitems(good); i++)
		ck_assert_msg(
		    shaman_file_path_valid(good[i], strlen(good[i]), &why),
		    "%s refused", good[i]);
	for (size_t i = 0; i < nitems(bad); i++)
		ck_assert_msg(
		    !shaman_file_path_valid(bad[i], strlen(bad[i]), &why),
		    "%s taken", bad[i]);
	ck_assert(!shaman_file_path_valid("a\0b", 3, &why));
	/* 256 levels, not 257 (removal descends them); 2048 bytes. */
	{
		char deep[2 * 257];

		for (int i = 0; i < 257; i++)
			memcpy(deep + 2 * i, "d/", 2);
		deep[2 * 256 - 1] = '\0';
		ck_assert(shaman_file_path_valid(deep, strlen(deep), &why));
		deep[2 * 256 - 1] = '/';
		deep[2 * 257 - 1] = '\0';
		ck_assert(!shaman_file_path_valid(deep, strlen(deep), &why));
		ck_assert_ptr_nonnull(strstr(why, "256 levels"));
	}
	{
		char *long_path = xmalloc(2050);

		memset(long_path, 'x', 2049);
		for (int i = 200; i < 2049; i += 200)
			long_path[i] = '/';
		long_path[2049] = '\0';
		ck_assert(!shaman_file_path_valid(long_path, 2049, &why));
		ck_assert_ptr_nonnull(strstr(why, "2048"));
		free(long_path);
	}
}
END_TEST

/* Store data and fill f for a checkout. */
static void
stored_file(
    struct shaman_file *f, char sum[65], const char *data, const char *path)
{
	hex_sum(data, strlen(data), sum);
	upload(sum, (int64_t)strlen(data), data, strlen(data));
	*f = (struct shaman_file){ sum, (int64_t)strlen(data), path };
}

START_TEST(test_checkout_create_and_remove)
{
	char s1[65], s2[65], *actual = NULL, *actual2 = NULL, *err = NULL;
	char *p, *text, *actual3 = NULL;
	struct shaman_file files[2];
	size_t len;

	stored_file(&files[0], s1, "blend data", "scene.blend");
	stored_file(&files[1], s2, "texture", "tex/sub/wood.png");
	ck_assert_int_eq(
	    shaman_checkout_create(store, "proj/job", files, 2, &actual, &err),
	    FM_OK);
	ck_assert_str_eq(actual, "proj/job");
	p = xasprintf(
	    "%s/proj/job/tex/sub/wood.png", shaman_store_jobs_dir(store));
	text = test_read_file(p, &len);
	ck_assert_str_eq(text, "texture");
	free(text);
	/* Relative, so it works wherever the storage is mounted. */
	{
		char target[4096];
		ssize_t n = readlink(p, target, sizeof(target) - 1);

		ck_assert_int_gt(n, 0);
		target[n] = '\0';
		ck_assert(strncmp(target, "../../../../../file-store/stored/",
		              33) == 0);
	}
	free(p);
	/* The same path again: a variant. */
	ck_assert_int_eq(
	    shaman_checkout_create(store, "proj/job", files, 2, &actual2, &err),
	    FM_OK);
	ck_assert_str_ne(actual2, "proj/job");
	ck_assert(strncmp(actual2, "proj/job-", 9) == 0);
	/* Removing one leaves the stored files and the other checkout. */
	ck_assert_int_eq(shaman_checkout_remove(store, actual), FM_OK);
	p = xasprintf("%s/proj/job", shaman_store_jobs_dir(store));
	ck_assert_int_eq(access(p, F_OK), -1);
	free(p);
	ck_assert_int_eq(count_files(shaman_store_stored_dir(store)), 2);
	p = xasprintf(
	    "%s/%s/scene.blend", shaman_store_jobs_dir(store), actual2);
	ck_assert_int_eq(access(p, R_OK), 0);
	free(p);
	/* Not inside another checkout: deleting that one would take it;
	 * beside one, under a shared parent, is fine. */
	p = xasprintf("%s/sub", actual2);
	ck_assert_int_eq(
	    shaman_checkout_create(store, p, files, 2, &actual3, &err),
	    FM_ERR_CONFLICT);
	ck_assert_ptr_nonnull(strstr(err, "inside another checkout"));
	free(err);
	free(p);
	ck_assert_int_eq(shaman_checkout_create(
	                     store, "proj/other", files, 2, &actual3, &err),
	    FM_OK);
	free(actual3);
	ck_assert_int_eq(shaman_checkout_remove(store, "../x"), FM_ERR_INVALID);
	ck_assert_int_eq(shaman_checkout_remove(store, "not/there"), FM_OK);
	free(actual);
	free(actual2);
}
END_TEST

/*
 * Checkouts never nest: deleting one would take the other. Neither
 * inside one (even where the directories on the way hold only
 * directories) nor around one, nor when two requests race.
 */
START_TEST(test_checkout_nesting)
{
	char s1[65], *actual = NULL, *err = NULL, *p;
	struct shaman_file f;

	stored_file(&f, s1, "frame", "sh010/a.txt");
	ck_assert_int_eq(
	    shaman_checkout_create(store, "shots", &f, 1, &actual, &err),
	    FM_OK);
	free(actual);
	ck_assert_int_eq(
	    shaman_checkout_create(store, "shots/sh010", &f, 1, &actual, &err),
	    FM_ERR_CONFLICT);
	ck_assert_ptr_nonnull(strstr(err, "inside another checkout"));
	free(err);
	p = xasprintf("%s/shots/sh010", shaman_store_jobs_dir(store));
	ck_assert_int_eq(count_files(p), 0); /* only the link */
	free(p);
	/* Around one: the path holds checkouts. */
	ck_assert_int_eq(
	    shaman_checkout_create(store, "seq/sh010", &f, 1, &actual, &err),
	    FM_OK);
	free(actual);
	ck_assert_int_eq(
	    shaman_checkout_create(store, "seq", &f, 1, &actual, &err),
	    FM_ERR_CONFLICT);
	ck_assert_ptr_nonnull(strstr(err, "holds other checkouts"));
	free(err);
	/* Removing "seq/sh010" takes the parent it made, and then "seq"
	 * is free. */
	ck_assert_int_eq(shaman_checkout_remove(store, "seq/sh010"), FM_OK);
	ck_assert_int_eq(
	    shaman_checkout_create(store, "seq", &f, 1, &actual, &err), FM_OK);
	ck_assert_str_eq(actual, "seq");
	free(actual);
}
END_TEST

struct race_arg {
	const char *path;
	struct shaman_file *f;
	enum fm_err rc;
};

static void *
race_create(void *arg)
{
	struct race_arg *ra = arg;
	char *actual = NULL, *err = NULL;

	ra->rc =
	    shaman_checkout_create(store, ra->path, ra->f, 1, &actual, &err);
	free(actual);
	free(err);
	return NULL;
}

START_TEST(test_checkout_nesting_race)
{
	char s1[65];
	struct shaman_file f;

	stored_file(&f, s1, "frame", "a.txt");
	for (int i = 0; i < 40; i++) {
		char *outer = xasprintf("r%d", i);
		char *inner = xasprintf("r%d/in", i);
		struct race_arg a = { outer, &f, FM_OK },
		                b = { inner, &f, FM_OK };
		pthread_t ta, tb;

		pthread_create(&ta, NULL, race_create, &a);
		pthread_create(&tb, NULL, race_create, &b);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		/* Exactly one wins; the other is refused. */
		ck_assert_msg((a.rc == FM_OK) != (b.rc == FM_OK),
		    "round %d: %d %d", i, a.rc, b.rc);
		ck_assert_int_eq(a.rc == FM_OK ? b.rc : a.rc, FM_ERR_CONFLICT);
		free(outer);
		free(inner);
	}
}
END_TEST

/*
 * Someone with write access to the shared storage plants links: one in
 * place of a parent directory, one inside a checkout. Removal follows
 * neither; what they point at stays.
 */
START_TEST(test_remove_never_follows_links)
{
	char s1[65], *actual = NULL, *err = NULL, *outside, *p, *file;
	struct shaman_file f;

	outside = xasprintf("%s/outside", tmp);
	p = xasprintf("%s/x", outside);
	ck_assert_int_eq(mkdir(outside, 0755), 0);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	file = test_write_file(p, "precious", "keep me");
	free(p);
	p = xasprintf("%s/evil", shaman_store_jobs_dir(store));
	ck_assert_int_eq(symlink(outside, p), 0);
	free(p);
	ck_assert_int_eq(shaman_checkout_remove(store, "evil/x"), FM_OK);
	ck_assert_int_eq(access(file, F_OK), 0);
	/* A link inside a checkout is removed, not entered. */
	stored_file(&f, s1, "frame", "a.txt");
	ck_assert_int_eq(
	    shaman_checkout_create(store, "c", &f, 1, &actual, &err), FM_OK);
	p = xasprintf("%s/c/sub", shaman_store_jobs_dir(store));
	ck_assert_int_eq(symlink(outside, p), 0);
	ck_assert_int_eq(shaman_checkout_remove(store, "c"), FM_OK);
	ck_assert_int_eq(access(file, F_OK), 0);
	ck_assert_int_eq(lstat(p, &(struct stat){ 0 }), -1);
	free(p);
	free(actual);
	free(file);
	free(outside);
}
END_TEST

/* A checkout that cannot be removed completely is an error, so the job
 * deleter keeps the job and tries again later. */
START_TEST(test_remove_failure_reported)
{
	char s1[65], *actual = NULL, *err = NULL, *p, *cmd;
	struct shaman_file f;
	int fd;

	stored_file(&f, s1, "frame", "a.txt");
	ck_assert_int_eq(
	    shaman_checkout_create(store, "deep", &f, 1, &actual, &err), FM_OK);
	p = xasprintf("%s/deep", shaman_store_jobs_dir(store));
	fd = open(p, O_RDONLY | O_DIRECTORY);
	for (int i = 0; i < 600 && fd >= 0; i++) {
		int sub;

		ck_assert_int_eq(mkdirat(fd, "d", 0755), 0);
		sub = openat(fd, "d", O_RDONLY | O_DIRECTORY);
		close(fd);
		fd = sub;
	}
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(shaman_checkout_remove(store, "deep"), FM_ERR_IO);
	cmd = xasprintf("rm -rf '%s'", p);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(p);
	free(actual);
}
END_TEST

START_TEST(test_checkout_clash)
{
	char s1[65], s2[65], *actual = NULL, *err = NULL, *p;
	struct shaman_file files[2];

	stored_file(&files[0], s1, "one", "a");
	stored_file(&files[1], s2, "two", "a/b");
	ck_assert_int_eq(
	    shaman_checkout_create(store, "clash", files, 2, &actual, &err),
	    FM_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "a/b"));
	/* Nothing half-made is left. */
	p = xasprintf("%s/clash", shaman_store_jobs_dir(store));
	ck_assert_int_eq(access(p, F_OK), -1);
	free(p);
	free(err);
}
END_TEST

/* Set a file's mtime to days ago. */
static void
age(const char *path, int days)
{
	struct timespec ts[2];

	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= days * 86400;
	ts[1] = ts[0];
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

START_TEST(test_gc)
{
	char s1[65], s2[65], s3[65], *actual = NULL, *err = NULL;
	char *b1, *b2, *b3, *stale;
	struct shaman_file linked, unlinked, young;
	struct shaman_gc_stats st;

	stored_file(&linked, s1, "linked", "linked.bin");
	stored_file(&unlinked, s2, "old and unused", "x");
	stored_file(&young, s3, "young", "y");
	ck_assert_int_eq(
	    shaman_checkout_create(store, "keep", &linked, 1, &actual, &err),
	    FM_OK);
	b1 = shaman_store_blob_path(store, s1, linked.size);
	b2 = shaman_store_blob_path(store, s2, unlinked.size);
	b3 = shaman_store_blob_path(store, s3, young.size);
	age(b1, 40);
	age(b2, 40);
	stale =
	    xasprintf("%s/abandoned.tmp", shaman_store_uploading_dir(store));
	free(test_write_file(
	    shaman_store_uploading_dir(store), "abandoned.tmp", "partial"));
	age(stale, 1);
	shaman_gc(store, 31 * 86400, &st);
	ck_assert_uint_eq(st.blobs_removed, 1);
	ck_assert_uint_eq(st.blobs_kept_linked, 1);
	ck_assert_uint_eq(st.uploads_removed, 1);
	ck_assert_int_eq(access(b1, F_OK), 0);
	ck_assert_int_eq(access(b2, F_OK), -1);
	ck_assert_int_eq(access(b3, F_OK), 0);
	ck_assert_int_eq(access(stale, F_OK), -1);
	/* Once the checkout is gone, the old file goes too. */
	ck_assert_int_eq(shaman_checkout_remove(store, actual), FM_OK);
	shaman_gc(store, 31 * 86400, &st);
	ck_assert_uint_eq(st.blobs_removed, 1);
	ck_assert_int_eq(access(b1, F_OK), -1);
	ck_assert_int_eq(count_files(shaman_store_stored_dir(store)), 1);
	free(b1);
	free(b2);
	free(b3);
	free(stale);
	free(actual);
}
END_TEST

/* A storage path spelt with "//", "./" and "x/../" names the same files:
 * an old file a checkout links to stays. */
START_TEST(test_gc_uncanonical_root)
{
	char sum[65], *root, *actual = NULL, *err = NULL, *blob;
	struct shaman_store *other;
	struct shaman_file f;
	struct shaman_gc_stats st;

	root = xasprintf("%s//r/./x/../", tmp);
	ck_assert_int_eq(shaman_store_open(root, &other, &err), FM_OK);
	ck_assert_ptr_null(strstr(shaman_store_jobs_dir(other), "//"));
	ck_assert_ptr_null(strstr(shaman_store_jobs_dir(other), "/./"));
	ck_assert_ptr_null(strstr(shaman_store_jobs_dir(other), "/../"));
	hex_sum("old but linked", 14, sum);
	{
		struct shaman_upload *up;
		bool nospace;

		ck_assert_int_eq(
		    shaman_upload_begin(other, sum, 14, &up, &nospace), FM_OK);
		ck_assert_int_eq(shaman_upload_write(up, "old but linked", 14),
		    SHAMAN_STORED);
		ck_assert_int_eq(shaman_upload_finish(up), SHAMAN_STORED);
		shaman_upload_free(up);
	}
	f = (struct shaman_file){ sum, 14, "a/b.blend" };
	ck_assert_int_eq(
	    shaman_checkout_create(other, "job", &f, 1, &actual, &err), FM_OK);
	blob = shaman_store_blob_path(other, sum, 14);
	age(blob, 40);
	shaman_gc(other, 31 * 86400, &st);
	ck_assert_uint_eq(st.blobs_removed, 0);
	ck_assert_uint_eq(st.blobs_kept_linked, 1);
	ck_assert_int_eq(access(blob, F_OK), 0);
	free(blob);
	free(actual);
	free(root);
	shaman_store_free(other);
}
END_TEST

/*
 * When jobs/ or some of it cannot be read, the links in it are unknown:
 * nothing is removed. A missing jobs/ (storage half mounted) fails the
 * scan as root too; an unreadable directory only for other users.
 */
START_TEST(test_gc_incomplete_scan)
{
	char s1[65], *b1, *jobs, *away, *locked;
	struct shaman_file old;
	struct shaman_gc_stats st;

	stored_file(&old, s1, "old, maybe linked", "x");
	b1 = shaman_store_blob_path(store, s1, old.size);
	age(b1, 40);
	jobs = xstrdup(shaman_store_jobs_dir(store));
	away = xasprintf("%s.away", jobs);
	ck_assert_int_eq(rename(jobs, away), 0);
	shaman_gc(store, 31 * 86400, &st);
	ck_assert_uint_eq(st.blobs_removed, 0);
	ck_assert_int_eq(access(b1, F_OK), 0);
	ck_assert_int_eq(rename(away, jobs), 0);
	if (geteuid() != 0) {
		locked = xasprintf("%s/locked", jobs);
		ck_assert_int_eq(mkdir(locked, 0), 0);
		shaman_gc(store, 31 * 86400, &st);
		ck_assert_uint_eq(st.blobs_removed, 0);
		ck_assert_int_eq(access(b1, F_OK), 0);
		ck_assert_int_eq(rmdir(locked), 0);
		free(locked);
	}
	/* Readable again: the old unlinked file goes. */
	shaman_gc(store, 31 * 86400, &st);
	ck_assert_uint_eq(st.blobs_removed, 1);
	free(b1);
	free(jobs);
	free(away);
}
END_TEST

/* Files asked for are touched half the GC age apart at most, so a short
 * maxAge does not outrun the hourly throttle. */
START_TEST(test_touch_throttle_follows_max_age)
{
	char sum[65], *blob;
	struct shaman_file f;
	struct stat st;
	struct timespec ts[2];

	stored_file(&f, sum, "asked for", "x");
	blob = shaman_store_blob_path(store, sum, f.size);
	clock_gettime(CLOCK_REALTIME, &ts[0]);
	ts[0].tv_sec -= 400;
	ts[1] = ts[0];
	ck_assert_int_eq(utimensat(AT_FDCWD, blob, ts, 0), 0);
	shaman_store_set_max_age(store, 600);
	ck_assert_int_eq(shaman_store_status(store, sum, f.size, true),
	    SHAMAN_STATUS_STORED);
	ck_assert_int_eq(stat(blob, &st), 0);
	ck_assert_int_gt(st.st_mtime, time(NULL) - 60);
	free(blob);
}
END_TEST

/* A file garbage collection removed after the caller's check: the
 * checkout is refused (424 upstream), not made with a dangling link. */
START_TEST(test_checkout_after_gc_took_file)
{
	char sum[65], *blob, *actual = NULL, *err = NULL, *p;
	struct shaman_file f;
	struct shaman_gc_stats st;

	stored_file(&f, sum, "checked, then collected", "scene.blend");
	blob = shaman_store_blob_path(store, sum, f.size);
	age(blob, 40);
	shaman_gc(store, 31 * 86400, &st);
	ck_assert_uint_eq(st.blobs_removed, 1);
	ck_assert_int_eq(
	    shaman_checkout_create(store, "late", &f, 1, &actual, &err),
	    FM_ERR_NOTFOUND);
	ck_assert_ptr_nonnull(strstr(err, "scene.blend"));
	free(err);
	p = xasprintf("%s/late", shaman_store_jobs_dir(store));
	ck_assert_int_eq(access(p, F_OK), -1);
	free(p);
	free(blob);
}
END_TEST

static void *
gc_thread(void *arg)
{
	struct shaman_gc_stats st;

	shaman_gc(store, 31 * 86400, &st);
	__atomic_store_n((int *)arg, 1, __ATOMIC_SEQ_CST);
	return NULL;
}

/* Garbage collection waits for a checkout or upload publish under way
 * (shaman_store_use()), and they for it. */
START_TEST(test_gc_waits_for_users)
{
	pthread_t t;
	int done = 0;
	struct timespec pause = { 0, 200 * 1000 * 1000 };

	shaman_store_use(store);
	pthread_create(&t, NULL, gc_thread, &done);
	nanosleep(&pause, NULL);
	ck_assert_int_eq(__atomic_load_n(&done, __ATOMIC_SEQ_CST), 0);
	shaman_store_unuse(store);
	pthread_join(t, NULL);
	ck_assert_int_eq(done, 1);
}
END_TEST

START_TEST(test_rfc2047)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "plain.png", "plain.png" },
		{ "=?utf-8?b?w6lsw6hwaGFudC5wbmc=?=",
		    "\xc3\xa9l\xc3\xa8phant.png" },
		{ "=?UTF-8?B?w6lsw6hwaGFudC5wbmc=?=",
		    "\xc3\xa9l\xc3\xa8phant.png" },
		{ "=?utf-8?q?caf=C3=A9_au_lait.png?=",
		    "caf\xc3\xa9 au lait.png" },
		{ "=?utf-8?b?YQ==?= =?utf-8?b?Yg==?=", "ab" },
		{ "x =?utf-8?q?y?=", "x y" },
		{ "=?iso-8859-1?q?=E9?=", "=?iso-8859-1?q?=E9?=" },
		{ "=?utf-8?b?!!!?=", "=?utf-8?b?!!!?=" },
		{ "=?utf-8?q?a", "=?utf-8?q?a" },
		/* A bad word after a good one keeps the space between. */
		{ "=?utf-8?q?a?= =?utf-8?q?bc=ZZ?=", "a =?utf-8?q?bc=ZZ?=" },
		{ "=?utf-8?q?a?=  =?utf-8?b?!!?= x", "a  =?utf-8?b?!!?= x" },
	};

	for (size_t i = 0; i < nitems(cases); i++) {
		char *got = rfc2047_decode(cases[i].in);

		ck_assert_msg(strcmp(got, cases[i].out) == 0, "%s -> %s",
		    cases[i].in, got);
		free(got);
	}
}
END_TEST

static Suite *
shaman_store_suite(void)
{
	Suite *s = suite_create("shaman_store");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30 * test_time_scale());
	tcase_add_test(tc, test_sha256_known);
	tcase_add_test(tc, test_sha256_portable);
	tcase_add_test(tc, test_upload_and_status);
	tcase_add_test(tc, test_upper_case_checksum);
	tcase_add_test(tc, test_lying_uploads);
	tcase_add_test(tc, test_uploading_status_and_abort);
	tcase_add_test(tc, test_concurrent_identical_uploads);
	tcase_add_test(tc, test_file_size_limit);
	tcase_add_test(tc, test_big_upload);
	tcase_add_test(tc, test_writer_thread_cap);
	tcase_add_test(tc, test_big_upload_file_size_limit);
	tcase_add_test(tc, test_bigger_than_disk);
	tcase_add_test(tc, test_checkout_path_rules);
	tcase_add_test(tc, test_file_path_rules);
	tcase_add_test(tc, test_checkout_create_and_remove);
	tcase_add_test(tc, test_checkout_clash);
	tcase_add_test(tc, test_remove_never_follows_links);
	tcase_add_test(tc, test_remove_failure_reported);
	tcase_add_test(tc, test_checkout_nesting);
	tcase_add_test(tc, test_checkout_nesting_race);
	tcase_add_test(tc, test_gc);
	tcase_add_test(tc, test_gc_uncanonical_root);
	tcase_add_test(tc, test_gc_incomplete_scan);
	tcase_add_test(tc, test_touch_throttle_follows_max_age);
	tcase_add_test(tc, test_checkout_after_gc_took_file);
	tcase_add_test(tc, test_gc_waits_for_users);
	tcase_add_test(tc, test_rfc2047);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(shaman_store_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
