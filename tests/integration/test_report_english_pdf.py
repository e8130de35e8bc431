"""`antrian report ... --lang en`: the real command writes an English A4 PDF (read back with pdftotext and
drawn as a picture with pdftoppm into $ANTRIAN_TEST_OUTPUT/reports-en/), and a site whose `language`
is "en" gets English reports without the option."""

from __future__ import annotations

import re
import shutil
import subprocess

from conftest import OUTPUT, antrian_cli
from unit.test_counter_officers import officers_toml
from unit.test_report_english import english_log

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"


def test_an_english_pdf_has_english_words_numbers_and_dates(tmp_path):
    english_log(tmp_path / "data")
    config = tmp_path / "site.toml"
    config.write_text(officers_toml(), encoding="utf-8")
    folder = OUTPUT / "reports-en"
    folder.mkdir(parents=True, exist_ok=True)
    pdf = folder / "visitors.pdf"
    done = antrian_cli("report", "visitors", "--lang", "en", "--data", str(tmp_path / "data"), "--config", str(config),
                       "--from", "2026-03-01", "--to", "2026-03-31", "--format", "pdf", "--out", str(pdf),
                       "--sign-name", "Drs. Contoh Nama", "--sign-nip", "197001012000031001",
                       "--sign-title", "Head of DPMPTSP", "--sign-place", "Rembang")
    assert done.returncode == 0, done.stderr
    assert "Visitors per agency" in done.stderr  # the title it names, in English too
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "Visitors per agency" in text and "Period 1 March 2026 - 31 March 2026" in text
    assert "MPP Uji received 1,240 visitors on 2 service days" in " ".join(text.split())
    assert re.search(r"Total\s+1,240", text) and "Page 1 of 1" in text and "NIP 197001012000031001" in text
    assert re.search(rf"Rembang, \d{{1,2}} ({MONTHS}) \d{{4}}", text)  # the day it is signed, in English
    for word in ("Pengunjung", "Periode", "Halaman", "Jumlah", "Maret", "Selama", "Instansi", "Desember"):
        assert word not in text, word
    picture = folder / "visitors"
    subprocess.run([shutil.which("pdftoppm") or "pdftoppm", "-r", "80", "-png", "-singlefile", str(pdf),
                    str(picture)], check=True)
    assert picture.with_suffix(".png").stat().st_size > 10_000


def test_the_sites_language_is_the_default_and_lang_chooses_another(tmp_path):
    english_log(tmp_path / "data")
    config = tmp_path / "site.toml"
    config.write_text(officers_toml().replace('timezone = "Asia/Jakarta"\n',
                                              'timezone = "Asia/Jakarta"\nlanguage = "en"\n'), encoding="utf-8")
    common = ["report", "times", "--data", str(tmp_path / "data"), "--config", str(config), "--from", "2026-03-01",
              "--to", "2026-03-31"]
    english = antrian_cli(*common)
    assert english.returncode == 0, english.stderr
    assert "Waiting and service times" in english.stdout and "Per counter" in english.stdout
    indonesian = antrian_cli(*common, "--lang", "id")
    assert "Waktu tunggu dan waktu layanan" in indonesian.stdout and "Per loket" in indonesian.stdout
    wrong = antrian_cli(*common, "--lang", "fr")
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr


def test_the_control_rooms_reports_page_builds_its_report_in_the_pages_language(small_config, tmp_path):
    from broker.access.staff import StaffStore
    from broker.web.kendali.server import KendaliTier
    from broker.web.limits import WebLimits
    from conftest import MosquittoBroker, free_port
    from integration.test_kendali_web import PASSWORD, USERS, Browserless
    from integration.test_reports import build_log

    data = tmp_path / "data"
    build_log(small_config, data)
    broker = MosquittoBroker(tmp_path).start()
    store = StaffStore(data)
    for name, role, agency in USERS:
        store.add(name, role, PASSWORD, agency=agency)
    tier = KendaliTier(f"127.0.0.1:{free_port()}", small_config, broker.url, data,
                       limits=WebLimits(rate_limit="")).start()
    try:
        admin = Browserless(tier.url)
        admin.login("admin")
        asked = "/laporan?jenis=visitors&dari=2026-03-02&sampai=2026-03-03&menurut=agency"
        status, _, body = admin.go("GET", asked + "&lang=en")
        assert status == 200 and "Visitors per agency" in body
        assert "received 6 visitors on 2 service days" in body and "Pengunjung per instansi" not in body
        status, _, sheet = admin.go("GET", asked + "&format=csv")  # the language stays with the session
        assert status == 200 and sheet.lstrip("\ufeff").splitlines()[0] == "Agency,Kind,Visitors"
        assert sheet.splitlines()[-1] == "Total,,6"
        status, _, body = admin.go("GET", asked.replace("visitors", "times") + "&lang=id")
        assert status == 200 and "Waktu tunggu dan waktu layanan" in body and "Per loket" in body
    finally:
        tier.stop()
        broker.stop()
