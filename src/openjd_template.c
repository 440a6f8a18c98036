/*
 * Loading and validating OpenJD job templates. Every element is checked
 * where it stands, with its path and line in the message; keys the
 * schema does not know are refused (as OpenJD's own tooling does), and
 * so are the features the Flamenco Worker cannot honour, each with a
 * message naming it (README, "Declarative job types").
 */
#include "openjd_template.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filterexpr.h"
#include "xmalloc.h"
#include "yamljson.h"

struct loader {
	const char *file;
	json_t *lines;
	char *err;
};

/* ---- messages ----------------------------------------------------- */

static int
line_of(const struct loader *l, const char *path)
{
	char *p = xstrdup(path);
	int line = 0;

	for (;;) {
		char *cut;

		line = yamljson_line(l->lines, p);
		if (line > 0 || p[0] == '\0')
			break;
		cut = strrchr(p, p[strlen(p) - 1] == ']' ? '[' : '.');
		if (cut == NULL || strrchr(p, '.') > cut)
			cut = strrchr(p, '.');
		if (cut == NULL)
			p[0] = '\0';
		else
			*cut = '\0';
	}
	free(p);
	return line > 0 ? line : 1;
}

static bool FM_PRINTF(3, 4)
    lerr(struct loader *l, const char *path, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	if (l->err != NULL)
		return false;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	l->err = xasprintf("%s:%d: %s: %s", l->file, line_of(l, path),
	    path[0] ? path : "template", msg ? msg : "?");
	free(msg);
	return false;
}

/* ---- small checks ------------------------------------------------- */

static bool
is_identifier(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return true;
}

/* Keys of obj must be among allowed; refused ones get their message. */
struct refused {
	const char *key;
	const char *why;
};

static bool
check_keys(struct loader *l, const json_t *obj, const char *path,
    const char *const *allowed, size_t nallowed, const struct refused *ref,
    size_t nref)
{
	const char *key;
	json_t *v;

	json_object_foreach ((json_t *)(uintptr_t)obj, key, v) {
		bool ok = false;
		char *sub;

		for (size_t i = 0; i < nallowed && !ok; i++)
			ok = strcmp(key, allowed[i]) == 0;
		if (ok)
			continue;
		sub = path[0] ? xasprintf("%s.%s", path, key) : xstrdup(key);
		for (size_t i = 0; i < nref; i++)
			if (strcmp(key, ref[i].key) == 0) {
				lerr(l, sub, "not supported by Flamenco: %s",
				    ref[i].why);
				free(sub);
				return false;
			}
		lerr(l, sub, "unknown key \"%s\"", key);
		free(sub);
		return false;
	}
	return true;
}

static bool
want_type(struct loader *l, const json_t *v, const char *path, json_type type,
    const char *what)
{
	if (v != NULL && json_typeof(v) == type)
		return true;
	return lerr(l, path, "%s", what);
}

static bool
has_cc(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

char *
openjd_number_text(const json_t *v)
{
	char buf[64];

	if (json_is_integer(v))
		return xasprintf("%lld", (long long)json_integer_value(v));
	/* The shortest text that reads back as the same number, with a
	 * ".0" on whole numbers, as OpenJD's tooling prints them. */
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, json_real_value(v));
		if (strtod(buf, NULL) == json_real_value(v))
			break;
	}
	if (strpbrk(buf, ".eninf") == NULL)
		strcat(buf, ".0");
	return xstrdup(buf);
}

/* ---- parameter values --------------------------------------------- */

static bool
parse_int_text(const char *s, long long *out)
{
	char *end;

	while (*s == ' ')
		s++;
	if (*s == '\0')
		return false;
	errno = 0;
	*out = strtoll(s, &end, 10);
	while (*end == ' ')
		end++;
	return errno == 0 && *end == '\0';
}

static bool
parse_float_text(const char *s, double *out)
{
	char *end;

	while (*s == ' ')
		s++;
	if (*s == '\0')
		return false;
	errno = 0;
	*out = strtod(s, &end);
	while (*end == ' ')
		end++;
	return errno == 0 && *end == '\0' && isfinite(*out);
}

static const char *const type_names[] = {
	[OPENJD_STRING] = "STRING",
	[OPENJD_INT] = "INT",
	[OPENJD_FLOAT] = "FLOAT",
	[OPENJD_PATH] = "PATH",
};

/*
 * The text of value v for a parameter of type (new), or NULL with *why.
 * INT takes integers, whole floats and integer strings; FLOAT numbers and
 * number strings; STRING and PATH strings.
 */
static char *
value_text(enum openjd_type type, const json_t *v, double *num, char **why)
{
	long long i;

	*why = NULL;
	switch (type) {
	case OPENJD_STRING:
	case OPENJD_PATH:
		if (json_is_string(v))
			return xstrdup(json_string_value(v));
		*why = xasprintf("must be a string");
		return NULL;
	case OPENJD_INT:
		if (json_is_integer(v)) {
			*num = (double)json_integer_value(v);
			return openjd_number_text(v);
		}
		if (json_is_real(v) &&
		    json_real_value(v) == floor(json_real_value(v)) &&
		    fabs(json_real_value(v)) < 9e15) {
			*num = json_real_value(v);
			return xasprintf("%lld", (long long)*num);
		}
		if (json_is_string(v) &&
		    parse_int_text(json_string_value(v), &i)) {
			*num = (double)i;
			return xasprintf("%lld", i);
		}
		*why = xstrdup("must be an integer");
		return NULL;
	case OPENJD_FLOAT:
		if (json_is_number(v)) {
			*num = json_number_value(v);
			return openjd_number_text(v);
		}
		if (json_is_string(v) &&
		    parse_float_text(json_string_value(v), num))
			return xstrdup(json_string_value(v));
		*why = xstrdup("must be a number");
		return NULL;
	}
	return NULL;
}

char *
openjd_param_value(const struct openjd_param *p, const json_t *v, char **why)
{
	double num = 0;
	char *text = value_text(p->type, v, &num, why);
	size_t i;
	json_t *a;

	if (text == NULL)
		return NULL;
	if (p->allowed != NULL) {
		bool ok = false;

		json_array_foreach (p->allowed, i, a) {
			double an;

			if (p->type == OPENJD_INT || p->type == OPENJD_FLOAT)
				ok = parse_float_text(
				         json_string_value(a), &an) &&
				    an == num;
			else
				ok = strcmp(json_string_value(a), text) == 0;
			if (ok)
				break;
		}
		if (!ok) {
			char *list = json_dumps(p->allowed, JSON_COMPACT);

			*why = xasprintf("\"%s\" is not one of the allowed "
			                 "values %s",
			    text, list);
			free(list);
			free(text);
			return NULL;
		}
	}
	if ((p->has_min && num < p->min) || (p->has_max && num > p->max)) {
		*why = xasprintf("%s is out of range (%s%g .. %g)", text, "",
		    p->has_min ? p->min : -INFINITY,
		    p->has_max ? p->max : INFINITY);
		free(text);
		return NULL;
	}
	if (p->min_len >= 0 && (int64_t)strlen(text) < p->min_len) {
		*why = xasprintf(
		    "is shorter than %lld characters", (long long)p->min_len);
		free(text);
		return NULL;
	}
	if (p->max_len >= 0 && (int64_t)strlen(text) > p->max_len) {
		*why = xasprintf(
		    "is longer than %lld characters", (long long)p->max_len);
		free(text);
		return NULL;
	}
	return text;
}

/* ---- parameter definitions ---------------------------------------- */

static bool
parse_type(struct loader *l, const json_t *obj, const char *path,
    enum openjd_type *out)
{
	const char *t = json_string_value(json_object_get(obj, "type"));
	char *sub = xasprintf("%s.type", path);
	bool ok = false;

	for (size_t i = 0; t != NULL && i < nitems(type_names); i++)
		if (strcmp(t, type_names[i]) == 0) {
			*out = (enum openjd_type)i;
			ok = true;
		}
	if (!ok)
		lerr(l, sub, "must be one of STRING, INT, FLOAT or PATH");
	free(sub);
	return ok;
}

static bool
number_field(struct loader *l, const json_t *obj, const char *path,
    const char *key, enum openjd_type type, bool *has, double *out)
{
	const json_t *v = json_object_get(obj, key);
	char *sub, *why = NULL, *text;

	*has = false;
	if (v == NULL)
		return true;
	sub = xasprintf("%s.%s", path, key);
	text = value_text(type, v, out, &why);
	if (text == NULL)
		lerr(l, sub, "%s", why);
	*has = text != NULL;
	free(text);
	free(why);
	free(sub);
	return *has;
}

static bool
length_field(struct loader *l, const json_t *obj, const char *path,
    const char *key, int64_t *out)
{
	const json_t *v = json_object_get(obj, key);
	char *sub;

	*out = -1;
	if (v == NULL)
		return true;
	sub = xasprintf("%s.%s", path, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		lerr(l, sub, "must be a non-negative integer");
		free(sub);
		return false;
	}
	*out = json_integer_value(v);
	free(sub);
	return true;
}

static json_t *
param_setting(const struct openjd_param *p, const json_t *def)
{
	const json_t *ui = json_object_get(def, "userInterface");
	const json_t *label = json_object_get(ui, "label");
	const json_t *desc = json_object_get(def, "description");
	const char *control = json_string_value(json_object_get(ui, "control"));
	const char *object =
	    json_string_value(json_object_get(def, "objectType"));
	json_t *s = json_pack("{s:s}", "key", p->name);

	/* The add-on offers choices only on strings: any parameter with
	 * allowed values becomes a string dropdown; INT and FLOAT accept
	 * their values as text. */
	if (p->allowed != NULL) {
		json_object_set_new(s, "type", json_string("string"));
		json_object_set(s, "choices", p->allowed);
	} else if (p->type == OPENJD_INT) {
		json_object_set_new(s, "type", json_string("int32"));
	} else if (p->type == OPENJD_FLOAT) {
		json_object_set_new(s, "type", json_string("float"));
	} else {
		json_object_set_new(s, "type", json_string("string"));
	}
	if (p->type == OPENJD_PATH && p->allowed == NULL)
		json_object_set_new(s, "subtype",
		    json_string(object != NULL && strcmp(object, "FILE") == 0
		            ? "file_path"
		            : "dir_path"));
	if (p->def != NULL) {
		const char *text = json_string_value(p->def);
		long long i;
		double d;

		if (p->allowed == NULL && p->type == OPENJD_INT &&
		    parse_int_text(text, &i))
			json_object_set_new(s, "default", json_integer(i));
		else if (p->allowed == NULL && p->type == OPENJD_FLOAT &&
		    parse_float_text(text, &d))
			json_object_set_new(s, "default", json_real(d));
		else
			json_object_set(s, "default", p->def);
	} else {
		json_object_set_new(s, "required", json_true());
	}
	if (p->allowed == NULL && (p->has_min || p->has_max)) {
		json_t *pa = json_object();

		if (p->has_min)
			json_object_set_new(pa, "min",
			    p->type == OPENJD_INT
			        ? json_integer((json_int_t)p->min)
			        : json_real(p->min));
		if (p->has_max)
			json_object_set_new(pa, "max",
			    p->type == OPENJD_INT
			        ? json_integer((json_int_t)p->max)
			        : json_real(p->max));
		json_object_set_new(s, "propargs", pa);
	}
	if (json_is_string(desc))
		json_object_set(s, "description", (json_t *)(uintptr_t)desc);
	json_object_set_new(s, "label",
	    json_string(
	        json_is_string(label) ? json_string_value(label) : p->name));
	if (control != NULL && strcmp(control, "HIDDEN") == 0)
		json_object_set_new(s, "visible", json_string("hidden"));
	return s;
}

static bool
parse_ui(struct loader *l, const json_t *ui, const char *path,
    const struct openjd_param *p)
{
	/* Keys and controls per parameter type, as the specification's
	 * userInterface of each type has them; NULL ends a list. */
	static const char *const keys[][6] = {
		[OPENJD_STRING] = { "control", "label", "groupLabel", NULL },
		[OPENJD_PATH] = { "control", "label", "groupLabel",
		    "fileFilters", "fileFilterDefault", NULL },
		[OPENJD_INT] = { "control", "label", "groupLabel",
		    "singleStepDelta", NULL },
		[OPENJD_FLOAT] = { "control", "label", "groupLabel",
		    "singleStepDelta", "decimals", NULL },
	};
	static const char *const controls_of[][6] = {
		[OPENJD_STRING] = { "LINE_EDIT", "MULTILINE_EDIT",
		    "DROPDOWN_LIST", "CHECK_BOX", "HIDDEN", NULL },
		[OPENJD_PATH] = { "CHOOSE_INPUT_FILE", "CHOOSE_OUTPUT_FILE",
		    "CHOOSE_DIRECTORY", "DROPDOWN_LIST", "HIDDEN", NULL },
		[OPENJD_INT] = { "SPIN_BOX", "DROPDOWN_LIST", "HIDDEN", NULL },
		[OPENJD_FLOAT] = { "SPIN_BOX", "DROPDOWN_LIST", "HIDDEN",
		    NULL },
	};
	const char *const *controls = controls_of[p->type];
	const char *control;
	char *sub = xasprintf("%s.userInterface", path);
	size_t nkeys = 0;
	bool ok = false;

	while (keys[p->type][nkeys] != NULL)
		nkeys++;
	if (!want_type(l, ui, sub, JSON_OBJECT, "must be a mapping") ||
	    !check_keys(l, ui, sub, keys[p->type], nkeys, NULL, 0))
		goto done;
	control = json_string_value(json_object_get(ui, "control"));
	if (json_object_get(ui, "control") != NULL) {
		bool known = false;

		for (size_t i = 0; control != NULL && controls[i] != NULL; i++)
			known = known || strcmp(control, controls[i]) == 0;
		if (!known) {
			char *c = xasprintf("%s.control", sub);

			lerr(l, c, "not a control for %s parameters",
			    type_names[p->type]);
			free(c);
			goto done;
		}
		if ((strcmp(control, "DROPDOWN_LIST") == 0 ||
		        strcmp(control, "CHECK_BOX") == 0) &&
		    p->allowed == NULL) {
			char *c = xasprintf("%s.control", sub);

			lerr(l, c, "%s needs allowedValues", control);
			free(c);
			goto done;
		}
	}
	if (json_object_get(ui, "label") != NULL &&
	    !json_is_string(json_object_get(ui, "label"))) {
		char *c = xasprintf("%s.label", sub);

		lerr(l, c, "must be a string");
		free(c);
		goto done;
	}
	ok = true;
done:
	free(sub);
	return ok;
}

/* def[key], when present, is one of words (NULL-terminated). */
static bool
word_field(struct loader *l, const json_t *def, const char *path,
    const char *key, const char *const *words)
{
	const json_t *v = json_object_get(def, key);
	struct strbuf list = { NULL, 0, 0 };
	char *sub;

	if (v == NULL)
		return true;
	for (size_t i = 0; words[i] != NULL; i++)
		if (json_is_string(v) &&
		    strcmp(json_string_value(v), words[i]) == 0)
			return true;
	for (size_t i = 0; words[i] != NULL; i++) {
		if (i > 0)
			strbuf_add(&list, ", ", 2);
		strbuf_add(&list, words[i], strlen(words[i]));
	}
	sub = xasprintf("%s.%s", path, key);
	lerr(l, sub, "must be one of %s", list.s);
	free(sub);
	free(list.s);
	return false;
}

static bool
parse_param(struct loader *l, const json_t *def, const char *path,
    struct openjd_param *p)
{
	static const char *const keys[] = { "name", "type", "description",
		"default", "allowedValues", "minLength", "maxLength",
		"minValue", "maxValue", "objectType", "dataFlow",
		"userInterface" };
	const char *name;
	const json_t *v;
	char *sub, *why = NULL;
	size_t i;
	json_t *a;
	double num;

	p->min_len = p->max_len = -1;
	if (!want_type(l, def, path, JSON_OBJECT, "must be a mapping") ||
	    !check_keys(l, def, path, keys, nitems(keys), NULL, 0) ||
	    !parse_type(l, def, path, &p->type))
		return false;
	name = json_string_value(json_object_get(def, "name"));
	if (name == NULL || !is_identifier(name)) {
		sub = xasprintf("%s.name", path);
		lerr(l, sub,
		    "must be an identifier (letters, digits and "
		    "_, at most 64, not starting with a digit)");
		free(sub);
		return false;
	}
	p->name = xstrdup(name);
	/* Which constraints each type takes. */
	for (const char *const *k =
	         (const char *const[]){ "minLength", "maxLength", "objectType",
	             "dataFlow", "minValue", "maxValue", NULL };
	     *k != NULL; k++) {
		bool text_only = strcmp(*k, "minLength") == 0 ||
		    strcmp(*k, "maxLength") == 0;
		bool path_only = strcmp(*k, "objectType") == 0 ||
		    strcmp(*k, "dataFlow") == 0;
		bool number_only =
		    strcmp(*k, "minValue") == 0 || strcmp(*k, "maxValue") == 0;
		bool is_text =
		    p->type == OPENJD_STRING || p->type == OPENJD_PATH;

		if (json_object_get(def, *k) == NULL)
			continue;
		if ((text_only && !is_text) ||
		    (path_only && p->type != OPENJD_PATH) ||
		    (number_only && is_text)) {
			sub = xasprintf("%s.%s", path, *k);
			lerr(l, sub, "not allowed on a %s parameter",
			    type_names[p->type]);
			free(sub);
			return false;
		}
	}
	if (!word_field(l, def, path, "objectType",
	        (const char *const[]){ "FILE", "DIRECTORY", NULL }) ||
	    !word_field(l, def, path, "dataFlow",
	        (const char *const[]){ "NONE", "IN", "OUT", "INOUT", NULL }))
		return false;
	if (!number_field(
	        l, def, path, "minValue", p->type, &p->has_min, &p->min) ||
	    !number_field(
	        l, def, path, "maxValue", p->type, &p->has_max, &p->max) ||
	    !length_field(l, def, path, "minLength", &p->min_len) ||
	    !length_field(l, def, path, "maxLength", &p->max_len))
		return false;
	if (p->has_min && p->has_max && p->min > p->max)
		return lerr(l, path, "minValue is larger than maxValue");
	if (p->min_len >= 0 && p->max_len >= 0 && p->min_len > p->max_len)
		return lerr(l, path, "minLength is larger than maxLength");
	if ((v = json_object_get(def, "allowedValues")) != NULL) {
		sub = xasprintf("%s.allowedValues", path);
		if (!json_is_array(v) || json_array_size(v) == 0) {
			lerr(l, sub, "must be a non-empty list");
			free(sub);
			return false;
		}
		free(sub);
		p->allowed = json_array();
		json_array_foreach (v, i, a) {
			char *text = value_text(p->type, a, &num, &why);

			if (text == NULL) {
				sub =
				    xasprintf("%s.allowedValues[%zu]", path, i);
				lerr(l, sub, "%s", why);
				free(sub);
				free(why);
				return false;
			}
			json_array_append_new(p->allowed, json_string(text));
			free(text);
		}
	}
	if ((v = json_object_get(def, "description")) != NULL &&
	    !json_is_string(v)) {
		sub = xasprintf("%s.description", path);
		lerr(l, sub, "must be a string");
		free(sub);
		return false;
	}
	if ((v = json_object_get(def, "userInterface")) != NULL &&
	    !parse_ui(l, v, path, p))
		return false;
	if ((v = json_object_get(def, "default")) != NULL) {
		char *text = openjd_param_value(p, v, &why);

		if (text == NULL) {
			sub = xasprintf("%s.default", path);
			lerr(l, sub, "%s", why);
			free(sub);
			free(why);
			return false;
		}
		p->def = json_string(text);
		free(text);
	}
	p->setting = param_setting(p, def);
	return true;
}

/* ---- steps -------------------------------------------------------- */

/* The scope of a step script. */
static void
step_scope(const struct openjd_template *t, const struct openjd_step *s,
    const bool *is_path, const char **tnames, const char **fnames,
    struct openjd_scope *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->params = t->param_names;
	sc->param_is_path = is_path;
	sc->nparams = t->nparams;
	sc->allow_path = true;
	sc->allow_session = true;
	for (size_t i = 0; i < s->ntparams; i++)
		tnames[i] = s->tparams[i].name;
	sc->task_params = tnames;
	sc->ntask_params = s->ntparams;
	for (size_t i = 0; i < s->nfiles; i++)
		fnames[i] = s->files[i].name;
	sc->files = fnames;
	sc->nfiles = s->nfiles;
	if (s->resource.kind != OPENJD_RESOURCE_NONE) {
		sc->fields = (const char *const *)s->resource.fields;
		sc->nfields = s->resource.nfields;
	}
}

static bool
parse_fmt(struct loader *l, const json_t *v, const char *path,
    const struct openjd_scope *sc, bool allow_number, struct openjd_fmt *out)
{
	char *err = NULL, *text;
	enum fm_err rc;

	if (allow_number && json_is_number(v))
		text = openjd_number_text(v);
	else if (json_is_string(v))
		text = xstrdup(json_string_value(v));
	else
		return lerr(l, path, "must be a string");
	rc = openjd_fmt_parse(text, sc, out, &err);
	free(text);
	if (rc != FM_OK) {
		lerr(l, path, "%s", err);
		free(err);
		return false;
	}
	return true;
}

static bool
parse_task_param(struct loader *l, const json_t *def, const char *path,
    const struct openjd_scope *sc, struct openjd_task_param *tp)
{
	static const char *const keys[] = { "name", "type", "range" };
	const char *name;
	const json_t *range;
	char *sub;
	size_t i;
	json_t *e;

	if (!want_type(l, def, path, JSON_OBJECT, "must be a mapping") ||
	    !check_keys(l, def, path, keys, nitems(keys), NULL, 0) ||
	    !parse_type(l, def, path, &tp->type))
		return false;
	name = json_string_value(json_object_get(def, "name"));
	if (name == NULL || !is_identifier(name)) {
		sub = xasprintf("%s.name", path);
		lerr(l, sub, "must be an identifier");
		free(sub);
		return false;
	}
	tp->name = xstrdup(name);
	range = json_object_get(def, "range");
	sub = xasprintf("%s.range", path);
	if (json_is_string(range) && tp->type == OPENJD_INT) {
		size_t n;
		char *err = NULL;

		tp->is_expr = true;
		if (!parse_fmt(l, range, sub, sc, false, &tp->expr))
			goto fail;
		/* Without references it can be checked now. */
		if (tp->expr.nsegs <= 1 &&
		    (tp->expr.nsegs == 0 ||
		        tp->expr.segs[0].ref == OPENJD_LITERAL)) {
			if (openjd_range_parse(json_string_value(range),
			        SIZE_MAX / 16, NULL, &n, &err) != FM_OK) {
				lerr(l, sub, "%s", err);
				free(err);
				goto fail;
			}
		}
		free(sub);
		return true;
	}
	if (!json_is_array(range) || json_array_size(range) == 0 ||
	    json_array_size(range) > OPENJD_MAX_RANGE_LIST) {
		lerr(l, sub, "must be a list of 1 to %d values%s",
		    OPENJD_MAX_RANGE_LIST,
		    tp->type == OPENJD_INT ? " or a range expression" : "");
		goto fail;
	}
	tp->list = xcalloc(json_array_size(range), sizeof(*tp->list));
	json_array_foreach (range, i, e) {
		char *esub = xasprintf("%s[%zu]", sub, i);
		bool ok = true;

		if (tp->type == OPENJD_INT && json_is_real(e))
			ok = lerr(l, esub, "must be an integer");
		else if (tp->type == OPENJD_FLOAT && !json_is_number(e) &&
		    !json_is_string(e))
			ok = lerr(l, esub, "must be a number");
		ok = ok && parse_fmt(l, e, esub, sc, true, &tp->list[i]);
		free(esub);
		if (!ok)
			goto fail;
		tp->nlist++;
	}
	free(sub);
	return true;
fail:
	free(sub);
	return false;
}

static bool
parse_space(struct loader *l, const json_t *space, const char *path,
    const struct openjd_template *t, const bool *is_path, struct openjd_step *s)
{
	static const char *const keys[] = { "taskParameterDefinitions",
		"combination" };
	struct openjd_scope sc = { t->param_names, is_path, t->nparams, false,
		NULL, 0, NULL, 0, false, NULL, 0 };
	const json_t *defs = json_object_get(space, "taskParameterDefinitions");
	const json_t *combo = json_object_get(space, "combination");
	const char **names;
	char *sub, *err = NULL;
	size_t i;
	json_t *d;
	bool ok = true;

	if (!want_type(l, space, path, JSON_OBJECT, "must be a mapping") ||
	    !check_keys(l, space, path, keys, nitems(keys), NULL, 0))
		return false;
	sub = xasprintf("%s.taskParameterDefinitions", path);
	if (!json_is_array(defs) || json_array_size(defs) == 0) {
		lerr(l, sub, "must be a non-empty list");
		free(sub);
		return false;
	}
	if (json_array_size(defs) > OPENJD_MAX_TASK_PARAMS) {
		lerr(l, sub, "has %zu task parameters; at most %d are allowed",
		    json_array_size(defs), OPENJD_MAX_TASK_PARAMS);
		free(sub);
		return false;
	}
	s->tparams = xcalloc(json_array_size(defs), sizeof(*s->tparams));
	names = xcalloc(json_array_size(defs), sizeof(*names));
	json_array_foreach (defs, i, d) {
		char *dsub = xasprintf("%s[%zu]", sub, i);

		ok = parse_task_param(l, d, dsub, &sc, &s->tparams[i]);
		s->ntparams += s->tparams[i].name != NULL;
		if (ok)
			for (size_t j = 0; j < i; j++)
				if (strcmp(names[j], s->tparams[i].name) == 0)
					ok = lerr(l, dsub,
					    "task parameter \"%s\" is defined "
					    "twice",
					    names[j]);
		free(dsub);
		if (!ok)
			break;
		names[i] = s->tparams[i].name;
	}
	free(sub);
	if (ok && combo != NULL && !json_is_string(combo)) {
		sub = xasprintf("%s.combination", path);
		ok = lerr(l, sub, "must be a string");
		free(sub);
	}
	if (ok &&
	    openjd_combo_parse(json_string_value(combo), names, s->ntparams,
	        &s->combo, &err) != FM_OK) {
		sub = xasprintf("%s.combination", path);
		ok = lerr(l, sub, "%s", err);
		free(sub);
		free(err);
	}
	free(names);
	return ok;
}

static bool
parse_files(struct loader *l, const json_t *files, const char *path,
    struct openjd_step *s)
{
	static const char *const keys[] = { "name", "type", "filename",
		"runnable", "data" };
	size_t i;
	json_t *f;

	if (!json_is_array(files) || json_array_size(files) == 0)
		return lerr(l, path, "must be a non-empty list");
	s->files = xcalloc(json_array_size(files), sizeof(*s->files));
	json_array_foreach (files, i, f) {
		char *sub = xasprintf("%s[%zu]", path, i);
		const char *name =
		    json_string_value(json_object_get(f, "name"));
		const char *type =
		    json_string_value(json_object_get(f, "type"));
		const json_t *fname = json_object_get(f, "filename");
		const json_t *run = json_object_get(f, "runnable");
		const char *fn;
		bool ok =
		    want_type(l, f, sub, JSON_OBJECT, "must be a mapping") &&
		    check_keys(l, f, sub, keys, nitems(keys), NULL, 0);

		if (ok && (name == NULL || !is_identifier(name)))
			ok = lerr(l, sub, "name must be an identifier");
		if (ok && (type == NULL || strcmp(type, "TEXT") != 0))
			ok = lerr(l, sub, "type must be TEXT");
		if (ok && !json_is_string(json_object_get(f, "data")))
			ok = lerr(l, sub, "data must be a string");
		if (ok && run != NULL && !json_is_boolean(run))
			ok = lerr(l, sub, "runnable must be true or false");
		fn = json_is_string(fname) ? json_string_value(fname) : name;
		if (ok && fname != NULL &&
		    (!json_is_string(fname) || fn[0] == '\0' ||
		        strlen(fn) > 64 || strchr(fn, '/') != NULL ||
		        strchr(fn, '\\') != NULL || strcmp(fn, ".") == 0 ||
		        strcmp(fn, "..") == 0 || has_cc(fn)))
			ok = lerr(l, sub,
			    "filename must be a plain file name "
			    "of 1 to 64 characters");
		for (size_t j = 0; ok && j < s->nfiles; j++) {
			if (strcmp(s->files[j].name, name) == 0)
				ok = lerr(l, sub,
				    "embedded file \"%s\" is "
				    "defined twice",
				    name);
			else if (strcmp(s->files[j].filename, fn) == 0)
				ok = lerr(l, sub,
				    "two embedded files are "
				    "written as \"%s\"",
				    fn);
		}
		free(sub);
		if (!ok)
			return false;
		s->files[s->nfiles].name = xstrdup(name);
		s->files[s->nfiles].filename = xstrdup(fn);
		s->files[s->nfiles].runnable = json_is_true(run);
		s->nfiles++;
	}
	return true;
}

static bool
parse_action(struct loader *l, const json_t *action, const char *path,
    const struct openjd_scope *sc, struct openjd_step *s)
{
	static const char *const keys[] = { "command", "args", "cancelation" };
	static const struct refused refused[] = {
		{ "timeout",
		    "the Flamenco Worker's exec command has no time "
		    "limit (the Manager's task_timeout applies to "
		    "silent tasks)" },
	};
	const json_t *args = json_object_get(action, "args");
	const json_t *cancel = json_object_get(action, "cancelation");
	char *sub;
	size_t i;
	json_t *a;
	bool ok;

	if (!want_type(l, action, path, JSON_OBJECT, "must be a mapping") ||
	    !check_keys(
	        l, action, path, keys, nitems(keys), refused, nitems(refused)))
		return false;
	sub = xasprintf("%s.command", path);
	ok = parse_fmt(
	    l, json_object_get(action, "command"), sub, sc, false, &s->command);
	if (ok && s->command.nsegs == 0)
		ok = lerr(l, sub, "must not be empty");
	free(sub);
	if (!ok)
		return false;
	if (cancel != NULL) {
		const char *mode =
		    json_string_value(json_object_get(cancel, "mode"));

		sub = xasprintf("%s.cancelation", path);
		if (mode == NULL || strcmp(mode, "TERMINATE") != 0 ||
		    json_object_size(cancel) != 1)
			ok = lerr(l, sub,
			    "not supported by Flamenco: only "
			    "mode TERMINATE (the Flamenco Worker "
			    "stops a command by ending it)");
		free(sub);
		if (!ok)
			return false;
	}
	if (args == NULL)
		return true;
	sub = xasprintf("%s.args", path);
	if (!json_is_array(args))
		ok = lerr(l, sub, "must be a list of strings");
	free(sub);
	if (!ok)
		return false;
	s->args = xcalloc(json_array_size(args) + 1, sizeof(*s->args));
	json_array_foreach (args, i, a) {
		sub = xasprintf("%s.args[%zu]", path, i);
		ok = parse_fmt(l, a, sub, sc, true, &s->args[i]);
		free(sub);
		if (!ok)
			return false;
		s->nargs++;
	}
	return true;
}

/* Files whose data uses task values, or other such files, are per task. */
static void
mark_per_task(struct openjd_step *s)
{
	bool changed = true;

	while (changed) {
		changed = false;
		for (size_t i = 0; i < s->nfiles; i++) {
			struct openjd_file *f = &s->files[i];
			bool per = f->per_task ||
			    openjd_fmt_uses(&f->data, OPENJD_TASK_PARAM) ||
			    openjd_fmt_uses(&f->data, OPENJD_TASK_RAW_PARAM) ||
			    openjd_fmt_uses(&f->data, OPENJD_RESOURCE);

			for (size_t k = 0; !per && k < f->data.nsegs; k++)
				per = f->data.segs[k].ref == OPENJD_TASK_FILE &&
				    s->files[f->data.segs[k].index].per_task;
			if (per && !f->per_task) {
				f->per_task = true;
				changed = true;
			}
		}
	}
}

/* A step file named like a per-task folder (t0, t1, ...) would be where
 * those folders go. */
static bool
check_task_dirs(struct loader *l, const struct openjd_step *s, const char *path)
{
	const size_t plen = strlen(OPENJD_TASK_DIR_PREFIX);
	bool per_task = false;

	for (size_t i = 0; i < s->nfiles; i++)
		per_task = per_task || s->files[i].per_task;
	for (size_t i = 0; per_task && i < s->nfiles; i++) {
		const char *fn = s->files[i].filename;
		char *sub;

		if (s->files[i].per_task ||
		    strncmp(fn, OPENJD_TASK_DIR_PREFIX, plen) != 0 ||
		    fn[plen] == '\0' ||
		    strspn(fn + plen, "0123456789") != strlen(fn + plen))
			continue;
		sub = xasprintf("%s.embeddedFiles[%zu]", path, i);
		lerr(l, sub,
		    "filename \"%s\" is where this step's per-task files "
		    "go (" OPENJD_TASK_DIR_PREFIX "0, " OPENJD_TASK_DIR_PREFIX
		    "1, ...); choose another",
		    fn);
		free(sub);
		return false;
	}
	return true;
}

static bool
parse_resource(
    struct loader *l, const json_t *r, const char *path, struct openjd_step *s)
{
	static const char *const keys[] = { "from", "setting", "fields",
		"where" };
	static const char *const worker_fields[] = { "name", "platform",
		"status", "tags", "task_types", "address", "software" };
	struct openjd_resource *res = &s->resource;
	const char *from = json_string_value(json_object_get(r, "from"));
	const json_t *fields = json_object_get(r, "fields");
	const json_t *where = json_object_get(r, "where");
	char *sub, *err = NULL;
	size_t i;
	json_t *f;

	if (!want_type(l, r, path, JSON_OBJECT, "must be a mapping") ||
	    !check_keys(l, r, path, keys, nitems(keys), NULL, 0))
		return false;
	if (s->combo != NULL)
		return lerr(l, path,
		    "a step takes either a parameterSpace or "
		    "a resource, not both");
	if (from != NULL && strcmp(from, "workers") == 0) {
		res->kind = OPENJD_RESOURCE_WORKERS;
		if (fields != NULL || json_object_get(r, "setting") != NULL)
			return lerr(l, path,
			    "a workers resource has fixed "
			    "fields; leave out fields and "
			    "setting");
		res->fields = xcalloc(nitems(worker_fields), sizeof(char *));
		for (i = 0; i < nitems(worker_fields); i++)
			res->fields[res->nfields++] = xstrdup(worker_fields[i]);
	} else if (from != NULL && strcmp(from, "setting") == 0) {
		const char *key =
		    json_string_value(json_object_get(r, "setting"));

		res->kind = OPENJD_RESOURCE_SETTING;
		if (key == NULL || key[0] == '\0')
			return lerr(l, path,
			    "setting must name the job "
			    "setting that holds the records");
		res->setting = xstrdup(key);
		sub = xasprintf("%s.fields", path);
		if (!json_is_array(fields) || json_array_size(fields) == 0 ||
		    json_array_size(fields) > OPENJD_MAX_RESOURCE_FLD) {
			lerr(l, sub, "must list 1 to %d record field names",
			    OPENJD_MAX_RESOURCE_FLD);
			free(sub);
			return false;
		}
		free(sub);
		res->fields = xcalloc(json_array_size(fields), sizeof(char *));
		json_array_foreach (fields, i, f) {
			if (!json_is_string(f) ||
			    !is_identifier(json_string_value(f))) {
				sub = xasprintf("%s.fields[%zu]", path, i);
				lerr(l, sub, "must be an identifier");
				free(sub);
				return false;
			}
			res->fields[res->nfields++] =
			    xstrdup(json_string_value(f));
		}
	} else {
		sub = xasprintf("%s.from", path);
		lerr(l, sub, "must be \"setting\" or \"workers\"");
		free(sub);
		return false;
	}
	if (where == NULL)
		return true;
	sub = xasprintf("%s.where", path);
	if (!json_is_string(where)) {
		lerr(l, sub, "must be a string");
		free(sub);
		return false;
	}
	if (filterexpr_parse(json_string_value(where),
	        (const char *const *)res->fields, res->nfields, &res->where,
	        &err) != FM_OK) {
		lerr(l, sub, "%s", err);
		free(err);
		free(sub);
		return false;
	}
	free(sub);
	return true;
}

static bool
parse_step(struct loader *l, const json_t *js, const char *path,
    struct openjd_template *t, const bool *is_path, struct openjd_step *s)
{
	static const char *const keys[] = { "name", "description",
		"dependencies", "parameterSpace", "script",
		OPENJD_RESOURCE_KEY };
	static const struct refused refused[] = {
		{ "stepEnvironments",
		    "environments (onEnter/onExit around "
		    "a session) cannot be run by the "
		    "Flamenco Worker" },
		{ "hostRequirements",
		    "host requirements cannot be matched; "
		    "give the job a worker tag instead" },
	};
	static const char *const script_keys[] = { "actions", "embeddedFiles" };
	static const char *const action_keys[] = { "onRun" };
	const json_t *script, *actions, *v;
	const char *name;
	const char **tnames = NULL, **fnames = NULL;
	struct openjd_scope sc;
	char *sub;
	bool ok = false;
	size_t i;

	if (!want_type(l, js, path, JSON_OBJECT, "must be a mapping") ||
	    !check_keys(
	        l, js, path, keys, nitems(keys), refused, nitems(refused)))
		return false;
	name = json_string_value(json_object_get(js, "name"));
	if (name == NULL || name[0] == '\0' || strlen(name) > 64 ||
	    has_cc(name)) {
		sub = xasprintf("%s.name", path);
		lerr(l, sub, "must be a string of 1 to 64 characters");
		free(sub);
		return false;
	}
	s->name = xstrdup(name);
	if ((v = json_object_get(js, "description")) != NULL &&
	    !json_is_string(v)) {
		sub = xasprintf("%s.description", path);
		lerr(l, sub, "must be a string");
		free(sub);
		return false;
	}
	if ((v = json_object_get(js, "parameterSpace")) != NULL) {
		sub = xasprintf("%s.parameterSpace", path);
		ok = parse_space(l, v, sub, t, is_path, s);
		free(sub);
		if (!ok)
			return false;
	}
	if ((v = json_object_get(js, OPENJD_RESOURCE_KEY)) != NULL) {
		sub = xasprintf("%s.%s", path, OPENJD_RESOURCE_KEY);
		ok = parse_resource(l, v, sub, s);
		free(sub);
		if (!ok)
			return false;
	}
	script = json_object_get(js, "script");
	sub = xasprintf("%s.script", path);
	ok = want_type(l, script, sub, JSON_OBJECT, "must be a mapping") &&
	    check_keys(
	        l, script, sub, script_keys, nitems(script_keys), NULL, 0);
	if (ok && (v = json_object_get(script, "embeddedFiles")) != NULL) {
		char *fsub = xasprintf("%s.embeddedFiles", sub);

		ok = parse_files(l, v, fsub, s);
		free(fsub);
	}
	if (ok) {
		char *asub = xasprintf("%s.actions", sub);

		actions = json_object_get(script, "actions");
		ok = want_type(l, actions, asub, JSON_OBJECT,
		         "must be a mapping with onRun") &&
		    check_keys(l, actions, asub, action_keys,
		        nitems(action_keys), NULL, 0);
		tnames = xcalloc(s->ntparams + 1, sizeof(*tnames));
		fnames = xcalloc(s->nfiles + 1, sizeof(*fnames));
		step_scope(t, s, is_path, tnames, fnames, &sc);
		if (ok) {
			char *rsub = xasprintf("%s.onRun", asub);

			ok = parse_action(
			    l, json_object_get(actions, "onRun"), rsub, &sc, s);
			free(rsub);
		}
		free(asub);
	}
	for (i = 0; ok && i < s->nfiles; i++) {
		char *fsub = xasprintf("%s.embeddedFiles[%zu].data", sub, i);

		ok = parse_fmt(l,
		    json_object_get(
		        json_array_get(
		            json_object_get(script, "embeddedFiles"), i),
		        "data"),
		    fsub, &sc, false, &s->files[i].data);
		free(fsub);
	}
	if (ok) {
		mark_per_task(s);
		ok = check_task_dirs(l, s, sub);
	}
	free(sub);
	free(tnames);
	free(fnames);
	return ok;
}

/* Resolve dependsOn names; refuse unknown names, self and repeats. */
static bool
parse_deps(struct loader *l, const json_t *steps, struct openjd_template *t)
{
	for (size_t i = 0; i < t->nsteps; i++) {
		const json_t *deps =
		    json_object_get(json_array_get(steps, i), "dependencies");
		char *path = xasprintf("steps[%zu].dependencies", i);
		size_t j;
		json_t *d;

		if (deps == NULL) {
			free(path);
			continue;
		}
		if (!json_is_array(deps) || json_array_size(deps) == 0) {
			lerr(l, path, "must be a non-empty list");
			free(path);
			return false;
		}
		t->steps[i].deps =
		    xcalloc(json_array_size(deps), sizeof(size_t));
		json_array_foreach (deps, j, d) {
			const char *on =
			    json_string_value(json_object_get(d, "dependsOn"));
			char *sub = xasprintf("%s[%zu]", path, j);
			size_t k;
			bool ok = json_is_object(d) && json_object_size(d) == 1;

			for (k = 0; ok && on != NULL && k < t->nsteps; k++)
				if (strcmp(t->steps[k].name, on) == 0)
					break;
			if (!ok || on == NULL)
				ok = lerr(l, sub, "must be {dependsOn: STEP}");
			else if (k == t->nsteps)
				ok = lerr(l, sub, "no step named \"%s\"", on);
			else if (k == i)
				ok = lerr(l, sub,
				    "a step cannot depend on "
				    "itself");
			for (size_t m = 0; ok && m < t->steps[i].ndeps; m++)
				if (t->steps[i].deps[m] == k)
					ok = lerr(l, sub,
					    "\"%s\" is listed "
					    "twice",
					    on);
			free(sub);
			if (!ok) {
				free(path);
				return false;
			}
			t->steps[i].deps[t->steps[i].ndeps++] = k;
		}
		free(path);
	}
	return true;
}

/* Reorder steps so each comes after those it depends on; refuse cycles. */
static bool
order_steps(struct loader *l, struct openjd_template *t)
{
	size_t n = t->nsteps, done = 0;
	size_t *pos = xmalloc(n * sizeof(*pos));
	bool *placed = xcalloc(n, sizeof(*placed));
	struct openjd_step *sorted = xcalloc(n, sizeof(*sorted));

	while (done < n) {
		bool progress = false;

		for (size_t i = 0; i < n; i++) {
			bool ready = !placed[i];

			for (size_t d = 0; ready && d < t->steps[i].ndeps; d++)
				ready = placed[t->steps[i].deps[d]];
			if (!ready)
				continue;
			placed[i] = true;
			pos[i] = done;
			sorted[done++] = t->steps[i];
			progress = true;
		}
		if (!progress)
			break;
	}
	if (done < n) {
		size_t i = 0;
		char *path;

		while (placed[i])
			i++;
		path = xasprintf("steps[%zu].dependencies", i);
		lerr(l, path, "step \"%s\" is part of a dependency cycle",
		    t->steps[i].name);
		free(path);
		free(sorted);
	} else {
		for (size_t i = 0; i < n; i++)
			for (size_t d = 0; d < sorted[i].ndeps; d++)
				sorted[i].deps[d] = pos[sorted[i].deps[d]];
		free(t->steps);
		t->steps = sorted;
	}
	free(pos);
	free(placed);
	return done == n;
}

/* ---- the template ------------------------------------------------- */

static bool
parse_template(struct loader *l, const json_t *root, struct openjd_template *t)
{
	static const char *const keys[] = { "specificationVersion", "$schema",
		"name", "description", "parameterDefinitions", "steps" };
	static const struct refused refused[] = {
		{ "jobEnvironments",
		    "environments (onEnter/onExit around a "
		    "session) cannot be run by the Flamenco "
		    "Worker" },
		{ "extensions",
		    "OpenJD extensions (TASK_CHUNKING, EXPR, ...) are not "
		    "read; only the base jobtemplate-2023-09 schema is" },
	};
	const json_t *params = json_object_get(root, "parameterDefinitions");
	const json_t *steps = json_object_get(root, "steps");
	const json_t *name = json_object_get(root, "name");
	const json_t *desc = json_object_get(root, "description");
	struct openjd_fmt fname = { NULL, 0 };
	struct openjd_scope sc;
	bool *is_path = NULL, ok = false;
	size_t i;
	json_t *v;

	if (!check_keys(
	        l, root, "", keys, nitems(keys), refused, nitems(refused)))
		return false;
	if (params != NULL &&
	    (!json_is_array(params) || json_array_size(params) == 0 ||
	        json_array_size(params) > OPENJD_MAX_PARAMS))
		return lerr(l, "parameterDefinitions",
		    "must be a list of 1 to %d parameters", OPENJD_MAX_PARAMS);
	t->params = xcalloc(json_array_size(params) + 1, sizeof(*t->params));
	t->param_names = xcalloc(json_array_size(params) + 1, sizeof(char *));
	is_path = xcalloc(json_array_size(params) + 1, sizeof(bool));
	json_array_foreach (params, i, v) {
		char *path = xasprintf("parameterDefinitions[%zu]", i);
		bool pok = parse_param(l, v, path, &t->params[i]);

		if (t->params[i].name != NULL)
			t->nparams++;
		for (size_t j = 0; pok && j < i; j++)
			if (strcmp(t->params[j].name, t->params[i].name) == 0)
				pok = lerr(l, path,
				    "parameter \"%s\" is "
				    "defined twice",
				    t->params[i].name);
		free(path);
		if (!pok)
			goto done;
		t->param_names[i] = t->params[i].name;
		is_path[i] = t->params[i].type == OPENJD_PATH;
	}
	memset(&sc, 0, sizeof(sc));
	sc.params = t->param_names;
	sc.param_is_path = is_path;
	sc.nparams = t->nparams;
	if (!json_is_string(name) || json_string_length(name) == 0 ||
	    json_string_length(name) > 128) {
		lerr(l, "name", "must be a string of 1 to 128 characters");
		goto done;
	}
	if (!parse_fmt(l, name, "name", &sc, false, &fname))
		goto done;
	if (fname.nsegs == 1 && fname.segs[0].ref == OPENJD_LITERAL)
		t->label = xstrdup(fname.segs[0].text);
	openjd_fmt_free(&fname);
	if (desc != NULL && !json_is_string(desc)) {
		lerr(l, "description", "must be a string");
		goto done;
	}
	if (desc != NULL)
		t->description = xstrdup(json_string_value(desc));
	if (!json_is_array(steps) || json_array_size(steps) == 0) {
		lerr(l, "steps", "must be a non-empty list of steps");
		goto done;
	}
	t->steps = xcalloc(json_array_size(steps), sizeof(*t->steps));
	json_array_foreach (steps, i, v) {
		char *path = xasprintf("steps[%zu]", i);
		bool sok = parse_step(l, v, path, t, is_path, &t->steps[i]);

		t->nsteps++;
		for (size_t j = 0; sok && j < i; j++)
			if (strcmp(t->steps[j].name, t->steps[i].name) == 0)
				sok = lerr(l, path,
				    "step \"%s\" is defined "
				    "twice",
				    t->steps[i].name);
		free(path);
		if (!sok)
			goto done;
	}
	ok = parse_deps(l, steps, t) && order_steps(l, t);
done:
	free(is_path);
	return ok;
}

enum fm_err
openjd_load(const char *filename, const char *text, size_t len,
    struct openjd_template **out, char **err_out)
{
	struct loader l = { filename, NULL, NULL };
	struct openjd_template *t;
	json_t *root = NULL;
	const char *version;
	char *perr = NULL;

	*out = NULL;
	*err_out = NULL;
	if (yamljson_parse(text, len, &root, &l.lines, &perr) != FM_OK) {
		/* Only a file that looks like a template is reported. */
		if (strstr(text, "specificationVersion") == NULL) {
			free(perr);
			return FM_ERR_NOTFOUND;
		}
		*err_out = xasprintf("%s:%s", filename, perr + 5);
		free(perr);
		return FM_ERR_INVALID;
	}
	if (!json_is_object(root) ||
	    json_object_get(root, "specificationVersion") == NULL) {
		json_decref(root);
		json_decref(l.lines);
		return FM_ERR_NOTFOUND;
	}
	version =
	    json_string_value(json_object_get(root, "specificationVersion"));
	t = xcalloc(1, sizeof(*t));
	t->filename = xstrdup(filename);
	if (version == NULL || strcmp(version, OPENJD_SPEC_VERSION) != 0)
		lerr(&l, "specificationVersion",
		    "unknown specification version \"%s\" (this Manager "
		    "reads %s job templates)",
		    version ? version : "?", OPENJD_SPEC_VERSION);
	else
		parse_template(&l, root, t);
	json_decref(root);
	json_decref(l.lines);
	if (l.err != NULL) {
		openjd_free(t);
		*err_out = l.err;
		return FM_ERR_INVALID;
	}
	*out = t;
	return FM_OK;
}

static void
step_free(struct openjd_step *s)
{
	free(s->name);
	free(s->deps);
	for (size_t i = 0; i < s->ntparams; i++) {
		struct openjd_task_param *tp = &s->tparams[i];

		free(tp->name);
		openjd_fmt_free(&tp->expr);
		for (size_t j = 0; j < tp->nlist; j++)
			openjd_fmt_free(&tp->list[j]);
		free(tp->list);
	}
	free(s->tparams);
	openjd_combo_free(s->combo);
	openjd_fmt_free(&s->command);
	for (size_t i = 0; i < s->nargs; i++)
		openjd_fmt_free(&s->args[i]);
	free(s->args);
	for (size_t i = 0; i < s->nfiles; i++) {
		free(s->files[i].name);
		free(s->files[i].filename);
		openjd_fmt_free(&s->files[i].data);
	}
	free(s->files);
	free(s->resource.setting);
	for (size_t i = 0; i < s->resource.nfields; i++)
		free(s->resource.fields[i]);
	free(s->resource.fields);
	filterexpr_free(s->resource.where);
}

void
openjd_free(struct openjd_template *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nparams; i++) {
		free(t->params[i].name);
		json_decref(t->params[i].def);
		json_decref(t->params[i].allowed);
		json_decref(t->params[i].setting);
	}
	free(t->params);
	free(t->param_names);
	for (size_t i = 0; i < t->nsteps; i++)
		step_free(&t->steps[i]);
	free(t->steps);
	free(t->filename);
	free(t->label);
	free(t->description);
	free(t);
}

json_t *
openjd_info(const struct openjd_template *t, const char *name)
{
	json_t *settings = json_array(), *info;

	for (size_t i = 0; i < t->nparams; i++)
		json_array_append(settings, t->params[i].setting);
	info = json_pack("{s:s, s:s, s:o, s:s}", "name", name, "label",
	    t->label != NULL ? t->label : name, "settings", settings, "etag",
	    "");
	if (t->description != NULL)
		json_object_set_new(
		    info, "description", json_string(t->description));
	return info;
}

bool
openjd_uses_workers(const struct openjd_template *t)
{
	for (size_t i = 0; i < t->nsteps; i++)
		if (t->steps[i].resource.kind == OPENJD_RESOURCE_WORKERS)
			return true;
	return false;
}
