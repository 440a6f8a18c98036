/*
 * The log sink: a level check before formatting, then "<UTC time> <LEVEL>
 * <text>\n" to stderr. Debug and info lines (the access log among them)
 * are gathered in a buffer that a flusher thread writes out every
 * LOG_FLUSH_MS, or at once when it fills, so a busy server does not pay a
 * write(2) per request; warnings and errors flush the buffer and go out
 * immediately, in order. At most LOG_FLUSH_MS of info lines can be lost
 * if the process is killed.
 */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_min_level = LOG_LEVEL_INFO;

static const char *const level_names[] = {
	[LOG_LEVEL_DEBUG] = "DEBUG",
	[LOG_LEVEL_INFO] = "INFO",
	[LOG_LEVEL_WARN] = "WARN",
	[LOG_LEVEL_ERROR] = "ERROR",
};

int
log_level_parse(const char *name)
{
	if (strcasecmp(name, "debug") == 0)
		return LOG_LEVEL_DEBUG;
	if (strcasecmp(name, "info") == 0)
		return LOG_LEVEL_INFO;
	if (strcasecmp(name, "warn") == 0 || strcasecmp(name, "warning") == 0)
		return LOG_LEVEL_WARN;
	if (strcasecmp(name, "error") == 0)
		return LOG_LEVEL_ERROR;
	return -1;
}

void
log_set_level(enum log_level level)
{
	atomic_store(&log_min_level, (int)level);
}

int
log_enabled(enum log_level level)
{
	return (int)level >= atomic_load(&log_min_level);
}

#define LOG_BUFFER   (64 * 1024)
#define LOG_FLUSH_MS 50

static struct {
	pthread_mutex_t lock;
	char data[LOG_BUFFER];
	size_t len;
} logbuf = { .lock = PTHREAD_MUTEX_INITIALIZER };

static pthread_once_t flusher_once = PTHREAD_ONCE_INIT;

static void
write_all(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);

		if (w <= 0)
			return; /* nowhere left to report a failing stderr */
		p += w;
		n -= (size_t)w;
	}
}

/* Write out what is buffered; the lock must be held. */
static void
flush_locked(void)
{
	write_all(logbuf.data, logbuf.len);
	logbuf.len = 0;
}

void
log_flush(void)
{
	pthread_mutex_lock(&logbuf.lock);
	flush_locked();
	pthread_mutex_unlock(&logbuf.lock);
}

static void *
flusher_main(void *arg)
{
	const struct timespec pause = { 0, LOG_FLUSH_MS * 1000000L };

	(void)arg;
	for (;;) {
		nanosleep(&pause, NULL);
		log_flush();
	}
	return NULL;
}

static void
flusher_start(void)
{
	pthread_t t;

	atexit(log_flush);
	if (pthread_create(&t, NULL, flusher_main, NULL) == 0)
		pthread_detach(t);
}

static void
emit_line(enum log_level level, const char *line, size_t n)
{
	pthread_once(&flusher_once, flusher_start);
	pthread_mutex_lock(&logbuf.lock);
	if (level >= LOG_LEVEL_WARN || logbuf.len + n > sizeof(logbuf.data))
		flush_locked();
	if (level >= LOG_LEVEL_WARN) {
		write_all(line, n);
	} else {
		memcpy(logbuf.data + logbuf.len, line, n);
		logbuf.len += n;
	}
	pthread_mutex_unlock(&logbuf.lock);
}

static void
log_write(enum log_level level, const char *fmt, va_list ap)
{
	char line[4096];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int w;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	w = snprintf(line + n, sizeof(line) - n, ".%03ldZ %-5s ",
	    ts.tv_nsec / 1000000, level_names[level]);
	if (w > 0)
		n += (size_t)w;
	w = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (w > 0)
		n += (size_t)w < sizeof(line) - n - 1 ? (size_t)w
		                                      : sizeof(line) - n - 2;
	line[n++] = '\n';
	emit_line(level, line, n);
}

#define LOG_FN(fn, level)                  \
	void fn(const char *fmt, ...)      \
	{                                  \
		va_list ap;                \
		if (!log_enabled(level))   \
			return;            \
		va_start(ap, fmt);         \
		log_write(level, fmt, ap); \
		va_end(ap);                \
	}

LOG_FN(log_debug, LOG_LEVEL_DEBUG)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_error, LOG_LEVEL_ERROR)

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_write(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
	exit(1); /* atexit flushes the buffer */
}
