/*
 * A fixed-size hash map from string keys (borrowed, typically task UUIDs)
 * to integers, for resolving dependencies of large jobs in linear time.
 */
#ifndef FM_UUIDMAP_H
#define FM_UUIDMAP_H

#include <stddef.h>
#include <stdint.h>

struct uuid_map {
	const char **keys; /* borrowed; must outlive the map */
	int64_t *values;
	size_t mask;
};

/* Room for n keys. */
void uuid_map_init(struct uuid_map *m, size_t n);
/* Insert or overwrite; at most the n keys of init. */
void uuid_map_put(struct uuid_map *m, const char *key, int64_t value);
/* The value, or 0 when the key is absent. */
int64_t uuid_map_get(const struct uuid_map *m, const char *key);
void uuid_map_free(struct uuid_map *m);

#endif
