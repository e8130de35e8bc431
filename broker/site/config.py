"""The site configuration: one TOML file describing an MPP, checked thoroughly.

A technician edits this file by hand, so loading never stops at the first
mistake: every problem is collected with its location (table, entry, field,
line) and a plain sentence, and `antrian config check` prints them all.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, get_type_hints
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from antrian_assets import ROOT as ASSETS
from broker.core.model import (
    AGENCY_KINDS,
    BOOKING_PLACES,
    OVERFLOW_POLICIES,
    PRIORITY_GROUPS,
    Access,
    Agency,
    Closure,
    Counter,
    Officer,
    Rules,
    Service,
    Site,
    SiteConfig,
)
from broker.core.pin import is_pin_hash
from broker.core.schedule import DAY_NAMES_EN, DAY_NAMES_ID, Schedule, ScheduleError, format_ranges, parse_day, parse_ranges
from broker.core.texts import tr
from broker.site.holidays import national_closures

SAMPLE_CONFIG = ASSETS / "sample-mpp.toml"

_SITE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_AGENCY_ID = _SITE_ID
# Kemendagri's region codes (Permendagri 72/2019 and its updates): province "62", regency or city "62.01",
# district "62.01.01"; the province's central store knows each MPP by it, so two never collide
_REGION_CODE = re.compile(r"^[1-9][0-9](\.[0-9]{2}){0,2}$")
_SERVICE_CODE = re.compile(r"^[A-Z]{1,3}$")
_COUNTER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,15}$")
_OFFICER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")  # a short name or an 18-digit NIP


@dataclass(frozen=True)
class Phrase:
    """A sentence of the one text table (a `config.*` key of broker.core.texts) with its parameters.

    A parameter may be a Phrase itself (a field's help, a kind of value), said in the same language;
    a parameter `x_en` is what `x` says in English (a weekday's name).
    """

    key: str
    params: tuple[tuple[str, Any], ...] = ()

    def text(self, lang: str = "id") -> str:
        given = dict(self.params)
        values = {}
        for name, value in self.params:
            if name.endswith("_en"):
                continue
            if lang == "en":
                value = given.get(f"{name}_en", value)
            values[name] = value.text(lang) if isinstance(value, Phrase) else value
        return tr(self.key, lang, **values)


def phrase(key: str, **params: Any) -> Phrase:
    return Phrase(key, tuple(params.items()))


@dataclass(frozen=True)
class Problem:
    """One mistake: where (table, entry, field, line) and what, in English (`message`, for logs) and, through
    its `phrase`, in either language (`text(lang)`)."""

    location: str
    message: str
    line: int | None = None
    phrase: Phrase | None = dataclasses.field(default=None, compare=False)

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.location}: {self.message}"

    def text(self, lang: str = "id") -> str:
        """What is wrong, in Bahasa Indonesia ("id") or English ("en")."""
        return self.phrase.text(lang) if self.phrase else self.message

    def describe(self, lang: str = "id") -> str:
        """`str(problem)` in either language: "baris 4: site.timezone: ..."."""
        where = tr("config._line", lang, line=self.line) + ": " if self.line else ""
        return f"{where}{self.location}: {self.text(lang)}"


def problem(location: str, key: str, line: int | None = None, **params: Any) -> Problem:
    """The Problem at `location` saying the text `key` (config.*) with `params`."""
    said = phrase(key, **params)
    return Problem(location, said.text("en"), line, said)


def _said(exc: ValueError) -> tuple[str, dict[str, Any]]:
    """The text key and parameters of a day name or time range that did not parse."""
    if isinstance(exc, ScheduleError):
        return exc.key, exc.params
    return "config.detail", {"detail": str(exc)}


class ConfigError(Exception):
    """A config file with one or more problems; `problems` lists them all."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{source}: {len(problems)} problem(s) in the site configuration:\n{lines}")

    def text(self, lang: str = "id") -> str:
        """The whole report in one language."""
        lines = "\n".join(f"  - {p.describe(lang)}" for p in self.problems)
        return f"{tr('config._problems', lang, source=self.source, n=len(self.problems))}\n{lines}"

    def both(self, first: str = "id") -> str:
        """The report for a terminal: each problem in `first` language, then the other on the line below."""
        second = "en" if first != "en" else "id"
        head = [tr("config._problems", lang, source=self.source, n=len(self.problems)) for lang in (first, second)]
        lines = []
        for p in self.problems:
            lines += [f"  - {p.describe(first)}", f"    {p.describe(second)}"]
        return "\n".join(head + lines)


class _Lines:
    """Finds the line of a table entry or key in the raw TOML text, for friendlier messages."""

    def __init__(self, text: str):
        self.lines = text.splitlines()

    def of(self, table: str, index: int | None = None, key: str | None = None) -> int | None:
        header = f"[[{table}]]" if index is not None else f"[{table}]"
        seen, start = -1, None
        for n, line in enumerate(self.lines):
            if line.strip().startswith(header):
                seen += 1
                if index is None or seen == index:
                    start = n
                    break
        if start is None:
            return None
        if key is None:
            return start + 1
        for n in range(start + 1, len(self.lines)):
            stripped = self.lines[n].strip()
            if stripped.startswith("["):
                break
            if re.match(rf"^{re.escape(key)}\s*=", stripped):
                return n + 1
        return start + 1


class _Reader:
    """Reads typed fields from one TOML table and records every problem found."""

    def __init__(self, data: Any, location: str, problems: list[Problem], line_of):
        self.location = location
        self.problems = problems
        self.line_of = line_of  # key -> line number or None
        if not isinstance(data, dict):
            self.problem(None, "config.not_a_table")
            data = {}
        self.data = data
        self.known: set[str] = set()

    def problem(self, key: str | None, text: str, **params: Any) -> None:
        """A problem with `key` of this table (None: the table itself), saying the text `text` (config.*)."""
        where = f"{self.location}.{key}" if key else self.location
        self.problems.append(problem(where, text, self.line_of(key), **params))

    def _get(self, key: str, kind: type | tuple[type, ...], kind_name: str, required: bool, default: Any):
        self.known.add(key)
        if key not in self.data:
            if required:
                self.problem(key, "config.missing")
            return default
        value = self.data[key]
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            self.problem(key, "config.wrong_type", kind=phrase(f"config._kind_{kind_name}"), value=repr(value))
            return default
        return value

    def text(self, key: str, required: bool = False, default: str = "", pattern: re.Pattern | None = None,
             pattern_help: str = "") -> str:
        """A text; with `pattern`, `pattern_help` names the config._help_* text said when it does not match."""
        value = self._get(key, str, "text", required, default)
        given = key in self.data and value is self.data[key]  # not `value is not default`: "" is "" in CPython
        if given and pattern is not None and not pattern.match(value):
            self.problem(key, "config.bad_pattern", value=value, help=phrase(f"config._help_{pattern_help}"))
            return default
        if required and given and not value.strip():
            self.problem(key, "config.empty")
        return value

    def number(self, key: str, default: Any = None, minimum: float = 0, integer: bool = True) -> Any:
        kind = int if integer else (int, float)
        value = self._get(key, kind, "whole_number" if integer else "number", False, default)
        if key in self.data and value is self.data[key] and value < minimum:
            self.problem(key, "config.too_small", minimum=minimum, value=value)
            return default
        return value

    def flag(self, key: str, default: bool) -> bool:
        return self._get(key, bool, "flag", False, default)

    def texts(self, key: str, required: bool = False) -> list[str] | None:
        value = self._get(key, list, "texts", required, None)
        if value is not None and not all(isinstance(v, str) for v in value):
            self.problem(key, "config.not_texts")
            return None
        return value

    def day(self, key: str, required: bool = False) -> date | None:
        """A calendar date, written as a TOML date (2026-12-31) or as text "2026-12-31"."""
        self.known.add(key)
        if key not in self.data:
            if required:
                self.problem(key, "config.missing")
            return None
        value = self.data[key]
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        elif isinstance(value, date) and not isinstance(value, datetime):
            return value
        self.problem(key, "config.bad_date", value=repr(value))
        return None

    def schedule(self, inherited: Schedule) -> Schedule:
        """Optional `days`, `hours` and per-day overrides such as `fri = "08:00-11:00"`."""
        days, hours, by_day = inherited.days, inherited.hours, dict(inherited.by_day)
        given_days: dict[int, str] = {}  # weekday -> key, for per-day hours written in this table
        names = self.texts("days")
        if names is not None:
            try:
                days = frozenset(parse_day(n) for n in names)
            except ValueError as exc:
                self._schedule_problem("days", exc)
        hours_text = self.text("hours")
        if hours_text:
            try:
                hours = parse_ranges(hours_text)
                by_day = {}  # own hours replace the inherited ones, per-day exceptions included
            except ValueError as exc:
                self._schedule_problem("hours", exc)
        for key in list(self.data):
            if key in self.known:
                continue
            try:
                day = parse_day(key)
            except ValueError:
                continue
            self.known.add(key)
            value = self.data[key]
            if not isinstance(value, str):
                self.problem(key, "config.day_hours_type")
                continue
            try:
                by_day[day] = parse_ranges(value) if value.strip().lower() not in ("", "tutup", "closed") else ()
            except ValueError as exc:
                self._schedule_problem(key, exc)
                continue
            if by_day[day]:
                given_days[day] = key
        for day, key in given_days.items():
            if day not in days:  # hours_on() would ignore them without a word
                self.problem(key, "config.day_not_open", day=DAY_NAMES_ID[day], day_en=DAY_NAMES_EN[day],
                             name=DAY_NAMES_ID[day].lower(), name_en=DAY_NAMES_EN[day].lower())
        return Schedule(days=days, hours=hours, by_day=by_day)

    def _schedule_problem(self, key: str, exc: ValueError) -> None:
        text, params = _said(exc)
        self.problem(key, text, **params)

    def fields(self, cls: type, **given: Any) -> Any:
        """`cls` built from this table: the keys in `given` as the caller read them (checked its own way),
        every other field of the dataclass read by its type with its default, and its `min` metadata.
        So a new plain setting is one field in broker.core.model plus its comment in the sample."""
        hints = get_type_hints(cls)
        values = dict(given)
        for f in dataclasses.fields(cls):
            if f.name in values or not f.init:
                continue
            kind, default = hints[f.name], f.default
            if default is dataclasses.MISSING:
                raise TypeError(f"{cls.__name__}.{f.name} has no default: the caller must read it")
            minimum = f.metadata.get("min", 0)
            if kind is bool:
                values[f.name] = self.flag(f.name, default)
            elif kind is str:
                values[f.name] = self.text(f.name, default=default)
            elif kind in (int, int | None):
                values[f.name] = self.number(f.name, default, minimum=minimum)
            elif kind is float:
                values[f.name] = self.number(f.name, default, minimum=minimum, integer=False)
            elif kind == tuple[str, ...]:
                values[f.name] = tuple(self.texts(f.name) or default)
            else:
                raise TypeError(f"{cls.__name__}.{f.name}: no TOML reader for {kind}")
        return cls(**values)

    def finish(self, allowed_extra: tuple[str, ...] = ()) -> None:
        """Report keys nobody asked for: usually a typo."""
        known = self.known | set(allowed_extra)
        for key in self.data:
            if key not in known:
                close = difflib.get_close_matches(key, sorted(known), n=1)
                if close:
                    self.problem(key, "config.unknown_setting_close", close=close[0])
                else:
                    self.problem(key, "config.unknown_setting")


def _check_booking(r: _Reader, service: Service) -> None:
    """A service's booking settings (broker.core.booking): sessions that parse, online places within the quota."""
    if service.overflow and service.overflow not in OVERFLOW_POLICIES:
        r.problem("overflow", "config.one_of", choices=", ".join(OVERFLOW_POLICIES), value=service.overflow)
    for text in service.sessions:
        try:
            ranges = parse_ranges(text)
        except ValueError as exc:
            r._schedule_problem("sessions", exc)
            continue
        if len(ranges) != 1:
            r.problem("sessions", "config.one_session", value=text)
    if service.sessions and not service.quota_online:
        r.problem("sessions", "config.sessions_need_quota")
    if service.quota_online and service.quota is not None and service.quota_online > service.quota:
        r.problem("quota_online", "config.online_over_quota", online=service.quota_online, quota=service.quota)


def _entries(raw: dict, table: str, problems: list[Problem], lines: _Lines) -> list[Any]:
    value = raw.get(table, [])
    if not isinstance(value, list):
        problems.append(problem(table, "config.not_entries", lines.of(table), table=table))
        return []
    return value


def parse_config(text: str, source: str = "<config>") -> SiteConfig:
    """Parse and validate TOML text; raises ConfigError listing every problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise ConfigError(source, [problem("file", "config.bad_toml", int(line.group(1)) if line else None,
                                           detail=str(exc))]) from None
    problems: list[Problem] = []
    lines = _Lines(text)

    site_r = _Reader(raw.get("site", {}), "site", problems, lambda k: lines.of("site", key=k))
    if "site" not in raw:
        problems.append(problem("site", "config.site_missing"))
    site = site_r.fields(
        Site,
        id=site_r.text("id", required=True, pattern=_SITE_ID,
                       pattern_help="site_id"),
        name=site_r.text("name", required=True),
        region_code=site_r.text("region_code", pattern=_REGION_CODE,
                                pattern_help="region_code"),
    )
    try:
        ZoneInfo(site.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        site_r.problem("timezone", "config.bad_timezone", value=site.timezone)
    if site.language not in ("id", "en"):
        site_r.problem("language", "config.bad_language", value=site.language)
    hours_r = _Reader(raw.get("site", {}).get("hours", {}) if isinstance(raw.get("site"), dict) else {},
                      "site.hours", problems, lambda k: lines.of("site.hours", key=k))
    site_schedule = hours_r.schedule(Schedule())
    hours_r.finish()
    site_r.finish(allowed_extra=("hours",))

    rules_r = _Reader(raw.get("rules", {}), "rules", problems, lambda k: lines.of("rules", key=k))
    rules = rules_r.fields(Rules)
    if rules.overflow not in OVERFLOW_POLICIES:
        rules_r.problem("overflow", "config.one_of", choices=", ".join(OVERFLOW_POLICIES), value=rules.overflow)
    if rules.booking_place not in BOOKING_PLACES:
        rules_r.problem("booking_place", "config.one_of", choices=", ".join(BOOKING_PLACES), value=rules.booking_place)
    rules_r.finish()

    agencies: dict[str, Agency] = {}
    for i, entry in enumerate(_entries(raw, "agencies", problems, lines)):
        r = _Reader(entry, f"agencies[{i + 1}]", problems, lambda k, i=i: lines.of("agencies", i, k))
        agency_id = r.text("id", required=True, pattern=_AGENCY_ID,
                           pattern_help="agency_id")
        if agency_id:
            r.location = f"agencies[{i + 1}] ({agency_id})"
        name = r.text("name", required=True)
        kind = r.text("kind", required=True)
        kinds = {k.lower(): k for k in AGENCY_KINDS}
        canonical = kinds.get(kind.strip().lower()) if kind else None
        if kind and canonical is None:
            close = difflib.get_close_matches(kind.strip().lower(), list(kinds), n=1)
            if close:
                r.problem("kind", "config.bad_kind_close", value=kind, close=kinds[close[0]],
                          choices=", ".join(AGENCY_KINDS))
            else:
                r.problem("kind", "config.bad_kind", value=kind, choices=", ".join(AGENCY_KINDS))
        agency = r.fields(Agency, id=agency_id, name=name, short=r.text("short") or name, kind=canonical or kind,
                          schedule=r.schedule(site_schedule))
        r.finish()
        if agency_id in agencies:
            r.problem("id", "config.agency_twice", agency=agency_id)
        elif agency_id:
            agencies[agency_id] = agency
    if not agencies:
        problems.append(problem("agencies", "config.no_agency"))

    services: dict[str, Service] = {}
    service_entry: dict[str, int] = {}  # code -> index of its [[services]] entry, for line numbers
    for i, entry in enumerate(_entries(raw, "services", problems, lines)):
        r = _Reader(entry, f"services[{i + 1}]", problems, lambda k, i=i: lines.of("services", i, k))
        code = r.text("code", required=True, pattern=_SERVICE_CODE,
                      pattern_help="service_code")
        if code:
            r.location = f"services[{i + 1}] ({code})"
        agency_id = r.text("agency", required=True)
        owner = agencies.get(agency_id)
        if agency_id and owner is None:
            r.problem("agency", "config.unknown_agency", agency=agency_id)
        service = r.fields(Service, code=code, name=r.text("name", required=True), agency=agency_id,
                           schedule=r.schedule(owner.schedule if owner else site_schedule))
        _check_booking(r, service)
        r.finish()
        if code in services:
            r.problem("code", "config.service_twice", code=code)
        elif code:
            services[code] = service
            service_entry[code] = i

    counters: dict[str, Counter] = {}
    for i, entry in enumerate(_entries(raw, "counters", problems, lines)):
        r = _Reader(entry, f"counters[{i + 1}]", problems, lambda k, i=i: lines.of("counters", i, k))
        counter_id = r.text("id", required=True, pattern=_COUNTER_ID,
                            pattern_help="counter_id")
        if counter_id:
            r.location = f"counters[{i + 1}] ({counter_id})"
        agency_id = r.text("agency", required=True)
        if agency_id and agency_id not in agencies:
            r.problem("agency", "config.unknown_agency", agency=agency_id)
        codes = r.texts("services", required=True) or []
        for code in codes:
            if code not in services:
                r.problem("services", "config.unknown_service", code=code)
        if len(set(codes)) != len(codes):
            r.problem("services", "config.service_listed_twice")
        if "services" in r.data and not codes:
            r.problem("services", "config.no_services")
        counter = r.fields(Counter, id=counter_id, agency=agency_id, services=tuple(codes))
        r.finish()
        if counter_id in counters:
            r.problem("id", "config.counter_twice", counter=counter_id)
        elif counter_id:
            counters[counter_id] = counter

    officers = _officers(raw, problems, lines, agencies, counters)

    access_r = _Reader(raw.get("access", {}), "access", problems, lambda k: lines.of("access", key=k))
    access = access_r.fields(Access)
    if bool(access.tls_cert) != bool(access.tls_key):
        access_r.problem("tls_key" if access.tls_cert else "tls_cert",
                         "config.tls_pair")
    access_r.finish()

    closures = _closures(raw, problems, lines, agencies)
    if site.national_holidays or site.cuti_bersama:
        closures = national_closures(national_holidays=site.national_holidays,
                                     cuti_bersama=site.cuti_bersama) + closures

    served = {code for c in counters.values() for code in c.services}
    for code, i in service_entry.items():
        if code not in served:
            problems.append(problem(f"services[{i + 1}] ({code})", "config.not_served", lines.of("services", i)))
    for key in raw:
        if key not in ("site", "rules", "agencies", "services", "counters", "officers", "access", "closures"):
            problems.append(problem(key, "config.unknown_section", lines.of(key) or lines.of(key, 0)))

    if problems:
        raise ConfigError(source, problems)
    return SiteConfig(site=site, rules=rules, agencies=agencies, services=services, counters=counters,
                      source=source, officers=officers, access=access, closures=closures)


CLOSURE_MAX_DAYS = 366  # a longer range is a typo of a year, not a closure


def _closures(raw: dict, problems: list[Problem], lines: _Lines, agencies: dict[str, Agency]) -> tuple[Closure, ...]:
    """[[closures]]: days the site (or some agencies) is closed: `date`, or `from` and `to` (inclusive),
    a `reason` (Bahasa Indonesia, told at the kiosk), optional `reason_en` and `agencies`."""
    closures: list[Closure] = []
    for i, entry in enumerate(_entries(raw, "closures", problems, lines)):
        r = _Reader(entry, f"closures[{i + 1}]", problems, lambda k, i=i: lines.of("closures", i, k))
        given = [key for key in ("date", "from", "to") if isinstance(r.data, dict) and key in r.data]
        one = r.day("date")
        first, last = r.day("from"), r.day("to")
        reason = r.text("reason", required=True)
        reason_en = r.text("reason_en")
        allowed = r.texts("agencies") or []
        for agency_id in allowed:
            if agency_id not in agencies:
                r.problem("agencies", "config.unknown_agency", agency=agency_id)
        r.finish()
        if "date" in given and ("from" in given or "to" in given):
            r.problem("date", "config.date_and_range")
            continue
        if not given:
            r.problem(None, "config.no_date")
            continue
        if "date" not in given and ("from" not in given or "to" not in given):
            r.problem("to" if "from" in given else "from", "config.range_half")
            continue
        if one is not None:
            first = last = one
        if first is None or last is None:
            continue  # its date was reported already
        if last < first:
            r.problem("to", "config.range_backwards", last=last, first=first)
            continue
        if (last - first).days >= CLOSURE_MAX_DAYS:
            r.problem("to", "config.range_too_long", days=(last - first).days + 1)
            continue
        days = (last - first).days + 1
        closures += [Closure(first + timedelta(days=n), reason, reason_en or reason, "closure", tuple(allowed))
                     for n in range(days)]
    return tuple(closures)


def _officers(raw: dict, problems: list[Problem], lines: _Lines, agencies: dict[str, Agency],
              counters: dict[str, Counter]) -> dict[str, Officer]:
    """[[officers]]: id, name, pin_hash (never a plain PIN), optional agency and counters."""
    officers: dict[str, Officer] = {}
    for i, entry in enumerate(_entries(raw, "officers", problems, lines)):
        r = _Reader(entry, f"officers[{i + 1}]", problems, lambda k, i=i: lines.of("officers", i, k))
        officer_id = r.text("id", required=True, pattern=_OFFICER_ID,
                            pattern_help="officer_id")
        if officer_id:
            r.location = f"officers[{i + 1}] ({officer_id})"
        if isinstance(r.data, dict) and "pin" in r.data:
            r.known.add("pin")
            r.problem("pin", "config.plain_pin")
        pin_hash = r.text("pin_hash", required=True)
        if pin_hash and not is_pin_hash(pin_hash):
            r.problem("pin_hash", "config.bad_pin_hash")
        agency_id = r.text("agency")
        if agency_id and agency_id not in agencies:
            r.problem("agency", "config.unknown_agency", agency=agency_id)
        allowed = r.texts("counters") or []
        for cid in allowed:
            if cid not in counters:
                r.problem("counters", "config.unknown_counter", counter=cid)
        officer = r.fields(Officer, id=officer_id, name=r.text("name", required=True), pin_hash=pin_hash,
                           agency=agency_id, counters=tuple(allowed))
        r.finish()
        if officer_id in officers:
            r.problem("id", "config.officer_twice", officer=officer_id)
        elif officer_id:
            officers[officer_id] = officer
    return officers


@dataclass(frozen=True)
class ConfigWarning:
    """Something `antrian config check` accepts but a production hall should not run with: one sentence per language."""

    key: str
    id: str
    en: str


def _demo_pin_hashes() -> frozenset[str]:
    """The PIN hashes of the shipped sample's officers (the demo PIN, told in its comments)."""
    try:
        raw = tomllib.loads(SAMPLE_CONFIG.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return frozenset()
    return frozenset(o.get("pin_hash", "") for o in raw.get("officers", []) if isinstance(o, dict))


def config_warnings(config: SiteConfig) -> list[ConfigWarning]:
    """What a valid config still leaves open: anonymous MQTT clients, officers with the sample's demo PIN."""
    found = []
    if config.access.allow_anonymous:
        found.append(ConfigWarning(
            "[access] allow_anonymous = true",
            "siapa pun di jaringan boleh memakai broker MQTT tanpa kata sandi (hanya untuk "
            "demo). Untuk produksi tulis false dan beri setiap perangkat identitasnya: antrian device add PERAN ID.",
            "anyone on the network may use the MQTT broker without a password (for a demo "
            "only). In production write false and give every device its identity: antrian device add ROLE ID."))
    demo = _demo_pin_hashes()
    shipped = [o.id for o in config.officers.values() if o.pin_hash in demo]
    if shipped:
        found.append(ConfigWarning(
            "[[officers]] pin_hash",
            f"petugas {', '.join(shipped)} memakai PIN contoh dari berkas contoh, yang diketahui semua orang: buat "
            "pin_hash baru untuk setiap petugas dengan antrian officer hash-pin.",
            f"officer(s) {', '.join(shipped)} use the sample file's demo PIN, which everyone knows: make a new "
            "pin_hash for each officer with antrian officer hash-pin."))
    return found


def load_config(path: str | Path | None = None) -> SiteConfig:
    """Load a site config file (the shipped sample when None); raises ConfigError."""
    path = Path(path) if path else SAMPLE_CONFIG
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [problem("file", "config.unreadable", detail=exc.strerror or str(exc))]) from None
    except UnicodeDecodeError:
        raise ConfigError(str(path), [problem("file", "config.not_utf8")]) from None
    return parse_config(text, str(path))


__all__ = [
    "AGENCY_KINDS",
    "PRIORITY_GROUPS",
    "SAMPLE_CONFIG",
    "Access",
    "Agency",
    "Closure",
    "ConfigError",
    "ConfigWarning",
    "Counter",
    "Officer",
    "Phrase",
    "Problem",
    "Rules",
    "Service",
    "Site",
    "SiteConfig",
    "config_warnings",
    "format_ranges",
    "load_config",
    "parse_config",
]
