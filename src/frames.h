/*
 * Frame ranges as job-type scripts write them ("1-10,20..25,40"): parsing
 * into runs of consecutive frames, counting them (frameCount) and cutting
 * them into chunks (frameChunker), with the exact semantics of Flamenco's
 * script environment (see tests/check_frames.c). Pure C; no allocation
 * proportional to the numeric size of a range.
 */
#ifndef FM_FRAMES_H
#define FM_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "fm.h"

/*
 * The most frames one range may hold after de-duplication. A larger range
 * ("1-1000000000") is refused with `frame range "..." has more than 1000000
 * frames` before anything proportional to it is allocated.
 */
#define FRAMES_MAX 1000000

/* An inclusive run of consecutive frame numbers. */
struct frame_run {
	int64_t first;
	int64_t last;
};

/*
 * A parsed range: disjoint, non-adjacent runs in ascending order, and the
 * number of frames they hold (1 .. FRAMES_MAX).
 */
struct frame_set {
	struct frame_run *runs; /* owned; free with frames_set_free */
	size_t nruns;
	size_t count;
};

/*
 * Parse spec (trimmed; ".." means "-"; parts split on ","; each part a
 * frame or an inclusive "a-b" range, start > end adding nothing) into *out.
 * FM_ERR_INVALID with *err_out (new string, caller frees) when the text is
 * not a range, holds no frames, or holds more than FRAMES_MAX frames. On
 * failure *out is left empty.
 */
FM_MUST_CHECK enum fm_err frames_parse(
    const char *spec, struct frame_set *out, char **err_out);

/* Release what frames_parse stored; NULL-safe, leaves *set empty. */
void frames_set_free(struct frame_set *set);

/*
 * frameCount(spec): the number of unique frames. Errors as frames_parse.
 */
FM_MUST_CHECK enum fm_err frames_count(
    const char *spec, size_t *count_out, char **err_out);

/*
 * frameChunker(spec, chunk_size): cut the frames into consecutive groups of
 * chunk_size frames, each rendered by merging runs (3 or more frames
 * "a-b", exactly two "a,b", one "a"; joined with ","). On success
 * *chunks_out is a new buffer (caller frees) holding *nchunks_out
 * NUL-terminated strings back to back. FM_ERR_INVALID with *err_out (new
 * string) for a bad range or a chunk_size below 1 ("invalid chunk size,
 * must be positive number: 0").
 */
FM_MUST_CHECK enum fm_err frames_chunk(const char *spec, int64_t chunk_size,
    char **chunks_out, size_t *nchunks_out, char **err_out);

#endif
