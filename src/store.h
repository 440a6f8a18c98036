/*
 * The SQLite store: a pool of connections to one database file, each in
 * WAL mode with foreign keys on and a busy timeout, plus transactions, a
 * per-connection statement cache and the mapping of SQLite errors onto
 * enum fm_err. Table-specific queries live in store_*.c beside it; nothing
 * above the store layer calls sqlite3_* directly.
 */
#ifndef FM_STORE_H
#define FM_STORE_H

#include <stdbool.h>

#include "fm.h"

struct store;
struct store_conn;
struct sqlite3_stmt;

/*
 * Open (creating if needed) the database at path, apply the embedded
 * migrations, check integrity, and open nconns pooled connections.
 * On failure *err_out gets one line for the admin (new; caller frees).
 */
FM_MUST_CHECK enum fm_err store_open(
    const char *path, int nconns, struct store **store_out, char **err_out);

/* Close every connection; all must have been released. NULL-safe. */
void store_close(struct store *store);

/* Borrow a connection, waiting for one if all are in use. */
struct store_conn *store_acquire(struct store *store);

/* Return a borrowed connection. A still-open transaction is rolled back. */
void store_release(struct store *store, struct store_conn *conn);

/* BEGIN IMMEDIATE (write) or BEGIN DEFERRED (read). */
FM_MUST_CHECK enum fm_err store_begin(struct store_conn *conn, bool write);
FM_MUST_CHECK enum fm_err store_commit(struct store_conn *conn);
/* Safe to call when no transaction is open. */
void store_rollback(struct store_conn *conn);

/*
 * A cached prepared statement for sql, which must be a string with static
 * storage duration (it is the cache key). The statement is reset and its
 * bindings cleared; it stays owned by the connection. NULL on error (the
 * error is logged).
 */
struct sqlite3_stmt *store_stmt(struct store_conn *conn, const char *sql);

/*
 * Map a SQLite result code to enum fm_err and log it with the
 * connection's message when it is an error. what names the operation.
 */
enum fm_err store_error(
    struct store_conn *conn, int sqlite_rc, const char *what);

/* Execute SQL text without results (schema, pragmas). */
FM_MUST_CHECK enum fm_err store_exec(struct store_conn *conn, const char *sql);

/* Rows changed by the last statement on this connection. */
int store_changes(struct store_conn *conn);

/*
 * The change journal: store functions note what a write transaction
 * changed, and once it commits the observer (the live-event module) hears
 * of every change, in order, once per object. Notes of a transaction that
 * rolls back are dropped, so nobody is told of a change that did not
 * happen. A note made outside a transaction is delivered at once.
 */
enum store_change {
	STORE_CHANGED_JOB,       /* created (no prev_status) or changed */
	STORE_CHANGED_JOB_TASKS, /* many tasks of the job changed at once */
	STORE_JOB_PROGRESS,      /* only the job's step counts moved */
	STORE_DELETED_JOB,       /* its rows are gone */
	STORE_CHANGED_TASK,      /* job_uuid is set */
	STORE_CHANGED_WORKER,    /* registered, changed or deleted */
	STORE_CHANGED_TAG,       /* created or changed */
	STORE_DELETED_TAG,       /* detail holds its name */
};

struct store_note {
	enum store_change what;
	char uuid[37];
	char job_uuid[37];    /* STORE_CHANGED_TASK: its job; else "" */
	char prev_status[24]; /* before the transaction; "" = new or same */
	char *detail;         /* owned by the journal; may be NULL */
};

/* Told about committed changes; runs on the committing thread after the
 * write lock is released, and may read through conn but not write. */
typedef void (*store_observer_fn)(void *arg, struct store_conn *conn,
    const struct store_note *notes, size_t n);
/* Whether the observer wants notes now; false makes noting free. */
typedef bool (*store_observer_wants_fn)(void *arg);

/* Set (or with fn NULL clear) the one observer, before serving starts. */
void store_set_observer(struct store *store, store_observer_fn fn,
    store_observer_wants_fn wants, void *arg);

/* Whether notes are kept now: lets a caller skip the look-ups that a
 * note would need when nobody listens. */
bool store_noting(struct store_conn *conn);

/*
 * Note a change. uuid and job_uuid may be NULL; prev_status is the status
 * before this change (NULL when it did not change or the object is new):
 * of several notes on one object in a transaction the first status wins.
 * detail is stolen (may be NULL).
 */
void store_note(struct store_conn *conn, enum store_change what,
    const char *uuid, const char *job_uuid, const char *prev_status,
    char *detail);

/* The schema version the database is at (PRAGMA user_version). */
int store_schema_version(struct store *store);

#endif
