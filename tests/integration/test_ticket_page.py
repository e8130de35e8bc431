"""The ticket's own page (broker.web.ticket) in a real browser: Debian's chromium (headless, through Playwright)
against a real `antrian web` tier (waitress), engine and Mosquitto. The visitor's place changes live as others
are called, pushed over the page's event stream (the poll is set to ten minutes, and never asked), the called
banner rings, then the survey is on the same page; without JavaScript the survey still works; another ticket's
token is a 404, on the page, its status and its stream. Screenshots at a phone's width go to
conftest.OUTPUT / "ticket". The stream's bounds are in test_ticket_push."""

from __future__ import annotations

import json
import re

import pytest

from broker.core.events import EventType as E
from broker.web.limits import WebLimits
from broker.web.server import WebTier
from conftest import OUTPUT, free_port
from integration import test_web as web_half
from integration.test_web import GOOD, make_tier, request, wait_until

client, tier = web_half.client, web_half.tier  # the same fixtures: a real engine, Mosquitto and web tier

sync_api = pytest.importorskip("playwright.sync_api")
from integration.chromium import PHONE  # noqa: E402  (after the skip)

OUT = OUTPUT / "ticket"

# recorded in the page before its own script runs (an init script is not subject to the page's CSP)
RECORDER = """
window.__vibrations = [];
window.__played = [];
if (navigator.vibrate) {
  const vibrate = navigator.vibrate.bind(navigator);
  navigator.vibrate = (pattern) => { window.__vibrations.push(pattern); try { vibrate(pattern); } catch (e) {} return true; };
}
const play = HTMLMediaElement.prototype.play;
HTMLMediaElement.prototype.play = function () { window.__played.push(this.src); return play.call(this); };
"""


def phone(browser, problems: list[str], *, javascript: bool = True):
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  java_script_enabled=javascript, locale="id-ID")
    page = context.new_page()
    page.add_init_script(RECORDER)
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return page


def shoot(page, name: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}-390.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name


def ticket_path(issued: dict) -> str:
    return f"/tiket/{issued['ticket']['id']}/{issued['survey_token']}"


def ready(web) -> None:
    wait_until(lambda: web.mirror.complete() and web.mirror.retained.engine_online, what="the web tier's state")


def live_text(page) -> str:
    return page.inner_text("#live").replace("\xa0", " ")


def shows(page, words: str) -> None:
    """Wait until the live part says `words` (polled from here: the page's CSP forbids Playwright's eval)."""
    wait_until(lambda: words in live_text(page), what=f"the page saying {words!r}")


def vibrations(page) -> list:
    return page.evaluate("() => window.__vibrations")


SLOW_POLL_S = 600  # so slow that no poll can be what changed the page within a test


@pytest.fixture
def pushed(engine, small_config, monkeypatch):
    """A web tier whose ticket pages would poll only every ten minutes, and whose streams beat (and build their
    view again unasked) as rarely: what changes the page is the stream, woken by the state's messages."""
    from broker.web import ticket as ticket_module

    monkeypatch.setattr(ticket_module, "HEARTBEAT_S", SLOW_POLL_S)
    service, url = engine
    web = WebTier(f"127.0.0.1:{free_port()}", small_config, url, secret=service.survey_secret,
                  limits=web_half.LIMITS, poll_s=SLOW_POLL_S).start()
    yield web
    web.stop()


def test_the_ticket_page_follows_the_ticket_from_the_queue_to_the_survey(pushed, client, browser, engine):
    tier = pushed
    ready(tier)
    tickets = [client.issue("k1", "A") for _ in range(3)]
    mine = tickets[2]
    problems: list[str] = []
    page = phone(browser, problems)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    page.goto(tier.url + ticket_path(mine))
    assert page.get_attribute("#live", "data-poll") == str(SLOW_POLL_S)
    page.wait_for_selector("#live[data-live='push']")
    assert page.inner_text(".number") == mine["ticket"]["number"]
    assert "KTP Elektronik" in page.inner_text(".ticket-card")
    assert "Dinas Kependudukan" in page.inner_text(".ticket-card")
    assert "2 orang di depan Anda" in live_text(page)
    assert "perkiraan waktu tunggu belum tersedia" in live_text(page)  # no counter open yet
    for other in tickets[:2]:  # this ticket's page names no other ticket
        assert other["ticket"]["number"] not in page.content()
    shoot(page, "1-waiting-no-counter")

    page.click("#sound")  # the visitor's tap that lets the page ring later
    assert client.counter("1", "next")["ok"]  # A001 called: one ahead now, and a counter is open
    shows(page, "1 orang di depan Anda")
    assert re.search(r"Perkiraan waktu tunggu: (sekitar \d+-\d+ menit|kurang dari \d+ menit)", live_text(page))
    shoot(page, "2-waiting-one-ahead")

    assert client.counter("2", "next")["ok"]  # A002 at counter 2: next in line
    shows(page, "Anda berikutnya")
    assert client.counter("1", "finish")["ok"]
    assert client.counter("1", "next")["ticket"]["number"] == mine["ticket"]["number"]
    page.wait_for_selector(".live.called", timeout=20_000)
    assert "Nomor Anda dipanggil, silakan ke Loket 1" in live_text(page)
    wait_until(lambda: len(vibrations(page)) >= 2, what="a vibration")  # the tap's short buzz, then the call's
    assert vibrations(page)[-1] == [400, 200, 400, 200, 400]
    seq = wait_until(lambda: int(page.get_attribute("#live .live", "data-call") or 0), what="the call's seq")
    assert len(vibrations(page)) == 2, "the call's seq arriving after the counter's state is not a second call"
    assert any(src.endswith("/static/chime.wav") for src in page.evaluate("() => window.__played"))
    shoot(page, "3-called")

    assert client.counter("1", "recall")["ok"]  # a recall rings again
    wait_until(lambda: len(vibrations(page)) >= 3, what="a second call's vibration")
    assert int(page.get_attribute("#live .live", "data-call")) > seq and len(vibrations(page)) == 3

    assert client.counter("1", "finish")["ok"]  # served: the page turns into the survey by itself
    page.wait_for_selector("form fieldset", timeout=20_000)
    assert page.inner_text(".number") == mine["ticket"]["number"]
    shoot(page, "4-survey")
    for i, score in enumerate(GOOD, start=1):
        page.check(f"input[name=u{i}][value='{score}']")
    page.fill("textarea[name=comment]", "<b>cepat</b>")
    page.click("form button[type=submit]")
    page.wait_for_selector(".note.ok")
    assert "Terima kasih" in page.inner_text(".note.ok")
    shoot(page, "5-thanks")
    service, _ = engine
    answers = [e for e in service.store.iter_events() if e.type == E.SURVEY_ANSWERED]
    assert [a.data["ticket"] for a in answers] == [mine["ticket"]["id"]]
    assert answers[0].data["channel"] == "web" and answers[0].data["comment"] == "<b>cepat</b>"
    page.goto(tier.url + ticket_path(mine))  # and once answered it stays answered
    assert "sudah diisi" in page.inner_text(".note")
    assert problems == []  # no script error, nothing the CSP blocked, no file missing
    assert [u for u in asked if "/langsung" in u], "the page opened its stream"
    assert not [u for u in asked if u.split("?")[0].endswith("/status")], "pushed, never polled"


def test_without_javascript_the_page_refreshes_itself_and_the_survey_still_works(tier, client, browser):
    ready(tier)
    issued = client.issue("k1", "A")
    status, _, body = request(tier.url, path=ticket_path(issued))
    assert status == 200 and '<meta http-equiv="refresh" content="30">' in body  # inside <noscript>
    assert client.counter("1", "next")["ok"] and client.counter("1", "finish")["ok"]
    problems: list[str] = []
    page = phone(browser, problems, javascript=False)
    page.goto(tier.url + ticket_path(issued) + "?lang=en")
    assert page.query_selector("form fieldset") is not None
    page.click("form button[type=submit]")  # nothing chosen: the browser's own check keeps the form ...
    for i, score in enumerate(GOOD, start=1):
        page.check(f"input[name=u{i}][value='{score}']")
    page.click("form button[type=submit]")
    page.wait_for_selector(".note.ok")
    assert "Thank you" in page.inner_text(".note.ok")
    shoot(page, "6-no-javascript-thanks")
    assert problems == []


def test_another_tickets_token_and_a_guessed_one_are_not_found(tier, client):
    ready(tier)
    one, two = client.issue("k1", "A"), client.issue("k1", "B")
    for path in (f"/tiket/{two['ticket']['id']}/{one['survey_token']}",  # one's token on two's page
                 f"/tiket/{one['ticket']['id']}/{'a' * 24}", f"/tiket/{one['ticket']['id']}/short",
                 f"/tiket/{one['ticket']['id']}/{one['survey_token']}x"):
        for suffix in ("", "/status", "/langsung"):
            status, _, body = request(tier.url, path=path + suffix)
            assert status == 404, path + suffix
            assert one["ticket"]["number"] not in body and two["ticket"]["number"] not in body
    wait_until(lambda: json.loads(request(tier.url, path=ticket_path(two) + "/status")[2])["kind"] != "pending",
               what="two's state in the web tier")  # "pending" while the new ticket's state is on its way
    status, headers, body = request(tier.url, path=ticket_path(two) + "/status")
    assert status == 200 and headers["content-type"].startswith("application/json")
    data = json.loads(body)
    assert data["kind"] == "waiting" and "0 orang" not in data["html"] and "Anda berikutnya" in data["html"]
    assert one["ticket"]["number"] not in body  # B's page says nothing of A's ticket


def test_the_status_answers_are_rate_limited(engine, small_config, client):
    web = make_tier(engine, small_config, WebLimits(rate_limit="4 per minute"))
    try:
        ready(web)
        path = ticket_path(client.issue("k1", "A")) + "/status"
        codes = [request(web.url, path=path)[0] for _ in range(6)]
        assert codes[:4] == [200] * 4 and codes[4:] == [429, 429]
    finally:
        web.stop()


def test_the_csp_allows_scripts_from_this_server_only(tier, client):
    ready(tier)
    status, headers, body = request(tier.url, path=ticket_path(client.issue("k1", "A")))
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp and "unsafe" not in csp
    assert re.findall(r"<script[^>]*>", body) == ['<script src="/static/ticket.js" defer>']
    status, headers, script = request(tier.url, path="/static/ticket.js")
    assert status == 200 and "javascript" in headers["content-type"] and "http" not in script


def test_a_visitor_gives_a_number_for_news_on_the_ticket_page_and_takes_it_back(engine, small_config, client, browser):
    """The phone-number form (issue 17): shown only when the site sends news (notify.toml's channels), asks for
    consent, answers with the number masked; the engine logs the subscription without the number; the
    consent is withdrawn with one button; a cross-site post and a post without consent change nothing."""
    service, url = engine
    web = WebTier(f"127.0.0.1:{free_port()}", small_config, url, secret=service.survey_secret,
                  limits=web_half.LIMITS, channels=("whatsapp", "sms")).start()
    plain = make_tier(engine, small_config)  # a site without notify.toml: no form
    try:
        ready(web)
        ready(plain)
        issued = [client.issue("k1", "A") for _ in range(5)][-1]
        path = ticket_path(issued)
        assert 'id="kabar"' not in request(plain.url, path=path)[2]

        def subscriptions() -> list[dict]:
            return [e.data for e in service.store.iter_events() if e.type == E.NOTIFY_SUBSCRIBED]

        problems: list[str] = []
        page = phone(browser, problems)
        page.goto(web.url + path)
        assert "Kabari saya di ponsel" in page.inner_text("#kabar")
        assert "UU No. 27 Tahun 2022" in page.inner_text("#kabar")
        page.fill("#phone", "0812-3456-7890")
        page.click("#kabar button[value=subscribe]")  # consent not ticked: the browser itself asks for it
        assert subscriptions() == []
        page.check("#kabar input[name=consent]")
        page.click("#kabar button[value=subscribe]")
        page.wait_for_selector("#kabar .note.ok")
        said = page.inner_text("#kabar .note.ok")
        assert "lewat WhatsApp ke +62812****7890" in said and "3456" not in said
        shoot(page, "6-news-by-whatsapp")
        wait_until(lambda: len(subscriptions()) == 1, what="the subscription in the log")
        logged = subscriptions()[0]
        assert logged["channel"] == "whatsapp" and logged["ticket"] == issued["ticket"]["id"]
        assert "phone" not in logged, "the number is kept apart from the log"

        page.click("#kabar button[value=withdraw]")
        page.wait_for_selector("#kabar .note.ok")
        assert "sudah dihapus" in page.inner_text("#kabar .note.ok")
        wait_until(lambda: len(subscriptions()) == 2, what="the withdrawal in the log")
        assert subscriptions()[1]["channel"] == ""
        assert problems == []

        form = {"phone": "081234567890", "consent": "ya", "channel": "sms", "request_id": "a" * 32}
        status, _, body = request(web.url, "POST", path + "/kabar", form, headers={"Sec-Fetch-Site": "cross-site"})
        assert status == 400 and "hanya dapat dikirim dari halaman tiket" in body
        status, _, body = request(web.url, "POST", path + "/kabar?lang=en", form | {"consent": ""})
        assert status == 400 and "Tick the consent" in body
        status, _, body = request(web.url, "POST", f"/tiket/{issued['ticket']['id']}/{'b' * 24}/kabar", form)
        assert status == 404  # another token: nothing said about the ticket
        status, _, body = request(web.url, "POST", path + "/kabar", form | {"phone": "12345"})
        assert status == 400 and "Nomor ponsel tidak sah" in body
        assert len(subscriptions()) == 2, "no refused post reached the log"
        status, _, body = request(web.url, "POST", path + "/kabar", form)
        assert status == 200 and "lewat SMS ke +62812****7890" in body
        wait_until(lambda: len(subscriptions()) == 3, what="the SMS subscription")
    finally:
        plain.stop()
        web.stop()
