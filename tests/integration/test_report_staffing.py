"""Staffing and per-officer reports from a real SQLite log the engine wrote, against figures counted by hand.

The small site of conftest.py (agencies open Monday-Friday 08.00-15.00, Friday 08.00-11.00 and
13.00-15.00; imigrasi Tuesday and Thursday only) with three officers, over Monday 2 to Tuesday
10 March 2026: seven opening days (47 hours at a Monday-Friday counter, 21 at imigrasi's).

  Mon 2  siti signs in at counter 1 at 07.30, opens it, serves A001 (6 min) and A002 (10 min),
         A003 does not come, signs out at 12.00 (the counter closes). budi signs in at counter 2
         at 10.00, serves A004 (4 min), signs out at 14.00. Counter 5 serves K001 (3 min) with
         nobody signed in and is never closed: it counts 09.00-15.00, not the night after.
  Tue 3  siti at counter 1 08.00-16.00, counter opened at 08.00 (7 hours count, not 8).
  Wed 4 - Mon 9  nobody during opening hours; agus at counter 5 on Saturday 7, 09.00-11.00
         (a closed day: his hours, but no opening hours).
  Tue 10 budi at counter 1 09.00-10.00.
"""

from __future__ import annotations

import json
from datetime import date

from broker.core.commands import CounterCommand, CounterRequest, IssueTicket
from broker.protocol.sign_in import sign_in_body
from broker.reports.build import EventLog, Period
from broker.reports.staffing import officers, staffing
from broker.server.engine_service import load_engine
from broker.server.store import EventStore
from broker.site.config import parse_config
from conftest import antrian_cli
from unit.test_counter_officers import PINS, officers_toml
from unit.test_engine import wib

PERIOD = Period(date(2026, 3, 2), date(2026, 3, 10))


def staffed_log(folder):
    config = parse_config(officers_toml(), "officers.toml")
    store = EventStore(folder, config.site.id)
    engine = load_engine(config, store, wib(2, 7))

    def counter(cid, action, at, **kw):
        outcome = engine.handle(CounterRequest(counter=cid, action=action, request_id=f"{cid}{action}{at}",
                                               source=f"counter/{cid}", **kw), at)
        store.append([outcome])
        assert outcome.reply["ok"], outcome.reply
        return outcome.reply

    def sign_in(cid, officer, at):
        challenge = counter(cid, CounterCommand.SIGN_IN_CHALLENGE, at, officer=officer)["challenge"]
        body = sign_in_body(PINS[officer], challenge, config.site.id, cid)
        counter(cid, CounterCommand.SIGN_IN, at, officer=officer, nonce=body["nonce"], proof=body["proof"])

    def issue(code, at):
        outcome = engine.handle(IssueTicket(service=code, request_id=f"i{at}", source="kiosk/k1"), at)
        store.append([outcome])
        assert outcome.reply["ok"], outcome.reply

    sign_in("1", "siti", wib(2, 7, 30))
    counter("1", CounterCommand.OPEN, wib(2, 7, 30))
    for minute, code in ((50, "A"), (51, "A"), (52, "A"), (53, "K")):
        issue(code, wib(2, 8, minute))
    issue("A", wib(2, 9, 55))
    counter("1", CounterCommand.NEXT, wib(2, 9, 0))
    counter("1", CounterCommand.FINISH, wib(2, 9, 6))
    counter("1", CounterCommand.NEXT, wib(2, 9, 10))
    counter("1", CounterCommand.FINISH, wib(2, 9, 20))
    counter("1", CounterCommand.NEXT, wib(2, 9, 30))
    counter("1", CounterCommand.NO_SHOW, wib(2, 9, 35))
    counter("5", CounterCommand.NEXT, wib(2, 9, 0))
    counter("5", CounterCommand.FINISH, wib(2, 9, 3))
    sign_in("2", "budi", wib(2, 10, 0))
    counter("2", CounterCommand.NEXT, wib(2, 10, 0))
    counter("2", CounterCommand.FINISH, wib(2, 10, 4))
    counter("1", CounterCommand.SIGN_OUT, wib(2, 12, 0))
    counter("2", CounterCommand.SIGN_OUT, wib(2, 14, 0))
    sign_in("1", "siti", wib(3, 8, 0))
    counter("1", CounterCommand.OPEN, wib(3, 8, 0))
    counter("1", CounterCommand.SIGN_OUT, wib(3, 16, 0))
    sign_in("5", "agus", wib(7, 9, 0))
    counter("5", CounterCommand.SIGN_OUT, wib(7, 11, 0))
    sign_in("1", "budi", wib(10, 9, 0))
    counter("1", CounterCommand.SIGN_OUT, wib(10, 10, 0))
    store.close()
    return config


def test_staffing_clips_to_opening_hours_and_flags_empty_counters(tmp_path):
    config = staffed_log(tmp_path)
    log = EventLog(tmp_path, config)
    report = staffing([log], PERIOD, empty_days=3)
    rows = {r[0]: r for r in report.rows}
    # counter, agency, opening days, opening h, open h, staffed h, % staffed, empty days, longest run, flag
    assert rows["1"][1:] == ["Dindukcapil", 7, 47.0, 11.0, 12.0, 25.5, 4, 4, "gerai kosong"]
    assert rows["2"][1:] == ["Dindukcapil", 7, 47.0, 4.0, 4.0, 8.5, 6, 6, "gerai kosong"]
    assert rows["4K-10"][1:] == ["Kantor Imigrasi", 3, 21.0, 0.0, 0.0, 0.0, 3, 3, "gerai kosong"]
    assert rows["5"][1:] == ["Bank Jateng", 7, 47.0, 6.0, 0.0, 0.0, 7, 7, "gerai kosong"]
    agencies = {r[0]: r for r in report.tables[0].rows}
    # both dukcapil counters together: Monday 08.00-14.00, Tuesday 7 h, Tuesday 10 one hour
    assert agencies["Dindukcapil"][1:] == [2, 7, 47.0, 13.0, 14.0, 29.8, 4, 4, "gerai kosong"]
    assert all(r[6] is None or r[6] <= 100 for r in report.rows), "never more than the opening hours"
    assert report.tables[1].rows == [["Loket 1", "Dindukcapil", 4, date(2026, 3, 4), date(2026, 3, 9)],
                                     ["Loket 2", "Dindukcapil", 6, date(2026, 3, 3), date(2026, 3, 10)],
                                     ["Loket 4K-10", "Kantor Imigrasi", 3, date(2026, 3, 3), date(2026, 3, 10)],
                                     ["Loket 5", "Bank Jateng", 7, date(2026, 3, 2), date(2026, 3, 10)]]
    assert staffing([log], PERIOD, empty_days=5).rows[0][-1] == ""  # four empty days are not five
    assert "16,0 dari 162,0 jam layanan" in report.sentence  # 12 + 4 + 0 + 0 of 47 + 47 + 21 + 47

    holiday = staffing([log], PERIOD, empty_days=3, closed=lambda code, day: day == date(2026, 3, 4))
    # Wednesday 4 closed: six opening days, 40 hours, and the empty run Thursday-Monday is three days
    assert holiday.rows[0][1:] == ["Dindukcapil", 6, 40.0, 11.0, 12.0, 30.0, 3, 3, "gerai kosong"]
    assert holiday.tables[1].rows[0] == ["Loket 1", "Dindukcapil", 3, date(2026, 3, 5), date(2026, 3, 9)]

    people = {r[0]: r for r in officers([log], PERIOD).rows}
    # officer, name, counters, days, hours signed in, served, mean and median service (min), no-shows
    assert people["siti"][1:] == ["Siti Rahayu", "1", 2, 12.5, 2, 8.0, 8.0, 1]
    assert people["budi"][1:] == ["Budi Santoso", "1, 2", 2, 5.0, 1, 4.0, 4.0, 0]
    assert people["agus"][1:] == ["Agus Wibowo", "5", 1, 2.0, 0, None, None, 0]
    assert people["-"][2:] == ["5", 0, 0.0, 1, 3.0, 3.0, 0]
    log.close()


def test_staffing_and_officers_from_the_command_line(tmp_path):
    staffed_log(tmp_path / "a")
    (tmp_path / "site.toml").write_text(officers_toml(), encoding="utf-8")
    common = ["--data", str(tmp_path / "a"), "--config", str(tmp_path / "site.toml"), "--from", "2026-03-02",
              "--to", "2026-03-10"]
    out = antrian_cli("report", "staffing", *common, "--empty-days", "7", "--format", "json")
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert body["empty_days"] == 7 and body["empty_counters"] == 1  # only counter 5 was empty seven days
    assert body["tables"][0]["rows"][1]["Instansi"] == "Dindukcapil"
    text = antrian_cli("report", "officers", *common)
    assert text.returncode == 0 and "Siti Rahayu" in text.stdout and "12,5" in text.stdout
    bad = antrian_cli("report", "staffing", *common, "--empty-days", "0")
    assert bad.returncode == 1 and "--empty-days" in bad.stderr
