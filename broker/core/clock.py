"""The engine's clock: the wall clock for the calendar, watched against a monotonic one.

Every command arrives with two readings from the shell: the wall clock (`time.time()`,
which says the date) and a monotonic clock (`time.monotonic()`, which only says how
much time passed). Intervals (debounce, recall spacing, lockouts, rate limits, the
tablet's minutes) are measured on the monotonic clock alone, so a wall clock that
steps changes none of them. The wall clock still decides the day, opening hours and
the times in the log, and a hall PC without RTC or NTP may step it far: the guard
compares how far the wall moved with how far the monotonic clock moved.

- Steps under a day (an NTP correction, a hand-set minute) are followed at once; days
  never go back (the engine's day only moves forward), so a step back reopens nothing.
- A step of a day or more is held: the engine goes on with its own estimate (the last
  trusted wall time plus the monotonic time since), records `clock_jumped` and shows
  the alarm in state/engine. If the wall comes back, `clock_settled` ("back") and
  nothing happened: no day started, nothing expired. A forward step that stays steady
  for SETTLE_S is taken as the right time at last (a Raspberry Pi that found NTP late):
  `clock_settled` ("accepted"), and the day starts if it must. A step back of a day or
  more is never accepted by itself: restart the engine once the clock is right.
- A (re)started engine trusts the wall clock it finds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from broker.core.events import EventType
from broker.core.plan import Planned

JUMP_S = 86400.0  # a step of the wall clock against the monotonic one this large is held, not followed
SETTLE_S = 900.0  # a forward jump that holds steady this long is accepted as the right time
STEADY_S = 60.0  # how much a jumped wall clock may wander and still count as steady


@dataclass(frozen=True)
class Reading:
    now: float  # the engine's time: the wall clock, or the estimate while the wall is held
    mono: float  # the monotonic clock, never going back


class ClockGuard:
    def __init__(self) -> None:
        self.offset: float | None = None  # trusted wall minus monotonic
        self.last_mono = -math.inf
        self.jump: tuple[float, float, float] | None = None  # (by_s, monotonic since, engine time since)
        self.notes: list[Planned] = []  # clock events the engine must still record

    def read(self, wall: float, mono: float) -> Reading:
        mono = max(mono, self.last_mono)
        self.last_mono = mono
        if self.offset is None:
            self.offset = wall - mono
            return Reading(wall, mono)
        estimate = mono + self.offset
        delta = wall - estimate
        if abs(delta) < JUMP_S:
            if self.jump is not None:
                self.notes.append((EventType.CLOCK_SETTLED, {"how": "back", "by_s": round(self.jump[0], 1)}))
                self.jump = None
            self.offset = wall - mono
            return Reading(wall, mono)
        if self.jump is None:
            self.jump = (delta, mono, estimate)
            self.notes.append((EventType.CLOCK_JUMPED, {"by_s": round(delta, 1), "wall": wall}))
        elif abs(delta - self.jump[0]) > STEADY_S:
            self.jump = (delta, mono, self.jump[2])  # still wandering: settling starts again
        elif delta > 0 and mono - self.jump[1] >= SETTLE_S:
            self.notes.append((EventType.CLOCK_SETTLED, {"how": "accepted", "by_s": round(delta, 1)}))
            self.jump = None
            self.offset = wall - mono
            return Reading(wall, mono)
        return Reading(estimate, mono)

    def take_notes(self) -> list[Planned]:
        notes, self.notes = self.notes, []
        return notes

    def alarm(self) -> dict[str, Any] | None:
        """For state/engine: while the wall clock is held, by how much and since when (engine time)."""
        if self.jump is None:
            return None
        by, since_mono, since = self.jump
        settles = max(0.0, SETTLE_S - (self.last_mono - since_mono)) if by > 0 else None
        return {"status": "jumped", "by_s": round(by, 1), "since": since,
                "accept_in_s": None if settles is None else round(settles)}
