/*
 * What the store_*.c files share and nothing else sees: the raw SQLite
 * handle behind a pooled connection.
 */
#ifndef FM_STORE_INTERNAL_H
#define FM_STORE_INTERNAL_H

#include <jansson.h>
#include <sqlite3.h>

#include "store.h"

sqlite3 *store_db(struct store_conn *conn);

/* Step a statement that returns no rows and reset it; FM_OK on DONE. */
FM_MUST_CHECK enum fm_err store_step_done(
    struct store_conn *conn, sqlite3_stmt *st, const char *what);

/* A text column, "" for NULL (valid until the next step or reset). */
const char *store_text(sqlite3_stmt *st, int col);

/* Set obj[key] to epoch microseconds us as RFC 3339. */
void store_json_time(json_t *obj, const char *key, int64_t us);

/* Builds the JSON of one result row (new). */
typedef json_t *(*store_row_fn)(sqlite3_stmt *st);

/*
 * Step st to the end, collecting row_fn of each row into a new array
 * (*array_out), and reset it. what names the query in error logs.
 */
FM_MUST_CHECK enum fm_err store_collect(struct store_conn *conn,
    sqlite3_stmt *st, store_row_fn row_fn, const char *what,
    json_t **array_out);

#endif
