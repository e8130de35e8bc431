"""How reports say numbers, dates and axis ticks: Indonesian style, one decimal where rounded to one."""

from __future__ import annotations

import json
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from broker.reports import fmt
from broker.reports.fmt import Fixed
from broker.reports.render import Chart, Paper, Report, chart_view, render


def test_numbers_and_dates_in_indonesian():
    assert fmt.number(55644) == "55.644" and fmt.number(1234567) == "1.234.567" and fmt.number(0) == "0"
    assert fmt.number(Fixed(3.448, 1)) == "3,4" and fmt.number(Fixed(12345.678, 2)) == "12.345,68"
    assert fmt.number(Fixed(25, 1)) == "25,0" and fmt.number(None) == "-"
    assert fmt.day(date(2022, 11, 22)) == "22 November 2022" and fmt.month(2023, 4) == "April 2023"
    assert fmt.period(date(2022, 11, 22), date(2023, 11, 20)) == "22 November 2022 - 20 November 2023"
    assert json.dumps({"share": Fixed(3.448, 1)}) == '{"share": 3.4}'


@given(st.floats(min_value=0.01, max_value=1e7, allow_nan=False))
def test_axis_ticks_are_round_and_cover_the_peak(peak):
    ticks = fmt.nice_ticks(peak)
    step = ticks[1] - ticks[0]
    mantissa = step / 10 ** __import__("math").floor(__import__("math").log10(step))
    assert round(mantissa, 6) in (1.0, 2.0, 5.0, 10.0)
    assert ticks[0] == 0 and ticks[-1] >= peak * (1 - 1e-9) and ticks[-2] < peak and len(ticks) <= 7


def test_axis_ticks_of_a_year_of_visitors():
    assert fmt.nice_ticks(568) == [0, 100, 200, 300, 400, 500, 600]
    assert fmt.nice_ticks(26890) == [0, 5000, 10000, 15000, 20000, 25000, 30000]
    view = chart_view(Chart("x", ["a", "b"], {"n": [142.0, 568.0]}))
    assert [g[-1] for g in view["grid"]] == ["0", "100", "200", "300", "400", "500", "600"]


def test_a_figure_rounded_to_one_decimal_prints_one_everywhere_people_read():
    report = Report("Tidak hadir", ["Layanan", "% tidak hadir"], [["A", Fixed(3.448, 1)]], site="MPP Uji",
                    sentence="Satu kalimat.")
    assert "3,4" in render(report, "table") and "3,40" not in render(report, "table")
    assert '<td class="n">3,4</td>' in render(report, "html")
    assert render(report, "csv").splitlines()[1] == "A,3.4" and json.loads(render(report, "json"))["rows"] == \
        [{"Layanan": "A", "% tidak hadir": 3.4}]


def test_the_page_carries_the_site_the_sentence_and_a_signature_only_when_asked():
    report = Report("Pengunjung", ["Instansi", "Pengunjung"], [["Dindukcapil", 26890]], site="MPP Rembang",
                    subtitle="Periode 22 November 2022 - 20 November 2023", sentence="Kalimat ringkasan.")
    plain = render(report, "html")
    assert "MPP Rembang" in plain and "Kalimat ringkasan." in plain and "26.890" in plain and "NIP" not in plain
    signed = render(report, "html", Paper(sign_name="Drs. Nama", sign_nip="197001012000031001",
                                          sign_title="Kepala DPMPTSP", place="Rembang",
                                          signed_on=date(2026, 12, 2)))
    assert "Rembang, 2 Desember 2026" in signed and "NIP 197001012000031001" in signed and "Drs. Nama" in signed


def test_counts_are_ticked_in_whole_numbers():
    assert fmt.nice_ticks(3, whole=True) == [0, 1, 2, 3] and fmt.nice_ticks(3) == [0, 0.5, 1, 1.5, 2, 2.5, 3]
    view = chart_view(Chart("x", ["a", "b"], {"n": [1.0, 3.0]}, horizontal=True))
    assert [g[-1] for g in view["grid"]] == ["0", "1", "2", "3"]
