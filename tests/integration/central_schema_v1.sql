-- The central store's tables as schema version 1 made them (broker/central/schema.py before the site profile):
-- tests/integration/test_central_store.py migrates a database made of these.
CREATE TABLE IF NOT EXISTS central_meta (key text PRIMARY KEY, value text NOT NULL);

CREATE TABLE IF NOT EXISTS sites (
    site_id text PRIMARY KEY CHECK (site_id ~ '^[0-9]{2}(\.[0-9]{2}){0,3}-[a-z0-9]+(-[a-z0-9]+)*$'),
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
