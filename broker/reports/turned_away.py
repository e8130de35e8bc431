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
from broker.protocol.texts import tr
from broker.reports import fmt
from broker.reports.build import EventLog, Period, _during, _field, _sites, _subtitle, count, service_name, side_by_side, words
from broker.reports.render import Chart, Report, Table

REASONS = ("quota", "closed", "cutoff", "limit", "overflow", "referral")  # broker.core.booking.REASONS


def columns(language: str = "id") -> list[str]:
    """One column per reason, then the total: "Kuota habis", ... "Jumlah" ("Quota used up", ... "Total")."""
    return [tr(f"report.reason.{r}", language) for r in REASONS] + [tr("report.total", language)]



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


def turned_away(logs: list[EventLog], period: Period, language: str = "id") -> Report:
    """Per service (or per MPP for several), with a further table per day and service."""
    side_by_side(logs)
    t = words(language)
    names = columns(language)
    per_log = [(log, counts(log, period)) for log in logs]
    rows: list[list[Any]] = []
    daily: list[list[Any]] = []
    if len(logs) > 1:
        for log, found in per_log:
            together: dict[str, int] = {}
            for c in found.values():
                _add(together, c)
            rows.append(_row(log.name, together))
        first = "site"
    else:
        log, found = per_log[0]
        by_service: dict[str, dict[str, int]] = defaultdict(dict)
        for (_, service), c in found.items():
            _add(by_service[service], c)
        order = [c for c in log.config.services if c in by_service] + sorted(set(by_service) - set(log.config.services))
        rows = [_row(service_name(log.config, code), by_service[code]) for code in order]
        daily = [_row(day, c)[:1] + [service_name(log.config, service)] + _row(day, c)[1:]
                 for (day, service), c in sorted(found.items(), key=lambda kv: (kv[0][0], order.index(kv[0][1])))]
        first = "service"
    totals: list[Any] = [t("total")] + [sum(r[i] for r in rows) for i in range(1, len(names) + 1)]
    shown = [r for r in rows if r[-1]]
    chart = Chart(t("turned_away.chart", what=t(f"by.{first}")),
                  [r[0] for r in shown], {t("total"): [r[-1] for r in shown]}, horizontal=True)
    during = _during(period, language)
    sentence = (t("turned_away.none", during=during) if not totals[-1] else
                t("turned_away.sentence", during=during, requests=count(totals[-1], "requests", language),
                  top=max(shown, key=lambda r: r[-1])[0], most=fmt.number(max(r[-1] for r in shown), language=language)))
    tables = [Table(t("turned_away.daily"), [t("col.day"), t("col.service")] + names, daily)] if daily else []
    return Report(t("turned_away.title"), [t(f"col.{first}")] + names, rows + [totals],
                  subtitle=_subtitle(period, language), summary={"kind": "turned-away"},
                  charts=[chart] if shown else [], site=_sites(logs, language), sentence=sentence, totals=1,
                  table_title=t("per", what=t(f"by.{first}")), tables=tables, notes=[t("turned_away.note")],
                  language=language)
