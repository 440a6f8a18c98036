/*
 * The Manager's configuration: an option table drives parsing, validation,
 * defaults, --help-config and the shipped sample file. After loading, a
 * struct fm_config is immutable and shared by every thread.
 */
#ifndef FM_CONFIG_H
#define FM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <stdio.h>

#include "fm.h"

/* One value of a variable for a platform ("all" = any) and an audience. */
struct fm_variable_value {
	char *platform; /* "linux", "windows", "darwin", ... or "all" */
	char *audience; /* "all", "workers" or "users" */
	char *value;
};

struct fm_variable {
	char *name;
	bool is_twoway;
	struct fm_variable_value *values;
	size_t nvalues;
};

struct fm_config {
	char *path;       /* config file as given; NULL when none */
	bool file_exists; /* false: running on defaults (first run) */

	char *manager_name;
	char *listen;
	char *database;
	char *local_manager_storage_path;
	char *shared_storage_path;
	char *scripts_path;
	char *log_level;
	char *admin_password; /* "" = admin changes are open; or "$..." hash */
	int64_t task_timeout_us;
	int64_t timeout_check_interval_us;
	int64_t worker_timeout_us;
	int64_t database_check_period_us;
	int64_t blocklist_threshold;
	int64_t task_fail_after_softfail_count;
	bool autodiscoverable;
	int64_t http_threads;
	int64_t max_body_bytes;
	int64_t http_max_connections;
	int64_t http_max_connections_per_client;
	int64_t http_header_timeout_us;
	int64_t http_min_body_rate;
	int64_t http_slow_threads;
	int64_t compiler_heaps;
	int64_t compile_timeout_us;
	int64_t compiler_heap_max_bytes;
	int64_t max_tasks_per_job;
	int64_t db_connections;
	int64_t event_stream_heartbeat_us;
	bool mqtt_enabled;
	char *mqtt_broker;
	char *mqtt_client_id;
	char *mqtt_topic_prefix;
	char *mqtt_username;
	char *mqtt_password;
	bool shaman_enabled; /* as configured; see config_shaman_enabled() */
	int64_t shaman_gc_period_us;
	int64_t shaman_gc_max_age_us;
	char *_Atomic storage_location; /* config_storage_location() */

	struct fm_variable *variables;
	size_t nvariables;
};

/*
 * Load the config from path (NULL: defaults only). A missing file is not
 * an error when allow_missing is set. Relative paths in the file resolve
 * against the file's directory. On error *err_out gets "FILE:LINE: text"
 * (new; caller frees) and FM_ERR_INVALID or FM_ERR_IO is returned.
 */
FM_MUST_CHECK enum fm_err config_load(const char *path, bool allow_missing,
    struct fm_config **cfg_out, char **err_out);

/* Set one option by name as if read from a file (command-line overrides). */
FM_MUST_CHECK enum fm_err config_set(
    struct fm_config *cfg, const char *key, const char *value, char **err_out);

/* NULL-safe. */
void config_free(struct fm_config *cfg);

/* Print every option with its default and help text (--help-config). */
void config_print_help(FILE *out);

/* Write the config in file syntax, every option, with comments. */
void config_write(const struct fm_config *cfg, FILE *out);

/*
 * The whole configuration as JSON, in Flamenco's shape: one member per
 * option plus "variables": {NAME: {"is_twoway", "values": [{"platform",
 * "audience", "value"}]}} and "_meta": {"version": 3}. New reference.
 */
json_t *config_to_json(const struct fm_config *cfg);

/*
 * Build a configuration from JSON of that shape; options left out get
 * their defaults, relative paths resolve against base_dir. On error
 * *err_out says which key and why (new).
 */
FM_MUST_CHECK enum fm_err config_from_json(const json_t *j,
    const char *base_dir, struct fm_config **cfg_out, char **err_out);

/*
 * The configuration a PUT of the document j asks for (new, in *cfg_out).
 * Keys j leaves out keep their values in on_disk (the file as it is now;
 * NULL: none), else in running; "variables", when sent, is the whole set
 * (a variable sent as null is removed). Refused with FM_ERR_INVALID, and
 * *err_out naming every such key, when j leaves out or empties a setting
 * that running or on_disk has and stored data depends on: database,
 * listen, local_manager_storage_path, shared_storage_path, scripts_path,
 * and each variable with values. Other errors as config_from_json.
 */
FM_MUST_CHECK enum fm_err config_update_json(const struct fm_config *running,
    const struct fm_config *on_disk, const json_t *j, const char *base_dir,
    struct fm_config **cfg_out, char **err_out);

/*
 * Write cfg to path atomically: a temporary file beside it, flushed to
 * disk, renamed over it. The file there before is first kept, the same
 * way and with its mode, as PATH.bak; *backup_out gets that name (new),
 * or NULL when there was no file. The new file keeps the old one's mode
 * (0644 when new), less group and other access if it holds an
 * admin_password. Nothing is replaced when the copy fails.
 */
FM_MUST_CHECK enum fm_err config_save(const struct fm_config *cfg,
    const char *path, char **backup_out, char **err_out);

/* Find a variable by name; NULL when not configured. Borrowed. */
const struct fm_variable *config_variable(
    const struct fm_config *cfg, const char *name);

/* The shared storage path, absolute, without trailing separator. */
const char *config_shared_storage(const struct fm_config *cfg);

/*
 * Shaman is on: shaman.enabled and a shared_storage_path to keep its
 * files in (without one it is off, and the Manager says so at start).
 */
bool config_shaman_enabled(const struct fm_config *cfg);

/*
 * Where jobs' files live as artists and workers see it (Flamenco's
 * effective storage path, the implicit {jobs} variable): the checkouts
 * directory SHARED/jobs with Shaman on, else the shared storage path.
 * Borrowed, valid as long as cfg.
 */
const char *config_storage_location(const struct fm_config *cfg);

#endif
