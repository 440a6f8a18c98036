/*
 * Appends to task logs. Each append opens the file with O_APPEND and
 * writes once, so concurrent appends never interleave within a write.
 */
#include "tasklog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "xmalloc.h"

char *
tasklog_job_dir(const char *root, const char *job_uuid)
{
	return xasprintf("%s/job-%.4s/%s", root, job_uuid, job_uuid);
}

char *
tasklog_relpath(const char *job_uuid, const char *task_uuid)
{
	return xasprintf(
	    "job-%.4s/%s/task-%s.txt", job_uuid, job_uuid, task_uuid);
}

static int
open_log(const char *root, const char *job_uuid, const char *task_uuid)
{
	char *rel = tasklog_relpath(job_uuid, task_uuid);
	char *path = xasprintf("%s/%s", root, rel);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0 && errno == ENOENT) {
		/* First line of the job: make its directories. */
		char *dir = xasprintf("%s/job-%.4s", root, job_uuid);

		mkdir(dir, 0755);
		free(dir);
		dir = tasklog_job_dir(root, job_uuid);
		mkdir(dir, 0755);
		free(dir);
		fd =
		    open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	}
	if (fd < 0)
		log_error("task log %s: %s", path, strerror(errno));
	free(path);
	free(rel);
	return fd;
}

enum fm_err
tasklog_append(const char *root, const char *job_uuid, const char *task_uuid,
    const char *text, size_t len)
{
	struct iovec iov[2] = { { (void *)(uintptr_t)text, len },
		{ (void *)(uintptr_t) "\n", 1 } };
	int fd, niov = (len == 0 || text[len - 1] != '\n') ? 2 : 1;
	ssize_t want = (ssize_t)len + (niov == 2 ? 1 : 0);
	enum fm_err rc = FM_OK;

	if ((fd = open_log(root, job_uuid, task_uuid)) < 0)
		return FM_ERR_IO;
	if (writev(fd, iov, niov) != want) {
		log_error("task log of %s: %s", task_uuid, strerror(errno));
		rc = FM_ERR_IO;
	}
	close(fd);
	return rc;
}

enum fm_err
tasklog_printf(const char *root, const char *job_uuid, const char *task_uuid,
    const char *fmt, ...)
{
	char line[2048], stamp[40];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;
	size_t n;
	int w;

	localtime_r(&now, &tm);
	n = strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S%z", &tm);
	/* RFC 3339 wants "+02:00", strftime gives "+0200". */
	if (n >= 5 && stamp[n - 5] != 'Z') {
		memmove(stamp + n - 1, stamp + n - 2, 3);
		stamp[n - 2] = ':';
	}
	w = snprintf(line, sizeof(line), "%s ", stamp);
	va_start(ap, fmt);
	vsnprintf(line + w, sizeof(line) - (size_t)w, fmt, ap);
	va_end(ap);
	return tasklog_append(root, job_uuid, task_uuid, line, strlen(line));
}
