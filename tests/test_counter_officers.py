"""Officer sign-in and the counter rules officers asked for, in the sans-I/O engine (no sockets).

The small site of conftest.py plus three officers: siti and budi of dukcapil (counters "1"
and "2"), agus only at counter "5"; PIN hashes are real PBKDF2 hashes (few iterations, for speed).
"""

from __future__ import annotations

import re

import pytest

from broker.core.commands import Tick
from broker.core.engine import SIGN_IN_ATTEMPTS, SIGN_IN_LOCK_S
from broker.core.pin import hash_pin, verify_pin
from broker.site.config import ConfigError, parse_config
from conftest import SMALL_SITE
from test_engine import MONDAY, SATURDAY, TUESDAY, Site, refused, wib

PINS = {"siti": "1234", "budi": "987654", "agus": "5555"}


def officers_toml(**rules) -> str:
    text = SMALL_SITE
    for key, value in rules.items():
        text = text.replace("[rules]\n", f"[rules]\n{key} = {value}\n")
    return text + f"""
[[officers]]
id = "siti"
name = "Siti Rahayu"
agency = "dukcapil"
pin_hash = "{hash_pin(PINS['siti'], iterations=1000)}"

[[officers]]
id = "budi"
name = "Budi Santoso"
agency = "dukcapil"
pin_hash = "{hash_pin(PINS['budi'], iterations=1000)}"

[[officers]]
id = "agus"
name = "Agus Wibowo"
counters = ["5"]
pin_hash = "{hash_pin(PINS['agus'], iterations=1000)}"
"""


def staffed_site(now=None, **rules) -> Site:
    site = Site(parse_config(officers_toml(**rules), "officers.toml"), now or wib(TUESDAY, 9))
    log = site.run(Tick()).events  # the day starts: later commands show only their own events
    site.log = list(log)
    return site


def sign_in(site: Site, counter: str, officer: str, pin: str | None = None) -> dict:
    return site.counter(counter, "sign-in", officer=officer, pin=PINS.get(officer, "0000") if pin is None else pin)


def test_pin_hashes_are_salted_and_verified():
    one, two = hash_pin("1234"), hash_pin("1234")
    assert one != two and "1234" not in one and one.startswith("pbkdf2_sha256$")
    assert verify_pin("1234", one) and verify_pin("1234", two)
    assert not verify_pin("1235", one) and not verify_pin("", one) and not verify_pin("1234", "plain")
    with pytest.raises(ValueError):
        hash_pin("12a4")


def test_a_plain_pin_in_the_config_is_refused_and_hashes_stay_private():
    with pytest.raises(ConfigError) as caught:
        parse_config(SMALL_SITE + '\n[[officers]]\nid = "x"\nname = "X"\npin = "1234"\n', "bad.toml")
    text = str(caught.value)
    assert "officers[1] (x).pin" in text and "hash-pin" in text and "pin_hash: is missing" in text
    config = parse_config(officers_toml(), "ok.toml")
    public = str(config.public_dict())
    assert "Siti Rahayu" in public and "pbkdf2" not in public, "the published config never carries hashes"
    assert "pbkdf2" not in repr(config.officers["siti"])


def test_sign_in_with_the_right_pin_names_the_officer_in_the_counter_state():
    site = staffed_site()
    assert site.engine.counter_public("1", site.now)["unstaffed"] is True, "open hours, nobody there: empty"
    reply = sign_in(site, "1", "siti")
    assert reply["ok"] and site.event_types() == ["officer_signed_in"]
    event = site.last.events[0].as_dict()
    assert event["officer"] == "siti" and event["name"] == "Siti Rahayu" and event["counter"] == "1"
    assert PINS["siti"] not in str(reply) + str(event), "a PIN is never echoed or recorded"
    public = site.engine.counter_public("1", site.now)
    assert public["officer"] == {"id": "siti", "name": "Siti Rahayu", "since": site.now}
    assert public["unstaffed"] is False and public["in_hours"] is True


def test_wrong_pin_unknown_officer_and_wrong_counter_are_refused():
    site = staffed_site()
    refused(sign_in(site, "1", "siti", "9999"), "wrong_pin")
    assert site.event_types() == ["officer_sign_in_failed"] and site.last.events[0].data["officer"] == "siti"
    refused(sign_in(site, "1", "nobody"), "unknown_officer")
    error = refused(sign_in(site, "4K-10", "siti"), "officer_not_here")  # imigrasi's counter
    assert "Siti Rahayu" in error["message"]
    refused(sign_in(site, "1", "agus"), "officer_not_here")  # only counter 5
    assert site.engine.counter_public("1", site.now)["officer"] is None


def test_repeated_wrong_pins_lock_the_counter_for_a_while():
    site = staffed_site()
    for _ in range(SIGN_IN_ATTEMPTS):
        refused(sign_in(site, "1", "siti", "0000"), "wrong_pin")
    error = refused(sign_in(site, "1", "siti"), "sign_in_locked")  # even the right PIN waits now
    assert error["params"]["seconds"] == SIGN_IN_LOCK_S
    assert sign_in(site, "2", "budi")["ok"], "the lock is per counter"
    site.advance(SIGN_IN_LOCK_S)
    assert sign_in(site, "1", "siti")["ok"]


def test_moving_desks_and_taking_over_a_counter_sign_the_others_out():
    site = staffed_site()
    sign_in(site, "1", "siti")
    sign_in(site, "2", "siti")
    assert site.event_types() == ["officer_signed_out", "officer_signed_in"]
    assert site.last.events[0].data == {"counter": "1", "officer": "siti", "reason": "moved"}
    assert site.engine.counter_public("1", site.now)["officer"] is None
    sign_in(site, "2", "budi")
    assert site.last.events[0].data["reason"] == "replaced"
    assert site.engine.counter_public("2", site.now)["officer"]["id"] == "budi"


def test_sign_out_waits_for_the_visitor_and_closes_the_counter():
    site = staffed_site()
    sign_in(site, "1", "siti")
    site.number("A")
    site.called("1")
    refused(site.counter("1", "sign-out"), "counter_busy")
    site.counter("1", "finish")
    assert site.counter("1", "sign-out")["ok"]
    assert site.event_types() == ["officer_signed_out", "counter_status"]
    public = site.engine.counter_public("1", site.now)
    assert public["officer"] is None and public["status"] == "closed" and public["unstaffed"] is True


def test_an_empty_counter_outside_opening_hours_is_not_unstaffed():
    site = staffed_site(wib(SATURDAY, 10))
    assert site.engine.counter_public("1", site.now) | {} == site.engine.counter_public("1", site.now)
    public = site.engine.counter_public("1", site.now)
    assert public["in_hours"] is False and public["unstaffed"] is False
    monday = staffed_site(wib(MONDAY, 9))
    assert monday.engine.counter_public("4K-10", monday.now)["unstaffed"] is False, "imigrasi is closed on Monday"
    assert monday.engine.counter_public("1", monday.now)["unstaffed"] is True


def test_require_sign_in_refuses_counter_commands_of_an_empty_counter():
    site = staffed_site(require_sign_in="true")
    site.number("A")
    error = refused(site.counter("1", "next"), "not_signed_in")
    assert "PIN" in error["message"]
    sign_in(site, "1", "siti")
    assert site.called("1") == "A001"


def test_sign_in_state_replays_from_the_log_and_ends_with_the_day():
    from broker.core.engine import Engine

    site = staffed_site()
    sign_in(site, "1", "siti")
    site.log += site.last.events
    refused(sign_in(site, "2", "budi", "0000"), "wrong_pin")
    site.log += site.last.events  # the failed attempt is a recorded fact too
    replayed = Engine(site.engine.config)
    replayed.restore(site.log)
    assert replayed.counter_public("1", site.now) == site.engine.counter_public("1", site.now)
    assert replayed.counters["2"].failed_sign_ins == site.engine.counters["2"].failed_sign_ins == [site.now]
    site.advance(86400)
    site.number("A")  # the next day starts with every counter signed out
    assert site.engine.counter_public("1", site.now)["officer"] is None


def test_recalls_keep_the_configured_distance():
    site = staffed_site(recall_interval_s=10)
    site.number("A")
    site.called("1")
    error = refused(site.counter("1", "recall"), "recall_too_soon")
    assert error["params"]["seconds"] == 10 and "A001" in error["message"]
    site.advance(6)
    assert refused(site.counter("1", "recall"), "recall_too_soon")["params"]["seconds"] == 4
    site.advance(4)
    reply = site.counter("1", "recall")
    assert reply["ok"] and reply["ticket"]["recalls"] == 1 and reply["ticket"]["last_call_at"] == site.now
    site.advance(9.5)
    refused(site.counter("1", "recall"), "recall_too_soon")  # counted from the last recall, not the call
    site.advance(0.5)
    assert site.counter("1", "recall")["ok"]


def test_recall_delay_and_minimum_recalls_together_before_a_no_show():
    site = staffed_site(recall_interval_s=10, min_recalls_before_no_show=2)
    site.number("A")
    site.called("1")
    refused(site.counter("1", "no-show"), "recalls_required")
    for _ in range(2):
        site.advance(10)
        assert site.counter("1", "recall")["ok"]
    assert site.counter("1", "no-show")["ticket"]["state"] == "no_show"
    assert site.engine.service_public("A", site.now)["no_shows"] == ["A001"]
    assert site.counter("1", "reactivate", number="A001")["ok"], "reactivated the same day"
    service = site.engine.service_public("A", site.now)
    assert service["no_shows"] == [] and service["waiting_numbers"] == ["A001"]


def test_the_panel_lists_waiting_numbers_in_calling_order():
    site = staffed_site()
    for priority in (None, None, "lansia"):
        site.number("A", priority)
    assert site.engine.service_public("A", site.now)["waiting_numbers"] == ["A003", "A001", "A002"]
    assert re.fullmatch(r"A\d{3}", site.called("1"))
