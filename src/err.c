/*
 * The error tables: one row per enum fm_err, giving its text and the HTTP
 * status it becomes at the API boundary.
 */
#include "fm.h"

#include <stdio.h>
#include <stdlib.h>

static const struct {
	const char *text;
	int http_status;
} err_table[FM_ERR_COUNT] = {
	[FM_OK] = { "success", 200 },
	[FM_ERR_NOMEM] = { "out of memory", 500 },
	[FM_ERR_INVALID] = { "invalid input", 400 },
	[FM_ERR_NOTFOUND] = { "not found", 404 },
	[FM_ERR_CONFLICT] = { "conflict", 409 },
	[FM_ERR_STALE] = { "precondition failed", 412 },
	[FM_ERR_BUSY] = { "busy, try again later", 503 },
	[FM_ERR_DB] = { "database error", 500 },
	[FM_ERR_JS] = { "job-type script error", 400 },
	[FM_ERR_TIMEOUT] = { "timed out", 503 },
	[FM_ERR_IO] = { "input/output error", 500 },
	[FM_ERR_INTERNAL] = { "internal error", 500 },
};

const char *
fm_strerror(enum fm_err err)
{
	if ((unsigned)err >= FM_ERR_COUNT)
		return "unknown error";
	return err_table[err].text;
}

int
fm_err_http_status(enum fm_err err)
{
	if ((unsigned)err >= FM_ERR_COUNT)
		return 500;
	return err_table[err].http_status;
}

void
fm_assert_fail(const char *expr, const char *file, int line)
{
	fprintf(stderr, "assertion failed: %s (%s:%d)\n", expr, file, line);
	abort();
}
