"""Booking ahead, checking in at the kiosk, and counting the demand turned away.

Theory of operation
-------------------
A service with `quota_online` takes bookings for its sessions (`sessions`, else each opening
range of the day) on its open days, today and `rules.booking_days_ahead` after. Each session
holds its share of `quota_online` (split evenly, earlier sessions taking the remainder); the rest
of `quota` is for walk-ins. `book` records `booking_made` with a code (6 characters of
CODE_ALPHABET, no 0/O/1/I) and answers with a token for the cancel link (an HMAC of the code under
the site's secret: verified, never stored). A phone number or NIK is kept only as a keyed hash,
for `rules.bookings_per_person`.

The `BookingLedger` lives next to the queues and outlives the day (like the survey ledger): a
booking made on Monday for Thursday is in it until Thursday ends. A restarted engine replays the
booking events of earlier days before today's log (broker.server.store.booking_events).

At a kiosk, `check-in` inside the window (`check_in_before_minutes` before the session starts to
`check_in_late_minutes` after: the cut-off) records `booking_checked_in` and the reservation's
`ticket_issued`, its place in the queue chosen by `rules.booking_place`:
- `slot` (default): behind every waiting ticket issued before its session started (and
  reservations of earlier or the same sessions), ahead of walk-ins who came after the start;
- `arrival`: as a ticket taken at that moment;
- `front`: ahead of every waiting walk-in.
Once a session's cut-off passes, the engine records `booking_released` (before the command that
found it past): its bookings not checked in expire and their places go to walk-ins. So on any
day, walk-ins + checked-in reservations never pass `quota`: walk-ins may take `quota` minus the
places still held by sessions before their cut-off (minus the check-ins of those after).

Every refusal that turns demand away (quota, closed, cutoff, limit, overflow, referral) carries a
`demand_turned_away` event (`Refusal.record`), counted per service for the day in
state/service/<code> `turned_away`; a retried request id is counted once. Pure: stdlib only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from broker.core.commands import Book, BookingCancel, BookingShow, CheckIn, Command
from broker.core.events import EventType
from broker.core.payloads import BookingDay, BookingInfo, BookingSession, BookingState, as_dict
from broker.core.plan import At, Plan, Planned, Refusal, Reply
from broker.core.schedule import parse_ranges

if TYPE_CHECKING:  # views import the state, which imports this module's ledger
    from broker.core.model import Service
    from broker.core.views import HallView

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 characters, none of 0 O 1 I: typeable, unambiguous
CODE_LENGTH = 6
TOKEN_CHARS = 24
REASONS = ("quota", "closed", "cutoff", "limit", "overflow", "referral")  # of demand_turned_away
STATES = ("booked", "checked_in", "cancelled", "expired")

SessionKey = tuple[str, date, str]  # (service, day, "08:00-10:00")


def session_text(start: int, end: int) -> str:
    """A session as the contract names it: "08:00-10:00"."""
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def parse_session(text: str) -> tuple[int, int] | None:
    try:
        ranges = parse_ranges(text)
    except ValueError:
        return None
    return ranges[0] if len(ranges) == 1 else None


def person_hash(secret: bytes, kind: str, value: str) -> str:
    """The keyed hash of a phone number or NIK: what the log keeps instead of it."""
    return hmac.new(secret, f"booking-{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


def booking_token(secret: bytes, code: str) -> str:
    """The cancel link's token: an HMAC of the code, so it needs no storage and cannot be guessed."""
    digest = hmac.new(secret, f"booking-cancel:{code}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:TOKEN_CHARS].lower()


def token_matches(secret: bytes, code: str, token: str) -> bool:
    return hmac.compare_digest(booking_token(secret, code), (token or "").strip().lower())


def new_code(secret: bytes, seed: str, taken: dict[str, Any]) -> str:
    """A code no booking in the ledger has, derived from the seed (the request and seq) under the secret."""
    for attempt in range(1000):
        digest = hmac.new(secret, f"booking-code:{seed}:{attempt}".encode(), hashlib.sha256).digest()
        code = "".join(CODE_ALPHABET[b % 32] for b in digest[:CODE_LENGTH])
        if code not in taken:
            return code
    raise RuntimeError("no free booking code")  # 32**6 codes: never with a ledger of a few weeks


@dataclass
class Booking:
    code: str
    service: str
    day: date
    session: str  # "08:00-10:00"
    start: int  # minute of the day
    made_at: float
    persons: tuple[str, ...] = field(default=(), repr=False)  # keyed hashes of the phone and NIK
    channel: str = ""
    state: str = "booked"
    ticket: str | None = None
    number: str | None = None

    @property
    def key(self) -> SessionKey:
        return (self.service, self.day, self.session)


class BookingLedger:
    """Every booking from today on; filled only from events, so a replay gives the same."""

    def __init__(self) -> None:
        self.bookings: dict[str, Booking] = {}
        self.taken: Counter[SessionKey] = Counter()  # booked or checked in, per session
        self.checked_in: Counter[SessionKey] = Counter()
        self.by_person: Counter[tuple[str, date, str]] = Counter()  # (service, day, hash): booked or checked in
        self.released: set[SessionKey] = set()

    def made(self, ts: float, d: dict[str, Any]) -> Booking:
        start = parse_session(d["session"])
        if d["code"] in self.bookings or start is None:
            raise ValueError(f"booking {d['code']!r} cannot be made again or for session {d['session']!r}")
        booking = Booking(
            d["code"],
            d["service"],
            date.fromisoformat(d["day"]),
            d["session"],
            start[0],
            ts,
            tuple(d.get("persons") or ()),
            d.get("channel", ""),
        )
        self.bookings[booking.code] = booking
        self.taken[booking.key] += 1
        for person in booking.persons:
            self.by_person[(booking.service, booking.day, person)] += 1
        return booking

    def _let_go(self, booking: Booking) -> None:
        self.taken[booking.key] -= 1
        for person in booking.persons:
            self.by_person[(booking.service, booking.day, person)] -= 1

    def cancelled(self, code: str) -> Booking:
        booking = self.bookings[code]
        if booking.state != "booked":
            raise ValueError(f"booking {code} is {booking.state}: it cannot be cancelled")
        booking.state = "cancelled"
        self._let_go(booking)
        return booking

    def checked(self, d: dict[str, Any]) -> Booking:
        booking = self.bookings[d["code"]]
        if booking.state != "booked":
            raise ValueError(f"booking {booking.code} is {booking.state}: it cannot be checked in")
        booking.state, booking.ticket, booking.number = "checked_in", d["ticket"], d["number"]
        self.checked_in[booking.key] += 1
        return booking

    def release(self, d: dict[str, Any]) -> None:
        key = (d["service"], date.fromisoformat(d["day"]), d["session"])
        self.released.add(key)
        for code in d.get("expired", ()):
            booking = self.bookings.get(code)
            if booking is not None and booking.state == "booked":
                booking.state = "expired"
                self._let_go(booking)

    def forget_before(self, day: date) -> None:
        """A new day: the bookings of earlier days are history (the log keeps them)."""
        gone = [code for code, b in self.bookings.items() if b.day < day]
        for code in gone:
            del self.bookings[code]
        for table in (self.taken, self.checked_in):
            for key in [k for k in table if k[1] < day]:
                del table[key]
        for pkey in [k for k in self.by_person if k[1] < day]:
            del self.by_person[pkey]
        self.released = {k for k in self.released if k[1] >= day}

    def of_day(self, service: str, day: date) -> list[Booking]:
        return [b for b in self.bookings.values() if b.service == service and b.day == day]


# ---------------------------------------------------------------------- reading


def local_iso(day: date, minute: int) -> str:
    moment = datetime.combine(day, datetime.min.time()) + timedelta(minutes=minute)
    return moment.strftime("%Y-%m-%dT%H:%M")


def booking_info(view: HallView, booking: Booking) -> BookingInfo:
    rules = view.config.rules
    service = view.config.services.get(booking.service)
    return BookingInfo(
        code=booking.code,
        service=booking.service,
        agency=service.agency if service else "",
        day=booking.day.isoformat(),
        session=booking.session,
        state=booking.state,
        ticket=booking.ticket,
        number=booking.number,
        check_in_from=local_iso(booking.day, booking.start - rules.check_in_before_minutes),
        check_in_until=local_iso(booking.day, booking.start + rules.check_in_late_minutes),
    )


def sessions(view: HallView, service: Service, day: date) -> list[tuple[str, int, int]]:
    """(session, start minute, online places) of each session on `day`; [] when the service is closed then."""
    if not service.bookable or not view.calendar.opens_on(service.code, service.schedule, day):
        return []
    ranges = service.sessions_on(day.weekday())
    return [(session_text(s, e), s, p) for (s, e), p in zip(ranges, service.places(day.weekday()), strict=True)]


def _minute(view: HallView, now: float) -> tuple[date, int]:
    local = view.calendar.clock.local(now)
    return local.date(), local.hour * 60 + local.minute


def held_online(view: HallView, code: str, now: float) -> int:
    """Today's online places walk-ins may not take now: every place of a session before its release,
    the check-ins of one after."""
    service = view.config.services[code]
    today, _ = _minute(view, now)
    ledger = view.hall.bookings
    held = 0
    for session, _, places in sessions(view, service, today):
        key = (code, today, session)
        held += ledger.checked_in[key] if key in ledger.released else places
    return held


def walk_in_left(view: HallView, code: str, now: float) -> int | None:
    """Walk-in tickets still to be issued today; None without a quota."""
    service, hall = view.config.services[code], view.hall
    if service.quota is None:
        return None
    walk_ins = hall.issued[code] - hall.reserved_issued[code]
    return max(0, service.quota - held_online(view, code, now) - walk_ins)


def booking_state(view: HallView, code: str, now: float) -> BookingState:
    """state/booking/<code>: each open day of the window, its sessions and the places left."""
    service = view.config.services[code]
    if not service.bookable:
        return BookingState(code=code)
    today, minute = _minute(view, now)
    ledger, days = view.hall.bookings, []
    for offset in range(view.config.rules.booking_days_ahead + 1):
        day = today + timedelta(days=offset)
        entries = []
        for session, start, places in sessions(view, service, day):
            still = day > today or minute < start
            left = max(0, places - ledger.taken[(code, day, session)]) if still else 0
            entries.append(BookingSession(session, local_iso(day, start), places, left, still))
        if entries:
            days.append(BookingDay(day.isoformat(), tuple(entries), sum(s.left for s in entries)))
    next_open = next((d.day for d in days if d.left > 0), None)
    return BookingState(code=code, bookable=True, days=tuple(days), next_open=next_open)


def next_open_day(view: HallView, code: str, now: float, after: date | None = None) -> str | None:
    """The day a refused visitor can be offered: the first bookable day (after `after`) with a place left,
    else the service's next open day (the schedule, holidays and closures)."""
    service = view.config.services[code]
    start = after or _minute(view, now)[0]
    if service.bookable:
        for entry in booking_state(view, code, now).days:
            if date.fromisoformat(entry.day) > start and entry.left > 0:
                return entry.day
    day = view.calendar.next_open_day(code, service.schedule, start)
    return day.isoformat() if day else None


def overflow(view: HallView, code: str, now: float, ahead: int) -> dict[str, Any] | None:
    """The overflow refusal's parameters when a ticket with `ahead` before it would not be served before the
    service closes today (its wait estimate), else None (also while no counter is open: nobody can say)."""
    service = view.config.services[code]
    if (service.overflow or view.config.rules.overflow) == "off" or view.calendar.ignore_hours:
        return None
    closes = view.closing_time(code, now)
    wait = view.estimate_wait_s(code, ahead)
    if closes is None or wait is None or now + wait <= closes:
        return None
    local = view.calendar.clock.local(closes)
    return {"service": service.name, "closes": local.strftime("%Y-%m-%dT%H:%M"), "est_wait_s": wait}


# ---------------------------------------------------------------------- refusals that count


def turned_away(
    view: HallView, cmd: Command, at: At, service: str, reason: str, refusal: str, for_day: date | None = None
) -> list[Planned]:
    """The demand_turned_away event of one refusal, or none when this request was already counted."""
    key = cmd.idempotency_key or ""
    if key and key in view.hall.turned_away_keys:
        return []
    today = view.calendar.clock.day(at.now)
    channel = cmd.source.split("/")[0] if cmd.source else ""
    return [
        (
            EventType.DEMAND_TURNED_AWAY,
            {
                "service": service,
                "day": today.isoformat(),
                "reason": reason,
                "refusal": refusal,
                "channel": channel,
                "for_day": (for_day or today).isoformat(),
                "request": key,
            },
        )
    ]


def refuse(
    view: HallView,
    cmd: Command,
    at: At,
    code: str,
    *,
    svc: Service,
    why: str,
    for_day: date | None = None,
    next_open: str | bool | None = False,
    **params: Any,
) -> Refusal:
    """A refusal with the reply's `reason` (`why`), `next_open` and `referral`, counted when `why` turns demand
    away (REASONS)."""
    record = turned_away(view, cmd, at, svc.code, why, code, for_day) if why in REASONS else []
    extra: dict[str, Any] = {"reason": why}
    if next_open is not False:
        extra["next_open"] = next_open if next_open is not True else next_open_day(view, svc.code, at.now, for_day)
        params.setdefault("next_open", extra["next_open"])  # the sentence names it too ("Masih dapat dipesan ...")
    if svc.referral:
        extra["referral"] = {"text": svc.referral, "text_en": svc.referral_en or svc.referral}
    return Refusal(code, record=record, reply=extra, **params)


# ---------------------------------------------------------------------- the commands


def book(view: HallView, cmd: Book, at: At, plan: Plan) -> Reply:
    config, ledger = view.config, view.hall.bookings
    service = config.services.get(cmd.service)
    if service is None:
        raise Refusal("unknown_service", service=cmd.service[:16])

    def no(code: str, why: str, **params: Any) -> Refusal:  # every refusal below names the service and the day asked
        return refuse(view, cmd, at, code, svc=service, service=service.name, why=why, date=cmd.day[:10], **params)

    if not service.bookable:
        raise refuse(view, cmd, at, "booking_not_offered", svc=service, service=service.name, why="not_offered")

    today, minute = _minute(view, at.now)
    try:
        day = date.fromisoformat(cmd.day)
    except ValueError:
        day = None
    if day is None or day < today:
        raise no("booking_too_late", "cutoff", next_open=True, session=cmd.session[:32])
    if day > today + timedelta(days=config.rules.booking_days_ahead):
        raise no("booking_not_yet", "not_yet", next_open=True, days=config.rules.booking_days_ahead)
    offered = sessions(view, service, day)
    if not offered:
        raise no("booking_closed", "closed", for_day=day, next_open=True)
    wanted = parse_session(cmd.session)
    found = next((s for s in offered if wanted and s[1] == wanted[0] and s[0] == session_text(*wanted)), None)
    if found is None:
        raise no("booking_no_session", "no_session", for_day=day, session=cmd.session[:32],
                 choices=", ".join(s[0] for s in offered))
    session, start, places = found
    if day == today and minute >= start:
        raise no("booking_too_late", "cutoff", for_day=day, next_open=True, session=session)
    if ledger.taken[(service.code, day, session)] >= places:
        raise no("booking_full", "quota", for_day=day, next_open=True, session=session)
    persons = tuple(
        person_hash(view.secret, kind, value) for kind, value in (("phone", cmd.phone), ("nik", cmd.nik)) if value
    )
    limit = config.rules.bookings_per_person
    if any(ledger.by_person[(service.code, day, p)] >= limit for p in persons):
        raise no("booking_limit", "limit", for_day=day, next_open=True, limit=limit)
    code = new_code(view.secret, f"{view.hall.seq}|{cmd.idempotency_key}", ledger.bookings)
    plan.emit(
        EventType.BOOKING_MADE,
        code=code,
        service=service.code,
        day=day.isoformat(),
        session=session,
        channel=cmd.source,
        persons=list(persons),
    )

    def reply() -> dict[str, Any]:
        return {
            "booking": as_dict(booking_info(view, ledger.bookings[code])),
            "token": booking_token(view.secret, code),
        }

    return reply


def _own_booking(view: HallView, cmd: BookingCancel | BookingShow) -> Booking:
    booking = view.hall.bookings.bookings.get(cmd.code)
    if booking is None or not token_matches(view.secret, cmd.code, cmd.token):
        raise Refusal("booking_unknown", reply={"reason": "unknown"})
    return booking


def show(view: HallView, cmd: BookingShow, at: At, plan: Plan) -> Reply:
    booking = _own_booking(view, cmd)
    plan.remember = False
    return lambda: {"booking": as_dict(booking_info(view, booking))}


def cancel(view: HallView, cmd: BookingCancel, at: At, plan: Plan) -> Reply:
    booking = _own_booking(view, cmd)
    if booking.state == "checked_in":
        raise Refusal(
            "booking_checked_in", number=booking.number, reply={"reason": "checked_in", "ticket": booking.ticket}
        )
    if booking.state == "expired":
        raise Refusal("booking_expired", session=booking.session, reply={"reason": "cutoff"})
    if booking.state == "booked":
        plan.emit(
            EventType.BOOKING_CANCELLED,
            code=booking.code,
            service=booking.service,
            day=booking.day.isoformat(),
            session=booking.session,
        )
    return lambda: {"booking": as_dict(booking_info(view, booking))}


def check_in(view: HallView, cmd: CheckIn, at: At, plan: Plan) -> Reply:
    """A booking becomes a reservation ticket at the kiosk, inside its window, once."""
    from broker.core.ticketing import issue_planned  # ticketing imports this module's quota view

    rules = view.config.rules
    booking = view.hall.bookings.bookings.get(cmd.code)
    if booking is None:
        raise Refusal("booking_unknown", reply={"reason": "unknown"})
    service = view.config.services.get(booking.service)
    if service is None:  # its service left the config since
        raise Refusal("booking_unknown", reply={"reason": "unknown"})
    if booking.state == "checked_in":
        raise Refusal(
            "booking_checked_in",
            number=booking.number,
            reply={"reason": "checked_in", "ticket": booking.ticket, "number": booking.number},
        )
    if booking.state == "cancelled":
        raise Refusal("booking_cancelled", reply={"reason": "cancelled"})
    today, minute = _minute(view, at.now)
    opens = booking.start - rules.check_in_before_minutes
    until = booking.start + rules.check_in_late_minutes
    params: dict[str, Any] = {"session": booking.session, "date": booking.day.isoformat()}
    if booking.day > today or (booking.day == today and minute < opens):
        raise refuse(
            view,
            cmd,
            at,
            "check_in_too_early",
            svc=service,
            service=service.name,
            why="too_early",
            opens=local_iso(booking.day, opens),
            **params,
        )
    if booking.state == "expired" or booking.day < today or minute >= until:
        raise refuse(
            view,
            cmd,
            at,
            "check_in_too_late",
            svc=service,
            service=service.name,
            why="cutoff",
            next_open=True,
            until=local_iso(booking.day, until),
            **params,
        )
    closed = view.closed_message(service.code, at.now) if view.closure(service.code, at.now) else None
    if closed is not None:
        raise refuse(view, cmd, at, closed.code, svc=service, why="closed", next_open=True, **closed.params)
    order = place(view, service.code, booking, at)
    ticket, number, build = issue_planned(
        view, service, plan, kiosk=cmd.kiosk, booking=booking.code, session=booking.session, order=order
    )
    plan.emit(
        EventType.BOOKING_CHECKED_IN,
        code=booking.code,
        service=booking.service,
        day=booking.day.isoformat(),
        session=booking.session,
        ticket=ticket,
        number=number,
        kiosk=cmd.kiosk,
    )

    def reply() -> dict[str, Any]:
        return build() | {"booking": as_dict(booking_info(view, booking))}

    return reply


def place(view: HallView, code: str, booking: Booking, at: At) -> float | None:
    """The queue order of a reservation checked in now (`rules.booking_place`); None: its own seq (the end)."""
    rule = view.config.rules.booking_place
    if rule == "arrival":
        return None
    hall = view.hall
    start_ts = (
        view.calendar.clock.local(at.now)
        .replace(hour=booking.start // 60, minute=booking.start % 60, second=0, microsecond=0)
        .timestamp()
    )
    lane = [hall.tickets[t] for t in hall.queues[code].ids() if hall.tickets[t].priority is None]

    def goes_after(t: Any) -> bool:  # a waiting ticket this reservation is placed ahead of
        if t.reservation:
            other = parse_session(t.session)
            return other is not None and other[0] > booking.start
        return rule == "front" or t.issued_at > start_ts

    for i, ticket in enumerate(lane):
        if goes_after(ticket):
            before = lane[i - 1].order if i > 0 else ticket.order - 1
            return (before + ticket.order) / 2
    return None


# ---------------------------------------------------------------------- the cut-off


def releases_due(view: HallView, now: float) -> list[Planned]:
    """A `booking_released` for each session of today whose check-in cut-off has passed and was not released."""
    today, minute = _minute(view, now)
    if view.hall.day is None or view.hall.day != today:
        return []
    ledger, late, planned = view.hall.bookings, view.config.rules.check_in_late_minutes, []
    for service in view.bookable:
        for session, start, places in sessions(view, service, today):
            key = (service.code, today, session)
            if minute < start + late or key in ledger.released:
                continue
            expired = sorted(
                b.code for b in ledger.of_day(service.code, today) if b.session == session and b.state == "booked"
            )
            planned.append(
                (
                    EventType.BOOKING_RELEASED,
                    {
                        "service": service.code,
                        "day": today.isoformat(),
                        "session": session,
                        "expired": expired,
                        "places": places - ledger.checked_in[key],
                    },
                )
            )
    return planned
