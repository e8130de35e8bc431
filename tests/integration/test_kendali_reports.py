"""Reports in the browser: Debian's chromium (Playwright) against the real control room, reading an engine's
real log (integration.test_reports.build_log, whose figures are counted by hand there). The page's tables, the
CSV and the PDF (WeasyPrint, read back with pdftotext) carry the same figures as `antrian report`, and a
koordinator's carry its own agency's rows only. Screenshots at 1366x768 go to OUTPUT / "kendali-reports"."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess

import pytest

from broker.access.staff import StaffStore
from broker.reports.build import KINDS
from broker.web.kendali.server import KendaliTier
from broker.web.limits import WebLimits
from conftest import OUTPUT, MosquittoBroker, free_port
from integration.test_kendali_web import PASSWORD, USERS, Browserless
from integration.test_reports import build_log

sync_api = pytest.importorskip("playwright.sync_api")
from integration import chromium  # noqa: E402  (after the skip)
from integration.chromium import LAPTOP  # noqa: E402

OUT = OUTPUT / "kendali-reports"
MARCH = "dari=2026-03-02&sampai=2026-03-03"


@pytest.fixture
def office(small_config, tmp_path):
    """The control room on a data folder holding Monday's and Tuesday's log (no engine needed for reports)."""
    data = tmp_path / "data"
    build_log(small_config, data)
    broker = MosquittoBroker(tmp_path).start()
    store = StaffStore(data)
    for name, role, agency in USERS:
        store.add(name, role, PASSWORD, agency=agency)
    tier = KendaliTier(f"127.0.0.1:{free_port()}", small_config, broker.url, data,
                       limits=WebLimits(rate_limit="")).start()
    yield tier
    tier.stop()
    broker.stop()


def page_as(browser, url: str, username: str):
    return chromium.page_as(browser, url, username, accept_downloads=True)


def table(page, nth: int = 0) -> dict[str, list[str]]:
    rows = page.locator("#report table.report-table").nth(nth).locator("tbody tr")
    cells = [rows.nth(i).locator("td").all_inner_texts() for i in range(rows.count())]
    return {r[0]: r[1:] for r in cells}


def download(page, selector: str) -> bytes:
    with page.expect_download() as info:
        page.click(selector)
    path = info.value.path()
    return open(path, "rb").read()


def pdf_text(data: bytes, tmp_path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True,
                          timeout=60).stdout


def test_visitors_in_the_browser_and_as_csv_and_pdf(office, browser, tmp_path):
    page = page_as(browser, office.url, "admin")
    page.goto(office.url + "/laporan")
    page.select_option("#jenis", "visitors")  # the period pickers, as a person uses them
    page.fill("#dari", "2026-03-02")
    page.fill("#sampai", "2026-03-03")
    page.select_option("#menurut", "agency")
    page.click("#report-form button[type=submit]")
    page.wait_for_selector("#report")
    assert {k: v[-1] for k, v in table(page).items()} == {"Dindukcapil": "5", "Bank Jateng": "1", "Jumlah": "6"}
    assert page.locator("#report figure.chart svg").count() >= 1
    OUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUT / "visitors-1366.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(OUT / "visitors-390.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size(LAPTOP)

    rows = list(csv.reader(io.StringIO(download(page, "#csv").decode("utf-8-sig"))))
    assert {r[0]: r[-1] for r in rows[1:]} == {"Dindukcapil": "5", "Bank Jateng": "1", "Jumlah": "6"}
    pdf = download(page, "#pdf")
    assert pdf.startswith(b"%PDF")
    words = pdf_text(pdf, tmp_path)
    assert "Dindukcapil" in words and "Bank Jateng" in words
    assert next(line.split()[-1] for line in words.splitlines() if line.strip().startswith("Jumlah")) == "6"
    downloads = [e for e in office.store.audit_entries() if e.action == "report_download"]
    assert [e.detail.split()[0] for e in downloads] == ["pdf", "csv"]


def test_every_kind_shows_and_a_koordinator_sees_its_own_agency_only(office, browser):
    admin = page_as(browser, office.url, "admin")
    for kind in KINDS:
        response = admin.goto(f"{office.url}/laporan?jenis={kind}&{MARCH}")
        assert response.status == 200, kind
        assert admin.locator("#report table.report-table").count() >= 1, kind
        admin.screenshot(path=str(OUT / f"{kind}-admin-1366.png"), full_page=True)
    admin.goto(f"{office.url}/laporan?jenis=staffing&{MARCH}")
    assert "5" in table(admin) and "4K-10" in table(admin)

    siti = page_as(browser, office.url, "siti")  # koordinator of dukcapil
    siti.goto(f"{office.url}/laporan?jenis=visitors&menurut=service&{MARCH}")
    assert "Dinas Kependudukan" in siti.inner_text("#scope")
    assert {k: v[-1] for k, v in table(siti).items()} == {"A KTP Elektronik": "4", "B Kartu Keluarga": "1",
                                                           "Jumlah": "5"}
    siti.screenshot(path=str(OUT / "visitors-koordinator-1366.png"), full_page=True)
    rows = list(csv.reader(io.StringIO(download(siti, "#csv").decode("utf-8-sig"))))
    assert "K Kredit" not in {r[0] for r in rows} and rows[-1][-1] == "5"
    for kind in KINDS:
        siti.goto(f"{office.url}/laporan?jenis={kind}&{MARCH}")
        text = siti.inner_text("#report")
        assert "Kredit" not in text and "Bank Jateng" not in text and "Loket 5" not in text, kind
        assert "Paspor" not in text and "4K-10" not in text, kind
    siti.goto(f"{office.url}/laporan?jenis=staffing&{MARCH}")
    assert set(table(siti)) - {"Jumlah"} <= {"1", "2", "Dindukcapil", "Dinas Kependudukan dan Pencatatan Sipil"}
    siti.screenshot(path=str(OUT / "staffing-koordinator-1366.png"), full_page=True)

    kepala = page_as(browser, office.url, "kepala")  # pimpinan: everything, read-only
    kepala.goto(f"{office.url}/laporan?jenis=visitors&menurut=agency&{MARCH}")
    assert table(kepala)["Jumlah"][-1] == "6"


def test_a_bad_period_is_said_not_crashed(office):
    admin = Browserless(office.url)
    admin.login("admin")
    status, _, body = admin.go("GET", "/laporan?jenis=visitors&dari=2026-13-45")
    assert status == 400 and "2026-13-45" in body and "2026-03-31" in body
    status, _, body = admin.go("GET", "/laporan?jenis=visitors&dari=2026-03-03&sampai=2026-03-02")
    assert status == 400 and "sebelum" in body
    status, _, _ = admin.go("GET", "/laporan?jenis=tidakada&format=exe")
    assert status == 200  # an unknown kind is the default one, an unknown format the page
    anonymous = Browserless(office.url)
    status, headers, _ = anonymous.go("GET", f"/laporan?jenis=visitors&{MARCH}&format=csv")
    assert status == 303 and headers["location"].endswith("/masuk")
