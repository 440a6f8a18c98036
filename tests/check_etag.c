/*
 * The job-type etag chain: SHA-1 against FIPS test vectors, Go-style JSON
 * encoding, and the AvailableJobType built from a JOB_TYPE object.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "gojson.h"
#include "jobtypes.h"
#include "sha1.h"

START_TEST(test_sha1_vectors)
{
	static const struct {
		const char *in, *hex;
	} v[] = {
		{ "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
		{ "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		    "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
	};
	char hex[41];

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		sha1_hex(v[i].in, strlen(v[i].in), hex);
		ck_assert_str_eq(hex, v[i].hex);
	}
}
END_TEST

START_TEST(test_sha1_million_a)
{
	struct sha1_ctx ctx;
	unsigned char d[SHA1_DIGEST_LEN];
	char block[1000];

	memset(block, 'a', sizeof(block));
	sha1_init(&ctx);
	for (int i = 0; i < 1000; i++)
		sha1_update(&ctx, block, sizeof(block));
	sha1_final(&ctx, d);
	ck_assert_int_eq(d[0], 0x34);
	ck_assert_int_eq(d[1], 0xaa);
	ck_assert_int_eq(d[19], 0x6f);
}
END_TEST

static void
assert_go(const char *json_in, const char *want)
{
	json_t *v = json_loads(json_in, JSON_DECODE_ANY, NULL);
	char *got;

	ck_assert_ptr_nonnull(v);
	got = gojson_encode(v);
	ck_assert_str_eq(got, want);
	free(got);
	json_decref(v);
}

START_TEST(test_gojson)
{
	assert_go("{\"b\": 1, \"a\": [true, false, null]}",
	    "{\"a\":[true,false,null],\"b\":1}");
	assert_go("\"<a & b>\"", "\"\\u003ca \\u0026 b\\u003e\"");
	assert_go("\"line\\nbreak\\ttab \\\"q\\\" \\\\ \\u0001\"",
	    "\"line\\nbreak\\ttab \\\"q\\\" \\\\ \\u0001\"");
	assert_go("\"caf\\u00e9 \\u2028\"", "\"caf\xc3\xa9 \\u2028\"");
	assert_go("\"a/b\"", "\"a/b\"");
	assert_go("[1.0, 0.5, 24.0, 29.97, 1e21, 1e-7, -3.25]",
	    "[1,0.5,24,29.97,1e+21,1e-7,-3.25]");
}
END_TEST

START_TEST(test_info_filters_settings)
{
	json_t *js = json_loads(
	    "{\"label\": \"L\", \"unknown\": 1, \"settings\": ["
	    "{\"key\": \"k\", \"type\": \"string\", \"bogus\": 2, "
	    "\"required\": false, \"description\": null, "
	    "\"evalInfo\": {\"showLinkButton\": true, \"description\": \"d\", "
	    "\"x\": 1}}]}",
	    0, NULL);
	json_t *info = jobtypes_info_from_js("my-type", js);
	char *text = gojson_encode(info);
	char etag[41], etag2[41];

	ck_assert_str_eq(text,
	    "{\"etag\":\"\",\"label\":\"L\",\"name\":\"my-type\",\"settings\":"
	    "[{\"evalInfo\":{\"description\":\"d\",\"showLinkButton\":true},"
	    "\"key\":\"k\",\"required\":false,\"type\":\"string\"}]}");
	jobtypes_etag(info, etag);
	ck_assert_int_eq(strlen(etag), 40);
	/* The etag ignores the etag field itself. */
	json_object_set_new(info, "etag", json_string(etag));
	jobtypes_etag(info, etag2);
	ck_assert_str_eq(etag, etag2);
	/* And changes when the definition does. */
	json_object_set_new(info, "label", json_string("L2"));
	jobtypes_etag(info, etag2);
	ck_assert_str_ne(etag, etag2);
	free(text);
	json_decref(info);
	json_decref(js);
}
END_TEST

static Suite *
etag_suite(void)
{
	Suite *s = suite_create("etag");
	TCase *tc = tcase_create("etag");

	tcase_add_test(tc, test_sha1_vectors);
	tcase_add_test(tc, test_sha1_million_a);
	tcase_add_test(tc, test_gojson);
	tcase_add_test(tc, test_info_filters_settings);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(etag_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
