"""The typed state contract: what the engine publishes is its types, and devices read them back tolerantly.

broker.core.payloads defines each retained state and event payload once; the engine builds
from the types and broker.protocol.state decodes them for every device. No sockets here.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker.core.commands import HallNotice, NotifySubscribe, SurveyAnswer, Tick
from broker.core.notify import public_data
from broker.protocol.codec import Topics, encode
from broker.protocol.state import (
    EVENTS,
    CallsState,
    ConfigState,
    CounterState,
    EngineState,
    Retained,
    ServiceState,
    TicketCalled,
    TicketFinished,
    as_dict,
    decode,
    decode_event,
    public_config,
)
from broker.site.config import parse_config
from conftest import SMALL_SITE, examples
from unit.test_counter_officers import sign_in, staffed_site
from unit.test_engine import TUESDAY, Site, wib

DAY = 86400.0
T = Topics("testsite")


# ---------------------------------------------------------------------- reading tolerantly


def test_unknown_fields_are_ignored_and_missing_ones_take_their_defaults():
    state = decode(ServiceState, {"code": "A", "waiting": 3, "colour": "blue", "future": {"x": 1}})
    assert state == ServiceState("A", waiting=3)
    assert decode(ServiceState, {}) == ServiceState(), "a service's state names its code in the topic"


def test_a_mistyped_field_takes_its_default_and_the_rest_is_kept():
    state = decode(ServiceState, {"code": "A", "waiting": "many", "open": "yes", "quota": 3.5, "est_wait_s": True,
                                  "waiting_numbers": ["A002", None, 7, {"x": 1}], "name": 12})
    assert (state.waiting, state.open, state.quota, state.est_wait_s) == (0, None, None, None)
    assert state.waiting_numbers == ("A002", "7") and state.name == "12", "what can be read is read"


def test_an_object_without_a_required_field_is_none_and_left_out_of_its_list():
    assert decode(TicketCalled, {"number": "A001"}) is None, "a call without seq and ts cannot be ordered"
    assert decode(ServiceState, ["not", "an", "object"]) is None and decode(ServiceState, None) is None
    config = decode(ConfigState, {"services": [{"code": "A", "name": "KTP"}, {"name": "no code"}, "x", None],
                                  "counters": "nonsense", "site": None, "rules": {"number_digits": "3"}})
    assert [s.code for s in config.services] == ["A"] and config.counters == ()
    assert config.site == ConfigState().site and config.rules.number_digits == 3, "defaults, field by field"


def test_nested_payloads_decode_into_their_types():
    counter = decode(CounterState, {"id": "1", "status": "open", "current": {"id": "t", "number": "A001", "recalls": 2},
                                    "officer": {"id": "siti", "name": "Siti"}})
    assert counter.current.number == "A001" and counter.current.recalls == 2 and counter.officer.name == "Siti"
    broken = decode(CounterState, {"id": "1", "current": "A001", "officer": {"name": "nobody"}})
    assert broken.current is None and broken.officer is None


def test_events_decode_by_their_type_and_refuse_another():
    payload = encode({"type": "ticket_called", "ts": 5.0, "seq": 7, "ticket": "t", "number": "A001", "counter": 1,
                      "new_field": True})
    call = decode_event("ticket_called", payload)
    assert isinstance(call, TicketCalled) and (call.seq, call.counter, call.number) == (7, "1", "A001")
    assert decode_event("ticket_recalled", payload) is None, "the type in the payload must be its topic's"
    assert decode_event("ticket_called", b"{") is None and decode_event("ticket_called", b"[1]") is None
    assert decode_event("ticket_called", b"[" * 5000) is None, "no payload raises"
    assert decode_event("no_such_event", payload) is None


# ---------------------------------------------------------------------- the engine publishes its types


def scenario_site() -> tuple[Site, list]:
    """A day with every kind of event, and the events it produced."""
    site = staffed_site(now=wib(TUESDAY, 9))
    events = list(site.log)
    run = site.run

    def recording(command):
        outcome = run(command)
        events.extend(outcome.events)
        return outcome

    site.run = recording
    sign_in(site, "1", "siti", "0000")  # officer_sign_in_failed
    sign_in(site, "1", "siti")
    for service in "AAAB":
        site.number(service)
    last = next(e for e in reversed(events) if e.type == "ticket_issued")
    site.run(NotifySubscribe(request_id="p1", source="kiosk/k1", ticket=last.data["ticket"], phone="+6281234567890",
                             consent=True))  # notify_subscribed, and notification_queued: few are ahead
    site.called("1")
    site.advance(5)
    site.counter("1", "recall")
    site.counter("1", "no-show")
    site.counter("1", "reactivate", number="A001")
    site.called("1")
    site.counter("1", "transfer", to_service="B")
    site.called("1")
    site.counter("1", "finish")
    finished = next(e for e in reversed(events) if e.type == "ticket_finished")
    site.run(SurveyAnswer(request_id="s1", source="survey/1", ticket=finished.data["ticket"], channel="tablet",
                          answers=(4,) * 9, comment="Ramah", counter="1"))
    site.counter("1", "break")
    site.counter("1", "open")
    site.counter("1", "sign-out")
    site.run(HallNotice(request_id="n1", source="supervisor/kendali", text="Sistem BPJS sedang gangguan",
                        text_en="BPJS system is down", by="admin"))
    site.step_wall(+40 * DAY)
    site.advance(1)
    site.run(Tick())
    site.step_wall(-40 * DAY)
    site.advance(1)
    site.run(Tick())
    return site, events + booking_events()


def booking_events() -> list:
    """Booking, cancel, check-in, the cut-off and a refusal counted (tests/unit/test_booking.py)."""
    from test_booking import book, booking_site, check_in
    from test_engine import THURSDAY

    from broker.core.commands import BookingCancel

    site = booking_site(wib(THURSDAY, 7))
    events = list(site.last.events)
    first, second = book(site), book(site)
    events += site.last.events
    site.run(BookingCancel(request_id="bc", source="booking/web", code=second["booking"]["code"],
                           token=second["token"]))
    events += site.last.events
    book(site, day="2026-03-04")  # refused: closed, counted
    events += site.last.events
    site.now = wib(THURSDAY, 7, 45)
    check_in(site, first["booking"]["code"])
    events += site.last.events
    site.now = wib(THURSDAY, 8, 20)
    site.run(Tick())
    return events + site.last.events


def test_every_event_the_engine_emits_has_exactly_the_fields_of_its_type_in_order():
    site, events = scenario_site()
    assert {str(e.type) for e in events} == set(EVENTS), "the scenario covers every event type"
    for event in events:
        cls = EVENTS[str(event.type)]
        wire = json.loads(encode(public_data(event)))  # what the engine publishes: no personal data
        assert list(wire) == [f.name for f in dataclasses.fields(cls)], event.type
        decoded = decode(cls, wire)
        assert decoded is not None and as_dict(decoded) == wire, event.type


def test_retained_state_is_built_from_the_types_and_reads_back_equal():
    site, _ = scenario_site()
    view, now = site.engine.view, site.now
    states = [view.service_state(code, now) for code in site.engine.config.services]
    states += [view.counter_state(cid, now) for cid in site.engine.config.counters]
    states += [view.calls_state(), public_config(site.engine.config)]
    assert view.calls_state().calls, "the scenario made calls"
    for state in states:
        wire = json.loads(encode(as_dict(state)))
        assert decode(type(state), wire) == state, type(state).__name__
    assert site.engine.counter_public("1", now) == as_dict(view.counter_state("1", now)), "replies show the same"


def test_the_wire_format_of_a_counter_is_what_it_was():
    """Byte for byte what the engine published before the types (keys in this order, tuples as lists)."""
    site = Site(parse_config(SMALL_SITE), wib(TUESDAY, 9))
    site.number("A")
    site.called("1")
    ticket = site.engine.tickets[site.engine.by_number["A001"]]
    assert encode(site.engine.counter_public("1", site.now)) == encode({
        "id": "1", "agency": "dukcapil", "services": ["A", "B"], "zone": "", "status": "open",
        "current": {"id": ticket.id, "number": "A001", "service": "A", "agency": "dukcapil", "priority": None,
                    "state": "called", "issued_at": ticket.issued_at, "counter": "1", "called_at": site.now,
                    "recalls": 0, "last_call_at": site.now, "origin_service": "A",
                    "reservation": False, "session": ""},
        "served_today": 0, "officer": None, "in_hours": True, "unstaffed": True})
    assert encode(site.engine.view.calls_public()).startswith(b'{"calls":[{"seq":')


# ---------------------------------------------------------------------- a device's mirror


def test_the_mirror_state_follows_each_topic_and_ignores_others():
    retained = Retained()
    config = public_config(parse_config(SMALL_SITE))
    steps = [(T.config, encode(as_dict(config))), (T.service_state("A"), b'{"code":"A","waiting":2}'),
             (T.counter_state("1"), b'{"id":"1","status":"open"}'), (T.calls, b'{"calls":[{"seq":1,"ts":2}]}'),
             (T.engine, b'{"status":"online","site":"testsite","day":"2026-03-03","clock":null}')]
    for topic, payload in steps:
        retained, kind, key = retained.received(T, topic, payload)
    assert retained.config == config and retained.services["A"].waiting == 2 and retained.counters["1"].status == "open"
    assert retained.engine_online and retained.engine.day == "2026-03-03" and retained.calls[0].seq == 1
    assert not retained.complete(), "services B, P, K and three counters are still missing"
    with pytest.raises(TypeError):
        retained.services["B"] = ServiceState("B")  # every reader shares it: read-only
    assert retained.received(T, T.event("ticket_called"), b"{}") is None
    assert retained.received(T, Topics("other").service_state("A"), b"{}") is None, "another site's state"
    assert retained.received(T, T.root + "/state/service/A/extra", b"{}") is None
    cleared, kind, key = retained.received(T, T.service_state("A"), b"")
    assert (kind, key) == ("service", "A") and "A" not in cleared.services and "A" in retained.services
    offline, _, _ = retained.received(T, T.engine, b'{"status":"offline","site":"testsite"}')
    assert not offline.engine_online and offline.engine == EngineState("offline", "testsite")
    garbage, _, _ = retained.received(T, T.calls, b"\xff\xfe")
    assert garbage.calls == () and garbage.services == retained.services


def test_topics_are_read_back_by_the_protocol():
    assert T.state_of(T.counter_state("4K-10")) == ("counter", "4K-10")
    assert T.state_of(T.config) == ("config", "") and T.state_of(T.calls) == ("calls", "")
    assert T.state_of(T.kiosk_reply("K1")) is None and T.state_of(T.root + "/state/service/") is None
    assert T.event_of(T.event("ticket_finished")) == "ticket_finished"
    assert T.event_of(T.event("a") + "/b") is None and T.event_of(Topics("x").event("ticket_called")) is None
    assert decode(CallsState, {"calls": [{"seq": 1, "ts": 0, "recall": 1}]}).calls[0].recall is False
    assert isinstance(decode_event("ticket_finished", b'{"seq":1,"ts":1,"counter":"2"}'), TicketFinished)


# ---------------------------------------------------------------------- every reader survives whatever arrives

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)
REAL = as_dict(public_config(parse_config(SMALL_SITE)))


def _spoiled(value, data):
    """The real payload with some values swapped for any JSON (keys kept, so the readers get far)."""
    if isinstance(value, dict):
        return {k: data.draw(JSON) if data.draw(st.integers(0, 2)) == 0 else _spoiled(v, data) for k, v in value.items()}
    if isinstance(value, list):
        return [_spoiled(v, data) for v in value]
    return value


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_no_payload_on_any_state_topic_breaks_a_reader(data):
    from display.screens.callboard import CallBoard
    from display.screens.calls import calls_from_state, zone_agencies
    from display.screens.counter_screen import counter_state
    from display.screens.hall import hall_state
    from kiosk.counter.flow import Panel
    from kiosk.counter.panel import panel_facts, panel_view
    from kiosk.ticketing.catalog import build_catalog

    retained = Retained()
    counter = {"id": "1", "status": "open", "current": {"id": "t", "number": "A001", "called_at": 5.0},
               "officer": {"id": "siti"}}
    for topic, real in ((T.config, REAL), (T.service_state("A"), {"code": "A", "waiting_numbers": ["A002"]}),
                        (T.counter_state("1"), counter), (T.calls, {"calls": [{"seq": 1, "ts": 1.0, "number": "A1"}]}),
                        (T.engine, {"status": "online", "clock": {"by_s": 1}})):
        payload = data.draw(st.one_of(JSON, st.just(real).map(lambda real: _spoiled(real, data))))
        retained = retained.received(T, topic, json.dumps(payload).encode())[0]
    board = CallBoard()
    for call in calls_from_state(retained.calls):
        board.add(call)
    build_catalog(retained.config, retained.services)
    hall_state(retained.config, retained.services, retained.counters, board, moment=datetime(2026, 3, 3, 9),
               mono=0.0, online=True, zone=data.draw(st.sampled_from([None, "", "lantai-2"])))
    counter_state(retained.config, retained.counters, "1", online=True)
    facts = panel_facts(retained.config, retained.counters, retained.services, "1")
    panel_view(Panel(), facts, retained.config, retained.counters, retained.services, "1", now=10.0)
    zone_agencies(retained.config, "lantai-2")
