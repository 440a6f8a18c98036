/*
 * What the store_*.c files share and nothing else sees: the raw SQLite
 * handle behind a pooled connection.
 */
#ifndef FM_STORE_INTERNAL_H
#define FM_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store.h"

sqlite3 *store_db(struct store_conn *conn);

#endif
