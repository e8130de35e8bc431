"""Clock steps: intervals on the monotonic clock, queues by seq, a jump of a day or more held.

A hall PC or a Raspberry Pi may have no real-time clock and no NTP: the wall clock steps
back, glitches to another date and back, or jumps forward days when NTP is found late.
`Site.step_wall` moves the wall clock alone; `advance` moves both (time passing).
"""

from __future__ import annotations

import pytest

from broker.core.events import EventType as E
from unit.test_clock import Clocks  # the pure half's helpers
from unit.test_engine import TUESDAY, wib

HOUR, DAY = 3600.0, 86400.0


def test_the_engine_process_measures_on_the_monotonic_clock_and_holds_a_jumped_day(small_config, tmp_path):
    from broker.mqtt.client import EngineClient, StateMirror
    from conftest import MosquittoBroker, _mosquitto_binary, start_engine
    from integration.test_mqtt_contract import wait_until

    if _mosquitto_binary() is None:
        pytest.skip("mosquitto is not installed")
    broker = MosquittoBroker(tmp_path).start()
    clocks = Clocks(wib(TUESDAY, 10))
    service, stop = start_engine(small_config, broker.url, tmp_path / "data", clock=lambda: clocks.wall,
                                 mono=lambda: clocks.mono)
    client = EngineClient(broker.url, "testsite", name="clock-client").start()
    mirror = StateMirror(broker.url, "testsite", name="clock-mirror").start(wait=5)
    try:
        for _ in range(2):
            client.issue("k1", "A")
        assert client.counter("1")["ticket"]["number"] == "A001"
        clocks.wall -= HOUR  # the wall clock steps back an hour between two presses, 2 s apart
        clocks.advance(2)
        reply = client.counter("1")
        assert not reply.get("debounced") and reply["ticket"]["number"] == "A002"
        clocks.wall += 40 * DAY  # a glitch to another date
        issued = client.issue("k1", "A")
        assert issued["ticket"]["id"].startswith("20260303-") and issued["ticket"]["number"] == "A003"

        def engine_state():
            with mirror.lock:
                return dict(mirror.engine)

        assert wait_until(lambda: (engine_state().get("clock") or {}).get("status") == "jumped", 10)
        assert engine_state()["day"] == "2026-03-03"
        clocks.wall -= 40 * DAY
        assert client.issue("k1", "A")["ticket"]["number"] == "A004"
        assert wait_until(lambda: engine_state().get("clock") is None, 10)
        kinds = [e.type for e in service.store.iter_events()]
        assert E.CLOCK_JUMPED in kinds and E.CLOCK_SETTLED in kinds and E.DAY_STARTED in kinds
        assert kinds.count(E.DAY_STARTED) == 1, "the glitch started no day"
    finally:
        mirror.stop()
        client.stop()
        stop()
        broker.stop()

