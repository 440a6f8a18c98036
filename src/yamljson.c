/*
 * YAML to jansson through libyaml's event parser: one recursive descent
 * over the events of the first document, bounded in depth, building the
 * value and recording every element's line under its path.
 */
#include "yamljson.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "xmalloc.h"

struct reader {
	yaml_parser_t parser;
	json_t *lines;
	size_t line_bytes; /* YAMLJSON_MAX_LINE_BYTES */
	char *err;
};

static void FM_PRINTF(3, 4)
    fail(struct reader *r, size_t line0, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	if (r->err != NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	r->err = xasprintf("line %zu: %s", line0 + 1, msg ? msg : "?");
	free(msg);
}

static bool
next_event(struct reader *r, yaml_event_t *ev)
{
	if (yaml_parser_parse(&r->parser, ev))
		return true;
	if (r->err == NULL)
		r->err = xasprintf("line %zu: %s",
		    r->parser.problem_mark.line + 1,
		    r->parser.problem ? r->parser.problem : "malformed YAML");
	return false;
}

static bool
all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* A decimal float as JSON writes it, with optional sign: 1.5, -2e3, .5 */
static bool
looks_float(const char *s)
{
	bool digits = false, dot = false;

	if (*s == '-' || *s == '+')
		s++;
	for (; *s != '\0' && *s != 'e' && *s != 'E'; s++) {
		if (isdigit((unsigned char)*s))
			digits = true;
		else if (*s == '.' && !dot)
			dot = true;
		else
			return false;
	}
	if (!digits)
		return false;
	if (*s == '\0')
		return dot;
	s++;
	if (*s == '-' || *s == '+')
		s++;
	return all_digits(s);
}

/* The value of a plain (unquoted) scalar. */
static json_t *
plain_scalar(const char *s)
{
	const char *digits = (*s == '-' || *s == '+') ? s + 1 : s;

	if (*s == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0)
		return json_null();
	if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 ||
	    strcmp(s, "TRUE") == 0)
		return json_true();
	if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 ||
	    strcmp(s, "FALSE") == 0)
		return json_false();
	if (all_digits(digits) && strlen(digits) < 19)
		return json_integer(strtoll(s, NULL, 10));
	if (looks_float(s)) {
		double d;

		errno = 0;
		d = strtod(s, NULL);
		if (errno == 0)
			return json_real(d);
	}
	return json_string(s);
}

/* Record path's line; false (r->err) when the map grows too large. */
static bool
record_line(struct reader *r, const char *path, size_t line0)
{
	if (json_object_get(r->lines, path) != NULL)
		return true;
	r->line_bytes += strlen(path) + YAMLJSON_LINE_COST;
	if (r->line_bytes > YAMLJSON_MAX_LINE_BYTES) {
		fail(r, line0,
		    "too many elements nested under long keys (their paths "
		    "exceed %zu MiB)",
		    YAMLJSON_MAX_LINE_BYTES >> 20);
		return false;
	}
	json_object_set_new(
	    r->lines, path, json_integer((json_int_t)line0 + 1));
	return true;
}

static json_t *read_node(
    struct reader *r, yaml_event_t *ev, const char *path, int depth);

static char *
child_path(const char *path, const char *key)
{
	return path[0] == '\0' ? xstrdup(key) : xasprintf("%s.%s", path, key);
}

static json_t *
read_mapping(struct reader *r, const char *path, int depth)
{
	json_t *obj = json_object();
	yaml_event_t ev;

	for (;;) {
		json_t *v;
		char *key, *sub;

		if (!next_event(r, &ev))
			goto fail;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			return obj;
		}
		if (ev.type != YAML_SCALAR_EVENT) {
			fail(r, ev.start_mark.line, "%s keys must be scalars",
			    path[0] ? path : "mapping");
			yaml_event_delete(&ev);
			goto fail;
		}
		key = xstrndup(
		    (const char *)ev.data.scalar.value, ev.data.scalar.length);
		if (json_object_get(obj, key) != NULL) {
			fail(
			    r, ev.start_mark.line, "duplicate key \"%s\"", key);
			free(key);
			yaml_event_delete(&ev);
			goto fail;
		}
		sub = child_path(path, key);
		/* A member is found by its key's line. */
		if (!record_line(r, sub, ev.start_mark.line)) {
			free(key);
			free(sub);
			yaml_event_delete(&ev);
			goto fail;
		}
		yaml_event_delete(&ev);
		if (!next_event(r, &ev)) {
			free(key);
			free(sub);
			goto fail;
		}
		v = read_node(r, &ev, sub, depth + 1);
		free(sub);
		if (v == NULL) {
			free(key);
			goto fail;
		}
		json_object_set_new(obj, key, v);
		free(key);
	}
fail:
	json_decref(obj);
	return NULL;
}

static json_t *
read_sequence(struct reader *r, const char *path, int depth)
{
	json_t *arr = json_array();
	yaml_event_t ev;

	for (;;) {
		json_t *v;
		char *sub;

		if (!next_event(r, &ev))
			goto fail;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return arr;
		}
		sub = xasprintf("%s[%zu]", path, json_array_size(arr));
		v = read_node(r, &ev, sub, depth + 1);
		free(sub);
		if (v == NULL)
			goto fail;
		json_array_append_new(arr, v);
	}
fail:
	json_decref(arr);
	return NULL;
}

/* The node that starts with ev (consumed). NULL on failure (r->err). */
static json_t *
read_node(struct reader *r, yaml_event_t *ev, const char *path, int depth)
{
	json_t *v = NULL;

	if (!record_line(r, path, ev->start_mark.line)) {
		yaml_event_delete(ev);
		return NULL;
	}
	if (depth > YAMLJSON_MAX_DEPTH) {
		fail(r, ev->start_mark.line, "nested deeper than %d levels",
		    YAMLJSON_MAX_DEPTH);
		yaml_event_delete(ev);
		return NULL;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT: {
		const char *tag = (const char *)ev->data.scalar.tag;
		char *s = xstrndup((const char *)ev->data.scalar.value,
		    ev->data.scalar.length);

		if (ev->data.scalar.length != strlen(s)) {
			fail(r, ev->start_mark.line, "%s holds a NUL character",
			    path[0] ? path : "the document");
		} else if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    tag == NULL) {
			v = plain_scalar(s);
		} else {
			v = json_string(s);
			if (v == NULL)
				fail(r, ev->start_mark.line,
				    "%s is not valid UTF-8",
				    path[0] ? path : "the document");
		}
		free(s);
		break;
	}
	case YAML_MAPPING_START_EVENT:
		v = read_mapping(r, path, depth);
		break;
	case YAML_SEQUENCE_START_EVENT:
		v = read_sequence(r, path, depth);
		break;
	case YAML_ALIAS_EVENT:
		fail(r, ev->start_mark.line,
		    "%s: YAML aliases are not "
		    "supported",
		    path[0] ? path : "document");
		break;
	default:
		fail(r, ev->start_mark.line, "unexpected YAML event at %s",
		    path[0] ? path : "the top");
		break;
	}
	yaml_event_delete(ev);
	return v;
}

enum fm_err
yamljson_parse(const char *text, size_t len, json_t **root_out,
    json_t **lines_out, char **err_out)
{
	struct reader r = { .lines = json_object() };
	json_t *root = NULL;
	yaml_event_t ev;

	*root_out = NULL;
	*lines_out = NULL;
	*err_out = NULL;
	yaml_parser_initialize(&r.parser);
	yaml_parser_set_input_string(
	    &r.parser, (const unsigned char *)text, len);
	/* Stream start, then a document start (or an empty stream). */
	if (!next_event(&r, &ev))
		goto done;
	yaml_event_delete(&ev);
	if (!next_event(&r, &ev))
		goto done;
	if (ev.type != YAML_DOCUMENT_START_EVENT) {
		yaml_event_delete(&ev);
		r.err = xstrdup("line 1: the file holds no document");
		goto done;
	}
	yaml_event_delete(&ev);
	if (!next_event(&r, &ev))
		goto done;
	root = read_node(&r, &ev, "", 0);
	if (root == NULL)
		goto done;
	/* Document end; a second document is refused, not ignored. */
	if (!next_event(&r, &ev))
		goto done;
	yaml_event_delete(&ev);
	if (!next_event(&r, &ev))
		goto done;
	if (ev.type != YAML_STREAM_END_EVENT)
		fail(&r, ev.start_mark.line, "%s",
		    "only one YAML document per file");
	yaml_event_delete(&ev);
done:
	yaml_parser_delete(&r.parser);
	if (r.err != NULL) {
		json_decref(root);
		json_decref(r.lines);
		*err_out = r.err;
		return FM_ERR_INVALID;
	}
	*root_out = root;
	*lines_out = r.lines;
	return FM_OK;
}

int
yamljson_line(const json_t *lines, const char *path)
{
	return (int)json_integer_value(json_object_get(lines, path));
}
