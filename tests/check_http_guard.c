/*
 * The connection guard on real sockets: a body whose server side is busy
 * (a sink blocked on a slow disk) longer than the header timeout is not
 * cut, while a client that truly stalls still is.
 */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http_guard.h"
#include "testutil.h"
#include "timeutil.h"

#define TIMEOUT_US 300000LL

static void
sleep_us(int64_t us)
{
	struct timespec ts = { (time_t)(us / 1000000),
		(long)(us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The guard has shut the socket down: the peer reads end of stream. */
static bool
cut(int peer)
{
	char c;

	return recv(peer, &c, 1, MSG_DONTWAIT) == 0;
}

START_TEST(test_server_busy_is_not_a_stall)
{
	struct http_guard *g = http_guard_start(TIMEOUT_US, 1000);
	struct http_guard_conn c = { 0 };
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	http_guard_add(g, &c, sv[0]);
	http_guard_headers_done(g, &c, true);
	ck_assert(http_guard_body(g, &c, 100));
	/* The sink blocks on the disk for over twice the timeout. */
	http_guard_server_busy(&c);
	sleep_us(3 * TIMEOUT_US * test_time_scale());
	ck_assert(!cut(sv[1]));
	http_guard_server_done(g, &c);
	/* The client is on time again. */
	ck_assert(http_guard_body(g, &c, 100));
	ck_assert(!cut(sv[1]));
	ck_assert_uint_eq(http_guard_expired(g), 0);
	/* Now the client goes silent: cut within the timeout, a tick and
	 * the grace. */
	sleep_us((TIMEOUT_US + 1500000) * test_time_scale());
	ck_assert(cut(sv[1]));
	ck_assert_uint_eq(http_guard_expired(g), 1);
	http_guard_remove(g, &c);
	http_guard_stop(g);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* The same for a body that is kept in memory (average rate). */
START_TEST(test_server_busy_buffered_body)
{
	struct http_guard *g = http_guard_start(TIMEOUT_US, 1000);
	struct http_guard_conn c = { 0 };
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	http_guard_add(g, &c, sv[0]);
	http_guard_headers_done(g, &c, false);
	http_guard_server_busy(&c);
	sleep_us(3 * TIMEOUT_US * test_time_scale());
	http_guard_server_done(g, &c);
	ck_assert(http_guard_body(g, &c, 10));
	ck_assert(!cut(sv[1]));
	sleep_us((TIMEOUT_US + 1500000) * test_time_scale());
	ck_assert(cut(sv[1]));
	http_guard_remove(g, &c);
	http_guard_stop(g);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

static Suite *
guard_suite(void)
{
	Suite *s = suite_create("http_guard");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_server_busy_is_not_a_stall);
	tcase_add_test(tc, test_server_busy_buffered_body);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(guard_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
