/*
 * Expansion of an OpenJD template into a Flamenco job's tasks: parameter
 * values checked against their definitions, each step's parameter space
 * (or resource records) turned into tasks whose onRun action becomes an
 * "exec" command, step dependencies into task dependencies, embedded
 * files into files to write on shared storage. The result has the shape
 * of the JavaScript compiler's tasks, so submit.c stores both alike.
 */
#ifndef FM_OPENJD_EXPAND_H
#define FM_OPENJD_EXPAND_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "fm.h"
#include "openjd_template.h"

/* Refused with 400 beyond these (README, "Declarative job types"). */
#define OPENJD_MAX_DEP_EDGES  2000000 /* task dependency rows per job */
#define OPENJD_MAX_FILES      10000   /* embedded files written per job */
#define OPENJD_MAX_FILE_BYTES ((size_t)64 << 20)
#define OPENJD_TASK_TYPE      "misc"   /* every Flamenco Worker runs it */
#define OPENJD_DIR            "openjd" /* under shared storage */

struct openjd_job {
	const struct openjd_template *t;
	const char *job_uuid;
	const json_t *settings;     /* after two-way variable replacement */
	const json_t *raw_settings; /* as submitted; NULL: settings */
	const json_t *workers;      /* worker records, for workers resources */
	size_t max_tasks;
	int priority;     /* of each task */
	size_t max_bytes; /* cap on the tasks' and files' text; 0: none */
	/* Flamenco's two-way variable replacement for PATH values that
	 * were not submitted (defaults, task parameters): a new string, or
	 * NULL when unchanged. NULL: none. */
	char *(*map_path)(void *arg, const char *value);
	void *map_arg;
	/* Variable expansion of the values format strings insert into
	 * embedded files ({jobs}, two-way variables), for the Manager's
	 * platform; a new string. The files' own text is left as written.
	 * NULL: none. */
	char *(*file_value)(void *arg, const char *value);
	void *file_arg;
};

/*
 * Expand. *tasks_out: [{"uuid","name","type","priority","commands_json",
 * "steps_total","dependencies"[, "worker_uuid"]}] (new); *files_out:
 * [{"path" (relative to shared storage),"data","runnable"}] (new), led
 * by {"path": "openjd/<job uuid>"} (no data) when a step uses
 * Session.WorkingDirectory.
 * FM_ERR_INVALID with *msg_out (new) naming the parameter, step or rule;
 * also when the text of all tasks and files, estimated before any is
 * built, would exceed job->max_bytes.
 */
FM_MUST_CHECK enum fm_err openjd_expand(const struct openjd_job *job,
    json_t **tasks_out, json_t **files_out, char **msg_out);

/*
 * Write files_out of openjd_expand under root (the Manager's shared
 * storage), in root/openjd/<job_uuid>/ (also the tasks'
 * Session.WorkingDirectory); nothing when files is empty. *err_out (new)
 * on error.
 */
FM_MUST_CHECK enum fm_err openjd_files_write(const char *root,
    const char *job_uuid, const json_t *files, char **err_out);

/*
 * True when a relative path under shared storage starts in the folder
 * openjd_files_write uses (first component OPENJD_DIR, in any case, for
 * case-insensitive file systems), so Shaman refuses such checkouts.
 */
bool openjd_files_dir_taken(const char *path, size_t len);

/* Remove what openjd_files_write wrote; FM_ERR_IO when some is left. */
enum fm_err openjd_files_remove(const char *root, const char *job_uuid);

#endif
