/*
 * The globals Flamenco gives job-type scripts (see README, Job types), bound as
 * native functions: print, alert, frameChunker, frameCount, shellSplit,
 * formatTimestampLocal, require, and the author, path and process modules,
 * plus the job object passed to compileJob. addTask turns a task into JSON
 * on the spot (it stores the task as it is at that moment), so a compile
 * ends with the authored job already outside the heap.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "frames.h"
#include "ids.h"
#include "jsenv_internal.h"
#include "jspath.h"
#include "log.h"
#include "shellsplit.h"
#include "timeutil.h"
#include "xmalloc.h"

#define STASH_MODULES "fmModules"
#define TASK_COST     512 /* JSON budget charged per task, roughly */

#if defined(__linux__)
#define PLATFORM "linux"
#elif defined(__APPLE__)
#define PLATFORM "darwin"
#elif defined(__FreeBSD__)
#define PLATFORM "freebsd"
#else
#define PLATFORM "unknown"
#endif

/* Throw an Error with msg (new string, freed here even if pushing fails). */
static duk_ret_t
throw_owned(duk_context *ctx, char *msg)
{
	struct jsenv *env = jsenv_of(ctx);

	jsenv_scratch(env, msg);
	duk_push_error_object(ctx, DUK_ERR_ERROR, "%s", msg);
	jsenv_scratch(env, NULL);
	return duk_throw(ctx);
}

/* Argument idx as a Go string parameter: undefined and null read "". */
static const char *
arg_string(duk_context *ctx, duk_idx_t idx, duk_size_t *len_out)
{
	duk_size_t len;
	const char *s;

	if (duk_is_null_or_undefined(ctx, idx)) {
		duk_push_string(ctx, "");
		duk_replace(ctx, idx);
	}
	s = duk_to_lstring(ctx, idx, &len);
	if (len_out != NULL)
		*len_out = len;
	return s;
}

/*
 * Argument idx as a Go string for C code that reads text up to a NUL
 * (frame ranges, shell words, paths): such text cannot be passed on
 * whole, so one holding a NUL character is a TypeError naming what.
 */
static const char *
arg_cstring(duk_context *ctx, duk_idx_t idx, const char *what)
{
	duk_size_t len;
	const char *s = arg_string(ctx, idx, &len);

	if (memchr(s, '\0', len) != NULL)
		(void)duk_error(ctx, DUK_ERR_TYPE_ERROR,
		    "%s: the text contains a NUL character", what);
	return s;
}

/* How much of s a message shows: up to a NUL and at most 40 bytes,
 * ending on a UTF-8 character boundary. */
static int
shown_len(const char *s, size_t len)
{
	const char *nul = memchr(s, '\0', len);
	size_t n = nul != NULL ? (size_t)(nul - s) : len;

	if (n > 40) {
		n = 40;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	return (int)n;
}

/*
 * Check authored text that is stored as a name (task name and type,
 * command name, task UUID): a NUL character or more than
 * JSENV_MAX_NAME_BYTES bytes is an Error naming what and showing the
 * start of the text. Such names are refused rather than cut: the store,
 * logs and the web interface treat them as C strings.
 */
static void
check_name(duk_context *ctx, const char *s, duk_size_t len, const char *what,
    const char *field)
{
	if (memchr(s, '\0', len) != NULL)
		(void)duk_error(ctx, DUK_ERR_ERROR,
		    "%s: the %s \"%.*s\" contains a NUL character", what, field,
		    shown_len(s, len), s);
	if (len > JSENV_MAX_NAME_BYTES)
		(void)duk_error(ctx, DUK_ERR_ERROR,
		    "%s: the %s \"%.*s...\" is longer than %d bytes", what,
		    field, shown_len(s, len), s, JSENV_MAX_NAME_BYTES);
}

/* Argument idx as a Go int: truncated, NaN and undefined are 0. */
static int64_t
arg_int(duk_context *ctx, duk_idx_t idx)
{
	double d = duk_is_undefined(ctx, idx) ? 0 : duk_to_number(ctx, idx);

	if (isnan(d))
		return 0;
	if (d >= 9.2e18)
		return INT64_MAX;
	if (d <= -9.2e18)
		return INT64_MIN;
	return (int64_t)d;
}

/*
 * [ ... ] -> [ ... arr ]: n NUL-terminated strings back to back, from a
 * C buffer. The elements are defined, not assigned, so no setter a
 * script put on Array.prototype runs while the buffer is in use.
 */
static void
push_string_list(duk_context *ctx, const char *p, size_t n)
{
	duk_idx_t arr = duk_push_array(ctx);

	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(p);

		/* frameChunker gives up to a million chunks. */
		if ((i & 4095) == 4095)
			jsheap_check_time(&jsenv_of(ctx)->heap, ctx);

		duk_push_uint(ctx, (duk_uint_t)i);
		duk_push_lstring(ctx, p, len);
		duk_def_prop(
		    ctx, arr, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WEC);
		p += len + 1;
	}
}

/* ---- globals ------------------------------------------------------ */

static duk_ret_t
log_args(duk_context *ctx, enum log_level level)
{
	struct jsenv *env = jsenv_of(ctx);
	duk_idx_t n = duk_get_top(ctx);
	const char *name = env->run.filename ? env->run.filename : "script";
	struct jsbuf b = { 0 };
	const char *text;
	duk_size_t len;

	for (duk_idx_t i = 0; i < n; i++)
		duk_to_string(ctx, i);
	duk_push_string(ctx, " ");
	duk_insert(ctx, 0);
	duk_join(ctx, n);
	text = duk_get_lstring(ctx, -1, &len);
	/* A NUL would end the line early: show it as \u0000 instead. No
	 * Duktape call (nothing throws) while b is held. */
	if (memchr(text, '\0', len) != NULL) {
		for (duk_size_t i = 0; i < len; i++) {
			if (text[i] == '\0')
				jsbuf_addstr(&b, "\\u0000");
			else
				jsbuf_add(&b, text + i, 1);
		}
		text = b.data;
	}
	if (level == LOG_LEVEL_WARN)
		log_warn("%s: %s", name, text);
	else
		log_info("%s: %s", name, text);
	jsbuf_free(&b);
	return 0;
}

static duk_ret_t
bind_print(duk_context *ctx)
{
	return log_args(ctx, LOG_LEVEL_INFO);
}

static duk_ret_t
bind_alert(duk_context *ctx)
{
	return log_args(ctx, LOG_LEVEL_WARN);
}

static duk_ret_t
bind_frame_chunker(duk_context *ctx)
{
	struct jsenv *env = jsenv_of(ctx);
	const char *spec =
	    arg_cstring(ctx, 0, "frameChunker(frames, chunkSize)");
	int64_t size = arg_int(ctx, 1);
	char *chunks = NULL, *err = NULL;
	size_t n = 0;

	if (frames_chunk(spec, size, &chunks, &n, &err) != FM_OK)
		return throw_owned(ctx, err);
	jsenv_scratch(env, chunks);
	push_string_list(ctx, chunks, n);
	jsenv_scratch(env, NULL);
	return 1;
}

static duk_ret_t
bind_frame_count(duk_context *ctx)
{
	const char *spec = arg_cstring(ctx, 0, "frameCount(frames)");
	char *err = NULL;
	size_t n = 0;

	if (frames_count(spec, &n, &err) != FM_OK)
		return throw_owned(ctx, err);
	duk_push_number(ctx, (double)n);
	return 1;
}

static duk_ret_t
bind_shell_split(duk_context *ctx)
{
	struct jsenv *env = jsenv_of(ctx);
	const char *s = arg_cstring(ctx, 0, "shellSplit(text)");
	char *words = NULL, *err = NULL;
	size_t n = 0;

	if (shellsplit(s, &words, &n, &err) != FM_OK)
		return throw_owned(ctx, err);
	jsenv_scratch(env, words);
	push_string_list(ctx, words, n);
	jsenv_scratch(env, NULL);
	return 1;
}

/* formatTimestampLocal(t): a Date, epoch milliseconds or RFC 3339 text
 * as local time "YYYY-MM-DD_HHMMSS". */
static duk_ret_t
bind_format_timestamp(duk_context *ctx)
{
	char buf[64];
	int64_t us;
	double ms;
	time_t secs;
	struct tm tm;

	if (duk_is_string(ctx, 0)) {
		(void)arg_cstring(ctx, 0, "formatTimestampLocal(t)");
		if (time_parse_rfc3339(duk_get_string(ctx, 0), &us) != FM_OK)
			return duk_error(ctx, DUK_ERR_TYPE_ERROR,
			    "formatTimestampLocal(t): not a time: %s",
			    duk_get_string(ctx, 0));
		ms = (double)(us / 1000);
	} else {
		ms = duk_to_number(ctx, 0);
	}
	if (!isfinite(ms))
		return duk_error(ctx, DUK_ERR_TYPE_ERROR,
		    "formatTimestampLocal(t): not a time");
	secs = (time_t)floor(ms / 1000.0);
	if (localtime_r(&secs, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%d_%H%M%S", &tm) == 0)
		return duk_error(ctx, DUK_ERR_RANGE_ERROR,
		    "formatTimestampLocal(t): time out of range");
	duk_push_string(ctx, buf);
	return 1;
}

static duk_ret_t
bind_require(duk_context *ctx)
{
	const char *name = arg_cstring(ctx, 0, "require(name)");

	duk_push_heap_stash(ctx);
	duk_get_prop_string(ctx, -1, STASH_MODULES);
	duk_get_prop_string(ctx, -1, name);
	if (duk_is_undefined(ctx, -1))
		return duk_error(ctx, DUK_ERR_ERROR,
		    "require(\"%s\"): no such module (there are author, path "
		    "and process)",
		    name);
	return 1;
}

/* ---- path and process --------------------------------------------- */

/* Push the new string s and free it, even if pushing throws. */
static duk_ret_t
push_owned(duk_context *ctx, char *s)
{
	struct jsenv *env = jsenv_of(ctx);

	jsenv_scratch(env, s);
	duk_push_string(ctx, s);
	jsenv_scratch(env, NULL);
	return 1;
}

static duk_ret_t
bind_path_join(duk_context *ctx)
{
	duk_idx_t n = duk_get_top(ctx);
	const char **parts;
	char *res;

	for (duk_idx_t i = 0; i < n; i++)
		(void)arg_cstring(ctx, i, "path.join(...paths)");
	parts = xcalloc((size_t)n + 1, sizeof(*parts));
	for (duk_idx_t i = 0; i < n; i++)
		parts[i] = duk_get_string(ctx, i);
	res = jspath_join(parts, (size_t)n);
	free(parts);
	return push_owned(ctx, res);
}

static duk_ret_t
bind_path_dirname(duk_context *ctx)
{
	return push_owned(
	    ctx, jspath_dirname(arg_cstring(ctx, 0, "path.dirname(path)")));
}

static duk_ret_t
bind_path_basename(duk_context *ctx)
{
	return push_owned(
	    ctx, jspath_basename(arg_cstring(ctx, 0, "path.basename(path)")));
}

static duk_ret_t
bind_path_stem(duk_context *ctx)
{
	return push_owned(
	    ctx, jspath_stem(arg_cstring(ctx, 0, "path.stem(path)")));
}

static duk_ret_t
bind_process_cwd(duk_context *ctx)
{
	char buf[PATH_MAX];

	if (getcwd(buf, sizeof(buf)) == NULL)
		return duk_error(
		    ctx, DUK_ERR_ERROR, "process.cwd(): %s", strerror(errno));
	duk_push_string(ctx, buf);
	return 1;
}

/* ---- author ------------------------------------------------------- */

/* A v4 UUID from buffered getrandom(2) output (libuuid costs a system
 * call per UUID, which shows with 100,000 tasks). */
static void
new_uuid(struct jsrand *r, char out[ID_UUID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	size_t o = 0;

	if (r->left < sizeof(b)) {
		size_t got = 0;

		while (got < sizeof(r->buf)) {
			ssize_t k =
			    getrandom(r->buf + got, sizeof(r->buf) - got, 0);

			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break;
			got += (size_t)k;
		}
		if (got < sizeof(r->buf)) {
			ids_new_uuid(out);
			return;
		}
		r->left = sizeof(r->buf);
	}
	memcpy(b, r->buf + sizeof(r->buf) - r->left, sizeof(b));
	r->left -= sizeof(b);
	b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
	for (size_t i = 0; i < sizeof(b); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 0x0F];
	}
	out[o] = '\0';
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

/* [ ... ] -> [ ... trimmed ]: argument idx as a trimmed Go string. */
static duk_size_t
push_trimmed(duk_context *ctx, duk_idx_t idx)
{
	duk_size_t len;
	const char *s = arg_string(ctx, idx, &len), *e = s + len;

	while (s < e && is_space(*s))
		s++;
	while (e > s && is_space(e[-1]))
		e--;
	if ((duk_size_t)(e - s) == len)
		duk_dup(ctx, idx);
	else
		duk_push_lstring(ctx, s, (duk_size_t)(e - s));
	return (duk_size_t)(e - s);
}

/* author.Task(name, type): a new task with a fresh UUID, priority 50. */
static duk_ret_t
bind_author_task(duk_context *ctx)
{
	struct jsenv *env = jsenv_of(ctx);
	char uuid[ID_UUID_LEN + 1];
	const char *s;
	duk_size_t len;
	duk_idx_t task;

	if (push_trimmed(ctx, 0) == 0)
		return duk_error(ctx, DUK_ERR_ERROR,
		    "author.Task(name, type): name is required");
	if (push_trimmed(ctx, 1) == 0)
		return duk_error(ctx, DUK_ERR_ERROR,
		    "author.Task(name, type): type is required");
	/* -> [ name type nameT typeT ] */
	s = duk_get_lstring(ctx, -2, &len);
	check_name(ctx, s, len, "author.Task(name, type)", "name");
	s = duk_get_lstring(ctx, -1, &len);
	check_name(ctx, s, len, "author.Task(name, type)", "type");
	new_uuid(&env->rand, uuid);
	task = duk_push_object(ctx);
	duk_push_heapptr(ctx, env->task_proto);
	duk_set_prototype(ctx, task);
	duk_push_lstring(ctx, uuid, ID_UUID_LEN);
	duk_put_prop_literal(ctx, task, "uUID");
	duk_dup(ctx, task - 2);
	duk_put_prop_literal(ctx, task, "name");
	duk_dup(ctx, task - 1);
	duk_put_prop_literal(ctx, task, "type");
	duk_push_int(ctx, 50);
	duk_put_prop_literal(ctx, task, "priority");
	duk_push_array(ctx);
	duk_put_prop_literal(ctx, task, "commands");
	duk_push_array(ctx);
	duk_put_prop_literal(ctx, task, "dependencies");
	return 1;
}

/*
 * [ ... name params steps ] at idx -> unchanged: the stored JSON text of
 * a command, {"name":..,"parameters":..,"total_step_count":..}, kept in
 * the run's command table. Returns its handle. A NUL character in a
 * parameter value is kept (as \u0000 in the text; Workers decode it);
 * one in the name or in a parameter name is an Error, as JSON decoders
 * (jansson among them) refuse NUL in object keys.
 */
static double
command_keep(
    struct jsenv *env, duk_context *ctx, duk_idx_t idx, const char *what)
{
	struct jsrun *run = &env->run;
	struct jsbuf *b = &run->cmdtext;
	const char *name, *params;
	duk_size_t nlen, plen;
	char num[32];
	int64_t steps;

	jsheap_check_time(&env->heap, ctx);
	name = duk_to_lstring(ctx, idx, &nlen);
	check_name(ctx, name, nlen, what, "command name");
	steps = arg_int(ctx, idx + 2);
	params = jsenv_push_encoded(env, ctx, idx + 1, &plen);
	if (jsenv_json_nul_in_key(params, plen))
		(void)duk_error(ctx, DUK_ERR_ERROR,
		    "%s: a parameter name of command \"%.*s\" contains a NUL "
		    "character",
		    what, shown_len(name, nlen), name);
	jsenv_charge(env, ctx, nlen + 64);

	/* No Duktape call (nothing can throw) until the text is kept. */
	if (run->ncmds == run->cmds_cap) {
		run->cmds_cap = run->cmds_cap ? run->cmds_cap * 2 : 64;
		run->cmds =
		    xrealloc(run->cmds, run->cmds_cap * sizeof(*run->cmds));
	}
	run->cmds[run->ncmds].off = b->len;
	jsbuf_addstr(b, "{\"name\":");
	jsbuf_add_quoted(b, name, nlen);
	jsbuf_addstr(b, ",\"parameters\":");
	jsbuf_add_json(b, params, plen);
	snprintf(
	    num, sizeof(num), ",\"total_step_count\":%lld}", (long long)steps);
	jsbuf_addstr(b, num);
	run->cmds[run->ncmds].len = b->len - run->cmds[run->ncmds].off;
	run->cmds[run->ncmds].steps = steps;
	duk_pop(ctx);
	return (double)run->gen * 4294967296.0 + (double)run->ncmds++;
}

/* The command table index of a handle; SIZE_MAX if not from this run. */
static size_t
command_index(struct jsenv *env, double handle)
{
	struct jsrun *run = &env->run;
	double gen = floor(handle / 4294967296.0);
	double idx = handle - gen * 4294967296.0;

	if (!isfinite(handle) || gen != (double)run->gen || idx < 0 ||
	    idx >= (double)run->ncmds)
		return SIZE_MAX;
	return (size_t)idx;
}

/*
 * author.Command(name, parameters, totalStepCount = 0). The command is
 * stored as it is now, like Go's conversion to a struct and a map: later
 * changes to the parameters object (or to the command object's fields)
 * do not reach the stored command.
 */
static duk_ret_t
bind_author_command(duk_context *ctx)
{
	struct jsenv *env = jsenv_of(ctx);
	double handle;
	duk_idx_t cmd;

	(void)arg_string(ctx, 0, NULL);
	if (duk_is_null_or_undefined(ctx, 1)) {
		duk_push_object(ctx);
		duk_replace(ctx, 1);
	} else if (!duk_is_object(ctx, 1) || duk_is_function(ctx, 1)) {
		return duk_error(ctx, DUK_ERR_TYPE_ERROR,
		    "author.Command(name, parameters, totalStepCount): "
		    "parameters must be an object");
	}
	duk_push_number(ctx, (double)arg_int(ctx, 2));
	duk_replace(ctx, 2);
	handle = command_keep(
	    env, ctx, 0, "author.Command(name, parameters, totalStepCount)");

	cmd = duk_push_object(ctx);
	duk_dup(ctx, 0);
	duk_put_prop_literal(ctx, cmd, "name");
	duk_dup(ctx, 1);
	duk_put_prop_literal(ctx, cmd, "parameters");
	duk_dup(ctx, 2);
	duk_put_prop_literal(ctx, cmd, "totalStepCount");
	duk_push_number(ctx, handle);
	duk_put_prop_literal(ctx, cmd, JSENV_HIDDEN_CMD);
	return 1;
}

/* [ ... ] -> [ ... this.key ], which must be an array. */
static duk_idx_t
push_this_array(duk_context *ctx, const char *key, const char *what)
{
	duk_push_this(ctx);
	if (!duk_is_object(ctx, -1))
		(void)duk_error(
		    ctx, DUK_ERR_TYPE_ERROR, "%s: not called on a task", what);
	duk_get_prop_string(ctx, -1, key);
	if (!duk_is_array(ctx, -1))
		(void)duk_error(ctx, DUK_ERR_TYPE_ERROR,
		    "%s: the task has no %s array", what, key);
	duk_remove(ctx, -2);
	return duk_get_top_index(ctx);
}

/* arr.push(value at idx). */
static void
array_push(duk_context *ctx, duk_idx_t arr, duk_idx_t idx)
{
	duk_dup(ctx, idx);
	duk_put_prop_index(ctx, arr, (duk_uarridx_t)duk_get_length(ctx, arr));
}

/* task.addCommand(cmd) */
static duk_ret_t
bind_task_add_command(duk_context *ctx)
{
	if (!duk_is_object(ctx, 0))
		return duk_error(ctx, DUK_ERR_TYPE_ERROR,
		    "task.addCommand(cmd): cmd must be a command made with "
		    "author.Command()");
	array_push(
	    ctx, push_this_array(ctx, "commands", "task.addCommand(cmd)"), 0);
	return 0;
}

/* task.addDependency(task); no cycle check here (Flamenco has none). */
static duk_ret_t
bind_task_add_dependency(duk_context *ctx)
{
	bool ok = false;

	if (duk_is_object(ctx, 0)) {
		duk_get_prop_literal(ctx, 0, "uUID");
		ok = duk_is_string(ctx, -1);
		duk_pop(ctx);
	}
	if (!ok)
		return duk_error(ctx, DUK_ERR_TYPE_ERROR,
		    "task.addDependency(task): not a task made with "
		    "author.Task()");
	array_push(ctx,
	    push_this_array(ctx, "dependencies", "task.addDependency(task)"),
	    0);
	return 0;
}

/*
 * [ ... value ] -> [ ... ]: String(value) into out[key]; "" if unset.
 * Names are checked (check_name) as field.
 */
static void
take_string(struct jsenv *env, duk_context *ctx, json_t *out, const char *key,
    const char *field)
{
	duk_size_t n = 0;
	const char *s = "";

	if (!duk_is_null_or_undefined(ctx, -1))
		s = duk_to_lstring(ctx, -1, &n);
	check_name(ctx, s, n, "job.addTask(task)", field);
	jsenv_charge(env, ctx, n + JSENV_JSON_NODE_COST);
	json_object_set_new_nocheck(out, key, jsenv_json_string(s, n));
	duk_pop(ctx);
}

/*
 * The command table index of the command at idx: from its handle, or,
 * for an object that did not come from author.Command, stored now from
 * its fields.
 */
static size_t
task_command(struct jsenv *env, duk_context *ctx, duk_idx_t cmd)
{
	size_t i = SIZE_MAX;

	duk_get_prop_literal(ctx, cmd, JSENV_HIDDEN_CMD);
	if (duk_is_number(ctx, -1))
		i = command_index(env, duk_get_number(ctx, -1));
	duk_pop(ctx);
	if (i != SIZE_MAX)
		return i;
	duk_get_prop_literal(ctx, cmd, "name");
	duk_get_prop_literal(ctx, cmd, "parameters");
	if (!duk_is_object(ctx, -1)) {
		duk_pop(ctx);
		duk_push_object(ctx);
	}
	duk_get_prop_literal(ctx, cmd, "totalStepCount");
	(void)command_keep(
	    env, ctx, duk_get_top_index(ctx) - 2, "job.addTask(task)");
	duk_pop_3(ctx);
	return env->run.ncmds - 1;
}

/*
 * [ task cmds ] -> unchanged: the commands as one JSON array text.
 * *steps_out gets the task's steps as Flamenco counts them: every command
 * is at least one step, Σ max(1, total_step_count).
 */
static json_t *
task_commands(struct jsenv *env, duk_context *ctx, int64_t *steps_out)
{
	struct jsbuf *b = &env->run.buf;
	duk_size_t n = duk_get_length(ctx, 1);
	int64_t steps = 0;
	size_t *list;

	/*
	 * Table indexes first (storing a plain-object command moves
	 * run->cmds), in a heap buffer: getters run meanwhile and may
	 * throw or call other bindings.
	 */
	list = duk_push_fixed_buffer(ctx, (n + 1) * sizeof(*list));
	for (duk_size_t i = 0; i < n; i++) {
		duk_get_prop_index(ctx, 1, (duk_uarridx_t)i);
		if (!duk_is_object(ctx, 3))
			(void)duk_error(ctx, DUK_ERR_TYPE_ERROR,
			    "job.addTask(task): command %lu of the task is "
			    "not a command",
			    (unsigned long)i);
		list[i] = task_command(env, ctx, 3);
		duk_pop(ctx);
	}
	b->len = 0;
	jsbuf_add(b, "[", 1);
	for (duk_size_t i = 0; i < n; i++) {
		const struct jscmd *c = &env->run.cmds[list[i]];

		if (i > 0)
			jsbuf_add(b, ",", 1);
		jsbuf_add(b, env->run.cmdtext.data + c->off, c->len);
		steps += c->steps > 1 ? c->steps : 1;
	}
	jsbuf_add(b, "]", 1);
	duk_pop(ctx);
	*steps_out = steps;
	return json_stringn_nocheck(b->data, b->len);
}

/*
 * job.addTask(task): the task as it is now, as JSON, appended to the
 * run's tasks; later changes to the task object are not stored.
 * Dependencies are kept as UUIDs and checked when compileJob returns.
 */
static duk_ret_t
bind_job_add_task(duk_context *ctx)
{
	struct jsenv *env = jsenv_of(ctx);
	struct jsrun *run = &env->run;
	json_t *task, *deps;
	int64_t steps = 0;
	duk_size_t n, len;
	const char *s;
	size_t slot;

	jsheap_check_time(&env->heap, ctx);
	if (json_array_size(run->tasks) >= env->lim.max_tasks) {
		run->tasks_capped = true;
		return duk_error(ctx, DUK_ERR_RANGE_ERROR,
		    "job.addTask(task): the job would have more than %zu "
		    "tasks, the most this Manager accepts (max_tasks_per_job)",
		    env->lim.max_tasks);
	}
	if (!duk_is_object(ctx, 0))
		return duk_error(ctx, DUK_ERR_TYPE_ERROR,
		    "job.addTask(task): task must be made with author.Task()");
	duk_get_prop_literal(ctx, 0, "uUID");
	if (!duk_is_string(ctx, -1))
		return duk_error(ctx, DUK_ERR_TYPE_ERROR,
		    "job.addTask(task): task must be made with author.Task()");
	duk_pop(ctx);

	jsenv_charge(env, ctx, TASK_COST);
	task = json_object();
	slot = json_array_size(run->pending);
	json_array_append_new(run->pending, task);
	duk_get_prop_literal(ctx, 0, "uUID");
	take_string(env, ctx, task, "uuid", "task UUID");
	duk_get_prop_literal(ctx, 0, "name");
	take_string(env, ctx, task, "name", "task name");
	duk_get_prop_literal(ctx, 0, "type");
	take_string(env, ctx, task, "type", "task type");
	duk_get_prop_literal(ctx, 0, "priority");
	json_object_set_new(
	    task, "priority", json_integer((json_int_t)arg_int(ctx, -1)));
	duk_pop(ctx);

	duk_get_prop_literal(ctx, 0, "commands"); /* -> [ task cmds ] */
	if (!duk_is_array(ctx, 1)) {
		duk_pop(ctx);
		duk_push_array(ctx);
	}
	json_object_set_new(
	    task, "commands_json", task_commands(env, ctx, &steps));
	json_object_set_new(task, "steps_total", json_integer(steps));
	duk_pop(ctx);

	deps = json_array();
	json_object_set_new(task, "dependencies", deps);
	duk_get_prop_literal(ctx, 0, "dependencies"); /* -> [ task deps ] */
	if (duk_is_array(ctx, 1)) {
		n = duk_get_length(ctx, 1);
		jsenv_charge(
		    env, ctx, n * (ID_UUID_LEN + JSENV_JSON_NODE_COST));
		for (duk_size_t i = 0; i < n; i++) {
			duk_get_prop_index(ctx, 1, (duk_uarridx_t)i);
			if (duk_is_object(ctx, 2))
				duk_get_prop_literal(ctx, 2, "uUID");
			s = duk_get_lstring(ctx, -1, &len);
			if (s == NULL || memchr(s, '\0', len) != NULL)
				return duk_error(ctx, DUK_ERR_TYPE_ERROR,
				    "job.addTask(task): dependency %lu of "
				    "the task is not a task",
				    (unsigned long)i);
			json_array_append_new(deps, jsenv_json_string(s, len));
			duk_set_top(ctx, 2);
		}
	}
	duk_pop(ctx);

	json_array_append(run->tasks, task);
	while (json_array_size(run->pending) > slot)
		json_array_remove(
		    run->pending, json_array_size(run->pending) - 1);

	/* job.tasks lists the task objects added. */
	if (run->job_tasks != NULL)
		array_push(ctx, duk_push_heapptr(ctx, run->job_tasks), 0);
	return 0;
}

/* ---- installing --------------------------------------------------- */

static const duk_function_list_entry global_funcs[] = {
	{ "print", bind_print, DUK_VARARGS },
	{ "alert", bind_alert, DUK_VARARGS },
	{ "frameChunker", bind_frame_chunker, 2 },
	{ "frameCount", bind_frame_count, 1 },
	{ "formatTimestampLocal", bind_format_timestamp, 1 },
	{ "shellSplit", bind_shell_split, 1 },
	{ "require", bind_require, 1 },
	{ NULL, NULL, 0 },
};

static const duk_function_list_entry author_funcs[] = {
	{ "Task", bind_author_task, 2 },
	{ "Command", bind_author_command, 3 },
	{ NULL, NULL, 0 },
};

static const duk_function_list_entry path_funcs[] = {
	{ "join", bind_path_join, DUK_VARARGS },
	{ "dirname", bind_path_dirname, 1 },
	{ "basename", bind_path_basename, 1 },
	{ "stem", bind_path_stem, 1 },
	{ NULL, NULL, 0 },
};

static const duk_function_list_entry process_funcs[] = {
	{ "cwd", bind_process_cwd, 0 },
	{ NULL, NULL, 0 },
};

static const duk_function_list_entry task_methods[] = {
	{ "addCommand", bind_task_add_command, 1 },
	{ "addDependency", bind_task_add_dependency, 1 },
	{ NULL, NULL, 0 },
};

static const struct {
	const char *name;
	const duk_function_list_entry *funcs;
} modules[] = {
	{ "author", author_funcs },
	{ "path", path_funcs },
	{ "process", process_funcs },
};

void
jsenv_bind_globals(duk_context *ctx)
{
	duk_idx_t global, stash, mods;

	duk_push_global_object(ctx);
	global = duk_get_top_index(ctx);
	duk_push_heap_stash(ctx);
	stash = duk_get_top_index(ctx);
	duk_put_function_list(ctx, global, global_funcs);

	duk_push_bare_object(ctx); /* require("toString") finds nothing */
	mods = duk_get_top_index(ctx);
	for (size_t i = 0; i < nitems(modules); i++) {
		duk_push_object(ctx);
		duk_put_function_list(ctx, -1, modules[i].funcs);
		duk_dup_top(ctx);
		duk_put_prop_string(ctx, mods, modules[i].name);
		duk_put_prop_string(ctx, global, modules[i].name);
	}
	duk_get_prop_string(ctx, mods, "process");
	duk_push_string(ctx, PLATFORM);
	duk_put_prop_string(ctx, -2, "platform");
	duk_pop(ctx);
	duk_put_prop_string(ctx, stash, STASH_MODULES);

	duk_push_object(ctx);
	duk_put_function_list(ctx, -1, task_methods);
	duk_put_prop_string(ctx, stash, JSENV_STASH_TASK_PROTO);
	duk_pop_2(ctx);
}

/* [ ... ] -> [ ... s ]: job_in[key] as a string, whole; "" if unset. */
static void
push_job_string(duk_context *ctx, json_t *job_in, const char *key)
{
	json_t *v = json_object_get(job_in, key);

	if (json_is_string(v))
		duk_push_lstring(
		    ctx, json_string_value(v), json_string_length(v));
	else
		duk_push_string(ctx, "");
}

/* [ ... job ] -> [ ... job ]: job[key] = JSON of job_in[key] or {}. */
static void
put_object(duk_context *ctx, json_t *job_in, const char *key)
{
	json_t *v = json_object_get(job_in, key);

	if (json_is_object(v))
		jsenv_push_json(ctx, v);
	else
		duk_push_object(ctx);
	duk_put_prop_string(ctx, -2, key);
}

/* The job's creation time in epoch microseconds (now when unknown). */
static int64_t
job_created_us(json_t *job_in)
{
	json_t *c = json_object_get(job_in, "created");
	int64_t us;

	if (json_is_number(c))
		return (int64_t)json_number_value(c);
	if (json_is_string(c) &&
	    time_parse_rfc3339(json_string_value(c), &us) == FM_OK)
		return us;
	return time_now_us();
}

void
jsenv_bind_push_job(duk_context *ctx, json_t *job_in)
{
	static const char *const strings[] = { "jobID", "name", "jobType",
		"status", "workerTagUUID" };
	json_t *storage;

	duk_push_object(ctx); /* -> [ ... job ] */
	for (size_t i = 0; i < nitems(strings); i++) {
		push_job_string(ctx, job_in, strings[i]);
		duk_put_prop_string(ctx, -2, strings[i]);
	}
	duk_push_number(
	    ctx, json_number_value(json_object_get(job_in, "priority")));
	duk_put_prop_string(ctx, -2, "priority");

	duk_get_global_literal(ctx, "Date");
	duk_push_number(ctx, (double)(job_created_us(job_in) / 1000));
	duk_new(ctx, 1);
	duk_put_prop_literal(ctx, -2, "created");

	put_object(ctx, job_in, "settings");
	put_object(ctx, job_in, "metadata");
	storage = json_object_get(job_in, "storage");
	if (json_is_object(storage)) {
		jsenv_push_json(ctx, storage);
	} else {
		duk_push_object(ctx);
		duk_push_string(ctx, "");
		duk_put_prop_string(ctx, -2, "shamanCheckoutID");
	}
	duk_put_prop_string(ctx, -2, "storage");
	duk_push_array(ctx);
	jsenv_of(ctx)->run.job_tasks = duk_get_heapptr(ctx, -1);
	duk_put_prop_string(ctx, -2, "tasks");
	duk_push_c_function(ctx, bind_job_add_task, 1);
	duk_put_prop_string(ctx, -2, "addTask");

	duk_push_heap_stash(ctx);
	duk_dup(ctx, -2);
	duk_put_prop_string(ctx, -2, JSENV_STASH_JOB);
	duk_pop(ctx);
}
