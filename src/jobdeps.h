/*
 * Jobs that wait for other jobs: the "depends_on" list of a submission
 * (an extension the Blender add-on never sends) and of the admin
 * dependency endpoints, checked for shape before the store sees it.
 *
 * An entry is {"job": "<upstream uuid>", "tasks": {"name": "<glob>"} |
 * {"type": "<task type>"} (absent: every task, a fence), "waiting":
 * {"name"|"type": ...} (overlap mode only; absent: every task of the
 * downstream job waits)}.
 */
#ifndef FM_JOBDEPS_H
#define FM_JOBDEPS_H

#include <jansson.h>
#include <stdbool.h>

#include "fm.h"

/* At most this many dependencies per job (submission or admin). */
#define JOBDEPS_MAX 1000
/* A task name pattern or task type is at most this long. */
#define JOBDEPS_MAX_MATCH_BYTES 256

/* What a selector picks: every task, a name GLOB pattern, a type. */
struct jobdeps_selector {
	const char *kind;  /* "job", "name" or "type" (static) */
	const char *match; /* "" for "job"; borrowed from the JSON */
};

/*
 * Check a "depends_on" list (borrowed): its length and each entry, named
 * in messages as "depends_on[2]". overlap: the downstream job may hold
 * back only some of its tasks. FM_ERR_INVALID with *msg_out (new) when
 * something is wrong.
 */
FM_MUST_CHECK enum fm_err jobdeps_check_list(
    const json_t *list, bool overlap, char **msg_out);

/* The upstream ("tasks") or downstream ("waiting") selector of a checked
 * entry. */
struct jobdeps_selector jobdeps_upstream(const json_t *entry);
struct jobdeps_selector jobdeps_waiting(const json_t *entry);

/* "strict" / "overlap" -> overlap flag; false when neither. */
bool jobdeps_parse_mode(const char *mode, bool *overlap_out);

#endif
