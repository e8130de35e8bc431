"""Debian's chromium under Playwright, as every browser test opens it (the `browser` fixture in tests/conftest.py),
and the control room's sign-in.

A module that imports this is skipped when Playwright is not installed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from integration.test_kendali_web import PASSWORD

sync_api = pytest.importorskip("playwright.sync_api")

LAPTOP = {"width": 1366, "height": 768}  # the office laptop the control room is made for
PHONE = {"width": 390, "height": 844}


@contextmanager
def chromium(*args: str) -> Iterator:
    """A headless /usr/bin/chromium (a browser download is impossible here), closed on the way out."""
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", *args])
        try:
            yield b
        finally:
            b.close()


def log_in(page, url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(url + "/masuk")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("form button[type=submit]")


def page_as(browser, url: str, username: str, **context):
    """A laptop-sized page of a new context (its own cookies), signed in as `username` on the dashboard."""
    page = browser.new_context(viewport=LAPTOP, device_scale_factor=1, **context).new_page()
    log_in(page, url, username)
    page.wait_for_url(url + "/")
    return page


def shoot_both(page, out, name: str) -> None:
    """Screenshots of the page at the laptop's and the phone's width into `out`; at the phone's width nothing
    may stick out sideways."""
    out.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(LAPTOP)
    page.screenshot(path=str(out / f"{name}-1366.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(out / f"{name}-390.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
    page.set_viewport_size(LAPTOP)
