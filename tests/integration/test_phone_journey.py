"""A visitor's whole journey, as issue 17 checks it: a ticket taken at the real kiosk (headless pygame) is
printed on a TCP printer on 127.0.0.1; the QR code read back out of the ESC/POS bytes opens the ticket's
page in Debian's chromium at a phone's size, served by a real `antrian web` tier over a real engine and
Mosquitto. The page follows the ticket while others are served, shows the call, then the survey, which is
answered. Then the page is probed for other visitors' data: another ticket's id with this token, this
ticket's id with a changed token, the status and news endpoints, and what the answered page still says."""

from __future__ import annotations

import urllib.parse

import pytest

from broker.core.events import EventType as E
from broker.mqtt.client import EngineClient
from broker.site.config import parse_config
from broker.web.server import WebTier
from conftest import OUTPUT, SMALL_SITE, free_port, start_engine
from display.toolkit import ui
from integration.test_kiosk import Clock, touch
from integration.test_web import GOOD, LIMITS, request, wait_until
from kiosk.printing.escpos import PAPERS
from kiosk.printing.escpos_reader import QrCode, TextLine, read_escpos
from kiosk.printing.printer import TicketPrinter
from kiosk.printing.uri import parse_printer_uri
from kiosk.ticketing.app import KioskApp, inline
from kiosk.ticketing.flow import PrintStatus, Screen

sync_api = pytest.importorskip("playwright.sync_api")
from integration.chromium import PHONE  # noqa: E402  (after the skip)
from integration.test_ticket_page import live_text, phone  # noqa: E402

OUT = OUTPUT / "journey"


def shoot(page, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}-390.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name


@pytest.fixture
def hall(broker_url, tmp_path, tcp_printer):
    """(engine service, web tier, kiosk app, printer, engine client): the site's public_url is the tier."""
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    config = parse_config(SMALL_SITE.replace('name = "MPP Uji"', f'name = "MPP Uji"\npublic_url = "{public}"'))
    service, stop = start_engine(config, broker_url, tmp_path / "data")
    web = WebTier(f"127.0.0.1:{port}", config, broker_url, secret=service.survey_secret, limits=LIMITS).start()
    ui.init_pygame(headless=True)
    printer = TicketPrinter(parse_printer_uri(tcp_printer.uri), PAPERS[58], logo_path="assets/logos/site.png")
    app = KioskApp("K1", broker_url, config.site.id, printer, size=(1080, 1920), clock=Clock(), run_job=inline)
    app.start(wait=5)
    client = EngineClient(broker_url, config.site.id, name="test-journey-counters").start()
    wait_until(lambda: (app.update() or True) and app.catalog.agencies and app.state.engine_online,
               what="the kiosk's catalog")
    wait_until(lambda: web.mirror.complete() and web.mirror.retained.engine_online, what="the web tier's state")
    yield service, web, app, tcp_printer, client
    client.stop()
    app.stop()
    web.stop()
    stop()


def take_ticket(app: KioskApp, printer) -> tuple[str, str]:
    """Tap through the kiosk for service A; the number on screen and the QR code's text on the paper."""
    before = len(printer.printed_jobs())
    touch(app, "agency", "dukcapil")
    touch(app, "service", "A")
    if app.state.screen == Screen.PRIORITY:
        touch(app, "priority", None)
    assert (app.state.screen, app.state.print_status) == (Screen.TICKET, PrintStatus.PRINTED)
    number = app.state.ticket.number
    jobs = printer.printed_jobs()
    assert len(jobs) == before + 1
    items = read_escpos(jobs[-1])
    assert any(isinstance(i, TextLine) and i.text == number for i in items)
    [qr] = [i.data for i in items if isinstance(i, QrCode)]
    app.clock.t += 30.0  # the ticket screen times out: the next visitor's turn
    app.update()
    return number, qr


def test_from_the_kiosks_paper_to_the_survey_on_a_phone_and_nothing_of_anyone_else(hall, browser):
    service, web, app, printer, client = hall
    first, first_qr = take_ticket(app, printer)
    mine, qr = take_ticket(app, printer)
    assert first != mine and first_qr != qr
    url = urllib.parse.urlsplit(qr)
    assert f"{url.scheme}://{url.netloc}" == web.url  # the public_url, as printed
    assert url.path.startswith("/tiket/")

    problems: list[str] = []
    page = phone(browser, problems)
    page.goto(qr)  # what the phone's camera opens
    assert page.inner_text(".number") == mine
    assert "1 orang di depan Anda" in live_text(page)
    assert first not in page.content()  # the one ahead is counted, never named
    shoot(page, "1-from-the-paper")

    page.click("#sound")
    assert client.counter("1", "next")["ticket"]["number"] == first
    wait_until(lambda: "Anda berikutnya" in live_text(page), what="next in line")
    assert client.counter("1", "finish")["ok"]
    assert client.counter("1", "next")["ticket"]["number"] == mine
    page.wait_for_selector(".live.called", timeout=20_000)
    assert "Nomor Anda dipanggil, silakan ke Loket 1" in live_text(page)
    shoot(page, "2-called")
    assert client.counter("1", "finish")["ok"]
    page.wait_for_selector("form fieldset", timeout=20_000)
    for i, score in enumerate(GOOD, start=1):
        page.check(f"input[name=u{i}][value='{score}']")
    page.click("form button[type=submit]")
    page.wait_for_selector(".note.ok")
    shoot(page, "3-answered")
    assert problems == []
    _, ticket_id, token = url.path.rsplit("/", 2)  # /tiket/<ticket id>/<token>
    answers = [e for e in service.store.iter_events() if e.type == E.SURVEY_ANSWERED]
    assert [(a.data["ticket"], a.data["channel"]) for a in answers] == [(ticket_id, "web")]

    # probing: nothing but this ticket's own pair opens anything
    first_id = urllib.parse.urlsplit(first_qr).path.rsplit("/", 2)[1]
    swapped_token = token[:-1] + ("0" if token[-1] != "0" else "1")
    for path in (f"/tiket/{first_id}/{token}", f"/tiket/{ticket_id}/{swapped_token}",
                 f"/tiket/{first_id}/{token}/status", f"/tiket/{ticket_id}/{swapped_token}/status",
                 f"/tiket/{ticket_id}/{token[:8]}", f"/tiket/{ticket_id}", "/tiket/", f"/tiket/{ticket_id}/{token}/../x"):
        status, _, body = request(web.url, path=path)
        assert status == 404, (path, status)
        assert first not in body and mine not in body, path
    status, _, body = request(web.url, method="POST", path=f"/tiket/{first_id}/{token}/kabar",
                              form={"phone": "081234567890", "consent": "1"})
    assert status in (400, 403, 404), status
    status, _, body = request(web.url, path=url.path)
    assert status == 200 and mine in body and first not in body
