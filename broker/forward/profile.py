"""The site profile: what the province needs of a site's config, carried in its batches (pure, stdlib only).

A `Profile` is the part of the site config (broker/site/config.py) the central store reads: the MPP's name,
zone and own id; its agencies (id, name, kind and the opening hours of each weekday); the agency of each
service; each counter's agency and services; and the whole days closed (national holidays, cuti bersama and
the config's [[closures]], for the whole site or some agencies). With it the central store computes each
counter-day's opening ranges exactly as the site's staffing report does (broker/reports/staffing.py
`attendance`): a counter opens on a day its agency's schedule has hours, unless every one of its services
(or, with none, its agency) is closed that day; its ranges are the agency's hours that weekday.

On the wire (broker/forward/wire.py) it is the optional `profile` object of a batch:

    {"v": 1, "name": "MPP Kabupaten Rembang", "timezone": "Asia/Jakarta", "local_id": "rembang",
     "agencies": {"disdukcapil": {"name": "Disdukcapil", "kind": "Pemda", "hours": [[[480, 900]], ..., [], []]}},
     "services": {"A": "disdukcapil"},
     "counters": {"1": {"agency": "disdukcapil", "services": ["A"]}},
     "closures": {"2025-05-01": [], "2025-05-02": ["bpn"]}}

`hours` holds seven lists (Monday first) of [start, end) minutes of the local day; a closure's list names
the agencies closed, an empty one the whole site. `from_doc` checks every field as it would any payload
from outside (ProfileError); `digest` names a profile's content, so the forwarder sends it again only
when it changed (or after a new connection).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

VERSION = 1
MAX_BYTES = 60_000  # a profile's JSON at most: a batch with it stays below the brokers' message limit
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_MAX = {"agencies": 200, "services": 1000, "counters": 1000, "closures": 5000}
Span = tuple[float, float]


class ProfileError(ValueError):
    """A profile that is not well-formed; the batch carrying it is dropped."""


@dataclass(frozen=True)
class AgencyProfile:
    name: str
    kind: str
    hours: tuple[tuple[tuple[int, int], ...], ...]  # seven weekdays, Monday first: (start, end) minutes


@dataclass(frozen=True)
class CounterProfile:
    agency: str
    services: tuple[str, ...]


@dataclass(frozen=True)
class Profile:
    name: str
    timezone: str
    local_id: str
    agencies: dict[str, AgencyProfile]
    services: dict[str, str]  # service code -> agency
    counters: dict[str, CounterProfile]
    closures: dict[date, frozenset[str]]  # day -> agencies closed; empty: the whole site

    def as_doc(self) -> dict[str, Any]:
        return {"v": VERSION, "name": self.name, "timezone": self.timezone, "local_id": self.local_id,
                "agencies": {a: {"name": p.name, "kind": p.kind, "hours": [[list(r) for r in day] for day in p.hours]}
                             for a, p in sorted(self.agencies.items())},
                "services": dict(sorted(self.services.items())),
                "counters": {c: {"agency": p.agency, "services": list(p.services)}
                             for c, p in sorted(self.counters.items())},
                "closures": {d.isoformat(): sorted(a) for d, a in sorted(self.closures.items())}}

    def text(self) -> str:
        """The canonical JSON: the same profile always gives the same text (and digest)."""
        return json.dumps(self.as_doc(), ensure_ascii=False, separators=(",", ":"), sort_keys=True)

    def digest(self) -> str:
        return hashlib.sha256(self.text().encode()).hexdigest()[:32]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def closed(self, agency: str, day: date) -> bool:
        """Whether `agency` is closed all day (SiteConfig.closure_on(day, agency) is not None)."""
        found = self.closures.get(day)
        return found is not None and (not found or agency in found)

    def counter_hours(self, counter: str, day: date) -> tuple[tuple[int, int], ...]:
        """The counter's opening ranges that day in minutes (none: it does not open), as the staffing report
        takes them: its agency's hours that weekday, unless each of its services' agencies is closed."""
        found = self.counters.get(counter)
        agency = self.agencies.get(found.agency) if found else None
        if found is None or agency is None:
            return ()
        hours = agency.hours[day.weekday()]
        if not hours:
            return ()
        owners = [self.services[s] for s in found.services if s in self.services] or [found.agency]
        if all(self.closed(a, day) for a in owners):
            return ()
        return hours

    def opening_ranges(self, counter: str, day: date, zone: ZoneInfo | None = None) -> list[Span]:
        """The counter's opening ranges that day as epoch seconds (broker/reports/staffing.py opening_ranges)."""
        hours = self.counter_hours(counter, day)
        if not hours:
            return []
        midnight = datetime.combine(day, datetime.min.time(), zone or self.zone).timestamp()
        return [(midnight + 60 * s, midnight + 60 * e) for s, e in hours]


def of_config(config: Any) -> Profile:
    """The profile of a broker.site.config SiteConfig."""
    closures: dict[date, set[str]] = {}
    whole: set[date] = set()
    for c in config.closures:
        if not c.agencies:
            whole.add(c.day)
        closures.setdefault(c.day, set()).update(c.agencies)
    return Profile(
        name=config.site.name, timezone=config.site.timezone, local_id=config.site.id,
        agencies={a.id: AgencyProfile(a.name, a.kind, tuple(tuple(a.schedule.hours_on(d)) for d in range(7)))
                  for a in config.agencies.values()},
        services={s.code: s.agency for s in config.services.values()},
        counters={c.id: CounterProfile(c.agency, tuple(c.services)) for c in config.counters.values()},
        closures={d: frozenset() if d in whole else frozenset(a) for d, a in closures.items()})


def _text(value: Any, what: str, limit: int = 200) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise ProfileError(f"{what} is not a text of at most {limit} characters")
    return value


def _ident(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise ProfileError(f"{what} is not an id (letters, digits, . _ -): {str(value)[:40]}")
    return value


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProfileError(f"{what} is not an object")
    if len(value) > _MAX.get(what, 10_000):
        raise ProfileError(f"{what} has more than {_MAX[what]} entries")
    return value


def _minute(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 1440:
        raise ProfileError(f"an opening time is not a minute of the day: {str(value)[:20]}")
    return value


def _day_hours(value: Any, what: str) -> tuple[tuple[int, int], ...]:
    if not isinstance(value, list) or len(value) > 24:
        raise ProfileError(f"{what} is not a list of opening ranges")
    ranges: list[tuple[int, int]] = []
    for r in value:
        if not isinstance(r, list) or len(r) != 2:
            raise ProfileError(f"{what} holds a range that is not [start, end]")
        start, end = _minute(r[0]), _minute(r[1])
        if end <= start or (ranges and start < ranges[-1][1]):
            raise ProfileError(f"{what}: ranges must end after they start, in order, without overlapping")
        ranges.append((start, end))
    return tuple(ranges)


def from_doc(doc: Any) -> Profile:
    """A profile from its JSON object, checked as a hostile payload; raises ProfileError."""
    if not isinstance(doc, dict) or doc.get("v") != VERSION:
        raise ProfileError(f"not a profile of version {VERSION}")
    timezone = _text(doc.get("timezone"), "timezone", 64)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ProfileError(f"unknown timezone '{timezone[:64]}'") from None
    agencies: dict[str, AgencyProfile] = {}
    for aid, a in _object(doc.get("agencies"), "agencies").items():
        _ident(aid, "an agency")
        a = _object(a, f"agency {aid}")
        hours = a.get("hours")
        if not isinstance(hours, list) or len(hours) != 7:
            raise ProfileError(f"agency {aid}'s hours are not seven weekdays")
        agencies[aid] = AgencyProfile(_text(a.get("name"), f"agency {aid}'s name"),
                                      _text(a.get("kind"), f"agency {aid}'s kind", 64),
                                      tuple(_day_hours(h, f"agency {aid}'s hours") for h in hours))
    services: dict[str, str] = {}
    for code, agency in _object(doc.get("services"), "services").items():
        _ident(code, "a service")
        if agency not in agencies:
            raise ProfileError(f"service {code}'s agency is not among the agencies")
        services[code] = agency
    counters: dict[str, CounterProfile] = {}
    for cid, c in _object(doc.get("counters"), "counters").items():
        _ident(cid, "a counter")
        c = _object(c, f"counter {cid}")
        codes = c.get("services")
        if c.get("agency") not in agencies:
            raise ProfileError(f"counter {cid}'s agency is not among the agencies")
        if not isinstance(codes, list) or len(codes) > 100 or any(s not in services for s in codes):
            raise ProfileError(f"counter {cid}'s services are not a list of the services")
        counters[cid] = CounterProfile(c["agency"], tuple(codes))
    closures: dict[date, frozenset[str]] = {}
    for day, closed in _object(doc.get("closures"), "closures").items():
        try:
            if not isinstance(day, str) or not _DAY.match(day):
                raise ValueError
            when = date.fromisoformat(day)
        except ValueError:
            raise ProfileError(f"a closure's day is not a date such as 2025-05-01: {str(day)[:20]}") from None
        if not isinstance(closed, list) or any(a not in agencies for a in closed):
            raise ProfileError(f"the closure of {day} names agencies that are not among the agencies")
        closures[when] = frozenset(closed)
    return Profile(_text(doc.get("name"), "the name"), timezone, _text(doc.get("local_id", ""), "the local id", 64),
                   agencies, services, counters, closures)
