"""A log that is missing, empty or damaged is refused at start, never silently replaced by a new one:
a new log in mid-day would number tickets from 001 again and two visitors would hold the same number."""

from __future__ import annotations

import sqlite3

import pytest

from broker.core.commands import IssueTicket
from broker.core.engine import Engine
from broker.core.survey import SECRET_FILE
from broker.server.store import EventStore, StoreError

SITE = "testsite"
NOW = 1795381556.0


def run_a_day(small_config, folder, tickets: int = 40) -> None:
    store = EventStore(folder, SITE)
    engine = Engine(small_config, ignore_hours=True)
    store.append([engine.handle(IssueTicket(request_id=f"r{i}", source="kiosk/k1", service="A", kiosk="k1"),
                                NOW + i) for i in range(tickets)])
    store.close()


def issued(folder) -> int:
    return sum(e.type == "ticket_issued" for e in EventStore(folder, SITE).iter_events())


def test_a_first_start_in_an_empty_folder_makes_a_new_log(tmp_path):
    EventStore(tmp_path / "new", SITE).close()
    assert (tmp_path / "new" / "antrian.sqlite3").stat().st_size > 0


def test_a_good_log_opens_with_its_events(small_config, tmp_path):
    run_a_day(small_config, tmp_path)
    assert issued(tmp_path) == 40


def test_a_zero_length_log_is_refused_and_says_how_to_go_on(tmp_path):
    (tmp_path / "antrian.sqlite3").write_bytes(b"")
    with pytest.raises(StoreError, match=r"is empty \(0 bytes\).*--new-log"):
        EventStore(tmp_path, SITE)
    assert (tmp_path / "antrian.sqlite3").stat().st_size == 0, "the refused file is left as it was"


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    (tmp_path / "antrian.sqlite3").write_bytes(b"this is a spreadsheet someone saved here\n" * 200)
    with pytest.raises(StoreError, match="cannot be read as a database"):
        EventStore(tmp_path, SITE)


def test_a_damaged_log_is_refused(small_config, tmp_path):
    run_a_day(small_config, tmp_path, tickets=400)
    log = tmp_path / "antrian.sqlite3"
    data = bytearray(log.read_bytes())
    page = 4096
    assert len(data) > 4 * page
    for at in range(2 * page + 100, len(data) - 100, page):  # scribble inside every page but the first two
        data[at:at + 64] = b"\xff" * 64
    log.write_bytes(bytes(data))
    with pytest.raises(StoreError, match=r"damaged|cannot be read"):
        EventStore(tmp_path, SITE)


def test_a_missing_log_where_the_site_ran_before_is_refused(small_config, tmp_path):
    run_a_day(small_config, tmp_path)
    (tmp_path / SECRET_FILE).write_bytes(b"k" * 32)  # the engine leaves its survey key beside the log
    (tmp_path / "antrian.sqlite3").unlink()
    with pytest.raises(StoreError, match=f"shows that a site ran there .*{SECRET_FILE}"):
        EventStore(tmp_path, SITE)
    assert not (tmp_path / "antrian.sqlite3").exists(), "no new log was made"


def test_a_log_of_another_program_is_refused(tmp_path):
    db = sqlite3.connect(tmp_path / "antrian.sqlite3")
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="not an Antrian log"):
        EventStore(tmp_path, SITE)


def test_new_log_on_purpose_keeps_the_damaged_file_aside(tmp_path):
    (tmp_path / "antrian.sqlite3").write_bytes(b"")
    store = EventStore(tmp_path, SITE, new_log=True)
    store.close()
    kept = [p.name for p in tmp_path.iterdir() if ".damaged-" in p.name]
    assert len(kept) == 1 and kept[0].startswith("antrian.sqlite3.damaged-")
    assert issued(tmp_path) == 0 and (tmp_path / "antrian.sqlite3").stat().st_size > 0
