"""Checking a booking in at the kiosk (issue 18): the pure flow, the screens, the ticket and the paper.

Keys arrive as a USB barcode scanner sends them: one character a key, then Enter.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from escpos.printer import Dummy

from broker.protocol.codec import BOOKING_CODE_ALPHABET
from broker.protocol.state import ServiceState, decode, public_config
from broker.protocol.texts import tr
from broker.site.config import parse_config
from conftest import SMALL_SITE
from display.toolkit import ui
from kiosk.printing.escpos import PAPERS, write_ticket
from kiosk.printing.escpos_reader import TextLine, read_escpos
from kiosk.shell import key_event
from kiosk.ticketing import flow
from kiosk.ticketing.catalog import build_catalog
from kiosk.ticketing.flow import IDLE_S, CheckIn, KioskState, Notice, PrintStatus, Screen, Tap
from kiosk.ticketing.screens import Frame, booking_offer, buttons, entry_shown, hit, render, text_lines
from kiosk.ticketing.screenshots import DEMO_TIME, SIZES
from kiosk.ticketing.ticket import TicketContent, ticket_from_reply

BOOKED_SITE = SMALL_SITE.replace('quota = 3\npriority = false', 'quota = 6\npriority = false\nquota_online = 4\n'
                                 'sessions = ["08:00-10:00", "10:00-12:00"]').replace(
    'name = "MPP Uji"', 'name = "MPP Uji"\npublic_url = "https://antrian.example.org/"')
CONFIG = public_config(parse_config(BOOKED_SITE))
WALK_IN_ONLY = build_catalog(public_config(parse_config(SMALL_SITE)), {})


def states(**payloads: dict) -> dict[str, ServiceState]:
    return {code: decode(ServiceState, {"code": code} | payload) for code, payload in payloads.items()}


CATALOG = build_catalog(CONFIG, states(A={"open": True}, B={"open": False}, P={"open": True, "quota_left": 0},
                                       K={"open": True}))
LINK = "https://antrian.example.org/booking/k7xm4p"


def scan(state: KioskState, text: str, now: float = 100.0, enter: bool = True):
    """What a scanner sends: each character as its own key, then Enter."""
    effects = []
    for char in text + ("\r" if enter else ""):
        state, more = flow.typed(state, char, now)
        effects += more
    return state, effects


def press(state: KioskState, frame_size=(1080, 1920), *taps: Tap, start: float = 100.0):
    """Touch the buttons that do `taps` on the drawn screen, one second apart."""
    effects = []
    for i, wanted in enumerate(taps):
        frame = Frame(state, CATALOG, frame_size, DEMO_TIME)
        [button] = [b for b in buttons(frame) if b.tap == wanted]
        x, y, w, h = button.rect
        assert hit(frame, (x + w / 2, y + h / 2)) == wanted
        state, more = flow.tap(state, wanted, CATALOG, start + i)
        effects += more
    return state, effects


def test_a_scanned_booking_link_on_the_first_screen_becomes_one_check_in():
    state, effects = scan(KioskState(id_prefix="k1"), LINK)
    assert state.screen == Screen.ISSUING
    assert effects == [CheckIn(flow.Request("k1-1", "", None, booking="K7XM4P"))]
    assert state.pending.booking == "K7XM4P" and state.entry == ""


def test_keys_show_the_check_in_screen_and_backspace_takes_one_off():
    state, effects = scan(KioskState(), "K7XM4Q", enter=False)
    assert (state.screen, state.entry, effects) == (Screen.CHECK_IN, "K7XM4Q", [])
    state, _ = flow.typed(state, "\b", 101)
    state, _ = flow.typed(state, "\b", 101)
    assert state.entry == "K7XM"
    state, effects = scan(state, "4P", 102)
    assert effects[0].request.booking == "K7XM4P"


def test_an_enter_alone_or_keys_of_no_character_do_nothing():
    state, effects = scan(KioskState(), "")
    assert (state.screen, effects) == (Screen.HOME, [])
    state, effects = scan(KioskState(), "\x1b\t", enter=False)
    assert (state.screen, state.entry) == (Screen.HOME, "")


def test_the_code_box_keeps_a_long_scan_and_shows_its_code():
    long = "https://antrian.example.org/" + "x" * 300
    state, _ = scan(KioskState(), long, enter=False)
    assert len(state.entry) == flow.ENTRY_MAX
    assert entry_shown("k7xm") == "K7XM" and entry_shown(LINK) == "K7XM4P"
    assert entry_shown("https://example.org/nothing-here").startswith("…")


def test_a_text_that_is_no_booking_code_is_said_on_the_screen_and_nothing_is_sent():
    state, effects = scan(KioskState(), "https://example.org/hello")
    assert effects == [] and state.screen == Screen.CHECK_IN and state.entry_error
    assert state.entry == "", "a bad scan is cleared: the next scan starts afresh"
    with ui.recording() as drawn:
        render(Frame(state, CATALOG, (1080, 1920), DEMO_TIME))
    assert tr("kiosk.check_in_unknown") == "Kode reservasi tidak dikenal"
    assert any(d.text == "Kode reservasi tidak dikenal" for d in drawn)
    state, _ = flow.typed(state, "K", 101)
    assert not state.entry_error, "typing again clears the message"


@pytest.mark.parametrize("size", SIZES.values())
def test_keypad_taps_type_delete_and_submit(size):
    state, _ = press(KioskState(id_prefix="k"), size, Tap("check_in"))
    assert state.screen == Screen.CHECK_IN
    keys = [b.tap.value for b in buttons(Frame(state, CATALOG, size, DEMO_TIME)) if b.kind == "key"]
    assert "".join(keys) == BOOKING_CODE_ALPHABET
    taps = [Tap("key", c) for c in "K7XMQ"] + [Tap("delete"), Tap("key", "4")]
    state, effects = press(state, size, *taps, start=101)
    assert state.entry == "K7XM4" and effects == []
    state, effects = press(state, size, Tap("submit"), start=120)
    assert effects == [] and state.entry_error and state.entry == "K7XM4", "a typed code stays to be fixed"
    state, effects = press(state, size, Tap("key", "P"), Tap("submit"), start=130)
    assert [e.request.booking for e in effects] == ["K7XM4P"]


def test_check_in_is_offered_only_where_a_service_takes_bookings():
    home = KioskState()
    assert [b for b in buttons(Frame(home, CATALOG, (1080, 1920), DEMO_TIME)) if b.tap.kind == "check_in"]
    assert not [b for b in buttons(Frame(home, WALK_IN_ONLY, (1080, 1920), DEMO_TIME)) if b.tap.kind == "check_in"]
    assert flow.tap(home, Tap("check_in"), WALK_IN_ONLY, 100)[0].screen == Screen.HOME
    assert flow.typed(home, "K7XM4P\r", 100, bookings=False) == (home, []), "a stray keyboard does nothing"
    assert CATALOG.takes_bookings and not WALK_IN_ONLY.takes_bookings


def test_a_retry_after_a_timeout_repeats_the_same_request_id():
    state, [first] = scan(KioskState(id_prefix="k"), "K7XM4P")
    state = flow.timed_out(state, 101)
    assert state.screen == Screen.ENGINE_OFFLINE and state.pending == first.request
    state, [again] = flow.tap(state, Tap("retry"), CATALOG, 103)
    assert again == first, "never two tickets for one check-in"
    state = flow.timed_out(state, 110)
    state, _ = flow.tap(state, Tap("back"), CATALOG, 112)
    assert state.screen == Screen.CHECK_IN and state.pending is None
    state, [later] = scan(state, "K7XM4P", 113)
    assert later.request.request_id == "k-2", "a new scan is a new request"


def test_the_check_in_screen_goes_home_when_left_alone():
    state, _ = scan(KioskState(), "K7X", enter=False)
    assert flow.tick(state, 100 + IDLE_S - 1).screen == Screen.CHECK_IN
    home = flow.tick(state, 100 + IDLE_S)
    assert (home.screen, home.entry) == (Screen.HOME, "")


def test_keys_are_ignored_while_a_visitor_is_in_the_middle_of_something():
    for screen in (Screen.ISSUING, Screen.PRIORITY, Screen.SERVICES, Screen.OUT_OF_SERVICE):
        state = replace(KioskState(), screen=screen)
        assert scan(state, "K7XM4P") == (state, [])
    printing = replace(KioskState(), screen=Screen.TICKET, print_status=PrintStatus.PRINTING)
    assert scan(printing, "K7XM4P") == (printing, [])
    printed = replace(printing, print_status=PrintStatus.PRINTED)
    _, [effect] = scan(printed, "K7XM4P")
    assert effect.request.booking == "K7XM4P", "the next visitor may scan while the last ticket is shown"


def test_a_refused_check_in_says_the_engines_reason_and_back_returns_to_the_keypad():
    state, _ = scan(KioskState(), "K7XM4P")
    error = {"code": "booking_checked_in", "message": "Pemesanan ini sudah check-in dengan nomor antrian P001",
             "message_en": "This booking has already been checked in as ticket P001"}
    state = flow.refused(state, error, 101)
    assert state.screen == Screen.NOTICE and state.notice == Notice("check_in", None, error["message"],
                                                                    error["message_en"])
    lines, _ = text_lines(Frame(state, CATALOG, (1080, 1920), DEMO_TIME))
    said = " ".join(line.text for line in lines)
    assert said.startswith("Check-in tidak dapat dilakukan") and said.endswith("nomor antrian P001")
    state, _ = flow.tap(state, Tap("back"), CATALOG, 103)
    assert (state.screen, state.entry, state.notice) == (Screen.CHECK_IN, "", None)


def reply(**ticket) -> dict:
    return {"ok": True, "ticket": {"id": "20260305-P001", "number": "P001", "service": "P", "agency": "imigrasi",
                                   "issued_at": 1772672400.0, "reservation": True, "session": "08:00-10:00"} | ticket,
            "ahead": 0, "est_wait_s": 0, "booking": {"code": "K7XM4P", "state": "checked_in"}}


def test_the_ticket_of_a_check_in_says_reservasi_with_its_session():
    ticket = ticket_from_reply(reply(), CATALOG)
    assert ticket.reservation and ticket.reservation_line() == "Reservasi 08.00-10.00"
    assert replace(ticket, language="en").reservation_line() == "Reservation 08.00-10.00"
    assert ticket_from_reply(reply(reservation=False, session=""), CATALOG).reservation_line() == ""
    for size in SIZES.values():
        state = replace(KioskState(), screen=Screen.TICKET, ticket=ticket, print_status=PrintStatus.PRINTED)
        with ui.recording() as drawn:
            render(Frame(state, CATALOG, size, DEMO_TIME))
        [pill] = [d for d in drawn if d.text == "Reservasi 08.00-10.00"]
        assert pill.box.contains(pill.rect), "the pill's words are not cut"


def paper_ticket(**changes) -> TicketContent:
    fields = dict(number="P001", ticket_id="20260305-P001", site_name="MPP Uji", agency="Kantor Imigrasi",
                  service="Paspor", issued=datetime(2026, 3, 5, 8, 5, tzinfo=ZoneInfo("Asia/Jakarta")), ahead=0,
                  est_wait_s=0, reservation=True, session="08:00-10:00")
    return TicketContent(**(fields | changes))


@pytest.mark.parametrize("mm", [58, 80])
@pytest.mark.parametrize("lang,expected", [("id", "RESERVASI 08.00-10.00"), ("en", "RESERVATION 08.00-10.00")])
def test_the_paper_ticket_prints_a_reservation_band_under_the_number(mm, lang, expected):
    paper = PAPERS[mm]
    out = Dummy()
    write_ticket(out, paper_ticket(language=lang, priority="lansia"), paper)
    lines = [i for i in read_escpos(out.output, paper.dots) if isinstance(i, TextLine)]
    texts = [line.text.strip() for line in lines]
    band = next(line for line in lines if line.text.strip() == expected)
    assert band.style.invert and band.style.bold and not band.wrapped and band.width_dots <= paper.dots
    assert texts.index("P001") < texts.index(expected), "under the number"
    out = Dummy()
    write_ticket(out, paper_ticket(reservation=False, session=""), paper)
    assert not [i for i in read_escpos(out.output) if isinstance(i, TextLine) and "RESERV" in i.text]


def test_a_full_or_closed_service_that_takes_bookings_offers_its_booking_page():
    full = replace(KioskState(), screen=Screen.NOTICE, service="P", notice=Notice("quota_reached", "P"))
    frame = Frame(full, CATALOG, (1080, 1920), DEMO_TIME)
    assert booking_offer(frame) == "https://antrian.example.org/booking?service=P"
    closed = replace(full, notice=Notice("closed", "P"))
    assert booking_offer(Frame(closed, CATALOG, (1080, 1920), DEMO_TIME))
    walk_in = replace(full, service="B", notice=Notice("closed", "B"))
    assert booking_offer(Frame(walk_in, CATALOG, (1080, 1920), DEMO_TIME)) == "", "B takes no bookings"
    no_address = replace(CATALOG, public_url="", survey_url="")
    assert booking_offer(Frame(full, no_address, (1080, 1920), DEMO_TIME)) == ""
    for size in SIZES.values():
        frame = Frame(full, CATALOG, size, DEMO_TIME)
        with ui.recording() as drawn:
            surface = render(frame)
        said = [d for d in drawn if "Pesan untuk hari lain" in d.text]
        assert said and all(d.box.contains(d.rect) for d in said)
        lines, _ = text_lines(frame)
        dialog_top = min(b.rect[1] for b in buttons(frame) if b.kind in ("back", "primary"))
        assert all(line.rect[1] + line.rect[3] <= dialog_top for line in lines)
        white = sum(1 for x in range(0, size[0], 8) for y in range(0, size[1], 8)
                    if surface.get_at((x, y))[:3] == (255, 255, 255))
        assert white > 200, "the QR code is drawn"


class KeyApp:
    def __init__(self) -> None:
        self.keys: list[str] = []
        self.size = (1080, 1920)

    def key(self, text: str) -> None:
        self.keys.append(text)


def test_the_shell_turns_key_presses_into_what_the_flow_reads():
    import pygame

    app = KeyApp()
    for event in (pygame.event.Event(pygame.KEYDOWN, key=pygame.K_k, unicode="K", mod=pygame.KMOD_SHIFT),
                  pygame.event.Event(pygame.KEYDOWN, key=pygame.K_LSHIFT, unicode="", mod=0),
                  pygame.event.Event(pygame.KEYDOWN, key=pygame.K_BACKSPACE, unicode="\b", mod=0),
                  pygame.event.Event(pygame.KEYDOWN, key=pygame.K_SLASH, unicode="/", mod=0),
                  pygame.event.Event(pygame.KEYDOWN, key=pygame.K_q, unicode="\x11", mod=pygame.KMOD_CTRL),
                  pygame.event.Event(pygame.KEYUP, key=pygame.K_k, unicode="K", mod=0),
                  pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RETURN, unicode="\r", mod=0)):
        key_event(app, event)
    assert app.keys == ["K", "\b", "/", "\r"]


def test_the_check_in_screens_are_drawn_for_review_in_both_orientations_and_languages():
    """PNGs in $ANTRIAN_TEST_OUTPUT/kiosk-checkin (the sample MPP: SKCK and SIM are booked ahead)."""
    from broker.site.config import load_config
    from conftest import OUTPUT
    from kiosk.ticketing.screenshots import DEMO_PUBLIC_URL, all_frames, demo_service_states

    sample = public_config(load_config(None))
    catalog = replace(build_catalog(sample, demo_service_states(sample)), public_url=DEMO_PUBLIC_URL)
    frames = {name: state for name, state in all_frames(catalog).items()
              if name.startswith(("check-in", "ticket-reservation", "quota-reached-booking"))}
    assert {state.screen for state in frames.values()} == {Screen.CHECK_IN, Screen.TICKET, Screen.NOTICE}
    assert {state.language for state in frames.values()} == {"id", "en"} and len(frames) == 10
    for orientation, size in SIZES.items():
        for name, state in frames.items():
            frame = Frame(state, catalog, size, DEMO_TIME)
            with ui.recording() as drawn:
                surface = render(frame)
            cut = [d.text for d in drawn if d.text.strip() and d.rect.width >= d.box.width]  # clipped at the sides
            assert not cut, (orientation, name, cut)
            ui.save_png(surface, OUTPUT / "kiosk-checkin" / f"{orientation}-{name}.png")


def test_the_counter_panel_marks_a_reservation_it_is_serving():
    from broker.protocol.state import CounterState
    from conftest import OUTPUT
    from kiosk.counter.flow import Panel
    from kiosk.counter.flow import Screen as PanelScreen
    from kiosk.counter.panel import panel_facts, panel_view, render_panel

    current = {"id": "20260305-P001", "number": "P001", "service": "P", "called_at": 0.0, "reservation": True,
               "session": "08:00-10:00"}
    counters = {"4K-10": decode(CounterState, {"id": "4K-10", "status": "open", "current": current,
                                               "officer": {"id": "siti", "name": "Siti"}})}
    services = states(P={"waiting": 1})
    view = panel_view(Panel(screen=PanelScreen.MAIN), panel_facts(CONFIG, counters, services, "4K-10"), CONFIG,
                      counters, services, "4K-10", now=60.0)
    assert view.ticket.reservation == "08:00-10:00"
    with ui.recording() as drawn:
        surface = render_panel(view)
    assert "Paspor · reservasi 08.00-10.00" in [d.text for d in drawn]
    ui.save_png(surface, OUTPUT / "kiosk-checkin" / "counter-serving-reservation.png")
    walk_in = {"4K-10": replace(counters["4K-10"], current=replace(counters["4K-10"].current, reservation=False))}
    assert panel_view(Panel(screen=PanelScreen.MAIN), panel_facts(CONFIG, walk_in, services, "4K-10"), CONFIG,
                      walk_in, services, "4K-10", now=60.0).ticket.reservation == ""
