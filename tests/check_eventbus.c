/*
 * Tests for eventbus.c: broadcast and addressed fan-out, ids, the bounded queue
 * that cuts a slow subscriber off, resuming from the history, and many
 * publishers racing with subscribers coming and going.
 */
#include "eventbus.h"

#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

static void
count_wake(void *arg)
{
	(*(int *)arg)++;
}

static json_t *
payload(int n)
{
	return json_pack("{s:i, s:s}", "n", n, "text", "caf\xc3\xa9");
}

START_TEST(test_fanout_and_ids)
{
	static const char *const job_a[] = { "/jobs/A" };
	static const char *const tasklogs[] = { "/tasklog/" };
	struct eventbus_interest viewer = {
		.broadcast = true, .topics = job_a, .ntopics = 1
	};
	struct eventbus_interest logs = { .prefixes = tasklogs,
		.nprefixes = 1 };
	struct eventbus *bus = eventbus_new(NULL);
	struct eventbus_sub *all, *view, *log;
	struct bus_event *ev;
	bool resync;
	int wakes = 0;

	ck_assert(!eventbus_has_subscribers(bus));
	ck_assert(!eventbus_wants(bus, "/jobs", false));
	all = eventbus_subscribe(
	    bus, &eventbus_everything, NULL, NULL, 0, &resync);
	ck_assert(!resync);
	view = eventbus_subscribe(bus, &viewer, count_wake, &wakes, 0, &resync);
	log = eventbus_subscribe(bus, &logs, NULL, NULL, 0, &resync);
	ck_assert(eventbus_has_subscribers(bus));
	ck_assert_uint_eq(eventbus_subscribers(bus), 3);
	ck_assert(eventbus_wants(bus, "/jobs", false));
	ck_assert(eventbus_wants(bus, "/jobs/A", true));
	ck_assert(eventbus_wants(bus, "/jobs/B", true)); /* all wants all */

	ck_assert_uint_eq(eventbus_publish(bus, "/jobs", false, payload(1)), 1);
	ck_assert_uint_eq(
	    eventbus_publish(bus, "/jobs/A", true, payload(2)), 2);
	ck_assert_uint_eq(
	    eventbus_publish(bus, "/jobs/B", true, payload(3)), 3);
	ck_assert_uint_eq(
	    eventbus_publish(bus, "/tasklog/T", true, payload(4)), 4);
	/* Woken once: when the queue went from empty to non-empty. */
	ck_assert_int_eq(wakes, 1);

	/* The viewer: broadcasts and its one job. */
	ck_assert_int_eq(eventbus_next(view, &ev), EVENTBUS_EVENT);
	ck_assert_uint_eq(ev->id, 1);
	ck_assert_str_eq(ev->topic, "/jobs");
	/* Payloads are ASCII-safe JSON text. */
	ck_assert_str_eq(ev->data, "{\"n\":1,\"text\":\"caf\\u00E9\"}");
	ck_assert_uint_eq(ev->data_len, strlen(ev->data));
	bus_event_unref(ev);
	ck_assert_int_eq(eventbus_next(view, &ev), EVENTBUS_EVENT);
	ck_assert_uint_eq(ev->id, 2);
	ck_assert(ev->addressed);
	bus_event_unref(ev);
	ck_assert_int_eq(eventbus_next(view, &ev), EVENTBUS_EMPTY);
	ck_assert_ptr_null(ev);

	/* The log reader: only task logs. */
	ck_assert_int_eq(eventbus_next(log, &ev), EVENTBUS_EVENT);
	ck_assert_str_eq(ev->topic, "/tasklog/T");
	bus_event_unref(ev);
	ck_assert_int_eq(eventbus_next(log, &ev), EVENTBUS_EMPTY);

	/* Everything, once each. */
	for (uint64_t want = 1; want <= 4; want++) {
		ck_assert_int_eq(eventbus_next(all, &ev), EVENTBUS_EVENT);
		ck_assert_uint_eq(ev->id, want);
		bus_event_unref(ev);
	}
	ck_assert_int_eq(eventbus_next(all, &ev), EVENTBUS_EMPTY);
	ck_assert_uint_eq(eventbus_last_id(bus), 4);

	eventbus_unsubscribe(all);
	ck_assert(!eventbus_wants(bus, "/jobs/B", true));
	ck_assert(eventbus_wants(bus, "/jobs/A", true));
	eventbus_unsubscribe(view);
	ck_assert(!eventbus_wants(bus, "/jobs", false));
	ck_assert(!eventbus_wants(bus, "/jobs/A", true));
	eventbus_unsubscribe(log);
	ck_assert(!eventbus_has_subscribers(bus));
	eventbus_free(bus);
}
END_TEST

START_TEST(test_exact_and_prefix_once)
{
	static const char *const topic[] = { "/jobs/A" };
	static const char *const prefix[] = { "/jobs/" };
	struct eventbus_interest both = { .topics = topic,
		.ntopics = 1,
		.prefixes = prefix,
		.nprefixes = 1 };
	struct eventbus *bus = eventbus_new(NULL);
	struct eventbus_sub *sub;
	struct bus_event *ev;
	bool resync;

	sub = eventbus_subscribe(bus, &both, NULL, NULL, 0, &resync);
	eventbus_publish(bus, "/jobs/A", true, payload(1));
	eventbus_publish(bus, "/jobs", false, payload(2)); /* not addressed */
	ck_assert_int_eq(eventbus_next(sub, &ev), EVENTBUS_EVENT);
	ck_assert_uint_eq(ev->id, 1);
	bus_event_unref(ev);
	ck_assert_int_eq(eventbus_next(sub, &ev), EVENTBUS_EMPTY);
	eventbus_unsubscribe(sub);
	eventbus_free(bus);
}
END_TEST

START_TEST(test_slow_subscriber_cut_off)
{
	struct eventbus_options opt = { .history = 8, .queue_len = 4 };
	struct eventbus *bus = eventbus_new(&opt);
	struct eventbus_sub *slow, *fast;
	struct bus_event *ev;
	bool resync;
	int wakes = 0;

	slow = eventbus_subscribe(
	    bus, &eventbus_everything, count_wake, &wakes, 0, &resync);
	fast = eventbus_subscribe(
	    bus, &eventbus_everything, NULL, NULL, 0, &resync);
	for (int i = 1; i <= 10; i++) {
		eventbus_publish(bus, "/jobs", false, payload(i));
		/* The fast one keeps up and never notices the slow one. */
		ck_assert_int_eq(eventbus_next(fast, &ev), EVENTBUS_EVENT);
		ck_assert_uint_eq(ev->id, (uint64_t)i);
		bus_event_unref(ev);
	}
	/* Woken when it got its first event and when it was cut off. */
	ck_assert_int_eq(wakes, 2);
	/* No partial stream after the cut: only "resync". */
	ck_assert_int_eq(eventbus_next(slow, &ev), EVENTBUS_OVERFLOW);
	ck_assert_ptr_null(ev);
	ck_assert_int_eq(eventbus_next(slow, &ev), EVENTBUS_OVERFLOW);
	eventbus_unsubscribe(slow);
	eventbus_unsubscribe(fast);
	eventbus_free(bus);
}
END_TEST

START_TEST(test_resume_from_history)
{
	static const char *const a[] = { "/jobs/A" };
	struct eventbus_interest jobs_a = { .topics = a, .ntopics = 1 };
	struct eventbus_options opt = { .history = 4, .queue_len = 16 };
	struct eventbus *bus = eventbus_new(&opt);
	struct eventbus_sub *sub;
	struct bus_event *ev;
	bool resync;

	for (int i = 1; i <= 6; i++)
		eventbus_publish(
		    bus, i % 2 ? "/jobs/A" : "/jobs/B", true, payload(i));
	/* History holds 3..6: resuming after 2 misses nothing. */
	sub = eventbus_subscribe(bus, &jobs_a, NULL, NULL, 2, &resync);
	ck_assert(!resync);
	ck_assert_int_eq(eventbus_next(sub, &ev), EVENTBUS_EVENT);
	ck_assert_uint_eq(ev->id, 3);
	bus_event_unref(ev);
	ck_assert_int_eq(eventbus_next(sub, &ev), EVENTBUS_EVENT);
	ck_assert_uint_eq(ev->id, 5);
	bus_event_unref(ev);
	ck_assert_int_eq(eventbus_next(sub, &ev), EVENTBUS_EMPTY);
	eventbus_unsubscribe(sub);

	/* Up to date: nothing to replay, no resync. */
	sub = eventbus_subscribe(
	    bus, &eventbus_everything, NULL, NULL, 6, &resync);
	ck_assert(!resync);
	ck_assert_int_eq(eventbus_next(sub, &ev), EVENTBUS_EMPTY);
	eventbus_unsubscribe(sub);

	/* Event 2 is gone from the history: the client must reload, and
	 * gets no partial replay. */
	sub = eventbus_subscribe(
	    bus, &eventbus_everything, NULL, NULL, 1, &resync);
	ck_assert(resync);
	ck_assert_int_eq(eventbus_next(sub, &ev), EVENTBUS_EMPTY);
	eventbus_unsubscribe(sub);

	/* An id from a previous run of the Manager. */
	sub = eventbus_subscribe(
	    bus, &eventbus_everything, NULL, NULL, 999, &resync);
	ck_assert(resync);
	eventbus_unsubscribe(sub);
	eventbus_free(bus);
}
END_TEST

START_TEST(test_resume_larger_than_queue)
{
	struct eventbus_options opt = { .history = 64, .queue_len = 4 };
	struct eventbus *bus = eventbus_new(&opt);
	struct eventbus_sub *sub;
	struct bus_event *ev;
	bool resync;

	for (int i = 1; i <= 20; i++)
		eventbus_publish(bus, "/jobs", false, payload(i));
	sub = eventbus_subscribe(
	    bus, &eventbus_everything, NULL, NULL, 5, &resync);
	ck_assert(resync); /* 15 events do not fit a queue of 4 */
	ck_assert_int_eq(eventbus_next(sub, &ev), EVENTBUS_EMPTY);
	/* It is a live subscriber from now on. */
	eventbus_publish(bus, "/jobs", false, payload(21));
	ck_assert_int_eq(eventbus_next(sub, &ev), EVENTBUS_EVENT);
	ck_assert_uint_eq(ev->id, 21);
	bus_event_unref(ev);
	eventbus_unsubscribe(sub);
	eventbus_free(bus);
}
END_TEST

/* Big events (log chunks) leave the history by size before count. */
START_TEST(test_history_bounded_by_bytes)
{
	struct eventbus *bus = eventbus_new(NULL);
	struct eventbus_sub *sub;
	char *big = xmalloc(1 << 20);
	bool resync;

	memset(big, 'x', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	for (int i = 0; i < 40; i++)
		eventbus_publish(
		    bus, "/tasklog/T", true, json_pack("{s:s}", "log", big));
	/* 40 events are far below the count limit, but 40 MiB is not. */
	sub = eventbus_subscribe(
	    bus, &eventbus_everything, NULL, NULL, 1, &resync);
	ck_assert(resync);
	eventbus_unsubscribe(sub);
	/* The newest are still there. */
	sub = eventbus_subscribe(
	    bus, &eventbus_everything, NULL, NULL, 38, &resync);
	ck_assert(!resync);
	eventbus_unsubscribe(sub);
	free(big);
	eventbus_free(bus);
}
END_TEST

START_TEST(test_missing_payload_dropped)
{
	struct eventbus *bus = eventbus_new(NULL);

	/* A payload whose construction failed (json_pack gave NULL) is
	 * dropped with id 0 and uses up no id. */
	ck_assert_uint_eq(eventbus_publish(bus, "/jobs", false, NULL), 0);
	ck_assert_uint_eq(eventbus_publish(bus, "/jobs", false, payload(1)), 1);
	ck_assert_uint_eq(eventbus_last_id(bus), 1);
	eventbus_free(bus);
}
END_TEST

/* ---- concurrency: publishers race with subscribers ---- */

#define RACE_PUBLISHERS 4
#define RACE_EVENTS     2000

struct race {
	struct eventbus *bus;
	_Atomic int done;
};

static void *
race_publisher(void *arg)
{
	struct race *r = arg;

	for (int i = 0; i < RACE_EVENTS; i++)
		eventbus_publish(r->bus, "/jobs", false, payload(i));
	return NULL;
}

static void *
race_subscriber(void *arg)
{
	struct race *r = arg;

	while (!r->done) {
		bool resync;
		struct eventbus_sub *sub = eventbus_subscribe(
		    r->bus, &eventbus_everything, NULL, NULL, 0, &resync);
		uint64_t last = 0;
		struct bus_event *ev;

		for (int i = 0; i < 100; i++) {
			enum eventbus_next n = eventbus_next(sub, &ev);

			if (n == EVENTBUS_EVENT) {
				/* One subscriber sees ids in order. */
				ck_assert_uint_gt(ev->id, last);
				last = ev->id;
				bus_event_unref(ev);
			} else if (n == EVENTBUS_OVERFLOW) {
				break;
			}
		}
		eventbus_unsubscribe(sub);
	}
	return NULL;
}

START_TEST(test_race)
{
	struct eventbus_options opt = { .history = 128, .queue_len = 32 };
	struct race r = { .bus = eventbus_new(&opt) };
	pthread_t pubs[RACE_PUBLISHERS], subs[2];

	for (int i = 0; i < 2; i++)
		pthread_create(&subs[i], NULL, race_subscriber, &r);
	for (int i = 0; i < RACE_PUBLISHERS; i++)
		pthread_create(&pubs[i], NULL, race_publisher, &r);
	for (int i = 0; i < RACE_PUBLISHERS; i++)
		pthread_join(pubs[i], NULL);
	r.done = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(subs[i], NULL);
	ck_assert_uint_eq(
	    eventbus_last_id(r.bus), RACE_PUBLISHERS * RACE_EVENTS);
	ck_assert_uint_eq(eventbus_subscribers(r.bus), 0);
	eventbus_free(r.bus);
}
END_TEST

static Suite *
eventbus_suite(void)
{
	Suite *s = suite_create("eventbus");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_fanout_and_ids);
	tcase_add_test(tc, test_exact_and_prefix_once);
	tcase_add_test(tc, test_slow_subscriber_cut_off);
	tcase_add_test(tc, test_resume_from_history);
	tcase_add_test(tc, test_resume_larger_than_queue);
	tcase_add_test(tc, test_missing_payload_dropped);
	tcase_add_test(tc, test_history_bounded_by_bytes);
	tcase_add_test(tc, test_race);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(eventbus_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
