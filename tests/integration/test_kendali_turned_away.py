""""Permintaan tidak terlayani" on the control room's live dashboard, against Mosquitto, the engine and
`antrian kendali`'s server in headless chromium: a kiosk asks for a passport number past the day's quota
(3) and the dashboard shows the refusal, per service and in the agency's figures, without a reload; the
figure equals the engine's `demand_turned_away` events in its log."""

from __future__ import annotations

import json
import sqlite3

import pytest

from conftest import OUTPUT

sync_api = pytest.importorskip("playwright.sync_api")
from integration.test_kendali_browser import shoot  # noqa: E402  (after the skip)
from integration.test_kendali_live import dashboard, hall, same_document  # noqa: E402,F401  (hall: a fixture)


def test_a_refused_ticket_shows_as_turned_away_on_the_dashboard_and_in_the_log(hall, browser):  # noqa: F811  (hall)
    errors: list[str] = []
    page = dashboard(browser, hall, "admin", errors)
    assert page.locator("#service-P").get_attribute("data-turned-away") == "0"
    for _ in range(3):
        assert hall.client.issue("k1", "P")["ok"]
    refused = [hall.client.issue("k1", "P") for _ in range(2)]
    assert [r.get("reason") for r in refused] == ["quota", "quota"], refused
    page.wait_for_selector("#service-P[data-turned-away='2']")
    assert "kuota habis 2" in page.locator("#service-P .turned-away").inner_text()
    assert page.locator("#summary-imigrasi [data-figure='turned_away']").inner_text() == "2"
    assert page.locator("#service-A").get_attribute("data-turned-away") == "0"
    assert same_document(page), "the page reloaded"
    db = sqlite3.connect(f"file:{hall.data / 'antrian.sqlite3'}?mode=ro", uri=True)
    logged = [json.loads(d) for (d,) in db.execute("SELECT data FROM events WHERE type = 'demand_turned_away'")]
    db.close()
    assert [(e["service"], e["reason"], e["channel"]) for e in logged] == [("P", "quota", "kiosk")] * 2
    shoot(page, "live-turned-away")
    assert not errors, errors
    assert (OUTPUT / "kendali" / "live-turned-away-1366.png").is_file()
