/*
 * RFC 2047 encoded-words ("=?utf-8?b?...?=", "=?utf-8?q?...?="), as the
 * Blender add-on sends a non-ASCII file name in X-Shaman-Original-Filename.
 */
#ifndef FM_RFC2047_H
#define FM_RFC2047_H

/*
 * The text of s with every UTF-8 (or US-ASCII) encoded-word decoded;
 * whitespace between two encoded-words is dropped, as the RFC says. A
 * malformed word, or one in another charset, stays as it is. The result
 * may hold any bytes (escape it before logging). New; never NULL.
 */
char *rfc2047_decode(const char *s);

#endif
