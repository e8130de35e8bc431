"""The MQTT path end to end: real engine, real Mosquitto, real clients."""

from __future__ import annotations

import json
import queue
import threading
import time

import pytest

from broker.mqtt.client import EngineClient, StateMirror
from broker.mqtt.connection import Connection
from broker.protocol.codec import MAX_PAYLOAD, Topics

SITE = "testsite"
T = Topics(SITE)


class Listener:
    """A raw MQTT subscriber that records every message, as mosquitto_sub would."""

    def __init__(self, url: str, *topics: str):
        self.messages: queue.Queue[tuple[str, bytes, bool]] = queue.Queue()
        self.connection = Connection(url, f"test-listener-{time.monotonic_ns()}", subscriptions=list(topics),
                                     on_message=lambda t, p, r: self.messages.put((t, p, r)))
        self.connection.start(wait=5)
        assert self.connection.subscribed.wait(5)

    def publish(self, topic: str, payload: bytes | str) -> None:
        self.connection.publish(topic, payload.encode() if isinstance(payload, str) else payload)

    def next_json(self, topic: str, timeout: float = 5.0) -> dict:
        """The next message on `topic` (others are skipped), decoded."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                got_topic, payload, _ = self.messages.get(timeout=left)
            except queue.Empty:
                break
            if got_topic == topic:
                return json.loads(payload)
        raise AssertionError(f"nothing arrived on {topic} within {timeout} s")

    def stop(self) -> None:
        self.connection.stop()


@pytest.fixture
def client(engine):
    _, url = engine
    c = EngineClient(url, SITE, name="test-client").start()
    yield c
    c.stop()


def mirror_of(url: str) -> StateMirror:
    mirror = StateMirror(url, SITE, name=f"test-mirror-{time.monotonic_ns()}").start(wait=5)
    assert mirror.wait_complete(5), "the retained state did not arrive"
    return mirror


def wait_until(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_issue_call_and_retained_state(engine, client):
    _, url = engine
    first = client.issue("k1", "A")
    assert first["ok"] and first["ticket"]["number"] == "A001" and first["ahead"] == 0
    second = client.issue("k1", "A", "lansia")
    assert second["ticket"]["number"] == "A002" and second["ticket"]["priority"] == "lansia"

    called = client.counter("1", "next")
    assert called["ok"] and called["ticket"]["number"] == "A002", "a priority ticket goes first"

    mirror = mirror_of(url)  # a screen that starts now sees the truth at once
    try:
        # the retained topics arrive one after another: wait for the last of them too
        assert wait_until(lambda: mirror.services["A"]["waiting"] == 1 and mirror.calls and mirror.counters.get("1"))
        assert mirror.services["A"]["last_issued"] == "A002"
        assert mirror.counters["1"]["status"] == "open"
        assert mirror.counters["1"]["current"]["number"] == "A002"
        assert mirror.calls[0]["number"] == "A002" and mirror.calls[0]["counter"] == "1"
        assert mirror.engine["status"] == "online"
        assert {s["code"] for s in mirror.config["services"]} == {"A", "B", "P", "K"}
    finally:
        mirror.stop()


def test_retry_with_same_request_id_returns_same_ticket(client):
    one = client.issue("k1", "B", request_id="kiosk-retry-1")
    again = client.issue("k1", "B", request_id="kiosk-retry-1")
    assert one["ticket"]["id"] == again["ticket"]["id"]
    assert client.issue("k1", "B")["ticket"]["number"] == "B002"


def test_events_are_published_for_every_change(engine, client):
    _, url = engine
    listener = Listener(url, f"{T.root}/events/#")
    try:
        client.issue("k1", "K")
        issued = listener.next_json(T.event("ticket_issued"))
        assert issued["number"] == "K001" and issued["service"] == "K" and issued["seq"] > 0
        client.counter("5", "next")
        called = listener.next_json(T.event("ticket_called"))
        assert called["number"] == "K001" and called["counter"] == "5"
        client.counter("5", "recall")
        assert listener.next_json(T.event("ticket_recalled"))["number"] == "K001"
        client.counter("5", "finish")
        assert listener.next_json(T.event("ticket_finished"))["number"] == "K001"
    finally:
        listener.stop()


def test_plain_next_from_a_hardware_button(engine, client):
    _, url = engine
    client.issue("k1", "B")
    listener = Listener(url, T.counter_reply("2"), T.counter_state("2"))
    try:
        listener.publish(T.counter_button("2"), "next")
        reply = listener.next_json(T.counter_reply("2"))
        assert reply["ok"] and reply["ticket"]["number"] == "B001"
        state = listener.next_json(T.counter_state("2"))
        while state["current"] is None:  # the retained copy from before may come first
            state = listener.next_json(T.counter_state("2"))
        assert state["current"]["number"] == "B001"
    finally:
        listener.stop()


@pytest.mark.parametrize("topic_of, payload, code", [
    (T.kiosk_request, b"\xff\xfe not json", "bad_payload"),
    (T.kiosk_request, b"[1, 2, 3]", "bad_payload"),
    (T.kiosk_request, b'{"service": "A"}', "bad_payload"),  # no request id
    (T.kiosk_request, b'{"request_id": "r1"}', "bad_payload"),  # no service
    (T.kiosk_request, b'{"request_id": "r2", "service": "ZZ"}', "unknown_service"),
    (T.kiosk_request, b'{"request_id": "r3", "service": "A", "priority": "vip"}', "unknown_priority"),
    (T.kiosk_request, b'{"request_id": "r4", "service": "A", "priority": 7}', "bad_payload"),
    (T.kiosk_request, b"x" * (MAX_PAYLOAD + 1), "bad_payload"),
    (T.counter_command, b'{"request_id": "r5", "action": "explode"}', "unknown_action"),
    (T.counter_command, b'{"request_id": "r6", "action": "transfer"}', "bad_payload"),
    (T.counter_button, b"selfdestruct", "unknown_action"),
    (T.counter_button, b"{not json", "bad_payload"),
])
def test_garbage_gets_a_plain_error_reply_and_the_engine_lives_on(engine, client, topic_of, payload, code):
    _, url = engine
    device = "k9" if topic_of == T.kiosk_request else "1"
    reply_topic = T.kiosk_reply(device) if topic_of == T.kiosk_request else T.counter_reply(device)
    listener = Listener(url, reply_topic, T.errors)
    try:
        listener.publish(topic_of(device), payload)
        reply = listener.next_json(reply_topic)
        assert reply["ok"] is False and reply["error"]["code"] == code
        assert reply["error"]["message"] and reply["error"]["message_en"]
        if code in ("bad_payload", "unknown_action"):  # unreadable input is also reported for the admin
            assert listener.next_json(T.errors)["error"]["code"] == code
    finally:
        listener.stop()
    assert client.issue("k1", "A")["ticket"]["number"] == "A001", "the engine still works"


def test_an_unknown_counter_is_refused(client):
    reply = client.counter("99", "next")
    assert reply["ok"] is False and reply["error"]["code"] == "unknown_counter"


def test_two_counters_pressing_at_once_never_share_a_ticket(engine, client):
    _, url = engine
    for _ in range(20):
        client.issue("k1", "A")
    counters = [EngineClient(url, SITE, name=f"test-counter-{cid}").start() for cid in ("1", "2")]
    got: dict[str, list[str]] = {"1": [], "2": []}
    barrier = threading.Barrier(2)

    def press(cid: str, c: EngineClient) -> None:
        for i in range(10):
            if i:  # finish the visitor first, or a quick second press counts as a double press
                c.counter(cid, "finish", request_id=f"finish-{cid}-{i}")
            barrier.wait()
            reply = c.counter(cid, "next", request_id=f"press-{cid}-{i}")
            if reply.get("ok") and reply.get("ticket"):
                got[cid].append(reply["ticket"]["number"])

    try:
        threads = [threading.Thread(target=press, args=(cid, c)) for cid, c in zip(("1", "2"), counters)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        for c in counters:
            c.stop()
    everything = got["1"] + got["2"]
    assert len(everything) == 20 and len(set(everything)) == 20
    assert sorted(everything) == [f"A{n:03d}" for n in range(1, 21)]


def test_a_double_pressed_button_never_skips_a_visitor(engine, client):
    _, url = engine
    for _ in range(3):
        client.issue("k1", "K")
    listener = Listener(url, T.counter_reply("5"))
    try:
        listener.publish(T.counter_button("5"), "next")
        listener.publish(T.counter_button("5"), "next")  # the same press bounced, or pressed twice
        first, second = listener.next_json(T.counter_reply("5")), listener.next_json(T.counter_reply("5"))
    finally:
        listener.stop()
    assert first["ticket"]["number"] == second["ticket"]["number"] == "K001"
    assert second.get("debounced") is True
    assert client.counter("5", "finish")["ticket"]["number"] == "K001"
    assert client.counter("5", "next")["ticket"]["number"] == "K002", "K002 was not skipped"


def test_engine_goes_offline_in_the_retained_status_when_it_stops(small_config, broker_url, tmp_path):
    from conftest import start_engine

    service, stop = start_engine(small_config, broker_url, tmp_path / "data")
    listener = Listener(broker_url, T.engine)
    try:
        assert listener.next_json(T.engine)["status"] == "online"
        stop()
        status = "online"
        while status == "online":  # the live "online" may follow the retained copy; offline must come last
            status = listener.next_json(T.engine)["status"]
        assert status == "offline"
    finally:
        listener.stop()


def test_clients_reconnect_and_resubscribe_when_the_broker_comes_back(small_config, tmp_path):
    """Mosquitto restarted on the same port: the engine and a screen's mirror recover by themselves."""
    from conftest import MosquittoBroker, _mosquitto_binary, start_engine

    if _mosquitto_binary() is None:
        pytest.skip("mosquitto is not installed")
    (tmp_path / "mq").mkdir()
    broker = MosquittoBroker(tmp_path / "mq").start()
    service, stop = start_engine(small_config, broker.url, tmp_path / "data")
    mirror = mirror_of(broker.url)
    client = EngineClient(broker.url, SITE, name="test-reconnect").start()
    try:
        assert client.issue("k1", "A")["ticket"]["number"] == "A001"
        broker.stop()
        assert wait_until(lambda: not service.mqtt.connected.is_set(), 10)
        broker.start()
        assert service.mqtt.connected.wait(15) and client.connection.connected.wait(15)
        assert wait_until(lambda: mirror.online, 15)
        reply = client.issue("k1", "A", timeout=10)
        assert reply["ticket"]["number"] == "A002"
        assert wait_until(lambda: mirror.services["A"]["last_issued"] == "A002", 10), \
            "the mirror resubscribed after the broker came back"
    finally:
        client.stop()
        mirror.stop()
        stop()
        broker.stop()
