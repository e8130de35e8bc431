"""Checking a booking in at the real kiosk app, headless, against the real engine, Mosquitto and a TCP printer.

The booking is made first on the booking wire (as the phone page does); then a USB barcode scanner "types"
the booking QR's link into the kiosk as pygame KEYDOWN events, one a character and Enter, twice.
"""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

from broker.mqtt.client import EngineClient
from broker.protocol.codec import Topics
from broker.server.store import EventStore
from broker.site.config import parse_config
from conftest import OUTPUT, SMALL_SITE, start_engine
from display.toolkit import ui
from kiosk.printing.escpos import PAPERS
from kiosk.printing.escpos_reader import TextLine, read_escpos
from kiosk.printing.printer import TicketPrinter
from kiosk.printing.uri import parse_printer_uri
from kiosk.shell import kiosk_event
from kiosk.ticketing.app import KioskApp, inline
from kiosk.ticketing.flow import PrintStatus, Screen
from kiosk.ticketing.screens import booking_offer, buttons

WIB = ZoneInfo("Asia/Jakarta")
SITE = "testsite"
T = Topics(SITE)
CONFIG = SMALL_SITE.replace('quota = 3\npriority = false', 'quota = 3\npriority = false\nquota_online = 2\n'
                            'sessions = ["08:00-10:00", "10:00-12:00"]').replace(
    'name = "MPP Uji"', 'name = "MPP Uji"\npublic_url = "https://antrian.example.org"')
SHOTS = OUTPUT / "kiosk-checkin"


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def wib(day: int, hour: int, minute: int = 0) -> float:
    return datetime(2026, 3, day, hour, minute, tzinfo=WIB).timestamp()


def wait_until(predicate, step, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        step()
        time.sleep(0.02)


def scanner_types(app: KioskApp, text: str) -> None:
    """A barcode scanner in keyboard mode: a KEYDOWN (and KEYUP) per character, then Return; the window loop's
    handler (kiosk.shell.kiosk_event) takes them from pygame's queue."""
    import pygame

    for char in text:
        key = pygame.key.key_code(char.lower()) if char.isalnum() else 0
        mod = pygame.KMOD_SHIFT if char.isupper() else 0
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, unicode=char, mod=mod, scancode=0))
        pygame.event.post(pygame.event.Event(pygame.KEYUP, key=key, unicode=char, mod=mod, scancode=0))
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RETURN, unicode="\r", mod=0, scancode=0))
    for event in pygame.event.get():
        kiosk_event(app, event)


def test_a_scanned_booking_becomes_one_reservation_ticket_even_when_scanned_twice(broker_url, tmp_path, tcp_printer):
    import pygame

    now = [wib(5, 7, 0)]  # Thursday 5 March 2026, before the hall opens
    _, stop = start_engine(parse_config(CONFIG), broker_url, tmp_path / "data", clock=lambda: now[0],
                           ignore_hours=False)
    web = EngineClient(broker_url, SITE, name="booking-web").start()
    ui.init_pygame(headless=True)
    pygame.display.set_mode((1080, 1920))
    printer = TicketPrinter(parse_printer_uri(tcp_printer.uri), PAPERS[58])
    app = KioskApp("K1", broker_url, SITE, printer, size=(1080, 1920), clock=Clock(), run_job=inline)
    try:
        booked = web.request(T.booking_request("web"), T.booking_reply("web"),
                             {"action": "book", "service": "P", "day": "2026-03-05", "session": "08:00-10:00"})
        assert booked["ok"], booked
        code = booked["booking"]["code"]
        now[0] = wib(5, 7, 50)  # inside the session's check-in window
        app.start(wait=5)
        wait_until(lambda: app.catalog.agencies and app.state.engine_online, app.update)
        assert any(b.tap.kind == "check_in" for b in buttons(app.frame())), "P takes bookings"

        app.clock.t += 5
        scanner_types(app, f"https://antrian.example.org/booking/{code.lower()}")
        assert (app.state.screen, app.state.print_status) == (Screen.TICKET, PrintStatus.PRINTED), app.state
        ticket = app.state.ticket
        assert ticket.reservation and ticket.session == "08:00-10:00" and ticket.number == "P001"
        SHOTS.mkdir(parents=True, exist_ok=True)
        ui.save_png(app.render(), SHOTS / "live-ticket-reservation.png")
        [job] = tcp_printer.printed_jobs()
        band = [i for i in read_escpos(job) if isinstance(i, TextLine) and i.style.invert]
        assert [line.text.strip() for line in band] == ["RESERVASI 08.00-10.00"]

        app.clock.t += 2  # the next scan, while the ticket is still shown: the engine says it is done
        scanner_types(app, code)
        assert app.state.screen == Screen.NOTICE and app.state.notice.kind == "check_in", app.state
        assert "P001" in app.state.notice.message
        ui.save_png(app.render(), SHOTS / "live-checked-in-twice.png")
        assert len(tcp_printer.printed_jobs()) == 1, "nothing printed that the engine did not issue"

        # another kiosk's walk-in takes the day's last place (3: 2 held for bookings); here the engine says full
        reply = web.request(T.kiosk_request("K2"), T.kiosk_reply("K2"), {"service": "P"})
        assert reply["ok"], reply
        app.clock.t += 40
        app.update()
        assert app.state.screen == Screen.HOME
        for kind, value in (("agency", "imigrasi"), ("service", "P")):
            app.clock.t += 1
            app.update()
            [button] = [b for b in buttons(app.frame()) if (b.tap.kind, b.tap.value) == (kind, value)]
            x, y, w, h = button.rect
            app.tap((x + w / 2, y + h / 2))
        assert app.state.screen == Screen.NOTICE and app.state.notice.kind == "quota_reached"
        assert booking_offer(app.frame()) == "https://antrian.example.org/booking?service=P"
        ui.save_png(app.render(), SHOTS / "live-quota-reached-booking.png")
    finally:
        app.stop()
        web.stop()
        stop()
    types = [str(e.type) for e in EventStore(tmp_path / "data", SITE).iter_events()]
    assert types.count("booking_checked_in") == 1
    assert types.count("ticket_issued") == 2, "the reservation and the one walk-in"


def test_a_check_in_repeated_with_its_request_id_gets_the_same_ticket_not_a_refusal(broker_url, tmp_path):
    """The kiosk's "Coba lagi" after a lost reply repeats the request id: the visitor must get the ticket made
    the first time (to print it), not "already checked in"."""
    now = [wib(5, 7, 0)]
    _, stop = start_engine(parse_config(CONFIG), broker_url, tmp_path / "data", clock=lambda: now[0],
                           ignore_hours=False)
    client = EngineClient(broker_url, SITE, name="kiosk-K1").start()
    try:
        booked = client.request(T.booking_request("web"), T.booking_reply("web"),
                                {"action": "book", "service": "P", "day": "2026-03-05", "session": "08:00-10:00"})
        now[0] = wib(5, 7, 50)
        first = client.check_in("K1", booked["booking"]["code"], request_id="K1-abc-1")
        again = client.check_in("K1", booked["booking"]["code"], request_id="K1-abc-1")
        other = client.check_in("K1", booked["booking"]["code"], request_id="K1-abc-2")
    finally:
        client.stop()
        stop()
    assert first["ok"] and again["ok"] and again["ticket"]["id"] == first["ticket"]["id"], again
    assert other["error"]["code"] == "booking_checked_in" and other["number"] == first["ticket"]["number"]
