/*
 * Internals shared by the parts of the JavaScript environment: jsenv.c
 * (heaps, limits, embedded libraries), jsenv_json.c (values as JSON),
 * jsenv_run.c (isolation and the describe and compile runs), jsenv_bind.c
 * (the globals scripts see) and jsenv_transpile.c (buble). Only those
 * files include this header; it is the one place duk_* types meet project
 * types.
 */
#ifndef FM_JSENV_INTERNAL_H
#define FM_JSENV_INTERNAL_H

#include <duktape.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jsenv.h"

#define JSENV_MIB ((size_t)1024 * 1024)

#define JSHEAP_MAGIC 0x6a736870u /* "jshp" */

/*
 * Header of every block a heap's allocator hands out (16 bytes, so the
 * payload keeps malloc's alignment; a block's size is malloc's usable
 * size). The blocks of a heap form a list, so a heap abandoned in the
 * middle of a call (see jsheap_call) is freed block by block without
 * Duktape's help.
 */
struct jsblk {
	struct jsblk *prev;
	struct jsblk *next;
};

/*
 * Accounting and control block of one Duktape heap (its heap_udata).
 * Every Duktape heap of the process must be made by jsheap_open: the
 * Duktape build calls jsenv_timeout_check with each heap's udata.
 */
struct jsheap {
	uint32_t magic; /* JSHEAP_MAGIC while open */
	duk_context *ctx;
	struct jsblk blocks;  /* list head of the blocks handed out */
	size_t used;          /* usable bytes of the blocks held */
	size_t cap;           /* allocations beyond this are refused */
	size_t peak;          /* highest used */
	int64_t deadline_us;  /* time_mono_us() limit of this call; 0: none */
	int64_t abandon_us;   /* past this the call is abandoned (broken) */
	atomic_bool *cancel;  /* set (any thread): stop calls now; or NULL */
	uint32_t ticks;       /* allocations since the clock was read */
	bool timed_out;       /* the deadline passed during this call */
	bool alloc_refused;   /* an allocation hit cap this call */
	bool broken;          /* a fatal error: ctx must not be used again */
	bool abandoned;       /* broken by jsheap_call past abandon_us */
	bool armed;           /* fatal_jmp is set */
	const char *filename; /* script of the running call (messages) */
	const char *es5;      /* its transpiled text (line table); or NULL */
	jmp_buf fatal_jmp;    /* where the fatal handler jumps */
};

/* A growing byte buffer (xrealloc: aborts on out-of-memory). */
struct jsbuf {
	char *data; /* NUL-terminated while len < cap */
	size_t len;
	size_t cap;
};

/* One author.Command result: its stored JSON text, in jsrun.cmdtext. */
struct jscmd {
	size_t off; /* {"name":..,"parameters":..,"total_step_count":..} */
	size_t len;
	int64_t steps; /* total_step_count */
};

/* State of one describe or compile; reset before each. */
struct jsrun {
	const char *filename; /* borrowed: the script's name */
	json_t *tasks;        /* authored tasks in addTask order */
	json_t *pending;    /* JSON being built; freed if a throw abandons it */
	struct jscmd *cmds; /* author.Command results of this run */
	struct jsbuf cmdtext; /* their texts, back to back */
	void *job_tasks;      /* the job object's tasks array (heap pointer) */
	size_t ncmds;
	size_t cmds_cap;
	uint32_t gen;      /* tags command handles of this run */
	size_t json_bytes; /* estimated size of what this run built */
	size_t json_cap;   /* budget for json_bytes */
	bool budget_hit;   /* json_cap was exceeded */
	bool tasks_capped; /* addTask went past lim.max_tasks */
	struct jsbuf buf;  /* scratch text of the running binding */
	void *scratch;     /* C buffer of the running native binding */
};

/* Random bytes for task UUIDs, refilled from getrandom(2). */
struct jsrand {
	unsigned char buf[2048];
	size_t left;
};

struct jsenv {
	struct jsheap heap; /* first member: heap_udata points here too */
	struct jsenv_limits lim;
	struct jsrun run;
	struct jsrand rand;
	bool dirty;       /* a run ended; the baseline is not restored yet */
	bool retired;     /* the baseline could not be restored */
	size_t ntracked;  /* objects in the isolation baseline */
	size_t ncached;   /* scripts in the compiled-script cache */
	void *task_proto; /* prototype of tasks (kept in the stash) */
	json_t *garbage;  /* what a failed run built; freed by jsenv_reset */
};

/* Stash keys (heap stash) used across the files. */
#define JSENV_STASH_TASK_PROTO "fmTaskProto"
#define JSENV_STASH_ITER       "fmIter"
#define JSENV_STASH_JOB        "fmJob"

/* Budget charged per JSON value built from a script (plus its text). */
#define JSENV_JSON_NODE_COST 64

/* Hidden property of command objects: the handle of their JSON. */
#define JSENV_HIDDEN_CMD DUK_HIDDEN_SYMBOL("fmCmd")

/* ---- jsenv.c: heaps ---- */

/* Create h->ctx with a capped allocator; false (logged) on failure. */
bool jsheap_open(struct jsheap *h, size_t cap, void *udata);

/* Destroy h->ctx unless broken (then it is leaked, logged). NULL-safe. */
void jsheap_close(struct jsheap *h);

/*
 * Run fn(ctx, udata) in a protected call with a deadline timeout_us from
 * now (0: none) and fatal errors caught. fn returns 0 and leaves nothing
 * on the stack. A thrown value becomes *err_out (new) and FM_ERR_JS, or
 * FM_ERR_TIMEOUT / FM_ERR_NOMEM when a limit was hit; a fatal error marks
 * the heap broken and gives FM_ERR_INTERNAL. filename (may be NULL) picks
 * the script frame for error locations; set h->es5 to the script's text
 * beforehand to have them mapped to its own lines.
 *
 * The deadline holds in C code too. Past it, Duktape's executor throws a
 * RangeError and bindings throw (jsheap_check_time), which unwinds a
 * script in milliseconds. Time spent in C is not always stopped that
 * way: near the memory cap Duktape collects garbage up to ten times
 * before it gives up on an allocation, each collection a good part of
 * a second, and built-ins run long loops. So a call still running a
 * grace period after its deadline (a tenth of the time limit, 0.1 s to
 * 0.25 s) is abandoned from the allocator or a binding: the heap is
 * marked broken, jsheap_close frees its blocks, and the result is
 * FM_ERR_TIMEOUT. A collection under way then still finishes first.
 */
FM_MUST_CHECK enum fm_err jsheap_call(struct jsheap *h,
    duk_safe_call_function fn, void *udata, int64_t timeout_us,
    const char *filename, char **err_out);

/*
 * The script line of line in es5, from the "//# fmLines=" table
 * transpile.js appends; line itself when there is none.
 */
long jsenv_map_line(const char *es5, long line);

/*
 * Inside a protected call: throw the time limit's RangeError once the
 * deadline has passed (and abandon the call once it is long past). For
 * bindings that loop or are called in loops.
 */
void jsheap_check_time(struct jsheap *h, duk_context *ctx);

/* The struct jsenv of a runtime heap (its heap_udata). */
struct jsenv *jsenv_of(duk_context *ctx);

/*
 * Inside a protected call: evaluate core-js into the global object, from
 * bytecode compiled by the first heap of the process, then put back the
 * Duktape natives core-js slows down and install a native replaceAll.
 */
void jsenv_load_corejs(duk_context *ctx);

/*
 * Inside a protected call: compile and run an embedded library file (or
 * the text patched, when not NULL), leaving its completion value on the
 * stack. Throws if missing.
 */
void jsenv_eval_lib(duk_context *ctx, const char *name, const char *patched);

/* The embedded library file called name; NULL when missing. */
const char *jsenv_lib_source(const char *name, size_t *len_out);

/*
 * [ ... ] -> [ ... wrapped ]: the text jsenv compiles for the transpiled
 * script at idx: a strict function taking __fm_iter whose body is the
 * script followed by a return of [JOB_TYPE, compileJob], so top-level
 * names stay local to one run. Line numbers are unchanged.
 */
void jsenv_push_wrapped(duk_context *ctx, duk_idx_t idx);

/* ---- jsenv_json.c ---- */

void jsbuf_add(struct jsbuf *b, const char *s, size_t n);
void jsbuf_addstr(struct jsbuf *b, const char *s);
/* Append s as a JSON string literal (quoted, escaped, valid UTF-8). */
void jsbuf_add_quoted(struct jsbuf *b, const char *s, size_t n);
/* Append the JSON text [s, s + n), repaired to valid UTF-8 if needed. */
void jsbuf_add_json(struct jsbuf *b, const char *s, size_t n);
void jsbuf_free(struct jsbuf *b);

/*
 * A JSON string of Duktape text (new reference): UTF-16 surrogates that
 * Duktape keeps one by one (CESU-8) are joined, lone surrogates and
 * invalid bytes become U+FFFD.
 */
json_t *jsenv_json_string(const char *s, size_t n);

/* Parse JSON text from Duktape (new reference; JSON null if invalid). */
json_t *jsenv_json_parse(const char *s, size_t n);

/* jsenv_json_parse giving up (NULL) at time_mono_us() deadline_us. */
json_t *jsenv_json_parse_by(const char *s, size_t n, int64_t deadline_us);

/*
 * True when the JSON text [s, s + n) (Duktape's encoding) has an object
 * key holding a NUL character (written \u0000), which jansson and other
 * decoders refuse.
 */
bool jsenv_json_nul_in_key(const char *s, size_t n);

/* Push the JS value of v (borrowed). */
void jsenv_push_json(duk_context *ctx, json_t *v);

/*
 * [ ... ] -> [ ... text ]: the value at idx as JSON.stringify would write
 * it (getters and toJSON run; functions and undefined are left out of
 * objects and null in arrays), charged to the run's budget. Throws on
 * cycles. An unencodable value (undefined, a function) gives "null".
 */
const char *jsenv_push_encoded(
    struct jsenv *env, duk_context *ctx, duk_idx_t idx, duk_size_t *len_out);

/* The value at idx as JSON (new reference), via jsenv_push_encoded. */
json_t *jsenv_to_json(struct jsenv *env, duk_context *ctx, duk_idx_t idx);

/* Charge n bytes to the run's JSON budget; throws RangeError beyond it. */
void jsenv_charge(struct jsenv *env, duk_context *ctx, size_t n);

/*
 * Remember a C buffer of the running binding (freed if a throw skips the
 * binding's own free); jsenv_scratch(env, NULL) frees it.
 */
void jsenv_scratch(struct jsenv *env, void *p);

/* ---- jsenv_bind.c ---- */

/* Inside a protected call: install Flamenco's globals and modules. */
void jsenv_bind_globals(duk_context *ctx);

/* Push a new job object for job_in (borrowed); addTask feeds env->run. */
void jsenv_bind_push_job(duk_context *ctx, json_t *job_in);

#endif
