"""The province's central store on a real PostgreSQL: a simulated MPP's log ingested in batches gives the
same figures as the site's own reports, exactly, however the batches are cut, sent twice or overlapping."""

from __future__ import annotations

import random
import statistics
import threading
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from antrian_assets import ROOT as ASSETS
from broker.central import CentralError, CentralStore, UnknownSite, drill, league, site_ikm, trend
from broker.central.schema import SCHEMA_VERSION
from broker.core.commands import Outcome
from broker.core.events import Event, EventType
from broker.core.ikm import from_sums
from broker.forward.profile import of_config
from broker.reports.build import EventLog, Period, _ikm_groups, _issued, _noshow_counts, share, timings
from broker.reports.staffing import attendance, spans, staffing
from broker.reports.turned_away import counts as turned_away_counts
from broker.server.store import EventStore
from broker.sim.simulate import simulate
from broker.sim.traffic import load_traffic
from broker.site.config import load_config

MONDAY = date(2022, 11, 21)
DAYS = 3
PERIOD = Period(MONDAY, MONDAY + timedelta(days=DAYS - 1))
SITE = "33.17-mpp"  # Kabupaten Rembang, the sample config's MPP
V1_TABLES = (Path(__file__).parent / "central_schema_v1.sql").read_text(encoding="utf-8")
ROLLUPS = ("service_daily", "site_daily", "ikm_daily", "ikm_monthly", "ikm_agency_daily", "turned_away_daily",
           "staffing_daily", "staffing_monthly", "staff_open", "site_cursor", "site_opening")


@pytest.fixture(scope="module")
def site_log(tmp_path_factory):
    """Three days of MPP Rembang through the real engine, with a small quota on KTP-el so that some
    visitors are turned away (demand_turned_away); its config, data folder and events."""
    folder = tmp_path_factory.mktemp("rembang-config")
    text = (ASSETS / "sample-mpp.toml").read_text(encoding="utf-8")
    assert text.count("quota = 100\n") == 1
    (folder / "site.toml").write_text(text.replace("quota = 100\n", "quota = 12\n"), encoding="utf-8")  # KTP-el
    config = load_config(folder / "site.toml")
    model = load_traffic(config, ASSETS / "sample-traffic.toml")
    data = tmp_path_factory.mktemp("rembang")
    summary = simulate(config, model, data, start=MONDAY, days=DAYS, seed=3, synchronous="NORMAL")
    assert summary["log_mismatches"] == []
    store = EventStore(data, config.site.id)
    try:
        events = list(store.iter_events())
    finally:
        store.close()
    kinds = {e.type for e in events}
    assert {EventType.DEMAND_TURNED_AWAY, EventType.SURVEY_ANSWERED, EventType.OFFICER_SIGNED_IN,
            EventType.TICKET_NO_SHOW, EventType.DAY_STARTED} <= kinds, "the log holds every kind the store counts"
    return config, data, events


@pytest.fixture(scope="module")
def central(postgres):
    store = CentralStore(postgres)
    store.migrate()
    store.migrate()  # twice: nothing changes
    yield store
    store.close()


def batches(events, size: int):
    return [events[i:i + size] for i in range(0, len(events), size)]


def snapshot(store: CentralStore, site: str) -> dict[str, list[tuple]]:
    found = {}
    for table in ROLLUPS:
        rows = store.conn.execute(f"SELECT * FROM {table} WHERE site = %s", (site,)).fetchall()
        found[table] = sorted(tuple(round(v, 6) if isinstance(v, float) else v  # sums of waits, in any order
                                    for v in r[1:] if not isinstance(v, datetime)) for r in rows)  # not `updated`
    found["events"] = store.conn.execute("SELECT seq, ts, type, ticket, data FROM events WHERE site = %s ORDER BY seq",
                                         (site,)).fetchall()
    return found


@pytest.fixture(scope="module")
def ingested(central, site_log):
    """The log sent in batches of 500 events, as a forwarder would: the central store of one site."""
    config, _, events = site_log
    central.register_config(SITE, config)
    last = 0
    for batch in batches(events, 500):
        last = central.ingest(SITE, [e.as_dict() for e in batch])  # as they cross the wire
    assert last == events[-1].seq == central.last_seq(SITE)
    return central


def report_figures(config, data):
    """The site's own figures over the period, from its log through broker/reports."""
    log = EventLog(data, config)
    try:
        issued = _issued(log, PERIOD)
        noshows = _noshow_counts(log, PERIOD)
        waits = timings(log, PERIOD).waits.get("all", [])
        ikm = _ikm_groups(log, PERIOD, "site")[0]
        ikm_agency = _ikm_groups(log, PERIOD, "agency")[1:]
        refused = turned_away_counts(log, PERIOD)
        _, signed, _ = spans(log, PERIOD)
    finally:
        log.close()
    return issued, noshows, waits, ikm, ikm_agency, refused, signed


def test_central_figures_are_the_sites_own_report(ingested, site_log):
    config, data, events = site_log
    issued, noshows, waits, (_, respondents, sums, served_pop), ikm_agency, refused, signed = report_figures(config, data)
    visitors = sum(n for *_, n in issued)
    assert visitors > 300

    conn = ingested.conn
    per_service = {(d, a, s): n for d, a, s, n in conn.execute(
        "SELECT day, agency, service, issued FROM service_daily WHERE site = %s AND issued > 0", (SITE,)).fetchall()}
    assert per_service == {(d, a, s): n for d, a, s, n in issued}, "visitors per day, agency and service"
    finished = {k: c[EventType.TICKET_FINISHED] for k, c in noshows.items() if c[EventType.TICKET_FINISHED]}
    no_show = {k: c[EventType.TICKET_NO_SHOW] for k, c in noshows.items() if c[EventType.TICKET_NO_SHOW]}
    assert dict(conn.execute("SELECT service, sum(served) FROM service_daily WHERE site = %s GROUP BY 1 "
                             "HAVING sum(served) > 0", (SITE,)).fetchall()) == finished
    assert dict(conn.execute("SELECT service, sum(no_shows) FROM service_daily WHERE site = %s GROUP BY 1 "
                             "HAVING sum(no_shows) > 0", (SITE,)).fetchall()) == no_show
    assert no_show, "the simulated visitors miss some calls"

    [row] = league(conn, PERIOD.first, PERIOD.last)
    f = row.figures
    for first, last in ((date(2022, 11, 1), date(2022, 11, 30)), (date(2022, 10, 20), date(2023, 1, 5))):
        assert league(conn, first, last) == [row], "whole months read from the monthly roll-ups"
    assert (row.site_id, row.province, row.region, row.rank) == (SITE, "33", "33.17", 1)
    assert f.visitors == visitors and f.served == sum(finished.values()) == served_pop
    assert f.no_shows == sum(no_show.values())
    assert f.waits == len(waits) and f.avg_wait_s == pytest.approx(statistics.fmean(waits), rel=1e-9)
    assert f.turned_away == sum(sum(c.values()) for c in refused.values()) > 0
    assert f.respondents == respondents > 0
    site_index = from_sums(respondents, sums)
    assert (f.ikm, f.grade, f.performance) == (site_index.ikm, site_index.grade, site_index.performance)
    assert site_ikm(conn, SITE, PERIOD.first, PERIOD.last).sums == tuple(sums)
    signed_s = sum(t1 - t0 for pieces in signed.values() for t0, t1 in pieces)
    assert f.counter_hours * 3600 == pytest.approx(signed_s, abs=1e-6) and signed_s > 0
    assert f.counters == len([c for c, pieces in signed.items() if pieces])
    assert f.visitors_per_counter_hour == pytest.approx(visitors / (signed_s / 3600))

    per_reason = defaultdict(int)
    for (day, service), c in refused.items():
        for reason, n in c.items():
            per_reason[(day, service, reason)] += n
    stored = {(d, s, r): n for d, s, r, n in conn.execute(
        "SELECT day, service, reason, n FROM turned_away_daily WHERE site = %s", (SITE,)).fetchall()}
    assert stored == dict(per_reason)

    staffed = {(d, c): s for d, c, s in conn.execute(
        "SELECT day, counter, signed_s FROM staffing_daily WHERE site = %s AND sessions > 0", (SITE,)).fetchall()}
    zone = ZoneInfo(config.site.timezone)
    by_day = defaultdict(float)
    for counter, pieces in signed.items():
        for t0, t1 in pieces:
            by_day[(datetime.fromtimestamp(t0, zone).date(), counter)] += t1 - t0
    assert staffed.keys() == by_day.keys()
    assert all(staffed[k] == pytest.approx(by_day[k], abs=1e-6) for k in by_day)


def test_drill_down_and_weeks_add_up_to_the_site(ingested, site_log):
    config, data, _ = site_log
    issued, _, _, _, ikm_agency, _, _ = report_figures(config, data)
    [row] = league(ingested.conn, PERIOD.first, PERIOD.last)
    agencies = drill(ingested.conn, SITE, PERIOD.first, PERIOD.last)
    by_agency = defaultdict(int)
    for _, agency, _, n in issued:
        by_agency[agency] += n
    assert {a.agency: a.figures.visitors for a in agencies if a.figures.visitors} == dict(by_agency)
    assert sum(a.figures.turned_away for a in agencies) == row.figures.turned_away
    assert sum(a.figures.served for a in agencies) == row.figures.served
    assert sum(a.figures.counter_hours for a in agencies) == pytest.approx(row.figures.counter_hours)
    assert "" not in {a.agency for a in agencies if a.figures.counter_hours}, "every counter has its agency"
    names = {a.agency: a for a in agencies}
    for name, n, sums, _ in ikm_agency:  # the report names agencies; the store keeps their ids
        agency = next(aid for aid, found in config.agencies.items() if (found.short or found.name) == name)
        assert names[agency].figures.respondents == n
        if n:
            assert names[agency].figures.ikm == from_sums(n, sums).ikm
    weeks = trend(ingested.conn, SITE, PERIOD.first, PERIOD.last)
    assert [w.week for w in weeks] == [MONDAY]
    assert weeks[0].figures == row.figures


def test_sending_again_or_overlapping_changes_nothing(ingested, site_log):
    _, _, events = site_log
    before = snapshot(ingested, SITE)
    assert len(before["events"]) == len(events)
    last = events[-1].seq
    for batch in batches(events, 500):  # the whole log again, as after a lost acknowledgement
        assert ingested.ingest(SITE, batch) == last
    rng = random.Random(5)
    for _ in range(10):  # batches overlapping what is stored
        a = rng.randrange(len(events))
        assert ingested.ingest(SITE, events[a:a + rng.randrange(1, 800)]) == last
    assert ingested.ingest(SITE, []) == last
    assert snapshot(ingested, SITE) == before


def test_any_cut_of_the_batches_gives_the_same_roll_ups(ingested, site_log):
    """Each batch after the first overlaps the last; sessions and first calls are carried across batches."""
    config, _, events = site_log
    expected = snapshot(ingested, SITE)
    for other, cut in (("33.17-mpp-b", [1, 7, 333]), ("33.17-mpp-c", [len(events)])):
        ingested.register_config(other, config)
        i, rng = 0, random.Random(other)
        while i < len(events):
            size = rng.choice(cut)
            start = max(0, i - rng.randrange(0, 5))  # a few events sent again
            ingested.ingest(other, events[start:i + size])
            i += size
        got = snapshot(ingested, other)
        assert got == expected, other


def test_batches_the_ingest_combines_with_resends_in_the_middle_count_each_event_once(ingested, site_log):
    """The live path: the forwarder's batches of 500 (broker/forward/wire.py), some sent again while the next ones
    are queued, go to the store in one call per turn of the ingest (broker/forward/ingest.py)."""
    import json

    from broker.forward import wire
    from broker.forward.ingest import Ingest
    from broker.forward.sink import MappingSink

    class Message:
        def __init__(self, mid, topic, payload):
            self.mid, self.topic, self.payload, self.qos = mid, topic, payload, 1

    class Client:
        def __init__(self):
            self.acked, self.published = [], []

        def ack(self, mid, qos):
            self.acked.append(mid)

        def publish(self, topic, payload, qos=0, retain=False):
            self.published.append(payload)

    config, _, events = site_log
    expected = snapshot(ingested, SITE)
    twin = "33.17-mpp-e"
    ingested.register_config(twin, config)
    topic = wire.events_topic(twin)
    payloads = [wire.encode_rows(twin, [(e.seq, e.ts, str(e.type), json.dumps(e.data)) for e in events[i:i + 500]])
                for i in range(0, len(events), wire.BATCH_EVENTS)]
    rng, sent, i = random.Random(19), [], 0
    while i < len(payloads):
        turn = payloads[i:i + 4]
        turn.insert(rng.randrange(1, max(2, len(turn))), payloads[max(0, i - rng.randrange(0, 2))])  # sent again
        sent.append(turn)
        i += 4
    client, ingest = Client(), Ingest(MappingSink(ingested), "mqtt://127.0.0.1:1")
    mid = 0
    for turn in sent:
        ingest.handle(client, [Message(mid + k, topic, p) for k, p in enumerate(turn)])
        mid += len(turn)
    assert client.acked == list(range(mid))
    assert wire.decode_ack(client.published[-1], twin) == events[-1].seq == ingested.last_seq(twin)
    assert snapshot(ingested, twin) == expected


def test_two_sites_never_collide(ingested, site_log):
    config, _, events = site_log
    twin = "33.18-mpp"  # another region's MPP with the very same log (same seqs, same tickets)
    ingested.register_config(twin, config)
    for batch in batches(events, 2000):
        ingested.ingest(twin, batch)
    rows = {r.site_id: r for r in league(ingested.conn, PERIOD.first, PERIOD.last, province="33")}
    assert rows[twin].figures == rows[SITE].figures
    assert ingested.conn.execute("SELECT count(*) FROM events WHERE site IN (%s, %s)",
                                 (SITE, twin)).fetchone() == (2 * len(events),)
    assert league(ingested.conn, PERIOD.first, PERIOD.last, province="62") == []
    assert all(r.province == "33" for r in ingested.sites(province="33"))


def test_a_site_must_be_registered_and_named_by_its_region(central):
    with pytest.raises(UnknownSite):
        central.ingest("62.02-mpp", [Event(EventType.DAY_STARTED, 1.7e9, 1, {"day": "2023-11-14"})])
    for wrong in ("kobar", "62-", "6201-mpp", "62.01_mpp", "62.01-MPP"):
        with pytest.raises(CentralError):
            central.register_site(wrong, "MPP")
    with pytest.raises(CentralError):
        central.register_site("62.01-mpp", "MPP", timezone="Asia/Pangkalan_Bun")


def test_events_go_into_monthly_partitions_made_when_needed(central):
    central.register_site("62.06-mpp", "MPP Kabupaten Sukamara")
    zone = ZoneInfo("Asia/Jakarta")
    days = [date(2025, 3, 31), date(2025, 4, 1), date(2025, 6, 2)]  # no event in May: no partition for it
    events = [Event(EventType.DAY_STARTED, datetime(d.year, d.month, d.day, 7, tzinfo=zone).timestamp(), i + 1,
                    {"day": d.isoformat()}) for i, d in enumerate(days)]
    assert central.ingest("62.06-mpp", events) == 3
    parts = {r[0] for r in central.conn.execute(
        "SELECT tableoid::regclass::text FROM events WHERE site = '62.06-mpp'").fetchall()}
    assert parts == {"events_2025_03", "events_2025_04", "events_2025_06"}
    assert central.conn.execute("SELECT to_regclass('events_2025_05')").fetchone() == (None,)


def test_a_bad_batch_stores_nothing(central):
    central.register_site("62.07-mpp", "MPP Kabupaten Lamandau")
    good = {"type": "day_started", "ts": 1.74e9, "seq": 1, "day": "2025-02-20"}
    with pytest.raises(CentralError):
        central.ingest("62.07-mpp", [good, {"type": "ticket_issued", "seq": 2}])
    assert central.last_seq("62.07-mpp") == 0
    for when in (float("nan"), float("inf"), -1.0, 1e13):  # no time, or none a site clock can give
        with pytest.raises(CentralError):
            central.ingest("62.07-mpp", [good | {"ts": when}])
    with pytest.raises(CentralError):
        central.ingest("62.07-mpp", [good | {"seq": "two"}])
    assert central.ingest("62.07-mpp", [good]) == 1
    with psycopg.connect(central.conninfo) as other:
        assert other.execute("SELECT count(*) FROM events WHERE site = '62.07-mpp'").fetchone() == (1,)


def test_events_stored_past_the_cursor_by_another_hand_are_kept_and_the_rest_stored(central):
    central.register_site("62.09-mpp", "MPP Kabupaten Katingan")
    events = [{"type": "day_started", "ts": 1.74e9 + i, "seq": i + 1, "day": "2025-02-20"} for i in range(4)]
    assert central.ingest("62.09-mpp", events[:2]) == 2
    central.conn.execute("INSERT INTO events (site, seq, ts, type, data) "
                         "VALUES ('62.09-mpp', 3, to_timestamp(1740000002), 'day_started', '{\"by\": \"hand\"}')")
    assert central.ingest("62.09-mpp", events) == 4
    assert central.conn.execute("SELECT seq, data->>'by' FROM events WHERE site = '62.09-mpp' ORDER BY seq").fetchall() \
        == [(1, None), (2, None), (3, "hand"), (4, None)]


def test_sign_in_sessions_pair_as_the_site_report_pairs_them_across_batches(central, tmp_path, small_config_file):
    """A session left open overnight counts up to midnight; a sign-in at a signed-in counter ends the session
    there; a sign-out naming another officer ends nothing; sessions open at a batch's end go on in the next."""
    config = load_config(small_config_file)
    zone = ZoneInfo(config.site.timezone)
    first = date(2023, 11, 14)

    def at(day: int, hh: int, mm: int = 0) -> float:
        return datetime(2023, 11, 14 + day, hh, mm, tzinfo=zone).timestamp()

    plan = [(at(0, 7, 30), EventType.DAY_STARTED, {"day": "2023-11-14", "expired": 0}),
            (at(0, 9), EventType.OFFICER_SIGNED_IN, {"counter": "1", "officer": "a", "name": "A"}),
            (at(1, 7, 30), EventType.DAY_STARTED, {"day": "2023-11-15", "expired": 0}),
            (at(1, 8), EventType.OFFICER_SIGNED_IN, {"counter": "1", "officer": "b", "name": "B"}),
            (at(1, 9), EventType.OFFICER_SIGNED_OUT, {"counter": "1", "officer": "a", "reason": "signed_out"}),
            (at(1, 10), EventType.OFFICER_SIGNED_IN, {"counter": "2", "officer": "c", "name": "C"}),
            (at(1, 11, 15), EventType.OFFICER_SIGNED_IN, {"counter": "2", "officer": "d", "name": "D"}),
            (at(1, 12), EventType.OFFICER_SIGNED_OUT, {"counter": "2", "officer": "d", "reason": "signed_out"}),
            (at(1, 15), EventType.OFFICER_SIGNED_OUT, {"counter": "1", "officer": "b", "reason": "signed_out"})]
    events = [Event(kind, ts, seq, data) for seq, (ts, kind, data) in enumerate(plan, start=1)]
    store = EventStore(tmp_path / "data", config.site.id)
    try:
        store.append([Outcome(reply={}, events=events)])
    finally:
        store.close()
    log = EventLog(tmp_path / "data", config)
    try:
        _, signed, _ = spans(log, Period(first, first + timedelta(days=1)))
    finally:
        log.close()
    expected = defaultdict(float)
    for counter, pieces in signed.items():
        for t0, t1 in pieces:
            expected[(datetime.fromtimestamp(t0, zone).date(), counter)] += t1 - t0
    assert expected == {(first, "1"): 15 * 3600, (first + timedelta(days=1), "1"): 7 * 3600,
                        (first + timedelta(days=1), "2"): 2 * 3600}
    central.register_site("35.15-mpp", "MPP Uji")
    for event in events:  # one event a batch: every session spans batches
        central.ingest("35.15-mpp", [event])
    stored = dict(((d, c), s) for d, c, s in central.conn.execute(
        "SELECT day, counter, signed_s FROM staffing_daily WHERE site = '35.15-mpp'").fetchall())
    assert stored == pytest.approx(dict(expected))
    assert central.conn.execute("SELECT count(*) FROM staff_open WHERE site = '35.15-mpp'").fetchone() == (0,)


def test_two_ingests_of_one_site_at_once_take_turns(ingested, site_log, postgres):
    """Two forwarders (or a forwarder and its restarted self) sending the same log at once: each event once."""
    config, _, events = site_log
    expected = snapshot(ingested, SITE)
    twin = "33.17-mpp-d"
    ingested.register_config(twin, config)
    failures = []

    def send(size: int) -> None:
        try:
            with CentralStore(postgres) as store:
                for batch in batches(events, size):
                    store.ingest(twin, batch)
        except Exception as exc:  # the assertion below names it
            failures.append(exc)

    threads = [threading.Thread(target=send, args=(size,)) for size in (300, 700)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert snapshot(ingested, twin) == expected


def test_opening_hours_staffed_equal_the_sites_own_staffing_report(central, site_log, tmp_path):
    """% of opening hours staffed, per site, per counter-day and per agency, as broker/reports/staffing.py counts it
    from the site's own log: sessions clipped to each agency's opening ranges, a closed day and holidays excluded.
    The config sent to the province closes Dindukcapil on the Tuesday (its officers sat all the same) and the whole
    MPP on the Wednesday afternoon is no closure: only whole days close."""
    config, data, events = site_log
    text = Path(config.source).read_text(encoding="utf-8")
    closed_day = MONDAY + timedelta(days=1)
    (tmp_path / "site.toml").write_text(text + f'\n[[closures]]\ndate = {closed_day.isoformat()}\nreason = "Rapat"\n'
                                        'agencies = ["dindukcapil"]\n', encoding="utf-8")
    closing = load_config(tmp_path / "site.toml")
    site = "33.17-mpp-tutup"
    central.register_config(site, closing)
    for batch in batches(events, 411):
        central.ingest(site, [e.as_dict() for e in batch])
    log = EventLog(data, closing)
    try:
        report = staffing([log], PERIOD)
        per_counter, _ = attendance(log, PERIOD)
    finally:
        log.close()
    open_log = EventLog(data, config)
    try:
        unclosed = staffing([open_log], PERIOD)
    finally:
        open_log.close()
    assert report.summary["opening_hours"] < unclosed.summary["opening_hours"], "the closure took hours away"
    row = {r.site_id: r for r in league(central.conn, PERIOD.first, PERIOD.last)}[site]
    assert row.figures.staffed_share == report.summary["staffed_share"] and row.figures.staffed_share is not None
    assert round(row.figures.opening_hours, 1) == report.summary["opening_hours"]
    assert round(row.figures.staffed_hours, 1) == report.summary["staffed_hours"]
    assert 0 < row.figures.staffed_share < 100

    stored = {(d, c): (o, s) for d, c, o, s in central.conn.execute(
        "SELECT day, counter, opening_s, staffed_open_s FROM staffing_daily WHERE site = %s", (site,)).fetchall()}
    expected = {(d, a.code): (a.opening[d], a.staffed[d]) for a in per_counter for d in a.opening}
    opening = {k: v for k, v in stored.items() if v[0]}
    assert opening.keys() == expected.keys()
    assert all(opening[k] == pytest.approx(expected[k]) for k in expected)
    assert all(s == 0 for (d, c), (o, s) in stored.items() if not o), "no staffed hours outside opening days"
    dindukcapil = {c for c, k in closing.counters.items() if k.agency == "dindukcapil"}
    assert dindukcapil and all((closed_day, c) not in expected for c in dindukcapil)

    by_agency: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for a in per_counter:
        agency = closing.counters[a.code].agency
        by_agency[agency][0] += sum(a.opening.values())
        by_agency[agency][1] += sum(a.staffed.values())
    agencies = {a.agency: a for a in drill(central.conn, site, PERIOD.first, PERIOD.last)}
    for agency, (opening, staffed_s) in by_agency.items():
        if not opening:  # an agency open only on days outside the period (Kejaksaan: Thursdays)
            assert agency not in agencies or agencies[agency].figures.staffed_share is None
            continue
        assert agencies[agency].figures.opening_hours * 3600 == pytest.approx(opening)
        assert agencies[agency].figures.staffed_share == share(staffed_s / 3600, opening / 3600)
        assert agencies[agency].name == closing.agencies[agency].name
    weeks = trend(central.conn, site, PERIOD.first, PERIOD.last)
    assert [w.figures.staffed_share for w in weeks] == [report.summary["staffed_share"]]


def test_an_existing_database_is_migrated_to_the_profile_tables(postgres):
    """A central store made by schema 1 (no profile tables, no opening columns) takes a profile after migrate()."""
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS central_v1")
        conn.execute("CREATE DATABASE central_v1")
    conninfo = make_conninfo(postgres, dbname="central_v1")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(V1_TABLES)
        conn.execute("INSERT INTO sites (site_id, name, province, region) VALUES ('62.01-mpp', 'Lama', '62', '62.01')")
        conn.execute("INSERT INTO site_daily (site, day, week, issued) VALUES ('62.01-mpp', '2025-01-06', '2025-01-06', 7)")
    config = load_config(ASSETS / "sample-mpp.toml")
    with CentralStore(conninfo) as store:
        store.migrate()
        store.register_config("62.01-mpp", config)
        assert store.conn.execute("SELECT value FROM central_meta WHERE key = 'schema_version'").fetchone() == (
            str(SCHEMA_VERSION),)
        row = league(store.conn, date(2025, 1, 6), date(2025, 1, 6))[0]
        assert (row.name, row.figures.visitors, row.figures.staffed_share) == (config.site.name, 7, None)
        assert store.profile("62.01-mpp") == of_config(config)
