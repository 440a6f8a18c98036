/*
 * Runs of job-type scripts on a heap: setting a heap up (core-js, the
 * prelude, Flamenco's globals), describe (JOB_TYPE) and compile
 * (compileJob), the authored job as JSON, and its checks (dependencies
 * resolve, no cycles). Runs share one heap and are isolated by a
 * baseline: before the next run the global object, the built-in
 * constructors, namespaces and prototypes, and Flamenco's modules are put
 * back exactly as they were when the heap was made (fresh global
 * environments would need core-js loaded again, ~50 ms a run).
 */
#include "jsenv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsenv_internal.h"
#include "log.h"
#include "timeutil.h"
#include "xmalloc.h"

#define MAX_CACHED 64 /* compiled scripts kept per heap */

#define STASH_SCRIPTS  "fmScripts"
#define STASH_BASELINE "fmBaseline"
#define STASH_ISEXT    "fmIsExtensible"

/* ---- isolation between runs --------------------------------------- */

/*
 * The baseline is an array of records [obj, proto, shadow, count]: a
 * tracked object, its [[Prototype]], a bare object mapping each of its
 * own keys (strings and symbols) to the descriptor the key had, and how
 * many keys there were. Tracked are the global object, every object or
 * function among its own values (constructors, Math, JSON, author, path,
 * process, ...), their own "prototype" objects, and the task prototype.
 * Deeper objects (a property of Array.prototype.map, say) are not.
 */
#define TRACK_FLAGS                                                      \
	(DUK_ENUM_OWN_PROPERTIES_ONLY | DUK_ENUM_INCLUDE_NONENUMERABLE | \
	    DUK_ENUM_INCLUDE_SYMBOLS | DUK_ENUM_NO_PROXY_BEHAVIOR)
#define TRACK_MARK DUK_HIDDEN_SYMBOL("fmTracked")

/* [ ... obj ] -> [ ... ]: append obj to the work list unless there. */
static void
track_push(duk_context *ctx, duk_idx_t work)
{
	bool seen;

	if (!duk_is_object(ctx, -1)) {
		duk_pop(ctx);
		return;
	}
	/* Own marks only: prototypes of tracked objects inherit theirs. */
	duk_push_literal(ctx, TRACK_MARK);
	duk_get_prop_desc(ctx, -2, 0);
	seen = !duk_is_undefined(ctx, -1);
	duk_pop(ctx);
	if (seen) {
		duk_pop(ctx);
		return;
	}
	duk_push_true(ctx);
	duk_put_prop_string(ctx, -2, TRACK_MARK);
	duk_put_prop_index(ctx, work, (duk_uarridx_t)duk_get_length(ctx, work));
}

/* [ ... ] -> [ ... value ]: obj's own data property key, or undefined;
 * no getter runs. */
static void
own_value(duk_context *ctx, duk_idx_t obj, const char *key)
{
	obj = duk_normalize_index(ctx, obj);
	duk_push_string(ctx, key);
	duk_get_prop_desc(ctx, obj, 0);
	if (duk_is_object(ctx, -1))
		duk_get_prop_string(ctx, -1, "value");
	else
		duk_push_undefined(ctx);
	duk_remove(ctx, -2);
}

/* [ ... ] -> [ ... rec ]: the baseline record of obj. */
static void
baseline_record(duk_context *ctx, duk_idx_t obj)
{
	duk_uarridx_t count = 0;
	duk_idx_t shadow;

	duk_push_array(ctx);
	duk_dup(ctx, obj);
	duk_put_prop_index(ctx, -2, 0);
	duk_get_prototype(ctx, obj);
	duk_put_prop_index(ctx, -2, 1);
	duk_push_bare_object(ctx);
	shadow = duk_get_top_index(ctx);
	duk_enum(ctx, obj, TRACK_FLAGS);
	while (duk_next(ctx, -1, 0)) { /* -> [ ... shadow enum key ] */
		duk_dup_top(ctx);
		duk_get_prop_desc(ctx, obj, 0);
		duk_put_prop(ctx, shadow);
		count++;
	}
	duk_pop(ctx);
	duk_put_prop_index(ctx, -2, 2);
	duk_push_uint(ctx, count);
	duk_put_prop_index(ctx, -2, 3);
}

static duk_ret_t
baseline_build(duk_context *ctx, void *udata)
{
	struct jsenv *env = udata;
	duk_idx_t stash, work, global, baseline;
	duk_size_t nglobal, n;

	duk_push_heap_stash(ctx);
	stash = duk_get_top_index(ctx);
	duk_push_array(ctx);
	work = duk_get_top_index(ctx);

	duk_push_global_object(ctx);
	global = duk_get_top_index(ctx);
	duk_dup(ctx, global);
	track_push(ctx, work);
	duk_enum(ctx, global, TRACK_FLAGS);
	while (duk_next(ctx, -1, 0)) { /* -> [ ... enum key ] */
		duk_get_prop_desc(ctx, global, 0);
		if (duk_is_object(ctx, -1)) {
			duk_get_prop_string(ctx, -1, "value");
			track_push(ctx, work);
		}
		duk_pop(ctx);
	}
	duk_pop(ctx);

	nglobal = duk_get_length(ctx, work);
	for (duk_size_t i = 1; i < nglobal; i++) {
		duk_get_prop_index(ctx, work, (duk_uarridx_t)i);
		own_value(ctx, -1, "prototype");
		track_push(ctx, work);
		duk_pop(ctx);
	}
	duk_get_prop_string(ctx, stash, JSENV_STASH_TASK_PROTO);
	track_push(ctx, work);

	duk_push_array(ctx);
	baseline = duk_get_top_index(ctx);
	n = duk_get_length(ctx, work);
	for (duk_size_t i = 0; i < n; i++) {
		duk_get_prop_index(ctx, work, (duk_uarridx_t)i);
		duk_del_prop_string(ctx, -1, TRACK_MARK);
		baseline_record(ctx, duk_get_top_index(ctx));
		duk_put_prop_index(ctx, baseline, (duk_uarridx_t)i);
		duk_pop(ctx);
	}
	duk_put_prop_string(ctx, stash, STASH_BASELINE);
	env->ntracked = n;
	return 0;
}

/* True when descriptors a and b (objects) have the same field key. */
#define DESC_FIELD_SAME(ctx, a, b, key)         \
	(duk_get_prop_literal((ctx), (a), key), \
	    duk_get_prop_literal((ctx), (b), key), desc_pop_same(ctx))

static bool
desc_pop_same(duk_context *ctx)
{
	bool same = duk_samevalue(ctx, -1, -2);

	duk_pop_2(ctx);
	return same;
}

static bool
desc_same(duk_context *ctx, duk_idx_t a, duk_idx_t b)
{
	a = duk_normalize_index(ctx, a);
	b = duk_normalize_index(ctx, b);
	if (!duk_is_object(ctx, a) || !duk_is_object(ctx, b))
		return false;
	return DESC_FIELD_SAME(ctx, a, b, "value") &&
	    DESC_FIELD_SAME(ctx, a, b, "get") &&
	    DESC_FIELD_SAME(ctx, a, b, "set") &&
	    DESC_FIELD_SAME(ctx, a, b, "writable") &&
	    DESC_FIELD_SAME(ctx, a, b, "enumerable") &&
	    DESC_FIELD_SAME(ctx, a, b, "configurable");
}

static duk_uint_t
desc_flag(duk_context *ctx, duk_idx_t desc, const char *f, duk_uint_t have,
    duk_uint_t set)
{
	duk_uint_t flags = have;

	duk_get_prop_string(ctx, desc, f);
	if (duk_to_boolean(ctx, -1))
		flags |= set;
	duk_pop(ctx);
	return flags;
}

/* Define obj[key] from the descriptor desc, overriding what is there. */
static void
desc_define(duk_context *ctx, duk_idx_t obj, duk_idx_t key, duk_idx_t desc)
{
	duk_uint_t flags = DUK_DEFPROP_FORCE;

	flags |= desc_flag(ctx, desc, "enumerable", DUK_DEFPROP_HAVE_ENUMERABLE,
	    DUK_DEFPROP_ENUMERABLE);
	flags |= desc_flag(ctx, desc, "configurable",
	    DUK_DEFPROP_HAVE_CONFIGURABLE, DUK_DEFPROP_CONFIGURABLE);
	duk_dup(ctx, key);
	if (duk_has_prop_string(ctx, desc, "get") ||
	    duk_has_prop_string(ctx, desc, "set")) {
		duk_get_prop_string(ctx, desc, "get");
		duk_get_prop_string(ctx, desc, "set");
		flags |= DUK_DEFPROP_HAVE_GETTER | DUK_DEFPROP_HAVE_SETTER;
	} else {
		duk_get_prop_string(ctx, desc, "value");
		flags |= DUK_DEFPROP_HAVE_VALUE;
		flags |= desc_flag(ctx, desc, "writable",
		    DUK_DEFPROP_HAVE_WRITABLE, DUK_DEFPROP_WRITABLE);
	}
	duk_def_prop(ctx, obj, flags);
}

/*
 * Put one tracked object back as recorded. Throws (and the heap becomes
 * broken) when that is impossible: a property the script added cannot
 * be deleted, or the object was made non-extensible.
 */
static void
baseline_restore_one(duk_context *ctx, duk_idx_t rec, duk_idx_t isext)
{
	duk_idx_t obj, proto, shadow;
	duk_uint_t count, seen = 0;

	duk_get_prop_index(ctx, rec, 0);
	obj = duk_get_top_index(ctx);
	duk_get_prop_index(ctx, rec, 1);
	proto = duk_get_top_index(ctx);
	duk_get_prop_index(ctx, rec, 2);
	shadow = duk_get_top_index(ctx);
	duk_get_prop_index(ctx, rec, 3);
	count = duk_get_uint(ctx, -1);
	duk_pop(ctx);

	duk_get_prototype(ctx, obj);
	if (!duk_samevalue(ctx, -1, proto)) {
		duk_dup(ctx, proto);
		duk_set_prototype(ctx, obj);
	}
	duk_pop(ctx);
	duk_dup(ctx, isext);
	duk_dup(ctx, obj);
	duk_call(ctx, 1);
	if (!duk_to_boolean(ctx, -1))
		(void)duk_error(ctx, DUK_ERR_TYPE_ERROR,
		    "a built-in object was made non-extensible");
	duk_pop(ctx);

	duk_enum(ctx, obj, TRACK_FLAGS);
	while (duk_next(ctx, -1, 0)) { /* -> [ ... enum key ] */
		duk_idx_t key = duk_get_top_index(ctx);

		duk_dup(ctx, key);
		duk_get_prop(ctx, shadow); /* -> [ ... enum key saved ] */
		if (duk_is_undefined(ctx, -1)) {
			duk_pop(ctx);
			duk_del_prop(ctx, obj); /* throws when it cannot */
			continue;
		}
		seen++;
		duk_dup(ctx, key);
		duk_get_prop_desc(ctx, obj, 0); /* -> [ ... saved cur ] */
		if (!desc_same(ctx, -2, -1))
			desc_define(ctx, obj, key, key + 1);
		duk_set_top(ctx, key);
	}
	duk_pop(ctx);

	if (seen != count) {
		/* Properties were deleted: define the missing ones again. */
		duk_enum(ctx, shadow, DUK_ENUM_INCLUDE_SYMBOLS);
		while (duk_next(ctx, -1, 1)) { /* -> [ ... key saved ] */
			duk_dup(ctx, -2);
			duk_get_prop_desc(ctx, obj, 0);
			if (duk_is_undefined(ctx, -1))
				desc_define(ctx, obj,
				    duk_get_top_index(ctx) - 2,
				    duk_get_top_index(ctx) - 1);
			duk_pop_3(ctx);
		}
		duk_pop(ctx);
	}
	duk_set_top(ctx, obj);
}

#define RESET_GC_BYTES ((size_t)16 * 1024 * 1024)

static duk_ret_t
baseline_restore(duk_context *ctx, void *udata)
{
	struct jsenv *env = udata;
	duk_idx_t baseline, isext;
	duk_size_t n;

	duk_push_heap_stash(ctx);
	duk_del_prop_string(ctx, -1, JSENV_STASH_JOB);
	duk_get_prop_string(ctx, -1, STASH_BASELINE);
	baseline = duk_get_top_index(ctx);
	duk_get_prop_string(ctx, -2, STASH_ISEXT);
	isext = duk_get_top_index(ctx);
	n = duk_get_length(ctx, baseline);
	for (duk_size_t i = 0; i < n; i++) {
		duk_get_prop_index(ctx, baseline, (duk_uarridx_t)i);
		baseline_restore_one(ctx, duk_get_top_index(ctx), isext);
		duk_pop(ctx);
	}
	duk_pop_3(ctx);
	/* Collect cycles of the run now if it left much behind: a large job
	 * is hundreds of MB of garbage that would otherwise stay until the
	 * next run on this heap (the pool resets idle heaps off the request
	 * path, so this costs no request anything). */
	if (env->heap.used > RESET_GC_BYTES ||
	    env->heap.used > env->heap.cap / 2)
		duk_gc(ctx, 0);
	return 0;
}

/* ---- heaps -------------------------------------------------------- */

static duk_ret_t
heap_setup(duk_context *ctx, void *udata)
{
	struct jsenv *env = udata;

	jsenv_load_corejs(ctx);

	/* Duktape's own object offers finalizers and introspection. */
	duk_push_global_object(ctx);
	duk_del_prop_literal(ctx, -1, "Duktape");

	duk_push_heap_stash(ctx); /* -> [ global stash ] */
	duk_get_prop_literal(ctx, -2, "Object");
	duk_get_prop_literal(ctx, -1, "isExtensible");
	duk_put_prop_literal(ctx, -3, STASH_ISEXT);
	duk_pop(ctx);
	duk_push_bare_object(ctx);
	duk_put_prop_literal(ctx, -2, STASH_SCRIPTS);

	jsenv_eval_lib(ctx, "prelude.js", NULL);
	duk_call(ctx, 0); /* -> [ global stash prelude ] */
	duk_get_prop_literal(ctx, -1, "iter");
	duk_put_prop_literal(ctx, -3, JSENV_STASH_ITER);
	duk_pop_3(ctx);

	jsenv_bind_globals(ctx);
	duk_push_heap_stash(ctx);
	duk_get_prop_literal(ctx, -1, JSENV_STASH_TASK_PROTO);
	env->task_proto = duk_get_heapptr(ctx, -1);
	duk_pop_2(ctx);
	return baseline_build(ctx, env);
}

struct jsenv *
jsenv_new(const struct jsenv_limits *lim)
{
	struct jsenv *env = xcalloc(1, sizeof(*env));
	int64_t t0 = time_mono_us();
	char *err = NULL;

	if (lim != NULL)
		env->lim = *lim;
	if (env->lim.max_heap_bytes == 0)
		env->lim.max_heap_bytes = JSENV_DEFAULT_MAX_HEAP;
	if (env->lim.timeout_us <= 0)
		env->lim.timeout_us = JSENV_DEFAULT_TIMEOUT_US;
	if (env->lim.max_tasks == 0)
		env->lim.max_tasks = JSENV_DEFAULT_MAX_TASKS;
	if (!jsheap_open(&env->heap, env->lim.max_heap_bytes, env)) {
		free(env);
		return NULL;
	}
	if (jsheap_call(&env->heap, heap_setup, env, 0, NULL, &err) != FM_OK) {
		log_error("jsenv: cannot set up a heap: %s", err);
		free(err);
		jsenv_free(env);
		return NULL;
	}
	log_debug("jsenv: heap ready in %.1f ms, %zu KiB, %zu objects "
	          "tracked",
	    (double)(time_mono_us() - t0) / 1000.0, env->heap.used / 1024,
	    env->ntracked);
	return env;
}

void
jsenv_free(struct jsenv *env)
{
	if (env == NULL)
		return;
	json_decref(env->garbage);
	jsheap_close(&env->heap);
	jsbuf_free(&env->run.buf);
	jsbuf_free(&env->run.cmdtext);
	free(env);
}

bool
jsenv_broken(const struct jsenv *env)
{
	return env->heap.broken || env->retired;
}

size_t
jsenv_heap_bytes(const struct jsenv *env)
{
	return env->heap.used;
}

enum fm_err
jsenv_reset(struct jsenv *env)
{
	char *err = NULL;

	json_decref(env->garbage);
	env->garbage = NULL;
	if (jsenv_broken(env))
		return FM_ERR_INTERNAL;
	if (!env->dirty)
		return FM_OK;
	env->dirty = false;
	if (jsheap_call(&env->heap, baseline_restore, env, 0, NULL, &err) !=
	    FM_OK) {
		log_error("jsenv: cannot undo what a script changed, retiring "
		          "the heap: %s",
		    err);
		env->retired = true;
		free(err);
		return FM_ERR_INTERNAL;
	}
	return FM_OK;
}

/* ---- runs --------------------------------------------------------- */

enum run_mode {
	RUN_DESCRIBE,
	RUN_COMPILE,
};

struct run_args {
	struct jsenv *env;
	enum run_mode mode;
	const char *es5;
	const char *filename;
	json_t *job_in; /* borrowed */
	json_t *result; /* new: JOB_TYPE, or the authored job */
	char *soft_err; /* new: a failure that is not a throw */
};

static void
run_begin(struct jsenv *env, const char *filename)
{
	struct jsrun *run = &env->run;

	run->filename = filename;
	run->tasks = json_array();
	run->pending = json_array();
	run->ncmds = 0;
	run->gen++;
	run->json_bytes = 0;
	run->json_cap = env->lim.max_heap_bytes;
	run->budget_hit = false;
	run->tasks_capped = false;
}

/*
 * Release the run's C state; the heap is reset lazily (jsenv_reset). The
 * tasks of a failed run, which may be hundreds of thousands (a time or
 * task limit stopped it), are freed then too, off the caller's path.
 */
static void
run_end(struct jsenv *env, bool failed)
{
	struct jsrun *run = &env->run;

	free(run->cmds);
	run->cmdtext.len = 0;
	if (run->cmdtext.cap > 4 * JSENV_MIB)
		jsbuf_free(&run->cmdtext);
	run->job_tasks = NULL;
	run->cmds = NULL;
	run->ncmds = run->cmds_cap = 0;
	if (failed && json_array_size(run->tasks) > 0) {
		json_decref(env->garbage);
		env->garbage = run->tasks;
	} else {
		json_decref(run->tasks);
	}
	json_decref(run->pending);
	run->tasks = run->pending = NULL;
	jsenv_scratch(env, NULL);
	if (run->buf.cap > 65536)
		jsbuf_free(&run->buf);
	run->filename = NULL;
	env->dirty = true;
}

/* [ ... ] -> [ ... fn ]: the compiled wrapper of es5, cached per heap. */
static void
push_script(duk_context *ctx, struct run_args *a)
{
	struct jsenv *env = a->env;

	duk_push_heap_stash(ctx);
	duk_get_prop_literal(ctx, -1, STASH_SCRIPTS);
	duk_push_string(ctx, a->es5); /* -> [ ... stash cache key ] */
	duk_dup_top(ctx);
	duk_get_prop(ctx, -3);
	if (!duk_is_function(ctx, -1)) {
		duk_pop(ctx);
		jsenv_push_wrapped(ctx, -1);
		duk_push_string(ctx, a->filename);
		duk_compile(ctx, DUK_COMPILE_FUNCTION | DUK_COMPILE_STRICT);
		if (++env->ncached > MAX_CACHED) {
			duk_push_bare_object(ctx);
			duk_put_prop_literal(ctx, -5, STASH_SCRIPTS);
			env->ncached = 0;
		} else {
			duk_dup(ctx, -2);
			duk_dup(ctx, -2);
			duk_put_prop(ctx, -5);
		}
	}
	duk_replace(ctx, -4);
	duk_pop_2(ctx);
}

/*
 * The job's metadata as a string map (Go's map[string]string): strings
 * as they are, other values as their JSON text, null and undefined left
 * out.
 */
static json_t *
metadata_json(struct jsenv *env, duk_context *ctx, duk_idx_t idx)
{
	json_t *meta, *out = json_object();
	const char *key;
	size_t klen;
	void *it;

	if (!duk_is_object(ctx, idx))
		return out;
	meta = jsenv_to_json(env, ctx, idx);
	for (it = json_object_iter(meta); it != NULL;
	     it = json_object_iter_next(meta, it)) {
		json_t *v = json_object_iter_value(it);
		char *text;

		/* Keys with a NUL are kept whole; submit.c refuses them. */
		key = json_object_iter_key(it);
		klen = json_object_iter_key_len(it);
		if (json_is_string(v)) {
			json_object_setn(out, key, klen, v);
		} else if (!json_is_null(v)) {
			text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
			json_object_setn_new(out, key, klen, json_string(text));
			free(text);
		}
	}
	json_decref(meta);
	return out;
}

/* [ ... job ] -> [ ... job ]: what compileJob left in the job. */
static json_t *
job_json(struct jsenv *env, duk_context *ctx, duk_idx_t job)
{
	struct jsrun *run = &env->run;
	size_t slot = json_array_size(run->pending);
	json_t *out = json_object();
	duk_size_t n = 0;
	const char *s;

	json_array_append_new(run->pending, out);
	duk_get_prop_literal(ctx, job, "name");
	s = duk_to_lstring(ctx, -1, &n);
	json_object_set_new(out, "name", jsenv_json_string(s, n));
	duk_pop(ctx);
	duk_get_prop_literal(ctx, job, "priority");
	json_object_set_new(
	    out, "priority", json_integer((json_int_t)duk_to_int(ctx, -1)));
	duk_pop(ctx);
	duk_get_prop_literal(ctx, job, "settings");
	json_object_set_new(out, "settings",
	    duk_is_object(ctx, -1) ? jsenv_to_json(env, ctx, -1)
	                           : json_object());
	duk_pop(ctx);
	duk_get_prop_literal(ctx, job, "metadata");
	json_object_set_new(out, "metadata", metadata_json(env, ctx, -1));
	duk_pop(ctx);
	duk_get_prop_literal(ctx, job, "workerTagUUID");
	n = 0;
	s = duk_is_null_or_undefined(ctx, -1) ? ""
	                                      : duk_to_lstring(ctx, -1, &n);
	json_object_set_new(out, "workerTagUUID", jsenv_json_string(s, n));
	duk_pop(ctx);
	duk_get_prop_literal(ctx, job, "storage");
	json_object_set_new(out, "storage",
	    duk_is_object(ctx, -1) ? jsenv_to_json(env, ctx, -1)
	                           : json_object());
	duk_pop(ctx);
	json_object_set(out, "tasks", run->tasks);

	out = json_incref(out);
	while (json_array_size(run->pending) > slot)
		json_array_remove(
		    run->pending, json_array_size(run->pending) - 1);
	return out;
}

static duk_ret_t
run_script(duk_context *ctx, void *udata)
{
	struct run_args *a = udata;
	struct jsenv *env = a->env;
	duk_idx_t ret, jobtype, compile, job;
	json_t *result;

	push_script(ctx, a);
	duk_push_global_object(ctx);
	duk_push_heap_stash(ctx);
	duk_get_prop_literal(ctx, -1, JSENV_STASH_ITER);
	duk_remove(ctx, -2);
	duk_call_method(ctx, 1); /* -> [ ret ] */
	ret = duk_get_top_index(ctx);
	if (!duk_is_array(ctx, ret)) {
		a->soft_err = xasprintf("%s: the script returned at its top "
		                        "level",
		    a->filename);
		return 0;
	}
	duk_get_prop_index(ctx, ret, 0);
	jobtype = duk_get_top_index(ctx);
	duk_get_prop_index(ctx, ret, 1);
	compile = duk_get_top_index(ctx);

	if (a->mode == RUN_DESCRIBE) {
		if (!duk_is_object(ctx, jobtype) ||
		    duk_is_function(ctx, jobtype)) {
			a->soft_err = xasprintf("%s: the script defines no "
			                        "JOB_TYPE object",
			    a->filename);
			return 0;
		}
		result = jsenv_to_json(env, ctx, jobtype);
		a->result = result;
		return 0;
	}

	if (!duk_is_function(ctx, compile)) {
		a->soft_err = xasprintf("%s: the script defines no compileJob "
		                        "function",
		    a->filename);
		return 0;
	}
	jsenv_bind_push_job(ctx, a->job_in);
	job = duk_get_top_index(ctx);
	duk_dup(ctx, compile);
	duk_push_undefined(ctx);
	duk_dup(ctx, job);
	duk_call_method(ctx, 1);
	duk_pop(ctx);
	result = job_json(env, ctx, job);
	a->result = result;
	return 0;
}

/* ---- checking the authored tasks ---------------------------------- */

/* Open-addressing map from task UUID to task index. */
struct uuid_map {
	size_t *slots; /* task index + 1; 0 = empty */
	size_t mask;
	const char **uuids; /* borrowed from the tasks */
};

static uint64_t
uuid_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h ^ (h >> 29);
}

/* The index of uuid; SIZE_MAX when absent. */
static size_t
uuid_map_get(const struct uuid_map *m, const char *uuid)
{
	for (size_t i = uuid_hash(uuid) & m->mask;; i = (i + 1) & m->mask) {
		size_t v = m->slots[i];

		if (v == 0)
			return SIZE_MAX;
		if (strcmp(m->uuids[v - 1], uuid) == 0)
			return v - 1;
	}
}

static const char *
task_str(json_t *task, const char *key)
{
	const char *s = json_string_value(json_object_get(task, key));

	return s != NULL ? s : "";
}

/*
 * Check what the script authored: UUIDs unique, every dependency a task
 * of this job (repeats dropped), no cycles (Kahn's algorithm). Linear in
 * tasks + dependencies.
 */
static enum fm_err
check_tasks(json_t *tasks, char **err_out)
{
	size_t n = json_array_size(tasks), cap = 16, nedges = 0, done = 0;
	struct uuid_map m = { NULL, 0, NULL };
	size_t *dep_first = NULL, *deps = NULL, *indeg = NULL;
	size_t *user_first = NULL, *users = NULL, *fill = NULL;
	size_t *mark = NULL, *queue = NULL, qh = 0, qt = 0;
	enum fm_err rc = FM_ERR_INVALID;

	while (cap < 2 * n)
		cap *= 2;
	m.slots = xcalloc(cap, sizeof(*m.slots));
	m.mask = cap - 1;
	m.uuids = xcalloc(n + 1, sizeof(*m.uuids));
	for (size_t t = 0; t < n; t++) {
		const char *u = task_str(json_array_get(tasks, t), "uuid");
		size_t i;

		if (uuid_map_get(&m, u) != SIZE_MAX) {
			*err_out = xasprintf("task \"%s\" was added to the "
			                     "job more than once",
			    task_str(json_array_get(tasks, t), "name"));
			goto done;
		}
		m.uuids[t] = u;
		for (i = uuid_hash(u) & m.mask; m.slots[i] != 0;
		     i = (i + 1) & m.mask)
			;
		m.slots[i] = t + 1;
	}

	/* Resolve dependencies to indexes, dropping repeats. */
	for (size_t t = 0; t < n; t++)
		nedges += json_array_size(
		    json_object_get(json_array_get(tasks, t), "dependencies"));
	dep_first = xcalloc(n + 1, sizeof(*dep_first));
	deps = xcalloc(nedges + 1, sizeof(*deps));
	mark = xcalloc(n + 1, sizeof(*mark));
	indeg = xcalloc(n + 1, sizeof(*indeg));
	nedges = 0;
	for (size_t t = 0; t < n; t++) {
		json_t *task = json_array_get(tasks, t);
		json_t *list = json_object_get(task, "dependencies");

		dep_first[t] = nedges;
		for (size_t d = 0; d < json_array_size(list);) {
			const char *u =
			    json_string_value(json_array_get(list, d));
			size_t dep = u != NULL ? uuid_map_get(&m, u) : SIZE_MAX;

			if (dep == SIZE_MAX) {
				*err_out = xasprintf("task \"%s\" depends on "
				                     "a task that was not "
				                     "added to the job",
				    task_str(task, "name"));
				goto done;
			}
			if (mark[dep] == t + 1) {
				json_array_remove(list, d);
				continue;
			}
			mark[dep] = t + 1;
			deps[nedges++] = dep;
			indeg[t]++;
			d++;
		}
	}
	dep_first[n] = nedges;

	/* Reverse edges: for each task, the tasks that depend on it. */
	user_first = xcalloc(n + 1, sizeof(*user_first));
	users = xcalloc(nedges + 1, sizeof(*users));
	fill = xcalloc(n + 1, sizeof(*fill));
	for (size_t e = 0; e < nedges; e++)
		user_first[deps[e] + 1]++;
	for (size_t t = 0; t < n; t++)
		user_first[t + 1] += user_first[t];
	for (size_t t = 0; t < n; t++)
		for (size_t e = dep_first[t]; e < dep_first[t + 1]; e++)
			users[user_first[deps[e]] + fill[deps[e]]++] = t;

	queue = xcalloc(n + 1, sizeof(*queue));
	for (size_t t = 0; t < n; t++)
		if (indeg[t] == 0)
			queue[qt++] = t;
	while (qh < qt) {
		size_t t = queue[qh++];

		done++;
		for (size_t e = user_first[t]; e < user_first[t + 1]; e++)
			if (--indeg[users[e]] == 0)
				queue[qt++] = users[e];
	}
	if (done < n) {
		for (size_t t = 0; t < n; t++) {
			if (indeg[t] != 0) {
				*err_out = xasprintf("the dependencies of "
				                     "task \"%s\" form a "
				                     "cycle",
				    task_str(json_array_get(tasks, t), "name"));
				break;
			}
		}
		goto done;
	}
	rc = FM_OK;
done:
	free(m.slots);
	free(m.uuids);
	free(dep_first);
	free(deps);
	free(indeg);
	free(user_first);
	free(users);
	free(fill);
	free(mark);
	free(queue);
	return rc;
}

/*
 * Give each task its commands as JSON values (the default form), parsed
 * from the text addTask stored; with lim.commands_text the text stays.
 */
static void
commands_to_json(json_t *tasks)
{
	for (size_t i = 0; i < json_array_size(tasks); i++) {
		json_t *task = json_array_get(tasks, i);
		json_t *text = json_object_get(task, "commands_json");

		json_object_set_new(task, "commands",
		    jsenv_json_parse(
		        json_string_value(text), json_string_length(text)));
		json_object_del(task, "commands_json");
		json_object_del(task, "steps_total");
	}
}

static enum fm_err
run(struct run_args *a, char **err_out)
{
	struct jsenv *env = a->env;
	enum fm_err rc;

	*err_out = NULL;
	if (jsenv_broken(env) || jsenv_reset(env) != FM_OK) {
		*err_out = xstrdup("the script engine is broken");
		return FM_ERR_INTERNAL;
	}
	run_begin(env, a->filename);
	env->heap.es5 = a->es5;
	rc = jsheap_call(&env->heap, run_script, a, env->lim.timeout_us,
	    a->filename, err_out);
	env->heap.es5 = NULL;
	if (rc == FM_OK && a->soft_err != NULL) {
		rc = FM_ERR_JS;
		*err_out = a->soft_err;
		a->soft_err = NULL;
	}
	if (rc == FM_ERR_JS && env->run.budget_hit)
		rc = FM_ERR_NOMEM;
	/* Over the task cap even if the script caught the error. */
	if ((rc == FM_OK || rc == FM_ERR_JS) && env->run.tasks_capped) {
		free(*err_out);
		*err_out = xasprintf("the job would have more than %zu tasks, "
		                     "the most this Manager accepts "
		                     "(max_tasks_per_job)",
		    env->lim.max_tasks);
		rc = FM_ERR_INVALID;
	}
	if (rc == FM_OK && a->mode == RUN_COMPILE) {
		json_t *tasks = json_object_get(a->result, "tasks");

		rc = check_tasks(tasks, err_out);
		if (rc == FM_OK && !env->lim.commands_text)
			commands_to_json(tasks);
	}
	run_end(env, rc != FM_OK);
	if (rc != FM_OK) {
		json_decref(a->result);
		a->result = NULL;
	}
	free(a->soft_err);
	return rc;
}

enum fm_err
jsenv_describe(struct jsenv *env, const char *es5, const char *filename,
    json_t **jobtype_out, char **err_out)
{
	struct run_args a = { env, RUN_DESCRIBE, es5, filename, NULL, NULL,
		NULL };
	enum fm_err rc;

	*jobtype_out = NULL;
	if ((rc = run(&a, err_out)) != FM_OK)
		return rc;
	*jobtype_out = a.result;
	return FM_OK;
}

enum fm_err
jsenv_compile(struct jsenv *env, const char *es5, const char *filename,
    json_t *job_in, json_t **job_out, char **err_out)
{
	struct run_args a = { env, RUN_COMPILE, es5, filename, job_in, NULL,
		NULL };
	enum fm_err rc;

	*job_out = NULL;
	if ((rc = run(&a, err_out)) != FM_OK)
		return rc;
	*job_out = a.result;
	return FM_OK;
}
