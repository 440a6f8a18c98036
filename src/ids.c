/*
 * libuuid wrappers for creating and validating identifiers.
 */
#include "ids.h"

#include <string.h>
#include <uuid/uuid.h>

void
ids_new_uuid(char *buf)
{
	uuid_t u;

	uuid_generate_random(u);
	uuid_unparse_lower(u, buf);
}

bool
ids_valid_uuid(const char *s)
{
	uuid_t u;

	if (s == NULL || strlen(s) != ID_UUID_LEN)
		return false;
	return uuid_parse(s, u) == 0;
}
