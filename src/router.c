/*
 * Route matching: walk the pattern and the path segment by segment. When
 * several patterns match, the one whose literal segments come first wins,
 * which is what makes "/jobs/types" and "/jobs/{job_id}" coexist.
 */
#include "router.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

/*
 * Match one pattern against a path; returns a score (higher = more
 * specific) or -1. Fills params on a match.
 */
static long
pattern_match(const char *pattern, const char *path, struct route_match *m)
{
	const char *p = pattern, *s = path;
	long score = 0;
	int depth = 0;

	m->nparams = 0;
	while (*p != '\0' && *s != '\0') {
		const char *pend, *send;
		size_t plen, slen;

		if (*p != '/' || *s != '/')
			return -1;
		p++;
		s++;
		pend = strchr(p, '/');
		send = strchr(s, '/');
		plen = pend ? (size_t)(pend - p) : strlen(p);
		slen = send ? (size_t)(send - s) : strlen(s);
		if (plen >= 2 && p[0] == '{' && p[plen - 1] == '}') {
			bool rest = plen >= 3 && p[plen - 2] == '*';

			if (slen == 0 || m->nparams == ROUTE_MAX_PARAMS)
				return -1;
			m->params[m->nparams].name = p + 1;
			m->params[m->nparams].name_len = plen - (rest ? 3 : 2);
			m->params[m->nparams].value = s;
			m->params[m->nparams].value_len =
			    rest ? strlen(s) : slen;
			m->nparams++;
			if (rest)
				return score;
		} else {
			if (plen != slen || memcmp(p, s, plen) != 0)
				return -1;
			if (depth < 30)
				score |= 1L << (30 - depth);
		}
		p += plen;
		s += slen;
		depth++;
	}
	return (*p == '\0' && *s == '\0') ? score : -1;
}

static bool
method_matches(const char *route_method, const char *method)
{
	if (strcmp(route_method, method) == 0)
		return true;
	return strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0;
}

void
router_match(const struct route_table *const *tables, size_t ntables,
    const char *method, const char *path, struct route_match *match_out,
    char *allow_out, size_t allow_len)
{
	long best = -1, best_path = -1;
	struct route_match tmp;

	memset(match_out, 0, sizeof(*match_out));
	if (allow_out != NULL && allow_len > 0)
		allow_out[0] = '\0';
	for (size_t t = 0; t < ntables; t++) {
		for (size_t i = 0; i < tables[t]->nroutes; i++) {
			const struct route *r = &tables[t]->routes[i];
			long score = pattern_match(r->pattern, path, &tmp);

			if (score < 0)
				continue;
			match_out->path_matched = true;
			if (score > best_path)
				best_path = score;
			if (method_matches(r->method, method) && score > best) {
				best = score;
				*match_out = tmp;
				match_out->route = r;
				match_out->path_matched = true;
			}
		}
	}
	/* No path match: best_path is -1, which every other route scores. */
	if (match_out->route != NULL || !match_out->path_matched ||
	    allow_out == NULL)
		return;
	/* Build Allow from the routes that share the best-matching path. */
	for (size_t t = 0; t < ntables; t++) {
		for (size_t i = 0; i < tables[t]->nroutes; i++) {
			const struct route *r = &tables[t]->routes[i];
			size_t used = strlen(allow_out);

			if (pattern_match(r->pattern, path, &tmp) != best_path)
				continue;
			if (strstr(allow_out, r->method) != NULL)
				continue;
			snprintf(allow_out + used, allow_len - used, "%s%s",
			    used ? ", " : "", r->method);
		}
	}
}

static int
route_cmp(const void *a, const void *b)
{
	const struct route *ra = *(const struct route *const *)a;
	const struct route *rb = *(const struct route *const *)b;
	int c = strcmp(ra->pattern, rb->pattern);

	return c != 0 ? c : strcmp(ra->method, rb->method);
}

void
router_dump(const struct route_table *const *tables, size_t ntables, FILE *out)
{
	const struct route **all;
	size_t n = 0, k = 0;

	for (size_t t = 0; t < ntables; t++)
		n += tables[t]->nroutes;
	all = xcalloc(n, sizeof(*all));
	for (size_t t = 0; t < ntables; t++)
		for (size_t i = 0; i < tables[t]->nroutes; i++)
			all[k++] = &tables[t]->routes[i];
	qsort(all, n, sizeof(*all), route_cmp);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s %s\n", all[i]->method, all[i]->pattern);
	free(all);
}
