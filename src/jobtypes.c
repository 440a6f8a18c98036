/*
 * Job-type registry. A watcher thread owned by the registry reads the
 * built-in scripts and the scripts_path directory at start-up, then
 * rescans the directory once per rescan interval (stat only; a file is
 * read, down-levelled and described again only when its size, mtime or
 * inode changed). A scan that changed anything publishes a new immutable
 * snapshot; requests only take a reference to the last one under a short
 * mutex, so none ever waits for a script to load (a 7 MB script takes
 * seconds to down-level).
 */
#include "jobtypes.h"

#include <dirent.h>
#include <malloc.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "embedded.h"
#include "gojson.h"
#include "jobc.h"
#include "jobdeps.h"
#include "jsenv.h"
#include "log.h"
#include "openjd_template.h"
#include "sha1.h"
#include "timeutil.h"
#include "xmalloc.h"

#define MIN_SCRIPT_SIZE 8 /* shorter files cannot define a job type */
#define MAX_SCRIPT_SIZE (8 << 20)
#define READY_WAIT_US   (30 * 1000000LL)

/* A script file on disk as last seen, with what it compiled to. */
struct disk_entry {
	char *path;
	struct stat st;
	struct jobtype *type; /* NULL when it failed to load */
};

struct snapshot {
	struct jobtype **types; /* sorted by name */
	size_t ntypes;
	char *list_json;
	size_t list_len;
	atomic_int refs;
};

struct jobtypes {
	char *scripts_path;
	struct jobc *jobc;
	int64_t rescan_interval_us;

	pthread_mutex_t lock; /* guards current, ready, stopping */
	pthread_cond_t ready_cond;
	pthread_cond_t stop_cond; /* monotonic clock */
	struct snapshot *current;
	bool ready;
	bool stopping;
	pthread_t watcher;
	bool watcher_running;

	/* The watcher's own (no lock): what it loaded. */
	struct jobtype **builtins;
	size_t nbuiltins;
	struct disk_entry *disk;
	size_t ndisk;
	bool scanned; /* scripts_path was read at least once */
};

static const char *const setting_keys[] = {
	"choices",
	"default",
	"description",
	"editable",
	"eval",
	"evalInfo",
	"key",
	"label",
	"propargs",
	"required",
	"subtype",
	"type",
	"visible",
};

/* ---- job types ---------------------------------------------------- */

static void
jobtype_ref(struct jobtype *t)
{
	__atomic_add_fetch(&t->refs, 1, __ATOMIC_RELAXED);
}

void
jobtype_release(struct jobtype *t)
{
	if (t == NULL || __atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	free(t->name);
	free(t->filename);
	free(t->es5);
	openjd_free(t->tmpl);
	json_decref(t->info);
	free(t);
}

/* Only what the AvailableJobSetting schema knows; nulls dropped. */
static json_t *
filter_setting(const json_t *in)
{
	json_t *out = json_object();

	for (size_t i = 0; i < nitems(setting_keys); i++) {
		json_t *v = json_object_get(in, setting_keys[i]);

		if (v == NULL || json_is_null(v))
			continue;
		if (strcmp(setting_keys[i], "evalInfo") == 0 &&
		    json_is_object(v)) {
			json_t *ei = json_object();
			json_t *d = json_object_get(v, "description");
			json_t *b = json_object_get(v, "showLinkButton");

			json_object_set_new(ei, "description",
			    json_is_string(d) ? json_incref(d)
			                      : json_string(""));
			json_object_set_new(ei, "showLinkButton",
			    json_boolean(json_is_true(b)));
			json_object_set_new(out, "evalInfo", ei);
			continue;
		}
		json_object_set(out, setting_keys[i], v);
	}
	return out;
}

json_t *
jobtypes_info_from_js(const char *name, const json_t *job_type)
{
	const json_t *label = json_object_get(job_type, "label");
	const json_t *desc = json_object_get(job_type, "description");
	json_t *settings = json_array(), *info;
	size_t i;
	json_t *s;

	json_array_foreach (json_object_get(job_type, "settings"), i, s)
		if (json_is_object(s))
			json_array_append_new(settings, filter_setting(s));
	/* Strings are shared, not copied as C strings: whole even with a
	 * NUL character. */
	info = json_pack("{s:s, s:o, s:o, s:s}", "name", name, "label",
	    json_is_string(label) ? json_incref((json_t *)(uintptr_t)label)
	                          : json_string(name),
	    "settings", settings, "etag", "");
	if (json_is_string(desc))
		json_object_set(info, "description", (json_t *)(uintptr_t)desc);
	return info;
}

void
jobtypes_etag(const json_t *info, char etag[41])
{
	json_t *copy = json_deep_copy(info);
	char *text;

	json_object_set_new(copy, "etag", json_string(""));
	text = gojson_encode(copy);
	sha1_hex(text, strlen(text), etag);
	free(text);
	json_decref(copy);
}

char *
jobtypes_name_from_file(const char *path)
{
	const char *base = strrchr(path, '/');
	char *name;

	base = base ? base + 1 : path;
	name = xstrndup(base,
	    strrchr(base, '.') ? (size_t)(strrchr(base, '.') - base)
	                       : strlen(base));
	for (char *p = name; *p != '\0'; p++)
		if (*p == '_')
			*p = '-';
	return name;
}

bool
jobtypes_is_type_file(const char *path)
{
	static const char *const exts[] = { ".js", ".yaml", ".yml", ".json" };
	size_t len = strlen(path);

	for (size_t i = 0; i < nitems(exts); i++) {
		size_t n = strlen(exts[i]);

		if (len > n && strcmp(path + len - n, exts[i]) == 0)
			return true;
	}
	return false;
}

static bool
is_js(const char *filename)
{
	size_t len = strlen(filename);

	return len > 3 && strcmp(filename + len - 3, ".js") == 0;
}

/*
 * Load an OpenJD template; NULL when it fails (logged like a broken
 * script) or when the file is not a template at all (debug only).
 */
static struct jobtype *
template_load(const char *filename, const char *src)
{
	struct openjd_template *tmpl = NULL;
	struct jobtype *t;
	char *err = NULL;
	enum fm_err rc;

	rc = openjd_load(filename, src, strlen(src), &tmpl, &err);
	if (rc == FM_ERR_NOTFOUND) {
		log_debug("%s is not an OpenJD job template", filename);
		return NULL;
	}
	if (rc != FM_OK) {
		log_warn("job type %s skipped: %s", filename,
		    err ? err : fm_strerror(rc));
		free(err);
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	t->refs = 1;
	t->name = jobtypes_name_from_file(filename);
	t->filename = xstrdup(filename);
	t->tmpl = tmpl;
	t->info = openjd_info(tmpl, t->name);
	jobtypes_etag(t->info, t->etag);
	json_object_set_new(t->info, "etag", json_string(t->etag));
	log_debug("job type %s loaded from template %s (etag %s)", t->name,
	    filename, t->etag);
	return t;
}

/*
 * JOB_TYPE.dependencyMode: true for "overlap". Anything but "strict" or
 * "overlap" (or absent) is warned about and read as "strict", so a typo
 * does not pass silently.
 */
static bool
deps_mode_of(const char *filename, const json_t *js_type)
{
	const json_t *mode = json_object_get(js_type, "dependencyMode");
	bool overlap = false;

	if (mode != NULL &&
	    (!json_is_string(mode) ||
	        !jobdeps_parse_mode(json_string_value(mode), &overlap))) {
		log_warn("job type %s: dependencyMode must be \"strict\" or "
		         "\"overlap\"; using \"strict\"",
		    filename);
		return false;
	}
	return overlap;
}

/*
 * Load one script; NULL (logged) when it fails. *retry_out (may be
 * NULL) is set when the failure was passing (no compiler heap free),
 * so the file is tried again at the next scan.
 */
static struct jobtype *
jobtype_load(
    struct jobc *jobc, const char *filename, const char *src, bool *retry_out)
{
	struct jobtype *t = NULL;
	char *es5 = NULL, *err = NULL;
	json_t *js_type = NULL;
	enum fm_err rc;

	if (retry_out != NULL)
		*retry_out = false;
	if (!is_js(filename))
		return template_load(filename, src);
	if ((rc = jobc_transpile(jobc, src, filename, &es5, &err)) != FM_OK ||
	    (rc = jobc_describe(jobc, es5, filename, &js_type, &err)) !=
	        FM_OK) {
		log_warn("job type %s skipped: %s", filename,
		    err ? err : fm_strerror(rc));
		if (retry_out != NULL)
			*retry_out = rc == FM_ERR_BUSY;
		goto done;
	}
	t = xcalloc(1, sizeof(*t));
	t->refs = 1;
	t->name = jobtypes_name_from_file(filename);
	t->filename = xstrdup(filename);
	t->es5 = es5;
	es5 = NULL;
	t->info = jobtypes_info_from_js(t->name, js_type);
	t->deps_overlap = deps_mode_of(filename, js_type);
	jobtypes_etag(t->info, t->etag);
	json_object_set_new(t->info, "etag", json_string(t->etag));
	log_debug(
	    "job type %s loaded from %s (etag %s)", t->name, filename, t->etag);
done:
	free(es5);
	free(err);
	json_decref(js_type);
	return t;
}

/* ---- snapshots ---------------------------------------------------- */

static void
snapshot_release(struct snapshot *s)
{
	if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	for (size_t i = 0; i < s->ntypes; i++)
		jobtype_release(s->types[i]);
	free(s->types);
	free(s->list_json);
	free(s);
}

static int
type_cmp(const void *a, const void *b)
{
	return strcmp((*(struct jobtype *const *)a)->name,
	    (*(struct jobtype *const *)b)->name);
}

/* Add t unless a type of that name is already there (earlier wins):
 * NULL, or the type that won. */
static const struct jobtype *
snapshot_add(struct snapshot *s, struct jobtype *t)
{
	for (size_t i = 0; i < s->ntypes; i++)
		if (strcmp(s->types[i]->name, t->name) == 0)
			return s->types[i];
	s->types = xrealloc(s->types, (s->ntypes + 1) * sizeof(*s->types));
	jobtype_ref(t);
	s->types[s->ntypes++] = t;
	return NULL;
}

/* Build a snapshot from the disk entries (first) and the built-ins. */
static struct snapshot *
snapshot_build(struct jobtypes *reg)
{
	struct snapshot *s = xcalloc(1, sizeof(*s));
	json_t *list = json_array(), *body;

	atomic_init(&s->refs, 1);
	for (size_t i = 0; i < reg->ndisk; i++) {
		const struct jobtype *won;

		if (reg->disk[i].type == NULL)
			continue;
		/* foo.js and foo.yaml both name "foo": say which is used. */
		won = snapshot_add(s, reg->disk[i].type);
		if (won != NULL)
			log_warn("job type %s: %s and %s both define it; %s is "
			         "used (the first by file name)",
			    won->name, won->filename,
			    reg->disk[i].type->filename, won->filename);
	}
	for (size_t i = 0; i < reg->nbuiltins; i++)
		(void)snapshot_add(s, reg->builtins[i]);
	if (s->ntypes > 1)
		qsort(s->types, s->ntypes, sizeof(*s->types), type_cmp);
	for (size_t i = 0; i < s->ntypes; i++)
		json_array_append(list, s->types[i]->info);
	body = json_pack("{s:o}", "job_types", list);
	s->list_json = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	s->list_len = strlen(s->list_json);
	return s;
}

static void
publish(struct jobtypes *reg, struct snapshot *s)
{
	struct snapshot *old;

	pthread_mutex_lock(&reg->lock);
	old = reg->current;
	reg->current = s;
	if (!reg->ready) {
		reg->ready = true;
		pthread_cond_broadcast(&reg->ready_cond);
	}
	pthread_mutex_unlock(&reg->lock);
	snapshot_release(old);
}

/* ---- scanning ----------------------------------------------------- */

/* The script's text (new); NULL (logged) when unreadable or when it
 * holds a NUL byte, which would cut it short. */
static char *
read_file(const char *path, const struct stat *st)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL) {
		log_warn("job type %s skipped: %s", path, strerror(errno));
		return NULL;
	}
	buf = xmalloc((size_t)st->st_size + 1);
	n = fread(buf, 1, (size_t)st->st_size, f);
	fclose(f);
	buf[n] = '\0';
	if (memchr(buf, '\0', n) != NULL) {
		log_warn(
		    "job type %s skipped: the file holds a NUL byte", path);
		free(buf);
		return NULL;
	}
	return buf;
}

static bool
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static struct disk_entry *
find_disk(struct jobtypes *reg, const char *path)
{
	for (size_t i = 0; i < reg->ndisk; i++)
		if (strcmp(reg->disk[i].path, path) == 0)
			return &reg->disk[i];
	return NULL;
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* True once jobtypes_free asked the watcher to stop. */
static bool
stopping(struct jobtypes *reg)
{
	bool stop;

	pthread_mutex_lock(&reg->lock);
	stop = reg->stopping;
	pthread_mutex_unlock(&reg->lock);
	return stop;
}

/* Rescan scripts_path; returns true when anything changed. Watcher only. */
static bool
scan_dir(struct jobtypes *reg)
{
	struct disk_entry *fresh = NULL;
	size_t nfresh = 0, npaths = 0;
	char **paths = NULL;
	bool changed = false;
	struct dirent *de;
	DIR *dir;

	if (reg->scripts_path[0] == '\0')
		return false;
	dir = opendir(reg->scripts_path);
	if (dir == NULL) {
		if (reg->ndisk > 0 || !reg->scanned)
			log_warn("scripts_path %s: %s", reg->scripts_path,
			    strerror(errno));
	} else {
		while ((de = readdir(dir)) != NULL) {
			size_t len = strlen(de->d_name);

			if (len < 4 || de->d_name[0] == '.' ||
			    !jobtypes_is_type_file(de->d_name))
				continue;
			paths = xrealloc(paths, (npaths + 1) * sizeof(*paths));
			paths[npaths++] =
			    xasprintf("%s/%s", reg->scripts_path, de->d_name);
		}
		closedir(dir);
	}
	if (npaths > 1)
		qsort(paths, npaths, sizeof(*paths), str_cmp);
	for (size_t i = 0; i < npaths; i++) {
		struct disk_entry *old = find_disk(reg, paths[i]);
		struct disk_entry e = { paths[i], { 0 }, NULL };
		char *src;

		paths[i] = NULL;
		/* stat follows symlinks: a link to a script is a script. */
		if (stat(e.path, &e.st) != 0 || !S_ISREG(e.st.st_mode) ||
		    e.st.st_size < MIN_SCRIPT_SIZE ||
		    e.st.st_size > MAX_SCRIPT_SIZE) {
			free(e.path);
			continue;
		}
		if (old != NULL && same_file(&old->st, &e.st)) {
			e.type = old->type;
			old->type = NULL;
		} else if (stopping(reg)) {
			/* Shutting down: load nothing more. */
			memset(&e.st, 0, sizeof(e.st));
		} else {
			bool retry = false;

			changed = true;
			src = read_file(e.path, &e.st);
			if (src != NULL)
				e.type = jobtype_load(
				    reg->jobc, e.path, src, &retry);
			free(src);
			if (e.type != NULL)
				log_info("job type %s loaded from %s",
				    e.type->name, e.path);
			/* Not seen: tried again at the next scan. */
			if (retry)
				memset(&e.st, 0, sizeof(e.st));
		}
		fresh = xrealloc(fresh, (nfresh + 1) * sizeof(*fresh));
		fresh[nfresh++] = e;
	}
	if (nfresh != reg->ndisk)
		changed = true;
	for (size_t i = 0; i < reg->ndisk; i++) {
		jobtype_release(reg->disk[i].type);
		free(reg->disk[i].path);
	}
	free(reg->disk);
	free(paths);
	reg->disk = fresh;
	reg->ndisk = nfresh;
	reg->scanned = true;
	return changed;
}

static void
load_builtins(struct jobtypes *reg)
{
	for (size_t i = 0; i < embedded_scripts_count; i++) {
		const struct embedded_file *f = &embedded_scripts[i];
		struct jobtype *t;

		if (f->len < MIN_SCRIPT_SIZE)
			continue;
		t = jobtype_load(
		    reg->jobc, f->name, (const char *)f->data, NULL);
		if (t == NULL)
			continue;
		reg->builtins = xrealloc(reg->builtins,
		    (reg->nbuiltins + 1) * sizeof(*reg->builtins));
		reg->builtins[reg->nbuiltins++] = t;
	}
}

/*
 * Wait out one rescan interval; false when asked to stop meanwhile.
 */
static bool
wait_interval(struct jobtypes *reg)
{
	struct timespec until;
	bool stop;

	until = time_deadline(CLOCK_MONOTONIC, reg->rescan_interval_us);
	pthread_mutex_lock(&reg->lock);
	while (!reg->stopping &&
	    pthread_cond_timedwait(&reg->stop_cond, &reg->lock, &until) == 0)
		;
	stop = reg->stopping;
	pthread_mutex_unlock(&reg->lock);
	return !stop;
}

/*
 * The watcher: load everything, publish, then rescan scripts_path once
 * per interval until jobtypes_free, publishing a new snapshot when a
 * scan changed anything. All loading happens here.
 */
static void *
watcher_main(void *arg)
{
	struct jobtypes *reg = arg;
	int64_t t0 = time_mono_us();
	struct snapshot *s;

	load_builtins(reg);
	scan_dir(reg);
	s = snapshot_build(reg);
	log_info("job types ready in %lld ms: %zu types",
	    (long long)((time_mono_us() - t0) / 1000), s->ntypes);
	publish(reg, s);
	/* The transpiler heap holds buble and core-js (megabytes); scripts
	 * rarely change, so let it go and pay its set-up again then. */
	jsenv_transpile_shutdown();
	malloc_trim(0);
	if (reg->scripts_path[0] == '\0')
		return NULL;
	while (wait_interval(reg)) {
		if (!scan_dir(reg))
			continue;
		publish(reg, snapshot_build(reg));
		jsenv_transpile_shutdown();
		malloc_trim(0);
	}
	return NULL;
}

/* ---- public ------------------------------------------------------- */

struct jobtypes *
jobtypes_new(
    const char *scripts_path, struct jobc *jobc, int64_t rescan_interval_us)
{
	struct jobtypes *reg = xcalloc(1, sizeof(*reg));
	reg->scripts_path = xstrdup(scripts_path ? scripts_path : "");
	reg->jobc = jobc;
	reg->rescan_interval_us =
	    rescan_interval_us > 0 ? rescan_interval_us : 1000000;
	pthread_mutex_init(&reg->lock, NULL);
	pthread_cond_init(&reg->ready_cond, NULL);
	time_cond_init_mono(&reg->stop_cond);
	if (pthread_create(&reg->watcher, NULL, watcher_main, reg) != 0)
		fatal("cannot start the job-type watcher thread");
	reg->watcher_running = true;
	return reg;
}

void
jobtypes_free(struct jobtypes *reg)
{
	if (reg == NULL)
		return;
	pthread_mutex_lock(&reg->lock);
	reg->stopping = true;
	pthread_cond_broadcast(&reg->stop_cond);
	pthread_mutex_unlock(&reg->lock);
	/* A large script may be down-levelling (seconds): stop it. */
	jsenv_transpile_cancel();
	if (reg->watcher_running)
		pthread_join(reg->watcher, NULL);
	jsenv_transpile_shutdown();
	snapshot_release(reg->current);
	for (size_t i = 0; i < reg->ndisk; i++) {
		jobtype_release(reg->disk[i].type);
		free(reg->disk[i].path);
	}
	free(reg->disk);
	for (size_t i = 0; i < reg->nbuiltins; i++)
		jobtype_release(reg->builtins[i]);
	free(reg->builtins);
	pthread_mutex_destroy(&reg->lock);
	pthread_cond_destroy(&reg->ready_cond);
	pthread_cond_destroy(&reg->stop_cond);
	free(reg->scripts_path);
	free(reg);
}

enum fm_err
jobtypes_wait_ready(struct jobtypes *reg, int64_t timeout_us)
{
	struct timespec deadline;
	enum fm_err rc = FM_OK;

	deadline = time_deadline(CLOCK_REALTIME, timeout_us);
	pthread_mutex_lock(&reg->lock);
	while (!reg->ready && rc == FM_OK)
		if (pthread_cond_timedwait(
		        &reg->ready_cond, &reg->lock, &deadline) != 0)
			rc = reg->ready ? FM_OK : FM_ERR_TIMEOUT;
	pthread_mutex_unlock(&reg->lock);
	return rc;
}

static struct snapshot *
snapshot_get(struct jobtypes *reg)
{
	struct snapshot *s;

	/* Requests arriving during start-up wait for the first load;
	 * later ones take the last snapshot, never loading anything. */
	if (jobtypes_wait_ready(reg, READY_WAIT_US) != FM_OK)
		return NULL;
	pthread_mutex_lock(&reg->lock);
	s = reg->current;
	if (s != NULL)
		atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&reg->lock);
	return s;
}

enum fm_err
jobtypes_list_json(struct jobtypes *reg, char **text_out, size_t *len_out)
{
	struct snapshot *s = snapshot_get(reg);

	*text_out = NULL;
	*len_out = 0;
	if (s == NULL)
		return FM_ERR_BUSY;
	*text_out = xstrndup(s->list_json, s->list_len);
	*len_out = s->list_len;
	snapshot_release(s);
	return FM_OK;
}

enum fm_err
jobtypes_get(struct jobtypes *reg, const char *name, struct jobtype **type_out)
{
	struct snapshot *s = snapshot_get(reg);
	enum fm_err rc = FM_ERR_NOTFOUND;

	*type_out = NULL;
	if (s == NULL)
		return FM_ERR_BUSY;
	for (size_t i = 0; i < s->ntypes; i++) {
		if (strcmp(s->types[i]->name, name) == 0) {
			jobtype_ref(s->types[i]);
			*type_out = s->types[i];
			rc = FM_OK;
			break;
		}
	}
	snapshot_release(s);
	return rc;
}
