/*
 * Slow-lane thread pool: a mutex, a condition variable and a FIFO list of
 * items; each thread takes the oldest item and runs it. See http_lane.h.
 */
#include "http_lane.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "log.h"
#include "xmalloc.h"

struct lane_item {
	struct lane_item *next;
	http_lane_fn run, cancel;
	void *arg;
};

struct http_lane {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct lane_item *head, *tail; /* queued, oldest first; under lock */
	size_t queued, max_queued;     /* under lock */
	bool stopping;                 /* under lock */
	int nthreads;
	pthread_t *threads;
};

static void *
lane_main(void *arg)
{
	struct http_lane *l = arg;

	pthread_mutex_lock(&l->lock);
	for (;;) {
		struct lane_item *it;

		while (l->head == NULL && !l->stopping)
			pthread_cond_wait(&l->wake, &l->lock);
		if (l->head == NULL)
			break; /* stopping, and the queue is empty */
		it = l->head;
		l->head = it->next;
		if (l->head == NULL)
			l->tail = NULL;
		l->queued--;
		pthread_mutex_unlock(&l->lock);
		it->run(it->arg);
		free(it);
		pthread_mutex_lock(&l->lock);
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

struct http_lane *
http_lane_start(int nthreads, size_t max_queued)
{
	struct http_lane *l = xcalloc(1, sizeof(*l));
	int err;

	FM_ASSERT(nthreads >= 1);
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->wake, NULL);
	l->max_queued = max_queued;
	l->threads = xcalloc((size_t)nthreads, sizeof(*l->threads));
	for (l->nthreads = 0; l->nthreads < nthreads; l->nthreads++) {
		err = pthread_create(
		    &l->threads[l->nthreads], NULL, lane_main, l);
		if (err != 0)
			fatal("slow lane: cannot start thread: error %d", err);
	}
	return l;
}

enum fm_err
http_lane_submit(
    struct http_lane *l, http_lane_fn run, http_lane_fn cancel, void *arg)
{
	struct lane_item *it;

	pthread_mutex_lock(&l->lock);
	if (l->stopping || l->queued >= l->max_queued) {
		pthread_mutex_unlock(&l->lock);
		return FM_ERR_BUSY;
	}
	it = xmalloc(sizeof(*it));
	*it = (struct lane_item){ .run = run, .cancel = cancel, .arg = arg };
	if (l->tail != NULL)
		l->tail->next = it;
	else
		l->head = it;
	l->tail = it;
	l->queued++;
	pthread_cond_signal(&l->wake);
	pthread_mutex_unlock(&l->lock);
	return FM_OK;
}

void
http_lane_stop(struct http_lane *l)
{
	struct lane_item *it, *next;

	if (l == NULL)
		return;
	pthread_mutex_lock(&l->lock);
	l->stopping = true;
	it = l->head;
	l->head = l->tail = NULL;
	l->queued = 0;
	pthread_cond_broadcast(&l->wake);
	pthread_mutex_unlock(&l->lock);
	/* Not started: answered without running, so stopping stays quick. */
	for (; it != NULL; it = next) {
		next = it->next;
		it->cancel(it->arg);
		free(it);
	}
	for (int i = 0; i < l->nthreads; i++)
		pthread_join(l->threads[i], NULL);
	l->nthreads = 0;
}

void
http_lane_free(struct http_lane *l)
{
	if (l == NULL)
		return;
	http_lane_stop(l);
	free(l->threads);
	pthread_cond_destroy(&l->wake);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
