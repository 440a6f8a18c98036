/*
 * Shaman's file store: stored files, and uploads from temporary file to
 * stored file. See shaman_store.h for the layout and the guarantees.
 */
#include "shaman_store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "log.h"
#include "sha256.h"
#include "xmalloc.h"

/* Room left on the disk beyond an upload, so the rest of the farm (task
 * logs, the database) does not find it full. */
#define SHAMAN_DISK_RESERVE (64ULL * 1024 * 1024)
/* A stored file asked for is touched (for GC) at most this often, and
 * at most half the GC age apart (shaman_store_set_max_age()). */
#define SHAMAN_TOUCH_EVERY_S 3600

/*
 * Big uploads are written by a thread of their own while the HTTP thread
 * receives and hashes: copying into the page cache costs about as much
 * as hashing, and in parallel the two nearly double the throughput. The
 * bytes pass through a few fixed slots, so memory stays flat.
 */
#define PIPE_MIN_SIZE (8LL * 1024 * 1024)
#define PIPE_SLOT     (1024 * 1024)
#define PIPE_SLOTS    4
/* At most this many uploads at once get a writer thread (and 4 MiB of
 * slots); the others write on the HTTP thread, a little slower, so many
 * clients cannot make the Manager spawn threads and memory without
 * bound. Two cores barely gain from more. */
#define PIPE_MAX_ACTIVE 4

struct upload_pipe {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *slot[PIPE_SLOTS];
	size_t used[PIPE_SLOTS];
	unsigned head; /* slots handed to the writer (producer, lock) */
	unsigned tail; /* slots written (writer, lock) */
	size_t fill;   /* bytes in slot[head % PIPE_SLOTS] (producer) */
	bool closing;  /* no more slots come (lock) */
	int err;       /* the writer's errno; 0 while fine (lock) */
	int fd;
};

struct shaman_upload {
	struct shaman_store *store;
	struct shaman_upload *next; /* store->uploads, under its lock */
	char checksum[SHAMAN_CHECKSUM_LEN + 1];
	int64_t size;
	char *tmp_path;       /* NULL once removed or linked */
	const char *tmp_name; /* the file name part of tmp_path */
	int fd;
	uint64_t received;
	struct upload_pipe *pipe; /* NULL: written on the caller's thread */
	struct sha256_ctx sha;
	enum shaman_result failed; /* SHAMAN_STORED: not failed */
};

struct shaman_store {
	char *stored_dir;
	char *uploading_dir;
	char *jobs_dir;
	int stored_fd; /* stored_dir, for lookups relative to it */
	pthread_mutex_t lock;
	struct shaman_upload *uploads; /* in progress, under lock */
	/* Garbage collection holds it for writing; publishing an upload
	 * and making a checkout for reading (shaman_store_use()). */
	pthread_rwlock_t gc_lock;
	int64_t touch_every_s;   /* written before the store is shared */
	unsigned writer_threads; /* uploads with a pipe, under lock */
};

const char *
shaman_status_name(enum shaman_status status)
{
	switch (status) {
	case SHAMAN_STATUS_UNKNOWN:
		return "unknown";
	case SHAMAN_STATUS_UPLOADING:
		return "uploading";
	case SHAMAN_STATUS_STORED:
		return "stored";
	}
	return "unknown";
}

bool
shaman_checksum_valid(const char *checksum)
{
	size_t i;

	for (i = 0; checksum[i] != '\0'; i++) {
		char c = checksum[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		        (c >= 'A' && c <= 'F')))
			return false;
	}
	return i == SHAMAN_CHECKSUM_LEN;
}

/* Set the store's paths under root. */
static void
store_paths(struct shaman_store *store, const char *root)
{
	/* "/" as root has no trailing separator to strip. */
	if (strcmp(root, "/") == 0)
		root = "";
	free(store->stored_dir);
	free(store->uploading_dir);
	free(store->jobs_dir);
	store->stored_dir = xasprintf("%s/file-store/stored", root);
	store->uploading_dir = xasprintf("%s/file-store/uploading", root);
	store->jobs_dir = xasprintf("%s/jobs", root);
}

/*
 * Create the store's directories under root, then name them from the
 * canonical root (realpath()): "./", "x/../" or "//" in the configured
 * path must not make one file look like two (checkout link targets,
 * the paths garbage collection walks).
 */
static enum fm_err
store_dirs(struct shaman_store *store, const char *root, char **err_out)
{
	const char *dirs[3];
	char *canon;

	store_paths(store, root);
	dirs[0] = store->stored_dir;
	dirs[1] = store->uploading_dir;
	dirs[2] = store->jobs_dir;
	for (size_t i = 0; i < nitems(dirs); i++) {
		if (!fs_mkdirs(dirs[i])) {
			*err_out = xasprintf("Shaman: cannot create %s: %s",
			    dirs[i], strerror(errno));
			return FM_ERR_IO;
		}
	}
	if ((canon = realpath(root, NULL)) == NULL) {
		*err_out = xasprintf(
		    "Shaman: cannot resolve %s: %s", root, strerror(errno));
		return FM_ERR_IO;
	}
	store_paths(store, canon);
	free(canon);
	return FM_OK;
}

enum fm_err
shaman_store_open(
    const char *root, struct shaman_store **store_out, char **err_out)
{
	struct shaman_store *store;
	enum fm_err rc;

	*store_out = NULL;
	*err_out = NULL;
	if (root[0] != '/') {
		*err_out = xasprintf("Shaman: storage path \"%s\" is not "
		                     "absolute",
		    root);
		return FM_ERR_INVALID;
	}
	store = xcalloc(1, sizeof(*store));
	store->stored_fd = -1;
	store->touch_every_s = SHAMAN_TOUCH_EVERY_S;
	pthread_mutex_init(&store->lock, NULL);
	pthread_rwlock_init(&store->gc_lock, NULL);
	if ((rc = store_dirs(store, root, err_out)) != FM_OK) {
		shaman_store_free(store);
		return rc;
	}
	store->stored_fd =
	    open(store->stored_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (store->stored_fd < 0) {
		*err_out = xasprintf("Shaman: cannot open %s: %s",
		    store->stored_dir, strerror(errno));
		shaman_store_free(store);
		return FM_ERR_IO;
	}
	*store_out = store;
	return FM_OK;
}

void
shaman_store_free(struct shaman_store *store)
{
	if (store == NULL)
		return;
	FM_ASSERT(store->uploads == NULL);
	if (store->stored_fd >= 0)
		close(store->stored_fd);
	pthread_mutex_destroy(&store->lock);
	pthread_rwlock_destroy(&store->gc_lock);
	free(store->stored_dir);
	free(store->uploading_dir);
	free(store->jobs_dir);
	free(store);
}

void
shaman_store_set_max_age(struct shaman_store *store, int64_t max_age_s)
{
	store->touch_every_s = max_age_s / 2 < SHAMAN_TOUCH_EVERY_S
	    ? max_age_s / 2
	    : SHAMAN_TOUCH_EVERY_S;
}

void
shaman_store_use(struct shaman_store *store)
{
	pthread_rwlock_rdlock(&store->gc_lock);
}

void
shaman_store_unuse(struct shaman_store *store)
{
	pthread_rwlock_unlock(&store->gc_lock);
}

void
shaman_store_gc_begin(struct shaman_store *store)
{
	pthread_rwlock_wrlock(&store->gc_lock);
}

void
shaman_store_gc_end(struct shaman_store *store)
{
	pthread_rwlock_unlock(&store->gc_lock);
}

const char *
shaman_store_stored_dir(const struct shaman_store *store)
{
	return store->stored_dir;
}

const char *
shaman_store_uploading_dir(const struct shaman_store *store)
{
	return store->uploading_dir;
}

const char *
shaman_store_jobs_dir(const struct shaman_store *store)
{
	return store->jobs_dir;
}

/* Lower-case copy of a valid checksum. */
static void
checksum_fold(const char *in, char out[SHAMAN_CHECKSUM_LEN + 1])
{
	for (int i = 0; i < SHAMAN_CHECKSUM_LEN; i++) {
		char c = in[i];

		out[i] = (c >= 'A' && c <= 'F') ? (char)(c - 'A' + 'a') : c;
	}
	out[SHAMAN_CHECKSUM_LEN] = '\0';
}

char *
shaman_store_blob_path(
    const struct shaman_store *store, const char *checksum, int64_t size)
{
	char sum[SHAMAN_CHECKSUM_LEN + 1];

	FM_ASSERT(shaman_checksum_valid(checksum));
	checksum_fold(checksum, sum);
	return xasprintf("%s/%.2s/%s/%" PRId64 ".blob", store->stored_dir, sum,
	    sum + 2, size);
}

/* Some upload of this file is in progress. Under store->lock. */
static bool
uploading_locked(
    const struct shaman_store *store, const char *sum, int64_t size)
{
	for (const struct shaman_upload *u = store->uploads; u != NULL;
	     u = u->next)
		if (u->size == size && strcmp(u->checksum, sum) == 0)
			return true;
	return false;
}

enum shaman_status
shaman_store_status(
    struct shaman_store *store, const char *checksum, int64_t size, bool touch)
{
	char sum[SHAMAN_CHECKSUM_LEN + 1], path[SHAMAN_CHECKSUM_LEN + 32];
	enum shaman_status status = SHAMAN_STATUS_UNKNOWN;
	struct stat st;

	/* Relative to stored/: requirements ask for thousands of files,
	 * and the shorter walk is a third of the time. */
	checksum_fold(checksum, sum);
	snprintf(
	    path, sizeof(path), "%.2s/%s/%" PRId64 ".blob", sum, sum + 2, size);
	if (fstatat(store->stored_fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(st.st_mode)) {
		status = SHAMAN_STATUS_STORED;
		/*
		 * Best effort: a failed touch only makes GC earlier. Once an
		 * hour (or half the GC age, when that is shorter) keeps the
		 * file young enough, and spares the disk an inode write per
		 * file on every request.
		 */
		if (touch && st.st_mtime < time(NULL) - store->touch_every_s)
			(void)utimensat(store->stored_fd, path, NULL, 0);
	} else {
		pthread_mutex_lock(&store->lock);
		if (uploading_locked(store, sum, size))
			status = SHAMAN_STATUS_UPLOADING;
		pthread_mutex_unlock(&store->lock);
	}
	return status;
}

/* Would size more bytes leave the disk under uploading_dir too full? */
static bool
disk_too_full(const struct shaman_store *store, int64_t size)
{
	struct statvfs vfs;

	if (statvfs(store->uploading_dir, &vfs) != 0)
		return false; /* writing will tell */
	return (unsigned long long)vfs.f_bavail * vfs.f_frsize <
	    (unsigned long long)size + SHAMAN_DISK_RESERVE;
}

/* write(2) all of it; 0 or an errno. */
static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return ENOSPC;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void *
pipe_writer(void *arg)
{
	struct upload_pipe *pp = arg;

	pthread_mutex_lock(&pp->lock);
	for (;;) {
		unsigned i;
		int err;

		while (pp->tail == pp->head && !pp->closing)
			pthread_cond_wait(&pp->cond, &pp->lock);
		if (pp->tail == pp->head)
			break; /* closing and all written */
		i = pp->tail % PIPE_SLOTS;
		err = pp->err;
		pthread_mutex_unlock(&pp->lock);
		/* After a failure the rest is dropped, not written. */
		if (err == 0)
			err = write_all(pp->fd, pp->slot[i], pp->used[i]);
		pthread_mutex_lock(&pp->lock);
		pp->err = err;
		pp->tail++;
		pthread_cond_broadcast(&pp->cond);
	}
	pthread_mutex_unlock(&pp->lock);
	return NULL;
}

static struct upload_pipe *
pipe_start(int fd)
{
	struct upload_pipe *pp = xcalloc(1, sizeof(*pp));

	pp->fd = fd;
	for (int i = 0; i < PIPE_SLOTS; i++)
		pp->slot[i] = xmalloc(PIPE_SLOT);
	pthread_mutex_init(&pp->lock, NULL);
	pthread_cond_init(&pp->cond, NULL);
	if (pthread_create(&pp->thread, NULL, pipe_writer, pp) != 0) {
		for (int i = 0; i < PIPE_SLOTS; i++)
			free(pp->slot[i]);
		pthread_mutex_destroy(&pp->lock);
		pthread_cond_destroy(&pp->cond);
		free(pp);
		return NULL; /* the caller writes by itself then */
	}
	return pp;
}

/* Hand the filled slot to the writer; waits for a free one. Returns the
 * writer's error so far (0: fine). */
static int
pipe_publish(struct upload_pipe *pp)
{
	int err;

	pthread_mutex_lock(&pp->lock);
	pp->used[pp->head % PIPE_SLOTS] = pp->fill;
	pp->head++;
	pthread_cond_broadcast(&pp->cond);
	while (pp->head - pp->tail >= PIPE_SLOTS)
		pthread_cond_wait(&pp->cond, &pp->lock);
	err = pp->err;
	pthread_mutex_unlock(&pp->lock);
	pp->fill = 0;
	return err;
}

static int
pipe_push(struct upload_pipe *pp, const char *p, size_t len)
{
	while (len > 0) {
		size_t n = PIPE_SLOT - pp->fill;
		int err;

		if (n > len)
			n = len;
		memcpy(pp->slot[pp->head % PIPE_SLOTS] + pp->fill, p, n);
		pp->fill += n;
		p += n;
		len -= n;
		if (pp->fill == PIPE_SLOT && (err = pipe_publish(pp)) != 0)
			return err;
	}
	return 0;
}

/* Write what is left, stop the thread, free; the writer's error or 0. */
static int
pipe_finish(struct upload_pipe *pp, bool flush)
{
	int err;

	if (flush && pp->fill > 0)
		(void)pipe_publish(pp);
	pthread_mutex_lock(&pp->lock);
	if (!flush && pp->err == 0)
		pp->err = ECANCELED; /* drop what is queued */
	pp->closing = true;
	pthread_cond_broadcast(&pp->cond);
	pthread_mutex_unlock(&pp->lock);
	pthread_join(pp->thread, NULL);
	err = pp->err;
	for (int i = 0; i < PIPE_SLOTS; i++)
		free(pp->slot[i]);
	pthread_mutex_destroy(&pp->lock);
	pthread_cond_destroy(&pp->cond);
	free(pp);
	return err;
}

enum fm_err
shaman_upload_begin(struct shaman_store *store, const char *checksum,
    int64_t size, struct shaman_upload **up_out, bool *nospace_out)
{
	struct shaman_upload *up;
	uint64_t rnd;

	*up_out = NULL;
	*nospace_out = false;
	FM_ASSERT(shaman_checksum_valid(checksum) && size >= 0);
	if (disk_too_full(store, size)) {
		*nospace_out = true;
		log_warn("Shaman: no room for a %" PRId64 "-byte upload in %s",
		    size, store->uploading_dir);
		return FM_ERR_IO;
	}
	up = xcalloc(1, sizeof(*up));
	up->store = store;
	checksum_fold(checksum, up->checksum);
	up->size = size;
	up->failed = SHAMAN_STORED;
	sha256_init(&up->sha);
	/* A name nobody else has: O_EXCL refuses a clash, so retry. */
	for (int i = 0;; i++) {
		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			rnd = (uint64_t)rand() << 32 ^ (uint64_t)rand();
		up->tmp_path = xasprintf("%s/%s-%" PRId64 "-%016" PRIx64 ".tmp",
		    store->uploading_dir, up->checksum, size, rnd);
		up->fd = open(up->tmp_path,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (up->fd >= 0)
			break;
		if (errno != EEXIST || i == 10) {
			*nospace_out = errno == ENOSPC || errno == EDQUOT;
			log_warn("Shaman: cannot create %s: %s", up->tmp_path,
			    strerror(errno));
			free(up->tmp_path);
			free(up);
			return FM_ERR_IO;
		}
		free(up->tmp_path);
	}
	up->tmp_name = strrchr(up->tmp_path, '/') + 1;
	pthread_mutex_lock(&store->lock);
	if (size >= PIPE_MIN_SIZE && store->writer_threads < PIPE_MAX_ACTIVE &&
	    (up->pipe = pipe_start(up->fd)) != NULL)
		store->writer_threads++;
	up->next = store->uploads;
	store->uploads = up;
	pthread_mutex_unlock(&store->lock);
	*up_out = up;
	return FM_OK;
}

/* Stop the upload's writer thread (pipe_finish()) and give its place
 * back. */
static int
upload_pipe_end(struct shaman_upload *up, bool flush)
{
	int err = pipe_finish(up->pipe, flush);

	up->pipe = NULL;
	pthread_mutex_lock(&up->store->lock);
	up->store->writer_threads--;
	pthread_mutex_unlock(&up->store->lock);
	return err;
}

static void
upload_remove_tmp(struct shaman_upload *up)
{
	if (up->pipe != NULL)
		(void)upload_pipe_end(up, false);
	if (up->fd >= 0) {
		close(up->fd);
		up->fd = -1;
	}
	if (up->tmp_path != NULL) {
		if (unlink(up->tmp_path) != 0 && errno != ENOENT)
			log_warn("Shaman: cannot remove %s: %s", up->tmp_path,
			    strerror(errno));
	}
}

/* A write error as a result; logged unless it is the disk being full. */
static enum shaman_result
write_failure(struct shaman_upload *up, int err)
{
	if (err == ENOSPC || err == EDQUOT || err == EFBIG) {
		log_warn("Shaman: %s: %s; upload refused", up->tmp_path,
		    strerror(err));
		return SHAMAN_NOSPACE;
	}
	log_error("Shaman: writing %s: %s", up->tmp_path, strerror(err));
	return SHAMAN_IO;
}

enum shaman_result
shaman_upload_write(struct shaman_upload *up, const void *data, size_t len)
{
	const char *p = data;
	int err;

	if (up->failed != SHAMAN_STORED)
		return up->failed;
	if (up->received + len > (uint64_t)up->size) {
		up->failed = SHAMAN_MISMATCH;
		return up->failed;
	}
	sha256_update(&up->sha, data, len);
	up->received += len;
	err = up->pipe != NULL ? pipe_push(up->pipe, p, len)
	                       : write_all(up->fd, p, len);
	if (err != 0) {
		up->failed = write_failure(up, err);
		upload_remove_tmp(up); /* give the space back now */
		return up->failed;
	}
	return SHAMAN_STORED;
}

uint64_t
shaman_upload_received(const struct shaman_upload *up)
{
	return up->received;
}

/* Make the directories of a blob path (everything before its last '/'). */
static int
blob_dirs(const char *blob)
{
	char *dir = xstrdup(blob);
	int rc;

	*strrchr(dir, '/') = '\0';
	rc = fs_mkdirs(dir) ? 0 : -1;
	free(dir);
	return rc;
}

/*
 * Link the verified temporary file to blob, under the GC lock (read): GC
 * removes empty hash directories, so its directory could vanish between
 * mkdir and link. Retried on ENOENT all the same, in case something
 * else tidies stored/.
 */
static enum shaman_result
publish(struct shaman_upload *up, const char *blob)
{
	enum shaman_result res;
	int tries = 0;

	shaman_store_use(up->store);
	for (;;) {
		if (blob_dirs(blob) == 0 && link(up->tmp_path, blob) == 0) {
			res = SHAMAN_STORED;
			break;
		}
		if (errno == EEXIST) {
			res = SHAMAN_KNOWN; /* another upload of it won */
			break;
		}
		if (errno != ENOENT || ++tries == 3) {
			res = write_failure(up, errno);
			break;
		}
	}
	shaman_store_unuse(up->store);
	return res;
}

enum shaman_result
shaman_upload_finish(struct shaman_upload *up)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char digest[SHA256_DIGEST_LEN];
	char sum[SHAMAN_CHECKSUM_LEN + 1];
	enum shaman_result res;
	char *blob = NULL;

	if (up->failed != SHAMAN_STORED) {
		res = up->failed;
		goto done;
	}
	if (up->pipe != NULL) {
		int err = upload_pipe_end(up, true);

		if (err != 0) {
			res = write_failure(up, err);
			goto done;
		}
	}
	sha256_final(&up->sha, digest);
	for (int i = 0; i < SHA256_DIGEST_LEN; i++) {
		sum[2 * i] = hex[digest[i] >> 4];
		sum[2 * i + 1] = hex[digest[i] & 15];
	}
	sum[SHAMAN_CHECKSUM_LEN] = '\0';
	if (up->received != (uint64_t)up->size ||
	    strcmp(sum, up->checksum) != 0) {
		res = SHAMAN_MISMATCH;
		goto done;
	}
	/* On disk before it is visible: a crash leaves no torn file. */
	if (fsync(up->fd) != 0) {
		res = write_failure(up, errno);
		goto done;
	}
	blob = shaman_store_blob_path(up->store, up->checksum, up->size);
	res = publish(up, blob);
done:
	upload_remove_tmp(up);
	pthread_mutex_lock(&up->store->lock);
	free(up->tmp_path);
	up->tmp_path = NULL;
	pthread_mutex_unlock(&up->store->lock);
	free(blob);
	return res;
}

void
shaman_upload_free(struct shaman_upload *up)
{
	struct shaman_upload **pp;

	if (up == NULL)
		return;
	upload_remove_tmp(up);
	pthread_mutex_lock(&up->store->lock);
	for (pp = &up->store->uploads; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == up) {
			*pp = up->next;
			break;
		}
	}
	pthread_mutex_unlock(&up->store->lock);
	free(up->tmp_path);
	free(up);
}

bool
shaman_store_upload_active(struct shaman_store *store, const char *name)
{
	bool active = false;

	pthread_mutex_lock(&store->lock);
	for (const struct shaman_upload *u = store->uploads; u != NULL;
	     u = u->next)
		if (u->tmp_path != NULL && strcmp(u->tmp_name, name) == 0)
			active = true;
	pthread_mutex_unlock(&store->lock);
	return active;
}

unsigned
shaman_store_writer_threads(struct shaman_store *store)
{
	unsigned n;

	pthread_mutex_lock(&store->lock);
	n = store->writer_threads;
	pthread_mutex_unlock(&store->lock);
	return n;
}
