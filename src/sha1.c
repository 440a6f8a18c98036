/*
 * SHA-1 over 64-byte blocks: message schedule of 80 words, four rounds of
 * twenty steps with their own function and constant.
 */
#include "sha1.h"

#include <stdio.h>
#include <string.h>

static uint32_t
rol(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

static void
sha1_block(struct sha1_ctx *ctx, const unsigned char *p)
{
	uint32_t w[80], a, b, c, d, e;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = ctx->h[0];
	b = ctx->h[1];
	c = ctx->h[2];
	d = ctx->h[3];
	e = ctx->h[4];
	for (int i = 0; i < 80; i++) {
		uint32_t f, k, t;

		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ c ^ d;
			k = 0xca62c1d6;
		}
		t = rol(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rol(b, 30);
		b = a;
		a = t;
	}
	ctx->h[0] += a;
	ctx->h[1] += b;
	ctx->h[2] += c;
	ctx->h[3] += d;
	ctx->h[4] += e;
}

void
sha1_init(struct sha1_ctx *ctx)
{
	static const uint32_t iv[5] = { 0x67452301, 0xefcdab89, 0x98badcfe,
		0x10325476, 0xc3d2e1f0 };

	memcpy(ctx->h, iv, sizeof(iv));
	ctx->total_len = 0;
	ctx->block_len = 0;
}

void
sha1_update(struct sha1_ctx *ctx, const void *data, size_t len)
{
	const unsigned char *p = data;

	ctx->total_len += len;
	while (len > 0) {
		size_t n = 64 - ctx->block_len;

		if (n > len)
			n = len;
		memcpy(ctx->block + ctx->block_len, p, n);
		ctx->block_len += n;
		p += n;
		len -= n;
		if (ctx->block_len == 64) {
			sha1_block(ctx, ctx->block);
			ctx->block_len = 0;
		}
	}
}

void
sha1_final(struct sha1_ctx *ctx, unsigned char digest[SHA1_DIGEST_LEN])
{
	uint64_t bits = ctx->total_len * 8;
	unsigned char pad = 0x80, len_be[8];

	sha1_update(ctx, &pad, 1);
	pad = 0;
	while (ctx->block_len != 56)
		sha1_update(ctx, &pad, 1);
	for (int i = 0; i < 8; i++)
		len_be[i] = (unsigned char)(bits >> (56 - 8 * i));
	sha1_update(ctx, len_be, 8);
	for (int i = 0; i < 5; i++) {
		digest[4 * i] = (unsigned char)(ctx->h[i] >> 24);
		digest[4 * i + 1] = (unsigned char)(ctx->h[i] >> 16);
		digest[4 * i + 2] = (unsigned char)(ctx->h[i] >> 8);
		digest[4 * i + 3] = (unsigned char)ctx->h[i];
	}
}

void
sha1_hex(const void *data, size_t len, char hex[2 * SHA1_DIGEST_LEN + 1])
{
	unsigned char d[SHA1_DIGEST_LEN];
	struct sha1_ctx ctx;

	sha1_init(&ctx);
	sha1_update(&ctx, data, len);
	sha1_final(&ctx, d);
	for (int i = 0; i < SHA1_DIGEST_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
}
