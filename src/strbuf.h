/*
 * A growing string: text is appended by length (it may hold NUL) and
 * b->s stays NUL-terminated. Start from { NULL, 0, 0 }; the owner frees
 * b->s.
 */
#ifndef FM_STRBUF_H
#define FM_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *s;
	size_t len, cap;
};

/* Append n bytes of s. */
void strbuf_add(struct strbuf *b, const char *s, size_t n);

#endif
