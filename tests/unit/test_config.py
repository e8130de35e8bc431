"""The site configuration: the shipped sample MPP, every problem of a broken file, and opening hours."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from broker.core.schedule import Schedule, SiteClock, parse_day, parse_ranges
from broker.site.config import AGENCY_KINDS, SAMPLE_CONFIG, ConfigError, load_config, parse_config
from conftest import SMALL_SITE

WIB = ZoneInfo("Asia/Jakarta")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def problems_of(text: str) -> list:
    with pytest.raises(ConfigError) as info:
        parse_config(text, "broken.toml")
    return info.value.problems


def line_of(text: str, snippet: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing `snippet`, so expectations follow the text."""
    hits = [n for n, line in enumerate(text.splitlines(), 1) if snippet in line]
    assert len(hits) >= occurrence, f"{snippet!r} is not in the text {occurrence} time(s)"
    return hits[occurrence - 1]


def at(dt_day: date, hh: int, mm: int) -> datetime:
    return datetime(dt_day.year, dt_day.month, dt_day.day, hh, mm, tzinfo=WIB)


# 2024-03-04 is a Monday.
MONDAY, TUESDAY, THURSDAY, FRIDAY, SATURDAY = (date(2024, 3, d) for d in (4, 5, 7, 8, 9))


# ------------------------------------------------------------------ the shipped sample


@pytest.fixture(scope="module")
def sample():
    return load_config()


def test_the_sample_is_the_default_and_describes_a_real_sized_mpp(sample):
    assert sample.source == str(SAMPLE_CONFIG)
    assert sample.site.id == "rembang", "README and docs/protocol.md use antrian/rembang/..."
    assert sample.site.timezone == "Asia/Jakarta"
    for key in ("name", "address", "footer", "info_text", "ticket_url"):
        assert getattr(sample.site, key).strip(), f"site.{key} is empty in the sample"
    assert "{ticket}" in sample.site.ticket_url

    assert len(sample.agencies) >= 14
    kinds = {a.kind for a in sample.agencies.values()}
    assert kinds <= set(AGENCY_KINDS)
    assert len(kinds) >= 4, f"only kinds {kinds}"
    assert len(sample.services) >= 28
    assert len(sample.counters) >= 22
    assert "4K-10" in sample.counters


def test_the_sample_services_have_prefixes_english_names_quotas_notices(sample):
    services = sample.services.values()
    assert all(re.fullmatch(r"[A-Z]{1,3}", s.code) for s in services)
    assert all(s.name_en.strip() for s in services), "every service needs an English name (name_en)"
    assert {s.code for s in services if s.quota} >= {"P"}, "passports have a daily quota"
    assert sum(1 for s in services if s.quota) >= 2
    assert 1 <= sum(1 for s in services if not s.priority) < len(sample.services) // 2
    assert sum(1 for s in services if s.notice) >= 2
    assert sum(1 for s in services if s.requirements) >= 4
    assert "KTP" in sample.services["A"].name and "Kartu Keluarga" in sample.services["A"].requirements
    jkn = [s for s in services if "JKN" in s.name]
    assert jkn and all(s.notice for s in jkn), "the JKN services carry a notice"


def test_the_sample_opening_days_vary_per_agency(sample):
    site_days = {a.id: a.schedule.days for a in sample.agencies.values()}
    limited = [a for a, days in site_days.items() if len(days) < 5]
    assert len(limited) >= 3, "some agencies come only once or twice a week"
    assert sample.agencies["imigrasi"].schedule.days == {TUE, THU}
    passport = sample.services["P"]
    assert passport.agency == "imigrasi" and passport.schedule.days == {TUE, THU}
    assert passport.schedule.is_open(at(TUESDAY, 9, 0))
    assert not passport.schedule.is_open(at(MONDAY, 9, 0))
    # Friday prayer: most agencies close over midday on Friday only.
    ktp = sample.services["A"].schedule
    assert ktp.is_open(at(THURSDAY, 12, 0)) and not ktp.is_open(at(FRIDAY, 12, 0))
    assert ktp.is_open(at(FRIDAY, 13, 30))
    # An agency with its own hours keeps its own Friday, never the site's later afternoon.
    bank = sample.agencies["bank_jateng"].schedule
    assert not bank.is_open(at(FRIDAY, 14, 30)) and not bank.is_open(at(MONDAY, 14, 30))


def test_the_sample_counters_serve_their_own_agency_in_preference_order(sample):
    for counter in sample.counters.values():
        assert counter.services, counter.id
        for code in counter.services:
            assert sample.services[code].agency == counter.agency, \
                f"counter {counter.id} ({counter.agency}) calls {code} of {sample.services[code].agency}"
    assert any(len(c.services) >= 3 for c in sample.counters.values())
    ktp_counters = sample.counters_serving("A")
    assert len(ktp_counters) >= 2 and ktp_counters[0].services[0] == "A"
    assert sample.counters["4K-10"].services == ("P",)
    assert sample.counters["1"].services[0] == "A", "README: `antrian issue A` then `antrian call 1`"


def test_the_sample_is_commented_for_the_admin():
    text = SAMPLE_CONFIG.read_text(encoding="utf-8")
    comments = [line for line in text.splitlines() if line.strip().startswith("#")]
    assert len(comments) >= 60
    for word in ("kind", "quota", "priority", "notice", "requirements", "name_en", "zone", "PREFERENCE",
                 "antrian config check"):
        assert any(word in line for line in comments), f"no comment explains {word}"
    lines = text.splitlines()
    for key in ("id", "timezone", "info_text", "ticket_url", "priority_max_in_a_row", "counter_debounce_s",
                "issue_lead_minutes", "min_recalls_before_no_show", "number_digits"):
        n = next(i for i, line in enumerate(lines) if line.startswith(f"{key} ="))
        assert lines[n - 1].startswith("#"), f"the first `{key} =` has no comment above it"


# ------------------------------------------------------------------ a broken file


BROKEN = """\
[site]
id = "mpp-uji"
name = "MPP Uji"
timezone = "Asia/Jakart"

[site.hours]
days = ["mon", "tue", "wed", "thu", "fri"]
hours = "08:00-15:00"
fri = "08:00-11:00, 13:00-15:00"

[rules]
priority_max_in_a_row = 0
counter_debounce_s = true

[[agencies]]
id = "dukcapil"
name = "Dinas Kependudukan dan Pencatatan Sipil"
kind = "OPD"

[[agencies]]
id = "imigrasi"
name = "Kantor Imigrasi"
kind = "instansi vertical"
days = ["selasa", "kamis"]
hours = "25:00-26:00"

[[agencies]]
id = "bank"
name = ""
kind = "bank"
days = ["mon", "jumad"]

[[services]]
code = "A"
name = "KTP Elektronik"
agency = "dukcapil"

[[services]]
code = "B"
name = "Kartu Keluarga"
agency = "dukcapill"
quotaa = 40

[[services]]
code = "A"
name = "Akta Kelahiran"
agency = "dukcapil"

[[services]]
code = "P"
name = "Paspor"
agency = "imigrasi"
quota = 0
priority = "no"
sat = "08:00-12:00"

[[services]]
code = "Kr"
name = "Kredit"
agency = "bank"

[[services]]
code = "T"
name = "Tabungan"
agency = "bank"

[[counters]]
id = "1"
agency = "dukcapil"
services = ["A", "B", "Z"]

[[counters]]
id = "4K-10"
agency = "imigrasi"
services = ["P", "P"]

[[counters]]
id = "1"
agency = "bank"
services = []

[cashiers]
id = "x"
"""


def test_a_broken_file_reports_every_problem_with_its_place_line_and_a_sentence():
    t = BROKEN
    expected = [
        # (location, line, words of the sentence)
        ("site.timezone", line_of(t, "Asia/Jakart"), "'Asia/Jakart' is not a known time zone"),
        ("rules.priority_max_in_a_row", line_of(t, "priority_max_in_a_row"), "must be at least 1, not 0"),
        ("rules.counter_debounce_s", line_of(t, "counter_debounce_s"), "must be a number"),
        ("agencies[2] (imigrasi).kind", line_of(t, "instansi vertical"),
         "'instansi vertical' is not an agency kind (did you mean 'instansi vertikal'?)"),
        ("agencies[2] (imigrasi).hours", line_of(t, "25:00-26:00"), "'25:00-26:00' has an impossible time"),
        ("agencies[3] (bank).name", line_of(t, 'name = ""'), "must not be empty"),
        ("agencies[3] (bank).days", line_of(t, "jumad"), "'jumad' is not a day name"),
        ("services[2] (B).agency", line_of(t, '"dukcapill"'), "names agency 'dukcapill', which is not defined"),
        ("services[2] (B).quotaa", line_of(t, "quotaa"), "is not a known setting (did you mean 'quota'?)"),
        ("services[3] (A).code", line_of(t, 'code = "A"', 2), "service code 'A' is used twice"),
        ("services[4] (P).quota", line_of(t, "quota = 0"), "must be at least 1, not 0"),
        ("services[4] (P).priority", line_of(t, 'priority = "no"'), "must be true or false"),
        ("services[4] (P).sat", line_of(t, 'sat = "08:00-12:00"'), "not in days"),
        ("services[5].code", line_of(t, 'code = "Kr"'), "'Kr' is not valid: use 1 to 3 capital letters"),
        ("counters[1] (1).services", line_of(t, '"Z"'), "names service 'Z', which is not defined"),
        ("counters[2] (4K-10).services", line_of(t, '["P", "P"]'), "lists a service twice"),
        ("counters[3] (1).services", line_of(t, "services = []"), "must list at least one service"),
        ("counters[3] (1).id", line_of(t, 'id = "1"', 2), "counter '1' is defined twice"),
        ("services[6] (T)", line_of(t, 'code = "T"') - 1, "no counter serves this service"),
        ("cashiers", line_of(t, "[cashiers]"), "is not a known section"),
    ]
    problems = problems_of(t)
    found = [(p.location, p.line, p.message) for p in problems]
    for location, line, words in expected:
        matches = [f for f in found if f[0] == location and words in f[2]]
        assert matches, f"no problem at {location} saying {words!r}; got:\n" + "\n".join(map(str, found))
        assert matches[0][1] == line, f"{location} reported at line {matches[0][1]}, not {line}"
    assert len(problems) == len(expected), "unexpected extra problems:\n" + "\n".join(map(str, problems))
    for p in problems:
        assert str(p).startswith(f"line {p.line}: {p.location}: "), str(p)
        assert p.message[0].isalpha() or p.message[0] == "'", p.message  # a sentence, not a traceback


def test_a_toml_syntax_error_is_one_problem_with_its_line():
    text = SMALL_SITE.replace('name = "MPP Uji"', 'name = "MPP Uji')
    [problem] = problems_of(text)
    assert problem.location == "file" and "is not valid TOML" in problem.message
    assert problem.line == line_of(text, 'name = "MPP Uji')
    text = SMALL_SITE.replace('[[counters]]\nid = "5"', '[[counters]\nid = "5"')
    [problem] = problems_of(text)
    assert problem.line == text.splitlines().index("[[counters]") + 1 and "]]" in problem.message


def test_a_missing_site_table_and_no_agencies_are_said_plainly():
    problems = problems_of("[rules]\nnumber_digits = 4\n")
    messages = {(p.location, p.message) for p in problems}
    assert ("site", "the [site] table is missing") in messages
    assert ("site.id", "is missing") in messages and ("site.name", "is missing") in messages
    assert ("agencies", "no agency is defined: add [[agencies]] entries") in messages


def test_empty_ids_are_reported_not_silently_dropped():
    for old, new, location in [('code = "K"', 'code = ""', "services[4].code"),
                               ('id = "5"', 'id = ""', "counters[4].id"),
                               ('id = "bank"', 'id = ""', "agencies[3].id")]:
        found = {p.location for p in problems_of(SMALL_SITE.replace(old, new))}
        assert location in found, (location, found)


# ------------------------------------------------------------------ opening hours


def test_parse_ranges():
    assert parse_ranges("08:00-15:00") == ((480, 900),)
    assert parse_ranges("13:00-15:00, 08:00-11:00") == ((480, 660), (780, 900)), "sorted"
    assert parse_ranges(" 8.00 - 11.30 ") == ((480, 690),), "dots and one-digit hours are fine"
    assert parse_ranges("16:00-24:00") == ((960, 1440),)


@pytest.mark.parametrize("text, words", [
    ("25:00-26:00", "impossible time"),
    ("08:00-24:30", "impossible time"),
    ("08:60-09:00", "impossible time"),
    ("15:00-08:00", "ends before it starts"),
    ("08:00-08:00", "ends before it starts"),
    ("08:00-12:00, 11:00-15:00", "overlap"),
    ("08:00 to 15:00", "is not a time range"),
    ("", "is not a time range"),
])
def test_parse_ranges_refuses(text, words):
    with pytest.raises(ValueError, match=words):
        parse_ranges(text)


def test_day_names_in_indonesian_and_english():
    assert [parse_day(d) for d in ("mon", "Selasa", "RABU", "thu", "Jumat", "jum'at", "sabtu", "Ahad")] == \
        [MON, TUE, WED, THU, FRI, FRI, SAT, SUN]
    assert parse_day(" minggu ") == parse_day("Sun") == SUN
    with pytest.raises(ValueError, match="'jumad' is not a day name"):
        parse_day("jumad")


def test_is_open_with_lead_minutes():
    s = Schedule()  # Monday to Friday 08:00-15:00
    assert not s.is_open(at(MONDAY, 7, 59))
    assert s.is_open(at(MONDAY, 8, 0)) and s.is_open(at(MONDAY, 14, 59))
    assert not s.is_open(at(MONDAY, 15, 0)), "the end is exclusive"
    assert s.is_open(at(MONDAY, 7, 30), lead_minutes=30) and not s.is_open(at(MONDAY, 7, 29), lead_minutes=30)
    assert not s.is_open(at(MONDAY, 15, 0), lead_minutes=30), "the lead opens earlier, never closes later"
    assert not s.is_open(at(SATURDAY, 9, 0), lead_minutes=30)


def test_friday_split_from_the_config(small_config):
    ktp = small_config.services["A"].schedule
    assert ktp.hours_on(FRI) == ((480, 660), (780, 900)) and ktp.hours_on(THU) == ((480, 900),)
    assert ktp.is_open(at(FRIDAY, 10, 59)) and not ktp.is_open(at(FRIDAY, 11, 0))
    assert not ktp.is_open(at(FRIDAY, 12, 29), lead_minutes=30)
    assert ktp.is_open(at(FRIDAY, 12, 30), lead_minutes=30), "kiosks open before the afternoon session too"
    assert ktp.is_open(at(THURSDAY, 12, 0))
    # PUEBI times (08.00), each day said once: Friday is not also inside "Senin-Jumat"
    assert ktp.describe("id") == "Senin-Kamis 08.00-15.00; Jumat 08.00-11.00, 13.00-15.00"
    assert ktp.describe("en") == "Mon-Thu 08.00-15.00; Fri 08.00-11.00, 13.00-15.00"
    passport = small_config.services["P"].schedule
    assert passport.describe("id") == "Selasa, Kamis 08.00-15.00", "Friday hours of closed days are not shown"
    assert Schedule(days=frozenset({0, 1, 2, 4, 5})).describe("id") == "Senin-Rabu, Jumat, Sabtu 08.00-15.00"
    assert Schedule(hours=((480, 1440),)).describe("en") == "Mon-Fri 08.00-24.00"


def test_services_inherit_and_override_agency_hours():
    text = SMALL_SITE.replace('quota = 3\n', 'quota = 3\nhours = "09:00-12:00"\n').replace(
        'code = "K"\nname = "Kredit"\n', 'code = "K"\nname = "Kredit"\nfri = "tutup"\n')
    config = parse_config(text)
    passport = config.services["P"].schedule
    assert passport.days == {TUE, THU} and passport.hours == ((540, 720),)
    assert not passport.is_open(at(TUESDAY, 8, 30)) and passport.is_open(at(TUESDAY, 9, 0))
    credit = config.services["K"].schedule
    assert credit.hours_on(FRI) == () and not credit.is_open(at(FRIDAY, 9, 0))
    assert credit.is_open(at(THURSDAY, 9, 0))
    assert credit.describe("id").endswith("; Jumat tutup") and credit.describe("en").endswith("; Fri closed")


def test_the_local_day_follows_asia_jakarta_across_utc_midnight():
    clock = SiteClock("Asia/Jakarta")
    ts = datetime(2024, 3, 7, 17, 30, tzinfo=UTC).timestamp()  # Thursday in UTC
    assert clock.local(ts).strftime("%a %H:%M") == "Fri 00:30"
    assert clock.day(ts) == date(2024, 3, 8)
    assert clock.day(ts - 3600) == date(2024, 3, 7), "16:30 UTC is still Thursday 23:30 WIB"
    assert clock.midnight_after(ts) == datetime(2024, 3, 8, 17, 0, tzinfo=UTC).timestamp()
    assert clock.midnight_after(ts - 3600) == ts - 1800, "Thursday's reset is at 17:00 UTC"
    # Friday 11:30 WIB is 04:30 UTC: closed for Friday prayer, whatever the UTC hour suggests.
    friday_prayer = datetime(2024, 3, 8, 4, 30, tzinfo=UTC).timestamp()
    assert not Schedule(by_day={FRI: parse_ranges("08:00-11:00, 13:00-15:00")}).is_open(clock.local(friday_prayer))


def test_open_now_uses_the_sites_weekday_not_utcs():
    clock = SiteClock("Asia/Jayapura")  # WIT, UTC+9
    sunday_utc = datetime(2024, 3, 10, 23, 30, tzinfo=UTC).timestamp()  # Monday 08:30 WIT
    local = clock.local(sunday_utc)
    assert local.weekday() == MON and Schedule().is_open(local)
    assert not Schedule().is_open(datetime.fromtimestamp(sunday_utc, UTC)), "UTC would say Sunday"


def test_own_hours_replace_the_inherited_friday_split():
    """An agency closing at 12:00 must not reopen on Friday afternoon because the site has a Friday line."""
    text = SMALL_SITE.replace('kind = "bank"', 'kind = "bank"\nhours = "08:00-12:00"')
    config = parse_config(text, "own-hours.toml")
    bank = config.agencies["bank"].schedule
    friday_afternoon = datetime(2026, 11, 27, 13, 30)
    assert not bank.is_open(friday_afternoon, 0)
    assert bank.is_open(datetime(2026, 11, 27, 9, 0), 0)
    assert config.agencies["dukcapil"].schedule.is_open(friday_afternoon, 0), "the site's own Friday split stays"
    assert not config.agencies["dukcapil"].schedule.is_open(datetime(2026, 11, 27, 12, 0), 0)


def test_every_setting_of_the_model_is_described_in_the_sample():
    """A new plain setting is one field in broker.core.model, read by the table-driven reader, plus its
    line in the sample (written, or commented out with its default)."""
    import dataclasses
    import re

    from broker.core import model

    text = SAMPLE_CONFIG.read_text(encoding="utf-8")
    missing = [f"{cls.__name__}.{f.name}"
               for cls in (model.Site, model.Rules, model.Agency, model.Service, model.Counter, model.Officer,
                           model.Access)
               for f in dataclasses.fields(cls) if f.name != "schedule"  # days / hours / mon ... in the sample
               if not re.search(rf"^#?\s*{f.name}(\s*=|\s\s)", text, re.M)]
    assert not missing, f"describe these in {SAMPLE_CONFIG.name}: {missing}"


def test_a_settings_lower_bound_comes_from_the_model():
    text = SAMPLE_CONFIG.read_text(encoding="utf-8").replace("[rules]\n", "[rules]\nsurvey_days = 0\n", 1)
    with pytest.raises(ConfigError, match=r"rules.survey_days.*must be at least 1, not 0"):
        parse_config(text)


def test_the_region_code_is_a_kemendagri_code_and_names_the_mpp_at_the_province():
    site = SMALL_SITE.replace('name = "MPP Uji"', 'name = "MPP Uji"\nregion_code = "62.01"', 1)
    assert "region_code" in site
    config = parse_config(site, "site.toml")
    assert config.site.region_code == "62.01" and config.site.province_id == "62.01-testsite"
    assert parse_config(SMALL_SITE, "site.toml").site.province_id == "", "no region code: no id at the province"
    for wrong in ("62.1", "6201", "62.01.01.0001", "kobar", "02.01"):
        with pytest.raises(ConfigError, match="Kemendagri region code"):
            parse_config(site.replace('"62.01"', f'"{wrong}"'), "site.toml")
