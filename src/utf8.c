/*
 * UTF-8 validation and repair for bytes from the network. The rules are
 * jansson's (RFC 3629): a text this file calls valid is one json_string()
 * and json_loadb() accept, so a reply built from it can always be sent.
 */
#include "utf8.h"

#include <stdio.h>
#include <string.h>

/*
 * Length of the valid UTF-8 sequence starting at s (at most len bytes
 * available), or 0 when s does not start one.
 */
static size_t
seq_len(const unsigned char *s, size_t len)
{
	unsigned c = s[0];
	unsigned lo = 0x80, hi = 0xbf; /* range of the second byte */
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0; /* continuation byte, overlong lead or > U+10FFFF */
	if (c == 0xe0)
		lo = 0xa0; /* overlong three-byte form */
	else if (c == 0xed)
		hi = 0x9f; /* UTF-16 surrogates */
	else if (c == 0xf0)
		lo = 0x90; /* overlong four-byte form */
	else if (c == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

bool
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		size_t n;

		if (p[i] < 0x80) { /* the common case, byte by byte */
			i++;
			continue;
		}
		if ((n = seq_len(p + i, len - i)) == 0)
			return false;
		i += n;
	}
	return true;
}

size_t
utf8_scrub(const char *in, size_t len, char *out, size_t cap)
{
	static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0, o = 0;

	while (i < len) {
		size_t n = seq_len(p + i, len - i);
		const char *src = n ? in + i : replacement;
		size_t srclen = n ? n : sizeof(replacement) - 1;

		if (o + srclen + 1 > cap)
			break;
		memcpy(out + o, src, srclen);
		o += srclen;
		i += n ? n : 1;
	}
	out[o] = '\0';
	return o;
}

void
utf8_escape_log(const char *in, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t len = strlen(in), i = 0, o = 0;

	while (i < len) {
		size_t n = seq_len(p + i, len - i);
		bool plain = n > 1 ||
		    (n == 1 && p[i] >= 0x20 && p[i] != 0x7f && p[i] != '\\');
		size_t need = plain ? n : 4;

		/*
		 * Room stays for "..." and the NUL, so a cut is visible: each
		 * step below keeps o + 4 <= cap.
		 */
		if (o + need + 4 > cap) {
			if (cap >= 4) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		if (plain) {
			memcpy(out + o, in + i, n);
		} else {
			snprintf(out + o, 5, "\\x%02x", p[i]);
			n = 1;
		}
		o += need;
		i += n;
	}
	out[o] = '\0';
}
