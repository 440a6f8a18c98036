/*
 * Worker records for resource-driven steps: one query, tags gathered by
 * a correlated subquery over the membership index.
 */
#include "store_openjd.h"

#include <string.h>

#include "store_internal.h"
#include "xmalloc.h"

static const char sql_records[] =
    "SELECT w.uuid, w.name, w.platform, w.status, w.address, w.software, "
    "w.supported_task_types, (SELECT json_group_array(t.name) FROM "
    "worker_tag_membership m JOIN worker_tags t ON t.id = m.worker_tag_id "
    "WHERE m.worker_id = w.id) FROM workers w WHERE w.deleted_at IS NULL "
    "AND (?1 = 0 OR EXISTS (SELECT 1 FROM worker_tag_membership m "
    "WHERE m.worker_id = w.id AND m.worker_tag_id = ?1)) "
    "AND instr(',' || w.supported_task_types || ',', ',' || ?2 || ',') > 0 "
    "ORDER BY w.name, w.id";

static json_t *
record_json(sqlite3_stmt *st)
{
	json_t *types = json_array();
	json_t *tags = json_loads(store_text(st, 7), 0, NULL);
	char *list = xstrdup(store_text(st, 6)), *save = NULL;

	for (char *p = strtok_r(list, ",", &save); p != NULL;
	     p = strtok_r(NULL, ",", &save))
		if (p[0] != '\0')
			json_array_append_new(types, json_string(p));
	free(list);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:o}", "uuid",
	    store_text(st, 0), "name", store_text(st, 1), "platform",
	    store_text(st, 2), "status", store_text(st, 3), "address",
	    store_text(st, 4), "software", store_text(st, 5), "tags",
	    json_is_array(tags) ? tags : json_array(), "task_types", types);
}

enum fm_err
store_workers_records(struct store_conn *conn, int64_t tag_id,
    const char *task_type, json_t **records_out)
{
	sqlite3_stmt *st;

	*records_out = NULL;
	if ((st = store_stmt(conn, sql_records)) == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, tag_id);
	sqlite3_bind_text(st, 2, task_type, -1, SQLITE_STATIC);
	return store_collect(
	    conn, st, record_json, "listing workers as records", records_out);
}
