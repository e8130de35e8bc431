"""The province's ingest client: forwarded batches into a `Sink`, then a retained ack back to the site.

One paho client with a fixed client id and a persistent session (clean_session false) subscribes to
`antrian/central/+/events` at QoS 1 on the province's broker. Acks are manual: the broker's PUBACK goes
out only after the sink committed (or after a malformed batch was dropped), so an ingest killed in the
middle of a batch gets it again from the broker. After each commit it publishes, retained, the sink's last
committed seq of the site on `antrian/central/<site>/ack`, which the site's bridge carries back to its
forwarder. A sink that fails stores nothing and no ack goes out: the forwarder sends again from its log.
Batches that arrive together go to the sink in one call per site. A batch that starts past the sink's last
seq + 1 (the one before it was dropped by a full broker queue) is not handed to the sink: a store that skips
only seq <= its last would otherwise keep the gap for ever.

Given several sinks (each its own database connection), the ingest runs a worker thread for each, and a
site's batches always go to the same one, so they stay in order while two sites are stored side by side:
on two cores one worker's Python overlaps the database's work for the other. The broker's acknowledgements
still go out in the order the messages came (MQTT 3.1.1, 4.6), each once its turn and every earlier one
are done.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import zlib
from collections.abc import Sequence

from broker.forward import wire
from broker.forward.sink import Sink

log = logging.getLogger("antrian.forward.ingest")

CLIENT_ID = "antrian-central-ingest"


class Ingest:
    """Ingest every site's batches from the broker at `url` into `sink` until stop().

    Batches that arrived together (a site catching up keeps a window of them in flight) go to the sink in one
    call per site, at most COALESCE messages at a time: a store's cost is mostly per call, not per event.
    `sink` may be a list of sinks, one worker thread each (not shared between threads: a store each)."""

    COALESCE = 16

    def __init__(self, sink: Sink | Sequence[Sink], url: str, *, client_id: str = CLIENT_ID):
        import paho.mqtt.client as paho

        from broker.mqtt.connection import BrokerAddress

        self.sinks: list[Sink] = list(sink) if isinstance(sink, list | tuple) else [sink]  # type: ignore[list-item]
        if not self.sinks:
            raise ValueError("an ingest needs a sink")
        self.sink = self.sinks[0]
        self.address = BrokerAddress.parse(url)
        self.batches = 0
        self.held: dict[str, int] = {}  # each site's last seq the sink said it holds (a site is one worker's)
        self.dropped = 0
        self.connected = threading.Event()
        self._inboxes: list[queue.Queue] = [queue.Queue() for _ in self.sinks]
        self._arrived = 0  # messages numbered as they came (paho's one thread numbers them)
        self._acked = 0  # the number of the next message to acknowledge
        self._finished: dict[int, object] = {}  # number -> message (None: not to acknowledge), done, not acked
        self._order = threading.Lock()
        self._count = threading.Lock()
        self._stopping = threading.Event()
        self._workers: list[threading.Thread] = []
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
        # paho's thread only queues: the store's commit never holds up the network
        self._inboxes[self._lane(message.topic)].put((self._arrived, message))
        self._arrived += 1

    def _lane(self, topic: str) -> int:
        """The worker of a topic's site: always the same one, so a site's batches are stored in order."""
        return zlib.crc32(topic.encode()) % len(self.sinks) if len(self.sinks) > 1 else 0

    def _work(self, lane: int) -> None:
        inbox, sink = self._inboxes[lane], self.sinks[lane]
        while not self._stopping.is_set():
            try:
                taken = [inbox.get(timeout=0.5)]
            except queue.Empty:
                continue
            while len(taken) < self.COALESCE:
                try:
                    taken.append(inbox.get_nowait())
                except queue.Empty:
                    break
            messages = [m for _, m in taken]
            done = True
            try:
                self._turn(self.client, messages, sink)
            except Exception:  # never let one bad turn end the ingest; the sites send again
                log.exception("ingest failed on %d messages", len(messages))
                done = False  # not acknowledged: the broker sends them again when the ingest reconnects
            self._acknowledge(self.client, [(n, m if done else None) for n, m in taken])

    def _acknowledge(self, client, finished: list[tuple[int, object]]) -> None:
        """Acknowledge to the broker every message done whose earlier ones are all done: in the order they came."""
        with self._order:
            self._finished.update(finished)
            while self._acked in self._finished:
                message = self._finished.pop(self._acked)
                self._acked += 1
                if message is not None:
                    client.ack(message.mid, message.qos)  # type: ignore[attr-defined]

    def handle(self, client, messages: list) -> None:
        """Store the batches of `messages` (in the order they came), one sink call per site, then publish each
        site's ack and acknowledge every message to the broker."""
        self._turn(client, messages, self.sink)
        for message in messages:
            client.ack(message.mid, message.qos)

    def _turn(self, client, messages: list, sink: Sink) -> None:
        """Store the batches of `messages` into `sink`, one call per site, and publish each site's ack."""
        by_site: dict[str, list[wire.Batch]] = {}
        for message in messages:
            site = wire.site_of(message.topic)
            try:
                if site is None or not message.topic.endswith("/events"):
                    raise wire.WireError(f"not an events topic: {message.topic}")
                batch = wire.decode_batch(message.payload, site)
                by_site.setdefault(site, []).append(batch)
            except wire.WireError as exc:
                log.warning("a batch on %s was dropped: %s", message.topic, exc)
                with self._count:
                    self.dropped += 1
        for site, batches in by_site.items():
            last = self._store(site, batches, sink)
            if last is not None:
                client.publish(wire.ack_topic(site), wire.encode_ack(site, last), qos=1, retain=True)

    def _store(self, site: str, batches: list[wire.Batch], sink: Sink) -> int | None:
        """The site's last seq in the sink after storing what follows it without a gap; None when it failed."""
        try:
            held = self.held.get(site)
            if held is None:  # first batch of the site since this ingest started: ask the store what it holds
                held = self.held[site] = sink.ingest(site, ())
            events: list[wire.ForwardedEvent] = []
            end = held
            for batch in batches:
                if batch.first > end + 1:  # one before it was lost on the way: storing it would leave a gap
                    log.info("%s %d..%d follows a gap after %d: dropped, the site sends again", site, batch.first,
                             batch.last, end)
                    continue
                events += [e for e in batch.events if e.seq > end]
                end = max(end, batch.last)
            if not events:
                return held
            self.held[site] = last = sink.ingest(site, events)
            with self._count:
                self.batches += len(batches)
            return last
        except Exception as exc:  # the store is down or refused: nothing stored, no ack; the site sends again
            log.error("the central store did not take %s's batches %d..%d: %s", site, batches[0].first,
                      batches[-1].last, exc)
            self.held.pop(site, None)
            return None

    def start(self) -> Ingest:
        self._start_workers()
        self.client.connect_async(self.address.host, self.address.port, keepalive=30)
        self.client.loop_start()
        return self

    def _start_workers(self) -> None:
        self._workers = [threading.Thread(target=self._work, args=(lane,), name=f"ingest-{lane}", daemon=True)
                         for lane in range(len(self.sinks))]
        for worker in self._workers:
            worker.start()

    def stop(self) -> None:
        self._stopping.set()
        for worker in self._workers:
            worker.join(30)
        self.client.disconnect()
        self.client.loop_stop()
