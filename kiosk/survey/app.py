"""The satisfaction tablet's shell: `ticket_finished` events and taps in, survey responses out.

The pure flow (kiosk/survey/flow.py) decides and the engine judges; this module
only carries. The state mirror also listens to `events/ticket_finished` and
keeps those of this counter; a worker thread sends each response (the client
retries with the same request id, and so does "Try again"), and its reply comes
back through a queue to the main thread. Tests drive the same object headless.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from broker.mqtt.client import ENGINE_TIMEOUT_S, EngineClient, EngineTimeout, StateMirror
from broker.mqtt.presence import Presence
from broker.protocol.codec import Topics
from broker.protocol.state import TicketFinished, decode_event
from kiosk.shell import tap_event, touch_loop
from kiosk.survey import flow
from kiosk.survey.screens import SIZE, Frame, hit, render

log = logging.getLogger("antrian.survey")


class SurveyApp:
    def __init__(self, counter_id: str, url: str, site: str, *, size: tuple[int, int] = SIZE,
                 clock_fn: Callable[[], float] = time.monotonic, engine_timeout: float = ENGINE_TIMEOUT_S):
        self.counter_id = counter_id
        self.size = size
        self.now = clock_fn
        self.engine_timeout = engine_timeout
        self.state = flow.SurveyState(id_prefix=f"s{counter_id}-{uuid.uuid4().hex[:8]}", engine_online=False)
        self.results: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.sent: list[flow.Submit] = []  # every send, retries included (for tests and the log)
        self.mirror = StateMirror(url, site, name=f"antrian-survey-{counter_id}",  # the config and engine only
                                  state_topics=(Topics(site).config, Topics(site).engine),
                                  extra_subscriptions=(Topics(site).event("ticket_finished"),),
                                  on_other=self._on_event)
        self.client = EngineClient(url, site, name=f"antrian-survey-{counter_id}-client")
        self.presence = Presence(url, site, "survey", counter_id)

    def start(self, wait: float | None = ENGINE_TIMEOUT_S) -> SurveyApp:
        self.presence.start(wait=wait)
        self.mirror.start(wait=wait)
        self.client.start(wait=wait or ENGINE_TIMEOUT_S)
        self.presence.publish({"role": "survey", "counter": self.counter_id})
        return self

    def stop(self) -> None:
        for part in (self.presence, self.client, self.mirror):
            try:
                part.stop()
            except Exception:
                log.debug("stopping %s failed", part, exc_info=True)

    # ------------------------------------------------------------ input

    def _on_event(self, topic: str, payload: bytes) -> None:
        """MQTT thread: a finished ticket of this counter becomes a visit for the main thread."""
        if self.mirror.topics.event_of(topic) != "ticket_finished":
            return
        event = decode_event("ticket_finished", payload)
        if isinstance(event, TicketFinished) and event.counter == self.counter_id and event.ticket:
            self.results.put(("finished", event))

    def tap(self, pos: tuple[float, float]) -> list[flow.Submit]:
        """A finger or mouse press at `pos` (pixels of the tablet's screen)."""
        self.update()
        action = hit(self.frame(), pos)
        if action is None:
            return []
        self.state, effects = flow.tap(self.state, action, self.now())
        for submit in effects:
            self._send(submit)
        return effects

    def event(self, event) -> None:
        tap_event(self, event)

    def _send(self, submit: flow.Submit) -> None:
        self.sent.append(submit)

        def job() -> None:
            body = {"request_id": submit.request_id, "ticket": submit.ticket, "answers": list(submit.answers),
                    "comment": submit.comment}
            try:
                reply = self.client.request(self.client.topics.survey_request(self.counter_id),
                                            self.client.topics.survey_reply(self.counter_id), body,
                                            timeout=self.engine_timeout)
            except (EngineTimeout, ConnectionError, OSError) as exc:
                log.warning("no answer from the engine to survey %s: %s", submit.request_id, exc)
                reply = None
            self.results.put(("reply", (submit.request_id, reply)))

        threading.Thread(target=job, daemon=True).start()

    # ------------------------------------------------------------ state and drawing

    def update(self) -> None:
        now = self.now()
        online = self.mirror.online and self.mirror.retained.engine_online
        if online != self.state.engine_online:
            self.state = flow.engine_changed(self.state, online)
        while True:
            try:
                kind, value = self.results.get_nowait()
            except queue.Empty:
                break
            if kind == "finished":
                self.state = flow.ticket_finished(self.state, self.visit(value), now)
            else:
                request_id, reply = value
                self.state = flow.answered(self.state, request_id, reply, now)
        self.state = flow.tick(self.state, now)

    def visit(self, event: TicketFinished) -> flow.Visit:
        config = self.mirror.retained.config
        service = config.service(event.service) if config else None
        return flow.Visit(event.ticket, event.number, service.name if service else event.service)

    def wait_idle(self, timeout: float = ENGINE_TIMEOUT_S * 2) -> bool:
        """Until the response being sent is answered (for tests and screenshots)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.update()
            if self.state.screen != flow.Screen.SENDING:
                return True
            time.sleep(0.01)
        return False

    def wait_for(self, screen: flow.Screen, timeout: float = ENGINE_TIMEOUT_S * 2) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.update()
            if self.state.screen == screen:
                return True
            time.sleep(0.01)
        return False

    def frame(self) -> Frame:
        config = self.mirror.retained.config
        conf = config.counter(self.counter_id) if config else None
        agency = config.agency_label(conf.agency) if config and conf else ""
        return Frame(self.state, self.size, self.counter_id, agency)

    def render(self):
        return render(self.frame())


def run(app: SurveyApp, *, fullscreen: bool = False, max_seconds: float | None = None) -> int:
    """The window: Ctrl+Q or closing it quits."""
    return touch_loop(app, f"Antrian survei loket {app.counter_id}", app.frame, render, on_event=app.event,
                      failed="drawing the survey tablet failed", logger=log, hide_pointer=fullscreen,
                      fullscreen=fullscreen, max_seconds=max_seconds)
