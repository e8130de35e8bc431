"""The admin's reports, read straight from one or more data folders' event logs.

The log is opened read-only (it works while the engine runs, and while it is stopped)
and the heavy lifting is SQL aggregation over the `events_by_type`/`events_by_ts`
indexes, so a year of a busy MPP (300,000 tickets) comes back in seconds. Each kind
fills a `Report` (broker/reports/render.py); nothing here prints or writes files.

Visitors are tickets issued, counted for the agency and service that issued them, so
every breakdown adds up to the tickets issued. Days and hours are the site's local ones.

Every kind takes several logs (one per MPP) and then compares them side by side, one row
or column per site; none of them silently reads only the first.
"""

from __future__ import annotations

import re
import sqlite3
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from broker.core.events import EventType as E
from broker.core.ikm import ELEMENTS, from_sums, krejcie_morgan
from broker.core.stats import percentile
from broker.reports import fmt
from broker.reports.fmt import Fixed, fixed
from broker.reports.render import Chart, Report, Table
from broker.site.config import SiteConfig

DIMENSIONS = ("agency", "kind", "service", "day", "week", "month", "site")
TIME_DIMENSIONS = ("day", "week", "month")
VISITOR_GROUPS = DIMENSIONS
IKM_GROUPS = ("site", "agency", "service", "counter")
KINDS = ("visitors", "times", "noshows", "staffing", "officers", "ikm", "turned-away")


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

    def label(self) -> str:
        return fmt.period(self.first, self.last)

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


def _sites(logs: list[EventLog]) -> str:
    return logs[0].name if len(logs) == 1 else f"{len(logs)} MPP: " + ", ".join(log.name for log in logs)


def _subtitle(period: Period) -> str:
    return f"Periode {period.label()}"


def share(part: float, whole: float) -> Fixed | None:
    return Fixed(100 * part / whole, 1) if whole else None


# ---------------------------------------------------------------------- visitors


@dataclass(frozen=True)
class Key:
    """One value of a dimension: how it sorts and how it is printed in tables and under chart bars."""

    order: tuple
    label: Any  # a date for days and Monday weeks: people read "2 Maret 2026", CSV and JSON "2026-03-02"
    short: str = ""

    @property
    def text(self) -> str:
        return fmt.day(self.label) if isinstance(self.label, date) else str(self.label)


def parse_by(by: str, allowed: Sequence[str] = DIMENSIONS) -> list[str]:
    parts = [p.strip() for p in (by or "agency").split(",") if p.strip()]
    wrong = [p for p in parts if p not in allowed]
    if wrong or not 1 <= len(parts) <= 2 or len(set(parts)) != len(parts):
        raise ReportError(f"--by berisi satu atau dua dari {', '.join(allowed)} dipisah koma (misalnya agency,week "
                          f"atau kind,month), bukan '{by}'.", f"--by takes one or two of {', '.join(allowed)} "
                          f"separated by a comma (such as agency,week or kind,month), not '{by}'.")
    return parts


def _week_key(day: date, period: Period) -> Key:
    if period.week_start is not None:
        n = (day - period.week_start).days // 7 + 1
        return Key((n,), f"Minggu ke-{n}", str(n))
    monday = day - timedelta(days=day.weekday())
    return Key((monday,), monday, fmt.short_day(monday))


def _key(dim: str, log: EventLog, day: date, agency: str, service: str, period: Period) -> Key:
    config = log.config
    if dim == "agency":
        name = agency_name(config, agency)
        return Key((name,), name)
    if dim == "kind":
        kind = config.agencies[agency].kind if agency in config.agencies else "lainnya"
        return Key((kind,), kind)
    if dim == "service":
        return Key((service,), service_name(config, service))
    if dim == "day":
        return Key((day,), day, fmt.short_day(day))
    if dim == "week":
        return _week_key(day, period)
    if dim == "month":
        return Key((day.year, day.month), fmt.month(day.year, day.month),
                   f"{fmt.MONTHS_ID[day.month - 1][:3]} {day.year}")
    return Key((log.name,), log.name)


def _issued(log: EventLog, period: Period) -> list[tuple[date, str, str, int]]:
    """Tickets issued per local day, agency and service: the few thousand rows every visitors table sums."""
    start, end = log.bounds(period)
    day = _local_expr("day", log.offset_s(period))
    return [(date.fromisoformat(d), a, s, n) for d, a, s, n in log.query(
        f"SELECT {day} AS d, {_field('agency')}, {_field('service')}, count(*) FROM events "
        "WHERE type = ? AND ts >= ? AND ts < ? GROUP BY 1, 2, 3", (str(E.TICKET_ISSUED), start, end))]


_BY_WORD = {"agency": "instansi", "kind": "jenis instansi", "service": "layanan", "day": "hari", "week": "minggu",
            "month": "bulan", "site": "MPP"}
_COLUMN = {"agency": "Instansi", "kind": "Jenis instansi", "service": "Layanan", "day": "Tanggal",
           "week": "Minggu", "month": "Bulan", "site": "MPP"}


def _axis(dim: str, period: Period) -> str:
    if dim == "week":
        return "minggu ke-" if period.week_start else "minggu, dimulai hari Senin"
    return {"day": "tanggal", "month": "bulan"}.get(dim, "")


def visitors(logs: list[EventLog], period: Period, by: str = "agency") -> Report:
    """Tickets issued per one dimension (a list with a total), or per two (a table with totals both ways:
    the first dimension down, the second across). With several sites a single dimension other than
    the site itself is shown per site, side by side."""
    side_by_side(logs)
    dims = parse_by(by)
    if period.week_start is not None and period.week_start > period.first:
        raise ReportError(f"--week-start {period.week_start} jatuh setelah --from {period.first}: minggu ke-1 harus "
                          "dimulai pada atau sebelum hari pertama laporan.",
                          f"--week-start {period.week_start} is after --from {period.first}: week 1 must start on "
                          "or before the report's first day.")
    if len(logs) > 1 and dims == ["site"]:
        return _visitors_by_site(logs, period)
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
            keys = tuple(_key(d, log, day, agency, service, period) for d in dims)
            counts[keys] += n
            if dims[0] == "agency":
                kinds[keys[0]] = log.config.agencies[agency].kind if agency in log.config.agencies else ""
    total = sum(counts.values())
    summary: dict[str, Any] = {"kind": "visitors", "by": ",".join(dims), "total": total, "from": str(period.first),
                               "to": str(period.last), "sites": [log.name for log in logs]}
    title = f"Pengunjung per {' dan per '.join(_BY_WORD[d] for d in dims)}"
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
            columns = ["Instansi", "Jenis", "Pengunjung"]
            rows: list[list[Any]] = [[k.label, kinds.get(k, ""), first_totals[k]] for k in down]
        else:
            columns = [_COLUMN[dims[0]], "Pengunjung"]
            rows = [[k.label, first_totals[k]] for k in down]
        rows.append(["Jumlah"] + [""] * (len(columns) - 2) + [total])
        chart = Chart(f"Pengunjung per {_BY_WORD[dims[0]]}", [k.short or k.text for k in down],
                      {"Pengunjung": [float(first_totals[k]) for k in down]}, horizontal=by_size,
                      axis=_axis(dims[0], period))
        report = Report(title, columns, rows, subtitle=_subtitle(period),
                        charts=[chart], summary=summary, site=_sites(logs), totals=1,
                        table_title=f"Pengunjung per {_BY_WORD[dims[0]]}")
    else:
        across_totals: dict[Key, int] = defaultdict(int)
        cell: dict[tuple[Key, Key], int] = {}
        for (a, b), n in counts.items():
            across_totals[b] += n
            cell[(a, b)] = n
        across = sorted(across_totals, key=lambda k: k.order if dims[1] in TIME_DIMENSIONS or dims[1] == "site"
                        else (-across_totals[k], k.order))
        columns = [f"{_COLUMN[dims[0]]} \\ {_COLUMN[dims[1]].lower()}"] + [k.text for k in across] + ["Jumlah"]
        rows = [[a.label] + [cell.get((a, b), 0) for b in across] + [first_totals[a]] for a in down]
        rows.append(["Jumlah"] + [across_totals[b] for b in across] + [total])
        summary["table"] = {"down": [a.label for a in down], "across": [b.text for b in across],
                            "cells": [[cell.get((a, b), 0) for b in across] for a in down],
                            "down_totals": [first_totals[a] for a in down],
                            "across_totals": [across_totals[b] for b in across]}
        charts = []
        sides: list[tuple[list[Key], dict[Key, int], str]] = [(down, first_totals, dims[0]),
                                                              (across, across_totals, dims[1])]
        for side, totals_of, dim in sorted(sides, key=lambda c: c[2] not in TIME_DIMENSIONS):  # time first
            charts.append(Chart(f"Pengunjung per {_BY_WORD[dim]}", [k.short or k.text for k in side],
                                {"Pengunjung": [float(totals_of[k]) for k in side]},
                                horizontal=dim not in TIME_DIMENSIONS, axis=_axis(dim, period)))
        report = Report(title, columns, rows, subtitle=_subtitle(period), charts=charts,
                        summary=summary, site=_sites(logs), totals=1,
                        table_title=f"Pengunjung: {_BY_WORD[dims[0]]} (ke bawah) per {_BY_WORD[dims[1]]} (ke kanan)")
    if "week" in dims and period.week_start is not None:
        report.notes.append(f"Minggu ke-1 dimulai {fmt.day(period.week_start)}; setiap minggu tujuh hari.")
    elif "week" in dims:
        report.notes.append("Minggu dihitung Senin sampai Minggu; tanggal adalah hari Senin awal minggu.")
    top = down[0] if down else None
    who = logs[0].name if len(logs) == 1 else f"{len(logs)} MPP"
    sentence = f"Selama {period.label()}, {who} menerima {fmt.number(total)} pengunjung"
    sentence += f" dalam {fmt.number(open_days)} hari layanan" if open_days else ""
    if top is not None and by_size and total:
        sentence += (f"; terbanyak {top.text} dengan {fmt.number(first_totals[top])} pengunjung "
                     f"({fmt.number(share(first_totals[top], total))}%)")
    elif top is not None and total:
        busiest = max(down, key=lambda k: first_totals[k])
        sentence += f"; tersibuk {busiest.text} dengan {fmt.number(first_totals[busiest])} pengunjung"
    report.sentence = sentence + "."
    return report


def _issued_days(log: EventLog, period: Period) -> list[tuple[str]]:
    start, end = log.bounds(period)
    return log.query(f"SELECT DISTINCT {_local_expr('day', log.offset_s(period))} FROM events "
                     "WHERE type = ? AND ts >= ? AND ts < ?", (str(E.TICKET_ISSUED), start, end))


def _visitors_by_site(logs: list[EventLog], period: Period) -> Report:
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
    chart = Chart("Pengunjung per MPP", [r[0] for r in rows], {"Pengunjung": [r[1] for r in rows]}, horizontal=True)
    rows.append(["Jumlah", total, sum(r[2] for r in rows), None, None])
    sentence = (f"Selama {period.label()}, {len(logs)} MPP menerima {fmt.number(total)} pengunjung; terbanyak "
                f"{rows[0][0]} ({fmt.number(rows[0][1])}), paling sedikit {rows[-2][0]} ({fmt.number(rows[-2][1])}).")
    return Report("Perbandingan pengunjung antar-MPP", ["MPP", "Pengunjung", "Dilayani", "Hari layanan",
                                                        "Rata-rata per hari layanan"],
                  rows, subtitle=_subtitle(period), charts=[chart], site=_sites(logs), totals=1, sentence=sentence,
                  table_title="Pengunjung per MPP",
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


_TIME_COLUMNS = ["Dipanggil", "Tunggu rata-rata (menit)", "Tunggu median", "Tunggu P90", "Selesai",
                 "Layanan rata-rata (menit)", "Layanan median", "Layanan P90"]


def times(logs: list[EventLog], period: Period) -> Report:
    """Waiting (issue to first call) and service (last call to finish) per service and counter; per
    site when several are compared."""
    side_by_side(logs)
    if len(logs) > 1:
        rows = []
        for log in logs:
            t = timings(log, period)
            rows.append([log.name, len(t.waits.get("all", [])), *_minutes(t.waits.get("all", [])),
                         len(t.services.get("all", [])), *_minutes(t.services.get("all", []))])
        chart = Chart("Rata-rata waktu tunggu per MPP (menit)", [r[0] for r in rows],
                      {"Menunggu": [r[2] or 0 for r in rows], "Dilayani": [r[6] or 0 for r in rows]},
                      unit=" menit", horizontal=True)
        longest = max(rows, key=lambda r: r[2] or 0)
        sentence = (f"Selama {period.label()}, rata-rata waktu tunggu terlama di {longest[0]} "
                    f"({fmt.number(longest[2])} menit).") if longest[2] is not None else ""
        return Report("Perbandingan waktu tunggu antar-MPP", ["MPP"] + _TIME_COLUMNS, rows,
                      subtitle=_subtitle(period), charts=[chart], site=_sites(logs), sentence=sentence,
                      table_title="Waktu tunggu dan layanan per MPP", summary={"kind": "times", "by": "site"})
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
        label = service_name(config, key[2:]) if key[0] == "S" else f"Loket {key[2:]}"
        row = [label, len(found.waits.get(key, [])), *_minutes(found.waits.get(key, [])),
               len(found.services.get(key, [])), *_minutes(found.services.get(key, []))]
        (by_service if key[0] == "S" else by_counter).append(row)
    everyone = ["Semua", len(found.waits.get("all", [])), *_minutes(found.waits.get("all", [])),
                len(found.services.get("all", [])), *_minutes(found.services.get("all", []))]
    hours = sorted(found.by_hour)
    chart = Chart("Rata-rata waktu tunggu per jam ambil nomor (menit)", [f"{h:02d}.00" for h in hours],
                  {"Menunggu": [round(statistics.fmean(found.by_hour[h]) / 60, 1) for h in hours]}, unit=" menit",
                  axis="jam ambil nomor")
    sentence = ""
    if everyone[1]:
        sentence = (f"Selama {period.label()}, {fmt.number(everyone[1])} pengunjung dipanggil setelah menunggu "
                    f"rata-rata {fmt.number(everyone[2])} menit (median {fmt.number(everyone[3])}, sembilan dari "
                    f"sepuluh paling lama {fmt.number(everyone[4])} menit)")
        if everyone[6] is not None:
            sentence += f"; layanan rata-rata {fmt.number(everyone[6])} menit"
        sentence += "."
    return Report("Waktu tunggu dan waktu layanan", ["Layanan"] + _TIME_COLUMNS,
                  by_service + [everyone], subtitle=_subtitle(period), charts=[chart], summary={"kind": "times"},
                  site=log.name, sentence=sentence, totals=1, table_title="Per layanan",
                  tables=[Table("Per loket", ["Loket"] + _TIME_COLUMNS, by_counter)],
                  notes=["P90: sembilan dari sepuluh pengunjung menunggu (atau dilayani) paling lama selama itu."])


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


_NOSHOW_COLUMNS = ["Diterbitkan", "Selesai", "Tidak hadir", "Diaktifkan lagi", "Dialihkan keluar",
                   "Dialihkan masuk", "% tidak hadir"]


def _noshow_row(label: str, c: dict[str, int]) -> list[Any]:
    issued = c[E.TICKET_ISSUED]
    return [label, issued, c[E.TICKET_FINISHED], c[E.TICKET_NO_SHOW], c[E.TICKET_REACTIVATED],
            c[E.TICKET_TRANSFERRED], c["in"], share(c[E.TICKET_NO_SHOW], issued)]


def noshows(logs: list[EventLog], period: Period) -> Report:
    side_by_side(logs)
    per_log = [(log, _noshow_counts(log, period)) for log in logs]
    rows: list[list[Any]] = []
    if len(logs) > 1:
        for log, counted in per_log:
            together: dict[str, int] = defaultdict(int)
            for c in counted.values():
                for k, n in c.items():
                    together[k] += n
            rows.append(_noshow_row(log.name, together))
        first = "MPP"
    else:
        log, counted = per_log[0]
        order = [c for c in log.config.services if c in counted] + sorted(set(counted) - set(log.config.services))
        rows = [_noshow_row(service_name(log.config, code), counted[code]) for code in order]
        first = "Layanan"
    totals: list[Any] = ["Jumlah"] + [sum(r[i] for r in rows) for i in range(1, 7)]
    totals.append(share(totals[3], totals[1]))
    shown = [r for r in rows if r[1]]
    chart = Chart(f"Tidak hadir per {'MPP' if len(logs) > 1 else 'layanan'} (% dari nomor diterbitkan)",
                  [r[0] for r in shown], {"% tidak hadir": [r[7] or 0 for r in shown]}, unit="%", horizontal=True)
    sentence = ""
    if totals[1]:
        sentence = (f"Selama {period.label()}, {fmt.number(totals[3])} dari {fmt.number(totals[1])} nomor "
                    f"({fmt.number(totals[7])}%) dipanggil tetapi pemiliknya tidak hadir; "
                    f"{fmt.number(totals[5])} nomor dialihkan ke layanan lain.")
    return Report("Tidak hadir dan pengalihan", [first] + _NOSHOW_COLUMNS, rows + [totals],
                  subtitle=_subtitle(period), summary={"kind": "noshows"}, charts=[chart] if shown else [],
                  site=_sites(logs), sentence=sentence, totals=1,
                  table_title=f"Per {'MPP' if len(logs) > 1 else 'layanan'}")


# ---------------------------------------------------------------------- satisfaction (IKM)


def ikm_table(title: str, subtitle: str, groups: Sequence[tuple[str, int, list[int], int | None]],
              summary_extra: dict[str, Any] | None = None, site: str = "") -> Report:
    """IKM rows from (group, respondents, sums per element, population or None); the first row is the total.

    Shared by `antrian report ikm` and `antrian ikm ANSWERS.csv`, so paper and tablet agree.
    """
    rows, notes = [], []
    for name, n, sums, population in groups:
        result = from_sums(n, sums)
        minimum = krejcie_morgan(population) if population is not None else None
        rows.append([name, n, population, minimum, fixed(float(result.ikm), 2) if result.ikm is not None else None,
                     result.grade, result.performance]
                    + [Fixed(float(x), 3) if n else None for x in result.nrr])
        if minimum is not None and n < minimum:
            notes.append(f"{name}: sampel kurang, {fmt.number(n)} responden dari minimal {fmt.number(minimum)} "
                         f"untuk {fmt.number(population)} pengunjung dilayani (Krejcie-Morgan)")
    total = from_sums(groups[0][1], groups[0][2]) if groups else from_sums(0, [0] * len(ELEMENTS))
    population = groups[0][3] if groups else None
    summary: dict[str, Any] = {"kind": "ikm", "ikm": float(total.ikm) if total.ikm is not None else None,
                               "grade": total.grade, "performance": total.performance,
                               "respondents": total.respondents, "elements": total.as_dict()["elements"]}
    if population is not None:
        summary |= {"population": population, "minimum_sample": krejcie_morgan(population),
                    "sample_sufficient": total.respondents >= krejcie_morgan(population)}
    chart = Chart("IKM per unsur pelayanan", [f"{e.code} {e.name}"[:34] for e in ELEMENTS],
                  {"IKM unsur": [el["ikm"] or 0 for el in summary["elements"]]}, horizontal=True)
    sentence = ""
    if total.ikm is not None:
        sentence = (f"{groups[0][0]}: IKM {fmt.number(Fixed(float(total.ikm), 2))}, mutu {total.grade} "
                    f"({total.performance}), dari {fmt.number(total.respondents)} responden.")
    return Report(title, ["Kelompok", "Responden", "Populasi", "Sampel minimal", "IKM", "Mutu", "Kinerja"]
                  + [f"NRR {e.code}" for e in ELEMENTS], rows, subtitle=subtitle, notes=notes, charts=[chart],
                  summary=summary | (summary_extra or {}), sentence=sentence, site=site,
                  table_title="IKM per kelompok (NRR: nilai rata-rata unsur)")


def _ikm_groups(log: EventLog, period: Period, by: str) -> list[tuple[str, int, list[int], int | None]]:
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
    groups: list[tuple[str, int, list[int], int | None]] = [(f"Seluruh {log.name}", total_n, total_sums,
                                                             sum(served.values()))]
    if by != "site":
        names: Callable[[str], str] = {"agency": lambda k: agency_name(config, k),
                                       "service": lambda k: service_name(config, k),
                                       "counter": lambda k: f"Loket {k}"}[by]
        for k in sorted(set(answered) | set(served), key=lambda k: str(k)):
            n, sums = answered.get(k, (0, zero))
            groups.append((names(k), n, [s or 0 for s in sums], served.get(k, 0)))
    return groups


def ikm(logs: list[EventLog], period: Period, by: str | None = None) -> Report:
    """The index for the whole site, then per agency, service or counter, over the period; with several
    sites one row per site (IKM, grade, respondents, sample) and a chart comparing them."""
    side_by_side(logs)
    by = by or ("service" if len(logs) == 1 else "site")
    if by not in IKM_GROUPS:
        raise ReportError(f"--by untuk ikm adalah salah satu dari {', '.join(IKM_GROUPS)}, bukan '{by}'.",
                          f"--by must be one of {', '.join(IKM_GROUPS)} for ikm, not '{by}'.")
    extra = {"by": by, "from": str(period.first), "to": str(period.last), "sites": [log.name for log in logs]}
    if len(logs) == 1:
        return ikm_table("Indeks Kepuasan Masyarakat", _subtitle(period),
                         _ikm_groups(logs[0], period, by), extra, site=logs[0].name)
    if by != "site":
        raise ReportError("beberapa MPP dibandingkan dengan `report ikm --by site` (satu baris per MPP); untuk "
                          f"--by {by} beri satu folder --data saja.", "several MPPs are compared with `report ikm "
                          f"--by site` (one row per MPP); per {by} give one --data folder at a time.")
    sites = [_ikm_groups(log, period, "site")[0] for log in logs]
    together = ("Semua MPP", sum(g[1] for g in sites), [sum(g[2][i] for g in sites) for i in range(len(ELEMENTS))],
                sum(g[3] or 0 for g in sites))
    report = ikm_table("Perbandingan Indeks Kepuasan Masyarakat antar-MPP", _subtitle(period),
                       [together] + [(log.name, n, sums, pop) for log, (_, n, sums, pop) in zip(logs, sites)],
                       extra, site=_sites(logs))
    report.rows = report.rows[1:] + report.rows[:1]  # the sites, then all of them together
    report.totals = 1
    report.summary["per_site"] = [{"site": r[0], "ikm": r[4], "grade": r[5], "respondents": r[1]}
                                  for r in report.rows[:-1]]
    scored = [r for r in report.rows[:-1] if r[4] is not None]
    report.charts = [Chart("IKM per MPP", [r[0] for r in scored], {"IKM": [float(r[4]) for r in scored]},
                           horizontal=True)]
    if scored:
        best = max(scored, key=lambda r: r[4])
        report.sentence = (f"Selama {period.label()}, IKM tertinggi {best[0]} ({fmt.number(best[4])}, mutu "
                           f"{best[5]}, {fmt.number(best[1])} responden); {len(scored)} dari {len(logs)} MPP "
                           "punya responden.")
    return report


from broker.reports.staffing import officers, staffing  # noqa: E402  (it builds on EventLog and Period above)
from broker.reports.turned_away import turned_away  # noqa: E402  (the same)

BUILDERS: dict[str, Callable[..., Report]] = {"visitors": visitors, "times": times, "noshows": noshows,
                                              "staffing": staffing, "officers": officers, "ikm": ikm,
                                              "turned-away": turned_away}
