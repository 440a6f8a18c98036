/*
 * The value of one hexadecimal or base64 digit, for the decoders that need
 * them (JSON \u escapes, HTTP Basic credentials, RFC 2047 encoded-words).
 */
#ifndef FM_DIGITS_H
#define FM_DIGITS_H

/* 0-15, or -1 when c is not a hexadecimal digit (either case). */
static inline int
digit_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 0-63 in the standard alphabet (RFC 4648 section 4), or -1. */
static inline int
digit_base64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

#endif
