/*
 * Format strings: "{{" Name "}}" with optional blanks inside the braces,
 * Name being identifiers joined by dots. Anything else between "{{" and
 * "}}" is an error, as is a "{{" that never closes.
 */
#include "openjd_fmt.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

static void
add_seg(struct openjd_fmt *f, struct openjd_seg seg)
{
	f->segs = xrealloc(f->segs, (f->nsegs + 1) * sizeof(*f->segs));
	f->segs[f->nsegs++] = seg;
}

static void
add_literal(struct openjd_fmt *f, const char *s, size_t n)
{
	struct openjd_seg seg = { OPENJD_LITERAL, 0, NULL, n };

	if (n == 0)
		return;
	seg.text = xstrndup(s, n);
	add_seg(f, seg);
}

static bool
valid_name(const char *s)
{
	bool start = true;

	for (; *s != '\0'; s++) {
		if (*s == '.') {
			if (start)
				return false;
			start = true;
		} else if (isalpha((unsigned char)*s) || *s == '_') {
			start = false;
		} else if (isdigit((unsigned char)*s)) {
			if (start)
				return false;
		} else {
			return false;
		}
	}
	return !start;
}

static bool
find(const char *const *names, size_t n, const char *name, size_t *index)
{
	for (size_t i = 0; names != NULL && i < n; i++)
		if (strcmp(names[i], name) == 0) {
			*index = i;
			return true;
		}
	return false;
}

/* Bind name to a segment; NULL when fine, else why (new). */
static char *
bind(const char *name, const struct openjd_scope *sc, struct openjd_seg *seg)
{
	const char *rest;

	if (strncmp(name, "Param.", 6) == 0 ||
	    strncmp(name, "RawParam.", 9) == 0) {
		bool raw = name[0] == 'R';

		rest = name + (raw ? 9 : 6);
		if (!find(sc->params, sc->nparams, rest, &seg->index))
			return xasprintf("\"%s\": no job parameter named "
			                 "\"%s\"",
			    name, rest);
		if (!raw && sc->param_is_path != NULL &&
		    sc->param_is_path[seg->index] && !sc->allow_path)
			return xasprintf("\"%s\": a PATH parameter is only "
			                 "available as Param in a step "
			                 "script; use RawParam.%s",
			    name, rest);
		seg->ref = raw ? OPENJD_RAW_PARAM : OPENJD_PARAM;
		return NULL;
	}
	if (strncmp(name, "Task.", 5) == 0) {
		if (sc->task_params == NULL && sc->files == NULL)
			return xasprintf("\"%s\": Task values are only "
			                 "available in a step script",
			    name);
		if (strncmp(name, "Task.Param.", 11) == 0 ||
		    strncmp(name, "Task.RawParam.", 14) == 0) {
			bool raw = name[5] == 'R';

			rest = name + (raw ? 14 : 11);
			if (!find(sc->task_params, sc->ntask_params, rest,
			        &seg->index))
				return xasprintf("\"%s\": no task parameter "
				                 "named \"%s\" in this step",
				    name, rest);
			seg->ref =
			    raw ? OPENJD_TASK_RAW_PARAM : OPENJD_TASK_PARAM;
			return NULL;
		}
		if (strncmp(name, "Task.File.", 10) == 0) {
			rest = name + 10;
			if (!find(sc->files, sc->nfiles, rest, &seg->index))
				return xasprintf("\"%s\": no embedded file "
				                 "named \"%s\" in this step",
				    name, rest);
			seg->ref = OPENJD_TASK_FILE;
			return NULL;
		}
	}
	if (strncmp(name, "Session.", 8) == 0) {
		if (!sc->allow_session)
			return xasprintf("\"%s\": Session values are only "
			                 "available in a step script",
			    name);
		if (strcmp(name, "Session.WorkingDirectory") == 0) {
			seg->ref = OPENJD_SESSION_WD;
			return NULL;
		}
		if (strcmp(name, "Session.HasPathMappingRules") == 0) {
			seg->ref = OPENJD_SESSION_HAS_PM;
			return NULL;
		}
		if (strcmp(name, "Session.PathMappingRulesFile") == 0)
			return xstrdup("\"Session.PathMappingRulesFile\" is "
			               "not supported: Flamenco maps paths "
			               "itself, there is no rules file");
	}
	if (strncmp(name, "Resource.", 9) == 0 && sc->fields != NULL) {
		rest = name + 9;
		if (!find(sc->fields, sc->nfields, rest, &seg->index))
			return xasprintf("\"%s\": the resource has no field "
			                 "\"%s\"",
			    name, rest);
		seg->ref = OPENJD_RESOURCE;
		return NULL;
	}
	return xasprintf("\"%s\" is not a known name", name);
}

enum fm_err
openjd_fmt_parse(const char *s, const struct openjd_scope *scope,
    struct openjd_fmt *out, char **err_out)
{
	const char *p = s;

	memset(out, 0, sizeof(*out));
	*err_out = NULL;
	for (;;) {
		const char *open = strstr(p, "{{"), *close, *a, *b;
		struct openjd_seg seg = { OPENJD_LITERAL, 0, NULL, 0 };
		char *name;

		if (open == NULL) {
			add_literal(out, p, strlen(p));
			return FM_OK;
		}
		add_literal(out, p, (size_t)(open - p));
		close = strstr(open + 2, "}}");
		if (close == NULL) {
			*err_out = xasprintf("\"{{\" at offset %zu is never "
			                     "closed with \"}}\"",
			    (size_t)(open - s));
			goto fail;
		}
		for (a = open + 2; a < close && (*a == ' ' || *a == '\t'); a++)
			;
		for (b = close; b > a && (b[-1] == ' ' || b[-1] == '\t'); b--)
			;
		name = xstrndup(a, (size_t)(b - a));
		if (!valid_name(name)) {
			*err_out = xasprintf("\"{{%.*s}}\" is not a value "
			                     "reference (expected a dotted "
			                     "name such as Param.Frame)",
			    (int)(close - open - 2), open + 2);
			free(name);
			goto fail;
		}
		*err_out = bind(name, scope, &seg);
		free(name);
		if (*err_out != NULL)
			goto fail;
		add_seg(out, seg);
		p = close + 2;
	}
fail:
	openjd_fmt_free(out);
	return FM_ERR_INVALID;
}

void
openjd_fmt_free(struct openjd_fmt *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->nsegs; i++)
		free(f->segs[i].text);
	free(f->segs);
	f->segs = NULL;
	f->nsegs = 0;
}

bool
openjd_fmt_uses(const struct openjd_fmt *f, enum openjd_ref kind)
{
	for (size_t i = 0; i < f->nsegs; i++)
		if (f->segs[i].ref == kind)
			return true;
	return false;
}

/* How referenced values are added: as they are, or through fn. */
struct adder {
	struct strbuf *b;
	char *(*fn)(void *arg, const char *value);
	void *arg;
};

static void
add_value(const struct adder *a, const char *s)
{
	char *m;

	if (s == NULL)
		return;
	if (a->fn == NULL) {
		strbuf_add(a->b, s, strlen(s));
		return;
	}
	m = a->fn(a->arg, s);
	strbuf_add(a->b, m, strlen(m));
	free(m);
}

static void
render(const struct openjd_fmt *f, const struct openjd_values *v,
    const struct adder *a)
{
	struct strbuf *b = a->b;

	strbuf_add(b, "", 0);
	for (size_t i = 0; i < f->nsegs; i++) {
		const struct openjd_seg *seg = &f->segs[i];

		switch (seg->ref) {
		case OPENJD_LITERAL:
			strbuf_add(b, seg->text, seg->len);
			break;
		case OPENJD_PARAM:
			add_value(a, v->params[seg->index]);
			break;
		case OPENJD_RAW_PARAM:
			add_value(a, v->raw_params[seg->index]);
			break;
		case OPENJD_TASK_PARAM:
			add_value(a, v->task_params[seg->index]);
			break;
		case OPENJD_TASK_RAW_PARAM:
			add_value(a,
			    v->task_raw_params != NULL
			        ? v->task_raw_params[seg->index]
			        : v->task_params[seg->index]);
			break;
		case OPENJD_TASK_FILE:
			add_value(a, v->files[seg->index]);
			break;
		case OPENJD_SESSION_WD:
			add_value(a, v->session_wd);
			break;
		case OPENJD_SESSION_HAS_PM:
			add_value(a, "false");
			break;
		case OPENJD_RESOURCE:
			add_value(a, v->fields[seg->index]);
			break;
		}
	}
}

void
openjd_fmt_render(
    const struct openjd_fmt *f, const struct openjd_values *v, struct strbuf *b)
{
	struct adder a = { b, NULL, NULL };

	render(f, v, &a);
}

char *
openjd_fmt_string(const struct openjd_fmt *f, const struct openjd_values *v)
{
	struct strbuf b = { NULL, 0, 0 };

	openjd_fmt_render(f, v, &b);
	return b.s;
}

char *
openjd_fmt_string_mapped(const struct openjd_fmt *f,
    const struct openjd_values *v, char *(*fn)(void *arg, const char *value),
    void *arg)
{
	struct strbuf b = { NULL, 0, 0 };
	struct adder a = { &b, fn, arg };

	render(f, v, &a);
	return b.s;
}
