/*
 * Down-levelling job-type scripts to ES5 inside the Manager: one process-
 * wide transpiler heap with core-js, buble (which bundles acorn) and our
 * driver src/js/transpile.js, created on first use and serialised by a
 * mutex, plus a small cache by script content so re-reading an unchanged
 * script costs nothing. No Node at run time: all three are embedded.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "jsenv_internal.h"
#include "log.h"
#include "timeutil.h"
#include "xmalloc.h"

#define TR_MAX_HEAP   ((size_t)512 * 1024 * 1024)
#define TR_TIMEOUT_US ((int64_t)20 * 1000 * 1000)
#define TR_CACHE_MAX  64
#define TR_STASH_FN   "fmTranspile"
#define BUBLE_FILE    "buble-browser-deps.umd.js"

/*
 * Edits to the embedded buble bundle (0.20.0) before it is evaluated,
 * applied per group only when every anchor of the group is found once:
 *  1. export the acorn parser buble uses, for our iterable pass
 *     (required: without it the transpiler cannot start);
 *  2. compute regexpu's DOT_SET on first use instead of at load time,
 *     which takes ~0.5 s in Duktape and is needed only for regular
 *     expressions with the "s" or "u" flag;
 *  3. return buble's source map decoded (per line, not VLQ text), which
 *     saves ~20% of a transform; transpile.js turns it into the line
 *     table that maps error locations back to the script's own lines.
 */
static const struct buble_patch {
	int group;
	bool required;
	const char *find;
	const char *replace;
} buble_patches[] = {
	{ 1, true, "\n  exports.transform = transform;\n",
	    "\n  exports.transform = transform;\n"
	    "  exports.fmParser = parser$1;\n" },
	{ 2, false,
	    "var DOT_SET = DOT_SET_UNICODE.clone()\n  \t.intersection(BMP_SET);",
	    "var DOT_SET = null;" },
	{ 2, false, "return unicode ? DOT_SET_UNICODE : DOT_SET;",
	    "return unicode ? DOT_SET_UNICODE : (DOT_SET || (DOT_SET = "
	    "DOT_SET_UNICODE.clone().intersection(BMP_SET)));" },
	{ 3, false, "map: this.magicString.generateMap({",
	    "map: this.magicString.generateDecodedMap({" },
};

#define BUBLE_PATCH_GROUPS 3

/* One transpiled script, by content and file name. */
struct tr_entry {
	char *src;
	char *filename;
	char *es5;         /* NULL on failure */
	char *err;         /* NULL on success */
	enum fm_err rc;    /* FM_OK or FM_ERR_JS */
	uint64_t last_use; /* for least-recently-used eviction */
};

/* The one transpiler of the process; guarded by lock. */
static struct {
	pthread_mutex_t lock;
	struct jsheap heap;
	bool ready;
	struct tr_entry cache[TR_CACHE_MAX];
	size_t ncache;
	uint64_t clock;
} tr = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Set by jsenv_transpile_cancel, cleared by jsenv_transpile_shutdown. */
static atomic_bool tr_cancel;

static bool
patch_unique(const char *text, const char *find)
{
	const char *p = strstr(text, find);

	return p != NULL && strstr(p + 1, find) == NULL;
}

static char *
replace_once(char *text, const char *find, const char *repl)
{
	char *p = strstr(text, find), *out;
	size_t head = (size_t)(p - text);

	out = xasprintf("%.*s%s%s", (int)head, text, repl, p + strlen(find));
	free(text);
	return out;
}

/* The buble source with the patches applied; NULL if group 1 fails. */
static char *
buble_patched(void)
{
	const char *src;
	char *text;
	size_t len;

	if ((src = jsenv_lib_source(BUBLE_FILE, &len)) == NULL)
		return NULL;
	text = xstrndup(src, len);
	for (int g = 1; g <= BUBLE_PATCH_GROUPS; g++) {
		bool all = true, required = false;

		for (size_t i = 0; i < nitems(buble_patches); i++) {
			if (buble_patches[i].group != g)
				continue;
			required |= buble_patches[i].required;
			all &= patch_unique(text, buble_patches[i].find);
		}
		if (!all) {
			log_warn("jsenv: buble patch %d does not apply (not "
			         "buble 0.20.0?)",
			    g);
			if (required) {
				free(text);
				return NULL;
			}
			continue;
		}
		for (size_t i = 0; i < nitems(buble_patches); i++)
			if (buble_patches[i].group == g)
				text = replace_once(text, buble_patches[i].find,
				    buble_patches[i].replace);
	}
	return text;
}

/*
 * [ ... ] -> [ ... ]: put Duktape's own RegExp exec and test (saved in
 * the array at idx) back over core-js's wrappers, which make acorn's
 * tokenizer ~25% slower. Only in this heap: it runs our trusted
 * libraries, never a job script.
 */
static void
native_regexp_restore(duk_context *ctx, duk_idx_t saved)
{
	static const char *const names[] = { "exec", "test" };

	duk_get_global_literal(ctx, "RegExp");
	duk_get_prop_literal(ctx, -1, "prototype");
	for (size_t i = 0; i < nitems(names); i++) {
		duk_push_string(ctx, names[i]);
		duk_get_prop_index(ctx, saved, (duk_uarridx_t)i);
		duk_def_prop(
		    ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE);
	}
	duk_pop_2(ctx);
}

static duk_ret_t
tr_setup(duk_context *ctx, void *udata)
{
	const char *buble = udata;
	duk_idx_t saved = duk_push_array(ctx);

	duk_get_global_literal(ctx, "RegExp");
	duk_get_prop_literal(ctx, -1, "prototype");
	duk_get_prop_literal(ctx, -1, "exec");
	duk_put_prop_index(ctx, saved, 0);
	duk_get_prop_literal(ctx, -1, "test");
	duk_put_prop_index(ctx, saved, 1);
	duk_pop_2(ctx);
	jsenv_load_corejs(ctx);
	native_regexp_restore(ctx, saved);
	duk_pop(ctx);
	jsenv_eval_lib(ctx, BUBLE_FILE, buble);
	duk_pop(ctx);
	jsenv_eval_lib(ctx, "transpile.js", NULL); /* -> [ factory ] */
	duk_get_global_string(ctx, "buble");
	duk_get_prop_string(ctx, -1, "fmParser");
	if (!duk_is_object(ctx, -2) || !duk_is_function(ctx, -3))
		return duk_error(ctx, DUK_ERR_ERROR, "buble did not load");
	duk_call(ctx, 2); /* -> [ transpile ] */
	duk_push_heap_stash(ctx);
	duk_swap_top(ctx, -2);
	duk_put_prop_string(ctx, -2, TR_STASH_FN);
	duk_pop(ctx);
	return 0;
}

/* Set up the transpiler heap; with tr.lock held. */
static enum fm_err
tr_open(void)
{
	int64_t t0 = time_mono_us();
	char *buble, *err = NULL;
	enum fm_err rc;

	if ((buble = buble_patched()) == NULL) {
		log_error("jsenv: buble is not embedded or cannot be patched");
		return FM_ERR_INTERNAL;
	}
	if (!jsheap_open(&tr.heap, TR_MAX_HEAP, &tr.heap)) {
		free(buble);
		return FM_ERR_NOMEM;
	}
	tr.heap.cancel = &tr_cancel;
	rc = jsheap_call(&tr.heap, tr_setup, buble, 0, NULL, &err);
	free(buble);
	if (rc != FM_OK) {
		log_error("jsenv: cannot set up the transpiler: %s", err);
		free(err);
		jsheap_close(&tr.heap);
		return FM_ERR_INTERNAL;
	}
	tr.ready = true;
	log_debug("jsenv: transpiler ready in %.1f ms",
	    (double)(time_mono_us() - t0) / 1000.0);
	return FM_OK;
}

struct tr_args {
	const char *src;
	const char *filename;
	char *es5; /* new */
	char *err; /* new */
};

/*
 * [ ... code error ] -> [ ... code error text ]: a failed compile of
 * code as "file:line: Name: message", at the script's own line.
 */
static void
push_compile_error(duk_context *ctx, const char *filename)
{
	long line;

	duk_get_prop_literal(ctx, -1, "lineNumber");
	line =
	    jsenv_map_line(duk_get_string(ctx, -3), (long)duk_to_int(ctx, -1));
	duk_pop(ctx);
	duk_safe_to_string(ctx, -1);
	if (line > 0)
		duk_push_sprintf(
		    ctx, "%s:%ld: %s", filename, line, duk_get_string(ctx, -1));
	else
		duk_push_sprintf(
		    ctx, "%s: %s", filename, duk_get_string(ctx, -1));
}

static duk_ret_t
tr_run(duk_context *ctx, void *udata)
{
	struct tr_args *a = udata;
	const char *text;
	bool ok;

	duk_push_heap_stash(ctx);
	duk_get_prop_string(ctx, -1, TR_STASH_FN);
	duk_push_string(ctx, a->src);
	duk_push_string(ctx, a->filename);
	duk_call(ctx, 2); /* -> [ stash result ] */
	duk_get_prop_string(ctx, -1, "code");
	if (!duk_is_string(ctx, -1)) {
		duk_get_prop_string(ctx, -2, "error");
		a->err = xstrdup(duk_safe_to_string(ctx, -1));
		return 0;
	}

	/* Make sure Duktape takes what buble made. */
	jsenv_push_wrapped(ctx, duk_get_top_index(ctx));
	duk_push_string(ctx, a->filename);
	ok = duk_pcompile(ctx, DUK_COMPILE_FUNCTION | DUK_COMPILE_STRICT) == 0;
	if (!ok)
		push_compile_error(ctx, a->filename);
	text = duk_get_string(ctx, ok ? -2 : -1);
	if (ok)
		a->es5 = xstrdup(text);
	else
		a->err = xstrdup(text);
	return 0;
}

static struct tr_entry *
cache_find(const char *src, const char *filename)
{
	for (size_t i = 0; i < tr.ncache; i++) {
		struct tr_entry *e = &tr.cache[i];

		if (strcmp(e->src, src) == 0 &&
		    strcmp(e->filename, filename) == 0)
			return e;
	}
	return NULL;
}

static void
cache_entry_free(struct tr_entry *e)
{
	free(e->src);
	free(e->filename);
	free(e->es5);
	free(e->err);
	memset(e, 0, sizeof(*e));
}

static void
cache_put(const char *src, const char *filename, enum fm_err rc,
    const char *es5, const char *err)
{
	struct tr_entry *e;

	if (tr.ncache < TR_CACHE_MAX) {
		e = &tr.cache[tr.ncache++];
	} else {
		e = &tr.cache[0];
		for (size_t i = 1; i < tr.ncache; i++)
			if (tr.cache[i].last_use < e->last_use)
				e = &tr.cache[i];
		cache_entry_free(e);
	}
	e->src = xstrdup(src);
	e->filename = xstrdup(filename);
	e->es5 = es5 ? xstrdup(es5) : NULL;
	e->err = err ? xstrdup(err) : NULL;
	e->rc = rc;
	e->last_use = ++tr.clock;
}

enum fm_err
jsenv_transpile(
    const char *src, const char *filename, char **es5_out, char **err_out)
{
	struct tr_args a = { src, filename, NULL, NULL };
	struct tr_entry *e;
	enum fm_err rc;

	*es5_out = NULL;
	*err_out = NULL;
	pthread_mutex_lock(&tr.lock);
	if ((e = cache_find(src, filename)) != NULL) {
		e->last_use = ++tr.clock;
		rc = e->rc;
		if (rc == FM_OK)
			*es5_out = xstrdup(e->es5);
		else
			*err_out = xstrdup(e->err);
		goto done;
	}
	if (atomic_load(&tr_cancel)) {
		*err_out = xstrdup("loading was cancelled");
		rc = FM_ERR_TIMEOUT;
		goto done;
	}
	if (!tr.ready && (rc = tr_open()) != FM_OK) {
		*err_out = xstrdup("the script transpiler cannot start");
		goto done;
	}
	rc =
	    jsheap_call(&tr.heap, tr_run, &a, TR_TIMEOUT_US, filename, err_out);
	if (rc == FM_ERR_TIMEOUT && atomic_load(&tr_cancel)) {
		free(*err_out);
		*err_out = xstrdup("loading was cancelled");
	}
	if (rc == FM_OK && a.err != NULL) {
		rc = FM_ERR_JS;
		*err_out = a.err;
		a.err = NULL;
	}
	if (rc == FM_OK) {
		*es5_out = a.es5;
		a.es5 = NULL;
	}
	if (rc == FM_OK || rc == FM_ERR_JS)
		cache_put(src, filename, rc, *es5_out, *err_out);
	if (tr.heap.broken) {
		jsheap_close(&tr.heap);
		tr.ready = false;
	}
done:
	pthread_mutex_unlock(&tr.lock);
	free(a.es5);
	free(a.err);
	return rc;
}

void
jsenv_transpile_cancel(void)
{
	atomic_store(&tr_cancel, true);
}

void
jsenv_transpile_shutdown(void)
{
	pthread_mutex_lock(&tr.lock);
	atomic_store(&tr_cancel, false);
	if (tr.ready)
		jsheap_close(&tr.heap);
	tr.ready = false;
	for (size_t i = 0; i < tr.ncache; i++)
		cache_entry_free(&tr.cache[i]);
	tr.ncache = 0;
	pthread_mutex_unlock(&tr.lock);
}
