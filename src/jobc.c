/*
 * Compiler pool. Heaps are created by one loader thread each, so N heaps
 * load in parallel and start-up does not wait for them; a caller that
 * arrives before any heap is ready simply waits like it would for a busy
 * pool. Scripts run in the borrowing thread: Duktape only needs one
 * thread at a time per heap, not always the same one. A returned heap is
 * "dirty" until a janitor thread has reset it (undoing the last script and
 * freeing its job, tens of milliseconds after a large job), so that work
 * stays off the next request's path; a caller finding only dirty heaps
 * takes one anyway, and the compile resets it first. A heap that broke
 * (a fatal error, or a script abandoned far past its time limit) is
 * freed and replaced by the janitor too, so the request that broke it
 * gets its answer without waiting for a new heap.
 */
#include "jobc.h"

#include <errno.h>
#include <malloc.h>
#include <string.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "jsenv.h"
#include "log.h"
#include "timeutil.h"
#include "xmalloc.h"

struct jobc {
	struct jobc_options opts;
	struct jsenv_limits limits;

	pthread_mutex_t lock; /* guards everything below */
	pthread_cond_t available;
	pthread_cond_t dirtied;
	struct jsenv **idle; /* heaps ready to lend */
	size_t nidle;
	struct jsenv **dirty; /* returned, not reset yet */
	size_t ndirty;
	int nfailed; /* heaps that could not be created */
	bool stopping;
	pthread_t janitor;

	pthread_t *loaders;
	int nloaders;
	int64_t started_us;
};

static void release(struct jobc *jobc, struct jsenv *env, bool dirty);
static void replace(struct jobc *jobc, struct jsenv *env);
static void *janitor_main(void *arg);

static void
give_back(struct jobc *jobc, struct jsenv *env)
{
	pthread_mutex_lock(&jobc->lock);
	jobc->idle[jobc->nidle++] = env;
	pthread_cond_signal(&jobc->available);
	pthread_mutex_unlock(&jobc->lock);
}

static void *
loader_main(void *arg)
{
	struct jobc *jobc = arg;
	struct jsenv *env = jsenv_new(&jobc->limits);

	if (env == NULL) {
		log_error("job compiler: a JavaScript heap failed to load");
		pthread_mutex_lock(&jobc->lock);
		jobc->nfailed++;
		pthread_cond_broadcast(&jobc->available);
		pthread_mutex_unlock(&jobc->lock);
		return NULL;
	}
	give_back(jobc, env);
	pthread_mutex_lock(&jobc->lock);
	if (jobc->nidle == (size_t)jobc->opts.heaps)
		log_info("job compiler: %d heaps ready in %lld ms",
		    jobc->opts.heaps,
		    (long long)(time_mono_us() - jobc->started_us) / 1000);
	pthread_mutex_unlock(&jobc->lock);
	return NULL;
}

enum fm_err
jobc_new(
    const struct jobc_options *opts, struct jobc **jobc_out, char **err_out)
{
	struct jobc *jobc = xcalloc(1, sizeof(*jobc));

	*jobc_out = NULL;
	*err_out = NULL;
	jobc->opts = *opts;
	if (jobc->opts.heaps < 1)
		jobc->opts.heaps = 1;
	jobc->limits.max_heap_bytes = opts->heap_max_bytes;
	jobc->limits.timeout_us = opts->timeout_us;
	jobc->limits.max_tasks = opts->max_tasks;
	/* Commands come back as JSON text, stored as they are. */
	jobc->limits.commands_text = true;
	jobc->started_us = time_mono_us();
	pthread_mutex_init(&jobc->lock, NULL);
	pthread_cond_init(&jobc->available, NULL);
	pthread_cond_init(&jobc->dirtied, NULL);
	jobc->idle = xcalloc((size_t)jobc->opts.heaps, sizeof(*jobc->idle));
	jobc->dirty = xcalloc((size_t)jobc->opts.heaps, sizeof(*jobc->dirty));
	if (pthread_create(&jobc->janitor, NULL, janitor_main, jobc) != 0)
		fatal("cannot start the compiler janitor thread");
	jobc->loaders =
	    xcalloc((size_t)jobc->opts.heaps, sizeof(*jobc->loaders));
	for (int i = 0; i < jobc->opts.heaps; i++) {
		if (pthread_create(
		        &jobc->loaders[i], NULL, loader_main, jobc) != 0) {
			*err_out = xasprintf("cannot start a compiler thread: "
			                     "%s",
			    strerror(errno));
			jobc_free(jobc);
			return FM_ERR_INTERNAL;
		}
		jobc->nloaders++;
	}
	*jobc_out = jobc;
	return FM_OK;
}

void
jobc_free(struct jobc *jobc)
{
	if (jobc == NULL)
		return;
	for (int i = 0; i < jobc->nloaders; i++)
		pthread_join(jobc->loaders[i], NULL);
	pthread_mutex_lock(&jobc->lock);
	jobc->stopping = true;
	pthread_cond_signal(&jobc->dirtied);
	pthread_mutex_unlock(&jobc->lock);
	pthread_join(jobc->janitor, NULL);
	for (size_t i = 0; i < jobc->nidle; i++)
		jsenv_free(jobc->idle[i]);
	for (size_t i = 0; i < jobc->ndirty; i++)
		jsenv_free(jobc->dirty[i]);
	free(jobc->idle);
	free(jobc->dirty);
	free(jobc->loaders);
	pthread_mutex_destroy(&jobc->lock);
	pthread_cond_destroy(&jobc->available);
	pthread_cond_destroy(&jobc->dirtied);
	free(jobc);
}

static enum fm_err
borrow(struct jobc *jobc, struct jsenv **env_out)
{
	struct timespec deadline;
	enum fm_err rc = FM_OK;

	*env_out = NULL;
	deadline = time_deadline(CLOCK_REALTIME, jobc->opts.wait_us);
	pthread_mutex_lock(&jobc->lock);
	while (jobc->nidle == 0) {
		if (jobc->nfailed == jobc->opts.heaps) {
			rc = FM_ERR_INTERNAL;
			break;
		}
		if (pthread_cond_timedwait(&jobc->available, &jobc->lock,
		        &deadline) == ETIMEDOUT &&
		    jobc->nidle == 0) {
			rc = FM_ERR_BUSY;
			break;
		}
	}
	if (rc == FM_OK)
		*env_out = jobc->idle[--jobc->nidle];
	pthread_mutex_unlock(&jobc->lock);
	return rc;
}

/* Reset returned heaps, and replace broken ones, while nobody waits. */
static void *
janitor_main(void *arg)
{
	struct jobc *jobc = arg;

	pthread_mutex_lock(&jobc->lock);
	while (!jobc->stopping) {
		struct jsenv *env;

		if (jobc->ndirty == 0) {
			pthread_cond_wait(&jobc->dirtied, &jobc->lock);
			continue;
		}
		env = jobc->dirty[--jobc->ndirty];
		pthread_mutex_unlock(&jobc->lock);
		if (jsenv_broken(env)) {
			replace(jobc, env);
		} else {
			if (jsenv_reset(env) != FM_OK)
				log_warn("job compiler: a heap could not be "
				         "reset");
			release(jobc, env, false);
		}
		/* A large job leaves hundreds of MB free in malloc's arenas;
		 * give them back to the system while nobody waits. */
		malloc_trim(0);
		pthread_mutex_lock(&jobc->lock);
	}
	pthread_mutex_unlock(&jobc->lock);
	return NULL;
}

/* Free a broken heap and give the pool a new one in its place. */
static void
replace(struct jobc *jobc, struct jsenv *env)
{
	log_warn("job compiler: replacing a broken JavaScript heap");
	jsenv_free(env);
	env = jsenv_new(&jobc->limits);
	if (env == NULL) {
		pthread_mutex_lock(&jobc->lock);
		jobc->nfailed++;
		pthread_cond_broadcast(&jobc->available);
		pthread_mutex_unlock(&jobc->lock);
		return;
	}
	give_back(jobc, env);
}

/*
 * Return a heap (dirty: it still holds the last script's state). Dirty
 * and broken heaps go to the janitor; a broken one is replaced there so
 * the pool keeps its size.
 */
static void
release(struct jobc *jobc, struct jsenv *env, bool dirty)
{
	if (!dirty && !jsenv_broken(env)) {
		give_back(jobc, env);
		return;
	}
	pthread_mutex_lock(&jobc->lock);
	jobc->dirty[jobc->ndirty++] = env;
	pthread_cond_signal(&jobc->available);
	pthread_cond_signal(&jobc->dirtied);
	pthread_mutex_unlock(&jobc->lock);
}

enum fm_err
jobc_transpile(struct jobc *jobc, const char *src, const char *filename,
    char **es5_out, char **err_out)
{
	(void)jobc; /* the transpiler is one shared, serialised heap */
	return jsenv_transpile(src, filename, es5_out, err_out);
}

enum fm_err
jobc_describe(struct jobc *jobc, const char *es5, const char *filename,
    json_t **jobtype_out, char **err_out)
{
	struct jsenv *env;
	enum fm_err rc;

	*jobtype_out = NULL;
	*err_out = NULL;
	if ((rc = borrow(jobc, &env)) != FM_OK)
		return rc;
	rc = jsenv_describe(env, es5, filename, jobtype_out, err_out);
	release(jobc, env, true);
	return rc;
}

enum fm_err
jobc_compile(struct jobc *jobc, const char *es5, const char *filename,
    json_t *job_in, json_t **job_out, char **err_out)
{
	struct jsenv *env;
	enum fm_err rc;

	*job_out = NULL;
	*err_out = NULL;
	if ((rc = borrow(jobc, &env)) != FM_OK)
		return rc;
	rc = jsenv_compile(env, es5, filename, job_in, job_out, err_out);
	release(jobc, env, true);
	return rc;
}
