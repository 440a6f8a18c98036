/*
 * Lexical path functions for job-type scripts. Only string processing:
 * nothing here touches the file system.
 */
#include "jspath.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

static char *
slashify(const char *p)
{
	char *s = xstrdup(p);

	for (char *c = s; *c != '\0'; c++)
		if (*c == '\\')
			*c = '/';
	return s;
}

char *
jspath_clean(const char *p)
{
	size_t n = strlen(p), r = 0, w = 0, dotdot = 0;
	bool rooted;
	char *out;

	if (n == 0)
		return xstrdup(".");
	rooted = p[0] == '/';
	out = xmalloc(n + 2);
	if (rooted) {
		out[w++] = '/';
		r = 1;
		dotdot = 1;
	}
	/*
	 * r reads p, w writes out; dotdot is where ".." can no longer be
	 * backtracked over (after the root or after leading "..").
	 */
	while (r < n) {
		if (p[r] == '/') {
			r++;
		} else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/')) {
			r++;
		} else if (p[r] == '.' && p[r + 1] == '.' &&
		    (r + 2 == n || p[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w != 0))
				out[w++] = '/';
			while (r < n && p[r] != '/')
				out[w++] = p[r++];
		}
	}
	if (w == 0)
		out[w++] = '.';
	out[w] = '\0';
	return out;
}

char *
jspath_join(const char *const *parts, size_t nparts)
{
	size_t len = 0;
	char *joined, *clean, *res;
	bool any = false;

	for (size_t i = 0; i < nparts; i++)
		len += strlen(parts[i]) + 1;
	joined = xmalloc(len + 1);
	joined[0] = '\0';
	len = 0;
	for (size_t i = 0; i < nparts; i++) {
		size_t pl = strlen(parts[i]);

		if (pl == 0)
			continue;
		if (any)
			joined[len++] = '/';
		memcpy(joined + len, parts[i], pl);
		len += pl;
		any = true;
	}
	joined[len] = '\0';
	if (!any) {
		free(joined);
		return xstrdup("");
	}
	clean = jspath_clean(joined);
	res = slashify(clean);
	free(clean);
	free(joined);
	return res;
}

char *
jspath_dirname(const char *p)
{
	char *s = slashify(p), *slash;

	if (*s == '\0') {
		free(s);
		return xstrdup(".");
	}
	slash = strrchr(s, '/');
	if (slash == NULL) {
		free(s);
		return xstrdup(".");
	}
	if (slash == s)
		slash++;
	*slash = '\0';
	return s;
}

char *
jspath_basename(const char *p)
{
	char *s = slashify(p), *res;
	size_t n = strlen(s), start;

	if (n == 0) {
		free(s);
		return xstrdup(".");
	}
	while (n > 0 && s[n - 1] == '/')
		n--;
	if (n == 0) {
		free(s);
		return xstrdup("/");
	}
	start = n;
	while (start > 0 && s[start - 1] != '/')
		start--;
	res = xstrndup(s + start, n - start);
	free(s);
	return res;
}

char *
jspath_stem(const char *p)
{
	char *base = jspath_basename(p), *dot;

	dot = strrchr(base, '.');
	if (dot != NULL)
		*dot = '\0';
	return base;
}
