"""The wait estimate: counters shared between services counted fairly, the spread of recent service
times, and no estimate at all while no counter serves the service (broker.core.views, WaitPace)."""

from __future__ import annotations

import math

from test_engine import TUESDAY, Site, wib

from broker.core.payloads import WaitPace
from broker.core.stats import percentile
from broker.protocol.state import ServiceState, decode


def test_no_open_counter_means_no_estimate(small_config):
    site = Site(small_config, wib(TUESDAY, 9))
    reply = site.issue("A")
    assert reply["est_wait_s"] is None
    state = site.engine.service_public("A", site.now)
    assert state["est_wait_s"] is None and state["pace"] is None
    site.counter("1", "open")
    site.counter("1", "break")  # on a break: still nobody serving
    assert site.engine.service_public("A", site.now)["pace"] is None
    assert WaitPace().wait_range(3) is None and WaitPace().wait_s(3) is None


def test_a_counter_shared_between_services_is_split_by_who_waits(small_config):
    site = Site(small_config, wib(TUESDAY, 9))
    site.counter("1", "open")  # counter 1 serves A and B
    site.counter("5", "open")  # counter 5 serves K alone
    assert site.engine.view.counter_share("K") == 1.0
    assert site.engine.view.counter_share("A") == site.engine.view.counter_share("B") == 0.5  # nobody waits
    for _ in range(3):
        site.number("A")
    # A: 3 waiting + 1, B: 0 + 1 -> A gets 4/5 of counter 1, B the rest; they add up to the one counter
    assert math.isclose(site.engine.view.counter_share("A"), 4 / 5)
    assert math.isclose(site.engine.view.counter_share("A") + site.engine.view.counter_share("B"), 1.0)
    site.counter("2", "open")  # counter 2 serves B and A: a second counter's share for each
    assert math.isclose(site.engine.view.counter_share("A"), 8 / 5)
    # the old estimate counted a shared counter wholly for every service: B would have had two counters
    assert site.engine.view.counter_share("B") < 1


def test_the_range_follows_the_spread_of_recent_service_times(small_config):
    site = Site(small_config, wib(TUESDAY, 9))
    times = [60, 60, 90, 120, 600]  # one long case among quick ones
    for _ in times:
        site.number("K")
    for seconds in times:
        assert site.called("5") is not None
        site.advance(seconds)
        site.counter("5", "finish")
    pace = decode(ServiceState, site.engine.service_public("K", site.now)).pace
    assert pace is not None
    assert (pace.mean_s, pace.low_s, pace.high_s, pace.counters) == (
        sum(times) / len(times), percentile(times, 0.25), percentile(times, 0.75), 1.0)
    ranges = [pace.wait_range(n) for n in (0, 1, 4, 16)]
    for n, (low, high) in zip((0, 1, 4, 16), ranges):
        assert low <= pace.wait_s(n) <= high
    assert ranges[0][0] == 0 and ranges[0][1] > 0  # next in line: until the counter's current case ends
    widths = [high - low for low, high in ranges]
    assert widths == sorted(widths)  # more people ahead, a wider range ...
    assert widths[3] / 16 < widths[1]  # ... but narrower per person: times add, their spreads partly cancel


def test_a_steady_service_gives_a_narrow_range():
    steady, erratic = WaitPace(300, 290, 310, 1.0), WaitPace(300, 120, 600, 1.0)
    low_s, high_s = steady.wait_range(4)
    low_e, high_e = erratic.wait_range(4)
    assert steady.wait_s(4) == erratic.wait_s(4) == 1200
    assert high_s - low_s < high_e - low_e
    assert WaitPace(300, 290, 310, 2.0).wait_range(4) == (round(low_s / 2), round(high_s / 2))  # two counters


def test_the_pace_travels_in_the_service_state():
    state = decode(ServiceState, {"code": "A", "pace": {"mean_s": 200, "low_s": 100, "high_s": 400, "counters": 2}})
    assert state is not None and state.pace == WaitPace(200.0, 100.0, 400.0, 2.0)
    assert decode(ServiceState, {"code": "A", "pace": "fast"}).pace is None
