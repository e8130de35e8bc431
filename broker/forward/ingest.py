"""The province's ingest client: forwarded batches into a `Sink`, then a retained ack back to the site.

One paho client with a fixed client id and a persistent session (clean_session false) subscribes to
`antrian/central/+/events` at QoS 1 on the province's broker. Acks are manual: the broker's PUBACK goes
out only after the sink committed (or after a malformed batch was dropped), so an ingest killed in the
middle of a batch gets it again from the broker. After each commit it publishes, retained, the sink's last
committed seq of the site on `antrian/central/<site>/ack`, which the site's bridge carries back to its
forwarder. A sink that fails stores nothing and no ack goes out: the forwarder sends again from its log.
A batch that starts past the sink's last seq + 1 (the one before it was dropped by a full broker queue) is
not handed to the sink: a store that skips only seq <= its last would otherwise keep the gap for ever.
"""

from __future__ import annotations

import logging
import os
import threading

from broker.forward import wire
from broker.forward.sink import Sink

log = logging.getLogger("antrian.forward.ingest")

CLIENT_ID = "antrian-central-ingest"


class Ingest:
    """Ingest every site's batches from the broker at `url` into `sink` until stop()."""

    def __init__(self, sink: Sink, url: str, *, client_id: str = CLIENT_ID):
        import paho.mqtt.client as paho

        from broker.mqtt.connection import BrokerAddress

        self.sink = sink
        self.address = BrokerAddress.parse(url)
        self.batches = 0
        self.held: dict[str, int] = {}  # each site's last seq the sink said it holds
        self.dropped = 0
        self.connected = threading.Event()
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
                             protocol=paho.MQTTv311, manual_ack=True)
        if self.address.username:
            client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            client.tls_set(ca_certs=os.environ.get("ANTRIAN_MQTT_CA"))
        client.reconnect_delay_set(1, 5)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        self.client = client

    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        if reason.is_failure:
            log.warning("the province broker refused the ingest: %s", reason)
            return
        client.subscribe(wire.EVENTS_FILTER, qos=1)
        self.connected.set()
        log.info("ingest connected to %s", self.address)

    def _on_disconnect(self, client, userdata, flags, reason, properties) -> None:
        self.connected.clear()
        log.warning("ingest lost the province broker (%s); reconnecting", reason)

    def _on_message(self, client, userdata, message) -> None:
        site = wire.site_of(message.topic)
        try:
            if site is None or not message.topic.endswith("/events"):
                raise wire.WireError(f"not an events topic: {message.topic}")
            batch = wire.decode_batch(message.payload, site)
        except wire.WireError as exc:
            log.warning("a batch on %s was dropped: %s", message.topic, exc)
            self.dropped += 1
            client.ack(message.mid, message.qos)
            return
        try:
            held = self.held.get(site)
            if held is None:  # first batch of the site since this ingest started: ask the store what it holds
                held = self.held[site] = self.sink.ingest(site, ())
            if batch.first > held + 1:  # a batch lost on the way before this one: storing it would leave a gap
                log.info("%s %d..%d follows a gap after %d: dropped, the site sends again from %d",
                         site, batch.first, batch.last, held, held)
                last = held
            else:
                last = self.held[site] = self.sink.ingest(site, batch.events)
        except Exception as exc:  # the store is down or refused: nothing stored, no ack; the site sends again
            log.error("the central store did not take %s %d..%d: %s", site, batch.first, batch.last, exc)
            self.held.pop(site, None)
            client.ack(message.mid, message.qos)
            return
        client.publish(wire.ack_topic(site), wire.encode_ack(site, last), qos=1, retain=True)
        client.ack(message.mid, message.qos)
        self.batches += 1

    def start(self) -> Ingest:
        self.client.connect_async(self.address.host, self.address.port, keepalive=30)
        self.client.loop_start()
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
