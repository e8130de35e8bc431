"""The booking page's pure parts (broker.web.booking): what each step offers, drawn from the engine's retained
state alone, and the QR of a booking."""

from __future__ import annotations

from datetime import date

from broker.protocol.state import BookingDay, BookingSession, BookingState, EngineState, Retained, public_config
from broker.site.config import parse_config
from broker.web.booking import check_in_words, days_of, qr_svg, sessions_of
from conftest import SMALL_SITE

# Passports (Imigrasi: Tuesday and Thursday): 6 a day, 4 booked ahead in two sessions of 2 places; a week's window;
# Thursday 5 March closed for maintenance
CONFIG = SMALL_SITE.replace(
    'quota = 3\npriority = false',
    'quota = 6\npriority = false\nquota_online = 4\nsessions = ["08:00-10:00", "10:00-12:00"]\n'
    'requirements = "KTP elektronik asli, Kartu Keluarga, paspor lama (bila ada)"\n'
    'referral = "Warga Kec. Sarang dan Kragan: Kantor Imigrasi Pati"',
).replace("[access]", "booking_days_ahead = 7\n\n[access]") + """
[[closures]]
date = 2026-03-05
reason = "Pemeliharaan sistem paspor"
reason_en = "Passport system maintenance"
agencies = ["imigrasi"]
"""
SITE = parse_config(CONFIG, "booking-site.toml")


def retained(*days: BookingDay) -> Retained:
    state = BookingState(code="P", bookable=True, days=days, next_open=next((d.day for d in days if d.left), None))
    return Retained(config=public_config(SITE), engine=EngineState(status="online", day="2026-03-03"),
                    bookings={"P": state})


def day(iso: str, *lefts: int, started: int = 0) -> BookingDay:
    sessions = tuple(BookingSession(s, f"{iso}T{s[:5]}", 2, 0 if i < started else left, i >= started)
                     for i, (s, left) in enumerate(zip(("08:00-10:00", "10:00-12:00"), lefts, strict=False)))
    return BookingDay(iso, sessions, sum(x.left for x in sessions))


def test_every_day_of_the_window_is_listed_with_its_places_or_why_not():
    state = retained(day("2026-03-03", 2, 0, started=1), day("2026-03-10", 2, 2))
    entry = state.config.service("P")
    days = days_of(state, SITE, entry, date(2026, 3, 3), "id")
    assert [(d.words, d.kind, d.left, d.why) for d in days] == [
        ("Selasa, 3 Maret 2026", "full", 0, "Penuh"),
        ("Rabu, 4 Maret 2026", "closed", 0, "Tidak buka hari Rabu"),
        ("Kamis, 5 Maret 2026", "closed", 0, "Pemeliharaan sistem paspor"),  # the config's closure, by name
        ("Jumat, 6 Maret 2026 – Senin, 9 Maret 2026", "closed", 0, "Tidak buka hari Jumat sampai Senin"),
        ("Selasa, 10 Maret 2026", "open", 4, ""),
    ]
    english = days_of(state, SITE, entry, date(2026, 3, 3), "en")
    assert english[2].why == "Passport system maintenance" and english[0].words == "Tuesday, 3 March 2026"


def test_a_day_whose_sessions_have_all_started_is_past_not_full():
    state = retained(day("2026-03-03", 2, 2, started=2))
    assert days_of(state, SITE, state.config.service("P"), date(2026, 3, 3), "id")[0].kind == "past"
    sessions = sessions_of(state, "P", "2026-03-03", "id")
    assert [(s.words, s.open) for s in sessions] == [("08.00-10.00", False), ("10.00-12.00", False)]


def test_the_check_in_window_is_said_as_times_on_the_booking_day_else_with_days():
    same = {"day": "2026-03-10", "check_in_from": "2026-03-10T07:30", "check_in_until": "2026-03-10T08:15"}
    assert check_in_words(same, "id") == "pukul 07.30 sampai 08.15"
    assert check_in_words(same, "en") == "from 07:30 to 08:15"
    early = same | {"check_in_from": "2026-03-09T23:45"}
    assert check_in_words(early, "id") == ("mulai Senin, 9 Maret 2026 pukul 23.45, "
                                           "paling lambat Selasa, 10 Maret 2026 pukul 08.15")


def test_the_qr_is_the_codes_own_modules_as_one_svg_path():
    import qrcode

    svg = str(qr_svg("K7XM4P", "Kode QR pemesanan K7XM4P"))
    code = qrcode.QRCode(border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data("K7XM4P")
    matrix = code.get_matrix()
    assert f'viewBox="0 0 {len(matrix)} {len(matrix)}"' in svg and 'aria-label="Kode QR pemesanan K7XM4P"' in svg
    assert svg.count("h1v1h-1z") == sum(map(sum, matrix)), "one square per dark module"
    assert "style" not in svg and "<script" not in svg  # nothing the page's CSP would block
