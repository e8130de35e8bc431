"""No input ends the engine: every payload on every command topic becomes a command or a plain refusal.

The pure half (this file): `protocol.parse` and `Engine.handle`, fed payloads of every class the
attack used and then some (deep nesting, huge numbers, wrong types, binary, not UTF-8, lone
surrogates, non-ASCII ids and tokens), on every topic kind. tests/test_fuzz_serve.py sends the
same classes at full speed to a real EngineService over Mosquitto.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from broker.core.commands import Command, SurveyAnswer
from broker.core.engine import Engine
from broker.core.messages import CATALOG
from broker.core.survey import survey_token, token_matches
from broker.protocol.codec import MAX_PAYLOAD, BadMessage, Topics, parse
from broker.site.config import parse_config
from conftest import SMALL_SITE, examples
from unit.test_engine import TUESDAY, wib

T = Topics("testsite")
CONFIG = parse_config(SMALL_SITE, "small-site.toml")

TOPIC_KINDS = {
    "kiosk": T.kiosk_request("k1"),
    "counter": T.counter_command("1"),
    "button": T.counter_button("1"),
    "tablet": T.survey_request("1"),
    "web": T.survey_request("web"),
    "unknown kind": "antrian/testsite/counter/1/selfdestruct",
    "other site": "antrian/othersite/kiosk/k1/request",
    "non-ASCII device": T.kiosk_request("kiosk-é"),
}


def deep(n: int, inner: str = "") -> bytes:
    return ("[" * n + inner + "]" * n).encode()


# One example of each class of payload the attack used; the property test below draws many more.
PAYLOADS = {
    "1000 nested arrays": deep(1000),
    "1000 nested arrays in a field": b'{"request_id":"r1","service":' + deep(1000) + b"}",
    "1000 nested objects": b'{"a":' * 1000 + b"1" + b"}" * 1000,
    "nesting just past the limit": b'{"request_id":"r1","answers":' + deep(5, "4") + b"}",
    "brackets inside strings are text": b'{"request_id":"r1","service":"' + b"[" * 1000 + b'"}',
    "a 4000-digit number": b'{"request_id":"r1","service":"A","priority":' + b"9" * 4000 + b"}",
    "huge float": b'{"request_id":"r1","action":1e999}',
    "NaN": b'{"request_id":"r1","answers":[NaN,NaN,NaN,NaN,NaN,NaN,NaN,NaN,NaN],"ticket":"x"}',
    "wrong types": b'{"request_id":7,"service":{"a":1},"action":["next"],"number":false}',
    "binary": bytes(range(256)),
    "not UTF-8": b'{"request_id":"r1","service":"\xff\xfe"}',
    "lone surrogate": b'{"request_id":"r1","service":"\\ud800","ticket":"\\udc80","token":"\\ud800"}',
    "non-ASCII ids": '{"request_id":"ré-1","service":"Á","ticket":"20260303-Á001","number":"Á001"}'.encode(),
    "non-ASCII token": '{"request_id":"r1","ticket":"20260303-A001","token":"ééééééééé","answers":null}'.encode(),
    "oversized": b'{"request_id":"r1","pad":"' + b"x" * MAX_PAYLOAD + b'"}',
    "empty": b"",
    "null": b"null",
    "a list": b"[1,2,3]",
}


@pytest.mark.parametrize("topic", list(TOPIC_KINDS.values()), ids=list(TOPIC_KINDS))
@pytest.mark.parametrize("payload", list(PAYLOADS.values()), ids=list(PAYLOADS))
def test_every_payload_class_on_every_topic_is_a_command_or_a_plain_refusal(topic, payload):
    engine = Engine(CONFIG, survey_secret=b"s" * 32)
    try:
        command = parse(T, topic, payload)
    except BadMessage as bad:
        assert bad.message.code in CATALOG
        json.dumps(bad.reply(), ensure_ascii=False).encode("utf-8")  # the refusal itself can be sent
        return
    outcome = engine.handle(command, wib(TUESDAY, 9))
    assert not outcome.broken
    json.dumps(outcome.reply, ensure_ascii=False).encode("utf-8")
    if not outcome.reply["ok"]:
        assert outcome.reply["error"]["code"] in CATALOG


def test_a_non_ascii_survey_token_is_a_wrong_token_not_a_crash():
    secret = b"s" * 32
    assert not token_matches(secret, "20260303-A001", "é" * 24)
    assert not token_matches(secret, "20260303-A001", "\ud800")
    assert not token_matches(secret, "20260303-\udc80", "abc")
    assert token_matches(secret, "20260303-A001", " " + survey_token(secret, "20260303-A001").upper() + " ")
    engine = Engine(CONFIG, survey_secret=secret)
    reply = engine.handle(SurveyAnswer(ticket="20260303-A001", channel="web", token="é" * 24, request_id="w1",
                                       source="survey/web"), wib(TUESDAY, 9)).reply
    assert reply["error"]["code"] == "survey_bad_token"


# ---------------------------------------------------------------------------------------------- property

_SCALARS = (st.none() | st.booleans() | st.integers() | st.integers(-10**300, 10**300)
            | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12)
            | st.sampled_from(["A", "B", "P", "1", "4K-10", "next", "sign-in", "call", "transfer", "lansia",
                               "é", "\ud800", "20260303-A001", "A001"]))
_VALUES = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
    st.text(max_size=6), inner, max_size=3), max_leaves=12)
_KEYS = st.sampled_from(["request_id", "service", "priority", "action", "to", "number", "officer", "pin",
                         "nonce", "proof", "ticket", "answers", "comment", "token"])
_BODIES = st.dictionaries(_KEYS, _VALUES | st.text(max_size=70), max_size=8)


def _encode(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


_PAYLOADS = st.one_of(
    _BODIES.map(_encode),
    _VALUES.map(_encode),
    st.binary(max_size=200),
    st.integers(1, 3000).map(deep),
    st.tuples(_BODIES, st.integers(3, 1500)).map(lambda b: _encode(b[0])[:-1] + b',"x":' + deep(b[1]) + b"}"),
    st.sampled_from(list(PAYLOADS.values())),
)


@settings(max_examples=examples(700), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(list(TOPIC_KINDS.values())), _PAYLOADS, st.floats(0, 600)),
                min_size=1, max_size=20))
def test_parse_and_handle_never_raise_and_a_refusal_changes_nothing(messages):
    engine = Engine(CONFIG, survey_secret=b"s" * 32)
    now = wib(TUESDAY, 9)
    for topic, payload, delay in messages:
        now += delay
        try:
            command: Command = parse(T, topic, payload)
        except BadMessage as bad:
            assert bad.message.code in CATALOG
            continue
        seq = engine.seq
        outcome = engine.handle(command, now)
        assert not outcome.broken, outcome.reply
        json.dumps(outcome.reply, ensure_ascii=False).encode("utf-8")
        for event in outcome.events:
            json.dumps(event.as_dict(), ensure_ascii=False).encode("utf-8")
        assert engine.seq == seq + len(outcome.events)
