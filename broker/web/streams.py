"""Server-sent events on waitress: what the control room's dashboard and the ticket's own page share.

Theory of operation
-------------------
- A page that follows the hall opens an EventSource; its request holds one of waitress's threads for as
  long as it is open, blocked on the `Hub` (a Condition: an idle stream costs a thread's memory and
  nothing else). The StateMirror of the process calls `Hub.changed` from the MQTT thread on every
  retained-state message; every waiting stream wakes, builds its own view and sends what differs from
  the last it sent. A burst of messages is one wake-up for a stream still busy with the last.
- Threads are never taken from pages: the tier's pool is its `threads` for pages and forms plus the
  number of stream slots, and a stream must take a slot (`Slots`) before it waits; when every slot is
  taken (or its client already holds its share) it is told so with `event: full` and ends, and the page
  does without (the dashboard tries again later, the ticket page polls). The cap also bounds the thread
  count, whatever the number of open tabs.
- waitress's channel_request_lookahead (set by the tier) gives the request
  `waitress.client_disconnected`: a stream looks at it every POLL_S and frees its slot within about a
  second after its tab closed. `Hub.close` (the tier stopping) ends every stream at once.
"""

from __future__ import annotations

import json
import threading
from typing import Any

POLL_S = 1.0  # how often a waiting stream looks whether its browser went away or the server stops
HEADERS = {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-store",
           "X-Accel-Buffering": "no"}  # nginx: pass each event on at once


class Hub:
    """A version number that every state message raises, and a way to wait for it to move."""

    def __init__(self) -> None:
        self.version = 0
        self.closed = False
        self._cond = threading.Condition()

    def changed(self, *_: Any) -> None:
        with self._cond:
            self.version += 1
            self._cond.notify_all()

    def wait(self, seen: int, timeout: float) -> int:
        with self._cond:
            if self.version == seen and not self.closed:
                self._cond.wait(timeout)
            return self.version

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def follow(self, mirror: Any) -> None:
        """Be raised by every change of a StateMirror (broker.mqtt.client), before whatever else it told."""
        if mirror is None:
            return
        previous = mirror.on_change

        def changed(kind: str, key: str) -> None:
            self.changed()
            if previous is not None:
                previous(kind, key)

        mirror.on_change = changed


class Slots:
    """At most `total` streams open at once, and at most `per_client` of them for one client address."""

    def __init__(self, total: int, per_client: int | None = None) -> None:
        if total < 1:
            raise ValueError("--streams must be at least 1")
        if per_client is not None and per_client < 1:
            raise ValueError("--streams-per-client must be at least 1")
        self.total, self.per_client = total, per_client
        self.taken = 0
        self.held: dict[str, int] = {}  # client address -> streams it holds
        self._lock = threading.Lock()

    def acquire(self, client: str = "") -> bool:
        """A slot for `client`, or False when every slot or the client's share is taken (never waits)."""
        with self._lock:
            if self.taken >= self.total:
                return False
            if self.per_client is not None and self.held.get(client, 0) >= self.per_client:
                return False
            self.held[client] = self.held.get(client, 0) + 1
            self.taken += 1
            return True

    def release(self, client: str = "") -> None:
        with self._lock:
            if client not in self.held:
                return
            self.taken -= 1
            left = self.held[client] - 1
            if left > 0:
                self.held[client] = left
            else:
                self.held.pop(client, None)


def event(name: str, data: Any, retry: int | None = None) -> str:
    """One server-sent event: `data` as compact JSON, with the browser's reconnect delay when given."""
    head = f"retry: {retry}\n" if retry is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"
