/*
 * The `path` module of job-type scripts: join, dirname, basename and stem
 * with the semantics of Flamenco's Go implementation (tests/check_jspath.c),
 * which treats "\" as "/" so Windows paths from the add-on work too.
 */
#ifndef FM_JSPATH_H
#define FM_JSPATH_H

#include <stddef.h>

/*
 * Go's path.Clean: the shortest equivalent path by lexical processing
 * ("//" -> "/", "." removed, "x/.." removed, ".." at the root dropped);
 * "" becomes ".". Returns a new string.
 */
char *jspath_clean(const char *p);

/*
 * path.join(...parts): the non-empty parts joined with "/" and cleaned,
 * then every "\" replaced with "/"; "" when every part is empty. Returns a
 * new string.
 */
char *jspath_join(const char *const *parts, size_t nparts);

/*
 * path.dirname(p): "\" -> "/", then the text before the last "/" ("." when
 * there is none, "/" when it is the first character); "" gives ".". No
 * cleaning. Returns a new string.
 */
char *jspath_dirname(const char *p);

/*
 * path.basename(p): "\" -> "/", then Go's path.Base: trailing slashes
 * ignored, the last element; "" gives ".", only slashes give "/". Returns a
 * new string.
 */
char *jspath_basename(const char *p);

/*
 * path.stem(p): the basename without its last extension (from the last
 * "." on): "a.flamenco.blend" -> "a.flamenco". Returns a new string.
 */
char *jspath_stem(const char *p);

#endif
