"""Messages to visitors' phones through the outbox: real HTTP gateways on 127.0.0.1, real Gammu SMSD
(files backend), the real `antrian serve` killed with SIGKILL in the middle of a morning."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from broker.access.policy import AccessPolicy, Action, Device, Role
from broker.core.commands import CounterCommand, CounterRequest, IssueTicket, NotifySubscribe, Tick
from broker.core.engine import Engine
from broker.mqtt.client import EngineClient
from broker.mqtt.connection import Connection
from broker.protocol.codec import Topics
from broker.server.outbox import GammuChannel, Message, Outbox, Sender, WebhookChannel, load_channels
from broker.server.store import EventStore
from broker.site.config import parse_config
from conftest import SMALL_SITE
from integration.test_durability import SITE, ServeProcess

PHONE = "+6281234567890"


def wait_until(condition, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class Gateway:
    """A WhatsApp gateway on 127.0.0.1 that records every request; `fail_first` requests get HTTP 503. With
    `hold_first` it takes the first message (it reaches the phone) but holds its answer until `release` is set:
    the moment a crash leaves a message in doubt."""

    def __init__(self, fail_first: int = 0, answer: bytes = b'{"status": true}', hold_first: bool = False):
        self.requests: list[dict] = []
        self.fail_left = fail_first
        self.lock = threading.Lock()
        self.hold_left = 1 if hold_first else 0
        self.held, self.release = threading.Event(), threading.Event()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with gateway.lock:
                    failing = gateway.fail_left > 0
                    gateway.fail_left -= 1 if failing else 0
                    gateway.requests.append({"path": self.path, "headers": dict(self.headers), "body": body,
                                             "failed": failing})
                    holding = gateway.hold_left > 0
                    gateway.hold_left -= 1 if holding else 0
                if holding:
                    gateway.held.set()
                    gateway.release.wait(30)
                try:
                    self.send_response(503 if failing else 200)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"status": false}' if failing else answer)
                except OSError:  # the sender died while its answer was held
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivered(self) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if not r["failed"]]

    def on_the_phone(self) -> Counter:
        """The messages the visitors' phones show, by id, when the gateway drops a repeated Idempotency-Key
        (a request without one always goes through)."""
        seen: set[str] = set()
        shown: Counter = Counter()
        for request in self.delivered():
            key = request["headers"].get("Idempotency-Key")
            if key is None or key not in seen:
                shown[message_id(request)] += 1
            if key is not None:
                seen.add(key)
        return shown

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def message_id(request: dict) -> str:
    """The message id of a gateway's request: the webhook's JSON `id`, or the Fonnte form's text."""
    if request["headers"].get("Content-Type", "").startswith("application/json"):
        return json.loads(request["body"])["id"]
    return urllib.parse.parse_qs(request["body"].decode())["message"][0]


def statuses(data: Path) -> dict[str, str]:
    """The outbox's rows, read from the engine's SQLite file as a technician would: id -> status."""
    db = sqlite3.connect(data / "antrian.sqlite3", timeout=10)
    try:
        return dict(db.execute("SELECT id, status FROM outbox").fetchall())
    finally:
        db.close()


@pytest.fixture
def gateway():
    g = Gateway()
    yield g
    g.close()


def store_with_messages(data: Path, ahead: int = 2, *, tickets: int = 1, call: bool = True):
    """A store holding subscribed tickets' messages, written as the engine service writes them: each ticket's
    "near" (all are within `ahead`), then, with `call`, the first ticket's "called" in a later batch."""
    config = parse_config(SMALL_SITE.replace("[rules]", f"[rules]\nnotify_ahead = {ahead}"))
    engine = Engine(config, ignore_hours=True, survey_secret=b"s" * 32)
    store = EventStore(data, config.site.id)
    now = time.time()
    out = []
    for n in range(tickets):
        issued = engine.handle(IssueTicket(request_id=f"i{n}", source="kiosk/K1", service="A", kiosk="K1"), now)
        out += [issued, engine.handle(NotifySubscribe(request_id=f"n{n}", source="kiosk/K1", consent=True,
                                                      ticket=issued.reply["ticket"]["id"], phone=PHONE), now)]
    store.append(out)
    if call:
        call_next(store, engine)
    return store, engine


def call_next(store: EventStore, engine: Engine, counter: str = "1") -> None:
    """The counter opens (if it is not open) and calls the next ticket: its "called" message is queued."""
    now = time.time()
    store.append([engine.handle(CounterRequest(request_id=f"c{counter}-{action}-{now}", source=f"counter/{counter}",
                                               counter=counter, action=action), now)
                  for action in (CounterCommand.OPEN, CounterCommand.NEXT)])


def test_a_webhook_gateway_gets_each_message_once_in_json(tmp_path, gateway):
    store, engine = store_with_messages(tmp_path, call=False)
    channel = WebhookChannel(url=gateway.url, headers={"Authorization": "Bearer {secret}", "Idempotency-Key": "{id}"},
                             body='{"to": "{phone}", "text": "{text}", "id": "{id}"}', secret="rahasia",
                             per_minute=6000)
    assert channel.idempotent  # the id goes along: a message in doubt may go again
    sender = Sender(store.path, {"whatsapp": channel})
    sender.start()
    try:
        wait_until(lambda: len(gateway.delivered()) == 1, what="the near message")
        call_next(store, engine)
        sender.wake()
        wait_until(lambda: len(gateway.delivered()) == 2, what="two messages")
        outbox = Outbox(store.path)
        wait_until(lambda: outbox.counts() == {"sent": 2}, what="both marked sent")
    finally:
        sender.stop()
        sender.join(5)
    bodies = [json.loads(r["body"]) for r in gateway.delivered()]
    assert [b["id"].split(":")[1] for b in bodies] == ["near", "called"]
    assert all(b["to"] == PHONE for b in bodies)
    assert "tinggal 0 orang lagi" not in bodies[0]["text"] and "segera dipanggil" in bodies[0]["text"]
    assert "dipanggil, silakan ke Loket 1" in bodies[1]["text"]
    assert gateway.delivered()[0]["headers"]["Authorization"] == "Bearer rahasia"
    assert gateway.delivered()[0]["headers"]["Idempotency-Key"] == bodies[0]["id"]
    time.sleep(0.2)  # a sender that would send again has had its chance
    assert len(gateway.requests) == 2


def test_a_gateway_failing_twice_is_retried_and_gets_the_message_once(tmp_path, caplog):
    gateway = Gateway(fail_first=2)
    try:
        (tmp_path / "wa-token").write_text("TOKEN-123\n")
        (tmp_path / "notify.toml").write_text(f'[whatsapp]\npreset = "fonnte"\nurl = "{gateway.url}"\n'
                                              'secret_file = "wa-token"\nper_minute = 6000\n')
        channels = load_channels(tmp_path / "notify.toml")
        store, engine = store_with_messages(tmp_path / "data", call=False)  # "near"
        assert not channels["whatsapp"].idempotent  # Fonnte's request carries no id
        sender = Sender(store.path, channels, retry_base_s=0.05)
        with caplog.at_level("INFO", logger="antrian.notify"):
            sender.start()
            try:
                wait_until(lambda: Outbox(store.path).counts() == {"sent": 1}, what="the near message sent")
                call_next(store, engine)  # "called"
                sender.wake()
                wait_until(lambda: Outbox(store.path).counts() == {"sent": 2}, what="the messages sent")
            finally:
                sender.stop()
                sender.join(5)
        assert [r["failed"] for r in gateway.requests] == [True, True, False, False]  # retried, then sent once each
        form = urllib.parse.parse_qs(gateway.delivered()[1]["body"].decode())
        assert form["target"] == ["6281234567890"] and form["countryCode"] == ["62"]
        assert "dipanggil" in form["message"][0]
        assert gateway.requests[0]["headers"]["Authorization"] == "TOKEN-123"
        assert "again in" in caplog.text and "sent via whatsapp" in caplog.text
        assert PHONE not in caplog.text and "6281234567890" not in caplog.text and "TOKEN-123" not in caplog.text
    finally:
        gateway.close()


def test_a_gateway_answering_200_with_status_false_is_not_sent(tmp_path):
    gateway = Gateway(answer=b'{"status": false, "reason": "token invalid"}')
    try:
        channel = WebhookChannel(url=gateway.url, body="target={phone62}&message={text}",
                                 content_type="application/x-www-form-urlencoded", success_field="status", per_minute=6000)
        store, _ = store_with_messages(tmp_path, tickets=2, call=False)  # two tickets' "near"
        sender = Sender(store.path, {"whatsapp": channel}, retry_base_s=0.02, max_attempts=3)
        outbox = Outbox(store.path)
        while outbox.counts() != {"failed": 2}:
            sender.deliver(outbox)
            time.sleep(0.03)
        assert len(gateway.requests) == 6  # three attempts each, then given up
    finally:
        gateway.close()


@pytest.mark.skipif(not shutil.which("gammu-smsd-inject"), reason="needs Debian's gammu-smsd")
def test_sms_through_gammu_smsd_files_backend(tmp_path):
    folders = {name: tmp_path / name for name in ("inbox", "outbox", "sent", "error")}
    for folder in folders.values():
        folder.mkdir()
    smsdrc = tmp_path / "smsdrc"
    smsdrc.write_text("[gammu]\ndevice = /dev/null\nconnection = at\n[smsd]\nservice = files\n"
                      + "".join(f"{name}path = {path}/\n" for name, path in folders.items()).replace("sentpath", "sentsmspath")
                      .replace("errorpath", "errorsmspath") + f"logfile = {tmp_path}/smsd.log\n")
    GammuChannel(config=str(smsdrc)).send(Message("20260302-A001:called:1", "sms", PHONE,
                                                  "Antrian: nomor A001 dipanggil, silakan ke Loket 1.", 0))
    files = list(folders["outbox"].iterdir())
    assert len(files) == 1, files
    backup = files[0].read_text()
    assert f'Number = "{PHONE}"' in backup
    hex_text = next(line.split("=", 1)[1].strip() for line in backup.splitlines() if line.startswith("Text00"))
    assert bytes.fromhex(hex_text).decode("utf-16-be") == "Antrian: nomor A001 dipanggil, silakan ke Loket 1."
    with pytest.raises(Exception, match="exit code"):  # a broken smsdrc: refused, with no number in the reason
        GammuChannel(config=str(tmp_path / "missing")).send(Message("x:near", "sms", PHONE, "t", 0))


def test_a_new_day_deletes_the_numbers(tmp_path):
    store, engine = store_with_messages(tmp_path)
    db = store._connection()
    assert db.execute("SELECT COUNT(*) FROM private").fetchone()[0] == 3  # subscribed, two queued
    assert all(PHONE not in data for (data,) in db.execute("SELECT data FROM events"))
    tomorrow = time.time() + 86400
    store.append([engine.handle(Tick(), tomorrow)])
    assert db.execute("SELECT COUNT(*) FROM private").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM outbox WHERE phone IS NOT NULL OR text IS NOT NULL").fetchone()[0] == 0
    assert {s for (s,) in db.execute("SELECT status FROM outbox")} == {"expired"}  # never sent the next day
    outbox = Outbox(store.path)
    assert outbox.counts() == {"expired": 2} and outbox.counts(today=True) == {}  # today's figures start afresh


def test_only_the_engine_and_the_monitor_may_read_the_number_on_its_way(tmp_path):
    """The number travels once, on the kiosk's own request topic (or the web tier's): the generated ACL lets
    no other device read it; the monitor (the admin, who owns the data folder) reads everything by design."""
    topics = Topics(SITE)
    devices = (Device(Role.KIOSK, "K1"), Device(Role.KIOSK, "K2"), Device(Role.COUNTER, "1"),
               Device(Role.DISPLAY, "hall"), Device(Role.ANNOUNCER, "voice"), Device(Role.SURVEY, "1"),
               Device(Role.SUPERVISOR, "kendali"), Device(Role.ENGINE, "main"), Device(Role.MONITOR, "tech"))
    policy = AccessPolicy(topics, devices)
    for topic in (topics.kiosk_request("K1"), topics.survey_request("web")):
        readers = {d.username for d in devices if policy.may(d.username, Action.RECEIVE, topic)}
        assert readers == {"engine-main", "monitor-tech"}, topic
    assert "kiosk/K1/request" not in policy.mosquitto_acl().split("user kiosk-K2")[1].split("user ")[0]


def test_kill_9_in_a_morning_loses_no_message_and_sends_none_twice(broker_url, small_config_file, tmp_path, gateway):
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "notify.toml").write_text(f'[whatsapp]\npreset = "webhook"\nurl = "{gateway.url}"\nper_minute = 6000\n')
    topics = Topics(SITE)
    seen: list[tuple[str, bytes]] = []
    watcher = Connection(broker_url, "test-watch-all", subscriptions=[f"{topics.root}/#"],
                         on_message=lambda t, p, r: seen.append((t, p))).start()
    log = tmp_path / "serve.log"
    phones = [f"+628123456{n:04d}" for n in range(6)]
    with ServeProcess(small_config_file, data, broker_url, log) as serve:
        serve.start()
        client = EngineClient(broker_url, SITE, name="test-notify-kiosk").start()
        tickets = []
        for n, phone in enumerate(phones):
            ticket = client.issue("K1", "A", request_id=f"i{n}")["ticket"]["id"]
            reply = client.request(topics.kiosk_request("K1"), topics.kiosk_reply("K1"),
                                   {"request_id": f"n{n}", "action": "notify-subscribe", "ticket": ticket,
                                    "phone": "0" + phone[3:], "consent": True})
            assert reply["ok"] and reply["notify"]["to"].endswith(phone[-4:]), reply
            tickets.append(ticket)
        client.counter("1", "open", request_id="o1")
        for n in range(3):
            client.counter("1", "finish", request_id=f"f{n}")
            client.counter("1", "next", request_id=f"x{n}")
        serve.kill()  # in the middle of the morning: messages queued, some sent, maybe some not yet
        serve.start()
        for n in range(3, 6):
            client.counter("1", "finish", request_id=f"f{n}")
            client.counter("1", "next", request_id=f"x{n}")
        client.counter("1", "finish", request_id="f-last")
        called = {f"{t}:called:1" for t in tickets}
        near = {f"{t}:near" for t in tickets}

        def settled() -> bool:  # every call sent; every "near" sent, or superseded by its call before it went
            rows = statuses(data)
            return all(rows.get(i) == "sent" for i in called) and all(rows.get(i) in ("sent", "superseded")
                                                                     for i in near)

        wait_until(settled, 30, "every call sent and every near message sent or superseded")
        client.stop()
    watcher.stop()
    rows = statuses(data)
    assert set(rows) == called | near and set(rows.values()) <= {"sent", "superseded"}, rows  # none unsure: a webhook
    phone = gateway.on_the_phone()  # what the visitors see, the gateway dropping a repeated Idempotency-Key
    assert all(phone[i] == 1 for i in called), phone  # every call, exactly once
    for i in near:  # "segera dipanggil": shown once, or never when the call came first
        assert (rows[i], phone[i]) in (("sent", 1), ("superseded", 0), ("superseded", 1)), (i, rows[i], phone[i])
    wire = Counter(json.loads(r["body"])["id"] for r in gateway.delivered())
    assert max(wire.values()) <= 2, wire  # only the one in flight at the kill may go twice, and with the same key
    assert sum(n - 1 for n in wire.values()) <= 1, wire
    assert all(r["headers"]["Idempotency-Key"] == json.loads(r["body"])["id"] for r in gateway.delivered())
    for request in gateway.delivered():
        body = json.loads(request["body"])
        assert body["to"] == phones[tickets.index(body["id"].split(":")[0])]
    # the numbers never reached the log or any topic but the kiosk's own request
    text = log.read_text()
    for phone in phones:
        assert phone not in text and phone[1:] not in text and "0" + phone[3:] not in text
        on_topics = {t for t, p in seen if phone[3:].encode() in p}
        assert on_topics <= {topics.kiosk_request("K1")}, on_topics
    assert any(t == topics.event("notification_queued") for t, _ in seen)


def subscribe(client: EngineClient, ticket: str, phone: str, channel: str = "whatsapp") -> None:
    topics = Topics(SITE)
    reply = client.request(topics.kiosk_request("K1"), topics.kiosk_reply("K1"),
                           {"request_id": f"n-{ticket}", "action": "notify-subscribe", "ticket": ticket,
                            "phone": "0" + phone[3:], "consent": True, "channel": channel})
    assert reply["ok"], reply


@pytest.mark.parametrize("preset", ["webhook", "fonnte"])
def test_kill_9_while_the_gateway_holds_its_answer(preset, broker_url, small_config_file, tmp_path):
    """The gateway took the message (the phone shows it) but its answer never reached a sender that died: the
    webhook, whose gateway drops a repeated Idempotency-Key, gets it again with the same key; Fonnte, which
    cannot tell a repeat, does not, and the row says `unsure`."""
    gateway = Gateway(hold_first=True)
    data, log = tmp_path / "data", tmp_path / "serve.log"
    data.mkdir(mode=0o700)
    (data / "notify.toml").write_text(f'[whatsapp]\npreset = "{preset}"\nurl = "{gateway.url}"\nper_minute = 6000\n')
    try:
        with ServeProcess(small_config_file, data, broker_url, log) as serve:
            serve.start()
            client = EngineClient(broker_url, SITE, name="test-hold-kiosk").start()
            try:
                ticket = client.issue("K1", "A", request_id="i0")["ticket"]["id"]
                near, called = f"{ticket}:near", f"{ticket}:called:1"
                subscribe(client, ticket, PHONE)  # nobody ahead: "segera dipanggil" goes out at once
                assert gateway.held.wait(20), "the gateway got no message"
                assert statuses(data) == {near: "sending"}  # claimed, and committed, before the gateway got it
                serve.kill()
                gateway.release.set()
                serve.start()
                wait_until(lambda: statuses(data)[near] == ("sent" if preset == "webhook" else "unsure"), 20,
                           "the message in doubt settled")
                client.counter("1", "open", request_id="o1")
                client.counter("1", "next", request_id="x1")
                wait_until(lambda: statuses(data).get(called) == "sent", 20, "the call sent")
            finally:
                client.stop()
        time.sleep(0.2)  # a sender that would send again has had its chance
    finally:
        gateway.close()
    text = log.read_text()
    assert PHONE not in text and PHONE[1:] not in text and "0" + PHONE[3:] not in text
    if preset == "webhook":
        assert [json.loads(r["body"])["id"] for r in gateway.requests] == [near, near, called]
        assert [r["headers"]["Idempotency-Key"] for r in gateway.requests] == [near, near, called]
        assert gateway.on_the_phone() == {near: 1, called: 1}
        assert f"message {near} was on its way when antrian stopped; sent again with the same id" in text
    else:
        texts = [message_id(r) for r in gateway.requests]  # Fonnte's form carries no id: tell them by their text
        assert len(texts) == 2 and "segera dipanggil" in texts[0] and "silakan ke Loket 1" in texts[1], texts
        assert f"message {near} was on its way to whatsapp when antrian stopped" in text and "unsure" in text
        assert "pesan ke ponsel hari ini: 1 mungkin sudah terkirim (tidak dikirim ulang)" in text
        assert "messages to phones today: 1 maybe sent (not sent again)" in text


INJECT_HOLDING = """#!/bin/sh
# gammu-smsd-inject, but the first call holds until {release} exists; "{held}": before or after injecting
if [ -e {first} ]; then exec gammu-smsd-inject "$@"; fi
touch {first}
if [ "{held}" = after ]; then gammu-smsd-inject "$@" || exit $?; fi
touch {holding}
while [ ! -e {release} ]; do sleep 0.05; done
[ "{held}" = after ] || exit 137  # killed with antrian (systemd stops the unit's whole cgroup): never injected
"""


@pytest.mark.skipif(not shutil.which("gammu-smsd-inject"), reason="needs Debian's gammu-smsd")
@pytest.mark.parametrize("held", ["after", "before"])
def test_kill_9_while_gammu_smsd_inject_runs(held, broker_url, small_config_file, tmp_path):
    """An SMS in flight at a kill is looked up in Gammu's files-backend folders: one written there is `sent`,
    one that never was is sent now; either way the outbox folder gets it exactly once."""
    spool = {name: tmp_path / name for name in ("inbox", "outbox", "sent", "error")}
    for folder in spool.values():
        folder.mkdir()
    smsdrc = tmp_path / "smsdrc"
    smsdrc.write_text("[gammu]\ndevice = /dev/null\nconnection = at\n[smsd]\nservice = files\n"
                      f"inboxpath = {spool['inbox']}/\noutboxpath = {spool['outbox']}/\n"
                      f"sentsmspath = {spool['sent']}/\nerrorsmspath = {spool['error']}/\nlogfile = {tmp_path}/smsd.log\n")
    marks = {name: tmp_path / name for name in ("first", "holding", "release")}
    inject = tmp_path / "inject"
    inject.write_text(INJECT_HOLDING.format(held=held, **marks))
    inject.chmod(0o755)
    data, log = tmp_path / "data", tmp_path / "serve.log"
    data.mkdir(mode=0o700)
    (data / "notify.toml").write_text(f'[sms]\ngammu_config = "{smsdrc}"\ninject = "{inject}"\nper_minute = 6000\n')
    try:
        with ServeProcess(small_config_file, data, broker_url, log) as serve:
            serve.start()
            client = EngineClient(broker_url, SITE, name="test-sms-kiosk").start()
            try:
                ticket = client.issue("K1", "A", request_id="i0")["ticket"]["id"]
                near = f"{ticket}:near"
                subscribe(client, ticket, PHONE, channel="sms")
                wait_until(marks["holding"].exists, 20, "the inject held")
                assert statuses(data) == {near: "sending"}
                serve.kill()
                serve.start()
                wait_until(lambda: statuses(data)[near] == "sent", 20, "the SMS in doubt settled")
            finally:
                client.stop()
    finally:
        marks["release"].touch()
    files = sorted(spool["outbox"].iterdir())
    assert len(files) == 1 and f"_{PHONE}_" in files[0].name, files
    assert "segera dipanggil" in files[0].read_text()
    text = log.read_text()
    if held == "after":
        assert f"message {near} was on its way when antrian stopped: sent" in text
    else:
        assert f"message {near} was on its way when antrian stopped; sent again (sms never took it)" in text
    assert PHONE not in text and PHONE[1:] not in text


def test_a_message_due_again_after_its_ticket_moved_on_is_superseded(tmp_path):
    """"Segera dipanggil" failed once and waits for its retry; the ticket is called meanwhile: the call goes,
    the stale "near" never does."""
    gateway = Gateway(fail_first=1)
    try:
        store, engine = store_with_messages(tmp_path, call=False)
        channel = WebhookChannel(url=gateway.url, body='{"id": "{id}"}', per_minute=6000)
        sender = Sender(store.path, {"whatsapp": channel}, retry_base_s=0.05)
        outbox = Outbox(store.path)
        sender.deliver(outbox)
        assert outbox.counts() == {"pending": 1} and len(gateway.requests) == 1  # failed, a retry due in 0.05 s
        call_next(store, engine)
        deadline = time.monotonic() + 10
        while outbox.counts() != {"sent": 1, "superseded": 1} and time.monotonic() < deadline:
            sender.deliver(outbox)
            time.sleep(0.02)
        assert outbox.counts() == {"sent": 1, "superseded": 1}
        assert [json.loads(r["body"])["id"].split(":", 1)[1] for r in gateway.requests] == ["near", "called:1"]
        assert [r["failed"] for r in gateway.requests] == [True, False]
    finally:
        gateway.close()


def test_each_channel_keeps_its_pace(tmp_path, gateway):
    store, _ = store_with_messages(tmp_path, tickets=2, call=False)  # two messages due at once
    mono = [100.0]
    channel = WebhookChannel(url=gateway.url, body='{"id": "{id}"}', per_minute=2)  # one per 30 s
    sender = Sender(store.path, {"whatsapp": channel}, mono=lambda: mono[0])
    outbox = Outbox(store.path)
    wait = sender.deliver(outbox)
    assert len(gateway.requests) == 1 and 0 < wait <= 30  # the second waits for the channel's pace
    mono[0] += 29
    sender.deliver(outbox)
    assert len(gateway.requests) == 1
    mono[0] += 1
    sender.deliver(outbox)
    assert len(gateway.requests) == 2 and outbox.counts() == {"sent": 2}


def test_a_withdrawn_consent_deletes_the_number_at_once(tmp_path):
    store, engine = store_with_messages(tmp_path)
    ticket = next(iter(engine.hall.subscriptions))
    store.append([engine.handle(NotifySubscribe(request_id="w", source="kiosk/K1", ticket=ticket, withdraw=True),
                                time.time())])
    db = store._connection()
    assert db.execute("SELECT COUNT(*) FROM private").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM outbox WHERE phone IS NOT NULL").fetchone()[0] == 0
    assert {s for (s,) in db.execute("SELECT status FROM outbox")} == {"withdrawn"}
    assert Outbox(store.path).due(time.time() + 1) == []


def test_a_log_from_before_the_claim_gets_its_column(tmp_path, gateway):
    """A site's log made before rows were claimed (no `claimed_at`) is upgraded in place when the engine opens it."""
    store, engine = store_with_messages(tmp_path, call=False)
    store.close()
    db = sqlite3.connect(store.path)
    db.execute("ALTER TABLE outbox DROP COLUMN claimed_at")
    db.close()
    store = EventStore(tmp_path, engine.config.site.id)
    columns = {row[1] for row in store._connection().execute("PRAGMA table_info(outbox)")}
    assert "claimed_at" in columns
    sender = Sender(store.path, {"whatsapp": WebhookChannel(url=gateway.url, body='{"id": "{id}"}', per_minute=6000)})
    outbox = Outbox(store.path)
    sender.deliver(outbox)
    assert outbox.counts() == {"sent": 1} and len(gateway.requests) == 1


def test_an_adapter_that_breaks_is_retried_and_the_sender_lives_on(tmp_path, caplog):
    """A fault inside a channel (not a SendError: here a ValueError naming the number) is a failed attempt: the
    message is retried with back-off and sent once the channel works, the sender thread goes on, and the log
    says the fault's type, never its text (which holds the number)."""

    class Breaks:
        name, per_minute, idempotent = "whatsapp", 6000, True

        def __init__(self):
            self.calls, self.sent = 0, []

        def send(self, message):
            self.calls += 1
            if self.calls <= 2:
                raise ValueError(f"cannot send to {message.phone}")
            self.sent.append(message.id)

        def handed_over(self, message, claimed_at):
            return None

    channel = Breaks()
    store, _ = store_with_messages(tmp_path / "data", call=False)  # "near"
    sender = Sender(store.path, {"whatsapp": channel}, retry_base_s=0.05)
    with caplog.at_level("INFO", logger="antrian.notify"):
        sender.start()
        try:
            wait_until(lambda: Outbox(store.path).counts() == {"sent": 1}, what="the message sent after two faults")
            assert sender.is_alive()
        finally:
            sender.stop()
            sender.join(5)
    assert channel.calls == 3 and len(channel.sent) == 1
    assert "ValueError" in caplog.text and PHONE not in caplog.text and PHONE[1:] not in caplog.text
