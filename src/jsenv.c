/*
 * Duktape heaps as a sandbox: a byte-capped allocator that keeps its
 * blocks on a list, a wall-clock deadline checked by Duktape's executor
 * and by the allocator (which abandons a call long past it), fatal errors
 * caught with longjmp instead of aborting, thrown values turned into
 * messages, and the embedded libraries (core-js, compiled to bytecode
 * once per process and tuned; the script wrapper). Runs and isolation are
 * in jsenv_run.c.
 */
#include "jsenv.h"

#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "embedded.h"
#include "jsenv_internal.h"
#include "log.h"
#include "timeutil.h"
#include "xmalloc.h"

#define FORMAT_BUDGET_US 100000 /* time to turn a thrown value into text */
#define GRACE_MIN_US     100000 /* least time past a deadline before a */
#define GRACE_MAX_US     250000 /* call is abandoned; at most this */
#define CLOCK_EVERY      256    /* allocations between reads of the clock */

_Static_assert(sizeof(struct jsblk) == 16, "payload alignment");

/* Bytecode of core-js, compiled by the first heap of the process. */
static struct {
	pthread_mutex_t lock;
	void *code;
	size_t len;
} corejs_bc = { PTHREAD_MUTEX_INITIALIZER, NULL, 0 };

/* ---- allocator, fatal errors, deadline ---------------------------- */

static void
blk_link(struct jsheap *h, struct jsblk *b)
{
	b->prev = &h->blocks;
	b->next = h->blocks.next;
	b->next->prev = b;
	h->blocks.next = b;
}

static void
blk_unlink(struct jsblk *b)
{
	b->prev->next = b->next;
	b->next->prev = b->prev;
}

/* What a block counts against the cap: its payload's usable size. */
static size_t
blk_size(struct jsblk *b)
{
	return malloc_usable_size(b) - sizeof(*b);
}

/* Leave the running call for good: jsheap_call gets FM_ERR_TIMEOUT. */
static _Noreturn void
heap_abandon(struct jsheap *h)
{
	h->broken = true;
	h->abandoned = true;
	h->timed_out = true;
	h->armed = false;
	longjmp(h->fatal_jmp, 2);
}

/* Read the clock: note a passed deadline, abandon a long-passed one. */
static void
check_clock(struct jsheap *h)
{
	int64_t now;

	h->ticks = 0;
	if (h->deadline_us != 0 && h->cancel != NULL &&
	    atomic_load_explicit(h->cancel, memory_order_relaxed))
		h->deadline_us = h->abandon_us = 1;
	if (h->deadline_us == 0 || (now = time_mono_us()) < h->deadline_us)
		return;
	h->timed_out = true;
	if (now >= h->abandon_us && h->armed)
		heap_abandon(h);
}

/*
 * May an allocation that grows the heap by grow bytes go ahead? Not past
 * the cap. The clock is read on every refusal (Duktape collects garbage
 * before each retry, which near the cap is where the time goes), on
 * every allocation once the deadline has passed, and every CLOCK_EVERY
 * allocations otherwise; a call long past its deadline is abandoned
 * from here. Until then allocations past the deadline still go ahead:
 * refusing them would only make Duktape collect garbage ten times before
 * each of the errors that unwind the script.
 */
static bool
alloc_allowed(struct jsheap *h, size_t grow)
{
	bool fits = h->used <= h->cap && grow <= h->cap - h->used;

	if (h->deadline_us != 0 &&
	    (!fits || h->timed_out || ++h->ticks >= CLOCK_EVERY))
		check_clock(h);
	if (!fits)
		h->alloc_refused = true;
	return fits;
}

static void *
heap_alloc(void *udata, duk_size_t size)
{
	struct jsheap *h = udata;
	struct jsblk *b;

	if (size == 0 || !alloc_allowed(h, size))
		return NULL;
	if ((b = malloc(sizeof(*b) + size)) == NULL) {
		h->alloc_refused = true;
		return NULL;
	}
	blk_link(h, b);
	h->used += blk_size(b);
	if (h->used > h->peak)
		h->peak = h->used;
	return b + 1;
}

static void
heap_free(void *udata, void *ptr)
{
	struct jsheap *h = udata;
	struct jsblk *b;

	if (ptr == NULL)
		return;
	b = (struct jsblk *)ptr - 1;
	blk_unlink(b);
	h->used -= blk_size(b);
	free(b);
}

static void *
heap_realloc(void *udata, void *ptr, duk_size_t size)
{
	struct jsheap *h = udata;
	struct jsblk *b, *nb;
	size_t old;

	if (ptr == NULL)
		return heap_alloc(udata, size);
	if (size == 0) {
		heap_free(udata, ptr);
		return NULL;
	}
	b = (struct jsblk *)ptr - 1;
	old = blk_size(b);
	/* Shrinking always goes ahead: it is how a heap gives back. */
	if (size > old && !alloc_allowed(h, size - old))
		return NULL;
	blk_unlink(b);
	if ((nb = realloc(b, sizeof(*b) + size)) == NULL) {
		blk_link(h, b);
		h->alloc_refused = true;
		return NULL;
	}
	blk_link(h, nb);
	h->used = h->used - old + blk_size(nb);
	if (h->used > h->peak)
		h->peak = h->used;
	return nb + 1;
}

/* Free every block of a heap Duktape may no longer be asked to free. */
static void
blk_free_all(struct jsheap *h)
{
	struct jsblk *b = h->blocks.next, *next;

	while (b != &h->blocks) {
		next = b->next;
		free(b);
		b = next;
	}
	h->blocks.next = h->blocks.prev = &h->blocks;
	h->used = 0;
}

/*
 * Duktape's fatal handler must not return. Every entry into Duktape from
 * this file arms h->fatal_jmp first, so the caller gets FM_ERR_INTERNAL
 * and the heap is marked broken instead of the process aborting.
 */
static void
heap_fatal(void *udata, const char *msg)
{
	struct jsheap *h = udata;

	log_error("jsenv: Duktape fatal error: %s", msg ? msg : "?");
	h->broken = true;
	if (h->armed) {
		h->armed = false;
		longjmp(h->fatal_jmp, 1);
	}
	/* Unreachable by construction: no Duktape call is made unarmed. */
	abort();
}

/* Called by Duktape's executor (DUK_USE_EXEC_TIMEOUT_CHECK) every ~256k
 * bytecode instructions; non-zero makes it throw RangeError until the
 * protected call returns. */
int
jsenv_timeout_check(void *udata)
{
	struct jsheap *h = udata;

	if (h == NULL || h->magic != JSHEAP_MAGIC || h->deadline_us == 0)
		return 0;
	if (time_mono_us() < h->deadline_us &&
	    (h->cancel == NULL ||
	        !atomic_load_explicit(h->cancel, memory_order_relaxed)))
		return 0;
	h->timed_out = true;
	return 1;
}

bool
jsheap_open(struct jsheap *h, size_t cap, void *udata)
{
	memset(h, 0, sizeof(*h));
	h->magic = JSHEAP_MAGIC;
	h->cap = cap;
	h->blocks.next = h->blocks.prev = &h->blocks;
	h->ctx = duk_create_heap(
	    heap_alloc, heap_realloc, heap_free, udata, heap_fatal);
	if (h->ctx == NULL) {
		log_error("jsenv: cannot create a Duktape heap");
		blk_free_all(h);
		return false;
	}
	return true;
}

void
jsheap_close(struct jsheap *h)
{
	if (h == NULL || h->ctx == NULL)
		return;
	h->deadline_us = 0;
	if (!h->broken && setjmp(h->fatal_jmp) == 0) {
		h->armed = true;
		duk_destroy_heap(h->ctx);
	}
	h->armed = false;
	/* A broken heap is never handed back to Duktape, whose state is
	 * unknown: its blocks are freed one by one instead. */
	if (h->broken)
		log_info("jsenv: freeing a broken heap of %zu bytes%s", h->used,
		    h->abandoned ? " (a script ran far over its time)" : "");
	blk_free_all(h);
	h->ctx = NULL;
	h->magic = 0;
}

struct jsenv *
jsenv_of(duk_context *ctx)
{
	duk_memory_functions funcs;

	duk_get_memory_functions(ctx, &funcs);
	return funcs.udata;
}

/* ---- errors as text ----------------------------------------------- */

/* The line of the first frame of filename in a Duktape traceback. */
static long
stack_line(const char *stack, const char *filename)
{
	size_t fl = strlen(filename);
	const char *p = stack;

	while ((p = strstr(p, " (")) != NULL) {
		p += 2;
		if (strncmp(p, filename, fl) == 0 && p[fl] == ':')
			return strtol(p + fl + 1, NULL, 10);
	}
	return 0;
}

/* [ ... ] -> [ ... value ]: obj[key] as a string; NULL if it is not. */
static const char *
push_string_prop(duk_context *ctx, duk_idx_t obj, const char *key)
{
	duk_get_prop_string(ctx, obj, key);
	return duk_is_string(ctx, -1) ? duk_get_string(ctx, -1) : NULL;
}

long
jsenv_map_line(const char *es5, long line)
{
	static const char marker[] = "\n//# fmLines=";
	const char *p = NULL, *q;
	long gen = 0, orig = 0;

	if (es5 == NULL || line <= 0)
		return line;
	for (q = es5; (q = strstr(q, marker)) != NULL; q++)
		p = q;
	if (p == NULL)
		return line;
	p += sizeof(marker) - 1;
	while (*p != '\0' && *p != '\n') {
		char *end;
		long d = strtol(p, &end, 10), n = 1;

		if (end == p)
			break;
		p = end;
		if (*p == '*') {
			n = strtol(p + 1, &end, 10);
			p = end;
		}
		if (line - gen <= n)
			return orig + d * (line - gen);
		gen += n;
		orig += d * n;
		if (*p == ',')
			p++;
	}
	return line;
}

/*
 * [ ... thrown ] -> [ ... text ]: a thrown string as it is, an Error as
 * "message" (or "Name: message" for other error types) plus the script
 * location "(file:line)" when one is known, anything else as String(v).
 */
static duk_ret_t
format_thrown(duk_context *ctx, void *udata)
{
	struct jsheap *h = udata;
	const char *filename = h->filename, *name, *msg, *stack;
	duk_idx_t thrown = duk_get_top_index(ctx);
	long line = 0;

	if (duk_is_string(ctx, thrown))
		return 1;
	if (!duk_is_error(ctx, thrown)) {
		duk_safe_to_string(ctx, thrown);
		return 1;
	}
	/* The values stay on the stack while their text is used. */
	name = push_string_prop(ctx, thrown, "name");
	msg = push_string_prop(ctx, thrown, "message");
	stack = push_string_prop(ctx, thrown, "stack");
	if (stack != NULL && filename != NULL)
		line = jsenv_map_line(h->es5, stack_line(stack, filename));
	if (name == NULL)
		name = "Error";
	/* The message is pushed whole: it may hold NUL characters. */
	if (msg == NULL)
		duk_push_string(ctx, "");
	else
		duk_dup(ctx, thrown + 2);
	if (strcmp(name, "Error") == 0 && msg != NULL && *msg != '\0')
		duk_push_string(ctx, "");
	else
		duk_push_sprintf(ctx, "%s: ", name);
	duk_swap_top(ctx, -2);
	if (line > 0)
		duk_push_sprintf(ctx, " (%s:%ld)", filename, line);
	else
		duk_push_string(ctx, "");
	duk_concat(ctx, 3);
	return 1;
}

/* How long past its deadline a call may go on before it is abandoned. */
static int64_t
grace_us(int64_t timeout_us)
{
	int64_t g = timeout_us / 10;

	return g < GRACE_MIN_US ? GRACE_MIN_US
	    : g > GRACE_MAX_US  ? GRACE_MAX_US
	                        : g;
}

static char *
timeout_message(const char *filename, int64_t timeout_us)
{
	return xasprintf("%s: the script ran longer than %.3g s",
	    filename ? filename : "script", (double)timeout_us / 1e6);
}

void
jsheap_check_time(struct jsheap *h, duk_context *ctx)
{
	check_clock(h);
	if (h->deadline_us != 0 && h->timed_out)
		(void)duk_error(ctx, DUK_ERR_RANGE_ERROR, "execution timeout");
}

/* The string at idx as a message (new): NUL characters as \u0000. */
static char *
message_dup(duk_context *ctx, duk_idx_t idx)
{
	duk_size_t n;
	const char *s = duk_get_lstring(ctx, idx, &n);
	struct jsbuf b = { 0 };

	if (memchr(s, '\0', n) == NULL)
		return xstrdup(s);
	for (duk_size_t i = 0; i < n; i++) {
		if (s[i] == '\0')
			jsbuf_addstr(&b, "\\u0000");
		else
			jsbuf_add(&b, s + i, 1);
	}
	return b.data;
}

enum fm_err
jsheap_call(struct jsheap *h, duk_safe_call_function fn, void *udata,
    int64_t timeout_us, const char *filename, char **err_out)
{
	duk_context *ctx = h->ctx;
	volatile duk_idx_t top;
	duk_int_t rc;

	*err_out = NULL;
	if (h->broken) {
		*err_out = xstrdup("the script engine is broken");
		return FM_ERR_INTERNAL;
	}
	top = duk_get_top(ctx);
	h->filename = filename;
	h->timed_out = false;
	h->alloc_refused = false;
	h->ticks = 0;
	h->deadline_us = timeout_us > 0 ? time_mono_us() + timeout_us : 0;
	h->abandon_us = h->deadline_us + grace_us(timeout_us);
	switch (setjmp(h->fatal_jmp)) {
	case 0:
		break;
	case 2: /* heap_abandon */
		h->deadline_us = 0;
		*err_out = timeout_message(filename, timeout_us);
		return FM_ERR_TIMEOUT;
	default: /* heap_fatal */
		h->deadline_us = 0;
		*err_out = xstrdup("the script engine failed fatally");
		return FM_ERR_INTERNAL;
	}
	h->armed = true;
	rc = duk_safe_call(ctx, fn, udata, 0, 1);
	if (rc == DUK_EXEC_SUCCESS) {
		h->armed = false;
		h->deadline_us = 0;
		duk_set_top(ctx, top);
		return FM_OK;
	}

	/* -> [ ... thrown ] */
	if (h->timed_out) {
		h->armed = false;
		h->deadline_us = 0;
		duk_set_top(ctx, top);
		*err_out = timeout_message(filename, timeout_us);
		return FM_ERR_TIMEOUT;
	}
	if (h->alloc_refused) {
		h->armed = false;
		h->deadline_us = 0;
		duk_set_top(ctx, top);
		*err_out = xasprintf(
		    "%s: the script needed more than %zu MiB of memory",
		    filename ? filename : "script", h->cap / JSENV_MIB);
		return FM_ERR_NOMEM;
	}
	/* A thrown object's getters run here, so give them a deadline. */
	h->deadline_us = time_mono_us() + FORMAT_BUDGET_US;
	h->abandon_us = h->deadline_us + GRACE_MIN_US;
	rc = duk_safe_call(ctx, format_thrown, h, 1, 1);
	h->armed = false;
	h->deadline_us = 0;
	if (rc == DUK_EXEC_SUCCESS && duk_is_string(ctx, -1))
		*err_out = message_dup(ctx, -1);
	else
		*err_out = xstrdup("the script threw a value that cannot be "
		                   "shown");
	duk_set_top(ctx, top);
	return FM_ERR_JS;
}

/* ---- embedded libraries ------------------------------------------- */

const char *
jsenv_lib_source(const char *name, size_t *len_out)
{
	for (size_t i = 0; i < embedded_jslib_count; i++) {
		if (strcmp(embedded_jslib[i].name, name) == 0) {
			*len_out = embedded_jslib[i].len;
			return (const char *)embedded_jslib[i].data;
		}
	}
	*len_out = 0;
	return NULL;
}

void
jsenv_eval_lib(duk_context *ctx, const char *name, const char *patched)
{
	const char *src;
	size_t len;

	if (patched != NULL) {
		src = patched;
		len = strlen(patched);
	} else if ((src = jsenv_lib_source(name, &len)) == NULL) {
		(void)duk_error(ctx, DUK_ERR_ERROR, "%s is not embedded", name);
		return;
	}
	duk_push_lstring(ctx, src, len);
	duk_push_string(ctx, name);
	duk_compile(ctx, DUK_COMPILE_EVAL);
	duk_call(ctx, 0); /* -> [ ... completion ] */
}

/*
 * Duktape natives that core-js replaces with JavaScript wrappers for edge
 * cases job scripts do not meet (Symbol.species, Symbol.replace, lengths
 * beyond 2^32, ...). The wrappers make hot paths 5-20 times slower (Array
 * push, concat, String split, replace), so the natives are put back after
 * core-js has loaded; their behaviour on ordinary values was checked
 * against V8. Array sort (core-js: stable), JSON.stringify (well-formed
 * surrogates) and RegExp exec (named groups, dotAll) keep core-js's.
 */
static const struct {
	const char *object; /* global holding it */
	bool proto;         /* on object.prototype */
	const char *name;
} fast_natives[] = {
	{ "Array", true, "concat" },
	{ "Array", true, "push" },
	{ "Array", true, "slice" },
	{ "Array", true, "splice" },
	{ "Array", true, "map" },
	{ "Array", true, "filter" },
	{ "String", true, "replace" },
	{ "String", true, "split" },
	{ "String", true, "match" },
	{ "String", true, "search" },
	{ "String", true, "trim" },
	{ "String", true, "startsWith" },
	{ "String", true, "endsWith" },
	{ "String", true, "includes" },
	{ "JSON", false, "parse" },
	{ "Object", false, "assign" },
};

/* [ ... ] -> [ ... holder ]: the object fast_natives[i] lives on. */
static void
push_native_holder(duk_context *ctx, size_t i)
{
	duk_get_global_string(ctx, fast_natives[i].object);
	if (fast_natives[i].proto) {
		duk_get_prop_string(ctx, -1, "prototype");
		duk_remove(ctx, -2);
	}
}

/* [ ... ] -> [ ... saved ]: the current fast_natives functions. */
static void
natives_save(duk_context *ctx)
{
	duk_push_array(ctx);
	for (size_t i = 0; i < nitems(fast_natives); i++) {
		push_native_holder(ctx, i);
		duk_get_prop_string(ctx, -1, fast_natives[i].name);
		duk_put_prop_index(ctx, -3, (duk_uarridx_t)i);
		duk_pop(ctx);
	}
}

/* [ ... saved ] -> [ ... ]: put the saved functions back. */
static void
natives_restore(duk_context *ctx)
{
	for (size_t i = 0; i < nitems(fast_natives); i++) {
		push_native_holder(ctx, i);
		duk_push_string(ctx, fast_natives[i].name);
		duk_get_prop_index(ctx, -3, (duk_uarridx_t)i);
		if (duk_is_function(ctx, -1))
			duk_def_prop(ctx, -3,
			    DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE |
			        DUK_DEFPROP_CLEAR_ENUMERABLE |
			        DUK_DEFPROP_SET_CONFIGURABLE |
			        DUK_DEFPROP_FORCE);
		else
			duk_pop_2(ctx);
		duk_pop(ctx);
	}
	duk_pop(ctx);
}

/* $-patterns of String.prototype.replace for a match of a plain string. */
static void
substitute(duk_context *ctx, const char *s, size_t slen, size_t pos,
    size_t mlen, const char *r, size_t rlen)
{
	duk_idx_t base = duk_get_top(ctx);
	size_t lit = 0;

	for (size_t i = 0; i < rlen; i++) {
		char c = i + 1 < rlen && r[i] == '$' ? r[i + 1] : '\0';

		if (c != '$' && c != '&' && c != '`' && c != '\'')
			continue;
		duk_push_lstring(ctx, r + lit, i - lit);
		if (c == '$')
			duk_push_string(ctx, "$");
		else if (c == '&')
			duk_push_lstring(ctx, s + pos, mlen);
		else if (c == '`')
			duk_push_lstring(ctx, s, pos);
		else
			duk_push_lstring(
			    ctx, s + pos + mlen, slen - pos - mlen);
		lit = ++i + 1;
	}
	duk_push_lstring(ctx, r + lit, rlen - lit);
	duk_concat(ctx, duk_get_top(ctx) - base);
}

/*
 * String.prototype.replaceAll for a non-empty string pattern and a
 * string replacement, natively (the core-js version costs ~10 us a call,
 * and simple-blender-render calls it once per chunk). Everything else
 * goes to core-js's implementation.
 */
static duk_ret_t
fast_replace_all(duk_context *ctx)
{
	const char *s, *pat, *rep, *hit;
	duk_size_t slen, plen, rlen;
	duk_idx_t base;
	size_t at = 0;

	if (!duk_is_string(ctx, 0) || duk_is_function(ctx, 1) ||
	    duk_is_null_or_undefined(ctx, 0)) {
		duk_push_current_function(ctx);
		duk_get_prop_string(ctx, -1, DUK_HIDDEN_SYMBOL("fmFallback"));
		duk_push_this(ctx);
		duk_dup(ctx, 0);
		duk_dup(ctx, 1);
		duk_call_method(ctx, 2);
		return 1;
	}
	duk_push_this(ctx);
	if (duk_is_null_or_undefined(ctx, -1))
		return duk_error(ctx, DUK_ERR_TYPE_ERROR,
		    "String.prototype.replaceAll called on null or undefined");
	s = duk_to_lstring(ctx, -1, &slen);
	pat = duk_get_lstring(ctx, 0, &plen);
	rep = duk_to_lstring(ctx, 1, &rlen);
	if (plen == 0) {
		duk_pop(ctx);
		duk_push_current_function(ctx);
		duk_get_prop_string(ctx, -1, DUK_HIDDEN_SYMBOL("fmFallback"));
		duk_push_this(ctx);
		duk_dup(ctx, 0);
		duk_dup(ctx, 1);
		duk_call_method(ctx, 2);
		return 1;
	}
	base = duk_get_top(ctx);
	while ((hit = memmem(s + at, slen - at, pat, plen)) != NULL) {
		size_t pos = (size_t)(hit - s);

		duk_push_lstring(ctx, s + at, pos - at);
		if (memchr(rep, '$', rlen) != NULL)
			substitute(ctx, s, slen, pos, plen, rep, rlen);
		else
			duk_push_lstring(ctx, rep, rlen);
		at = pos + plen;
		/* Keep the value stack small on strings with many hits. */
		if (duk_get_top(ctx) - base > 64)
			duk_concat(ctx, duk_get_top(ctx) - base);
	}
	duk_push_lstring(ctx, s + at, slen - at);
	duk_concat(ctx, duk_get_top(ctx) - base);
	return 1;
}

/* [ ... ] -> [ ... ]: install fast_replace_all over core-js's. */
static void
install_replace_all(duk_context *ctx)
{
	duk_get_global_string(ctx, "String");
	duk_get_prop_string(ctx, -1, "prototype");
	duk_push_string(ctx, "replaceAll");
	duk_push_c_function(ctx, fast_replace_all, 2);
	duk_get_prop_string(ctx, -3, "replaceAll");
	if (!duk_is_function(ctx, -1)) {
		duk_pop_n(ctx, 5);
		return;
	}
	duk_put_prop_string(ctx, -2, DUK_HIDDEN_SYMBOL("fmFallback"));
	duk_push_string(ctx, "name");
	duk_push_string(ctx, "replaceAll");
	duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_FORCE);
	duk_def_prop(ctx, -3,
	    DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE |
	        DUK_DEFPROP_CLEAR_ENUMERABLE | DUK_DEFPROP_SET_CONFIGURABLE |
	        DUK_DEFPROP_FORCE);
	duk_pop_2(ctx);
}

/*
 * Compile core-js once per process and keep its bytecode: later heaps
 * load it in ~7 ms instead of compiling 0.9 MB of source (~70 ms).
 */
void
jsenv_load_corejs(duk_context *ctx)
{
	const char *src;
	duk_size_t len;
	size_t srclen;
	void *buf;

	natives_save(ctx); /* -> [ ... saved ] */
	pthread_mutex_lock(&corejs_bc.lock);
	if (corejs_bc.code == NULL) {
		src = jsenv_lib_source("index.js", &srclen);
		if (src == NULL) {
			pthread_mutex_unlock(&corejs_bc.lock);
			(void)duk_error(ctx, DUK_ERR_ERROR,
			    "core-js (index.js) is not embedded");
			return;
		}
		duk_push_lstring(ctx, src, srclen);
		duk_push_string(ctx, "core-js.js");
		if (duk_pcompile(ctx, 0) != 0) {
			pthread_mutex_unlock(&corejs_bc.lock);
			(void)duk_throw(ctx);
			return;
		}
		duk_dup(ctx, -1);
		duk_dump_function(ctx); /* -> [ ... saved fn bytecode ] */
		buf = duk_get_buffer_data(ctx, -1, &len);
		corejs_bc.code = xmalloc(len);
		memcpy(corejs_bc.code, buf, len);
		corejs_bc.len = len;
		duk_pop(ctx);
	} else {
		buf = duk_push_fixed_buffer(ctx, corejs_bc.len);
		memcpy(buf, corejs_bc.code, corejs_bc.len);
		duk_load_function(ctx); /* -> [ ... saved fn ] */
	}
	pthread_mutex_unlock(&corejs_bc.lock);
	duk_call(ctx, 0);
	duk_pop(ctx);
	natives_restore(ctx);
	install_replace_all(ctx);
}

void
jsenv_push_wrapped(duk_context *ctx, duk_idx_t idx)
{
	idx = duk_normalize_index(ctx, idx);
	duk_push_string(ctx, "function (__fm_iter) {");
	duk_dup(ctx, idx);
	duk_push_string(ctx,
	    "\n;return [typeof JOB_TYPE === \"undefined\" "
	    "? undefined : JOB_TYPE, typeof compileJob === "
	    "\"undefined\" ? undefined : compileJob];\n}");
	duk_concat(ctx, 3);
}
