/*
 * A small state machine over the bytes of a command line that reproduces
 * POSIX shell word splitting and quote removal (no expansions). The output
 * can never be longer than the input plus one NUL per word, so it is
 * allocated once up front.
 */
#include "shellsplit.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Characters a backslash escapes inside double quotes. */
static bool
dq_escapable(char c)
{
	return c == '$' || c == '`' || c == '"' || c == '\\' || c == '\n';
}

enum fm_err
shellsplit(const char *s, char **words_out, size_t *nwords_out, char **err_out)
{
	size_t len = strlen(s), n = 0, nwords = 0;
	char *out = NULL;
	const char *p = s;
	bool in_word = false;
	enum fm_err rc = FM_ERR_INVALID;

	*words_out = NULL;
	*nwords_out = 0;
	*err_out = NULL;

	/* Each input byte yields at most one output byte, plus the NULs. */
	out = xmalloc(2 * len + 1);

	while (*p != '\0') {
		char c = *p;

		if (!in_word) {
			if (is_blank(c)) {
				p++;
				continue;
			}
			if (c == '#') {
				while (*p != '\0' && *p != '\n')
					p++;
				continue;
			}
			in_word = true;
		}
		if (is_blank(c)) {
			out[n++] = '\0';
			nwords++;
			in_word = false;
			p++;
		} else if (c == '\\') {
			if (p[1] == '\0') {
				out[n++] = '\\';
				p++;
			} else if (p[1] == '\n') {
				p += 2;
			} else {
				out[n++] = p[1];
				p += 2;
			}
		} else if (c == '\'') {
			const char *end = strchr(p + 1, '\'');

			if (end == NULL)
				goto unbalanced;
			memcpy(out + n, p + 1, (size_t)(end - p - 1));
			n += (size_t)(end - p - 1);
			p = end + 1;
		} else if (c == '"') {
			for (p++; *p != '"'; p++) {
				if (*p == '\0')
					goto unbalanced;
				if (*p == '\\' && dq_escapable(p[1])) {
					p++;
					if (*p == '\n')
						continue;
				}
				out[n++] = *p;
			}
			p++;
		} else {
			out[n++] = c;
			p++;
		}
	}
	if (in_word) {
		out[n++] = '\0';
		nwords++;
	}

	if (nwords > 0) {
		*words_out = out;
		out = NULL;
	}
	*nwords_out = nwords;
	rc = FM_OK;
	goto done;
unbalanced:
	*err_out = xstrdup("EOF found when expecting closing quote");
done:
	free(out);
	return rc;
}
