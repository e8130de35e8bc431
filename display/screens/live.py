"""Screens fed by the broker: the retained state and the call events, turned into a screen state.

The MQTT thread only updates the mirror and the call board and sets `changed`;
the screen loop asks `state()` when it wakes. Reconnecting is the connection's
job (paho retries every 1-5 s and the retained topics arrive again), so a
restarted broker brings the screen back by itself.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from broker.mqtt.client import StateMirror
from broker.protocol.codec import Topics
from display.screens.callboard import CallBoard
from display.screens.calls import CallTracker, call_from_event, calls_from_state
from display.screens.counter_screen import CounterScreenState, counter_state
from display.screens.hall import HallState, hall_state


class LiveScreen:
    """A StateMirror plus a `changed` flag the screen loop waits on."""

    name = "antrian-screen"

    def __init__(self, url: str, site: str, *, lang: str = "id", extra_subscriptions: tuple[str, ...] = (),
                 state_topics: tuple[str, ...] | None = None):
        self.lang = lang
        self.topics = Topics(site)
        self.changed = threading.Event()
        self.lock = threading.Lock()
        self.mirror = StateMirror(url, site, name=self.name, on_change=self._state_changed,
                                  extra_subscriptions=extra_subscriptions, on_other=self._other,
                                  state_topics=state_topics)

    def start(self, wait: float | None = None) -> LiveScreen:
        self.mirror.start(wait=wait)
        return self

    def stop(self) -> None:
        self.mirror.stop()

    def wait_ready(self, timeout: float) -> bool:
        return self.mirror.wait_complete(timeout)

    def local_now(self) -> datetime:
        config = self.mirror.retained.config
        name = (config.site.timezone if config else "") or "Asia/Jakarta"
        try:
            return datetime.now(ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):
            return datetime.now()

    @property
    def engine_online(self) -> bool:
        return self.mirror.retained.engine_online

    def _state_changed(self, kind: str, key: str) -> None:
        self.changed.set()

    def _other(self, topic: str, payload: bytes) -> None:
        pass


class LiveHall(LiveScreen):
    """The hall: also follows every call event, so calls in a burst each get their turn on screen."""

    name = "antrian-hall"

    def __init__(self, url: str, site: str, *, zone: str | None = None, lang: str = "id"):
        topics = Topics(site)  # what it draws: the counters in brief (one message per window), not each counter's
        super().__init__(url, site, lang=lang,
                         state_topics=(topics.config, topics.engine, topics.counters, topics.service_state("+"),
                                       topics.calls, topics.notice),
                         extra_subscriptions=(topics.event("ticket_called"), topics.event("ticket_recalled")))
        self.zone = zone
        self.board = CallBoard()
        self.tracker = CallTracker()
        self.day: str | None = None

    def _other(self, topic: str, payload: bytes) -> None:
        call = call_from_event(self.topics, topic, payload)
        if call is not None and self.tracker.from_event(call):
            with self.lock:
                self.board.add(call)
            self.changed.set()

    def _state_changed(self, kind: str, key: str) -> None:
        with self.lock:
            retained = self.mirror.retained
            if kind == "engine":
                day = retained.engine.day
                if day and self.day and day != self.day:
                    self.board.reset()  # a new day: yesterday's calls leave the screen
                self.day = day or self.day
            elif kind == "calls":
                calls = calls_from_state(retained.calls)
                for call in self.tracker.from_state(calls, time.time()):
                    self.board.add(call)  # made while we were disconnected
                self.board.seed(calls)
        self.changed.set()

    def state(self, mono: float | None = None) -> HallState:
        retained = self.mirror.retained
        with self.lock:
            return hall_state(retained.config, retained.services, retained.board or {}, self.board,
                              moment=self.local_now(), mono=time.monotonic() if mono is None else mono,
                              online=self.mirror.online, engine_online=retained.engine_online, zone=self.zone,
                              lang=self.lang, notice=retained.notice)

    def wait_ready(self, timeout: float) -> bool:
        """The config, every service and the counters' brief have arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._ready():
                return True
            time.sleep(0.02)
        return self._ready()

    def _ready(self) -> bool:
        retained = self.mirror.retained
        return retained.config is not None and retained.board is not None \
            and all(s.code in retained.services for s in retained.config.services)

    @property
    def animating(self) -> bool:
        """True while the large call flashes or others wait their turn: the screen must wake often."""
        with self.lock:
            spot = self.board.spot(time.monotonic())
            return spot.highlight or self.board.busy


class LiveCounter(LiveScreen):
    name = "antrian-counter-screen"

    def __init__(self, url: str, site: str, counter: str, *, lang: str = "id"):
        topics = Topics(site)  # it draws its own counter only: no other counter's or service's changes reach it
        super().__init__(url, site, lang=lang, state_topics=(topics.config, topics.engine, topics.counter_state(counter),
                                                             topics.notice))
        self.counter = counter

    def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            retained = self.mirror.retained
            if retained.config is not None and self.counter in retained.counters:
                return True
            time.sleep(0.02)
        return False

    def state(self, mono: float | None = None) -> CounterScreenState:
        retained = self.mirror.retained
        return counter_state(retained.config, retained.counters, self.counter, online=self.mirror.online,
                             engine_online=retained.engine_online, lang=self.lang, notice=retained.notice)

    @property
    def animating(self) -> bool:
        return False
