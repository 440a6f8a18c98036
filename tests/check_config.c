/*
 * Tests for config.c: defaults (the option table and Flamenco's own), the file
 * syntax, error messages with file and line, value checks, path resolution,
 * variables, command-line overrides, and that config_write and
 * config_print_help cover every key and round-trip.
 */
#include "config.h"

#include <check.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "xmalloc.h"

#define SEC 1000000LL

/* Every key of the option table. */
static const char *const all_keys[] = {
	"manager_name",
	"listen",
	"database",
	"database_check_period",
	"local_manager_storage_path",
	"shared_storage_path",
	"task_timeout",
	"worker_timeout",
	"blocklist_threshold",
	"task_fail_after_softfail_count",
	"autodiscoverable",
	"scripts_path",
	"log_level",
	"http_threads",
	"max_body_size",
	"http_max_connections",
	"http_max_connections_per_client",
	"http_header_timeout",
	"http_min_body_rate",
	"http_slow_threads",
	"compiler_heaps",
	"compile_timeout",
	"compiler_heap_max",
	"db_connections",
	"admin_password",
};

static char *dir;  /* per-test temporary directory */
static char *base; /* its realpath, what paths resolve against */

static void
setup(void)
{
	dir = test_tmpdir();
	base = realpath(dir, NULL);
	ck_assert_ptr_nonnull(base);
}

static void
teardown(void)
{
	test_rmtree(dir);
	free(dir);
	free(base);
}

/* Write text to dir/name and load it; returns the rc, fills the rest. */
static enum fm_err
load_text(const char *name, const char *text, struct fm_config **cfg_out,
    char **err_out, char **path_out)
{
	char *path = test_write_file(dir, name, text);
	enum fm_err rc = config_load(path, false, cfg_out, err_out);

	if (path_out != NULL)
		*path_out = path;
	else
		free(path);
	return rc;
}

/* Load text that must be valid. */
static struct fm_config *
load_ok(const char *text)
{
	struct fm_config *cfg = NULL;
	char *err = NULL;

	if (load_text("fm.conf", text, &cfg, &err, NULL) != FM_OK)
		ck_abort_msg("config refused: %s", err ? err : "(no message)");
	ck_assert_ptr_null(err);
	ck_assert_ptr_nonnull(cfg);
	return cfg;
}

/* Load text that must fail with FM_ERR_INVALID and exactly "FILE:msg". */
static void
assert_load_error(const char *text, const char *want_after_path)
{
	struct fm_config *cfg = (struct fm_config *)(void *)&cfg;
	char *err = NULL, *path, *want;

	ck_assert_int_eq(
	    load_text("bad.conf", text, &cfg, &err, &path), FM_ERR_INVALID);
	ck_assert_ptr_null(cfg);
	ck_assert_ptr_nonnull(err);
	want = xasprintf("%s:%s", path, want_after_path);
	ck_assert_str_eq(err, want);
	free(want);
	free(err);
	free(path);
}

static const struct fm_variable_value *
find_value(
    const struct fm_variable *var, const char *platform, const char *audience)
{
	for (size_t i = 0; i < var->nvalues; i++)
		if (strcmp(var->values[i].platform, platform) == 0 &&
		    strcmp(var->values[i].audience, audience) == 0)
			return &var->values[i];
	return NULL;
}

static void
assert_value(const struct fm_config *cfg, const char *name,
    const char *platform, const char *audience, const char *want)
{
	const struct fm_variable *var = config_variable(cfg, name);
	const struct fm_variable_value *vv;

	ck_assert_msg(var != NULL, "no variable %s", name);
	vv = find_value(var, platform, audience);
	ck_assert_msg(
	    vv != NULL, "no value %s.%s.%s", name, platform, audience);
	ck_assert_str_eq(vv->value, want);
}

static void
assert_default_variables(const struct fm_config *cfg)
{
	const struct fm_variable *blender = config_variable(cfg, "blender");
	const struct fm_variable *args = config_variable(cfg, "blenderArgs");

	ck_assert_uint_eq(cfg->nvariables, 2);
	ck_assert_ptr_nonnull(blender);
	ck_assert_ptr_nonnull(args);
	ck_assert(!blender->is_twoway);
	ck_assert(!args->is_twoway);
	ck_assert_uint_eq(blender->nvalues, 3);
	assert_value(cfg, "blender", "linux", "all", "blender");
	assert_value(cfg, "blender", "darwin", "all", "blender");
	assert_value(cfg, "blender", "windows", "all", "blender.exe");
	ck_assert_uint_eq(args->nvalues, 1);
	assert_value(cfg, "blenderArgs", "all", "all", "-b -y");
	ck_assert_ptr_null(config_variable(cfg, "jobs"));
	ck_assert_ptr_null(config_variable(cfg, "storage"));
}

/* Everything but the paths, which depend on where the file is. */
static void
assert_default_values(const struct fm_config *cfg)
{
	ck_assert_str_eq(cfg->manager_name, "Flamenco");
	ck_assert_str_eq(cfg->listen, ":8080");
	ck_assert_str_eq(cfg->shared_storage_path, "");
	ck_assert_str_eq(config_shared_storage(cfg), "");
	ck_assert_str_eq(cfg->scripts_path, "");
	ck_assert_str_eq(cfg->log_level, "info");
	ck_assert_int_eq(cfg->task_timeout_us, 10 * 60 * SEC);
	ck_assert_int_eq(cfg->worker_timeout_us, 60 * SEC);
	ck_assert_int_eq(cfg->database_check_period_us, 10 * 60 * SEC);
	ck_assert_int_eq(cfg->blocklist_threshold, 3);
	ck_assert_int_eq(cfg->task_fail_after_softfail_count, 3);
	ck_assert(cfg->autodiscoverable);
	ck_assert_int_eq(cfg->http_threads, 4);
	ck_assert_int_eq(cfg->max_body_bytes, 1LL << 20);
	ck_assert_int_eq(cfg->http_max_connections, 0);
	ck_assert_int_eq(cfg->http_max_connections_per_client, 256);
	ck_assert_int_eq(cfg->http_header_timeout_us, 10 * SEC);
	ck_assert_int_eq(cfg->http_min_body_rate, 4096);
	ck_assert_int_eq(cfg->http_slow_threads, 4);
	ck_assert_int_eq(cfg->compiler_heaps, 0);
	ck_assert_int_eq(cfg->compile_timeout_us, 10 * SEC);
	ck_assert_int_eq(cfg->compiler_heap_max_bytes, 512LL << 20);
	ck_assert_int_eq(cfg->db_connections, 0);
	assert_default_variables(cfg);
}

static void
assert_same_config(const struct fm_config *a, const struct fm_config *b)
{
	ck_assert_str_eq(a->manager_name, b->manager_name);
	ck_assert_str_eq(a->listen, b->listen);
	ck_assert_str_eq(a->database, b->database);
	ck_assert_str_eq(
	    a->local_manager_storage_path, b->local_manager_storage_path);
	ck_assert_str_eq(a->shared_storage_path, b->shared_storage_path);
	ck_assert_str_eq(a->scripts_path, b->scripts_path);
	ck_assert_str_eq(a->log_level, b->log_level);
	ck_assert_int_eq(a->task_timeout_us, b->task_timeout_us);
	ck_assert_int_eq(a->worker_timeout_us, b->worker_timeout_us);
	ck_assert_int_eq(
	    a->database_check_period_us, b->database_check_period_us);
	ck_assert_int_eq(a->blocklist_threshold, b->blocklist_threshold);
	ck_assert_int_eq(a->task_fail_after_softfail_count,
	    b->task_fail_after_softfail_count);
	ck_assert_int_eq(a->autodiscoverable, b->autodiscoverable);
	ck_assert_str_eq(a->admin_password, b->admin_password);
	ck_assert_int_eq(a->http_threads, b->http_threads);
	ck_assert_int_eq(a->max_body_bytes, b->max_body_bytes);
	ck_assert_int_eq(a->compiler_heaps, b->compiler_heaps);
	ck_assert_int_eq(a->compile_timeout_us, b->compile_timeout_us);
	ck_assert_int_eq(
	    a->compiler_heap_max_bytes, b->compiler_heap_max_bytes);
	ck_assert_int_eq(a->db_connections, b->db_connections);
	ck_assert_uint_eq(a->nvariables, b->nvariables);
	for (size_t i = 0; i < a->nvariables; i++) {
		const struct fm_variable *va = &a->variables[i];
		const struct fm_variable *vb = &b->variables[i];

		ck_assert_str_eq(va->name, vb->name);
		ck_assert_int_eq(va->is_twoway, vb->is_twoway);
		ck_assert_uint_eq(va->nvalues, vb->nvalues);
		for (size_t j = 0; j < va->nvalues; j++) {
			ck_assert_str_eq(
			    va->values[j].platform, vb->values[j].platform);
			ck_assert_str_eq(
			    va->values[j].audience, vb->values[j].audience);
			ck_assert_str_eq(
			    va->values[j].value, vb->values[j].value);
		}
	}
}

/* config_write into a string. */
static char *
write_to_string(const struct fm_config *cfg)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	ck_assert_ptr_nonnull(f);
	config_write(cfg, f);
	fclose(f);
	return out;
}

/* ---- defaults ---- */

START_TEST(test_defaults_without_file)
{
	struct fm_config *cfg = NULL;
	char *err = NULL;

	ck_assert_int_eq(config_load(NULL, false, &cfg, &err), FM_OK);
	ck_assert_ptr_null(err);
	ck_assert_ptr_null(cfg->path);
	ck_assert(!cfg->file_exists);
	assert_default_values(cfg);
	/* Without a file, paths stay relative to the working directory. */
	ck_assert_str_eq(cfg->database, "flamenco-manager.sqlite");
	ck_assert_str_eq(
	    cfg->local_manager_storage_path, "./flamenco-manager-storage");
	config_free(cfg);
}
END_TEST

START_TEST(test_defaults_from_empty_file)
{
	struct fm_config *cfg = load_ok("");
	char *want;

	ck_assert(cfg->file_exists);
	assert_default_values(cfg);
	/* Defaults the file does not set resolve like values it does set. */
	want = xasprintf("%s/flamenco-manager.sqlite", base);
	ck_assert_str_eq(cfg->database, want);
	free(want);
	want = xasprintf("%s/flamenco-manager-storage", base);
	ck_assert_str_eq(cfg->local_manager_storage_path, want);
	free(want);
	config_free(cfg);
}
END_TEST

START_TEST(test_free_null)
{
	config_free(NULL);
}
END_TEST

/* ---- syntax ---- */

START_TEST(test_parse_basic)
{
	struct fm_config *cfg = load_ok("# A comment\n"
	                                "\n"
	                                "   # an indented comment\n"
	                                "manager_name = Render Farm\n"
	                                "listen=127.0.0.1:9000\n"
	                                "\t task_timeout\t =  30m  \n"
	                                "worker_timeout = 2m30s\r\n"
	                                "   \t\n"
	                                "blocklist_threshold = 5\n"
	                                "task_fail_after_softfail_count = 1\n"
	                                "autodiscoverable = false\n"
	                                "log_level = warn\n"
	                                "http_threads = 16\n"
	                                "max_body_size = 2MiB\n"
	                                "compiler_heaps = 2\n"
	                                "compile_timeout = 1m\n"
	                                "compiler_heap_max = 1G\n"
	                                "db_connections = 8\n"
	                                "database_check_period = 0\n"
	                                "shared_storage_path = /mnt/farm\n");

	ck_assert_str_eq(cfg->manager_name, "Render Farm");
	ck_assert_str_eq(cfg->listen, "127.0.0.1:9000");
	ck_assert_int_eq(cfg->task_timeout_us, 30 * 60 * SEC);
	ck_assert_int_eq(cfg->worker_timeout_us, 150 * SEC);
	ck_assert_int_eq(cfg->blocklist_threshold, 5);
	ck_assert_int_eq(cfg->task_fail_after_softfail_count, 1);
	ck_assert(!cfg->autodiscoverable);
	ck_assert_str_eq(cfg->log_level, "warn");
	ck_assert_int_eq(cfg->http_threads, 16);
	ck_assert_int_eq(cfg->max_body_bytes, 2 << 20);
	ck_assert_int_eq(cfg->compiler_heaps, 2);
	ck_assert_int_eq(cfg->compile_timeout_us, 60 * SEC);
	ck_assert_int_eq(cfg->compiler_heap_max_bytes, 1LL << 30);
	ck_assert_int_eq(cfg->db_connections, 8);
	ck_assert_int_eq(cfg->database_check_period_us, 0);
	ck_assert_str_eq(cfg->shared_storage_path, "/mnt/farm");
	config_free(cfg);
}
END_TEST

START_TEST(test_parse_quotes_and_equals)
{
	struct fm_config *cfg = load_ok("manager_name = \"  Padded Farm  \"\n"
	                                "listen = ':8081'\n"
	                                "scripts_path = \"\"\n"
	                                "shared_storage_path =\n");

	ck_assert_str_eq(cfg->manager_name, "  Padded Farm  ");
	ck_assert_str_eq(cfg->listen, ":8081");
	ck_assert_str_eq(cfg->scripts_path, "");
	ck_assert_str_eq(cfg->shared_storage_path, "");
	config_free(cfg);

	/* Only one matching outer pair is removed; "=" may be in a value. */
	cfg = load_ok("manager_name = a = b\n"
	              "listen = \"x'\n");
	ck_assert_str_eq(cfg->manager_name, "a = b");
	ck_assert_str_eq(cfg->listen, "\"x'");
	config_free(cfg);

	cfg = load_ok("manager_name = '\"quoted\"'\n");
	ck_assert_str_eq(cfg->manager_name, "\"quoted\"");
	config_free(cfg);
}
END_TEST

START_TEST(test_parse_last_wins)
{
	struct fm_config *cfg = load_ok("listen = :1\n"
	                                "listen = :2\n"
	                                "blocklist_threshold = 7\n"
	                                "blocklist_threshold = 9\n");

	ck_assert_str_eq(cfg->listen, ":2");
	ck_assert_int_eq(cfg->blocklist_threshold, 9);
	config_free(cfg);
}
END_TEST

START_TEST(test_bool_spellings)
{
	static const struct {
		const char *text;
		bool value;
	} cases[] = {
		{ "true", true },
		{ "yes", true },
		{ "1", true },
		{ "false", false },
		{ "no", false },
		{ "0", false },
	};

	for (size_t i = 0; i < nitems(cases); i++) {
		char *text =
		    xasprintf("autodiscoverable = %s\n", cases[i].text);
		struct fm_config *cfg = load_ok(text);

		ck_assert_int_eq(cfg->autodiscoverable, cases[i].value);
		config_free(cfg);
		free(text);
	}
}
END_TEST

START_TEST(test_unknown_key)
{
	assert_load_error("# fine\n"
	                  "listen = :8080\n"
	                  "no_such_key = 1\n"
	                  "blocklist_threshold = 4\n",
	    "3: no_such_key: unknown key");
	/* Flamenco's YAML-only keys are not ours either. */
	assert_load_error(
	    "shaman.enabled.x = true\n", "1: shaman.enabled.x: unknown key");
	assert_load_error("Listen = :8080\n", "1: Listen: unknown key");
	assert_load_error("= x\n", "1: : unknown key");
}
END_TEST

START_TEST(test_missing_equals)
{
	assert_load_error(
	    "listen = :8080\n\nlisten :9090\n", "3: expected \"key = value\"");
	assert_load_error("manager_name\n", "1: expected \"key = value\"");
}
END_TEST

/* ---- value checks ---- */

#define BAD_HASH                                                           \
	"starts with \"$\" but is not a complete crypt(3) hash (make one " \
	"with openssl passwd -6)"

static const struct {
	const char *key, *value, *why;
} bad_values[] = {
	{ "task_timeout", "10",
	    "expected a duration such as 10m0s, 30s or "
	    "500ms" },
	{ "task_timeout", "soon",
	    "expected a duration such as 10m0s, 30s or "
	    "500ms" },
	{ "task_timeout", "-1s",
	    "expected a duration such as 10m0s, 30s or "
	    "500ms" },
	{ "task_timeout", "",
	    "expected a duration such as 10m0s, 30s or "
	    "500ms" },
	{ "task_timeout", "8785h", "value out of range" },
	{ "worker_timeout", "1m x",
	    "expected a duration such as 10m0s, 30s "
	    "or 500ms" },
	{ "database_check_period", "9000h", "value out of range" },
	{ "compile_timeout", "1ms", "value out of range" },
	{ "compile_timeout", "2h", "value out of range" },
	{ "blocklist_threshold", "0", "value out of range" },
	{ "blocklist_threshold", "1001", "value out of range" },
	{ "blocklist_threshold", "-3", "value out of range" },
	{ "blocklist_threshold", "3x", "expected a whole number" },
	{ "blocklist_threshold", "3.0", "expected a whole number" },
	{ "blocklist_threshold", "", "expected a whole number" },
	{ "blocklist_threshold", "99999999999999999999",
	    "expected a whole number" },
	{ "task_fail_after_softfail_count", "0", "value out of range" },
	{ "http_threads", "0", "value out of range" },
	{ "http_threads", "257", "value out of range" },
	{ "compiler_heaps", "65", "value out of range" },
	{ "db_connections", "-1", "value out of range" },
	{ "autodiscoverable", "maybe", "expected true or false" },
	{ "autodiscoverable", "TRUE", "expected true or false" },
	{ "autodiscoverable", "", "expected true or false" },
	{ "max_body_size", "1000", "value out of range" },
	{ "max_body_size", "17GiB", "value out of range" },
	{ "max_body_size", "64XB", "expected a size such as 64MiB or 1048576" },
	{ "max_body_size", "64 MiB",
	    "expected a size such as 64MiB or "
	    "1048576" },
	{ "max_body_size", "-1", "expected a size such as 64MiB or 1048576" },
	{ "max_body_size", "MiB", "expected a size such as 64MiB or 1048576" },
	{ "max_body_size", "99999999999G",
	    "expected a size such as 64MiB or "
	    "1048576" },
	{ "compiler_heap_max", "1K", "value out of range" },
	{ "log_level", "verbose", "expected debug, info, warn or error" },
	{ "log_level", "", "expected debug, info, warn or error" },
	{ "admin_password", "$6$abcdefgh$", BAD_HASH },
	{ "admin_password", "$6$abcdefgh$4UPJf3qf71iDb8DDBG5r", BAD_HASH },
	{ "admin_password", "$zz$salt$hash", BAD_HASH },
};

START_TEST(test_bad_value)
{
	char *text = xasprintf("listen = :8080\n%s = %s\n", bad_values[_i].key,
	    bad_values[_i].value);
	char *want =
	    xasprintf("2: %s: %s", bad_values[_i].key, bad_values[_i].why);

	assert_load_error(text, want);
	free(text);
	free(want);
}
END_TEST

START_TEST(test_range_edges)
{
	struct fm_config *cfg =
	    load_ok("blocklist_threshold = 1\n"
	            "task_fail_after_softfail_count = 1000\n"
	            "http_threads = 256\n"
	            "max_body_size = 1024\n"
	            "compiler_heap_max = 64GiB\n"
	            "task_timeout = 0\n"
	            "worker_timeout = 8784h\n"
	            "compile_timeout = 10ms\n");

	ck_assert_int_eq(cfg->blocklist_threshold, 1);
	ck_assert_int_eq(cfg->task_fail_after_softfail_count, 1000);
	ck_assert_int_eq(cfg->http_threads, 256);
	ck_assert_int_eq(cfg->max_body_bytes, 1024);
	ck_assert_int_eq(cfg->compiler_heap_max_bytes, 64LL << 30);
	ck_assert_int_eq(cfg->task_timeout_us, 0);
	ck_assert_int_eq(cfg->worker_timeout_us, 8784LL * 3600 * SEC);
	ck_assert_int_eq(cfg->compile_timeout_us, 10000);
	config_free(cfg);
}
END_TEST

/* ---- paths ---- */

START_TEST(test_relative_paths)
{
	struct fm_config *cfg = load_ok("database = db.sqlite\n"
	                                "local_manager_storage_path = ./store\n"
	                                "scripts_path = sub/scripts\n"
	                                "shared_storage_path = /mnt/farm\n");
	char *want;

	want = xasprintf("%s/db.sqlite", base);
	ck_assert_str_eq(cfg->database, want);
	free(want);
	want = xasprintf("%s/store", base);
	ck_assert_str_eq(cfg->local_manager_storage_path, want);
	free(want);
	want = xasprintf("%s/sub/scripts", base);
	ck_assert_str_eq(cfg->scripts_path, want);
	free(want);
	ck_assert_str_eq(cfg->shared_storage_path, "/mnt/farm");
	/* listen is not a path. */
	ck_assert_str_eq(cfg->listen, ":8080");
	config_free(cfg);
}
END_TEST

START_TEST(test_relative_config_path)
{
	struct fm_config *cfg = NULL;
	char *err = NULL, *want, *sub;

	sub = xasprintf("%s/etc", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	free(test_write_file(sub, "fm.conf",
	    "database = x.sqlite\n"
	    "shared_storage_path = shared\n"));
	/* The tests run forked, so changing directory stays in this test. */
	ck_assert_int_eq(chdir(dir), 0);
	ck_assert_int_eq(config_load("etc/fm.conf", false, &cfg, &err), FM_OK);
	ck_assert_str_eq(cfg->path, "etc/fm.conf");
	want = xasprintf("%s/etc/x.sqlite", base);
	ck_assert_str_eq(cfg->database, want);
	free(want);
	want = xasprintf("%s/etc/shared", base);
	ck_assert_str_eq(cfg->shared_storage_path, want);
	ck_assert_str_eq(config_shared_storage(cfg), want);
	free(want);
	config_free(cfg);

	ck_assert_int_eq(chdir(sub), 0);
	ck_assert_int_eq(config_load("fm.conf", false, &cfg, &err), FM_OK);
	want = xasprintf("%s/etc/x.sqlite", base);
	ck_assert_str_eq(cfg->database, want);
	free(want);
	config_free(cfg);
	free(sub);
}
END_TEST

START_TEST(test_shared_storage_no_trailing_separator)
{
	struct fm_config *cfg = load_ok("shared_storage_path = /mnt/farm/\n");
	char *want;

	ck_assert_str_eq(config_shared_storage(cfg), "/mnt/farm");
	config_free(cfg);

	cfg = load_ok("shared_storage_path = shared//\n");
	want = xasprintf("%s/shared", base);
	ck_assert_str_eq(config_shared_storage(cfg), want);
	free(want);
	config_free(cfg);

	/* The root stays the root. */
	cfg = load_ok("shared_storage_path = /\n");
	ck_assert_str_eq(config_shared_storage(cfg), "/");
	config_free(cfg);
}
END_TEST

/* ---- variables ---- */

START_TEST(test_variables)
{
	struct fm_config *cfg =
	    load_ok("variables.storage.linux = /mnt/farm\n"
	            "variables.storage.windows = S:\\farm\n"
	            "variables.storage.darwin.users = /Volumes/farm\n"
	            "variables.storage.darwin.workers = /Volumes/render\n"
	            "variables.storage.is_twoway = true\n"
	            "variables.ffmpeg.all = ffmpeg -hide_banner\n"
	            "variables.ffmpeg.windows.all = \" C:\\ffmpeg.exe \"\n"
	            "variables.my-var_2.linux = x\n");
	const struct fm_variable *storage, *ffmpeg;

	/* The defaults stay when the file does not name them. */
	ck_assert_uint_eq(cfg->nvariables, 5);
	assert_value(cfg, "blender", "windows", "all", "blender.exe");
	assert_value(cfg, "blenderArgs", "all", "all", "-b -y");

	storage = config_variable(cfg, "storage");
	ck_assert_ptr_nonnull(storage);
	ck_assert(storage->is_twoway);
	ck_assert_uint_eq(storage->nvalues, 4);
	assert_value(cfg, "storage", "linux", "all", "/mnt/farm");
	assert_value(cfg, "storage", "windows", "all", "S:\\farm");
	assert_value(cfg, "storage", "darwin", "users", "/Volumes/farm");
	assert_value(cfg, "storage", "darwin", "workers", "/Volumes/render");

	ffmpeg = config_variable(cfg, "ffmpeg");
	ck_assert_ptr_nonnull(ffmpeg);
	ck_assert(!ffmpeg->is_twoway);
	ck_assert_uint_eq(ffmpeg->nvalues, 2);
	assert_value(cfg, "ffmpeg", "all", "all", "ffmpeg -hide_banner");
	assert_value(cfg, "ffmpeg", "windows", "all", " C:\\ffmpeg.exe ");
	assert_value(cfg, "my-var_2", "linux", "all", "x");
	ck_assert_ptr_null(config_variable(cfg, "nope"));
	config_free(cfg);
}
END_TEST

START_TEST(test_variable_replaces_default)
{
	struct fm_config *cfg =
	    load_ok("variables.blender.linux = /opt/blender/blender\n"
	            "variables.blender.linux.users = /home/me/blender\n");
	const struct fm_variable *blender = config_variable(cfg, "blender");

	ck_assert_uint_eq(blender->nvalues, 2);
	assert_value(cfg, "blender", "linux", "all", "/opt/blender/blender");
	assert_value(cfg, "blender", "linux", "users", "/home/me/blender");
	ck_assert_ptr_null(find_value(blender, "windows", "all"));
	ck_assert_ptr_null(find_value(blender, "darwin", "all"));
	/* The other default is untouched. */
	assert_value(cfg, "blenderArgs", "all", "all", "-b -y");
	config_free(cfg);
}
END_TEST

START_TEST(test_variable_last_wins_and_twoway_order)
{
	struct fm_config *cfg = load_ok("variables.storage.is_twoway = true\n"
	                                "variables.storage.linux = /a\n"
	                                "variables.storage.linux = /b\n"
	                                "variables.storage.linux.all = /c\n"
	                                "variables.other.linux = /x\n"
	                                "variables.other.is_twoway = true\n"
	                                "variables.other.is_twoway = false\n");
	const struct fm_variable *storage = config_variable(cfg, "storage");

	ck_assert(storage->is_twoway);
	ck_assert_uint_eq(storage->nvalues, 1);
	assert_value(cfg, "storage", "linux", "all", "/c");
	ck_assert(!config_variable(cfg, "other")->is_twoway);
	assert_value(cfg, "other", "linux", "all", "/x");
	config_free(cfg);
}
END_TEST

START_TEST(test_variable_jobs_refused)
{
	assert_load_error("variables.jobs.linux = /mnt/jobs\n",
	    "1: variables.jobs.linux: the variable \"jobs\" is implicit (the "
	    "shared storage path) and cannot be configured");
	assert_load_error("\nvariables.jobs.is_twoway = true\n",
	    "2: variables.jobs.is_twoway: the variable \"jobs\" is implicit "
	    "(the shared storage path) and cannot be configured");
}
END_TEST

static const struct {
	const char *line, *want;
} bad_variables[] = {
	{ "variables.storage = /x",
	    "1: variables.storage: expected variables.NAME.PLATFORM[.AUDIENCE] "
	    "or variables.NAME.is_twoway" },
	{ "variables..linux = /x",
	    "1: variables..linux: expected variables.NAME.PLATFORM[.AUDIENCE] "
	    "or variables.NAME.is_twoway" },
	{ "variables.storage. = /x",
	    "1: variables.storage.: expected "
	    "variables.NAME.PLATFORM[.AUDIENCE] or variables.NAME.is_twoway" },
	{ "variables.sto rage.linux = /x",
	    "1: variables.sto rage.linux: expected "
	    "variables.NAME.PLATFORM[.AUDIENCE] or variables.NAME.is_twoway" },
	{ "variables.storage.lin/ux = /x",
	    "1: variables.storage.lin/ux: expected "
	    "variables.NAME.PLATFORM[.AUDIENCE] or variables.NAME.is_twoway" },
	{ "variables.storage.linux.admins = /x",
	    "1: variables.storage.linux.admins: audience must be all, workers "
	    "or users" },
	{ "variables.storage.linux. = /x",
	    "1: variables.storage.linux.: audience must be all, workers or "
	    "users" },
	{ "variables.storage.is_twoway = yes",
	    "1: variables.storage.is_twoway: expected true or false" },
	{ "variables.storage.is_twoway =",
	    "1: variables.storage.is_twoway: expected true or false" },
};

START_TEST(test_variable_bad_syntax)
{
	char *text = xasprintf("%s\n", bad_variables[_i].line);

	assert_load_error(text, bad_variables[_i].want);
	free(text);
}
END_TEST

/* ---- config_set ---- */

START_TEST(test_config_set)
{
	struct fm_config *cfg = load_ok("listen = :8080\n"
	                                "database = db.sqlite\n");
	char *err = NULL;

	ck_assert_int_eq(config_set(cfg, "listen", "127.0.0.1:0", &err), FM_OK);
	ck_assert_ptr_null(err);
	ck_assert_str_eq(cfg->listen, "127.0.0.1:0");

	/* Command-line paths stay relative to the working directory. */
	ck_assert_int_eq(
	    config_set(cfg, "database", "other.sqlite", &err), FM_OK);
	ck_assert_str_eq(cfg->database, "other.sqlite");
	ck_assert_int_eq(
	    config_set(cfg, "database", "/var/x.sqlite", &err), FM_OK);
	ck_assert_str_eq(cfg->database, "/var/x.sqlite");

	ck_assert_int_eq(config_set(cfg, "task_timeout", "1h", &err), FM_OK);
	ck_assert_int_eq(cfg->task_timeout_us, 3600 * SEC);
	ck_assert_int_eq(
	    config_set(cfg, "autodiscoverable", "no", &err), FM_OK);
	ck_assert(!cfg->autodiscoverable);

	ck_assert_int_eq(
	    config_set(cfg, "no_such_key", "1", &err), FM_ERR_INVALID);
	ck_assert_str_eq(err, "no_such_key: unknown key");
	free(err);

	/* A refused value leaves the old one. */
	ck_assert_int_eq(
	    config_set(cfg, "task_timeout", "soon", &err), FM_ERR_INVALID);
	ck_assert_str_eq(err,
	    "task_timeout: expected a duration such as 10m0s, "
	    "30s or 500ms");
	free(err);
	ck_assert_int_eq(cfg->task_timeout_us, 3600 * SEC);
	ck_assert_int_eq(
	    config_set(cfg, "blocklist_threshold", "0", &err), FM_ERR_INVALID);
	ck_assert_str_eq(err, "blocklist_threshold: value out of range");
	free(err);
	ck_assert_int_eq(cfg->blocklist_threshold, 3);

	/* Every key of the table can be set. */
	for (size_t i = 0; i < nitems(all_keys); i++) {
		enum fm_err rc = config_set(cfg, all_keys[i], "x", &err);

		if (rc == FM_OK)
			continue;
		ck_assert_msg(strstr(err, "unknown key") == NULL, "%s", err);
		free(err);
	}
	config_free(cfg);
}
END_TEST

/* ---- missing files ---- */

START_TEST(test_missing_file_allowed)
{
	struct fm_config *cfg = NULL;
	char *err = NULL, *path = xasprintf("%s/missing.conf", dir);

	ck_assert_int_eq(config_load(path, true, &cfg, &err), FM_OK);
	ck_assert_ptr_null(err);
	ck_assert_ptr_nonnull(cfg);
	ck_assert(!cfg->file_exists);
	ck_assert_str_eq(cfg->path, path);
	assert_default_values(cfg);
	config_free(cfg);
	free(path);
}
END_TEST

START_TEST(test_missing_file_refused)
{
	struct fm_config *cfg = (struct fm_config *)(void *)&cfg;
	char *err = NULL, *path = xasprintf("%s/missing.conf", dir), *want;

	ck_assert_int_eq(config_load(path, false, &cfg, &err), FM_ERR_IO);
	ck_assert_ptr_null(cfg);
	want = xasprintf("%s: No such file or directory", path);
	ck_assert_str_eq(err, want);
	free(want);
	free(err);
	free(path);
}
END_TEST

/* A directory is not a config file, whether or not missing is allowed. */
START_TEST(test_directory_refused)
{
	struct fm_config *cfg = (struct fm_config *)(void *)&cfg;
	char *err = NULL;

	ck_assert_int_eq(config_load(dir, true, &cfg, &err), FM_ERR_IO);
	ck_assert_ptr_null(cfg);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strncmp(err, dir, strlen(dir)) == 0, "%s", err);
	ck_assert_msg(strstr(err, "directory") != NULL, "%s", err);
	free(err);
}
END_TEST

/* ---- writing and help ---- */

START_TEST(test_write_roundtrip)
{
	struct fm_config *a = load_ok(
	    "manager_name = \"  Spaced Farm \"\n"
	    "listen = [::1]:8081\n"
	    "database = data/fm.sqlite\n"
	    "shared_storage_path = /mnt/farm\n"
	    "task_timeout = 1h30m\n"
	    "worker_timeout = 1.5s\n"
	    "compile_timeout = 1500ms\n"
	    "database_check_period = 0\n"
	    "blocklist_threshold = 7\n"
	    "autodiscoverable = no\n"
	    "log_level = debug\n"
	    "max_body_size = 3MiB\n"
	    "variables.storage.is_twoway = true\n"
	    "variables.storage.linux = /mnt/farm\n"
	    "variables.storage.windows = S:\\farm\n"
	    "variables.storage.all.users = \"'/quoted'\"\n"
	    "variables.blender.windows.workers = C:\\Program Files\\b.exe\n"
	    "variables.ffmpeg.all = ffmpeg -y\n");
	struct fm_config *b;
	char *text = write_to_string(a), *other, *path, *err = NULL;

	/* Written paths are absolute, so another directory reads the same. */
	other = test_tmpdir();
	path = test_write_file(other, "copy.conf", text);
	ck_assert_int_eq(config_load(path, false, &b, &err), FM_OK);
	assert_same_config(a, b);
	ck_assert_str_eq(b->manager_name, "  Spaced Farm ");
	config_free(b);
	config_free(a);
	test_rmtree(other);
	free(other);
	free(path);
	free(text);
}
END_TEST

START_TEST(test_write_roundtrip_defaults)
{
	struct fm_config *a = load_ok("\n"), *b;
	char *text = write_to_string(a);

	b = load_ok(text);
	assert_same_config(a, b);
	assert_default_values(b);
	config_free(a);
	config_free(b);
	free(text);
}
END_TEST

START_TEST(test_write_lists_every_key)
{
	struct fm_config *cfg =
	    load_ok("variables.storage.is_twoway = true\n"
	            "variables.storage.linux = /mnt/farm\n"
	            "variables.storage.darwin.users = /V\n");
	char *text = write_to_string(cfg);

	for (size_t i = 0; i < nitems(all_keys); i++) {
		char *line = xasprintf("\n%s = ", all_keys[i]);

		ck_assert_msg(strstr(text, line) != NULL,
		    "%s missing from:\n%s", all_keys[i], text);
		free(line);
	}
	ck_assert_ptr_nonnull(strstr(text, "\ntask_timeout = 10m0s\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nworker_timeout = 1m0s\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nlisten = :8080\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "\nvariables.storage.is_twoway = "
	    "true\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "\nvariables.storage.linux = "
	    "/mnt/farm\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "\nvariables.storage.darwin.users = "
	    "/V\n"));
	ck_assert_ptr_nonnull(strstr(text,
	    "\nvariables.blenderArgs.all = "
	    "-b -y\n"));
	/* Every non-comment line is "key = value". */
	for (char *line = strtok(text, "\n"); line != NULL;
	     line = strtok(NULL, "\n"))
		ck_assert_msg(line[0] == '#' || strstr(line, " = ") != NULL,
		    "bad line: %s", line);
	config_free(cfg);
	free(text);
}
END_TEST

START_TEST(test_print_help)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	config_print_help(f);
	fclose(f);
	for (size_t i = 0; i < nitems(all_keys); i++) {
		char *entry = xasprintf("  %s ", all_keys[i]);

		ck_assert_msg(strstr(out, entry) != NULL,
		    "%s missing from:\n%s", all_keys[i], out);
		free(entry);
	}
	ck_assert_ptr_nonnull(strstr(out, "default: 10m0s"));
	ck_assert_ptr_nonnull(strstr(out, "default: 1m0s"));
	ck_assert_ptr_nonnull(strstr(out, "default: :8080"));
	ck_assert_ptr_nonnull(strstr(out, "default: Flamenco"));
	ck_assert_ptr_nonnull(strstr(out, "default: (empty)"));
	ck_assert_ptr_nonnull(
	    strstr(out, "variables.NAME.PLATFORM[.AUDIENCE]"));
	ck_assert_ptr_nonnull(strstr(out, "variables.NAME.is_twoway"));
	ck_assert_ptr_nonnull(strstr(out, "blender.exe"));
	ck_assert_ptr_nonnull(strstr(out, "\"jobs\""));
	free(out);
}
END_TEST

/* ---- admin password ---- */

/* "Hello world!" hashed by openssl passwd -6 -salt abcdefgh. */
#define HELLO_SHA512                                                          \
	"$6$abcdefgh$4UPJf3qf71iDb8DDBG5r.Jxy3OKpyf7on.yGTrfW2z7BZBicRPXkes." \
	"VuTPq3aS6gF63ohT6G9SJv9LejkZLu/"

START_TEST(test_admin_password)
{
	struct fm_config *cfg = load_ok("admin_password = s3cret pass\n");
	json_t *j = config_to_json(cfg);
	char *text = write_to_string(cfg);

	ck_assert_str_eq(cfg->admin_password, "s3cret pass");
	/* Never shown in JSON (GET configuration/file is open to all)... */
	ck_assert_ptr_null(json_object_get(j, "admin_password"));
	/* ...but written to the file, or a PUT would lose it. */
	ck_assert_ptr_nonnull(strstr(text, "\nadmin_password = s3cret pass\n"));
	json_decref(j);
	free(text);
	config_free(cfg);

	cfg = load_ok("admin_password = " HELLO_SHA512 "\n");
	ck_assert_str_eq(cfg->admin_password, HELLO_SHA512);
	config_free(cfg);
	cfg = load_ok("\n");
	ck_assert_str_eq(cfg->admin_password, "");
	config_free(cfg);
}
END_TEST

/* ---- configuration updates (PUT configuration/file) ---- */

/* A farm with shared storage and a two-way variable, as running. */
static struct fm_config *
farm_config(void)
{
	return load_ok("shared_storage_path = /mnt/farm\n"
	               "task_timeout = 5m\n"
	               "admin_password = pw\n"
	               "variables.storage.is_twoway = true\n"
	               "variables.storage.linux = /mnt/farm\n"
	               "variables.storage.windows = S:\\farm\n");
}

/* config_update_json that must succeed. */
static struct fm_config *
update_ok(const struct fm_config *running, const struct fm_config *on_disk,
    const json_t *j)
{
	struct fm_config *cfg = NULL;
	char *err = NULL;

	if (config_update_json(running, on_disk, j, base, &cfg, &err) != FM_OK)
		ck_abort_msg("update refused: %s", err);
	ck_assert_ptr_null(err);
	return cfg;
}

/* config_update_json that must be refused; returns the message (new). */
static char *
update_refused(const struct fm_config *running, const struct fm_config *on_disk,
    const json_t *j)
{
	struct fm_config *cfg = (struct fm_config *)(void *)&cfg;
	char *err = NULL;

	ck_assert_int_eq(
	    config_update_json(running, on_disk, j, base, &cfg, &err),
	    FM_ERR_INVALID);
	ck_assert_ptr_null(cfg);
	ck_assert_ptr_nonnull(err);
	return err;
}

START_TEST(test_update_empty_refused)
{
	struct fm_config *running = farm_config();
	json_t *j = json_object();
	char *err = update_refused(running, NULL, j);

	ck_assert_msg(strstr(err,
	                  "listen, database, local_manager_storage_path, "
	                  "shared_storage_path, variables.blender, "
	                  "variables.blenderArgs, variables.storage.") != NULL,
	    "%s", err);
	/* Not set, so nothing to lose. */
	ck_assert_msg(strstr(err, "scripts_path") == NULL, "%s", err);
	free(err);
	json_decref(j);
	config_free(running);
}
END_TEST

START_TEST(test_update_emptied_refused)
{
	static const char *const emptied[][2] = {
		{ "database", "\"\"" },
		{ "listen", "null" },
		{ "shared_storage_path", "\"\"" },
		{ "local_manager_storage_path", "\"\"" },
	};
	struct fm_config *running = farm_config();

	for (size_t i = 0; i < nitems(emptied); i++) {
		json_t *j = config_to_json(running);
		json_t *v = json_loads(emptied[i][1], JSON_DECODE_ANY, NULL);
		char *err;

		json_object_set_new(j, emptied[i][0], v);
		err = update_refused(running, NULL, j);
		ck_assert_msg(strstr(err, emptied[i][0]) != NULL, "%s", err);
		free(err);
		json_decref(j);
	}
	config_free(running);
}
END_TEST

START_TEST(test_update_variables)
{
	struct fm_config *running = farm_config(), *cfg;
	json_t *j = config_to_json(running);
	json_t *vars = json_object_get(j, "variables");
	char *err;

	/* A variable left out is refused, one with no values too. */
	json_object_del(vars, "storage");
	err = update_refused(running, NULL, j);
	ck_assert_msg(strstr(err, "variables.storage") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "variables.blender") == NULL, "%s", err);
	free(err);
	json_object_set_new(vars, "storage",
	    json_pack("{s:b, s:[]}", "is_twoway", 1, "values"));
	err = update_refused(running, NULL, j);
	ck_assert_msg(strstr(err, "variables.storage") != NULL, "%s", err);
	free(err);

	/* null removes it on purpose; new variables are welcome. */
	json_object_set_new(vars, "storage", json_null());
	json_object_set_new(vars, "ffmpeg",
	    json_pack("{s:b, s:[{s:s, s:s, s:s}]}", "is_twoway", 0, "values",
	        "platform", "all", "audience", "all", "value", "ffmpeg"));
	cfg = update_ok(running, NULL, j);
	ck_assert_ptr_null(config_variable(cfg, "storage"));
	assert_value(cfg, "ffmpeg", "all", "all", "ffmpeg");
	assert_value(cfg, "blender", "windows", "all", "blender.exe");
	config_free(cfg);
	json_decref(j);
	config_free(running);
}
END_TEST

START_TEST(test_update_merges)
{
	struct fm_config *running = farm_config(), *cfg;
	json_t *j = config_to_json(running);
	char *want;

	/* Left out: keeps the running value, not the default. */
	json_object_del(j, "task_timeout");
	json_object_del(j, "scripts_path");
	json_object_set_new(j, "manager_name", json_string("Render Farm"));
	/* Changed explicitly, relative to the file's directory. */
	json_object_set_new(j, "database", json_string("moved/fm.sqlite"));
	cfg = update_ok(running, NULL, j);
	ck_assert_int_eq(cfg->task_timeout_us, 5 * 60 * SEC);
	ck_assert_str_eq(cfg->manager_name, "Render Farm");
	ck_assert_str_eq(cfg->admin_password, "pw");
	ck_assert_str_eq(cfg->shared_storage_path, "/mnt/farm");
	want = xasprintf("%s/moved/fm.sqlite", base);
	ck_assert_str_eq(cfg->database, want);
	free(want);
	assert_value(cfg, "storage", "windows", "all", "S:\\farm");
	config_free(cfg);

	/* The password is changed or cleared only by sending it. */
	json_object_set_new(j, "admin_password", json_string(""));
	cfg = update_ok(running, NULL, j);
	ck_assert_str_eq(cfg->admin_password, "");
	config_free(cfg);

	/* Bad values are still refused, with the key named. */
	json_object_set_new(j, "task_timeout", json_string("soon"));
	free(update_refused(running, NULL, j));
	json_decref(j);
	config_free(running);
}
END_TEST

/* What the file says now (an earlier PUT) counts as much as what runs. */
START_TEST(test_update_on_disk)
{
	struct fm_config *running = farm_config(), *on_disk, *cfg;
	json_t *j = config_to_json(running);
	char *err;

	on_disk = load_ok("shared_storage_path = /mnt/farm\n"
	                  "task_timeout = 7m\n"
	                  "admin_password = newer\n"
	                  "variables.storage.linux = /mnt/farm\n"
	                  "variables.extra.all = x\n");
	err = update_refused(running, on_disk, j);
	ck_assert_msg(strstr(err, ": variables.extra.") != NULL, "%s", err);
	free(err);

	json_object_set_new(
	    json_object_get(j, "variables"), "extra", json_null());
	json_object_del(j, "task_timeout");
	cfg = update_ok(running, on_disk, j);
	ck_assert_int_eq(cfg->task_timeout_us, 7 * 60 * SEC);
	ck_assert_str_eq(cfg->admin_password, "newer");
	config_free(cfg);
	config_free(on_disk);
	json_decref(j);
	config_free(running);
}
END_TEST

START_TEST(test_update_not_object)
{
	struct fm_config *running = farm_config();
	json_t *j = json_array();

	free(update_refused(running, NULL, j));
	json_decref(j);
	config_free(running);
}
END_TEST

static mode_t
file_mode(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* Files in dir whose name contains "~": temporaries left behind. */
static int
count_temporaries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (strchr(e->d_name, '~') != NULL)
			n++;
	closedir(d);
	return n;
}

START_TEST(test_save_keeps_backup)
{
	struct fm_config *cfg = load_ok("manager_name = one\n");
	char *path = xasprintf("%s/saved.conf", dir);
	char *bak = xasprintf("%s.bak", path);
	char *err = NULL, *backup = NULL, *first, *text;

	/* No file yet: nothing to keep. */
	ck_assert_int_eq(config_save(cfg, path, &backup, &err), FM_OK);
	ck_assert_ptr_null(backup);
	ck_assert_ptr_null(err);
	ck_assert_int_eq(file_mode(path), 0644);
	ck_assert_int_eq(access(bak, F_OK), -1);
	first = test_read_file(path, NULL);

	/* The old file is kept as .bak, with its mode. */
	ck_assert_int_eq(chmod(path, 0640), 0);
	free(cfg->manager_name);
	cfg->manager_name = xstrdup("two");
	ck_assert_int_eq(config_save(cfg, path, &backup, &err), FM_OK);
	ck_assert_str_eq(backup, bak);
	free(backup);
	text = test_read_file(bak, NULL);
	ck_assert_str_eq(text, first);
	free(text);
	ck_assert_int_eq(file_mode(bak), 0640);
	ck_assert_int_eq(file_mode(path), 0640);
	text = test_read_file(path, NULL);
	ck_assert_ptr_nonnull(strstr(text, "manager_name = two\n"));

	/* A password makes the new file the owner's alone. */
	free(cfg->admin_password);
	cfg->admin_password = xstrdup("pw");
	ck_assert_int_eq(config_save(cfg, path, &backup, &err), FM_OK);
	free(backup);
	ck_assert_int_eq(file_mode(path), 0600);
	free(first);
	first = test_read_file(bak, NULL);
	ck_assert_str_eq(first, text);
	free(text);
	free(first);
	ck_assert_int_eq(count_temporaries(), 0);
	free(path);
	free(bak);
	config_free(cfg);
}
END_TEST

START_TEST(test_save_refuses_without_backup)
{
	struct fm_config *cfg = load_ok("\n");
	char *path = test_write_file(dir, "kept.conf", "manager_name = keep\n");
	char *bak = xasprintf("%s.bak", path);
	char *err = NULL, *backup = NULL, *text;

	/* A non-empty directory where the backup goes: it cannot be made. */
	ck_assert_int_eq(mkdir(bak, 0755), 0);
	free(test_write_file(bak, "x", "x"));
	ck_assert_int_eq(config_save(cfg, path, &backup, &err), FM_ERR_IO);
	ck_assert_ptr_null(backup);
	ck_assert_msg(strstr(err, "kept.conf.bak") != NULL, "%s", err);
	text = test_read_file(path, NULL);
	ck_assert_str_eq(text, "manager_name = keep\n");
	ck_assert_int_eq(count_temporaries(), 0);
	free(text);
	free(err);
	free(bak);
	free(path);
	config_free(cfg);
}
END_TEST

static Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc;

	tc = tcase_create("defaults");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_defaults_without_file);
	tcase_add_test(tc, test_defaults_from_empty_file);
	tcase_add_test(tc, test_free_null);
	suite_add_tcase(s, tc);

	tc = tcase_create("syntax");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_parse_basic);
	tcase_add_test(tc, test_parse_quotes_and_equals);
	tcase_add_test(tc, test_parse_last_wins);
	tcase_add_test(tc, test_bool_spellings);
	tcase_add_test(tc, test_unknown_key);
	tcase_add_test(tc, test_missing_equals);
	suite_add_tcase(s, tc);

	tc = tcase_create("values");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_bad_value, 0, (int)nitems(bad_values));
	tcase_add_test(tc, test_range_edges);
	suite_add_tcase(s, tc);

	tc = tcase_create("paths");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_relative_paths);
	tcase_add_test(tc, test_relative_config_path);
	tcase_add_test(tc, test_shared_storage_no_trailing_separator);
	suite_add_tcase(s, tc);

	tc = tcase_create("variables");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_variables);
	tcase_add_test(tc, test_variable_replaces_default);
	tcase_add_test(tc, test_variable_last_wins_and_twoway_order);
	tcase_add_test(tc, test_variable_jobs_refused);
	tcase_add_loop_test(
	    tc, test_variable_bad_syntax, 0, (int)nitems(bad_variables));
	suite_add_tcase(s, tc);

	tc = tcase_create("set_and_files");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_config_set);
	tcase_add_test(tc, test_missing_file_allowed);
	tcase_add_test(tc, test_missing_file_refused);
	tcase_add_test(tc, test_directory_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("write");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_write_roundtrip);
	tcase_add_test(tc, test_write_roundtrip_defaults);
	tcase_add_test(tc, test_write_lists_every_key);
	tcase_add_test(tc, test_print_help);
	tcase_add_test(tc, test_save_keeps_backup);
	tcase_add_test(tc, test_save_refuses_without_backup);
	suite_add_tcase(s, tc);

	tc = tcase_create("update");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_admin_password);
	tcase_add_test(tc, test_update_empty_refused);
	tcase_add_test(tc, test_update_emptied_refused);
	tcase_add_test(tc, test_update_variables);
	tcase_add_test(tc, test_update_merges);
	tcase_add_test(tc, test_update_on_disk);
	tcase_add_test(tc, test_update_not_object);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(config_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
