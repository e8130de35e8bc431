"""The ticket and counter lifecycles, each as one transition table.

Every state change the engine makes goes through `ticket_transition` or
`counter_transition`, so what may happen to a ticket is readable in one place
and anything else is refused with a reason instead of silently corrupting state.
"""

from __future__ import annotations

from enum import StrEnum


class TicketState(StrEnum):
    WAITING = "waiting"  # in its service's queue
    CALLED = "called"  # called to a counter, being served
    DONE = "done"  # served
    NO_SHOW = "no_show"  # called but did not come; can be reactivated the same day
    EXPIRED = "expired"  # still open when the site's day ended


class TicketAction(StrEnum):
    CALL = "call"
    RECALL = "recall"
    NO_SHOW = "no_show"
    FINISH = "finish"
    TRANSFER = "transfer"  # to another service, keeping number and arrival time
    REACTIVATE = "reactivate"
    EXPIRE = "expire"


S, A = TicketState, TicketAction

TICKET_TRANSITIONS: dict[tuple[TicketState, TicketAction], TicketState] = {
    (S.WAITING, A.CALL): S.CALLED,
    (S.WAITING, A.TRANSFER): S.WAITING,
    (S.WAITING, A.EXPIRE): S.EXPIRED,
    (S.CALLED, A.RECALL): S.CALLED,
    (S.CALLED, A.NO_SHOW): S.NO_SHOW,
    (S.CALLED, A.FINISH): S.DONE,
    (S.CALLED, A.TRANSFER): S.WAITING,
    (S.CALLED, A.EXPIRE): S.EXPIRED,
    (S.NO_SHOW, A.REACTIVATE): S.WAITING,
    (S.NO_SHOW, A.EXPIRE): S.EXPIRED,
}

FINAL_STATES = frozenset({S.DONE, S.EXPIRED})


class CounterStatus(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    BREAK = "break"


C = CounterStatus

# Which status a counter may move to from which; "next" on a closed counter opens it
# first (the officer is clearly there), which the engine does through this table too.
COUNTER_TRANSITIONS: dict[tuple[CounterStatus, CounterStatus], bool] = {
    (C.CLOSED, C.OPEN): True,
    (C.OPEN, C.BREAK): True,
    (C.OPEN, C.CLOSED): True,
    (C.BREAK, C.OPEN): True,
    (C.BREAK, C.CLOSED): True,
}


class IllegalTransition(Exception):
    def __init__(self, state: str, action: str):
        self.state, self.action = state, action
        super().__init__(f"cannot {action} a ticket that is {state}")


def ticket_transition(state: TicketState, action: TicketAction) -> TicketState:
    """The state after `action`; raises IllegalTransition when the table has no such move."""
    try:
        return TICKET_TRANSITIONS[(state, action)]
    except KeyError:
        raise IllegalTransition(state, action) from None


def counter_transition(status: CounterStatus, new: CounterStatus) -> CounterStatus:
    if (status, new) not in COUNTER_TRANSITIONS:
        raise IllegalTransition(status, new)
    return new
