"""The traffic model of the simulator: who comes when, for what, and how long they take.

Pure functions of a site config, a traffic file (assets/sample-traffic.toml) and a
seeded random generator, so a simulated year is the same year every time. Agency
shares in the file are shares of the *year*: an agency open two days a week gets
more of the visitors on those days, which `TrafficModel.calibrate` works out.
"""

from __future__ import annotations

import math
import random
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from antrian_assets import ROOT as ASSETS
from broker.core.schedule import parse_day
from broker.site.config import SiteConfig

SAMPLE_TRAFFIC = ASSETS / "sample-traffic.toml"
SLOT_MIN = 30  # arrival curve resolution, minutes
DEFAULT_MINUTES = 6.0
SERVICE_TIME_SIGMA = 0.5  # log-normal spread of service times
SKM_ELEMENTS = 9  # survey elements (unsur) of PermenPANRB 14/2017
SKM_SCORE_WEIGHTS = (1, 3, 33, 63)  # how often visitors answer 1, 2, 3, 4: IKM about 89.5 (A)


class TrafficError(ValueError):
    """The traffic file does not fit the site config."""


@dataclass(frozen=True)
class Behaviour:
    priority: float = 0.08
    no_show: float = 0.03
    transfer: float = 0.02
    survey: float = 0.6


@dataclass(frozen=True)
class Vacancy:
    """A counter nobody staffs from `first` to `last` (both included): "gerai kosong"."""

    counter: str
    first: date
    last: date

    def covers(self, counter: str, day: date) -> bool:
        return counter == self.counter and self.first <= day <= self.last


@dataclass(frozen=True)
class Staffing:
    """How the simulated officers work: sign in with the site's PIN, breaks, closing, empty counters."""

    pin: str = "1234"  # the PIN of the config's officers (the sample's demo PIN)
    late_minutes: float = 15.0  # officers sign in up to this long after their counter opens
    break_chance: float = 0.5  # of an officer taking one short break in a day
    break_minutes: float = 15.0
    absence: float = 0.02  # chance an officer is away for a day where another counter covers the services
    vacancy_chance: float = 0.0  # per counter and opening day: an empty stretch begins (counters with cover)
    vacancy_days: tuple[int, int] = (5, 20)  # its length in calendar days, drawn evenly
    vacancies: tuple[Vacancy, ...] = ()  # counters known to stand empty: their services' visitors are sent away

    def vacant(self, counter: str, day: date) -> bool:
        return any(v.covers(counter, day) for v in self.vacancies)


@dataclass
class TrafficModel:
    config: SiteConfig
    visitors_per_day: float = 200.0
    step_s: int = 60
    weekday_factor: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0)
    arrivals: dict[int, float] = field(default_factory=dict)  # slot start minute -> weight
    agency_share: dict[str, float] = field(default_factory=dict)
    service_weight: dict[str, float] = field(default_factory=dict)
    service_minutes: dict[str, float] = field(default_factory=dict)
    behaviour: Behaviour = field(default_factory=Behaviour)
    staffing: Staffing = field(default_factory=Staffing)
    year_start: date | None = None  # [year]: the period whose figures the model reproduces ...
    year_days: int = 364
    year_visitors: float = 0.0  # ... and its visitors (tickets): visitors_per_day is set to give them
    year_exact: bool = False  # the simulated [year] hands out exactly year_visitors tickets (day_counts)
    choice_weight: dict[str, float] = field(default_factory=dict)  # per arrival, after calibration

    # ------------------------------------------------------------------ shares

    def target_share(self) -> dict[str, float]:
        """Each service's intended share of the year's visitors (sums to 1)."""
        shares: dict[str, float] = {}
        for code, service in self.config.services.items():
            siblings = [c for c, s in self.config.services.items() if s.agency == service.agency]
            inside = self.service_weight.get(code, 1.0) / sum(self.service_weight.get(c, 1.0) for c in siblings)
            shares[code] = self.agency_share.get(service.agency, 0.0) * inside
        total = sum(shares.values())
        if total <= 0:
            raise TrafficError("no agency of the config has a share of visitors in the traffic file")
        return {code: share / total for code, share in shares.items()}

    def _week(self) -> list[tuple[float, list[str]]]:
        """(arrival weight, services taking tickets) for every half hour of a typical week."""
        slots = []
        monday = date(2024, 1, 1)
        for weekday in range(7):
            day = monday + timedelta(days=weekday)
            for start, weight in self.arrivals.items():
                open_now = self.open_services(datetime(day.year, day.month, day.day, start // 60, start % 60),
                                              frozenset())  # a typical week: no holidays
                if open_now and weight > 0 and self.weekday_factor[weekday] > 0:
                    slots.append((weight * self.weekday_factor[weekday] / self._day_weight(day), open_now))
        return slots

    def _day_slots(self, day: date, closed: frozenset[str]) -> list[tuple[float, list[str]]]:
        """(share of the day's visitors, services taking tickets) for each half hour of this day."""
        slots = []
        for start, weight in sorted(self.arrivals.items()):
            open_now = self.open_services(datetime(day.year, day.month, day.day, start // 60, start % 60), closed)
            if weight > 0 and open_now:
                slots.append((weight, open_now))
        total = sum(w for w, _ in slots)
        return [(w / total, open_now) for w, open_now in slots]

    def _period(self, start: date, days: int) -> list[tuple[float, list[str], frozenset[str]]]:
        """(expected visitors at visitors_per_day 1, services taking tickets, services sent away) for every
        half hour of these days: days alike (weekday, closures, empty counters) are counted together."""
        kinds: dict[tuple[int, frozenset[str], frozenset[str]], list] = {}
        for offset in range(days):
            day = start + timedelta(days=offset)
            key = (day.weekday(), self.closed_services(day), self.unserved_services(day))
            kinds.setdefault(key, [day, 0])[1] += 1
        slots = []
        for (weekday, closed, unserved), (day, count) in kinds.items():
            mean = count * self.weekday_factor[weekday]
            if mean > 0:
                slots += [(mean * share, open_now, unserved) for share, open_now in self._day_slots(day, closed)]
        return slots

    def unserved_services(self, day: date) -> frozenset[str]:
        """Services whose every counter is known to stand empty on this day (their visitors are sent away)."""
        staffing = self.staffing
        if not staffing.vacancies:
            return frozenset()
        return frozenset(code for code in self.config.services
                         if all(staffing.vacant(c.id, day) for c in self.config.counters_serving(code)))

    def calibrate(self, rounds: int = 30) -> None:
        """Per-arrival service weights whose result matches the agency shares: over the [year] of the traffic
        file when it has one (its holidays, closures and empty counters counted; then the mean day is set so
        that the year's visitors are its `visitors`), else over a typical week."""
        target = self.target_share()
        weights = {code: share for code, share in target.items() if share > 0}
        slots = (self._period(self.year_start, self.year_days) if self.year_start is not None
                 else [(w, open_now, frozenset()) for w, open_now in self._week()])
        for _ in range(rounds):
            got = self._expected(slots, weights)
            total_got = sum(got.values()) or 1.0
            for code in weights:
                achieved = got[code] / total_got
                if achieved > 0:
                    weights[code] *= target[code] / achieved
        self.choice_weight = weights
        if self.year_start is not None and self.year_visitors:
            self.visitors_per_day = self.year_visitors / (sum(self._expected(slots, weights).values()) or 1.0)

    @staticmethod
    def _expected(slots: list[tuple[float, list[str], frozenset[str]]], weights: dict[str, float]) -> dict[str, float]:
        got = dict.fromkeys(weights, 0.0)
        for slot_weight, open_now, unserved in slots:
            choices = [c for c in open_now if c in weights]
            total = sum(weights[c] for c in choices)
            for c in choices:
                if c not in unserved:
                    got[c] += slot_weight * weights[c] / total
        return got

    def expected(self, start: date, days: int) -> dict[str, float]:
        """The expected tickets per service over these days (visitors sent away from empty desks left out)."""
        got = self._expected(self._period(start, days), self.choice_weight)
        return {code: n * self.visitors_per_day for code, n in got.items()}

    # ------------------------------------------------------------------ one day

    def closed_services(self, day: date) -> frozenset[str]:
        """Services shut all day by a holiday, cuti bersama or a closure of the config."""
        config = self.config
        return frozenset(code for code, s in config.services.items() if config.closure_on(day, s.agency) is not None)

    def open_services(self, local: datetime, closed: frozenset[str] | None = None) -> list[str]:
        """Services whose kiosks take tickets at this local time (opening hours and lead, closed days)."""
        lead = self.config.rules.issue_lead_minutes
        shut = self.closed_services(local.date()) if closed is None else closed
        return [code for code, s in self.config.services.items()
                if code not in shut and s.schedule.is_open(local, lead)]

    def serving_now(self, services: tuple[str, ...], local: datetime) -> bool:
        """Whether any of these services is within its counter hours (officers are at their desks)."""
        return any(self.config.services[c].schedule.is_open(local, 0) for c in services)

    def _day_weight(self, day: date) -> float:
        """Sum of the arrival weights of the half hours in which something takes tickets."""
        return sum(w for start, w in self.arrivals.items()
                   if self.open_services(datetime(day.year, day.month, day.day, start // 60, start % 60),
                                         frozenset())) or 1.0

    def day_counts(self, start: date, days: int, rng: random.Random) -> dict[date, int] | None:
        """With `exact = true` in [year] and exactly its days simulated: how many tickets each day hands out,
        the year's `visitors` spread over the days by their expected tickets (a multinomial draw), so the
        seeded year has the very figure of the report. None otherwise: each day draws its own count."""
        if not (self.year_exact and self.year_visitors and self.year_start == start and self.year_days == days):
            return None
        period = [start + timedelta(days=n) for n in range(days)]
        weights = [self._expected_tickets(day) for day in period]
        if not any(weights):
            return None
        picks = Counter(rng.choices(range(days), weights=weights, k=round(self.year_visitors)))
        return {day: picks[n] for n, day in enumerate(period)}

    def _expected_tickets(self, day: date) -> float:
        """Expected tickets of one day (visitors sent away from empty counters left out)."""
        mean = self.visitors_per_day * self.weekday_factor[day.weekday()]
        if mean <= 0:
            return 0.0
        got = self._expected([(mean * share, open_now, self.unserved_services(day))
                              for share, open_now in self._day_slots(day, self.closed_services(day))],
                             self.choice_weight)
        return sum(got.values())

    def day_arrivals(self, day: date, rng: random.Random, zone: ZoneInfo,
                     count: int | None = None) -> list[tuple[float, str, str | None]]:
        """The day's visitors as (UNIX time, service code, priority group or None), in time order: a Poisson
        number of them, or `count` (from `day_counts`; then nobody picks a service whose counters all
        stand empty, since the count is of tickets)."""
        mean = self.visitors_per_day * self.weekday_factor[day.weekday()]
        unserved = self.unserved_services(day) if count is not None else frozenset()
        closed = self.closed_services(day)
        slots = []
        for start, weight in sorted(self.arrivals.items()):
            local = datetime(day.year, day.month, day.day, start // 60, start % 60, tzinfo=zone)
            if weight > 0 and self.open_services(local, closed):
                slots.append((local, weight))
        if mean <= 0 or not slots:
            return []
        count = poisson(rng, mean) if count is None else count
        starts, weights = zip(*slots)
        visitors = []
        for local in rng.choices(starts, weights=weights, k=count):
            at = local + timedelta(seconds=rng.uniform(0, SLOT_MIN * 60))
            choices = [c for c in self.open_services(at, closed) if c in self.choice_weight and c not in unserved]
            if not choices:  # the slot closes within itself (a service closing at :15)
                continue
            code = rng.choices(choices, weights=[self.choice_weight[c] for c in choices])[0]
            priority = None
            if self.config.services[code].priority and rng.random() < self.behaviour.priority:
                priority = rng.choice(("lansia", "lansia", "disabilitas", "ibu_hamil", "anak"))
            visitors.append((at.timestamp(), code, priority))
        visitors.sort()
        return visitors

    def service_time_s(self, code: str, rng: random.Random) -> float:
        """A log-normal service time around the service's mean, at least one minute."""
        mean = self.service_minutes.get(code, DEFAULT_MINUTES) * 60
        mu = math.log(mean) - SERVICE_TIME_SIGMA ** 2 / 2
        return max(60.0, rng.lognormvariate(mu, SERVICE_TIME_SIGMA))

    def transfer_target(self, code: str) -> str | None:
        """Another service of the same agency, for a visitor at the wrong desk."""
        agency = self.config.services[code].agency
        others = [c for c, s in self.config.services.items() if s.agency == agency and c != code]
        return others[0] if others else None


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (normal approximation for large means, Knuth's method below)."""
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def survey_answers(rng: random.Random) -> list[int]:
    """One visitor's answers to the nine SKM elements, each 1-4."""
    return rng.choices((1, 2, 3, 4), weights=SKM_SCORE_WEIGHTS, k=SKM_ELEMENTS)


def _minute(text: str) -> int:
    hours, _, minutes = text.partition(":")
    return int(hours) * 60 + int(minutes)


def load_traffic(config: SiteConfig, path: str | Path | None = None,
                 visitors_per_day: float | None = None) -> TrafficModel:
    """Read a traffic file (default: the sample) for this site and calibrate it."""
    raw = tomllib.loads(Path(path or SAMPLE_TRAFFIC).read_text(encoding="utf-8"))
    factors = [0.0] * 7
    for name, value in raw.get("weekday_factor", {"mon": 1, "tue": 1, "wed": 1, "thu": 1, "fri": 1}).items():
        factors[parse_day(name)] = float(value)
    unknown = (set(raw.get("agencies", {})) - set(config.agencies)) | (set(raw.get("services", {}))
                                                                       - set(config.services))
    if unknown:
        raise TrafficError(f"the traffic file names {', '.join(sorted(unknown))}, which the site config lacks")
    services = raw.get("services", {})
    model = TrafficModel(
        config=config,
        visitors_per_day=float(visitors_per_day if visitors_per_day is not None
                               else raw.get("visitors_per_day", 200)),
        step_s=int(raw.get("step_s", 60)),
        weekday_factor=tuple(factors),
        arrivals={_minute(k): float(v) for k, v in raw.get("arrivals", {"08:00": 1}).items()},
        agency_share={k: float(v) for k, v in raw.get("agencies", dict.fromkeys(config.agencies, 1)).items()},
        service_weight={k: float(v.get("weight", 1)) for k, v in services.items()},
        service_minutes={k: float(v.get("minutes", DEFAULT_MINUTES)) for k, v in services.items()},
        behaviour=Behaviour(**{k: float(v) for k, v in raw.get("behaviour", {}).items()}),
        staffing=_staffing(raw.get("staffing", {}), config),
        **_year(raw.get("year"), visitors_per_day is not None),
    )
    model.calibrate()
    return model


def _date(value: object, where: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise TrafficError(f"{where} must be a date such as 2025-03-01, not {value!r}") from None


def _year(raw: dict | None, per_day_given: bool) -> dict:
    """[year]: start, days and visitors of the period the model reproduces (a seed report's figures).
    `--visitors-per-day` on the command line wins over its visitors."""
    if not raw:
        return {}
    unknown = set(raw) - {"start", "days", "visitors", "exact"}
    if unknown:
        raise TrafficError(f"[year] has unknown keys: {', '.join(sorted(unknown))}")
    days = int(raw.get("days", 364))
    if days < 1:
        raise TrafficError("[year] days must be at least 1")
    return {"year_start": _date(raw.get("start"), "year.start"), "year_days": days,
            "year_visitors": 0.0 if per_day_given else float(raw.get("visitors", 0)),
            "year_exact": bool(raw.get("exact", False))}


def _staffing(raw: dict, config: SiteConfig) -> Staffing:
    """[staffing] of the traffic file, with its [[staffing.vacancies]] (counter, from, to)."""
    vacancies = []
    for i, entry in enumerate(raw.get("vacancies", [])):
        where = f"staffing.vacancies[{i + 1}]"
        if entry.get("counter") not in config.counters:
            raise TrafficError(f"{where} names counter {entry.get('counter')!r}, which the site config lacks")
        first = _date(entry.get("from"), f"{where}.from")
        last = _date(entry.get("to", entry.get("from")), f"{where}.to")
        if last < first:
            raise TrafficError(f"{where}: to is before from")
        vacancies.append(Vacancy(str(entry["counter"]), first, last))
    plain = {k: v for k, v in raw.items() if k != "vacancies"}
    if "vacancy_days" in plain:
        low, high = plain["vacancy_days"]
        plain["vacancy_days"] = (int(low), int(high))
    known = {f for f in Staffing.__dataclass_fields__} - {"vacancies"}
    unknown = set(plain) - known
    if unknown:
        raise TrafficError(f"[staffing] has unknown keys: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {k: (v if k in ("pin", "vacancy_days") else float(v)) for k, v in plain.items()}
    return Staffing(**values, vacancies=tuple(vacancies))
