"""A real `antrian serve` over Mosquitto, fuzzed at full speed with every class of payload.

While a fuzzer publishes thousands of hostile messages as fast as paho sends them (deep
nesting, huge numbers, wrong types, binary, not UTF-8, lone surrogates, non-ASCII ids and
tokens, sign-ins with forged proofs, on every topic kind), an honest kiosk takes tickets one
request at a time. The engine process must live through all of it, answer the kiosk with
exactly one ticket per request, log no traceback, and store exactly the tickets it
acknowledged: nothing of a refused message.
"""

from __future__ import annotations

import json
import queue
import random
import signal
import subprocess
import sys
import threading

import pytest

from broker.core.events import EventType
from broker.mqtt.client import EngineClient
from broker.mqtt.connection import Connection
from broker.protocol.codec import MAX_PAYLOAD, Topics
from broker.server.store import EventStore
from conftest import MosquittoBroker, _mosquitto_binary
from unit.test_hostile_input import PAYLOADS, deep

SITE = "testsite"
T = Topics(SITE)
HONEST = "honest"
REQUESTS = 120
FUZZ_MESSAGES = 4000

TOPICS = [T.kiosk_request("k1"), T.kiosk_request("é-kiosk"), T.kiosk_request("0"), T.counter_command("1"),
          T.counter_command("4K-10"), T.counter_command("99"), T.counter_button("1"), T.counter_button("2"),
          T.survey_request("1"), T.survey_request("web"), f"{T.root}/counter/1/selfdestruct",
          f"{T.root}/kiosk/k1/reply", "antrian/othersite/kiosk/k1/request", f"{T.root}/survey/ñ/request"]

FIELDS = ["request_id", "service", "priority", "action", "to", "number", "officer", "nonce", "proof", "ticket",
          "answers", "comment", "token", "pin"]
ODD_VALUES = [None, True, 0, -1, 10**4000 // 10**3000, 1e300, "", "A", "B", "P", "Z", "é", "Á001", "\ud800", "A001",
              "next", "sign-in", "sign-in-challenge", "transfer", "call", "reactivate", "no-show", "finish", "siti",
              "20260303-A001", "ééééééééééééééééééééééé", [4] * 9, [1, 2], {"a": {"b": 1}}, "x" * 70]


def fuzz_payload(rng: random.Random) -> bytes:
    kind = rng.randrange(9)
    if kind == 0:
        return deep(rng.randrange(2, 2000))
    if kind == 1:
        body = {k: rng.choice(ODD_VALUES) for k in rng.sample(FIELDS, rng.randrange(1, 6))}
        text = json.dumps(body, ensure_ascii=rng.random() < 0.5)[:-1]
        return (text + (", " if len(text) > 1 else "") + '"x":').encode("utf-8", "surrogatepass") + \
            deep(rng.randrange(3, 1500)) + b"}"
    if kind == 2:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300)))
    if kind == 3:
        return rng.choice(list(PAYLOADS.values()))
    if kind == 4:  # huge numbers in every field
        return ("{" + ",".join(f'"{k}":{"9" * rng.randrange(1, 600)}' for k in rng.sample(FIELDS, 4)) + "}").encode()
    if kind == 5:  # plain text for the buttons
        return rng.choice([b"next", b"NEXT", b"recall", b"finish", b"no_show", b"\xff\xfenext", b"selfdestruct", b""])
    if kind == 6:
        return b'{"request_id":"o","pad":"' + b"x" * (MAX_PAYLOAD + rng.randrange(1, 3000)) + b'"}'
    # commands that are well-formed enough to reach the handlers, with hostile values
    body = {"request_id": f"f{rng.randrange(10**6)}"} | {k: rng.choice(ODD_VALUES)
                                                          for k in rng.sample(FIELDS[1:-1], rng.randrange(1, 5))}
    return json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")


@pytest.mark.timeout(300)
def test_antrian_serve_survives_a_full_speed_fuzzer_and_the_kiosk_gets_one_ticket_per_request(tmp_path,
                                                                                               small_config_file):
    if _mosquitto_binary() is None:
        pytest.skip("mosquitto is not installed")
    broker = MosquittoBroker(tmp_path).start()
    data = tmp_path / "data"
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        serve = subprocess.Popen([sys.executable, "-m", "broker.cli", "serve", "--mqtt", broker.url, "--config",
                                  str(small_config_file), "--data", str(data), "--ignore-hours"],
                                 stdout=log, stderr=subprocess.STDOUT)
    replies: queue.Queue[tuple[str, bytes]] = queue.Queue()
    online = threading.Event()

    def seen(topic: str, payload: bytes, retained: bool) -> None:
        if topic != T.engine:
            replies.put((topic, payload))
        elif b'"online"' in payload:
            online.set()

    watcher = Connection(broker.url, "fuzz-watcher", on_message=seen,
                         subscriptions=[T.engine, f"{T.root}/+/+/reply"]).start(wait=5)
    fuzzer = Connection(broker.url, "fuzz-fuzzer").start(wait=5)
    kiosk = EngineClient(broker.url, SITE, name="fuzz-honest-kiosk")
    try:
        assert online.wait(30), f"antrian serve did not come up: {log_path.read_text(errors='replace')}"
        kiosk.start()
        rng = random.Random(13)
        sent = threading.Event()

        def fuzz() -> None:
            for i in range(FUZZ_MESSAGES):
                fuzzer.publish(TOPICS[i % len(TOPICS)], fuzz_payload(rng))
            sent.set()

        thread = threading.Thread(target=fuzz, daemon=True)
        thread.start()
        tickets = []
        for i in range(REQUESTS):  # meanwhile, an honest kiosk: one request at a time, sometimes retried
            reply = kiosk.issue(HONEST, "ABK"[i % 3], request_id=f"h-{i}", timeout=20)
            assert reply["ok"], reply
            if i % 10 == 0:
                assert kiosk.issue(HONEST, "ABK"[i % 3], request_id=f"h-{i}", timeout=20) == reply, "a retry"
            tickets.append(reply["ticket"]["id"])
        thread.join(120)
        assert sent.is_set()
        probe = kiosk.issue(HONEST, "A", request_id="h-last", timeout=60)  # behind every fuzz message
        assert probe["ok"] and serve.poll() is None, "antrian serve is still running"
        tickets.append(probe["ticket"]["id"])
        assert len(set(tickets)) == len(tickets) == REQUESTS + 1, "exactly one ticket per request"
    finally:
        kiosk.stop()
        fuzzer.stop()
        watcher.stop()
        if serve.poll() is None:
            serve.send_signal(signal.SIGINT)
            serve.wait(20)
        broker.stop()
    output = log_path.read_text(errors="replace")
    assert "Traceback" not in output and "the engine failed" not in output, output[-3000:]
    assert "refused a message" in output, "the fuzz reached the engine and was refused there"

    # what was stored is exactly what was acknowledged: nothing of a refused message
    acknowledged = set()
    while not replies.empty():
        _, payload = replies.get_nowait()
        try:
            reply = json.loads(payload)
        except (ValueError, RecursionError):  # the fuzzer's own forgeries on a reply topic
            continue
        if isinstance(reply, dict) and reply.get("ok") is True and isinstance(reply.get("ticket"), dict) \
                and "ahead" in reply:
            acknowledged.add(reply["ticket"]["id"])
    store = EventStore(data, SITE)
    try:
        events = list(store.iter_events())
    finally:
        store.close()
    issued = [e for e in events if e.type == EventType.TICKET_ISSUED]
    assert sorted(e.data["ticket"] for e in issued if e.data["kiosk"] == HONEST) == sorted(tickets)
    assert {e.data["ticket"] for e in issued} == acknowledged
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
