/*
 * The MQTT forwarder: every event of the bus goes to a broker, as Flamenco
 * sends them (topic = mqtt.client.topic_prefix + the event's topic, payload
 * = the event's JSON, QoS 1). libmosquitto's own thread talks to the broker
 * and reconnects by itself; the forwarder's thread moves events from the
 * bus to it. While the broker is away events are dropped (and counted), so
 * a dead broker never costs the Manager memory or time.
 */
#ifndef FM_MQTT_H
#define FM_MQTT_H

#include <stdbool.h>
#include <stdint.h>

#include "fm.h"

struct fm_config;
struct eventbus;
struct mqtt_forwarder;

/*
 * Parse a broker URL (tcp://, mqtt://, ssl://, mqtts://, tls://; the port
 * defaults to 1883, or 8883 with TLS) into host_out (new), port_out and
 * tls_out. FM_ERR_INVALID with *why_out (static text) when malformed.
 */
FM_MUST_CHECK enum fm_err mqtt_parse_broker(const char *url, char **host_out,
    int *port_out, bool *tls_out, const char **why_out);

/*
 * Start forwarding bus events when cfg->mqtt_enabled; *fwd_out stays NULL
 * when disabled. A broker that is down is not an error: the forwarder
 * keeps trying in the background. A malformed broker URL is, with one
 * line in *err_out (new).
 */
FM_MUST_CHECK enum fm_err mqtt_start(const struct fm_config *cfg,
    struct eventbus *bus, struct mqtt_forwarder **fwd_out, char **err_out);

/*
 * Publish what is queued (waiting at most a second for the broker to take
 * it), disconnect and free. NULL-safe.
 */
void mqtt_stop(struct mqtt_forwarder *fwd);

/* Whether the broker connection is up now. */
bool mqtt_connected(struct mqtt_forwarder *fwd);

/* Events published and dropped (broker away or forwarder behind). */
void mqtt_counts(
    struct mqtt_forwarder *fwd, uint64_t *sent_out, uint64_t *dropped_out);

#endif
