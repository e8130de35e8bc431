"""The engine says which retained state an outcome changed; the publisher sends exactly that.

`Outcome.changed` is built by the apply table itself, so it is checked here against what
really changed: every retained payload (services, counters, calls, the engine's own) before
and after random commands. Nothing changed may be left out.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker.core.commands import Changed, CounterCommand, CounterRequest, IssueTicket, Tick
from broker.core.engine import Engine
from broker.site.config import parse_config
from conftest import SMALL_SITE, examples
from unit.test_engine import MONDAY, TUESDAY, Site, wib

CONFIG = parse_config(SMALL_SITE, "small-site.toml")


def retained(engine: Engine, now: float) -> dict:
    return {"services": {c: engine.service_public(c, now) for c in CONFIG.services},
            "counters": {c: engine.counter_public(c, now) for c in CONFIG.counters},
            "calls": engine.view.calls_public(), "engine": engine.engine_public()}


def test_what_each_command_changed(small_config):
    site = Site(small_config, wib(TUESDAY, 9))
    site.run(Tick())
    assert site.last.changed == Changed(frozenset(CONFIG.services), frozenset(CONFIG.counters), True, True), \
        "a new day: everything"
    site.issue("A")
    assert site.last.changed == Changed(services=frozenset({"A"}))
    site.counter("1")  # opens counter 1 and calls A001: the counter, the calls, and every service it serves
    assert site.last.changed == Changed(frozenset({"A", "B"}), frozenset({"1"}), calls=True)
    site.advance(5)
    site.counter("1", "recall")
    assert site.last.changed == Changed(counters=frozenset({"1"}), calls=True)
    site.counter("1", "transfer", to_service="K")
    assert site.last.changed == Changed(frozenset({"A", "B", "K"}), frozenset({"1"}))
    site.counter("1", "next")  # nobody waiting at counter 1 now: nothing changes, nothing to publish
    assert not site.last.changed and site.last.events == []
    site.counter("9")  # a refusal changes nothing
    assert not site.last.changed


_C = CounterCommand
_STEPS = st.lists(st.one_of(
    st.tuples(st.just("issue"), st.sampled_from(["A", "B", "P", "K"])),
    st.tuples(st.just("counter"), st.sampled_from(list(CONFIG.counters)),
              st.sampled_from([_C.NEXT, _C.NEXT, _C.FINISH, _C.RECALL, _C.NO_SHOW, _C.TRANSFER, _C.OPEN, _C.BREAK,
                               _C.CLOSE, _C.REACTIVATE, _C.CALL]),
              st.sampled_from(["A", "B", "K"]), st.integers(1, 6)),
    st.tuples(st.just("wait"), st.floats(0.5, 9 * 3600))), min_size=5, max_size=60)


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_STEPS)
def test_changed_names_every_retained_topic_that_changed(steps):
    engine, now, n = Engine(CONFIG, ignore_hours=True), wib(MONDAY, 7), 0
    engine.handle(Tick(), now)
    for step in steps:
        if step[0] == "wait":
            now += step[1]
            continue
        n += 1
        if step[0] == "issue":
            command = IssueTicket(service=step[1], request_id=f"i{n}", source="kiosk/k1", kiosk="k1")
        else:
            _, counter, action, to, number = step
            command = CounterRequest(counter=counter, action=action, to_service=to, number=f"{to}{number:03d}",
                                     request_id=f"c{n}", source=f"counter/{counter}")
        before = retained(engine, now)
        outcome = engine.handle(command, now)
        after = retained(engine, now)
        changed = outcome.changed
        for code in CONFIG.services:
            if before["services"][code] != after["services"][code]:
                assert code in changed.services, (command, code)
        for cid in CONFIG.counters:
            if before["counters"][cid] != after["counters"][cid]:
                assert cid in changed.counters, (command, cid)
        assert before["calls"] == after["calls"] or changed.calls
        assert before["engine"] == after["engine"] or changed.engine
