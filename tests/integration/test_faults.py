"""Faults a hall lives with: a broker restart, a client cut off mid-command, a full or read-only disk,
the clock jumping at midnight, and random junk thrown at the engine over MQTT."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker.access.policy import BROKER_MESSAGE_LIMIT
from broker.core.messages import CATALOG
from broker.mqtt.client import EngineClient, EngineTimeout, StateMirror
from broker.protocol.codec import MAX_PAYLOAD, Topics
from broker.server.store import EventStore
from conftest import start_engine
from integration.secure_broker import secured_broker
from integration.test_mqtt_contract import Listener, wait_until

SITE = "testsite"
T = Topics(SITE)
WIB = ZoneInfo("Asia/Jakarta")
# ---------------------------------------------------------------------- broker restart


def test_a_broker_restart_heals_by_itself(tmp_path):
    """Mosquitto killed (-9) and restarted while kiosk, counter and hall screen run: all reconnect, right state."""
    b = secured_broker(tmp_path).start()
    service, stop = start_engine(b.config, b.engine_url, b.data)
    kiosk = EngineClient(b.url("kiosk-K1"), SITE, name="kiosk").start()
    counter = EngineClient(b.url("counter-c1"), SITE, name="counter").start()
    hall = StateMirror(b.url("display-hall"), SITE, name="hall").start(wait=5)
    try:
        assert kiosk.issue("K1", "A")["ok"] and kiosk.issue("K1", "A")["ok"]
        assert counter.counter("1", "next")["ticket"]["number"] == "A001"
        b.kill()
        for client in (kiosk.connection, counter.connection, hall.connection, service.mqtt):
            assert wait_until(lambda c=client: not c.connected.is_set(), 5)
        with pytest.raises(EngineTimeout):
            kiosk.issue("K1", "A", timeout=1)  # a kiosk during the outage tells its visitor to wait
        b.start()
        # paho retries every 1-5 s: each is back within one back-off period and a connect
        for client in (kiosk.connection, counter.connection, hall.connection, service.mqtt):
            assert client.connected.wait(7), "a client did not reconnect by itself"
        assert counter.counter("1", "next", timeout=6)["ticket"]["number"] == "A002"
        third = kiosk.issue("K1", "A", timeout=6)["ticket"]["number"]
        assert third in ("A003", "A004"), "the request during the outage may have been stored on its retry"
        # the screen shows the truth without a refresh: what the engine says now
        assert wait_until(lambda: hall.counters.get("1", {}).get("current", {}).get("number") == "A002", 7)
        assert wait_until(lambda: hall.services["A"]["last_issued"] == third, 7)
        assert hall.engine.get("status") == "online"
    finally:
        for client in (kiosk, counter, hall):
            client.stop()
        stop()
        b.stop()


# ---------------------------------------------------------------------- cut off mid-command


@pytest.mark.skipif(shutil.which("mosquitto_pub") is None, reason="mosquitto-clients is not installed")
def test_a_client_cut_off_mid_command_gets_its_first_answer_on_retry(engine):
    """The command arrives, the sender vanishes before the reply: its retry returns the original answer."""
    service, url = engine
    port = url.rsplit(":", 1)[1]
    client = EngineClient(url, SITE, name="retrying").start()
    try:
        client.issue("k2", "A")  # A001, someone else
        for topic, body in ((T.kiosk_request("k1"), {"request_id": "cut-1", "service": "A"}),
                            (T.counter_command("1"), {"request_id": "cut-2", "action": "next"})):
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-q", "1", "-t", topic, "-m",
                            json.dumps(body)], check=True, timeout=10)  # publishes and disconnects at once
        assert wait_until(lambda: service.engine.counter_public("1")["current"] is not None)
        issued = client.issue("k1", "A", request_id="cut-1")
        assert issued["ticket"]["number"] == "A002", "the retry got the ticket issued for the lost reply"
        called = client.counter("1", request_id="cut-2")
        assert called["ticket"]["number"] == "A001", "the retried next did not call another visitor"
        assert client.issue("k1", "A")["ticket"]["number"] == "A003", "and nothing was issued twice"
    finally:
        client.stop()


# ---------------------------------------------------------------------- full disk


@pytest.fixture
def small_disk(tmp_path):
    """A real 4 MiB filesystem (tmpfs) for the data folder, so it can be filled up."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here (needs root): {result.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    # unbuffered: a buffered file would try the refused bytes again when it closes, and raise there
    with open(filler, "wb", buffering=0) as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_refuses_clearly_and_heals_by_itself(small_config, broker_url, small_disk):
    data = small_disk / "data"
    service, stop = start_engine(small_config, broker_url, data)
    client = EngineClient(broker_url, SITE, name="disk").start()
    acked: list[str] = []
    try:
        acked.append(client.issue("k1", "A")["ticket"]["number"])
        filler = _fill(small_disk)
        refused = [client.issue("k1", "A") for _ in range(3)] + [client.counter("1", "next")]
        for reply in refused:
            assert not reply["ok"] and reply["error"]["code"] == "storage_failed", reply
            assert reply["error"]["message"] and reply["error"]["message_en"]
        filler.unlink()  # someone frees space: service resumes without a restart
        acked.append(client.issue("k1", "A")["ticket"]["number"])
        assert client.counter("1", "next")["ticket"]["number"] == "A001"

        _fill(small_disk)  # full again, this time while a counter works too
        for reply in (client.issue("k1", "B"), client.counter("1", "finish"), client.issue("k1", "A")):
            assert not reply["ok"] and reply["error"]["code"] == "storage_failed", reply
        (small_disk / "filler").unlink()
        acked.append(client.issue("k1", "A")["ticket"]["number"])
        finished = client.counter("1", "finish")
        assert finished["ok"] and finished["ticket"]["number"] == "A001" and finished["ticket"]["state"] == "done"
    finally:
        client.stop()
        stop()
    assert acked == ["A001", "A002", "A003"], "refused requests consumed no number"
    stored = [e.data["number"] for e in EventStore(data, SITE).iter_events() if e.type == "ticket_issued"]
    assert stored == acked, "exactly what was acknowledged is stored"


# ---------------------------------------------------------------------- the clock at midnight


def test_numbers_reset_once_at_midnight_in_the_sites_time_zone(small_config, broker_url, tmp_path):
    now = [datetime(2026, 11, 23, 6, 59, 50, tzinfo=WIB).timestamp()]  # 23:59:50 UTC, Sunday
    service, stop = start_engine(small_config, broker_url, tmp_path / "data", clock=lambda: now[0])
    client = EngineClient(broker_url, SITE, name="clock").start()

    def at(hour: int, minute: int, second: int, day: int = 23) -> None:
        now[0] = datetime(2026, 11, day, hour, minute, second, tzinfo=WIB).timestamp()

    def number() -> str:
        return client.issue("k1", "A")["ticket"]["number"]

    try:
        assert number() == "A001"
        at(7, 0, 10)  # midnight UTC: not the site's midnight
        assert number() == "A002"
        at(23, 59, 55)
        assert number() == "A003"
        at(0, 0, 5, day=24)  # the site's midnight: the engine's idle tick starts the new day by itself
        assert wait_until(lambda: service.engine.day is not None and service.engine.day.day == 24, 5)
        assert number() == "A001"
        at(23, 59, 58)  # the clock steps back (NTP): the new day stays, numbers do not repeat
        assert number() == "A002"
        at(0, 0, 30, day=24)
        assert number() == "A003", "no second reset"
    finally:
        client.stop()
        stop()
    days = [e.data["day"] for e in EventStore(tmp_path / "data", SITE).iter_events() if e.type == "day_started"]
    assert days == ["2026-11-23", "2026-11-24"]


# ---------------------------------------------------------------------- junk over MQTT

_JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                            lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                        max_size=3), max_leaves=6)
_BODIES = st.fixed_dictionaries({}, optional={
    "request_id": st.one_of(st.text(max_size=70), st.integers(), st.none(), _JSON_VALUES),
    "service": st.one_of(st.sampled_from(["A", "Z", "", "a", "P"]), _JSON_VALUES),
    "priority": st.one_of(st.sampled_from(["lansia", "vip", ""]), _JSON_VALUES),
    "action": st.one_of(st.sampled_from(["next", "explode", "transfer", "call", ""]), _JSON_VALUES),
    "to": _JSON_VALUES, "number": st.one_of(st.sampled_from(["A001", "ZZZ"]), _JSON_VALUES)})
_PAYLOADS = st.one_of(
    st.binary(max_size=300),
    _BODIES.map(lambda b: json.dumps(b).encode()),
    _JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.integers(MAX_PAYLOAD + 1, 60_000).map(lambda n: b'{"request_id":"big","service":"A","x":"' + b"x" * n + b'"}'),
)
_TOPICS = st.one_of(
    st.sampled_from(["k1", "K-9", "x.y", "0"]).map(T.kiosk_request),
    st.sampled_from(["1", "99", "4K-10", "nope"]).map(T.counter_command),
    st.sampled_from(["1", "77"]).map(T.counter_button),
)


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory):
    """One engine on Mosquitto for all examples (starting one per example would take minutes)."""
    from broker.site.config import parse_config
    from conftest import SMALL_SITE, MosquittoBroker

    broker = MosquittoBroker(tmp_path_factory.mktemp("fuzz-broker")).start()
    service, stop = start_engine(parse_config(SMALL_SITE), broker.url, tmp_path_factory.mktemp("fuzz") / "data")
    listener = Listener(broker.url, f"{T.root}/kiosk/+/reply", f"{T.root}/counter/+/reply", T.errors)
    client = EngineClient(broker.url, SITE, name="fuzz-check").start()
    yield service, listener, client
    client.stop()
    listener.stop()
    stop()
    broker.stop()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow, HealthCheck.data_too_large])
@given(topic=_TOPICS, payload=_PAYLOADS)
def test_junk_gets_a_clear_refusal_and_the_engine_keeps_serving(fuzz_target, topic, payload):
    service, listener, client = fuzz_target
    while not listener.messages.empty():
        listener.messages.get_nowait()
    marker = f"m{uuid.uuid4().hex[:12]}"
    listener.publish(topic, payload)
    # a well-formed command right behind the junk on the same connection: its reply marks "junk handled"
    listener.publish(T.kiosk_request("probe"), json.dumps({"request_id": marker, "service": "K"}))
    answers: list[dict] = []
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        got_topic, body, _ = listener.messages.get(timeout=10)
        reply = json.loads(body)
        if reply.get("request_id") == marker:
            assert reply["ok"], "the engine stopped serving correctly"
            break
        answers.append(reply)
    else:
        raise AssertionError("the engine did not answer the well-formed command behind the junk")
    assert answers, f"no answer at all to {payload[:80]!r} on {topic}"
    for answer in answers:
        if not answer.get("ok"):
            assert answer["error"]["code"] in CATALOG
            assert answer["error"]["message"] and answer["error"]["message_en"]


def test_after_the_junk_the_state_is_still_consistent(fuzz_target):
    service, _, client = fuzz_target
    before = client.issue("k1", "K")["ticket"]["number"]
    after = client.issue("k1", "K")["ticket"]["number"]
    assert int(after[1:]) == int(before[1:]) + 1


def test_the_broker_drops_oversized_messages(tmp_path):
    b = secured_broker(tmp_path).start()
    service, stop = start_engine(b.config, b.engine_url, b.data)
    kiosk = Listener(b.url("kiosk-K1"), T.kiosk_reply("K1"))
    try:
        huge = b'{"request_id":"huge","service":"A","pad":"' + b"x" * BROKER_MESSAGE_LIMIT + b'"}'
        kiosk.publish(T.kiosk_request("K1"), huge)
        big = b'{"request_id":"big","service":"A","pad":"' + b"x" * MAX_PAYLOAD + b'"}'
        kiosk.publish(T.kiosk_request("K1"), big)
        kiosk.publish(T.kiosk_request("K1"), '{"request_id":"fine","service":"A"}')
        first = kiosk.next_json(T.kiosk_reply("K1"), timeout=10)
        assert first["error"]["code"] == "bad_payload" and f"{len(big)} bytes" in first["error"]["params"]["detail"], \
            "the huge one never reached the engine; the merely big one is refused, unread, by the engine"
        fine = kiosk.next_json(T.kiosk_reply("K1"))
        assert fine["request_id"] == "fine" and fine["ticket"]["number"] == "A001"
        # a packet past max_packet_size is not buffered at all: the sender's connection ends, nobody else's
        import threading

        import paho.mqtt.client as paho

        from broker.access.mosquitto_conf import MAX_PACKET_SIZE

        cut = threading.Event()
        raw = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="counter-c1")  # not the kiosk's login
        raw.username_pw_set("counter-c1", b.passwords["counter-c1"])
        raw.on_disconnect = lambda *args: cut.set()
        raw.connect("127.0.0.1", b.port)
        raw.loop_start()
        try:
            raw.publish(T.kiosk_request("K1"), b"x" * (MAX_PACKET_SIZE + 1), qos=0)
            assert cut.wait(10), "Mosquitto took a packet larger than max_packet_size"
        finally:
            raw.disconnect()
            raw.loop_stop()
        kiosk.publish(T.kiosk_request("K1"), '{"request_id":"after","service":"A"}')
        assert kiosk.next_json(T.kiosk_reply("K1"))["ticket"]["number"] == "A002"
    finally:
        kiosk.stop()
        stop()
        b.stop()
