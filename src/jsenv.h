/*
 * The JavaScript environment of job-type scripts: down-levelling modern
 * scripts to ES5 once when they are loaded (buble, embedded), and sandboxed
 * Duktape heaps that run them with core-js and Flamenco's globals (author,
 * path, process, frameChunker, ...) to describe a job type or compile a job.
 * No duk_* type crosses this header; data crosses as jansson values.
 *
 * Scripts run in strict mode with ES2015+ syntax up to ES2019 as acorn 6
 * parses it (not: generators, async functions, tagged templates, optional
 * chaining, class fields) and core-js's library. require() knows only
 * "author", "path" and "process". A heap has no file, network or process
 * access; each run has a time limit, which holds for time spent in C
 * (built-ins, garbage collection, our bindings) too, and the heap a
 * memory cap. Between
 * runs, the global object, the built-in constructors, namespaces and
 * prototypes and Flamenco's modules are put back as they were; deeper
 * objects (a property of a built-in function, say) are not tracked.
 * Heaps are independent: use each from one thread at a time.
 */
#ifndef FM_JSENV_H
#define FM_JSENV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fm.h"

#define JSENV_DEFAULT_MAX_HEAP   ((size_t)256 * 1024 * 1024)
#define JSENV_DEFAULT_TIMEOUT_US ((int64_t)10 * 1000 * 1000)
#define JSENV_DEFAULT_MAX_TASKS  ((size_t)500000)
/* Longest task name, task type and command name a script may author. */
#define JSENV_MAX_NAME_BYTES 1024

/* Limits and options of one heap; zero fields mean the defaults. */
struct jsenv_limits {
	/*
	 * Bytes the Duktape heap may allocate. The authored job (tasks and
	 * command parameters, kept outside the heap) has a budget of the
	 * same size of its own.
	 */
	size_t max_heap_bytes;
	int64_t timeout_us; /* wall-clock limit of one describe or compile */
	size_t max_tasks;   /* tasks one job may have (max_tasks_per_job) */
	/*
	 * Give each authored task its commands as compact JSON text,
	 * "commands_json", plus "steps_total" (Σ max(1, step count),
	 * Flamenco's figure), instead of "commands" as JSON values. The text is
	 * what the store writes anyway; skipping the values saves ~10 us a task
	 * (building, dumping and freeing them).
	 */
	bool commands_text;
};

/* One sandboxed heap, used by one thread at a time. */
struct jsenv;

/*
 * Down-level a job-type script to ES5 that jsenv runs: an acorn pass
 * gives iterables (for-of, spread, array destructuring) their ES2015
 * meaning, then buble rewrites the syntax, then Duktape checks that the
 * result compiles. Call once per script when it is loaded; results are
 * also cached by content, so calling again with an unchanged script is
 * cheap. The first call sets up the transpiler heap (~0.2 s).
 *
 * On success *es5_out is new (caller frees). FM_ERR_JS with *err_out (new)
 * "file:line: message" when the script does not parse or uses a feature
 * that cannot be down-levelled (generators, async functions, tagged
 * templates); FM_ERR_TIMEOUT or FM_ERR_NOMEM when the transpiler ran out
 * of its own limits (20 s, 512 MiB). Thread-safe: calls are serialised on
 * one transpiler heap.
 */
FM_MUST_CHECK enum fm_err jsenv_transpile(
    const char *src, const char *filename, char **es5_out, char **err_out);

/*
 * Make the transpile under way, if any, and every later one fail at once
 * with FM_ERR_TIMEOUT ("loading was cancelled") until
 * jsenv_transpile_shutdown: shutting down need not wait for a large
 * script. Thread-safe; does not block.
 */
void jsenv_transpile_cancel(void);

/* Free the transpiler heap and its cache (at shutdown, or to give its
 * memory back), and end a jsenv_transpile_cancel; thread-safe. */
void jsenv_transpile_shutdown(void);

/*
 * A new heap with core-js and Flamenco's globals (~50 ms; the first heap
 * of the process also compiles core-js, ~70 ms more, to bytecode reused
 * by later heaps). lim may be NULL for the defaults. Returns NULL (logged)
 * when the heap cannot be set up.
 */
struct jsenv *jsenv_new(const struct jsenv_limits *lim);

/*
 * Free a heap; NULL-safe. A heap that hit a Duktape fatal error is not
 * handed back to Duktape, whose state is then unknown; its memory is
 * leaked instead (logged).
 */
void jsenv_free(struct jsenv *env);

/*
 * True when the heap hit a Duktape fatal error or could not be reset
 * after a script changed shared built-ins in a way that cannot be undone
 * (froze Object.prototype, say). A broken heap refuses further work with
 * FM_ERR_INTERNAL; free it and make a new one.
 */
bool jsenv_broken(const struct jsenv *env);

/*
 * Run the script's top level and return its JOB_TYPE object as JSON
 * (*jobtype_out new), as JSON.stringify writes it (functions and
 * undefined members left out). FM_ERR_JS with *err_out (new) when the
 * script throws or defines no JOB_TYPE object;
 * FM_ERR_TIMEOUT, FM_ERR_NOMEM when it exceeds the heap's limits.
 * es5 is the output of jsenv_transpile; filename names it in messages.
 */
FM_MUST_CHECK enum fm_err jsenv_describe(struct jsenv *env, const char *es5,
    const char *filename, json_t **jobtype_out, char **err_out);

/*
 * Run the script and call compileJob(job). job_in (borrowed):
 *   {"jobID", "name", "jobType", "priority", "status",
 *    "created": epoch microseconds or RFC 3339, "settings": {},
 *    "metadata": {}, "workerTagUUID", "storage": {"shamanCheckoutID"}}
 * (missing fields read as "" / 0 / {}). On success *job_out (new):
 *   {"name", "priority", "settings", "metadata", "workerTagUUID",
 *    "storage": {...}, "tasks": [{"uuid", "name", "type", "priority",
 *    "commands": [{"name", "parameters", "total_step_count"}],
 *    "dependencies": ["<task uuid>", ...]}, ...]}
 * with tasks in addTask order, each as it was when it was added, and
 * dependencies given once each; with lim.commands_text a task has
 * "commands_json" and "steps_total" instead of "commands". Command
 * parameters, settings and metadata are taken as JSON.stringify writes
 * them (undefined members and functions left out); metadata values that
 * are not strings become their JSON text.
 *
 * Errors, each with *err_out (new):
 *   FM_ERR_JS       the script threw (the thrown string, or the Error's
 *                   message with the script location), has no compileJob
 *                   function, or does not parse;
 *   FM_ERR_TIMEOUT  it ran longer than the heap's time limit;
 *   FM_ERR_NOMEM    it hit the heap's memory cap or the job's budget;
 *   FM_ERR_INVALID  a task depends on a task that was never added to the
 *                   job, a task was added twice, dependencies form a
 *                   cycle, or the job has more than lim.max_tasks tasks
 *                   (even if the script caught addTask's error);
 *   FM_ERR_INTERNAL the heap is broken (see jsenv_broken).
 * Task names, task types and command names with a NUL character or
 * longer than JSENV_MAX_NAME_BYTES are the script's error (FM_ERR_JS);
 * so is a NUL in a parameter name. Parameter values keep NUL characters
 * exactly. Text for C helpers (frameChunker, frameCount, shellSplit,
 * path.*) with a NUL is a TypeError.
 * Nothing a script sets (globals, changes to built-ins) is visible to the
 * next describe or compile on the same heap. The heap stays usable after
 * a memory error and after a timeout, except when the script was still
 * running in C well past its deadline (0.1-0.25 s): then the call was
 * abandoned and the heap is broken (jsenv_broken); free it.
 */
FM_MUST_CHECK enum fm_err jsenv_compile(struct jsenv *env, const char *es5,
    const char *filename, json_t *job_in, json_t **job_out, char **err_out);

/*
 * Undo what the last describe or compile changed in the heap (globals,
 * built-ins) and free what it left behind (~1.5 ms; ~35 ms after a job
 * of 10,000 tasks, most of it freeing the job). The next describe or
 * compile does this first anyway; a pool can call it when a heap is idle
 * to keep it off the next request's path. FM_ERR_INTERNAL (logged) when
 * the heap could not be reset and is now broken (see jsenv_broken).
 */
FM_MUST_CHECK enum fm_err jsenv_reset(struct jsenv *env);

/* Bytes the heap's allocator holds right now (for metrics and tests). */
size_t jsenv_heap_bytes(const struct jsenv *env);

#endif
