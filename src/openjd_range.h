/*
 * The two small languages of an OpenJD parameter space: integer range
 * expressions ("1-100:2,200") and combination expressions ("(A, B) * C",
 * product with "*", zip with parentheses), and how a task index maps to
 * one value index per task parameter.
 */
#ifndef FM_OPENJD_RANGE_H
#define FM_OPENJD_RANGE_H

#include <stddef.h>
#include <stdint.h>

#include "fm.h"

/*
 * Parse an integer range expression into its values in ascending order
 * (*vals_out new; with vals_out NULL only counted). Refused (FM_ERR_INVALID,
 * *err_out new, with the offending position): malformed text, a zero step,
 * overlapping ranges, or more than max values.
 */
FM_MUST_CHECK enum fm_err openjd_range_parse(const char *s, size_t max,
    int64_t **vals_out, size_t *n_out, char **err_out);

enum openjd_combo_kind {
	OPENJD_COMBO_PARAM,   /* one task parameter */
	OPENJD_COMBO_PRODUCT, /* every combination, last factor fastest */
	OPENJD_COMBO_ZIP,     /* element-wise; equal lengths */
};

struct openjd_combo {
	enum openjd_combo_kind kind;
	size_t param; /* OPENJD_COMBO_PARAM */
	size_t id;    /* preorder number, for per-expansion sizes */
	struct openjd_combo **kids;
	size_t nkids;
	size_t nnodes; /* nodes in this tree (root: all of them) */
};

/* The specification's cap on a combination's length; our cap on its
 * parentheses' nesting (the parser recurses once per level). */
#define OPENJD_COMBO_MAX_LEN   1280
#define OPENJD_COMBO_MAX_DEPTH 32

/*
 * Parse expr against the task parameter names; every name must occur
 * exactly once; refused beyond OPENJD_COMBO_MAX_LEN characters or
 * OPENJD_COMBO_MAX_DEPTH nested parentheses. NULL expr: the product of all
 * names in order.
 */
FM_MUST_CHECK enum fm_err openjd_combo_parse(const char *expr,
    const char *const *names, size_t n, struct openjd_combo **out,
    char **err_out);

void openjd_combo_free(struct openjd_combo *c);

/*
 * The number of tasks, given each parameter's number of values; fills
 * node_sizes[id] (root->nnodes entries). FM_ERR_INVALID with *err_out
 * (new) when a zip's lengths differ or the count exceeds cap.
 */
FM_MUST_CHECK enum fm_err openjd_combo_count(const struct openjd_combo *c,
    const char *const *names, const size_t *sizes, size_t cap,
    size_t *node_sizes, size_t *count_out, char **err_out);

/* Value index per parameter (idx[param]) of task i < count. */
void openjd_combo_index(const struct openjd_combo *c, const size_t *node_sizes,
    size_t i, size_t *idx);

#endif
