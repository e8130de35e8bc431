"""Events: the facts the engine records, in the order they happened.

The SQLite log is a list of these; the engine's state is whatever applying them
in order gives, which is how a restart after `kill -9` gets back to the truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    DAY_STARTED = "day_started"
    TICKET_ISSUED = "ticket_issued"
    TICKET_CALLED = "ticket_called"
    TICKET_RECALLED = "ticket_recalled"
    TICKET_NO_SHOW = "ticket_no_show"
    TICKET_FINISHED = "ticket_finished"
    TICKET_TRANSFERRED = "ticket_transferred"
    TICKET_REACTIVATED = "ticket_reactivated"
    COUNTER_STATUS = "counter_status"
    OFFICER_SIGNED_IN = "officer_signed_in"
    OFFICER_SIGNED_OUT = "officer_signed_out"
    OFFICER_SIGN_IN_FAILED = "officer_sign_in_failed"  # a wrong PIN or unknown officer: audit and lockout
    SURVEY_ANSWERED = "survey_answered"  # one satisfaction survey response for a served ticket
    NOTICE_POSTED = "notice_posted"  # a supervisor's notice on the hall screens (empty text: taken down)
    NOTIFY_SUBSCRIBED = "notify_subscribed"  # a visitor's phone number for one ticket, with consent (kept for the day)
    NOTIFICATION_QUEUED = "notification_queued"  # one message for that phone, put in the store's outbox
    BOOKING_MADE = "booking_made"  # a place booked ahead for a session of a day (outlives the day it was made on)
    BOOKING_CANCELLED = "booking_cancelled"  # by the visitor (cancel link)
    BOOKING_CHECKED_IN = "booking_checked_in"  # at a kiosk in its window: its ticket_issued follows
    BOOKING_RELEASED = "booking_released"  # a session's check-in cut-off passed: its unused places go to walk-ins
    DEMAND_TURNED_AWAY = "demand_turned_away"  # a refused ticket or booking (quota, closed, cutoff, ...), counted
    CLOCK_JUMPED = "clock_jumped"  # the wall clock stepped a day or more against the monotonic one: held
    CLOCK_SETTLED = "clock_settled"  # the alarm ended: the clock came back, or its new time was accepted


@dataclass(frozen=True)
class Event:
    type: EventType
    ts: float
    seq: int
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"type": str(self.type), "ts": self.ts, "seq": self.seq, **self.data}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Event:
        rest = {k: v for k, v in d.items() if k not in ("type", "ts", "seq")}
        return cls(EventType(d["type"]), float(d["ts"]), int(d["seq"]), rest)
