/*
 * Files compiled into the binary by contrib/embed.c: the schema migrations,
 * the built-in job-type scripts, the JavaScript libraries the job
 * compiler loads, our OpenAPI description and the web dashboard (src/web/,
 * each file also as NAME.gz). Each table ends with a row whose name is NULL.
 */
#ifndef FM_EMBEDDED_H
#define FM_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
	const char *name;          /* base name, e.g. "0001_initial.sql" */
	const unsigned char *data; /* contents, followed by a NUL byte */
	size_t len;                /* length without the NUL */
	const char *etag;          /* "\"<16 hex>\"": hash of data, for HTTP */
};

extern const struct embedded_file embedded_migrations[];
extern const size_t embedded_migrations_count;
extern const struct embedded_file embedded_scripts[];
extern const size_t embedded_scripts_count;
extern const struct embedded_file embedded_jslib[];
extern const size_t embedded_jslib_count;
extern const struct embedded_file embedded_api[];
extern const size_t embedded_api_count;
extern const struct embedded_file embedded_web[];
extern const size_t embedded_web_count;

#endif
