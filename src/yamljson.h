/*
 * YAML (and JSON, read as YAML) documents as jansson values, for
 * declarative job types. Quoted and block scalars are strings; plain
 * scalars are typed only when they look like JSON would type them
 * (integers, decimal floats, true/false, null), so YAML 1.1 words such as
 * "yes", "on" or "0x1F" stay strings. Aliases, non-scalar keys and
 * duplicate keys are refused. Each element's line is kept for messages.
 */
#ifndef FM_YAMLJSON_H
#define FM_YAMLJSON_H

#include <jansson.h>
#include <stddef.h>

#include "fm.h"

#define YAMLJSON_MAX_DEPTH 64
/* Cap on the line map: the paths of all elements, plus a fixed cost per
 * element. Paths grow with depth and key length, so a long list deep
 * under long keys would otherwise take memory quadratic in the file. */
#define YAMLJSON_MAX_LINE_BYTES ((size_t)32 << 20)
#define YAMLJSON_LINE_COST      64 /* per element, beside its path */

/*
 * Parse the first document of text[0..len). On success *root_out is the
 * value (new) and *lines_out (new) an object mapping each element's path
 * ("steps[0].script.actions.onRun.command"; "" for the root) to its
 * 1-based line. On failure FM_ERR_INVALID and *err_out ("line N: why",
 * new), also when the line map would exceed YAMLJSON_MAX_LINE_BYTES.
 */
FM_MUST_CHECK enum fm_err yamljson_parse(const char *text, size_t len,
    json_t **root_out, json_t **lines_out, char **err_out);

/* The line of path in lines, 0 when unknown. */
int yamljson_line(const json_t *lines, const char *path);

#endif
