/*
 * Applies the embedded migrations. A migration's number is the leading
 * digits of its file name; numbers must run 1, 2, 3 ... without gaps.
 * Foreign keys are off while migrating (table rebuilds need that) and a
 * foreign_key_check runs before each commit.
 */
#include "migrate.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "log.h"
#include "xmalloc.h"

int
migrate_latest(void)
{
	return (int)embedded_migrations_count;
}

static int
pragma_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static enum fm_err
apply_one(
    sqlite3 *db, const struct embedded_file *m, int number, char **err_out)
{
	char *errmsg = NULL, *sql = NULL;
	int fk_problems;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &errmsg) !=
	    SQLITE_OK)
		goto fail;
	if (sqlite3_exec(db, (const char *)m->data, NULL, NULL, &errmsg) !=
	    SQLITE_OK)
		goto fail;
	fk_problems =
	    pragma_int(db, "SELECT count(*) FROM pragma_foreign_key_check");
	if (fk_problems != 0) {
		errmsg = sqlite3_mprintf("foreign key check failed");
		goto fail;
	}
	sql = xasprintf("PRAGMA user_version = %d", number);
	if (sqlite3_exec(db, sql, NULL, NULL, &errmsg) != SQLITE_OK ||
	    sqlite3_exec(db, "COMMIT", NULL, NULL, &errmsg) != SQLITE_OK)
		goto fail;
	free(sql);
	log_info("database: applied migration %s", m->name);
	return FM_OK;
fail:
	*err_out = xasprintf(
	    "migration %s: %s", m->name, errmsg ? errmsg : sqlite3_errmsg(db));
	sqlite3_free(errmsg);
	free(sql);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return FM_ERR_DB;
}

enum fm_err
migrate_apply(sqlite3 *db, char **err_out)
{
	int current = pragma_int(db, "PRAGMA user_version");
	int latest = migrate_latest();
	enum fm_err rc = FM_OK;

	*err_out = NULL;
	if (current < 0) {
		*err_out = xasprintf(
		    "cannot read schema version: %s", sqlite3_errmsg(db));
		return FM_ERR_DB;
	}
	if (current > latest) {
		*err_out = xasprintf("database schema version %d is newer than "
		                     "this Manager knows (%d); use a newer "
		                     "flamenco-manager",
		    current, latest);
		return FM_ERR_INVALID;
	}
	for (int i = 0; i < latest; i++) {
		int number = atoi(embedded_migrations[i].name);

		if (number != i + 1) {
			*err_out = xasprintf("migration %s is out of sequence "
			                     "(expected number %d)",
			    embedded_migrations[i].name, i + 1);
			return FM_ERR_INTERNAL;
		}
	}
	if (current == latest)
		return FM_OK;
	sqlite3_exec(db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL);
	for (int i = current; i < latest && rc == FM_OK; i++)
		rc = apply_one(db, &embedded_migrations[i], i + 1, err_out);
	sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	return rc;
}
