"""Permintaan tidak terlayani: the demand turned away, per service and day, by reason.

Every refused ticket or booking (a full quota, a closed service, too late, a person's limit, the
overflow stop, a referral to another office) is one `demand_turned_away` event in the log; this
report only counts them, so its figures are recountable from the log with one SQL query. The
engine logs a retried request once (its request key); the count here is over distinct request
keys as well, so a log that somehow holds a retry twice still counts it once.

It is the figure that tells the head of office which agency needs another counter or another day.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from broker.core.events import EventType as E
from broker.reports import fmt
from broker.reports.build import EventLog, Period, _field, _sites, _subtitle, service_name, side_by_side
from broker.reports.render import Chart, Report, Table

REASONS = ("quota", "closed", "cutoff", "limit", "overflow", "referral")  # broker.core.booking.REASONS
REASON_NAMES = {"quota": "Kuota habis", "closed": "Layanan tutup", "cutoff": "Terlambat",
                "limit": "Batas per orang", "overflow": "Melewati jam tutup", "referral": "Dirujuk ke kantor lain"}
COLUMNS = [REASON_NAMES[r] for r in REASONS] + ["Jumlah"]


def counts(log: EventLog, period: Period) -> dict[tuple[date, str], dict[str, int]]:
    """(day, service) -> reason -> refused requests, from the log's demand_turned_away events (the
    day is the event's own `day`: the site's local day it happened)."""
    found: dict[tuple[date, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for day, service, reason, n in log.query(
            f"SELECT {_field('day')}, {_field('service')}, {_field('reason')}, "
            f"count(DISTINCT coalesce(nullif({_field('request')}, ''), 'seq' || seq)) FROM events "
            f"WHERE type = ? AND {_field('day')} >= ? AND {_field('day')} <= ? GROUP BY 1, 2, 3",
            (str(E.DEMAND_TURNED_AWAY), period.first.isoformat(), period.last.isoformat())):
        try:
            when = date.fromisoformat(day)
        except (TypeError, ValueError):
            continue  # not an event this engine writes: nothing to count it under
        found[(when, service or "?")][reason if reason in REASONS else "quota"] += n
    return found


def _row(label: Any, c: dict[str, int]) -> list[Any]:
    return [label] + [c.get(r, 0) for r in REASONS] + [sum(c.get(r, 0) for r in REASONS)]


def _add(into: dict[str, int], c: dict[str, int]) -> None:
    for reason, n in c.items():
        into[reason] = into.get(reason, 0) + n


def turned_away(logs: list[EventLog], period: Period) -> Report:
    """Per service (or per MPP for several), with a further table per day and service."""
    side_by_side(logs)
    per_log = [(log, counts(log, period)) for log in logs]
    rows: list[list[Any]] = []
    daily: list[list[Any]] = []
    if len(logs) > 1:
        for log, found in per_log:
            together: dict[str, int] = {}
            for c in found.values():
                _add(together, c)
            rows.append(_row(log.name, together))
        first = "MPP"
    else:
        log, found = per_log[0]
        by_service: dict[str, dict[str, int]] = defaultdict(dict)
        for (_, service), c in found.items():
            _add(by_service[service], c)
        order = [c for c in log.config.services if c in by_service] + sorted(set(by_service) - set(log.config.services))
        rows = [_row(service_name(log.config, code), by_service[code]) for code in order]
        daily = [_row(day, c)[:1] + [service_name(log.config, service)] + _row(day, c)[1:]
                 for (day, service), c in sorted(found.items(), key=lambda kv: (kv[0][0], order.index(kv[0][1])))]
        first = "Layanan"
    totals: list[Any] = ["Jumlah"] + [sum(r[i] for r in rows) for i in range(1, len(COLUMNS) + 1)]
    shown = [r for r in rows if r[-1]]
    chart = Chart(f"Permintaan tidak terlayani per {'MPP' if len(logs) > 1 else 'layanan'}",
                  [r[0] for r in shown], {"Jumlah": [r[-1] for r in shown]}, horizontal=True)
    sentence = (f"Selama {period.label()}, tidak ada permintaan yang ditolak." if not totals[-1] else
                f"Selama {period.label()}, {fmt.number(totals[-1])} permintaan nomor antrean atau reservasi "
                f"ditolak; terbanyak di {max(shown, key=lambda r: r[-1])[0]} ({fmt.number(max(r[-1] for r in shown))}).")
    tables = [Table("Per hari dan layanan", ["Tanggal", "Layanan"] + COLUMNS, daily)] if daily else []
    return Report("Permintaan tidak terlayani", [first] + COLUMNS, rows + [totals], subtitle=_subtitle(period),
                  summary={"kind": "turned-away"}, charts=[chart] if shown else [], site=_sites(logs),
                  sentence=sentence, totals=1, table_title=f"Per {'MPP' if len(logs) > 1 else 'layanan'}",
                  tables=tables, notes=["Setiap permintaan yang ditolak (kuota habis, layanan tutup, terlambat, "
                                        "batas per orang, jam tutup, dirujuk) tercatat sekali di log sebagai "
                                        "demand_turned_away; angka ini dihitung ulang dari log itu."])
