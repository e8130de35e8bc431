"""The forwarder's decisions (broker/forward/forwarder.py) and the forwarding wire format, without I/O."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from broker.forward import wire
from broker.forward.bridge import bridge_conf, province_acl
from broker.forward.forwarder import (
    InFlight,
    Limits,
    Resend,
    Send,
    Wait,
    Window,
    acknowledged,
    decide,
    read_cursor,
    rewound,
    sent,
    write_cursor,
)

LIMITS = Limits(window=3, ack_timeout_s=10.0, batch_events=100)


def test_an_empty_log_waits_for_events():
    assert decide(Window(), head=0, now=0.0, limits=LIMITS) == Wait(None)


def test_it_sends_after_the_cursor_until_the_window_is_full():
    w = Window(acked=40)
    assert decide(w, 1000, 0.0, LIMITS) == Send(40)
    w = sent(w, 41, 140, 0.0)
    assert decide(w, 1000, 0.1, LIMITS) == Send(140)
    w = sent(sent(w, 141, 240, 0.1), 241, 340, 0.2)
    assert decide(w, 1000, 0.3, LIMITS) == Wait(10.0)  # three out: wait for the first one's ack


def test_an_ack_frees_the_window_and_moves_the_cursor():
    w = sent(sent(sent(Window(0), 1, 100, 0.0), 101, 200, 0.0), 201, 300, 0.0)
    w = acknowledged(w, 100)
    assert w.acked == 100 and [b.first for b in w.out] == [101, 201]
    assert decide(w, 1000, 1.0, LIMITS) == Send(300)
    w = acknowledged(w, 300)
    assert w == Window(300)


def test_an_ack_within_a_batch_keeps_that_batch_out():
    w = acknowledged(sent(Window(0), 1, 100, 0.0), 60)
    assert w.acked == 60 and w.out == (InFlight(1, 100, 0.0),)
    assert w.next_after == 100


def test_a_late_ack_sends_again_from_the_acked_seq():
    w = sent(sent(Window(10), 11, 110, 0.0), 111, 210, 5.0)
    assert decide(w, 210, 9.9, LIMITS) == Wait(10.0)
    assert decide(w, 1000, 10.0, LIMITS) == Resend()
    w = rewound(w)
    assert w == Window(10) and decide(w, 1000, 10.0, LIMITS) == Send(10)


def test_the_timeout_runs_from_the_oldest_batch_out():
    w = acknowledged(sent(sent(Window(0), 1, 100, 0.0), 101, 200, 8.0), 100)
    assert decide(w, 200, 12.0, LIMITS) == Wait(18.0)
    assert decide(w, 200, 18.0, LIMITS) == Resend()


def test_a_lower_ack_is_the_truth_and_everything_after_it_goes_again():
    """A central restored from a backup (or a site broker that lost its retained ack) says less than the cursor."""
    w = sent(Window(500), 501, 600, 0.0)
    w = acknowledged(w, 200)
    assert w == Window(200) and decide(w, 600, 0.0, LIMITS) == Send(200)


def test_an_ack_beyond_what_was_sent_moves_the_cursor_there():
    """A cursor file lost: the retained ack says the province already holds more."""
    assert acknowledged(Window(0), 4000) == Window(4000)
    assert decide(Window(4000), 4000, 0.0, LIMITS) == Wait(None)


def test_a_repeated_ack_changes_nothing():
    w = sent(Window(100), 101, 200, 0.0)
    assert acknowledged(w, 100) is w


def test_a_batch_must_follow_the_window():
    with pytest.raises(ValueError):
        sent(Window(100), 100, 200, 0.0)
    with pytest.raises(ValueError):
        sent(Window(100), 150, 140, 0.0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["tick", "ack", "lose", "reconnect"]), st.integers(0, 5)), max_size=60),
       st.integers(1, 2000))
def test_whatever_is_lost_the_central_ends_with_the_whole_log(script, head):
    """A model of the link: batches may be lost, acks delayed, the connection renewed; after the storm a
    quiet link brings the central store (which ignores seq <= its last, refuses gaps) to exactly the log."""
    central = 0
    wire_out: list[tuple[int, int]] = []
    w, now = Window(0), 0.0

    def deliver(batch: tuple[int, int]) -> None:
        nonlocal central, w
        first, last = batch
        if first <= central + 1 <= last:
            central = last
        w = acknowledged(w, central)

    def pump() -> None:
        nonlocal w
        while True:
            d = decide(w, head, now, LIMITS)
            if isinstance(d, Resend):
                w = rewound(w)
            elif isinstance(d, Send):
                last = min(d.after + LIMITS.batch_events, head)
                w = sent(w, d.after + 1, last, now)
                wire_out.append((d.after + 1, last))
            else:
                return

    for action, n in script:
        pump()
        if action == "tick":
            now += n * 3.0
        elif action == "ack" and wire_out:
            deliver(wire_out.pop(0))
        elif action == "lose" and wire_out:
            wire_out.pop(min(n, len(wire_out) - 1))
        elif action == "reconnect":
            w = rewound(w)
        assert central <= head and w.acked <= central
    for _ in range(10_000):  # the storm is over: everything sent arrives, time passes
        pump()
        if wire_out:
            deliver(wire_out.pop(0))
        else:
            now += LIMITS.ack_timeout_s
        if central == head and not wire_out:
            break
    assert central == head and w.acked == head


def test_the_cursor_file_survives_and_belongs_to_its_site(tmp_path):
    assert read_cursor(tmp_path, "rembang") == 0
    write_cursor(tmp_path, "rembang", 1234)
    assert read_cursor(tmp_path, "rembang") == 1234
    assert read_cursor(tmp_path, "other") == 0
    (tmp_path / "forward-cursor.json").write_text("{half", encoding="utf-8")
    assert read_cursor(tmp_path, "rembang") == 0


def test_a_batch_round_trips_and_bad_ones_are_refused():
    rows = [(7, 1.5, "ticket_issued", '{"ticket":"A001","nama":"Dinas Kependudukan"}'),
            (8, 2.25, "ticket_called", '{"ticket":"A001"}')]
    payload = wire.encode_rows("62.01", rows)
    doc = json.loads(payload)
    assert (doc["site"], doc["first"], doc["last"], len(doc["events"])) == ("62.01", 7, 8, 2)
    batch = wire.decode_batch(payload, "62.01")
    assert [e.seq for e in batch.events] == [7, 8] and batch.events[0].data["ticket"] == "A001"
    with pytest.raises(wire.WireError):
        wire.decode_batch(payload, "62.02")  # a site publishing under another's topic
    gap = wire.encode_rows("62.01", [rows[0], (9, 3.0, "x", "{}")])
    with pytest.raises(wire.WireError):
        wire.decode_batch(gap, "62.01")
    for junk in (b"", b"[]", b'{"site":"62.01","events":[]}', b'{"site":"62.01","events":[{"seq":true}]}'):
        with pytest.raises(wire.WireError):
            wire.decode_batch(junk, "62.01")
    assert wire.decode_ack(wire.encode_ack("62.01", 8), "62.01") == 8
    with pytest.raises(wire.WireError):
        wire.decode_ack(b'{"site":"62.01","last_seq":-1}', "62.01")


def test_topics_name_their_site():
    assert wire.events_topic("62.01") == "antrian/central/62.01/events"
    assert wire.site_of("antrian/central/62.01/ack") == "62.01"
    assert wire.site_of("antrian/62.01/state/engine") is None


def test_the_bridge_carries_only_the_sites_own_topics():
    conf = bridge_conf("62.01", "prov.example:8883", username="62.01", password="s3cret", cafile="/etc/ca.pem")
    lines = conf.splitlines()
    assert "topic antrian/central/62.01/events out 1" in lines
    assert "topic antrian/central/62.01/ack in 1" in lines
    assert [line for line in lines if line.startswith("topic ")] == [
        "topic antrian/central/62.01/events out 1", "topic antrian/central/62.01/ack in 1"]
    assert "cleansession false" in lines and "address prov.example:8883" in lines
    assert "remote_password s3cret" in lines and "bridge_cafile /etc/ca.pem" in lines
    assert "# remote_username" in bridge_conf("62.01", "prov:1883")
    for bad in ("prov", "prov:0", "prov:x"):
        with pytest.raises(ValueError):
            bridge_conf("62.01", bad)
    with pytest.raises(ValueError):
        bridge_conf("a/b", "prov:1883")
    with pytest.raises(ValueError):
        bridge_conf("62.01", "prov:1883", password="x\nlistener 1 0.0.0.0", username="u")


def test_a_closed_sites_forwarder_may_use_only_its_own_central_topics():
    from broker.access.policy import AccessPolicy, Action, Device, Role
    from broker.protocol.codec import Topics

    forwarder = Device(Role.ENGINE, "forward")
    policy = AccessPolicy(Topics("62.01"), (forwarder, Device(Role.DISPLAY, "hall")))
    assert policy.may(forwarder.username, Action.PUBLISH, wire.events_topic("62.01"))
    assert policy.may(forwarder.username, Action.SUBSCRIBE, wire.ack_topic("62.01"))
    assert not policy.may(forwarder.username, Action.PUBLISH, wire.events_topic("62.02"))
    assert not policy.may("display-hall", Action.SUBSCRIBE, wire.events_topic("62.01"))
    assert "topic readwrite antrian/central/62.01/#" in policy.mosquitto_acl()


class _GapTakingStore:
    """A store like the central one: skips seq <= its last, but would store a batch after a gap."""

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.fail = False

    def ingest(self, site_id, events):
        if self.fail:
            raise RuntimeError("the database is down")
        last = self.rows[-1]["seq"] if self.rows else 0
        self.rows += [e for e in events if e["seq"] > last]
        return self.rows[-1]["seq"] if self.rows else 0


class _Client:
    def __init__(self) -> None:
        self.published: list[tuple[str, bytes, bool]] = []
        self.acked: list[int] = []

    def publish(self, topic, payload, qos=0, retain=False):
        self.published.append((topic, payload, retain))

    def ack(self, mid, qos):
        self.acked.append(mid)


class _Message:
    def __init__(self, mid: int, topic: str, payload: bytes) -> None:
        self.mid, self.topic, self.payload, self.qos = mid, topic, payload, 1


def _batch(site: str, first: int, last: int) -> bytes:
    return wire.encode_rows(site, [(s, float(s), "ticket_issued", f'{{"ticket":"T{s}"}}') for s in range(first, last + 1)])


def test_the_ingest_stores_in_order_acks_after_the_commit_and_never_leaves_a_gap():
    from broker.forward.ingest import Ingest
    from broker.forward.sink import MappingSink

    store, client = _GapTakingStore(), _Client()
    ingest = Ingest(MappingSink(store), "mqtt://127.0.0.1:1")  # never connected: its callbacks are fed here
    topic = wire.events_topic("62.01")
    acks = lambda: [wire.decode_ack(p, "62.01") for t, p, r in client.published if t == wire.ack_topic("62.01") and r]
    ingest.handle(client, [_Message(1, topic, _batch("62.01", 1, 50))])
    ingest.handle(client, [_Message(2, topic, _batch("62.01", 101, 150))])  # 51..100 lost on the way
    ingest.handle(client, [_Message(3, topic, _batch("62.01", 1, 50))])  # a resend
    ingest.handle(client, [_Message(4, topic, _batch("62.01", 51, 100))])
    ingest.handle(client, [_Message(5, topic, _batch("62.01", 101, 150))])
    assert [r["seq"] for r in store.rows] == list(range(1, 151))
    assert store.rows[0] == {"type": "ticket_issued", "ts": 1.0, "seq": 1, "ticket": "T1"}
    assert acks() == [50, 50, 50, 100, 150] and client.acked == [1, 2, 3, 4, 5]

    ingest.handle(client, [_Message(6, topic, b"{not json")])  # dropped, acknowledged, no crash
    ingest.handle(client, [_Message(7, "antrian/central/62.01/ack", _batch("62.01", 151, 160))])
    ingest.handle(client, [_Message(8, wire.events_topic("62.02"), _batch("62.01", 151, 160))])
    store.fail = True
    ingest.handle(client, [_Message(9, topic, _batch("62.01", 151, 160))])  # nothing stored: no ack
    assert acks() == [50, 50, 50, 100, 150] and client.acked == [1, 2, 3, 4, 5, 6, 7, 8, 9]
    store.fail = False
    ingest.handle(client, [_Message(10, topic, _batch("62.01", 151, 160))])
    assert acks()[-1] == 160 and len(store.rows) == 160


def test_batches_that_arrive_together_go_to_the_store_in_one_call():
    from broker.forward.ingest import Ingest
    from broker.forward.sink import MappingSink

    store, client = _GapTakingStore(), _Client()
    calls = []
    original = store.ingest
    store.ingest = lambda site, events: calls.append(len(events)) or original(site, events)
    ingest = Ingest(MappingSink(store), "mqtt://127.0.0.1:1")
    topic = wire.events_topic("62.01")
    ingest.handle(client, [_Message(n, topic, _batch("62.01", 50 * n + 1, 50 * n + 50)) for n in range(4)]
                  + [_Message(9, topic, _batch("62.01", 301, 350))])  # 201..300 lost: 301.. must wait
    assert calls == [0, 200] and [r["seq"] for r in store.rows] == list(range(1, 201))
    assert [wire.decode_ack(p, "62.01") for _, p, _ in client.published] == [200]
    assert client.acked == [0, 1, 2, 3, 9]


def test_batches_combined_with_a_resend_in_the_middle_store_each_event_once():
    from broker.forward.ingest import Ingest
    from broker.forward.sink import MappingSink

    store, client = _GapTakingStore(), _Client()
    calls = []
    original = store.ingest
    store.ingest = lambda site, events: calls.append([e["seq"] for e in events]) or original(site, events)
    ingest = Ingest(MappingSink(store), "mqtt://127.0.0.1:1")
    topic = wire.events_topic("62.01")
    ingest.handle(client, [_Message(1, topic, _batch("62.01", 1, 50)), _Message(2, topic, _batch("62.01", 51, 100)),
                           _Message(3, topic, _batch("62.01", 26, 75)),  # sent again, overlapping both
                           _Message(4, topic, _batch("62.01", 51, 100)), _Message(5, topic, _batch("62.01", 101, 150))])
    assert calls == [[], list(range(1, 151))]  # one call, each event once, in order
    assert [r["seq"] for r in store.rows] == list(range(1, 151))
    assert [wire.decode_ack(p, "62.01") for _, p, _ in client.published] == [150]
    assert client.acked == [1, 2, 3, 4, 5]


class _HeldStore(_GapTakingStore):
    """Stores only once let go: a slow database."""

    def __init__(self) -> None:
        super().__init__()
        import threading

        self.go = threading.Event()

    def ingest(self, site_id, events):
        if events:
            assert self.go.wait(10)
        return super().ingest(site_id, events)


def test_two_workers_store_two_sites_side_by_side_and_acknowledge_in_arrival_order():
    import time

    from broker.forward.ingest import Ingest
    from broker.forward.sink import MappingSink

    slow, quick, client = _HeldStore(), _GapTakingStore(), _Client()
    ingest = Ingest([MappingSink(slow), MappingSink(quick)], "mqtt://127.0.0.1:1")
    ingest.client = client  # never connected: paho's callbacks are fed here
    topics = [wire.events_topic(f"62.{n:02d}") for n in range(1, 20)]
    a = next(t for t in topics if ingest._lane(t) == 0)  # a site of the first (slow) worker
    b = next(t for t in topics if ingest._lane(t) == 1)  # and one of the second
    for mid, (topic, first) in enumerate([(a, 1), (b, 1), (b, 51), (a, 51)]):
        ingest._on_message(client, None, _Message(mid, topic, _batch(topic.split("/")[2], first, first + 49)))
    ingest._start_workers()
    try:
        deadline = time.monotonic() + 10
        while len(quick.rows) < 100 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)
        assert [r["seq"] for r in quick.rows] == list(range(1, 101)) and slow.rows == []  # b did not wait for a
        assert [wire.decode_ack(p, wire.site_of(b)) for _, p, _ in client.published][-1] == 100  # b's ack is out
        assert client.acked == []  # message 0 (a's) is not stored yet: nothing after it is acknowledged either
        slow.go.set()
        while len(client.acked) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert client.acked == [0, 1, 2, 3]
        assert [r["seq"] for r in slow.rows] == list(range(1, 101))
    finally:
        slow.go.set()
        ingest._stopping.set()
        for worker in ingest._workers:
            worker.join(5)


def test_the_province_lets_each_site_publish_only_its_own_batches():
    acl = province_acl().splitlines()
    assert "pattern write antrian/central/%u/events" in acl and "pattern read antrian/central/%u/ack" in acl
    assert acl[acl.index("user antrian-central-ingest") + 1:][:2] == [
        "topic read antrian/central/+/events", "topic write antrian/central/+/ack"]


def test_json_nested_too_deep_is_a_wire_error_not_a_crash():
    deep = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(wire.WireError, match="not JSON"):
        wire.decode_batch(deep, "33.17-rembang")
    with pytest.raises(wire.WireError, match="not JSON"):
        wire.decode_ack(b'{"site": ' + deep + b"}", "33.17-rembang")


# ---------------------------------------------------------------------- the site profile in the batches


def _profile():
    from broker.forward.profile import of_config
    from broker.site.config import SAMPLE_CONFIG, load_config

    return of_config(load_config(SAMPLE_CONFIG))


def test_a_profile_rides_a_batch_and_comes_out_the_same():
    profile = _profile()
    assert profile.agencies["dindukcapil"].hours[5], "Dindukcapil of the sample opens on Saturday too"
    assert profile.closures, "the national calendar's holidays are in it"
    payload = wire.with_profile(_batch("62.01", 1, 3), profile)
    batch = wire.decode_batch(payload, "62.01")
    assert batch.profile == profile and [e.seq for e in batch.events] == [1, 2, 3]
    assert wire.decode_batch(_batch("62.01", 1, 3), "62.01").profile is None
    assert len(payload) < wire.BATCH_BYTES + 2_000 + len(profile.text())


def test_a_profile_gives_the_staffing_reports_opening_ranges():
    from datetime import date

    profile = _profile()
    counter = next(c for c, k in profile.counters.items() if k.agency == "dindukcapil")
    assert profile.counter_hours(counter, date(2022, 11, 21)) == ((480, 900),)  # a Monday
    assert profile.counter_hours(counter, date(2022, 11, 27)) == ()  # a Sunday
    holiday = min(d for d, agencies in profile.closures.items() if not agencies and d.weekday() < 5)
    assert profile.counter_hours(counter, holiday) == (), "a national holiday closes every counter"
    start, end = profile.opening_ranges(counter, date(2022, 11, 21))[0]
    assert end - start == 7 * 3600


@pytest.mark.parametrize("spoil", [
    lambda d: d.update(v=2),
    lambda d: d.update(timezone="Mars/Olympus"),
    lambda d: d["agencies"]["dinsos"].update(hours=[[[600, 540]]] * 7),  # ends before it starts
    lambda d: d["agencies"]["dinsos"].update(hours=[[[0, 2000]]] * 7),
    lambda d: d["agencies"]["dinsos"].update(hours=[[]] * 6),
    lambda d: d["agencies"]["dinsos"].update(name=["not", "a", "name"]),
    lambda d: d["services"].update(ZZ="nobody"),  # an agency that is not there
    lambda d: d["counters"].update({"../1": {"agency": "dinsos", "services": []}}),
    lambda d: d["counters"].update({"99": {"agency": "dinsos", "services": ["ZZZ"]}}),
    lambda d: d["closures"].update({"2025-02-30": []}),
    lambda d: d["closures"].update({"2025-02-03": ["nobody"]}),
    lambda d: d.update(agencies=[1, 2]),
    lambda d: d.update(name="x" * 10_000),
])
def test_a_malformed_profile_drops_its_batch(spoil):
    doc = json.loads(wire.with_profile(_batch("62.01", 1, 3), _profile()))
    spoil(doc["profile"])
    with pytest.raises(wire.WireError, match="profile"):
        wire.decode_batch(json.dumps(doc).encode(), "62.01")


class _ProfileStore(_GapTakingStore):
    def __init__(self) -> None:
        super().__init__()
        self.profiles: list[tuple[str, object]] = []
        self.profile_fails = False

    def register_profile(self, site_id, profile):
        if self.profile_fails:
            raise RuntimeError("the database is down")
        self.profiles.append((site_id, profile))


def test_the_ingest_registers_a_profile_before_the_events_and_acks_nothing_when_it_fails():
    from broker.forward.ingest import Ingest
    from broker.forward.sink import MappingSink

    store, client = _ProfileStore(), _Client()
    profile = _profile()
    ingest = Ingest(MappingSink(store), "mqtt://127.0.0.1:1")
    topic = wire.events_topic("62.01")
    store.profile_fails = True
    ingest.handle(client, [_Message(1, topic, wire.with_profile(_batch("62.01", 1, 50), profile))])
    assert store.rows == [] and client.published == [] and client.acked == [1], "no ack: the forwarder sends again"
    store.profile_fails = False
    ingest.handle(client, [_Message(2, topic, wire.with_profile(_batch("62.01", 1, 50), profile)),
                           _Message(3, topic, _batch("62.01", 51, 60))])
    assert store.profiles == [("62.01", profile)] and len(store.rows) == 60
    spoiled = json.loads(wire.with_profile(_batch("62.01", 61, 70), profile))
    spoiled["profile"]["timezone"] = "Nowhere/Atlantis"
    ingest.handle(client, [_Message(4, topic, json.dumps(spoiled).encode())])
    assert len(store.rows) == 60 and ingest.dropped == 1 and client.acked[-1] == 4


def test_the_forwarder_sends_the_profile_once_per_connection_and_again_when_it_changes(tmp_path):
    from dataclasses import replace

    from broker.forward.forwarder import Forwarder

    (tmp_path / "antrian.sqlite3").touch()
    profile = [_profile()]
    forwarder = Forwarder(tmp_path, "mqtt://127.0.0.1:1", site_id="62.01-uji", profile=lambda: profile[0])

    def carried(n: int = 1) -> bool:
        payload, stamp = forwarder._with_profile(_batch("62.01-uji", n, n))
        if stamp is not None:
            forwarder._profile_sent = stamp  # as _step does once the publish went out
        return wire.decode_batch(payload, "62.01-uji").profile is not None

    assert [carried(n) for n in range(1, 4)] == [True, False, False]
    forwarder._session += 1  # a new connection
    assert [carried(n) for n in range(4, 6)] == [True, False]
    profile[0] = replace(profile[0], name="MPP Rembang Baru")
    assert [carried(n) for n in range(6, 8)] == [True, False]
    forwarder._profile_sent = None  # a resend after a late ack
    assert carried(8)
    forwarder.log.close()


def test_the_sqlite_sink_keeps_the_newest_profile(tmp_path):
    from dataclasses import replace

    from broker.forward.profile import from_doc
    from broker.forward.sink import SqliteSink

    sink = SqliteSink(tmp_path / "central.sqlite3")
    profile = _profile()
    sink.profile("62.01", profile)
    sink.profile("62.01", replace(profile, name="MPP Baru"))
    rows = sink._db.execute("SELECT site, digest, profile FROM profiles").fetchall()
    sink.close()
    assert len(rows) == 1 and from_doc(json.loads(rows[0][2])) == replace(profile, name="MPP Baru")
    assert rows[0][1] == replace(profile, name="MPP Baru").digest() != profile.digest()
