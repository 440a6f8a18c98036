/*
 * Template expansion. Every count is known before anything per task is
 * built: parameter values are resolved first, then each step's task
 * count (ranges, combination, resource records), so a job over the
 * max_tasks_per_job cap is refused before it costs memory. One
 * dependency array is shared by all tasks of a step (they wait for the
 * same tasks), so a step depending on a large step costs one array.
 */
#include "openjd_expand.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filterexpr.h"
#include "fsutil.h"
#include "ids.h"
#include "xmalloc.h"

/* What one step expands to, before its tasks are built. */
struct step_plan {
	char ***values;     /* values[tparam][k]: text of each value */
	char ***mapped;     /* PATH task parameters: values after two-way
	                       variable replacement (else NULL) */
	size_t *nvalues;    /* per task parameter */
	size_t *node_sizes; /* per combination node */
	json_t *records;    /* resource records that matched (array) */
	size_t ntasks;
	json_t *uuids; /* the step's task uuids (array of strings) */
};

struct expansion {
	const struct openjd_job *job;
	char **params, **raw_params; /* per job parameter */
	struct step_plan *plans;
	char *session_wd;
	char *msg;
};

static void
plan_free(const struct openjd_step *s, struct step_plan *p)
{
	for (size_t i = 0; p->values != NULL && i < s->ntparams; i++) {
		for (size_t k = 0; p->values[i] != NULL && k < p->nvalues[i];
		     k++)
			free(p->values[i][k]);
		free(p->values[i]);
	}
	for (size_t i = 0; p->mapped != NULL && i < s->ntparams; i++) {
		for (size_t k = 0; p->mapped[i] != NULL && k < p->nvalues[i];
		     k++)
			free(p->mapped[i][k]);
		free(p->mapped[i]);
	}
	free(p->values);
	free(p->mapped);
	free(p->nvalues);
	free(p->node_sizes);
	json_decref(p->records);
	json_decref(p->uuids);
}

static void
expansion_free(struct expansion *x)
{
	const struct openjd_template *t = x->job->t;

	for (size_t i = 0; x->params != NULL && i < t->nparams; i++) {
		free(x->params[i]);
		free(x->raw_params[i]);
	}
	free(x->params);
	free(x->raw_params);
	for (size_t i = 0; x->plans != NULL && i < t->nsteps; i++)
		plan_free(&t->steps[i], &x->plans[i]);
	free(x->plans);
	free(x->session_wd);
}

/* ---- job parameters ----------------------------------------------- */

/* value after two-way variable replacement (new). */
static char *
map_path(const struct expansion *x, const char *value)
{
	char *m = x->job->map_path != NULL
	    ? x->job->map_path(x->job->map_arg, value)
	    : NULL;

	return m != NULL ? m : xstrdup(value);
}

static bool
resolve_params(struct expansion *x)
{
	const struct openjd_template *t = x->job->t;
	const json_t *raw_settings =
	    x->job->raw_settings ? x->job->raw_settings : x->job->settings;

	x->params = xcalloc(t->nparams + 1, sizeof(char *));
	x->raw_params = xcalloc(t->nparams + 1, sizeof(char *));
	for (size_t i = 0; i < t->nparams; i++) {
		const struct openjd_param *p = &t->params[i];
		const json_t *raw = json_object_get(raw_settings, p->name);
		const json_t *mapped =
		    json_object_get(x->job->settings, p->name);
		char *why = NULL;

		if (raw == NULL || json_is_null(raw)) {
			if (p->def == NULL) {
				x->msg = xasprintf("parameter \"%s\" has no "
				                   "value and no default",
				    p->name);
				return false;
			}
			raw = mapped = p->def;
		}
		x->raw_params[i] = openjd_param_value(p, raw, &why);
		if (x->raw_params[i] == NULL) {
			x->msg =
			    xasprintf("parameter \"%s\": %s", p->name, why);
			free(why);
			return false;
		}
		/* Param.<PATH> is the value with Flamenco's two-way
		 * variables in it, mapped per platform at hand-out; the
		 * submission replaced them in submitted values only. */
		if (p->type != OPENJD_PATH)
			x->params[i] = xstrdup(x->raw_params[i]);
		else if (raw == p->def)
			x->params[i] = map_path(x, x->raw_params[i]);
		else
			x->params[i] = json_is_string(mapped)
			    ? xstrdup(json_string_value(mapped))
			    : xstrdup(x->raw_params[i]);
	}
	return true;
}

static struct openjd_values
job_values(const struct expansion *x)
{
	struct openjd_values v = { (const char *const *)x->params,
		(const char *const *)x->raw_params, NULL, NULL, x->session_wd,
		NULL, NULL };

	return v;
}

/* ---- planning ----------------------------------------------------- */

static bool
int_text(const char *s, long long *out)
{
	char *end;

	while (*s == ' ')
		s++;
	errno = 0;
	*out = strtoll(s, &end, 10);
	while (*end == ' ')
		end++;
	return s[0] != '\0' && errno == 0 && *end == '\0';
}

static bool
float_text(const char *s)
{
	char *end;
	double d;

	while (*s == ' ')
		s++;
	errno = 0;
	d = strtod(s, &end);
	while (*end == ' ')
		end++;
	return s[0] != '\0' && errno == 0 && *end == '\0' && isfinite(d);
}

/* The values of task parameter tp (texts), at most cap of them. */
static bool
plan_values(struct expansion *x, const struct openjd_step *s,
    const struct openjd_task_param *tp, size_t cap, char ***out, size_t *n)
{
	struct openjd_values v = job_values(x);

	*out = NULL;
	*n = 0;
	if (tp->is_expr) {
		char *text = openjd_fmt_string(&tp->expr, &v), *err = NULL;
		int64_t *vals;
		size_t count;

		/* Counted first: too many values is the task cap's error. */
		if (openjd_range_parse(
		        text, SIZE_MAX / 16, NULL, &count, &err) == FM_OK &&
		    count > cap) {
			x->msg = xasprintf("the job would have more than %zu "
			                   "tasks (max_tasks_per_job)",
			    x->job->max_tasks);
			free(text);
			return false;
		}
		free(err);
		err = NULL;
		if (openjd_range_parse(text, cap, &vals, &count, &err) !=
		    FM_OK) {
			x->msg = xasprintf("step \"%s\", task parameter "
			                   "\"%s\": %s",
			    s->name, tp->name, err);
			free(err);
			free(text);
			return false;
		}
		free(text);
		*out = xcalloc(count + 1, sizeof(char *));
		for (size_t k = 0; k < count; k++)
			(*out)[k] = xasprintf("%lld", (long long)vals[k]);
		*n = count;
		free(vals);
		return true;
	}
	*out = xcalloc(tp->nlist + 1, sizeof(char *));
	for (size_t k = 0; k < tp->nlist; k++) {
		char *text = openjd_fmt_string(&tp->list[k], &v);
		long long i;
		bool ok = true;

		if (tp->type == OPENJD_INT) {
			ok = int_text(text, &i);
			if (ok) {
				free(text);
				text = xasprintf("%lld", i);
			}
		} else if (tp->type == OPENJD_FLOAT) {
			ok = float_text(text);
		} else {
			ok = text[0] != '\0' && strlen(text) <= 1024;
		}
		if (!ok) {
			x->msg = xasprintf(
			    "step \"%s\", task parameter \"%s\": "
			    "\"%s\" is not a valid %s value",
			    s->name, tp->name, text,
			    tp->type == OPENJD_INT         ? "INT"
			        : tp->type == OPENJD_FLOAT ? "FLOAT"
			                                   : "text (1 to 1024 "
			                                     "characters)");
			free(text);
			return false;
		}
		(*out)[k] = text;
		(*n)++;
	}
	return true;
}

/* The matching records of a resource step. */
static bool
plan_records(
    struct expansion *x, const struct openjd_step *s, struct step_plan *p)
{
	const struct openjd_resource *r = &s->resource;
	const json_t *all = r->kind == OPENJD_RESOURCE_WORKERS
	    ? x->job->workers
	    : json_object_get(x->job->settings, r->setting);
	size_t i;
	json_t *rec;

	p->records = json_array();
	if (r->kind == OPENJD_RESOURCE_SETTING && !json_is_array(all)) {
		x->msg = xasprintf("step \"%s\": setting \"%s\" must be a list "
		                   "of records",
		    s->name, r->setting);
		return false;
	}
	json_array_foreach (all, i, rec) {
		if (!json_is_object(rec)) {
			x->msg = xasprintf("step \"%s\": record %zu of \"%s\" "
			                   "is not an object",
			    s->name, i, r->setting);
			return false;
		}
		if (r->kind == OPENJD_RESOURCE_SETTING)
			for (size_t f = 0; f < r->nfields; f++) {
				const json_t *v =
				    json_object_get(rec, r->fields[f]);

				if (!json_is_string(v) && !json_is_number(v) &&
				    !json_is_boolean(v)) {
					x->msg = xasprintf(
					    "step \"%s\": record %zu of "
					    "\"%s\" needs field \"%s\" (a "
					    "string or a number)",
					    s->name, i, r->setting,
					    r->fields[f]);
					return false;
				}
			}
		if (r->where == NULL || filterexpr_match(r->where, rec))
			json_array_append(p->records, rec);
	}
	p->ntasks = json_array_size(p->records);
	return true;
}

static bool
plan_step(struct expansion *x, const struct openjd_step *s, struct step_plan *p,
    size_t room)
{
	char *err = NULL;

	if (s->resource.kind != OPENJD_RESOURCE_NONE) {
		if (!plan_records(x, s, p))
			return false;
	} else if (s->combo == NULL) {
		p->ntasks = 1;
	} else {
		p->values = xcalloc(s->ntparams, sizeof(*p->values));
		p->nvalues = xcalloc(s->ntparams, sizeof(*p->nvalues));
		p->mapped = xcalloc(s->ntparams, sizeof(*p->mapped));
		for (size_t i = 0; i < s->ntparams; i++) {
			if (!plan_values(x, s, &s->tparams[i], room,
			        &p->values[i], &p->nvalues[i]))
				return false;
			if (s->tparams[i].type != OPENJD_PATH)
				continue;
			p->mapped[i] =
			    xcalloc(p->nvalues[i] + 1, sizeof(char *));
			for (size_t k = 0; k < p->nvalues[i]; k++)
				p->mapped[i][k] = map_path(x, p->values[i][k]);
		}
		{
			const char **names =
			    xcalloc(s->ntparams, sizeof(char *));
			enum fm_err rc;

			for (size_t i = 0; i < s->ntparams; i++)
				names[i] = s->tparams[i].name;
			p->node_sizes =
			    xcalloc(s->combo->nnodes, sizeof(size_t));
			rc = openjd_combo_count(s->combo, names, p->nvalues,
			    room + 1, p->node_sizes, &p->ntasks, &err);
			free(names);
			if (rc != FM_OK) {
				x->msg =
				    xasprintf("step \"%s\": %s", s->name, err);
				free(err);
				return false;
			}
		}
	}
	if (p->ntasks > room) {
		x->msg = xasprintf("the job would have more than %zu tasks "
		                   "(max_tasks_per_job)",
		    x->job->max_tasks);
		return false;
	}
	return true;
}

/* ---- size estimate ------------------------------------------------ */

/* The longest text each kind of reference can insert in one step. */
struct value_sizes {
	size_t *params, *raw_params; /* per job parameter */
	size_t *task_params;         /* per task parameter */
	size_t *fields;              /* per resource field */
	size_t file_path, session_wd;
};

static size_t
max_len(char *const *v, size_t n)
{
	size_t m = 0;

	for (size_t i = 0; v != NULL && i < n; i++)
		if (v[i] != NULL && strlen(v[i]) > m)
			m = strlen(v[i]);
	return m;
}

/* Upper bound of the length of f rendered with values of sizes z. */
static double
fmt_bytes(const struct openjd_fmt *f, const struct value_sizes *z)
{
	double n = 0;

	for (size_t i = 0; i < f->nsegs; i++) {
		const struct openjd_seg *seg = &f->segs[i];

		switch (seg->ref) {
		case OPENJD_LITERAL:
			n += (double)seg->len;
			break;
		case OPENJD_PARAM:
			n += (double)z->params[seg->index];
			break;
		case OPENJD_RAW_PARAM:
			n += (double)z->raw_params[seg->index];
			break;
		case OPENJD_TASK_PARAM:
		case OPENJD_TASK_RAW_PARAM:
			n += (double)z->task_params[seg->index];
			break;
		case OPENJD_TASK_FILE:
			n += (double)z->file_path;
			break;
		case OPENJD_SESSION_WD:
			n += (double)z->session_wd;
			break;
		case OPENJD_SESSION_HAS_PM:
			n += 5;
			break;
		case OPENJD_RESOURCE:
			n += (double)z->fields[seg->index];
			break;
		}
	}
	return n;
}

static char **record_fields(const struct openjd_resource *r, const json_t *rec);
static void free_strv(char **v, size_t n);

/*
 * Bytes step s's tasks and files will take, from the longest value each
 * reference can insert times the task count: JSON escaping of commands
 * and per-task bookkeeping are covered by a fixed allowance per task.
 */
static double
step_bytes(const struct expansion *x, const struct openjd_step *s,
    const struct step_plan *p)
{
	const struct openjd_template *t = x->job->t;
	struct value_sizes z = { 0 };
	double per_task = 1024 + 256, once = 0;
	size_t i;
	json_t *rec;

	z.params = xcalloc(t->nparams + 1, sizeof(size_t));
	z.raw_params = xcalloc(t->nparams + 1, sizeof(size_t));
	for (size_t k = 0; k < t->nparams; k++) {
		z.params[k] = strlen(x->params[k]);
		z.raw_params[k] = strlen(x->raw_params[k]);
	}
	z.task_params = xcalloc(s->ntparams + 1, sizeof(size_t));
	for (size_t k = 0; p->values != NULL && k < s->ntparams; k++) {
		z.task_params[k] = max_len(p->values[k], p->nvalues[k]);
		if (p->mapped[k] != NULL &&
		    max_len(p->mapped[k], p->nvalues[k]) > z.task_params[k])
			z.task_params[k] = max_len(p->mapped[k], p->nvalues[k]);
	}
	z.fields = xcalloc(s->resource.nfields + 2, sizeof(size_t));
	json_array_foreach (p->records, i, rec) {
		char **f = record_fields(&s->resource, rec);

		for (size_t k = 0; k < s->resource.nfields; k++)
			if (strlen(f[k]) > z.fields[k])
				z.fields[k] = strlen(f[k]);
		free_strv(f, s->resource.nfields);
	}
	z.session_wd = strlen(x->session_wd);
	z.file_path = z.session_wd + 64;
	for (size_t f = 0; f < s->nfiles; f++)
		if (z.file_path <
		    z.session_wd + 64 + strlen(s->files[f].filename))
			z.file_path =
			    z.session_wd + 64 + strlen(s->files[f].filename);
	per_task += fmt_bytes(&s->command, &z);
	for (size_t a = 0; a < s->nargs; a++)
		per_task += fmt_bytes(&s->args[a], &z) + 4;
	for (size_t f = 0; f < s->nfiles; f++) {
		double b = fmt_bytes(&s->files[f].data, &z) + z.file_path;

		if (s->files[f].per_task)
			per_task += b;
		else
			once += b;
	}
	free(z.params);
	free(z.raw_params);
	free(z.task_params);
	free(z.fields);
	return once + per_task * (double)p->ntasks;
}

/* ---- building tasks ----------------------------------------------- */

static char *
task_name(const struct openjd_step *s, const struct step_plan *p,
    const size_t *idx, const json_t *record)
{
	struct strbuf b = { NULL, 0, 0 };

	strbuf_add(&b, s->name, strlen(s->name));
	if (record != NULL) {
		const char *first = s->resource.kind == OPENJD_RESOURCE_WORKERS
		    ? "name"
		    : s->resource.fields[0];
		const json_t *v = json_object_get(record, first);
		char *text = json_is_string(v) ? xstrdup(json_string_value(v))
		                               : json_dumps(v, JSON_ENCODE_ANY);

		strbuf_add(&b, " ", 1);
		if (text != NULL)
			strbuf_add(&b, text, strlen(text));
		free(text);
	}
	for (size_t i = 0; p->values != NULL && i < s->ntparams; i++) {
		const char *name = s->tparams[i].name;
		const char *val = p->values[i][idx[i]];

		strbuf_add(&b, i == 0 ? " " : ", ", i == 0 ? 1 : 2);
		strbuf_add(&b, name, strlen(name));
		strbuf_add(&b, "=", 1);
		strbuf_add(&b, val, strlen(val));
	}
	/* Within the task-name limit, on a whole UTF-8 character. */
	if (b.len > 1000) {
		size_t n = 1000;

		while (n > 0 && ((unsigned char)b.s[n] & 0xC0) == 0x80)
			n--;
		b.s[n] = '\0';
	}
	return b.s;
}

/* Field values of a record as text, in the resource's field order. */
static char **
record_fields(const struct openjd_resource *r, const json_t *rec)
{
	char **out = xcalloc(r->nfields + 1, sizeof(char *));

	for (size_t f = 0; f < r->nfields; f++) {
		const json_t *v = json_object_get(rec, r->fields[f]);

		if (json_is_string(v))
			out[f] = xstrdup(json_string_value(v));
		else if (json_is_number(v))
			out[f] = openjd_number_text(v);
		else if (json_is_boolean(v))
			out[f] = xstrdup(json_is_true(v) ? "true" : "false");
		else if (json_is_array(v)) {
			struct strbuf b = { NULL, 0, 0 };
			size_t i;
			json_t *e;

			strbuf_add(&b, "", 0);
			json_array_foreach (v, i, e)
				if (json_is_string(e)) {
					if (i > 0)
						strbuf_add(&b, ",", 1);
					strbuf_add(&b, json_string_value(e),
					    json_string_length(e));
				}
			out[f] = b.s;
		} else
			out[f] = xstrdup("");
	}
	return out;
}

static void
free_strv(char **v, size_t n)
{
	for (size_t i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

static bool
add_file(struct expansion *x, json_t *files, const char *path, const char *data,
    bool runnable, size_t *bytes)
{
	*bytes += strlen(data);
	if (json_array_size(files) >= OPENJD_MAX_FILES ||
	    *bytes > OPENJD_MAX_FILE_BYTES) {
		x->msg = xasprintf("the job's embedded files exceed %d files "
		                   "or %zu MiB (one file per task when its "
		                   "data uses task values)",
		    OPENJD_MAX_FILES, OPENJD_MAX_FILE_BYTES >> 20);
		return false;
	}
	json_array_append_new(files,
	    json_pack("{s:s, s:s, s:b}", "path", path, "data", data, "runnable",
	        runnable));
	return true;
}

static char *
file_data(const struct expansion *x, const struct openjd_file *f,
    const struct openjd_values *v)
{
	if (x->job->file_value == NULL)
		return openjd_fmt_string(&f->data, v);
	return openjd_fmt_string_mapped(
	    &f->data, v, x->job->file_value, x->job->file_arg);
}

static bool
build_step(
    struct expansion *x, size_t si, json_t *tasks, json_t *files, size_t *bytes)
{
	const struct openjd_template *t = x->job->t;
	const struct openjd_step *s = &t->steps[si];
	struct step_plan *p = &x->plans[si];
	size_t *idx = xcalloc(s->ntparams + 1, sizeof(size_t));
	const char **tvals = xcalloc(s->ntparams + 1, sizeof(char *));
	const char **traw = xcalloc(s->ntparams + 1, sizeof(char *));
	char **fpaths = xcalloc(s->nfiles + 1, sizeof(char *));
	json_t *deps = json_array();
	struct openjd_values v = job_values(x);
	bool ok = true;

	for (size_t d = 0; d < s->ndeps; d++) {
		size_t i;
		json_t *u;

		json_array_foreach (x->plans[s->deps[d]].uuids, i, u)
			json_array_append(deps, u);
	}
	v.task_params = tvals;
	v.task_raw_params = traw;
	v.files = (const char *const *)fpaths;
	/* Files that do not vary per task: written once for the step. All
	 * paths first, as one file's data may name another. */
	for (size_t f = 0; f < s->nfiles; f++)
		if (!s->files[f].per_task)
			fpaths[f] = xasprintf("{jobs}/%s/%s/%zu/%s", OPENJD_DIR,
			    x->job->job_uuid, si, s->files[f].filename);
	for (size_t f = 0; f < s->nfiles; f++) {
		char *data;

		if (s->files[f].per_task)
			continue;
		data = file_data(x, &s->files[f], &v);
		ok = add_file(x, files, fpaths[f] + strlen("{jobs}/"), data,
		    s->files[f].runnable, bytes);
		free(data);
		if (!ok)
			goto done;
	}
	p->uuids = json_array();
	for (size_t k = 0; k < p->ntasks; k++) {
		const json_t *rec = json_array_get(p->records, k);
		char uuid[ID_UUID_LEN + 1], *name, *cmd, *text;
		char **fields = NULL;
		json_t *args = json_array(), *commands, *task;

		if (s->combo != NULL && p->values != NULL) {
			openjd_combo_index(s->combo, p->node_sizes, k, idx);
			for (size_t i = 0; i < s->ntparams; i++) {
				traw[i] = p->values[i][idx[i]];
				tvals[i] = p->mapped[i] != NULL
				    ? p->mapped[i][idx[i]]
				    : traw[i];
			}
		}
		if (rec != NULL) {
			fields = record_fields(&s->resource, rec);
			v.fields = (const char *const *)fields;
		}
		for (size_t f = 0; f < s->nfiles; f++) {
			if (!s->files[f].per_task)
				continue;
			free(fpaths[f]);
			fpaths[f] = xasprintf("{jobs}/%s/%s/%zu/%s%zu/%s",
			    OPENJD_DIR, x->job->job_uuid, si,
			    OPENJD_TASK_DIR_PREFIX, k, s->files[f].filename);
		}
		for (size_t f = 0; ok && f < s->nfiles; f++) {
			char *data;

			if (!s->files[f].per_task)
				continue;
			data = file_data(x, &s->files[f], &v);
			ok = add_file(x, files, fpaths[f] + strlen("{jobs}/"),
			    data, s->files[f].runnable, bytes);
			free(data);
		}
		if (!ok) {
			json_decref(args);
			free_strv(fields, s->resource.nfields);
			goto done;
		}
		cmd = openjd_fmt_string(&s->command, &v);
		if (cmd[0] == '\0') {
			x->msg = xasprintf("step \"%s\": the command of task "
			                   "%zu is empty",
			    s->name, k + 1);
			free(cmd);
			json_decref(args);
			free_strv(fields, s->resource.nfields);
			ok = false;
			goto done;
		}
		for (size_t a = 0; a < s->nargs; a++) {
			char *arg = openjd_fmt_string(&s->args[a], &v);

			json_array_append_new(args, json_string(arg));
			free(arg);
		}
		commands = json_pack("[{s:s, s:{s:s, s:o}, s:i}]", "name",
		    "exec", "parameters", "exe", cmd, "args", args,
		    "total_step_count", 0);
		free(cmd);
		text = json_dumps(commands, JSON_COMPACT);
		json_decref(commands);
		ids_new_uuid(uuid);
		name = task_name(s, p, idx, rec);
		task = json_pack("{s:s, s:s, s:s, s:i, s:s, s:i, s:O}", "uuid",
		    uuid, "name", name, "type", OPENJD_TASK_TYPE, "priority",
		    x->job->priority, "commands_json", text, "steps_total", 1,
		    "dependencies", deps);
		if (s->resource.kind == OPENJD_RESOURCE_WORKERS)
			json_object_set(
			    task, "worker_uuid", json_object_get(rec, "uuid"));
		free(name);
		free(text);
		json_array_append_new(tasks, task);
		json_array_append_new(p->uuids, json_string(uuid));
		free_strv(fields, s->resource.nfields);
		v.fields = NULL;
	}
done:
	json_decref(deps);
	free(idx);
	free(tvals);
	free(traw);
	free_strv(fpaths, s->nfiles);
	return ok;
}

static bool
uses_session_wd(const struct openjd_template *t)
{
	for (size_t i = 0; i < t->nsteps; i++) {
		const struct openjd_step *s = &t->steps[i];
		bool used = openjd_fmt_uses(&s->command, OPENJD_SESSION_WD);

		for (size_t a = 0; !used && a < s->nargs; a++)
			used = openjd_fmt_uses(&s->args[a], OPENJD_SESSION_WD);
		for (size_t f = 0; !used && f < s->nfiles; f++)
			used = openjd_fmt_uses(
			    &s->files[f].data, OPENJD_SESSION_WD);
		if (used)
			return true;
	}
	return false;
}

enum fm_err
openjd_expand(const struct openjd_job *job, json_t **tasks_out,
    json_t **files_out, char **msg_out)
{
	const struct openjd_template *t = job->t;
	struct expansion x = { .job = job };
	json_t *tasks = NULL, *files = NULL;
	size_t total = 0, bytes = 0;
	double edges = 0, text_bytes = 0;
	enum fm_err rc = FM_ERR_INVALID;

	*tasks_out = NULL;
	*files_out = NULL;
	*msg_out = NULL;
	x.session_wd = xasprintf("{jobs}/%s/%s", OPENJD_DIR, job->job_uuid);
	x.plans = xcalloc(t->nsteps, sizeof(*x.plans));
	if (!resolve_params(&x))
		goto done;
	for (size_t i = 0; i < t->nsteps; i++) {
		if (!plan_step(
		        &x, &t->steps[i], &x.plans[i], job->max_tasks - total))
			goto done;
		total += x.plans[i].ntasks;
		text_bytes += step_bytes(&x, &t->steps[i], &x.plans[i]);
		for (size_t d = 0; d < t->steps[i].ndeps; d++)
			edges += (double)x.plans[i].ntasks *
			    (double)x.plans[t->steps[i].deps[d]].ntasks;
	}
	if (edges > OPENJD_MAX_DEP_EDGES) {
		x.msg = xasprintf("the job's step dependencies would need "
		                  "%.0f task dependencies; at most %d are "
		                  "allowed",
		    edges, OPENJD_MAX_DEP_EDGES);
		goto done;
	}
	/* Long values referenced by many tasks multiply: refused here,
	 * before any task text is built. */
	if (job->max_bytes > 0 && text_bytes > (double)job->max_bytes) {
		x.msg =
		    xasprintf("the job's tasks would take about %.0f MiB "
		              "of text (long values times %zu tasks); at "
		              "most %zu MiB are allowed (compiler_heap_max)",
		        text_bytes / 1048576.0, total, job->max_bytes >> 20);
		goto done;
	}
	tasks = json_array();
	files = json_array();
	/* A Session.WorkingDirectory must exist even without files. */
	if (uses_session_wd(t))
		json_array_append_new(files,
		    json_pack("{s:s+}", "path", OPENJD_DIR "/", job->job_uuid));
	for (size_t i = 0; i < t->nsteps; i++)
		if (!build_step(&x, i, tasks, files, &bytes))
			goto done;
	*tasks_out = tasks;
	*files_out = files;
	tasks = files = NULL;
	rc = FM_OK;
done:
	json_decref(tasks);
	json_decref(files);
	*msg_out = x.msg;
	expansion_free(&x);
	return rc;
}

/* ---- files on shared storage -------------------------------------- */

static enum fm_err
write_one(const char *path, const char *data, bool runnable)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    runnable ? 0755 : 0644);
	size_t len = strlen(data), off = 0;

	if (fd < 0)
		return FM_ERR_IO;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return FM_ERR_IO;
		}
		off += (size_t)n;
	}
	if (close(fd) != 0)
		return FM_ERR_IO;
	/* The umask may have taken the execute bits. */
	if (runnable && chmod(path, 0755) != 0)
		return FM_ERR_IO;
	return FM_OK;
}

enum fm_err
openjd_files_write(
    const char *root, const char *job_uuid, const json_t *files, char **err_out)
{
	char *dir = xasprintf("%s/%s/%s", root, OPENJD_DIR, job_uuid);
	size_t i;
	json_t *f;

	*err_out = NULL;
	if (json_array_size(files) == 0) {
		free(dir);
		return FM_OK;
	}
	if (!fs_mkdirs(dir)) {
		*err_out =
		    xasprintf("cannot create %s: %s", dir, strerror(errno));
		free(dir);
		return FM_ERR_IO;
	}
	free(dir);
	json_array_foreach (files, i, f) {
		char *path, *slash;

		if (json_object_get(f, "data") == NULL)
			continue; /* the job directory, made above */
		path = xasprintf("%s/%s", root,
		    json_string_value(json_object_get(f, "path")));
		slash = strrchr(path, '/');

		*slash = '\0';
		if (!fs_mkdirs(path)) {
			*err_out = xasprintf(
			    "cannot create %s: %s", path, strerror(errno));
			free(path);
			return FM_ERR_IO;
		}
		*slash = '/';
		if (write_one(path,
		        json_string_value(json_object_get(f, "data")),
		        json_is_true(json_object_get(f, "runnable"))) !=
		    FM_OK) {
			*err_out = xasprintf(
			    "cannot write %s: %s", path, strerror(errno));
			free(path);
			return FM_ERR_IO;
		}
		free(path);
	}
	return FM_OK;
}

bool
openjd_files_dir_taken(const char *path, size_t len)
{
	size_t n = strlen(OPENJD_DIR);

	return len >= n && strncasecmp(path, OPENJD_DIR, n) == 0 &&
	    (len == n || path[n] == '/');
}

enum fm_err
openjd_files_remove(const char *root, const char *job_uuid)
{
	char *dir = xasprintf("%s/%s/%s", root, OPENJD_DIR, job_uuid);
	enum fm_err rc = fs_remove_tree(dir);

	free(dir);
	return rc;
}
