/*
 * Variable lookup and expansion. A value's platform may be "all" and its
 * audience "all"; the most specific value wins (platform first, then
 * audience). Expansion is a single pass: expanded text is not expanded
 * again.
 */
#include "variables.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

#include "config.h"
#include "strbuf.h"
#include "xmalloc.h"

const char *
variables_manager_platform(void)
{
#if defined(__APPLE__)
	return "darwin";
#elif defined(_WIN32)
	return "windows";
#elif defined(__FreeBSD__)
	return "freebsd";
#else
	return "linux";
#endif
}

static int
value_rank(const struct fm_variable_value *vv, const char *audience,
    const char *platform)
{
	int rank = 1;

	if (strcmp(vv->platform, platform) == 0)
		rank += 2;
	else if (strcmp(vv->platform, "all") != 0)
		return 0;
	if (strcmp(vv->audience, audience) == 0)
		rank += 1;
	else if (strcmp(vv->audience, "all") != 0)
		return 0;
	return rank;
}

static const char *
var_value(
    const struct fm_variable *var, const char *audience, const char *platform)
{
	const char *best = NULL;
	int best_rank = 0;

	for (size_t i = 0; i < var->nvalues; i++) {
		int r = value_rank(&var->values[i], audience, platform);

		if (r > best_rank) {
			best_rank = r;
			best = var->values[i].value;
		}
	}
	return best;
}

const char *
variables_lookup(const struct fm_config *cfg, const char *name,
    const char *audience, const char *platform)
{
	const struct fm_variable *var;

	if (strcmp(name, "jobs") == 0)
		return config_storage_location(cfg);
	var = config_variable(cfg, name);
	return var != NULL ? var_value(var, audience, platform) : NULL;
}

/*
 * Replace every "{name}" of variables with the given two-way-ness in
 * [s, s + n), which may hold NUL characters (a name never does).
 */
static struct strbuf
replace_names(const struct fm_config *cfg, const char *audience,
    const char *platform, const char *s, size_t n, bool twoway, bool *replaced)
{
	struct strbuf out = { NULL, 0, 0 };
	const char *end = s + n;

	strbuf_add(&out, "", 0);
	while (s < end) {
		const char *close, *value = NULL;

		if (*s == '{' &&
		    (close = memchr(s + 1, '}', (size_t)(end - s - 1))) !=
		        NULL) {
			char name[128];
			size_t len = (size_t)(close - s - 1);

			if (len > 0 && len < sizeof(name) &&
			    memchr(s + 1, '\0', len) == NULL) {
				const struct fm_variable *var;

				memcpy(name, s + 1, len);
				name[len] = '\0';
				var = config_variable(cfg, name);
				if (strcmp(name, "jobs") == 0 && !twoway)
					value = config_storage_location(cfg);
				else if (var != NULL &&
				    var->is_twoway == twoway)
					value =
					    var_value(var, audience, platform);
			}
			if (value != NULL) {
				strbuf_add(&out, value, strlen(value));
				*replaced = true;
				s = close + 1;
				continue;
			}
		}
		strbuf_add(&out, s, 1);
		s++;
	}
	return out;
}

/* Does s start with the first n bytes of prefix, treating \ and / alike? */
static bool
path_prefix(const char *s, const char *prefix, size_t n, bool fold_case)
{
	for (; n > 0; s++, prefix++, n--) {
		char a = *s == '\\' ? '/' : *s;
		char b = *prefix == '\\' ? '/' : *prefix;

		if (fold_case) {
			a = (char)tolower((unsigned char)a);
			b = (char)tolower((unsigned char)b);
		}
		if (a != b)
			return false;
	}
	return true;
}

static size_t
trimmed_len(const char *v)
{
	size_t n = strlen(v);

	while (n > 1 && (v[n - 1] == '/' || v[n - 1] == '\\'))
		n--;
	return n;
}

/* [s, s + n) with separators made the platform's and runs of them one. */
static struct strbuf
normalise_path(const char *s, size_t n, const char *platform)
{
	bool windows = strcmp(platform, "windows") == 0;
	char sep = windows ? '\\' : '/';
	struct strbuf out = { NULL, 0, 0 };
	const char *p = s, *end = s + n;

	strbuf_add(&out, "", 0);
	/* Leading separators are kept as they are (UNC paths). */
	while (p < end && (*p == '/' || *p == '\\')) {
		strbuf_add(&out, &sep, 1);
		p++;
	}
	if (windows && end - p >= 3 && isalpha((unsigned char)p[0]) &&
	    p[1] == ':' && p[2] != '/' && p[2] != '\\') {
		strbuf_add(&out, p, 2);
		strbuf_add(&out, &sep, 1);
		p += 2;
	}
	while (p < end) {
		if (*p == '/' || *p == '\\') {
			while (p < end && (*p == '/' || *p == '\\'))
				p++;
			if (p < end)
				strbuf_add(&out, &sep, 1);
			continue;
		}
		strbuf_add(&out, p, 1);
		p++;
	}
	return out;
}

/*
 * variables_expand for [s, s + n), which may hold NUL characters (a
 * command parameter can): the result is as long as it is (*len_out).
 */
static char *
expand_n(const struct fm_config *cfg, const char *audience,
    const char *platform, const char *s, size_t n, size_t *len_out)
{
	const char *own = variables_manager_platform();
	bool is_path = false, ignored = false;
	struct strbuf step1, result;

	if (memchr(s, '{', n) == NULL && cfg->nvariables == 0) {
		char *copy = xmalloc(n + 1);

		memcpy(copy, s, n);
		copy[n] = '\0';
		*len_out = n;
		return copy;
	}
	step1 = replace_names(cfg, audience, platform, s, n, false, &ignored);
	result = replace_names(
	    cfg, audience, platform, step1.s, step1.len, true, &is_path);
	free(step1.s);
	for (size_t i = 0; i < cfg->nvariables; i++) {
		const struct fm_variable *var = &cfg->variables[i];
		const char *from, *to;
		struct strbuf swapped = { NULL, 0, 0 };
		size_t flen;

		if (!var->is_twoway)
			continue;
		from = var_value(var, audience, own);
		to = var_value(var, audience, platform);
		if (from == NULL || to == NULL || from[0] == '\0')
			continue;
		/* Two-way values count without trailing separators. */
		flen = trimmed_len(from);
		if (result.len >= flen &&
		    path_prefix(result.s, from, flen, false)) {
			strbuf_add(&swapped, to, trimmed_len(to));
			strbuf_add(
			    &swapped, result.s + flen, result.len - flen);
			free(result.s);
			result = swapped;
			is_path = true;
			break;
		}
	}
	if (is_path) {
		struct strbuf norm =
		    normalise_path(result.s, result.len, platform);

		free(result.s);
		result = norm;
	}
	*len_out = result.len;
	return result.s;
}

char *
variables_expand(const struct fm_config *cfg, const char *audience,
    const char *platform, const char *s)
{
	size_t len;

	return expand_n(cfg, audience, platform, s, strlen(s), &len);
}

static void
expand_string_in_place(const struct fm_config *cfg, const char *audience,
    const char *platform, json_t *holder, const char *key, size_t index)
{
	json_t *v =
	    key ? json_object_get(holder, key) : json_array_get(holder, index);
	size_t n, len;
	char *expanded;

	if (!json_is_string(v))
		return;
	n = json_string_length(v);
	expanded =
	    expand_n(cfg, audience, platform, json_string_value(v), n, &len);
	if (len != n || memcmp(expanded, json_string_value(v), n) != 0)
		json_string_setn(v, expanded, len);
	free(expanded);
}

void
variables_expand_commands(const struct fm_config *cfg, const char *audience,
    const char *platform, json_t *commands)
{
	size_t i;
	json_t *cmd;

	json_array_foreach (commands, i, cmd) {
		json_t *params = json_object_get(cmd, "parameters");
		const char *key;
		json_t *value;

		json_object_foreach (params, key, value) {
			if (json_is_string(value)) {
				expand_string_in_place(
				    cfg, audience, platform, params, key, 0);
			} else if (json_is_array(value)) {
				for (size_t j = 0; j < json_array_size(value);
				     j++)
					expand_string_in_place(cfg, audience,
					    platform, value, NULL, j);
			}
		}
	}
}

char *
variables_replace_twoway(
    const struct fm_config *cfg, const char *platform, const char *s)
{
	const struct fm_variable *best = NULL;
	size_t best_len = 0;

	for (size_t i = 0; i < cfg->nvariables; i++) {
		const struct fm_variable *var = &cfg->variables[i];
		const char *v;
		size_t n;

		if (!var->is_twoway)
			continue;
		v = var_value(var, "workers", platform);
		if (v == NULL || v[0] == '\0')
			continue;
		n = trimmed_len(v);
		if (n > best_len && path_prefix(s, v, n, true) &&
		    (s[n] == '\0' || s[n] == '/' || s[n] == '\\' ||
		        v[n - 1] == '/' || v[n - 1] == '\\')) {
			best = var;
			best_len = n;
		}
	}
	if (best == NULL)
		return NULL;
	return xasprintf("{%s}%s", best->name, s + best_len);
}

void
variables_replace_twoway_object(
    const struct fm_config *cfg, const char *platform, json_t *obj)
{
	const char *key;
	json_t *value;

	json_object_foreach (obj, key, value) {
		char *replaced;

		/* Text with a NUL is left whole (submit.c refuses it). */
		if (!json_is_string(value) ||
		    strlen(json_string_value(value)) !=
		        json_string_length(value))
			continue;
		replaced = variables_replace_twoway(
		    cfg, platform, json_string_value(value));
		if (replaced != NULL)
			json_string_set(value, replaced);
		free(replaced);
	}
}

json_t *
variables_to_json(
    const struct fm_config *cfg, const char *audience, const char *platform)
{
	json_t *out = json_object();

	for (size_t i = 0; i < cfg->nvariables; i++) {
		const struct fm_variable *var = &cfg->variables[i];
		const char *v = var_value(var, audience, platform);

		if (v != NULL)
			json_object_set_new(out, var->name,
			    json_pack("{s:s, s:b}", "value", v, "is_twoway",
			        var->is_twoway));
	}
	json_object_set_new(out, "jobs",
	    json_pack("{s:s, s:b}", "value", config_storage_location(cfg),
	        "is_twoway", 0));
	return out;
}
