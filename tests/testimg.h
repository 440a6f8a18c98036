/*
 * Test images made in memory with the libraries the Manager decodes with
 * (libjpeg-turbo, libspng), plus hand-made PNG headers for images too big
 * to encode: nothing binary is kept in the repository.
 */
#ifndef FM_TESTIMG_H
#define FM_TESTIMG_H

#include <stdbool.h>
#include <stddef.h>

/* How a JPEG stores its colour. */
enum testimg_jpeg_colour {
	TESTIMG_RGB,  /* YCbCr, as cameras and Blender write */
	TESTIMG_GRAY, /* the red channel as grey */
	TESTIMG_CMYK, /* Adobe-inverted CMYK (with the Adobe marker) */
};

/* A w x h packed RGB image: a gradient with a fine pattern (new). */
unsigned char *testimg_pattern(int w, int h);

/* A w x h packed RGB image of one colour (new). */
unsigned char *testimg_solid(int w, int h, int r, int g, int b);

/* Encode packed RGB as a JPEG (new; *len_out gets its size). */
unsigned char *testimg_jpeg(const unsigned char *rgb, int w, int h,
    enum testimg_jpeg_colour colour, bool progressive, size_t *len_out);

/*
 * Encode packed RGBA (w * 4 bytes a row) as a PNG of the given colour
 * type (0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA) and bit depth (8
 * or 16; a palette is built from the image's colours, with tRNS for their
 * alpha), Adam7-interlaced or not (new).
 */
unsigned char *testimg_png(const unsigned char *rgba, int w, int h,
    int colour_type, int bit_depth, bool interlaced, size_t *len_out);

/*
 * A PNG that claims w x h 8-bit RGB pixels (interlaced or not) but holds
 * only one row of image data: a valid header, a truncated image (new).
 */
unsigned char *testimg_png_header(
    int w, int h, bool interlaced, size_t *len_out);

/* Decode a JPEG to packed RGB (new); fails the test when it is not one. */
unsigned char *testimg_decode_jpeg(
    const void *data, size_t len, int *w_out, int *h_out);

#endif
