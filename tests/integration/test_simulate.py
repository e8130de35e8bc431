"""The simulator: realistic traffic, reproducible with a seed, and what it puts in is what the engine logs."""

from __future__ import annotations

import dataclasses
import random
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from antrian_assets import ROOT as ASSETS
from broker.core.events import EventType as E
from broker.reports.build import EventLog, Period, ikm, visitors
from broker.server.store import EventStore
from broker.sim.simulate import assign_officers, simulate
from broker.sim.traffic import TrafficError, Vacancy, load_traffic
from broker.site.config import load_config

ZONE = ZoneInfo("Asia/Jakarta")
MONDAY = date(2022, 11, 21)


@pytest.fixture(scope="module")
def rembang():
    config = load_config(None)
    return config, load_traffic(config)


def arrivals(model, days: int, seed: int = 7, start: date = MONDAY):
    rng = random.Random(seed)
    return [v for i in range(days) for v in model.day_arrivals(start + timedelta(days=i), rng, ZONE)]


def local(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, ZONE)


REMBANG_START = date(2022, 11, 22)  # MPP Rembang's first day; the seed report covers 52 weeks from it


def seed_figures(config, by_service: dict[str, float]) -> dict[str, float]:
    """The figures of the seed report (shared/seeds/000_*) in the terms of a count of tickets per service."""
    agency, kind = Counter(), Counter()
    for code, n in by_service.items():
        agency[config.services[code].agency] += n
        kind[config.agencies[config.services[code].agency].kind] += n
    return {"visitors": sum(by_service.values()), "dindukcapil": agency["dindukcapil"],
            "bpjs_kesehatan": agency["bpjs_kesehatan"], "opd": kind["OPD"], "vertikal": kind["instansi vertikal"]}


def assert_rembang_figures(figures: dict[str, float], visitors_within: float) -> None:
    """55.663 pengunjung in 52 weeks; OPD 45 ribu, instansi vertikal 10 ribu; Dindukcapil 27 ribu lebih;
    BPJS Kesehatan 2.700 lebih."""
    assert abs(figures["visitors"] - 55_663) <= visitors_within, figures
    assert 27_000 < figures["dindukcapil"] < 28_000, figures
    assert 2_700 < figures["bpjs_kesehatan"] < 2_800, figures
    assert 44_500 <= figures["opd"] < 45_500 and 9_500 <= figures["vertikal"] < 10_500, figures


def test_the_year_expects_every_figure_of_the_seed_report(rembang):
    config, model = rembang
    expected = model.expected(REMBANG_START, 364)
    assert_rembang_figures(seed_figures(config, expected), visitors_within=1)


def test_the_seeded_year_gives_every_figure_of_the_seed_report(rembang):
    """What `antrian simulate --days 364` (seed 1) hands out: its visitors are drawn exactly like this
    (broker.sim.simulate.Simulation.run): the year's 55,663 spread over its days, then each day's."""
    config, model = rembang
    rng, tickets = random.Random("1-arrivals"), Counter()
    counts = model.day_counts(REMBANG_START, 364, rng)
    assert counts is not None and sum(counts.values()) == 55_663
    assert not any(counts[date(2023, 4, d)] for d in range(19, 26)), "Idul Fitri and its cuti bersama"
    for offset in range(364):
        day = REMBANG_START + timedelta(days=offset)
        tickets.update(code for _, code, _ in model.day_arrivals(day, rng, ZONE, counts[day]))
    assert_rembang_figures(seed_figures(config, tickets), visitors_within=0)
    assert model.day_counts(REMBANG_START, 7, random.Random(1)) is None, "a week of it draws each day's count"


def test_the_daily_curve_has_a_morning_peak_and_a_quiet_lunch(rembang):
    _, model = rembang
    hours = Counter(local(ts).hour for ts, _, _ in arrivals(model, 28))
    assert hours[9] > hours[8] > hours[7] and hours[9] > hours[11]
    assert hours[12] < hours[9] / 3 and hours[12] < hours[13]
    assert not any(hours[h] for h in (*range(7), *range(15, 24)))


def test_nobody_takes_a_ticket_in_the_friday_prayer_break_or_on_sunday(rembang):
    _, model = rembang
    week = arrivals(model, 7)
    friday = [local(ts) for ts, _, _ in week if local(ts).weekday() == 4]
    assert friday and not [t for t in friday if 11 <= t.hour < 12 or (t.hour == 12 and t.minute < 30)]
    assert not [ts for ts, _, _ in week if local(ts).weekday() == 6]
    saturday = {code for ts, code, _ in week if local(ts).weekday() == 5}
    assert saturday and saturday <= {"A", "B", "C", "D", "KIA", "PD", "LG"}  # only Dindukcapil opens


def test_the_same_seed_gives_the_same_visitors_and_another_seed_others(rembang):
    _, model = rembang
    assert arrivals(model, 3, seed=5) == arrivals(model, 3, seed=5)
    assert arrivals(model, 3, seed=5) != arrivals(model, 3, seed=6)


def test_nobody_comes_on_idul_fitri_or_its_cuti_bersama(rembang):
    """Lebaran 2023: Idul Fitri on 22-23 April, cuti bersama 19-21 and 24-25 April."""
    _, model = rembang
    rng = random.Random(1)
    days = {date(2023, 4, d): len(model.day_arrivals(date(2023, 4, d), rng, ZONE)) for d in range(18, 27)}
    assert days[date(2023, 4, 18)] > 100 and days[date(2023, 4, 26)] > 100
    assert [days[date(2023, 4, d)] for d in range(19, 26)] == [0] * 7
    assert not model.day_arrivals(date(2023, 8, 17), rng, ZONE), "Hari Kemerdekaan"


DINKES_AWAY = Vacancy("8", MONDAY + timedelta(days=1), MONDAY + timedelta(days=2))  # Dinkes' only counter


@pytest.fixture(scope="module")
def simulated_week(rembang, tmp_path_factory):
    """One week of MPP Rembang through the real engine and a private Mosquitto, then its first two days again
    with the same seed; the Dinkes counter stands empty on Tuesday and Wednesday."""
    config, model = rembang
    model = dataclasses.replace(model, staffing=dataclasses.replace(model.staffing, vacancies=(DINKES_AWAY,)))
    runs = []
    for run, days in (("week", 7), ("again", 2)):
        data = tmp_path_factory.mktemp(run)
        runs.append((data, simulate(config, model, data, start=MONDAY, days=days, seed=3, synchronous="NORMAL")))
    return config, runs


def logged(data, site: str, before: date | None = None) -> list[tuple]:
    """The events of a simulated log (those before a day, when given) as plain tuples."""
    end = datetime(before.year, before.month, before.day, tzinfo=ZONE).timestamp() if before else float("inf")
    store = EventStore(data, site)
    try:
        return [(str(e.type), e.ts, e.seq, e.data) for e in store.iter_events() if e.ts < end]
    finally:
        store.close()


def test_a_simulated_week_is_what_the_engine_logged(simulated_week):
    config, [(data, summary), _] = simulated_week
    assert summary["log_mismatches"] == [] and summary["report_mismatches"] == []
    assert summary["tickets_issued"] > 1000 and summary["served"] > 0.9 * summary["tickets_issued"]
    assert summary["no_shows"] > 0 and summary["transfers"] > 0 and summary["recalls"] >= summary["no_shows"]
    assert summary["counter_errors"] == {} and summary["survey_errors"] == {}
    assert summary["expired"] == 0  # officers serve their queue before going home
    assert summary["surveys"] > 0.4 * summary["served"]


def test_the_same_seed_gives_the_same_days_in_another_run(simulated_week):
    """Run again, the week's first two days are the same events, at the same simulated moments."""
    config, [(week, first), (again, second)] = simulated_week
    assert first["broker"] == second["broker"] == "mosquitto"
    assert second["tickets_issued"] > 300 and second["log_mismatches"] == []
    wednesday = MONDAY + timedelta(days=2)
    assert logged(again, config.site.id) == logged(week, config.site.id, before=wednesday)


def test_the_reports_give_back_the_simulated_numbers(simulated_week):
    config, [(data, summary), _] = simulated_week
    log = EventLog(data, config)
    try:
        period = Period(MONDAY, MONDAY + timedelta(days=6))
        assert visitors([log], period, by="kind").summary["total"] == summary["tickets_issued"]
        by_kind = {row[0]: row[-1] for row in visitors([log], period, by="kind").rows[:-1]}
        assert by_kind == summary["by_kind"]
        index = ikm([log], period, by="site").summary
        assert index["respondents"] == summary["surveys"]
        assert index["ikm"] == pytest.approx(summary["ikm"], abs=0.01)
    finally:
        log.close()


def local_day(ts: float) -> date:
    return local(ts).date()


def test_officers_sign_in_take_breaks_close_and_sign_out_every_day(simulated_week):
    config, [(data, summary), _] = simulated_week
    assert summary["sign_ins"] == summary["sign_outs"] > 0 and summary["breaks"] > 0
    store = EventStore(data, config.site.id)
    try:
        events = list(store.iter_events())
    finally:
        store.close()
    staffed: dict[tuple[date, str], list[str]] = defaultdict(list)  # (day, counter) -> officer events in order
    statuses: dict[tuple[date, str], list[str]] = defaultdict(list)
    calls: Counter = Counter()
    for event in events:
        key = (local_day(event.ts), event.data.get("counter"))
        if event.type in (E.OFFICER_SIGNED_IN, E.OFFICER_SIGNED_OUT):
            staffed[key].append(event.type)
        elif event.type == E.COUNTER_STATUS:
            statuses[key].append(event.data["status"])
        elif event.type == E.TICKET_CALLED:
            calls[key] += 1
            moment = local(event.ts)
            if moment.date() == MONDAY + timedelta(days=4):  # Friday: nobody called in the prayer break
                assert not (11 <= moment.hour < 13), (event.data, moment)
    assert staffed and all(kinds[0] == E.OFFICER_SIGNED_IN and kinds[-1] == E.OFFICER_SIGNED_OUT
                           for kinds in staffed.values()), "every officer who signs in signs out the same day"
    assert all(states[-1] == "closed" for states in statuses.values()), "every counter closes at the end of the day"
    assert any("break" in states for states in statuses.values())
    friday = MONDAY + timedelta(days=4)
    signed = set(staffed)
    on_friday = [cid for day, cid in signed if day == friday]
    assert len(on_friday) > 20 and all("break" in statuses[(friday, cid)] for cid in on_friday), \
        "the Friday prayer is a pause at every counter"
    assert {key for key, n in calls.items() if n} <= signed, "nobody calls at a counter without an officer"
    assert (MONDAY, "8") in signed and (DINKES_AWAY.first, "8") not in signed and (DINKES_AWAY.last, "8") not in signed
    saturday = MONDAY + timedelta(days=5)
    assert {cid for day, cid in signed if day == saturday} <= {"1", "2", "3", "4"}, "only Dindukcapil opens on Saturday"


def test_visitors_of_an_empty_counter_are_sent_away_without_a_ticket(simulated_week):
    config, [(data, summary), _] = simulated_week
    assert summary["turned_away"] > 0 and summary["empty_counter_days"] >= 2
    store = EventStore(data, config.site.id)
    try:
        dinkes = Counter(local_day(e.ts) for e in store.iter_events()
                         if e.type == E.TICKET_ISSUED and e.data["service"] == "J")
    finally:
        store.close()
    assert dinkes[MONDAY] > 0 and not dinkes[DINKES_AWAY.first] and not dinkes[DINKES_AWAY.last]


# ---------------------------------------------------------------------- the four Kotawaringin MPPs

KOTAWARINGIN = ASSETS / "kotawaringin"
# DPMPTSP Kotawaringin Barat, rakor of 27 May 2025: visitors of March-May 2025 (shared/seeds/004_*)
MARCH_MAY_2025 = {"kobar": 852, "kotim": 2_607, "lamandau": 1_055, "sukamara": 1_010}


def kotawaringin(site: str):
    config = load_config(KOTAWARINGIN / f"{site}.toml")
    return config, load_traffic(config, KOTAWARINGIN / f"{site}-traffic.toml")


@pytest.mark.parametrize(("site", "visitors"), sorted(MARCH_MAY_2025.items()))
def test_each_kotawaringin_mpp_gives_its_visitors_of_march_to_may_2025(site, visitors):
    config, model = kotawaringin(site)
    assert config.site.id == site and model.year_start == date(2025, 3, 1) and model.year_days == 92
    assert sum(model.expected(model.year_start, 92).values()) == pytest.approx(visitors, abs=0.5)
    rng = random.Random("1-arrivals")  # as `antrian simulate --seed 1` draws them
    counts = model.day_counts(model.year_start, 92, rng)
    assert sum(counts.values()) == visitors
    assert not any(counts[date(2025, 3, 31) + timedelta(days=n)] for n in range(8)), \
        "Idul Fitri 31 March - 1 April 2025 and its cuti bersama up to 7 April"
    tickets = sum(len(model.day_arrivals(day, rng, ZONE, n)) for day, n in sorted(counts.items()))
    assert tickets == visitors


def test_kotawaringin_barat_has_counters_empty_for_a_month(tmp_path):
    """Some counters of MPP Kobar were found empty for a whole month: nobody signs in there, and the site
    requires a signed-in officer to call; the others sign in and serve."""
    config, model = kotawaringin("kobar")
    assert config.rules.require_sign_in
    empty = {v.counter for v in model.staffing.vacancies}
    assert {config.counters[c].agency for c in empty} == {"bpjs_tk", "bpn", "kemenag"}
    assert all(v.first == date(2025, 4, 28) and v.last == date(2025, 5, 31) for v in model.staffing.vacancies)
    start = date(2025, 4, 28)  # Monday: BPN and Kemenag attend on Mondays and Wednesdays
    summary = simulate(config, model, tmp_path, start=start, days=3, seed=1, synchronous="NORMAL")
    assert summary["log_mismatches"] == [] and summary["counter_errors"] == {}
    assert summary["tickets_issued"] > 20 and summary["sign_ins"] > 0 and summary["expired"] == 0
    store = EventStore(tmp_path, config.site.id)
    try:
        events = list(store.iter_events())
    finally:
        store.close()
    signed = {e.data["counter"] for e in events if e.type == E.OFFICER_SIGNED_IN}
    assert signed and not signed & empty
    issued = {e.data["agency"] for e in events if e.type == E.TICKET_ISSUED}
    assert "disdukcapil" in issued and not issued & {"bpjs_tk", "bpn", "kemenag"}


@pytest.mark.parametrize(("text", "problem"), [
    ("[year]\nstart = 2025-03-01\nvisitor = 10\n", "unknown keys: visitor"),
    ("[year]\nstart = \"March\"\n", "must be a date"),
    ("[staffing]\nbreak_chanse = 0.5\n", "unknown keys: break_chanse"),
    ("[[staffing.vacancies]]\ncounter = \"99\"\nfrom = 2025-03-01\n", "names counter '99'"),
    ("[[staffing.vacancies]]\ncounter = \"1\"\nfrom = 2025-03-05\nto = 2025-03-01\n", "to is before from"),
])
def test_a_traffic_file_that_does_not_fit_is_refused_with_a_sentence(tmp_path, text, problem):
    config, _ = kotawaringin("kobar")
    path = tmp_path / "traffic.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(TrafficError, match=problem):
        load_traffic(config, path)


def test_each_counter_gets_an_officer_who_may_staff_it_and_each_officer_one_counter(rembang):
    config, _ = rembang
    staffed = assign_officers(config)
    assert set(staffed) == set(config.counters) and len(set(staffed.values())) == len(staffed)
    assert all(config.officers[o].may_staff(config.counters[c]) for c, o in staffed.items())
    assert staffed["5"] == "agus", "an officer named for counters is placed first"
