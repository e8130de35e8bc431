"""The province (issue 19) end to end: the four Kotawaringin MPPs of the seed, each with its own Mosquitto bridged
to the province's, forwarded into a real PostgreSQL while the link is cut and a forwarder is killed; the central
figures must equal each site's own SQLite log and its own reports, exactly. No MPP is registered beforehand:
each is named by the profile its forwarder sends (`antrian forward --config`), whose opening hours give the
league's share of opening hours staffed, equal to the site's own staffing report.

Each MPP is simulated for a week of the seed's period (the simulator's traffic files of March-May 2025, from the
Monday its empty counters begin) through the real engine; the comparison recounts the site's log itself.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from antrian_assets import ROOT as ASSETS
from broker.central import CentralStore, UnknownSite, drill
from broker.core.events import EventType as E
from broker.forward.bridge import bridge_conf
from broker.forward.ingest import Ingest
from broker.forward.sink import MappingSink
from broker.reports.build import EventLog, Period, visitors
from broker.reports.staffing import staffing
from broker.server.mosquitto import PrivateMosquitto
from broker.server.store import EventStore
from broker.sim.simulate import simulate
from broker.sim.traffic import load_traffic
from broker.site.config import load_config, parse_config
from conftest import SMALL_SITE, _need_mosquitto, free_port
from integration.test_mqtt_contract import wait_until

pytestmark = pytest.mark.mosquitto

SITES = ("kobar", "kotim", "lamandau", "sukamara")
FIRST = date(2025, 4, 28)  # a Monday of the seed's period: Kobar's empty counters begin
DAYS = 5
LAST = FIRST + timedelta(days=DAYS - 1)


@pytest.fixture(scope="module")
def halls(tmp_path_factory):
    """Each MPP's config and a week of its log, written by the real engine (through its own private broker)."""
    found = {}
    for site in SITES:
        config = load_config(ASSETS / "kotawaringin" / f"{site}.toml")
        model = load_traffic(config, ASSETS / "kotawaringin" / f"{site}-traffic.toml")
        data = tmp_path_factory.mktemp(site)
        summary = simulate(config, model, data, start=FIRST, days=DAYS, seed=1, synchronous="NORMAL")
        assert summary["log_mismatches"] == [], summary["log_mismatches"]
        found[config.site.province_id] = (config, data)
    return found


def head(data: Path) -> int:
    db = sqlite3.connect(f"file:{data / 'antrian.sqlite3'}?mode=ro", uri=True)
    try:
        return int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])
    finally:
        db.close()


def recount(config, data: Path) -> dict[str, int]:
    """What the site's own log says of the week, counted here from its events."""
    store = EventStore(data, config.site.id)
    try:
        kinds = Counter(e.type for e in store.iter_events())
    finally:
        store.close()
    return {"visitors": kinds[E.TICKET_ISSUED], "served": kinds[E.TICKET_FINISHED],
            "no_shows": kinds[E.TICKET_NO_SHOW], "respondents": kinds[E.SURVEY_ANSWERED],
            "turned_away": kinds[E.DEMAND_TURNED_AWAY]}


def forward(data: Path, broker: str, config_file: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "broker.cli", "forward", "--data", str(data), "--broker", broker,
                             "--config", config_file, "--batch", "40", "--window", "2", "--ack-timeout", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_four_mpps_forwarded_through_a_cut_link_and_a_killed_forwarder_equal_their_own_logs(halls, postgres, tmp_path):
    _need_mosquitto()
    open_site = parse_config(SMALL_SITE, "small-site.toml")  # the brokers: anonymous clients within antrian/#
    province_port = free_port()
    province = PrivateMosquitto(open_site, tmp_path / "province-data", ("127.0.0.1", province_port),
                                folder=tmp_path / "province", supervise=False)
    brokers = {}
    for site_id in halls:
        port = free_port()
        brokers[site_id] = (PrivateMosquitto(
            open_site, tmp_path / f"{site_id}-broker-data", ("127.0.0.1", port), folder=tmp_path / f"{site_id}-broker",
            supervise=False, extra_conf=bridge_conf(site_id, f"127.0.0.1:{province_port}", restart_timeout=(1, 2))),
            f"127.0.0.1:{port}")
    with psycopg.connect(postgres, autocommit=True) as conn:  # a database of its own in the session's server
        conn.execute("CREATE DATABASE province_kotawaringin")
    postgres = make_conninfo(postgres, dbname="province_kotawaringin")
    store = CentralStore(postgres)
    store.migrate()  # and nothing registered: each MPP's forwarder sends its profile
    reader = CentralStore(postgres)
    heads = {site_id: head(data) for site_id, (_, data) in halls.items()}
    forwarders: dict[str, subprocess.Popen] = {}
    second = CentralStore(postgres)  # two workers, as `antrian central ingest` runs: two sites to each
    ingest = Ingest([MappingSink(store), MappingSink(second)], f"127.0.0.1:{province_port}")

    def central(site_id: str) -> int:
        try:
            return reader.last_seq(site_id)
        except UnknownSite:  # its profile has not arrived yet
            return 0

    province.start()
    try:
        for broker, _ in brokers.values():
            broker.start()
        ingest.start()
        assert wait_until(lambda: ingest.connected.is_set(), 20), "the ingest did not reach the province"
        province.stop()  # the link is cut before any MPP has sent a thing: days of logs wait at the sites
        for site_id, (config, data) in halls.items():
            forwarders[site_id] = forward(data, brokers[site_id][1], str(config.source))
        time.sleep(2)
        assert all(central(s) == 0 for s in halls), "nothing can arrive while the province's broker is down"
        province.start()  # the link is back: every site catches up by itself
        busiest = max(heads, key=heads.get)
        assert wait_until(lambda: central(busiest) > 0, 30), "nothing arrived after the link came back"
        forwarders[busiest].kill()  # SIGKILL in the middle of catching up
        forwarders[busiest].wait()
        killed_at = central(busiest)
        assert killed_at < heads[busiest], "the forwarder was not killed mid-stream"
        config, data = halls[busiest]
        forwarders[busiest] = forward(data, brokers[busiest][1], str(config.source))  # from its cursor
        assert wait_until(lambda: all(central(s) == heads[s] for s in halls), 120), \
            {s: (central(s), heads[s]) for s in halls}
    finally:
        for process in forwarders.values():
            process.terminate()
            process.wait(15)
        ingest.stop()
        for broker, _ in brokers.values():
            broker.stop()
        province.stop()

    league = {row.site_id: row for row in reader.league(FIRST, LAST, province="62")}
    assert set(league) == set(halls) == {"62.01-kobar", "62.02-kotim", "62.09-lamandau", "62.08-sukamara"}
    for site_id, (config, data) in halls.items():
        own, figures = recount(config, data), league[site_id].figures
        assert {"visitors": figures.visitors, "served": figures.served, "no_shows": figures.no_shows,
                "respondents": figures.respondents, "turned_away": figures.turned_away} == own, site_id
        log = EventLog(data, config)
        try:
            assert visitors([log], Period(FIRST, LAST)).summary["total"] == figures.visitors, site_id
            own_staffing = staffing([log], Period(FIRST, LAST)).summary
        finally:
            log.close()
        assert own["visitors"] > 0
        assert league[site_id].name == config.site.name, "named by the profile its forwarder sent"
        assert figures.staffed_share == own_staffing["staffed_share"] is not None, site_id
        assert round(figures.opening_hours, 1) == own_staffing["opening_hours"] > 0, site_id
        names = {a.agency: a.name for a in drill(reader.conn, site_id, FIRST, LAST)}
        assert {a: n for a, n in names.items() if a} == {
            a: config.agencies[a].name for a in names if a}, "every agency is named as its config names it"
    ranked = [row.site_id for row in sorted(league.values(), key=lambda r: r.rank)]
    assert ranked[0] == "62.02-kotim", "Kotawaringin Timur had the most visitors of the four, as in the seed"
    reader.close()
    second.close()
    store.close()
