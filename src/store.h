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

/* The schema version the database is at (PRAGMA user_version). */
int store_schema_version(struct store *store);

#endif
