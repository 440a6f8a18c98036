/*
 * OpenJD job templates (specificationVersion jobtemplate-2023-09) as
 * declarative job types: loading a YAML or JSON template, validating it
 * against the schema's rules and what the Flamenco Worker can run, and
 * the AvailableJobType its parameters become. The model is immutable
 * once loaded and shared by every expansion (openjd_expand.h).
 */
#ifndef FM_OPENJD_TEMPLATE_H
#define FM_OPENJD_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fm.h"
#include "openjd_fmt.h"
#include "openjd_range.h"

#define OPENJD_SPEC_VERSION     "jobtemplate-2023-09"
#define OPENJD_MAX_PARAMS       50
#define OPENJD_MAX_TASK_PARAMS  16
#define OPENJD_MAX_RANGE_LIST   1024
#define OPENJD_RESOURCE_KEY     "x-flamenco-resource"
#define OPENJD_MAX_RESOURCE_FLD 32

struct filterexpr;

enum openjd_type {
	OPENJD_STRING,
	OPENJD_INT,
	OPENJD_FLOAT,
	OPENJD_PATH,
};

struct openjd_param {
	char *name;
	enum openjd_type type;
	json_t *def;     /* default as text (json string), NULL: none */
	json_t *allowed; /* allowed values as text, NULL: any */
	bool has_min, has_max;
	double min, max;          /* minValue/maxValue (INT, FLOAT) */
	int64_t min_len, max_len; /* -1: unset (STRING, PATH) */
	json_t *setting;          /* its AvailableJobSetting */
};

struct openjd_task_param {
	char *name;
	enum openjd_type type;
	bool is_expr;            /* INT range given as a string */
	struct openjd_fmt expr;  /* is_expr */
	struct openjd_fmt *list; /* !is_expr */
	size_t nlist;
};

/* Per-task files go to STEP_INDEX/t<task index>/ (openjd_expand.c); a
 * step file of that name would collide, so it is refused at load. */
#define OPENJD_TASK_DIR_PREFIX "t"

struct openjd_file {
	char *name;
	char *filename; /* basename written */
	bool runnable;
	bool per_task; /* data uses Task values: one file per task */
	struct openjd_fmt data;
};

/* Our extension: one task per record of a resource. */
enum openjd_resource_kind {
	OPENJD_RESOURCE_NONE,
	OPENJD_RESOURCE_SETTING, /* a list of records in the job settings */
	OPENJD_RESOURCE_WORKERS, /* the Manager's workers */
};

struct openjd_resource {
	enum openjd_resource_kind kind;
	char *setting; /* OPENJD_RESOURCE_SETTING: the settings key */
	char **fields;
	size_t nfields;
	struct filterexpr *where; /* NULL: every record */
};

struct openjd_step {
	char *name;
	size_t *deps; /* indexes of the steps this one depends on */
	size_t ndeps;
	struct openjd_task_param *tparams;
	size_t ntparams;
	struct openjd_combo *combo; /* NULL: no parameter space */
	struct openjd_fmt command;
	struct openjd_fmt *args;
	size_t nargs;
	struct openjd_file *files;
	size_t nfiles;
	struct openjd_resource resource;
};

struct openjd_template {
	char *filename;
	char *label;       /* template name with no references, else NULL */
	char *description; /* NULL: none */
	struct openjd_param *params;
	size_t nparams;
	const char **param_names;  /* views of params[i].name */
	struct openjd_step *steps; /* in dependency order */
	size_t nsteps;
};

/*
 * Load a template from text. FM_ERR_NOTFOUND when the document is not
 * an OpenJD job template at all (no specificationVersion at the top; the
 * file is not a job type). FM_ERR_INVALID when it is one but breaks a
 * rule: *err_out (new) is "FILE:LINE: ELEMENT: rule".
 */
FM_MUST_CHECK enum fm_err openjd_load(const char *filename, const char *text,
    size_t len, struct openjd_template **out, char **err_out);

void openjd_free(struct openjd_template *t);

/* The AvailableJobType for the type name (new), "etag" left "". */
json_t *openjd_info(const struct openjd_template *t, const char *name);

/*
 * The value v given for parameter p as text (new), or NULL with *why_out
 * (new) when it has the wrong type, is not allowed or is out of range.
 */
char *openjd_param_value(
    const struct openjd_param *p, const json_t *v, char **why_out);

/* True when a step is driven by the workers resource. */
bool openjd_uses_workers(const struct openjd_template *t);

/* Text of a number as OpenJD prints parameter values (new). */
char *openjd_number_text(const json_t *v);

#endif
