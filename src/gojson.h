/*
 * JSON text exactly as Go's encoding/json writes it, for the one place
 * where bytes must match Flamenco's: the job-type etag. Object keys are
 * sorted, no whitespace, '<' '>' '&' U+2028 U+2029 escaped as \uXXXX,
 * numbers in Go's shortest float64 form (integers without ".0").
 */
#ifndef FM_GOJSON_H
#define FM_GOJSON_H

#include <jansson.h>

/* New NUL-terminated string; the caller frees it. */
char *gojson_encode(const json_t *value);

#endif
