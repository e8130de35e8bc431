"""Closed days: Indonesia's national holidays and cuti bersama (the `holidays` package), and the
config's [[closures]]; the engine refuses tickets on them with the reason and the next opening.

Real dates: Idul Fitri 1444 H fell on Saturday 22 and Sunday 23 April 2023, with cuti bersama on
19-21 and 24-25 April (SKB 3 Menteri 2023): the MPP opened again on Wednesday 26 April.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from broker.core.commands import IssueTicket
from broker.core.engine import Engine
from broker.protocol.state import public_config
from broker.site.config import ConfigError, parse_config
from broker.site.holidays import national_closures
from conftest import SMALL_SITE
from kiosk.ticketing import flow
from kiosk.ticketing.catalog import Availability, build_catalog
from kiosk.ticketing.flow import KioskState, Screen, Tap
from kiosk.ticketing.screens import Frame, text_lines
from kiosk.ticketing.screenshots import DEMO_TIME

WIB = ZoneInfo("Asia/Jakarta")
_ids = itertools.count(1)


def wib(day: date, hour: int = 9, minute: int = 0) -> float:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=WIB).timestamp()


def issue(engine: Engine, code: str, day: date, hour: int = 9) -> dict:
    return engine.handle(IssueTicket(service=code, request_id=f"h{next(_ids)}", source="kiosk/k1", kiosk="k1"),
                         wib(day, hour)).reply


def shown(state: KioskState, catalog) -> str:
    """The words of the kiosk's notice as laid out on a portrait screen."""
    lines, _ = text_lines(Frame(state, catalog, (1080, 1920), DEMO_TIME))
    return " ".join(line.text for line in lines)


def config(extra: str = "", **site: object) -> object:
    text = SMALL_SITE
    for key, value in site.items():
        text = text.replace("[site]\n", f"[site]\n{key} = {str(value).lower()}\n", 1)
    return parse_config(text + "\n" + extra, "holidays.toml")


LEBARAN = {date(2023, 4, 22): "holiday", date(2023, 4, 23): "holiday",
           **{date(2023, 4, d): "cuti_bersama" for d in (19, 20, 21, 24, 25)}}


def test_the_national_calendar_has_idul_fitri_2023_and_its_cuti_bersama():
    closures = {c.day: c for c in national_closures(years=range(2023, 2024))}
    april = {day: c.kind for day, c in closures.items() if date(2023, 4, 17) <= day <= date(2023, 4, 28)}
    assert april == LEBARAN
    assert closures[date(2023, 4, 22)].reason == "Hari Raya Idul Fitri"
    assert closures[date(2023, 4, 22)].reason_en == "Eid al-Fitr"
    assert closures[date(2023, 4, 19)].reason == "Cuti Bersama Hari Raya Idul Fitri"
    assert closures[date(2023, 8, 17)].reason == "Hari Kemerdekaan Republik Indonesia"
    assert date(2023, 4, 26) not in closures and date(2023, 4, 18) not in closures
    only_holidays = {c.day for c in national_closures(cuti_bersama=False, years=range(2023, 2024))}
    assert date(2023, 4, 22) in only_holidays and date(2023, 4, 19) not in only_holidays


def test_the_config_carries_the_calendar_as_plain_dates_with_reasons():
    site = config()
    assert {day: site.closure_on(day).kind for day in LEBARAN} == LEBARAN
    assert site.closure_on(date(2023, 4, 26)) is None
    days = site.closed_days(date(2023, 4, 1), date(2023, 4, 30))
    assert list(days) == [date(2023, 4, 7), *sorted(LEBARAN)], "Wafat Yesus Kristus on Good Friday, then Lebaran"
    assert config(national_holidays=False, cuti_bersama=False).closures == ()
    no_cuti = config(cuti_bersama=False)
    assert no_cuti.closure_on(date(2023, 4, 19)) is None and no_cuti.closure_on(date(2023, 4, 22)) is not None


@pytest.mark.parametrize(("day", "reason", "reason_en"), [
    (date(2023, 4, 19), "Cuti Bersama Hari Raya Idul Fitri", "Eid al-Fitr Joint Holiday"),
    (date(2023, 4, 21), "Cuti Bersama Hari Raya Idul Fitri", "Eid al-Fitr Joint Holiday"),
    (date(2023, 4, 22), "Hari Raya Idul Fitri", "Eid al-Fitr"),  # a Saturday: the holiday is the reason
    (date(2023, 4, 25), "Cuti Bersama Hari Raya Idul Fitri", "Eid al-Fitr Joint Holiday"),
])
def test_no_ticket_on_lebaran_with_the_reason_and_the_day_it_opens_again(day, reason, reason_en):
    engine = Engine(config())
    reply = issue(engine, "A", day)
    assert not reply["ok"]
    error = reply["error"]
    assert error["code"] == "day_closed"
    assert error["params"]["opens"] == "2023-04-26T08:00"
    assert error["message"] == (f"Hari ini layanan KTP Elektronik tutup: {reason}. "
                                "Buka kembali pada hari Rabu, 26 April pukul 08.00")
    assert error["message_en"] == (f"Service KTP Elektronik is closed today: {reason_en}. "
                                   "It opens again on Wednesday, 26 April at 08:00")
    assert not engine.hall.tickets


def test_the_days_around_lebaran_issue_as_usual():
    engine = Engine(config())
    assert issue(engine, "A", date(2023, 4, 18))["ok"]
    assert issue(engine, "A", date(2023, 4, 26))["ok"]


def test_the_national_calendar_can_be_turned_off():
    assert issue(Engine(config(national_holidays=False, cuti_bersama=False)), "A", date(2023, 4, 19))["ok"]
    no_cuti = Engine(config(cuti_bersama=False))
    assert issue(no_cuti, "A", date(2023, 4, 19))["ok"], "cuti bersama only: the MPP opens on joint leave days"
    assert issue(no_cuti, "A", date(2023, 4, 24))["ok"]
    assert issue(no_cuti, "A", date(2023, 4, 22), hour=3)["error"]["code"] == "day_closed", "Idul Fitri itself"


def test_ignoring_hours_ignores_the_national_calendar_but_not_the_config_s_closures():
    anytime = Engine(config(CLOSURES), ignore_hours=True)  # a demo on Idul Fitri still hands out numbers
    assert issue(anytime, "A", date(2023, 4, 22), hour=3)["ok"]
    assert anytime.service_public("A", wib(date(2023, 4, 22)))["closed_today"] is None
    error = issue(anytime, "A", date(2026, 3, 4), hour=22)["error"]  # a closure written in the config holds
    assert error["code"] == "day_closed" and "rapat koordinasi" in error["message"]
    assert error["params"]["opens"] == "2026-03-05T08:00", "the next day, at its usual opening"
    assert issue(anytime, "P", date(2026, 3, 10), hour=22)["error"]["code"] == "day_closed", "Imigrasi's closure"


CLOSURES = """
[[closures]]
date = 2026-03-04
reason = "Tutup untuk rapat koordinasi"
reason_en = "Closed for a coordination meeting"

[[closures]]
from = "2026-03-09"
to = 2026-03-12
reason = "Pemeliharaan sistem paspor"
agencies = ["imigrasi"]
"""


def test_a_closure_of_the_config_is_refused_with_its_reason():
    site = config(CLOSURES)
    engine = Engine(site)
    error = issue(engine, "A", date(2026, 3, 4))["error"]
    assert error["code"] == "day_closed"
    assert error["message"] == ("Hari ini layanan KTP Elektronik tutup: Tutup untuk rapat koordinasi. "
                                "Buka kembali pada hari Kamis, 5 Maret pukul 08.00")
    assert error["message_en"].startswith("Service KTP Elektronik is closed today: Closed for a coordination meeting.")
    assert error["params"]["kind"] == "closure"
    assert issue(engine, "A", date(2026, 3, 5))["ok"]


def test_a_closure_of_some_agencies_leaves_the_others_open():
    engine = Engine(config(CLOSURES))
    assert issue(engine, "A", date(2026, 3, 10))["ok"], "dukcapil is not closed"
    error = issue(engine, "P", date(2026, 3, 10))["error"]  # Imigrasi: Tuesdays and Thursdays only
    assert error["code"] == "day_closed" and "Pemeliharaan sistem paspor" in error["message_en"], \
        "without reason_en the English says the Indonesian reason"
    assert error["params"]["opens"] == "2026-03-17T08:00", "Thursday 12 March is closed too: the Tuesday after"


def test_the_quota_names_the_next_day_after_a_closure():
    text = SMALL_SITE.replace('code = "A"\n', 'code = "A"\nquota = 1\n', 1) + CLOSURES
    engine = Engine(parse_config(text, "quota.toml"))
    assert issue(engine, "A", date(2026, 3, 3))["ok"]
    error = issue(engine, "A", date(2026, 3, 3))["error"]
    assert error["code"] == "quota_reached" and error["params"]["next_day"] == "2026-03-05"


def test_the_service_state_tells_the_kiosk_why_it_is_closed_today():
    engine = Engine(config())
    closed = engine.service_public("A", wib(date(2023, 4, 20)))
    assert closed["open"] is False and closed["closed_today"]["code"] == "day_closed"
    assert closed["closed_today"]["message"] == issue(engine, "A", date(2023, 4, 20))["error"]["message"], \
        "the kiosk tells what the engine would answer"
    assert "Eid al-Fitr Joint Holiday" in closed["closed_today"]["message_en"]
    assert engine.service_public("A", wib(date(2023, 4, 26)))["closed_today"] is None
    evening = engine.service_public("A", wib(date(2023, 4, 26), 20))
    assert evening["open"] is False and evening["closed_today"] is None, "after hours is not a closed day"


def test_the_kiosk_tells_the_holiday_before_anyone_takes_a_number():
    site = config()
    engine = Engine(site)
    now = wib(date(2023, 4, 24))
    states = {code: engine.view.service_state(code, now) for code in site.services}
    catalog = build_catalog(public_config(site), states)
    assert catalog.service("A").availability == Availability.CLOSED
    state, effects = KioskState(), []
    for i, tap in enumerate((Tap("agency", "dukcapil"), Tap("service", "A"))):
        state, more = flow.tap(state, tap, catalog, 100.0 + i)
        effects += more
    assert effects == [] and state.screen == Screen.NOTICE
    words = shown(state, catalog)
    assert "Hari ini layanan tutup" in words
    assert "Cuti Bersama Hari Raya Idul Fitri" in words and "Rabu, 26 April" in words
    english = shown(flow.tap(state, Tap("language"), catalog, 103.0)[0], catalog)
    assert "Closed today" in english
    assert "Eid al-Fitr Joint Holiday" in english and "Wednesday, 26 April" in english


def test_the_kiosk_shows_the_engine_s_holiday_refusal():
    site = config()
    engine = Engine(site)
    catalog = build_catalog(public_config(site), {})  # no state yet: the engine has the last word
    state, effects = KioskState(), []
    for i, tap in enumerate((Tap("agency", "bank"), Tap("service", "K"), Tap("priority"))):
        state, more = flow.tap(state, tap, catalog, 100.0 + i)
        effects += more
    [request] = effects
    assert request.request.service == "K" and state.screen == Screen.ISSUING
    reply = issue(engine, "K", date(2023, 4, 21))
    state = flow.refused(state, reply["error"], 103.0)
    assert state.screen == Screen.NOTICE and state.notice.kind == "closed"
    words = shown(state, catalog)
    assert "Hari ini layanan tutup" in words
    assert "Cuti Bersama Hari Raya Idul Fitri" in words and "Senin, 24 April" not in words and "26 April" in words


@pytest.mark.parametrize(("entry", "problem"), [
    ('date = 2026-13-01\nreason = "x"', None),  # not TOML: reported by the TOML reader
    ('date = "31-12-2026"\nreason = "x"', r"closures\[1\]\.date: must be a date such as 2026-12-31"),
    ('reason = "x"', r"closures\[1\]: needs a date"),
    ('from = 2026-12-29\nreason = "x"', r"closures\[1\]\.to: is missing"),
    ('from = 2026-12-29\nto = 2026-12-28\nreason = "x"', r"closures\[1\]\.to: 2026-12-28 is before"),
    ('from = 2026-01-01\nto = 2027-06-01\nreason = "x"', r"longer than a year"),
    ('date = 2026-12-29\nfrom = 2026-12-29\nto = 2026-12-30\nreason = "x"', r"either date or from and to"),
    ('date = 2026-12-29', r"closures\[1\]\.reason: is missing"),
    ('date = 2026-12-29\nreason = "x"\nagencies = ["nope"]', r"names agency 'nope'"),
    ('date = 2026-12-29\nreason = "x"\nresaon_en = "y"', r"did you mean 'reason_en'"),
])
def test_mistakes_in_closures_are_told_with_their_line(entry, problem):
    with pytest.raises(ConfigError) as caught:
        config(f"[[closures]]\n{entry}\n")
    if problem is not None:
        assert any(re.search(problem, str(p)) and p.line for p in caught.value.problems), caught.value.problems


def test_a_closure_range_covers_each_day_once():
    site = config(CLOSURES, national_holidays=False, cuti_bersama=False)
    days = [c.day for c in site.closures]
    assert days == [date(2026, 3, 4)] + [date(2026, 3, 9) + timedelta(days=n) for n in range(4)]
    assert site.closure_on(date(2026, 3, 10)) is None, "a closure of Imigrasi does not close the site"
    assert site.closure_on(date(2026, 3, 10), "imigrasi").reason == "Pemeliharaan sistem paspor"
