/*
 * Tests for the JavaScript environment (jsenv*.c): the three job-type
 * fixtures compiled to exactly the expected tasks, every ES2015+ feature
 * scripts use, Flamenco's globals, the sandbox (time and memory limits,
 * no state between runs), error messages, and compile speed.
 */
#include "jsenv.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ids.h"
#include "log.h"
#include "testutil.h"
#include "timeutil.h"
#include "xmalloc.h"

#define FIXTURES FM_SOURCE_DIR "/tests/fixtures/jobtypes/"
#define JSFIX    FM_SOURCE_DIR "/tests/fixtures/jsenv/"

/*
 * Speed bounds: loose enough for a loaded CI machine and sanitizers,
 * tight enough to catch anything quadratic (100,000 tasks must cost
 * about ten times 10,000). The figures themselves are printed.
 */
#define MAX_MS_10K      2000.0
#define MAX_GROWTH_100K 20.0

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = xmalloc((size_t)n + 1);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static json_t *
load_json(const char *path)
{
	json_error_t jerr;
	json_t *v = json_load_file(path, 0, &jerr);

	ck_assert_msg(v != NULL, "%s: %s", path, jerr.text);
	return v;
}

/* json_equal that releases want (a new value, e.g. from json_pack). */
static bool
json_is(json_t *v, json_t *want)
{
	bool same = json_equal(v, want);

	json_decref(want);
	return same;
}

/* Transpile source, failing the test on error. */
static char *
es5_of(const char *src, const char *filename)
{
	char *es5 = NULL, *err = NULL;
	enum fm_err rc;

	rc = jsenv_transpile(src, filename, &es5, &err);
	ck_assert_msg(
	    rc == FM_OK, "transpile %s: %s", filename, err ? err : "?");
	ck_assert_ptr_null(err);
	return es5;
}

static char *
fixture_es5(const char *name)
{
	char *path = xasprintf("%s%s", FIXTURES, name);
	char *src = slurp(path), *es5 = es5_of(src, name);

	free(path);
	free(src);
	return es5;
}

/* A job as the Manager hands it to jsenv, from a submission. */
static json_t *
job_in_of(json_t *submission)
{
	char uuid[ID_UUID_LEN + 1];
	json_t *job;

	ids_new_uuid(uuid);
	job = json_pack("{s:s, s:O, s:O, s:O, s:s, s:I, s:O, s:O}", "jobID",
	    uuid, "name", json_object_get(submission, "name"), "jobType",
	    json_object_get(submission, "type"), "priority",
	    json_object_get(submission, "priority"), "status",
	    "under-construction", "created", (json_int_t)time_now_us(),
	    "settings", json_object_get(submission, "settings"), "metadata",
	    json_object_get(submission, "metadata"));
	ck_assert_ptr_nonnull(job);
	return job;
}

static struct jsenv *
new_env(size_t max_heap, int64_t timeout_us)
{
	struct jsenv_limits lim = { .max_heap_bytes = max_heap,
		.timeout_us = timeout_us };
	struct jsenv *env = jsenv_new(&lim);

	ck_assert_ptr_nonnull(env);
	return env;
}

/* Compile es5 with job_in; returns the rc, *out and *err as given. */
static enum fm_err
compile(struct jsenv *env, const char *es5, const char *name, json_t *job_in,
    json_t **out, char **err)
{
	*out = NULL;
	*err = NULL;
	return jsenv_compile(env, es5, name, job_in, out, err);
}

/* The name of the task with uuid in tasks. */
static const char *
task_name(json_t *tasks, const char *uuid)
{
	size_t i;
	json_t *t;

	json_array_foreach (tasks, i, t) {
		if (strcmp(json_string_value(json_object_get(t, "uuid")),
		        uuid) == 0)
			return json_string_value(json_object_get(t, "name"));
	}
	return "?";
}

/* Compare the authored job with an expected.json of the fixtures. */
static void
assert_matches_expected(json_t *job, json_t *expected)
{
	json_t *tasks = json_object_get(job, "tasks");
	json_t *want = json_object_get(expected, "tasks");
	json_t *t, *w;
	size_t i;

	ck_assert_msg(json_equal(json_object_get(job, "settings"),
	                  json_object_get(expected, "settings")),
	    "settings differ: %s",
	    json_dumps(json_object_get(job, "settings"), JSON_SORT_KEYS));
	ck_assert_uint_eq(json_array_size(tasks), json_array_size(want));
	json_array_foreach (want, i, w) {
		json_t *wc = json_object_get(w, "commands");
		json_t *wd = json_object_get(w, "dependencies");
		json_t *tc, *td, *c;
		size_t j;

		t = json_array_get(tasks, i);
		ck_assert(ids_valid_uuid(
		    json_string_value(json_object_get(t, "uuid"))));
		ck_assert_str_eq(json_string_value(json_object_get(t, "name")),
		    json_string_value(json_object_get(w, "name")));
		ck_assert_str_eq(json_string_value(json_object_get(t, "type")),
		    json_string_value(json_object_get(w, "type")));
		ck_assert_int_eq(
		    json_integer_value(json_object_get(t, "priority")),
		    json_integer_value(json_object_get(w, "priority")));
		tc = json_object_get(t, "commands");
		ck_assert_uint_eq(json_array_size(tc), json_array_size(wc));
		json_array_foreach (wc, j, c) {
			json_t *got = json_array_get(tc, j);

			ck_assert_str_eq(
			    json_string_value(json_object_get(got, "name")),
			    json_string_value(json_object_get(c, "name")));
			ck_assert_msg(
			    json_equal(json_object_get(got, "parameters"),
			        json_object_get(c, "parameters")),
			    "task %s command %zu parameters: %s",
			    json_string_value(json_object_get(w, "name")), j,
			    json_dumps(json_object_get(got, "parameters"),
			        JSON_SORT_KEYS));
			ck_assert_int_eq(json_integer_value(json_object_get(
			                     got, "total_step_count")),
			    json_integer_value(
			        json_object_get(c, "totalStepCount")));
		}
		td = json_object_get(t, "dependencies");
		ck_assert_uint_eq(json_array_size(td), json_array_size(wd));
		for (j = 0; j < json_array_size(wd); j++) {
			ck_assert_str_eq(
			    task_name(tasks,
			        json_string_value(json_array_get(td, j))),
			    json_string_value(json_array_get(wd, j)));
		}
	}
}

static void
run_fixture(const char *script, const char *jobfile, const char *expfile)
{
	struct jsenv *env = new_env(0, 0);
	char *es5 = fixture_es5(script), *err = NULL;
	json_t *sub = load_json(jobfile), *exp = load_json(expfile);
	json_t *job_in = job_in_of(sub), *out = NULL;
	enum fm_err rc;

	rc = compile(env, es5, script, job_in, &out, &err);
	ck_assert_msg(rc == FM_OK, "%s: %s", script, err ? err : "?");
	assert_matches_expected(out, exp);
	/* Twice on one heap: the same result. */
	json_decref(out);
	rc = compile(env, es5, script, job_in, &out, &err);
	ck_assert_int_eq(rc, FM_OK);
	assert_matches_expected(out, exp);

	json_decref(out);
	json_decref(job_in);
	json_decref(sub);
	json_decref(exp);
	free(es5);
	jsenv_free(env);
}

START_TEST(test_fixture_es2015)
{
	run_fixture("fixture_es2015.js", FIXTURES "es2015.job.json",
	    FIXTURES "es2015.expected.json");
}
END_TEST

START_TEST(test_fixture_environment)
{
	run_fixture("fixture_environment.js", FIXTURES "environment.job.json",
	    FIXTURES "environment.expected.json");
}
END_TEST

START_TEST(test_fixture_errors)
{
	static const char *const modes[] = { "string", "error", "empty-name",
		"empty-type", "bad-range", "bad-chunk", "bad-quote",
		"type-error", "fine" };
	struct jsenv *env = new_env(0, 0);
	char *es5 = fixture_es5("fixture_errors.js");
	json_t *exp = load_json(FIXTURES "errors.expected.json");

	for (size_t i = 0; i < nitems(modes); i++) {
		char *path =
		    xasprintf("%serrors-%s.job.json", FIXTURES, modes[i]);
		json_t *sub = load_json(path), *job_in = job_in_of(sub);
		json_t *want = json_object_get(exp, modes[i]), *out = NULL;
		char *err = NULL;
		enum fm_err rc;

		rc = compile(env, es5, "fixture_errors.js", job_in, &out, &err);
		if (strcmp(modes[i], "fine") == 0) {
			json_t *tasks = json_object_get(out, "tasks");

			ck_assert_msg(rc == FM_OK, "fine: %s", err);
			ck_assert_uint_eq(json_array_size(tasks), 1);
			ck_assert_str_eq(json_string_value(json_object_get(
			                     json_array_get(tasks, 0), "name")),
			    "ok");
		} else {
			const char *needle =
			    json_string_value(json_object_get(want, "message"));

			ck_assert_msg(
			    rc == FM_ERR_JS, "%s: rc %d", modes[i], rc);
			ck_assert_ptr_null(out);
			ck_assert_ptr_nonnull(err);
			ck_assert_msg(*err != '\0', "%s: empty", modes[i]);
			ck_assert_msg(
			    needle == NULL || strstr(err, needle) != NULL,
			    "%s: '%s' lacks '%s'", modes[i], err, needle);
		}
		json_decref(out);
		json_decref(job_in);
		json_decref(sub);
		free(err);
		free(path);
	}
	json_decref(exp);
	free(es5);
	jsenv_free(env);
}
END_TEST

/* ---- ES2015+ features, one expression at a time ------------------- */

/*
 * Each case is a script body (ES2015+) that leaves its answer in "out";
 * it runs inside compileJob and the answer is compared as JSON.
 */
static const struct feature_case {
	const char *name;
	const char *body;
	const char *want; /* JSON */
} feature_cases[] = {
	{ "let/const", "let a = 1; const b = 2; { let a = 5; } out = a + b;",
	    "3" },
	{ "let in closures",
	    "const f = []; for (let i = 0; i < 3; i++) f.push(() => i);"
	    " out = f.map((g) => g());",
	    "[0,1,2]" },
	{ "arrow functions",
	    "const sq = (x) => x * x; const add = (a, b) => { return a + b; };"
	    " out = [sq(3), add(1, 2), [1, 2].map(x => x * 2)];",
	    "[9,3,[2,4]]" },
	{ "arrow this",
	    "const o = { v: 7, f() { return [1].map(() => this.v); } };"
	    " out = o.f();",
	    "[7]" },
	{ "template literals", "const n = 'x'; out = `a${n}b${1 + 2}\\n`;",
	    "\"axb3\\n\"" },
	{ "multi-line template", "out = `a\nb`;", "\"a\\nb\"" },
	{ "for-of array",
	    "out = []; for (const x of [1, 2, 3]) out.push(x * 10);",
	    "[10,20,30]" },
	{ "for-of Set",
	    "out = []; for (const x of new Set([3, 1, 3])) out.push(x);",
	    "[3,1]" },
	{ "for-of Map",
	    "out = []; for (const [k, v] of new Map([['a', 1], ['b', 2]]))"
	    " out.push(k + v);",
	    "[\"a1\",\"b2\"]" },
	{ "for-of string", "out = []; for (const c of 'ab') out.push(c);",
	    "[\"a\",\"b\"]" },
	{ "for-of map.keys",
	    "const m = new Map([[1, 'x']]); out = [];"
	    " for (const k of m.keys()) out.push(k);"
	    " for (const v of m.values()) out.push(v);",
	    "[1,\"x\"]" },
	{ "for-of closure body",
	    "const f = []; for (const x of [1, 2]) f.push(() => x);"
	    " out = f.map((g) => g());",
	    "[1,2]" },
	{ "for-of name clash",
	    "out = []; for (const tag of ['a']) out.push(tag);"
	    " for (const [tag, n] of new Map([['b', 1]])) out.push(tag + n);",
	    "[\"a\",\"b1\"]" },
	{ "object destructuring",
	    "const { a, b: c, d = 4, ...rest } = { a: 1, b: 2, e: 5 };"
	    " out = [a, c, d, rest];",
	    "[1,2,4,{\"e\":5}]" },
	{ "array destructuring",
	    "const [x, , y = 9, ...z] = [1, 2, undefined, 4, 5];"
	    " out = [x, y, z];",
	    "[1,9,[4,5]]" },
	{ "destructuring a Set",
	    "const [p, q] = new Set(['s', 't']); out = [p, q];",
	    "[\"s\",\"t\"]" },
	{ "destructuring parameters",
	    "function f({ a, b = 2 } = {}, [c] = [3]) { return [a, b, c]; }"
	    " out = [f({ a: 1 }), f()];",
	    "[[1,2,3],[null,2,3]]" },
	{ "default parameters",
	    "function f(a, b = a + 1) { return [a, b]; } out = f(1);",
	    "[1,2]" },
	{ "rest parameters",
	    "function f(a, ...r) { return r; } out = f(1, 2, 3);", "[2,3]" },
	{ "spread arrays and calls",
	    "const a = [1, 2]; out = [Math.max(...a), [...a, 3], [...'hi']];",
	    "[2,[1,2,3],[\"h\",\"i\"]]" },
	{ "spread Set and Map",
	    "out = [[...new Set([1, 1, 2])], [...new Map([[1, 2]])],"
	    " Math.max(...new Set([4, 8]))];",
	    "[[1,2],[[1,2]],8]" },
	{ "object spread", "out = { ...{ a: 1 }, b: 2 };",
	    "{\"a\":1,\"b\":2}" },
	{ "classes",
	    "class A { constructor(x = 1) { this.x = x; } get dbl() { return"
	    " this.x * 2; } static make() { return new A(5); } m() { return"
	    " 'A'; } }"
	    " class B extends A { constructor() { super(3); } m() { return"
	    " 'B' + super.m(); } }"
	    " out = [A.make().dbl, new B().dbl, new B().m(),"
	    " new B() instanceof A];",
	    "[10,6,\"BA\",true]" },
	{ "Set and Map API",
	    "const s = new Set([1]); s.add(2); s.delete(1);"
	    " const m = new Map(); m.set('k', 1);"
	    " out = [s.has(2), s.size, m.get('k'), m.has('x'), m.size];",
	    "[true,1,1,false,1]" },
	{ "string methods",
	    "out = ['a-b-c'.replaceAll('-', '..'), 'abc'.includes('b'),"
	    " 'abc'.startsWith('ab'), 'abc'.endsWith('c'), '7'.padStart(3,"
	    " '0'), 'ab'.repeat(2), 'x'.padEnd(3, '.'), '  t '.trimStart()];",
	    "[\"a..b..c\",true,true,true,\"007\",\"abab\",\"x..\",\"t \"]" },
	{ "array methods",
	    "out = [[1, 2].includes(2), [1, 2, 3].find((x) => x > 1),"
	    " [1, 2, 3].findIndex((x) => x > 1), Array.from({ length: 2 },"
	    " (_, i) => i), Array.of(7), [1, [2, [3]]].flat(Infinity),"
	    " [3, 1, 2].sort()];",
	    "[true,2,1,[0,1],[7],[1,2,3],[1,2,3]]" },
	{ "object statics",
	    "out = [Object.assign({}, { a: 1 }, { b: 2 }),"
	    " Object.entries({ x: 1 }), Object.values({ y: 2 }),"
	    " Object.keys({ z: 3 }), Object.fromEntries([['k', 'v']])];",
	    "[{\"a\":1,\"b\":2},[[\"x\",1]],[2],[\"z\"],{\"k\":\"v\"}]" },
	{ "number statics",
	    "out = [Number.isInteger(3), Number.isInteger(3.5),"
	    " Number.isFinite(1 / 0), Number.parseInt('12'), 2 ** 10];",
	    "[true,false,false,12,1024]" },
	{ "computed keys and shorthand",
	    "const k = 'key'; const v = 1; out = { [`${k}_1`]: true, v,"
	    " f() { return 2; } }.f() + 1;",
	    "3" },
	{ "computed key object",
	    "const k = 'key'; const v = 1; out = { [`${k}_1`]: true, v };",
	    "{\"key_1\":true,\"v\":1}" },
	{ "symbols",
	    "const s = Symbol('d'); const o = { [s]: 1 };"
	    " out = [typeof s, o[s]];",
	    "[\"symbol\",1]" },
	{ "optional catch binding",
	    "try { throw new Error('x'); } catch { out = 'caught'; }",
	    "\"caught\"" },
	{ "trailing commas",
	    "function f(a, b,) { return a + b; } out = f(1, 2,);", "3" },
	{ "strict mode",
	    "try { undeclared = 1; out = 'sloppy'; } catch (e) {"
	    " out = e instanceof ReferenceError; }",
	    "true" },
	{ "JSON and Date",
	    "out = [JSON.parse(JSON.stringify({ a: [1] })), typeof"
	    " Date.now()];",
	    "[{\"a\":[1]},\"number\"]" },
	{ "undefined and functions in output",
	    "out = { u: undefined, f() {}, n: null, x: [undefined, () => 1],"
	    " nan: NaN, r: 1.5 };",
	    "{\"n\":null,\"x\":[null,null],\"nan\":null,\"r\":1.5}" },
};

START_TEST(test_es2015_features)
{
	struct jsenv *env = new_env(0, 0);

	for (size_t i = 0; i < nitems(feature_cases); i++) {
		const struct feature_case *c = &feature_cases[i];
		char *src = xasprintf("const JOB_TYPE = { label: 't' };\n"
		                      "function compileJob(job) {\n"
		                      "let out;\n%s\n"
		                      "job.settings.out = out;\n}\n",
		    c->body);
		char *es5 = NULL, *err = NULL;
		json_t *job_in =
		    json_pack("{s:s, s:{}}", "name", "t", "settings");
		json_t *out = NULL, *want;
		json_error_t jerr;
		enum fm_err rc;

		rc = jsenv_transpile(src, "feature.js", &es5, &err);
		ck_assert_msg(rc == FM_OK, "%s: transpile: %s", c->name, err);
		rc = compile(env, es5, "feature.js", job_in, &out, &err);
		ck_assert_msg(rc == FM_OK, "%s: %s\n%s", c->name, err, es5);
		want = json_loads(c->want, JSON_DECODE_ANY, &jerr);
		ck_assert_msg(want != NULL, "%s: bad want", c->name);
		ck_assert_msg(
		    json_equal(json_object_get(
		                   json_object_get(out, "settings"), "out"),
		        want),
		    "%s: got %s want %s\n%s", c->name,
		    json_dumps(json_object_get(
		                   json_object_get(out, "settings"), "out"),
		        JSON_ENCODE_ANY),
		    c->want, es5);
		json_decref(want);
		json_decref(out);
		json_decref(job_in);
		free(es5);
		free(src);
	}
	jsenv_free(env);
}
END_TEST

START_TEST(test_unsupported_features)
{
	static const char *const srcs[] = {
		"function* g() { yield 1; }",
		"async function f() { await 1; }",
		"const t = String.raw`x`;",
		"import x from 'y';",
	};

	for (size_t i = 0; i < nitems(srcs); i++) {
		char *es5 = NULL, *err = NULL;

		ck_assert_int_eq(
		    jsenv_transpile(srcs[i], "bad.js", &es5, &err), FM_ERR_JS);
		ck_assert_ptr_null(es5);
		ck_assert_msg(strncmp(err, "bad.js:1: ", 10) == 0, "%s", err);
		free(err);
	}
}
END_TEST

/* ---- helpers for small scripts ------------------------------------ */

/* Compile src (ES2015+) on env with an empty job. */
static enum fm_err
compile_src(struct jsenv *env, const char *src, json_t **out, char **err)
{
	char *es5 = es5_of(src, "inline.js");
	json_t *job_in = json_pack("{s:s, s:s, s:i, s:{s:s}, s:{}}", "name",
	    "job", "jobType", "inline", "priority", 50, "settings", "k", "v",
	    "metadata");
	enum fm_err rc;

	rc = compile(env, es5, "inline.js", job_in, out, err);
	json_decref(job_in);
	free(es5);
	return rc;
}

static json_t *
compile_ok(struct jsenv *env, const char *src)
{
	json_t *out = NULL;
	char *err = NULL;

	ck_assert_msg(
	    compile_src(env, src, &out, &err) == FM_OK, "%s: %s", src, err);
	return out;
}

static void
compile_fails(
    struct jsenv *env, const char *src, enum fm_err want, const char *needle)
{
	json_t *out = NULL;
	char *err = NULL;
	enum fm_err rc = compile_src(env, src, &out, &err);

	ck_assert_msg(rc == want, "rc %d want %d: %s", rc, want, err);
	ck_assert_ptr_null(out);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(
	    strstr(err, needle) != NULL, "'%s' lacks '%s'", err, needle);
	free(err);
}

static const char *
setting_str(json_t *out, const char *key)
{
	return json_string_value(
	    json_object_get(json_object_get(out, "settings"), key));
}

/* ---- Flamenco's globals ------------------------------------------- */

START_TEST(test_globals)
{
	struct jsenv *env = new_env(0, 0);
	char cwd[4096];
	json_t *out;

	out = compile_ok(env,
	    "const JOB_TYPE = {};\n"
	    "function compileJob(job) {\n"
	    "  const s = job.settings;\n"
	    "  s.ts = formatTimestampLocal(job.created);\n"
	    "  s.ts2 = formatTimestampLocal(new Date(0));\n"
	    "  s.req = require('author') === author && require('path') === "
	    "path && require('process') === process;\n"
	    "  s.platform = process.platform;\n"
	    "  s.cwd = process.cwd();\n"
	    "  s.split = shellSplit(\"a 'b c' d\\\\ e\");\n"
	    "  s.chunks = frameChunker('1-5', 2);\n"
	    "  s.count = frameCount('1-5,3,10');\n"
	    "  print('hello', 1, {});\n"
	    "  alert('careful');\n"
	    "  try { require('fs'); } catch (e) { s.nofs = e.message; }\n"
	    "  s.jobfields = [job.name, job.jobType, job.priority, "
	    "typeof job.jobID, job.status, job.workerTagUUID, "
	    "job.storage.shamanCheckoutID];\n"
	    "}\n");
	ck_assert_int_eq(strlen(setting_str(out, "ts")), 17);
	ck_assert_ptr_nonnull(strchr(setting_str(out, "ts"), '_'));
	ck_assert_str_eq(setting_str(out, "platform"), "linux");
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_str_eq(setting_str(out, "cwd"), cwd);
	ck_assert_ptr_nonnull(strstr(setting_str(out, "nofs"), "fs"));
	ck_assert(json_is_true(
	    json_object_get(json_object_get(out, "settings"), "req")));
	ck_assert(
	    json_is(json_object_get(json_object_get(out, "settings"), "split"),
	        json_pack("[s,s,s]", "a", "b c", "d e")));
	ck_assert(
	    json_is(json_object_get(json_object_get(out, "settings"), "chunks"),
	        json_pack("[s,s,s]", "1,2", "3,4", "5")));
	ck_assert_int_eq(json_integer_value(json_object_get(
	                     json_object_get(out, "settings"), "count")),
	    6);
	ck_assert(json_is(
	    json_object_get(json_object_get(out, "settings"), "jobfields"),
	    json_pack(
	        "[s,s,i,s,s,s,s]", "job", "inline", 50, "string", "", "", "")));
	json_decref(out);
	jsenv_free(env);
}
END_TEST

START_TEST(test_author_semantics)
{
	struct jsenv *env = new_env(0, 0);
	json_t *out, *tasks, *t0, *t1;

	out = compile_ok(env,
	    "const JOB_TYPE = {};\n"
	    "function compileJob(job) {\n"
	    "  const a = author.Task(' a ', ' misc ');\n"
	    "  const params = { n: 1, list: [1] };\n"
	    "  const c = author.Command('echo', params, 3);\n"
	    "  params.n = 2; params.list.push(2);\n"
	    "  a.addCommand(c);\n"
	    "  job.addTask(a);\n"
	    "  a.priority = 99;\n"
	    "  a.addCommand(author.Command('late', {}));\n"
	    "  const b = author.Task('b', 'misc');\n"
	    "  b.priority = 10;\n"
	    "  b.addDependency(a); b.addDependency(a);\n"
	    "  b.addCommand({ name: 'plain', parameters: { x: 1 }, "
	    "totalStepCount: 2 });\n"
	    "  job.addTask(b);\n"
	    "  job.name = 'renamed'; job.priority = 7;\n"
	    "  job.metadata.added = 5;\n"
	    "  job.settings.n = job.tasks.length;\n"
	    "  job.settings.uuidOk = /^[0-9a-f-]{36}$/.test(a.uUID);\n"
	    "  job.settings.cmd = [c.name, c.totalStepCount, "
	    "author.Command('x', {}).totalStepCount];\n"
	    "}\n");
	tasks = json_object_get(out, "tasks");
	ck_assert_uint_eq(json_array_size(tasks), 2);
	t0 = json_array_get(tasks, 0);
	t1 = json_array_get(tasks, 1);
	ck_assert_str_eq(json_string_value(json_object_get(t0, "name")), "a");
	ck_assert_str_eq(
	    json_string_value(json_object_get(t0, "type")), "misc");
	ck_assert_int_eq(
	    json_integer_value(json_object_get(t0, "priority")), 50);
	ck_assert_uint_eq(json_array_size(json_object_get(t0, "commands")), 1);
	ck_assert(json_is(json_array_get(json_object_get(t0, "commands"), 0),
	    json_pack("{s:s, s:{s:i, s:[i]}, s:i}", "name", "echo",
	        "parameters", "n", 1, "list", 1, "total_step_count", 3)));
	ck_assert_int_eq(
	    json_integer_value(json_object_get(t1, "priority")), 10);
	ck_assert(json_is(json_object_get(t1, "dependencies"),
	    json_pack("[O]", json_object_get(t0, "uuid"))));
	ck_assert(json_is(json_array_get(json_object_get(t1, "commands"), 0),
	    json_pack("{s:s, s:{s:i}, s:i}", "name", "plain", "parameters", "x",
	        1, "total_step_count", 2)));
	ck_assert_str_eq(
	    json_string_value(json_object_get(out, "name")), "renamed");
	ck_assert_int_eq(
	    json_integer_value(json_object_get(out, "priority")), 7);
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_object_get(out, "metadata"), "added")),
	    "5");
	ck_assert(json_is(json_object_get(out, "settings"),
	    json_pack("{s:s, s:i, s:b, s:[s,i,i]}", "k", "v", "n", 2, "uuidOk",
	        1, "cmd", "echo", 3, 0)));
	json_decref(out);
	jsenv_free(env);
}
END_TEST

START_TEST(test_dependency_errors)
{
	struct jsenv *env = new_env(0, 0);

	compile_fails(env,
	    "const JOB_TYPE = {};\n"
	    "function compileJob(job) {\n"
	    "  const a = author.Task('a', 'misc');\n"
	    "  const b = author.Task('b', 'misc');\n"
	    "  b.addDependency(a);\n"
	    "  job.addTask(b);\n"
	    "}\n",
	    FM_ERR_INVALID, "task \"b\" depends on a task that was not added");
	compile_fails(env,
	    "const JOB_TYPE = {};\n"
	    "function compileJob(job) {\n"
	    "  const a = author.Task('a', 'misc');\n"
	    "  const b = author.Task('b', 'misc');\n"
	    "  a.addDependency(b); b.addDependency(a);\n"
	    "  job.addTask(a); job.addTask(b);\n"
	    "}\n",
	    FM_ERR_INVALID, "form a cycle");
	compile_fails(env,
	    "const JOB_TYPE = {};\n"
	    "function compileJob(job) {\n"
	    "  const a = author.Task('a', 'misc');\n"
	    "  a.addDependency(a); job.addTask(a);\n"
	    "}\n",
	    FM_ERR_INVALID, "cycle");
	compile_fails(env,
	    "const JOB_TYPE = {};\n"
	    "function compileJob(job) {\n"
	    "  const a = author.Task('a', 'misc');\n"
	    "  job.addTask(a); job.addTask(a);\n"
	    "}\n",
	    FM_ERR_INVALID, "more than once");
	compile_fails(env,
	    "const JOB_TYPE = {};\n"
	    "function compileJob(job) {\n"
	    "  job.addTask({ name: 'x' });\n"
	    "}\n",
	    FM_ERR_JS, "job.addTask(task)");
	jsenv_free(env);
}
END_TEST

START_TEST(test_commands_text)
{
	struct jsenv_limits lim = { .commands_text = true };
	struct jsenv *env = jsenv_new(&lim), *jenv = new_env(0, 0);
	const char *src =
	    "const JOB_TYPE = {};\n"
	    "function compileJob(job) {\n"
	    "  const t = author.Task('t', 'misc');\n"
	    "  t.addCommand(author.Command('a', { s: 'x\"y\\\\z\\u00e9\\ud83d\\ude00', "
	    "n: [1, 2.5, null, true], o: {} }, 4));\n"
	    "  t.addCommand(author.Command('b\\n', {}, 3));\n"
	    "  job.addTask(t);\n"
	    "}\n";
	json_t *out, *jout, *task, *cmds;
	const char *text;

	ck_assert_ptr_nonnull(env);
	out = compile_ok(env, src);
	jout = compile_ok(jenv, src);
	task = json_array_get(json_object_get(out, "tasks"), 0);
	ck_assert_ptr_null(json_object_get(task, "commands"));
	ck_assert_int_eq(
	    json_integer_value(json_object_get(task, "steps_total")), 7);
	text = json_string_value(json_object_get(task, "commands_json"));
	ck_assert_ptr_nonnull(text);
	cmds = json_loads(text, 0, NULL);
	ck_assert_msg(cmds != NULL, "not JSON: %s", text);
	ck_assert_msg(json_equal(cmds,
	                  json_object_get(
	                      json_array_get(json_object_get(jout, "tasks"), 0),
	                      "commands")),
	    "%s", text);
	ck_assert(json_is(cmds,
	    json_pack("[{s:s, s:{s:s, s:[i,f,n,b], s:{}}, s:i}, {s:s, s:{}, "
	              "s:i}]",
	        "name", "a", "parameters", "s",
	        "x\"y\\z\xc3\xa9\xf0\x9f\x98\x80", "n", 1, 2.5, 1, "o",
	        "total_step_count", 4, "name", "b\n", "parameters",
	        "total_step_count", 3)));
	json_decref(cmds);
	json_decref(out);
	json_decref(jout);
	jsenv_free(env);
	jsenv_free(jenv);
}
END_TEST

/*
 * NUL characters: kept exactly in command parameter values, refused in
 * everything stored or used as a name, and in text handed to C helpers.
 */
START_TEST(test_nul_characters)
{
	struct jsenv_limits lim = { .commands_text = true };
	struct jsenv *env = new_env(0, 0), *tenv = jsenv_new(&lim);
	static const char src[] =
	    "const JOB_TYPE = {};\n"
	    "function compileJob(job) {\n"
	    "  print('a\\u0000b');\n"
	    "  const t = author.Task('t', 'misc');\n"
	    "  t.addCommand(author.Command('exec', { args: ['a\\u0000b'], "
	    "s: '\\u0000' }));\n"
	    "  job.addTask(t);\n"
	    "}\n";
	static const struct {
		const char *body, *needle;
	} bad[] = {
		{ "job.addTask(author.Task('a\\u0000b', 'misc'));",
		    "author.Task(name, type): the name \"a\" contains a NUL" },
		{ "job.addTask(author.Task('a', 'm\\u0000'));",
		    "the type \"m\" contains a NUL" },
		{ "const t = author.Task('a', 'm'); t.name = 'x\\u0000';"
		  " job.addTask(t);",
		    "job.addTask(task): the task name \"x\" contains a NUL" },
		{ "const t = author.Task('a', 'm'); t.type = '\\u0000';"
		  " job.addTask(t);",
		    "the task type \"\" contains a NUL" },
		{ "const t = author.Task('a', 'm'); t.uUID += '\\u0000';"
		  " job.addTask(t);",
		    "task UUID" },
		{ "author.Command('e\\u0000x', {});",
		    "the command name \"e\" contains a NUL" },
		{ "author.Command('exec', { ['k\\u0000']: 1 });",
		    "a parameter name of command \"exec\" contains a NUL" },
		{ "author.Command('exec', { deep: { ['\\u0000']: 1 } });",
		    "parameter name" },
		{ "const t = author.Task('a', 'm'); t.addCommand({ name: 'c', "
		  "parameters: { ['\\u0000']: 1 } }); job.addTask(t);",
		    "job.addTask(task): a parameter name" },
		{ "job.addTask(author.Task('x'.repeat(1025), 'misc'));",
		    "is longer than 1024 bytes" },
		{ "author.Command('x'.repeat(1025), {});",
		    "is longer than 1024 bytes" },
		{ "frameChunker('1-3\\u00004', 1);",
		    "frameChunker(frames, chunkSize): the text contains a NUL" },
		{ "frameCount('1\\u0000');", "frameCount(frames)" },
		{ "shellSplit('a\\u0000b');", "shellSplit(text)" },
		{ "path.join('a', 'b\\u0000c');", "path.join(...paths)" },
		{ "path.dirname('a\\u0000/b');", "path.dirname(path)" },
		{ "path.basename('a\\u0000');", "path.basename(path)" },
		{ "path.stem('a\\u0000');", "path.stem(path)" },
		{ "require('author\\u0000x');", "require(name)" },
		{ "formatTimestampLocal('2024-01-01T00:00:00Z\\u0000');",
		    "formatTimestampLocal(t)" },
		{ "throw new Error('bad\\u0000thing');", "bad\\u0000thing" },
	};
	json_t *out, *cmd, *args, *cmds;
	const char *text;

	ck_assert_ptr_nonnull(tenv);
	out = compile_ok(env, src);
	cmd = json_array_get(
	    json_object_get(
	        json_array_get(json_object_get(out, "tasks"), 0), "commands"),
	    0);
	args = json_object_get(json_object_get(cmd, "parameters"), "args");
	ck_assert_uint_eq(json_string_length(json_array_get(args, 0)), 3);
	ck_assert_mem_eq(json_string_value(json_array_get(args, 0)), "a\0b", 3);
	json_decref(out);

	/* As text (what the store keeps): \u0000, decoded whole. */
	out = compile_ok(tenv, src);
	text = json_string_value(json_object_get(
	    json_array_get(json_object_get(out, "tasks"), 0), "commands_json"));
	ck_assert_ptr_nonnull(strstr(text, "\"a\\u0000b\""));
	cmds = json_loads(text, JSON_ALLOW_NUL, NULL);
	ck_assert_ptr_nonnull(cmds);
	ck_assert_uint_eq(
	    json_string_length(json_array_get(
	        json_object_get(
	            json_object_get(json_array_get(cmds, 0), "parameters"),
	            "args"),
	        0)),
	    3);
	json_decref(cmds);
	json_decref(out);

	for (size_t i = 0; i < nitems(bad); i++) {
		char *body = xasprintf("const JOB_TYPE = {};\n"
		                       "function compileJob(job) {\n%s\n}\n",
		    bad[i].body);

		compile_fails(env, body, FM_ERR_JS, bad[i].needle);
		free(body);
	}
	jsenv_free(env);
	jsenv_free(tenv);
}
END_TEST

/* ---- errors and describe ------------------------------------------ */

START_TEST(test_script_errors)
{
	struct jsenv *env = new_env(0, 0);
	json_t *jt = NULL;
	char *es5, *err = NULL;

	compile_fails(env, "const JOB_TYPE = {};\n", FM_ERR_JS,
	    "inline.js: the script defines no compileJob function");
	compile_fails(env,
	    "const JOB_TYPE = {};\nfunction compileJob(job) {\n"
	    "  throw new TypeError('bad type');\n}\n",
	    FM_ERR_JS, "TypeError: bad type (inline.js:3)");
	compile_fails(env,
	    "const JOB_TYPE = {};\nfunction compileJob(job) {\n"
	    "  author.Task('', 'x');\n}\n",
	    FM_ERR_JS,
	    "author.Task(name, type): name is required (inline.js:3)");
	compile_fails(env,
	    "const JOB_TYPE = {};\nfunction compileJob(job) {\n"
	    "  throw { toString() { return 'custom'; } };\n}\n",
	    FM_ERR_JS, "custom");
	compile_fails(env, "throw 'top level';\n", FM_ERR_JS, "top level");
	/* Locations are the script's own lines, though buble moves code. */
	compile_fails(env,
	    "const JOB_TYPE = {};\n"
	    "class A {\n"
	    "  constructor() { this.x = 1; }\n"
	    "  get y() { return 2; }\n"
	    "  static z() { return `${1}`; }\n"
	    "}\n"
	    "function compileJob(job) {\n"
	    "  const { a = 1, b } = { b: new A().y };\n"
	    "  for (const [k, v] of new Map([[a, b]])) { k + v; }\n"
	    "  throw new Error('line ten');\n"
	    "}\n",
	    FM_ERR_JS, "line ten (inline.js:10)");

	/* Syntax errors name the file and line. */
	ck_assert_int_eq(jsenv_transpile("const a = 1;\nlet = = 2;\n",
	                     "syntax.js", &es5, &err),
	    FM_ERR_JS);
	ck_assert_msg(strncmp(err, "syntax.js:2: ", 13) == 0, "%s", err);
	free(err);

	/* describe: JOB_TYPE as JSON, or a clear error. */
	es5 = es5_of("const JOB_TYPE = { label: 'L', settings: [{ key: 'k', "
	             "type: 'string', default: 3, visible: false, f() {} }] };",
	    "describe.js");
	ck_assert_int_eq(
	    jsenv_describe(env, es5, "describe.js", &jt, &err), FM_OK);
	ck_assert(json_is(jt,
	    json_pack("{s:s, s:[{s:s, s:s, s:i, s:b}]}", "label", "L",
	        "settings", "key", "k", "type", "string", "default", 3,
	        "visible", 0)));
	json_decref(jt);
	free(es5);
	es5 = es5_of("function compileJob() {}\n", "nojt.js");
	ck_assert_int_eq(
	    jsenv_describe(env, es5, "nojt.js", &jt, &err), FM_ERR_JS);
	ck_assert_ptr_null(jt);
	ck_assert_str_eq(err, "nojt.js: the script defines no JOB_TYPE object");
	free(err);
	free(es5);
	jsenv_free(env);
}
END_TEST

/* ---- the sandbox -------------------------------------------------- */

/* Compile src expecting want; returns the seconds it took (the
 * transpiling, whose first call sets up a heap, not counted). */
static double
timed_failure(
    struct jsenv *env, const char *src, enum fm_err want, const char *needle)
{
	char *es5 = es5_of(src, "inline.js"), *err = NULL;
	json_t *job_in = json_pack("{s:s}", "name", "job"), *out = NULL;
	int64_t t0 = time_mono_us();
	enum fm_err rc = compile(env, es5, "inline.js", job_in, &out, &err);
	double secs = (double)(time_mono_us() - t0) / 1e6;

	ck_assert_msg(rc == want, "rc %d want %d: %s", rc, want, err);
	ck_assert_msg(err != NULL && strstr(err, needle) != NULL,
	    "'%s' lacks '%s'", err, needle);
	ck_assert_ptr_null(out);
	free(err);
	free(es5);
	json_decref(job_in);
	return secs;
}

START_TEST(test_timeout)
{
	struct jsenv *env = new_env(0, 300000);
	json_t *out;
	double secs;

	secs = timed_failure(env,
	    "const JOB_TYPE = {};\nfunction compileJob(job) {\n"
	    "  for (;;) { try { while (true) {} } catch (e) {} }\n}\n",
	    FM_ERR_TIMEOUT, "longer than 0.3 s");
	ck_assert_double_lt(secs, 1.0);
	ck_assert(!jsenv_broken(env));
	/* The heap still works. */
	out = compile_ok(env,
	    "const JOB_TYPE = {};\n"
	    "function compileJob(job) { job.settings.x = 1; }");
	json_decref(out);
	/* Top-level code is limited too. */
	compile_fails(env, "while (true) {}\n", FM_ERR_TIMEOUT, "longer than");
	jsenv_free(env);
}
END_TEST

/*
 * The time limit holds for time spent in C: in Duktape's garbage
 * collector near the memory cap (every push fails, is caught, and fails
 * again after ten collections), in built-ins and in our bindings. Such
 * a call is abandoned soon after its deadline; the broken heap is freed
 * whole (LeakSanitizer checks) and a new one works.
 */
START_TEST(test_timeout_in_c)
{
	static const char *const scripts[] = {
		/* allocation-heavy, near the cap */
		"  const keep = [];\n"
		"  for (;;) {\n"
		"    try { keep.push({ s: 'x' + keep.length, a: [1, 2, 3] }); }\n"
		"    catch (e) { keep.length = keep.length - 1; }\n"
		"  }\n",
		/* big strings built by a C built-in */
		"  const a = [];\n"
		"  for (;;) { try { a.push('y'.repeat(1 << 20)); } catch (e) "
		"{ a.length = 0; } }\n",
		/* frameChunker's million chunks, again and again */
		"  for (;;) { try { frameChunker('1-1000000', 1); } catch (e) "
		"{} }\n",
		/* a huge settings object turned into JSON */
		"  const s = job.settings; s.a = [];\n"
		"  for (let i = 0; i < 200000; i++) s.a.push({ i: i, t: "
		"'z'.repeat(20) });\n"
		"  for (;;) { const t = author.Task('t', 'x');\n"
		"    t.addCommand(author.Command('c', s)); }\n",
	};
	const double limit = 1.0, slack = 2.0;

	for (size_t i = 0; i < nitems(scripts); i++) {
		struct jsenv *env = new_env((size_t)64 << 20, 1000000);
		char *src = xasprintf("const JOB_TYPE = {};\n"
		                      "function compileJob(job) {\n%s}\n",
		    scripts[i]);
		json_t *out;
		double secs;

		secs = timed_failure(
		    env, src, FM_ERR_TIMEOUT, "ran longer than 1 s");
		fprintf(stderr,
		    "jsenv: script %zu of test_timeout_in_c stopped after "
		    "%.2f s (limit %.1f s)%s\n",
		    i, secs, limit,
		    jsenv_broken(env) ? ", heap abandoned" : "");
		ck_assert_msg(secs < limit + slack,
		    "script %zu ran %.2f s, limit %.1f s", i, secs, limit);
		if (jsenv_broken(env)) {
			jsenv_free(env);
			env = new_env((size_t)64 << 20, 1000000);
		}
		out = compile_ok(env,
		    "const JOB_TYPE = {};\n"
		    "function compileJob(job) { job.settings.x = 1; }");
		json_decref(out);
		jsenv_free(env);
		free(src);
	}
}
END_TEST

/* Past max_tasks, addTask throws; catching that does not help. */
START_TEST(test_task_cap)
{
	struct jsenv_limits lim = { .max_tasks = 10 };
	struct jsenv *env = jsenv_new(&lim);
	json_t *out;

	ck_assert_ptr_nonnull(env);
	compile_fails(env,
	    "const JOB_TYPE = {};\nfunction compileJob(job) {\n"
	    "  for (let i = 0; i < 11; i++) job.addTask(author.Task('t', "
	    "'x'));\n}\n",
	    FM_ERR_INVALID, "more than 10 tasks");
	compile_fails(env,
	    "const JOB_TYPE = {};\nfunction compileJob(job) {\n"
	    "  for (let i = 0; i < 20; i++)\n"
	    "    try { job.addTask(author.Task('t', 'x')); } catch (e) {}\n}\n",
	    FM_ERR_INVALID, "(max_tasks_per_job)");
	out = compile_ok(env,
	    "const JOB_TYPE = {};\nfunction compileJob(job) {\n"
	    "  for (let i = 0; i < 10; i++) job.addTask(author.Task('t', "
	    "'x'));\n}\n");
	ck_assert_uint_eq(json_array_size(json_object_get(out, "tasks")), 10);
	json_decref(out);
	jsenv_free(env);
}
END_TEST

START_TEST(test_memory_cap)
{
	/* A memory test: the time limit only keeps a broken cap from running
	 * away, generous for loaded machines. */
	struct jsenv *env =
	    new_env((size_t)96 << 20, 60000000 * test_time_scale());
	json_t *out;

	compile_fails(env,
	    "const JOB_TYPE = {};\nfunction compileJob(job) {\n"
	    "  const a = []; for (;;) a.push({ n: a.length, s: 'x' + a.length });\n"
	    "}\n",
	    FM_ERR_NOMEM, "more than 96 MiB");
	ck_assert(!jsenv_broken(env));
	compile_fails(env,
	    "const JOB_TYPE = {};\nfunction compileJob(job) {\n"
	    "  let s = 'x'; for (;;) s = s + s;\n}\n",
	    FM_ERR_NOMEM, "MiB");
	/* Endless tasks hit the authored job's budget. */
	compile_fails(env,
	    "const JOB_TYPE = {};\nfunction compileJob(job) {\n"
	    "  const p = { args: 'y'.repeat(10000) };\n"
	    "  for (;;) { const t = author.Task('t', 'x');"
	    " t.addCommand(author.Command('c', p)); job.addTask(t); }\n}\n",
	    FM_ERR_NOMEM, "the authored job needs more than 96 MiB");
	out = compile_ok(env,
	    "const JOB_TYPE = {};\n"
	    "function compileJob(job) { job.settings.x = 1; }");
	json_decref(out);
	ck_assert_uint_lt(jsenv_heap_bytes(env), (size_t)48 << 20);
	jsenv_free(env);
}
END_TEST

START_TEST(test_no_state_between_runs)
{
	struct jsenv *env = new_env(0, 0);
	json_t *out;
	const char *polluter =
	    "var topLevel = 1;\n"
	    "const JOB_TYPE = {};\n"
	    "function compileJob(job) {\n"
	    "  globalThis.leaked = 'yes';\n"
	    "  Array.prototype.evil = 1;\n"
	    "  Object.prototype.evil2 = 2;\n"
	    "  String.prototype.trim = () => 'hacked';\n"
	    "  Math.max = () => -1;\n"
	    "  author.Task = () => null;\n"
	    "  delete path.join;\n"
	    "  JSON.stringify = null;\n"
	    "  Object.defineProperty(globalThis, 'hidden', { value: 1, "
	    "enumerable: false, configurable: true });\n"
	    "  Object.setPrototypeOf(Set.prototype, null);\n"
	    "  Object.defineProperty(Array.prototype, 'includes', "
	    "{ writable: false, configurable: false });\n"
	    "  job.settings.done = 1;\n"
	    "}\n";
	const char *checker =
	    "const JOB_TYPE = {};\n"
	    "function compileJob(job) {\n"
	    "  job.settings.r = [typeof leaked, [].evil, ({}).evil2, "
	    "' x '.trim(), Math.max(1, 2), typeof author.Task('a', 'b'), "
	    "path.join('a', 'b'), typeof JSON.stringify, typeof hidden, "
	    "typeof topLevel, new Set([1]).has(1), Object."
	    "getOwnPropertyDescriptor(Array.prototype, 'includes')."
	    "configurable];\n"
	    "}\n";

	json_decref(compile_ok(env, polluter));
	ck_assert(!jsenv_broken(env));
	out = compile_ok(env, checker);
	ck_assert_msg(
	    json_is(json_object_get(json_object_get(out, "settings"), "r"),
	        json_pack("[s,n,n,s,i,s,s,s,s,s,b,b]", "undefined", "x", 2,
	            "object", "a/b", "function", "undefined", "undefined", 1,
	            1)),
	    "%s",
	    json_dumps(
	        json_object_get(json_object_get(out, "settings"), "r"), 0));
	json_decref(out);

	/* A change that cannot be undone retires the heap. */
	json_decref(compile_ok(env,
	    "const JOB_TYPE = {};\nfunction compileJob(job) {\n"
	    "  Object.preventExtensions(Object.prototype);\n}\n"));
	ck_assert(!jsenv_broken(env));
	ck_assert_int_eq(jsenv_reset(env), FM_ERR_INTERNAL);
	ck_assert(jsenv_broken(env));
	compile_fails(env, checker, FM_ERR_INTERNAL, "broken");
	jsenv_free(env);
}
END_TEST

START_TEST(test_hostile_reentry)
{
	struct jsenv *env = new_env(0, 0);
	json_t *out;

	/* Setters and getters that call back into bindings mid-way. */
	out = compile_ok(env,
	    "const JOB_TYPE = {};\n"
	    "function compileJob(job) {\n"
	    "  const t = author.Task('t', 'x');\n"
	    "  t.addCommand({ get name() { frameChunker('1-5', 1);\n"
	    "    job.addTask(author.Task('inner', 'x')); return 'n'; },\n"
	    "    parameters: { get p() { return shellSplit('x y'); } } });\n"
	    "  Object.defineProperty(Array.prototype, '0', { set(v) {\n"
	    "    frameChunker('1-100', 1); shellSplit('a b'); },\n"
	    "    configurable: true });\n"
	    "  Object.defineProperty(Object.prototype, 'k', { set(v) {\n"
	    "    frameChunker('1-100', 1); }, configurable: true });\n"
	    "  const c = frameChunker('1-10', 2);\n"
	    "  job.addTask(t);\n"
	    "  job.settings.c = c.length + ':' + c[0] + ':' + job.settings.k;\n"
	    "}\n");
	ck_assert_str_eq(setting_str(out, "c"), "5:1,2:v");
	ck_assert_uint_eq(json_array_size(json_object_get(out, "tasks")), 2);
	json_decref(out);
	out = compile_ok(env,
	    "const JOB_TYPE = {};\n"
	    "function compileJob(job) {\n"
	    "  job.settings.c = [1].length + ':' + "
	    "Object.getOwnPropertyNames(Array.prototype)"
	    ".indexOf('0');\n}\n");
	ck_assert_str_eq(setting_str(out, "c"), "1:-1");
	json_decref(out);
	jsenv_free(env);
}
END_TEST

/* ---- speed -------------------------------------------------------- */

static double
ms_since(int64_t t0)
{
	return (double)(time_mono_us() - t0) / 1000.0;
}

/* CPU time of this thread in ms: compile speed as the bounds judge it,
 * unaffected by other work on a shared machine. */
static double
cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* Compile render_like.js for frames 1-n, chunk 1: n + 1 tasks. Returns
 * the compile's CPU time in ms. */
static double
compile_render_like(struct jsenv *env, const char *es5, int n)
{
	char frames[32];
	json_t *job_in, *out = NULL, *tasks;
	char *err = NULL;
	double ms, cpu0;

	snprintf(frames, sizeof(frames), "1-%d", n);
	job_in = json_pack("{s:s, s:s, s:i, s:I, s:{s:s, s:i, s:s, s:s, "
	                   "s:f, s:s, s:s, s:s}, s:{}}",
	    "name", "bench", "jobType", "render-like", "priority", 50,
	    "created", (json_int_t)time_now_us(), "settings", "frames", frames,
	    "chunk_size", 1, "render_output_path",
	    "/render/{timestamp}/frame-######", "blendfile",
	    "/shared/shot.flamenco.blend", "fps", 24.0, "format", "PNG",
	    "image_file_extension", ".png", "scene", "Scene", "metadata");
	cpu0 = cpu_ms();
	ck_assert_msg(
	    compile(env, es5, "render_like.js", job_in, &out, &err) == FM_OK,
	    "%s", err);
	ms = cpu_ms() - cpu0;
	tasks = json_object_get(out, "tasks");
	ck_assert_uint_eq(json_array_size(tasks), (size_t)n + 1);
	ck_assert_uint_eq(
	    json_array_size(json_object_get(
	        json_array_get(tasks, (size_t)n), "dependencies")),
	    (size_t)n);
	json_decref(out);
	json_decref(job_in);
	return ms;
}

START_TEST(test_speed)
{
	char *src = slurp(JSFIX "render_like.js"), *es5, *es5b, *err = NULL;
	/* Speed is judged by the bounds below; the time limit is only for
	 * a machine so loaded that 100,000 tasks take 10 s of wall time. */
	struct jsenv_limits text = { .commands_text = true,
		.timeout_us = 120000000 };
	struct jsenv *env, *tenv;
	json_t *jt = NULL;
	int64_t t0;
	double ms_new, ms_tr, ms_tr2, ms_small, ms_10k, ms_100k, ms_desc;
	double ms_10k_text, ms_reset;

	t0 = time_mono_us();
	env = new_env(0, text.timeout_us);
	ms_new = ms_since(t0);
	t0 = time_mono_us();
	ck_assert_int_eq(
	    jsenv_transpile(src, "render_like.js", &es5, &err), FM_OK);
	ms_tr = ms_since(t0);
	t0 = time_mono_us();
	ck_assert_int_eq(
	    jsenv_transpile(src, "render_like.js", &es5b, &err), FM_OK);
	ms_tr2 = ms_since(t0);
	t0 = time_mono_us();
	ck_assert_int_eq(
	    jsenv_describe(env, es5, "render_like.js", &jt, &err), FM_OK);
	ms_desc = ms_since(t0);
	json_decref(jt);

	ms_small = compile_render_like(env, es5, 10);
	ms_small = compile_render_like(env, es5, 10);
	ms_10k = compile_render_like(env, es5, 10000);
	t0 = time_mono_us();
	ck_assert_int_eq(jsenv_reset(env), FM_OK);
	ms_reset = ms_since(t0);
	ms_10k = compile_render_like(env, es5, 10000);
	ms_100k = compile_render_like(env, es5, 100000);
	tenv = jsenv_new(&text);
	ck_assert_ptr_nonnull(tenv);
	ms_10k_text = compile_render_like(tenv, es5, 10000);
	ms_10k_text = compile_render_like(tenv, es5, 10000);
	fprintf(stderr,
	    "jsenv speed: jsenv_new %.1f ms, transpile %.1f ms (cached "
	    "%.2f ms), describe %.2f ms, compile (CPU time) 11 tasks %.2f "
	    "ms, 10001 tasks %.1f ms (commands as text %.1f ms), reset "
	    "after 10001 tasks %.1f ms, 100001 tasks %.1f ms, heap %zu "
	    "MiB\n",
	    ms_new, ms_tr, ms_tr2, ms_desc, ms_small, ms_10k, ms_10k_text,
	    ms_reset, ms_100k, jsenv_heap_bytes(env) >> 20);
	ck_assert_double_lt(ms_10k, MAX_MS_10K);
	ck_assert_double_lt(ms_100k, ms_10k * MAX_GROWTH_100K);
	ck_assert(!jsenv_broken(env));
	jsenv_free(env);
	jsenv_free(tenv);
	free(es5);
	free(es5b);
	free(src);
}
END_TEST

/*
 * What a large compile took is given back at the reset: the heap is back
 * to its size before the job (the pool then trims malloc's arenas).
 */
START_TEST(test_memory_given_back)
{
	char *src = slurp(JSFIX "render_like.js"), *es5 = NULL, *err = NULL;
	struct jsenv *env = new_env(0, 120000000);
	size_t before, peak;

	ck_assert_int_eq(
	    jsenv_transpile(src, "render_like.js", &es5, &err), FM_OK);
	(void)compile_render_like(env, es5, 10);
	ck_assert_int_eq(jsenv_reset(env), FM_OK);
	before = jsenv_heap_bytes(env);
	(void)compile_render_like(env, es5, 20000);
	peak = jsenv_heap_bytes(env);
	ck_assert_int_eq(jsenv_reset(env), FM_OK);
	fprintf(stderr,
	    "jsenv: heap %zu KiB before a 20001-task job, %zu KiB after it, "
	    "%zu KiB after the reset\n",
	    before / 1024, peak / 1024, jsenv_heap_bytes(env) / 1024);
	ck_assert_uint_gt(peak, before + ((size_t)16 << 20));
	ck_assert_uint_lt(jsenv_heap_bytes(env), before + ((size_t)1 << 20));
	jsenv_free(env);
	free(es5);
	free(src);
}
END_TEST

START_TEST(test_new_heaps)
{
	struct jsenv *a, *b;
	int64_t t0 = time_mono_us();

	a = new_env(0, 0);
	b = new_env(0, 0);
	fprintf(stderr, "jsenv: two heaps in %.1f ms\n", ms_since(t0));
	jsenv_free(a);
	jsenv_free(b);
	jsenv_free(NULL);
	jsenv_transpile_shutdown();
}
END_TEST

static Suite *
jsenv_suite(void)
{
	Suite *s = suite_create("jsenv");
	TCase *fx = tcase_create("fixtures");
	TCase *js = tcase_create("language");
	TCase *env = tcase_create("environment");
	TCase *sandbox = tcase_create("sandbox");
	TCase *speed = tcase_create("speed");

	tcase_set_timeout(fx, 60);
	tcase_set_timeout(js, 60);
	tcase_set_timeout(env, 60);
	tcase_set_timeout(sandbox, 60);
	tcase_set_timeout(speed, 120);
	/* Timings mean nothing under valgrind: make valgrind skips them. */
	tcase_set_tags(speed, "speed");
	tcase_add_test(fx, test_fixture_es2015);
	tcase_add_test(fx, test_fixture_environment);
	tcase_add_test(fx, test_fixture_errors);
	tcase_add_test(js, test_es2015_features);
	tcase_add_test(js, test_unsupported_features);
	tcase_add_test(env, test_globals);
	tcase_add_test(env, test_author_semantics);
	tcase_add_test(env, test_dependency_errors);
	tcase_add_test(env, test_commands_text);
	tcase_add_test(env, test_nul_characters);
	tcase_add_test(env, test_script_errors);
	tcase_add_test(sandbox, test_timeout);
	tcase_add_test(sandbox, test_timeout_in_c);
	tcase_add_test(sandbox, test_task_cap);
	tcase_add_test(sandbox, test_memory_cap);
	tcase_add_test(sandbox, test_no_state_between_runs);
	tcase_add_test(sandbox, test_hostile_reentry);
	tcase_add_test(speed, test_speed);
	tcase_add_test(speed, test_memory_given_back);
	tcase_add_test(speed, test_new_heaps);
	suite_add_tcase(s, fx);
	suite_add_tcase(s, js);
	suite_add_tcase(s, env);
	suite_add_tcase(s, sandbox);
	suite_add_tcase(s, speed);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(jsenv_suite());
	int failed;

	log_set_level(LOG_LEVEL_WARN);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	/* With CK_FORK=no (make valgrind) the shared transpiler heap lives
	 * in this process; free it so only real leaks are reported. */
	jsenv_transpile_shutdown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
