"""Officer sign-in and the counter rules officers asked for, in the sans-I/O engine (no sockets).

The small site of conftest.py plus three officers: siti and budi of dukcapil (counters "1"
and "2"), agus only at counter "5"; PIN hashes are real PBKDF2 hashes (few iterations, for speed).
Signing in goes as a counter panel does it (broker.protocol.sign_in): a challenge, then a proof;
the PIN never reaches the engine.
"""

from __future__ import annotations

import re

import pytest

from broker.core.apply import OFFICER_ATTEMPTS, OFFICER_LOCK_S
from broker.core.commands import CounterCommand, CounterRequest, Tick
from broker.core.engine import SIGN_IN_ATTEMPTS, SIGN_IN_LOCK_S, Engine
from broker.core.events import EventType as E
from broker.core.pin import hash_pin, verify_pin
from broker.protocol.codec import BadMessage, Topics, encode, parse
from broker.protocol.sign_in import BadChallenge, sign_in_body
from broker.site.config import SAMPLE_CONFIG, ConfigError, load_config, parse_config
from conftest import SMALL_SITE
from unit.test_engine import MONDAY, SATURDAY, TUESDAY, Site, refused, wib

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


def signed_body(site: Site, counter: str, officer: str, pin: str | None = None) -> dict:
    """What the panel does when the officer presses Enter: ask for a challenge, answer it from the PIN."""
    challenge = site.counter(counter, "sign-in-challenge", officer=officer)
    if not challenge["ok"]:
        return challenge
    assert challenge["challenge"]["officer"] == officer and not site.last.events and not site.last.remember_as
    return sign_in_body(PINS.get(officer, "0000") if pin is None else pin, challenge["challenge"],
                        site.engine.config.site.id, counter)


def send(site: Site, counter: str, body: dict) -> dict:
    return site.counter(counter, "sign-in", officer=body["officer"], nonce=body["nonce"], proof=body["proof"])


def sign_in(site: Site, counter: str, officer: str, pin: str | None = None) -> dict:
    body = signed_body(site, counter, officer, pin)
    return send(site, counter, body) if "proof" in body else body


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


# ---------------------------------------------------------------------------------------------- PINs never travel


def test_the_pin_never_travels_and_a_sniffed_sign_in_works_only_once():
    site = staffed_site()
    body = signed_body(site, "1", "siti")
    sent = encode({"request_id": "c1-9"} | body).decode()
    assert PINS["siti"] not in sent and set(body) == {"action", "officer", "nonce", "proof"}
    assert send(site, "1", body)["ok"]
    sign_in(site, "1", "budi")  # budi takes over; siti's captured answer is played back at once
    replayed = refused(send(site, "1", body), "sign_in_expired")
    assert "PIN" in replayed["message"] and site.last.events == []
    assert site.engine.counter_public("1", site.now)["officer"]["id"] == "budi"
    elsewhere = site.counter("2", "sign-in", officer="siti", nonce=body["nonce"], proof=body["proof"])
    refused(elsewhere, "sign_in_expired")  # each counter has its own challenge
    fresh = signed_body(site, "2", "siti")
    forged = site.counter("2", "sign-in", officer="siti", nonce=fresh["nonce"], proof=body["proof"])
    refused(forged, "wrong_pin")  # a proof is bound to its challenge


def test_the_engine_refuses_a_plain_pin_and_never_runs_pbkdf2(monkeypatch):
    topics = Topics("testsite")
    with pytest.raises(BadMessage) as caught:
        parse(topics, topics.counter_command("1"), b'{"request_id":"r1","action":"sign-in","officer":"siti",'
                                                    b'"pin":"1234"}')
    assert caught.value.message.code == "bad_payload" and "challenge" in caught.value.message.text("en")
    site = staffed_site()
    body = signed_body(site, "1", "siti")  # the panel derives the PIN's key (PBKDF2) on its own side

    def no_pbkdf2(*args, **kwargs):
        raise AssertionError("PBKDF2 ran inside the engine, on its single writer thread")

    monkeypatch.setattr("hashlib.pbkdf2_hmac", no_pbkdf2)
    assert send(site, "1", body)["ok"], "the engine checks the proof with one HMAC"
    refused(send(site, "2", dict(body, officer="budi")), "sign_in_expired")


def test_who_may_staff_the_counter_is_checked_before_any_pin():
    site = staffed_site()
    right = signed_body(site, "1", "siti")
    for proof in (right["proof"], "wrong"):  # siti's right (or a wrong) answer, from imigrasi's counter
        reply = site.counter("4K-10", "sign-in", officer="siti", nonce=right["nonce"], proof=proof)
        assert refused(reply, "officer_not_here")["params"]["counter"] == "4K-10"
        assert site.last.events == [], "the PIN was not even considered: nothing to count or lock"
    refused(site.counter("4K-10", "sign-in-challenge", officer="siti"), "officer_not_here")
    assert site.engine.hall.officer_failures == {}


def test_wrong_pins_lock_the_officer_at_every_counter():
    site = staffed_site()
    counters = ["1", "2"]
    for i in range(OFFICER_ATTEMPTS):  # an attacker spreading guesses over counters, never 5 at one
        refused(sign_in(site, counters[i % 2], "siti", f"{1000 + i}"), "wrong_pin")
        assert [(e.type, e.data["officer"]) for e in site.last.events] == [(E.OFFICER_SIGN_IN_FAILED, "siti")]
        site.advance(SIGN_IN_LOCK_S / 4)
    error = refused(sign_in(site, "2", "siti"), "officer_locked")  # even the right PIN, at any counter
    assert "Siti Rahayu" in error["message"] and error["params"]["minutes"] >= 1
    assert sign_in(site, "1", "budi")["ok"], "other officers are not locked"
    site.advance(OFFICER_LOCK_S)
    assert sign_in(site, "2", "siti")["ok"]


def test_the_officer_lock_outlasts_a_restart():
    site = staffed_site()
    log = list(site.log)
    for i in range(OFFICER_ATTEMPTS):
        sign_in(site, "12"[i % 2], "siti", "0000")
        log += site.last.events
        site.advance(SIGN_IN_LOCK_S / 4)
    restarted = Engine(site.engine.config)
    restarted.restore(log, now=site.now, mono=site.now + 5000.0)  # another boot: another monotonic clock
    site.engine, site.mono_offset = restarted, 5000.0
    refused(sign_in(site, "1", "siti"), "officer_locked")


def test_the_sample_configs_hashes_still_sign_in():
    config = load_config(SAMPLE_CONFIG)
    officer = next(iter(config.officers.values()))  # the sample's demo PIN is 1234 (its comment says so)
    counter = next(c for c in config.counters.values() if officer.may_staff(c))
    engine = Engine(config, ignore_hours=True)
    now = wib(TUESDAY, 9)
    challenge = engine.handle(CounterRequest(counter=counter.id, action=CounterCommand.SIGN_IN_CHALLENGE,
                                             officer=officer.id, request_id="c", source="counter/x"), now).reply
    assert challenge["challenge"]["iterations"] == 200_000 and verify_pin("1234", officer.pin_hash)
    body = sign_in_body("1234", challenge["challenge"], config.site.id, counter.id)
    reply = engine.handle(CounterRequest(counter=counter.id, action=CounterCommand.SIGN_IN, officer=body["officer"],
                                         nonce=body["nonce"], proof=body["proof"], request_id="s",
                                         source="counter/x"), now).reply
    assert reply["ok"] and reply["counter"]["officer"]["id"] == officer.id


def test_a_device_refuses_a_challenge_it_should_not_answer():
    good = {"officer": "siti", "nonce": "n", "scheme": "pbkdf2_sha256", "salt": "s", "iterations": 1000}
    assert sign_in_body("1234", good, "testsite", "1")["proof"]
    for bad in (None, good | {"scheme": "md5"}, good | {"iterations": 10**9}, good | {"salt": ""},
                good | {"iterations": "1000"}):
        with pytest.raises(BadChallenge):
            sign_in_body("1234", bad, "testsite", "1")
