/*
 * Project-wide basics: the one error space, assertions that stay on in
 * release builds, and small attribute macros.
 *
 * Locks: the store's write lock is held for a whole write transaction (one
 * writer at a time); every other lock (store pool, jobc pool, job-type
 * registry) is a leaf, held only around its own bookkeeping and never
 * across sqlite3_step, duk_pcall or an MHD call. Never wait for a
 * compiler heap while holding the write lock.
 */
#ifndef FM_H
#define FM_H

#include <stddef.h>

enum fm_err {
	FM_OK = 0,
	FM_ERR_NOMEM,
	FM_ERR_INVALID,  /* the caller's input is wrong */
	FM_ERR_NOTFOUND, /* the thing asked for does not exist */
	FM_ERR_CONFLICT, /* the request clashes with current state */
	FM_ERR_STALE,    /* a precondition (etag) no longer holds */
	FM_ERR_BUSY,     /* try again later */
	FM_ERR_DB,       /* the database failed */
	FM_ERR_JS,       /* a job-type script failed */
	FM_ERR_TIMEOUT,  /* a deadline passed */
	FM_ERR_IO,       /* a file or socket operation failed */
	FM_ERR_INTERNAL, /* a bug */
};

#define FM_ERR_COUNT (FM_ERR_INTERNAL + 1)

/* Short English description of an error code; never NULL. */
const char *fm_strerror(enum fm_err err);

/* The HTTP status an error code maps to when it reaches a client. */
int fm_err_http_status(enum fm_err err);

#define FM_MUST_CHECK   __attribute__((warn_unused_result))
#define FM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define FM_NORETURN     __attribute__((noreturn))
#define FM_UNUSED       __attribute__((unused))

#define nitems(a) (sizeof(a) / sizeof((a)[0]))

FM_NORETURN void fm_assert_fail(const char *expr, const char *file, int line);

/* Invariants only; input errors return FM_ERR_INVALID instead. */
#define FM_ASSERT(e) ((e) ? (void)0 : fm_assert_fail(#e, __FILE__, __LINE__))

#endif
