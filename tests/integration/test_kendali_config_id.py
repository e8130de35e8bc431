"""The control room's config editor says the checker's problems beside their fields in the page's language:
Bahasa Indonesia first, English after the toggle. Debian's chromium against the real control room, engine
and Mosquitto (the hall of test_kendali_config). The screenshot goes to OUTPUT / "checkid"."""

from __future__ import annotations

import pytest

from conftest import OUTPUT, SMALL_SITE
from integration.test_kendali_config import hall  # noqa: F401  (the fixture)

sync_api = pytest.importorskip("playwright.sync_api")
from integration.chromium import page_as  # noqa: E402  (after the skip)

OUT = OUTPUT / "checkid"


def save_broken_quota(page, url: str) -> None:
    page.goto(url)
    page.fill("#field-quota input", "banyak")
    page.fill("#field-hours input", "15:00-08:00")
    page.click("#save")
    page.wait_for_selector("#save-sentence")


def test_a_broken_quota_is_said_in_indonesian_beside_its_field_and_in_english_after_the_toggle(hall, browser):  # noqa: F811
    page = page_as(browser, hall.url, "admin")
    save_broken_quota(page, hall.url + "/konfigurasi/services/P")
    assert page.get_attribute("html", "lang") == "id"
    quota = page.locator("#field-quota .field-problem")
    assert quota.count() == 1
    assert quota.inner_text() == "harus berupa bilangan bulat, bukan 'banyak'"
    hours = page.locator("#field-hours .field-problem").inner_text()
    assert hours == "'15:00-08:00' berakhir sebelum dimulai"
    body = page.inner_text("main") if page.locator("main").count() else page.inner_text("body")
    assert "must be" not in body and "ends before" not in body, "no English on the Indonesian page"
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / "service-quota-id-1366.png"), full_page=True)

    save_broken_quota(page, hall.url + "/konfigurasi/services/P?lang=en")
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator("#field-quota .field-problem").inner_text() == "must be a whole number, not 'banyak'"
    assert page.locator("#field-hours .field-problem").inner_text() == "'15:00-08:00' ends before it starts"
    page.screenshot(path=str(OUT / "service-quota-en-1366.png"), full_page=True)
    assert hall.path.read_text() == SMALL_SITE, "a config that fails the check never replaces the good one"
