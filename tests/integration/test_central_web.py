"""The province's control room (`antrian central web`) against a real PostgreSQL with four MPPs ingested: who sees
which MPP, the CSV is the table, a form from another site is refused, the database away is a page in words; and the
pages in Debian's chromium at an office laptop's and a phone's width (screenshots in conftest.OUTPUT / "central")."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from datetime import date, timedelta
from html.parser import HTMLParser

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from antrian_assets import ROOT as ASSETS
from broker.access.staff import USER_ATTEMPTS, StaffStore
from broker.central import CentralStore
from broker.central.synthetic import profile, site_days
from broker.central.views import agency_trend
from broker.sim.simulate import simulate
from broker.sim.traffic import load_traffic
from broker.site.config import load_config
from broker.web.central.server import CentralTier
from broker.web.limits import WebLimits
from conftest import OUTPUT, free_port
from integration.test_kendali_web import PASSWORD, Browserless

FIRST = date(2025, 3, 3)  # a Monday
DAYS = 21
LAST = FIRST + timedelta(days=DAYS - 1)
PERIOD = f"dari={FIRST}&sampai={LAST}"
SITES = {  # site id: (name, visitors a day, counters)
    "62.01-kobar": ("MPP Kabupaten Kotawaringin Barat", 60, 8),
    "62.02-kotim": ("MPP Kabupaten Kotawaringin Timur", 90, 10),
    "62.09-lamandau": ("MPP Kabupaten Lamandau", 25, 4),
    "33.17-rembang": ("MPP Kabupaten Rembang", 45, 6),
}
USERS = (("nasional", "pimpinan", ""), ("kalteng", "koordinator", "62"), ("kobar", "koordinator", "62.01"))
OUT = OUTPUT / "central"


@pytest.fixture(scope="module")
def central_db(postgres):
    """A database of its own on the session's server (the store's tests use theirs), four MPPs in it."""
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS central_web")
        conn.execute("CREATE DATABASE central_web")
    conninfo = make_conninfo(postgres, dbname="central_web")
    with CentralStore(conninfo) as store:
        store.migrate()
        for i, (site_id, (name, visitors, counters)) in enumerate(SITES.items()):
            store.register_profile(site_id, profile(name, counters=counters))
            events = list(site_days(FIRST, DAYS, visitors_per_day=visitors, counters=counters, seed=i + 1))
            for start in range(0, len(events), 2000):
                store.ingest(site_id, events[start:start + 2000])
    return conninfo


@pytest.fixture(scope="module")
def web(central_db, tmp_path_factory):
    data = tmp_path_factory.mktemp("central-data")
    store = StaffStore(data)
    for name, role, scope in USERS:
        store.add(name, role, PASSWORD, agency=scope)
    tier = CentralTier(f"127.0.0.1:{free_port()}", central_db, data, limits=WebLimits(rate_limit=""), login_limit="").start()
    yield tier
    tier.stop()


class Cells(HTMLParser):
    """Each table's rows as the data-value of their cells, and the texts of the cells, by table id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.texts: dict[str, list[list[str]]] = {}
        self.heads: dict[str, list[str]] = {}
        self._table = ""
        self._cell: list[str] | None = None
        self._in_head = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id"):
            self._table = a["id"]
            self.tables[self._table], self.texts[self._table], self.heads[self._table] = [], [], []
        elif self._table and tag == "thead":
            self._in_head = True
        elif self._table and tag == "tr" and not self._in_head:
            self.tables[self._table].append([])
            self.texts[self._table].append([])
        elif self._table and tag == "td":
            self.tables[self._table][-1].append(a.get("data-value") or "")
            self._cell = []
        elif self._table and tag == "th":
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = ""
        elif tag == "thead":
            self._in_head = False
        elif tag in ("td", "th") and self._cell is not None and self._table:
            text = "".join(self._cell).strip()
            (self.heads[self._table] if tag == "th" else self.texts[self._table][-1]).append(text)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def cells(body: str) -> Cells:
    parser = Cells()
    parser.feed(body)
    return parser


def signed_in(web, username: str) -> Browserless:
    b = Browserless(web.url)
    status, headers, _ = b.go("POST", "/masuk", {"csrf_token": b_token(b), "username": username, "password": PASSWORD})
    assert status == 303 and headers["location"].endswith("/"), status
    return b


def b_token(b: Browserless, path: str = "/masuk") -> str:
    _, _, text = b.go("GET", path)
    found = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert found, text[:300]
    return found.group(1)


def league_sites(b: Browserless, query: str = PERIOD) -> list[str]:
    status, _, body = b.go("GET", f"/?{query}")
    assert status == 200, body[:500]
    return re.findall(r'href="/mpp/([0-9.]+-[a-z]+)\?', body)


def test_headers_and_a_login_posted_without_this_pages_token(web):
    b = Browserless(web.url)
    status, headers, body = b.go("GET", "/masuk")
    assert status == 200 and "Masuk ke Ruang Kendali Provinsi" in body
    assert "default-src 'none'" in headers["content-security-policy"] and headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store"
    cookie = next(c for c in b.set_cookie if c.startswith("antrian_central="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert not re.search(r"(src|href)=\"(https?:)?//", body)  # nothing from another site
    for form in ({"username": "nasional", "password": PASSWORD},  # a form on another site has no token of ours
                 {"csrf_token": "forged", "username": "nasional", "password": PASSWORD}):
        status, _, body = b.go("POST", "/masuk", form, headers={"Origin": "http://evil.example"})
        assert status == 400 and "Formulir ini kedaluwarsa" in body
    status, headers, _ = b.go("GET", "/")
    assert status == 303 and headers["location"].endswith("/masuk")  # not logged in
    assert [e.action for e in web.store.audit_entries()][:2] == ["csrf_refused", "csrf_refused"]
    for path in ("/static/web.css", "/static/kendali/kendali.css", "/static/central/central.css"):
        assert b.go("GET", path)[0] == 200, path
    status, _, body = signed_in(web, "nasional").go("GET", "/?lang=en&" + PERIOD)
    assert status == 200 and "League of MPPs" in body and "Visitors per counter-hour" in body
    assert "3 March 2025 - 23 March 2025" in body and "Maret" not in body
    assert re.search(r">1,350<", body) and not re.search(r">1\.350<", body)  # English numbers


def test_each_account_sees_its_scope_only(web):
    everyone = signed_in(web, "nasional")
    assert sorted(league_sites(everyone)) == sorted(SITES)
    status, _, body = everyone.go("GET", "/?" + PERIOD)
    assert 'id="provinces"' in body and "wilayah=33" in body and "wilayah=62" in body  # down to a province
    assert sorted(league_sites(everyone, "wilayah=62&" + PERIOD)) == ["62.01-kobar", "62.02-kotim", "62.09-lamandau"]

    province = signed_in(web, "kalteng")
    assert sorted(league_sites(province)) == ["62.01-kobar", "62.02-kotim", "62.09-lamandau"]
    assert province.go("GET", "/mpp/62.09-lamandau?" + PERIOD)[0] == 200
    for path in ("/mpp/33.17-rembang", "/mpp/33.17-rembang/instansi/disdukcapil", "/?wilayah=33", "/?wilayah=6"):
        status, _, body = province.go("GET", path)
        assert status == 404 and "di luar lingkup akun Anda" in body, path

    own = signed_in(web, "kobar")
    assert league_sites(own) == ["62.01-kobar"]
    assert own.go("GET", "/mpp/62.01-kobar?" + PERIOD)[0] == 200
    assert own.go("GET", "/mpp/62.01-kobar/instansi/disdukcapil?" + PERIOD)[0] == 200
    for path in ("/mpp/62.02-kotim", "/mpp/62.02-kotim?format=csv", "/mpp/62.02-kotim/instansi/disdukcapil",
                 "/mpp/99.99-nowhere", "/?wilayah=62"):
        status, _, body = own.go("GET", path)
        assert status == 404, path
        assert "62.02-kotim" not in body and "Kotawaringin Timur" not in body
    status, _, body = own.go("GET", "/?format=csv&" + PERIOD)
    assert status == 200 and "Kotawaringin Barat" in body and "Timur" not in body and "Lamandau" not in body
    refused = [e for e in web.store.audit_entries() if e.action == "scope_refused"]
    assert {e.target for e in refused if e.actor == "kobar"} == {"62.02-kotim"}  # the unknown site is no refusal


def test_the_csv_is_the_table_and_both_are_the_store(web, central_db):
    b = signed_in(web, "nasional")
    with CentralStore(central_db) as store:
        truth = {r.site_id: r for r in store.league(FIRST, LAST)}
    for sort in ("", "&urut=visitors&arah=naik", "&urut=ikm&arah=turun", "&urut=mpp&arah=naik"):
        status, _, body = b.go("GET", f"/?{PERIOD}{sort}")
        assert status == 200
        page = cells(body)
        shown = page.tables["league-table"]
        status, headers, text = b.go("GET", f"/?{PERIOD}{sort}&format=csv")
        assert status == 200 and headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
        assert rows[0] == [h.rstrip("▲▼") for h in page.heads["league-table"]]  # the same columns, titled the same
        assert rows[1:] == shown  # the same cells in the same order
        heads = rows[0]
        visitors = [int(r[heads.index("Pengunjung")]) for r in rows[1:]]
        names = [r[heads.index("MPP")] for r in rows[1:]]
        for r in rows[1:]:
            site = next(s for s, (name, *_) in SITES.items() if name == r[heads.index("MPP")])
            f = truth[site].figures
            assert int(r[heads.index("Pengunjung")]) == f.visitors > 0
            assert int(r[heads.index("Dilayani")]) == f.served
            assert int(r[heads.index("Tidak terlayani")]) == f.turned_away
            assert r[heads.index("IKM")] == str(f.ikm) and r[heads.index("Mutu")] == f.grade
            assert float(r[heads.index("Pengunjung per jam-loket")]) == round(f.visitors_per_counter_hour, 1)
            assert float(r[heads.index("Rata-rata tunggu (menit)")]) == round(f.avg_wait_s / 60, 1)
            assert float(r[heads.index("% jam buka terisi")]) == f.staffed_share and 50 < f.staffed_share < 100
        if not sort:
            assert visitors == sorted(visitors, reverse=True)  # the league: most visitors first, ranked 1..n
            assert [r[0] for r in rows[1:]] == ["1", "2", "3", "4"]
        elif "visitors" in sort:
            assert visitors == sorted(visitors)
        elif "mpp" in sort:
            assert names == sorted(names, key=str.lower)
        else:
            ikm = [float(r[heads.index("IKM")]) for r in rows[1:]]
            assert ikm == sorted(ikm, reverse=True)


def test_one_mpp_per_week_and_per_agency_add_up(web, central_db):
    b = signed_in(web, "kalteng")
    status, _, body = b.go("GET", "/mpp/62.02-kotim?" + PERIOD)
    assert status == 200 and "<svg" in body and "Pengunjung per minggu" in body
    page = cells(body)
    weeks, agencies = page.tables["week-table"], page.tables["agency-table"]
    with CentralStore(central_db) as store:
        row = next(r for r in store.league(FIRST, LAST) if r.site_id == "62.02-kotim")
        drilled = store.drill("62.02-kotim", FIRST, LAST)
        disdukcapil = agency_trend(store.conn, "62.02-kotim", "disdukcapil", FIRST, LAST)
    v = page.heads["week-table"].index("Pengunjung")
    assert [w[0] for w in weeks] == [str(FIRST + timedelta(weeks=i)) for i in range(3)]
    assert sum(int(w[v]) for w in weeks) == row.figures.visitors
    assert sum(int(a[v]) for a in agencies) == row.figures.visitors
    assert {a[0] for a in agencies} == {d.agency for d in drilled}
    named = {t[0] for t in page.texts["agency-table"]}
    assert "Dinas Kependudukan dan Pencatatan Sipil" in named and "disdukcapil" not in named, "names, not ids"
    share = page.heads["agency-table"].index("% jam buka terisi")
    assert [float(a[share]) for a in agencies] == [d.figures.staffed_share for d in drilled]
    status, _, text = b.go("GET", "/mpp/62.02-kotim?format=csv&" + PERIOD)
    assert list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1:] == weeks
    status, _, text = b.go("GET", "/mpp/62.02-kotim?format=csv&tabel=instansi&" + PERIOD)
    assert list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1:] == agencies

    status, _, body = b.go("GET", "/mpp/62.02-kotim/instansi/disdukcapil?" + PERIOD)
    assert status == 200 and "Instansi Dinas Kependudukan dan Pencatatan Sipil di" in body
    shown = cells(body).tables["week-table"]
    assert [int(w[v]) for w in shown] == [w.figures.visitors for w in disdukcapil]
    assert sum(int(w[v]) for w in shown) == next(d for d in drilled if d.agency == "disdukcapil").figures.visitors
    hours = page.heads["week-table"].index("Jam-loket")
    assert all(float(w[hours]) > 0 for w in shown)  # its counters' signed-in hours, under the agency

    status, _, body = b.go("GET", "/mpp/62.02-kotim?dari=2025-13-01")
    assert status == 400 and "2025-13-01" in body  # a bad date is said, not a traceback
    status, _, body = b.go("GET", f"/?dari={LAST}&sampai={FIRST}")
    assert status == 400 and "Tanggal akhir sebelum tanggal awal" in body
    status, _, body = b.go("GET", "/")  # the last 13 weeks of today: none of the March 2025 figures
    assert status == 200 and "62.01-kobar" in body and "id=\"period\"" in body


def test_the_database_away_is_a_page_in_words_until_it_is_there(tmp_path, postgres):
    port = free_port()  # nothing listens there
    store = StaffStore(tmp_path)
    store.add("nasional", "pimpinan", PASSWORD)
    conninfo = f"host=127.0.0.1 port={port} user=antrian dbname=antrian"
    tier = CentralTier(f"127.0.0.1:{free_port()}", conninfo, tmp_path, limits=WebLimits(rate_limit=""), login_limit="").start()
    try:
        b = signed_in(tier, "nasional")  # the accounts are the central's own folder: logging in works
        for path in ("/", "/mpp/62.01-kobar", "/?format=csv"):
            status, headers, body = b.go("GET", path)
            assert status == 503 and headers["retry-after"] == "5", path
            assert "Basis data pusat belum dapat dihubungi" in body and "Traceback" not in body
    finally:
        tier.stop()
    assert conninfo_to_dict(tier.app.extensions["central"].conninfo)["connect_timeout"] == "5"

    with psycopg.connect(postgres, autocommit=True) as conn:  # a server that is there, a database not yet
        conn.execute("DROP DATABASE IF EXISTS central_later")
    later = make_conninfo(postgres, dbname="central_later")
    tier = CentralTier(f"127.0.0.1:{free_port()}", later, tmp_path, limits=WebLimits(rate_limit=""), login_limit="").start()
    try:
        b = signed_in(tier, "nasional")
        assert b.go("GET", "/")[0] == 503
        with psycopg.connect(postgres, autocommit=True) as conn:
            conn.execute("CREATE DATABASE central_later")
        assert b.go("GET", "/")[0] == 503  # there, without its tables
        with CentralStore(later) as central:
            central.migrate()
            central.register_site("62.08-sukamara", "MPP Kabupaten Sukamara")
        status, _, body = b.go("GET", "/")  # the next request finds it: nothing to restart
        assert status == 200 and "MPP Kabupaten Sukamara" in body
    finally:
        tier.stop()


def test_wrong_passwords_lock_the_account_and_logging_out_ends_the_session(web):
    b = Browserless(web.url)
    for _ in range(USER_ATTEMPTS):
        status, _, _ = b.go("POST", "/masuk", {"csrf_token": b_token(b), "username": "kobar", "password": "salah-salah"})
        assert status == 401
    status, _, body = b.go("POST", "/masuk", {"csrf_token": b_token(b), "username": "kobar", "password": PASSWORD})
    assert status == 429 and "Terlalu banyak percobaan" in body  # even the right password, while locked
    web.store.set_password("kobar", PASSWORD)  # an admin's reset lifts the lock (as the control room's does)
    own = signed_in(web, "kobar")
    kept = dict(own.cookies)
    assert own.go("POST", "/keluar", {"csrf_token": b_token(own, "/?" + PERIOD)})[0] == 303
    stale = Browserless(web.url)
    stale.cookies = kept  # the cookie from before the logout is worth nothing now
    status, headers, _ = stale.go("GET", "/")
    assert status == 303 and headers["location"].endswith("/masuk")


def test_the_cli_makes_scoped_accounts(tmp_path):
    def antrian(*args: str, stdin: str = ""):
        return subprocess.run([sys.executable, "-m", "broker.cli", "central", *args, "--data", str(tmp_path)],
                              input=stdin, capture_output=True, text=True, timeout=60)

    assert antrian("user", "add", "kalteng", "--role", "koordinator", "--scope", "62", stdin=PASSWORD + "\n").returncode == 0
    assert antrian("user", "add", "semua", "--role", "admin", stdin=PASSWORD + "\n").returncode == 0
    for bad in (("--role", "koordinator"), ("--role", "koordinator", "--scope", "kalteng"),
                ("--role", "admin", "--scope", "62")):
        done = antrian("user", "add", "salah", *bad, stdin=PASSWORD + "\n")
        assert done.returncode != 0 and "scope" in done.stderr and "Traceback" not in done.stderr
    listed = antrian("user", "list").stdout.split("\n")
    assert [line.split() for line in listed if line] == [["kalteng", "koordinator", "62"], ["semua", "admin", "*"]]


def test_the_cli_loads_a_sites_log_once_and_serves_it(tmp_path, postgres):
    """`antrian central load` a simulated day of MPP Rembang (twice: nothing more the second time), then
    `antrian central web` as its own process shows it."""
    config = load_config(None)  # the sample MPP, region_code 33.17
    data = tmp_path / "rembang"
    summary = simulate(config, load_traffic(config, ASSETS / "sample-traffic.toml"), data, start=date(2022, 11, 21),
                       days=1, seed=5, synchronous="NORMAL")
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS central_cli")
        conn.execute("CREATE DATABASE central_cli")
    pg = make_conninfo(postgres, dbname="central_cli")
    cli = [sys.executable, "-m", "broker.cli", "central"]
    for _ in range(2):
        done = subprocess.run([*cli, "load", "--pg", pg, "--data", str(data), "--batch", "700"],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    site, _, moved = done.stderr.strip().rpartition(": seq ")
    assert site.endswith(f"33.17-{config.site.id}") and moved.split(" -> ")[0] == moved.split(" -> ")[1]  # nothing new
    with CentralStore(pg) as store:
        (row,) = store.league(date(2022, 11, 21), date(2022, 11, 21))
        assert row.site_id == f"33.17-{config.site.id}" and row.name == config.site.name
        assert row.figures.visitors == summary["tickets_issued"] > 0  # once, though loaded twice
    web_data = tmp_path / "central"
    assert subprocess.run([*cli, "user", "add", "semua", "--role", "pimpinan", "--data", str(web_data)],
                          input=PASSWORD + "\n", capture_output=True, text=True, timeout=60).returncode == 0
    port = free_port()
    server = subprocess.Popen([*cli, "web", "--pg", pg, "--data", str(web_data), "--http", f"127.0.0.1:{port}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        assert line.startswith("antrian-central listening on http://127.0.0.1:"), server.stderr.read()
        b = Browserless(line.split(" on ", 1)[1].strip())
        status, headers, _ = b.go("POST", "/masuk", {"csrf_token": b_token(b), "username": "semua",
                                                     "password": PASSWORD})
        assert status == 303
        status, _, body = b.go("GET", "/?dari=2022-11-21&sampai=2022-11-21")
        assert status == 200 and config.site.name in body and f"{summary['tickets_issued']:,}".replace(",", ".") in body
    finally:
        server.terminate()
        assert server.wait(timeout=15) == 0


@pytest.mark.mosquitto
def test_central_ingest_takes_a_new_sites_forwarded_log(tmp_path, postgres):
    """`antrian central ingest` as its own process: a site it has never seen forwards its log (the forwarder and the
    ingest on one Mosquitto here; the bridge between two is test_forward.py's), and is registered and stored."""
    from broker.server.mosquitto import PrivateMosquitto
    from broker.site.config import parse_config
    from conftest import SMALL_SITE, _need_mosquitto, start_engine
    from integration.test_forward import site_head, stop
    from integration.test_mqtt_contract import wait_until

    _need_mosquitto()
    config = parse_config(SMALL_SITE, "small-site.toml")
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS central_ingest")
        conn.execute("CREATE DATABASE central_ingest")
    pg = make_conninfo(postgres, dbname="central_ingest")
    port = free_port()
    data = tmp_path / "data"
    cli = [sys.executable, "-m", "broker.cli"]
    with PrivateMosquitto(config, tmp_path / "broker-data", ("127.0.0.1", port), folder=tmp_path / "broker",
                          supervise=False):
        service, stop_engine = start_engine(config, f"mqtt://127.0.0.1:{port}", data)
        ingest = subprocess.Popen([*cli, "central", "ingest", "--pg", pg, "--broker", f"127.0.0.1:{port}"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        forwarder = subprocess.Popen([*cli, "forward", "--data", str(data), "--broker", f"127.0.0.1:{port}",
                                      "--site-id", "62.05-uji", "--ack-timeout", "2"],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            from broker.mqtt.client import EngineClient

            kiosk = EngineClient(f"mqtt://127.0.0.1:{port}", config.site.id).start()
            try:
                for n in range(12):
                    assert kiosk.issue("k1", "A" if n % 2 else "B")["ok"]
            finally:
                kiosk.stop()
            with CentralStore(pg) as reader:
                def stored() -> bool:
                    try:
                        return reader.last_seq("62.05-uji") == site_head(data) >= 12
                    except Exception:  # not registered yet
                        return False
                assert wait_until(stored, 60), "the central store did not catch up with the site"
                (row,) = reader.league(date.today() - timedelta(days=1), date.today() + timedelta(days=1))
                assert row.site_id == "62.05-uji" and row.figures.visitors == 12
        finally:
            stop_engine()
            stop(forwarder)
            said = stop(ingest)
    assert ingest.returncode == 0, said
    assert "antrian-central-ingest from" in said and "62.05-uji" in said  # said once it was registered


sync_api = pytest.importorskip("playwright.sync_api")
from integration.chromium import LAPTOP, PHONE, log_in, shoot_both  # noqa: E402  (after the skip)


def shoot(page, name: str) -> None:
    shoot_both(page, OUT, name)


def test_the_pages_in_a_browser(web, browser):
    problems: list[str] = []
    page = browser.new_context(viewport=LAPTOP, device_scale_factor=1).new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    log_in(page, web.url, "nasional")
    page.wait_for_url(web.url + "/")
    page.goto(f"{web.url}/?{PERIOD}")
    assert page.locator("#league-table tbody tr").count() == 4
    shoot(page, "league")
    page.click("#league-table th[data-key=ikm] a")  # sorted by a column, from its header
    assert "urut=ikm" in page.url and page.locator("#league-table th[data-key=ikm] .arrow").count() == 1
    page.set_viewport_size(PHONE)  # no table headers on a phone: the form sorts
    page.select_option("#urut", "visitors")
    page.select_option("#arah", "naik")
    page.click("#period-form button")
    assert page.locator("#league-table td.col-mpp").first.inner_text() == "MPP Kabupaten Lamandau"
    page.set_viewport_size(LAPTOP)
    page.click("text=MPP Kabupaten Kotawaringin Timur")
    assert "/mpp/62.02-kotim" in page.url
    assert page.locator("figure.chart svg:visible").count() == 2  # of four: each drawn for a laptop and a phone
    shoot(page, "mpp")
    page.click("#agency-table a >> nth=0")
    assert "/instansi/" in page.url and page.locator("#week-table tbody tr").count() == 3
    shoot(page, "agency")
    page.goto(f"{web.url}/?lang=en&{PERIOD}")
    assert page.locator("h1").inner_text().startswith("League of MPPs")
    shoot(page, "league-en")
    own = browser.new_context(viewport=LAPTOP, device_scale_factor=1).new_page()
    log_in(own, web.url, "kobar")
    own.wait_for_url(web.url + "/")
    own.goto(f"{web.url}/?{PERIOD}")
    assert own.locator("#league-table tbody tr").count() == 1  # an MPP's account: its own row only
    shoot(own, "league-mpp-account")
    assert problems == []  # no refused style, script or image (the CSP would say so here)
