/*
 * The slow lane: a few threads that run work the HTTP threads must not
 * wait for (job compiles, big deletions), so a request that takes
 * seconds never delays unrelated clients whose connections are served by
 * the same MHD thread. A FIFO queue of bounded length feeds the threads.
 */
#ifndef FM_HTTP_LANE_H
#define FM_HTTP_LANE_H

#include <stddef.h>

#include "fm.h"

struct http_lane;

typedef void (*http_lane_fn)(void *arg);

/* Start nthreads (>= 1) threads; at most max_queued items wait. New. */
struct http_lane *http_lane_start(int nthreads, size_t max_queued);

/*
 * Queue run(arg) for a lane thread. FM_ERR_BUSY when the queue is full
 * or the lane is stopping; the caller then still owns arg. Items that
 * never get to run because the lane stops are handed to cancel(arg)
 * instead, on the stopping thread.
 */
FM_MUST_CHECK enum fm_err http_lane_submit(
    struct http_lane *l, http_lane_fn run, http_lane_fn cancel, void *arg);

/*
 * Cancel the queued items, wait for the running ones to finish, join the
 * threads and free the lane. NULL-safe.
 */
void http_lane_stop(struct http_lane *l);

/* Stop if still running, then free; once no thread can submit (after
 * MHD_stop_daemon). NULL-safe. */
void http_lane_free(struct http_lane *l);

#endif
