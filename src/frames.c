/*
 * Frame-range parsing, counting and chunking for job-type scripts. A range
 * is reduced to sorted, merged runs straight from its text, so "1-999999"
 * costs one run, and the frame cap is checked on the run lengths before
 * anything proportional to the frame count is produced.
 */
#include "frames.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

/* A growing text buffer for rendered chunks. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap == 0 ? 256 : b->cap * 2;
		b->data = xrealloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

static void
buf_add_frame(struct buf *b, int64_t frame)
{
	char num[24];
	int n;

	n = snprintf(num, sizeof(num), "%" PRId64, frame);
	buf_add(b, num, (size_t)n);
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f';
}

/* [*s, *e) without leading and trailing white space. */
static void
trim(const char **s, const char **e)
{
	while (*s < *e && is_space(**s))
		(*s)++;
	while (*e > *s && is_space((*e)[-1]))
		(*e)--;
}

/*
 * One frame number from [s, e) (already trimmed): optional "+", then
 * decimal digits, no overflow; what Go's strconv.Atoi accepts without a
 * minus sign (which the "-" split has already consumed).
 */
static bool
parse_frame(const char *s, const char *e, int64_t *out)
{
	int64_t v = 0;

	if (s < e && *s == '+')
		s++;
	if (s == e)
		return false;
	for (; s < e; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
		if (v > (INT64_MAX - (*s - '0')) / 10)
			return false;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return true;
}

static int
run_cmp(const void *a, const void *b)
{
	const struct frame_run *x = a, *y = b;

	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	if (x->last != y->last)
		return x->last < y->last ? -1 : 1;
	return 0;
}

/* Frames in a run, saturating at SIZE_MAX. */
static size_t
run_len(const struct frame_run *r)
{
	uint64_t n = (uint64_t)r->last - (uint64_t)r->first;

	return n >= SIZE_MAX ? SIZE_MAX : (size_t)n + 1;
}

/*
 * Sort the runs and merge those that overlap or touch, so the result is
 * the ascending, de-duplicated frame list in run form.
 */
static size_t
merge_runs(struct frame_run *runs, size_t n)
{
	size_t out = 0;

	if (n == 0)
		return 0;
	qsort(runs, n, sizeof(*runs), run_cmp);
	for (size_t i = 1; i < n; i++) {
		struct frame_run *cur = &runs[out];

		if (cur->last == INT64_MAX || runs[i].first <= cur->last + 1) {
			if (runs[i].last > cur->last)
				cur->last = runs[i].last;
		} else {
			runs[++out] = runs[i];
		}
	}
	return out + 1;
}

enum fm_err
frames_parse(const char *spec, struct frame_set *out, char **err_out)
{
	struct frame_run *runs = NULL;
	char *text = NULL, *p, *q;
	const char *s, *e;
	size_t nruns = 0, maxruns, count = 0;
	enum fm_err rc = FM_ERR_INVALID;

	memset(out, 0, sizeof(*out));
	*err_out = NULL;

	s = spec;
	e = spec + strlen(spec);
	trim(&s, &e);
	text = xstrndup(s, (size_t)(e - s));
	if (*text == '\0') {
		*err_out = xstrdup("invalid range \"\": empty range");
		goto done;
	}

	/* Blender's ".." means the same as "-"; rewrite in place. */
	for (p = q = text; *p != '\0'; p++) {
		if (p[0] == '.' && p[1] == '.') {
			*q++ = '-';
			p++;
		} else {
			*q++ = *p;
		}
	}
	*q = '\0';

	maxruns = 1;
	for (p = text; *p != '\0'; p++)
		maxruns += *p == ',';
	runs = xcalloc(maxruns, sizeof(*runs));

	for (p = text;; p = q + 1) {
		const char *ps, *pe, *dash, *dash2, *as, *ae, *bs, *be;
		int64_t a, b;

		q = strchr(p, ',');
		if (q == NULL)
			q = p + strlen(p);
		ps = p;
		pe = q;
		trim(&ps, &pe);
		dash = memchr(ps, '-', (size_t)(pe - ps));
		dash2 = dash == NULL
		    ? NULL
		    : memchr(dash + 1, '-', (size_t)(pe - dash - 1));
		if (dash2 != NULL) {
			*err_out = xasprintf("invalid range \"%.*s\": %.*s",
			    (int)(e - s), s, (int)(pe - ps), ps);
			goto done;
		}
		as = ps;
		ae = dash == NULL ? pe : dash;
		trim(&as, &ae);
		if (!parse_frame(as, ae, &a)) {
			*err_out = xasprintf(
			    "invalid range \"%.*s\": \"%.*s\" is not a frame number",
			    (int)(e - s), s, (int)(ae - as), as);
			goto done;
		}
		b = a;
		if (dash != NULL) {
			bs = dash + 1;
			be = pe;
			trim(&bs, &be);
			if (!parse_frame(bs, be, &b)) {
				*err_out = xasprintf(
				    "invalid range \"%.*s\": \"%.*s\" is not a frame number",
				    (int)(e - s), s, (int)(be - bs), bs);
				goto done;
			}
		}
		if (a <= b) {
			runs[nruns].first = a;
			runs[nruns].last = b;
			nruns++;
		}
		if (*q == '\0')
			break;
	}

	nruns = merge_runs(runs, nruns);
	for (size_t i = 0; i < nruns; i++) {
		size_t n = run_len(&runs[i]);

		if (n > FRAMES_MAX - count) {
			*err_out = xasprintf(
			    "frame range \"%.*s\" has more than %d frames",
			    (int)(e - s), s, FRAMES_MAX);
			goto done;
		}
		count += n;
	}
	if (count == 0) {
		*err_out = xasprintf(
		    "invalid range \"%.*s\": empty range", (int)(e - s), s);
		goto done;
	}

	out->runs = runs;
	out->nruns = nruns;
	out->count = count;
	runs = NULL;
	rc = FM_OK;
done:
	free(runs);
	free(text);
	return rc;
}

void
frames_set_free(struct frame_set *set)
{
	if (set == NULL)
		return;
	free(set->runs);
	memset(set, 0, sizeof(*set));
}

enum fm_err
frames_count(const char *spec, size_t *count_out, char **err_out)
{
	struct frame_set set;
	enum fm_err rc;

	*count_out = 0;
	if ((rc = frames_parse(spec, &set, err_out)) != FM_OK)
		return rc;
	*count_out = set.count;
	frames_set_free(&set);
	return FM_OK;
}

/* Append the run [first, last] to a chunk's text. */
static void
render_run(struct buf *b, bool first_in_chunk, int64_t first, int64_t last)
{
	if (!first_in_chunk)
		buf_add(b, ",", 1);
	buf_add_frame(b, first);
	if (last == first)
		return;
	buf_add(b, last - first >= 2 ? "-" : ",", 1);
	buf_add_frame(b, last);
}

enum fm_err
frames_chunk(const char *spec, int64_t chunk_size, char **chunks_out,
    size_t *nchunks_out, char **err_out)
{
	struct frame_set set = { 0 };
	struct buf b = { 0 };
	const char *s, *e;
	size_t nchunks = 0, left, run = 0;
	int64_t next;
	bool fresh;
	enum fm_err rc;

	*chunks_out = NULL;
	*nchunks_out = 0;
	*err_out = NULL;

	s = spec;
	e = spec + strlen(spec);
	trim(&s, &e);
	if (s == e) {
		*err_out = xstrdup("invalid range \"\": empty range");
		return FM_ERR_INVALID;
	}
	if (chunk_size < 1) {
		*err_out = xasprintf(
		    "invalid chunk size, must be positive number: %" PRId64,
		    chunk_size);
		return FM_ERR_INVALID;
	}
	if ((rc = frames_parse(spec, &set, err_out)) != FM_OK)
		return rc;

	/*
	 * Walk the runs taking chunk_size frames at a time; within a chunk
	 * every run (or the part of it inside the chunk) renders once.
	 */
	next = set.runs[0].first;
	while (run < set.nruns) {
		left = (uint64_t)chunk_size > set.count ? set.count
		                                        : (size_t)chunk_size;
		fresh = true;
		while (left > 0 && run < set.nruns) {
			const struct frame_run *r = &set.runs[run];
			size_t avail =
			    run_len(&(struct frame_run){ next, r->last });
			size_t take = avail < left ? avail : left;
			int64_t last = next + (int64_t)(take - 1);

			render_run(&b, fresh, next, last);
			fresh = false;
			left -= take;
			if (take == avail) {
				if (++run < set.nruns)
					next = set.runs[run].first;
			} else {
				next = last + 1;
			}
		}
		buf_add(&b, "", 0);
		b.len++; /* keep the NUL as the separator */
		nchunks++;
	}

	*chunks_out = b.data;
	*nchunks_out = nchunks;
	frames_set_free(&set);
	return FM_OK;
}
