"""Booking, cancel, check-in and the cut-off through the real engine process and Mosquitto; parallel bookings
for the last places never overbook; bookings for a later day survive a restart across the day rollover."""

from __future__ import annotations

import json
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

from broker.mqtt.client import EngineClient
from broker.mqtt.connection import Connection
from broker.protocol.codec import Topics
from broker.server.store import EventStore
from broker.site.config import parse_config
from conftest import SMALL_SITE, start_engine

WIB = ZoneInfo("Asia/Jakarta")
SITE = "testsite"
T = Topics(SITE)
# Passports (Tuesday and Thursday): 6 a day, 4 booked ahead in two sessions of 2 places
CONFIG = SMALL_SITE.replace('quota = 3\npriority = false', 'quota = 6\npriority = false\nquota_online = 4\n'
                            'sessions = ["08:00-10:00", "10:00-12:00"]')


def wib(day: int, hour: int, minute: int = 0) -> float:
    return datetime(2026, 3, day, hour, minute, tzinfo=WIB).timestamp()


def book(client: EngineClient, day: str = "2026-03-05", session: str = "08:00-10:00", **kw) -> dict:
    body = {"action": "book", "service": "P", "day": day, "session": session} | kw
    return client.request(T.booking_request("web"), T.booking_reply("web"), body)


def kiosk(client: EngineClient, body: dict) -> dict:
    return client.request(T.kiosk_request("k1"), T.kiosk_reply("k1"), body)


def test_book_cancel_check_in_and_the_cut_off_end_to_end(broker_url, tmp_path):
    config = parse_config(CONFIG)
    now = [wib(3, 9)]  # Tuesday
    service, stop = start_engine(config, broker_url, tmp_path / "data", clock=lambda: now[0], ignore_hours=False)
    client = EngineClient(broker_url, SITE, name="booking-web").start()
    seen: list[dict] = []
    watcher = Connection(broker_url, "booking-watcher", subscriptions=[T.booking_state("P")],
                         on_message=lambda topic, payload, retained: seen.append(json.loads(payload)))
    watcher.start()
    try:
        first = book(client, phone="0812 3456 7890")
        assert first["ok"], first
        assert book(client, phone="0812 3456 7890")["reason"] == "limit"
        second = book(client)
        third = book(client, session="10:00-12:00")
        assert second["ok"] and third["ok"]
        full = book(client)
        assert full["error"]["code"] == "booking_full" and full["next_open"] == "2026-03-10"
        cancel = {"action": "booking-cancel", "code": third["booking"]["code"], "token": third["token"]}
        cancelled = client.request(T.booking_request("web"), T.booking_reply("web"), cancel)
        assert cancelled["booking"]["state"] == "cancelled"
        pause = threading.Event()
        for _ in range(100):  # the retained booking state follows (a hang guard, not a time asserted)
            thursday = [d for s in seen for d in s["days"] if d["day"] == "2026-03-05"]
            if thursday and [x["left"] for x in thursday[-1]["sessions"]] == [0, 2]:
                break
            pause.wait(0.1)
        assert [x["left"] for x in thursday[-1]["sessions"]] == [0, 2], seen[-1:]
    finally:
        watcher.stop()
        client.stop()
        stop()
    # the engine restarts on Thursday morning: the bookings made on Tuesday are still there
    now[0] = wib(5, 7, 50)
    service, stop = start_engine(config, broker_url, tmp_path / "data", clock=lambda: now[0], ignore_hours=False)
    client = EngineClient(broker_url, SITE, name="kiosk").start()
    try:
        checked = kiosk(client, {"action": "check-in", "code": first["booking"]["code"].lower()})
        assert checked["ok"], checked
        assert checked["ticket"]["reservation"] and checked["ticket"]["number"] == "P001"
        twice = kiosk(client, {"action": "check-in", "code": first["booking"]["code"]})
        assert twice["error"]["code"] == "booking_checked_in" and twice["number"] == "P001"
        assert kiosk(client, {"service": "P"})["ok"] and kiosk(client, {"service": "P"})["ok"]
        assert kiosk(client, {"service": "P"})["error"]["code"] == "quota_reached", "4 places held online"
        now[0] = wib(5, 8, 16)  # past the first session's cut-off: the no-show's place goes to a walk-in
        late = kiosk(client, {"action": "check-in", "code": second["booking"]["code"]})
        assert late["error"]["code"] == "check_in_too_late" and late["reason"] == "cutoff"
        assert kiosk(client, {"service": "P"})["ok"]
        assert kiosk(client, {"service": "P"})["error"]["code"] == "quota_reached"
    finally:
        client.stop()
        stop()
    types = [str(e.type) for e in EventStore(tmp_path / "data", SITE).iter_events()]
    assert types.count("booking_made") == 3 and types.count("booking_released") >= 1
    assert types.count("demand_turned_away") == 5, "limit, full, quota twice, cut-off: recounted from the log"


def test_parallel_bookings_for_the_last_places_never_overbook(broker_url, tmp_path):
    config = parse_config(CONFIG)
    now = [wib(3, 9)]
    service, stop = start_engine(config, broker_url, tmp_path / "data", clock=lambda: now[0], ignore_hours=False)
    clients = [EngineClient(broker_url, SITE, name=f"attacker-{i}").start() for i in range(4)]
    replies: list[dict] = []
    lock = threading.Lock()

    def attack(client: EngineClient) -> None:
        body = {"action": "book", "service": "P", "day": "2026-03-05", "session": "10:00-12:00"}
        got = client.send_many([(T.booking_request("web"), T.booking_reply("web"), dict(body))
                                for _ in range(25)]).wait(30)
        with lock:
            replies.extend(got)

    try:
        threads = [threading.Thread(target=attack, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(replies) == 100
        booked = [r for r in replies if r["ok"]]
        assert len(booked) == 2, "the session has 2 online places"
        assert len({r["booking"]["code"] for r in booked}) == 2
        assert all(r["error"]["code"] == "booking_full" for r in replies if not r["ok"])
    finally:
        for client in clients:
            client.stop()
        stop()
