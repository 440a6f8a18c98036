/*
 * What the scheduler reads of a worker, shared with blockers.c so the
 * two agree: the first WORKER_TYPES_MAX task types of its comma-joined
 * list (empty entries skipped) and its first WORKER_TAGS_MAX tags by
 * row id. A worker listing more is served by those only.
 */
#ifndef FM_WORKER_TYPES_H
#define FM_WORKER_TYPES_H

#include <stdbool.h>
#include <stddef.h>

#define WORKER_TYPES_MAX 32
#define WORKER_TAGS_MAX  64

/*
 * Split buf ("a,b,c", modified in place) into at most WORKER_TYPES_MAX
 * pointers into it; returns how many.
 */
size_t worker_types_split(char *buf, const char *types[WORKER_TYPES_MAX]);

/* Whether type is among the types worker_types_split() keeps of list. */
bool worker_types_has(const char *list, const char *type);

#endif
