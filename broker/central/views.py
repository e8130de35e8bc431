"""What the province's control room reads besides broker/central/queries.py: one agency of one MPP per week.

Kept apart from queries.py (another hand's) but built from its parts: the same roll-ups, the same
`Figures`, the IKM from the summed element scores as everywhere else. Signed-in hours, opening hours and
hours staffed within them count under the agency of the counter and demand turned away under its
service's agency, as `queries.drill` does; the agency's name is its profile's (`agency_name`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

import psycopg

from broker.central.queries import _SUMS, WeekRow, _dicts, _figures, _ikm_by, agency_names


def _week(day: str) -> str:
    """The Monday of a day column's week, in SQL."""
    return f"{day} - (extract(isodow FROM {day})::int - 1)"


def agency_trend(conn: psycopg.Connection, site_id: str, agency: str, period_from: date,
                 period_to: date) -> list[WeekRow]:
    """One agency of one MPP per week (Monday weeks), oldest first; a week without any figure is left out."""
    p = {"s": site_id, "g": agency, "a": period_from, "b": period_to}
    found: dict[date, dict[str, Any]] = defaultdict(dict)
    for r in _dicts(conn.execute(f"""
            SELECT week, {_SUMS} FROM service_daily
            WHERE site = %(s)s AND agency = %(g)s AND day BETWEEN %(a)s AND %(b)s GROUP BY week""", p)):
        found[r["week"]] |= r
    for week, n in conn.execute(f"""
            SELECT {_week('day')}, sum(n) FROM turned_away_daily
            WHERE site = %(s)s AND agency = %(g)s AND day BETWEEN %(a)s AND %(b)s GROUP BY 1""", p).fetchall():
        found[week]["turned_away"] = n
    counters: dict[date, int] = {}
    for week, signed, n, opening, within in conn.execute(f"""
            SELECT {_week('t.day')}, sum(t.signed_s), count(DISTINCT t.counter) FILTER (WHERE t.signed_s > 0),
                   sum(t.opening_s), sum(t.staffed_open_s)
            FROM staffing_daily t LEFT JOIN site_counters c ON c.site = t.site AND c.counter = t.counter
            LEFT JOIN site_profiles p ON p.site = t.site
            WHERE t.site = %(s)s AND coalesce(p.profile->'counters'->t.counter->>'agency', c.agency, '') = %(g)s
                  AND t.day BETWEEN %(a)s AND %(b)s
            GROUP BY 1""", p).fetchall():
        found[week] |= {"signed_s": signed, "opening_s": opening, "staffed_open_s": within}
        counters[week] = int(n)
    ikm = _ikm_by(conn.execute(f"""
        SELECT {_week('k.day')}, e.ord - 1, sum(k.respondents), sum(e.score)
        FROM ikm_agency_daily k, unnest(k.scores) WITH ORDINALITY AS e(score, ord)
        WHERE k.site = %(s)s AND k.agency = %(g)s AND k.day BETWEEN %(a)s AND %(b)s GROUP BY 1, 2""", p).fetchall())
    return [WeekRow(w, _figures(found.get(w, {}), ikm.get(w), counters.get(w, 0))) for w in sorted(set(found) | set(ikm))]


def agency_name(conn: psycopg.Connection, site_id: str, agency: str) -> str:
    """The agency's name from the site's profile; "" when the profile does not name it."""
    return agency_names(conn, site_id).get(agency, "")
