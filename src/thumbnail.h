/*
 * Image work for last-rendered thumbnails, with no I/O and no threads:
 * read a JPEG or PNG header cheaply, and turn a whole image into JPEGs
 * that fit given boxes. Decoding streams rows through an area-averaging
 * scaler, so memory grows with the image's width, not its pixel count.
 */
#ifndef FM_THUMBNAIL_H
#define FM_THUMBNAIL_H

#include <stdbool.h>
#include <stddef.h>

#include "fm.h"

/* Images above either cap are refused from their header, before any
 * decoding: a small file can declare billions of pixels. */
#define THUMBNAIL_MAX_PIXELS 100000000 /* 100 megapixels */
#define THUMBNAIL_MAX_SIDE   65535     /* also JPEG's own limit, near enough */

/* What a decoder may allocate for one image beyond its rows by default:
 * progressive JPEG coefficients or an interlaced PNG, which cannot be
 * streamed. Baseline JPEGs and plain PNGs need a few rows. */
#define THUMBNAIL_MAX_DECODE_BYTES (256u << 20)

/* Progressive JPEG scans decoded at most (each costs a full pass). */
#define THUMBNAIL_MAX_SCANS 500

#define THUMBNAIL_MAX_BOXES 4

enum thumbnail_format {
	THUMBNAIL_JPEG = 1,
	THUMBNAIL_PNG,
};

/* What an image's header says. */
struct thumbnail_info {
	enum thumbnail_format format;
	int width;
	int height;
};

/* A box to fit a thumbnail into. */
struct thumbnail_box {
	int width;
	int height;
};

/* How thumbnail_make() works. */
struct thumbnail_opts {
	int quality;             /* JPEG quality, 1 to 100 */
	size_t max_decode_bytes; /* 0: THUMBNAIL_MAX_DECODE_BYTES */
};

/* One encoded thumbnail. */
struct thumbnail_out {
	unsigned char *jpeg; /* new; thumbnail_out_clear() frees it */
	size_t len;
	int width;
	int height;
};

/*
 * Read the header of a JPEG or PNG in data (the format comes from its
 * first bytes, never from a Content-Type) into *info_out. Cost is the
 * header's size: no pixel is decoded. FM_ERR_INVALID with *err_out (new)
 * for anything else, a corrupt header or an unsupported variant (12-bit
 * or lossless JPEG, an unknown JPEG colour space). The pixel caps are not
 * checked here: see thumbnail_within_limits(). Thread-safe.
 */
FM_MUST_CHECK enum fm_err thumbnail_probe(const void *data, size_t len,
    struct thumbnail_info *info_out, char **err_out);

/* Whether the image's size is within THUMBNAIL_MAX_SIDE and _PIXELS. */
bool thumbnail_within_limits(const struct thumbnail_info *info);

/*
 * The size of a width x height image fitted into a box_w x box_h box:
 * never enlarged; otherwise shrunk, keeping the aspect ratio, until it
 * touches the box on one side. That side is exact and the other rounded
 * to the nearest pixel (at least 1), so it can come out a pixel short of
 * the box: a 1920x1080 frame fits 600x338 as 600x338 (337.5 rounded up)
 * and 200x112 as 199x112.
 */
void thumbnail_fit(
    int width, int height, int box_w, int box_h, int *w_out, int *h_out);

/*
 * Decode the image in data and encode it, fitted into each of the nboxes
 * boxes (largest first, each no larger than the one before it, at most
 * THUMBNAIL_MAX_BOXES), as a baseline 4:2:0 JPEG of opts->quality into
 * out[0..nboxes-1]. Each box's image is area-averaged from the one
 * before it, the first from the decoded image; JPEGs are decoded already
 * shrunk by up to 8 in the DCT where that still leaves enough pixels.
 *
 * Colour: greyscale and CMYK JPEGs become RGB (CMYK naively, without a
 * colour profile, as Adobe's inverted CMYK when the Adobe marker says
 * so); PNGs of any depth or palette are read as 8-bit RGB, transparent
 * ones put over black. EXIF orientation, gamma and colour profiles are
 * ignored.
 *
 * FM_ERR_INVALID with *err_out (new) when the data is not a complete,
 * valid image within the caps and opts->max_decode_bytes: a warning from
 * the JPEG decoder (such as a truncated file) counts as an error. Nothing is
 * left in out then. Thread-safe; out's images belong to the caller.
 */
FM_MUST_CHECK enum fm_err thumbnail_make(const void *data, size_t len,
    const struct thumbnail_box *boxes, size_t nboxes,
    const struct thumbnail_opts *opts, struct thumbnail_out *out,
    char **err_out);

/*
 * Encode a packed 8-bit RGB image (stride width * 3) as a baseline 4:2:0
 * JPEG into *out. Used by thumbnail_make() and, to make test images, by
 * the tests and benchmarks.
 */
FM_MUST_CHECK enum fm_err thumbnail_encode_rgb(const unsigned char *rgb,
    int width, int height, int quality, struct thumbnail_out *out);

/* Free out's image and zero it; NULL-safe. */
void thumbnail_out_clear(struct thumbnail_out *out);

#endif
