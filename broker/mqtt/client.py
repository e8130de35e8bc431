"""Talking to the engine over MQTT: requests with replies, and the retained state.

Kiosks, counter panels, screens and the CLI all use these two pieces, so the
request-id, timeout and retry rules live in one place.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from paho.mqtt.client import topic_matches_sub

from broker.mqtt.connection import Connection
from broker.protocol.codec import ENGINE_DISCOVERY, Topics, encode, engine_site
from broker.protocol.state import Retained

ENGINE_TIMEOUT_S = 3.0


class EngineTimeout(Exception):
    """The engine did not answer in time; the request may be retried with the same id."""


def new_request_id() -> str:
    return uuid.uuid4().hex


def discover_site(url: str, timeout: float = 3.0) -> str:
    """The site id of the one engine on this broker (from its retained status topic)."""
    found: dict[str, dict] = {}
    got_one = threading.Event()

    def on_message(topic: str, payload: bytes, retained: bool) -> None:
        site = engine_site(topic)
        if site is None:
            return
        try:
            found[site] = json.loads(payload)
        except ValueError:
            return
        got_one.set()

    conn = Connection(url, "antrian-discover", subscriptions=[ENGINE_DISCOVERY], on_message=on_message)
    conn.start(wait=timeout)
    try:
        got_one.wait(timeout)
        time.sleep(0.1)  # let the other retained answers arrive too
    finally:
        conn.stop()
    if not found:
        raise EngineTimeout(f"no Antrian engine has announced itself on {conn.address}; "
                            "start it with `antrian serve`")
    if len(found) > 1:
        online = [site for site, info in found.items() if info.get("status") == "online"]
        if len(online) == 1:
            return online[0]
        raise ValueError(f"several sites use this broker ({', '.join(sorted(found))}): choose one with --site")
    return next(iter(found))


class EngineClient:
    """Sends commands as one device (a kiosk or a counter) and waits for the engine's replies."""

    def __init__(self, url: str, site: str, *, name: str = "antrian-client"):
        self.topics = Topics(site)
        self._waiting: dict[str, queue.Queue[dict]] = {}
        self._lock = threading.Lock()
        self.connection = Connection(url, name, on_message=self._on_reply)
        self._reply_topics: set[str] = set()

    def start(self, wait: float = ENGINE_TIMEOUT_S) -> EngineClient:
        self.connection.start(wait=wait)
        return self

    def stop(self) -> None:
        self.connection.stop()

    def _listen(self, reply_topic: str) -> None:
        """Subscribe to a reply topic once, waiting for the acknowledgement so no reply is missed."""
        if reply_topic not in self._reply_topics:
            self._reply_topics.add(reply_topic)
            self.connection.subscribe(reply_topic, wait=ENGINE_TIMEOUT_S)

    def _on_reply(self, topic: str, payload: bytes, retained: bool) -> None:
        try:
            reply = json.loads(payload)
        except ValueError:
            return
        if not isinstance(reply, dict):
            return
        with self._lock:
            waiter = self._waiting.get(str(reply.get("request_id", "")))
        if waiter is not None:
            waiter.put(reply)

    def request(self, topic: str, reply_topic: str, body: dict[str, Any], *, timeout: float = ENGINE_TIMEOUT_S,
                attempts: int = 2) -> dict[str, Any]:
        """Publish a command and return its reply; retries with the same request id, so never twice."""
        body = {"request_id": new_request_id()} | body
        request_id = body["request_id"]
        self._listen(reply_topic)
        waiter: queue.Queue[dict] = queue.Queue()
        with self._lock:
            self._waiting[request_id] = waiter
        try:
            for _ in range(attempts):
                self.connection.publish(topic, encode(body))
                try:
                    return waiter.get(timeout=timeout / attempts)
                except queue.Empty:
                    continue
            raise EngineTimeout(f"the engine did not answer within {timeout:g} s (request {request_id})")
        finally:
            with self._lock:
                self._waiting.pop(request_id, None)

    def request_many(self, requests: list[tuple[str, str, dict[str, Any]]], *,
                     timeout: float = ENGINE_TIMEOUT_S) -> list[dict[str, Any]]:
        """Publish several commands at once (in order) and return their replies in the same order.

        For the simulator and benchmarks: the engine takes them in one batch, one transaction.
        """
        return self.send_many(requests).wait(timeout)

    def send_many(self, requests: list[tuple[str, str, dict[str, Any]]]) -> PendingReplies:
        """Publish (topic, reply topic, body) commands in order without waiting; a body may bring its request_id."""
        bodies = [body if "request_id" in body else {"request_id": new_request_id()} | body for _, _, body in requests]
        for _, reply_topic, _ in requests:
            self._listen(reply_topic)
        pending = PendingReplies(self, [body["request_id"] for body in bodies])
        for (topic, _, _), body in zip(requests, bodies):
            self.connection.publish(topic, encode(body))
        return pending

    def issue(self, kiosk: str, service: str, priority: str | None = None, *, request_id: str | None = None,
              timeout: float = ENGINE_TIMEOUT_S) -> dict[str, Any]:
        body: dict[str, Any] = {"service": service, "priority": priority}
        if request_id:
            body["request_id"] = request_id
        return self.request(self.topics.kiosk_request(kiosk), self.topics.kiosk_reply(kiosk), body,
                            timeout=timeout)

    def check_in(self, kiosk: str, code: str, *, request_id: str | None = None,
                 timeout: float = ENGINE_TIMEOUT_S) -> dict[str, Any]:
        """A booking's code (as typed or scanned) checked in at a kiosk: the reply is an issue's plus `booking`."""
        body: dict[str, Any] = {"action": "check-in", "code": code}
        if request_id:
            body["request_id"] = request_id
        return self.request(self.topics.kiosk_request(kiosk), self.topics.kiosk_reply(kiosk), body,
                            timeout=timeout)

    def counter(self, counter: str, action: str = "next", *, to: str | None = None, number: str | None = None,
                request_id: str | None = None, timeout: float = ENGINE_TIMEOUT_S) -> dict[str, Any]:
        body: dict[str, Any] = {"action": action}
        if to:
            body["to"] = to
        if number:
            body["number"] = number
        if request_id:
            body["request_id"] = request_id
        return self.request(self.topics.counter_command(counter), self.topics.counter_reply(counter), body,
                            timeout=timeout)


class PendingReplies:
    """Replies still to come for commands published by `EngineClient.send_many`."""

    def __init__(self, client: EngineClient, request_ids: list[str]):
        self.client, self.request_ids = client, request_ids
        self.waiters: list[queue.Queue[dict]] = [queue.Queue() for _ in request_ids]
        with client._lock:
            client._waiting.update(zip(request_ids, self.waiters))

    def wait(self, timeout: float = ENGINE_TIMEOUT_S) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        try:
            replies = []
            for request_id, waiter in zip(self.request_ids, self.waiters):
                try:
                    replies.append(waiter.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    raise EngineTimeout(f"the engine did not answer within {timeout:g} s "
                                        f"(request {request_id})") from None
            return replies
        finally:
            with self.client._lock:
                for request_id in self.request_ids:
                    self.client._waiting.pop(request_id, None)


class StateMirror:
    """A live copy of the engine's retained state topics, for screens, kiosks and `antrian state`.

    `on_change(kind, key)` is called from the MQTT thread after each update, with kind one of
    "config", "engine", "service", "counter", "counters" (every counter in brief), "calls", "notice".

    `retained` is the same state typed (broker.protocol.state.Retained), decoded once per message:
    what devices read. The JSON objects beside it are what `antrian state` prints.
    """

    def __init__(self, url: str, site: str, *, name: str = "antrian-mirror",
                 on_change: Callable[[str, str], None] | None = None,
                 extra_subscriptions: tuple[str, ...] = (), on_other: Callable[[str, bytes], None] | None = None,
                 state_topics: tuple[str, ...] | None = None, state_qos0: bool = True):
        """`state_topics`: the retained topics to mirror when not all of them (`state/#`): a screen subscribes
        only to what it draws, and the broker sends it nothing else. They are taken at QoS 0 (`state_qos0`):
        each message replaces the last, and the broker sends all of it again on a reconnect; the
        `extra_subscriptions` (the call events) stay at QoS 1."""
        self.topics = Topics(site)
        self.config: dict[str, Any] | None = None
        self.engine: dict[str, Any] = {}
        self.services: dict[str, dict] = {}
        self.counters: dict[str, dict] = {}
        self.calls: list[dict] = []
        self.retained = Retained()
        self.notice: dict[str, Any] = {}  # state/notice: the supervisor's notice on the hall screens
        self.on_change = on_change
        self.on_other = on_other
        self.lock = threading.Lock()
        mirrored = self.mirrored = tuple(state_topics or (self.topics.state_all,))
        self.connection = Connection(url, name, subscriptions=[*mirrored, *extra_subscriptions],
                                     on_message=self._on_message, qos0=mirrored if state_qos0 else ())

    @property
    def online(self) -> bool:
        return self.connection.connected.is_set()

    def start(self, wait: float | None = None) -> StateMirror:
        self.connection.start(wait=wait)
        return self

    def stop(self) -> None:
        self.connection.stop()

    def _on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        where = self.topics.state_of(topic)
        if where is None:
            if self.on_other:
                self.on_other(topic, payload)
            return
        try:
            data = json.loads(payload) if payload else None
        except ValueError:
            return
        kind, key = where
        with self.lock:
            if kind == "config":
                self.config = data
            elif kind == "engine":
                self.engine = data or {}
            elif kind == "calls":
                self.calls = data.get("calls", []) if isinstance(data, dict) else []
            elif kind == "notice":
                self.notice = data if isinstance(data, dict) else {}
            elif kind == "counters":
                pass  # the hall screens' brief of every counter: typed only (`retained.board`)
            else:
                target = self.services if kind == "service" else self.counters
                if data is None:
                    target.pop(key, None)
                else:
                    target[key] = data
            typed = self.retained.received(self.topics, topic, payload)
            if typed is not None:  # last: whoever sees the typed state complete finds the JSON objects so too
                self.retained = typed[0]
        if self.on_change:
            self.on_change(kind, key)

    def complete(self) -> bool:
        """True once the config and the state of every service and counter it names have arrived (of those
        this mirror subscribes to: a counter panel waits for its own counter only)."""
        retained = self.retained
        if retained.config is None:
            return False

        def wanted(topic: str) -> bool:
            return any(topic_matches_sub(sub, topic) for sub in self.mirrored)

        return all(s.code in retained.services for s in retained.config.services
                   if wanted(self.topics.service_state(s.code))) \
            and all(c.id in retained.counters for c in retained.config.counters
                    if wanted(self.topics.counter_state(c.id)))

    def wait_complete(self, timeout: float = ENGINE_TIMEOUT_S) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.complete():
                return True
            time.sleep(0.02)
        return self.complete()

    def snapshot(self) -> dict[str, Any]:
        """The state as `antrian state` prints it, in the config's order."""
        with self.lock:
            order_s = [s["code"] for s in (self.config or {}).get("services", [])] or sorted(self.services)
            order_c = [c["id"] for c in (self.config or {}).get("counters", [])] or sorted(self.counters)
            return {"site": self.topics.site, "engine": self.engine,
                    "services": [self.services[c] for c in order_s if c in self.services],
                    "counters": [self.counters[c] for c in order_c if c in self.counters],
                    "calls": list(self.calls)}
