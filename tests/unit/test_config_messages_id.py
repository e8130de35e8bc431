"""The config checker speaks Bahasa Indonesia first: every problem it can give has its sentence in the one
text table (config.* of broker.core.texts) in both languages, every parameter filled, and the English one
is the `message` the logs and the older tests read.

Each broken snippet below is the small test site with one mistake; together they reach every sentence the
checker has (the last test holds them to that, so a new problem without a snippet fails here)."""

from __future__ import annotations

import pytest

from broker.core.pin import hash_pin
from broker.core.texts import TEXTS
from broker.site.config import ConfigError, Phrase, Problem, load_config, parse_config
from conftest import SMALL_SITE

PIN_HASH = hash_pin("123456", iterations=1000)
ACCESS = "[access]\nallow_anonymous = true  # the test site is a demo; tests/secure_broker.py makes a closed one\n"
OFFICER = f'\n[[officers]]\nid = "budi"\nname = "Budi"\npin_hash = "{PIN_HASH}"\n'


def swap(old: str, new: str, text: str = SMALL_SITE) -> str:
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


def site_with(line: str) -> str:
    """A key added to [site]."""
    return swap('timezone = "Asia/Jakarta"\n', f'timezone = "Asia/Jakarta"\n{line}\n')


def hours_with(line: str) -> str:
    """A key of [site.hours] replaced or added."""
    return swap('hours = "08:00-15:00"\n', f"{line}\n")


def rules_with(line: str) -> str:
    return swap("[rules]\n", f"[rules]\n{line}\n")


def service_a_with(line: str) -> str:
    return swap('code = "A"\nname = "KTP Elektronik"\n', f'code = "A"\nname = "KTP Elektronik"\n{line}\n')


def counter_1_with(line: str) -> str:
    return swap('id = "1"\nagency = "dukcapil"\nservices = ["A", "B"]\n',
                f'id = "1"\nagency = "dukcapil"\n{line}\n')


def closure(*lines: str) -> str:
    return SMALL_SITE + "\n[[closures]]\n" + "\n".join(lines) + "\n"


def officer(*lines: str) -> str:
    return SMALL_SITE + "\n[[officers]]\n" + "\n".join(lines) + "\n"


# (what is broken, the config text, the text key one of its problems must say)
SNIPPETS: list[tuple[str, str, str]] = [
    ("site id with a space", swap('id = "testsite"', 'id = "Test Site"'), "config._help_site_id"),
    ("site name blank", swap('name = "MPP Uji"', 'name = "  "'), "config.empty"),
    ("site name missing", swap('name = "MPP Uji"\n', ""), "config.missing"),
    ("unknown time zone", swap('"Asia/Jakarta"', '"Mars/Olympus"'), "config.bad_timezone"),
    ("unknown language", site_with('language = "jv"'), "config.bad_language"),
    ("region code with dashes", site_with('region_code = "62-01"'), "config._help_region_code"),
    ("a typo of a setting", site_with('adress = "Jl. Pahlawan 1"'), "config.unknown_setting_close"),
    ("a setting nobody knows", rules_with("zzz_qqq = 1"), "config.unknown_setting"),
    ("text written as a number", site_with("address = 12"), "config._kind_text"),
    ("whole number written as text", rules_with('number_digits = "tiga"'), "config._kind_whole_number"),
    ("number written as text", swap("counter_debounce_s = 1.0", 'counter_debounce_s = "1s"'), "config._kind_number"),
    ("true or false written as text", swap("allow_anonymous = true", 'allow_anonymous = "ya"'), "config._kind_flag"),
    ("list written as text", counter_1_with('services = "A"'), "config._kind_texts"),
    ("list of numbers", counter_1_with("services = [1, 2]"), "config.not_texts"),
    ("number below its minimum", rules_with("number_digits = 0"), "config.too_small"),
    ("day name unknown", swap('days = ["mon", "tue"', 'days = ["mon", "funday"'), "config.not_a_day"),
    ("hours not a range", hours_with('hours = "8 to 3"'), "config.not_a_range"),
    ("an impossible hour", hours_with('hours = "08:00-25:00"'), "config.impossible_time"),
    ("hours ending before they start", hours_with('hours = "15:00-08:00"'), "config.ends_before_start"),
    ("overlapping hours", hours_with('hours = "08:00-12:00, 11:00-15:00"'), "config.ranges_overlap"),
    ("a day's hours as a number", swap('fri = "08:00-11:00, 13:00-15:00"', "fri = 8"), "config.day_hours_type"),
    ("hours on a closed day", hours_with('hours = "08:00-15:00"\nsat = "08:00-12:00"'), "config.day_not_open"),
    ("access not a table", "access = 5\n" + swap(ACCESS, ""), "config.not_a_table"),
    ("closures not entries", "closures = 5\n" + SMALL_SITE, "config.not_entries"),
    ("rules overflow unknown", rules_with('overflow = "maybe"'), "config.one_of"),
    ("booking place unknown", rules_with('booking_place = "anywhere"'), "config.one_of"),
    ("service overflow unknown", service_a_with('overflow = "sometimes"'), "config.one_of"),
    ("two sessions in one entry", service_a_with('quota_online = 5\nsessions = ["08:00-10:00, 10:00-12:00"]'),
     "config.one_session"),
    ("a session that is not a range", service_a_with('quota_online = 5\nsessions = ["pagi"]'), "config.not_a_range"),
    ("sessions without online places", service_a_with('sessions = ["08:00-10:00"]'), "config.sessions_need_quota"),
    ("more online places than the quota", swap("quota = 3\n", "quota = 3\nquota_online = 5\n"),
     "config.online_over_quota"),
    ("not TOML", swap('name = "MPP Uji"', 'name = "MPP Uji'), "config.bad_toml"),
    ("no [site] and no agency", "[rules]\nnumber_digits = 4\n", "config.site_missing"),
    ("no agency at all", "[rules]\nnumber_digits = 4\n", "config.no_agency"),
    ("agency kind unknown", swap('kind = "OPD"', 'kind = "dinas"'), "config.bad_kind"),
    ("agency kind misspelt", swap('kind = "OPD"', 'kind = "OPDD"'), "config.bad_kind_close"),
    ("agency id with capitals", swap('id = "bank"', 'id = "Bank Jateng"'), "config._help_agency_id"),
    ("agency twice", SMALL_SITE + '\n[[agencies]]\nid = "bank"\nname = "Bank Lain"\nkind = "bank"\n',
     "config.agency_twice"),
    ("service of an unknown agency", swap('agency = "bank"\n\n[[counters]]', 'agency = "pajak"\n\n[[counters]]'),
     "config.unknown_agency"),
    ("service code in lowercase", swap('code = "K"', 'code = "Kr"'), "config._help_service_code"),
    ("service code twice", swap('code = "B"', 'code = "A"'), "config.service_twice"),
    ("a service no counter serves", SMALL_SITE + '\n[[services]]\ncode = "T"\nname = "Tabungan"\nagency = "bank"\n',
     "config.not_served"),
    ("counter of an unknown service", counter_1_with('services = ["A", "Z"]'), "config.unknown_service"),
    ("counter lists a service twice", counter_1_with('services = ["A", "A", "B"]'), "config.service_listed_twice"),
    ("counter with no service", counter_1_with("services = []"), "config.no_services"),
    ("counter id with a space", swap('id = "5"', 'id = "loket 5"'), "config._help_counter_id"),
    ("counter twice", swap('id = "5"', 'id = "1"'), "config.counter_twice"),
    ("TLS certificate without its key", swap("allow_anonymous = true", 'allow_anonymous = true\ntls_cert = "a.pem"'),
     "config.tls_pair"),
    ("unknown section", SMALL_SITE + "\n[cashiers]\nx = 1\n", "config.unknown_section"),
    ("closure date unreadable", closure('date = "31-12-2026"', 'reason = "Libur"'), "config.bad_date"),
    ("closure with date and range", closure("date = 2026-12-31", "from = 2026-12-30", 'reason = "Libur"'),
     "config.date_and_range"),
    ("closure without a date", closure('reason = "Libur"'), "config.no_date"),
    ("closure range without its end", closure("from = 2026-12-30", 'reason = "Libur"'), "config.range_half"),
    ("closure range backwards", closure("from = 2026-12-30", "to = 2026-12-01", 'reason = "Libur"'),
     "config.range_backwards"),
    ("closure range of years", closure("from = 2026-12-30", "to = 2028-12-01", 'reason = "Libur"'),
     "config.range_too_long"),
    ("closure of an unknown agency", closure("date = 2026-12-31", 'reason = "Libur"', 'agencies = ["pajak"]'),
     "config.unknown_agency"),
    ("officer with a plain PIN", officer('id = "budi"', 'name = "Budi"', 'pin = "123456"', f'pin_hash = "{PIN_HASH}"'),
     "config.plain_pin"),
    ("officer with a made-up hash", officer('id = "budi"', 'name = "Budi"', 'pin_hash = "abc"'),
     "config.bad_pin_hash"),
    ("officer id with a space", officer('id = "budi s"', 'name = "Budi"', f'pin_hash = "{PIN_HASH}"'),
     "config._help_officer_id"),
    ("officer at an unknown counter", officer('id = "budi"', 'name = "Budi"', f'pin_hash = "{PIN_HASH}"',
                                              'counters = ["9"]'), "config.unknown_counter"),
    ("officer of an unknown agency", officer('id = "budi"', 'name = "Budi"', f'pin_hash = "{PIN_HASH}"',
                                             'agency = "pajak"'), "config.unknown_agency"),
    ("officer twice", SMALL_SITE + OFFICER + OFFICER, "config.officer_twice"),
]
# said outside parse_config's snippets: the whole report's heading, "baris N", and the fallback for a
# ValueError that is not a ScheduleError (none is raised today)
NOT_PROBLEMS = {"config._problems", "config._line", "config.detail"}


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "broken.toml")
    return caught.value.problems


def keys_of(said: Phrase) -> set[str]:
    """The key of a phrase and of the phrases among its parameters."""
    return {said.key} | {k for _, v in said.params if isinstance(v, Phrase) for k in keys_of(v)}


def file_problems(tmp_path) -> list[Problem]:
    """The two problems of a file that cannot be read at all."""
    bad = tmp_path / "latin1.toml"
    bad.write_bytes('[site]\nname = "MPP Kab. Bantaeng \xe9"\n'.encode("latin-1"))
    found = []
    for path in (tmp_path / "nope.toml", bad):
        with pytest.raises(ConfigError) as caught:
            load_config(path)
        found += caught.value.problems
    return found


def assert_said_in_both(p: Problem) -> None:
    assert p.phrase is not None, f"{p} has no text key: it could only be said in English"
    indonesian, english = p.text("id"), p.text("en")
    assert english == p.message, (english, p.message)
    assert indonesian != english, f"{p.phrase.key}: the Indonesian is the English: {indonesian!r}"
    for said in (indonesian, english, p.describe("id"), p.describe("en")):
        assert "{" not in said and "}" not in said, f"{p.phrase.key}: a parameter left unfilled: {said!r}"
    assert str(p) == p.describe("en")
    if p.line:
        assert p.describe("id").startswith(f"baris {p.line}: {p.location}: ")


def test_there_are_enough_distinct_broken_snippets():
    assert len(SNIPPETS) >= 30
    assert len({text for _, text, _ in SNIPPETS}) >= 30, "distinct texts, not the same mistake twice"
    assert len({name for name, _, _ in SNIPPETS}) == len(SNIPPETS)


@pytest.mark.parametrize(("name", "text", "key"), SNIPPETS, ids=[name for name, _, _ in SNIPPETS])
def test_each_problem_is_said_in_indonesian_and_english(name, text, key):
    problems = problems_of(text)
    assert any(key in keys_of(p.phrase) for p in problems if p.phrase), \
        f"{name}: no problem says {key}; got:\n" + "\n".join(map(str, problems))
    for p in problems:
        assert_said_in_both(p)


def test_a_file_that_cannot_be_read_is_said_in_both(tmp_path):
    found = file_problems(tmp_path)
    assert [p.phrase.key for p in found if p.phrase] == ["config.unreadable", "config.not_utf8"]
    for p in found:
        assert_said_in_both(p)


def test_every_sentence_of_the_checker_has_a_snippet(tmp_path):
    """Every config.* text of the table is reached by a snippet above: a sentence added to the checker
    without one fails here, and one never said any more is found out."""
    reached: set[str] = set()
    for _, text, _ in SNIPPETS:
        for p in problems_of(text):
            reached |= keys_of(p.phrase) if p.phrase else set()
    for p in file_problems(tmp_path):
        reached |= keys_of(p.phrase) if p.phrase else set()
    table = {key for key in TEXTS if key.startswith("config.")} - NOT_PROBLEMS
    assert table - reached == set(), "sentences no snippet reaches"
    assert reached - table == set(), "keys the checker uses that the table lacks"


def test_the_report_is_indonesian_first_then_english():
    with pytest.raises(ConfigError) as caught:
        parse_config(swap('"Asia/Jakarta"', '"Mars/Olympus"'), "site.toml")
    lines = caught.value.both().splitlines()
    assert lines[0] == "site.toml: 1 masalah dalam konfigurasi situs:"
    assert lines[1] == "site.toml: 1 problem(s) in the site configuration:"
    assert "bukan zona waktu yang dikenal" in lines[2] and lines[2].lstrip().startswith("- baris 5: site.timezone")
    assert "is not a known time zone" in lines[3] and lines[3].strip().startswith("line 5: site.timezone")
    assert caught.value.both("en").splitlines()[2].lstrip().startswith("- line 5")
    assert "masalah" not in str(caught.value), "str() stays the English, for logs"
