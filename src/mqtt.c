/*
 * MQTT forwarding over libmosquitto. Two threads: libmosquitto's network
 * thread (mosquitto_loop_start) connects, reconnects with back-off and
 * does the I/O; ours waits on the bus subscription and hands each event
 * to mosquitto_publish, which only queues it for the network thread.
 */
#include "mqtt.h"

#include <mosquitto.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "eventbus.h"
#include "log.h"
#include "timeutil.h"
#include "xmalloc.h"

#define KEEPALIVE_S     30
#define RECONNECT_MIN_S 1
#define RECONNECT_MAX_S 30
/* QoS 1 messages the broker has not acknowledged yet; more wait in
 * libmosquitto's queue. */
#define MAX_INFLIGHT 100
#define STOP_WAIT_US (1000 * 1000LL)

struct mqtt_forwarder {
	struct mosquitto *mosq;
	struct eventbus *bus;
	struct eventbus_sub *sub;
	char *prefix;
	char *broker; /* for log lines */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool pending; /* the bus queued something since we last looked */
	bool stop;
	atomic_bool connected;
	atomic_uint_fast64_t sent, dropped;
	bool dropping; /* logged that events are being dropped */
};

static int lib_users; /* mosquitto_lib_init is process-wide */
static pthread_mutex_t lib_lock = PTHREAD_MUTEX_INITIALIZER;

enum fm_err
mqtt_parse_broker(const char *url, char **host_out, int *port_out,
    bool *tls_out, const char **why_out)
{
	static const struct {
		const char *scheme;
		bool tls;
	} schemes[] = {
		{ "tcp://", false },
		{ "mqtt://", false },
		{ "ssl://", true },
		{ "mqtts://", true },
		{ "tls://", true },
	};
	const char *rest = NULL, *colon, *end;
	size_t hostlen;
	long port;

	*host_out = NULL;
	*why_out = NULL;
	for (size_t i = 0; i < nitems(schemes) && rest == NULL; i++) {
		size_t n = strlen(schemes[i].scheme);

		if (strncmp(url, schemes[i].scheme, n) == 0) {
			rest = url + n;
			*tls_out = schemes[i].tls;
		}
	}
	if (rest == NULL) {
		*why_out = "expected tcp://HOST:PORT or ssl://HOST:PORT";
		return FM_ERR_INVALID;
	}
	end = rest + strcspn(rest, "/");
	if (*end == '/' && end[1] != '\0') {
		*why_out = "a broker URL has no path";
		return FM_ERR_INVALID;
	}
	if (rest[0] == '[') { /* [v6]:port */
		const char *close = memchr(rest, ']', (size_t)(end - rest));

		if (close == NULL) {
			*why_out = "unclosed [ in the host";
			return FM_ERR_INVALID;
		}
		rest++;
		hostlen = (size_t)(close - rest);
		colon = close + 1 < end && close[1] == ':' ? close + 1 : NULL;
	} else {
		colon = memchr(rest, ':', (size_t)(end - rest));
		hostlen = (size_t)((colon != NULL ? colon : end) - rest);
	}
	if (hostlen == 0) {
		*why_out = "the broker URL names no host";
		return FM_ERR_INVALID;
	}
	port = *tls_out ? 8883 : 1883;
	if (colon != NULL) {
		char *pend;

		port = strtol(colon + 1, &pend, 10);
		if (pend == colon + 1 || pend != end || port < 1 ||
		    port > 65535) {
			*why_out = "the port must be a number from 1 to 65535";
			return FM_ERR_INVALID;
		}
	}
	*host_out = xstrndup(rest, hostlen);
	*port_out = (int)port;
	return FM_OK;
}

/* --- libmosquitto's callbacks, on its network thread --------------- */

static void
on_connect(struct mosquitto *mosq, void *arg, int rc)
{
	struct mqtt_forwarder *fwd = arg;

	(void)mosq;
	if (rc != 0) {
		log_warn("MQTT broker %s refused the connection: %s",
		    fwd->broker, mosquitto_connack_string(rc));
		return;
	}
	atomic_store(&fwd->connected, true);
	log_info("MQTT connected to %s", fwd->broker);
}

static void
on_disconnect(struct mosquitto *mosq, void *arg, int rc)
{
	struct mqtt_forwarder *fwd = arg;

	(void)mosq;
	/* rc 0 is our own disconnect at shutdown. */
	if (atomic_exchange(&fwd->connected, false) && rc != 0)
		log_warn("MQTT lost the connection to %s (%s); reconnecting",
		    fwd->broker, mosquitto_strerror(rc));
}

/* --- the forwarding thread ----------------------------------------- */

/* Called under the bus lock: only flag and signal. */
static void
bus_wake(void *arg)
{
	struct mqtt_forwarder *fwd = arg;

	pthread_mutex_lock(&fwd->lock);
	fwd->pending = true;
	pthread_cond_signal(&fwd->wake);
	pthread_mutex_unlock(&fwd->lock);
}

static void
drop(struct mqtt_forwarder *fwd, uint64_t n, const char *why)
{
	atomic_fetch_add(&fwd->dropped, n);
	if (!fwd->dropping)
		log_warn("MQTT: dropping events (%s)", why);
	fwd->dropping = true;
}

static void
forward(struct mqtt_forwarder *fwd, const struct bus_event *ev)
{
	char *topic;
	int rc;

	if (!atomic_load(&fwd->connected)) {
		drop(fwd, 1, "broker not connected");
		return;
	}
	topic = xasprintf("%s%s", fwd->prefix, ev->topic);
	rc = mosquitto_publish(
	    fwd->mosq, NULL, topic, (int)ev->data_len, ev->data, 1, false);
	free(topic);
	if (rc != MOSQ_ERR_SUCCESS) {
		drop(fwd, 1, mosquitto_strerror(rc));
		return;
	}
	if (fwd->dropping)
		log_info("MQTT: forwarding events again");
	fwd->dropping = false;
	atomic_fetch_add(&fwd->sent, 1);
}

/* Forward everything queued; false when the subscription overflowed. */
static bool
drain(struct mqtt_forwarder *fwd)
{
	struct bus_event *ev;
	enum eventbus_next n;

	while ((n = eventbus_next(fwd->sub, &ev)) == EVENTBUS_EVENT) {
		forward(fwd, ev);
		bus_event_unref(ev);
	}
	return n != EVENTBUS_OVERFLOW;
}

static void
subscribe(struct mqtt_forwarder *fwd)
{
	bool resync;

	fwd->sub = eventbus_subscribe(
	    fwd->bus, &eventbus_everything, bus_wake, fwd, 0, &resync);
}

static void *
forwarder_main(void *arg)
{
	struct mqtt_forwarder *fwd = arg;
	bool stop = false;

	while (!stop) {
		pthread_mutex_lock(&fwd->lock);
		while (!fwd->pending && !fwd->stop)
			pthread_cond_wait(&fwd->wake, &fwd->lock);
		fwd->pending = false;
		stop = fwd->stop;
		pthread_mutex_unlock(&fwd->lock);
		if (!drain(fwd)) {
			/* Fell a queue behind: the events are gone, start
			 * afresh rather than stop forwarding. */
			eventbus_unsubscribe(fwd->sub);
			drop(fwd, 0, "fell behind the event bus");
			subscribe(fwd);
		}
	}
	return NULL;
}

/* --- start and stop ------------------------------------------------ */

static void
lib_ref(bool take)
{
	pthread_mutex_lock(&lib_lock);
	if (take && lib_users++ == 0)
		mosquitto_lib_init();
	if (!take && --lib_users == 0)
		mosquitto_lib_cleanup();
	pthread_mutex_unlock(&lib_lock);
}

enum fm_err
mqtt_start(const struct fm_config *cfg, struct eventbus *bus,
    struct mqtt_forwarder **fwd_out, char **err_out)
{
	struct mqtt_forwarder *fwd;
	const char *why;
	char *host = NULL;
	bool tls = false;
	int port = 0, rc;

	*fwd_out = NULL;
	*err_out = NULL;
	if (!cfg->mqtt_enabled)
		return FM_OK;
	if (mqtt_parse_broker(cfg->mqtt_broker, &host, &port, &tls, &why) !=
	    FM_OK) {
		*err_out = xasprintf(
		    "mqtt.client.broker \"%s\": %s", cfg->mqtt_broker, why);
		return FM_ERR_INVALID;
	}
	lib_ref(true);
	fwd = xcalloc(1, sizeof(*fwd));
	fwd->bus = bus;
	fwd->prefix = xstrdup(cfg->mqtt_topic_prefix);
	fwd->broker = xstrdup(cfg->mqtt_broker);
	pthread_mutex_init(&fwd->lock, NULL);
	pthread_cond_init(&fwd->wake, NULL);
	fwd->mosq = mosquitto_new(
	    cfg->mqtt_client_id[0] != '\0' ? cfg->mqtt_client_id : NULL, true,
	    fwd);
	if (fwd->mosq == NULL)
		fatal("cannot create an MQTT client");
	mosquitto_int_option(
	    fwd->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	mosquitto_max_inflight_messages_set(fwd->mosq, MAX_INFLIGHT);
	mosquitto_reconnect_delay_set(
	    fwd->mosq, RECONNECT_MIN_S, RECONNECT_MAX_S, true);
	mosquitto_connect_callback_set(fwd->mosq, on_connect);
	mosquitto_disconnect_callback_set(fwd->mosq, on_disconnect);
	if (cfg->mqtt_username[0] != '\0')
		mosquitto_username_pw_set(fwd->mosq, cfg->mqtt_username,
		    cfg->mqtt_password[0] != '\0' ? cfg->mqtt_password : NULL);
	if (tls &&
	    (rc = mosquitto_tls_set(fwd->mosq, NULL, "/etc/ssl/certs", NULL,
	         NULL, NULL)) != MOSQ_ERR_SUCCESS) {
		*err_out = xasprintf(
		    "MQTT TLS set-up failed: %s", mosquitto_strerror(rc));
		free(host);
		mqtt_stop(fwd);
		return FM_ERR_INVALID;
	}
	if (mosquitto_loop_start(fwd->mosq) != MOSQ_ERR_SUCCESS)
		fatal("cannot start the MQTT network thread");
	/* Refused or unreachable now is fine: the network thread retries
	 * with back-off until the broker is there. */
	rc = mosquitto_connect_async(fwd->mosq, host, port, KEEPALIVE_S);
	if (rc != MOSQ_ERR_SUCCESS)
		log_warn("MQTT broker %s not reachable yet (%s); will retry",
		    fwd->broker, mosquitto_strerror(rc));
	free(host);
	subscribe(fwd);
	if (pthread_create(&fwd->thread, NULL, forwarder_main, fwd) != 0)
		fatal("cannot start the MQTT forwarder thread");
	log_info("MQTT forwarding events to %s with topic prefix \"%s\"",
	    fwd->broker, fwd->prefix);
	*fwd_out = fwd;
	return FM_OK;
}

bool
mqtt_connected(struct mqtt_forwarder *fwd)
{
	return fwd != NULL && atomic_load(&fwd->connected);
}

void
mqtt_counts(
    struct mqtt_forwarder *fwd, uint64_t *sent_out, uint64_t *dropped_out)
{
	*sent_out = fwd != NULL ? atomic_load(&fwd->sent) : 0;
	*dropped_out = fwd != NULL ? atomic_load(&fwd->dropped) : 0;
}

void
mqtt_stop(struct mqtt_forwarder *fwd)
{
	if (fwd == NULL)
		return;
	if (fwd->sub != NULL) {
		pthread_mutex_lock(&fwd->lock);
		fwd->stop = true;
		pthread_cond_signal(&fwd->wake);
		pthread_mutex_unlock(&fwd->lock);
		pthread_join(fwd->thread, NULL); /* it drains once more */
		eventbus_unsubscribe(fwd->sub);
		/* Give the network thread a moment to send what is queued,
		 * such as the manager-shutdown event. */
		for (int64_t t0 = time_mono_us();
		     atomic_load(&fwd->connected) &&
		     mosquitto_want_write(fwd->mosq) &&
		     time_mono_us() - t0 < STOP_WAIT_US;)
			nanosleep(
			    &(struct timespec){ .tv_nsec = 10000000 }, NULL);
		mosquitto_disconnect(fwd->mosq);
		mosquitto_loop_stop(fwd->mosq, false);
	}
	mosquitto_destroy(fwd->mosq);
	pthread_mutex_destroy(&fwd->lock);
	pthread_cond_destroy(&fwd->wake);
	free(fwd->prefix);
	free(fwd->broker);
	free(fwd);
	lib_ref(false);
}
