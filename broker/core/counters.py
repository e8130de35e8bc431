"""What an officer does at a counter: call, recall, finish, transfer, open and close.

`COUNTER_ACTIONS[action]` judges one counter command against the state and plans its
events; the officer's sign-in and sign-out live in broker.core.officers. Every status
change of a counter, also the implicit "calling opens a closed counter", goes through
lifecycle.counter_transition here and again when its event is applied.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from broker.core.commands import CounterCommand, CounterRequest
from broker.core.events import EventType
from broker.core.lifecycle import CounterStatus, IllegalTransition, TicketAction, TicketState, counter_transition
from broker.core.lifecycle import ticket_transition as _ticket_transition
from broker.core.messages import message
from broker.core.officers import challenge, sign_in, sign_out
from broker.core.plan import At, Plan, Refusal, Reply
from broker.core.state import CounterState, Hall, Ticket
from broker.core.views import HallView

E = EventType
CounterAction = Callable[[HallView, CounterState, CounterRequest, At, Plan], Reply]
_NO_OFFICER_NEEDED = (CounterCommand.SIGN_IN_CHALLENGE, CounterCommand.SIGN_IN, CounterCommand.SIGN_OUT)


def at_counter(view: HallView, cmd: CounterRequest, at: At, plan: Plan) -> Reply:
    """Any counter command: the counter must exist (and be staffed, if the site says so)."""
    counter = view.hall.counters.get(cmd.counter)
    if counter is None:
        raise Refusal("unknown_counter", counter=cmd.counter)
    if view.config.rules.require_sign_in and counter.officer is None and cmd.action not in _NO_OFFICER_NEEDED:
        raise Refusal("not_signed_in", counter=counter.id)
    build = COUNTER_ACTIONS[cmd.action](view, counter, cmd, at, plan)
    return lambda: {"counter": view.counter_public(counter.id, at.now)} | build()


# ---------------------------------------------------------------------- checks and planned steps

def _current(hall: Hall, counter: CounterState) -> Ticket:
    ticket = hall.current(counter)
    if ticket is None:
        raise Refusal("no_current_ticket", counter=counter.id)
    return ticket


def _by_number(hall: Hall, number: str | None) -> Ticket:
    ticket = hall.ticket_by_number(number)
    if ticket is None:
        raise Refusal("unknown_ticket", number=number)
    return ticket


def _check(ticket: Ticket, action: TicketAction) -> None:
    try:
        _ticket_transition(ticket.state, action)
    except IllegalTransition:
        raise Refusal("ticket_state", number=ticket.number, state=ticket.state, action=action) from None


def _served_here(hall: Hall, counter: CounterState, service: str) -> None:
    if not hall.serves(counter.id, service):
        raise Refusal("not_served_here", counter=counter.id, service=service)


def _open(counter: CounterState, plan: Plan) -> None:
    """Calling a number means the officer is there: a closed or paused counter opens (through the table)."""
    if counter.status != CounterStatus.OPEN:
        counter_transition(counter.status, CounterStatus.OPEN)
        plan.emit(E.COUNTER_STATUS, counter=counter.id, status=str(CounterStatus.OPEN))


def _finish_current(hall: Hall, counter: CounterState, plan: Plan) -> None:
    ticket = hall.current(counter)
    if ticket is not None:
        plan.emit(E.TICKET_FINISHED, ticket=ticket.id, number=ticket.number, service=ticket.service,
                  agency=ticket.agency, counter=counter.id)


def _call(counter: CounterState, ticket: Ticket, at: At, plan: Plan) -> None:
    plan.emit(E.TICKET_CALLED, ticket=ticket.id, number=ticket.number, service=ticket.service, agency=ticket.agency,
              counter=counter.id, priority=ticket.priority, waited_s=round(max(0.0, at.mono - ticket.issued_mono), 3))


def _pick(view: HallView, counter: CounterState) -> str | None:
    """Priority first (but at most N in a row while others wait), by preference, then in issue order."""
    queues = view.hall.queues
    codes = view.config.counters[counter.id].services
    first_priority = next((t for c in codes if (t := queues[c].first(True))), None)
    first_normal = next((t for c in codes if (t := queues[c].first(False))), None)
    if first_priority and (first_normal is None or counter.priority_streak < view.config.rules.priority_max_in_a_row):
        return first_priority
    return first_normal


def _ticket_reply(hall: Hall, ticket_id: str) -> Reply:
    return lambda: {"ticket": hall.tickets[ticket_id].public()}


# ---------------------------------------------------------------------- the actions

def next_ticket(view: HallView, counter: CounterState, cmd: CounterRequest, at: At, plan: Plan) -> Reply:
    hall = view.hall
    current = hall.current(counter)
    if current and at.mono - counter.last_call_mono < view.config.rules.counter_debounce_s:
        return lambda: {"ticket": current.public(), "debounced": True}
    ticket_id = _pick(view, counter)  # finishing the current ticket changes no queue
    _open(counter, plan)
    _finish_current(hall, counter, plan)
    if ticket_id is None:
        notice = message("nobody_waiting", counter=counter.id).as_dict()
        return lambda: {"ticket": None, "notice": notice}
    _call(counter, hall.tickets[ticket_id], at, plan)
    return _ticket_reply(hall, ticket_id)


def call_number(view: HallView, counter: CounterState, cmd: CounterRequest, at: At, plan: Plan) -> Reply:
    ticket = _by_number(view.hall, cmd.number)
    _check(ticket, TicketAction.CALL)
    _served_here(view.hall, counter, ticket.service)
    _open(counter, plan)
    _finish_current(view.hall, counter, plan)
    _call(counter, ticket, at, plan)
    return _ticket_reply(view.hall, ticket.id)


def recall(view: HallView, counter: CounterState, cmd: CounterRequest, at: At, plan: Plan) -> Reply:
    ticket = _current(view.hall, counter)
    wait = view.config.rules.recall_interval_s - (at.mono - ticket.last_call_mono)
    if wait > 0:
        raise Refusal("recall_too_soon", number=ticket.number, seconds=math.ceil(wait))
    plan.emit(E.TICKET_RECALLED, ticket=ticket.id, number=ticket.number, service=ticket.service,
              agency=ticket.agency, counter=counter.id)
    return _ticket_reply(view.hall, ticket.id)


def no_show(view: HallView, counter: CounterState, cmd: CounterRequest, at: At, plan: Plan) -> Reply:
    ticket = _current(view.hall, counter)
    needed = view.config.rules.min_recalls_before_no_show
    if ticket.recalls < needed:
        raise Refusal("recalls_required", number=ticket.number, needed=needed)
    plan.emit(E.TICKET_NO_SHOW, ticket=ticket.id, number=ticket.number, service=ticket.service, counter=counter.id)
    return _ticket_reply(view.hall, ticket.id)


def finish(view: HallView, counter: CounterState, cmd: CounterRequest, at: At, plan: Plan) -> Reply:
    ticket = _current(view.hall, counter)
    _finish_current(view.hall, counter, plan)
    return _ticket_reply(view.hall, ticket.id)


def transfer(view: HallView, counter: CounterState, cmd: CounterRequest, at: At, plan: Plan) -> Reply:
    hall = view.hall
    target = view.config.services.get(cmd.to_service or "")
    if target is None:
        raise Refusal("unknown_service", service=cmd.to_service)
    if cmd.number:
        ticket = _by_number(hall, cmd.number)
        _served_here(hall, counter, ticket.service)
        if ticket.state == TicketState.CALLED and ticket.counter != counter.id:  # never take another desk's visitor
            raise Refusal("at_other_counter", number=ticket.number, other=ticket.counter)
    else:
        ticket = _current(hall, counter)
    _check(ticket, TicketAction.TRANSFER)
    if ticket.service == target.code:
        raise Refusal("same_service", number=ticket.number, service=target.name)
    plan.emit(E.TICKET_TRANSFERRED, ticket=ticket.id, number=ticket.number, from_service=ticket.service,
              to_service=target.code, counter=counter.id)
    return _ticket_reply(hall, ticket.id)


def reactivate(view: HallView, counter: CounterState, cmd: CounterRequest, at: At, plan: Plan) -> Reply:
    ticket = _by_number(view.hall, cmd.number)
    _check(ticket, TicketAction.REACTIVATE)
    _served_here(view.hall, counter, ticket.service)
    plan.emit(E.TICKET_REACTIVATED, ticket=ticket.id, number=ticket.number, service=ticket.service,
              counter=counter.id)
    return _ticket_reply(view.hall, ticket.id)


_STATUS_OF = {CounterCommand.OPEN: CounterStatus.OPEN, CounterCommand.BREAK: CounterStatus.BREAK,
              CounterCommand.CLOSE: CounterStatus.CLOSED}


def set_status(view: HallView, counter: CounterState, cmd: CounterRequest, at: At, plan: Plan) -> Reply:
    new = _STATUS_OF[cmd.action]
    current = view.hall.current(counter)
    if new != counter.status:
        if current and new != CounterStatus.OPEN:
            raise Refusal("counter_busy", counter=counter.id, number=current.number)
        try:
            counter_transition(counter.status, new)
        except IllegalTransition:
            raise Refusal("counter_status", counter=counter.id, status=counter.status, new=new) from None
        plan.emit(E.COUNTER_STATUS, counter=counter.id, status=str(new))
    return lambda: {"ticket": None}


C = CounterCommand
COUNTER_ACTIONS: dict[CounterCommand, CounterAction] = {
    C.NEXT: next_ticket, C.CALL: call_number, C.RECALL: recall, C.NO_SHOW: no_show, C.FINISH: finish,
    C.TRANSFER: transfer, C.REACTIVATE: reactivate, C.OPEN: set_status, C.BREAK: set_status, C.CLOSE: set_status,
    C.SIGN_IN_CHALLENGE: challenge, C.SIGN_IN: sign_in, C.SIGN_OUT: sign_out,
}
if set(COUNTER_ACTIONS) != set(CounterCommand):
    raise ImportError(f"no handler for {set(CounterCommand) - set(COUNTER_ACTIONS)}")
