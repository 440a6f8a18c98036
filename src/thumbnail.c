/*
 * Thumbnails: libjpeg-turbo (through its libjpeg API, which streams rows
 * and caps its own memory) decodes and encodes JPEG, libspng decodes PNG,
 * and the scaler between them is ours: area averaging, a box filter with
 * exact fractional pixel coverage, fed one source row at a time.
 */
#include "thumbnail.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <spng.h>

#include "log.h"
#include "xmalloc.h"

/* Ancillary PNG chunks we never use, kept by libspng all the same: bound
 * what one compressed text or profile chunk, and all of them, may take. */
#define PNG_CHUNK_INFLATED_MAX (4u << 20)
#define PNG_CHUNK_CACHE_MAX    (8u << 20)

static const unsigned char png_magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n',
	0x1a, '\n' };

/* --- the scaler */

/*
 * One shrinking step, sw x sh to dw x dh (never larger). Destination row
 * y covers source rows [y * sh / dh, (y + 1) * sh / dh); measured in
 * units of 1/dh source row those bounds are integers, so each source
 * row's coverage (its weight) is an exact integer and a destination
 * row's weights sum to sh. Columns work the same way with dw and sw, so
 * a destination pixel is its weighted sum divided by sw * sh, exactly.
 *
 * Down first: each source row is added with its weight into vacc, and
 * when the last source row a destination row covers is in, vacc is
 * summed across. Down first because adding whole rows is simple,
 * vectorisable work done for every source row, while the uneven work
 * across is then done only once per destination row. Bounds: vacc is at
 * most 255 * sh < 2^24, a sum across at most 255 * sh * sw < 2^40 (sides
 * are at most THUMBNAIL_MAX_SIDE).
 */
struct scaler {
	int sw, sh;         /* source size */
	int dw, dh;         /* destination size */
	int *xfirst;        /* per destination column: first source column */
	int *xcount;        /* ... and how many it covers */
	uint32_t *xweight;  /* their weights, flat, in column order */
	double scale;       /* 1 / (sw * sh) */
	uint32_t *vacc;     /* the destination row being summed, sw * 3 */
	int sy;             /* source rows taken */
	int dy;             /* destination rows finished */
	unsigned char *out; /* dw * dh * 3, packed RGB */
};

static void
scaler_init(struct scaler *s, int sw, int sh, int dw, int dh)
{
	size_t k = 0;

	FM_ASSERT(dw >= 1 && dh >= 1 && dw <= sw && dh <= sh);
	FM_ASSERT(sw <= THUMBNAIL_MAX_SIDE && sh <= THUMBNAIL_MAX_SIDE);
	memset(s, 0, sizeof(*s));
	s->sw = sw;
	s->sh = sh;
	s->dw = dw;
	s->dh = dh;
	s->out = xmalloc((size_t)dw * (size_t)dh * 3);
	if (sw == dw && sh == dh)
		return; /* a copy: scaler_push() needs nothing else */
	s->xfirst = xmalloc((size_t)dw * sizeof(*s->xfirst));
	s->xcount = xmalloc((size_t)dw * sizeof(*s->xcount));
	s->xweight = xmalloc(((size_t)sw + (size_t)dw) * sizeof(*s->xweight));
	s->vacc = xcalloc((size_t)sw * 3, sizeof(*s->vacc));
	s->scale = 1.0 / ((double)sw * (double)sh);
	for (int x = 0; x < dw; x++) {
		int64_t lo = (int64_t)x * sw, hi = lo + sw;
		int first = (int)(lo / dw), last = (int)((hi - 1) / dw);

		s->xfirst[x] = first;
		s->xcount[x] = last - first + 1;
		for (int i = first; i <= last; i++) {
			int64_t a = (int64_t)i * dw, b = a + dw;

			s->xweight[k++] =
			    (uint32_t)((b < hi ? b : hi) - (a > lo ? a : lo));
		}
	}
	FM_ASSERT(k <= (size_t)sw + (size_t)dw);
}

static void
scaler_free(struct scaler *s)
{
	free(s->xfirst);
	free(s->xcount);
	free(s->xweight);
	free(s->vacc);
	free(s->out);
	memset(s, 0, sizeof(*s));
}

/* The loops below use local restrict pointers: through the struct, every
 * store into an array would make the compiler reload the others. */
static void
add_down(struct scaler *s, const unsigned char *restrict row, uint32_t weight)
{
	uint32_t *restrict acc = s->vacc;
	size_t n = (size_t)s->sw * 3, i = 0;

	/* Blocks of a fixed 16 let gcc -O2 use vector instructions. */
	for (; i + 16 <= n; i += 16)
		for (size_t k = 0; k < 16; k++)
			acc[i + k] += weight * row[i + k];
	for (; i < n; i++)
		acc[i] += weight * row[i];
}

/* Finish destination row dy from vacc, and start the next one. */
static const unsigned char *
finish_row(struct scaler *s)
{
	const uint32_t *restrict acc = s->vacc;
	const uint32_t *restrict w = s->xweight;
	const int *restrict first = s->xfirst, *restrict count = s->xcount;
	unsigned char *restrict o = s->out + (size_t)s->dy * (size_t)s->dw * 3;
	const double scale = s->scale;

	for (int x = 0; x < s->dw; x++, o += 3) {
		const uint32_t *p = acc + 3 * (size_t)first[x];
		uint64_t r = 0, g = 0, b = 0;

		for (int k = count[x]; k > 0; k--, p += 3, w++) {
			r += (uint64_t)*w * p[0];
			g += (uint64_t)*w * p[1];
			b += (uint64_t)*w * p[2];
		}
		o[0] = (unsigned char)((double)r * scale + 0.5);
		o[1] = (unsigned char)((double)g * scale + 0.5);
		o[2] = (unsigned char)((double)b * scale + 0.5);
	}
	memset(s->vacc, 0, (size_t)s->sw * 3 * sizeof(*s->vacc));
	return s->out + (size_t)s->dy++ * (size_t)s->dw * 3;
}

/*
 * Take the next source row (sw * 3 bytes, borrowed). Returns the
 * destination row it finished, or NULL: a source row covers at most two
 * destination rows, so it finishes at most one.
 */
static const unsigned char *
scaler_push(struct scaler *s, const unsigned char *row)
{
	int64_t top, bottom, end;
	const unsigned char *done = NULL;

	FM_ASSERT(s->sy < s->sh);
	if (s->sw == s->dw && s->sh == s->dh) {
		unsigned char *o = s->out + (size_t)s->sy * (size_t)s->sw * 3;

		memcpy(o, row, (size_t)s->sw * 3);
		s->sy++;
		s->dy++;
		return o;
	}
	/* In units of 1/dh source row. */
	top = (int64_t)s->sy * s->dh;
	bottom = top + s->dh;
	end = (int64_t)(s->dy + 1) * s->sh;
	s->sy++;
	if (bottom <= end) {
		add_down(s, row, (uint32_t)s->dh);
		if (bottom == end)
			done = finish_row(s);
	} else {
		add_down(s, row, (uint32_t)(end - top));
		done = finish_row(s);
		add_down(s, row, (uint32_t)(bottom - end));
	}
	return done;
}

/* The chain of steps: each box's image is shrunk from the one before. */
struct pipeline {
	struct scaler stage[THUMBNAIL_MAX_BOXES];
	size_t n;
};

static void
pipeline_init(struct pipeline *p, int sw, int sh,
    const struct thumbnail_box *dims, size_t n)
{
	p->n = n;
	for (size_t i = 0; i < n; i++) {
		scaler_init(
		    &p->stage[i], sw, sh, dims[i].width, dims[i].height);
		sw = dims[i].width;
		sh = dims[i].height;
	}
}

static void
pipeline_push(struct pipeline *p, const unsigned char *row)
{
	for (size_t i = 0; i < p->n && row != NULL; i++)
		row = scaler_push(&p->stage[i], row);
}

static bool
pipeline_complete(const struct pipeline *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->stage[i].dy != p->stage[i].dh)
			return false;
	return p->n > 0;
}

static void
pipeline_free(struct pipeline *p)
{
	for (size_t i = 0; i < nitems(p->stage); i++)
		scaler_free(&p->stage[i]);
	p->n = 0;
}

/* --- JPEG */

/*
 * libjpeg reports errors through callbacks that must not return: ours
 * keep the message and longjmp back. Everything a longjmp could skip
 * lives in this heap block (not in locals of the function that called
 * setjmp), and row buffers come from libjpeg's own pools, which
 * jpeg_destroy_*() frees.
 */
struct jpeg_state {
	union {
		struct jpeg_decompress_struct d;
		struct jpeg_compress_struct c;
	} u;
	struct jpeg_error_mgr err;
	struct jpeg_progress_mgr progress;
	struct jpeg_destination_mgr dest;
	jmp_buf jump;
	char msg[JMSG_LENGTH_MAX];
	unsigned char *buf; /* encoder output */
	size_t cap;
};

static void
jpeg_fail(j_common_ptr c)
{
	struct jpeg_state *js = c->client_data;

	(*c->err->format_message)(c, js->msg);
	longjmp(js->jump, 1);
}

/* Give up with our own message. */
static FM_NORETURN FM_PRINTF(2, 3) void jpeg_refuse(
    struct jpeg_state *js, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(js->msg, sizeof(js->msg), fmt, ap);
	va_end(ap);
	longjmp(js->jump, 1);
}

/*
 * Level -1 is a warning about corrupt data, such as a truncated file:
 * libjpeg would paint the rest grey and go on, and a thumbnail like that
 * is worse than keeping the previous one. Trace messages are dropped.
 */
static void
jpeg_emit(j_common_ptr c, int level)
{
	if (level < 0)
		jpeg_fail(c);
}

static void
jpeg_quiet(j_common_ptr c)
{
	(void)c;
}

/* A progressive JPEG can hold thousands of tiny scans, each a full pass. */
static void
jpeg_scan_limit(j_common_ptr c)
{
	struct jpeg_state *js = c->client_data;

	if (c->is_decompressor &&
	    js->u.d.input_scan_number > THUMBNAIL_MAX_SCANS)
		jpeg_refuse(
		    js, "more than %d progressive scans", THUMBNAIL_MAX_SCANS);
}

static struct jpeg_state *
jpeg_state_new(void)
{
	struct jpeg_state *js = xcalloc(1, sizeof(*js));

	jpeg_std_error(&js->err);
	js->err.error_exit = jpeg_fail;
	js->err.emit_message = jpeg_emit;
	js->err.output_message = jpeg_quiet;
	js->progress.progress_monitor = jpeg_scan_limit;
	return js;
}

/* Create the decompressor and read the header; longjmps on errors. */
static void
jpeg_open(struct jpeg_state *js, const void *data, size_t len, size_t budget)
{
	struct jpeg_decompress_struct *d = &js->u.d;

	d->err = &js->err;
	d->client_data = js; /* kept by jpeg_create_decompress() */
	jpeg_create_decompress(d);
	d->progress = &js->progress;
	d->mem->max_memory_to_use = (long)budget;
	jpeg_mem_src(d, data, (unsigned long)len);
	(void)jpeg_read_header(d, TRUE);
	switch (d->jpeg_color_space) {
	case JCS_GRAYSCALE:
	case JCS_YCbCr:
	case JCS_RGB:
	case JCS_CMYK:
	case JCS_YCCK:
		break;
	default:
		jpeg_refuse(js, "unsupported colour space (%d components)",
		    d->num_components);
	}
}

static bool
jpeg_is_cmyk(const struct jpeg_decompress_struct *d)
{
	return d->jpeg_color_space == JCS_CMYK ||
	    d->jpeg_color_space == JCS_YCCK;
}

/*
 * CMYK without a colour profile, the simple way. Adobe's files store
 * inverted values (255 = no ink), and then R = C * K / 255.
 */
static void
cmyk_to_rgb(
    const unsigned char *in, unsigned char *out, int width, bool inverted)
{
	for (int x = 0; x < width; x++, in += 4, out += 3) {
		unsigned c = in[0], m = in[1], y = in[2], k = in[3];

		if (!inverted) {
			c = 255 - c;
			m = 255 - m;
			y = 255 - y;
			k = 255 - k;
		}
		out[0] = (unsigned char)((c * k + 127) / 255);
		out[1] = (unsigned char)((m * k + 127) / 255);
		out[2] = (unsigned char)((y * k + 127) / 255);
	}
}

static int
ceil_div8(int v, int m)
{
	return (int)(((int64_t)v * m + 7) / 8);
}

/* The smallest DCT scaling M/8 that still gives at least tw x th. */
static int
jpeg_scale(int w, int h, int tw, int th)
{
	for (int m = 1; m < 8; m++)
		if (ceil_div8(w, m) >= tw && ceil_div8(h, m) >= th)
			return m;
	return 8;
}

static void
jpeg_decode_rows(struct jpeg_state *js, const void *data, size_t len,
    size_t budget, const struct thumbnail_box *dims, size_t n,
    struct pipeline *pipe)
{
	struct jpeg_decompress_struct *d = &js->u.d;
	JSAMPARRAY row, rgb = NULL;
	bool cmyk;

	jpeg_open(js, data, len, budget);
	cmyk = jpeg_is_cmyk(d);
	d->scale_num = (unsigned)jpeg_scale((int)d->image_width,
	    (int)d->image_height, dims[0].width, dims[0].height);
	d->scale_denom = 8;
	d->out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
	(void)jpeg_start_decompress(d);
	pipeline_init(
	    pipe, (int)d->output_width, (int)d->output_height, dims, n);
	row = (*d->mem->alloc_sarray)((j_common_ptr)d, JPOOL_IMAGE,
	    d->output_width * (JDIMENSION)d->output_components, 1);
	if (cmyk)
		rgb = (*d->mem->alloc_sarray)(
		    (j_common_ptr)d, JPOOL_IMAGE, d->output_width * 3, 1);
	while (d->output_scanline < d->output_height) {
		if (jpeg_read_scanlines(d, row, 1) != 1)
			jpeg_refuse(js, "image data ended early");
		if (cmyk) {
			cmyk_to_rgb(row[0], rgb[0], (int)d->output_width,
			    d->saw_Adobe_marker);
			pipeline_push(pipe, rgb[0]);
		} else {
			pipeline_push(pipe, row[0]);
		}
	}
	(void)jpeg_finish_decompress(d);
}

static enum fm_err
jpeg_decode(const void *data, size_t len, size_t budget,
    const struct thumbnail_box *dims, size_t n, struct pipeline *pipe,
    char **err_out)
{
	struct jpeg_state *js = jpeg_state_new();
	enum fm_err rc;

	if (setjmp(js->jump) == 0) {
		jpeg_decode_rows(js, data, len, budget, dims, n, pipe);
		rc = FM_OK;
	} else {
		*err_out = xasprintf("bad JPEG: %s", js->msg);
		rc = FM_ERR_INVALID;
	}
	jpeg_destroy_decompress(&js->u.d);
	free(js);
	return rc;
}

static enum fm_err
jpeg_probe(
    const void *data, size_t len, struct thumbnail_info *info, char **err_out)
{
	struct jpeg_state *js = jpeg_state_new();
	enum fm_err rc;

	if (setjmp(js->jump) == 0) {
		jpeg_open(js, data, len, THUMBNAIL_MAX_DECODE_BYTES);
		info->format = THUMBNAIL_JPEG;
		info->width = (int)js->u.d.image_width;
		info->height = (int)js->u.d.image_height;
		rc = FM_OK;
	} else {
		*err_out = xasprintf("bad JPEG: %s", js->msg);
		rc = FM_ERR_INVALID;
	}
	jpeg_destroy_decompress(&js->u.d);
	free(js);
	return rc;
}

/* The encoder writes into js->buf, grown by doubling. */
static void
sink_init(j_compress_ptr c)
{
	struct jpeg_state *js = c->client_data;

	js->dest.next_output_byte = js->buf;
	js->dest.free_in_buffer = js->cap;
}

static boolean
sink_grow(j_compress_ptr c)
{
	struct jpeg_state *js = c->client_data;
	size_t used = js->cap;

	js->cap *= 2;
	js->buf = xrealloc(js->buf, js->cap);
	js->dest.next_output_byte = js->buf + used;
	js->dest.free_in_buffer = js->cap - used;
	return TRUE;
}

static void
sink_term(j_compress_ptr c)
{
	(void)c;
}

static void
jpeg_encode_rows(struct jpeg_state *js, const unsigned char *rgb, int width,
    int height, int quality)
{
	struct jpeg_compress_struct *c = &js->u.c;

	c->err = &js->err;
	c->client_data = js;
	jpeg_create_compress(c);
	/* A quality-85 thumbnail is about a byte per 6 pixels. */
	js->cap = (size_t)width * (size_t)height / 4 + 4096;
	js->buf = xmalloc(js->cap);
	js->dest.init_destination = sink_init;
	js->dest.empty_output_buffer = sink_grow;
	js->dest.term_destination = sink_term;
	c->dest = &js->dest;
	c->image_width = (JDIMENSION)width;
	c->image_height = (JDIMENSION)height;
	c->input_components = 3;
	c->in_color_space = JCS_RGB;
	jpeg_set_defaults(c); /* baseline, 4:2:0, standard Huffman tables */
	jpeg_set_quality(c, quality, TRUE);
	jpeg_start_compress(c, TRUE);
	while (c->next_scanline < c->image_height) {
		JSAMPROW row = (JSAMPROW)(uintptr_t)(rgb +
		    (size_t)c->next_scanline * (size_t)width * 3);

		(void)jpeg_write_scanlines(c, &row, 1);
	}
	jpeg_finish_compress(c);
}

enum fm_err
thumbnail_encode_rgb(const unsigned char *rgb, int width, int height,
    int quality, struct thumbnail_out *out)
{
	struct jpeg_state *js = jpeg_state_new();
	enum fm_err rc;

	memset(out, 0, sizeof(*out));
	if (setjmp(js->jump) == 0) {
		jpeg_encode_rows(js, rgb, width, height, quality);
		out->jpeg = js->buf;
		out->len = js->cap - js->dest.free_in_buffer;
		out->width = width;
		out->height = height;
		rc = FM_OK;
	} else {
		/* Our own input, so a bug or out of memory. */
		log_error("encoding a %dx%d JPEG: %s", width, height, js->msg);
		free(js->buf);
		rc = FM_ERR_INTERNAL;
	}
	jpeg_destroy_compress(&js->u.c);
	free(js);
	return rc;
}

/* --- PNG */

static spng_ctx *
png_open(const void *data, size_t len, struct spng_ihdr *ihdr, char **err_out)
{
	spng_ctx *ctx = spng_ctx_new(0);
	int e;

	if (ctx == NULL) {
		*err_out = xstrdup("out of memory");
		return NULL;
	}
	if ((e = spng_set_chunk_limits(
	         ctx, PNG_CHUNK_INFLATED_MAX, PNG_CHUNK_CACHE_MAX)) != 0 ||
	    (e = spng_set_png_buffer(ctx, data, len)) != 0 ||
	    (e = spng_get_ihdr(ctx, ihdr)) != 0) {
		*err_out = xasprintf("bad PNG: %s", spng_strerror(e));
		spng_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

/* Straight alpha over black, so transparent pixels come out black. */
static void
rgba_over_black(const unsigned char *in, unsigned char *out, int width)
{
	for (int x = 0; x < width; x++, in += 4, out += 3) {
		unsigned a = in[3];

		out[0] = (unsigned char)((in[0] * a + 127) / 255);
		out[1] = (unsigned char)((in[1] * a + 127) / 255);
		out[2] = (unsigned char)((in[2] * a + 127) / 255);
	}
}

/* The row as RGB: itself, or its RGBA put over black into rgb. */
static const unsigned char *
png_rgb(const unsigned char *row, unsigned char *rgb, int width, bool alpha)
{
	if (!alpha)
		return row;
	rgba_over_black(row, rgb, width);
	return rgb;
}

/*
 * Rows come out of libspng one at a time, converted to 8-bit RGB, or
 * RGBA when the image has transparency, from any depth or palette.
 * Adam7-interlaced images revisit rows, so they are decoded whole first,
 * within the decode budget.
 */
static enum fm_err
png_decode(const void *data, size_t len, size_t budget,
    const struct thumbnail_box *dims, size_t n, struct pipeline *pipe,
    char **err_out)
{
	struct spng_ihdr ihdr;
	struct spng_trns trns;
	spng_ctx *ctx = png_open(data, len, &ihdr, err_out);
	unsigned char *buf = NULL, *rgb = NULL;
	size_t size, row_len;
	enum fm_err rc = FM_ERR_INVALID;
	int e, width, fmt;
	bool alpha;

	if (ctx == NULL)
		return FM_ERR_INVALID;
	width = (int)ihdr.width;
	alpha = ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA ||
	    ihdr.color_type == SPNG_COLOR_TYPE_TRUECOLOR_ALPHA ||
	    spng_get_trns(ctx, &trns) == 0;
	fmt = alpha ? SPNG_FMT_RGBA8 : SPNG_FMT_RGB8;
	if ((e = spng_decoded_image_size(ctx, fmt, &size)) != 0)
		goto bad;
	if (ihdr.interlace_method != SPNG_INTERLACE_NONE && size > budget) {
		*err_out = xasprintf("interlaced PNG of %ux%u needs %zu MiB to "
		                     "decode, more than %zu",
		    ihdr.width, ihdr.height, size >> 20, budget >> 20);
		goto done;
	}
	if ((e = spng_decode_image(ctx, NULL, 0, fmt,
	         SPNG_DECODE_TRNS | SPNG_DECODE_PROGRESSIVE)) != 0)
		goto bad;
	row_len = size / ihdr.height;
	pipeline_init(pipe, width, (int)ihdr.height, dims, n);
	if (alpha)
		rgb = xmalloc((size_t)width * 3);
	if (ihdr.interlace_method == SPNG_INTERLACE_NONE) {
		buf = xmalloc(row_len);
		do {
			e = spng_decode_row(ctx, buf, row_len);
			if (e != 0 && e != SPNG_EOI)
				goto bad;
			pipeline_push(pipe, png_rgb(buf, rgb, width, alpha));
		} while (e == 0);
	} else {
		struct spng_row_info ri;

		buf = xmalloc(size);
		do {
			if ((e = spng_get_row_info(ctx, &ri)) != 0)
				goto bad;
			e = spng_decode_row(
			    ctx, buf + (size_t)ri.row_num * row_len, row_len);
			if (e != 0 && e != SPNG_EOI)
				goto bad;
		} while (e == 0);
		for (uint32_t y = 0; y < ihdr.height; y++)
			pipeline_push(pipe,
			    png_rgb(buf + y * row_len, rgb, width, alpha));
	}
	rc = FM_OK;
	goto done;
bad:
	*err_out = xasprintf("bad PNG: %s", spng_strerror(e));
done:
	free(buf);
	free(rgb);
	spng_ctx_free(ctx);
	return rc;
}

/* --- the API */

enum fm_err
thumbnail_probe(const void *data, size_t len, struct thumbnail_info *info_out,
    char **err_out)
{
	const unsigned char *p = data;
	struct spng_ihdr ihdr;
	spng_ctx *ctx;

	memset(info_out, 0, sizeof(*info_out));
	*err_out = NULL;
	if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return jpeg_probe(data, len, info_out, err_out);
	if (len < sizeof(png_magic) ||
	    memcmp(p, png_magic, sizeof(png_magic)) != 0) {
		*err_out = xstrdup("not a JPEG or PNG image");
		return FM_ERR_INVALID;
	}
	if ((ctx = png_open(data, len, &ihdr, err_out)) == NULL)
		return FM_ERR_INVALID;
	spng_ctx_free(ctx);
	info_out->format = THUMBNAIL_PNG;
	info_out->width = (int)ihdr.width; /* libspng caps both at 2^31-1 */
	info_out->height = (int)ihdr.height;
	return FM_OK;
}

bool
thumbnail_within_limits(const struct thumbnail_info *info)
{
	return info->width >= 1 && info->height >= 1 &&
	    info->width <= THUMBNAIL_MAX_SIDE &&
	    info->height <= THUMBNAIL_MAX_SIDE &&
	    (int64_t)info->width * info->height <= THUMBNAIL_MAX_PIXELS;
}

void
thumbnail_fit(
    int width, int height, int box_w, int box_h, int *w_out, int *h_out)
{
	int64_t w = width, h = height, bw = box_w, bh = box_h;

	if (w <= bw && h <= bh) {
		*w_out = width;
		*h_out = height;
		return;
	}
	if (w * bh > h * bw) { /* wider than the box: its width limits */
		*w_out = box_w;
		*h_out = (int)((2 * h * bw + w) / (2 * w));
	} else {
		*h_out = box_h;
		*w_out = (int)((2 * w * bh + h) / (2 * h));
	}
	if (*w_out < 1)
		*w_out = 1;
	if (*h_out < 1)
		*h_out = 1;
}

enum fm_err
thumbnail_make(const void *data, size_t len, const struct thumbnail_box *boxes,
    size_t nboxes, const struct thumbnail_opts *opts, struct thumbnail_out *out,
    char **err_out)
{
	size_t budget = opts->max_decode_bytes > 0 ? opts->max_decode_bytes
	                                           : THUMBNAIL_MAX_DECODE_BYTES;
	struct thumbnail_info info;
	struct pipeline pipe;
	struct thumbnail_box dims[THUMBNAIL_MAX_BOXES]; /* sizes made */
	enum fm_err rc;

	FM_ASSERT(nboxes >= 1 && nboxes <= THUMBNAIL_MAX_BOXES);
	memset(out, 0, nboxes * sizeof(*out));
	memset(&pipe, 0, sizeof(pipe));
	if ((rc = thumbnail_probe(data, len, &info, err_out)) != FM_OK)
		return rc;
	if (!thumbnail_within_limits(&info)) {
		*err_out = xasprintf("%dx%d is more than %d pixels a side or "
		                     "%d megapixels",
		    info.width, info.height, THUMBNAIL_MAX_SIDE,
		    THUMBNAIL_MAX_PIXELS / 1000000);
		return FM_ERR_INVALID;
	}
	for (size_t i = 0; i < nboxes; i++) {
		FM_ASSERT(i == 0 ||
		    (boxes[i].width <= boxes[i - 1].width &&
		        boxes[i].height <= boxes[i - 1].height));
		thumbnail_fit(info.width, info.height, boxes[i].width,
		    boxes[i].height, &dims[i].width, &dims[i].height);
	}
	rc = info.format == THUMBNAIL_JPEG
	    ? jpeg_decode(data, len, budget, dims, nboxes, &pipe, err_out)
	    : png_decode(data, len, budget, dims, nboxes, &pipe, err_out);
	if (rc == FM_OK && !pipeline_complete(&pipe)) {
		*err_out = xstrdup("image data ended early");
		rc = FM_ERR_INVALID;
	}
	for (size_t i = 0; rc == FM_OK && i < nboxes; i++)
		rc = thumbnail_encode_rgb(pipe.stage[i].out, dims[i].width,
		    dims[i].height, opts->quality, &out[i]);
	if (rc != FM_OK)
		for (size_t i = 0; i < nboxes; i++)
			thumbnail_out_clear(&out[i]);
	pipeline_free(&pipe);
	return rc;
}

void
thumbnail_out_clear(struct thumbnail_out *out)
{
	if (out == NULL)
		return;
	free(out->jpeg);
	memset(out, 0, sizeof(*out));
}
