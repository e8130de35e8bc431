"""Log epochs (docs/forwarding.md): a site log started anew numbers from 1 again, and the province keeps it apart.

The pure parts: where the central store puts a batch of a log (broker/forward/epoch.py `place`), where a forwarder
starts and which acks count for its log (broker/forward/forwarder.py `cursor_start`, `ack_applies`), the wire's
optional `log` fields; then the ingest's mapping end to end into the SQLite sink, and the site log's id itself.
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from broker.forward import wire
from broker.forward.epoch import Begin, Map, Restart, SiteLog, Superseded, local_seq, place
from broker.forward.forwarder import (
    InFlight,
    LogIdentity,
    Window,
    ack_applies,
    acknowledged,
    cursor_start,
    read_cursor,
    read_cursor_of_log,
    write_cursor,
)
from broker.forward.forwarder import (
    SiteLog as ForwardedLog,
)
from broker.forward.ingest import Ingest
from broker.forward.sink import SqliteSink
from broker.server.store import EventStore, StoreError
from unit.test_forwarder import _Client, _Message  # the broker stand-ins the ingest is fed through

SITE = "62.01-uji"
A, B, C = SiteLog("aaaa", 0), SiteLog("bbbb", 500), SiteLog("cccc", 800)


# ---------------------------------------------------------------------- the province's placement


def test_an_unnamed_batch_is_the_sites_first_log_until_a_new_log_supersedes_it():
    assert place([], None, False, 1) == Map(0)
    assert place([], None, False, 301) == Map(0)
    assert place([A], None, False, 301) == Map(0)  # an old forwarder on the log that got the id aaaa
    assert place([A, B], None, False, 301) == Superseded("bbbb")


def test_a_known_log_maps_by_its_base_and_an_older_one_is_refused():
    assert place([A, B], "bbbb", False, 7) == Map(500)
    assert place([A, B], "aaaa", False, 501) == Superseded("bbbb")
    assert place([A, B, C], "bbbb", False, 1) == Superseded("cccc")
    assert place([A, B, C], "cccc", False, 1) == Map(800)


def test_a_first_seen_log_begins_at_seq_1_or_is_the_named_first_log_or_is_told_to_restart():
    assert place([], "aaaa", True, 4001) == Begin(adopt=True)  # the log that ran before ids, its cursor kept
    assert place([], "aaaa", True, 1) == Begin(adopt=True)  # ... whose cursor was lost: its duplicates are skipped
    assert place([], "aaaa", False, 1) == Begin(adopt=False)  # a new site, or a new log after an unnamed one
    assert place([A], "bbbb", False, 1) == Begin(adopt=False)
    assert place([A], "bbbb", True, 1) == Begin(adopt=False)  # adopted only ever names the site's first log
    assert place([A], "bbbb", False, 301) == Restart()
    assert place([], "aaaa", False, 301) == Restart()


def test_the_ack_counts_in_the_logs_own_numbers():
    assert local_seq(530, B) == 30
    assert local_seq(530, None) == 530
    assert local_seq(400, B) == 0  # a central restored from an older backup: the log is sent again from 1


# ---------------------------------------------------------------------- the forwarder's start and its acks


NEW, ADOPTED, UNNAMED = LogIdentity("bbbb"), LogIdentity("aaaa", adopted=True), LogIdentity()


def test_a_cursor_of_another_log_restarts_at_0_for_the_new_log():
    assert cursor_start("bbbb", 900, NEW) == 900
    assert cursor_start("aaaa", 900, NEW) == 0  # the log was started anew: its seqs begin at 1 again
    assert cursor_start(None, 900, NEW) == 0  # a cursor from before ids cannot be a log born with an id's
    assert cursor_start(None, 900, ADOPTED) == 900  # ... but is the adopted log's own
    assert cursor_start(None, 900, UNNAMED) == 900  # a log the engine has not named yet
    assert cursor_start("aaaa", 900, ADOPTED) == 900
    assert cursor_start("zzzz", 900, ADOPTED) == 0


def test_an_ack_of_another_log_never_moves_the_window():
    window = Window(0, (InFlight(1, 50, 0.0), InFlight(51, 100, 0.0)))
    assert not ack_applies("aaaa", 5000, window, NEW)  # the old log's retained ack
    assert ack_applies("bbbb", 50, window, NEW)
    assert not ack_applies(None, 5000, window, NEW)  # an unnamed retained ack past anything sent
    assert ack_applies(None, 100, window, NEW)  # an old province confirming a batch sent
    assert ack_applies(None, 5000, window, ADOPTED) and ack_applies(None, 5000, window, UNNAMED)
    assert not ack_applies("aaaa", 5000, window, UNNAMED)
    # what the shell then does with an ack that applies: as before
    assert acknowledged(window, 50) == Window(50, (InFlight(51, 100, 0.0),))


def test_the_cursor_file_remembers_its_log(tmp_path):
    write_cursor(tmp_path, SITE, 42, "bbbb")
    assert read_cursor_of_log(tmp_path, SITE) == ("bbbb", 42)
    assert read_cursor(tmp_path, SITE) == 42
    write_cursor(tmp_path, SITE, 7)
    assert read_cursor_of_log(tmp_path, SITE) == (None, 7)
    (tmp_path / "forward-cursor.json").write_text(json.dumps({"site": SITE, "acked": 9}))  # a cursor before ids
    assert read_cursor_of_log(tmp_path, SITE) == (None, 9)


# ---------------------------------------------------------------------- the wire


def test_a_batch_and_an_ack_name_their_log_or_not():
    rows = [(1, 1.0, "ticket_issued", "{}"), (2, 2.0, "ticket_issued", "{}")]
    assert wire.decode_batch(wire.encode_rows(SITE, rows), SITE).log is None
    batch = wire.decode_batch(wire.encode_rows(SITE, rows, log="bbbb"), SITE)
    assert (batch.log, batch.adopted, batch.first, batch.last) == ("bbbb", False, 1, 2)
    assert wire.decode_batch(wire.encode_rows(SITE, rows, log="aaaa", adopted=True), SITE).adopted
    assert json.loads(wire.encode_ack(SITE, 5)) == {"site": SITE, "last_seq": 5}  # as a forwarder before ids reads it
    assert wire.decode_ack_of_log(wire.encode_ack(SITE, 5, "bbbb"), SITE) == (5, "bbbb")
    assert wire.decode_ack(wire.encode_ack(SITE, 5, "bbbb"), SITE) == 5
    doc = json.loads(wire.encode_rows(SITE, rows))
    for bad in ({"log": 7}, {"log": "a b"}, {"log": ""}, {"log": "x", "adopted": "yes"}):
        with pytest.raises(wire.WireError):
            wire.decode_batch(json.dumps(doc | bad).encode(), SITE)
    with pytest.raises(ValueError):
        wire.encode_rows(SITE, rows, log="no/slash")


# ---------------------------------------------------------------------- the ingest's mapping, into SQLite


def _batch(first: int, last: int, log: str | None = None, adopted: bool = False, tag: str = "") -> bytes:
    return wire.encode_rows(SITE, [(s, float(s), "ticket_issued", json.dumps({"ticket": f"{tag}{s}"}))
                                   for s in range(first, last + 1)], log=log, adopted=adopted)


def test_the_ingest_puts_a_new_log_after_the_old_one_and_refuses_the_old_one_after(tmp_path):
    sink, client = SqliteSink(tmp_path / "central.sqlite3"), _Client()
    ingest = Ingest(sink, "mqtt://127.0.0.1:1")  # never connected: its callbacks are fed here
    topic = wire.events_topic(SITE)
    acks = lambda: [wire.decode_ack_of_log(p, SITE) for _, p, _ in client.published]

    # a site forwarding before log ids, then its log named (adopted) with the cursor kept
    ingest.handle(client, [_Message(1, topic, _batch(1, 40, tag="a"))])
    ingest.handle(client, [_Message(2, topic, _batch(41, 60, "aaaa", adopted=True, tag="a"))])
    assert acks() == [(40, None), (60, "aaaa")]
    # the log is started anew: bbbb from seq 1, with a late unnamed batch of the old log in the same turn
    ingest.handle(client, [_Message(3, topic, _batch(1, 30, "bbbb", tag="b")),
                           _Message(4, topic, _batch(61, 70, tag="a")),
                           _Message(5, topic, _batch(31, 45, "bbbb", tag="b"))])
    assert acks()[-1] == (45, "bbbb") and ingest.refused == 1
    # the old log's forwarder, still running on the moved-aside file, is refused and not acked
    before = len(client.published)
    ingest.handle(client, [_Message(6, topic, _batch(61, 80, "aaaa", adopted=True, tag="a"))])
    assert len(client.published) == before and ingest.refused == 2
    # a resend of bbbb and its next batch; a log new here whose batch does not start at 1 is told to restart
    ingest.handle(client, [_Message(7, topic, _batch(1, 45, "bbbb", tag="b")),
                           _Message(8, topic, _batch(46, 50, "bbbb", tag="b"))])
    ingest.handle(client, [_Message(9, topic, _batch(9, 12, "cccc", tag="c"))])
    assert acks()[-2:] == [(50, "bbbb"), (0, "cccc")]
    assert client.acked == list(range(1, 10))

    stored = [(seq, json.loads(data)["ticket"]) for seq, data in sqlite3.connect(tmp_path / "central.sqlite3").execute(
        "SELECT seq, data FROM events WHERE site = ? ORDER BY seq", (SITE,))]
    assert stored == [(s, f"a{s}") for s in range(1, 61)] + [(60 + s, f"b{s}") for s in range(1, 51)]
    assert sink.site_logs(SITE) == [SiteLog("aaaa", 0), SiteLog("bbbb", 60)]

    # a new ingest (restarted) reads the logs back from the sink and goes on the same way
    again = Ingest(sink, "mqtt://127.0.0.1:1")
    again.handle(client, [_Message(10, topic, _batch(51, 52, "bbbb", tag="b")),
                          _Message(11, topic, _batch(81, 82, "aaaa", adopted=True, tag="a"))])
    assert acks()[-1] == (52, "bbbb") and again.refused == 1 and sink.last_seq(SITE) == 112
    sink.close()


def test_a_store_that_keeps_no_logs_takes_every_batch_as_the_first_log():
    from broker.forward.sink import MappingSink

    class Plain:
        def __init__(self):
            self.seqs: list[int] = []

        def ingest(self, site_id, events):
            self.seqs += [e["seq"] for e in events if not self.seqs or e["seq"] > self.seqs[-1]]
            return self.seqs[-1] if self.seqs else 0

    store, client = Plain(), _Client()
    ingest = Ingest(MappingSink(store), "mqtt://127.0.0.1:1")
    ingest.handle(client, [_Message(1, wire.events_topic(SITE), _batch(1, 5, "bbbb"))])
    assert store.seqs == [1, 2, 3, 4, 5] and ingest.refused == 0


# ---------------------------------------------------------------------- the site log's id


def test_a_log_gets_its_id_once_and_a_new_log_another(tmp_path):
    store = EventStore(tmp_path, "uji")
    first = store.log_id()
    store.close()
    store = EventStore(tmp_path, "uji")
    assert store.log_id() == first  # stable across opens
    store.close()
    log = ForwardedLog(tmp_path)  # what the forwarder reads, read-only
    assert log.identity() == LogIdentity(first, adopted=False)
    log.close()

    (tmp_path / "antrian.sqlite3").write_bytes(b"not a database at all" * 100)  # damaged
    with pytest.raises(StoreError):
        EventStore(tmp_path, "uji")
    store = EventStore(tmp_path, "uji", new_log=True)  # moved aside, started anew
    assert store.log_id() != first
    store.close()
    assert any(p.name.startswith("antrian.sqlite3.damaged-") for p in tmp_path.iterdir())


def test_a_log_from_before_log_ids_is_adopted_on_first_open(tmp_path):
    db = sqlite3.connect(tmp_path / "antrian.sqlite3")  # a log as an engine before log ids left it
    db.executescript("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                     "INSERT INTO meta VALUES ('site', 'uji');")
    db.close()
    log = ForwardedLog(tmp_path)
    assert log.identity() == LogIdentity(None)  # not named yet: the forwarder sends as before
    store = EventStore(tmp_path, "uji")
    assert log.identity() == LogIdentity(store.log_id(), adopted=True)
    assert not log.replaced()
    log.close()
    store.close()
