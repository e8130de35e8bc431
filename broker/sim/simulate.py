"""The simulator: visitors and officers driving the real engine over a real MQTT broker.

Time is simulated. The simulator owns the engine's clock and moves it in steps
(`step_s` of the traffic model, a minute by default): every command that falls
into a step is published at once, the engine answers them in one batch, and only
then does the clock move on. So the engine, its SQLite log and the broker run
exactly as in production, only a working day passes in a second or two, and a
fixed seed gives the same year every time (the commands of a step go out in a
fixed order over one connection).

Nobody reacts within the same minute: officers and visitors answer what they saw
`REACTION_STEPS` steps later at the earliest. So while the engine works on one step
the next one is already on its way, which halves the time a year takes; request ids
carry their step, and the engine's batches never mix two steps.

Officers react to what the engine answers: a counter with nobody waiting idles
until a ticket for one of its services is issued; a called visitor is served for
a log-normal time, or does not come (recall, then no-show), or is sent on to
another service. Counters serve their queue within their hours and, after
closing, until it is empty.

Officers are the site config's: each counter gets one who may staff it. An officer
signs in a little after the counter opens (the engine's sign-in-challenge, then the
PIN's proof, as a counter panel does), opens the counter, may take a short break,
pauses over a break in the day's hours (the Friday prayer), and after the last visitor
closes the counter and signs out. The traffic model's [staffing] keeps some counters
empty: a day's absence where another counter covers the services, stretches of
vacancy, and counters known to stand empty, whose visitors are sent away. On a
holiday, cuti bersama or closure nobody comes and nobody signs in.
"""

from __future__ import annotations

import heapq
import itertools
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from broker.core.events import EventType
from broker.core.pin import derive_key, sign_in_proof
from broker.mqtt.client import EngineClient
from broker.protocol.codec import Topics
from broker.server.mosquitto import BrokerError, PrivateMosquitto, free_port
from broker.server.store import EventStore
from broker.sim.traffic import SKM_ELEMENTS, TrafficModel, survey_answers
from broker.site.config import SiteConfig

KIOSKS = ("1", "2", "3")
REACTION_STEPS = 3  # the least number of steps between a reply and what anyone does about it
SKIP_IDLE_S = 1800.0  # with --speed, gaps longer than this (nights, weekends) pass at once

# A survey sink receives (ticket as the engine returned it, nine answers 1-4, simulated time).
SurveySink = Callable[[dict[str, Any], list[int], float], None]


@dataclass
class Tally:
    """What the simulator put in, to compare with the engine's log and the reports."""

    days: int = 0
    arrivals: int = 0
    issued: Counter = field(default_factory=Counter)  # by service code at issue
    refused: Counter = field(default_factory=Counter)  # by refusal code
    served: Counter = field(default_factory=Counter)  # finished, by the service that finished them
    called: int = 0
    recalls: int = 0
    no_shows: int = 0
    transfers: int = 0
    expired: int = 0  # still waiting when the day ended
    turned_away: int = 0  # came for a service whose every counter stood empty: no ticket
    closed_days: int = 0  # days the whole site was closed (holidays, cuti bersama, closures)
    sign_ins: int = 0
    sign_outs: int = 0
    breaks: int = 0
    empty_counter_days: int = 0  # counters with opening hours and nobody to staff them, summed over days
    surveys: int = 0
    survey_sums: list[int] = field(default_factory=lambda: [0] * SKM_ELEMENTS)
    counter_errors: Counter = field(default_factory=Counter)
    survey_errors: Counter = field(default_factory=Counter)
    commands: int = 0
    steps: int = 0
    wall_s: float = 0.0

    def by_agency(self, config: SiteConfig) -> Counter:
        return _sum_by(self.issued, lambda c: config.services[c].agency)

    def by_kind(self, config: SiteConfig) -> Counter:
        return _sum_by(self.issued, lambda c: config.agencies[config.services[c].agency].kind)

    def ikm(self) -> float | None:
        """The satisfaction index of the simulated answers: mean score x 25 (PermenPANRB 14/2017)."""
        if not self.surveys:
            return None
        return round(sum(s / self.surveys for s in self.survey_sums) / SKM_ELEMENTS * 25, 2)

    def summary(self, config: SiteConfig) -> dict[str, Any]:
        issued = sum(self.issued.values())
        return {
            "days": self.days, "visitors": self.arrivals, "tickets_issued": issued,
            "refused": dict(self.refused), "served": sum(self.served.values()), "no_shows": self.no_shows,
            "transfers": self.transfers, "recalls": self.recalls, "expired": self.expired,
            "turned_away": self.turned_away, "closed_days": self.closed_days, "sign_ins": self.sign_ins,
            "sign_outs": self.sign_outs, "breaks": self.breaks, "empty_counter_days": self.empty_counter_days,
            "surveys": self.surveys, "ikm": self.ikm(),
            "by_kind": dict(self.by_kind(config).most_common()),
            "by_agency": dict(self.by_agency(config).most_common()),
            "by_service": dict(self.issued.most_common()),
            "counter_errors": dict(self.counter_errors), "survey_errors": dict(self.survey_errors),
            "commands": self.commands, "steps": self.steps, "wall_s": round(self.wall_s, 2),
            "commands_per_s": round(self.commands / self.wall_s, 1) if self.wall_s else None,
        }


def _sum_by(counts: Counter, key: Callable[[str], str]) -> Counter:
    out: Counter = Counter()
    for code, n in counts.items():
        out[key(code)] += n
    return out


@dataclass
class _Desk:
    """The simulator's view of one counter: who is there and what the officer does next."""

    id: str
    services: tuple[str, ...]
    current: dict[str, Any] | None = None
    busy: bool = False  # an action of this counter is scheduled
    closes_at: float = 0.0  # today's last closing time of its services (UNIX time)
    officer: str | None = None  # who staffs it (None: the config has nobody for it; it works unsigned)
    on_duty: bool = True  # someone works here today
    signed_in: bool = False
    status: str = "closed"  # open, break or closed, as the simulator last set it
    pauses: list[tuple[float, float]] = field(default_factory=list)  # (from, to) today: breaks, gaps in hours
    done_for_today: bool = False

    @property
    def staffed(self) -> bool:
        """Whether the officer is at the desk and may call (an officer-less desk works as before)."""
        return self.officer is None or self.signed_in


@dataclass(order=True)
class _Action:
    at: float
    seq: int
    kind: str = field(compare=False)
    desk: str = field(compare=False, default="")
    data: Any = field(compare=False, default=None)


class Simulation:
    """Feeds one engine with simulated days; `send` publishes a step's commands and returns the replies."""

    def __init__(self, model: TrafficModel, send: Callable[[float, list[tuple[str, str, dict]]], Any], *,
                 seed: int = 1, survey_sink: SurveySink | None = None, send_surveys: bool = True):
        """`send(step_ts, commands)` publishes a step and returns something whose `wait()` gives the replies."""
        self.model, self.config, self.send = model, model.config, send
        self.reaction_s = REACTION_STEPS * model.step_s
        self.send_surveys = send_surveys
        self.topics = Topics(self.config.site.id)
        self.zone = _zone(self.config)
        self.arrival_rng = random.Random(f"{seed}-arrivals")
        self.rng = random.Random(f"{seed}-behaviour")
        self.staff_rng = random.Random(f"{seed}-staffing")
        self.survey_sink = survey_sink
        self.tally = Tally()
        self.desks = {cid: _Desk(cid, c.services) for cid, c in self.config.counters.items()}
        for desk, officer in assign_officers(self.config).items():
            self.desks[desk].officer = officer
        self._keys: dict[tuple[str, str, int], bytes] = {}  # the PIN's key per officer: derived once
        self._vacant_until: dict[str, date] = {}  # random empty stretches drawn so far
        self.waiting: Counter = Counter()  # the simulator's count of waiting tickets per service
        self._heap: list[_Action] = []
        self._seq = itertools.count()
        self._in_flight: deque[tuple[float, list[_Action], Any]] = deque()

    # ------------------------------------------------------------------ running

    def run(self, start: date, days: int, *, speed: float | None = None,
            on_day: Callable[[date, Tally], None] | None = None) -> Tally:
        began = time.perf_counter()
        pace = _Pace(speed)
        counts = self.model.day_counts(start, days, self.arrival_rng)  # the [year] exactly, or None
        for offset in range(days):
            day = start + timedelta(days=offset)
            self._start_day(day, counts[day] if counts is not None else None)
            while self._heap or self._in_flight:
                self._step(pace)
            self.tally.expired += sum(self.waiting.values())
            self.tally.days += 1
            if on_day:
                on_day(day, self.tally)
        self.tally.wall_s = time.perf_counter() - began
        return self.tally

    def _start_day(self, day: date, count: int | None = None) -> None:
        self.waiting.clear()
        closed = self.model.closed_services(day)
        if closed and len(closed) == len(self.config.services):
            self.tally.closed_days += 1
        on_duty = self._plan_staff(day, closed)
        unserved = {code for code in self.config.services
                    if not any(on_duty[c.id] for c in self.config.counters_serving(code))}
        visitor = 0
        for at, code, priority in self.model.day_arrivals(day, self.arrival_rng, self.zone, count):
            if code in unserved:  # the desk is dark: the information desk sends them home
                self.tally.turned_away += 1
                continue
            at = at // self.model.step_s * self.model.step_s  # into its own step: still within opening hours
            self._push(at, "arrive", data=(KIOSKS[visitor % len(KIOSKS)], code, priority))
            visitor += 1
        midnight = datetime(day.year, day.month, day.day, tzinfo=self.zone).timestamp()
        for desk in self.desks.values():
            desk.current, desk.busy, desk.signed_in, desk.status = None, False, False, "closed"
            desk.pauses, desk.done_for_today, desk.on_duty = [], False, on_duty[desk.id]
            hours = sorted(_merge([r for code in desk.services if code not in closed
                                   for r in self.config.services[code].schedule.hours_on(day.weekday())]))
            desk.closes_at = midnight + 60 * max((end for _, end in hours), default=0)
            if not hours or not desk.on_duty:
                desk.done_for_today = True
                continue
            for (_, end), (begin, _) in itertools.pairwise(hours):  # a gap in the hours: the Friday prayer
                desk.pauses.append((midnight + 60 * end, midnight + 60 * begin))
            self._plan_break(desk, midnight, hours)
            for begin, _ in hours:  # an officer arriving looks whether tickets wait already
                self._push(midnight + 60 * begin, "wake", desk.id)
            # closing time: close once the queue is served, and every ticket issued before it is answered
            self._push(desk.closes_at + self.reaction_s, "wake", desk.id)
            if desk.officer is not None:
                late = self.staff_rng.uniform(0, self.model.staffing.late_minutes * 60)
                self._push(midnight + 60 * hours[0][0] + late, "sign_in", desk.id)

    def _plan_staff(self, day: date, closed: frozenset[str]) -> dict[str, bool]:
        """Who works today: empty counters (known, or a random stretch or absence) where others cover."""
        staffing, rng = self.model.staffing, self.staff_rng
        duty = {cid: not staffing.vacant(cid, day) for cid in self.desks}
        for cid, desk in self.desks.items():
            if not duty[cid] or all(code in closed for code in desk.services):
                continue
            covered = all(any(other.id != cid and duty[other.id] for other in self.config.counters_serving(code))
                          for code in desk.services)
            until = self._vacant_until.get(cid)
            if until is not None and day <= until and not covered:
                del self._vacant_until[cid]  # nobody else is left for its services: the stretch ends
            elif until is not None and day <= until:
                duty[cid] = False
            elif covered and staffing.vacancy_chance and rng.random() < staffing.vacancy_chance:
                low, high = staffing.vacancy_days
                self._vacant_until[cid] = day + timedelta(days=rng.randint(low, high) - 1)
                duty[cid] = False
            elif covered and rng.random() < staffing.absence:
                duty[cid] = False
        weekday = day.weekday()
        self.tally.empty_counter_days += sum(
            1 for cid, desk in self.desks.items() if not duty[cid]
            and any(code not in closed and self.config.services[code].schedule.hours_on(weekday)
                    for code in desk.services))
        return duty

    def _plan_break(self, desk: _Desk, midnight: float, hours: list[tuple[int, int]]) -> None:
        staffing = self.model.staffing
        if staffing.break_minutes <= 0 or self.staff_rng.random() >= staffing.break_chance:
            return
        begin, end = hours[0]
        if end - begin < 3 * staffing.break_minutes:
            return
        start = midnight + 60 * self.staff_rng.uniform(begin + 90, max(begin + 90, end - 2 * staffing.break_minutes))
        desk.pauses.append((start, start + 60 * staffing.break_minutes))
        self._push(start, "wake", desk.id)
        self._push(start + 60 * staffing.break_minutes, "wake", desk.id)

    def _push(self, at: float, kind: str, desk: str = "", data: Any = None) -> None:
        heapq.heappush(self._heap, _Action(at, next(self._seq), kind, desk, data))

    def _step(self, pace: _Pace) -> None:
        """Publish the next step, after answering the steps in flight whose replies could still change it."""
        step = self.model.step_s
        while True:
            if not self._heap:
                self._answer_oldest()
                return
            now = -(-self._heap[0].at // step) * step  # the step that holds the earliest action
            if self._in_flight and self._in_flight[0][0] <= now - self.reaction_s:
                self._answer_oldest()  # its replies may schedule something at or before `now`
                continue
            break
        actions = []
        while self._heap and self._heap[0].at <= now:
            actions.append(heapq.heappop(self._heap))
        sent = [(action, command) for action in actions if (command := self._command(action, now)) is not None]
        if sent:
            pace.wait_for(now)
            self._in_flight.append((now, [a for a, _ in sent], self.send(now, [c for _, c in sent])))
            self.tally.commands += len(sent)
            self.tally.steps += 1
        self._wake_idle(now)

    def _answer_oldest(self) -> None:
        now, actions, pending = self._in_flight.popleft()
        for action, reply in zip(actions, pending.wait()):
            self._answered(action, reply, now)
        self._wake_idle(now)

    # ------------------------------------------------------------------ commands

    def _counter(self, desk: str, action: str, **extra: Any) -> tuple[str, str, dict]:
        return (self.topics.counter_command(desk), self.topics.counter_reply(desk), {"action": action} | extra)

    def _command(self, action: _Action, now: float) -> tuple[str, str, dict] | None:
        desk = self.desks.get(action.desk)
        if action.kind == "arrive":
            kiosk, code, priority = action.data
            self.tally.arrivals += 1
            return (self.topics.kiosk_request(kiosk), self.topics.kiosk_reply(kiosk),
                    {"service": code, "priority": priority})
        if action.kind == "wake":
            return None
        if action.kind == "sign_in":  # the panel asks for a challenge first
            return self._counter(action.desk, "sign-in-challenge", officer=self.desks[action.desk].officer)
        if action.kind == "proof":
            return self._counter(action.desk, "sign-in", **action.data)
        if action.kind in ("open", "break", "close"):
            return self._counter(action.desk, action.kind)
        if action.kind == "sign_out":
            return self._counter(action.desk, "sign-out")
        if desk is None:
            raise ValueError(f"simulator action {action.kind} names no desk")
        if action.kind == "call":
            if desk.officer is not None and self._paused(desk, now):  # decided just before the break began
                desk.busy = False
                return None
            return self._counter(desk.id, "next")
        if action.kind == "done":  # served: "next" finishes this visitor and calls one if anybody waits
            pausing = desk.officer is not None and self._paused(desk, now)
            return self._counter(desk.id, "finish" if pausing else "next")  # before a break: finish only
        if action.kind == "survey":  # on the tablet at the counter, right after the service
            ticket, answers = action.data
            return (self.topics.survey_request(desk.id), self.topics.survey_reply(desk.id),
                    {"ticket": ticket, "answers": answers})
        if action.kind == "recall":
            return self._counter(desk.id, "recall")
        if action.kind == "no_show":
            return self._counter(desk.id, "no-show")
        if action.kind == "transfer":
            return self._counter(desk.id, "transfer", to=action.data)
        raise ValueError(f"unknown simulator action {action.kind}")

    def _answered(self, action: _Action, reply: dict, now: float) -> None:
        if action.kind == "arrive":
            code = action.data[1]
            if reply.get("ok"):
                self.tally.issued[code] += 1
                self.waiting[code] += 1
            else:
                self.tally.refused[reply["error"]["code"]] += 1
            return
        if action.kind == "survey":
            if reply.get("ok"):
                self._count_survey(action.data[1])
            else:
                self.tally.survey_errors[reply["error"]["code"]] += 1
            return
        desk = self.desks[action.desk]
        desk.busy = False
        if not reply.get("ok"):
            self.tally.counter_errors[reply["error"]["code"]] += 1
            if action.kind in ("sign_in", "proof"):
                desk.done_for_today = True  # a refused sign-in: this officer goes home
            elif action.kind not in ("open", "break", "close", "sign_out"):
                desk.current = None
            return
        if action.kind in ("sign_in", "proof", "open", "break", "close", "sign_out"):
            self._officer_answered(desk, action, reply, now)
            return
        if action.kind in ("call", "done"):
            if desk.current is not None:  # "next" and "finish" both finish the visitor at the desk
                self._served(desk.current, now)
                desk.current = None
            ticket = reply.get("ticket")
            if ticket is not None and ticket.get("state") == "called":
                self._called(desk, ticket, now)
        elif action.kind == "recall":
            self.tally.recalls += 1
            desk.busy = True
            current = desk.current
            if current is None:  # nobody at the desk any more: nothing to recall
                desk.busy = False
                return
            recalls = max(1, self.config.rules.min_recalls_before_no_show)
            kind = "recall" if current.setdefault("_recalls", 0) + 1 < recalls else "no_show"
            current["_recalls"] += 1
            self._push(now + self.reaction_s, kind, desk.id)
        elif action.kind == "no_show":
            self.tally.no_shows += 1
            desk.current = None
        elif action.kind == "transfer":
            self.tally.transfers += 1
            self.waiting[action.data] += 1
            desk.current = None

    def _called(self, desk: _Desk, ticket: dict[str, Any], now: float) -> None:
        self.tally.called += 1
        self.waiting[ticket["service"]] -= 1
        desk.current, desk.busy = dict(ticket), True
        behaviour, rng = self.model.behaviour, self.rng
        roll = rng.random()
        if roll < behaviour.no_show:
            self._push(now + self.reaction_s, "recall", desk.id)
            return
        service_s = max(self.reaction_s, self.model.service_time_s(ticket["service"], rng))
        target = self.model.transfer_target(ticket["service"])
        if roll < behaviour.no_show + behaviour.transfer and target is not None:
            self._push(now + max(self.reaction_s, service_s / 2), "transfer", desk.id, target)
            return
        self._push(now + service_s, "done", desk.id)

    def _served(self, ticket: dict[str, Any], now: float) -> None:
        self.tally.served[ticket["service"]] += 1
        if self.rng.random() >= self.model.behaviour.survey:
            return
        answers = survey_answers(self.rng)
        if self.survey_sink:
            self.survey_sink(ticket, answers, now)
        if self.send_surveys:  # the tablet at the counter sends them to the engine (`survey_answered`)
            self._push(now + self.reaction_s, "survey", ticket["counter"], (ticket["id"], answers))
        else:
            self._count_survey(answers)

    def _count_survey(self, answers: list[int]) -> None:
        self.tally.surveys += 1
        self.tally.survey_sums = [s + a for s, a in zip(self.tally.survey_sums, answers)]

    def _officer_answered(self, desk: _Desk, action: _Action, reply: dict, now: float) -> None:
        later = now + self.reaction_s
        if action.kind == "sign_in":
            challenge = reply.get("challenge") or {}
            officer = str(challenge.get("officer") or desk.officer)
            salt, iterations, nonce = str(challenge.get("salt")), int(challenge.get("iterations") or 1), challenge.get("nonce")
            key = self._keys.get((officer, salt, iterations))
            if key is None:
                key = self._keys[(officer, salt, iterations)] = derive_key(self.model.staffing.pin, salt, iterations)
            proof = sign_in_proof(key, self.config.site.id, desk.id, officer, str(nonce))
            desk.busy = True
            self._push(later, "proof", desk.id, {"officer": officer, "nonce": nonce, "proof": proof})
        elif action.kind == "proof":
            desk.signed_in = True
            self.tally.sign_ins += 1
            desk.busy = True
            self._push(later, "open", desk.id)
        elif action.kind == "open":
            desk.status = "open"
        elif action.kind == "break":
            desk.status = "break"
            self.tally.breaks += 1
        elif action.kind == "close":
            desk.status = "closed"
            desk.busy = True
            self._push(later, "sign_out", desk.id)
        elif action.kind == "sign_out":
            desk.signed_in, desk.done_for_today = False, True
            self.tally.sign_outs += 1

    def _waiting_for(self, desk: _Desk) -> bool:
        return any(self.waiting[code] > 0 for code in desk.services)

    def _paused(self, desk: _Desk, now: float) -> bool:
        return any(start <= now < end for start, end in desk.pauses)

    def _wake_idle(self, now: float) -> None:
        """Free officers with visitors waiting call the next one a step later (in their hours); idle ones
        pause for a break or a gap in the hours, open again after it, and close when the day is done."""
        local = None
        for desk in self.desks.values():
            if desk.busy or desk.current is not None or not desk.on_duty or not desk.staffed:
                continue
            if desk.officer is not None and now < desk.closes_at and desk.status != "closed":
                paused = self._paused(desk, now)
                if paused != (desk.status == "break"):
                    desk.busy = True
                    self._push(now + self.reaction_s, "break" if paused else "open", desk.id)
                    continue
                if paused:
                    continue
            if self._waiting_for(desk):
                local = local or datetime.fromtimestamp(now, self.zone).replace(tzinfo=None)
                if now >= desk.closes_at or self.model.serving_now(desk.services, local):
                    desk.busy = True
                    self._push(now + self.reaction_s, "call", desk.id)
            elif desk.officer is not None and now >= desk.closes_at + self.reaction_s and not desk.done_for_today:
                desk.busy = True  # the queue is served: close the counter, then sign out
                self._push(now + self.reaction_s, "close", desk.id)


class _Pace:
    """Holds the simulation to `speed` simulated seconds per real second (None: as fast as possible)."""

    def __init__(self, speed: float | None):
        self.speed = speed if speed and speed > 0 else None
        self.sim_origin: float | None = None
        self.real_origin = 0.0
        self.last = 0.0

    def wait_for(self, sim_ts: float) -> None:
        if self.speed is None:
            return
        if self.sim_origin is None or sim_ts - self.last > SKIP_IDLE_S:
            self.sim_origin, self.real_origin = sim_ts, time.monotonic()
        self.last = sim_ts
        delay = self.real_origin + (sim_ts - self.sim_origin) / self.speed - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Minute ranges of several services joined where they overlap or touch."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def assign_officers(config: SiteConfig) -> dict[str, str]:
    """One officer of the config per counter, who may staff it: officers named for counters first, then
    those of the counter's agency, then anyone; each officer at one counter. Counters left over work
    without sign-in (possible only where the site does not require it)."""
    free = sorted(config.officers.values(), key=lambda o: (not o.counters, not o.agency, o.id))
    taken: dict[str, str] = {}
    for counter in config.counters.values():
        officer = next((o for o in free if o.may_staff(counter)), None)
        if officer is not None:
            taken[counter.id] = officer.id
            free.remove(officer)
    return taken


def _zone(config: SiteConfig):
    from zoneinfo import ZoneInfo

    return ZoneInfo(config.site.timezone)


# ---------------------------------------------------------------------- the engine it drives


class SimulatedSite:
    """The engine on a simulated clock in a process of its own, a broker, and the simulator's client.

    Separate processes, not threads: in one process the engine and the simulator would queue for
    one interpreter lock and each round trip would wait its turn. The broker is a private Mosquitto
    (broker/server/mosquitto.py) unless `mqtt_url` names a running one.
    """

    def __init__(self, config: SiteConfig, data_dir: str | Path, start_ts: float, *, mqtt_url: str | None = None,
                 synchronous: str = "FULL"):
        self.config, self.data_dir = config, Path(data_dir)
        if (self.data_dir / "antrian.sqlite3").exists():
            raise FileExistsError(f"{self.data_dir} already holds a log; the simulator writes a fresh one: "
                                  "give a new or empty --data folder")
        self.start_ts, self.mqtt_url, self.synchronous = start_ts, mqtt_url, synchronous
        self.broker: PrivateMosquitto | None = None
        self._broker_dir: tempfile.TemporaryDirectory[str] | None = None
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.broker_used = f"external: {mqtt_url.split('@')[-1]}" if mqtt_url else ""
        self.processes: list[subprocess.Popen] = []
        self.client: EngineClient | None = None
        self._ids = itertools.count()

    def __enter__(self) -> SimulatedSite:
        try:
            url = self.mqtt_url or self._start_broker()
            if self.mqtt_url and _engine_online(url, self.config.site.id):
                raise ConnectionError(f"an engine for site '{self.config.site.id}' is already online on {url}: "
                                      "both would answer the simulated commands. Run `antrian broker` for the "
                                      "screens instead of `antrian serve`, or use another broker")
            engine = self._spawn("broker.sim.engine_process", "--config", self.config.source or "", "--data",
                                 str(self.data_dir), "--mqtt", url, "--start", repr(self.start_ts),
                                 "--synchronous", self.synchronous, stdout=subprocess.PIPE)
            if engine.stdout is None or not any(line.strip() == b"ready" for line in engine.stdout):
                raise ConnectionError(f"the simulated engine could not start or reach the broker at {url}")
            self.client = EngineClient(url, self.config.site.id, name="antrian-simulate").start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _spawn(self, module: str, *args: str, stdout=subprocess.DEVNULL, stderr=None) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "-m", module, *args], stdout=stdout, stderr=stderr)
        self.processes.append(process)
        return process

    def _start_broker(self) -> str:
        """The site's own Mosquitto, open to the simulator's anonymous clients (only on 127.0.0.1)."""
        open_site = replace(self.config, access=replace(self.config.access, allow_anonymous=True))
        self._broker_dir = tempfile.TemporaryDirectory(prefix="antrian-simulate-broker-")
        try:
            self.broker = PrivateMosquitto(open_site, self._broker_dir.name, ("127.0.0.1", free_port())).start()
        except BrokerError as exc:
            raise ConnectionError(str(exc)) from None
        self.broker_used = "mosquitto"
        return self.broker.url

    def send(self, step_ts: float, commands: list[tuple[str, str, dict]]):
        """Publish one step's commands, each request id tagged with the step; `.wait()` gives the replies."""
        tagged = [(topic, reply, {"request_id": f"s{int(step_ts)}-{next(self._ids)}"} | body)
                  for topic, reply, body in commands]
        if self.client is None:
            raise ConnectionError("the simulator is not connected: use it as a context manager")
        return _Waiting(self.client.send_many(tagged))

    def __exit__(self, *exc: Any) -> None:
        if self.client:
            self.client.stop()
        for process in reversed(self.processes):  # the engine first: it says goodbye through the broker
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
        if self.broker:
            self.broker.stop()
        if self._broker_dir:
            self._broker_dir.cleanup()


def _engine_online(url: str, site: str, wait_s: float = 0.5) -> bool:
    """Whether the broker holds an "online" engine status for this site (retained, so it comes at once)."""
    import json

    from broker.mqtt.connection import Connection
    from broker.protocol.codec import Topics

    status: dict[str, Any] = {}
    conn = Connection(url, "antrian-simulate-check", subscriptions=[Topics(site).engine],
                      on_message=lambda topic, payload, retained: status.update(json.loads(payload or b"{}")))
    conn.start(wait=5.0)
    try:
        time.sleep(wait_s)
    finally:
        conn.stop()
    return status.get("status") == "online"


class _Waiting:
    def __init__(self, pending):
        self.pending = pending

    def wait(self) -> list[dict]:
        return self.pending.wait(timeout=60.0)


# ---------------------------------------------------------------------- checking the log


def tally_log(events: Iterable) -> dict[str, Any]:
    """Count what the engine's log holds, in the terms of `Tally.summary`."""
    issued: Counter = Counter()
    counts: Counter = Counter()
    expired = 0
    for event in events:
        if event.type == EventType.TICKET_ISSUED:
            issued[event.data["service"]] += 1
        elif event.type == EventType.DAY_STARTED:
            expired += len(event.data.get("expired", []))
        else:
            counts[event.type] += 1
    return {"tickets_issued": sum(issued.values()), "by_service": dict(issued.most_common()),
            "sign_ins": counts[EventType.OFFICER_SIGNED_IN], "sign_outs": counts[EventType.OFFICER_SIGNED_OUT],
            "served": counts[EventType.TICKET_FINISHED], "no_shows": counts[EventType.TICKET_NO_SHOW],
            "transfers": counts[EventType.TICKET_TRANSFERRED], "recalls": counts[EventType.TICKET_RECALLED],
            "expired_at_day_start": expired}


def compare_with_log(summary: dict[str, Any], data_dir: str | Path, site_id: str) -> list[str]:
    """Differences between what the simulator put in and what the engine stored (empty: they agree)."""
    store = EventStore(data_dir, site_id)
    try:
        logged = tally_log(store.iter_events())
    finally:
        store.close()
    keys = ("tickets_issued", "by_service", "served", "no_shows", "transfers", "recalls", "sign_ins", "sign_outs")
    return [f"{key}: simulated {summary[key]}, logged {logged[key]}" for key in keys if summary[key] != logged[key]]


def compare_with_reports(summary: dict[str, Any], config: SiteConfig, data_dir: str | Path, first: date,
                         last: date) -> list[str]:
    """Differences between the simulated input and what `antrian report visitors` and `report ikm` say."""
    from broker.reports.build import EventLog, Period, ikm, visitors

    log = EventLog(data_dir, config)
    try:
        period = Period(first, last)
        by_kind = visitors([log], period, by="kind")
        by_agency = visitors([log], period, by="agency")
        index = ikm([log], period, by="site").summary
    finally:
        log.close()
    found = {"tickets_issued": by_kind.summary["total"],
             "by_kind": {row[0]: row[-1] for row in by_kind.rows[:-1]},
             "by_agency": {row[0]: row[-1] for row in by_agency.rows[:-1]},
             "surveys": index["respondents"], "ikm": index["ikm"]}
    expected = dict(summary) | {"by_agency": {config.agencies[a].short or config.agencies[a].name: n
                                              for a, n in summary["by_agency"].items()}}
    problems = [f"{key}: simulated {expected[key]}, report {found[key]}" for key in found
                if key != "ikm" and expected[key] != found[key]]
    if (found["ikm"] is None) != (summary["ikm"] is None) or (
            found["ikm"] is not None and abs(found["ikm"] - summary["ikm"]) > 0.01):
        problems.append(f"ikm: simulated {summary['ikm']}, report {found['ikm']}")
    return problems


def simulate(config: SiteConfig, model: TrafficModel, data_dir: str | Path, *, start: date, days: int,
             seed: int = 1, speed: float | None = None, mqtt_url: str | None = None, synchronous: str = "FULL",
             survey_sink: SurveySink | None = None,
             on_day: Callable[[date, Tally], None] | None = None) -> dict[str, Any]:
    """Run a simulation against a fresh engine and return its summary, checked against the log."""
    zone = _zone(config)
    start_ts = datetime(start.year, start.month, start.day, tzinfo=zone).timestamp()
    with SimulatedSite(config, data_dir, start_ts, mqtt_url=mqtt_url, synchronous=synchronous) as site:
        sim = Simulation(model, site.send, seed=seed, survey_sink=survey_sink)
        tally = sim.run(start, days, speed=speed, on_day=on_day)
    summary = tally.summary(config) | {"broker": site.broker_used}
    last = start + timedelta(days=days - 1)
    summary["log_mismatches"] = compare_with_log(summary, data_dir, config.site.id)
    summary["report_mismatches"] = compare_with_reports(summary, config, data_dir, start, last)
    summary["check_with"] = (f"antrian report visitors --by kind --data {data_dir} --from {start} --to {last}"
                             + (f" --config {config.source}" if config.source else ""))
    return summary
