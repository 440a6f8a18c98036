/*
 * Allocation wrappers that abort on out-of-memory, for small internal
 * allocations. Anything sized by a request must be bounded before it gets
 * here.
 */
#ifndef FM_XMALLOC_H
#define FM_XMALLOC_H

#include <stddef.h>

#include "fm.h"

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) FM_PRINTF(1, 2);

#endif
