/*
 * SHA-1 (FIPS 180-4), used only where Flamenco's wire format asks for it:
 * job-type etags are 40-hex SHA-1 digests. Not for anything secret.
 */
#ifndef FM_SHA1_H
#define FM_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define SHA1_DIGEST_LEN 20

struct sha1_ctx {
	uint32_t h[5];
	uint64_t total_len;
	unsigned char block[64];
	size_t block_len;
};

void sha1_init(struct sha1_ctx *ctx);
void sha1_update(struct sha1_ctx *ctx, const void *data, size_t len);
void sha1_final(struct sha1_ctx *ctx, unsigned char digest[SHA1_DIGEST_LEN]);

/* Digest of data as 40 lower-case hex characters plus NUL into hex. */
void sha1_hex(const void *data, size_t len, char hex[2 * SHA1_DIGEST_LEN + 1]);

#endif
