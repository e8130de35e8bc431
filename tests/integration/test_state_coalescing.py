"""The engine's retained state under load: merged while more commands wait, sent at once when idle."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest

from broker.mqtt.client import EngineClient
from broker.mqtt.connection import Connection
from broker.protocol.codec import Topics, encode
from broker.server.engine_service import EngineService
from conftest import start_engine

LONG = 3600.0  # a window no test waits for: what goes out, goes out because the policy says so


@pytest.fixture
def mosquitto(broker_url):
    return broker_url


class Latest:
    """The last payload seen on each topic, and a way to wait for one."""

    def __init__(self, url: str, topic: str):
        self.seen: dict[str, dict] = {}
        self.changed = threading.Condition()
        self.conn = Connection(url, f"test-latest-{uuid.uuid4().hex[:6]}", subscriptions=[topic],
                               on_message=self._got).start(wait=5)
        assert self.conn.subscribed.wait(5)

    def _got(self, topic: str, payload: bytes, retained: bool) -> None:
        with self.changed:
            self.seen[topic] = json.loads(payload)
            self.changed.notify_all()

    def wait_for(self, topic: str, check, timeout: float = 10.0) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: check(self.seen.get(topic) or {}), timeout)

    def stop(self) -> None:
        self.conn.stop()


def test_a_lone_change_goes_out_at_once_even_with_a_long_window(small_config, mosquitto, tmp_path):
    service, stop = start_engine(small_config, mosquitto, tmp_path / "data")
    service.state_coalesce_s = LONG
    topics = Topics(small_config.site.id)
    latest = Latest(mosquitto, topics.service_state("A"))
    client = EngineClient(mosquitto, small_config.site.id).start()
    try:
        for n in range(1, 4):
            assert client.issue("k1", "A")["ok"]
            assert latest.wait_for(topics.service_state("A"), lambda s, n=n: s.get("waiting") == n), \
                f"the state after ticket {n} was held back though nothing else waited"
    finally:
        client.stop()
        latest.stop()
        stop()


def test_while_commands_wait_the_state_is_merged_and_the_last_one_is_sent(small_config, mosquitto, tmp_path):
    service = EngineService(small_config, tmp_path / "data", mosquitto, ignore_hours=True)
    service.state_coalesce_s = LONG
    service.mqtt.start(wait=5)
    topics = Topics(small_config.site.id)
    latest = Latest(mosquitto, topics.service_state("A"))
    topic = topics.service_state("A")

    def issue() -> tuple[str, bytes]:
        return topics.kiosk_request("k1"), encode({"request_id": uuid.uuid4().hex, "service": "A"})

    def sent_waiting() -> int | None:
        data = service.published.get(topic)
        return json.loads(data)["waiting"] if data else None

    try:
        now, mono = time.time(), 1000.0
        service._publish_everything(now)
        assert sent_waiting() == 0
        service._process([issue()], now, mono)
        assert sent_waiting() == 1, "idle: the first change goes out at once"
        service.inbox.put(issue())  # more is waiting: the next batches' state is held and merged
        for _ in range(3):
            service._process([issue()], now, mono + 0.001)
        assert sent_waiting() == 1 and service._pending.services == {"A"}
        assert service.inbox.qsize() == 1
        service._process([service.inbox.get()], now, mono + 0.002)  # the last waiting one: the inbox is empty
        assert sent_waiting() == 5, "once nothing waits, the merged state goes out, with every change in it"
        assert latest.wait_for(topic, lambda s: s.get("waiting") == 5)
        service.inbox.put(issue())
        service._process([issue()], now, mono + 1.0)
        assert sent_waiting() == 5
        service._flush_state(mono + 1.0 + LONG)
        assert sent_waiting() == 6, "and at the latest when the window ends, even while commands keep coming"
        assert not service._pending
        service.state_coalesce_s = 0.0
        service._process([issue()], now, mono + 1.0 + LONG)
        assert sent_waiting() == 7, "no window: every batch's state at once, as before"
    finally:
        latest.stop()
        service.mqtt.stop()
        service.store.close()


def test_the_counters_brief_goes_out_once_per_window_with_every_counter_in_it(small_config, mosquitto, tmp_path):
    """state/counters (what the hall screens take): at once after a quiet spell, then at most once per
    window however many counters changed, and the message that ends the window holds all of them."""
    service = EngineService(small_config, tmp_path / "data", mosquitto, ignore_hours=True)
    service.board_s = LONG
    service.mqtt.start(wait=5)
    topics = Topics(small_config.site.id)
    latest = Latest(mosquitto, topics.counters)

    def command(topic: str, body: dict) -> tuple[str, bytes]:
        return topic, encode({"request_id": uuid.uuid4().hex, **body})

    def board() -> dict[str, tuple[str, str | None]]:
        data = service.published.get(topics.counters)
        return {c["id"]: (c["status"], c["number"]) for c in json.loads(data)["counters"]} if data else {}

    try:
        now, mono = time.time(), 1000.0
        service._publish_everything(now)
        assert set(board()) == {c for c in small_config.counters}, "every counter of the config, in brief"
        service._process([command(topics.kiosk_request("k1"), {"service": "A"}) for _ in range(2)], now, mono)
        mono += LONG  # a quiet spell
        service._process([command(topics.counter_command("1"), {"action": "next"})], now, mono)
        assert board()["1"] == ("open", "A001"), "after a quiet spell the brief goes out at once"
        service._process([command(topics.counter_command("2"), {"action": "next"})], now, mono + 1.0)
        assert board()["2"][1] is None and service._board_pending, "inside its window the brief waits"
        assert service._wait_s() <= 1.0, "the long window does not stop the loop waking for its ticks"
        service._flush_state(mono + LONG)
        assert board()["1"] == ("open", "A001") and board()["2"] == ("open", "A002")
        assert latest.wait_for(topics.counters, lambda s: [c["number"] for c in s.get("counters", [])][:2]
                               == ["A001", "A002"])
        assert not service._board_pending
    finally:
        latest.stop()
        service.mqtt.stop()
        service.store.close()
