"""The kiosk against a real engine, Mosquitto and a TCP printer on 127.0.0.1, headless."""

from __future__ import annotations

import json
import threading
import time

import pytest

from broker.mqtt.connection import Connection
from broker.protocol.codec import Topics
from broker.site.config import parse_config
from conftest import OUTPUT, SMALL_SITE, antrian_cli, start_engine
from display.toolkit import ui
from kiosk.printing.escpos import PAPERS
from kiosk.printing.escpos_reader import QrCode, TextLine, read_escpos
from kiosk.printing.printer import TicketPrinter
from kiosk.printing.uri import parse_printer_uri
from kiosk.ticketing.app import KioskApp, inline
from kiosk.ticketing.flow import PrintStatus, Screen
from kiosk.ticketing.screens import buttons

SITE = SMALL_SITE.replace('name = "MPP Uji"', 'name = "MPP Uji"\nticket_url = "https://antrian.example.org/{site}/t/{ticket}"')


class Clock:
    """A made-up monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def wait_until(predicate, timeout: float = 10.0, step=None) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        if step:
            step()
        time.sleep(0.02)


class PresenceWatcher:
    """Listens to antrian/<site>/presence/kiosk/<id> as the admin would."""

    def __init__(self, url: str, topic: str):
        self.last: dict | None = None
        self.changed = threading.Event()
        self.connection = Connection(url, "test-admin", subscriptions=[topic], on_message=self._got)
        self.connection.start(wait=5)

    def _got(self, topic: str, payload: bytes, retained: bool) -> None:
        self.last = json.loads(payload)

    def wait_for(self, predicate) -> dict:
        wait_until(lambda: self.last is not None and predicate(self.last))
        return self.last

    def stop(self) -> None:
        self.connection.stop()


@pytest.fixture
def live(broker_url, tmp_path, tcp_printer):
    """(engine service, broker url, printer, make_app) with the small site and a ticket URL."""
    service, stop = start_engine(parse_config(SITE), broker_url, tmp_path / "data")
    apps: list[KioskApp] = []
    ui.init_pygame(headless=True)

    def make_app(size=(1080, 1920), **kwargs) -> KioskApp:
        printer = TicketPrinter(parse_printer_uri(tcp_printer.uri), PAPERS[58], logo_path="assets/logos/site.png")
        app = KioskApp("K1", broker_url, "testsite", printer, size=size, clock=Clock(), run_job=inline, **kwargs)
        apps.append(app)
        app.start(wait=5)
        wait_until(lambda: app.catalog.agencies and app.state.engine_online, step=app.update)
        return app

    yield service, broker_url, tcp_printer, make_app
    for app in apps:
        app.stop()
    stop()


def touch(app: KioskApp, kind: str, value: str | None = None) -> None:
    """Press the button that does (kind, value) in its middle, one second after the last touch."""
    app.clock.t += 1.0
    app.update()
    found = [b for b in buttons(app.frame()) if b.tap.kind == kind and b.tap.value == value]
    assert found, f"no {kind} {value} button on {app.state.screen}"
    x, y, w, h = found[0].rect
    app.tap((x + w / 2, y + h / 2))


def issued_today(app: KioskApp, code: str) -> int:
    return app.mirror.services.get(code, {}).get("issued_today", 0)


@pytest.mark.parametrize("size", [(1080, 1920), (1920, 1080)])
def test_a_full_tap_through_prints_the_engines_ticket(live, size):
    service, url, printer, make_app = live
    app = make_app(size)
    assert app.state.screen == Screen.HOME
    touch(app, "language")
    touch(app, "agency", "dukcapil")
    assert app.state.screen == Screen.SERVICES
    touch(app, "service", "A")
    assert app.state.screen == Screen.PRIORITY
    touch(app, "priority", "ibu_hamil")
    assert (app.state.screen, app.state.print_status) == (Screen.TICKET, PrintStatus.PRINTED)
    ticket = app.state.ticket
    assert ticket.number == "A001" and ticket.priority == "ibu_hamil" and ticket.language == "en"
    ui.save_png(app.render(), OUTPUT / f"kiosk-live-ticket-{size[0]}x{size[1]}.png")
    [job] = printer.printed_jobs()
    items = read_escpos(job)
    assert [i.data for i in items if isinstance(i, QrCode)] == [f"https://antrian.example.org/testsite/t/{ticket.ticket_id}"]
    assert any(isinstance(i, TextLine) and i.text == "A001" and i.style.width == 8 for i in items)
    wait_until(lambda: issued_today(app, "A") == 1, step=app.update)
    assert app.catalog.service("A").waiting == 1  # the live count on the next visitor's screen
    app.clock.t += 10.0
    app.update()
    assert (app.state.screen, app.state.language) == (Screen.HOME, "id")


def test_no_answer_prints_nothing_and_try_again_never_makes_a_second_ticket(live):
    service, url, printer, make_app = live
    app = make_app(engine_timeout=1e-6)  # the reply comes too late (a round trip takes 0.4 ms at best)
    touch(app, "agency", "bank")
    touch(app, "service", "K")
    touch(app, "priority", None)
    assert app.state.screen == Screen.ENGINE_OFFLINE and app.state.pending is not None
    assert printer.printed_jobs() == []  # nothing printed without the engine's acknowledgement
    request_id = app.state.pending.request_id
    wait_until(lambda: issued_today(app, "K") == 1, step=app.update)  # the engine did make the ticket
    app.engine_timeout = 3.0
    touch(app, "retry")
    assert app.state.screen == Screen.TICKET and app.state.ticket.number == "K001"
    assert len(printer.printed_jobs()) == 1
    reply = app.client.issue("K1", "K", None, request_id=request_id)  # and once more, as a duplicate delivery
    assert reply["ticket"]["number"] == "K001"
    time.sleep(0.2)
    app.update()
    assert issued_today(app, "K") == 1 and len(printer.printed_jobs()) == 1


def test_printer_fault_closes_the_kiosk_and_tells_the_admin(live):
    service, url, printer, make_app = live
    printer.state = "paper_out"
    watcher = PresenceWatcher(url, Topics("testsite").presence("kiosk", "K1"))
    try:
        app = make_app()
        assert app.state.screen == Screen.OUT_OF_SERVICE and app.state.printer_fault == "paper_out"
        status = watcher.wait_for(lambda p: p.get("printer", {}).get("status") == "paper_out")
        assert status["online"] is True and status["in_service"] is False
        assert status["printer"]["message"] == "Kertas printer habis" and status["printer"]["target"] == printer.uri
        ui.save_png(app.render(), OUTPUT / "kiosk-live-out-of-service.png")
        app.tap((540, 900))
        assert app.state.screen == Screen.OUT_OF_SERVICE and issued_today(app, "A") == 0
        printer.state = "ok"
        app.clock.t += 30
        app.update()  # the periodic check sees the new roll
        assert app.state.screen == Screen.HOME
        assert watcher.wait_for(lambda p: p["printer"]["status"] == "ok")["in_service"] is True
        app.stop()
        assert watcher.wait_for(lambda p: p.get("online") is False) == {"online": False}
    finally:
        watcher.stop()


def test_paper_out_at_the_moment_of_the_ticket_issues_nothing(live):
    service, url, printer, make_app = live
    app = make_app()
    touch(app, "agency", "bank")
    touch(app, "service", "K")
    printer.state = "cover_open"
    touch(app, "priority", None)
    assert app.state.screen == Screen.OUT_OF_SERVICE and app.state.printer_fault == "cover_open"
    time.sleep(0.2)
    app.update()
    assert issued_today(app, "K") == 0 and printer.printed_jobs() == []


def test_print_failure_after_issue_keeps_the_number_on_screen_with_a_qr(live):
    service, url, printer, make_app = live
    watcher = PresenceWatcher(url, Topics("testsite").presence("kiosk", "K1"))
    try:
        app = make_app()
        printer.fail_after_cut = True  # the roll ends during this ticket
        touch(app, "agency", "bank")
        touch(app, "service", "K")
        touch(app, "priority", None)
        state = app.state
        assert (state.screen, state.print_status, state.ticket.number) == (Screen.TICKET, PrintStatus.FAILED, "K001")
        assert state.ticket.qr_url.endswith(state.ticket.ticket_id)
        assert any(b.tap.kind == "done" for b in buttons(app.frame()))
        ui.save_png(app.render(), OUTPUT / "kiosk-live-unprinted.png")
        status = watcher.wait_for(lambda p: p.get("unprinted") is not None)
        assert status["unprinted"] == {"number": "K001", "ticket": state.ticket.ticket_id}
        assert status["printer"]["status"] == "paper_out" and status["in_service"] is False
        printer.state = "paper_out"  # and the roll stays empty
        app.clock.t += 40
        app.update()
        assert app.state.screen == Screen.TICKET  # still there for the visitor to photograph or scan
        touch(app, "done")
        assert app.state.screen == Screen.OUT_OF_SERVICE  # the next visitor is not offered a ticket
    finally:
        watcher.stop()


def test_the_engine_stopping_is_said_plainly(live):
    service, url, printer, make_app = live
    app = make_app()
    touch(app, "agency", "dukcapil")
    service.stop()
    wait_until(lambda: app.state.screen == Screen.ENGINE_OFFLINE, step=app.update)
    assert app.state.pending is None and not [b for b in buttons(app.frame()) if b.tap.kind == "retry"]


def test_screenshots_of_every_screen_in_both_orientations_and_languages(tmp_path):
    import pygame

    out = tmp_path / "kiosk-screens"
    result = antrian_cli("kiosk", "--screenshots", str(out), env={"SDL_VIDEODRIVER": "dummy"})
    assert result.returncode == 0, result.stderr
    names = ["home", "services", "priority", "ticket", "ticket-unprinted", "closed-service", "quota-reached",
             "printer-fault", "engine-offline", "home-english", "details", "details-notice", "details-closed",
             "ticket-priority", "issuing",
             "check-in", "check-in-unknown", "ticket-reservation", "check-in-refused", "quota-reached-booking",
             "ticket-overflow"]
    names += [f"{name}-english" for name in names if not name.endswith("english") and name != "home"]
    for orientation, size in (("portrait", (1080, 1920)), ("landscape", (1920, 1080))):
        for i, name in enumerate(names, start=1):
            path = out / f"{orientation}-{i:02d}-{name}.png"
            assert pygame.image.load(str(path)).get_size() == size
    assert len(list(out.glob("*.png"))) == 2 * len(names)
    result = antrian_cli("kiosk", "--screenshots", str(out), "--config", "/nonexistent.toml")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_the_kiosk_takes_any_window_size_like_the_screens(tmp_path):
    import pygame

    result = antrian_cli("kiosk", "--size", "540x960", "--screenshots", str(tmp_path), env={"SDL_VIDEODRIVER": "dummy"})
    assert result.returncode == 0, result.stderr
    shots = sorted(tmp_path.glob("540x960-*.png"))
    assert shots and all(pygame.image.load(str(p)).get_size() == (540, 960) for p in shots)
    result = antrian_cli("kiosk", "--size", "big", "--screenshots", str(tmp_path))
    assert result.returncode == 2 and "is not a size like 1080x1920" in result.stderr
