/*
 * Logging to stderr; whole lines only, so threads never interleave
 * mid-line. Info lines are buffered briefly, warnings and errors are not.
 * The level is set once at start-up.
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

#endif
