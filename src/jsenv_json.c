/*
 * Script values as JSON: job input pushed into a heap, and script values
 * snapshotted as Duktape's own JSON.stringify text (one C pass, no per-
 * property API calls), repaired to valid UTF-8 (Duktape keeps UTF-16
 * surrogates one by one, as CESU-8) and parsed into jansson only where a
 * json_t is wanted. Everything built is charged to the run's budget.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digits.h"
#include "jsenv_internal.h"
#include "timeutil.h"
#include "xmalloc.h"

/* Budget per byte of JSON text once parsed into jansson values. */
#define PARSED_COST_PER_BYTE 4

/* ---- buffers ------------------------------------------------------ */

void
jsbuf_add(struct jsbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (b->len + n + 1 > cap)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
jsbuf_addstr(struct jsbuf *b, const char *s)
{
	jsbuf_add(b, s, strlen(s));
}

void
jsbuf_free(struct jsbuf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* ---- UTF-8 -------------------------------------------------------- */

static void
utf8_put(struct jsbuf *b, unsigned long cp)
{
	char o[4];
	size_t n;

	if (cp < 0x80) {
		o[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		o[0] = (char)(0xF0 | (cp >> 18));
		o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[3] = (char)(0x80 | (cp & 0x3F));
		n = 4;
	}
	jsbuf_add(b, o, n);
}

/* Decode one sequence, surrogates included; 0xFFFD when invalid. */
static unsigned long
utf8_get(const unsigned char **p, const unsigned char *end)
{
	const unsigned char *s = *p;
	unsigned long cp;
	int n, i;

	*p = s + 1;
	if (s[0] < 0x80)
		return s[0];
	if ((s[0] & 0xE0) == 0xC0) {
		n = 1;
		cp = s[0] & 0x1F;
	} else if ((s[0] & 0xF0) == 0xE0) {
		n = 2;
		cp = s[0] & 0x0F;
	} else if ((s[0] & 0xF8) == 0xF0) {
		n = 3;
		cp = s[0] & 0x07;
	} else {
		return 0xFFFD;
	}
	if (end - s <= n)
		return 0xFFFD;
	for (i = 1; i <= n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0xFFFD;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	*p = s + n + 1;
	return cp > 0x10FFFF ? 0xFFFD : cp;
}

/* The next code point, with a CESU-8 surrogate pair joined into one. */
static unsigned long
utf8_next(const unsigned char **p, const unsigned char *end)
{
	unsigned long cp = utf8_get(p, end), lo;
	const unsigned char *q = *p;

	if (cp >= 0xDC00 && cp <= 0xDFFF)
		return 0xFFFD;
	if (cp < 0xD800 || cp > 0xDBFF)
		return cp;
	if (q >= end)
		return 0xFFFD;
	lo = utf8_get(&q, end);
	if (lo < 0xDC00 || lo > 0xDFFF)
		return 0xFFFD;
	*p = q;
	return 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
}

/* True when [s, s + n) is plain ASCII: the common case, nothing to do. */
static bool
is_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

void
jsbuf_add_json(struct jsbuf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	if (is_ascii(s, n)) {
		jsbuf_add(b, s, n);
		return;
	}
	while (p < end) {
		const unsigned char *run = p;

		while (p < end && *p < 0x80)
			p++;
		jsbuf_add(b, (const char *)run, (size_t)(p - run));
		if (p < end)
			utf8_put(b, utf8_next(&p, end));
	}
}

void
jsbuf_add_quoted(struct jsbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	jsbuf_add(b, "\"", 1);
	while (p < end) {
		const unsigned char *run = p;
		char esc[6] = { '\\', 'u', '0', '0', 0, 0 };

		while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' &&
		    *p != '\\')
			p++;
		jsbuf_add(b, (const char *)run, (size_t)(p - run));
		if (p == end)
			break;
		if (*p >= 0x80) {
			utf8_put(b, utf8_next(&p, end));
		} else if (*p == '"' || *p == '\\') {
			esc[1] = (char)*p++;
			jsbuf_add(b, esc, 2);
		} else {
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 0xF];
			p++;
			jsbuf_add(b, esc, 6);
		}
	}
	jsbuf_add(b, "\"", 1);
}

json_t *
jsenv_json_string(const char *s, size_t n)
{
	struct jsbuf b = { 0 };
	json_t *v;

	if ((v = json_stringn(s, n)) != NULL)
		return v;
	jsbuf_add_json(&b, s, n);
	v = json_stringn(b.data != NULL ? b.data : "", b.len);
	jsbuf_free(&b);
	return v != NULL ? v : json_string("\xEF\xBF\xBD");
}

/*
 * A small JSON parser for text this environment wrote itself (Duktape's
 * encoder, then jsbuf_add_json): valid JSON and valid UTF-8, no white
 * space. jansson's own parser costs ~5x more per byte, which shows with
 * 100,000 commands. NULL on anything unexpected.
 */
struct jp {
	const char *p;
	const char *end;
	struct jsbuf tmp;    /* unescaped string text */
	int64_t deadline_us; /* give up past this time_mono_us(); 0: never */
	unsigned ticks;      /* values since the clock was read */
	bool late;           /* gave up at deadline_us */
};

static json_t *jp_value(struct jp *jp, int depth);

static long
jp_hex4(struct jp *jp)
{
	long v = 0;

	if (jp->end - jp->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int h = digit_hex_value(*jp->p++);

		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/* A string at jp->p (after the quote) into *s, *n (maybe in jp->tmp). */
static bool
jp_string(struct jp *jp, const char **s, size_t *n)
{
	const char *start = jp->p;
	long cp, lo;

	while (jp->p < jp->end && *jp->p != '"' && *jp->p != '\\')
		jp->p++;
	if (jp->p < jp->end && *jp->p == '"') {
		*s = start;
		*n = (size_t)(jp->p++ - start);
		return true;
	}
	jp->tmp.len = 0;
	jsbuf_add(&jp->tmp, start, (size_t)(jp->p - start));
	while (jp->p < jp->end && *jp->p != '"') {
		char c = *jp->p++, out;

		if (c != '\\') {
			jsbuf_add(&jp->tmp, &c, 1);
			continue;
		}
		if (jp->p == jp->end)
			return false;
		switch ((c = *jp->p++)) {
		case 'b':
			out = '\b';
			break;
		case 'f':
			out = '\f';
			break;
		case 'n':
			out = '\n';
			break;
		case 'r':
			out = '\r';
			break;
		case 't':
			out = '\t';
			break;
		case 'u':
			if ((cp = jp_hex4(jp)) < 0)
				return false;
			if (cp >= 0xD800 && cp <= 0xDBFF &&
			    jp->end - jp->p >= 6 && jp->p[0] == '\\' &&
			    jp->p[1] == 'u') {
				const char *save = jp->p;

				jp->p += 2;
				lo = jp_hex4(jp);
				if (lo >= 0xDC00 && lo <= 0xDFFF)
					cp = 0x10000 + ((cp - 0xD800) << 10) +
					    (lo - 0xDC00);
				else
					jp->p = save;
			}
			if (cp >= 0xD800 && cp <= 0xDFFF)
				cp = 0xFFFD;
			utf8_put(&jp->tmp, (unsigned long)cp);
			continue;
		default:
			out = c; /* " \ / */
			break;
		}
		jsbuf_add(&jp->tmp, &out, 1);
	}
	if (jp->p == jp->end)
		return false;
	jp->p++;
	*s = jp->tmp.data != NULL ? jp->tmp.data : "";
	*n = jp->tmp.len;
	return true;
}

static json_t *
jp_number(struct jp *jp)
{
	const char *start = jp->p;
	bool real = false;
	char buf[64];
	size_t n;

	while (jp->p < jp->end &&
	    (strchr("+-0123456789.eE", *jp->p) != NULL && *jp->p != '\0')) {
		real |= *jp->p == '.' || *jp->p == 'e' || *jp->p == 'E';
		jp->p++;
	}
	n = (size_t)(jp->p - start);
	if (n == 0 || n >= sizeof(buf))
		return NULL;
	memcpy(buf, start, n);
	buf[n] = '\0';
	if (!real) {
		char *e;
		long long v;

		errno = 0;
		v = strtoll(buf, &e, 10);
		if (errno == 0 && *e == '\0')
			return json_integer((json_int_t)v);
	}
	return json_real(strtod(buf, NULL));
}

static json_t *
jp_container(struct jp *jp, bool object, int depth)
{
	json_t *c = object ? json_object() : json_array(), *v;
	const char *key;
	size_t klen;
	char *kcopy;

	if (jp->p < jp->end && *jp->p == (object ? '}' : ']')) {
		jp->p++;
		return c;
	}
	for (;;) {
		kcopy = NULL;
		if (object) {
			if (jp->p >= jp->end || *jp->p++ != '"' ||
			    !jp_string(jp, &key, &klen) || jp->p >= jp->end ||
			    *jp->p++ != ':')
				goto bad;
			/* The value may reuse jp->tmp. */
			if (key == jp->tmp.data)
				key = kcopy = xstrndup(key, klen);
		}
		if ((v = jp_value(jp, depth + 1)) == NULL)
			goto bad;
		if (object) {
			json_object_setn_new_nocheck(c, key, klen, v);
			free(kcopy);
		} else {
			json_array_append_new(c, v);
		}
		if (jp->p >= jp->end)
			goto bad_nokey;
		if (*jp->p == ',') {
			jp->p++;
			continue;
		}
		if (*jp->p++ == (object ? '}' : ']'))
			return c;
		goto bad_nokey;
	}
bad:
	free(kcopy);
bad_nokey:
	json_decref(c);
	return NULL;
}

static json_t *
jp_value(struct jp *jp, int depth)
{
	const char *s;
	size_t n;

	if (jp->p >= jp->end || depth > 2000)
		return NULL;
	if (jp->deadline_us != 0 && ++jp->ticks >= 4096) {
		jp->ticks = 0;
		if (time_mono_us() >= jp->deadline_us) {
			jp->late = true;
			return NULL;
		}
	}
	switch (*jp->p) {
	case '{':
	case '[':
		return jp_container(jp, *jp->p++ == '{', depth);
	case '"':
		jp->p++;
		if (!jp_string(jp, &s, &n))
			return NULL;
		return json_stringn_nocheck(s, n);
	case 't':
		jp->p += 4;
		return jp->p <= jp->end ? json_true() : NULL;
	case 'f':
		jp->p += 5;
		return jp->p <= jp->end ? json_false() : NULL;
	case 'n':
		jp->p += 4;
		return jp->p <= jp->end ? json_null() : NULL;
	default:
		return jp_number(jp);
	}
}

json_t *
jsenv_json_parse(const char *s, size_t n)
{
	return jsenv_json_parse_by(s, n, 0);
}

json_t *
jsenv_json_parse_by(const char *s, size_t n, int64_t deadline_us)
{
	struct jp jp = { s, s + n, { 0 }, deadline_us, 0, false };
	struct jsbuf fixed = { 0 };
	json_t *v;

	if (!is_ascii(s, n)) {
		/* Make sure of valid UTF-8 first (nocheck below). */
		jsbuf_add_json(&fixed, s, n);
		jp.p = fixed.data;
		jp.end = fixed.data + fixed.len;
	}
	v = jp_value(&jp, 0);
	if (v != NULL && jp.p != jp.end) {
		json_decref(v);
		v = NULL;
	}
	jsbuf_free(&jp.tmp);
	jsbuf_free(&fixed);
	if (jp.late)
		return NULL;
	return v != NULL ? v : json_null();
}

bool
jsenv_json_nul_in_key(const char *s, size_t n)
{
	const char *p = s, *end = s + n;

	/* Duktape's encoder writes NUL as \u0000: nothing to look at in the
	 * common case. */
	if (memmem(s, n, "\\u0000", 6) == NULL)
		return false;
	while ((p = memchr(p, '"', (size_t)(end - p))) != NULL) {
		bool nul = false;

		for (p++; p < end && *p != '"'; p++) {
			if (*p != '\\')
				continue;
			if (end - p >= 6 && memcmp(p, "\\u0000", 6) == 0)
				nul = true;
			p++; /* the escaped character */
		}
		if (p >= end)
			return false;
		p++; /* the closing quote */
		while (p < end && (*p == ' ' || *p == '\n' || *p == '\t'))
			p++;
		if (nul && p < end && *p == ':')
			return true;
	}
	return false;
}

/* ---- values ------------------------------------------------------- */

void
jsenv_push_json(duk_context *ctx, json_t *v)
{
	switch (json_typeof(v)) {
	/* Members are defined like JSON.parse does: no setter runs. */
	case JSON_OBJECT:
		duk_push_object(ctx);
		for (void *it = json_object_iter(v); it != NULL;
		     it = json_object_iter_next(v, it)) {
			duk_push_lstring(ctx, json_object_iter_key(it),
			    json_object_iter_key_len(it));
			jsenv_push_json(ctx, json_object_iter_value(it));
			duk_def_prop(ctx, -3,
			    DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WEC);
		}
		break;
	case JSON_ARRAY:
		duk_push_array(ctx);
		for (size_t i = 0; i < json_array_size(v); i++) {
			duk_push_uint(ctx, (duk_uint_t)i);
			jsenv_push_json(ctx, json_array_get(v, i));
			duk_def_prop(ctx, -3,
			    DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WEC);
		}
		break;
	case JSON_STRING:
		duk_push_lstring(
		    ctx, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		duk_push_number(ctx, (double)json_integer_value(v));
		break;
	case JSON_REAL:
		duk_push_number(ctx, json_real_value(v));
		break;
	case JSON_TRUE:
		duk_push_true(ctx);
		break;
	case JSON_FALSE:
		duk_push_false(ctx);
		break;
	case JSON_NULL:
		duk_push_null(ctx);
		break;
	}
}

void
jsenv_charge(struct jsenv *env, duk_context *ctx, size_t n)
{
	struct jsrun *run = &env->run;

	if (n <= run->json_cap - run->json_bytes) {
		run->json_bytes += n;
		return;
	}
	run->budget_hit = true;
	(void)duk_error(ctx, DUK_ERR_RANGE_ERROR,
	    "the authored job needs more than %zu MiB",
	    run->json_cap / JSENV_MIB);
}

void
jsenv_scratch(struct jsenv *env, void *p)
{
	free(env->run.scratch);
	env->run.scratch = p;
}

const char *
jsenv_push_encoded(
    struct jsenv *env, duk_context *ctx, duk_idx_t idx, duk_size_t *len_out)
{
	const char *text;

	duk_dup(ctx, idx);
	(void)duk_json_encode(ctx, -1); /* -> [ ... text ] */
	if (!duk_is_string(ctx, -1)) {
		duk_pop(ctx);
		duk_push_literal(ctx, "null");
	}
	text = duk_get_lstring(ctx, -1, len_out);
	jsenv_charge(env, ctx, *len_out);
	return text;
}

json_t *
jsenv_to_json(struct jsenv *env, duk_context *ctx, duk_idx_t idx)
{
	duk_size_t n;
	const char *text;
	json_t *v;

	idx = duk_normalize_index(ctx, idx);
	text = jsenv_push_encoded(env, ctx, idx, &n);
	jsenv_charge(env, ctx, n * PARSED_COST_PER_BYTE);
	v = jsenv_json_parse_by(text, n, env->heap.deadline_us);
	duk_pop(ctx);
	if (v == NULL) {
		/* Past the deadline: throws (nothing is held yet). */
		jsheap_check_time(&env->heap, ctx);
		v = json_null();
	}
	return v;
}
