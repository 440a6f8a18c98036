/*
 * Schema migrations: the numbered SQL files of migrations/, embedded in the
 * binary, applied in order above PRAGMA user_version, one transaction each.
 */
#ifndef FM_MIGRATE_H
#define FM_MIGRATE_H

#include "fm.h"

struct sqlite3;

/* The highest migration number this binary knows. */
int migrate_latest(void);

/*
 * Bring the database up to migrate_latest(). A database from a newer
 * schema is refused. *err_out gets a message on failure (new).
 */
FM_MUST_CHECK enum fm_err migrate_apply(struct sqlite3 *db, char **err_out);

#endif
