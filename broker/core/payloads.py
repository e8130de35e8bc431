"""The payloads the engine publishes, as types: every retained state topic and every event.

One frozen dataclass per payload, its fields in the order they go on the wire. The
engine builds its retained state from these (broker.core.views) and encodes them with
`as_dict`; every kiosk, panel, tablet, screen and the announcer reads them back through
`broker.protocol.state.decode`, which ignores unknown fields and gives missing or
mistyped ones their default. So a field added to a service's state is one line here
(with its default), the line that fills it in broker.core.views, and its name in
docs/protocol.md (tests/unit/test_protocol_doc.py keeps the document and these types
equal).

They live in the pure core because the engine builds them and the core may import
nothing outside itself; broker.protocol.state re-exports them for devices, with the
tolerant decoder. Stdlib only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

from broker.core.model import Rules, Site

# ---------------------------------------------------------------------- state/config


@dataclass(frozen=True)
class AgencyEntry:
    id: str
    name: str = ""
    short: str = ""
    kind: str = ""
    logo: str = ""
    hours: str = ""  # the opening hours in words, Bahasa Indonesia
    hours_en: str = ""


@dataclass(frozen=True)
class ServiceEntry:
    code: str
    name: str = ""
    name_en: str = ""
    agency: str = ""
    quota: int | None = None
    priority: bool = True  # whether the kiosk offers priority tickets
    notice: str = ""
    requirements: str = ""
    hours: str = ""
    hours_en: str = ""
    quota_online: int | None = None  # of `quota`, the places per day booked ahead; null: no booking
    referral: str = ""  # where else to go when it is full (another office for some districts)
    referral_en: str = ""

    def title(self, lang: str) -> str:
        """The name in `lang` ("en" falls back to the Indonesian name), else the code."""
        return (self.name_en if lang == "en" else "") or self.name or self.code


@dataclass(frozen=True)
class CounterEntry:
    id: str
    agency: str = ""
    services: tuple[str, ...] = ()  # in order of preference
    zone: str = ""
    name: str = ""


@dataclass(frozen=True)
class OfficerEntry:
    id: str
    name: str = ""
    agency: str = ""  # when given, the officer may sign in only at this agency's counters
    counters: tuple[str, ...] = ()  # when given, only at these counters

    def may_staff(self, counter: CounterEntry) -> bool:
        return (not self.agency or self.agency == counter.agency) and (not self.counters
                                                                       or counter.id in self.counters)


@dataclass(frozen=True)
class ConfigState:
    """`state/config`: the public site config (never the PIN hashes). `site` and `rules` are the model's own."""

    site: Site = field(default_factory=lambda: Site("", ""))
    rules: Rules = field(default_factory=Rules)
    agencies: tuple[AgencyEntry, ...] = ()
    services: tuple[ServiceEntry, ...] = ()
    counters: tuple[CounterEntry, ...] = ()
    officers: tuple[OfficerEntry, ...] = ()

    def agency(self, agency_id: str | None) -> AgencyEntry | None:
        return next((a for a in self.agencies if a.id == agency_id), None)

    def service(self, code: str | None) -> ServiceEntry | None:
        return next((s for s in self.services if s.code == code), None)

    def counter(self, counter_id: str | None) -> CounterEntry | None:
        return next((c for c in self.counters if c.id == counter_id), None)

    def agency_label(self, agency_id: str | None, *, full: bool = False) -> str:
        """The agency's short name (`full`: its full name), whichever is set; "" when unknown."""
        agency = self.agency(agency_id)
        if agency is None:
            return ""
        return (agency.name or agency.short) if full else (agency.short or agency.name)


# ---------------------------------------------------------------------- state/service, state/counter, state/calls


@dataclass(frozen=True)
class DayClosed:
    """Why a service issues no tickets all day (a holiday, cuti bersama or a closure): the engine's
    `day_closed` refusal, its reason and next opening in both languages, for the kiosk to say first."""

    code: str = "day_closed"
    message: str = ""
    message_en: str = ""


@dataclass(frozen=True)
class WaitPace:
    """How fast a service's queue moves now, so any reader can estimate the wait of any place in it.

    `mean_s`, `low_s` and `high_s` are the mean, 25th and 75th percentile of the recent service
    times (a default before any is known); `counters` is the open counters' fair share given to
    this service (a counter shared with other services counts in part). `wait_range(ahead)` is
    the estimate: the tickets ahead are served `counters` at a time, their times add up (the
    centre grows with `ahead`, the spread only with its square root), and the high end adds half
    a service for the one under way."""

    mean_s: float = 0.0
    low_s: float = 0.0
    high_s: float = 0.0
    counters: float = 0.0

    def wait_s(self, ahead: int) -> int | None:
        """The middle of the estimate; None when no counter serves the service now."""
        if self.counters <= 0:
            return None
        return round(max(0, ahead) * self.mean_s / self.counters)

    def wait_range(self, ahead: int) -> tuple[int, int] | None:
        """(shortest, longest) likely wait in seconds for a ticket with `ahead` tickets before it."""
        if self.counters <= 0:
            return None
        n = max(0, ahead)
        spread = math.sqrt(n)
        low = (n * self.mean_s - spread * max(0.0, self.mean_s - self.low_s)) / self.counters
        high = (n * self.mean_s + spread * max(0.0, self.high_s - self.mean_s) + self.mean_s / 2) / self.counters
        return round(max(0.0, low)), round(max(low, high))


@dataclass(frozen=True)
class TurnedAway:
    """Requests for a service refused today, by reason: "permintaan tidak terlayani" (each a
    `demand_turned_away` event, so reports recount them from the log)."""

    quota: int = 0  # the day's walk-in quota or a session's online places were used up
    closed: int = 0  # the service was closed (hours, holiday, closure) or does not open that day
    cutoff: int = 0  # too late: a session already started, a check-in after its cut-off
    limit: int = 0  # the phone or NIK already holds its bookings for that day
    overflow: int = 0  # the wait estimate passed the closing time (rules.overflow "stop")
    referral: int = 0  # the same, sent to another office (the service's referral notice)
    total: int = 0


@dataclass(frozen=True)
class ServiceState:
    """`state/service/<code>`."""

    code: str = ""
    name: str = ""
    agency: str = ""
    waiting: int = 0
    waiting_priority: int = 0
    issued_today: int = 0
    last_issued: str | None = None
    last_called: str | None = None
    quota: int | None = None
    quota_left: int | None = None
    open: bool | None = None  # None: not said (treated as open; the engine has the last word when issuing)
    closed_today: DayClosed | None = None  # a holiday or closure shuts it all day
    est_wait_s: int | None = None  # of a ticket taken now; None while no counter serves the service
    pace: WaitPace | None = None  # for the wait of any place in the queue; None while no counter serves it
    waiting_numbers: tuple[str, ...] = ()  # the first 50 waiting numbers, in calling order
    no_shows: tuple[str, ...] = ()  # today's no-show numbers that may be reactivated
    oldest_issued_at: float | None = None  # when the longest-waiting ticket was issued; None when none waits
    walk_in_left: int | None = None  # walk-in tickets left today (online places still held subtracted); None: no quota
    booked_today: int = 0  # bookings for today, not cancelled
    checked_in_today: int = 0  # of which checked in (reservation tickets)
    overflow: bool = False  # a ticket taken now would not be served before closing (wait estimate)
    turned_away: TurnedAway = field(default_factory=TurnedAway)


@dataclass(frozen=True)
class TicketInfo:
    """A ticket as replies and `state/counter/<id>`'s `current` show it."""

    id: str
    number: str
    service: str = ""
    agency: str = ""
    priority: str | None = None
    state: str = ""
    issued_at: float | None = None
    counter: str | None = None
    called_at: float | None = None
    recalls: int = 0
    last_call_at: float | None = None
    origin_service: str = ""
    reservation: bool = False  # checked in from a booking: paper and screens say "Reservasi"
    session: str = ""  # a reservation's booked session, "08:00-10:00"


@dataclass(frozen=True)
class OnDuty:
    """The officer signed in at a counter."""

    id: str
    name: str = ""
    since: float | None = None


@dataclass(frozen=True)
class CounterState:
    """`state/counter/<counter>`."""

    id: str = ""
    agency: str = ""
    services: tuple[str, ...] = ()
    zone: str = ""
    status: str = "closed"  # open, break, closed
    current: TicketInfo | None = None
    served_today: int = 0
    officer: OnDuty | None = None
    in_hours: bool | None = None
    unstaffed: bool = False


@dataclass(frozen=True)
class CounterBrief:
    """One counter in `state/counters`: what a hall screen shows of it."""

    id: str
    status: str = "closed"  # open, break, closed
    number: str | None = None  # the number at the counter now


@dataclass(frozen=True)
class CountersState:
    """`state/counters`: every counter in brief, in the config's order, at most one message per window (the
    hall screens take this instead of every `state/counter/<id>`)."""

    counters: tuple[CounterBrief, ...] = ()


@dataclass(frozen=True)
class CallEntry:
    """One call or recall in `state/calls`."""

    seq: int
    ts: float
    ticket: str = ""
    number: str = ""
    service: str = ""
    agency: str = ""
    counter: str = ""
    recall: bool = False
    reservation: bool = False  # a checked-in booking


@dataclass(frozen=True)
class NoticeState:
    """`state/notice`: the supervisor's notice on the hall screens (the control room); empty texts when none."""

    text: str = ""
    text_en: str = ""
    by: str = ""
    since: float | None = None


@dataclass(frozen=True)
class CallsState:
    """`state/calls`: the last 10 calls and recalls, newest first."""

    calls: tuple[CallEntry, ...] = ()


# ---------------------------------------------------------------------- state/booking/<code>


@dataclass(frozen=True)
class BookingSession:
    """One session of one day and its online places."""

    session: str  # "08:00-10:00", what a `book` command names
    starts: str = ""  # local start, "2026-12-03T08:00"
    places: int = 0  # online places of the session
    left: int = 0  # not booked yet (0 once it can no longer be booked)
    open: bool = True  # can still be booked (it has not started)


@dataclass(frozen=True)
class BookingDay:
    """One day a service is open, within the booking window."""

    day: str  # local date, "2026-12-03"
    sessions: tuple[BookingSession, ...] = ()
    left: int = 0  # places left that day, every session


@dataclass(frozen=True)
class BookingState:
    """`state/booking/<code>`: the days (today and `rules.booking_days_ahead` after) a service can be booked."""

    code: str = ""
    bookable: bool = False  # the service takes bookings (it has `quota_online`)
    days: tuple[BookingDay, ...] = ()  # its open days in the window, in order (closed days left out)
    next_open: str | None = None  # the first day in the window with a place left; null when none is


@dataclass(frozen=True)
class BookingInfo:
    """A booking as the replies of `book`, `booking-show`, `booking-cancel` and `check-in` show it."""

    code: str
    service: str = ""
    agency: str = ""
    day: str = ""
    session: str = ""
    state: str = "booked"  # booked, checked_in, cancelled, expired
    ticket: str | None = None  # the ticket id once checked in
    number: str | None = None
    check_in_from: str = ""  # local time, "2026-12-03T07:30"
    check_in_until: str = ""  # the cut-off, "2026-12-03T08:15"


# ---------------------------------------------------------------------- state/engine


@dataclass(frozen=True)
class ClockAlarm:
    """While the wall clock is held after a jump of a day or more."""

    status: str = "jumped"
    by_s: float = 0.0
    since: float | None = None
    accept_in_s: int | None = None  # None for a jump back, which is never accepted by itself


@dataclass(frozen=True)
class EngineState:
    """`state/engine`; the engine's last will is only `{"status": "offline", "site"}` (`offline`)."""

    status: str = "offline"
    site: str = ""
    day: str | None = None
    clock: ClockAlarm | None = None
    started_at: float | None = None
    ignore_hours: bool = False

    @property
    def online(self) -> bool:
        return self.status == "online"


def offline(site: str) -> dict[str, Any]:
    """The payload of `state/engine` when the engine stops or dies (its MQTT last will)."""
    return {"status": "offline", "site": site}


# ---------------------------------------------------------------------- events/<type>


@dataclass(frozen=True)
class EventHead:
    type: str
    ts: float
    seq: int


@dataclass(frozen=True)
class DayStarted(EventHead):
    day: str = ""
    expired: tuple[str, ...] = ()


@dataclass(frozen=True)
class TicketIssued(EventHead):
    ticket: str = ""
    number: str = ""
    n: int = 0
    service: str = ""
    agency: str = ""
    priority: str | None = None
    kiosk: str = ""
    booking: str = ""  # the booking code of a reservation ticket (check-in), else ""
    session: str = ""  # its session, else ""
    order: float | None = None  # its place in the queue when not its own seq (booking_place "slot", "front")


@dataclass(frozen=True)
class TicketCalled(EventHead):
    ticket: str = ""
    number: str = ""
    service: str = ""
    agency: str = ""
    counter: str = ""
    priority: str | None = None
    waited_s: float = 0.0


@dataclass(frozen=True)
class TicketRecalled(EventHead):
    ticket: str = ""
    number: str = ""
    service: str = ""
    agency: str = ""
    counter: str = ""


@dataclass(frozen=True)
class TicketNoShow(EventHead):
    ticket: str = ""
    number: str = ""
    service: str = ""
    counter: str = ""


@dataclass(frozen=True)
class TicketFinished(EventHead):
    ticket: str = ""
    number: str = ""
    service: str = ""
    agency: str = ""
    counter: str = ""


@dataclass(frozen=True)
class TicketTransferred(EventHead):
    ticket: str = ""
    number: str = ""
    from_service: str = ""
    to_service: str = ""
    counter: str = ""


@dataclass(frozen=True)
class TicketReactivated(EventHead):
    ticket: str = ""
    number: str = ""
    service: str = ""
    counter: str = ""


@dataclass(frozen=True)
class CounterStatusChanged(EventHead):
    counter: str = ""
    status: str = ""


@dataclass(frozen=True)
class OfficerSignedIn(EventHead):
    counter: str = ""
    officer: str = ""
    name: str = ""


@dataclass(frozen=True)
class OfficerSignedOut(EventHead):
    counter: str = ""
    officer: str = ""
    reason: str = ""  # signed_out, moved, replaced


@dataclass(frozen=True)
class OfficerSignInFailed(EventHead):
    counter: str = ""
    officer: str | None = None


@dataclass(frozen=True)
class SurveyAnswered(EventHead):
    ticket: str = ""
    number: str = ""
    service: str = ""
    agency: str = ""
    counter: str = ""
    finished_at: float | None = None
    channel: str = ""
    answers: tuple[int, ...] = ()
    comment: str = ""


@dataclass(frozen=True)
class ClockJumped(EventHead):
    by_s: float = 0.0
    wall: float = 0.0


@dataclass(frozen=True)
class ClockSettled(EventHead):
    how: str = ""  # back, accepted
    by_s: float = 0.0


@dataclass(frozen=True)
class NoticePosted(EventHead):
    text: str = ""  # an empty text takes the notice down
    text_en: str = ""
    by: str = ""


@dataclass(frozen=True)
class NotifySubscribed(EventHead):
    ticket: str = ""
    channel: str = ""  # whatsapp, sms
    lang: str = ""
    consent: str = ""  # the version of the consent text agreed to; the number itself is never published


@dataclass(frozen=True)
class NotificationQueued(EventHead):
    id: str = ""  # "<ticket>:<kind>[:<counter>]": unique, the outbox's key
    ticket: str = ""
    kind: str = ""  # near, called, survey
    channel: str = ""


@dataclass(frozen=True)
class BookingMade(EventHead):
    code: str = ""
    service: str = ""
    day: str = ""
    session: str = ""
    channel: str = ""  # the device, "booking/web"


@dataclass(frozen=True)
class BookingCancelled(EventHead):
    code: str = ""
    service: str = ""
    day: str = ""
    session: str = ""


@dataclass(frozen=True)
class BookingCheckedIn(EventHead):
    code: str = ""
    service: str = ""
    day: str = ""
    session: str = ""
    ticket: str = ""
    number: str = ""
    kiosk: str = ""


@dataclass(frozen=True)
class BookingReleased(EventHead):
    service: str = ""
    day: str = ""
    session: str = ""
    expired: tuple[str, ...] = ()  # codes of the bookings not checked in (no-shows)
    places: int = 0  # online places given to walk-ins


@dataclass(frozen=True)
class DemandTurnedAway(EventHead):
    service: str = ""
    day: str = ""  # the day it happened
    reason: str = ""  # quota, closed, cutoff, limit, overflow, referral
    refusal: str = ""  # the reply's error code
    channel: str = ""  # kiosk, booking
    for_day: str = ""  # the day asked for (a booking's day; the same day at a kiosk)
    request: str = ""  # the request's key (source|request_id): a retry is counted once


EVENTS: dict[str, type[EventHead]] = {
    "day_started": DayStarted, "ticket_issued": TicketIssued, "ticket_called": TicketCalled,
    "ticket_recalled": TicketRecalled, "ticket_no_show": TicketNoShow, "ticket_finished": TicketFinished,
    "ticket_transferred": TicketTransferred, "ticket_reactivated": TicketReactivated,
    "counter_status": CounterStatusChanged, "officer_signed_in": OfficerSignedIn,
    "officer_signed_out": OfficerSignedOut, "officer_sign_in_failed": OfficerSignInFailed,
    "survey_answered": SurveyAnswered, "clock_jumped": ClockJumped, "clock_settled": ClockSettled,
    "notice_posted": NoticePosted, "notify_subscribed": NotifySubscribed, "notification_queued": NotificationQueued,
    "booking_made": BookingMade, "booking_cancelled": BookingCancelled, "booking_checked_in": BookingCheckedIn,
    "booking_released": BookingReleased, "demand_turned_away": DemandTurnedAway,
}  # the payload type of each events/<type> topic (a test checks it against broker.core.events.EventType)


# ---------------------------------------------------------------------- encoding


def as_dict(value: Any) -> dict[str, Any]:
    """A payload as the JSON object the wire carries, fields in their declared order."""
    names = _NAMES.get(type(value))
    if names is None:
        names = _NAMES[type(value)] = tuple(f.name for f in fields(value))
    return {name: _plain(getattr(value, name)) for name in names}


_NAMES: dict[type[Any], tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if hasattr(type(value), "__dataclass_fields__"):
        return as_dict(value)
    return value
