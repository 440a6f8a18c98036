/*
 * A small JSON writer following Go's encoding/json output rules, so a
 * digest over it equals the digest Go computes over the same value.
 */
#include "gojson.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

struct out {
	char *s;
	size_t len, cap;
};

static void
put(struct out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->s = xrealloc(o->s, o->cap);
	}
	memcpy(o->s + o->len, s, n);
	o->len += n;
	o->s[o->len] = '\0';
}

static void
puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void
put_string(struct out *o, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;

	put(o, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		char esc[7];

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(o, esc, 2);
		} else if (c == '\n') {
			puts_(o, "\\n");
		} else if (c == '\r') {
			puts_(o, "\\r");
		} else if (c == '\t') {
			puts_(o, "\\t");
		} else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
			snprintf(esc, sizeof(esc), "\\u00%c%c", hex[c >> 4],
			    hex[c & 15]);
			put(o, esc, 6);
		} else if (c == 0xe2 && i + 2 < len && p[i + 1] == 0x80 &&
		    (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
			puts_(o, p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029");
			i += 2;
		} else {
			put(o, (const char *)&p[i], 1);
		}
	}
	put(o, "\"", 1);
}

/* Go's strconv.FormatFloat(f, 'f' or 'e', -1, 64) as json uses it. */
static void
put_real(struct out *o, double d)
{
	char buf[40];
	double a = fabs(d);
	int prec;

	if (d == trunc(d) && a < 1e21) {
		snprintf(buf, sizeof(buf), "%.0f", d);
		puts_(o, buf);
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	if (a != 0 && (a < 1e-6 || a >= 1e21)) {
		/* Exponent form; Go writes "e-7", not "e-07". */
		char *e;

		snprintf(buf, sizeof(buf), "%.*e", prec - 1, d);
		e = strchr(buf, 'e');
		if (e != NULL && (e[1] == '-' || e[1] == '+') && e[2] == '0' &&
		    e[3] != '\0' && e[4] == '\0')
			memmove(e + 2, e + 3, 2);
	} else {
		/* Plain decimal with exactly the digits needed. */
		int decimals = 0;

		for (decimals = 0; decimals <= 20; decimals++) {
			snprintf(buf, sizeof(buf), "%.*f", decimals, d);
			if (strtod(buf, NULL) == d)
				break;
		}
	}
	puts_(o, buf);
}

static int
key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
encode(struct out *o, const json_t *v)
{
	char buf[32];

	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		size_t n = json_object_size(v), i = 0;
		const char **keys = xcalloc(n ? n : 1, sizeof(*keys));
		const char *key;
		json_t *member;

		json_object_foreach ((json_t *)(uintptr_t)v, key, member)
			keys[i++] = key;
		qsort(keys, n, sizeof(*keys), key_cmp);
		put(o, "{", 1);
		for (i = 0; i < n; i++) {
			if (i > 0)
				put(o, ",", 1);
			put_string(o, keys[i], strlen(keys[i]));
			put(o, ":", 1);
			encode(o, json_object_get(v, keys[i]));
		}
		put(o, "}", 1);
		free(keys);
		break;
	}
	case JSON_ARRAY:
		put(o, "[", 1);
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i > 0)
				put(o, ",", 1);
			encode(o, json_array_get(v, i));
		}
		put(o, "]", 1);
		break;
	case JSON_STRING:
		put_string(o, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER:
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		puts_(o, buf);
		break;
	case JSON_REAL:
		put_real(o, json_real_value(v));
		break;
	case JSON_TRUE:
		puts_(o, "true");
		break;
	case JSON_FALSE:
		puts_(o, "false");
		break;
	case JSON_NULL:
		puts_(o, "null");
		break;
	}
}

char *
gojson_encode(const json_t *value)
{
	struct out o = { NULL, 0, 0 };

	put(&o, "", 0);
	encode(&o, value);
	return o.s;
}
