/*
 * Shape checks of job dependencies, with messages that name the entry
 * and the field, so a pipeline tool's author can fix the submission.
 */
#include "jobdeps.h"

#include <stdint.h>
#include <string.h>

#include "ids.h"
#include "xmalloc.h"

/* Check a selector object: absent, or exactly one of "name"/"type" as a
 * non-empty string without NUL characters. */
static bool
check_selector(
    const json_t *sel, const char *where, const char *field, char **msg_out)
{
	const char *key;
	json_t *v;

	if (sel == NULL || json_is_null(sel))
		return true;
	if (!json_is_object(sel) || json_object_size(sel) != 1) {
		*msg_out =
		    xasprintf("%s.%s must be an object with one member, "
		              "\"name\" (a task name pattern) or \"type\" "
		              "(a task type)",
		        where, field);
		return false;
	}
	json_object_foreach ((json_t *)(uintptr_t)sel, key, v) {
		if (strcmp(key, "name") != 0 && strcmp(key, "type") != 0) {
			*msg_out = xasprintf("%s.%s: unknown member \"%.40s\"; "
			                     "use \"name\" or \"type\"",
			    where, field, key);
			return false;
		}
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > JOBDEPS_MAX_MATCH_BYTES ||
		    memchr(json_string_value(v), '\0', json_string_length(v)) !=
		        NULL) {
			*msg_out =
			    xasprintf("%s.%s.%s must be a non-empty "
			              "string of at most %d bytes without "
			              "NUL characters",
			        where, field, key, JOBDEPS_MAX_MATCH_BYTES);
			return false;
		}
	}
	return true;
}

/* One entry; where names it in messages ("depends_on[2]"). */
static enum fm_err
check_entry(
    const json_t *entry, bool overlap, const char *where, char **msg_out)
{
	const json_t *job = json_object_get(entry, "job");
	const json_t *waiting = json_object_get(entry, "waiting");
	const char *key;
	json_t *v;

	if (!json_is_object(entry)) {
		*msg_out = xasprintf("%s must be an object", where);
		return FM_ERR_INVALID;
	}
	json_object_foreach ((json_t *)(uintptr_t)entry, key, v) {
		if (strcmp(key, "job") != 0 && strcmp(key, "tasks") != 0 &&
		    strcmp(key, "waiting") != 0) {
			*msg_out = xasprintf(
			    "%s: unknown member \"%.40s\"", where, key);
			return FM_ERR_INVALID;
		}
	}
	if (!json_is_string(job) || !ids_valid_uuid(json_string_value(job))) {
		*msg_out = xasprintf(
		    "%s.job must be the UUID of the job waited for", where);
		return FM_ERR_INVALID;
	}
	if (!check_selector(
	        json_object_get(entry, "tasks"), where, "tasks", msg_out) ||
	    !check_selector(waiting, where, "waiting", msg_out))
		return FM_ERR_INVALID;
	if (!overlap && waiting != NULL && !json_is_null(waiting)) {
		*msg_out = xasprintf("%s.waiting needs dependency_mode "
		                     "\"overlap\"; in \"strict\" mode every "
		                     "task of the job waits",
		    where);
		return FM_ERR_INVALID;
	}
	return FM_OK;
}

static bool
same_selector(struct jobdeps_selector a, struct jobdeps_selector b)
{
	return strcmp(a.kind, b.kind) == 0 && strcmp(a.match, b.match) == 0;
}

/* Whether entries i and j (checked) say the same thing. */
static bool
same_entry(const json_t *a, const json_t *b)
{
	return strcmp(json_string_value(json_object_get(a, "job")),
	           json_string_value(json_object_get(b, "job"))) == 0 &&
	    same_selector(jobdeps_upstream(a), jobdeps_upstream(b)) &&
	    same_selector(jobdeps_waiting(a), jobdeps_waiting(b));
}

enum fm_err
jobdeps_check_list(const json_t *list, bool overlap, char **msg_out)
{
	size_t i;
	json_t *entry;

	if (!json_is_array(list)) {
		*msg_out = xstrdup("\"depends_on\" must be an array");
		return FM_ERR_INVALID;
	}
	if (json_array_size(list) > JOBDEPS_MAX) {
		*msg_out = xasprintf("\"depends_on\" has %zu entries; a job "
		                     "may wait for at most %d",
		    json_array_size(list), JOBDEPS_MAX);
		return FM_ERR_INVALID;
	}
	json_array_foreach (list, i, entry) {
		char where[40];

		snprintf(where, sizeof(where), "depends_on[%zu]", i);
		if (check_entry(entry, overlap, where, msg_out) != FM_OK)
			return FM_ERR_INVALID;
		/* At most JOBDEPS_MAX^2 / 2 short comparisons. */
		for (size_t j = 0; j < i; j++) {
			if (same_entry(json_array_get(list, j), entry)) {
				*msg_out = xasprintf(
				    "depends_on[%zu] repeats depends_on[%zu]",
				    i, j);
				return FM_ERR_INVALID;
			}
		}
	}
	return FM_OK;
}

static struct jobdeps_selector
selector(const json_t *sel)
{
	const json_t *name = json_object_get(sel, "name");
	const json_t *type = json_object_get(sel, "type");

	if (json_is_string(name))
		return (
		    struct jobdeps_selector){ "name", json_string_value(name) };
	if (json_is_string(type))
		return (
		    struct jobdeps_selector){ "type", json_string_value(type) };
	return (struct jobdeps_selector){ "job", "" };
}

struct jobdeps_selector
jobdeps_upstream(const json_t *entry)
{
	return selector(json_object_get(entry, "tasks"));
}

struct jobdeps_selector
jobdeps_waiting(const json_t *entry)
{
	return selector(json_object_get(entry, "waiting"));
}

bool
jobdeps_parse_mode(const char *mode, bool *overlap_out)
{
	*overlap_out = false;
	if (mode == NULL || strcmp(mode, "strict") == 0)
		return true;
	if (strcmp(mode, "overlap") == 0) {
		*overlap_out = true;
		return true;
	}
	return false;
}
