/*
 * UUIDs as Flamenco uses them: lower-case, 36 characters with hyphens.
 */
#ifndef FM_IDS_H
#define FM_IDS_H

#include <stdbool.h>

#define ID_UUID_LEN 36

/* Write a new random (v4) UUID into buf, which holds ID_UUID_LEN + 1. */
void ids_new_uuid(char *buf);

/* True when s is exactly 36 chars and parses as a UUID. */
bool ids_valid_uuid(const char *s);

#endif
