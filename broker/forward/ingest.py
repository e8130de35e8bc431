"""The province's ingest client: forwarded batches into a `Sink`, then a retained ack back to the site.

One paho client with a fixed client id and a persistent session (clean_session false) subscribes to
`antrian/central/+/events` at QoS 1 on the province's broker. Acks are manual: the broker's PUBACK goes
out only after the sink committed (or after a malformed batch was dropped), so an ingest killed in the
middle of a batch gets it again from the broker. After each commit it publishes, retained, the sink's last
committed seq of the site on `antrian/central/<site>/ack`, which the site's bridge carries back to its
forwarder. A sink that fails stores nothing and no ack goes out: the forwarder sends again from its log.
Batches that arrive together go to the sink in one call per site. A batch that starts past the sink's last
seq + 1 (the one before it was dropped by a full broker queue) is not handed to the sink: a store that skips
only seq <= its last would otherwise keep the gap for ever. A batch carrying the site's profile
(broker/forward/profile.py) has it registered first, by a sink that has `profile(site_id, profile)`; a sink
that fails to take it is a failed store: no ack, and the forwarder sends it again with the events.

Log epochs (broker/forward/epoch.py): a batch that names its site log has its seqs mapped to the site's one seq
line before anything else looks at them (`base + seq`, the base recorded by the sink when the province first saw
that log), so the gap rule, the sink and the central store see central seqs only; the ack names the log back with
the last seq in that log's own numbers. A batch of a superseded log is refused (counted in `refused`) and
acked not at all. A sink that keeps no logs (no `site_logs`) gets every batch as the site's first log.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from dataclasses import replace

from broker.forward import epoch, wire
from broker.forward.sink import Sink

log = logging.getLogger("antrian.forward.ingest")

CLIENT_ID = "antrian-central-ingest"


class _Turn:
    """The broker's client as one worker's turn sees it: site acks are published at once, the broker's
    acknowledgements kept for the ingest to send in the order the messages came."""

    def __init__(self, client) -> None:
        self.client = client
        self.acks: list[tuple[int, int]] = []

    def publish(self, *args, **kwargs):
        return self.client.publish(*args, **kwargs)

    def ack(self, mid: int, qos: int) -> None:
        self.acks.append((mid, qos))


class Ingest:
    """Ingest every site's batches from the broker at `url` into `sink` until stop().

    Batches that arrived together (a site catching up keeps a window of them in flight) go to the sink in one
    call per site, at most COALESCE messages at a time: a store's cost is mostly per call, not per event.

    Given several sinks (each its own database connection: a store is not shared between threads), the ingest
    runs a worker thread for each, and a site's batches always go to the same one, so they stay in order while
    two sites are stored side by side: on two cores one worker's Python overlaps the database's work for the
    other. `self.sink` is the calling worker's. The broker's acknowledgements still go out in the order the
    messages came (MQTT 3.1.1, 4.6), each once its turn and every earlier one are done."""

    COALESCE = 16

    def __init__(self, sink: Sink | list[Sink] | tuple[Sink, ...], url: str, *, client_id: str = CLIENT_ID):
        import paho.mqtt.client as paho

        from broker.mqtt.connection import BrokerAddress

        self.sinks: list[Sink] = list(sink) if isinstance(sink, list | tuple) else [sink]
        if not self.sinks:
            raise ValueError("an ingest needs a sink")
        self._worker_of = threading.local()  # which worker (lane) a thread is
        self.address = BrokerAddress.parse(url)
        self.batches = 0
        self.held: dict[str, int] = {}  # each site's last seq the sink said it holds
        self.logs: dict[str, list[epoch.SiteLog]] = {}  # each site's logs as the sink keeps them (log epochs)
        self.dropped = 0
        self.refused = 0  # batches of a superseded site log
        self.connected = threading.Event()
        self._inboxes: list[queue.Queue] = [queue.Queue() for _ in self.sinks]
        self._arrived = 0  # messages numbered as they came (paho's one thread numbers them)
        self._acked = 0  # the number of the next message to acknowledge
        self._finished: dict[int, list[tuple[int, int]]] = {}  # number -> (mid, qos) to acknowledge, done, not yet
        self._order = threading.Lock()
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

    @property
    def sink(self) -> Sink:
        """The sink of the worker that asks (the first outside the workers)."""
        return self.sinks[getattr(self._worker_of, "lane", 0)]

    def _on_message(self, client, userdata, message) -> None:
        # paho's thread only queues: the store's commit never holds up the network
        self._inboxes[self._lane(message.topic)].put((self._arrived, message))
        self._arrived += 1

    def _lane(self, topic: str) -> int:
        """The worker of a topic's site: always the same one, so that a site's batches are stored in order."""
        return hash(topic) % len(self.sinks) if len(self.sinks) > 1 else 0  # the same while the process lives

    def _work(self, lane: int) -> None:
        self._worker_of.lane = lane
        inbox = self._inboxes[lane]
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
            turn = _Turn(self.client)
            try:
                self.handle(turn, messages)
            except Exception:  # never let one bad turn end the ingest; the sites send again
                log.exception("ingest failed on %d messages", len(messages))
                turn.acks.clear()  # not acknowledged: the broker sends them again when the ingest reconnects
            self._acknowledge(self.client, taken, turn.acks)

    def _acknowledge(self, client, taken: list, acks: list[tuple[int, int]]) -> None:
        """Acknowledge to the broker what a turn acknowledged, once every message that came before is done: in the
        order the messages came."""
        acked = {mid for mid, _ in acks}
        with self._order:
            for n, message in taken:
                self._finished[n] = [(message.mid, message.qos)] if message.mid in acked else []
            while self._acked in self._finished:
                for mid, qos in self._finished.pop(self._acked):
                    client.ack(mid, qos)
                self._acked += 1

    def handle(self, client, messages: list) -> None:
        """Store the batches of `messages` (in the order they came), one sink call per site, then publish each
        site's ack and acknowledge every message to the broker."""
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
                self.dropped += 1
        for site, batches in by_site.items():
            acks = self._store(site, batches) if self._profile(site, batches) else None
            for last, log_id in acks or ():
                client.publish(wire.ack_topic(site), wire.encode_ack(site, last, log_id), qos=1, retain=True)
        for message in messages:
            client.ack(message.mid, message.qos)

    def _store(self, site: str, batches: list[wire.Batch]) -> list[tuple[int, str | None]] | None:
        """Store what follows the site's last seq in the sink without a gap; the acks to publish, each (the last seq
        in the numbers of a site log, that log's id); None when it failed."""
        try:
            held = self.held.get(site)
            if held is None:  # first batch of the site since this ingest started: ask the store what it holds
                held = self.held[site] = self.sink.ingest(site, ())
            events: list[wire.ForwardedEvent] = []
            end = held
            acks: dict[str | None, epoch.SiteLog | None] = {}  # the logs to ack, in order
            for sent in batches:
                placed = self._place(site, sent)
                if isinstance(placed, epoch.Begin):  # what is pending goes first: the new log's base is the last seq
                    if events:
                        end = self.held[site] = self.sink.ingest(site, events)
                        events = []
                    placed = self._begin(site, sent, placed)
                if isinstance(placed, epoch.Restart):
                    log.warning("%s's log %s is new here but its batch starts at %d: the site is told to send it "
                                "from its start", site, sent.log, sent.first)
                    acks[sent.log] = None
                    continue
                if isinstance(placed, epoch.Superseded):
                    log.warning("%s's batch %d..%d of log %s is refused: the site's log %s superseded it", site,
                                sent.first, sent.last, sent.log or "(unnamed)", placed.current)
                    self.refused += 1
                    continue
                if not isinstance(placed, epoch.Map):  # a Begin is a Map once recorded
                    continue
                batch = _shifted(sent, placed.base)
                acks.pop(sent.log, None)
                acks[sent.log] = epoch.SiteLog(sent.log or "", placed.base)
                if batch.first > end + 1:  # one before it was lost on the way: storing it would leave a gap
                    log.info("%s %d..%d follows a gap after %d: dropped, the site sends again", site, batch.first,
                             batch.last, end)
                    continue
                events += [e for e in batch.events if e.seq > end]
                end = max(end, batch.last)
            if events:
                end = self.held[site] = self.sink.ingest(site, events)
                self.batches += len(batches)
            else:
                end = self.held[site]
            return [(0 if known is None else epoch.local_seq(end, known), log_id) for log_id, known in acks.items()]
        except Exception as exc:  # the store is down or refused: nothing stored, no ack; the site sends again
            log.error("the central store did not take %s's batches %d..%d: %s", site, batches[0].first,
                      batches[-1].last, exc)
            self.held.pop(site, None)
            self.logs.pop(site, None)
            return None

    def _profile(self, site: str, batches: list[wire.Batch]) -> bool:
        """Register the newest profile the site's batches carry (if the sink takes profiles); False if it failed."""
        carried = [b.profile for b in batches if b.profile is not None]
        register = getattr(self.sink, "profile", None)
        if not carried or register is None:
            return True
        try:
            register(site, carried[-1])
        except Exception as exc:  # nothing of the site is acknowledged: the forwarder sends it all again
            log.error("the central store did not take %s's profile: %s", site, exc)
            return False
        log.info("profile of %s registered", site)
        return True

    def _place(self, site: str, batch: wire.Batch) -> epoch.Placement:
        logs = self.logs.get(site)
        if logs is None:
            site_logs = getattr(self.sink, "site_logs", None)
            found = site_logs(site) if site_logs is not None else None
            if found is None:  # a sink without log epochs: every batch is of the site's first log
                return epoch.Map(0)
            logs = self.logs[site] = list(found)
        return epoch.place(logs, batch.log, batch.adopted, batch.first)

    def _begin(self, site: str, batch: wire.Batch, begin: epoch.Begin) -> epoch.Placement:
        """Record a log the province sees for the first time; where its batch goes then."""
        assert batch.log is not None
        logs = self.logs[site] = list(self.sink.add_site_log(site, batch.log, adopt=begin.adopt))  # type: ignore[attr-defined]
        placed = epoch.place(logs, batch.log, batch.adopted, batch.first)
        if isinstance(placed, epoch.Map) and placed.base:
            log.warning("%s's log %s is new: its seq 1 is the site's central seq %d", site, batch.log, placed.base + 1)
        return placed

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


def _shifted(batch: wire.Batch, base: int) -> wire.Batch:
    """The batch with its events' seqs in the site's central numbers (base + seq)."""
    if not base:
        return batch
    return replace(batch, events=tuple(replace(e, seq=e.seq + base) for e in batch.events))
