/*
 * The HTTP layer against hostile clients: bytes that are not UTF-8 in
 * paths and queries, bodies that would parse into gigabytes, slow
 * requests that must not hold up others, and clients that open
 * connections by the thousand or send a byte every few seconds. Most of
 * it over raw sockets, since libcurl will not misbehave on request.
 */
#include <check.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "jsonscan.h"
#include "testutil.h"
#include "timeutil.h"
#include "utf8.h"
#include "xmalloc.h"

/* --- UTF-8 and JSON measurement ------------------------------------ */

START_TEST(test_scrub_and_escape)
{
	char out[64];

	ck_assert(utf8_valid("h\xc3\xa9llo", 6));
	ck_assert(utf8_valid("a\0b", 3));
	ck_assert(!utf8_valid("\xff", 1));
	ck_assert(!utf8_valid("\xc3", 1));             /* cut short */
	ck_assert(!utf8_valid("\xc0\xaf", 2));         /* overlong */
	ck_assert(!utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
	ck_assert(!utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	ck_assert(utf8_valid("\xf0\x9f\x8e\xac", 4));  /* U+1F3AC */

	utf8_scrub("a\xff"
	           "b\xc3",
	    4, out, sizeof(out));
	ck_assert_str_eq(out,
	    "a\xef\xbf\xbd"
	    "b\xef\xbf\xbd");
	/* A full buffer cuts at a character boundary. */
	ck_assert_uint_eq(utf8_scrub("\xc3\xa9\xc3\xa9", 4, out, 4), 2);
	ck_assert_str_eq(out, "\xc3\xa9");

	utf8_escape_log("/a\nb\\\xff\xc3\xa9", out, sizeof(out));
	ck_assert_str_eq(out, "/a\\x0ab\\x5c\\xff\xc3\xa9");
	utf8_escape_log("0123456789", out, 8);
	ck_assert_str_eq(out, "0123...");
}
END_TEST

START_TEST(test_jsonscan)
{
	struct jsonscan s;

	ck_assert(jsonscan_measure(
	    "{\"a\": [1, 2.5e3, true, null, \"x]\"]}", 34, 100, 10, &s));
	ck_assert_uint_eq(s.values, 8);
	ck_assert_uint_eq(s.depth, 2);
	ck_assert(!jsonscan_measure("[{},{},{},{}]", 13, 3, 10, &s));
	ck_assert(!jsonscan_measure("[[[[[\"\\\"[[[[\"]]]]]", 18, 100, 4, &s));
	ck_assert_uint_eq(s.depth, 5);
}
END_TEST

static Suite *
http_hostile_suite(void)
{
	Suite *s = suite_create("http_hostile");
	TCase *tc;

	tc = tcase_create("units");
	tcase_add_test(tc, test_scrub_and_escape);
	tcase_add_test(tc, test_jsonscan);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(http_hostile_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
