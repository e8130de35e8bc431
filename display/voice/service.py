"""The announcer on the network: call events in, announcements out, its health published retained.

Thin shell around `Announcer`: it listens to `events/ticket_called` and
`events/ticket_recalled` (every call and recall, in order), backs them up with
the retained `state/calls` after a reconnect, and publishes how speech is doing
on `presence/announcer/<device>` so a failing voice is visible to the admin.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from typing import Any

from broker.mqtt.client import StateMirror
from broker.mqtt.presence import Presence
from broker.protocol.codec import Topics
from display.screens.calls import Call, CallTracker, call_from_event, calls_from_state, in_scope, zone_agencies
from display.voice.announcer import Announcer, Result

log = logging.getLogger("antrian.announcer")


def default_device_id() -> str:
    host = re.sub(r"[^A-Za-z0-9_.-]", "-", socket.gethostname() or "host")[:40]
    return f"{host or 'host'}"


class AnnounceService:
    def __init__(self, url: str, site: str, announcer: Announcer, *, zone: str | None = None,
                 device: str | None = None):
        self.topics = Topics(site)
        self.announcer = announcer
        self.zone = zone or None
        self.device = device or default_device_id()
        self.tracker = CallTracker()
        self.announced = 0
        self.failures = 0
        self.last: Result | None = None
        self._lock = threading.Lock()
        announcer.on_result = self._reported
        self.mirror = StateMirror(url, site, name="antrian-announcer", on_change=self._state_changed,
                                  extra_subscriptions=tuple(self.topics.event(t) for t in
                                                            ("ticket_called", "ticket_recalled")),
                                  on_other=self._event)
        self.presence = Presence(url, site, "announcer", self.device)

    def start(self, wait: float | None = None) -> AnnounceService:
        self.announcer.start()
        self.presence.start()
        self.mirror.start(wait=wait)
        self._publish_presence()
        return self

    def stop(self) -> None:
        self.announcer.stop()
        self.presence.stop()
        self.mirror.stop()

    # ------------------------------------------------------------------ incoming (MQTT thread)

    def _agency_name(self, call: Call) -> str:
        config = self.mirror.retained.config
        return config.agency_label(call.agency, full=True) if config else ""

    def _accept(self, call: Call) -> None:
        if in_scope(call, zone_agencies(self.mirror.retained.config, self.zone)):
            self.announcer.submit(call, self._agency_name(call))

    def _event(self, topic: str, payload: bytes) -> None:
        call = call_from_event(self.topics, topic, payload)
        if call is not None and self.tracker.from_event(call):
            self._accept(call)

    def _state_changed(self, kind: str, key: str) -> None:
        if kind == "calls":
            calls = calls_from_state(self.mirror.retained.calls)
            for call in self.tracker.from_state(calls, time.time()):
                log.info("catching up on %s at counter %s (missed while disconnected)", call.number, call.counter)
                self._accept(call)

    # ------------------------------------------------------------------ reports

    def _presence(self) -> dict[str, Any]:
        last = self.last
        speech = "unknown" if last is None else ("ok" if last.spoken else "failed")
        return {"role": "announcer", "device": self.device, "zone": self.zone,
                "speech": speech, "engine": getattr(self.announcer.synthesizer, "name", ""),
                "announced": self.announced, "failures": self.failures,
                "last_error": last.error if last else None,
                "last_call": ({"seq": last.call.seq, "number": last.call.number, "counter": last.call.counter,
                               "recall": last.call.recall} if last else None)}

    def _publish_presence(self) -> None:
        self.presence.publish(self._presence())

    def _reported(self, result: Result) -> None:
        with self._lock:
            self.announced += 1
            self.failures += 0 if result.error is None else 1
            self.last = result
        self._publish_presence()
