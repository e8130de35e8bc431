"""The admin's reports, read straight from a data folder's event log.

The log is opened read-only (it works while the engine runs, and while it is stopped)
and the heavy lifting is SQL aggregation over the `events_by_type`/`events_by_ts`
indexes, so a year of a busy MPP (300,000 tickets) comes back in seconds. Each kind
fills a `Report` (broker/reports/render.py); nothing here prints or writes files.

Visitors are tickets issued, counted for the agency and service that issued them, so
every breakdown adds up to the tickets issued. Days and hours are the site's local ones.
"""

from __future__ import annotations

import sqlite3
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from broker.core.events import EventType as E
from broker.core.ikm import ELEMENTS, from_sums, krejcie_morgan
from broker.core.stats import percentile
from broker.reports.render import Chart, Report
from broker.site.config import SiteConfig

VISITOR_GROUPS = ("agency", "kind", "service", "day", "week", "month", "site")
IKM_GROUPS = ("site", "agency", "service", "counter")
KINDS = ("visitors", "times", "noshows", "staffing", "ikm")


class ReportError(Exception):
    """The data folder or the period cannot be reported on; the message says why."""


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # inclusive

    def label(self) -> str:
        return f"{self.first:%d/%m/%Y} - {self.last:%d/%m/%Y}"

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


class EventLog:
    """One data folder's SQLite log, read-only, with the site's local time."""

    def __init__(self, data_dir: str | Path, config: SiteConfig):
        path = Path(data_dir) / "antrian.sqlite3"
        if not path.is_file():
            raise ReportError(f"{data_dir} has no Antrian log (antrian.sqlite3); give the --data folder of "
                              "`antrian serve`")
        try:
            self.db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            row = self.db.execute("SELECT value FROM meta WHERE key = 'site'").fetchone()
        except sqlite3.Error as exc:
            raise ReportError(f"cannot read {path}: {exc}") from None
        self.site = row[0] if row else ""
        self.config = config
        self.zone = ZoneInfo(config.site.timezone)
        self.name = config.site.name if self.site in ("", config.site.id) else self.site

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
            "week": f"date({local}, 'weekday 0', '-6 days')",  # the Monday starting the week
            "month": f"strftime('%Y-%m', {local})",
            "hour": f"CAST(strftime('%H', {local}) AS INTEGER)"}[group]


def _field(name: str) -> str:
    return f"json_extract(data, '$.{name}')"


def _agency_name(config: SiteConfig, agency: str) -> str:
    found = config.agencies.get(agency)
    return found.short or found.name if found else agency


def _service_name(config: SiteConfig, code: str) -> str:
    found = config.services.get(code)
    return f"{code} {found.name}" if found else code


# ---------------------------------------------------------------------- visitors


def visitors(logs: list[EventLog], period: Period, by: str = "agency") -> Report:
    if by not in VISITOR_GROUPS:
        raise ReportError(f"--by must be one of {', '.join(VISITOR_GROUPS)}, not '{by}'")
    if by == "site":
        return _visitors_by_site(logs, period)
    log = logs[0]
    start, end = log.bounds(period)
    offset = log.offset_s(period)
    config = log.config
    where = "FROM events WHERE type = ? AND ts >= ? AND ts < ?"
    params = (str(E.TICKET_ISSUED), start, end)
    if by in ("day", "week", "month"):
        key = _local_expr(by, offset)
        rows = [[k, n] for k, n in log.query(f"SELECT {key} AS k, count(*) {where} GROUP BY k ORDER BY k", params)]
        columns = [{"day": "Tanggal", "week": "Minggu (mulai Senin)", "month": "Bulan"}[by], "Pengunjung"]
    else:
        field_name = "service" if by == "service" else "agency"
        counted = log.query(f"SELECT {_field(field_name)} AS k, count(*) {where} GROUP BY k", params)
        if by == "service":
            rows = [[_service_name(config, k), n] for k, n in sorted(counted, key=lambda r: (-r[1], r[0] or ""))]
            columns = ["Layanan", "Pengunjung"]
        elif by == "agency":
            rows = [[_agency_name(config, k), config.agencies[k].kind if k in config.agencies else "", n]
                    for k, n in sorted(counted, key=lambda r: (-r[1], r[0] or ""))]
            columns = ["Instansi", "Jenis", "Pengunjung"]
        else:
            kinds: dict[str, int] = defaultdict(int)
            for k, n in counted:
                kinds[config.agencies[k].kind if k in config.agencies else "lainnya"] += n
            rows = [[kind, n] for kind, n in sorted(kinds.items(), key=lambda kv: -kv[1])]
            columns = ["Jenis instansi", "Pengunjung"]
    total = sum(r[-1] for r in rows)
    report = Report(f"Pengunjung per {_BY_WORD[by]} - {log.name}", columns, rows + [["Jumlah"] +
                    [""] * (len(columns) - 2) + [total]], subtitle=f"Periode {period.label()}",
                    summary={"kind": "visitors", "by": by, "total": total, "from": str(period.first),
                             "to": str(period.last)})
    report.charts.append(_weekly_by_agency(log, period))
    return report


_BY_WORD = {"agency": "instansi", "kind": "jenis instansi", "service": "layanan", "day": "hari", "week": "minggu",
            "month": "bulan", "site": "MPP"}


def _weekly_by_agency(log: EventLog, period: Period) -> Chart:
    start, end = log.bounds(period)
    week = _local_expr("week", log.offset_s(period))
    counted = log.query(f"SELECT {week} AS w, {_field('agency')} AS a, count(*) FROM events "
                        "WHERE type = ? AND ts >= ? AND ts < ? GROUP BY w, a", (str(E.TICKET_ISSUED), start, end))
    weeks = sorted({w for w, _, _ in counted})
    totals: dict[str, int] = defaultdict(int)
    for _, a, n in counted:
        totals[a] += n
    top = sorted(totals, key=lambda a: -totals[a])[:9]  # nine agencies and the rest keep the chart readable
    series: dict[str, list[float]] = {_agency_name(log.config, a): [0.0] * len(weeks) for a in top}
    if len(totals) > len(top):
        series["lainnya"] = [0.0] * len(weeks)
    for w, a, n in counted:
        name = _agency_name(log.config, a) if a in top else "lainnya"
        series[name][weeks.index(w)] += n
    return Chart("Pengunjung per minggu per instansi", weeks, series)


def _visitors_by_site(logs: list[EventLog], period: Period) -> Report:
    rows: list[list[Any]] = []
    for log in logs:
        start, end = log.bounds(period)
        issued = log.query("SELECT count(*) FROM events WHERE type = ? AND ts >= ? AND ts < ?",
                           (str(E.TICKET_ISSUED), start, end))[0][0]
        served = log.query("SELECT count(*) FROM events WHERE type = ? AND ts >= ? AND ts < ?",
                           (str(E.TICKET_FINISHED), start, end))[0][0]
        days = log.query(f"SELECT count(DISTINCT {_local_expr('day', log.offset_s(period))}) FROM events "
                         "WHERE type = ? AND ts >= ? AND ts < ?", (str(E.TICKET_ISSUED), start, end))[0][0]
        rows.append([log.name, issued, served, round(issued / days, 1) if days else 0.0])
    rows.sort(key=lambda r: -r[1])
    chart = Chart("Pengunjung per MPP", [r[0] for r in rows], {"Pengunjung": [r[1] for r in rows]})
    return Report("Perbandingan pengunjung antar-MPP", ["MPP", "Pengunjung", "Dilayani", "Rata-rata per hari buka"],
                  rows, subtitle=f"Periode {period.label()}", charts=[chart],
                  summary={"kind": "visitors", "by": "site", "total": sum(r[1] for r in rows)})


# ---------------------------------------------------------------------- waiting and service times


def _minutes(values: list[float]) -> list[Any]:
    if not values:
        return [None, None, None]
    return [round(statistics.fmean(values) / 60, 2), round(statistics.median(values) / 60, 2),
            round(percentile(values, 0.9) / 60, 2)]


def times(logs: list[EventLog], period: Period) -> Report:
    """Waiting (issue to first call) and service (last call to finish) per service and counter."""
    log = logs[0]
    start, end = log.bounds(period)
    hour = _local_expr("hour", log.offset_s(period))
    rows = log.query(f"SELECT type, ts, ticket, {_field('service')}, {_field('counter')}, {_field('waited_s')}, "
                     f"{hour} FROM events WHERE type IN (?, ?) AND ts >= ? AND ts < ? ORDER BY seq",
                     (str(E.TICKET_CALLED), str(E.TICKET_FINISHED), start, end))
    called_at: dict[str, float] = {}
    waits: dict[str, list[float]] = defaultdict(list)
    services: dict[str, list[float]] = defaultdict(list)
    by_hour: dict[int, list[float]] = defaultdict(list)
    for kind, ts, ticket, service, counter, waited, local_hour in rows:
        if kind == E.TICKET_CALLED:
            if ticket not in called_at and waited is not None:  # the first call ends the wait
                for key in (f"S:{service}", f"C:{counter}"):
                    waits[key].append(waited)
                by_hour[local_hour].append(waited)
            called_at[ticket] = ts
        elif ticket in called_at:
            for key in (f"S:{service}", f"C:{counter}"):
                services[key].append(ts - called_at[ticket])
    config = log.config
    keys = [f"S:{c}" for c in config.services] + [f"C:{c}" for c in config.counters]
    keys += sorted((set(waits) | set(services)) - set(keys))
    table: list[list[Any]] = []
    for key in keys:
        if key not in waits and key not in services:
            continue
        label = _service_name(config, key[2:]) if key[0] == "S" else f"Loket {key[2:]}"
        table.append([("Layanan " if key[0] == "S" else "") + label, len(waits.get(key, [])),
                      *_minutes(waits.get(key, [])), len(services.get(key, [])), *_minutes(services.get(key, []))])
    hours = sorted(by_hour)
    chart = Chart("Rata-rata waktu tunggu per jam (menit)", [f"{h:02d}.00" for h in hours],
                  {"Menunggu": [round(statistics.fmean(by_hour[h]) / 60, 2) for h in hours]}, unit=" menit")
    return Report(f"Waktu tunggu dan waktu layanan - {log.name}",
                  ["Kelompok", "Dipanggil", "Tunggu rata-rata (mnt)", "Tunggu median", "Tunggu P90",
                   "Selesai", "Layanan rata-rata (mnt)", "Layanan median", "Layanan P90"],
                  table, subtitle=f"Periode {period.label()}", charts=[chart], summary={"kind": "times"})


# ---------------------------------------------------------------------- no-shows and transfers


def noshows(logs: list[EventLog], period: Period) -> Report:
    log = logs[0]
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
    order = [c for c in log.config.services if c in counted] + sorted(set(counted) - set(log.config.services))
    rows: list[list[Any]] = []
    for code in order:
        c = counted[code]
        issued = c[E.TICKET_ISSUED]
        rows.append([_service_name(log.config, code), issued, c[E.TICKET_FINISHED], c[E.TICKET_NO_SHOW],
                     c[E.TICKET_REACTIVATED], c[E.TICKET_TRANSFERRED], c["in"],
                     round(100 * c[E.TICKET_NO_SHOW] / issued, 1) if issued else None])
    totals: list[Any] = ["Jumlah"] + [sum(r[i] for r in rows) for i in range(1, 7)]
    totals.append(round(100 * totals[3] / totals[1], 1) if totals[1] else None)
    return Report(f"Tidak hadir dan pengalihan - {log.name}",
                  ["Layanan", "Diterbitkan", "Selesai", "Tidak hadir", "Diaktifkan lagi", "Dialihkan keluar",
                   "Dialihkan masuk", "% tidak hadir"], rows + [totals], subtitle=f"Periode {period.label()}",
                  summary={"kind": "noshows"})


# ---------------------------------------------------------------------- staffing


def _intervals(rows: list[tuple], start_types: set[str], is_start, is_end) -> dict[str, list[tuple[float, float]]]:
    """Per counter, the (from, to) spans between a start event and the next end event (or day start)."""
    spans: dict[str, list[tuple[float, float]]] = defaultdict(list)
    since: dict[str, float] = {}
    for kind, ts, counter, value in rows:
        if kind == E.DAY_STARTED:  # a new day closes every counter and signs everyone out
            for cid, t0 in since.items():
                spans[cid].append((t0, ts))
            since.clear()
            continue
        if is_start(kind, value) and counter not in since:
            since[counter] = ts
        elif is_end(kind, value) and counter in since:
            spans[counter].append((since.pop(counter), ts))
    for cid, t0 in since.items():
        spans[cid].append((t0, rows[-1][1] if rows else t0))
    return spans


def staffing(logs: list[EventLog], period: Period) -> Report:
    """Hours with an officer signed in and hours open, against the agency's opening hours; empty days."""
    log = logs[0]
    config = log.config
    start, end = log.bounds(period)
    rows = log.query(f"SELECT type, ts, {_field('counter')}, coalesce({_field('status')}, '') FROM events "
                     "WHERE type IN (?, ?, ?, ?) AND ts >= ? AND ts < ? ORDER BY seq",
                     (str(E.DAY_STARTED), str(E.OFFICER_SIGNED_IN), str(E.OFFICER_SIGNED_OUT),
                      str(E.COUNTER_STATUS), start, end))
    signed = _intervals([r for r in rows if r[0] != E.COUNTER_STATUS], set(),
                        lambda k, v: k == E.OFFICER_SIGNED_IN, lambda k, v: k == E.OFFICER_SIGNED_OUT)
    opened = _intervals([r for r in rows if r[0] != E.OFFICER_SIGNED_IN and r[0] != E.OFFICER_SIGNED_OUT], set(),
                        lambda k, v: k == E.COUNTER_STATUS and v == "open",
                        lambda k, v: k == E.COUNTER_STATUS and v != "open")

    def local_days(spans: list[tuple[float, float]]) -> set[date]:
        return {datetime.fromtimestamp(t0, log.zone).date() for t0, t1 in spans if t1 > t0}

    table: list[list[Any]] = []
    for cid, counter in config.counters.items():
        agency = config.agencies.get(counter.agency)
        schedule = agency.schedule if agency else None
        open_days = [d for d in period.days() if schedule and schedule.hours_on(d.weekday())]
        scheduled_h = sum((e - s) for d in open_days for s, e in schedule.hours_on(d.weekday())) / 60 \
            if schedule else 0.0
        signed_h = sum(t1 - t0 for t0, t1 in signed.get(cid, [])) / 3600
        open_h = sum(t1 - t0 for t0, t1 in opened.get(cid, [])) / 3600
        present = local_days(signed.get(cid, [])) | local_days(opened.get(cid, []))
        empty = [d for d in open_days if d not in present]
        table.append([cid, _agency_name(config, counter.agency), round(scheduled_h, 1), round(signed_h, 1),
                      round(open_h, 1), round(100 * open_h / scheduled_h, 1) if scheduled_h else None,
                      len(open_days), len(empty)])
    notes = [f"Loket {r[0]} ({r[1]}) kosong {r[7]} dari {r[6]} hari buka" for r in table if r[6] and r[7] == r[6]]
    chart = Chart("Jam buka loket dibanding jam layanan instansi", [r[0] for r in table],
                  {"Jam layanan": [r[2] for r in table], "Jam buka": [r[4] for r in table]}, unit=" jam")
    return Report(f"Kehadiran petugas loket - {log.name}",
                  ["Loket", "Instansi", "Jam layanan", "Jam petugas masuk", "Jam loket buka", "% buka",
                   "Hari layanan", "Hari tanpa petugas"], table, subtitle=f"Periode {period.label()}",
                  notes=notes, charts=[chart], summary={"kind": "staffing"})


# ---------------------------------------------------------------------- satisfaction (IKM)


def ikm_table(title: str, subtitle: str, groups: Sequence[tuple[str, int, list[int], int | None]],
              summary_extra: dict[str, Any] | None = None) -> Report:
    """IKM rows from (group, respondents, sums per element, population or None); the first row is the total.

    Shared by `antrian report ikm` and `antrian ikm ANSWERS.csv`, so paper and tablet agree.
    """
    rows, notes = [], []
    for name, n, sums, population in groups:
        result = from_sums(n, sums)
        minimum = krejcie_morgan(population) if population is not None else None
        rows.append([name, n, population, minimum, float(result.ikm) if result.ikm is not None else None,
                     result.grade, result.performance]
                    + [round(float(x), 3) for x in result.nrr])
        if minimum is not None and n < minimum:
            notes.append(f"{name}: sampel kurang, {n} responden dari minimal {minimum} untuk {population} "
                         "pengunjung dilayani (Krejcie-Morgan)")
    total = from_sums(groups[0][1], groups[0][2]) if groups else from_sums(0, [0] * len(ELEMENTS))
    population = groups[0][3] if groups else None
    summary: dict[str, Any] = {"kind": "ikm", "ikm": float(total.ikm) if total.ikm is not None else None, "grade": total.grade,
               "performance": total.performance, "respondents": total.respondents,
               "elements": total.as_dict()["elements"]}
    if population is not None:
        summary |= {"population": population, "minimum_sample": krejcie_morgan(population),
                    "sample_sufficient": total.respondents >= krejcie_morgan(population)}
    chart = Chart("IKM per unsur", [f"{e.code} {e.name}"[:28] for e in ELEMENTS],
                  {"IKM unsur": [el["ikm"] for el in summary["elements"]]})
    return Report(title, ["Kelompok", "Responden", "Populasi", "Sampel minimal", "IKM", "Mutu", "Kinerja"]
                  + [f"NRR {e.code}" for e in ELEMENTS], rows, subtitle=subtitle, notes=notes, charts=[chart],
                  summary=summary | (summary_extra or {}))


def ikm(logs: list[EventLog], period: Period, by: str = "service") -> Report:
    """The index for the whole site, then per agency, service or counter, over the period."""
    if by not in IKM_GROUPS:
        raise ReportError(f"--by must be one of {', '.join(IKM_GROUPS)} for ikm, not '{by}'")
    log = logs[0]
    config = log.config
    start, end = log.bounds(period)
    sums_sql = ", ".join(f"sum(json_extract(data, '$.answers[{i}]'))" for i in range(len(ELEMENTS)))
    answered = {key: (n, list(rest)) for key, n, *rest in log.query(
        f"SELECT {_field(by) if by != 'site' else chr(39) + chr(39)} AS k, count(*), {sums_sql} FROM events "
        "WHERE type = ? AND ts >= ? AND ts < ? GROUP BY k", (str(E.SURVEY_ANSWERED), start, end))}
    served = dict(log.query(f"SELECT {_field(by) if by != 'site' else chr(39) + chr(39)} AS k, count(*) "
                            "FROM events WHERE type = ? AND ts >= ? AND ts < ? GROUP BY k",
                            (str(E.TICKET_FINISHED), start, end)))
    zero = [0] * len(ELEMENTS)
    total_n = sum(n for n, _ in answered.values())
    total_sums = [sum(s[i] or 0 for _, s in answered.values()) for i in range(len(ELEMENTS))]
    groups: list[tuple[str, int, list[int], int | None]] = [(f"Seluruh {log.name}", total_n, total_sums, sum(served.values()))]
    if by != "site":
        names = {"agency": lambda k: _agency_name(config, k), "service": lambda k: _service_name(config, k),
                 "counter": lambda k: f"Loket {k}"}[by]
        for key in sorted(set(answered) | set(served), key=lambda k: str(k)):
            n, sums = answered.get(key, (0, zero))
            groups.append((names(key), n, [s or 0 for s in sums], served.get(key, 0)))
    return ikm_table(f"Indeks Kepuasan Masyarakat - {log.name}", f"Periode {period.label()}", groups,
                     {"by": by, "from": str(period.first), "to": str(period.last)})


BUILDERS = {"visitors": visitors, "times": times, "noshows": noshows, "staffing": staffing, "ikm": ikm}
