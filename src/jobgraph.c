/*
 * Job graphs. Cross-job dependencies are stored per dependency, not per
 * task pair (migration 0003), and are drawn the same way: one edge per
 * dependency, listing the upstream tasks it selects, instead of one edge
 * per pair of tasks.
 */
#include "jobgraph.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "uuidmap.h"
#include "xmalloc.h"

static const char sql_job[] =
    "SELECT id, uuid, name, status FROM jobs WHERE uuid = ?1";
static const char sql_tasks[] =
    "SELECT uuid, name, type, status FROM tasks WHERE job_id = ?1 "
    "AND (?2 = 'job' OR (?2 = 'type' AND type = ?3) "
    "OR (?2 = 'name' AND name GLOB ?3)) ORDER BY index_in_job LIMIT ?4";
static const char sql_edges[] =
    "SELECT a.uuid, b.uuid FROM tasks b JOIN task_dependencies td "
    "ON td.task_id = b.id JOIN tasks a ON a.id = td.dependency_id "
    "WHERE b.job_id = ?1 ORDER BY b.index_in_job LIMIT ?2";
static const char sql_upstream[] =
    "SELECT u.id, u.uuid, u.name, u.status, d.upstream_kind, "
    "d.upstream_match, d.waiting_kind, d.waiting_match, d.remaining "
    "FROM job_dependencies d JOIN jobs u ON u.id = d.upstream_job_id "
    "WHERE d.job_id = ?1 ORDER BY d.id";
static const char sql_downstream[] =
    "SELECT w.id, w.uuid, w.name, w.status, d.upstream_kind, "
    "d.upstream_match, d.waiting_kind, d.waiting_match, d.remaining "
    "FROM job_dependencies d JOIN jobs w ON w.id = d.job_id "
    "WHERE d.upstream_job_id = ?1 ORDER BY d.id";

struct graph {
	json_t *root, *jobs, *tasks, *edges, *job_edges;
	struct uuid_map seen; /* task uuids in "tasks" */
	bool truncated;
};

static bool
job_listed(const struct graph *g, const char *uuid)
{
	size_t i;
	json_t *j;

	json_array_foreach (g->jobs, i, j)
		if (strcmp(json_string_value(json_object_get(j, "id")), uuid) ==
		    0)
			return true;
	return false;
}

static void
add_job(struct graph *g, sqlite3_stmt *st, int col, const char *role)
{
	if (job_listed(g, store_text(st, col)))
		return;
	json_array_append_new(g->jobs,
	    json_pack("{s:s, s:s, s:s, s:s}", "id", store_text(st, col), "name",
	        store_text(st, col + 1), "status", store_text(st, col + 2),
	        "role", role));
}

/* Add the job's tasks that sel picks; their ids go to ids_out if set. */
static enum fm_err
add_tasks(struct store_conn *conn, struct graph *g, int64_t job_id,
    const char *job_uuid, const char *kind, const char *match, json_t *ids)
{
	sqlite3_stmt *st = store_stmt(conn, sql_tasks);
	int64_t room = JOBGRAPH_MAX_TASKS - (int64_t)json_array_size(g->tasks);
	int step, n = 0;

	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, match, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, room + 1);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *uuid = store_text(st, 0);

		if (n++ == room) {
			g->truncated = true;
			break;
		}
		if (ids != NULL)
			json_array_append_new(ids, json_string(uuid));
		if (uuid_map_get(&g->seen, uuid) != 0)
			continue;
		json_array_append_new(g->tasks,
		    json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", uuid, "job",
		        job_uuid, "name", store_text(st, 1), "type",
		        store_text(st, 2), "status", store_text(st, 3)));
		/* Keys are borrowed: point at the stored JSON string. */
		uuid_map_put(&g->seen,
		    json_string_value(json_object_get(
		        json_array_get(g->tasks, json_array_size(g->tasks) - 1),
		        "id")),
		    1);
	}
	sqlite3_reset(st);
	return step == SQLITE_ROW || step == SQLITE_DONE
	    ? FM_OK
	    : store_error(conn, step, "reading graph tasks");
}

static enum fm_err
add_edges(struct store_conn *conn, struct graph *g, int64_t job_id)
{
	sqlite3_stmt *st = store_stmt(conn, sql_edges);
	int step, n = 0;

	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, JOBGRAPH_MAX_EDGES + 1);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++ == JOBGRAPH_MAX_EDGES) {
			g->truncated = true;
			break;
		}
		if (uuid_map_get(&g->seen, store_text(st, 0)) == 0 ||
		    uuid_map_get(&g->seen, store_text(st, 1)) == 0)
			continue;
		json_array_append_new(g->edges,
		    json_pack("{s:s, s:s}", "from", store_text(st, 0), "to",
		        store_text(st, 1)));
	}
	sqlite3_reset(st);
	return step == SQLITE_ROW || step == SQLITE_DONE
	    ? FM_OK
	    : store_error(conn, step, "reading graph edges");
}

static json_t *
selector_json(const char *kind, const char *match)
{
	return strcmp(kind, "job") == 0 ? NULL
	                                : json_pack("{s:s}", kind, match);
}

/* The upstream rows, read whole first: add_tasks() steps another
 * statement per row. */
static enum fm_err
read_rows(
    struct store_conn *conn, const char *sql, int64_t job_id, json_t **rows_out)
{
	sqlite3_stmt *st = store_stmt(conn, sql);
	int step;

	*rows_out = json_array();
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, job_id);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *row = json_array();

		for (int c = 0; c < 9; c++)
			json_array_append_new(row,
			    c == 0 || c == 8
			        ? json_integer(sqlite3_column_int64(st, c))
			        : json_string(store_text(st, c)));
		json_array_append_new(*rows_out, row);
	}
	sqlite3_reset(st);
	return step == SQLITE_DONE
	    ? FM_OK
	    : store_error(conn, step, "reading job dependencies");
}

static const char *
row_text(const json_t *row, size_t i)
{
	return json_string_value(json_array_get(row, i));
}

static json_t *
row_edge(const json_t *row, const char *from, const char *to)
{
	json_int_t left = json_integer_value(json_array_get(row, 8));
	json_t *e = json_pack("{s:s, s:s, s:I, s:b}", "from_job", from,
	    "to_job", to, "remaining", left, "satisfied", left == 0);
	json_t *sel = selector_json(row_text(row, 4), row_text(row, 5));

	if (sel != NULL)
		json_object_set_new(e, "tasks", sel);
	sel = selector_json(row_text(row, 6), row_text(row, 7));
	if (sel != NULL)
		json_object_set_new(e, "waiting", sel);
	return e;
}

static void
add_row_job(struct graph *g, const json_t *row, const char *role)
{
	if (job_listed(g, row_text(row, 1)))
		return;
	json_array_append_new(g->jobs,
	    json_pack("{s:s, s:s, s:s, s:s}", "id", row_text(row, 1), "name",
	        row_text(row, 2), "status", row_text(row, 3), "role", role));
}

static enum fm_err
add_job_edges(
    struct store_conn *conn, struct graph *g, int64_t job_id, const char *uuid)
{
	json_t *rows = NULL, *row;
	enum fm_err rc;
	size_t i;

	if ((rc = read_rows(conn, sql_upstream, job_id, &rows)) != FM_OK)
		goto done;
	json_array_foreach (rows, i, row) {
		json_t *e = row_edge(row, row_text(row, 1), uuid);
		json_t *ids = json_array();

		add_row_job(g, row, "upstream");
		rc = add_tasks(conn, g,
		    json_integer_value(json_array_get(row, 0)),
		    row_text(row, 1), row_text(row, 4), row_text(row, 5), ids);
		json_object_set_new(e, "from_tasks", ids);
		json_array_append_new(g->job_edges, e);
		if (rc != FM_OK)
			goto done;
	}
	json_decref(rows);
	if ((rc = read_rows(conn, sql_downstream, job_id, &rows)) != FM_OK)
		goto done;
	json_array_foreach (rows, i, row) {
		json_t *e = row_edge(row, uuid, row_text(row, 1));

		add_row_job(g, row, "downstream");
		json_object_set_new(e, "from_tasks", json_array());
		json_array_append_new(g->job_edges, e);
	}
done:
	json_decref(rows);
	return rc;
}

enum fm_err
jobgraph_json(struct store_conn *conn, const char *job_uuid, json_t **out)
{
	sqlite3_stmt *st = store_stmt(conn, sql_job);
	struct graph g = { 0 };
	int64_t job_id;
	enum fm_err rc;
	int step;

	*out = NULL;
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_text(st, 1, job_uuid, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step != SQLITE_ROW) {
		sqlite3_reset(st);
		return step == SQLITE_DONE
		    ? FM_ERR_NOTFOUND
		    : store_error(conn, step, "reading a job");
	}
	job_id = sqlite3_column_int64(st, 0);
	g.jobs = json_array();
	add_job(&g, st, 1, "self");
	sqlite3_reset(st);
	g.tasks = json_array();
	g.edges = json_array();
	g.job_edges = json_array();
	uuid_map_init(&g.seen, JOBGRAPH_MAX_TASKS);
	rc = add_tasks(conn, &g, job_id, job_uuid, "job", "", NULL);
	if (rc == FM_OK)
		rc = add_edges(conn, &g, job_id);
	if (rc == FM_OK)
		rc = add_job_edges(conn, &g, job_id, job_uuid);
	/* The map's keys point into g.tasks: free it first. */
	uuid_map_free(&g.seen);
	if (rc == FM_OK)
		*out = json_pack("{s:s, s:b, s:i, s:i, s:o, s:o, s:o, s:o}",
		    "job", job_uuid, "truncated", g.truncated, "max_tasks",
		    JOBGRAPH_MAX_TASKS, "max_edges", JOBGRAPH_MAX_EDGES, "jobs",
		    g.jobs, "tasks", g.tasks, "edges", g.edges, "job_edges",
		    g.job_edges);
	else {
		json_decref(g.jobs);
		json_decref(g.tasks);
		json_decref(g.edges);
		json_decref(g.job_edges);
	}
	return rc;
}

/* --- DOT ---------------------------------------------------------- */

/* s as the inside of a DOT string: quotes and backslashes escaped,
 * control characters as spaces. */
static void
dot_text(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc((unsigned char)*s < 0x20 ? ' ' : *s, f);
	}
}

static const char *
status_color(const char *status)
{
	static const char *const colors[][2] = {
		{ "completed", "palegreen" },
		{ "active", "lightskyblue" },
		{ "failed", "salmon" },
		{ "soft-failed", "orange" },
		{ "canceled", "gray80" },
		{ "paused", "khaki" },
	};

	for (size_t i = 0; i < nitems(colors); i++)
		if (strcmp(status, colors[i][0]) == 0)
			return colors[i][1];
	return "white";
}

static const char *
get(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL ? s : "";
}

/* The first task of job uuid in the graph (for edges to its cluster). */
static const char *
first_task(const json_t *graph, const char *uuid)
{
	size_t i;
	json_t *t;

	json_array_foreach (json_object_get(graph, "tasks"), i, t)
		if (strcmp(get(t, "job"), uuid) == 0)
			return get(t, "id");
	return NULL;
}

static void
dot_job(FILE *f, const json_t *graph, const json_t *job, size_t k)
{
	const char *uuid = get(job, "id");
	size_t i;
	json_t *t;

	if (first_task(graph, uuid) == NULL) {
		/* A job drawn without its tasks (one that waits for this). */
		fprintf(f, "  \"job-%s\" [shape=box3d, label=\"", uuid);
		dot_text(f, get(job, "name"));
		fprintf(f, "\\n%s\", fillcolor=%s];\n", get(job, "status"),
		    status_color(get(job, "status")));
		return;
	}
	fprintf(f, "  subgraph \"cluster_%zu\" {\n    label=\"", k);
	dot_text(f, get(job, "name"));
	fprintf(f, " (%s, %s)\";\n", get(job, "status"), get(job, "role"));
	json_array_foreach (json_object_get(graph, "tasks"), i, t) {
		if (strcmp(get(t, "job"), uuid) != 0)
			continue;
		fprintf(f, "    \"%s\" [label=\"", get(t, "id"));
		dot_text(f, get(t, "name"));
		fprintf(f, "\\n%s\", fillcolor=%s];\n", get(t, "status"),
		    status_color(get(t, "status")));
	}
	fputs("  }\n", f);
}

/* The cluster index of job uuid, for lhead/ltail. */
static size_t
cluster_of(const json_t *graph, const char *uuid)
{
	size_t i;
	json_t *j;

	json_array_foreach (json_object_get(graph, "jobs"), i, j)
		if (strcmp(get(j, "id"), uuid) == 0)
			return i;
	return 0;
}

static void
dot_job_edge(FILE *f, const json_t *graph, const json_t *e, size_t k)
{
	const char *from = get(e, "from_job"), *to = get(e, "to_job");
	const char *to_task = first_task(graph, to);
	const json_t *ids = json_object_get(e, "from_tasks");
	size_t i;
	json_t *id;

	fprintf(f, "  \"dep-%zu\" [shape=diamond, label=\"", k);
	if (json_is_true(json_object_get(e, "satisfied")))
		fputs("met", f);
	else
		fprintf(f, "%lld left",
		    (long long)json_integer_value(
		        json_object_get(e, "remaining")));
	fprintf(f, "\", fillcolor=%s];\n",
	    json_is_true(json_object_get(e, "satisfied")) ? "palegreen"
	                                                  : "white");
	if (json_array_size(ids) > 0) {
		json_array_foreach (ids, i, id)
			fprintf(f, "  \"%s\" -> \"dep-%zu\";\n",
			    json_string_value(id), k);
	} else if (first_task(graph, from) != NULL) {
		fprintf(f, "  \"%s\" -> \"dep-%zu\" [ltail=\"cluster_%zu\"];\n",
		    first_task(graph, from), k, cluster_of(graph, from));
	} else {
		fprintf(f, "  \"job-%s\" -> \"dep-%zu\";\n", from, k);
	}
	if (to_task != NULL)
		fprintf(f, "  \"dep-%zu\" -> \"%s\" [lhead=\"cluster_%zu\"];\n",
		    k, to_task, cluster_of(graph, to));
	else
		fprintf(f, "  \"dep-%zu\" -> \"job-%s\";\n", k, to);
}

char *
jobgraph_dot(const json_t *graph)
{
	char *text = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);
	json_t *v;

	if (f == NULL)
		return xstrdup("digraph {}\n");
	fprintf(f,
	    "digraph \"job %s\" {\n  rankdir=LR;\n  compound=true;\n"
	    "  node [shape=box, style=filled];\n",
	    get(graph, "job"));
	if (json_is_true(json_object_get(graph, "truncated")))
		fprintf(f,
		    "  label=\"truncated: at most %lld tasks and %lld "
		    "edges are drawn\";\n",
		    (long long)json_integer_value(
		        json_object_get(graph, "max_tasks")),
		    (long long)json_integer_value(
		        json_object_get(graph, "max_edges")));
	json_array_foreach (json_object_get(graph, "jobs"), i, v)
		dot_job(f, graph, v, i);
	json_array_foreach (json_object_get(graph, "edges"), i, v)
		fprintf(
		    f, "  \"%s\" -> \"%s\";\n", get(v, "from"), get(v, "to"));
	json_array_foreach (json_object_get(graph, "job_edges"), i, v)
		dot_job_edge(f, graph, v, i);
	fputs("}\n", f);
	fclose(f);
	return text;
}
