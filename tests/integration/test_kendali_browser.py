"""The control room in a real browser: Debian's chromium (headless, through Playwright) against a real waitress
server, engine and Mosquitto. Screenshots of every page, at an office laptop's 1366x768 and a phone's width, go
to the test output folder (conftest.OUTPUT / "kendali") to be looked at."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from broker.access.staff import USER_ATTEMPTS
from conftest import OUTPUT
from integration import test_kendali_web as http_half
from integration.test_kendali_web import counter_status, wait_until

hall = http_half.hall  # the same real hall: Mosquitto, the engine, accounts, the control room

sync_api = pytest.importorskip("playwright.sync_api")
from integration.chromium import LAPTOP, log_in, shoot_both  # noqa: E402  (after the skip)

OUT = OUTPUT / "kendali"


def new_page(browser, csp_violations: list[str]):
    page = browser.new_context(viewport=LAPTOP, device_scale_factor=1).new_page()
    page.on("console", lambda m: csp_violations.append(m.text) if "Content Security Policy" in m.text else None)
    return page


def shoot(page, name: str) -> None:
    shoot_both(page, OUT, name)


def test_each_role_sees_only_what_it_may(hall, browser):
    hall.client.issue("k1", "A", "lansia")
    hall.client.issue("k1", "A")
    hall.client.issue("k1", "K")
    hall.client.counter("1", "next")
    violations: list[str] = []
    page = new_page(browser, violations)
    page.goto(hall.url + "/")  # not logged in: sent to the login page, in Indonesian
    assert page.url.endswith("/masuk") and page.locator("html").get_attribute("lang") == "id"
    assert "Silakan masuk" in page.locator(".note").inner_text()
    shoot(page, "login-id")
    page.locator("a.lang").click()
    assert page.locator("h1").inner_text() == "Log in to the control room"
    shoot(page, "login-en")
    page.locator("a.lang").click()

    expected = {"admin": ({"dukcapil", "imigrasi", "bank"}, True), "siti": ({"dukcapil"}, True),
                "kepala": ({"dukcapil", "imigrasi", "bank"}, False)}
    for username, (agencies, forms) in expected.items():
        page = new_page(browser, violations)
        log_in(page, hall.url, username)
        assert page.locator("h2", has_text="Pengumuman").count() == 1
        shown = {a.get_attribute("id").removeprefix("agency-") for a in page.locator("section.agency").all()}
        assert shown == agencies, username
        assert (page.locator("form[action^='/loket/']").count() > 0) == forms, username
        assert (page.locator("form[action='/pengumuman']").count() > 0) == (username == "admin")
        assert (page.locator("a[href='/audit']").count() > 0) == (username == "admin")
        row = page.locator("#counter-1")
        assert row.get_attribute("data-status") == "open" and "A001" in row.inner_text()  # the priority ticket first
        shoot(page, f"overview-{username}")
        if username == "admin":
            page.click("a[href='/audit']")
            assert page.locator("#audit tbody tr").count() >= 3
            shoot(page, "audit-admin")
            page.click(".bar a[href='/']")
        page.locator("a.lang").click()
        assert page.locator("h2", has_text="Notice on the hall screens").count() == 1
        shoot(page, f"overview-{username}-en")
    assert not violations, violations  # nothing needed an exception to the CSP


def test_a_supervisor_closes_a_counter_and_a_koordinator_is_refused_another_agency(hall, browser):
    hall.client.counter("1", "open")
    hall.client.counter("5", "open")
    wait_until(lambda: counter_status(hall, "1") == "open" and counter_status(hall, "5") == "open",
               what="counters 1 and 5 open")
    violations: list[str] = []
    page = new_page(browser, violations)
    log_in(page, hall.url, "siti")
    page.wait_for_selector("#counter-1 form[action='/loket/1/close']")
    page.click("#counter-1 form[action='/loket/1/close'] button")
    assert "Loket 1 ditutup" in page.locator(".note.ok").inner_text()
    wait_until(lambda: counter_status(hall, "1") == "closed", what="the engine closed counter 1")
    page.wait_for_selector("#counter-1[data-status='closed']")
    shoot(page, "overview-siti-after-close")
    # counter 5 is the bank's: not on her page, and a forged post with her own valid token is refused
    assert page.locator("#counter-5").count() == 0
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    answer = page.request.post(hall.url + "/loket/5/close", form={"csrf_token": token, "request_id": "idor-b"})
    assert answer.status == 403 and "instansi lain" in answer.text()
    assert counter_status(hall, "5") == "open"
    # an engine refusal beside its form: a ticket at counter 2 keeps it from closing
    hall.client.issue("k1", "B")
    hall.client.counter("2", "next")
    wait_until(lambda: (hall.tier.mirror.counters["2"].get("current") or {}).get("number") == "B001",
               what="B001 at counter 2")
    page.reload()
    page.click("#counter-2 form[action='/loket/2/close'] button")
    refusal = page.locator("#counter-2 .note.refusal")
    assert "B001" in refusal.inner_text() and refusal.get_attribute("data-code") == "counter_busy"
    shoot(page, "overview-siti-refused")
    assert not violations, violations


class _Attacker(BaseHTTPRequestHandler):
    """Another origin on this machine: a page with a form that posts to the control room."""

    target = ""

    def do_GET(self) -> None:
        action = f"{self.target}/loket/1/close"
        body = (f'<!doctype html><form method="post" action="{action}"><input type="hidden" name="request_id" '
                'value="evil-1"><button id="no-token" type="submit">Hadiah!</button></form>'
                f'<form method="post" action="{action}"><input type="hidden" name="csrf_token" value="guessed">'
                '<button id="bad-token" type="submit">Menang!</button></form>').encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_a_cross_site_form_post_is_refused(hall, browser):
    hall.client.counter("1", "open")
    wait_until(lambda: counter_status(hall, "1") == "open", what="counter 1 open")
    handler = type("Attacker", (_Attacker,), {"target": hall.url})
    evil = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    try:
        page = new_page(browser, [])
        log_in(page, hall.url, "admin")  # the victim is logged in, in the same browser
        assert page.locator("section.agency").count() == 3
        for button in ("#bad-token", "#no-token"):
            page.goto(f"http://127.0.0.1:{evil.server_address[1]}/")
            page.click(button)
            assert "Formulir ini kedaluwarsa" in page.locator(".note").inner_text() or page.url.endswith("/masuk")
        shoot(page, "csrf-refused")
        assert counter_status(hall, "1") == "open"  # nothing reached the engine
        assert [e.action for e in hall.store.audit_entries()][:2] == ["csrf_refused", "csrf_refused"]
    finally:
        evil.shutdown()
        evil.server_close()


def test_lockout_after_wrong_passwords_in_the_browser(hall, browser):
    page = new_page(browser, [])
    for _ in range(USER_ATTEMPTS):
        log_in(page, hall.url, "admin", "bukan-sandinya")
        assert "salah" in page.locator("#login-note").inner_text()
    log_in(page, hall.url, "admin")  # the right one, after the lock
    assert "Terlalu banyak percobaan" in page.locator("#login-note").inner_text()
    assert page.locator("section.agency").count() == 0
    shoot(page, "login-locked")
