/*
 * Logging to stderr; whole lines only, so threads never interleave
 * mid-line, and one call is always one line: control characters and
 * invalid UTF-8 in the text are escaped. Info lines are buffered briefly,
 * warnings and errors are not. The level is set once at start-up.
 */
#ifndef FM_LOG_H
#define FM_LOG_H

#include "fm.h"

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
};

/* Parse "debug", "info", "warn"/"warning", "error"; -1 when unknown. */
int log_level_parse(const char *name);
void log_set_level(enum log_level level);
int log_enabled(enum log_level level);

void log_debug(const char *fmt, ...) FM_PRINTF(1, 2);
void log_info(const char *fmt, ...) FM_PRINTF(1, 2);
void log_warn(const char *fmt, ...) FM_PRINTF(1, 2);
void log_error(const char *fmt, ...) FM_PRINTF(1, 2);
FM_NORETURN void fatal(const char *fmt, ...) FM_PRINTF(1, 2);

/* Write out buffered debug/info lines now (also done every 50 ms). */
void log_flush(void);

/*
 * Flush, then stop and join the flusher thread (main() and the test
 * helpers call it when they are done; it also runs at exit). Logging
 * afterwards still works: the next info line starts a new flusher.
 */
void log_shutdown(void);

/*
 * Copy len bytes of src to dst (size bytes, NUL-terminated) the way log
 * lines show them: printable ASCII and well-formed UTF-8 as they are
 * (backslash included), \n \r \t for those three, and \xHH for every
 * other control character, C1 control and byte of invalid UTF-8. Output
 * that does not fit is cut before an escape, never inside one. Returns the
 * length written.
 */
size_t log_escape(char *dst, size_t size, const char *src, size_t len);

#endif
