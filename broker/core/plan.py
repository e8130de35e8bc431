"""What a command handler works with: the moment, a plan of events, and refusals.

A handler reads the state, validates everything, and only then writes the events it
wants into a `Plan`; it never changes state. The engine applies the plan's events
after the handler returned, so a refusal (or a bug) half way through leaves nothing
applied and nothing to store. A refusal may carry `record`: events that are facts of
the refusal itself (a wrong PIN, for the audit and the lockout), applied and stored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from broker.core.events import EventType
from broker.core.messages import Message, message

Planned = tuple[EventType, dict[str, Any]]
Reply = Callable[[], dict[str, Any]]  # builds the reply once the plan's events are applied


@dataclass(frozen=True)
class At:
    """When a command is handled: `now` for the calendar and the log, `mono` for intervals."""

    now: float  # seconds since the epoch, the wall clock (or the clock guard's estimate while it jumped)
    mono: float  # a monotonic clock: debounce, recall spacing, lockouts and rate limits measure on this


class Refusal(Exception):
    """A command the engine will not carry out; becomes an error reply with a plain reason."""

    def __init__(self, code: str, *, record: Sequence[Planned] = (), reply: dict[str, Any] | None = None,
                 **params: Any):
        self.message: Message = message(code, **params)
        self.record = list(record)
        self.reply = dict(reply or {})  # more fields of the refusal's reply (booking: reason, next_open, referral)
        super().__init__(self.message.text("en"))


@dataclass
class Plan:
    """The events a handler decided on, in order; applied only when it returns."""

    events: list[Planned] = field(default_factory=list)
    remember: bool = True  # False for a question that changes nothing (its answer must not be replayed)

    def emit(self, type_: EventType, **data: Any) -> None:
        self.events.append((type_, data))
