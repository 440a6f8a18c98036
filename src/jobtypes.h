/*
 * The job-type registry: the built-in scripts embedded in the binary plus
 * the *.js files of scripts_path (which override built-ins of the same
 * type name), and likewise OpenJD job templates (*.yaml, *.yml, *.json
 * whose top level is one; see openjd_template.h). Each script is down-levelled
 * and described once when it is loaded, by a watcher thread that rescans
 * scripts_path once per rescan interval, so edits apply without a restart;
 * requests never load anything and listing costs nothing.
 *
 * Readers get immutable snapshots: a struct jobtype stays valid until its
 * reference is released, even if the file changes meanwhile.
 */
#ifndef FM_JOBTYPES_H
#define FM_JOBTYPES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fm.h"

struct jobc;
struct jobtypes;
struct openjd_template;

struct jobtype {
	char *name;     /* type name: file stem, '_' -> '-' */
	char *filename; /* where it came from, for messages */
	char *es5;      /* the down-levelled script; NULL for a template */
	struct openjd_template *tmpl; /* an OpenJD template, else NULL */
	json_t *info;      /* AvailableJobType JSON, "etag" included */
	char etag[41];     /* 40 hex chars of SHA-1 */
	bool deps_overlap; /* JOB_TYPE.dependencyMode is "overlap" */
	int refs;          /* atomic */
};

/*
 * Create the registry and its watcher thread, which loads it in the
 * background (start-up is not held up by JavaScript) and then rescans
 * scripts_path every rescan_interval_us. scripts_path may be "" (built-ins
 * only, no rescans). jobc is borrowed and must outlive the registry.
 */
struct jobtypes *jobtypes_new(
    const char *scripts_path, struct jobc *jobc, int64_t rescan_interval_us);

/*
 * Stop and join the watcher (cancelling the script it is loading, if
 * any: see jsenv_transpile_cancel), then free; NULL-safe.
 */
void jobtypes_free(struct jobtypes *reg);

/* Wait until the first load finished; FM_ERR_TIMEOUT after timeout_us. */
FM_MUST_CHECK enum fm_err jobtypes_wait_ready(
    struct jobtypes *reg, int64_t timeout_us);

/*
 * The body of GET /api/v3/jobs/types, {"job_types": [...]} sorted by name,
 * as JSON text (new; caller frees).
 */
FM_MUST_CHECK enum fm_err jobtypes_list_json(
    struct jobtypes *reg, char **text_out, size_t *len_out);

/* A job type by name (new reference); FM_ERR_NOTFOUND when unknown. */
FM_MUST_CHECK enum fm_err jobtypes_get(
    struct jobtypes *reg, const char *name, struct jobtype **type_out);

/* Release a reference from jobtypes_get(); NULL-safe. */
void jobtype_release(struct jobtype *type);

/* The etag of a JOB_TYPE-derived AvailableJobType (getJobTypes). */
void jobtypes_etag(const json_t *info, char etag[41]);

/* "dir/simple_blender_render.js" -> "simple-blender-render" (new); the
 * extension after the last dot goes. */
char *jobtypes_name_from_file(const char *path);

/* True when path names a job-type file: .js, .yaml, .yml or .json. */
bool jobtypes_is_type_file(const char *path);

/* Build the AvailableJobType for name from a script's JOB_TYPE (new). */
json_t *jobtypes_info_from_js(const char *name, const json_t *job_type);

#endif
