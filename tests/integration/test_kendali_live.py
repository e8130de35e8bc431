"""The live dashboard against the real parts: Mosquitto, the engine and `antrian kendali`'s server (KendaliTier),
in Debian's chromium (headless, through Playwright) and over raw HTTP for the event stream itself.

The DOM must change without a reload when a counter calls; an alert must appear when a wait passes its
target; the page must put itself right after the engine and the broker restart; 50 open dashboards must
leave the login page its threads. Screenshots at 1366x768 and a phone's width go to conftest.OUTPUT / "kendali"."""

from __future__ import annotations

import http.client
import re
import time

import pytest

from broker.access.staff import StaffStore
from broker.mqtt.client import EngineClient, StateMirror
from broker.site.config import parse_config
from broker.web.kendali.live import Hub
from broker.web.kendali.server import KendaliTier
from broker.web.limits import WebLimits
from conftest import SMALL_SITE, MosquittoBroker, free_port, start_engine
from integration.test_kendali_web import PASSWORD, USERS, Browserless, wait_until

sync_api = pytest.importorskip("playwright.sync_api")
from integration.chromium import LAPTOP, log_in  # noqa: E402  (after the skip)
from integration.test_kendali_browser import shoot  # noqa: E402

TARGET_A = 5  # minutes: service A's target wait in this site


def live_site():
    """The small test site with a target wait for service A."""
    text = SMALL_SITE.replace('name = "KTP Elektronik"\n', f'name = "KTP Elektronik"\ntarget_wait_min = {TARGET_A}\n', 1)
    assert "target_wait_min" in text
    return parse_config(text, "small-site-live.toml")


class LiveHall:
    """Mosquitto, the engine, accounts and the control room, each of which a test may restart."""

    def __init__(self, tmp_path):
        self.config = live_site()
        self.mosquitto = MosquittoBroker(tmp_path).start()
        self.mqtt = self.mosquitto.url
        self.data = tmp_path / "data"
        self.service, self._stop_engine = start_engine(self.config, self.mqtt, self.data)
        store = StaffStore(self.data)
        for name, role, agency in USERS:
            store.add(name, role, PASSWORD, agency=agency)
        self.store = store
        self.tier = KendaliTier(f"127.0.0.1:{free_port()}", self.config, self.mqtt, self.data,
                                limits=WebLimits(rate_limit="")).start()
        self.url = self.tier.url
        self.client = EngineClient(self.mqtt, self.config.site.id, name="test-live-client").start()
        self.mirror = StateMirror(self.mqtt, self.config.site.id, name="test-live-mirror").start(wait=10)
        assert self.mirror.wait_complete(10)
        wait_until(lambda: self.tier.mirror.complete(), what="the control room's mirror")

    def restart_engine(self) -> None:
        self._stop_engine()
        self.service, self._stop_engine = start_engine(self.config, self.mqtt, self.data)

    def stop(self) -> None:
        self.mirror.stop()
        self.client.stop()
        self.tier.stop()
        self._stop_engine()
        self.mosquitto.stop()


@pytest.fixture
def hall(tmp_path):
    h = LiveHall(tmp_path)
    yield h
    h.stop()


def dashboard(browser, hall, username: str, errors: list[str]):
    page = browser.new_context(viewport=LAPTOP, device_scale_factor=1).new_page()
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, hall.url, username)
    page.wait_for_selector("#dashboard[data-live='connected']")
    page.evaluate("window.__sameDocument = 'yes'")  # gone if the page ever reloads
    return page


def same_document(page) -> bool:
    return page.evaluate("window.__sameDocument") == "yes"


def test_a_counter_call_changes_the_dashboard_without_reload(hall, browser):
    errors: list[str] = []
    page = dashboard(browser, hall, "admin", errors)
    assert "A001" not in page.locator("#counter-1").inner_text()
    updates = int(page.locator("#dashboard").get_attribute("data-updates") or 0)
    hall.client.issue("k1", "A")
    page.wait_for_selector("#service-A[data-waiting='1']")
    assert page.locator("#summary-dukcapil [data-figure='issued']").inner_text() == "1"
    hall.client.counter("1", "next")  # what `antrian call` sends
    page.locator("#counter-1", has_text="A001").wait_for()
    assert page.locator("#counter-1").get_attribute("data-status") == "open"
    assert page.locator("#service-A").get_attribute("data-waiting") == "0"
    assert same_document(page), "the page reloaded"
    assert int(page.locator("#dashboard").get_attribute("data-updates")) > updates
    hall.client.counter("1", "finish")
    page.locator("#summary-dukcapil [data-figure='served']", has_text="1").wait_for()
    shoot(page, "live-admin")
    assert same_document(page) and not errors, errors


def test_a_koordinator_gets_only_its_agency_over_the_stream(hall):
    b = Browserless(hall.url)
    b.login("siti")
    hall.client.issue("k1", "K")  # the bank's
    text = read_stream(hall.url, b.cookies, until=lambda t: "event: blocks" in t)
    assert "counter-1" in text and "summary-dukcapil" in text
    assert "counter-5" not in text and "summary-bank" not in text and "K001" not in text
    anonymous = read_stream(hall.url, {}, until=lambda t: "event: ended" in t)
    assert "counter-1" not in anonymous


def test_an_alert_appears_when_a_wait_passes_its_target(hall, browser):
    errors: list[str] = []
    hall.client.issue("k1", "A")
    page = dashboard(browser, hall, "siti", errors)
    assert page.locator("li.alert").count() == 0
    live = hall.tier.live
    live.clock = lambda: time.time() + (TARGET_A + 1) * 60  # the ticket has now waited six minutes
    hall.client.issue("k1", "B")  # any change of state: the stream builds the view again at once
    alert = page.wait_for_selector("#summary-dukcapil li.alert[data-alert='wait-A']")
    assert "melewati target 5 menit" in alert.inner_text()
    assert "alerting" in page.locator("#service-A").get_attribute("class")
    # counters stand empty (nobody signed in, in hours): after the site's 15 minutes they alert too
    live.clock = lambda: time.time() + 20 * 60
    hall.client.issue("k1", "B")
    page.wait_for_selector("#summary-dukcapil li.alert[data-alert='unstaffed-1']")
    assert "Loket 1 kosong" in page.locator("li.alert[data-alert='unstaffed-1']").inner_text()
    assert same_document(page)
    shoot(page, "live-alerts-siti")
    assert not errors, errors


def test_the_page_recovers_after_the_engine_and_the_broker_restart(hall, browser):
    errors: list[str] = []
    page = dashboard(browser, hall, "admin", errors)
    hall.restart_engine()  # its last will says offline, then it comes back and publishes everything again
    page.wait_for_selector("#live-status[data-online='yes']")
    hall.client.issue("k1", "A")
    hall.client.counter("2", "next")
    page.locator("#counter-2", has_text="A001").wait_for()
    hall.mosquitto.stop()
    page.wait_for_selector("#live-status[data-online='no']")
    shoot(page, "live-offline")
    hall.mosquitto.start()
    page.wait_for_selector("#live-status[data-online='yes']", timeout=30_000)
    hall.client.counter("2", "finish")
    hall.client.issue("k1", "B")
    hall.client.counter("1", "next")
    page.locator("#counter-1", has_text="B001").wait_for(timeout=30_000)
    assert same_document(page), "the page reloaded"
    assert not [e for e in errors if "langsung" not in e], errors  # a lost stream may log; nothing else


def test_the_page_reconnects_to_a_restarted_control_room(hall, browser):
    errors: list[str] = []
    page = dashboard(browser, hall, "admin", errors)
    listen = f"127.0.0.1:{hall.tier.server.port}"
    hall.tier.stop()
    page.wait_for_selector("#dashboard[data-live='connecting']")
    hall.tier = KendaliTier(listen, hall.config, hall.mqtt, hall.data, limits=WebLimits(rate_limit="")).start()
    hall.client.issue("k1", "A")
    hall.client.counter("1", "next")
    page.locator("#counter-1", has_text="A001").wait_for(timeout=30_000)
    assert page.locator("#dashboard").get_attribute("data-live") == "connected" and same_document(page)


def open_stream(url: str, cookies: dict[str, str]) -> http.client.HTTPResponse:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=15)
    conn.request("GET", "/langsung", headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
                                              "Accept": "text/event-stream"})
    response = conn.getresponse()
    assert response.status == 200 and response.headers["content-type"].startswith("text/event-stream")
    return response


def read_stream(url: str, cookies: dict[str, str], until) -> str:
    response = open_stream(url, cookies)
    text = ""
    while not until(text):
        chunk = response.read1(65536).decode()
        if not chunk:
            break
        text += chunk
    response.close()
    return text


def test_fifty_dashboards_leave_the_login_page_its_threads(hall):
    b = Browserless(hall.url)
    b.login("kepala")
    streams = []
    try:
        for _ in range(50):
            response = open_stream(hall.url, b.cookies)
            first = ""
            while "event: blocks" not in first:
                first += response.read1(65536).decode()
            streams.append(response)
        for _ in range(10):  # every page thread is still free for pages: log-ins go on at once
            status, _, body = Browserless(hall.url).go("GET", "/masuk")
            assert status == 200 and "Masuk ke Ruang Kendali" in body
        status, _, body = b.go("GET", "/")
        assert status == 200 and 'id="counter-1"' in body
        hall.client.issue("k1", "P")
        for response in streams[:5]:  # and every stream still gets the change
            text = ""
            while 'data-service=\\"P\\" data-waiting=\\"1\\"' not in text:
                text += response.read1(65536).decode()
        for _ in range(hall.tier.live.streams - 50):
            streams.append(open_stream(hall.url, b.cookies))
        refused = read_stream(hall.url, b.cookies, until=lambda t: "event: full" in t or "event: blocks" in t)
        assert "event: full" in refused and re.search(r"retry: \d+", refused)
    finally:
        for response in streams:
            response.close()
    # closed streams give their slots back: a new dashboard gets one again
    wait_until(lambda: "event: blocks" in read_stream(hall.url, b.cookies,
                                                      until=lambda t: "event: full" in t or "event: blocks" in t),
               what="a free stream slot again")


def test_the_hub_wakes_every_waiter_and_closes():
    hub = Hub()
    seen = hub.version
    hub.changed()
    assert hub.wait(seen, 5) == seen + 1
    hub.close()
    assert hub.wait(hub.version, 5) == hub.version and hub.closed
