"""Calls as the screens and the announcer see them, from events and from the retained call list.

Every call event (a first call or a recall) is its own `Call`, identified by the
engine's seq and ticket id. `CallTracker` lets each one through exactly once, in
order, whether it came as a live event, a duplicate delivery, or from the
retained `state/calls` after a reconnect (so a call made while the broker was
away is not lost), and never replays yesterday's calls at start-up.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from broker.protocol.codec import Topics
from broker.protocol.state import CallEntry, ConfigState, TicketCalled, TicketRecalled, decode_event

CALL_EVENT_TYPES = ("ticket_called", "ticket_recalled")
CATCH_UP_S = 120.0  # calls missed during a reconnect are still announced if they are at most this old
MEMORY = 2000  # call ids remembered for de-duplication


@dataclass(frozen=True)
class Call:
    seq: int
    ts: float
    ticket: str
    number: str
    counter: str
    agency: str = ""
    service: str = ""
    recall: bool = False

    @property
    def key(self) -> tuple[int, str]:
        """Unique even if a new data folder restarts the seq numbers: the ticket id carries the date."""
        return (self.seq, self.ticket)


def _call(entry: CallEntry | TicketCalled | TicketRecalled, recall: bool) -> Call | None:
    if not entry.number or not entry.counter:
        return None
    return Call(seq=entry.seq, ts=entry.ts, ticket=entry.ticket or entry.number, number=entry.number,
                counter=entry.counter, agency=entry.agency, service=entry.service, recall=recall)


def call_from_event(topics: Topics, topic: str, payload: bytes) -> Call | None:
    """A Call from an `events/ticket_called` or `events/ticket_recalled` message; None for anything else."""
    event_type = topics.event_of(topic)
    if event_type not in CALL_EVENT_TYPES:
        return None
    event = decode_event(event_type, payload)
    if not isinstance(event, TicketCalled | TicketRecalled):
        return None
    return _call(event, recall=isinstance(event, TicketRecalled))


def calls_from_state(calls: Iterable[CallEntry]) -> list[Call]:
    """The retained `state/calls` list (newest first, broker.protocol.state.CallsState) as Calls."""
    return [c for c in (_call(entry, entry.recall) for entry in calls) if c is not None]


class CallTracker:
    """Lets each call through once. Not thread-safe: feed it from one thread (the MQTT callback)."""

    def __init__(self, catch_up_s: float = CATCH_UP_S):
        self.seen: OrderedDict[tuple[int, str], None] = OrderedDict()
        self.catch_up_s = catch_up_s
        self.primed = False

    def _remember(self, call: Call) -> bool:
        if call.key in self.seen:
            return False
        self.seen[call.key] = None
        while len(self.seen) > MEMORY:
            self.seen.popitem(last=False)
        return True

    def from_event(self, call: Call) -> bool:
        """True if this live call is new and must be shown / said."""
        return self._remember(call)

    def from_state(self, calls: list[Call], now: float) -> list[Call]:
        """New calls from a retained call list, oldest first.

        The first list seen only primes the memory (those calls were made before we
        started); later lists yield the recent calls no event brought, e.g. those made
        while the connection was down.
        """
        if not self.primed:
            self.primed = True
            for call in calls:
                self._remember(call)
            return []
        fresh = [c for c in sorted(calls, key=lambda c: c.seq) if c.key not in self.seen]
        for call in fresh:
            self._remember(call)
        return [c for c in fresh if now - c.ts <= self.catch_up_s]


def zone_agencies(config: ConfigState | None, zone: str | None) -> set[str] | None:
    """The agencies whose counters stand in `zone`; None means every agency (no zone chosen)."""
    if not zone:
        return None
    return {c.agency for c in (config.counters if config else ()) if c.zone == zone and c.agency}


def in_scope(call: Call, agencies: set[str] | None) -> bool:
    return agencies is None or call.agency in agencies
