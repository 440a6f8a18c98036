/*
 * A small, safe filter language that selects records for resource-driven
 * steps: comparisons (== != < <= > >=) between record fields and string
 * or number literals, "x in [a, b]", "lit in listfield", and/or/not and
 * parentheses. Parsed once (at template load) against the record's known
 * fields; evaluating it never runs code and costs one walk of the tree.
 *
 *   platform == "linux" and "gpu" in tags
 *   not (camera in ["cam_test", "cam_dbg"]) and end >= 100
 */
#ifndef FM_FILTEREXPR_H
#define FM_FILTEREXPR_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "fm.h"

#define FILTEREXPR_MAX_LEN   4096
#define FILTEREXPR_MAX_DEPTH 32

struct filterexpr;

/*
 * Parse src; every name must be one of fields. FM_ERR_INVALID with
 * *err_out (new) giving the offset and what was expected.
 */
FM_MUST_CHECK enum fm_err filterexpr_parse(const char *src,
    const char *const *fields, size_t nfields, struct filterexpr **out,
    char **err_out);

/*
 * Whether record (an object of field -> string, number, boolean or list
 * of those) matches. Numbers compare as numbers, strings as bytes; a
 * missing field or a comparison of different types is false (!= true).
 */
bool filterexpr_match(const struct filterexpr *f, const json_t *record);

void filterexpr_free(struct filterexpr *f);

#endif
