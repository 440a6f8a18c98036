/*
 * A worker's task types as the scheduler sees them (worker_types.h).
 */
#include "worker_types.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

size_t
worker_types_split(char *buf, const char *types[WORKER_TYPES_MAX])
{
	size_t n = 0;
	char *save = NULL;

	for (char *tok = strtok_r(buf, ",", &save);
	     tok != NULL && n < WORKER_TYPES_MAX;
	     tok = strtok_r(NULL, ",", &save))
		types[n++] = tok;
	return n;
}

bool
worker_types_has(const char *list, const char *type)
{
	const char *types[WORKER_TYPES_MAX];
	char *buf = xstrdup(list);
	size_t n = worker_types_split(buf, types);
	bool found = false;

	for (size_t i = 0; i < n && !found; i++)
		found = strcmp(types[i], type) == 0;
	free(buf);
	return found;
}
