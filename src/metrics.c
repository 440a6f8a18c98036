/*
 * Metrics storage is fixed at start-up: one slot per route (found by
 * pointer through a small hash table), each with request counters per
 * status class and a latency histogram. Observing is a few relaxed atomic
 * adds; rendering walks the slots and asks the store for the gauges.
 */
#include "metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"
#include "state.h"
#include "store_internal.h"
#include "store_stats.h"
#include "xmalloc.h"

/* Histogram upper bounds in microseconds; +Inf is implicit. */
static const int64_t bucket_us[] = { 250, 500, 1000, 2500, 5000, 10000, 25000,
	50000, 100000, 250000, 500000, 1000000, 2500000, 10000000 };
#define NBUCKETS (nitems(bucket_us) + 1)

struct histogram {
	atomic_uint_fast64_t buckets[NBUCKETS]; /* not cumulative */
	atomic_uint_fast64_t count;
	atomic_uint_fast64_t sum_us;
};

struct route_slot {
	const struct route *route;
	atomic_uint_fast64_t by_class[6]; /* [status / 100] */
	struct histogram latency;
};

static struct {
	struct route_slot *slots;
	size_t nslots;
	size_t *index; /* hash of route pointer -> slot + 1 */
	size_t mask;
	struct route_slot unmatched; /* 404/405 and the like */
	struct histogram compile;
	struct histogram assign;
} metrics;

static size_t
ptr_hash(const void *p)
{
	uint64_t h = (uint64_t)(uintptr_t)p;

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (size_t)h;
}

void
metrics_init(const struct route_table *const *tables, size_t ntables)
{
	size_t n = 0, k = 0, cap = 16;

	for (size_t t = 0; t < ntables; t++)
		n += tables[t]->nroutes;
	while (cap < 2 * n)
		cap *= 2;
	free(metrics.slots);
	free(metrics.index);
	/* A new app counts from zero, also when it is not the process's
	 * first (the tests start many; the counters live here, not in the
	 * app). */
	memset(&metrics, 0, sizeof(metrics));
	metrics.slots = xcalloc(n ? n : 1, sizeof(*metrics.slots));
	metrics.index = xcalloc(cap, sizeof(*metrics.index));
	metrics.mask = cap - 1;
	metrics.nslots = n;
	for (size_t t = 0; t < ntables; t++) {
		for (size_t i = 0; i < tables[t]->nroutes; i++, k++) {
			size_t h =
			    ptr_hash(&tables[t]->routes[i]) & metrics.mask;

			metrics.slots[k].route = &tables[t]->routes[i];
			while (metrics.index[h] != 0)
				h = (h + 1) & metrics.mask;
			metrics.index[h] = k + 1;
		}
	}
}

static struct route_slot *
slot_for(const struct route *route)
{
	size_t h;

	if (route == NULL || metrics.index == NULL)
		return &metrics.unmatched;
	for (h = ptr_hash(route) & metrics.mask; metrics.index[h] != 0;
	     h = (h + 1) & metrics.mask)
		if (metrics.slots[metrics.index[h] - 1].route == route)
			return &metrics.slots[metrics.index[h] - 1];
	return &metrics.unmatched;
}

static void
histogram_add(struct histogram *h, int64_t us)
{
	size_t b = 0;

	while (b < nitems(bucket_us) && us > bucket_us[b])
		b++;
	atomic_fetch_add_explicit(&h->buckets[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(
	    &h->sum_us, (uint64_t)(us > 0 ? us : 0), memory_order_relaxed);
}

void
metrics_observe_request(
    void *app, const struct route *route, int status, int64_t duration_us)
{
	struct route_slot *s = slot_for(route);
	int cls = status / 100;

	(void)app;
	if (cls < 0 || cls > 5)
		cls = 0;
	atomic_fetch_add_explicit(&s->by_class[cls], 1, memory_order_relaxed);
	histogram_add(&s->latency, duration_us);
}

void
metrics_observe_compile(int64_t duration_us)
{
	histogram_add(&metrics.compile, duration_us);
}

void
metrics_observe_assign(int64_t duration_us)
{
	histogram_add(&metrics.assign, duration_us);
}

/* A growing text buffer. */
struct text {
	char *s;
	size_t len, cap;
};

static void FM_PRINTF(2, 3) emit(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < t->cap - t->len)
			break;
		t->cap = t->cap * 2 + (size_t)(n > 0 ? n : 0) + 64;
		t->s = xrealloc(t->s, t->cap);
	}
	t->len += (size_t)n;
}

static void
emit_histogram(
    struct text *t, const char *name, const char *labels, struct histogram *h)
{
	uint64_t cum = 0;

	for (size_t b = 0; b < NBUCKETS; b++) {
		cum +=
		    atomic_load_explicit(&h->buckets[b], memory_order_relaxed);
		if (b < nitems(bucket_us))
			emit(t, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels,
			    labels[0] ? "," : "", bucket_us[b] / 1e6,
			    (unsigned long long)cum);
		else
			emit(t, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name,
			    labels, labels[0] ? "," : "",
			    (unsigned long long)cum);
	}
	emit(t, "%s_sum%s%s%s %.6f\n", name, labels[0] ? "{" : "", labels,
	    labels[0] ? "}" : "",
	    (double)atomic_load_explicit(&h->sum_us, memory_order_relaxed) /
	        1e6);
	emit(t, "%s_count%s%s%s %llu\n", name, labels[0] ? "{" : "", labels,
	    labels[0] ? "}" : "",
	    (unsigned long long)atomic_load_explicit(
	        &h->count, memory_order_relaxed));
}

static void
emit_route(struct text *t, struct route_slot *s, const char *label)
{
	char labels[300];

	for (int c = 1; c <= 5; c++) {
		uint64_t n =
		    atomic_load_explicit(&s->by_class[c], memory_order_relaxed);

		if (n > 0)
			emit(t,
			    "flamenco_http_requests_total{route=\"%s\","
			    "code=\"%dxx\"} %llu\n",
			    label, c, (unsigned long long)n);
	}
	if (atomic_load_explicit(&s->latency.count, memory_order_relaxed) == 0)
		return;
	snprintf(labels, sizeof(labels), "route=\"%s\"", label);
	emit_histogram(
	    t, "flamenco_http_request_duration_seconds", labels, &s->latency);
}

static const char sql_task_counts[] =
    "SELECT status, sum(n) FROM job_task_counts GROUP BY status";

static enum fm_err
emit_gauges(struct text *t, struct store_conn *conn)
{
	struct farm_counts counts;
	sqlite3_stmt *st;
	enum fm_err rc;
	int step;

	if ((rc = store_stats_farm_counts(conn, &counts)) != FM_OK)
		return rc;
	emit(t,
	    "# HELP flamenco_jobs Jobs per status.\n"
	    "# TYPE flamenco_jobs gauge\n");
	for (int s = 0; s < JOB_STATUS_COUNT; s++)
		emit(t, "flamenco_jobs{status=\"%s\"} %d\n",
		    state_job_status_name((enum job_status)s), counts.jobs[s]);
	emit(t,
	    "# HELP flamenco_workers Workers per status (deleted ones "
	    "excluded; \"\" = registered, never signed on).\n"
	    "# TYPE flamenco_workers gauge\n");
	for (int s = 0; s < WORKER_STATUS_COUNT; s++)
		emit(t, "flamenco_workers{status=\"%s\"} %d\n",
		    state_worker_status_name((enum worker_status)s),
		    counts.workers[s]);
	emit(t,
	    "# HELP flamenco_tasks Tasks per status.\n"
	    "# TYPE flamenco_tasks gauge\n");
	if ((st = store_stmt(conn, sql_task_counts)) == NULL)
		return FM_ERR_DB;
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		emit(t, "flamenco_tasks{status=\"%s\"} %lld\n",
		    sqlite3_column_text(st, 0),
		    (long long)sqlite3_column_int64(st, 1));
	sqlite3_reset(st);
	return step == SQLITE_DONE ? FM_OK
	                           : store_error(conn, step, "counting tasks");
}

enum fm_err
metrics_render(struct store_conn *conn, char **text_out, size_t *len_out)
{
	struct text t = { xmalloc(8192), 0, 8192 };
	enum fm_err rc;

	*text_out = NULL;
	*len_out = 0;
	t.s[0] = '\0';
	if ((rc = emit_gauges(&t, conn)) != FM_OK) {
		free(t.s);
		return rc;
	}
	emit(&t,
	    "# HELP flamenco_http_requests_total HTTP requests per route "
	    "and status class.\n"
	    "# TYPE flamenco_http_requests_total counter\n"
	    "# HELP flamenco_http_request_duration_seconds Time to answer "
	    "a request, per route.\n"
	    "# TYPE flamenco_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i < metrics.nslots; i++) {
		char label[256];

		snprintf(label, sizeof(label), "%s %s",
		    metrics.slots[i].route->method,
		    metrics.slots[i].route->pattern);
		emit_route(&t, &metrics.slots[i], label);
	}
	emit_route(&t, &metrics.unmatched, "unmatched");
	emit(&t,
	    "# HELP flamenco_job_compile_seconds Time a job-type script "
	    "took to compile a job.\n"
	    "# TYPE flamenco_job_compile_seconds histogram\n");
	emit_histogram(
	    &t, "flamenco_job_compile_seconds", "", &metrics.compile);
	emit(&t,
	    "# HELP flamenco_task_assign_seconds Time to choose and "
	    "assign a task to a worker.\n"
	    "# TYPE flamenco_task_assign_seconds histogram\n");
	emit_histogram(&t, "flamenco_task_assign_seconds", "", &metrics.assign);
	*text_out = t.s;
	*len_out = t.len;
	return FM_OK;
}
