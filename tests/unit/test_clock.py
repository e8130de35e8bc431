"""Clock steps: intervals on the monotonic clock, queues by seq, a jump of a day or more held.

A hall PC or a Raspberry Pi may have no real-time clock and no NTP: the wall clock steps
back, glitches to another date and back, or jumps forward days when NTP is found late.
`Site.step_wall` moves the wall clock alone; `advance` moves both (time passing).
"""

from __future__ import annotations

import pytest

from broker.core.clock import JUMP_S, SETTLE_S
from broker.core.commands import Tick
from broker.core.engine import Engine
from broker.core.events import EventType as E
from unit.test_engine import TUESDAY, Site, config_with, refused, wib

HOUR, DAY = 3600.0, 86400.0


@pytest.fixture
def hall(small_config):
    """Tuesday 10:00 WIB, recalls at least 10 s apart, the 1 s debounce of the small site."""
    site = Site(config_with(recall_interval_s=10), wib(TUESDAY, 10))
    site.run(Tick())
    return site


def types(site: Site) -> list[str]:
    return [str(e.type) for e in site.last.events]


def test_after_the_clock_steps_back_an_hour_presses_recalls_and_the_queue_order_are_right(hall):
    assert hall.number("A") == "A001"
    hall.step_wall(-HOUR)  # NTP (or a technician) sets the clock back an hour
    hall.advance(5)
    assert hall.number("A") == "A002"  # issued "an hour before" A001 by the wall clock
    assert hall.called("1") == "A001", "the earlier visitor first: queues go by issue order, not wall time"
    hall.advance(2)  # a real second press, 2 s later: not a bounce (it was "debounced" for an hour)
    assert hall.called("1") == "A002"
    hall.advance(3)
    error = refused(hall.counter("1", "recall"), "recall_too_soon")
    assert error["params"]["seconds"] == 7, "counted on the monotonic clock (it said 3,604 s)"
    hall.advance(7)
    assert hall.counter("1", "recall")["ok"]
    assert E.DAY_STARTED not in [e.type for e in hall.last.events] and hall.engine.day.day == 3


def test_a_bounce_is_still_a_bounce_when_the_wall_clock_steps_meanwhile(hall):
    hall.number("A")
    hall.number("A")
    assert hall.called("1") == "A001"
    hall.step_wall(+2 * HOUR)  # the wall moves on by hours between the two contacts of one press
    hall.advance(0.3)
    reply = hall.counter("1")
    assert reply["debounced"] and reply["ticket"]["number"] == "A001"


def test_a_glitch_to_another_date_and_back_expires_nothing_and_midnight_still_comes(hall):
    for _ in range(3):
        hall.number("A")
    hall.called("1")
    hall.step_wall(+40 * DAY)  # the clock glitches forward to January
    hall.advance(1)
    reply = hall.issue("A")
    assert types(hall)[0] == "clock_jumped" and E.DAY_STARTED not in [e.type for e in hall.last.events]
    jumped = hall.last.events[0]
    assert jumped.data["by_s"] == pytest.approx(40 * DAY, abs=1) and jumped.ts == pytest.approx(wib(TUESDAY, 10, 0, 1))
    assert reply["ticket"]["number"] == "A004" and reply["ticket"]["id"].startswith("20260303-"), "the day held"
    assert reply["ticket"]["issued_at"] == pytest.approx(wib(TUESDAY, 10, 0, 1)), "the log keeps believable times"
    alarm = hall.engine.engine_public()["clock"]
    assert alarm["status"] == "jumped" and alarm["by_s"] > JUMP_S and hall.last.changed.engine
    assert hall.waiting("A") == ["A002", "A003", "A004"]
    hall.step_wall(-40 * DAY)  # and back
    hall.advance(1)
    assert hall.called("1") == "A002"
    assert types(hall)[0] == "clock_settled" and hall.last.events[0].data["how"] == "back"
    assert hall.engine.engine_public()["clock"] is None
    hall.advance(14 * HOUR)  # the real midnight: the daily reset happens as it should
    hall.run(Tick())
    assert types(hall) == ["day_started"] and hall.engine.day.day == 4


def test_the_hours_follow_the_estimate_while_the_wall_clock_is_held(hall):
    hall.step_wall(+DAY + 12 * HOUR)  # the wall says Wednesday 22:00: closed; the hall is at Tuesday 10:00
    assert hall.number("A") == "A001"
    assert hall.engine.service_public("A", hall.last.ts)["open"] is True


def test_a_forward_jump_that_stays_is_accepted_after_a_while(hall):
    """A Raspberry Pi without a clock booted on Friday's time; NTP answers on Monday morning."""
    hall.number("A")
    hall.step_wall(+2.6 * DAY)
    hall.run(Tick())
    assert types(hall) == ["clock_jumped"]
    hall.advance(SETTLE_S / 2)
    hall.run(Tick())
    assert hall.last.events == [] and hall.engine.engine_public()["clock"]["accept_in_s"] == SETTLE_S / 2
    hall.advance(SETTLE_S / 2)
    hall.run(Tick())
    assert types(hall) == ["clock_settled", "day_started"], "the new time is taken, and with it the new day"
    assert hall.last.events[0].data["how"] == "accepted" and hall.engine.engine_public()["clock"] is None
    assert hall.engine.day.day == 6


def test_a_wandering_clock_is_not_accepted(hall):
    hall.step_wall(+3 * DAY)
    hall.run(Tick())
    for _ in range(4):
        hall.advance(SETTLE_S * 0.4)
        hall.step_wall(+HOUR)  # it keeps jumping: never steady for SETTLE_S
        hall.run(Tick())
        assert E.CLOCK_SETTLED not in [e.type for e in hall.last.events]
    assert hall.engine.day.day == 3


def test_a_jump_back_of_days_is_held_until_the_clock_is_right(hall):
    hall.number("A")
    hall.step_wall(-400 * DAY)  # an empty RTC battery: 2025
    for _ in range(3):
        hall.advance(SETTLE_S)
        reply = hall.issue("A")
    assert reply["ticket"]["issued_at"] > wib(TUESDAY, 10), "never accepted by itself"
    assert hall.engine.engine_public()["clock"]["accept_in_s"] is None


def test_small_steps_are_followed_at_once(hall):
    hall.step_wall(-20 * HOUR)  # under a day: followed (it might be right); days never go back
    hall.run(Tick())
    assert hall.last.events == [] and hall.engine.engine_public()["clock"] is None
    assert hall.issue("A")["ticket"]["issued_at"] == pytest.approx(wib(TUESDAY, 10) - 20 * HOUR)
    assert hall.engine.day.day == 3


def test_a_monotonic_clock_never_goes_back(hall):
    hall.number("A")
    assert hall.called("1") == "A001"
    hall.mono_offset -= 10  # a shell that got it wrong: the engine keeps the latest monotonic time
    hall.advance(0.5)
    assert hall.counter("1")["debounced"]


def test_a_restart_estimates_the_monotonic_times_of_the_log(small_config):
    """After a reboot the monotonic clock starts again near zero: the replayed call is placed at
    (its wall time - the wall time now) before the new monotonic now, so the recall spacing holds."""
    site = Site(config_with(recall_interval_s=10), wib(TUESDAY, 10))
    log = []
    site.number("A")
    log += site.last.events
    site.called("1")
    log += site.last.events
    site.advance(4)
    restarted = Engine(site.engine.config)
    restarted.restore(log, now=site.now, mono=12.5)  # a new boot: monotonic 12.5 s
    site.engine, site.mono_offset = restarted, 12.5 - site.now
    assert refused(site.counter("1", "recall"), "recall_too_soon")["params"]["seconds"] == 6
    site.advance(6)
    assert site.counter("1", "recall")["ok"]


# ---------------------------------------------------------------------------------------------- the real shell


class Clocks:
    """A wall clock and a monotonic clock for an EngineService, moved by the test."""

    def __init__(self, wall: float):
        self.wall, self.mono = wall, 1000.0

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds


