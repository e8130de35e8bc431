"""The queue engine of one MPP: a sans-I/O state machine, commands in, events out.

Theory of operation
-------------------
The hall's state (broker.core.state: today's tickets and queues, the counters, the
survey ledger, the remembered replies) changes in exactly one way: `apply(event)`,
which looks the event's type up in `broker.core.apply.APPLY` and lets that one
function write. The SQLite log is the list of those events; replaying it through the
same table after a restart rebuilds the same state. Nothing else writes the state.

`handle(command, now, mono)` turns one command into an `Outcome`:

1. The clock. `now` is the wall clock, `mono` a monotonic clock (the shell reads both,
   the engine reads none). broker.core.clock decides the engine's time for this command
   and notes a jump of a day or more as an event (`clock_jumped`, `clock_settled`).
2. A remembered request id answers with its first reply, changing nothing.
3. The day. When the engine's local date has moved on, `day_started` expires the old
   day (tickets of the new day count from 001 again). Days never go back. Bookings of
   the days ahead outlive it (broker.core.booking); a session of today past its check-in
   cut-off is then released (`booking_released`), before the command.
4. The command. A handler from `HANDLERS` (ticketing, counters and officers, survey)
   reads the state, validates everything and writes the events it wants into a `Plan`;
   it never writes the state. Only when it returns are the plan's events applied, in
   order, and then its reply is built from the new state. A refusal (`Refusal`) therefore
   applies nothing, except the facts it carries itself (`record`: a wrong PIN), and an
   exception inside a handler answers `internal_error` with nothing applied.
5. Notifications: when a visitor gave a phone number, broker.core.notify says which messages
   the new state calls for; each is a `notification_queued` event, so it is queued once.
6. The outcome: the reply, the events to store and publish, whether the reply must be
   remembered, and `changed`: which retained state topics (services, counters, calls,
   the engine's own) the applied events touched, so a publisher need not guess.

If applying an event ever fails (a bug: handlers check what `APPLY` checks again), the
state may hold part of a command; the outcome says `broken`, carries no events, and the
engine refuses everything; the shell replaces it at once with a new one rebuilt from
the log (`restore`). Intervals (debounce, recall spacing, lockouts, the kiosk's rate, the
tablet's minutes) use `mono`; queues are ordered by event seq, never by wall time.
Replayed events have no monotonic time of their own: `restore` estimates it from their
wall time against the moment of the restore. The read views (broker.core.views) are
what replies and retained topics show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from broker.core.apply import REPLY_MEMORY_S, SIGN_IN_ATTEMPTS, SIGN_IN_LOCK_S, apply_event
from broker.core.booking import book, cancel, check_in, releases_due, show
from broker.core.clock import ClockGuard
from broker.core.commands import (
    Book,
    BookingCancel,
    BookingShow,
    CheckIn,
    Command,
    CounterRequest,
    HallNotice,
    IssueTicket,
    NotifySubscribe,
    Outcome,
    SurveyAnswer,
    Tick,
)
from broker.core.counters import at_counter
from broker.core.events import Event, EventType
from broker.core.lifecycle import TICKET_TRANSITIONS, TicketAction
from broker.core.messages import message
from broker.core.model import SiteConfig
from broker.core.notice import post_notice
from broker.core.notify import due as notifications_due
from broker.core.notify import subscribe
from broker.core.plan import At, Plan, Planned, Refusal, Reply
from broker.core.schedule import Calendar, SiteClock, never_closed
from broker.core.state import CounterState, Hall, Ticket
from broker.core.survey import SurveyLedger
from broker.core.survey import answer as answer_survey
from broker.core.ticketing import issue
from broker.core.views import DEFAULT_SERVICE_S, HallView

__all__ = ["DEFAULT_SERVICE_S", "REPLY_MEMORY_S", "SIGN_IN_ATTEMPTS", "SIGN_IN_LOCK_S", "Engine", "Refusal"]

Handler = Callable[[HallView, Any, At, Plan], Reply]


def tick(view: HallView, command: Tick, at: At, plan: Plan) -> Reply:
    """The passing of time: the clock and the day were looked at before; nothing of its own."""
    return dict


HANDLERS: dict[type[Command], Handler] = {
    IssueTicket: issue,
    CounterRequest: at_counter,
    SurveyAnswer: answer_survey,
    Tick: tick,
    HallNotice: post_notice,
    NotifySubscribe: subscribe,
    Book: book,
    BookingCancel: cancel,
    BookingShow: show,
    CheckIn: check_in,
}


class _Broken(Exception):
    """Applying a planned event failed: the state may hold part of a command."""


class Engine:
    """Owns every queue of one site; the single writer of their state (through `apply`)."""

    def __init__(self, config: SiteConfig, *, ignore_hours: bool = False, survey_secret: bytes = b"",
                 closed: Callable[[str, date], bool] = never_closed):
        self.config = config
        self.clock = SiteClock(config.site.timezone)
        self.ignore_hours = ignore_hours
        self.survey_secret = survey_secret  # the site's secret: survey links and sign-in challenges
        self.hall = Hall(config)
        def closed_day(code: str, day: date) -> bool:  # the config's closures and national calendar, then `closed`
            service = config.services.get(code)  # (ignoring hours ignores the national calendar, not [[closures]])
            return (config.closure_on(day, service.agency if service else None, national=not ignore_hours)
                    is not None or closed(code, day))

        self.view = HallView(self.hall, Calendar(self.clock, ignore_hours, closed_day), survey_secret)
        self.guard = ClockGuard()
        self.broken = False
        self._replay_offset = 0.0  # monotonic minus wall at the restore: estimates replayed events' mono

    # ------------------------------------------------------------------ commands

    def handle(self, command: Command, now: float, mono: float | None = None) -> Outcome:
        """Carry out one command at wall time `now` and monotonic time `mono`.

        Without `mono` (tools and tests that have one clock) the wall clock serves for both and is
        taken as it is: no clock guard, intervals in wall time."""
        if mono is None:
            at = At(now, now)
        else:
            reading = self.guard.read(now, mono)
            at = At(reading.now, reading.mono)
        if self.broken:
            return self._failed(command, at, None)
        key = command.idempotency_key
        if key is not None and key in self.hall.replies:
            return Outcome(reply=self.hall.replies[key][1], duplicate=True, ts=at.now)
        self.hall.changes.reset()
        events: list[Event] = []
        try:
            self._apply_all(self.guard.take_notes() + self._day_plan(at), at, events)
            if self.view.bookable:  # sessions past their check-in cut-off give their places to walk-ins
                self._apply_all(releases_due(self.view, at.now), at, events)
            reply, remember, fault = self._run(command, at, events)
            if self.hall.subscriptions:  # the messages to phones the new state calls for (broker.core.notify)
                try:
                    due = notifications_due(self.view, at)
                except Exception as exc:  # a bug in judging them: none queued now, the command stands
                    due, fault = [], fault or exc
                self._apply_all(due, at, events)
        except _Broken as broken:
            self.broken = True
            return self._failed(command, at, broken.__cause__)
        reply["request_id"] = command.request_id
        # every accepted command is remembered, also those that changed nothing (a debounced
        # double press, "nobody waiting"): a retry must get that same answer, not a fresh `next`
        remember_as = key if remember and key is not None and reply["ok"] else None
        if remember_as is not None:
            self.hall.replies[remember_as] = (at.now, reply)
        self.view.shared_counters_changed(self.hall.changes.services)
        return Outcome(reply=reply, events=events, remember_as=remember_as, ts=at.now,
                       changed=self.hall.changes.freeze(), fault=fault)

    def _run(self, command: Command, at: At, events: list[Event]) -> tuple[dict[str, Any], bool, Exception | None]:
        """Plan, then apply: (reply, whether to remember it, an unexpected exception of the handler)."""
        plan = Plan()
        handler = HANDLERS.get(type(command))
        try:
            if handler is None:
                raise TypeError(f"not a command: {command!r}")
            build = handler(self.view, command, at, plan)
        except Refusal as refusal:
            self._apply_all(refusal.record, at, events)
            return {"ok": False, "error": refusal.message.as_dict()} | refusal.reply, False, None
        except Exception as exc:  # a bug while judging: nothing of the command was applied
            return {"ok": False, "error": message("internal_error").as_dict()}, False, exc
        self._apply_all(plan.events, at, events)
        try:
            return {"ok": True} | build(), plan.remember, None
        except Exception as exc:
            raise _Broken from exc

    def _apply_all(self, planned: Iterable[Planned], at: At, events: list[Event]) -> None:
        for type_, data in planned:
            event = Event(type_, at.now, self.hall.seq + 1, data)
            try:
                apply_event(self.hall, event, at.mono)
            except Exception as exc:
                raise _Broken from exc
            events.append(event)

    def _failed(self, command: Command, at: At, fault: BaseException | None) -> Outcome:
        error = message("internal_error").as_dict()
        return Outcome(reply={"ok": False, "request_id": command.request_id, "error": error}, ts=at.now,
                       broken=True, fault=fault)

    def _day_plan(self, at: At) -> list[Planned]:
        today = self.clock.day(at.now)
        if self.hall.day is not None and today <= self.hall.day:  # a clock stepping back never reopens a day
            return []
        expired = [t.id for t in self.hall.tickets.values() if (t.state, TicketAction.EXPIRE) in TICKET_TRANSITIONS]
        return [(EventType.DAY_STARTED, {"day": today.isoformat(), "expired": expired})]

    # ------------------------------------------------------------------ events

    def apply(self, event: Event, mono: float | None = None) -> None:
        """Change the state by one recorded fact (a replayed one when `mono` is not given)."""
        apply_event(self.hall, event, event.ts + self._replay_offset if mono is None else mono)

    def restore(self, events: Iterable[Event], replies: Iterable[tuple[str, float, dict[str, Any]]] = (), *,
                now: float | None = None, mono: float | None = None) -> None:
        """Rebuild state from the stored log (and remembered replies) after a restart at (`now`, `mono`)."""
        self._replay_offset = 0.0 if now is None or mono is None else mono - now
        for event in events:
            self.apply(event)
        for key, ts, reply in replies:
            self.hall.replies[key] = (ts, reply)

    # ------------------------------------------------------------------ the state, for readers

    @property
    def seq(self) -> int:
        return self.hall.seq

    @property
    def day(self) -> date | None:
        return self.hall.day

    @property
    def tickets(self) -> dict[str, Ticket]:
        return self.hall.tickets

    @property
    def by_number(self) -> dict[str, str]:
        return self.hall.by_number

    @property
    def counters(self) -> dict[str, CounterState]:
        return self.hall.counters

    @property
    def calls(self) -> Any:
        return self.hall.calls

    @property
    def replies(self) -> dict[str, tuple[float, dict[str, Any]]]:
        return self.hall.replies

    @property
    def surveys(self) -> SurveyLedger:
        return self.hall.surveys

    def is_open(self, code: str, now: float) -> bool:
        return self.view.is_open(code, now)

    def estimate_wait_s(self, code: str, ahead: int) -> int | None:
        return self.view.estimate_wait_s(code, ahead)

    def counter_in_hours(self, counter_id: str, now: float) -> bool:
        return self.view.counter_in_hours(counter_id, now)

    def counter_public(self, counter_id: str, now: float | None = None) -> dict[str, Any]:
        return self.view.counter_public(counter_id, now)

    def service_public(self, code: str, now: float) -> dict[str, Any]:
        return self.view.service_public(code, now)

    def waiting_ids(self, code: str) -> list[str]:
        return self.view.waiting_ids(code)

    def engine_public(self) -> dict[str, Any]:
        """The engine's part of state/engine: its day and whether its clock is held after a jump."""
        return {"day": self.hall.day.isoformat() if self.hall.day else None, "clock": self.guard.alarm()}
