"""The kiosk's shell: joins the pure flow to MQTT, the printer and the clock.

Touches, engine replies and printer checks all end up as calls of kiosk/ticketing/flow.py
on the main thread; slow work (asking the engine, printing) runs in a worker
and reports back through a queue, so the screen never freezes while a printer
times out. Tests drive the same object headless, with a made-up clock and the
work done inline.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from broker.mqtt.client import ENGINE_TIMEOUT_S, EngineClient, EngineTimeout, StateMirror
from broker.mqtt.presence import Presence
from broker.protocol.codec import Topics
from broker.protocol.texts import tr
from kiosk.printing.printer import TicketPrinter
from kiosk.printing.status import PrinterStatus
from kiosk.ticketing import flow
from kiosk.ticketing.catalog import EMPTY, Catalog, build_catalog
from kiosk.ticketing.flow import KioskState, Screen
from kiosk.ticketing.screens import Frame, hit, render
from kiosk.ticketing.ticket import NotATicket, TicketContent, ticket_from_reply

log = logging.getLogger("antrian.kiosk")

PRINTER_CHECK_S = 20.0  # how often an idle kiosk asks its printer (a fixed printer reopens the kiosk by itself)


def in_background(job: Callable[[], None]) -> None:
    threading.Thread(target=job, daemon=True).start()


def inline(job: Callable[[], None]) -> None:
    job()


class KioskApp:
    def __init__(self, kiosk_id: str, url: str, site: str, printer: TicketPrinter, *,
                 size: tuple[int, int] = (1080, 1920), clock: Callable[[], float] = time.monotonic,
                 run_job: Callable[[Callable[[], None]], None] = in_background,
                 engine_timeout: float = ENGINE_TIMEOUT_S):
        self.kiosk_id = kiosk_id
        self.printer = printer
        self.size = size
        self.clock = clock
        self.run_job = run_job
        self.engine_timeout = engine_timeout
        self.results: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.state = KioskState(id_prefix=f"{kiosk_id}-{uuid.uuid4().hex[:8]}", shown_at=-1e9, engine_online=False)
        self.catalog: Catalog = EMPTY
        self._catalog_dirty = threading.Event()
        self._catalog_dirty.set()
        self._printer_status = PrinterStatus("unknown", "not checked yet")
        self._unprinted: TicketContent | None = None
        self._printed_ids: set[str] = set()
        self._checking = threading.Lock()
        self._last_check = -1e9
        topics = Topics(site)  # what it draws: the services (their names in the config), no counter
        self.mirror = StateMirror(url, site, name=f"antrian-kiosk-{kiosk_id}",
                                  on_change=lambda kind, key: self._catalog_dirty.set(),
                                  state_topics=(topics.config, topics.engine, topics.service_state("+")))
        self.client = EngineClient(url, site, name=f"antrian-kiosk-{kiosk_id}")
        self.presence = Presence(url, site, "kiosk", kiosk_id)

    # ------------------------------------------------------------ lifecycle

    def start(self, wait: float | None = ENGINE_TIMEOUT_S) -> KioskApp:
        """Connect; without `wait` the kiosk comes up at once and shows "connecting" until the broker answers."""
        self.presence.start(wait=wait)
        self.mirror.start(wait=wait)
        self.client.start(wait=wait or ENGINE_TIMEOUT_S)
        self._publish_presence()
        self.check_printer()
        return self

    def stop(self) -> None:
        for part in (self.presence, self.client, self.mirror):
            try:
                part.stop()
            except Exception:
                log.debug("stopping %s failed", part, exc_info=True)

    # ------------------------------------------------------------ the loop's calls

    def tap(self, pos: tuple[float, float]) -> None:
        """A finger or mouse press at `pos` (pixels of the kiosk's screen)."""
        action = hit(self.frame(), pos)
        if action is None:
            return
        self.state, effects = flow.tap(self.state, action, self.catalog, self.clock())
        self._carry_out(effects)
        self.update()

    def key(self, text: str) -> None:
        """Keyboard input: a USB barcode scanner types a booking QR's text, then Enter ("\\r"); "\\b" is Backspace."""
        self.update()
        self.state, effects = flow.typed(self.state, text, self.clock(), bookings=self.catalog.takes_bookings)
        self._carry_out(effects)
        self.update()

    def _carry_out(self, effects: list[flow.Effect]) -> None:
        for effect in effects:
            request, language = effect.request, self.state.language
            self.run_job(functools.partial(self._take_ticket, request, language))

    def update(self) -> None:
        """Take in what happened since the last frame: worker results, the engine's state, the clock."""
        now = self.clock()
        if self._catalog_dirty.is_set():
            self._catalog_dirty.clear()
            retained = self.mirror.retained
            self.catalog = build_catalog(retained.config, retained.services)
            if retained.config is not None and self.state.default_language != self.catalog.language:
                self.state = replace(self.state, default_language=self.catalog.language)
            online = retained.config is not None and retained.engine_online
            if online != self.state.engine_online:
                self.state = flow.engine_changed(self.state, online, now)
        retained = self.mirror.retained
        if self.state.engine_online and not self.mirror.online:
            self.state = flow.engine_changed(self.state, False, now)
        elif not self.state.engine_online and self.mirror.online and retained.config is not None and retained.engine_online:
            self.state = flow.engine_changed(self.state, True, now)
        while True:
            try:
                kind, value = self.results.get_nowait()
            except queue.Empty:
                break
            self._apply(kind, value, now)
        self.state = flow.tick(self.state, now)
        if self.state.screen in (Screen.HOME, Screen.OUT_OF_SERVICE) and now - self._last_check >= PRINTER_CHECK_S:
            self.check_printer()

    def frame(self) -> Frame:
        zone = _zone(self.catalog.timezone)
        return Frame(self.state, self.catalog, self.size, datetime.now(zone))

    def render(self):
        return render(self.frame())

    # ------------------------------------------------------------ work in the worker

    def check_printer(self) -> None:
        """Ask the printer in the background (at most one check at a time)."""
        self._last_check = self.clock()
        if not self._checking.acquire(blocking=False):
            return

        def job() -> None:
            try:
                self.results.put(("printer", self.printer.check()))
            finally:
                self._checking.release()

        self.run_job(job)
        self.update_results_only()

    def update_results_only(self) -> None:
        now = self.clock()
        while True:
            try:
                kind, value = self.results.get_nowait()
            except queue.Empty:
                return
            self._apply(kind, value, now)

    def _take_ticket(self, request: flow.Request, language: str) -> None:
        """Printer first, then the engine, then paper: no ticket is issued that cannot be printed, and nothing
        is printed that the engine did not acknowledge. A check-in (`request.booking`) goes the same way."""
        status = self.printer.check()
        if status.fault:
            self.results.put(("printer", status))
            return
        try:
            if request.booking:
                reply = self.client.check_in(self.kiosk_id, request.booking, request_id=request.request_id,
                                             timeout=self.engine_timeout)
            else:
                reply = self.client.issue(self.kiosk_id, request.service, request.priority,
                                          request_id=request.request_id, timeout=self.engine_timeout)
        except (EngineTimeout, ConnectionError, OSError) as exc:
            log.warning("no answer from the engine for %s: %s", request.request_id, exc)
            self.results.put(("timeout", None))
            return
        if not reply.get("ok"):
            referral = reply.get("referral")  # where else to go, when the service names another office
            self.results.put(("refused", (reply.get("error") or {}) |
                              ({"referral": referral} if isinstance(referral, dict) else {})))
            return
        try:
            ticket = ticket_from_reply(reply, self.catalog, language)
        except NotATicket as exc:
            log.error("%s", exc)
            self.results.put(("refused", {"code": "bad_reply", "message": str(exc), "message_en": str(exc)}))
            return
        self.results.put(("issued", ticket))
        if ticket.ticket_id in self._printed_ids:  # the same ticket again (a late duplicate reply): never twice
            self.results.put(("printed", PrinterStatus("ok", "already printed")))
            return
        result = self.printer.print_ticket(ticket)
        if not result.fault:
            self._printed_ids.add(ticket.ticket_id)
        self.results.put(("printed", result if result.fault else PrinterStatus("ok")))

    def _apply(self, kind: str, value: Any, now: float) -> None:
        if kind == "printer":
            self._set_printer(value)
            self.state = flow.printer_checked(self.state, value.code if value.fault else None, now)
        elif kind == "timeout":
            self.state = flow.timed_out(self.state, now)
        elif kind == "refused":
            self.state = flow.refused(self.state, value, now)
        elif kind == "issued":
            self.state = flow.issued(self.state, value, now)
        elif kind == "printed":
            self._unprinted = self.state.ticket if value.fault else None
            if value.fault:
                log.error("ticket %s was issued but not printed: %s (%s)",
                          self.state.ticket.number if self.state.ticket else "?", value.code, value.detail)
            self._set_printer(value, force=value.fault)
            self.state = flow.printed(self.state, not value.fault, value.code if value.fault else None, now)

    # ------------------------------------------------------------ presence

    def _set_printer(self, status: PrinterStatus, force: bool = False) -> None:
        changed = (status.code, status.detail if status.fault else "") != \
            (self._printer_status.code, self._printer_status.detail if self._printer_status.fault else "")
        self._printer_status = status
        if changed or force:
            self._publish_presence()

    def presence_status(self) -> dict[str, Any]:
        """What the admin sees about this kiosk (retained on its presence topic)."""
        status = self._printer_status
        unprinted = self._unprinted
        return {
            "role": "kiosk", "kiosk": self.kiosk_id, "in_service": not status.fault,
            "printer": {"status": status.code, "fault": status.fault,
                        "message": tr(f"printer.{status.code}", "id", default="printer.error"),
                        "message_en": tr(f"printer.{status.code}", "en", default="printer.error"), "detail": status.detail,
                        "target": str(self.printer.target)},
            "unprinted": {"number": unprinted.number, "ticket": unprinted.ticket_id} if unprinted else None,
        }

    def _publish_presence(self) -> None:
        try:
            self.presence.publish(self.presence_status())
        except Exception:  # the admin's view must never stop the kiosk
            log.warning("publishing the kiosk's presence failed", exc_info=True)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("Asia/Jakarta")
