/*
 * Test images made in code (see testimg.h).
 */
#include "testimg.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <spng.h>

#include "xmalloc.h"

unsigned char *
testimg_pattern(int w, int h)
{
	unsigned char *rgb = xmalloc((size_t)w * (size_t)h * 3), *p = rgb;

	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++, p += 3) {
			/* Smooth ramps plus a little texture, like a render. */
			p[0] = (unsigned char)(x * 255 / (w > 1 ? w - 1 : 1));
			p[1] = (unsigned char)(y * 255 / (h > 1 ? h - 1 : 1));
			p[2] =
			    (unsigned char)(((x / 4 + y / 4) & 1) ? 160 : 96);
		}
	return rgb;
}

unsigned char *
testimg_solid(int w, int h, int r, int g, int b)
{
	size_t n = (size_t)w * (size_t)h;
	unsigned char *rgb = xmalloc(n * 3);

	for (size_t i = 0; i < n; i++) {
		rgb[3 * i] = (unsigned char)r;
		rgb[3 * i + 1] = (unsigned char)g;
		rgb[3 * i + 2] = (unsigned char)b;
	}
	return rgb;
}

unsigned char *
testimg_jpeg(const unsigned char *rgb, int w, int h,
    enum testimg_jpeg_colour colour, bool progressive, size_t *len_out)
{
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr err;
	unsigned char *out = NULL, *row;
	unsigned long len = 0;
	int comps = colour == TESTIMG_GRAY ? 1 : colour == TESTIMG_CMYK ? 4 : 3;

	c.err = jpeg_std_error(&err); /* test input: errors just exit */
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &out, &len);
	c.image_width = (JDIMENSION)w;
	c.image_height = (JDIMENSION)h;
	c.input_components = comps;
	c.in_color_space = colour == TESTIMG_GRAY ? JCS_GRAYSCALE
	    : colour == TESTIMG_CMYK              ? JCS_CMYK
	                                          : JCS_RGB;
	jpeg_set_defaults(&c);
	jpeg_set_quality(&c, 90, TRUE);
	if (progressive)
		jpeg_simple_progression(&c);
	jpeg_start_compress(&c, TRUE);
	row = xmalloc((size_t)w * 4);
	while (c.next_scanline < c.image_height) {
		const unsigned char *in = rgb + (size_t)c.next_scanline * w * 3;

		for (int x = 0; x < w; x++, in += 3) {
			if (colour == TESTIMG_GRAY) {
				row[x] = in[0];
			} else if (colour == TESTIMG_CMYK) {
				/* Inverted: 255 is no ink, no black. */
				row[4 * x] = in[0];
				row[4 * x + 1] = in[1];
				row[4 * x + 2] = in[2];
				row[4 * x + 3] = 255;
			} else {
				memcpy(row + 3 * x, in, 3);
			}
		}
		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	free(row);
	*len_out = len;
	return out;
}

/* The image in the PNG's own sample layout (host-endian 16-bit). */
static unsigned char *
png_samples(const unsigned char *rgba, int w, int h, int type, int depth,
    struct spng_plte *plte, struct spng_trns *trns, size_t *len_out)
{
	static const int channels[7] = { 1, 0, 3, 1, 2, 0, 4 };
	int ch = channels[type], bytes = depth / 8;
	size_t n = (size_t)w * (size_t)h, len = n * (size_t)(ch * bytes);
	unsigned char *out = xmalloc(len), *o = out;

	for (size_t i = 0; i < n; i++) {
		const unsigned char *p = rgba + 4 * i;
		unsigned v[4] = { p[0], p[1], p[2], p[3] };

		if (type == 3) {
			uint32_t k = 0;

			while (k < plte->n_entries &&
			    (plte->entries[k].red != p[0] ||
			        plte->entries[k].green != p[1] ||
			        plte->entries[k].blue != p[2] ||
			        trns->type3_alpha[k] != p[3]))
				k++;
			ck_assert_uint_lt(k, 256);
			if (k == plte->n_entries) {
				plte->entries[k].red = p[0];
				plte->entries[k].green = p[1];
				plte->entries[k].blue = p[2];
				trns->type3_alpha[k] = p[3];
				plte->n_entries++;
				trns->n_type3_entries++;
			}
			*o++ = (unsigned char)k;
			continue;
		}
		if (type == 0 || type == 4)
			v[1] = v[3]; /* grey, alpha */
		for (int c = 0; c < ch; c++) {
			if (bytes == 2) {
				uint16_t s = (uint16_t)(v[c] * 257);

				memcpy(o, &s, 2);
			} else {
				*o = (unsigned char)v[c];
			}
			o += bytes;
		}
	}
	*len_out = len;
	return out;
}

unsigned char *
testimg_png(const unsigned char *rgba, int w, int h, int colour_type,
    int bit_depth, bool interlaced, size_t *len_out)
{
	spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
	struct spng_ihdr ihdr = {
		.width = (uint32_t)w,
		.height = (uint32_t)h,
		.bit_depth = (uint8_t)bit_depth,
		.color_type = (uint8_t)colour_type,
		.interlace_method = interlaced ? 1 : 0,
	};
	struct spng_plte plte = { 0 };
	struct spng_trns trns = { 0 };
	unsigned char *samples, *png;
	size_t len;
	int e;

	ck_assert_ptr_nonnull(ctx);
	samples =
	    png_samples(rgba, w, h, colour_type, bit_depth, &plte, &trns, &len);
	spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
	ck_assert_int_eq(spng_set_ihdr(ctx, &ihdr), 0);
	if (colour_type == 3) {
		ck_assert_int_eq(spng_set_plte(ctx, &plte), 0);
		ck_assert_int_eq(spng_set_trns(ctx, &trns), 0);
	}
	e = spng_encode_image(
	    ctx, samples, len, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
	ck_assert_msg(e == 0, "spng_encode_image: %s", spng_strerror(e));
	png = spng_get_png_buffer(ctx, len_out, &e);
	ck_assert_ptr_nonnull(png);
	spng_ctx_free(ctx);
	free(samples);
	return png;
}

static uint32_t
crc32_png(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return c ^ 0xffffffffu;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* Append a chunk: length, type, data, CRC over type and data. */
static size_t
put_chunk(
    unsigned char *out, const char *type, const unsigned char *data, uint32_t n)
{
	put32(out, n);
	memcpy(out + 4, type, 4);
	if (n > 0)
		memcpy(out + 8, data, n);
	put32(out + 8 + n, crc32_png(out + 4, n + 4));
	return 12 + n;
}

unsigned char *
testimg_png_header(int w, int h, bool interlaced, size_t *len_out)
{
	static const unsigned char magic[8] = { 0x89, 'P', 'N', 'G', '\r', '\n',
		0x1a, '\n' };
	unsigned char ihdr[13] = { 0 }, idat[16], *png = xmalloc(128);
	size_t n = 0;

	put32(ihdr, (uint32_t)w);
	put32(ihdr + 4, (uint32_t)h);
	ihdr[8] = 8; /* bit depth */
	ihdr[9] = 2; /* RGB */
	ihdr[12] = interlaced ? 1 : 0;
	/* A zlib stream that starts well and stops: a stored block's
	 * header promising more bytes than follow. */
	idat[0] = 0x78;
	idat[1] = 0x01;
	idat[2] = 0x00; /* not the final block, stored */
	idat[3] = 0xff;
	idat[4] = 0x7f;
	idat[5] = 0x00;
	idat[6] = 0x80;
	memset(idat + 7, 0, sizeof(idat) - 7);
	memcpy(png, magic, 8);
	n = 8;
	n += put_chunk(png + n, "IHDR", ihdr, sizeof(ihdr));
	n += put_chunk(png + n, "IDAT", idat, sizeof(idat));
	n += put_chunk(png + n, "IEND", NULL, 0);
	*len_out = n;
	return png;
}

unsigned char *
testimg_decode_jpeg(const void *data, size_t len, int *w_out, int *h_out)
{
	struct jpeg_decompress_struct d;
	struct jpeg_error_mgr err;
	unsigned char *rgb;

	d.err = jpeg_std_error(&err);
	jpeg_create_decompress(&d);
	jpeg_mem_src(&d, data, (unsigned long)len);
	ck_assert_int_eq(jpeg_read_header(&d, TRUE), JPEG_HEADER_OK);
	d.out_color_space = JCS_RGB;
	jpeg_start_decompress(&d);
	rgb = xmalloc((size_t)d.output_width * d.output_height * 3);
	while (d.output_scanline < d.output_height) {
		unsigned char *row =
		    rgb + (size_t)d.output_scanline * d.output_width * 3;

		jpeg_read_scanlines(&d, &row, 1);
	}
	ck_assert_uint_eq(err.num_warnings, 0);
	*w_out = (int)d.output_width;
	*h_out = (int)d.output_height;
	jpeg_finish_decompress(&d);
	jpeg_destroy_decompress(&d);
	return rgb;
}
