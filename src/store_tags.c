/*
 * Worker tag rows. Names and UUIDs are unique in the schema; clashes are
 * looked up first inside the write transaction, so the reply can say
 * which one clashed instead of relaying a constraint error.
 */
#include "store_tags.h"

#include <stdbool.h>

#include "store_internal.h"
#include "timeutil.h"
#include "xmalloc.h"

static const char sql_list[] =
    "SELECT uuid, name, description FROM worker_tags ORDER BY name, id";
static const char sql_get[] =
    "SELECT uuid, name, description FROM worker_tags WHERE uuid = ?1";
static const char sql_clash[] =
    "SELECT (SELECT count(*) FROM worker_tags WHERE uuid = ?1), "
    "(SELECT count(*) FROM worker_tags WHERE name = ?2 AND uuid <> ?1)";
static const char sql_create[] =
    "INSERT INTO worker_tags (created_at, updated_at, uuid, name, "
    "description) VALUES (?1, ?1, ?2, ?3, ?4)";
static const char sql_update[] =
    "UPDATE worker_tags SET updated_at = ?1, name = ?3, "
    "description = coalesce(?4, description) WHERE uuid = ?2";
static const char sql_delete[] = "DELETE FROM worker_tags WHERE uuid = ?1";

/* WorkerTag from columns uuid, name, description (new). */
static json_t *
tag_json(sqlite3_stmt *st)
{
	json_t *t = json_pack(
	    "{s:s, s:s}", "id", store_text(st, 0), "name", store_text(st, 1));

	if (store_text(st, 2)[0] != '\0')
		json_object_set_new(
		    t, "description", json_string(store_text(st, 2)));
	return t;
}

enum fm_err
store_tags_list(struct store_conn *conn, json_t **list_out)
{
	sqlite3_stmt *st;
	json_t *list;
	enum fm_err rc;

	*list_out = NULL;
	if ((st = store_stmt(conn, sql_list)) == NULL)
		return FM_ERR_DB;
	rc = store_collect(conn, st, tag_json, "listing worker tags", &list);
	if (rc == FM_OK)
		*list_out = json_pack("{s:o}", "tags", list);
	return rc;
}

enum fm_err
store_tags_get(struct store_conn *conn, const char *uuid, json_t **tag_out)
{
	sqlite3_stmt *st;
	int rc;

	*tag_out = NULL;
	if ((st = store_stmt(conn, sql_get)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*tag_out = tag_json(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return FM_ERR_NOTFOUND;
	return rc == SQLITE_ROW ? FM_OK
	                        : store_error(conn, rc, "reading a worker tag");
}

/*
 * Whether uuid exists (*uuid_taken) and whether a tag other than uuid
 * is called name (*name_taken).
 */
static enum fm_err
clash(struct store_conn *conn, const char *uuid, const char *name,
    bool *uuid_taken, bool *name_taken)
{
	sqlite3_stmt *st = store_stmt(conn, sql_clash);
	int rc;

	*uuid_taken = *name_taken = false;
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*uuid_taken = sqlite3_column_int(st, 0) > 0;
		*name_taken = sqlite3_column_int(st, 1) > 0;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW
	    ? FM_OK
	    : store_error(conn, rc, "checking worker tag names");
}

enum fm_err
store_tags_create(struct store_conn *conn, const char *uuid, const char *name,
    const char *description, const char **why_out)
{
	bool uuid_taken, name_taken;
	sqlite3_stmt *st;
	enum fm_err rc;

	*why_out = NULL;
	if ((rc = clash(conn, uuid, name, &uuid_taken, &name_taken)) != FM_OK)
		return rc;
	if (uuid_taken || name_taken) {
		*why_out = uuid_taken
		    ? "a worker tag with this ID already exists"
		    : "a worker tag with this name already "
		      "exists";
		return FM_ERR_CONFLICT;
	}
	if ((st = store_stmt(conn, sql_create)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, time_now_us());
	sqlite3_bind_text(st, 2, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(
	    st, 4, description ? description : "", -1, SQLITE_STATIC);
	store_note(conn, STORE_CHANGED_TAG, uuid, NULL, NULL, NULL);
	return store_step_done(conn, st, "creating a worker tag");
}

enum fm_err
store_tags_update(struct store_conn *conn, const char *uuid, const char *name,
    const char *description, const char **why_out)
{
	bool uuid_taken, name_taken;
	sqlite3_stmt *st;
	enum fm_err rc;

	*why_out = NULL;
	if ((rc = clash(conn, uuid, name, &uuid_taken, &name_taken)) != FM_OK)
		return rc;
	if (!uuid_taken)
		return FM_ERR_NOTFOUND;
	if (name_taken) {
		*why_out = "another worker tag already has this name";
		return FM_ERR_CONFLICT;
	}
	if ((st = store_stmt(conn, sql_update)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, time_now_us());
	sqlite3_bind_text(st, 2, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	if (description != NULL)
		sqlite3_bind_text(st, 4, description, -1, SQLITE_STATIC);
	store_note(conn, STORE_CHANGED_TAG, uuid, NULL, NULL, NULL);
	return store_step_done(conn, st, "updating a worker tag");
}

enum fm_err
store_tags_delete(struct store_conn *conn, const char *uuid)
{
	json_t *tag = NULL;
	sqlite3_stmt *st;
	enum fm_err rc;

	/* Viewers get the name of what went; the row will be gone. */
	if (store_noting(conn) && store_tags_get(conn, uuid, &tag) == FM_OK)
		store_note(conn, STORE_DELETED_TAG, uuid, NULL, NULL,
		    xstrdup(json_string_value(json_object_get(tag, "name"))));
	json_decref(tag);
	if ((st = store_stmt(conn, sql_delete)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	if ((rc = store_step_done(conn, st, "deleting a worker tag")) != FM_OK)
		return rc;
	return store_changes(conn) > 0 ? FM_OK : FM_ERR_NOTFOUND;
}
