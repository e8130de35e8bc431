"""The booking page on the visitor's phone (broker.web.booking) in a real browser: Debian's chromium (headless,
through Playwright) against a real web tier (waitress), engine and Mosquitto, the engine on a clock held at
Tuesday 3 March 2026, 09:00 WIB. A visitor picks agency, service, day and session and books; the page shows the
code, its QR, the day, session and check-in window and the requirements, and the same after a reload; the
cancel link asks first, then cancels through the engine. A visitor whose session filled up while the form was
open is told so in the engine's words and offered the next day with places; a double submit books once; a
form posted from another site is refused. Screenshots at 390 and 1366 wide go to conftest.OUTPUT / "booking"."""

from __future__ import annotations

import re
import urllib.parse
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from broker.core.events import EventType as E
from broker.site.config import parse_config
from broker.web.limits import WebLimits
from conftest import OUTPUT, start_engine
from integration import test_web as web_half
from integration.test_web import make_tier, request, wait_until
from unit.test_booking_page_views import CONFIG

client, tier = web_half.client, web_half.tier  # the same fixtures as the ticket page: engine, Mosquitto, web tier

sync_api = pytest.importorskip("playwright.sync_api")
from integration.chromium import LAPTOP, PHONE  # noqa: E402  (after the skip)

OUT = OUTPUT / "booking"
WIB = ZoneInfo("Asia/Jakarta")
CODE = re.compile(r"^[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{6}$")


def wib(day: int, hour: int, minute: int = 0) -> float:
    return datetime(2026, 3, day, hour, minute, tzinfo=WIB).timestamp()


@pytest.fixture
def small_config():  # test_web's fixtures (client, tier) take the site from here
    return parse_config(CONFIG, "booking-site.toml")


@pytest.fixture
def clock():
    return [wib(3, 9)]  # Tuesday 3 March 2026, 09:00: today's first session has started


@pytest.fixture
def engine(small_config, broker_url, tmp_path, clock):
    service, stop = start_engine(small_config, broker_url, tmp_path / "data", clock=lambda: clock[0],
                                 ignore_hours=False)
    yield service, broker_url
    stop()


def ready(web) -> None:
    wait_until(lambda: web.mirror.complete() and web.mirror.retained.engine_online and web.mirror.retained.engine.day
               and "P" in web.mirror.retained.bookings, what="the web tier's state")  # the engine's day: its clock


def visitor(browser, problems: list[str], *, wide: bool = False):
    """A new phone (or laptop) with its own cookies; every script error, CSP block and file missing is noted (a
    page's own 4xx, such as a refused form's 409, is what the test asks for)."""
    if wide:
        context = browser.new_context(viewport=LAPTOP, device_scale_factor=1, locale="id-ID")
    else:
        context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                      locale="id-ID")
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and r.request.resource_type != "document" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return page


def shoot(page, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    width = page.viewport_size["width"]
    page.screenshot(path=str(OUT / f"{name}-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} scrolls sideways"
    inside = page.evaluate("Math.max(...[...document.querySelectorAll('main > *')].map(e => e.getBoundingClientRect().right))")
    assert inside <= width - 12, f"{name}: something sticks out of the page's margin"


def bookings_made(engine) -> list:
    service, _ = engine
    return [e for e in service.store.iter_events() if e.type == E.BOOKING_MADE]


def pick_tuesday_session(page, url: str, session: str = "10:00-12:00") -> None:
    """From the start page to the form of Tuesday 10 March, by the links a visitor taps."""
    page.goto(url + "/booking")
    page.click("text=Kantor Imigrasi")
    page.click("text=Paspor")
    page.click("a.choice.day >> text=Selasa, 10 Maret 2026")
    page.check(f"input[name=session][value='{session}']")


def test_a_visitor_books_sees_the_code_and_qr_reloads_and_cancels(tier, browser, engine):
    ready(tier)
    problems: list[str] = []
    page = visitor(browser, problems)
    page.goto(tier.url + "/booking")
    assert "Kantor Imigrasi" in page.inner_text("main")
    assert "Dinas Kependudukan" not in page.inner_text("main"), "agencies without a bookable service are left out"
    shoot(page, "1-agencies")
    page.click("text=Kantor Imigrasi")
    shoot(page, "2-services")
    page.click("text=Paspor")
    days = page.inner_text("ul.days")
    assert "Selasa, 3 Maret 2026" in days and "Selasa, 10 Maret 2026" in days
    closed = page.inner_text("span.choice.day.closed >> nth=1")  # Thursday 5 March: the closure says why
    assert "Kamis, 5 Maret 2026" in closed and "Pemeliharaan sistem paspor" in closed
    assert "Tidak buka hari Rabu" in page.inner_text("ul.days"), "a weekday it does not serve says so"
    run = page.inner_text("span.choice.day.closed >> nth=2")  # days in a row it does not serve: one entry
    assert "Jumat, 6 Maret 2026 – Senin, 9 Maret 2026" in run and "Tidak buka hari Jumat sampai Senin" in run
    assert page.query_selector("a.choice.day >> text=Rabu") is None, "only open days are links"
    assert page.inner_text("a.choice.day >> nth=0").endswith("sisa 2 tempat")  # today: 10:00-12:00 only
    shoot(page, "3-days")
    page.click("a.choice.day >> text=Selasa, 10 Maret 2026")
    assert page.is_checked("input[name=session][value='08:00-10:00']")
    assert "sisa 2 tempat" in page.inner_text("label.session >> nth=0")
    assert "KTP elektronik asli" in page.inner_text(".requirements")
    page.check("input[name=session][value='10:00-12:00']")
    shoot(page, "4-form")
    page.fill("#phone", "021 555 1234")  # a landline: the engine takes mobile numbers only
    page.click("form.book button[type=submit]")
    assert "Nomor ponsel tidak dikenali" in page.inner_text(".problem")
    assert page.is_checked("input[name=session][value='10:00-12:00']"), "the choice survives the refused form"
    assert bookings_made(engine) == []
    shoot(page, "4-form-refused")
    page.fill("#phone", "0812 3456 7890")
    page.click("form.book button[type=submit]")
    page.wait_for_url(re.compile(r"/booking/[A-Z0-9]{6}/[a-z2-7]{24}$"))
    code = page.inner_text("#code")
    assert CODE.match(code)
    facts = page.inner_text(".facts")
    assert "Selasa, 10 Maret 2026" in facts and "10.00-12.00" in facts
    assert "Check-in\npukul 09.30 sampai 10.15" in facts  # the window on the booking's day
    assert "KTP elektronik asli" in page.inner_text(".requirements")
    assert "0812" not in page.content() and "812345" not in page.content(), "the phone number is never shown"
    qr = page.query_selector(".qr-box svg.qr")
    assert qr is not None and qr.get_attribute("aria-label") == f"Kode QR pemesanan {code}"
    assert qr.bounding_box()["width"] >= 200, "big enough for the kiosk's scanner from a phone screen"
    shoot(page, "5-booked")
    made = bookings_made(engine)
    assert [(e.data["code"], e.data["day"], e.data["session"]) for e in made] == [(code, "2026-03-10", "10:00-12:00")]
    assert "0812" not in str(made[0].data) and "6281234567890" not in str(made[0].data), "only its keyed hash"

    page.reload()  # the page is the booking's own: the same booking after a reload, and no second one
    assert page.inner_text("#code") == code and len(bookings_made(engine)) == 1
    page.click("text=English")
    assert "Tuesday, 10 March 2026" in page.inner_text(".facts") and page.inner_text("#code") == code
    assert "Cancel the booking" in page.inner_text("#cancel")
    page.click("text=Bahasa Indonesia")

    page.click("#cancel")  # the link only asks ...
    assert "Batalkan pemesanan" in page.inner_text("h1") and "tidak dapat diurungkan" in page.inner_text("main")
    service, _ = engine
    assert not [e for e in service.store.iter_events() if e.type == E.BOOKING_CANCELLED]
    shoot(page, "6-cancel-confirm")
    page.click("form.cancel button[type=submit]")  # ... the form cancels
    page.wait_for_selector(".note.warn")
    assert "sudah dibatalkan" in page.inner_text(".note.warn") and "Dibatalkan" in page.inner_text(".facts")
    assert page.query_selector(".qr-box") is None and page.query_selector("#cancel") is None
    shoot(page, "7-cancelled")
    cancelled = [e for e in service.store.iter_events() if e.type == E.BOOKING_CANCELLED]
    assert [e.data["code"] for e in cancelled] == [code]
    wait_until(lambda: [s.left for d in tier.mirror.retained.bookings["P"].days if d.day == "2026-03-10"
                        for s in d.sessions] == [2, 2], what="the place given back")
    assert problems == []  # no script error, nothing the CSP blocked


def test_a_full_session_is_refused_in_the_engines_words_with_the_next_day_offered(tier, client, browser, engine):
    ready(tier)
    problems: list[str] = []
    late, other = visitor(browser, problems), visitor(browser, problems)
    for page in (late, other):  # both open today's 10:00-12:00 form while it has 2 places
        page.goto(tier.url + "/booking?service=P&day=2026-03-03")
        assert page.is_checked("input[name=session][value='10:00-12:00']")
        assert page.is_disabled("input[name=session][value='08:00-10:00']"), "today's first session has started"
    other.fill("#nik", "3317 0101 0101 0001")
    other.click("form.book button[type=submit]")
    other.wait_for_url(re.compile(r"/booking/[A-Z0-9]{6}/"))
    topics = client.topics
    taken = client.request(topics.booking_request("web"), topics.booking_reply("web"),
                           {"action": "book", "service": "P", "day": "2026-03-03", "session": "10:00-12:00"})
    assert taken["ok"], taken  # the last place goes while the late visitor is still typing
    late.fill("#phone", "0813 1111 2222")
    late.click("form.book button[type=submit]")
    note = late.inner_text(".note.warn")
    assert "Kuota daring layanan Paspor untuk sesi 10:00-12:00 pada" in note and "sudah habis" in note
    assert "Masih dapat dipesan pada hari Selasa, 10 Maret" in note  # the engine's next_open, in its words
    assert "Kantor Imigrasi Pati" in late.inner_text(".note.referral"), "and where else to go"
    offers = late.inner_text(".offers")
    assert "Pesan Selasa, 10 Maret 2026" in offers
    assert late.query_selector("#phone") is None, "nothing left that day: no form to fill in"
    shoot(late, "8-full-offer")
    late.click(".offers a.choice >> text=Selasa, 10 Maret 2026")  # the offer is a way on: book that day
    assert late.is_checked("input[name=session][value='08:00-10:00']")
    late.click("text=English")  # the language link keeps the step
    assert late.is_checked("input[name=session][value='08:00-10:00']") and "Book now" in late.inner_text("form")
    late.fill("#phone", "0813 1111 2222")
    late.click("form.book button[type=submit]")
    late.wait_for_url(re.compile(r"/booking/[A-Z0-9]{6}/[a-z2-7]{24}\?lang=en$"))
    assert "Tuesday, 10 March 2026" in late.inner_text(".facts")
    assert len(bookings_made(engine)) == 3
    # the engine's refusal in English, on a laptop
    wide = visitor(browser, problems, wide=True)
    wide.goto(tier.url + "/booking?service=P&day=2026-03-03&lang=en")
    assert "No place is left on this day." in wide.inner_text(".note.warn")
    assert "Book Tuesday, 10 March 2026" in wide.inner_text(".offers")
    assert wide.query_selector("form.book button[type=submit]") is None, "nothing to book that day"
    shoot(wide, "9-day-full-en")
    for step, query in (("1-agencies", ""), ("2-services", "?agency=imigrasi"), ("3-days", "?service=P")):
        wide.goto(tier.url + "/booking" + query)
        shoot(wide, step)
    wide.goto(tier.url + "/booking?service=P&day=2026-03-10")
    shoot(wide, "4-form")
    wide.goto(late.url)
    shoot(wide, "5-booked")
    assert problems == []


def test_a_double_submit_books_once(tier, browser, engine):
    ready(tier)
    page = visitor(browser, [])
    pick_tuesday_session(page, tier.url)
    page.fill("#phone", "0812 3456 7890")
    form = {name: page.get_attribute(f"form.book input[name={name}]", "value")
            for name in ("csrf_token", "request_id", "service", "day")}
    form |= {"session": "10:00-12:00", "phone": "0812 3456 7890"}
    # the same form sent twice (a double tap, a resend), with the page's own cookie
    answers = [page.context.request.post(tier.url + "/booking", form=form, max_redirects=0) for _ in range(2)]
    assert [a.status for a in answers] == [303, 303]
    assert answers[0].headers["location"] == answers[1].headers["location"]
    assert len(bookings_made(engine)) == 1
    page.goto(tier.url + answers[0].headers["location"])
    assert CODE.match(page.inner_text("#code"))


def test_a_form_posted_from_another_site_is_refused(tier, browser, engine):
    ready(tier)
    page = visitor(browser, [])
    pick_tuesday_session(page, tier.url)  # the visitor has a session (and a CSRF token) on the booking page
    token = page.get_attribute("form.book input[name=csrf_token]", "value")
    attacker = f"""<!doctype html><form method="post" action="{tier.url}/booking">
      <input name="csrf_token" value="{token}"><input name="request_id" value="evil-1">
      <input name="service" value="P"><input name="day" value="2026-03-10"><input name="session" value="08:00-10:00">
      <input name="nik" value="3317010101010001"><button id="go">Menang hadiah!</button></form>"""
    page.route("http://attacker.example/", lambda route: route.fulfill(status=200, content_type="text/html",
                                                                       body=attacker))
    page.goto("http://attacker.example/")
    with page.expect_navigation():
        page.click("#go")
    assert "tidak berasal dari halaman ini" in page.inner_text(".note.warn")
    assert bookings_made(engine) == []
    # without the browser's cookie, or with a made-up token, it is refused as well
    form = {"request_id": "evil-2", "service": "P", "day": "2026-03-10", "session": "08:00-10:00", "nik": "3317010101010001"}
    for extra in ({}, {"csrf_token": token}, {"csrf_token": "IjEyMyI.abc.def"}):
        status, _, body = request(tier.url, "POST", "/booking", form=form | extra)
        assert status == 400 and "tidak berasal dari halaman ini" in body
    # and a link to a booking whose token is wrong shows nothing of it
    status, _, body = request(tier.url, path="/booking/ABCDEF/" + "a" * 24)
    assert status == 404 and "Kode pemesanan tidak ditemukan" in body
    status, _, body = request(tier.url, "POST", "/booking/ABCDEF/" + "a" * 24 + "/batal", form={})
    assert status == 404
    assert bookings_made(engine) == []


def test_booking_posts_have_their_own_rate_limit(engine, small_config):
    web = make_tier(engine, small_config, WebLimits())  # the shipped limits
    try:
        ready(web)
        codes = [request(web.url, "POST", "/booking", form={"service": "P"})[0] for _ in range(6)]
        assert codes[:5] == [400] * 5 and codes[5] == 429  # refused for the missing CSRF token, then limited
        status, _, _ = request(web.url, path="/booking?" + urllib.parse.urlencode({"service": "P"}))
        assert status == 200, "looking is not limited by it"
    finally:
        web.stop()


def test_booking_pages_carry_the_tiers_headers_and_a_strict_cookie(tier, client):
    ready(tier)
    token = None
    for path in ("/booking", "/booking?agency=imigrasi", "/booking?service=P", "/booking?service=P&day=2026-03-10",
                 "/booking?service=P&day=2026-03-04", "/booking?service=A&lang=en"):
        status, headers, body = request(tier.url, path=path)
        assert status in (200, 404), path  # service A takes no bookings: a 404 that says so
        assert "default-src 'none'" in headers["content-security-policy"] and headers["cache-control"] == "no-store"
        assert headers["referrer-policy"] == "no-referrer" and headers["x-frame-options"] == "DENY"
        assert "<script" not in body and " style=" not in body and "<style" not in body
        assert not re.search(r"(src|href|action)=\"(https?:)?//", body), "no CDN, no other site"
        if "csrf_token" in body:
            cookie = headers["set-cookie"]
            assert cookie.startswith("antrian_pesan=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
            token = re.search(r'name="csrf_token" value="([^"]+)"', body).group(1)
    assert token, "the form carries its CSRF token"
    status, _, body = request(tier.url, path="/booking?service=P&day=2026-03-04")
    assert "Tidak buka hari Rabu" in body  # a closed day asked for directly says why
    status, _, body = request(tier.url, path="/booking?service=A&lang=en")
    assert status == 404 and "takes no bookings online" in body
    issued = client.issue("k1", "A")  # the ticket and survey pages set no cookie
    for path in (f"/tiket/{issued['ticket']['id']}/{issued['survey_token']}", "/"):
        assert "set-cookie" not in request(tier.url, path=path)[1], path
    from broker.web.logs import redact

    assert redact("GET /booking/K7XM4P/abcdefghijklmnopqrstuvwx/batal") == "GET /booking/K7XM4P/…/batal"


def test_a_checked_in_booking_shows_its_ticket_and_can_no_longer_be_cancelled(tier, client, browser, engine, clock):
    ready(tier)
    page = visitor(browser, [])
    pick_tuesday_session(page, tier.url, "08:00-10:00")
    page.fill("#nik", "3317010101010001")
    page.click("form.book button[type=submit]")
    page.wait_for_url(re.compile(r"/booking/[A-Z0-9]{6}/"))
    code, own = page.inner_text("#code"), page.url
    page.click("#cancel")  # the visitor opens the cancel page ...
    clock[0] = wib(10, 7, 45)  # ... and on the day, inside the window, checks in at the kiosk first
    checked = client.request(client.topics.kiosk_request("k1"), client.topics.kiosk_reply("k1"),
                             {"action": "check-in", "code": code})
    assert checked["ok"], checked
    page.click("form.cancel button[type=submit]")  # the engine refuses, in its words, and the page says so
    assert "sudah check-in dengan nomor antrian P001" in page.inner_text(".note.warn")
    assert "Sudah check-in · P001" in page.inner_text(".facts")
    assert page.query_selector("#cancel") is None and page.query_selector(".qr-box") is None
    shoot(page, "10-checked-in")
    service, _ = engine
    assert not [e for e in service.store.iter_events() if e.type == E.BOOKING_CANCELLED]
    page.goto(own)
    assert "sudah check-in" in page.inner_text(".note.ok")


def test_without_the_engine_the_pages_say_so(small_config, broker_url, tmp_path):
    service, stop = start_engine(small_config, broker_url, tmp_path / "data", clock=lambda: wib(3, 9),
                                 ignore_hours=False)
    web = make_tier((service, broker_url), small_config)
    try:
        ready(web)
        status, _, body = request(web.url, path="/booking?service=P&day=2026-03-10")
        assert status == 200 and 'name="csrf_token"' in body
        stop()
        wait_until(lambda: not web.mirror.retained.engine_online, what="the engine's last will")
        status, _, body = request(web.url, path="/booking?service=P&day=2026-03-10")
        assert status == 503 and "Pemesanan sedang tidak tersedia" in body and "csrf_token" not in body
        status, _, body = request(web.url, path="/booking/ABCDEF/" + "a" * 24)
        assert status in (404, 503) and "Traceback" not in body
    finally:
        web.stop()
