/*
 * SHA-256 (FIPS 180-4), for hashing worker secrets. A worker secret is
 * 256 random bits, so a salted fast hash protects it as well as a slow
 * password hash would, at microseconds per request instead of bcrypt's.
 */
#ifndef FM_SHA256_H
#define FM_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN 32

struct sha256_ctx {
	uint32_t h[8];
	uint64_t total_len;
	unsigned char block[64];
	size_t block_len;
};

void sha256_init(struct sha256_ctx *ctx);
void sha256_update(struct sha256_ctx *ctx, const void *data, size_t len);
void sha256_final(
    struct sha256_ctx *ctx, unsigned char digest[SHA256_DIGEST_LEN]);

#endif
