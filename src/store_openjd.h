/*
 * What OpenJD job types need from the store: the Manager's workers as
 * records a resource-driven step selects from (openjd_expand.h).
 */
#ifndef FM_STORE_OPENJD_H
#define FM_STORE_OPENJD_H

#include <jansson.h>

#include "fm.h"

struct store_conn;

/*
 * Every worker not deleted, by name: [{"uuid", "name", "platform",
 * "status", "address", "software", "tags": [tag names], "task_types":
 * [supported task types]}] (new).
 */
FM_MUST_CHECK enum fm_err store_workers_records(
    struct store_conn *conn, json_t **records_out);

#endif
