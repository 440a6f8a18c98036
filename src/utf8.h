/*
 * UTF-8 checks for text that arrives from the network: whether bytes are
 * valid UTF-8 by the same rules jansson applies (no overlong forms, no
 * surrogates, nothing above U+10FFFF), and safe copies of text that may
 * not be, for JSON messages and log lines.
 */
#ifndef FM_UTF8_H
#define FM_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when the len bytes at s are valid UTF-8 (NUL bytes included). */
bool utf8_valid(const char *s, size_t len);

/*
 * Copy the len bytes at in to out (cap bytes, at least 1) as valid
 * UTF-8: every byte that is not part of a valid sequence becomes U+FFFD.
 * The copy stops early, at a character boundary, when out is full; it is
 * always NUL-terminated. A cap of 3 * len + 1 never truncates. Returns
 * the length written.
 */
size_t utf8_scrub(const char *in, size_t len, char *out, size_t cap);

/*
 * Copy the NUL-terminated in to out (cap bytes, at least 1) for a log
 * line: control characters, backslashes and bytes that are not valid
 * UTF-8 become \xHH, so a hostile path cannot forge or split lines.
 * Truncated with "..." when out is full.
 */
void utf8_escape_log(const char *in, char *out, size_t cap);

#endif
