/*
 * OpenJD format strings ("render {{Param.Scene}} frame {{ Task.Param.Frame
 * }}"): parsed once when a template loads into literal text and
 * references bound to what they name, so expansion only concatenates.
 * Which names a string may use depends on where it stands (the scope).
 */
#ifndef FM_OPENJD_FMT_H
#define FM_OPENJD_FMT_H

#include <stdbool.h>
#include <stddef.h>

#include "fm.h"
#include "strbuf.h"

/* What a reference names; index is into the matching list of the scope. */
enum openjd_ref {
	OPENJD_LITERAL,
	OPENJD_PARAM,          /* Param.<job parameter> */
	OPENJD_RAW_PARAM,      /* RawParam.<job parameter> */
	OPENJD_TASK_PARAM,     /* Task.Param.<task parameter> */
	OPENJD_TASK_RAW_PARAM, /* Task.RawParam.<task parameter> */
	OPENJD_TASK_FILE,      /* Task.File.<embedded file> */
	OPENJD_SESSION_WD,     /* Session.WorkingDirectory */
	OPENJD_SESSION_HAS_PM, /* Session.HasPathMappingRules */
	OPENJD_RESOURCE,       /* Resource.<field> (x-flamenco-resource) */
};

struct openjd_seg {
	enum openjd_ref ref;
	size_t index; /* parameter, file or field index */
	char *text;   /* literal text (OPENJD_LITERAL) */
	size_t len;
};

struct openjd_fmt {
	struct openjd_seg *segs;
	size_t nsegs;
};

/* The names a format string may reference where it stands. */
struct openjd_scope {
	const char *const *params; /* job parameter names */
	const bool *param_is_path; /* Param.<PATH> only with allow_path */
	size_t nparams;
	bool allow_path;                /* in a step script */
	const char *const *task_params; /* NULL: no Task.Param scope */
	size_t ntask_params;
	const char *const *files; /* NULL: no Task.File scope */
	size_t nfiles;
	bool allow_session;
	const char *const *fields; /* NULL: no Resource scope */
	size_t nfields;
};

/*
 * Parse and bind s. FM_ERR_INVALID with *err_out (new) naming the
 * unknown or misplaced reference, or the unclosed "{{".
 */
FM_MUST_CHECK enum fm_err openjd_fmt_parse(const char *s,
    const struct openjd_scope *scope, struct openjd_fmt *out, char **err_out);

void openjd_fmt_free(struct openjd_fmt *f);

/* True when f references kind. */
bool openjd_fmt_uses(const struct openjd_fmt *f, enum openjd_ref kind);

/* The values references resolve to (strings; NULL lists not needed). */
struct openjd_values {
	const char *const *params;
	const char *const *raw_params;
	const char *const *task_params;
	const char *const *files;
	const char *session_wd;
	const char *const *fields;
	const char *const *task_raw_params; /* NULL: task_params */
};

/* Append the resolved f to b (b->s stays NUL-terminated). */
void openjd_fmt_render(const struct openjd_fmt *f,
    const struct openjd_values *v, struct strbuf *b);

/* The resolved f (new). */
char *openjd_fmt_string(
    const struct openjd_fmt *f, const struct openjd_values *v);

/*
 * The resolved f (new), each referenced value passed through fn first
 * (fn returns a new string); literal text is left as written.
 */
char *openjd_fmt_string_mapped(const struct openjd_fmt *f,
    const struct openjd_values *v, char *(*fn)(void *arg, const char *value),
    void *arg);

#endif
