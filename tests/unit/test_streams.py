"""The stream slots and the Hub shared by the control room's dashboard and the ticket page (broker.web.streams)."""

from __future__ import annotations

import threading

import pytest

from broker.web.streams import Hub, Slots, event


def test_slots_are_bounded_in_all_and_per_client_and_come_back():
    slots = Slots(3, per_client=2)
    assert slots.acquire("10.0.0.1") and slots.acquire("10.0.0.1")
    assert not slots.acquire("10.0.0.1"), "its share is taken"
    assert slots.acquire("10.0.0.2")
    assert not slots.acquire("10.0.0.3"), "every slot is taken"
    assert slots.taken == 3
    slots.release("10.0.0.1")
    assert slots.acquire("10.0.0.3") and slots.taken == 3
    for client in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        slots.release(client)
    slots.release("10.0.0.9")  # one it never held changes nothing
    assert slots.taken == 0 and slots.held == {}


def test_slots_without_a_share_per_client_and_refused_sizes():
    slots = Slots(2)
    assert slots.acquire() and slots.acquire() and not slots.acquire()
    with pytest.raises(ValueError, match="--streams"):
        Slots(0)
    with pytest.raises(ValueError, match="--streams-per-client"):
        Slots(4, per_client=0)


def test_the_hub_wakes_a_waiter_from_another_thread_and_closes():
    hub = Hub()
    seen = hub.version
    threading.Timer(0.05, hub.changed).start()
    assert hub.wait(seen, 10) == seen + 1
    hub.close()
    assert hub.wait(hub.version, 10) == hub.version and hub.closed


def test_an_event_is_compact_json_with_its_retry():
    assert event("full", {"retry_s": 60}, 3000) == 'retry: 3000\nevent: full\ndata: {"retry_s":60}\n\n'
    assert event("live", {"html": "Loket\u00a03"}) == 'event: live\ndata: {"html":"Loket\u00a03"}\n\n'
