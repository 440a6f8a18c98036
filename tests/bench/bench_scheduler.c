/*
 * Scheduler benchmark: fills a fresh database with N queued tasks spread
 * over J jobs (in each job every task depends on the job's first task),
 * then measures task assignment: choose + assign + commit, the work of
 * POST /api/v3/worker/task without HTTP. Completing each task (not timed)
 * keeps the queue moving as on a real farm.
 *
 * usage: bench_scheduler TASKS JOBS [ASSIGNMENTS]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

int
main(int argc, char **argv)
{
	int64_t ntasks = argc > 1 ? atoll(argv[1]) : 100000;
	int njobs = argc > 2 ? atoi(argv[2]) : 100;
	int nassign = argc > 3 ? atoi(argv[3]) : 2000;
	char dir[] = "/tmp/fm-bench-sched-XXXXXX", *db, *err = NULL;
	struct worker workers[NWORKERS];
	struct fm_config *cfg;
	struct store *store;
	struct status_ctx sc;
	int64_t *lat, t0, total_assign = 0, insert_us = 0;
	double sum = 0;

	if (mkdtemp(dir) == NULL ||
	    config_load(NULL, true, &cfg, &err) != FM_OK)
		return 1;
	db = xasprintf("%s/db.sqlite", dir);
	free(cfg->local_manager_storage_path);
	cfg->local_manager_storage_path = xasprintf("%s/storage", dir);
	mkdir(cfg->local_manager_storage_path, 0755);
	log_set_level(LOG_LEVEL_WARN);
	if (store_open(db, 2, &store, &err) != FM_OK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	sc.cfg = cfg;
	sc.conn = store_acquire(store);

	t0 = time_mono_us();
	for (int j = 0; j < njobs; j++) {
		json_t *job = make_job(ntasks / njobs, j);
		int64_t i0 = time_mono_us();

		insert_us -= i0;
		if (store_jobs_insert(sc.conn, job) != FM_OK) {
			fprintf(stderr, "cannot store job %d\n", j);
			return 1;
		}
		insert_us += time_mono_us();
		json_decref(job);
	}
	printf("stored %" PRId64 " tasks in %d jobs in %.1f s (%.1f s of it "
	       "in store_jobs_insert)\n",
	    ntasks / njobs * njobs, njobs, (time_mono_us() - t0) / 1e6,
	    insert_us / 1e6);

	for (int i = 0; i < NWORKERS; i++) {
		char secret[] = "0123456789abcdef0123456789abcdef";
		char uuid[ID_UUID_LEN + 1];

		if (store_workers_register(sc.conn, "bench", secret, "linux",
		        "misc", "127.0.0.1", uuid) != FM_OK ||
		    store_workers_auth(sc.conn, uuid, secret, &workers[i]) !=
		        FM_OK ||
		    store_workers_set_status(sc.conn, workers[i].id,
		        WORKER_STATUS_AWAKE, true) != FM_OK) {
			fprintf(stderr, "cannot set up worker %d\n", i);
			return 1;
		}
	}

	lat = xcalloc((size_t)nassign, sizeof(*lat));
	for (int i = 0; i < nassign; i++) {
		struct worker *w = &workers[i % NWORKERS];
		json_t *assigned = NULL;
		struct task_row t;
		int64_t a0 = time_mono_us();

		if (store_begin(sc.conn, true) != FM_OK ||
		    scheduler_assign(&sc, w, &assigned) != FM_OK ||
		    store_commit(sc.conn) != FM_OK) {
			fprintf(stderr, "assignment %d failed\n", i);
			return 1;
		}
		lat[i] = time_mono_us() - a0;
		total_assign += lat[i];
		/* Not timed: the worker finishes the task. */
		if (store_begin(sc.conn, true) != FM_OK ||
		    store_status_load_task(sc.conn,
		        json_string_value(json_object_get(assigned, "uuid")),
		        &t) != FM_OK ||
		    store_status_task(&sc, &t, TASK_STATUS_COMPLETED, NULL) !=
		        FM_OK ||
		    store_commit(sc.conn) != FM_OK)
			return 1;
		json_decref(assigned);
	}
	for (int i = 0; i < nassign; i++)
		sum += (double)lat[i];
	qsort(lat, (size_t)nassign, sizeof(*lat), cmp_i64);
	printf("%d assignments with %" PRId64 " tasks queued: median %.3f ms, "
	       "p99 %.3f ms, max %.3f ms, mean %.3f ms, %.0f assignments/s\n",
	    nassign, ntasks, lat[nassign / 2] / 1000.0,
	    lat[nassign * 99 / 100] / 1000.0, lat[nassign - 1] / 1000.0,
	    sum / nassign / 1000.0, nassign / (total_assign / 1e6));
	store_release(store, sc.conn);
	store_close(store);
	config_free(cfg);
	free(lat);
	free(db);
	for (int i = 0; i < NWORKERS; i++)
		worker_clear(&workers[i]);
	if (system("rm -rf /tmp/fm-bench-sched-*") != 0)
		return 1;
	return 0;
}
