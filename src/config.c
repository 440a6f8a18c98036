/*
 * Configuration file parsing. The file is "key = value" lines with "#"
 * comments; variables are declared as "variables.NAME.PLATFORM[.AUDIENCE]
 * = value" and made two-way with "variables.NAME.is_twoway = true". Every
 * plain option is a row of option_table, which also feeds --help-config
 * and the sample file.
 */
#include "config.h"

#include <crypt.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "timeutil.h"
#include "xmalloc.h"

enum opt_type {
	OPT_STRING,
	OPT_PATH, /* a string resolved against the config file's directory */
	OPT_DURATION,
	OPT_INT,
	OPT_SIZE,
	OPT_BOOL,
	OPT_LOGLEVEL,
	OPT_PASSWORD, /* a string; one starting with "$" is a crypt(3) hash */
};

enum opt_flags {
	/* Stored data depends on it: a PUT may change it, not drop it. */
	OPTF_PROTECTED = 1 << 0,
	/* Written to the file, never shown in JSON. */
	OPTF_SECRET = 1 << 1,
};

struct option {
	const char *name;
	enum opt_type type;
	size_t offset; /* into struct fm_config */
	const char *def;
	int64_t min, max; /* for OPT_INT, OPT_SIZE, OPT_DURATION (in us) */
	const char *help;
	unsigned flags; /* enum opt_flags */
};

#define OFF(f) offsetof(struct fm_config, f)
#define SEC    1000000LL

static const struct option option_table[] = {
	{ "manager_name", OPT_STRING, OFF(manager_name), "Flamenco", 0, 0,
	    "Name shown to users and workers.", 0 },
	{ "listen", OPT_STRING, OFF(listen), ":8080", 0, 0,
	    "Address to listen on: \":PORT\", \"HOST:PORT\" or \"[V6]:PORT\".",
	    OPTF_PROTECTED },
	{ "database", OPT_PATH, OFF(database), "flamenco-manager.sqlite", 0, 0,
	    "SQLite database file.", OPTF_PROTECTED },
	{ "database_check_period", OPT_DURATION, OFF(database_check_period_us),
	    "10m0s", 0, 366 * 24 * 3600 * SEC,
	    "How often the database integrity is checked; 0 disables.", 0 },
	{ "local_manager_storage_path", OPT_PATH,
	    OFF(local_manager_storage_path), "./flamenco-manager-storage", 0, 0,
	    "Where task logs and last-rendered images are kept.",
	    OPTF_PROTECTED },
	{ "shared_storage_path", OPT_PATH, OFF(shared_storage_path), "", 0, 0,
	    "Storage shared by Manager, workers and artists; empty = not set "
	    "up yet (first run).",
	    OPTF_PROTECTED },
	{ "task_timeout", OPT_DURATION, OFF(task_timeout_us), "10m0s", 0,
	    366 * 24 * 3600 * SEC,
	    "Active tasks untouched this long fail; 0 disables timeouts.", 0 },
	{ "timeout_check_interval", OPT_DURATION,
	    OFF(timeout_check_interval_us), "1m0s", 100000, 24 * 3600 * SEC,
	    "How often task and worker timeouts are checked.", 0 },
	{ "worker_timeout", OPT_DURATION, OFF(worker_timeout_us), "1m0s", 0,
	    366 * 24 * 3600 * SEC,
	    "Workers unseen this long go to status \"error\".", 0 },
	{ "blocklist_threshold", OPT_INT, OFF(blocklist_threshold), "3", 1,
	    1000,
	    "Failures of one task type by one worker in a job before "
	    "the worker is blocked from that type in that job.",
	    0 },
	{ "task_fail_after_softfail_count", OPT_INT,
	    OFF(task_fail_after_softfail_count), "3", 1, 1000,
	    "Number of workers that may fail a task before it fails hard.", 0 },
	{ "autodiscoverable", OPT_BOOL, OFF(autodiscoverable), "true", 0, 0,
	    "Accepted for compatibility; UPnP discovery is not offered.", 0 },
	{ "scripts_path", OPT_PATH, OFF(scripts_path), "", 0, 0,
	    "Directory of extra job types: scripts (*.js) and OpenJD job "
	    "templates (*.yaml, *.yml, *.json); one there overrides a "
	    "built-in one of the same type name.",
	    OPTF_PROTECTED },
	{ "log_level", OPT_LOGLEVEL, OFF(log_level), "info", 0, 0,
	    "One of debug, info, warn, error.", 0 },
	{ "http_threads", OPT_INT, OFF(http_threads), "4", 1, 256,
	    "Threads serving HTTP requests.", 0 },
	{ "max_body_size", OPT_SIZE, OFF(max_body_bytes), "1MiB", 1024,
	    1LL << 34,
	    "Largest request body accepted; a job submission from Blender "
	    "is a few KiB. Task updates with logs (2 MiB) and image uploads "
	    "(25 MiB) have their own limits.",
	    0 },
	{ "http_max_connections", OPT_INT, OFF(http_max_connections), "0", 0,
	    1 << 20,
	    "Open HTTP connections at most; 0 = sized from the open-file "
	    "limit (raised to its maximum at start), up to 16384.",
	    0 },
	{ "http_max_connections_per_client", OPT_INT,
	    OFF(http_max_connections_per_client), "256", 0, 1 << 20,
	    "Open HTTP connections per client IP address; 0 = no limit. "
	    "Raise it when clients reach the Manager through a proxy.",
	    0 },
	{ "http_header_timeout", OPT_DURATION, OFF(http_header_timeout_us),
	    "10s", 100000, 3600 * SEC,
	    "A request's headers must arrive within this of the connection "
	    "opening or of its previous request ending (so it also closes "
	    "idle keep-alive connections); a body then gets as long again, "
	    "plus the time http_min_body_rate allows for its size.",
	    0 },
	{ "http_min_body_rate", OPT_SIZE, OFF(http_min_body_rate), "4KiB", 0,
	    1LL << 30,
	    "Bytes per second a request body must keep up once its grace "
	    "is over; slower uploads are cut off. 0 = no check.",
	    0 },
	{ "http_slow_threads", OPT_INT, OFF(http_slow_threads), "4", 1, 64,
	    "Threads running slow requests (job submission, check and "
	    "explain, job deletion), so they never hold up the "
	    "http_threads.",
	    0 },
	{ "compiler_heaps", OPT_INT, OFF(compiler_heaps), "0", 0, 64,
	    "JavaScript heaps compiling jobs in parallel; 0 = number of CPUs.",
	    0 },
	{ "compile_timeout", OPT_DURATION, OFF(compile_timeout_us), "10s",
	    10000, 3600 * SEC, "Longest a job-type script may run for one job.",
	    0 },
	{ "compiler_heap_max", OPT_SIZE, OFF(compiler_heap_max_bytes), "512MiB",
	    1 << 20, 1LL << 36, "Memory cap of each JavaScript heap.", 0 },
	{ "max_tasks_per_job", OPT_INT, OFF(max_tasks_per_job), "500000", 1,
	    10000000, "Most tasks one job may have; more is refused (400).",
	    0 },
	{ "db_connections", OPT_INT, OFF(db_connections), "0", 0, 64,
	    "SQLite connections in the pool; 0 = http_threads + "
	    "http_slow_threads + 2.",
	    0 },
	{ "admin_password", OPT_PASSWORD, OFF(admin_password), "", 0, 0,
	    "Password required for farm-admin changes and configuration "
	    "writes (HTTP Basic, any user name: curl -u admin:PASSWORD); "
	    "empty = none, as in Flamenco. A crypt(3) hash, as \"openssl "
	    "passwd -6\" prints, is accepted too. Keep this file mode 0600.",
	    OPTF_SECRET },
	{ "event_stream_heartbeat", OPT_DURATION,
	    OFF(event_stream_heartbeat_us), "15s", 100000, 3600 * SEC,
	    "An idle /api/v3/events stream gets a comment line this often, "
	    "so proxies keep it open and clients that left are noticed.",
	    0 },
	{ "mqtt.client.enabled", OPT_BOOL, OFF(mqtt_enabled), "false", 0, 0,
	    "Forward live events to an MQTT broker (QoS 1).", 0 },
	{ "mqtt.client.broker", OPT_STRING, OFF(mqtt_broker), "", 0, 0,
	    "Broker URL: tcp://HOST:PORT (mqtt:// too), or ssl://HOST:PORT "
	    "(mqtts://, tls://) checked against the system's CAs.",
	    0 },
	{ "mqtt.client.clientID", OPT_STRING, OFF(mqtt_client_id), "flamenco",
	    0, 0, "MQTT client identifier.", 0 },
	{ "mqtt.client.topic_prefix", OPT_STRING, OFF(mqtt_topic_prefix),
	    "flamenco", 0, 0,
	    "Prefix of every topic: PREFIX/jobs, PREFIX/workers, ...", 0 },
	{ "mqtt.client.username", OPT_STRING, OFF(mqtt_username), "", 0, 0,
	    "Broker user name; empty = none.", 0 },
	{ "mqtt.client.password", OPT_STRING, OFF(mqtt_password), "", 0, 0,
	    "Broker password.", OPTF_SECRET },
	{ "shaman.enabled", OPT_BOOL, OFF(shaman_enabled), "true", 0, 0,
	    "Let the Blender add-on upload files to the Manager's file store "
	    "under shared_storage_path (needs that set).",
	    0 },
	{ "shaman.garbageCollect.period", OPT_DURATION,
	    OFF(shaman_gc_period_us), "24h0m0s", 0, 366 * 24 * 3600 * SEC,
	    "How often unused Shaman files are removed; 0 disables.", 0 },
	{ "shaman.garbageCollect.maxAge", OPT_DURATION,
	    OFF(shaman_gc_max_age_us), "744h0m0s", 0, 3660 * 24 * 3600 * SEC,
	    "Shaman files unused this long, and linked by no checkout, are "
	    "removed.",
	    0 },
};

/* Variables every Manager has unless the config file names them. */
static const struct {
	const char *name, *platform, *value;
} default_variables[] = {
	{ "blender", "linux", "blender" },
	{ "blender", "darwin", "blender" },
	{ "blender", "windows", "blender.exe" },
	{ "blenderArgs", "all", "-b -y" },
};

static char **
opt_str(struct fm_config *cfg, const struct option *o)
{
	return (char **)(void *)((char *)cfg + o->offset);
}

static int64_t *
opt_int(struct fm_config *cfg, const struct option *o)
{
	return (int64_t *)(void *)((char *)cfg + o->offset);
}

static bool *
opt_bool(struct fm_config *cfg, const struct option *o)
{
	return (bool *)(void *)((char *)cfg + o->offset);
}

static const struct option *
option_find(const char *name)
{
	for (size_t i = 0; i < nitems(option_table); i++)
		if (strcmp(option_table[i].name, name) == 0)
			return &option_table[i];
	return NULL;
}

static enum fm_err
parse_size(const char *s, int64_t *out)
{
	static const struct {
		const char *suffix;
		int64_t mult;
	} suffixes[] = {
		{ "", 1 },
		{ "B", 1 },
		{ "KiB", 1024 },
		{ "K", 1024 },
		{ "MiB", 1024 * 1024 },
		{ "M", 1024 * 1024 },
		{ "GiB", 1024LL * 1024 * 1024 },
		{ "G", 1024LL * 1024 * 1024 },
	};
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || errno != 0 || v < 0)
		return FM_ERR_INVALID;
	for (size_t i = 0; i < nitems(suffixes); i++) {
		if (strcmp(end, suffixes[i].suffix) == 0) {
			if (v > INT64_MAX / suffixes[i].mult)
				return FM_ERR_INVALID;
			*out = v * suffixes[i].mult;
			return FM_OK;
		}
	}
	return FM_ERR_INVALID;
}

static char *
resolve_path(const char *base_dir, const char *value)
{
	char *path;
	size_t n;

	if (value[0] == '\0' || value[0] == '/' || base_dir == NULL) {
		path = xstrdup(value);
	} else {
		if (strncmp(value, "./", 2) == 0)
			value += 2;
		path = xasprintf("%s/%s", base_dir, value);
	}
	/* No trailing separator, so "{jobs}/x" never becomes "//x". */
	n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		path[--n] = '\0';
	return path;
}

/*
 * A value starting with "$" is a crypt(3) hash. It is usable when hashing
 * with it as the setting gives a string of the same length and form, which
 * rules out unknown methods (crypt answers "*0") and truncated copies.
 */
static bool
password_hash_usable(const char *hash)
{
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	const char *out = crypt_r("", hash, cd);
	bool ok = out != NULL && out[0] == '$' && strlen(out) == strlen(hash);

	free(cd);
	return ok;
}

/* Set one option from text; *why_out gets a static reason on failure. */
static enum fm_err
option_set(struct fm_config *cfg, const struct option *o, const char *value,
    const char *base_dir, const char **why_out)
{
	int64_t v = 0;
	char *end;

	*why_out = NULL;
	switch (o->type) {
	case OPT_STRING:
		free(*opt_str(cfg, o));
		*opt_str(cfg, o) = xstrdup(value);
		return FM_OK;
	case OPT_PATH:
		free(*opt_str(cfg, o));
		*opt_str(cfg, o) = resolve_path(base_dir, value);
		return FM_OK;
	case OPT_LOGLEVEL:
		if (log_level_parse(value) < 0) {
			*why_out = "expected debug, info, warn or error";
			return FM_ERR_INVALID;
		}
		free(*opt_str(cfg, o));
		*opt_str(cfg, o) = xstrdup(value);
		return FM_OK;
	case OPT_PASSWORD:
		if (value[0] == '$' && !password_hash_usable(value)) {
			*why_out =
			    "starts with \"$\" but is not a complete "
			    "crypt(3) hash (make one with openssl passwd "
			    "-6)";
			return FM_ERR_INVALID;
		}
		free(*opt_str(cfg, o));
		*opt_str(cfg, o) = xstrdup(value);
		return FM_OK;
	case OPT_BOOL:
		if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 ||
		    strcmp(value, "1") == 0) {
			*opt_bool(cfg, o) = true;
		} else if (strcmp(value, "false") == 0 ||
		    strcmp(value, "no") == 0 || strcmp(value, "0") == 0) {
			*opt_bool(cfg, o) = false;
		} else {
			*why_out = "expected true or false";
			return FM_ERR_INVALID;
		}
		return FM_OK;
	case OPT_DURATION:
		if (time_parse_duration(value, &v) != FM_OK) {
			*why_out = "expected a duration such as 10m0s, 30s or "
			           "500ms";
			return FM_ERR_INVALID;
		}
		break;
	case OPT_INT:
		errno = 0;
		v = strtoll(value, &end, 10);
		if (end == value || *end != '\0' || errno != 0) {
			*why_out = "expected a whole number";
			return FM_ERR_INVALID;
		}
		break;
	case OPT_SIZE:
		if (parse_size(value, &v) != FM_OK) {
			*why_out = "expected a size such as 64MiB or 1048576";
			return FM_ERR_INVALID;
		}
		break;
	}
	if (v < o->min || v > o->max) {
		*why_out = "value out of range";
		return FM_ERR_INVALID;
	}
	*opt_int(cfg, o) = v;
	return FM_OK;
}

static struct fm_variable *
variable_get(struct fm_config *cfg, const char *name, bool create)
{
	struct fm_variable *var;

	for (size_t i = 0; i < cfg->nvariables; i++)
		if (strcmp(cfg->variables[i].name, name) == 0)
			return &cfg->variables[i];
	if (!create)
		return NULL;
	cfg->variables = xrealloc(
	    cfg->variables, (cfg->nvariables + 1) * sizeof(*cfg->variables));
	var = &cfg->variables[cfg->nvariables++];
	memset(var, 0, sizeof(*var));
	var->name = xstrdup(name);
	return var;
}

static void
variable_add_value(struct fm_variable *var, const char *platform,
    const char *audience, const char *value)
{
	struct fm_variable_value *vv;

	for (size_t i = 0; i < var->nvalues; i++) {
		vv = &var->values[i];
		if (strcmp(vv->platform, platform) == 0 &&
		    strcmp(vv->audience, audience) == 0) {
			free(vv->value);
			vv->value = xstrdup(value);
			return;
		}
	}
	var->values =
	    xrealloc(var->values, (var->nvalues + 1) * sizeof(*var->values));
	vv = &var->values[var->nvalues++];
	vv->platform = xstrdup(platform);
	vv->audience = xstrdup(audience);
	vv->value = xstrdup(value);
}

static void
variable_clear(struct fm_variable *var)
{
	for (size_t i = 0; i < var->nvalues; i++) {
		free(var->values[i].platform);
		free(var->values[i].audience);
		free(var->values[i].value);
	}
	free(var->values);
	var->values = NULL;
	var->nvalues = 0;
}

static bool
valid_var_name(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

/*
 * "variables.NAME.is_twoway" or "variables.NAME.PLATFORM[.AUDIENCE]".
 * named_in_file tracks which defaults the file has replaced.
 */
static enum fm_err
variable_set(struct fm_config *cfg, const char *key, const char *value,
    char ***named, size_t *nnamed, const char **why_out)
{
	const char *name = key + strlen("variables.");
	const char *dot = strchr(name, '.');
	char *vname, *platform, *audience;
	struct fm_variable *var;
	enum fm_err rc = FM_ERR_INVALID;
	bool seen = false;

	*why_out = "expected variables.NAME.PLATFORM[.AUDIENCE] or "
	           "variables.NAME.is_twoway";
	if (dot == NULL || !valid_var_name(name, (size_t)(dot - name)))
		return FM_ERR_INVALID;
	vname = xstrndup(name, (size_t)(dot - name));
	platform = xstrdup(dot + 1);
	audience = strchr(platform, '.');
	if (audience != NULL)
		*audience++ = '\0';
	if (strcmp(vname, "jobs") == 0) {
		*why_out = "the variable \"jobs\" is implicit (the shared "
		           "storage path) and cannot be configured";
		goto done;
	}
	if (!valid_var_name(platform, strlen(platform)))
		goto done;
	if (audience != NULL && strcmp(audience, "all") != 0 &&
	    strcmp(audience, "workers") != 0 &&
	    strcmp(audience, "users") != 0) {
		*why_out = "audience must be all, workers or users";
		goto done;
	}

	/* The first mention of a default variable replaces its values. */
	for (size_t i = 0; named != NULL && i < *nnamed; i++)
		if (strcmp((*named)[i], vname) == 0)
			seen = true;
	var = variable_get(cfg, vname, true);
	if (!seen && named != NULL) {
		variable_clear(var);
		var->is_twoway = false;
		*named = xrealloc(*named, (*nnamed + 1) * sizeof(**named));
		(*named)[(*nnamed)++] = xstrdup(vname);
	}
	if (strcmp(platform, "is_twoway") == 0 && audience == NULL) {
		if (strcmp(value, "true") == 0) {
			var->is_twoway = true;
		} else if (strcmp(value, "false") == 0) {
			var->is_twoway = false;
		} else {
			*why_out = "expected true or false";
			goto done;
		}
	} else {
		variable_add_value(
		    var, platform, audience != NULL ? audience : "all", value);
	}
	*why_out = NULL;
	rc = FM_OK;
done:
	free(vname);
	free(platform);
	return rc;
}

static char *
trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Strip one pair of matching quotes, so values may keep outer spaces. */
static char *
unquote(char *s)
{
	size_t len = strlen(s);

	if (len >= 2 && (s[0] == '"' || s[0] == '\'') && s[len - 1] == s[0]) {
		s[len - 1] = '\0';
		return s + 1;
	}
	return s;
}

static struct fm_config *
config_defaults(void)
{
	struct fm_config *cfg = xcalloc(1, sizeof(*cfg));
	const char *why;

	for (size_t i = 0; i < nitems(option_table); i++)
		if (option_set(cfg, &option_table[i], option_table[i].def, NULL,
		        &why) != FM_OK)
			FM_ASSERT(!"bad default in option_table");
	for (size_t i = 0; i < nitems(default_variables); i++)
		variable_add_value(
		    variable_get(cfg, default_variables[i].name, true),
		    default_variables[i].platform, "all",
		    default_variables[i].value);
	return cfg;
}

static enum fm_err
config_parse_file(struct fm_config *cfg, FILE *f, const char *path,
    const char *base_dir, char **err_out)
{
	char *line = NULL, **named = NULL;
	size_t cap = 0, nnamed = 0;
	enum fm_err rc = FM_OK;
	int lineno = 0;

	while (getline(&line, &cap, f) >= 0) {
		char *key, *value, *eq;
		const struct option *o;
		const char *why = NULL;

		lineno++;
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (eq == NULL) {
			*err_out = xasprintf(
			    "%s:%d: expected \"key = value\"", path, lineno);
			rc = FM_ERR_INVALID;
			break;
		}
		*eq = '\0';
		key = trim(key);
		value = unquote(trim(eq + 1));
		if (strncmp(key, "variables.", 10) == 0) {
			rc = variable_set(
			    cfg, key, value, &named, &nnamed, &why);
		} else if ((o = option_find(key)) != NULL) {
			rc = option_set(cfg, o, value, base_dir, &why);
		} else {
			why = "unknown key";
			rc = FM_ERR_INVALID;
		}
		if (rc != FM_OK) {
			*err_out =
			    xasprintf("%s:%d: %s: %s", path, lineno, key, why);
			break;
		}
	}
	/* getline also ends on a read error, e.g. when path is a directory. */
	if (rc == FM_OK && ferror(f)) {
		*err_out = xasprintf("%s: %s", path, strerror(errno));
		rc = FM_ERR_IO;
	}
	for (size_t i = 0; i < nnamed; i++)
		free(named[i]);
	free(named);
	free(line);
	return rc;
}

enum fm_err
config_load(const char *path, bool allow_missing, struct fm_config **cfg_out,
    char **err_out)
{
	struct fm_config *cfg = config_defaults();
	char *base_dir = NULL, *dir, *slash;
	enum fm_err rc = FM_OK;
	struct stat st;
	FILE *f = NULL;

	*cfg_out = NULL;
	*err_out = NULL;
	if (path == NULL)
		goto done;
	cfg->path = xstrdup(path);
	f = fopen(path, "r");
	if (f == NULL) {
		if (errno == ENOENT && allow_missing)
			goto done;
		*err_out = xasprintf("%s: %s", path, strerror(errno));
		rc = FM_ERR_IO;
		goto done;
	}
	cfg->file_exists = true;
	/* An absolute base, so every configured path is absolute too. */
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		strcpy(dir, ".");
	else
		slash[slash == dir ? 1 : 0] = '\0';
	base_dir = realpath(dir, NULL);
	free(dir);
	if (base_dir == NULL) {
		*err_out = xasprintf("%s: %s", path, strerror(errno));
		rc = FM_ERR_IO;
		goto done;
	}
	rc = config_parse_file(cfg, f, path, base_dir, err_out);
	if (rc == FM_OK && cfg->admin_password[0] != '\0' &&
	    fstat(fileno(f), &st) == 0 && (st.st_mode & 044) != 0)
		log_warn("%s holds admin_password and other users can read "
		         "it; chmod 600 %s",
		    path, path);
	/*
	 * Defaults the file left out resolve as if the file had them, so
	 * writing the config out and reading it back changes nothing. Values
	 * from the file are absolute already.
	 */
	for (size_t i = 0; rc == FM_OK && i < nitems(option_table); i++) {
		const struct option *o = &option_table[i];
		char **v = opt_str(cfg, o);

		if (o->type == OPT_PATH && (*v)[0] != '/') {
			char *abs = resolve_path(base_dir, *v);

			free(*v);
			*v = abs;
		}
	}
done:
	if (f != NULL)
		fclose(f);
	free(base_dir);
	if (rc != FM_OK) {
		config_free(cfg);
		return rc;
	}
	*cfg_out = cfg;
	return FM_OK;
}

enum fm_err
config_set(
    struct fm_config *cfg, const char *key, const char *value, char **err_out)
{
	const struct option *o = option_find(key);
	const char *why = "unknown key";
	enum fm_err rc;

	*err_out = NULL;
	if (o == NULL) {
		rc = FM_ERR_INVALID;
	} else {
		/* Command-line paths are relative to the working directory. */
		rc = option_set(cfg, o, value, NULL, &why);
	}
	if (rc != FM_OK)
		*err_out = xasprintf("%s: %s", key, why);
	return rc;
}

void
config_free(struct fm_config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < nitems(option_table); i++) {
		const struct option *o = &option_table[i];

		if (o->type == OPT_STRING || o->type == OPT_PATH ||
		    o->type == OPT_LOGLEVEL || o->type == OPT_PASSWORD)
			free(*opt_str(cfg, o));
	}
	for (size_t i = 0; i < cfg->nvariables; i++) {
		variable_clear(&cfg->variables[i]);
		free(cfg->variables[i].name);
	}
	free(cfg->variables);
	free(cfg->path);
	free(atomic_load(&cfg->storage_location));
	free(cfg);
}

static void
option_format(
    struct fm_config *cfg, const struct option *o, char *buf, size_t len)
{
	switch (o->type) {
	case OPT_STRING:
	case OPT_PATH:
	case OPT_LOGLEVEL:
	case OPT_PASSWORD:
		snprintf(buf, len, "%s", *opt_str(cfg, o));
		break;
	case OPT_BOOL:
		snprintf(buf, len, "%s", *opt_bool(cfg, o) ? "true" : "false");
		break;
	case OPT_DURATION:
		time_format_duration(*opt_int(cfg, o), buf, len);
		break;
	case OPT_INT:
	case OPT_SIZE:
		snprintf(buf, len, "%" PRId64, *opt_int(cfg, o));
		break;
	}
}

void
config_print_help(FILE *out)
{
	fprintf(out, "Configuration keys (file syntax: key = value):\n\n");
	for (size_t i = 0; i < nitems(option_table); i++) {
		const struct option *o = &option_table[i];

		fprintf(out, "  %-32s default: %s\n      %s\n", o->name,
		    o->def[0] ? o->def : "(empty)", o->help);
	}
	fprintf(out,
	    "\nVariables, expanded in task commands as {NAME}:\n"
	    "  variables.NAME.PLATFORM[.AUDIENCE] = VALUE\n"
	    "      PLATFORM: linux, windows, darwin, ... or all; "
	    "AUDIENCE: all (default), workers or users\n"
	    "  variables.NAME.is_twoway = true\n"
	    "      two-way: submitted paths are turned back into "
	    "{NAME} and mapped per platform\n"
	    "  Defaults: blender (linux/darwin \"blender\", windows "
	    "\"blender.exe\"), blenderArgs (all \"-b -y\");\n"
	    "  \"jobs\" is implicit: the shared storage path.\n");
}

/*
 * Write a value so that the parser reads it back: quoted when trimming or
 * unquoting would change it.
 */
static void
write_value(FILE *out, const char *v)
{
	size_t len = strlen(v);
	bool quote = len > 0 &&
	    (isspace((unsigned char)v[0]) ||
	        isspace((unsigned char)v[len - 1]) ||
	        (len >= 2 && (v[0] == '"' || v[0] == '\'') &&
	            v[len - 1] == v[0]));

	fprintf(out, quote ? "\"%s\"\n" : "%s\n", v);
}

void
config_write(const struct fm_config *cfg, FILE *out)
{
	struct fm_config *mut = (struct fm_config *)(uintptr_t)cfg;
	char buf[PATH_MAX + 64];

	fprintf(out,
	    "# Flamenco Manager configuration.\n"
	    "# Run \"flamenco-manager --help-config\" for every "
	    "key.\n");
	for (size_t i = 0; i < nitems(option_table); i++) {
		const struct option *o = &option_table[i];

		option_format(mut, o, buf, sizeof(buf));
		fprintf(out, "\n# %s\n%s = ", o->help, o->name);
		write_value(out, buf);
	}
	fprintf(out,
	    "\n# Variables: variables.NAME.PLATFORM[.AUDIENCE] = "
	    "VALUE\n");
	for (size_t i = 0; i < cfg->nvariables; i++) {
		const struct fm_variable *v = &cfg->variables[i];

		if (v->is_twoway)
			fprintf(
			    out, "variables.%s.is_twoway = true\n", v->name);
		for (size_t j = 0; j < v->nvalues; j++) {
			const struct fm_variable_value *vv = &v->values[j];

			if (strcmp(vv->audience, "all") == 0)
				fprintf(out, "variables.%s.%s = ", v->name,
				    vv->platform);
			else
				fprintf(out, "variables.%s.%s.%s = ", v->name,
				    vv->platform, vv->audience);
			write_value(out, vv->value);
		}
	}
}

const struct fm_variable *
config_variable(const struct fm_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nvariables; i++)
		if (strcmp(cfg->variables[i].name, name) == 0)
			return &cfg->variables[i];
	return NULL;
}

const char *
config_shared_storage(const struct fm_config *cfg)
{
	return cfg->shared_storage_path;
}

bool
config_shaman_enabled(const struct fm_config *cfg)
{
	return cfg->shaman_enabled && cfg->shared_storage_path[0] != '\0';
}

const char *
config_storage_location(const struct fm_config *cfg)
{
	struct fm_config *mut = (struct fm_config *)(uintptr_t)cfg;
	char *loc, *expected = NULL;

	if (!config_shaman_enabled(cfg))
		return cfg->shared_storage_path;
	if ((loc = atomic_load(&mut->storage_location)) != NULL)
		return loc;
	/* Made on first use; a thread that loses the race frees its copy. */
	loc = xasprintf("%s/jobs",
	    strcmp(cfg->shared_storage_path, "/") == 0
	        ? ""
	        : cfg->shared_storage_path);
	if (!atomic_compare_exchange_strong(
	        &mut->storage_location, &expected, loc)) {
		free(loc);
		loc = expected;
	}
	return loc;
}

/* config_to_json, with the OPTF_SECRET options when secrets is set. */
static json_t *
config_json(const struct fm_config *cfg, bool secrets)
{
	struct fm_config *mut = (struct fm_config *)(uintptr_t)cfg;
	json_t *out = json_pack("{s:{s:i}}", "_meta", "version", 3);
	json_t *vars = json_object();
	char buf[PATH_MAX + 64];

	for (size_t i = 0; i < nitems(option_table); i++) {
		const struct option *o = &option_table[i];
		json_t *v = NULL;

		if ((o->flags & OPTF_SECRET) && !secrets)
			continue;
		switch (o->type) {
		case OPT_BOOL:
			v = json_boolean(*opt_bool(mut, o));
			break;
		case OPT_INT:
		case OPT_SIZE:
			v = json_integer(*opt_int(mut, o));
			break;
		case OPT_STRING:
		case OPT_PATH:
		case OPT_LOGLEVEL:
		case OPT_PASSWORD:
		case OPT_DURATION:
			option_format(mut, o, buf, sizeof(buf));
			v = json_string(buf);
			break;
		}
		json_object_set_new(out, o->name, v);
	}
	for (size_t i = 0; i < cfg->nvariables; i++) {
		const struct fm_variable *var = &cfg->variables[i];
		json_t *values = json_array();

		for (size_t j = 0; j < var->nvalues; j++)
			json_array_append_new(values,
			    json_pack("{s:s, s:s, s:s}", "platform",
			        var->values[j].platform, "audience",
			        var->values[j].audience, "value",
			        var->values[j].value));
		json_object_set_new(vars, var->name,
		    json_pack("{s:b, s:o}", "is_twoway", var->is_twoway,
		        "values", values));
	}
	json_object_set_new(out, "variables", vars);
	return out;
}

json_t *
config_to_json(const struct fm_config *cfg)
{
	return config_json(cfg, false);
}

/* One JSON option value as the text the parser takes. */
static bool
json_option_text(const json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		return (size_t)snprintf(buf, len, "%s", json_string_value(v)) <
		    len;
	if (json_is_integer(v))
		return (size_t)snprintf(buf, len, "%" JSON_INTEGER_FORMAT,
		           json_integer_value(v)) < len;
	if (json_is_boolean(v))
		return (size_t)snprintf(buf, len, "%s",
		           json_is_true(v) ? "true" : "false") < len;
	return false;
}

static enum fm_err
json_variables(struct fm_config *cfg, const json_t *vars, char **err_out)
{
	const char *name;
	json_t *var;

	/* The JSON names every variable: forget the defaults. */
	for (size_t i = 0; i < cfg->nvariables; i++) {
		variable_clear(&cfg->variables[i]);
		free(cfg->variables[i].name);
	}
	cfg->nvariables = 0;
	json_object_foreach ((json_t *)(uintptr_t)vars, name, var) {
		json_t *values = json_object_get(var, "values");
		struct fm_variable *v;
		size_t i;
		json_t *val;

		if (!valid_var_name(name, strlen(name)) ||
		    strcmp(name, "jobs") == 0 || !json_is_array(values)) {
			*err_out = xasprintf("variables.%s: expected a valid "
			                     "name with a \"values\" array",
			    name);
			return FM_ERR_INVALID;
		}
		v = variable_get(cfg, name, true);
		v->is_twoway = json_is_true(json_object_get(var, "is_twoway"));
		json_array_foreach (values, i, val) {
			const char *plat =
			    json_string_value(json_object_get(val, "platform"));
			const char *aud =
			    json_string_value(json_object_get(val, "audience"));
			const char *value =
			    json_string_value(json_object_get(val, "value"));

			if (aud == NULL || aud[0] == '\0')
				aud = "all";
			if (plat == NULL || value == NULL ||
			    !valid_var_name(plat, strlen(plat)) ||
			    (strcmp(aud, "all") != 0 &&
			        strcmp(aud, "workers") != 0 &&
			        strcmp(aud, "users") != 0) ||
			    strchr(value, '\n') != NULL) {
				*err_out = xasprintf("variables.%s: each value "
				                     "needs a platform, an "
				                     "audience (all, workers, "
				                     "users) and a one-line "
				                     "value",
				    name);
				return FM_ERR_INVALID;
			}
			variable_add_value(v, plat, aud, value);
		}
	}
	return FM_OK;
}

enum fm_err
config_from_json(const json_t *j, const char *base_dir,
    struct fm_config **cfg_out, char **err_out)
{
	struct fm_config *cfg = config_defaults();
	const json_t *meta = json_object_get(j, "_meta");
	enum fm_err rc = FM_OK;
	char buf[PATH_MAX + 64];
	const char *key;
	json_t *v;

	*cfg_out = NULL;
	*err_out = NULL;
	if (!json_is_object(j)) {
		*err_out = xstrdup("expected a JSON object");
		rc = FM_ERR_INVALID;
		goto done;
	}
	if (meta != NULL &&
	    json_integer_value(json_object_get(meta, "version")) != 3) {
		*err_out = xstrdup("_meta.version must be 3");
		rc = FM_ERR_INVALID;
		goto done;
	}
	json_object_foreach ((json_t *)(uintptr_t)j, key, v) {
		const struct option *o;
		const char *why = NULL;

		if (strcmp(key, "_meta") == 0)
			continue;
		if (strcmp(key, "variables") == 0) {
			rc = json_is_object(v) ? json_variables(cfg, v, err_out)
			                       : FM_ERR_INVALID;
			if (rc != FM_OK && *err_out == NULL)
				*err_out = xstrdup("variables: expected an "
				                   "object");
		} else if ((o = option_find(key)) == NULL) {
			*err_out = xasprintf("%s: unknown key", key);
			rc = FM_ERR_INVALID;
		} else if (!json_option_text(v, buf, sizeof(buf)) ||
		    strchr(buf, '\n') != NULL) {
			*err_out = xasprintf("%s: expected a one-line string, "
			                     "a number or a boolean",
			    key);
			rc = FM_ERR_INVALID;
		} else if ((rc = option_set(cfg, o, buf, base_dir, &why)) !=
		    FM_OK) {
			*err_out = xasprintf("%s: %s", key, why);
		}
		if (rc != FM_OK)
			goto done;
	}
done:
	if (rc != FM_OK) {
		config_free(cfg);
		return rc;
	}
	*cfg_out = cfg;
	return FM_OK;
}

/* A name list for one error message: each name once, in order found. */
struct names {
	char **v;
	size_t n;
};

static void
names_add(struct names *ns, char *name /* steals */)
{
	for (size_t i = 0; i < ns->n; i++) {
		if (strcmp(ns->v[i], name) == 0) {
			free(name);
			return;
		}
	}
	ns->v = xrealloc(ns->v, (ns->n + 1) * sizeof(*ns->v));
	ns->v[ns->n++] = name;
}

/* Absent, null or "": what leaving a setting out or emptying it sends. */
static bool
json_empty(const json_t *v)
{
	return v == NULL || json_is_null(v) ||
	    (json_is_string(v) && json_string_length(v) == 0);
}

/*
 * Add to ns every setting of cfg that the document j would drop: an
 * OPTF_PROTECTED option cfg has a value for that j leaves out or empties,
 * and a variable of cfg with values that j's "variables" leaves out or
 * sends with no values. A variable sent as null is removed on purpose.
 */
static void
find_dropped(const struct fm_config *cfg, const json_t *j, struct names *ns)
{
	struct fm_config *mut = (struct fm_config *)(uintptr_t)cfg;
	const json_t *vars = json_object_get(j, "variables");

	for (size_t i = 0; i < nitems(option_table); i++) {
		const struct option *o = &option_table[i];

		if (!(o->flags & OPTF_PROTECTED))
			continue;
		FM_ASSERT(o->type == OPT_STRING || o->type == OPT_PATH);
		if ((*opt_str(mut, o))[0] != '\0' &&
		    json_empty(json_object_get(j, o->name)))
			names_add(ns, xstrdup(o->name));
	}
	for (size_t i = 0; i < cfg->nvariables; i++) {
		const struct fm_variable *var = &cfg->variables[i];
		const json_t *jv = json_object_get(vars, var->name);
		const json_t *values = json_object_get(jv, "values");

		if (var->nvalues == 0 || json_is_null(jv))
			continue;
		if (jv == NULL ||
		    (json_is_array(values) && json_array_size(values) == 0))
			names_add(ns, xasprintf("variables.%s", var->name));
	}
}

enum fm_err
config_update_json(const struct fm_config *running,
    const struct fm_config *on_disk, const json_t *j, const char *base_dir,
    struct fm_config **cfg_out, char **err_out)
{
	const struct fm_config *base = on_disk != NULL ? on_disk : running;
	struct names dropped = { NULL, 0 };
	struct fm_config *cfg = NULL;
	json_t *merged = NULL, *v, *var, *vars;
	const char *key, *name;
	char *list = NULL;
	enum fm_err rc;

	*cfg_out = NULL;
	*err_out = NULL;
	if (!json_is_object(j)) {
		*err_out = xstrdup("expected a JSON object");
		return FM_ERR_INVALID;
	}

	/* Keys j leaves out keep base's values; its variables replace all. */
	merged = config_json(base, true);
	json_object_foreach ((json_t *)(uintptr_t)j, key, v) {
		if (strcmp(key, "variables") != 0 || !json_is_object(v)) {
			json_object_set(merged, key, v);
			continue;
		}
		vars = json_object();
		json_object_foreach (v, name, var)
			if (!json_is_null(var))
				json_object_set(vars, name, var);
		json_object_set_new(merged, "variables", vars);
	}
	if ((rc = config_from_json(merged, base_dir, &cfg, err_out)) != FM_OK)
		goto done;

	find_dropped(running, j, &dropped);
	if (on_disk != NULL)
		find_dropped(on_disk, j, &dropped);
	if (dropped.n > 0) {
		list = xstrdup(dropped.v[0]);
		for (size_t i = 1; i < dropped.n; i++) {
			char *longer = xasprintf("%s, %s", list, dropped.v[i]);

			free(list);
			list = longer;
		}
		*err_out =
		    xasprintf("refusing a configuration that leaves out "
		              "or empties settings the farm's data "
		              "depends on: %s. Send their current values "
		              "(GET /api/v3/configuration/file) to keep "
		              "them, new values to change them on "
		              "purpose, a variable as null to remove it",
		        list);
		rc = FM_ERR_INVALID;
		goto done;
	}
	*cfg_out = cfg;
	cfg = NULL;
done:
	for (size_t i = 0; i < dropped.n; i++)
		free(dropped.v[i]);
	free(dropped.v);
	free(list);
	config_free(cfg);
	json_decref(merged);
	return rc;
}

/*
 * Read a whole file (new buffer) and its mode; FM_ERR_NOTFOUND when it
 * does not exist, FM_ERR_IO with errno set on other failures.
 */
static enum fm_err
read_whole(const char *path, char **buf_out, size_t *len_out, mode_t *mode_out)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	struct stat st;
	ssize_t n;
	int fd, saved;

	*buf_out = NULL;
	*len_out = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? FM_ERR_NOTFOUND : FM_ERR_IO;
	if (fstat(fd, &st) != 0)
		goto fail;
	for (;;) {
		if (cap - len < 4096) {
			cap = cap * 2 + 4096;
			buf = xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	*buf_out = buf;
	*len_out = len;
	*mode_out = st.st_mode & 07777;
	return FM_OK;
fail:
	/* errno stays the failure's, for the caller's message. */
	saved = errno;
	close(fd);
	free(buf);
	errno = saved;
	return FM_ERR_IO;
}

/*
 * Make path hold exactly data, with the given mode, atomically: a unique
 * temporary file beside it, flushed to disk, renamed over it.
 */
static enum fm_err
write_atomic(
    const char *path, const char *data, size_t len, mode_t mode, char **err_out)
{
	char *tmp = xasprintf("%s~XXXXXX", path);
	enum fm_err rc = FM_ERR_IO;
	const char *failed = tmp;
	size_t off = 0;
	ssize_t n;
	int fd;

	if ((fd = mkstemp(tmp)) < 0) {
		*err_out = xasprintf("%s: %s", tmp, strerror(errno));
		free(tmp);
		return FM_ERR_IO;
	}
	if (fchmod(fd, mode) != 0)
		goto done;
	while (off < len) {
		n = write(fd, data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto done;
		off += (size_t)n;
	}
	/* On disk before the rename makes it the real file. */
	if (fsync(fd) != 0)
		goto done;
	if (close(fd) != 0) {
		fd = -1;
		goto done;
	}
	fd = -1;
	failed = path;
	if (rename(tmp, path) != 0)
		goto done;
	rc = FM_OK;
done:
	if (rc != FM_OK) {
		*err_out = xasprintf("%s: %s", failed, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

enum fm_err
config_save(const struct fm_config *cfg, const char *path, char **backup_out,
    char **err_out)
{
	char *old = NULL, *text = NULL, *bak = NULL;
	size_t old_len = 0, text_len = 0;
	mode_t mode = 0644;
	enum fm_err rc;
	FILE *f;

	*backup_out = NULL;
	*err_out = NULL;
	rc = read_whole(path, &old, &old_len, &mode);
	if (rc == FM_ERR_IO) {
		*err_out = xasprintf("%s: %s", path, strerror(errno));
		goto done;
	}
	if (rc == FM_OK) {
		/* The old file first: never replace it without a copy. */
		bak = xasprintf("%s.bak", path);
		if ((rc = write_atomic(bak, old, old_len, mode, err_out)) !=
		    FM_OK)
			goto done;
	}
	/* A password is for the Manager's user only. */
	if (cfg->admin_password != NULL && cfg->admin_password[0] != '\0')
		mode &= (mode_t)~077;
	f = open_memstream(&text, &text_len);
	if (f == NULL) {
		*err_out = xasprintf("%s: %s", path, strerror(errno));
		rc = FM_ERR_IO;
		goto done;
	}
	config_write(cfg, f);
	fclose(f);
	if ((rc = write_atomic(path, text, text_len, mode, err_out)) != FM_OK)
		goto done;
	*backup_out = bak;
	bak = NULL;
done:
	free(old);
	free(text);
	free(bak);
	return rc;
}
