/*
 * The log sink: a level check before formatting, then "<UTC time> <LEVEL>
 * <text>\n" to stderr. Debug and info lines (the access log among them)
 * are gathered in a buffer that a flusher thread writes out every
 * LOG_FLUSH_MS, or at once when it fills, so a busy server does not pay a
 * write(2) per request; warnings and errors flush the buffer and go out
 * immediately, in order. At most LOG_FLUSH_MS of info lines can be lost
 * if the process is killed.
 *
 * The text is escaped (log_escape()): whatever a client put into a job
 * name, a path or a header, one call is exactly one line, with no terminal
 * control characters and nothing but valid UTF-8.
 */
#include "log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "timeutil.h"

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

/* --- escaping --------------------------------------------------------- */

/*
 * Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0
 * when it is not one: overlong forms, surrogates and code points above
 * U+10FFFF are refused, as are the C1 controls U+0080..U+009F, which some
 * terminals obey like ESC sequences.
 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff || cp < 0xa0)
		return 0;
	return len;
}

size_t
log_escape(char *dst, size_t size, const char *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0;

	if (size == 0)
		return 0;
	for (size_t i = 0; i < len;) {
		char esc[4];
		const char *piece = (const char *)s + i;
		size_t plen = 1, u;

		if (s[i] >= 0x20 && s[i] < 0x7f) {
			/* printable ASCII, backslash included: escapes are
			 * for safety, not meant to be undone */
		} else if (s[i] >= 0x80 && (u = utf8_len(s + i, len - i)) > 0) {
			plen = u;
		} else {
			esc[0] = '\\';
			if (s[i] == '\n' || s[i] == '\r' || s[i] == '\t') {
				esc[1] = s[i] == '\n' ? 'n'
				    : s[i] == '\r'    ? 'r'
				                      : 't';
				plen = 2;
			} else {
				esc[1] = 'x';
				esc[2] = hex[s[i] >> 4];
				esc[3] = hex[s[i] & 15];
				plen = 4;
			}
			piece = esc;
		}
		/* Cut before a piece that does not fit, never inside one. */
		if (o + plen >= size)
			break;
		memcpy(dst + o, piece, plen);
		o += plen;
		i += piece == esc ? 1 : plen;
	}
	dst[o] = '\0';
	return o;
}

/* --- the buffer and its flusher --------------------------------------- */

#define LOG_BUFFER   (64 * 1024)
#define LOG_FLUSH_MS 50

static struct {
	pthread_mutex_t lock; /* guards everything here */
	pthread_cond_t wake;  /* tells the flusher to look at gen */
	char data[LOG_BUFFER];
	size_t len;
	bool running;     /* a flusher thread exists */
	unsigned gen;     /* a flusher exits once this is not its own */
	pthread_t thread; /* valid while running */
} logbuf = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
};

static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

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
	unsigned gen = (unsigned)(uintptr_t)arg;

	pthread_mutex_lock(&logbuf.lock);
	while (logbuf.gen == gen) {
		struct timespec ts =
		    time_deadline(CLOCK_REALTIME, LOG_FLUSH_MS * 1000LL);

		pthread_cond_timedwait(&logbuf.wake, &logbuf.lock, &ts);
		flush_locked();
	}
	pthread_mutex_unlock(&logbuf.lock);
	return NULL;
}

void
log_shutdown(void)
{
	pthread_t t;
	bool join;

	pthread_mutex_lock(&logbuf.lock);
	join = logbuf.running;
	t = logbuf.thread;
	logbuf.running = false;
	logbuf.gen++;
	pthread_cond_broadcast(&logbuf.wake);
	flush_locked();
	pthread_mutex_unlock(&logbuf.lock);
	if (join)
		pthread_join(t, NULL);
}

/* A forked child has the buffer but not the thread: it starts its own. */
static void
fork_prepare(void)
{
	pthread_mutex_lock(&logbuf.lock);
}

static void
fork_parent(void)
{
	pthread_mutex_unlock(&logbuf.lock);
}

static void
fork_child(void)
{
	logbuf.running = false;
	logbuf.gen++;
	pthread_mutex_unlock(&logbuf.lock);
}

static void
install_hooks(void)
{
	/* At exit the flusher is stopped and joined, and nothing is lost. */
	atexit(log_shutdown);
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* Start a flusher unless one runs; the lock must be held. */
static void
flusher_start_locked(void)
{
	if (logbuf.running)
		return;
	if (pthread_create(&logbuf.thread, NULL, flusher_main,
	        (void *)(uintptr_t)logbuf.gen) == 0)
		logbuf.running = true;
}

static void
emit_line(enum log_level level, const char *line, size_t n)
{
	pthread_once(&hooks_once, install_hooks);
	pthread_mutex_lock(&logbuf.lock);
	if (level >= LOG_LEVEL_WARN || logbuf.len + n > sizeof(logbuf.data))
		flush_locked();
	if (level >= LOG_LEVEL_WARN) {
		write_all(line, n);
	} else {
		memcpy(logbuf.data + logbuf.len, line, n);
		logbuf.len += n;
		flusher_start_locked();
		/* Without a thread, nothing may wait for one. */
		if (!logbuf.running)
			flush_locked();
	}
	pthread_mutex_unlock(&logbuf.lock);
}

#define LOG_TEXT_MAX 4096

static void
log_write(enum log_level level, const char *fmt, va_list ap)
{
	/* Escaping turns a byte into at most 4. */
	char text[LOG_TEXT_MAX], line[64 + 4 * LOG_TEXT_MAX];
	struct timespec ts;
	struct tm tm;
	size_t n, tlen;
	int w;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	w = snprintf(line + n, sizeof(line) - n, ".%03ldZ %-5s ",
	    ts.tv_nsec / 1000000, level_names[level]);
	if (w > 0)
		n += (size_t)w;
	w = vsnprintf(text, sizeof(text), fmt, ap);
	tlen = w < 0                   ? 0
	    : (size_t)w < sizeof(text) ? (size_t)w
	                               : sizeof(text) - 1;
	n += log_escape(line + n, sizeof(line) - n - 1, text, tlen);
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
