"""The ticket page's event stream (`/tiket/<ticket>/<token>/langsung`, broker.web.ticket) against a real web tier
(waitress), engine and Mosquitto: over raw HTTP, a stream carries its own ticket's live part and nothing of any
other's, rings again on a recall (call_seq), ends with `done` once served, and beats while quiet; its slots are
bounded per client and in all and never take the page threads; it counts against the rate limit. In Debian's
chromium: with every slot taken, the page still follows its ticket by polling."""

from __future__ import annotations

import http.client
import json
import urllib.parse

import pytest

from broker.web import ticket as ticket_module
from broker.web.limits import WebLimits
from broker.web.server import WebTier
from conftest import free_port
from integration import test_web as web_half
from integration.test_web import request, wait_until

client = web_half.client  # a real engine client (the `engine` fixture: Mosquitto and the engine)


class Stream:
    """One event stream read over a raw HTTP connection, as far as a test needs it."""

    def __init__(self, url: str, path: str, headers: dict[str, str] | None = None):
        parts = urllib.parse.urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
        self.conn.request("GET", path, headers={"Accept": "text/event-stream"} | (headers or {}))
        self.response = self.conn.getresponse()
        self.status = self.response.status
        self.text = ""
        self.ended = False

    def read_until(self, condition) -> str:
        """Read until `condition(text so far)` or the stream's end; a stream silent for 15 s fails the test."""
        while not condition(self.text) and not self.ended:
            chunk = self.response.read1(65536).decode()
            if not chunk:
                self.ended = True
            self.text += chunk
        return self.text

    def events(self, name: str | None = None) -> list[tuple[str, dict]]:
        out = []
        for block in self.text.split("\n\n"):
            lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and line[0] != ":")
            if "event" in lines and (name is None or lines["event"] == name):
                out.append((lines["event"], json.loads(lines.get("data", "null"))))
        return out

    def first(self) -> str:
        """The first event's name: `live` (a slot) or `full`."""
        self.read_until(lambda t: "event: " in t and "\n\n" in t[t.index("event: "):])
        return self.events()[0][0]

    def close(self) -> None:
        self.response.close()
        self.conn.close()


def live_of(stream: Stream) -> list[dict]:
    return [data for _, data in stream.events("live")]


def ticket_path(issued: dict) -> str:
    return f"/tiket/{issued['ticket']['id']}/{issued['survey_token']}"


def ready(web) -> None:
    wait_until(lambda: web.mirror.complete() and web.mirror.retained.engine_online, what="the web tier's state")


def make(engine, small_config, limits: WebLimits = web_half.LIMITS, **options) -> WebTier:
    service, url = engine
    web = WebTier(f"127.0.0.1:{free_port()}", small_config, url, secret=service.survey_secret, limits=limits,
                  **options).start()
    ready(web)
    return web


@pytest.fixture
def tier(engine, small_config):
    web = make(engine, small_config)
    yield web
    web.stop()


def test_a_stream_carries_its_own_ticket_only_rings_again_on_a_recall_and_ends_when_served(tier, client, monkeypatch):
    monkeypatch.setattr(ticket_module, "HEARTBEAT_S", 0.2)  # read at each wait: quiet streams beat often here
    a, b = client.issue("k1", "A"), client.issue("k1", "A")
    mine, other = Stream(tier.url, ticket_path(a) + "/langsung"), Stream(tier.url, ticket_path(b) + "/langsung")
    try:
        assert mine.status == 200 and mine.response.headers["content-type"].startswith("text/event-stream")
        assert mine.first() == "live" and other.first() == "live"
        for stream in (mine, other):  # "pending" first when the state of the new ticket was still on its way
            stream.read_until(lambda _, s=stream: live_of(s)[-1]["kind"] == "waiting")
        assert "Anda berikutnya" in live_of(mine)[-1]["html"]
        assert "1 orang di depan Anda" in live_of(other)[-1]["html"]
        assert "retry: " in mine.text  # the browser's reconnect delay, with the first event

        assert client.counter("1", "next")["ticket"]["id"] == a["ticket"]["id"]
        # the counter's state and the calls' come as two messages: the call's seq may follow a moment later
        mine.read_until(lambda _: any(d["kind"] == "called" and d["call_seq"] for d in live_of(mine)))
        called = [d for d in live_of(mine) if d["kind"] == "called" and d["call_seq"]]
        assert "Nomor Anda dipanggil, silakan ke Loket" in called[0]["html"]
        other.read_until(lambda _: any("Anda berikutnya" in d["html"] for d in live_of(other)))

        assert client.counter("1", "recall")["ok"]
        mine.read_until(lambda _: max(d["call_seq"] for d in live_of(mine)) > called[0]["call_seq"])
        assert [d["kind"] for d in live_of(mine)][-1] == "called"

        other.read_until(lambda t: t.count(": \n\n") >= 2)  # a heartbeat comment while nothing changes
        assert client.counter("1", "finish")["ok"]  # served: `done`, and the stream ends (the page reloads)
        mine.read_until(lambda _: False)
        assert mine.ended and mine.events()[-1][0] == "done"

        for stream, them in ((mine, b), (other, a)):  # neither stream ever said anything of the other ticket
            assert them["ticket"]["number"] not in stream.text and them["ticket"]["id"] not in stream.text
    finally:
        mine.close()
        other.close()


def test_stream_slots_are_bounded_per_client_and_in_all_and_leave_the_pages_their_threads(engine, small_config,
                                                                                         client):
    # behind a trusted proxy, the client is whoever X-Forwarded-For names: three phones from one test
    web = make(engine, small_config, WebLimits(rate_limit="", trusted_proxy="127.0.0.1"), streams=3,
               streams_per_client=2)
    held: list[Stream] = []
    try:
        path = ticket_path(client.issue("k1", "A")) + "/langsung"

        def phone(address: str) -> Stream:
            stream = Stream(web.url, path, {"X-Forwarded-For": address})
            held.append(stream)
            return stream

        assert [phone("10.0.0.1").first(), phone("10.0.0.1").first()] == ["live", "live"]
        assert phone("10.0.0.1").first() == "full"  # its share (2) is taken
        assert held[-1].read_until(lambda _: False) and held[-1].ended  # told, and the stream ends
        assert "retry_s" in held[-1].events("full")[0][1]
        assert phone("10.0.0.2").first() == "live"  # another phone still gets one: 3 in all
        assert phone("10.0.0.3").first() == "full"  # every slot taken
        assert web.push.slots.taken == 3
        for _ in range(12):  # and the page threads are all free for pages and the survey
            status, _, body = request(web.url, path=path.removesuffix("/langsung"))
            assert status == 200 and 'id="live"' in body
            assert request(web.url, path=path.replace("/langsung", "/status"))[0] == 200
        held[0].close()  # a phone closed its tab: its slot comes back, within a second or so
        wait_until(lambda: web.push.slots.taken == 2, what="the closed stream's slot given back")
        assert phone("10.0.0.3").first() == "live"
    finally:
        for stream in held:
            stream.close()
        web.stop()


def test_streams_count_against_the_rate_limit(engine, small_config, client):
    web = make(engine, small_config, WebLimits(rate_limit="4 per minute"))
    try:
        path = ticket_path(client.issue("k1", "A"))
        codes = []
        for _ in range(3):
            stream = Stream(web.url, path + "/langsung")
            codes.append(stream.status)
            stream.close()
        codes.append(request(web.url, path=path + "/status")[0])
        refused = Stream(web.url, path + "/langsung")
        codes.append(refused.status)
        refused.close()
        assert codes == [200, 200, 200, 200, 429]
    finally:
        web.stop()


def test_with_every_slot_taken_the_page_still_follows_its_ticket_by_polling(engine, small_config, client, browser):
    pytest.importorskip("playwright.sync_api")
    from integration.test_ticket_page import live_text, phone, shows

    web = make(engine, small_config, streams=1, poll_s=0.5)
    tickets = [client.issue("k1", "A") for _ in range(3)]
    holder = Stream(web.url, ticket_path(tickets[0]) + "/langsung")  # the one slot
    try:
        assert holder.first() == "live"
        problems: list[str] = []
        page = phone(browser, problems)
        asked: list[str] = []
        page.on("request", lambda r: asked.append(r.url.split("?")[0]))
        page.goto(web.url + ticket_path(tickets[2]))
        page.wait_for_selector("#live[data-live='poll']")  # told `full`: it polls instead
        assert "2 orang di depan Anda" in live_text(page)
        assert client.counter("1", "next")["ok"]
        shows(page, "1 orang di depan Anda")
        assert client.counter("2", "next")["ok"] and client.counter("1", "finish")["ok"]
        assert client.counter("1", "next")["ticket"]["id"] == tickets[2]["ticket"]["id"]
        page.wait_for_selector(".live.called")
        assert "Nomor Anda dipanggil, silakan ke Loket 1" in live_text(page)
        assert any(u.endswith("/langsung") for u in asked) and any(u.endswith("/status") for u in asked)
        assert page.get_attribute("#live", "data-live") == "poll"
        assert problems == []
    finally:
        holder.close()
        web.stop()
