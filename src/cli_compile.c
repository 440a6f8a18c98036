/*
 * The offline compiler: the same registry, compiler pool and submission
 * pipeline as the daemon, without storage or HTTP.
 */
#include "cli_compile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app.h"
#include "config.h"
#include "jobc.h"
#include "jobtypes.h"
#include "jsenv.h"
#include "submit.h"
#include "variables.h"
#include "xmalloc.h"

#define READY_TIMEOUT_US (60 * 1000000LL)

/* Fill what an artist would not type by hand. */
static void
complete_job(json_t *job, const char *type)
{
	json_object_set_new(job, "type", json_string(type));
	if (json_object_get(job, "name") == NULL)
		json_object_set_new(job, "name", json_string("offline test"));
	if (json_object_get(job, "priority") == NULL)
		json_object_set_new(job, "priority", json_integer(50));
	if (json_object_get(job, "submitter_platform") == NULL)
		json_object_set_new(job, "submitter_platform",
		    json_string(variables_manager_platform()));
}

int
cli_compile(const struct fm_config *cfg, const char *type, const char *job_path)
{
	struct jobc_options jo = {
		.heaps = 1,
		.heap_max_bytes = (size_t)cfg->compiler_heap_max_bytes,
		.timeout_us = cfg->compile_timeout_us,
		.max_tasks = (size_t)cfg->max_tasks_per_job,
		.wait_us = READY_TIMEOUT_US,
	};
	struct fm_ctx ctx = { .cfg = cfg };
	char *scripts_dir = NULL, *type_name = NULL, *err = NULL;
	json_t *submitted = NULL, *job = NULL, *explained;
	json_error_t jerr;
	struct stat st;
	int status = 1;

	if (jobtypes_is_type_file(type) && stat(type, &st) == 0) {
		const char *slash = strrchr(type, '/');

		scripts_dir = slash ? xstrndup(type, (size_t)(slash - type))
		                    : xstrdup(".");
		type_name = jobtypes_name_from_file(type);
	} else {
		scripts_dir = xstrdup(cfg->scripts_path);
		type_name = xstrdup(type);
	}
	submitted = json_load_file(job_path, 0, &jerr);
	if (submitted == NULL || !json_is_object(submitted)) {
		fprintf(stderr, "flamenco-manager: %s:%d: %s\n", job_path,
		    jerr.line,
		    submitted ? "expected a JSON object" : jerr.text);
		status = 2;
		goto done;
	}
	complete_job(submitted, type_name);
	if (jobc_new(&jo, &ctx.jobc, &err) != FM_OK) {
		fprintf(stderr, "flamenco-manager: %s\n", err);
		goto done;
	}
	ctx.jobtypes = jobtypes_new(scripts_dir, ctx.jobc, READY_TIMEOUT_US);
	if (submit_compile(&ctx, NULL, submitted, &job, &err) != FM_OK) {
		fprintf(stderr, "flamenco-manager: %s: %s\n", type_name,
		    err ? err : "failed");
		goto done;
	}
	explained = submit_explain(job);
	json_dumpf(explained, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(explained);
	status = 0;
done:
	jobtypes_free(ctx.jobtypes);
	jobc_free(ctx.jobc);
	jsenv_transpile_shutdown();
	json_decref(job);
	json_decref(submitted);
	free(err);
	free(scripts_dir);
	free(type_name);
	return status;
}
