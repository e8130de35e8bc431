"""docs/protocol.md and broker/protocol/codec.py describe the same contract."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from broker.core.events import EventType
from broker.core.messages import CATALOG
from broker.protocol.codec import Topics

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
