/*
 * Open addressing with linear probing at load factor <= 1/2; FNV-1a.
 */
#include "uuidmap.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

static size_t
key_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

void
uuid_map_init(struct uuid_map *m, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	m->keys = xcalloc(cap, sizeof(*m->keys));
	m->values = xcalloc(cap, sizeof(*m->values));
	m->mask = cap - 1;
}

void
uuid_map_put(struct uuid_map *m, const char *key, int64_t value)
{
	size_t i = key_hash(key) & m->mask;

	while (m->keys[i] != NULL && strcmp(m->keys[i], key) != 0)
		i = (i + 1) & m->mask;
	m->keys[i] = key;
	m->values[i] = value;
}

int64_t
uuid_map_get(const struct uuid_map *m, const char *key)
{
	size_t i = key_hash(key) & m->mask;

	while (m->keys[i] != NULL) {
		if (strcmp(m->keys[i], key) == 0)
			return m->values[i];
		i = (i + 1) & m->mask;
	}
	return 0;
}

void
uuid_map_free(struct uuid_map *m)
{
	free(m->keys);
	free(m->values);
}
