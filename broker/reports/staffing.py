"""Who sat at the counters: staffing per counter and agency, and the work of each officer.

Theory of operation. The log says when an officer signed in and out at a counter
(`officer_signed_in`/`officer_signed_out`) and when a counter opened, paused or closed
(`counter_status`). Each of these starts or ends a span; a new service day (`day_started`) and
local midnight end every span, as the engine closes and signs out every counter at the day's
reset. A span is then clipped to the opening hours its agency keeps that day (the schedule in the
site config, with no hours on a closed day), so a counter left open over a night or a weekend
counts only the hours it could have served: hours open and hours staffed never pass 100% of the
opening hours. A counter's opening day with no officer signed in during opening hours is an empty
day; N or more empty opening days in a row (closed days not counted, nor breaking the run) are
flagged "gerai kosong".
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from broker.core.events import EventType as E
from broker.core.schedule import Schedule, never_closed
from broker.protocol.texts import tr
from broker.reports import fmt
from broker.reports.build import (
    EventLog,
    Period,
    _during,
    _field,
    _sites,
    _subtitle,
    agency_name,
    count,
    share,
    side_by_side,
    words,
)
from broker.reports.fmt import Fixed
from broker.reports.render import Chart, Report, Table
from broker.site.config import SiteConfig

EMPTY_DAYS = 5  # default run of empty opening days that flags a counter "gerai kosong"
Span = tuple[float, float]
Closed = Callable[[str, date], bool]  # (service code, day) -> closed all day: holidays and closures


def closed_days(config: SiteConfig) -> Closed:
    """Whole days a service does not open beyond its weekly schedule: national holidays, cuti bersama and
    the site's [[closures]], through the config's `closure_on(day, agency)` (the engine's own source).
    A config without closures (before they existed) closes nothing more."""
    closure_on = getattr(config, "closure_on", None)
    if closure_on is None:
        return never_closed

    def closed(code: str, day: date) -> bool:
        service = config.services.get(code)
        return closure_on(day, service.agency if service else code) is not None

    return closed


def _cut_at_midnight(t0: float, t1: float, zone) -> list[Span]:
    """The span up to the local midnight after its start: the engine's new day closes every counter and
    signs everyone out, even if its `day_started` is written only at the next morning's first command."""
    local = datetime.fromtimestamp(t0, zone)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), zone).timestamp()
    return [(t0, min(t1, midnight))] if t1 > t0 else []


def spans(log: EventLog, period: Period) -> tuple[dict[str, list[Span]], dict[str, list[Span]],
                                                   dict[str, list[tuple[Span, str]]]]:
    """Per counter, the spans it was open and the spans an officer was signed in; per officer, their
    (span, counter) pairs. Every span lies within one local day."""
    start, end = log.bounds(period)
    rows = log.query(f"SELECT type, ts, {_field('counter')}, coalesce({_field('status')}, ''), "
                     f"coalesce({_field('officer')}, '') FROM events WHERE type IN (?, ?, ?, ?) AND ts >= ? AND ts < ? "
                     "ORDER BY seq", (str(E.DAY_STARTED), str(E.OFFICER_SIGNED_IN), str(E.OFFICER_SIGNED_OUT),
                                      str(E.COUNTER_STATUS), start, end))
    opened: dict[str, list[Span]] = defaultdict(list)
    signed: dict[str, list[Span]] = defaultdict(list)
    by_officer: dict[str, list[tuple[Span, str]]] = defaultdict(list)
    open_since: dict[str, float] = {}
    signed_since: dict[str, tuple[float, str]] = {}

    def end_signed(counter: str, ts: float) -> None:
        t0, officer = signed_since.pop(counter)
        for piece in _cut_at_midnight(t0, ts, log.zone):
            signed[counter].append(piece)
            by_officer[officer].append((piece, counter))

    def end_open(counter: str, ts: float) -> None:
        opened[counter].extend(_cut_at_midnight(open_since.pop(counter), ts, log.zone))

    for kind, ts, counter, status, officer in rows:
        if kind == E.DAY_STARTED:
            for cid in list(signed_since):
                end_signed(cid, ts)
            for cid in list(open_since):
                end_open(cid, ts)
        elif kind == E.OFFICER_SIGNED_IN:
            if counter in signed_since:
                end_signed(counter, ts)
            signed_since[counter] = (ts, officer)
        elif kind == E.OFFICER_SIGNED_OUT:
            if counter in signed_since and signed_since[counter][1] in (officer, ""):
                end_signed(counter, ts)
        elif status == "open":
            open_since.setdefault(counter, ts)
        elif counter in open_since:
            end_open(counter, ts)
    last = min(end, rows[-1][1] if rows else end)
    for cid in list(signed_since):
        end_signed(cid, max(last, signed_since[cid][0]))
    for cid in list(open_since):
        end_open(cid, max(last, open_since[cid]))
    return opened, signed, by_officer


def opening_ranges(log: EventLog, schedule: Schedule, day: date) -> list[Span]:
    return [(datetime.combine(day, datetime.min.time(), log.zone).timestamp() + 60 * s,
             datetime.combine(day, datetime.min.time(), log.zone).timestamp() + 60 * e)
            for s, e in schedule.hours_on(day.weekday())]


def _overlap(pieces: list[Span], ranges: list[Span]) -> float:
    return sum(max(0.0, min(t1, r1) - max(t0, r0)) for t0, t1 in pieces for r0, r1 in ranges)


def _union(pieces: list[Span]) -> list[Span]:
    merged: list[list[float]] = []
    for t0, t1 in sorted(pieces):
        if merged and t0 <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], t1)
        else:
            merged.append([t0, t1])
    return [(a, b) for a, b in merged]


@dataclass
class Attendance:
    """One counter's (or agency's) days: seconds of opening hours, open and staffed, per opening day."""

    name: str
    agency: str
    code: str = ""  # the counter's id; "" for an agency
    opening: dict[date, float] = field(default_factory=dict)
    open_s: dict[date, float] = field(default_factory=dict)
    staffed: dict[date, float] = field(default_factory=dict)
    counters: int = 1

    def empty_days(self) -> list[date]:
        return [d for d in sorted(self.opening) if self.staffed.get(d, 0.0) <= 0]

    def empty_runs(self, least: int) -> list[list[date]]:
        """Runs of `least` or more consecutive opening days with nobody signed in."""
        runs: list[list[date]] = []
        current: list[date] = []
        for d in sorted(self.opening):
            if self.staffed.get(d, 0.0) <= 0:
                current.append(d)
            else:
                current = []
                continue
            if len(current) == 1:
                runs.append(current)
        return [r for r in runs if len(r) >= least]

    def row(self, least: int, name: str = "", language: str = "id") -> list[Any]:
        opening = sum(self.opening.values()) / 3600
        runs = self.empty_runs(least)
        longest = max((len(r) for r in self.empty_runs(1)), default=0)
        return [name or self.name, self.agency, len(self.opening), Fixed(opening, 1),
                Fixed(sum(self.open_s.values()) / 3600, 1),
                Fixed(sum(self.staffed.values()) / 3600, 1), share(sum(self.staffed.values()) / 3600, opening),
                len(self.empty_days()), longest, tr("report.staffing.empty", language) if runs else ""]


def _day_of(piece: Span, log: EventLog) -> date:
    return datetime.fromtimestamp(piece[0], log.zone).date()


def attendance(log: EventLog, period: Period, closed: Closed | None = None,
               language: str = "id") -> tuple[list[Attendance], list[Attendance]]:
    """Per counter and per agency (the union of its counters), opening, open and staffed seconds by day."""
    config = log.config
    closed = closed or closed_days(config)
    opened, signed, _ = spans(log, period)
    days = period.days()
    per_counter: list[Attendance] = []
    per_agency: dict[str, Attendance] = {}
    agency_signed: dict[str, list[Span]] = defaultdict(list)
    agency_open: dict[str, list[Span]] = defaultdict(list)
    for cid, counter in config.counters.items():
        agency = config.agencies.get(counter.agency)
        if agency is None:
            continue
        codes = [s for s in counter.services if s in config.services] or [counter.agency]
        ranges = {d: opening_ranges(log, agency.schedule, d) for d in days
                  if agency.schedule.hours_on(d.weekday()) and not all(closed(c, d) for c in codes)}
        a = Attendance(tr("report.counter", language, counter=cid), agency_name(config, counter.agency), cid)
        by_day_open: dict[date, list[Span]] = defaultdict(list)
        by_day_signed: dict[date, list[Span]] = defaultdict(list)
        for piece in opened.get(cid, []):
            by_day_open[_day_of(piece, log)].append(piece)
        for piece in signed.get(cid, []):
            by_day_signed[_day_of(piece, log)].append(piece)
        for d, r in ranges.items():
            a.opening[d] = sum(e - s for s, e in r)
            a.open_s[d] = _overlap(_union(by_day_open.get(d, [])), r)
            a.staffed[d] = _overlap(_union(by_day_signed.get(d, [])), r)
        per_counter.append(a)
        whole = per_agency.setdefault(counter.agency, Attendance(a.agency, config.agencies[counter.agency].kind,
                                                                 counters=0))
        whole.counters += 1
        for d in ranges:
            whole.opening[d] = max(whole.opening.get(d, 0.0), a.opening[d])
        agency_signed[counter.agency] += signed.get(cid, [])
        agency_open[counter.agency] += opened.get(cid, [])
    for aid, whole in per_agency.items():
        schedule = config.agencies[aid].schedule
        staffed: dict[date, list[Span]] = defaultdict(list)
        opens: dict[date, list[Span]] = defaultdict(list)
        for piece in agency_signed[aid]:
            staffed[_day_of(piece, log)].append(piece)
        for piece in agency_open[aid]:
            opens[_day_of(piece, log)].append(piece)
        for d in whole.opening:
            r = opening_ranges(log, schedule, d)
            whole.staffed[d] = _overlap(_union(staffed.get(d, [])), r)
            whole.open_s[d] = _overlap(_union(opens.get(d, [])), r)
    return per_counter, list(per_agency.values())


_COLUMNS = ("col.service_days", "staffing.opening_hours", "staffing.open_hours", "staffing.staffed_hours",
            "staffing.staffed_share", "staffing.empty_days", "staffing.longest", "staffing.flag")


def staffing(logs: list[EventLog], period: Period, empty_days: int = EMPTY_DAYS,
             closed: Closed | None = None, language: str = "id") -> Report:
    """Hours open and hours an officer was signed in against the agency's opening hours, per counter and
    per agency; days nobody came; counters empty for `empty_days` opening days in a row. With several
    sites, one row per site."""
    side_by_side(logs)
    t = words(language)

    def number(value: Any) -> str:
        return fmt.number(value, language=language)

    if empty_days < 1:
        from broker.reports.build import ReportError

        raise ReportError("--empty-days paling sedikit 1.", "--empty-days must be 1 or more.")
    least = empty_days
    results = [(log, *attendance(log, period, closed, language)) for log in logs]
    runs: list[list[Any]] = []
    for log, counters, _ in results:
        for a in counters:
            for run in a.empty_runs(least):
                runs.append(([log.name] if len(logs) > 1 else []) + [a.name, a.agency, len(run), run[0], run[-1]])
    empty_table = Table(t("staffing.empty_table", least=least),
                        ([t("col.site")] if len(logs) > 1 else []) + [
                            t("col.counter"), t("col.agency"), t("staffing.in_a_row"), t("staffing.from"),
                            t("staffing.to")], runs)
    notes: list[str] = []
    summary: dict[str, Any] = {"kind": "staffing", "empty_days": least, "from": str(period.first),
                               "to": str(period.last)}
    if len(logs) > 1:
        rows: list[list[Any]] = []
        for log, counters, _ in results:
            opening = sum(sum(a.opening.values()) for a in counters) / 3600
            staffed = sum(sum(a.staffed.values()) for a in counters) / 3600
            rows.append([log.name, len(counters), Fixed(opening, 1),
                         Fixed(sum(sum(a.open_s.values()) for a in counters) / 3600, 1), Fixed(staffed, 1),
                         share(staffed, opening), sum(len(a.empty_days()) for a in counters),
                         sum(1 for a in counters if a.empty_runs(least))])
        chart = Chart(t("staffing.sites_chart"), [r[0] for r in rows],
                      {t("staffing.staffed"): [r[5] or 0 for r in rows]}, unit="%", horizontal=True)
        lowest = min(rows, key=lambda r: r[5] if r[5] is not None else 101)
        sentence = t("staffing.sites_sentence", during=_during(period, language), site=lowest[0],
                     share=number(lowest[5]), flagged=count(sum(r[7] for r in rows), "counters", language), least=least)
        return Report(t("staffing.sites_title"),
                      [t("col.site"), t("col.counters"), t("staffing.site_hours"), t("staffing.open_hours"),
                       t("staffing.staffed_hours"), t("staffing.staffed_share"), t("staffing.empty_counter_days"),
                       t("staffing.empty_counters", least=least)],
                      rows, subtitle=_subtitle(period, language), notes=notes, charts=[chart],
                      site=_sites(logs, language), sentence=sentence, table_title=t("per", what=t("by.site")),
                      summary=summary, tables=[empty_table] if runs else [], language=language)
    log, counters, agencies = results[0]
    counter_rows: list[list[Any]] = [a.row(least, a.code, language) for a in counters]
    agency_rows: list[list[Any]] = [[a.name, a.counters] + a.row(least, language=language)[2:]
                                    for a in sorted(agencies, key=lambda a: a.name)]
    opening = sum(sum(a.opening.values()) for a in counters) / 3600
    staffed = sum(sum(a.staffed.values()) for a in counters) / 3600
    flagged = sum(1 for r in counter_rows if r[-1])
    summary |= {"opening_hours": round(opening, 1), "staffed_hours": round(staffed, 1),
                "staffed_share": share(staffed, opening), "empty_counters": flagged}
    chart = Chart(t("staffing.chart"), [r[0] for r in agency_rows],
                  {t("staffing.staffed"): [r[6] or 0 for r in agency_rows]}, unit="%", horizontal=True)
    sentence = t("staffing.sentence", during=_during(period, language), staffed=number(Fixed(staffed, 1)),
                 opening=number(Fixed(opening, 1)), share=number(share(staffed, opening)), flagged=number(flagged),
                 counters=number(len(counter_rows)), least=least)
    columns = [t(c) for c in _COLUMNS]
    return Report(t("staffing.title"), [t("col.counter"), t("col.agency")] + columns, counter_rows,
                  subtitle=_subtitle(period, language), notes=notes, charts=[chart], summary=summary, site=log.name,
                  sentence=sentence, table_title=t("per", what=t("by.counter")),
                  tables=[Table(t("staffing.per_agency"), [t("col.agency"), t("col.counters")] + columns,
                                agency_rows)] + ([empty_table] if runs else []), language=language)


# ---------------------------------------------------------------------- per officer


def officers(logs: list[EventLog], period: Period, language: str = "id") -> Report:
    """Per officer: hours signed in, days at work, tickets served, average and median service time,
    no-shows called. A ticket counts for the officer signed in at its counter when it happened."""
    side_by_side(logs)
    t = words(language)
    rows: list[list[Any]] = []
    for log in logs:
        rows += _officer_rows(log, period, prefix=len(logs) > 1, language=language)
    columns = ([t("col.site")] if len(logs) > 1 else []) + [
        t("officers.officer"), t("officers.name"), t("col.counter"), t("officers.days"), t("officers.hours"),
        t("officers.served"), t("officers.service_mean"), t("officers.service_median"), t("officers.no_shows")]
    skip = 1 if len(logs) > 1 else 0
    shown = [r for r in rows if r[skip] != "-"]
    chart = Chart(t("officers.chart"), [f"{r[skip + 1] or r[skip]}"[:30] for r in shown],
                  {t("officers.series"): [r[skip + 5] for r in shown]}, horizontal=True)
    served = sum(r[skip + 5] for r in rows)
    named = [r for r in rows if r[skip] != "-"]
    sentence = t("officers.sentence", during=_during(period, language), officers=count(len(named), "officers", language),
                 served=fmt.number(sum(r[skip + 5] for r in named), language=language),
                 finished=fmt.number(served, language=language))
    return Report(t("officers.title"), columns, rows, subtitle=_subtitle(period, language),
                  charts=[chart] if shown else [], site=_sites(logs, language), sentence=sentence,
                  table_title=t("officers.per"),
                  summary={"kind": "officers", "from": str(period.first), "to": str(period.last)},
                  notes=[t("officers.nobody_note")] if len(rows) > len(named) else [], language=language)


def _officer_rows(log: EventLog, period: Period, prefix: bool, language: str = "id") -> list[list[Any]]:
    start, end = log.bounds(period)
    _, _, by_officer = spans(log, period)
    rows = log.query(f"SELECT type, ts, {_field('counter')}, coalesce({_field('officer')}, ''), "
                     f"coalesce({_field('name')}, ''), {_field('ticket')} FROM events "
                     "WHERE type IN (?, ?, ?, ?, ?, ?) AND ts >= ? AND ts < ? ORDER BY seq",
                     (str(E.DAY_STARTED), str(E.OFFICER_SIGNED_IN), str(E.OFFICER_SIGNED_OUT),
                      str(E.TICKET_CALLED), str(E.TICKET_FINISHED), str(E.TICKET_NO_SHOW), start, end))
    at_counter: dict[str, str] = {}
    names: dict[str, str] = {oid: o.name for oid, o in log.config.officers.items()}
    called: dict[str, float] = {}
    served: dict[str, list[float]] = defaultdict(list)
    finished: dict[str, int] = defaultdict(int)
    no_shows: dict[str, int] = defaultdict(int)
    counters: dict[str, set[str]] = defaultdict(set)
    for kind, ts, counter, officer, name, ticket in rows:
        if kind == E.DAY_STARTED:
            at_counter.clear()
            called.clear()
        elif kind == E.OFFICER_SIGNED_IN:
            at_counter[counter] = officer
            names[officer] = name or names.get(officer, "")
            counters[officer].add(counter)
        elif kind == E.OFFICER_SIGNED_OUT:
            if at_counter.get(counter) == officer:
                del at_counter[counter]
        elif kind == E.TICKET_CALLED:
            called[ticket] = ts
        elif kind == E.TICKET_FINISHED:
            who = at_counter.get(counter, "-")
            finished[who] += 1
            counters[who].add(counter)
            if ticket in called:
                served[who].append(ts - called.pop(ticket))
        else:
            no_shows[at_counter.get(counter, "-")] += 1
    everyone = sorted(set(by_officer) | set(finished) | set(no_shows), key=lambda o: (o == "-", o))
    out = []
    for oid in everyone:
        pieces = [p for p, _ in by_officer.get(oid, [])]
        times_s = served.get(oid, [])
        row = [oid, names.get(oid, "") if oid != "-" else tr("report.officers.nobody", language),
               ", ".join(sorted(counters.get(oid, set()))),
               len({_day_of(p, log) for p in pieces}), Fixed(sum(b - a for a, b in pieces) / 3600, 1),
               finished.get(oid, 0), Fixed(statistics.fmean(times_s) / 60, 1) if times_s else None,
               Fixed(statistics.median(times_s) / 60, 1) if times_s else None, no_shows.get(oid, 0)]
        out.append(([log.name] if prefix else []) + row)
    return out
