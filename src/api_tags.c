/*
 * Farm admin endpoints for worker tags (fetchWorkerTags and
 * friends in api/openapi.yaml). A tagged job only
 * goes to workers that are members of its tag (the scheduler's rule);
 * memberships are set per worker in api_worker_mgt.c.
 */
#include "api.h"

#include <ctype.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "app.h"
#include "http.h"
#include "ids.h"
#include "log.h"
#include "store.h"
#include "store_tags.h"

/* Answer 400 unless the {tag_id} path parameter is a UUID. */
static bool
valid_tag_id(struct req *req)
{
	if (ids_valid_uuid(req_param(req, "tag_id")))
		return true;
	http_reply_error(req, 400, "tag ID is not a valid UUID");
	return false;
}

/* Limits in bytes (README, Limits). */
#define TAG_NAME_MAX        256
#define TAG_DESCRIPTION_MAX 4096

/*
 * Read an optional string member of at most max bytes into *out
 * (borrowed, NULL when absent or null); answers 400 and returns false
 * when it is not a string, is longer, or holds a NUL character.
 */
static bool
optional_string(struct req *req, const char *key, size_t max, const char **out)
{
	json_t *v = json_object_get(req_json(req), key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return true;
	if (!json_is_string(v)) {
		http_reply_error(req, 400, "\"%s\" must be a string", key);
		return false;
	}
	if (json_string_length(v) > max) {
		http_reply_error(
		    req, 400, "\"%s\" must be at most %zu bytes", key, max);
		return false;
	}
	if (memchr(json_string_value(v), '\0', json_string_length(v))) {
		http_reply_error(
		    req, 400, "\"%s\" must not contain NUL characters", key);
		return false;
	}
	*out = json_string_value(v);
	return true;
}

/* The body's "name" and optional "description"; answers 400 if bad. */
static bool
name_and_description(
    struct req *req, const char **name_out, const char **description_out)
{
	if (!json_is_object(req_json(req))) {
		http_reply_error(req, 400, "expected a JSON object");
		return false;
	}
	if (!optional_string(req, "name", TAG_NAME_MAX, name_out) ||
	    !optional_string(
	        req, "description", TAG_DESCRIPTION_MAX, description_out))
		return false;
	if (*name_out == NULL || (*name_out)[0] == '\0') {
		http_reply_error(req, 400, "\"name\" is required");
		return false;
	}
	return true;
}

enum tag_op {
	TAG_CREATE,
	TAG_UPDATE,
	TAG_DELETE,
};

/*
 * Run one change in a write transaction and turn its errors into
 * replies: 404 unknown tag, 409 with the clash. Replies nothing on
 * success.
 */
static enum fm_err
tag_tx(struct req *req, enum tag_op op, const char *uuid, const char *name,
    const char *description, bool *done_out)
{
	struct fm_ctx *ctx = req_app(req);
	struct store_conn *conn = store_acquire(ctx->store);
	const char *why = NULL;
	enum fm_err rc;

	*done_out = false;
	rc = store_begin(conn, true);
	if (rc == FM_OK) {
		switch (op) {
		case TAG_CREATE:
			rc = store_tags_create(
			    conn, uuid, name, description, &why);
			break;
		case TAG_UPDATE:
			rc = store_tags_update(
			    conn, uuid, name, description, &why);
			break;
		case TAG_DELETE:
			rc = store_tags_delete(conn, uuid);
			break;
		}
	}
	if (rc == FM_OK)
		rc = store_commit(conn);
	else
		store_rollback(conn);
	store_release(ctx->store, conn);
	if (rc == FM_OK) {
		*done_out = true;
		return FM_OK;
	}
	if (rc == FM_ERR_NOTFOUND)
		return http_reply_error(req, 404, "no such worker tag");
	if (rc == FM_ERR_CONFLICT && why != NULL)
		return http_reply_error(req, 409, "%s", why);
	return rc;
}

static enum fm_err
list_tags(struct req *req)
{
	struct fm_ctx *ctx = req_app(req);
	struct store_conn *conn = store_acquire(ctx->store);
	json_t *list;
	enum fm_err rc = store_tags_list(conn, &list);

	store_release(ctx->store, conn);
	if (rc != FM_OK)
		return rc;
	return http_reply_json(req, 200, list);
}

static enum fm_err
create_tag(struct req *req)
{
	const char *name, *description, *id;
	char uuid[ID_UUID_LEN + 1];
	json_t *tag;
	bool done;
	enum fm_err rc;

	if (!name_and_description(req, &name, &description) ||
	    !optional_string(req, "id", SIZE_MAX, &id))
		return FM_OK;
	if (id == NULL || id[0] == '\0') {
		ids_new_uuid(uuid);
	} else if (ids_valid_uuid(id)) {
		/* IDs are lower case everywhere else; keep it so. */
		for (size_t i = 0; i <= ID_UUID_LEN; i++)
			uuid[i] = (char)tolower((unsigned char)id[i]);
	} else {
		return http_reply_error(req, 400, "\"id\" is not a valid UUID");
	}
	rc = tag_tx(req, TAG_CREATE, uuid, name, description, &done);
	if (!done)
		return rc;
	log_info("worker tag %s (%s) created", name, uuid);
	tag = json_pack("{s:s, s:s}", "id", uuid, "name", name);
	if (description != NULL && description[0] != '\0')
		json_object_set_new(
		    tag, "description", json_string(description));
	return http_reply_json(req, 200, tag);
}

static enum fm_err
get_tag(struct req *req)
{
	struct fm_ctx *ctx = req_app(req);
	struct store_conn *conn;
	json_t *tag;
	enum fm_err rc;

	if (!valid_tag_id(req))
		return FM_OK;
	conn = store_acquire(ctx->store);
	rc = store_tags_get(conn, req_param(req, "tag_id"), &tag);
	store_release(ctx->store, conn);
	if (rc == FM_ERR_NOTFOUND)
		return http_reply_error(req, 404, "no such worker tag");
	if (rc != FM_OK)
		return rc;
	return http_reply_json(req, 200, tag);
}

static enum fm_err
update_tag(struct req *req)
{
	const char *name, *description;
	bool done;
	enum fm_err rc;

	if (!valid_tag_id(req) ||
	    !name_and_description(req, &name, &description))
		return FM_OK;
	rc = tag_tx(req, TAG_UPDATE, req_param(req, "tag_id"), name,
	    description, &done);
	if (!done)
		return rc;
	return http_reply_empty(req, 204);
}

static enum fm_err
delete_tag(struct req *req)
{
	bool done;
	enum fm_err rc;

	if (!valid_tag_id(req))
		return FM_OK;
	rc = tag_tx(
	    req, TAG_DELETE, req_param(req, "tag_id"), NULL, NULL, &done);
	if (!done)
		return rc;
	log_info("worker tag %s deleted", req_param(req, "tag_id"));
	return http_reply_empty(req, 204);
}

static const struct route routes[] = {
	{
	    .method = "GET",
	    .pattern = "/api/v3/worker-mgt/tags",
	    .fn = list_tags,
	},
	{
	    .method = "POST",
	    .pattern = "/api/v3/worker-mgt/tags",
	    .fn = create_tag,
	    .flags = ROUTE_JSON_BODY | ROUTE_ADMIN,
	},
	{
	    .method = "GET",
	    .pattern = "/api/v3/worker-mgt/tag/{tag_id}",
	    .fn = get_tag,
	},
	{
	    .method = "PUT",
	    .pattern = "/api/v3/worker-mgt/tag/{tag_id}",
	    .fn = update_tag,
	    .flags = ROUTE_JSON_BODY | ROUTE_ADMIN,
	},
	{
	    .method = "DELETE",
	    .pattern = "/api/v3/worker-mgt/tag/{tag_id}",
	    .fn = delete_tag,
	    .flags = ROUTE_ADMIN,
	},
};

const struct route_table api_tags_routes = { routes, nitems(routes) };
