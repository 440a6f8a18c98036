/*
 * Tests for variables.c: lookup and specificity, Flamenco's expander
 * (one-way, two-way, prefix swap from the Manager's platform, separator
 * normalisation, single pass, the implicit "jobs"), command expansion and
 * Flamenco's two-way replacement of submitted settings.
 */
#include "variables.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "testutil.h"
#include "xmalloc.h"

/* A mixed farm: storage is /mnt/farm here and S:\farm on Windows. */
static const char farm_conf[] =
    "shared_storage_path = /mnt/farm/flamenco/\n"
    "variables.storage.is_twoway = true\n"
    "variables.storage.linux = /mnt/farm\n"
    "variables.storage.windows = S:\\farm\n"
    "variables.storage.darwin = /Volumes/farm/\n"
    "variables.render.is_twoway = true\n"
    "variables.render.linux = /mnt/farm/render\n"
    "variables.render.windows = R:\\\n"
    "variables.unc.is_twoway = true\n"
    "variables.unc.linux = /mnt/unc\n"
    "variables.unc.windows = \\\\server\\share\n"
    "variables.drive.is_twoway = true\n"
    "variables.drive.linux = /mnt/d\n"
    "variables.drive.windows = D:\n"
    "variables.ffmpeg.all = ffmpeg\n"
    "variables.ffmpeg.windows = C:\\ffmpeg\\ffmpeg.exe\n"
    "variables.tool.linux = /opt/tool\n"
    "variables.one.all = {two}\n"
    "variables.two.all = TWO\n"
    "variables.self.all = {self}\n";

static char *dir;
static struct fm_config *cfg;

static struct fm_config *
load(const char *text)
{
	struct fm_config *c = NULL;
	char *err = NULL, *path = test_write_file(dir, "fm.conf", text);

	if (config_load(path, false, &c, &err) != FM_OK)
		ck_abort_msg("config: %s", err);
	free(path);
	return c;
}

static void
setup(void)
{
	dir = test_tmpdir();
	cfg = load(farm_conf);
}

static void
teardown(void)
{
	config_free(cfg);
	test_rmtree(dir);
	free(dir);
}

static void
assert_expand_cfg(const struct fm_config *c, const char *audience,
    const char *platform, const char *in, const char *want)
{
	char *got = variables_expand(c, audience, platform, in);

	ck_assert_msg(strcmp(got, want) == 0,
	    "expand(%s, %s, \"%s\") = \"%s\", want \"%s\"", audience, platform,
	    in, got, want);
	free(got);
}

static void
assert_expand(const char *platform, const char *in, const char *want)
{
	assert_expand_cfg(cfg, "workers", platform, in, want);
}

/* variables_replace_twoway; want NULL = unchanged. */
static void
assert_twoway(const char *platform, const char *in, const char *want)
{
	char *got = variables_replace_twoway(cfg, platform, in);

	if (want == NULL)
		ck_assert_msg(got == NULL,
		    "replace(%s, \"%s\") = \"%s\", want "
		    "unchanged",
		    platform, in, got);
	else
		ck_assert_msg(got != NULL && strcmp(got, want) == 0,
		    "replace(%s, \"%s\") = \"%s\", want \"%s\"", platform, in,
		    got ? got : "(unchanged)", want);
	free(got);
}

/* ---- lookup ---- */

START_TEST(test_manager_platform)
{
	ck_assert_str_eq(variables_manager_platform(), "linux");
}
END_TEST

START_TEST(test_lookup)
{
	ck_assert_str_eq(variables_lookup(cfg, "blender", "workers", "windows"),
	    "blender.exe");
	ck_assert_str_eq(
	    variables_lookup(cfg, "blender", "users", "linux"), "blender");
	ck_assert_str_eq(
	    variables_lookup(cfg, "blender", "workers", "darwin"), "blender");
	ck_assert_ptr_null(
	    variables_lookup(cfg, "blender", "workers", "freebsd"));
	ck_assert_str_eq(
	    variables_lookup(cfg, "blenderArgs", "users", "freebsd"), "-b -y");
	ck_assert_str_eq(variables_lookup(cfg, "ffmpeg", "workers", "windows"),
	    "C:\\ffmpeg\\ffmpeg.exe");
	ck_assert_str_eq(
	    variables_lookup(cfg, "ffmpeg", "workers", "linux"), "ffmpeg");
	ck_assert_ptr_null(variables_lookup(cfg, "tool", "workers", "darwin"));
	ck_assert_ptr_null(variables_lookup(cfg, "nope", "workers", "linux"));
	/* The implicit "jobs" is where jobs' files are, for everyone: with
	 * Shaman on (the default) its checkouts directory. */
	ck_assert_str_eq(variables_lookup(cfg, "jobs", "workers", "windows"),
	    "/mnt/farm/flamenco/jobs");
	ck_assert_str_eq(variables_lookup(cfg, "jobs", "users", "linux"),
	    "/mnt/farm/flamenco/jobs");
}
END_TEST

/* Platform first, then audience; "all" is the fallback for both. */
START_TEST(test_specificity)
{
	struct fm_config *c =
	    load("variables.v.all = all-all\n"
	         "variables.v.all.users = all-users\n"
	         "variables.v.linux = linux-all\n"
	         "variables.v.linux.users = linux-users\n"
	         "variables.w.darwin.workers = darwin-workers\n"
	         "variables.w.all.users = all-users\n");

	ck_assert_str_eq(
	    variables_lookup(c, "v", "users", "linux"), "linux-users");
	ck_assert_str_eq(
	    variables_lookup(c, "v", "workers", "linux"), "linux-all");
	ck_assert_str_eq(
	    variables_lookup(c, "v", "users", "windows"), "all-users");
	ck_assert_str_eq(
	    variables_lookup(c, "v", "workers", "windows"), "all-all");
	ck_assert_str_eq(
	    variables_lookup(c, "w", "workers", "darwin"), "darwin-workers");
	/* A value for another audience is no value at all. */
	ck_assert_str_eq(
	    variables_lookup(c, "w", "users", "darwin"), "all-users");
	ck_assert_str_eq(
	    variables_lookup(c, "w", "users", "linux"), "all-users");
	ck_assert_ptr_null(variables_lookup(c, "w", "workers", "linux"));
	assert_expand_cfg(c, "users", "linux", "{v} {w}",
	    "linux-users "
	    "all-users");
	assert_expand_cfg(c, "workers", "linux", "{v} {w}", "linux-all {w}");
	config_free(c);
}
END_TEST

/* ---- expansion ---- */

START_TEST(test_expand_oneway)
{
	assert_expand("windows", "{blender} {blenderArgs} x.blend",
	    "blender.exe -b -y x.blend");
	assert_expand("linux", "{blender}", "blender");
	assert_expand("windows", "{ffmpeg} -i in",
	    "C:\\ffmpeg\\ffmpeg.exe -i "
	    "in");
	assert_expand("linux", "{ffmpeg}{ffmpeg}", "ffmpegffmpeg");
	/* Not a path: separators are left alone. */
	assert_expand("linux", "{tool}//bin\\x/", "/opt/tool//bin\\x/");
	/* Unknown or malformed references stay as they are. */
	assert_expand("linux", "{nope} {} { blender} {blender",
	    "{nope} {} "
	    "{ blender} "
	    "{blender");
	assert_expand("darwin", "{tool}", "{tool}");
	assert_expand("linux", "no variables", "no variables");
	assert_expand("linux", "", "");
	assert_expand("linux", "}{", "}{");
}
END_TEST

START_TEST(test_expand_twoway)
{
	assert_expand("linux", "{storage}/x.blend", "/mnt/farm/x.blend");
	assert_expand("windows", "{storage}/x.blend", "S:\\farm\\x.blend");
	assert_expand("darwin", "{storage}/x.blend", "/Volumes/farm/x.blend");
	assert_expand("windows", "{storage}/shots/{blender}",
	    "S:\\farm\\shots\\blender.exe");
	assert_expand("windows", "{render}/out/######", "R:\\out\\######");
	/* A two-way variable without a value for the platform stays. */
	assert_expand("freebsd", "{storage}/x", "{storage}/x");
}
END_TEST

/* Paths in the Manager's own (linux) form are swapped per platform. */
START_TEST(test_expand_prefix_swap)
{
	assert_expand("windows", "/mnt/farm/x.blend", "S:\\farm\\x.blend");
	assert_expand(
	    "darwin", "/mnt/farm/shots/x.blend", "/Volumes/farm/shots/x.blend");
	assert_expand(
	    "linux", "/mnt/farm/shots//x.blend/", "/mnt/farm/shots/x.blend");
	/* Backslash-tolerant prefix test. */
	assert_expand("windows", "\\mnt\\farm\\x.blend", "S:\\farm\\x.blend");
	assert_expand("windows", "/mnt/farm\\x.blend", "S:\\farm\\x.blend");
	/* Only a prefix counts; not a path elsewhere in the string. */
	assert_expand("windows", "-o /mnt/farm/x", "-o /mnt/farm/x");
	/* No value for the target platform: nothing to swap to. */
	assert_expand("freebsd", "/mnt/farm/x", "/mnt/farm/x");
	/* The implicit jobs variable is swapped like any path under it. */
	assert_expand(
	    "windows", "{jobs}/job-1/x", "S:\\farm\\flamenco\\jobs\\job-1\\x");
	assert_expand("darwin", "{jobs}/x", "/Volumes/farm/flamenco/jobs/x");
}
END_TEST

/* A two-way value given with a trailing separator matches without it. */
START_TEST(test_expand_trailing_separator_value)
{
	struct fm_config *c = load("variables.s.is_twoway = true\n"
	                           "variables.s.linux = /mnt/farm/\n"
	                           "variables.s.windows = S:\\farm\\\n");

	assert_expand_cfg(
	    c, "workers", "windows", "/mnt/farm/x", "S:\\farm\\x");
	assert_expand_cfg(c, "workers", "windows", "/mnt/farm", "S:\\farm");
	assert_expand_cfg(c, "workers", "windows", "{s}/x", "S:\\farm\\x");
	assert_expand_cfg(c, "workers", "linux", "{s}/x", "/mnt/farm/x");
	config_free(c);
}
END_TEST

START_TEST(test_expand_windows_separators)
{
	/* Runs collapse, trailing separators go, leading ones stay. */
	assert_expand("windows", "{storage}//a///b/", "S:\\farm\\a\\b");
	assert_expand("windows", "{storage}\\a/b\\\\", "S:\\farm\\a\\b");
	assert_expand("windows", "{unc}/x/y", "\\\\server\\share\\x\\y");
	assert_expand("windows", "/mnt/unc/x", "\\\\server\\share\\x");
	assert_expand("linux", "{unc}/x", "/mnt/unc/x");
	/* "X:" followed by text gets a separator; "X:/" does not get two. */
	assert_expand("windows", "{drive}render", "D:\\render");
	assert_expand("windows", "{drive}/render", "D:\\render");
	assert_expand("windows", "/mnt/d/render", "D:\\render");
	assert_expand("windows", "{drive}", "D:");
	/* Other platforms get forward slashes. */
	assert_expand("linux", "{storage}\\a\\\\b", "/mnt/farm/a/b");
	assert_expand("darwin", "{storage}\\a", "/Volumes/farm/a");
}
END_TEST

START_TEST(test_expand_leading_separators_linux)
{
	struct fm_config *c = load("variables.nas.is_twoway = true\n"
	                           "variables.nas.linux = //nas/share\n"
	                           "variables.nas.windows = \\\\nas\\share\n");

	assert_expand_cfg(c, "workers", "linux", "{nas}//x/", "//nas/share/x");
	assert_expand_cfg(
	    c, "workers", "windows", "//nas/share/x", "\\\\nas\\share\\x");
	assert_expand_cfg(c, "workers", "linux", "/", "/");
	config_free(c);
}
END_TEST

/* Expanded text is not expanded again. */
START_TEST(test_expand_single_pass)
{
	assert_expand("linux", "{one}", "{two}");
	assert_expand("linux", "{self}", "{self}");
	assert_expand("linux", "{one}{two}", "{two}TWO");
}
END_TEST

START_TEST(test_expand_jobs)
{
	struct fm_config *off =
	    load("shared_storage_path = /mnt/farm/flamenco\n"
	         "shaman.enabled = false\n");

	/* One-way, no normalisation on the Manager's OS; Shaman's
	 * checkouts directory when it is on, else the shared storage. */
	assert_expand("linux", "{jobs}", "/mnt/farm/flamenco/jobs");
	assert_expand("linux", "{jobs}/x", "/mnt/farm/flamenco/jobs/x");
	assert_expand_cfg(
	    cfg, "users", "linux", "{jobs}", "/mnt/farm/flamenco/jobs");
	assert_expand_cfg(
	    off, "users", "linux", "{jobs}", "/mnt/farm/flamenco");
	config_free(off);
}
END_TEST

START_TEST(test_expand_jobs_empty_storage)
{
	struct fm_config *c = load("\n");

	assert_expand_cfg(c, "workers", "linux", "{jobs}/x", "/x");
	assert_expand_cfg(c, "workers", "windows", "{blender}", "blender.exe");
	config_free(c);
}
END_TEST

/* Audience-specific two-way values are used for that audience only. */
START_TEST(test_expand_audience)
{
	struct fm_config *c = load("variables.s.is_twoway = true\n"
	                           "variables.s.linux = /mnt/farm\n"
	                           "variables.s.windows.workers = W:\\\n"
	                           "variables.s.windows.users = U:\\\n");

	assert_expand_cfg(c, "workers", "windows", "{s}/x", "W:\\x");
	assert_expand_cfg(c, "users", "windows", "{s}/x", "U:\\x");
	assert_expand_cfg(c, "users", "windows", "/mnt/farm/x", "U:\\x");
	config_free(c);
}
END_TEST

/* ---- commands ---- */

START_TEST(test_expand_commands)
{
	json_error_t jerr;
	json_t *cmds = json_loads(
	    "[{\"name\": \"blender-render\", \"parameters\": {"
	    "  \"exe\": \"{blender}\","
	    "  \"exeArgs\": \"{blenderArgs}\","
	    "  \"argsBefore\": [],"
	    "  \"blendfile\": \"{storage}/x.blend\","
	    "  \"args\": [\"--render-output\", \"/mnt/farm/out/######\", 3,"
	    "             {\"deep\": \"{blender}\"}, [\"{blender}\"], null],"
	    "  \"nested\": {\"x\": \"{blender}\", \"y\": [\"{blender}\"]},"
	    "  \"num\": 5, \"flag\": true, \"none\": null}},"
	    " {\"name\": \"frames-to-video\", \"parameters\": {"
	    "  \"exe\": \"{ffmpeg}\", \"inputGlob\": \"{render}/*.png\"}},"
	    " {\"name\": \"no-parameters\"},"
	    " {\"name\": \"odd\", \"parameters\": \"{blender}\"}]",
	    0, &jerr);
	json_t *want = json_loads(
	    "[{\"name\": \"blender-render\", \"parameters\": {"
	    "  \"exe\": \"blender.exe\","
	    "  \"exeArgs\": \"-b -y\","
	    "  \"argsBefore\": [],"
	    "  \"blendfile\": \"S:\\\\farm\\\\x.blend\","
	    "  \"args\": [\"--render-output\", \"S:\\\\farm\\\\out\\\\######\","
	    "             3, {\"deep\": \"{blender}\"}, [\"{blender}\"], null],"
	    "  \"nested\": {\"x\": \"{blender}\", \"y\": [\"{blender}\"]},"
	    "  \"num\": 5, \"flag\": true, \"none\": null}},"
	    " {\"name\": \"frames-to-video\", \"parameters\": {"
	    "  \"exe\": \"C:\\\\ffmpeg\\\\ffmpeg.exe\","
	    "  \"inputGlob\": \"R:\\\\*.png\"}},"
	    " {\"name\": \"no-parameters\"},"
	    " {\"name\": \"odd\", \"parameters\": \"{blender}\"}]",
	    0, &jerr);
	char *got, *exp;

	ck_assert_msg(cmds != NULL && want != NULL, "%s", jerr.text);
	variables_expand_commands(cfg, "workers", "windows", cmds);
	got = json_dumps(cmds, JSON_SORT_KEYS | JSON_COMPACT);
	exp = json_dumps(want, JSON_SORT_KEYS | JSON_COMPACT);
	ck_assert_str_eq(got, exp);
	free(got);
	free(exp);
	json_decref(cmds);
	json_decref(want);

	/* Not an array: nothing happens. */
	variables_expand_commands(cfg, "workers", "windows", NULL);
}
END_TEST

/* Parameters holding NUL characters are expanded around them, whole. */
START_TEST(test_expand_commands_nul)
{
	json_t *cmds =
	    json_loads("[{\"name\": \"exec\", \"parameters\": {"
	               "  \"exe\": \"{blender}\\u0000{blender}\","
	               "  \"args\": [\"a\\u0000b\", \"{storage}/x\\u0000y\","
	               "             \"{bl\\u0000ender}\"]}}]",
	        JSON_ALLOW_NUL, NULL);
	json_t *params, *args;

	ck_assert_ptr_nonnull(cmds);
	variables_expand_commands(cfg, "workers", "windows", cmds);
	params = json_object_get(json_array_get(cmds, 0), "parameters");
	args = json_object_get(params, "args");
	ck_assert_uint_eq(json_string_length(json_object_get(params, "exe")),
	    strlen("blender.exe") * 2 + 1);
	ck_assert_mem_eq(json_string_value(json_object_get(params, "exe")),
	    "blender.exe\0blender.exe", 23);
	ck_assert_uint_eq(json_string_length(json_array_get(args, 0)), 3);
	ck_assert_mem_eq(json_string_value(json_array_get(args, 0)), "a\0b", 3);
	ck_assert_uint_eq(json_string_length(json_array_get(args, 1)), 11);
	ck_assert_mem_eq(
	    json_string_value(json_array_get(args, 1)), "S:\\farm\\x\0y", 11);
	/* A NUL inside braces is no variable name. */
	ck_assert_uint_eq(json_string_length(json_array_get(args, 2)), 10);
	ck_assert_mem_eq(
	    json_string_value(json_array_get(args, 2)), "{bl\0ender}", 10);
	json_decref(cmds);
}
END_TEST

/* ---- two-way replacement ---- */

START_TEST(test_twoway_replace)
{
	assert_twoway("linux", "/mnt/farm/x.blend", "{storage}/x.blend");
	assert_twoway("linux", "/mnt/farm", "{storage}");
	assert_twoway("linux", "/mnt/farm/", "{storage}/");
	/* Case-insensitive and backslash-tolerant. */
	assert_twoway("linux", "/MNT/Farm/x.blend", "{storage}/x.blend");
	assert_twoway("linux", "\\mnt\\farm\\x.blend", "{storage}\\x.blend");
	assert_twoway("windows", "S:\\farm\\x.blend", "{storage}\\x.blend");
	assert_twoway("windows", "s:/FARM/x.blend", "{storage}/x.blend");
	/* The submitter's platform decides which value is looked for. */
	assert_twoway("windows", "/mnt/farm/x.blend", NULL);
	assert_twoway("darwin", "/Volumes/farm/x.blend", "{storage}/x.blend");
	assert_twoway("darwin", "/Volumes/farm", "{storage}");
	/* The longest value wins. */
	assert_twoway("linux", "/mnt/farm/render/x.png", "{render}/x.png");
	assert_twoway("windows", "R:\\x.png", "{render}\\x.png");
	assert_twoway("windows", "\\\\server\\share\\x", "{unc}\\x");
}
END_TEST

START_TEST(test_twoway_no_replace)
{
	/* Only whole path segments: /mnt/farmer is not under /mnt/farm. */
	assert_twoway("linux", "/mnt/farmer/x", NULL);
	assert_twoway("linux", "/mnt/far", NULL);
	assert_twoway("linux", "relative/mnt/farm/x", NULL);
	assert_twoway("linux", " /mnt/farm/x", NULL);
	assert_twoway("linux", "", NULL);
	/* One-way variables are never put back. */
	assert_twoway("linux", "/opt/tool/x", NULL);
	assert_twoway("linux", "ffmpeg", NULL);
	assert_twoway("freebsd", "/mnt/farm/x", NULL);
}
END_TEST

/* A submission from Windows, end to end. */
START_TEST(test_twoway_example)
{
	char *stored =
	    variables_replace_twoway(cfg, "linux", "/mnt/farm/x.blend");

	ck_assert_str_eq(stored, "{storage}/x.blend");
	assert_expand("windows", stored, "S:\\farm\\x.blend");
	assert_expand("darwin", stored, "/Volumes/farm/x.blend");
	assert_expand("linux", stored, "/mnt/farm/x.blend");
	free(stored);

	/* And from a Windows artist to a Linux worker. */
	stored = variables_replace_twoway(cfg, "windows", "S:\\farm\\x.blend");
	ck_assert_str_eq(stored, "{storage}\\x.blend");
	assert_expand("linux", stored, "/mnt/farm/x.blend");
	free(stored);
}
END_TEST

START_TEST(test_twoway_workers_audience)
{
	struct fm_config *c = load("variables.s.is_twoway = true\n"
	                           "variables.s.linux.users = /home/farm\n"
	                           "variables.s.linux.workers = /mnt/farm\n");
	char *r;

	r = variables_replace_twoway(c, "linux", "/mnt/farm/x");
	ck_assert_str_eq(r, "{s}/x");
	free(r);
	ck_assert_ptr_null(
	    variables_replace_twoway(c, "linux", "/home/farm/x"));
	config_free(c);
}
END_TEST

START_TEST(test_twoway_object)
{
	json_t *settings =
	    json_pack("{s:s, s:s, s:s, s:i, s:{s:s}, s:[s], s:b}", "blendfile",
	        "/mnt/farm/shots/x.blend", "render_output_root",
	        "/MNT/FARM/out/", "frames", "1-10", "chunk_size", 3, "nested",
	        "p", "/mnt/farm/y", "list", "/mnt/farm/z", "flag", 1);
	char *got;

	variables_replace_twoway_object(cfg, "linux", settings);
	got = json_dumps(settings, JSON_SORT_KEYS | JSON_COMPACT);
	ck_assert_str_eq(got,
	    "{\"blendfile\":\"{storage}/shots/x.blend\",\"chunk_size\":3,"
	    "\"flag\":true,\"frames\":\"1-10\",\"list\":[\"/mnt/farm/z\"],"
	    "\"nested\":{\"p\":\"/mnt/farm/y\"},"
	    "\"render_output_root\":\"{storage}/out/\"}");
	free(got);
	json_decref(settings);
}
END_TEST

/* ---- JSON for GET /configuration/variables ---- */

START_TEST(test_to_json)
{
	json_t *j = variables_to_json(cfg, "workers", "windows");
	json_t *v;

	v = json_object_get(j, "blender");
	ck_assert_str_eq(
	    json_string_value(json_object_get(v, "value")), "blender.exe");
	ck_assert(json_is_false(json_object_get(v, "is_twoway")));
	v = json_object_get(j, "storage");
	ck_assert_str_eq(
	    json_string_value(json_object_get(v, "value")), "S:\\farm");
	ck_assert(json_is_true(json_object_get(v, "is_twoway")));
	v = json_object_get(j, "jobs");
	ck_assert_str_eq(json_string_value(json_object_get(v, "value")),
	    "/mnt/farm/flamenco/jobs");
	ck_assert(json_is_false(json_object_get(v, "is_twoway")));
	/* No value for windows: left out. */
	ck_assert_ptr_null(json_object_get(j, "tool"));
	json_decref(j);
}
END_TEST

static Suite *
variables_suite(void)
{
	Suite *s = suite_create("variables");
	TCase *tc;

	tc = tcase_create("lookup");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_manager_platform);
	tcase_add_test(tc, test_lookup);
	tcase_add_test(tc, test_specificity);
	tcase_add_test(tc, test_to_json);
	suite_add_tcase(s, tc);

	tc = tcase_create("expand");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_expand_oneway);
	tcase_add_test(tc, test_expand_twoway);
	tcase_add_test(tc, test_expand_prefix_swap);
	tcase_add_test(tc, test_expand_trailing_separator_value);
	tcase_add_test(tc, test_expand_windows_separators);
	tcase_add_test(tc, test_expand_leading_separators_linux);
	tcase_add_test(tc, test_expand_single_pass);
	tcase_add_test(tc, test_expand_jobs);
	tcase_add_test(tc, test_expand_jobs_empty_storage);
	tcase_add_test(tc, test_expand_audience);
	tcase_add_test(tc, test_expand_commands);
	tcase_add_test(tc, test_expand_commands_nul);
	suite_add_tcase(s, tc);

	tc = tcase_create("twoway");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_twoway_replace);
	tcase_add_test(tc, test_twoway_no_replace);
	tcase_add_test(tc, test_twoway_example);
	tcase_add_test(tc, test_twoway_workers_audience);
	tcase_add_test(tc, test_twoway_object);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(variables_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
