/*
 * shellSplit for job-type scripts: split a command line into words the way
 * a POSIX shell would, honouring single and double quotes, backslash
 * escapes and comments, without any expansion.
 */
#ifndef FM_SHELLSPLIT_H
#define FM_SHELLSPLIT_H

#include <stddef.h>

#include "fm.h"

/*
 * Split s into words. Blanks (space, tab, newline, carriage return)
 * separate words; '...' keeps everything literally; "..." keeps everything
 * except that a backslash before $ ` " \ or a newline escapes it; outside
 * quotes a backslash escapes the next character, backslash-newline is
 * removed and a trailing backslash stays literal; a # at the start of a
 * word starts a comment up to the end of the line; '' and "" make an empty
 * word.
 *
 * On success *words_out is a new buffer (caller frees) holding *nwords_out
 * NUL-terminated words back to back (NULL when there are none). An
 * unbalanced quote gives FM_ERR_INVALID and *err_out (new string)
 * "EOF found when expecting closing quote".
 */
FM_MUST_CHECK enum fm_err shellsplit(
    const char *s, char **words_out, size_t *nwords_out, char **err_out);

#endif
