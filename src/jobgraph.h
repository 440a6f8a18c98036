/*
 * A job's dependency graph for GET /api/v3/jobs/{job_id}/graph: its tasks
 * and the edges between them, the jobs it waits for (with the upstream
 * tasks each dependency selects) and the jobs that wait for it, all with
 * their statuses; as JSON or as Graphviz DOT.
 */
#ifndef FM_JOBGRAPH_H
#define FM_JOBGRAPH_H

#include <jansson.h>

#include "fm.h"

struct store_conn;

/* At most this many task nodes and edges; "truncated" says when more. */
#define JOBGRAPH_MAX_TASKS 2000
#define JOBGRAPH_MAX_EDGES 20000

/*
 * {"job", "truncated", "max_tasks", "max_edges", "jobs": [{"id", "name",
 * "status", "role": "self"|"upstream"|"downstream"}], "tasks": [{"id",
 * "job", "name", "type", "status"}], "edges": [{"from", "to"}] ("to"
 * waits for "from"), "job_edges": [{"from_job", "to_job", "tasks"?,
 * "waiting"?, "remaining", "satisfied", "from_tasks": [task ids]}]} (new);
 * FM_ERR_NOTFOUND when the job is unknown.
 */
FM_MUST_CHECK enum fm_err jobgraph_json(
    struct store_conn *conn, const char *job_uuid, json_t **out);

/* The graph of jobgraph_json() as DOT text (new, NUL-terminated). */
char *jobgraph_dot(const json_t *graph);

#endif
