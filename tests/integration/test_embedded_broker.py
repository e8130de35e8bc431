"""The embedded amqtt broker behaves like Mosquitto where Antrian depends on it."""

from __future__ import annotations

import queue
import shutil
import subprocess
import time

import pytest

from broker.mqtt.connection import Connection
from broker.server.embedded import EmbeddedBroker
from conftest import free_port

needs_clients = pytest.mark.skipif(shutil.which("mosquitto_pub") is None,
                                   reason="mosquitto-clients is not installed")


@pytest.fixture
def embedded():
    broker = EmbeddedBroker("127.0.0.1", free_port()).start()
    yield broker
    broker.stop()


def subscriber(url: str, *topics: str) -> tuple[Connection, queue.Queue]:
    got: queue.Queue = queue.Queue()
    conn = Connection(url, "test-sub", subscriptions=list(topics), on_message=lambda t, p, r: got.put((t, p)))
    conn.start(wait=5)
    return conn, got


@needs_clients
@pytest.mark.parametrize("qos", ["0", "1"])
def test_publish_then_disconnect_at_once_is_delivered(embedded, qos):
    """`mosquitto_pub -m next` (what a technician tries first) connects, publishes and leaves at once."""
    publisher = Connection(embedded.url, "test-pub").start(wait=5)
    for n in range(40):  # a site's worth of retained state, as the engine leaves it
        publisher.publish(f"antrian/x/state/service/S{n}", b"{}" * 200, retain=True).wait_for_publish(5)
    publisher.stop()
    watcher, _ = subscriber(embedded.url, "antrian/x/state/#")
    conn, got = subscriber(embedded.url, "antrian/x/counter/1/button")
    try:
        for n in range(30):
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(embedded.port), "-q", qos,
                            "-t", "antrian/x/counter/1/button", "-m", f"next-{n}"], check=True, timeout=10)
        received = [got.get(timeout=5)[1] for _ in range(30)]
    finally:
        conn.stop()
        watcher.stop()
    assert received == [f"next-{n}".encode() for n in range(30)]


def test_retained_messages_go_only_to_matching_subscriptions(embedded):
    publisher = Connection(embedded.url, "test-pub").start(wait=5)
    publisher.publish("antrian/x/state/engine", b"online", retain=True).wait_for_publish(5)
    watcher, _ = subscriber(embedded.url, "antrian/x/state/#")  # another client's filter matches the retained one
    own, got = subscriber(embedded.url, "antrian/x/counter/1/reply")
    try:
        publisher.publish("antrian/x/counter/1/reply", b"hello").wait_for_publish(5)
        assert got.get(timeout=5) == ("antrian/x/counter/1/reply", b"hello")
        time.sleep(0.3)
        assert got.empty(), "a retained message of a topic this client never subscribed to arrived"
    finally:
        for conn in (publisher, watcher, own):
            conn.stop()


def test_retained_state_still_arrives_on_subscribe(embedded):
    publisher = Connection(embedded.url, "test-pub").start(wait=5)
    publisher.publish("antrian/x/state/calls", b'{"calls":[]}', retain=True).wait_for_publish(5)
    conn, got = subscriber(embedded.url, "antrian/x/state/#")
    try:
        assert got.get(timeout=5) == ("antrian/x/state/calls", b'{"calls":[]}')
    finally:
        conn.stop()
        publisher.stop()


def test_a_taken_port_is_explained():
    first = EmbeddedBroker("127.0.0.1", free_port()).start()
    try:
        with pytest.raises(OSError, match="port is in use"):
            EmbeddedBroker("127.0.0.1", first.port).start()
    finally:
        first.stop()
