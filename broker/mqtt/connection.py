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
from typing import ClassVar
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

DEFAULT_URL = "mqtt://127.0.0.1:1883"
Handler = Callable[[str, bytes, bool], None]  # topic, payload, retained


def _no_delay(client: paho.Client, userdata: object, sock: object) -> None:
    """paho's public socket hook: send each small packet at once (TCP_NODELAY).

    Each command is a few small QoS 1 packets each way; with Nagle's algorithm a second small
    write waits for the ACK of the first, which Linux delays by up to 40 ms. The broker's side is
    Mosquitto's `set_tcp_nodelay true` (broker/access/mosquitto_conf.py). docs/benchmarks.md.
    """
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # type: ignore[attr-defined]
    except (OSError, AttributeError):  # a websocket wrapper or a socket already closed: only a missed speed-up
        pass


def _unreachable(address: BrokerAddress, exc: BaseException) -> str:
    """One sentence (Bahasa Indonesia / English) for a connection that failed before MQTT began."""
    where = f"{address.host}:{address.port}"
    if isinstance(exc, ssl.SSLError):
        reason = getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or str(exc)
        return (f"koneksi TLS ke {where} gagal: {reason} (ANTRIAN_MQTT_CA menunjuk CA yang dipercaya) / "
                f"the TLS connection to {where} failed: {reason} (ANTRIAN_MQTT_CA names the CA to trust)")
    if isinstance(exc, socket.gaierror):
        return f"nama host '{address.host}' tidak dikenal / unknown host '{address.host}'"
    if isinstance(exc, ConnectionRefusedError):
        return (f"tidak ada broker MQTT di {where} (koneksi ditolak): jalankan `antrian serve` atau periksa "
                f"alamatnya / nothing listens at {where} (connection refused): start `antrian serve` or check "
                "the address")
    return f"broker MQTT di {where} tidak terjangkau: {exc} / cannot reach the MQTT broker at {where}: {exc}"


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


class _Link:
    """One paho client, that is one MQTT connection, and the Connections of this process that use it.

    The Connections of one login share one link: the broker binds a client id to its user (Mosquitto's
    `use_username_as_clientid` on a closed site), so a second connection under the same user would
    throw the first off. A kiosk's state mirror, its requests and its presence thus travel on one
    connection. Anonymous Connections (an open demo site) each get a link of their own.
    """

    _shared: ClassVar[dict[tuple, _Link]] = {}
    _registry = threading.Lock()

    @classmethod
    def of(cls, address: BrokerAddress, name: str) -> _Link:
        if not address.username:
            return cls(address, f"{name}-{uuid.uuid4().hex[:8]}", None)
        key = (address.host, address.port, address.username, address.password, address.tls,
               os.environ.get("ANTRIAN_MQTT_CA"))
        with cls._registry:
            link = cls._shared.get(key)
            if link is None:  # the client id starts with the user name, whatever the broker does with it
                link = cls._shared[key] = cls(address, f"{address.username}-{uuid.uuid4().hex[:8]}", key)
            return link

    def __init__(self, address: BrokerAddress, client_id: str, key: tuple | None):
        self.address, self.key = address, key
        self.members: list[Connection] = []
        self.lock = threading.Lock()
        self.running = self.up = False
        self.will: tuple[str, bytes] | None = None
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
        client.on_socket_open = _no_delay
        if address.username:
            client.username_pw_set(address.username, address.password)
        if address.tls:
            client.tls_set(ca_certs=os.environ.get("ANTRIAN_MQTT_CA"), cert_reqs=ssl.CERT_REQUIRED)
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        client.max_inflight_messages_set(200)
        client.max_queued_messages_set(0)
        client.on_connect = self._connected
        client.on_disconnect = self._disconnected
        client.on_message = self._message
        client.on_subscribe = self._subscribed
        self.client = client

    def _members(self) -> list[Connection]:
        with self.lock:
            return list(self.members)

    def add(self, conn: Connection, wait: float | None) -> None:
        with self.lock:
            if conn in self.members:
                return
            self.members.append(conn)
            first, self.running = not self.running, True
            if conn.will and self.will is None:  # a presence: its last will goes with the shared connection
                self.will = conn.will
                self.client.will_set(conn.will[0], conn.will[1], qos=1, retain=True)  # for the next CONNECT
            up = self.up
        if first:
            try:
                if wait is None:
                    self.client.connect_async(self.address.host, self.address.port, keepalive=15)
                else:
                    self.client.connect(self.address.host, self.address.port, keepalive=15)
            except (OSError, ssl.SSLError) as exc:
                self.remove(conn)
                raise ConnectionError(_unreachable(self.address, exc)) from None
            self.client.loop_start()
        elif up:  # joining a connection that is up already
            conn._connected(self.client, None, None, _SUCCESS, None)

    def remove(self, conn: Connection) -> None:
        with self.lock:
            if conn in self.members:
                self.members.remove(conn)
            last = not self.members and self.running
            if last:
                self.running = self.up = False
        if not last:
            return
        if self.key is not None:
            with self._registry:
                if self._shared.get(self.key) is self:
                    del self._shared[self.key]
        self.client.disconnect()
        self.client.loop_stop()

    def _connected(self, client, userdata, flags, reason_code, properties=None) -> None:
        with self.lock:
            self.up = not reason_code.is_failure
        for member in self._members():
            member._connected(client, userdata, flags, reason_code, properties)

    def _disconnected(self, client, userdata, flags, reason_code, properties=None) -> None:
        with self.lock:
            self.up = False
        for member in self._members():
            member._disconnected(client, userdata, flags, reason_code, properties)

    def _subscribed(self, client, userdata, mid, reason_codes, properties=None) -> None:
        for member in self._members():
            member._subscribed(client, userdata, mid, reason_codes, properties)

    def _message(self, client, userdata, msg: paho.MQTTMessage) -> None:
        for member in self._members():
            if any(paho.topic_matches_sub(sub, msg.topic) for sub in member.subscriptions):
                member._message(client, userdata, msg)


_SUCCESS = ReasonCode(PacketTypes.CONNACK, "Success")


class Connection:
    """One connected MQTT client with its subscriptions and a single message handler."""

    def __init__(self, url: str, name: str, *, subscriptions: list[str] | tuple[str, ...] = (),
                 on_message: Handler | None = None, will: tuple[str, bytes] | None = None,
                 on_connect: Callable[[], None] | None = None,
                 on_disconnect: Callable[[], None] | None = None, qos0: tuple[str, ...] = ()):
        """`qos0`: those of the subscriptions the broker may deliver at QoS 0 (no PUBACK each way): retained
        state, which the broker sends again on every reconnect; everything else is taken at QoS 1."""
        self.address = BrokerAddress.parse(url)
        self.subscriptions = list(subscriptions)
        self.qos0 = frozenset(qos0)
        self.connected = threading.Event()
        self.subscribed = threading.Event()  # the subscriptions of the current connection are acknowledged
        self._pending_suback: int | None = None
        self.refused: str | None = None  # why the broker refused the last CONNECT (wrong password...)
        self._acks = threading.Condition()
        self._acked: set[int] = set()
        self._on_message, self._on_connect, self._on_disconnect = on_message, on_connect, on_disconnect
        self.will = will
        self._name = name
        self._link: _Link | None = None

    @property
    def client(self) -> paho.Client:
        """The paho client under this connection (shared with the other Connections of the same login)."""
        if self._link is None:
            self._link = _Link.of(self.address, self._name)
        return self._link.client

    def start(self, wait: float | None = None) -> Connection:
        """Connect; with `wait`, raise ConnectionError saying why if not connected in time.

        Without `wait` (a device that boots before its broker) it connects in the background and keeps
        trying. With `wait` the first TCP (and TLS) connection is made here, so a refused connection, an
        unknown host or a TLS failure is said at once and as what it is.
        """
        self.client  # noqa: B018 (joins or makes the link)
        assert self._link is not None
        self._link.add(self, wait)
        if wait is not None and not self._settle(wait):
            self.stop()
            if self.refused:
                raise ConnectionError(self.refused)
            raise ConnectionError(f"broker MQTT di {self.address} tidak menjawab dalam {wait:g} detik / the MQTT "
                                  f"broker at {self.address} did not answer within {wait:g} s")
        return self

    def _settle(self, wait: float) -> bool:
        """Wait until connected and subscribed (True), or refused or out of time (False)."""
        with self._acks:
            self._acks.wait_for(lambda: self.subscribed.is_set() or self.refused, timeout=wait)
        return self.connected.is_set() and self.subscribed.is_set()

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
        if self._link is not None:
            self._link.remove(self)
            self._link = None  # a later start() joins the login's link again
        self.connected.clear()
        self.subscribed.clear()

    def _connected(self, client, userdata, flags, reason_code, properties=None) -> None:
        if reason_code.is_failure:
            from broker.core.messages import message

            who = self.address.username or "anonymous"
            refusal = message("broker_refused", name=who, detail=str(reason_code))
            with self._acks:
                self.refused = f"{refusal.text('id')} / {refusal.text('en')}"
                self._acks.notify_all()
            return
        self.refused = None
        if self.subscriptions:
            result, mid = client.subscribe([(topic, 0 if topic in self.qos0 else 1) for topic in self.subscriptions])
            self._pending_suback = mid
        self.connected.set()
        if not self.subscriptions:
            with self._acks:
                self.subscribed.set()
                self._acks.notify_all()
        if self._on_connect:
            self._on_connect()

    def _subscribed(self, client, userdata, mid, reason_codes, properties=None) -> None:
        with self._acks:
            self._acked.add(mid)
            if mid == self._pending_suback:
                self.subscribed.set()
            self._acks.notify_all()

    def _disconnected(self, client, userdata, flags, reason_code, properties=None) -> None:
        self.connected.clear()
        self.subscribed.clear()
        if self._on_disconnect:
            self._on_disconnect()

    def _message(self, client, userdata, msg: paho.MQTTMessage) -> None:
        if self._on_message:
            self._on_message(msg.topic, bytes(msg.payload), bool(msg.retain))
