/*
 * Worker tags (the WorkerTag operations): create, read, update and delete, in
 * the API's WorkerTag shape {"id", "name", "description"?}. Deleting a tag
 * drops its memberships and un-tags its jobs through the schema's foreign keys.
 */
#ifndef FM_STORE_TAGS_H
#define FM_STORE_TAGS_H

#include <jansson.h>

#include "fm.h"

struct store_conn;

/* {"tags": [WorkerTag...]} sorted by name (new). */
FM_MUST_CHECK enum fm_err store_tags_list(
    struct store_conn *conn, json_t **list_out);

/* One WorkerTag (new); FM_ERR_NOTFOUND when unknown. */
FM_MUST_CHECK enum fm_err store_tags_get(
    struct store_conn *conn, const char *uuid, json_t **tag_out);

/*
 * Insert a tag; description may be NULL (= ""). FM_ERR_CONFLICT when the
 * UUID or the name is taken, with static text for the reply in *why_out.
 * Runs in the caller's write transaction.
 */
FM_MUST_CHECK enum fm_err store_tags_create(struct store_conn *conn,
    const char *uuid, const char *name, const char *description,
    const char **why_out);

/*
 * Rename a tag, and set its description when description is not NULL.
 * FM_ERR_NOTFOUND when unknown; FM_ERR_CONFLICT (with *why_out) when
 * another tag has the name. Runs in the caller's write transaction.
 */
FM_MUST_CHECK enum fm_err store_tags_update(struct store_conn *conn,
    const char *uuid, const char *name, const char *description,
    const char **why_out);

/* Delete a tag; FM_ERR_NOTFOUND when unknown. */
FM_MUST_CHECK enum fm_err store_tags_delete(
    struct store_conn *conn, const char *uuid);

#endif
