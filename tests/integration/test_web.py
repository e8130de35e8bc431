"""The web tier against hostile and careless clients: a real waitress server on 127.0.0.1, a real engine
and broker, raw sockets where a browser would be too polite, and `antrian web` as its own process."""

from __future__ import annotations

import http.client
import json
import logging
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from broker.core.events import EventType as E
from broker.mqtt.client import EngineClient
from broker.mqtt.connection import Connection
from broker.web.limits import WebLimits
from broker.web.logs import RedactTokens, redact
from broker.web.server import WebTier
from conftest import OUTPUT, free_port

GOOD = [4, 3, 3, 4, 3, 3, 4, 3, 4]
LIMITS = WebLimits(rate_limit="")  # every test but the rate limit's may ask as often as it likes


def wait_until(condition, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"{what} not reached within {timeout} s")


def serve_ticket(client: EngineClient, counter: str = "1") -> tuple[str, str]:
    """Issue, call and finish one ticket; returns its id and its survey token."""
    issued = client.issue("k1", "A")
    assert client.counter(counter, "next")["ok"]
    assert client.counter(counter, "finish")["ok"]
    return issued["ticket"]["id"], issued["survey_token"]


@pytest.fixture
def client(engine, small_config):
    _, url = engine
    c = EngineClient(url, small_config.site.id, name="test-web-client").start()
    yield c
    c.stop()


def make_tier(engine, small_config, limits: WebLimits = LIMITS) -> WebTier:
    service, url = engine
    return WebTier(f"127.0.0.1:{free_port()}", small_config, url, secret=service.survey_secret,
                   limits=limits).start()


@pytest.fixture
def tier(engine, small_config):
    web = make_tier(engine, small_config)
    yield web
    web.stop()


def request(url: str, method: str = "GET", path: str = "/", form: dict | None = None,
            headers: dict | None = None) -> tuple[int, dict[str, str], str]:
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
    body = urllib.parse.urlencode(form).encode() if form is not None else None
    all_headers = {"Content-Type": "application/x-www-form-urlencoded"} if form is not None else {}
    conn.request(method, path, body=body, headers=all_headers | (headers or {}))
    response = conn.getresponse()
    text = response.read().decode("utf-8", errors="replace")
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, text


def survey_path(ticket: str, token: str) -> str:
    return f"/survei/{ticket}/{token}"


def answered(service) -> list:
    return [e for e in service.store.iter_events() if e.type == E.SURVEY_ANSWERED]


def form_of(answers=GOOD, request_id: str = "form-1") -> dict:
    return {f"u{i}": str(v) for i, v in enumerate(answers, start=1)} | {"request_id": request_id, "comment": ""}


# ---------------------------------------------------------------------- what every answer carries


def test_security_headers_on_pages_errors_and_files(tier, client):
    ticket, token = serve_ticket(client)
    for path, expected in (("/", 200), (survey_path(ticket, token), 200), ("/nothing-here", 404),
                           (survey_path(ticket, "a" * 24), 404), ("/static/web.css", 200)):
        status, headers, body = request(tier.url, path=path)
        assert status == expected, path
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert "script-src 'self'" in csp  # scripts only from this server (the ticket page's), never inline
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"  # the link's token never goes to another site
        assert headers["x-frame-options"] == "DENY"
        assert headers["server"] == "antrian"
        if path.startswith("/static"):
            assert "max-age" in headers["cache-control"]
            continue
        assert headers["cache-control"] == "no-store" and headers["content-type"].startswith("text/html")
        assert not re.search(r"<script(?! src=\"/static/)", body)  # no inline script: the CSP would block it
        assert " style=" not in body and "<style" not in body
        assert not re.search(r"(src|href)=\"(https?:)?//", body)  # no CDN, no other site
        assert "karcis" not in body.lower()


def test_malformed_links_are_a_plain_404(tier, client):
    ticket, token = serve_ticket(client)
    bad = [f"{ticket}/{'é' * 24}", f"{ticket}/{urllib.parse.quote('é') * 12}", f"{ticket}/%ff%fe%00",
           f"{ticket}/{token[:-1]}", f"{ticket}/{token}x", f"{ticket}/{'1' * 24}", f"%C3%A9/{token}",
           f"{ticket[:-1]}9/{token}", f"{'A' * 300}/{token}", f"{ticket}/{'a' * 5000}", f"{ticket}/%2e%2e"]
    for tail in bad:
        path = "/survei/" + (tail if "%" in tail else urllib.parse.quote(tail, safe="/"))
        status, headers, body = request(tier.url, path=path)
        assert status == 404, (tail, status)
        assert headers["content-type"].startswith("text/html") and "Traceback" not in body
        assert "Tautan survei tidak sah" in body and "tiket antrian" in body
    status, _, body = request(tier.url, path=survey_path(ticket, token.upper()))  # a phone may shout
    assert status == 200 and 'type="radio"' in body


# ---------------------------------------------------------------------- what a request may cost


def test_a_10_mb_body_is_refused_from_its_headers(engine, tier, client):
    ticket, token = serve_ticket(client)
    with socket.create_connection(("127.0.0.1", tier.server.port), timeout=15) as s:
        s.sendall((f"POST {survey_path(ticket, token)} HTTP/1.1\r\nHost: x\r\n"
                   "Content-Type: application/x-www-form-urlencoded\r\n"
                   f"Content-Length: {10 * 1024 * 1024}\r\n\r\n").encode())
        answer = s.recv(4096)  # not one byte of the body sent: the answer comes from the headers alone
    assert answer.startswith(b"HTTP/1.1 413")
    # without a length (chunked), the server stops at its limit, long before 10 MB
    with socket.create_connection(("127.0.0.1", tier.server.port), timeout=15) as s:
        s.sendall((f"POST {survey_path(ticket, token)} HTTP/1.1\r\nHost: x\r\n"
                   "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n").encode())
        chunk = b"%x\r\n%s\r\n" % (65536, b"u" * 65536)
        sent = 0
        while sent < 10 * 1024 * 1024 and not select.select([s], [], [], 0)[0]:
            try:
                s.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += 65536
        wait_until(lambda: select.select([s], [], [], 0.1)[0], what="an answer to the endless body")
        answer = s.recv(4096)
        assert answer.startswith(b"HTTP/1.1 413") and b"Connection: close" in answer
        assert sent < 10 * 1024 * 1024  # refused while the client was still sending (kernel buffers hold a few MB)
        with pytest.raises(OSError):  # and the server reads no more of it: the connection is gone
            for _ in range(1000):
                s.sendall(chunk)
    assert not answered(engine[0])


def test_idle_connections_cost_no_thread_and_are_closed(engine, small_config):
    limits = WebLimits(rate_limit="", connection_limit=20, channel_timeout=1, cleanup_interval=1, threads=4)
    web = make_tier(engine, small_config, limits)
    try:
        assert request(web.url)[0] == 200
        threads_before = threading.active_count()
        idle = [socket.create_connection(("127.0.0.1", web.server.port), timeout=30) for _ in range(60)]
        # the server takes its limit of connections and leaves the rest waiting in the backlog
        wait_until(lambda: len(web.server.server.active_channels) >= 18, what="connections accepted")  # 20 with its own two
        assert len(web.server.server.active_channels) <= 20
        assert threading.active_count() == threads_before  # no thread per connection
        # every idle connection is closed by the server in turn: recv() sees the end, never a timeout
        for s in idle:
            assert s.recv(1) == b""
            s.close()
        assert threading.active_count() == threads_before
        assert request(web.url)[0] == 200  # and the page serves again
    finally:
        web.stop()


def test_rate_limit_per_client_answers_429(engine, small_config):
    limits = WebLimits(rate_limit="5 per minute", trusted_proxy="127.0.0.1")
    web = make_tier(engine, small_config, limits)
    try:
        phone_a, phone_b = {"X-Forwarded-For": "10.1.0.7"}, {"X-Forwarded-For": "10.1.0.8"}
        assert [request(web.url, headers=phone_a)[0] for _ in range(5)] == [200] * 5
        status, headers, body = request(web.url, headers=phone_a)
        assert status == 429 and int(headers["retry-after"]) >= 1
        assert "Terlalu banyak permintaan" in body and headers["content-security-policy"]
        status, _, body = request(web.url, path="/?lang=en", headers=phone_a)
        assert status == 429 and "Too many requests" in body
        assert request(web.url, headers=phone_b)[0] == 200  # another phone is not punished for it
    finally:
        web.stop()


# ---------------------------------------------------------------------- looking changes nothing


def test_head_on_a_form_url_changes_nothing(engine, tier, client):
    service, _ = engine
    ticket, token = serve_ticket(client)
    path = survey_path(ticket, token)
    form = urllib.parse.urlencode(form_of()).encode()
    with socket.create_connection(("127.0.0.1", tier.server.port), timeout=15) as s:  # HEAD with a whole form
        s.sendall(f"HEAD {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                  f"Content-Length: {len(form)}\r\nConnection: close\r\n\r\n".encode() + form)
        head = b""
        while chunk := s.recv(4096):
            head += chunk
    assert head.startswith(b"HTTP/1.1 200") and head.endswith(b"\r\n\r\n")  # headers only
    status, _, _ = request(tier.url, "HEAD", path)
    assert status == 200
    assert not answered(service)
    status, _, body = request(tier.url, path=path)  # the form is still there to fill in
    assert status == 200 and 'type="radio"' in body
    assert request(tier.url, "POST", path, form_of())[0] == 200
    assert [e.data["ticket"] for e in answered(service)] == [ticket]
    assert request(tier.url, "PUT", path)[0] == 405


def test_the_page_check_is_a_request_without_answers(engine, tier, client, small_config):
    """What the page relies on: GET and HEAD send no `answers`, so the engine treats them as a check."""
    _, url = engine
    seen: list[dict] = []
    spy = Connection(url, "test-web-spy", subscriptions=[client.topics.survey_request("web")],
                     on_message=lambda topic, payload, retained: seen.append(json.loads(payload)))
    spy.start(wait=5)
    try:
        ticket, token = serve_ticket(client)
        request(tier.url, path=survey_path(ticket, token))
        request(tier.url, "HEAD", survey_path(ticket, token))
        wait_until(lambda: len(seen) >= 2, what="two check requests")
        assert all(set(body) == {"request_id", "ticket", "token"} for body in seen)
        assert seen[0]["request_id"] != seen[1]["request_id"]
        request(tier.url, "POST", survey_path(ticket, token), form_of(request_id="posted-1"))
        wait_until(lambda: len(seen) >= 3, what="the answer")
        assert seen[2]["answers"] == GOOD and seen[2]["request_id"] == "posted-1"
    finally:
        spy.stop()


def test_looking_at_the_page_remembers_no_reply(engine, tier, client):
    service, _ = engine
    ticket, token = serve_ticket(client)
    before_rows, before_memory = len(service.store.snapshot(0).replies), len(service.engine.replies)
    for _ in range(5):
        assert request(tier.url, path=survey_path(ticket, token))[0] == 200
        assert request(tier.url, "HEAD", survey_path(ticket, token))[0] == 200
    assert len(service.engine.replies) == before_memory
    assert len(service.store.snapshot(0).replies) == before_rows


# ---------------------------------------------------------------------- the page as a process


def _threads_of(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def test_antrian_web_process_keeps_tokens_out_of_its_log(engine, client, small_config_file, tmp_path, caplog):
    service, url = engine
    caplog.set_level(logging.DEBUG)
    port = free_port()
    log_path = tmp_path / "web.log"
    with open(log_path, "w", encoding="utf-8") as log_file:
        proc = subprocess.Popen([sys.executable, "-m", "broker.cli", "web", "--http", f"127.0.0.1:{port}",
                                 "--mqtt", url, "--config", str(small_config_file), "--data", str(tmp_path / "data"),
                                 "--rate-limit", "", "--connection-limit", "50"],
                                stdout=subprocess.PIPE, stderr=log_file, text=True)
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline()
        assert ready.startswith("antrian-web listening on http://127.0.0.1:"), ready
        base = f"http://127.0.0.1:{port}"
        tickets = [serve_ticket(client) for _ in range(2)]
        (t1, k1), (t2, k2) = tickets
        assert request(base, path=survey_path(t1, k1))[0] == 200
        assert request(base, "HEAD", survey_path(t1, k1))[0] == 200
        assert request(base, "POST", survey_path(t1, k1), form_of(request_id="p-1"))[0] == 200
        assert request(base, "POST", survey_path(t1, k1), form_of(request_id="p-2"))[0] == 409
        assert request(base, "POST", survey_path(t2, k2), {"u1": "4"})[0] == 422
        assert request(base, path=survey_path(t2, k2[:-2] + "zz"))[0] == 404
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:  # a 413 names the path too
            s.sendall(f"POST {survey_path(t2, k2)} HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n".encode())
            assert s.recv(100).startswith(b"HTTP/1.1 413")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:  # a client that goes away mid-answer
            s.sendall(f"GET {survey_path(t2, k2)} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        # many idle connections: the process keeps its threads
        threads, files = _threads_of(proc.pid), len(os.listdir(f"/proc/{proc.pid}/fd"))
        idle = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(200)]
        # it accepts up to --connection-limit of them (one file each), the rest wait in the backlog
        wait_until(lambda: len(os.listdir(f"/proc/{proc.pid}/fd")) >= files + 45, what="idle connections accepted")
        assert _threads_of(proc.pid) <= threads
        for s in idle:
            s.close()
        assert [e.data["ticket"] for e in answered(service)] == [t1]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    assert proc.returncode == 0
    log_text = log_path.read_text(encoding="utf-8")
    assert f'"GET /survei/{t1}/…" 200' in log_text and f'"POST /survei/{t1}/…" 409' in log_text
    engine_log = "\n".join(r.getMessage() for r in caplog.records)
    for token in (k1, k2, k2[:-2] + "zz"):
        assert token not in log_text and token.upper() not in log_text
        assert token not in engine_log


def test_redaction_covers_messages_args_and_tracebacks():
    token = "abcdefghijklmnopqrstuvwx"
    assert redact(f"GET /survei/20260302-A001/{token}?lang=en") == "GET /survei/20260302-A001/…?lang=en"
    assert token not in redact(json.dumps({"ticket": "T", "token": token}))
    try:
        raise KeyError(f"/survei/T/{token}")
    except KeyError:
        record = logging.LogRecord("waitress", logging.ERROR, __file__, 1, "Exception while serving %s",
                                   (f"/survei/T/{token}",), sys.exc_info())
    assert RedactTokens().filter(record)
    formatted = logging.Formatter().format(record)
    assert token not in formatted and "KeyError" in formatted and "/survei/T/…" in formatted


def test_serve_http_runs_the_page_as_a_watched_child(broker_url, small_config_file, tmp_path):
    http = free_port()
    serve = subprocess.Popen([sys.executable, "-m", "broker.cli", "serve", "--mqtt", broker_url, "--config",
                              str(small_config_file), "--data", str(tmp_path / "data"), "--http", f"127.0.0.1:{http}",
                              "--ignore-hours"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{http}"

    def child() -> int | None:
        for pid in children(serve.pid):
            try:
                if b"web" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") and not _zombie(pid):
                    return pid
            except OSError:
                continue
        return None

    def serving() -> bool:
        try:
            return request(base)[0] == 200
        except OSError:
            return False

    try:
        wait_until(serving, 30, "the survey page of antrian serve")
        first = child()
        assert first is not None and first != serve.pid
        os.kill(first, signal.SIGKILL)  # the page dies: the engine starts it again
        wait_until(lambda: child() not in (None, first) and serving(), 30, "a new web child")
        second = child()
    finally:
        serve.send_signal(signal.SIGTERM)
        _, err = serve.communicate(timeout=20)
    assert serve.returncode == 0, err
    assert "starting them again" in err and "Traceback" not in err
    assert second is not None and (not Path(f"/proc/{second}").exists() or _zombie(second))  # stopped with serve


def children(pid: int) -> list[int]:
    """Child processes of `pid`, whichever of its threads started them."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True


def test_the_web_child_ends_when_the_engine_is_killed(broker_url, small_config_file, tmp_path):
    http = free_port()
    serve = subprocess.Popen([sys.executable, "-m", "broker.cli", "serve", "--mqtt", broker_url, "--config",
                              str(small_config_file), "--data", str(tmp_path / "data"), "--http", f"127.0.0.1:{http}"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        child = wait_until(lambda: children(serve.pid), 30, "the web child")[0]
        wait_until(lambda: _listening(http), 30, "the page")
        serve.kill()
        serve.wait(10)
        wait_until(lambda: not Path(f"/proc/{child}").exists() or _zombie(child), 15, "the orphaned page to end")
        # the orphan notices within its polling second; until then its socket may still answer
        wait_until(lambda: not _listening(http), 15, "the orphaned page's port to close")
    finally:
        if serve.poll() is None:
            serve.kill()


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


# ---------------------------------------------------------------------- in a real browser


def test_the_page_in_a_phone_browser_without_javascript(engine, tier, client, browser):
    """Headless chromium at a phone's width, JavaScript off: fill in, send, in Indonesian and English."""
    service, _ = engine
    out = OUTPUT / "web"
    out.mkdir(parents=True, exist_ok=True)
    (t1, k1), (t2, k2) = serve_ticket(client), serve_ticket(client)
    page = browser.new_page(viewport={"width": 412, "height": 915}, java_script_enabled=False,
                            device_scale_factor=1)
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    for lang, ticket, token, thanks in (("id", t1, k1, "Terima kasih"), ("en", t2, k2, "Thank you")):
        page.goto(tier.url + survey_path(ticket, token) + ("?lang=en" if lang == "en" else ""))
        assert page.locator("input[type=radio]").count() == 36
        assert page.evaluate("document.documentElement.scrollWidth") <= 412  # nothing sticks out sideways
        assert page.locator("html").get_attribute("lang") == lang
        assert page.locator(".bar").evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(13, 71, 161)"
        page.screenshot(path=str(out / f"survey-{lang}-top.png"))
        for i, score in enumerate(GOOD, start=1):
            page.locator(f"input[name=u{i}][value='{score}']").check()
        page.screenshot(path=str(out / f"survey-{lang}-filled.png"), full_page=True)
        page.locator("button[type=submit]").click()
        assert thanks in page.locator(".note.ok").inner_text()
        page.screenshot(path=str(out / f"survey-{lang}-thanks.png"))
    page.goto(tier.url + survey_path(t1, "a" * 24))
    assert "Tautan survei tidak sah" in page.locator(".note").inner_text()
    page.locator("a.lang").click()  # the language switch is a plain link
    assert "The survey link is not valid" in page.locator(".note").inner_text()
    page.screenshot(path=str(out / "survey-bad-link-en.png"))
    assert not refused, refused  # nothing on the page needed an exception to the CSP
    assert sorted(e.data["ticket"] for e in answered(service)) == sorted([t1, t2])


def test_an_engine_that_does_not_answer_is_a_503_page(small_config):
    """No broker at all (and no secret, so the engine would check the token): the page says so, plainly."""
    web = WebTier(f"127.0.0.1:{free_port()}", small_config, f"mqtt://127.0.0.1:{free_port()}", limits=LIMITS).start()
    try:
        status, headers, body = request(web.url, path=survey_path("20260302-A001", "a" * 24))
        assert status == 503 and "Server antrian tidak menjawab" in body and "Traceback" not in body
        assert headers["content-security-policy"]
        status, _, body = request(web.url, "POST", survey_path("20260302-A001", "a" * 24) + "?lang=en", form_of())
        assert status == 503 and "The queue server does not answer" in body
    finally:
        web.stop()
