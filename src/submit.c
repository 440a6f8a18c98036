/*
 * The submission pipeline. Every check on the submitted JSON happens here
 * with a message an artist can act on; the script's own errors pass
 * through unchanged, as Flamenco's add-on shows them to the artist.
 */
#include "submit.h"

#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "config.h"
#include "ids.h"
#include "jobc.h"
#include "jobdeps.h"
#include "jobtypes.h"
#include "log.h"
#include "metrics.h"
#include "openjd_expand.h"
#include "state.h"
#include "store_jobdeps.h"
#include "store_jobs.h"
#include "store_openjd.h"
#include "timeutil.h"
#include "uuidmap.h"
#include "variables.h"
#include "xmalloc.h"

/* Fetch an optional member of the given type; false (with *msg) if the
 * member exists with another type. */
static bool
optional(const json_t *obj, const char *key, json_type type, json_t **out,
    char **msg_out)
{
	static const char *const type_names[] = {
		[JSON_OBJECT] = "an object",
		[JSON_ARRAY] = "an array",
		[JSON_STRING] = "a string",
		[JSON_INTEGER] = "an integer",
		[JSON_REAL] = "a number",
		[JSON_TRUE] = "a boolean",
		[JSON_FALSE] = "a boolean",
		[JSON_NULL] = "null",
	};
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return true;
	if (json_typeof(v) != type) {
		*msg_out =
		    xasprintf("\"%s\" must be %s", key, type_names[type]);
		return false;
	}
	*out = v;
	return true;
}

static bool
required(const json_t *obj, const char *key, json_type type, json_t **out,
    char **msg_out)
{
	if (!optional(obj, key, type, out, msg_out))
		return false;
	if (*out == NULL) {
		*msg_out = xasprintf("\"%s\" is required", key);
		return false;
	}
	return true;
}

static bool
all_strings(const json_t *obj)
{
	const char *key;
	json_t *v;

	json_object_foreach ((json_t *)(uintptr_t)obj, key, v)
		if (!json_is_string(v))
			return false;
	return true;
}

/*
 * The string s (may be NULL: nothing to check) of field what ("\"name\"",
 * "the job name"): no NUL character, at most SUBMIT_MAX_NAME_BYTES bytes.
 */
static bool
check_text(const json_t *s, const char *what, char **msg_out)
{
	size_t n = json_string_length(s);

	if (!json_is_string(s))
		return true;
	if (memchr(json_string_value(s), '\0', n) != NULL) {
		*msg_out =
		    xasprintf("%s must not contain NUL characters", what);
		return false;
	}
	if (n > SUBMIT_MAX_NAME_BYTES) {
		*msg_out = xasprintf(
		    "%s is longer than %d bytes", what, SUBMIT_MAX_NAME_BYTES);
		return false;
	}
	return true;
}

/* How much of key a message shows: at most 40 bytes, whole characters. */
static int
shown_len(const char *key)
{
	size_t n = strlen(key);

	if (n > 40) {
		n = 40;
		while (n > 0 && ((unsigned char)key[n] & 0xC0) == 0x80)
			n--;
	}
	return (int)n;
}

/* True when a key or a string anywhere in v holds a NUL character. */
static bool
has_nul(const json_t *v)
{
	size_t i;
	json_t *e;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		for (void *it = json_object_iter((json_t *)(uintptr_t)v);
		     it != NULL;
		     it = json_object_iter_next((json_t *)(uintptr_t)v, it)) {
			if (memchr(json_object_iter_key(it), '\0',
			        json_object_iter_key_len(it)) != NULL ||
			    has_nul(json_object_iter_value(it)))
				return true;
		}
		return false;
	case JSON_ARRAY:
		json_array_foreach (v, i, e)
			if (has_nul(e))
				return true;
		return false;
	case JSON_STRING:
		return memchr(json_string_value(v), '\0',
		           json_string_length(v)) != NULL;
	case JSON_INTEGER:
	case JSON_REAL:
	case JSON_TRUE:
	case JSON_FALSE:
	case JSON_NULL:
		return false;
	}
	return false;
}

/*
 * Job settings (submitted, or as the script left them; what is the
 * field's name in messages): no NUL character in keys or strings, at
 * most SUBMIT_MAX_SETTINGS_BYTES as compact JSON.
 */
static bool
check_settings(const json_t *settings, const char *what, char **msg_out)
{
	if (settings == NULL)
		return true;
	if (has_nul(settings)) {
		*msg_out =
		    xasprintf("%s must not contain NUL characters", what);
		return false;
	}
	/* Counted, not written: no buffer is given. */
	if (json_dumpb(settings, NULL, 0, JSON_COMPACT) >
	    SUBMIT_MAX_SETTINGS_BYTES) {
		*msg_out = xasprintf("%s are larger than %zu KiB as JSON", what,
		    SUBMIT_MAX_SETTINGS_BYTES / 1024);
		return false;
	}
	return true;
}

/*
 * Job metadata: strings only, at most SUBMIT_MAX_METADATA entries, keys
 * and values of at most SUBMIT_MAX_METADATA_BYTES without NUL characters.
 */
static bool
check_metadata(const json_t *metadata, const char *what, char **msg_out)
{
	json_t *m = (json_t *)(uintptr_t)metadata;

	if (metadata == NULL)
		return true;
	if (json_object_size(m) > SUBMIT_MAX_METADATA) {
		*msg_out = xasprintf(
		    "%s has more than %d entries", what, SUBMIT_MAX_METADATA);
		return false;
	}
	for (void *it = json_object_iter(m); it != NULL;
	     it = json_object_iter_next(m, it)) {
		const char *key = json_object_iter_key(it);
		size_t klen = json_object_iter_key_len(it);
		json_t *v = json_object_iter_value(it);

		if (!json_is_string(v)) {
			*msg_out = xasprintf("%s values must be strings", what);
			return false;
		}
		if (memchr(key, '\0', klen) != NULL || has_nul(v)) {
			*msg_out = xasprintf(
			    "%s must not contain NUL characters", what);
			return false;
		}
		if (klen > SUBMIT_MAX_METADATA_BYTES ||
		    json_string_length(v) > SUBMIT_MAX_METADATA_BYTES) {
			*msg_out = xasprintf("%s entry \"%.*s\": keys and "
			                     "values are limited to %d bytes",
			    what, shown_len(key), key,
			    SUBMIT_MAX_METADATA_BYTES);
			return false;
		}
	}
	return true;
}

/* Validate the SubmittedJob's fields; fills the JS-side job object. */
static enum fm_err
validate(struct fm_ctx *ctx, struct store_conn *conn, const json_t *in,
    json_t **js_job_out, int64_t *tag_id_out, char **msg_out)
{
	json_t *name, *type, *prio, *platform, *settings, *metadata, *status,
	    *tag, *storage, *etag, *checkout = NULL;
	enum job_status initial = JOB_STATUS_QUEUED;
	const char *plat;
	char uuid[ID_UUID_LEN + 1];
	json_t *js;

	*js_job_out = NULL;
	*tag_id_out = 0;
	if (!json_is_object(in)) {
		*msg_out = xstrdup("the job must be a JSON object");
		return FM_ERR_INVALID;
	}
	if (!required(in, "name", JSON_STRING, &name, msg_out) ||
	    !required(in, "type", JSON_STRING, &type, msg_out) ||
	    !required(in, "priority", JSON_INTEGER, &prio, msg_out) ||
	    !required(
	        in, "submitter_platform", JSON_STRING, &platform, msg_out) ||
	    !optional(in, "settings", JSON_OBJECT, &settings, msg_out) ||
	    !optional(in, "metadata", JSON_OBJECT, &metadata, msg_out) ||
	    !optional(in, "initial_status", JSON_STRING, &status, msg_out) ||
	    !optional(in, "worker_tag", JSON_STRING, &tag, msg_out) ||
	    !optional(in, "type_etag", JSON_STRING, &etag, msg_out) ||
	    !optional(in, "storage", JSON_OBJECT, &storage, msg_out) ||
	    (storage != NULL &&
	        !optional(storage, "shaman_checkout_id", JSON_STRING, &checkout,
	            msg_out)))
		return FM_ERR_INVALID;
	if (json_string_length(name) == 0) {
		*msg_out = xstrdup("\"name\" must not be empty");
		return FM_ERR_INVALID;
	}
	if (!check_text(name, "\"name\"", msg_out) ||
	    !check_text(type, "\"type\"", msg_out) ||
	    !check_text(platform, "\"submitter_platform\"", msg_out) ||
	    !check_text(etag, "\"type_etag\"", msg_out) ||
	    !check_text(status, "\"initial_status\"", msg_out) ||
	    !check_text(tag, "\"worker_tag\"", msg_out) ||
	    !check_text(checkout, "\"storage.shaman_checkout_id\"", msg_out) ||
	    !check_settings(settings, "\"settings\"", msg_out) ||
	    !check_metadata(metadata, "\"metadata\"", msg_out))
		return FM_ERR_INVALID;
	if (json_integer_value(prio) < 0 || json_integer_value(prio) > 100) {
		*msg_out = xstrdup("\"priority\" must be between 0 and 100");
		return FM_ERR_INVALID;
	}
	if (status != NULL &&
	    (state_job_status_parse(json_string_value(status), &initial) !=
	            FM_OK ||
	        (initial != JOB_STATUS_QUEUED &&
	            initial != JOB_STATUS_PAUSED))) {
		*msg_out = xasprintf("\"initial_status\" must be queued or "
		                     "paused, not \"%s\"",
		    json_string_value(status));
		return FM_ERR_INVALID;
	}
	if (tag != NULL && json_string_length(tag) > 0) {
		if (!ids_valid_uuid(json_string_value(tag))) {
			*msg_out = xasprintf("\"worker_tag\" is not a valid "
			                     "UUID: %s",
			    json_string_value(tag));
			return FM_ERR_INVALID;
		}
		if (conn != NULL &&
		    store_jobs_tag_id(
		        conn, json_string_value(tag), tag_id_out) != FM_OK) {
			*msg_out = xasprintf(
			    "unknown worker tag %s", json_string_value(tag));
			return FM_ERR_INVALID;
		}
	}

	/* "manager" names the Manager's own platform (submitJob). */
	plat = json_string_value(platform);
	if (strcmp(plat, "manager") == 0)
		plat = variables_manager_platform();
	settings = settings ? json_deep_copy(settings) : json_object();
	metadata = metadata ? json_deep_copy(metadata) : json_object();
	variables_replace_twoway_object(ctx->cfg, plat, settings);
	variables_replace_twoway_object(ctx->cfg, plat, metadata);

	ids_new_uuid(uuid);
	js = json_pack("{s:s, s:O, s:O, s:O, s:s, s:I, s:o, s:o, s:s, "
	               "s:{s:s}}",
	    "jobID", uuid, "name", name, "jobType", type, "priority", prio,
	    "status", state_job_status_name(initial), "created",
	    (json_int_t)time_now_us(), "settings", settings, "metadata",
	    metadata, "workerTagUUID",
	    tag != NULL ? json_string_value(tag) : "", "storage",
	    "shamanCheckoutID",
	    checkout != NULL ? json_string_value(checkout) : "");
	*js_job_out = js;
	return FM_OK;
}

/* Check and convert the script's result into the store's job shape. */
static enum fm_err
shape_result(struct fm_ctx *ctx, struct store_conn *conn, const json_t *js_in,
    json_t *out, int64_t tag_id, json_t **job_out, char **msg_out)
{
	json_t *tasks = json_object_get(out, "tasks");
	json_t *metadata = json_object_get(out, "metadata");
	json_t *prio = json_object_get(out, "priority");
	json_t *name = json_object_get(out, "name");
	const char *tag =
	    json_string_value(json_object_get(out, "workerTagUUID"));
	const char *in_tag =
	    json_string_value(json_object_get(js_in, "workerTagUUID"));
	const char *checkout = json_string_value(json_object_get(
	    json_object_get(out, "storage"), "shamanCheckoutID"));
	json_t *job;

	if (!json_is_array(tasks) || json_array_size(tasks) == 0) {
		*msg_out = xstrdup("the job type authored no tasks");
		return FM_ERR_JS;
	}
	/* The compiler stops a script at this many already. */
	if (json_array_size(tasks) > (size_t)ctx->cfg->max_tasks_per_job) {
		*msg_out = xasprintf("the job has %zu tasks; at most %lld are "
		                     "allowed (max_tasks_per_job)",
		    json_array_size(tasks),
		    (long long)ctx->cfg->max_tasks_per_job);
		return FM_ERR_INVALID;
	}
	if (!json_is_string(name) || json_string_length(name) == 0 ||
	    !json_is_integer(prio) || json_integer_value(prio) < 0 ||
	    json_integer_value(prio) > 100) {
		*msg_out = xstrdup("the script left the job without a name or "
		                   "with a priority outside 0..100");
		return FM_ERR_JS;
	}
	if (!json_is_object(metadata) || !all_strings(metadata)) {
		*msg_out = xstrdup("the script left job metadata that is not "
		                   "a map of strings");
		return FM_ERR_JS;
	}
	/* The same limits as on the submission: the script may change
	 * every one of these fields. */
	if (!check_text(name, "the job name the script left", msg_out) ||
	    !check_text(json_object_get(out, "workerTagUUID"),
	        "the worker tag the script left", msg_out) ||
	    !check_text(json_object_get(json_object_get(out, "storage"),
	                    "shamanCheckoutID"),
	        "the shaman checkout ID the script left", msg_out) ||
	    !check_metadata(
	        metadata, "the metadata the script left", msg_out) ||
	    !check_settings(json_object_get(out, "settings"),
	        "the settings the script left", msg_out))
		return FM_ERR_JS;
	/* A script may retag the job; look the new tag up. */
	if (tag != NULL && tag[0] != '\0' &&
	    (in_tag == NULL || strcmp(tag, in_tag) != 0)) {
		if (!ids_valid_uuid(tag) || conn == NULL ||
		    store_jobs_tag_id(conn, tag, &tag_id) != FM_OK) {
			*msg_out = xasprintf("the script set an unknown worker "
			                     "tag %s",
			    tag);
			return FM_ERR_JS;
		}
	} else if (tag == NULL || tag[0] == '\0') {
		tag_id = 0;
	}
	job = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:s, s:O, s:O}",
	    "id", json_object_get(js_in, "jobID"), "name", name, "type",
	    json_object_get(js_in, "jobType"), "priority", prio, "status",
	    json_object_get(js_in, "status"), "settings",
	    json_object_get(out, "settings"), "metadata", metadata,
	    "storage_shaman_checkout_id", checkout ? checkout : "", "created",
	    json_object_get(js_in, "created"), "tasks", tasks);
	if (tag_id != 0)
		json_object_set_new(job, "worker_tag_id", json_integer(tag_id));
	if (!json_is_object(json_object_get(job, "settings")))
		json_object_set_new(job, "settings", json_object());
	*job_out = job;
	return FM_OK;
}

/*
 * The submission's "depends_on" and "dependency_mode" (extensions the
 * add-on never sends), checked against the store when there is one and
 * added to the store-ready job. The job type's JOB_TYPE.dependencyMode
 * is the default mode.
 */
static enum fm_err
add_dependencies(struct store_conn *conn, const json_t *submitted,
    const struct jobtype *type, json_t *job, char **msg_out)
{
	json_t *deps, *mode;
	bool overlap = type->deps_overlap;
	enum fm_err rc;

	if (!optional(submitted, "depends_on", JSON_ARRAY, &deps, msg_out) ||
	    !optional(
	        submitted, "dependency_mode", JSON_STRING, &mode, msg_out))
		return FM_ERR_INVALID;
	if (mode != NULL &&
	    !jobdeps_parse_mode(json_string_value(mode), &overlap)) {
		*msg_out = xstrdup("\"dependency_mode\" must be \"strict\" or "
		                   "\"overlap\"");
		return FM_ERR_INVALID;
	}
	if (overlap)
		json_object_set_new(job, "dependency_overlap", json_true());
	if (deps == NULL || json_array_size(deps) == 0)
		return FM_OK;
	if ((rc = jobdeps_check_list(deps, overlap, msg_out)) != FM_OK)
		return rc;
	if (conn != NULL &&
	    (rc = store_jobdeps_add(conn, 0, deps,
	         json_object_get(job, "tasks"), msg_out)) != FM_OK)
		return rc;
	json_object_set(job, "depends_on", deps);
	return FM_OK;
}

struct path_mapping {
	const struct fm_config *cfg;
	const char *platform;
};

/* openjd_job.map_path: the two-way replacement submitted values get. */
static char *
map_template_path(void *arg, const char *value)
{
	const struct path_mapping *m = arg;

	return variables_replace_twoway(m->cfg, m->platform, value);
}

/* openjd_job.file_value: files are written now, by the Manager. */
static char *
expand_file_value(void *arg, const char *value)
{
	const struct path_mapping *m = arg;

	return variables_expand(
	    m->cfg, "workers", variables_manager_platform(), value);
}

/*
 * Expand an OpenJD template: the same result shape as compileJob's, plus
 * the embedded files to write ("openjd_files"). Parameter errors are 400.
 */
static enum fm_err
expand_template(struct fm_ctx *ctx, struct store_conn *conn,
    const struct jobtype *type, const json_t *submitted, const json_t *js_in,
    int64_t tag_id, json_t **out_out, char **msg_out)
{
	struct openjd_job job = {
		.t = type->tmpl,
		.job_uuid = json_string_value(json_object_get(js_in, "jobID")),
		.settings = json_object_get(js_in, "settings"),
		.raw_settings = json_object_get(submitted, "settings"),
		.max_tasks = (size_t)ctx->cfg->max_tasks_per_job,
		.priority = 50,
		.max_bytes = (size_t)ctx->cfg->compiler_heap_max_bytes,
		.map_path = map_template_path,
		.file_value = expand_file_value,
	};
	const char *plat =
	    json_string_value(json_object_get(submitted, "submitter_platform"));
	struct path_mapping mapping = { ctx->cfg,
		plat == NULL || strcmp(plat, "manager") == 0
		    ? variables_manager_platform()
		    : plat };
	json_t *tasks = NULL, *files = NULL, *workers = NULL, *out;
	char *msg = NULL;
	enum fm_err rc;

	if (conn != NULL && openjd_uses_workers(type->tmpl) &&
	    (rc = store_workers_records(
	         conn, tag_id, OPENJD_TASK_TYPE, &workers)) != FM_OK) {
		*msg_out = xstrdup("cannot list the workers");
		return rc;
	}
	/* Offline (flamenco-manager compile) there is no worker list. */
	if (conn == NULL && openjd_uses_workers(type->tmpl))
		log_warn("%s: steps taking their tasks from the Manager's "
		         "workers get none here, as compile does not know "
		         "them; POST /api/v3/jobs/explain shows those tasks",
		    type->name);
	job.workers = workers;
	job.map_arg = &mapping;
	job.file_arg = &mapping;
	rc = openjd_expand(&job, &tasks, &files, &msg);
	json_decref(workers);
	if (rc != FM_OK) {
		*msg_out = msg ? msg : xstrdup("the template did not expand");
		return rc;
	}
	out = json_copy((json_t *)(uintptr_t)js_in);
	json_object_set_new(out, "tasks", tasks);
	json_object_set_new(out, "openjd_files", files);
	*out_out = out;
	return FM_OK;
}

enum fm_err
submit_write_files(struct fm_ctx *ctx, const json_t *job, char **msg_out)
{
	const json_t *files = json_object_get(job, "openjd_files");

	*msg_out = NULL;
	if (files == NULL)
		return FM_OK;
	/* The values in their data were expanded at expansion (see
	 * expand_file_value); their own text, e.g. ${x} in a shell
	 * script, is written as is. */
	return openjd_files_write(config_storage_location(ctx->cfg),
	    json_string_value(json_object_get(job, "id")), files, msg_out);
}

void
submit_remove_files(struct fm_ctx *ctx, const json_t *job)
{
	if (json_object_get(job, "openjd_files") != NULL)
		(void)openjd_files_remove(config_storage_location(ctx->cfg),
		    json_string_value(json_object_get(job, "id")));
}

enum fm_err
submit_compile(struct fm_ctx *ctx, struct store_conn *conn,
    const json_t *submitted, json_t **job_out, char **msg_out)
{
	struct jobtype *type = NULL;
	json_t *js_in = NULL, *out = NULL;
	const char *etag;
	int64_t tag_id = 0, t0;
	char *err = NULL;
	enum fm_err rc;

	*job_out = NULL;
	*msg_out = NULL;
	rc = validate(ctx, conn, submitted, &js_in, &tag_id, msg_out);
	if (rc != FM_OK)
		goto done;
	rc = jobtypes_get(ctx->jobtypes,
	    json_string_value(json_object_get(submitted, "type")), &type);
	if (rc == FM_ERR_NOTFOUND) {
		*msg_out = xstrdup("job type unknown");
		rc = FM_ERR_INVALID;
		goto done;
	}
	if (rc != FM_OK) {
		*msg_out = xstrdup("job types are not loaded yet");
		goto done;
	}
	etag = json_string_value(json_object_get(submitted, "type_etag"));
	if (etag != NULL && etag[0] != '\0' && strcmp(etag, type->etag) != 0) {
		*msg_out = xstrdup("rejecting job because its settings are "
		                   "outdated, refresh the job type");
		rc = FM_ERR_STALE;
		goto done;
	}
	t0 = time_mono_us();
	if (type->tmpl != NULL) {
		rc = expand_template(
		    ctx, conn, type, submitted, js_in, tag_id, &out, msg_out);
		metrics_observe_compile(time_mono_us() - t0);
		if (rc != FM_OK)
			goto done;
		rc = shape_result(
		    ctx, conn, js_in, out, tag_id, job_out, msg_out);
		if (rc == FM_OK)
			json_object_set(*job_out, "openjd_files",
			    json_object_get(out, "openjd_files"));
		goto dependencies;
	}
	rc = jobc_compile(
	    ctx->jobc, type->es5, type->filename, js_in, &out, &err);
	metrics_observe_compile(time_mono_us() - t0);
	if (rc != FM_OK) {
		if (rc == FM_ERR_TIMEOUT || rc == FM_ERR_NOMEM ||
		    rc == FM_ERR_INVALID) {
			*msg_out = xasprintf(
			    "%s: %s", type->name, err ? err : fm_strerror(rc));
			rc = FM_ERR_JS;
		} else {
			*msg_out = err ? err : xstrdup(fm_strerror(rc));
			err = NULL;
		}
		goto done;
	}
	rc = shape_result(ctx, conn, js_in, out, tag_id, job_out, msg_out);
dependencies: /* OpenJD templates' jobs too */
	if (rc == FM_OK &&
	    (rc = add_dependencies(conn, submitted, type, *job_out, msg_out)) !=
	        FM_OK) {
		json_decref(*job_out);
		*job_out = NULL;
	}
done:
	free(err);
	json_decref(out);
	json_decref(js_in);
	jobtype_release(type);
	return rc;
}

/* A task's commands as JSON (new), whether the compiler gave them as
 * values or as text. */
static json_t *
task_commands(const json_t *task)
{
	const char *text =
	    json_string_value(json_object_get(task, "commands_json"));
	json_t *commands;

	if (text == NULL) {
		commands = json_object_get(task, "commands");
		return json_is_array(commands) ? json_incref(commands)
		                               : json_array();
	}
	commands = json_loads(text, JSON_ALLOW_NUL, NULL);
	return commands != NULL ? commands : json_array();
}

json_t *
submit_explain(const json_t *job)
{
	const json_t *tasks = json_object_get(job, "tasks");
	json_t *list = json_array();
	size_t i, j, nedges = 0, ntasks = json_array_size(tasks);
	struct uuid_map index;
	json_t *task, *dep, *out;

	uuid_map_init(&index, ntasks);
	json_array_foreach (tasks, i, task)
		uuid_map_put(&index,
		    json_string_value(json_object_get(task, "uuid")),
		    (int64_t)i + 1);
	json_array_foreach (tasks, i, task) {
		json_t *deps = json_array();
		int64_t steps = 0;
		json_t *cmd, *commands, *entry;

		json_array_foreach (
		    json_object_get(task, "dependencies"), j, dep) {
			if (json_is_string(dep))
				json_array_append_new(deps,
				    json_integer(uuid_map_get(
				        &index, json_string_value(dep))));
			nedges++;
		}
		commands = task_commands(task);
		json_array_foreach (commands, j, cmd) {
			json_int_t n = json_integer_value(
			    json_object_get(cmd, "total_step_count"));

			steps += n > 1 ? n : 1;
		}
		json_array_append_new(list,
		    entry = json_pack("{s:I, s:O, s:O, s:O, s:I, s:o, s:o}",
		        "index_in_job", (json_int_t)i + 1, "name",
		        json_object_get(task, "name"), "task_type",
		        json_object_get(task, "type"), "priority",
		        json_object_get(task, "priority"), "steps_total",
		        (json_int_t)steps, "commands", commands, "dependencies",
		        deps));
		if (json_is_string(json_object_get(task, "worker_uuid")))
			json_object_set(entry, "worker",
			    json_object_get(task, "worker_uuid"));
	}
	uuid_map_free(&index);
	out = json_pack("{s:O, s:O, s:O, s:O, s:O, s:I, s:I, s:o}", "name",
	    json_object_get(job, "name"), "type", json_object_get(job, "type"),
	    "priority", json_object_get(job, "priority"), "settings",
	    json_object_get(job, "settings"), "metadata",
	    json_object_get(job, "metadata"), "task_count", (json_int_t)ntasks,
	    "dependency_count", (json_int_t)nedges, "tasks", list);
	if (json_object_get(job, "depends_on") != NULL)
		json_object_set(
		    out, "depends_on", json_object_get(job, "depends_on"));
	return out;
}
