/*
 * JSON cost measurement: a small state machine over the bytes that knows
 * only strings (so brackets inside them do not count), containers and
 * the start of scalar tokens. See jsonscan.h.
 */
#include "jsonscan.h"

bool
jsonscan_measure(const char *text, size_t len, size_t max_values,
    size_t max_depth, struct jsonscan *out)
{
	size_t values = 0, depth = 0, deepest = 0;
	bool in_string = false, escaped = false, in_scalar = false;
	bool ok = true;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (in_string) {
			if (escaped)
				escaped = false;
			else if (c == '\\')
				escaped = true;
			else if (c == '"')
				in_string = false;
			continue;
		}
		switch (c) {
		case '"':
			in_string = true;
			values++;
			in_scalar = false;
			break;
		case '{':
		case '[':
			values++;
			if (++depth > deepest)
				deepest = depth;
			in_scalar = false;
			break;
		case '}':
		case ']':
			if (depth > 0)
				depth--;
			in_scalar = false;
			break;
		case ',':
		case ':':
		case ' ':
		case '\t':
		case '\n':
		case '\r':
			in_scalar = false;
			break;
		default:
			/* The first byte of a number, true, false or null. */
			if (!in_scalar)
				values++;
			in_scalar = true;
			break;
		}
		if (values > max_values || deepest > max_depth) {
			ok = false;
			break;
		}
	}
	out->values = values;
	out->depth = deepest;
	return ok;
}
