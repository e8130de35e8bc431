"""The queue engine: a sans-I/O state machine for the queues of one MPP.

`Engine.handle(command, now)` validates a command against the current state and
returns an `Outcome`: the reply for the sender and the events it caused. Events
are applied to the state by `Engine.apply`, the only place state changes, and
the same method replays the stored log after a restart. No sockets, files or
clocks live here: the caller passes the time in and does the I/O with the result.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from broker.core.commands import Command, CounterCommand, CounterRequest, IssueTicket, Outcome, SurveyAnswer, Tick
from broker.core.events import Event, EventType
from broker.core.ikm import BadAnswers, check_answers
from broker.core.lifecycle import (
    TICKET_TRANSITIONS,
    CounterStatus,
    IllegalTransition,
    TicketAction,
    TicketState,
    counter_transition,
    ticket_transition,
)
from broker.core.messages import message
from broker.core.model import PRIORITY_GROUPS, SiteConfig
from broker.core.pin import verify_pin
from broker.core.schedule import SiteClock
from broker.core.survey import SurveyLedger, survey_token, token_matches

DEFAULT_SERVICE_S = 300.0  # assumed service time before any ticket of a service was finished today
SERVICE_TIME_WINDOW = 20  # recent service times that feed the wait estimate
RECENT_CALLS = 10
REPLY_MEMORY_S = 2 * 86400  # how long a retried request still gets its first answer
SIGN_IN_ATTEMPTS = 5  # wrong PINs at one counter within SIGN_IN_LOCK_S before it stops trying PINs
SIGN_IN_LOCK_S = 60.0
LISTED_WAITING = 50  # waiting numbers in a service's state, for the counter panel's "call a number" list

E = EventType


class Refusal(Exception):
    """A command the engine will not carry out; becomes an error reply with a plain reason."""

    def __init__(self, code: str, **params: Any):
        self.message = message(code, **params)
        super().__init__(self.message.text("en"))


@dataclass
class Ticket:
    id: str
    number: str
    service: str
    agency: str
    priority: str | None
    issued_at: float
    order: int  # the issuing event's seq: breaks ties between equal arrival times
    kiosk: str = ""
    origin_service: str = ""
    state: TicketState = TicketState.WAITING
    counter: str | None = None
    called_at: float | None = None
    recalls: int = 0
    finished_at: float | None = None
    last_call_at: float | None = None  # the latest call or recall: recalls keep a distance from it

    @property
    def queue_key(self) -> tuple[float, int, str]:
        return (self.issued_at, self.order, self.id)

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "number": self.number, "service": self.service, "agency": self.agency,
                "priority": self.priority, "state": str(self.state), "issued_at": self.issued_at,
                "counter": self.counter, "called_at": self.called_at, "recalls": self.recalls,
                "last_call_at": self.last_call_at, "origin_service": self.origin_service}


@dataclass
class CounterState:
    id: str
    status: CounterStatus = CounterStatus.CLOSED
    current: str | None = None  # ticket id being served
    last_call_at: float = -math.inf
    priority_streak: int = 0
    served_today: int = 0
    officer: str | None = None  # id of the officer signed in here
    officer_name: str = ""
    officer_since: float | None = None
    failed_sign_ins: list[float] = field(default_factory=list)  # times of recent wrong PINs


class ServiceQueue:
    """The waiting tickets of one service in two lanes, each ordered by arrival time."""

    def __init__(self) -> None:
        self.lanes: dict[bool, list[tuple[float, int, str]]] = {True: [], False: []}

    def add(self, ticket: Ticket) -> None:
        insort(self.lanes[ticket.priority is not None], ticket.queue_key)

    def remove(self, ticket: Ticket) -> None:
        lane = self.lanes[ticket.priority is not None]
        i = bisect_left(lane, ticket.queue_key)
        if i < len(lane) and lane[i] == ticket.queue_key:
            del lane[i]

    def first(self, priority: bool) -> str | None:
        lane = self.lanes[priority]
        return lane[0][2] if lane else None

    def count(self, priority: bool | None = None) -> int:
        if priority is None:
            return len(self.lanes[True]) + len(self.lanes[False])
        return len(self.lanes[priority])

    def ahead_of(self, ticket: Ticket) -> int:
        """Tickets that will be called before this one at a counter serving only this service."""
        in_lane = bisect_left(self.lanes[ticket.priority is not None], ticket.queue_key)
        return in_lane if ticket.priority is not None else in_lane + len(self.lanes[True])

    def ids(self) -> list[str]:
        return [key[2] for key in self.lanes[True] + self.lanes[False]]


class Engine:
    """Owns every queue of one site; the single writer of queue state."""

    def __init__(self, config: SiteConfig, *, ignore_hours: bool = False, survey_secret: bytes = b""):
        self.config = config
        self.clock = SiteClock(config.site.timezone)
        self.ignore_hours = ignore_hours
        self.seq = 0
        self.day: date | None = None
        self.replies: dict[str, tuple[float, dict]] = {}
        self.counters = {cid: CounterState(cid) for cid in config.counters}
        self.survey_secret = survey_secret  # signs the phone survey links; kept in the data folder
        self.surveys = SurveyLedger()  # survives the day reset: a visitor may answer days later
        self._reset_day()

    def _reset_day(self) -> None:
        codes = self.config.services
        self.tickets: dict[str, Ticket] = {}
        self.by_number: dict[str, str] = {}
        self.queues = {code: ServiceQueue() for code in codes}
        self.last_number = {code: 0 for code in codes}
        self.issued = {code: 0 for code in codes}
        self.last_issued: dict[str, str | None] = {code: None for code in codes}
        self.last_called: dict[str, str | None] = {code: None for code in codes}
        self.service_times = {code: deque(maxlen=SERVICE_TIME_WINDOW) for code in codes}
        self.calls: deque[dict[str, Any]] = deque(maxlen=RECENT_CALLS)
        self.no_shows: dict[str, list[str]] = {code: [] for code in codes}  # numbers that may be reactivated
        for counter in self.counters.values():  # a new day starts with every counter closed and signed out
            counter.status, counter.current = CounterStatus.CLOSED, None
            counter.priority_streak = counter.served_today = 0
            counter.officer, counter.officer_name, counter.officer_since = None, "", None
            counter.failed_sign_ins = []

    # ------------------------------------------------------------------ commands

    def handle(self, command: Command, now: float) -> Outcome:
        """Carry out one command at time `now`; never raises for bad commands."""
        key = command.idempotency_key
        if key is not None and key in self.replies:
            return Outcome(reply=self.replies[key][1], duplicate=True)
        events: list[Event] = []
        self._start_day_if_needed(now, events)
        try:
            if isinstance(command, IssueTicket):
                reply = self._issue(command, now, events)
            elif isinstance(command, CounterRequest):
                reply = self._counter(command, now, events)
            elif isinstance(command, SurveyAnswer):
                reply = self._survey(command, now, events)
            elif isinstance(command, Tick):
                reply = {"ok": True}
            else:
                raise TypeError(f"not a command: {command!r}")
        except Refusal as refusal:
            reply = {"ok": False, "error": refusal.message.as_dict()}
        reply["request_id"] = command.request_id
        # every accepted command is remembered, also those that changed nothing (a debounced
        # double press, "nobody waiting"): a retry must get that same answer, not a fresh `next`
        remember = key is not None and reply["ok"]
        if remember:
            self.replies[key] = (now, reply)
        return Outcome(reply=reply, events=events, remember_as=key if remember else None, ts=now)

    def _emit(self, events: list[Event], type_: EventType, now: float, **data: Any) -> Event:
        event = Event(type_, now, self.seq + 1, data)
        self.apply(event)
        events.append(event)
        return event

    def _start_day_if_needed(self, now: float, events: list[Event]) -> None:
        today = self.clock.day(now)
        if self.day is None or today > self.day:  # a clock stepping back never reopens a day
            expired = [t.id for t in self.tickets.values() if (t.state, TicketAction.EXPIRE) in TICKET_TRANSITIONS]
            self._emit(events, E.DAY_STARTED, now, day=today.isoformat(), expired=expired)

    def _issue(self, cmd: IssueTicket, now: float, events: list[Event]) -> dict[str, Any]:
        service = self.config.services.get(cmd.service)
        if service is None:
            raise Refusal("unknown_service", service=cmd.service)
        if cmd.priority is not None:
            if cmd.priority not in PRIORITY_GROUPS:
                raise Refusal("unknown_priority", group=cmd.priority, choices=", ".join(PRIORITY_GROUPS))
            if not service.priority:
                raise Refusal("priority_not_offered", service=service.name)
        if not self.is_open(service.code, now):
            raise Refusal("service_closed", service=service.name, hours=service.schedule.describe("id"))
        if service.quota is not None and self.issued[service.code] >= service.quota:
            raise Refusal("quota_reached", service=service.name, quota=service.quota)
        n = self.last_number[service.code] + 1
        number = f"{service.code}{n:0{self.config.rules.number_digits}d}"
        self._emit(events, E.TICKET_ISSUED, now, ticket=f"{self.day:%Y%m%d}-{number}", number=number, n=n,
                   service=service.code, agency=service.agency, priority=cmd.priority, kiosk=cmd.kiosk)
        ticket = self.tickets[self.by_number[number]]
        ahead = self.queues[service.code].ahead_of(ticket)
        reply = {"ok": True, "ticket": ticket.public(), "ahead": ahead,
                 "est_wait_s": self.estimate_wait_s(service.code, ahead)}
        if self.survey_secret:  # for the survey link in the ticket's QR code (broker.survey.survey_url)
            reply["survey_token"] = survey_token(self.survey_secret, ticket.id)
        return reply

    def _counter(self, cmd: CounterRequest, now: float, events: list[Event]) -> dict[str, Any]:
        if cmd.counter not in self.counters:
            raise Refusal("unknown_counter", counter=cmd.counter)
        counter = self.counters[cmd.counter]
        handler = {
            CounterCommand.NEXT: self._next, CounterCommand.CALL: self._call_specific,
            CounterCommand.RECALL: self._recall, CounterCommand.NO_SHOW: self._no_show,
            CounterCommand.FINISH: self._finish, CounterCommand.TRANSFER: self._transfer,
            CounterCommand.REACTIVATE: self._reactivate, CounterCommand.OPEN: self._set_status,
            CounterCommand.BREAK: self._set_status, CounterCommand.CLOSE: self._set_status,
            CounterCommand.SIGN_IN: self._sign_in, CounterCommand.SIGN_OUT: self._sign_out,
        }[cmd.action]
        if (self.config.rules.require_sign_in and counter.officer is None
                and cmd.action not in (CounterCommand.SIGN_IN, CounterCommand.SIGN_OUT)):
            raise Refusal("not_signed_in", counter=counter.id)
        reply = handler(counter, cmd, now, events)
        return {"ok": True, "counter": self.counter_public(counter.id, now)} | reply

    def _next(self, counter: CounterState, cmd: CounterRequest, now: float, events: list[Event]) -> dict:
        if counter.current and now - counter.last_call_at < self.config.rules.counter_debounce_s:
            return {"ticket": self.tickets[counter.current].public(), "debounced": True}
        self._ensure_open(counter, now, events)
        self._finish_current(counter, now, events)
        ticket_id = self._pick(counter)
        if ticket_id is None:
            return {"ticket": None, "notice": message("nobody_waiting", counter=counter.id).as_dict()}
        return {"ticket": self._call(counter, self.tickets[ticket_id], now, events).public()}

    def _call_specific(self, counter: CounterState, cmd: CounterRequest, now: float, events: list[Event]) -> dict:
        ticket = self._ticket_by_number(cmd.number)
        self._check(ticket, TicketAction.CALL)
        self._check_served_here(counter, ticket.service)
        self._ensure_open(counter, now, events)
        self._finish_current(counter, now, events)
        return {"ticket": self._call(counter, ticket, now, events).public()}

    def _recall(self, counter: CounterState, cmd: CounterRequest, now: float, events: list[Event]) -> dict:
        ticket = self._current(counter)
        wait = self.config.rules.recall_interval_s - (now - (ticket.last_call_at or -math.inf))
        if wait > 0:
            raise Refusal("recall_too_soon", number=ticket.number, seconds=math.ceil(wait))
        self._emit(events, E.TICKET_RECALLED, now, ticket=ticket.id, number=ticket.number,
                   service=ticket.service, agency=ticket.agency, counter=counter.id)
        return {"ticket": ticket.public()}

    def _no_show(self, counter: CounterState, cmd: CounterRequest, now: float, events: list[Event]) -> dict:
        ticket = self._current(counter)
        needed = self.config.rules.min_recalls_before_no_show
        if ticket.recalls < needed:
            raise Refusal("recalls_required", number=ticket.number, needed=needed)
        self._emit(events, E.TICKET_NO_SHOW, now, ticket=ticket.id, number=ticket.number,
                   service=ticket.service, counter=counter.id)
        return {"ticket": ticket.public()}

    def _finish(self, counter: CounterState, cmd: CounterRequest, now: float, events: list[Event]) -> dict:
        ticket = self._current(counter)
        self._finish_current(counter, now, events)
        return {"ticket": ticket.public()}

    def _transfer(self, counter: CounterState, cmd: CounterRequest, now: float, events: list[Event]) -> dict:
        target = self.config.services.get(cmd.to_service or "")
        if target is None:
            raise Refusal("unknown_service", service=cmd.to_service)
        if cmd.number:
            ticket = self._ticket_by_number(cmd.number)
            self._check_served_here(counter, ticket.service)
            if ticket.state == TicketState.CALLED and ticket.counter != counter.id:  # never take another desk's visitor
                raise Refusal("at_other_counter", number=ticket.number, other=ticket.counter)
        else:
            ticket = self._current(counter)
        self._check(ticket, TicketAction.TRANSFER)
        if ticket.service == target.code:
            raise Refusal("same_service", number=ticket.number, service=target.name)
        self._emit(events, E.TICKET_TRANSFERRED, now, ticket=ticket.id, number=ticket.number,
                   from_service=ticket.service, to_service=target.code, counter=counter.id)
        return {"ticket": ticket.public()}

    def _reactivate(self, counter: CounterState, cmd: CounterRequest, now: float, events: list[Event]) -> dict:
        ticket = self._ticket_by_number(cmd.number)
        self._check(ticket, TicketAction.REACTIVATE)
        self._check_served_here(counter, ticket.service)
        self._emit(events, E.TICKET_REACTIVATED, now, ticket=ticket.id, number=ticket.number,
                   service=ticket.service, counter=counter.id)
        return {"ticket": ticket.public()}

    def _set_status(self, counter: CounterState, cmd: CounterRequest, now: float, events: list[Event]) -> dict:
        new = {CounterCommand.OPEN: CounterStatus.OPEN, CounterCommand.BREAK: CounterStatus.BREAK,
               CounterCommand.CLOSE: CounterStatus.CLOSED}[cmd.action]
        if new == counter.status:
            return {"ticket": None}
        if counter.current and new != CounterStatus.OPEN:
            raise Refusal("counter_busy", counter=counter.id, number=self.tickets[counter.current].number)
        try:
            counter_transition(counter.status, new)
        except IllegalTransition:
            raise Refusal("counter_status", counter=counter.id, status=counter.status, new=new) from None
        self._emit(events, E.COUNTER_STATUS, now, counter=counter.id, status=str(new))
        return {"ticket": None}

    def _sign_in(self, counter: CounterState, cmd: CounterRequest, now: float, events: list[Event]) -> dict:
        """Who staffs the counter from now on; wrong PINs are recorded and, repeated, lock the counter."""
        recent = [t for t in counter.failed_sign_ins if now - t < SIGN_IN_LOCK_S]
        if len(recent) >= SIGN_IN_ATTEMPTS:
            raise Refusal("sign_in_locked", counter=counter.id,
                          seconds=math.ceil(SIGN_IN_LOCK_S - (now - recent[-SIGN_IN_ATTEMPTS])))
        officer = self.config.officers.get((cmd.officer or "").strip())
        if officer is None or not verify_pin(cmd.pin or "", officer.pin_hash):
            self._emit(events, E.OFFICER_SIGN_IN_FAILED, now, counter=counter.id,
                       officer=officer.id if officer else None)
            if officer is None:
                raise Refusal("unknown_officer", officer=(cmd.officer or "")[:40])
            raise Refusal("wrong_pin")
        if not officer.may_staff(self.config.counters[counter.id]):
            raise Refusal("officer_not_here", name=officer.name, counter=counter.id)
        if counter.officer == officer.id:
            return {"ticket": None}
        for other in self.counters.values():  # one officer, one counter: moving desks signs out of the old one
            if other.officer == officer.id:
                self._emit(events, E.OFFICER_SIGNED_OUT, now, counter=other.id, officer=officer.id, reason="moved")
        if counter.officer:
            self._emit(events, E.OFFICER_SIGNED_OUT, now, counter=counter.id, officer=counter.officer,
                       reason="replaced")
        self._emit(events, E.OFFICER_SIGNED_IN, now, counter=counter.id, officer=officer.id, name=officer.name)
        return {"ticket": None}

    def _sign_out(self, counter: CounterState, cmd: CounterRequest, now: float, events: list[Event]) -> dict:
        """The officer leaves: refused while a visitor is at the counter; an open counter closes."""
        if counter.officer is None:
            return {"ticket": None}
        if counter.current:
            raise Refusal("counter_busy", counter=counter.id, number=self.tickets[counter.current].number)
        self._emit(events, E.OFFICER_SIGNED_OUT, now, counter=counter.id, officer=counter.officer, reason="signed_out")
        if counter.status != CounterStatus.CLOSED:
            counter_transition(counter.status, CounterStatus.CLOSED)
            self._emit(events, E.COUNTER_STATUS, now, counter=counter.id, status=str(CounterStatus.CLOSED))
        return {"ticket": None}

    def _survey(self, cmd: SurveyAnswer, now: float, events: list[Event]) -> dict[str, Any]:
        """One response per served ticket, over the tablet and the phone page alike."""
        if cmd.channel == "web" and not (self.survey_secret and token_matches(self.survey_secret, cmd.ticket,
                                                                               cmd.token or "")):
            raise Refusal("survey_bad_token")
        entry = self.surveys.served.get(cmd.ticket)
        if entry is None or now - entry.finished_at > self.config.rules.survey_days * 86400:
            raise Refusal("survey_unknown_ticket")
        if cmd.counter and entry.counter != cmd.counter:
            raise Refusal("survey_other_counter", number=entry.number, other=entry.counter, counter=cmd.counter)
        if entry.answered:
            raise Refusal("survey_already_answered", number=entry.number)
        survey = {"ticket": entry.ticket, "number": entry.number, "service": entry.service,
                  "agency": entry.agency, "counter": entry.counter, "finished_at": entry.finished_at}
        if cmd.answers is None:
            return {"ok": True, "survey": survey, "answered": False}
        try:
            answers = check_answers(cmd.answers)
        except BadAnswers as exc:
            raise Refusal("survey_bad_answers", detail=str(exc)) from None
        self._emit(events, E.SURVEY_ANSWERED, now, **survey, channel=cmd.channel, answers=list(answers),
                   comment=cmd.comment.strip()[:500])
        return {"ok": True, "survey": survey, "answered": True}

    # ------------------------------------------------------------------ helpers of commands

    def _ensure_open(self, counter: CounterState, now: float, events: list[Event]) -> None:
        """Calling a number means the officer is there: a closed or paused counter opens."""
        if counter.status != CounterStatus.OPEN:
            self._emit(events, E.COUNTER_STATUS, now, counter=counter.id, status=str(CounterStatus.OPEN))

    def _finish_current(self, counter: CounterState, now: float, events: list[Event]) -> None:
        if counter.current:
            ticket = self.tickets[counter.current]
            self._emit(events, E.TICKET_FINISHED, now, ticket=ticket.id, number=ticket.number,
                       service=ticket.service, agency=ticket.agency, counter=counter.id)

    def _call(self, counter: CounterState, ticket: Ticket, now: float, events: list[Event]) -> Ticket:
        self._emit(events, E.TICKET_CALLED, now, ticket=ticket.id, number=ticket.number, service=ticket.service,
                   agency=ticket.agency, counter=counter.id, priority=ticket.priority,
                   waited_s=round(now - ticket.issued_at, 3))
        return ticket

    def _pick(self, counter: CounterState) -> str | None:
        """Priority first (but at most N in a row while others wait), by preference, then oldest."""
        codes = self.config.counters[counter.id].services
        first_priority = next((t for c in codes if (t := self.queues[c].first(True))), None)
        first_normal = next((t for c in codes if (t := self.queues[c].first(False))), None)
        if first_priority and (first_normal is None
                               or counter.priority_streak < self.config.rules.priority_max_in_a_row):
            return first_priority
        return first_normal

    def _current(self, counter: CounterState) -> Ticket:
        if not counter.current:
            raise Refusal("no_current_ticket", counter=counter.id)
        return self.tickets[counter.current]

    def _ticket_by_number(self, number: str | None) -> Ticket:
        ticket_id = self.by_number.get((number or "").strip().upper())
        if ticket_id is None:
            raise Refusal("unknown_ticket", number=number)
        return self.tickets[ticket_id]

    def _check(self, ticket: Ticket, action: TicketAction) -> None:
        try:
            ticket_transition(ticket.state, action)
        except IllegalTransition:
            raise Refusal("ticket_state", number=ticket.number, state=ticket.state, action=action) from None

    def _check_served_here(self, counter: CounterState, service: str) -> None:
        if service not in self.config.counters[counter.id].services:
            raise Refusal("not_served_here", counter=counter.id, service=service)

    # ------------------------------------------------------------------ events

    def apply(self, event: Event) -> None:
        """Change the state by one recorded fact; used live and when replaying the log."""
        self.seq = event.seq
        d = event.data
        if event.type == E.DAY_STARTED:
            self.day = date.fromisoformat(d["day"])
            self._reset_day()
            self.replies = {k: v for k, v in self.replies.items() if v[0] > event.ts - REPLY_MEMORY_S}
            self.surveys.forget_before(event.ts - self.config.rules.survey_days * 86400)
            return
        if event.type == E.SURVEY_ANSWERED:
            self.surveys.record_answer(d)
            return
        if event.type == E.COUNTER_STATUS:
            self.counters[d["counter"]].status = CounterStatus(d["status"])
            return
        if event.type in (E.OFFICER_SIGNED_IN, E.OFFICER_SIGNED_OUT, E.OFFICER_SIGN_IN_FAILED):
            self._apply_officer(event)
            return
        if event.type == E.TICKET_ISSUED:
            ticket = Ticket(id=d["ticket"], number=d["number"], service=d["service"], agency=d["agency"],
                            priority=d["priority"], issued_at=event.ts, order=event.seq, kiosk=d.get("kiosk", ""),
                            origin_service=d["service"])
            self.tickets[ticket.id] = ticket
            self.by_number[ticket.number] = ticket.id
            self.last_number[ticket.service] = d["n"]
            self.issued[ticket.service] += 1
            self.last_issued[ticket.service] = ticket.number
            self.queues[ticket.service].add(ticket)
            return
        if event.type == E.TICKET_FINISHED:
            self.surveys.record_served(event.ts, d)
            if d["ticket"] not in self.tickets:  # an earlier day's ticket, replayed only for its survey
                return
        ticket = self.tickets[d["ticket"]]
        counter = self.counters.get(d.get("counter") or "")
        if event.type == E.TICKET_CALLED:
            ticket.state = ticket_transition(ticket.state, TicketAction.CALL)
            self.queues[ticket.service].remove(ticket)
            ticket.counter, ticket.called_at, ticket.recalls = counter.id, event.ts, 0
            ticket.last_call_at = event.ts
            counter.current, counter.last_call_at = ticket.id, event.ts
            counter.priority_streak = counter.priority_streak + 1 if ticket.priority else 0
            self.last_called[ticket.service] = ticket.number
            self._remember_call(event, ticket, recall=False)
        elif event.type == E.TICKET_RECALLED:
            ticket.state = ticket_transition(ticket.state, TicketAction.RECALL)
            ticket.recalls += 1
            ticket.last_call_at = event.ts
            self._remember_call(event, ticket, recall=True)
        elif event.type == E.TICKET_NO_SHOW:
            ticket.state = ticket_transition(ticket.state, TicketAction.NO_SHOW)
            counter.current = None
            self.no_shows[ticket.service].append(ticket.number)
        elif event.type == E.TICKET_FINISHED:
            ticket.state = ticket_transition(ticket.state, TicketAction.FINISH)
            ticket.finished_at = event.ts
            counter.current = None
            counter.served_today += 1
            self.service_times[ticket.service].append(event.ts - (ticket.called_at or event.ts))
        elif event.type == E.TICKET_TRANSFERRED:
            was = ticket.state
            ticket.state = ticket_transition(ticket.state, TicketAction.TRANSFER)
            if was == TicketState.WAITING:
                self.queues[ticket.service].remove(ticket)
            elif ticket.counter and self.counters[ticket.counter].current == ticket.id:
                self.counters[ticket.counter].current = None
            ticket.service, ticket.counter, ticket.called_at = d["to_service"], None, None
            # now served by the new service's agency: its calls and screens must name that one
            ticket.agency = self.config.services[ticket.service].agency
            self.queues[ticket.service].add(ticket)  # keeps its number and original arrival time
        elif event.type == E.TICKET_REACTIVATED:
            ticket.state = ticket_transition(ticket.state, TicketAction.REACTIVATE)
            ticket.counter, ticket.called_at = None, None
            self.queues[ticket.service].add(ticket)
            if ticket.number in self.no_shows[ticket.service]:
                self.no_shows[ticket.service].remove(ticket.number)

    def _apply_officer(self, event: Event) -> None:
        counter = self.counters[event.data["counter"]]
        if event.type == E.OFFICER_SIGNED_IN:
            counter.officer, counter.officer_name = event.data["officer"], event.data.get("name", "")
            counter.officer_since, counter.failed_sign_ins = event.ts, []
        elif event.type == E.OFFICER_SIGNED_OUT:
            if counter.officer == event.data["officer"]:
                counter.officer, counter.officer_name, counter.officer_since = None, "", None
        else:
            counter.failed_sign_ins = counter.failed_sign_ins[-(SIGN_IN_ATTEMPTS - 1):] + [event.ts]

    def _remember_call(self, event: Event, ticket: Ticket, recall: bool) -> None:
        self.calls.appendleft({"seq": event.seq, "ts": event.ts, "ticket": ticket.id, "number": ticket.number,
                               "service": ticket.service, "agency": ticket.agency, "counter": ticket.counter,
                               "recall": recall})

    def restore(self, events: Iterable[Event], replies: Iterable[tuple[str, float, dict]] = ()) -> None:
        """Rebuild state from the stored log (and remembered replies) after a restart."""
        for event in events:
            self.apply(event)
        for key, ts, reply in replies:
            self.replies[key] = (ts, reply)

    # ------------------------------------------------------------------ queries

    def is_open(self, code: str, now: float) -> bool:
        if self.ignore_hours:
            return True
        local = self.clock.local(now)
        return self.config.services[code].schedule.is_open(local, self.config.rules.issue_lead_minutes)

    def estimate_wait_s(self, code: str, ahead: int) -> int:
        times = self.service_times[code]
        average = sum(times) / len(times) if times else DEFAULT_SERVICE_S
        open_counters = sum(1 for c in self.config.counters_serving(code)
                            if self.counters[c.id].status == CounterStatus.OPEN)
        return round(ahead * average / max(1, open_counters))

    def counter_in_hours(self, counter_id: str, now: float) -> bool:
        """Whether any service of the counter is within its opening hours (an officer should be there)."""
        if self.ignore_hours:
            return True
        local = self.clock.local(now)
        return any(self.config.services[code].schedule.is_open(local, 0)
                   for code in self.config.counters[counter_id].services)

    def counter_public(self, counter_id: str, now: float | None = None) -> dict[str, Any]:
        """The counter's retained state; with `now`, also whether it stands empty in opening hours."""
        counter, conf = self.counters[counter_id], self.config.counters[counter_id]
        current = self.tickets[counter.current].public() if counter.current else None
        officer = ({"id": counter.officer, "name": counter.officer_name, "since": counter.officer_since}
                   if counter.officer else None)
        in_hours = None if now is None else self.counter_in_hours(counter_id, now)
        return {"id": counter.id, "agency": conf.agency, "services": list(conf.services), "zone": conf.zone,
                "status": str(counter.status), "current": current, "served_today": counter.served_today,
                "officer": officer, "in_hours": in_hours, "unstaffed": bool(in_hours) and officer is None}

    def service_public(self, code: str, now: float) -> dict[str, Any]:
        service, queue = self.config.services[code], self.queues[code]
        quota_left = None if service.quota is None else max(0, service.quota - self.issued[code])
        return {"code": code, "name": service.name, "agency": service.agency, "waiting": queue.count(),
                "waiting_priority": queue.count(True), "issued_today": self.issued[code],
                "last_issued": self.last_issued[code], "last_called": self.last_called[code],
                "quota": service.quota, "quota_left": quota_left, "open": self.is_open(code, now),
                "est_wait_s": self.estimate_wait_s(code, queue.count()),
                "waiting_numbers": [self.tickets[t].number for t in queue.ids()[:LISTED_WAITING]],
                "no_shows": list(self.no_shows[code])}

    def waiting_ids(self, code: str) -> list[str]:
        return self.queues[code].ids()

