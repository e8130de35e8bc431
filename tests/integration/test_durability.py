"""Nothing acknowledged is lost: the real `antrian serve` process killed with SIGKILL mid-burst."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from broker.core.commands import IssueTicket
from broker.core.engine import Engine
from broker.mqtt.client import EngineClient, EngineTimeout, StateMirror
from broker.server.store import EventStore, StoreError
from conftest import OUTPUT, start_engine

SITE = "testsite"


class ServeProcess:
    """`antrian serve --mqtt URL` as its own process, so it can be killed for real."""

    def __init__(self, config_file: Path, data_dir: Path, url: str, log: Path, watch_url: str | None = None):
        self.args = [sys.executable, "-m", "broker.cli", "serve", "--mqtt", url, "--config", str(config_file),
                     "--data", str(data_dir), "--ignore-hours"]
        self.url, self.log = watch_url or url, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> ServeProcess:
        """Start and wait until this very process (not a retained ghost of the last one) says online."""
        since = time.time() - 0.5
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.args, stdout=log, stderr=log)
        mirror = StateMirror(self.url, SITE, name="test-wait-online").start(wait=10)
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                if mirror.engine.get("status") == "online" and mirror.engine.get("started_at", 0) > since:
                    return self
                assert self.proc.poll() is None, self.log.read_text()
                time.sleep(0.05)
        finally:
            mirror.stop()
        raise AssertionError("antrian serve did not come online:\n" + self.log.read_text())

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class Kiosk(threading.Thread):
    """Takes tickets one after another until the engine stops answering; remembers what was acknowledged."""

    def __init__(self, url: str, kiosk: str, services: str):
        super().__init__(daemon=True)
        self.client = EngineClient(url, SITE, name=f"test-kiosk-{kiosk}").start()
        self.kiosk, self.services = kiosk, services
        self.acked: dict[str, dict] = {}  # request id -> ticket
        self.pending: tuple[str, str] | None = None  # (request id, service) sent but never answered

    def run(self) -> None:
        for i in range(10_000):
            request_id, service = f"{self.kiosk}-{i}", self.services[i % len(self.services)]
            try:
                reply = self.client.issue(self.kiosk, service, request_id=request_id, timeout=2)
            except EngineTimeout:
                self.pending = (request_id, service)
                return
            assert reply["ok"], reply
            self.acked[request_id] = reply["ticket"]


@pytest.mark.parametrize("synchronous", ["FULL"])
def test_kill_9_mid_burst_loses_no_acknowledged_ticket(broker_url, small_config_file, tmp_path, synchronous):
    data = tmp_path / "data"
    with ServeProcess(small_config_file, data, broker_url, tmp_path / "serve.log") as serve:
        serve.start()
        kiosks = [Kiosk(broker_url, f"k{n}", services) for n, services in enumerate(["A", "AB", "K"])]
        for kiosk in kiosks:
            kiosk.start()
        deadline = time.monotonic() + 30
        while sum(len(k.acked) for k in kiosks) < 60 and time.monotonic() < deadline:
            time.sleep(0.01)
        serve.kill()  # mid-burst: the kiosks are still sending
        for kiosk in kiosks:
            kiosk.join(20)
        acked = {rid: ticket for k in kiosks for rid, ticket in k.acked.items()}
        assert len(acked) >= 60
        assert all(k.pending for k in kiosks), "each kiosk was cut off mid-request"

        serve.start()
        # a kiosk retrying its unanswered request gets one ticket, never two
        for kiosk in kiosks:
            request_id, service = kiosk.pending
            first = kiosk.client.issue(kiosk.kiosk, service, request_id=request_id)
            again = kiosk.client.issue(kiosk.kiosk, service, request_id=request_id)
            assert first["ticket"]["id"] == again["ticket"]["id"]
            acked[request_id] = first["ticket"]
        # and every acknowledged request still returns the very ticket it got before the crash
        probe = kiosks[0]
        for request_id in list(probe.acked)[-3:]:
            assert probe.client.issue(probe.kiosk, "A", request_id=request_id)["ticket"] == probe.acked[request_id]
        after = {s: probe.client.issue("k9", s)["ticket"]["number"] for s in "ABK"}
        for kiosk in kiosks:
            kiosk.client.stop()

    numbers = [t["number"] for t in acked.values()]
    assert len(numbers) == len(set(numbers)), "a number was issued twice"
    per_service = Counter(n[0] for n in numbers)
    for service, count in per_service.items():
        # numbers are gap-free and never reused: the next one after the crash continues the sequence
        assert sorted(n for n in numbers if n[0] == service) == [f"{service}{i:03d}" for i in range(1, count + 1)]
        assert after[service] == f"{service}{count + 1:03d}"

    stored = {e.data["ticket"] for e in EventStore(data, SITE).iter_events() if e.type == "ticket_issued"}
    assert {t["id"] for t in acked.values()} <= stored


def test_restart_rebuilds_the_same_state(small_config, embedded_url, tmp_path):
    """A clean restart over the same data folder serves on exactly where it stopped."""
    data = tmp_path / "data"
    service, stop = start_engine(small_config, embedded_url, data)
    client = EngineClient(embedded_url, SITE, name="test-restart").start()
    try:
        for code in "AABBK":
            client.issue("k1", code)
        client.counter("1", "next")
        client.counter("5", "next")
        client.counter("2", "break")
        before = {cid: service.engine.counter_public(cid) for cid in small_config.counters}
        waiting = {code: service.engine.waiting_ids(code) for code in small_config.services}
        stop()
        service, stop = start_engine(small_config, embedded_url, data)
        assert {cid: service.engine.counter_public(cid) for cid in small_config.counters} == before
        assert {code: service.engine.waiting_ids(code) for code in small_config.services} == waiting
        assert client.issue("k1", "A", timeout=6)["ticket"]["number"] == "A003"
    finally:
        client.stop()
        stop()


def test_a_data_folder_of_another_site_is_refused(tmp_path):
    EventStore(tmp_path, "rembang").close()
    with pytest.raises(StoreError, match="belongs to site 'rembang'"):
        EventStore(tmp_path, "testsite")


def test_a_failed_write_stores_nothing_of_the_batch(small_config, tmp_path):
    store = EventStore(tmp_path, SITE)
    engine = Engine(small_config, ignore_hours=True)
    now = 1795381556.0
    first = engine.handle(IssueTicket(request_id="r1", source="kiosk/k1", service="A", kiosk="k1"), now)
    store.append([first])
    second = engine.handle(IssueTicket(request_id="r2", source="kiosk/k1", service="A", kiosk="k1"), now)
    # a batch whose second half collides with a stored event (as a broken disk or a bug would) fails whole
    with pytest.raises(StoreError, match="cannot write"):
        store.append([second, first])
    assert [e.data.get("number") for e in store.iter_events()] == [None, "A001"]
    store.append([second])  # the store reconnects and carries on
    assert [e.data.get("number") for e in store.iter_events()][-1] == "A002"


def test_serve_explains_an_unusable_data_folder(small_config_file, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    result = subprocess.run([sys.executable, "-m", "broker.cli", "serve", "--config", str(small_config_file),
                             "--data", str(blocker / "sub"), "--mqtt", "mqtt://127.0.0.1:9"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "cannot create the data folder" in result.stderr


# ---------------------------------------------------------------------- a scripted day under faults


class Desk(threading.Thread):
    """A kiosk or a counter that, like the real ones, retries each request with the same id until answered."""

    def __init__(self, url: str, act, count: int, name: str):
        super().__init__(daemon=True)
        self.client = EngineClient(url, SITE, name=name).start(wait=10)
        self.act, self.count, self.name = act, count, name
        self.sent = 0  # every request, retries after a timeout included
        self.timeouts = 0
        self.answers: dict[str, dict] = {}

    def run(self) -> None:
        for i in range(self.count):
            request_id = f"{self.name}-{i}"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                self.sent += 1
                try:
                    self.answers[request_id] = self.act(self.client, request_id)
                    break
                except EngineTimeout:
                    self.timeouts += 1
            time.sleep(0.01)


@pytest.mark.skipif(not Path("/usr/sbin/mosquitto").exists() and shutil.which("mosquitto") is None,
                    reason="mosquitto is not installed")
def test_a_scripted_day_survives_engine_and_broker_kills(tmp_path):
    """Secured Mosquitto from `antrian broker-config` and `antrian serve` as processes; both killed -9 mid-day."""
    from integration.secure_broker import secured_broker, secured_site_text

    site = secured_site_text().replace("counter_debounce_s = 1.0", "counter_debounce_s = 0")  # fast officers
    b = secured_broker(tmp_path, site).start()
    config_file = tmp_path / "site.toml"
    faults = 0
    with ServeProcess(config_file, b.data, b.url(), tmp_path / "serve.log", watch_url=b.url("monitor-tech")) as serve:
        serve.start()
        kiosk = Desk(b.url("kiosk-K1"), lambda c, rid: c.issue("K1", "AB"[int(rid.rsplit("-", 1)[1]) % 2],
                                                              request_id=rid, timeout=2), 120, "K1")
        counters = [Desk(b.url(f"counter-c{n}"), lambda c, rid, n=n: c.counter(str(n), "next", request_id=rid,
                                                                               timeout=2), 60, f"c{n}")
                    for n in (1, 2)]
        desks = [kiosk, *counters]
        for desk in desks:
            desk.start()

        def wait_for_answers(n: int) -> None:
            deadline = time.monotonic() + 60
            while sum(len(d.answers) for d in desks) < n and time.monotonic() < deadline:
                time.sleep(0.02)

        wait_for_answers(40)
        serve.kill()  # the engine's power cut
        faults += 1
        serve.start()
        wait_for_answers(110)
        b.kill()  # the broker's power cut
        faults += 1
        b.start()
        for desk in desks:
            desk.join(120)
            assert not desk.is_alive() and len(desk.answers) == desk.count, f"{desk.name} was never answered"
            desk.client.stop()
    b.stop()

    tickets = {rid: reply["ticket"] for rid, reply in kiosk.answers.items()}
    assert all(reply["ok"] for reply in kiosk.answers.values())
    numbers = [t["number"] for t in tickets.values()]
    assert len(set(numbers)) == len(numbers) == 120, "one ticket per request, no number reused"
    called = [reply["ticket"]["id"] for d in counters for reply in d.answers.values()
              if reply.get("ok") and reply.get("ticket") and not reply.get("debounced")]
    events = list(EventStore(b.data, SITE).iter_events())
    issued = {e.data["ticket"] for e in events if e.type == "ticket_issued"}
    calls = Counter(e.data["ticket"] for e in events if e.type == "ticket_called")
    lost = {t["id"] for t in tickets.values()} - issued
    assert not lost, f"acknowledged tickets missing from the log: {lost}"
    assert all(n == 1 for n in calls.values()), "a ticket was called (served) twice"
    assert set(called) <= set(calls), "a call the counter saw is not in the log"
    figures = {"faults_injected": faults + 0, "commands_answered": sum(len(d.answers) for d in desks),
               "commands_sent_with_retries": sum(d.sent for d in desks),
               "timeouts_retried": sum(d.timeouts for d in desks), "tickets_acknowledged": len(tickets),
               "tickets_lost": len(lost), "tickets_called": len(calls)}
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "fault-figures.json").write_text(json.dumps(figures, indent=2))
    print(figures)
