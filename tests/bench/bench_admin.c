/*
 * Admin-read benchmark on a large farm: JOBS jobs with TASKS tasks in all
 * (default 10,000 and 1,000,000), then the time to fetch one job with its
 * task counts, to list a page of 50 jobs, and to render /metrics, each
 * straight on the store (no HTTP).
 *
 * usage: bench_admin [TASKS JOBS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "config.h"
#include "fill.h"
#include "log.h"
#include "metrics.h"
#include "store.h"
#include "store_jobs.h"
#include "xmalloc.h"

#define ROUNDS 200

typedef enum fm_err (*op_fn)(
    struct store_conn *conn, int i, char **ids, int njobs);

static enum fm_err
op_get(struct store_conn *conn, int i, char **ids, int njobs)
{
	json_t *job;
	enum fm_err rc = store_jobs_get(conn, ids[(i * 7919) % njobs], &job);

	json_decref(job);
	return rc;
}

static enum fm_err
op_page(struct store_conn *conn, int i, char **ids, int njobs)
{
	struct store_jobs_filter f = { NULL, NULL, NULL, 50,
		(i * 50) % (njobs > 50 ? njobs - 50 : 1) };
	json_t *jobs;
	enum fm_err rc = store_jobs_list(conn, &f, &jobs);

	(void)ids;
	json_decref(jobs);
	return rc;
}

static enum fm_err
op_metrics(struct store_conn *conn, int i, char **ids, int njobs)
{
	char *text;
	size_t len;
	enum fm_err rc = metrics_render(conn, &text, &len);

	(void)i;
	(void)ids;
	(void)njobs;
	free(text);
	return rc;
}

static void
measure(const char *what, op_fn fn, struct store_conn *conn, char **ids,
    int njobs, const char *target)
{
	int64_t lat[ROUNDS];

	for (int i = 0; i < ROUNDS; i++) {
		int64_t t0 = time_mono_us();

		if (fn(conn, i, ids, njobs) != FM_OK) {
			fprintf(stderr, "%s failed\n", what);
			exit(1);
		}
		lat[i] = time_mono_us() - t0;
	}
	qsort(lat, ROUNDS, sizeof(lat[0]), cmp_i64);
	printf("%-34s median %.3f ms, p99 %.3f ms (target %s)\n", what,
	    lat[ROUNDS / 2] / 1000.0, lat[ROUNDS * 99 / 100] / 1000.0, target);
}

int
main(int argc, char **argv)
{
	int64_t ntasks = argc > 2 ? atoll(argv[1]) : 1000000;
	int njobs = argc > 2 ? atoi(argv[2]) : 10000;
	char dir[] = "/tmp/fm-bench-admin-XXXXXX", *db, *err = NULL;
	struct fm_config *cfg;
	struct store *store;
	struct store_conn *conn;
	char **ids;
	int64_t t0;

	if (mkdtemp(dir) == NULL ||
	    config_load(NULL, true, &cfg, &err) != FM_OK)
		return 1;
	log_set_level(LOG_LEVEL_WARN);
	db = xasprintf("%s/db.sqlite", dir);
	if (store_open(db, 1, &store, &err) != FM_OK) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	conn = store_acquire(store);
	ids = xcalloc((size_t)njobs, sizeof(*ids));
	t0 = time_mono_us();
	for (int j = 0; j < njobs; j++) {
		json_t *job = make_job(ntasks / njobs, j);

		ids[j] = xstrdup(json_string_value(json_object_get(job, "id")));
		if (store_jobs_insert(conn, job) != FM_OK)
			return 1;
		json_decref(job);
	}
	printf("stored %d jobs with %lld tasks in %.1f s\n", njobs,
	    (long long)(ntasks / njobs * njobs), (time_mono_us() - t0) / 1e6);
	measure("GET /jobs/{id} (with task counts)", op_get, conn, ids, njobs,
	    "< 5 ms");
	measure(
	    "GET /jobs?limit=50&offset=N", op_page, conn, ids, njobs, "< 5 ms");
	measure("GET /metrics", op_metrics, conn, ids, njobs, "< 20 ms");
	store_release(store, conn);
	store_close(store);
	for (int j = 0; j < njobs; j++)
		free(ids[j]);
	free(ids);
	free(db);
	config_free(cfg);
	if (system("rm -rf /tmp/fm-bench-admin-*") != 0)
		return 1;
	return 0;
}
