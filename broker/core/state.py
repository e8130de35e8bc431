"""The hall's state: every table that applying the log's events in order builds.

Plain data and read-only helpers. Nothing in this module changes a table by itself:
`broker.core.apply` is the one writer, one function per event type. The `Changes`
accumulator records which retained topics those writes touched, so the engine can tell
the publisher what to send again instead of it guessing from event fields.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections import deque
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from broker.core.booking import BookingLedger
from broker.core.commands import Changed
from broker.core.lifecycle import CounterStatus, TicketState, counter_transition
from broker.core.model import SiteConfig
from broker.core.payloads import TicketInfo, as_dict
from broker.core.survey import SurveyLedger

SERVICE_TIME_WINDOW = 20  # recent service times that feed the wait estimate
RECENT_CALLS = 10


@dataclass
class Ticket:
    id: str
    number: str
    service: str
    agency: str
    priority: str | None
    issued_at: float
    order: float  # the issuing event's seq (a reservation's own place): the queue's order, whatever the clock did
    kiosk: str = ""
    origin_service: str = ""
    state: TicketState = TicketState.WAITING
    counter: str | None = None
    called_at: float | None = None
    recalls: int = 0
    finished_at: float | None = None
    last_call_at: float | None = None  # the latest call or recall (wall time, for screens)
    issued_mono: float = 0.0  # monotonic times: intervals never follow a stepped wall clock
    called_mono: float | None = None
    last_call_mono: float = -math.inf  # recalls keep a distance from it
    reservation: bool = False  # checked in from a booking (broker.core.booking)
    session: str = ""  # its booked session
    booking: str = ""  # its booking code

    def info(self) -> TicketInfo:
        """The ticket as replies and the counter's state show it (broker.core.payloads)."""
        return TicketInfo(id=self.id, number=self.number, service=self.service, agency=self.agency,
                          priority=self.priority, state=str(self.state), issued_at=self.issued_at,
                          counter=self.counter, called_at=self.called_at, recalls=self.recalls,
                          last_call_at=self.last_call_at, origin_service=self.origin_service,
                          reservation=self.reservation, session=self.session)

    def public(self) -> dict[str, Any]:
        return as_dict(self.info())


@dataclass
class CounterState:
    id: str
    status: CounterStatus = CounterStatus.CLOSED
    current: str | None = None  # ticket id being served
    last_call_mono: float = -math.inf  # for the debounce of `next`
    priority_streak: int = 0
    served_today: int = 0
    officer: str | None = None  # id of the officer signed in here
    officer_name: str = ""
    officer_since: float | None = None
    failed_sign_ins: list[float] = field(default_factory=list)  # monotonic times of recent wrong PINs
    sign_in_seq: int = 0  # seq of the last officer event here: a new sign-in challenge after each


class ServiceQueue:
    """The waiting tickets of one service in two lanes, each in the order they were issued (seq)."""

    def __init__(self) -> None:
        self.lanes: dict[bool, list[tuple[float, str]]] = {True: [], False: []}

    @staticmethod
    def _key(ticket: Ticket) -> tuple[float, str]:
        return (ticket.order, ticket.id)

    def add(self, ticket: Ticket) -> None:
        insort(self.lanes[ticket.priority is not None], self._key(ticket))

    def remove(self, ticket: Ticket) -> None:
        lane, key = self.lanes[ticket.priority is not None], self._key(ticket)
        i = bisect_left(lane, key)
        if i < len(lane) and lane[i] == key:
            del lane[i]

    def first(self, priority: bool) -> str | None:
        lane = self.lanes[priority]
        return lane[0][1] if lane else None

    def count(self, priority: bool | None = None) -> int:
        if priority is None:
            return len(self.lanes[True]) + len(self.lanes[False])
        return len(self.lanes[priority])

    def ahead_of(self, ticket: Ticket) -> int:
        """Tickets that will be called before this one at a counter serving only this service."""
        in_lane = bisect_left(self.lanes[ticket.priority is not None], self._key(ticket))
        return in_lane if ticket.priority is not None else in_lane + len(self.lanes[True])

    def ids(self) -> list[str]:
        return [key[1] for key in self.lanes[True] + self.lanes[False]]


class Changes:
    """Which retained topics the events applied since `reset` touched."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.services: set[str] = set()
        self.counters: set[str] = set()
        self.calls = False
        self.engine = False
        self.notice = False
        self.bookings: set[str] = set()

    def freeze(self) -> Changed:
        return Changed(frozenset(self.services), frozenset(self.counters), self.calls, self.engine, self.notice,
                       frozenset(self.bookings))


class Hall:
    """Every table of one site: the day's queues and tickets, the counters, what outlives a day."""

    def __init__(self, config: SiteConfig):
        self.config = config
        self.seq = 0
        self.day: date | None = None
        self.replies: dict[str, tuple[float, dict[str, Any]]] = {}  # idempotency key -> (ts, first reply)
        self.counters = {cid: CounterState(cid) for cid in config.counters}
        self.surveys = SurveyLedger()  # survives the day: a visitor may answer days later
        self.notice: dict[str, Any] = {}  # the hall screens' notice; outlives the day until taken down
        self.bookings = BookingLedger()  # outlives the day: bookings for the days ahead
        self.changes = Changes()
        self.new_day()

    def new_day(self) -> None:
        """Empty queues and numbering, every counter closed (through the counter table) and signed out."""
        codes = self.config.services
        self.tickets: dict[str, Ticket] = {}
        self.by_number: dict[str, str] = {}
        self.queues = {code: ServiceQueue() for code in codes}
        self.last_number = dict.fromkeys(codes, 0)
        self.issued = dict.fromkeys(codes, 0)
        self.last_issued: dict[str, str | None] = dict.fromkeys(codes)
        self.last_called: dict[str, str | None] = dict.fromkeys(codes)
        self.service_times: dict[str, deque[float]] = {code: deque(maxlen=SERVICE_TIME_WINDOW) for code in codes}
        self.calls: deque[dict[str, Any]] = deque(maxlen=RECENT_CALLS)
        self.no_shows: dict[str, list[str]] = {code: [] for code in codes}  # numbers that may be reactivated
        self.kiosk_issues: dict[str, deque[float]] = {}  # kiosk -> monotonic times of its recent tickets
        self.officer_failures: dict[str, list[float]] = {}  # officer -> monotonic times of recent wrong PINs
        self.subscriptions: dict[str, Any] = {}  # ticket -> broker.core.notify.Subscription: phones, for the day only
        self.reserved_issued = dict.fromkeys(codes, 0)  # of `issued`, reservation tickets (checked-in bookings)
        self.turned_away: dict[str, dict[str, int]] = {code: {} for code in codes}  # service -> reason -> count
        self.turned_away_keys: set[str] = set()  # request keys already counted today (a retry counts once)
        for counter in self.counters.values():
            if counter.status != CounterStatus.CLOSED:
                counter.status = counter_transition(counter.status, CounterStatus.CLOSED)
            counter.current = None
            counter.last_call_mono = -math.inf
            counter.priority_streak = counter.served_today = 0
            counter.officer, counter.officer_name, counter.officer_since = None, "", None
            counter.failed_sign_ins = []

    # ------------------------------------------------------------------ lookups (read only)

    def current(self, counter: CounterState) -> Ticket | None:
        return self.tickets[counter.current] if counter.current else None

    def ticket_by_number(self, number: str | None) -> Ticket | None:
        ticket_id = self.by_number.get((number or "").strip().upper())
        return self.tickets[ticket_id] if ticket_id else None

    def serves(self, counter_id: str, service: str) -> bool:
        return service in self.config.counters[counter_id].services
