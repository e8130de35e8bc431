"""The kiosk's behaviour as pure functions: (state, what happened, now) -> new state and effects.

No I/O here: the shell (kiosk/ticketing/app.py) turns taps, engine replies, printer checks
and the clock into calls of these functions and carries out the returned
effects. Time is always passed in, so the 30-second idle rule and the tap guard
are tested with a made-up clock.

The rule that matters most: a request id is made once per visitor's choice and
kept until the engine answers, so "Try again" after a timeout can never make a
second ticket.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum

from kiosk.ticketing.catalog import Availability, Catalog, ServiceChoice
from kiosk.ticketing.ticket import TicketContent

IDLE_S = 30.0  # no touch for this long on any step: back to the start for the next visitor
DETAILS_IDLE_S = 60.0  # a service's requirements and hours take longer to read
TICKET_SHOW_S = 10.0  # the ticket screen after a printed ticket
UNPRINTED_SHOW_S = 90.0  # the number and QR stay longer when the paper did not come out
TAP_GUARD_S = 0.4  # a double tap must not also press the button that appears under the finger


class Screen(str, Enum):
    HOME = "home"
    SERVICES = "services"
    DETAILS = "details"  # one service's requirements, notice and opening hours in full
    PRIORITY = "priority"
    ISSUING = "issuing"
    TICKET = "ticket"
    NOTICE = "notice"  # closed service, quota reached, or another refusal
    OUT_OF_SERVICE = "out_of_service"  # printer fault
    ENGINE_OFFLINE = "engine_offline"


class PrintStatus(str, Enum):
    PRINTING = "printing"
    PRINTED = "printed"
    FAILED = "failed"


@dataclass(frozen=True)
class Tap:
    """What a button does: kind is agency, service, details, take, priority, back, home, language, retry or done."""

    kind: str
    value: str | None = None


@dataclass(frozen=True)
class Request:
    """One visitor's choice, with the request id that identifies it to the engine across retries."""

    request_id: str
    service: str
    priority: str | None = None


@dataclass(frozen=True)
class Issue:
    """Effect: ask the engine for a ticket (after checking the printer) and print it."""

    request: Request


@dataclass(frozen=True)
class Notice:
    kind: str  # "closed", "quota_reached" or "refused"
    service: str | None = None
    message: str = ""  # for refusals and closed days, the engine's own sentence in each language
    message_en: str = ""


@dataclass(frozen=True)
class KioskState:
    id_prefix: str = "kiosk"
    language: str = "id"
    default_language: str = "id"
    screen: Screen = Screen.HOME
    agency: str | None = None
    service: str | None = None
    pending: Request | None = None
    ticket: TicketContent | None = None
    print_status: PrintStatus | None = None
    notice: Notice | None = None
    printer_fault: str | None = None  # a status code of kiosk/printing/status.py, None when printing works
    engine_online: bool = True
    seq: int = 0
    last_touch: float = 0.0
    shown_at: float = field(default=-1e9)


def _show(state: KioskState, screen: Screen, now: float, **changes) -> KioskState:
    return replace(state, screen=screen, shown_at=now, **changes)


def _home_screen(state: KioskState) -> Screen:
    if state.printer_fault:
        return Screen.OUT_OF_SERVICE
    if not state.engine_online:
        return Screen.ENGINE_OFFLINE
    return Screen.HOME


def go_home(state: KioskState, now: float) -> KioskState:
    """A clean start for the next visitor: their language choice and half-made choices are forgotten."""
    cleared = replace(state, agency=None, service=None, pending=None, ticket=None, print_status=None, notice=None,
                      language=state.default_language)
    return _show(cleared, _home_screen(cleared), now)


def _start_issue(state: KioskState, service: str, priority: str | None, now: float):
    seq = state.seq + 1
    request = Request(f"{state.id_prefix}-{seq}", service, priority)
    return _show(state, Screen.ISSUING, now, seq=seq, pending=request, service=service), [Issue(request)]


def tap(state: KioskState, action: Tap, catalog: Catalog, now: float) -> tuple[KioskState, list[Issue]]:
    """A button was touched."""
    if now - state.shown_at < TAP_GUARD_S or state.screen == Screen.ISSUING:
        return state, []
    state = replace(state, last_touch=now)
    screen, kind = state.screen, action.kind
    if kind == "language":
        return replace(state, language="en" if state.language == "id" else "id"), []
    if kind == "home" or (kind == "done" and screen == Screen.TICKET):
        return go_home(state, now), []
    if kind == "agency" and screen == Screen.HOME:
        agency = catalog.agency(action.value)
        if agency is None:
            return state, []
        return _show(state, Screen.SERVICES, now, agency=agency.id, service=None), []
    if kind == "service" and screen == Screen.SERVICES:
        return _choose(state, catalog.service(action.value), now)
    if kind == "details" and screen == Screen.SERVICES:
        service = catalog.service(action.value)
        if service is None:
            return state, []
        return _show(state, Screen.DETAILS, now, service=service.code), []
    if kind == "take" and screen == Screen.DETAILS:
        return _choose(state, catalog.service(state.service), now)
    if kind == "priority" and screen == Screen.PRIORITY and state.service:
        return _start_issue(state, state.service, action.value or None, now)
    if kind == "retry" and screen == Screen.ENGINE_OFFLINE and state.pending:
        return _show(state, Screen.ISSUING, now), [Issue(state.pending)]  # the same request id: never twice
    if kind == "back":
        if screen in (Screen.PRIORITY, Screen.NOTICE, Screen.DETAILS) and state.agency:
            return _show(state, Screen.SERVICES, now, service=None, notice=None), []
        if screen in (Screen.SERVICES, Screen.PRIORITY, Screen.NOTICE, Screen.ENGINE_OFFLINE):
            return go_home(state, now), []
    return state, []


def _choose(state: KioskState, service: ServiceChoice | None, now: float) -> tuple[KioskState, list[Issue]]:
    """A service was chosen (on its tile or in its details): closed, full, priority question or a ticket."""
    if service is None:
        return state, []
    if service.availability == Availability.CLOSED:
        return _show(state, Screen.NOTICE, now, service=service.code,
                     notice=Notice("closed", service.code, service.closed_message, service.closed_message_en)), []
    if service.availability == Availability.QUOTA_REACHED:
        return _show(state, Screen.NOTICE, now, service=service.code,
                     notice=Notice("quota_reached", service.code)), []
    if service.priority_offered:
        return _show(state, Screen.PRIORITY, now, service=service.code), []
    return _start_issue(state, service.code, None, now)


# ---------------------------------------------------------------- what the shell reports back


def issued(state: KioskState, ticket: TicketContent, now: float) -> KioskState:
    return _show(state, Screen.TICKET, now, ticket=ticket, pending=None, print_status=PrintStatus.PRINTING,
                 notice=None)


def refused(state: KioskState, error: dict, now: float) -> KioskState:
    """The engine said no (closed, quota, ...): a definite answer, so the request is finished."""
    code = str(error.get("code", ""))
    kind = {"service_closed": "closed", "quota_reached": "quota_reached"}.get(code, "refused")
    if code == "day_closed":  # a holiday or closure: "closed" with the engine's reason and next opening
        kind = "closed"
    elif kind == "closed":  # out of hours: the kiosk's own words with the hours
        return _show(state, Screen.NOTICE, now, pending=None, notice=Notice(kind, state.service))
    notice = Notice(kind, state.service, str(error.get("message", "")), str(error.get("message_en", "")))
    return _show(state, Screen.NOTICE, now, pending=None, notice=notice)


def timed_out(state: KioskState, now: float) -> KioskState:
    """No answer: keep the request so "Try again" repeats the same id."""
    return _show(state, Screen.ENGINE_OFFLINE, now)


def printed(state: KioskState, ok: bool, fault: str | None, now: float) -> KioskState:
    if ok:
        return replace(state, print_status=PrintStatus.PRINTED, shown_at=now)
    return replace(state, print_status=PrintStatus.FAILED, printer_fault=fault or "error", shown_at=now)


def printer_checked(state: KioskState, fault: str | None, now: float) -> KioskState:
    """A printer check before a ticket (or a periodic one): a fault closes the kiosk until it is fixed."""
    state = replace(state, printer_fault=fault)
    if fault and state.screen in (Screen.HOME, Screen.SERVICES, Screen.DETAILS, Screen.PRIORITY, Screen.NOTICE,
                                  Screen.ISSUING):
        return _show(state, Screen.OUT_OF_SERVICE, now, pending=None)
    if not fault and state.screen == Screen.OUT_OF_SERVICE:
        return go_home(state, now)
    return state


def engine_changed(state: KioskState, online: bool, now: float) -> KioskState:
    state = replace(state, engine_online=online)
    if not online and state.screen in (Screen.HOME, Screen.SERVICES, Screen.DETAILS, Screen.PRIORITY, Screen.NOTICE):
        return _show(state, Screen.ENGINE_OFFLINE, now, pending=None)
    if online and state.screen == Screen.ENGINE_OFFLINE and state.pending is None:
        return go_home(state, now)
    return state


def tick(state: KioskState, now: float) -> KioskState:
    """The clock moved: the ticket screen times out, and an unattended kiosk goes back to the start."""
    if state.screen == Screen.TICKET:
        if state.print_status == PrintStatus.PRINTING:
            return state
        limit = TICKET_SHOW_S if state.print_status == PrintStatus.PRINTED else UNPRINTED_SHOW_S
        return go_home(state, now) if now - max(state.shown_at, state.last_touch) >= limit else state
    if state.screen in (Screen.ISSUING, Screen.OUT_OF_SERVICE):
        return state
    if state.screen == Screen.ENGINE_OFFLINE and state.pending is None:
        return state
    idle = now - max(state.last_touch, state.shown_at) >= (DETAILS_IDLE_S if state.screen == Screen.DETAILS else IDLE_S)
    if idle and (state.screen != Screen.HOME or state.language != state.default_language):
        return go_home(state, now)
    return state
