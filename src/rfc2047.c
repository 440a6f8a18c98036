/*
 * Decoding of RFC 2047 encoded-words: "=?" charset "?" B|Q "?" text "?=".
 */
#include "rfc2047.h"

#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "digits.h"
#include "xmalloc.h"

/*
 * Decode the encoded-word at s (starting "=?") into out; returns the
 * bytes of s it spans, or 0 when it is not one we decode (out untouched
 * beyond *n).
 */
static size_t
decode_word(const char *s, char *out, size_t *n)
{
	const char *cs = s + 2, *q1, *q2, *end, *t;
	size_t start = *n, cslen;
	unsigned acc = 0;
	int bits = 0;
	char enc;

	if ((q1 = strchr(cs, '?')) == NULL || q1[1] == '\0' || q1[2] != '?')
		return 0;
	enc = (char)tolower((unsigned char)q1[1]);
	q2 = q1 + 2;
	if ((end = strstr(q2 + 1, "?=")) == NULL)
		return 0;
	cslen = (size_t)(q1 - cs);
	/* "utf-8*lang" (RFC 2231) names a language too. */
	if (memchr(cs, '*', cslen) != NULL)
		cslen = (size_t)((const char *)memchr(cs, '*', cslen) - cs);
	if (!((cslen == 5 && strncasecmp(cs, "utf-8", 5) == 0) ||
	        (cslen == 8 && strncasecmp(cs, "us-ascii", 8) == 0)))
		return 0;
	for (t = q2 + 1; t < end; t++) {
		int c = (unsigned char)*t, v;

		if (enc == 'q') {
			if (c == '_') {
				out[(*n)++] = ' ';
			} else if (c == '=' && t + 2 < end &&
			    digit_hex_value(t[1]) >= 0 &&
			    digit_hex_value(t[2]) >= 0) {
				out[(*n)++] =
				    (char)(digit_hex_value(t[1]) << 4 |
				        digit_hex_value(t[2]));
				t += 2;
			} else if (c == '=') {
				*n = start;
				return 0;
			} else {
				out[(*n)++] = (char)c;
			}
		} else if (enc == 'b') {
			if (c == '=')
				break;
			if ((v = digit_base64_value(c)) < 0) {
				*n = start;
				return 0;
			}
			acc = acc << 6 | (unsigned)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				out[(*n)++] = (char)(acc >> bits & 0xff);
			}
		} else {
			return 0;
		}
	}
	return (size_t)(end + 2 - s);
}

char *
rfc2047_decode(const char *s)
{
	/* Decoding never makes text longer. */
	char *out = xmalloc(strlen(s) + 1);
	size_t n = 0, after_word = (size_t)-1;

	while (*s != '\0') {
		size_t used;

		if (s[0] == '=' && s[1] == '?') {
			size_t mark = n;

			/* Decoded after what is there, so a word that fails
			 * half way leaves the text before it intact. */
			if ((used = decode_word(s, out, &n)) > 0) {
				/* Whitespace between two words goes. */
				if (after_word != (size_t)-1) {
					memmove(out + after_word, out + mark,
					    n - mark);
					n = after_word + (n - mark);
				}
				s += used;
				after_word = n;
				continue;
			}
			n = mark;
		}
		if (!isspace((unsigned char)*s))
			after_word = (size_t)-1;
		out[n++] = *s++;
	}
	out[n] = '\0';
	return out;
}
