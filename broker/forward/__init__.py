"""Forwarding each MPP's event log to the province (issue 19).

Theory of operation. The site's SQLite log (broker/server/store.py, table `events`, numbered by `seq`
without gaps) IS the queue. A forwarder process (broker/forward/forwarder.py, `antrian forward`) opens
that log read-only with a connection of its own, so the hall never waits for it, and publishes the
events after its cursor as batches (broker/forward/wire.py) at QoS 1 to `antrian/central/<site>/events`
on the site's own Mosquitto. A Mosquitto bridge in the site's mosquitto.conf (broker/forward/bridge.py)
carries that topic to the province's broker and brings `antrian/central/<site>/ack` back.

At the province the ingest client (broker/forward/ingest.py) hands each batch to a `Sink` (the central
store), and only after the sink committed publishes a retained ack `{"site": ..., "last_seq": N}` and
acknowledges the MQTT message (manual PUBACK over a persistent session, so an ingest killed mid-batch
gets the batch again). The sink ignores what it already has (seq <= its last), so every resend is harmless.

The forwarder keeps at most `window` batches unacknowledged, moves its durable cursor (a small file in
the data folder, replaced atomically) only on acks, and sends again from the acknowledged seq when an
ack is late or the connection to the site broker came back. Nothing therefore depends on Mosquitto's
queues: past `max_queued_messages` a broker drops, no ack comes, and the forwarder sends the same
events again from its log. After days without a link it catches up by itself, window by window.

What the province needs of the site's config (its name, agencies, opening hours and closed days: the
profile, broker/forward/profile.py) rides in the batches too, as an optional field the forwarder adds to
its first batch of each connection and whenever the profile changed; the ingest registers it before the
batch's events. The bridge so still carries only the site's two topics.

A log started anew (`antrian serve --new-log`) numbers from 1 again: the log's id (its epoch, kept in its `meta`)
goes with every batch and the cursor, and the province gives each log of a site a base in the site's one line of
seqs (broker/forward/epoch.py); a batch of a superseded log is refused (docs/forwarding.md).
"""
