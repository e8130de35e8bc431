"""The central store's tables on PostgreSQL: the events of every MPP, and the roll-ups compared across them.

Theory of operation. A site (an MPP) is named by its Kemendagri region code and a short name,
"62.01-mpp", so two MPPs of the country never collide. Its events arrive in the order of their
seq; `site_cursor.last_seq` is the last one stored, and an ingest batch keeps only the events
past it, in the transaction that moves it on: a batch sent twice, or batches that overlap, store
and count each event once. `events` holds them all, partitioned by month of `ts` (partitions made
on demand), unique on (site, seq, ts) as well.

The roll-ups are what the province compares, kept up to date in the same transaction as the
events they count, so they are never ahead of or behind the events:

- `service_daily` per site, local day, agency and service: tickets issued (the visitors), served
  (ticket_finished), no-shows, and the waits (issue to first call, `waited_s` of a ticket's first
  ticket_called; `first_calls` remembers which tickets were called already, for two days);
- `site_daily` per site and day: the same summed over agencies and services, the demand turned
  away and the seconds officers were signed in: what the league table reads for a year of 289 MPPs;
- `ikm_daily` per site, day and element, and `ikm_agency_daily` per site, day and agency (an array of
  the elements): respondents and the sum of their scores, from which broker.core.ikm.from_sums gives the index
  (`ikm_monthly` the same per site, month and element, for periods of whole months);
- `turned_away_daily` per site, day, agency, service and reason (demand_turned_away);
- `staffing_daily` per site, day and counter (`staffing_monthly` per month): seconds an officer was
  signed in (sessions still open are kept in `staff_open` across batches); and, for a site whose profile
  is known, the seconds of opening hours (`opening_s`) and the seconds signed in within them
  (`staffed_open_s`), as the site's staffing report counts them (broker/reports/staffing.py): each session
  clipped to its counter's opening ranges that day, closed days and holidays having none. `site_daily`
  holds the same two summed over counters: what the league's "% jam buka terisi" reads.

The site profile (broker/forward/profile.py: names, agencies, opening hours, closures), which comes with
the forwarded batches or from `antrian central load --config`, is kept whole in `site_profiles`, and its
agencies' names and kinds in `site_agencies`, for the pages. A day's opening seconds are written once,
with the profile of the time, when the site's first event of that day (or of a later one) is ingested;
`site_opening.through` is the last day written. Days before a site's first ingested event, and after its
newest, have none.

`migrate()` runs all of this on every start: tables missing are made, columns added since (ALTER TABLE
... ADD COLUMN IF NOT EXISTS) are added to an existing database, and `central_meta.schema_version` says
which version made it so.

A site's log started anew (`antrian serve --new-log`) numbers from 1 again: `site_logs` gives each log of a site
a base, and its events are stored as seq = base + their own seq (broker/forward/epoch.py), so the site's seqs
here stay one line without gaps across its logs.

Days are the site's local days (`sites.timezone`), weeks start on Monday, as in the site's reports.
"""

from __future__ import annotations

SCHEMA_VERSION = 3  # 2: site profiles, agencies, opening hours staffed; 3: site logs (log epochs)

TABLES = """
CREATE TABLE IF NOT EXISTS central_meta (key text PRIMARY KEY, value text NOT NULL);

CREATE TABLE IF NOT EXISTS sites (
    site_id text PRIMARY KEY CHECK (site_id ~ '^[0-9]{2}(\\.[0-9]{2}){0,3}-[a-z0-9]+(-[a-z0-9]+)*$'),
    name text NOT NULL DEFAULT '',
    province text NOT NULL,  -- Kemendagri province code: "62" (Kalimantan Tengah)
    region text NOT NULL,    -- the region's code: "62.01" (Kabupaten Kotawaringin Barat)
    timezone text NOT NULL DEFAULT 'Asia/Jakarta',
    local_id text NOT NULL DEFAULT ''  -- the id in the site's own config ("kobar")
);
CREATE INDEX IF NOT EXISTS sites_by_province ON sites (province, site_id);

CREATE TABLE IF NOT EXISTS site_cursor (
    site text PRIMARY KEY REFERENCES sites ON DELETE CASCADE,
    last_seq bigint NOT NULL DEFAULT 0,
    last_ts timestamptz,
    events bigint NOT NULL DEFAULT 0,
    updated timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS events (
    site text NOT NULL,
    seq bigint NOT NULL,
    ts timestamptz NOT NULL,
    type text NOT NULL,
    ticket text,
    data jsonb NOT NULL,
    UNIQUE (site, seq, ts)
) PARTITION BY RANGE (ts);

-- what the site's config says (and events tell) of its services and counters: the agency of each
CREATE TABLE IF NOT EXISTS site_services (
    site text NOT NULL REFERENCES sites ON DELETE CASCADE,
    service text NOT NULL,
    agency text NOT NULL,
    PRIMARY KEY (site, service)
);
CREATE TABLE IF NOT EXISTS site_counters (
    site text NOT NULL REFERENCES sites ON DELETE CASCADE,
    counter text NOT NULL,
    agency text NOT NULL,
    PRIMARY KEY (site, counter)
);

-- tickets called already (their wait is counted); ticket ids begin with their day, YYYYMMDD-, and go after two days
CREATE TABLE IF NOT EXISTS first_calls (
    site text NOT NULL,
    ticket text NOT NULL,
    PRIMARY KEY (site, ticket)
);

CREATE TABLE IF NOT EXISTS service_daily (
    site text NOT NULL,
    day date NOT NULL,
    week date NOT NULL,  -- the Monday of its week
    agency text NOT NULL,
    service text NOT NULL,
    issued integer NOT NULL DEFAULT 0,
    served integer NOT NULL DEFAULT 0,
    no_shows integer NOT NULL DEFAULT 0,
    wait_sum double precision NOT NULL DEFAULT 0,  -- seconds, over wait_n first calls
    wait_n integer NOT NULL DEFAULT 0,
    PRIMARY KEY (site, day, agency, service)
);
CREATE INDEX IF NOT EXISTS service_daily_by_week ON service_daily (site, week);

CREATE TABLE IF NOT EXISTS site_daily (
    site text NOT NULL,
    day date NOT NULL,
    week date NOT NULL,
    issued integer NOT NULL DEFAULT 0,
    served integer NOT NULL DEFAULT 0,
    no_shows integer NOT NULL DEFAULT 0,
    wait_sum double precision NOT NULL DEFAULT 0,
    wait_n integer NOT NULL DEFAULT 0,
    turned_away integer NOT NULL DEFAULT 0,
    signed_s double precision NOT NULL DEFAULT 0,
    PRIMARY KEY (site, day)
);
CREATE INDEX IF NOT EXISTS site_daily_by_day ON site_daily (day);

CREATE TABLE IF NOT EXISTS ikm_daily (
    site text NOT NULL,
    day date NOT NULL,
    month date NOT NULL,  -- the first of its month: the IKM's usual period
    element smallint NOT NULL,  -- 0-based, broker.core.ikm.ELEMENTS
    respondents integer NOT NULL DEFAULT 0,
    score bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (site, day, element)
);
CREATE INDEX IF NOT EXISTS ikm_daily_by_day ON ikm_daily (day);

-- the same per month: a league over whole months reads these (a year of 289 MPPs: 31,000 rows, not 950,000)
CREATE TABLE IF NOT EXISTS ikm_monthly (
    site text NOT NULL,
    month date NOT NULL,
    element smallint NOT NULL,
    respondents integer NOT NULL DEFAULT 0,
    score bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (site, month, element)
);
CREATE INDEX IF NOT EXISTS ikm_monthly_by_month ON ikm_monthly (month);

-- the same per agency, one row per day with the score sums of the elements in order (fewer rows to add to)
CREATE TABLE IF NOT EXISTS ikm_agency_daily (
    site text NOT NULL,
    day date NOT NULL,
    agency text NOT NULL,
    respondents integer NOT NULL DEFAULT 0,
    scores bigint[] NOT NULL,
    PRIMARY KEY (site, day, agency)
);

CREATE TABLE IF NOT EXISTS turned_away_daily (
    site text NOT NULL,
    day date NOT NULL,  -- the event's own `day`: the site's local day it happened
    agency text NOT NULL,
    service text NOT NULL,
    reason text NOT NULL,
    n integer NOT NULL DEFAULT 0,
    PRIMARY KEY (site, day, agency, service, reason)
);

CREATE TABLE IF NOT EXISTS staffing_daily (
    site text NOT NULL,
    day date NOT NULL,
    counter text NOT NULL,
    signed_s double precision NOT NULL DEFAULT 0,
    sessions integer NOT NULL DEFAULT 0,
    PRIMARY KEY (site, day, counter)
);
CREATE INDEX IF NOT EXISTS staffing_daily_by_day ON staffing_daily (day);

-- the same per month, for counting the counters staffed over whole months
CREATE TABLE IF NOT EXISTS staffing_monthly (
    site text NOT NULL,
    month date NOT NULL,
    counter text NOT NULL,
    signed_s double precision NOT NULL DEFAULT 0,
    sessions integer NOT NULL DEFAULT 0,
    PRIMARY KEY (site, month, counter)
);
CREATE INDEX IF NOT EXISTS staffing_monthly_by_month ON staffing_monthly (month);

-- an officer signed in at a counter and not (yet) out, as of the site's last stored event
CREATE TABLE IF NOT EXISTS staff_open (
    site text NOT NULL,
    counter text NOT NULL,
    officer text NOT NULL,
    since double precision NOT NULL,  -- epoch seconds, as the log has it
    PRIMARY KEY (site, counter)
);

-- version 2: the site's profile, its agencies, and the opening hours of each counter-day
CREATE TABLE IF NOT EXISTS site_profiles (
    site text PRIMARY KEY REFERENCES sites ON DELETE CASCADE,
    digest text NOT NULL,
    profile jsonb NOT NULL,  -- broker/forward/profile.py Profile.as_doc()
    updated timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS site_agencies (
    site text NOT NULL REFERENCES sites ON DELETE CASCADE,
    agency text NOT NULL,
    name text NOT NULL,
    kind text NOT NULL DEFAULT '',
    PRIMARY KEY (site, agency)
);
CREATE TABLE IF NOT EXISTS site_opening (
    site text PRIMARY KEY REFERENCES sites ON DELETE CASCADE,
    through date NOT NULL  -- the last local day whose opening seconds are written
);
ALTER TABLE staffing_daily ADD COLUMN IF NOT EXISTS opening_s double precision NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS staffed_open_s double precision NOT NULL DEFAULT 0;
ALTER TABLE site_daily ADD COLUMN IF NOT EXISTS opening_s double precision NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS staffed_open_s double precision NOT NULL DEFAULT 0;

-- version 3: each log of a site (its log epoch, docs/forwarding.md): a log started anew (--new-log) numbers
-- from 1 again; its events are stored as seq = base + its own seq, base being the site's last_seq when first seen
CREATE TABLE IF NOT EXISTS site_logs (
    site text NOT NULL REFERENCES sites ON DELETE CASCADE,
    log_id text NOT NULL,
    base bigint NOT NULL,
    first_seen timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (site, log_id)
);
"""
