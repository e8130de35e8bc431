"""The ticket and counter lifecycles: every legal move, and every other move refused."""

from __future__ import annotations

import itertools

import pytest

from broker.core.lifecycle import (
    COUNTER_TRANSITIONS,
    FINAL_STATES,
    TICKET_TRANSITIONS,
    CounterStatus,
    IllegalTransition,
    TicketAction,
    TicketState,
    counter_transition,
    ticket_transition,
)

S, A, C = TicketState, TicketAction, CounterStatus

# The lifecycle as the issue describes it, written out independently of the table under test.
LEGAL_TICKET_MOVES = {
    (S.WAITING, A.CALL): S.CALLED,
    (S.WAITING, A.TRANSFER): S.WAITING,  # moved to another queue before being called
    (S.WAITING, A.EXPIRE): S.EXPIRED,
    (S.CALLED, A.RECALL): S.CALLED,
    (S.CALLED, A.NO_SHOW): S.NO_SHOW,
    (S.CALLED, A.FINISH): S.DONE,
    (S.CALLED, A.TRANSFER): S.WAITING,  # sent on to another service's queue
    (S.CALLED, A.EXPIRE): S.EXPIRED,
    (S.NO_SHOW, A.REACTIVATE): S.WAITING,
    (S.NO_SHOW, A.EXPIRE): S.EXPIRED,
}

ALL_TICKET_PAIRS = list(itertools.product(TicketState, TicketAction))
ILLEGAL_TICKET_MOVES = [pair for pair in ALL_TICKET_PAIRS if pair not in LEGAL_TICKET_MOVES]

LEGAL_COUNTER_MOVES = {(C.CLOSED, C.OPEN), (C.OPEN, C.BREAK), (C.OPEN, C.CLOSED), (C.BREAK, C.OPEN),
                       (C.BREAK, C.CLOSED)}
ILLEGAL_COUNTER_MOVES = [pair for pair in itertools.product(CounterStatus, CounterStatus)
                         if pair not in LEGAL_COUNTER_MOVES]


def test_the_table_is_exactly_the_documented_lifecycle():
    assert TICKET_TRANSITIONS == LEGAL_TICKET_MOVES


@pytest.mark.parametrize(("state", "action"), list(LEGAL_TICKET_MOVES))
def test_every_legal_ticket_move(state, action):
    assert ticket_transition(state, action) == LEGAL_TICKET_MOVES[(state, action)]


@pytest.mark.parametrize(("state", "action"), ILLEGAL_TICKET_MOVES)
def test_every_other_ticket_move_is_illegal(state, action):
    with pytest.raises(IllegalTransition) as info:
        ticket_transition(state, action)
    assert info.value.state == state and info.value.action == action
    assert str(action) in str(info.value) and str(state) in str(info.value)


def test_illegal_moves_include_the_ones_that_would_corrupt_a_queue():
    # Spot checks of the moves that matter most, so a "helpful" table edit is noticed.
    for state, action in [(S.DONE, A.CALL), (S.CALLED, A.CALL), (S.WAITING, A.FINISH),
                          (S.WAITING, A.RECALL), (S.NO_SHOW, A.CALL), (S.EXPIRED, A.REACTIVATE),
                          (S.DONE, A.REACTIVATE), (S.NO_SHOW, A.TRANSFER), (S.WAITING, A.NO_SHOW)]:
        with pytest.raises(IllegalTransition):
            ticket_transition(state, action)


def test_final_states_have_no_way_out():
    assert {S.DONE, S.EXPIRED} == FINAL_STATES
    for state in FINAL_STATES:
        assert not [a for a in TicketAction if (state, a) in TICKET_TRANSITIONS]
    # and every state that is not final can still end (expire at midnight)
    for state in set(TicketState) - FINAL_STATES:
        assert ticket_transition(state, A.EXPIRE) == S.EXPIRED


def test_every_state_is_reachable_from_waiting():
    reached, frontier = {S.WAITING}, [S.WAITING]
    while frontier:
        state = frontier.pop()
        for (src, _), dst in TICKET_TRANSITIONS.items():
            if src == state and dst not in reached:
                reached.add(dst)
                frontier.append(dst)
    assert reached == set(TicketState)


@pytest.mark.parametrize(("status", "new"), sorted(LEGAL_COUNTER_MOVES))
def test_every_legal_counter_move(status, new):
    assert counter_transition(status, new) == new


@pytest.mark.parametrize(("status", "new"), ILLEGAL_COUNTER_MOVES)
def test_every_other_counter_move_is_illegal(status, new):
    with pytest.raises(IllegalTransition):
        counter_transition(status, new)


def test_counter_table_matches_and_a_closed_counter_cannot_pause():
    assert {pair for pair, allowed in COUNTER_TRANSITIONS.items() if allowed} == LEGAL_COUNTER_MOVES
    assert (C.CLOSED, C.BREAK) in ILLEGAL_COUNTER_MOVES
    assert all((s, s) in ILLEGAL_COUNTER_MOVES for s in CounterStatus)  # "no change" is not a move
