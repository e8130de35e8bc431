"""Forwarding a site's log to the province (issue 19) through two real Mosquitto brokers bridged.

The site's log is written by the real engine (the simulator driving it through the site's broker) while
the province's broker is down; then the link comes back, the forwarder is killed with SIGKILL in the middle
of catching up and started again; then the province's ingest is killed the same way, then the site's broker.
The province's SQLite sink must end with exactly the site's log: every event, in order, no gap, no duplicate.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from broker.access.devices import engine_credentials
from broker.forward.bridge import bridge_conf
from broker.forward.forwarder import read_cursor
from broker.server.mosquitto import PrivateMosquitto
from broker.site.config import parse_config
from conftest import SMALL_SITE, _need_mosquitto, free_port
from integration.secure_broker import secured_broker
from integration.test_mqtt_contract import wait_until

pytestmark = pytest.mark.mosquitto

SITE = "33.17-rembang"  # the province's id (Kemendagri code) of the sample MPP Rembang the simulator drives


def antrian(*args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "broker.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, **kwargs)


def central_last(path: Path, site: str = SITE) -> int:
    if not path.exists():
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT last_seq FROM sites WHERE site = ?", (site,)).fetchone()
    except sqlite3.OperationalError:  # the ingest has not made its tables yet
        return 0
    finally:
        db.close()
    return int(row[0]) if row else 0


def site_head(data: Path) -> int:
    db = sqlite3.connect(f"file:{data / 'antrian.sqlite3'}?mode=ro", uri=True)
    try:
        return int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])
    finally:
        db.close()


def names_a_site(data: Path) -> bool:
    try:
        db = sqlite3.connect(f"file:{data / 'antrian.sqlite3'}?mode=ro", uri=True)
        try:
            return db.execute("SELECT value FROM meta WHERE key = 'site'").fetchone() is not None
        finally:
            db.close()
    except sqlite3.Error:
        return False


def rows(path: Path, query: str, *params) -> list[tuple]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [(seq, ts, type_, json.loads(data)) for seq, ts, type_, data in db.execute(query, params)]
    finally:
        db.close()


def stop(process: subprocess.Popen) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.stdout.read().decode(errors="replace") if process.stdout else ""


def test_days_logged_without_a_link_and_a_killed_forwarder_arrive_exactly(tmp_path):
    _need_mosquitto()
    config = parse_config(SMALL_SITE, "small-site.toml")  # both brokers: open to anonymous clients in antrian/#
    province_port, site_port = free_port(), free_port()
    province = PrivateMosquitto(config, tmp_path / "province-data", ("127.0.0.1", province_port),
                                folder=tmp_path / "province", supervise=False)
    # the site broker queues at most 5 messages for the down bridge: past that it drops, and only the
    # forwarder's resending from the log can make the province whole
    site = PrivateMosquitto(config, tmp_path / "site-data", ("127.0.0.1", site_port), folder=tmp_path / "site",
                            supervise=False,
                            extra_conf=bridge_conf(SITE, f"127.0.0.1:{province_port}", restart_timeout=(1, 2))
                            + "max_queued_messages 5\n")
    data, central = tmp_path / "data", tmp_path / "central.sqlite3"
    site_url = f"127.0.0.1:{site_port}"
    processes: list[subprocess.Popen] = []
    province.start()
    site.start()
    try:
        ingest = antrian("forward-ingest", "--broker", f"127.0.0.1:{province_port}", "--sqlite", str(central))
        processes.append(ingest)
        assert wait_until(lambda: central.exists(), 20), "the ingest did not start"
        time.sleep(1)  # its persistent session subscribes before the province goes down
        province.stop()  # the link is cut

        # four days of the hall, logged by the real engine, while the forwarder cannot reach the province
        simulate = antrian("simulate", "--data", str(data), "--days", "4", "--mqtt", f"mqtt://{site_url}",
                           "--quiet")
        processes.append(simulate)
        assert wait_until(lambda: names_a_site(data), 60), "the simulated engine wrote no log"
        # small batches: many round trips, room for a kill; a window of 8 overflows the bridge's queue of 5
        small = ("--window", "8", "--batch", "50", "--ack-timeout", "2")
        forwarder = antrian("forward", "--data", str(data), "--broker", site_url, "--site-id", SITE, *small)
        processes.append(forwarder)
        assert simulate.wait(240) == 0, simulate.stdout.read().decode() if simulate.stdout else ""
        head = site_head(data)
        assert head > 2000, f"four days of Rembang are thousands of events, the log has {head}"
        assert central_last(central) == 0, "nothing can reach the province while its broker is down"
        assert forwarder.poll() is None
        assert "messages are being dropped" in site.log_file.read_text(encoding="utf-8", errors="replace"), \
            "the site broker's queue for the bridge never overflowed"

        province.start()  # the link is back: the site catches up
        # the bridge's queue kept at most 5 batches of at most 50 events: the rest must be sent again
        assert wait_until(lambda: central_last(central) > 250, 30), \
            f"after the link came back the province holds {central_last(central)} events: what the site broker " \
            "dropped was not sent again"
        forwarder.kill()  # SIGKILL in the middle of catching up
        forwarder.wait()
        killed_at = central_last(central)
        assert killed_at < head, "the forwarder was not killed mid-stream"

        forwarder = antrian("forward", "--data", str(data), "--broker", site_url, "--site-id", SITE, "--ack-timeout", "2",
                            "--batch", "20", "--window", "1")  # slower still: two more kills to come
        processes.append(forwarder)
        assert wait_until(lambda: central_last(central) > killed_at, 30), "the restarted forwarder sent nothing"
        ingest.kill()  # and the province's ingest dies in the middle too: its session keeps what comes meanwhile
        ingest.wait()
        ingest_killed_at = central_last(central)
        assert ingest_killed_at < head, "the ingest was not killed mid-stream"
        ingest = antrian("forward-ingest", "--broker", f"127.0.0.1:{province_port}", "--sqlite", str(central))
        processes.append(ingest)
        assert wait_until(lambda: central_last(central) > ingest_killed_at, 30), "the restarted ingest took nothing"
        site.kill()  # and the site's own broker (a power cut of it): what it held for the bridge may be lost
        assert central_last(central) < head, "the site broker was not killed mid-stream"
        site.start()
        assert wait_until(lambda: central_last(central) == head, 60), \
            f"the province holds {central_last(central)} of {head} events"
        assert wait_until(lambda: read_cursor(data, SITE) == head, 10), "the forwarder's cursor did not follow"
        stop(forwarder)
        assert read_cursor(data, SITE) == head
    finally:
        for process in processes:
            stop(process)
        site.stop()
        province.stop()

    logged = rows(data / "antrian.sqlite3", "SELECT seq, ts, type, data FROM events ORDER BY seq")
    forwarded = rows(central, "SELECT seq, ts, type, data FROM events WHERE site = ? ORDER BY seq", SITE)
    assert [r[0] for r in forwarded] == list(range(1, head + 1))  # in order, no gap, no duplicate
    assert forwarded == logged


def test_a_closed_sites_forwarder_logs_in_as_its_own_engine_identity(tmp_path):
    """On a closed site (no anonymous clients) the forwarder is engine-forward: a login of its own beside the
    engine's (the broker binds the client id to the user), allowed only the site's central topics."""
    from broker.mqtt.client import EngineClient
    from conftest import start_engine

    b = secured_broker(tmp_path)
    engine_credentials(b.data, b.config, "forward")  # what `antrian forward --config` makes on first use
    open_config = parse_config(SMALL_SITE, "small-site.toml")
    province_port = free_port()
    province = PrivateMosquitto(open_config, tmp_path / "province-data", ("127.0.0.1", province_port),
                                folder=tmp_path / "province", supervise=False)
    site = PrivateMosquitto(b.config, b.data, ("127.0.0.1", b.port), folder=tmp_path / "site", supervise=False,
                            extra_conf=bridge_conf(b.config.site.id, f"127.0.0.1:{province_port}",
                                                   restart_timeout=(1, 2)))
    central = tmp_path / "central.sqlite3"
    processes: list[subprocess.Popen] = []
    with province, site:
        service, stop_engine = start_engine(b.config, b.engine_url, b.data)
        try:
            kiosk = EngineClient(b.url("kiosk-K1"), b.config.site.id).start()
            try:
                for _ in range(30):
                    assert kiosk.issue("K1", "A")["ok"]
            finally:
                kiosk.stop()
            processes.append(antrian("forward-ingest", "--broker", f"127.0.0.1:{province_port}", "--sqlite",
                                     str(central)))
            processes.append(antrian("forward", "--data", str(b.data), "--broker", f"127.0.0.1:{b.port}",
                                     "--ack-timeout", "2"))
            site_id = b.config.site.id
            assert wait_until(lambda: 30 <= central_last(central, site_id) == site_head(b.data), 60), \
                f"the province holds {central_last(central, site_id)} of {site_head(b.data)} events"
        finally:
            stop_engine()
            output = [stop(p) for p in processes]
    assert "engine-forward" in (tmp_path / "site" / "mosquitto.log").read_text(encoding="utf-8"), output
    logged = rows(b.data / "antrian.sqlite3", "SELECT seq, ts, type, data FROM events ORDER BY seq")
    assert rows(central, "SELECT seq, ts, type, data FROM events ORDER BY seq") == logged



def test_forwarded_into_the_postgresql_central_store(tmp_path, postgres):
    """The pair the province runs: the ingest into broker.central's CentralStore (through MappingSink), fed
    live by a site whose engine is issuing tickets meanwhile. The site is not registered beforehand: the profile
    its forwarder sends (--config) names it, its agencies and their opening hours."""
    from broker.central.store import CentralStore, UnknownSite
    from broker.forward.ingest import Ingest
    from broker.forward.profile import of_config
    from broker.forward.sink import MappingSink
    from broker.mqtt.client import EngineClient
    from conftest import start_engine

    _need_mosquitto()
    config = parse_config(SMALL_SITE, "small-site.toml")
    central_id = "62.01-uji"
    province_port, site_port = free_port(), free_port()
    province = PrivateMosquitto(config, tmp_path / "province-data", ("127.0.0.1", province_port),
                                folder=tmp_path / "province", supervise=False)
    site = PrivateMosquitto(config, tmp_path / "site-data", ("127.0.0.1", site_port), folder=tmp_path / "site",
                            supervise=False,
                            extra_conf=bridge_conf(central_id, f"127.0.0.1:{province_port}", restart_timeout=(1, 2)))
    import psycopg
    from psycopg.conninfo import make_conninfo

    with psycopg.connect(postgres, autocommit=True) as conn:  # a database of its own: the store's tests count sites
        conn.execute("DROP DATABASE IF EXISTS forwarded")
        conn.execute("CREATE DATABASE forwarded")
    postgres = make_conninfo(postgres, dbname="forwarded")
    store, reader = CentralStore(postgres), CentralStore(postgres)  # a store is one connection: one per thread
    store.migrate()
    config_file = tmp_path / "small-site.toml"
    config_file.write_text(SMALL_SITE, encoding="utf-8")
    data = tmp_path / "data"

    def held() -> int:
        try:
            return reader.last_seq(central_id)
        except UnknownSite:  # the profile has not come yet
            return -1

    with province, site:
        ingest = Ingest(MappingSink(store), f"mqtt://127.0.0.1:{province_port}").start()
        service, stop_engine = start_engine(config, f"mqtt://127.0.0.1:{site_port}", data)
        forwarder = antrian("forward", "--data", str(data), "--broker", f"127.0.0.1:{site_port}", "--site-id",
                            central_id, "--ack-timeout", "2", "--config", str(config_file))
        try:
            kiosk = EngineClient(f"mqtt://127.0.0.1:{site_port}", config.site.id).start()
            try:
                for n in range(40):
                    assert kiosk.issue("k1", "A" if n % 2 else "B")["ok"]
            finally:
                kiosk.stop()
            assert wait_until(lambda: held() == site_head(data) >= 40, 60), \
                f"the central store holds {held()} of {site_head(data)} events"
        finally:
            stop_engine()
            stop(forwarder)
            ingest.stop()
    logged = rows(data / "antrian.sqlite3", "SELECT seq, ts, type, data FROM events ORDER BY seq")
    stored = reader.conn.execute("SELECT seq, extract(epoch FROM ts)::float8, type, data FROM events "
                                 "WHERE site = %s ORDER BY seq", (central_id,)).fetchall()
    assert reader.profile(central_id) == of_config(config)
    assert reader.site(central_id).name == config.site.name
    assert dict(reader.conn.execute("SELECT agency, name FROM site_agencies WHERE site = %s", (central_id,)).fetchall()) \
        == {a.id: a.name for a in config.agencies.values()}
    reader.close()
    store.close()
    assert [r[0] for r in stored] == [r[0] for r in logged]
    assert all(abs(a[1] - b[1]) < 1e-5 and a[2:] == b[2:] for a, b in zip(stored, logged))
