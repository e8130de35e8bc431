"""`antrian report turned-away` ("permintaan tidak terlayani") from a real SQLite log the engine wrote.

Passports (imigrasi, Tuesday and Thursday only) take 6 a day, 4 of them booked ahead in two sessions
of 2 places. On Tuesday 3 March 2026 at 07.00 a phone books Thursday's first session twice (full
after that), then tries a third time (quota), asks for Wednesday (closed) twice, and one number books
twice for Thursday (limit). Every refusal is one demand_turned_away event; the report's figures equal
a plain recount of those events.
"""

from __future__ import annotations

import itertools
import json
from datetime import date

from broker.core.commands import Book
from broker.reports.build import EventLog, Period
from broker.reports.turned_away import turned_away
from broker.server.engine_service import load_engine
from broker.server.store import EventStore
from broker.site.config import parse_config
from conftest import SMALL_SITE, antrian_cli
from unit.test_engine import TUESDAY, wib

BOOKING_SITE = SMALL_SITE.replace('quota = 3\npriority = false', 'quota = 6\npriority = false\nquota_online = 4\n'
                                  'sessions = ["08:00-10:00", "10:00-12:00"]')
PERIOD = Period(date(2026, 3, 2), date(2026, 3, 6))
_ids = itertools.count(1)


def refused_log(folder):
    config = parse_config(BOOKING_SITE, "booking.toml")
    store = EventStore(folder, config.site.id)
    engine = load_engine(config, store, wib(TUESDAY, 7))
    replies = []

    def book(day="2026-03-05", session="08:00-10:00", **kw):
        outcome = engine.handle(Book(request_id=f"b{next(_ids)}", source="booking/web", service="P", day=day,
                                     session=session, **kw), wib(TUESDAY, 7, 5))
        store.append([outcome])
        replies.append(outcome.reply)
        return outcome.reply

    assert book()["ok"] and book()["ok"]
    assert book()["reason"] == "quota"
    assert book(day="2026-03-04")["reason"] == "closed"
    assert book(day="2026-03-04")["reason"] == "closed"
    assert book(session="10:00-12:00", phone="+6281234567890")["ok"]
    assert book(session="10:00-12:00", phone="+6281234567890")["reason"] == "limit"
    store.close()
    return config


def test_the_report_counts_each_refusal_by_service_day_and_reason_as_the_log_holds_them(tmp_path):
    config = refused_log(tmp_path)
    log = EventLog(tmp_path, config)
    report = turned_away([log], PERIOD)
    # service, quota, closed, cutoff, limit, overflow, referral, total
    assert report.rows[0][1:] == [1, 2, 0, 1, 0, 0, 4]
    assert report.rows[0][0].startswith("P ")
    assert report.rows[-1][0] == "Jumlah" and report.rows[-1][-1] == 4
    assert report.tables[0].rows == [[date(2026, 3, 3), report.rows[0][0], 1, 2, 0, 1, 0, 0, 4]], "the day it happened"
    recount: dict[str, int] = {}
    for (data,) in log.query("SELECT data FROM events WHERE type = 'demand_turned_away'"):
        reason = json.loads(data)["reason"]
        recount[reason] = recount.get(reason, 0) + 1
    assert recount == {"quota": 1, "closed": 2, "limit": 1}, "recounted from the raw log: the same figures"
    assert "4 permintaan" in report.sentence
    assert turned_away([log], Period(date(2026, 3, 4), date(2026, 3, 6))).rows[-1][-1] == 0, "other days: none"
    log.close()


def test_antrian_report_turned_away_on_the_command_line(tmp_path):
    refused_log(tmp_path)
    (tmp_path / "booking.toml").write_text(BOOKING_SITE)
    done = antrian_cli("report", "turned-away", "--data", str(tmp_path), "--config", str(tmp_path / "booking.toml"),
                       "--from", "2026-03-02", "--to", "2026-03-06", "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert "Kuota habis" in done.stdout and "Layanan tutup" in done.stdout
    assert ",1,2,0,1,0,0,4" in done.stdout, done.stdout
