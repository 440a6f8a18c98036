/*
 * Job dependency benchmark, in-process:
 *  1. task assignment p99 with TASKS queued over JOBS jobs, without job
 *     dependencies and with every other job waiting for another one (half
 *     the tasks held back), and in the worst case where every waiting job
 *     outranks every runnable one (target: within 10%);
 *  2. completing the last task of an upstream job that 10,000 tasks wait
 *     for (target < 100 ms);
 *  3. GET .../tasks/{id}/blockers's work with 1,000 workers registered
 *     (target < 5 ms).
 *
 * usage: bench_jobdeps TASKS JOBS [ASSIGNMENTS]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blockers.h"
#include "config.h"
#include "fill.h"
#include "ids.h"
#include "log.h"
#include "scheduler.h"
#include "store.h"
#include "store_jobs.h"
#include "store_status.h"
#include "store_workers.h"
#include "timeutil.h"
#include "xmalloc.h"

#define NWORKERS 8

struct bench {
	char dir[64];
	struct fm_config *cfg;
	struct store *store;
	struct status_ctx sc;
};

static void
open_bench(struct bench *b)
{
	char *db, *err = NULL;

	snprintf(b->dir, sizeof(b->dir), "/tmp/fm-bench-deps-XXXXXX");
	if (mkdtemp(b->dir) == NULL ||
	    config_load(NULL, true, &b->cfg, &err) != FM_OK)
		exit(1);
	db = xasprintf("%s/db.sqlite", b->dir);
	free(b->cfg->local_manager_storage_path);
	b->cfg->local_manager_storage_path = xasprintf("%s/storage", b->dir);
	mkdir(b->cfg->local_manager_storage_path, 0755);
	if (store_open(db, 2, &b->store, &err) != FM_OK) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	free(db);
	b->sc.cfg = b->cfg;
	b->sc.conn = store_acquire(b->store);
}

static void
close_bench(struct bench *b)
{
	char *cmd = xasprintf("rm -rf %s", b->dir);

	store_release(b->store, b->sc.conn);
	store_close(b->store);
	config_free(b->cfg);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", b->dir);
	free(cmd);
}

/* Store a job (stolen); upstream (may be NULL) is what it waits for. */
static void
store_job(struct bench *b, json_t *job, const char *upstream, int priority)
{
	if (upstream != NULL)
		json_object_set_new(
		    job, "depends_on", json_pack("[{s:s}]", "job", upstream));
	json_object_set_new(job, "priority", json_integer(priority));
	if (store_jobs_insert(b->sc.conn, job) != FM_OK) {
		fprintf(stderr, "cannot store a job\n");
		exit(1);
	}
	json_decref(job);
}

static void
add_workers(struct bench *b, int n, const char *types, struct worker *out)
{
	if (store_begin(b->sc.conn, true) != FM_OK)
		exit(1);
	for (int i = 0; i < n; i++) {
		char secret[] = "0123456789abcdef0123456789abcdef";
		char uuid[ID_UUID_LEN + 1];
		struct worker w;

		if (store_workers_register(b->sc.conn, "bench", secret, "linux",
		        types, "127.0.0.1", uuid) != FM_OK ||
		    store_workers_auth(b->sc.conn, uuid, secret, &w) != FM_OK ||
		    store_workers_set_status(
		        b->sc.conn, w.id, WORKER_STATUS_AWAKE, true) != FM_OK)
			exit(1);
		if (out != NULL)
			out[i] = w;
		else
			worker_clear(&w);
	}
	if (store_commit(b->sc.conn) != FM_OK)
		exit(1);
}

static void
complete(struct bench *b, const char *task_uuid)
{
	struct task_row t;

	if (store_status_load_task(b->sc.conn, task_uuid, &t) != FM_OK ||
	    store_status_task(&b->sc, &t, TASK_STATUS_COMPLETED, NULL) != FM_OK)
		exit(1);
}

/* One assignment (timed: choose + assign + commit), then the worker
 * finishes the task (not timed); returns the latency in us. */
static int64_t
assign_one(struct bench *b, struct worker *w)
{
	json_t *assigned = NULL;
	int64_t t0 = time_mono_us(), lat;

	if (store_begin(b->sc.conn, true) != FM_OK ||
	    scheduler_assign(&b->sc, w, &assigned) != FM_OK ||
	    store_commit(b->sc.conn) != FM_OK) {
		fprintf(stderr, "assignment failed\n");
		exit(1);
	}
	lat = time_mono_us() - t0;
	if (store_begin(b->sc.conn, true) != FM_OK)
		exit(1);
	complete(b, json_string_value(json_object_get(assigned, "uuid")));
	if (store_commit(b->sc.conn) != FM_OK)
		exit(1);
	json_decref(assigned);
	return lat;
}

static void
report(const char *what, int64_t *lat, int n)
{
	qsort(lat, (size_t)n, sizeof(*lat), cmp_i64);
	printf("  %-46s median %.3f ms, p90 %.3f ms, p99 %.3f ms\n", what,
	    lat[n / 2] / 1000.0, lat[n * 9 / 10] / 1000.0,
	    lat[n * 99 / 100] / 1000.0);
}

/*
 * Fill b for one mode. 0: no dependencies; 1: odd jobs wait for the even
 * job before them (same priorities as bench_scheduler); 2: the waiting
 * jobs also outrank every runnable job.
 */
static void
fill_mode(struct bench *b, int64_t ntasks, int njobs, int mode)
{
	char up[ID_UUID_LEN + 1] = "";

	open_bench(b);
	for (int j = 0; j < njobs; j++) {
		json_t *job = make_job(ntasks / njobs, j);
		bool waits = mode > 0 && j % 2 == 1;
		int prio =
		    mode == 2 ? (waits ? 90 : 50) : (j % 3 == 0 ? 60 : 50);

		if (!waits)
			snprintf(up, sizeof(up), "%s",
			    json_string_value(json_object_get(job, "id")));
		store_job(b, job, waits ? up : NULL, prio);
	}
}

/* The three modes' databases side by side, assigned from in turns of
 * 50 so that a shared machine's noise falls on all of them alike. */
static void
assignment_runs(int64_t ntasks, int njobs, int nassign)
{
	static const char *const what[] = {
		"no job dependencies:",
		"half the tasks waiting on other jobs:",
		"same, waiting jobs ranked first (worst case):",
	};
	struct worker w[3][NWORKERS];
	struct bench b[3];
	int64_t *lat[3];

	for (int m = 0; m < 3; m++) {
		fill_mode(&b[m], ntasks, njobs, m);
		add_workers(&b[m], NWORKERS, "misc", w[m]);
		lat[m] = xcalloc((size_t)nassign, sizeof(*lat[m]));
	}
	for (int done = 0; done < nassign; done += 50)
		for (int m = 0; m < 3; m++)
			for (int i = done; i < done + 50 && i < nassign; i++)
				lat[m][i] =
				    assign_one(&b[m], &w[m][i % NWORKERS]);
	for (int m = 0; m < 3; m++) {
		report(what[m], lat[m], nassign);
		free(lat[m]);
		for (int i = 0; i < NWORKERS; i++)
			worker_clear(&w[m][i]);
		close_bench(&b[m]);
	}
}

/* Complete the last task of an upstream job that ndown tasks wait for;
 * returns how long that took (us). */
static int64_t
release_run(int64_t ndown)
{
	json_t *upjob = make_job(1000, 1), *tasks;
	char up[ID_UUID_LEN + 1];
	struct bench b;
	int64_t t0;
	size_t i;
	json_t *t;

	open_bench(&b);
	snprintf(up, sizeof(up), "%s",
	    json_string_value(json_object_get(upjob, "id")));
	tasks = json_incref(json_object_get(upjob, "tasks"));
	store_job(&b, upjob, NULL, 50);
	store_job(&b, make_job(ndown, 2), up, 50);
	/* All but the last upstream task done, in one transaction. */
	if (store_begin(b.sc.conn, true) != FM_OK)
		exit(1);
	json_array_foreach (tasks, i, t)
		if (i + 1 < json_array_size(tasks))
			complete(
			    &b, json_string_value(json_object_get(t, "uuid")));
	if (store_commit(b.sc.conn) != FM_OK)
		exit(1);
	t0 = time_mono_us();
	if (store_begin(b.sc.conn, true) != FM_OK)
		exit(1);
	complete(&b,
	    json_string_value(json_object_get(
	        json_array_get(tasks, json_array_size(tasks) - 1), "uuid")));
	if (store_commit(b.sc.conn) != FM_OK)
		exit(1);
	t0 = time_mono_us() - t0;
	json_decref(tasks);
	close_bench(&b);
	return t0;
}

/* blockers_task() for a task that waits, with nworkers registered. */
static void
blockers_run(int nworkers, int64_t ntasks, int njobs)
{
	char up[ID_UUID_LEN + 1] = "", probe[ID_UUID_LEN + 1] = "";
	int64_t lat[1000];
	struct bench b;

	open_bench(&b);
	for (int j = 0; j < njobs; j++) {
		json_t *job = make_job(ntasks / njobs, j);
		bool waits = j % 2 == 1;

		if (!waits)
			snprintf(up, sizeof(up), "%s",
			    json_string_value(json_object_get(job, "id")));
		else if (probe[0] == '\0')
			snprintf(probe, sizeof(probe), "%s",
			    json_string_value(json_object_get(
			        json_array_get(
			            json_object_get(job, "tasks"), 1),
			        "uuid")));
		store_job(&b, job, waits ? up : NULL, 50);
	}
	add_workers(&b, nworkers, "misc,blender", NULL);
	/* Call 0 (not counted) warms the statement and page caches. */
	for (size_t i = 0; i <= nitems(lat); i++) {
		json_t *out = NULL;
		int64_t t0 = time_mono_us();

		if (store_begin(b.sc.conn, false) != FM_OK ||
		    blockers_task(b.sc.conn, probe, &out) != FM_OK)
			exit(1);
		store_rollback(b.sc.conn);
		if (i > 0)
			lat[i - 1] = time_mono_us() - t0;
		json_decref(out);
	}
	qsort(lat, nitems(lat), sizeof(*lat), cmp_i64);
	printf("  blockers of a waiting task, %d workers, %" PRId64
	       " tasks: median %.2f ms, p99 %.2f ms\n",
	    nworkers, ntasks, lat[nitems(lat) / 2] / 1000.0,
	    lat[nitems(lat) * 99 / 100] / 1000.0);
	close_bench(&b);
}

int
main(int argc, char **argv)
{
	int64_t ntasks = argc > 1 ? atoll(argv[1]) : 100000;
	int njobs = argc > 2 ? atoi(argv[2]) : 100;
	int nassign = argc > 3 ? atoi(argv[3]) : 2000;

	log_set_level(LOG_LEVEL_WARN);
	printf("assignment with %" PRId64 " queued tasks in %d jobs "
	       "(target: p99 within 10%% of no dependencies)\n",
	    ntasks, njobs);
	assignment_runs(ntasks, njobs, nassign);
	printf("release of 10,000 waiting tasks (target < 100 ms)\n");
	for (int round = 1; round <= 3; round++)
		printf("  run %d: completing the last of 1,000 upstream tasks "
		       "released 10,000 waiting tasks in %.1f ms (commit "
		       "included)\n",
		    round, release_run(10000) / 1000.0);
	printf("blockers (target < 5 ms)\n");
	blockers_run(1000, ntasks, njobs);
	return 0;
}
