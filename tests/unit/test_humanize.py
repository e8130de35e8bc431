"""Dates, clocks and durations as the hall clock and the tickets write them."""

from __future__ import annotations

from datetime import datetime

from display.toolkit.humanize import clock, duration, long_date, short_datetime

MONDAY = datetime(2026, 11, 23, 8, 5, 9)


def test_long_date_in_indonesian_and_english():
    assert long_date(MONDAY) == "Senin, 23 November 2026"
    assert long_date(datetime(2026, 8, 16)) == "Minggu, 16 Agustus 2026"
    assert long_date(datetime(2027, 1, 1)) == "Jumat, 1 Januari 2027"
    assert long_date(MONDAY, "en") == "Monday, 23 November 2026"
    assert long_date(MONDAY, "xx") == "Senin, 23 November 2026", "an unknown language falls back to Indonesian"


def test_clock_uses_the_indonesian_dot():
    assert clock(MONDAY) == "08.05"
    assert clock(MONDAY, seconds=True) == "08.05.09"
    assert clock(datetime(2026, 1, 1, 23, 59, 59), seconds=True) == "23.59.59"
    assert short_datetime(MONDAY) == "23/11/2026 08.05"


def test_durations():
    assert duration(None) == "-"
    assert duration(10) == "kurang dari 1 menit"
    assert duration(-50) == "kurang dari 1 menit"
    assert duration(15 * 60) == "± 15 menit"
    assert duration(3600) == "± 1 jam"
    assert duration(80 * 60) == "± 1 jam 20 menit"
    assert duration(80 * 60, "en") == "± 1 h 20 min"
    assert duration(10, "en") == "less than 1 minute"
