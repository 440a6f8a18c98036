/*
 * SHA-256 over 64-byte blocks: a 64-word schedule and 64 rounds with the
 * standard round constants. Shaman hashes every uploaded byte, so on x86
 * CPUs with the SHA extensions (checked once at run time) the rounds run
 * on those instructions, about ten times the portable code's speed.
 */
#include "sha256.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define SHA256_X86 1
#endif

static const uint32_t K[64] = {
	0x428a2f98,
	0x71374491,
	0xb5c0fbcf,
	0xe9b5dba5,
	0x3956c25b,
	0x59f111f1,
	0x923f82a4,
	0xab1c5ed5,
	0xd807aa98,
	0x12835b01,
	0x243185be,
	0x550c7dc3,
	0x72be5d74,
	0x80deb1fe,
	0x9bdc06a7,
	0xc19bf174,
	0xe49b69c1,
	0xefbe4786,
	0x0fc19dc6,
	0x240ca1cc,
	0x2de92c6f,
	0x4a7484aa,
	0x5cb0a9dc,
	0x76f988da,
	0x983e5152,
	0xa831c66d,
	0xb00327c8,
	0xbf597fc7,
	0xc6e00bf3,
	0xd5a79147,
	0x06ca6351,
	0x14292967,
	0x27b70a85,
	0x2e1b2138,
	0x4d2c6dfc,
	0x53380d13,
	0x650a7354,
	0x766a0abb,
	0x81c2c92e,
	0x92722c85,
	0xa2bfe8a1,
	0xa81a664b,
	0xc24b8b70,
	0xc76c51a3,
	0xd192e819,
	0xd6990624,
	0xf40e3585,
	0x106aa070,
	0x19a4c116,
	0x1e376c08,
	0x2748774c,
	0x34b0bcb5,
	0x391c0cb3,
	0x4ed8aa4a,
	0x5b9cca4f,
	0x682e6ff3,
	0x748f82ee,
	0x78a5636f,
	0x84c87814,
	0x8cc70208,
	0x90befffa,
	0xa4506ceb,
	0xbef9a3f7,
	0xc67178f2,
};

static uint32_t
ror(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

static void
sha256_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], v[8];

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 =
		    ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 =
		    ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	memcpy(v, h, sizeof(v));
	for (int i = 0; i < 64; i++) {
		uint32_t s1 = ror(v[4], 6) ^ ror(v[4], 11) ^ ror(v[4], 25);
		uint32_t ch = (v[4] & v[5]) ^ (~v[4] & v[6]);
		uint32_t t1 = v[7] + s1 + ch + K[i] + w[i];
		uint32_t s0 = ror(v[0], 2) ^ ror(v[0], 13) ^ ror(v[0], 22);
		uint32_t maj = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);

		v[7] = v[6];
		v[6] = v[5];
		v[5] = v[4];
		v[4] = v[3] + t1;
		v[3] = v[2];
		v[2] = v[1];
		v[1] = v[0];
		v[0] = t1 + s0 + maj;
	}
	for (int i = 0; i < 8; i++)
		h[i] += v[i];
}

#ifdef SHA256_X86
/*
 * The SHA extensions keep the state as two vectors, ABEF and CDGH, and do
 * two rounds per sha256rnds2 with the message words plus constants in the
 * low half; sha256msg1/msg2 compute the schedule four words at a time.
 */
__attribute__((target("sha,sse4.1,ssse3"))) static void
sha256_blocks_x86(uint32_t h[8], const unsigned char *p, size_t nblocks)
{
	const __m128i bswap =
	    _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
	__m128i dcba = _mm_loadu_si128((const __m128i *)(const void *)&h[0]);
	__m128i hgfe = _mm_loadu_si128((const __m128i *)(const void *)&h[4]);
	__m128i cdab = _mm_shuffle_epi32(dcba, 0xb1);
	__m128i efgh = _mm_shuffle_epi32(hgfe, 0x1b);
	__m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
	__m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xf0);

	for (; nblocks > 0; nblocks--, p += 64) {
		__m128i w[4], abef0 = abef, cdgh0 = cdgh;

		/* Unrolled, w[] lives in registers and the branch goes. */
#pragma GCC unroll 16
		for (int g = 0; g < 16; g++) {
			__m128i m;

			if (g < 4) {
				w[g] = _mm_shuffle_epi8(
				    _mm_loadu_si128(
				        (const __m128i *)(const void *)(p +
				            16 * g)),
				    bswap);
			} else {
				__m128i x = _mm_sha256msg1_epu32(
				    w[g & 3], w[(g + 1) & 3]);

				x = _mm_add_epi32(x,
				    _mm_alignr_epi8(
				        w[(g + 3) & 3], w[(g + 2) & 3], 4));
				w[g & 3] =
				    _mm_sha256msg2_epu32(x, w[(g + 3) & 3]);
			}
			m = _mm_add_epi32(w[g & 3],
			    _mm_loadu_si128(
			        (const __m128i *)(const void *)&K[4 * g]));
			cdgh = _mm_sha256rnds2_epu32(cdgh, abef, m);
			m = _mm_shuffle_epi32(m, 0x0e);
			abef = _mm_sha256rnds2_epu32(abef, cdgh, m);
		}
		abef = _mm_add_epi32(abef, abef0);
		cdgh = _mm_add_epi32(cdgh, cdgh0);
	}
	{
		__m128i feba = _mm_shuffle_epi32(abef, 0x1b);
		__m128i dchg = _mm_shuffle_epi32(cdgh, 0xb1);

		dcba = _mm_blend_epi16(feba, dchg, 0xf0);
		hgfe = _mm_alignr_epi8(dchg, feba, 8);
	}
	_mm_storeu_si128((__m128i *)(void *)&h[0], dcba);
	_mm_storeu_si128((__m128i *)(void *)&h[4], hgfe);
}
#endif

#ifdef SHA256_X86
static pthread_once_t detect_once = PTHREAD_ONCE_INIT;
static bool have_sha; /* written once, under detect_once */

static void
detect_sha(void)
{
	__builtin_cpu_init();
	/* FM_SHA256_PORTABLE lets the tests check the other path. */
	have_sha = __builtin_cpu_supports("sha") &&
	    __builtin_cpu_supports("sse4.1") &&
	    getenv("FM_SHA256_PORTABLE") == NULL;
}
#endif

/* Whole blocks, with the fastest code this CPU runs. */
static void
sha256_blocks(uint32_t h[8], const unsigned char *p, size_t nblocks)
{
#ifdef SHA256_X86
	pthread_once(&detect_once, detect_sha);
	if (have_sha) {
		sha256_blocks_x86(h, p, nblocks);
		return;
	}
#endif
	for (; nblocks > 0; nblocks--, p += 64)
		sha256_block(h, p);
}

void
sha256_init(struct sha256_ctx *ctx)
{
	static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372,
		0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

	memcpy(ctx->h, iv, sizeof(iv));
	ctx->total_len = 0;
	ctx->block_len = 0;
}

void
sha256_update(struct sha256_ctx *ctx, const void *data, size_t len)
{
	const unsigned char *p = data;

	ctx->total_len += len;
	if (ctx->block_len > 0) {
		size_t n = 64 - ctx->block_len;

		if (n > len)
			n = len;
		memcpy(ctx->block + ctx->block_len, p, n);
		ctx->block_len += n;
		p += n;
		len -= n;
		if (ctx->block_len < 64)
			return;
		sha256_blocks(ctx->h, ctx->block, 1);
		ctx->block_len = 0;
	}
	/* Whole blocks straight from the caller's buffer, no copy. */
	sha256_blocks(ctx->h, p, len / 64);
	p += len / 64 * 64;
	len %= 64;
	memcpy(ctx->block, p, len);
	ctx->block_len = len;
}

void
sha256_final(struct sha256_ctx *ctx, unsigned char digest[SHA256_DIGEST_LEN])
{
	uint64_t bits = ctx->total_len * 8;
	unsigned char pad = 0x80, len_be[8];

	sha256_update(ctx, &pad, 1);
	pad = 0;
	while (ctx->block_len != 56)
		sha256_update(ctx, &pad, 1);
	for (int i = 0; i < 8; i++)
		len_be[i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_update(ctx, len_be, 8);
	for (int i = 0; i < 8; i++) {
		digest[4 * i] = (unsigned char)(ctx->h[i] >> 24);
		digest[4 * i + 1] = (unsigned char)(ctx->h[i] >> 16);
		digest[4 * i + 2] = (unsigned char)(ctx->h[i] >> 8);
		digest[4 * i + 3] = (unsigned char)ctx->h[i];
	}
}
