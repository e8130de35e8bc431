"""The kiosk's behaviour as pure functions: (state, what happened, now) -> new state and effects.

No I/O here: the shell (kiosk/ticketing/app.py) turns taps, engine replies, printer checks
and the clock into calls of these functions and carries out the returned
effects. Time is always passed in, so the 30-second idle rule and the tap guard
are tested with a made-up clock.

The rule that matters most: a request id is made once per visitor's choice and
kept until the engine answers, so "Try again" after a timeout can never make a
second ticket.

Check-in of a booking: the visitor types its code on the CHECK_IN screen's keypad, or a
USB barcode scanner types the booking QR's text and Enter like a keyboard (`typed`), on
any screen where the kiosk waits for someone. The code goes to the engine as a `CheckIn`
effect with a request id made once, like a ticket.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum

from broker.protocol.codec import normalize_booking_code
from kiosk.ticketing.catalog import Availability, Catalog, ServiceChoice
from kiosk.ticketing.ticket import TicketContent

IDLE_S = 30.0  # no touch for this long on any step: back to the start for the next visitor
DETAILS_IDLE_S = 60.0  # a service's requirements and hours take longer to read
TICKET_SHOW_S = 10.0  # the ticket screen after a printed ticket
UNPRINTED_SHOW_S = 90.0  # the number and QR stay longer when the paper did not come out
TAP_GUARD_S = 0.4  # a double tap must not also press the button that appears under the finger
ENTRY_MAX = 200  # characters kept of what is typed: a scanned booking link fits
ENTER = ("\r", "\n")
BACKSPACE = "\b"


class Screen(str, Enum):
    HOME = "home"
    SERVICES = "services"
    DETAILS = "details"  # one service's requirements, notice and opening hours in full
    CHECK_IN = "check_in"  # a booking's code, typed on the keypad or scanned
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
    """What a button does: kind is agency, service, details, take, priority, back, home, language, retry, done,
    check_in (HOME), or on CHECK_IN key (value: the character), delete and submit."""

    kind: str
    value: str | None = None


@dataclass(frozen=True)
class Request:
    """One visitor's choice, with the request id that identifies it to the engine across retries."""

    request_id: str
    service: str
    priority: str | None = None
    booking: str = ""  # a check-in: the booking's code (normalized); service is then unknown until the reply


@dataclass(frozen=True)
class Issue:
    """Effect: ask the engine for a ticket (after checking the printer) and print it."""

    request: Request


@dataclass(frozen=True)
class CheckIn:
    """Effect: check a booking in with the engine (after checking the printer) and print its ticket."""

    request: Request


Effect = Issue | CheckIn


def effect_for(request: Request) -> Effect:
    return CheckIn(request) if request.booking else Issue(request)


@dataclass(frozen=True)
class Notice:
    kind: str  # "closed", "quota_reached", "refused" or "check_in" (a check-in the engine refused)
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
    entry: str = ""  # what was typed or scanned on the CHECK_IN screen
    entry_error: bool = False  # the last code submitted was not a booking code (said on the CHECK_IN screen)
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
                      language=state.default_language, entry="", entry_error=False)
    return _show(cleared, _home_screen(cleared), now)


def _start_issue(state: KioskState, service: str, priority: str | None, now: float):
    seq = state.seq + 1
    request = Request(f"{state.id_prefix}-{seq}", service, priority)
    return _show(state, Screen.ISSUING, now, seq=seq, pending=request, service=service), [Issue(request)]


def _submit(state: KioskState, now: float, *, scanned: bool) -> tuple[KioskState, list[Effect]]:
    """The code on the CHECK_IN screen goes to the engine, or is refused here when it cannot be a booking code.

    A scanned text is cleared either way (the next scan starts afresh); a code typed on the keypad stays
    after a mistake, so one wrong letter can be fixed."""
    code = normalize_booking_code(state.entry)
    if code is None:
        return _show(state, Screen.CHECK_IN, now, entry="" if scanned else state.entry, entry_error=True), []
    seq = state.seq + 1
    request = Request(f"{state.id_prefix}-{seq}", "", None, booking=code)
    return _show(state, Screen.ISSUING, now, seq=seq, pending=request, service=None, agency=None, entry="",
                 entry_error=False, notice=None), [CheckIn(request)]


def _waiting_for_a_visitor(state: KioskState) -> bool:
    """Screens on which a scan starts a check-in: nobody is in the middle of something that a scan would lose."""
    if state.screen in (Screen.HOME, Screen.CHECK_IN):
        return True
    if state.screen == Screen.NOTICE:
        return True  # a refusal read: the visitor (or the next) scans again
    return state.screen == Screen.TICKET and state.print_status == PrintStatus.PRINTED


def typed(state: KioskState, text: str, now: float, *, bookings: bool = True) -> tuple[KioskState, list[Effect]]:
    """Keyboard input (a USB barcode scanner types the QR's text, then Enter): characters are added to the
    code, Backspace takes one off, Enter submits it. Only where the kiosk waits for a visitor, and only
    when some service takes bookings (`bookings`: a stray keyboard on a walk-in kiosk does nothing)."""
    effects: list[Effect] = []
    for char in text:
        if not bookings or not _waiting_for_a_visitor(state):
            break
        if char in ENTER:
            if state.screen == Screen.CHECK_IN and state.entry:
                state, more = _submit(replace(state, last_touch=now), now, scanned=True)
                effects += more
            continue
        if char == BACKSPACE:
            if state.screen == Screen.CHECK_IN:
                state = replace(state, entry=state.entry[:-1], entry_error=False, last_touch=now)
            continue
        if not char.isprintable():
            continue
        if state.screen != Screen.CHECK_IN:
            state = _show(go_home(state, now), Screen.CHECK_IN, now)
        if len(state.entry) < ENTRY_MAX:
            state = replace(state, entry=state.entry + char, entry_error=False, last_touch=now)
    return state, effects


def tap(state: KioskState, action: Tap, catalog: Catalog, now: float) -> tuple[KioskState, list[Effect]]:
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
        return _show(state, Screen.ISSUING, now), [effect_for(state.pending)]  # the same request id: never twice
    if kind == "check_in" and screen == Screen.HOME and catalog.takes_bookings:
        return _show(state, Screen.CHECK_IN, now, entry="", entry_error=False), []
    if screen == Screen.CHECK_IN and kind in ("key", "delete", "submit"):
        if kind == "key" and action.value and len(state.entry) < ENTRY_MAX:
            return replace(state, entry=state.entry + action.value, entry_error=False), []
        if kind == "delete":
            return replace(state, entry=state.entry[:-1], entry_error=False), []
        if kind == "submit" and state.entry:
            return _submit(state, now, scanned=False)
        return state, []
    if kind == "back":
        if screen == Screen.NOTICE and state.notice and state.notice.kind == "check_in":
            return _show(state, Screen.CHECK_IN, now, notice=None, entry="", entry_error=False), []
        if screen == Screen.ENGINE_OFFLINE and state.pending and state.pending.booking:
            return _show(state, Screen.CHECK_IN, now, pending=None, entry="", entry_error=False), []
        if screen in (Screen.PRIORITY, Screen.NOTICE, Screen.DETAILS) and state.agency:
            return _show(state, Screen.SERVICES, now, service=None, notice=None), []
        if screen in (Screen.SERVICES, Screen.PRIORITY, Screen.NOTICE, Screen.ENGINE_OFFLINE, Screen.CHECK_IN):
            return go_home(state, now), []
    return state, []


def _choose(state: KioskState, service: ServiceChoice | None, now: float) -> tuple[KioskState, list[Effect]]:
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
    if state.pending is not None and state.pending.booking:  # a check-in: the engine's own sentence says why
        notice = Notice("check_in", None, str(error.get("message", "")), str(error.get("message_en", "")))
        return _show(state, Screen.NOTICE, now, pending=None, notice=notice)
    kind = {"service_closed": "closed", "quota_reached": "quota_reached"}.get(code, "refused")
    if code == "day_closed":  # a holiday or closure: "closed" with the engine's reason and next opening
        kind = "closed"
    elif kind == "closed":  # out of hours: the kiosk's own words with the hours
        return _show(state, Screen.NOTICE, now, pending=None, notice=Notice(kind, state.service))
    message, message_en = str(error.get("message", "")), str(error.get("message_en", ""))
    referral = error.get("referral")
    if isinstance(referral, dict):  # an overflowing service names another office for some visitors
        text = str(referral.get("text") or "")
        message, message_en = (f"{message} {text}".strip(),
                               f"{message_en} {referral.get('text_en') or text}".strip())
    notice = Notice(kind, state.service, message, message_en)
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
                                  Screen.ISSUING, Screen.CHECK_IN):
        return _show(state, Screen.OUT_OF_SERVICE, now, pending=None)
    if not fault and state.screen == Screen.OUT_OF_SERVICE:
        return go_home(state, now)
    return state


def engine_changed(state: KioskState, online: bool, now: float) -> KioskState:
    state = replace(state, engine_online=online)
    if not online and state.screen in (Screen.HOME, Screen.SERVICES, Screen.DETAILS, Screen.PRIORITY, Screen.NOTICE,
                                       Screen.CHECK_IN):
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
