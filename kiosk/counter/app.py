"""The counter panel's shell: keys, taps and the clock in; requests to the engine out; frames drawn.

The pure flow (kiosk/counter/flow.py) decides, the engine judges, this module
only carries: the MQTT mirror feeds the facts, a worker thread sends each
request (the client retries with the same request id, so a lost reply never
calls twice) and posts the reply back for the main thread. Tests drive the same
object headless with real pygame key events.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from broker.mqtt.client import ENGINE_TIMEOUT_S, EngineClient, EngineTimeout, StateMirror, new_request_id
from broker.mqtt.presence import Presence
from broker.protocol.codec import Topics
from broker.protocol.sign_in import BadChallenge, sign_in_body
from broker.protocol.texts import message
from display.toolkit.humanize import clock
from kiosk.counter import flow
from kiosk.counter.panel import SIZE, PanelView, hit, panel_facts, panel_view, render_panel
from kiosk.shell import touch_loop

log = logging.getLogger("antrian.counter")

# pygame key codes of a numeric keypad (and the keyboard's own keys) -> the flow's key tokens
_NAMED = {"K_RETURN": "enter", "K_KP_ENTER": "enter", "K_BACKSPACE": "backspace", "K_ESCAPE": "escape",
          "K_KP_PLUS": "+", "K_KP_MINUS": "-", "K_KP_MULTIPLY": "*", "K_KP_DIVIDE": "/", "K_KP_PERIOD": ".",
          **{f"K_KP{n}": str(n) for n in range(10)}, **{f"K_KP_{n}": str(n) for n in range(10)}}
_CHARS = set("+-*/.0123456789")


def key_token(event) -> str | None:
    """The token of a KEYDOWN event: keypad keys by code (NumLock on or off), others by the character typed."""
    import pygame

    for name, token in _NAMED.items():
        if getattr(pygame, name, None) == event.key:
            return token
    char = getattr(event, "unicode", "") or ""
    if char == "=" and event.mod & pygame.KMOD_SHIFT:
        return "+"
    if char == ",":  # the keypad's decimal key on an Indonesian layout
        return "."
    return char if char in _CHARS else None


class CounterApp:
    def __init__(self, counter_id: str, url: str, site: str, *, size: tuple[int, int] = SIZE, lang: str = "id",
                 clock_fn: Callable[[], float] = time.time, engine_timeout: float = ENGINE_TIMEOUT_S):
        self.counter_id = counter_id
        self.size = size
        self.lang = lang
        self.now = clock_fn
        self.engine_timeout = engine_timeout
        self.panel = flow.Panel(id_prefix=f"c{counter_id}-{uuid.uuid4().hex[:8]}")
        self.results: queue.Queue[tuple[str, dict | None]] = queue.Queue()
        self.changed = threading.Event()
        topics = Topics(site)  # what it draws: its own counter and the queues (no other counter's changes)
        self.mirror = StateMirror(url, site, name=f"antrian-counter-panel-{counter_id}",
                                  on_change=lambda kind, key: self.changed.set(),
                                  state_topics=(topics.config, topics.engine, topics.counter_state(counter_id),
                                                topics.service_state("+")))
        self.client = EngineClient(url, site, name=f"antrian-counter-panel-{counter_id}-client")
        self.presence = Presence(url, site, "counter", counter_id)

    def start(self, wait: float | None = ENGINE_TIMEOUT_S) -> CounterApp:
        self.presence.start(wait=wait)
        self.mirror.start(wait=wait)
        self.client.start(wait=wait or ENGINE_TIMEOUT_S)
        self.presence.publish({"role": "counter", "counter": self.counter_id})
        return self

    def stop(self) -> None:
        for part in (self.presence, self.client, self.mirror):
            try:
                part.stop()
            except Exception:
                log.debug("stopping %s failed", part, exc_info=True)

    # ------------------------------------------------------------ input

    def facts(self) -> flow.Facts:
        retained = self.mirror.retained
        return panel_facts(retained.config, retained.counters, retained.services, self.counter_id, self.lang)

    def key(self, token: str) -> flow.Request | None:
        self.update()
        self.panel, request = flow.key(self.panel, token, self.facts(), self.now())
        return self._send(request)

    def press(self, action: flow.Action) -> flow.Request | None:
        self.update()
        self.panel, request = flow.press(self.panel, action, self.facts(), self.now())
        return self._send(request)

    def tap(self, pos: tuple[float, float]) -> flow.Request | None:
        action = hit(self.view(), pos)
        return self.press(action) if action else None

    def event(self, event) -> flow.Request | None:
        """One pygame event (key, click or touch)."""
        import pygame

        if event.type == pygame.KEYDOWN:
            token = key_token(event)
            return self.key(token) if token else None
        if event.type == pygame.MOUSEBUTTONDOWN and event.button == 1 and not getattr(event, "touch", False):
            return self.tap(event.pos)
        if event.type == pygame.FINGERDOWN:
            return self.tap((event.x * self.size[0], event.y * self.size[1]))
        return None

    def _send(self, request: flow.Request | None) -> flow.Request | None:
        if request is None:
            return None

        def job() -> None:
            body: dict[str, Any] = {"action": request.action}
            for name in ("to", "number"):
                if getattr(request, name):
                    body[name] = getattr(request, name)
            try:
                reply = self._sign_in(request) if request.action == "sign-in" else self._command(request, body)
            except (EngineTimeout, ConnectionError, OSError) as exc:
                log.warning("no answer from the engine to %s: %s", request.request_id, exc)
                reply = None
            self.results.put((request.request_id, reply))
            self.changed.set()

        threading.Thread(target=job, daemon=True).start()
        return request

    def _command(self, request: flow.Request, body: dict[str, Any]) -> dict[str, Any]:
        topics = self.client.topics
        return self.client.request(topics.counter_command(self.counter_id), topics.counter_reply(self.counter_id),
                                   body | {"request_id": request.request_id}, timeout=self.engine_timeout)

    def _sign_in(self, request: flow.Request) -> dict[str, Any]:
        """Challenge, then proof: the typed PIN never leaves this panel (broker.protocol.sign_in)."""
        for _ in range(2):  # a challenge used up meanwhile (another try at this counter): ask once more
            challenge = self._command(replace(request, request_id=new_request_id()),
                                      {"action": "sign-in-challenge", "officer": request.officer})
            if not challenge.get("ok"):
                return challenge  # not this officer here, locked...: said before any PIN is considered
            try:
                body = sign_in_body(request.pin or "", challenge.get("challenge"), self.client.topics.site,
                                    self.counter_id)
            except BadChallenge as exc:
                log.warning("refusing the engine's sign-in challenge: %s", exc)
                return {"ok": False, "error": message("engine_unavailable").as_dict()}
            reply = self._command(request, body)
            if (reply.get("error") or {}).get("code") != "sign_in_expired":
                return reply
        return reply

    def wait_idle(self, timeout: float = ENGINE_TIMEOUT_S * 2) -> bool:
        """Until the pending request is answered (for tests and screenshots)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.update()
            if self.panel.pending is None:
                return True
            time.sleep(0.01)
        return False

    # ------------------------------------------------------------ state and drawing

    def update(self) -> None:
        now = self.now()
        while True:
            try:
                request_id, reply = self.results.get_nowait()
            except queue.Empty:
                break
            self.panel = flow.answered(self.panel, request_id, reply, now)
        self.panel = flow.sync(self.panel, self.facts(), now)

    def local_now(self) -> datetime:
        config = self.mirror.retained.config
        name = (config.site.timezone if config else "") or "Asia/Jakarta"
        try:
            return datetime.fromtimestamp(self.now(), ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):
            return datetime.fromtimestamp(self.now())

    def view(self) -> PanelView:
        facts = self.facts()
        retained = self.mirror.retained
        online = self.mirror.online and retained.engine_online
        return panel_view(self.panel, facts, retained.config, retained.counters, retained.services, self.counter_id,
                          now=self.now(), local_clock=clock(self.local_now()), online=online, lang=self.lang,
                          size=self.size)

    def render(self):
        return render_panel(self.view())


def run(app: CounterApp, *, fullscreen: bool = False, max_seconds: float | None = None) -> int:
    """The window: Ctrl+Q or closing it quits (Esc is a panel key: back); the pointer stays for the mouse."""
    return touch_loop(app, f"Antrian loket {app.counter_id}", app.view, render_panel, on_event=app.event,
                      failed="drawing the counter panel failed", logger=log, hide_pointer=False,
                      fullscreen=fullscreen, max_seconds=max_seconds)
