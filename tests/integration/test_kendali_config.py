"""Configuration in the browser, end to end: Debian's chromium (Playwright) against the real control room,
engine and Mosquitto, with the site config in a real file. A save goes through `antrian config check`'s
checker, becomes a version, and reaches the running engine (and through its retained state/config, every
kiosk) without a restart and without losing the queue; a broken one, or one that drops a service people
wait for, is refused and the config in force stays. Screenshots at 1366x768 go to OUTPUT / "kendali-config"."""

from __future__ import annotations

import pytest

from broker.access.staff import StaffStore
from broker.mqtt.client import EngineClient, StateMirror
from broker.site.config import load_config
from broker.site.versions import ConfigVersions
from broker.web.kendali.server import KendaliTier
from broker.web.limits import WebLimits
from conftest import OUTPUT, SMALL_SITE, MosquittoBroker, free_port, start_engine
from integration.test_kendali_web import PASSWORD, USERS, Browserless, wait_until

sync_api = pytest.importorskip("playwright.sync_api")
from integration.chromium import LAPTOP, PHONE, page_as  # noqa: E402  (after the skip)

OUT = OUTPUT / "kendali-config"


@pytest.fixture
def hall(tmp_path):
    """Mosquitto, the engine on the small site read from a file, staff accounts and the control room."""
    path = tmp_path / "site.toml"
    path.write_text(SMALL_SITE, encoding="utf-8")
    config = load_config(path)
    broker = MosquittoBroker(tmp_path).start()
    data = tmp_path / "data"
    service, stop_engine = start_engine(config, broker.url, data)
    store = StaffStore(data)
    for name, role, agency in USERS:
        store.add(name, role, PASSWORD, agency=agency)
    tier = KendaliTier(f"127.0.0.1:{free_port()}", config, broker.url, data, limits=WebLimits(rate_limit="")).start()
    client = EngineClient(broker.url, config.site.id, name="test-kconfig-client").start()
    mirror = StateMirror(broker.url, config.site.id, name="test-kconfig-kiosk").start(wait=10)  # as a kiosk sees it
    assert mirror.wait_complete(10)
    assert wait_until(lambda: tier.mirror.complete(), what="the control room's mirror")

    class Hall:
        pass

    h = Hall()
    h.url, h.tier, h.client, h.mirror, h.service, h.path, h.data = tier.url, tier, client, mirror, service, path, data
    yield h
    mirror.stop()
    client.stop()
    tier.stop()
    stop_engine()
    broker.stop()


def shoot(page, name: str) -> None:
    """The laptop's width, and a phone's: nothing may stick out sideways there."""
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / f"{name}-1366.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(OUT / f"{name}-390.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
    page.set_viewport_size(LAPTOP)


def kiosk_service(mirror: StateMirror, code: str) -> dict | None:
    with mirror.lock:
        config = mirror.config or {}
    return next((s for s in config.get("services", []) if s.get("code") == code), None)


def waiting(mirror: StateMirror, code: str) -> int:
    with mirror.lock:
        return int((mirror.services.get(code) or {}).get("waiting") or 0)


def test_a_quota_saved_in_the_browser_reaches_the_kiosk_while_tickets_wait(hall, browser):
    for _ in range(3):
        assert hall.client.issue("k1", "A")["ok"]
    wait_until(lambda: waiting(hall.mirror, "A") == 3, what="three waiting at A")
    engine_before, started = hall.service.engine, hall.service.started_at
    assert kiosk_service(hall.mirror, "A")["quota"] is None

    page = page_as(browser, hall.url, "admin")
    page.goto(hall.url + "/konfigurasi")
    shoot(page, "settings")
    page.click("#services-A a")
    page.fill("#field-quota input", "40")
    shoot(page, "service-edit")
    page.click("#save")
    page.wait_for_selector(".note.ok")
    assert "versi 2" in page.inner_text(".note.ok")

    wait_until(lambda: (kiosk_service(hall.mirror, "A") or {}).get("quota") == 40, what="the kiosk's quota 40")
    assert waiting(hall.mirror, "A") == 3  # nobody lost their place
    with hall.mirror.lock:
        assert hall.mirror.services["A"]["quota_left"] == 37
    assert hall.service.started_at == started and hall.service.engine is not engine_before  # rebuilt, not restarted
    assert load_config(hall.path).services["A"].quota == 40  # the engine's file: it starts with it tomorrow
    assert "# tests issue faster than any visitor" in hall.path.read_text()  # the technician's comments stay
    assert hall.client.counter("1", "next")["ticket"]["number"] == "A001"  # the queue goes on where it was

    versions = ConfigVersions(hall.data)
    assert [v.number for v in versions.history()] == [2, 1]
    assert versions.get(1).text == SMALL_SITE and "quota = 40" in versions.get(2).text
    page.goto(hall.url + "/konfigurasi/versi")
    assert "+quota = 40" in page.inner_text("#diff")
    shoot(page, "versions")

    # roll back to version 1: the kiosk's quota goes back to none, as a new version 3
    page.click("#rollback-1")
    page.wait_for_selector(".note.ok")
    wait_until(lambda: (kiosk_service(hall.mirror, "A") or {"quota": 0}).get("quota") is None,
               what="the quota rolled back")
    assert [v.number for v in versions.history()] == [3, 2, 1] and versions.get(3).text == SMALL_SITE
    assert hall.path.read_text() == SMALL_SITE
    assert waiting(hall.mirror, "A") == 2
    shoot(page, "rolled-back")
    actions = [e.action for e in hall.tier.store.audit_entries()]
    assert "config_rollback" in actions and "config_services" in actions


def test_a_broken_config_is_refused_beside_its_field_and_the_old_one_stays(hall, browser):
    page = page_as(browser, hall.url, "admin")
    page.goto(hall.url + "/konfigurasi/services/P")
    page.fill("#field-hours input", "25:00-26:00")
    page.fill("#field-quota input", "banyak")
    page.click("#save")
    page.wait_for_selector("#save-sentence")
    assert page.locator("#field-hours .field-problem").count() == 1
    assert page.locator("#field-quota .field-problem").count() == 1
    assert page.input_value("#field-quota input") == "banyak"  # what was typed stays, to be corrected
    shoot(page, "service-refused")
    assert hall.path.read_text() == SMALL_SITE
    assert ConfigVersions(hall.data).latest() is None
    assert kiosk_service(hall.mirror, "P")["quota"] == 3
    assert hall.service.config.services["P"].quota == 3


def test_a_service_people_wait_for_cannot_be_removed(hall, browser):
    assert hall.client.issue("k1", "K")["ok"]
    wait_until(lambda: waiting(hall.mirror, "K") == 1, what="one waiting at K")
    page = page_as(browser, hall.url, "admin")
    page.goto(hall.url + "/konfigurasi/counters/2")
    page.click("#remove")  # a counter nobody stands at: removed, and its retained state cleared
    page.wait_for_selector(".note.ok")
    wait_until(lambda: "2" not in hall.mirror.counters, what="counter 2's retained state gone")
    assert "2" not in load_config(hall.path).counters
    # the service K: counter 5 still names it, says the checker
    page.goto(hall.url + "/konfigurasi/services/K")
    page.click("#remove")
    page.wait_for_selector("#save-sentence")
    assert "counters[3] (5).services" in page.inner_text("main")
    assert "K" in hall.service.config.services and waiting(hall.mirror, "K") == 1
    shoot(page, "remove-refused")


def test_the_engine_refuses_to_drop_a_waited_for_service(hall):
    """The engine's own check, for a config that passes the checker (service and its counter both gone)."""
    from broker.site.versions import candidate_path, sha256

    assert hall.client.issue("k1", "K")["ok"]
    text = SMALL_SITE.replace('[[services]]\ncode = "K"\nname = "Kredit"\nagency = "bank"\n', "")
    text = text[:text.index('[[counters]]\nid = "5"')]
    assert "K" not in load_config_text(text).services
    candidate_path(hall.path).write_text(text)
    topics = hall.client.topics
    reply = hall.client.request(topics.supervisor_request("kendali"), topics.supervisor_reply("kendali"),
                                {"action": "reload_config", "sha256": sha256(text), "by": "test"})
    assert not reply["ok"] and reply["error"]["code"] == "config_refused"
    assert "1 orang masih menunggu" in reply["error"]["message"]
    assert hall.path.read_text() == SMALL_SITE and "K" in hall.service.config.services
    # a text changed after it was checked is refused too
    reply = hall.client.request(topics.supervisor_request("kendali"), topics.supervisor_reply("kendali"),
                                {"action": "reload_config", "sha256": "0" * 64})
    assert not reply["ok"] and "changed since it was checked" in reply["error"]["message_en"]


def test_the_engines_own_config_problems_come_in_both_languages(hall):
    """A broken candidate sent straight to the engine (a control room of another version would): each problem
    is said in Bahasa Indonesia under `problems` and in English under `problems_en`, line for line."""
    from broker.site.versions import candidate_path, sha256

    text = SMALL_SITE.replace('timezone = "Asia/Jakarta"', 'timezone = "Asia/Atlantis"')
    assert text != SMALL_SITE
    candidate_path(hall.path).write_text(text)
    topics = hall.client.topics
    reply = hall.client.request(topics.supervisor_request("kendali"), topics.supervisor_reply("kendali"),
                                {"action": "reload_config", "sha256": sha256(text), "by": "test"})
    assert not reply["ok"] and reply["error"]["code"] == "config_refused"
    assert len(reply["problems"]) == len(reply["problems_en"]) >= 1
    assert any("zona waktu" in p.lower() for p in reply["problems"]), reply["problems"]
    assert any("timezone" in p.lower() for p in reply["problems_en"]), reply["problems_en"]
    assert reply["problems"] != reply["problems_en"]
    assert hall.path.read_text() == SMALL_SITE


def load_config_text(text: str):
    from broker.site.config import parse_config

    return parse_config(text)


def test_a_koordinator_is_refused_another_agencys_service(hall, browser):
    page = page_as(browser, hall.url, "siti")
    page.goto(hall.url + "/konfigurasi")
    assert page.locator("#services-A").count() == 1 and page.locator("#services-P").count() == 0
    assert page.locator("#table-agencies").count() == 0 and page.locator("#versions-link").count() == 0
    shoot(page, "settings-koordinator")
    response = page.goto(hall.url + "/konfigurasi/services/P")
    assert response.status == 403
    # the form post a hostile browser would make, with a valid CSRF token of siti's own session
    siti = Browserless(hall.url)
    siti.login("siti")
    token = siti.token("/konfigurasi/services/A")
    status, _, _ = siti.go("POST", "/konfigurasi/services/P", {"csrf_token": token, "base": "x", "quota": "1"})
    assert status == 403
    status, _, _ = siti.go("POST", "/konfigurasi/services/P/hapus", {"csrf_token": token, "base": "x"})
    assert status == 403
    status, _, _ = siti.go("POST", "/konfigurasi/versi/1/kembalikan", {"csrf_token": token, "base": "x"})
    assert status == 403
    # its own service it may change; a counter it edits cannot take another agency's service
    page.goto(hall.url + "/konfigurasi/counters/1")
    page.fill("#field-services input", "A, B, P")
    page.click("#save")
    page.wait_for_selector("#field-services .field-problem")
    assert "P" in page.inner_text("#field-services .field-problem")
    page.goto(hall.url + "/konfigurasi/services/B")
    page.fill("#field-quota input", "25")
    page.click("#save")
    page.wait_for_selector(".note.ok")
    wait_until(lambda: (kiosk_service(hall.mirror, "B") or {}).get("quota") == 25, what="B's quota 25")
    assert hall.path.read_text().count("quota") == SMALL_SITE.count("quota") + 1
    refused = [e for e in hall.tier.store.audit_entries() if not e.ok]
    assert any(e.target == "P" and e.actor == "siti" for e in refused)


def test_pimpinan_only_looks(hall, browser):
    page = page_as(browser, hall.url, "kepala")
    page.goto(hall.url + "/konfigurasi/services/A")
    assert page.locator("#save").count() == 0
    kepala = Browserless(hall.url)
    kepala.login("kepala")
    token = kepala.token("/konfigurasi")
    status, _, _ = kepala.go("POST", "/konfigurasi/services/A", {"csrf_token": token, "base": "x", "quota": "1"})
    assert status == 403 and hall.path.read_text() == SMALL_SITE


def test_an_officer_a_closure_and_agency_hours_added_in_the_browser(hall, browser):
    from datetime import date

    from broker.core.pin import verify_pin

    page = page_as(browser, hall.url, "admin")
    page.goto(hall.url + "/konfigurasi/officers/baru")
    page.fill("#field-id input", "rina")
    page.fill("#field-name input", "Rina <b>Wati</b>")  # a name is text, never markup
    page.select_option("#field-agency select", "dukcapil")
    page.fill("#field-counters input", "1, 2")
    page.fill("#field-pin input", "12")  # too short: refused beside the field, nothing saved
    page.click("#save")
    page.wait_for_selector("#field-pin .field-problem")
    assert "rina" not in hall.service.config.officers
    page.fill("#field-pin input", "246810")
    page.click("#save")
    page.wait_for_selector(".note.ok")
    wait_until(lambda: "rina" in hall.service.config.officers, what="the engine's new officer")
    officer = hall.service.config.officers["rina"]
    assert officer.name == "Rina <b>Wati</b>" and officer.counters == ("1", "2")
    assert verify_pin("246810", officer.pin_hash) and "246810" not in hall.path.read_text()
    assert page.locator("#field-name b").count() == 0
    with hall.mirror.lock:
        assert any(o["id"] == "rina" for o in hall.mirror.config["officers"])  # the counters' list of officers
    page.goto(hall.url + "/konfigurasi/officers/rina")
    page.fill("#field-pin input", "135790")  # a new PIN; the rest stays
    page.click("#save")
    page.wait_for_selector(".note.ok")
    wait_until(lambda: verify_pin("135790", hall.service.config.officers["rina"].pin_hash), what="the new PIN")

    page.goto(hall.url + "/konfigurasi/closures/baru")
    page.fill("#field-date input", "2026-12-24")
    page.fill("#field-reason input", "Kerja bakti gedung")
    page.click("#save")
    page.wait_for_selector(".note.ok")
    wait_until(lambda: hall.service.config.closure_on(date(2026, 12, 24)) is not None, what="the closure")
    assert hall.service.config.closure_on(date(2026, 12, 24)).reason == "Kerja bakti gedung"

    page.goto(hall.url + "/konfigurasi/agencies/imigrasi")
    page.fill("#field-days input", "tue, thu, sabtu")
    page.fill("#field-hours input", "08:00-12:00")
    page.click("#save")
    page.wait_for_selector(".note.ok")
    wait_until(lambda: 5 in hall.service.config.agencies["imigrasi"].schedule.days, what="Saturday at imigrasi")
    page.goto(hall.url + "/konfigurasi?lang=en")
    assert page.inner_text("#table-closures h2") == "Closures"
    shoot(page, "settings-en")
    assert [v.number for v in ConfigVersions(hall.data).history()] == [5, 4, 3, 2, 1]
