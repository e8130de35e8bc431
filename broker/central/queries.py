"""What the province reads from the central store: the league table of MPPs, a site's weeks, its agencies.

Every function takes an open psycopg connection and an inclusive period of local days, reads only
the roll-ups (broker/central/schema.py), and returns typed rows. The IKM and its grade come from
the summed element scores through broker.core.ikm.from_sums, as the site's own report computes them;
the share of opening hours staffed from the summed opening and staffed-within-opening seconds, rounded
as the site's staffing report rounds it (broker.reports.build.share: one decimal).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import psycopg

from broker.core.ikm import ELEMENTS, IkmResult, from_sums, krejcie_morgan


@dataclass(frozen=True)
class Figures:
    """What every row says: visitors (tickets issued), served (ticket_finished), no-shows, the waits
    (issue to first call), the demand turned away, officers' signed-in hours and the IKM."""

    visitors: int
    served: int
    no_shows: int
    waits: int  # first calls with a wait
    avg_wait_s: float | None
    turned_away: int
    counters: int  # counters an officer was signed in at
    counter_hours: float  # hours officers were signed in, over all counters
    visitors_per_counter_hour: float | None
    respondents: int
    ikm: Decimal | None
    grade: str
    performance: str
    opening_hours: float = 0.0  # the counters' opening hours (sites whose profile is known)
    staffed_hours: float = 0.0  # hours an officer was signed in within them
    staffed_share: float | None = None  # % of the opening hours staffed, one decimal; None without opening hours


def staffed_share(staffed_s: float, opening_s: float) -> float | None:
    """The site's staffing report's figure (broker.reports.build.share of hours): 100 x staffed / opening, to
    one decimal."""
    return round(100 * (staffed_s / 3600) / (opening_s / 3600), 1) if opening_s / 3600 else None


@dataclass(frozen=True)
class LeagueRow:
    rank: int  # by visitors, most first
    site_id: str
    name: str
    province: str
    region: str
    figures: Figures
    minimum_sample: int  # Krejcie-Morgan minimum of respondents for the visitors served

    @property
    def sample_sufficient(self) -> bool:
        return self.figures.respondents >= self.minimum_sample


@dataclass(frozen=True)
class WeekRow:
    week: date  # its Monday
    figures: Figures


@dataclass(frozen=True)
class AgencyRow:
    agency: str
    figures: Figures
    name: str = ""  # from the site's profile; "" when it never said


def _figures(d: dict[str, Any], ikm: IkmResult | None, counters: int = 0) -> Figures:
    hours = float(d.get("signed_s") or 0) / 3600
    visitors = int(d.get("issued") or 0)
    waits = int(d.get("wait_n") or 0)
    result = ikm if ikm is not None else from_sums(0, [0] * len(ELEMENTS))
    opening_s, staffed_s = float(d.get("opening_s") or 0), float(d.get("staffed_open_s") or 0)
    return Figures(opening_hours=opening_s / 3600, staffed_hours=staffed_s / 3600,
                   staffed_share=staffed_share(staffed_s, opening_s),
                   visitors=visitors, served=int(d.get("served") or 0), no_shows=int(d.get("no_shows") or 0),
                   waits=waits, avg_wait_s=float(d["wait_sum"]) / waits if waits else None,
                   turned_away=int(d.get("turned_away") or 0), counters=counters, counter_hours=hours,
                   visitors_per_counter_hour=visitors / hours if hours > 0 else None,
                   respondents=result.respondents, ikm=result.ikm, grade=result.grade,
                   performance=result.performance)


def _ikm_by(rows: list[tuple[Any, ...]]) -> dict[Any, IkmResult]:
    """(key, element, respondents, score) rows -> the IKM per key."""
    sums: dict[Any, list[int]] = defaultdict(lambda: [0] * len(ELEMENTS))
    respondents: dict[Any, int] = defaultdict(int)
    for key, element, n, score in rows:
        if 0 <= element < len(ELEMENTS):
            sums[key][int(element)] += int(score)
            respondents[key] = max(respondents[key], int(n))
    return {k: from_sums(respondents[k], sums[k]) for k in sums}


_SUMS = ("sum(issued) AS issued, sum(served) AS served, sum(no_shows) AS no_shows, sum(wait_sum) AS wait_sum, "
         "sum(wait_n) AS wait_n")


def _dicts(cur: psycopg.Cursor) -> list[dict[str, Any]]:
    names = [c.name for c in cur.description or []]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _period(period_from: date, period_to: date, **more: Any) -> dict[str, Any]:
    """The period's query parameters: its whole months [m0, m1), read from the monthly roll-ups, and the days
    before and after them, [a, m0) and [m1, end), read from the daily ones."""
    end = period_to + timedelta(days=1)
    m0 = period_from if period_from.day == 1 else (period_from.replace(day=1) + timedelta(days=32)).replace(day=1)
    m1 = end.replace(day=1)
    if m0 >= m1:  # no whole month: every day from the daily roll-ups
        m0 = m1 = end
    return {"a": period_from, "b": period_to, "end": end, "m0": m0, "m1": m1} | more


_EDGES = "((day >= %(a)s AND day < %(m0)s) OR (day >= %(m1)s AND day < %(end)s))"
_MONTHS = "(month >= %(m0)s AND month < %(m1)s)"


def league(conn: psycopg.Connection, period_from: date, period_to: date,
           province: str | None = None) -> list[LeagueRow]:
    """One row per MPP (of a province, or all): visitors, served, visitors per counter-hour, IKM and grade,
    respondents, demand turned away, average wait; most visitors first."""
    p = _period(period_from, period_to, p=province)
    rows = _dicts(conn.execute(f"""
        WITH d AS (SELECT site, {_SUMS}, sum(turned_away) AS turned_away, sum(signed_s) AS signed_s,
                          sum(opening_s) AS opening_s, sum(staffed_open_s) AS staffed_open_s
                   FROM site_daily WHERE day BETWEEN %(a)s AND %(b)s GROUP BY site),
             c AS (SELECT site, count(DISTINCT counter) AS counters FROM (
                       SELECT site, counter FROM staffing_monthly WHERE {_MONTHS} AND signed_s > 0
                       UNION SELECT site, counter FROM staffing_daily WHERE {_EDGES} AND signed_s > 0) x
                   GROUP BY site)
        SELECT s.site_id, s.name, s.province, s.region, d.issued, d.served, d.no_shows, d.wait_sum, d.wait_n,
               d.turned_away, d.signed_s, d.opening_s, d.staffed_open_s, c.counters
        FROM sites s LEFT JOIN d ON d.site = s.site_id LEFT JOIN c ON c.site = s.site_id
        WHERE %(p)s::text IS NULL OR s.province = %(p)s""", p))
    ikm = _ikm_by(conn.execute(f"""
        SELECT k.site, k.element, sum(k.respondents), sum(k.score) FROM (
            SELECT site, element, respondents, score FROM ikm_monthly WHERE {_MONTHS}
            UNION ALL SELECT site, element, respondents, score FROM ikm_daily WHERE {_EDGES}) k
        JOIN sites s ON s.site_id = k.site WHERE %(p)s::text IS NULL OR s.province = %(p)s
        GROUP BY k.site, k.element""", p).fetchall())
    rows.sort(key=lambda r: (-(r["issued"] or 0), r["site_id"]))
    return [LeagueRow(rank=i + 1, site_id=r["site_id"], name=r["name"], province=r["province"], region=r["region"],
                      figures=_figures(r, ikm.get(r["site_id"]), int(r["counters"] or 0)),
                      minimum_sample=krejcie_morgan(int(r["served"] or 0)))
            for i, r in enumerate(rows)]


def trend(conn: psycopg.Connection, site_id: str, period_from: date, period_to: date) -> list[WeekRow]:
    """One MPP per week (Monday weeks), oldest first; a week without any figure is left out."""
    p = {"s": site_id, "a": period_from, "b": period_to}
    rows = _dicts(conn.execute(f"""
        SELECT week, {_SUMS}, sum(turned_away) AS turned_away, sum(signed_s) AS signed_s, sum(opening_s) AS opening_s,
               sum(staffed_open_s) AS staffed_open_s FROM site_daily
        WHERE site = %(s)s AND day BETWEEN %(a)s AND %(b)s GROUP BY week""", p))
    counters: dict[date, int] = dict(conn.execute("""
        SELECT day - (extract(isodow FROM day)::int - 1), count(DISTINCT counter) FROM staffing_daily
        WHERE site = %(s)s AND day BETWEEN %(a)s AND %(b)s AND signed_s > 0 GROUP BY 1""", p).fetchall())
    ikm = _ikm_by(conn.execute("""
        SELECT day - (extract(isodow FROM day)::int - 1), element, sum(respondents), sum(score) FROM ikm_daily
        WHERE site = %(s)s AND day BETWEEN %(a)s AND %(b)s GROUP BY 1, 2""", p).fetchall())
    weeks = {r["week"]: r for r in rows}
    return [WeekRow(w, _figures(weeks.get(w, {}), ikm.get(w), int(counters.get(w, 0))))
            for w in sorted(set(weeks) | set(ikm))]


def drill(conn: psycopg.Connection, site_id: str, period_from: date, period_to: date) -> list[AgencyRow]:
    """One MPP per agency, most visitors first. Signed-in hours, opening hours and hours staffed within them count
    under the agency of the counter (the site's config, or the agency its calls were for); demand turned away
    under its service's agency. An agency's name is its profile's."""
    p = {"s": site_id, "a": period_from, "b": period_to}
    found: dict[str, dict[str, Any]] = defaultdict(dict)
    for r in _dicts(conn.execute(f"""
            SELECT agency, {_SUMS} FROM service_daily WHERE site = %(s)s AND day BETWEEN %(a)s AND %(b)s
            GROUP BY agency""", p)):
        found[r["agency"]] |= r
    for agency, n in conn.execute("""
            SELECT agency, sum(n) FROM turned_away_daily WHERE site = %(s)s AND day BETWEEN %(a)s AND %(b)s
            GROUP BY agency""", p).fetchall():
        found[agency]["turned_away"] = n
    counters: dict[str, int] = {}
    for agency, signed, n, opening, within in conn.execute("""
            SELECT coalesce(p.profile->'counters'->t.counter->>'agency', c.agency, ''), sum(t.signed_s),
                   count(DISTINCT t.counter) FILTER (WHERE t.signed_s > 0),
                   sum(t.opening_s), sum(t.staffed_open_s)
            FROM staffing_daily t LEFT JOIN site_counters c ON c.site = t.site AND c.counter = t.counter
            LEFT JOIN site_profiles p ON p.site = t.site
            WHERE t.site = %(s)s AND t.day BETWEEN %(a)s AND %(b)s GROUP BY 1""", p).fetchall():
        found[agency] |= {"signed_s": signed, "opening_s": opening, "staffed_open_s": within}
        counters[agency] = int(n)
    ikm = _ikm_by(conn.execute("""
        SELECT k.agency, e.ord - 1, sum(k.respondents), sum(e.score)
        FROM ikm_agency_daily k, unnest(k.scores) WITH ORDINALITY AS e(score, ord)
        WHERE k.site = %(s)s AND k.day BETWEEN %(a)s AND %(b)s GROUP BY 1, 2""", p).fetchall())
    for agency in ikm:
        found.setdefault(str(agency), {})
    names = agency_names(conn, site_id)
    rows = [AgencyRow(a, _figures(d, ikm.get(a), counters.get(a, 0)), names.get(a, "")) for a, d in found.items()]
    return sorted(rows, key=lambda r: (-r.figures.visitors, r.agency))


def site_ikm(conn: psycopg.Connection, site_id: str, period_from: date, period_to: date) -> IkmResult:
    """One MPP's IKM over the period with its elements (respondents, sums, NRR per element)."""
    rows = conn.execute("""
        SELECT 0, element, sum(respondents), sum(score) FROM ikm_daily
        WHERE site = %s AND day BETWEEN %s AND %s GROUP BY element""", (site_id, period_from, period_to)).fetchall()
    return _ikm_by(rows).get(0) or from_sums(0, [0] * len(ELEMENTS))


def agency_names(conn: psycopg.Connection, site_id: str) -> dict[str, str]:
    """Each agency's name as the site's profile gives it (none before a profile came)."""
    return dict(conn.execute("SELECT agency, name FROM site_agencies WHERE site = %s", (site_id,)).fetchall())
