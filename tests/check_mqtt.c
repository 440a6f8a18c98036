/*
 * Tests for mqtt.c against a real mosquitto broker on a free loopback
 * port: broker URL parsing, events arriving with Flamenco's topics and
 * payloads at QoS 1, a broker that is down at start, and one that dies and
 * comes back.
 */
#include "mqtt.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <check.h>
#include <mosquitto.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "eventbus.h"
#include "testutil.h"
#include "timeutil.h"
#include "xmalloc.h"

#define WAIT_US (20 * 1000000LL)

/* ---- URL parsing ---- */

START_TEST(test_parse_broker)
{
	static const struct {
		const char *url, *host;
		int port;
		bool tls;
	} good[] = {
		{ "tcp://localhost:1883", "localhost", 1883, false },
		{ "mqtt://broker.studio", "broker.studio", 1883, false },
		{ "ssl://10.1.2.3", "10.1.2.3", 8883, true },
		{ "mqtts://b:9000/", "b", 9000, true },
		{ "tcp://[::1]:1884", "::1", 1884, false },
	};
	static const char *const bad[] = { "", "localhost:1883", "http://x:1",
		"tcp://", "tcp://:1883", "tcp://x:0", "tcp://x:65536",
		"tcp://x:12ab", "tcp://x/topic", "tcp://[::1" };
	const char *why;
	char *host;
	int port;
	bool tls;

	for (size_t i = 0; i < nitems(good); i++) {
		ck_assert_msg(mqtt_parse_broker(good[i].url, &host, &port, &tls,
		                  &why) == FM_OK,
		    "%s", good[i].url);
		ck_assert_str_eq(host, good[i].host);
		ck_assert_int_eq(port, good[i].port);
		ck_assert_int_eq(tls, good[i].tls);
		free(host);
	}
	for (size_t i = 0; i < nitems(bad); i++) {
		ck_assert_msg(mqtt_parse_broker(bad[i], &host, &port, &tls,
		                  &why) == FM_ERR_INVALID,
		    "%s", bad[i]);
		ck_assert_ptr_null(host);
		ck_assert_ptr_nonnull(why);
	}
}
END_TEST

/* ---- a real broker ---- */

static int
free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

static pid_t
broker_start(int port)
{
	char portstr[16];
	pid_t pid;

	snprintf(portstr, sizeof(portstr), "%d", port);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execlp("mosquitto", "mosquitto", "-p", portstr, (char *)NULL);
		execl("/usr/sbin/mosquitto", "mosquitto", "-p", portstr,
		    (char *)NULL);
		_exit(127);
	}
	return pid;
}

static void
broker_stop(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

/* A subscriber that records what it receives. */
struct listener {
	struct mosquitto *mosq;
	pthread_mutex_t lock;
	json_t *got; /* [{"topic", "payload", "qos"}] */
	bool subscribed;
};

static void
on_message(struct mosquitto *m, void *arg, const struct mosquitto_message *msg)
{
	struct listener *l = arg;
	json_t *payload =
	    json_loadb(msg->payload, (size_t)msg->payloadlen, 0, NULL);

	(void)m;
	pthread_mutex_lock(&l->lock);
	json_array_append_new(l->got,
	    json_pack("{s:s, s:o*, s:i}", "topic", msg->topic, "payload",
	        payload, "qos", msg->qos));
	pthread_mutex_unlock(&l->lock);
}

static void
on_subscribe(struct mosquitto *m, void *arg, int mid, int n, const int *qos)
{
	struct listener *l = arg;

	(void)m;
	(void)mid;
	(void)n;
	(void)qos;
	pthread_mutex_lock(&l->lock);
	l->subscribed = true;
	pthread_mutex_unlock(&l->lock);
}

static void
listener_start(struct listener *l, int port)
{
	int64_t t0 = time_mono_us();

	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	l->got = json_array();
	l->mosq = mosquitto_new(NULL, true, l);
	mosquitto_message_callback_set(l->mosq, on_message);
	mosquitto_subscribe_callback_set(l->mosq, on_subscribe);
	/* The broker may still be starting. */
	while (mosquitto_connect(l->mosq, "127.0.0.1", port, 30) !=
	    MOSQ_ERR_SUCCESS) {
		ck_assert_msg(time_mono_us() - t0 < WAIT_US, "no broker");
		usleep(50000);
	}
	ck_assert_int_eq(
	    mosquitto_subscribe(l->mosq, NULL, "flamenco/#", 1), 0);
	ck_assert_int_eq(mosquitto_loop_start(l->mosq), 0);
	for (;;) {
		bool done;

		pthread_mutex_lock(&l->lock);
		done = l->subscribed;
		pthread_mutex_unlock(&l->lock);
		if (done)
			break;
		ck_assert(time_mono_us() - t0 < WAIT_US);
		usleep(10000);
	}
}

static void
listener_stop(struct listener *l)
{
	mosquitto_disconnect(l->mosq);
	mosquitto_loop_stop(l->mosq, false);
	mosquitto_destroy(l->mosq);
	json_decref(l->got);
	pthread_mutex_destroy(&l->lock);
}

/* Wait until a message on topic arrived; returns its payload (new). */
static json_t *
listener_wait(struct listener *l, const char *topic)
{
	int64_t t0 = time_mono_us();

	for (;;) {
		json_t *found = NULL, *m;
		size_t i;

		pthread_mutex_lock(&l->lock);
		json_array_foreach (l->got, i, m) {
			if (strcmp(
			        json_string_value(json_object_get(m, "topic")),
			        topic) == 0) {
				ck_assert_int_eq(json_integer_value(
				                     json_object_get(m, "qos")),
				    1);
				found =
				    json_incref(json_object_get(m, "payload"));
				break;
			}
		}
		pthread_mutex_unlock(&l->lock);
		if (found != NULL)
			return found;
		ck_assert_msg(
		    time_mono_us() - t0 < WAIT_US, "no message on %s", topic);
		usleep(20000);
	}
}

static struct fm_config *
mqtt_config(int port)
{
	struct fm_config *cfg;
	char *err = NULL, *url = xasprintf("tcp://127.0.0.1:%d", port);

	ck_assert_int_eq(config_load(NULL, true, &cfg, &err), FM_OK);
	ck_assert_int_eq(
	    config_set(cfg, "mqtt.client.enabled", "true", &err), FM_OK);
	ck_assert_int_eq(
	    config_set(cfg, "mqtt.client.broker", url, &err), FM_OK);
	ck_assert_int_eq(
	    config_set(cfg, "mqtt.client.clientID", "flamenco-test", &err),
	    FM_OK);
	free(url);
	return cfg;
}

/* Publish on the bus until the forwarder is connected and forwarding. */
static void
wait_forwarding(struct mqtt_forwarder *fwd)
{
	int64_t t0 = time_mono_us();

	while (!mqtt_connected(fwd)) {
		ck_assert_msg(
		    time_mono_us() - t0 < WAIT_US, "forwarder never connected");
		usleep(20000);
	}
}

START_TEST(test_events_reach_subscriber)
{
	int port = free_port();
	pid_t broker = broker_start(port);
	struct fm_config *cfg = mqtt_config(port);
	struct eventbus *bus = eventbus_new(NULL);
	struct mqtt_forwarder *fwd;
	struct listener l;
	json_t *p;
	char *err;
	uint64_t sent, dropped;

	listener_start(&l, port);
	ck_assert_int_eq(mqtt_start(cfg, bus, &fwd, &err), FM_OK);
	ck_assert_ptr_nonnull(fwd);
	wait_forwarding(fwd);
	eventbus_publish(bus, "/jobs", false,
	    json_pack("{s:s, s:s, s:b}", "id",
	        "2f0b3c8e-58a4-4c3e-9a55-0ad2f1f1e6b1", "status", "queued",
	        "refresh_tasks", 0));
	eventbus_publish(bus, "/lifecycle", false,
	    json_pack("{s:s}", "type", "manager-startup"));
	p = listener_wait(&l, "flamenco/jobs");
	ck_assert_str_eq(
	    json_string_value(json_object_get(p, "status")), "queued");
	json_decref(p);
	p = listener_wait(&l, "flamenco/lifecycle");
	ck_assert_str_eq(
	    json_string_value(json_object_get(p, "type")), "manager-startup");
	json_decref(p);
	mqtt_counts(fwd, &sent, &dropped);
	ck_assert_uint_eq(sent, 2);
	ck_assert_uint_eq(dropped, 0);

	mqtt_stop(fwd);
	ck_assert_uint_eq(eventbus_subscribers(bus), 0);
	listener_stop(&l);
	broker_stop(broker);
	eventbus_free(bus);
	config_free(cfg);
}
END_TEST

START_TEST(test_broker_down_at_start_and_restarted)
{
	int port = free_port();
	struct fm_config *cfg = mqtt_config(port);
	struct eventbus *bus = eventbus_new(NULL);
	struct mqtt_forwarder *fwd;
	struct listener l;
	pid_t broker;
	int64_t t0;
	char *err;
	uint64_t sent, dropped;
	json_t *p;

	/* No broker: starting is fine and publishing costs nothing. */
	ck_assert_int_eq(mqtt_start(cfg, bus, &fwd, &err), FM_OK);
	t0 = time_mono_us();
	for (int i = 0; i < 1000; i++)
		eventbus_publish(
		    bus, "/jobs", false, json_pack("{s:i}", "n", i));
	ck_assert_int_lt(time_mono_us() - t0, 2000000);
	ck_assert(!mqtt_connected(fwd));

	broker = broker_start(port);
	listener_start(&l, port);
	wait_forwarding(fwd);
	mqtt_counts(fwd, &sent, &dropped);
	ck_assert_uint_gt(dropped, 0); /* what came before is gone */
	eventbus_publish(
	    bus, "/workers", false, json_pack("{s:s}", "name", "w1"));
	p = listener_wait(&l, "flamenco/workers");
	ck_assert_str_eq(json_string_value(json_object_get(p, "name")), "w1");
	json_decref(p);
	listener_stop(&l);

	/* The broker dies and comes back on the same port. */
	broker_stop(broker);
	t0 = time_mono_us();
	while (mqtt_connected(fwd)) {
		ck_assert(time_mono_us() - t0 < WAIT_US);
		usleep(20000);
	}
	eventbus_publish(
	    bus, "/workers", false, json_pack("{s:s}", "name", "lost"));
	broker = broker_start(port);
	listener_start(&l, port);
	wait_forwarding(fwd);
	eventbus_publish(
	    bus, "/workers", false, json_pack("{s:s}", "name", "w2"));
	p = listener_wait(&l, "flamenco/workers");
	ck_assert_str_eq(json_string_value(json_object_get(p, "name")), "w2");
	json_decref(p);

	mqtt_stop(fwd);
	listener_stop(&l);
	broker_stop(broker);
	eventbus_free(bus);
	config_free(cfg);
}
END_TEST

START_TEST(test_disabled_and_bad_url)
{
	struct fm_config *cfg;
	struct eventbus *bus = eventbus_new(NULL);
	struct mqtt_forwarder *fwd;
	char *err = NULL;

	ck_assert_int_eq(config_load(NULL, true, &cfg, &err), FM_OK);
	ck_assert_int_eq(mqtt_start(cfg, bus, &fwd, &err), FM_OK);
	ck_assert_ptr_null(fwd);
	ck_assert_int_eq(
	    config_set(cfg, "mqtt.client.enabled", "true", &err), FM_OK);
	ck_assert_int_eq(
	    config_set(cfg, "mqtt.client.broker", "localhost:1883", &err),
	    FM_OK);
	ck_assert_int_eq(mqtt_start(cfg, bus, &fwd, &err), FM_ERR_INVALID);
	ck_assert_ptr_null(fwd);
	ck_assert_ptr_nonnull(strstr(err, "mqtt.client.broker"));
	free(err);
	config_free(cfg);
	eventbus_free(bus);
}
END_TEST

static Suite *
mqtt_suite(void)
{
	Suite *s = suite_create("mqtt");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_parse_broker);
	tcase_add_test(tc, test_disabled_and_bad_url);
	tcase_add_test(tc, test_events_reach_subscriber);
	tcase_add_test(tc, test_broker_down_at_start_and_restarted);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(mqtt_suite());
	int failed;

	mosquitto_lib_init();
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	mosquitto_lib_cleanup();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
