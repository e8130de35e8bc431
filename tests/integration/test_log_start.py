"""`antrian serve` refuses to start on an empty or damaged log and says why in one sentence."""

from __future__ import annotations

import subprocess
import sys

from broker.mqtt.client import EngineClient
from broker.server.store import EventStore
from conftest import start_engine
from integration import test_faults as faults
from integration.test_mqtt_contract import wait_until

SITE = "testsite"
small_disk = faults.small_disk  # a real 4 MiB tmpfs


def _fill(folder):
    """Fill the small disk to the last byte (it may be full already: then there is no filler to make)."""
    try:
        return faults._fill(folder)
    except OSError:
        return folder / "filler"


def serve(config_file, data, *extra):
    return subprocess.run([sys.executable, "-m", "broker.cli", "serve", "--config", str(config_file),
                           "--data", str(data), "--mqtt", "mqtt://127.0.0.1:9", "--ignore-hours", *extra],
                          capture_output=True, text=True, timeout=60)


def test_serve_refuses_an_empty_log_in_one_sentence(small_config_file, tmp_path):
    (tmp_path / "antrian.sqlite3").write_bytes(b"")
    done = serve(small_config_file, tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "is empty (0 bytes)" in done.stderr and "--new-log" in done.stderr
    assert (tmp_path / "antrian.sqlite3").stat().st_size == 0


def test_a_log_unreadable_after_a_failed_write_refuses_everything_until_it_is_back(
        small_config, broker_url, small_disk):
    """The write fails (full disk) and the rebuild cannot read the log (its path became a folder, as a
    disk gone away does): every command is refused with storage_failed without running, so no number is
    handed out unstored; when the log is back the hall goes on where it stopped."""
    data = small_disk / "data"
    service, stop = start_engine(small_config, broker_url, data)
    client = EngineClient(broker_url, SITE, name="unreadable").start()
    log = data / "antrian.sqlite3"
    acked: list[str] = []
    try:
        acked.append(client.issue("k1", "A")["ticket"]["number"])
        log.rename(data / "away.sqlite3")  # the open connection keeps writing to the moved file's WAL...
        log.mkdir()  # ...and a rebuild opening the log by its path finds a folder: unreadable
        filler = _fill(small_disk)  # ...until the disk is full: the write fails
        first = client.issue("k1", "A")
        assert not first["ok"] and first["error"]["code"] == "storage_failed", first
        assert wait_until(lambda: service._stale, 5)  # the rebuild after the failed write could not read the log
        for reply in (client.issue("k1", "A"), client.counter("1", "next"), client.issue("k1", "B")):
            assert not reply["ok"] and reply["error"]["code"] == "storage_failed", reply
            assert reply["error"]["message"] and reply["error"]["message_en"]
        log.rmdir()
        (data / "away.sqlite3").rename(log)
        filler.unlink(missing_ok=True)
        acked.append(client.issue("k1", "A")["ticket"]["number"])
        called = client.counter("1", "next")
        assert called["ok"] and called["ticket"]["number"] == "A001"
    finally:
        client.stop()
        stop()
    assert acked == ["A001", "A002"], "refused requests consumed no number"
    stored = [e.data["number"] for e in EventStore(data, SITE).iter_events() if e.type == "ticket_issued"]
    assert stored == acked, "exactly what was acknowledged is stored"
