"""The counter panel signs in over a real Mosquitto, and nothing on the broker carries the PIN.

A listener subscribed to everything (`antrian/#`, as an identity with too many read rights or a
network sniffer would see it) records every message while the panel's officer types a wrong
PIN and then the right one on a USB keypad.
"""

from __future__ import annotations

import pytest

from broker.site.config import parse_config
from conftest import MosquittoBroker, _mosquitto_binary, start_engine
from integration.test_counter_panel import keypad, type_keys
from integration.test_mqtt_contract import Listener, wait_until
from unit.test_counter_officers import officers_toml

PIN = "482913"  # six digits: a base64 proof holding them by chance is a one-in-millions event


def test_a_panel_sign_in_puts_no_pin_on_the_broker(tmp_path):
    from broker.core.pin import hash_pin
    from display.toolkit import ui
    from kiosk.counter.app import CounterApp

    if _mosquitto_binary() is None:
        pytest.skip("mosquitto is not installed")
    text = officers_toml().split("[[officers]]")[0] + f'''[[officers]]
id = "siti"
name = "Siti Rahayu"
agency = "dukcapil"
pin_hash = "{hash_pin(PIN, iterations=20_000)}"
'''
    broker = MosquittoBroker(tmp_path).start()
    service, stop = start_engine(parse_config(text, "wire.toml"), broker.url, tmp_path / "data")
    sniffer = Listener(broker.url, "antrian/#")
    ui.init_pygame(headless=True)
    app = CounterApp("1", broker.url, "testsite").start(wait=5)
    try:
        assert app.mirror.wait_complete(5)
        type_keys(app, "1")
        keypad(app, "enter")  # siti, the only officer
        type_keys(app, "000000")
        keypad(app, "enter")
        assert app.panel.note.level == "error" and "PIN salah" in app.panel.note.text_id
        type_keys(app, PIN)
        keypad(app, "enter")
        assert wait_until(lambda: (app.update(), app.panel.screen == "main")[1])
        assert service.engine.counter_public("1")["officer"]["id"] == "siti"
    finally:
        app.stop()
        sniffer.stop()
        stop()
        broker.stop()
    seen = []
    while not sniffer.messages.empty():
        seen.append(sniffer.messages.get_nowait()[1])
    commands = [p for p in seen if b"sign-in" in p]
    assert len(commands) >= 4, "two challenges and two answers crossed the broker"
    assert not [p for p in seen if PIN.encode() in p or b"000000" in p or b'"pin"' in p]
