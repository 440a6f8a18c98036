/*
 * Job graphs. Cross-job dependencies are stored per dependency, not per
 * task pair (migration 0003), and are drawn the same way: one edge per
 * dependency, listing the upstream tasks it selects, instead of one edge
 * per pair of tasks. Every edge drawn counts toward JOBGRAPH_MAX_EDGES:
 * in-job edges, each upstream task listed in a dependency's from_tasks,
 * and each job waiting for this one; the jobs this one waits for are at
 * most JOBDEPS_MAX rows.
 */
#include "jobgraph.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobdeps.h"
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
    "WHERE d.job_id = ?1 ORDER BY d.id LIMIT ?2";
static const char sql_downstream[] =
    "SELECT w.id, w.uuid, w.name, w.status, d.upstream_kind, "
    "d.upstream_match, d.waiting_kind, d.waiting_match, d.remaining "
    "FROM job_dependencies d JOIN jobs w ON w.id = d.job_id "
    "WHERE d.upstream_job_id = ?1 ORDER BY d.id LIMIT ?2";

struct graph {
	json_t *root, *jobs, *tasks, *edges, *job_edges;
	struct uuid_map seen;   /* task uuids in "tasks" */
	struct uuid_map listed; /* job uuids in "jobs" */
	size_t nedges;          /* edges drawn, see the top of the file */
	bool truncated;
};

/* Add a job unless listed; keys point at the stored JSON string. */
static void
add_job(struct graph *g, const char *uuid, const char *name, const char *status,
    const char *role)
{
	if (uuid_map_get(&g->listed, uuid) != 0)
		return;
	json_array_append_new(g->jobs,
	    json_pack("{s:s, s:s, s:s, s:s}", "id", uuid, "name", name,
	        "status", status, "role", role));
	uuid_map_put(&g->listed,
	    json_string_value(json_object_get(
	        json_array_get(g->jobs, json_array_size(g->jobs) - 1), "id")),
	    1);
}

/*
 * Add the job's tasks that sel picks. With ids (a dependency's
 * from_tasks) each one read is listed there and counts as an edge,
 * whether its node was added now or before; without, only new nodes
 * count, toward JOBGRAPH_MAX_TASKS.
 */
static enum fm_err
add_tasks(struct store_conn *conn, struct graph *g, int64_t job_id,
    const char *job_uuid, const char *kind, const char *match, json_t *ids)
{
	sqlite3_stmt *st = store_stmt(conn, sql_tasks);
	size_t room = JOBGRAPH_MAX_TASKS - json_array_size(g->tasks);
	size_t edge_room = JOBGRAPH_MAX_EDGES - g->nedges;
	int step;

	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, match, -1, SQLITE_STATIC);
	sqlite3_bind_int64(
	    st, 4, (int64_t)(ids != NULL ? edge_room : room) + 1);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *uuid = store_text(st, 0);
		bool known = uuid_map_get(&g->seen, uuid) != 0;

		if ((ids != NULL && g->nedges == JOBGRAPH_MAX_EDGES) ||
		    (!known &&
		        json_array_size(g->tasks) == JOBGRAPH_MAX_TASKS)) {
			g->truncated = true;
			break;
		}
		if (ids != NULL) {
			json_array_append_new(ids, json_string(uuid));
			g->nedges++;
		}
		if (known)
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
		g->nedges++;
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
read_rows(struct store_conn *conn, const char *sql, int64_t job_id,
    int64_t limit, json_t **rows_out)
{
	sqlite3_stmt *st = store_stmt(conn, sql);
	int step;

	*rows_out = json_array();
	if (st == NULL)
		return FM_ERR_DB;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_int64(st, 2, limit);
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
	add_job(g, row_text(row, 1), row_text(row, 2), row_text(row, 3), role);
}

/*
 * The jobs this one waits for and those waiting for it. jobs_row holds
 * the job itself ([id, uuid, name, status]); the job map is sized from
 * the rows, read whole first (add_tasks() steps another statement per
 * row).
 */
static enum fm_err
add_job_edges(struct store_conn *conn, struct graph *g, int64_t job_id,
    const char *uuid, const char *name, const char *status)
{
	json_t *rows = NULL, *downs = NULL, *row;
	size_t room;
	enum fm_err rc;
	size_t i;

	if ((rc = read_rows(conn, sql_upstream, job_id, JOBDEPS_MAX, &rows)) !=
	    FM_OK)
		goto done;
	room = JOBGRAPH_MAX_EDGES - g->nedges;
	if ((rc = read_rows(conn, sql_downstream, job_id, (int64_t)room + 1,
	         &downs)) != FM_OK)
		goto done;
	uuid_map_init(
	    &g->listed, 1 + json_array_size(rows) + json_array_size(downs));
	add_job(g, uuid, name, status, "self");
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
	json_array_foreach (downs, i, row) {
		json_t *e;

		if (g->nedges == JOBGRAPH_MAX_EDGES) {
			g->truncated = true;
			break;
		}
		e = row_edge(row, uuid, row_text(row, 1));
		add_row_job(g, row, "downstream");
		json_object_set_new(e, "from_tasks", json_array());
		json_array_append_new(g->job_edges, e);
		g->nedges++;
	}
done:
	json_decref(rows);
	json_decref(downs);
	return rc;
}

enum fm_err
jobgraph_json(struct store_conn *conn, const char *job_uuid, json_t **out)
{
	sqlite3_stmt *st = store_stmt(conn, sql_job);
	struct graph g = { 0 };
	char *name, *status;
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
	name = xstrdup(store_text(st, 2));
	status = xstrdup(store_text(st, 3));
	sqlite3_reset(st);
	g.jobs = json_array();
	g.tasks = json_array();
	g.edges = json_array();
	g.job_edges = json_array();
	uuid_map_init(&g.seen, JOBGRAPH_MAX_TASKS);
	rc = add_tasks(conn, &g, job_id, job_uuid, "job", "", NULL);
	if (rc == FM_OK)
		rc = add_edges(conn, &g, job_id);
	if (rc == FM_OK)
		rc = add_job_edges(conn, &g, job_id, job_uuid, name, status);
	/* The maps' keys point into g.tasks and g.jobs: free them first. */
	uuid_map_free(&g.seen);
	uuid_map_free(&g.listed);
	free(name);
	free(status);
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

/*
 * Lookups for drawing: each job's cluster index, and the graph's tasks
 * grouped by job (order[start[k] .. start[k + 1]) are the indexes of
 * cluster k's tasks), built once so drawing stays linear.
 */
struct dot_index {
	struct uuid_map cluster; /* job uuid -> index in "jobs" + 1 */
	size_t *order, *start;
};

static void
dot_index_build(const json_t *graph, struct dot_index *x)
{
	const json_t *jobs = json_object_get(graph, "jobs");
	const json_t *tasks = json_object_get(graph, "tasks");
	size_t njobs = json_array_size(jobs), i, *fill;
	json_t *v;

	uuid_map_init(&x->cluster, njobs);
	json_array_foreach (jobs, i, v)
		uuid_map_put(&x->cluster, get(v, "id"), (int64_t)i + 1);
	x->start = xcalloc(njobs + 2, sizeof(*x->start));
	x->order = xcalloc(json_array_size(tasks) + 1, sizeof(*x->order));
	json_array_foreach (tasks, i, v) {
		int64_t k = uuid_map_get(&x->cluster, get(v, "job"));

		if (k > 0)
			x->start[k + 1]++;
	}
	for (i = 1; i <= njobs + 1; i++)
		x->start[i] += x->start[i - 1];
	fill = xmalloc((njobs + 1) * sizeof(*fill));
	memcpy(fill, x->start, (njobs + 1) * sizeof(*fill));
	json_array_foreach (tasks, i, v) {
		int64_t k = uuid_map_get(&x->cluster, get(v, "job"));

		if (k > 0)
			x->order[fill[k]++] = i;
	}
	free(fill);
}

static void
dot_index_free(struct dot_index *x)
{
	uuid_map_free(&x->cluster);
	free(x->order);
	free(x->start);
}

/* The cluster index of job uuid (for lhead/ltail), and through *task_out
 * its first task's id in the graph, NULL when it has none. */
static size_t
cluster_of(const json_t *graph, const struct dot_index *x, const char *uuid,
    const char **task_out)
{
	int64_t k = uuid_map_get(&x->cluster, uuid);

	*task_out = NULL;
	if (k <= 0)
		return 0;
	if (x->start[k] < x->start[k + 1])
		*task_out = get(json_array_get(json_object_get(graph, "tasks"),
		                    x->order[x->start[k]]),
		    "id");
	return (size_t)k - 1;
}

static void
dot_job(FILE *f, const json_t *graph, const struct dot_index *x,
    const json_t *job, size_t k)
{
	const json_t *tasks = json_object_get(graph, "tasks");
	const char *uuid = get(job, "id");

	if (x->start[k + 1] == x->start[k + 2]) {
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
	for (size_t i = x->start[k + 1]; i < x->start[k + 2]; i++) {
		const json_t *t = json_array_get(tasks, x->order[i]);

		fprintf(f, "    \"%s\" [label=\"", get(t, "id"));
		dot_text(f, get(t, "name"));
		fprintf(f, "\\n%s\", fillcolor=%s];\n", get(t, "status"),
		    status_color(get(t, "status")));
	}
	fputs("  }\n", f);
}

static void
dot_job_edge(FILE *f, const json_t *graph, const struct dot_index *x,
    const json_t *e, size_t k)
{
	const char *from = get(e, "from_job"), *to = get(e, "to_job");
	const char *from_task, *to_task;
	size_t from_k = cluster_of(graph, x, from, &from_task);
	size_t to_k = cluster_of(graph, x, to, &to_task);
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
	} else if (from_task != NULL) {
		fprintf(f, "  \"%s\" -> \"dep-%zu\" [ltail=\"cluster_%zu\"];\n",
		    from_task, k, from_k);
	} else {
		fprintf(f, "  \"job-%s\" -> \"dep-%zu\";\n", from, k);
	}
	if (to_task != NULL)
		fprintf(f, "  \"dep-%zu\" -> \"%s\" [lhead=\"cluster_%zu\"];\n",
		    k, to_task, to_k);
	else
		fprintf(f, "  \"dep-%zu\" -> \"job-%s\";\n", k, to);
}

char *
jobgraph_dot(const json_t *graph)
{
	char *text = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);
	struct dot_index x;
	json_t *v;

	if (f == NULL)
		return xstrdup("digraph {}\n");
	dot_index_build(graph, &x);
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
		dot_job(f, graph, &x, v, i);
	json_array_foreach (json_object_get(graph, "edges"), i, v)
		fprintf(
		    f, "  \"%s\" -> \"%s\";\n", get(v, "from"), get(v, "to"));
	json_array_foreach (json_object_get(graph, "job_edges"), i, v)
		dot_job_edge(f, graph, &x, v, i);
	fputs("}\n", f);
	dot_index_free(&x);
	fclose(f);
	return text;
}
