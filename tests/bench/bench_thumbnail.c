/*
 * Thumbnail benchmark: the work of one taskOutputProduced upload without
 * HTTP or files, thumbnail_make() of a 1920x1080 frame into the three
 * last-rendered sizes, timed over many runs. The frames are made here: a
 * smooth render-like picture, the same with strong noise (the costliest
 * JPEG to decode), and the smooth one as PNG. Prints figures, never fails
 * on a timing.
 *
 * usage: bench_thumbnail [RUNS [OUTDIR]]   (OUTDIR: keep the thumbnails)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <spng.h>

#include "thumbnail.h"
#include "timeutil.h"
#include "xmalloc.h"

#define W 1920
#define H 1080

static const struct thumbnail_box boxes[3] = {
	{ 1920, 1080 },
	{ 600, 338 },
	{ 200, 112 },
};

/* Sky, ground, a lit sphere; noise of +-amp on top. */
static unsigned char *
frame(int amp)
{
	unsigned char *rgb = xmalloc((size_t)W * H * 3), *p = rgb;
	unsigned seed = 12345;

	for (int y = 0; y < H; y++) {
		for (int x = 0; x < W; x++, p += 3) {
			double dx = (x - 1100) / 300.0, dy = (y - 500) / 300.0;
			double d2 = dx * dx + dy * dy, v[3];

			if (d2 < 1) {
				double l = 0.3 +
				    0.7 * sqrt(1 - d2) *
				        (0.6 - 0.4 * dx - 0.4 * dy);

				v[0] = 230 * l;
				v[1] = 120 * l;
				v[2] = 60 * l;
			} else if (y < 700) {
				v[0] = 90 + y / 10.0;
				v[1] = 140 + y / 12.0;
				v[2] = 230 - y / 20.0;
			} else {
				v[0] = 70 + (x % 97) / 4.0;
				v[1] = 90 + (y % 53) / 3.0;
				v[2] = 50;
			}
			for (int c = 0; c < 3; c++) {
				int n = 0;

				if (amp > 0) {
					seed = seed * 1103515245u + 12345u;
					n = (int)((seed >> 16) %
					        (2u * amp + 1)) -
					    amp;
				}
				n += (int)v[c];
				p[c] = (unsigned char)(n < 0 ? 0
				        : n > 255            ? 255
				                             : n);
			}
		}
	}
	return rgb;
}

static unsigned char *
png_of(const unsigned char *rgb, size_t *len_out)
{
	spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
	struct spng_ihdr ihdr = { .width = W,
		.height = H,
		.bit_depth = 8,
		.color_type = SPNG_COLOR_TYPE_TRUECOLOR };
	unsigned char *png = NULL;
	int e;

	spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
	spng_set_ihdr(ctx, &ihdr);
	e = spng_encode_image(
	    ctx, rgb, (size_t)W * H * 3, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
	if (e == 0)
		png = spng_get_png_buffer(ctx, len_out, &e);
	spng_ctx_free(ctx);
	return png;
}

/* This thread's CPU time: on a busy machine it stays honest where the
 * wall clock includes waiting for a core. */
static int64_t
cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static void
run(const char *what, const void *data, size_t len, int runs,
    const char *outdir)
{
	struct thumbnail_opts opts = { .quality = 85 };
	struct thumbnail_out out[3];
	int64_t *t = xcalloc((size_t)runs, sizeof(*t));
	int64_t *cpu = xcalloc((size_t)runs, sizeof(*cpu));
	char *err = NULL;

	for (int i = 0; i < runs; i++) {
		int64_t t0 = time_mono_us(), c0 = cpu_us();

		if (thumbnail_make(data, len, boxes, 3, &opts, out, &err) !=
		    FM_OK) {
			fprintf(stderr, "%s: %s\n", what, err);
			exit(1);
		}
		t[i] = time_mono_us() - t0;
		cpu[i] = cpu_us() - c0;
		if (i == runs - 1 && outdir != NULL) {
			for (int k = 0; k < 3; k++) {
				char *path =
				    xasprintf("%s/%s-%d.jpg", outdir, what, k);
				FILE *f = fopen(path, "wb");

				if (f != NULL) {
					fwrite(out[k].jpeg, 1, out[k].len, f);
					fclose(f);
				}
				free(path);
			}
		}
		for (int k = 0; k < 3; k++)
			thumbnail_out_clear(&out[k]);
	}
	qsort(t, (size_t)runs, sizeof(*t), cmp_i64);
	qsort(cpu, (size_t)runs, sizeof(*cpu), cmp_i64);
	printf("%-22s %4zu KiB: wall min %.1f ms, median %.1f ms; CPU "
	       "median %.1f ms\n",
	    what, len / 1024, t[0] / 1000.0, t[runs / 2] / 1000.0,
	    cpu[runs / 2] / 1000.0);
	free(t);
	free(cpu);
}

int
main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 50;
	const char *outdir = argc > 2 ? argv[2] : NULL;
	unsigned char *smooth = frame(0), *noisy = frame(40), *png;
	struct thumbnail_out a, b;
	struct rusage ru;
	size_t plen = 0;

	if (runs < 1)
		runs = 1;
	if (thumbnail_encode_rgb(smooth, W, H, 85, &a) != FM_OK ||
	    thumbnail_encode_rgb(noisy, W, H, 85, &b) != FM_OK ||
	    (png = png_of(smooth, &plen)) == NULL) {
		fprintf(stderr, "cannot make the test frames\n");
		return 1;
	}
	run("1920x1080 JPEG", a.jpeg, a.len, runs, outdir);
	run("1920x1080 JPEG, noisy", b.jpeg, b.len, runs, outdir);
	run("1920x1080 PNG", png, plen, runs, outdir);
	getrusage(RUSAGE_SELF, &ru);
	printf("peak RSS of the whole benchmark: %ld KiB\n", ru.ru_maxrss);
	thumbnail_out_clear(&a);
	thumbnail_out_clear(&b);
	free(png);
	free(smooth);
	free(noisy);
	return 0;
}
