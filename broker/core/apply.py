"""The one writer of the hall's state: `APPLY[event type](hall, event, mono)`.

Each function turns one recorded fact into changes of the tables in broker.core.state,
live (right after a handler planned the event) and when a restart replays the log. A
function checks that its event fits the state before it writes anything, through the
ticket and counter tables of broker.core.lifecycle, so an event that does not fit
raises instead of corrupting a queue. `mono` is the monotonic time of the fact: the
command's own when live, an estimate from the wall clock when replayed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import date
from typing import Any

from broker.core.events import Event, EventType
from broker.core.lifecycle import CounterStatus, TicketAction, TicketState, counter_transition, ticket_transition
from broker.core.notify import Subscription
from broker.core.state import CounterState, Hall, Ticket

E = EventType
REPLY_MEMORY_S = 2 * 86400  # how long a retried request still gets its first answer
SIGN_IN_ATTEMPTS = 5  # wrong PINs at one counter within SIGN_IN_LOCK_S before it stops taking sign-ins
SIGN_IN_LOCK_S = 60.0
OFFICER_ATTEMPTS = 10  # wrong PINs for one officer, at any counters, within OFFICER_LOCK_S before a lock
OFFICER_LOCK_S = 900.0

Applier = Callable[[Hall, Event, float], None]


class EventMismatch(Exception):
    """An event that does not fit the state it is applied to (a bug, or a log from another config)."""


def apply_event(hall: Hall, event: Event, mono: float) -> None:
    """Change the state by one recorded fact."""
    APPLY[event.type](hall, event, mono)
    hall.seq = event.seq


def _counter(hall: Hall, data: dict[str, Any]) -> CounterState:
    counter = hall.counters.get(data.get("counter") or "")
    if counter is None:
        raise EventMismatch(f"no counter {data.get('counter')!r}")
    return counter


def _ticket(hall: Hall, data: dict[str, Any]) -> Ticket:
    ticket = hall.tickets.get(data["ticket"])
    if ticket is None:
        raise EventMismatch(f"no ticket {data['ticket']!r} today")
    return ticket


def _counter_changed(hall: Hall, counter_id: str) -> None:
    """A counter's state, and the wait estimates of its services (they count its open counters)."""
    hall.changes.counters.add(counter_id)
    hall.changes.services.update(hall.config.counters[counter_id].services)


def _remember_call(hall: Hall, event: Event, ticket: Ticket, recall: bool) -> None:
    hall.calls.appendleft({"seq": event.seq, "ts": event.ts, "ticket": ticket.id, "number": ticket.number,
                           "service": ticket.service, "agency": ticket.agency, "counter": ticket.counter,
                           "recall": recall, "reservation": ticket.reservation})
    hall.changes.calls = True


# ---------------------------------------------------------------------- the day and the clock

def day_started(hall: Hall, event: Event, mono: float) -> None:
    hall.day = date.fromisoformat(event.data["day"])
    hall.new_day()
    hall.bookings.forget_before(hall.day)
    hall.replies = {k: v for k, v in hall.replies.items() if v[0] > event.ts - REPLY_MEMORY_S}
    hall.surveys.forget_before(event.ts - hall.config.rules.survey_days * 86400)
    changes = hall.changes
    changes.services.update(hall.config.services)
    changes.counters.update(hall.config.counters)
    changes.calls = changes.engine = True
    changes.bookings.update(c for c, s in hall.config.services.items() if s.bookable)


def clock_noted(hall: Hall, event: Event, mono: float) -> None:
    hall.changes.engine = True  # the alarm itself is the clock guard's (broker.core.clock); screens show it


# ---------------------------------------------------------------------- tickets

def ticket_issued(hall: Hall, event: Event, mono: float) -> None:
    d = event.data
    if d["ticket"] in hall.tickets or d["service"] not in hall.queues:
        raise EventMismatch(f"ticket {d['ticket']} cannot be issued again or in service {d['service']!r}")
    ticket = Ticket(id=d["ticket"], number=d["number"], service=d["service"], agency=d["agency"],
                    priority=d["priority"], issued_at=event.ts, kiosk=d.get("kiosk", ""),
                    order=event.seq if d.get("order") is None else d["order"],
                    origin_service=d["service"], issued_mono=mono, reservation=bool(d.get("booking")),
                    session=d.get("session") or "", booking=d.get("booking") or "")
    hall.tickets[ticket.id] = ticket
    hall.by_number[ticket.number] = ticket.id
    hall.last_number[ticket.service] = d["n"]
    hall.issued[ticket.service] += 1
    if ticket.reservation:
        hall.reserved_issued[ticket.service] += 1
    hall.last_issued[ticket.service] = ticket.number
    hall.queues[ticket.service].add(ticket)
    limit = hall.config.rules.kiosk_tickets_per_minute
    if ticket.kiosk and limit > 0:
        hall.kiosk_issues.setdefault(ticket.kiosk, deque(maxlen=limit)).append(mono)
    hall.changes.services.add(ticket.service)


def ticket_called(hall: Hall, event: Event, mono: float) -> None:
    ticket, counter = _ticket(hall, event.data), _counter(hall, event.data)
    state = ticket_transition(ticket.state, TicketAction.CALL)
    if counter.current is not None or counter.status != CounterStatus.OPEN:
        raise EventMismatch(f"counter {counter.id} is {counter.status} with {counter.current}: it cannot call")
    ticket.state = state
    hall.queues[ticket.service].remove(ticket)
    ticket.counter, ticket.called_at, ticket.called_mono, ticket.recalls = counter.id, event.ts, mono, 0
    ticket.last_call_at, ticket.last_call_mono = event.ts, mono
    counter.current, counter.last_call_mono = ticket.id, mono
    counter.priority_streak = counter.priority_streak + 1 if ticket.priority else 0
    hall.last_called[ticket.service] = ticket.number
    _remember_call(hall, event, ticket, recall=False)
    hall.changes.services.add(ticket.service)
    _counter_changed(hall, counter.id)


def ticket_recalled(hall: Hall, event: Event, mono: float) -> None:
    ticket = _ticket(hall, event.data)
    ticket.state = ticket_transition(ticket.state, TicketAction.RECALL)
    ticket.recalls += 1
    ticket.last_call_at, ticket.last_call_mono = event.ts, mono
    _remember_call(hall, event, ticket, recall=True)
    if ticket.counter:
        hall.changes.counters.add(ticket.counter)


def ticket_no_show(hall: Hall, event: Event, mono: float) -> None:
    ticket, counter = _ticket(hall, event.data), _counter(hall, event.data)
    ticket.state = ticket_transition(ticket.state, TicketAction.NO_SHOW)
    counter.current = None
    hall.no_shows[ticket.service].append(ticket.number)
    hall.changes.services.add(ticket.service)
    _counter_changed(hall, counter.id)


def ticket_finished(hall: Hall, event: Event, mono: float) -> None:
    hall.surveys.record_served(event.ts, event.data, mono)
    if event.data["ticket"] not in hall.tickets:  # an earlier day's ticket, replayed only for its survey
        return
    ticket, counter = _ticket(hall, event.data), _counter(hall, event.data)
    ticket.state = ticket_transition(ticket.state, TicketAction.FINISH)
    ticket.finished_at = event.ts
    counter.current = None
    counter.served_today += 1
    called = ticket.called_mono if ticket.called_mono is not None else mono
    hall.service_times[ticket.service].append(max(0.0, mono - called))
    hall.changes.services.add(ticket.service)
    _counter_changed(hall, counter.id)


def ticket_transferred(hall: Hall, event: Event, mono: float) -> None:
    ticket, target = _ticket(hall, event.data), event.data["to_service"]
    if target not in hall.queues:
        raise EventMismatch(f"no service {target!r}")
    was = ticket.state
    ticket.state = ticket_transition(ticket.state, TicketAction.TRANSFER)
    hall.changes.services.update((ticket.service, target))
    if was == TicketState.WAITING:
        hall.queues[ticket.service].remove(ticket)
    elif ticket.counter and hall.counters[ticket.counter].current == ticket.id:
        hall.counters[ticket.counter].current = None
        _counter_changed(hall, ticket.counter)
    ticket.service, ticket.counter, ticket.called_at, ticket.called_mono = target, None, None, None
    # now served by the new service's agency: its calls and screens must name that one
    ticket.agency = hall.config.services[target].agency
    hall.queues[target].add(ticket)  # keeps its number and its place by original issue order


def ticket_reactivated(hall: Hall, event: Event, mono: float) -> None:
    ticket = _ticket(hall, event.data)
    ticket.state = ticket_transition(ticket.state, TicketAction.REACTIVATE)
    ticket.counter, ticket.called_at, ticket.called_mono = None, None, None
    hall.queues[ticket.service].add(ticket)
    if ticket.number in hall.no_shows[ticket.service]:
        hall.no_shows[ticket.service].remove(ticket.number)
    hall.changes.services.add(ticket.service)


# ---------------------------------------------------------------------- counters and officers

def counter_status(hall: Hall, event: Event, mono: float) -> None:
    counter = _counter(hall, event.data)
    counter.status = counter_transition(counter.status, CounterStatus(event.data["status"]))
    _counter_changed(hall, counter.id)


def officer_signed_in(hall: Hall, event: Event, mono: float) -> None:
    counter = _counter(hall, event.data)
    counter.officer, counter.officer_name = event.data["officer"], event.data.get("name", "")
    counter.officer_since, counter.failed_sign_ins, counter.sign_in_seq = event.ts, [], event.seq
    hall.changes.counters.add(counter.id)


def officer_signed_out(hall: Hall, event: Event, mono: float) -> None:
    counter = _counter(hall, event.data)
    if counter.officer == event.data["officer"]:
        counter.officer, counter.officer_name, counter.officer_since = None, "", None
    counter.sign_in_seq = event.seq
    hall.changes.counters.add(counter.id)


def officer_sign_in_failed(hall: Hall, event: Event, mono: float) -> None:
    counter = _counter(hall, event.data)
    counter.failed_sign_ins = counter.failed_sign_ins[-(SIGN_IN_ATTEMPTS - 1):] + [mono]
    counter.sign_in_seq = event.seq  # a wrong answer used up the challenge
    officer = event.data.get("officer")
    if officer:
        failures = hall.officer_failures.get(officer, [])
        hall.officer_failures[officer] = failures[-(OFFICER_ATTEMPTS - 1):] + [mono]


def survey_answered(hall: Hall, event: Event, mono: float) -> None:
    hall.surveys.record_answer(event.data)


def notice_posted(hall: Hall, event: Event, mono: float) -> None:
    text = str(event.data.get("text") or "")
    hall.notice = {"text": text, "text_en": str(event.data.get("text_en") or ""), "by": str(event.data.get("by") or ""),
                   "since": event.ts} if text else {}
    hall.changes.notice = True


def notify_subscribed(hall: Hall, event: Event, mono: float) -> None:
    d = event.data
    _ticket(hall, d)
    old = hall.subscriptions.pop(d["ticket"], None)
    if d["channel"]:  # an empty channel: the consent withdrawn. A new number keeps what was queued (sent once)
        hall.subscriptions[d["ticket"]] = Subscription(d["ticket"], d["channel"], d.get("phone", ""),
                                                       d.get("lang", "id"), old.queued if old else set())


def notification_queued(hall: Hall, event: Event, mono: float) -> None:
    sub = hall.subscriptions.get(event.data["ticket"])
    if sub is None:
        raise EventMismatch(f"no subscription for ticket {event.data['ticket']!r}")
    sub.queued.add(event.data["id"])


# ---------------------------------------------------------------------- bookings (broker.core.booking)

def _booking_changed(hall: Hall, service: str) -> None:
    hall.changes.bookings.add(service)
    if service in hall.queues:
        hall.changes.services.add(service)


def _ledger(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except (KeyError, ValueError) as exc:
        raise EventMismatch(str(exc)) from None


def booking_made(hall: Hall, event: Event, mono: float) -> None:
    booking = _ledger(lambda: hall.bookings.made(event.ts, event.data))
    _booking_changed(hall, booking.service)


def _replayed_past(hall: Hall, event: Event) -> bool:
    """An earlier day's event about a booking the replay window no longer holds: history, nothing to change."""
    return event.data["code"] not in hall.bookings.bookings and (hall.day is None or event.data["day"] < str(hall.day))


def booking_cancelled(hall: Hall, event: Event, mono: float) -> None:
    if _replayed_past(hall, event):
        return
    booking = _ledger(lambda: hall.bookings.cancelled(event.data["code"]))
    _booking_changed(hall, booking.service)


def booking_checked_in(hall: Hall, event: Event, mono: float) -> None:
    if _replayed_past(hall, event):
        return
    booking = _ledger(lambda: hall.bookings.checked(event.data))
    _booking_changed(hall, booking.service)


def booking_released(hall: Hall, event: Event, mono: float) -> None:
    _ledger(lambda: hall.bookings.release(event.data))
    _booking_changed(hall, event.data["service"])


def demand_turned_away(hall: Hall, event: Event, mono: float) -> None:
    d = event.data
    if d.get("day") != (hall.day.isoformat() if hall.day else None):
        return  # an earlier day's, replayed for nothing
    counts = hall.turned_away.setdefault(d["service"], {})
    counts[d["reason"]] = counts.get(d["reason"], 0) + 1
    if d.get("request"):
        hall.turned_away_keys.add(d["request"])
    if d["service"] in hall.queues:
        hall.changes.services.add(d["service"])


APPLY: dict[EventType, Applier] = {
    E.DAY_STARTED: day_started,
    E.TICKET_ISSUED: ticket_issued,
    E.TICKET_CALLED: ticket_called,
    E.TICKET_RECALLED: ticket_recalled,
    E.TICKET_NO_SHOW: ticket_no_show,
    E.TICKET_FINISHED: ticket_finished,
    E.TICKET_TRANSFERRED: ticket_transferred,
    E.TICKET_REACTIVATED: ticket_reactivated,
    E.COUNTER_STATUS: counter_status,
    E.OFFICER_SIGNED_IN: officer_signed_in,
    E.OFFICER_SIGNED_OUT: officer_signed_out,
    E.OFFICER_SIGN_IN_FAILED: officer_sign_in_failed,
    E.SURVEY_ANSWERED: survey_answered,
    E.NOTICE_POSTED: notice_posted,
    E.NOTIFY_SUBSCRIBED: notify_subscribed,
    E.NOTIFICATION_QUEUED: notification_queued,
    E.BOOKING_MADE: booking_made,
    E.BOOKING_CANCELLED: booking_cancelled,
    E.BOOKING_CHECKED_IN: booking_checked_in,
    E.BOOKING_RELEASED: booking_released,
    E.DEMAND_TURNED_AWAY: demand_turned_away,
    E.CLOCK_JUMPED: clock_noted,
    E.CLOCK_SETTLED: clock_noted,
}
if set(APPLY) != set(EventType):  # every event type has exactly one way to change the state
    raise ImportError(f"no applier for {set(EventType) - set(APPLY)}")
