/*
 * Filter expressions: a recursive-descent parser into a small tree and
 * its evaluation against a JSON record. Depth and length are bounded so
 * a hostile template cannot exhaust the stack.
 */
#include "filterexpr.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

enum node_kind {
	N_OR,
	N_AND,
	N_NOT,
	N_CMP,
	N_IN,
};

enum cmp_op {
	OP_EQ,
	OP_NE,
	OP_LT,
	OP_LE,
	OP_GT,
	OP_GE,
};

/* An operand: a literal value or a record field. */
struct operand {
	json_t *lit; /* literal (string or number), or NULL */
	char *field; /* field name, or NULL */
};

struct filterexpr {
	enum node_kind kind;
	struct filterexpr *a, *b; /* OR, AND, NOT (a) */
	enum cmp_op op;
	struct operand left, right; /* CMP; IN: left in right.field */
	json_t *list;               /* IN with a literal list */
};

struct parser {
	const char *src, *p;
	const char *const *fields;
	size_t nfields;
	int depth;
	char *err;
};

static void
fail(struct parser *ps, const char *what)
{
	if (ps->err == NULL)
		ps->err = xasprintf("filter \"%s\": %s at offset %zu", ps->src,
		    what, (size_t)(ps->p - ps->src));
}

static void
skip(struct parser *ps)
{
	while (isspace((unsigned char)*ps->p))
		ps->p++;
}

/* True (and consumed) when the keyword kw stands next as a word. */
static bool
keyword(struct parser *ps, const char *kw)
{
	size_t n = strlen(kw);

	skip(ps);
	if (strncmp(ps->p, kw, n) != 0 || isalnum((unsigned char)ps->p[n]) ||
	    ps->p[n] == '_')
		return false;
	ps->p += n;
	return true;
}

static bool
punct(struct parser *ps, const char *tok)
{
	skip(ps);
	if (strncmp(ps->p, tok, strlen(tok)) != 0)
		return false;
	ps->p += strlen(tok);
	return true;
}

static json_t *
parse_literal(struct parser *ps)
{
	skip(ps);
	if (*ps->p == '"' || *ps->p == '\'') {
		char quote = *ps->p++;
		const char *start = ps->p;
		char *text;
		json_t *v;

		while (*ps->p != '\0' && *ps->p != quote)
			ps->p++;
		if (*ps->p != quote) {
			ps->p = start - 1;
			fail(ps, "unterminated string");
			return NULL;
		}
		text = xstrndup(start, (size_t)(ps->p - start));
		ps->p++;
		v = json_string(text);
		free(text);
		if (v == NULL)
			fail(ps, "string is not valid UTF-8");
		return v;
	}
	if (isdigit((unsigned char)*ps->p) ||
	    ((*ps->p == '-' || *ps->p == '.') &&
	        (isdigit((unsigned char)ps->p[1]) || ps->p[1] == '.'))) {
		char *end;
		double d;

		errno = 0;
		d = strtod(ps->p, &end);
		if (errno != 0 || end == ps->p) {
			fail(ps, "malformed number");
			return NULL;
		}
		ps->p = end;
		return json_real(d);
	}
	return NULL;
}

static bool
parse_operand(struct parser *ps, struct operand *o)
{
	const char *start;

	memset(o, 0, sizeof(*o));
	skip(ps);
	start = ps->p;
	if ((o->lit = parse_literal(ps)) != NULL)
		return true;
	if (ps->err != NULL)
		return false;
	if (isalpha((unsigned char)*ps->p) || *ps->p == '_') {
		char *name;

		while (isalnum((unsigned char)*ps->p) || *ps->p == '_')
			ps->p++;
		name = xstrndup(start, (size_t)(ps->p - start));
		for (size_t i = 0; i < ps->nfields; i++)
			if (strcmp(ps->fields[i], name) == 0) {
				o->field = name;
				return true;
			}
		ps->p = start;
		{
			char *why = xasprintf("unknown field \"%s\"", name);

			fail(ps, why);
			free(why);
		}
		free(name);
		return false;
	}
	fail(ps, "expected a field, a string or a number");
	return false;
}

static void
operand_free(struct operand *o)
{
	json_decref(o->lit);
	free(o->field);
}

static struct filterexpr *parse_or(struct parser *ps);

static struct filterexpr *
parse_cmp(struct parser *ps)
{
	static const struct {
		const char *tok;
		enum cmp_op op;
	} ops[] = { { "==", OP_EQ }, { "!=", OP_NE }, { "<=", OP_LE },
		{ ">=", OP_GE }, { "<", OP_LT }, { ">", OP_GT } };
	struct filterexpr *n;

	skip(ps);
	if (*ps->p == '(') {
		ps->p++;
		n = parse_or(ps);
		if (n != NULL && !punct(ps, ")")) {
			fail(ps, "expected \")\"");
			filterexpr_free(n);
			return NULL;
		}
		return n;
	}
	n = xcalloc(1, sizeof(*n));
	if (!parse_operand(ps, &n->left))
		goto fail;
	if (keyword(ps, "in")) {
		n->kind = N_IN;
		if (punct(ps, "[")) {
			n->list = json_array();
			for (;;) {
				json_t *v = parse_literal(ps);

				if (v == NULL) {
					fail(ps,
					    "expected a string or a "
					    "number in the list");
					goto fail;
				}
				json_array_append_new(n->list, v);
				if (punct(ps, "]"))
					break;
				if (!punct(ps, ",")) {
					fail(ps, "expected \",\" or \"]\"");
					goto fail;
				}
			}
			return n;
		}
		if (!parse_operand(ps, &n->right))
			goto fail;
		if (n->right.field == NULL) {
			fail(ps, "\"in\" takes a list [...] or a field");
			goto fail;
		}
		return n;
	}
	for (size_t i = 0; i < nitems(ops); i++)
		if (punct(ps, ops[i].tok)) {
			n->kind = N_CMP;
			n->op = ops[i].op;
			if (!parse_operand(ps, &n->right))
				goto fail;
			return n;
		}
	fail(ps, "expected a comparison (== != < <= > >= in)");
fail:
	filterexpr_free(n);
	return NULL;
}

static struct filterexpr *
parse_not(struct parser *ps)
{
	struct filterexpr *n, *inner;

	if (++ps->depth > FILTEREXPR_MAX_DEPTH) {
		fail(ps, "nested too deeply");
		return NULL;
	}
	if (!keyword(ps, "not")) {
		n = parse_cmp(ps);
		ps->depth--;
		return n;
	}
	inner = parse_not(ps);
	ps->depth--;
	if (inner == NULL)
		return NULL;
	n = xcalloc(1, sizeof(*n));
	n->kind = N_NOT;
	n->a = inner;
	return n;
}

static struct filterexpr *
parse_chain(struct parser *ps, const char *kw, enum node_kind kind,
    struct filterexpr *(*sub)(struct parser *))
{
	struct filterexpr *left = sub(ps);

	while (left != NULL && keyword(ps, kw)) {
		struct filterexpr *right = sub(ps), *n;

		if (right == NULL) {
			filterexpr_free(left);
			return NULL;
		}
		n = xcalloc(1, sizeof(*n));
		n->kind = kind;
		n->a = left;
		n->b = right;
		left = n;
	}
	return left;
}

static struct filterexpr *
parse_and(struct parser *ps)
{
	return parse_chain(ps, "and", N_AND, parse_not);
}

static struct filterexpr *
parse_or(struct parser *ps)
{
	struct filterexpr *n;

	if (++ps->depth > FILTEREXPR_MAX_DEPTH) {
		fail(ps, "nested too deeply");
		return NULL;
	}
	n = parse_chain(ps, "or", N_OR, parse_and);
	ps->depth--;
	return n;
}

enum fm_err
filterexpr_parse(const char *src, const char *const *fields, size_t nfields,
    struct filterexpr **out, char **err_out)
{
	struct parser ps = { src, src, fields, nfields, 0, NULL };
	struct filterexpr *f = NULL;

	*out = NULL;
	*err_out = NULL;
	if (strlen(src) > FILTEREXPR_MAX_LEN) {
		*err_out = xasprintf(
		    "filter is longer than %d bytes", FILTEREXPR_MAX_LEN);
		return FM_ERR_INVALID;
	}
	f = parse_or(&ps);
	if (f != NULL) {
		skip(&ps);
		if (*ps.p != '\0')
			fail(&ps, "unexpected text");
	} else if (ps.err == NULL) {
		fail(&ps, "expected an expression");
	}
	if (ps.err != NULL) {
		filterexpr_free(f);
		*err_out = ps.err;
		return FM_ERR_INVALID;
	}
	*out = f;
	return FM_OK;
}

void
filterexpr_free(struct filterexpr *f)
{
	if (f == NULL)
		return;
	filterexpr_free(f->a);
	filterexpr_free(f->b);
	operand_free(&f->left);
	operand_free(&f->right);
	json_decref(f->list);
	free(f);
}

/* ---- evaluation --------------------------------------------------- */

static const json_t *
value_of(const struct operand *o, const json_t *record)
{
	return o->lit != NULL ? o->lit : json_object_get(record, o->field);
}

/* -2 when not comparable, else -1, 0, 1. */
static int
compare(const json_t *x, const json_t *y)
{
	if (x == NULL || y == NULL)
		return -2;
	if (json_is_number(x) && json_is_number(y)) {
		double a = json_number_value(x), b = json_number_value(y);

		return a < b ? -1 : a > b;
	}
	if (json_is_string(x) && json_is_string(y)) {
		int c = strcmp(json_string_value(x), json_string_value(y));

		return c < 0 ? -1 : c > 0;
	}
	if (json_is_boolean(x) && json_is_boolean(y))
		return json_is_true(x) == json_is_true(y) ? 0 : -2;
	return -2;
}

static bool
member(const json_t *v, const json_t *list)
{
	size_t i;
	json_t *e;

	json_array_foreach (list, i, e)
		if (compare(v, e) == 0)
			return true;
	return false;
}

bool
filterexpr_match(const struct filterexpr *f, const json_t *record)
{
	int c;

	switch (f->kind) {
	case N_OR:
		return filterexpr_match(f->a, record) ||
		    filterexpr_match(f->b, record);
	case N_AND:
		return filterexpr_match(f->a, record) &&
		    filterexpr_match(f->b, record);
	case N_NOT:
		return !filterexpr_match(f->a, record);
	case N_IN:
		return member(value_of(&f->left, record),
		    f->list != NULL ? f->list : value_of(&f->right, record));
	case N_CMP:
		c = compare(
		    value_of(&f->left, record), value_of(&f->right, record));
		switch (f->op) {
		case OP_EQ:
			return c == 0;
		case OP_NE:
			return c != 0;
		case OP_LT:
			return c == -1;
		case OP_LE:
			return c == -1 || c == 0;
		case OP_GT:
			return c == 1;
		case OP_GE:
			return c == 1 || c == 0;
		}
	}
	return false;
}
