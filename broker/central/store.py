"""The central store: every MPP's events on the province's PostgreSQL, and the roll-ups kept with them.

`CentralStore(conninfo).migrate()` makes the tables (broker/central/schema.py says what each holds);
`register_site` names an MPP before its first batch (`register_profile` with its profile: agencies, opening
hours, closures); `ingest(site_id, events)` stores a batch of
that site's events in one transaction and returns the site's last stored seq, the cursor a
forwarder resumes from. Events come as broker.core.events.Event or as the dicts Event.as_dict()
gives, in the order of their seq; anything at or below the site's cursor is skipped (a batch sent
again, or overlapping the last, changes nothing), so delivery may be at least once.

Inside the transaction: the site's cursor row is locked (two ingests of one site take turns; of
two sites run side by side); the new events are COPYed into `events` (a chunk at a time, so the
server parses one while Python writes the next); what the roll-ups read of them (day, agency,
service, counter, wait, answers, ...) is COPYed into a temporary staging table, and each roll-up
adds what the batch brings with one INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE (one
the batch has no events for is not run: a live batch holds a few events, of a kind or two). These
are planned for each batch, not once for all: see _STAGING.
Officers' sign-in sessions are paired in Python (they are few), with the sessions still open
carried over in `staff_open`; with the site's profile (`register_profile`: its agencies' opening hours and
closures, broker/forward/profile.py) each closed session is also clipped to its counter's opening ranges
that day, and each new local day gets its counters' opening seconds (`_opening`), so the league can say
which share of the opening hours was staffed, as the site's own staffing report does.

Why not COPY into staging and INSERT ... ON CONFLICT DO NOTHING into `events` always: it writes
every event twice, a third of the ingest's server time, for duplicates the locked cursor has
already left out. The unique (site, seq, ts) key stays the guard: should events past the cursor be
in `events` all the same, the COPY fails on it and that batch goes the staging way instead.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
import psycopg

from broker.central import queries
from broker.central.queries import AgencyRow, LeagueRow, WeekRow
from broker.central.schema import SCHEMA_VERSION, TABLES
from broker.core.booking import REASONS
from broker.core.events import Event, EventType
from broker.forward.profile import Profile, ProfileError, from_doc, of_config
from broker.site.config import SiteConfig

SITE_ID = re.compile(r"^(?P<province>[0-9]{2})(?P<rest>(?:\.[0-9]{2}){0,3})-[a-z0-9_]+(?:-[a-z0-9_]+)*$")
_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# the kinds of event the SQL roll-ups read (staffing is paired in Python): only these are staged
_COUNTED = frozenset({EventType.TICKET_ISSUED, EventType.TICKET_CALLED, EventType.TICKET_FINISHED,
                      EventType.TICKET_NO_SHOW, EventType.SURVEY_ANSWERED, EventType.DEMAND_TURNED_AWAY})
_STAFFING = frozenset({EventType.DAY_STARTED, EventType.OFFICER_SIGNED_IN, EventType.OFFICER_SIGNED_OUT})
_EPOCH = date(1970, 1, 1)
_LAST_TS = 4_102_444_800.0  # 2100-01-01: a site clock past it is broken, not a time to store
_OPENING_BACK = 800  # days of opening hours written at most at once (a site clock years off makes no more)
_PARTITION_LOCK = 0x616E7472  # pg_advisory_xact_lock key while a month's partition is made


class CentralError(Exception):
    """A batch or a site the store cannot take; nothing of that call was stored. The message says why."""


class UnknownSite(CentralError):
    pass


@dataclass(frozen=True)
class Site:
    site_id: str  # "62.01-mpp": the Kemendagri code of its region, a dash, a short name
    name: str
    province: str  # "62"
    region: str  # "62.01"
    timezone: str
    local_id: str = ""  # the id in the site's own config


def parse_site_id(site_id: str) -> tuple[str, str]:
    """(province code, region code) of a site id such as "62.01-mpp"; CentralError if it is not one."""
    found = SITE_ID.match(site_id or "")
    if found is None:
        raise CentralError(f"id MPP '{site_id}' bukan kode wilayah Kemendagri dan nama pendek, misalnya 62.01-mpp "
                           f"(site id '{site_id}' is not a Kemendagri region code and a short name, such as 62.01-mpp)")
    return found["province"], found["province"] + found["rest"]


class _Row(NamedTuple):  # a tuple: a frozen dataclass took a tenth of the client's time to make
    seq: int
    ts: float
    type: str
    data: dict[str, Any]


_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str)
_CHUNK = 2000  # lines of COPY sent at a time: the server parses one while the next is written


def _text(value: object) -> str:
    """A string field of COPY's text format (anything else: NULL)."""
    if not isinstance(value, str):
        return _NULL
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPE)
    return value


def _json(data: dict[str, Any]) -> str:
    """The data as a jsonb field of COPY's text format: JSON writes no raw tab or newline, only backslashes need
    doubling. jsonb refuses the NUL character even escaped; nothing the engine writes holds one."""
    try:
        raw = orjson.dumps(data)  # a sixth of the json module's time: the largest part of the batch's
    except (TypeError, orjson.JSONEncodeError):  # keys that are not strings, integers past 64 bits, ...
        try:
            text = _ENCODER.encode(data)
        except ValueError as exc:
            raise CentralError(f"an event's data is not JSON: {exc}") from None
    else:
        if b"\\" not in raw:  # most events: nothing escaped
            return raw.decode()
        text = raw.decode()
    return text.replace("\\u0000", "\\ufffd").replace("\\", "\\\\")


def _turned_away_day(data: dict[str, Any]) -> str:
    day = data.get("day")
    if isinstance(day, str) and _DAY.match(day):
        try:
            return date.fromisoformat(day).isoformat()
        except ValueError:
            pass
    return _NULL  # not a day this engine writes: nothing to count it under


def _local_days(rows: list[_Row], zone: ZoneInfo) -> list[int]:
    """Each event's local day as days since 1970-01-01: one offset for the batch where the zone keeps one
    (Indonesia has no summer time), else each event's own."""
    first, last = min(r.ts for r in rows), max(r.ts for r in rows)
    a = datetime.fromtimestamp(first, zone).utcoffset()
    b = datetime.fromtimestamp(last, zone).utcoffset()
    if a is not None and a == b:
        off = a.total_seconds()
        return [int((r.ts + off) // 86400) for r in rows]
    return [(datetime.fromtimestamp(r.ts, zone).date() - _EPOCH).days for r in rows]


def _scores(answers: object) -> str:
    """A survey's answers as an integer[] of COPY's text format; what is not a score 1-4 is NULL there."""
    if not isinstance(answers, list):
        return _NULL
    return "{" + ",".join(str(v) if type(v) is int and 1 <= v <= 4 else "NULL" for v in answers) + "}"


_MINUTES = [f"{m:02d}:{s:02d}." for m in range(60) for s in range(60)]  # "MM:SS." of each second of an hour


class _Hours(dict[int, str]):
    """UTC timestamps as timestamptz text, the date and hour of each formatted once."""

    def __missing__(self, hour: int) -> str:
        text = datetime.fromtimestamp(hour * 3600, UTC).strftime("%Y-%m-%d %H:")
        self[hour] = text
        return text

    def text(self, ts: float) -> str:
        seconds, us = divmod(round(ts * 1_000_000), 1_000_000)  # to the microsecond, as timestamptz keeps it
        hour, second = divmod(seconds, 3600)
        return f"{self[hour]}{_MINUTES[second]}{us:06d}+00"


def _field(value: object) -> str:
    """_text, its common case first: a string with nothing to escape."""
    if type(value) is str and value.isprintable() and "\\" not in value:  # no tab, newline or return either
        return value
    return _text(value)


def _copy_text(site: str, rows: list[_Row], zone: ZoneInfo, staging: list[str]) -> Iterator[str]:
    """The batch in COPY's text format: the lines of `events`, yielded a chunk at a time (the server parses one
    while the next is made), and the staging table's lines, put in `staging`, which carry what the roll-ups read
    pulled out of each event's data."""
    events: list[str] = []
    site_text = _text(site)
    hours = _Hours()
    stamp = hours.text
    kinds: dict[str, str] = {}
    for (seq, ts, type_, d), day in zip(rows, _local_days(rows, zone)):
        kind = kinds.get(type_)
        if kind is None:
            kind = kinds[type_] = _text(type_)
        ticket = _field(d.get("ticket"))
        events.append(f"{site_text}\t{seq}\t{stamp(ts)}\t{kind}\t{ticket}\t{_json(d)}\n")
        if len(events) >= _CHUNK:
            yield "".join(events)
            events = []
        if type_ not in _COUNTED:
            continue
        waited_s = ref = reason = request = answers = _NULL
        if type_ == EventType.TICKET_CALLED:
            waited = d.get("waited_s")
            if isinstance(waited, (int, float)) and not isinstance(waited, bool) and math.isfinite(waited):
                waited_s = repr(float(waited))
        elif type_ == EventType.DEMAND_TURNED_AWAY:
            ref = _turned_away_day(d)
            reason = d["reason"] if d.get("reason") in REASONS else "quota"
            request = _text(d.get("request")) if d.get("request") and isinstance(d.get("request"), str) else f"seq{seq}"
        elif type_ == EventType.SURVEY_ANSWERED:
            answers = _scores(d.get("answers"))
        staging.append(f"{seq}\t{ts!r}\t{day}\t{kind}\t{ticket}\t{_field(d.get('agency'))}\t"
                       f"{_field(d.get('service'))}\t{_field(d.get('counter'))}\t{waited_s}\t{ref}\t{reason}\t"
                       f"{request}\t{answers}\n")
    if events:
        yield "".join(events)


def _row(event: Event | Mapping[str, Any], index: int) -> _Row:
    try:
        if isinstance(event, Event):
            seq, ts, kind, data = event.seq, float(event.ts), str(event.type), event.data
        else:
            data = dict(event)
            seq, ts, kind = int(data.pop("seq")), float(data.pop("ts")), str(data.pop("type"))
        if not 0 <= ts < _LAST_TS or seq < 1:  # NaN compares false: refused as well
            raise ValueError("ts must be seconds since 1970 (before 2100) and seq a positive integer")
    except (KeyError, TypeError, ValueError) as exc:
        raise CentralError(f"event {index} of the batch is not an event (seq, ts, type): {exc}") from None
    return _Row(seq, ts, kind, data)


def _months(rows: list[_Row]) -> set[date]:
    """The UTC months the events fall in: one partition of `events` each (only those: a site clock that was
    years off for one event makes one partition more, not every month between)."""
    days = {int(r.ts // 86400) for r in rows}
    return {(_EPOCH + timedelta(days=d)).replace(day=1) for d in days}


# what the roll-ups read of each event of the batch (its data stays in `events`). The roll-ups are planned for
# each batch (custom plans): a plan made once for a staging table of unknown size (temporary tables have no
# statistics) joined it row by row against all of a site's first_calls, 10 of a 500-event batch's 17 ms
_STAGING = """
CREATE TEMP TABLE IF NOT EXISTS central_staging (
    seq bigint NOT NULL, ts double precision NOT NULL, lday integer NOT NULL, type text NOT NULL, ticket text,
    agency text, service text, counter text, waited_s double precision, ref_day date, reason text, request text,
    answers integer[]
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS central_events_staging (LIKE events) ON COMMIT DELETE ROWS;
SET plan_cache_mode = force_custom_plan
"""
_COPY_STAGING = ("COPY central_staging (seq, ts, lday, type, ticket, agency, service, counter, waited_s, ref_day, "
                 "reason, request, answers) FROM STDIN")
_COPY_EVENTS = "COPY {} (site, seq, ts, type, ticket, data) FROM STDIN"
_INSERT_EVENTS = "INSERT INTO events SELECT * FROM central_events_staging ON CONFLICT DO NOTHING"

_LEARN = """
INSERT INTO site_services AS t (site, service, agency)
SELECT DISTINCT ON (service) %(site)s, service, agency FROM central_staging
WHERE type = 'ticket_issued' AND service IS NOT NULL AND agency IS NOT NULL
ORDER BY service, seq DESC
ON CONFLICT (site, service) DO UPDATE SET agency = excluded.agency WHERE t.agency <> excluded.agency;
INSERT INTO site_counters AS t (site, counter, agency)
SELECT DISTINCT ON (counter) %(site)s, counter, agency FROM central_staging
WHERE type = 'ticket_called' AND counter IS NOT NULL AND agency IS NOT NULL
ORDER BY counter, seq DESC
ON CONFLICT (site, counter) DO UPDATE SET agency = excluded.agency WHERE t.agency <> excluded.agency
"""

# visitors, served, no-shows and waits per day, agency and service; the same per day in site_daily
_VISITS = """
WITH calls AS (
    SELECT DISTINCT ON (ticket) ticket, ts, lday, agency, service, waited_s FROM central_staging
    WHERE type = 'ticket_called' AND ticket IS NOT NULL ORDER BY ticket, seq
), fresh AS (  -- the first calls of their tickets: not called in an earlier batch
    SELECT c.* FROM calls c
    WHERE NOT EXISTS (SELECT FROM first_calls f WHERE f.site = %(site)s AND f.ticket = c.ticket)
), called AS (  -- the statement's snapshot is taken before: `fresh` does not see these rows
    INSERT INTO first_calls (site, ticket) SELECT %(site)s, ticket FROM fresh
    -- no ON CONFLICT: the site's cursor row is locked, no other ingest adds its tickets
), facts AS (
    SELECT lday, agency, service,
           (type = 'ticket_issued')::int AS issued, (type = 'ticket_finished')::int AS served,
           (type = 'ticket_no_show')::int AS no_shows, 0::float8 AS wait_s, 0 AS waits
    FROM central_staging WHERE type IN ('ticket_issued', 'ticket_finished', 'ticket_no_show')
    UNION ALL
    SELECT lday, agency, service, 0, 0, 0, waited_s, 1 FROM fresh WHERE waited_s IS NOT NULL
), inc AS (
    SELECT date '1970-01-01' + f.lday AS day, coalesce(f.agency, s.agency, '') AS agency,
           coalesce(f.service, '') AS service, sum(f.issued) AS issued, sum(f.served) AS served,
           sum(f.no_shows) AS no_shows, sum(f.wait_s) AS wait_sum, sum(f.waits) AS wait_n
    FROM facts f LEFT JOIN site_services s ON s.site = %(site)s AND s.service = f.service
    GROUP BY 1, 2, 3
), per_service AS (
    INSERT INTO service_daily AS t (site, day, week, agency, service, issued, served, no_shows, wait_sum, wait_n)
    SELECT %(site)s, day, day - (extract(isodow FROM day)::int - 1), agency, service, issued, served, no_shows,
           wait_sum, wait_n FROM inc
    ON CONFLICT (site, day, agency, service) DO UPDATE SET issued = t.issued + excluded.issued,
        served = t.served + excluded.served, no_shows = t.no_shows + excluded.no_shows,
        wait_sum = t.wait_sum + excluded.wait_sum, wait_n = t.wait_n + excluded.wait_n
)
INSERT INTO site_daily AS t (site, day, week, issued, served, no_shows, wait_sum, wait_n)
SELECT %(site)s, day, day - (extract(isodow FROM day)::int - 1), sum(issued), sum(served), sum(no_shows),
       sum(wait_sum), sum(wait_n) FROM inc GROUP BY day
ON CONFLICT (site, day) DO UPDATE SET issued = t.issued + excluded.issued, served = t.served + excluded.served,
    no_shows = t.no_shows + excluded.no_shows, wait_sum = t.wait_sum + excluded.wait_sum,
    wait_n = t.wait_n + excluded.wait_n
"""

# the IKM: respondents and score sums per element, per day (and per agency)
_IKM = """
WITH answers AS (
    SELECT date '1970-01-01' + s.lday AS day, coalesce(s.agency, '') AS agency,
           (a.ord - 1)::smallint AS element, a.score
    FROM central_staging s, unnest(s.answers) WITH ORDINALITY AS a(score, ord)
    WHERE s.answers IS NOT NULL
), per_element AS (
    SELECT day, agency, element, count(*) AS respondents, coalesce(sum(score), 0) AS score FROM answers
    GROUP BY 1, 2, 3
), per_agency AS (
    INSERT INTO ikm_agency_daily AS t (site, day, agency, respondents, scores)
    SELECT %(site)s, day, agency, max(respondents), array_agg(score ORDER BY element) FROM per_element
    GROUP BY day, agency
    ON CONFLICT (site, day, agency) DO UPDATE SET respondents = t.respondents + excluded.respondents,
        scores = ARRAY(SELECT coalesce(a, 0) + coalesce(b, 0) FROM unnest(t.scores, excluded.scores) AS u(a, b))
), per_day AS (
    INSERT INTO ikm_daily AS t (site, day, month, element, respondents, score)
    SELECT %(site)s, day, date_trunc('month', day)::date, element, sum(respondents), sum(score)
    FROM per_element GROUP BY day, element
    ON CONFLICT (site, day, element) DO UPDATE SET respondents = t.respondents + excluded.respondents,
        score = t.score + excluded.score
)
INSERT INTO ikm_monthly AS t (site, month, element, respondents, score)
SELECT %(site)s, date_trunc('month', day)::date, element, sum(respondents), sum(score)
FROM per_element GROUP BY 2, element
ON CONFLICT (site, month, element) DO UPDATE SET respondents = t.respondents + excluded.respondents,
    score = t.score + excluded.score
"""

# permintaan tidak terlayani, counted as broker/reports/turned_away.py counts it
_TURNED_AWAY = """
WITH inc AS (
    SELECT r.ref_day AS day, coalesce(s.agency, '') AS agency, r.service, r.reason,
           count(DISTINCT r.request) AS n
    FROM (SELECT ref_day, coalesce(nullif(service, ''), '?') AS service, reason, request
          FROM central_staging WHERE type = 'demand_turned_away' AND ref_day IS NOT NULL) r
    LEFT JOIN site_services s ON s.site = %(site)s AND s.service = r.service
    GROUP BY 1, 2, 3, 4
), per_service AS (
    INSERT INTO turned_away_daily AS t (site, day, agency, service, reason, n)
    SELECT %(site)s, day, agency, service, reason, n FROM inc
    ON CONFLICT (site, day, agency, service, reason) DO UPDATE SET n = t.n + excluded.n
)
INSERT INTO site_daily AS t (site, day, week, turned_away)
SELECT %(site)s, day, day - (extract(isodow FROM day)::int - 1), sum(n) FROM inc GROUP BY day
ON CONFLICT (site, day) DO UPDATE SET turned_away = t.turned_away + excluded.turned_away
"""

# each roll-up statement and the kinds of event it reads: it is left out of a batch that has none of them
_ROLL_UPS: tuple[tuple[str, frozenset[str]], ...] = (
    (_LEARN.split(";\n")[0], frozenset({EventType.TICKET_ISSUED})),
    (_LEARN.split(";\n")[1], frozenset({EventType.TICKET_CALLED})),
    (_VISITS, frozenset({EventType.TICKET_ISSUED, EventType.TICKET_CALLED, EventType.TICKET_FINISHED,
                         EventType.TICKET_NO_SHOW})),
    (_IKM, frozenset({EventType.SURVEY_ANSWERED})),
    (_TURNED_AWAY, frozenset({EventType.DEMAND_TURNED_AWAY})),
)

_STAFFED = """
INSERT INTO staffing_daily AS t (site, day, counter, signed_s, sessions, staffed_open_s) VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (site, day, counter) DO UPDATE SET signed_s = t.signed_s + excluded.signed_s,
    sessions = t.sessions + excluded.sessions, staffed_open_s = t.staffed_open_s + excluded.staffed_open_s
"""
_STAFFED_MONTH = """
INSERT INTO staffing_monthly AS t (site, month, counter, signed_s, sessions) VALUES (%s, %s, %s, %s, %s)
ON CONFLICT (site, month, counter) DO UPDATE SET signed_s = t.signed_s + excluded.signed_s,
    sessions = t.sessions + excluded.sessions
"""
_STAFFED_SITE = """
INSERT INTO site_daily AS t (site, day, week, signed_s, staffed_open_s) VALUES (%s, %s, %s, %s, %s)
ON CONFLICT (site, day) DO UPDATE SET signed_s = t.signed_s + excluded.signed_s,
    staffed_open_s = t.staffed_open_s + excluded.staffed_open_s
"""
# a counter-day's opening seconds, written once (a day is written again only by a profile of the same day)
_OPENING = """
INSERT INTO staffing_daily AS t (site, day, counter, opening_s) VALUES (%s, %s, %s, %s)
ON CONFLICT (site, day, counter) DO UPDATE SET opening_s = excluded.opening_s
"""
_OPENING_SITE = """
INSERT INTO site_daily AS t (site, day, week, opening_s) VALUES (%s, %s, %s, %s)
ON CONFLICT (site, day) DO UPDATE SET opening_s = excluded.opening_s
"""


class _Sessions:
    """Officers' sign-in sessions paired as the site's report pairs them (broker/reports/staffing.py `spans`):
    a sign-in at a counter already signed in ends that session; a sign-out ends it when it names its officer
    (or none); a new service day ends every session; each session counts up to the local midnight after it began."""

    def __init__(self, zone: ZoneInfo, open_now: dict[str, tuple[float, str]]):
        self.zone = zone
        self.open = dict(open_now)  # counter -> (since, officer)
        self.signed: dict[tuple[date, str], list[float]] = defaultdict(lambda: [0.0, 0])
        self.pieces: list[tuple[date, str, float, float]] = []  # (day, counter, from, to) of each session ended

    def _end(self, counter: str, ts: float) -> None:
        t0, _ = self.open.pop(counter)
        local = datetime.fromtimestamp(t0, self.zone)
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), self.zone).timestamp()
        t1 = min(ts, midnight)
        if t1 > t0:
            piece = self.signed[(local.date(), counter)]
            piece[0] += t1 - t0
            piece[1] += 1
            self.pieces.append((local.date(), counter, t0, t1))

    def feed(self, row: _Row) -> None:
        if row.type == EventType.DAY_STARTED:
            for cid in list(self.open):
                self._end(cid, row.ts)
            return
        counter = row.data.get("counter")
        if not isinstance(counter, str):
            return
        officer = row.data.get("officer") or ""
        if row.type == EventType.OFFICER_SIGNED_IN:
            if counter in self.open:
                self._end(counter, row.ts)
            self.open[counter] = (row.ts, str(officer))
        elif counter in self.open and self.open[counter][1] in (officer, ""):
            self._end(counter, row.ts)


class CentralStore:
    """One connection to the province's database. Not shared between threads: give each its own store."""

    def __init__(self, conninfo: str):
        self.conninfo = conninfo
        self._conn: psycopg.Connection | None = None
        self._months: set[date] = set()
        self._sites: dict[str, Site] = {}
        self._profiles: dict[str, Profile] = {}  # each site's profile as stored
        self._staged = False  # this connection has its temporary staging tables

    @property
    def conn(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            try:
                self._conn = psycopg.connect(self.conninfo, autocommit=True)  # a transaction is a `with transaction()`
            except psycopg.Error as exc:
                raise CentralError(f"cannot reach the central database: {exc}") from None
            self._months.clear()
            self._profiles.clear()
            self._staged = False
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> CentralStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ tables and sites

    def migrate(self) -> None:
        """Make the tables that are missing (several stores may start at once: they take turns)."""
        conn = self.conn
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_PARTITION_LOCK,))
            conn.execute(TABLES)
            conn.execute("INSERT INTO central_meta (key, value) VALUES ('schema_version', %s) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(SCHEMA_VERSION),))

    def register_site(self, site_id: str, name: str = "", *, timezone: str = "Asia/Jakarta", local_id: str = "",
                      services: Mapping[str, str] | None = None, counters: Mapping[str, str] | None = None,
                      profile: Profile | None = None) -> Site:
        """Name an MPP (again: its name and zone are updated), with the agency of each of its services and
        counters when known (the site's config), so demand turned away and staffing are put under agencies;
        with its `profile` (register_profile), its agencies' names and opening hours too."""
        province, region = parse_site_id(site_id)
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise CentralError(f"unknown timezone '{timezone}' for site {site_id}") from None
        site = Site(site_id, name, province, region, timezone, local_id)
        conn = self.conn
        with conn.transaction():
            conn.execute("INSERT INTO sites (site_id, name, province, region, timezone, local_id) "
                         "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (site_id) DO UPDATE SET name = excluded.name, "
                         "timezone = excluded.timezone, local_id = excluded.local_id",
                         (site_id, name, province, region, timezone, local_id))
            conn.execute("INSERT INTO site_cursor (site) VALUES (%s) ON CONFLICT DO NOTHING", (site_id,))
            with conn.cursor() as cur:
                if services:
                    cur.executemany("INSERT INTO site_services (site, service, agency) VALUES (%s, %s, %s) "
                                    "ON CONFLICT (site, service) DO UPDATE SET agency = excluded.agency",
                                    [(site_id, s, a) for s, a in services.items()])
                if counters:
                    cur.executemany("INSERT INTO site_counters (site, counter, agency) VALUES (%s, %s, %s) "
                                    "ON CONFLICT (site, counter) DO UPDATE SET agency = excluded.agency",
                                    [(site_id, c, a) for c, a in counters.items()])
                if profile is not None:
                    self._store_profile(cur, site_id, profile)
        self._sites[site_id] = site
        if profile is not None:
            self._profiles[site_id] = profile
        return site

    def _store_profile(self, cur: psycopg.Cursor, site_id: str, profile: Profile) -> None:
        cur.execute("INSERT INTO site_profiles (site, digest, profile) VALUES (%s, %s, %s::jsonb) "
                    "ON CONFLICT (site) DO UPDATE SET digest = excluded.digest, profile = excluded.profile, "
                    "updated = now()", (site_id, profile.digest(), profile.text()))
        cur.execute("DELETE FROM site_agencies WHERE site = %s", (site_id,))
        cur.executemany("INSERT INTO site_agencies (site, agency, name, kind) VALUES (%s, %s, %s, %s)",
                        [(site_id, a, p.name, p.kind) for a, p in profile.agencies.items()])

    def register_profile(self, site_id: str, profile: Profile) -> Site:
        """Name an MPP from its profile (forwarded with its batches, or made of its config): its name, zone and
        own id, the agency of each service and counter, its agencies' names and their opening hours. The same
        profile again (by its digest) changes nothing."""
        stored = self.conn.execute("SELECT p.digest, s.name FROM site_profiles p JOIN sites s ON s.site_id = p.site "
                                   "WHERE p.site = %s", (site_id,)).fetchone()
        if stored is not None and stored[0] == profile.digest() and stored[1] == profile.name:
            self._profiles[site_id] = profile
            return self.site(site_id)
        return self.register_site(site_id, profile.name, timezone=profile.timezone, local_id=profile.local_id,
                                  services=profile.services, counters={c: k.agency for c, k in profile.counters.items()},
                                  profile=profile)

    def profile(self, site_id: str) -> Profile | None:
        """The site's profile as the store holds it, or None before any came (asked again each time then: another
        process, `antrian central load --config`, may register it meanwhile)."""
        found = self._profiles.get(site_id)
        if found is None:
            row = self.conn.execute("SELECT profile FROM site_profiles WHERE site = %s", (site_id,)).fetchone()
            try:
                found = from_doc(row[0]) if row else None
            except ProfileError:  # written by this code, so not expected: the site then counts no opening hours
                found = None
            if found is not None:
                self._profiles[site_id] = found
        return found

    def site(self, site_id: str) -> Site:
        found = self._sites.get(site_id)
        if found is not None:
            return found
        row = self.conn.execute("SELECT site_id, name, province, region, timezone, local_id FROM sites "
                                "WHERE site_id = %s", (site_id,)).fetchone()
        if row is None:
            raise UnknownSite(f"MPP {site_id} belum terdaftar di pusat (site {site_id} is not registered centrally)")
        self._sites[site_id] = Site(*row)
        return self._sites[site_id]

    def sites(self, province: str | None = None) -> list[Site]:
        rows = self.conn.execute("SELECT site_id, name, province, region, timezone, local_id FROM sites "
                                 "WHERE %(p)s::text IS NULL OR province = %(p)s ORDER BY site_id",
                                 {"p": province}).fetchall()
        return [Site(*r) for r in rows]

    def last_seq(self, site_id: str) -> int:
        """The seq of the site's last stored event (0 before the first): where its forwarder goes on from."""
        row = self.conn.execute("SELECT last_seq FROM site_cursor WHERE site = %s", (site_id,)).fetchone()
        if row is None:
            raise UnknownSite(f"MPP {site_id} belum terdaftar di pusat (site {site_id} is not registered centrally)")
        return int(row[0])

    def site_logs(self, site_id: str) -> list[tuple[str, int]]:
        """(log id, base) of each log of the site, in the order first seen: its events are stored as seq = base +
        the log's own seq (broker/forward/epoch.py)."""
        return [(str(log_id), int(base)) for log_id, base in self.conn.execute(
            "SELECT log_id, base FROM site_logs WHERE site = %s ORDER BY base, first_seen", (site_id,)).fetchall()]

    def add_site_log(self, site_id: str, log_id: str, *, adopt: bool = False) -> int:
        """Record a log of the site seen for the first time (again: nothing changes); returns its base: 0 when
        `adopt` (the site's first log, named), else the site's last stored seq, read under the cursor's lock."""
        conn = self.conn
        try:
            with conn.transaction():
                if conn.execute("SELECT 1 FROM site_cursor WHERE site = %s FOR UPDATE", (site_id,)).fetchone() is None:
                    raise UnknownSite(f"MPP {site_id} belum terdaftar di pusat (site {site_id} is not registered "
                                      "centrally)")
                conn.execute("INSERT INTO site_logs (site, log_id, base) SELECT site, %s, CASE WHEN %s THEN 0 ELSE "
                             "last_seq END FROM site_cursor WHERE site = %s ON CONFLICT DO NOTHING",
                             (log_id, adopt, site_id))
                row = conn.execute("SELECT base FROM site_logs WHERE site = %s AND log_id = %s",
                                   (site_id, log_id)).fetchone()
        except psycopg.Error as exc:
            raise CentralError(f"the log {log_id} of {site_id} was not recorded: {exc}") from None
        assert row is not None  # inserted or there already, in the transaction that locked the cursor
        return int(row[0])

    def _partitions(self, rows: list[_Row]) -> None:
        wanted = sorted(_months(rows) - self._months)
        if not wanted:
            return
        conn = self.conn
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_PARTITION_LOCK,))
            for month in wanted:
                after = (month + timedelta(days=32)).replace(day=1)
                conn.execute(f"CREATE TABLE IF NOT EXISTS events_{month:%Y_%m} PARTITION OF events "
                             f"FOR VALUES FROM ('{month.isoformat()} 00:00:00+00') TO ('{after.isoformat()} 00:00:00+00')")
        self._months.update(wanted)

    def register_config(self, site_id: str, config: SiteConfig) -> Site:
        """Name an MPP from its own config: its profile (register_profile)."""
        return self.register_profile(site_id, of_config(config))

    # ------------------------------------------------------------------ what the province reads

    def league(self, period_from: date, period_to: date, province: str | None = None) -> list[LeagueRow]:
        return queries.league(self.conn, period_from, period_to, province)

    def trend(self, site_id: str, period_from: date, period_to: date) -> list[WeekRow]:
        return queries.trend(self.conn, site_id, period_from, period_to)

    def drill(self, site_id: str, period_from: date, period_to: date) -> list[AgencyRow]:
        return queries.drill(self.conn, site_id, period_from, period_to)

    # ------------------------------------------------------------------ ingest

    def ingest(self, site_id: str, events: Iterable[Event | Mapping[str, Any]]) -> int:
        """Store a batch of one site's events and add them to the roll-ups, all or nothing; returns the
        site's last stored seq. Events at or below it (sent before) are skipped."""
        site = self.site(site_id)
        zone = ZoneInfo(site.timezone)
        rows = [_row(e, i) for i, e in enumerate(events)]
        conn = self.conn
        if not self._staged:
            for statement in _STAGING.split(";\n"):
                conn.execute(statement)
            self._staged = True
        if rows:
            self._partitions(rows)
        for through_staging in (False, True):
            try:
                return self._store(conn, site, zone, rows, through_staging)
            except psycopg.errors.UniqueViolation as exc:
                if through_staging:
                    raise CentralError(f"the batch of {site_id} was not stored: {exc}") from None
                # some of it is in `events` already, stored past the cursor by another hand: again, the staging way
            except psycopg.Error as exc:
                raise CentralError(f"the batch of {site_id} was not stored: {exc}") from None
        raise AssertionError("unreachable")

    def _store(self, conn: psycopg.Connection, site: Site, zone: ZoneInfo, rows: list[_Row], through_staging: bool) -> int:
        """The transaction of `ingest`: the events past the site's cursor, their roll-ups, the cursor moved on."""
        site_id = site.site_id
        with conn.transaction():
            found = conn.execute("SELECT last_seq FROM site_cursor WHERE site = %s FOR UPDATE", (site_id,)).fetchone()
            last = int(found[0]) if found else 0
            fresh: dict[int, _Row] = {}
            for r in rows:
                if r.seq > last and r.seq not in fresh:
                    fresh[r.seq] = r
            if not fresh:
                return last
            batch = [fresh[s] for s in sorted(fresh)]
            staged: list[str] = []
            with conn.cursor() as cur:
                self._store_events(cur, _copy_text(site_id, batch, zone, staged), through_staging)
                if staged:
                    with cur.copy(_COPY_STAGING) as copy:
                        copy.write("".join(staged))
                kinds = {r.type for r in batch}
                params = {"site": site_id}
                with conn.pipeline():  # what follows sent at once, the results read at the end: one round trip
                    for statement, needs in _ROLL_UPS:
                        if not kinds.isdisjoint(needs):  # only the roll-ups the batch has events for
                            cur.execute(statement, params)
                    self._staffing(cur, site, batch)
                    newest = batch[-1]
                    cur.execute("UPDATE site_cursor SET last_seq = %s, last_ts = to_timestamp(%s), "
                                "events = events + %s, updated = now() WHERE site = %s",
                                (newest.seq, newest.ts, len(batch), site_id))
                    started = [r for r in batch if r.type == EventType.DAY_STARTED]
                    if started:  # tickets of two days ago and before are called no more: forgotten
                        day = datetime.fromtimestamp(started[-1].ts, zone).date() - timedelta(days=2)
                        cur.execute("DELETE FROM first_calls WHERE site = %s AND ticket < %s", (site_id, f"{day:%Y%m%d}"))
            return newest.seq

    def _store_events(self, cur: psycopg.Cursor, lines: Iterator[str], through_staging: bool) -> None:
        """COPY the batch into `events` straight away: nothing of it is there, the cursor says. Should some of
        it be there all the same (stored past the cursor by another hand), the COPY fails on the unique key, the
        transaction is rolled back and `ingest` runs it again through a staging table with ON CONFLICT DO NOTHING,
        and what was there already stays as it was. (A savepoint around the COPY instead cost two round trips a
        batch, for a case that does not happen.)"""
        if not through_staging:
            with cur.copy(_COPY_EVENTS.format("events")) as copy:
                for chunk in lines:
                    copy.write(chunk)
            return
        with cur.copy(_COPY_EVENTS.format("central_events_staging")) as copy:
            for chunk in lines:
                copy.write(chunk)
        cur.execute(_INSERT_EVENTS)

    def _staffing(self, cur: psycopg.Cursor, site: Site, batch: list[_Row]) -> None:
        profile = self.profile(site.site_id)
        if profile is not None:
            self._opening(cur, site, profile, batch)
        staffing = [r for r in batch if r.type in _STAFFING]
        if not staffing:
            return
        opened = {c: (since, officer) for c, officer, since in cur.execute(
            "SELECT counter, officer, since FROM staff_open WHERE site = %s", (site.site_id,)).fetchall()}
        sessions = _Sessions(ZoneInfo(site.timezone), opened)
        for r in staffing:
            sessions.feed(r)
        cur.execute("DELETE FROM staff_open WHERE site = %s", (site.site_id,))
        cur.executemany("INSERT INTO staff_open (site, counter, officer, since) VALUES (%s, %s, %s, %s)",
                        [(site.site_id, c, officer, since) for c, (since, officer) in sessions.open.items()])
        within = _within_opening(profile, ZoneInfo(site.timezone), sessions.pieces)
        cur.executemany(_STAFFED, [(site.site_id, day, counter, s, n, within.get((day, counter), 0.0))
                                   for (day, counter), (s, n) in sessions.signed.items()])
        per_day: dict[date, list[float]] = defaultdict(lambda: [0.0, 0.0])
        per_month: dict[tuple[date, str], list[float]] = defaultdict(lambda: [0.0, 0])
        for (day, counter), (s, n) in sessions.signed.items():
            per_day[day][0] += s
            per_day[day][1] += within.get((day, counter), 0.0)
            month = per_month[(day.replace(day=1), counter)]
            month[0] += s
            month[1] += n
        cur.executemany(_STAFFED_MONTH, [(site.site_id, m, counter, s, n) for (m, counter), (s, n) in per_month.items()])
        cur.executemany(_STAFFED_SITE, [(site.site_id, day, day - timedelta(days=day.weekday()), s, w)
                                        for day, (s, w) in per_day.items()])

    def _opening(self, cur: psycopg.Cursor, site: Site, profile: Profile, batch: list[_Row]) -> None:
        """Each counter's opening seconds for the local days from the one after `site_opening.through` up to the
        batch's newest (not past tomorrow by the real clock: a site clock running ahead writes no future)."""
        zone = ZoneInfo(site.timezone)
        found = cur.execute("SELECT through FROM site_opening WHERE site = %s", (site.site_id,)).fetchone()
        newest = datetime.fromtimestamp(max(r.ts for r in batch), zone).date()
        last = min(newest, datetime.now(zone).date() + timedelta(days=1))
        first = found[0] + timedelta(days=1) if found else datetime.fromtimestamp(min(r.ts for r in batch), zone).date()
        if last < first:
            return
        first = max(first, last - timedelta(days=_OPENING_BACK))
        rows: list[tuple[str, date, str, float]] = []
        per_day: dict[date, float] = defaultdict(float)
        day = first
        while day <= last:
            for counter in profile.counters:
                ranges = profile.opening_ranges(counter, day, zone)
                if ranges:
                    seconds = sum(e - s for s, e in ranges)
                    rows.append((site.site_id, day, counter, seconds))
                    per_day[day] += seconds
            day += timedelta(days=1)
        cur.executemany(_OPENING, rows)
        cur.executemany(_OPENING_SITE, [(site.site_id, d, d - timedelta(days=d.weekday()), s) for d, s in per_day.items()])
        cur.execute("INSERT INTO site_opening (site, through) VALUES (%s, %s) ON CONFLICT (site) DO UPDATE "
                    "SET through = excluded.through", (site.site_id, last))


def _within_opening(profile: Profile | None, zone: ZoneInfo,
                    pieces: list[tuple[date, str, float, float]]) -> dict[tuple[date, str], float]:
    """Seconds of each (day, counter)'s sessions within its opening ranges that day (none without a profile):
    broker/reports/staffing.py's `_overlap` of the signed spans with `opening_ranges`."""
    within: dict[tuple[date, str], float] = defaultdict(float)
    if profile is None:
        return within
    for day, counter, t0, t1 in pieces:
        ranges = profile.opening_ranges(counter, day, zone)
        seconds = sum(max(0.0, min(t1, r1) - max(t0, r0)) for r0, r1 in ranges)
        if seconds > 0:
            within[(day, counter)] += seconds
    return within
