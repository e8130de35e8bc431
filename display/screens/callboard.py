"""Which call the hall shows large, and the recent calls beside it.

Every call that arrives is shown large for at least `hold_s`, one after the
other in the order they were made, so a burst (two counters pressing "next" in
the same instant, or twenty calls in a second) never skips one. Time is passed
in, never read, so the rules can be tested without waiting.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from display.screens.calls import Call

HOLD_S = 4.0  # a call stays large at least this long when others are waiting their turn
HIGHLIGHT_S = 5.0  # the large call flashes this long after it appears
BLINK_S = 0.5
HISTORY = 12


@dataclass(frozen=True)
class Spot:
    call: Call | None
    highlight: bool  # inside the flashing period
    flash_on: bool  # the current blink phase


class CallBoard:
    def __init__(self, hold_s: float = HOLD_S, highlight_s: float = HIGHLIGHT_S, blink_s: float = BLINK_S):
        self.hold_s, self.highlight_s, self.blink_s = hold_s, highlight_s, blink_s
        self.history: dict[tuple[int, str], Call] = {}
        self.backlog: deque[Call] = deque()
        self.current: Call | None = None
        self.since = float("-inf")

    def reset(self) -> None:
        """A new day: yesterday's calls leave the screen."""
        self.history.clear()
        self.backlog.clear()
        self.current = None
        self.since = float("-inf")

    def seed(self, calls: list[Call]) -> None:
        """Calls that happened before the screen started: listed, the newest shown large, no flash."""
        for call in calls:
            self.history.setdefault(call.key, call)
        self._trim()
        if self.current is None and self.history:
            self.current = max(self.history.values(), key=lambda c: c.seq)

    def add(self, call: Call) -> None:
        """A new call (already de-duplicated): queued to be shown large, listed at once."""
        if call.key in self.history and call is not self.history[call.key]:
            return
        self.history[call.key] = call
        self._trim()
        self.backlog.append(call)

    def _trim(self) -> None:
        if len(self.history) > HISTORY:
            for key in sorted(self.history, key=lambda k: self.history[k].seq)[:len(self.history) - HISTORY]:
                del self.history[key]

    def spot(self, now: float) -> Spot:
        """The call shown large at `now`, moving on to the next waiting call when its time is up."""
        if self.backlog and (self.current is None or now - self.since >= self.hold_s
                             or now < self.since):  # a clock stepping back never freezes the board
            self.current = self.backlog.popleft()
            self.since = now
        age = now - self.since
        highlight = self.current is not None and 0 <= age < self.highlight_s
        return Spot(self.current, highlight, highlight and int(age / self.blink_s) % 2 == 0)

    def recent(self, limit: int) -> list[Call]:
        """The latest calls, newest first, one line per ticket, without the one shown large."""
        listed = {self.current.ticket} if self.current else set()
        calls: list[Call] = []
        for call in sorted(self.history.values(), key=lambda c: c.seq, reverse=True):
            if call.ticket not in listed:  # a recalled ticket is listed once
                listed.add(call.ticket)
                calls.append(call)
        return calls[:limit]

    @property
    def busy(self) -> bool:
        """True while calls still wait for their turn on the large panel (the screen must keep ticking)."""
        return bool(self.backlog)
