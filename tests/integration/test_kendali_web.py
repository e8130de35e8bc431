"""The control room over plain HTTP: a real waitress server on 127.0.0.1, a real engine on Mosquitto, and
requests a browser would never make (no CSRF token, a planted session, another agency's counter)."""

from __future__ import annotations

import http.client
import re
import time
import urllib.parse

import pytest

from broker.access.staff import USER_ATTEMPTS, StaffStore
from broker.mqtt.client import EngineClient, StateMirror
from broker.web.kendali.server import KendaliTier
from broker.web.limits import WebLimits
from conftest import MosquittoBroker, free_port, start_engine

PASSWORD = "sandi-yang-panjang"
USERS = (("admin", "admin", ""), ("siti", "koordinator", "dukcapil"), ("kepala", "pimpinan", ""))


def wait_until(condition, timeout: float = 15.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"{what} not reached within {timeout} s")


@pytest.fixture
def hall(small_config, tmp_path):
    """Mosquitto, the engine on the small site, staff accounts and the control room. Yields a namespace."""
    broker = MosquittoBroker(tmp_path).start()
    url, stop_broker = broker.url, broker.stop
    data = tmp_path / "data"
    service, stop_engine = start_engine(small_config, url, data)
    store = StaffStore(data)
    for name, role, agency in USERS:
        store.add(name, role, PASSWORD, agency=agency)
    tier = KendaliTier(f"127.0.0.1:{free_port()}", small_config, url, data, limits=WebLimits(rate_limit="")).start()
    client = EngineClient(url, small_config.site.id, name="test-kendali-client").start()
    mirror = StateMirror(url, small_config.site.id, name="test-kendali-mirror").start(wait=10)
    assert mirror.wait_complete(10)
    assert wait_until(lambda: tier.mirror.complete(), what="the control room's mirror")

    class Hall:
        pass

    h = Hall()
    h.url, h.tier, h.client, h.mirror, h.store, h.service, h.mqtt = tier.url, tier, client, mirror, store, service, url
    yield h
    mirror.stop()
    client.stop()
    tier.stop()
    stop_engine()
    stop_broker()


class Browserless:
    """A cookie-keeping HTTP client: enough to play a careless or hostile browser."""

    def __init__(self, url: str):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.cookies: dict[str, str] = {}
        self.set_cookie: list[str] = []

    def go(self, method: str, path: str, form: dict | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=15)
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        all_headers = {"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn.request(method, path, body=body, headers=all_headers | (headers or {}))
        response = conn.getresponse()
        text = response.read().decode("utf-8", errors="replace")
        conn.close()
        self.set_cookie = response.headers.get_all("Set-Cookie") or []
        for line in self.set_cookie:
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            if value:
                self.cookies[name] = value
            else:
                self.cookies.pop(name, None)
        return response.status, {k.lower(): v for k, v in response.getheaders()}, text

    def token(self, path: str = "/masuk") -> str:
        _, _, text = self.go("GET", path)
        found = re.search(r'name="csrf_token" value="([^"]+)"', text)
        assert found, text[:500]
        return found.group(1)

    def login(self, username: str, password: str = PASSWORD):
        return self.go("POST", "/masuk", {"csrf_token": self.token(), "username": username, "password": password})


def counter_status(h, counter: str) -> str:
    with h.mirror.lock:
        return str(h.mirror.counters[counter]["status"])


def test_cookies_headers_and_a_login_without_a_token(hall):
    b = Browserless(hall.url)
    status, headers, body = b.go("GET", "/masuk")
    assert status == 200 and "Masuk ke Ruang Kendali" in body
    assert "default-src 'none'" in headers["content-security-policy"] and headers["x-frame-options"] == "DENY"
    assert headers["cache-control"] == "no-store" and headers["referrer-policy"] == "same-origin"
    cookie = next(c for c in b.set_cookie if c.startswith("antrian_kendali="))
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie  # plain HTTP here
    assert not re.search(r"(src|href)=\"(https?:)?//", body)  # no CDN
    status, _, body = b.go("POST", "/masuk", {"username": "admin", "password": PASSWORD})  # no CSRF token
    assert status == 400 and "Formulir ini kedaluwarsa" in body
    status, _, body = b.go("POST", "/masuk", {"csrf_token": "forged", "username": "admin", "password": PASSWORD})
    assert status == 400
    assert "sid" not in b.cookies.get("antrian_kendali", "")
    status, headers, _ = b.go("GET", "/")
    assert status == 303 and headers["location"].endswith("/masuk")  # still not logged in
    assert [e.action for e in hall.store.audit_entries()][:2] == ["csrf_refused", "csrf_refused"]


def test_login_rotates_the_session_and_logout_ends_it(hall):
    b = Browserless(hall.url)
    b.token()
    planted = dict(b.cookies)  # what an attacker could have planted before the login
    status, headers, _ = b.login("admin")
    assert status == 303 and headers["location"].endswith("/")
    assert b.cookies["antrian_kendali"] != planted["antrian_kendali"]
    status, _, body = b.go("GET", "/")
    assert status == 200 and "Ikhtisar" in body
    attacker = Browserless(hall.url)
    attacker.cookies = planted
    assert attacker.go("GET", "/")[0] == 303  # the planted cookie never became a session
    stolen = dict(b.cookies)
    status, _, _ = b.go("POST", "/keluar", {"csrf_token": b.token("/")})
    assert status == 303
    replay = Browserless(hall.url)
    replay.cookies = stolen
    assert replay.go("GET", "/")[0] == 303  # the server ended the session: a copied cookie is worth nothing


def test_password_change_ends_open_sessions(hall):
    b = Browserless(hall.url)
    b.login("siti")
    assert b.go("GET", "/")[0] == 200
    time.sleep(0.01)
    hall.store.set_password("siti", "kata-sandi-baru-1")
    assert b.go("GET", "/")[0] == 303


def test_roles_are_enforced_on_the_server(hall):
    admin, siti, kepala = Browserless(hall.url), Browserless(hall.url), Browserless(hall.url)
    for b, name in ((admin, "admin"), (siti, "siti"), (kepala, "kepala")):
        assert b.login(name)[0] == 303
    _, _, page = siti.go("GET", "/")
    assert "Dinas Kependudukan" in page and "Kantor Imigrasi" not in page and "Bank Jateng" not in page
    assert 'id="counter-5"' not in page and 'id="counter-1"' in page
    # IDOR: a koordinator of dukcapil posts a valid form for the bank's counter 5
    hall.client.counter("5", "open")
    wait_until(lambda: counter_status(hall, "5") == "open", what="counter 5 open")
    status, _, body = siti.go("POST", "/loket/5/close", {"csrf_token": siti.token("/"), "request_id": "idor-1"})
    assert status == 403 and "instansi lain" in body
    time.sleep(0.3)  # nothing may have been sent: the state stays as it was
    assert counter_status(hall, "5") == "open"
    status, _, _ = siti.go("POST", "/layanan/K/pindah", {"csrf_token": siti.token("/"), "number": "K001", "to": "A"})
    assert status == 403
    _, _, page = kepala.go("GET", "/")
    assert "Bank Jateng" in page and "Kantor Imigrasi" in page and "<form method=\"post\" action=\"/loket" not in page
    status, _, body = kepala.go("POST", "/loket/1/open", {"csrf_token": kepala.token("/")})
    assert status == 403 and "hanya dapat melihat" in body
    assert kepala.go("GET", "/audit")[0] == 403 and siti.go("GET", "/audit")[0] == 403
    # the koordinator's own counter: the engine acts
    status, _, _ = siti.go("POST", "/loket/1/open", {"csrf_token": siti.token("/"), "request_id": "own-1"})
    assert status == 303
    wait_until(lambda: counter_status(hall, "1") == "open", what="counter 1 open")
    status, _, audit = admin.go("GET", "/audit")
    assert status == 200 and "counter_close" in audit and "counter_open" in audit and "siti" in audit
    refused = [e for e in hall.store.audit_entries() if not e.ok and e.action == "counter_close"]
    assert refused and refused[0].actor == "siti" and refused[0].target == "counter 5"


def test_engine_refusals_are_shown_in_the_users_language(hall):
    hall.client.issue("k1", "A")
    hall.client.counter("1", "next")  # A001 at counter 1: it cannot close
    admin = Browserless(hall.url)
    admin.login("admin")
    status, _, body = admin.go("POST", "/loket/1/close", {"csrf_token": admin.token("/")})
    assert status == 409 and 'data-code="counter_busy"' in body and "A001" in body
    admin.go("GET", "/?lang=en")
    status, _, body = admin.go("POST", "/loket/1/close", {"csrf_token": admin.token("/")})
    assert status == 409 and "Counter 1" in body and "Overview" in body


def test_transfer_and_reactivate_through_the_engine(hall):
    for _ in range(2):
        hall.client.issue("k1", "A")
    admin = Browserless(hall.url)
    admin.login("admin")
    status, _, _ = admin.go("POST", "/layanan/A/pindah", {"csrf_token": admin.token("/"), "number": "A002", "to": "B"})
    assert status == 303
    wait_until(lambda: "A002" in hall.mirror.services["B"]["waiting_numbers"], what="A002 waiting for B")
    assert hall.client.counter("1", "next")["ticket"]["number"] == "A001"
    assert hall.client.counter("1", "recall")["ok"] or True
    done = hall.client.counter("1", "no-show")
    if not done["ok"]:  # the site may want recalls first; this one does not
        pytest.fail(done)
    wait_until(lambda: "A001" in hall.mirror.services["A"]["no_shows"], what="A001 a no-show")
    status, _, _ = admin.go("POST", "/layanan/A/aktifkan", {"csrf_token": admin.token("/"), "number": "A001"})
    assert status == 303
    wait_until(lambda: "A001" in hall.mirror.services["A"]["waiting_numbers"], what="A001 back in the queue")


def test_notice_reaches_the_retained_state_and_is_escaped(hall):
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    admin, siti = Browserless(hall.url), Browserless(hall.url)
    admin.login("admin")
    siti.login("siti")
    status, _, _ = siti.go("POST", "/pengumuman", {"csrf_token": siti.token("/"), "text": "bukan hak saya"})
    assert status == 403
    status, _, _ = admin.go("POST", "/pengumuman", {"csrf_token": admin.token("/"), "text": evil,
                                                     "text_en": "Line\nbreak"})
    assert status == 303
    wait_until(lambda: hall.mirror.notice.get("text") == evil, what="the notice retained")
    assert hall.mirror.notice["by"] == "admin" and hall.mirror.notice["text_en"] == "Line break"
    _, _, page = siti.go("GET", "/")
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page and "<img src=x" not in page
    status, _, _ = admin.go("POST", "/pengumuman", {"csrf_token": admin.token("/"), "clear": "1"})
    assert status == 303
    wait_until(lambda: hall.mirror.notice.get("text") == "", what="the notice taken down")


def test_lockout_after_wrong_passwords(hall):
    b = Browserless(hall.url)
    for _ in range(USER_ATTEMPTS):
        status, _, body = b.login("siti", "salah-salah-salah")
        assert status == 401 and "salah" in body
    status, _, body = b.login("siti")  # the right password, too late
    assert status == 429 and "Terlalu banyak percobaan" in body
    assert b.go("GET", "/")[0] == 303
    assert Browserless(hall.url).login("admin")[0] == 303  # other users are not locked out by it


def test_every_control_room_text_is_in_the_table():
    """kt("...") in the templates and _t("...") in the code name `kendali.<key>` of the one text table."""
    from pathlib import Path

    from broker.protocol.texts import TEXTS

    root = Path(__file__).resolve().parents[2] / "broker" / "web" / "kendali"
    used = set()
    for path in [*root.rglob("*.py"), *root.rglob("*.html")]:
        used |= {m.group(2) for m in re.finditer(r"""(?<![\w.])(?:kt|_t)\(\s*(["'])([a-z_.]+)\1""",
                                                   path.read_text(encoding="utf-8"))}
    assert len(used) > 40, "the scan found too few: the pattern is broken"
    assert not [key for key in used if f"kendali.{key}" not in TEXTS and not key.endswith(".")]


def test_logins_are_rate_limited_per_client(hall, small_config, tmp_path):
    limited = KendaliTier(f"127.0.0.1:{free_port()}", small_config, hall.mqtt, tmp_path / "data",
                          limits=WebLimits(rate_limit=""), login_limit="2 per minute").start()
    try:
        b = Browserless(limited.url)
        assert [b.login("nobody", "tebak-tebakan")[0] for _ in range(2)] == [401, 401]
        status, headers, body = b.login("admin")
        assert status == 429 and int(headers["retry-after"]) >= 1 and "Terlalu banyak permintaan" in body
    finally:
        limited.stop()


def test_the_notice_outlives_an_engine_restart(small_config, tmp_path):
    broker = MosquittoBroker(tmp_path).start()
    url, stop_broker = broker.url, broker.stop
    data = tmp_path / "data"
    try:
        _, stop_engine = start_engine(small_config, url, data)
        client = EngineClient(url, small_config.site.id, name="test-notice").start()
        topics = client.topics
        reply = client.request(topics.supervisor_request("kendali"), topics.supervisor_reply("kendali"),
                               {"action": "notice", "text": "Paspor hari ini sampai pukul 12.00", "by": "admin"})
        assert reply["ok"] and reply["notice"]["text"].startswith("Paspor")
        bad = client.request(topics.supervisor_request("kendali"), topics.supervisor_reply("kendali"),
                             {"action": "notice", "text": "x" * 201})
        assert not bad["ok"] and bad["error"]["code"] == "bad_payload"
        client.stop()
        stop_engine()
        _, stop_engine = start_engine(small_config, url, data)  # replays the log: the notice is state again
        mirror = StateMirror(url, small_config.site.id, name="test-notice-mirror").start(wait=10)
        try:
            wait_until(lambda: mirror.notice.get("text", "").startswith("Paspor") and mirror.notice["by"] == "admin",
                       what="the notice after the restart")
        finally:
            mirror.stop()
            stop_engine()
    finally:
        stop_broker()


def test_antrian_kendali_runs_as_its_own_process(hall, small_config_file):
    import subprocess
    import sys

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "broker.cli", "kendali", "--http", f"127.0.0.1:{port}",
                             "--config", str(small_config_file), "--data", str(hall.tier.store.path.parent),
                             "--mqtt", hall.mqtt], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("antrian-kendali listening on http://127.0.0.1:"), proc.stderr.read()
        b = Browserless(line.split()[-1])
        assert b.login("admin")[0] == 303
        status, _, page = b.go("GET", "/")
        assert status == 200 and 'id="counter-4K-10"' in page
    finally:
        proc.terminate()
        assert proc.wait(15) == 0
    assert PASSWORD not in proc.stderr.read()  # nothing of a login reaches the log
