"""Property-based tests of the engine: random traffic, invariants after every step.

A run is a random list of steps on the small site of conftest.py: tickets issued (any
service, sometimes priority, sometimes an unknown service or group), every counter
action on every counter (and an unknown one), retries of earlier commands with their
request id, clock ticks, and time advancing by nothing (two presses at the same
instant), a fraction of a second (within the debounce), minutes, or hours (crossing
local midnight in Asia/Jakarta). Hours are enforced in a quarter of the runs. Runs stay
shorter than the engine's reply memory (2 days), so no remembered reply is forgotten.

A `Model` is rebuilt from the events the engine emits, by rules written here
independently of the engine. What is asserted, after every step:

- Numbers: no number is issued twice in a local day, numbers of a service count up
  A001, A002, ... from 1 each local day, a ticket id is never reused, and a day starts
  exactly when the local (WIB) date changes, expiring every waiting, called and no-show
  ticket of the old day.
- Two counters: a ticket is called only while it is waiting (never while called at
  another counter), a counter is given a ticket only when it has none, and no ticket is
  the current one of two counters; the current ticket is "called" at that counter.
- FIFO within a priority class, precisely: a ticket's arrival key is the seq of its
  issuing event (never the wall clock, which may step back); a transfer keeps it, and a
  reactivated no-show re-enters with it.
  Every ticket that `next` calls is exactly the model's choice: the priority class if a
  priority ticket waits in one of the counter's services and (no normal ticket waits
  there or the counter called fewer than priority_max_in_a_row priority tickets in a
  row), else the normal class; the first service in the counter's preference order with
  a waiting ticket of that class; and in it the waiting ticket with the smallest arrival
  key. `call` by number is the one deliberate exception and is not checked for order.
  Each service's queue equals the model's waiting tickets: priority lane then normal
  lane, each by arrival key. "Nobody waiting" is answered exactly when the model has no
  waiting ticket for the counter.
- Debounce: `next` within counter_debounce_s of the counter's last call, while it still
  has that ticket, returns it unchanged ("debounced") and emits nothing; otherwise it
  is never debounced.
- Idempotency: a command whose request id and source got a remembered answer returns
  that exact reply, `duplicate`, no events and an unchanged public state.
- Refusals emit no event (except the start of a day and the record of a wrong PIN), carry
  both languages, and leave every public state exactly as it was: no command is half applied.
- Replay: a new Engine restored from all events and the remembered replies has the same
  public state (every counter_public and service_public, waiting ids, last calls,
  tickets, remembered replies, day and seq) as the live one.

With the real EventStore, a second engine fed the same commands, its outcomes appended in
random batches and restarted from the store at random points, answers every command like
the live engine and ends in the same state.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker.core.commands import CounterCommand, CounterRequest, IssueTicket, Tick
from broker.core.engine import REPLY_MEMORY_S, Engine
from broker.core.events import EventType as E
from broker.core.schedule import SiteClock
from broker.server.engine_service import load_engine
from broker.server.store import EventStore
from broker.site.config import parse_config
from conftest import SMALL_SITE, examples

CONFIG = parse_config(SMALL_SITE, "small-site.toml")
CLOCK = SiteClock("Asia/Jakarta")
WIB = ZoneInfo("Asia/Jakarta")
START = datetime(2026, 3, 2, 7, 0, tzinfo=WIB).timestamp()  # Monday 07:00 WIB
MAX_SPAN_S = 44 * 3600  # below REPLY_MEMORY_S: no remembered reply may be forgotten in a run
assert MAX_SPAN_S < REPLY_MEMORY_S

SERVICES = list(CONFIG.services)  # A, B, P, K
COUNTERS = list(CONFIG.counters)  # 1, 2, 4K-10, 5
OPEN_STATES = {"waiting", "called", "no_show"}  # what expires at midnight

# ------------------------------------------------------------------------------------- strategies

_C = CounterCommand
ACTIONS = (list(_C) + [_C.NEXT] * 6 + [_C.FINISH] * 2 + [_C.TRANSFER] * 3 + [_C.CALL]
           + [_C.NO_SHOW, _C.REACTIVATE] * 3)
KINDS = ["issue"] * 4 + ["counter"] * 6 + ["retry", "tick"]
DELAYS = ["instant"] * 2 + ["bounce"] + ["traffic"] * 8 + ["hours"]


@st.composite
def plan_steps(draw):
    """One step of traffic and the time that passes before it."""
    kind = draw(st.sampled_from(KINDS))
    if kind == "issue":
        step = ("issue", draw(st.sampled_from(SERVICES * 4 + ["Z"])),
                draw(st.sampled_from([None] * 4 + ["lansia", "ibu_hamil", "disabilitas", "vip"])),
                draw(st.sampled_from(["kiosk/k1", "kiosk/k2"])))
    elif kind == "counter":
        step = ("counter", draw(st.sampled_from(COUNTERS * 4 + ["9"])), draw(st.sampled_from(ACTIONS)),
                draw(st.sampled_from(SERVICES + ["Z"])),  # transfer target
                draw(st.sampled_from([None, None, "index", "index", "index", "A999"])))
        if step[-1] == "index":
            step = step[:-1] + (draw(st.integers(0, 50)),)  # number: index into today's
    elif kind == "retry":
        step = ("retry", draw(st.integers(0, 10_000)))  # an earlier command again, same request id
    else:
        step = ("tick",)
    delay = {
        "instant": st.just(0.0),  # the same instant: two counters pressing at once
        "bounce": st.sampled_from([0.2, 0.5, 0.9]),  # within the 1 s debounce
        "traffic": st.floats(1.0, 600.0),  # ordinary traffic
        "hours": st.floats(3600.0, 8 * 3600.0),  # crosses local midnight now and then
    }[draw(st.sampled_from(DELAYS))]
    return step, draw(delay)


steps = st.lists(plan_steps(), min_size=20, max_size=100)
# (ignore_hours, start: Monday 07:00-23:00 WIB, steps); hours are enforced in a quarter of the runs
runs = st.tuples(st.sampled_from([True, True, True, False]), st.floats(0, 16 * 3600), steps)


# ------------------------------------------------------------------------------------- the model


@dataclass
class ModelTicket:
    id: str
    number: str
    service: str
    priority: bool
    key: int  # the seq of the issuing event: the order of arrival
    state: str = "waiting"
    counter: str | None = None


@dataclass
class Model:
    """Today's queues, rebuilt from the engine's events by rules written independently of it."""

    max_in_a_row: int
    day: str | None = None
    tickets: dict[str, ModelTicket] = field(default_factory=dict)
    current: dict[str, str | None] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)
    streak: dict[str, int] = field(default_factory=dict)
    last_call_at: dict[str, float] = field(default_factory=dict)
    numbers_by_day: dict[str, list[str]] = field(default_factory=dict)
    ids_ever: set[str] = field(default_factory=set)

    def reset(self, day: str) -> None:
        self.day = day
        self.tickets = {}
        self.current = {c: None for c in COUNTERS}
        self.status = {c: "closed" for c in COUNTERS}
        self.streak = {c: 0 for c in COUNTERS}

    def waiting(self, service: str, priority: bool) -> list[ModelTicket]:
        return sorted((t for t in self.tickets.values()
                       if t.state == "waiting" and t.service == service and t.priority == priority),
                      key=lambda t: t.key)

    def expected_next(self, counter: str) -> str | None:
        """What `next` must call: priority first (at most N in a row while a normal ticket
        waits), the first of the counter's services in preference order that has a ticket of
        that class, and within it the longest waiting ticket by original arrival."""
        codes = CONFIG.counters[counter].services
        first = {p: next((w[0] for c in codes if (w := self.waiting(c, p))), None) for p in (True, False)}
        if first[True] and (first[False] is None or self.streak[counter] < self.max_in_a_row):
            return first[True].id
        return first[False].id if first[False] else None

    def apply(self, event) -> None:
        d = event.data
        if event.type == E.DAY_STARTED:
            open_ids = {t.id for t in self.tickets.values() if t.state in OPEN_STATES}
            assert set(d["expired"]) == open_ids, "every open ticket of the old day expires"
            assert self.day is None or d["day"] > self.day
            assert d["day"] == CLOCK.day(event.ts).isoformat(), "the day starts at local midnight"
            self.reset(d["day"])
            return
        if event.type == E.COUNTER_STATUS:
            self.status[d["counter"]] = d["status"]
            return
        if event.type == E.DEMAND_TURNED_AWAY:
            return  # a refusal counted (broker.core.booking); tests/unit/test_booking.py covers it
        if event.type in (E.OFFICER_SIGNED_IN, E.OFFICER_SIGNED_OUT, E.OFFICER_SIGN_IN_FAILED):
            return  # who staffs a counter changes no queue (tests/test_counter_officers.py covers it)
        if event.type == E.TICKET_ISSUED:
            # no number issued twice in a local day; numbers count up from 1 per service
            assert CLOCK.day(event.ts).isoformat() == self.day
            today = self.numbers_by_day.setdefault(self.day, [])
            assert d["number"] not in today, f"{d['number']} issued twice on {self.day}"
            same_service = [n for n in today if n.startswith(d["service"])]
            assert d["number"] == f"{d['service']}{len(same_service) + 1:03d}"
            assert d["ticket"] not in self.ids_ever
            today.append(d["number"])
            self.ids_ever.add(d["ticket"])
            self.tickets[d["ticket"]] = ModelTicket(d["ticket"], d["number"], d["service"],
                                                    d["priority"] is not None, event.seq)
            return
        ticket = self.tickets[d["ticket"]]
        if event.type == E.TICKET_CALLED:
            counter = d["counter"]
            assert ticket.state == "waiting", f"{ticket.number} called while {ticket.state}: two counters?"
            assert self.current[counter] is None, "a counter is given a ticket while it still has one"
            assert self.status[counter] == "open"
            ticket.state, ticket.counter = "called", counter
            self.current[counter] = ticket.id
            self.streak[counter] = self.streak[counter] + 1 if ticket.priority else 0
            self.last_call_at[counter] = event.ts
        elif event.type == E.TICKET_RECALLED:
            assert ticket.state == "called" and ticket.counter == d["counter"]
        elif event.type in (E.TICKET_NO_SHOW, E.TICKET_FINISHED):
            assert ticket.state == "called" and self.current[ticket.counter] == ticket.id
            ticket.state = "no_show" if event.type == E.TICKET_NO_SHOW else "done"
            self.current[ticket.counter] = None
        elif event.type == E.TICKET_TRANSFERRED:
            assert ticket.state in ("waiting", "called") and d["to_service"] != ticket.service
            if ticket.state == "called":
                self.current[ticket.counter] = None
            ticket.state, ticket.service, ticket.counter = "waiting", d["to_service"], None  # key unchanged
        elif event.type == E.TICKET_REACTIVATED:
            assert ticket.state == "no_show"
            ticket.state, ticket.counter = "waiting", None
        else:
            raise AssertionError(f"unexpected event {event}")


# ------------------------------------------------------------------------------------- running


def public_state(engine: Engine, now: float) -> dict:
    """Everything screens and counters can see, plus the tickets and memory behind it."""
    return {
        "day": engine.day, "seq": engine.seq,
        "counters": {c: engine.counter_public(c) for c in COUNTERS},
        "services": {s: engine.service_public(s, now) for s in SERVICES},
        "waiting": {s: engine.waiting_ids(s) for s in SERVICES},
        "calls": list(engine.calls),
        "tickets": {tid: t.public() for tid, t in engine.tickets.items()},
        "replies": dict(engine.replies),
    }


class Run:
    """Feeds steps to an engine, keeping the model, the log and the remembered replies."""

    def __init__(self, ignore_hours: bool, start: float):
        self.ignore_hours = ignore_hours
        self.engine = Engine(CONFIG, ignore_hours=ignore_hours)
        self.now = self.start = start
        self.model = Model(CONFIG.rules.priority_max_in_a_row)
        self.events: list = []
        self.replies: list[tuple[str, float, dict]] = []  # as the store keeps them
        self.sent: list = []
        self.remembered: dict[str, dict] = {}
        self.outcomes: list = []
        self.serial = 0
        self.last_command = None

    def command(self, step):
        kind = step[0]
        self.serial += 1
        rid = f"q{self.serial}"
        if kind == "issue":
            _, service, priority, source = step
            return IssueTicket(service=service, priority=priority, request_id=rid, source=source,
                               kiosk=source.split("/")[1])
        if kind == "counter":
            _, counter, action, target, number = step
            if isinstance(number, int):  # mostly a ticket the action fits, sometimes any of today's
                fits = {_C.REACTIVATE: {"no_show"}, _C.CALL: {"waiting"}}.get(action, {"waiting", "called"})
                likely = [t.number for t in self.model.tickets.values() if t.state in fits]
                if not likely or (number % 4 == 0 and action != _C.REACTIVATE):
                    likely = self.model.numbers_by_day.get(self.model.day, [])
                today = likely
                number = today[number % len(today)] if today else "A001"
            if action in (CounterCommand.CALL, CounterCommand.REACTIVATE) and number is None:
                number = "A001"
            return CounterRequest(counter=counter, action=action, to_service=target, number=number,
                                  request_id=rid, source=f"counter/{counter}")
        if kind == "retry":
            return self.sent[step[1] % len(self.sent)] if self.sent else Tick()
        return Tick()

    def step(self, step, delay: float):
        if self.now + delay - self.start <= MAX_SPAN_S:
            self.now += delay
        command = self.last_command = self.command(step)
        if not isinstance(command, Tick) and step[0] != "retry":
            self.sent.append(command)
        before = public_state(self.engine, self.now)
        expected = None
        if isinstance(command, CounterRequest) and command.action == CounterCommand.NEXT \
                and command.counter in CONFIG.counters:
            expected = "pending"  # computed after the day has (maybe) started, below

        bouncing = (isinstance(command, CounterRequest) and self.model.current.get(command.counter) is not None
                    and self.now - self.model.last_call_at[command.counter] < CONFIG.rules.counter_debounce_s)
        outcome = self.engine.handle(command, self.now)  # must never raise
        self.outcomes.append(outcome)
        key = command.idempotency_key

        # Idempotency: a remembered request answers exactly as before and changes nothing.
        if key in self.remembered:
            assert outcome.duplicate and outcome.events == [] and outcome.reply == self.remembered[key]
            assert public_state(self.engine, self.now) == before
            return
        assert not outcome.duplicate

        # Replay the events through the model; for `next`, check the pick after the day start.
        called_by_next = None
        for event in outcome.events:
            if expected == "pending" and event.type not in (E.DAY_STARTED, E.COUNTER_STATUS,
                                                            E.TICKET_FINISHED):
                expected = self.model.expected_next(command.counter)
            if event.type == E.TICKET_CALLED and isinstance(command, CounterRequest) \
                    and command.action == CounterCommand.NEXT:
                called_by_next = event.data["ticket"]
            self.model.apply(event)
        self.events.extend(outcome.events)
        if outcome.remember_as:
            assert outcome.remember_as == key and outcome.reply["ok"]
            self.remembered[key] = outcome.reply
            self.replies.append((key, outcome.ts, outcome.reply))

        reply = outcome.reply
        assert reply["request_id"] == command.request_id
        if not reply["ok"]:
            assert reply["error"]["message"] and reply["error"]["message_en"]
            # a refusal changes nothing, but a wrong PIN is recorded (it counts towards the sign-in lockout)
            # and demand turned away is counted (broker.core.booking)
            assert all(e.type in (E.DAY_STARTED, E.OFFICER_SIGN_IN_FAILED, E.DEMAND_TURNED_AWAY)
                       for e in outcome.events)
            if not outcome.events:  # and nothing of it was applied: the state is exactly as before
                assert public_state(self.engine, self.now) == before
        if isinstance(command, CounterRequest) and command.action == CounterCommand.NEXT and reply["ok"]:
            bounce = bouncing and not any(e.type == E.DAY_STARTED for e in outcome.events)
            assert bool(reply.get("debounced")) == bounce, "a second press within the debounce is the same press"
            if bounce:
                # a double press: the visitor already called stays called, nobody is skipped
                assert outcome.events == [] or all(e.type == E.DAY_STARTED for e in outcome.events)
                assert reply["ticket"]["id"] == self.model.current[command.counter]
            else:
                # FIFO within a class (and the preference and priority rules): the ticket that
                # `next` calls is exactly the model's longest-waiting ticket of the right class.
                if expected == "pending":
                    expected = self.model.expected_next(command.counter)
                assert called_by_next == expected, (called_by_next, expected)
                if expected is None:
                    assert reply["ticket"] is None and reply["notice"]["code"] == "nobody_waiting"
                else:
                    assert reply["ticket"]["id"] == expected

        self.check_invariants()

    def check_invariants(self) -> None:
        engine, model = self.engine, self.model
        assert engine.day is not None and engine.day.isoformat() == model.day
        # A ticket is current at one counter at most, and only while it is called there.
        currents = [engine.counter_public(c)["current"] for c in COUNTERS]
        ids = [c["id"] for c in currents if c]
        assert len(ids) == len(set(ids)), "one ticket at two counters"
        for cid, current in zip(COUNTERS, currents):
            public = engine.counter_public(cid)
            assert public["status"] == model.status[cid]
            assert (current["id"] if current else None) == model.current[cid]
            if current:
                assert current["state"] == "called" and current["counter"] == cid
                assert public["status"] == "open"
        # The queues hold exactly the model's waiting tickets: priority lane first, each by arrival.
        for code in SERVICES:
            expected = [t.id for p in (True, False) for t in model.waiting(code, p)]
            assert engine.waiting_ids(code) == expected
            assert engine.service_public(code, self.now)["waiting"] == len(expected)
        for tid, ticket in model.tickets.items():
            public = engine.tickets[tid].public()
            assert (public["state"], public["service"], public["number"]) == (ticket.state, ticket.service,
                                                                                ticket.number)
            assert public["agency"] == CONFIG.services[ticket.service].agency
        assert set(engine.tickets) == set(model.tickets)

    def replayed(self) -> Engine:
        fresh = Engine(CONFIG, ignore_hours=self.ignore_hours)
        fresh.restore(self.events, self.replies)
        return fresh


# A failing example takes minutes to shrink (Hypothesis stops shrinking after 5): allow it.
SHRINK_TIMEOUT_S = 900


@pytest.mark.timeout(SHRINK_TIMEOUT_S)
@settings(max_examples=examples(200), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs)
def test_random_traffic_keeps_every_invariant_and_replays_to_the_same_state(run_args):
    ignore_hours, offset, plan = run_args
    run = Run(ignore_hours, START + offset)
    for step, delay in plan:
        run.step(step, delay)
        # state after replay equals the live state, at every step
        assert public_state(run.replayed(), run.now) == public_state(run.engine, run.now)


@pytest.mark.timeout(SHRINK_TIMEOUT_S)
@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs, st.lists(st.integers(1, 6), min_size=1, max_size=30), st.sets(st.integers(0, 70), max_size=6))
def test_the_event_store_brings_back_the_same_state_after_a_restart(run_args, batch_sizes, restarts):
    """Outcomes appended in batches to the real SQLite store; at random points the store is
    reopened and the engine rebuilt from its snapshot, as `antrian serve` does after kill -9.
    The restarted engine must equal a live one that never stopped, and answer the rest alike."""
    ignore_hours, offset, plan = run_args
    live = Run(ignore_hours, START + offset)
    with tempfile.TemporaryDirectory() as data:
        store = EventStore(data, CONFIG.site.id, synchronous="OFF")
        durable = load_engine(CONFIG, store, live.now, ignore_hours)
        pending, sizes = [], iter(batch_sizes * 100)
        batch = next(sizes)
        try:
            for i, (step, delay) in enumerate(plan):
                live.step(step, delay)
                # the durable engine gets the very command the live one got, at the same time
                outcome = durable.handle(live.last_command, live.now)
                assert outcome.reply == live.outcomes[-1].reply
                assert outcome.events == live.outcomes[-1].events
                pending.append(outcome)
                if len(pending) >= batch:
                    store.append(pending)
                    pending, batch = [], next(sizes)
                if i in restarts:
                    store.append(pending)  # only acknowledged (stored) outcomes survive a restart
                    pending = []
                    store.close()
                    store = EventStore(data, CONFIG.site.id, synchronous="OFF")
                    durable = load_engine(CONFIG, store, live.now, ignore_hours)
                    assert public_state(durable, live.now) == public_state(live.engine, live.now)
            store.append(pending)
            store.close()
            store = EventStore(data, CONFIG.site.id)
            reopened = load_engine(CONFIG, store, live.now, ignore_hours)
            assert public_state(reopened, live.now) == public_state(live.engine, live.now)
            assert [e.seq for e in store.iter_events()] == list(range(1, live.engine.seq + 1))
            assert list(store.iter_events()) == live.events
        finally:
            store.close()

