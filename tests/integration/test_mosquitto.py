"""The one way Antrian runs Mosquitto (broker/server/mosquitto.py), and what Antrian relies on it doing."""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from broker.access.devices import add_device
from broker.mqtt.client import EngineClient
from broker.mqtt.connection import Connection
from broker.server.mosquitto import BrokerError, PrivateMosquitto, port_in_use, wait_for_port
from conftest import _need_mosquitto, free_port
from integration.secure_broker import secured_broker, secured_site_text
from integration.test_mqtt_contract import wait_until

needs_clients = pytest.mark.skipif(shutil.which("mosquitto_pub") is None,
                                   reason="mosquitto-clients is not installed")


def subscriber(url: str, *topics: str) -> tuple[Connection, queue.Queue]:
    got: queue.Queue = queue.Queue()
    conn = Connection(url, "test-sub", subscriptions=list(topics), on_message=lambda t, p, r: got.put((t, p)))
    conn.start(wait=5)
    return conn, got


def closed_site(tmp_path):
    """A closed site (no anonymous clients) with its devices, and a supervised Mosquitto for it."""
    b = secured_broker(tmp_path)
    return b, PrivateMosquitto(b.config, b.data, ("127.0.0.1", b.port), folder=tmp_path / "supervised")


# ---------------------------------------------------------------------- what Antrian relies on


@needs_clients
@pytest.mark.parametrize("qos", ["0", "1"])
def test_publish_then_disconnect_at_once_is_delivered(broker_url, qos):
    """`mosquitto_pub -m next` (what a technician tries first) connects, publishes and leaves at once."""
    port = broker_url.rsplit(":", 1)[1]
    publisher = Connection(broker_url, "test-pub").start(wait=5)
    for n in range(40):  # a site's worth of retained state, as the engine leaves it
        publisher.publish(f"antrian/x/state/service/S{n}", b"{}" * 200, retain=True).wait_for_publish(5)
    publisher.stop()
    watcher, _ = subscriber(broker_url, "antrian/x/state/#")
    conn, got = subscriber(broker_url, "antrian/x/counter/1/button")
    try:
        for n in range(30):
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-q", qos,
                            "-t", "antrian/x/counter/1/button", "-m", f"next-{n}"], check=True, timeout=10)
        received = [got.get(timeout=5)[1] for _ in range(30)]
    finally:
        conn.stop()
        watcher.stop()
    assert received == [f"next-{n}".encode() for n in range(30)]


def test_retained_messages_go_only_to_matching_subscriptions(broker_url):
    publisher = Connection(broker_url, "test-pub").start(wait=5)
    publisher.publish("antrian/x/state/engine", b"online", retain=True).wait_for_publish(5)
    watcher, _ = subscriber(broker_url, "antrian/x/state/#")  # another client's filter matches the retained one
    own, got = subscriber(broker_url, "antrian/x/counter/1/reply")
    try:
        publisher.publish("antrian/x/counter/1/reply", b"hello").wait_for_publish(5)
        assert got.get(timeout=5) == ("antrian/x/counter/1/reply", b"hello")
        publisher.publish("antrian/x/counter/1/reply", b"marker").wait_for_publish(5)
        assert got.get(timeout=5) == ("antrian/x/counter/1/reply", b"marker"), \
            "a retained message of a topic this client never subscribed to arrived"
    finally:
        for conn in (publisher, watcher, own):
            conn.stop()


def test_retained_state_arrives_on_subscribe(broker_url):
    publisher = Connection(broker_url, "test-pub").start(wait=5)
    publisher.publish("antrian/x/state/calls", b'{"calls":[]}', retain=True).wait_for_publish(5)
    conn, got = subscriber(broker_url, "antrian/x/state/#")
    try:
        assert got.get(timeout=5) == ("antrian/x/state/calls", b'{"calls":[]}')
    finally:
        conn.stop()
        publisher.stop()


# ---------------------------------------------------------------------- starting, failing, supervising


def test_a_taken_port_is_said_in_one_sentence(tmp_path):
    _need_mosquitto()
    b, broker = closed_site(tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", b.port))
        holder.listen()
        with pytest.raises(BrokerError, match=rf"^port {b.port} on 127\.0\.0\.1 is in use") as refused:
            broker.start()
    assert "\n" not in str(refused.value) and not broker.alive()


def test_a_broker_killed_minus_9_comes_back_by_itself(tmp_path):
    b, broker = closed_site(tmp_path)
    broker.start()
    kiosk = EngineClient(b.url("kiosk-K1"), "testsite", name="kiosk-K1").start()
    try:
        first = broker.process.pid
        broker.process.send_signal(signal.SIGKILL)  # not broker.kill(): the supervisor must not know
        assert wait_until(lambda: not kiosk.connection.connected.is_set(), 10)
        assert wait_until(lambda: broker.restarts == 1, 15), "the supervisor did not start it again"
        assert kiosk.connection.connected.wait(15), "the kiosk did not get its broker back"
        assert broker.alive() and broker.process.pid != first
    finally:
        kiosk.stop()
        broker.stop()
    assert not port_in_use("127.0.0.1", b.port), "the broker outlived stop()"


def test_a_new_device_works_without_a_restart(tmp_path):
    b, broker = closed_site(tmp_path)
    broker.start()
    try:
        with pytest.raises(ConnectionError, match="refused"):
            EngineClient(b.url("kiosk-K2", "x"), "testsite", name="k2").start()
        _, password = add_device(b.data, b.config, "kiosk", "K2")
        deadline = time.monotonic() + 10
        while True:  # the supervisor sees devices.toml change and reloads Mosquitto (SIGHUP)
            try:
                EngineClient(b.url("kiosk-K2", password), "testsite", name="k2").start().stop()
                break
            except ConnectionError:
                if time.monotonic() > deadline:
                    raise
        assert broker.restarts == 0, "reloaded, not restarted"
    finally:
        broker.stop()


def test_serve_takes_a_free_port_when_the_default_one_is_taken(tmp_path, capsys):
    """Debian's own Mosquitto on 1883 (here: a port we hold) must not stop `antrian serve`."""
    from broker.cli.main import _private_broker

    b = secured_broker(tmp_path)
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", b.port))
        holder.listen()
        broker = _private_broker(argparse.Namespace(listen=None), b.config, b.data, default=f"127.0.0.1:{b.port}")
        try:
            said = capsys.readouterr().err
            assert broker.port != b.port and f"port {b.port} is in use" in said and f":{broker.port}" in said
            assert said.count("\n") == 1
            EngineClient(b.url("kiosk-K1", port=broker.port), "testsite", name="k1").start().stop()
        finally:
            broker.stop()
        # a --listen given on purpose is never moved
        with pytest.raises(BrokerError, match="is in use"):
            _private_broker(argparse.Namespace(listen=f"127.0.0.1:{b.port}"), b.config, b.data)


def test_antrian_broker_killed_minus_9_takes_its_mosquitto_along(tmp_path):
    """No orphaned broker keeps the port after a power cut of `antrian broker` (or of `antrian serve`)."""
    _need_mosquitto()
    site = tmp_path / "site.toml"
    site.write_text(secured_site_text(), encoding="utf-8")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "broker.cli", "broker", "--config", str(site), "--data",
                             str(tmp_path / "data"), "--listen", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for_port("127.0.0.1", port, 15), proc.stderr.read() if proc.poll() is not None else ""
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 10
        while port_in_use("127.0.0.1", port) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not port_in_use("127.0.0.1", port), "mosquitto outlived the process that started it"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_every_connection_sends_without_nagle(broker_url):
    """TCP_NODELAY through paho's public on_socket_open hook, on the first connection and after a reconnect."""
    conn = Connection(broker_url, "test-nodelay").start(wait=5)
    try:
        assert conn.client.socket().getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        conn.client.socket().shutdown(socket.SHUT_RDWR)  # the line drops; paho connects again by itself
        assert wait_until(lambda: not conn.connected.is_set(), 10) and conn.connected.wait(10)
        assert conn.client.socket().getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        conn.stop()
