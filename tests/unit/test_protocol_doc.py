"""docs/protocol.md, broker/protocol/codec.py and the payload types (broker/core/payloads.py) describe the same contract."""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing
from pathlib import Path

import pytest

from broker.core.events import EventType
from broker.core.messages import CATALOG
from broker.protocol.codec import Topics
from broker.protocol.state import (
    EVENTS,
    BookingState,
    CallsState,
    ConfigState,
    CountersState,
    CounterState,
    EngineState,
    EventHead,
    NoticeState,
    ServiceState,
)

DOC = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text(encoding="utf-8")
PLACEHOLDER = {"event_type": "type"}  # parameter name -> the name the document uses


def every_topic() -> list[str]:
    topics = Topics("<site>")
    found = []
    for name, member in inspect.getmembers(Topics):
        if name.startswith("_") or name in ("engine_subscriptions", "state_all"):
            continue
        if callable(member) and inspect.signature(member).return_annotation != "str":
            continue  # a reader such as state_of, not a topic
        if isinstance(member, property):
            found.append(getattr(topics, name))
        elif callable(member):
            params = list(inspect.signature(member).parameters)[1:]
            found.append(getattr(topics, name)(*(f"<{PLACEHOLDER.get(p, p)}>" for p in params)))
    return found


def test_every_topic_is_documented():
    topics = every_topic()
    assert len(topics) >= 12
    missing = [t for t in topics if f"`{t}`" not in DOC]
    assert not missing, f"docs/protocol.md does not list {missing}"


def test_every_event_type_is_documented():
    missing = [str(t) for t in EventType if f"| `{t}` |" not in DOC]
    assert not missing


def test_every_error_code_is_documented():
    missing = [code for code in CATALOG if f"`{code}`" not in DOC]
    assert not missing


def test_documented_topics_exist_in_the_code():
    code_topics = set(every_topic())
    documented = {t for t in re.findall(r"`(antrian/<site>/[^`\s]+)`", DOC) if not t.endswith("...")}
    assert documented <= code_topics, f"documented but not built by broker/protocol/codec.py: {documented - code_topics}"


# ---------------------------------------------------------------------- the payload types, field by field

# what the state/ topics carry
ROOTS = (EngineState, ConfigState, ServiceState, CounterState, CountersState, CallsState, NoticeState, BookingState)


def payload_types() -> list[type]:
    """Every dataclass a retained state payload holds, the roots first, each once."""
    found: list[type] = []
    todo = list(ROOTS)
    while todo:
        cls = todo.pop(0)
        if cls in found:
            continue
        found.append(cls)
        for hint in typing.get_type_hints(cls).values():
            todo += [t for t in _inner(hint) if dataclasses.is_dataclass(t)]
    return found


def _inner(hint) -> list:
    args = typing.get_args(hint)
    return [hint] if not args else [t for a in args for t in _inner(a)]


def documented_fields(name: str) -> list[tuple[str, bool]]:
    """(field, required) of each row of the table under `#### `name``."""
    section = re.search(rf"^#### `{name}`\n(.*?)(?=^#|\Z)", DOC, re.M | re.S)
    assert section, f"docs/protocol.md has no section #### `{name}`"
    rows = re.findall(r"^\| `(\w+)` \| (.*) \|$", section.group(1), re.M)
    return [(field, meaning.startswith("*required*")) for field, meaning in rows]


def declared_fields(cls: type) -> list[tuple[str, bool]]:
    return [(f.name, f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING)
            for f in dataclasses.fields(cls)]


@pytest.mark.parametrize("cls", payload_types(), ids=lambda cls: cls.__name__)
def test_each_state_payload_is_documented_field_by_field(cls):
    """A field added to a type without its row (or a row without its field), in another order, or a default
    added or taken away without saying *required*, fails here."""
    assert documented_fields(cls.__name__) == declared_fields(cls)


def test_every_documented_payload_is_a_type():
    documented = set(re.findall(r"^#### `(\w+)`$", DOC, re.M))
    assert documented == {cls.__name__ for cls in payload_types()}


def test_each_state_topic_names_its_payload_type():
    topics = Topics("<site>")
    for topic, cls in ((topics.engine, EngineState), (topics.config, ConfigState),
                       (topics.service_state("<code>"), ServiceState), (topics.counter_state("<counter>"), CounterState),
                       (topics.counters, CountersState), (topics.calls, CallsState), (topics.notice, NoticeState),
                       (topics.booking_state("<code>"), BookingState)):
        assert re.search(rf"^\| `{re.escape(topic)}` \| `{cls.__name__}`", DOC, re.M), topic


def test_each_event_is_documented_with_the_fields_of_its_type():
    assert set(EVENTS) == {str(t) for t in EventType}
    head = [f.name for f in dataclasses.fields(EventHead)]
    for event_type, cls in EVENTS.items():
        row = re.search(rf"^\| `{event_type}` \| (.*) \|$", DOC, re.M)
        assert row, event_type
        named = re.findall(r"`(\w+)`", re.sub(r"\([^)]*\)", "", row.group(1)))  # not what the parentheses explain
        assert named == [f.name for f in dataclasses.fields(cls)][len(head):], event_type
