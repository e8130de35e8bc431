"""Reports read from a real SQLite log written by the engine, checked against hand-counted figures."""

from __future__ import annotations

import json
from datetime import date

from broker.core.commands import CounterCommand, CounterRequest, IssueTicket
from broker.reports.build import EventLog, Period, ikm, noshows, staffing, times, visitors
from broker.server.engine_service import load_engine
from broker.server.store import EventStore
from broker.site.config import parse_config
from conftest import OUTPUT, SMALL_SITE, antrian_cli
from integration.test_survey import SECRET, tablet
from unit.test_engine import MONDAY, TUESDAY, wib


def build_log(config, folder):
    """Monday: A x3, B x1, K x1; counter 1 serves A001 (wait 10 min, 5 min service), A002 (no-show),
    transfers A003 to B; counter 5 serves K001. Tuesday: A x1, unserved. One tablet survey."""
    store = EventStore(folder, config.site.id)
    engine = load_engine(config, store, wib(MONDAY, 8), survey_secret=SECRET)

    def run(command, at):
        outcome = engine.handle(command, at)
        store.append([outcome])
        return outcome.reply

    def counter(cid, action, at, **kw):
        return run(CounterRequest(counter=cid, action=action, request_id=f"{cid}{action}{at}",
                                  source=f"counter/{cid}", **kw), at)

    t = wib(MONDAY, 9)
    for i, code in enumerate("AAABK"):
        run(IssueTicket(service=code, request_id=f"m{i}", source="kiosk/k1"), t + i)
    counter("1", CounterCommand.NEXT, t + 600)       # A001 waited 600 s
    counter("1", CounterCommand.FINISH, t + 900)     # served 300 s
    counter("1", CounterCommand.NEXT, t + 1000)      # A002
    counter("1", CounterCommand.NO_SHOW, t + 1100)
    counter("1", CounterCommand.NEXT, t + 1200)      # A003
    counter("1", CounterCommand.TRANSFER, t + 1250, to_service="B")
    counter("5", CounterCommand.NEXT, t + 60)        # K001 waited 56 s
    counter("5", CounterCommand.FINISH, t + 180)
    assert run(tablet("20260302-A001", "s1", answers=[4, 3, 3, 4, 3, 3, 4, 3, 4]), t + 1300)["ok"]
    run(IssueTicket(service="A", request_id="tue", source="kiosk/k1"), wib(TUESDAY, 9))
    store.close()


def test_reports_against_hand_counts(small_config, tmp_path):
    build_log(small_config, tmp_path)
    log = EventLog(tmp_path, small_config)
    period = Period(date(2026, 3, 2), date(2026, 3, 3))
    by_agency = visitors([log], period, "agency")
    assert by_agency.summary["total"] == 6
    assert {r[0]: r[-1] for r in by_agency.rows} == {"Dindukcapil": 5, "Bank Jateng": 1, "Jumlah": 6}
    assert {r[0]: r[1] for r in visitors([log], period, "day").rows} == {date(2026, 3, 2): 5, date(2026, 3, 3): 1,
                                                                          "Jumlah": 6}
    assert {r[0]: r[1] for r in visitors([log], period, "kind").rows}["OPD"] == 5
    monday = visitors([log], Period(date(2026, 3, 2), date(2026, 3, 2)), "service")
    assert {r[0]: r[1] for r in monday.rows} == {"A KTP Elektronik": 3, "B Kartu Keluarga": 1, "K Kredit": 1,
                                                  "Jumlah": 5}

    timed = times([log], period)
    timing = {r[0]: r for r in timed.rows + timed.tables[0].rows}
    a = timing["A KTP Elektronik"]
    assert a[1] == 3 and a[5] == 1 and a[6] == 5.0  # three first calls, one finished in 5 minutes
    assert timing["Loket 5"][2] == round((60 - 4) / 60, 1)

    shows = {r[0]: r for r in noshows([log], period).rows}
    assert shows["A KTP Elektronik"][1:7] == [4, 1, 1, 0, 1, 0] and shows["B Kartu Keluarga"][6] == 1

    staff = {r[0]: r for r in staffing([log], period).rows}
    assert staff["5"][2] == 2 and staff["5"][7] == 2  # nobody signed in on either day
    assert staff["4K-10"][2] == 1 and staff["4K-10"][7] == 1  # imigrasi opens Tuesday only: empty
    assert staff["5"][4] == 6.0  # opened by the 09.00 call, never closed: until 15.00, not all night

    index = ikm([log], period, "service")
    assert index.summary["ikm"] == 86.11 and index.summary["grade"] == "B"  # 31 points / 9 x 25
    assert index.summary["population"] == 2 and index.summary["minimum_sample"] == 2
    log.close()


def test_report_command_formats_and_site_comparison(tmp_path, small_config):
    build_log(small_config, tmp_path / "a")
    other = tmp_path / "b"
    build_log(small_config, other)
    config = tmp_path / "site.toml"
    config.write_text(SMALL_SITE, encoding="utf-8")
    common = ["--config", str(config), "--from", "2026-03-01", "--to", "2026-03-31"]
    out = antrian_cli("report", "visitors", "--data", str(tmp_path / "a"), *common, "--format", "json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["total"] == 6
    OUTPUT.mkdir(exist_ok=True)
    for kind in ("visitors", "times", "noshows", "staffing", "ikm"):
        path = OUTPUT / f"report-{kind}.html"
        done = antrian_cli("report", kind, "--data", str(tmp_path / "a"), *common, "--format", "html",
                           "--out", str(path))
        assert done.returncode == 0, done.stderr
        page = path.read_text(encoding="utf-8")
        assert "<table" in page and "<script" not in page and ("<svg" in page or kind == "noshows")
    sites = antrian_cli("report", "visitors", "--by", "site", "--data", str(tmp_path / "a"), "--data",
                        str(other), *common, "--format", "csv")
    assert sites.returncode == 0 and sites.stdout.count(",6,") == 2
    missing = antrian_cli("report", "visitors", "--data", str(tmp_path / "none"), *common)
    assert missing.returncode == 1 and "no Antrian log" in missing.stderr and "Traceback" not in missing.stderr


def test_a_report_without_dates_is_about_today_in_the_sites_time_zone():
    from datetime import UTC, datetime

    from broker.cli.report import report_period

    just_after_midnight_in_rembang = datetime(2026, 3, 2, 17, 30, tzinfo=UTC)  # 00.30 WIB on 3 March
    assert report_period(None, None, "Asia/Jakarta", just_after_midnight_in_rembang) == (date(2026, 3, 3),) * 2
    assert report_period(None, None, "UTC", just_after_midnight_in_rembang) == (date(2026, 3, 2),) * 2
    assert report_period(None, None, "Asia/Jayapura", datetime(2026, 3, 2, 14, 59, tzinfo=UTC)) == \
        (date(2026, 3, 2),) * 2  # 23.59 WIT
    assert report_period(date(2026, 3, 1), None, "Asia/Jakarta", just_after_midnight_in_rembang) == \
        (date(2026, 3, 1), date(2026, 3, 3))
    assert report_period(None, date(2026, 2, 1), "Asia/Jakarta", just_after_midnight_in_rembang) == \
        (date(2026, 2, 1),) * 2


def test_report_command_defaults_to_today(small_config, small_config_file, tmp_path):
    import time
    from datetime import datetime
    from zoneinfo import ZoneInfo

    store = EventStore(tmp_path, small_config.site.id)
    engine = load_engine(small_config, store, time.time(), ignore_hours=True)
    store.append([engine.handle(IssueTicket(service="A", request_id="now", source="kiosk/k1"), time.time())])
    store.close()
    out = antrian_cli("report", "visitors", "--data", str(tmp_path), "--config", str(small_config_file),
                      "--format", "json", env={"TZ": "UTC"})
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    today = datetime.now(ZoneInfo("Asia/Jakarta")).date()
    assert body["total"] == 1 and f"Periode {today.day} " in body["subtitle"]
    backwards = antrian_cli("report", "visitors", "--data", str(tmp_path), "--config", str(small_config_file),
                            "--from", "2026-03-05", "--to", "2026-03-01")
    assert backwards.returncode == 2 and "--to is before --from" in backwards.stderr


def test_html_report_comes_from_template_files_and_escapes_what_it_shows():
    from broker.reports.render import Chart, Report, render

    hostile = '<script>alert("x")</script>'
    report = Report(f"Layanan {hostile}", ["Nama", "Jumlah"], [[hostile, 3], ["B & C", 1.5]], subtitle=hostile,
                    notes=[hostile], charts=[Chart(hostile, [hostile, "b"], {hostile: [1, 2], "lain": [0, 1]})])
    page = render(report, "html")
    assert "<script" not in page and page.count("&lt;script&gt;") >= 6
    assert '<td class="n">3</td>' in page and '<td class="n">1,50</td>' in page and "<td>B &amp; C</td>" in page
    assert page.count("<rect") == 4 + 2  # four bars and two legend keys


def three_weeks(config, folder):
    """Mon 2 March: A, A, K; Tue 10: A, P; Wed 11: K, K (Dindukcapil 3, Bank Jateng 3, Imigrasi 1)."""
    store = EventStore(folder, config.site.id)
    engine = load_engine(config, store, wib(MONDAY, 8))
    for day, codes in ((2, "AAK"), (10, "AP"), (11, "KK")):
        for i, code in enumerate(codes):
            outcome = engine.handle(IssueTicket(service=code, request_id=f"{day}{i}", source="kiosk/k1"),
                                    wib(day, 9, i))
            assert outcome.reply["ok"], outcome.reply
            store.append([outcome])
    store.close()


def test_visitors_per_agency_per_week_as_a_table_with_totals_both_ways(small_config, tmp_path):
    three_weeks(small_config, tmp_path)
    log = EventLog(tmp_path, small_config)
    march = Period(date(2026, 3, 1), date(2026, 3, 31))
    monday = visitors([log], march, "agency,week")
    assert monday.columns == ["Instansi \\ minggu", "2 Maret 2026", "9 Maret 2026", "Jumlah"]
    assert monday.rows == [["Bank Jateng", 1, 2, 3], ["Dindukcapil", 2, 1, 3], ["Kantor Imigrasi", 0, 1, 1],
                           ["Jumlah", 3, 4, 7]]
    assert monday.charts[0].labels == ["2 Mar", "9 Mar"] and monday.charts[0].series == {"Pengunjung": [3.0, 4.0]}
    counted = visitors([log], Period(date(2026, 3, 1), date(2026, 3, 31), week_start=date(2026, 2, 25)),
                       "agency,week")
    assert counted.columns[1:] == ["Minggu ke-1", "Minggu ke-2", "Minggu ke-3", "Jumlah"]
    assert counted.rows[-1] == ["Jumlah", 3, 2, 2, 7] and counted.rows[1] == ["Dindukcapil", 2, 1, 0, 3]
    assert "Minggu ke-1 dimulai 25 Februari 2026" in counted.notes[0]
    by_kind = visitors([log], march, "kind,month")
    assert by_kind.rows == [["OPD", 3, 3], ["bank", 3, 3], ["instansi vertikal", 1, 1], ["Jumlah", 7, 7]]
    assert [c.labels for c in by_kind.charts] == [["Mar 2026"], ["OPD", "bank", "instansi vertikal"]]
    weeks_down = visitors([log], march, "week,agency")
    assert [r[0] for r in weeks_down.rows] == [date(2026, 3, 2), date(2026, 3, 9), "Jumlah"]
    assert weeks_down.charts[0].labels == ["2 Mar", "9 Mar"] and not weeks_down.charts[0].horizontal
    assert visitors([log], march, "kind").charts[0].labels == ["OPD", "bank", "instansi vertikal"]
    log.close()


def test_the_week_table_in_every_format(small_config, tmp_path):
    three_weeks(small_config, tmp_path / "a")
    config = tmp_path / "site.toml"
    config.write_text(SMALL_SITE, encoding="utf-8")
    common = ["report", "visitors", "--by", "agency,week", "--data", str(tmp_path / "a"), "--config", str(config),
              "--from", "2026-03-01", "--to", "2026-03-31", "--week-start", "2026-02-25"]
    csv_text = antrian_cli(*common, "--format", "csv").stdout
    assert csv_text.splitlines()[:2] == ["Instansi \\ minggu,Minggu ke-1,Minggu ke-2,Minggu ke-3,Jumlah",
                                         "Bank Jateng,1,0,2,3"]
    body = json.loads(antrian_cli(*common, "--format", "json").stdout)
    assert body["table"]["cells"] == [[1, 0, 2], [2, 1, 0], [0, 1, 0]] and body["table"]["down_totals"] == [3, 3, 1]
    assert body["table"]["across_totals"] == [3, 2, 2] and body["total"] == 7
    text = antrian_cli(*common).stdout
    assert "Minggu ke-3" in text and "Jumlah" in text
    html = antrian_cli(*common, "--format", "html").stdout
    assert html.count("<tr") == 5 and "<th>Minggu ke-2</th>" in html and 'class="total"' in html
    wrong = antrian_cli("report", "visitors", "--by", "agency,hour", "--data", str(tmp_path / "a"), "--config",
                        str(config), "--from", "2026-03-01", "--to", "2026-03-31")
    assert wrong.returncode == 1 and "agency,week" in wrong.stderr and "Traceback" not in wrong.stderr
    late = antrian_cli(*common[:-1], "2026-03-02")
    assert late.returncode == 1 and "minggu ke-1" in late.stderr and "week 1" in late.stderr


def test_pdf_report_is_one_a4_document_with_the_figures_period_and_page_numbers(small_config, tmp_path):
    import re
    import shutil
    import subprocess
    import sys

    three_weeks(small_config, tmp_path / "a")
    config = tmp_path / "site.toml"
    config.write_text(SMALL_SITE, encoding="utf-8")
    pdf = OUTPUT / "report-week.pdf"
    done = antrian_cli("report", "visitors", "--by", "agency,week", "--data", str(tmp_path / "a"), "--config",
                       str(config), "--from", "2026-03-01", "--to", "2026-03-31", "--format", "pdf", "--out",
                       str(pdf), "--sign-name", "Drs. Contoh Nama", "--sign-nip", "197001012000031001",
                       "--sign-title", "Kepala DPMPTSP")
    assert done.returncode == 0, done.stderr
    assert pdf.read_bytes().startswith(b"%PDF-")
    info = subprocess.run([shutil.which("pdfinfo") or "pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert "pts (A4)" in info and re.search(r"Pages:\s+1\n", info)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "MPP Uji" in text and "Periode 1 Maret 2026 - 31 Maret 2026" in text
    assert "Halaman 1 dari" in text and "NIP 197001012000031001" in text
    rows = {line.split()[0]: line.split()[-4:] for line in text.splitlines()
            if line.strip().startswith(("Bank", "Jumlah"))}
    assert rows["Bank"][-3:] == ["1", "2", "3"] and rows["Jumlah"][-3:] == ["3", "4", "7"]
    to_pipe = subprocess.run([sys.executable, "-m", "broker.cli", "report", "visitors", "--data", str(tmp_path / "a"),
                              "--config", str(config), "--from", "2026-03-01", "--to", "2026-03-31", "--format",
                              "pdf"], capture_output=True, timeout=60)
    assert to_pipe.returncode == 0 and to_pipe.stdout.startswith(b"%PDF-")  # a pipe takes the bytes; a terminal not


def test_every_kind_compares_several_sites_side_by_side(small_config, tmp_path):
    other_toml = SMALL_SITE.replace('id = "testsite"', 'id = "lain"').replace('name = "MPP Uji"', 'name = "MPP Lain"')
    (tmp_path / "uji.toml").write_text(SMALL_SITE, encoding="utf-8")
    (tmp_path / "lain.toml").write_text(other_toml, encoding="utf-8")
    build_log(small_config, tmp_path / "uji")  # 6 tickets, one survey
    three_weeks(parse_config(other_toml, "lain.toml"), tmp_path / "lain")  # 7 tickets, none served
    both = ["--data", str(tmp_path / "uji"), "--config", str(tmp_path / "uji.toml"), "--data", str(tmp_path / "lain"),
            "--config", str(tmp_path / "lain.toml"), "--from", "2026-03-01", "--to", "2026-03-31", "--format", "json"]

    def run(kind, *more):
        done = antrian_cli("report", kind, *both, *more)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    sites = run("visitors", "--by", "site")
    assert [(r["MPP"], r["Pengunjung"]) for r in sites["rows"]] == [("MPP Lain", 7), ("MPP Uji", 6), ("Jumlah", 13)]
    per_agency = run("visitors", "--by", "agency")
    assert per_agency["by"] == "agency,site" and per_agency["table"]["across"] == ["MPP Lain", "MPP Uji"]
    assert per_agency["rows"][0] == {"Instansi \\ mpp": "Dindukcapil", "MPP Lain": 3, "MPP Uji": 5, "Jumlah": 8}
    index = run("ikm")
    assert [(s["site"], s["ikm"], s["grade"], s["respondents"]) for s in index["per_site"]] == \
        [("MPP Uji", 86.11, "B", 1), ("MPP Lain", None, "", 0)]
    assert index["respondents"] == 1
    staff = run("staffing")
    assert [r["MPP"] for r in staff["rows"]] == ["MPP Uji", "MPP Lain"] and staff["rows"][0]["Loket"] == 4
    waits = run("times")
    assert [(r["MPP"], r["Dipanggil"]) for r in waits["rows"]] == [("MPP Uji", 4), ("MPP Lain", 0)]
    shows = run("noshows")
    assert [(r["MPP"], r["Tidak hadir"]) for r in shows["rows"]] == [("MPP Uji", 1), ("MPP Lain", 0), ("Jumlah", 1)]
    people = run("officers")
    assert {r["MPP"] for r in people["rows"]} == {"MPP Uji"}  # nobody served anything at MPP Lain
    summed = antrian_cli("report", "visitors", *both, "--by", "agency,week")
    assert summed.returncode == 1 and "agency,site" in summed.stderr

    twice = antrian_cli("report", "visitors", "--data", str(tmp_path / "uji"), "--data", str(tmp_path / "uji") + "/",
                        "--config", str(tmp_path / "uji.toml"))
    assert twice.returncode == 1 and "dua kali" in twice.stderr and "twice" in twice.stderr
    crossed = antrian_cli("report", "visitors", "--data", str(tmp_path / "uji"), "--config", str(tmp_path / "lain.toml"),
                          "--data", str(tmp_path / "lain"), "--config", str(tmp_path / "uji.toml"))
    assert crossed.returncode == 1 and "'testsite'" in crossed.stderr and "'lain'" in crossed.stderr
    assert "Traceback" not in twice.stderr + crossed.stderr
