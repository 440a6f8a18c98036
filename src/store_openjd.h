/*
 * What OpenJD job types need from the store: the Manager's workers as
 * records a resource-driven step selects from (openjd_expand.h).
 */
#ifndef FM_STORE_OPENJD_H
#define FM_STORE_OPENJD_H

#include <jansson.h>
#include <stdint.h>

#include "fm.h"

struct store_conn;

/*
 * Every worker not deleted that may run a task of task_type for a job
 * with worker tag tag_id (0: none), by name: [{"uuid", "name",
 * "platform", "status", "address", "software", "tags": [tag names],
 * "task_types": [supported task types]}] (new).
 */
FM_MUST_CHECK enum fm_err store_workers_records(struct store_conn *conn,
    int64_t tag_id, const char *task_type, json_t **records_out);

#endif
