/*
 * Tests for thumbnail.c: fitting, header probing, the three last-rendered
 * sizes from JPEG and PNG of every colour layout, area averaging, and bad
 * input (not an image, truncated files, decompression bombs, too many
 * progressive scans, the decode memory budget). Images are made in code.
 */
#include "thumbnail.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <jpeglib.h>
#include <spng.h>

#include "testimg.h"
#include "xmalloc.h"

/* The last-rendered boxes (lastrendered.c). */
static const struct thumbnail_box boxes[3] = {
	{ 1920, 1080 },
	{ 600, 338 },
	{ 200, 112 },
};
static const struct thumbnail_opts opts = { .quality = 85 };

/* Make the thumbnails, failing the test with the error if any. */
static void
make_ok(const void *data, size_t len, struct thumbnail_out out[3])
{
	char *err = NULL;
	enum fm_err rc = thumbnail_make(data, len, boxes, 3, &opts, out, &err);

	ck_assert_msg(rc == FM_OK, "thumbnail_make: %s", err ? err : "?");
	ck_assert_ptr_null(err);
}

/* thumbnail_make must refuse with an error mentioning needle. */
static void
make_refused(const void *data, size_t len, const struct thumbnail_opts *o,
    const char *needle)
{
	struct thumbnail_out out[3];
	char *err = NULL;
	enum fm_err rc = thumbnail_make(data, len, boxes, 3, o, out, &err);

	ck_assert_int_eq(rc, FM_ERR_INVALID);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, needle) != NULL, "error \"%s\" lacks \"%s\"",
	    err, needle);
	for (int i = 0; i < 3; i++)
		ck_assert_ptr_null(out[i].jpeg);
	free(err);
}

/* Decode out and check its size; returns its pixels (new). */
static unsigned char *
check_out(const struct thumbnail_out *out, int w, int h)
{
	int dw, dh;
	unsigned char *rgb;

	ck_assert_int_eq(out->width, w);
	ck_assert_int_eq(out->height, h);
	rgb = testimg_decode_jpeg(out->jpeg, out->len, &dw, &dh);
	ck_assert_int_eq(dw, w);
	ck_assert_int_eq(dh, h);
	return rgb;
}

/* Every pixel of rgb is within tol of (r, g, b). */
static void
assert_colour(
    const unsigned char *rgb, int w, int h, int r, int g, int b, int tol)
{
	for (int i = 0; i < w * h; i++) {
		const unsigned char *p = rgb + 3 * i;

		ck_assert_msg(abs(p[0] - r) <= tol && abs(p[1] - g) <= tol &&
		        abs(p[2] - b) <= tol,
		    "pixel %d is (%d,%d,%d), want (%d,%d,%d)", i, p[0], p[1],
		    p[2], r, g, b);
	}
}

static void
clear3(struct thumbnail_out out[3])
{
	for (int i = 0; i < 3; i++)
		thumbnail_out_clear(&out[i]);
}

START_TEST(test_fit)
{
	static const struct {
		int w, h, bw, bh, want_w, want_h;
	} cases[] = {
		{ 1920, 1080, 1920, 1080, 1920, 1080 },
		{ 1920, 1080, 600, 338, 600, 338 }, /* 337.5 rounds up */
		{ 1920, 1080, 200, 112, 199, 112 }, /* height limits */
		{ 3840, 2160, 1920, 1080, 1920, 1080 },
		{ 4000, 3000, 1920, 1080, 1440, 1080 },
		{ 1080, 1920, 1920, 1080, 608, 1080 }, /* 607.5 */
		{ 100, 50, 1920, 1080, 100, 50 },      /* never enlarged */
		{ 600, 338, 600, 338, 600, 338 },
		{ 601, 10, 600, 338, 600, 10 },
		{ 65535, 1, 1920, 1080, 1920, 1 }, /* at least a pixel */
		{ 1, 65535, 200, 112, 1, 112 },
		{ 2000, 1125, 200, 112, 199, 112 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int w, h;

		thumbnail_fit(
		    cases[i].w, cases[i].h, cases[i].bw, cases[i].bh, &w, &h);
		ck_assert_msg(w == cases[i].want_w && h == cases[i].want_h,
		    "%dx%d in %dx%d: got %dx%d", cases[i].w, cases[i].h,
		    cases[i].bw, cases[i].bh, w, h);
		ck_assert_int_le(w, cases[i].bw);
		ck_assert_int_le(h, cases[i].bh);
	}
}
END_TEST

START_TEST(test_probe)
{
	unsigned char *rgb = testimg_pattern(64, 48), *rgba, *jpeg, *png;
	struct thumbnail_info info;
	size_t len;
	char *err = NULL;

	jpeg = testimg_jpeg(rgb, 64, 48, TESTIMG_RGB, false, &len);
	ck_assert_int_eq(thumbnail_probe(jpeg, len, &info, &err), FM_OK);
	ck_assert_int_eq(info.format, THUMBNAIL_JPEG);
	ck_assert_int_eq(info.width, 64);
	ck_assert_int_eq(info.height, 48);
	/* The header alone is enough. */
	ck_assert_int_eq(thumbnail_probe(jpeg, 700, &info, &err), FM_OK);
	ck_assert_int_eq(info.height, 48);
	free(jpeg);

	rgba = xcalloc(64 * 48, 4);
	png = testimg_png(rgba, 64, 48, 6, 8, false, &len);
	ck_assert_int_eq(thumbnail_probe(png, len, &info, &err), FM_OK);
	ck_assert_int_eq(info.format, THUMBNAIL_PNG);
	ck_assert_int_eq(info.width, 64);
	ck_assert_int_eq(info.height, 48);
	/* A damaged header (IHDR's CRC) is refused. */
	png[20] ^= 0xff;
	ck_assert_int_eq(
	    thumbnail_probe(png, len, &info, &err), FM_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "PNG"));
	free(err);
	free(png);

	ck_assert_int_eq(
	    thumbnail_probe("GIF89a....", 10, &info, &err), FM_ERR_INVALID);
	ck_assert_str_eq(err, "not a JPEG or PNG image");
	free(err);
	ck_assert_int_eq(thumbnail_probe("", 0, &info, &err), FM_ERR_INVALID);
	free(err);
	ck_assert_int_eq(
	    thumbnail_probe("\xff\xd8\xff\xe0 jpeg", 10, &info, &err),
	    FM_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "bad JPEG"));
	free(err);
	free(rgb);
	free(rgba);
}
END_TEST

START_TEST(test_limits)
{
	struct thumbnail_info i = { THUMBNAIL_PNG, 10000, 10000 };

	ck_assert(thumbnail_within_limits(&i));
	i.width = 30000;
	i.height = 30000;
	ck_assert(!thumbnail_within_limits(&i));
	i.width = 65536;
	i.height = 10;
	ck_assert(!thumbnail_within_limits(&i));
	i.width = 0;
	ck_assert(!thumbnail_within_limits(&i));
}
END_TEST

/* The common case: a 1920x1080 render, all three sizes. */
START_TEST(test_jpeg_1080p)
{
	unsigned char *rgb = testimg_pattern(1920, 1080), *jpeg, *got;
	struct thumbnail_out out[3];
	size_t len;

	jpeg = testimg_jpeg(rgb, 1920, 1080, TESTIMG_RGB, false, &len);
	make_ok(jpeg, len, out);
	free(check_out(&out[0], 1920, 1080));
	free(check_out(&out[1], 600, 338));
	got = check_out(&out[2], 199, 112);
	/* The ramps survive: red grows left to right, green top down. */
	ck_assert_int_lt(got[0], 20);
	ck_assert_int_gt(got[3 * 198], 235);
	ck_assert_int_lt(got[1], 20);
	ck_assert_int_gt(got[3 * 199 * 111 + 1], 235);
	/* The 4x4 checks average out to their mean, 128, in blue. */
	ck_assert_int_lt(abs(got[3 * (199 * 56 + 100) + 2] - 128), 8);
	free(got);
	clear3(out);
	free(jpeg);
	free(rgb);
}
END_TEST

/* 4000x2000, progressive: decoded at half size in the DCT. */
START_TEST(test_jpeg_progressive_large)
{
	unsigned char *rgb = testimg_pattern(4000, 2000), *jpeg;
	struct thumbnail_out out[3];
	size_t len;

	jpeg = testimg_jpeg(rgb, 4000, 2000, TESTIMG_RGB, true, &len);
	make_ok(jpeg, len, out);
	free(check_out(&out[0], 1920, 960));
	free(check_out(&out[1], 600, 300));
	free(check_out(&out[2], 200, 100));
	clear3(out);
	free(jpeg);
	free(rgb);
}
END_TEST

/* Greyscale and CMYK JPEGs come out as RGB of the right colour. */
START_TEST(test_jpeg_colour_spaces)
{
	unsigned char *rgb = testimg_solid(320, 200, 200, 60, 110), *jpeg, *got;
	struct thumbnail_out out[3];
	size_t len;

	jpeg = testimg_jpeg(rgb, 320, 200, TESTIMG_RGB, false, &len);
	make_ok(jpeg, len, out);
	got = check_out(&out[1], 320, 200);
	assert_colour(got, 320, 200, 200, 60, 110, 6);
	free(got);
	clear3(out);
	free(jpeg);

	jpeg = testimg_jpeg(rgb, 320, 200, TESTIMG_GRAY, false, &len);
	make_ok(jpeg, len, out);
	got = check_out(&out[2], 179, 112);
	assert_colour(got, 179, 112, 200, 200, 200, 3);
	free(got);
	clear3(out);
	free(jpeg);

	jpeg = testimg_jpeg(rgb, 320, 200, TESTIMG_CMYK, true, &len);
	make_ok(jpeg, len, out);
	got = check_out(&out[0], 320, 200);
	assert_colour(got, 320, 200, 200, 60, 110, 6);
	free(got);
	clear3(out);
	free(jpeg);
	free(rgb);
}
END_TEST

/* RGBA of one colour and alpha, w x h. */
static unsigned char *
rgba_solid(int w, int h, int r, int g, int b, int a)
{
	unsigned char *p = xmalloc((size_t)w * h * 4);

	for (int i = 0; i < w * h; i++) {
		p[4 * i] = (unsigned char)r;
		p[4 * i + 1] = (unsigned char)g;
		p[4 * i + 2] = (unsigned char)b;
		p[4 * i + 3] = (unsigned char)a;
	}
	return p;
}

/* Every PNG layout: depth, palette, grey, alpha (over black), Adam7. */
START_TEST(test_png_layouts)
{
	static const struct {
		int type, depth;
		bool interlaced;
		int alpha;
		int want_r, want_g, want_b;
	} cases[] = {
		{ 2, 8, false, 255, 200, 60, 110 },
		{ 2, 16, false, 255, 200, 60, 110 },
		{ 0, 8, false, 255, 200, 200, 200 },
		{ 0, 16, false, 255, 200, 200, 200 },
		{ 3, 8, false, 255, 200, 60, 110 },
		{ 3, 8, false, 128, 100, 30, 55 }, /* palette with tRNS */
		{ 6, 8, false, 128, 100, 30, 55 },
		{ 6, 16, false, 0, 0, 0, 0 },
		{ 4, 8, false, 128, 100, 100, 100 },
		{ 6, 8, true, 255, 200, 60, 110 },
		{ 2, 16, true, 255, 200, 60, 110 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned char *rgba =
		    rgba_solid(900, 300, 200, 60, 110, cases[i].alpha);
		unsigned char *png, *got;
		struct thumbnail_out out[3];
		size_t len;

		png = testimg_png(rgba, 900, 300, cases[i].type, cases[i].depth,
		    cases[i].interlaced, &len);
		make_ok(png, len, out);
		free(check_out(&out[0], 900, 300));
		got = check_out(&out[1], 600, 200);
		assert_colour(got, 600, 200, cases[i].want_r, cases[i].want_g,
		    cases[i].want_b, 5);
		free(got);
		free(check_out(&out[2], 200, 67));
		clear3(out);
		free(png);
		free(rgba);
	}
}
END_TEST

/*
 * Area averaging: one-pixel black and white columns shrunk by two come
 * out an even grey, where picking pixels would give black or white.
 */
START_TEST(test_area_average)
{
	int w = 1200, h = 200;
	unsigned char *rgba = xmalloc((size_t)w * h * 4), *png, *got;
	struct thumbnail_out out[3];
	size_t len;

	for (int y = 0; y < h; y++) {
		for (int x = 0; x < w; x++) {
			unsigned char *p = rgba + 4 * ((size_t)y * w + x);

			memset(p, x % 2 ? 255 : 0, 3);
			p[3] = 255;
		}
	}
	png = testimg_png(rgba, w, h, 2, 8, false, &len);
	make_ok(png, len, out);
	got = check_out(&out[1], 600, 100);
	assert_colour(got, 600, 100, 128, 128, 128, 2);
	free(got);
	clear3(out);
	free(png);
	free(rgba);
}
END_TEST

/* Slivers: a side that rounds to nothing still gets one pixel. */
START_TEST(test_extreme_aspect)
{
	unsigned char *rgba = rgba_solid(6000, 3, 10, 200, 30, 255), *png, *got;
	struct thumbnail_out out[3];
	size_t len;

	png = testimg_png(rgba, 6000, 3, 2, 8, false, &len);
	make_ok(png, len, out);
	got = check_out(&out[0], 1920, 1);
	assert_colour(got, 1920, 1, 10, 200, 30, 6);
	free(got);
	free(check_out(&out[1], 600, 1));
	free(check_out(&out[2], 200, 1));
	clear3(out);
	free(png);
	png = testimg_png(rgba, 3, 6000, 2, 8, false, &len);
	make_ok(png, len, out);
	got = check_out(&out[2], 1, 112);
	assert_colour(got, 1, 112, 10, 200, 30, 6);
	free(got);
	free(check_out(&out[0], 1, 1080));
	clear3(out);
	free(png);
	free(rgba);
}
END_TEST

/* Not images, or images that break off: refused, nothing made. */
START_TEST(test_bad_input)
{
	unsigned char *rgb = testimg_pattern(800, 600), *jpeg, *png;
	size_t len, plen;

	make_refused("plain text, no image", 20, &opts, "not a JPEG or PNG");
	make_refused("\xff\xd8\xff\xe0 jpeg", 10, &opts, "bad JPEG");

	jpeg = testimg_jpeg(rgb, 800, 600, TESTIMG_RGB, false, &len);
	make_refused(jpeg, len / 2, &opts, "bad JPEG");
	make_refused(jpeg, len - 2, &opts, "bad JPEG"); /* just the EOI */
	free(jpeg);
	jpeg = testimg_jpeg(rgb, 800, 600, TESTIMG_RGB, true, &len);
	make_refused(jpeg, len * 2 / 3, &opts, "bad JPEG");
	free(jpeg);

	/* Valid header, image data cut short. */
	png = testimg_png_header(800, 600, false, &plen);
	make_refused(png, plen, &opts, "bad PNG");
	free(png);
	free(rgb);
}
END_TEST

/*
 * A decompression bomb: a PNG of a few dozen bytes claiming 30,000 x
 * 30,000 pixels (2.7 GB of RGB) is refused from its header.
 */
START_TEST(test_png_bomb)
{
	struct thumbnail_info info;
	unsigned char *png;
	size_t len;
	char *err = NULL;

	png = testimg_png_header(30000, 30000, false, &len);
	ck_assert_uint_lt(len, 100);
	ck_assert_int_eq(thumbnail_probe(png, len, &info, &err), FM_OK);
	ck_assert_int_eq(info.width, 30000);
	ck_assert(!thumbnail_within_limits(&info));
	make_refused(png, len, &opts, "megapixels");
	free(png);
	png = testimg_png_header(70000, 10, false, &len);
	make_refused(png, len, &opts, "pixels a side");
	free(png);
	/* Within the caps, but an interlaced image is decoded whole. */
	png = testimg_png_header(10000, 10000, true, &len);
	make_refused(png, len, &opts, "interlaced PNG of 10000x10000");
	free(png);
}
END_TEST

/* A grey progressive JPEG of 631 scans: one bit of one coefficient each. */
static unsigned char *
many_scans_jpeg(size_t *len_out)
{
	struct jpeg_compress_struct c;
	struct jpeg_error_mgr err;
	jpeg_scan_info *scans = xcalloc(700, sizeof(*scans));
	unsigned char *out = NULL, *row = xcalloc(64, 1);
	unsigned long len = 0;
	int n = 0;

	scans[n].comps_in_scan = 1; /* DC, Ss = Se = Ah = Al = 0 */
	n++;
	for (int k = 1; k < 64; k++) {
		for (int al = 9; al >= 0; al--) {
			scans[n].comps_in_scan = 1;
			scans[n].Ss = k;
			scans[n].Se = k;
			scans[n].Ah = al == 9 ? 0 : al + 1;
			scans[n].Al = al;
			n++;
		}
	}
	c.err = jpeg_std_error(&err);
	jpeg_create_compress(&c);
	jpeg_mem_dest(&c, &out, &len);
	c.image_width = 64;
	c.image_height = 64;
	c.input_components = 1;
	c.in_color_space = JCS_GRAYSCALE;
	jpeg_set_defaults(&c);
	c.scan_info = scans;
	c.num_scans = n;
	jpeg_start_compress(&c, TRUE);
	while (c.next_scanline < c.image_height) {
		for (int x = 0; x < 64; x++)
			row[x] = (unsigned char)(x * 4 + c.next_scanline);
		jpeg_write_scanlines(&c, &row, 1);
	}
	jpeg_finish_compress(&c);
	jpeg_destroy_compress(&c);
	free(scans);
	free(row);
	*len_out = len;
	return out;
}

START_TEST(test_too_many_scans)
{
	size_t len;
	unsigned char *jpeg = many_scans_jpeg(&len);

	make_refused(jpeg, len, &opts, "progressive scans");
	free(jpeg);
}
END_TEST

/*
 * The decode budget: with 1 MiB, a 1000x1000 baseline JPEG or plain PNG
 * still decodes (they stream rows), while the same image as progressive
 * JPEG (6 MB of coefficients) or interlaced PNG (4 MB of RGBA) is
 * refused.
 */
START_TEST(test_decode_budget)
{
	struct thumbnail_opts small = { .quality = 85,
		.max_decode_bytes = 1 << 20 };
	unsigned char *rgb = testimg_pattern(1000, 1000), *jpeg, *png;
	unsigned char *rgba = rgba_solid(1000, 1000, 1, 2, 3, 255);
	struct thumbnail_out out[3];
	size_t len;
	char *err = NULL;

	jpeg = testimg_jpeg(rgb, 1000, 1000, TESTIMG_RGB, false, &len);
	ck_assert_int_eq(
	    thumbnail_make(jpeg, len, boxes, 3, &small, out, &err), FM_OK);
	clear3(out);
	free(jpeg);
	jpeg = testimg_jpeg(rgb, 1000, 1000, TESTIMG_RGB, true, &len);
	make_refused(jpeg, len, &small, "bad JPEG");
	make_ok(jpeg, len, out); /* within the default budget */
	clear3(out);
	free(jpeg);

	png = testimg_png(rgba, 1000, 1000, 6, 8, false, &len);
	ck_assert_int_eq(
	    thumbnail_make(png, len, boxes, 3, &small, out, &err), FM_OK);
	clear3(out);
	free(png);
	png = testimg_png(rgba, 1000, 1000, 6, 8, true, &len);
	make_refused(png, len, &small, "interlaced PNG");
	free(png);
	free(rgb);
	free(rgba);
}
END_TEST

/*
 * A 5000x5000 PNG (25 megapixels, 100 MB as RGBA) decodes with the
 * process growing by a small fraction of that: rows are streamed.
 */
START_TEST(test_large_png_streams)
{
	int w = 5000, h = 5000;
	spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
	struct spng_ihdr ihdr = { .width = (uint32_t)w,
		.height = (uint32_t)h,
		.bit_depth = 8,
		.color_type = 0 };
	unsigned char *row = xcalloc((size_t)w, 1), *png;
	struct thumbnail_out out[3];
	struct rusage ru;
	long before;
	size_t len;
	int e;

	spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
	spng_set_option(ctx, SPNG_IMG_COMPRESSION_LEVEL, 1);
	ck_assert_int_eq(spng_set_ihdr(ctx, &ihdr), 0);
	ck_assert_int_eq(spng_encode_image(ctx, NULL, 0, SPNG_FMT_PNG,
	                     SPNG_ENCODE_PROGRESSIVE | SPNG_ENCODE_FINALIZE),
	    0);
	for (int y = 0; y < h; y++) {
		memset(row, y * 255 / h, (size_t)w);
		e = spng_encode_row(ctx, row, (size_t)w);
		ck_assert_msg(e == 0 || e == SPNG_EOI, "%s", spng_strerror(e));
	}
	png = spng_get_png_buffer(ctx, &len, &e);
	ck_assert_ptr_nonnull(png);
	spng_ctx_free(ctx);
	free(row);

	getrusage(RUSAGE_SELF, &ru);
	before = ru.ru_maxrss;
	make_ok(png, len, out);
	getrusage(RUSAGE_SELF, &ru);
	ck_assert_msg(ru.ru_maxrss - before < 32 * 1024,
	    "peak RSS grew by %ld KiB", ru.ru_maxrss - before);
	free(check_out(&out[0], 1080, 1080));
	clear3(out);
	free(png);
}
END_TEST

static Suite *
thumbnail_suite(void)
{
	Suite *s = suite_create("thumbnail");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_fit);
	tcase_add_test(tc, test_probe);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_jpeg_1080p);
	tcase_add_test(tc, test_jpeg_progressive_large);
	tcase_add_test(tc, test_jpeg_colour_spaces);
	tcase_add_test(tc, test_png_layouts);
	tcase_add_test(tc, test_area_average);
	tcase_add_test(tc, test_extreme_aspect);
	tcase_add_test(tc, test_bad_input);
	tcase_add_test(tc, test_png_bomb);
	tcase_add_test(tc, test_too_many_scans);
	tcase_add_test(tc, test_decode_budget);
	tcase_add_test(tc, test_large_png_streams);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(thumbnail_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
