"""Reports in English (`--lang en`): every kind built from one small log the engine wrote, with no
Indonesian word left in what a reader sees, and numbers and dates in English style.

The log (Monday 2 and Tuesday 3 March 2026): officer Siti signs in at counter 1 and serves three
A tickets (one a no-show, one transferred to B), a tablet survey answers one, 1,234 A tickets wait
unserved, and a fourth passport on Tuesday is refused (quota 3), so every report kind has rows,
a thousands figure, decimals, a satisfaction index and a refusal to print.
"""

from __future__ import annotations

import json
import re
import string
from datetime import date

import pytest

from broker.core.commands import CounterCommand, CounterRequest, IssueTicket, SurveyAnswer
from broker.core.texts import TEXTS
from broker.protocol.sign_in import sign_in_body
from broker.reports import fmt
from broker.reports.build import BUILDERS, EventLog, Period
from broker.reports.fmt import Fixed
from broker.reports.render import Chart, Report, chart_view, render
from broker.server.engine_service import load_engine
from broker.server.store import EventStore
from broker.site.config import parse_config
from unit.test_counter_officers import PINS, officers_toml
from unit.test_engine import MONDAY, TUESDAY, wib

SECRET = b"k" * 32  # the survey's token key, as in tests/integration/test_survey.py

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))
WEEKS = Period(date(2026, 3, 1), date(2026, 3, 31), week_start=date(2026, 2, 25))
# Words of the Indonesian reports that must not be left in an English one (the site's own names, such as
# "Kantor Imigrasi" or "KTP Elektronik", are the site's and stay as they are)
INDONESIAN = ("Pengunjung", "Layanan", "Instansi", "Minggu", "Tanggal", "Loket", "Tidak hadir", "Selama", "Jumlah",
              "Periode", "Halaman", "menit", "Semua", "Seluruh", "Responden", "Mutu", "Kinerja", "petugas", "Maret",
              "Dilayani", "Kelompok", "dari", "gerai", "Permintaan", "berturut", "Perbandingan", "Kepuasan", "jam",
              "hari", "lainnya", "Dipanggil", "Selesai", "Diterbitkan", "Sampai", "Nama", "Tanda", "Kuota", "nomor",
              "Persyaratan", "Baik", "ke-")
CASES = [("visitors", {"by": by}, period) for by in ("agency", "kind", "service", "day", "week", "month",
                                                    "agency,week", "week,agency", "kind,month")
         for period in (MARCH, WEEKS)]
CASES += [(kind, {}, MARCH) for kind in BUILDERS if kind != "visitors"]
CASES += [("ikm", {"by": by}, MARCH) for by in ("agency", "counter")]


def english_log(folder) -> None:
    """The log of this file's docstring, written by the engine into `folder` (config: officers_toml())."""
    config = parse_config(officers_toml(), "officers.toml")
    store = EventStore(folder, config.site.id)
    engine = load_engine(config, store, wib(MONDAY, 7), survey_secret=SECRET)

    def run(command, at):
        outcome = engine.handle(command, at)
        store.append([outcome])
        return outcome.reply

    def counter(cid, action, at, **kw):
        reply = run(CounterRequest(counter=cid, action=action, request_id=f"{cid}{action}{at}",
                                   source=f"counter/{cid}", **kw), at)
        assert reply["ok"], reply
        return reply

    challenge = counter("1", CounterCommand.SIGN_IN_CHALLENGE, wib(MONDAY, 7, 30), officer="siti")["challenge"]
    body = sign_in_body(PINS["siti"], challenge, config.site.id, "1")
    counter("1", CounterCommand.SIGN_IN, wib(MONDAY, 7, 30), officer="siti", nonce=body["nonce"],
            proof=body["proof"])
    counter("1", CounterCommand.OPEN, wib(MONDAY, 7, 30))
    t = wib(MONDAY, 9)
    for i in range(3):
        assert run(IssueTicket(service="A", request_id=f"a{i}", source="kiosk/k1"), t + i)["ok"]
    counter("1", CounterCommand.NEXT, t + 600)
    counter("1", CounterCommand.FINISH, t + 810)  # served 3.5 minutes
    counter("1", CounterCommand.NEXT, t + 900)
    counter("1", CounterCommand.NO_SHOW, t + 1000)
    counter("1", CounterCommand.NEXT, t + 1100)
    counter("1", CounterCommand.TRANSFER, t + 1150, to_service="B")
    assert run(SurveyAnswer(ticket="20260302-A001", channel="tablet", counter="1", answers=(4, 3, 3, 4, 3, 3, 4, 3, 4),
                            request_id="s1", source="survey/1"), t + 1200)["ok"]
    for i in range(1234):
        assert run(IssueTicket(service="A", request_id=f"w{i}", source="kiosk/k1"), t + 1300 + i)["ok"]
    for i in range(4):
        run(IssueTicket(service="P", request_id=f"p{i}", source="kiosk/k1"), wib(TUESDAY, 9, i))
    store.close()


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    folder = tmp_path_factory.mktemp("english")
    english_log(folder)
    opened = EventLog(folder, parse_config(officers_toml(), "officers.toml"))
    yield opened
    opened.close()


def _words(report: Report) -> list[str]:
    """Everything a reader sees that the report wrote: titles, headers, sentence, notes, charts, row labels."""
    seen = [report.title, report.subtitle, report.sentence, report.site, *report.notes]
    for table in report.all_tables():
        seen += [table.title, *table.columns]
        seen += [str(v) for row in table.rows for v in row if isinstance(v, str)]
    for chart in report.charts:
        seen += [chart.title, chart.axis, chart.unit, *chart.series, *chart.labels]
    return seen


def _indonesian(texts: list[str]) -> list[str]:
    return sorted({word for text in texts for word in INDONESIAN if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text)})


@pytest.mark.parametrize(("kind", "kwargs", "period"), CASES)
def test_every_kind_in_english_leaves_no_indonesian_word(log, kind, kwargs, period):
    english = BUILDERS[kind]([log], period, language="en", **kwargs)
    assert english.language == "en"
    assert _indonesian(_words(english)) == []
    page = render(english, "html")
    assert '<html lang="en">' in page and '"Page " counter(page) " of "' in page
    shown = re.sub(r"<style>.*?</style>|<[^>]+>", " ", page, flags=re.S)
    assert _indonesian([shown]) == []
    assert _indonesian([render(english, "table"), render(english, "csv")]) == []
    indonesian = BUILDERS[kind]([log], period, **kwargs)  # the same report in Bahasa Indonesia does say them
    assert _indonesian(_words(indonesian)) and indonesian.language == "id"


def test_json_keeps_its_machine_keys_and_csv_headers_follow_the_language(log):
    english = BUILDERS["visitors"]([log], WEEKS, by="agency,week", language="en")
    indonesian = BUILDERS["visitors"]([log], WEEKS, by="agency,week")
    body_en, body_id = json.loads(render(english, "json")), json.loads(render(indonesian, "json"))
    assert set(body_en) == set(body_id) and set(body_en["table"]) == set(body_id["table"])
    assert body_en["total"] == body_id["total"] == 1240 and body_en["table"]["cells"] == body_id["table"]["cells"]
    assert body_en["kind"] == "visitors" and body_en["by"] == "agency,week" and body_en["from"] == "2026-03-01"
    assert body_en["table"]["across"] == ["Week 1"] and body_id["table"]["across"][0] == "Minggu ke-1"
    assert render(english, "csv").splitlines()[0] == "Agency \\ week,Week 1,Total"
    assert render(indonesian, "csv").splitlines()[0] == "Instansi \\ minggu,Minggu ke-1,Jumlah"


def test_numbers_and_dates_read_in_english_style(log):
    assert fmt.number(55644, language="en") == "55,644" and fmt.number(Fixed(3.448, 1), language="en") == "3.4"
    assert fmt.number(Fixed(12345.678, 2), language="en") == "12,345.68" and fmt.number(True, language="en") == "yes"
    assert fmt.day(date(2023, 5, 2), "en") == "2 May 2023" and fmt.short_day(date(2023, 5, 2), "en") == "2 May"
    assert fmt.period(date(2022, 11, 22), date(2023, 11, 20), "en") == "22 November 2022 - 20 November 2023"

    visitors = BUILDERS["visitors"]([log], MARCH, by="agency", language="en")
    assert visitors.subtitle == "Period 1 March 2026 - 31 March 2026"
    assert "received 1,240 visitors on 2 service days" in visitors.sentence
    text = render(visitors, "table")
    assert re.search(r"Total\s+1,240\b", text) and "1.240" not in text
    assert "1.240" in render(BUILDERS["visitors"]([log], MARCH, by="agency"), "table")  # Indonesian unchanged
    times = render(BUILDERS["times"]([log], MARCH, language="en"), "table")
    assert "3.5" in times and "3,5" not in times
    ikm = BUILDERS["ikm"]([log], MARCH, language="en")
    assert "IKM 86.11, grade B (Good), from 1 respondent." in ikm.sentence  # one respondent, not "respondents"
    assert ikm.charts[0].labels[0] == "U1 Requirements"
    staffing = render(BUILDERS["staffing"]([log], MARCH, language="en"), "table")
    assert "2 March 2026  31 March 2026" in staffing and "empty counter" in staffing  # an empty run, flagged
    view = chart_view(Chart("x", ["a", "b"], {"n": [142.0, 26890.0]}), language="en")
    assert [g[-1] for g in view["grid"]][-2:] == ["25,000", "30,000"]
    assert [b.tip for b in view["bars"]][-1] == "n b: 26,890"


def test_every_report_text_has_both_languages_with_the_same_fields():
    keys = [k for k in TEXTS if k.startswith("report.")]
    assert len(keys) > 100
    for key in keys:
        indonesian, english = TEXTS[key]
        assert indonesian and english, key
        fields = [{f for _, f, _, _ in string.Formatter().parse(text) if f} for text in (indonesian, english)]
        assert fields[0] == fields[1], key
