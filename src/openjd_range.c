/*
 * Range and combination expressions. Ranges are checked for overlap as
 * intervals (their bounds, not the values a step lands on), as OpenJD
 * does: "1-10:4,10-15" is refused. Counting never allocates per value
 * before the cap is checked.
 */
#include "openjd_range.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

/* ---- range expressions -------------------------------------------- */

struct element {
	int64_t first, last, step; /* inclusive bounds as written */
	int64_t lo, hi;            /* the interval it covers */
	size_t count;
};

static void
skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

static bool
parse_int(const char **p, int64_t *out)
{
	const char *s = *p;
	char *end;
	long long v;

	if (*s == '-' || *s == '+')
		s++;
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoll(*p, &end, 10);
	if (errno != 0)
		return false;
	*out = v;
	*p = end;
	return true;
}

static int
element_cmp(const void *a, const void *b)
{
	const struct element *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int
i64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

enum fm_err
openjd_range_parse(const char *s, size_t max, int64_t **vals_out, size_t *n_out,
    char **err_out)
{
	struct element *els = NULL;
	size_t nels = 0, total = 0, k = 0;
	bool has_step;
	const char *p = s;
	int64_t *vals;

	if (vals_out != NULL)
		*vals_out = NULL;
	*n_out = 0;
	*err_out = NULL;
	for (;;) {
		struct element e;
		const char *at;

		skip_ws(&p);
		at = p;
		if (!parse_int(&p, &e.first))
			goto bad;
		e.last = e.first;
		e.step = 1;
		has_step = false;
		skip_ws(&p);
		if (*p == '-') {
			p++;
			skip_ws(&p);
			if (!parse_int(&p, &e.last))
				goto bad;
			skip_ws(&p);
			if (*p == ':') {
				p++;
				skip_ws(&p);
				if (!parse_int(&p, &e.step))
					goto bad;
				has_step = true;
				if (e.step == 0) {
					*err_out = xasprintf(
					    "range expression \"%s\": the "
					    "step at offset %zu is zero",
					    s, (size_t)(at - s));
					goto fail;
				}
				skip_ws(&p);
			}
		}
		/* As OpenJD: a range runs the way its step points, and a
		 * descending one says so with a negative step. */
		if (e.last != e.first &&
		    (e.last < e.first) != (has_step && e.step < 0)) {
			*err_out = xasprintf(
			    "range expression \"%s\": the range at offset "
			    "%zu %s",
			    s, (size_t)(at - s),
			    e.last < e.first
			        ? "is descending and needs a negative step "
			          "(N-M:-STEP)"
			        : "is ascending but has a negative step");
			goto fail;
		}
		e.lo = e.first < e.last ? e.first : e.last;
		e.hi = e.first < e.last ? e.last : e.first;
		/* How many values x, x+step, ... stay within the bound. */
		{
			unsigned long long span =
			    (unsigned long long)e.hi - (unsigned long long)e.lo;
			unsigned long long st = e.step > 0
			    ? (unsigned long long)e.step
			    : (unsigned long long)-(e.step + 1) + 1;

			e.count = (size_t)(span / st) + 1;
			if (span / st >= max)
				e.count = max + 1;
		}
		total += e.count;
		if (total > max) {
			*err_out = xasprintf("range expression \"%s\" has more "
			                     "than %zu values",
			    s, max);
			goto fail;
		}
		els = xrealloc(els, (nels + 1) * sizeof(*els));
		els[nels++] = e;
		if (*p == '\0')
			break;
		if (*p != ',')
			goto bad;
		p++;
	}
	qsort(els, nels, sizeof(*els), element_cmp);
	for (size_t i = 1; i < nels; i++)
		if (els[i].lo <= els[i - 1].hi) {
			*err_out = xasprintf("range expression \"%s\": ranges "
			                     "overlap",
			    s);
			goto fail;
		}
	if (vals_out == NULL) {
		free(els);
		*n_out = total;
		return FM_OK;
	}
	vals = xmalloc((total > 0 ? total : 1) * sizeof(*vals));
	/* Unsigned steps: the one past a range ending at INT64_MAX is
	 * never used, and must not overflow on the way. */
	for (size_t i = 0; i < nels; i++) {
		uint64_t v = (uint64_t)els[i].first;

		for (size_t j = 0; j < els[i].count;
		     j++, v += (uint64_t)els[i].step)
			vals[k++] = (int64_t)v;
	}
	qsort(vals, k, sizeof(*vals), i64_cmp);
	free(els);
	*vals_out = vals;
	*n_out = k;
	return FM_OK;
bad:
	*err_out = xasprintf("range expression \"%s\" is malformed at offset "
	                     "%zu (expected N, N-M or N-M:STEP, separated "
	                     "by commas)",
	    s, (size_t)(p - s));
fail:
	free(els);
	return FM_ERR_INVALID;
}

/* ---- combination expressions -------------------------------------- */

struct cparser {
	const char *s, *p;
	const char *const *names;
	size_t n;
	bool *seen;
	size_t next_id;
	int depth; /* of parentheses */
	char *err;
};

static struct openjd_combo *
node_new(struct cparser *cp, enum openjd_combo_kind kind)
{
	struct openjd_combo *c = xcalloc(1, sizeof(*c));

	c->kind = kind;
	c->id = cp->next_id++;
	return c;
}

static void
node_add(struct openjd_combo *c, struct openjd_combo *kid)
{
	c->kids = xrealloc(c->kids, (c->nkids + 1) * sizeof(*c->kids));
	c->kids[c->nkids++] = kid;
}

static void
cp_fail(struct cparser *cp, const char *what)
{
	if (cp->err == NULL)
		cp->err = xasprintf("combination \"%s\": %s at offset %zu",
		    cp->s, what, (size_t)(cp->p - cp->s));
}

static struct openjd_combo *parse_expr(struct cparser *cp);

static struct openjd_combo *
parse_element(struct cparser *cp)
{
	struct openjd_combo *c;

	skip_ws(&cp->p);
	if (*cp->p == '(') {
		if (++cp->depth > OPENJD_COMBO_MAX_DEPTH) {
			cp_fail(cp,
			    "parentheses nested deeper than "
			    "32 levels");
			return NULL;
		}
		cp->p++;
		c = node_new(cp, OPENJD_COMBO_ZIP);
		for (;;) {
			struct openjd_combo *kid = parse_expr(cp);

			if (kid == NULL)
				goto fail;
			node_add(c, kid);
			skip_ws(&cp->p);
			if (*cp->p == ')') {
				cp->p++;
				cp->depth--;
				return c;
			}
			if (*cp->p != ',') {
				cp_fail(cp, "expected \",\" or \")\"");
				goto fail;
			}
			cp->p++;
		}
	}
	{
		const char *start = cp->p;
		size_t len;

		while (isalnum((unsigned char)*cp->p) || *cp->p == '_')
			cp->p++;
		len = (size_t)(cp->p - start);
		if (len == 0) {
			cp_fail(cp, "expected a task parameter name or \"(\"");
			return NULL;
		}
		for (size_t i = 0; i < cp->n; i++) {
			if (strlen(cp->names[i]) != len ||
			    memcmp(cp->names[i], start, len) != 0)
				continue;
			if (cp->seen[i]) {
				cp->p = start;
				cp_fail(cp, "a task parameter appears twice");
				return NULL;
			}
			cp->seen[i] = true;
			c = node_new(cp, OPENJD_COMBO_PARAM);
			c->param = i;
			return c;
		}
		cp->p = start;
		cp_fail(cp, "not a task parameter of this step");
		return NULL;
	}
fail:
	openjd_combo_free(c);
	return NULL;
}

static struct openjd_combo *
parse_expr(struct cparser *cp)
{
	struct openjd_combo *first = parse_element(cp), *prod;

	if (first == NULL)
		return NULL;
	skip_ws(&cp->p);
	if (*cp->p != '*')
		return first;
	prod = node_new(cp, OPENJD_COMBO_PRODUCT);
	node_add(prod, first);
	while (*cp->p == '*') {
		struct openjd_combo *kid;

		cp->p++;
		if ((kid = parse_element(cp)) == NULL) {
			openjd_combo_free(prod);
			return NULL;
		}
		node_add(prod, kid);
		skip_ws(&cp->p);
	}
	return prod;
}

enum fm_err
openjd_combo_parse(const char *expr, const char *const *names, size_t n,
    struct openjd_combo **out, char **err_out)
{
	struct cparser cp = { expr, expr, names, n, NULL, 0, 0, NULL };
	struct openjd_combo *c = NULL;

	*out = NULL;
	*err_out = NULL;
	if (expr != NULL && strlen(expr) > OPENJD_COMBO_MAX_LEN) {
		*err_out = xasprintf("combination is longer than %d "
		                     "characters",
		    OPENJD_COMBO_MAX_LEN);
		return FM_ERR_INVALID;
	}
	cp.seen = xcalloc(n > 0 ? n : 1, sizeof(*cp.seen));
	if (expr == NULL) {
		c = node_new(&cp, OPENJD_COMBO_PRODUCT);
		for (size_t i = 0; i < n; i++) {
			struct openjd_combo *kid =
			    node_new(&cp, OPENJD_COMBO_PARAM);

			kid->param = i;
			node_add(c, kid);
		}
	} else {
		c = parse_expr(&cp);
		skip_ws(&cp.p);
		if (c != NULL && *cp.p != '\0')
			cp_fail(&cp, "unexpected text");
		for (size_t i = 0; c != NULL && cp.err == NULL && i < n; i++)
			if (!cp.seen[i]) {
				cp.err = xasprintf("combination \"%s\" leaves "
				                   "out task parameter \"%s\"",
				    expr, names[i]);
			}
	}
	free(cp.seen);
	if (cp.err != NULL) {
		openjd_combo_free(c);
		*err_out = cp.err;
		return FM_ERR_INVALID;
	}
	c->nnodes = cp.next_id;
	*out = c;
	return FM_OK;
}

void
openjd_combo_free(struct openjd_combo *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nkids; i++)
		openjd_combo_free(c->kids[i]);
	free(c->kids);
	free(c);
}

static void
combo_text(const struct openjd_combo *c, const char *const *names, char *buf,
    size_t cap)
{
	size_t len = strlen(buf);

	if (c->kind == OPENJD_COMBO_PARAM) {
		snprintf(buf + len, cap - len, "%s", names[c->param]);
		return;
	}
	snprintf(
	    buf + len, cap - len, "%s", c->kind == OPENJD_COMBO_ZIP ? "(" : "");
	for (size_t i = 0; i < c->nkids; i++) {
		len = strlen(buf);
		if (i > 0)
			snprintf(buf + len, cap - len, "%s",
			    c->kind == OPENJD_COMBO_ZIP ? ", " : " * ");
		combo_text(c->kids[i], names, buf, cap);
	}
	len = strlen(buf);
	snprintf(
	    buf + len, cap - len, "%s", c->kind == OPENJD_COMBO_ZIP ? ")" : "");
}

static bool
count_node(const struct openjd_combo *c, const char *const *names,
    const size_t *sizes, size_t cap, size_t *node_sizes, char **err_out)
{
	size_t n = 0;

	switch (c->kind) {
	case OPENJD_COMBO_PARAM:
		n = sizes[c->param];
		break;
	case OPENJD_COMBO_PRODUCT:
		n = 1;
		for (size_t i = 0; i < c->nkids; i++) {
			size_t k;

			if (!count_node(c->kids[i], names, sizes, cap,
			        node_sizes, err_out))
				return false;
			k = node_sizes[c->kids[i]->id];
			if (k != 0 && n > cap / k) {
				*err_out = xasprintf("the parameter space has "
				                     "more than %zu tasks",
				    cap);
				return false;
			}
			n *= k;
		}
		break;
	case OPENJD_COMBO_ZIP:
		for (size_t i = 0; i < c->nkids; i++) {
			size_t k;

			if (!count_node(c->kids[i], names, sizes, cap,
			        node_sizes, err_out))
				return false;
			k = node_sizes[c->kids[i]->id];
			if (i > 0 && k != n) {
				char text[512] = "";

				combo_text(c, names, text, sizeof(text));
				*err_out = xasprintf("combination %s: the "
				                     "zipped parts have %zu "
				                     "and %zu values",
				    text, n, k);
				return false;
			}
			n = k;
		}
		break;
	}
	node_sizes[c->id] = n;
	return true;
}

enum fm_err
openjd_combo_count(const struct openjd_combo *c, const char *const *names,
    const size_t *sizes, size_t cap, size_t *node_sizes, size_t *count_out,
    char **err_out)
{
	*err_out = NULL;
	*count_out = 0;
	if (!count_node(c, names, sizes, cap, node_sizes, err_out))
		return FM_ERR_INVALID;
	*count_out = node_sizes[c->id];
	if (*count_out > cap) {
		*err_out = xasprintf(
		    "the parameter space has more than %zu tasks", cap);
		return FM_ERR_INVALID;
	}
	return FM_OK;
}

void
openjd_combo_index(const struct openjd_combo *c, const size_t *node_sizes,
    size_t i, size_t *idx)
{
	switch (c->kind) {
	case OPENJD_COMBO_PARAM:
		idx[c->param] = i;
		return;
	case OPENJD_COMBO_ZIP:
		for (size_t k = 0; k < c->nkids; k++)
			openjd_combo_index(c->kids[k], node_sizes, i, idx);
		return;
	case OPENJD_COMBO_PRODUCT:
		/* The last factor varies fastest. */
		for (size_t k = c->nkids; k-- > 0;) {
			size_t n = node_sizes[c->kids[k]->id];

			openjd_combo_index(c->kids[k], node_sizes, i % n, idx);
			i /= n;
		}
		return;
	}
}
