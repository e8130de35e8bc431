"""The admin's reports, read straight from one or more data folders' event logs.

The log is opened read-only (it works while the engine runs, and while it is stopped)
and the heavy lifting is SQL aggregation over the `events_by_type`/`events_by_ts`
indexes, so a year of a busy MPP (300,000 tickets) comes back in seconds. Each kind
fills a `Report` (broker/reports/render.py); nothing here prints or writes files.

Visitors are tickets issued, counted for the agency and service that issued them, so
every breakdown adds up to the tickets issued. Days and hours are the site's local ones.

Every kind takes several logs (one per MPP) and then compares them side by side, one row
or column per site; none of them silently reads only the first.

Every kind also takes a `language` ("id", the default, or "en"): each word it writes (title,
column headers, chart titles and keys, the summary sentence, notes) is looked up in the one text
table (the `report.*` keys of broker/core/texts.py) and the `Report` carries the language, so its
numbers and dates are printed in it. The summary's JSON keys are the same in both languages.
"""

from __future__ import annotations

import re
import sqlite3
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from broker.core.events import EventType as E
from broker.core.ikm import ELEMENTS, from_sums, krejcie_morgan
from broker.core.stats import percentile
from broker.protocol.texts import has, tr
from broker.reports import fmt
from broker.reports.fmt import Fixed, fixed
from broker.reports.render import Chart, Report, Table
from broker.site.config import SiteConfig

DIMENSIONS = ("agency", "kind", "service", "day", "week", "month", "site")
TIME_DIMENSIONS = ("day", "week", "month")
VISITOR_GROUPS = DIMENSIONS
IKM_GROUPS = ("site", "agency", "service", "counter")
KINDS = ("visitors", "times", "noshows", "staffing", "officers", "ikm", "turned-away")


def words(language: str) -> Callable[..., str]:
    """The report's words in `language`: `t("visitors.per", what=...)` is `tr("report.visitors.per", ...)`."""

    def t(key: str, **params: Any) -> str:
        return tr(f"report.{key}", language, **params)

    return t


def count(n: int, noun: str, language: str = "id") -> str:
    """"5 pengunjung", in English "5 visitors" but "1 visitor": the `report.count.<noun>` text, or its `.one`."""
    key = f"report.count.{noun}"
    if n == 1 and has(f"{key}.one"):
        key += ".one"
    return tr(key, language, n=fmt.number(n, language=language))


class ReportError(Exception):
    """The data folder or the period cannot be reported on; the message says why (Indonesian, and
    English as `english` where it has been written)."""

    def __init__(self, text: str, english: str = ""):
        super().__init__(text)
        self.english = english


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive
    week_start: date | None = None  # weeks are "minggu ke-n" counted from this day; None: Monday weeks

    def label(self, language: str = "id") -> str:
        return fmt.period(self.first, self.last, language)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


class EventLog:
    """One data folder's SQLite log, read-only, with the site's local time.

    The config must be that folder's: a log written by another site is refused, not reported under
    the wrong name with the wrong agencies and hours."""

    def __init__(self, data_dir: str | Path, config: SiteConfig):
        path = Path(data_dir) / "antrian.sqlite3"
        self.folder = Path(data_dir)
        if not path.is_file():
            raise ReportError(f"{data_dir} tidak berisi log Antrian (antrian.sqlite3): beri folder --data milik "
                              "`antrian serve`.", f"{data_dir} has no Antrian log (antrian.sqlite3); give the --data "
                              "folder of `antrian serve`.")
        try:
            self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            row = self.db.execute("SELECT value FROM meta WHERE key = 'site'").fetchone()
        except sqlite3.Error as exc:
            raise ReportError(f"cannot read {path}: {exc}") from None
        self.site = row[0] if row else ""
        if self.site and self.site != config.site.id:
            self.db.close()
            raise ReportError(f"{data_dir} berisi log MPP '{self.site}', tetapi konfigurasinya "
                              f"({config.source or 'contoh bawaan'}) untuk MPP '{config.site.id}': beri setiap --data "
                              "satu --config miliknya, dengan urutan yang sama.",
                              f"{data_dir} holds the log of site '{self.site}', but its config "
                              f"({config.source or 'the sample'}) is site '{config.site.id}': give each --data "
                              "folder its own --config, in the same order.")
        self.config = config
        self.zone = ZoneInfo(config.site.timezone)
        self.name = config.site.name

    def bounds(self, period: Period) -> tuple[float, float]:
        start = datetime.combine(period.first, datetime.min.time(), self.zone).timestamp()
        end = datetime.combine(period.last + timedelta(days=1), datetime.min.time(), self.zone).timestamp()
        return start, end

    def offset_s(self, period: Period) -> int:
        """The zone's UTC offset (Indonesia keeps no summer time), for local dates in SQL."""
        moment = datetime.combine(period.first, datetime.min.time(), self.zone)
        offset = moment.utcoffset()
        return int(offset.total_seconds()) if offset is not None else 0

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple]:
        try:
            return self.db.execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as exc:
            raise ReportError(f"cannot read the log: {exc}") from None

    def close(self) -> None:
        self.db.close()


def _local_expr(group: str, offset: int) -> str:
    local = f"ts + {offset}, 'unixepoch'"
    return {"day": f"date({local})",
            "hour": f"CAST(strftime('%H', {local}) AS INTEGER)"}[group]


def _field(name: str) -> str:
    return f"json_extract(data, '$.{name}')"


def agency_name(config: SiteConfig, agency: str) -> str:
    found = config.agencies.get(agency)
    return found.short or found.name if found else agency


def service_name(config: SiteConfig, code: str) -> str:
    found = config.services.get(code)
    return f"{code} {found.name}" if found else code


def short_name(name: str) -> str:
    """"Mal Pelayanan Publik Kabupaten Kotawaringin Barat" -> "MPP Kab. Kotawaringin Barat": four of them
    side by side fit a table column and a chart label."""
    return re.sub(r"^Mal Pelayanan Publik\b", "MPP", name).replace("Kabupaten ", "Kab. ")


def side_by_side(logs: list[EventLog]) -> list[EventLog]:
    """Several sites are named short in their comparison; one keeps its full name."""
    if len(logs) > 1:
        for log in logs:
            log.name = short_name(log.config.site.name)
    return logs


def _sites(logs: list[EventLog], language: str = "id") -> str:
    return logs[0].name if len(logs) == 1 else tr("report.sites", language, n=len(logs),
                                                  names=", ".join(log.name for log in logs))


def _subtitle(period: Period, language: str = "id") -> str:
    return tr("report.period", language, period=period.label(language))


def _during(period: Period, language: str = "id") -> str:
    """"Selama 1 Maret 2026 - 31 Maret 2026" ("During ..."): how every summary sentence starts."""
    return tr("report.during", language, period=period.label(language))


def share(part: float, whole: float) -> Fixed | None:
    return Fixed(100 * part / whole, 1) if whole else None


# ---------------------------------------------------------------------- visitors


@dataclass(frozen=True)
class Key:
    """One value of a dimension: how it sorts and how it is printed in tables and under chart bars."""

    order: tuple
    label: Any  # a date for days and Monday weeks: people read "2 Maret 2026", CSV and JSON "2026-03-02"
    short: str = ""
    language: str = field(default="id", compare=False)

    @property
    def text(self) -> str:
        return fmt.day(self.label, self.language) if isinstance(self.label, date) else str(self.label)


def parse_by(by: str, allowed: Sequence[str] = DIMENSIONS) -> list[str]:
    parts = [p.strip() for p in (by or "agency").split(",") if p.strip()]
    wrong = [p for p in parts if p not in allowed]
    if wrong or not 1 <= len(parts) <= 2 or len(set(parts)) != len(parts):
        raise ReportError(f"--by berisi satu atau dua dari {', '.join(allowed)} dipisah koma (misalnya agency,week "
                          f"atau kind,month), bukan '{by}'.", f"--by takes one or two of {', '.join(allowed)} "
                          f"separated by a comma (such as agency,week or kind,month), not '{by}'.")
    return parts


def _week_key(day: date, period: Period, language: str = "id") -> Key:
    if period.week_start is not None:
        n = (day - period.week_start).days // 7 + 1
        return Key((n,), tr("report.week_n", language, n=n), str(n), language)
    monday = day - timedelta(days=day.weekday())
    return Key((monday,), monday, fmt.short_day(monday, language), language)


def _key(dim: str, log: EventLog, day: date, agency: str, service: str, period: Period,
         language: str = "id") -> Key:
    config = log.config
    if dim == "agency":
        name = agency_name(config, agency)
        return Key((name,), name)
    if dim == "kind":
        kind = config.agencies[agency].kind if agency in config.agencies else tr("report.other", language)
        return Key((kind,), kind)
    if dim == "service":
        return Key((service,), service_name(config, service))
    if dim == "day":
        return Key((day,), day, fmt.short_day(day, language), language)
    if dim == "week":
        return _week_key(day, period, language)
    if dim == "month":
        return Key((day.year, day.month), fmt.month(day.year, day.month, language),
                   fmt.short_month(day.year, day.month, language), language)
    return Key((log.name,), log.name)


def _issued(log: EventLog, period: Period) -> list[tuple[date, str, str, int]]:
    """Tickets issued per local day, agency and service: the few thousand rows every visitors table sums."""
    start, end = log.bounds(period)
    day = _local_expr("day", log.offset_s(period))
    return [(date.fromisoformat(d), a, s, n) for d, a, s, n in log.query(
        f"SELECT {day} AS d, {_field('agency')}, {_field('service')}, count(*) FROM events "
        "WHERE type = ? AND ts >= ? AND ts < ? GROUP BY 1, 2, 3", (str(E.TICKET_ISSUED), start, end))]


def _axis(dim: str, period: Period, language: str = "id") -> str:
    if dim == "week":
        return tr("report.axis.week_n" if period.week_start else "report.axis.week", language)
    return tr(f"report.axis.{dim}", language) if dim in ("day", "month") else ""


def visitors(logs: list[EventLog], period: Period, by: str = "agency", language: str = "id") -> Report:
    """Tickets issued per one dimension (a list with a total), or per two (a table with totals both ways:
    the first dimension down, the second across). With several sites a single dimension other than
    the site itself is shown per site, side by side."""
    side_by_side(logs)
    t = words(language)
    dims = parse_by(by)
    if period.week_start is not None and period.week_start > period.first:
        raise ReportError(f"--week-start {period.week_start} jatuh setelah --from {period.first}: minggu ke-1 harus "
                          "dimulai pada atau sebelum hari pertama laporan.",
                          f"--week-start {period.week_start} is after --from {period.first}: week 1 must start on "
                          "or before the report's first day.")
    if len(logs) > 1 and dims == ["site"]:
        return _visitors_by_site(logs, period, language)
    if len(logs) > 1 and "site" not in dims:
        if len(dims) == 2:
            raise ReportError(f"beberapa MPP dibandingkan dengan --by {dims[0]},site (atau site,{dims[0]}); "
                              f"--by {by} akan menjumlahkan angka mereka.", f"several MPPs are compared with --by "
                              f"{dims[0]},site (or site,{dims[0]}); --by {by} would add their figures together.")
        dims = [dims[0], "site"]
    counts: dict[tuple[Key, ...], int] = defaultdict(int)
    kinds: dict[Key, str] = {}
    days_open: set[tuple[str, date]] = set()
    for log in logs:
        for day, agency, service, n in _issued(log, period):
            days_open.add((log.name, day))
            keys = tuple(_key(d, log, day, agency, service, period, language) for d in dims)
            counts[keys] += n
            if dims[0] == "agency":
                kinds[keys[0]] = log.config.agencies[agency].kind if agency in log.config.agencies else ""
    total = sum(counts.values())
    summary: dict[str, Any] = {"kind": "visitors", "by": ",".join(dims), "total": total, "from": str(period.first),
                               "to": str(period.last), "sites": [log.name for log in logs]}
    by_word = [t(f"by.{d}") for d in dims]
    title = t("visitors.per", what=by_word[0]) if len(dims) == 1 else t("visitors.per_two", what=by_word[0],
                                                                         other=by_word[1])
    first_totals: dict[Key, int] = defaultdict(int)
    for keys, n in counts.items():
        first_totals[keys[0]] += n
    by_size = dims[0] not in TIME_DIMENSIONS

    def down_order(k: Key) -> tuple:
        return (-first_totals[k], k.order) if by_size else k.order

    down = sorted(first_totals, key=down_order)
    open_days = len({d for _, d in days_open})
    if len(dims) == 1:
        if dims[0] == "agency":
            columns = [t("col.agency"), t("col.kind_short"), t("col.visitors")]
            rows: list[list[Any]] = [[k.label, kinds.get(k, ""), first_totals[k]] for k in down]
        else:
            columns = [t(f"col.{dims[0]}"), t("col.visitors")]
            rows = [[k.label, first_totals[k]] for k in down]
        rows.append([t("total")] + [""] * (len(columns) - 2) + [total])
        chart = Chart(t("visitors.per", what=by_word[0]), [k.short or k.text for k in down],
                      {t("col.visitors"): [float(first_totals[k]) for k in down]}, horizontal=by_size,
                      axis=_axis(dims[0], period, language))
        report = Report(title, columns, rows, subtitle=_subtitle(period, language),
                        charts=[chart], summary=summary, site=_sites(logs, language), totals=1,
                        table_title=t("visitors.per", what=by_word[0]), language=language)
    else:
        across_totals: dict[Key, int] = defaultdict(int)
        cell: dict[tuple[Key, Key], int] = {}
        for (a, b), n in counts.items():
            across_totals[b] += n
            cell[(a, b)] = n
        across = sorted(across_totals, key=lambda k: k.order if dims[1] in TIME_DIMENSIONS or dims[1] == "site"
                        else (-across_totals[k], k.order))
        columns = ([f"{t(f'col.{dims[0]}')} \\ {t(f'col.{dims[1]}').lower()}"] + [k.text for k in across]
                   + [t("total")])
        rows = [[a.label] + [cell.get((a, b), 0) for b in across] + [first_totals[a]] for a in down]
        rows.append([t("total")] + [across_totals[b] for b in across] + [total])
        summary["table"] = {"down": [a.label for a in down], "across": [b.text for b in across],
                            "cells": [[cell.get((a, b), 0) for b in across] for a in down],
                            "down_totals": [first_totals[a] for a in down],
                            "across_totals": [across_totals[b] for b in across]}
        charts = []
        sides: list[tuple[list[Key], dict[Key, int], str]] = [(down, first_totals, dims[0]),
                                                              (across, across_totals, dims[1])]
        for side, totals_of, dim in sorted(sides, key=lambda c: c[2] not in TIME_DIMENSIONS):  # time first
            charts.append(Chart(t("visitors.per", what=t(f"by.{dim}")), [k.short or k.text for k in side],
                                {t("col.visitors"): [float(totals_of[k]) for k in side]},
                                horizontal=dim not in TIME_DIMENSIONS, axis=_axis(dim, period, language)))
        report = Report(title, columns, rows, subtitle=_subtitle(period, language), charts=charts,
                        summary=summary, site=_sites(logs, language), totals=1,
                        table_title=t("visitors.grid", what=by_word[0], other=by_word[1]), language=language)
    if "week" in dims and period.week_start is not None:
        report.notes.append(t("visitors.week_n_note", day=fmt.day(period.week_start, language)))
    elif "week" in dims:
        report.notes.append(t("visitors.week_note"))
    top = down[0] if down else None

    def number(value: Any) -> str:
        return fmt.number(value, language=language)

    who = logs[0].name if len(logs) == 1 else count(len(logs), "sites", language)
    sentence = t("visitors.received", during=_during(period, language), who=who,
                 visitors=count(total, "visitors", language))
    sentence += t("visitors.on_days", days=count(open_days, "service_days", language)) if open_days else ""
    if top is not None and by_size and total:
        sentence += t("visitors.most", top=top.text, visitors=count(first_totals[top], "visitors", language),
                      share=number(share(first_totals[top], total)))
    elif top is not None and total:
        busiest = max(down, key=lambda k: first_totals[k])
        sentence += t("visitors.busiest", top=busiest.text, visitors=count(first_totals[busiest], "visitors", language))
    report.sentence = sentence + "."
    return report


def _issued_days(log: EventLog, period: Period) -> list[tuple[str]]:
    start, end = log.bounds(period)
    return log.query(f"SELECT DISTINCT {_local_expr('day', log.offset_s(period))} FROM events "
                     "WHERE type = ? AND ts >= ? AND ts < ?", (str(E.TICKET_ISSUED), start, end))


def _visitors_by_site(logs: list[EventLog], period: Period, language: str = "id") -> Report:
    t = words(language)
    rows: list[list[Any]] = []
    for log in logs:
        start, end = log.bounds(period)
        issued = log.query("SELECT count(*) FROM events WHERE type = ? AND ts >= ? AND ts < ?",
                           (str(E.TICKET_ISSUED), start, end))[0][0]
        served = log.query("SELECT count(*) FROM events WHERE type = ? AND ts >= ? AND ts < ?",
                           (str(E.TICKET_FINISHED), start, end))[0][0]
        days = len(_issued_days(log, period))
        rows.append([log.name, issued, served, days, fixed(issued / days, 1) if days else None])
    rows.sort(key=lambda r: -r[1])
    total = sum(r[1] for r in rows)
    per_site = t("visitors.per", what=t("by.site"))
    chart = Chart(per_site, [r[0] for r in rows], {t("col.visitors"): [r[1] for r in rows]}, horizontal=True)
    rows.append([t("total"), total, sum(r[2] for r in rows), None, None])

    def number(value: Any) -> str:
        return fmt.number(value, language=language)

    sentence = t("visitors.sites_sentence", during=_during(period, language), sites=count(len(logs), "sites", language),
                 visitors=count(total, "visitors", language),
                 most=rows[0][0], most_n=number(rows[0][1]), least=rows[-2][0], least_n=number(rows[-2][1]))
    return Report(t("visitors.sites_title"), [t("col.site"), t("col.visitors"), t("col.served"),
                                              t("col.service_days"), t("col.per_service_day")],
                  rows, subtitle=_subtitle(period, language), charts=[chart], site=_sites(logs, language), totals=1,
                  sentence=sentence, table_title=per_site, language=language,
                  summary={"kind": "visitors", "by": "site", "total": total, "from": str(period.first),
                           "to": str(period.last), "sites": [log.name for log in logs]})


# ---------------------------------------------------------------------- waiting and service times


def _minutes(values: list[float]) -> list[Any]:
    if not values:
        return [None, None, None]
    return [Fixed(statistics.fmean(values) / 60, 1), Fixed(statistics.median(values) / 60, 1),
            Fixed(percentile(values, 0.9) / 60, 1)]


@dataclass
class Timings:
    waits: dict[str, list[float]]  # "S:code", "C:counter" and "all" -> seconds from issue to first call
    services: dict[str, list[float]]  # the same keys -> seconds from the last call to finish
    by_hour: dict[int, list[float]]


def timings(log: EventLog, period: Period) -> Timings:
    start, end = log.bounds(period)
    hour = _local_expr("hour", log.offset_s(period))
    rows = log.query(f"SELECT type, ts, ticket, {_field('service')}, {_field('counter')}, {_field('waited_s')}, "
                     f"{hour} FROM events WHERE type IN (?, ?) AND ts >= ? AND ts < ? ORDER BY seq",
                     (str(E.TICKET_CALLED), str(E.TICKET_FINISHED), start, end))
    called_at: dict[str, float] = {}
    found = Timings(defaultdict(list), defaultdict(list), defaultdict(list))
    for kind, ts, ticket, service, counter, waited, local_hour in rows:
        if kind == E.TICKET_CALLED:
            if ticket not in called_at and waited is not None:  # the first call ends the wait
                for key in (f"S:{service}", f"C:{counter}", "all"):
                    found.waits[key].append(waited)
                found.by_hour[local_hour].append(waited)
            called_at[ticket] = ts
        elif ticket in called_at:
            for key in (f"S:{service}", f"C:{counter}", "all"):
                found.services[key].append(ts - called_at[ticket])
    return found


_TIME_COLUMNS = ("called", "wait_mean", "wait_median", "wait_p90", "finished", "service_mean", "service_median",
                 "service_p90")


def times(logs: list[EventLog], period: Period, language: str = "id") -> Report:
    """Waiting (issue to first call) and service (last call to finish) per service and counter; per
    site when several are compared."""
    side_by_side(logs)
    t = words(language)
    columns = [t(f"times.{c}") for c in _TIME_COLUMNS]
    unit = t("times.unit")

    def number(value: Any) -> str:
        return fmt.number(value, language=language)

    if len(logs) > 1:
        rows = []
        for log in logs:
            got = timings(log, period)
            rows.append([log.name, len(got.waits.get("all", [])), *_minutes(got.waits.get("all", [])),
                         len(got.services.get("all", [])), *_minutes(got.services.get("all", []))])
        chart = Chart(t("times.sites_chart"), [r[0] for r in rows],
                      {t("times.waiting"): [r[2] or 0 for r in rows], t("times.served"): [r[6] or 0 for r in rows]},
                      unit=unit, horizontal=True)
        longest = max(rows, key=lambda r: r[2] or 0)
        sentence = t("times.sites_sentence", during=_during(period, language), site=longest[0],
                     minutes=number(longest[2])) if longest[2] is not None else ""
        return Report(t("times.sites_title"), [t("col.site")] + columns, rows,
                      subtitle=_subtitle(period, language), charts=[chart], site=_sites(logs, language),
                      sentence=sentence, table_title=t("times.sites_table"), summary={"kind": "times", "by": "site"},
                      language=language)
    log = logs[0]
    found = timings(log, period)
    config = log.config
    keys = [f"S:{c}" for c in config.services] + [f"C:{c}" for c in config.counters]
    keys += sorted((set(found.waits) | set(found.services)) - set(keys) - {"all"})
    by_service: list[list[Any]] = []
    by_counter: list[list[Any]] = []
    for key in keys:
        if key not in found.waits and key not in found.services:
            continue
        label = service_name(config, key[2:]) if key[0] == "S" else t("counter", counter=key[2:])
        row = [label, len(found.waits.get(key, [])), *_minutes(found.waits.get(key, [])),
               len(found.services.get(key, [])), *_minutes(found.services.get(key, []))]
        (by_service if key[0] == "S" else by_counter).append(row)
    everyone = [t("all"), len(found.waits.get("all", [])), *_minutes(found.waits.get("all", [])),
                len(found.services.get("all", [])), *_minutes(found.services.get("all", []))]
    hours = sorted(found.by_hour)
    chart = Chart(t("times.hour_chart"), [t("hour", hour=h) for h in hours],
                  {t("times.waiting"): [round(statistics.fmean(found.by_hour[h]) / 60, 1) for h in hours]},
                  unit=unit, axis=t("times.hour_axis"))
    sentence = ""
    if everyone[1]:
        sentence = t("times.sentence", during=_during(period, language), visitors=count(everyone[1], "visitors", language),
                     mean=number(everyone[2]), median=number(everyone[3]), p90=number(everyone[4]))
        if everyone[6] is not None:
            sentence += t("times.sentence_service", mean=number(everyone[6]))
        sentence += "."
    return Report(t("times.title"), [t("col.service")] + columns,
                  by_service + [everyone], subtitle=_subtitle(period, language), charts=[chart],
                  summary={"kind": "times"}, site=log.name, sentence=sentence, totals=1,
                  table_title=t("per", what=t("by.service")),
                  tables=[Table(t("per", what=t("by.counter")), [t("col.counter")] + columns, by_counter)],
                  notes=[t("times.p90_note")], language=language)


# ---------------------------------------------------------------------- no-shows and transfers


def _noshow_counts(log: EventLog, period: Period) -> dict[str, dict[str, int]]:
    start, end = log.bounds(period)
    counted: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for kind, key, n in log.query(
            f"SELECT type, coalesce({_field('service')}, {_field('from_service')}), count(*) FROM events "
            "WHERE type IN (?, ?, ?, ?, ?) AND ts >= ? AND ts < ? GROUP BY 1, 2",
            (str(E.TICKET_ISSUED), str(E.TICKET_FINISHED), str(E.TICKET_NO_SHOW), str(E.TICKET_TRANSFERRED),
             str(E.TICKET_REACTIVATED), start, end)):
        counted[key][kind] += n
    for key, n in log.query(f"SELECT {_field('to_service')}, count(*) FROM events WHERE type = ? AND ts >= ? "
                            "AND ts < ? GROUP BY 1", (str(E.TICKET_TRANSFERRED), start, end)):
        counted[key]["in"] += n
    return counted


_NOSHOW_COLUMNS = ("issued", "finished", "no_show", "reactivated", "out", "in", "share")


def _noshow_row(label: str, c: dict[str, int]) -> list[Any]:
    issued = c[E.TICKET_ISSUED]
    return [label, issued, c[E.TICKET_FINISHED], c[E.TICKET_NO_SHOW], c[E.TICKET_REACTIVATED],
            c[E.TICKET_TRANSFERRED], c["in"], share(c[E.TICKET_NO_SHOW], issued)]


def noshows(logs: list[EventLog], period: Period, language: str = "id") -> Report:
    side_by_side(logs)
    t = words(language)
    per_log = [(log, _noshow_counts(log, period)) for log in logs]
    rows: list[list[Any]] = []
    if len(logs) > 1:
        for log, counted in per_log:
            together: dict[str, int] = defaultdict(int)
            for c in counted.values():
                for k, n in c.items():
                    together[k] += n
            rows.append(_noshow_row(log.name, together))
        first = "site"
    else:
        log, counted = per_log[0]
        order = [c for c in log.config.services if c in counted] + sorted(set(counted) - set(log.config.services))
        rows = [_noshow_row(service_name(log.config, code), counted[code]) for code in order]
        first = "service"
    totals: list[Any] = [t("total")] + [sum(r[i] for r in rows) for i in range(1, 7)]
    totals.append(share(totals[3], totals[1]))
    shown = [r for r in rows if r[1]]
    chart = Chart(t("noshows.chart", what=t(f"by.{first}")), [r[0] for r in shown],
                  {t("noshows.share"): [r[7] or 0 for r in shown]}, unit="%", horizontal=True)
    sentence = ""
    if totals[1]:
        sentence = t("noshows.sentence", during=_during(period, language), n=fmt.number(totals[3], language=language),
                     issued=count(totals[1], "tickets", language), share=fmt.number(totals[7], language=language),
                     moved=count(totals[5], "tickets", language))
    return Report(t("noshows.title"), [t(f"col.{first}")] + [t(f"noshows.{c}") for c in _NOSHOW_COLUMNS],
                  rows + [totals], subtitle=_subtitle(period, language), summary={"kind": "noshows"},
                  charts=[chart] if shown else [], site=_sites(logs, language), sentence=sentence, totals=1,
                  table_title=t("per", what=t(f"by.{first}")), language=language)


# ---------------------------------------------------------------------- satisfaction (IKM)


def ikm_table(title: str, subtitle: str, groups: Sequence[tuple[str, int, list[int], int | None]],
              summary_extra: dict[str, Any] | None = None, site: str = "", language: str = "id") -> Report:
    """IKM rows from (group, respondents, sums per element, population or None); the first row is the total.

    Shared by `antrian report ikm` and `antrian ikm ANSWERS.csv`, so paper and tablet agree.
    """
    t = words(language)
    english = language == "en"

    def number(value: Any) -> str:
        return fmt.number(value, language=language)

    rows, notes = [], []
    for name, n, sums, population in groups:
        result = from_sums(n, sums)
        minimum = krejcie_morgan(population) if population is not None else None
        rows.append([name, n, population, minimum, fixed(float(result.ikm), 2) if result.ikm is not None else None,
                     result.grade, result.performance_en if english else result.performance]
                    + [Fixed(float(x), 3) if n else None for x in result.nrr])
        if minimum is not None and n < minimum:
            notes.append(t("ikm.short_sample", name=name, respondents=count(n, "respondents", language),
                           minimum=number(minimum), population=count(population or 0, "visitors", language)))
    total = from_sums(groups[0][1], groups[0][2]) if groups else from_sums(0, [0] * len(ELEMENTS))
    population = groups[0][3] if groups else None
    summary: dict[str, Any] = {"kind": "ikm", "ikm": float(total.ikm) if total.ikm is not None else None,
                               "grade": total.grade, "performance": total.performance,
                               "respondents": total.respondents, "elements": total.as_dict()["elements"]}
    if population is not None:
        summary |= {"population": population, "minimum_sample": krejcie_morgan(population),
                    "sample_sufficient": total.respondents >= krejcie_morgan(population)}
    chart = Chart(t("ikm.chart"), [f"{e.code} {e.name_en if english and e.name_en else e.name}"[:34] for e in ELEMENTS],
                  {t("ikm.element"): [el["ikm"] or 0 for el in summary["elements"]]}, horizontal=True)
    sentence = ""
    if total.ikm is not None:
        sentence = t("ikm.sentence", group=groups[0][0], ikm=number(Fixed(float(total.ikm), 2)), grade=total.grade,
                     performance=total.performance_en if english else total.performance,
                     respondents=count(total.respondents, "respondents", language))
    return Report(title, [t("ikm.group"), t("ikm.respondents"), t("ikm.population"), t("ikm.minimum"), "IKM",
                          t("ikm.grade"), t("ikm.performance")]
                  + [f"NRR {e.code}" for e in ELEMENTS], rows, subtitle=subtitle, notes=notes, charts=[chart],
                  summary=summary | (summary_extra or {}), sentence=sentence, site=site,
                  table_title=t("ikm.table"), language=language)


def _ikm_groups(log: EventLog, period: Period, by: str,
                language: str = "id") -> list[tuple[str, int, list[int], int | None]]:
    config = log.config
    start, end = log.bounds(period)
    key = _field(by) if by != "site" else "''"
    sums_sql = ", ".join(f"sum(json_extract(data, '$.answers[{i}]'))" for i in range(len(ELEMENTS)))
    answered = {k: (n, list(rest)) for k, n, *rest in log.query(
        f"SELECT {key} AS k, count(*), {sums_sql} FROM events WHERE type = ? AND ts >= ? AND ts < ? GROUP BY k",
        (str(E.SURVEY_ANSWERED), start, end))}
    served = dict(log.query(f"SELECT {key} AS k, count(*) FROM events WHERE type = ? AND ts >= ? AND ts < ? "
                            "GROUP BY k", (str(E.TICKET_FINISHED), start, end)))
    zero = [0] * len(ELEMENTS)
    total_n = sum(n for n, _ in answered.values())
    total_sums = [sum(s[i] or 0 for _, s in answered.values()) for i in range(len(ELEMENTS))]
    groups: list[tuple[str, int, list[int], int | None]] = [(tr("report.ikm.whole", language, site=log.name),
                                                             total_n, total_sums, sum(served.values()))]
    if by != "site":
        names: Callable[[str], str] = {"agency": lambda k: agency_name(config, k),
                                       "service": lambda k: service_name(config, k),
                                       "counter": lambda k: tr("report.counter", language, counter=k)}[by]
        for k in sorted(set(answered) | set(served), key=lambda k: str(k)):
            n, sums = answered.get(k, (0, zero))
            groups.append((names(k), n, [s or 0 for s in sums], served.get(k, 0)))
    return groups


def ikm(logs: list[EventLog], period: Period, by: str | None = None, language: str = "id") -> Report:
    """The index for the whole site, then per agency, service or counter, over the period; with several
    sites one row per site (IKM, grade, respondents, sample) and a chart comparing them."""
    side_by_side(logs)
    t = words(language)
    by = by or ("service" if len(logs) == 1 else "site")
    if by not in IKM_GROUPS:
        raise ReportError(f"--by untuk ikm adalah salah satu dari {', '.join(IKM_GROUPS)}, bukan '{by}'.",
                          f"--by must be one of {', '.join(IKM_GROUPS)} for ikm, not '{by}'.")
    extra = {"by": by, "from": str(period.first), "to": str(period.last), "sites": [log.name for log in logs]}
    if len(logs) == 1:
        return ikm_table(t("ikm.title"), _subtitle(period, language),
                         _ikm_groups(logs[0], period, by, language), extra, site=logs[0].name, language=language)
    if by != "site":
        raise ReportError("beberapa MPP dibandingkan dengan `report ikm --by site` (satu baris per MPP); untuk "
                          f"--by {by} beri satu folder --data saja.", "several MPPs are compared with `report ikm "
                          f"--by site` (one row per MPP); per {by} give one --data folder at a time.")
    sites = [_ikm_groups(log, period, "site", language)[0] for log in logs]
    together = (t("ikm.all_sites"), sum(g[1] for g in sites), [sum(g[2][i] for g in sites) for i in range(len(ELEMENTS))],
                sum(g[3] or 0 for g in sites))
    report = ikm_table(t("ikm.sites_title"), _subtitle(period, language),
                       [together] + [(log.name, n, sums, pop) for log, (_, n, sums, pop) in zip(logs, sites)],
                       extra, site=_sites(logs, language), language=language)
    report.rows = report.rows[1:] + report.rows[:1]  # the sites, then all of them together
    report.totals = 1
    report.summary["per_site"] = [{"site": r[0], "ikm": r[4], "grade": r[5], "respondents": r[1]}
                                  for r in report.rows[:-1]]
    scored = [r for r in report.rows[:-1] if r[4] is not None]
    report.charts = [Chart(t("ikm.per_site"), [r[0] for r in scored],
                           {"IKM": [float(r[4]) for r in scored]}, horizontal=True)]
    if scored:
        best = max(scored, key=lambda r: r[4])
        report.sentence = t("ikm.sites_sentence", during=_during(period, language), site=best[0],
                            ikm=fmt.number(best[4], language=language), grade=best[5],
                            respondents=count(best[1], "respondents", language), scored=len(scored),
                            sites=len(logs))
    return report


from broker.reports.staffing import officers, staffing  # noqa: E402  (it builds on EventLog and Period above)
from broker.reports.turned_away import turned_away  # noqa: E402  (the same)

BUILDERS: dict[str, Callable[..., Report]] = {"visitors": visitors, "times": times, "noshows": noshows,
                                              "staffing": staffing, "officers": officers, "ikm": ikm,
                                              "turned-away": turned_away}
