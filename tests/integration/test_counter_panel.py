"""The counter officer's panel and hardware buttons against the real engine over real MQTT brokers.

The panel (kiosk/counter/app.py) is driven by real pygame key events, as a USB numeric
keypad sends them, and drawn headless; what it does is traced on `events/#` as
`mosquitto_sub -t 'antrian/testsite/events/#'` would show it.
"""

from __future__ import annotations

import threading
import time

import pytest

from broker.core.pin import verify_pin
from broker.mqtt.client import EngineClient
from broker.mqtt.connection import Connection
from broker.protocol.codec import Topics
from broker.protocol.state import CounterState, ServiceState, decode, public_config
from broker.site.config import parse_config
from conftest import OUTPUT, SMALL_SITE, antrian_cli, start_engine
from integration.test_mqtt_contract import Listener, wait_until
from unit.test_counter_officers import PINS, officers_toml

SITE = "testsite"
T = Topics(SITE)


def keypad(app, name: str) -> None:
    """One key of a USB numeric keypad, as pygame reports it, then wait for the engine's answer."""
    import pygame

    codes = {"enter": (pygame.K_KP_ENTER, "\r"), "+": (pygame.K_KP_PLUS, "+"), "-": (pygame.K_KP_MINUS, "-"),
             "*": (pygame.K_KP_MULTIPLY, "*"), "/": (pygame.K_KP_DIVIDE, "/"), ".": (pygame.K_KP_PERIOD, "."),
             **{str(n): (getattr(pygame, f"K_KP_{n}"), str(n)) for n in range(10)}}
    key, char = codes[name]
    app.event(pygame.event.Event(pygame.KEYDOWN, key=key, unicode=char, mod=0))
    assert app.wait_idle(8), f"no answer after keypad {name}"


def type_keys(app, text: str) -> None:
    for char in text:
        keypad(app, char)


def events_of(listener: Listener, quiet_s: float = 0.4) -> list[dict]:
    """Every event that arrived, until the bus is quiet."""
    import json
    import queue

    got = []
    while True:
        try:
            topic, payload, _ = listener.messages.get(timeout=quiet_s)
        except queue.Empty:
            return got
        got.append(json.loads(payload))


@pytest.fixture
def staffed(broker_url, tmp_path):
    config = parse_config(officers_toml(min_recalls_before_no_show=1), "officers.toml")
    service, stop = start_engine(config, broker_url, tmp_path / "data")
    yield service, broker_url
    stop()


@pytest.fixture
def panel(staffed):
    from display.toolkit import ui
    from kiosk.counter.app import CounterApp

    ui.init_pygame(headless=True)
    _, url = staffed
    app = CounterApp("1", url, SITE).start(wait=5)
    assert app.mirror.wait_complete(5)
    yield app
    app.stop()


def test_the_panel_mirrors_its_own_counter_and_the_queues_only(staffed, panel):
    _, url = staffed
    client = EngineClient(url, SITE, name="test-other-counter").start()
    try:
        client.issue("k1", "A")
        assert client.counter("2", "next")["ok"]
        assert wait_until(lambda: panel.mirror.retained.services["A"].last_called is not None)
        assert set(panel.mirror.retained.counters) == {"1"}, "another counter's change reached this panel"
        assert panel.mirror.complete(), "complete: its own counter and every queue it subscribes to"
    finally:
        client.stop()


def test_every_action_from_the_numeric_keypad_over_a_real_broker(staffed, panel):
    _, url = staffed
    client = EngineClient(url, SITE, name="test-kiosk").start()
    bus = Listener(url, f"{T.root}/events/#")
    try:
        for _ in range(4):
            client.issue("k1", "A")
        # signed out: the panel asks who you are; a wrong PIN is refused and says so
        assert panel.panel.screen == "sign_in"
        type_keys(panel, "1")
        keypad(panel, "enter")
        assert panel.panel.screen == "pin" and panel.panel.officer == "siti"
        type_keys(panel, "0000")
        keypad(panel, "enter")
        assert panel.panel.note.level == "error" and "PIN salah" in panel.panel.note.text_id
        type_keys(panel, PINS["siti"])
        keypad(panel, "enter")
        assert wait_until(lambda: (panel.update(), panel.panel.screen == "main")[1])
        assert panel.mirror.counters["1"]["officer"]["name"] == "Siti Rahayu"
        assert panel.mirror.counters["1"]["unstaffed"] is False

        keypad(panel, "enter")  # next
        assert "A001" in panel.panel.note.text_id
        keypad(panel, "-")  # no-show needs a recall first (min_recalls_before_no_show = 1)
        assert panel.panel.note.level == "error" and "minimal 1" in panel.panel.note.text_id
        keypad(panel, "+")  # recall
        keypad(panel, "-")  # no-show
        keypad(panel, ".")  # the list: A002 A003 A004 waiting, then A001 the no-show
        assert panel.panel.screen == "call_list"
        assert wait_until(lambda: [c.label for c in panel.facts().call_choices] == ["A002", "A003", "A004", "A001"])
        type_keys(panel, "3")
        keypad(panel, "enter")  # call A004 out of turn
        assert wait_until(lambda: (panel.mirror.counters["1"]["current"] or {}).get("number") == "A004")
        keypad(panel, "/")  # transfer A004 to B (first listed: the agency's own services)
        assert panel.panel.screen == "transfer"
        targets = [c.action.value for c in panel.facts().transfer_targets]
        assert targets[0] == "B" and "A" not in targets
        type_keys(panel, "1")
        keypad(panel, "enter")
        keypad(panel, ".")
        assert wait_until(lambda: [c.label for c in panel.facts().call_choices] == ["A002", "A003", "A004", "A001"]
                          and panel.facts().call_choices[2].action.value == "A004"
                          and panel.mirror.counters["1"]["current"] is None)
        choices = panel.facts().call_choices
        reactivate = next(i for i, c in enumerate(choices) if c.action.kind == "reactivate")
        type_keys(panel, str(reactivate + 1))
        keypad(panel, "enter")  # A001 back in the queue
        keypad(panel, "enter")  # next: A001 came back with its old arrival time, so it goes first
        assert wait_until(lambda: (panel.mirror.counters["1"]["current"] or {}).get("number") == "A001")
        keypad(panel, "*")  # finish
        keypad(panel, "7")  # break
        assert wait_until(lambda: panel.mirror.counters["1"]["status"] == "break")
        keypad(panel, "7")  # resume
        keypad(panel, "8")  # close
        assert wait_until(lambda: panel.mirror.counters["1"]["status"] == "closed")
        keypad(panel, "9")  # sign out
        assert wait_until(lambda: panel.mirror.counters["1"]["officer"] is None)
        assert wait_until(lambda: (panel.update(), panel.panel.screen == "sign_in")[1])

        trace = [(e["type"], e.get("number") or e.get("status") or e.get("officer"))
                 for e in events_of(bus) if e["type"] != "ticket_issued"]
        assert trace == [
            ("officer_sign_in_failed", "siti"), ("officer_signed_in", "siti"),
            ("counter_status", "open"), ("ticket_called", "A001"), ("ticket_recalled", "A001"),
            ("ticket_no_show", "A001"), ("ticket_called", "A004"), ("ticket_transferred", "A004"),
            ("ticket_reactivated", "A001"), ("ticket_called", "A001"), ("ticket_finished", "A001"),
            ("counter_status", "break"), ("counter_status", "open"), ("counter_status", "closed"),
            ("officer_signed_out", "siti"),
        ]
        transferred = client.counter("2", "call", number="A004")["ticket"]
        assert (transferred["number"], transferred["service"]) == ("A004", "B"), "a transfer keeps the number"
    finally:
        bus.stop()
        client.stop()


def test_a_double_press_on_the_panel_and_its_button_calls_once(staffed, panel):
    import pygame

    _, url = staffed
    client = EngineClient(url, SITE, name="test-kiosk").start()
    bus = Listener(url, T.event("ticket_called"))
    try:
        for _ in range(3):
            client.issue("k1", "A")
        type_keys(panel, "1")
        keypad(panel, "enter")
        type_keys(panel, PINS["siti"])
        keypad(panel, "enter")
        enter = pygame.event.Event(pygame.KEYDOWN, key=pygame.K_KP_ENTER, unicode="\r", mod=0)
        panel.event(enter)
        panel.event(enter)  # the same finger, a bouncing key
        bus.publish(T.counter_button("1"), "next")  # and the hardware button under the desk, at once
        assert panel.wait_idle(8)
        called = events_of(bus, 1.0)
        assert [e["number"] for e in called] == ["A001"], "one press, one call"
    finally:
        bus.stop()
        client.stop()


def test_twenty_counters_pressing_next_at_the_same_moment_get_twenty_different_tickets(broker_url, tmp_path):
    extra = "".join(f'\n[[counters]]\nid = "D{n}"\nagency = "dukcapil"\nservices = ["A"]\n' for n in range(1, 21))
    config = parse_config(SMALL_SITE + extra, "twenty.toml")
    _, stop = start_engine(config, broker_url, tmp_path / "data")
    client = EngineClient(broker_url, SITE, name="test-kiosk").start()
    buttons = [Connection(broker_url, f"test-button-{n}") for n in range(1, 21)]
    listener = Listener(broker_url, f"{T.root}/counter/+/reply")
    try:
        for _ in range(20):
            client.issue("k1", "A")
        for b in buttons:
            b.start(wait=5)
        barrier = threading.Barrier(20)

        def press(n: int) -> None:
            barrier.wait()
            buttons[n - 1].publish(T.counter_button(f"D{n}"), b"next")

        threads = [threading.Thread(target=press, args=(n,)) for n in range(1, 21)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        replies = {}
        deadline = time.monotonic() + 10
        while len(replies) < 20 and time.monotonic() < deadline:
            topic, payload, _ = listener.messages.get(timeout=10)
            import json

            replies[topic.split("/")[3]] = json.loads(payload)["ticket"]["number"]
        assert sorted(replies) == sorted(f"D{n}" for n in range(1, 21))
        assert sorted(replies.values()) == [f"A{n:03d}" for n in range(1, 21)], "twenty different tickets"
    finally:
        listener.stop()
        for b in buttons:
            b.stop()
        client.stop()
        stop()


def test_keypad_and_keyboard_keys_map_to_the_same_actions():
    import pygame

    from kiosk.counter.app import key_token
    from kiosk.counter.flow import MAIN_KEYS

    def token(key, char="", mod=0):
        return key_token(pygame.event.Event(pygame.KEYDOWN, key=key, unicode=char, mod=mod))

    assert token(pygame.K_KP_ENTER, "\r") == token(pygame.K_RETURN, "\r") == "enter"
    assert token(pygame.K_KP_PLUS, "+") == token(pygame.K_EQUALS, "=", pygame.KMOD_SHIFT) == "+"
    assert token(pygame.K_KP_MINUS) == token(pygame.K_MINUS, "-") == "-"
    assert token(pygame.K_KP_MULTIPLY) == "*" and token(pygame.K_KP_DIVIDE) == "/"
    assert token(pygame.K_KP_PERIOD, ",") == "." and token(pygame.K_KP_7) == "7" and token(pygame.K_a, "a") is None
    assert {a.kind for a in MAIN_KEYS.values()} == {"next", "recall", "no-show", "finish", "transfer-list",
                                                     "call-list", "break-toggle", "close-toggle", "sign-out"}


def test_hash_pin_prints_a_config_line_without_the_pin():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "broker.cli", "officer", "hash-pin", "--stdin"], input="482913\n",
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip()
    assert line.startswith('pin_hash = "pbkdf2_sha256$') and "482913" not in line
    assert verify_pin("482913", line.split('"')[1])
    bad = subprocess.run([sys.executable, "-m", "broker.cli", "officer", "hash-pin", "--stdin"], input="12\n",
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "4 to 12 digits" in bad.stderr


def test_screenshots_of_every_panel_state():
    out = OUTPUT / "counter-panel"
    done = antrian_cli("counter", "--screenshots", str(out), "--counter", "1")
    assert done.returncode == 0, done.stderr
    import pygame

    names = ["signed-out", "pin", "wrong-pin", "idle", "serving", "nobody-waiting", "break", "closed",
             "transfer-list", "call-list", "serving-english"]
    images = {}
    for i, name in enumerate(names, start=1):
        path = out / f"counter-{i:02d}-{name}.png"
        assert path.exists(), path
        image = pygame.image.load(str(path))
        assert image.get_size() == (1280, 800)
        images[name] = pygame.image.tobytes(image, "RGB")
    assert len(set(images.values())) == len(names), "every state looks different"


# ---------------------------------------------------------------- what the panel draws (pure, no broker)


def colour_count(surface, rect, colour, tolerance: int = 8) -> int:
    import pygame

    area = pygame.Rect(rect).clip(surface.get_rect())
    return pygame.mask.from_threshold(surface.subsurface(area), colour, (tolerance, tolerance, tolerance, 255)).count()


@pytest.mark.parametrize("state", ["idle", "nobody-waiting", "serving", "break"])
@pytest.mark.parametrize("size", [(1280, 800), (1024, 600)])
def test_every_service_a_counter_serves_stays_listed_with_or_without_the_nobody_waiting_banner(state, size):
    from broker.site.config import load_config
    from display.toolkit import ui
    from kiosk.counter.panel import panel_facts, panel_view, queue_layout, render_panel
    from kiosk.counter.screenshots import DEMO_CLOCK, DEMO_NOW, demo_states

    ui.init_pygame(headless=True)
    config = public_config(load_config(None))
    for counter in config.counters:
        counter_id = counter.id
        panel, counters, services = demo_states(config, counter_id)[state]
        facts = panel_facts(config, counters, services, counter_id)
        view = panel_view(panel, facts, config, counters, services, counter_id, now=DEMO_NOW, local_clock=DEMO_CLOCK,
                          size=size)
        banner, rows = queue_layout(view)
        assert [row.queue.code for row in rows] == list(counter.services), counter_id
        assert (banner is not None) == (state == "nobody-waiting")
        s = min(size[0] / 1280, size[1] / 800)
        surface = render_panel(view)
        top, bottom = round(484 * size[1] / 800), round(716 * size[1] / 800)  # under "Menunggu", above the note
        rects = [row.rect for row in rows] + ([banner] if banner else [])
        for i, rect in enumerate(rects):
            assert rect.top >= top and rect.bottom <= bottom and rect.height >= 38 * s, (counter_id, rect)
            assert all(not rect.colliderect(other) for other in rects[i + 1:]), (counter_id, rect)
        if banner:
            assert colour_count(surface, banner, ui.WARNING) > banner.width * banner.height // 2
        for row in rows:
            assert row.label.startswith(row.queue.code) and row.size >= 17 * s
            label_w = ui.font(row.size).size(row.label)[0]
            count_w = ui.font(row.size, True).size(row.count)[0]
            assert label_w + count_w <= row.rect.width - 20 * s, (counter_id, row.label, row.count)
            assert colour_count(surface, row.rect, ui.PANEL, tolerance=2) > row.rect.width * row.rect.height // 2
            text = ui.ACCENT if row.queue.waiting else ui.TEXT_MUTED
            assert colour_count(surface, row.rect, text, tolerance=30) > 0, "the count is drawn"


def test_counter_2_serving_a_and_b_lists_both_when_nobody_waits(small_config):
    from kiosk.counter.flow import Panel, Screen
    from kiosk.counter.panel import panel_facts, panel_view, queue_layout

    config = public_config(small_config)
    counters = {"2": decode(CounterState, {"id": "2", "status": "open", "officer": {"id": "siti", "name": "Siti"},
                                           "current": None})}
    services = {code: decode(ServiceState, {"code": code, "waiting": 0}) for code in ("A", "B")}
    facts = panel_facts(config, counters, services, "2")
    view = panel_view(Panel(screen=Screen.MAIN), facts, config, counters, services, "2", now=0.0)
    banner, rows = queue_layout(view)
    assert banner is not None and [row.label for row in rows] == ["B · Kartu Keluarga", "A · KTP Elektronik"]


def test_long_labels_on_list_buttons_wrap_instead_of_shrinking_to_nothing():
    from display.toolkit import ui
    from kiosk.counter.panel import fit_lines

    ui.init_pygame(headless=True)
    lines, size = fit_lines("KIA · Kartu Identitas Anak (KIA)", 220, 56, 28, 18)
    assert len(lines) == 2 and size >= 18 and all(ui.font(size, True).size(line)[0] <= 220 for line in lines)
    lines, size = fit_lines("JK · Layanan Peserta JKN BPJS Kesehatan dan Perubahan Data Kepesertaan", 220, 56, 28, 18)
    assert size == 18 and len(lines) == 2 and lines[-1].endswith("…")
    assert all(ui.font(size, True).size(line)[0] <= 220 for line in lines)
