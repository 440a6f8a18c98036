/*
 * The last-rendered queue and its thread. Each image becomes three JPEGs,
 * all made in memory before any file is touched, so a bad image replaces
 * nothing; each file is then written beside its final name and renamed
 * over it, so readers of /job-files/ never see half a file. The tiny one
 * goes last because fetchJobLastRenderedInfo answers 204 until it exists.
 */
#include "lastrendered.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "events.h"
#include "ids.h"
#include "log.h"
#include "store.h"
#include "store_admin.h"
#include "tasklog.h"
#include "thumbnail.h"
#include "timeutil.h"
#include "xmalloc.h"

/* The files Flamenco makes, largest first, and the boxes they fit. */
static const struct {
	const char *name;
	struct thumbnail_box box;
} sizes[] = {
	{ "last-rendered.jpg", { 1920, 1080 } },
	{ "last-rendered-small.jpg", { 600, 338 } },
	{ "last-rendered-tiny.jpg", { 200, 112 } },
};

#define NSIZES nitems(sizes)

struct image {
	struct image *next;
	int64_t job_id;
	char job_uuid[ID_UUID_LEN + 1];
	char task_uuid[ID_UUID_LEN + 1];
	size_t len;
	unsigned char data[]; /* the upload */
};

struct lastrendered {
	struct fm_ctx *ctx;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake; /* an image was queued, or stop */
	pthread_cond_t idle; /* the queue ran empty (lastrendered_drain) */
	struct image *head, **tail;
	size_t queued;   /* images in the list */
	size_t reserved; /* submits copying their image outside the lock */
	bool busy;       /* the thread works on an image */
	bool stop;
};

/* Write data to dir/name through dir/name.tmp and a rename. */
static enum fm_err
write_atomic(const char *dir, const char *name, const void *data, size_t len)
{
	char *path = xasprintf("%s/%s", dir, name);
	char *tmp = xasprintf("%s/%s.tmp", dir, name);
	enum fm_err rc = FM_ERR_IO;
	const char *what = "create";
	int fd;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto done;
	what = "write";
	if (write(fd, data, len) != (ssize_t)len) {
		close(fd);
		goto fail;
	}
	if (close(fd) != 0)
		goto fail;
	what = "rename";
	if (rename(tmp, path) != 0)
		goto fail;
	rc = FM_OK;
	goto done;
fail:
	unlink(tmp);
done:
	if (rc != FM_OK)
		log_error("cannot %s %s: %s", what, tmp, strerror(errno));
	free(path);
	free(tmp);
	return rc;
}

static enum fm_err
write_files(
    const char *root, const char *job_uuid, const struct thumbnail_out *out)
{
	char *parent = xasprintf("%s/job-%.4s", root, job_uuid);
	char *dir = tasklog_job_dir(root, job_uuid);
	enum fm_err rc = FM_OK;

	(void)mkdir(parent, 0755);
	(void)mkdir(dir, 0755);
	for (size_t i = 0; i < NSIZES && rc == FM_OK; i++)
		rc = write_atomic(dir, sizes[i].name, out[i].jpeg, out[i].len);
	free(parent);
	free(dir);
	return rc;
}

/* The job went away while its image was made: leave no files behind. */
static void
remove_files(const char *root, const char *job_uuid)
{
	char *parent = xasprintf("%s/job-%.4s", root, job_uuid);
	char *dir = tasklog_job_dir(root, job_uuid);

	for (size_t i = 0; i < NSIZES; i++) {
		char *path = xasprintf("%s/%s", dir, sizes[i].name);

		(void)unlink(path);
		free(path);
	}
	(void)rmdir(dir); /* fails while it holds task logs: fine */
	(void)rmdir(parent);
	free(dir);
	free(parent);
}

/* Mark the job as the farm's last-rendered one, unless it went away. */
static enum fm_err
mark_job(struct fm_ctx *ctx, int64_t job_id)
{
	struct store_conn *conn = store_acquire(ctx->store);
	enum fm_err rc = store_begin(conn, true);

	if (rc == FM_OK)
		rc = store_admin_set_last_rendered(conn, job_id);
	if (rc == FM_OK)
		rc = store_commit(conn);
	else
		store_rollback(conn);
	store_release(ctx->store, conn);
	return rc;
}

static void
process(struct lastrendered *lr, struct image *img)
{
	const char *root = lr->ctx->cfg->local_manager_storage_path;
	struct thumbnail_box boxes[NSIZES];
	struct thumbnail_opts opts = { .quality = LASTRENDERED_QUALITY };
	struct thumbnail_out out[NSIZES];
	int64_t t0 = time_mono_us();
	json_t *info;
	char *err = NULL;
	enum fm_err rc;

	for (size_t i = 0; i < NSIZES; i++)
		boxes[i] = sizes[i].box;
	rc = thumbnail_make(
	    img->data, img->len, boxes, NSIZES, &opts, out, &err);
	if (rc != FM_OK) {
		log_warn("job %s: image from task %s not used as last-rendered "
		         "image: %s",
		    img->job_uuid, img->task_uuid, err);
		free(err);
		return;
	}
	rc = write_files(root, img->job_uuid, out);
	for (size_t i = 0; i < NSIZES; i++)
		thumbnail_out_clear(&out[i]);
	if (rc != FM_OK)
		return;
	if ((rc = mark_job(lr->ctx, img->job_id)) == FM_ERR_NOTFOUND) {
		log_debug("job %s was deleted while its last-rendered image "
		          "was made",
		    img->job_uuid);
		remove_files(root, img->job_uuid);
		return;
	}
	if (rc != FM_OK) {
		log_error("job %s: cannot mark as last-rendered: %s",
		    img->job_uuid, fm_strerror(rc));
		return;
	}
	log_debug("job %s: last-rendered thumbnails from task %s made in "
	          "%lld ms",
	    img->job_uuid, img->task_uuid,
	    (long long)(time_mono_us() - t0) / 1000);
	/* The files are in place: this is where EventLastRenderedUpdate
	 * goes out. */
	if ((info = lastrendered_info(root, img->job_uuid)) != NULL) {
		events_last_rendered(
		    lr->ctx->events, img->job_uuid, img->task_uuid, info);
		json_decref(info);
	}
}

static void *
lastrendered_main(void *arg)
{
	struct lastrendered *lr = arg;

	pthread_mutex_lock(&lr->lock);
	for (;;) {
		struct image *img;

		while (!lr->stop && lr->head == NULL)
			pthread_cond_wait(&lr->wake, &lr->lock);
		if (lr->stop)
			break;
		img = lr->head;
		lr->head = img->next;
		if (lr->head == NULL)
			lr->tail = &lr->head;
		lr->queued--;
		lr->busy = true;
		pthread_mutex_unlock(&lr->lock);
		process(lr, img);
		free(img);
		pthread_mutex_lock(&lr->lock);
		lr->busy = false;
		if (lr->head == NULL && lr->reserved == 0)
			pthread_cond_broadcast(&lr->idle);
	}
	pthread_mutex_unlock(&lr->lock);
	return NULL;
}

struct lastrendered *
lastrendered_start(struct fm_ctx *ctx)
{
	struct lastrendered *lr = xcalloc(1, sizeof(*lr));

	lr->ctx = ctx;
	lr->tail = &lr->head;
	pthread_mutex_init(&lr->lock, NULL);
	pthread_cond_init(&lr->wake, NULL);
	pthread_cond_init(&lr->idle, NULL);
	if (pthread_create(&lr->thread, NULL, lastrendered_main, lr) != 0)
		fatal("cannot start the last-rendered thread");
	return lr;
}

void
lastrendered_stop(struct lastrendered *lr)
{
	size_t dropped = 0;

	if (lr == NULL)
		return;
	pthread_mutex_lock(&lr->lock);
	lr->stop = true;
	pthread_cond_signal(&lr->wake);
	pthread_mutex_unlock(&lr->lock);
	pthread_join(lr->thread, NULL);
	while (lr->head != NULL) {
		struct image *img = lr->head;

		lr->head = img->next;
		free(img);
		dropped++;
	}
	if (dropped > 0)
		log_info(
		    "%zu last-rendered images dropped at shutdown", dropped);
	pthread_mutex_destroy(&lr->lock);
	pthread_cond_destroy(&lr->wake);
	pthread_cond_destroy(&lr->idle);
	free(lr);
}

enum fm_err
lastrendered_submit(struct lastrendered *lr, int64_t job_id,
    const char *job_uuid, const char *task_uuid, const void *data, size_t len)
{
	struct image *img;

	/* Take a slot first: copying up to 25 MiB under the lock would hold
	 * up the thread, and copying before knowing there is room would
	 * waste the copy. */
	pthread_mutex_lock(&lr->lock);
	if (lr->stop || lr->queued + lr->reserved >= LASTRENDERED_QUEUE) {
		pthread_mutex_unlock(&lr->lock);
		return FM_ERR_BUSY;
	}
	lr->reserved++;
	pthread_mutex_unlock(&lr->lock);

	img = xmalloc(sizeof(*img) + len);
	img->next = NULL;
	img->job_id = job_id;
	snprintf(img->job_uuid, sizeof(img->job_uuid), "%s", job_uuid);
	snprintf(img->task_uuid, sizeof(img->task_uuid), "%s", task_uuid);
	img->len = len;
	memcpy(img->data, data, len);

	pthread_mutex_lock(&lr->lock);
	lr->reserved--;
	*lr->tail = img;
	lr->tail = &img->next;
	lr->queued++;
	pthread_cond_signal(&lr->wake);
	pthread_mutex_unlock(&lr->lock);
	return FM_OK;
}

void
lastrendered_drain(struct lastrendered *lr)
{
	pthread_mutex_lock(&lr->lock);
	while (!lr->stop && (lr->head != NULL || lr->reserved > 0 || lr->busy))
		pthread_cond_wait(&lr->idle, &lr->lock);
	pthread_mutex_unlock(&lr->lock);
}

json_t *
lastrendered_info(const char *root, const char *job_uuid)
{
	char *tiny = xasprintf("%s/job-%.4s/%s/%s", root, job_uuid, job_uuid,
	    sizes[NSIZES - 1].name);
	json_t *suffixes, *info = NULL;
	struct stat st;
	char *base;

	if (stat(tiny, &st) == 0 && S_ISREG(st.st_mode)) {
		suffixes = json_array();
		for (size_t i = 0; i < NSIZES; i++)
			json_array_append_new(
			    suffixes, json_string(sizes[i].name));
		base = xasprintf("/job-files/job-%.4s/%s", job_uuid, job_uuid);
		info =
		    json_pack("{s:s, s:o}", "base", base, "suffixes", suffixes);
		free(base);
	}
	free(tiny);
	return info;
}
