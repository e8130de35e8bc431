"""Thin paho-mqtt 2.x wiring shared by every Antrian process.

Clients reconnect by themselves (1-5 s back-off) and subscribe again on every
connect, so a restarted broker never leaves a screen or the engine deaf.
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import paho.mqtt.client as paho

DEFAULT_URL = "mqtt://127.0.0.1:1883"
Handler = Callable[[str, bytes, bool], None]  # topic, payload, retained


class _LowLatencyClient(paho.Client):
    """paho's client without the 40 ms stalls of Nagle's algorithm meeting delayed ACKs.

    Each command is a few small QoS 1 packets each way. Without TCP_NODELAY a second small write
    waits for the ACK of the first; and a broker that keeps Nagle on (Mosquitto unless
    `set_tcp_nodelay true`) holds a reply until we ACK its PUBACK, which Linux delays by 40 ms.
    Acknowledging at once after every read (TCP_QUICKACK) takes both stalls away: a request
    round trip drops from about 88 ms to 1-4 ms (docs/benchmarks.md).
    """

    def _create_socket_connection(self):
        sock = super()._create_socket_connection()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _sock_recv(self, bufsize: int) -> bytes:
        data = super()._sock_recv(bufsize)
        if _QUICKACK is not None and self._sock is not None:
            try:
                self._sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
            except (OSError, AttributeError):  # TLS wrappers, closed sockets: only a missed speed-up
                pass
        return data


_QUICKACK = getattr(socket, "TCP_QUICKACK", None)  # Linux only


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False

    @classmethod
    def parse(cls, url: str) -> BrokerAddress:
        """Parse mqtt://[user:pass@]host[:port] or mqtts://...; raises ValueError with a plain message."""
        parts = urlsplit(url if "://" in url else f"mqtt://{url}")
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"'{url}' is not an MQTT address; write it like mqtt://127.0.0.1:1883")
        tls = parts.scheme in ("mqtts", "ssl")
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError:
            raise ValueError(f"'{url}' has an invalid port number") from None
        if not parts.hostname:
            raise ValueError(f"'{url}' names no host; write it like mqtt://127.0.0.1:1883")
        password = unquote(parts.password) if parts.password else os.environ.get("ANTRIAN_MQTT_PASSWORD")
        username = unquote(parts.username) if parts.username else os.environ.get("ANTRIAN_MQTT_USER")
        return cls(parts.hostname, port, username, password, tls)

    def __str__(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def with_credentials(url: str, username: str | None, password: str | None) -> str:
    """The URL with user (and password) put in, for --user/--password; unchanged without a user."""
    if not username:
        return url
    parts = urlsplit(url if "://" in url else f"mqtt://{url}")
    login = quote(username, safe="") + (f":{quote(password, safe='')}" if password else "")
    return urlunsplit(parts._replace(netloc=f"{login}@{parts.netloc.rpartition('@')[2]}"))


class Connection:
    """One connected MQTT client with its subscriptions and a single message handler."""

    def __init__(self, url: str, name: str, *, subscriptions: list[str] | tuple[str, ...] = (),
                 on_message: Handler | None = None, will: tuple[str, bytes] | None = None,
                 on_connect: Callable[[], None] | None = None,
                 on_disconnect: Callable[[], None] | None = None):
        self.address = BrokerAddress.parse(url)
        self.subscriptions = list(subscriptions)
        self.connected = threading.Event()
        self.subscribed = threading.Event()  # the subscriptions of the current connection are acknowledged
        self._pending_suback: int | None = None
        self.refused: str | None = None  # why the broker refused the last CONNECT (wrong password...)
        self._acks = threading.Condition()
        self._acked: set[int] = set()
        self._on_message, self._on_connect, self._on_disconnect = on_message, on_connect, on_disconnect
        client = _LowLatencyClient(paho.CallbackAPIVersion.VERSION2, client_id=f"{name}-{uuid.uuid4().hex[:8]}",
                                     clean_session=True)
        if self.address.username:
            client.username_pw_set(self.address.username, self.address.password)
        if self.address.tls:
            client.tls_set(ca_certs=os.environ.get("ANTRIAN_MQTT_CA"), cert_reqs=ssl.CERT_REQUIRED)
        if will:
            client.will_set(will[0], will[1], qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        client.max_inflight_messages_set(200)
        client.max_queued_messages_set(0)
        client.on_connect = self._connected
        client.on_disconnect = self._disconnected
        client.on_message = self._message
        client.on_subscribe = self._subscribed
        self.client = client

    def start(self, wait: float | None = None) -> Connection:
        """Connect in the background; with `wait`, raise ConnectionError if not connected in time."""
        self.client.connect_async(self.address.host, self.address.port, keepalive=15)
        self.client.loop_start()
        if wait is not None and not (self.connected.wait(wait) and self.subscribed.wait(wait)):
            self.stop()
            if self.refused:
                raise ConnectionError(self.refused)
            raise ConnectionError(f"cannot reach the MQTT broker at {self.address} within {wait:g} s; "
                                  "is `antrian serve` (or Mosquitto) running?")
        return self

    def subscribe(self, topic: str, wait: float | None = None) -> None:
        """Add a subscription (kept across reconnects); with `wait`, block until the broker acknowledges it."""
        self.subscriptions.append(topic)
        if not self.connected.is_set():
            return
        result, mid = self.client.subscribe(topic, qos=1)
        if wait is not None and result == paho.MQTT_ERR_SUCCESS:
            with self._acks:
                self._acks.wait_for(lambda: mid in self._acked, timeout=wait)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> paho.MQTTMessageInfo:
        return self.client.publish(topic, payload, qos=1, retain=retain)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _connected(self, client, userdata, flags, reason_code, properties=None) -> None:
        if reason_code.is_failure:
            from broker.core.messages import message

            who = self.address.username or "anonymous"
            refusal = message("broker_refused", name=who, detail=str(reason_code))
            self.refused = f"{refusal.text('en')} / {refusal.text('id')}"
            return
        self.refused = None
        if self.subscriptions:
            result, mid = client.subscribe([(topic, 1) for topic in self.subscriptions])
            self._pending_suback = mid
        self.connected.set()
        if not self.subscriptions:
            self.subscribed.set()
        if self._on_connect:
            self._on_connect()

    def _subscribed(self, client, userdata, mid, reason_codes, properties=None) -> None:
        with self._acks:
            self._acked.add(mid)
            self._acks.notify_all()
        if mid == self._pending_suback:
            self.subscribed.set()

    def _disconnected(self, client, userdata, flags, reason_code, properties=None) -> None:
        self.connected.clear()
        self.subscribed.clear()
        if self._on_disconnect:
            self._on_disconnect()

    def _message(self, client, userdata, msg: paho.MQTTMessage) -> None:
        if self._on_message:
            self._on_message(msg.topic, msg.payload, bool(msg.retain))
