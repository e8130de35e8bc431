"""A site log started anew (`--new-log`, seq from 1 again) reaches the PostgreSQL central store whole (issue 19).

Two real Mosquitto brokers bridged, the real engine, the real forwarder process, the ingest into the real
CentralStore. The site forwards its first log; the log is damaged and the engine starts a new one (as
`antrian serve --new-log` does) and logs fewer events than the first log had, so a forwarder that kept the old
cursor would skip every one of them; the forwarder is restarted with that stale cursor. Then, with the forwarder
running, the log is replaced once more under it. At the end a batch of an old log is published late, and refused.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from broker.forward import wire
from broker.forward.bridge import bridge_conf
from broker.forward.forwarder import read_cursor_of_log
from broker.server.mosquitto import PrivateMosquitto
from broker.site.config import parse_config
from conftest import SMALL_SITE, _need_mosquitto, free_port, start_engine
from integration.test_forward import antrian, rows, site_head, stop
from integration.test_mqtt_contract import wait_until

pytestmark = pytest.mark.mosquitto

CENTRAL_ID = "91.71-logbaru"


def log_id(data: Path) -> str:
    db = sqlite3.connect(f"file:{data / 'antrian.sqlite3'}?mode=ro", uri=True)
    try:
        return str(db.execute("SELECT value FROM meta WHERE key = 'log_id'").fetchone()[0])
    finally:
        db.close()


def issue(url: str, config, n: int) -> None:
    from broker.mqtt.client import EngineClient

    kiosk = EngineClient(url, config.site.id).start()
    try:
        for i in range(n):
            assert kiosk.issue("k1", "A" if i % 2 else "B")["ok"]
    finally:
        kiosk.stop()


def damage(data: Path) -> None:
    """What a failing disk leaves (the engine is stopped): the log is no database any more, and nor is its WAL,
    which a forwarder's open connection keeps alive (with its index, a valid WAL would still give every page)."""
    for name in ("antrian.sqlite3", "antrian.sqlite3-wal"):
        path = data / name
        if path.exists():
            size = path.stat().st_size
            with open(path, "r+b") as f:
                f.write((b"\x00not a database\x00" * (size // 16 + 1))[:size])


def test_a_log_started_anew_is_forwarded_after_the_old_one_and_a_late_old_batch_is_refused(tmp_path, postgres):
    from broker.central.store import CentralStore

    _need_mosquitto()
    config = parse_config(SMALL_SITE, "small-site.toml")
    province_port, site_port = free_port(), free_port()
    province = PrivateMosquitto(config, tmp_path / "province-data", ("127.0.0.1", province_port),
                                folder=tmp_path / "province", supervise=False)
    site = PrivateMosquitto(config, tmp_path / "site-data", ("127.0.0.1", site_port), folder=tmp_path / "site",
                            supervise=False,
                            extra_conf=bridge_conf(CENTRAL_ID, f"127.0.0.1:{province_port}", restart_timeout=(1, 2)))
    postgres = own_database(postgres, "log_epoch")
    store, reader = CentralStore(postgres), CentralStore(postgres)  # one connection per thread
    store.migrate()
    store.register_config(CENTRAL_ID, config)
    try:
        _with_a_central(tmp_path, config, store, reader, province_port, site_port, province, site)
    finally:
        reader.close()
        store.close()


def _with_a_central(tmp_path, config, store, reader, province_port, site_port, province, site):
    import paho.mqtt.client as paho

    from broker.forward.ingest import Ingest
    from broker.forward.sink import MappingSink

    data, url = tmp_path / "data", f"mqtt://127.0.0.1:{site_port}"
    forward = ("forward", "--data", str(data), "--broker", f"127.0.0.1:{site_port}", "--site-id", CENTRAL_ID,
               "--ack-timeout", "2", "--batch", "7")
    central = lambda: reader.last_seq(CENTRAL_ID)
    logs: list[list[tuple]] = []  # each log's events, read before it was damaged
    ids: list[str] = []
    processes = []
    with province, site:
        ingest = Ingest(MappingSink(store), f"mqtt://127.0.0.1:{province_port}").start()
        try:
            # the first log: 30 tickets and what the engine logs besides, all forwarded
            _, stop_engine = start_engine(config, url, data)
            processes.append(forwarder := antrian(*forward))
            issue(url, config, 30)
            first = site_head(data)
            assert wait_until(lambda: central() == first, 60), f"the province holds {central()} of {first}"
            ids.append(log_id(data))
            assert wait_until(lambda: read_cursor_of_log(data, CENTRAL_ID) == (ids[0], first), 10)
            stop(forwarder)
            stop_engine()
            logs.append(rows(data / "antrian.sqlite3", "SELECT seq, ts, type, data FROM events ORDER BY seq"))

            # the log is damaged; the engine starts a new one; it logs fewer events than the old log had
            damage(data)
            _, stop_engine = start_engine(config, url, data, new_log=True)
            ids.append(log_id(data))
            assert ids[1] != ids[0]
            issue(url, config, 4)
            second = site_head(data)
            assert second < first, "the new log must be shorter than the old cursor for this test to mean anything"
            # the forwarder starts again with the cursor of the old log (and the old log's retained ack)
            processes.append(forwarder := antrian(*forward))
            assert wait_until(lambda: central() == first + second, 60), \
                f"the province holds {central()} events, not the {first} of the old log and {second} of the new"
            assert wait_until(lambda: read_cursor_of_log(data, CENTRAL_ID) == (ids[1], second), 10)

            # once more, with the forwarder running: it must notice the file replaced under it
            stop_engine()
            logs.append(rows(data / "antrian.sqlite3", "SELECT seq, ts, type, data FROM events ORDER BY seq"))
            damage(data)
            _, stop_engine = start_engine(config, url, data, new_log=True)
            ids.append(log_id(data))
            assert ids[2] != ids[1]
            issue(url, config, 3)
            third = site_head(data)
            assert wait_until(lambda: central() == first + second + third, 60), \
                f"the province holds {central()} events, not {first} + {second} + {third}"
            stop_engine()
            logs.append(rows(data / "antrian.sqlite3", "SELECT seq, ts, type, data FROM events ORDER BY seq"))

            # a batch of the first log comes late (a forwarder left on the moved-aside file), and one unnamed
            late = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="late-batch")
            late.connect("127.0.0.1", province_port)
            late.loop_start()
            fake = [(first + 1, 1.0, "ticket_issued", '{"ticket":"X1"}')]
            for payload in (wire.encode_rows(CENTRAL_ID, fake, log=ids[0]), wire.encode_rows(CENTRAL_ID, fake)):
                late.publish(wire.events_topic(CENTRAL_ID), payload, qos=1).wait_for_publish(10)
            assert wait_until(lambda: ingest.refused == 2, 20), f"refused {ingest.refused} of the 2 late batches"
            late.loop_stop()
            late.disconnect()
            assert central() == first + second + third
        finally:
            output = [stop(p) for p in processes]
            ingest.stop()

    assert "started anew" in output[1], output[1]  # the restarted forwarder said why it began at 0
    assert "was replaced" in output[1], output[1]  # and saw the file replaced under it
    stored = reader.conn.execute("SELECT seq, extract(epoch FROM ts)::float8, type, data FROM events "
                                 "WHERE site = %s ORDER BY seq", (CENTRAL_ID,)).fetchall()
    expected, base = [], 0
    for events in logs:
        expected += [(base + seq, ts, type_, data) for seq, ts, type_, data in events]
        base += len(events)
    assert [r[0] for r in stored] == list(range(1, first + second + third + 1))
    assert [r[0] for r in stored] == [r[0] for r in expected]
    assert all(abs(a[1] - b[1]) < 1e-5 and a[2:] == b[2:] for a, b in zip(stored, expected))
    assert reader.site_logs(CENTRAL_ID) == [(ids[0], 0), (ids[1], first), (ids[2], first + second)]
    # the roll-ups count all three logs together
    issued = sum(1 for events in logs for e in events if e[2] == "ticket_issued")
    assert issued == 37
    (daily,) = reader.conn.execute("SELECT sum(issued) FROM site_daily WHERE site = %s", (CENTRAL_ID,)).fetchone()
    (events_n,) = reader.conn.execute("SELECT events FROM site_cursor WHERE site = %s", (CENTRAL_ID,)).fetchone()
    assert (daily, events_n) == (issued, first + second + third)


def own_database(postgres: str, name: str) -> str:
    """A database of this test's own on the session's server (the central store's tests count the sites of theirs)."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return make_conninfo(postgres, dbname=name)


def test_central_load_puts_a_new_log_after_the_old_one_and_refuses_the_superseded_log(tmp_path, postgres):
    """`antrian central load` (a log brought on a disk) keeps the same epochs as forwarding: a log started anew goes
    after the site's earlier log, loading it again adds nothing, and the old log loaded late is refused."""
    import shutil

    from broker.central.store import CentralStore
    from conftest import antrian_cli

    _need_mosquitto()
    config = parse_config(SMALL_SITE, "small-site.toml")
    site_toml = tmp_path / "site.toml"
    site_toml.write_text(SMALL_SITE)
    site_id, port = "91.72-muat", free_port()
    data, postgres = tmp_path / "data", own_database(postgres, "log_epoch_load")
    load = ("central", "load", "--pg", postgres, "--config", str(site_toml), "--data", str(data), "--site-id",
            site_id, "--batch", "4")
    broker = PrivateMosquitto(config, tmp_path / "broker-data", ("127.0.0.1", port), folder=tmp_path / "b",
                              supervise=False)
    url = f"mqtt://127.0.0.1:{port}"
    reader = CentralStore(postgres)
    try:
        with broker:
            _, stop_engine = start_engine(config, url, data)
            issue(url, config, 9)
            stop_engine()
            first = site_head(data)
            old = tmp_path / "old-log"  # the old log as a technician may have kept it, before the disk failed
            old.mkdir()
            shutil.copy(data / "antrian.sqlite3", old / "antrian.sqlite3")
            assert antrian_cli(*load).returncode == 0
            assert reader.last_seq(site_id) == first
            damage(data)
            _, stop_engine = start_engine(config, url, data, new_log=True)
            issue(url, config, 2)
            stop_engine()
        second = site_head(data)
        assert second < first
        for _ in range(2):  # the second time nothing is new
            done = antrian_cli(*load)
            assert done.returncode == 0, done.stderr
            assert reader.last_seq(site_id) == first + second, done.stderr
        late = antrian_cli("central", "load", "--pg", postgres, "--config", str(site_toml), "--data", str(old),
                           "--site-id", site_id)
        assert late.returncode == 2 and "superseded" in late.stderr, late.stderr
        assert reader.last_seq(site_id) == first + second
        logged = rows(old / "antrian.sqlite3", "SELECT seq, ts, type, data FROM events ORDER BY seq") + [
            (first + seq, ts, type_, d) for seq, ts, type_, d in
            rows(data / "antrian.sqlite3", "SELECT seq, ts, type, data FROM events ORDER BY seq")]
        stored = reader.conn.execute("SELECT seq, type, data FROM events WHERE site = %s ORDER BY seq",
                                     (site_id,)).fetchall()
        assert [tuple(r) for r in stored] == [(seq, type_, d) for seq, _, type_, d in logged]
        (issued,) = reader.conn.execute("SELECT sum(issued) FROM site_daily WHERE site = %s", (site_id,)).fetchone()
        assert issued == 11
    finally:
        reader.close()
